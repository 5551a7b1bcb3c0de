/* simulate.c -- local mode's control plane: IPs, pod status, EndpointSlices. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "object.h"
#include "simulate.h"
#include "store.h"
#include "xmalloc.h"

/* uthash's own allocations follow the same out-of-memory policy as ours. */
#define uthash_malloc(sz) xmalloc(sz)
#define uthash_free(ptr, sz) free(ptr)
#include <uthash.h>

#define SIMULATE_LABEL_SERVICE	"kubernetes.io/service-name"
#define SIMULATE_LABEL_MANAGED	"endpointslice.kubernetes.io/managed-by"
#define SIMULATE_LABEL_HEADLESS	"service.kubernetes.io/headless"
#define SIMULATE_CONTROLLER	"endpointslice-controller.k8s.io"

/* The address ranges kubeadm and kind use by default. */
enum simulate_pool_id {
	POOL_SVC4,		/* service CIDR 10.96.0.0/12 */
	POOL_SVC6,		/* service CIDR fd00:10:96::/112 */
	POOL_POD4,		/* pod CIDR 10.244.0.0/16 */
	POOL_COUNT
};

struct simulate_pool {
	const char	*tag;		/* prefixes lease owners */
	uint8_t		 family;
	uint8_t		 base[16];
	uint32_t	 size;		/* addresses in the range */
	uint32_t	 next;		/* next offset to try */
};

/*
 * One address handed out. Leases outlive their objects: one that leaves the
 * manifests for a reload (a half-saved file fails to parse) gets its address
 * back. They are bounded by the names the manifests ever used, which is small
 * in local mode, the only user.
 */
struct simulate_lease {
	char		*owner;		/* "<pool tag> ns/name" */
	struct object_ip ip;		/* unused address bytes zeroed */
	UT_hash_handle	 hh;		/* by owner */
	UT_hash_handle	 hh_ip;		/* by ip */
};

struct simulate {
	struct store		*store;
	struct simulate_pool	 pools[POOL_COUNT];
	struct simulate_lease	*leases;
	struct simulate_lease	*lease_ips;
};

/* A keyed member of a set built during one apply; obj NULL for bare keys. */
struct simulate_item {
	char		*key;
	struct object	*obj;
	UT_hash_handle	 hh;
};

struct simulate_ipent {
	struct object_ip ip;
	UT_hash_handle	 hh;
};

/* The pods of one namespace, sorted by name, which sorts the endpoints. */
struct simulate_nspods {
	const char	*ns;		/* borrowed from the pods */
	const struct object **pods;
	size_t		 n;
	size_t		 cap;
	UT_hash_handle	 hh;
};

/* One simulate_apply's working sets; uthash keeps insertion order. */
struct simulate_run {
	struct simulate		*sim;
	struct simulate_item	*items[OBJECT_NKINDS];	/* the result */
	struct simulate_ipent	*explicit;	/* IPs the manifests give */
	struct simulate_item	*covered;	/* "ns/svc" given slices */
	struct simulate_nspods	*nspods;
};

static const struct simulate_pool simulate_pools[POOL_COUNT] = {
	[POOL_SVC4] = { "svc4", AF_INET, { 10, 96 }, 1u << 20, 10 },
	[POOL_SVC6] = { "svc6", AF_INET6,
	    { 0xfd, 0, 0, 0x10, 0, 0x96 }, 1u << 16, 10 },
	[POOL_POD4] = { "pod4", AF_INET, { 10, 244 }, 1u << 16, 2 },
};

static char *
simulate_key(const char *ns, const char *name)
{
	return ns == NULL ? xstrdup(name) : xasprintf("%s/%s", ns, name);
}

/* A copy fit to be a hash key: the bytes past the family's length zeroed. */
static struct object_ip
simulate_ip_norm(const struct object_ip *ip)
{
	struct object_ip	n;

	memset(&n, 0, sizeof(n));
	n.family = ip->family;
	memcpy(n.addr, ip->addr, ip->family == AF_INET ? 4 : 16);
	return n;
}

