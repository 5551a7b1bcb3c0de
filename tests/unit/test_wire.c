/* test_wire.c -- the fast path: query parsing (garbage included), compression as ldns's, and answers equal to the ldns path's. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "config.h"
#include "dname.h"
#include "kubernetes.h"
#include "responder.h"
#include "server.h"
#include "wire.h"
#include "zone.h"

/* An ldns-made query for name/type; edns: 0 none, 1 plain, 2 with DO. */
static uint8_t *
make_query(const char *name, uint16_t type, int edns, size_t *len)
{
	ldns_rdf	*owner = ldns_dname_new_frm_str(name);
	ldns_pkt	*q;
	uint8_t		*wire = NULL;

	assert_non_null(owner);
	q = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_id(q, 0x1234);
	if (edns > 0) {
		ldns_pkt_set_edns_udp_size(q, 1232);
		ldns_pkt_set_edns_do(q, edns == 2);
	}
	assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return wire;
}

static void
test_parse_plain(void **state)
{
	struct wire_query	 q;
	size_t			 len;
	uint8_t			*w;

	(void)state;
	w = make_query("web-0.nginx.default.svc.cluster.local.",
	    LDNS_RR_TYPE_A, 0, &len);
	assert_true(wire_query_parse(w, len, &q));
	assert_int_equal(q.qtype, LDNS_RR_TYPE_A);
	assert_false(q.edns);
	assert_int_equal(q.qend, len);
	/* Trailing bytes, a response, another opcode: not ours. */
	assert_false(wire_query_parse(w, len - 1, &q));
	w[2] |= 0x80;
	assert_false(wire_query_parse(w, len, &q));
	w[2] = (uint8_t)((w[2] & 0x7f) | 0x10);
	assert_false(wire_query_parse(w, len, &q));
	free(w);
	w = make_query("a.cluster.local.", LDNS_RR_TYPE_SRV, 2, &len);
	assert_true(wire_query_parse(w, len, &q));
	assert_true(q.edns);
	assert_true(q.dnssec_ok);
	assert_int_equal(q.udp_size, 1232);
	/* EDNS version 1 goes to the ldns path (BADVERS). */
	w[len - 5] = 1;
	assert_false(wire_query_parse(w, len, &q));
	free(w);
	/* The same struct again: nothing of the EDNS query stays; the name folded once. */
	w = make_query("Web-0.NGINX.default.svc.Cluster.Local.", LDNS_RR_TYPE_A,
	    0, &len);
	assert_true(wire_query_parse(w, len, &q));
	assert_false(q.edns);
	assert_false(q.dnssec_ok);
	assert_int_equal(q.udp_size, 0);
	assert_int_equal(q.namelen, 39);
	assert_int_equal(dname_length(q.lname), q.namelen);
	assert_memory_equal(q.lname,
	    "\5web-0\5nginx\7default\3svc\7cluster\5local", 39);
	assert_memory_equal(q.qname, "\5Web-0\5NGINX", 12);
	free(w);
	w = make_query("a.cluster.local.", LDNS_RR_TYPE_AXFR, 0, &len);
	assert_false(wire_query_parse(w, len, &q));
	free(w);
}

/* Truncated, bit-flipped and random packets: never read out of bounds, never accepted wrongly. */
static void
test_parse_garbage(void **state)
{
	struct wire_query	 q;
	uint8_t			 buf[600];
	size_t			 len;

	(void)buf;
	uint8_t			*w;

	(void)state;
	w = make_query("_http._tcp.web.default.svc.cluster.local.",
	    LDNS_RR_TYPE_SRV, 2, &len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n > 0 ? n : 1);

		memcpy(cut, w, n);
		assert_false(wire_query_parse(cut, n, &q));
		free(cut);
	}
	srandom(6);
	for (int i = 0; i < 20000; i++) {
		size_t	 n = i % 2 == 0 ? (size_t)random() % sizeof(buf) : len;
		uint8_t	*p = malloc(n > 0 ? n : 1);
		bool	 ok;

		if (i % 2 == 0) {
			for (size_t k = 0; k < n; k++)
				p[k] = (uint8_t)random();
		} else {
			memcpy(p, w, n);
			p[(size_t)random() % n] ^= (uint8_t)(1 << random() % 8);
		}
		ok = wire_query_parse(p, n, &q);
		/* What it accepts, ldns parses to the same question. */
		if (ok) {
			ldns_pkt *pkt = NULL;

			assert_int_equal(ldns_wire2pkt(&pkt, p, n),
			    LDNS_STATUS_OK);
			assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
			    ldns_pkt_question(pkt), 0)), q.qtype);
			ldns_pkt_free(pkt);
		}
		free(p);
	}
	free(w);
}

