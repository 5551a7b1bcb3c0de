/* zone.c -- names to records in RCU hash tables: readers never wait, writers replace whole nodes. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>
/* liburcu's read side inlined: a library call a lookup otherwise. */
#define _LGPL_SOURCE
#include <urcu.h>
#include <uthash.h>

#include "dname.h"
#include "log.h"
#include "object.h"
#include "records.h"
#include "rtable.h"
#include "xmalloc.h"
#include "zone.h"

/* A record's header in its node: 8 bytes, its rdata found by walking. */
struct zone_rec {
	uint32_t	owner : 31;
	uint32_t	ptr : 1;
	uint16_t	type;
	uint16_t	rdlen;
};

/*
 * Immutable once published, except nchild, which only the writer reads.
 * One allocation: the header, nrr record headers, the name's labels above
 * its apex and a root byte, then their rdata in order; no pointers to the
 * name or the rdata are kept (memory: about 140k nodes and 160k records
 * for 100k pods; the apex alone is 15 bytes of each name in cluster.local).
 */
struct zone_node {
	uint32_t	 nchild;	/* existing names one label below */
	uint16_t	 nrr;
	uint8_t		 apex;		/* index in zone.apexes */
	uint8_t		 rellen;	/* dname_length of its name above the apex */
	struct zone_rec	 rec[];
};

_Static_assert(sizeof(struct zone_node) + ZONE_PTR_MAX * sizeof(struct zone_rec) +
    (ZONE_PTR_MAX + 1) * DNAME_MAX <= sizeof(struct zone_scratch),
    "zone_scratch too small");

/* Nodes unlinked by one update, freed together after a grace period. */
struct zone_retired {
	struct rcu_head	 rcu;
	size_t		 n;
	void		*ptrs[];
};

/*
 * The address index holds nodes, each under the hash of a reverse name whose
 * PTR answer is the node's name: the node has an A/AAAA record of that
 * address flagged ptr. One slot per address and node, and no allocation
 * (a PTR name of its own cost ~127 bytes at 100k pods, its node, table slot
 * and owner digest counted).
 */

/*
 * A name an owner has records at, as its 64-bit hash (a copy of the name
 * would cost about 30 bytes more: the node is found again by hash and owner,
 * zone_find_owned), and a digest of those records: an update that leaves
 * them as they were is told so without looking the name up, which was the
 * largest part of an endpoint change (a hash table miss for each of a
 * service's names, changed or not).
 */
struct zone_owned {
	uint64_t	 hash;
	uint64_t	 digest;
};

/* What one owner contributed: its names, sorted by hash. */
struct zone_owner {
	uint32_t	 id;
	struct zone_owned *names;
	size_t		 nnames;
	UT_hash_handle	 hh;
	char		 key[];
};

struct zone {
	struct rtable	*names;		/* zone_node by dname_hash of its name */
	struct rtable	*addrs;		/* zone_node by dname_hash of a reverse name */
	uint8_t		**apexes;
	size_t		*apexlen;	/* dname_length of each */
	size_t		 napexes;
	struct zone_owner *owners;
	uint32_t	 next_owner;
	size_t		 nrecords;
	void		**retired;	/* unlinked, not yet handed to RCU */
	size_t		 nretired, retired_cap;
	_Atomic uint64_t version;	/* moves on with every change published */
};

void
zone_thread_register(void)
{
	rcu_register_thread();
}

void
zone_thread_unregister(void)
{
	rcu_unregister_thread();
}

void
zone_read_lock(void)
{
	rcu_read_lock();
}

void
zone_read_unlock(void)
{
	rcu_read_unlock();
}

/* The node's name without its apex, as a wire name of its own. */
static uint8_t *
zone_node_rel(const struct zone_node *node)
{
	return (uint8_t *)&node->rec[node->nrr];
}

/* Where the node's rdata starts: after its name. */
static uint8_t *
zone_node_data(const struct zone_node *node)
{
	return zone_node_rel(node) + node->rellen;
}

