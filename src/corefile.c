/* corefile.c -- the Corefile lexer and block cursor, following CoreDNS's (Caddy's) rules. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corefile.h"
#include "log.h"
#include "xmalloc.h"

/* Imports and snippets nest at most this deep; deeper is surely a mistake. */
#define COREFILE_MAX_DEPTH	16
/* { } blocks inside a server block: directive options, rarely more. */
#define COREFILE_MAX_NEST	8
/* A Corefile is a few kilobytes; this stops "import /dev/zero". */
#define COREFILE_MAX_SIZE	(4 * 1024 * 1024)

enum tok_kind {
	TOK_WORD,
	TOK_QUOTED,		/* never a brace nor a keyword */
	TOK_OPEN,
	TOK_CLOSE
};

struct tok {
	char	*text;
	struct corefile_pos pos;
	bool	 nl;		/* first token on its line */
	enum tok_kind kind;
};

struct toks {
	struct tok *v;
	size_t	 n;
	size_t	 cap;
};

struct snippet {
	char	*name;
	struct corefile_pos pos;
	struct toks body;
};

/* A file or snippet being expanded; key is a real path or "(name)". */
struct frame {
	char	*key;
	const char *name;
};

struct corefile_line {
	struct corefile_pos pos;
	char	**argv;		/* the name, then the arguments */
	size_t	 argc;
	bool	 has_block;
	struct corefile_line *options;
	struct corefile_line *next;
};

struct corefile_key {
	char	*text;
	struct corefile_pos pos;
};

struct corefile_block {
	struct corefile_pos pos;
	struct corefile_key *keys;
	size_t	 nkeys;
	struct corefile_line *lines;
};

struct corefile {
	struct corefile_block *blocks;
	size_t	 nblocks;
	char	**files;	/* the names positions point into */
	size_t	 nfiles;
};

