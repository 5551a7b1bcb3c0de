/* metrics.c -- CoreDNS's metric families, atomic series, and Prometheus's text exposition format. */
#include <sys/resource.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/* uthash's own allocations follow the same out-of-memory policy as ours. */
#define uthash_malloc(sz) xmalloc(sz)
#define uthash_free(ptr, sz) free(ptr)
#include <uthash.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define METRICS_MAX_LABELS	6
/* Values of hot series get their own cache line: no false sharing. */
#define METRICS_LINE		64

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM
};

enum metrics_buckets {
	BUCKETS_NONE,
	BUCKETS_TIME,		/* plugin.TimeBuckets */
	BUCKETS_SLIM_TIME,	/* plugin.SlimTimeBuckets */
	BUCKETS_SIZE,		/* the dns size histograms' list */
	BUCKETS_PROGRAMMING,	/* kubernetes dns_programming_duration */
	BUCKETS_N
};

/* One family as its CoreDNS source declares it. */
struct metrics_def {
	const char	*name;
	enum metrics_type type;
	enum metrics_buckets buckets;
	const char	*help;
	const char	*labels[METRICS_MAX_LABELS + 1];
};

/*
 * What petdns exports: CoreDNS's families (plugin/metrics/vars, cache,
 * pkg/proxy, forward, kubernetes, health, reload, metrics), names, help and
 * label order as CoreDNS declares them; forward's two rcode families both
 * take to, rcode (the output sorts labels by name anyway). The
 * coredns_forward_{requests_total,responses_total,request_duration_seconds,
 * healthcheck_failures_total} families are the names CoreDNS 1.11 moved to
 * coredns_proxy_*; dashboards and the coredns-mixin alerts still query
 * them, so forward feeds both.
 */
