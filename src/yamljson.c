/* yamljson.c -- YAML (libyaml events) and JSON text to json-c values, as Kubernetes reads manifests and kubeconfigs. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <yaml.h>

#include "xmalloc.h"
#include "yamljson.h"

/* Deeper than any Kubernetes object nests, shallow enough for the stack. */
#define YAMLJSON_MAXDEPTH	128
/* Nodes of one document once aliases are expanded: defuses "billion laughs". */
#define YAMLJSON_MAXNODES	(1 << 22)

#define YAML_TAG(t)		"tag:yaml.org,2002:" t
#define YAML_TAGLEN		(sizeof(YAML_TAG("")) - 1)

/* A stream being read: where its documents go and how many were started. */
struct yamljson_state {
	yamljson_doc_fn	*fn;
	void		*arg;
	int		 doc;		/* the document, counting from 1 */
};

struct yamljson_anchor {
	char			*name;
	struct json_object	*val;
	size_t			 nodes;
};

/* A YAML mapping or sequence under construction. */
struct yamljson_frame {
	struct json_object	*val;
	char			*key;		/* a key awaiting its value */
	bool			 merge;		/* that key is << */
	struct json_object	*merges;	/* what << names, merged last */
	char			*anchor;	/* defined when complete */
	size_t			 nodes;
};

/* The state of one YAML chunk's conversion from libyaml events to json-c. */
struct yamljson_chunk {
	struct yamljson_state	*s;
	yaml_parser_t		 parser;
	size_t			 line0;		/* lines before the chunk */
	struct yamljson_frame	 stack[YAMLJSON_MAXDEPTH];
	size_t			 depth;
	struct json_object	*root;
	struct yamljson_anchor	*anchors;
	size_t			 nanchors;
	bool			 in_doc;
	char			 err[256];
};

static int yamljson_fail(struct yamljson_chunk *, const yaml_event_t *,
    const char *, ...) __attribute__((format(printf, 3, 4)));

static bool
yamljson_in(const char *s, const char *const *set)
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
yamljson_parse_int(const char *s, bool *neg, uint64_t *mag)
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
yamljson_is_float(const char *s)
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
yamljson_number(const char *text)
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
	if (yamljson_parse_int(s, &neg, &mag)) {
		if (neg && mag <= (uint64_t)INT64_MAX + 1)
			return json_object_new_int64(mag > INT64_MAX ?
			    INT64_MIN : -(int64_t)mag);
		if (!neg && mag <= INT64_MAX)
			return json_object_new_int64((int64_t)mag);
		if (!neg)
			return json_object_new_uint64(mag);
	}
	if (yamljson_is_float(s))
		return json_object_new_double(strtod(s, NULL));
	if (yamljson_in(s, infs))
		return json_object_new_double(HUGE_VAL);
	if (yamljson_in(s, ninfs))
		return json_object_new_double(-HUGE_VAL);
	if (yamljson_in(s, nans))
		return json_object_new_double(NAN);
	return NULL;
}

/*
 * A plain scalar typed as Kubernetes types it (sigs.k8s.io/yaml on go-yaml
 * v2, YAML 1.1 booleans included): null, bool, int, float, else a string.
 */
static struct json_object *
yamljson_resolve(const char *s, size_t len, bool *isnull)
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
	if (yamljson_in(s, nulls)) {
		*isnull = true;
		return NULL;
	}
	if (yamljson_in(s, trues) || yamljson_in(s, falses))
		return json_object_new_boolean(yamljson_in(s, trues));
	if ((num = yamljson_number(s)) != NULL)
		return num;
	return json_object_new_string_len(s, (int)len);
}

