/* selector.c -- Kubernetes label selectors: parsed as labels.Parse reads them, matched against labels. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "selector.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum selector_op {
	SELECTOR_EXISTS,	/* key */
	SELECTOR_ABSENT,	/* !key */
	SELECTOR_IN,		/* key=v, key==v, key in (v, ...) */
	SELECTOR_NOTIN		/* key notin (v, ...) */
};

struct selector_req {
	char		*key;
	enum selector_op op;
	char		**values;
	size_t		 nvalues;
};

struct selector {
	struct selector_req *reqs;
	size_t		 nreqs;
};

static void
selector_add_req(struct selector *sel, const char *key, size_t len,
    enum selector_op op)
{
	struct selector_req	*r;

	sel->reqs = xreallocarray(sel->reqs, sel->nreqs + 1, sizeof(*r));
	r = &sel->reqs[sel->nreqs++];
	memset(r, 0, sizeof(*r));
	r->key = xstrndup(key, len);
	r->op = op;
}

static struct selector_req *
selector_last(struct selector *sel)
{
	return &sel->reqs[sel->nreqs - 1];
}

static void
selector_add_value(struct selector *sel, const char *v, size_t len)
{
	struct selector_req	*r = selector_last(sel);

	r->values = xreallocarray(r->values, r->nvalues + 1,
	    sizeof(*r->values));
	r->values[r->nvalues++] = xstrndup(v, len);
}

/*
 * Label selectors as Kubernetes reads them (labels.Parse): comma-separated
 * requirements "key", "!key", "key=value", "key==value", "key in (v,...)"
 * and "key notin (v,...)". Like CoreDNS (metav1.ParseToLabelSelector),
 * "!=", "gt" and "lt" are refused.
 */
enum selector_token {
	SEL_END, SEL_IDENT, SEL_NOT, SEL_NE, SEL_LPAR, SEL_RPAR, SEL_COMMA,
	SEL_EQ, SEL_EQEQ, SEL_GT, SEL_LT, SEL_IN, SEL_NOTIN
};

struct selector_lexer {
	const char *p;
	const char *lit;	/* the last token's text */
	int	 litlen;
	char	*why;
	size_t	 whylen;
	struct selector *sel;	/* what the requirements build */
};

static int selector_fail(struct selector_lexer *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
selector_fail(struct selector_lexer *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->why, s->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
selector_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
selector_special(char c)
{
	return c != '\0' && strchr("=!(),<>", c) != NULL;
}

/* The next token; among values, "in" and "notin" are plain words. */
static enum selector_token
selector_lex(struct selector_lexer *s, bool values)
{
	static const struct {
		const char *text;
		enum selector_token tok;
	} ops[] = {
		{ "!=", SEL_NE }, { "==", SEL_EQEQ }, { "!", SEL_NOT },
		{ "=", SEL_EQ }, { "(", SEL_LPAR }, { ")", SEL_RPAR },
		{ ",", SEL_COMMA }, { ">", SEL_GT }, { "<", SEL_LT },
	};
	size_t	 i, n;

	while (selector_space(*s->p))
		s->p++;
	s->lit = s->p;
	s->litlen = 0;
	if (*s->p == '\0')
		return SEL_END;
	for (i = 0; i < nitems(ops); i++) {
		n = strlen(ops[i].text);
		if (strncmp(s->p, ops[i].text, n) == 0) {
			s->p += n;
			s->litlen = (int)n;
			return ops[i].tok;
		}
	}
	while (*s->p != '\0' && !selector_space(*s->p) &&
	    !selector_special(*s->p))
		s->p++;
	s->litlen = (int)(s->p - s->lit);
	if (!values && s->litlen == 2 && strncmp(s->lit, "in", 2) == 0)
		return SEL_IN;
	if (!values && s->litlen == 5 && strncmp(s->lit, "notin", 5) == 0)
		return SEL_NOTIN;
	return SEL_IDENT;
}

static enum selector_token
selector_peek(struct selector_lexer *s, bool values)
{
	const char *p = s->p;
	enum selector_token t = selector_lex(s, values);

	s->p = p;
	return t;
}

static bool
selector_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* A label name or value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static bool
selector_name_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 63 || !selector_alnum(s[0]) ||
	    !selector_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!selector_alnum(s[i]) && strchr("-_.", s[i]) == NULL)
			return false;
	return true;
}

/* A key's prefix: a DNS-1123 subdomain, lower case, at most 253. */
static bool
selector_prefix_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if ((s[i] != '-' && s[i] != '.') || i == 0 || i == n - 1 ||
		    (s[i] == '.' && (s[i - 1] == '.' || s[i - 1] == '-' ||
		    s[i + 1] == '-')))
			return false;
	}
	return true;
}

/* [PREFIX/]NAME */
static int
selector_key(struct selector_lexer *s)
{
	const char *k = s->lit, *slash = memchr(k, '/', (size_t)s->litlen);
	size_t	 n = (size_t)s->litlen, pl;

	if (slash == NULL ? selector_name_ok(k, n) :
	    (pl = (size_t)(slash - k), selector_prefix_ok(k, pl) &&
	    selector_name_ok(slash + 1, n - pl - 1)))
		return 0;
	return selector_fail(s, "invalid label key '%.*s'", s->litlen, k);
}

static int
selector_value(struct selector_lexer *s)
{
	if (s->litlen == 0 || selector_name_ok(s->lit, (size_t)s->litlen)) {
		selector_add_value(s->sel, s->lit, (size_t)s->litlen);
		return 0;
	}
	return selector_fail(s, "invalid label value '%.*s'", s->litlen,
	    s->lit);
}

