/* store.c -- objects hashed per kind, a service->slices index, subscribers. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "store.h"
#include "xmalloc.h"

/* uthash's own allocations follow the same out-of-memory policy as ours. */
#define uthash_malloc(sz) xmalloc(sz)
#define uthash_free(ptr, sz) free(ptr)
#include <uthash.h>
#include <utlist.h>

/*
 * Kubernetes names (253) and namespaces (63) fit, so lookups never touch the
 * heap; longer (invalid) names still work through store_key's fallback.
 */
#define STORE_KEYLEN 320

struct store_group;

struct store_entry {
	struct object		*obj;
	uint64_t		 mark;	/* the last store_replace that saw it */
	struct store_group	*group;	/* slices: their service's, or NULL */
	struct store_entry	*gprev;
	struct store_entry	*gnext;
	UT_hash_handle		 hh;
	char			 key[];	/* "ns/name", or name when ns is NULL */
};

/*
 * The slices labelled for one service: a service's records need only its
 * slices, and scanning every slice of a 100k-pod cluster per service would
 * make each update cost the cluster's size.
 */
struct store_group {
	struct store_entry	*slices;	/* DL list via gprev/gnext */
	UT_hash_handle		 hh;
	char			 key[];	/* "ns/service" */
};

struct store_sub {
	store_fn	 fn;
	void		*arg;
};

struct store {
	struct store_entry	*tables[OBJECT_NKINDS];
	struct store_group	*groups;
	struct store_sub	*subs;
	size_t			 nsubs;
	uint64_t		 mark;
	bool			 busy;	/* inside a callback */
};

/* The length of the key of (ns, name), its NUL counted. */
static size_t
store_key_size(const char *ns, const char *name)
{
	return (ns != NULL ? strlen(ns) + 1 : 0) + strlen(name) + 1;
}

/* Writes "ns/name" (name when ns is NULL) to dst, store_key_size bytes; returns dst. */
static char *
store_key_write(char *dst, const char *ns, const char *name)
{
	size_t	nl = ns != NULL ? strlen(ns) + 1 : 0;

	/* By hand: snprintf was 1% of the CPU of a 100k-pod sync. */
	if (ns != NULL) {
		memcpy(dst, ns, nl - 1);
		dst[nl - 1] = '/';
	}
	memcpy(dst + nl, name, strlen(name) + 1);
	return dst;
}

/* Returns buf, or a heap copy when the key does not fit; see store_key_free. */
static char *
store_key(char *buf, size_t len, const char *ns, const char *name)
{
	size_t	size = store_key_size(ns, name);

	return store_key_write(size <= len ? buf : xmalloc(size), ns, name);
}

static void
store_key_free(char *key, const char *buf)
{
	if (key != buf)
		free(key);
}

static struct store_entry *
store_lookup(const struct store *st, enum object_kind kind, const char *ns,
    const char *name)
{
	char			 buf[STORE_KEYLEN];
	char			*key = store_key(buf, sizeof(buf), ns, name);
	struct store_entry	*e;

	HASH_FIND_STR(st->tables[kind], key, e);
	store_key_free(key, buf);
	return e;
}

static struct store_group *
store_group_lookup(const struct store *st, const char *ns, const char *svc)
{
	char			 buf[STORE_KEYLEN];
	char			*key = store_key(buf, sizeof(buf), ns, svc);
	struct store_group	*g;

	HASH_FIND_STR(st->groups, key, g);
	store_key_free(key, buf);
	return g;
}

/* Indexes slice entry e under its service; unlabelled slices stay out. */
static void
store_group_add(struct store *st, struct store_entry *e)
{
	const struct object	*obj = e->obj;
	struct store_group	*g;

	if (obj->u.slice.service == NULL)
		return;
	g = store_group_lookup(st, obj->ns, obj->u.slice.service);
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g) + store_key_size(obj->ns,
		    obj->u.slice.service));
		store_key_write(g->key, obj->ns, obj->u.slice.service);
		HASH_ADD_KEYPTR(hh, st->groups, g->key, strlen(g->key), g);
	}
	DL_APPEND2(g->slices, e, gprev, gnext);
	e->group = g;
}

/* Unindexes e; a group lives only while it holds slices. */
static void
store_group_remove(struct store *st, struct store_entry *e)
{
	struct store_group	*g = e->group;

	if (g == NULL)
		return;
	DL_DELETE2(g->slices, e, gprev, gnext);
	e->group = NULL;
	if (g->slices == NULL) {
		HASH_DEL(st->groups, g);
		free(g);
	}
}

static bool
store_same_service(const struct object *a, const struct object *b)
{
	const char	*x = a->u.slice.service, *y = b->u.slice.service;

	if (x == NULL || y == NULL)
		return x == y;
	return strcmp(x, y) == 0;
}

static void
store_notify(struct store *st, const struct object *old,
    const struct object *new)
{
	st->busy = true;
	for (size_t i = 0; i < st->nsubs; i++)
		st->subs[i].fn(old, new, st->subs[i].arg);
	st->busy = false;
}

