/* daemon.c -- a configuration brought to life: sources started, blocks grouped per socket, sockets opened. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

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
	struct kubernetes	**kube;		/* per server block, or NULL */
	struct daemon_listener	*listeners;
	size_t			 nlisteners;
	struct responder	*responder;
};

struct daemon *
daemon_new(struct event_base *base, struct config *config)
{
	struct daemon	*d = xcalloc(1, sizeof(*d));

	d->base = base;
	d->config = config;
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
	l->server = server_new(d->base);
	return l->server;
}

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
	return 0;
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