/* Stores lname, under apex i, in node; returns its length there. */
static size_t
zone_node_set_name(const struct zone *z, struct zone_node *node,
    const uint8_t *lname, int i)
{
	size_t	len = dname_length(lname) - dname_length(z->apexes[i]);

	node->apex = (uint8_t)i;
	node->rellen = (uint8_t)(len + 1);
	memcpy(zone_node_rel(node), lname, len);
	zone_node_rel(node)[len] = 0;
	return len + 1;
}

const uint8_t *
zone_node_name(const struct zone *z, const struct zone_node *node,
    uint8_t *buf)
{
	size_t	len = node->rellen - 1u;

	memcpy(buf, zone_node_rel(node), len);
	memcpy(buf + len, z->apexes[node->apex],
	    dname_length(z->apexes[node->apex]));
	return buf;
}

void
zone_walk_init(struct zone_walk *w, const struct zone_node *node)
{
	w->node = node;
	w->i = 0;
	w->data = zone_node_data(node);
}

bool
zone_walk_next(struct zone_walk *w, struct zone_rr *rr)
{
	const struct zone_rec	*r;

	if (w->i >= w->node->nrr)
		return false;
	r = &w->node->rec[w->i++];
	rr->rdata = w->data;
	rr->owner = r->owner;
	rr->ptr = r->ptr;
	rr->type = r->type;
	rr->rdlen = r->rdlen;
	w->data += r->rdlen;
	return true;
}

/* True when node's name is lname, len bytes long. */
static bool
zone_node_is(const struct zone *z, const struct zone_node *node,
    const uint8_t *lname, size_t len)
{
	const uint8_t	*rel = zone_node_rel(node);
	size_t		 rlen = node->rellen - 1u,
			 alen = z->apexlen[node->apex];

	/* The labels above the apex, then the apex: two compares, not one a label. */
	return len == rlen + alen && memcmp(lname, rel, rlen) == 0 &&
	    memcmp(lname + rlen, z->apexes[node->apex], alen) == 0;
}

static struct zone_node *
zone_lookup(const struct zone *z, const uint8_t *lname, size_t len,
    uint64_t hash)
{
	struct rtable_iter	 it;
	struct zone_node	*node;

	for (node = rtable_first(z->names, hash, &it); node != NULL;
	    node = rtable_next(&it))
		if (zone_node_is(z, node, lname, len))
			return node;
	return NULL;
}

/* The index of node's first A/AAAA record of addr flagged ptr, or -1. */
static int
zone_node_ptr(const struct zone_node *node, const uint8_t *addr, uint16_t len)
{
	struct zone_walk	w;
	struct zone_rr		rr;

	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr))
		if (rr.ptr && rr.rdlen == len && memcmp(rr.rdata, addr,
		    len) == 0)
			return (int)w.i - 1;
	return -1;
}


/*
 * Makes up in scratch the node of reverse name rev (under apex): a PTR
 * record for each of the n targets, nodes whose A/AAAA record of addr is
 * flagged ptr, their names copied as rdata.
 */
static const struct zone_node *
zone_reverse_node(const struct zone *z, struct zone_scratch *scratch,
    const uint8_t *rev, int apex, const uint8_t *addr, uint16_t len,
    const struct zone_node *const *targets, size_t n)
{
	struct zone_node	*out = (struct zone_node *)scratch->space;
	uint8_t			*data;

	out->nrr = (uint16_t)n;
	out->nchild = 0;
	data = zone_node_rel(out) + zone_node_set_name(z, out, rev, apex);
	for (size_t i = 0; i < n; i++) {
		int	k = zone_node_ptr(targets[i], addr, len);

		zone_node_name(z, targets[i], data);
		out->rec[i] = (struct zone_rec){ .owner = targets[i]->rec[k].owner,
		    .type = LDNS_RR_TYPE_PTR,
		    .rdlen = (uint16_t)dname_length(data) };
		data += out->rec[i].rdlen;
	}
	return out;
}

