/* rtable.h -- an open-addressing hash table of pointers: readers under RCU never wait, one writer. */
#ifndef PETDNS_RTABLE_H
#define PETDNS_RTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Entries are (64-bit hash, pointer) pairs in one array, probed linearly: a
 * lookup reads one or two cache lines of it and then only the entries whose
 * whole hash matches, where a chained table reads a bucket and every entry
 * ahead in its chain. Duplicate hashes are allowed; callers check the key.
 * A deleted entry leaves a marker unless its run ends there. Growing and
 * clearing markers publish a new array and free the old one after a grace
 * period (call_rcu: the writer is a registered thread).
 */
struct rtable;
struct rtable_slots;

/* A lookup in progress: the entries of one hash, in probe order. */
struct rtable_iter {
	const struct rtable_slots *s;
	size_t		 i;
	uint64_t	 hash;
};

struct rtable	*rtable_new(void);
/* Frees the table, not what its entries point to; no reader may be in it. */
void	 rtable_free(struct rtable *);
/* Live entries. */
size_t	 rtable_count(const struct rtable *);

/* Readers, under rcu_read_lock: the first entry of hash, then the next; NULL after the last. */
void	*rtable_first(const struct rtable *, uint64_t hash,
	    struct rtable_iter *);
void	*rtable_next(struct rtable_iter *);
/* Every live entry, in no fixed order: the iterator starts zeroed; NULL after the last. */
void	*rtable_each(const struct rtable *, struct rtable_iter *);

/* The writer, one thread. p must not be NULL. */
void	 rtable_add(struct rtable *, uint64_t hash, void *p);
/* Puts new where old is (same hash); readers see one or the other. False if old is absent. */
bool	 rtable_replace(struct rtable *, uint64_t hash, const void *old,
	    void *new);
/* Removes p; false if absent. */
bool	 rtable_del(struct rtable *, uint64_t hash, const void *p);

#endif
