/* test_metrics.c -- the registry: golden exposition text, a format checker, handles, callbacks, threads. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "metrics.h"

#define V(...)	((const char *const []){ __VA_ARGS__ })

/* The whole exposition, as a NUL-terminated string the caller frees. */
static char *
render(struct metrics *m)
{
	struct evbuffer *b = evbuffer_new();
	size_t	 n;
	char	*s;

	metrics_render(m, b);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

/* The lines of one family, from its # HELP to the next; NULL if absent. */
static char *
family(const char *text, const char *name)
{
	char	 want[256], *start, *end, *out;

	snprintf(want, sizeof(want), "# HELP %s ", name);
	if (strncmp(text, want, strlen(want)) == 0)
		start = (char *)text;
	else {
		snprintf(want, sizeof(want), "\n# HELP %s ", name);
		if ((start = strstr(text, want)) == NULL)
			return NULL;
		start++;
	}
	end = strstr(start + 1, "\n# HELP ");
	end = end == NULL ? start + strlen(start) : end + 1;
	out = strndup(start, end - start);
	assert_non_null(out);
	return out;
}

static void
assert_family(struct metrics *m, const char *name, const char *want)
{
	char	*text = render(m), *got = family(text, name);

	if (want == NULL && got != NULL)
		fail_msg("family %s present:\n%s", name, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("family %s:\n got:\n%s\n want:\n%s", name,
		    got ? got : "(absent)", want);
	free(got);
	free(text);
}

/* The value of the sample line starting with prefix (name and labels). */
static double
sample(struct metrics *m, const char *prefix)
{
	char	*text = render(m), *p = text, *line;
	double	 v = NAN;

	while ((line = strsep(&p, "\n")) != NULL)
		if (strncmp(line, prefix, strlen(prefix)) == 0 &&
		    line[strlen(prefix)] == ' ')
			v = strtod(line + strlen(prefix) + 1, NULL);
	free(text);
	return v;
}

/*
 * A small checker of the text format 0.0.4: HELP then TYPE once per
 * family, families sorted, samples named after their family, label pairs
 * well formed, values numbers, histograms cumulative and ending in +Inf
 * equal to _count. Returns NULL, or what is wrong and on which line.
 */
struct checker {
	char	 fam[256];
	char	 type[16];
	char	 prev[256];	/* previous family, for the order */
	char	 series[1024];	/* histogram: the labels but le */
	double	 last_le, last_bucket;
	bool	 in_series;	/* a histogram series begun */
	bool	 inf_seen;
	int	 lineno;
	char	 err[512];
};

static bool __attribute__((format(printf, 2, 3)))
check_fail(struct checker *c, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(c->err, sizeof(c->err), "line %d: ", c->lineno);
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - n, fmt, ap);
	va_end(ap);
	return false;
}

/* {name="value",...}: the pairs but le into labels, le's value into *le. */
static const char *
check_labels(const char *p, char *labels, size_t len, double *le)
{
	const char *pair, *v;
	size_t	 n = 0, k;

	*le = NAN;
	labels[0] = '\0';
	if (*p != '{')
		return p;
	for (p++; *p != '}'; p++) {
		pair = p;
		k = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
		if (k == 0 || p[k] != '=' || p[k + 1] != '"')
			return NULL;
		for (v = p += k + 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return NULL;
			if (*p == '\\' && p[1] != '\\' && p[1] != '"' &&
			    p[1] != 'n')
				return NULL;
			if (*p == '\\')
				p++;
		}
		if (k == 2 && strncmp(pair, "le", 2) == 0)
			*le = strncmp(v, "+Inf\"", 5) == 0 ? INFINITY :
			    strtod(v, NULL);
		else {
			if (n + (p + 1 - pair) + 2 > len)
				return NULL;
			memcpy(labels + n, pair, p + 1 - pair);
			n += p + 1 - pair;
			labels[n++] = ',';
			labels[n] = '\0';
		}
		if (p[1] != ',' && p[1] != '}')
			return NULL;
		if (p[1] == ',')
			p++;
	}
	return p + 1;
}

static bool
check_value(const char *p)
{
	char	*end;

	if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 ||
	    strcmp(p, "NaN") == 0)
		return true;
	strtod(p, &end);
	return end != p && *end == '\0';
}

