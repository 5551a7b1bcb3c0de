/* manifest.c -- the local source: YAML/JSON manifests read into objects, re-read when the directory changes. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json.h>
#include <yaml.h>

#include "decode.h"
#include "log.h"
#include "manifest.h"
#include "object.h"
#include "xmalloc.h"

#define MANIFEST_MAXSIZE	(16 * 1024 * 1024)
/* Deeper than any Kubernetes object nests, shallow enough for the stack. */
#define MANIFEST_MAXDEPTH	128
/* Nodes of one document once aliases are expanded: defuses "billion laughs". */
#define MANIFEST_MAXNODES	(1 << 22)
#define MANIFEST_INTERVAL	1	/* seconds between directory checks */

#define YAML_TAG(t)		"tag:yaml.org,2002:" t
#define YAML_TAGLEN		(sizeof(YAML_TAG("")) - 1)

struct manifest {
	struct event_base	*base;
	struct event		*timer;
	char			*dir;
	manifest_fn		 fn;
	void			*arg;
	char			*print;		/* of the set last loaded */
	size_t			 printlen;
	bool			 gone;		/* missing at the last check */
};

/* One file being parsed: where its objects go and what its messages say. */
struct manifest_file {
	const char	 *name;
	int		  doc;		/* the document, counting from 1 */
	int		  skipped;
	struct object	***objs;
	size_t		 *n;
};

struct manifest_anchor {
	char			*name;
	struct json_object	*val;
	size_t			 nodes;
};

/* A YAML mapping or sequence under construction. */
struct manifest_frame {
	struct json_object	*val;
	char			*key;		/* a key awaiting its value */
	bool			 merge;		/* that key is << */
	struct json_object	*merges;	/* what << names, merged last */
	char			*anchor;	/* defined when complete */
	size_t			 nodes;
};

/* The state of one YAML chunk's conversion from libyaml events to json-c. */
struct manifest_yaml {
	struct manifest_file	*f;
	yaml_parser_t		 parser;
	size_t			 line0;		/* lines before the chunk */
	struct manifest_frame	 stack[MANIFEST_MAXDEPTH];
	size_t			 depth;
	struct json_object	*root;
	struct manifest_anchor	*anchors;
	size_t			 nanchors;
	bool			 in_doc;
	char			 err[256];
};

