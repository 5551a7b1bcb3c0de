/* store.h -- in-memory mirror of the Kubernetes objects petdns serves, with change subscriptions. */
#ifndef PETDNS_STORE_H
#define PETDNS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "object.h"

struct store;

/*
 * Told after every change: old is NULL on add, new is NULL on delete. Both
 * are borrowed for the call only. Callbacks may read the store (which
 * already holds new, and no longer holds a deleted old) but must not change
 * it or subscribe (asserted).
 */
typedef void (*store_fn)(const struct object *old, const struct object *new,
	    void *arg);
typedef void (*store_each_fn)(const struct object *, void *arg);

struct store *store_new(void);
/* Frees the store and every object in it; NULL is a no-op. */
void	store_free(struct store *);
/* Adds a subscriber; subscribers are told in the order they subscribed. */
void	store_subscribe(struct store *, store_fn, void *arg);
/*
 * Takes ownership of obj and replaces any object of the same kind, namespace
 * and name. Returns true when the state changed (subscribers were told);
 * an object equal to the stored one is freed and nothing is told.
 */
bool	store_put(struct store *, struct object *obj);
/* Removes the object. Returns false when it was absent. */
bool	store_delete(struct store *, enum object_kind, const char *ns,
	    const char *name);
/*
 * Makes the store hold exactly objs for kind (a relist or a reload): takes
 * ownership of each object (not of the array), puts each in array order
 * (unchanged ones tell nothing; of two with one key the later wins), then
 * deletes the objects of kind that objs lacks. All objs must be of kind.
 * Costs O(n + objects of kind).
 */
void	store_replace(struct store *, enum object_kind, struct object **objs,
	    size_t n);
/*
 * Borrowed, valid until the next change; NULL when absent. ns is NULL for
 * cluster-scoped kinds (Namespace).
 */
const struct object *store_find(const struct store *, enum object_kind,
	    const char *ns, const char *name);
/*
 * Calls fn for each object of kind (only namespace ns unless ns is NULL), in
 * no fixed order; fn must not change the store. Costs O(objects of kind).
 */
void	store_foreach(const struct store *, enum object_kind, const char *ns,
	    store_each_fn, void *arg);
/*
 * Calls fn for each EndpointSlice labelled for service ns/name (by
 * object_slice.service; unlabelled slices are never listed), in no fixed
 * order; fn must not change the store. Costs O(slices of that service).
 */
void	store_foreach_slice(const struct store *, const char *ns,
	    const char *service, store_each_fn, void *arg);
size_t	store_count(const struct store *, enum object_kind);

#endif
