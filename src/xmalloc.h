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

#endif
