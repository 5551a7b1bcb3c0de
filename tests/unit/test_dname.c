/* test_dname.c -- wire names: ASCII case folding, "under an apex", hashes that spread over buckets, reverse names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <cmocka.h>

#include "dname.h"
#include "object.h"

static uint8_t
ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Every byte value, at every offset of a word and in the tail: only A-Z change. */
static void
test_lower_every_byte(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++)
		for (size_t label = 1; label <= 20; label++)
			for (size_t at = 0; at < label; at++) {
				uint8_t	name[64], want[64], copy[64], kept[64];

				memset(name, 'Q', sizeof(name));
				name[0] = (uint8_t)label;
				name[1 + at] = (uint8_t)c;
				name[1 + label] = 3;
				memcpy(name + 2 + label, "ABC", 3);
				name[5 + label] = 0;
				for (size_t i = 0; i < 6 + label; i++)
					want[i] = ascii_lower(name[i]);
				/* Length bytes are below 64: never folded. */
				want[0] = (uint8_t)label;
				want[1 + label] = 3;
				/* Copied: folded there, the original as it was. */
				memcpy(kept, name, sizeof(kept));
				dname_lower_copy_len(copy, name, 6 + label);
				assert_memory_equal(copy, want, 6 + label);
				assert_memory_equal(name, kept, sizeof(kept));
				dname_lower(name);
				assert_memory_equal(name, want, 6 + label);
			}
}

static void
test_lower_long_name(void **state)
{
	uint8_t	name[DNAME_MAX], want[DNAME_MAX], copy[DNAME_MAX];
	char	text[] = "WEB-0.Nginx.DEFAULT.svc.Cluster.LOCAL.";

	(void)state;
	assert_int_not_equal(dname_from_str("web-0.nginx.default.svc."
	    "cluster.local.", want), -1);
	/* dname_from_str folds already: build the mixed-case wire by hand. */
	memcpy(name, want, dname_length(want));
	for (size_t i = 0, j = 1; text[i] != '\0'; i++, j++) {
		if (text[i] == '.')
			continue;
		name[j] = (uint8_t)text[i];
	}
	assert_memory_not_equal(name, want, dname_length(want));
	/* The copy is folded, the original left as asked. */
	dname_lower_copy(copy, name);
	assert_memory_equal(copy, want, dname_length(want));
	assert_memory_not_equal(name, want, dname_length(want));
	dname_lower(name);
	assert_memory_equal(name, want, dname_length(want));
}

static void
wire(const char *text, uint8_t out[DNAME_MAX])
{
	assert_int_not_equal(dname_from_str(text, out), -1);
}

static void
test_is_under(void **state)
{
	uint8_t	apex[DNAME_MAX], root[DNAME_MAX], n[DNAME_MAX];

	(void)state;
	wire("cluster.local.", apex);
	wire(".", root);
	wire("web-0.nginx.default.svc.cluster.local.", n);
	assert_true(dname_is_under(n, apex));
	assert_true(dname_is_under(n, root));
	assert_true(dname_is_under(apex, apex));
	assert_false(dname_is_under(root, apex));
	/* The same bytes at the end, but not at a label boundary. */
	wire("xcluster.local.", n);
	assert_false(dname_is_under(n, apex));
	wire("a.xcluster.local.", n);
	assert_false(dname_is_under(n, apex));
	/* As long as the apex at a boundary, and different. */
	wire("a.bcdefghijklm.", n);
	assert_false(dname_is_under(n, apex));
	wire("local.", n);
	assert_false(dname_is_under(n, apex));
	wire("cluster.localx.", n);
	assert_false(dname_is_under(n, apex));
	/* Every byte of the apex at the end, its first length byte inside a label. */
	memcpy(n, "\x09q\x07" "cluster\x05local", 17);
	assert_int_equal(dname_length(n), 17);
	assert_int_equal(memcmp(n + 2, apex, dname_length(apex)), 0);
	assert_false(dname_is_under(n, apex));
	assert_false(dname_is_under_len(n, 17, apex, dname_length(apex)));
	wire("web-0.nginx.default.svc.cluster.local.", n);
	assert_true(dname_is_under_len(n, dname_length(n), apex,
	    dname_length(apex)));
}

