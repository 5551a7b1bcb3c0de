/* test_admin.c -- health, ready and prometheus: directive parsing, and the endpoints on loopback. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin.h"
#include "corefile.h"
#include "metrics.h"

#define DEADLINE_MS	5000	/* a longer wait is a failure */

struct fixture {
	struct event_base *base;
	struct metrics	*m;
	struct admin	*a;
	bool		 k8s_ready, other_ready;
	int		 k8s_asked;
	bool		 done;
	long		 done_ms;
};

/* One finished HTTP exchange. */
struct reply {
	bool	 done;
	int	 code;		/* 0: no response */
	char	*body;
	char	*type;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	f->m = metrics_new();
	f->a = admin_new(f->base, f->m);
	assert_non_null(f->base);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	admin_free(f->a);
	metrics_free(f->m);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Runs the loop until *flag is set; failing the test past the deadline. */
static void
run_until(struct fixture *f, const bool *flag)
{
	struct timeval tv = { DEADLINE_MS / 1000, 0 };
	bool	 late = false;
	struct event *ev = evtimer_new(f->base, deadline_cb, &late);

	evtimer_add(ev, &tv);
	while (!*flag && !late)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(ev);
	if (!*flag)
		fail_msg("nothing after %d ms", DEADLINE_MS);
}

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct reply *r = arg;
	struct evbuffer *b;
	const char *type;
	size_t	 n;

	r->done = true;
	if (req == NULL || (r->code = evhttp_request_get_response_code(req)) ==
	    0)
		return;
	b = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(b);
	r->body = calloc(1, n + 1);
	assert_non_null(r->body);
	evbuffer_remove(b, r->body, n);
	type = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	r->type = strdup(type ? type : "");
}

static void
reply_clear(struct reply *r)
{
	free(r->body);
	free(r->type);
	memset(r, 0, sizeof(*r));
}

/* A request to 127.0.0.1:port, the loop run until its answer. */
static void
request(struct fixture *f, enum evhttp_cmd_type cmd, uint16_t port,
    const char *path, struct reply *r)
{
	struct evhttp_connection *c;
	struct evhttp_request *req;

	memset(r, 0, sizeof(*r));
	c = evhttp_connection_base_new(f->base, NULL, "127.0.0.1", port);
	assert_non_null(c);
	req = evhttp_request_new(reply_cb, r);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    "127.0.0.1");
	assert_int_equal(evhttp_make_request(c, req, cmd, path), 0);
	run_until(f, &r->done);
	evhttp_connection_free(c);
}

static void
get(struct fixture *f, uint16_t port, const char *path, struct reply *r)
{
	request(f, EVHTTP_REQ_GET, port, path, r);
}

static void
assert_get(struct fixture *f, uint16_t port, const char *path, int code,
    const char *body)
{
	struct reply r;

	get(f, port, path, &r);
	if (r.code != code || strcmp(r.body ? r.body : "", body) != 0)
		fail_msg("GET %s: got %d '%s', want %d '%s'", path, r.code,
		    r.body ? r.body : "", code, body);
	reply_clear(&r);
}

