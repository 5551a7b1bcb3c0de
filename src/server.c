/* server.c -- the query pipeline: validate, route to a server block, answer, render, truncate. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <regex.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "config.h"
#include "dname.h"
#include "forward.h"
#include "kubernetes.h"
#include "log.h"
#include "memo.h"
#include "metrics.h"
#include "server.h"
#include "wire.h"
#include "xmalloc.h"

/* errors { consolidate }: one rule's matches in its current period. */
struct server_consolidate {
	const struct config_consolidate	*cfg;
	regex_t				 re;
	unsigned long long		 count;
	struct event			*ev;
};

struct server_block {
	const struct config_server	*cfg;
	struct kubernetes		*k;
	struct cache			*cache;		/* NULL without cache */
	struct memo			*memo;		/* kubernetes, no cache */
	struct forward			**forwards;	/* one per forward line */
	uint8_t				**zones;	/* lower-case wire */
	size_t				 *zonelen;	/* dname_length of each */
	uint8_t				***log_names;	/* per log rule, lower-case wire */
	struct server_consolidate	*cons;		/* one per consolidate rule */
	uint8_t				*probe;		/* loop: our probe name */
	struct server_series		**series;	/* per zone, for metrics */
	int				 probes_seen;
};

struct server_pending;
struct server_series;

static struct server_series *server_series_new(const uint8_t *zone);

/* One series read at scrape time from a cache's or an upstream's counters. */
struct server_stat {
	struct server_stat	*next;
	struct metrics_func	*func;
	struct cache		*cache;
	struct forward		*forward;
	size_t			 upstream;
	int			 field;		/* SERVER_STAT_* */
	int			 index;		/* cache type, or rcode */
};

enum {
	SERVER_STAT_ENTRIES, SERVER_STAT_HITS, SERVER_STAT_EVICTIONS,
	SERVER_STAT_REQUESTS, SERVER_STAT_MISSES, SERVER_STAT_PREFETCHES,
	SERVER_STAT_STALE, SERVER_STAT_DROPS, SERVER_STAT_FWD_REQUESTS,
	SERVER_STAT_FWD_RESPONSES, SERVER_STAT_FWD_HC_FAILURES
};

struct server {
	struct event_base	*base;
	struct metrics		*metrics;
	char			*label;		/* "dns://:53", the server label */
	struct server_block	*blocks;
	size_t			 nblocks;
	struct server_pending	*pending;	/* queries out at upstreams */
	struct server_stat	*stats;
	struct server_series	*dropped;	/* metrics of queries no block took */
	bool			 slow_only;	/* server_set_fast(s, false) */
	size_t			 nfast;		/* answered by the fast path */
};

/* One query on its way through a server block. */
struct server_query {
	struct server		*s;
	struct server_block	*b;		/* NULL: no block's zone */
	ldns_pkt		*q;		/* NULL when unparsable */
	ldns_pkt		*resp;
	enum responder_transport transport;
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
	size_t			 qsize;
	struct timespec		 start;
	const char		*error;		/* why SERVFAIL, for errors */
	const char		*plugin;	/* which directive answered */
	const uint8_t		*zone;		/* the block's zone that matched */
	const uint8_t		*wire;		/* the query as received */
	bool			 cacheable;	/* answered by a directive after cache */
	bool			 cache_missed;	/* the fast path looked already */
	struct forward		*forward;	/* the query goes upstream */
};

/* A query waiting for its upstream answer. */
struct server_pending {
	struct server_query	 sq;
	uint8_t			*wire;		/* sq.wire's own copy */
	struct sockaddr_storage	 peer;
	struct responder_ticket	*ticket;
	struct forward_req	*req;
	struct server_pending	*next;
	struct server_pending	*prev;
};

static double
server_stat_cb(void *arg)
{
	struct server_stat	*st = arg;
	struct cache_stats	 c;
	struct forward_stats	 f;

	if (st->cache != NULL) {
		cache_stats(st->cache, &c);
		switch (st->field) {
		case SERVER_STAT_ENTRIES:
			return (double)c.entries[st->index];
		case SERVER_STAT_HITS:
			return (double)c.hits[st->index];
		case SERVER_STAT_EVICTIONS:
			return (double)c.evictions[st->index];
		case SERVER_STAT_REQUESTS:
			return (double)c.requests;
		case SERVER_STAT_MISSES:
			return (double)c.misses;
		case SERVER_STAT_PREFETCHES:
			return (double)c.prefetches;
		case SERVER_STAT_STALE:
			return (double)c.served_stale;
		default:
			return (double)c.drops;
		}
	}
	if (!forward_stats(st->forward, st->upstream, &f))
		return 0;
	if (st->field == SERVER_STAT_FWD_REQUESTS)
		return (double)f.requests;
	if (st->field == SERVER_STAT_FWD_RESPONSES)
		return (double)f.responses[st->index];
	return (double)f.healthcheck_failures;
}

static void
server_stat_add(struct server *s, const char *name, const char *const *labels,
    struct server_stat tmpl)
{
	struct server_stat	*st = xmalloc(sizeof(*st));

	*st = tmpl;
	st->func = metrics_func_add(s->metrics, name, labels, server_stat_cb, st);
	st->next = s->stats;
	s->stats = st;
}

/* coredns_cache_* of a block's cache, read when scraped. */
static void
server_stats_cache(struct server *s, struct cache *c)
{
	static const struct {
		const char	*name;
		int		 field;
		bool		 typed;
	} series[] = {
		{ "coredns_cache_entries", SERVER_STAT_ENTRIES, true },
		{ "coredns_cache_hits_total", SERVER_STAT_HITS, true },
		{ "coredns_cache_evictions_total", SERVER_STAT_EVICTIONS, true },
		{ "coredns_cache_requests_total", SERVER_STAT_REQUESTS, false },
		{ "coredns_cache_misses_total", SERVER_STAT_MISSES, false },
		{ "coredns_cache_prefetch_total", SERVER_STAT_PREFETCHES, false },
		{ "coredns_cache_served_stale_total", SERVER_STAT_STALE, false },
		{ "coredns_cache_drops_total", SERVER_STAT_DROPS, false },
	};
	const char	*zones = cache_zones_label(c);

	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		for (int t = 0; t < (series[i].typed ? CACHE_NTYPES : 1); t++) {
			struct server_stat tmpl = { .cache = c,
			    .field = series[i].field, .index = t };

			if (series[i].typed)
				server_stat_add(s, series[i].name,
				    (const char *[]){ s->label,
				    cache_type_name(t), zones, "" }, tmpl);
			else
				server_stat_add(s, series[i].name,
				    (const char *[]){ s->label, zones, "" },
				    tmpl);
		}
}