static void manifest_warn(struct manifest_file *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int manifest_yaml_fail(struct manifest_yaml *, const yaml_event_t *,
    const char *, ...) __attribute__((format(printf, 3, 4)));

/* "FILE: document N[: item M]: message": the context of every bad object. */
static void
manifest_warn(struct manifest_file *f, size_t item, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (item > 0)
		log_warnx("%s: document %d: item %zu: %s", f->name, f->doc,
		    item, msg);
	else
		log_warnx("%s: document %d: %s", f->name, f->doc, msg);
}

static void
manifest_append(struct manifest_file *f, struct object *obj)
{
	*f->objs = xreallocarray(*f->objs, *f->n + 1, sizeof(**f->objs));
	(*f->objs)[(*f->n)++] = obj;
}

/* Decodes one object; item counts list items from 1, 0 for a whole document. */
static void
manifest_item(struct manifest_file *f, struct json_object *json,
    const char *hint, size_t item)
{
	struct object		*obj;
	struct json_object	*v;
	const char		*kind = hint;
	char			 err[512], ident[512];

	switch (decode_object(json, hint, &obj, err, sizeof(err))) {
	case DECODE_OK:
		manifest_append(f, obj);
		return;
	case DECODE_UNSUPPORTED:
		decode_ident(json, hint, ident, sizeof(ident));
		manifest_warn(f, item, "skipping %s %s", err, ident);
		return;
	case DECODE_ERROR:
		break;
	}
	f->skipped++;
	if (!json_object_is_type(json, json_type_object)) {
		manifest_warn(f, item, "%s", err);
		return;
	}
	if (json_object_object_get_ex(json, "kind", &v) &&
	    json_object_is_type(v, json_type_string))
		kind = json_object_get_string(v);
	decode_ident(json, hint, ident, sizeof(ident));
	manifest_warn(f, item, "%s %s: %s", kind ? kind : "object", ident, err);
}

static void
manifest_items(struct manifest_file *f, struct json_object *items,
    const char *hint)
{
	for (size_t i = 0; i < json_object_array_length(items); i++)
		manifest_item(f, json_object_array_get_idx(items, i), hint,
		    i + 1);
}

/*
 * One document's root: an object, an array of objects, or a List (kind
 * "List", or "ServiceList" and the like whose items may lack their kind).
 */
static void
manifest_root(struct manifest_file *f, struct json_object *root)
{
	struct json_object	*kind, *items;
	char			 hint[128];
	size_t			 len;

	if (root == NULL)
		return;		/* an empty document */
	if (json_object_is_type(root, json_type_array)) {
		manifest_items(f, root, NULL);
		return;
	}
	if (!json_object_object_get_ex(root, "kind", &kind) ||
	    !json_object_is_type(kind, json_type_string) ||
	    (len = (size_t)json_object_get_string_len(kind)) < 4 ||
	    len >= sizeof(hint) ||
	    strcmp(json_object_get_string(kind) + len - 4, "List") != 0 ||
	    !json_object_object_get_ex(root, "items", &items) ||
	    (items != NULL && !json_object_is_type(items, json_type_array))) {
		manifest_item(f, root, NULL, 0);
		return;
	}
	memcpy(hint, json_object_get_string(kind), len - 4);
	hint[len - 4] = '\0';
	if (items != NULL)
		manifest_items(f, items, hint[0] != '\0' ? hint : NULL);
}

static bool
manifest_in(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/*
 * Go's strconv.ParseInt(s, 0, 64) as go-yaml v2 calls it (after dropping
 * underscores): a sign, then 0x, 0o, 0b or a leading 0 for octal. Returns
 * the magnitude in *mag; false when s is not an integer or overflows.
 */
static bool
manifest_parse_int(const char *s, bool *neg, uint64_t *mag)
{
	const char	*digits = "0123456789";
	int		 base = 10;

	*neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && s[1] != '\0' && strchr("xXoObB", s[1]) != NULL) {
		base = s[1] == 'x' || s[1] == 'X' ? 16 :
		    s[1] == 'o' || s[1] == 'O' ? 8 : 2;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0') {
		base = 8;
		s++;
	}
	if (base != 10)
		digits = base == 16 ? "0123456789abcdefABCDEF" :
		    base == 8 ? "01234567" : "01";
	/* strtoull alone would take spaces, a second sign or prefix. */
	if (*s == '\0' || s[strspn(s, digits)] != '\0')
		return false;
	errno = 0;
	*mag = strtoull(s, NULL, base);
	return errno == 0;
}

/* go-yaml v2's floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
manifest_is_float(const char *s)
{
	char	*end;

	/*
	 * The character set rules out strtod's hex, inf and nan forms; what
	 * is left, strtod takes whole exactly when the pattern matches.
	 */
	if (s[strspn(s, "0123456789.eE+-")] != '\0' ||
	    strpbrk(s, "0123456789") == NULL)
		return false;
	strtod(s, &end);
	return *end == '\0';
}