static uint16_t
listen_health(struct fixture *f, const char *addr, int lameduck_ms)
{
	char	 err[256];

	if (admin_listen_health(f->a, addr, lameduck_ms, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_not_equal(admin_port(f->a, addr), 0);
	return admin_port(f->a, addr);
}

static uint16_t
listen_ready(struct fixture *f, const char *addr, bool continuously)
{
	char	 err[256];

	if (admin_listen_ready(f->a, addr, continuously, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_not_equal(admin_port(f->a, addr), 0);
	return admin_port(f->a, addr);
}

static uint16_t
listen_prometheus(struct fixture *f, const char *addr)
{
	char	 err[256];

	if (admin_listen_prometheus(f->a, addr, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_not_equal(admin_port(f->a, addr), 0);
	return admin_port(f->a, addr);
}

static bool
k8s_ready(void *arg)
{
	struct fixture *f = arg;

	f->k8s_asked++;
	return f->k8s_ready;
}

static bool
other_ready(void *arg)
{
	return ((struct fixture *)arg)->other_ready;
}

static void
test_health(void **state)
{
	struct fixture *f = *state;
	uint16_t port = listen_health(f, "127.0.0.1:0", 0);
	struct reply r;

	get(f, port, "/health", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "OK");
	assert_string_equal(r.type, "text/plain; charset=utf-8");
	reply_clear(&r);
	/* Only the paths of the directives on this address. */
	assert_get(f, port, "/ready", 404, "404 page not found\n");
	assert_get(f, port, "/metrics", 404, "404 page not found\n");
	assert_get(f, port, "/", 404, "404 page not found\n");
	assert_get(f, port, "/health/", 404, "404 page not found\n");
	assert_get(f, port, "/health?verbose=1", 200, "OK");
	/* Any method, as Go's handlers; HEAD without a body. */
	request(f, EVHTTP_REQ_POST, port, "/health", &r);
	assert_int_equal(r.code, 200);
	reply_clear(&r);
	request(f, EVHTTP_REQ_HEAD, port, "/health", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "");
	reply_clear(&r);
}

static void
test_ready(void **state)
{
	struct fixture *f = *state;
	uint16_t port = listen_ready(f, "127.0.0.1:0", false);
	int	 asked;

	/* Nothing to wait for: ready. */
	assert_get(f, port, "/ready", 200, "OK");
	admin_add_ready(f->a, "kubernetes", k8s_ready, f);
	assert_get(f, port, "/ready", 503, "kubernetes");
	/* Several not ready: sorted, each name once (two server blocks). */
	admin_add_ready(f->a, "kubernetes", k8s_ready, f);
	admin_add_ready(f->a, "forward", other_ready, f);
	assert_get(f, port, "/ready", 503, "forward,kubernetes");
	f->other_ready = true;
	assert_get(f, port, "/ready", 503, "kubernetes");
	f->k8s_ready = true;
	assert_get(f, port, "/ready", 200, "OK");
	/* until-ready: a check that said yes is not asked again. */
	asked = f->k8s_asked;
	f->k8s_ready = false;
	assert_get(f, port, "/ready", 200, "OK");
	assert_int_equal(f->k8s_asked, asked);
	assert_get(f, port, "/health", 404, "404 page not found\n");
}

static void
test_ready_continuously(void **state)
{
	struct fixture *f = *state;
	uint16_t port = listen_ready(f, "127.0.0.1:0", true);

	admin_add_ready(f->a, "kubernetes", k8s_ready, f);
	assert_get(f, port, "/ready", 503, "kubernetes");
	f->k8s_ready = true;
	assert_get(f, port, "/ready", 200, "OK");
	f->k8s_ready = false;
	assert_get(f, port, "/ready", 503, "kubernetes");
}

static void
test_metrics_endpoint(void **state)
{
	struct fixture *f = *state;
	uint16_t port = listen_prometheus(f, "127.0.0.1:0");
	struct reply r;

	metrics_counter_add(metrics_counter_get(f->m,
	    "coredns_dns_requests_total", (const char *const []){ "dns://:53",
	    ".", "", "udp", "1", "A" }), 7);
	get(f, port, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(r.body, "\n# TYPE coredns_dns_requests_total "
	    "counter\ncoredns_dns_requests_total{family=\"1\",proto=\"udp\","
	    "server=\"dns://:53\",type=\"A\",view=\"\",zone=\".\"} 7\n"));
	assert_non_null(strstr(r.body, "\nprocess_open_fds "));
	reply_clear(&r);
	assert_get(f, port, "/health", 404, "404 page not found\n");
}

/* Directives naming one address share a listener; others get their own. */
static void
test_shared_listener(void **state)
{
	struct fixture *f = *state;
	uint16_t port, other;
	struct reply r;

	port = listen_health(f, "127.0.0.1:0", 0);
	assert_int_equal(listen_ready(f, "127.0.0.1:0", false), port);
	assert_int_equal(listen_prometheus(f, "127.0.0.1:0"), port);
	assert_int_equal(listen_health(f, "127.0.0.1:0", 0), port);
	other = listen_ready(f, "localhost:0", false);
	assert_int_not_equal(other, port);
	assert_get(f, port, "/health", 200, "OK");
	assert_get(f, port, "/ready", 200, "OK");
	get(f, port, "/metrics", &r);
	assert_int_equal(r.code, 200);
	reply_clear(&r);
	/* localhost listens on its IPv4 address, as Go does. */
	assert_get(f, other, "/ready", 200, "OK");
	assert_get(f, other, "/health", 404, "404 page not found\n");
	assert_int_equal(admin_port(f->a, "127.0.0.1:1"), 0);
}

/* ":0" listens on every address, IPv6 and IPv4 both. */
static void
test_wildcard(void **state)
{
	struct fixture *f = *state;
	uint16_t port = listen_health(f, ":0", 0);
	struct reply r;

	assert_get(f, port, "/health", 200, "OK");
	port = listen_ready(f, "[::]:0", false);
	assert_get(f, port, "/ready", 200, "OK");
	port = listen_prometheus(f, "0.0.0.0:0");
	get(f, port, "/metrics", &r);
	assert_int_equal(r.code, 200);
	reply_clear(&r);
}

static void
test_listen_errors(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char	 addr[64], want[128], err[256];
	int	 fd;

	/* A port held without SO_REUSEPORT cannot be shared. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	snprintf(want, sizeof(want), "listen tcp %s: bind: Address already "
	    "in use", addr);
	assert_int_equal(admin_listen_health(f->a, addr, 0, err, sizeof(err)),
	    -1);
	assert_string_equal(err, want);
	close(fd);
	assert_int_equal(admin_listen_ready(f->a, "8181", false, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "listen tcp 8181: missing port in address");
	assert_int_equal(admin_listen_prometheus(f->a, "192.0.2.1:9153", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "listen tcp 192.0.2.1:9153: bind: Cannot "
	    "assign requested address");
	assert_int_equal(admin_port(f->a, "192.0.2.1:9153"), 0);
}

static void
lameduck_done(void *arg)
{
	struct fixture *f = arg;

	f->done = true;
	f->done_ms = now_ms();
}

static void
test_lameduck(void **state)
{
	struct fixture *f = *state;
	uint16_t health, ready;
	long	 start;
	struct reply r;

	assert_int_equal(admin_lameduck_ms(f->a), 0);
	health = listen_health(f, "127.0.0.1:0", 150);
	/* The longest of the health directives' lameducks. */
	listen_health(f, "localhost:0", 100);
	assert_int_equal(admin_lameduck_ms(f->a), 150);
	ready = listen_ready(f, "127.0.0.1:0", false);
	assert_int_equal(ready, health);
	listen_prometheus(f, "127.0.0.1:0");
	assert_get(f, ready, "/ready", 200, "OK");
	start = now_ms();
	admin_lameduck(f->a, lameduck_done, f);
	admin_lameduck(f->a, lameduck_done, f);	/* once is enough */
	/* During lameduck /health and /metrics answer, /ready refuses. */
	assert_get(f, health, "/health", 200, "OK");
	assert_get(f, ready, "/ready", 503, "Shutting down");
	get(f, health, "/metrics", &r);
	assert_int_equal(r.code, 200);
	reply_clear(&r);
	run_until(f, &f->done);
	/* libevent's coarse clock may fire a few milliseconds early. */
	assert_true(f->done_ms - start >= 140);
	assert_get(f, health, "/health", 200, "OK");
}

/* Without a lameduck, done still comes from the loop, not the call. */
static void
test_lameduck_none(void **state)
{
	struct fixture *f = *state;

	listen_health(f, "127.0.0.1:0", 0);
	admin_lameduck(f->a, lameduck_done, f);
	assert_false(f->done);
	run_until(f, &f->done);
}

/* The metric value on the line starting with prefix, from /metrics. */
static double
scrape(struct fixture *f, uint16_t port, const char *prefix)
{
	struct reply r;
	const char *p;
	double	 v = -1;

	get(f, port, "/metrics", &r);
	assert_int_equal(r.code, 200);
	for (p = r.body; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, strlen(prefix)) == 0 &&
		    p[strlen(prefix)] == ' ')
			v = strtod(p + strlen(prefix) + 1, NULL);
	reply_clear(&r);
	return v;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* health asks itself once a second, as CoreDNS does, and times it. */
static void
test_health_self_check(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 0, 100000 };
	uint16_t port;
	long	 deadline = now_ms() + DEADLINE_MS;
	char	 err[256];
	double	 want;
	bool	 tick;
	struct event *ev;

	port = listen_health(f, "127.0.0.1:0", 0);
	listen_prometheus(f, "127.0.0.1:0");
	/* Once a second each listener; IPv6 loopback when the host has it. */
	want = admin_listen_health(f->a, "[::1]:0", 0, err, sizeof(err)) == 0 ?
	    2 : 1;
	while (scrape(f, port, "coredns_health_request_duration_seconds_"
	    "count") < want) {
		if (now_ms() > deadline)
			fail_msg("no self-check in %d ms", DEADLINE_MS);
		tick = false;
		ev = evtimer_new(f->base, tick_cb, &tick);
		evtimer_add(ev, &tv);
		run_until(f, &tick);
		event_free(ev);
	}
	assert_true(scrape(f, port, "coredns_health_request_failures_total") ==
	    0);
	assert_true(scrape(f, port, "coredns_health_request_duration_seconds_"
	    "bucket{le=\"0.25\"}") >= 1);
}

/* A Corefile of one block with line as its only directive. */
static struct corefile *
directive(const char *line)
{
	struct corefile *cf;
	char	 text[512], err[256];

	snprintf(text, sizeof(text), ". {\n%s\n}\n", line);
	if ((cf = corefile_parse("T", text, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	return cf;
}

static const struct corefile_line *
first(const struct corefile *cf)
{
	return corefile_first(corefile_block(cf, 0));
}

static void
test_parse_health(void **state)
{
	static const struct {
		const char *text, *addr;
		int	 ms;
	} good[] = {
		{ "health", ":8080", 0 },
		{ "health :8081", ":8081", 0 },
		{ "health 0.0.0.0:8080 {\n lameduck 5s\n}", "0.0.0.0:8080",
		  5000 },
		{ "health [::]:8080", "[::]:8080", 0 },
		{ "health localhost:8092 {\n lameduck 1s\n}", "localhost:8092",
		  1000 },
		{ "health {\n lameduck 1.5s\n lameduck 250ms\n}", ":8080",
		  250 },
		{ "health {\n lameduck 1m30s\n}", ":8080", 90000 },
		{ "health {\n lameduck -1s\n}", ":8080", 0 },
		{ "health [fe80::1%eth0]:8080", "[fe80::1%eth0]:8080", 0 },
	};
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "health 8080", "T:2: health: address '8080': missing port in "
		  "address" },
		{ "health :8080 :8081", "T:2: health: wrong number of "
		  "arguments (2); takes [ADDRESS]" },
		{ "health ::1:8080", "T:2: health: address '::1:8080': "
		  "too many colons in address" },
		{ "health [::1]", "T:2: health: address '[::1]': "
		  "missing port in address" },
		{ "health [::1]8080", "T:2: health: address '[::1]8080': "
		  "missing port in address" },
		{ "health [::1:8080", "T:2: health: address '[::1:8080': "
		  "missing ']' in address" },
		{ "health a]:8080", "T:2: health: address 'a]:8080': "
		  "unexpected ']' in address" },
		{ "health :99999", "T:2: health: address ':99999': "
		  "invalid port '99999'" },
		{ "health :http", "T:2: health: address ':http': invalid port "
		  "'http'" },
		{ "health {\n lameduck\n}", "T:3: health option 'lameduck': "
		  "wrong number of arguments (0)" },
		{ "health {\n lameduck 5x\n}", "T:3: health option 'lameduck': "
		  "invalid duration '5x' (as 5s or 500ms)" },
		{ "health {\n lameduck 5\n}", "T:3: health option 'lameduck': "
		  "invalid duration '5' (as 5s or 500ms)" },
		{ "health {\n lameduck 5s {\n }\n}", "T:3: health option "
		  "'lameduck': takes no block" },
		{ "health {\n timeout 5s\n}", "T:3: health: unknown option "
		  "'timeout'" },
	};
	struct corefile *cf;
	char	*addr, err[256];
	size_t	 i;
	int	 ms;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cf = directive(good[i].text);
		ms = -1;
		if (admin_health_parse(first(cf), &addr, &ms, err,
		    sizeof(err)) == -1)
			fail_msg("%s: %s", good[i].text, err);
		assert_string_equal(addr, good[i].addr);
		assert_int_equal(ms, good[i].ms);
		free(addr);
		corefile_free(cf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = directive(bad[i].text);
		addr = NULL;
		if (admin_health_parse(first(cf), &addr, &ms, err,
		    sizeof(err)) != -1)
			fail_msg("%s: parsed", bad[i].text);
		assert_null(addr);
		if (strcmp(err, bad[i].want) != 0)
			fail_msg("%s:\n got  %s\n want %s", bad[i].text, err,
			    bad[i].want);
		corefile_free(cf);
	}
}

static void
test_parse_ready(void **state)
{
	static const struct {
		const char *text, *addr;
		bool	 cont;
	} good[] = {
		{ "ready", ":8181", false },
		{ "ready localhost:1234", "localhost:1234", false },
		{ "ready {\n monitor until-ready\n}", ":8181", false },
		{ "ready {\n monitor continuously\n}", ":8181", true },
		{ "ready localhost:1234 {\n monitor continuously\n}",
		  "localhost:1234", true },
		{ "ready {\n monitor continuously\n monitor until-ready\n}",
		  ":8181", false },
	};
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "ready bla", "T:2: ready: address 'bla': missing port in "
		  "address" },
		{ "ready bla bla", "T:2: ready: wrong number of arguments (2); "
		  "takes [ADDRESS]" },
		{ "ready localhost:1234 b", "T:2: ready: wrong number of "
		  "arguments (2); takes [ADDRESS]" },
		{ "ready localhost:1234 {\n monitor 404\n}", "T:3: ready "
		  "option 'monitor': unknown mode '404' (until-ready or "
		  "continuously)" },
		{ "ready {\n monitro continuously\n}", "T:3: ready: unknown "
		  "option 'monitro'" },
		{ "ready {\n monitor\n}", "T:3: ready option 'monitor': wrong "
		  "number of arguments (0)" },
		{ "ready {\n monitor continuously extra\n}", "T:3: ready "
		  "option 'monitor': wrong number of arguments (2)" },
	};
	struct corefile *cf;
	char	*addr, err[256];
	bool	 cont;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cf = directive(good[i].text);
		cont = !good[i].cont;
		if (admin_ready_parse(first(cf), &addr, &cont, err,
		    sizeof(err)) == -1)
			fail_msg("%s: %s", good[i].text, err);
		assert_string_equal(addr, good[i].addr);
		assert_int_equal(cont, good[i].cont);
		free(addr);
		corefile_free(cf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = directive(bad[i].text);
		if (admin_ready_parse(first(cf), &addr, &cont, err,
		    sizeof(err)) != -1)
			fail_msg("%s: parsed", bad[i].text);
		if (strcmp(err, bad[i].want) != 0)
			fail_msg("%s:\n got  %s\n want %s", bad[i].text, err,
			    bad[i].want);
		corefile_free(cf);
	}
}

static void
test_parse_prometheus(void **state)
{
	static const struct {
		const char *text, *addr;
	} good[] = {
		{ "prometheus", "localhost:9153" },
		{ "prometheus :9153", ":9153" },
		{ "prometheus localhost:9253", "localhost:9253" },
		{ "prometheus [::1]:9153", "[::1]:9153" },
		{ "prometheus {\n runtime_metrics\n}", "localhost:9153" },
	};
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "prometheus 9153", "T:2: prometheus: address '9153': missing "
		  "port in address" },
		{ "prometheus :9153 :9154", "T:2: prometheus: wrong number of "
		  "arguments (2); takes [ADDRESS]" },
		{ "prometheus {\n tls /etc/coredns/web.yml\n}", "T:3: "
		  "prometheus option 'tls': not supported by petdns (serve "
		  "/metrics over plain HTTP)" },
		{ "prometheus {\n runtime_metrics yes\n}", "T:3: prometheus "
		  "option 'runtime_metrics': wrong number of arguments (1)" },
		{ "prometheus {\n path /m\n}", "T:3: prometheus: unknown "
		  "option 'path'" },
	};
	struct corefile *cf;
	char	*addr, err[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cf = directive(good[i].text);
		if (admin_prometheus_parse(first(cf), &addr, err,
		    sizeof(err)) == -1)
			fail_msg("%s: %s", good[i].text, err);
		assert_string_equal(addr, good[i].addr);
		free(addr);
		corefile_free(cf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = directive(bad[i].text);
		if (admin_prometheus_parse(first(cf), &addr, err,
		    sizeof(err)) != -1)
			fail_msg("%s: parsed", bad[i].text);
		if (strcmp(err, bad[i].want) != 0)
			fail_msg("%s:\n got  %s\n want %s", bad[i].text, err,
			    bad[i].want);
		corefile_free(cf);
	}
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_health),
		T(test_ready),
		T(test_ready_continuously),
		T(test_metrics_endpoint),
		T(test_shared_listener),
		T(test_wildcard),
		T(test_listen_errors),
		T(test_lameduck),
		T(test_lameduck_none),
		T(test_health_self_check),
		cmocka_unit_test(test_parse_health),
		cmocka_unit_test(test_parse_ready),
		cmocka_unit_test(test_parse_prometheus),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
