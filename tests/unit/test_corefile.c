/* test_corefile.c -- the Corefile lexer and cursor: tokens, lines, snippets, imports, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "corefile.h"
#include "xmalloc.h"

#define DATA	TESTDATA "/corefile"

struct dump {
	char	 s[4096];
	size_t	 len;
};

static void __attribute__((format(printf, 2, 3)))
dump_add(struct dump *d, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	d->len += vsnprintf(d->s + d->len, sizeof(d->s) - d->len, fmt, ap);
	va_end(ap);
	assert_true(d->len < sizeof(d->s));
}

/* name(arg,arg)@LINE, then " { ... }" for its block. */
static void
dump_lines(struct dump *d, const struct corefile_line *l)
{
	const char *a;
	size_t	 i;

	for (; l != NULL; l = corefile_next(l)) {
		dump_add(d, " %s(", corefile_name(l));
		for (i = 0; (a = corefile_arg(l, i)) != NULL; i++)
			dump_add(d, "%s%s", i ? "," : "", a[0] ? a : "\"\"");
		assert_int_equal(i, corefile_nargs(l));
		dump_add(d, ")@%d", corefile_pos(l)->line);
		if (corefile_has_block(l)) {
			dump_add(d, " {");
			dump_lines(d, corefile_options(l));
			dump_add(d, " }");
		}
	}
}

/* Blocks as "key,key@LINE { lines }", separated by spaces. */
static const char *
dump(const struct corefile *cf, struct dump *d)
{
	const struct corefile_block *b;
	const char *k;
	size_t	 i, j;

	d->len = 0;
	d->s[0] = '\0';
	for (i = 0; (b = corefile_block(cf, i)) != NULL; i++) {
		dump_add(d, "%s", i ? " " : "");
		for (j = 0; (k = corefile_key(b, j, NULL)) != NULL; j++)
			dump_add(d, "%s%s", j ? "," : "", k);
		dump_add(d, "@%d {", corefile_block_pos(b)->line);
		dump_lines(d, corefile_first(b));
		dump_add(d, " }");
	}
	return d->s;
}

struct lex_case {
	const char *text;
	const char *want;
};

