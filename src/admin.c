/* admin.c -- health, ready and prometheus: CoreDNS's HTTP endpoints on evhttp, one listener per address. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin.h"
#include "corefile.h"
#include "explain.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ADMIN_HEALTH_ADDR	":8080"
#define ADMIN_READY_ADDR	":8181"
#define ADMIN_METRICS_ADDR	"localhost:9153"
#define ADMIN_BACKLOG		128
/* CoreDNS's ready server drops clients idle or slow for 5s; all ours do. */
#define ADMIN_TIMEOUT_S		5
#define ADMIN_MAX_HEADERS	8192
#define ADMIN_MAX_BODY		65536
/* health's self-check: every second, 3s timeout, warn past 1s. */
#define ADMIN_PROBE_MS		1000
#define ADMIN_PROBE_TIMEOUT_S	3
#define ADMIN_PROBE_SLOW	1.0

#define ADMIN_TEXT		"text/plain; charset=utf-8"
#define ADMIN_JSON		"application/json"
#define ADMIN_METRICS_TEXT	"text/plain; version=0.0.4; charset=utf-8"

struct admin_check {
	char	*name;
	bool	(*fn)(void *);
	void	*arg;
	bool	 ready;		/* said yes once */
};

struct admin_listener {
	TAILQ_ENTRY(admin_listener) entry;
	struct admin	*a;
	char		*addr;		/* as the directive wrote it */
	struct evhttp	*http;
	struct sockaddr_storage self;
	bool		 wildcard;
	uint16_t	 port;
	bool		 health, ready, metrics, explain;
	/* health's self-check: GET /health on ourselves */
	char		*probe_host;	/* HOST:PORT, the Host header */
	char		*probe_url;
	struct event	*probe_tick;
	struct evhttp_connection *probe;
	bool		 probing;
	struct timespec	 probe_start;
	const char	*probe_why;	/* the error callback's reason */
};

struct admin {
	struct event_base	*base;
	struct metrics		*metrics;
	struct metrics_histogram *health_duration;
	struct metrics_counter	*health_failures;
	TAILQ_HEAD(, admin_listener) listeners;
	struct admin_check	*checks;
	size_t			 nchecks;
	bool			 continuously;
	int			 lameduck_ms;
	bool			 lameduck;
	struct event		*lameduck_ev;
	void			(*done)(void *);
	void			*done_arg;
	admin_explain_fn	 explain_fn;
	void			*explain_arg;
};

static void	admin_request_cb(struct evhttp_request *, void *);
static void	admin_probe_tick_cb(evutil_socket_t, short, void *);
static void	admin_probe_done_cb(struct evhttp_request *, void *);
static void	admin_probe_error_cb(enum evhttp_request_error, void *);
static void	admin_lameduck_cb(evutil_socket_t, short, void *);

/*
 * Go's net.SplitHostPort, and a port number. Fills why and returns -1 with
 * Go's reasons ("missing port in address").
 */
static int
admin_split(const char *addr, char *host, size_t hostlen, uint16_t *port,
    char *why, size_t whylen)
{
	const char *colon = strrchr(addr, ':'), *h = addr, *end, *p;
	size_t	 j = 0, k = 0, n;

	if (colon == NULL)
		return snprintf(why, whylen, "missing port in address"), -1;
	if (addr[0] == '[') {
		if ((end = strchr(addr, ']')) == NULL)
			return snprintf(why, whylen, "missing ']' in address"),
			    -1;
		if (end + 1 != colon)
			return snprintf(why, whylen, "%s", end[1] == ':' ?
			    "too many colons in address" :
			    "missing port in address"), -1;
		h = addr + 1;
		j = 1;
		k = end + 1 - addr;
	} else if (memchr(addr, ':', colon - addr) != NULL)
		return snprintf(why, whylen, "too many colons in address"), -1;
	else
		end = colon;
	if (strchr(addr + j, '[') != NULL)
		return snprintf(why, whylen, "unexpected '[' in address"), -1;
	if (strchr(addr + k, ']') != NULL)
		return snprintf(why, whylen, "unexpected ']' in address"), -1;
	p = colon + 1;
	n = strlen(p);
	if (n == 0 || n > 5 || strspn(p, "0123456789") != n ||
	    strtol(p, NULL, 10) > 65535)
		return snprintf(why, whylen, "invalid port '%s'", p), -1;
	if ((size_t)(end - h) >= hostlen)
		return snprintf(why, whylen, "host name too long"), -1;
	memcpy(host, h, end - h);
	host[end - h] = '\0';
	*port = (uint16_t)strtol(p, NULL, 10);
	return 0;
}


