/* petsets.c -- runs ordinal_decide for every set whose world changed, and carries its decision out once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <uthash.h>

#include "log.h"
#include "object.h"
#include "ordinal.h"
#include "ordinal_ops.h"
#include "petsets.h"
#include "store.h"
#include "xmalloc.h"

/* A write the API has not shown back yet is not repeated within this time. */
#define PETSETS_EXPECT_MS	30000

struct petsets_set {
	char			*key;		/* "ns/name" */
	bool			 dirty;
	struct ordinal_decision	 last;		/* last logged decision */
	bool			 logged;
	long long		 last_at;	/* when it was made (monotonic ms) */
	struct ordinal_decision	 pending;	/* last write started */
	long long		 pending_at;
	struct ordinal_status	 status_sent;
	bool			 status_pending;
	UT_hash_handle		 hh;
};

struct petsets {
	struct store		*store;
	struct ordinal_ops	 ops;
	struct event		*pass_ev;
	struct petsets_set	*sets;
};

/* What one pass gathers from the store for one set. */
struct petsets_view {
	const struct object	*set;
	struct ordinal_pod	*pods;
	size_t			 npods;
	struct ordinal_claim	*claims;
	size_t			 nclaims;
	const char		*uid;		/* the set's, as its pets name it */
	char			 uidbuf[512];
};

static long long
petsets_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct petsets_set *
petsets_get(struct petsets *p, const char *ns, const char *name)
{
	struct petsets_set	*s;
	char			*key = xasprintf("%s/%s", ns, name);

	HASH_FIND_STR(p->sets, key, s);
	if (s != NULL) {
		free(key);
		return s;
	}
	s = xcalloc(1, sizeof(*s));
	s->key = key;
	HASH_ADD_KEYPTR(hh, p->sets, s->key, strlen(s->key), s);
	return s;
}

static void
petsets_mark_cb(const struct object *set, void *arg)
{
	struct petsets	*p = arg;

	petsets_get(p, set->ns, set->name)->dirty = true;
	event_active(p->pass_ev, 0, 0);
}

static void
petsets_store_cb(const struct object *old, const struct object *new,
    void *arg)
{
	struct petsets		*p = arg;
	const struct object	*obj = new != NULL ? new : old;

	switch (obj->kind) {
	case OBJECT_PETSET:
		petsets_mark_cb(obj, p);
		break;
	case OBJECT_POD:
	case OBJECT_PVC:
		/* Cheap enough: a namespace holds few sets. */
		store_foreach(p->store, OBJECT_PETSET, obj->ns,
		    petsets_mark_cb, p);
		break;
	default:
		break;
	}
}

static enum ordinal_phase
petsets_phase(enum object_pod_phase phase)
{
	switch (phase) {
	case POD_PENDING:
		return ORDINAL_PENDING;
	case POD_RUNNING:
		return ORDINAL_RUNNING;
	case POD_SUCCEEDED:
		return ORDINAL_SUCCEEDED;
	case POD_FAILED:
		return ORDINAL_FAILED;
	default:
		return ORDINAL_UNKNOWN;
	}
}

static void
petsets_pod_cb(const struct object *pod, void *arg)
{
	struct petsets_view	*v = arg;
	struct ordinal_pod	*op;
	const char		*init;
	bool			 ours;

	if (ordinal_parse(v->set->name, pod->name) < 0)
		return;		/* not a pet name of this set */
	ours = pod->controller_uid != NULL &&
	    strcmp(pod->controller_uid, v->uid) == 0;
	v->pods = xreallocarray(v->pods, v->npods + 1, sizeof(*v->pods));
	op = &v->pods[v->npods++];
	memset(op, 0, sizeof(*op));
	op->name = pod->name;
	op->controlled_by_set = ours;
	op->controlled_by_other = !ours && pod->controller_uid != NULL;
	op->phase = petsets_phase(pod->u.pod.phase);
	op->ready = pod->u.pod.ready;
	op->deleting = pod->u.pod.deleting;
	init = object_annotation(pod, "pod.alpha.kubernetes.io/initialized");
	op->initialized_false = init != NULL && strcmp(init, "false") == 0;
}

static void
petsets_claim_cb(const struct object *pvc, void *arg)
{
	struct petsets_view	*v = arg;

	v->claims = xreallocarray(v->claims, v->nclaims + 1,
	    sizeof(*v->claims));
	v->claims[v->nclaims].name = pvc->name;
	v->claims[v->nclaims++].deleting = pvc->u.pvc.deleting;
}

void
petsets_decide(const struct store *st, const struct object *set,
    struct ordinal_decision *d)
{
	const struct object_petset *ps = &set->u.petset;
	struct petsets_view	 v = { .set = set };
	struct ordinal_set	 os = { 0 };

	v.uid = ordinal_ops_set_uid(set, v.uidbuf, sizeof(v.uidbuf));
	store_foreach(st, OBJECT_POD, set->ns, petsets_pod_cb, &v);
	store_foreach(st, OBJECT_PVC, set->ns, petsets_claim_cb, &v);
	os.ns = set->ns;
	os.name = set->name;
	os.uid = v.uid;
	os.replicas = ps->replicas;
	os.ordinals_start = ps->ordinals_start;
	os.service_name = ps->service_name;
	os.deleting = ps->deleting;
	os.generation = ps->generation;
	os.observed.observed_generation = ps->status.observed_generation;
	os.observed.replicas = ps->status.replicas;
	os.observed.ready_replicas = ps->status.ready_replicas;
	os.observed.current_replicas = ps->status.current_replicas;
	os.observed.available_replicas = ps->status.available_replicas;
	os.claim_templates = (const char *const *)ps->claim_names;
	os.nclaim_templates = ps->nclaims;
	ordinal_decide(&os, v.pods, v.npods, v.claims, v.nclaims, d);
	free(v.pods);
	free(v.claims);
}

