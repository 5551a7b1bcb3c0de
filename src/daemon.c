/* daemon.c -- a configuration brought to life: sources started, blocks grouped per socket, sockets opened. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "dname.h"
#include "explain.h"
#include "kubeconfig.h"
#include "kubernetes.h"
#include "log.h"
#include "responder.h"
#include "server.h"
#include "xmalloc.h"

/* One socket address and the server blocks listening on it. */
struct daemon_listener {
	char		*addr;		/* NULL: every address */
	uint16_t	 port;
	struct server	*server;
};

struct daemon {
	struct event_base	*base;
	struct config		*config;
	struct metrics		*metrics;
	struct admin		*admin;
	struct kubernetes	**kube;		/* per server block, or NULL */
	struct daemon_listener	*listeners;
	size_t			 nlisteners;
	struct responder	*responder;
};

struct daemon *
daemon_new(struct event_base *base, struct config *config,
    struct metrics *metrics)
{
	struct daemon	*d = xcalloc(1, sizeof(*d));

	d->base = base;
	d->config = config;
	d->metrics = metrics;
	d->kube = xcalloc(config->nservers, sizeof(*d->kube));
	for (size_t i = 0; i < config->nservers; i++) {
		const struct config_server *cs = &config->servers[i];

		if (cs->kubernetes == NULL)
			continue;
		d->kube[i] = kubernetes_new(base, cs->kubernetes);
		if (metrics != NULL)
			kubernetes_set_metrics(d->kube[i], metrics);
		/* kubernetes_start logged why, naming the directive. */
		if (kubernetes_start(d->kube[i]) == -1) {
			daemon_free(d);
			return NULL;
		}
	}
	return d;
}

int
daemon_check(const struct config *config, char *err, size_t errlen)
{
	const struct config_kubernetes	*k;
	struct kube_auth		*auth;
	DIR				*dir;
	char				 why[512];

	for (size_t i = 0; i < config->nservers; i++) {
		if ((k = config->servers[i].kubernetes) == NULL)
			continue;
		if (k->manifests != NULL) {
			if ((dir = opendir(k->manifests)) == NULL) {
				snprintf(err, errlen, "%s:%d: kubernetes: "
				    "manifests %s: %s", k->file, k->line,
				    k->manifests, strerror(errno));
				return -1;
			}
			closedir(dir);
		} else if (k->kubeconfig != NULL || k->endpoint != NULL) {
			auth = kubeconfig_from_config(k, why, sizeof(why));
			if (auth == NULL) {
				snprintf(err, errlen, "%s:%d: kubernetes: %s",
				    k->file, k->line, why);
				return -1;
			}
			kube_auth_free(auth);
		}
	}
	return 0;
}

/* True when fn holds for every kubernetes block. */
static bool
daemon_all(const struct daemon *d, bool (*fn)(const struct kubernetes *))
{
	for (size_t i = 0; i < d->config->nservers; i++)
		if (d->kube[i] != NULL && !fn(d->kube[i]))
			return false;
	return true;
}

bool
daemon_ready(const struct daemon *d)
{
	return daemon_all(d, kubernetes_ready);
}

bool
daemon_settled(const struct daemon *d)
{
	return daemon_all(d, kubernetes_settled);
}

bool
daemon_stable(const struct daemon *d)
{
	return daemon_all(d, kubernetes_stable);
}

/* The block that serves name, else the first; only_explain: those with explain. */
static struct explain *
daemon_explain_in(struct daemon *d, const char *name, const char *type,
    bool only_explain, char *err, size_t errlen)
{
	struct kubernetes	*k = NULL;
	uint8_t			 wire[DNAME_MAX];
	bool			 named = dname_from_str(name, wire) != -1;
	uint16_t		 qtype;

	if (explain_type(type, name, &qtype) == -1) {
		snprintf(err, errlen, "explain: unknown type '%s'", type);
		return NULL;
	}
	for (size_t i = 0; i < d->config->nservers; i++) {
		if (d->kube[i] == NULL || (only_explain &&
		    !d->config->servers[i].kubernetes->explain))
			continue;
		if (k == NULL)
			k = d->kube[i];
		if (named && kubernetes_serves(d->kube[i], wire)) {
			k = d->kube[i];
			break;
		}
	}
	if (k == NULL) {
		snprintf(err, errlen, "explain: no kubernetes block%s",
		    only_explain ? " has the explain option" : "");
		return NULL;
	}
	return kubernetes_explain(k, name, qtype);
}

struct explain *
daemon_explain(struct daemon *d, const char *name, const char *type,
    char *err, size_t errlen)
{
	return daemon_explain_in(d, name, type, false, err, errlen);
}

static struct explain *
daemon_explain_cb(void *arg, const char *name, const char *type, char *err,
    size_t errlen)
{
	return daemon_explain_in(arg, name, type, true, err, errlen);
}

