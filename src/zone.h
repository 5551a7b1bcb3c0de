/* zone.h -- the published zone: names to records, read lock-free (RCU), updated per owner. */
#ifndef PETDNS_ZONE_H
#define PETDNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct records_list;
struct zone;
struct zone_node;

/* One record as a walk gives it; the TTL is the configuration's, one for all. */
struct zone_rr {
	const uint8_t *rdata;	/* borrowed like its node */
	uint32_t owner;		/* which zone_update() contributed it */
	uint16_t type;		/* RECORDS_TYPE_MARKER: not served */
	uint16_t rdlen;
	bool	 ptr;		/* A/AAAA: its address's reverse name points here */
};

/* A walk through a node's records, in order (nodes keep no rdata pointers: memory). */
struct zone_walk {
	const struct zone_node *node;
	size_t		 i;	/* records given so far */
	const uint8_t	*data;
};

/*
 * PTR records are not names of the table: an address index finds the names
 * whose A/AAAA records are flagged ptr (about 40% fewer names to keep), and
 * zone_find makes the reverse name's node up in a caller's scratch (room for
 * a header, the name and at most ZONE_PTR_MAX records with their names).
 */
#define ZONE_PTR_MAX	32
struct zone_scratch {
	uint64_t	space[(32 + ZONE_PTR_MAX * 8 + (ZONE_PTR_MAX + 1) * 256) / 8];
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
/*
 * The node of lname (lower case), or NULL when the name does not exist. Under
 * zone_read_lock. With scratch, a reverse name's node is made up there (valid
 * while scratch is); without, such names are not found.
 */
const struct zone_node *zone_find(const struct zone *, const uint8_t *lname,
	    struct zone_scratch *scratch);
/* Starts a walk through the node's records (markers included). */
void	zone_walk_init(struct zone_walk *, const struct zone_node *);
/* The next record into rr; false after the last. */
bool	zone_walk_next(struct zone_walk *, struct zone_rr *);
/*
 * The node's lower-case wire name, put together in buf (DNAME_MAX bytes:
 * nodes keep their names without the apex).
 */
const uint8_t *zone_node_name(const struct zone *, const struct zone_node *,
	    uint8_t *buf);
/*
 * Calls fn for every node, in no fixed order; a reverse name with several
 * PTR records may come once for each. Under zone_read_lock.
 */
void	zone_foreach(const struct zone *,
	    void (*fn)(const struct zone_node *, void *), void *arg);
/* A number that moves on whenever zone_update publishes a change. */
uint64_t zone_version(const struct zone *);
/* Number of served records (markers not counted). */
size_t	zone_count(const struct zone *);

#endif
