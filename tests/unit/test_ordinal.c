/* test_ordinal.c -- PetSet decisions: a table of cases and a walkthrough. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ordinal.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define MAXPODS		8
#define MAXCLAIMS	6

/* Pods as the runner would describe them. */
#define PET(n, ph, r)	{ .name = n, .controlled_by_set = true, \
			  .phase = ph, .ready = r }
#define UP(n)		PET(n, ORDINAL_RUNNING, true)
#define PENDING(n)	PET(n, ORDINAL_PENDING, false)
#define UNREADY(n)	PET(n, ORDINAL_RUNNING, false)
#define UNKNOWN(n)	PET(n, ORDINAL_UNKNOWN, false)
#define FAILED(n)	PET(n, ORDINAL_FAILED, false)
#define DONE(n)		PET(n, ORDINAL_SUCCEEDED, false)
#define GOING(n)	{ .name = n, .controlled_by_set = true, \
			  .phase = ORDINAL_RUNNING, .ready = true, \
			  .deleting = true }
#define FAILED_GOING(n)	{ .name = n, .controlled_by_set = true, \
			  .phase = ORDINAL_FAILED, .deleting = true }
#define FROZEN(n)	{ .name = n, .controlled_by_set = true, \
			  .phase = ORDINAL_PENDING, .initialized_false = true }
#define FROZEN_FAILED(n) { .name = n, .controlled_by_set = true, \
			  .phase = ORDINAL_FAILED, .initialized_false = true }
#define FOREIGN(n)	{ .name = n, .controlled_by_other = true, \
			  .phase = ORDINAL_RUNNING, .ready = true }
#define FOREIGN_FROZEN(n) { .name = n, .controlled_by_other = true, \
			  .phase = ORDINAL_PENDING, .initialized_false = true }
#define ORPHAN(n)	{ .name = n, .phase = ORDINAL_RUNNING, .ready = true }
#define CLAIM(n)	{ n, false }
#define CLAIM_GOING(n)	{ n, true }

#define WWW		{ "www" }

struct ordinal_case {
	const char	*what;
	const char	*set;		/* NULL: "web" */
	int		 replicas;
	int		 start;
	bool		 deleting;
	const char	*templates[3];	/* until NULL */
	struct ordinal_pod pods[MAXPODS];	/* until name NULL */
	struct ordinal_claim claims[MAXCLAIMS];	/* until name NULL */
	enum ordinal_action action;
	const char	*pod;		/* expected out->pod */
	const char	*claim;		/* expected out->claim */
	enum ordinal_delete_why why;
	const char	*reason;	/* substring of out->reason */
	int		 st[3];		/* replicas, ready, current */
};