static int
yamljson_fail(struct yamljson_chunk *y, const yaml_event_t *ev,
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
yamljson_typed_tag(const char *tag)
{
	static const char *const typed[] = { YAML_TAG("int"),
	    YAML_TAG("float"), YAML_TAG("bool"), YAML_TAG("null"), NULL };

	return tag != NULL && yamljson_in(tag, typed);
}

/*
 * A scalar event's value. Untagged plain scalars are typed, quoted ones are
 * strings; !!int, !!float, !!bool and !!null must hold what they say; any
 * other tag (!!str, "!", !!timestamp, an application's) gives a string, as
 * go-yaml does.
 */
static int
yamljson_value(struct yamljson_chunk *y, const yaml_event_t *ev,
    struct json_object **out)
{
	const char	*s = (const char *)ev->data.scalar.value;
	const char	*tag = (const char *)ev->data.scalar.tag;
	int		 len = (int)ev->data.scalar.length;
	bool		 plain, isnull, ok;

	plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	*out = NULL;
	if (tag == NULL && plain) {
		*out = yamljson_resolve(s, (size_t)len, &isnull);
		return 0;
	}
	if (!yamljson_typed_tag(tag)) {
		*out = json_object_new_string_len(s, len);
		return 0;
	}
	*out = yamljson_resolve(s, (size_t)len, &isnull);
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
	return yamljson_fail(y, ev, "\"%s\" is not a valid !!%s", s,
	    tag + YAML_TAGLEN);
}

static struct yamljson_frame *
yamljson_top(struct yamljson_chunk *y)
{
	return y->depth > 0 ? &y->stack[y->depth - 1] : NULL;
}

/* True when the next node is a mapping's key. */
static bool
yamljson_wants_key(struct yamljson_chunk *y)
{
	struct yamljson_frame	*top = yamljson_top(y);

	return top != NULL && json_object_is_type(top->val, json_type_object) &&
	    top->key == NULL && !top->merge;
}

static int
yamljson_key(struct yamljson_chunk *y, const yaml_event_t *ev,
    const char *key, bool merge)
{
	struct yamljson_frame	*top = yamljson_top(y);

	if (merge) {
		top->merge = true;
		return 0;
	}
	if (json_object_object_get_ex(top->val, key, NULL))
		return yamljson_fail(y, ev, "duplicate key \"%s\"", key);
	top->key = xstrdup(key);
	return 0;
}

static void
yamljson_define(struct yamljson_chunk *y, const char *name,
    struct json_object *val, size_t nodes)
{
	struct yamljson_anchor	*a;

	y->anchors = xreallocarray(y->anchors, y->nanchors + 1,
	    sizeof(*y->anchors));
	a = &y->anchors[y->nanchors++];
	a->name = xstrdup(name);
	a->val = json_object_get(val);
	a->nodes = nodes;
}

/* The value of a merge key: a mapping or a list of mappings. */
static int
yamljson_merge(struct yamljson_chunk *y, const yaml_event_t *ev,
    struct yamljson_frame *top, struct json_object *val)
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
		return yamljson_fail(y, ev,
		    "<< needs a mapping or a list of mappings");
	}
	if (top->merges == NULL)
		top->merges = json_object_new_array();
	json_object_array_add(top->merges, val);
	return 0;
}

/* Takes val (NULL is YAML null) into the node being built, or as the root. */
static int
yamljson_add(struct yamljson_chunk *y, const yaml_event_t *ev,
    struct json_object *val, size_t nodes, const char *anchor)
{
	struct yamljson_frame	*top = yamljson_top(y);

	if (anchor != NULL)
		yamljson_define(y, anchor, val, nodes);
	if (top == NULL) {
		y->root = val;
		return 0;
	}
	if ((top->nodes += nodes) > YAMLJSON_MAXNODES) {
		json_object_put(val);
		return yamljson_fail(y, ev,
		    "more than %d nodes once aliases are expanded",
		    YAMLJSON_MAXNODES);
	}
	if (json_object_is_type(top->val, json_type_array)) {
		json_object_array_add(top->val, val);
		return 0;
	}
	if (top->merge)
		return yamljson_merge(y, ev, top, val);
	json_object_object_add(top->val, top->key, val);
	free(top->key);
	top->key = NULL;
	return 0;
}

static int
yamljson_scalar(struct yamljson_chunk *y, const yaml_event_t *ev)
{
	const char		*s = (const char *)ev->data.scalar.value;
	const char		*anchor = (const char *)ev->data.scalar.anchor;
	struct json_object	*val;

	if (yamljson_wants_key(y)) {
		if (anchor != NULL) {
			val = json_object_new_string(s);
			yamljson_define(y, anchor, val, 1);
			json_object_put(val);
		}
		return yamljson_key(y, ev, s,
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL && strcmp(s, "<<") == 0);
	}
	if (yamljson_value(y, ev, &val) == -1)
		return -1;
	return yamljson_add(y, ev, val, 1, anchor);
}

