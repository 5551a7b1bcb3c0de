/* xmalloc.h -- allocation that aborts on exhaustion, so callers need no OOM paths. */
#ifndef PETDNS_XMALLOC_H
#define PETDNS_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Returns a new string; never NULL. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Appends s (taken) to the vector *v of *n strings. */
void	xstrv_push(char ***v, size_t *n, char *s);
/* Frees the n strings and the vector; NULL is a no-op. */
void	xstrv_free(char **v, size_t n);

#endif
