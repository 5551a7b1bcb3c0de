/* object.h -- slim C structs for the Kubernetes kinds petdns serves; no JSON past decode.c. */
#ifndef PETDNS_OBJECT_H
#define PETDNS_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum object_kind {
	OBJECT_NAMESPACE,
	OBJECT_SERVICE,
	OBJECT_ENDPOINTSLICE,
	OBJECT_POD,
	OBJECT_PETSET,		/* petdns.io PetSet; in local mode also apps PetSet and StatefulSet */
	OBJECT_PVC,		/* PersistentVolumeClaim */
	OBJECT_NKINDS
};

/* An IPv4 or IPv6 address in network byte order. */
struct object_ip {
	uint8_t	family;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];
};

struct object_label {
	char	*key;
	char	*value;
};

struct object_port {
	char	*name;		/* NULL when unnamed */
	uint16_t port;		/* port, or containerPort for pods */
	uint8_t	proto;		/* IPPROTO_TCP (default), IPPROTO_UDP or IPPROTO_SCTP */
	uint16_t target_port;	/* services: numeric targetPort, 0 when absent or named */
	char	*target_name;	/* services: named targetPort, else NULL */
};

enum object_service_type {
	SERVICE_CLUSTERIP,	/* also NodePort and LoadBalancer */
	SERVICE_HEADLESS,	/* clusterIP: None */
	SERVICE_EXTERNALNAME
};

struct object_service {
	enum object_service_type type;
	struct object_ip *ips;		/* spec.clusterIPs (or clusterIP) */
	size_t	nips;
	char	*external_name;		/* ExternalName only, without trailing dot */
	struct object_port *ports;	/* spec.ports: name, protocol, port */
	size_t	nports;
	struct object_label *selector;	/* spec.selector; NULL when none */
	size_t	nselector;
	bool	has_selector;
	bool	publish_not_ready;	/* spec.publishNotReadyAddresses */
	uint8_t	families[2];		/* spec.ipFamilies (AF_INET/AF_INET6), else from the IPs */
	size_t	nfamilies;
	bool	dual_stack;		/* ipFamilyPolicy PreferDualStack or RequireDualStack */
};

/* What few endpoints have: more than one address, a pod name kept. */
struct object_endpoint_rest {
	char		*pod_name;	/* targetRef.name when targetRef.kind is Pod */
	struct object_ip more[];	/* addresses[1..naddrs - 1] */
};

/*
 * 40 bytes: the first address is kept inline (the EndpointSlice controller
 * writes exactly one), the rest apart and only when there is some (pod
 * names are dropped unless read: object_drop_pod_names). Read them with
 * object_endpoint_addr and object_endpoint_pod_name.
 */
struct object_endpoint {
	struct object_ip first;		/* addresses[0], when naddrs > 0 */
	bool	ready;			/* conditions.ready; absent means ready */
	uint16_t naddrs;
	char	*hostname;		/* NULL when absent */
	struct object_endpoint_rest *rest;	/* NULL when no pod name and one address */
};

struct object_slice {
	char	*service;		/* label kubernetes.io/service-name */
	uint8_t	family;			/* addressType: AF_INET, AF_INET6, 0 for FQDN */
	struct object_endpoint *endpoints;
	size_t	nendpoints;
	struct object_port *ports;	/* endpoint ports (name, protocol, port) */
	size_t	nports;
};

enum object_pod_phase {
	POD_PENDING,
	POD_RUNNING,
	POD_SUCCEEDED,
	POD_FAILED,
	POD_UNKNOWN
};

/* A pod condition's status. */
enum object_cond {
	OBJECT_COND_NONE,	/* not reported */
	OBJECT_COND_TRUE,
	OBJECT_COND_FALSE,
	OBJECT_COND_UNKNOWN
};

struct object_pod {
	char	*hostname;		/* spec.hostname; NULL when absent */
	char	*subdomain;		/* spec.subdomain; NULL when absent */
	struct object_ip *ips;		/* status.podIPs (or podIP) */
	size_t	nips;
	struct object_port *ports;	/* containers[].ports: name, containerPort, protocol */
	size_t	nports;
	enum object_pod_phase phase;
	bool	has_status;		/* the manifest carried a status */
	bool	ready;			/* condition Ready == True */
	bool	deleting;		/* metadata.deletionTimestamp set */
	uint8_t	ready_cond;		/* enum object_cond of condition Ready */
	int64_t	ready_since;		/* its lastTransitionTime, Unix seconds; 0 unknown */
};

