/* kubernetes.c -- wires a directive's sources, store and zone; batches store changes into zone updates. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <uthash.h>

#include "answer.h"
#include "config.h"
#include "decode.h"
#include "dname.h"
#include "explain.h"
#include "kube.h"
#include "kubeconfig.h"
#include "kubernetes.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "object.h"
#include "ordinal_ops.h"
#include "petsets.h"
#include "records.h"
#include "selector.h"
#include "simulate.h"
#include "store.h"
#include "watch.h"
#include "wire.h"
#include "xmalloc.h"
#include "zone.h"

#define KUBERNETES_MAX_NS_IPS	8
#define KUBERNETES_MAX_WATCHES	6
/* Services rebuilt in one flush past which the heap is trimmed (a relist). */
#define KUBERNETES_TRIM_AFTER	1000

/* A service whose records must be rebuilt on the next flush. */
struct kubernetes_dirty {
	char		*key;		/* "ns/name" */
	UT_hash_handle	 hh;
};

struct kubernetes {
	const struct config_kubernetes *cfg;
	struct event_base	*base;
	struct store		*store;
	struct simulate		*simulate;
	struct manifest		*manifest;
	struct zone		*zone;
	struct event		*flush_ev;
	struct kubernetes_dirty	*dirty;
	bool			 apex_dirty;
	bool			 synced;
	uint32_t		 serial;
	struct metrics_histogram *programming;	/* NULL without metrics */
	struct event		*trim_ev;	/* returns freed heap after a relist */
	struct object_ip	 pod_ips[KUBERNETES_MAX_NS_IPS];	/* POD_IP */
	size_t			 npod_ips;
	char			*self;		/* "ns/name" of our own service */
	uint8_t			**fall;		/* fallthrough zones, wire; NULL unparsable */
	size_t			 nfall;
	struct records_list	 scratch;
	/* The API source. */
	struct kube		*kube;
	struct watch_probe	*probe;
	struct watch		*watches[KUBERNETES_MAX_WATCHES];
	size_t			 nwatches;
	struct event		*startup_ev;
	bool			 startup_over;	/* startup_timeout passed */
	struct selector		*ns_selector;	/* namespace_labels, or NULL */
	struct selector		*svc_selector;	/* labels, or NULL */
	/* The ordinal controller (petsets option). */
	struct petsets		*petsets;
	struct ordinal_ops_api	*ops_api;
	struct ordinal_ops_local *ops_local;
	struct object		**manifest_objs;	/* local mode: as loaded */
	size_t			 nmanifest_objs;
};

