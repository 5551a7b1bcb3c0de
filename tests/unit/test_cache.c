/* test_cache.c -- cache options; replies cached, aged, denied, stale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "cache.h"
#include "corefile.h"
#include "wire.h"
#include "zone.h"

#define T0	((time_t)1700000000)	/* the fake clock's start */
#define WIRE	65535

#define NOEDNS	0
#define EDNS	1
#define EDNS_DO	2

/* Parses ". {\n<text>\n}" and hands its first line to cache_config_parse. */
static int
parse(const char *text, struct cache_config **cfg, char *err, size_t errlen)
{
	struct corefile *cf;
	char	*full;
	int	 rc;

	full = NULL;
	assert_true(asprintf(&full, ". {\n%s\n}\n", text) > 0);
	cf = corefile_parse("Corefile", full, err, errlen);
	free(full);
	if (cf == NULL)
		fail_msg("corefile: %s", err);
	rc = cache_config_parse(corefile_first(corefile_block(cf, 0)), cfg,
	    err, errlen);
	corefile_free(cf);
	return rc;
}

static struct cache_config *
parse_ok(const char *text)
{
	struct cache_config *cfg;
	char	 err[512];

	if (parse(text, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s\n--\n%s", err, text);
	return cfg;
}

static struct cache *
cache_for(const char *text)
{
	struct cache_config *cfg = parse_ok(text);
	struct cache *c = cache_new(cfg);

	cache_config_free(cfg);
	return c;
}

static void
assert_strv(char **v, size_t n, const char *want)
{
	char	 got[1024] = "";
	size_t	 len = 0;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
		    i ? " " : "", v[i]);
	assert_string_equal(got, want);
}

static void
test_config_defaults(void **state)
{
	struct cache_config *cfg = parse_ok("cache");

	assert_int_equal(cfg->nzones, 0);
	assert_int_equal(cfg->type[CACHE_SUCCESS].capacity, 9984);
	assert_int_equal(cfg->type[CACHE_DENIAL].capacity, 9984);
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 3600);
	assert_int_equal(cfg->type[CACHE_DENIAL].max_ttl, 1800);
	assert_int_equal(cfg->type[CACHE_SUCCESS].min_ttl, 5);
	assert_int_equal(cfg->type[CACHE_DENIAL].min_ttl, 5);
	assert_int_equal(cfg->type[CACHE_SUCCESS].ndisabled, 0);
	assert_int_equal(cfg->prefetch, 0);
	assert_int_equal(cfg->prefetch_window_ms, 60000);
	assert_int_equal(cfg->prefetch_percent, 10);
	assert_false(cfg->serve_stale);
	assert_int_equal(cfg->servfail_ms, 5000);
	assert_false(cfg->keepttl);
	assert_int_equal(cfg->edns_size, 1232);
	assert_string_equal(cfg->file, "Corefile");
	assert_int_equal(cfg->line, 2);
	cache_config_free(cfg);

	cfg = parse_ok("cache {\n}");
	assert_int_equal(cfg->type[CACHE_DENIAL].max_ttl, 1800);
	cache_config_free(cfg);
}

static void
test_config_ttl_zones(void **state)
{
	struct cache_config *cfg;

	cfg = parse_ok("cache 30");
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 30);
	assert_int_equal(cfg->type[CACHE_DENIAL].max_ttl, 30);
	assert_int_equal(cfg->nzones, 0);
	cache_config_free(cfg);

	cfg = parse_ok("cache 300 Example.ORG. 10.0.0.0/8 fd00::/8 .");
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 300);
	assert_strv(cfg->zones, cfg->nzones,
	    "example.org 10.in-addr.arpa d.f.ip6.arpa .");
	cache_config_free(cfg);

	/* As in CoreDNS, a first argument that is no number is a zone. */
	cfg = parse_ok("cache aaa example.nl");
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 3600);
	assert_strv(cfg->zones, cfg->nzones, "aaa example.nl");
	cache_config_free(cfg);
}

static void
test_config_options(void **state)
{
	struct cache_config *cfg;

	cfg = parse_ok("cache 25 example.nl {\n"
	    " success 5000 1800 30\n"
	    " denial 2500 15 2\n"
	    " prefetch 3 2m30s 20%\n"
	    " serve_stale 20m verify\n"
	    " servfail 1m\n"
	    " disable denial Example.COM example.org.\n"
	    " keepttl\n"
	    "}");
	assert_int_equal(cfg->type[CACHE_SUCCESS].capacity, 5000);
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 1800);
	assert_int_equal(cfg->type[CACHE_SUCCESS].min_ttl, 30);
	assert_int_equal(cfg->type[CACHE_DENIAL].capacity, 2500);
	assert_int_equal(cfg->type[CACHE_DENIAL].max_ttl, 15);
	assert_int_equal(cfg->type[CACHE_DENIAL].min_ttl, 2);
	assert_int_equal(cfg->prefetch, 3);
	assert_int_equal(cfg->prefetch_window_ms, 150000);
	assert_int_equal(cfg->prefetch_percent, 20);
	assert_true(cfg->serve_stale);
	assert_int_equal(cfg->stale_ms, 1200000);
	assert_true(cfg->stale_verify);
	assert_int_equal(cfg->servfail_ms, 60000);
	assert_strv(cfg->type[CACHE_DENIAL].disabled,
	    cfg->type[CACHE_DENIAL].ndisabled, "example.com example.org");
	assert_int_equal(cfg->type[CACHE_SUCCESS].ndisabled, 0);
	assert_true(cfg->keepttl);
	assert_strv(cfg->zones, cfg->nzones, "example.nl");
	cache_config_free(cfg);

	/* TTL alone; then the cache line's TTL is overridden per type. */
	cfg = parse_ok("cache 25 {\n success 10\n denial 10 15\n}");
	assert_int_equal(cfg->type[CACHE_SUCCESS].capacity, 10);
	assert_int_equal(cfg->type[CACHE_SUCCESS].max_ttl, 25);
	assert_int_equal(cfg->type[CACHE_DENIAL].max_ttl, 15);
	assert_int_equal(cfg->type[CACHE_DENIAL].min_ttl, 5);
	cache_config_free(cfg);

	/* prefetch AMOUNT alone keeps the window and percentage. */
	cfg = parse_ok("cache {\n prefetch 10\n}");
	assert_int_equal(cfg->prefetch, 10);
	assert_int_equal(cfg->prefetch_window_ms, 60000);
	assert_int_equal(cfg->prefetch_percent, 10);
	cache_config_free(cfg);

	/* disable without zones is every zone; repeats: the last wins. */
	cfg = parse_ok("cache {\n disable success a.example\n"
	    " disable success\n disable denial b.example\n}");
	assert_strv(cfg->type[CACHE_SUCCESS].disabled,
	    cfg->type[CACHE_SUCCESS].ndisabled, ".");
	assert_strv(cfg->type[CACHE_DENIAL].disabled,
	    cfg->type[CACHE_DENIAL].ndisabled, "b.example");
	cache_config_free(cfg);
}

