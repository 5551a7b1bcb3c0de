/* ordinal_ops.c -- pets and claims made from a set's templates, written to the API or kept locally. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <json.h>

#include "decode.h"
#include "kube.h"
#include "log.h"
#include "object.h"
#include "ordinal.h"
#include "ordinal_ops.h"
#include "xmalloc.h"


const char *
ordinal_ops_set_uid(const struct object *set, char *buf, size_t len)
{
	if (set->uid != NULL)
		return set->uid;
	snprintf(buf, len, "local:%s/%s", set->ns, set->name);
	return buf;
}

/* obj[key] as an object, created when absent. */
static struct json_object *
ordinal_ops_member(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (json_object_object_get_ex(obj, key, &v) &&
	    json_object_is_type(v, json_type_object))
		return v;
	v = json_object_new_object();
	json_object_object_add(obj, key, v);
	return v;
}

static void
ordinal_ops_set_str(struct json_object *obj, const char *key, const char *v)
{
	json_object_object_add(obj, key, json_object_new_string(v));
}

static struct json_object *
ordinal_ops_owner(const struct object *set)
{
	struct json_object	*refs = json_object_new_array();
	struct json_object	*ref = json_object_new_object();
	const char		*av = set->u.petset.api_version;
	char			 uid[512];

	ordinal_ops_set_str(ref, "apiVersion", av ? av : "petdns.io/v1alpha1");
	ordinal_ops_set_str(ref, "kind", av && strcmp(av, "apps/v1") == 0 ?
	    "StatefulSet" : "PetSet");
	ordinal_ops_set_str(ref, "name", set->name);
	ordinal_ops_set_str(ref, "uid", ordinal_ops_set_uid(set, uid,
	    sizeof(uid)));
	json_object_object_add(ref, "controller", json_object_new_boolean(1));
	json_object_object_add(ref, "blockOwnerDeletion",
	    json_object_new_boolean(1));
	json_object_array_add(refs, ref);
	return refs;
}

/* One volume per claim template, pointing at this pet's claim (replacing a same-named one). */
static void
ordinal_ops_volumes(struct json_object *spec, const struct object *set,
    int ordinal)
{
	const struct object_petset *ps = &set->u.petset;
	struct json_object	*old, *vols = json_object_new_array(), *v, *n;
	char			 claim[ORDINAL_NAME_MAX + 1];

	if (json_object_object_get_ex(spec, "volumes", &old) &&
	    json_object_is_type(old, json_type_array))
		for (size_t i = 0; i < json_object_array_length(old); i++) {
			bool	 ours = false;

			v = json_object_array_get_idx(old, i);
			for (size_t c = 0; c < ps->nclaims; c++)
				ours |= json_object_object_get_ex(v, "name",
				    &n) && strcmp(json_object_get_string(n),
				    ps->claim_names[c]) == 0;
			if (!ours)
				json_object_array_add(vols, json_object_get(v));
		}
	for (size_t c = 0; c < ps->nclaims; c++) {
		v = json_object_new_object();
		ordinal_ops_set_str(v, "name", ps->claim_names[c]);
		ordinal_claim_name(claim, sizeof(claim), ps->claim_names[c],
		    set->name, ordinal);
		n = json_object_new_object();
		ordinal_ops_set_str(n, "claimName", claim);
		json_object_object_add(v, "persistentVolumeClaim", n);
		json_object_array_add(vols, v);
	}
	json_object_object_add(spec, "volumes", vols);
}