static void
kubernetes_mark(struct kubernetes *k, const char *ns, const char *name)
{
	struct kubernetes_dirty	*d;
	char			*key;

	if (ns == NULL || name == NULL)
		return;
	key = xasprintf("%s/%s", ns, name);
	HASH_FIND_STR(k->dirty, key, d);
	if (d != NULL) {
		free(key);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->key = key;
	HASH_ADD_KEYPTR(hh, k->dirty, d->key, strlen(d->key), d);
	event_active(k->flush_ev, 0, 0);
}

/* namespace_labels: is ns one whose labels the selector takes? */
static bool
kubernetes_ns_selected(const struct kubernetes *k, const char *ns)
{
	const struct object	*obj;

	if (k->ns_selector == NULL)
		return true;
	obj = store_find(k->store, OBJECT_NAMESPACE, NULL, ns);
	return obj != NULL && selector_matches(k->ns_selector, obj->labels,
	    obj->nlabels);
}

/*
 * labels: the API server filters services by it already; local mode has no
 * server, so the zone applies it itself.
 */
static bool
kubernetes_svc_selected(const struct kubernetes *k, const struct object *svc)
{
	return k->svc_selector == NULL || selector_matches(k->svc_selector,
	    svc->labels, svc->nlabels);
}

static void
kubernetes_mark_cb(const struct object *svc, void *arg)
{
	kubernetes_mark(arg, svc->ns, svc->name);
}

/* Owner keys name what contributed records: "svc/ns/name", "ns/name", "pod/ns/name". */
static void
kubernetes_update(struct kubernetes *k, const char *owner)
{
	if (zone_update(k->zone, owner, &k->scratch))
		k->apex_dirty = true;
	records_clear(&k->scratch);
}

static void
kubernetes_object_changed(struct kubernetes *k, const struct object *obj,
    bool gone)
{
	char	*owner;

	switch (obj->kind) {
	case OBJECT_SERVICE:
		kubernetes_mark(k, obj->ns, obj->name);
		break;
	case OBJECT_ENDPOINTSLICE:
		kubernetes_mark(k, obj->ns, obj->u.slice.service);
		break;
	case OBJECT_NAMESPACE:
		if (!gone && kubernetes_ns_selected(k, obj->name))
			records_namespace(k->cfg, obj, &k->scratch);
		/* Its labels may select or drop every service in it. */
		if (k->ns_selector != NULL)
			store_foreach(k->store, OBJECT_SERVICE, obj->name,
			    kubernetes_mark_cb, k);
		owner = xasprintf("ns/%s", obj->name);
		kubernetes_update(k, owner);
		free(owner);
		event_active(k->flush_ev, 0, 0);
		break;
	case OBJECT_POD:
		if (!gone && kubernetes_ns_selected(k, obj->ns))
			records_pod(k->cfg, obj, &k->scratch);
		owner = xasprintf("pod/%s/%s", obj->ns, obj->name);
		kubernetes_update(k, owner);
		free(owner);
		event_active(k->flush_ev, 0, 0);
		break;
	default:
		break;
	}
}

/*
 * coredns_kubernetes_dns_programming_duration_seconds, as CoreDNS measures
 * it: from the endpoints controller's last-change-trigger-time to now, for
 * the slices of headless services with a selector, once synced (a LIST
 * replays old changes).
 */
static void
kubernetes_programming(struct kubernetes *k, const struct object *slice)
{
	const char		*when = object_annotation(slice,
				    "endpoints.kubernetes.io/last-change-trigger-time");
	const struct object	*svc;
	struct timespec		 t, now;

	if (k->programming == NULL || !k->synced || when == NULL ||
	    !decode_rfc3339(when, &t))
		return;
	svc = store_find(k->store, OBJECT_SERVICE, slice->ns,
	    slice->u.slice.service);
	if (svc == NULL || svc->u.svc.type != SERVICE_HEADLESS ||
	    !svc->u.svc.has_selector)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	metrics_histogram_observe(k->programming, (double)(now.tv_sec -
	    t.tv_sec) + (double)(now.tv_nsec - t.tv_nsec) / 1e9);
}

static void
kubernetes_store_cb(const struct object *old, const struct object *new,
    void *arg)
{
	struct kubernetes	*k = arg;

	if (new != NULL && new->kind == OBJECT_ENDPOINTSLICE)
		kubernetes_programming(k, new);
	/* A slice may move between services: both must be rebuilt. */
	if (old != NULL && (new == NULL || old->kind == OBJECT_ENDPOINTSLICE))
		kubernetes_object_changed(k, old, new == NULL);
	if (new != NULL)
		kubernetes_object_changed(k, new, false);
}

struct kubernetes_self {
	const struct kubernetes	*k;
	bool			 found;
};

static void
kubernetes_self_cb(const struct object *obj, void *arg)
{
	struct kubernetes_self		*s = arg;
	const struct object_slice	*sl = &obj->u.slice;

	for (size_t i = 0; i < sl->nendpoints; i++)
		for (size_t j = 0; j < sl->endpoints[i].naddrs; j++)
			for (size_t p = 0; p < s->k->npod_ips; p++)
				if (object_ip_equal(object_endpoint_addr(
				    &sl->endpoints[i], j), &s->k->pod_ips[p]))
					s->found = true;
}

/* Remembers the service whose endpoints include our own pod IP (POD_IP). */
static void
kubernetes_find_self(struct kubernetes *k, const struct object *svc,
    const char *key)
{
	struct kubernetes_self	s = { .k = k };

	if (k->npod_ips == 0)
		return;
	if (svc != NULL)
		store_foreach_slice(k->store, svc->ns, svc->name,
		    kubernetes_self_cb, &s);
	if (s.found && (k->self == NULL || strcmp(k->self, key) != 0)) {
		free(k->self);
		k->self = xstrdup(key);
		k->apex_dirty = true;
	} else if (!s.found && k->self != NULL && strcmp(k->self, key) == 0) {
		free(k->self);
		k->self = NULL;
		k->apex_dirty = true;
	}
}

/* The addresses of ns.dns.ZONE: our service's ClusterIPs, else kube-dns's, else our own. */
static size_t
kubernetes_ns_ips(const struct kubernetes *k, const struct object_ip **ips)
{
	static const struct object_ip loopback = { .family = AF_INET,
	    .addr = { 127, 0, 0, 1 } };
	const struct object	*svc = NULL;
	char			*ns, *slash;

	if (k->self != NULL) {
		ns = xstrdup(k->self);
		slash = strchr(ns, '/');
		*slash = '\0';
		svc = store_find(k->store, OBJECT_SERVICE, ns, slash + 1);
		free(ns);
	}
	if (svc == NULL || svc->u.svc.nips == 0)
		svc = store_find(k->store, OBJECT_SERVICE, "kube-system",
		    "kube-dns");
	if (svc != NULL && svc->u.svc.type == SERVICE_CLUSTERIP &&
	    svc->u.svc.nips > 0) {
		*ips = svc->u.svc.ips;
		return svc->u.svc.nips;
	}
	if (k->npod_ips > 0) {
		*ips = k->pod_ips;
		return k->npod_ips;
	}
	*ips = &loopback;
	return 1;
}

/*
 * A LIST (its JSON pages, the objects decoded before they replace the
 * store's) or a flush rebuilding most of the zone leaves freed heap that
 * glibc keeps unless asked to give it back: RSS grew from 86 to 126 MiB
 * at the first relist of a 100k-pod soak (bench/soak.sh). Two seconds
 * later, once RCU has freed the old nodes.
 */
static void
kubernetes_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	malloc_trim(0);
}