struct duration_case {
	const char *text;
	int64_t	 ms;
	bool	 verify;
};

static void
test_config_durations(void **state)
{
	static const struct duration_case stale[] = {
		{ "serve_stale", 3600000, false },
		{ "serve_stale 20m", 1200000, false },
		{ "serve_stale 1h20m", 4800000, false },
		{ "serve_stale 0m", 0, false },
		{ "serve_stale 0", 0, false },
		{ "serve_stale 0 verify", 0, true },
		{ "serve_stale 0 VERIFY", 0, true },
		{ "serve_stale 0 immediate", 0, false },
		{ "serve_stale 1.5h", 5400000, false },
		{ "serve_stale 90s immediate", 90000, false },
	};
	static const struct duration_case servfail[] = {
		{ "servfail 1s", 1000, false },
		{ "servfail 5m", 300000, false },
		{ "servfail 0s", 0, false },
		{ "servfail 0", 0, false },
		{ "servfail 1500ms", 1500, false },
		{ "servfail +2s", 2000, false },
	};
	struct cache_config *cfg;
	char	 text[128];

	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		snprintf(text, sizeof(text), "cache {\n%s\n}", stale[i].text);
		cfg = parse_ok(text);
		assert_true(cfg->serve_stale);
		assert_int_equal(cfg->stale_ms, stale[i].ms);
		assert_int_equal(cfg->stale_verify, stale[i].verify);
		cache_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(servfail) / sizeof(servfail[0]); i++) {
		snprintf(text, sizeof(text), "cache {\n%s\n}",
		    servfail[i].text);
		cfg = parse_ok(text);
		assert_int_equal(cfg->servfail_ms, servfail[i].ms);
		cache_config_free(cfg);
	}
}

struct err_case {
	const char *text;
	const char *want;
};

static void
test_config_errors(void **state)
{
	static const struct err_case cases[] = {
		{ "cache 0 example.nl",
		  "Corefile:2: cache: TTL can not be zero or negative: 0" },
		{ "cache -1 example.nl",
		  "Corefile:2: cache: TTL can not be zero or negative: -1" },
		{ "cache 99999999999",
		  "Corefile:2: cache: TTL '99999999999' is out of range" },
		{ "cache 30 exa..mple",
		  "Corefile:2: cache: zone 'exa..mple': not a valid domain "
		  "name" },
		{ "cache 30 10.0.0.0/12",
		  "Corefile:2: cache: zone '10.0.0.0/12': CIDR mask is not on an "
		  "octet boundary" },
		{ "cache {\n positive 15\n}",
		  "Corefile:3: cache: unknown option 'positive'" },
		{ "cache {\n success\n}",
		  "Corefile:3: cache option 'success': wrong number of "
		  "arguments (0)" },
		{ "cache {\n success 1 2 3 4\n}",
		  "Corefile:3: cache option 'success': wrong number of "
		  "arguments (4)" },
		{ "cache {\n success aaa\n}",
		  "Corefile:3: cache option 'success': capacity 'aaa' is not "
		  "a number of 0 or more" },
		{ "cache {\n success -5\n}",
		  "Corefile:3: cache option 'success': capacity '-5' is not "
		  "a number of 0 or more" },
		{ "cache {\n success 10 0\n}",
		  "Corefile:3: cache option 'success': TTL '0' is not a "
		  "number above 0" },
		{ "cache {\n success 10 30 -1\n}",
		  "Corefile:3: cache option 'success': min TTL '-1' is not a "
		  "number of 0 or more" },
		{ "cache {\n success 10\n denial aaa\n}",
		  "Corefile:4: cache option 'denial': capacity 'aaa' is not "
		  "a number of 0 or more" },
		{ "cache {\n denial 10 x\n}",
		  "Corefile:3: cache option 'denial': TTL 'x' is not a "
		  "number above 0" },
		{ "cache {\n denial 10 15 1.5\n}",
		  "Corefile:3: cache option 'denial': min TTL '1.5' is not a "
		  "number of 0 or more" },
		{ "cache {\n prefetch\n}",
		  "Corefile:3: cache option 'prefetch': wrong number of "
		  "arguments (0)" },
		{ "cache {\n prefetch -1\n}",
		  "Corefile:3: cache option 'prefetch': amount '-1' is not a "
		  "number of 0 or more" },
		{ "cache {\n prefetch 0 blurp\n}",
		  "Corefile:3: cache option 'prefetch': invalid duration "
		  "'blurp' (as 1m or 30s)" },
		{ "cache {\n prefetch 2 1m 20\n}",
		  "Corefile:3: cache option 'prefetch': percentage '20' must "
		  "end in '%'" },
		{ "cache {\n prefetch 2 1m 5%\n}",
		  "Corefile:3: cache option 'prefetch': percentage '5%' is "
		  "not in [10%, 90%]" },
		{ "cache {\n prefetch 2 1m 91%\n}",
		  "Corefile:3: cache option 'prefetch': percentage '91%' is "
		  "not in [10%, 90%]" },
		{ "cache {\n prefetch 2 1m x%\n}",
		  "Corefile:3: cache option 'prefetch': percentage 'x%' is "
		  "not in [10%, 90%]" },
		{ "cache {\n prefetch 2 1m 10% 4\n}",
		  "Corefile:3: cache option 'prefetch': wrong number of "
		  "arguments (4)" },
		{ "cache {\n serve_stale 20\n}",
		  "Corefile:3: cache option 'serve_stale': invalid duration "
		  "'20' (as 1h or 30m)" },
		{ "cache {\n serve_stale -20m\n}",
		  "Corefile:3: cache option 'serve_stale': invalid duration "
		  "'-20m' (as 1h or 30m)" },
		{ "cache {\n serve_stale aa\n}",
		  "Corefile:3: cache option 'serve_stale': invalid duration "
		  "'aa' (as 1h or 30m)" },
		{ "cache {\n serve_stale 1m nono\n}",
		  "Corefile:3: cache option 'serve_stale': unknown refresh "
		  "mode 'nono' (immediate or verify)" },
		{ "cache {\n serve_stale 0 after nono\n}",
		  "Corefile:3: cache option 'serve_stale': wrong number of "
		  "arguments (3)" },
		{ "cache {\n servfail\n}",
		  "Corefile:3: cache option 'servfail': wrong number of "
		  "arguments (0)" },
		{ "cache {\n servfail 6m\n}",
		  "Corefile:3: cache option 'servfail': caching SERVFAIL "
		  "responses over 5 minutes is not permitted" },
		{ "cache {\n servfail 20\n}",
		  "Corefile:3: cache option 'servfail': invalid duration '20' "
		  "(as 5s or 1m)" },
		{ "cache {\n servfail -1s\n}",
		  "Corefile:3: cache option 'servfail': invalid duration "
		  "'-1s' (as 5s or 1m)" },
		{ "cache {\n servfail 1m invalid\n}",
		  "Corefile:3: cache option 'servfail': wrong number of "
		  "arguments (2)" },
		{ "cache {\n disable\n}",
		  "Corefile:3: cache option 'disable': wrong number of "
		  "arguments (0)" },
		{ "cache {\n disable invalid example.com\n}",
		  "Corefile:3: cache option 'disable': unknown cache type "
		  "'invalid' (success or denial)" },
		{ "cache {\n disable denial a..b\n}",
		  "Corefile:3: cache option 'disable': zone 'a..b': not a "
		  "valid domain name" },
		{ "cache {\n keepttl arg1\n}",
		  "Corefile:3: cache option 'keepttl': wrong number of "
		  "arguments (1)" },
		{ "cache {\n keepttl {\n }\n}",
		  "Corefile:3: cache option 'keepttl': takes no block" },
	};
	struct cache_config *cfg;
	char	 err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].text, &cfg, err, sizeof(err)) == 0)
			fail_msg("case %zu parsed:\n%s", i, cases[i].text);
		assert_null(cfg);
		if (strcmp(err, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err,
			    cases[i].want);
	}
}

