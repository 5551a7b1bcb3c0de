/* cache.h -- the cache directive: CoreDNS's success and denial caches. */
#ifndef PETDNS_CACHE_H
#define PETDNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dname.h"

struct cache;
struct corefile_line;
struct wire_query;

enum cache_type {
	CACHE_SUCCESS,		/* NOERROR, with answers or not; delegations */
	CACHE_DENIAL,		/* NXDOMAIN, NODATA, SERVFAIL and NOTIMP */
	CACHE_NTYPES
};

struct cache_config_type {
	int	 capacity;	/* success|denial CAPACITY, default 9984 */
	uint32_t max_ttl;	/* TTL: 3600 success, 1800 denial */
	uint32_t min_ttl;	/* MINTTL, default 5 */
	char	**disabled;	/* disable TYPE [ZONES...]; "." for all */
	size_t	 ndisabled;
};

/*
 * Zone names are lower case without the trailing dot, the root as ".", as
 * in config.h. Durations are milliseconds.
 */
struct cache_config {
	char	**zones;	/* cache [TTL] ZONES...; none: every name */
	size_t	 nzones;
	struct cache_config_type type[CACHE_NTYPES];
	int	 prefetch;	/* prefetch AMOUNT; 0 is off */
	int64_t	 prefetch_window_ms;	/* DURATION, default 1m */
	int	 prefetch_percent;	/* PERCENTAGE%, 10..90, default 10 */
	bool	 serve_stale;
	int64_t	 stale_ms;	/* serve_stale DURATION, default 1h */
	bool	 stale_verify;	/* REFRESH_MODE verify, else immediate */
	int64_t	 servfail_ms;	/* servfail DURATION, 0..5m, default 5s */
	bool	 keepttl;
	uint16_t edns_size;	/* UDP size in replies' OPT: 1232 */
	char	*file;		/* where the directive was written */
	int	 line;
};

/* What /metrics shows: CoreDNS's coredns_cache_* series. */
struct cache_stats {
	uint64_t entries[CACHE_NTYPES];		/* gauge */
	uint64_t hits[CACHE_NTYPES];
	uint64_t evictions[CACHE_NTYPES];
	uint64_t requests;	/* lookups: hits plus misses */
	uint64_t misses;
	uint64_t prefetches;	/* prefetches and stale refreshes asked */
	uint64_t served_stale;
	uint64_t drops;		/* replies refused: malformed, other question */
};

/*
 * Parses a cache directive line and its block into a new config (CoreDNS
 * syntax and defaults). Returns 0, or -1 with err filled ("FILE:LINE: ...").
 */
int	 cache_config_parse(const struct corefile_line *,
	    struct cache_config **out, char *err, size_t errlen);
void	 cache_config_free(struct cache_config *);

/*
 * A cache for cfg; copies what it needs, so cfg may go. One thread uses it,
 * registered with RCU (zone_thread_register): its index is an rtable.
 */
struct cache *cache_new(const struct cache_config *cfg);
void	 cache_free(struct cache *);
/* True when qname (wire, any case) lies in the cache's zones. */
bool	 cache_match(const struct cache *, const uint8_t *qname);

/*
 * A query as the cache keys it: the lower-cased name, type, class, DO and
 * CD. Made once, it serves a lookup and the insert after a miss; qname
 * points into the query.
 */
struct cache_key {
	const uint8_t	*qname;
	size_t		 namelen;
	uint8_t		 lname[DNAME_MAX];
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint8_t		 flags;
	bool		 edns;
	bool		 ad;
	uint64_t	 hash;
};

/* The key of query; false when it is no query (QR, opcode, one question, malformed records). */
bool	 cache_key(const struct cache *, const uint8_t *query, size_t qlen,
	    struct cache_key *);
/* The key of a query wire.c parsed already (the fast path's). */
void	 cache_key_wire(const struct cache *, const struct wire_query *,
	    struct cache_key *);

/*
 * Answers query from the cache into out: the stored reply with the query's
 * ID, question spelling, RD and CD, TTLs less the entry's age (kept with
 * keepttl), an OPT when the query had one, and, when udp_size is not 0,
 * truncated to it as server.c does (additional dropped, then TC set).
 * Returns the length, or 0 on a miss (or when out cannot hold it). *stale
 * tells a serve_stale immediate answer (TTL 0): send it, then re-query
 * upstream in the background and cache_insert the reply. Counts the hit or
 * miss.
 */
size_t	 cache_lookup(struct cache *, const uint8_t *query, size_t qlen,
	    uint16_t udp_size, time_t now, uint8_t *out, size_t outmax,
	    bool *stale);
/* cache_lookup with query's key made already. */
size_t	 cache_lookup_key(struct cache *, const struct cache_key *,
	    const uint8_t *query, uint16_t udp_size, time_t now, uint8_t *out,
	    size_t outmax, bool *stale);
/*
 * After the upstream failed (no answer, or an rcode other than NOERROR and
 * NXDOMAIN): an expired entry within serve_stale's duration, with TTL 0,
 * as cache_lookup writes it (or a fresh one, refreshed meanwhile). Returns
 * 0 when there is none. Counts it as served stale.
 */
size_t	 cache_lookup_stale(struct cache *, const uint8_t *query,
	    size_t qlen, uint16_t udp_size, time_t now, uint8_t *out,
	    size_t outmax);
/*
 * Call after each fresh hit: counts it toward prefetch and says whether to
 * re-query upstream now (prefetch AMOUNT hits without a gap of DURATION,
 * PERCENTAGE% or less of the TTL left), then cache_insert the reply.
 */
bool	 cache_should_prefetch(struct cache *, const uint8_t *query,
	    size_t qlen, time_t now);
/*
 * Caches the reply resp to query, as CoreDNS classifies, keys and caps it;
 * truncated, malformed and uncacheable replies are not kept. Like CoreDNS,
 * rewrites resp in place for the client: every TTL but the OPT's becomes
 * the capped one, and AD goes unless the query had DO or AD. Both borrowed.
 */
void	 cache_insert(struct cache *, const uint8_t *query, size_t qlen,
	    uint8_t *resp, size_t rlen, time_t now);
/* cache_insert with the query's key made already; its name in the cache's zones. */
void	 cache_insert_key(struct cache *, const struct cache_key *,
	    uint8_t *resp, size_t rlen, time_t now);

/* A snapshot of the counters. */
void	 cache_stats(struct cache *, struct cache_stats *);
/* "success" or "denial", the metrics' type label. */
const char *cache_type_name(enum cache_type);
/* The metrics' zones label: the zones as FQDNs joined by commas. */
const char *cache_zones_label(const struct cache *);

#endif