static const struct metrics_def metrics_defs[] = {
	{ "coredns_build_info", METRICS_GAUGE, BUCKETS_NONE,
	  "A metric with a constant '1' value labeled by version, revision, "
	  "and goversion from which CoreDNS was built.",
	  { "version", "revision", "goversion" } },
	{ "coredns_panics_total", METRICS_COUNTER, BUCKETS_NONE,
	  "A metrics that counts the number of panics.", { NULL } },
	{ "coredns_plugin_enabled", METRICS_GAUGE, BUCKETS_NONE,
	  "A metric that indicates whether a plugin is enabled on per server "
	  "and zone basis.", { "server", "zone", "view", "name" } },
	{ "coredns_dns_requests_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of DNS requests made per zone, protocol and family.",
	  { "server", "zone", "view", "proto", "family", "type" } },
	{ "coredns_dns_request_duration_seconds", METRICS_HISTOGRAM,
	  BUCKETS_TIME,
	  "Histogram of the time (in seconds) each request took per zone.",
	  { "server", "zone", "view" } },
	{ "coredns_dns_request_size_bytes", METRICS_HISTOGRAM, BUCKETS_SIZE,
	  "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and "
	  "protocol.", { "server", "zone", "view", "proto" } },
	{ "coredns_dns_do_requests_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of DNS requests with DO bit set per zone.",
	  { "server", "zone", "view" } },
	{ "coredns_dns_response_size_bytes", METRICS_HISTOGRAM, BUCKETS_SIZE,
	  "Size of the returned response in bytes.",
	  { "server", "zone", "view", "proto" } },
	{ "coredns_dns_responses_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of response status codes.",
	  { "server", "zone", "view", "rcode", "plugin" } },
	{ "coredns_cache_entries", METRICS_GAUGE, BUCKETS_NONE,
	  "The number of elements in the cache.",
	  { "server", "type", "zones", "view" } },
	{ "coredns_cache_requests_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The count of cache requests.", { "server", "zones", "view" } },
	{ "coredns_cache_hits_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The count of cache hits.", { "server", "type", "zones", "view" } },
	{ "coredns_cache_misses_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The count of cache misses. Deprecated, derive misses from cache "
	  "hits/requests counters.", { "server", "zones", "view" } },
	{ "coredns_cache_prefetch_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The number of times the cache has prefetched a cached item.",
	  { "server", "zones", "view" } },
	{ "coredns_cache_drops_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The number responses that are not cached, because the reply is "
	  "malformed.", { "server", "zones", "view" } },
	{ "coredns_cache_served_stale_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The number of requests served from stale cache entries.",
	  { "server", "zones", "view" } },
	{ "coredns_cache_evictions_total", METRICS_COUNTER, BUCKETS_NONE,
	  "The count of cache evictions.",
	  { "server", "type", "zones", "view" } },
	{ "coredns_forward_healthcheck_broken_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of the number of complete failures of the "
	  "healthchecks.", { NULL } },
	{ "coredns_forward_max_concurrent_rejects_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of the number of queries rejected because "
	  "the concurrent queries were at maximum.", { NULL } },
	{ "coredns_forward_requests_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of requests made per upstream.", { "to" } },
	{ "coredns_forward_responses_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of responses received per upstream.", { "to", "rcode" } },
	{ "coredns_forward_request_duration_seconds", METRICS_HISTOGRAM,
	  BUCKETS_TIME, "Histogram of the time each request took.",
	  { "to", "rcode" } },
	{ "coredns_forward_healthcheck_failures_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of the number of failed healthchecks.",
	  { "to" } },
	{ "coredns_proxy_request_duration_seconds", METRICS_HISTOGRAM,
	  BUCKETS_TIME, "Histogram of the time each request took.",
	  { "proxy_name", "to", "rcode" } },
	{ "coredns_proxy_healthcheck_failures_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of the number of failed healthchecks.",
	  { "proxy_name", "to" } },
	{ "coredns_proxy_conn_cache_hits_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of connection cache hits per upstream and "
	  "protocol.", { "proxy_name", "to", "proto" } },
	{ "coredns_proxy_conn_cache_misses_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Counter of connection cache misses per upstream and "
	  "protocol.", { "proxy_name", "to", "proto" } },
	{ "coredns_kubernetes_dns_programming_duration_seconds",
	  METRICS_HISTOGRAM, BUCKETS_PROGRAMMING, "Histogram of the time (in "
	  "seconds) it took to program a dns instance.", { "service_kind" } },
	{ "coredns_health_request_duration_seconds", METRICS_HISTOGRAM,
	  BUCKETS_SLIM_TIME,
	  "Histogram of the time (in seconds) each request took.", { NULL } },
	{ "coredns_health_request_failures_total", METRICS_COUNTER,
	  BUCKETS_NONE, "The number of times the health check failed.",
	  { NULL } },
	{ "coredns_reload_failed_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Counter of the number of failed reload attempts.", { NULL } },
	{ "coredns_reload_version_info", METRICS_GAUGE, BUCKETS_NONE,
	  "A metric with a constant '1' value labeled by hash, and value "
	  "which type of hash generated.", { "hash", "value" } },
	/* The Go client's process collector, read from /proc at scrape. */
	{ "process_cpu_seconds_total", METRICS_COUNTER, BUCKETS_NONE,
	  "Total user and system CPU time spent in seconds.", { NULL } },
	{ "process_open_fds", METRICS_GAUGE, BUCKETS_NONE,
	  "Number of open file descriptors.", { NULL } },
	{ "process_max_fds", METRICS_GAUGE, BUCKETS_NONE,
	  "Maximum number of open file descriptors.", { NULL } },
	{ "process_virtual_memory_bytes", METRICS_GAUGE, BUCKETS_NONE,
	  "Virtual memory size in bytes.", { NULL } },
	{ "process_virtual_memory_max_bytes", METRICS_GAUGE, BUCKETS_NONE,
	  "Maximum amount of virtual memory available in bytes.", { NULL } },
	{ "process_resident_memory_bytes", METRICS_GAUGE, BUCKETS_NONE,
	  "Resident memory size in bytes.", { NULL } },
	{ "process_start_time_seconds", METRICS_GAUGE, BUCKETS_NONE,
	  "Start time of the process since unix epoch in seconds.", { NULL } },
	{ "process_network_receive_bytes_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Number of bytes received by the process over the "
	  "network.", { NULL } },
	{ "process_network_transmit_bytes_total", METRICS_COUNTER,
	  BUCKETS_NONE, "Number of bytes sent by the process over the "
	  "network.", { NULL } },
};

struct metrics_counter {
	_Atomic uint64_t n;
};

/* A double's bits, so that set and add are single atomic operations. */
struct metrics_gauge {
	_Atomic uint64_t bits;
};