/* Go's Duration.String for whole milliseconds: "500ms", "5s", "1m30s". */
static void
duration_format(int ms, char *buf, size_t len)
{
	char	 sec[16];
	int	 h = ms / 3600000, m = ms / 60000 % 60;
	int	 s = ms % 60000 / 1000, frac = ms % 1000;

	if (ms < 1000) {
		snprintf(buf, len, ms == 0 ? "0s" : "%dms", ms);
		return;
	}
	if (frac == 0)
		snprintf(sec, sizeof(sec), "%d", s);
	else if (frac % 100 == 0)
		snprintf(sec, sizeof(sec), "%d.%d", s, frac / 100);
	else if (frac % 10 == 0)
		snprintf(sec, sizeof(sec), "%d.%02d", s, frac / 10);
	else
		snprintf(sec, sizeof(sec), "%d.%03d", s, frac);
	if (h > 0)
		snprintf(buf, len, "%dh%dm%ss", h, m, sec);
	else if (m > 0)
		snprintf(buf, len, "%dm%ss", m, sec);
	else
		snprintf(buf, len, "%ss", sec);
}

/* [ADDR], checked as CoreDNS checks it; a new string in *addr. */
static int
parse_addr(const struct corefile_line *l, const char *def, char **addr,
    char *err, size_t errlen)
{
	const char *a = corefile_nargs(l) == 1 ? corefile_arg(l, 0) : def;
	char	 host[256], why[64];
	uint16_t port;

	if (corefile_nargs(l) > 1)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "%s: wrong number of arguments (%zu); takes [ADDRESS]",
		    corefile_name(l), corefile_nargs(l));
	if (admin_split(a, host, sizeof(host), &port, why, sizeof(why)) == -1)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "%s: address '%s': %s", corefile_name(l), a, why);
	*addr = xstrdup(a);
	return 0;
}

/* An option of the directive's block: no block of its own, nargs args. */
static int
parse_option(const struct corefile_line *l, const struct corefile_line *o,
    size_t nargs, char *err, size_t errlen)
{
	if (corefile_has_block(o))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "%s option '%s': takes no block", corefile_name(l),
		    corefile_name(o));
	if (corefile_nargs(o) != nargs)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "%s option '%s': wrong number of arguments (%zu)",
		    corefile_name(l), corefile_name(o), corefile_nargs(o));
	return 0;
}

static int
parse_unknown(const struct corefile_line *l, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return corefile_errf(corefile_pos(o), err, errlen,
	    "%s: unknown option '%s'", corefile_name(l), corefile_name(o));
}

int
admin_health_parse(const struct corefile_line *l, char **addr,
    int *lameduck_ms, char *err, size_t errlen)
{
	const struct corefile_line *o;
	int	 ms = 0;

	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		if (strcmp(corefile_name(o), "lameduck") != 0)
			return parse_unknown(l, o, err, errlen);
		if (parse_option(l, o, 1, err, errlen) == -1)
			return -1;
		if (!corefile_duration(corefile_arg(o, 0), &ms, NULL))
			return corefile_errf(corefile_pos(o), err, errlen,
			    "health option 'lameduck': invalid duration '%s' "
			    "(as 5s or 500ms)", corefile_arg(o, 0));
	}
	if (parse_addr(l, ADMIN_HEALTH_ADDR, addr, err, errlen) == -1)
		return -1;
	*lameduck_ms = ms;
	return 0;
}

