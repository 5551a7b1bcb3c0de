/* test_jdoc.c -- JSON values in a flat array: navigation, numbers, strings, where a value ends, and broken text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jdoc.h"

static const struct jdoc_val *
parse(struct jdoc *d, const char *text, size_t *used)
{
	char	err[256];

	return jdoc_parse(d, text, strlen(text), used, err, sizeof(err));
}

static void
test_navigate(void **state)
{
	struct jdoc		*d = jdoc_new();
	const struct jdoc_val	*r, *b, *c, *v;

	(void)state;
	r = parse(d, "{\"a\":1,\"b\":[true,null,\"x\\u0000y\",[],{}],"
	    "\"c\":{\"d\":-2.5e3,\"e\":false},\"a\":7}", NULL);
	assert_non_null(r);
	assert_int_equal(r->type, JDOC_OBJECT);
	assert_int_equal(r->n, 4);
	/* Equal keys: the last wins, as json-c's and Go's. */
	assert_int_equal(jdoc_get(r, "a")->type, JDOC_INT);
	assert_int_equal(jdoc_get(r, "a")->u.i, 7);
	assert_null(jdoc_get(r, "z"));
	b = jdoc_get(r, "b");
	assert_int_equal(b->type, JDOC_ARRAY);
	assert_int_equal(b->n, 5);
	assert_int_equal(jdoc_at(b, 0)->type, JDOC_BOOL);
	assert_true(jdoc_at(b, 0)->u.b);
	assert_int_equal(jdoc_at(b, 1)->type, JDOC_NULL);
	v = jdoc_at(b, 2);
	assert_int_equal(v->type, JDOC_STRING);
	assert_int_equal(v->n, 3);
	assert_memory_equal(v->u.s, "x\0y", 4);
	assert_int_equal(jdoc_at(b, 3)->type, JDOC_ARRAY);
	assert_null(jdoc_first(jdoc_at(b, 3)));
	assert_int_equal(jdoc_at(b, 4)->type, JDOC_OBJECT);
	assert_null(jdoc_at(b, 5));
	assert_null(jdoc_get(b, "a"));	/* not an object */
	c = jdoc_get(r, "c");
	assert_true(jdoc_get(c, "d")->type == JDOC_DOUBLE &&
	    jdoc_get(c, "d")->u.d == -2500.0);
	assert_false(jdoc_get(c, "e")->u.b);
	/* Members in order, each with its key; the walk stops at the parent's end. */
	v = jdoc_first(r);
	assert_string_equal(v->key, "a");
	assert_string_equal((v = jdoc_next(r, v))->key, "b");
	assert_string_equal((v = jdoc_next(r, v))->key, "c");
	assert_string_equal((v = jdoc_next(r, v))->key, "a");
	assert_null(jdoc_next(r, v));
	assert_null(jdoc_first(jdoc_get(c, "e")));
	/* Keys are matched whole: one with a NUL in it is not its prefix. */
	r = parse(d, "{\"ab\":1,\"a\\u0000b\":2,\"a\":3,\"abc\":4}", NULL);
	assert_int_equal(jdoc_get(r, "a")->u.i, 3);
	assert_int_equal(jdoc_get(r, "ab")->u.i, 1);
	assert_int_equal(jdoc_get(r, "abc")->u.i, 4);
	assert_null(jdoc_get(r, "b"));
	jdoc_free(d);
}

/* A container's text as given: what PetSet templates keep. */
static void
test_text(void **state)
{
	struct jdoc		*d = jdoc_new();
	const char		*t = "{ \"spec\" : {\"a\": [1, \"x/y\"] } ,\"n\":1}";
	const struct jdoc_val	*r;
	size_t			 len;
	const char		*text;

	(void)state;
	assert_non_null(r = parse(d, t, NULL));
	text = jdoc_text(jdoc_get(r, "spec"), &len);
	assert_int_equal(len, strlen("{\"a\": [1, \"x/y\"] }"));
	assert_memory_equal(text, "{\"a\": [1, \"x/y\"] }", len);
	text = jdoc_text(jdoc_get(jdoc_get(r, "spec"), "a"), &len);
	assert_memory_equal(text, "[1, \"x/y\"]", len);
	assert_int_equal(len, 10);
	text = jdoc_text(r, &len);
	assert_int_equal(len, strlen(t));
	assert_null(jdoc_text(jdoc_get(r, "n"), &len));
	jdoc_free(d);
}

