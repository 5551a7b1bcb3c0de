/* jsonlist.h -- a Kubernetes List body item by item, every value parsed on its own, no tree of the whole List. */
#ifndef PETDNS_JSONLIST_H
#define PETDNS_JSONLIST_H

#include <stddef.h>

struct jdoc;
struct jdoc_val;

struct jsonlist_cb {
	/* A member other than "items" ("metadata", "kind"...); value is borrowed. */
	void	(*member)(const char *key, const struct jdoc_val *value, void *);
	/* "items" begins: the members before it have been seen. */
	void	(*items)(void *);
	/* One element of "items", in order; borrowed. */
	void	(*item)(const struct jdoc_val *, void *);
};

/*
 * Walks the List object in body[0..len), parsing each value into doc: a page
 * of 500 objects is never one document (megabytes, cold by the time its
 * items are decoded), each item is parsed and handed over while it is still
 * in cache. A value handed over is valid until the callback returns.
 * Returns 0, or -1 when body is not an object with one "items" array;
 * callbacks already made stand.
 */
int	jsonlist_walk(struct jdoc *doc, const char *body, size_t len,
	    const struct jsonlist_cb *cb, void *arg);

#endif
