/* cache.c -- the cache directive: CoreDNS's success and denial caches. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <ldns/ldns.h>
#include <urcu.h>

#include "cache.h"
#include "corefile.h"
#include "dname.h"
#include "rtable.h"
#include "wire.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* CoreDNS's defaults: plugin/cache and plugin/pkg/dnsutil. */
#define CACHE_CAPACITY		9984	/* 256 shards of 39 */
#define CACHE_SHARDS		256
#define CACHE_SHARD_MIN		4	/* so at least 1024 entries */
#define CACHE_MAX_TTL		3600
#define CACHE_MAX_NTTL		1800
#define CACHE_MIN_TTL		5
#define CACHE_PREFETCH_MS	60000
#define CACHE_PERCENT		10
#define CACHE_STALE_MS		3600000
#define CACHE_SERVFAIL_MS	5000
#define CACHE_SERVFAIL_MAX_MS	300000	/* RFC 2308 7.1: five minutes */
#define CACHE_EDNS_SIZE		1232

#define WIRE_OPT_LEN	11
#define TYPE_NS		2
#define TYPE_SOA	6
#define TYPE_OPT	41
#define TYPE_RRSIG	46
#define TYPE_TSIG	250

/* Parses one option line of the cache block; fills err and returns -1. */
typedef int	cache_option_fn(struct cache_config *,
		    const struct corefile_line *, char *, size_t);

struct cache_option {
	const char *name;
	size_t	 min;		/* argument counts */
	size_t	 max;
	cache_option_fn *parse;
};

static cache_option_fn opt_denial, opt_disable, opt_keepttl, opt_prefetch,
	    opt_serve_stale, opt_servfail, opt_success;

/* CoreDNS lets an option repeat; the last one wins, as there. */
static const struct cache_option cache_options[] = {
	{ "denial",	 1, 3,		opt_denial },
	{ "disable",	 1, SIZE_MAX,	opt_disable },
	{ "keepttl",	 0, 0,		opt_keepttl },
	{ "prefetch",	 1, 3,		opt_prefetch },
	{ "serve_stale", 0, 2,		opt_serve_stale },
	{ "servfail",	 1, 1,		opt_servfail },
	{ "success",	 1, 3,		opt_success },
};

static const char *const cache_type_names[CACHE_NTYPES] = {
	"success", "denial"
};

/* Go's strconv.Atoi, limited to int: [+-]digits and nothing else. */
static bool
parse_int(const char *s, long long *v)
{
	const char *d = s + (*s == '+' || *s == '-');
	char	*end;

	if (*d < '0' || *d > '9')
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' && *v >= INT_MIN && *v <= INT_MAX;
}

/* Durations as CoreDNS reads them, in this file's 64-bit milliseconds. */
static bool
duration_parse(const char *s, int64_t *ms, bool *neg)
{
	int	v;

	if (!corefile_duration(s, &v, neg))
		return false;
	*ms = v;
	return true;
}

/* success|denial CAPACITY [TTL [MINTTL]] */
static int
opt_type(struct cache_config_type *t, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const char *name = corefile_name(o), *a;
	long long v;

	a = corefile_arg(o, 0);
	if (!parse_int(a, &v) || v < 0)
		return corefile_errf(pos, err, errlen, "cache option '%s': "
		    "capacity '%s' is not a number of 0 or more", name, a);
	t->capacity = (int)v;
	if ((a = corefile_arg(o, 1)) == NULL)
		return 0;
	if (!parse_int(a, &v) || v <= 0)
		return corefile_errf(pos, err, errlen, "cache option '%s': "
		    "TTL '%s' is not a number above 0", name, a);
	t->max_ttl = (uint32_t)v;
	if ((a = corefile_arg(o, 2)) == NULL)
		return 0;
	if (!parse_int(a, &v) || v < 0)
		return corefile_errf(pos, err, errlen, "cache option '%s': "
		    "min TTL '%s' is not a number of 0 or more", name, a);
	t->min_ttl = (uint32_t)v;
	return 0;
}

static int
opt_success(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return opt_type(&cfg->type[CACHE_SUCCESS], o, err, errlen);
}

static int
opt_denial(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return opt_type(&cfg->type[CACHE_DENIAL], o, err, errlen);
}

/* prefetch AMOUNT [[DURATION] [PERCENTAGE%]] */
static int
opt_prefetch(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const char *a = corefile_arg(o, 0);
	char	*pct;
	long long v;
	size_t	 len;
	bool	 neg;

	if (!parse_int(a, &v) || v < 0)
		return corefile_errf(pos, err, errlen, "cache option "
		    "'prefetch': amount '%s' is not a number of 0 or more", a);
	cfg->prefetch = (int)v;
	if ((a = corefile_arg(o, 1)) != NULL &&
	    (!duration_parse(a, &cfg->prefetch_window_ms, &neg) || neg))
		return corefile_errf(pos, err, errlen, "cache option "
		    "'prefetch': invalid duration '%s' (as 1m or 30s)", a);
	if ((a = corefile_arg(o, 2)) == NULL)
		return 0;
	len = strlen(a);
	if (len == 0 || a[len - 1] != '%')
		return corefile_errf(pos, err, errlen, "cache option "
		    "'prefetch': percentage '%s' must end in '%%'", a);
	pct = xstrndup(a, len - 1);
	if (!parse_int(pct, &v) || v < 10 || v > 90) {
		free(pct);
		return corefile_errf(pos, err, errlen, "cache option "
		    "'prefetch': percentage '%s' is not in [10%%, 90%%]", a);
	}
	free(pct);
	cfg->prefetch_percent = (int)v;
	return 0;
}