static struct server *
daemon_listener(struct daemon *d, const char *addr, uint16_t port)
{
	struct daemon_listener	*l;

	for (size_t i = 0; i < d->nlisteners; i++) {
		l = &d->listeners[i];
		if (l->port == port && ((addr == NULL && l->addr == NULL) ||
		    (addr != NULL && l->addr != NULL &&
		    strcmp(addr, l->addr) == 0)))
			return l->server;
	}
	d->listeners = xreallocarray(d->listeners, d->nlisteners + 1,
	    sizeof(*d->listeners));
	l = &d->listeners[d->nlisteners++];
	l->addr = addr ? xstrdup(addr) : NULL;
	l->port = port;
	l->server = server_new(d->base, d->metrics, addr, port);
	return l->server;
}

static int	daemon_listen_admin(struct daemon *);

int
daemon_listen(struct daemon *d)
{
	char	err[256];

	for (size_t i = 0; i < d->config->nservers; i++) {
		const struct config_server *cs = &d->config->servers[i];

		if (cs->nbinds == 0)
			server_add_block(daemon_listener(d, NULL, cs->port),
			    cs, d->kube[i]);
		for (size_t b = 0; b < cs->nbinds; b++)
			server_add_block(daemon_listener(d, cs->binds[b],
			    cs->port), cs, d->kube[i]);
	}
	d->responder = responder_new(d->base, NULL);
	for (size_t i = 0; i < d->nlisteners; i++) {
		struct daemon_listener *l = &d->listeners[i];

		if (responder_listen(d->responder, l->addr, l->port,
		    server_query, l->server, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			return -1;
		}
		log_info("listening on %s:%u (UDP and TCP)",
		    l->addr ? l->addr : "*", l->port);
	}
	for (size_t i = 0; i < d->nlisteners; i++)
		server_probe_loops(d->listeners[i].server,
		    d->listeners[i].addr, d->listeners[i].port);
	return daemon_listen_admin(d);
}

static bool
daemon_kubernetes_ready_cb(void *arg)
{
	return kubernetes_ready(arg);
}

/* health, ready and prometheus of every block (one listener per address). */
static int
daemon_listen_admin(struct daemon *d)
{
	char	err[256];
	int	rv = 0;

	d->admin = admin_new(d->base, d->metrics);
	for (size_t i = 0; i < d->config->nservers && rv == 0; i++) {
		const struct config_server *cs = &d->config->servers[i];

		if (cs->health != NULL)
			rv = admin_listen_health(d->admin, cs->health,
			    cs->lameduck_ms, err, sizeof(err));
		if (rv == 0 && cs->ready != NULL) {
			rv = admin_listen_ready(d->admin, cs->ready,
			    cs->ready_continuously, err, sizeof(err));
			if (rv == 0 && d->kube[i] != NULL)
				admin_add_ready(d->admin, "kubernetes",
				    daemon_kubernetes_ready_cb, d->kube[i]);
		}
		if (rv == 0 && cs->prometheus != NULL)
			rv = admin_listen_prometheus(d->admin, cs->prometheus,
			    err, sizeof(err));
		/* The health port is the one a pod's kubelet reaches already. */
		if (rv == 0 && cs->health != NULL && cs->kubernetes != NULL &&
		    cs->kubernetes->explain)
			admin_add_explain(d->admin, cs->health,
			    daemon_explain_cb, d);
	}
	if (rv == -1)
		log_warnx("%s", err);
	return rv;
}

void
daemon_lameduck(struct daemon *d, void (*done)(void *), void *arg)
{
	if (d->admin == NULL || admin_lameduck_ms(d->admin) <= 0) {
		done(arg);
		return;
	}
	log_info("plugin/health: Going into lameduck mode for %.1fs",
	    admin_lameduck_ms(d->admin) / 1000.0);
	admin_lameduck(d->admin, done, arg);
}

void
daemon_dump(struct daemon *d, FILE *out)
{
	for (size_t i = 0; i < d->config->nservers; i++)
		if (d->kube[i] != NULL)
			kubernetes_dump(d->kube[i], out);
}

const struct config *
daemon_config(const struct daemon *d)
{
	return d->config;
}

void
daemon_retire(struct daemon *d, struct daemon *next)
{
	admin_free(d->admin);
	d->admin = NULL;
	responder_retire(d->responder, next->responder);
}

bool
daemon_idle(const struct daemon *d)
{
	for (size_t i = 0; i < d->nlisteners; i++)
		if (server_pending(d->listeners[i].server) > 0)
			return false;
	return true;
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	responder_free(d->responder);
	admin_free(d->admin);
	for (size_t i = 0; i < d->nlisteners; i++) {
		server_free(d->listeners[i].server);
		free(d->listeners[i].addr);
	}
	free(d->listeners);
	for (size_t i = 0; d->kube != NULL && i < d->config->nservers; i++)
		kubernetes_free(d->kube[i]);
	free(d->kube);
	config_free(d->config);
	free(d);
}
