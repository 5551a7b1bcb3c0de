/* kube.c -- HTTP to the Kubernetes API: curl's multi socket API on libevent. */
#include <sys/types.h>
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "kube.h"
#include "kubeconfig.h"
#include "log.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#if LIBCURL_VERSION_NUM < 0x074d00
#error "libcurl 7.77.0 or later is needed (CURLOPT_CAINFO_BLOB)"
#endif

#ifdef CURL_WRITEFUNC_ERROR
#define KUBE_WRITE_ABORT	CURL_WRITEFUNC_ERROR
#else
#define KUBE_WRITE_ABORT	((size_t)-1)
#endif

#define KUBE_USER_AGENT		"petdns/" PACKAGE_VERSION
#define KUBE_CONNECT_S		10L
#define KUBE_KEEPALIVE_S	30L
/* client-go re-reads a token file every minute, too. */
#define KUBE_TOKEN_TTL_S	60
/* Retry-After beyond a day is taken as a day. */
#define KUBE_RETRY_MAX_S	86400
/*
 * Body bytes one transfer hands over per event-loop turn. curl reads a
 * busy watch for as long as data is there: without a pause, 1,000 endpoint
 * changes a second kept the loop from answering queries (and from
 * publishing the changes) for seconds.
 */
#define KUBE_TURN_BYTES		65536

/*
 * A request's life. WAITING and CANCELLED are deferred work: curl refuses
 * multi calls from inside its callbacks, so requests started or cancelled
 * from a body callback are added or removed after curl returns.
 */
enum kube_req_state {
	KUBE_REQ_WAITING,	/* made in a curl callback, not added */
	KUBE_REQ_RUNNING,	/* in the multi handle */
	KUBE_REQ_CANCELLED,	/* in the multi handle, to be removed */
	KUBE_REQ_ENDING,	/* its done is being called */
};

struct kube_request {
	struct kube		*k;
	CURL			*easy;
	struct curl_slist	*headers;
	kube_body_fn		 body_fn;
	kube_done_fn		 done_fn;
	void			*arg;
	enum kube_req_state	 state;
	bool			 in_multi;
	bool			 has_retry;
	int			 retry_after;
	size_t			 turn_bytes;	/* body bytes this loop turn */
	struct event		*resume;	/* paused: go on next turn */
	char			 errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(kube_request) entry;
};

/* One socket curl asked us to watch. */
struct kube_sock {
	struct event		 ev;
	LIST_ENTRY(kube_sock)	 entry;
};

struct kube {
	struct event_base	*base;
	CURLM			*multi;
	CURL			*proto;	/* options to copy */
	struct event		*timer;
	char			*server;
	/* The bearer token, and when its file was last read (monotonic). */
	char			*token;
	char			*token_file;
	time_t			 token_at;
	bool			 token_read;	/* read at least once */
	bool			 token_stale;	/* a 401 since */
	bool			 token_failing;	/* warned already */
	int			 in_curl;	/* in socket_action */
	int			 in_done;	/* in a done callback */
	int			 ndeferred;	/* WAITING + CANCELLED */
	TAILQ_HEAD(, kube_request) requests;
	LIST_HEAD(, kube_sock)	 socks;
};

static void	kube_settle(struct kube *);

static time_t
kube_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Re-reads the token file when a minute passed or the server said 401. */
static void
kube_token_refresh(struct kube *k)
{
	time_t	 now = kube_now();
	char	*t, why[512];

	if (k->token_file == NULL)
		return;
	if (k->token_read && !k->token_stale &&
	    now - k->token_at < KUBE_TOKEN_TTL_S)
		return;
	k->token_read = true;
	k->token_stale = false;
	k->token_at = now;
	if ((t = kubeconfig_read_token(k->token_file, why,
	    sizeof(why))) == NULL) {
		if (!k->token_failing)
			log_warnx("plugin/kubernetes: bearer token %s; keeping "
			    "the last token", why);
		k->token_failing = true;
		return;
	}
	k->token_failing = false;
	if (k->token != NULL) {
		explicit_bzero(k->token, strlen(k->token));
		free(k->token);
	}
	k->token = t;
}

/* Runs curl on one socket or its timeouts, then what curl finished. */
static void
kube_action(struct kube *k, curl_socket_t fd, int action)
{
	int		running;
	CURLMcode	rc;

	k->in_curl++;
	rc = curl_multi_socket_action(k->multi, fd, action, &running);
	k->in_curl--;
	if (rc != CURLM_OK)
		log_warnx("plugin/kubernetes: curl: %s",
		    curl_multi_strerror(rc));
	kube_settle(k);
}

