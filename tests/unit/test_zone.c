/* test_zone.c -- owner-based updates, empty non-terminals and change detection of the published zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dname.h"
#include "records.h"
#include "zone.h"

static struct zone *
zone_of(const char *const *names, size_t n)
{
	uint8_t		 wire[8][DNAME_MAX];
	const uint8_t	*apexes[8];
	struct zone	*z;

	for (size_t i = 0; i < n; i++) {
		assert_true(dname_from_str(names[i], wire[i]) > 0);
		apexes[i] = wire[i];
	}
	z = zone_new(apexes, n);
	assert_non_null(z);
	return z;
}

static void
add(struct records_list *l, const char *name, uint16_t type, uint8_t byte)
{
	uint8_t		wire[DNAME_MAX];
	uint8_t		rdata[4] = { 10, 0, 0, byte };

	assert_true(dname_from_str(name, wire) > 0);
	records_add(l, wire, type, rdata, type == RECORDS_TYPE_MARKER ? 0 : 4);
}

/* Number of records at name, or -1 when the name does not exist. */
static int
count_at(struct zone *z, const char *name)
{
	uint8_t			 wire[DNAME_MAX];
	const struct zone_node	*node;
	struct zone_scratch	 scratch;
	struct zone_walk	 w;
	struct zone_rr		 rr;
	size_t			 n = 0;

	assert_true(dname_from_str(name, wire) > 0);
	zone_read_lock();
	node = zone_find(z, wire, &scratch);
	if (node != NULL)
		for (zone_walk_init(&w, node); zone_walk_next(&w, &rr); )
			n++;
	zone_read_unlock();
	return node == NULL ? -1 : (int)n;
}

