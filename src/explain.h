/* explain.h -- why a name resolves the way it does: its records and their objects, or the nearest cause. */
#ifndef PETDNS_EXPLAIN_H
#define PETDNS_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct config_kubernetes;
struct store;
struct zone;

/* The nearest cause; explain_cause_name() spells each for JSON. */
enum explain_cause {
	EXPLAIN_RESOLVES,	/* records, each with the objects behind it */
	EXPLAIN_NODATA,		/* the name exists, without that type */
	EXPLAIN_BAD_NAME,	/* not a domain name */
	EXPLAIN_NOT_IN_ZONE,	/* forwarded: not in the block's zones */
	EXPLAIN_SEARCH_PATH,	/* what a pod's search list makes of it */
	EXPLAIN_NO_NAME,	/* no Kubernetes name has this shape */
	EXPLAIN_NS_MISSING,
	EXPLAIN_NS_FILTERED,	/* namespaces, namespace_labels */
	EXPLAIN_SVC_MISSING,
	EXPLAIN_SVC_FILTERED,	/* labels */
	EXPLAIN_NOT_HEADLESS,
	EXPLAIN_NO_ENDPOINTS,	/* none; noendpoints; empty_service */
	EXPLAIN_NOT_READY,	/* the pod behind the name is not Ready */
	EXPLAIN_SUBDOMAIN,	/* spec.subdomain is not the service's name */
	EXPLAIN_NO_HOSTNAME,
	EXPLAIN_NOT_SELECTED,	/* the service's selector misses the pod */
	EXPLAIN_PETSET_REPLICAS,
	EXPLAIN_PETSET_WAITING,	/* the controller waits on a lower pet */
	EXPLAIN_NO_ENDPOINT,	/* the service has no endpoint so named */
	EXPLAIN_NO_PORT,
	EXPLAIN_PODS_DISABLED,
	EXPLAIN_POD_UNKNOWN	/* pods verified: no pod has the address */
};

/*
 * rr: "A 10.244.0.4", with the owner first when it is not the name asked.
 * from: "EndpointSlice default/nginx-x endpoint hostname web-0 <- Pod
 * default/web-0".
 */
struct explain_record {
	char	*rr;
	char	*from;
};

/* An explanation; every string is owned by it. */
struct explain {
	char	*name;		/* absolute, presentation format */
	uint16_t type;
	int	 rcode;		/* LDNS_RCODE_*; -1: forwarded */
	enum explain_cause cause;
	struct explain_record *records;
	size_t	 nrecords;
	char	**lines;	/* the explanation, nearest cause first */
	size_t	 nlines;
};

/* What an explanation reads, all borrowed; the caller holds zone_read_lock. */
struct explain_view {
	const struct config_kubernetes *cfg;
	const struct store	*store;
	const struct zone	*zone;
	bool			 synced;	/* all sources listed */
};

/*
 * Explains name (presentation format; relative names go through a pod's
 * search list) asked with type. Pure: reads the view only. Never NULL.
 */
struct explain *explain_name(const struct explain_view *, const char *name,
	    uint16_t type);
void	explain_free(struct explain *);
/*
 * The type named by text ("A", "srv", "TYPE33"); NULL or "" picks by the
 * name's shape: SRV for "_port._proto..." names, PTR for reverse ones, else
 * A. Returns 0, or -1 for an unknown type.
 */
int	explain_type(const char *text, const char *name, uint16_t *type);
/* "resolves", "namespace-missing", ...; stable, for scripts. */
const char *explain_cause_name(enum explain_cause);
/* The explanation as lines of plain text, each ending in "\n"; a new string. */
char	*explain_text(const struct explain *);
/* The explanation as a JSON object (json-c); a new string. */
char	*explain_json(const struct explain *);
/* The name below a leading "_explain" label of qname (wire), else NULL. */
const uint8_t *explain_txt_target(const uint8_t *qname);
/*
 * Adds the text's lines to resp's answer as TXT records of owner (wire),
 * TTL 0, each line cut into character-strings of at most 255 bytes; past
 * EXPLAIN_TXT_MAX bytes a last line says where to read the rest.
 */
void	explain_txt(const struct explain *, const uint8_t *owner,
	    ldns_pkt *resp);

#define EXPLAIN_TXT_MAX	4000

#endif
