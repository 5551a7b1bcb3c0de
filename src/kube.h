/* kube.h -- HTTP to the Kubernetes API: libcurl's multi socket interface on libevent; no JSON here. */
#ifndef PETDNS_KUBE_H
#define PETDNS_KUBE_H

#include <stddef.h>

struct event_base;
struct kube;
struct kube_auth;
struct kube_request;

/*
 * Body bytes of a 2xx response as they arrive (error bodies are dropped:
 * the status tells), in order, in chunks of any size: not
 * NUL-terminated, not aligned to lines or JSON values; data is lent for the
 * call. Called only from the event loop, never after the request's cancel.
 * May start requests and cancel any request, this one included.
 */
typedef void (*kube_body_fn)(const char *data, size_t len, void *arg);
/*
 * The request ended; called exactly once unless cancelled, from the event
 * loop (never from inside kube_send). status is the last HTTP status, 0 when
 * no response came (it may be set together with err when a response broke
 * off); err is NULL when the whole response arrived, whatever its status,
 * else curl's message (lent for the call, never holding the token);
 * retry_after is the Retry-After header in seconds (0 when absent). The
 * request is freed when done returns: cancelling it from done is a no-op.
 * done may start requests and cancel others.
 */
typedef void (*kube_done_fn)(int status, const char *err, int retry_after,
	    void *arg);

/*
 * A client for one API server: the server URL must be http:// or https://;
 * CA, client certificate and key files must be readable. auth is copied
 * (borrowed for the call). NULL with err filled.
 */
struct kube *kube_new(struct event_base *, const struct kube_auth *,
	    char *err, size_t errlen);
/*
 * Cancels every request (their done is not called) and frees the client;
 * NULL is a no-op. Not from inside a body or done callback.
 */
void	kube_free(struct kube *);
/*
 * Sends method (GET, HEAD, POST, PUT, PATCH, DELETE) path (from "/", with
 * query) to the server, with body (may be NULL; copied) and content_type.
 * HTTP/1.1, TLS verified unless insecure, bearer token (the token file is
 * re-read every minute and after a 401), TCP keepalive, 10 s to connect.
 * A response silent for idle_s seconds (0: never; curl averages the speed
 * over a few seconds, so allow for up to 5 more) ends with an error.
 * Never blocks. The request is owned by the client until done or cancel.
 * NULL (logged) only for a bad method or path, or when curl cannot start it.
 */
struct kube_request *kube_send(struct kube *, const char *method,
	    const char *path, const char *body, const char *content_type,
	    int idle_s, kube_body_fn, kube_done_fn, void *arg);
/* GET path; see kube_send. */
struct kube_request *kube_get(struct kube *, const char *path, int idle_s,
	    kube_body_fn, kube_done_fn, void *arg);
/*
 * Aborts a request and frees it: its body and done are not called again.
 * At most once, and not after its done returned; NULL is a no-op.
 */
void	kube_cancel(struct kube_request *);

#endif
