/* dname.h -- domain names in wire format: building, comparing and hashing the zone's keys. */
#ifndef PETDNS_DNAME_H
#define PETDNS_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct object_ip;

#define DNAME_MAX	255

/* One byte folded: ASCII only, as RFC 4343 folds case; no locale, no branch. */
static inline uint8_t
dname_lower_byte(uint8_t c)
{
	return (uint8_t)(c | (uint8_t)((unsigned)(c - 'A') < 26) << 5);
}

/* Length of a wire name including the root byte. */
size_t	dname_length(const uint8_t *);
/* Lower-cases ASCII letters in place. */
void	dname_lower(uint8_t *);
/* Copies len bytes of src (a name) to dst in lower case; dst may be src. */
void	dname_lower_copy_len(uint8_t *dst, const uint8_t *src, size_t len);
/* Copies name into dst in lower case (the idiom every lookup starts with). */
void	dname_lower_copy(uint8_t dst[DNAME_MAX], const uint8_t *name);
/* Parses presentation text ("a.b", "a.b.", "." ) into lower-case wire; returns its length or -1. */
int	dname_from_str(const char *, uint8_t wire[DNAME_MAX]);
/* n names (zones of a configuration) to lower-case wire, each allocated; unparsable ones NULL. */
uint8_t	**dname_from_strv(char *const *names, size_t n);
void	dname_strv_free(uint8_t **, size_t n);
/* Writes labels then suffix (a wire name) into wire; returns the length or -1 when too long or a label is empty or over 63 bytes. */
int	dname_build(uint8_t wire[DNAME_MAX], const char *const *labels,
	    size_t nlabels, const uint8_t *suffix);
/* The name without its first label; the root for the root. */
const uint8_t *dname_parent(const uint8_t *);
/* Labels in the name, the root not counted. */
int	dname_labels(const uint8_t *);
/* True when name equals apex or lies below it; both lower case. */
bool	dname_is_under(const uint8_t *name, const uint8_t *apex);
/* The same with both lengths (dname_length) known: per query, once. */
bool	dname_is_under_len(const uint8_t *name, size_t nlen,
	    const uint8_t *apex, size_t alen);
bool	dname_equal(const uint8_t *, const uint8_t *);
/* Case-insensitive comparison of two wire names, for lookups of names as asked. */
bool	dname_equal_nocase(const uint8_t *, const uint8_t *);
/* A total order on wire names (bytewise), for sorting. */
int	dname_compare(const uint8_t *, const uint8_t *);
uint64_t dname_hash(const uint8_t *);
/* The same when its length (dname_length) is known. */
uint64_t dname_hash_len(const uint8_t *, size_t len);
/* dname_hash's core, for other keys: len bytes of p folded into h, eight a step. */
uint64_t dname_hash_fold(uint64_t h, const void *p, size_t len);
/* The in-addr.arpa or ip6.arpa name of ip; returns the length. */
int	dname_reverse(const struct object_ip *, uint8_t wire[DNAME_MAX]);
/* The address a full in-addr.arpa or ip6.arpa name (lower case, canonical) names: 0, else -1. */
int	dname_address(const uint8_t *lname, struct object_ip *);
/* Presentation form without the trailing dot ("." for the root) into buf. */
char	*dname_to_str(const uint8_t *, char *buf, size_t len);

#endif
