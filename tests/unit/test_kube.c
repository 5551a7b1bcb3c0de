/* test_kube.c -- the API client against a local HTTP(S) server (server.py). */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "kube.h"
#include "kubeconfig.h"

#ifndef TESTDATA
#define TESTDATA "tests/data"
#endif

#define SERVER_PY	TESTDATA "/kube/server.py"
#define MKCERTS_SH	TESTDATA "/kube/mkcerts.sh"
#define JSON_BODY	"{\"kind\":\"Status\",\"status\":\"Success\"}\n"

/* The test server: a python3 child, ports read from its first line. */
struct server {
	pid_t	 pid;
	int	 stdin_fd;	/* closing it ends the server */
	int	 http, https, mtls;
	bool	 tls;		/* certificates made, TLS ports up */
	char	 dir[64];
	char	 path[128];	/* scratch for file names in dir */
	char	 token[128];	/* the token file /auth checks */
};

static struct server srv;

/* What one request saw. */
struct res {
	struct kube		*k;
	struct kube_request	*req;
	int			 status;
	int			 retry_after;
	char			 err[512];
	bool			 has_err;
	int			 done_calls;
	int			 chunks;
	char			 body[8192];
	size_t			 len;
	/*
	 * What the body callback does: cancel itself at a chunk number (0:
	 * never); on the first chunk, cancel another and GET get_path.
	 */
	int			 cancel_self_at;
	struct res		*cancel_other;
	int			 other_chunks_at_cancel;
	const char		*get_path;
	struct res		*get_res;
	/* What the done callback does: chain more GETs of chain_path. */
	int			 chain;
	const char		*chain_path;
	struct res		*done_cancel;
	bool			 cancel_self_in_done;
	/* After chaining, wait in done for the server to have the request. */
	bool			 chain_wait_mark;
	bool			 mark_seen;
};

