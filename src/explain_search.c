/* explain_search.c -- what a pod's resolver makes of a short name: its search list, tried in turn. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dname.h"
#include "explain.h"
#include "explain_int.h"
#include "object.h"
#include "store.h"
#include "xmalloc.h"
#include "zone.h"

static bool
explain_answers(const struct explain_view *v, const char *name, uint16_t type)
{
	uint8_t		 wire[DNAME_MAX];
	ldns_pkt	*hit = NULL;

	if (dname_from_str(name, wire) == -1)
		return false;
	explain_probe(v, wire, type, &hit);
	ldns_pkt_free(hit);
	return hit != NULL;
}

struct explain_ns_hits {
	const struct explain_view *v;
	const char	*rel;
	const char	*zone;
	uint16_t	 type;
	const char	*ns[EXPLAIN_LIST_MAX];
	size_t		 n;
};

static void
explain_ns_hits_cb(const struct object *ns, void *arg)
{
	struct explain_ns_hits	*h = arg;
	char			 name[DNAME_MAX * 4];

	if (h->n == EXPLAIN_LIST_MAX ||
	    strcmp(ns->name, EXPLAIN_SEARCH_NS) == 0)
		return;
	explain_fmt(name, sizeof(name), "%s.%s.svc.%s.", h->rel, ns->name,
	    h->zone);
	if (explain_answers(h->v, name, h->type))
		h->ns[h->n++] = ns->name;
}

/* No search-list name answers: where it would, and why the first fails. */
static void
explain_search_miss(const struct explain_view *v, struct explain *e,
    const char *rel, const char *zone, const char *first, uint16_t type)
{
	struct explain_ns_hits	 h = { .v = v, .rel = rel, .zone = zone,
				    .type = type };
	struct explain		*t = xcalloc(1, sizeof(*t));
	uint8_t			 wire[DNAME_MAX];
	char			 list[EXPLAIN_LINE_MAX / 2];

	store_foreach(v->store, OBJECT_NAMESPACE, NULL, explain_ns_hits_cb, &h);
	if (h.n > 0)
		explain_line(e, "it resolves from pods in namespace %s (as "
		    "%s.<namespace>.svc.%s); elsewhere, add the namespace",
		    explain_join(h.ns, h.n, list, sizeof(list)), rel, zone);
	t->name = xstrdup(first);
	t->type = type;
	if (dname_from_str(first, wire) != -1 && zone_match(v->zone,
	    wire) >= 0) {
		explain_in_zone(v, t, wire, type);
		explain_line(e, "%s fails because:", first);
		for (size_t i = 0; i < t->nlines; i++)
			explain_line(e, "  %s", t->lines[i]);
		e->rcode = t->rcode;
	}
	explain_free(t);
}

/*
 * A short name outside the zones: a pod's resolver (ndots:5) tries its
 * search list first, and the first expansion that answers wins.
 */
void
explain_search(const struct explain_view *v, struct explain *e,
    const uint8_t *asked, const char *rel, int dots, const char *zone,
    uint16_t type)
{
	char		 cand[4][DNAME_MAX * 4];
	char		*tname = ldns_rr_type2str(type);
	uint8_t		 wire[DNAME_MAX];
	ldns_pkt	*hit = NULL;
	int		 rcode;

	/* Too long for a name: dname_from_str refuses it below. */
	explain_fmt(cand[0], sizeof(cand[0]), "%s.%s.svc.%s.", rel,
	    EXPLAIN_SEARCH_NS, zone);
	explain_fmt(cand[1], sizeof(cand[1]), "%s.svc.%s.", rel, zone);
	explain_fmt(cand[2], sizeof(cand[2]), "%s.%s.", rel, zone);
	explain_fmt(cand[3], sizeof(cand[3]), "%s.", rel);
	explain_cause(e, EXPLAIN_SEARCH_PATH, "\"%s\" has %d dot%s, fewer "
	    "than ndots:5, so a pod in namespace %s (search %s.svc.%s svc.%s "
	    "%s) asks in turn:", rel, dots, dots == 1 ? "" : "s",
	    EXPLAIN_SEARCH_NS, EXPLAIN_SEARCH_NS, zone, zone, zone);
	for (int i = 0; i < 4 && hit == NULL; i++) {
		if (cand[i][0] == '\0' || dname_from_str(cand[i], wire) == -1)
			continue;
		rcode = explain_probe(v, wire, type, &hit);
		if (hit != NULL) {
			explain_line(e, "  %d. %s %s: answers", i + 1, cand[i],
			    tname);
			e->rcode = LDNS_RCODE_NOERROR;
			explain_records(v, e, asked, ldns_pkt_answer(hit));
		} else if (rcode == -1)
			explain_line(e, "  %d. %s %s: not a cluster name, "
			    "forwarded", i + 1, cand[i], tname);
		else
			explain_line(e, "  %d. %s %s: %s", i + 1, cand[i],
			    tname, rcode == LDNS_RCODE_NXDOMAIN ? "NXDOMAIN" :
			    "no records (NODATA)");
	}
	if (hit == NULL)
		explain_search_miss(v, e, rel, zone, cand[0], type);
	ldns_pkt_free(hit);
	free(tname);
}
