/* jsonlist.c -- a Kubernetes List body item by item: jdoc parses every key and value, this walks the punctuation between. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "jsonlist.h"
#include "xmalloc.h"

struct jsonlist {
	struct jdoc	*doc;
	const char	*p, *end;
};

/* JSON's four whitespace characters (RFC 8259). */
static void
jsonlist_space(struct jsonlist *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' ||
	    *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

/* Consumes c, after whitespace; false when something else is there. */
static bool
jsonlist_char(struct jsonlist *l, char c)
{
	jsonlist_space(l);
	if (l->p == l->end || *l->p != c)
		return false;
	l->p++;
	return true;
}

/*
 * One JSON value, parsed up to where it ends; -1 when malformed or cut
 * short. It is valid until the next.
 */
static int
jsonlist_value(struct jsonlist *l, const struct jdoc_val **out)
{
	char	err[128];
	size_t	used;

	jsonlist_space(l);
	*out = jdoc_parse(l->doc, l->p, (size_t)(l->end - l->p), &used, err,
	    sizeof(err));
	if (*out == NULL)
		return -1;
	l->p += used;
	return 0;
}

/* The "items" array, its '[' next: each element to cb->item, then freed. */
static int
jsonlist_items(struct jsonlist *l, const struct jsonlist_cb *cb, void *arg)
{
	const struct jdoc_val	*item;

	if (!jsonlist_char(l, '['))
		return -1;
	cb->items(arg);
	if (jsonlist_char(l, ']'))
		return 0;
	do {
		if (jsonlist_value(l, &item) == -1)
			return -1;
		cb->item(item, arg);
	} while (jsonlist_char(l, ','));
	return jsonlist_char(l, ']') ? 0 : -1;
}

/* One "key": value member; *items counts the "items" seen. */
static int
jsonlist_member(struct jsonlist *l, const struct jsonlist_cb *cb, void *arg,
    int *items)
{
	const struct jdoc_val	*v;
	char			*key;
	int			 rc = -1;

	if (jsonlist_value(l, &v) == -1 || v->type != JDOC_STRING)
		return -1;
	/* The key's own copy: parsing the value reuses the document. */
	key = xstrdup(v->u.s);
	if (!jsonlist_char(l, ':'))
		goto out;
	if (strcmp(key, "items") == 0)
		rc = (*items)++ == 0 ? jsonlist_items(l, cb, arg) : -1;
	else if ((rc = jsonlist_value(l, &v)) == 0)
		cb->member(key, v, arg);
out:
	free(key);
	return rc;
}

int
jsonlist_walk(struct jdoc *doc, const char *body, size_t len,
    const struct jsonlist_cb *cb, void *arg)
{
	struct jsonlist	l = { doc, body, body + len };
	int		items = 0;

	if (!jsonlist_char(&l, '{'))
		return -1;
	if (jsonlist_char(&l, '}'))
		return -1;	/* no "items" */
	do {
		if (jsonlist_member(&l, cb, arg, &items) == -1)
			return -1;
	} while (jsonlist_char(&l, ','));
	/* What follows the List is ignored, as a parse of it whole would. */
	return jsonlist_char(&l, '}') && items == 1 ? 0 : -1;
}