struct store *
store_new(void)
{
	return xcalloc(1, sizeof(struct store));
}

void
store_free(struct store *st)
{
	struct store_entry	*e, *etmp;
	struct store_group	*g, *gtmp;

	if (st == NULL)
		return;
	for (int k = 0; k < OBJECT_NKINDS; k++) {
		HASH_ITER(hh, st->tables[k], e, etmp) {
			HASH_DEL(st->tables[k], e);
			object_free(e->obj);
			free(e);
		}
	}
	HASH_ITER(hh, st->groups, g, gtmp) {
		HASH_DEL(st->groups, g);
		free(g);
	}
	free(st->subs);
	free(st);
}

void
store_subscribe(struct store *st, store_fn fn, void *arg)
{
	assert(!st->busy);
	st->subs = xreallocarray(st->subs, st->nsubs + 1, sizeof(*st->subs));
	st->subs[st->nsubs].fn = fn;
	st->subs[st->nsubs].arg = arg;
	st->nsubs++;
}

/* store_put that also lends the entry now holding obj's key. */
static bool
store_put_entry(struct store *st, struct object *obj, struct store_entry **out)
{
	struct store_entry	*e;
	struct object		*old = NULL;

	assert(!st->busy && obj->kind < OBJECT_NKINDS);
	e = store_lookup(st, obj->kind, obj->ns, obj->name);
	if (e != NULL && object_equal(e->obj, obj)) {
		object_free(obj);
		*out = e;
		return false;
	}
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e) + store_key_size(obj->ns, obj->name));
		store_key_write(e->key, obj->ns, obj->name);
		HASH_ADD_KEYPTR(hh, st->tables[obj->kind], e->key,
		    strlen(e->key), e);
	} else
		old = e->obj;
	*out = e;
	e->obj = obj;
	if (obj->kind == OBJECT_ENDPOINTSLICE &&
	    (old == NULL || !store_same_service(old, obj))) {
		store_group_remove(st, e);
		store_group_add(st, e);
	}
	store_notify(st, old, obj);
	object_free(old);
	return true;
}

bool
store_put(struct store *st, struct object *obj)
{
	struct store_entry	*e;

	return store_put_entry(st, obj, &e);
}

/* Unlinks e, tells the subscribers (the store no longer holds it), frees it. */
static void
store_remove_entry(struct store *st, struct store_entry *e)
{
	struct object	*old = e->obj;

	store_group_remove(st, e);
	HASH_DEL(st->tables[old->kind], e);
	free(e);
	store_notify(st, old, NULL);
	object_free(old);
}

bool
store_delete(struct store *st, enum object_kind kind, const char *ns,
    const char *name)
{
	struct store_entry	*e;

	assert(!st->busy && kind < OBJECT_NKINDS);
	if ((e = store_lookup(st, kind, ns, name)) == NULL)
		return false;
	store_remove_entry(st, e);
	return true;
}

void
store_replace(struct store *st, enum object_kind kind, struct object **objs,
    size_t n)
{
	struct store_entry	*e, *tmp;
	uint64_t		 mark;

	assert(!st->busy && kind < OBJECT_NKINDS);
	/* A fresh generation marks what objs holds; the rest is stale. */
	mark = ++st->mark;
	for (size_t i = 0; i < n; i++) {
		assert(objs[i]->kind == kind);
		store_put_entry(st, objs[i], &e);
		e->mark = mark;
	}
	HASH_ITER(hh, st->tables[kind], e, tmp) {
		if (e->mark != mark)
			store_remove_entry(st, e);
	}
}

const struct object *
store_find(const struct store *st, enum object_kind kind, const char *ns,
    const char *name)
{
	struct store_entry	*e;

	assert(kind < OBJECT_NKINDS);
	e = store_lookup(st, kind, ns, name);
	return e == NULL ? NULL : e->obj;
}

void
store_foreach(const struct store *st, enum object_kind kind, const char *ns,
    store_each_fn fn, void *arg)
{
	struct store_entry	*e, *tmp;

	assert(kind < OBJECT_NKINDS);
	HASH_ITER(hh, st->tables[kind], e, tmp) {
		if (ns == NULL ||
		    (e->obj->ns != NULL && strcmp(e->obj->ns, ns) == 0))
			fn(e->obj, arg);
	}
}

void
store_foreach_slice(const struct store *st, const char *ns,
    const char *service, store_each_fn fn, void *arg)
{
	struct store_group	*g = store_group_lookup(st, ns, service);
	struct store_entry	*e;

	if (g == NULL)
		return;
	DL_FOREACH2(g->slices, e, gnext)
		fn(e->obj, arg);
}

size_t
store_count(const struct store *st, enum object_kind kind)
{
	assert(kind < OBJECT_NKINDS);
	return HASH_COUNT(st->tables[kind]);
}