/* The node of reverse name lname (nlen, hash: its dname_length, dname_hash), from the address index, or NULL. */
static const struct zone_node *
zone_find_reverse(const struct zone *z, const uint8_t *lname, size_t nlen,
    uint64_t hash, struct zone_scratch *scratch)
{
	struct object_ip	 ip;
	struct rtable_iter	 it;
	const struct zone_node	*node, *targets[ZONE_PTR_MAX];
	size_t			 n = 0;
	uint16_t		 len;
	int			 apex;

	/*
	 * Most names asked are no reverse names: a look at their end first,
	 * then whether they name an address. An apex is a name.
	 */
	if (nlen < 6 || memcmp(lname + nlen - 6, "\4arpa", 6) != 0 ||
	    dname_address(lname, &ip) == -1 || (apex = zone_match(z,
	    lname)) < 0 || dname_equal(lname, z->apexes[apex]))
		return NULL;
	len = ip.family == AF_INET ? 4 : 16;
	for (node = rtable_first(z->addrs, hash, &it); node != NULL &&
	    n < ZONE_PTR_MAX; node = rtable_next(&it))
		if (zone_node_ptr(node, ip.addr, len) >= 0)
			targets[n++] = node;
	return n == 0 ? NULL : zone_reverse_node(z, scratch, lname, apex,
	    ip.addr, len, targets, n);
}

const struct zone_node *
zone_find(const struct zone *z, const uint8_t *lname,
    struct zone_scratch *scratch)
{
	const struct zone_node	*node;
	size_t			 len = dname_length(lname);
	uint64_t		 hash = dname_hash_len(lname, len);

	/* An address's reverse name is in the address index only: one lookup. */
	if (scratch != NULL &&
	    (node = zone_find_reverse(z, lname, len, hash, scratch)) != NULL)
		return node;
	return zone_lookup(z, lname, len, hash);
}

/* The node whose name hashes to hash and that holds records of owner. */
static const struct zone_node *
zone_find_owned(const struct zone *z, uint64_t hash, uint32_t owner)
{
	struct rtable_iter	 it;
	const struct zone_node	*node;

	/* The table compares the whole hash: only the owner is left. */
	for (node = rtable_first(z->names, hash, &it); node != NULL;
	    node = rtable_next(&it))
		for (size_t i = 0; i < node->nrr; i++)
			if (node->rec[i].owner == owner)
				return node;
	return NULL;
}


int
zone_match(const struct zone *z, const uint8_t *lname)
{
	int	best = -1;
	size_t	best_len = 0, nlen = dname_length(lname);

	/* Apexes above one name: the longer has more labels. */
	for (size_t i = 0; i < z->napexes; i++)
		if (z->apexlen[i] > best_len && dname_is_under_len(lname, nlen,
		    z->apexes[i], z->apexlen[i])) {
			best = (int)i;
			best_len = z->apexlen[i];
		}
	return best;
}

const uint8_t *
zone_apex(const struct zone *z, int i)
{
	return z->apexes[i];
}

static bool
zone_is_apex(const struct zone *z, const uint8_t *name)
{
	for (size_t i = 0; i < z->napexes; i++)
		if (dname_equal(name, z->apexes[i]))
			return true;
	return false;
}

/* A node for name under apex i, with room for n records totalling rdlen bytes of rdata. */
static struct zone_node *
zone_node_alloc(const struct zone *z, const uint8_t *name, int i, size_t n,
    size_t rdlen)
{
	size_t		 nlen = dname_length(name) - dname_length(z->apexes[i]) + 1;
	struct zone_node *node;

	node = xcalloc(1, sizeof(*node) + n * sizeof(struct zone_rec) + nlen +
	    rdlen);
	node->nrr = (uint16_t)n;
	zone_node_set_name(z, node, name, i);
	return node;
}

static void
zone_retired_free_cb(struct rcu_head *head)
{
	struct zone_retired *r = caa_container_of(head, struct zone_retired,
	    rcu);

	for (size_t i = 0; i < r->n; i++)
		free(r->ptrs[i]);
	free(r);
}

/* p is unlinked; readers may still hold it until a grace period. */
static void
zone_retire(struct zone *z, void *p)
{
	if (z->nretired == z->retired_cap) {
		z->retired_cap = z->retired_cap ? z->retired_cap * 2 : 64;
		z->retired = xreallocarray(z->retired, z->retired_cap,
		    sizeof(*z->retired));
	}
	z->retired[z->nretired++] = p;
}