struct metrics_histogram {
	const double	*bounds;
	size_t		 nbounds;
	_Atomic uint64_t sum;		/* a double's bits */
	_Atomic uint64_t counts[];	/* per bucket, then +Inf; not summed */
};

struct metrics_family;

struct metrics_series {
	struct metrics_family *fam;
	char		*key;		/* the values, each NUL-ended */
	size_t		 keylen;
	const char	*values[METRICS_MAX_LABELS];	/* into key */
	_Atomic bool	 hidden;
	struct metrics_func *fns;	/* its value is their sum, when any */
	void		*value;		/* a counter, gauge, histogram */
	struct metrics_series *next;	/* in the family, oldest first */
	UT_hash_handle	 hh;
};

/*
 * A function reporting part of a series: during a reload the old and the
 * new configuration's caches and upstreams both count, briefly.
 */
struct metrics_func {
	struct metrics_series *series;
	double		(*fn)(void *);
	void		*arg;
	struct metrics_func *next;
};

struct metrics_family {
	const struct metrics_def *def;
	size_t		 nlabels;
	size_t		 order[METRICS_MAX_LABELS];	/* by label name */
	const double	*bounds;
	size_t		 nbounds;
	struct metrics_series *hash;
	struct metrics_series *first, *last;
	size_t		 nseries;
};

struct metrics {
	pthread_rwlock_t lock;
	struct metrics_family fams[nitems(metrics_defs)];	/* by name */
	double		*buckets[BUCKETS_N];
	size_t		 nbuckets[BUCKETS_N];
	double		 start_time;	/* of this process, Unix time */
};

static void	metrics_process_init(struct metrics *);