/* A query as wire into buf; edns is NOEDNS, EDNS or EDNS_DO. */
static size_t
query(uint8_t *buf, const char *name, ldns_rr_type type, uint16_t id,
    int edns, bool cd)
{
	ldns_pkt *p = NULL;
	uint8_t	*wire = NULL;
	size_t	 len;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, type,
	    LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_cd(p, cd);
	if (edns != NOEDNS) {
		ldns_pkt_set_edns_udp_size(p, 4096);
		ldns_pkt_set_edns_do(p, edns == EDNS_DO);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static void
push(ldns_pkt *p, ldns_pkt_section sec, const char *rrs)
{
	char	*copy, *line, *save = NULL;
	ldns_rr	*rr;

	if (rrs == NULL)
		return;
	copy = strdup(rrs);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		rr = NULL;
		if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fail_msg("bad record: %s", line);
		ldns_pkt_push_rr(p, sec, rr);
	}
	free(copy);
}

/* The upstream's reply to q: rcode, sections as lines of records, TC. */
static size_t
reply(uint8_t *buf, const uint8_t *q, size_t qlen, ldns_pkt_rcode rcode,
    const char *an, const char *ns, const char *ar, bool tc)
{
	ldns_pkt *p = NULL;
	uint8_t	*wire = NULL;
	size_t	 len;

	assert_int_equal(ldns_wire2pkt(&p, q, qlen), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, rcode);
	ldns_pkt_set_tc(p, tc);
	push(p, LDNS_SECTION_ANSWER, an);
	push(p, LDNS_SECTION_AUTHORITY, ns);
	push(p, LDNS_SECTION_ADDITIONAL, ar);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

/* Queries name from upstream's reply into c at now. */
static void
insert(struct cache *c, const char *name, ldns_rr_type type, int edns,
    ldns_pkt_rcode rcode, const char *an, const char *ns, time_t now)
{
	uint8_t	 q[512], r[WIRE];
	size_t	 qlen, rlen;

	qlen = query(q, name, type, 1, edns, false);
	rlen = reply(r, q, qlen, rcode, an, ns, NULL, false);
	cache_insert(c, q, qlen, r, rlen, now);
}

/* Looks name up at now; the parsed reply, or NULL on a miss. */
static ldns_pkt *
lookup(struct cache *c, const char *name, ldns_rr_type type, int edns,
    time_t now, bool *stale)
{
	uint8_t	 q[512], out[WIRE];
	size_t	 qlen, n;
	ldns_pkt *p = NULL;
	bool	 dummy;

	qlen = query(q, name, type, 0x4242, edns, false);
	n = cache_lookup(c, q, qlen, 0, now, out, sizeof(out),
	    stale ? stale : &dummy);
	if (n == 0)
		return NULL;
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	return p;
}

static uint32_t
ttl_of(const ldns_pkt *p, ldns_pkt_section sec, size_t i)
{
	const ldns_rr_list *rrs = sec == LDNS_SECTION_ANSWER ?
	    ldns_pkt_answer(p) : sec == LDNS_SECTION_AUTHORITY ?
	    ldns_pkt_authority(p) : ldns_pkt_additional(p);

	assert_true(i < ldns_rr_list_rr_count(rrs));
	return ldns_rr_ttl(ldns_rr_list_rr(rrs, i));
}

/* The first answer's IPv4 address. */
static const uint8_t *
a_of(const ldns_pkt *p)
{
	return ldns_rdf_data(ldns_rr_a_address(ldns_rr_list_rr(
	    ldns_pkt_answer(p), 0)));
}

static void
test_ttl_decrement_and_expiry(void **state)
{
	struct cache *c = cache_for("cache");
	struct cache_stats st;
	ldns_pkt *p;

	insert(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "www.example.org. 300 IN A 192.0.2.1\n"
	    "www.example.org. 100 IN A 192.0.2.2", NULL, T0);
	/* Every record takes the reply's lowest TTL, as CoreDNS does. */
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 100);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 1), 100);
	ldns_pkt_free(p);
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 40,
	    NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 60);
	ldns_pkt_free(p);
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 99,
	    NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 1), 1);
	ldns_pkt_free(p);
	/* A clock that steps back shows the full TTL, never more. */
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 - 50,
	    NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 100);
	ldns_pkt_free(p);
	/* At TTL 0 it is gone, and the expired entry is dropped. */
	assert_null(lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 100, NULL));
	assert_null(lookup(c, "www.example.org.", LDNS_RR_TYPE_AAAA, NOEDNS,
	    T0, NULL));
	cache_stats(c, &st);
	assert_int_equal(st.hits[CACHE_SUCCESS], 4);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.requests, 6);
	assert_int_equal(st.entries[CACHE_SUCCESS], 0);
	cache_free(c);
}

