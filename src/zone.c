/* zone.c -- names to records in an RCU hash table: readers never wait, writers replace whole nodes. */
#include <stdlib.h>
#include <string.h>

#include <urcu.h>
#include <urcu/rculfhash.h>
#include <uthash.h>

#include "dname.h"
#include "log.h"
#include "records.h"
#include "xmalloc.h"
#include "zone.h"

/*
 * Immutable once published, except nchild, which only the writer reads.
 * One allocation: the header, nrr records, the name, then their rdata; the
 * name's place follows from nrr, so no pointer to it is kept (memory: about
 * 250k nodes for 100k pods).
 */
struct zone_node {
	struct cds_lfht_node ht;
	uint32_t	 nchild;	/* existing names one label below */
	uint16_t	 nrr;
	struct zone_rr	 rr[];
};

/* Nodes unlinked by one update, freed together after a grace period. */
struct zone_retired {
	struct rcu_head	 rcu;
	size_t		 n;
	struct zone_node *nodes[];
};

/*
 * One name an owner has records at: a 64-bit hash of the name instead of a
 * copy saves about 30 bytes (the node is found again by hash and owner,
 * zone_find_owned), and a digest of the records, so that an update skips
 * the names whose records it leaves as they were without a table lookup
 * (an endpoint change rebuilds a whole service: most of its names stay).
 */
struct zone_owned {
	uint64_t	hash;
	uint64_t	sum;
};

/* What one owner contributed, sorted by hash. */
struct zone_owner {
	char		*key;
	uint32_t	 id;
	struct zone_owned *names;
	size_t		 nnames;
	UT_hash_handle	 hh;
};

struct zone {
	struct cds_lfht	*ht;
	uint8_t		**apexes;
	size_t		 napexes;
	struct zone_owner *owners;
	uint32_t	 next_owner;
	size_t		 nrecords;
	size_t		 nnodes;	/* names in the table */
	unsigned long	 buckets;	/* the size last asked of liburcu */
	struct zone_node **retired;	/* unlinked, not yet handed to RCU */
	size_t		 nretired, retired_cap;
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

static uint8_t *
zone_node_lname(const struct zone_node *node)
{
	return (uint8_t *)&node->rr[node->nrr];
}

static int
zone_match_cb(struct cds_lfht_node *ht, const void *key)
{
	const struct zone_node *node = caa_container_of(ht, struct zone_node,
	    ht);

	return dname_equal(zone_node_lname(node), key);
}

static struct zone_node *
zone_lookup(const struct zone *z, const uint8_t *lname, uint64_t hash,
    struct cds_lfht_iter *iter)
{
	struct cds_lfht_node	*ht;