struct fixture {
	struct event_base	*base;
	struct kube		*k;	/* plain HTTP, no token */
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
srv_file(const char *name)
{
	snprintf(srv.path, sizeof(srv.path), "%s/%s", srv.dir, name);
	return srv.path;
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	assert_non_null(f);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
json_port(const char *line, const char *key)
{
	char		 pat[32];
	const char	*p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	if ((p = strstr(line, pat)) == NULL)
		return 0;
	return atoi(p + strlen(pat));
}

/* Reads the server's first line, waiting at most secs. */
static int
read_line(int fd, char *buf, size_t size, int secs)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	size_t		len = 0;
	ssize_t		n;

	while (len + 1 < size) {
		if (poll(&pfd, 1, secs * 1000) != 1)
			return -1;
		if ((n = read(fd, buf + len, 1)) != 1)
			return -1;
		if (buf[len++] == '\n')
			break;
	}
	buf[len] = '\0';
	return 0;
}

static int
server_start(void **state)
{
	int	 in[2], out[2];
	char	 cmd[256], line[256], cert[128], key[128], ca[128];

	signal(SIGPIPE, SIG_IGN);
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/kube-test-XXXXXX");
	if (mkdtemp(srv.dir) == NULL)
		return -1;
	snprintf(srv.token, sizeof(srv.token), "%s/token", srv.dir);
	write_file(srv.token, "tok-one\n");
	snprintf(cmd, sizeof(cmd), "sh %s %s", MKCERTS_SH, srv.dir);
	srv.tls = system("command -v openssl >/dev/null") == 0 &&
	    system(cmd) == 0;
	snprintf(cert, sizeof(cert), "%s/server.crt", srv.dir);
	snprintf(key, sizeof(key), "%s/server.key", srv.dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", srv.dir);
	if (pipe(in) == -1 || pipe(out) == -1)
		return -1;
	if ((srv.pid = fork()) == -1)
		return -1;
	if (srv.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (srv.tls)
			execlp("python3", "python3", SERVER_PY, "--token-file",
			    srv.token, "--cert", cert, "--key", key,
			    "--client-ca", ca, (char *)NULL);
		else
			execlp("python3", "python3", SERVER_PY, "--token-file",
			    srv.token, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	srv.stdin_fd = in[1];
	if (read_line(out[0], line, sizeof(line), 20) == -1) {
		close(out[0]);
		fprintf(stderr, "test server did not start\n");
		return -1;
	}
	close(out[0]);
	srv.http = json_port(line, "http");
	srv.https = json_port(line, "https");
	srv.mtls = json_port(line, "mtls");
	if (srv.tls && (srv.https == 0 || srv.mtls == 0))
		srv.tls = false;
	return srv.http > 0 ? 0 : -1;
}

static int
server_stop(void **state)
{
	char	cmd[128];

	if (srv.pid > 0) {
		close(srv.stdin_fd);
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	if (srv.dir[0] != '\0' && strncmp(srv.dir, "/tmp/kube-", 10) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void
auth_init(struct kube_auth *a, const char *scheme, int port)
{
	static char	server[64];

	memset(a, 0, sizeof(*a));
	snprintf(server, sizeof(server), "%s://127.0.0.1:%d", scheme, port);
	a->server = server;
}

static struct kube *
client(struct event_base *base, const struct kube_auth *a)
{
	char		 err[256] = "";
	struct kube	*k = kube_new(base, a, err, sizeof(err));

	if (k == NULL)
		fail_msg("kube_new: %s", err);
	return k;
}

static int
setup(void **state)
{
	struct fixture		*f = calloc(1, sizeof(*f));
	struct kube_auth	 a;

	if (f == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	auth_init(&a, "http", srv.http);
	f->k = client(f->base, &a);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	kube_free(f->k);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void	done_cb(int, const char *, int, void *);

static void
body_cb(const char *data, size_t len, void *arg)
{
	struct res	*r = arg;
	struct res	*o;

	assert_int_equal(r->done_calls, 0);
	r->chunks++;
	assert_true(r->len + len < sizeof(r->body));
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	if (r->chunks == r->cancel_self_at)
		kube_cancel(r->req);
	if (r->chunks == 1 && (o = r->cancel_other) != NULL) {
		r->other_chunks_at_cancel = o->chunks;
		kube_cancel(o->req);
	}
	if (r->chunks == 1 && r->get_path != NULL) {
		r->get_res->k = r->k;
		r->get_res->req = kube_get(r->k, r->get_path, 5, body_cb,
		    done_cb, r->get_res);
		assert_non_null(r->get_res->req);
	}
}

static void
done_cb(int status, const char *err, int retry_after, void *arg)
{
	struct res	*r = arg;

	r->done_calls++;
	r->status = status;
	r->retry_after = retry_after;
	r->has_err = err != NULL;
	snprintf(r->err, sizeof(r->err), "%s", err != NULL ? err : "");
	if (r->cancel_self_in_done)
		kube_cancel(r->req);
	if (r->done_cancel != NULL)
		kube_cancel(r->done_cancel->req);
	if (r->chain > 0) {
		r->chain--;
		r->req = kube_get(r->k, r->chain_path, 5, body_cb, done_cb, r);
		assert_non_null(r->req);
		for (int i = 0; r->chain_wait_mark && !r->mark_seen && i < 500;
		    i++) {
			r->mark_seen = access(srv_file("mark"), F_OK) == 0;
			usleep(10000);
		}
		r->done_calls = 0;
		r->len = 0;
		r->body[0] = '\0';
	}
}

/* Starts method path on k, recorded in r. */
static void
start(struct kube *k, struct res *r, const char *method, const char *path,
    const char *body, const char *ctype, int idle_s)
{
	r->k = k;
	r->req = kube_send(k, method, path, body, ctype, idle_s, body_cb,
	    done_cb, r);
	assert_non_null(r->req);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

static bool
all_done(struct res **rs)
{
	for (; *rs != NULL; rs++)
		if ((*rs)->done_calls == 0)
			return false;
	return true;
}

/*
 * Runs the loop until every request in rs ended (rs NULL: until the
 * deadline); false when the deadline came first.
 */
static bool
run(struct event_base *base, double secs, struct res **rs,
    bool (*pred)(void *), void *arg)
{
	struct timeval	 tv;
	struct event	*t;
	bool		 expired = false;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	t = evtimer_new(base, expire_cb, &expired);
	evtimer_add(t, &tv);
	while (!expired && !(rs != NULL && all_done(rs)) &&
	    !(pred != NULL && pred(arg)))
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return !expired;
}

#define WAIT(base, secs, ...) \
	run((base), (secs), (struct res *[]){ __VA_ARGS__, NULL }, NULL, NULL)

/* How many /forever clients the server saw go away. */
static int
forever_closed(struct fixture *f)
{
	struct res	r = { 0 };

	start(f->k, &r, "GET", "/stats", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "forever_closed="));
	return atoi(strchr(r.body, '=') + 1);
}

/* Waits until the server saw more than n /forever clients go away. */
static bool
forever_closed_above(struct fixture *f, int n)
{
	double	end = now_s() + 10;

	while (now_s() < end) {
		if (forever_closed(f) > n)
			return true;
		run(f->base, 0.05, NULL, NULL, NULL);
	}
	return false;
}

static void
test_new_rejects_bad_config(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	char			 err[256];

	auth_init(&a, "ftp", srv.http);
	err[0] = '\0';
	assert_null(kube_new(f->base, &a, err, sizeof(err)));
	assert_non_null(strstr(err, "ftp://127.0.0.1"));
	a.server = "https://";
	err[0] = '\0';
	assert_null(kube_new(f->base, &a, err, sizeof(err)));
	assert_non_null(strstr(err, "not an http"));
	a.server = NULL;
	assert_null(kube_new(f->base, &a, err, sizeof(err)));
	auth_init(&a, "https", srv.http);
	a.ca_file = "/nonexistent/ca.crt";
	err[0] = '\0';
	assert_null(kube_new(f->base, &a, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.crt"));
	kube_free(NULL);
}

static void
test_send_rejects_bad_request(void **state)
{
	struct fixture	*f = *state;
	struct res	 r = { 0 };

	assert_null(kube_send(f->k, "FETCH", "/json", NULL, NULL, 0, body_cb,
	    done_cb, &r));
	assert_null(kube_get(f->k, "json", 0, body_cb, done_cb, &r));
	kube_cancel(NULL);
	/* The client still works, and nothing was called for the refusals. */
	start(f->k, &r, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r));
	assert_int_equal(r.done_calls, 1);
	assert_int_equal(r.status, 200);
}

static void
test_get_json(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k;
	struct res		 r = { 0 };
	char			 server[64];

	/* A trailing slash on the server URL is dropped. */
	memset(&a, 0, sizeof(a));
	snprintf(server, sizeof(server), "http://127.0.0.1:%d/", srv.http);
	a.server = server;
	k = client(f->base, &a);
	start(k, &r, "GET", "/json?limit=1", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r));
	kube_free(k);
	assert_int_equal(r.done_calls, 1);
	assert_false(r.has_err);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.retry_after, 0);
	assert_string_equal(r.body, JSON_BODY);
	assert_true(r.chunks >= 1);
}

static void
test_methods_and_headers(void **state)
{
	struct fixture	*f = *state;
	struct res	 get = { 0 }, post = { 0 }, patch = { 0 };
	struct res	 del = { 0 }, head = { 0 }, put = { 0 };

	start(f->k, &get, "GET", "/echo", NULL, "text/ignored", 5);
	start(f->k, &post, "POST", "/echo", "{\"a\":1}", "application/json",
	    5);
	start(f->k, &patch, "PATCH", "/echo", "{\"b\":2}",
	    "application/merge-patch+json", 5);
	start(f->k, &del, "DELETE", "/echo", NULL, "application/json", 5);
	start(f->k, &head, "HEAD", "/json", NULL, NULL, 5);
	start(f->k, &put, "PUT", "/echo", NULL, "application/json", 5);
	assert_true(WAIT(f->base, 10, &get, &post, &patch, &del, &head,
	    &put));

	assert_int_equal(get.status, 200);
	assert_non_null(strstr(get.body, "method=GET\n"));
	assert_non_null(strstr(get.body, "accept=application/json\n"));
#ifdef PACKAGE_VERSION
	assert_non_null(strstr(get.body, "user-agent=petdns/" PACKAGE_VERSION
	    "\n"));
#else
	assert_non_null(strstr(get.body, "user-agent=petdns/"));
#endif
	assert_non_null(strstr(get.body, "authorization=None\n"));
	assert_non_null(strstr(get.body, "content-type=None\n"));

	assert_int_equal(post.status, 200);
	assert_non_null(strstr(post.body, "method=POST\n"));
	assert_non_null(strstr(post.body, "content-type=application/json\n"));
	assert_non_null(strstr(post.body, "body={\"a\":1}\n"));

	assert_int_equal(patch.status, 200);
	assert_non_null(strstr(patch.body, "method=PATCH\n"));
	assert_non_null(strstr(patch.body,
	    "content-type=application/merge-patch+json\n"));
	assert_non_null(strstr(patch.body, "body={\"b\":2}\n"));

	assert_int_equal(del.status, 200);
	assert_non_null(strstr(del.body, "method=DELETE\n"));
	assert_non_null(strstr(del.body, "content-type=None\n"));

	assert_int_equal(head.status, 200);
	assert_false(head.has_err);
	assert_int_equal(head.len, 0);

	/* No body: no type, and not curl's form encoding either. */
	assert_int_equal(put.status, 200);
	assert_non_null(strstr(put.body, "method=PUT\n"));
	assert_non_null(strstr(put.body, "content-type=None\n"));
	assert_non_null(strstr(put.body, "body=\n"));
}

/* The first line arrives before the end; the end needs a second request. */
static void
test_stream_chunks_before_end(void **state)
{
	struct fixture	*f = *state;
	struct res	 r = { 0 }, rel = { 0 };
	double		 t0 = now_s();

	/* The server holds the end for 30 s unless released. */
	r.get_path = "/release";
	r.get_res = &rel;
	start(f->k, &r, "GET", "/stream", NULL, NULL, 5);
	assert_true(WAIT(f->base, 15, &r, &rel));
	assert_true(now_s() - t0 < 10);
	assert_int_equal(rel.status, 200);
	assert_string_equal(rel.body, "released");
	assert_int_equal(r.status, 200);
	assert_false(r.has_err);
	assert_string_equal(r.body, "line 1\nline 2\n");
	/* The release went out from inside the first chunk's callback. */
	assert_true(r.chunks >= 2);
}

static bool
has_chunk(void *arg)
{
	return ((struct res *)arg)->chunks > 0;
}

static void
test_cancel_in_body(void **state)
{
	struct fixture	*f = *state;
	struct res	 r = { 0 };
	int		 closed = forever_closed(f);

	r.cancel_self_at = 2;
	start(f->k, &r, "GET", "/forever", NULL, NULL, 5);
	/* The server sees the connection go; no callback comes after cancel. */
	assert_true(forever_closed_above(f, closed));
	assert_int_equal(r.chunks, 2);
	assert_int_equal(r.done_calls, 0);
}

static void
test_cancel_other_in_body(void **state)
{
	struct fixture	*f = *state;
	struct res	 victim = { 0 }, r = { 0 };
	int		 closed = forever_closed(f);

	start(f->k, &victim, "GET", "/forever", NULL, NULL, 5);
	assert_true(run(f->base, 10, NULL, has_chunk, &victim));
	r.cancel_other = &victim;
	start(f->k, &r, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r));
	assert_int_equal(r.status, 200);
	assert_true(forever_closed_above(f, closed));
	assert_int_equal(victim.done_calls, 0);
	assert_int_equal(victim.chunks, r.other_chunks_at_cancel);
}

static void
test_send_and_cancel_in_done(void **state)
{
	struct fixture	*f = *state;
	struct res	 chain = { 0 }, victim = { 0 }, r = { 0 };
	int		 closed = forever_closed(f);

	/* Each done starts the next GET and cancels its own ended request. */
	chain.chain = 3;
	chain.chain_path = "/json";
	chain.cancel_self_in_done = true;
	start(f->k, &chain, "GET", "/json", NULL, NULL, 5);

	start(f->k, &victim, "GET", "/forever", NULL, NULL, 5);
	assert_true(run(f->base, 10, NULL, has_chunk, &victim));
	r.done_cancel = &victim;
	start(f->k, &r, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r, &chain));
	assert_int_equal(chain.chain, 0);
	assert_int_equal(chain.done_calls, 1);
	assert_int_equal(chain.status, 200);
	assert_string_equal(chain.body, JSON_BODY);
	assert_true(forever_closed_above(f, closed));
	assert_int_equal(victim.done_calls, 0);
}

/*
 * A request made in a done callback reaches the server before the callback
 * returns (a LIST's next page is asked for before this one is decoded).
 */
static void
test_send_in_done_goes_at_once(void **state)
{
	struct fixture	*f = *state;
	struct res	 r = { 0 };

	unlink(srv_file("mark"));
	r.chain = 1;
	r.chain_path = "/mark";
	r.chain_wait_mark = true;
	start(f->k, &r, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r));
	assert_true(r.mark_seen);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "marked");
}

static void
test_cancel_before_start(void **state)
{
	struct fixture	*f = *state;
	struct res	 r = { 0 }, other = { 0 };

	start(f->k, &r, "GET", "/json", NULL, NULL, 5);
	kube_cancel(r.req);
	start(f->k, &other, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &other));
	assert_int_equal(other.status, 200);
	assert_int_equal(r.done_calls, 0);
	assert_int_equal(r.chunks, 0);
}

/* A 401 makes the next request re-read the rotated token file. */
static void
test_token_reread_after_401(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k;
	struct res		 r1 = { 0 }, r2 = { 0 }, r3 = { 0 };

	write_file(srv.token, "tok-one\n");
	auth_init(&a, "http", srv.http);
	a.token = "static-ignored";
	a.token_file = srv.token;
	k = client(f->base, &a);
	start(k, &r1, "GET", "/auth", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r1));
	assert_int_equal(r1.status, 200);
	assert_string_equal(r1.body, "Bearer tok-one");

	/* Within the minute the client keeps its token: the server says 401. */
	write_file(srv.token, "tok-two\n");
	start(k, &r2, "GET", "/auth", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r2));
	assert_int_equal(r2.status, 401);
	assert_false(r2.has_err);
	/* An error's body is not data: body_fn never sees it. */
	assert_int_equal(r2.chunks, 0);

	start(k, &r3, "GET", "/auth", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r3));
	assert_int_equal(r3.status, 200);
	assert_string_equal(r3.body, "Bearer tok-two");
	kube_free(k);
	write_file(srv.token, "tok-one\n");
}