/* coredns_forward_* per upstream: requests, the usual rcodes, health check failures. */
static void
server_stats_forward(struct server *s, struct forward *f)
{
	static const int rcodes[] = { 0, 1, 2, 3, 4, 5 };
	struct forward_stats	 st;
	char			 rcode[16];

	for (size_t u = 0; forward_stats(f, u, &st); u++) {
		struct server_stat tmpl = { .forward = f, .upstream = u };

		tmpl.field = SERVER_STAT_FWD_REQUESTS;
		server_stat_add(s, "coredns_forward_requests_total",
		    (const char *[]){ st.to }, tmpl);
		tmpl.field = SERVER_STAT_FWD_HC_FAILURES;
		server_stat_add(s, "coredns_forward_healthcheck_failures_total",
		    (const char *[]){ st.to }, tmpl);
		tmpl.field = SERVER_STAT_FWD_RESPONSES;
		for (size_t r = 0; r < sizeof(rcodes) / sizeof(rcodes[0]);
		    r++) {
			tmpl.index = rcodes[r];
			server_stat_add(s, "coredns_forward_responses_total",
			    (const char *[]){ st.to, metrics_rcode_label(
			    rcodes[r], rcode, sizeof(rcode)) }, tmpl);
		}
	}
}

struct server *
server_new(struct event_base *base, struct metrics *metrics, const char *addr,
    uint16_t port)
{
	struct server	*s = xcalloc(1, sizeof(struct server));

	s->base = base;
	s->metrics = metrics;
	/* CoreDNS's label: the block's transport and address, as dns://:53. */
	if (addr == NULL)
		s->label = xasprintf("dns://:%u", port);
	else if (strchr(addr, ':') != NULL)
		s->label = xasprintf("dns://[%s]:%u", addr, port);
	else
		s->label = xasprintf("dns://%s:%u", addr, port);
	s->dropped = server_series_new(NULL);
	return s;
}

static void
server_pending_free(struct server *s, struct server_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		s->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	ldns_pkt_free(p->sq.q);
	ldns_pkt_free(p->sq.resp);
	free(p->wire);
	free(p);
}

size_t
server_pending(const struct server *s)
{
	size_t	n = 0;

	for (const struct server_pending *p = s->pending; p != NULL;
	    p = p->next)
		n++;
	return n;
}

/* Go's time.Duration text ("5m0s", "1.5s", "300ms"), as CoreDNS prints periods. */
static void
server_go_duration(int ms, char *buf, size_t len)
{
	int	h = ms / 3600000, m = ms / 60000 % 60, sec = ms / 1000 % 60;
	int	frac = ms % 1000, n = 0;
	char	fs[8] = "";

	if (ms < 1000) {
		snprintf(buf, len, "%dms", ms);
		return;
	}
	if (frac != 0) {
		snprintf(fs, sizeof(fs), ".%03d", frac);
		while (fs[strlen(fs) - 1] == '0')
			fs[strlen(fs) - 1] = '\0';
	}
	if (h > 0)
		n = snprintf(buf, len, "%dh", h);
	if (h > 0 || m > 0)
		n += snprintf(buf + n, len - (size_t)n, "%dm", m);
	snprintf(buf + n, len - (size_t)n, "%d%ss", sec, fs);
}

static void
server_consolidate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_consolidate	*c = arg;
	char				 period[32];

	server_go_duration(c->cfg->ms, period, sizeof(period));
	log_at(c->cfg->level, "plugin/errors: %llu errors like '%s' occurred "
	    "in last %s", c->count, c->cfg->pattern, period);
	c->count = 0;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	while (s->stats != NULL) {
		struct server_stat *st = s->stats;

		s->stats = st->next;
		metrics_func_remove(s->metrics, st->func);
		free(st);
	}
	/* Answers still owed go nowhere: their clients retry. */
	while (s->pending != NULL) {
		forward_cancel(s->pending->req);
		if (s->pending->ticket != NULL)
			responder_answer(s->pending->ticket, NULL, 0);
		server_pending_free(s, s->pending);
	}
	for (size_t i = 0; i < s->nblocks; i++) {
		for (size_t f = 0; f < s->blocks[i].cfg->nforwards; f++)
			forward_free(s->blocks[i].forwards[f]);
		free(s->blocks[i].forwards);
		for (size_t z = 0; z < s->blocks[i].cfg->nzones; z++) {
			free(s->blocks[i].zones[z]);
			free(s->blocks[i].series[z]);
		}
		free(s->blocks[i].zones);
		free(s->blocks[i].zonelen);
		free(s->blocks[i].series);
		free(s->blocks[i].probe);
		cache_free(s->blocks[i].cache);
		memo_free(s->blocks[i].memo);
		for (size_t l = 0; l < s->blocks[i].cfg->nlogs; l++)
			dname_strv_free(s->blocks[i].log_names[l],
			    s->blocks[i].cfg->logs[l].nnames);
		free(s->blocks[i].log_names);
		for (size_t c = 0; c < s->blocks[i].cfg->nconsolidate; c++) {
			event_free(s->blocks[i].cons[c].ev);
			regfree(&s->blocks[i].cons[c].re);
		}
		free(s->blocks[i].cons);
	}
	free(s->blocks);
	free(s->dropped);
	free(s->label);
	free(s);
}

void
server_add_block(struct server *s, const struct config_server *cfg,
    struct kubernetes *k)
{
	struct server_block	*b;
	uint8_t			 wire[DNAME_MAX];
	int			 len;

