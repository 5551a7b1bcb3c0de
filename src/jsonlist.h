/* jsonlist.h -- a Kubernetes List body item by item, every value parsed by json-c, no tree of the whole List. */
#ifndef PETDNS_JSONLIST_H
#define PETDNS_JSONLIST_H

#include <stddef.h>

struct json_object;
struct json_tokener;

struct jsonlist_cb {
	/* A member other than "items" ("metadata", "kind"...); value is borrowed. */
	void	(*member)(const char *key, struct json_object *value, void *);
	/* "items" begins: the members before it have been seen. */
	void	(*items)(void *);
	/* One element of "items", in order (NULL for null); borrowed. */
	void	(*item)(struct json_object *, void *);
};

/*
 * Walks the List object in body[0..len) with tok: a page of 500 objects is
 * never one json-c tree (tens of megabytes of small allocations, cold by
 * the time they are decoded and freed), each item is parsed, handed over
 * and freed while it is still in cache. Returns 0, or -1 when body is not
 * an object with one "items" array; callbacks already made stand.
 */
int	jsonlist_walk(struct json_tokener *tok, const char *body, size_t len,
	    const struct jsonlist_cb *cb, void *arg);

#endif
