/* jdoc.h -- one JSON value parsed by yajl into a flat array: no allocation per value. */
#ifndef PETDNS_JDOC_H
#define PETDNS_JDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jdoc_type {
	JDOC_NULL,
	JDOC_BOOL,
	JDOC_INT,		/* integer syntax that fits an int64_t */
	JDOC_DOUBLE,		/* any other number */
	JDOC_STRING,
	JDOC_ARRAY,
	JDOC_OBJECT
};

/*
 * A value, its members or elements right after it in document order: the
 * first child of a container c is c + 1, the next sibling of v is v + v->span.
 */
#define JDOC_KEYLEN_MAX	UINT16_MAX

struct jdoc_val {
	const char	*key;		/* as a member of an object; else NULL */
	union {
		const char	*s;	/* NUL-terminated; may hold NULs */
		int64_t		 i;
		double		 d;
		bool		 b;
		const char	*text;	/* a container's: in the parsed text */
	} u;
	uint32_t	 span;		/* values in this one's subtree, itself too */
	uint32_t	 n;		/* members, elements, or the string's length */
	uint32_t	 textlen;	/* a container's JSON text */
	uint8_t		 type;
	uint16_t	 keylen;	/* key's length, JDOC_KEYLEN_MAX when longer */
};

struct jdoc;

struct jdoc	*jdoc_new(void);
void		 jdoc_free(struct jdoc *);

/*
 * Parses the JSON value at the start of text[0..len) (whitespace before it
 * skipped, whatever follows it ignored) into doc, replacing what doc held.
 * *used, when not NULL, gets the offset just past the value. Returns the
 * value, valid until the next parse into doc; NULL when the text is not one
 * complete value or nests deeper than 64, with why in err.
 */
const struct jdoc_val *jdoc_parse(struct jdoc *, const char *text, size_t len,
	    size_t *used, char *err, size_t errlen);

/* An object's member key (the last of equal keys), or NULL; NULL if not an object. */
const struct jdoc_val *jdoc_get(const struct jdoc_val *, const char *key);
/* A container's first child, or NULL. */
const struct jdoc_val *jdoc_first(const struct jdoc_val *);
/* The next child of parent after v, or NULL. */
const struct jdoc_val *jdoc_next(const struct jdoc_val *parent,
	    const struct jdoc_val *v);
/*
 * An array's or object's JSON text as the parsed text has it (borrowed from
 * that text, not NUL-terminated); NULL for other values.
 */
const char	*jdoc_text(const struct jdoc_val *, size_t *len);
/* Element i of an array, or NULL. */
const struct jdoc_val *jdoc_at(const struct jdoc_val *, size_t i);

#endif
