/* ordinal_ops_local.c -- local mode's stand-in for the API and the kubelet: pets and claims kept in memory. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "decode.h"
#include "jdoc.h"
#include "log.h"
#include "object.h"
#include "ordinal.h"
#include "ordinal_ops.h"
#include "xmalloc.h"

enum ordinal_ops_local_next {
	LOCAL_IDLE,
	LOCAL_START,		/* the kubelet starts it */
	LOCAL_REMOVE		/* the kubelet has stopped it */
};

struct ordinal_ops_local_obj {
	struct object		*obj;
	enum ordinal_ops_local_next next;
	long long		 due_ms;
	bool			 unready;	/* stays not Ready: a testing aid */
};

struct ordinal_ops_local {
	struct event_base		*base;
	struct event			*timer;
	struct event			*changed_ev;
	int				 delay_ms;
	ordinal_ops_changed_fn		 changed;
	void				*arg;
	struct ordinal_ops_local_obj	*objs;
	size_t				 n;
};

static long long
ordinal_ops_local_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tells the owner on the next loop turn, never inside a controller pass. */
static void
ordinal_ops_local_changed(struct ordinal_ops_local *l)
{
	event_active(l->changed_ev, 0, 0);
}

static void
ordinal_ops_local_arm(struct ordinal_ops_local *l)
{
	long long	due = -1, wait;
	struct timeval	tv;

	for (size_t i = 0; i < l->n; i++)
		if (l->objs[i].next != LOCAL_IDLE && (due == -1 ||
		    l->objs[i].due_ms < due))
			due = l->objs[i].due_ms;
	if (due == -1)
		return;
	wait = due - ordinal_ops_local_now();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(l->timer, &tv);
}

static struct ordinal_ops_local_obj *
ordinal_ops_local_find(struct ordinal_ops_local *l, enum object_kind kind,
    const char *ns, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->objs[i].obj->kind == kind &&
		    strcmp(l->objs[i].obj->ns, ns) == 0 &&
		    strcmp(l->objs[i].obj->name, name) == 0)
			return &l->objs[i];
	return NULL;
}

static struct ordinal_ops_local_obj *
ordinal_ops_local_add(struct ordinal_ops_local *l, const char *json)
{
	struct jdoc		*doc = jdoc_new();
	const struct jdoc_val	*root;
	struct object		*obj = NULL;
	char			 err[256];
	struct ordinal_ops_local_obj *o;

	if ((root = jdoc_parse(doc, json, strlen(json), NULL, err,
	    sizeof(err))) == NULL ||
	    decode_object(root, NULL, &obj, err, sizeof(err)) != DECODE_OK) {
		log_warnx("plugin/kubernetes: petsets: %s", err);
		jdoc_free(doc);
		return NULL;
	}
	jdoc_free(doc);
	if (ordinal_ops_local_find(l, obj->kind, obj->ns, obj->name) != NULL) {
		object_free(obj);
		return NULL;	/* AlreadyExists */
	}
	l->objs = xreallocarray(l->objs, l->n + 1, sizeof(*l->objs));
	o = &l->objs[l->n++];
	memset(o, 0, sizeof(*o));
	o->obj = obj;
	return o;
}

static int
ordinal_ops_local_claim(void *ctx, const struct object *set, size_t t,
    const char *claim)
{
	struct ordinal_ops_local *l = ctx;
	char			 err[128];
	char			*json = ordinal_ops_claim_json(set, t, claim, err,
	    sizeof(err));

	if (json == NULL) {
		log_warnx("plugin/kubernetes: petsets: %s/%s: %s", set->ns,
		    set->name, err);
		return -1;
	}
	ordinal_ops_local_add(l, json);
	free(json);
	ordinal_ops_local_changed(l);
	return 0;
}

/* Ordinal in the set's petdns.io/unready list ("1,3")? */
static bool
ordinal_ops_local_unready(const struct object *set, int ordinal)
{
	const char	*v = object_annotation(set, "petdns.io/unready");
	char		*copy, *tok, *save = NULL;
	bool		 found = false;

	if (v == NULL)
		return false;
	copy = xstrdup(v);
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save))
		found |= atoi(tok) == ordinal && *tok >= '0' && *tok <= '9';
	free(copy);
	return found;
}

