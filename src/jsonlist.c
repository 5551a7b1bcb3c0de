/* jsonlist.c -- a Kubernetes List body item by item: json-c parses every key and value, this walks the punctuation between. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonlist.h"

struct jsonlist {
	struct json_tokener	*tok;
	const char		*p, *end;
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

/* One JSON value, parsed by json-c up to where it ends; -1 when malformed or cut short. */
static int
jsonlist_value(struct jsonlist *l, struct json_object **out)
{
	size_t	left;

	jsonlist_space(l);
	left = (size_t)(l->end - l->p);
	*out = NULL;
	if (left == 0 || left > INT_MAX)
		return -1;
	json_tokener_reset(l->tok);
	*out = json_tokener_parse_ex(l->tok, l->p, (int)left);
	if (json_tokener_get_error(l->tok) != json_tokener_success) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	l->p += json_tokener_get_parse_end(l->tok);
	return 0;
}

/* The "items" array, its '[' next: each element to cb->item, then freed. */
static int
jsonlist_items(struct jsonlist *l, const struct jsonlist_cb *cb, void *arg)
{
	struct json_object	*item;

	if (!jsonlist_char(l, '['))
		return -1;
	cb->items(arg);
	if (jsonlist_char(l, ']'))
		return 0;
	do {
		if (jsonlist_value(l, &item) == -1)
			return -1;
		cb->item(item, arg);
		json_object_put(item);
	} while (jsonlist_char(l, ','));
	return jsonlist_char(l, ']') ? 0 : -1;
}

/* One "key": value member; *items counts the "items" seen. */
static int
jsonlist_member(struct jsonlist *l, const struct jsonlist_cb *cb, void *arg,
    int *items)
{
	struct json_object	*key, *value;
	int			 rc = -1;

	if (jsonlist_value(l, &key) == -1 || !json_object_is_type(key,
	    json_type_string) || !jsonlist_char(l, ':'))
		goto out;
	if (strcmp(json_object_get_string(key), "items") == 0)
		rc = (*items)++ == 0 ? jsonlist_items(l, cb, arg) : -1;
	else if ((rc = jsonlist_value(l, &value)) == 0) {
		cb->member(json_object_get_string(key), value, arg);
		json_object_put(value);
	}
out:
	json_object_put(key);
	return rc;
}

int
jsonlist_walk(struct json_tokener *tok, const char *body, size_t len,
    const struct jsonlist_cb *cb, void *arg)
{
	struct jsonlist	l = { tok, body, body + len };
	int		items = 0;

	if (!jsonlist_char(&l, '{'))
		return -1;
	if (jsonlist_char(&l, '}'))
		return -1;	/* no "items" */
	do {
		if (jsonlist_member(&l, cb, arg, &items) == -1)
			return -1;
	} while (jsonlist_char(&l, ','));
	/* What follows the List is ignored, as json-c's own parse would. */
	return jsonlist_char(&l, '}') && items == 1 ? 0 : -1;
}
