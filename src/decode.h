/* decode.h -- Kubernetes API JSON (a jdoc) to slim structs, once, at the edge. */
#ifndef PETDNS_DECODE_H
#define PETDNS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct jdoc_val;
struct object;

enum decode_result {
	DECODE_OK,		/* *out holds the object */
	DECODE_UNSUPPORTED,	/* a kind petdns does not use; err names it */
	DECODE_ERROR		/* malformed; err says why */
};

/*
 * Decodes one API object (a manifest document, a list item, a watch event's
 * object): Namespace, Service, Pod (v1) and EndpointSlice
 * (discovery.k8s.io/v1 and v1beta1). kind is the object's kind when the JSON
 * lacks "kind" (list items), else NULL; the JSON's own kind wins. On
 * DECODE_OK *out is a new object the caller owns; otherwise *out is NULL. The
 * JSON is only borrowed and no reference to it is kept. err names the field
 * at fault ("spec.ports[1].port: not an integer"), not the object: the caller
 * adds where, e.g. with decode_ident(). Namespaced objects without a
 * namespace get "default", as kubectl apply gives them. EndpointSlices of
 * addressType FQDN decode with no endpoints: DNS serves only addresses.
 */
enum decode_result decode_object(const struct jdoc_val *, const char *kind,
	    struct object **out, char *err, size_t errlen);
/*
 * Writes "ns/name" (or "name" for cluster-scoped kinds) of any object, known
 * kind or not, with the namespace defaulted as decode_object() does and "?"
 * for a missing name: the context callers put before decode errors. kind is
 * as for decode_object(). Returns buf.
 */
char	*decode_ident(const struct jdoc_val *, const char *kind, char *buf,
	    size_t len);
/*
 * An RFC 3339 time ("2024-05-01T10:00:00Z", "...00.123456789+02:00"), as
 * Kubernetes writes timestamps, to a Unix time. False when malformed.
 */
bool	decode_rfc3339(const char *, struct timespec *);

#endif