static int
ordinal_ops_local_pod(void *ctx, const struct object *set, int ordinal)
{
	struct ordinal_ops_local *l = ctx;
	struct ordinal_ops_local_obj *o;
	char			 err[128];
	char			*json = ordinal_ops_pod_json(set, ordinal, err,
	    sizeof(err));

	if (json == NULL) {
		log_warnx("plugin/kubernetes: petsets: %s/%s: %s", set->ns,
		    set->name, err);
		return -1;
	}
	o = ordinal_ops_local_add(l, json);
	free(json);
	if (o == NULL)
		return 0;
	/* Scheduled, not yet started: Pending until the kubelet's delay. */
	o->obj->u.pod.has_status = true;
	o->obj->u.pod.phase = POD_PENDING;
	o->next = LOCAL_START;
	o->due_ms = ordinal_ops_local_now() + l->delay_ms;
	o->unready = ordinal_ops_local_unready(set, ordinal);
	ordinal_ops_local_arm(l);
	ordinal_ops_local_changed(l);
	return 0;
}

static int
ordinal_ops_local_delete(void *ctx, const struct object *set, const char *pod)
{
	struct ordinal_ops_local *l = ctx;
	struct ordinal_ops_local_obj *o = ordinal_ops_local_find(l, OBJECT_POD,
	    set->ns, pod);

	if (o == NULL) {
		log_warnx("plugin/kubernetes: petsets: %s/%s: cannot delete a "
		    "pod the manifests define", set->ns, pod);
		return -1;
	}
	o->obj->u.pod.deleting = true;
	o->next = LOCAL_REMOVE;
	o->due_ms = ordinal_ops_local_now() + l->delay_ms;
	ordinal_ops_local_arm(l);
	ordinal_ops_local_changed(l);
	return 0;
}

/* Local sets come from manifests, which hold no status: nothing to write. */
static int
ordinal_ops_local_status(void *ctx, const struct object *set,
    const struct ordinal_status *st)
{
	return 0;
}

static void
ordinal_ops_local_event(void *ctx, const struct object *set,
    const char *reason, const char *message)
{
}

static void
ordinal_ops_local_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ordinal_ops_local *l = arg;
	long long		 now = ordinal_ops_local_now();

	for (size_t i = 0; i < l->n; i++) {
		struct ordinal_ops_local_obj *o = &l->objs[i];

		if (o->next == LOCAL_IDLE || o->due_ms > now)
			continue;
		if (o->next == LOCAL_START) {
			o->obj->u.pod.phase = POD_RUNNING;
			o->obj->u.pod.ready = !o->unready;
			o->next = LOCAL_IDLE;
		} else {
			object_free(o->obj);
			l->objs[i--] = l->objs[--l->n];
		}
	}
	ordinal_ops_local_arm(l);
	ordinal_ops_local_changed(l);
}

static void
ordinal_ops_local_changed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ordinal_ops_local *l = arg;

	l->changed(l->arg);
}

struct ordinal_ops_local *
ordinal_ops_local_new(struct event_base *base, int delay_ms,
    ordinal_ops_changed_fn fn, void *arg)
{
	struct ordinal_ops_local *l = xcalloc(1, sizeof(*l));

	l->base = base;
	l->delay_ms = delay_ms;
	l->changed = fn;
	l->arg = arg;
	l->timer = evtimer_new(base, ordinal_ops_local_timer_cb, l);
	l->changed_ev = event_new(base, -1, 0, ordinal_ops_local_changed_cb, l);
	return l;
}

void
ordinal_ops_local_free(struct ordinal_ops_local *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		object_free(l->objs[i].obj);
	free(l->objs);
	event_free(l->timer);
	event_free(l->changed_ev);
	free(l);
}

void
ordinal_ops_local_get(struct ordinal_ops_local *l, struct ordinal_ops *ops)
{
	ops->create_claim = ordinal_ops_local_claim;
	ops->create_pod = ordinal_ops_local_pod;
	ops->delete_pod = ordinal_ops_local_delete;
	ops->update_status = ordinal_ops_local_status;
	ops->event = ordinal_ops_local_event;
	ops->ctx = l;
}

void
ordinal_ops_local_objects(const struct ordinal_ops_local *l,
    struct object ***objs, size_t *n)
{
	*objs = xreallocarray(*objs, *n + l->n, sizeof(**objs));
	for (size_t i = 0; i < l->n; i++)
		(*objs)[(*n)++] = object_dup(l->objs[i].obj);
}
