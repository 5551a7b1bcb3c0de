/* selector.h -- Kubernetes label selectors (labels.Parse syntax without !=, gt, lt, as CoreDNS takes them). */
#ifndef PETDNS_SELECTOR_H
#define PETDNS_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

struct object_label;
struct selector;

/* Parses "k=v,k2 in (a,b),!k3"; NULL with err filled when invalid. An empty text matches everything. */
struct selector *selector_parse(const char *text, char *err, size_t errlen);
/* True when labels satisfy every requirement. */
bool	selector_matches(const struct selector *, const struct object_label *,
	    size_t nlabels);
void	selector_free(struct selector *);

#endif