/* serve_stale [DURATION] [immediate|verify] */
static int
opt_serve_stale(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const char *a;
	bool	 neg;

	cfg->serve_stale = true;
	cfg->stale_ms = CACHE_STALE_MS;
	cfg->stale_verify = false;
	if ((a = corefile_arg(o, 0)) != NULL &&
	    (!duration_parse(a, &cfg->stale_ms, &neg) || neg))
		return corefile_errf(pos, err, errlen, "cache option "
		    "'serve_stale': invalid duration '%s' (as 1h or 30m)", a);
	if ((a = corefile_arg(o, 1)) == NULL)
		return 0;
	if (strcasecmp(a, "verify") == 0)
		cfg->stale_verify = true;
	else if (strcasecmp(a, "immediate") != 0)
		return corefile_errf(pos, err, errlen, "cache option "
		    "'serve_stale': unknown refresh mode '%s' (immediate or "
		    "verify)", a);
	return 0;
}

/* servfail DURATION */
static int
opt_servfail(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a = corefile_arg(o, 0);
	int64_t	 ms;
	bool	 neg;

	if (!duration_parse(a, &ms, &neg) || neg)
		return corefile_errf(corefile_pos(o), err, errlen, "cache "
		    "option 'servfail': invalid duration '%s' (as 5s or 1m)",
		    a);
	if (ms > CACHE_SERVFAIL_MAX_MS)
		return corefile_errf(corefile_pos(o), err, errlen, "cache "
		    "option 'servfail': caching SERVFAIL responses over 5 "
		    "minutes is not permitted");
	cfg->servfail_ms = ms;
	return 0;
}

/* disable success|denial [ZONES...]: no zones means every zone. */
static int
opt_disable(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	struct cache_config_type *t;
	const char *a = corefile_arg(o, 0);
	char	 why[128], *z;

	if (strcmp(a, "success") == 0)
		t = &cfg->type[CACHE_SUCCESS];
	else if (strcmp(a, "denial") == 0)
		t = &cfg->type[CACHE_DENIAL];
	else
		return corefile_errf(pos, err, errlen, "cache option "
		    "'disable': unknown cache type '%s' (success or denial)",
		    a);
	xstrv_free(t->disabled, t->ndisabled);
	t->disabled = NULL;
	t->ndisabled = 0;
	if (corefile_nargs(o) == 1)
		xstrv_push(&t->disabled, &t->ndisabled, xstrdup("."));
	for (size_t i = 1; (a = corefile_arg(o, i)) != NULL; i++) {
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(pos, err, errlen, "cache option "
			    "'disable': zone '%s': %s", a, why);
		xstrv_push(&t->disabled, &t->ndisabled, z);
	}
	return 0;
}

static int
opt_keepttl(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	cfg->keepttl = true;
	return 0;
}

static struct cache_config *
cache_config_new(const struct corefile_line *l)
{
	struct cache_config *cfg = xcalloc(1, sizeof(*cfg));

	for (int t = 0; t < CACHE_NTYPES; t++) {
		cfg->type[t].capacity = CACHE_CAPACITY;
		cfg->type[t].min_ttl = CACHE_MIN_TTL;
	}
	cfg->type[CACHE_SUCCESS].max_ttl = CACHE_MAX_TTL;
	cfg->type[CACHE_DENIAL].max_ttl = CACHE_MAX_NTTL;
	cfg->prefetch_window_ms = CACHE_PREFETCH_MS;
	cfg->prefetch_percent = CACHE_PERCENT;
	cfg->servfail_ms = CACHE_SERVFAIL_MS;
	cfg->edns_size = CACHE_EDNS_SIZE;
	cfg->file = xstrdup(corefile_pos(l)->file);
	cfg->line = corefile_pos(l)->line;
	return cfg;
}

/* cache [TTL] [ZONES...]: a first argument that is a number is the TTL. */
static int
cache_config_args(struct cache_config *cfg, const struct corefile_line *l,
    char *err, size_t errlen)
{
	const char *a;
	char	 why[128], *z;
	long long ttl;
	size_t	 i = 0;

	if ((a = corefile_arg(l, 0)) != NULL && parse_int(a, &ttl)) {
		if (ttl <= 0)
			return corefile_errf(corefile_pos(l), err, errlen,
			    "cache: TTL can not be zero or negative: %s", a);
		cfg->type[CACHE_SUCCESS].max_ttl = (uint32_t)ttl;
		cfg->type[CACHE_DENIAL].max_ttl = (uint32_t)ttl;
		i++;
	} else if (a != NULL && strspn(a, "+-0123456789") == strlen(a))
		return corefile_errf(corefile_pos(l), err, errlen,
		    "cache: TTL '%s' is out of range", a);
	for (; (a = corefile_arg(l, i)) != NULL; i++) {
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(corefile_pos(l), err, errlen,
			    "cache: zone '%s': %s", a, why);
		xstrv_push(&cfg->zones, &cfg->nzones, z);
	}
	return 0;
}

static const struct cache_option *
cache_option_find(const char *name)
{
	for (size_t i = 0; i < nitems(cache_options); i++)
		if (strcmp(cache_options[i].name, name) == 0)
			return &cache_options[i];
	return NULL;
}