	s->blocks = xreallocarray(s->blocks, s->nblocks + 1,
	    sizeof(*s->blocks));
	b = &s->blocks[s->nblocks++];
	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	b->k = k;
	b->cache = cfg->cache != NULL ? cache_new(cfg->cache) : NULL;
	/* A cache keeps answers already; without one, the memo does. */
	if (k != NULL && b->cache == NULL)
		b->memo = memo_new();
	if (cfg->loop && cfg->nforwards > 0) {
		/* CoreDNS's probe: two random numbers under the zone, HINFO. */
		char	*name = xasprintf("%llu.%llu.%s", (unsigned long long)
		    random() << 31 ^ random(), (unsigned long long)random() <<
		    31 ^ random(), strcmp(cfg->zones[0], ".") == 0 ? "" :
		    cfg->zones[0]);

		if ((len = dname_from_str(name, wire)) > 0) {
			b->probe = xmalloc((size_t)len);
			memcpy(b->probe, wire, (size_t)len);
		}
		free(name);
	}
	b->log_names = xcalloc(cfg->nlogs, sizeof(*b->log_names));
	for (size_t l = 0; l < cfg->nlogs; l++)
		b->log_names[l] = dname_from_strv(cfg->logs[l].names,
		    cfg->logs[l].nnames);
	b->cons = xcalloc(cfg->nconsolidate, sizeof(*b->cons));
	for (size_t c = 0; c < cfg->nconsolidate; c++) {
		b->cons[c].cfg = &cfg->consolidate[c];
		/* config.c compiled it once already: it cannot fail here. */
		if (regcomp(&b->cons[c].re, cfg->consolidate[c].pattern,
		    REG_EXTENDED | REG_NOSUB) != 0)
			fatalx("errors: cannot compile '%s'",
			    cfg->consolidate[c].pattern);
		b->cons[c].ev = evtimer_new(s->base, server_consolidate_cb,
		    &b->cons[c]);
	}
	b->forwards = xcalloc(cfg->nforwards, sizeof(*b->forwards));
	for (size_t f = 0; f < cfg->nforwards; f++)
		b->forwards[f] = forward_new(s->base, cfg->forwards[f]);
	if (s->metrics != NULL && b->cache != NULL)
		server_stats_cache(s, b->cache);
	for (size_t f = 0; s->metrics != NULL && f < cfg->nforwards; f++)
		server_stats_forward(s, b->forwards[f]);
	b->zones = xcalloc(cfg->nzones, sizeof(*b->zones));
	b->zonelen = xcalloc(cfg->nzones, sizeof(*b->zonelen));
	b->series = xcalloc(cfg->nzones, sizeof(*b->series));
	for (size_t z = 0; z < cfg->nzones; z++) {
		len = dname_from_str(cfg->zones[z], wire);
		if (len < 0) {
			wire[0] = 0;
			len = 1;
		}
		b->zones[z] = xmalloc((size_t)len);
		memcpy(b->zones[z], wire, (size_t)len);
		b->zonelen[z] = (size_t)len;
		b->series[z] = server_series_new(b->zones[z]);
	}
}

/*
 * The block whose zone is the longest match for lname (lower case, nlen
 * bytes), and that zone. Zones above one name: the longer has more labels.
 */
static struct server_block *
server_route(struct server *s, const uint8_t *lname, size_t nlen,
    const uint8_t **zone)
{
	struct server_block	*best = NULL;
	size_t			 best_len = 0, len;

	for (size_t i = 0; i < s->nblocks; i++)
		for (size_t z = 0; z < s->blocks[i].cfg->nzones; z++)
			if ((len = s->blocks[i].zonelen[z]) > best_len &&
			    dname_is_under_len(lname, nlen,
			    s->blocks[i].zones[z], len)) {
				best = &s->blocks[i];
				best_len = len;
				*zone = s->blocks[i].zones[z];
			}
	return best;
}

/* A response echoing the query's header (and question, when parsed). */
static ldns_pkt *
server_reply(const uint8_t *query, const ldns_pkt *q, ldns_pkt_rcode rcode)
{
	ldns_pkt	*resp = ldns_pkt_new();

	ldns_pkt_set_id(resp, wire_get16(query));
	ldns_pkt_set_qr(resp, true);
	ldns_pkt_set_opcode(resp, (ldns_pkt_opcode)((query[2] >> 3) & 0xf));
	ldns_pkt_set_rd(resp, (query[2] & 0x01) != 0);
	ldns_pkt_set_cd(resp, (query[3] & 0x10) != 0);
	ldns_pkt_set_rcode(resp, rcode);
	if (q != NULL && ldns_pkt_qdcount(q) == 1)
		ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, ldns_rr_clone(
		    ldns_rr_list_rr(ldns_pkt_question(q), 0)));
	if (q != NULL && ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(resp, SERVER_EDNS_SIZE);
		ldns_pkt_set_edns_do(resp, ldns_pkt_edns_do(q));
	}
	return resp;
}

static void
server_clear_section(ldns_pkt *resp, ldns_pkt_section sec)
{
	ldns_rr_list	*empty = ldns_rr_list_new();

	switch (sec) {
	case LDNS_SECTION_ANSWER:
		ldns_rr_list_deep_free(ldns_pkt_answer(resp));
		ldns_pkt_set_answer(resp, empty);
		ldns_pkt_set_ancount(resp, 0);
		break;
	case LDNS_SECTION_AUTHORITY:
		ldns_rr_list_deep_free(ldns_pkt_authority(resp));
		ldns_pkt_set_authority(resp, empty);
		ldns_pkt_set_nscount(resp, 0);
		break;
	default:
		ldns_rr_list_deep_free(ldns_pkt_additional(resp));
		ldns_pkt_set_additional(resp, empty);
		ldns_pkt_set_arcount(resp, 0);
		break;
	}
}

static void
server_clear_sections(ldns_pkt *resp)
{
	server_clear_section(resp, LDNS_SECTION_ANSWER);
	server_clear_section(resp, LDNS_SECTION_AUTHORITY);
	server_clear_section(resp, LDNS_SECTION_ADDITIONAL);
	ldns_pkt_set_aa(resp, false);
}

/*
 * Renders resp into out within limit: additional data goes first, then, if
 * still too large, the answer is emptied and TC set (RFC 2181 9, RFC 7766).
 */
static size_t
server_render(ldns_pkt *resp, uint8_t *out, size_t max, size_t limit)
{
	uint8_t	*wire = NULL;
	size_t	 len = 0;

	if (limit > max)
		limit = max;
	for (int pass = 0; pass < 3; pass++) {
		free(wire);
		wire = NULL;
		if (ldns_pkt2wire(&wire, resp, &len) != LDNS_STATUS_OK)
			return 0;
		if (len <= limit)
			break;
		if (pass == 0)
			server_clear_section(resp, LDNS_SECTION_ADDITIONAL);
		else {
			server_clear_section(resp, LDNS_SECTION_ANSWER);
			server_clear_section(resp, LDNS_SECTION_AUTHORITY);
			ldns_pkt_set_tc(resp, true);
		}
	}
	if (len > limit) {
		free(wire);
		return 0;
	}
	memcpy(out, wire, len);
	free(wire);
	return len;
}

/* whoami: the client's address, and its port in an SRV record (CoreDNS's whoami). */
static void
server_whoami(struct server_query *sq, const ldns_rr *question)
{
	const ldns_rdf	*owner = ldns_rr_owner(question);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sq->peer;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sq->peer;
	bool		 v4 = sq->peer->sa_family == AF_INET;
	ldns_rr		*rr = ldns_rr_new();
	ldns_rdf	*srv_owner, *label;
	char		 text[INET6_ADDRSTRLEN];
	uint16_t	 port = ntohs(v4 ? sin->sin_port : sin6->sin6_port);

	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, v4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
	ldns_rr_set_ttl(rr, 0);
	inet_ntop(sq->peer->sa_family, v4 ? (const void *)&sin->sin_addr :
	    (const void *)&sin6->sin6_addr, text, sizeof(text));
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_str(v4 ? LDNS_RDF_TYPE_A :
	    LDNS_RDF_TYPE_AAAA, text));
	ldns_pkt_push_rr(sq->resp, LDNS_SECTION_ANSWER, rr);
	label = ldns_dname_new_frm_str(sq->transport == RESPONDER_TCP ?
	    "_tcp" : "_udp");
	srv_owner = ldns_dname_cat_clone(label, owner);
	ldns_rdf_deep_free(label);
	rr = ldns_rr_new();
	ldns_rr_set_owner(rr, srv_owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_SRV);
	ldns_rr_set_ttl(rr, 0);
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, port));
	ldns_rr_push_rdf(rr, ldns_rdf_clone(owner));
	ldns_pkt_push_rr(sq->resp, LDNS_SECTION_ADDITIONAL, rr);
	ldns_pkt_set_aa(sq->resp, true);
}

