/* test_memo.c -- kept answers come back byte for byte for the same question at the same zone version, and only then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "memo.h"
#include "wire.h"

/* An ldns-made query: name, type, ID, with EDNS (DO clear) or without. */
static uint8_t *
query(const char *name, uint16_t type, uint16_t id, bool edns, size_t *len)
{
	ldns_pkt	*q = ldns_pkt_query_new(ldns_dname_new_frm_str(name),
			    type, LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t		*wire = NULL;

	ldns_pkt_set_id(q, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, 1232);
	assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return wire;
}

static const uint8_t target[] = "\5web-0\5nginx\7default\3svc\7cluster\5local";

/* The query for "<prefix><i>.default.svc.cluster.local." (type A, ID 1, no EDNS). */
static uint8_t *
query_n(const char *prefix, int i, size_t *len)
{
	char	name[64];

	snprintf(name, sizeof(name), "%s%d.default.svc.cluster.local.", prefix, i);
	return query(name, LDNS_RR_TYPE_A, 1, false, len);
}

/* pkt parsed into q, and m started in buf for its answer. */
static void
start(const uint8_t *pkt, size_t len, struct wire_query *q,
    struct wire_msg *m, uint8_t *buf, size_t max)
{
	assert_true(wire_query_parse(pkt, len, q));
	wire_msg_init(m, buf, max, q);
}

/* n A records at the question's name, an SRV naming target and its glue. */
static void
build(struct wire_msg *m, const struct wire_query *q, int n)
{
	uint8_t	srv[6 + sizeof(target)] = { 0, 0, 0, 10, 0x1f, 0x90 };

	memcpy(srv + 6, target, sizeof(target));
	for (int i = 0; i < n; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };

		wire_msg_rr(m, WIRE_ANSWER, q->qname, LDNS_RR_TYPE_A, 30, a, 4);
	}
	wire_msg_rr(m, WIRE_ANSWER, q->qname, LDNS_RR_TYPE_SRV, 30, srv,
	    sizeof(srv));
	wire_msg_rr(m, WIRE_ADDITIONAL, target, LDNS_RR_TYPE_A, 30,
	    (const uint8_t *)"\12\0\0\7", 4);
}

/* The answer built for pkt, finished for limit: its length in out. */
static size_t
built(const uint8_t *pkt, size_t len, int n, size_t limit, uint8_t *out,
    size_t max)
{
	struct wire_query	q;
	struct wire_msg		m;

	start(pkt, len, &q, &m, out, max);
	build(&m, &q, n);
	return wire_msg_finish(&m, LDNS_RCODE_NOERROR, limit);
}

/* memo_get for pkt at version, finished for limit; 0 when it missed. */
static size_t
kept(struct memo *mo, const uint8_t *pkt, size_t len, uint64_t version,
    size_t limit, uint8_t *out, size_t max)
{
	struct wire_query	q;
	struct wire_msg		m;
	int			rcode;

	start(pkt, len, &q, &m, out, max);
	if ((rcode = memo_get(mo, &q, version, &m)) < 0)
		return 0;
	assert_int_equal(rcode, LDNS_RCODE_NOERROR);
	return wire_msg_finish(&m, rcode, limit);
}

static void
put(struct memo *mo, const uint8_t *pkt, size_t len, uint64_t version, int n)
{
	struct wire_query	q;
	struct wire_msg		m;
	uint8_t			buf[4096];

	start(pkt, len, &q, &m, buf, sizeof(buf));
	build(&m, &q, n);
	memo_put(mo, &q, version, &m, LDNS_RCODE_NOERROR);
}