/* One call_rcu per update instead of an rcu_head in every node. */
static void
zone_retire_flush(struct zone *z)
{
	struct zone_retired *r;

	if (z->nretired == 0)
		return;
	r = xmalloc(sizeof(*r) + z->nretired * sizeof(r->ptrs[0]));
	r->n = z->nretired;
	memcpy(r->ptrs, z->retired, z->nretired * sizeof(r->ptrs[0]));
	z->nretired = 0;
	call_rcu(&r->rcu, zone_retired_free_cb);
}

/* One more existing child below name: create empty non-terminals up to the apex. */
static void
zone_ref(struct zone *z, const uint8_t *name)
{
	size_t			 len = dname_length(name);
	uint64_t		 hash = dname_hash_len(name, len);
	struct zone_node	*node = zone_lookup(z, name, len, hash);
	int			 apex;

	if (node != NULL) {
		node->nchild++;
		return;
	}
	if ((apex = zone_match(z, name)) < 0)
		return;
	node = zone_node_alloc(z, name, apex, 0, 0);
	node->nchild = 1;
	rtable_add(z->names, hash, node);
	zone_ref(z, dname_parent(name));
}

/* One child fewer: a name left with nothing stops existing. */
static void
zone_unref(struct zone *z, const uint8_t *name)
{
	size_t			 len = dname_length(name);
	uint64_t		 hash = dname_hash_len(name, len);
	struct zone_node	*node = zone_lookup(z, name, len, hash);

	if (node == NULL || --node->nchild > 0 || node->nrr > 0 ||
	    zone_is_apex(z, name))
		return;
	rtable_del(z->names, hash, node);
	zone_unref(z, dname_parent(name));
	zone_retire(z, node);
}

static bool
zone_rr_same(const struct zone_rr *a, const struct records_rr *b)
{
	return a->type == b->type && a->rdlen == b->rdlen && a->ptr == b->ptr &&
	    memcmp(a->rdata, b->rdata, b->rdlen) == 0;
}

/* True when the records owner id has at node equal new (in order). */
static bool
zone_node_unchanged(const struct zone_node *node, uint32_t id,
    struct records_rr *const *new, size_t nnew)
{
	struct zone_walk	w;
	struct zone_rr		rr;
	size_t			k = 0;

	if (node == NULL)
		return nnew == 0;
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr)) {
		if (rr.owner != id)
			continue;
		if (k == nnew || !zone_rr_same(&rr, new[k]))
			return false;
		k++;
	}
	return k == nnew;
}

/* Sets node's record i to rr, its rdata copied to *data. */
static void
zone_node_set_rr(struct zone_node *node, size_t i, uint8_t **data,
    const struct zone_rr *rr)
{
	node->rec[i] = (struct zone_rec){ .owner = rr->owner,
	    .ptr = rr->ptr, .type = rr->type, .rdlen = rr->rdlen };
	memcpy(*data, rr->rdata, rr->rdlen);
	*data += rr->rdlen;
}

/* The node for name (under apex) with owner id's records replaced by new. */
static struct zone_node *
zone_node_merge(const struct zone *z, const uint8_t *name, int apex,
    const struct zone_node *old, uint32_t id, struct records_rr *const *new,
    size_t nnew)
{
	struct zone_node *node;
	struct zone_walk w;
	struct zone_rr	 rr;
	size_t		 n = nnew, rdlen = 0, k = 0;
	uint8_t		*data;

	for (size_t i = 0; old != NULL && i < old->nrr; i++)
		if (old->rec[i].owner != id) {
			n++;
			rdlen += old->rec[i].rdlen;
		}
	for (size_t i = 0; i < nnew; i++)
		rdlen += new[i]->rdlen;
	node = zone_node_alloc(z, name, apex, n, rdlen);
	data = zone_node_data(node);
	if (old != NULL) {
		zone_walk_init(&w, old);
		while (zone_walk_next(&w, &rr))
			if (rr.owner != id)
				zone_node_set_rr(node, k++, &data, &rr);
		node->nchild = old->nchild;
	}
	for (size_t i = 0; i < nnew; i++) {
		rr = (struct zone_rr){ .rdata = new[i]->rdata, .owner = id,
		    .ptr = new[i]->ptr, .type = new[i]->type,
		    .rdlen = new[i]->rdlen };
		zone_node_set_rr(node, k++, &data, &rr);
	}
	return node;
}