/*
 * cache: a hit replaces the response being built (and ends the query).
 * *refresh asks for the name to be resolved again behind the answer:
 * serve_stale's immediate mode, or prefetch of a popular expiring name.
 */
static bool
server_cached(struct server_query *sq, const uint8_t *qname, bool *refresh)
{
	struct cache	*c = sq->b->cache;
	uint8_t		 wire[UINT16_MAX];
	ldns_pkt	*hit = NULL;
	time_t		 now = time(NULL);
	bool		 stale;
	size_t		 n;

	if (c == NULL || !cache_match(c, qname))
		return false;
	n = cache_lookup(c, sq->wire, sq->qsize, 0, now, wire, sizeof(wire),
	    &stale);
	if (n == 0 || ldns_wire2pkt(&hit, wire, n) != LDNS_STATUS_OK)
		return false;
	ldns_pkt_free(sq->resp);
	sq->resp = hit;
	sq->plugin = "cache";
	*refresh = stale || cache_should_prefetch(c, sq->wire, sq->qsize, now);
	return true;
}

/* An upstream failed: serve_stale's expired answer, if the cache has one. */
static bool
server_stale(struct server_query *sq)
{
	struct cache	*c = sq->b != NULL ? sq->b->cache : NULL;
	uint8_t		 wire[UINT16_MAX];
	ldns_pkt	*old = NULL;
	size_t		 n;

	if (c == NULL || !cache_match(c, sq->wire + 12))
		return false;
	n = cache_lookup_stale(c, sq->wire, sq->qsize, 0, time(NULL), wire,
	    sizeof(wire));
	if (n == 0 || ldns_wire2pkt(&old, wire, n) != LDNS_STATUS_OK)
		return false;
	ldns_pkt_free(sq->resp);
	sq->resp = old;
	sq->plugin = "cache";
	sq->error = NULL;
	sq->cacheable = false;
	return true;
}

/* The whole answer goes into the cache, whatever this client takes. */
static size_t
server_cache_store(struct server_query *sq, uint8_t *out, size_t max)
{
	size_t	n = server_render(sq->resp, out, max, UINT16_MAX);

	if (n > 0)
		cache_insert(sq->b->cache, sq->wire, sq->qsize, out, n,
		    time(NULL));
	return n;
}

static void	server_directives(struct server_query *, const ldns_rr *);
static int	server_upstream(struct server_query *, struct responder_req *);

/*
 * prefetch and serve_stale: the client got the cached answer; the query
 * runs again past the cache, and its answer only refills the cache.
 */
static void
server_refresh(const struct server_query *hit, const ldns_rr *question)
{
	struct server_query	 rq = *hit;
	uint8_t			 out[UINT16_MAX];

	rq.q = ldns_pkt_clone(hit->q);
	rq.resp = server_reply(hit->wire, hit->q, LDNS_RCODE_NOERROR);
	rq.plugin = NULL;
	rq.error = NULL;
	server_directives(&rq, question);
	if (rq.forward != NULL && server_upstream(&rq, NULL) == 0)
		return;		/* server_upstream_cb stores the answer */
	if (rq.forward == NULL && rq.cacheable)
		server_cache_store(&rq, out, sizeof(out));
	ldns_pkt_free(rq.q);
	ldns_pkt_free(rq.resp);
}

/* Runs the question through its block, in CoreDNS's plugin order. */
static void
server_resolve(struct server_query *sq, const ldns_rr *question)
{
	const ldns_rdf		*owner = ldns_rr_owner(question);
	const uint8_t		*qname = ldns_rdf_data(owner);
	const uint8_t		*zone = NULL;
	uint8_t			 lname[DNAME_MAX];
	struct server_block	*b;
	bool			 refresh;

	dname_lower_copy(lname, qname);
	b = server_route(sq->s, lname, dname_length(lname), &zone);
	sq->b = b;
	sq->zone = zone;
	if (b == NULL) {
		ldns_pkt_set_rcode(sq->resp, LDNS_RCODE_REFUSED);
		return;
	}
	if (b->probe != NULL && dname_equal_nocase(qname, b->probe) &&
	    ++b->probes_seen > 2) {
		char	name[DNAME_MAX * 4];

		/* Our own probe keeps coming back: we forward to ourselves. */
		fatalx("plugin/loop: Loop (%s) detected for zone \"%s\", see "
		    "https://coredns.io/plugins/loop#troubleshooting. Query: "
		    "\"HINFO %s.\"", sq->s->label, b->cfg->zones[0],
		    dname_to_str(b->probe, name, sizeof(name)));
	}
	if (!sq->cache_missed && server_cached(sq, qname, &refresh)) {
		if (refresh)
			server_refresh(sq, question);
		return;
	}
	server_directives(sq, question);
}

/* The directives after cache, in CoreDNS's plugin order. */
static void
server_directives(struct server_query *sq, const ldns_rr *question)
{
	const uint8_t		*qname = ldns_rdf_data(ldns_rr_owner(question));
	struct server_block	*b = sq->b;
	ldns_pkt		*resp = sq->resp;
	ldns_pkt_rcode		 rcode;

	sq->cacheable = b->cache != NULL && cache_match(b->cache, qname);
	if (b->k != NULL && kubernetes_serves(b->k, qname)) {
		rcode = kubernetes_answer(b->k, qname,
		    ldns_rr_get_type(question), resp);
		sq->plugin = "kubernetes";
		if (rcode == LDNS_RCODE_SERVFAIL)
			server_clear_sections(resp);
		if (rcode == LDNS_RCODE_SERVFAIL) {
			/* Not an answer to remember: the sync is a moment away. */
			sq->error = "plugin/kubernetes: not yet synced";
			sq->cacheable = false;
		}
		if (rcode != LDNS_RCODE_NXDOMAIN ||
		    !kubernetes_fallthrough(b->k, qname)) {
			ldns_pkt_set_rcode(resp, rcode);
			return;
		}
		/* Falling through: the next directive starts afresh. */
		server_clear_sections(resp);
		sq->plugin = NULL;
	}
	for (size_t f = 0; f < b->cfg->nforwards; f++)
		if (forward_match(b->forwards[f], qname)) {
			sq->forward = b->forwards[f];
			sq->plugin = "forward";
			return;		/* server_query sends it upstream */
		}
	if (b->cfg->whoami) {
		server_whoami(sq, question);
		sq->plugin = "whoami";
		return;
	}
	/* No directive answers: the root block fails, others refuse. */
	ldns_pkt_set_rcode(resp, sq->zone[0] == 0 ? LDNS_RCODE_SERVFAIL :
	    LDNS_RCODE_REFUSED);
	if (sq->zone[0] == 0)
		sq->error = "no next plugin found";
}