static void
test_update_and_ent(void **state)
{
	static const char *const apex[] = { "cluster.local" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 l = { 0 };
	uint64_t		 v = zone_version(z);

	assert_int_equal(count_at(z, "cluster.local"), 0);
	add(&l, "web-0.nginx.default.svc.cluster.local", 1, 5);
	assert_true(zone_update(z, "svc/default/nginx", &l));
	/* A change published moves the version on (answers kept by it go stale). */
	assert_true(zone_version(z) != v);
	v = zone_version(z);
	assert_int_equal(count_at(z, "web-0.nginx.default.svc.cluster.local"), 1);
	assert_int_equal(count_at(z, "nginx.default.svc.cluster.local"), 0);
	assert_int_equal(count_at(z, "svc.cluster.local"), 0);
	assert_int_equal(zone_count(z), 1);
	/* The same records again change nothing, the version neither. */
	assert_false(zone_update(z, "svc/default/nginx", &l));
	assert_true(zone_version(z) == v);
	/* Other rdata is a change. */
	records_clear(&l);
	add(&l, "web-0.nginx.default.svc.cluster.local", 1, 6);
	assert_true(zone_update(z, "svc/default/nginx", &l));
	assert_true(zone_version(z) != v);
	records_clear(&l);
	assert_true(zone_update(z, "svc/default/nginx", &l));
	assert_int_equal(count_at(z, "web-0.nginx.default.svc.cluster.local"), -1);
	assert_int_equal(count_at(z, "svc.cluster.local"), -1);
	assert_int_equal(count_at(z, "cluster.local"), 0);
	assert_int_equal(zone_count(z), 0);
	records_free(&l);
	zone_free(z);
}

static void
test_owners_share_a_name(void **state)
{
	static const char *const apex[] = { "in-addr.arpa" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 a = { 0 }, b = { 0 }, none = { 0 };

	add(&a, "1.0.96.10.in-addr.arpa", 12, 1);
	add(&b, "1.0.96.10.in-addr.arpa", 12, 2);
	add(&b, "2.0.96.10.in-addr.arpa", 12, 3);
	assert_true(zone_update(z, "a", &a));
	assert_true(zone_update(z, "b", &b));
	assert_int_equal(count_at(z, "1.0.96.10.in-addr.arpa"), 2);
	assert_true(zone_update(z, "a", &none));
	assert_int_equal(count_at(z, "1.0.96.10.in-addr.arpa"), 1);
	assert_int_equal(count_at(z, "2.0.96.10.in-addr.arpa"), 1);
	/* b drops one name: the other stays, and so does their parent. */
	records_clear(&b);
	add(&b, "2.0.96.10.in-addr.arpa", 12, 3);
	assert_true(zone_update(z, "b", &b));
	assert_int_equal(count_at(z, "1.0.96.10.in-addr.arpa"), -1);
	assert_int_equal(count_at(z, "0.96.10.in-addr.arpa"), 0);
	assert_int_equal(zone_count(z), 1);
	records_free(&a);
	records_free(&b);
	zone_free(z);
}

static void
test_outside_and_markers(void **state)
{
	static const char *const apex[] = { "cluster.local", "local" };
	struct zone		*z = zone_of(apex, 2);
	struct records_list	 l = { 0 };
	uint8_t			 wire[DNAME_MAX];

	add(&l, "www.example.com", 1, 1);
	assert_false(zone_update(z, "x", &l));
	assert_int_equal(count_at(z, "www.example.com"), -1);
	records_clear(&l);
	add(&l, "default.pod.cluster.local", RECORDS_TYPE_MARKER, 0);
	assert_true(zone_update(z, "ns/default", &l));
	assert_int_equal(count_at(z, "default.pod.cluster.local"), 1);
	assert_int_equal(count_at(z, "pod.cluster.local"), 0);
	assert_int_equal(zone_count(z), 0);
	/* The longest apex wins. */
	assert_true(dname_from_str("a.cluster.local", wire) > 0);
	assert_int_equal(zone_match(z, wire), 0);
	assert_true(dname_from_str("a.local", wire) > 0);
	assert_int_equal(zone_match(z, wire), 1);
	assert_true(dname_from_str("a.example", wire) > 0);
	assert_int_equal(zone_match(z, wire), -1);
	records_free(&l);
	zone_free(z);
}

static void
test_many_names(void **state)
{
	static const char *const apex[] = { "cluster.local" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 l = { 0 };
	char			 name[128];

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "p%d.svc%d.ns.svc.cluster.local",
		    i, i % 50);
		add(&l, name, 1, (uint8_t)i);
	}
	assert_true(zone_update(z, "big", &l));
	assert_int_equal(zone_count(z), 5000);
	assert_int_equal(count_at(z, "p4999.svc49.ns.svc.cluster.local"), 1);
	assert_int_equal(count_at(z, "svc49.ns.svc.cluster.local"), 0);
	records_clear(&l);
	assert_true(zone_update(z, "big", &l));
	assert_int_equal(count_at(z, "ns.svc.cluster.local"), -1);
	records_free(&l);
	zone_free(z);
}

static const struct zone_node *
node_at(struct zone *z, const char *name)
{
	uint8_t			 wire[DNAME_MAX];
	const struct zone_node	*node;

	assert_true(dname_from_str(name, wire) > 0);
	zone_read_lock();
	node = zone_find(z, wire, NULL);
	zone_read_unlock();
	return node;
}

/* The first rdata byte's last octet at name (10.0.0.X), or -1. */
static int
last_octet(struct zone *z, const char *name, size_t i)
{
	const struct zone_node	*node = node_at(z, name);
	struct zone_walk	 w;
	struct zone_rr		 rr;

	if (node == NULL)
		return -1;
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr))
		if (w.i == i + 1)
			return rr.rdata[3];
	return -1;
}

/* The list becomes spec's records: "a:1 c:3" is 10.0.0.1 at a.s.ns.svc.cluster.local, ... */
static void
records_of(struct records_list *l, const char *spec)
{
	char	name[64];

	records_clear(l);
	for (const char *p = spec; p != NULL && *p != '\0'; ) {
		snprintf(name, sizeof(name), "%c.s.ns.svc.cluster.local", p[0]);
		add(l, name, 1, (uint8_t)atoi(p + 2));
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	}
}

/*
 * An endpoint change rebuilds a service's records: only the names whose
 * records differ are republished (same node otherwise), however the
 * change hides (rdata, order, one record more), and a name that moves away
 * and comes back is served again.
 */