static void
test_static_token(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k1, *k2;
	struct res		 r1 = { 0 }, r2 = { 0 };

	auth_init(&a, "http", srv.http);
	a.token = "static-tok";
	k1 = client(f->base, &a);
	/* An unreadable token file falls back to the static token. */
	a.token_file = "/nonexistent/token";
	k2 = client(f->base, &a);
	start(k1, &r1, "GET", "/echo", NULL, NULL, 5);
	start(k2, &r2, "GET", "/echo", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &r1, &r2));
	assert_non_null(strstr(r1.body, "authorization=Bearer static-tok\n"));
	assert_non_null(strstr(r2.body, "authorization=Bearer static-tok\n"));
	kube_free(k1);
	kube_free(k2);
}

static void
test_retry_after(void **state)
{
	struct fixture	*f = *state;
	struct res	 secs = { 0 }, date = { 0 };

	start(f->k, &secs, "GET", "/busy", NULL, NULL, 5);
	start(f->k, &date, "GET", "/busy-date", NULL, NULL, 5);
	assert_true(WAIT(f->base, 10, &secs, &date));
	assert_int_equal(secs.status, 429);
	assert_false(secs.has_err);
	assert_int_equal(secs.retry_after, 3);
	assert_int_equal(secs.chunks, 0);
	assert_int_equal(date.status, 503);
	assert_false(date.has_err);
	assert_in_range(date.retry_after, 100, 121);
}