static ldns_pkt *
server_check(struct server_query *sq, const uint8_t *query, ldns_pkt *q)
{
	ldns_rr		*question;
	ldns_pkt	*resp;

	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY)
		return server_reply(query, q, LDNS_RCODE_NOTIMPL);
	if (ldns_pkt_qdcount(q) != 1 || ldns_pkt_ancount(q) != 0 ||
	    ldns_pkt_nscount(q) != 0)
		return server_reply(query, NULL, LDNS_RCODE_FORMERR);
	resp = server_reply(query, q, LDNS_RCODE_NOERROR);
	if (ldns_pkt_edns(q) && ldns_pkt_edns_version(q) != 0) {
		/* BADVERS is 16: the upper bits live in the OPT record. */
		ldns_pkt_set_edns_extended_rcode(resp, 1);
		return resp;
	}
	question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	switch (ldns_rr_get_type(question)) {
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_IXFR:
		ldns_pkt_set_rcode(resp, LDNS_RCODE_REFUSED);
		return resp;
	default:
		break;
	}
	if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) {
		ldns_pkt_set_rcode(resp, LDNS_RCODE_REFUSED);
		return resp;
	}
	sq->resp = resp;
	server_resolve(sq, question);
	return sq->resp;	/* a cache hit replaced it */
}

/*
 * The question is the first name of a query, so a compression pointer in it
 * can only point at the header or forward: both malformed (and loop bait).
 */
static bool
server_qname_plain(const uint8_t *query, size_t len)
{
	for (size_t pos = 12; pos < len; pos += (size_t)query[pos] + 1) {
		if (query[pos] == 0)
			return true;
		if ((query[pos] & 0xc0) != 0)
			return false;
	}
	return false;
}

/*
 * RFC 6891 6.1.1: at most one OPT, owned by the root, its options filling
 * its RDATA exactly; anything else in the additional section must fit the
 * packet. False means FORMERR (ldns would take the first OPT and go on).
 */
static bool
server_additional_valid(const uint8_t *p, size_t len)
{
	size_t	pos = 12, nopt = 0;
	unsigned n = (unsigned)wire_get16(p + 4) + wire_get16(p + 6) +
	    wire_get16(p + 8);
	unsigned ar = wire_get16(p + 10);

	for (unsigned i = 0; i < wire_get16(p + 4); i++)
		if ((pos = wire_skip_name(p, len, pos)) == 0 ||
		    (pos += 4) > len)
			return false;
	for (unsigned i = wire_get16(p + 4); i < n + ar; i++) {
		size_t	 owner = pos, end;
		uint16_t type;

		if ((pos = wire_rr_fields(p, len, pos)) == 0)
			return false;
		type = wire_get16(p + pos);
		end = wire_rr_end(p, pos);
		pos += 10;
		if (type == LDNS_RR_TYPE_OPT) {
			if (i < n || ++nopt > 1 || p[owner] != 0)
				return false;
			for (; pos < end; pos += 4 + wire_get16(p + pos + 2))
				if (pos + 4 > end ||
				    pos + 4 + wire_get16(p + pos + 2) > end)
					return false;
		}
		pos = end;
	}
	return true;
}

/* loadbalance: the answer's A, AAAA and MX records in a random order, in place. */
static void
server_loadbalance(ldns_pkt *resp)
{
	ldns_rr_list	*an = ldns_pkt_answer(resp);
	size_t		 idx[256], n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(an) && n < 256; i++) {
		ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(an, i));

		if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA ||
		    t == LDNS_RR_TYPE_MX)
			idx[n++] = i;
	}
	for (size_t i = n; i > 1; i--) {
		size_t	 j = (size_t)random() % i;
		ldns_rr	*a = ldns_rr_list_rr(an, idx[i - 1]);

		ldns_rr_list_set_rr(an, ldns_rr_list_rr(an, idx[j]),
		    idx[i - 1]);
		ldns_rr_list_set_rr(an, a, idx[j]);
	}
}

/* "qr,aa,rd": the response's flags as CoreDNS's {>rflags}. */
static void
server_rflags(const ldns_pkt *p, char *buf, size_t len)
{
	const struct {
		bool		 (*get)(const ldns_pkt *);
		const char	*name;
	} flags[] = {
		{ ldns_pkt_qr, "qr" }, { ldns_pkt_aa, "aa" },
		{ ldns_pkt_tc, "tc" }, { ldns_pkt_rd, "rd" },
		{ ldns_pkt_ra, "ra" }, { ldns_pkt_ad, "ad" },
		{ ldns_pkt_cd, "cd" },
	};

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i].get(p))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] ? "," : "", flags[i].name);
}

/* The log directive's line, CoreDNS's {common} format. */
static void
server_log(const struct server_query *sq, size_t rsize, bool combined)
{
	const ldns_rr	*question = ldns_rr_list_rr(ldns_pkt_question(sq->q), 0);
	char		*name = ldns_rdf2str(ldns_rr_owner(question));
	char		*type = ldns_rr_type2str(ldns_rr_get_type(question));
	char		*class = ldns_rr_class2str(ldns_rr_get_class(question));
	char		*rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(sq->resp));
	char		 host[INET6_ADDRSTRLEN] = "?", rflags[64];
	struct timespec	 now;
	unsigned	 port = 0;
	double		 secs;

	if (sq->peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sq->peer;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sq->peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sq->peer;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - sq->start.tv_sec) +
	    (double)(now.tv_nsec - sq->start.tv_nsec) / 1e9;
	server_rflags(sq->resp, rflags, sizeof(rflags));
	log_info("%s%s%s:%u - %u \"%s %s %s %s %zu %s %u\" %s %s %zu %.9fs%s",
	    sq->peer->sa_family == AF_INET6 ? "[" : "", host,
	    sq->peer->sa_family == AF_INET6 ? "]" : "", port,
	    ldns_pkt_id(sq->q), type, class, name,
	    sq->transport == RESPONDER_TCP ? "tcp" : "udp", sq->qsize,
	    ldns_pkt_edns_do(sq->q) ? "true" : "false",
	    ldns_pkt_edns(sq->q) ? ldns_pkt_edns_udp_size(sq->q) : 512,
	    rcode, rflags, rsize, secs, combined ? " \"0\"" : "");
	free(name);
	free(type);
	free(class);
	free(rcode);
}

