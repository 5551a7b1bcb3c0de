/* records.h -- the Kubernetes DNS rules (spec 1.1.0): objects in, records out; pure. */
#ifndef PETDNS_RECORDS_H
#define PETDNS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_kubernetes;
struct object;
struct object_endpoint;
struct object_ip;
struct store;

/* Never served: a record of this type only makes its name exist (an empty non-terminal). */
#define RECORDS_TYPE_MARKER	0

struct records_rr {
	uint8_t	*name;		/* lower-case wire name */
	uint16_t type;
	uint16_t rdlen;
	bool	 ptr;		/* A/AAAA: the address's reverse name answers PTR with name */
	uint8_t	*rdata;		/* wire rdata, names uncompressed and lower case */
};

struct records_block;

/* Zeroed: empty. The names and rdata live in the list's blocks. */
struct records_list {
	struct records_rr *rr;
	size_t	n;
	size_t	cap;
	struct records_block *blocks;
};

/* Empties the list, keeping its memory for reuse. */
void	records_clear(struct records_list *);
/* Frees the list's contents. */
void	records_free(struct records_list *);
/* Appends one record, name and rdata copied. */
void	records_add(struct records_list *, const uint8_t *name, uint16_t type,
	    const uint8_t *rdata, size_t rdlen);
/*
 * Appends the records of service svc in every zone of cfg: its name, endpoint
 * names, SRV and CNAME records, from svc and its EndpointSlices in store.
 * PTR records are A/AAAA records flagged ptr (the zone indexes them).
 */
void	records_service(const struct config_kubernetes *, const struct store *,
	    const struct object *svc, struct records_list *);
/* Appends the markers that make <ns>.pod.ZONE exist (pods insecure). */
void	records_namespace(const struct config_kubernetes *,
	    const struct object *ns, struct records_list *);
/* Appends <dashed-ip>.<ns>.pod.ZONE records of a pod (pods verified). */
void	records_pod(const struct config_kubernetes *, const struct object *pod,
	    struct records_list *);
/* Appends SOA, NS, ns.dns A/AAAA and dns-version TXT for every zone. */
void	records_apex(const struct config_kubernetes *, uint32_t serial,
	    const struct object_ip *ns_ips, size_t nns_ips,
	    struct records_list *);
/* The endpoint's DNS label: hostname, pod name (endpoint_pod_names), else the dashed IP. */
void	records_endpoint_label(const struct config_kubernetes *,
	    const char *hostname, const char *pod_name,
	    const struct object_ip *, char *buf, size_t len);
/*
 * Calls fn for every address of every endpoint of svc's EndpointSlices in
 * store, ready or not, with the DNS label it is published under (see
 * records_endpoint_label). All borrowed for the call.
 */
typedef void (*records_endpoint_fn)(const struct object *slice,
	    const struct object_endpoint *, const struct object_ip *,
	    const char *label, void *arg);
void	records_foreach_endpoint(const struct config_kubernetes *,
	    const struct store *, const struct object *svc,
	    records_endpoint_fn, void *arg);
/* Parses a dashed-IP label ("10-244-1-5", "fd00--1") into ip; 0 or -1. */
int	records_dashed_ip(const char *label, struct object_ip *);

#endif
