/* answer.c -- RFC 1034 lookup in the zone: data, CNAME chase, NODATA vs NXDOMAIN, glue, pod names. */
#include <string.h>

#include "answer.h"
#include "config.h"
#include "dname.h"
#include "object.h"
#include "records.h"
#include "wire.h"
#include "zone.h"

#define ANSWER_MAX_CHASE	8

struct answer {
	const struct zone		*zone;
	const struct config_kubernetes	*cfg;
	ldns_pkt			*resp;
	uint8_t		 spelled[DNAME_MAX];	/* the apex as the question spells it */
	const uint8_t	*apex;			/* lower case */
};

/* Gives names under the apex the question's spelling of the apex. */
static void
answer_spell(const struct answer *a, uint8_t *name)
{
	size_t	len = dname_length(name), alen = dname_length(a->apex);
	uint8_t	lower[DNAME_MAX];

	memcpy(lower, name, len);
	dname_lower(lower);
	if (dname_is_under(lower, a->apex))
		memcpy(name + len - alen, a->spelled, alen);
}

ldns_rr *
answer_ldns_rr(const uint8_t *owner, const struct zone_rr *zr, uint32_t ttl)
{
	uint8_t	 buf[2 + UINT16_MAX];
	size_t	 pos = 0;
	ldns_rr	*rr = ldns_rr_new();

	ldns_rr_set_owner(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
	    dname_length(owner), owner));
	ldns_rr_set_type(rr, zr->type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	/* ldns reads rdata with its length in front, as on the wire. */
	wire_put16(buf, zr->rdlen);
	memcpy(buf + 2, zr->rdata, zr->rdlen);
	if (ldns_wire2rdf(rr, buf, 2 + (size_t)zr->rdlen, &pos) !=
	    LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/* answer_ldns_rr, the zone part of the names in its rdata as asked. */
static ldns_rr *
answer_rr(const struct answer *a, const uint8_t *owner,
    const struct zone_rr *zr)
{
	ldns_rr	*rr = answer_ldns_rr(owner, zr, a->cfg->ttl);

	for (size_t i = 0; rr != NULL && i < ldns_rr_rd_count(rr); i++) {
		ldns_rdf *rdf = ldns_rr_rdf(rr, i);

		if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME)
			answer_spell(a, ldns_rdf_data(rdf));
	}
	return rr;
}

static void
answer_push(const struct answer *a, ldns_pkt_section sec, const uint8_t *owner,
    const struct zone_rr *zr)
{
	ldns_rr	*rr = answer_rr(a, owner, zr);

	if (rr != NULL && !ldns_pkt_safe_push_rr(a->resp, sec, rr))
		ldns_rr_free(rr);
}

/* Pushes the records of type at node; returns how many. */
static size_t
answer_rrset(const struct answer *a, ldns_pkt_section sec,
    const uint8_t *owner, const struct zone_node *node, uint16_t type)
{
	struct zone_walk	w;
	struct zone_rr		rr;
	size_t			count = 0;

	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr))
		if (rr.type == type && type != RECORDS_TYPE_MARKER) {
			answer_push(a, sec, owner, &rr);
			count++;
		}
	return count;
}

/* The node's first record of type (ANY: of any served type) into rr; false when none. */
static bool
answer_first(const struct zone_node *node, uint16_t type, struct zone_rr *rr)
{
	struct zone_walk	w;

	zone_walk_init(&w, node);
	while (zone_walk_next(&w, rr))
		if (type == LDNS_RR_TYPE_ANY ? rr->type != RECORDS_TYPE_MARKER :
		    rr->type == type)
			return true;
	return false;
}

static void
answer_soa(struct answer *a)
{
	const struct zone_node	*apex = zone_find(a->zone, a->apex, NULL);

	if (apex != NULL)
		answer_rrset(a, LDNS_SECTION_AUTHORITY, a->spelled, apex,
		    LDNS_RR_TYPE_SOA);
}

/* A/AAAA of in-zone SRV and NS targets, as additional data. */
static void
answer_glue(struct answer *a, const struct zone_node *node, uint16_t type)
{
	struct zone_walk	w;
	struct zone_rr		rr;

	if (type != LDNS_RR_TYPE_SRV && type != LDNS_RR_TYPE_NS)
		return;
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr)) {
		const struct zone_node	*t;
		uint8_t			 target[DNAME_MAX];
		size_t			 off = type == LDNS_RR_TYPE_SRV ? 6 : 0;

		if (rr.type != type || rr.rdlen <= off)
			continue;
		memcpy(target, rr.rdata + off, dname_length(rr.rdata + off));
		if ((t = zone_find(a->zone, target, NULL)) == NULL)
			continue;
		answer_spell(a, target);
		answer_rrset(a, LDNS_SECTION_ADDITIONAL, target, t,
		    LDNS_RR_TYPE_A);
		answer_rrset(a, LDNS_SECTION_ADDITIONAL, target, t,
		    LDNS_RR_TYPE_AAAA);
	}
}