static size_t
zone_served(const struct zone_node *node)
{
	size_t	n = 0;

	for (size_t i = 0; node != NULL && i < node->nrr; i++)
		n += node->rec[i].type != RECORDS_TYPE_MARKER;
	return n;
}

/*
 * The reverse name of rr, node's record i, when it is one for the address
 * index: flagged ptr, in a reverse zone of ours, the first of its address.
 */
static bool
zone_rr_reverse(const struct zone *z, const struct zone_node *node, size_t i,
    const struct zone_rr *rr, uint8_t rev[DNAME_MAX])
{
	struct object_ip	 ip = { 0 };

	if (!rr->ptr || (rr->rdlen != 4 && rr->rdlen != 16) ||
	    zone_node_ptr(node, rr->rdata, rr->rdlen) != (int)i)
		return false;
	ip.family = rr->rdlen == 4 ? AF_INET : AF_INET6;
	memcpy(ip.addr, rr->rdata, rr->rdlen);
	dname_reverse(&ip, rev);
	return zone_match(z, rev) >= 0;
}

/*
 * old is replaced by new (either may be NULL): addresses both flag move to
 * new in place, so that no reader misses them; new ones are added and their
 * reverse names made to exist, those only old had are removed.
 */
static void
zone_addrs_move(struct zone *z, const struct zone_node *old,
    struct zone_node *new)
{
	uint8_t			 rev[DNAME_MAX];
	struct zone_walk	 w;
	struct zone_rr		 rr;

	if (new != NULL)
		zone_walk_init(&w, new);
	while (new != NULL && zone_walk_next(&w, &rr)) {
		uint64_t	hash;

		if (!zone_rr_reverse(z, new, w.i - 1, &rr, rev))
			continue;
		hash = dname_hash(rev);
		if (old != NULL && rtable_replace(z->addrs, hash, old, new))
			continue;
		rtable_add(z->addrs, hash, new);
		z->nrecords++;
		zone_ref(z, dname_parent(rev));
	}
	if (old != NULL)
		zone_walk_init(&w, old);
	while (old != NULL && zone_walk_next(&w, &rr)) {
		if (!zone_rr_reverse(z, old, w.i - 1, &rr, rev) ||
		    !rtable_del(z->addrs, dname_hash(rev), old))
			continue;
		z->nrecords--;
		zone_unref(z, dname_parent(rev));
	}
}

/* Republishes one name (hash: its dname_hash). Returns true when it changed. */
static bool
zone_rebuild(struct zone *z, const uint8_t *name, uint64_t hash, uint32_t id,
    struct records_rr *const *new, size_t nnew)
{
	struct zone_node	*old, *node;
	int			 apex = zone_match(z, name);

	if (apex < 0)
		return false;
	old = zone_lookup(z, name, dname_length(name), hash);
	if (zone_node_unchanged(old, id, new, nnew))
		return false;
	if (nnew > (size_t)UINT16_MAX - (old ? old->nrr : 0)) {
		log_warnx("zone: too many records at one name; update dropped");
		return false;
	}
	node = zone_node_merge(z, name, apex, old, id, new, nnew);
	z->nrecords += zone_served(node);
	z->nrecords -= zone_served(old);
	if (old == NULL) {
		rtable_add(z->names, hash, node);
		zone_ref(z, dname_parent(name));
		zone_addrs_move(z, NULL, node);
		return true;
	}
	if (node->nrr == 0 && node->nchild == 0 && !zone_is_apex(z, name)) {
		zone_addrs_move(z, old, NULL);
		rtable_del(z->names, hash, old);
		zone_unref(z, dname_parent(name));
		free(node);
	} else {
		rtable_replace(z->names, hash, old, node);
		zone_addrs_move(z, old, node);
	}
	zone_retire(z, old);
	return true;
}

/* A record of an update with its name's hash, which sorting groups by. */
struct zone_keyed {
	uint64_t		 hash;
	struct records_rr	*rr;
};