/* Owners and PTR/MX/SOA data compress exactly as ldns's renderer; SRV data does not. */
static void
test_compression(void **state)
{
	static const char *const rrs[] = {
		"_A._tcp.Foo.Example. 5 IN SRV 0 1 2 web.foo.example.",
		"web.foo.example. 5 IN A 1.2.3.4",
		"x.foo.example. 5 IN PTR web.foo.example.",
		"x.foo.example. 5 IN MX 1 web.foo.example.",
		"foo.example. 5 IN SOA web.foo.example. ns.Foo.example. 1 2 3 4 5",
	};
	static const enum wire_section secs[] = { WIRE_ANSWER,
	    WIRE_ADDITIONAL, WIRE_ADDITIONAL, WIRE_ADDITIONAL,
	    WIRE_ADDITIONAL };
	struct wire_query	 q;
	struct wire_msg		 m;
	uint8_t			 out[1024], *qw, *ref = NULL;
	size_t			 qlen, rlen, n;
	ldns_pkt		*p;

	(void)state;
	qw = make_query("_A._tcp.Foo.Example.", LDNS_RR_TYPE_SRV, 0, &qlen);
	assert_true(wire_query_parse(qw, qlen, &q));
	assert_int_equal(ldns_wire2pkt(&p, qw, qlen), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	wire_msg_init(&m, out, sizeof(out), &q);
	for (size_t i = 0; i < sizeof(rrs) / sizeof(rrs[0]); i++) {
		ldns_rr		*rr;
		uint8_t		*rd = NULL;
		size_t		 rdlen;
		ldns_buffer	*b = ldns_buffer_new(512);

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		assert_int_equal(ldns_rr_rdata2buffer_wire(b, rr),
		    LDNS_STATUS_OK);
		rdlen = ldns_buffer_position(b);
		rd = ldns_buffer_begin(b);
		wire_msg_rr(&m, secs[i], ldns_rdf_data(ldns_rr_owner(rr)),
		    ldns_rr_get_type(rr), 5, rd, (uint16_t)rdlen);
		ldns_pkt_push_rr(p, secs[i] == WIRE_ANSWER ?
		    LDNS_SECTION_ANSWER : LDNS_SECTION_ADDITIONAL, rr);
		ldns_buffer_free(b);
	}
	n = wire_msg_finish(&m, 0, sizeof(out));
	assert_int_equal(ldns_pkt2wire(&ref, p, &rlen), LDNS_STATUS_OK);
	assert_int_equal(n, rlen);
	assert_memory_equal(out, ref, n);
	/* 60 bytes: the additional goes; 40: TC with the question alone. */
	n = wire_msg_finish(&m, 0, 100);
	assert_int_equal(out[11], 0);
	assert_int_equal(out[7], 1);
	n = wire_msg_finish(&m, 0, 40);
	assert_int_equal(n, q.qend);
	assert_true(out[2] & 0x02);
	assert_int_equal(out[7], 0);
	free(ref);
	free(qw);
	ldns_pkt_free(p);
}

/* loadbalance keeps the set of records and each record's owner. */
static void
test_shuffle(void **state)
{
	struct wire_query	 q;
	struct wire_msg		 m;
	uint8_t			 out[512], before[512], *qw, ip[4] = { 10, 0,
				    0, 0 };
	size_t			 qlen, n;
	bool			 moved = false;

	(void)state;
	qw = make_query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 0,
	    &qlen);
	assert_true(wire_query_parse(qw, qlen, &q));
	wire_msg_init(&m, out, sizeof(out), &q);
	for (uint8_t i = 0; i < 8; i++) {
		ip[3] = i;
		wire_msg_rr(&m, WIRE_ANSWER, q.qname, LDNS_RR_TYPE_A, 5, ip, 4);
	}
	n = wire_msg_finish(&m, 0, sizeof(out));
	memcpy(before, out, n);
	for (int t = 0; t < 20 && !moved; t++) {
		unsigned seen = 0;

		assert_true(wire_shuffle(out, n));
		for (size_t r = 0; r < 8; r++)
			seen |= 1u << out[q.qend + r * 16 + 15];
		assert_int_equal(seen, 0xff);
		moved = memcmp(before, out, n) != 0;
	}
	assert_true(moved);
	/* A malformed answer is left alone. */
	assert_false(wire_shuffle(out, q.qend + 3));
	/* One record: nothing to shuffle, the message as it was. */
	wire_msg_init(&m, out, sizeof(out), &q);
	wire_msg_rr(&m, WIRE_ANSWER, q.qname, LDNS_RR_TYPE_A, 5, ip, 4);
	n = wire_msg_finish(&m, 0, sizeof(out));
	memcpy(before, out, n);
	assert_true(wire_shuffle(out, n));
	assert_memory_equal(before, out, n);
	/*
	 * Even one MX record, which wire_shuffle leaves to ldns when there are
	 * more: true at once, where it used to walk the answer and refuse it.
	 */
	wire_msg_init(&m, out, sizeof(out), &q);
	wire_msg_rr(&m, WIRE_ANSWER, q.qname, LDNS_RR_TYPE_MX, 5,
	    (const uint8_t *)"\0\12\4mail\7cluster\5local", 22);
	n = wire_msg_finish(&m, 0, sizeof(out));
	assert_int_equal(out[7], 1);
	memcpy(before, out, n);
	assert_true(wire_shuffle(out, n));
	assert_memory_equal(before, out, n);
	free(qw);
}