char *
ordinal_ops_pod_json(const struct object *set, int ordinal, char *err,
    size_t errlen)
{
	const struct object_petset *ps = &set->u.petset;
	struct json_object	*pod, *meta, *labels, *spec;
	char			 name[ORDINAL_NAME_MAX + 1], index[16], *out;

	if ((pod = json_tokener_parse(ps->pod_template)) == NULL ||
	    !json_object_is_type(pod, json_type_object) ||
	    ordinal_pet_name(name, sizeof(name), set->name, ordinal) == -1) {
		json_object_put(pod);
		snprintf(err, errlen, "unusable pod template");
		return NULL;
	}
	/* The template is the pod, given identity: DESIGN.md 5. */
	ordinal_ops_set_str(pod, "apiVersion", "v1");
	ordinal_ops_set_str(pod, "kind", "Pod");
	meta = ordinal_ops_member(pod, "metadata");
	ordinal_ops_set_str(meta, "name", name);
	ordinal_ops_set_str(meta, "namespace", set->ns);
	labels = ordinal_ops_member(meta, "labels");
	ordinal_ops_set_str(labels, "statefulset.kubernetes.io/pod-name", name);
	snprintf(index, sizeof(index), "%d", ordinal);
	ordinal_ops_set_str(labels, "apps.kubernetes.io/pod-index", index);
	json_object_object_add(meta, "ownerReferences", ordinal_ops_owner(set));
	spec = ordinal_ops_member(pod, "spec");
	ordinal_ops_set_str(spec, "hostname", name);
	if (ps->service_name != NULL)
		ordinal_ops_set_str(spec, "subdomain", ps->service_name);
	ordinal_ops_volumes(spec, set, ordinal);
	json_object_object_del(pod, "status");
	out = xstrdup(json_object_to_json_string_ext(pod,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(pod);
	return out;
}

char *
ordinal_ops_claim_json(const struct object *set, size_t template_index,
    const char *claim, char *err, size_t errlen)
{
	const struct object_petset *ps = &set->u.petset;
	struct json_object	*arr, *pvc, *meta, *labels;
	char			*out;

	arr = ps->claim_templates ? json_tokener_parse(ps->claim_templates) :
	    NULL;
	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
	    template_index >= json_object_array_length(arr)) {
		json_object_put(arr);
		snprintf(err, errlen, "unusable volumeClaimTemplates");
		return NULL;
	}
	pvc = json_object_get(json_object_array_get_idx(arr, template_index));
	json_object_put(arr);
	ordinal_ops_set_str(pvc, "apiVersion", "v1");
	ordinal_ops_set_str(pvc, "kind", "PersistentVolumeClaim");
	meta = ordinal_ops_member(pvc, "metadata");
	ordinal_ops_set_str(meta, "name", claim);
	ordinal_ops_set_str(meta, "namespace", set->ns);
	/* The set's selector labels, as the StatefulSet controller adds; no owner. */
	labels = ordinal_ops_member(meta, "labels");
	for (size_t i = 0; i < ps->nselector; i++)
		ordinal_ops_set_str(labels, ps->selector[i].key,
		    ps->selector[i].value);
	json_object_object_del(pvc, "status");
	out = xstrdup(json_object_to_json_string_ext(pvc,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(pvc);
	return out;
}

/* ---- The API implementation. ---- */

struct ordinal_ops_api {
	struct kube	*kube;
	unsigned	 events;
};

/* What a request was for, to log its failure. */
struct ordinal_ops_req {
	char	*what;
	int	 ok_status;	/* also fine: 409 for creates */
};

static void
ordinal_ops_api_done_cb(int status, const char *err, int retry_after,
    void *arg)
{
	struct ordinal_ops_req	*r = arg;

	if (err != NULL)
		log_warnx("plugin/kubernetes: petsets: %s: %s", r->what, err);
	else if ((status < 200 || status > 299) && status != r->ok_status)
		log_warnx("plugin/kubernetes: petsets: %s: HTTP %d", r->what,
		    status);
	free(r->what);
	free(r);
}

static int
ordinal_ops_api_send(struct ordinal_ops_api *a, const char *method,
    char *path, char *body, const char *type, char *what, int ok_status)
{
	struct ordinal_ops_req	*r = xcalloc(1, sizeof(*r));
	struct kube_request	*req;

	r->what = what;
	r->ok_status = ok_status;
	req = kube_send(a->kube, method, path, body, type, 30, NULL,
	    ordinal_ops_api_done_cb, r);
	free(path);
	free(body);
	if (req == NULL) {
		free(r->what);
		free(r);
		return -1;
	}
	return 0;
}

static int
ordinal_ops_api_claim(void *ctx, const struct object *set, size_t t,
    const char *claim)
{
	char	 err[128], *body = ordinal_ops_claim_json(set, t, claim, err,
	    sizeof(err));

	if (body == NULL) {
		log_warnx("plugin/kubernetes: petsets: %s/%s: %s", set->ns,
		    set->name, err);
		return -1;
	}
	return ordinal_ops_api_send(ctx, "POST",
	    xasprintf("/api/v1/namespaces/%s/persistentvolumeclaims", set->ns),
	    body, "application/json", xasprintf("create claim %s/%s",
	    set->ns, claim), 409);
}

static int
ordinal_ops_api_pod(void *ctx, const struct object *set, int ordinal)
{
	char	 err[128], *body = ordinal_ops_pod_json(set, ordinal, err,
	    sizeof(err));

	if (body == NULL) {
		log_warnx("plugin/kubernetes: petsets: %s/%s: %s", set->ns,
		    set->name, err);
		return -1;
	}
	return ordinal_ops_api_send(ctx, "POST",
	    xasprintf("/api/v1/namespaces/%s/pods", set->ns), body,
	    "application/json", xasprintf("create pet %s/%s-%d", set->ns,
	    set->name, ordinal), 409);
}

static int
ordinal_ops_api_delete(void *ctx, const struct object *set, const char *pod)
{
	return ordinal_ops_api_send(ctx, "DELETE",
	    xasprintf("/api/v1/namespaces/%s/pods/%s", set->ns, pod), NULL,
	    NULL, xasprintf("delete pet %s/%s", set->ns, pod), 404);
}

/* A merge patch of the status subresource: no resourceVersion, so no conflicts to retry. */
static int
ordinal_ops_api_status(void *ctx, const struct object *set,
    const struct ordinal_status *st)
{
	char	*body = xasprintf("{\"status\":{\"observedGeneration\":%lld,"
	    "\"replicas\":%d,\"readyReplicas\":%d,\"currentReplicas\":%d,"
	    "\"availableReplicas\":%d}}", st->observed_generation,
	    st->replicas, st->ready_replicas, st->current_replicas,
	    st->available_replicas);

	return ordinal_ops_api_send(ctx, "PATCH", xasprintf(
	    "/apis/petdns.io/v1alpha1/namespaces/%s/petsets/%s/status",
	    set->ns, set->name), body, "application/merge-patch+json",
	    xasprintf("status of %s/%s", set->ns, set->name), 0);
}

static void
ordinal_ops_api_event(void *ctx, const struct object *set, const char *reason,
    const char *message)
{
	struct ordinal_ops_api	*a = ctx;
	struct json_object	*ev = json_object_new_object(), *meta, *obj;
	char			 now[32], name[300], uid[512];
	time_t			 t = time(NULL);
	struct tm		 tm;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(name, sizeof(name), "%s.%llx%04x", set->name,
	    (unsigned long long)t, a->events++ & 0xffff);
	ordinal_ops_set_str(ev, "apiVersion", "v1");
	ordinal_ops_set_str(ev, "kind", "Event");
	meta = ordinal_ops_member(ev, "metadata");
	ordinal_ops_set_str(meta, "name", name);
	ordinal_ops_set_str(meta, "namespace", set->ns);
	obj = ordinal_ops_member(ev, "involvedObject");
	ordinal_ops_set_str(obj, "apiVersion", "petdns.io/v1alpha1");
	ordinal_ops_set_str(obj, "kind", "PetSet");
	ordinal_ops_set_str(obj, "name", set->name);
	ordinal_ops_set_str(obj, "namespace", set->ns);
	ordinal_ops_set_str(obj, "uid", ordinal_ops_set_uid(set, uid,
	    sizeof(uid)));
	ordinal_ops_set_str(ev, "reason", reason);
	ordinal_ops_set_str(ev, "message", message);
	ordinal_ops_set_str(ev, "type", "Normal");
	ordinal_ops_set_str(ordinal_ops_member(ev, "source"), "component",
	    "petdns");
	ordinal_ops_set_str(ev, "firstTimestamp", now);
	ordinal_ops_set_str(ev, "lastTimestamp", now);
	json_object_object_add(ev, "count", json_object_new_int(1));
	ordinal_ops_api_send(a, "POST",
	    xasprintf("/api/v1/namespaces/%s/events", set->ns),
	    xstrdup(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN)),
	    "application/json", xasprintf("event on %s/%s", set->ns,
	    set->name), 0);
	json_object_put(ev);
}

struct ordinal_ops_api *
ordinal_ops_api_new(struct kube *kube)
{
	struct ordinal_ops_api	*a = xcalloc(1, sizeof(*a));

	a->kube = kube;
	return a;
}

void
ordinal_ops_api_free(struct ordinal_ops_api *a)
{
	free(a);
}

void
ordinal_ops_api_get(struct ordinal_ops_api *a, struct ordinal_ops *ops)
{
	ops->create_claim = ordinal_ops_api_claim;
	ops->create_pod = ordinal_ops_api_pod;
	ops->delete_pod = ordinal_ops_api_delete;
	ops->update_status = ordinal_ops_api_status;
	ops->event = ordinal_ops_api_event;
	ops->ctx = a;
}