/* One parse: its result, its snippets and the chain of imports under way. */
struct lexer {
	struct corefile *cf;
	struct snippet **snippets;
	size_t	 nsnippets;
	struct frame stack[COREFILE_MAX_DEPTH + 1];
	size_t	 depth;
	int	 braces;	/* open { so far: snippets are top level */
	char	*err;
	size_t	 errlen;
};

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static int	expand(struct lexer *, const struct toks *, struct toks *);

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void __attribute__((format(printf, 4, 0)))
verrf(const struct corefile_pos *pos, char *err, size_t errlen,
    const char *fmt, va_list ap)
{
	int	 n = 0;

	if (errlen == 0)
		return;
	if (pos != NULL)
		n = snprintf(err, errlen, "%s:%d: ", pos->file, pos->line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	vsnprintf(err + n, errlen - n, fmt, ap);
}

int
corefile_errf(const struct corefile_pos *pos, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verrf(pos, err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int __attribute__((format(printf, 3, 4)))
lex_errf(struct lexer *lx, const struct corefile_pos *pos, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verrf(pos, lx->err, lx->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Positions point at these names, so they live as long as the corefile. */
static const char *
intern(struct lexer *lx, const char *name)
{
	struct corefile *cf = lx->cf;

	cf->files = xreallocarray(cf->files, cf->nfiles + 1, sizeof(char *));
	cf->files[cf->nfiles] = xstrdup(name);
	return cf->files[cf->nfiles++];
}

static void
toks_push(struct toks *tk, const struct tok *t, char *text)
{
	if (tk->n == tk->cap) {
		tk->cap = tk->cap ? tk->cap * 2 : 64;
		tk->v = xreallocarray(tk->v, tk->cap, sizeof(*tk->v));
	}
	tk->v[tk->n] = *t;
	tk->v[tk->n++].text = text;
}

static void
toks_clear(struct toks *tk)
{
	size_t	 i;

	for (i = 0; i < tk->n; i++)
		free(tk->v[i].text);
	free(tk->v);
}

/*
 * Returns the value of one reference, name being "VAR" or "VAR:default".
 * Unset without a default is empty, as in CoreDNS; set-but-empty stays empty.
 */
static const char *
env_value(char *name)
{
	char	*def, *val;

	if ((def = strchr(name, ':')) != NULL)
		*def++ = '\0';
	if ((val = getenv(name)) != NULL)
		return val;
	return def != NULL ? def : "";
}

/* Replaces {$VAR}, {$VAR:default} and {%VAR%}; unclosed ones stay literal. */
static char *
env_subst(const char *s)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *end, *close, *val;
	char	*name;

	sbuf_add(&b, "", 0);
	while (*s != '\0') {
		close = s[1] == '$' ? "}" : "%}";
		if (s[0] != '{' || (s[1] != '$' && s[1] != '%') ||
		    (end = strstr(s + 2, close)) == NULL || end == s + 2) {
			sbuf_add(&b, s++, 1);
			continue;
		}
		name = xstrndup(s + 2, end - (s + 2));
		val = env_value(name);
		sbuf_add(&b, val, strlen(val));
		free(name);
		s = end + strlen(close);
	}
	return b.s;
}

/*
 * Reads a "..." or `...` token at *pp. Inside "", a backslash keeps the
 * next character with it unless that is a quote (Caddy's only escape).
 */
static int
lex_quoted(struct lexer *lx, const char **pp, int *line, struct tok *t)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *p = *pp;
	char	 q = *p++;

	sbuf_add(&b, "", 0);
	for (; *p != q; p++) {
		if (*p == '\0') {
			free(b.s);
			return lex_errf(lx, &t->pos,
			    "unterminated quoted string");
		}
		if (q == '"' && p[0] == '\\' && p[1] != '\0') {
			if (p[1] != '"')
				sbuf_add(&b, p, 1);
			p++;
		}
		if (*p == '\n')
			(*line)++;
		sbuf_add(&b, p, 1);
	}
	*pp = p + 1;
	t->kind = TOK_QUOTED;
	t->text = b.s;
	return 0;
}

static void
lex_word(const char **pp, struct tok *t)
{
	const char *p = *pp;
	size_t	 n = strcspn(p, " \t\r\n\v\f");

	t->text = xstrndup(p, n);
	t->kind = TOK_WORD;
	if (strcmp(t->text, "{") == 0)
		t->kind = TOK_OPEN;
	else if (strcmp(t->text, "}") == 0)
		t->kind = TOK_CLOSE;
	*pp = p + n;
}

/* Splits text into tokens; a # at the start of a token comments the line. */
static int
lex_text(struct lexer *lx, const char *file, const char *p, struct toks *out)
{
	struct tok t;
	int	 line = 1, lastline = 0;
	char	*text;

	while (*p != '\0') {
		if (*p == '\n')
			line++;
		if (strchr(" \t\r\n\v\f", *p) != NULL) {
			p++;
			continue;
		}
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		memset(&t, 0, sizeof(t));
		t.pos.file = file;
		t.pos.line = line;
		t.nl = line > lastline;
		if (*p == '"' || *p == '`') {
			if (lex_quoted(lx, &p, &line, &t) == -1)
				return -1;
		} else
			lex_word(&p, &t);
		lastline = line;
		if (t.kind == TOK_WORD || t.kind == TOK_QUOTED) {
			text = env_subst(t.text);
			free(t.text);
			t.text = text;
		}
		toks_push(out, &t, t.text);
	}
	return 0;
}

/* Reads a whole file, refusing NUL bytes and absurd sizes. */
static char *
read_file(const char *path, const char **why)
{
	struct sbuf b = { NULL, 0, 0 };
	char	 chunk[8192];
	size_t	 n;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	sbuf_add(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	    b.len <= COREFILE_MAX_SIZE)
		sbuf_add(&b, chunk, n);
	*why = ferror(f) ? strerror(errno) : NULL;
	if (*why == NULL && b.len > COREFILE_MAX_SIZE)
		*why = "file too large";
	if (*why == NULL && strlen(b.s) != b.len)
		*why = "file contains a NUL byte";
	fclose(f);
	if (*why != NULL) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* True at the start of a line: after a newline or a brace. */
static bool
starts_line(const struct toks *in, size_t i)
{
	return i == 0 || in->v[i].nl || in->v[i - 1].kind == TOK_OPEN ||
	    in->v[i - 1].kind == TOK_CLOSE;
}

static struct snippet *
snippet_find(struct lexer *lx, const char *name)
{
	size_t	 i;

	for (i = 0; i < lx->nsnippets; i++)
		if (strcmp(lx->snippets[i]->name, name) == 0)
			return lx->snippets[i];
	return NULL;
}

/* "(name) {" at top level, as in Caddy; anything else is a server block. */
static bool
is_snippet_def(struct lexer *lx, const struct toks *in, size_t i)
{
	const struct tok *t = &in->v[i];
	size_t	 len = strlen(t->text);

	return lx->braces == 0 && t->kind == TOK_WORD && starts_line(in, i) &&
	    len > 2 && t->text[0] == '(' && t->text[len - 1] == ')' &&
	    i + 1 < in->n && in->v[i + 1].kind == TOK_OPEN;
}

/* Stores the body of "(name) { ... }" unexpanded; *ip ends on its "}". */
static int
define_snippet(struct lexer *lx, const struct toks *in, size_t *ip)
{
	const struct tok *t = &in->v[*ip];
	struct snippet *s, *old;
	size_t	 i, nest = 1;
	char	*name;

	name = xstrndup(t->text + 1, strlen(t->text) - 2);
	if ((old = snippet_find(lx, name)) != NULL) {
		lex_errf(lx, &t->pos, "snippet '%s' already defined at %s:%d",
		    name, old->pos.file, old->pos.line);
		free(name);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->name = name;
	s->pos = t->pos;
	lx->snippets = xreallocarray(lx->snippets, lx->nsnippets + 1,
	    sizeof(*lx->snippets));
	lx->snippets[lx->nsnippets++] = s;
	for (i = *ip + 2; i < in->n; i++) {
		if (in->v[i].kind == TOK_OPEN)
			nest++;
		else if (in->v[i].kind == TOK_CLOSE && --nest == 0)
			break;
		toks_push(&s->body, &in->v[i], xstrdup(in->v[i].text));
	}
	if (i == in->n)
		return lex_errf(lx, &t->pos, "snippet '%s' has no closing '}'",
		    name);
	/* Whatever follows "import NAME" starts on a line of its own. */
	if (s->body.n > 0)
		s->body.v[0].nl = true;
	*ip = i;
	return 0;
}

/* Refuses key when it is being expanded already, naming the chain. */
static int
check_cycle(struct lexer *lx, const struct tok *t, const char *key,
    const char *name)
{
	struct sbuf b = { NULL, 0, 0 };
	size_t	 i, j;

	if (lx->depth >= COREFILE_MAX_DEPTH)
		return lex_errf(lx, &t->pos, "imports nested deeper than %d",
		    COREFILE_MAX_DEPTH);
	for (i = 0; i <= lx->depth; i++)
		if (strcmp(lx->stack[i].key, key) == 0)
			break;
	if (i > lx->depth)
		return 0;
	for (j = i; j <= lx->depth; j++) {
		sbuf_add(&b, lx->stack[j].name, strlen(lx->stack[j].name));
		sbuf_add(&b, " -> ", 4);
	}
	sbuf_add(&b, name, strlen(name));
	lex_errf(lx, &t->pos, "import cycle: %s", b.s);
	free(b.s);
	return -1;
}

/* Expands in as the import of key (a real path or "(snippet)"). */
static int
expand_framed(struct lexer *lx, const struct tok *t, char *key,
    const char *name, const struct toks *in, struct toks *out)
{
	int	 r;

	if (check_cycle(lx, t, key, name) == -1)
		return -1;
	lx->depth++;
	lx->stack[lx->depth].key = key;
	lx->stack[lx->depth].name = name;
	r = expand(lx, in, out);
	lx->depth--;
	return r;
}

static int
import_snippet(struct lexer *lx, const struct tok *t, struct snippet *s,
    struct toks *out)
{
	char	*key, *name;
	int	 r;

	key = xasprintf("(%s)", s->name);
	name = xasprintf("snippet %s", s->name);
	r = expand_framed(lx, t, key, name, &s->body, out);
	free(name);
	free(key);
	return r;
}

static int
import_file(struct lexer *lx, const struct tok *t, const char *path,
    struct toks *out)
{
	struct toks raw = { NULL, 0, 0 };
	const char *why = NULL, *name;
	char	*real, *text = NULL;
	int	 r = -1;

	if ((real = realpath(path, NULL)) == NULL)
		why = strerror(errno);
	else
		text = read_file(path, &why);
	if (text == NULL) {
		free(real);
		return lex_errf(lx, &t->pos, "import: cannot read '%s': %s",
		    path, why);
	}
	name = intern(lx, path);
	if (lex_text(lx, name, text, &raw) == 0)
		r = expand_framed(lx, t, real, name, &raw, out);
	toks_clear(&raw);
	free(text);
	free(real);
	return r;
}

/* A relative pattern is relative to the directory of the importing file. */
static int
import_files(struct lexer *lx, const struct tok *t, const char *pattern,
    struct toks *out)
{
	const char *slash = strrchr(t->pos.file, '/');
	char	*path;
	glob_t	 g;
	size_t	 i;
	int	 r = 0, rc;

	if (pattern[0] == '/' || slash == NULL)
		path = xstrdup(pattern);
	else
		path = xasprintf("%.*s/%s", (int)(slash - t->pos.file),
		    t->pos.file, pattern);
	rc = glob(path, 0, NULL, &g);
	if (rc == GLOB_NOMATCH && strpbrk(pattern, "*?[") != NULL)
		log_warnx("%s:%d: no files match import '%s'", t->pos.file,
		    t->pos.line, path);
	else if (rc != 0)
		r = import_file(lx, t, path, out);
	for (i = 0; rc == 0 && r == 0 && i < g.gl_pathc; i++)
		r = import_file(lx, t, g.gl_pathv[i], out);
	if (rc == 0)
		globfree(&g);
	free(path);
	return r;
}

/* "import NAME" at the start of a line: a snippet if one is so named. */
static int
do_import(struct lexer *lx, const struct toks *in, size_t *ip,
    struct toks *out)
{
	const struct tok *t = &in->v[*ip];
	struct snippet *s;
	size_t	 j;

	for (j = *ip + 1; j < in->n && !in->v[j].nl; j++)
		if (in->v[j].kind == TOK_CLOSE)
			break;
	if (j - *ip != 2 || in->v[j - 1].kind == TOK_OPEN)
		return lex_errf(lx, &t->pos,
		    "import takes exactly one argument, got %zu", j - *ip - 1);
	*ip = j - 1;
	if ((s = snippet_find(lx, in->v[j - 1].text)) != NULL)
		return import_snippet(lx, t, s, out);
	return import_files(lx, t, in->v[j - 1].text, out);
}

/* Copies in to out, defining snippets and replacing imports. */
static int
expand(struct lexer *lx, const struct toks *in, struct toks *out)
{
	const struct tok *t;
	size_t	 i;

	for (i = 0; i < in->n; i++) {
		t = &in->v[i];
		if (is_snippet_def(lx, in, i)) {
			if (define_snippet(lx, in, &i) == -1)
				return -1;
		} else if (t->kind == TOK_WORD && starts_line(in, i) &&
		    strcmp(t->text, "import") == 0) {
			if (do_import(lx, in, &i, out) == -1)
				return -1;
		} else {
			if (t->kind == TOK_OPEN)
				lx->braces++;
			else if (t->kind == TOK_CLOSE)
				lx->braces--;
			toks_push(out, t, xstrdup(t->text));
		}
	}
	return 0;
}

/* Adds the comma-separated keys in t; true when it ends with a comma. */
static bool
add_keys(struct corefile_block *b, struct tok *t)
{
	char	*s = t->text, *k;
	size_t	 n;

	while (*s != '\0') {
		n = strcspn(s, ",");
		if (n > 0) {
			b->keys = xreallocarray(b->keys, b->nkeys + 1,
			    sizeof(*b->keys));
			k = xstrndup(s, n);
			b->keys[b->nkeys].text = k;
			b->keys[b->nkeys++].pos = t->pos;
		}
		s += n;
		if (*s == ',' && *++s == '\0')
			return true;
	}
	return false;
}

/*
 * Server block keys run to "{"; they go on to the next line only after a
 * trailing comma, as in Caddy.
 */
static int
parse_keys(struct lexer *lx, struct toks *tk, size_t *ip,
    struct corefile_block *b)
{
	struct tok *t;
	bool	 more = false;

	b->pos = tk->v[*ip].pos;
	for (; *ip < tk->n; (*ip)++) {
		t = &tk->v[*ip];
		if (t->kind == TOK_OPEN && b->nkeys > 0) {
			(*ip)++;
			return 0;
		}
		if (t->kind == TOK_OPEN)
			return lex_errf(lx, &t->pos,
			    "server block has no keys");
		if (t->kind == TOK_CLOSE)
			return lex_errf(lx, &t->pos, "unexpected '}'");
		if (b->nkeys > 0 && t->nl && !more)
			break;
		more = add_keys(b, t);
	}
	return lex_errf(lx, b->nkeys > 0 ? &b->keys[b->nkeys - 1].pos : &b->pos,
	    "expected '{' after server block keys");
}

static int	parse_lines(struct lexer *, struct toks *, size_t *,
		    struct corefile_line **, int, const struct corefile_pos *);

/* One line: its words to the end of the line, then maybe a { } block. */
static int
parse_line(struct lexer *lx, struct toks *tk, size_t *ip,
    struct corefile_line *l, int nest)
{
	struct corefile_pos open;
	struct tok *t;

	l->pos = tk->v[*ip].pos;
	do {
		l->argv = xreallocarray(l->argv, l->argc + 1, sizeof(char *));
		l->argv[l->argc++] = tk->v[*ip].text;
		tk->v[(*ip)++].text = NULL;
	} while (*ip < tk->n && !tk->v[*ip].nl &&
	    tk->v[*ip].kind != TOK_OPEN && tk->v[*ip].kind != TOK_CLOSE);
	if (*ip == tk->n || tk->v[*ip].nl || tk->v[*ip].kind != TOK_OPEN)
		return 0;
	open = tk->v[(*ip)++].pos;
	if (nest >= COREFILE_MAX_NEST)
		return lex_errf(lx, &open, "blocks nested deeper than %d",
		    COREFILE_MAX_NEST);
	l->has_block = true;
	if (parse_lines(lx, tk, ip, &l->options, nest + 1, &open) == -1)
		return -1;
	t = &tk->v[*ip - 1];
	if (*ip < tk->n && !tk->v[*ip].nl && tk->v[*ip].kind != TOK_CLOSE)
		return lex_errf(lx, &t->pos, "unexpected '%s' after '}'",
		    tk->v[*ip].text);
	return 0;
}

/* Lines up to the "}" that closes the block opened at open. */
static int
parse_lines(struct lexer *lx, struct toks *tk, size_t *ip,
    struct corefile_line **head, int nest, const struct corefile_pos *open)
{
	struct corefile_line **tail = head, *l;

	while (*ip < tk->n) {
		if (tk->v[*ip].kind == TOK_CLOSE) {
			(*ip)++;
			return 0;
		}
		if (tk->v[*ip].kind == TOK_OPEN)
			return lex_errf(lx, &tk->v[*ip].pos, "unexpected '{'");
		l = xcalloc(1, sizeof(*l));
		*tail = l;
		tail = &l->next;
		if (parse_line(lx, tk, ip, l, nest) == -1)
			return -1;
	}
	return lex_errf(lx, open, "'{' is never closed");
}

static int
build_blocks(struct lexer *lx, struct toks *tk)
{
	struct corefile *cf = lx->cf;
	struct corefile_block *b;
	struct corefile_pos open;
	size_t	 i = 0;

	while (i < tk->n) {
		cf->blocks = xreallocarray(cf->blocks, cf->nblocks + 1,
		    sizeof(*cf->blocks));
		b = &cf->blocks[cf->nblocks++];
		memset(b, 0, sizeof(*b));
		if (parse_keys(lx, tk, &i, b) == -1)
			return -1;
		open = tk->v[i - 1].pos;
		if (parse_lines(lx, tk, &i, &b->lines, 0, &open) == -1)
			return -1;
	}
	return 0;
}

static void
lexer_clear(struct lexer *lx)
{
	size_t	 i;

	for (i = 0; i < lx->nsnippets; i++) {
		toks_clear(&lx->snippets[i]->body);
		free(lx->snippets[i]->name);
		free(lx->snippets[i]);
	}
	free(lx->snippets);
	free(lx->stack[0].key);
}

struct corefile *
corefile_parse(const char *name, const char *text, char *err, size_t errlen)
{
	struct lexer lx;
	struct toks raw = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int	 r;

	memset(&lx, 0, sizeof(lx));
	lx.cf = xcalloc(1, sizeof(*lx.cf));
	lx.err = err;
	lx.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	lx.stack[0].name = intern(&lx, name);
	/* Text need not come from a file; then only its name can repeat. */
	if ((lx.stack[0].key = realpath(name, NULL)) == NULL)
		lx.stack[0].key = xstrdup(name);
	r = lex_text(&lx, lx.stack[0].name, text, &raw);
	if (r == 0)
		r = expand(&lx, &raw, &out);
	if (r == 0)
		r = build_blocks(&lx, &out);
	toks_clear(&raw);
	toks_clear(&out);
	lexer_clear(&lx);
	if (r == -1) {
		corefile_free(lx.cf);
		return NULL;
	}
	return lx.cf;
}

struct corefile *
corefile_load(const char *path, char *err, size_t errlen)
{
	struct corefile *cf;
	const char *why;
	char	*text;

	if ((text = read_file(path, &why)) == NULL) {
		corefile_errf(NULL, err, errlen, "%s: cannot read: %s", path,
		    why);
		return NULL;
	}
	cf = corefile_parse(path, text, err, errlen);
	free(text);
	return cf;
}

static void
line_free(struct corefile_line *l)
{
	struct corefile_line *next;
	size_t	 i;

	for (; l != NULL; l = next) {
		next = l->next;
		for (i = 0; i < l->argc; i++)
			free(l->argv[i]);
		free(l->argv);
		line_free(l->options);
		free(l);
	}
}

void
corefile_free(struct corefile *cf)
{
	size_t	 i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nblocks; i++) {
		for (j = 0; j < cf->blocks[i].nkeys; j++)
			free(cf->blocks[i].keys[j].text);
		free(cf->blocks[i].keys);
		line_free(cf->blocks[i].lines);
	}
	free(cf->blocks);
	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	free(cf);
}

const struct corefile_block *
corefile_block(const struct corefile *cf, size_t i)
{
	return i < cf->nblocks ? &cf->blocks[i] : NULL;
}

const struct corefile_pos *
corefile_block_pos(const struct corefile_block *b)
{
	return &b->pos;
}

const char *
corefile_key(const struct corefile_block *b, size_t i,
    const struct corefile_pos **pos)
{
	if (i >= b->nkeys)
		return NULL;
	if (pos != NULL)
		*pos = &b->keys[i].pos;
	return b->keys[i].text;
}

const struct corefile_line *
corefile_first(const struct corefile_block *b)
{
	return b->lines;
}

const struct corefile_line *
corefile_next(const struct corefile_line *l)
{
	return l->next;
}

const struct corefile_line *
corefile_options(const struct corefile_line *l)
{
	return l->options;
}

bool
corefile_has_block(const struct corefile_line *l)
{
	return l->has_block;
}

const char *
corefile_name(const struct corefile_line *l)
{
	return l->argv[0];
}

size_t
corefile_nargs(const struct corefile_line *l)
{
	return l->argc - 1;
}

const char *
corefile_arg(const struct corefile_line *l, size_t i)
{
	return i + 1 < l->argc ? l->argv[i + 1] : NULL;
}

const struct corefile_pos *
corefile_pos(const struct corefile_line *l)
{
	return &l->pos;
}

/* ---- Values the directives share: durations and zones. ---- */

static bool
duration_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's leadingFraction: digits past int64's precision are read, not kept. */
static const char *
duration_fraction(const char *s, uint64_t *f, double *scale)
{
	bool	 overflow = false;
	uint64_t y;

	*f = 0;
	*scale = 1;
	for (; duration_digit(*s); s++) {
		if (overflow)
			continue;
		y = *f * 10 + (uint64_t)(*s - '0');
		if (*f > (UINT64_MAX >> 1) / 10 || y > UINT64_C(1) << 63) {
			overflow = true;
			continue;
		}
		*f = y;
		*scale *= 10;
	}
	return s;
}

/* One NUMBER UNIT of a duration, added to *d; NULL when malformed. */
static const char *
duration_part(const char *s, uint64_t *d)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 },
		{ "s", UINT64_C(1000000000) }, { "m", UINT64_C(60000000000) },
		{ "h", UINT64_C(3600000000000) },
	};
	const uint64_t max = UINT64_C(1) << 63;
	const char *start = s;
	uint64_t v = 0, f = 0;
	double	 scale = 1;
	size_t	 i, n;
	bool	 pre, post = false;

	for (; duration_digit(*s); s++) {
		if (v > max / 10 || (v = v * 10 + (uint64_t)(*s - '0')) > max)
			return NULL;
	}
	pre = s != start;
	if (*s == '.') {
		start = ++s;
		s = duration_fraction(s, &f, &scale);
		post = s != start;
	}
	if (!pre && !post)
		return NULL;
	n = strcspn(s, "0123456789.");
	for (i = 0; i < (sizeof(units) / sizeof(units[0])); i++)
		if (n > 0 && strlen(units[i].name) == n &&
		    strncmp(s, units[i].name, n) == 0)
			break;
	if (i == (sizeof(units) / sizeof(units[0])) || v > max / units[i].ns)
		return NULL;
	v *= units[i].ns;
	if (f > 0 && (v += (uint64_t)((double)f *
	    ((double)units[i].ns / scale))) > max)
		return NULL;
	if ((*d += v) > max)
		return NULL;
	return s + n;
}

/*
 * Go's time.ParseDuration: [-+]? and NUMBER UNIT... (a decimal number with
 * an optional fraction; ns, us, µs, ms, s, m, h), or a lone 0. Fills
 * milliseconds, rounded up and capped at INT_MAX; a negative duration is 0,
 * as a Go timer set to one fires at once.
 */
bool
corefile_duration(const char *s, int *ms, bool *negative)
{
	uint64_t d = 0;
	bool	 neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		if (negative != NULL)
			*negative = false;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0')
		if ((s = duration_part(s, &d)) == NULL)
			return false;
	if (!neg && d > INT64_MAX)
		return false;
	if (negative != NULL)
		*negative = neg && d > 0;
	d = neg ? 0 : (d + 999999) / 1000000;
	*ms = d > INT_MAX ? INT_MAX : (int)d;
	return true;
}

/*
 * The reverse zone of a CIDR, as CoreDNS derives it: only whole octets
 * (IPv4) or nibbles (IPv6) can be delegated, so other masks are refused.
 */
static char *
cidr_reverse(const char *s, char *why, size_t whylen)
{
	unsigned char ip[16];
	const char *slash = strchr(s, '/');
	char	*addr, *zone, *part;
	size_t	 n;
	int	 bits, step, prefix, i, v4;

	addr = xstrndup(s, slash - s);
	v4 = inet_pton(AF_INET, addr, ip) == 1;
	n = strlen(slash + 1);
	prefix = -1;
	if ((v4 || inet_pton(AF_INET6, addr, ip) == 1) && n >= 1 && n <= 3 &&
	    strspn(slash + 1, "0123456789") == n)
		prefix = atoi(slash + 1);
	free(addr);
	bits = v4 ? 32 : 128;
	step = v4 ? 8 : 4;
	if (prefix < 0 || prefix > bits) {
		snprintf(why, whylen, "invalid CIDR");
		return NULL;
	}
	if (prefix % step != 0) {
		snprintf(why, whylen, "CIDR mask is not on %s boundary",
		    v4 ? "an octet" : "a nibble");
		return NULL;
	}
	zone = xstrdup(v4 ? "in-addr.arpa" : "ip6.arpa");
	for (i = 0; i < prefix / step; i++) {
		if (v4)
			part = xasprintf("%u.%s", ip[i], zone);
		else
			part = xasprintf("%x.%s",
			    (ip[i / 2] >> (i % 2 ? 0 : 4)) & 0xf, zone);
		free(zone);
		zone = part;
	}
	return zone;
}

/* Checks the labels of a lower-cased name without its trailing dot. */
static bool
zone_valid(const char *z)
{
	size_t	 n;

	if (strlen(z) > 253)
		return false;
	for (;;) {
		n = strspn(z, "abcdefghijklmnopqrstuvwxyz0123456789-_");
		if (n == 0 || n > 63 || (z[n] != '.' && z[n] != '\0'))
			return false;
		if (z[n] == '\0')
			return true;
		z += n + 1;
	}
}

/*
 * Normalises a zone: lower case, no trailing dot, the root as ".", a CIDR
 * as its reverse zone. Returns NULL with why filled when it is not one.
 */
char *
corefile_zone(const char *s, char *why, size_t whylen)
{
	char	*z;
	size_t	 i, len;

	if (strchr(s, '/') != NULL)
		return cidr_reverse(s, why, whylen);
	if (strcmp(s, ".") == 0)
		return xstrdup(".");
	z = xstrdup(s);
	for (i = 0; z[i] != '\0'; i++)
		z[i] = tolower((unsigned char)z[i]);
	len = strlen(z);
	if (len > 0 && z[len - 1] == '.')
		z[len - 1] = '\0';
	if (!zone_valid(z)) {
		snprintf(why, whylen, "not a valid domain name");
		free(z);
		return NULL;
	}
	return z;
}