static void
kube_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	int	action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	kube_action(arg, fd, action);
}

static void
kube_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kube_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in a socket in libevent. */
static int
kube_curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct kube		*k = arg;
	struct kube_sock	*ks = sockp;
	short			 kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (ks != NULL) {
			event_del(&ks->ev);
			LIST_REMOVE(ks, entry);
			free(ks);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ks == NULL) {
		ks = xcalloc(1, sizeof(*ks));
		LIST_INSERT_HEAD(&k->socks, ks, entry);
		curl_multi_assign(k->multi, fd, ks);
	} else
		event_del(&ks->ev);
	event_assign(&ks->ev, k->base, fd, kind, kube_sock_event_cb, k);
	return event_add(&ks->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: one libevent timer; curl is called when it fires. */
static int
kube_curl_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct kube	*k = arg;
	struct timeval	 tv;

	if (ms < 0) {
		evtimer_del(k->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(k->timer, &tv) == 0 ? 0 : -1;
}

static void
kube_request_free(struct kube_request *r)
{
	struct kube	*k = r->k;

	if (r->in_multi)
		curl_multi_remove_handle(k->multi, r->easy);
	if (r->resume != NULL)
		event_free(r->resume);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	TAILQ_REMOVE(&k->requests, r, entry);
	free(r);
}

/* A transfer ended: tell the owner unless it cancelled, then free. */
static void
kube_finish(struct kube_request *r, CURLcode result, const char *why)
{
	struct kube	*k = r->k;
	const char	*err = NULL;
	long		 status = 0;

	if (r->in_multi) {
		curl_multi_remove_handle(k->multi, r->easy);
		r->in_multi = false;
	}
	if (r->state == KUBE_REQ_CANCELLED) {
		k->ndeferred--;
		kube_request_free(r);
		return;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 401)
		k->token_stale = true;
	if (why != NULL)
		err = why;
	else if (result != CURLE_OK)
		err = r->errbuf[0] != '\0' ? r->errbuf :
		    curl_easy_strerror(result);
	r->state = KUBE_REQ_ENDING;
	k->in_done++;
	r->done_fn((int)status, err, r->has_retry ? r->retry_after : 0,
	    r->arg);
	k->in_done--;
	kube_request_free(r);
}

/* Tells the owners of the transfers curl finished; true when any had. */
static bool
kube_report(struct kube *k)
{
	struct kube_request	*r;
	CURLMsg			*msg;
	int			 left;
	bool			 any = false;

	while ((msg = curl_multi_info_read(k->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		any = true;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		kube_finish(r, msg->data.result, NULL);
	}
	return any;
}

/*
 * The adds and removals asked for while curl was running; true when one
 * failed (and was reported).
 */
static bool
kube_deferred(struct kube *k)
{
	struct kube_request	*r;
	bool			 failed = false;

	while (k->ndeferred > 0) {
		TAILQ_FOREACH(r, &k->requests, entry)
			if (r->state == KUBE_REQ_WAITING ||
			    r->state == KUBE_REQ_CANCELLED)
				break;
		if (r == NULL)
			break;
		if (r->state == KUBE_REQ_CANCELLED) {
			k->ndeferred--;
			kube_request_free(r);
			continue;
		}
		k->ndeferred--;
		r->state = KUBE_REQ_RUNNING;
		if (curl_multi_add_handle(k->multi, r->easy) == CURLM_OK)
			r->in_multi = true;
		else {
			kube_finish(r, CURLE_OK, "cannot start the request");
			failed = true;
		}
	}
	return failed;
}

/*
 * After curl returns: report finished transfers, then carry out the adds
 * and removals that callbacks asked for while curl was running. Again
 * while any were reported: a request a done callback sent at once (see
 * kube_send) may have run curl meanwhile.
 */
static void
kube_settle(struct kube *k)
{
	bool	reported;

	do {
		reported = kube_report(k);
		reported |= kube_deferred(k);
	} while (reported);
}

/* The next loop turn: the paused transfer reads on. */
static void
kube_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_request	*r = arg;
	struct kube		*k = r->k;

	r->turn_bytes = 0;
	k->in_curl++;
	curl_easy_pause(r->easy, CURLPAUSE_CONT);
	k->in_curl--;
	kube_settle(k);
}

/*
 * Enough for this turn: stop reading until the loop has served what else
 * is ready (a zero timeout fires after the sockets found ready with it).
 */
static void
kube_pause(struct kube_request *r)
{
	struct timeval	tv = { 0, 0 };

	if (r->resume == NULL)
		r->resume = evtimer_new(r->k->base, kube_resume_cb, r);
	if (curl_easy_pause(r->easy, CURLPAUSE_RECV) == CURLE_OK)
		evtimer_add(r->resume, &tv);
}

/*
 * CURLOPT_WRITEFUNCTION: body bytes of a 2xx response go straight to the
 * owner; an error's body (a Status) is no data, and its status says enough.
 */
static size_t
kube_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct kube_request	*r = arg;
	long			 status = 0;

	if (r->state != KUBE_REQ_RUNNING)
		return KUBE_WRITE_ABORT;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return n;
	if (r->body_fn != NULL && n > 0)
		r->body_fn(data, n, r->arg);
	/* Cancelled by its own body callback: stop reading at once. */
	if (r->state != KUBE_REQ_RUNNING)
		return KUBE_WRITE_ABORT;
	if ((r->turn_bytes += n) >= KUBE_TURN_BYTES)
		kube_pause(r);
	return n;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static int
kube_retry_after(const char *v)
{
	long	 s;
	char	*end;
	time_t	 t;

	if (isdigit((unsigned char)*v)) {
		errno = 0;
		s = strtol(v, &end, 10);
		if (errno != 0 || s > KUBE_RETRY_MAX_S)
			return KUBE_RETRY_MAX_S;
		return (int)s;
	}
	if ((t = curl_getdate(v, NULL)) == -1)
		return 0;
	t -= time(NULL);
	if (t < 0)
		return 0;
	return t > KUBE_RETRY_MAX_S ? KUBE_RETRY_MAX_S : (int)t;
}

/* CURLOPT_HEADERFUNCTION: Retry-After; each response starts afresh. */
static size_t
kube_header_cb(char *data, size_t size, size_t n, void *arg)
{
	static const char	 name[] = "retry-after:";
	struct kube_request	*r = arg;
	char			 v[128];
	size_t			 len;

	if (r->state != KUBE_REQ_RUNNING)
		return KUBE_WRITE_ABORT;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		r->has_retry = false;
	if (n < sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	data += sizeof(name) - 1;
	len = n - (sizeof(name) - 1);
	while (len > 0 && isspace((unsigned char)*data))
		data++, len--;
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		len--;
	if (len >= sizeof(v))
		return n;
	memcpy(v, data, len);
	v[len] = '\0';
	r->retry_after = kube_retry_after(v);
	r->has_retry = true;
	return n;
}

static bool
kube_url_ok(const char *url)
{
	const char	*host;

	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return false;
	return *host != '\0' && *host != '/';
}

static int
kube_check_file(const char *what, const char *path, char *err, size_t errlen)
{
	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static void
kube_blob(struct curl_blob *b, const char *pem)
{
	b->data = (void *)pem;
	b->len = strlen(pem);
	b->flags = CURL_BLOB_COPY;
}

/* TLS options; the *_data forms win over the files, as in client-go. */
static CURLcode
kube_proto_tls(CURL *e, const struct kube_auth *a)
{
	struct curl_blob	 b;
	CURLcode		 rc = CURLE_OK;

	if (a->insecure) {
		rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (a->ca_data != NULL || a->ca_file != NULL) {
		/* Only the cluster's CA, not the system's too. */
		rc = curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		kube_blob(&b, a->ca_data != NULL ? a->ca_data : "");
		if (rc == CURLE_OK && a->ca_data != NULL)
			rc = curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
		else if (rc == CURLE_OK)
			rc = curl_easy_setopt(e, CURLOPT_CAINFO, a->ca_file);
	}
	if (rc == CURLE_OK && (a->cert_data != NULL || a->cert_file != NULL))
		rc = curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	if (rc == CURLE_OK && a->cert_data != NULL) {
		kube_blob(&b, a->cert_data);
		rc = curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
	} else if (rc == CURLE_OK && a->cert_file != NULL)
		rc = curl_easy_setopt(e, CURLOPT_SSLCERT, a->cert_file);
	if (rc == CURLE_OK && (a->key_data != NULL || a->key_file != NULL))
		rc = curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	if (rc == CURLE_OK && a->key_data != NULL) {
		kube_blob(&b, a->key_data);
		rc = curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
	} else if (rc == CURLE_OK && a->key_file != NULL)
		rc = curl_easy_setopt(e, CURLOPT_SSLKEY, a->key_file);
	return rc;
}

/*
 * Seconds to connect, TLS handshake included: a server that accepts and
 * never answers costs no more. PETDNS_KUBE_CONNECT_TIMEOUT shortens it for
 * tests, as PETDNS_WATCH_* do the watch's timers.
 */
static long
kube_connect_timeout(void)
{
	const char	*v = getenv("PETDNS_KUBE_CONNECT_TIMEOUT");

	return v != NULL && atol(v) > 0 ? atol(v) : KUBE_CONNECT_S;
}

/* The options every request shares, set once and copied per request. */
static CURLcode
kube_proto_new(struct kube *k, const struct kube_auth *a)
{
	CURL		*e;
	CURLcode	 rc;

	if ((k->proto = e = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS,
		    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
		    kube_connect_timeout());
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE,
		    KUBE_KEEPALIVE_S);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL,
		    KUBE_KEEPALIVE_S);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_USERAGENT, KUBE_USER_AGENT);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kube_write_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION,
		    kube_header_cb);
	if (rc == CURLE_OK)
		rc = kube_proto_tls(e, a);
	return rc;
}

/*
 * curl_global_init is reference counted by curl itself (and thread-safe in
 * the libcurl we require), so each client takes and drops one reference
 * and petdns keeps no global of its own.
 */
struct kube *
kube_new(struct event_base *base, const struct kube_auth *a, char *err,
    size_t errlen)
{
	struct kube	*k;
	CURLcode	 rc;
	size_t		 len;

	if (a->server == NULL || !kube_url_ok(a->server)) {
		snprintf(err, errlen, "server %s: not an http:// or https:// "
		    "URL", a->server != NULL ? a->server : "(none)");
		return NULL;
	}
	if (kube_check_file("CA file", a->ca_file, err, errlen) == -1 ||
	    kube_check_file("client certificate", a->cert_file, err,
	    errlen) == -1 ||
	    kube_check_file("client key", a->key_file, err, errlen) == -1)
		return NULL;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(err, errlen, "curl: %s", curl_easy_strerror(rc));
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->base = base;
	TAILQ_INIT(&k->requests);
	LIST_INIT(&k->socks);
	k->server = xstrdup(a->server);
	for (len = strlen(k->server); len > 0 && k->server[len - 1] == '/';)
		k->server[--len] = '\0';
	if (a->token != NULL)
		k->token = xstrdup(a->token);
	if (a->token_file != NULL)
		k->token_file = xstrdup(a->token_file);
	k->timer = evtimer_new(base, kube_timer_cb, k);
	if ((rc = kube_proto_new(k, a)) != CURLE_OK) {
		snprintf(err, errlen, "curl: %s", curl_easy_strerror(rc));
		kube_free(k);
		return NULL;
	}
	if (k->timer == NULL || (k->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "cannot set up the HTTP client");
		kube_free(k);
		return NULL;
	}
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION,
	    kube_curl_socket_cb);
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION,
	    kube_curl_timer_cb);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
	return k;
}

void
kube_free(struct kube *k)
{
	struct kube_request	*r;
	struct kube_sock	*ks;

	if (k == NULL)
		return;
	while ((r = TAILQ_FIRST(&k->requests)) != NULL)
		kube_request_free(r);
	if (k->multi != NULL)
		curl_multi_cleanup(k->multi);
	/* Sockets curl did not report removed while cleaning up. */
	while ((ks = LIST_FIRST(&k->socks)) != NULL) {
		event_del(&ks->ev);
		LIST_REMOVE(ks, entry);
		free(ks);
	}
	if (k->proto != NULL)
		curl_easy_cleanup(k->proto);
	if (k->timer != NULL)
		event_free(k->timer);
	if (k->token != NULL) {
		explicit_bzero(k->token, strlen(k->token));
		free(k->token);
	}
	free(k->token_file);
	free(k->server);
	free(k);
	curl_global_cleanup();
}

/* Out of memory is fatal, as in xmalloc. */
static struct curl_slist *
kube_header_add(struct curl_slist *h, const char *line)
{
	struct curl_slist	*n;

	if ((n = curl_slist_append(h, line)) == NULL)
		fatalx("out of memory (HTTP header)");
	return n;
}

/* The request's headers; the token is copied into curl's list only. */
static struct curl_slist *
kube_headers(struct kube *k, const char *content_type, bool has_body)
{
	struct curl_slist	*h = NULL;
	char			*line;

	h = kube_header_add(h, "Accept: application/json");
	/* No "Expect: 100-continue" round trip before a body. */
	h = kube_header_add(h, "Expect:");
	if (has_body && content_type != NULL) {
		line = xasprintf("Content-Type: %s", content_type);
		h = kube_header_add(h, line);
		free(line);
	} else if (has_body)
		/* Not curl's application/x-www-form-urlencoded. */
		h = kube_header_add(h, "Content-Type:");
	kube_token_refresh(k);
	if (k->token != NULL) {
		line = xasprintf("Authorization: Bearer %s", k->token);
		h = kube_header_add(h, line);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	return h;
}

static bool
kube_method_ok(const char *m)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"
	};
	size_t	i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

/* Method, URL, body and timeouts of one request. */
static CURLcode
kube_request_setup(struct kube_request *r, const char *method,
    const char *path, const char *body, long idle_s)
{
	CURL		*e = r->easy;
	char		*url = xasprintf("%s%s", r->k->server, path);
	CURLcode	 rc;

	rc = curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	if (rc == CURLE_OK && idle_s > 0)
		rc = curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	if (rc == CURLE_OK && idle_s > 0)
		rc = curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, idle_s);
	if (rc == CURLE_OK && strcmp(method, "HEAD") == 0)
		rc = curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (rc == CURLE_OK && body != NULL) {
		/* POSTFIELDS makes a POST; CUSTOMREQUEST renames it. */
		rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	}
	if (rc == CURLE_OK && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0 &&
	    (strcmp(method, "POST") != 0 || body == NULL))
		rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	return rc;
}