static int
zone_keyed_cmp(const void *a, const void *b)
{
	const struct zone_keyed *x = a, *y = b;
	int	c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	/* Two names of one hash stay apart, each one group. */
	if (!dname_equal(x->rr->name, y->rr->name) &&
	    (c = dname_compare(x->rr->name, y->rr->name)) != 0)
		return c;
	/* Equal names keep the list's order, which change detection relies on. */
	return x->rr < y->rr ? -1 : x->rr > y->rr;
}

static struct zone_owner *
zone_owner_get(struct zone *z, const char *key)
{
	struct zone_owner	*o;

	HASH_FIND_STR(z->owners, key, o);
	if (o != NULL)
		return o;
	/* zone_rec.owner has 31 bits: two billion owners made in one process. */
	if (z->next_owner == 0x7fffffff)
		fatalx("zone: out of owner ids");
	o = xcalloc(1, sizeof(*o) + strlen(key) + 1);
	memcpy(o->key, key, strlen(key) + 1);
	o->id = ++z->next_owner;
	HASH_ADD_KEYPTR(hh, z->owners, o->key, strlen(o->key), o);
	return o;
}


static int
zone_owned_cmp(const void *a, const void *b)
{
	uint64_t	x = ((const struct zone_owned *)a)->hash;
	uint64_t	y = ((const struct zone_owned *)b)->hash;

	return x < y ? -1 : x > y;
}

/* A digest of a name's records, in order: what zone_node_unchanged compares. */
static uint64_t
zone_digest(struct records_rr *const *rr, size_t n)
{
	uint64_t	h = n;

	for (size_t i = 0; i < n; i++) {
		uint64_t	head = (uint64_t)rr[i]->type << 32 |
				    (uint64_t)rr[i]->rdlen << 1 | rr[i]->ptr;

		h = dname_hash_fold(h, &head, sizeof(head));
		h = dname_hash_fold(h, rr[i]->rdata, rr[i]->rdlen);
	}
	return h;
}

bool
zone_update(struct zone *z, const char *key, const struct records_list *list)
{
	struct zone_owner	 *o = zone_owner_get(z, key);
	struct zone_keyed	 *keyed;
	struct records_rr	**sorted;
	struct zone_owned	 *names;
	size_t			  nnames = 0, had = 0;
	bool			  changed = false;

	/*
	 * Grouped by hash, not in name order: the hashes are needed anyway, and
	 * comparing names was a tenth of an endpoint change's instructions.
	 */
	keyed = xreallocarray(NULL, list->n, sizeof(*keyed));
	for (size_t i = 0; i < list->n; i++)
		keyed[i] = (struct zone_keyed){ dname_hash(list->rr[i].name),
		    &list->rr[i] };
	qsort(keyed, list->n, sizeof(*keyed), zone_keyed_cmp);
	sorted = xreallocarray(NULL, list->n, sizeof(*sorted));
	for (size_t i = 0; i < list->n; i++)
		sorted[i] = keyed[i].rr;
	names = list->n > 0 ? xreallocarray(NULL, list->n, sizeof(*names)) :
	    NULL;
	rcu_read_lock();
	/*
	 * Names whose records stay as they were are skipped: by digest when
	 * the owner had the name before (both lists are in hash order), else
	 * found unchanged, not rebuilt.
	 */
	for (size_t i = 0, j; i < list->n; i = j) {
		struct zone_owned	*nw = &names[nnames++];

		for (j = i + 1; j < list->n && keyed[j].hash == keyed[i].hash &&
		    dname_equal(sorted[j]->name, sorted[i]->name); j++)
			;
		*nw = (struct zone_owned){ keyed[i].hash,
		    zone_digest(&sorted[i], j - i) };
		while (had < o->nnames && o->names[had].hash < nw->hash)
			had++;
		if (had < o->nnames && o->names[had].hash == nw->hash &&
		    o->names[had].digest == nw->digest)
			continue;
		changed |= zone_rebuild(z, sorted[i]->name, nw->hash, o->id,
		    &sorted[i], j - i);
	}
	/* A name may hold many records: keep only what is used (sorted already). */
	if (nnames > 0)
		names = xreallocarray(names, nnames, sizeof(*names));
	for (size_t i = 1; i < nnames; i++)
		if (names[i].hash == names[i - 1].hash)
			log_warnx("zone: %s: two names share a 64-bit hash; "
			    "one may keep stale records", key);
	/* Names the owner had and no longer has lose its records. */
	for (size_t i = 0; i < o->nnames; i++) {
		const struct zone_node	*node;
		uint8_t			 name[DNAME_MAX];
		uint64_t		 hash = o->names[i].hash;

		if (nnames > 0 && bsearch(&o->names[i], names, nnames,
		    sizeof(*names), zone_owned_cmp) != NULL)
			continue;
		if ((node = zone_find_owned(z, hash, o->id)) == NULL)
			continue;
		changed |= zone_rebuild(z, zone_node_name(z, node, name), hash,
		    o->id, NULL, 0);
	}
	rcu_read_unlock();
	zone_retire_flush(z);
	free(o->names);
	o->names = names;
	o->nnames = nnames;
	if (nnames == 0) {
		HASH_DEL(z->owners, o);
		free(o);
	}
	free(sorted);
	free(keyed);
	if (changed)
		atomic_store_explicit(&z->version, atomic_load_explicit(
		    &z->version, memory_order_relaxed) + 1,
		    memory_order_release);
	return changed;
}