static bool
check_histogram(struct checker *c, const char *suffix, const char *labels,
    double le, double v)
{
	if (strcmp(suffix, "_bucket") == 0) {
		if (!c->in_series || strcmp(labels, c->series) != 0 ||
		    c->inf_seen) {
			if (c->in_series && !c->inf_seen)
				return check_fail(c, "no +Inf bucket");
			c->in_series = true;
			snprintf(c->series, sizeof(c->series), "%s", labels);
			c->last_le = -INFINITY;
			c->last_bucket = 0;
			c->inf_seen = false;
		}
		if (isnan(le) || le <= c->last_le || v < c->last_bucket)
			return check_fail(c, "buckets not cumulative");
		c->last_le = le;
		c->last_bucket = v;
		c->inf_seen = isinf(le);
		return true;
	}
	if (strcmp(suffix, "_sum") == 0 || strcmp(suffix, "_count") == 0) {
		if (!c->in_series || !c->inf_seen ||
		    strcmp(labels, c->series) != 0 || !isnan(le))
			return check_fail(c, "%s before +Inf", suffix);
		if (suffix[1] == 'c' && v != c->last_bucket)
			return check_fail(c, "_count is not the +Inf bucket");
		return true;
	}
	return check_fail(c, "not of %s", c->fam);
}

static bool
check_sample(struct checker *c, const char *line)
{
	char	 name[256], labels[1024];
	const char *p;
	double	 le;
	size_t	 k;

	if (c->type[0] == '\0')
		return check_fail(c, "sample before TYPE");
	k = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789:");
	if (k == 0 || k >= sizeof(name))
		return check_fail(c, "bad sample: %s", line);
	memcpy(name, line, k);
	name[k] = '\0';
	if ((p = check_labels(line + k, labels, sizeof(labels), &le)) ==
	    NULL || *p != ' ' || !check_value(p + 1))
		return check_fail(c, "bad labels or value: %s", line);
	if (strcmp(c->type, "histogram") == 0) {
		if (strncmp(name, c->fam, strlen(c->fam)) != 0)
			return check_fail(c, "not of %s: %s", c->fam, line);
		return check_histogram(c, name + strlen(c->fam), labels, le,
		    strtod(p + 1, NULL));
	}
	if (strcmp(name, c->fam) != 0 || !isnan(le))
		return check_fail(c, "not of %s: %s", c->fam, line);
	return true;
}

static bool
check_comment(struct checker *c, const char *line)
{
	char	 want[300];

	if (strncmp(line, "# HELP ", 7) == 0) {
		if (c->in_series && !c->inf_seen)
			return check_fail(c, "histogram without +Inf");
		snprintf(c->prev, sizeof(c->prev), "%s", c->fam);
		sscanf(line + 7, "%255s", c->fam);
		if (strcmp(c->prev, c->fam) >= 0)
			return check_fail(c, "%s after %s", c->fam, c->prev);
		c->type[0] = '\0';
		c->in_series = false;
		c->inf_seen = false;
		return true;
	}
	snprintf(want, sizeof(want), "# TYPE %s ", c->fam);
	if (strncmp(line, want, strlen(want)) != 0 || c->type[0] != '\0')
		return check_fail(c, "TYPE out of place: %s", line);
	snprintf(c->type, sizeof(c->type), "%s", line + strlen(want));
	if (strcmp(c->type, "counter") != 0 && strcmp(c->type, "gauge") != 0 &&
	    strcmp(c->type, "histogram") != 0)
		return check_fail(c, "bad type %s", c->type);
	return true;
}

/* NULL when text is good; else a message in a static buffer. */
static const char *
check_exposition(const char *text)
{
	static struct checker c;
	char	*copy = strdup(text), *p = copy, *line;
	bool	 ok = true;

	memset(&c, 0, sizeof(c));
	assert_non_null(copy);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		ok = check_fail(&c, "no final newline");
	while (ok && (line = strsep(&p, "\n")) != NULL && p != NULL) {
		c.lineno++;
		if (line[0] == '#')
			ok = check_comment(&c, line);
		else
			ok = check_sample(&c, line);
	}
	if (ok && c.in_series && !c.inf_seen)
		ok = check_fail(&c, "histogram without +Inf");
	free(copy);
	return ok ? NULL : c.err;
}