/* <dashed-ip>.<ns>.pod.ZONE with pods insecure: the IP in the name, if <ns>.pod.ZONE exists. */
static int
answer_pod(struct answer *a, const uint8_t *owner, const uint8_t *lname,
    uint16_t qtype)
{
	struct object_ip	 ip;
	char			 label[64];
	struct zone_rr		 rr = { 0 };

	if (a->cfg->pods != PODS_INSECURE ||
	    dname_labels(lname) != dname_labels(a->apex) + 3 ||
	    zone_find(a->zone, dname_parent(lname), NULL) == NULL)
		return -1;
	memcpy(label, lname + 1, lname[0]);
	label[lname[0]] = '\0';
	if (records_dashed_ip(label, &ip) == -1)
		return -1;
	rr.type = ip.family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	rr.rdata = ip.addr;
	rr.rdlen = ip.family == AF_INET ? 4 : 16;
	if (qtype == rr.type || qtype == LDNS_RR_TYPE_ANY)
		answer_push(a, LDNS_SECTION_ANSWER, owner, &rr);
	else
		answer_soa(a);
	return 0;
}

/* Makes the apex of lname current; false when lname is outside the zone. */
static bool
answer_enter(struct answer *a, const uint8_t *owner, const uint8_t *lname)
{
	int	i = zone_match(a->zone, lname);
	size_t	len = dname_length(owner), alen;

	if (i < 0)
		return false;
	a->apex = zone_apex(a->zone, i);
	alen = dname_length(a->apex);
	memcpy(a->spelled, owner + len - alen, alen);
	return true;
}

ldns_pkt_rcode
answer_zone(const struct zone *z, const struct config_kubernetes *cfg,
    const uint8_t *qname, uint16_t qtype, ldns_pkt *resp)
{
	struct answer		 a = { .zone = z, .cfg = cfg, .resp = resp };
	uint8_t			 owner[DNAME_MAX], lname[DNAME_MAX];
	struct zone_scratch	 scratch;
	const struct zone_node	*node;
	struct zone_rr		 rr;

	memcpy(owner, qname, dname_length(qname));
	ldns_pkt_set_aa(resp, true);
	for (int hop = 0; hop < ANSWER_MAX_CHASE; hop++) {
		dname_lower_copy(lname, owner);
		if (!answer_enter(&a, owner, lname))
			return LDNS_RCODE_NOERROR;	/* CNAME out of zone */
		if ((node = zone_find(z, lname, &scratch)) == NULL) {
			if (answer_pod(&a, owner, lname, qtype) == 0)
				return LDNS_RCODE_NOERROR;
			answer_soa(&a);
			return LDNS_RCODE_NXDOMAIN;
		}
		if (qtype != LDNS_RR_TYPE_CNAME && answer_first(node,
		    LDNS_RR_TYPE_CNAME, &rr)) {
			answer_push(&a, LDNS_SECTION_ANSWER, owner, &rr);
			memcpy(owner, rr.rdata, dname_length(rr.rdata));
			answer_spell(&a, owner);
			continue;
		}
		if (qtype == LDNS_RR_TYPE_ANY && answer_first(node,
		    LDNS_RR_TYPE_ANY, &rr))
			qtype = rr.type;	/* RFC 8482: one RRset */
		if (answer_rrset(&a, LDNS_SECTION_ANSWER, owner, node,
		    qtype) == 0)
			answer_soa(&a);
		answer_glue(&a, node, qtype);
		return LDNS_RCODE_NOERROR;
	}
	return LDNS_RCODE_NOERROR;
}

/* --- The same lookup written straight to wire (the fast path) --------- */

/* rdata with its names under the apex in the question's spelling, in buf when respelled. */
static const uint8_t *
answer_wire_rdata(const struct answer *a, const struct zone_rr *zr,
    uint8_t *buf, size_t buflen)
{
	size_t	alen = dname_length(a->apex), off, names = 1;

	switch (zr->type) {
	case LDNS_RR_TYPE_SRV:
		off = 6;
		break;
	case LDNS_RR_TYPE_MX:
		off = 2;
		break;
	case LDNS_RR_TYPE_SOA:
		off = 0;
		names = 2;
		break;
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_NS:
		off = 0;
		break;
	default:
		return zr->rdata;
	}
	if (memcmp(a->spelled, a->apex, alen) == 0 || zr->rdlen > buflen)
		return zr->rdata;
	memcpy(buf, zr->rdata, zr->rdlen);
	for (size_t i = 0; i < names && off < zr->rdlen; i++) {
		answer_spell(a, buf + off);
		off += dname_length(buf + off);
	}
	return buf;
}

