/* kubernetes.h -- the kubernetes directive: sources into a store, the store into a zone, queries answered. */
#ifndef PETDNS_KUBERNETES_H
#define PETDNS_KUBERNETES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ldns/ldns.h>

struct config_kubernetes;
struct event_base;
struct explain;
struct kubernetes;
struct metrics;
struct store;
struct wire_msg;
struct wire_query;

/* cfg is borrowed and must outlive the instance. */
struct kubernetes *kubernetes_new(struct event_base *,
	    const struct config_kubernetes *);
void	kubernetes_free(struct kubernetes *);
/* Records coredns_kubernetes_dns_programming_duration_seconds into m. */
void	kubernetes_set_metrics(struct kubernetes *, struct metrics *);
/* Starts the sources and loads what they have now. -1 (logged) when none can start. */
int	kubernetes_start(struct kubernetes *);
/* True once every source has synced. */
bool	kubernetes_ready(const struct kubernetes *);
/* Ready, and the PetSet controller (if on) has nothing left to do. */
bool	kubernetes_settled(const struct kubernetes *);
/* Settled, or the controller only waits on pets that stay unready. */
bool	kubernetes_stable(const struct kubernetes *);
/* Publishes pending store changes now (they are otherwise published on the next loop turn). */
void	kubernetes_flush(struct kubernetes *);
/* True when qname (wire, any case) lies in one of the directive's zones. */
bool	kubernetes_serves(const struct kubernetes *, const uint8_t *qname);
/*
 * Answers qname/qtype into resp; returns the rcode (see answer_zone). With
 * the explain option, TXT for _explain.NAME answers NAME's explanation.
 */
ldns_pkt_rcode kubernetes_answer(struct kubernetes *, const uint8_t *qname,
	    uint16_t qtype, ldns_pkt *resp);
/*
 * The same answer written into m (the fast path); -1 when only
 * kubernetes_answer can give it (see answer_zone_wire, and SERVFAIL
 * before the first sync).
 */
int	kubernetes_answer_wire(struct kubernetes *, const struct wire_query *,
	    struct wire_msg *m);
/*
 * A number that moves on whenever an answer kubernetes_answer_wire gives
 * may change (the zone's version).
 */
uint64_t kubernetes_version(const struct kubernetes *);
/* True when an NXDOMAIN for qname goes on to the next directive. */
bool	kubernetes_fallthrough(const struct kubernetes *, const uint8_t *qname);
/*
 * Explains name (presentation format) asked with qtype from what the store
 * and zone hold now; see explain_name. The caller frees it.
 */
struct explain *kubernetes_explain(struct kubernetes *, const char *name,
	    uint16_t qtype);
/* Prints every record, one per line in presentation format, sorted. */
void	kubernetes_dump(struct kubernetes *, FILE *);
/* The store, for sources and tests. */
struct store *kubernetes_store(struct kubernetes *);

#endif