static int
cache_config_option(struct cache_config *cfg, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct cache_option *opt;
	const char *name = corefile_name(o);
	size_t	 n = corefile_nargs(o);

	if ((opt = cache_option_find(name)) == NULL)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "cache: unknown option '%s'", name);
	if (corefile_has_block(o))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "cache option '%s': takes no block", name);
	if (n < opt->min || n > opt->max)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "cache option '%s': wrong number of arguments (%zu)", name,
		    n);
	return opt->parse(cfg, o, err, errlen);
}

int
cache_config_parse(const struct corefile_line *l, struct cache_config **out,
    char *err, size_t errlen)
{
	const struct corefile_line *o;
	struct cache_config *cfg = cache_config_new(l);

	*out = NULL;
	if (cache_config_args(cfg, l, err, errlen) == -1)
		goto fail;
	for (o = corefile_options(l); o != NULL; o = corefile_next(o))
		if (cache_config_option(cfg, o, err, errlen) == -1)
			goto fail;
	*out = cfg;
	return 0;
fail:
	cache_config_free(cfg);
	return -1;
}

void
cache_config_free(struct cache_config *cfg)
{
	if (cfg == NULL)
		return;
	xstrv_free(cfg->zones, cfg->nzones);
	for (int t = 0; t < CACHE_NTYPES; t++)
		xstrv_free(cfg->type[t].disabled, cfg->type[t].ndisabled);
	free(cfg->file);
	free(cfg);
}

/*
 * The cache: one index over both types (an rtable: a miss reads a slot line,
 * not a chain of entries), and per type a list in least-recently-used order
 * whose length is bounded by the type's capacity. A key is the lower-cased
 * qname, qtype, qclass and the query's DO and CD bits; an entry holds the
 * reply as wire, without OPT or TSIG, with every TTL set to the entry's TTL
 * as CoreDNS sets them.
 */
#define KEY_DO		0x01
#define KEY_CD		0x02

struct cache_entry {
	struct cache_entry *prev, *next;	/* its type's LRU list */
	uint64_t hash;
	time_t	 stored;
	uint32_t ttl;		/* as stored; the age is taken off it */
	enum cache_type type;
	bool	 servfail;	/* SERVFAIL or NOTIMP */
	bool	 ad;
	time_t	 freq_last;	/* prefetch: last hit in the window */
	int	 freq_hits;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t	 flags;		/* KEY_DO, KEY_CD */
	uint8_t	 namelen;
	uint16_t qend;		/* end of the question */
	uint16_t aroff;		/* start of the additional section */
	uint16_t len;
	uint32_t room;		/* bytes data has */
	uint8_t	 data[];	/* wire, then the key's name */
};

/* data's room is rounded up so that a removed entry's memory fits most new ones. */
#define CACHE_ROOM_STEP	32

struct cache_list {
	struct cache_entry *head, *tail;
	size_t	 n;
	size_t	 cap;
};

struct cache_zones {
	uint8_t	**names;	/* lower-case wire */
	size_t	 n;
	bool	 root;		/* "." among them: every name matches */
};

struct cache {
	struct rtable *index;	/* entries by hash */
	struct cache_entry *spare;	/* the last removed, for the next insert */
	uint64_t seed;
	struct cache_list list[CACHE_NTYPES];
	struct cache_zones zones;
	struct cache_zones disabled[CACHE_NTYPES];
	uint32_t max_ttl[CACHE_NTYPES];
	uint32_t min_ttl[CACHE_NTYPES];
	int	 prefetch;
	int	 prefetch_percent;
	time_t	 prefetch_window;
	time_t	 stale;		/* seconds; 0 is off */
	bool	 stale_verify;
	uint32_t servfail;
	bool	 keepttl;
	uint16_t edns_size;
	char	*zones_label;
	struct cache_stats stats;
};

/* Reply classes, as CoreDNS's response.Typify names them. */
enum cache_kind {
	KIND_NOERROR,
	KIND_NXDOMAIN,
	KIND_NODATA,
	KIND_SERVFAIL,
	KIND_DELEGATION,
	KIND_OTHER		/* errors, meta, updates: never cached */
};

/*
 * Walks n records of w from pos; sets their TTLs in set (w or a copy of
 * it) to ttl, but an OPT's, when set is not NULL. Returns the offset past
 * them, 0 when malformed. *opt, when not NULL, tells an OPT and its DO bit.
 */
static size_t
wire_walk(const uint8_t *w, size_t len, size_t pos, unsigned n,
    uint8_t *set, uint32_t ttl, int *opt)
{
	for (unsigned i = 0; i < n; i++) {
		if ((pos = wire_rr_fields(w, len, pos)) == 0)
			return 0;
		if (opt != NULL && wire_get16(w + pos) == TYPE_OPT)
			*opt = (w[pos + 6] & 0x80) ? 2 : 1;
		if (set != NULL && wire_get16(w + pos) != TYPE_OPT)
			wire_put32(set + pos + 4, ttl);
		pos = wire_rr_end(w, pos);
	}
	return pos;
}

/*
 * The name eight bytes a step from a per-cache seed, then murmur3's
 * finalizer: the home slot depends on the whole hash, which clients
 * cannot compute to crowd a run of slots.
 */
