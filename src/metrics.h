/* metrics.h -- a Prometheus registry of CoreDNS's metric families, cheap handles, text format 0.0.4. */
#ifndef PETDNS_METRICS_H
#define PETDNS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct metrics;
struct metrics_counter;
struct metrics_func;
struct metrics_gauge;
struct metrics_histogram;

/*
 * Families are fixed: the CoreDNS names, help texts, label names and
 * buckets petdns exports are one table in metrics.c, with the process_*
 * metrics of the Go client. A series (one set of label values) is created
 * the first time it is asked for. values holds one string per label name,
 * in the family's order (metrics.c lists it as CoreDNS declares it), NULL
 * standing for ""; a family without labels takes NULL for values.
 * Everything is thread-safe. Handles live as long as the registry, so
 * callers resolve them once and keep them.
 */
struct metrics *metrics_new(void);
void	metrics_free(struct metrics *);

/*
 * The series of a counter, gauge or histogram family; values are copied.
 * NULL (and a warning) when the family is unknown or of another type. The
 * update functions are lock-free, for the query path; a NULL handle is a
 * no-op.
 */
struct metrics_counter *metrics_counter_get(struct metrics *,
	    const char *name, const char *const *values);
void	metrics_counter_add(struct metrics_counter *, uint64_t);
struct metrics_gauge *metrics_gauge_get(struct metrics *, const char *name,
	    const char *const *values);
void	metrics_gauge_set(struct metrics_gauge *, double);
void	metrics_gauge_add(struct metrics_gauge *, double);
struct metrics_histogram *metrics_histogram_get(struct metrics *,
	    const char *name, const char *const *values);
/* Counts v in the first bucket whose upper bound is >= v. */
void	metrics_histogram_observe(struct metrics_histogram *, double v);

/*
 * A counter or gauge series whose value fn(arg) computes at scrape time,
 * on the scraping thread, under the registry's lock: fn must not call back
 * into metrics. A NaN result leaves the sample out. Several functions of
 * one series add up. NULL when the family is unknown or a histogram.
 */
struct metrics_func *metrics_func_add(struct metrics *, const char *name,
	    const char *const *values, double (*fn)(void *), void *arg);
/* The series disappears; fn is not running and will not run again. */
void	metrics_func_remove(struct metrics *, struct metrics_func *);

/*
 * Hides every series of a family and zeroes it, as Go's Vec.Reset (for
 * coredns_plugin_enabled on reload): a series shows again once it is asked
 * for with a _get. Old handles stay valid but update a hidden series.
 */
void	metrics_reset(struct metrics *, const char *name);

/* Appends the text exposition (format 0.0.4), families sorted by name. */
void	metrics_render(struct metrics *, struct evbuffer *);

/* CoreDNS's type label: "A", "AAAA"... for types it counts, else "other". */
const char *metrics_qtype_label(uint16_t qtype);
/* CoreDNS's rcode label: "NOERROR", "NXDOMAIN", ..., else "RCODE<n>". */
const char *metrics_rcode_label(int rcode, char *buf, size_t len);

#endif
