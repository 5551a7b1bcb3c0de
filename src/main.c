/* main.c -- flags, wiring and signals: a thin shell over libpetdns. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "explain.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"
#include "zone.h"

struct flags {
	const char	*conf;
	const char	*pidfile;
	int		 port;		/* -1: as the Corefile says */
	int		 zone_dump;
	const char	*explain;	/* -explain NAME [TYPE] */
	const char	*explain_type;
	int		 quiet;
	int		 debug;
};

/* The process: the running configuration, and the next one while it starts. */
struct app {
	struct event_base	*base;
	struct metrics		*metrics;	/* lives across reloads */
	struct flags		 flags;
	struct daemon		*cur;
	struct daemon		*next;
	char			*text;		/* the Corefile text last tried */
	bool			 unreadable;	/* said so since the last read */
	int			 hups;		/* SIGHUPs during a reload, owed */
	struct event		*poll;		/* reload: Corefile changed? */
	struct event		*swap;		/* next ready to take over? */
	time_t			 next_deadline;
	struct daemon		**retired;	/* replaced, owing forwarded answers */
	time_t			*retired_until;
	size_t			 nretired;
	struct event		*reap;		/* frees retired daemons */
};

/* A retired daemon waits this long at most for its upstreams' answers. */
#define APP_RETIRE_S	5

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: petdns [-conf FILE] [-dns.port PORT] "
	    "[-pidfile FILE] [-zone-dump] [-explain NAME [TYPE]] [-quiet] "
	    "[-debug] [-plugins] [-version]\n");
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
		} else if ((v = flag_value(argc, argv, &i, "explain")) != NULL) {
			uint16_t	type;

			f->explain = v;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				f->explain_type = argv[++i];
			if (explain_type(f->explain_type, v, &type) == -1) {
				fprintf(stderr, "-explain: unknown type '%s'\n",
				    f->explain_type);
				usage();
			}
		} else if (flag_bool(argv, i, "zone-dump"))
			f->zone_dump = 1;
		else if (flag_bool(argv, i, "quiet"))
			f->quiet = 1;
		else if (flag_bool(argv, i, "debug"))
			f->debug = 1;
		else if (flag_bool(argv, i, "plugins")) {
			const char *name;

			/* CoreDNS's listing, for scripts that grep it. */
			printf("Server types:\n  dns\n\nCaddyfile loaders:\n"
			    "  flag\n  default\n\nOther plugins:\n");
			for (size_t p = 0; (name = config_directive(p)) != NULL;
			    p++)
				printf("  dns.%s\n", name);
			exit(0);
		} else if (flag_bool(argv, i, "version")) {
			printf("petdns-%s\n", PACKAGE_VERSION);
			exit(0);
		} else
			usage();
	}
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

static char *
read_text(const char *path)
{
	FILE	*f = fopen(path, "re");
	char	*buf = NULL;
	size_t	 len = 0;

	if (f == NULL)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) == -1) {
		free(buf);
		buf = xstrdup("");
	}
	fclose(f);
	return buf;
}

static struct config *
load_config(const struct flags *f, char *err, size_t errlen)
{
	struct config	*cfg = config_load(f->conf, err, errlen);

	if (cfg != NULL && daemon_check(cfg, err, errlen) == -1) {
		config_free(cfg);
		return NULL;
	}
	if (cfg != NULL && f->port >= 0)
		config_set_port(cfg, (uint16_t)f->port);
	return cfg;
}

/* The shortest reload interval any block asks for, or 0. */
static int
reload_interval(const struct config *cfg, int *jitter)
{
	int	ms = 0;

	for (size_t i = 0; i < cfg->nservers; i++)
		if (cfg->servers[i].reload_ms > 0 && (ms == 0 ||
		    cfg->servers[i].reload_ms < ms)) {
			ms = cfg->servers[i].reload_ms;
			*jitter = cfg->servers[i].reload_jitter_ms;
		}
	return ms;
}

static void
app_arm_poll(struct app *a)
{
	int		jitter = 0, ms = reload_interval(daemon_config(a->cur),
			    &jitter);
	struct timeval	tv;

	if (ms == 0)
		return;
	ms += jitter > 0 ? (int)(random() % jitter) : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(a->poll, &tv);
}