static double
bits_double(uint64_t b)
{
	double	 d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static uint64_t
double_bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

/* Adds v to the double stored in *p, as Go's atomic float add does. */
static void
atomic_add_double(_Atomic uint64_t *p, double v)
{
	uint64_t old = atomic_load_explicit(p, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(p, &old,
	    double_bits(bits_double(old) + v), memory_order_relaxed,
	    memory_order_relaxed))
		;
}

/* Go's prometheus.ExponentialBuckets: start, start*factor, ... */
static double *
buckets_exponential(double start, double factor, size_t n)
{
	double	*b = xcalloc(n, sizeof(*b));
	size_t	 i;

	for (i = 0; i < n; i++) {
		b[i] = start;
		start *= factor;
	}
	return b;
}

static void
buckets_init(struct metrics *m)
{
	static const double size[] = { 0, 100, 200, 300, 400, 511, 1023,
	    2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3 };

	m->buckets[BUCKETS_TIME] = buckets_exponential(0.00025, 2, 16);
	m->nbuckets[BUCKETS_TIME] = 16;
	m->buckets[BUCKETS_SLIM_TIME] = buckets_exponential(0.00025, 10, 5);
	m->nbuckets[BUCKETS_SLIM_TIME] = 5;
	m->buckets[BUCKETS_PROGRAMMING] = buckets_exponential(0.001, 2, 20);
	m->nbuckets[BUCKETS_PROGRAMMING] = 20;
	m->buckets[BUCKETS_SIZE] = xcalloc(nitems(size), sizeof(double));
	memcpy(m->buckets[BUCKETS_SIZE], size, sizeof(size));
	m->nbuckets[BUCKETS_SIZE] = nitems(size);
}

static int
def_cmp(const void *a, const void *b)
{
	const struct metrics_def *const *da = a, *const *db = b;

	return strcmp((*da)->name, (*db)->name);
}

/* Sorts the label indices by name: Go writes label pairs in that order. */
static void
family_init(struct metrics *m, struct metrics_family *f,
    const struct metrics_def *d)
{
	const char *const *l = d->labels;
	size_t	 i, j, t;

	f->def = d;
	for (f->nlabels = 0; f->nlabels < METRICS_MAX_LABELS &&
	    l[f->nlabels] != NULL; f->nlabels++)
		f->order[f->nlabels] = f->nlabels;
	for (i = 1; i < f->nlabels; i++)
		for (j = i; j > 0 && strcmp(l[f->order[j - 1]],
		    l[f->order[j]]) > 0; j--) {
			t = f->order[j];
			f->order[j] = f->order[j - 1];
			f->order[j - 1] = t;
		}
	f->bounds = m->buckets[d->buckets];
	f->nbounds = m->nbuckets[d->buckets];
}

static struct metrics_family *
family_find(struct metrics *m, const char *name)
{
	size_t	 lo = 0, hi = nitems(m->fams), mid;
	int	 c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(name, m->fams[mid].def->name)) == 0)
			return &m->fams[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A zeroed allocation of whole cache lines. */
static void *
value_alloc(size_t size)
{
	size_t	 n = (size + METRICS_LINE - 1) / METRICS_LINE *
	    METRICS_LINE;
	void	*p;

	if ((p = aligned_alloc(METRICS_LINE, n)) == NULL)
		fatalx("out of memory (%zu bytes)", n);
	memset(p, 0, n);
	return p;
}

static void
series_free(struct metrics_series *s)
{
	struct metrics_func *f;

	/* Only the process metrics' functions are still here at the end. */
	while ((f = s->fns) != NULL) {
		s->fns = f->next;
		free(f);
	}
	free(s->value);
	free(s->key);
	free(s);
}

/* Builds the hash key of values; *heap is set when it had to allocate. */
static char *
series_key(const struct metrics_family *f, const char *const *values,
    char *buf, size_t buflen, size_t *keylen, char **heap)
{
	size_t	 i, n = 0, len;
	char	*key = buf;

	*heap = NULL;
	for (i = 0; i < f->nlabels; i++)
		n += strlen(values[i] ? values[i] : "") + 1;
	if (n > buflen)
		key = *heap = xmalloc(n);
	for (n = 0, i = 0; i < f->nlabels; i++) {
		len = strlen(values[i] ? values[i] : "") + 1;
		memcpy(key + n, values[i] ? values[i] : "", len);
		n += len;
	}
	*keylen = n;
	return key;
}

/* Called with the write lock held. */
static struct metrics_series *
series_add(struct metrics_family *f, const char *key, size_t keylen)
{
	struct metrics_series *s = xcalloc(1, sizeof(*s));
	struct metrics_histogram *h;
	size_t	 i, off;

	s->fam = f;
	s->key = xmalloc(keylen ? keylen : 1);
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	for (i = 0, off = 0; i < f->nlabels; i++) {
		s->values[i] = s->key + off;
		off += strlen(s->key + off) + 1;
	}
	switch (f->def->type) {
	case METRICS_COUNTER:
		s->value = value_alloc(sizeof(struct metrics_counter));
		break;
	case METRICS_GAUGE:
		s->value = value_alloc(sizeof(struct metrics_gauge));
		break;
	case METRICS_HISTOGRAM:
		h = value_alloc(sizeof(*h) + (f->nbounds + 1) *
		    sizeof(h->counts[0]));
		h->bounds = f->bounds;
		h->nbounds = f->nbounds;
		s->value = h;
		break;
	}
	HASH_ADD_KEYPTR(hh, f->hash, s->key, s->keylen, s);
	if (f->last != NULL)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	f->nseries++;
	return s;
}

/* Finds or creates the series; NULL when the family is not of type t. */
static struct metrics_series *
series_get(struct metrics *m, const char *name, enum metrics_type t,
    bool any, const char *const *values)
{
	struct metrics_family *f;
	struct metrics_series *s;
	char	 buf[512], *heap, *key;
	size_t	 keylen;

	if ((f = family_find(m, name)) == NULL ||
	    (!any && f->def->type != t) ||
	    (any && f->def->type == METRICS_HISTOGRAM)) {
		log_warnx("metrics: no %s family '%s'", any ? "counter or "
		    "gauge" : t == METRICS_COUNTER ? "counter" :
		    t == METRICS_GAUGE ? "gauge" : "histogram", name);
		return NULL;
	}
	if (f->nlabels > 0 && values == NULL) {
		log_warnx("metrics: %s: no label values", name);
		return NULL;
	}
	key = series_key(f, values, buf, sizeof(buf), &keylen, &heap);
	pthread_rwlock_rdlock(&m->lock);
	HASH_FIND(hh, f->hash, key, keylen, s);
	pthread_rwlock_unlock(&m->lock);
	if (s == NULL) {
		pthread_rwlock_wrlock(&m->lock);
		HASH_FIND(hh, f->hash, key, keylen, s);
		if (s == NULL)
			s = series_add(f, key, keylen);
		pthread_rwlock_unlock(&m->lock);
	}
	free(heap);
	atomic_store_explicit(&s->hidden, false, memory_order_relaxed);
	return s;
}

struct metrics *
metrics_new(void)
{
	const struct metrics_def *defs[nitems(metrics_defs)];
	struct metrics *m = xcalloc(1, sizeof(*m));
	size_t	 i;

	if (pthread_rwlock_init(&m->lock, NULL) != 0)
		fatalx("metrics: pthread_rwlock_init failed");
	buckets_init(m);
	for (i = 0; i < nitems(defs); i++)
		defs[i] = &metrics_defs[i];
	qsort(defs, nitems(defs), sizeof(defs[0]), def_cmp);
	for (i = 0; i < nitems(defs); i++) {
		family_init(m, &m->fams[i], defs[i]);
		/* A Go metric without labels is exported from the start. */
		if (m->fams[i].nlabels == 0)
			series_add(&m->fams[i], "", 0);
	}
	metrics_process_init(m);
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct metrics_series *s, *next;
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < nitems(m->fams); i++) {
		HASH_CLEAR(hh, m->fams[i].hash);
		for (s = m->fams[i].first; s != NULL; s = next) {
			next = s->next;
			series_free(s);
		}
	}
	for (i = 0; i < BUCKETS_N; i++)
		free(m->buckets[i]);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

struct metrics_counter *
metrics_counter_get(struct metrics *m, const char *name,
    const char *const *values)
{
	struct metrics_series *s;

	s = series_get(m, name, METRICS_COUNTER, false, values);
	return s == NULL ? NULL : s->value;
}

void
metrics_counter_add(struct metrics_counter *c, uint64_t n)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&c->n, n, memory_order_relaxed);
}

