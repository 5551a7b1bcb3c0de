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

/* Immutable once published, except nchild, which only the writer reads. */
struct zone_node {
	struct cds_lfht_node ht;
	struct rcu_head	 rcu;
	uint32_t	 nchild;	/* existing names one label below */
	uint16_t	 nrr;
	uint8_t		*name;
	struct zone_rr	 rr[];		/* then the name, then the rdata */
};

/* What one owner contributed: the names it has records at. */
struct zone_owner {
	char		*key;
	uint32_t	 id;
	uint8_t		**names;
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

static int
zone_match_cb(struct cds_lfht_node *ht, const void *key)
{
	const struct zone_node *node = caa_container_of(ht, struct zone_node,
	    ht);

	return dname_equal(node->name, key);
}

const struct zone_node *
zone_find(const struct zone *z, const uint8_t *lname)
{
	struct cds_lfht_iter	 iter;
	struct cds_lfht_node	*ht;

	cds_lfht_lookup(z->ht, dname_hash(lname), zone_match_cb, lname, &iter);
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
	return node->name;
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
	node->name = (uint8_t *)&node->rr[n];
	memcpy(node->name, name, nlen);
	cds_lfht_node_init(&node->ht);
	return node;
}

static void
zone_node_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct zone_node, rcu));
}

static void
zone_node_retire(struct zone_node *node)
{
	call_rcu(&node->rcu, zone_node_free_cb);
}

static void
zone_node_add(struct zone *z, struct zone_node *node)
{
	cds_lfht_add(z->ht, dname_hash(node->name), &node->ht);
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
	struct zone_node *node = (struct zone_node *)zone_find(z, name);

	if (node != NULL) {
		node->nchild++;
		return;
	}
	if (zone_match(z, name) < 0)
		return;
	node = zone_node_alloc(name, 0, 0);
	node->nchild = 1;
	zone_node_add(z, node);
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
	zone_node_retire(node);
}

static bool
zone_rr_same(const struct zone_rr *a, const struct records_rr *b,
    uint32_t ttl)
{
	return a->type == b->type && a->rdlen == b->rdlen && a->ttl == ttl &&
	    memcmp(a->rdata, b->rdata, b->rdlen) == 0;
}

/* True when the records owner id has at node equal new (in order). */
static bool
zone_node_unchanged(const struct zone_node *node, uint32_t id,
    struct records_rr *const *new, size_t nnew, uint32_t ttl)
{
	size_t	k = 0;

	for (size_t i = 0; node != NULL && i < node->nrr; i++) {
		if (node->rr[i].owner != id)
			continue;
		if (k == nnew || !zone_rr_same(&node->rr[i], new[k], ttl))
			return false;
		k++;
	}
	return k == nnew;
}

static void
zone_node_set_rr(struct zone_node *node, size_t i, uint8_t **data,
    uint32_t owner, uint32_t ttl, uint16_t type, const uint8_t *rdata,
    uint16_t rdlen)
{
	struct zone_rr	*rr = &node->rr[i];

	rr->owner = owner;
	rr->ttl = ttl;
	rr->type = type;
	rr->rdlen = rdlen;
	memcpy(*data, rdata, rdlen);
	rr->rdata = *data;
	*data += rdlen;
}

