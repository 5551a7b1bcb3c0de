/* jdoc.c -- yajl's parse events kept as one array of values, strings in one buffer sized by the text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "jdoc.h"
#include "log.h"
#include "xmalloc.h"

#define JDOC_DEPTH	64

struct jdoc {
	struct jdoc_val	*v;
	size_t		 nv, cap;
	char		*str;		/* strings and keys, NUL-terminated */
	size_t		 nstr, strcap;
	uint32_t	 open[JDOC_DEPTH];	/* the containers not yet closed */
	int		 depth;
	const char	*key;		/* the next member's */
	uint16_t	 keylen;
	const char	*text;		/* being parsed */
	yajl_handle	 h;
	const char	*fail;		/* why a callback stopped the parse */
};

struct jdoc *
jdoc_new(void)
{
	return xcalloc(1, sizeof(struct jdoc));
}

void
jdoc_free(struct jdoc *d)
{
	if (d == NULL)
		return;
	free(d->v);
	free(d->str);
	free(d);
}

/* A new value in the open container; NULL once a value is complete at the top. */
static struct jdoc_val *
jdoc_add(struct jdoc *d, uint8_t type)
{
	struct jdoc_val	*v;

	if (d->depth == 0 && d->nv > 0) {
		d->fail = "more than one value";
		return NULL;
	}
	if (d->nv == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	if (d->depth > 0)
		d->v[d->open[d->depth - 1]].n++;
	v = &d->v[d->nv++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->span = 1;
	v->key = d->key;
	v->keylen = d->keylen;
	d->key = NULL;
	return v;
}

/*
 * Copies a string into the buffer: it never grows while a value is parsed
 * (jdoc_parse sizes it by the text, which no unescaped string outgrows), so
 * the pointers handed out stay put.
 */
static const char *
jdoc_str(struct jdoc *d, const unsigned char *s, size_t len)
{
	char	*p = d->str + d->nstr;

	memcpy(p, s, len);
	p[len] = '\0';
	d->nstr += len + 1;
	return p;
}

static int
jdoc_null_cb(void *ctx)
{
	return jdoc_add(ctx, JDOC_NULL) != NULL;
}

static int
jdoc_bool_cb(void *ctx, int b)
{
	struct jdoc_val	*v = jdoc_add(ctx, JDOC_BOOL);

	if (v != NULL)
		v->u.b = b != 0;
	return v != NULL;
}

/* Integer syntax that fits int64_t is JDOC_INT, as json-c's type int. */
static int
jdoc_number_cb(void *ctx, const char *s, size_t len)
{
	struct jdoc	*d = ctx;
	struct jdoc_val	*v = jdoc_add(d, JDOC_INT);
	char		*t, *end;

	if (v == NULL)
		return 0;
	/* A scratch copy past the strings: the number's own bytes paid for it. */
	t = d->str + d->nstr;
	memcpy(t, s, len);
	t[len] = '\0';
	errno = 0;
	if (strpbrk(t, ".eE") == NULL) {
		v->u.i = strtoll(t, &end, 10);
		if (errno == 0 && *end == '\0')
			return 1;
	}
	v->type = JDOC_DOUBLE;
	v->u.d = strtod(t, NULL);
	return 1;
}

static int
jdoc_string_cb(void *ctx, const unsigned char *s, size_t len)
{
	struct jdoc	*d = ctx;
	struct jdoc_val	*v = jdoc_add(d, JDOC_STRING);

	if (v == NULL)
		return 0;
	v->u.s = jdoc_str(d, s, len);
	v->n = (uint32_t)len;
	return 1;
}

static int
jdoc_open(struct jdoc *d, uint8_t type)
{
	struct jdoc_val	*v;

	if (d->depth == JDOC_DEPTH) {
		d->fail = "nested too deep";
		return 0;
	}
	if ((v = jdoc_add(d, type)) == NULL)
		return 0;
	/* yajl has just consumed the bracket. */
	v->u.text = d->text + yajl_get_bytes_consumed(d->h) - 1;
	d->open[d->depth++] = (uint32_t)(d->nv - 1);
	return 1;
}

static int
jdoc_close(void *ctx)
{
	struct jdoc	*d = ctx;
	struct jdoc_val	*v = &d->v[d->open[--d->depth]];

	v->span = (uint32_t)(d->nv - (size_t)(v - d->v));
	v->textlen = (uint32_t)(d->text + yajl_get_bytes_consumed(d->h) -
	    v->u.text);
	return 1;
}

static int
jdoc_start_map_cb(void *ctx)
{
	return jdoc_open(ctx, JDOC_OBJECT);
}

static int
jdoc_key_cb(void *ctx, const unsigned char *s, size_t len)
{
	struct jdoc	*d = ctx;

	d->key = jdoc_str(d, s, len);
	d->keylen = len < JDOC_KEYLEN_MAX ? (uint16_t)len : JDOC_KEYLEN_MAX;
	return 1;
}

static int
jdoc_start_array_cb(void *ctx)
{
	return jdoc_open(ctx, JDOC_ARRAY);
}

static const yajl_callbacks jdoc_callbacks = {
	.yajl_null = jdoc_null_cb,
	.yajl_boolean = jdoc_bool_cb,
	.yajl_number = jdoc_number_cb,
	.yajl_string = jdoc_string_cb,
	.yajl_start_map = jdoc_start_map_cb,
	.yajl_map_key = jdoc_key_cb,
	.yajl_end_map = jdoc_close,
	.yajl_start_array = jdoc_start_array_cb,
	.yajl_end_array = jdoc_close,
};

/* yajl's message for the error in text, one line. */
static void
jdoc_error(yajl_handle h, const char *text, size_t len, char *err,
    size_t errlen)
{
	unsigned char	*msg = yajl_get_error(h, 0, (const unsigned char *)text,
			    len);
	char		*nl;

	if (errlen == 0) {
		yajl_free_error(h, msg);
		return;
	}
	snprintf(err, errlen, "%s", msg ? (char *)msg : "malformed JSON");
	if ((nl = strchr(err, '\n')) != NULL)
		*nl = '\0';
	if (msg != NULL)
		yajl_free_error(h, msg);
}

const struct jdoc_val *
jdoc_parse(struct jdoc *d, const char *text, size_t len, size_t *used,
    char *err, size_t errlen)
{
	yajl_handle	 h;
	yajl_status	 st;
	size_t		 end;

	d->nv = 0;
	d->nstr = 0;
	d->depth = 0;
	d->key = NULL;
	d->fail = NULL;
	if (len + 1 > d->strcap) {
		free(d->str);
		d->strcap = len + 1;
		d->str = xmalloc(d->strcap);
	}
	if (len > UINT32_MAX) {
		snprintf(err, errlen, "JSON text of %zu bytes", len);
		return NULL;
	}
	if ((h = yajl_alloc(&jdoc_callbacks, NULL, d)) == NULL)
		fatalx("jdoc: out of memory");
	d->h = h;
	d->text = text;
	/* json-c, which this replaces, let invalid UTF-8 through too. */
	yajl_config(h, yajl_dont_validate_strings, 1);
	yajl_config(h, yajl_allow_trailing_garbage, 1);
	st = yajl_parse(h, (const unsigned char *)text, len);
	end = yajl_get_bytes_consumed(h);
	/* A number at the very end is complete only when yajl is told so. */
	if (st == yajl_status_ok && (d->nv == 0 || d->depth > 0))
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok || d->nv == 0 || d->depth > 0) {
		if (d->fail != NULL)
			snprintf(err, errlen, "%s", d->fail);
		else if (st == yajl_status_ok)
			snprintf(err, errlen, "incomplete JSON");
		else
			jdoc_error(h, text, len, err, errlen);
		yajl_free(h);
		return NULL;
	}
	yajl_free(h);
	if (used != NULL)
		*used = end;
	return d->v;
}

const struct jdoc_val *
jdoc_get(const struct jdoc_val *obj, const char *key)
{
	const struct jdoc_val	*v, *found = NULL;
	size_t			 len = strlen(key);
	uint16_t		 kl = len < JDOC_KEYLEN_MAX ? (uint16_t)len :
				    JDOC_KEYLEN_MAX;

	if (obj == NULL || obj->type != JDOC_OBJECT)
		return NULL;
	/* Lengths first: most members are told apart without a compare. */
	for (v = jdoc_first(obj); v != NULL; v = jdoc_next(obj, v))
		if (v->keylen == kl && (kl < JDOC_KEYLEN_MAX ?
		    memcmp(v->key, key, len) == 0 : strcmp(v->key, key) == 0))
			found = v;
	return found;
}

const struct jdoc_val *
jdoc_first(const struct jdoc_val *c)
{
	return c != NULL && c->span > 1 ? c + 1 : NULL;
}

const struct jdoc_val *
jdoc_next(const struct jdoc_val *parent, const struct jdoc_val *v)
{
	return v + v->span < parent + parent->span ? v + v->span : NULL;
}

const char *
jdoc_text(const struct jdoc_val *v, size_t *len)
{
	if (v->type != JDOC_ARRAY && v->type != JDOC_OBJECT)
		return NULL;
	*len = v->textlen;
	return v->u.text;
}

const struct jdoc_val *
jdoc_at(const struct jdoc_val *arr, size_t i)
{
	const struct jdoc_val	*v;

	if (arr == NULL || arr->type != JDOC_ARRAY || i >= arr->n)
		return NULL;
	for (v = jdoc_first(arr); i > 0; i--)
		v = jdoc_next(arr, v);
	return v;
}