struct metrics_gauge *
metrics_gauge_get(struct metrics *m, const char *name,
    const char *const *values)
{
	struct metrics_series *s;

	s = series_get(m, name, METRICS_GAUGE, false, values);
	return s == NULL ? NULL : s->value;
}

void
metrics_gauge_set(struct metrics_gauge *g, double v)
{
	if (g != NULL)
		atomic_store_explicit(&g->bits, double_bits(v),
		    memory_order_relaxed);
}

void
metrics_gauge_add(struct metrics_gauge *g, double v)
{
	if (g != NULL)
		atomic_add_double(&g->bits, v);
}

struct metrics_histogram *
metrics_histogram_get(struct metrics *m, const char *name,
    const char *const *values)
{
	struct metrics_series *s;

	s = series_get(m, name, METRICS_HISTOGRAM, false, values);
	return s == NULL ? NULL : s->value;
}

void
metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	size_t	 i = 0;

	if (h == NULL)
		return;
	/*
	 * The first bound >= v, else +Inf (sort.SearchFloat64s' answer). From
	 * the low end: a query's duration and sizes mostly fall in the first
	 * buckets, where a binary search would still take four steps.
	 */
	while (i < h->nbounds && h->bounds[i] < v)
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	atomic_add_double(&h->sum, v);
}

/* Under the write lock (or before any thread shares m). */
static struct metrics_func *
series_func_push(struct metrics_series *s, double (*fn)(void *), void *arg)
{
	struct metrics_func *h = xcalloc(1, sizeof(*h));

	h->series = s;
	h->fn = fn;
	h->arg = arg;
	h->next = s->fns;
	s->fns = h;
	return h;
}

struct metrics_func *
metrics_func_add(struct metrics *m, const char *name,
    const char *const *values, double (*fn)(void *), void *arg)
{
	struct metrics_series *s;
	struct metrics_func *h = NULL;

	if ((s = series_get(m, name, METRICS_COUNTER, true, values)) == NULL)
		return NULL;
	pthread_rwlock_wrlock(&m->lock);
	h = series_func_push(s, fn, arg);
	pthread_rwlock_unlock(&m->lock);
	return h;
}