static const struct ordinal_case cases[] = {
	/* Rule 3: creation in order, claims first. */
	{ "empty set: claim of pet 0 first", NULL, 2, 0, false, WWW, { { 0 } },
	  { { 0 } }, ORDINAL_CREATE_CLAIM, "web-0", "www-web-0", 0,
	  "creating claim www-web-0 for web-0", { 0, 0, 0 } },
	{ "claim there: pod 0", NULL, 2, 0, false, WWW, { { 0 } },
	  { CLAIM("www-web-0") }, ORDINAL_CREATE_POD, "web-0", "", 0,
	  "creating web-0", { 0, 0, 0 } },
	{ "two templates: each claim in template order", NULL, 1, 0, false,
	  { "www", "data" }, { { 0 } }, { CLAIM("www-web-0") },
	  ORDINAL_CREATE_CLAIM, "web-0", "data-web-0", 0,
	  "creating claim data-web-0", { 0, 0, 0 } },
	{ "no claim templates: pod at once", NULL, 1, 0, false, { NULL },
	  { { 0 } }, { { 0 } }, ORDINAL_CREATE_POD, "web-0", "", 0,
	  "creating web-0", { 0, 0, 0 } },
	{ "similar claim names are not ours", NULL, 1, 0, false, WWW, { { 0 } },
	  { CLAIM("www-web-1-0"), CLAIM("www-web-00"), CLAIM("www-web") },
	  ORDINAL_CREATE_CLAIM, "web-0", "www-web-0", 0, "www-web-0",
	  { 0, 0, 0 } },
	{ "pod 0 pending: wait", NULL, 2, 0, false, WWW, { PENDING("web-0") },
	  { CLAIM("www-web-0") }, ORDINAL_WAIT, "web-0", "", 0,
	  "waiting for web-0 to be Running and Ready", { 1, 0, 1 } },
	{ "pod 0 running, not ready: wait", NULL, 2, 0, false, WWW,
	  { UNREADY("web-0") }, { CLAIM("www-web-0") }, ORDINAL_WAIT, "web-0",
	  "", 0, "waiting for web-0 to be Running and Ready", { 1, 0, 1 } },
	{ "pod 0 unknown: wait", NULL, 2, 0, false, WWW, { UNKNOWN("web-0") },
	  { CLAIM("www-web-0") }, ORDINAL_WAIT, "web-0", "", 0,
	  "waiting for web-0 to be Running and Ready", { 1, 0, 1 } },
	{ "ready but phase Unknown (node lost): not ready", NULL, 2, 0, false,
	  WWW, { PET("web-0", ORDINAL_UNKNOWN, true) }, { CLAIM("www-web-0") },
	  ORDINAL_WAIT, "web-0", "", 0,
	  "waiting for web-0 to be Running and Ready", { 1, 0, 1 } },
	{ "pod 0 ready: claim of pet 1", NULL, 2, 0, false, WWW,
	  { UP("web-0") }, { CLAIM("www-web-0") }, ORDINAL_CREATE_CLAIM,
	  "web-1", "www-web-1", 0, "creating claim www-web-1 for web-1",
	  { 1, 1, 1 } },
	{ "existing claim reused: pod 1", NULL, 2, 0, false, WWW,
	  { UP("web-0") }, { CLAIM("www-web-0"), CLAIM("www-web-1") },
	  ORDINAL_CREATE_POD, "web-1", "", 0, "creating web-1", { 1, 1, 1 } },
	{ "claim being deleted blocks the pod", NULL, 2, 0, false, WWW,
	  { UP("web-0") }, { CLAIM("www-web-0"), CLAIM_GOING("www-web-1") },
	  ORDINAL_WAIT, "web-1", "", 0,
	  "waiting for claim www-web-1 to finish deleting", { 1, 1, 1 } },
	{ "all ready: nothing", NULL, 2, 0, false, WWW,
	  { UP("web-1"), UP("web-0") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_NONE, "", "", 0,
	  "all 2 pets Running and Ready", { 2, 2, 2 } },

	/* Rule 3: replacement and terminating pets. */
	{ "pet 1 deleted by hand: recreated, claims reused", NULL, 3, 0, false,
	  WWW, { UP("web-0"), UP("web-2") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1"), CLAIM("www-web-2") },
	  ORDINAL_CREATE_POD, "web-1", "", 0, "creating web-1", { 2, 2, 2 } },
	{ "failed pet deleted", NULL, 2, 0, false, WWW,
	  { UP("web-0"), FAILED("web-1") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_DELETE_POD,
	  "web-1", "", ORDINAL_WHY_FAILED, "deleting web-1: it failed",
	  { 2, 1, 2 } },
	{ "succeeded pet deleted", NULL, 2, 0, false, WWW,
	  { DONE("web-0"), UP("web-1") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_DELETE_POD,
	  "web-0", "", ORDINAL_WHY_SUCCEEDED, "deleting web-0: it succeeded",
	  { 2, 1, 2 } },
	{ "failed pet terminating: wait, no second delete", NULL, 2, 0, false,
	  WWW, { UP("web-0"), FAILED_GOING("web-1") }, { { 0 } },
	  ORDINAL_WAIT, "web-1", "", 0, "waiting for web-1 to terminate",
	  { 2, 1, 1 } },
	{ "terminating pet 0 blocks pet 1", NULL, 2, 0, false, WWW,
	  { GOING("web-0") }, { CLAIM("www-web-0") }, ORDINAL_WAIT, "web-0",
	  "", 0, "waiting for web-0 to terminate", { 1, 1, 0 } },

	/* Rule 4: scale down, highest first, one at a time. */
	{ "scale 3->1: web-2 first", NULL, 1, 0, false, WWW,
	  { UP("web-0"), UP("web-1"), UP("web-2") }, { { 0 } },
	  ORDINAL_DELETE_POD, "web-2", "", ORDINAL_WHY_SCALE_DOWN,
	  "deleting web-2 to scale down to 1", { 3, 3, 3 } },
	{ "scale 3->1: web-2 terminating, web-1 waits", NULL, 1, 0, false, WWW,
	  { UP("web-0"), UP("web-1"), GOING("web-2") }, { { 0 } },
	  ORDINAL_WAIT, "web-2", "", 0, "waiting for web-2 to terminate",
	  { 3, 3, 2 } },
	{ "scale 3->1: then web-1", NULL, 1, 0, false, WWW,
	  { UP("web-1"), UP("web-0") }, { { 0 } }, ORDINAL_DELETE_POD,
	  "web-1", "", ORDINAL_WHY_SCALE_DOWN, "deleting web-1", { 2, 2, 2 } },
	{ "scale down only when pets in range are ready", NULL, 1, 0, false,
	  WWW, { PENDING("web-0"), UP("web-1"), UP("web-2") }, { { 0 } },
	  ORDINAL_WAIT, "web-0", "", 0,
	  "waiting for web-0 to be Running and Ready", { 3, 2, 3 } },
	{ "scale down waits for a missing pet in range", NULL, 2, 0, false,
	  WWW, { UP("web-0"), UP("web-2") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_CREATE_POD,
	  "web-1", "", 0, "creating web-1", { 2, 2, 2 } },
	{ "unhealthy pet above the range is just deleted", NULL, 1, 0, false,
	  WWW, { UP("web-0"), FAILED("web-1") }, { { 0 } },
	  ORDINAL_DELETE_POD, "web-1", "", ORDINAL_WHY_SCALE_DOWN,
	  "deleting web-1 to scale down", { 2, 1, 2 } },
	{ "replicas 0, nothing left", NULL, 0, 0, false, WWW, { { 0 } },
	  { CLAIM("www-web-0") }, ORDINAL_NONE, "", "", 0,
	  "all 0 pets", { 0, 0, 0 } },
	{ "replicas 0: web-1 then web-0", NULL, 0, 0, false, WWW,
	  { UP("web-0"), UP("web-1") }, { { 0 } }, ORDINAL_DELETE_POD,
	  "web-1", "", ORDINAL_WHY_SCALE_DOWN, "scale down to 0",
	  { 2, 2, 2 } },
	{ "replicas 0: pending pet deleted", NULL, 0, 0, false, WWW,
	  { PENDING("web-0") }, { { 0 } }, ORDINAL_DELETE_POD, "web-0", "",
	  ORDINAL_WHY_SCALE_DOWN, "deleting web-0", { 1, 0, 1 } },

	/* Rule 2: freeze. */
	{ "freeze blocks creates", NULL, 3, 0, false, WWW,
	  { UP("web-0"), FROZEN("web-1") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_WAIT, "web-1",
	  "", 0, "frozen: web-1 has pod.alpha.kubernetes.io/initialized=false",
	  { 2, 1, 2 } },
	{ "freeze blocks scale down", NULL, 1, 0, false, WWW,
	  { UP("web-0"), UP("web-1"), FROZEN("web-2") }, { { 0 } },
	  ORDINAL_WAIT, "web-2", "", 0, "frozen: web-2", { 3, 2, 3 } },
	{ "freeze blocks replacing a failed pet", NULL, 1, 0, false, WWW,
	  { FROZEN_FAILED("web-0") }, { { 0 } }, ORDINAL_WAIT, "web-0", "",
	  0, "frozen: web-0", { 1, 0, 1 } },
	{ "freeze names the lowest frozen pet", NULL, 3, 0, false, WWW,
	  { FROZEN("web-2"), UP("web-0"), FROZEN("web-1") }, { { 0 } },
	  ORDINAL_WAIT, "web-1", "", 0, "frozen: web-1", { 3, 1, 3 } },
	{ "another set's frozen pod does not freeze", NULL, 1, 0, false, WWW,
	  { UP("web-0"), FOREIGN_FROZEN("web-1-0"),
	    FOREIGN_FROZEN("web-5") }, { CLAIM("www-web-0") }, ORDINAL_NONE,
	  "", "", 0, "all 1 pets", { 1, 1, 1 } },

	/* Rule 1: the set going away changes nothing. */
	{ "set deleting: no create", NULL, 2, 0, true, WWW, { { 0 } },
	  { { 0 } }, ORDINAL_NONE, "", "", 0, "being deleted", { 0, 0, 0 } },
	{ "set deleting: no scale down or replacement", NULL, 0, 0, true, WWW,
	  { FAILED("web-0"), UP("web-1") }, { { 0 } }, ORDINAL_NONE, "", "",
	  0, "pets and claims are left", { 2, 1, 2 } },
	{ "set deleting: frozen or not, nothing", NULL, 2, 0, true, WWW,
	  { FROZEN("web-0") }, { { 0 } }, ORDINAL_NONE, "", "", 0,
	  "being deleted", { 1, 0, 1 } },

	/* ordinals.start */
	{ "start 5: claim of pet 5", NULL, 2, 5, false, WWW, { { 0 } },
	  { { 0 } }, ORDINAL_CREATE_CLAIM, "web-5", "www-web-5", 0,
	  "creating claim www-web-5 for web-5", { 0, 0, 0 } },
	{ "start 5: pet 6 after 5", NULL, 2, 5, false, WWW, { UP("web-5") },
	  { CLAIM("www-web-5"), CLAIM("www-web-6") }, ORDINAL_CREATE_POD,
	  "web-6", "", 0, "creating web-6", { 1, 1, 1 } },
	{ "start 5: 5 and 6 ready", NULL, 2, 5, false, WWW,
	  { UP("web-6"), UP("web-5") }, { { 0 } }, ORDINAL_NONE, "", "", 0,
	  "all 2 pets", { 2, 2, 2 } },
	{ "start 5: pets below start are scaled down", NULL, 2, 5, false, WWW,
	  { UP("web-0"), UP("web-5"), UP("web-6"), UP("web-4") }, { { 0 } },
	  ORDINAL_DELETE_POD, "web-4", "", ORDINAL_WHY_SCALE_DOWN,
	  "deleting web-4", { 4, 4, 4 } },
	{ "start 5: above the range before below it", NULL, 2, 5, false, WWW,
	  { UP("web-0"), UP("web-5"), UP("web-6"), UP("web-7") }, { { 0 } },
	  ORDINAL_DELETE_POD, "web-7", "", ORDINAL_WHY_SCALE_DOWN,
	  "deleting web-7", { 4, 4, 4 } },
	{ "start 5: wait for 5 before deleting 0", NULL, 2, 5, false, WWW,
	  { UP("web-0"), PENDING("web-5") }, { { 0 } }, ORDINAL_WAIT,
	  "web-5", "", 0, "waiting for web-5 to be Running", { 2, 1, 2 } },

	/* Rule 5: names shared by prefix, pods of others. */
	{ "set web ignores web-1's pets", NULL, 1, 0, false, WWW,
	  { UP("web-1-0"), UP("web-1-1"), FOREIGN("web-1-2") }, { { 0 } },
	  ORDINAL_CREATE_CLAIM, "web-0", "www-web-0", 0, "www-web-0",
	  { 0, 0, 0 } },
	{ "set web-1 ignores web's web-10 and web-1", "web-1", 2, 0, false,
	  WWW, { FOREIGN("web-10"), FOREIGN("web-1"), UP("web-1-0") },
	  { CLAIM("www-web-1-0"), CLAIM("www-web-10") },
	  ORDINAL_CREATE_CLAIM, "web-1-1", "www-web-1-1", 0,
	  "creating claim www-web-1-1 for web-1-1", { 1, 1, 1 } },
	{ "set web: web-10 of others kept, web-01 not a pet", NULL, 2, 0,
	  false, WWW, { UP("web-0"), UP("web-1"), FOREIGN("web-10"),
	  UP("web-01"), UP("web-1x"), UP("web--1") }, { { 0 } }, ORDINAL_NONE,
	  "", "", 0, "all 2 pets", { 2, 2, 2 } },
	{ "foreign-controlled pod with a pet's name blocks", NULL, 2, 0, false,
	  WWW, { FOREIGN("web-0") }, { { 0 } }, ORDINAL_WAIT, "web-0", "", 0,
	  "web-0 exists but is not controlled by web", { 0, 0, 0 } },
	{ "orphan with a pet's name blocks, not adopted", NULL, 2, 0, false,
	  WWW, { UP("web-0"), ORPHAN("web-1") },
	  { CLAIM("www-web-0"), CLAIM("www-web-1") }, ORDINAL_WAIT, "web-1",
	  "", 0, "web-1 exists but is not controlled by web", { 1, 1, 1 } },
	{ "pods above the range not ours are not deleted", NULL, 1, 0, false,
	  WWW, { UP("web-0"), ORPHAN("web-1"), FOREIGN("web-2") }, { { 0 } },
	  ORDINAL_NONE, "", "", 0, "all 1 pets", { 1, 1, 1 } },
	{ "failed foreign pod with a pet's name not deleted", NULL, 1, 0,
	  false, WWW, { { .name = "web-0", .controlled_by_other = true,
	  .phase = ORDINAL_FAILED } }, { { 0 } }, ORDINAL_WAIT, "web-0", "",
	  0, "not controlled by web", { 0, 0, 0 } },
};

static size_t
count_pods(const struct ordinal_pod *p)
{
	size_t	n = 0;

	while (n < MAXPODS && p[n].name != NULL)
		n++;
	return n;
}

static size_t
count_claims(const struct ordinal_claim *c)
{
	size_t	n = 0;

	while (n < MAXCLAIMS && c[n].name != NULL)
		n++;
	return n;
}

static size_t
count_templates(const char *const *t)
{
	size_t	n = 0;

	while (n < 3 && t[n] != NULL)
		n++;
	return n;
}

static void
case_set(const struct ordinal_case *c, struct ordinal_set *set)
{
	memset(set, 0, sizeof(*set));
	set->ns = "default";
	set->name = c->set != NULL ? c->set : "web";
	set->uid = "uid-1";
	set->replicas = c->replicas;
	set->ordinals_start = c->start;
	set->service_name = "nginx";
	set->deleting = c->deleting;
	set->generation = 1;
	set->claim_templates = c->templates;
	set->nclaim_templates = count_templates(c->templates);
}

static void
check_case(const struct ordinal_case *c, const struct ordinal_decision *d)
{
	if (d->action != c->action)
		fail_msg("%s: action %d, want %d (%s)", c->what, d->action,
		    c->action, d->reason);
	if (strcmp(d->pod, c->pod) != 0)
		fail_msg("%s: pod '%s', want '%s'", c->what, d->pod, c->pod);
	if (strcmp(d->claim, c->claim) != 0)
		fail_msg("%s: claim '%s', want '%s'", c->what, d->claim,
		    c->claim);
	if (d->ordinal != (c->pod[0] != '\0' ? ordinal_parse(c->set != NULL ?
	    c->set : "web", c->pod) : -1))
		fail_msg("%s: ordinal %d for '%s'", c->what, d->ordinal,
		    c->pod);
	if (d->why != c->why)
		fail_msg("%s: why %d, want %d", c->what, d->why, c->why);
	if (strstr(d->reason, c->reason) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", c->what, d->reason,
		    c->reason);
	if (d->status.replicas != c->st[0] ||
	    d->status.ready_replicas != c->st[1] ||
	    d->status.current_replicas != c->st[2] ||
	    d->status.available_replicas != c->st[1])
		fail_msg("%s: status %d/%d/%d/%d, want %d/%d/%d", c->what,
		    d->status.replicas, d->status.ready_replicas,
		    d->status.current_replicas, d->status.available_replicas,
		    c->st[0], c->st[1], c->st[2]);
}

/* Each case, and each again with its pods reversed: the store's order
 * must not change the decision. */
static void
test_table(void **state)
{
	for (size_t i = 0; i < nitems(cases); i++) {
		const struct ordinal_case *c = &cases[i];
		struct ordinal_pod rev[MAXPODS];
		struct ordinal_set set;
		struct ordinal_decision d, d2;
		size_t np = count_pods(c->pods);

		case_set(c, &set);
		ordinal_decide(&set, c->pods, np, c->claims,
		    count_claims(c->claims), &d);
		check_case(c, &d);
		/* The claim is named after the template it comes from. */
		if (c->action == ORDINAL_CREATE_CLAIM &&
		    (strncmp(d.claim, d.claim_template,
		    strlen(d.claim_template)) != 0 || d.claim_template[0] ==
		    '\0' || d.claim[strlen(d.claim_template)] != '-'))
			fail_msg("%s: claim %s from template '%s'", c->what,
			    d.claim, d.claim_template);
		if (c->action != ORDINAL_CREATE_CLAIM &&
		    d.claim_template[0] != '\0')
			fail_msg("%s: template '%s'", c->what,
			    d.claim_template);
		for (size_t j = 0; j < np; j++)
			rev[j] = c->pods[np - 1 - j];
		ordinal_decide(&set, rev, np, c->claims,
		    count_claims(c->claims), &d2);
		if (!ordinal_same(&d, &d2))
			fail_msg("%s: reversed pods give '%s'", c->what,
			    d2.reason);
	}
}

static void
test_parse(void **state)
{
	static const struct {
		const char	*set, *pod;
		int		 want;
	} p[] = {
		{ "web", "web-0", 0 }, { "web", "web-1", 1 },
		{ "web", "web-10", 10 }, { "web-1", "web-1-0", 0 },
		{ "web", "web-1-0", -1 }, { "web-1", "web-10", -1 },
		{ "web-1", "web-1", -1 }, { "web", "web-01", -1 },
		{ "web", "web-00", -1 }, { "web", "web-", -1 },
		{ "web", "web", -1 }, { "web", "web--1", -1 },
		{ "web", "web-+1", -1 }, { "web", "web- 1", -1 },
		{ "web", "web-1a", -1 }, { "web", "webx-1", -1 },
		{ "web", "we-1", -1 }, { "web", "db-0", -1 },
		{ "web", "web-2147483647", 2147483647 },
		{ "web", "web-2147483648", -1 },
		{ "web", "web-99999999999999999999999", -1 },
		{ "", "-0", -1 }, { NULL, "web-0", -1 }, { "web", NULL, -1 },
	};

	for (size_t i = 0; i < nitems(p); i++)
		if (ordinal_parse(p[i].set, p[i].pod) != p[i].want)
			fail_msg("ordinal_parse(%s, %s) = %d, want %d",
			    p[i].set ? p[i].set : "NULL",
			    p[i].pod ? p[i].pod : "NULL",
			    ordinal_parse(p[i].set, p[i].pod), p[i].want);
}

static void
test_names(void **state)
{
	char	buf[ORDINAL_NAME_MAX + 8], longname[ORDINAL_NAME_MAX];
	struct ordinal_set set = { .ns = "default", .replicas = 1 };
	const char *tmpl[] = { "www" };
	struct ordinal_decision d;

	assert_int_equal(ordinal_pet_name(buf, sizeof(buf), "web", 3), 0);
	assert_string_equal(buf, "web-3");
	assert_int_equal(ordinal_claim_name(buf, sizeof(buf), "www", "web", 1),
	    0);
	assert_string_equal(buf, "www-web-1");
	assert_int_equal(ordinal_pet_name(buf, 5, "web", 3), -1);
	assert_string_equal(buf, "");

	/* 252 + "-0" is over the limit; so is the claim of a 249-long set. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ordinal_pet_name(buf, sizeof(buf), longname, 0), -1);
	set.name = longname;
	ordinal_decide(&set, NULL, 0, NULL, 0, &d);
	assert_int_equal(d.action, ORDINAL_WAIT);
	assert_non_null(strstr(d.reason, "cannot name pet 0"));

	longname[249] = '\0';
	set.claim_templates = tmpl;
	set.nclaim_templates = 1;
	ordinal_decide(&set, NULL, 0, NULL, 0, &d);
	assert_int_equal(d.action, ORDINAL_WAIT);
	assert_non_null(strstr(d.reason, "cannot name claim www"));
}

static void
test_status(void **state)
{
	const char *tmpl[] = { "www" };
	struct ordinal_pod pods[] = { UP("web-0"), PENDING("web-1"),
	    GOING("web-2"), FOREIGN("web-3"), UP("web-1-0") };
	struct ordinal_set set = { .ns = "default", .name = "web",
	    .replicas = 2, .generation = 4, .claim_templates = tmpl,
	    .nclaim_templates = 1 };
	struct ordinal_decision d;

	ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
	assert_int_equal(d.status.observed_generation, 4);
	assert_int_equal(d.status.replicas, 3);
	assert_int_equal(d.status.ready_replicas, 2);
	assert_int_equal(d.status.current_replicas, 2);
	assert_int_equal(d.status.available_replicas, 2);
	assert_true(d.status_changed);

	set.observed = d.status;
	ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
	assert_false(d.status_changed);

	set.generation = 5;
	ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
	assert_true(d.status_changed);
	set.observed.observed_generation = 5;

	pods[1].phase = ORDINAL_RUNNING;
	pods[1].ready = true;
	ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
	assert_int_equal(d.status.ready_replicas, 3);
	assert_true(d.status_changed);

	/* Any one field differing is a change. */
	set.observed = d.status;
	for (int f = 0; f < 5; f++) {
		struct ordinal_status *o = &set.observed;
		int	*field[] = { &o->replicas, &o->ready_replicas,
		    &o->current_replicas, &o->available_replicas };

		if (f < 4)
			(*field[f])++;
		else
			o->observed_generation--;
		ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
		if (!d.status_changed)
			fail_msg("status field %d changed unnoticed", f);
		*o = d.status;
	}

	/* A set being deleted gets no status write, whatever changed. */
	set.deleting = true;
	ordinal_decide(&set, pods, nitems(pods), NULL, 0, &d);
	assert_false(d.status_changed);
	assert_int_equal(d.action, ORDINAL_NONE);
}

static void
test_format_same(void **state)
{
	const char *tmpl[] = { "www" };
	struct ordinal_pod pods[] = { UP("web-0") };
	struct ordinal_claim claims[] = { CLAIM("www-web-0"),
	    CLAIM("www-web-1") };
	struct ordinal_set set = { .ns = "default", .name = "web",
	    .replicas = 2, .generation = 1, .claim_templates = tmpl,
	    .nclaim_templates = 1 };
	struct ordinal_decision a, b;
	char	buf[128], small[12];

	ordinal_decide(&set, pods, 1, claims, 2, &a);
	assert_string_equal(ordinal_format(buf, sizeof(buf), "default", "web",
	    &a), "default/web: creating web-1");
	assert_string_equal(ordinal_format(small, sizeof(small), "default",
	    "web", &a), "default/web");
	assert_ptr_equal(ordinal_format(buf, 0, "default", "web", &a), buf);

	/* Same decision though the status moved on: logged once. */
	set.generation = 2;
	ordinal_decide(&set, pods, 1, claims, 2, &b);
	assert_true(ordinal_same(&a, &b));
	assert_int_not_equal(a.status.observed_generation,
	    b.status.observed_generation);

	pods[0].ready = false;
	ordinal_decide(&set, pods, 1, claims, 2, &b);
	assert_false(ordinal_same(&a, &b));
	assert_string_equal(ordinal_format(buf, sizeof(buf), "default", "web",
	    &b), "default/web: waiting for web-0 to be Running and Ready");

	pods[0].ready = true;
	/* Same action, pod and ordinal; only the reason tells them apart. */
	pods[0].deleting = true;
	ordinal_decide(&set, pods, 1, claims, 2, &a);
	pods[0].deleting = false;
	pods[0].ready = false;
	ordinal_decide(&set, pods, 1, claims, 2, &b);
	assert_int_equal(a.action, b.action);
	assert_string_equal(a.pod, b.pod);
	assert_false(ordinal_same(&a, &b));

	/* Every field counts, even those the reason usually implies. */
	b = a;
	b.action = ORDINAL_NONE;
	assert_false(ordinal_same(&a, &b));
	b = a;
	b.ordinal++;
	assert_false(ordinal_same(&a, &b));
	b = a;
	b.why = ORDINAL_WHY_SCALE_DOWN;
	assert_false(ordinal_same(&a, &b));
	b = a;
	b.pod[0] = 'x';
	assert_false(ordinal_same(&a, &b));
	b = a;
	b.claim[0] = 'x';
	assert_false(ordinal_same(&a, &b));
	b = a;
	b.claim_template[0] = 'x';
	assert_false(ordinal_same(&a, &b));

	ordinal_decide(&set, pods, 1, claims, 2, &a);
	pods[0].ready = true;
	claims[1].deleting = true;
	ordinal_decide(&set, pods, 1, claims, 2, &b);
	assert_false(ordinal_same(&a, &b));
	assert_int_equal(b.action, ORDINAL_WAIT);
}

/* A tiny world: the runner applies each decision, a kubelet makes waited-on
 * pods Running and Ready, deletes take one pass to finish. */
struct world {
	char	pods[16][ORDINAL_NAME_MAX + 1];
	struct ordinal_pod pod[16];
	size_t	npods;
	char	claims[16][ORDINAL_NAME_MAX + 1];
	struct ordinal_claim claim[16];
	size_t	nclaims;
	char	log[1024];
};

static void
world_apply(struct world *w, const struct ordinal_decision *d)
{
	size_t	i;

	for (i = 0; i < w->npods; i++)
		if (strcmp(w->pod[i].name, d->pod) == 0)
			break;
	if (d->action == ORDINAL_CREATE_CLAIM) {
		snprintf(w->claims[w->nclaims], sizeof(w->claims[0]), "%s",
		    d->claim);
		w->claim[w->nclaims].name = w->claims[w->nclaims];
		w->nclaims++;
	} else if (d->action == ORDINAL_CREATE_POD) {
		snprintf(w->pods[w->npods], sizeof(w->pods[0]), "%s", d->pod);
		w->pod[w->npods] =
		    (struct ordinal_pod)PENDING(w->pods[w->npods]);
		w->npods++;
	} else if (d->action == ORDINAL_DELETE_POD)
		w->pod[i].deleting = true;
	else if (d->action == ORDINAL_WAIT && i < w->npods &&
	    w->pod[i].deleting) {
		memmove(&w->pods[i], &w->pods[i + 1],
		    (w->npods - i - 1) * sizeof(w->pods[0]));
		memmove(&w->pod[i], &w->pod[i + 1],
		    (w->npods - i - 1) * sizeof(w->pod[0]));
		w->npods--;
		for (i = 0; i < w->npods; i++)
			w->pod[i].name = w->pods[i];
	} else if (d->action == ORDINAL_WAIT && i < w->npods) {
		w->pod[i].phase = ORDINAL_RUNNING;
		w->pod[i].ready = true;
	}
}

/* Runs passes until NONE; returns the creates and deletes, in order. */
static const char *
world_run(struct world *w, struct ordinal_set *set)
{
	struct ordinal_decision d;
	int	n;

	w->log[0] = '\0';
	for (n = 0; n < 50; n++) {
		ordinal_decide(set, w->pod, w->npods, w->claim, w->nclaims, &d);
		set->observed = d.status;
		if (d.action == ORDINAL_NONE)
			break;
		if (d.action != ORDINAL_WAIT)
			snprintf(w->log + strlen(w->log),
			    sizeof(w->log) - strlen(w->log), "%s%s %s",
			    w->log[0] ? ", " : "",
			    d.action == ORDINAL_CREATE_CLAIM ? "claim" :
			    d.action == ORDINAL_CREATE_POD ? "create" :
			    "delete",
			    d.action == ORDINAL_CREATE_CLAIM ? d.claim : d.pod);
		world_apply(w, &d);
	}
	assert_true(n < 50);
	/* Settled: the same pass again neither acts nor rewrites status. */
	set->observed = d.status;
	ordinal_decide(set, w->pod, w->npods, w->claim, w->nclaims, &d);
	assert_int_equal(d.action, ORDINAL_NONE);
	assert_false(d.status_changed);
	return w->log;
}

static void
test_walkthrough(void **state)
{
	const char *tmpl[] = { "www" };
	struct ordinal_set set = { .ns = "default", .name = "web",
	    .replicas = 2, .generation = 1, .claim_templates = tmpl,
	    .nclaim_templates = 1 };
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_string_equal(world_run(w, &set), "claim www-web-0, "
	    "create web-0, claim www-web-1, create web-1");
	assert_int_equal(set.observed.ready_replicas, 2);

	/* Both pets deleted by hand: back with the same names and claims. */
	w->npods = 0;
	assert_string_equal(world_run(w, &set), "create web-0, create web-1");
	assert_int_equal(w->nclaims, 2);

	set.replicas = 3;
	assert_string_equal(world_run(w, &set), "claim www-web-2, "
	    "create web-2");
	set.replicas = 1;
	assert_string_equal(world_run(w, &set), "delete web-2, delete web-1");
	assert_int_equal(w->npods, 1);
	assert_int_equal(w->nclaims, 3);
	assert_int_equal(set.observed.replicas, 1);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_format_same),
		cmocka_unit_test(test_walkthrough),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