static void
kubernetes_trim_later(struct kubernetes *k)
{
	struct timeval	tv = { 2, 0 };

	evtimer_add(k->trim_ev, &tv);
}

void
kubernetes_flush(struct kubernetes *k)
{
	struct kubernetes_dirty	*d, *tmp;
	const struct object_ip	*ips;
	size_t			 nips;
	time_t			 now = time(NULL);

	if (HASH_COUNT(k->dirty) >= KUBERNETES_TRIM_AFTER)
		kubernetes_trim_later(k);
	HASH_ITER(hh, k->dirty, d, tmp) {
		char			*slash = strchr(d->key, '/');
		const struct object	*svc;
		char			*owner;

		*slash = '\0';
		svc = store_find(k->store, OBJECT_SERVICE, d->key, slash + 1);
		*slash = '/';
		if (svc != NULL && kubernetes_ns_selected(k, svc->ns) &&
		    kubernetes_svc_selected(k, svc))
			records_service(k->cfg, k->store, svc, &k->scratch);
		owner = xasprintf("svc/%s", d->key);
		kubernetes_update(k, owner);
		free(owner);
		kubernetes_find_self(k, svc, d->key);
		HASH_DEL(k->dirty, d);
		free(d->key);
		free(d);
	}
	if (!k->apex_dirty)
		return;
	k->apex_dirty = false;
	/* The serial moves on every change, and never backwards. */
	k->serial = (uint32_t)now > k->serial ? (uint32_t)now : k->serial + 1;
	nips = kubernetes_ns_ips(k, &ips);
	records_apex(k->cfg, k->serial, ips, nips, &k->scratch);
	zone_update(k->zone, "apex", &k->scratch);
	records_clear(&k->scratch);
}

static void
kubernetes_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	kubernetes_flush(arg);
}

static void
kubernetes_pod_ips(struct kubernetes *k)
{
	const char	*env = getenv("POD_IP");
	char		*copy, *tok, *save = NULL;

	if (env == NULL)
		return;
	copy = xstrdup(env);
	for (tok = strtok_r(copy, ", ", &save); tok != NULL &&
	    k->npod_ips < KUBERNETES_MAX_NS_IPS;
	    tok = strtok_r(NULL, ", ", &save))
		if (object_ip_parse(tok, &k->pod_ips[k->npod_ips]) == 0)
			k->npod_ips++;
		else
			log_warnx("kubernetes: POD_IP: bad address %s", tok);
	free(copy);
}