int
admin_ready_parse(const struct corefile_line *l, char **addr,
    bool *continuously, char *err, size_t errlen)
{
	const struct corefile_line *o;
	const char *mode;
	bool	 cont = false;

	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		if (strcmp(corefile_name(o), "monitor") != 0)
			return parse_unknown(l, o, err, errlen);
		if (parse_option(l, o, 1, err, errlen) == -1)
			return -1;
		mode = corefile_arg(o, 0);
		if (strcmp(mode, "until-ready") != 0 &&
		    strcmp(mode, "continuously") != 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "ready option 'monitor': unknown mode '%s' "
			    "(until-ready or continuously)", mode);
		cont = strcmp(mode, "continuously") == 0;
	}
	if (parse_addr(l, ADMIN_READY_ADDR, addr, err, errlen) == -1)
		return -1;
	*continuously = cont;
	return 0;
}

int
admin_prometheus_parse(const struct corefile_line *l, char **addr,
    char *err, size_t errlen)
{
	const struct corefile_line *o;
	const struct corefile_pos *pos;

	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		pos = corefile_pos(o);
		if (strcmp(corefile_name(o), "tls") == 0)
			return corefile_errf(pos, err, errlen,
			    "prometheus option 'tls': not supported by petdns "
			    "(serve /metrics over plain HTTP)");
		if (strcmp(corefile_name(o), "runtime_metrics") != 0)
			return parse_unknown(l, o, err, errlen);
		if (parse_option(l, o, 0, err, errlen) == -1)
			return -1;
		log_warnx("%s:%d: prometheus option 'runtime_metrics': "
		    "ignored, petdns has no Go runtime metrics", pos->file,
		    pos->line);
	}
	return parse_addr(l, ADMIN_METRICS_ADDR, addr, err, errlen);
}

struct admin *
admin_new(struct event_base *base, struct metrics *m)
{
	struct admin *a = xcalloc(1, sizeof(*a));

	a->base = base;
	a->metrics = m;
	TAILQ_INIT(&a->listeners);
	if (m != NULL) {
		a->health_duration = metrics_histogram_get(m,
		    "coredns_health_request_duration_seconds", NULL);
		a->health_failures = metrics_counter_get(m,
		    "coredns_health_request_failures_total", NULL);
	}
	return a;
}

static void
admin_listener_free(struct admin_listener *l)
{
	/* The self-check first: freeing it runs no callback. */
	if (l->probe_tick != NULL)
		event_free(l->probe_tick);
	if (l->probe != NULL)
		evhttp_connection_free(l->probe);
	evhttp_free(l->http);
	free(l->probe_host);
	free(l->probe_url);
	free(l->addr);
	free(l);
}

void
admin_free(struct admin *a)
{
	struct admin_listener *l;
	size_t	 i;

	if (a == NULL)
		return;
	while ((l = TAILQ_FIRST(&a->listeners)) != NULL) {
		TAILQ_REMOVE(&a->listeners, l, entry);
		admin_listener_free(l);
	}
	if (a->lameduck_ev != NULL)
		event_free(a->lameduck_ev);
	for (i = 0; i < a->nchecks; i++)
		free(a->checks[i].name);
	free(a->checks);
	free(a);
}

/* The port of an AF_INET or AF_INET6 address, in host order. */
static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void
sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/*
 * Where to listen. As Go's net.Listen("tcp"), a wildcard host (none,
 * 0.0.0.0 or ::) listens on IPv6 and IPv4 both, and a name listens on its
 * first IPv4 address, else its first.
 */
static int
admin_resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen, bool *wildcard, char *why, size_t whylen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints, *res, *ai, *pick = NULL;
	int	 rc;

	memset(ss, 0, sizeof(*ss));
	*wildcard = host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0;
	if (*wildcard) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(why, whylen, "lookup %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			pick = ai;
	for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6)
			pick = ai;
	if (pick == NULL) {
		freeaddrinfo(res);
		snprintf(why, whylen, "lookup %s: no address", host);
		return -1;
	}
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	*sslen = pick->ai_addrlen;
	sockaddr_set_port(ss, port);
	freeaddrinfo(res);
	return 0;
}