struct zone *
zone_new(const uint8_t *const *apexes, size_t n)
{
	struct zone	*z = xcalloc(1, sizeof(*z));

	if (n > UINT8_MAX)	/* zone_node.apex */
		fatalx("zone: more than %d zones", UINT8_MAX);
	z->names = rtable_new();
	z->addrs = rtable_new();
	z->apexes = xcalloc(n, sizeof(*z->apexes));
	z->apexlen = xcalloc(n, sizeof(*z->apexlen));
	z->napexes = n;
	for (size_t i = 0; i < n; i++) {
		z->apexlen[i] = dname_length(apexes[i]);
		z->apexes[i] = xmalloc(z->apexlen[i]);
		memcpy(z->apexes[i], apexes[i], z->apexlen[i]);
	}
	rcu_read_lock();
	for (size_t i = 0; i < n; i++) {
		if (zone_find(z, apexes[i], NULL) == NULL)
			rtable_add(z->names, dname_hash(apexes[i]),
			    zone_node_alloc(z, apexes[i], zone_match(z,
			    apexes[i]), 0, 0));
	}
	rcu_read_unlock();
	return z;
}

/* Calls fn with the PTR record of each address node has in the index. */
static void
zone_foreach_ptr(const struct zone *z, const struct zone_node *node,
    void (*fn)(const struct zone_node *, void *), void *arg)
{
	struct zone_scratch	 scratch;
	uint8_t			 rev[DNAME_MAX];
	struct zone_walk	 w;
	struct zone_rr		 rr;

	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr))
		if (zone_rr_reverse(z, node, w.i - 1, &rr, rev))
			fn(zone_reverse_node(z, &scratch, rev, zone_match(z,
			    rev), rr.rdata, rr.rdlen, &node, 1), arg);
}

void
zone_foreach(const struct zone *z, void (*fn)(const struct zone_node *,
    void *), void *arg)
{
	struct rtable_iter	 it = { 0 };
	const struct zone_node	*node;

	while ((node = rtable_each(z->names, &it)) != NULL) {
		fn(node, arg);
		zone_foreach_ptr(z, node, fn, arg);
	}
}

uint64_t
zone_version(const struct zone *z)
{
	return atomic_load_explicit(&z->version, memory_order_acquire);
}

size_t
zone_count(const struct zone *z)
{
	return z->nrecords;
}

void
zone_free(struct zone *z)
{
	struct zone_owner	*o, *tmp;
	struct rtable_iter	 it = { 0 };
	struct zone_node	*node;

	if (z == NULL)
		return;
	/* No reader is left: the nodes go now, the arrays a rebuild retired after a grace period. */
	while ((node = rtable_each(z->names, &it)) != NULL)
		free(node);
	rcu_barrier();
	rtable_free(z->names);
	rtable_free(z->addrs);
	HASH_ITER(hh, z->owners, o, tmp) {
		HASH_DEL(z->owners, o);
		free(o->names);
		free(o);
	}
	for (size_t i = 0; i < z->napexes; i++)
		free(z->apexes[i]);
	free(z->apexes);
	free(z->apexlen);
	free(z->retired);
	free(z);
}