	cds_lfht_lookup(z->ht, hash, zone_match_cb, lname, iter);
	ht = cds_lfht_iter_get_node(iter);
	return ht ? caa_container_of(ht, struct zone_node, ht) : NULL;
}

const struct zone_node *
zone_find(const struct zone *z, const uint8_t *lname)
{
	struct cds_lfht_iter	 iter;

	return zone_lookup(z, lname, dname_hash(lname), &iter);
}

struct zone_owned_key {
	uint64_t	hash;
	uint32_t	owner;
};

static int
zone_owned_cb(struct cds_lfht_node *ht, const void *key)
{
	const struct zone_node *node = caa_container_of(ht, struct zone_node,
	    ht);
	const struct zone_owned_key *k = key;

	/* liburcu compares the whole hash before it asks: no need here. */
	for (size_t i = 0; i < node->nrr; i++)
		if (node->rr[i].owner == k->owner)
			return 1;
	return 0;
}

/* The node whose name hashes to hash and that holds records of owner. */
static const struct zone_node *
zone_find_owned(const struct zone *z, uint64_t hash, uint32_t owner)
{
	struct zone_owned_key	 key = { hash, owner };
	struct cds_lfht_iter	 iter;
	struct cds_lfht_node	*ht;

	cds_lfht_lookup(z->ht, hash, zone_owned_cb, &key, &iter);
	ht = cds_lfht_iter_get_node(&iter);
	return ht ? caa_container_of(ht, struct zone_node, ht) : NULL;
}

const struct zone_rr *
zone_node_rrs(const struct zone_node *node, size_t *n)
{
	*n = node->nrr;
	return node->rr;
}

const uint8_t *
zone_node_name(const struct zone_node *node)
{
	return zone_node_lname(node);
}

int
zone_match(const struct zone *z, const uint8_t *lname)
{
	int	best = -1, best_labels = -1;

	for (size_t i = 0; i < z->napexes; i++) {
		int	labels = dname_labels(z->apexes[i]);

		if (labels > best_labels && dname_is_under(lname,
		    z->apexes[i])) {
			best = (int)i;
			best_labels = labels;
		}
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

/* A node with room for n records totalling rdlen bytes of rdata. */
static struct zone_node *
zone_node_alloc(const uint8_t *name, size_t n, size_t rdlen)
{
	size_t		 nlen = dname_length(name);
	struct zone_node *node;

	node = xcalloc(1, sizeof(*node) + n * sizeof(struct zone_rr) + nlen +
	    rdlen);
	node->nrr = (uint16_t)n;
	memcpy(zone_node_lname(node), name, nlen);
	cds_lfht_node_init(&node->ht);
	return node;
}

static void
zone_retired_free_cb(struct rcu_head *head)
{
	struct zone_retired *r = caa_container_of(head, struct zone_retired,
	    rcu);

	for (size_t i = 0; i < r->n; i++)
		free(r->nodes[i]);
	free(r);
}

/* The node is unlinked; readers may still hold it until a grace period. */
static void
zone_node_retire(struct zone *z, struct zone_node *node)
{
	if (z->nretired == z->retired_cap) {
		z->retired_cap = z->retired_cap ? z->retired_cap * 2 : 64;
		z->retired = xreallocarray(z->retired, z->retired_cap,
		    sizeof(*z->retired));
	}
	z->retired[z->nretired++] = node;
}

/* One call_rcu per update instead of an rcu_head in every node. */
static void
zone_retire_flush(struct zone *z)
{
	struct zone_retired *r;

	if (z->nretired == 0)
		return;
	r = xmalloc(sizeof(*r) + z->nretired * sizeof(r->nodes[0]));
	r->n = z->nretired;
	memcpy(r->nodes, z->retired, z->nretired * sizeof(r->nodes[0]));
	z->nretired = 0;
	call_rcu(&r->rcu, zone_retired_free_cb);
}

static void
zone_node_add(struct zone *z, struct zone_node *node, uint64_t hash)
{
	cds_lfht_add(z->ht, hash, &node->ht);
	z->nnodes++;
}

/*
 * liburcu's automatic resize often stops short after a bulk load (100k
 * pods: lookups at 36-51% of the CPU, bench/README.md), so the writer asks
 * for a table at least as large as the names it holds, outside any read
 * side critical section.
 */
static void
zone_size(struct zone *z)
{
	unsigned long	want = z->buckets;

	while (want < z->nnodes)
		want *= 2;
	if (want == z->buckets)
		return;
	z->buckets = want;
	cds_lfht_resize(z->ht, want);
}

/* One more existing child below name: create empty non-terminals up to the apex. */
static void
zone_ref(struct zone *z, const uint8_t *name)
{
	struct cds_lfht_iter	 iter;
	uint64_t		 hash = dname_hash(name);
	struct zone_node	*node = zone_lookup(z, name, hash, &iter);

	if (node != NULL) {
		node->nchild++;
		return;
	}
	if (zone_match(z, name) < 0)
		return;
	node = zone_node_alloc(name, 0, 0);
	node->nchild = 1;
	zone_node_add(z, node, hash);
	zone_ref(z, dname_parent(name));
}

/* One child fewer: a name left with nothing stops existing. */
static void
zone_unref(struct zone *z, const uint8_t *name)
{
	struct zone_node *node = (struct zone_node *)zone_find(z, name);

	if (node == NULL || --node->nchild > 0 || node->nrr > 0 ||
	    zone_is_apex(z, name))
		return;
	cds_lfht_del(z->ht, &node->ht);
	z->nnodes--;
	zone_unref(z, dname_parent(name));
	zone_node_retire(z, node);
}

static bool
zone_rr_same(const struct zone_rr *a, const struct records_rr *b)
{
	return a->type == b->type && a->rdlen == b->rdlen &&
	    memcmp(a->rdata, b->rdata, b->rdlen) == 0;
}

/* True when the records owner id has at node equal new (in order). */
static bool
zone_node_unchanged(const struct zone_node *node, uint32_t id,
    struct records_rr *const *new, size_t nnew)
{
	size_t	k = 0;

	for (size_t i = 0; node != NULL && i < node->nrr; i++) {
		if (node->rr[i].owner != id)
			continue;
		if (k == nnew || !zone_rr_same(&node->rr[i], new[k]))
			return false;
		k++;
	}
	return k == nnew;
}

static void
zone_node_set_rr(struct zone_node *node, size_t i, uint8_t **data,
    uint32_t owner, uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	struct zone_rr	*rr = &node->rr[i];

	rr->owner = owner;
	rr->type = type;
	rr->rdlen = rdlen;
	memcpy(*data, rdata, rdlen);
	rr->rdata = *data;
	*data += rdlen;
}

/* The node for name with owner id's records replaced by new. */
static struct zone_node *
zone_node_merge(const uint8_t *name, const struct zone_node *old,
    uint32_t id, struct records_rr *const *new, size_t nnew)
{
	struct zone_node *node;
	size_t		 n = nnew, rdlen = 0, k = 0;
	uint8_t		*data;

	for (size_t i = 0; old != NULL && i < old->nrr; i++)
		if (old->rr[i].owner != id) {
			n++;
			rdlen += old->rr[i].rdlen;
		}
	for (size_t i = 0; i < nnew; i++)
		rdlen += new[i]->rdlen;
	node = zone_node_alloc(name, n, rdlen);
	data = zone_node_lname(node) + dname_length(name);
	for (size_t i = 0; old != NULL && i < old->nrr; i++) {
		const struct zone_rr *rr = &old->rr[i];

		if (rr->owner != id)
			zone_node_set_rr(node, k++, &data, rr->owner,
			    rr->type, rr->rdata, rr->rdlen);
	}
	for (size_t i = 0; i < nnew; i++)
		zone_node_set_rr(node, k++, &data, id, new[i]->type,
		    new[i]->rdata, new[i]->rdlen);
	if (old != NULL)
		node->nchild = old->nchild;
	return node;
}

static size_t
zone_served(const struct zone_node *node)
{
	size_t	n = 0;

	for (size_t i = 0; node != NULL && i < node->nrr; i++)
		n += node->rr[i].type != RECORDS_TYPE_MARKER;
	return n;
}

/* Republishes one name (hash: its dname_hash). Returns true when it changed. */
static bool
zone_rebuild(struct zone *z, const uint8_t *name, uint64_t hash, uint32_t id,
    struct records_rr *const *new, size_t nnew)
{
	struct zone_node	*old, *node;
	struct cds_lfht_iter	 iter;

	if (zone_match(z, name) < 0)
		return false;
	old = zone_lookup(z, name, hash, &iter);	/* iter serves the replace below */
	if (zone_node_unchanged(old, id, new, nnew))
		return false;
	if (nnew > (size_t)UINT16_MAX - (old ? old->nrr : 0)) {
		log_warnx("zone: too many records at one name; update dropped");
		return false;
	}
	node = zone_node_merge(name, old, id, new, nnew);
	z->nrecords += zone_served(node);
	z->nrecords -= zone_served(old);
	if (old == NULL) {
		zone_node_add(z, node, hash);
		zone_ref(z, dname_parent(name));
		return true;
	}
	if (node->nrr == 0 && node->nchild == 0 && !zone_is_apex(z, name)) {
		cds_lfht_del(z->ht, &old->ht);
		z->nnodes--;
		zone_unref(z, dname_parent(name));
		free(node);
	} else
		cds_lfht_replace(z->ht, &iter, hash, zone_match_cb,
		    name, &node->ht);
	zone_node_retire(z, old);
	return true;
}

static int
zone_rr_cmp(const void *a, const void *b)
{
	const struct records_rr *x = *(struct records_rr *const *)a;
	const struct records_rr *y = *(struct records_rr *const *)b;
	int	c = dname_compare(x->name, y->name);

	/* Equal names keep the list's order, which change detection relies on. */
	return c != 0 ? c : (x < y ? -1 : x > y);
}

static struct zone_owner *
zone_owner_get(struct zone *z, const char *key)
{
	struct zone_owner	*o;

	HASH_FIND_STR(z->owners, key, o);
	if (o != NULL)
		return o;
	o = xcalloc(1, sizeof(*o));
	o->key = xstrdup(key);
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

/* FNV-1a over the records one owner has at one name, in order. */
static uint64_t
zone_digest(struct records_rr *const *rrs, size_t n)
{
	uint64_t	h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		uint8_t	hdr[4] = { rrs[i]->type >> 8, rrs[i]->type & 0xff,
			    rrs[i]->rdlen >> 8, rrs[i]->rdlen & 0xff };

		for (size_t k = 0; k < sizeof(hdr); k++)
			h = (h ^ hdr[k]) * 1099511628211ULL;
		for (size_t k = 0; k < rrs[i]->rdlen; k++)
			h = (h ^ rrs[i]->rdata[k]) * 1099511628211ULL;
	}
	return h;
}

bool
zone_update(struct zone *z, const char *key, const struct records_list *list)
{
	struct zone_owner	 *o = zone_owner_get(z, key);
	struct records_rr	**sorted;
	struct zone_owned	 *names, *was;
	size_t			  nnames = 0;
	bool			  changed = false;

	sorted = xreallocarray(NULL, list->n, sizeof(*sorted));
	for (size_t i = 0; i < list->n; i++)
		sorted[i] = &list->rr[i];
	qsort(sorted, list->n, sizeof(*sorted), zone_rr_cmp);
	names = list->n > 0 ? xreallocarray(NULL, list->n, sizeof(*names)) :
	    NULL;
	rcu_read_lock();
	for (size_t i = 0, j; i < list->n; i = j) {
		struct zone_owned	*n = &names[nnames++];

		for (j = i + 1; j < list->n && dname_equal(sorted[j]->name,
		    sorted[i]->name); j++)
			;
		n->hash = dname_hash(sorted[i]->name);
		n->sum = zone_digest(&sorted[i], j - i);
		was = o->nnames > 0 ? bsearch(n, o->names, o->nnames,
		    sizeof(*n), zone_owned_cmp) : NULL;
		if (was == NULL || was->sum != n->sum)
			changed |= zone_rebuild(z, sorted[i]->name, n->hash, o->id,
			    &sorted[i], j - i);
	}
	if (nnames > 0) {	/* a name may hold many records: keep only what is used */
		names = xreallocarray(names, nnames, sizeof(*names));
		qsort(names, nnames, sizeof(*names), zone_owned_cmp);
	}
	for (size_t i = 1; i < nnames; i++)
		if (names[i].hash == names[i - 1].hash)
			log_warnx("zone: %s: two names share a 64-bit hash; "
			    "one may keep stale records", key);
	/* Names the owner had and no longer has lose its records. */
	for (size_t i = 0; i < o->nnames; i++) {
		const struct zone_node	*node;
		uint8_t			 name[DNAME_MAX];

		if (nnames > 0 && bsearch(&o->names[i], names, nnames,
		    sizeof(*names), zone_owned_cmp) != NULL)
			continue;
		if ((node = zone_find_owned(z, o->names[i].hash, o->id)) ==
		    NULL)
			continue;
		memcpy(name, zone_node_lname(node),
		    dname_length(zone_node_lname(node)));
		changed |= zone_rebuild(z, name, o->names[i].hash, o->id, NULL,
		    0);
	}
	rcu_read_unlock();
	zone_retire_flush(z);
	zone_size(z);
	free(o->names);
	o->names = names;
	o->nnames = nnames;
	if (nnames == 0) {
		HASH_DEL(z->owners, o);
		free(o->key);
		free(o);
	}
	free(sorted);
	return changed;
}

struct zone *
zone_new(const uint8_t *const *apexes, size_t n)
{
	struct zone	*z = xcalloc(1, sizeof(*z));

	z->buckets = 1024;
	z->ht = cds_lfht_new(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE |
	    CDS_LFHT_ACCOUNTING, NULL);
	if (z->ht == NULL)
		fatalx("zone: cannot create hash table");
	z->apexes = xcalloc(n, sizeof(*z->apexes));
	z->napexes = n;
	rcu_read_lock();
	for (size_t i = 0; i < n; i++) {
		z->apexes[i] = xmalloc(dname_length(apexes[i]));
		memcpy(z->apexes[i], apexes[i], dname_length(apexes[i]));
		if (zone_find(z, apexes[i]) == NULL)
			zone_node_add(z, zone_node_alloc(apexes[i], 0, 0),
			    dname_hash(apexes[i]));
	}
	rcu_read_unlock();
	return z;
}

void
zone_foreach(const struct zone *z, void (*fn)(const struct zone_node *,
    void *), void *arg)
{
	struct cds_lfht_iter	 iter;
	struct zone_node	*node;

	cds_lfht_for_each_entry(z->ht, &iter, node, ht)
		fn(node, arg);
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
	struct cds_lfht_iter	 iter;
	struct zone_node	*node;

	if (z == NULL)
		return;
	rcu_read_lock();
	cds_lfht_for_each_entry(z->ht, &iter, node, ht) {
		cds_lfht_del(z->ht, &node->ht);
		zone_node_retire(z, node);
	}
	rcu_read_unlock();
	zone_retire_flush(z);
	rcu_barrier();
	cds_lfht_destroy(z->ht, NULL);
	HASH_ITER(hh, z->owners, o, tmp) {
		HASH_DEL(z->owners, o);
		free(o->names);
		free(o->key);
		free(o);
	}
	for (size_t i = 0; i < z->napexes; i++)
		free(z->apexes[i]);
	free(z->apexes);
	free(z->retired);
	free(z);
}