static bool
simulate_is_explicit(const struct simulate_run *run, const struct object_ip *ip)
{
	struct object_ip	 key = simulate_ip_norm(ip);
	struct simulate_ipent	*ent;

	HASH_FIND(hh, run->explicit, &key, sizeof(key), ent);
	return ent != NULL;
}

static void
simulate_add_explicit(struct simulate_run *run, const struct object_ip *ips,
    size_t n)
{
	struct simulate_ipent	*ent;

	for (size_t i = 0; i < n; i++) {
		if (simulate_is_explicit(run, &ips[i]))
			continue;
		ent = xcalloc(1, sizeof(*ent));
		ent->ip = simulate_ip_norm(&ips[i]);
		HASH_ADD(hh, run->explicit, ip, sizeof(ent->ip), ent);
	}
}

static struct object_ip
simulate_pool_ip(const struct simulate_pool *pool, uint32_t off)
{
	struct object_ip	ip;
	size_t			len = pool->family == AF_INET ? 4 : 16;

	memset(&ip, 0, sizeof(ip));
	ip.family = pool->family;
	memcpy(ip.addr, pool->base, len);
	/* The ranges are aligned: the offset's bits are zero in the base. */
	for (size_t i = len; i-- > len - 4; off >>= 8)
		ip.addr[i] |= off & 0xff;
	return ip;
}

/*
 * The next free address of pool, wrapping around; offsets 0 and 1 (the
 * network and the gateway or kubernetes service) and the last one are never
 * handed out. Returns -1 when the range is full.
 */
static int
simulate_pool_next(struct simulate_run *run, struct simulate_pool *pool,
    struct object_ip *out)
{
	struct simulate_lease	*l;
	struct object_ip	 ip;

	for (uint32_t tries = 0; tries < pool->size; tries++) {
		uint32_t off = pool->next;

		pool->next = off + 1 < pool->size - 1 ? off + 1 : 2;
		ip = simulate_pool_ip(pool, off);
		HASH_FIND(hh_ip, run->sim->lease_ips, &ip, sizeof(ip), l);
		if (l == NULL && !simulate_is_explicit(run, &ip)) {
			*out = ip;
			return 0;
		}
	}
	return -1;
}

static void
simulate_lease_drop(struct simulate *sim, struct simulate_lease *l)
{
	HASH_DELETE(hh, sim->leases, l);
	HASH_DELETE(hh_ip, sim->lease_ips, l);
	free(l->owner);
	free(l);
}

/*
 * The address obj holds in pool: the remembered one unless a manifest now
 * gives it explicitly to another object, else a new one. Returns -1 (logged)
 * when the range is full.
 */
static int
simulate_lease(struct simulate_run *run, enum simulate_pool_id id,
    const struct object *obj, struct object_ip *out)
{
	struct simulate		*sim = run->sim;
	struct simulate_pool	*pool = &sim->pools[id];
	struct simulate_lease	*l;
	struct object_ip	 ip;
	char			*owner;

	owner = xasprintf("%s %s/%s", pool->tag, obj->ns, obj->name);
	HASH_FIND_STR(sim->leases, owner, l);
	if (l != NULL && simulate_is_explicit(run, &l->ip)) {
		simulate_lease_drop(sim, l);
		l = NULL;
	}
	if (l == NULL && simulate_pool_next(run, pool, &ip) == 0) {
		l = xcalloc(1, sizeof(*l));
		l->owner = owner;
		owner = NULL;
		l->ip = ip;
		HASH_ADD_KEYPTR(hh, sim->leases, l->owner, strlen(l->owner), l);
		HASH_ADD(hh_ip, sim->lease_ips, ip, sizeof(l->ip), l);
	}
	free(owner);
	if (l == NULL) {
		log_warnx("%s %s/%s: no free address in %s",
		    object_kind_name(obj->kind), obj->ns, obj->name, pool->tag);
		return -1;
	}
	*out = l->ip;
	return 0;
}

