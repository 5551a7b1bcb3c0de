/* corefile.h -- Corefile lexer and block cursor: tokens with file:line (CoreDNS's dispenser). */
#ifndef PETDNS_COREFILE_H
#define PETDNS_COREFILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A parsed Corefile: server blocks of lines, with {$ENV} substituted and
 * snippets and imports expanded. A line is a directive in a server block or
 * an option in a directive's { } block; it has a name, arguments and maybe
 * its own { } block of lines. Everything is borrowed from the corefile.
 */
struct corefile;
struct corefile_block;
struct corefile_line;

/* Where something was written; file is the importing or imported file. */
struct corefile_pos {
	const char *file;
	int	 line;
};

/* Reads and parses path. NULL on error, with err filled ("FILE:LINE: ..."). */
struct corefile *corefile_load(const char *path, char *err, size_t errlen);
/* Parses text; name stands for its file in errors and anchors imports. */
struct corefile *corefile_parse(const char *name, const char *text,
	    char *err, size_t errlen);
void	 corefile_free(struct corefile *);

/* The i-th server block in file order; NULL past the last. */
const struct corefile_block *corefile_block(const struct corefile *, size_t);
const struct corefile_pos *corefile_block_pos(const struct corefile_block *);
/* The i-th key (commas split them); NULL past the last. pos may be NULL. */
const char *corefile_key(const struct corefile_block *, size_t,
	    const struct corefile_pos **pos);
/* The block's first directive line; NULL when the block is empty. */
const struct corefile_line *corefile_first(const struct corefile_block *);

/* The next line of the same block; NULL after the last. */
const struct corefile_line *corefile_next(const struct corefile_line *);
/* The first line of the line's own { } block; NULL when none or empty. */
const struct corefile_line *corefile_options(const struct corefile_line *);
/* True when the line opened a { } block, even an empty one. */
bool	 corefile_has_block(const struct corefile_line *);
const char *corefile_name(const struct corefile_line *);
size_t	 corefile_nargs(const struct corefile_line *);
/* The i-th argument after the name; NULL past the last. */
const char *corefile_arg(const struct corefile_line *, size_t);
const struct corefile_pos *corefile_pos(const struct corefile_line *);

/* Fills err with "FILE:LINE: " and the message. Returns -1. */
int	 corefile_errf(const struct corefile_pos *, char *err, size_t errlen,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Go's time.ParseDuration ("500ms", "1m30s", "0"), as CoreDNS reads
 * durations: *ms rounded up to whole milliseconds, capped at INT_MAX; a
 * negative duration gives 0 and sets *negative (may be NULL). False when
 * malformed.
 */
bool	 corefile_duration(const char *, int *ms, bool *negative);
/*
 * A zone as a server block key or directive argument gives it: lower case,
 * no trailing dot, the root as "."; an IPv4/IPv6 CIDR on an octet/nibble
 * boundary becomes its reverse zone. A new string, or NULL with why filled.
 */
char	*corefile_zone(const char *, char *why, size_t whylen);

#endif