struct kube_request *
kube_send(struct kube *k, const char *method, const char *path,
    const char *body, const char *content_type, int idle_s,
    kube_body_fn body_fn, kube_done_fn done_fn, void *arg)
{
	struct kube_request	*r;
	CURLcode		 rc;
	int			 running;

	if (!kube_method_ok(method) || path[0] != '/') {
		log_warnx("plugin/kubernetes: bad request %s %s", method, path);
		return NULL;
	}
	/* A POST, PUT or PATCH always carries a body, if only an empty one. */
	if (body == NULL)
		content_type = NULL;
	if (body == NULL && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0 && strcmp(method, "DELETE") != 0)
		body = "";
	r = xcalloc(1, sizeof(*r));
	r->k = k;
	r->body_fn = body_fn;
	r->done_fn = done_fn;
	r->arg = arg;
	if ((r->easy = curl_easy_duphandle(k->proto)) == NULL) {
		log_warnx("plugin/kubernetes: %s %s: cannot make a handle",
		    method, path);
		free(r);
		return NULL;
	}
	r->headers = kube_headers(k, content_type, body != NULL);
	TAILQ_INSERT_TAIL(&k->requests, r, entry);
	if ((rc = kube_request_setup(r, method, path, body,
	    idle_s > 0 ? idle_s : 0)) != CURLE_OK) {
		log_warnx("plugin/kubernetes: %s %s: %s", method, path,
		    curl_easy_strerror(rc));
		kube_request_free(r);
		return NULL;
	}
	if (k->in_curl > 0) {
		r->state = KUBE_REQ_WAITING;
		k->ndeferred++;
		return r;
	}
	r->state = KUBE_REQ_RUNNING;
	if (curl_multi_add_handle(k->multi, r->easy) != CURLM_OK) {
		log_warnx("plugin/kubernetes: %s %s: cannot start", method,
		    path);
		kube_request_free(r);
		return NULL;
	}
	r->in_multi = true;
	/*
	 * Asked from a done callback (the next LIST page): send it now, not on
	 * the next loop turn, so that the server works while the caller is
	 * busy with what it was given. kube_settle, which called the done
	 * callback, reports what curl finished meanwhile.
	 */
	if (k->in_done > 0) {
		k->in_curl++;
		curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
		k->in_curl--;
	}
	return r;
}

struct kube_request *
kube_get(struct kube *k, const char *path, int idle_s, kube_body_fn body_fn,
    kube_done_fn done_fn, void *arg)
{
	return kube_send(k, "GET", path, NULL, NULL, idle_s, body_fn,
	    done_fn, arg);
}

void
kube_cancel(struct kube_request *r)
{
	struct kube	*k;

	if (r == NULL)
		return;
	k = r->k;
	switch (r->state) {
	case KUBE_REQ_ENDING:
	case KUBE_REQ_CANCELLED:
		return;
	case KUBE_REQ_WAITING:
		k->ndeferred--;
		kube_request_free(r);
		return;
	case KUBE_REQ_RUNNING:
		break;
	}
	if (k->in_curl > 0) {
		/* curl is running: remove the handle once it returns. */
		r->state = KUBE_REQ_CANCELLED;
		k->ndeferred++;
		return;
	}
	kube_request_free(r);
}