void
metrics_func_remove(struct metrics *m, struct metrics_func *h)
{
	if (h == NULL)
		return;
	pthread_rwlock_wrlock(&m->lock);
	for (struct metrics_func **p = &h->series->fns; *p != NULL;
	    p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	if (h->series->fns == NULL)
		atomic_store_explicit(&h->series->hidden, true,
		    memory_order_relaxed);
	pthread_rwlock_unlock(&m->lock);
	free(h);
}

static void
series_zero(struct metrics_series *s)
{
	struct metrics_counter *c = s->value;
	struct metrics_gauge *g = s->value;
	struct metrics_histogram *h = s->value;
	size_t	 i;

	switch (s->fam->def->type) {
	case METRICS_COUNTER:
		atomic_store(&c->n, 0);
		break;
	case METRICS_GAUGE:
		atomic_store(&g->bits, double_bits(0));
		break;
	case METRICS_HISTOGRAM:
		for (i = 0; i <= h->nbounds; i++)
			atomic_store(&h->counts[i], 0);
		atomic_store(&h->sum, double_bits(0));
		break;
	}
}

void
metrics_reset(struct metrics *m, const char *name)
{
	struct metrics_family *f;
	struct metrics_series *s;

	if ((f = family_find(m, name)) == NULL) {
		log_warnx("metrics: no family '%s'", name);
		return;
	}
	pthread_rwlock_wrlock(&m->lock);
	for (s = f->first; s != NULL; s = s->next) {
		if (s->fns != NULL)
			continue;
		atomic_store(&s->hidden, true);
		series_zero(s);
	}
	pthread_rwlock_unlock(&m->lock);
}

/*
 * Go's strconv.FormatFloat(v, 'g', -1, 64), which the client writes values
 * and bucket bounds with: the shortest digits that read back as v, in %e
 * form when the exponent is below -4 or at least 6 ("1e+06", "0.00025").
 */
static void
fmt_float(double v, char *buf, size_t len)
{
	char	 e[40];
	int	 prec, exp, decimals;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(e, sizeof(e), "%.16e", v);
	exp = atoi(strchr(e, 'e') + 1);
	if (exp < -4 || exp >= 6) {
		snprintf(buf, len, "%s", e);
		return;
	}
	decimals = prec - 1 - exp;
	snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* Label values escape \, " and newline; help texts \ and newline. */
static void
render_escaped(struct evbuffer *out, const char *s, bool quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
			continue;
		evbuffer_add(out, run, s - run);
		evbuffer_add(out, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" :
		    "\\\\", 2);
		run = s + 1;
	}
	evbuffer_add(out, run, s - run);
}

/* name{a="1",b="2",le="0.5"} value, labels in name order, le last. */
static void
render_sample(struct evbuffer *out, const struct metrics_series *s,
    const char *suffix, const char *le, double v)
{
	const struct metrics_family *f = s->fam;
	const char *sep = "{";
	char	 num[40];
	size_t	 i, l;

	evbuffer_add_printf(out, "%s%s", f->def->name, suffix);
	for (i = 0; i < f->nlabels; i++) {
		l = f->order[i];
		evbuffer_add_printf(out, "%s%s=\"", sep, f->def->labels[l]);
		render_escaped(out, s->values[l], true);
		evbuffer_add(out, "\"", 1);
		sep = ",";
	}
	if (le != NULL)
		evbuffer_add_printf(out, "%sle=\"%s\"", sep, le);
	if (f->nlabels > 0 || le != NULL)
		evbuffer_add(out, "}", 1);
	fmt_float(v, num, sizeof(num));
	evbuffer_add_printf(out, " %s\n", num);
}

/* Buckets are cumulative; +Inf and _count are the total seen. */
static void
render_histogram(struct evbuffer *out, const struct metrics_series *s)
{
	const struct metrics_histogram *h = s->value;
	uint64_t total = 0;
	double	 sum;
	char	 le[40];
	size_t	 i;

	sum = bits_double(atomic_load_explicit(&h->sum, memory_order_relaxed));
	for (i = 0; i <= h->nbounds; i++) {
		total += atomic_load_explicit(&h->counts[i],
		    memory_order_relaxed);
		if (i < h->nbounds)
			fmt_float(h->bounds[i], le, sizeof(le));
		render_sample(out, s, "_bucket", i < h->nbounds ? le : "+Inf",
		    (double)total);
	}
	render_sample(out, s, "_sum", NULL, sum);
	render_sample(out, s, "_count", NULL, (double)total);
}

struct render_item {
	const struct metrics_series *s;
	double	 v;
};

/* Go sorts a family's metrics by their label values, in label name order. */
static int
render_item_cmp(const void *a, const void *b)
{
	const struct metrics_series *sa = ((const struct render_item *)a)->s;
	const struct metrics_series *sb = ((const struct render_item *)b)->s;
	const struct metrics_family *f = sa->fam;
	size_t	 i;
	int	 c;

	for (i = 0; i < f->nlabels; i++)
		if ((c = strcmp(sa->values[f->order[i]],
		    sb->values[f->order[i]])) != 0)
			return c;
	return 0;
}

static double
series_value(const struct metrics_series *s)
{
	const struct metrics_counter *c = s->value;
	const struct metrics_gauge *g = s->value;

	if (s->fns != NULL) {
		double	sum = NAN, v;

		for (const struct metrics_func *f = s->fns; f != NULL;
		    f = f->next)
			if (!isnan(v = f->fn(f->arg)))
				sum = isnan(sum) ? v : sum + v;
		return sum;
	}
	if (s->fam->def->type == METRICS_COUNTER)
		return (double)atomic_load_explicit(&c->n,
		    memory_order_relaxed);
	return bits_double(atomic_load_explicit(&g->bits,
	    memory_order_relaxed));
}

/* Called with the read lock held. A family with no sample is left out. */
static void
render_family(const struct metrics_family *f, struct evbuffer *out)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct render_item *items;
	const struct metrics_series *s;
	size_t	 i, n = 0;

	if (f->nseries == 0)
		return;
	items = xcalloc(f->nseries, sizeof(*items));
	for (s = f->first; s != NULL; s = s->next) {
		if (atomic_load_explicit(&s->hidden, memory_order_relaxed))
			continue;
		items[n].s = s;
		if (f->def->type != METRICS_HISTOGRAM &&
		    isnan(items[n].v = series_value(s)))
			continue;
		n++;
	}
	if (n > 0) {
		qsort(items, n, sizeof(*items), render_item_cmp);
		evbuffer_add_printf(out, "# HELP %s ", f->def->name);
		render_escaped(out, f->def->help, false);
		evbuffer_add_printf(out, "\n# TYPE %s %s\n", f->def->name,
		    types[f->def->type]);
	}
	for (i = 0; i < n; i++) {
		if (f->def->type == METRICS_HISTOGRAM)
			render_histogram(out, items[i].s);
		else
			render_sample(out, items[i].s, "", NULL, items[i].v);
	}
	free(items);
}