struct simulate *
simulate_new(struct store *store)
{
	struct simulate	*sim = xcalloc(1, sizeof(*sim));

	sim->store = store;
	memcpy(sim->pools, simulate_pools, sizeof(sim->pools));
	return sim;
}

void
simulate_free(struct simulate *sim)
{
	struct simulate_lease	*l, *tmp;

	if (sim == NULL)
		return;
	HASH_ITER(hh, sim->leases, l, tmp)
		simulate_lease_drop(sim, l);
	free(sim);
}

/*
 * Adds obj to the run's set of its kind. With replace, a later object with
 * the same key wins (as a second kubectl apply would); without, the earlier
 * stays and obj is freed. Takes ownership of obj.
 */
static void
simulate_add(struct simulate_run *run, struct object *obj, bool replace)
{
	struct simulate_item	*it;
	char			*key = simulate_key(obj->ns, obj->name);

	HASH_FIND_STR(run->items[obj->kind], key, it);
	if (it == NULL) {
		it = xcalloc(1, sizeof(*it));
		it->key = key;
		it->obj = obj;
		HASH_ADD_KEYPTR(hh, run->items[obj->kind], it->key,
		    strlen(it->key), it);
		return;
	}
	if (replace) {
		log_warnx("%s %s: defined twice, the later wins",
		    object_kind_name(obj->kind), key);
		object_free(it->obj);
		it->obj = obj;
	} else {
		log_warnx("%s %s: name taken by a manifest, not generated",
		    object_kind_name(obj->kind), key);
		object_free(obj);
	}
	free(key);
}

static bool
simulate_has_item(struct simulate_item *set, const char *ns, const char *name)
{
	struct simulate_item	*it;
	char			*key = simulate_key(ns, name);

	HASH_FIND_STR(set, key, it);
	free(key);
	return it != NULL;
}

static void
simulate_items_free(struct simulate_item **set)
{
	struct simulate_item	*it, *tmp;

	HASH_ITER(hh, *set, it, tmp) {
		HASH_DEL(*set, it);
		object_free(it->obj);
		free(it->key);
		free(it);
	}
}

/* Namespaced objects without a namespace land in default, as with kubectl. */
static struct object *
simulate_normalize(struct object *obj)
{
	if (obj->kind == OBJECT_NAMESPACE) {
		free(obj->ns);
		obj->ns = NULL;
	} else if (obj->ns == NULL)
		obj->ns = xstrdup("default");
	return obj;
}

/* Collects the addresses manifests give, which allocation must avoid. */
static void
simulate_collect_explicit(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp;

	HASH_ITER(hh, run->items[OBJECT_SERVICE], it, tmp)
		simulate_add_explicit(run, it->obj->u.svc.ips,
		    it->obj->u.svc.nips);
	HASH_ITER(hh, run->items[OBJECT_POD], it, tmp)
		simulate_add_explicit(run, it->obj->u.pod.ips,
		    it->obj->u.pod.nips);
}

static void
simulate_family_add(uint8_t *fam, size_t *n, uint8_t f)
{
	if (f != AF_INET && f != AF_INET6)
		return;
	for (size_t i = 0; i < *n; i++)
		if (fam[i] == f)
			return;
	if (*n < 2)
		fam[(*n)++] = f;
}

/*
 * Fills spec.ipFamilies as the API server would: the listed ones, those of
 * explicit IPs, IPv4 when none, and the other family for dual stack.
 */