/* A number from a plain scalar, or NULL when it is not one. */
static struct json_object *
manifest_number(const char *text)
{
	static const char *const infs[] = { ".inf", ".Inf", ".INF", "+.inf",
	    "+.Inf", "+.INF", NULL };
	static const char *const ninfs[] = { "-.inf", "-.Inf", "-.INF", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	char		 s[64];
	size_t		 n = 0;
	uint64_t	 mag;
	bool		 neg;

	for (; *text != '\0' && n < sizeof(s) - 1; text++)
		if (*text != '_')
			s[n++] = *text;
	s[n] = '\0';
	if (*text != '\0' || n == 0)
		return NULL;
	if (manifest_parse_int(s, &neg, &mag)) {
		if (neg && mag <= (uint64_t)INT64_MAX + 1)
			return json_object_new_int64(mag > INT64_MAX ?
			    INT64_MIN : -(int64_t)mag);
		if (!neg && mag <= INT64_MAX)
			return json_object_new_int64((int64_t)mag);
		if (!neg)
			return json_object_new_uint64(mag);
	}
	if (manifest_is_float(s))
		return json_object_new_double(strtod(s, NULL));
	if (manifest_in(s, infs))
		return json_object_new_double(HUGE_VAL);
	if (manifest_in(s, ninfs))
		return json_object_new_double(-HUGE_VAL);
	if (manifest_in(s, nans))
		return json_object_new_double(NAN);
	return NULL;
}

/*
 * A plain scalar typed as Kubernetes types it (sigs.k8s.io/yaml on go-yaml
 * v2, YAML 1.1 booleans included): null, bool, int, float, else a string.
 */
static struct json_object *
manifest_resolve(const char *s, size_t len, bool *isnull)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const trues[] = { "y", "Y", "yes", "Yes", "YES",
	    "true", "True", "TRUE", "on", "On", "ON", NULL };
	static const char *const falses[] = { "n", "N", "no", "No", "NO",
	    "false", "False", "FALSE", "off", "Off", "OFF", NULL };
	struct json_object	*num;

	*isnull = false;
	if (strlen(s) != len)	/* an escaped NUL: only a string can hold it */
		return json_object_new_string_len(s, (int)len);
	if (manifest_in(s, nulls)) {
		*isnull = true;
		return NULL;
	}
	if (manifest_in(s, trues) || manifest_in(s, falses))
		return json_object_new_boolean(manifest_in(s, trues));
	if ((num = manifest_number(s)) != NULL)
		return num;
	return json_object_new_string_len(s, (int)len);
}