/* A response cut for a datagram: header, question and OPT stay, TC set. */
static void
test_truncate(void **state)
{
	ldns_pkt	*p = NULL, *t = NULL;
	ldns_rr		*rr = NULL;
	uint8_t		*wire = NULL, out[512];
	size_t		 len, n;

	(void)state;
	p = ldns_pkt_query_new(ldns_dname_new_frm_str(
	    "big.default.svc.cluster.local."), LDNS_RR_TYPE_A,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_id(p, 0x4242);
	for (int i = 0; i < 3; i++) {
		char	text[80];

		snprintf(text, sizeof(text),
		    "big.default.svc.cluster.local. 5 IN A 10.0.0.%d", i);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_rr_new_frm_str(&rr, "web-0.nginx.default.svc."
	    "cluster.local. 5 IN A 10.1.0.1", 0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, rr);
	ldns_pkt_set_edns_udp_size(p, 1232);
	ldns_pkt_set_edns_do(p, true);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	n = wire_truncate(wire, len, out, sizeof(out));
	assert_true(n > 0 && n < len);
	assert_int_equal(ldns_wire2pkt(&t, out, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(t) && ldns_pkt_aa(t) && ldns_pkt_qr(t));
	assert_int_equal(ldns_pkt_id(t), 0x4242);
	assert_int_equal(ldns_pkt_qdcount(t), 1);
	assert_int_equal(ldns_pkt_ancount(t), 0);
	assert_int_equal(ldns_pkt_nscount(t), 0);
	assert_int_equal(ldns_pkt_arcount(t), 0);	/* the OPT is not counted */
	assert_true(ldns_pkt_edns(t) && ldns_pkt_edns_do(t));
	assert_int_equal(ldns_pkt_edns_udp_size(t), 1232);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(t), 0)), ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(p), 0))), 0);
	ldns_pkt_free(t);
	/* In place, and the same bytes. */
	assert_int_equal(wire_truncate(wire, len, wire, len), n);
	assert_memory_equal(wire, out, n);
	/* Too little room, or a message cut short: nothing. */
	assert_int_equal(wire_truncate(out, n, out, n - 1), 0);
	free(wire);
	ldns_pkt_set_edns_udp_size(p, 0);
	ldns_pkt_set_edns_do(p, false);
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_int_equal(wire_truncate(wire, len - 3, out, sizeof(out)), 0);
	/* Without an OPT: header and question only. */
	n = wire_truncate(wire, len, out, sizeof(out));
	assert_int_equal(n, WIRE_HEADER + 31 + 4);
	assert_int_equal(out[2] & 0x02, 0x02);
	assert_int_equal(wire_get16(out + 6) | wire_get16(out + 8) |
	    wire_get16(out + 10), 0);
	free(wire);
	ldns_pkt_free(p);
}

