/* ordinal.c -- PetSet decisions in k8s OrderedReady order, no side effects. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ordinal.h"
#include "xmalloc.h"

#define ORDINAL_PRINTF(a, b)	__attribute__((format(printf, a, b)))

/* A pod whose name makes it a pet of this set, whoever controls it. */
struct ordinal_member {
	int			 ordinal;
	size_t			 index;	/* in the caller's array */
	const struct ordinal_pod *pod;
};

/* One pass: members sorted by ordinal, and the wanted range [start, end). */
struct ordinal_pass {
	const struct ordinal_set *set;
	struct ordinal_member	*m;
	size_t			 nm;
	long long		 start;
	long long		 end;
	const struct ordinal_claim *claims;
	size_t			 nclaims;
	struct ordinal_decision	*out;
};

int
ordinal_parse(const char *set_name, const char *pod_name)
{
	const char	*p;
	size_t		 n;
	long long	 v = 0;

	if (set_name == NULL || pod_name == NULL || *set_name == '\0')
		return -1;
	n = strlen(set_name);
	if (strncmp(pod_name, set_name, n) != 0 || pod_name[n] != '-')
		return -1;
	p = pod_name + n + 1;
	/* One spelling per ordinal, or "web-01" would shadow "web-1". */
	if (*p == '\0' || (*p == '0' && p[1] != '\0'))
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

/* The API rejects longer names, so a truncated one is no name at all. */
static int
ordinal_name_fits(char *buf, size_t len, int n)
{
	if (n < 0 || (size_t)n >= len || n > ORDINAL_NAME_MAX) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
ordinal_pet_name(char *buf, size_t len, const char *set_name, int ordinal)
{
	return ordinal_name_fits(buf, len,
	    snprintf(buf, len, "%s-%d", set_name, ordinal));
}

int
ordinal_claim_name(char *buf, size_t len, const char *claim_template,
    const char *set_name, int ordinal)
{
	return ordinal_name_fits(buf, len, snprintf(buf, len, "%s-%s-%d",
	    claim_template, set_name, ordinal));
}

static void ordinal_act(struct ordinal_decision *, enum ordinal_action, int,
    const char *, const char *, ...) ORDINAL_PRINTF(5, 6);

/* The one place an outcome is written, so pod and reason always agree. */
static void
ordinal_act(struct ordinal_decision *out, enum ordinal_action action,
    int ordinal, const char *pod, const char *fmt, ...)
{
	va_list	ap;

	out->action = action;
	out->ordinal = ordinal;
	snprintf(out->pod, sizeof(out->pod), "%s", pod != NULL ? pod : "");
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static int
ordinal_member_cmp(const void *a, const void *b)
{
	const struct ordinal_member *x = a, *y = b;

	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorted, so the store's listing order cannot change the outcome. */
static void
ordinal_members(struct ordinal_pass *ps, const struct ordinal_pod *pods,
    size_t npods)
{
	ps->m = NULL;
	ps->nm = 0;
	for (size_t i = 0; i < npods; i++) {
		int	o = ordinal_parse(ps->set->name, pods[i].name);

		if (o < 0)
			continue;
		if (ps->m == NULL)
			ps->m = xreallocarray(NULL, npods, sizeof(*ps->m));
		ps->m[ps->nm].ordinal = o;
		ps->m[ps->nm].index = i;
		ps->m[ps->nm++].pod = &pods[i];
	}
	if (ps->nm > 1)
		qsort(ps->m, ps->nm, sizeof(*ps->m), ordinal_member_cmp);
}

static void
ordinal_status_compute(const struct ordinal_pass *ps,
    struct ordinal_status *st)
{
	memset(st, 0, sizeof(*st));
	st->observed_generation = ps->set->generation;
	for (size_t i = 0; i < ps->nm; i++) {
		const struct ordinal_pod *pod = ps->m[i].pod;

		if (!pod->controlled_by_set)
			continue;
		st->replicas++;
		if (pod->phase == ORDINAL_RUNNING && pod->ready)
			st->ready_replicas++;
		if (!pod->deleting)
			st->current_replicas++;
	}
	/* No minReadySeconds: a pet is available as soon as it is ready. */
	st->available_replicas = st->ready_replicas;
}

static bool
ordinal_status_equal(const struct ordinal_status *a,
    const struct ordinal_status *b)
{
	return a->observed_generation == b->observed_generation &&
	    a->replicas == b->replicas &&
	    a->ready_replicas == b->ready_replicas &&
	    a->current_replicas == b->current_replicas &&
	    a->available_replicas == b->available_replicas;
}

/* An initializer is still working on a pet: ordering guarantees are void
 * until it finishes, so nothing may be created or deleted. */
static bool
ordinal_frozen(struct ordinal_pass *ps)
{
	for (size_t i = 0; i < ps->nm; i++) {
		const struct ordinal_pod *pod = ps->m[i].pod;

		if (pod->controlled_by_set && pod->initialized_false) {
			ordinal_act(ps->out, ORDINAL_WAIT, ps->m[i].ordinal,
			    pod->name, "frozen: %s has "
			    "pod.alpha.kubernetes.io/initialized=false",
			    pod->name);
			return true;
		}
	}
	return false;
}

static const struct ordinal_claim *
ordinal_find_claim(const struct ordinal_pass *ps, const char *name)
{
	for (size_t i = 0; i < ps->nclaims; i++)
		if (ps->claims[i].name != NULL &&
		    strcmp(ps->claims[i].name, name) == 0)
			return &ps->claims[i];
	return NULL;
}

/* Claims come first so the pod's volumes bind to storage that exists;
 * existing claims are reused as they are, whatever their spec. */
static void
ordinal_create_pet(struct ordinal_pass *ps, int o)
{
	const struct ordinal_set *set = ps->set;
	struct ordinal_decision *out = ps->out;
	char	 pet[ORDINAL_NAME_MAX + 1], claim[ORDINAL_NAME_MAX + 1];

	if (ordinal_pet_name(pet, sizeof(pet), set->name, o) == -1) {
		ordinal_act(out, ORDINAL_WAIT, o, NULL, "cannot name pet %d: "
		    "longer than %d characters", o, ORDINAL_NAME_MAX);
		return;
	}
	for (size_t i = 0; i < set->nclaim_templates; i++) {
		const char *tmpl = set->claim_templates[i];
		const struct ordinal_claim *c;

		if (ordinal_claim_name(claim, sizeof(claim), tmpl, set->name,
		    o) == -1) {
			ordinal_act(out, ORDINAL_WAIT, o, pet, "cannot name "
			    "claim %s for %s: longer than %d characters", tmpl,
			    pet, ORDINAL_NAME_MAX);
			return;
		}
		if ((c = ordinal_find_claim(ps, claim)) == NULL) {
			ordinal_act(out, ORDINAL_CREATE_CLAIM, o, pet,
			    "creating claim %s for %s", claim, pet);
			snprintf(out->claim, sizeof(out->claim), "%s", claim);
			snprintf(out->claim_template,
			    sizeof(out->claim_template), "%s", tmpl);
			return;
		}
		if (c->deleting) {
			ordinal_act(out, ORDINAL_WAIT, o, pet, "waiting for "
			    "claim %s to finish deleting", claim);
			return;
		}
	}
	ordinal_act(out, ORDINAL_CREATE_POD, o, pet, "creating %s", pet);
}

/* Returns true when pet o (pod, or NULL when missing) stops the pass. */
static bool
ordinal_check_pet(struct ordinal_pass *ps, int o,
    const struct ordinal_pod *pod)
{
	struct ordinal_decision *out = ps->out;

	if (pod == NULL) {
		ordinal_create_pet(ps, o);
		return true;
	}
	/* Its name is taken: never adopt, delete or wait it out silently. */
	if (!pod->controlled_by_set)
		ordinal_act(out, ORDINAL_WAIT, o, pod->name, "%s exists but "
		    "is not controlled by %s", pod->name, ps->set->name);
	else if (pod->deleting)
		ordinal_act(out, ORDINAL_WAIT, o, pod->name, "waiting for %s "
		    "to terminate", pod->name);
	else if (pod->phase == ORDINAL_FAILED ||
	    pod->phase == ORDINAL_SUCCEEDED) {
		ordinal_act(out, ORDINAL_DELETE_POD, o, pod->name, "deleting "
		    "%s: it %s, to recreate it", pod->name,
		    pod->phase == ORDINAL_FAILED ? "failed" : "succeeded");
		out->why = pod->phase == ORDINAL_FAILED ? ORDINAL_WHY_FAILED :
		    ORDINAL_WHY_SUCCEEDED;
	} else if (pod->phase != ORDINAL_RUNNING || !pod->ready)
		ordinal_act(out, ORDINAL_WAIT, o, pod->name, "waiting for %s "
		    "to be Running and Ready", pod->name);
	else
		return false;
	return true;
}

/* Ascending from start, the first pet that is not healthy decides. */
static bool
ordinal_scale_up(struct ordinal_pass *ps)
{
	size_t	i = 0;

	for (long long o = ps->start; o < ps->end; o++) {
		const struct ordinal_pod *pod = NULL;

		while (i < ps->nm && ps->m[i].ordinal < o)
			i++;
		if (i < ps->nm && ps->m[i].ordinal == o)
			pod = ps->m[i].pod;
		if (ordinal_check_pet(ps, (int)o, pod))
			return true;
	}
	return false;
}

/* Highest ordinal outside the range first (above it, then below start),
 * each gone before the next; pods the set does not control are not pets. */
static bool
ordinal_scale_down(struct ordinal_pass *ps)
{
	for (size_t i = ps->nm; i-- > 0;) {
		const struct ordinal_member *m = &ps->m[i];

		if (!m->pod->controlled_by_set ||
		    (m->ordinal >= ps->start && m->ordinal < ps->end))
			continue;
		if (m->pod->deleting)
			ordinal_act(ps->out, ORDINAL_WAIT, m->ordinal,
			    m->pod->name, "waiting for %s to terminate",
			    m->pod->name);
		else {
			ordinal_act(ps->out, ORDINAL_DELETE_POD, m->ordinal,
			    m->pod->name, "deleting %s to scale down to %lld",
			    m->pod->name, ps->end - ps->start);
			ps->out->why = ORDINAL_WHY_SCALE_DOWN;
		}
		return true;
	}
	return false;
}

void
ordinal_decide(const struct ordinal_set *set, const struct ordinal_pod *pods,
    size_t npods, const struct ordinal_claim *claims, size_t nclaims,
    struct ordinal_decision *out)
{
	struct ordinal_pass ps = { .set = set, .claims = claims,
	    .nclaims = nclaims, .out = out };

	memset(out, 0, sizeof(*out));
	out->ordinal = -1;
	/* The API forbids negatives; clamp rather than trust. Ordinals past
	 * INT_MAX have no name ordinal_parse accepts, so the range stops. */
	ps.start = set->ordinals_start > 0 ? set->ordinals_start : 0;
	ps.end = ps.start + (set->replicas > 0 ? set->replicas : 0);
	if (ps.end > (long long)INT_MAX + 1)
		ps.end = (long long)INT_MAX + 1;
	ordinal_members(&ps, pods, npods);
	ordinal_status_compute(&ps, &out->status);
	/* A set going away has no status worth writing. */
	out->status_changed = !set->deleting &&
	    !ordinal_status_equal(&out->status, &set->observed);

	if (set->deleting)
		ordinal_act(out, ORDINAL_NONE, -1, NULL, "being deleted: pets "
		    "and claims are left as they are");
	else if (!ordinal_frozen(&ps) && !ordinal_scale_up(&ps) &&
	    !ordinal_scale_down(&ps))
		ordinal_act(out, ORDINAL_NONE, -1, NULL, "all %lld pets "
		    "Running and Ready", ps.end - ps.start);
	free(ps.m);
}

const char *
ordinal_format(char *buf, size_t len, const char *ns, const char *name,
    const struct ordinal_decision *d)
{
	snprintf(buf, len, "%s%s%s: %s", ns != NULL ? ns : "",
	    ns != NULL ? "/" : "", name != NULL ? name : "", d->reason);
	return buf;
}

bool
ordinal_same(const struct ordinal_decision *a, const struct ordinal_decision *b)
{
	return a->action == b->action && a->why == b->why &&
	    a->ordinal == b->ordinal && strcmp(a->pod, b->pod) == 0 &&
	    strcmp(a->claim, b->claim) == 0 &&
	    strcmp(a->claim_template, b->claim_template) == 0 &&
	    strcmp(a->reason, b->reason) == 0;
}