static int
manifest_yaml_fail(struct manifest_yaml *y, const yaml_event_t *ev,
    const char *fmt, ...)
{
	char	msg[200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(y->err, sizeof(y->err), "line %zu: %s",
	    y->line0 + ev->start_mark.line + 1, msg);
	return -1;
}

/* !!int, !!float, !!bool or !!null: the tags that type a scalar. */
static bool
manifest_typed_tag(const char *tag)
{
	static const char *const typed[] = { YAML_TAG("int"),
	    YAML_TAG("float"), YAML_TAG("bool"), YAML_TAG("null"), NULL };

	return tag != NULL && manifest_in(tag, typed);
}

/*
 * A scalar event's value. Untagged plain scalars are typed, quoted ones are
 * strings; !!int, !!float, !!bool and !!null must hold what they say; any
 * other tag (!!str, "!", !!timestamp, an application's) gives a string, as
 * go-yaml does.
 */
static int
manifest_yaml_value(struct manifest_yaml *y, const yaml_event_t *ev,
    struct json_object **out)
{
	const char	*s = (const char *)ev->data.scalar.value;
	const char	*tag = (const char *)ev->data.scalar.tag;
	int		 len = (int)ev->data.scalar.length;
	bool		 plain, isnull, ok;

	plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	*out = NULL;
	if (tag == NULL && plain) {
		*out = manifest_resolve(s, (size_t)len, &isnull);
		return 0;
	}
	if (!manifest_typed_tag(tag)) {
		*out = json_object_new_string_len(s, len);
		return 0;
	}
	*out = manifest_resolve(s, (size_t)len, &isnull);
	switch (tag[YAML_TAGLEN]) {
	case 'i':
		ok = json_object_is_type(*out, json_type_int);
		break;
	case 'f':
		ok = json_object_is_type(*out, json_type_double) ||
		    json_object_is_type(*out, json_type_int);
		break;
	case 'b':
		ok = json_object_is_type(*out, json_type_boolean);
		break;
	default:
		ok = isnull;
	}
	if (ok)
		return 0;
	json_object_put(*out);
	*out = NULL;
	return manifest_yaml_fail(y, ev, "\"%s\" is not a valid !!%s", s,
	    tag + YAML_TAGLEN);
}

static struct manifest_frame *
manifest_yaml_top(struct manifest_yaml *y)
{
	return y->depth > 0 ? &y->stack[y->depth - 1] : NULL;
}

/* True when the next node is a mapping's key. */
static bool
manifest_yaml_wants_key(struct manifest_yaml *y)
{
	struct manifest_frame	*top = manifest_yaml_top(y);

	return top != NULL && json_object_is_type(top->val, json_type_object) &&
	    top->key == NULL && !top->merge;
}

static int
manifest_yaml_key(struct manifest_yaml *y, const yaml_event_t *ev,
    const char *key, bool merge)
{
	struct manifest_frame	*top = manifest_yaml_top(y);

	if (merge) {
		top->merge = true;
		return 0;
	}
	if (json_object_object_get_ex(top->val, key, NULL))
		return manifest_yaml_fail(y, ev, "duplicate key \"%s\"", key);
	top->key = xstrdup(key);
	return 0;
}

static void
manifest_yaml_define(struct manifest_yaml *y, const char *name,
    struct json_object *val, size_t nodes)
{
	struct manifest_anchor	*a;

	y->anchors = xreallocarray(y->anchors, y->nanchors + 1,
	    sizeof(*y->anchors));
	a = &y->anchors[y->nanchors++];
	a->name = xstrdup(name);
	a->val = json_object_get(val);
	a->nodes = nodes;
}

/* The value of a merge key: a mapping or a list of mappings. */
static int
manifest_yaml_merge(struct manifest_yaml *y, const yaml_event_t *ev,
    struct manifest_frame *top, struct json_object *val)
{
	bool	list = json_object_is_type(val, json_type_array);
	bool	ok = list || json_object_is_type(val, json_type_object);

	for (size_t i = 0; ok && list && i < json_object_array_length(val);
	    i++)
		ok = json_object_is_type(json_object_array_get_idx(val, i),
		    json_type_object);
	top->merge = false;
	if (!ok) {
		json_object_put(val);
		return manifest_yaml_fail(y, ev,
		    "<< needs a mapping or a list of mappings");
	}
	if (top->merges == NULL)
		top->merges = json_object_new_array();
	json_object_array_add(top->merges, val);
	return 0;
}

/* Takes val (NULL is YAML null) into the node being built, or as the root. */
static int
manifest_yaml_add(struct manifest_yaml *y, const yaml_event_t *ev,
    struct json_object *val, size_t nodes, const char *anchor)
{
	struct manifest_frame	*top = manifest_yaml_top(y);

	if (anchor != NULL)
		manifest_yaml_define(y, anchor, val, nodes);
	if (top == NULL) {
		y->root = val;
		return 0;
	}
	if ((top->nodes += nodes) > MANIFEST_MAXNODES) {
		json_object_put(val);
		return manifest_yaml_fail(y, ev,
		    "more than %d nodes once aliases are expanded",
		    MANIFEST_MAXNODES);
	}
	if (json_object_is_type(top->val, json_type_array)) {
		json_object_array_add(top->val, val);
		return 0;
	}
	if (top->merge)
		return manifest_yaml_merge(y, ev, top, val);
	json_object_object_add(top->val, top->key, val);
	free(top->key);
	top->key = NULL;
	return 0;
}

static int
manifest_yaml_scalar(struct manifest_yaml *y, const yaml_event_t *ev)
{
	const char		*s = (const char *)ev->data.scalar.value;
	const char		*anchor = (const char *)ev->data.scalar.anchor;
	struct json_object	*val;

	if (manifest_yaml_wants_key(y)) {
		if (anchor != NULL) {
			val = json_object_new_string(s);
			manifest_yaml_define(y, anchor, val, 1);
			json_object_put(val);
		}
		return manifest_yaml_key(y, ev, s,
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL && strcmp(s, "<<") == 0);
	}
	if (manifest_yaml_value(y, ev, &val) == -1)
		return -1;
	return manifest_yaml_add(y, ev, val, 1, anchor);
}

/* Anchors are defined when their node completes: recursive aliases fail. */
static int
manifest_yaml_alias(struct manifest_yaml *y, const yaml_event_t *ev)
{
	const char		*name = (const char *)ev->data.alias.anchor;
	struct manifest_anchor	*a = NULL;

	for (size_t i = y->nanchors; a == NULL && i > 0; i--)
		if (strcmp(y->anchors[i - 1].name, name) == 0)
			a = &y->anchors[i - 1];
	if (a == NULL)
		return manifest_yaml_fail(y, ev,
		    "alias *%s names no anchor defined before it", name);
	if (!manifest_yaml_wants_key(y))
		return manifest_yaml_add(y, ev, json_object_get(a->val),
		    a->nodes, NULL);
	if (!json_object_is_type(a->val, json_type_string))
		return manifest_yaml_fail(y, ev, "mapping key *%s is not a "
		    "string", name);
	return manifest_yaml_key(y, ev, json_object_get_string(a->val), false);
}

static int
manifest_yaml_push(struct manifest_yaml *y, const yaml_event_t *ev)
{
	struct manifest_frame	*fr;
	const yaml_char_t	*anchor;

	if (manifest_yaml_wants_key(y))
		return manifest_yaml_fail(y, ev, "mapping key is not a scalar");
	if (y->depth == MANIFEST_MAXDEPTH)
		return manifest_yaml_fail(y, ev, "nested deeper than %d",
		    MANIFEST_MAXDEPTH);
	fr = &y->stack[y->depth++];
	memset(fr, 0, sizeof(*fr));
	if (ev->type == YAML_MAPPING_START_EVENT) {
		fr->val = json_object_new_object();
		anchor = ev->data.mapping_start.anchor;
	} else {
		fr->val = json_object_new_array();
		anchor = ev->data.sequence_start.anchor;
	}
	fr->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	return 0;
}

static void
manifest_yaml_merge_one(struct json_object *obj, struct json_object *src)
{
	json_object_object_foreach(src, k, v) {
		if (!json_object_object_get_ex(obj, k, NULL))
			json_object_object_add(obj, k, json_object_get(v));
	}
}

/* Keys from << the mapping lacks: its own keys win, then the first listed. */
static void
manifest_yaml_apply_merges(struct json_object *obj, struct json_object *merges)
{
	struct json_object	*m;

	for (size_t i = 0; i < json_object_array_length(merges); i++) {
		m = json_object_array_get_idx(merges, i);
		if (json_object_is_type(m, json_type_object)) {
			manifest_yaml_merge_one(obj, m);
			continue;
		}
		for (size_t j = 0; j < json_object_array_length(m); j++)
			manifest_yaml_merge_one(obj,
			    json_object_array_get_idx(m, j));
	}
}

static int
manifest_yaml_pop(struct manifest_yaml *y, const yaml_event_t *ev)
{
	struct manifest_frame	*fr = &y->stack[--y->depth];
	struct json_object	*val = fr->val;
	char			*anchor = fr->anchor;
	int			 r;

	if (fr->merges != NULL)
		manifest_yaml_apply_merges(val, fr->merges);
	json_object_put(fr->merges);
	r = manifest_yaml_add(y, ev, val, fr->nodes + 1, anchor);
	free(anchor);
	return r;
}

static void
manifest_yaml_clear(struct manifest_yaml *y)
{
	while (y->depth > 0) {
		struct manifest_frame *fr = &y->stack[--y->depth];

		json_object_put(fr->val);
		json_object_put(fr->merges);
		free(fr->key);
		free(fr->anchor);
	}
	for (size_t i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		json_object_put(y->anchors[i].val);
	}
	free(y->anchors);
	y->anchors = NULL;
	y->nanchors = 0;
	json_object_put(y->root);
	y->root = NULL;
}

static int
manifest_yaml_event(struct manifest_yaml *y, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		y->f->doc++;
		y->in_doc = true;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		y->in_doc = false;
		manifest_root(y->f, y->root);
		/* Anchors do not cross documents. */
		manifest_yaml_clear(y);
		return 0;
	case YAML_SCALAR_EVENT:
		return manifest_yaml_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		return manifest_yaml_alias(y, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return manifest_yaml_push(y, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return manifest_yaml_pop(y, ev);
	default:
		return 0;
	}
}

static void
manifest_yaml_syntax(struct manifest_yaml *y)
{
	yaml_parser_t	*p = &y->parser;
	const char	*problem = p->problem ? p->problem : "syntax error";

	if (p->context != NULL)
		snprintf(y->err, sizeof(y->err),
		    "line %zu: %s (%s at line %zu)",
		    y->line0 + p->problem_mark.line + 1, problem, p->context,
		    y->line0 + p->context_mark.line + 1);
	else
		snprintf(y->err, sizeof(y->err), "line %zu: %s",
		    y->line0 + p->problem_mark.line + 1, problem);
}

/* Parses a chunk of a YAML stream (normally one document) after line line0. */
static void
manifest_yaml_chunk(struct manifest_file *f, const char *p, size_t len,
    size_t line0)
{
	struct manifest_yaml	*y = xcalloc(1, sizeof(*y));
	yaml_event_t		 ev;
	bool			 done = false;

	y->f = f;
	y->line0 = line0;
	yaml_parser_initialize(&y->parser);
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)p, len);
	while (!done) {
		if (!yaml_parser_parse(&y->parser, &ev)) {
			manifest_yaml_syntax(y);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (manifest_yaml_event(y, &ev) == -1)
			done = true;
		yaml_event_delete(&ev);
	}
	if (y->err[0] != '\0') {
		if (!y->in_doc)
			f->doc++;
		f->skipped++;
		manifest_warn(f, 0, "%s", y->err);
	}
	manifest_yaml_clear(y);
	yaml_parser_delete(&y->parser);
	free(y);
}

/* '-' for a "---" line, '.' for "...", else 0; *content when text follows. */
static int
manifest_marker(const char *p, const char *eol, bool *content)
{
	const char	*q = p + 3;

	if (eol - p < 3 || (strncmp(p, "---", 3) != 0 &&
	    strncmp(p, "...", 3) != 0) ||
	    (q < eol && *q != ' ' && *q != '\t' && *q != '\r'))
		return 0;
	while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	*content = q < eol && *q != '#';
	return p[0];
}

/* True for lines that carry no node: blank, comment, or directive. */
static bool
manifest_blank(const char *p, const char *eol)
{
	if (p < eol && *p == '%')
		return true;
	while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == eol || *p == '#';
}

/*
 * A YAML stream, split at its document markers first: libyaml cannot go on
 * after a syntax error, and a broken document must not hide the next ones.
 * YAML forbids "---" and "..." at the start of a line inside a document, so
 * the split is exact. A chunk begins at a "---" only once the previous one
 * holds a node, so directives and leading comments stay with their document.
 */
static void
manifest_yaml_stream(struct manifest_file *f, const char *buf, size_t len)
{
	const char	*end = buf + len, *chunk = buf, *p, *eol;
	size_t		 line = 0, chunkline = 0;
	bool		 content = false, inline_content;

	for (p = buf; p < end; p = eol + 1, line++) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		switch (manifest_marker(p, eol, &inline_content)) {
		case '-':
			if (content) {
				manifest_yaml_chunk(f, chunk,
				    (size_t)(p - chunk), chunkline);
				chunk = p;
				chunkline = line;
			}
			content = inline_content;
			break;
		case '.':
			if (!content)
				break;
			manifest_yaml_chunk(f, chunk, (size_t)(eol - chunk),
			    chunkline);
			chunk = eol < end ? eol + 1 : end;
			chunkline = line + 1;
			content = false;
			break;
		default:
			if (!manifest_blank(p, eol))
				content = true;
		}
		if (eol == end)
			break;
	}
	if (chunk < end)
		manifest_yaml_chunk(f, chunk, (size_t)(end - chunk), chunkline);
}

