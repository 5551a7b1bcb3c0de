/* decode.c -- API JSON (a jdoc) to the slim structs of object.h: strict on what DNS uses, lenient on the rest. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "decode.h"
#include "jdoc.h"
#include "object.h"
#include "xmalloc.h"

/* Room for our deepest path: spec.containers[N].ports[N].containerPort. */
#define DECODE_PATHMAX	128

/*
 * Where a value sits in the object, for errors: a frame on the stack chained
 * to its parent's, NULL at the top. The path is rendered only when an error
 * is reported (eager path strings were ~6% of the CPU of an endpoint
 * change). A member is { up, key, 0 }, an array item { up, NULL, index }.
 */
struct decode_at {
	const struct decode_at	*up;
	const char		*key;	/* NULL: item index of the array up */
	size_t			 index;
};

/* Where errors go while one object is decoded. */
struct decode_ctx {
	char	*err;
	size_t	 errlen;
};

/* The port lists decode_ports reads differ in key and in what is required. */
enum decode_ports_kind {
	DECODE_PORTS_SERVICE,	/* port required, targetPort */
	DECODE_PORTS_SLICE,	/* port optional: absent means all ports */
	DECODE_PORTS_CONTAINER	/* containerPort required */
};

struct decode_kind {
	const char	*name;
	enum object_kind kind;
	const char	*versions[3];	/* the apiVersions we understand */
};

static const struct decode_kind decode_kinds[] = {
	{ "Namespace", OBJECT_NAMESPACE, { "v1" } },
	{ "Service", OBJECT_SERVICE, { "v1" } },
	{ "Pod", OBJECT_POD, { "v1" } },
	{ "EndpointSlice", OBJECT_ENDPOINTSLICE,
	    { "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1" } },
	/* The original PetSet, ours, and StatefulSet: one shape (DESIGN 5). */
	{ "PetSet", OBJECT_PETSET, { "petdns.io/v1alpha1", "apps/v1alpha1" } },
	{ "StatefulSet", OBJECT_PETSET, { "apps/v1" } },
	{ "PersistentVolumeClaim", OBJECT_PVC, { "v1" } },
};

/* Cluster-scoped kinds: decode_ident gives them no namespace. */
static const char *const decode_cluster_kinds[] = {
	"Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole",
	"ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
	"IngressClass", "RuntimeClass", "CSIDriver", "APIService",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
};