/*
 * "(" values ")": commas and values, never two values in a row; empty
 * values count, as in "()", "(a,)" or "(,a)".
 */
static int
selector_values(struct selector_lexer *s)
{
	enum selector_token t, prev = SEL_LPAR;

	if (selector_lex(s, true) != SEL_LPAR)
		return selector_fail(s, "found '%.*s', expected: '('",
		    s->litlen, s->lit);
	for (;; prev = t) {
		t = selector_lex(s, true);
		if (t == SEL_RPAR) {
			if (prev == SEL_COMMA)
				selector_add_value(s->sel, "", 0);
			return 0;
		}
		if (t == SEL_COMMA) {
			if (prev != SEL_IDENT)
				selector_add_value(s->sel, "", 0);
			continue;
		}
		if (t != SEL_IDENT || prev == SEL_IDENT)
			return selector_fail(s, "found '%.*s', expected: %s",
			    s->litlen, s->lit, prev == SEL_IDENT ?
			    "',' or ')'" : "',', ')' or identifier");
		if (selector_value(s) == -1)
			return -1;
	}
}

/* [!]KEY, or KEY OPERATOR VALUES. */
static int
selector_requirement(struct selector_lexer *s)
{
	enum selector_token t;
	bool	 not = false;

	if ((t = selector_lex(s, true)) == SEL_NOT) {
		not = true;
		t = selector_lex(s, true);
	}
	if (t != SEL_IDENT)
		return selector_fail(s, "found '%.*s', expected: identifier",
		    s->litlen, s->lit);
	if (selector_key(s) == -1)
		return -1;
	selector_add_req(s->sel, s->lit, (size_t)s->litlen,
	    not ? SELECTOR_ABSENT : SELECTOR_EXISTS);
	t = selector_peek(s, true);
	if (not || t == SEL_END || t == SEL_COMMA)
		return 0;
	switch (selector_lex(s, false)) {
	case SEL_IN:
		selector_last(s->sel)->op = SELECTOR_IN;
		return selector_values(s);
	case SEL_NOTIN:
		selector_last(s->sel)->op = SELECTOR_NOTIN;
		return selector_values(s);
	case SEL_EQ:
	case SEL_EQEQ:
		selector_last(s->sel)->op = SELECTOR_IN;
		t = selector_peek(s, true);
		if (t == SEL_END || t == SEL_COMMA) {
			selector_add_value(s->sel, "", 0);
			return 0;
		}
		if (selector_lex(s, true) != SEL_IDENT)
			return selector_fail(s, "found '%.*s', expected: "
			    "identifier", s->litlen, s->lit);
		return selector_value(s);
	case SEL_NE:
	case SEL_GT:
	case SEL_LT:
		return selector_fail(s, "operator '%.*s' is not supported in "
		    "label selectors", s->litlen, s->lit);
	default:
		return selector_fail(s, "found '%.*s', expected: in, notin, "
		    "=, ==", s->litlen, s->lit);
	}
}

static int
selector_check(struct selector *sel, const char *text, char *why,
    size_t whylen)
{
	struct selector_lexer s = { text, text, 0, why, whylen, sel };
	enum selector_token t;

	if (selector_peek(&s, false) == SEL_END)
		return 0;
	for (;;) {
		t = selector_peek(&s, false);
		if (t != SEL_IDENT && t != SEL_NOT)
			return selector_fail(&s, "found '%.*s', expected: !, "
			    "identifier, or 'end of string'", s.litlen, s.lit);
		if (selector_requirement(&s) == -1)
			return -1;
		t = selector_lex(&s, true);
		if (t == SEL_END)
			return 0;
		if (t != SEL_COMMA)
			return selector_fail(&s, "found '%.*s', expected: ',' "
			    "or 'end of string'", s.litlen, s.lit);
		t = selector_peek(&s, true);
		if (t != SEL_IDENT && t != SEL_NOT)
			return selector_fail(&s, "found '%.*s', expected: "
			    "identifier after ','", s.litlen, s.lit);
	}
}

struct selector *
selector_parse(const char *text, char *err, size_t errlen)
{
	struct selector	*sel = xcalloc(1, sizeof(*sel));

	if (selector_check(sel, text, err, errlen) == -1) {
		selector_free(sel);
		return NULL;
	}
	return sel;
}

static const char *
selector_label(const struct object_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

static bool
selector_req_matches(const struct selector_req *r, const char *value)
{
	bool	in = false;

	switch (r->op) {
	case SELECTOR_EXISTS:
		return value != NULL;
	case SELECTOR_ABSENT:
		return value == NULL;
	default:
		for (size_t i = 0; value != NULL && i < r->nvalues; i++)
			in |= strcmp(r->values[i], value) == 0;
		/* As labels.Requirement: notin matches a missing key. */
		return r->op == SELECTOR_IN ? in : !in;
	}
}

bool
selector_matches(const struct selector *sel, const struct object_label *labels,
    size_t n)
{
	for (size_t i = 0; i < sel->nreqs; i++)
		if (!selector_req_matches(&sel->reqs[i], selector_label(labels,
		    n, sel->reqs[i].key)))
			return false;
	return true;
}

void
selector_free(struct selector *sel)
{
	if (sel == NULL)
		return;
	for (size_t i = 0; i < sel->nreqs; i++) {
		for (size_t j = 0; j < sel->reqs[i].nvalues; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
		free(sel->reqs[i].key);
	}
	free(sel->reqs);
	free(sel);
}
