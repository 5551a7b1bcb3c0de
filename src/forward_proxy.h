/* forward_proxy.h -- one upstream of a forward directive: UDP and TCP exchanges, idle TCP connections, health checks. */
#ifndef PETDNS_FORWARD_PROXY_H
#define PETDNS_FORWARD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct forward_upstream;
struct forward_proxy;
struct forward_xchg;

enum forward_xchg_status {
	FORWARD_XCHG_OK,
	FORWARD_XCHG_TIMEOUT,
	FORWARD_XCHG_ERROR	/* refused, reset, unreachable, closed */
};

struct forward_proxy_opts {
	int	 expire_ms;	/* idle TCP connections close; 0: no reuse */
	bool	 hc_tcp;	/* health checks over TCP (force_tcp) */
	bool	 hc_recursion;
	const char *hc_domain;
	int	 hc_interval_ms;
};

/*
 * resp: the upstream's answer (ID, QR and question checked), with the ID
 * sent, writable and lent for the call; NULL unless status is OK.
 */
typedef void forward_xchg_fn(void *arg, enum forward_xchg_status,
	    uint8_t *resp, size_t len);

/* u and opts are copied. */
struct forward_proxy *forward_proxy_new(struct event_base *,
	    const struct forward_upstream *u,
	    const struct forward_proxy_opts *);
/* Cancels its exchanges (no callbacks) and health check; NULL: no-op. */
void	forward_proxy_free(struct forward_proxy *);
/*
 * Sends query (copied; a random ID replaces its own) over UDP from a fresh
 * socket, or over TCP on an idle connection or a new one. fn runs once,
 * from the event loop, unless the exchange is cancelled first.
 */
struct forward_xchg *forward_proxy_send(struct forward_proxy *,
	    const uint8_t *query, size_t len, bool tcp, int timeout_ms,
	    forward_xchg_fn *fn, void *arg);
void	forward_xchg_cancel(struct forward_xchg *);
/* CoreDNS's Down: more failed health checks in a row than max_fails. */
bool	forward_proxy_down(const struct forward_proxy *, uint32_t max_fails);
/*
 * Starts health checks unless they run: one at a time, each waiting up to
 * timeout_ms, one interval apart, until one is answered.
 */
void	forward_proxy_healthcheck(struct forward_proxy *, int timeout_ms);
/* The counters forward_stats reports. */
const char *forward_proxy_to(const struct forward_proxy *);
uint64_t forward_proxy_requests(const struct forward_proxy *);
uint64_t forward_proxy_responses(const struct forward_proxy *, int rcode);
uint64_t forward_proxy_hc_failures(const struct forward_proxy *);

/*
 * The first question's name of a message, uncompressed and lower-cased,
 * into out; its type and class. Returns the name's length, or -1.
 */
int	forward_msg_question(const uint8_t *msg, size_t len, uint8_t out[255],
	    uint16_t *qtype, uint16_t *qclass);

#endif