static void
simulate_families(struct object_service *svc)
{
	uint8_t	fam[2] = { 0, 0 };
	size_t	n = 0;

	for (size_t i = 0; i < svc->nfamilies && i < 2; i++)
		simulate_family_add(fam, &n, svc->families[i]);
	for (size_t i = 0; i < svc->nips; i++)
		simulate_family_add(fam, &n, svc->ips[i].family);
	if (n == 0)
		simulate_family_add(fam, &n, AF_INET);
	if (svc->dual_stack)
		simulate_family_add(fam, &n, fam[0] == AF_INET ? AF_INET6 :
		    AF_INET);
	memcpy(svc->families, fam, sizeof(svc->families));
	svc->nfamilies = n;
}

static const struct object_ip *
simulate_ip_of(const struct object_ip *ips, size_t n, uint8_t family)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i].family == family)
			return &ips[i];
	return NULL;
}

/* One ClusterIP per family, primary family first: explicit, else leased. */
static void
simulate_service_ips(struct simulate_run *run, struct object *obj)
{
	struct object_service	*svc = &obj->u.svc;
	struct object_ip	*ips;
	const struct object_ip	*given;
	size_t			 n = 0;

	ips = xcalloc(svc->nfamilies, sizeof(*ips));
	for (size_t i = 0; i < svc->nfamilies; i++) {
		given = simulate_ip_of(svc->ips, svc->nips, svc->families[i]);
		if (given != NULL)
			ips[n++] = *given;
		else if (simulate_lease(run, svc->families[i] == AF_INET ?
		    POOL_SVC4 : POOL_SVC6, obj, &ips[n]) == 0)
			n++;
	}
	free(svc->ips);
	svc->ips = n > 0 ? ips : NULL;
	svc->nips = n;
	if (n == 0)
		free(ips);
}

static void
simulate_complete_services(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp;

	HASH_ITER(hh, run->items[OBJECT_SERVICE], it, tmp) {
		struct object_service *svc = &it->obj->u.svc;

		if (svc->type == SERVICE_EXTERNALNAME)
			continue;
		simulate_families(svc);
		if (svc->type == SERVICE_CLUSTERIP)
			simulate_service_ips(run, it->obj);
	}
}

/* The kubelet: a pod without a status starts, gets an IP and turns ready. */
static void
simulate_complete_pods(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp;
	struct object_ip	 ip;

	HASH_ITER(hh, run->items[OBJECT_POD], it, tmp) {
		struct object_pod *pod = &it->obj->u.pod;

		if (!pod->has_status) {
			pod->has_status = true;
			pod->phase = POD_RUNNING;
			pod->ready = true;
		}
		/* A running pod has its sandbox's address. */
		if (pod->phase == POD_RUNNING && pod->nips == 0 &&
		    simulate_lease(run, POOL_POD4, it->obj, &ip) == 0) {
			pod->ips = xcalloc(1, sizeof(*pod->ips));
			pod->ips[0] = ip;
			pod->nips = 1;
		}
	}
}