/* One record's bounds: found only when all of it, data too, is there. */
static void
test_rr_fields(void **state)
{
	ldns_rr		*rr = NULL;
	uint8_t		*wire = NULL;
	ldns_buffer	*b = ldns_buffer_new(512);
	size_t		 len, f;

	(void)state;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "web-0.nginx.default.svc."
	    "cluster.local. 5 IN A 10.1.0.1", 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr2buffer_wire(b, rr, LDNS_SECTION_ANSWER),
	    LDNS_STATUS_OK);
	wire = ldns_buffer_begin(b);
	len = ldns_buffer_position(b);
	/* 39 bytes of owner, type A, class, TTL, length 4, the address. */
	f = wire_rr_fields(wire, len, 0);
	assert_int_equal(f, 39);
	assert_int_equal(wire_get16(wire + f), LDNS_RR_TYPE_A);
	assert_int_equal(wire_rr_end(wire, f), len);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(wire_rr_fields(wire, cut, 0), 0);
	ldns_rr_free(rr);
	ldns_buffer_free(b);
}

/* --- The fast path against the ldns path, through a real UDP socket --- */

/* Two servers on one zone, each with its own cache: [0] fast, [1] ldns only. */
struct fixture {
	struct event_base	*base;
	struct config		*cfg;
	struct kubernetes	*k;
	struct server		*s[2];
	struct responder	*r[2];
	int			 fd;
	struct sockaddr_in	 to[2];
};

static struct fixture *
fixture_new(const char *corefile)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[512];

	f->base = event_base_new();
	f->cfg = config_parse("T", corefile, err, sizeof(err));
	if (f->cfg == NULL)
		fail_msg("%s", err);
	f->k = kubernetes_new(f->base, f->cfg->servers[0].kubernetes);
	assert_int_equal(kubernetes_start(f->k), 0);
	kubernetes_flush(f->k);
	for (int i = 0; i < 2; i++) {
		f->s[i] = server_new(f->base, NULL, "127.0.0.1", 0);
		server_add_block(f->s[i], &f->cfg->servers[0], f->k);
		server_set_fast(f->s[i], i == 0);
		f->r[i] = responder_new(f->base, NULL);
		assert_int_equal(responder_listen(f->r[i], "127.0.0.1", 0,
		    server_query, f->s[i], err, sizeof(err)), 0);
		f->to[i].sin_family = AF_INET;
		f->to[i].sin_port = htons(responder_port(f->r[i]));
		f->to[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	close(f->fd);
	for (int i = 0; i < 2; i++) {
		responder_free(f->r[i]);
		server_free(f->s[i]);
	}
	kubernetes_free(f->k);
	config_free(f->cfg);
	event_base_free(f->base);
	free(f);
}

/* The answer of server [0] (fast) or [1]; its bytes in raw. */
static ldns_pkt *
ask(struct fixture *f, const uint8_t *q, size_t qlen, bool fast,
    uint8_t *buf, size_t *len)
{
	ssize_t		 n = -1;
	ldns_pkt	*p = NULL;

	assert_int_equal(sendto(f->fd, q, qlen, 0, (struct sockaddr *)
	    &f->to[fast ? 0 : 1], sizeof(f->to[0])), (ssize_t)qlen);
	/* Up to 10 s: sanitizers on a loaded machine are slow. */
	for (int i = 0; i < 10000 && n < 0; i++) {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) == 1)
			n = recv(f->fd, buf, 65536, MSG_DONTWAIT);
	}
	assert_true(n > 0);
	*len = (size_t)n;
	assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)n), LDNS_STATUS_OK);
	return p;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* A section as sorted text; TTLs zeroed when cached answers age. */