void
metrics_render(struct metrics *m, struct evbuffer *out)
{
	size_t	 i;

	pthread_rwlock_rdlock(&m->lock);
	for (i = 0; i < nitems(m->fams); i++)
		render_family(&m->fams[i], out);
	pthread_rwlock_unlock(&m->lock);
}

const char *
metrics_qtype_label(uint16_t qtype)
{
	/* plugin/metrics/vars/monitor.go's monitorType. */
	static const struct {
		uint16_t	 type;
		const char	*name;
	} known[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" },
		{ 48, "DNSKEY" }, { 50, "NSEC3" }, { 65, "HTTPS" },
		{ 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" },
	};
	size_t	 i;

	for (i = 0; i < nitems(known); i++)
		if (known[i].type == qtype)
			return known[i].name;
	return "other";
}

const char *
metrics_rcode_label(int rcode, char *buf, size_t len)
{
	/* miekg/dns's RcodeToString; 16 is BADSIG there, not BADVERS. */
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE", "DSOTYPENI", NULL, NULL, NULL, NULL, "BADSIG",
		"BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG",
		"BADTRUNC", "BADCOOKIE",
	};

	if (rcode >= 0 && (size_t)rcode < nitems(names) &&
	    names[rcode] != NULL)
		return names[rcode];
	snprintf(buf, len, "RCODE%d", rcode);
	return buf;
}

/* Fields 14, 15, 22, 23 and 24 of /proc/self/stat, as procfs reads them. */
struct proc_stat {
	unsigned long long utime, stime, starttime, vsize;
	long long	 rss;
};