static int
simulate_pod_cmp(const void *a, const void *b)
{
	const struct object *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Groups the pods by namespace, so a service scans only its own. */
static void
simulate_group_pods(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp;
	struct simulate_nspods	*np, *nptmp;

	HASH_ITER(hh, run->items[OBJECT_POD], it, tmp) {
		HASH_FIND_STR(run->nspods, it->obj->ns, np);
		if (np == NULL) {
			np = xcalloc(1, sizeof(*np));
			np->ns = it->obj->ns;
			HASH_ADD_KEYPTR(hh, run->nspods, np->ns,
			    strlen(np->ns), np);
		}
		if (np->n == np->cap) {
			np->cap = np->cap == 0 ? 16 : np->cap * 2;
			np->pods = xreallocarray(np->pods, np->cap,
			    sizeof(*np->pods));
		}
		np->pods[np->n++] = it->obj;
	}
	HASH_ITER(hh, run->nspods, np, nptmp)
		qsort(np->pods, np->n, sizeof(*np->pods), simulate_pod_cmp);
}

/*
 * "<service>-<5 chars>" like the controller's generateName, with the random
 * part replaced by a hash of the service name and family, so names stay the
 * same across reloads and the two families of a dual-stack service differ.
 */
static char *
simulate_slice_name(const char *service, uint8_t family)
{
	/* The alphabet of k8s.io/apimachinery's rand.String. */
	static const char	 alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	uint64_t		 h = 14695981039346656037ULL;
	char			 suffix[6];

	for (const char *p = service; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ family) * 1099511628211ULL;
	for (int i = 0; i < 5; i++, h /= sizeof(alphabet) - 1)
		suffix[i] = alphabet[h % (sizeof(alphabet) - 1)];
	suffix[5] = '\0';
	/* generateName keeps at most 58 characters of "<service>-". */
	if (strlen(service) >= 58)
		return xasprintf("%.58s%s", service, suffix);
	return xasprintf("%s-%s", service, suffix);
}

static bool
simulate_label_reserved(const char *key)
{
	return strcmp(key, SIMULATE_LABEL_SERVICE) == 0 ||
	    strcmp(key, SIMULATE_LABEL_MANAGED) == 0 ||
	    strcmp(key, SIMULATE_LABEL_HEADLESS) == 0;
}

static void
simulate_label_set(struct object_label *l, const char *key, const char *value)
{
	l->key = xstrdup(key);
	l->value = xstrdup(value);
}

/* The controller's labels, then the service's own, as it copies them. */
static void
simulate_slice_labels(struct object *slice, const struct object *svcobj)
{
	struct object_label	*l;
	size_t			 n = 0;

	l = xcalloc(3 + svcobj->nlabels, sizeof(*l));
	simulate_label_set(&l[n++], SIMULATE_LABEL_SERVICE, svcobj->name);
	simulate_label_set(&l[n++], SIMULATE_LABEL_MANAGED,
	    SIMULATE_CONTROLLER);
	if (svcobj->u.svc.type == SERVICE_HEADLESS)
		simulate_label_set(&l[n++], SIMULATE_LABEL_HEADLESS, "");
	for (size_t i = 0; i < svcobj->nlabels; i++)
		if (!simulate_label_reserved(svcobj->labels[i].key))
			simulate_label_set(&l[n++], svcobj->labels[i].key,
			    svcobj->labels[i].value);
	slice->labels = l;
	slice->nlabels = n;
}

/* The pod's container port named name with protocol proto; 0 when none. */
static uint16_t
simulate_pod_port(const struct object_pod *pod, const char *name,
    uint8_t proto)
{
	for (size_t i = 0; i < pod->nports; i++)
		if (pod->ports[i].name != NULL &&
		    strcmp(pod->ports[i].name, name) == 0 &&
		    pod->ports[i].proto == proto)
			return pod->ports[i].port;
	return 0;
}

/*
 * The slice's ports, one per service port: the numeric targetPort, the named
 * one resolved against pod, or the service port. The real controller
 * resolves names per pod and groups pods with equal port sets into separate
 * slices, leaving a port out where a pod lacks it; we resolve against the
 * slice's first pod only, so a port that pod lacks is left out of the whole
 * slice and pods that name the port differently share the first's number.
 */
static void
simulate_slice_ports(struct object_slice *slice,
    const struct object_service *svc, const struct object_pod *pod)
{
	struct object_port	*p;
	uint16_t		 port;
	size_t			 n = 0;

	if (svc->nports == 0)
		return;
	p = xcalloc(svc->nports, sizeof(*p));
	for (size_t i = 0; i < svc->nports; i++) {
		const struct object_port *sp = &svc->ports[i];

		if (sp->target_port != 0)
			port = sp->target_port;
		else if (sp->target_name != NULL)
			port = simulate_pod_port(pod, sp->target_name,
			    sp->proto);
		else
			port = sp->port;
		if (port == 0)
			continue;
		p[n].name = sp->name != NULL ? xstrdup(sp->name) : NULL;
		p[n].proto = sp->proto;
		p[n++].port = port;
	}
	slice->ports = n > 0 ? p : NULL;
	slice->nports = n;
	if (n == 0)
		free(p);
}

/* The pod's address of family when it belongs in a slice, else NULL. */
static const struct object_ip *
simulate_pod_addr(const struct object *pobj, const struct object *svcobj,
    uint8_t family)
{
	const struct object_pod		*pod = &pobj->u.pod;
	const struct object_service	*svc = &svcobj->u.svc;

	if (pod->deleting || pod->phase == POD_SUCCEEDED ||
	    pod->phase == POD_FAILED ||
	    !object_selector_matches(svc->selector, svc->nselector,
	    pobj->labels, pobj->nlabels))
		return NULL;
	return simulate_ip_of(pod->ips, pod->nips, family);
}

static void
simulate_endpoint_fill(struct object_endpoint *ep, const struct object *pobj,
    const struct object *svcobj, const struct object_ip *addr)
{
	const struct object_pod	*pod = &pobj->u.pod;

	object_endpoint_set_addrs(ep, addr, 1);
	/* publishNotReadyAddresses: the controller reports every pod ready. */
	ep->ready = pod->ready || svcobj->u.svc.publish_not_ready;
	/* A pet's name needs spec.subdomain to name this very service. */
	if (pod->hostname != NULL && pod->subdomain != NULL &&
	    strcmp(pod->subdomain, svcobj->name) == 0)
		ep->hostname = xstrdup(pod->hostname);
	object_endpoint_set_pod_name(ep, xstrdup(pobj->name));
}

/*
 * The slice of family for service svcobj over the pods of its namespace (np
 * may be NULL). A slice without endpoints has no ports either, like the
 * controller's placeholder slice.
 */
static struct object *
simulate_slice_new(const struct object *svcobj, uint8_t family,
    const struct simulate_nspods *np)
{
	struct object		*obj;
	struct object_slice	*slice;
	const struct object	*first = NULL;
	const struct object_ip	*addr;
	char			*name;

	name = simulate_slice_name(svcobj->name, family);
	obj = object_new(OBJECT_ENDPOINTSLICE, svcobj->ns, name);
	free(name);
	simulate_slice_labels(obj, svcobj);
	slice = &obj->u.slice;
	slice->service = xstrdup(svcobj->name);
	slice->family = family;
	if (np == NULL)
		return obj;
	slice->endpoints = xcalloc(np->n, sizeof(*slice->endpoints));
	for (size_t i = 0; i < np->n; i++) {
		if ((addr = simulate_pod_addr(np->pods[i], svcobj,
		    family)) == NULL)
			continue;
		if (first == NULL)
			first = np->pods[i];
		simulate_endpoint_fill(&slice->endpoints[slice->nendpoints++],
		    np->pods[i], svcobj, addr);
	}
	if (first == NULL) {
		free(slice->endpoints);
		slice->endpoints = NULL;
		return obj;
	}
	/* Sized for the namespace above; stored slices keep only their own. */
	slice->endpoints = xreallocarray(slice->endpoints, slice->nendpoints,
	    sizeof(*slice->endpoints));
	simulate_slice_ports(slice, &svcobj->u.svc, &first->u.pod);
	return obj;
}

/* The services the manifests give slices for, which get none generated. */
static void
simulate_collect_covered(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp, *cov;

	HASH_ITER(hh, run->items[OBJECT_ENDPOINTSLICE], it, tmp) {
		if (it->obj->u.slice.service == NULL ||
		    simulate_has_item(run->covered, it->obj->ns,
		    it->obj->u.slice.service))
			continue;
		cov = xcalloc(1, sizeof(*cov));
		cov->key = simulate_key(it->obj->ns, it->obj->u.slice.service);
		HASH_ADD_KEYPTR(hh, run->covered, cov->key, strlen(cov->key),
		    cov);
	}
}

/* The EndpointSlice controller, for services no manifest slice is for. */
static void
simulate_generate_slices(struct simulate_run *run)
{
	struct simulate_item	*it, *tmp;
	struct simulate_nspods	*np;
	const struct object	*svcobj;

	simulate_collect_covered(run);
	simulate_group_pods(run);
	HASH_ITER(hh, run->items[OBJECT_SERVICE], it, tmp) {
		svcobj = it->obj;
		/*
		 * The controller skips ExternalName services and those without
		 * a selector; an empty one does not survive the API server's
		 * storage, so it counts as none.
		 */
		if (svcobj->u.svc.type == SERVICE_EXTERNALNAME ||
		    !svcobj->u.svc.has_selector ||
		    svcobj->u.svc.nselector == 0 ||
		    simulate_has_item(run->covered, svcobj->ns, svcobj->name))
			continue;
		HASH_FIND_STR(run->nspods, svcobj->ns, np);
		for (size_t f = 0; f < svcobj->u.svc.nfamilies; f++)
			simulate_add(run, simulate_slice_new(svcobj,
			    svcobj->u.svc.families[f], np), false);
	}
}

static void
simulate_ensure_ns(struct simulate_run *run, const char *ns)
{
	if (ns != NULL &&
	    !simulate_has_item(run->items[OBJECT_NAMESPACE], NULL, ns))
		simulate_add(run, object_new(OBJECT_NAMESPACE, NULL, ns),
		    false);
}

/* The namespaces every cluster has, and those objects live in. */
static void
simulate_namespaces(struct simulate_run *run)
{
	static const char *const standard[] = { "default", "kube-system",
	    "kube-public", "kube-node-lease" };
	struct simulate_item	*it, *tmp;

	for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
		simulate_ensure_ns(run, standard[i]);
	for (int k = 0; k < OBJECT_NKINDS; k++) {
		if (k == OBJECT_NAMESPACE)
			continue;
		HASH_ITER(hh, run->items[k], it, tmp)
			simulate_ensure_ns(run, it->obj->ns);
	}
}

/* Hands the run's objects of kind to store_replace and empties the set. */
static void
simulate_publish(struct simulate_run *run, enum object_kind kind)
{
	struct simulate_item	*it, *tmp;
	struct object		**objs;
	size_t			 n = 0;

	objs = xcalloc(HASH_COUNT(run->items[kind]), sizeof(*objs));
	HASH_ITER(hh, run->items[kind], it, tmp) {
		objs[n++] = it->obj;
		it->obj = NULL;
	}
	simulate_items_free(&run->items[kind]);
	store_replace(run->sim->store, kind, objs, n);
	free(objs);
}

static void
simulate_run_clear(struct simulate_run *run)
{
	struct simulate_ipent	*ent, *etmp;
	struct simulate_nspods	*np, *nptmp;

	HASH_ITER(hh, run->explicit, ent, etmp) {
		HASH_DEL(run->explicit, ent);
		free(ent);
	}
	HASH_ITER(hh, run->nspods, np, nptmp) {
		HASH_DEL(run->nspods, np);
		free(np->pods);
		free(np);
	}
	simulate_items_free(&run->covered);
}

void
simulate_apply(struct simulate *sim, struct object **objs, size_t n)
{
	/* Subscribers see namespaces, then services before their slices. */
	static const enum object_kind order[] = { OBJECT_NAMESPACE,
	    OBJECT_SERVICE, OBJECT_PVC, OBJECT_POD, OBJECT_ENDPOINTSLICE,
	    OBJECT_PETSET };
	struct simulate_run	run;

	memset(&run, 0, sizeof(run));
	run.sim = sim;
	for (size_t i = 0; i < n; i++)
		simulate_add(&run, simulate_normalize(objs[i]), true);
	simulate_collect_explicit(&run);
	simulate_complete_services(&run);
	simulate_complete_pods(&run);
	simulate_generate_slices(&run);
	simulate_namespaces(&run);
	/* The pod groups borrow the pods, which the store is about to own. */
	simulate_run_clear(&run);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		simulate_publish(&run, order[i]);
}
