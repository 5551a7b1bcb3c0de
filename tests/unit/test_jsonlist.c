/* test_jsonlist.c -- List bodies walked item by item: order, members, whitespace, and every way a body can be broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "jdoc.h"
#include "jsonlist.h"

/* What the callbacks saw, as text: "m:KEY" "[" "i:NAME" "i:null". */
struct seen {
	char	log[1024];
};

static void
seen_add(struct seen *s, const char *what)
{
	strncat(s->log, what, sizeof(s->log) - strlen(s->log) - 1);
	strncat(s->log, " ", sizeof(s->log) - strlen(s->log) - 1);
}

static void
member_cb(const char *key, const struct jdoc_val *value, void *arg)
{
	char	buf[128];

	(void)value;
	snprintf(buf, sizeof(buf), "m:%s", key);
	seen_add(arg, buf);
}

static void
items_cb(void *arg)
{
	seen_add(arg, "[");
}

static void
item_cb(const struct jdoc_val *item, void *arg)
{
	const struct jdoc_val	*name;
	char			 buf[128];

	if (item->type == JDOC_NULL) {
		seen_add(arg, "i:null");
		return;
	}
	assert_non_null(name = jdoc_get(jdoc_get(item, "metadata"), "name"));
	snprintf(buf, sizeof(buf), "i:%s", name->u.s);
	seen_add(arg, buf);
}

static const struct jsonlist_cb cb = { member_cb, items_cb, item_cb };

/* Walks body; returns jsonlist_walk's result, what was seen in s. */
static int
walk(const char *body, struct seen *s)
{
	struct jdoc	*doc = jdoc_new();
	int		 rc;

	memset(s, 0, sizeof(*s));
	rc = jsonlist_walk(doc, body, strlen(body), &cb, s);
	jdoc_free(doc);
	return rc;
}

static void
test_in_order(void **state)
{
	struct seen	s;

	(void)state;
	assert_int_equal(walk("{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\","
	    "\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"x\"},"
	    "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":"
	    "\"b\"}},{\"metadata\":{\"name\":\"c\"}}]}", &s), 0);
	assert_string_equal(s.log, "m:kind m:apiVersion m:metadata [ i:a i:b i:c ");
}

static void
test_items_first_and_empty(void **state)
{
	struct seen	s;

	(void)state;
	assert_int_equal(walk("{\"items\":[{\"metadata\":{\"name\":\"a\"}}],"
	    "\"metadata\":{}}", &s), 0);
	assert_string_equal(s.log, "[ i:a m:metadata ");
	assert_int_equal(walk("{\"metadata\":{},\"items\":[]}", &s), 0);
	assert_string_equal(s.log, "m:metadata [ ");
	assert_int_equal(walk("{\"items\":[null,{\"metadata\":{\"name\":"
	    "\"n\"}}]}", &s), 0);
	assert_string_equal(s.log, "[ i:null i:n ");
}

/* Pretty-printed, and strings holding the punctuation the walk looks for. */
static void
test_whitespace_and_strings(void **state)
{
	struct seen	s;

	(void)state;
	assert_int_equal(walk(" \r\n{ \"kind\" :\t\"List\" ,\n \"items\" : [\n"
	    "  { \"metadata\" : { \"name\" : \"a],\\\"}{[\" } } ,\n"
	    "  {\"metadata\":{\"name\":\"b\",\"n\":12}}\n ] , \"x\" : 3 }\n"
	    "trailing", &s), 0);
	assert_string_equal(s.log, "m:kind [ i:a],\"}{[ i:b m:x ");
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"kind\":\"List\"}",				/* no items */
		"{\"items\":null}",
		"{\"items\":{}}",
		"{\"items\":[],\"items\":[]}",			/* twice */
		"{items:[]}",					/* key not a string */
		"{\"items\" []}",				/* no colon */
		"{\"items\":[]",				/* cut short */
		"{\"items\":[] \"kind\":\"List\"}",		/* no comma */
		"{\"items\":[],}",
		"{\"items\":[{\"metadata\":{\"name\":\"a\"}} {}]}",
		"{\"items\":[{\"metadata\":{\"name\":\"a\"}},]}",
		"{\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":",
		"{\"metadata\":{\"continue\":\"x\"},\"items\":[}",
	};
	struct seen	s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (walk(bad[i], &s) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
	/* Items before the break were handed over: the caller drops them. */
	assert_int_equal(walk("{\"items\":[{\"metadata\":{\"name\":\"a\"}},"
	    "{\"metadata\":", &s), -1);
	assert_string_equal(s.log, "[ i:a ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_items_first_and_empty),
		cmocka_unit_test(test_whitespace_and_strings),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