static uint64_t
cache_hash(uint64_t seed, const struct cache_key *q)
{
	uint8_t	 tail[5];
	uint64_t h = dname_hash_fold(seed ^ q->namelen, q->lname, q->namelen);

	wire_put16(tail, q->qtype);
	wire_put16(tail + 2, q->qclass);
	tail[4] = q->flags;
	h = dname_hash_fold(h, tail, sizeof(tail));
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 33);
}

/*
 * Reads the question and the OPT's DO bit. A query's name is never
 * compressed (it is the first name of the message).
 */
bool
cache_key(const struct cache *c, const uint8_t *w, size_t len,
    struct cache_key *q)
{
	size_t	 pos = WIRE_HEADER;
	int	 opt = 0;

	memset(q, 0, sizeof(*q));
	if (len < WIRE_HEADER || (w[2] & 0x80) != 0 ||
	    ((w[2] >> 3) & 0xf) != LDNS_PACKET_QUERY || wire_get16(w + 4) != 1)
		return false;
	while (pos < len && w[pos] != 0) {
		if ((w[pos] & 0xc0) != 0 || pos + w[pos] + 1 - WIRE_HEADER >=
		    DNAME_MAX)
			return false;
		pos += (size_t)w[pos] + 1;
	}
	if (pos + 5 > len)
		return false;
	q->qname = w + WIRE_HEADER;
	q->namelen = pos + 1 - WIRE_HEADER;
	dname_lower_copy_len(q->lname, q->qname, q->namelen);
	pos++;
	q->qtype = wire_get16(w + pos);
	q->qclass = wire_get16(w + pos + 2);
	pos = wire_walk(w, len, pos + 4, (unsigned)wire_get16(w + 6) +
	    wire_get16(w + 8), NULL, 0, NULL);
	if (pos == 0 || wire_walk(w, len, pos, wire_get16(w + 10), NULL, 0,
	    &opt) == 0)
		return false;
	q->edns = opt != 0;
	q->flags = (opt == 2 ? KEY_DO : 0) | ((w[3] & 0x10) ? KEY_CD : 0);
	q->ad = (w[3] & 0x20) != 0;
	q->hash = cache_hash(c->seed, q);
	return true;
}

void
cache_key_wire(const struct cache *c, const struct wire_query *wq,
    struct cache_key *q)
{
	const uint8_t	*w = wq->pkt;

	q->qname = wq->qname;
	q->namelen = wq->namelen;
	memcpy(q->lname, wq->lname, q->namelen);
	q->qtype = wq->qtype;
	q->qclass = wq->qclass;
	q->edns = wq->edns;
	q->flags = (wq->dnssec_ok ? KEY_DO : 0) | ((w[3] & 0x10) ? KEY_CD : 0);
	q->ad = (w[3] & 0x20) != 0;
	q->hash = cache_hash(c->seed, q);
}

static bool
zones_match(const struct cache_zones *z, const uint8_t *lname)
{
	if (z->root)
		return true;
	for (size_t i = 0; i < z->n; i++)
		if (dname_is_under(lname, z->names[i]))
			return true;
	return false;
}

static void
zones_init(struct cache_zones *z, char *const *names, size_t n)
{
	uint8_t	 wire[DNAME_MAX];
	int	 len;

	z->names = xcalloc(n, sizeof(*z->names));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], ".") == 0 ||
		    (len = dname_from_str(names[i], wire)) < 0) {
			wire[0] = 0;
			len = 1;
		}
		z->names[z->n] = xmalloc((size_t)len);
		memcpy(z->names[z->n++], wire, (size_t)len);
		z->root |= len == 1;
	}
}

static void
zones_clear(struct cache_zones *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->names[i]);
	free(z->names);
}

/* CoreDNS's zones label: the origins as FQDNs, joined by commas. */
static char *
zones_label(char *const *names, size_t n)
{
	char	*label = xstrdup(""), *t;

	for (size_t i = 0; i < n; i++) {
		t = xasprintf("%s%s%s%s", label, i ? "," : "", names[i],
		    strcmp(names[i], ".") == 0 ? "" : ".");
		free(label);
		label = t;
	}
	return label;
}

/* CoreDNS rounds a capacity down to its 256 shards, 4 entries each at least. */
static size_t
cache_capacity(int capacity)
{
	size_t	 shard = (size_t)capacity / CACHE_SHARDS;

	return (shard < CACHE_SHARD_MIN ? CACHE_SHARD_MIN : shard) *
	    CACHE_SHARDS;
}

struct cache *
cache_new(const struct cache_config *cfg)
{
	struct cache *c = xcalloc(1, sizeof(*c));

	if (getrandom(&c->seed, sizeof(c->seed), 0) != sizeof(c->seed))
		c->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
	for (int t = 0; t < CACHE_NTYPES; t++) {
		c->list[t].cap = cache_capacity(cfg->type[t].capacity);
		c->max_ttl[t] = cfg->type[t].max_ttl;
		c->min_ttl[t] = cfg->type[t].min_ttl;
		zones_init(&c->disabled[t], cfg->type[t].disabled,
		    cfg->type[t].ndisabled);
	}
	c->index = rtable_new();
	zones_init(&c->zones, cfg->zones, cfg->nzones);
	c->zones_label = zones_label(cfg->zones, cfg->nzones);
	c->prefetch = cfg->prefetch;
	c->prefetch_percent = cfg->prefetch_percent;
	c->prefetch_window = (time_t)(cfg->prefetch_window_ms / 1000);
	c->stale = cfg->serve_stale ? (time_t)(cfg->stale_ms / 1000) : 0;
	c->stale_verify = cfg->stale_verify;
	c->servfail = (uint32_t)(cfg->servfail_ms / 1000);
	c->keepttl = cfg->keepttl;
	c->edns_size = cfg->edns_size;
	return c;
}