struct kubernetes *
kubernetes_new(struct event_base *base, const struct config_kubernetes *cfg)
{
	struct kubernetes	*k = xcalloc(1, sizeof(*k));
	uint8_t			 wire[DNAME_MAX], **apexes;

	k->cfg = cfg;
	k->base = base;
	k->store = store_new();
	store_subscribe(k->store, kubernetes_store_cb, k);
	apexes = xcalloc(cfg->nzones, sizeof(*apexes));
	for (size_t i = 0; i < cfg->nzones; i++) {
		int	len = dname_from_str(cfg->zones[i], wire);

		apexes[i] = xmalloc(len > 0 ? (size_t)len : 1);
		memcpy(apexes[i], wire, len > 0 ? (size_t)len : 1);
		if (len <= 0)
			apexes[i][0] = 0;
	}
	k->zone = zone_new((const uint8_t *const *)apexes, cfg->nzones);
	for (size_t i = 0; i < cfg->nzones; i++)
		free(apexes[i]);
	free(apexes);
	/* Parsed once: NXDOMAIN answers ask (one query in ten of the bench mix). */
	k->nfall = cfg->nfallthrough_zones;
	k->fall = dname_from_strv(cfg->fallthrough_zones, k->nfall);
	k->flush_ev = event_new(base, -1, 0, kubernetes_flush_cb, k);
	k->trim_ev = evtimer_new(base, kubernetes_trim_cb, k);
	if (cfg->namespace_labels != NULL)	/* checked by config.c */
		k->ns_selector = selector_parse(cfg->namespace_labels, NULL, 0);
	if (cfg->labels != NULL)
		k->svc_selector = selector_parse(cfg->labels, NULL, 0);
	kubernetes_pod_ips(k);
	k->apex_dirty = true;
	return k;
}

static void
kubernetes_manifest_objs_free(struct kubernetes *k)
{
	for (size_t i = 0; i < k->nmanifest_objs; i++)
		object_free(k->manifest_objs[i]);
	free(k->manifest_objs);
	k->manifest_objs = NULL;
	k->nmanifest_objs = 0;
}

/* Local mode's cluster: the manifests plus what the controller made. */
static void
kubernetes_local_apply(struct kubernetes *k)
{
	struct object	**objs = NULL;
	size_t		  n = 0;

	if (k->ops_local == NULL) {
		/* Nothing to merge: simulate takes the objects themselves. */
		simulate_apply(k->simulate, k->manifest_objs,
		    k->nmanifest_objs);
		free(k->manifest_objs);
		k->manifest_objs = NULL;
		k->nmanifest_objs = 0;
		return;
	}
	objs = xcalloc(k->nmanifest_objs + 1, sizeof(*objs));
	for (; n < k->nmanifest_objs; n++)
		objs[n] = object_dup(k->manifest_objs[n]);
	ordinal_ops_local_objects(k->ops_local, &objs, &n);
	simulate_apply(k->simulate, objs, n);
	free(objs);
	kubernetes_flush(k);
}

static void
kubernetes_local_changed_cb(void *arg)
{
	kubernetes_local_apply(arg);
}

static void
kubernetes_manifest_cb(struct object **objs, size_t n, void *arg)
{
	struct kubernetes	*k = arg;

	kubernetes_manifest_objs_free(k);
	k->manifest_objs = objs;
	k->nmanifest_objs = n;
	kubernetes_local_apply(k);
	kubernetes_flush(k);
	if (!k->synced)
		log_info("plugin/kubernetes: synced %zu services, %zu "
		    "EndpointSlices, %zu pods from %s: %zu records",
		    store_count(k->store, OBJECT_SERVICE),
		    store_count(k->store, OBJECT_ENDPOINTSLICE),
		    store_count(k->store, OBJECT_POD), k->cfg->manifests,
		    zone_count(k->zone));
	k->synced = true;
}