static int decode_fail(struct decode_ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
decode_fail(struct decode_ctx *dc, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(dc->err, dc->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* For "not an integer": indexed by jdoc_type. */
static const char *const decode_type_names[] = {
	[JDOC_NULL] = "null", [JDOC_BOOL] = "a boolean",
	[JDOC_DOUBLE] = "a number", [JDOC_INT] = "an integer",
	[JDOC_OBJECT] = "an object", [JDOC_ARRAY] = "an array",
	[JDOC_STRING] = "a string",
};

/* Member key of obj; NULL when absent or null, which the API treats alike. */
static const struct jdoc_val *
decode_member(const struct jdoc_val *obj, const char *key)
{
	const struct jdoc_val	*v = jdoc_get(obj, key);

	return v != NULL && v->type != JDOC_NULL ? v : NULL;
}

/*
 * Renders the path of at, "spec.ports[1].port" (top-level members have no
 * dot), into buf, cut to fit len. Only errors need it: paths are chained
 * frames, not text, so decoding an item costs no string work.
 */
static char *
decode_at_path(const struct decode_at *at, char *buf, size_t len)
{
	size_t	n;

	buf[0] = '\0';
	if (at == NULL)
		return buf;
	decode_at_path(at->up, buf, len);
	n = strlen(buf);
	if (at->key == NULL)
		snprintf(buf + n, len - n, "[%zu]", at->index);
	else
		snprintf(buf + n, len - n, "%s%s", at->up != NULL ? "." : "",
		    at->key);
	return buf;
}

/*
 * Sets *out to the member key of obj (borrowed), or NULL when it is absent or
 * null, which the API treats alike; at is obj's path. -1 when it has another
 * type.
 */
static int
decode_get(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, enum jdoc_type type,
    const struct jdoc_val **out)
{
	const struct decode_at	 kat = { at, key, 0 };
	char			 path[DECODE_PATHMAX];

	if ((*out = decode_member(obj, key)) == NULL || (*out)->type == type)
		return 0;
	return decode_fail(dc, "%s: not %s",
	    decode_at_path(&kat, path, sizeof(path)), decode_type_names[type]);
}

/* A string member, borrowed; NULL when absent, null or empty. */
static int
decode_str(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, const char **out)
{
	const struct jdoc_val	*v;

	*out = NULL;
	if (decode_get(dc, obj, at, key, JDOC_STRING, &v) == -1)
		return -1;
	if (v != NULL && v->n > 0)
		*out = v->u.s;
	return 0;
}

static int
decode_strdup(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, char **out)
{
	const char	*s;

	if (decode_str(dc, obj, at, key, &s) == -1)
		return -1;
	*out = s ? xstrdup(s) : NULL;
	return 0;
}

/* A boolean member; def when absent or null. */
static int
decode_bool(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, bool def, bool *out)
{
	const struct jdoc_val	*v;

	if (decode_get(dc, obj, at, key, JDOC_BOOL, &v) == -1)
		return -1;
	*out = v ? v->u.b : def;
	return 0;
}

/* A port number 1..65535; 0 when absent unless required. */
static int
decode_port_number(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, bool required,
    uint16_t *out)
{
	const struct decode_at	 kat = { at, key, 0 };
	const struct jdoc_val	*v;
	char			 path[DECODE_PATHMAX];
	int64_t			 n;

	*out = 0;
	if (decode_get(dc, obj, at, key, JDOC_INT, &v) == -1)
		return -1;
	if (v == NULL)
		return required ? decode_fail(dc, "%s: missing",
		    decode_at_path(&kat, path, sizeof(path))) : 0;
	n = v->u.i;
	if (n < 1 || n > 65535)
		return decode_fail(dc, "%s: %lld out of range 1-65535",
		    decode_at_path(&kat, path, sizeof(path)), (long long)n);
	*out = (uint16_t)n;
	return 0;
}

static int
decode_protocol(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, uint8_t *out)
{
	const char	*s;
	char		 path[DECODE_PATHMAX];

	if (decode_str(dc, obj, at, "protocol", &s) == -1)
		return -1;
	if (s == NULL || strcmp(s, "TCP") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*out = IPPROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*out = IPPROTO_SCTP;
	else
		return decode_fail(dc, "%s.protocol: unknown protocol \"%s\"",
		    decode_at_path(at, path, sizeof(path)), s);
	return 0;
}

/*
 * The array member key and its length; NULL and 0 when absent. Items are
 * walked with jdoc_first()/jdoc_next() (jdoc_at() would make a loop
 * quadratic) and checked one by one with decode_item().
 */
static int
decode_array(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, const struct jdoc_val **arr,
    size_t *n)
{
	if (decode_get(dc, obj, at, key, JDOC_ARRAY, arr) == -1)
		return -1;
	*n = *arr ? (*arr)->n : 0;
	return 0;
}

/* Checks that the array item v, whose path is at, is of type. */
static int
decode_item(struct decode_ctx *dc, const struct jdoc_val *v,
    const struct decode_at *at, enum jdoc_type type)
{
	char	path[DECODE_PATHMAX];

	if (v->type == type)
		return 0;
	return decode_fail(dc, "%s: not %s",
	    decode_at_path(at, path, sizeof(path)), decode_type_names[type]);
}

/* An address of the family wanted (0: either); at is v's path. */
static int
decode_ip(struct decode_ctx *dc, const struct jdoc_val *v,
    const struct decode_at *at, uint8_t family, struct object_ip *ip)
{
	const char	*s;
	char		 path[DECODE_PATHMAX];

	if (v == NULL || v->type != JDOC_STRING)
		return decode_fail(dc, "%s: not a string",
		    decode_at_path(at, path, sizeof(path)));
	s = v->u.s;
	if (object_ip_parse(s, ip) == -1)
		return decode_fail(dc, "%s: bad IP address \"%s\"",
		    decode_at_path(at, path, sizeof(path)), s);
	if (family != 0 && ip->family != family)
		return decode_fail(dc, "%s: \"%s\" is not an %s address",
		    decode_at_path(at, path, sizeof(path)), s,
		    family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int
decode_label_cmp(const void *a, const void *b)
{
	const struct object_label *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/*
 * An object of strings (labels, annotations, a selector), sorted by key so
 * that object_equal() does not depend on the order the JSON gave.
 */
static int
decode_labels(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, struct object_label **out,
    size_t *n)
{
	const struct decode_at	 mat = { at, key, 0 };
	const struct jdoc_val	*map, *v;
	char			 path[DECODE_PATHMAX];

	if (decode_get(dc, obj, at, key, JDOC_OBJECT, &map) == -1)
		return -1;
	if (map == NULL || map->n == 0)
		return 0;
	*out = xcalloc(map->n, sizeof(**out));
	for (v = jdoc_first(map); v != NULL; v = jdoc_next(map, v)) {
		/* Of equal keys the last counts, as everywhere in the API. */
		if (jdoc_get(map, v->key) != v)
			continue;
		/* The key is no frame: keys can outgrow DECODE_PATHMAX. */
		if (v->type != JDOC_STRING)
			return decode_fail(dc, "%s.%s: not a string",
			    decode_at_path(&mat, path, sizeof(path)), v->key);
		(*out)[*n].key = xstrdup(v->key);
		(*out)[*n].value = xstrdup(v->u.s);
		(*n)++;
	}
	qsort(*out, *n, sizeof(**out), decode_label_cmp);
	return 0;
}

/* RFC 1123 label (RFC 1035 when alpha_first): what a DNS name part needs. */
static bool
decode_dns_label(const char *s, size_t len, bool alpha_first)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	if (alpha_first && !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool
decode_dns_subdomain(const char *s)
{
	const char	*dot;

	if (strlen(s) > 253)
		return false;
	for (;; s = dot + 1) {
		dot = strchr(s, '.');
		if (!decode_dns_label(s, dot ? (size_t)(dot - s) : strlen(s),
		    false))
			return false;
		if (dot == NULL)
			return true;
	}
}

/* A name that becomes part of DNS names: checked as the API server would. */
static int
decode_dns_name(struct decode_ctx *dc, const struct decode_at *at,
    const char *s, bool subdomain, bool alpha_first)
{
	char	path[DECODE_PATHMAX];

	if (subdomain ? decode_dns_subdomain(s) :
	    decode_dns_label(s, strlen(s), alpha_first))
		return 0;
	return decode_fail(dc, "%s: \"%s\" is not a valid DNS %s",
	    decode_at_path(at, path, sizeof(path)), s,
	    subdomain ? "subdomain" : "label");
}

/* A string member that becomes a DNS label: a hostname, a subdomain. */
static int
decode_label_str(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, char **out)
{
	const struct decode_at	kat = { at, key, 0 };

	if (decode_strdup(dc, obj, at, key, out) == -1)
		return -1;
	if (*out == NULL)
		return 0;
	return decode_dns_name(dc, &kat, *out, false, false);
}

/*
 * A service or container port: name, protocol and the number under numkey.
 * *skip is set (slices) when the number is absent: "all ports".
 */
static int
decode_port(struct decode_ctx *dc, const struct jdoc_val *item,
    const struct decode_at *at, const char *numkey, bool required,
    struct object_port *p, bool *skip)
{
	uint16_t	num;
	char		path[DECODE_PATHMAX];

	if (decode_port_number(dc, item, at, numkey, required, &num) == -1)
		return -1;
	*skip = num == 0;
	if (*skip)
		return 0;
	p->port = num;
	if (decode_protocol(dc, item, at, &p->proto) == -1 ||
	    decode_strdup(dc, item, at, "name", &p->name) == -1)
		return -1;
	/* The SRV label _name: an IANA service name, as the API checks it. */
	if (p->name == NULL || (strlen(p->name) <= 15 &&
	    decode_dns_label(p->name, strlen(p->name), false) &&
	    strpbrk(p->name, "abcdefghijklmnopqrstuvwxyz") != NULL &&
	    strstr(p->name, "--") == NULL))
		return 0;
	return decode_fail(dc, "%s.name: \"%s\" is not a valid port name",
	    decode_at_path(at, path, sizeof(path)), p->name);
}

static int
decode_target_port(struct decode_ctx *dc, const struct jdoc_val *item,
    const struct decode_at *at, struct object_port *p)
{
	const struct decode_at	 tat = { at, "targetPort", 0 };
	const struct jdoc_val	*v;
	char			 path[DECODE_PATHMAX];

	if ((v = decode_member(item, "targetPort")) == NULL)
		return 0;
	if (v->type == JDOC_STRING) {
		if (v->n > 0)
			p->target_name = xstrdup(v->u.s);
		return 0;
	}
	if (v->type != JDOC_INT)
		return decode_fail(dc, "%s: not an integer or a string",
		    decode_at_path(&tat, path, sizeof(path)));
	return decode_port_number(dc, item, at, "targetPort", false,
	    &p->target_port);
}

/* The port list key of obj, appended to the n ports at *ports. */
static int
decode_ports(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, enum decode_ports_kind kind,
    struct object_port **ports, size_t *n)
{
	const struct decode_at	 aat = { at, key, 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *item;
	size_t			 len;
	bool			 skip;

	if (decode_array(dc, obj, at, key, &arr, &len) == -1)
		return -1;
	if (len == 0)
		return 0;
	*ports = xreallocarray(*ports, *n + len, sizeof(**ports));
	memset(*ports + *n, 0, len * sizeof(**ports));
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1)
			return -1;
		/* Counted before it is filled: object_free() frees it. */
		(*n)++;
		if (decode_port(dc, item, &iat,
		    kind == DECODE_PORTS_CONTAINER ? "containerPort" : "port",
		    kind != DECODE_PORTS_SLICE, &(*ports)[*n - 1], &skip) == -1)
			return -1;
		if (skip) {
			(*n)--;
			continue;
		}
		if (kind == DECODE_PORTS_SERVICE &&
		    decode_target_port(dc, item, &iat, &(*ports)[*n - 1]) == -1)
			return -1;
	}
	return 0;
}

/* The ownerReference that is the object's controller, if any. */
static int
decode_controller(struct decode_ctx *dc, const struct jdoc_val *meta,
    struct object *obj)
{
	const struct decode_at	 mat = { NULL, "metadata", 0 };
	const struct decode_at	 aat = { &mat, "ownerReferences", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *item;
	size_t			 n;
	bool			 controller, found = false;

	if (decode_array(dc, meta, &mat, "ownerReferences", &arr, &n) == -1)
		return -1;
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1 ||
		    decode_bool(dc, item, &iat, "controller", false,
		    &controller) == -1)
			return -1;
		/* The first controller only (one without a uid counts too). */
		if (!controller || found)
			continue;
		found = true;
		if (decode_strdup(dc, item, &iat, "kind",
		    &obj->controller_kind) == -1 ||
		    decode_strdup(dc, item, &iat, "name",
		    &obj->controller_name) == -1 ||
		    decode_strdup(dc, item, &iat, "uid",
		    &obj->controller_uid) == -1)
			return -1;
	}
	return 0;
}

static int
decode_metadata(struct decode_ctx *dc, const struct jdoc_val *meta,
    struct object *obj)
{
	const struct decode_at	mat = { NULL, "metadata", 0 };

	if (decode_labels(dc, meta, &mat, "labels", &obj->labels,
	    &obj->nlabels) == -1 ||
	    decode_labels(dc, meta, &mat, "annotations",
	    &obj->annotations, &obj->nannotations) == -1 ||
	    decode_strdup(dc, meta, &mat, "uid", &obj->uid) == -1 ||
	    decode_controller(dc, meta, obj) == -1)
		return -1;
	return decode_strdup(dc, meta, &mat, "resourceVersion",
	    &obj->resource_version);
}

/* An integer member in [min, max]; def when absent or null. */
static int
decode_int(struct decode_ctx *dc, const struct jdoc_val *obj,
    const struct decode_at *at, const char *key, int64_t min, int64_t max,
    int64_t def, int64_t *out)
{
	const struct decode_at	 kat = { at, key, 0 };
	const struct jdoc_val	*v;
	char			 path[DECODE_PATHMAX];

	if (decode_get(dc, obj, at, key, JDOC_INT, &v) == -1)
		return -1;
	*out = v ? v->u.i : def;
	if (*out >= min && *out <= max)
		return 0;
	return decode_fail(dc, "%s: %lld is out of range",
	    decode_at_path(&kat, path, sizeof(path)), (long long)*out);
}

/*
 * Service IPs: spec.clusterIPs, else spec.clusterIP (older objects). "None"
 * makes the service headless; no IP at all is a service still waiting for
 * one (the local simulation allocates it).
 */
static int
decode_service_ips(struct decode_ctx *dc, const struct jdoc_val *spec,
    struct object_service *svc)
{
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 oat = { &sat, "clusterIP", 0 };
	const struct decode_at	 aat = { &sat, "clusterIPs", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *one, *first, *v;
	size_t			 len;

	if (decode_array(dc, spec, &sat, "clusterIPs", &arr, &len) == -1 ||
	    decode_get(dc, spec, &sat, "clusterIP", JDOC_STRING, &one) == -1)
		return -1;
	if (len > 2)
		return decode_fail(dc,
		    "spec.clusterIPs: more than two addresses");
	first = len > 0 ? jdoc_first(arr) : one;
	if (first != NULL && first->type == JDOC_STRING &&
	    strcmp(first->u.s, "None") == 0) {
		svc->type = SERVICE_HEADLESS;
		return 0;
	}
	if (len == 0) {
		if (one == NULL || one->n == 0)
			return 0;
		svc->ips = xcalloc(1, sizeof(*svc->ips));
		svc->nips = 1;
		return decode_ip(dc, one, &oat, 0, svc->ips);
	}
	svc->ips = xcalloc(len, sizeof(*svc->ips));
	for (v = jdoc_first(arr); v != NULL;
	    v = jdoc_next(arr, v), iat.index++) {
		if (decode_ip(dc, v, &iat, 0, &svc->ips[svc->nips]) == -1)
			return -1;
		svc->nips++;
	}
	return 0;
}

/* spec.ipFamilies, or the families of the IPs; and the dual-stack policy. */
static int
decode_service_families(struct decode_ctx *dc, const struct jdoc_val *spec,
    struct object_service *svc)
{
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 aat = { &sat, "ipFamilies", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *v;
	const char		*s;
	char			 path[DECODE_PATHMAX];
	size_t			 len;

	if (decode_array(dc, spec, &sat, "ipFamilies", &arr, &len) == -1)
		return -1;
	if (len > 2)
		return decode_fail(dc,
		    "spec.ipFamilies: more than two families");
	for (v = jdoc_first(arr); v != NULL;
	    v = jdoc_next(arr, v), iat.index++) {
		if (decode_item(dc, v, &iat, JDOC_STRING) == -1)
			return -1;
		s = v->u.s;
		if (strcmp(s, "IPv4") == 0)
			svc->families[svc->nfamilies++] = AF_INET;
		else if (strcmp(s, "IPv6") == 0)
			svc->families[svc->nfamilies++] = AF_INET6;
		else
			return decode_fail(dc, "%s: unknown family \"%s\"",
			    decode_at_path(&iat, path, sizeof(path)), s);
	}
	for (size_t i = 0; len == 0 && i < svc->nips; i++)
		if (svc->nfamilies == 0 ||
		    svc->families[0] != svc->ips[i].family)
			svc->families[svc->nfamilies++] = svc->ips[i].family;
	if (decode_str(dc, spec, &sat, "ipFamilyPolicy", &s) == -1)
		return -1;
	svc->dual_stack = s != NULL && (strcmp(s, "PreferDualStack") == 0 ||
	    strcmp(s, "RequireDualStack") == 0);
	return 0;
}

/* spec.type and what it implies: the CNAME target or the cluster IPs. */
static int
decode_service_type(struct decode_ctx *dc, const struct jdoc_val *spec,
    struct object_service *svc)
{
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 nat = { &sat, "externalName", 0 };
	const char		*type, *name;
	size_t			 len;

	if (decode_str(dc, spec, &sat, "type", &type) == -1)
		return -1;
	if (type != NULL && strcmp(type, "ExternalName") == 0) {
		svc->type = SERVICE_EXTERNALNAME;
		if (decode_str(dc, spec, &sat, "externalName", &name) == -1)
			return -1;
		if (name == NULL)
			return decode_fail(dc, "spec.externalName: missing");
		len = strlen(name);
		if (len > 1 && name[len - 1] == '.')
			len--;
		svc->external_name = xstrndup(name, len);
		return decode_dns_name(dc, &nat, svc->external_name, true,
		    false);
	}
	if (type != NULL && strcmp(type, "ClusterIP") != 0 &&
	    strcmp(type, "NodePort") != 0 && strcmp(type, "LoadBalancer") != 0)
		return decode_fail(dc, "spec.type: unknown type \"%s\"", type);
	svc->type = SERVICE_CLUSTERIP;
	if (decode_service_ips(dc, spec, svc) == -1)
		return -1;
	return decode_service_families(dc, spec, svc);
}

static int
decode_service(struct decode_ctx *dc, const struct jdoc_val *root,
    struct object *obj)
{
	const struct decode_at	 mat = { NULL, "metadata", 0 };
	const struct decode_at	 nat = { &mat, "name", 0 };
	const struct decode_at	 sat = { NULL, "spec", 0 };
	struct object_service	*svc = &obj->u.svc;
	const struct jdoc_val	*spec;

	if (decode_dns_name(dc, &nat, obj->name, false, true) == -1)
		return -1;
	if (decode_get(dc, root, NULL, "spec", JDOC_OBJECT, &spec) == -1)
		return -1;
	if (spec == NULL)
		return decode_fail(dc, "spec: missing");
	if (decode_service_type(dc, spec, svc) == -1 ||
	    decode_ports(dc, spec, &sat, "ports", DECODE_PORTS_SERVICE,
	    &svc->ports, &svc->nports) == -1 ||
	    decode_labels(dc, spec, &sat, "selector", &svc->selector,
	    &svc->nselector) == -1)
		return -1;
	svc->has_selector = svc->nselector > 0;
	return decode_bool(dc, spec, &sat, "publishNotReadyAddresses", false,
	    &svc->publish_not_ready);
}

/* endpoints[i].addresses, all of the slice's family. */
static int
decode_endpoint_addrs(struct decode_ctx *dc, const struct jdoc_val *item,
    const struct decode_at *at, uint8_t family, struct object_endpoint *e)
{
	const struct decode_at	 aat = { at, "addresses", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *v;
	struct object_ip	 one, *ips;
	char			 path[DECODE_PATHMAX];
	size_t			 len;
	int			 rc = 0;

	if (decode_array(dc, item, at, "addresses", &arr, &len) == -1)
		return -1;
	if (arr == NULL)
		return decode_fail(dc, "%s: missing",
		    decode_at_path(&aat, path, sizeof(path)));
	if (len > UINT16_MAX)
		return decode_fail(dc, "%s: %zu addresses",
		    decode_at_path(&aat, path, sizeof(path)), len);
	ips = len > 1 ? xreallocarray(NULL, len, sizeof(*ips)) : &one;
	for (v = jdoc_first(arr); v != NULL && rc == 0;
	    v = jdoc_next(arr, v), iat.index++)
		rc = decode_ip(dc, v, &iat, family, &ips[iat.index]);
	if (rc == 0)
		object_endpoint_set_addrs(e, ips, len);
	if (ips != &one)
		free(ips);
	return rc;
}

static int
decode_endpoint(struct decode_ctx *dc, const struct jdoc_val *item,
    const struct decode_at *at, uint8_t family, struct object_endpoint *e)
{
	const struct decode_at	 cat = { at, "conditions", 0 };
	const struct decode_at	 rat = { at, "targetRef", 0 };
	const struct jdoc_val	*cond, *ref;
	const char		*kind;

	if (decode_endpoint_addrs(dc, item, at, family, e) == -1 ||
	    decode_get(dc, item, at, "conditions", JDOC_OBJECT,
	    &cond) == -1 ||
	    decode_get(dc, item, at, "targetRef", JDOC_OBJECT,
	    &ref) == -1 ||
	    decode_label_str(dc, item, at, "hostname", &e->hostname) == -1)
		return -1;
	e->ready = true;
	if (cond != NULL &&
	    decode_bool(dc, cond, &cat, "ready", true, &e->ready) == -1)
		return -1;
	if (ref == NULL)
		return 0;
	if (decode_str(dc, ref, &rat, "kind", &kind) == -1)
		return -1;
	if (kind != NULL && strcmp(kind, "Pod") == 0) {
		char	*name = NULL;

		if (decode_strdup(dc, ref, &rat, "name", &name) == -1)
			return -1;
		object_endpoint_set_pod_name(e, name);
	}
	return 0;
}

static int
decode_address_type(struct decode_ctx *dc, const struct jdoc_val *root,
    uint8_t *family)
{
	const char	*s;

	if (decode_str(dc, root, NULL, "addressType", &s) == -1)
		return -1;
	if (s == NULL)
		return decode_fail(dc, "addressType: missing");
	if (strcmp(s, "IPv4") == 0)
		*family = AF_INET;
	else if (strcmp(s, "IPv6") == 0)
		*family = AF_INET6;
	else if (strcmp(s, "FQDN") == 0)
		*family = 0;
	else
		return decode_fail(dc, "addressType: unknown type \"%s\"", s);
	return 0;
}

static int
decode_slice(struct decode_ctx *dc, const struct jdoc_val *root,
    struct object *obj)
{
	const struct decode_at	 aat = { NULL, "endpoints", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	struct object_slice	*sl = &obj->u.slice;
	const struct jdoc_val	*arr, *item;
	const char		*svc;
	size_t			 len;

	if ((svc = object_label(obj, "kubernetes.io/service-name")) != NULL)
		sl->service = xstrdup(svc);
	if (decode_address_type(dc, root, &sl->family) == -1 ||
	    decode_ports(dc, root, NULL, "ports", DECODE_PORTS_SLICE,
	    &sl->ports, &sl->nports) == -1 ||
	    decode_array(dc, root, NULL, "endpoints", &arr, &len) == -1)
		return -1;
	/* FQDN endpoints hold names, not addresses: nothing DNS can serve. */
	if (sl->family == 0 || len == 0)
		return 0;
	sl->endpoints = xcalloc(len, sizeof(*sl->endpoints));
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1)
			return -1;
		sl->nendpoints++;
		if (decode_endpoint(dc, item, &iat, sl->family,
		    &sl->endpoints[iat.index]) == -1)
			return -1;
	}
	return 0;
}

static int
decode_pod_spec(struct decode_ctx *dc, const struct jdoc_val *spec,
    struct object_pod *pod)
{
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 aat = { &sat, "containers", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *item;
	size_t			 len;

	if (decode_label_str(dc, spec, &sat, "hostname",
	    &pod->hostname) == -1 ||
	    decode_label_str(dc, spec, &sat, "subdomain",
	    &pod->subdomain) == -1 ||
	    decode_array(dc, spec, &sat, "containers", &arr, &len) == -1)
		return -1;
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++)
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1 ||
		    decode_ports(dc, item, &iat, "ports",
		    DECODE_PORTS_CONTAINER, &pod->ports, &pod->nports) == -1)
			return -1;
	return 0;
}

static int
decode_pod_phase(struct decode_ctx *dc, const struct jdoc_val *status,
    struct object_pod *pod)
{
	static const char *const phases[] = {
		[POD_PENDING] = "Pending", [POD_RUNNING] = "Running",
		[POD_SUCCEEDED] = "Succeeded", [POD_FAILED] = "Failed",
		[POD_UNKNOWN] = "Unknown",
	};
	const struct decode_at	 sat = { NULL, "status", 0 };
	const char		*s;

	if (decode_str(dc, status, &sat, "phase", &s) == -1)
		return -1;
	pod->has_status = s != NULL;
	pod->phase = POD_PENDING;
	if (s == NULL)
		return 0;
	/* A phase from a newer API is not one DNS can trust. */
	pod->phase = POD_UNKNOWN;
	for (size_t i = 0; i < sizeof(phases) / sizeof(*phases); i++)
		if (strcmp(s, phases[i]) == 0)
			pod->phase = (enum object_pod_phase)i;
	return 0;
}

/* status.podIPs[].ip, else status.podIP (older kubelets). */
static int
decode_pod_ips(struct decode_ctx *dc, const struct jdoc_val *status,
    struct object_pod *pod)
{
	const struct decode_at	 sat = { NULL, "status", 0 };
	const struct decode_at	 oat = { &sat, "podIP", 0 };
	const struct decode_at	 aat = { &sat, "podIPs", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct decode_at	 ipat = { &iat, "ip", 0 };
	const struct jdoc_val	*arr, *item, *v;
	size_t			 len;

	if (decode_array(dc, status, &sat, "podIPs", &arr, &len) == -1 ||
	    decode_get(dc, status, &sat, "podIP", JDOC_STRING, &v) == -1)
		return -1;
	if (len == 0 && v != NULL && v->n > 0) {
		pod->ips = xcalloc(1, sizeof(*pod->ips));
		pod->nips = 1;
		return decode_ip(dc, v, &oat, 0, pod->ips);
	}
	pod->ips = len ? xcalloc(len, sizeof(*pod->ips)) : NULL;
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1 ||
		    decode_ip(dc, decode_member(item, "ip"), &ipat, 0,
		    &pod->ips[iat.index]) == -1)
			return -1;
		pod->nips++;
	}
	return 0;
}

bool
decode_rfc3339(const char *s, struct timespec *out)
{
	struct tm	 tm = { 0 };
	const char	*p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	char		 sign;
	int		 hh, mm;
	int64_t		 off = 0;
	long		 ns = 0, scale = 100000000;

	if (p == NULL)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ns += (*p - '0') * scale;
	if (strlen(p) == 6 && sscanf(p, "%c%2d:%2d", &sign, &hh, &mm) == 3 &&
	    (sign == '+' || sign == '-'))
		off = (sign == '+' ? 1 : -1) * ((int64_t)hh * 3600 + mm * 60);
	else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0)
		return false;
	out->tv_sec = (time_t)((int64_t)timegm(&tm) - off);
	out->tv_nsec = ns;
	return true;
}

/* RFC 3339 time to Unix seconds. */
static bool
decode_time(const char *s, int64_t *out)
{
	struct timespec	ts;

	if (!decode_rfc3339(s, &ts))
		return false;
	*out = (int64_t)ts.tv_sec;
	return true;
}

/*
 * Ready when the condition of type Ready has status "True"; its status and
 * lastTransitionTime are kept to explain a pod that is not.
 */
static int
decode_pod_ready(struct decode_ctx *dc, const struct jdoc_val *status,
    struct object_pod *pod)
{
	const struct decode_at	 sat = { NULL, "status", 0 };
	const struct decode_at	 aat = { &sat, "conditions", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *item, *v;
	const char		*type, *st;
	size_t			 len;

	if (decode_array(dc, status, &sat, "conditions", &arr, &len) == -1)
		return -1;
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1 ||
		    decode_str(dc, item, &iat, "type", &type) == -1 ||
		    decode_str(dc, item, &iat, "status", &st) == -1)
			return -1;
		if (type == NULL || strcmp(type, "Ready") != 0)
			continue;
		pod->ready = st != NULL && strcmp(st, "True") == 0;
		pod->ready_cond = pod->ready ? OBJECT_COND_TRUE :
		    st != NULL && strcmp(st, "False") == 0 ? OBJECT_COND_FALSE :
		    OBJECT_COND_UNKNOWN;
		/* Only ever shown to people: an odd time is left out, not fatal. */
		pod->ready_since = 0;
		if ((v = decode_member(item, "lastTransitionTime")) != NULL &&
		    v->type == JDOC_STRING &&
		    !decode_time(v->u.s, &pod->ready_since))
			pod->ready_since = 0;
	}
	return 0;
}

static int
decode_pod(struct decode_ctx *dc, const struct jdoc_val *root,
    const struct jdoc_val *meta, struct object *obj)
{
	const struct decode_at	 mat = { NULL, "metadata", 0 };
	const struct decode_at	 nat = { &mat, "name", 0 };
	struct object_pod	*pod = &obj->u.pod;
	const struct jdoc_val	*spec, *status;

	if (decode_dns_name(dc, &nat, obj->name, true, false) == -1 ||
	    decode_get(dc, root, NULL, "spec", JDOC_OBJECT, &spec) == -1 ||
	    decode_get(dc, root, NULL, "status", JDOC_OBJECT, &status) == -1)
		return -1;
	if (spec != NULL && decode_pod_spec(dc, spec, pod) == -1)
		return -1;
	if (status != NULL && (decode_pod_phase(dc, status, pod) == -1 ||
	    decode_pod_ips(dc, status, pod) == -1 ||
	    decode_pod_ready(dc, status, pod) == -1))
		return -1;
	pod->deleting = decode_member(meta, "deletionTimestamp") != NULL;
	return 0;
}

/* A value's JSON text, as the document gave it. */
static char *
decode_json_text(const struct jdoc_val *v)
{
	size_t		 len;
	const char	*text = jdoc_text(v, &len);

	return xstrndup(text, len);
}

/* volumeClaimTemplates: their names, and the whole list kept as JSON. */
static int
decode_claim_templates(struct decode_ctx *dc, const struct jdoc_val *spec,
    struct object_petset *ps)
{
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 aat = { &sat, "volumeClaimTemplates", 0 };
	struct decode_at	 iat = { &aat, NULL, 0 };
	const struct jdoc_val	*arr, *item, *meta;
	char			 path[DECODE_PATHMAX];
	const char		*name;
	size_t			 n;

	if (decode_array(dc, spec, &sat, "volumeClaimTemplates", &arr,
	    &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	ps->claim_templates = decode_json_text(arr);
	ps->claim_names = xcalloc(n, sizeof(*ps->claim_names));
	for (item = jdoc_first(arr); item != NULL;
	    item = jdoc_next(arr, item), iat.index++) {
		if (decode_item(dc, item, &iat, JDOC_OBJECT) == -1 ||
		    decode_get(dc, item, &iat, "metadata", JDOC_OBJECT,
		    &meta) == -1 ||
		    (meta != NULL && decode_str(dc, meta, &iat, "name",
		    &name) == -1))
			return -1;
		if (meta == NULL || name == NULL)
			return decode_fail(dc, "%s.metadata.name: missing",
			    decode_at_path(&iat, path, sizeof(path)));
		if (decode_dns_name(dc, &iat, name, false, false) == -1)
			return -1;
		ps->claim_names[ps->nclaims++] = xstrdup(name);
	}
	return 0;
}

static int
decode_petset_status(struct decode_ctx *dc, const struct jdoc_val *root,
    struct object_petset_status *st)
{
	static const char *const keys[] = { "replicas", "readyReplicas",
	    "currentReplicas", "availableReplicas" };
	int32_t		*fields[] = { &st->replicas, &st->ready_replicas,
			    &st->current_replicas, &st->available_replicas };
	const struct decode_at sat = { NULL, "status", 0 };
	const struct jdoc_val *status;
	int64_t		 v;

	if (decode_get(dc, root, NULL, "status", JDOC_OBJECT, &status) == -1)
		return -1;
	if (status == NULL)
		return 0;
	if (decode_int(dc, status, &sat, "observedGeneration", 0,
	    INT64_MAX, 0, &st->observed_generation) == -1)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (decode_int(dc, status, &sat, keys[i], 0, INT32_MAX, 0,
		    &v) == -1)
			return -1;
		*fields[i] = (int32_t)v;
	}
	return 0;
}

/*
 * A PetSet (or StatefulSet): the spec fields DESIGN 5 names; the pod and
 * claim templates stay JSON text, since pets are made from them verbatim.
 */
static int
decode_petset(struct decode_ctx *dc, const struct jdoc_val *root,
    const struct jdoc_val *meta, struct object *obj)
{
	const struct decode_at	 mat = { NULL, "metadata", 0 };
	const struct decode_at	 sat = { NULL, "spec", 0 };
	const struct decode_at	 oat = { &sat, "ordinals", 0 };
	const struct decode_at	 selat = { &sat, "selector", 0 };
	const struct decode_at	 tat = { &sat, "template", 0 };
	const struct decode_at	 tmat = { &tat, "metadata", 0 };
	struct object_petset	*ps = &obj->u.petset;
	const struct jdoc_val	*spec, *tmpl, *tmeta, *sel, *ord;
	int64_t			 v;

	if (decode_strdup(dc, root, NULL, "apiVersion",
	    &ps->api_version) == -1 ||
	    decode_get(dc, root, NULL, "spec", JDOC_OBJECT, &spec) == -1)
		return -1;
	if (spec == NULL)
		return decode_fail(dc, "spec: missing");
	if (decode_int(dc, spec, &sat, "replicas", 0, INT32_MAX, 1, &v) == -1)
		return -1;
	ps->replicas = (int32_t)v;
	if (decode_get(dc, spec, &sat, "ordinals", JDOC_OBJECT,
	    &ord) == -1 || (ord != NULL && decode_int(dc, ord, &oat,
	    "start", 0, INT32_MAX, 0, &v) == -1))
		return -1;
	ps->ordinals_start = ord != NULL ? (int32_t)v : 0;
	if (decode_label_str(dc, spec, &sat, "serviceName",
	    &ps->service_name) == -1 ||
	    decode_get(dc, spec, &sat, "template", JDOC_OBJECT,
	    &tmpl) == -1)
		return -1;
	if (tmpl == NULL)
		return decode_fail(dc, "spec.template: missing");
	ps->pod_template = decode_json_text(tmpl);
	if (decode_get(dc, spec, &sat, "selector", JDOC_OBJECT,
	    &sel) == -1 || (sel != NULL && decode_labels(dc, sel,
	    &selat, "matchLabels", &ps->selector, &ps->nselector) == -1))
		return -1;
	/* No selector, as in the original PetSet: the template's labels. */
	if (ps->nselector == 0 && (decode_get(dc, tmpl, &tat,
	    "metadata", JDOC_OBJECT, &tmeta) == -1 || (tmeta != NULL &&
	    decode_labels(dc, tmeta, &tmat, "labels",
	    &ps->selector, &ps->nselector) == -1)))
		return -1;
	if (decode_claim_templates(dc, spec, ps) == -1 ||
	    decode_int(dc, meta, &mat, "generation", 0, INT64_MAX, 0,
	    &ps->generation) == -1 ||
	    decode_petset_status(dc, root, &ps->status) == -1)
		return -1;
	ps->deleting = decode_member(meta, "deletionTimestamp") != NULL;
	return 0;
}

/* A non-empty string member of obj, or NULL; for naming, never an error. */
static const char *
decode_peek(const struct jdoc_val *obj, const char *key)
{
	const struct jdoc_val	*v = jdoc_get(obj, key);

	if (v == NULL || v->type != JDOC_STRING || v->n == 0)
		return NULL;
	return v->u.s;
}

/* The kind's name: the JSON's own, else the hint; NULL when neither. */
static const char *
decode_kind_name(const struct jdoc_val *root, const char *hint)
{
	const char	*kind = decode_peek(root, "kind");

	if (kind == NULL && hint != NULL && *hint != '\0')
		kind = hint;
	return kind;
}

/* Our kind of that name and apiVersion; DECODE_UNSUPPORTED when none. */
static enum decode_result
decode_find_kind(struct decode_ctx *dc, const struct jdoc_val *root,
    const char *name, const struct decode_kind **out)
{
	const struct decode_kind *k = NULL;
	const char	*version;

	for (size_t i = 0; i < sizeof(decode_kinds) / sizeof(*decode_kinds);
	    i++)
		if (strcmp(decode_kinds[i].name, name) == 0)
			k = &decode_kinds[i];
	if (k == NULL) {
		decode_fail(dc, "unsupported kind %s", name);
		return DECODE_UNSUPPORTED;
	}
	/* List items carry no apiVersion; a Knative "Service" has another. */
	if (decode_str(dc, root, NULL, "apiVersion", &version) == -1)
		return DECODE_ERROR;
	*out = k;
	if (version == NULL)
		return DECODE_OK;
	for (size_t j = 0; j < 3 && k->versions[j] != NULL; j++)
		if (strcmp(k->versions[j], version) == 0)
			return DECODE_OK;
	decode_fail(dc, "unsupported kind %s (apiVersion %s)", name, version);
	return DECODE_UNSUPPORTED;
}

/* A new object of kind named by metadata, namespace defaulted. */
static struct object *
decode_new(struct decode_ctx *dc, const struct jdoc_val *meta,
    enum object_kind kind)
{
	const struct decode_at	 mat = { NULL, "metadata", 0 };
	const struct decode_at	 nat = { &mat, "name", 0 };
	const struct decode_at	 nsat = { &mat, "namespace", 0 };
	const char		*ns, *name;

	name = ns = NULL;
	if (meta != NULL &&
	    (decode_str(dc, meta, &mat, "name", &name) == -1 ||
	    decode_str(dc, meta, &mat, "namespace", &ns) == -1))
		return NULL;
	if (name == NULL) {
		decode_fail(dc, "metadata.name: missing");
		return NULL;
	}
	if (kind == OBJECT_NAMESPACE)
		ns = NULL;
	else if (ns == NULL)
		ns = "default";
	else if (decode_dns_name(dc, &nsat, ns, false, false) == -1)
		return NULL;
	if (kind == OBJECT_NAMESPACE &&
	    decode_dns_name(dc, &nat, name, false, false) == -1)
		return NULL;
	return object_new(kind, ns, name);
}

static int
decode_kind_body(struct decode_ctx *dc, const struct jdoc_val *root,
    const struct jdoc_val *meta, struct object *obj)
{
	switch (obj->kind) {
	case OBJECT_SERVICE:
		return decode_service(dc, root, obj);
	case OBJECT_ENDPOINTSLICE:
		return decode_slice(dc, root, obj);
	case OBJECT_POD:
		return decode_pod(dc, root, meta, obj);
	case OBJECT_PETSET:
		return decode_petset(dc, root, meta, obj);
	case OBJECT_PVC:
		obj->u.pvc.deleting = decode_member(meta,
		    "deletionTimestamp") != NULL;
		return 0;
	default:
		return 0;
	}
}

enum decode_result
decode_object(const struct jdoc_val *root, const char *hint, struct object **out,
    char *err, size_t errlen)
{
	struct decode_ctx	 dc = { err, errlen };
	const struct decode_kind *k;
	const struct jdoc_val	*meta;
	const char		*kind;
	struct object		*obj;
	enum decode_result	 res;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (root == NULL || root->type != JDOC_OBJECT) {
		decode_fail(&dc, "not an object");
		return DECODE_ERROR;
	}
	if (decode_get(&dc, root, NULL, "kind", JDOC_STRING, &meta) == -1)
		return DECODE_ERROR;
	if ((kind = decode_kind_name(root, hint)) == NULL) {
		decode_fail(&dc, "kind: missing");
		return DECODE_ERROR;
	}
	if ((res = decode_find_kind(&dc, root, kind, &k)) != DECODE_OK)
		return res;
	if (decode_get(&dc, root, NULL, "metadata", JDOC_OBJECT,
	    &meta) == -1 || (obj = decode_new(&dc, meta, k->kind)) == NULL)
		return DECODE_ERROR;
	if (decode_metadata(&dc, meta, obj) == -1 ||
	    decode_kind_body(&dc, root, meta, obj) == -1) {
		object_free(obj);
		return DECODE_ERROR;
	}
	object_slim(obj);
	*out = obj;
	return DECODE_OK;
}

char *
decode_ident(const struct jdoc_val *root, const char *hint, char *buf,
    size_t len)
{
	const struct jdoc_val	*meta = NULL;
	const char		*kind, *ns, *name;
	size_t			 n = sizeof(decode_cluster_kinds) /
			    sizeof(*decode_cluster_kinds);

	kind = decode_kind_name(root, hint);
	if (root != NULL)
		meta = jdoc_get(root, "metadata");
	if ((name = decode_peek(meta, "name")) == NULL)
		name = "?";
	if ((ns = decode_peek(meta, "namespace")) == NULL)
		ns = "default";
	for (size_t i = 0; kind != NULL && i < n; i++)
		if (strcmp(kind, decode_cluster_kinds[i]) == 0)
			ns = NULL;
	if (ns == NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", ns, name);
	return buf;
}