/* Silence before the headers and in the middle of a stream. */
static void
test_idle_timeout(void **state)
{
	struct fixture	*f = *state;
	struct res	 before = { 0 }, mid = { 0 }, ok = { 0 };
	double		 t0 = now_s();

	start(f->k, &before, "GET", "/stall", NULL, NULL, 1);
	start(f->k, &mid, "GET", "/stall-mid", NULL, NULL, 1);
	start(f->k, &ok, "GET", "/json", NULL, NULL, 1);
	assert_true(WAIT(f->base, 20, &before, &mid, &ok));
	assert_true(now_s() - t0 >= 1.0);
	assert_int_equal(ok.status, 200);
	assert_false(ok.has_err);
	assert_int_equal(before.status, 0);
	assert_true(before.has_err);
	assert_non_null(strstr(before.err, "slow"));
	assert_int_equal(mid.status, 200);
	assert_true(mid.has_err);
	assert_non_null(strstr(mid.err, "slow"));
	assert_string_equal(mid.body, "x\n");
}

static void
test_connection_refused(void **state)
{
	struct fixture		*f = *state;
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	struct kube_auth	 a;
	struct kube		*k;
	struct res		 r = { 0 };
	int			 s;

	/* Bound, not listening: the port is ours and refuses. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	auth_init(&a, "http", ntohs(sin.sin_port));
	k = client(f->base, &a);
	start(k, &r, "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 15, &r));
	assert_int_equal(r.status, 0);
	assert_true(r.has_err);
	assert_true(strlen(r.err) > 0);
	assert_int_equal(r.chunks, 0);
	kube_free(k);
	close(s);
}

static void
test_tls_server_verification(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k[5];
	struct res		 r[5];
	char			*ca_data, ca_file[128], other[128];
	size_t			 i;

	if (!srv.tls)
		skip();
	memset(r, 0, sizeof(r));
	snprintf(ca_file, sizeof(ca_file), "%s", srv_file("ca.crt"));
	snprintf(other, sizeof(other), "%s", srv_file("other.crt"));
	ca_data = slurp(ca_file);
	auth_init(&a, "https", srv.https);
	a.ca_file = ca_file;
	k[0] = client(f->base, &a);
	a.ca_file = NULL;
	a.ca_data = ca_data;
	k[1] = client(f->base, &a);
	a.ca_data = NULL;
	a.ca_file = other;
	k[2] = client(f->base, &a);
	a.ca_file = NULL;
	k[3] = client(f->base, &a);	/* the system's CAs only */
	a.insecure = true;
	k[4] = client(f->base, &a);
	for (i = 0; i < 5; i++)
		start(k[i], &r[i], "GET", "/json", NULL, NULL, 5);
	assert_true(WAIT(f->base, 15, &r[0], &r[1], &r[2], &r[3], &r[4]));

	for (i = 0; i < 5; i++)
		if (i != 2 && i != 3) {
			assert_false(r[i].has_err);
			assert_int_equal(r[i].status, 200);
			assert_non_null(strstr(r[i].body, "Success"));
		}
	for (i = 2; i <= 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_true(r[i].has_err);
		assert_non_null(strstr(r[i].err, "certificate"));
		assert_int_equal(r[i].chunks, 0);
	}
	for (i = 0; i < 5; i++)
		kube_free(k[i]);
	free(ca_data);
}

