/* daemon.c -- a configuration brought to life: sources started, blocks grouped per socket, sockets opened. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
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
		if (kubernetes_start(d->kube[i]) == -1) {
			log_warnx("%s:%d: kubernetes: cannot start",
			    cs->kubernetes->file, cs->kubernetes->line);
			daemon_free(d);
			return NULL;
		}
	}
	return d;
}

bool
daemon_ready(const struct daemon *d)
{
	for (size_t i = 0; i < d->config->nservers; i++)
		if (d->kube[i] != NULL && !kubernetes_ready(d->kube[i]))
			return false;
	return true;
}

bool
daemon_settled(const struct daemon *d)
{
	for (size_t i = 0; i < d->config->nservers; i++)
		if (d->kube[i] != NULL && !kubernetes_settled(d->kube[i]))
			return false;
	return true;
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