static const char *
petsets_event_reason(const struct ordinal_decision *d)
{
	switch (d->action) {
	case ORDINAL_CREATE_CLAIM:
		return "SuccessfulCreate";
	case ORDINAL_CREATE_POD:
		return "SuccessfulCreate";
	case ORDINAL_DELETE_POD:
		return "SuccessfulDelete";
	default:
		return "Waiting";
	}
}

/* Logs and posts each new decision once ("default/web: creating web-1"). */
static void
petsets_explain(struct petsets *p, struct petsets_set *s,
    const struct object *set, const struct ordinal_decision *d)
{
	char	line[ORDINAL_REASON_MAX + 512];

	if (s->logged && ordinal_same(&s->last, d))
		return;
	s->last = *d;
	s->logged = true;
	s->last_at = petsets_now();
	if (d->action == ORDINAL_NONE)
		return;
	log_info("plugin/kubernetes: petset %s", ordinal_format(line,
	    sizeof(line), set->ns, set->name, d));
	p->ops.event(p->ops.ctx, set, petsets_event_reason(d), d->reason);
}

static void
petsets_act(struct petsets *p, struct petsets_set *s, const struct object *set,
    const struct ordinal_decision *d)
{
	long long	now = petsets_now();

	/* Any other decision means the last write was seen (or overtaken). */
	if (!ordinal_same(&s->pending, d))
		s->pending_at = 0;
	if (d->action == ORDINAL_NONE || d->action == ORDINAL_WAIT)
		return;
	/* The same write again before the API showed the first back: skip. */
	if (s->pending_at != 0 && now - s->pending_at < PETSETS_EXPECT_MS)
		return;
	s->pending = *d;
	s->pending_at = now;
	switch (d->action) {
	case ORDINAL_CREATE_CLAIM:
		for (size_t t = 0; t < set->u.petset.nclaims; t++)
			if (strcmp(set->u.petset.claim_names[t],
			    d->claim_template) == 0)
				p->ops.create_claim(p->ops.ctx, set, t,
				    d->claim);
		break;
	case ORDINAL_CREATE_POD:
		p->ops.create_pod(p->ops.ctx, set, d->ordinal);
		break;
	default:
		p->ops.delete_pod(p->ops.ctx, set, d->pod);
		break;
	}
}

static void
petsets_status(struct petsets *p, struct petsets_set *s,
    const struct object *set, const struct ordinal_decision *d)
{
	if (!d->status_changed || (s->status_pending &&
	    memcmp(&s->status_sent, &d->status, sizeof(d->status)) == 0))
		return;
	s->status_sent = d->status;
	s->status_pending = true;
	p->ops.update_status(p->ops.ctx, set, &d->status);
}

static void
petsets_pass_cb(evutil_socket_t fd, short what, void *arg)
{
	struct petsets		*p = arg;
	struct petsets_set	*s, *tmp;
	struct ordinal_decision	 d;

	HASH_ITER(hh, p->sets, s, tmp) {
		char			*slash = strchr(s->key, '/');
		const struct object	*set;

		if (!s->dirty)
			continue;
		s->dirty = false;
		*slash = '\0';
		set = store_find(p->store, OBJECT_PETSET, s->key, slash + 1);
		*slash = '/';
		if (set == NULL) {
			/* Gone: its pets and claims stay (DESIGN.md 5, rule 1). */
			HASH_DEL(p->sets, s);
			free(s->key);
			free(s);
			continue;
		}
		petsets_decide(p->store, set, &d);
		petsets_explain(p, s, set, &d);
		petsets_act(p, s, set, &d);
		petsets_status(p, s, set, &d);
	}
}

bool
petsets_idle(const struct petsets *p)
{
	const struct petsets_set	*s, *tmp;

	HASH_ITER(hh, p->sets, s, tmp)
		if (s->dirty || !s->logged || s->last.action != ORDINAL_NONE)
			return false;
	return true;
}

bool
petsets_stalled(const struct petsets *p, long long quiet_ms)
{
	const struct petsets_set	*s, *tmp;
	long long			 now = petsets_now();

	HASH_ITER(hh, p->sets, s, tmp)
		if (s->dirty || !s->logged || (s->last.action != ORDINAL_NONE &&
		    (s->last.action != ORDINAL_WAIT ||
		    now - s->last_at < quiet_ms)))
			return false;
	return true;
}

struct petsets *
petsets_new(struct event_base *base, struct store *store,
    const struct ordinal_ops *ops)
{
	struct petsets	*p = xcalloc(1, sizeof(*p));

	p->store = store;
	p->ops = *ops;
	p->pass_ev = event_new(base, -1, 0, petsets_pass_cb, p);
	store_subscribe(store, petsets_store_cb, p);
	store_foreach(store, OBJECT_PETSET, NULL, petsets_mark_cb, p);
	return p;
}

void
petsets_free(struct petsets *p)
{
	struct petsets_set	*s, *tmp;

	if (p == NULL)
		return;
	HASH_ITER(hh, p->sets, s, tmp) {
		HASH_DEL(p->sets, s);
		free(s->key);
		free(s);
	}
	event_free(p->pass_ev);
	free(p);
}