static void
test_reply_header(void **state)
{
	struct cache *c = cache_for("cache");
	uint8_t	 q[512], r[WIRE], out[WIRE];
	size_t	 qlen, rlen, n;
	ldns_pkt *p = NULL;
	bool	 stale;

	insert(c, "Www.Example.ORG.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "Www.Example.ORG. 60 IN A 192.0.2.1",
	    NULL, T0);
	/* Another spelling and ID: the reply copies both. */
	qlen = query(q, "wWW.eXAMPLE.org.", LDNS_RR_TYPE_A, 0xbeef, NOEDNS,
	    false);
	n = cache_lookup(c, q, qlen, 0, T0 + 1, out, sizeof(out), &stale);
	assert_true(n > 0);
	assert_false(stale);
	assert_memory_equal(out + 12, q + 12, qlen - 12 - 4);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0xbeef);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_aa(p));	/* as CoreDNS sets it */
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_ra(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 59);
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	/* CD is part of the key, as in CoreDNS, and copied to the reply. */
	qlen = query(q, "www.example.org.", LDNS_RR_TYPE_A, 7, NOEDNS, true);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "www.example.org. 60 IN A 192.0.2.9", NULL, NULL, false);
	cache_insert(c, q, qlen, r, rlen, T0);
	p = NULL;
	n = cache_lookup(c, q, qlen, 0, T0, out, sizeof(out), &stale);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_cd(p));
	assert_memory_equal(a_of(p), "\300\0\2\11", 4);
	ldns_pkt_free(p);
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_false(ldns_pkt_cd(p));
	assert_memory_equal(a_of(p), "\300\0\2\1", 4);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_do_bit_and_edns(void **state)
{
	struct cache *c = cache_for("cache");
	struct cache_config *cfg;
	ldns_pkt *p;

	insert(c, "example.org.", LDNS_RR_TYPE_A, EDNS_DO, LDNS_RCODE_NOERROR,
	    "example.org. 60 IN A 192.0.2.1", NULL, T0);
	assert_null(lookup(c, "example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	assert_null(lookup(c, "example.org.", LDNS_RR_TYPE_A, EDNS, T0,
	    NULL));
	p = lookup(c, "example.org.", LDNS_RR_TYPE_A, EDNS_DO, T0, NULL);
	assert_non_null(p);
	assert_true(ldns_pkt_edns(p));
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	ldns_pkt_free(p);

	/* EDNS is not in the key: stored without, an EDNS query gets OPT. */
	insert(c, "example.net.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "example.net. 60 IN A 192.0.2.2", NULL, T0);
	p = lookup(c, "example.net.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	p = lookup(c, "example.net.", LDNS_RR_TYPE_A, EDNS, T0, NULL);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
	cache_free(c);

	/* The OPT's size follows edns_size, which the caller may set. */
	cfg = parse_ok("cache");
	cfg->edns_size = 4096;
	c = cache_new(cfg);
	cache_config_free(cfg);
	insert(c, "example.org.", LDNS_RR_TYPE_A, EDNS, LDNS_RCODE_NOERROR,
	    "example.org. 60 IN A 192.0.2.1", NULL, T0);
	p = lookup(c, "example.org.", LDNS_RR_TYPE_A, EDNS, T0, NULL);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 4096);
	ldns_pkt_free(p);
	cache_free(c);
}

#define SOA(ttl, min)	"example.org. " #ttl " IN SOA ns.example.org. " \
			"admin.example.org. 1 7200 3600 1209600 " #min

static void
test_negative_caching(void **state)
{
	struct cache *c = cache_for("cache");
	struct cache_stats st;
	ldns_pkt *p;

	/* NXDOMAIN: the SOA's MINIMUM (60) is below its TTL (900). */
	insert(c, "nope.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(900, 60), T0);
	p = lookup(c, "nope.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 10,
	    NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_SOA);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 50);
	ldns_pkt_free(p);
	assert_null(lookup(c, "nope.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 60, NULL));

	/* NODATA: the SOA's TTL (30) is below its MINIMUM (3600). */
	insert(c, "www.example.org.", LDNS_RR_TYPE_AAAA, NOEDNS,
	    LDNS_RCODE_NOERROR, NULL, SOA(30, 3600), T0);
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_AAAA, NOEDNS, T0 + 29,
	    NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 1);
	ldns_pkt_free(p);

	/* Denials are capped at 1800 by default. */
	insert(c, "big.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(86400, 86400), T0);
	p = lookup(c, "big.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 1800);
	ldns_pkt_free(p);

	/* An NXDOMAIN without SOA is an error to CoreDNS: not cached. */
	insert(c, "nosoa.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, NULL, T0);
	assert_null(lookup(c, "nosoa.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0, NULL));
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_DENIAL], 2);
	assert_int_equal(st.entries[CACHE_SUCCESS], 0);
	assert_int_equal(st.hits[CACHE_DENIAL], 3);
	cache_free(c);
}

static void
test_ttl_caps(void **state)
{
	struct cache *c = cache_for("cache 30 {\n denial 100 20 10\n}");
	ldns_pkt *p;

	insert(c, "long.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "long.example.org. 300 IN A 192.0.2.1", NULL,
	    T0);
	insert(c, "short.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "short.example.org. 1 IN A 192.0.2.1", NULL,
	    T0);
	insert(c, "zero.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(0, 0), T0);
	p = lookup(c, "long.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 30);
	ldns_pkt_free(p);
	p = lookup(c, "short.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 5);
	ldns_pkt_free(p);
	p = lookup(c, "zero.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 10);
	ldns_pkt_free(p);
	cache_free(c);

	/* A MINTTL above the TTL: the TTL wins, as in computeTTL. */
	c = cache_for("cache {\n success 100 10 60\n}");
	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 1 IN A 192.0.2.1", NULL, T0);
	p = lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 10);
	ldns_pkt_free(p);
	cache_free(c);

	/* MINTTL 0: a TTL-0 answer is not worth caching. */
	c = cache_for("cache {\n success 100 10 0\n}");
	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 0 IN A 192.0.2.1", NULL, T0);
	assert_null(lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	cache_free(c);
}

static void
test_keepttl(void **state)
{
	struct cache *c = cache_for("cache {\n keepttl\n}");
	ldns_pkt *p;

	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 60 IN A 192.0.2.1", NULL, T0);
	p = lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 59, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 60);
	ldns_pkt_free(p);
	assert_null(lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 60, NULL));
	cache_free(c);
}

static void
test_capacity_eviction(void **state)
{
	/* 1000 rounds up to CoreDNS's smallest cache: 256 shards of 4. */
	struct cache *c = cache_for("cache {\n success 1000\n}");
	struct cache_stats st;
	char	 name[64], rr[128];
	ldns_pkt *p;

	for (int i = 0; i < 1024; i++) {
		snprintf(name, sizeof(name), "n%d.example.org.", i);
		snprintf(rr, sizeof(rr), "%s 60 IN A 192.0.2.1", name);
		insert(c, name, LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR, rr,
		    NULL, T0);
	}
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1024);
	assert_int_equal(st.evictions[CACHE_SUCCESS], 0);
	/* Touch n0: n1 is now the least recently used. */
	p = lookup(c, "n0.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	insert(c, "new.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "new.example.org. 60 IN A 192.0.2.1", NULL,
	    T0);
	/* Replacing a key is no eviction. */
	insert(c, "n5.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "n5.example.org. 60 IN A 192.0.2.5", NULL,
	    T0);
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1024);
	assert_int_equal(st.evictions[CACHE_SUCCESS], 1);
	assert_int_equal(st.evictions[CACHE_DENIAL], 0);
	assert_null(lookup(c, "n1.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	p = lookup(c, "n0.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	p = lookup(c, "new.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	ldns_pkt_free(p);

	/* Denials have their own capacity: they evict no successes. */
	insert(c, "x.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(60, 60), T0);
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1024);
	assert_int_equal(st.entries[CACHE_DENIAL], 1);
	cache_free(c);
}

static void
test_serve_stale_immediate(void **state)
{
	struct cache *c = cache_for("cache {\n serve_stale 1h\n}");
	struct cache_stats st;
	ldns_pkt *p;
	bool	 stale;

	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 60 IN A 192.0.2.1", NULL, T0);
	p = lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 30,
	    &stale);
	assert_false(stale);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 30);
	ldns_pkt_free(p);
	/* Expired: served at once with TTL 0, and the caller refreshes. */
	p = lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 60,
	    &stale);
	assert_non_null(p);
	assert_true(stale);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 0);
	ldns_pkt_free(p);
	p = lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 60 + 3599, &stale);
	assert_true(stale);
	ldns_pkt_free(p);
	/* The refresh fails: its SERVFAIL keeps the stale data. */
	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0 + 60 + 3599);
	/* Past the stale duration it is a miss. */
	assert_null(lookup(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 60 + 3600, &stale));
	assert_false(stale);
	cache_stats(c, &st);
	assert_int_equal(st.served_stale, 2);
	assert_int_equal(st.prefetches, 2);
	assert_int_equal(st.hits[CACHE_SUCCESS], 3);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries[CACHE_SUCCESS], 0);
	assert_int_equal(st.entries[CACHE_DENIAL], 0);
	/* A stale SERVFAIL is not served: better ask again. */
	insert(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0);
	assert_null(lookup(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 5, &stale));
	cache_free(c);
}

static void
test_serve_stale_verify(void **state)
{
	struct cache *c = cache_for("cache {\n serve_stale 10m verify\n}");
	uint8_t	 q[512], out[WIRE];
	size_t	 qlen, n;
	struct cache_stats st;
	ldns_pkt *p = NULL;
	bool	 stale;

	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 60 IN A 192.0.2.1", NULL, T0);
	qlen = query(q, "A.example.org.", LDNS_RR_TYPE_A, 99, EDNS, false);
	/* Verify: expired is a miss, so the caller asks upstream first. */
	assert_int_equal(cache_lookup(c, q, qlen, 0, T0 + 61, out,
	    sizeof(out), &stale), 0);
	assert_false(stale);
	/* Upstream failed: the stale answer, TTL 0. */
	n = cache_lookup_stale(c, q, qlen, 0, T0 + 61, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 99);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 0);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* Its SERVFAIL changes nothing; a real answer replaces it. */
	insert(c, "a.example.org.", LDNS_RR_TYPE_A, EDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0 + 61);
	assert_true(cache_lookup_stale(c, q, qlen, 0, T0 + 61, out,
	    sizeof(out)) > 0);
	assert_int_equal(cache_lookup_stale(c, q, qlen, 0, T0 + 60 + 600, out,
	    sizeof(out)), 0);
	cache_stats(c, &st);
	assert_int_equal(st.served_stale, 2);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits[CACHE_SUCCESS], 0);
	cache_free(c);

	/* Without serve_stale there is nothing stale to serve. */
	c = cache_for("cache");
	insert(c, "a.example.org.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "a.example.org. 60 IN A 192.0.2.1", NULL, T0);
	qlen = query(q, "a.example.org.", LDNS_RR_TYPE_A, 99, NOEDNS, false);
	assert_int_equal(cache_lookup_stale(c, q, qlen, 0, T0 + 61, out,
	    sizeof(out)), 0);
	cache_free(c);
}