/*
 * errors: a SERVFAIL and its reason, as CoreDNS's errors directive logs it;
 * reasons matching a consolidate rule are counted, and logged once a period.
 */
static void
server_errors(const struct server_query *sq, const uint8_t *qname,
    uint16_t qtype)
{
	const char	*why = sq->error ? sq->error : "server failure";
	ldns_rdf	*owner;
	char		*name, *type;

	for (size_t i = 0; i < sq->b->cfg->nconsolidate; i++) {
		struct server_consolidate *c = &sq->b->cons[i];
		struct timeval	 tv = { c->cfg->ms / 1000,
				    c->cfg->ms % 1000 * 1000 };

		if (regexec(&c->re, why, 0, NULL, 0) != 0)
			continue;
		if (c->count++ > 0)
			return;
		evtimer_add(c->ev, &tv);
		if (!c->cfg->show_first)
			return;
		break;
	}
	owner = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dname_length(qname),
	    qname);
	name = ldns_rdf2str(owner);
	type = ldns_rr_type2str(qtype);
	log_errorx("plugin/errors: 2 %s %s: %s", name, type, why);
	ldns_rdf_deep_free(owner);
	free(name);
	free(type);
}

/* CoreDNS's response classes: success, denial (NXDOMAIN, NODATA), error. */
static unsigned
server_class(const ldns_pkt *resp)
{
	const ldns_rr_list *ns = ldns_pkt_authority(resp);

	switch (ldns_pkt_get_rcode(resp)) {
	case LDNS_RCODE_NXDOMAIN:
		return CONFIG_LOG_DENIAL;
	case LDNS_RCODE_NOERROR:
		if (ldns_pkt_ancount(resp) > 0)
			return CONFIG_LOG_SUCCESS;
		for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++)
			if (ldns_rr_get_type(ldns_rr_list_rr(ns, i)) ==
			    LDNS_RR_TYPE_SOA)
				return CONFIG_LOG_DENIAL;
		return CONFIG_LOG_SUCCESS;
	default:
		return CONFIG_LOG_ERROR;
	}
}

/* log: the first rule naming a zone above qname decides, by class. */
static const struct config_log *
server_log_rule(const struct server_query *sq)
{
	const ldns_rr	*question = ldns_rr_list_rr(ldns_pkt_question(sq->q), 0);
	const ldns_rdf	*owner = ldns_rr_owner(question);
	uint8_t		 lname[DNAME_MAX];

	if (ldns_rdf_size(owner) > DNAME_MAX)
		return NULL;
	memcpy(lname, ldns_rdf_data(owner), ldns_rdf_size(owner));
	dname_lower(lname);
	for (size_t l = 0; l < sq->b->cfg->nlogs; l++) {
		const struct config_log *rule = &sq->b->cfg->logs[l];

		for (size_t i = 0; i < rule->nnames; i++)
			if (sq->b->log_names[l][i] != NULL &&
			    dname_is_under(lname, sq->b->log_names[l][i]))
				return (rule->classes &
				    server_class(sq->resp)) ? rule : NULL;
	}
	return NULL;
}

/* The plugins whose responses_total series are kept resolved. */
static const char *const server_plugins[] = {
	"", "kubernetes", "cache", "forward", "whoami"
};
#define SERVER_NPLUGINS	(sizeof(server_plugins) / sizeof(server_plugins[0]))
/* Every qtype above 255 is "other" (metrics_qtype_label): one slot. */
#define SERVER_NQTYPES	257

/*
 * The per-query series of one zone label, resolved on first use and kept:
 * metrics_*_get hashes the labels, too slow for every query.
 */
struct server_series {
	struct metrics_counter	 *requests[2][2][SERVER_NQTYPES];
	struct metrics_counter	 *responses[16][SERVER_NPLUGINS];
	struct metrics_histogram *duration;
	struct metrics_histogram *size[2][2];	/* request, response; proto */
	char			  zone[DNAME_MAX * 4 + 2];
};

static struct server_series *
server_series_new(const uint8_t *zone)
{
	struct server_series	*se = xcalloc(1, sizeof(*se));

	if (zone == NULL) {
		snprintf(se->zone, sizeof(se->zone), "dropped");
		return se;
	}
	dname_to_str(zone, se->zone, sizeof(se->zone) - 1);
	if (strcmp(se->zone, ".") != 0)
		strcat(se->zone, ".");
	return se;
}

/* The series of the query's zone label (its block's zone, or "dropped"). */
static struct server_series *
server_series(const struct server_query *sq)
{
	struct server_block	*b = sq->b;

	for (size_t z = 0; b != NULL && sq->zone != NULL &&
	    z < b->cfg->nzones; z++)
		if (b->zones[z] == sq->zone)
			return b->series[z];
	return sq->s->dropped;
}

static size_t
server_plugin_index(const char *plugin)
{
	/* The same literal, mostly: its address before its bytes. */
	for (size_t i = 0; i < SERVER_NPLUGINS; i++)
		if (plugin == server_plugins[i])
			return i;
	for (size_t i = 0; i < SERVER_NPLUGINS; i++)
		if (strcmp(plugin, server_plugins[i]) == 0)
			return i;
	return SERVER_NPLUGINS;
}

/*
 * CoreDNS's request and response metrics for one query. As there, the
 * prometheus plugin of the query's block counts it: a block without one
 * counts nothing; a query no block took is counted as "dropped".
 */