static void
test_tls_client_certificate(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k[3];
	struct res		 r[3];
	char			 ca[128], cert[128], key[128];
	size_t			 i;

	if (!srv.tls)
		skip();
	memset(r, 0, sizeof(r));
	snprintf(ca, sizeof(ca), "%s", srv_file("ca.crt"));
	snprintf(cert, sizeof(cert), "%s", srv_file("client.crt"));
	snprintf(key, sizeof(key), "%s", srv_file("client.key"));
	auth_init(&a, "https", srv.mtls);
	a.ca_file = ca;
	a.cert_file = cert;
	a.key_file = key;
	k[0] = client(f->base, &a);
	a.cert_file = a.key_file = NULL;
	a.cert_data = slurp(cert);
	a.key_data = slurp(key);
	k[1] = client(f->base, &a);
	free(a.cert_data);
	free(a.key_data);
	a.cert_data = a.key_data = NULL;
	k[2] = client(f->base, &a);
	for (i = 0; i < 3; i++)
		start(k[i], &r[i], "GET", "/whoami", NULL, NULL, 5);
	assert_true(WAIT(f->base, 15, &r[0], &r[1], &r[2]));
	for (i = 0; i < 2; i++) {
		assert_false(r[i].has_err);
		assert_int_equal(r[i].status, 200);
		assert_string_equal(r[i].body, "petdns-test-client");
	}
	assert_int_equal(r[2].status, 0);
	assert_true(r[2].has_err);
	for (i = 0; i < 3; i++)
		kube_free(k[i]);
}

