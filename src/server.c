/* server.c -- the query pipeline: validate, route to a server block, answer, render, truncate. */
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"
#include "dname.h"
#include "kubernetes.h"
#include "server.h"
#include "xmalloc.h"

struct server_block {
	const struct config_server	*cfg;
	struct kubernetes		*k;
	uint8_t				**zones;	/* lower-case wire */
};

struct server {
	struct server_block	*blocks;
	size_t			 nblocks;
};

struct server *
server_new(void)
{
	return xcalloc(1, sizeof(struct server));
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nblocks; i++) {
		for (size_t z = 0; z < s->blocks[i].cfg->nzones; z++)
			free(s->blocks[i].zones[z]);
		free(s->blocks[i].zones);
	}
	free(s->blocks);
	free(s);
}

void
server_add_block(struct server *s, const struct config_server *cfg,
    struct kubernetes *k)
{
	struct server_block	*b;
	uint8_t			 wire[DNAME_MAX];

	s->blocks = xreallocarray(s->blocks, s->nblocks + 1,
	    sizeof(*s->blocks));
	b = &s->blocks[s->nblocks++];
	b->cfg = cfg;
	b->k = k;
	b->zones = xcalloc(cfg->nzones, sizeof(*b->zones));
	for (size_t z = 0; z < cfg->nzones; z++) {
		int	len = dname_from_str(cfg->zones[z], wire);

		if (len < 0) {
			wire[0] = 0;
			len = 1;
		}
		b->zones[z] = xmalloc((size_t)len);
		memcpy(b->zones[z], wire, (size_t)len);
	}
}

/* The block whose zone is the longest match for qname, and that zone. */
static struct server_block *
server_route(struct server *s, const uint8_t *qname, const uint8_t **zone)
{
	struct server_block	*best = NULL;
	int			 best_labels = -1;
	uint8_t			 lname[DNAME_MAX];

	memcpy(lname, qname, dname_length(qname));
	dname_lower(lname);
	for (size_t i = 0; i < s->nblocks; i++)
		for (size_t z = 0; z < s->blocks[i].cfg->nzones; z++) {
			int	labels = dname_labels(s->blocks[i].zones[z]);

			if (labels > best_labels &&
			    dname_is_under(lname, s->blocks[i].zones[z])) {
				best = &s->blocks[i];
				best_labels = labels;
				*zone = s->blocks[i].zones[z];
			}
		}
	return best;
}

/* A response echoing the query's header (and question, when parsed). */
static ldns_pkt *
server_reply(const uint8_t *query, const ldns_pkt *q, ldns_pkt_rcode rcode)
{
	ldns_pkt	*resp = ldns_pkt_new();

	ldns_pkt_set_id(resp, (uint16_t)(query[0] << 8 | query[1]));
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

/* Runs the question through the block; the rcode when nothing handles it. */
static void
server_resolve(struct server *s, ldns_pkt *resp, const ldns_rr *question)
{
	const ldns_rdf		*owner = ldns_rr_owner(question);
	const uint8_t		*qname = ldns_rdf_data(owner);
	const uint8_t		*zone = NULL;
	struct server_block	*b = server_route(s, qname, &zone);
	ldns_pkt_rcode		 rcode;

	if (b == NULL) {
		ldns_pkt_set_rcode(resp, LDNS_RCODE_REFUSED);
		return;
	}
	if (b->k != NULL && kubernetes_serves(b->k, qname)) {
		rcode = kubernetes_answer(b->k, qname,
		    ldns_rr_get_type(question), resp);
		if (rcode == LDNS_RCODE_SERVFAIL)
			server_clear_sections(resp);
		if (rcode != LDNS_RCODE_NXDOMAIN ||
		    !kubernetes_fallthrough(b->k, qname)) {
			ldns_pkt_set_rcode(resp, rcode);
			return;
		}
		/* Falling through: the next directive starts afresh. */
		server_clear_sections(resp);
	}
	/* No directive answers: the root block fails, others refuse. */
	ldns_pkt_set_rcode(resp, zone[0] == 0 ? LDNS_RCODE_SERVFAIL :
	    LDNS_RCODE_REFUSED);
}

static ldns_pkt *
server_check(struct server *s, const uint8_t *query, ldns_pkt *q)
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
	server_resolve(s, resp, question);
	return resp;
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

size_t
server_query(void *arg, const uint8_t *query, size_t len, uint8_t *out,
    size_t max, enum responder_transport transport,
    struct responder_req *req)
{
	struct server	*s = arg;
	ldns_pkt	*q = NULL, *resp;
	size_t		 limit = 512, n;

	/* Too short to echo, or a response: never answer (no reflection loops). */
	if (len < 12 || (query[2] & 0x80) != 0)
		return 0;
	if (((query[2] >> 3) & 0xf) != LDNS_PACKET_QUERY)
		resp = server_reply(query, NULL, LDNS_RCODE_NOTIMPL);
	else if ((query[4] | query[5]) != 0 && !server_qname_plain(query, len))
		resp = server_reply(query, NULL, LDNS_RCODE_FORMERR);
	else if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK)
		resp = server_reply(query, NULL, LDNS_RCODE_FORMERR);
	else
		resp = server_check(s, query, q);
	if (transport == RESPONDER_TCP)
		limit = UINT16_MAX;
	else if (q != NULL && ldns_pkt_edns(q) &&
	    ldns_pkt_edns_udp_size(q) > limit)
		limit = ldns_pkt_edns_udp_size(q);
	n = server_render(resp, out, max, limit);
	ldns_pkt_free(q);
	ldns_pkt_free(resp);
	return n;
}
