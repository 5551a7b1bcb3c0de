/* test_selector.c -- label selectors: what parses, and what each requirement matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "object.h"
#include "selector.h"

static struct object_label labels[] = {
	{ "app", "web" }, { "team", "blue" }, { "example.com/tier", "front" },
};

struct selector_case {
	const char	*text;
	int		 valid;
	int		 matches;	/* against labels[] */
};

static const struct selector_case cases[] = {
	{ "", 1, 1 },
	{ "app=web", 1, 1 },
	{ "app==web", 1, 1 },
	{ "app=db", 1, 0 },
	{ "app", 1, 1 },
	{ "!app", 1, 0 },
	{ "!missing", 1, 1 },
	{ "missing", 1, 0 },
	{ "team in (red, blue)", 1, 1 },
	{ "team in (red)", 1, 0 },
	{ "team notin (red)", 1, 1 },
	{ "team notin (blue)", 1, 0 },
	{ "missing notin (x)", 1, 1 },
	{ "missing in (x)", 1, 0 },
	{ "example.com/tier=front,app=web", 1, 1 },
	{ "example.com/tier=front,app=db", 1, 0 },
	{ "app=", 1, 0 },
	{ "app!=web", 0, 0 },
	{ "app in (web", 0, 0 },
	{ "=web", 0, 0 },
	{ "app=web,", 0, 0 },
	{ "-bad=x", 0, 0 },
	{ "app gt 3", 0, 0 },
};

static void
test_selectors(void **state)
{
	char	err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct selector *sel = selector_parse(cases[i].text, err,
		    sizeof(err));

		if ((sel != NULL) != cases[i].valid)
			fail_msg("'%s': valid %d, want %d (%s)", cases[i].text,
			    sel != NULL, cases[i].valid, err);
		if (sel != NULL && selector_matches(sel, labels, 3) !=
		    (bool)cases[i].matches)
			fail_msg("'%s': matches %d, want %d", cases[i].text,
			    !cases[i].matches, cases[i].matches);
		selector_free(sel);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