static void
test_servfail(void **state)
{
	struct cache *c = cache_for("cache");
	struct cache_stats st;
	ldns_pkt *p;

	/* Five seconds by default, whatever the reply says. */
	insert(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0);
	insert(c, "ni.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOTIMPL, NULL, NULL, T0);
	p = lookup(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 4,
	    NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	assert_null(lookup(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 5, NULL));
	p = lookup(c, "ni.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(p);
	cache_stats(c, &st);
	assert_int_equal(st.hits[CACHE_DENIAL], 2);
	/* A fresh answer is not replaced by a SERVFAIL (a failed prefetch). */
	insert(c, "ok.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "ok.example.org. 60 IN A 192.0.2.1", NULL, T0);
	insert(c, "ok.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0 + 1);
	p = lookup(c, "ok.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 2, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	/* Other errors are never cached. */
	insert(c, "refused.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_REFUSED, NULL, NULL, T0);
	assert_null(lookup(c, "refused.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0, NULL));
	cache_free(c);

	c = cache_for("cache {\n servfail 30s\n}");
	insert(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0);
	p = lookup(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 29,
	    NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	cache_free(c);

	c = cache_for("cache {\n servfail 0\n}");
	insert(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_SERVFAIL, NULL, NULL, T0);
	assert_null(lookup(c, "bad.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	cache_free(c);
}

static void
test_zones(void **state)
{
	struct cache *c = cache_for("cache 30 Example.ORG 10.0.0.0/8");
	ldns_pkt *p;

	assert_true(cache_match(c, (const uint8_t *)"\7example\3org"));
	assert_true(cache_match(c, (const uint8_t *)"\3WWW\7EXAMPLE\3ORG"));
	assert_false(cache_match(c, (const uint8_t *)"\7example\3com"));
	assert_false(cache_match(c, (const uint8_t *)"\3org"));
	assert_false(cache_match(c, (const uint8_t *)"\12badexample\3org"));
	assert_false(cache_match(c, (const uint8_t *)""));
	assert_true(cache_match(c,
	    (const uint8_t *)"\0014\0011\0012\00210\7in-addr\4arpa"));
	assert_false(cache_match(c,
	    (const uint8_t *)"\0014\0011\0012\00211\7in-addr\4arpa"));
	assert_string_equal(cache_zones_label(c),
	    "example.org.,10.in-addr.arpa.");
	/* Outside the zones, nothing is stored. */
	insert(c, "example.com.", LDNS_RR_TYPE_A, NOEDNS, LDNS_RCODE_NOERROR,
	    "example.com. 60 IN A 192.0.2.1", NULL, T0);
	assert_null(lookup(c, "example.com.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	cache_free(c);

	c = cache_for("cache");
	assert_true(cache_match(c, (const uint8_t *)"\7example\3com"));
	assert_true(cache_match(c, (const uint8_t *)""));
	assert_string_equal(cache_zones_label(c), "");
	cache_free(c);
	c = cache_for("cache 30 .");
	assert_string_equal(cache_zones_label(c), ".");
	cache_free(c);

	/* disable: denials below example.org are not kept; successes are. */
	c = cache_for("cache {\n disable denial example.org\n}");
	insert(c, "nope.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(60, 60), T0);
	insert(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "www.example.org. 60 IN A 192.0.2.1", NULL,
	    T0);
	insert(c, "nope.example.net.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, "example.net. 60 IN SOA ns.example.net."
	    " admin.example.net. 1 7200 3600 1209600 60", T0);
	assert_null(lookup(c, "nope.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	p = lookup(c, "www.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	p = lookup(c, "nope.example.net.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_not_cached(void **state)
{
	struct cache *c = cache_for("cache");
	uint8_t	 q[512], r[WIRE];
	size_t	 qlen, rlen;
	struct cache_stats st;
	ldns_pkt *p;

	/* Truncated. */
	qlen = query(q, "tc.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "tc.example.org. 60 IN A 192.0.2.1", NULL, NULL, true);
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_null(lookup(c, "tc.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	/* The reply of another question, or no reply at all: drops. */
	qlen = query(q, "other.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "other.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	qlen = query(q, "asked.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS,
	    false);
	cache_insert(c, q, qlen, r, rlen, T0);
	cache_insert(c, q, qlen, r, 7, T0);
	qlen = query(q, "other.example.org.", LDNS_RR_TYPE_AAAA, 1, NOEDNS,
	    false);
	cache_insert(c, q, qlen, r, rlen, T0);
	/* A query given for the reply: QR is clear. */
	cache_insert(c, q, qlen, q, qlen, T0);
	cache_stats(c, &st);
	assert_int_equal(st.drops, 4);
	assert_int_equal(st.entries[CACHE_SUCCESS], 0);
	/* AXFR is never cached. */
	insert(c, "example.org.", LDNS_RR_TYPE_AXFR, NOEDNS,
	    LDNS_RCODE_NOERROR, SOA(60, 60), NULL, T0);
	assert_null(lookup(c, "example.org.", LDNS_RR_TYPE_AXFR, NOEDNS, T0,
	    NULL));
	/* A malformed query is neither a hit nor a miss. */
	{
		bool	 stale;
		uint8_t	 out[512];

		assert_int_equal(cache_lookup(c, q, 5, 0, T0, out,
		    sizeof(out), &stale), 0);
		assert_false(cache_should_prefetch(c, q, 5, T0));
	}
	cache_stats(c, &st);
	assert_int_equal(st.requests, 2);
	/* A delegation and an empty NOERROR are successes, kept 5 s. */
	insert(c, "sub.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, NULL, "sub.example.org. 600 IN NS ns.sub."
	    "example.org.", T0);
	insert(c, "empty.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, NULL, NULL, T0);
	p = lookup(c, "sub.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0, NULL);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 5);
	ldns_pkt_free(p);
	p = lookup(c, "empty.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 4,
	    NULL);
	assert_non_null(p);
	ldns_pkt_free(p);
	assert_null(lookup(c, "empty.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0 + 5, NULL));
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1);
	cache_free(c);
}

static void
test_truncation(void **state)
{
	struct cache *c = cache_for("cache");
	uint8_t	 q[512], r[WIRE], out[WIRE];
	size_t	 qlen, rlen, n;
	char	 an[8192] = "", ar[256];
	ldns_pkt *p = NULL;
	bool	 stale;

	for (int i = 0; i < 40; i++)
		snprintf(an + strlen(an), sizeof(an) - strlen(an),
		    "big.example.org. 60 IN TXT \"%040d\"\n", i);
	snprintf(ar, sizeof(ar), "ns.example.org. 60 IN A 192.0.2.53");
	qlen = query(q, "big.example.org.", LDNS_RR_TYPE_TXT, 5, EDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR, an, NULL, ar, false);
	cache_insert(c, q, qlen, r, rlen, T0);
	/* TCP: all of it. */
	n = cache_lookup(c, q, qlen, 0, T0, out, sizeof(out), &stale);
	assert_true(n > 1232);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 40);
	assert_int_equal(ldns_pkt_arcount(p), 1);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* Room for all but the additional: it goes, without TC. */
	p = NULL;
	n = cache_lookup(c, q, qlen, (uint16_t)(n - 5), T0, out, sizeof(out),
	    &stale);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(p), 40);
	assert_false(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* 512 bytes: the header, question and OPT, with TC. */
	p = NULL;
	n = cache_lookup(c, q, qlen, 512, T0, out, sizeof(out), &stale);
	assert_true(n <= 512);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* An out buffer too small for even that: nothing. */
	assert_int_equal(cache_lookup(c, q, qlen, 0, T0, out, 20, &stale), 0);
	cache_free(c);
}

static void
test_prefetch(void **state)
{
	struct cache *c = cache_for("cache {\n prefetch 3 1m 10%\n}");
	uint8_t	 q[512];
	size_t	 qlen;
	struct cache_stats st;

	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 300 IN A 192.0.2.1", NULL,
	    T0);
	qlen = query(q, "hot.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS, false);
	/* Three hits without a one-minute gap, but 40 s left: not yet. */
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 240));
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 250));
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 260));
	/* 30 s left, 10% of 300: now. */
	assert_true(cache_should_prefetch(c, q, qlen, T0 + 270));
	/* The refreshed reply keeps the popularity: one hit is enough. */
	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 30 IN A 192.0.2.1", NULL,
	    T0 + 271);
	assert_true(cache_should_prefetch(c, q, qlen, T0 + 271 + 27));
	cache_free(c);

	/* A gap of more than the window starts the count again. */
	c = cache_for("cache {\n prefetch 3 1m 10%\n}");
	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 300 IN A 192.0.2.1", NULL,
	    T0);
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 200));
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 230));
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 291));
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 292));
	assert_true(cache_should_prefetch(c, q, qlen, T0 + 293));
	cache_free(c);

	c = cache_for("cache {\n prefetch 2 1m 10%\n}");
	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 300 IN A 192.0.2.1", NULL,
	    T0);
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 230));
	assert_true(cache_should_prefetch(c, q, qlen, T0 + 280));
	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 100 IN A 192.0.2.1", NULL,
	    T0 + 281);
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 281 + 50));
	assert_true(cache_should_prefetch(c, q, qlen, T0 + 281 + 91));
	/* Expired entries are not prefetched: they are misses. */
	assert_false(cache_should_prefetch(c, q, qlen, T0 + 281 + 100));
	cache_stats(c, &st);
	assert_int_equal(st.prefetches, 2);
	cache_free(c);

	/* Prefetch off: never. */
	c = cache_for("cache");
	insert(c, "hot.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "hot.example.org. 10 IN A 192.0.2.1", NULL,
	    T0);
	for (int i = 0; i < 10; i++)
		assert_false(cache_should_prefetch(c, q, qlen, T0 + i));
	cache_free(c);
}

static void
test_ad_bit(void **state)
{
	struct cache *c = cache_for("cache");
	uint8_t	 q[512], r[WIRE], out[WIRE];
	size_t	 qlen, rlen, n;
	ldns_pkt *p = NULL, *rp = NULL;
	uint8_t	*wire = NULL;
	bool	 stale;

	/* A DO query's AD answer keeps AD for DO clients. */
	qlen = query(q, "signed.example.org.", LDNS_RR_TYPE_A, 1, EDNS_DO,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "signed.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	assert_int_equal(ldns_wire2pkt(&rp, r, rlen), LDNS_STATUS_OK);
	ldns_pkt_set_ad(rp, true);
	assert_int_equal(ldns_pkt2wire(&wire, rp, &rlen), LDNS_STATUS_OK);
	cache_insert(c, q, qlen, wire, rlen, T0);
	n = cache_lookup(c, q, qlen, 0, T0, out, sizeof(out), &stale);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_ad(p));
	ldns_pkt_free(p);
	ldns_pkt_free(rp);
	free(wire);

	/* Without DO or AD in the query, AD is not stored (RFC 6840 5.8). */
	qlen = query(q, "plain.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "plain.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	r[3] |= 0x20;
	cache_insert(c, q, qlen, r, rlen, T0);
	p = NULL;
	n = cache_lookup(c, q, qlen, 0, T0, out, sizeof(out), &stale);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_false(ldns_pkt_ad(p));
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_expired_rrsig(void **state)
{
	struct cache *c = cache_for("cache");
	uint8_t	 q[512], r[WIRE];
	size_t	 qlen, rlen;
	ldns_pkt *p;

	/* Expired in 2020, with DO: CoreDNS's Typify refuses it. */
	qlen = query(q, "old.example.org.", LDNS_RR_TYPE_A, 1, EDNS_DO,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "old.example.org. 60 IN A 192.0.2.1\n"
	    "old.example.org. 60 IN RRSIG A 13 3 60 20200101000000 "
	    "20191201000000 12345 example.org. "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, false);
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_null(lookup(c, "old.example.org.", LDNS_RR_TYPE_A, EDNS_DO, T0,
	    NULL));
	/* Valid until 2037: cached. */
	qlen = query(q, "new.example.org.", LDNS_RR_TYPE_A, 1, EDNS_DO,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "new.example.org. 60 IN A 192.0.2.1\n"
	    "new.example.org. 60 IN RRSIG A 13 3 60 20370101000000 "
	    "20231101000000 12345 example.org. "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, false);
	cache_insert(c, q, qlen, r, rlen, T0);
	p = lookup(c, "new.example.org.", LDNS_RR_TYPE_A, EDNS_DO, T0, NULL);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
	cache_free(c);
}

static void
test_reply_rewritten(void **state)
{
	struct cache *c = cache_for("cache 30");
	uint8_t	 q[512], r[WIRE];
	size_t	 qlen, rlen;
	ldns_pkt *p = NULL;

	/* The reply passed on shows what is cached, its OPT untouched. */
	qlen = query(q, "www.example.org.", LDNS_RR_TYPE_A, 1, EDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "www.example.org. 300 IN CNAME web.example.org.\n"
	    "web.example.org. 120 IN A 192.0.2.1",
	    "example.org. 86400 IN NS ns.example.org.",
	    "ns.example.org. 86400 IN A 192.0.2.53", false);
	r[3] |= 0x20;
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_int_equal(ldns_wire2pkt(&p, r, rlen), LDNS_STATUS_OK);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 30);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 1), 30);
	assert_int_equal(ttl_of(p, LDNS_SECTION_AUTHORITY, 0), 30);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ADDITIONAL, 0), 30);
	assert_false(ldns_pkt_ad(p));
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 4096);
	ldns_pkt_free(p);

	/* Not kept, still rewritten: a truncated reply. */
	qlen = query(q, "tc.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "tc.example.org. 3 IN A 192.0.2.1", NULL, NULL, true);
	cache_insert(c, q, qlen, r, rlen, T0);
	p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, r, rlen), LDNS_STATUS_OK);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 5);
	ldns_pkt_free(p);
	assert_null(lookup(c, "tc.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0,
	    NULL));
	cache_free(c);
}

