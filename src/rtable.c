/* rtable.c -- linear probing over (hash, pointer) slots; deletions leave markers but at the end of a run. */
#include <stdatomic.h>
#include <stdlib.h>

/* liburcu's read side inlined: a library call a lookup otherwise. */
#define _LGPL_SOURCE
#include <urcu.h>

#include "rtable.h"
#include "xmalloc.h"

/*
 * A slot is empty (p NULL: a probe stops), gone (p RTABLE_GONE: a deleted
 * entry, a probe goes on) or live. A slot becomes empty again only when the
 * next one is empty (no probe goes through it then), so a live entry is
 * always reached from its home slot.
 */
struct rtable_slot {
	_Atomic uint64_t	 hash;
	void *_Atomic		 p;
};

struct rtable_slots {
	struct rcu_head		 rcu;
	size_t			 cap;
	struct rtable_slot	 s[];
};

struct rtable {
	struct rtable_slots	*a;	/* RCU */
	size_t			 n;	/* live */
	size_t			 used;	/* live and gone */
};

static char	rtable_gone;
#define RTABLE_GONE	((void *)&rtable_gone)
#define RTABLE_MIN	64

/* Rebuilt when live and gone reach 3/4 of the slots; to 3/5 live after. */
#define RTABLE_FULL(used, cap)	((used) * 4 > (cap) * 3)
#define RTABLE_CAP(n)		((n) * 5 / 3)

static struct rtable_slots *
rtable_slots_new(size_t cap)
{
	struct rtable_slots *a = xcalloc(1, sizeof(*a) + cap * sizeof(a->s[0]));

	a->cap = cap;
	return a;
}

/* The home slot: the hash's high bits scaled to the capacity, which need not be a power of two. */
static size_t
rtable_home(const struct rtable_slots *a, uint64_t hash)
{
	return (size_t)(((unsigned __int128)hash * a->cap) >> 64);
}

struct rtable *
rtable_new(void)
{
	struct rtable	*t = xcalloc(1, sizeof(*t));

	t->a = rtable_slots_new(RTABLE_MIN);
	return t;
}

void
rtable_free(struct rtable *t)
{
	if (t == NULL)
		return;
	free(t->a);
	free(t);
}

size_t
rtable_count(const struct rtable *t)
{
	return t->n;
}

/* From it->i on: the next live slot of it->hash. */
static void *
rtable_scan(struct rtable_iter *it)
{
	const struct rtable_slots *a = it->s;

	for (;;) {
		const struct rtable_slot *sl = &a->s[it->i];
		/* Acquire: the hash written before p is seen with it. */
		void	*p = atomic_load_explicit(&sl->p, memory_order_acquire);

		if (p == NULL)
			return NULL;
		if (++it->i == a->cap)
			it->i = 0;
		/* A hash read after p may be of a later entry: callers check the key. */
		if (p != RTABLE_GONE && atomic_load_explicit(&sl->hash,
		    memory_order_relaxed) == it->hash)
			return p;
	}
}

void *
rtable_first(const struct rtable *t, uint64_t hash, struct rtable_iter *it)
{
	it->s = rcu_dereference(t->a);
	it->hash = hash;
	it->i = rtable_home(it->s, hash);
	return rtable_scan(it);
}

void *
rtable_next(struct rtable_iter *it)
{
	return rtable_scan(it);
}

void *
rtable_each(const struct rtable *t, struct rtable_iter *it)
{
	if (it->s == NULL) {
		it->s = rcu_dereference(t->a);
		it->i = 0;
	}
	while (it->i < it->s->cap) {
		void	*p = atomic_load_explicit(&it->s->s[it->i++].p,
			    memory_order_acquire);

		if (p != NULL && p != RTABLE_GONE)
			return p;
	}
	return NULL;
}

/* Into the first free slot of hash's probe; true if it was empty (not gone). */
static bool
rtable_put(struct rtable_slots *a, uint64_t hash, void *p)
{
	size_t	i = rtable_home(a, hash);
	void	*q;

	while ((q = atomic_load_explicit(&a->s[i].p, memory_order_relaxed)) !=
	    NULL && q != RTABLE_GONE)
		if (++i == a->cap)
			i = 0;
	atomic_store_explicit(&a->s[i].hash, hash, memory_order_relaxed);
	atomic_store_explicit(&a->s[i].p, p, memory_order_release);
	return q == NULL;
}

static void
rtable_slots_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct rtable_slots, rcu));
}

/* A new array of the live entries only, published; the old one freed after a grace period. */
static void
rtable_rebuild(struct rtable *t, size_t cap)
{
	struct rtable_slots	*old = t->a, *a;

	a = rtable_slots_new(cap < RTABLE_MIN ? RTABLE_MIN : cap);
	for (size_t i = 0; i < old->cap; i++) {
		void	*p = atomic_load_explicit(&old->s[i].p,
			    memory_order_relaxed);

		if (p != NULL && p != RTABLE_GONE)
			rtable_put(a, atomic_load_explicit(&old->s[i].hash,
			    memory_order_relaxed), p);
	}
	t->used = t->n;
	rcu_assign_pointer(t->a, a);
	call_rcu(&old->rcu, rtable_slots_free_cb);
}

void
rtable_add(struct rtable *t, uint64_t hash, void *p)
{
	if (RTABLE_FULL(t->used + 1, t->a->cap))
		rtable_rebuild(t, RTABLE_CAP(t->n + 1));
	if (rtable_put(t->a, hash, p))
		t->used++;
	t->n++;
}

/* The slot holding p under hash (p may be under others too), or NULL. */
static struct rtable_slot *
rtable_slot_of(const struct rtable *t, uint64_t hash, const void *p)
{
	struct rtable_slots	*a = t->a;
	size_t			 i = rtable_home(a, hash);
	void			*q;

	while ((q = atomic_load_explicit(&a->s[i].p, memory_order_relaxed)) !=
	    NULL) {
		if (q == p && atomic_load_explicit(&a->s[i].hash,
		    memory_order_relaxed) == hash)
			return &a->s[i];
		if (++i == a->cap)
			i = 0;
	}
	return NULL;
}

bool
rtable_replace(struct rtable *t, uint64_t hash, const void *old, void *new)
{
	struct rtable_slot	*sl = rtable_slot_of(t, hash, old);

	if (sl == NULL)
		return false;
	atomic_store_explicit(&sl->p, new, memory_order_release);
	return true;
}

bool
rtable_del(struct rtable *t, uint64_t hash, const void *p)
{
	struct rtable_slots	*a = t->a;
	struct rtable_slot	*sl = rtable_slot_of(t, hash, p);
	size_t			 i;

	if (sl == NULL)
		return false;
	t->n--;
	i = (size_t)(sl - a->s);
	if (atomic_load_explicit(&a->s[i + 1 == a->cap ? 0 : i + 1].p,
	    memory_order_relaxed) != NULL) {
		atomic_store_explicit(&sl->p, RTABLE_GONE, memory_order_release);
		return true;
	}
	/*
	 * The end of a run: empty, and so are the markers just before it.
	 * Churn (a delete and an add an update) then rebuilds the array less.
	 */
	do {
		atomic_store_explicit(&a->s[i].p, NULL, memory_order_release);
		t->used--;
		i = i == 0 ? a->cap - 1 : i - 1;
	} while (atomic_load_explicit(&a->s[i].p, memory_order_relaxed) ==
	    RTABLE_GONE);
	return true;
}