static char *
section(const ldns_pkt *p, ldns_pkt_section sec, bool mask_ttl)
{
	ldns_rr_list	*l = ldns_pkt_get_section_clone(p, sec);
	size_t		 n = ldns_rr_list_rr_count(l), len = 1;
	char		**lines = calloc(n + 1, sizeof(*lines)), *out;

	for (size_t i = 0; i < n; i++) {
		if (mask_ttl)
			ldns_rr_set_ttl(ldns_rr_list_rr(l, i), 0);
		lines[i] = ldns_rr2str(ldns_rr_list_rr(l, i));
		len += strlen(lines[i]);
	}
	qsort(lines, n, sizeof(*lines), str_cmp);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	ldns_rr_list_deep_free(l);
	return out;
}

static void
same(const char *what, const ldns_pkt *a, const ldns_pkt *b, bool mask_ttl)
{
	static const ldns_pkt_section secs[] = { LDNS_SECTION_QUESTION,
	    LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
	    LDNS_SECTION_ADDITIONAL };

	if (ldns_pkt_get_rcode(a) != ldns_pkt_get_rcode(b) ||
	    ldns_pkt_aa(a) != ldns_pkt_aa(b) || ldns_pkt_tc(a) !=
	    ldns_pkt_tc(b) || ldns_pkt_rd(a) != ldns_pkt_rd(b) ||
	    ldns_pkt_ra(a) != ldns_pkt_ra(b) || ldns_pkt_ad(a) !=
	    ldns_pkt_ad(b) || ldns_pkt_id(a) != ldns_pkt_id(b) ||
	    ldns_pkt_edns(a) != ldns_pkt_edns(b) || ldns_pkt_edns_do(a) !=
	    ldns_pkt_edns_do(b) || ldns_pkt_edns_udp_size(a) !=
	    ldns_pkt_edns_udp_size(b))
		fail_msg("%s: header differs:\n%s\n---\n%s", what,
		    ldns_pkt2str(a), ldns_pkt2str(b));
	for (size_t i = 0; i < 4; i++) {
		char	*x = section(a, secs[i], mask_ttl);
		char	*y = section(b, secs[i], mask_ttl);

		if (strcmp(x, y) != 0)
			fail_msg("%s: section %zu differs:\n%s---\n%s", what, i,
			    x, y);
		free(x);
		free(y);
	}
}

struct names {
	char	**v;
	size_t	 n;
};

static void
names_add(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcasecmp(ns->v[i], name) == 0)
			return;
	ns->v = realloc(ns->v, (ns->n + 1) * sizeof(*ns->v));
	ns->v[ns->n++] = strdup(name);
}

/* Every owner of the zone, its parent, a name below it, and their mixed-case spellings. */
static struct names
zone_names(struct kubernetes *k)
{
	struct names	 ns = { 0 };
	char		*text = NULL, *line, *save = NULL;
	size_t		 len = 0;
	FILE		*fp = open_memstream(&text, &len);

	kubernetes_dump(k, fp);
	fclose(fp);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	 name[300], buf[320];
		char	*dot;

		if (sscanf(line, "%255s", name) != 1)
			continue;
		names_add(&ns, name);
		snprintf(buf, sizeof(buf), "nope.%s", name);
		names_add(&ns, buf);
		if ((dot = strchr(name, '.')) != NULL && dot[1] != '\0')
			names_add(&ns, dot + 1);
	}
	free(text);
	for (size_t i = 0, n = ns.n; i < n; i++) {
		char	*mixed = strdup(ns.v[i]);

		for (size_t c = 0; mixed[c] != '\0'; c++)
			if (c % 2 == 0)
				mixed[c] = (char)toupper((unsigned char)mixed[c]);
		ns.v = realloc(ns.v, (ns.n + 1) * sizeof(*ns.v));
		ns.v[ns.n++] = mixed;
	}
	return ns;
}