/* Anchors are defined when their node completes: recursive aliases fail. */
static int
yamljson_alias(struct yamljson_chunk *y, const yaml_event_t *ev)
{
	const char		*name = (const char *)ev->data.alias.anchor;
	struct yamljson_anchor	*a = NULL;

	for (size_t i = y->nanchors; a == NULL && i > 0; i--)
		if (strcmp(y->anchors[i - 1].name, name) == 0)
			a = &y->anchors[i - 1];
	if (a == NULL)
		return yamljson_fail(y, ev,
		    "alias *%s names no anchor defined before it", name);
	if (!yamljson_wants_key(y))
		return yamljson_add(y, ev, json_object_get(a->val),
		    a->nodes, NULL);
	if (!json_object_is_type(a->val, json_type_string))
		return yamljson_fail(y, ev, "mapping key *%s is not a "
		    "string", name);
	return yamljson_key(y, ev, json_object_get_string(a->val), false);
}

static int
yamljson_push(struct yamljson_chunk *y, const yaml_event_t *ev)
{
	struct yamljson_frame	*fr;
	const yaml_char_t	*anchor;

	if (yamljson_wants_key(y))
		return yamljson_fail(y, ev, "mapping key is not a scalar");
	if (y->depth == YAMLJSON_MAXDEPTH)
		return yamljson_fail(y, ev, "nested deeper than %d",
		    YAMLJSON_MAXDEPTH);
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
yamljson_merge_one(struct json_object *obj, struct json_object *src)
{
	json_object_object_foreach(src, k, v) {
		if (!json_object_object_get_ex(obj, k, NULL))
			json_object_object_add(obj, k, json_object_get(v));
	}
}

/* Keys from << the mapping lacks: its own keys win, then the first listed. */
static void
yamljson_apply_merges(struct json_object *obj, struct json_object *merges)
{
	struct json_object	*m;

	for (size_t i = 0; i < json_object_array_length(merges); i++) {
		m = json_object_array_get_idx(merges, i);
		if (json_object_is_type(m, json_type_object)) {
			yamljson_merge_one(obj, m);
			continue;
		}
		for (size_t j = 0; j < json_object_array_length(m); j++)
			yamljson_merge_one(obj,
			    json_object_array_get_idx(m, j));
	}
}

static int
yamljson_pop(struct yamljson_chunk *y, const yaml_event_t *ev)
{
	struct yamljson_frame	*fr = &y->stack[--y->depth];
	struct json_object	*val = fr->val;
	char			*anchor = fr->anchor;
	int			 r;

	if (fr->merges != NULL)
		yamljson_apply_merges(val, fr->merges);
	json_object_put(fr->merges);
	r = yamljson_add(y, ev, val, fr->nodes + 1, anchor);
	free(anchor);
	return r;
}

static void
yamljson_clear(struct yamljson_chunk *y)
{
	while (y->depth > 0) {
		struct yamljson_frame *fr = &y->stack[--y->depth];

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
yamljson_event(struct yamljson_chunk *y, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		y->s->doc++;
		y->in_doc = true;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		y->in_doc = false;
		y->s->fn(y->s->doc, y->root, NULL, y->s->arg);
		/* Anchors do not cross documents. */
		yamljson_clear(y);
		return 0;
	case YAML_SCALAR_EVENT:
		return yamljson_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		return yamljson_alias(y, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return yamljson_push(y, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return yamljson_pop(y, ev);
	default:
		return 0;
	}
}

static void
yamljson_syntax(struct yamljson_chunk *y)
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
yamljson_parse_chunk(struct yamljson_state *s, const char *p, size_t len,
    size_t line0)
{
	struct yamljson_chunk	*y = xcalloc(1, sizeof(*y));
	yaml_event_t		 ev;
	bool			 done = false;

	y->s = s;
	y->line0 = line0;
	yaml_parser_initialize(&y->parser);
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)p, len);
	while (!done) {
		if (!yaml_parser_parse(&y->parser, &ev)) {
			yamljson_syntax(y);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (yamljson_event(y, &ev) == -1)
			done = true;
		yaml_event_delete(&ev);
	}
	if (y->err[0] != '\0') {
		if (!y->in_doc)
			s->doc++;
		s->fn(s->doc, NULL, y->err, s->arg);
	}
	yamljson_clear(y);
	yaml_parser_delete(&y->parser);
	free(y);
}

/* '-' for a "---" line, '.' for "...", else 0; *content when text follows. */
static int
yamljson_marker(const char *p, const char *eol, bool *content)
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
yamljson_blank(const char *p, const char *eol)
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
yamljson_yaml_stream(struct yamljson_state *s, const char *buf, size_t len)
{
	const char	*end = buf + len, *chunk = buf, *p, *eol;
	size_t		 line = 0, chunkline = 0;
	bool		 content = false, inline_content;

	for (p = buf; p < end; p = eol + 1, line++) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		switch (yamljson_marker(p, eol, &inline_content)) {
		case '-':
			if (content) {
				yamljson_parse_chunk(s, chunk,
				    (size_t)(p - chunk), chunkline);
				chunk = p;
				chunkline = line;
			}
			content = inline_content;
			break;
		case '.':
			if (!content)
				break;
			yamljson_parse_chunk(s, chunk, (size_t)(eol - chunk),
			    chunkline);
			chunk = eol < end ? eol + 1 : end;
			chunkline = line + 1;
			content = false;
			break;
		default:
			if (!yamljson_blank(p, eol))
				content = true;
		}
		if (eol == end)
			break;
	}
	if (chunk < end)
		yamljson_parse_chunk(s, chunk, (size_t)(end - chunk), chunkline);
}

static bool
yamljson_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Concatenated JSON values, each a document; a syntax error ends the stream. */
static void
yamljson_json_stream(struct yamljson_state *s, const char *buf, size_t len)
{
	struct json_tokener	*tok = json_tokener_new_ex(YAMLJSON_MAXDEPTH);
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	size_t			 pos = 0, line;
	char			 err[256];

	for (;;) {
		while (pos < len && yamljson_space(buf[pos]))
			pos++;
		if (pos >= len)
			break;
		s->doc++;
		root = json_tokener_parse_ex(tok, buf + pos, (int)(len - pos));
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_success) {
			pos += json_tokener_get_parse_end(tok);
			line = 1;
			for (size_t i = 0; i < pos && i < len; i++)
				line += buf[i] == '\n';
			snprintf(err, sizeof(err), "line %zu: %s", line,
			    jerr == json_tokener_continue ?
			    "unexpected end of JSON" :
			    json_tokener_error_desc(jerr));
			s->fn(s->doc, NULL, err, s->arg);
			break;
		}
		pos += json_tokener_get_parse_end(tok);
		s->fn(s->doc, root, NULL, s->arg);
		json_object_put(root);
		json_tokener_reset(tok);
	}
	json_tokener_free(tok);
}
void
yamljson_stream(const char *buf, size_t len, yamljson_doc_fn *fn, void *arg)
{
	struct yamljson_state	 s = { fn, arg, 0 };
	size_t			 i = 0;

	/* json-c and libyaml's marks count in int. */
	if (len > INT_MAX) {
		fn(1, NULL, "line 1: larger than 2 GiB", arg);
		return;
	}
	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && yamljson_space(buf[i]))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '['))
		yamljson_json_stream(&s, buf + i, len - i);
	else
		yamljson_yaml_stream(&s, buf, len);
}

/* What yamljson_parse collects: the first document, or the first error. */
struct yamljson_one {
	struct json_object	*root;
	int			 ndocs;
	char			*err;
	size_t			 errlen;
	bool			 failed;
};

static void
yamljson_one_cb(int doc, struct json_object *root, const char *err, void *arg)
{
	struct yamljson_one	*o = arg;

	if (o->failed)
		return;
	if (err != NULL || ++o->ndocs > 1) {
		if (err != NULL)
			snprintf(o->err, o->errlen, "%s", err);
		else
			snprintf(o->err, o->errlen, "more than one document");
		o->failed = true;
		json_object_put(o->root);
		o->root = NULL;
		return;
	}
	o->root = json_object_get(root);
}

struct json_object *
yamljson_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct yamljson_one	 o = { NULL, 0, err, errlen, false };

	yamljson_stream(buf, len, yamljson_one_cb, &o);
	if (o.failed)
		return NULL;
	if (o.root == NULL)
		snprintf(err, errlen, o.ndocs == 0 ? "no document" :
		    "empty document");
	return o.root;
}