static void
kubernetes_watch_synced_cb(struct watch *w, void *arg)
{
	struct kubernetes	*k = arg;

	kubernetes_trim_later(k);
	for (size_t i = 0; i < k->nwatches; i++)
		if (!watch_synced(k->watches[i]))
			return;
	if (k->probe != NULL || k->synced)
		return;		/* EndpointSlices not yet watched */
	kubernetes_flush(k);
	k->synced = true;
	log_info("plugin/kubernetes: all reflectors synced: %zu services, "
	    "%zu EndpointSlices, %zu namespaces: %zu records; ready",
	    store_count(k->store, OBJECT_SERVICE),
	    store_count(k->store, OBJECT_ENDPOINTSLICE),
	    store_count(k->store, OBJECT_NAMESPACE), zone_count(k->zone));
}

static void
kubernetes_add_watch(struct kubernetes *k, enum object_kind kind,
    const char *path, const char *selector)
{
	struct watch	*w = watch_new(k->base, k->kube, k->store, kind, path,
	    selector, NULL, kubernetes_watch_synced_cb, k);

	k->watches[k->nwatches++] = w;
	if (kind == OBJECT_ENDPOINTSLICE && !k->cfg->pod_names)
		watch_set_trim(w, object_drop_pod_names);
	watch_start(w);
}

static void
kubernetes_slices_version_cb(const char *version, void *arg)
{
	struct kubernetes	*k = arg;
	char			*path;

	watch_probe_free(k->probe);
	k->probe = NULL;
	log_info("plugin/kubernetes: EndpointSlices: discovery.k8s.io/%s",
	    version);
	path = xasprintf("/apis/discovery.k8s.io/%s/endpointslices", version);
	kubernetes_add_watch(k, OBJECT_ENDPOINTSLICE, path, k->cfg->labels);
	free(path);
}

static void
kubernetes_startup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kubernetes	*k = arg;

	k->startup_over = true;
	if (!k->synced)
		log_warnx("plugin/kubernetes: not synced after %d ms: serving "
		    "what is known", k->cfg->startup_timeout_ms);
}

/* Reflectors for what DNS needs: Namespaces, Services, EndpointSlices, Pods when verified. */
static int
kubernetes_start_api(struct kubernetes *k)
{
	static const char *const slice_versions[] = { "v1", "v1beta1", NULL };
	struct kube_auth	*auth;
	char			 err[512];
	struct timeval		 tv;

	if ((auth = kubeconfig_from_config(k->cfg, err, sizeof(err))) == NULL) {
		log_warnx("%s:%d: kubernetes: %s", k->cfg->file, k->cfg->line,
		    err);
		return -1;
	}
	k->kube = kube_new(k->base, auth, err, sizeof(err));
	log_info("plugin/kubernetes: API server %s", auth->server);
	kube_auth_free(auth);
	if (k->kube == NULL) {
		log_warnx("%s:%d: kubernetes: %s", k->cfg->file, k->cfg->line,
		    err);
		return -1;
	}
	kubernetes_add_watch(k, OBJECT_NAMESPACE, "/api/v1/namespaces", NULL);
	kubernetes_add_watch(k, OBJECT_SERVICE, "/api/v1/services",
	    k->cfg->labels);
	if (k->cfg->pods == PODS_VERIFIED || k->cfg->petsets)
		kubernetes_add_watch(k, OBJECT_POD, "/api/v1/pods", NULL);
	if (k->cfg->petsets) {
		kubernetes_add_watch(k, OBJECT_PETSET,
		    "/apis/petdns.io/v1alpha1/petsets", NULL);
		kubernetes_add_watch(k, OBJECT_PVC,
		    "/api/v1/persistentvolumeclaims", NULL);
	}
	if (k->cfg->petsets && !k->cfg->readonly) {
		struct ordinal_ops	ops;

		k->ops_api = ordinal_ops_api_new(k->kube);
		ordinal_ops_api_get(k->ops_api, &ops);
		k->petsets = petsets_new(k->base, k->store, &ops);
	}
	if (!k->cfg->noendpoints)
		k->probe = watch_probe_new(k->base, k->kube, "discovery.k8s.io",
		    slice_versions, kubernetes_slices_version_cb, k);
	k->startup_ev = evtimer_new(k->base, kubernetes_startup_cb, k);
	tv.tv_sec = k->cfg->startup_timeout_ms / 1000;
	tv.tv_usec = (k->cfg->startup_timeout_ms % 1000) * 1000;
	evtimer_add(k->startup_ev, &tv);
	return 0;
}