void
cache_free(struct cache *c)
{
	struct cache_entry *e, *next;

	if (c == NULL)
		return;
	for (int t = 0; t < CACHE_NTYPES; t++) {
		for (e = c->list[t].head; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		zones_clear(&c->disabled[t]);
	}
	zones_clear(&c->zones);
	free(c->zones_label);
	free(c->spare);
	rtable_free(c->index);
	rcu_barrier();		/* arrays the index's growth retired */
	free(c);
}

bool
cache_match(const struct cache *c, const uint8_t *qname)
{
	uint8_t	 lname[DNAME_MAX];
	size_t	 len;

	/* kubeadm's cache line: the block's zone, the root. Nothing to fold. */
	if (c->zones.n == 0 || c->zones.root)
		return true;
	len = dname_length(qname);
	if (len > DNAME_MAX)
		return false;
	dname_lower_copy_len(lname, qname, len);
	return zones_match(&c->zones, lname);
}

const char *
cache_type_name(enum cache_type t)
{
	return t < CACHE_NTYPES ? cache_type_names[t] : "unknown";
}

const char *
cache_zones_label(const struct cache *c)
{
	return c->zones_label;
}

void
cache_stats(struct cache *c, struct cache_stats *st)
{
	*st = c->stats;
	for (int t = 0; t < CACHE_NTYPES; t++)
		st->entries[t] = c->list[t].n;
}

/* The entry's TTL left at now: 0 or less once expired. */
static int64_t
entry_ttl(const struct cache_entry *e, time_t now)
{
	int64_t	 age = now > e->stored ? (int64_t)(now - e->stored) : 0;

	return (int64_t)e->ttl - age;
}

/*
 * Expired, but within serve_stale's duration. A stale SERVFAIL is worth
 * less than asking again, so unlike CoreDNS it is never served.
 */
static bool
entry_stale_ok(const struct cache *c, const struct cache_entry *e,
    time_t now)
{
	int64_t	 ttl = entry_ttl(e, now);

	return ttl <= 0 && c->stale > 0 && -ttl < (int64_t)c->stale &&
	    !e->servfail;
}

static struct cache_entry *
cache_find(const struct cache *c, const struct cache_key *q)
{
	struct rtable_iter it;
	struct cache_entry *e;

	/* The index compares the whole hash. */
	for (e = rtable_first(c->index, q->hash, &it); e != NULL;
	    e = rtable_next(&it))
		if (e->qtype == q->qtype &&
		    e->qclass == q->qclass && e->flags == q->flags &&
		    e->namelen == q->namelen &&
		    memcmp(e->data + e->len, q->lname, q->namelen) == 0)
			return e;
	return NULL;
}

static void
list_unlink(struct cache_list *l, struct cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	l->n--;
}

static void
list_push(struct cache_list *l, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head != NULL)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
	l->n++;
}

/*
 * Unlinks e from its index and list; its memory becomes the spare (an
 * insert after an eviction reuses it instead of freeing a cold block and
 * allocating another).
 */
static void
cache_remove(struct cache *c, struct cache_entry *e)
{
	rtable_del(c->index, e->hash, e);
	list_unlink(&c->list[e->type], e);
	free(c->spare);
	c->spare = e;
}

/*
 * Writes e as the answer to q (query's wire) with TTL ttl, as described
 * at cache_lookup. Returns the length, or 0 when out is too small.
 */
static size_t
cache_render(const struct cache *c, const struct cache_entry *e,
    const struct cache_key *q, const uint8_t *query, uint32_t ttl,
    uint16_t udp_size, uint8_t *out, size_t outmax)
{
	size_t	 limit = udp_size != 0 ? udp_size : UINT16_MAX;
	size_t	 opt = q->edns ? WIRE_OPT_LEN : 0, len = e->len;
	unsigned rrs;
	bool	 tc = false;

	if (limit > outmax)
		limit = outmax;
	if (len + opt > limit)
		len = e->aroff;
	if (len + opt > limit) {
		len = e->qend;
		tc = true;
	}
	if (len + opt > limit)
		return 0;
	memcpy(out, e->data, len);
	memcpy(out, query, 2);
	/* QR, the query's opcode and RD; AA as CoreDNS always sets it. */
	out[2] = (uint8_t)(0x80 | (query[2] & 0x79) | 0x04 | (tc ? 0x02 : 0));
	/* The stored RA and rcode; AD only for a client that asked for it. */
	out[3] = (uint8_t)((e->data[3] & 0x8f) | (query[3] & 0x10) |
	    (e->ad && ((q->flags & KEY_DO) || q->ad) ? 0x20 : 0));
	memcpy(out + WIRE_HEADER, q->qname, q->namelen);
	if (tc)
		memset(out + 6, 0, 6);
	else if (len == e->aroff)
		memset(out + 10, 0, 2);
	rrs = (unsigned)wire_get16(out + 6) + wire_get16(out + 8) +
	    wire_get16(out + 10);
	(void)wire_walk(e->data, len, e->qend, rrs, out, ttl, NULL);
	if (opt != 0) {
		memset(out + len, 0, WIRE_OPT_LEN);
		wire_put16(out + len + 1, TYPE_OPT);
		wire_put16(out + len + 3, c->edns_size);
		out[len + 7] = (q->flags & KEY_DO) ? 0x80 : 0;
		wire_put16(out + 10, (uint16_t)(wire_get16(out + 10) + 1));
	}
	return len + opt;
}