static void
assert_exposition(const char *text)
{
	const char *why;

	const char *p = text;
	int	 n;

	if ((why = check_exposition(text)) == NULL)
		return;
	/* Show the line at fault. */
	for (n = atoi(why + 5); n > 1 && p != NULL; n--)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	fail_msg("%s\n%.*s", why, p ? (int)strcspn(p, "\n") : 0, p ? p : "");
}

static void
test_counter_labels_escaping(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_counter *a, *aaaa, *odd;

	a = metrics_counter_get(m, "coredns_dns_requests_total",
	    V("dns://:53", "cluster.local.", "", "udp", "1", "A"));
	aaaa = metrics_counter_get(m, "coredns_dns_requests_total",
	    V("dns://:53", "cluster.local.", "", "udp", "1", "AAAA"));
	odd = metrics_counter_get(m, "coredns_dns_requests_total",
	    V("x\"y\\z\nw", ".", "", "tcp", "2", "other"));
	assert_non_null(a);
	/* The same labels give the same series. */
	assert_ptr_equal(a, metrics_counter_get(m,
	    "coredns_dns_requests_total", V("dns://:53", "cluster.local.", "",
	    "udp", "1", "A")));
	metrics_counter_add(a, 3);
	metrics_counter_add(aaaa, 1);
	metrics_counter_add(odd, 1000000);
	assert_family(m, "coredns_dns_requests_total",
	    "# HELP coredns_dns_requests_total Counter of DNS requests made "
	    "per zone, protocol and family.\n"
	    "# TYPE coredns_dns_requests_total counter\n"
	    "coredns_dns_requests_total{family=\"1\",proto=\"udp\","
	    "server=\"dns://:53\",type=\"A\",view=\"\",zone=\"cluster.local.\"}"
	    " 3\n"
	    "coredns_dns_requests_total{family=\"1\",proto=\"udp\","
	    "server=\"dns://:53\",type=\"AAAA\",view=\"\","
	    "zone=\"cluster.local.\"} 1\n"
	    "coredns_dns_requests_total{family=\"2\",proto=\"tcp\","
	    "server=\"x\\\"y\\\\z\\nw\",type=\"other\",view=\"\",zone=\".\"}"
	    " 1e+06\n");
	metrics_free(m);
}

static void
test_histogram_buckets(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_histogram *h;
	static const double obs[] = { 0, 50, 100, 511, 600, 70000 };
	size_t	 i;

	h = metrics_histogram_get(m, "coredns_dns_request_size_bytes",
	    V("dns://:53", ".", "", "udp"));
	assert_non_null(h);
	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		metrics_histogram_observe(h, obs[i]);
#define B(le, n) "coredns_dns_request_size_bytes_bucket{proto=\"udp\"," \
	"server=\"dns://:53\",view=\"\",zone=\".\",le=\"" le "\"} " #n "\n"
	assert_family(m, "coredns_dns_request_size_bytes",
	    "# HELP coredns_dns_request_size_bytes Size of the EDNS0 UDP "
	    "buffer in bytes (64K for TCP) per zone and protocol.\n"
	    "# TYPE coredns_dns_request_size_bytes histogram\n"
	    B("0", 1) B("100", 3) B("200", 3) B("300", 3) B("400", 3)
	    B("511", 4) B("1023", 5) B("2047", 5) B("4095", 5) B("8291", 5)
	    B("16000", 5) B("32000", 5) B("48000", 5) B("64000", 5)
	    B("+Inf", 6)
	    "coredns_dns_request_size_bytes_sum{proto=\"udp\","
	    "server=\"dns://:53\",view=\"\",zone=\".\"} 71261\n"
	    "coredns_dns_request_size_bytes_count{proto=\"udp\","
	    "server=\"dns://:53\",view=\"\",zone=\".\"} 6\n");
#undef B
	metrics_free(m);
}