/* Status fields the controller writes, as apps/v1 StatefulSetStatus names them. */
struct object_petset_status {
	int64_t	observed_generation;
	int32_t	replicas;
	int32_t	ready_replicas;
	int32_t	current_replicas;
	int32_t	available_replicas;
};

struct object_petset {
	char	*api_version;		/* where it came from: petdns.io/v1alpha1, apps/v1alpha1, apps/v1 */
	int32_t	replicas;		/* spec.replicas, default 1 */
	int32_t	ordinals_start;		/* spec.ordinals.start, default 0 */
	char	*service_name;		/* spec.serviceName */
	struct object_label *selector;	/* spec.selector.matchLabels, else the template's labels */
	size_t	nselector;
	char	*pod_template;		/* spec.template as JSON text, for creating pets */
	char	*claim_templates;	/* spec.volumeClaimTemplates as JSON text, or NULL */
	char	**claim_names;		/* their metadata.name, in order */
	size_t	nclaims;
	int64_t	generation;		/* metadata.generation */
	struct object_petset_status status;
	bool	deleting;
};

struct object_pvc {
	bool	deleting;
};

/* One object of any kind; ns is NULL for cluster-scoped kinds. */
struct object {
	enum object_kind kind;
	char	*ns;
	char	*name;
	struct object_label *labels;
	size_t	nlabels;
	struct object_label *annotations;
	size_t	nannotations;
	char	*resource_version;	/* NULL when unknown */
	char	*uid;			/* metadata.uid, NULL when unknown */
	/* The ownerReference with controller: true, if any. */
	char	*controller_kind;
	char	*controller_name;
	char	*controller_uid;
	union {
		struct object_service	svc;
		struct object_slice	slice;
		struct object_pod	pod;
		struct object_petset	petset;
		struct object_pvc	pvc;
	} u;
};

/* Address i (< e->naddrs) of an endpoint. */
const struct object_ip *object_endpoint_addr(const struct object_endpoint *e,
	    size_t i);
/* Sets an endpoint's n addresses (copied); false when n is over UINT16_MAX. */
bool	object_endpoint_set_addrs(struct object_endpoint *,
	    const struct object_ip *, size_t n);
/* The endpoint's pod name, or NULL. */
const char *object_endpoint_pod_name(const struct object_endpoint *);
/* Sets the endpoint's pod name (owned from now on; NULL drops it). */
void	object_endpoint_set_pod_name(struct object_endpoint *, char *);
/*
 * A zeroed object of kind with copies of ns (may be NULL) and name. It has
 * room for its kind's member of u only: never copy one by value.
 */
struct object *object_new(enum object_kind, const char *ns, const char *name);
/* Frees obj and everything it owns; NULL is a no-op. */
void	object_free(struct object *);
/*
 * Drops what petdns never reads, for memory (real services often carry a
 * whole last-applied configuration as an annotation): annotations other
 * than the few it reads, uid, controller and resource version of Services
 * and EndpointSlices, and the labels of EndpointSlices (their service is
 * object_slice.service).
 */
void	object_slim(struct object *);
/*
 * Drops an EndpointSlice's endpoints' pod names (targetRef.name): only
 * endpoint_pod_names and explain read them (memory: ~35 bytes an endpoint).
 */
void	object_drop_pod_names(struct object *);
/* A deep copy. */
struct object *object_dup(const struct object *);
/* True when both describe the same state (resource_version ignored). */
bool	object_equal(const struct object *, const struct object *);
/* "Service", "EndpointSlice", ...; the kind's name as the API spells it. */
const char *object_kind_name(enum object_kind);
/* The value of label key, or NULL. */
const char *object_label(const struct object *, const char *key);
/* The value of annotation key, or NULL. */
const char *object_annotation(const struct object *, const char *key);
/* True when every selector pair is among the labels (an empty selector matches nothing). */
bool	object_selector_matches(const struct object_label *sel, size_t nsel,
	    const struct object_label *labels, size_t nlabels);
/* Parses a textual IPv4/IPv6 address. Returns 0 or -1. */
int	object_ip_parse(const char *, struct object_ip *);
/* Formats into buf (at least 46 bytes); returns buf. */
char	*object_ip_format(const struct object_ip *, char *buf, size_t len);
bool	object_ip_equal(const struct object_ip *, const struct object_ip *);

#endif