/* The TTL a hit shows: the stored one with keepttl, 0 when stale. */
static uint32_t
entry_show_ttl(const struct cache *c, const struct cache_entry *e,
    time_t now)
{
	int64_t	 ttl = entry_ttl(e, now);

	if (ttl <= 0)
		return 0;
	return c->keepttl ? e->ttl : (uint32_t)ttl;
}

static size_t
cache_hit(struct cache *c, struct cache_entry *e, const struct cache_key *q,
    const uint8_t *query, uint16_t udp_size, time_t now, uint8_t *out,
    size_t outmax)
{
	size_t	 n;

	n = cache_render(c, e, q, query, entry_show_ttl(c, e, now), udp_size,
	    out, outmax);
	if (n > 0) {
		list_unlink(&c->list[e->type], e);
		list_push(&c->list[e->type], e);
	}
	return n;
}

size_t
cache_lookup(struct cache *c, const uint8_t *query, size_t qlen,
    uint16_t udp_size, time_t now, uint8_t *out, size_t outmax, bool *stale)
{
	struct cache_key q;

	*stale = false;
	if (!cache_key(c, query, qlen, &q))
		return 0;
	return cache_lookup_key(c, &q, query, udp_size, now, out, outmax,
	    stale);
}

size_t
cache_lookup_key(struct cache *c, const struct cache_key *q,
    const uint8_t *query, uint16_t udp_size, time_t now, uint8_t *out,
    size_t outmax, bool *stale)
{
	struct cache_entry *e;
	size_t	 n = 0;

	*stale = false;
	c->stats.requests++;
	if ((e = cache_find(c, q)) == NULL)
		;
	else if (entry_ttl(e, now) > 0)
		n = cache_hit(c, e, q, query, udp_size, now, out, outmax);
	else if (!entry_stale_ok(c, e, now))
		cache_remove(c, e);
	else if (!c->stale_verify &&
	    (n = cache_hit(c, e, q, query, udp_size, now, out, outmax)) > 0) {
		/* Immediate mode: the caller refreshes it, as a prefetch. */
		*stale = true;
		c->stats.served_stale++;
		c->stats.prefetches++;
	}
	if (n > 0)
		c->stats.hits[e->type]++;
	else
		c->stats.misses++;
	return n;
}

size_t
cache_lookup_stale(struct cache *c, const uint8_t *query, size_t qlen,
    uint16_t udp_size, time_t now, uint8_t *out, size_t outmax)
{
	struct cache_key q;
	struct cache_entry *e;
	size_t	 n = 0;

	if (c->stale == 0 || !cache_key(c, query, qlen, &q))
		return 0;
	if ((e = cache_find(c, &q)) != NULL &&
	    (entry_ttl(e, now) > 0 || entry_stale_ok(c, e, now)) &&
	    (n = cache_hit(c, e, &q, query, udp_size, now, out, outmax)) > 0 &&
	    entry_ttl(e, now) <= 0)
		c->stats.served_stale++;
	return n;
}

/* CoreDNS's freq.Update: hits without a gap of the window, then the test. */
bool
cache_should_prefetch(struct cache *c, const uint8_t *query, size_t qlen,
    time_t now)
{
	struct cache_key q;
	struct cache_entry *e;
	int64_t	 ttl, threshold;
	bool	 due = false;

	if (c->prefetch <= 0 || !cache_key(c, query, qlen, &q))
		return false;
	if ((e = cache_find(c, &q)) != NULL && (ttl = entry_ttl(e, now)) > 0) {
		if (e->freq_hits == 0 ||
		    e->freq_last < now - c->prefetch_window)
			e->freq_hits = 1;
		else
			e->freq_hits++;
		e->freq_last = now;
		threshold = ((int64_t)c->prefetch_percent * e->ttl + 99) / 100;
		due = e->freq_hits >= c->prefetch && ttl <= threshold;
		if (due)
			c->stats.prefetches++;
	}
	return due;
}

/* Go's dns.RRSIG.ValidityPeriod, serial arithmetic and all (RFC 4034 3.1.5). */
static bool
rrsig_expired(const uint8_t *rdata, time_t now)
{
	const int64_t year68 = INT64_C(1) << 31;
	int64_t	 utc = (int64_t)now;
	int64_t	 exp = wire_get32(rdata + 8), inc = wire_get32(rdata + 12);
	int64_t	 ti = inc + (inc - utc) / year68 * year68;
	int64_t	 te = exp + (exp - utc) / year68 * year68;

	return !(ti <= utc && utc <= te);
}

/*
 * What one walk of a reply tells cache_insert. As a parsed packet holds
 * them, an OPT and a TSIG in the additional section are not records of it:
 * an entry keeps the bytes before them.
 */