/* kube_free with transfers in every state calls no done and leaks nothing. */
static void
test_free_with_requests_in_flight(void **state)
{
	struct fixture		*f = *state;
	struct kube_auth	 a;
	struct kube		*k;
	struct res		 stream = { 0 }, stall = { 0 }, fresh = { 0 };
	int			 closed = forever_closed(f);

	auth_init(&a, "http", srv.http);
	k = client(f->base, &a);
	start(k, &stream, "GET", "/forever", NULL, NULL, 5);
	start(k, &stall, "GET", "/stall", NULL, NULL, 0);
	assert_true(run(f->base, 10, NULL, has_chunk, &stream));
	start(k, &fresh, "GET", "/json", NULL, NULL, 5);
	kube_free(k);
	assert_true(forever_closed_above(f, closed));
	assert_int_equal(stream.done_calls, 0);
	assert_int_equal(stall.done_calls, 0);
	assert_int_equal(fresh.done_calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_rejects_bad_config,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_rejects_bad_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_methods_and_headers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_chunks_before_end,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_in_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel_other_in_body,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_and_cancel_in_done,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_in_done_goes_at_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_start,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_reread_after_401,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_server_verification,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_client_certificate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_free_with_requests_in_flight, setup, teardown),
	};

	return cmocka_run_group_tests(tests, server_start, server_stop);
}
