/* main.c -- flags, wiring and signals: a thin shell over libpetdns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "kubernetes.h"
#include "log.h"
#include "responder.h"
#include "server.h"
#include "xmalloc.h"
#include "zone.h"

struct flags {
	const char	*conf;
	const char	*pidfile;
	int		 port;		/* -1: as the Corefile says */
	int		 zone_dump;
	int		 quiet;
	int		 debug;
};

/* One socket address and the server blocks listening on it. */
struct listener {
	char		*addr;		/* NULL: every address */
	uint16_t	 port;
	struct server	*server;
};

struct daemon {
	struct event_base	*base;
	struct config		*config;
	struct kubernetes	**kube;		/* per server block, or NULL */
	struct listener		*listeners;
	size_t			 nlisteners;
	struct responder	*responder;
};

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: petdns [-conf FILE] [-dns.port PORT] "
	    "[-pidfile FILE] [-zone-dump] [-quiet] [-debug] [-version]\n");
	exit(2);
}

/* Go-style flags as CoreDNS takes them: -flag, --flag, -flag=value, -flag value. */
static const char *
flag_value(int argc, char **argv, int *i, const char *name)
{
	const char	*arg = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
	size_t		 len = strlen(name);

	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

static int
flag_bool(char **argv, int i, const char *name)
{
	const char	*arg = argv[i] + (argv[i][1] == '-' ? 2 : 1);

	return strcmp(arg, name) == 0;
}

static void
flags_parse(int argc, char **argv, struct flags *f)
{
	const char	*v;

	f->conf = "Corefile";
	f->port = -1;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-')
			usage();
		if ((v = flag_value(argc, argv, &i, "conf")) != NULL)
			f->conf = v;
		else if ((v = flag_value(argc, argv, &i, "pidfile")) != NULL)
			f->pidfile = v;
		else if ((v = flag_value(argc, argv, &i, "dns.port")) != NULL) {
			char	*end;
			long	 p = strtol(v, &end, 10);

			if (*end != '\0' || p < 0 || p > 65535)
				fatalx("-dns.port: bad port '%s'", v);
			f->port = (int)p;
		} else if (flag_bool(argv, i, "zone-dump"))
			f->zone_dump = 1;
		else if (flag_bool(argv, i, "quiet"))
			f->quiet = 1;
		else if (flag_bool(argv, i, "debug"))
			f->debug = 1;
		else if (flag_bool(argv, i, "version")) {
			printf("petdns-%s\n", PACKAGE_VERSION);
			exit(0);
		} else
			usage();
	}
}

static struct server *
daemon_listener(struct daemon *d, const char *addr, uint16_t port)
{
	struct listener	*l;

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
	l->server = server_new();
	return l->server;
}

static void
daemon_start_blocks(struct daemon *d)
{
	d->kube = xcalloc(d->config->nservers, sizeof(*d->kube));
	for (size_t i = 0; i < d->config->nservers; i++) {
		const struct config_server *cs = &d->config->servers[i];

		if (cs->kubernetes == NULL)
			continue;
		d->kube[i] = kubernetes_new(d->base, cs->kubernetes);
		if (kubernetes_start(d->kube[i]) == -1)
			fatalx("%s:%d: kubernetes: cannot start",
			    cs->kubernetes->file, cs->kubernetes->line);
	}
}

/* -zone-dump: runs the sources until they synced and the controller is done (30 s at most). */
static void
daemon_settle(struct daemon *d)
{
	time_t	deadline = time(NULL) + 30;
	bool	settled;

	do {
		settled = true;
		for (size_t i = 0; i < d->config->nservers; i++)
			if (d->kube[i] != NULL &&
			    !kubernetes_settled(d->kube[i]))
				settled = false;
		if (settled)
			return;
	} while (event_base_loop(d->base, EVLOOP_ONCE) == 0 &&
	    time(NULL) < deadline);
	log_warnx("zone dump: sources not settled after 30 s; dumping what is "
	    "known");
}

static void
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
		struct listener *l = &d->listeners[i];

		if (responder_listen(d->responder, l->addr, l->port,
		    server_query, l->server, err, sizeof(err)) == -1)
			fatalx("%s", err);
		log_info("listening on %s:%u (UDP and TCP)",
		    l->addr ? l->addr : "*", l->port);
	}
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	log_info("%s: shutting down", strsignal((int)sig));
	event_base_loopexit(d->base, NULL);
}

static void
daemon_free(struct daemon *d)
{
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
	event_base_free(d->base);
}

static void
write_pidfile(const char *path)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL)
		fatal("pidfile %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct flags	 f = { 0 };
	struct daemon	 d = { 0 };
	struct event	*sigint, *sigterm;
	char		 err[512];

	flags_parse(argc, argv, &f);
	log_init(f.debug, f.quiet);
	signal(SIGPIPE, SIG_IGN);
	if ((d.config = config_load(f.conf, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (f.port >= 0)
		config_set_port(d.config, (uint16_t)f.port);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	zone_thread_register();
	daemon_start_blocks(&d);
	if (f.zone_dump) {
		daemon_settle(&d);
		for (size_t i = 0; i < d.config->nservers; i++)
			if (d.kube[i] != NULL)
				kubernetes_dump(d.kube[i], stdout);
		daemon_free(&d);
		zone_thread_unregister();
		return 0;
	}
	daemon_listen(&d);
	if (f.pidfile != NULL)
		write_pidfile(f.pidfile);
	sigint = evsignal_new(d.base, SIGINT, daemon_signal_cb, &d);
	sigterm = evsignal_new(d.base, SIGTERM, daemon_signal_cb, &d);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	log_info("petdns-%s ready", PACKAGE_VERSION);
	event_base_dispatch(d.base);
	event_free(sigint);
	event_free(sigterm);
	daemon_free(&d);
	zone_thread_unregister();
	if (f.pidfile != NULL)
		unlink(f.pidfile);
	return 0;
}