struct cache_reply {
	size_t	 aroff;		/* the additional section */
	size_t	 keep;		/* bytes an entry keeps */
	uint16_t arcount;	/* additional records it keeps */
	unsigned nrr;		/* records, OPT and TSIG aside */
	bool	 tail_ok;	/* no record to keep after an OPT or TSIG */
	bool	 do_bit;	/* the OPT's */
	uint8_t	 ext_rcode;	/* the OPT's upper rcode bits */
	bool	 soa, ns;	/* in authority */
	bool	 sig_expired;	/* an RRSIG out of its validity period */
	uint32_t min_ttl;	/* of the records */
	uint32_t soa_min;	/* an authority SOA's MINIMUM (RFC 2308 5) */
};

/* The record at pos of section sec (0 answer, 1 authority, 2 additional) into r. */
static size_t
cache_reply_rr(const uint8_t *w, size_t len, size_t pos, int sec,
    time_t now, struct cache_reply *r)
{
	size_t	 start = pos, rd, end, n;
	uint16_t type;
	uint32_t ttl;

	if ((pos = wire_rr_fields(w, len, pos)) == 0)
		return 0;
	end = wire_rr_end(w, pos);
	type = wire_get16(w + pos);
	ttl = wire_get32(w + pos + 4);
	rd = pos + 10;
	if (sec == 2 && (type == TYPE_OPT || type == TYPE_TSIG)) {
		if (type == TYPE_OPT) {
			r->ext_rcode = w[pos + 4];
			r->do_bit = (w[pos + 6] & 0x80) != 0;
		}
		if (r->keep == 0)
			r->keep = start;
		return end;
	}
	if (r->keep != 0)
		r->tail_ok = false;
	r->arcount += sec == 2;
	r->nrr++;
	if (ttl < r->min_ttl)
		r->min_ttl = ttl;
	if (type == TYPE_RRSIG && end - rd >= 18 && rrsig_expired(w + rd, now))
		r->sig_expired = true;
	if (sec == 1 && type == TYPE_NS)
		r->ns = true;
	/* SOA: two names, then five numbers, MINIMUM last. */
	if (sec == 1 && type == TYPE_SOA) {
		r->soa = true;
		if ((n = wire_skip_name(w, end, rd)) != 0 &&
		    (n = wire_skip_name(w, end, n)) != 0 && n + 20 == end &&
		    wire_get32(w + end - 4) < r->soa_min)
			r->soa_min = wire_get32(w + end - 4);
	}
	return end;
}

/*
 * Walks reply w: one question, q's name (any case), type and class; then
 * every record. False when it is no reply to q or is malformed.
 */
static bool
cache_reply_scan(const uint8_t *w, size_t len, const struct cache_key *q,
    time_t now, struct cache_reply *r)
{
	size_t	 pos = WIRE_HEADER + q->namelen;

	memset(r, 0, sizeof(*r));
	r->tail_ok = true;
	r->min_ttl = r->soa_min = UINT32_MAX;
	if (len < pos + 4 || (w[2] & 0x80) == 0 || wire_get16(w + 4) != 1)
		return false;
	/*
	 * Byte by byte against the asked name, folded: length bytes (below
	 * 'A') must be equal, so a compressed or other name never matches.
	 * Most replies echo the question as asked: one memcmp then.
	 */
	if (memcmp(w + WIRE_HEADER, q->qname, q->namelen) != 0)
		for (size_t i = 0; i < q->namelen; i++)
			if (dname_lower_byte(w[WIRE_HEADER + i]) != q->lname[i])
				return false;
	if (wire_get16(w + pos) != q->qtype || wire_get16(w + pos + 2) !=
	    q->qclass)
		return false;
	pos += 4;
	for (int sec = 0; sec < 3; sec++) {
		if (sec == 2)
			r->aroff = pos;
		for (unsigned i = 0; i < wire_get16(w + 6 + 2 * sec); i++)
			if ((pos = cache_reply_rr(w, len, pos, sec, now, r)) == 0)
				return false;
	}
	if (r->keep == 0)
		r->keep = pos;
	return true;
}

/* CoreDNS's response.Typify. */
static enum cache_kind
cache_classify(const uint8_t *w, const struct cache_reply *r, uint16_t qtype)
{
	unsigned rcode = w[3] & 0x0f;

	if (((w[2] >> 3) & 0xf) != LDNS_PACKET_QUERY ||
	    qtype == LDNS_RR_TYPE_AXFR || qtype == LDNS_RR_TYPE_IXFR ||
	    r->ext_rcode != 0 || (r->do_bit && r->sig_expired))
		return KIND_OTHER;
	if (wire_get16(w + 6) > 0 && rcode == LDNS_RCODE_NOERROR)
		return KIND_NOERROR;
	if (r->soa && rcode == LDNS_RCODE_NOERROR)
		return KIND_NODATA;
	if (r->soa && rcode == LDNS_RCODE_NXDOMAIN)
		return KIND_NXDOMAIN;
	if (rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_NOTIMPL)
		return KIND_SERVFAIL;
	if (r->ns && rcode == LDNS_RCODE_NOERROR)
		return KIND_DELEGATION;
	if (rcode == LDNS_RCODE_NOERROR)
		return KIND_NOERROR;
	return KIND_OTHER;
}

/*
 * CoreDNS's dnsutil.MinimalTTL capped by computeTTL: the lowest TTL in the
 * reply (at most 3600; 5 when there are no records, and for delegations and
 * errors) between the type's MINTTL and TTL, the TTL winning. Denials also
 * take the SOA's MINIMUM into account, as RFC 2308 5 asks. SERVFAIL is kept
 * for its duration.
 */