static bool
manifest_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Concatenated JSON values, each a document; a syntax error ends the file. */
static void
manifest_json_stream(struct manifest_file *f, const char *buf, size_t len)
{
	struct json_tokener	*tok = json_tokener_new_ex(MANIFEST_MAXDEPTH);
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	size_t			 pos = 0, line;

	for (;;) {
		while (pos < len && manifest_space(buf[pos]))
			pos++;
		if (pos >= len)
			break;
		f->doc++;
		root = json_tokener_parse_ex(tok, buf + pos, (int)(len - pos));
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_success) {
			pos += json_tokener_get_parse_end(tok);
			line = 1;
			for (size_t i = 0; i < pos && i < len; i++)
				line += buf[i] == '\n';
			f->skipped++;
			manifest_warn(f, 0, "line %zu: %s", line,
			    jerr == json_tokener_continue ?
			    "unexpected end of JSON" :
			    json_tokener_error_desc(jerr));
			break;
		}
		pos += json_tokener_get_parse_end(tok);
		manifest_root(f, root);
		json_object_put(root);
		json_tokener_reset(tok);
	}
	json_tokener_free(tok);
}

int
manifest_parse(const char *name, const char *buf, size_t len,
    struct object ***objs, size_t *n)
{
	struct manifest_file	 f = { name, 0, 0, objs, n };
	size_t			 i = 0;