static void
server_metrics(const struct server_query *sq, uint16_t qtype, int rcode,
    size_t rsize)
{
	struct metrics		 *m = sq->s->metrics;
	struct server_series	 *se;
	struct metrics_counter	**req, **resp, *other = NULL;
	const char		 *label = sq->s->label;
	const char		 *plugin = sq->plugin ? sq->plugin : "";
	int			  tcp = sq->transport == RESPONDER_TCP;
	int			  v6 = sq->peer->sa_family == AF_INET6;
	size_t			  pi;
	char			  rcbuf[16];
	struct timespec		  now;
	double			  secs;

	if (m == NULL || (sq->b != NULL && sq->b->cfg->prometheus == NULL))
		return;
	pi = server_plugin_index(plugin);
	se = server_series(sq);
	req = &se->requests[tcp][v6][qtype < 256 ? qtype : 256];
	if (*req == NULL)
		*req = metrics_counter_get(m, "coredns_dns_requests_total",
		    (const char *[]){ label, se->zone, "", tcp ? "tcp" : "udp",
		    v6 ? "2" : "1", metrics_qtype_label(qtype) });
	resp = rcode >= 0 && rcode < 16 && pi < SERVER_NPLUGINS ?
	    &se->responses[rcode][pi] : &other;
	if (*resp == NULL)
		*resp = metrics_counter_get(m, "coredns_dns_responses_total",
		    (const char *[]){ label, se->zone, "", metrics_rcode_label(
		    rcode, rcbuf, sizeof(rcbuf)), plugin });
	if (se->duration == NULL)
		se->duration = metrics_histogram_get(m,
		    "coredns_dns_request_duration_seconds",
		    (const char *[]){ label, se->zone, "" });
	for (int dir = 0; dir < 2; dir++)
		if (se->size[dir][tcp] == NULL)
			se->size[dir][tcp] = metrics_histogram_get(m, dir == 0 ?
			    "coredns_dns_request_size_bytes" :
			    "coredns_dns_response_size_bytes", (const char *[]){
			    label, se->zone, "", tcp ? "tcp" : "udp" });
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - sq->start.tv_sec) +
	    (double)(now.tv_nsec - sq->start.tv_nsec) / 1e9;
	metrics_counter_add(*req, 1);
	metrics_counter_add(*resp, 1);
	metrics_histogram_observe(se->duration, secs);
	metrics_histogram_observe(se->size[0][tcp], (double)sq->qsize);
	metrics_histogram_observe(se->size[1][tcp], (double)rsize);
}

/* The response leaves: the block's post-processing, rendering, logging. */
static size_t
server_finish(struct server_query *sq, uint8_t *out, size_t max)
{
	const struct config_log *rule;
	size_t	limit = 512, n;
	bool	parsed = sq->q != NULL && ldns_pkt_qdcount(sq->q) == 1;
	const ldns_rr *question = parsed ?
	    ldns_rr_list_rr(ldns_pkt_question(sq->q), 0) : NULL;

	if (sq->b != NULL && sq->b->cfg->loadbalance)
		server_loadbalance(sq->resp);
	if (sq->transport == RESPONDER_TCP)
		limit = UINT16_MAX;
	else if (sq->q != NULL && ldns_pkt_edns(sq->q) &&
	    ldns_pkt_edns_udp_size(sq->q) > limit)
		limit = ldns_pkt_edns_udp_size(sq->q);
	if (sq->cacheable) {
		n = server_cache_store(sq, out, max);
		if (n > limit)
			n = server_render(sq->resp, out, max, limit);
	} else
		n = server_render(sq->resp, out, max, limit);
	if (parsed)
		server_metrics(sq, ldns_rr_get_type(question),
		    ldns_pkt_get_rcode(sq->resp), n);
	if (parsed && sq->b != NULL && sq->b->cfg->nlogs > 0 &&
	    (rule = server_log_rule(sq)) != NULL)
		server_log(sq, n, rule->combined);
	if (parsed && sq->b != NULL && sq->b->cfg->errors &&
	    ldns_pkt_get_rcode(sq->resp) == LDNS_RCODE_SERVFAIL)
		server_errors(sq, ldns_rdf_data(ldns_rr_owner(question)),
		    ldns_rr_get_type(question));
	return n;
}

/* The upstream's answer (or none) goes to the client the query came from. */
static void
server_upstream_cb(void *arg, const uint8_t *resp, size_t len, int rcode)
{
	struct server_pending	*p = arg;
	struct server_query	*sq = &p->sq;
	ldns_pkt		*up = NULL;
	uint8_t			 out[UINT16_MAX];
	size_t			 n;

	p->req = NULL;
	if (resp != NULL && ldns_wire2pkt(&up, resp, len) == LDNS_STATUS_OK) {
		ldns_pkt_free(sq->resp);
		sq->resp = up;
	} else {
		ldns_pkt_set_rcode(sq->resp, rcode == FORWARD_REFUSED ?
		    LDNS_RCODE_REFUSED : LDNS_RCODE_SERVFAIL);
		sq->error = rcode == FORWARD_REFUSED ?
		    "plugin/forward: max_concurrent reached" :
		    "plugin/forward: no upstream answered";
		sq->cacheable = false;
	}
	if (p->ticket == NULL) {
		/* A refresh: nobody waits, the cache takes a good answer. */
		if (sq->cacheable)
			server_cache_store(sq, out, sizeof(out));
		server_pending_free(sq->s, p);
		return;
	}
	if (ldns_pkt_get_rcode(sq->resp) != LDNS_RCODE_NOERROR &&
	    ldns_pkt_get_rcode(sq->resp) != LDNS_RCODE_NXDOMAIN)
		server_stale(sq);
	n = server_finish(sq, out, sizeof(out));
	responder_answer(p->ticket, out, n);
	server_pending_free(sq->s, p);
}

/*
 * Sends the query to the forward its block chose; -1 when it could not
 * start. Without req (a cache refresh) nobody is answered.
 */
static int
server_upstream(struct server_query *sq, struct responder_req *req)
{
	struct server		*s = sq->s;
	struct server_pending	*p = xcalloc(1, sizeof(*p));

	p->sq = *sq;
	p->wire = xmalloc(sq->qsize);
	memcpy(p->wire, sq->wire, sq->qsize);
	p->sq.wire = p->wire;
	memcpy(&p->peer, sq->peer, sq->peerlen);
	p->sq.peer = (struct sockaddr *)&p->peer;
	p->req = forward_query(sq->forward, p->wire, sq->qsize,
	    sq->transport == RESPONDER_TCP, server_upstream_cb, p);
	if (p->req == NULL) {
		free(p->wire);
		free(p);
		return -1;
	}
	p->ticket = req != NULL ? responder_defer(req) : NULL;
	p->next = s->pending;
	if (s->pending != NULL)
		s->pending->prev = p;
	s->pending = p;
	return 0;
}

/* loadbalance on a wire answer; what wire_shuffle leaves (MX) goes through ldns. */
static size_t
server_loadbalance_wire(uint8_t *out, size_t n, size_t max, size_t limit)
{
	ldns_pkt	*p = NULL;

	if (wire_shuffle(out, n) || ldns_wire2pkt(&p, out, n) != LDNS_STATUS_OK)
		return n;
	server_loadbalance(p);
	n = server_render(p, out, max, limit);
	ldns_pkt_free(p);
	return n;
}

/*
 * A cache hit as it stands in the cache, or on a miss the zone's answer in
 * wire form, cached and then cut to the client's limit. Returns false to
 * leave the query to the ldns path (which then skips the cache lookup).
 */
