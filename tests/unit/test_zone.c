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

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->rr = realloc(l->rr, l->cap * sizeof(*l->rr));
	}
	assert_true(dname_from_str(name, wire) > 0);
	l->rr[l->n].name = malloc(dname_length(wire));
	memcpy(l->rr[l->n].name, wire, dname_length(wire));
	l->rr[l->n].type = type;
	l->rr[l->n].rdlen = type == RECORDS_TYPE_MARKER ? 0 : 4;
	l->rr[l->n].rdata = malloc(4);
	memcpy(l->rr[l->n].rdata, rdata, 4);
	l->n++;
}

/* Number of records at name, or -1 when the name does not exist. */
static int
count_at(struct zone *z, const char *name)
{
	uint8_t			 wire[DNAME_MAX];
	const struct zone_node	*node;
	size_t			 n = 0;

	assert_true(dname_from_str(name, wire) > 0);
	zone_read_lock();
	node = zone_find(z, wire);
	if (node != NULL)
		zone_node_rrs(node, &n);
	zone_read_unlock();
	return node == NULL ? -1 : (int)n;
}

static void
test_update_and_ent(void **state)
{
	static const char *const apex[] = { "cluster.local" };
	struct zone		*z = zone_of(apex, 1);
	struct records_list	 l = { 0 };

	assert_int_equal(count_at(z, "cluster.local"), 0);
	add(&l, "web-0.nginx.default.svc.cluster.local", 1, 5);
	assert_true(zone_update(z, "svc/default/nginx", &l));
	assert_int_equal(count_at(z, "web-0.nginx.default.svc.cluster.local"), 1);
	assert_int_equal(count_at(z, "nginx.default.svc.cluster.local"), 0);
	assert_int_equal(count_at(z, "svc.cluster.local"), 0);
	assert_int_equal(zone_count(z), 1);
	/* The same records again change nothing. */
	assert_false(zone_update(z, "svc/default/nginx", &l));
	/* Other rdata is a change. */
	records_clear(&l);
	add(&l, "web-0.nginx.default.svc.cluster.local", 1, 6);
	assert_true(zone_update(z, "svc/default/nginx", &l));
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
	node = zone_find(z, wire);
	zone_read_unlock();
	return node;
}

/* The first rdata byte's last octet at name (10.0.0.X), or -1. */
static int
last_octet(struct zone *z, const char *name, size_t i)
{
	const struct zone_node	*node = node_at(z, name);
	const struct zone_rr	*rr;
	size_t			 n;

	if (node == NULL)
		return -1;
	rr = zone_node_rrs(node, &n);
	return i < n ? rr[i].rdata[3] : -1;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_and_ent),
		cmocka_unit_test(test_owners_share_a_name),
		cmocka_unit_test(test_outside_and_markers),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_partial_update),
	};

	zone_thread_register();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