static uint32_t
cache_duration(const struct cache *c, const struct cache_reply *r,
    enum cache_kind k, enum cache_type t)
{
	uint32_t ttl = CACHE_MAX_TTL;

	if (k == KIND_SERVFAIL)
		return c->servfail;
	if (k == KIND_DELEGATION || k == KIND_OTHER || r->nrr == 0)
		ttl = CACHE_MIN_TTL;
	else {
		if (r->min_ttl < ttl)
			ttl = r->min_ttl;
		if ((k == KIND_NXDOMAIN || k == KIND_NODATA) && r->soa_min < ttl)
			ttl = r->soa_min;
	}
	if (ttl < c->min_ttl[t])
		ttl = c->min_ttl[t];
	if (ttl > c->max_ttl[t])
		ttl = c->max_ttl[t];
	return ttl;
}

/* The entry for reply w (its TTLs rewritten already): the bytes before any OPT or TSIG. */
static struct cache_entry *
cache_entry_new(struct cache *c, const uint8_t *w,
    const struct cache_reply *r, const struct cache_key *q, uint32_t ttl,
    bool ad)
{
	struct cache_entry *e;
	size_t	 need = r->keep + q->namelen, room;

	if (r->keep > UINT16_MAX)
		return NULL;
	if (c->spare != NULL && c->spare->room >= need) {
		e = c->spare;
		room = e->room;
		c->spare = NULL;
	} else {
		room = (need + CACHE_ROOM_STEP - 1) & ~(size_t)(CACHE_ROOM_STEP - 1);
		e = xmalloc(sizeof(*e) + room);
	}
	memset(e, 0, sizeof(*e));
	e->room = (uint32_t)room;
	memcpy(e->data, w, r->keep);
	wire_put16(e->data + 10, r->arcount);
	memcpy(e->data + r->keep, q->lname, q->namelen);
	e->len = (uint16_t)r->keep;
	e->qend = (uint16_t)(WIRE_HEADER + q->namelen + 4);
	e->aroff = (uint16_t)r->aroff;
	e->hash = q->hash;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->flags = q->flags;
	e->namelen = (uint8_t)q->namelen;
	e->ttl = ttl;
	e->ad = ad;
	return e;
}

/*
 * Puts e in, replacing the key's entry; a full list evicts its least
 * recently used. A SERVFAIL does not replace data still fresh or servable
 * stale (RFC 8767 4): that is what serve_stale keeps it for.
 */
static void
cache_put(struct cache *c, struct cache_entry *e, const struct cache_key *q,
    time_t now)
{
	struct cache_list *l = &c->list[e->type];
	struct cache_entry *old;

	if ((old = cache_find(c, q)) != NULL) {
		if (entry_ttl(old, now) > 0 || entry_stale_ok(c, old, now)) {
			if (e->servfail && !old->servfail) {
				free(e);
				return;
			}
			/* A refresh keeps the popularity (doPrefetch). */
			e->freq_hits = old->freq_hits;
			e->freq_last = old->freq_hits > 0 ? now : 0;
		}
		cache_remove(c, old);
	}
	if (l->n >= l->cap && l->tail != NULL) {
		cache_remove(c, l->tail);
		c->stats.evictions[e->type]++;
	}
	rtable_add(c->index, e->hash, e);
	list_push(l, e);
}

void
cache_insert(struct cache *c, const uint8_t *query, size_t qlen,
    uint8_t *resp, size_t rlen, time_t now)
{
	struct cache_key q;

	if (cache_key(c, query, qlen, &q) && cache_match(c, q.qname))
		cache_insert_key(c, &q, resp, rlen, now);
}

void
cache_insert_key(struct cache *c, const struct cache_key *q, uint8_t *resp,
    size_t rlen, time_t now)
{
	struct cache_reply r;
	struct cache_entry *e;
	enum cache_kind k;
	enum cache_type t;
	uint32_t ttl;
	bool	 ad;

	if (!cache_reply_scan(resp, rlen, q, now, &r)) {
		c->stats.drops++;
		return;
	}
	k = cache_classify(resp, &r, q->qtype);
	t = k == KIND_NXDOMAIN || k == KIND_NODATA || k == KIND_SERVFAIL ?
	    CACHE_DENIAL : CACHE_SUCCESS;
	ttl = cache_duration(c, &r, k, t);
	/* CoreDNS keeps AD only for a client that could see it. */
	ad = (resp[3] & 0x20) && ((q->flags & KEY_DO) || q->ad);
	/*
	 * What CoreDNS's ResponseWriter passes on: every TTL but the OPT's the
	 * cached one (the scan checked the records' bounds), AD only for a
	 * client that could see it.
	 */
	(void)wire_walk(resp, rlen, WIRE_HEADER + q->namelen + 4,
	    (unsigned)wire_get16(resp + 6) + wire_get16(resp + 8) +
	    wire_get16(resp + 10), resp, ttl, NULL);
	if (!ad)
		resp[3] &= (uint8_t)~0x20;
	if ((resp[2] & 0x02) || k == KIND_OTHER || ttl == 0 || !r.tail_ok ||
	    zones_match(&c->disabled[t], q->lname) ||
	    (e = cache_entry_new(c, resp, &r, q, ttl, ad)) == NULL)
		return;
	e->type = t;
	e->servfail = k == KIND_SERVFAIL;
	e->stored = now;
	cache_put(c, e, q, now);
}