int
kubernetes_start(struct kubernetes *k)
{
	if (k->cfg->manifests == NULL)
		return kubernetes_start_api(k);
	k->simulate = simulate_new(k->store);
	if (k->cfg->petsets) {
		struct ordinal_ops	ops;

		k->ops_local = ordinal_ops_local_new(k->base,
		    k->cfg->kubelet_delay_ms, kubernetes_local_changed_cb, k);
		ordinal_ops_local_get(k->ops_local, &ops);
		k->petsets = petsets_new(k->base, k->store, &ops);
	}
	k->manifest = manifest_new(k->base, k->cfg->manifests,
	    kubernetes_manifest_cb, k);
	if (manifest_start(k->manifest) == -1)
		return -1;
	kubernetes_flush(k);
	return 0;
}

bool
kubernetes_ready(const struct kubernetes *k)
{
	return k->synced;
}

bool
kubernetes_settled(const struct kubernetes *k)
{
	return k->synced && (k->petsets == NULL || petsets_idle(k->petsets));
}

bool
kubernetes_stable(const struct kubernetes *k)
{
	/* Local pets wait a kubelet delay at most; longer is for good. */
	long long	quiet = 2LL * k->cfg->kubelet_delay_ms + 500;

	return k->synced && (k->petsets == NULL ||
	    petsets_stalled(k->petsets, quiet));
}

bool
kubernetes_serves(const struct kubernetes *k, const uint8_t *qname)
{
	uint8_t	lname[DNAME_MAX];

	dname_lower_copy(lname, qname);
	return zone_match(k->zone, lname) >= 0;
}

bool
kubernetes_fallthrough(const struct kubernetes *k, const uint8_t *qname)
{
	uint8_t	lname[DNAME_MAX];

	if (!k->cfg->fallthrough)
		return false;
	if (k->cfg->nfallthrough_zones == 0)
		return true;
	dname_lower_copy(lname, qname);
	for (size_t i = 0; i < k->nfall; i++)
		if (k->fall[i] != NULL && dname_is_under(lname, k->fall[i]))
			return true;
	return false;
}

/* Reads the store: runs on the loop's thread, as every query does. */
struct explain *
kubernetes_explain(struct kubernetes *k, const char *name, uint16_t qtype)
{
	struct explain_view	 v = { .cfg = k->cfg, .store = k->store,
				    .zone = k->zone, .synced = k->synced };
	struct explain		*e;

	/* The zone must say what the store says for the reasons to hold. */
	kubernetes_flush(k);
	zone_read_lock();
	e = explain_name(&v, name, qtype);
	zone_read_unlock();
	return e;
}

/* explain: TXT _explain.NAME answers the explanation of NAME. */
static ldns_pkt_rcode
kubernetes_answer_explain(struct kubernetes *k, const uint8_t *qname,
    const uint8_t *target, ldns_pkt *resp)
{
	char		 text[DNAME_MAX * 4 + 2];
	uint16_t	 type;
	struct explain	*e;

	dname_to_str(target, text, sizeof(text) - 1);
	if (strcmp(text, ".") != 0)
		strcat(text, ".");
	explain_type(NULL, text, &type);	/* by shape: never fails */
	e = kubernetes_explain(k, text, type);
	explain_txt(e, qname, resp);
	explain_free(e);
	ldns_pkt_set_aa(resp, true);
	return LDNS_RCODE_NOERROR;
}

ldns_pkt_rcode
kubernetes_answer(struct kubernetes *k, const uint8_t *qname, uint16_t qtype,
    ldns_pkt *resp)
{
	ldns_pkt_rcode	 rcode;
	const uint8_t	*target;

	if (k->cfg->explain && qtype == LDNS_RR_TYPE_TXT &&
	    (target = explain_txt_target(qname)) != NULL &&
	    kubernetes_serves(k, target))
		return kubernetes_answer_explain(k, qname, target, resp);
	zone_read_lock();
	rcode = answer_zone(k->zone, k->cfg, qname, qtype, resp);
	zone_read_unlock();
	/* Until the first sync, a missing name may only be not yet known. */
	if (rcode == LDNS_RCODE_NXDOMAIN && !k->synced && !k->startup_over)
		return LDNS_RCODE_SERVFAIL;
	return rcode;
}

