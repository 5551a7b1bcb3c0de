/* memo.h -- the answers last built, by question as asked, kept while their zone is unchanged. */
#ifndef PETDNS_MEMO_H
#define PETDNS_MEMO_H

#include <stdbool.h>
#include <stdint.h>

struct memo;
struct wire_msg;
struct wire_query;

/*
 * An empty memo of a fixed size (about 1 MiB, touched as it fills). One
 * thread uses it: the responder's.
 */
struct memo	*memo_new(void);
void		 memo_free(struct memo *);
/*
 * Whether to look this question up (and keep its answer): always, unless
 * the last lookups mostly missed; then one question in 64, to notice when
 * that changes.
 */
bool	memo_wanted(struct memo *);
/*
 * The answer kept for q's name (as asked) and type at zone version, put
 * into m (as wire_msg_init left it): its rcode, or -1 when none is kept.
 */
int	memo_get(struct memo *, const struct wire_query *q, uint64_t version,
	    struct wire_msg *m);
/*
 * Keeps the answer m holds (its records, before wire_msg_finish), with its
 * rcode, as the answer to q at version; one too big is not kept.
 */
void	memo_put(struct memo *, const struct wire_query *q, uint64_t version,
	    const struct wire_msg *m, int rcode);

#endif