static void
check_cases(const struct lex_case *c, size_t n)
{
	struct corefile *cf;
	struct dump d;
	char	 err[256];
	size_t	 i;

	for (i = 0; i < n; i++) {
		cf = corefile_parse("T", c[i].text, err, sizeof(err));
		if (cf == NULL)
			fail_msg("case %zu: %s", i, err);
		if (strcmp(dump(cf, &d), c[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, d.s,
			    c[i].want);
		corefile_free(cf);
	}
}

static void
test_tokens(void **state)
{
	static const struct lex_case cases[] = {
		{ "", "" },
		{ "# only a comment\n\n", "" },
		{ ". {\n whoami\n}", ".@1 { whoami()@2 }" },
		{ ". {\r\n a\r\n}\r\n", ".@1 { a()@2 }" },
		{ ". {\n a \"b c\" `d \"e` \"x\\\"y\" \"p\\\\q\" \"\"\n}",
		  ".@1 { a(b c,d \"e,x\"y,p\\\\q,\"\")@2 }" },
		{ ". {\n a `x\\` y\n}", ".@1 { a(x\\,y)@2 }" },
		{ ". {\n a \"x\ny\" b\n c\n}",
		  ".@1 { a(x\ny,b)@2 c()@4 }" },
		{ ". {\n a \"b\"c\n}", ".@1 { a(b,c)@2 }" },
		{ "# head\n. { # c\n a b#c # tail\n #x\n}",
		  ".@2 { a(b#c)@3 }" },
		{ ". {\n a \"#not\" x\n}", ".@1 { a(#not,x)@2 }" },
		{ ". { health { lameduck 5s } }",
		  ".@1 { health()@1 { lameduck(5s)@1 } }" },
		{ ". {\n a \"{\" \"}\" x{ }y\n}", ".@1 { a({,},x{,}y)@2 }" },
		{ "a.org b.org,c.org,\n d.org {\n}",
		  "a.org,b.org,c.org,d.org@1 { }" },
		{ "a.org\n{\n x\n}", "a.org@1 { x()@3 }" },
		{ ". { a } b { c }", ".@1 { a()@1 } b@1 { c()@1 }" },
		{ ". {\n}\n\nb {\n k x {\n  o 1\n\n  p\n }\n q\n}",
		  ".@1 { } b@4 { k(x)@5 { o(1)@6 p()@8 } q()@10 }" },
		{ ". {\n k {\n }\n}", ".@1 { k()@2 { } }" },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_env(void **state)
{
	static const struct lex_case cases[] = {
		{ ". {\n a {$PDT_ZONE} x{$PDT_UNSET}y\n}",
		  ".@1 { a(Cluster.Local,xy)@2 }" },
		{ ". {\n a {$PDT_UNSET:dflt} {$PDT_ZONE:dflt} "
		  "{$PDT_EMPTY:d}\n}",
		  ".@1 { a(dflt,Cluster.Local,\"\")@2 }" },
		{ ". {\n a {%PDT_ZONE%} \"q {$PDT_ZONE}\" {$PDT_UNSET}\n}",
		  ".@1 { a(Cluster.Local,q Cluster.Local,\"\")@2 }" },
		{ ". {\n a {$ {$unclosed {$} {%%} b{$PDT_ZONE\n}",
		  ".@1 { a({$,{$unclosed,{$},{%%},b{$PDT_ZONE)@2 }" },
		/* A substituted brace is text, never a block. */
		{ ". {\n a {$PDT_BRACE}\n}", ".@1 { a({)@2 }" },
		{ "{$PDT_ZONE}:{$PDT_PORT:53} {\n}", "Cluster.Local:53@1 { }" },
	};

	setenv("PDT_ZONE", "Cluster.Local", 1);
	setenv("PDT_EMPTY", "", 1);
	setenv("PDT_BRACE", "{", 1);
	unsetenv("PDT_UNSET");
	unsetenv("PDT_PORT");
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_snippets(void **state)
{
	static const struct lex_case cases[] = {
		{ "(s) {\n bind 1.2.3.4\n}\n. {\n import s\n}",
		  ".@4 { bind(1.2.3.4)@2 }" },
		{ "(s) { a }\n. { import s }", ".@2 { a()@1 }" },
		/* A one-line snippet must not extend the line before it. */
		{ "(s) { a }\n. {\n x\n import s\n}", ".@2 { x()@3 a()@1 }" },
		{ "(k) {\n ttl 5\n}\n. {\n kubernetes {\n import k\n"
		  " pods insecure\n }\n}",
		  ".@4 { kubernetes()@5 { ttl(5)@2 pods(insecure)@7 } }" },
		/* Back to back, the second copy still starts new lines. */
		{ "(s) {\n a 1\n b 2\n}\n. {\n import s\n import s\n}",
		  ".@5 { a(1)@2 b(2)@3 a(1)@2 b(2)@3 }" },
		{ "(a) {\n x\n}\n(b) {\n import a\n y\n}\n. {\n import b\n}",
		  ".@8 { x()@2 y()@6 }" },
		{ "(blk) {\n z.org {\n  w\n }\n}\nimport blk",
		  "z.org@2 { w()@3 }" },
		{ "(e) {\n}\n. {\n import e\n a\n}", ".@3 { a()@5 }" },
		{ ". {\n \"import\" s\n a import\n}",
		  ".@1 { import(s)@2 a(import)@3 }" },
		/* Only at top level does "(name) {" define a snippet. */
		{ ". {\n (s) {\n }\n}", ".@1 { (s)()@2 { } }" },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

struct err_case {
	const char *text;
	const char *want;
};

static void
check_errors(const char *name, const struct err_case *c, size_t n)
{
	struct corefile *cf;
	char	 err[512];
	size_t	 i;

	for (i = 0; i < n; i++) {
		strcpy(err, "untouched");
		cf = corefile_parse(name, c[i].text, err, sizeof(err));
		if (cf != NULL)
			fail_msg("case %zu parsed: %s", i, c[i].text);
		if (strcmp(err, c[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err,
			    c[i].want);
	}
}

static void
test_syntax_errors(void **state)
{
	static const struct err_case cases[] = {
		{ ". {\n a \"unterminated\n}",
		  "T:2: unterminated quoted string" },
		{ ". {\n a `open\n}", "T:2: unterminated quoted string" },
		{ "}", "T:1: unexpected '}'" },
		{ ". {\n a\n", "T:1: '{' is never closed" },
		{ ". {\n a {\n b\n}", "T:1: '{' is never closed" },
		{ "a.org\nb {\n}",
		  "T:1: expected '{' after server block keys" },
		{ "a.org b.org", "T:1: expected '{' after server block keys" },
		{ "a.org,\n", "T:1: expected '{' after server block keys" },
		{ "{\n}", "T:1: server block has no keys" },
		{ "\"\" {\n}", "T:1: server block has no keys" },
		{ ". {\n a\n {\n }\n}", "T:3: unexpected '{'" },
		{ ". {\n a { b } c\n}", "T:2: unexpected 'c' after '}'" },
		{ ". {\n import\n}",
		  "T:2: import takes exactly one argument, got 0" },
		{ ". {\n import a b\n}",
		  "T:2: import takes exactly one argument, got 2" },
		{ ". {\n import {\n }\n}",
		  "T:2: import takes exactly one argument, got 1" },
		{ "(s) {\n a\n}\n(s) {\n b\n}",
		  "T:4: snippet 's' already defined at T:1" },
		{ "(s) {\n a\n", "T:1: snippet 's' has no closing '}'" },
		{ "(s) {\n import s\n}\n. {\n import s\n}",
		  "T:2: import cycle: snippet s -> snippet s" },
		{ "(a) {\n import b\n}\n(b) {\n import a\n}\n. {\n import a\n}",
		  "T:5: import cycle: snippet a -> snippet b -> snippet a" },
	};

	check_errors("T", cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_nesting_limits(void **state)
{
	char	 text[4096], err[256];
	struct corefile *cf;
	size_t	 len = 0;
	int	 i;

	/* Eight nested blocks are fine; the ninth is refused. */
	len += snprintf(text + len, sizeof(text) - len, ". {\n");
	for (i = 0; i < 9; i++)
		len += snprintf(text + len, sizeof(text) - len, "d%d {\n", i);
	for (i = 0; i < 10; i++)
		len += snprintf(text + len, sizeof(text) - len, "}\n");
	cf = corefile_parse("T", text, err, sizeof(err));
	assert_null(cf);
	assert_string_equal(err, "T:10: blocks nested deeper than 8");

	/* s0 is a plain snippet; each sK imports s(K-1). */
	len = snprintf(text, sizeof(text), "(s0) {\n x\n}\n");
	for (i = 1; i <= 16; i++)
		len += snprintf(text + len, sizeof(text) - len,
		    "(s%d) {\n import s%d\n}\n", i, i - 1);
	snprintf(text + len, sizeof(text) - len, ". {\n import s15\n}\n");
	cf = corefile_parse("T", text, err, sizeof(err));
	assert_non_null(cf);
	assert_string_equal(corefile_name(corefile_first(
	    corefile_block(cf, 0))), "x");
	corefile_free(cf);
	snprintf(text + len, sizeof(text) - len, ". {\n import s16\n}\n");
	assert_null(corefile_parse("T", text, err, sizeof(err)));
	assert_string_equal(err, "T:5: imports nested deeper than 16");
}

static const char *
suffix_of(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	if (n < m || strcmp(s + n - m, suffix) != 0)
		fail_msg("'%s' does not end in '%s'", s, suffix);
	return s;
}

static void
test_import_files(void **state)
{
	const struct corefile_block *b;
	const struct corefile_line *l;
	const struct corefile_pos *pos;
	struct corefile *cf;
	struct dump d;
	char	 err[512];

	cf = corefile_load(DATA "/import/Corefile", err, sizeof(err));
	if (cf == NULL)
		fail_msg("%s", err);
	assert_string_equal(dump(cf, &d),
	    "cluster.local:1053@4 { bind(127.0.0.1)@2 kubernetes()@1 "
	    "{ ttl(7)@2 } } example.org:1053@1 { bind(127.0.0.1)@2 "
	    "bind(10.0.0.1)@1 }");
	b = corefile_block(cf, 0);
	assert_string_equal(corefile_block_pos(b)->file,
	    DATA "/import/Corefile");
	l = corefile_first(b);
	suffix_of(corefile_pos(l)->file, "/import/snippets.conf");
	l = corefile_next(l);
	assert_string_equal(corefile_pos(l)->file,
	    DATA "/import/extra/k8s.conf");
	b = corefile_block(cf, 1);
	assert_non_null(corefile_key(b, 0, &pos));
	assert_string_equal(pos->file, DATA "/import/blocks/second.conf");
	l = corefile_next(corefile_first(b));
	assert_string_equal(corefile_pos(l)->file,
	    DATA "/import/blocks/inner.inc");
	assert_null(corefile_block(cf, 2));
	corefile_free(cf);
}

static void
test_import_errors(void **state)
{
	static const struct err_case cases[] = {
		{ ". {\n import nosuch.conf\n}", DATA "/T:2: import: cannot "
		  "read '" DATA "/nosuch.conf': No such file or directory" },
		{ ". {\n import cycle\n}", DATA "/T:2: import: cannot read '"
		  DATA "/cycle': Is a directory" },
		{ ". {\n import cycle/self.conf\n}", DATA "/cycle/self.conf:1: "
		  "import cycle: " DATA "/cycle/self.conf -> " DATA
		  "/cycle/self.conf" },
	};
	struct corefile *cf;
	char	 err[1024];

	check_errors(DATA "/T", cases, sizeof(cases) / sizeof(cases[0]));
	cf = corefile_load(DATA "/cycle/a.conf", err, sizeof(err));
	assert_null(cf);
	assert_string_equal(err, DATA "/cycle/b.conf:2: import cycle: " DATA
	    "/cycle/a.conf -> " DATA "/cycle/b.conf -> " DATA "/cycle/a.conf");
	cf = corefile_load(DATA "/nope.Corefile", err, sizeof(err));
	assert_null(cf);
	assert_string_equal(err, DATA "/nope.Corefile: cannot read: "
	    "No such file or directory");
	/* An unmatched glob imports nothing, as in CoreDNS. */
	cf = corefile_parse(DATA "/T", ". {\n import nomatch-*.conf\n a\n}",
	    err, sizeof(err));
	assert_non_null(cf);
	assert_string_equal(corefile_name(corefile_first(
	    corefile_block(cf, 0))), "a");
	corefile_free(cf);
}

static void
test_nul_byte(void **state)
{
	char	 path[] = "/tmp/test_corefile.XXXXXX", err[512], want[512];
	int	 fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, ". {\n\0}\n", 6), 6);
	close(fd);
	assert_null(corefile_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot read: file contains a NUL "
	    "byte", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
test_cursor(void **state)
{
	const struct corefile_block *b;
	const struct corefile_line *l;
	const struct corefile_pos *pos;
	struct corefile *cf;
	char	 err[64];

	cf = corefile_parse("T", "a.org,\n b.org {\n k x {\n }\n e\n}", err,
	    sizeof(err));
	assert_non_null(cf);
	b = corefile_block(cf, 0);
	assert_string_equal(corefile_key(b, 1, &pos), "b.org");
	assert_int_equal(pos->line, 2);
	assert_null(corefile_key(b, 2, &pos));
	l = corefile_first(b);
	assert_true(corefile_has_block(l));
	assert_null(corefile_options(l));
	assert_string_equal(corefile_arg(l, 0), "x");
	assert_null(corefile_arg(l, 1));
	l = corefile_next(l);
	assert_false(corefile_has_block(l));
	assert_int_equal(corefile_nargs(l), 0);
	assert_null(corefile_arg(l, 0));
	assert_null(corefile_next(l));

	/* Errors are prefixed, truncated to fit, and tolerate no buffer. */
	assert_int_equal(corefile_errf(corefile_pos(l), err, sizeof(err),
	    "bad %s", "thing"), -1);
	assert_string_equal(err, "T:5: bad thing");
	assert_int_equal(corefile_errf(corefile_pos(l), err, 6, "long"), -1);
	assert_string_equal(err, "T:5: ");
	assert_int_equal(corefile_errf(corefile_pos(l), err, 3, "x"), -1);
	assert_string_equal(err, "T:");
	assert_int_equal(corefile_errf(NULL, err, sizeof(err), "plain"), -1);
	assert_string_equal(err, "plain");
	assert_int_equal(corefile_errf(NULL, NULL, 0, "none"), -1);
	corefile_free(cf);
	corefile_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_snippets),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nesting_limits),
		cmocka_unit_test(test_import_files),
		cmocka_unit_test(test_import_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_cursor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