static void
test_numbers(void **state)
{
	struct jdoc		*d = jdoc_new();
	const struct jdoc_val	*r;

	(void)state;
	r = parse(d, "[9223372036854775807,-9223372036854775808,"
	    "9223372036854775808,1.0,-0,1e2,0]", NULL);
	assert_non_null(r);
	assert_int_equal(jdoc_at(r, 0)->type, JDOC_INT);
	assert_true(jdoc_at(r, 0)->u.i == INT64_MAX);
	assert_true(jdoc_at(r, 1)->u.i == INT64_MIN);
	/* Past int64_t: a double, as json-c makes it. */
	assert_int_equal(jdoc_at(r, 2)->type, JDOC_DOUBLE);
	assert_int_equal(jdoc_at(r, 3)->type, JDOC_DOUBLE);
	assert_int_equal(jdoc_at(r, 4)->type, JDOC_INT);
	assert_int_equal(jdoc_at(r, 4)->u.i, 0);
	assert_true(jdoc_at(r, 5)->type == JDOC_DOUBLE &&
	    jdoc_at(r, 5)->u.d == 100.0);
	/* A number alone, at the very end of the text. */
	r = parse(d, "  42", NULL);
	assert_true(r != NULL && r->type == JDOC_INT && r->u.i == 42);
	jdoc_free(d);
}

static void
test_strings(void **state)
{
	struct jdoc		*d = jdoc_new();
	const struct jdoc_val	*r;

	(void)state;
	/* Escapes decoded: é (2 bytes), U+1F600 from a surrogate pair (4). */
	r = parse(d, "{\"k\\n\":\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\"}", NULL);
	assert_non_null(r);
	assert_string_equal(jdoc_first(r)->key, "k\n");
	assert_int_equal(jdoc_first(r)->n, 9);
	assert_string_equal(jdoc_first(r)->u.s,
	    "\xc3\xa9\xf0\x9f\x98\x80\"\\/");
	/* Not UTF-8: let through, as json-c did. */
	r = parse(d, "[\"\xff\xfe\"]", NULL);
	assert_non_null(r);
	assert_int_equal(jdoc_at(r, 0)->n, 2);
	jdoc_free(d);
}

static void
test_used(void **state)
{
	struct jdoc		*d = jdoc_new();
	const char		*text = " \n{\"k\":[1,2]} , {\"x\":1}";
	const struct jdoc_val	*r;
	size_t			 used = 0;

	(void)state;
	r = parse(d, text, &used);
	assert_non_null(r);
	assert_int_equal(used, strchr(text, ']') + 2 - text);
	r = parse(d, text + used + 2, &used);
	assert_non_null(r);
	assert_int_equal(jdoc_get(r, "x")->u.i, 1);
	assert_int_equal(used, 8);	/* its leading space too */
	jdoc_free(d);
}

static void
test_broken(void **state)
{
	static const char *const bad[] = {
		"", "  ", "{", "{\"a\":", "{\"a\":1,}", "[1,]", "{\"a\" 1}",
		"[tru]", "\"open", "}", "nul",
		"[\"\\x\"]", "[01]",
	};
	struct jdoc	*d = jdoc_new();
	char		 err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(jdoc_parse(d, bad[i], strlen(bad[i]), NULL, err,
		    sizeof(err)));
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	/* A document that broke leaves the next one whole. */
	assert_non_null(parse(d, "{\"a\":[1]}", NULL));
	jdoc_free(d);
}

static void
test_depth(void **state)
{
	struct jdoc	*d = jdoc_new();
	char		 text[200], err[256];
	size_t		 n;

	(void)state;
	for (n = 0; n < 64; n++)
		text[n] = '[';
	for (; n < 128; n++)
		text[n] = ']';
	assert_non_null(jdoc_parse(d, text, 128, NULL, err, sizeof(err)));
	memmove(text + 1, text, 128);
	text[0] = '[';
	text[129] = ']';
	assert_null(jdoc_parse(d, text, 130, NULL, err, sizeof(err)));
	assert_string_equal(err, "nested too deep");
	jdoc_free(d);
}

/* A page-sized List: the value array and the string buffer grow; nothing moves under the caller. */
static void
test_large(void **state)
{
	struct jdoc		*d = jdoc_new();
	size_t			 cap = 1 << 20, len = 0, i;
	char			*text = malloc(cap);
	const struct jdoc_val	*r, *items, *v;

	(void)state;
	len += (size_t)snprintf(text + len, cap - len,
	    "{\"kind\":\"List\",\"items\":[");
	for (i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "%s{\"name\":\"item-%zu\",\"n\":%zu}", i ? "," : "", i, i);
	len += (size_t)snprintf(text + len, cap - len, "]}");
	r = jdoc_parse(d, text, len, NULL, NULL, 0);
	assert_non_null(r);
	items = jdoc_get(r, "items");
	assert_int_equal(items->n, 5000);
	for (i = 0, v = jdoc_first(items); v != NULL; v = jdoc_next(items, v),
	    i++) {
		char	name[32];

		snprintf(name, sizeof(name), "item-%zu", i);
		assert_string_equal(jdoc_get(v, "name")->u.s, name);
		assert_int_equal(jdoc_get(v, "n")->u.i, (int64_t)i);
	}
	assert_int_equal(i, 5000);
	assert_string_equal(jdoc_get(jdoc_at(items, 4321), "name")->u.s,
	    "item-4321");
	free(text);
	jdoc_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_navigate),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
