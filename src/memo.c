/* memo.c -- the answers last built, by question as asked, kept while their zone is unchanged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "memo.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * Sets of four ways, the least recently used replaced: of the 1k bench
 * cluster's ~2,900 questions, 4,096 entries answer about 97% of its query
 * file (simulated; one way: 91%; 2,048 entries: 93%). An entry is 256 bytes, 1 MiB in all;
 * an answer whose name and records take more (a big SRV set with its glue)
 * is built every time.
 */
#define MEMO_WAYS	4
#define MEMO_SETS	1024
#define MEMO_ENTRY	256

/* The hashes of a set's entries (0: empty) in one cache line: a miss reads only that. */
struct memo_set {
	uint64_t	hash[MEMO_WAYS];
	uint32_t	used[MEMO_WAYS];	/* the memo's clock at its last use */
};

struct memo_entry {
	uint64_t	  version;
	uint16_t	  qtype;
	uint8_t		  namelen;	/* the name's, as asked */
	int8_t		  rcode;
	struct wire_saved saved;
	uint8_t		  data[];	/* the name, then the records */
};

#define MEMO_DATA	(MEMO_ENTRY - sizeof(struct memo_entry))

/*
 * Looked up for every question, a memo whose questions are mostly new (the
 * 100k bench mix: ~9% hits) costs cold cache lines, ~0.1 us a miss there,
 * where a hit saves ~0.5 us: below one hit in MEMO_REST_RATIO lookups over
 * a window it rests, looking up one question in MEMO_REST_SAMPLE to notice
 * when that changes.
 */
#define MEMO_WINDOW		1024
#define MEMO_REST_RATIO		5
#define MEMO_REST_SAMPLE	64

struct memo {
	struct memo_set	 sets[MEMO_SETS];
	uint8_t		*entries;	/* MEMO_SETS * MEMO_WAYS of MEMO_ENTRY */
	uint32_t	 clock;
	uint32_t	 lookups, hits;	/* in this window */
	uint32_t	 skipped;	/* resting: questions since the last lookup */
	bool		 resting;
};

struct memo *
memo_new(void)
{
	struct memo	*mo = xcalloc(1, sizeof(*mo));

	mo->entries = xcalloc(MEMO_SETS * MEMO_WAYS, MEMO_ENTRY);
	return mo;
}

void
memo_free(struct memo *mo)
{
	if (mo == NULL)
		return;
	free(mo->entries);
	free(mo);
}

/* Never 0, which marks an empty way. */
static uint64_t
memo_hash(const struct wire_query *q)
{
	return (dname_hash_len(q->qname, q->namelen) ^
	    q->qtype * 0x9e3779b97f4a7c15u) | 1;
}

static struct memo_entry *
memo_entry(struct memo *mo, size_t set, size_t way)
{
	return (struct memo_entry *)(mo->entries +
	    (set * MEMO_WAYS + way) * MEMO_ENTRY);
}

static bool
memo_same(const struct memo_entry *e, const struct wire_query *q)
{
	return e->qtype == q->qtype && e->namelen == q->namelen &&
	    memcmp(e->data, q->qname, q->namelen) == 0;
}

bool
memo_wanted(struct memo *mo)
{
	if (!mo->resting)
		return true;
	if (++mo->skipped < MEMO_REST_SAMPLE)
		return false;
	mo->skipped = 0;
	return true;
}

/* Counts a lookup; at the end of a window, decides whether to rest. */
static void
memo_count(struct memo *mo, bool hit)
{
	mo->hits += hit;
	if (++mo->lookups < MEMO_WINDOW)
		return;
	mo->resting = mo->hits * MEMO_REST_RATIO < mo->lookups;
	mo->lookups = mo->hits = 0;
}

int
memo_get(struct memo *mo, const struct wire_query *q, uint64_t version,
    struct wire_msg *m)
{
	uint64_t		 h = memo_hash(q);
	size_t			 set = h % MEMO_SETS;
	struct memo_set		*s = &mo->sets[set];
	struct memo_entry	*e;
	int			 rcode = -1;

	for (size_t w = 0; w < MEMO_WAYS; w++) {
		if (s->hash[w] != h)
			continue;
		e = memo_entry(mo, set, w);
		if (e->version == version && memo_same(e, q) &&
		    wire_msg_load(m, e->data + e->namelen, &e->saved)) {
			s->used[w] = ++mo->clock;
			rcode = e->rcode;
		}
		break;
	}
	memo_count(mo, rcode >= 0);
	return rcode;
}

void
memo_put(struct memo *mo, const struct wire_query *q, uint64_t version,
    const struct wire_msg *m, int rcode)
{
	uint64_t		 h = memo_hash(q);
	size_t			 set = h % MEMO_SETS, way = 0;
	struct memo_set		*s = &mo->sets[set];
	struct memo_entry	*e;

	if (q->namelen >= MEMO_DATA)
		return;
	/* The same question's stale entry, else the least recently used. */
	for (size_t w = 0; w < MEMO_WAYS; w++) {
		if (s->hash[w] == h && memo_same(memo_entry(mo, set, w), q)) {
			way = w;
			break;
		}
		if (s->used[w] < s->used[way])
			way = w;
	}
	e = memo_entry(mo, set, way);
	s->hash[way] = 0;
	if (!wire_msg_save(m, e->data + q->namelen, MEMO_DATA - q->namelen,
	    &e->saved))
		return;
	memcpy(e->data, q->qname, q->namelen);
	e->version = version;
	e->qtype = q->qtype;
	e->namelen = (uint8_t)q->namelen;
	e->rcode = (int8_t)rcode;
	s->hash[way] = h;
	s->used[way] = ++mo->clock;
}