	/* Also what keeps lengths within json-c's int. */
	if (len > MANIFEST_MAXSIZE) {
		log_warnx("%s: larger than %d MiB, skipped", name,
		    MANIFEST_MAXSIZE >> 20);
		return 1;
	}
	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && manifest_space(buf[i]))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '['))
		manifest_json_stream(&f, buf + i, len - i);
	else
		manifest_yaml_stream(&f, buf, len);
	return f.skipped;
}

static void
manifest_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
manifest_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A name we load: a manifest suffix, and visible, which skips editors'
 * swap files and a ConfigMap mount's ..data machinery (its visible names
 * are symlinks through ..data, followed by stat).
 */
static bool
manifest_wanted(const char *name)
{
	const char	*dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL && (strcmp(dot, ".yaml") == 0 ||
	    strcmp(dot, ".yml") == 0 || strcmp(dot, ".json") == 0);
}

static void
manifest_print_add(char **print, size_t *len, const char *line)
{
	size_t	n = strlen(line);

	*print = xreallocarray(*print, *len + n, 1);
	memcpy(*print + *len, line, n);
	*len += n;
}

/*
 * Lists dir (sorted manifest names) and fingerprints the set: names, and
 * through symlinks size, times to the nanosecond, inode and mode, so an
 * edit, a replacement or a ConfigMap's atomic swap all show. -1 (errno set)
 * when dir cannot be read.
 */