int
kubernetes_answer_wire(struct kubernetes *k, const struct wire_query *q,
    struct wire_msg *m)
{
	int	rcode;

	/* explain's TXT answers are the ldns path's. */
	if (k->cfg->explain && q->qtype == LDNS_RR_TYPE_TXT &&
	    explain_txt_target(q->qname) != NULL)
		return -1;
	zone_read_lock();
	rcode = answer_zone_wire(k->zone, k->cfg, q, m);
	zone_read_unlock();
	/* Before the first sync, the ldns path's SERVFAIL. */
	if (rcode == LDNS_RCODE_NXDOMAIN && !k->synced && !k->startup_over)
		return -1;
	return rcode;
}

uint64_t
kubernetes_version(const struct kubernetes *k)
{
	return zone_version(k->zone);
}

struct kubernetes_lines {
	char	**line;
	size_t	  n;
	size_t	  cap;
	uint32_t  ttl;
	const struct zone *zone;
};

static void
kubernetes_dump_cb(const struct zone_node *node, void *arg)
{
	struct kubernetes_lines	*l = arg;
	struct zone_walk	 w;
	struct zone_rr		 rr;
	uint8_t			 name[DNAME_MAX];
	ldns_rr			*r;

	zone_node_name(l->zone, node, name);
	zone_walk_init(&w, node);
	while (zone_walk_next(&w, &rr)) {
		if (rr.type == RECORDS_TYPE_MARKER ||
		    (r = answer_ldns_rr(name, &rr, l->ttl)) == NULL)
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			l->line = xreallocarray(l->line, l->cap,
			    sizeof(*l->line));
		}
		l->line[l->n++] = ldns_rr2str(r);
		ldns_rr_free(r);
	}
}

static int
kubernetes_line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kubernetes_dump(struct kubernetes *k, FILE *out)
{
	struct kubernetes_lines	l = { .ttl = k->cfg->ttl, .zone = k->zone };

	kubernetes_flush(k);
	zone_read_lock();
	zone_foreach(k->zone, kubernetes_dump_cb, &l);
	zone_read_unlock();
	if (l.n > 1)
		qsort(l.line, l.n, sizeof(*l.line), kubernetes_line_cmp);
	for (size_t i = 0; i < l.n; i++) {
		fputs(l.line[i], out);
		free(l.line[i]);
	}
	free(l.line);
}

struct store *
kubernetes_store(struct kubernetes *k)
{
	return k->store;
}

void
kubernetes_set_metrics(struct kubernetes *k, struct metrics *m)
{
	k->programming = metrics_histogram_get(m,
	    "coredns_kubernetes_dns_programming_duration_seconds",
	    (const char *[]){ "headless_with_selector" });
}

void
kubernetes_free(struct kubernetes *k)
{
	struct kubernetes_dirty	*d, *tmp;

	if (k == NULL)
		return;
	petsets_free(k->petsets);
	ordinal_ops_local_free(k->ops_local);
	ordinal_ops_api_free(k->ops_api);
	kubernetes_manifest_objs_free(k);
	manifest_free(k->manifest);
	simulate_free(k->simulate);
	for (size_t i = 0; i < k->nwatches; i++)
		watch_free(k->watches[i]);
	watch_probe_free(k->probe);
	kube_free(k->kube);
	if (k->startup_ev != NULL)
		event_free(k->startup_ev);
	HASH_ITER(hh, k->dirty, d, tmp) {
		HASH_DEL(k->dirty, d);
		free(d->key);
		free(d);
	}
	if (k->flush_ev != NULL)
		event_free(k->flush_ev);
	if (k->trim_ev != NULL)
		event_free(k->trim_ev);
	zone_free(k->zone);
	store_free(k->store);
	records_free(&k->scratch);
	selector_free(k->ns_selector);
	selector_free(k->svc_selector);
	dname_strv_free(k->fall, k->nfall);
	free(k->self);
	free(k);
}