/* Appends a raw record to r's additional section: owner, type, class, TTL, rdata. */
static size_t
append_ar(uint8_t *r, size_t rlen, const uint8_t *owner, size_t olen,
    uint16_t type, uint16_t class, const uint8_t *rdata, uint16_t rdlen)
{
	memcpy(r + rlen, owner, olen);
	rlen += olen;
	wire_put16(r + rlen, type);
	wire_put16(r + rlen + 2, class);
	wire_put32(r + rlen + 4, 60);
	wire_put16(r + rlen + 8, rdlen);
	memcpy(r + rlen + 10, rdata, rdlen);
	wire_put16(r + 10, (uint16_t)(wire_get16(r + 10) + 1));
	return rlen + 10 + rdlen;
}

/* The OPT and a TSIG are not records of the reply: not kept; records after them stop caching. */
static void
test_opt_tsig_apart(void **state)
{
	struct cache *c = cache_for("cache");
	static const uint8_t ptr[] = { 0xc0, 0x0c }, key[] = { 3, 'k', 'e',
	    'y', 0 }, addr[] = { 192, 0, 2, 7 }, mac[16] = { 0 };
	uint8_t	 q[512], r[WIRE];
	size_t	 qlen, rlen;
	struct cache_stats st;
	ldns_pkt *p;

	(void)state;
	/* Glue, then the OPT, then a TSIG: the entry keeps the glue only. */
	qlen = query(q, "tsig.example.org.", LDNS_RR_TYPE_A, 1, EDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "tsig.example.org. 60 IN A 192.0.2.1", NULL,
	    "ns.example.org. 60 IN A 192.0.2.53", false);
	rlen = append_ar(r, rlen, key, sizeof(key), 250, 255, mac,
	    sizeof(mac));
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_non_null(p = lookup(c, "tsig.example.org.", LDNS_RR_TYPE_A,
	    NOEDNS, T0, NULL));
	assert_int_equal(ldns_pkt_arcount(p), 1);
	assert_false(ldns_pkt_edns(p));
	assert_null(ldns_pkt_tsig(p));
	ldns_pkt_free(p);

	/* A record after the OPT: passed on, not cached, not a drop. */
	qlen = query(q, "after.example.org.", LDNS_RR_TYPE_A, 1, EDNS, false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "after.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	rlen = append_ar(r, rlen, ptr, sizeof(ptr), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, addr, sizeof(addr));
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_null(lookup(c, "after.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    T0, NULL));

	/* An extended rcode in the OPT (BADVERS): never cached. */
	qlen = query(q, "badvers.example.org.", LDNS_RR_TYPE_A, 1, EDNS,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "badvers.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	assert_int_equal(wire_get16(r + rlen - 11 + 1), LDNS_RR_TYPE_OPT);
	r[rlen - 11 + 5] = 1;
	cache_insert(c, q, qlen, r, rlen, T0);
	assert_null(lookup(c, "badvers.example.org.", LDNS_RR_TYPE_A,
	    NOEDNS, T0, NULL));

	/* A record that runs past the end: a drop. */
	qlen = query(q, "short.example.org.", LDNS_RR_TYPE_A, 1, NOEDNS,
	    false);
	rlen = reply(r, q, qlen, LDNS_RCODE_NOERROR,
	    "short.example.org. 60 IN A 192.0.2.1", NULL, NULL, false);
	cache_insert(c, q, qlen, r, rlen - 1, T0);
	cache_stats(c, &st);
	assert_int_equal(st.drops, 1);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1);
	cache_free(c);
}

static void
test_replace_type(void **state)
{
	struct cache *c = cache_for("cache");
	struct cache_stats st;
	ldns_pkt *p;

	/* A name that comes into being: its success replaces the denial. */
	insert(c, "new.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NXDOMAIN, NULL, SOA(60, 60), T0);
	insert(c, "new.example.org.", LDNS_RR_TYPE_A, NOEDNS,
	    LDNS_RCODE_NOERROR, "new.example.org. 60 IN A 192.0.2.1", NULL,
	    T0 + 1);
	cache_stats(c, &st);
	assert_int_equal(st.entries[CACHE_DENIAL], 0);
	assert_int_equal(st.entries[CACHE_SUCCESS], 1);
	p = lookup(c, "new.example.org.", LDNS_RR_TYPE_A, NOEDNS, T0 + 2,
	    NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ttl_of(p, LDNS_SECTION_ANSWER, 0), 59);
	ldns_pkt_free(p);
	cache_free(c);
	cache_free(NULL);
	cache_config_free(NULL);
	assert_string_equal(cache_type_name(CACHE_SUCCESS), "success");
	assert_string_equal(cache_type_name(CACHE_DENIAL), "denial");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_ttl_zones),
		cmocka_unit_test(test_config_options),
		cmocka_unit_test(test_config_durations),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_ttl_decrement_and_expiry),
		cmocka_unit_test(test_reply_header),
		cmocka_unit_test(test_do_bit_and_edns),
		cmocka_unit_test(test_negative_caching),
		cmocka_unit_test(test_ttl_caps),
		cmocka_unit_test(test_keepttl),
		cmocka_unit_test(test_capacity_eviction),
		cmocka_unit_test(test_serve_stale_immediate),
		cmocka_unit_test(test_serve_stale_verify),
		cmocka_unit_test(test_servfail),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_not_cached),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_ad_bit),
		cmocka_unit_test(test_expired_rrsig),
		cmocka_unit_test(test_reply_rewritten),
		cmocka_unit_test(test_replace_type),
		cmocka_unit_test(test_opt_tsig_apart),
	};
	int	 rc;

	/* As petdns's thread: the cache's index is read under RCU. */
	zone_thread_register();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	zone_thread_unregister();
	return rc;
}