/* A listening socket for ss; a wildcard falls back to IPv4 without IPv6. */
static int
admin_socket(struct sockaddr_storage *ss, socklen_t sslen, bool wildcard,
    char *why, size_t whylen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	const char *op = "socket";
	uint16_t port = sockaddr_port(ss);
	int	 fd, on = 1, off = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 && wildcard && errno == EAFNOSUPPORT) {
		memset(ss, 0, sizeof(*ss));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	if (fd == -1)
		goto fail;
	op = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    (ss->ss_family == AF_INET6 && wildcard && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1))
		goto fail;
	op = "bind";
	if (bind(fd, (struct sockaddr *)ss, sslen) == -1)
		goto fail;
	op = "listen";
	if (listen(fd, ADMIN_BACKLOG) == -1)
		goto fail;
	sslen = sizeof(*ss);
	op = "getsockname";
	if (getsockname(fd, (struct sockaddr *)ss, &sslen) == -1)
		goto fail;
	return fd;
fail:
	snprintf(why, whylen, "%s: %s", op, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* The listener serving addr, made on first use; NULL with err filled. */
static struct admin_listener *
admin_listen(struct admin *a, const char *addr, char *err, size_t errlen)
{
	struct admin_listener *l;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char	 host[256], why[1024];
	uint16_t port;
	bool	 wildcard;
	int	 fd;

	TAILQ_FOREACH(l, &a->listeners, entry)
		if (strcmp(l->addr, addr) == 0)
			return l;
	if (admin_split(addr, host, sizeof(host), &port, why,
	    sizeof(why)) == -1 || admin_resolve(host, port, &ss, &sslen,
	    &wildcard, why, sizeof(why)) == -1 || (fd = admin_socket(&ss,
	    sslen, wildcard, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "listen tcp %s: %s", addr, why);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	if ((l->http = evhttp_new(a->base)) == NULL ||
	    evhttp_accept_socket_with_handle(l->http, fd) == NULL) {
		snprintf(err, errlen, "listen tcp %s: evhttp cannot serve it",
		    addr);
		if (l->http != NULL)
			evhttp_free(l->http);
		close(fd);
		free(l);
		return NULL;
	}
	l->a = a;
	l->addr = xstrdup(addr);
	l->self = ss;
	l->wildcard = wildcard;
	l->port = sockaddr_port(&ss);
	evhttp_set_timeout(l->http, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(l->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(l->http, ADMIN_MAX_BODY);
	/* Go's handlers answer whatever the method. */
	evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(l->http, admin_request_cb, l);
	TAILQ_INSERT_TAIL(&a->listeners, l, entry);
	return l;
}

uint16_t
admin_port(const struct admin *a, const char *addr)
{
	const struct admin_listener *l;

	TAILQ_FOREACH(l, &a->listeners, entry)
		if (strcmp(l->addr, addr) == 0)
			return l->port;
	return 0;
}

/* health's self-check asks the listener itself; a wildcard via loopback. */
static void
admin_probe_start(struct admin_listener *l)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->self;
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->self;
	struct timeval tv = { ADMIN_PROBE_MS / 1000,
	    ADMIN_PROBE_MS % 1000 * 1000 };
	char	 host[INET6_ADDRSTRLEN] = "127.0.0.1";
	bool	 v6 = false;

	if (!l->wildcard && l->self.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		v6 = true;
	} else if (!l->wildcard)
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	l->probe_host = xasprintf("%s%s%s:%u", v6 ? "[" : "", host,
	    v6 ? "]" : "", l->port);
	l->probe_url = xasprintf("http://%s/health", l->probe_host);
	l->probe = evhttp_connection_base_new(l->a->base, NULL, host,
	    l->port);
	l->probe_tick = event_new(l->a->base, -1, EV_PERSIST,
	    admin_probe_tick_cb, l);
	if (l->probe == NULL || l->probe_tick == NULL)
		fatalx("evhttp: cannot make the health self-check");
	evhttp_connection_set_timeout(l->probe, ADMIN_PROBE_TIMEOUT_S);
	event_add(l->probe_tick, &tv);
}

int
admin_listen_health(struct admin *a, const char *addr, int lameduck_ms,
    char *err, size_t errlen)
{
	struct admin_listener *l;

	if ((l = admin_listen(a, addr, err, errlen)) == NULL)
		return -1;
	if (lameduck_ms > a->lameduck_ms)
		a->lameduck_ms = lameduck_ms;
	if (!l->health) {
		l->health = true;
		admin_probe_start(l);
	}
	return 0;
}

int
admin_listen_ready(struct admin *a, const char *addr, bool continuously,
    char *err, size_t errlen)
{
	struct admin_listener *l;

	if ((l = admin_listen(a, addr, err, errlen)) == NULL)
		return -1;
	l->ready = true;
	a->continuously = a->continuously || continuously;
	return 0;
}

int
admin_listen_prometheus(struct admin *a, const char *addr, char *err,
    size_t errlen)
{
	struct admin_listener *l;

	if ((l = admin_listen(a, addr, err, errlen)) == NULL)
		return -1;
	l->metrics = true;
	return 0;
}

void
admin_add_ready(struct admin *a, const char *name, bool (*fn)(void *),
    void *arg)
{
	struct admin_check *c;

	a->checks = xreallocarray(a->checks, a->nchecks + 1,
	    sizeof(*a->checks));
	c = &a->checks[a->nchecks++];
	c->name = xstrdup(name);
	c->fn = fn;
	c->arg = arg;
	c->ready = false;
}

void
admin_add_explain(struct admin *a, const char *addr, admin_explain_fn fn,
    void *arg)
{
	struct admin_listener *l;

	a->explain_fn = fn;
	a->explain_arg = arg;
	TAILQ_FOREACH(l, &a->listeners, entry)
		if (strcmp(l->addr, addr) == 0)
			l->explain = true;
}

int
admin_lameduck_ms(const struct admin *a)
{
	return a->lameduck_ms;
}

void
admin_lameduck(struct admin *a, void (*done)(void *), void *arg)
{
	struct timeval tv = { a->lameduck_ms / 1000,
	    a->lameduck_ms % 1000 * 1000 };
	char	 dur[32];

	if (a->lameduck)
		return;
	a->lameduck = true;
	a->done = done;
	a->done_arg = arg;
	if (a->lameduck_ms > 0) {
		duration_format(a->lameduck_ms, dur, sizeof(dur));
		log_info("plugin/health: Going into lameduck mode for %s", dur);
	}
	if ((a->lameduck_ev = evtimer_new(a->base, admin_lameduck_cb,
	    a)) == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(a->lameduck_ev, &tv);
}

/* done may free the admin: nothing touches it afterwards. */
static void
admin_lameduck_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin *a = arg;

	if (a->done != NULL)
		a->done(a->done_arg);
}

static void
admin_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		fatalx("evbuffer_new failed");
	evhttp_add_header(h, "Content-Type", type);
	if (code == HTTP_NOTFOUND)
		evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The checks not ready, sorted, comma-joined; NULL when all are ready. */
static char *
admin_not_ready(struct admin *a)
{
	const char **names = xcalloc(a->nchecks + 1, sizeof(*names));
	struct admin_check *c;
	char	*out;
	size_t	 i, j, n = 0, len = 1;

	for (i = 0; i < a->nchecks; i++) {
		c = &a->checks[i];
		if (c->ready && !a->continuously)
			continue;
		if ((c->ready = c->fn(c->arg)))
			continue;
		for (j = 0; j < n && strcmp(names[j], c->name) != 0; j++)
			;
		if (j == n) {
			names[n++] = c->name;
			len += strlen(c->name) + 1;
		}
	}
	if (n == 0) {
		free(names);
		return NULL;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	out = xmalloc(len);
	for (len = 0, i = 0; i < n; i++)
		len += sprintf(out + len, "%s%s", i > 0 ? "," : "", names[i]);
	free(names);
	return out;
}

static void
admin_ready_reply(struct admin *a, struct evhttp_request *req)
{
	char	*names;

	if (a->lameduck) {
		admin_reply(req, HTTP_SERVUNAVAIL, "Service Unavailable",
		    ADMIN_TEXT, "Shutting down");
		return;
	}
	if ((names = admin_not_ready(a)) == NULL) {
		admin_reply(req, HTTP_OK, "OK", ADMIN_TEXT, "OK");
		return;
	}
	log_info("plugin/ready: Plugins not ready: \"%s\"", names);
	admin_reply(req, HTTP_SERVUNAVAIL, "Service Unavailable", ADMIN_TEXT,
	    names);
	free(names);
}

static void
admin_metrics_reply(struct admin *a, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		fatalx("evbuffer_new failed");
	if (a->metrics != NULL)
		metrics_render(a->metrics, b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ADMIN_METRICS_TEXT);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* /explain?name=...&type=...&format=json|text */
static void
admin_explain_reply(struct admin *a, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *name = NULL, *format, *accept;
	struct evkeyvalq q;
	struct explain *e = NULL;
	char	 err[256] = "explain: give ?name=NAME[&type=TYPE][&format=json]";
	char	*body;
	bool	 json;

	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0)
		name = evhttp_find_header(&q, "name");
	if (name != NULL && *name != '\0')
		e = a->explain_fn(a->explain_arg, name,
		    evhttp_find_header(&q, "type"), err, sizeof(err));
	if (e == NULL) {
		body = xasprintf("%s\n", err);
		admin_reply(req, HTTP_BADREQUEST, "Bad Request", ADMIN_TEXT,
		    body);
		free(body);
		evhttp_clear_headers(&q);
		return;
	}
	format = evhttp_find_header(&q, "format");
	accept = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept");
	json = format != NULL ? strcmp(format, "json") == 0 :
	    accept != NULL && strstr(accept, ADMIN_JSON) != NULL;
	body = json ? explain_json(e) : explain_text(e);
	admin_reply(req, HTTP_OK, "OK", json ? ADMIN_JSON : ADMIN_TEXT, body);
	free(body);
	explain_free(e);
	evhttp_clear_headers(&q);
}

/* Paths match exactly, as Go's ServeMux patterns without a trailing slash. */
static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin_listener *l = arg;
	const struct evhttp_uri *uri;
	const char *path;

	uri = evhttp_request_get_evhttp_uri(req);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL)
		path = "";
	if (l->health && strcmp(path, "/health") == 0)
		admin_reply(req, HTTP_OK, "OK", ADMIN_TEXT, "OK");
	else if (l->ready && strcmp(path, "/ready") == 0)
		admin_ready_reply(l->a, req);
	else if (l->metrics && strcmp(path, "/metrics") == 0)
		admin_metrics_reply(l->a, req);
	else if (l->explain && strcmp(path, "/explain") == 0)
		admin_explain_reply(l->a, req);
	else
		admin_reply(req, HTTP_NOTFOUND, "Not Found", ADMIN_TEXT,
		    "404 page not found\n");
}

static void
admin_probe_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_listener *l = arg;
	struct evhttp_request *req;

	/* Go's loop waits for each request: a slow one skips ticks. */
	if (l->probing)
		return;
	if ((req = evhttp_request_new(admin_probe_done_cb, l)) == NULL)
		fatalx("evhttp_request_new failed");
	evhttp_request_set_error_cb(req, admin_probe_error_cb);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    l->probe_host);
	l->probe_why = "no response";
	clock_gettime(CLOCK_MONOTONIC, &l->probe_start);
	l->probing = true;
	if (evhttp_make_request(l->probe, req, EVHTTP_REQ_GET, "/health") ==
	    -1) {
		l->probe_why = "cannot send the request";
		admin_probe_done_cb(NULL, l);
	}
}

static void
admin_probe_error_cb(enum evhttp_request_error e, void *arg)
{
	struct admin_listener *l = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		l->probe_why = "timeout";
		break;
	case EVREQ_HTTP_EOF:
		l->probe_why = "connection closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		l->probe_why = "invalid response";
		break;
	default:
		l->probe_why = "connection error";
		break;
	}
}

/* As CoreDNS: any HTTP answer is a success; only errors count as failures. */
static void
admin_probe_done_cb(struct evhttp_request *req, void *arg)
{
	struct admin_listener *l = arg;
	struct admin *a = l->a;
	struct timespec now;
	double	 secs;

	l->probing = false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - l->probe_start.tv_sec) +
	    (double)(now.tv_nsec - l->probe_start.tv_nsec) / 1e9;
	metrics_histogram_observe(a->health_duration, secs);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		metrics_counter_add(a->health_failures, 1);
		log_warnx("plugin/health: Local health request to \"%s\" "
		    "failed: %s", l->probe_url, l->probe_why);
	} else if (secs > ADMIN_PROBE_SLOW)
		log_warnx("plugin/health: Local health request to \"%s\" took "
		    "more than 1s: %.3fs", l->probe_url, secs);
}