static int
manifest_scan(const char *dir, char ***names, size_t *n, char **print,
    size_t *plen)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path, *line;

	*names = NULL;
	*n = *plen = 0;
	*print = NULL;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!manifest_wanted(de->d_name))
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), manifest_name_cmp);
	for (size_t i = 0; i < *n; i++) {
		path = xasprintf("%s/%s", dir, (*names)[i]);
		if (stat(path, &st) == -1)
			line = xasprintf("%s !%d\n", (*names)[i], errno);
		else
			line = xasprintf(
			    "%s %jd %jd.%09ld %jd.%09ld %ju %ju %o\n",
			    (*names)[i], (intmax_t)st.st_size,
			    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
			    (uintmax_t)st.st_ino, (uintmax_t)st.st_dev,
			    (unsigned int)st.st_mode);
		manifest_print_add(print, plen, line);
		free(line);
		free(path);
	}
	return 0;
}

/* The whole file, NUL-terminated, or NULL (logged with the path). */
static char *
manifest_read(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 r;
	int		 fd;

	*len = 0;
	/* O_NONBLOCK: a FIFO named like a manifest must not stall the loop. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file, skipped", path);
		goto out;
	}
	if (st.st_size > MANIFEST_MAXSIZE) {
		log_warnx("%s: larger than %d MiB, skipped", path,
		    MANIFEST_MAXSIZE >> 20);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (*len < (size_t)st.st_size) {
		r = read(fd, buf + *len, (size_t)st.st_size - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("%s", path);
			free(buf);
			buf = NULL;
			goto out;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	buf[*len] = '\0';
out:
	if (fd != -1)
		close(fd);
	return buf;
}

/*
 * Reads every file of the set and hands the objects to the callback. Only
 * reloads are news to the operator: the first load is the caller's to log.
 */
static void
manifest_load(struct manifest *m, char **names, size_t n, bool reload)
{
	struct object	**objs = NULL;
	size_t		  nobjs = 0, len;
	char		 *path, *buf;

	for (size_t i = 0; i < n; i++) {
		path = xasprintf("%s/%s", m->dir, names[i]);
		if ((buf = manifest_read(path, &len)) != NULL)
			manifest_parse(path, buf, len, &objs, &nobjs);
		free(buf);
		free(path);
	}
	if (reload)
		log_info("manifests %s: reloaded %zu objects from %zu files",
		    m->dir, nobjs, n);
	else
		log_debug("manifests %s: %zu objects from %zu files", m->dir,
		    nobjs, n);
	m->fn(objs, nobjs, m->arg);
}

/* Polling, not inotify: it sees through symlinks and works on any mount. */
static void
manifest_check_cb(evutil_socket_t fd, short events, void *arg)
{
	struct manifest	*m = arg;
	char		**names, *print;
	size_t		  n, plen;

	if (manifest_scan(m->dir, &names, &n, &print, &plen) == -1) {
		if (!m->gone)
			log_warnx("manifests %s: %s; serving the last set",
			    m->dir, strerror(errno));
		m->gone = true;
		return;
	}
	if (m->gone)
		log_info("manifests %s: directory is back", m->dir);
	m->gone = false;
	if (plen == m->printlen && (plen == 0 ||
	    memcmp(print, m->print, plen) == 0)) {
		free(print);
		manifest_names_free(names, n);
		return;
	}
	free(m->print);
	m->print = print;
	m->printlen = plen;
	manifest_load(m, names, n, true);
	manifest_names_free(names, n);
}

struct manifest *
manifest_new(struct event_base *base, const char *dir, manifest_fn fn,
    void *arg)
{
	struct manifest	*m = xcalloc(1, sizeof(*m));

	m->base = base;
	m->dir = xstrdup(dir);
	m->fn = fn;
	m->arg = arg;
	return m;
}

int
manifest_start(struct manifest *m)
{
	struct timeval	  tv = { MANIFEST_INTERVAL, 0 };
	char		**names;
	size_t		  n;

	if (manifest_scan(m->dir, &names, &n, &m->print, &m->printlen) == -1) {
		log_warn("manifests %s", m->dir);
		return -1;
	}
	manifest_load(m, names, n, false);
	manifest_names_free(names, n);
	m->timer = event_new(m->base, -1, EV_PERSIST, manifest_check_cb, m);
	if (m->timer == NULL || event_add(m->timer, &tv) == -1) {
		log_warnx("manifests %s: cannot start the timer", m->dir);
		return -1;
	}
	return 0;
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	if (m->timer != NULL)
		event_free(m->timer);
	free(m->print);
	free(m->dir);
	free(m);
}
