/* yamljson.h -- YAML or JSON text to json-c values, typed as Kubernetes reads YAML (sigs.k8s.io/yaml). */
#ifndef PETDNS_YAMLJSON_H
#define PETDNS_YAMLJSON_H

#include <stddef.h>

struct json_object;

/*
 * One document of a stream: root is borrowed for the call (NULL for an empty
 * or null document; take a reference with json_object_get to keep it) and
 * err is NULL; or root is NULL and err says "line N: reason". doc counts
 * the stream's documents from 1.
 */
typedef void	yamljson_doc_fn(int doc, struct json_object *root,
		    const char *err, void *arg);

/*
 * Calls fn for every document of buf, in order. Text starting with '{' or
 * '[' (after a UTF-8 byte order mark and white space) is JSON, as kubectl
 * decides: concatenated values, each a document, a syntax error ending the
 * stream. Anything else is a YAML stream: plain scalars are typed as
 * Kubernetes types them (go-yaml v2, YAML 1.1 booleans yes/no/on/off
 * included); anchors, aliases and << merge keys work; nesting is capped at
 * 128 and a document at 4Mi nodes once aliases are expanded. A YAML syntax
 * error costs only its own document. Texts past 2 GiB are one error.
 */
void	yamljson_stream(const char *buf, size_t len, yamljson_doc_fn *fn,
	    void *arg);
/*
 * The one document of buf, as yamljson_stream reads it: a new reference
 * for the caller to json_object_put. NULL with err filled ("line N: ...")
 * on a syntax error, when buf holds no document or a null one, or more
 * than one.
 */
struct json_object *yamljson_parse(const char *buf, size_t len, char *err,
	    size_t errlen);

#endif