/*
 * True when a record before rr (the walk's last) has its type and rdata
 * from off on (names compared from off), and another owner unless any.
 */
static bool
answer_wire_seen(const struct zone_walk *at, const struct zone_rr *rr,
    size_t off, bool any)
{
	struct zone_walk	w;
	struct zone_rr		p;

	zone_walk_init(&w, at->node);
	while (w.i + 1 < at->i && zone_walk_next(&w, &p)) {
		if (p.type != rr->type || (!any && p.owner == rr->owner))
			continue;
		if (off > 0 ? p.rdlen > off && dname_equal(p.rdata + off,
		    rr->rdata + off) : p.rdlen == rr->rdlen && memcmp(p.rdata,
		    rr->rdata, rr->rdlen) == 0)
			return true;
	}
	return false;
}

/*
 * Writes the records of type at node, skipping those another owner already
 * gave (the ldns path's safe push keeps one of each); returns how many.
 */
static size_t
answer_wire_rrset(const struct answer *a, struct wire_msg *m,
    enum wire_section sec, const uint8_t *owner, const struct zone_node *node,
    uint16_t type)
{
	struct zone_walk	w;
	struct zone_rr		rr;
	size_t			count = 0;
	uint8_t			buf[2 * DNAME_MAX + 32];

	if (type == RECORDS_TYPE_MARKER)
		return 0;
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr)) {
		if (rr.type != type || answer_wire_seen(&w, &rr, 0, false))
			continue;
		wire_msg_rr(m, sec, owner, type, a->cfg->ttl,
		    answer_wire_rdata(a, &rr, buf, sizeof(buf)), rr.rdlen);
		count++;
	}
	return count;
}

static void
answer_wire_soa(const struct answer *a, struct wire_msg *m)
{
	const struct zone_node	*apex = zone_find(a->zone, a->apex, NULL);

	if (apex != NULL)
		answer_wire_rrset(a, m, WIRE_AUTHORITY, a->spelled, apex,
		    LDNS_RR_TYPE_SOA);
}

/* answer_glue's A/AAAA of in-zone SRV and NS targets, each target once. */
static void
answer_wire_glue(const struct answer *a, struct wire_msg *m,
    const struct zone_node *node, uint16_t type)
{
	size_t			 off = type == LDNS_RR_TYPE_SRV ? 6 : 0;
	struct zone_walk	 w;
	struct zone_rr		 rr;

	if (type != LDNS_RR_TYPE_SRV && type != LDNS_RR_TYPE_NS)
		return;
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr)) {
		const struct zone_node	*t;
		uint8_t			 target[DNAME_MAX];

		if (rr.type != type || rr.rdlen <= off ||
		    answer_wire_seen(&w, &rr, off, true))
			continue;
		memcpy(target, rr.rdata + off, dname_length(rr.rdata + off));
		if ((t = zone_find(a->zone, target, NULL)) == NULL)
			continue;
		answer_spell(a, target);
		answer_wire_rrset(a, m, WIRE_ADDITIONAL, target, t,
		    LDNS_RR_TYPE_A);
		answer_wire_rrset(a, m, WIRE_ADDITIONAL, target, t,
		    LDNS_RR_TYPE_AAAA);
	}
}

int
answer_zone_wire(const struct zone *z, const struct config_kubernetes *cfg,
    const struct wire_query *q, struct wire_msg *m)
{
	struct answer		 a = { .zone = z, .cfg = cfg };
	const uint8_t		*qname = q->qname, *lname = q->lname;
	uint16_t		 qtype = q->qtype;
	struct zone_scratch	 scratch;
	const struct zone_node	*node;
	struct zone_rr		 rr;

	if (!answer_enter(&a, qname, lname))
		return -1;
	if ((node = zone_find(z, lname, &scratch)) == NULL) {
		/* A name answer_pod may make up: the ldns path's. */
		if (cfg->pods == PODS_INSECURE &&
		    dname_labels(lname) == dname_labels(a.apex) + 3 &&
		    zone_find(z, dname_parent(lname), NULL) != NULL)
			return -1;
		answer_wire_soa(&a, m);
		return LDNS_RCODE_NXDOMAIN;
	}
	if (qtype != LDNS_RR_TYPE_CNAME &&
	    answer_first(node, LDNS_RR_TYPE_CNAME, &rr))
		return -1;	/* a chase: the ldns path's */
	if (qtype == LDNS_RR_TYPE_ANY && answer_first(node, LDNS_RR_TYPE_ANY,
	    &rr))
		qtype = rr.type;	/* RFC 8482: one RRset */
	if (answer_wire_rrset(&a, m, WIRE_ANSWER, qname, node, qtype) == 0)
		answer_wire_soa(&a, m);
	answer_wire_glue(&a, m, node, qtype);
	return LDNS_RCODE_NOERROR;
}