static void
test_equal_nocase(void **state)
{
	uint8_t	a[DNAME_MAX], b[DNAME_MAX];

	(void)state;
	wire("web-0.nginx.", a);
	memcpy(b, a, dname_length(a));
	b[1] = 'W';
	b[7] = 'N';
	assert_true(dname_equal_nocase(a, b));
	assert_false(dname_equal(a, b));
	b[2] = 'f';
	assert_false(dname_equal_nocase(a, b));
}

/*
 * 100k names like a cluster's: hashes differ, and their low 16 bits (what
 * picks a bucket of 65536) leave no bucket much fuller than the average.
 */
static void
test_hash_spread(void **state)
{
	enum { N = 100000, BUCKETS = 65536 };
	uint16_t	*count = calloc(BUCKETS, sizeof(*count));
	uint64_t	*seen = calloc(N, sizeof(*seen));
	int		 worst = 0;

	(void)state;
	assert_non_null(count);
	assert_non_null(seen);
	for (int i = 0; i < N; i++) {
		char	text[128];
		uint8_t	n[DNAME_MAX];

		snprintf(text, sizeof(text), "web-%d.svc-%d.ns-%d.svc.cluster.local.",
		    i % 50, i / 50 % 40, i / 2000);
		wire(text, n);
		seen[i] = dname_hash(n);
		if (++count[seen[i] % BUCKETS] > worst)
			worst = count[seen[i] % BUCKETS];
	}
	/* About 1.5 a bucket: 12 would be a broken mix. */
	assert_true(worst < 12);
	for (int i = 1; i < N; i++)
		assert_true(seen[i] != seen[i - 1]);
	free(count);
	free(seen);
}

/*
 * Every length, every byte: the hash reads all len bytes and nothing past
 * them (the tail is read as the last eight bytes, shifted).
 */
static void
test_hash_tail(void **state)
{
	uint8_t	buf[80];

	(void)state;
	for (size_t len = 1; len <= 64; len++) {
		uint64_t h;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7 + 1);
		h = dname_hash_len(buf, len);
		memset(buf + len, 0xee, sizeof(buf) - len);
		assert_true(dname_hash_len(buf, len) == h);
		for (size_t i = 0; i < len; i++) {
			buf[i] ^= 0x40;
			assert_true(dname_hash_len(buf, len) != h);
			buf[i] ^= 0x40;
		}
	}
}

/* A reverse name's address: only names as dname_reverse spells them have one. */
static void
test_address(void **state)
{
	static const struct {
		const char	*name;
		const char	*ip;	/* NULL: no address */
	} cases[] = {
		{ "4.3.2.10.in-addr.arpa", "10.2.3.4" },
		{ "0.0.0.0.in-addr.arpa", "0.0.0.0" },
		{ "255.200.100.99.in-addr.arpa", "99.100.200.255" },
		{ "04.3.2.10.in-addr.arpa", NULL },	/* leading zero */
		{ "4.3.002.10.in-addr.arpa", NULL },
		{ "00.3.2.10.in-addr.arpa", NULL },
		{ "256.3.2.10.in-addr.arpa", NULL },
		{ "4.3.2.in-addr.arpa", NULL },	/* three labels */
		{ "a.3.2.10.in-addr.arpa", NULL },
		{ "4.3.2.10.ip6.arpa", NULL },
		{ "4.3.2.10.in-addr.arpa.cluster.local", NULL },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
		    ".ip6.arpa", "2001:db8::1" },
		{ "f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
		    ".ip6.arpa", "2001:db8::f" },
		{ "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
		    ".ip6.arpa", NULL },	/* two digits */
		{ "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
		    ".ip6.arpa", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t			wire[DNAME_MAX], back[DNAME_MAX];
		struct object_ip	got, want;
		int			len;

		assert_true(dname_from_str(cases[i].name, wire) > 0);
		if (cases[i].ip == NULL) {
			assert_int_equal(dname_address(wire, &got), -1);
			continue;
		}
		assert_int_equal(dname_address(wire, &got), 0);
		assert_int_equal(object_ip_parse(cases[i].ip, &want), 0);
		assert_int_equal(got.family, want.family);
		assert_memory_equal(got.addr, want.addr,
		    want.family == AF_INET ? 4 : 16);
		/* And back: the same name. */
		len = dname_reverse(&got, back);
		assert_int_equal(len, (int)dname_length(wire));
		assert_memory_equal(back, wire, (size_t)len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower_every_byte),
		cmocka_unit_test(test_lower_long_name),
		cmocka_unit_test(test_is_under),
		cmocka_unit_test(test_equal_nocase),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_hash_tail),
		cmocka_unit_test(test_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
