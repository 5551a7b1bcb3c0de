/* answer.h -- a question and a zone to the response's sections; knows no sockets. */
#ifndef PETDNS_ANSWER_H
#define PETDNS_ANSWER_H

#include <stdint.h>

#include <ldns/ldns.h>

struct config_kubernetes;
struct wire_msg;
struct wire_query;
struct zone;
struct zone_rr;

/*
 * Answers qname (wire, as asked) and qtype from zone into resp's answer,
 * authority and additional sections and sets AA. The caller holds
 * zone_read_lock and has checked that qname lies in one of the zone's apexes.
 * Negative answers carry the apex SOA. Owner names copy the question's
 * spelling, and so does the zone part of the names the answer generates.
 * Returns LDNS_RCODE_NOERROR or LDNS_RCODE_NXDOMAIN.
 */
ldns_pkt_rcode answer_zone(const struct zone *, const struct config_kubernetes *,
	    const uint8_t *qname, uint16_t qtype, ldns_pkt *resp);

/*
 * answer_zone for the fast path: the same records written into m, or -1
 * (m in an undefined state) when the answer needs what only the ldns path
 * does: a CNAME chase, a made-up pod name, a name outside the apexes.
 */
int	answer_zone_wire(const struct zone *, const struct config_kubernetes *,
	    const struct wire_query *, struct wire_msg *m);

/*
 * One zone record as an ldns_rr of class IN: owner (wire) and ttl as given,
 * names in the rdata as stored. NULL when ldns cannot read the rdata.
 */
ldns_rr	*answer_ldns_rr(const uint8_t *owner, const struct zone_rr *,
	    uint32_t ttl);

#endif