/*
 * Every name and type, without EDNS, with it, with DO: the same answers
 * from both servers; the same bytes when nothing shuffles or ages. A
 * second pass gets the fast server's kept answers (memo, or cache).
 */
static void
compare_all(const char *corefile, bool mask_ttl, int passes)
{
	static uint8_t	 a[65536], b[65536];
	size_t		 alen, blen;
	static const uint16_t types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
	    LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_PTR, LDNS_RR_TYPE_TXT,
	    LDNS_RR_TYPE_ANY, LDNS_RR_TYPE_NS, LDNS_RR_TYPE_SOA,
	    LDNS_RR_TYPE_MX, LDNS_RR_TYPE_CNAME };
	struct fixture	*f = fixture_new(corefile);
	struct names	 ns = zone_names(f->k);
	size_t		 compared = 0;

	assert_true(ns.n > 20);
	for (int pass = 0; pass < passes; pass++)
		for (size_t i = 0; i < ns.n; i++)
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]);
			    t++)
				for (int edns = 0; edns < 3; edns++) {
					size_t	 qlen;
					uint8_t	*q = make_query(ns.v[i], types[t],
					    edns, &qlen);
					ldns_pkt *fast = ask(f, q, qlen, true,
					    a, &alen);
					ldns_pkt *slow = ask(f, q, qlen, false,
					    b, &blen);
					char	 what[400];

					snprintf(what, sizeof(what),
					    "%s type %u edns %d pass %d", ns.v[i],
					    types[t], edns, pass);
					same(what, fast, slow, mask_ttl);
					if (!mask_ttl && (alen != blen ||
					    memcmp(a, b, alen) != 0))
						fail_msg("%s: bytes differ", what);
					compared++;
					ldns_pkt_free(fast);
					ldns_pkt_free(slow);
					free(q);
				}
	assert_true(compared > 100);
	/* Most of them took the fast path, the rest fell back. */
	if (server_fast_count(f->s[0]) < compared / 2 ||
	    server_fast_count(f->s[1]) != 0)
		fail_msg("fast path: %zu of %zu", server_fast_count(f->s[0]),
		    compared);
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	fixture_free(f);
}

static void
test_same_as_ldns_local(void **state)
{
	(void)state;
	compare_all("cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {\n"
	    " kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	    "  manifests " TESTDATA "/local\n }\n}\n", false, 2);
}

static void
test_same_as_ldns_zones(void **state)
{
	(void)state;
	compare_all("cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {\n"
	    " kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	    "  manifests " TESTDATA "/../../zones/cluster\n  pods insecure\n"
	    "  ttl 5\n }\n}\n", false, 2);
}

/*
 * kubeadm's shape: cache and loadbalance; the second pass hits the cache.
 * SERVFAILs are not cached: their 5 s could end between the two servers.
 */
static void
test_same_as_ldns_cached(void **state)
{
	(void)state;
	compare_all(".:53 {\n errors\n"
	    " kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	    "  manifests " TESTDATA "/local\n  pods insecure\n"
	    "  fallthrough in-addr.arpa ip6.arpa\n  ttl 30\n }\n"
	    " cache 30 {\n  servfail 0\n }\n loadbalance\n}\n", true, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_compression),
		cmocka_unit_test(test_shuffle),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_rr_fields),
		cmocka_unit_test(test_same_as_ldns_local),
		cmocka_unit_test(test_same_as_ldns_zones),
		cmocka_unit_test(test_same_as_ldns_cached),
	};

	zone_thread_register();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
