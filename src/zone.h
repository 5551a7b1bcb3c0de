/* zone.h -- the published zone: names to records, read lock-free (RCU), updated per owner. */
#ifndef PETDNS_ZONE_H
#define PETDNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct records_list;
struct zone;
struct zone_node;

/* 16 bytes: the TTL is the configuration's, the same for every record. */
struct zone_rr {
	const uint8_t *rdata;
	uint32_t owner;		/* which zone_update() contributed it */
	uint16_t type;		/* RECORDS_TYPE_MARKER: not served */
	uint16_t rdlen;
};

/* Every thread that reads a zone registers once (RCU). */
void	zone_thread_register(void);
void	zone_thread_unregister(void);
/* Brackets every use of zone_find() results; never blocks writers. */
void	zone_read_lock(void);
void	zone_read_unlock(void);

/* A zone for the given apexes (lower-case wire names, copied). */
struct zone *zone_new(const uint8_t *const *apexes, size_t napexes);
/* Frees the zone; no reader may be using it. NULL is a no-op. */
void	zone_free(struct zone *);
/*
 * Writer side, one thread: replaces every record that owner contributed
 * before with list (records outside the apexes are dropped), republishing
 * only the names that changed. Returns true when any answer changed.
 */
bool	zone_update(struct zone *, const char *owner,
	    const struct records_list *list);
/* Index of the longest apex at or above lname (lower-case wire), or -1. */
int	zone_match(const struct zone *, const uint8_t *lname);
const uint8_t *zone_apex(const struct zone *, int index);
/* The node of lname (lower case), or NULL when the name does not exist. Under zone_read_lock. */
const struct zone_node *zone_find(const struct zone *, const uint8_t *lname);
/* The node's records (markers included), borrowed like the node. */
const struct zone_rr *zone_node_rrs(const struct zone_node *, size_t *n);
/* The node's lower-case wire name. */
const uint8_t *zone_node_name(const struct zone_node *);
/* Calls fn for every node, in no fixed order. Under zone_read_lock. */
void	zone_foreach(const struct zone *,
	    void (*fn)(const struct zone_node *, void *), void *arg);
/* Number of served records (markers not counted). */
size_t	zone_count(const struct zone *);

#endif