static void
test_same_bytes(void **state)
{
	struct memo	*mo = memo_new();
	uint8_t		*p, *other, a[4096], b[4096];
	size_t		 plen, olen, alen, blen;

	(void)state;
	p = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	put(mo, p, plen, 7, 2);
	free(p);
	/* Another ID, now with EDNS: its own header and OPT, the same records. */
	other = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 0xbeef,
	    true, &olen);
	alen = kept(mo, other, olen, 7, 1232, a, sizeof(a));
	blen = built(other, olen, 2, 1232, b, sizeof(b));
	assert_true(alen > 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* Cut for a 512-byte client too: the glue goes, then TC, as built. */
	free(other);
	p = query("big.default.svc.cluster.local.", LDNS_RR_TYPE_A, 9, false,
	    &plen);
	put(mo, p, plen, 7, 6);
	for (size_t limit = 60; limit <= 512; limit += 4) {
		alen = kept(mo, p, plen, 7, limit, a, sizeof(a));
		blen = built(p, plen, 6, limit, b, sizeof(b));
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
	}
	free(p);
	memo_free(mo);
}

static void
test_only_same_question(void **state)
{
	struct memo	*mo = memo_new();
	uint8_t		*p, out[4096];
	size_t		 plen;

	(void)state;
	p = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	put(mo, p, plen, 7, 1);
	assert_true(kept(mo, p, plen, 7, 512, out, sizeof(out)) > 0);
	/* The zone changed since: none. */
	assert_int_equal(kept(mo, p, plen, 8, 512, out, sizeof(out)), 0);
	free(p);
	/* Another type, another spelling (records may spell names as asked). */
	p = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_AAAA, 1,
	    false, &plen);
	assert_int_equal(kept(mo, p, plen, 7, 512, out, sizeof(out)), 0);
	free(p);
	p = query("WEB.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	assert_int_equal(kept(mo, p, plen, 7, 512, out, sizeof(out)), 0);
	free(p);
	/* An answer over an entry's room is not kept. */
	p = query("huge.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	put(mo, p, plen, 7, 40);
	assert_int_equal(kept(mo, p, plen, 7, 4096, out, sizeof(out)), 0);
	/* Kept again at the new version, the stale entry replaced. */
	free(p);
	p = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	put(mo, p, plen, 8, 1);
	assert_true(kept(mo, p, plen, 8, 512, out, sizeof(out)) > 0);
	assert_int_equal(kept(mo, p, plen, 7, 512, out, sizeof(out)), 0);
	free(p);
	memo_free(mo);
}

/* Past its size the least recently used go: the last ones asked stay. */
static void
test_recent_stay(void **state)
{
	struct memo	*mo = memo_new();
	uint8_t		*p, out[4096];
	size_t		 plen, missing = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		p = query_n("s", i, &plen);
		put(mo, p, plen, 1, 1);
		free(p);
	}
	for (int i = 0; i < 20000; i++) {
		p = query_n("s", i, &plen);
		if (kept(mo, p, plen, 1, 512, out, sizeof(out)) == 0) {
			/* The last 200 put are all there. */
			assert_true(i < 20000 - 200);
			missing++;
		}
		free(p);
	}
	/* It holds a few thousand, not all. */
	assert_true(missing >= 20000 - 4096);
	assert_true(missing < 20000 - 2000);
	memo_free(mo);
}

/* Mostly misses: it rests, looking up one question in 64; hits again: back. */
static void
test_rests(void **state)
{
	struct memo	*mo = memo_new();
	uint8_t		*p, out[4096];
	size_t		 plen;
	int		 wanted = 0;

	(void)state;
	assert_true(memo_wanted(mo));
	for (int i = 0; i < 1024; i++) {
		p = query_n("new", i, &plen);
		assert_int_equal(kept(mo, p, plen, 1, 512, out, sizeof(out)), 0);
		free(p);
	}
	for (int i = 0; i < 640; i++)
		wanted += memo_wanted(mo);
	assert_int_equal(wanted, 10);
	/* The questions that are looked up now hit: after a window, awake. */
	p = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 1, false,
	    &plen);
	put(mo, p, plen, 1, 1);
	for (int i = 0; i < 1024; i++)
		assert_true(kept(mo, p, plen, 1, 512, out, sizeof(out)) > 0);
	free(p);
	for (int i = 0; i < 640; i++)
		assert_true(memo_wanted(mo));
	memo_free(mo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes),
		cmocka_unit_test(test_only_same_question),
		cmocka_unit_test(test_recent_stay),
		cmocka_unit_test(test_rests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