static int
proc_stat_read(struct proc_stat *ps)
{
	char	 line[1024], *p;
	FILE	*fp;
	int	 n;

	if ((fp = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	p = fgets(line, sizeof(line), fp);
	fclose(fp);
	/* The command name may hold spaces and parentheses. */
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return -1;
	n = sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld", &ps->utime,
	    &ps->stime, &ps->starttime, &ps->vsize, &ps->rss);
	return n == 5 ? 0 : -1;
}

static double
proc_cpu_seconds(void *arg)
{
	struct proc_stat ps;

	if (proc_stat_read(&ps) == -1)
		return NAN;
	return (double)(ps.utime + ps.stime) / (double)sysconf(_SC_CLK_TCK);
}

static double
proc_virtual_memory(void *arg)
{
	struct proc_stat ps;

	return proc_stat_read(&ps) == -1 ? NAN : (double)ps.vsize;
}

static double
proc_resident_memory(void *arg)
{
	struct proc_stat ps;

	if (proc_stat_read(&ps) == -1)
		return NAN;
	return (double)ps.rss * (double)sysconf(_SC_PAGESIZE);
}

static double
proc_open_fds(void *arg)
{
	struct dirent *de;
	DIR	*d;
	double	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return NAN;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Soft limits; procfs reads "unlimited" as the largest uint64. */
static double
proc_rlimit(int resource)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) == -1)
		return NAN;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 18446744073709551615.0;
	return (double)rl.rlim_cur;
}

static double
proc_max_fds(void *arg)
{
	return proc_rlimit(RLIMIT_NOFILE);
}

static double
proc_virtual_memory_max(void *arg)
{
	return proc_rlimit(RLIMIT_AS);
}

static double
proc_start_time(void *arg)
{
	const struct metrics *m = arg;

	return m->start_time;
}

/* Sums a column of /proc/self/net/dev over every interface, as procfs does. */
static double
proc_net_bytes(int transmit)
{
	unsigned long long rx, tx;
	char	 line[512], *p;
	double	 total = 0;
	FILE	*fp;

	if ((fp = fopen("/proc/self/net/dev", "re")) == NULL)
		return NAN;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((p = strchr(line, ':')) == NULL)
			continue;
		if (sscanf(p + 1, "%llu %*u %*u %*u %*u %*u %*u %*u %llu",
		    &rx, &tx) == 2)
			total += (double)(transmit ? tx : rx);
	}
	fclose(fp);
	return total;
}

static double
proc_net_receive(void *arg)
{
	return proc_net_bytes(0);
}

static double
proc_net_transmit(void *arg)
{
	return proc_net_bytes(1);
}

/* Boot time plus the start tick: when this process started, Unix time. */
static double
proc_start_time_read(void)
{
	struct proc_stat ps;
	unsigned long long btime = 0;
	char	 line[256];
	FILE	*fp;
	int	 found = 0;

	if (proc_stat_read(&ps) == -1 || (fp = fopen("/proc/stat", "re")) ==
	    NULL)
		return NAN;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = sscanf(line, "btime %llu", &btime) == 1;
	fclose(fp);
	if (!found)
		return NAN;
	return (double)btime + (double)ps.starttime /
	    (double)sysconf(_SC_CLK_TCK);
}

static void
metrics_process_init(struct metrics *m)
{
	static const struct {
		const char	*name;
		double		(*fn)(void *);
	} procs[] = {
		{ "process_cpu_seconds_total", proc_cpu_seconds },
		{ "process_open_fds", proc_open_fds },
		{ "process_max_fds", proc_max_fds },
		{ "process_virtual_memory_bytes", proc_virtual_memory },
		{ "process_virtual_memory_max_bytes", proc_virtual_memory_max },
		{ "process_resident_memory_bytes", proc_resident_memory },
		{ "process_start_time_seconds", proc_start_time },
		{ "process_network_receive_bytes_total", proc_net_receive },
		{ "process_network_transmit_bytes_total", proc_net_transmit },
	};
	struct metrics_family *f;
	size_t	 i;

	m->start_time = proc_start_time_read();
	for (i = 0; i < nitems(procs); i++) {
		if ((f = family_find(m, procs[i].name)) == NULL)
			fatalx("metrics: no family %s", procs[i].name);
		series_func_push(f->first, procs[i].fn, m);
	}
}