static bool
server_fast_answer(struct server_query *sq, const struct wire_query *q,
    uint8_t *out, size_t max, size_t limit, size_t *n, int *rcode)
{
	struct server_block	*b = sq->b;
	struct wire_msg		 m;
	struct cache_key	 key;
	bool			 stale;
	time_t			 now = 0;
	uint64_t		 version = 0;
	bool			 memo;

	if (b->cache != NULL && cache_match(b->cache, q->qname)) {
		now = time(NULL);
		cache_key_wire(b->cache, q, &key);
		*n = cache_lookup_key(b->cache, &key, sq->wire,
		    sq->transport == RESPONDER_TCP ? 0 : (uint16_t)limit, now,
		    out, max, &stale);
		sq->cache_missed = true;
		if (*n > 0) {
			if (b->cfg->loadbalance)
				*n = server_loadbalance_wire(out, *n, max, limit);
			*rcode = *n >= 4 ? out[3] & 0x0f : 0;
			sq->plugin = "cache";
			return true;
		}
		sq->cacheable = true;
	}
	/* A name outside the plugin's zones: -1, as for any not answered here. */
	if (b->k == NULL)
		return false;
	wire_msg_init(&m, out, max, q);
	*rcode = -1;
	if ((memo = b->memo != NULL && memo_wanted(b->memo))) {
		version = kubernetes_version(b->k);
		*rcode = memo_get(b->memo, q, version, &m);
	}
	if (*rcode < 0) {
		*rcode = kubernetes_answer_wire(b->k, q, &m);
		if (*rcode < 0 || (*rcode == LDNS_RCODE_NXDOMAIN &&
		    kubernetes_fallthrough(b->k, q->qname)))
			return false;
		if (memo)
			memo_put(b->memo, q, version, &m, *rcode);
	}
	sq->plugin = "kubernetes";
	*n = wire_msg_finish(&m, *rcode, sq->cacheable ? UINT16_MAX : limit);
	if (*n == 0)
		return false;
	if (b->cfg->loadbalance)
		(void)wire_shuffle(out, *n);
	if (sq->cacheable) {
		cache_insert_key(b->cache, &key, out, *n, now);
		if (*n > limit)
			*n = wire_msg_finish(&m, *rcode, limit);
	}
	return true;
}

/*
 * The fast path: a plain query routed to a block whose answer needs no
 * ldns (cache hits, kubernetes zone answers). Returns false, having sent
 * nothing and counted nothing, to leave the query to the ldns path.
 */
static bool
server_fast(struct server_query *sq, const uint8_t *query, size_t len,
    uint8_t *out, size_t max, size_t *n)
{
	struct wire_query	 q;
	struct server_block	*b;
	const struct cache_config *cc;
	size_t			 limit = 512;
	int			 rcode;

	if (!wire_query_parse(query, len, &q) ||
	    (b = server_route(sq->s, q.lname, q.namelen, &sq->zone)) == NULL)
		return false;
	cc = b->cfg->cache;
	/* The log line, loop probes and cache refreshes are the ldns path's. */
	if (b->cfg->nlogs > 0 || (b->probe != NULL && dname_equal_nocase(q.qname,
	    b->probe)) || (b->cache != NULL && cc != NULL && (cc->prefetch >
	    0 || cc->serve_stale)))
		return false;
	if (sq->transport == RESPONDER_TCP)
		limit = UINT16_MAX;
	else if (q.edns && q.udp_size > limit)
		limit = q.udp_size;
	sq->b = b;
	if (!server_fast_answer(sq, &q, out, max, limit, n, &rcode)) {
		sq->b = NULL;
		sq->plugin = NULL;
		sq->cacheable = false;
		return false;
	}
	sq->s->nfast++;
	server_metrics(sq, q.qtype, rcode, *n);
	if (b->cfg->errors && rcode == LDNS_RCODE_SERVFAIL)
		server_errors(sq, q.qname, q.qtype);
	return true;
}

size_t
server_query(void *arg, const uint8_t *query, size_t len, uint8_t *out,
    size_t max, enum responder_transport transport,
    struct responder_req *req)
{
	struct server_query	 sq = { .s = arg, .transport = transport,
				    .qsize = len, .wire = query };
	size_t			 n;

	/* Too short to echo, or a response: never answer (no reflection loops). */
	if (len < 12 || (query[2] & 0x80) != 0)
		return 0;
	responder_received(req, &sq.start);
	sq.peer = responder_peer(req, &sq.peerlen);
	if (!sq.s->slow_only && server_fast(&sq, query, len, out, max, &n))
		return n;
	if (((query[2] >> 3) & 0xf) != LDNS_PACKET_QUERY)
		sq.resp = server_reply(query, NULL, LDNS_RCODE_NOTIMPL);
	else if (((query[4] | query[5]) != 0 && !server_qname_plain(query,
	    len)) || !server_additional_valid(query, len))
		sq.resp = server_reply(query, NULL, LDNS_RCODE_FORMERR);
	else if (ldns_wire2pkt(&sq.q, query, len) != LDNS_STATUS_OK)
		sq.resp = server_reply(query, NULL, LDNS_RCODE_FORMERR);
	else
		sq.resp = server_check(&sq, query, sq.q);
	if (sq.forward != NULL) {
		if (server_upstream(&sq, req) == 0)
			return 0;
		ldns_pkt_set_rcode(sq.resp, LDNS_RCODE_SERVFAIL);
		sq.error = "plugin/forward: cannot send the query";
	}
	n = server_finish(&sq, out, max);
	ldns_pkt_free(sq.q);
	ldns_pkt_free(sq.resp);
	return n;
}

void
server_set_fast(struct server *s, bool on)
{
	s->slow_only = !on;
}

size_t
server_fast_count(const struct server *s)
{
	return s->nfast;
}

void
server_probe_loops(struct server *s, const char *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd;

	memset(&ss, 0, sizeof(ss));
	if (addr != NULL && strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		sslen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, addr ? addr : "127.0.0.1", &in->sin_addr);
		sslen = sizeof(*in);
	}
	for (size_t i = 0; i < s->nblocks; i++) {
		ldns_pkt	*q;
		uint8_t		*wire = NULL;
		size_t		 len;
		ldns_rdf	*name;

		if (s->blocks[i].probe == NULL)
			continue;
		name = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
		    dname_length(s->blocks[i].probe), s->blocks[i].probe);
		q = ldns_pkt_query_new(name, LDNS_RR_TYPE_HINFO,
		    LDNS_RR_CLASS_IN, LDNS_RD);
		ldns_pkt_set_random_id(q);
		if (ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK &&
		    (fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) !=
		    -1) {
			/* The answer does not matter; the probe coming back does. */
			(void)sendto(fd, wire, len, 0, (struct sockaddr *)&ss,
			    sslen);
			close(fd);
		}
		free(wire);
		ldns_pkt_free(q);
	}
}