static void
test_partial_update(void **state)
{
	static const char *const apex[] = { "cluster.local" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 l = { 0 };
	const struct zone_node	*a, *b, *c;

	records_of(&l, "a:1 b:2 c:3 c:4");
	assert_true(zone_update(z, "svc/ns/s", &l));
	a = node_at(z, "a.s.ns.svc.cluster.local");
	b = node_at(z, "b.s.ns.svc.cluster.local");
	c = node_at(z, "c.s.ns.svc.cluster.local");
	/* b's rdata changes; a and c stay as they were. */
	records_of(&l, "a:1 b:9 c:3 c:4");
	assert_true(zone_update(z, "svc/ns/s", &l));
	assert_ptr_equal(node_at(z, "a.s.ns.svc.cluster.local"), a);
	assert_ptr_equal(node_at(z, "c.s.ns.svc.cluster.local"), c);
	assert_ptr_not_equal(node_at(z, "b.s.ns.svc.cluster.local"), b);
	assert_int_equal(last_octet(z, "b.s.ns.svc.cluster.local", 0), 9);
	/* The same records in another order at c are a change. */
	records_of(&l, "a:1 b:9 c:4 c:3");
	assert_true(zone_update(z, "svc/ns/s", &l));
	assert_int_equal(last_octet(z, "c.s.ns.svc.cluster.local", 0), 4);
	/* a goes, a third record joins c. */
	records_of(&l, "b:9 c:4 c:3 c:5");
	assert_true(zone_update(z, "svc/ns/s", &l));
	assert_int_equal(count_at(z, "a.s.ns.svc.cluster.local"), -1);
	assert_int_equal(count_at(z, "c.s.ns.svc.cluster.local"), 3);
	assert_int_equal(zone_count(z), 4);
	/* a comes back as it was. */
	records_of(&l, "b:9 c:4 c:3 c:5 a:1");
	assert_true(zone_update(z, "svc/ns/s", &l));
	assert_int_equal(last_octet(z, "a.s.ns.svc.cluster.local", 0), 1);
	assert_false(zone_update(z, "svc/ns/s", &l));
	records_free(&l);
	zone_free(z);
}

/* add() of an A record whose reverse name answers PTR with name. */
static void
add_ptr(struct records_list *l, const char *name, uint8_t byte)
{
	add(l, name, 1, byte);
	l->rr[l->n - 1].ptr = true;
}

/* The PTR targets of a reverse name, sorted and joined by spaces ("" when none). */
static void
ptrs_at(struct zone *z, const char *name, char *out, size_t len)
{
	uint8_t			 wire[DNAME_MAX];
	struct zone_scratch	 scratch;
	const struct zone_node	*node;
	struct zone_walk	 w;
	struct zone_rr		 rr;
	size_t			 n = 0;
	char			 targets[8][DNAME_MAX + 1];

	assert_true(dname_from_str(name, wire) > 0);
	out[0] = '\0';
	zone_read_lock();
	if ((node = zone_find(z, wire, &scratch)) != NULL)
		zone_walk_init(&w, node);
	while (node != NULL && zone_walk_next(&w, &rr)) {
		assert_true(n < 8);
		assert_int_equal(rr.type, 12);
		dname_to_str(rr.rdata, targets[n++], sizeof(targets[0]));
	}
	zone_read_unlock();
	qsort(targets, n, sizeof(targets[0]), (int (*)(const void *,
	    const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		strncat(out, targets[i], len - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, " ", len - strlen(out) - 1);
	}
}

struct ptr_count {
	size_t	ptrs;
	size_t	names;
};

static void
count_ptr_cb(const struct zone_node *node, void *arg)
{
	struct ptr_count	*c = arg;
	struct zone_walk	 w;
	struct zone_rr		 rr;

	c->names++;
	for (zone_walk_init(&w, node); zone_walk_next(&w, &rr); )
		c->ptrs += rr.type == 12;
}

/*
 * An update is told unchanged from a digest of each name's records: a
 * record that changes only its type, only its ptr flag, or only the bytes
 * past the first eight of its rdata is still a change.
 */
static void
test_update_digest(void **state)
{
	static const char *const apex[] = { "cluster.local", "in-addr.arpa" };
	struct zone		*z = zone_of(apex, 2);
	struct records_list	 l = { 0 };
	uint8_t			 wire[DNAME_MAX], rdata[12] = { 0 };
	char			 out[256];

	assert_true(dname_from_str("x.cluster.local", wire) > 0);
	add(&l, "x.cluster.local", 1, 7);
	assert_true(zone_update(z, "o", &l));
	assert_false(zone_update(z, "o", &l));
	l.rr[0].type = 99;
	assert_true(zone_update(z, "o", &l));
	l.rr[0].type = 1;
	assert_true(zone_update(z, "o", &l));
	ptrs_at(z, "7.0.0.10.in-addr.arpa", out, sizeof(out));
	assert_string_equal(out, "");
	l.rr[0].ptr = true;
	assert_true(zone_update(z, "o", &l));
	ptrs_at(z, "7.0.0.10.in-addr.arpa", out, sizeof(out));
	assert_string_equal(out, "x.cluster.local");
	records_clear(&l);
	records_add(&l, wire, 16, rdata, sizeof(rdata));
	assert_true(zone_update(z, "o", &l));
	assert_false(zone_update(z, "o", &l));
	l.rr[0].rdata[11] = 1;
	assert_true(zone_update(z, "o", &l));
	assert_int_equal(count_at(z, "x.cluster.local"), 1);
	records_free(&l);
	zone_free(z);
}

/*
 * PTR records come from A records flagged ptr: one for each name that
 * flags an address, the reverse name and its parents existing while any
 * does, following a node that is replaced, gone with the last flag; only
 * the canonical reverse name answers; zone_foreach lists them.
 */
static void
test_ptr_index(void **state)
{
	static const char *const apex[] = { "cluster.local", "in-addr.arpa" };
	struct zone		*z = zone_of(apex, 2);
	struct records_list	 api = { 0 }, web = { 0 };
	struct ptr_count	 c = { 0 };
	char			 got[512];

	add_ptr(&api, "api.default.svc.cluster.local", 5);
	add(&api, "api.default.svc.cluster.local", 1, 7);	/* no PTR */
	add_ptr(&web, "web-0.nginx.default.svc.cluster.local", 5);
	add_ptr(&web, "web-1.nginx.default.svc.cluster.local", 6);
	add(&web, "nginx.default.svc.cluster.local", 1, 5);
	assert_true(zone_update(z, "svc/default/api", &api));
	assert_true(zone_update(z, "svc/default/web", &web));
	ptrs_at(z, "5.0.0.10.in-addr.arpa", got, sizeof(got));
	assert_string_equal(got, "api.default.svc.cluster.local "
	    "web-0.nginx.default.svc.cluster.local");
	ptrs_at(z, "6.0.0.10.in-addr.arpa", got, sizeof(got));
	assert_string_equal(got, "web-1.nginx.default.svc.cluster.local");
	assert_int_equal(count_at(z, "7.0.0.10.in-addr.arpa"), -1);
	assert_int_equal(count_at(z, "05.0.0.10.in-addr.arpa"), -1);
	assert_int_equal(count_at(z, "0.0.10.in-addr.arpa"), 0);
	assert_int_equal(count_at(z, "10.in-addr.arpa"), 0);
	assert_int_equal(zone_count(z), 5 + 3);
	zone_read_lock();
	zone_foreach(z, count_ptr_cb, &c);
	zone_read_unlock();
	assert_int_equal(c.ptrs, 3);
	/* web-0's node is replaced (one more record): its PTR follows it. */
	add(&web, "web-0.nginx.default.svc.cluster.local", 16, 9);
	assert_true(zone_update(z, "svc/default/web", &web));
	ptrs_at(z, "5.0.0.10.in-addr.arpa", got, sizeof(got));
	assert_string_equal(got, "api.default.svc.cluster.local "
	    "web-0.nginx.default.svc.cluster.local");
	/* The flag alone is a change: api no longer answers PTR. */
	api.rr[0].ptr = false;
	assert_true(zone_update(z, "svc/default/api", &api));
	ptrs_at(z, "5.0.0.10.in-addr.arpa", got, sizeof(got));
	assert_string_equal(got, "web-0.nginx.default.svc.cluster.local");
	assert_int_equal(zone_count(z), 6 + 2);
	/* The last flags go: so do the reverse names, up to the apex. */
	records_clear(&web);
	assert_true(zone_update(z, "svc/default/web", &web));
	assert_int_equal(count_at(z, "5.0.0.10.in-addr.arpa"), -1);
	assert_int_equal(count_at(z, "0.0.10.in-addr.arpa"), -1);
	assert_int_equal(count_at(z, "in-addr.arpa"), 0);
	assert_int_equal(zone_count(z), 2);
	records_free(&api);
	records_free(&web);
	zone_free(z);
}

/* Without a reverse zone, a ptr flag makes no PTR record. */
static void
test_ptr_without_reverse_zone(void **state)
{
	static const char *const apex[] = { "cluster.local" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 l = { 0 };

	add_ptr(&l, "api.default.svc.cluster.local", 5);
	assert_true(zone_update(z, "svc/default/api", &l));
	assert_int_equal(zone_count(z), 1);
	assert_int_equal(count_at(z, "5.0.0.10.in-addr.arpa"), -1);
	records_free(&l);
	zone_free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_and_ent),
		cmocka_unit_test(test_owners_share_a_name),
		cmocka_unit_test(test_outside_and_markers),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_partial_update),
		cmocka_unit_test(test_update_digest),
		cmocka_unit_test(test_ptr_index),
		cmocka_unit_test(test_ptr_without_reverse_zone),
	};

	zone_thread_register();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