/* Frees the retired daemons that owe nothing more, or waited long enough. */
static void
app_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app	*a = arg;
	struct timeval	 tv = { 0, 100000 };
	size_t		 k = 0;

	for (size_t i = 0; i < a->nretired; i++) {
		if (daemon_idle(a->retired[i]) ||
		    time(NULL) >= a->retired_until[i]) {
			daemon_free(a->retired[i]);
			continue;
		}
		a->retired[k] = a->retired[i];
		a->retired_until[k++] = a->retired_until[i];
	}
	a->nretired = k;
	if (k > 0)
		evtimer_add(a->reap, &tv);
}

/* The old configuration stops listening but answers what it forwarded. */
static void
app_retire(struct app *a, struct daemon *old, struct daemon *next)
{
	daemon_retire(old, next);
	a->retired = xreallocarray(a->retired, a->nretired + 1,
	    sizeof(*a->retired));
	a->retired_until = xreallocarray(a->retired_until, a->nretired + 1,
	    sizeof(*a->retired_until));
	a->retired[a->nretired] = old;
	a->retired_until[a->nretired++] = time(NULL) + APP_RETIRE_S;
	app_reap_cb(-1, 0, a);
}

static void	app_reload(struct app *, bool);

/* The new configuration's sources have synced (or its time ran out): it takes the sockets. */
static void
app_swap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app	*a = arg;
	struct timeval	 tv = { 0, 50000 };

	if (!daemon_ready(a->next) && time(NULL) < a->next_deadline) {
		evtimer_add(a->swap, &tv);
		return;
	}
	/* SO_REUSEPORT: both configurations answer until the old one goes. */
	if (daemon_listen(a->next) == -1) {
		log_errorx("reload: cannot listen; keeping the running "
		    "configuration");
		daemon_free(a->next);
	} else {
		app_retire(a, a->cur, a->next);
		a->cur = a->next;
		log_info("plugin/reload: running the new configuration");
	}
	a->next = NULL;
	app_arm_poll(a);
	/* A SIGHUP that came meanwhile may be for a newer Corefile. */
	if (a->hups > 0) {
		a->hups--;
		app_reload(a, true);
	}
}

/* Reloads when the Corefile changed (or always, for SIGHUP); a bad one changes nothing. */
static void
app_reload(struct app *a, bool forced)
{
	char		 err[512], *text = read_text(a->flags.conf);
	struct config	*cfg;
	struct timeval	 tv = { 0, 0 };

	if (text == NULL && (forced || !a->unreadable))
		log_errorx("reload: %s: %s; keeping the running configuration",
		    a->flags.conf, strerror(errno));
	a->unreadable = text == NULL;
	if (a->next != NULL && forced)
		a->hups++;
	if (a->next != NULL || text == NULL ||
	    (!forced && strcmp(text, a->text) == 0)) {
		free(text);
		app_arm_poll(a);
		return;
	}
	/* Tried once: a bad text is not retried (nor logged) every poll. */
	free(a->text);
	a->text = text;
	log_info("Reloading");
	if ((cfg = load_config(&a->flags, err, sizeof(err))) == NULL ||
	    (a->next = daemon_new(a->base, cfg, a->metrics)) == NULL) {
		log_errorx("reload: %s; keeping the running configuration",
		    cfg == NULL ? err : "a source cannot start");
		app_arm_poll(a);
		return;
	}
	a->next_deadline = time(NULL) + 30;
	evtimer_add(a->swap, &tv);
}

static void
app_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	app_reload(arg, false);
}

static void
app_exit_cb(void *arg)
{
	struct app	*a = arg;

	event_base_loopexit(a->base, NULL);
}

static void
app_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct app	*a = arg;

	if (sig == SIGHUP) {
		app_reload(a, true);
		return;
	}
	log_info("%s: shutting down", strsignal((int)sig));
	/* Keep answering through the health lameduck, then leave. */
	daemon_lameduck(a->cur, app_exit_cb, a);
}

static void
app_tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* -zone-dump, -explain: runs the sources until done says so (30 s at most). */
static void
app_settle(struct app *a, bool (*done)(const struct daemon *),
    const char *what)
{
	time_t		 deadline = time(NULL) + 30;
	struct timeval	 tv = { 0, 100000 };
	struct event	*tick = event_new(a->base, -1, EV_PERSIST, app_tick_cb,
			    NULL);

	/* Waits measured in time must end even when nothing else happens. */
	event_add(tick, &tv);
	while (!done(a->cur) && event_base_loop(a->base, EVLOOP_ONCE) == 0 &&
	    time(NULL) < deadline)
		;
	if (!done(a->cur))
		log_warnx("%s: sources not settled after 30 s; using what is "
		    "known", what);
	event_free(tick);
}

