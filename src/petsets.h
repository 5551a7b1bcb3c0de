/* petsets.h -- the ordinal controller's loop: store changes in, one decision per set per pass, ops out. */
#ifndef PETDNS_PETSETS_H
#define PETDNS_PETSETS_H

#include <stdbool.h>

struct event_base;
struct object;
struct ordinal_decision;
struct ordinal_ops;
struct petsets;
struct store;

/* Watches store for PetSets, pods and claims; acts through ops (copied). */
struct petsets *petsets_new(struct event_base *, struct store *,
	    const struct ordinal_ops *);
void	petsets_free(struct petsets *);
/* True when no pass is due and every set is as wanted (nothing to create or delete). */
bool	petsets_idle(const struct petsets *);
/*
 * True when no pass is due and every set is as wanted or has waited on the
 * same thing for quiet_ms: nothing happens until the cluster moves.
 */
bool	petsets_stalled(const struct petsets *, long long quiet_ms);
/* The controller's next decision for set, computed afresh from the store (pure). */
void	petsets_decide(const struct store *, const struct object *set,
	    struct ordinal_decision *);

#endif