/* plugin.TimeBuckets and the label-less histogram of health. */
static void
test_time_buckets(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_histogram *h;
	char	*text, *fam, *p;
	int	 n = 0;

	h = metrics_histogram_get(m, "coredns_dns_request_duration_seconds",
	    V("dns://:53", ".", ""));
	metrics_histogram_observe(h, 0.0003);
	metrics_histogram_observe(h, 0.5);
	metrics_histogram_observe(h, 10);
	text = render(m);
	fam = family(text, "coredns_dns_request_duration_seconds");
	assert_non_null(fam);
	assert_non_null(strstr(fam, "{server=\"dns://:53\",view=\"\","
	    "zone=\".\",le=\"0.00025\"} 0\n"));
	assert_non_null(strstr(fam, "le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(fam, "le=\"0.512\"} 2\n"));
	assert_non_null(strstr(fam, "le=\"8.192\"} 2\n"));
	assert_non_null(strstr(fam, "le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(fam, "_sum{server=\"dns://:53\",view=\"\","
	    "zone=\".\"} 10.5003\n"));
	for (p = fam; (p = strstr(p, "_bucket{")) != NULL; p++)
		n++;
	assert_int_equal(n, 17);
	free(fam);
	fam = family(text, "coredns_health_request_duration_seconds");
	assert_non_null(fam);
	assert_non_null(strstr(fam, "\ncoredns_health_request_duration_"
	    "seconds_bucket{le=\"0.00025\"} 0\n"));
	assert_non_null(strstr(fam, "\ncoredns_health_request_duration_"
	    "seconds_count 0\n"));
	free(fam);
	fam = family(text, "coredns_kubernetes_dns_programming_duration_"
	    "seconds");
	assert_null(fam);	/* a Vec with no series is not exported */
	free(text);
	metrics_free(m);
}

struct cache_fake {
	double	 success, denial;
};

static double
cache_success(void *arg)
{
	return ((struct cache_fake *)arg)->success;
}

static double
cache_denial(void *arg)
{
	return ((struct cache_fake *)arg)->denial;
}

static double
not_now(void *arg)
{
	return NAN;
}

static void
test_func_gauges(void **state)
{
	struct metrics *m = metrics_new();
	struct cache_fake cf = { 12, 3.5 };
	struct metrics_func *fs, *fd, *fn;

	fs = metrics_func_add(m, "coredns_cache_entries",
	    V("dns://:53", "success", ".", ""), cache_success, &cf);
	fd = metrics_func_add(m, "coredns_cache_entries",
	    V("dns://:53", "denial", ".", ""), cache_denial, &cf);
	assert_non_null(fs);
	assert_non_null(fd);
	/* A second function adds to the series (a reload's overlap); histograms have none. */
	fn = metrics_func_add(m, "coredns_cache_entries",
	    V("dns://:53", "denial", ".", ""), cache_denial, &cf);
	assert_non_null(fn);
	assert_true(sample(m, "coredns_cache_entries{server=\"dns://:53\","
	    "type=\"denial\",view=\"\",zones=\".\"}") == 7);
	metrics_func_remove(m, fn);
	assert_null(metrics_func_add(m, "coredns_dns_request_duration_seconds",
	    V("a", "b", "c"), cache_denial, &cf));
#define E "# HELP coredns_cache_entries The number of elements in the " \
	"cache.\n# TYPE coredns_cache_entries gauge\n"
	assert_family(m, "coredns_cache_entries", E
	    "coredns_cache_entries{server=\"dns://:53\",type=\"denial\","
	    "view=\"\",zones=\".\"} 3.5\n"
	    "coredns_cache_entries{server=\"dns://:53\",type=\"success\","
	    "view=\"\",zones=\".\"} 12\n");
	cf.success = 13;
	assert_true(sample(m, "coredns_cache_entries{server=\"dns://:53\","
	    "type=\"success\",view=\"\",zones=\".\"}") == 13);
	metrics_func_remove(m, fd);
	assert_family(m, "coredns_cache_entries", E
	    "coredns_cache_entries{server=\"dns://:53\",type=\"success\","
	    "view=\"\",zones=\".\"} 13\n");
	metrics_func_remove(m, fs);
	assert_family(m, "coredns_cache_entries", NULL);
#undef E
	/* Counters too; NaN leaves the sample, and here the family, out. */
	fn = metrics_func_add(m, "coredns_cache_hits_total",
	    V("dns://:53", "success", ".", ""), not_now, NULL);
	assert_non_null(fn);
	assert_family(m, "coredns_cache_hits_total", NULL);
	metrics_func_remove(m, fn);
	metrics_func_remove(m, NULL);
	metrics_free(m);
}

static void
test_gauges_and_formats(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_gauge *g;
	static const struct {
		double	 v;
		const char *want;
	} cases[] = {
		{ 1, "1" }, { 0.1, "0.1" }, { -2, "-2" }, { 123456.5,
		"123456.5" }, { 999999, "999999" }, { 1e6, "1e+06" },
		{ 1234567, "1.234567e+06" }, { 1e-5, "1e-05" },
		{ 0.0001, "0.0001" }, { 1.0 / 3, "0.3333333333333333" },
		{ 1e21, "1e+21" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" },
		{ 18446744073709551615.0, "1.8446744073709552e+19" },
	};
	char	*text, line[256];
	size_t	 i;

	g = metrics_gauge_get(m, "coredns_build_info",
	    V("1.0.0", "abc123", "gcc"));
	assert_non_null(g);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_gauge_set(g, cases[i].v);
		text = render(m);
		snprintf(line, sizeof(line), "\ncoredns_build_info{goversion="
		    "\"gcc\",revision=\"abc123\",version=\"1.0.0\"} %s\n",
		    cases[i].want);
		if (strstr(text, line) == NULL)
			fail_msg("%.17g: want %s", cases[i].v, cases[i].want);
		free(text);
	}
	metrics_gauge_set(g, 1);
	metrics_gauge_add(g, 0.5);
	metrics_gauge_add(g, -2);
	assert_true(sample(m, "coredns_build_info{goversion=\"gcc\","
	    "revision=\"abc123\",version=\"1.0.0\"}") == -0.5);
	metrics_free(m);
}

static void
test_labelless_and_unknown(void **state)
{
	struct metrics *m = metrics_new();

	/* Plain Go counters are exported from the start, at 0. */
	assert_family(m, "coredns_panics_total",
	    "# HELP coredns_panics_total A metrics that counts the number of "
	    "panics.\n# TYPE coredns_panics_total counter\n"
	    "coredns_panics_total 0\n");
	metrics_counter_add(metrics_counter_get(m, "coredns_panics_total",
	    NULL), 2);
	assert_true(sample(m, "coredns_panics_total") == 2);
	assert_true(sample(m, "coredns_forward_healthcheck_broken_total") ==
	    0);
	assert_true(sample(m, "coredns_reload_failed_total") == 0);
	/* Unknown names and wrong types give NULL, a no-op handle. */
	assert_null(metrics_counter_get(m, "coredns_nope_total", NULL));
	assert_null(metrics_gauge_get(m, "coredns_panics_total", NULL));
	assert_null(metrics_histogram_get(m, "coredns_panics_total", NULL));
	assert_null(metrics_counter_get(m, "coredns_dns_request_size_bytes",
	    V("a", "b", "c", "d")));
	assert_null(metrics_counter_get(m, "coredns_dns_requests_total",
	    NULL));
	/* A NULL value is the empty string. */
	assert_ptr_equal(metrics_counter_get(m, "coredns_dns_do_requests_total",
	    V("dns://:53", ".", NULL)), metrics_counter_get(m,
	    "coredns_dns_do_requests_total", V("dns://:53", ".", "")));
	metrics_counter_add(NULL, 1);
	metrics_gauge_set(NULL, 1);
	metrics_gauge_add(NULL, 1);
	metrics_histogram_observe(NULL, 1);
	metrics_reset(m, "coredns_nope");
	metrics_free(m);
	metrics_free(NULL);
}

static void
test_reset(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_gauge *k, *f;

	k = metrics_gauge_get(m, "coredns_plugin_enabled",
	    V("dns://:53", ".", "", "kubernetes"));
	f = metrics_gauge_get(m, "coredns_plugin_enabled",
	    V("dns://:53", ".", "", "forward"));
	metrics_gauge_set(k, 1);
	metrics_gauge_set(f, 1);
	assert_true(sample(m, "coredns_plugin_enabled{name=\"forward\","
	    "server=\"dns://:53\",view=\"\",zone=\".\"}") == 1);
	metrics_reset(m, "coredns_plugin_enabled");
	assert_family(m, "coredns_plugin_enabled", NULL);
	/* An old handle updates the hidden series; a _get shows it again. */
	metrics_gauge_set(f, 1);
	assert_family(m, "coredns_plugin_enabled", NULL);
	assert_ptr_equal(k, metrics_gauge_get(m, "coredns_plugin_enabled",
	    V("dns://:53", ".", "", "kubernetes")));
	assert_family(m, "coredns_plugin_enabled",
	    "# HELP coredns_plugin_enabled A metric that indicates whether a "
	    "plugin is enabled on per server and zone basis.\n"
	    "# TYPE coredns_plugin_enabled gauge\n"
	    "coredns_plugin_enabled{name=\"kubernetes\",server=\"dns://:53\","
	    "view=\"\",zone=\".\"} 0\n");
	metrics_free(m);
}

static void
test_process_metrics(void **state)
{
	struct metrics *m = metrics_new();
	double	 start = sample(m, "process_start_time_seconds");

	assert_true(sample(m, "process_open_fds") >= 3);
	assert_true(sample(m, "process_max_fds") >= 3);
	assert_true(sample(m, "process_resident_memory_bytes") > 0);
	assert_true(sample(m, "process_virtual_memory_bytes") >
	    sample(m, "process_resident_memory_bytes"));
	assert_true(sample(m, "process_virtual_memory_max_bytes") > 0);
	assert_true(sample(m, "process_cpu_seconds_total") >= 0);
	assert_true(sample(m, "process_network_receive_bytes_total") >= 0);
	assert_true(sample(m, "process_network_transmit_bytes_total") >= 0);
	/* Started within the last day, not in the future. */
	assert_true(start <= (double)time(NULL) + 1);
	assert_true(start > (double)time(NULL) - 86400);
	metrics_free(m);
}

static void
test_labels(void **state)
{
	char	 buf[16];

	assert_string_equal(metrics_qtype_label(1), "A");
	assert_string_equal(metrics_qtype_label(28), "AAAA");
	assert_string_equal(metrics_qtype_label(33), "SRV");
	assert_string_equal(metrics_qtype_label(65), "HTTPS");
	assert_string_equal(metrics_qtype_label(255), "ANY");
	assert_string_equal(metrics_qtype_label(99), "other");
	assert_string_equal(metrics_qtype_label(257), "other");
	assert_string_equal(metrics_rcode_label(0, buf, sizeof(buf)),
	    "NOERROR");
	assert_string_equal(metrics_rcode_label(3, buf, sizeof(buf)),
	    "NXDOMAIN");
	assert_string_equal(metrics_rcode_label(16, buf, sizeof(buf)),
	    "BADSIG");
	assert_string_equal(metrics_rcode_label(12, buf, sizeof(buf)),
	    "RCODE12");
	assert_string_equal(metrics_rcode_label(4095, buf, sizeof(buf)),
	    "RCODE4095");
}

/* Every family with a sample, through the checker. */
static void
test_exposition_checker(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_histogram *h;
	char	*text;
	int	 i;

	metrics_counter_add(metrics_counter_get(m, "coredns_dns_requests_total",
	    V("dns://:53", ".", "", "udp", "1", "A")), 1);
	metrics_counter_add(metrics_counter_get(m,
	    "coredns_dns_responses_total", V("dns://:53", ".", "", "NOERROR",
	    "kubernetes")), 1);
	metrics_gauge_set(metrics_gauge_get(m, "coredns_build_info",
	    V("v", "r", "g")), 1);
	for (i = 0; i < 3; i++) {
		h = metrics_histogram_get(m, "coredns_proxy_request_duration_"
		    "seconds", V("forward", i ? "10.0.0.1:53" : "10.0.0.2:53",
		    "NOERROR"));
		metrics_histogram_observe(h, 0.001 * i);
	}
	metrics_histogram_observe(metrics_histogram_get(m,
	    "coredns_kubernetes_dns_programming_duration_seconds",
	    V("headless_with_selector")), 0.2);
	text = render(m);
	assert_exposition(text);
	free(text);
	metrics_free(m);
}

/* The checker itself: each of these must be refused, the last accepted. */
static void
test_checker(void **state)
{
	static const char *const bad[] = {
		"# TYPE a gauge\na 1\n",
		"# HELP b x\n# TYPE b gauge\nb 1\n# HELP a x\n# TYPE a gauge\n"
		    "a 1\n",
		"# HELP a x\n# TYPE a gauge\na{x=\"1} 1\n",
		"# HELP a x\n# TYPE a gauge\na{x=\"\\q\"} 1\n",
		"# HELP a x\n# TYPE a gauge\nb 1\n",
		"# HELP a x\n# TYPE a gauge\na one\n",
		"# HELP a x\n# TYPE a gauge\na 1",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		    "h_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\n"
		    "h_sum 1\nh_count 1\n",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (check_exposition(bad[i]) == NULL)
			fail_msg("accepted:\n%s", bad[i]);
	assert_null(check_exposition("# HELP h x\n# TYPE h histogram\n"
	    "h_bucket{a=\"1\",le=\"1\"} 1\nh_bucket{a=\"1\",le=\"+Inf\"} 1\n"
	    "h_sum{a=\"1\"} 1\nh_count{a=\"1\"} 1\n# HELP i y\n"
	    "# TYPE i counter\ni{b=\"\\\"\\n\\\\\"} 1e+06\n"));
}

struct worker {
	struct metrics	*m;
	int		 id;
};

#define WORKER_ADDS	100000

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	struct metrics_counter *c;
	struct metrics_histogram *h;
	char		 zone[32];
	int		 i;

	c = metrics_counter_get(w->m, "coredns_dns_requests_total",
	    V("dns://:53", ".", "", "udp", "1", "A"));
	h = metrics_histogram_get(w->m, "coredns_dns_request_duration_seconds",
	    V("dns://:53", ".", ""));
	for (i = 0; i < WORKER_ADDS; i++) {
		metrics_counter_add(c, 1);
		metrics_histogram_observe(h, 0.25);
		if (i % 1000 == 0) {
			/* New series while others render. */
			snprintf(zone, sizeof(zone), "z%d-%d.", w->id, i);
			metrics_counter_add(metrics_counter_get(w->m,
			    "coredns_dns_requests_total", V("dns://:53", zone,
			    "", "udp", "1", "A")), 1);
		}
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct metrics *m = metrics_new();
	struct worker	 w[4];
	pthread_t	 t[4];
	char		*text;
	int		 i;

	for (i = 0; i < 4; i++) {
		w[i].m = m;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 20; i++) {
		text = render(m);
		assert_exposition(text);
		free(text);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(sample(m, "coredns_dns_requests_total{family=\"1\","
	    "proto=\"udp\",server=\"dns://:53\",type=\"A\",view=\"\","
	    "zone=\".\"}") == 4 * WORKER_ADDS);
	assert_true(sample(m, "coredns_dns_request_duration_seconds_count{"
	    "server=\"dns://:53\",view=\"\",zone=\".\"}") == 4 * WORKER_ADDS);
	assert_true(sample(m, "coredns_dns_request_duration_seconds_sum{"
	    "server=\"dns://:53\",view=\"\",zone=\".\"}") ==
	    0.25 * 4 * WORKER_ADDS);
	assert_true(sample(m, "coredns_dns_request_duration_seconds_bucket{"
	    "server=\"dns://:53\",view=\"\",zone=\".\",le=\"0.128\"}") == 0);
	assert_true(sample(m, "coredns_dns_request_duration_seconds_bucket{"
	    "server=\"dns://:53\",view=\"\",zone=\".\",le=\"0.256\"}") ==
	    4 * WORKER_ADDS);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_labels_escaping),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_time_buckets),
		cmocka_unit_test(test_func_gauges),
		cmocka_unit_test(test_gauges_and_formats),
		cmocka_unit_test(test_labelless_and_unknown),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_exposition_checker),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