/* -explain: prints the explanation; 0 when the name resolves, 1 when not. */
static int
app_explain(struct app *a)
{
	char		 err[256], *text;
	struct explain	*e;
	int		 status;

	app_settle(a, daemon_stable, "explain");
	e = daemon_explain(a->cur, a->flags.explain, a->flags.explain_type,
	    err, sizeof(err));
	if (e == NULL) {	/* no kubernetes block: nothing to explain */
		log_warnx("%s", err);
		return 2;
	}
	text = explain_text(e);
	fputs(text, stdout);
	status = e->nrecords > 0 ? 0 : 1;
	free(text);
	explain_free(e);
	return status;
}

int
main(int argc, char **argv)
{
	struct app	 a = { 0 };
	struct event	*sig[3];
	const int	 signos[3] = { SIGINT, SIGTERM, SIGHUP };
	char		 err[512];
	struct config	*cfg;

	/*
	 * No fastbins: json-c freed a whole LIST page or watch event of small
	 * objects at once, and the next larger request then consolidated them
	 * all (malloc_consolidate was 11% of the CPU to ready at 100k pods;
	 * without fastbins CPU to ready 1.9 -> 1.6 s). API JSON no longer goes
	 * through json-c (jdoc.c); manifests still do.
	 */
	mallopt(M_MXFAST, 0);
	flags_parse(argc, argv, &a.flags);
	log_init(a.flags.debug, a.flags.quiet);
	signal(SIGPIPE, SIG_IGN);
	if ((cfg = load_config(&a.flags, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	/*
	 * -explain only looks: its controllers must not write to a cluster.
	 * It names the pods behind endpoints.
	 */
	for (size_t i = 0; a.flags.explain != NULL && i < cfg->nservers; i++)
		if (cfg->servers[i].kubernetes != NULL)
			cfg->servers[i].kubernetes->readonly =
			    cfg->servers[i].kubernetes->pod_names = true;
	a.text = read_text(a.flags.conf);
	if ((a.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	zone_thread_register();
	a.metrics = metrics_new();
	metrics_gauge_set(metrics_gauge_get(a.metrics, "coredns_build_info",
	    (const char *[]){ PACKAGE_VERSION, "petdns", "none" }), 1);
	if ((a.cur = daemon_new(a.base, cfg, a.metrics)) == NULL)
		fatalx("cannot start");
	if (a.flags.zone_dump || a.flags.explain != NULL) {
		int	status = 0;

		if (a.flags.explain != NULL)
			status = app_explain(&a);
		else {
			app_settle(&a, daemon_settled, "zone dump");
			/* A partial zone must not pass for the cluster's. */
			if (daemon_ready(a.cur))
				daemon_dump(a.cur, stdout);
			else {
				log_errorx("zone dump: the sources did not "
				    "sync; nothing dumped");
				status = 1;
			}
		}
		daemon_free(a.cur);
		metrics_free(a.metrics);
		event_base_free(a.base);
		free(a.text);
		zone_thread_unregister();
		return status;
	}
	if (daemon_listen(a.cur) == -1)
		fatalx("cannot listen");
	if (a.flags.pidfile != NULL)
		write_pidfile(a.flags.pidfile);
	a.poll = evtimer_new(a.base, app_poll_cb, &a);
	a.swap = evtimer_new(a.base, app_swap_cb, &a);
	a.reap = evtimer_new(a.base, app_reap_cb, &a);
	for (size_t i = 0; i < 3; i++) {
		sig[i] = evsignal_new(a.base, signos[i], app_signal_cb, &a);
		event_add(sig[i], NULL);
	}
	app_arm_poll(&a);
	log_info("petdns-%s ready", PACKAGE_VERSION);
	event_base_dispatch(a.base);
	for (size_t i = 0; i < 3; i++)
		event_free(sig[i]);
	event_free(a.poll);
	event_free(a.swap);
	event_free(a.reap);
	for (size_t i = 0; i < a.nretired; i++)
		daemon_free(a.retired[i]);
	free(a.retired);
	free(a.retired_until);
	daemon_free(a.next);
	daemon_free(a.cur);
	metrics_free(a.metrics);
	event_base_free(a.base);
	free(a.text);
	zone_thread_unregister();
	if (a.flags.pidfile != NULL)
		unlink(a.flags.pidfile);
	return 0;
}