/* The node for name with owner id's records replaced by new. */
static struct zone_node *
zone_node_merge(const uint8_t *name, const struct zone_node *old,
    uint32_t id, struct records_rr *const *new, size_t nnew, uint32_t ttl)
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
	node->nrr = (uint16_t)n;
	data = node->name + dname_length(name);
	for (size_t i = 0; old != NULL && i < old->nrr; i++) {
		const struct zone_rr *rr = &old->rr[i];

		if (rr->owner != id)
			zone_node_set_rr(node, k++, &data, rr->owner, rr->ttl,
			    rr->type, rr->rdata, rr->rdlen);
	}
	for (size_t i = 0; i < nnew; i++)
		zone_node_set_rr(node, k++, &data, id, ttl, new[i]->type,
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

/* Republishes one name. Returns true when it changed. */
static bool
zone_rebuild(struct zone *z, const uint8_t *name, uint32_t id,
    struct records_rr *const *new, size_t nnew, uint32_t ttl)
{
	struct zone_node	*old, *node;
	struct cds_lfht_iter	 iter;

	if (zone_match(z, name) < 0)
		return false;
	old = (struct zone_node *)zone_find(z, name);
	if (zone_node_unchanged(old, id, new, nnew, ttl))
		return false;
	if (nnew > (size_t)UINT16_MAX - (old ? old->nrr : 0)) {
		log_warnx("zone: too many records at one name; update dropped");
		return false;
	}
	node = zone_node_merge(name, old, id, new, nnew, ttl);
	z->nrecords += zone_served(node);
	z->nrecords -= zone_served(old);
	if (old == NULL) {
		zone_node_add(z, node);
		zone_ref(z, dname_parent(name));
		return true;
	}
	if (node->nrr == 0 && node->nchild == 0 && !zone_is_apex(z, name)) {
		cds_lfht_del(z->ht, &old->ht);
		z->nnodes--;
		zone_unref(z, dname_parent(name));
		free(node);
	} else {
		cds_lfht_lookup(z->ht, dname_hash(name), zone_match_cb, name,
		    &iter);
		cds_lfht_replace(z->ht, &iter, dname_hash(name), zone_match_cb,
		    name, &node->ht);
	}
	zone_node_retire(old);
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

static void
zone_owner_names_free(struct zone_owner *o)
{
	for (size_t i = 0; i < o->nnames; i++)
		free(o->names[i]);
	free(o->names);
	o->names = NULL;
	o->nnames = 0;
}

/* True when name is among the sorted records' names. */
static bool
zone_names_have(struct records_rr **sorted, size_t n, const uint8_t *name)
{
	size_t	lo = 0, hi = n;

	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;
		int	c = dname_compare(sorted[mid]->name, name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
zone_update(struct zone *z, const char *key, const struct records_list *list,
    uint32_t ttl)
{
	struct zone_owner	 *o = zone_owner_get(z, key);
	struct records_rr	**sorted;
	uint8_t			**names;
	size_t			  nnames = 0;
	bool			  changed = false;

	sorted = xreallocarray(NULL, list->n, sizeof(*sorted));
	names = xreallocarray(NULL, list->n, sizeof(*names));
	for (size_t i = 0; i < list->n; i++)
		sorted[i] = &list->rr[i];
	qsort(sorted, list->n, sizeof(*sorted), zone_rr_cmp);
	rcu_read_lock();
	for (size_t i = 0, j; i < list->n; i = j) {
		for (j = i + 1; j < list->n && dname_equal(sorted[j]->name,
		    sorted[i]->name); j++)
			;
		changed |= zone_rebuild(z, sorted[i]->name, o->id, &sorted[i],
		    j - i, ttl);
		names[nnames] = xmalloc(dname_length(sorted[i]->name));
		memcpy(names[nnames++], sorted[i]->name,
		    dname_length(sorted[i]->name));
	}
	for (size_t i = 0; i < o->nnames; i++)
		if (!zone_names_have(sorted, list->n, o->names[i]))
			changed |= zone_rebuild(z, o->names[i], o->id, NULL, 0,
			    ttl);
	rcu_read_unlock();
	zone_size(z);
	zone_owner_names_free(o);
	o->names = names;
	o->nnames = nnames;
	if (nnames == 0) {
		HASH_DEL(z->owners, o);
		free(o->names);
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
			zone_node_add(z, zone_node_alloc(apexes[i], 0, 0));
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
		zone_node_retire(node);
	}
	rcu_read_unlock();
	rcu_barrier();
	cds_lfht_destroy(z->ht, NULL);
	HASH_ITER(hh, z->owners, o, tmp) {
		HASH_DEL(z->owners, o);
		zone_owner_names_free(o);
		free(o->key);
		free(o);
	}
	for (size_t i = 0; i < z->napexes; i++)
		free(z->apexes[i]);
	free(z->apexes);
	free(z);
}
