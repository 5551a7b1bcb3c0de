/* explain_int.h -- what explain.c shares with explain_search.c; not for other modules. */
#ifndef PETDNS_EXPLAIN_INT_H
#define PETDNS_EXPLAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "explain.h"

/* A pod's resolv.conf as the kubelet writes it, for a pod in "default". */
#define EXPLAIN_NDOTS		5
#define EXPLAIN_SEARCH_NS	"default"
#define EXPLAIN_LIST_MAX	8	/* names one line lists */
#define EXPLAIN_LINE_MAX	1024
#define EXPLAIN_PRINTF(a, b)	__attribute__((format(printf, a, b)))

/* Adds a line to the explanation. */
void	explain_line(struct explain *, const char *, ...) EXPLAIN_PRINTF(2, 3);
/* Sets the cause and states it: the first line of the explanation. */
void	explain_cause(struct explain *, enum explain_cause, const char *, ...)
	    EXPLAIN_PRINTF(3, 4);
/* snprintf for names that may not fit: a cut one is left empty. */
void	explain_fmt(char *, size_t, const char *, ...) EXPLAIN_PRINTF(3, 4);
/* "a, b, c and 4 more" from in (sorted, duplicates dropped), into buf. */
const char *explain_join(const char *const *in, size_t n, char *buf,
	    size_t len);
/* Asks the zone: the rcode (-1 outside it); *keep: an answer with records. */
int	explain_probe(const struct explain_view *, const uint8_t *lname,
	    uint16_t type, ldns_pkt **keep);
/* The answer's records in e, each with the objects it came from. */
void	explain_records(const struct explain_view *, struct explain *e,
	    const uint8_t *lname, const ldns_rr_list *an);
/* A name in one of the zones: its records, or why there are none. */
void	explain_in_zone(const struct explain_view *, struct explain *e,
	    const uint8_t *lname, uint16_t type);
/* A short name outside the zones, through a pod's search list. */
void	explain_search(const struct explain_view *, struct explain *e,
	    const uint8_t *asked, const char *rel, int dots, const char *zone,
	    uint16_t type);

#endif
