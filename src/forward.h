/* forward.h -- the forward directive: CoreDNS's plugin/forward (UDP and TCP upstreams, health checks) on libevent. */
#ifndef PETDNS_FORWARD_H
#define PETDNS_FORWARD_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct corefile_line;
struct event_base;
struct forward;
struct forward_req;

/* CoreDNS's limit on upstreams per forward directive. */
#define FORWARD_MAX_UPSTREAMS	15
/* done's status when resp is NULL: what the caller answers the client. */
#define FORWARD_SERVFAIL	(-1)	/* no upstream answered */
#define FORWARD_REFUSED		(-2)	/* max_concurrent queries in flight */

enum forward_policy {
	FORWARD_RANDOM,
	FORWARD_ROUND_ROBIN,
	FORWARD_SEQUENTIAL
};

struct forward_upstream {
	char	*to;		/* "10.0.0.10:53", "[::1]:53": metrics' to */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/*
 * One "forward FROM TO... { options }" line, with CoreDNS's defaults.
 * Names are lower case without the trailing dot, the root as ".".
 */
struct forward_config {
	char	*from;
	char	**except;		/* except NAMES... */
	size_t	 nexcept;
	struct forward_upstream *to;	/* resolv.conf files expanded, <= 15 */
	size_t	 nto;
	bool	 force_tcp;
	bool	 prefer_udp;
	int	 expire_ms;		/* idle TCP connections close (10s) */
	uint32_t max_fails;		/* 2; 0: never down, no health checks */
	int	 hc_interval_ms;	/* health_check DURATION (0.5s) */
	bool	 hc_recursion;		/* RD in checks; no_rec clears it */
	char	*hc_domain;		/* health_check ... domain FQDN (".") */
	enum forward_policy policy;	/* random */
	int	 max_concurrent;	/* 0: unlimited */
	char	*file;			/* where the directive was written */
	int	 line;
};

/*
 * Parses a forward directive line and its block. Relative resolv.conf paths
 * are taken against corefile_dir (NULL: the directory of the file the line
 * is in). On error returns -1 with err filled ("FILE:LINE: forward: ...").
 */
int	forward_config_parse(const struct corefile_line *,
	    const char *corefile_dir, struct forward_config **out, char *err,
	    size_t errlen);
void	forward_config_free(struct forward_config *);
/*
 * Reads the nameserver addresses of a resolv.conf(5) file (entries that are
 * not IP addresses are skipped, as the resolver does). *servers is a new
 * array of new strings, possibly empty. -1 with err filled when unreadable.
 */
int	forward_resolvconf(const char *path, char ***servers, size_t *n,
	    char *err, size_t errlen);

/*
 * The running forwarder for one config (copied; cfg may be freed after).
 * It lives on base and is used from base's thread only. Upstreams are
 * health checked only after a failed query, as in CoreDNS.
 */
struct forward *forward_new(struct event_base *,
	    const struct forward_config *cfg);
/* Closes every socket; pending queries end without their done. NULL: no-op. */
void	forward_free(struct forward *);
/*
 * True when qname (wire format, any case) is FROM or below it, and not
 * below an except name (FROM itself always matches).
 */
bool	forward_match(const struct forward *, const uint8_t *qname);

/*
 * resp: the upstream's message as it came (its ID, QR and question were
 * checked, the rest was not parsed; TC may be set), with the client's ID,
 * lent for the call; rcode is its header RCODE. resp NULL: rcode is
 * FORWARD_SERVFAIL or FORWARD_REFUSED and the caller answers that itself.
 */
typedef void forward_done_fn(void *arg, const uint8_t *resp, size_t len,
	    int rcode);

/*
 * Forwards a client's query (copied; client_tcp: it came over TCP) and
 * calls done exactly once, later, from the event loop; done may query,
 * cancel, or free the forward once done with resp. Upstreams are tried in
 * policy order, skipping those down, each for up to 2s, passes repeating
 * until one answers or 5s have passed (no try starts after that); a pass
 * whose tries all failed at once (refused, unreachable) ends it. Returns a
 * handle valid until done runs; NULL, without done, when the query has no
 * single question or is a response.
 */
struct forward_req *forward_query(struct forward *, const uint8_t *query,
	    size_t len, bool client_tcp, forward_done_fn *done, void *arg);
/* Abandons a query before its done (the client went away); done never runs. */
void	forward_cancel(struct forward_req *);
/* Queries whose done has yet to run: a reload frees the old forward at 0. */
size_t	forward_pending(const struct forward *);

/* One upstream's counters since forward_new; to is borrowed. */
struct forward_stats {
	const char *to;
	uint64_t requests;		/* tries sent, TCP retries included */
	uint64_t responses[16];		/* answers by header RCODE */
	uint64_t healthcheck_failures;
	bool	 down;
};
/* Fills st for the i-th upstream in config order; false past the last. */
bool	forward_stats(const struct forward *, size_t i,
	    struct forward_stats *st);
/*
 * Queries refused by max_concurrent; queries sent to a random upstream
 * because every upstream was down (healthcheck_broken).
 */
void	forward_totals(const struct forward *, uint64_t *rejects,
	    uint64_t *broken);
/*
 * Test seam: per-try, whole-query and health-check timeouts in ms (0 keeps
 * 2000, 5000 and 1000).
 */
void	forward_set_timeouts(struct forward *, int try_ms, int query_ms,
	    int hc_ms);

#endif
