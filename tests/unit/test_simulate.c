/* test_simulate.c -- local mode's API server, kubelet and slice controller. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "object.h"
#include "simulate.h"
#include "store.h"
#include "xmalloc.h"

#define MAXOBJS 16

/* A manifest set being built, as the manifest loader would hand it over. */
struct set {
	struct object	*v[MAXOBJS];
	size_t		 n;
};

struct fixture {
	struct store	*st;
	struct simulate	*sim;
};

static struct object *
add(struct set *s, struct object *obj)
{
	assert_true(s->n < MAXOBJS);
	s->v[s->n++] = obj;
	return obj;
}

static void
apply(struct fixture *f, struct set *s)
{
	simulate_apply(f->sim, s->v, s->n);
	s->n = 0;
}

static struct object_label *
labels(const char *key, const char *value)
{
	struct object_label	*l = xcalloc(1, sizeof(*l));

	l->key = xstrdup(key);
	l->value = xstrdup(value);
	return l;
}

static struct object_ip
ip(const char *text)
{
	struct object_ip	a;

	assert_int_equal(object_ip_parse(text, &a), 0);
	return a;
}

static const char *
fmt(const struct object_ip *a)
{
	static char	buf[4][64];
	static int	i;

	i = (i + 1) % 4;
	return object_ip_format(a, buf[i], sizeof(buf[i]));
}

/* A service with one port and, when app is not NULL, selector app=<app>. */
static struct object *
service(const char *ns, const char *name, enum object_service_type type,
    const char *app, const char *port_name, uint16_t port)
{
	struct object		*obj = object_new(OBJECT_SERVICE, ns, name);
	struct object_service	*svc = &obj->u.svc;

	svc->type = type;
	if (app != NULL) {
		svc->selector = labels("app", app);
		svc->nselector = 1;
		svc->has_selector = true;
	}
	svc->ports = xcalloc(1, sizeof(*svc->ports));
	svc->ports[0].name = port_name ? xstrdup(port_name) : NULL;
	svc->ports[0].port = port;
	svc->ports[0].proto = IPPROTO_TCP;
	svc->nports = 1;
	return obj;
}

/* A pod labelled app=<app> as written in a manifest: no status. */
static struct object *
pod(const char *ns, const char *name, const char *app, const char *hostname,
    const char *subdomain)
{
	struct object	*obj = object_new(OBJECT_POD, ns, name);

	obj->labels = labels("app", app);
	obj->nlabels = 1;
	obj->u.pod.hostname = hostname ? xstrdup(hostname) : NULL;
	obj->u.pod.subdomain = subdomain ? xstrdup(subdomain) : NULL;
	return obj;
}

/* Gives a manifest pod a status, so the kubelet leaves it alone. */
static struct object *
with_status(struct object *obj, enum object_pod_phase phase, bool ready,
    const char *addr)
{
	struct object_pod	*p = &obj->u.pod;

	p->has_status = true;
	p->phase = phase;
	p->ready = ready;
	if (addr != NULL) {
		p->ips = xreallocarray(p->ips, p->nips + 1, sizeof(*p->ips));
		p->ips[p->nips++] = ip(addr);
	}
	return obj;
}

struct slices {
	const struct object	*v[8];
	size_t			 n;
};

static void
slice_cb(const struct object *obj, void *arg)
{
	struct slices	*s = arg;

	assert_true(s->n < 8);
	s->v[s->n++] = obj;
}

static struct slices
slices_of(struct fixture *f, const char *ns, const char *service)
{
	struct slices	s = { .n = 0 };

	store_foreach_slice(f->st, ns, service, slice_cb, &s);
	return s;
}

/* The only slice of ns/service; fails the test unless there is one. */
static const struct object_slice *
one_slice(struct fixture *f, const char *ns, const char *service)
{
	struct slices	s = slices_of(f, ns, service);

	assert_int_equal(s.n, 1);
	return &s.v[0]->u.slice;
}

static const struct object_service *
find_svc(struct fixture *f, const char *ns, const char *name)
{
	const struct object	*obj;

	obj = store_find(f->st, OBJECT_SERVICE, ns, name);
	assert_non_null(obj);
	return &obj->u.svc;
}

static const struct object_pod *
find_pod(struct fixture *f, const char *ns, const char *name)
{
	const struct object	*obj = store_find(f->st, OBJECT_POD, ns, name);

	assert_non_null(obj);
	return &obj->u.pod;
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	f->st = store_new();
	f->sim = simulate_new(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	simulate_free(f->sim);
	store_free(f->st);
	free(f);
	return 0;
}

/* DESIGN.md section 7: headless nginx and the pets web-0 and web-1. */
static void
petset_set(struct set *s)
{
	add(s, service("default", "nginx", SERVICE_HEADLESS, "nginx", "web",
	    80));
	add(s, pod("default", "web-1", "nginx", "web-1", "nginx"));
	add(s, pod("default", "web-0", "nginx", "web-0", "nginx"));
}

static void
test_petset_example(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	const struct object		*sl;
	const struct object_slice	*slice;
	const struct object_pod		*p0, *p1;

	petset_set(&s);
	apply(f, &s);
	assert_int_equal(find_svc(f, "default", "nginx")->nips, 0);
	p0 = find_pod(f, "default", "web-0");
	p1 = find_pod(f, "default", "web-1");
	assert_true(p0->has_status && p0->ready && p0->phase == POD_RUNNING);
	assert_int_equal(p0->nips, 1);
	assert_int_equal(p1->nips, 1);
	assert_false(object_ip_equal(&p0->ips[0], &p1->ips[0]));

	assert_int_equal(slices_of(f, "default", "nginx").n, 1);
	sl = slices_of(f, "default", "nginx").v[0];
	assert_int_equal(strncmp(sl->name, "nginx-", 6), 0);
	assert_int_equal(strlen(sl->name), strlen("nginx-") + 5);
	assert_string_equal(object_label(sl, "kubernetes.io/service-name"),
	    "nginx");
	assert_string_equal(object_label(sl,
	    "endpointslice.kubernetes.io/managed-by"),
	    "endpointslice-controller.k8s.io");
	slice = &sl->u.slice;
	assert_string_equal(slice->service, "nginx");
	assert_int_equal(slice->family, AF_INET);
	assert_int_equal(slice->nendpoints, 2);
	/* Sorted by pod name, whatever the manifest order. */
	assert_string_equal(slice->endpoints[0].hostname, "web-0");
	assert_string_equal(object_endpoint_pod_name(&slice->endpoints[0]), "web-0");
	assert_string_equal(slice->endpoints[1].hostname, "web-1");
	assert_true(slice->endpoints[0].ready && slice->endpoints[1].ready);
	assert_int_equal(slice->endpoints[0].naddrs, 1);
	assert_true(object_ip_equal(object_endpoint_addr(&slice->endpoints[0], 0),
	    &p0->ips[0]));
	assert_true(object_ip_equal(object_endpoint_addr(&slice->endpoints[1], 0),
	    &p1->ips[0]));
	assert_int_equal(slice->nports, 1);
	assert_string_equal(slice->ports[0].name, "web");
	assert_int_equal(slice->ports[0].port, 80);
	assert_int_equal(slice->ports[0].proto, IPPROTO_TCP);
}

static void
test_hostname_needs_subdomain(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	const struct object_slice	*slice;

	add(&s, service("default", "nginx", SERVICE_HEADLESS, "nginx", "web",
	    80));
	add(&s, pod("default", "a", "nginx", "a", "other"));
	add(&s, pod("default", "b", "nginx", "b", NULL));
	add(&s, pod("default", "c", "nginx", NULL, "nginx"));
	add(&s, pod("default", "d", "nginx", "d", "nginx"));
	apply(f, &s);
	slice = one_slice(f, "default", "nginx");
	assert_int_equal(slice->nendpoints, 4);
	assert_null(slice->endpoints[0].hostname);
	assert_null(slice->endpoints[1].hostname);
	assert_null(slice->endpoints[2].hostname);
	assert_string_equal(slice->endpoints[3].hostname, "d");
}

static void
not_ready_set(struct set *s, bool publish)
{
	struct object	*svc;

	svc = add(s, service("default", "db", SERVICE_HEADLESS, "db", NULL,
	    5432));
	svc->u.svc.publish_not_ready = publish;
	add(s, with_status(pod("default", "db-0", "db", NULL, NULL),
	    POD_RUNNING, false, "10.1.0.5"));
	add(s, with_status(pod("default", "db-1", "db", NULL, NULL),
	    POD_FAILED, false, "10.1.0.6"));
	add(s, with_status(pod("default", "db-2", "db", NULL, NULL),
	    POD_RUNNING, true, "10.1.0.7"))->u.pod.deleting = true;
	add(s, with_status(pod("default", "db-3", "db", NULL, NULL),
	    POD_PENDING, false, NULL));
}

static void
test_not_ready_pod(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	const struct object_slice	*slice;

	not_ready_set(&s, false);
	apply(f, &s);
	/* Pods with a status are kept as written. */
	assert_false(find_pod(f, "default", "db-0")->ready);
	assert_int_equal(find_pod(f, "default", "db-3")->phase, POD_PENDING);
	assert_int_equal(find_pod(f, "default", "db-3")->nips, 0);
	/* Failed, deleting and IP-less pods are no endpoints. */
	slice = one_slice(f, "default", "db");
	assert_int_equal(slice->nendpoints, 1);
	assert_string_equal(object_endpoint_pod_name(&slice->endpoints[0]), "db-0");
	assert_string_equal(fmt(object_endpoint_addr(&slice->endpoints[0], 0)), "10.1.0.5");
	assert_false(slice->endpoints[0].ready);
	assert_null(slice->ports[0].name);
	assert_int_equal(slice->ports[0].port, 5432);

	not_ready_set(&s, true);
	apply(f, &s);
	slice = one_slice(f, "default", "db");
	assert_int_equal(slice->nendpoints, 1);
	assert_true(slice->endpoints[0].ready);
}

static void
test_clusterip_stable(void **state)
{
	struct fixture		*f = *state;
	struct set		 s = { .n = 0 };
	struct object		*c;
	struct object_ip	 a1, b1, p1;

	add(&s, service("default", "a", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, service("default", "b", SERVICE_CLUSTERIP, NULL, NULL, 80));
	/* The first address the allocator would try, taken explicitly. */
	c = add(&s, service("default", "c", SERVICE_CLUSTERIP, NULL, NULL, 80));
	c->u.svc.ips = xcalloc(1, sizeof(struct object_ip));
	c->u.svc.ips[0] = ip("10.96.0.10");
	c->u.svc.nips = 1;
	add(&s, pod("default", "p", "x", NULL, NULL));
	add(&s, with_status(pod("default", "q", "x", NULL, NULL), POD_RUNNING,
	    true, "10.244.0.2"));
	apply(f, &s);
	assert_int_equal(find_svc(f, "default", "a")->nips, 1);
	a1 = find_svc(f, "default", "a")->ips[0];
	b1 = find_svc(f, "default", "b")->ips[0];
	p1 = find_pod(f, "default", "p")->ips[0];
	assert_string_equal(fmt(&find_svc(f, "default", "c")->ips[0]),
	    "10.96.0.10");
	assert_string_equal(fmt(&a1), "10.96.0.11");
	assert_string_equal(fmt(&b1), "10.96.0.12");
	/* 10.244.0.2 is the pod CIDR's first, but q holds it. */
	assert_string_equal(fmt(&p1), "10.244.0.3");

	/* A reload in another order, with a newcomer, moves nobody. */
	add(&s, service("default", "d", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, pod("default", "p", "x", NULL, NULL));
	add(&s, service("default", "b", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, service("default", "a", SERVICE_CLUSTERIP, NULL, NULL, 80));
	apply(f, &s);
	assert_true(object_ip_equal(&find_svc(f, "default", "a")->ips[0], &a1));
	assert_true(object_ip_equal(&find_svc(f, "default", "b")->ips[0], &b1));
	assert_true(object_ip_equal(&find_pod(f, "default", "p")->ips[0], &p1));
	assert_string_equal(fmt(&find_svc(f, "default", "d")->ips[0]),
	    "10.96.0.13");
	assert_null(store_find(f->st, OBJECT_SERVICE, "default", "c"));
}

/* Explicit addresses win over leases; leases outlive a reload's absence. */
static void
test_clusterip_yields_to_explicit(void **state)
{
	struct fixture		*f = *state;
	struct set		 s = { .n = 0 };
	struct object		*e;
	struct object_ip	 a1, b1, p1;

	add(&s, service("default", "a", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, service("default", "b", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, pod("default", "p", "x", NULL, NULL));
	apply(f, &s);
	a1 = find_svc(f, "default", "a")->ips[0];
	b1 = find_svc(f, "default", "b")->ips[0];
	p1 = find_pod(f, "default", "p")->ips[0];
	assert_string_equal(fmt(&a1), "10.96.0.10");

	/* A manifest claiming a's address gets it; a moves on; b and p go. */
	e = add(&s, service("default", "e", SERVICE_CLUSTERIP, NULL, NULL, 80));
	e->u.svc.ips = xcalloc(1, sizeof(struct object_ip));
	e->u.svc.ips[0] = a1;
	e->u.svc.nips = 1;
	add(&s, service("default", "a", SERVICE_CLUSTERIP, NULL, NULL, 80));
	apply(f, &s);
	assert_true(object_ip_equal(&find_svc(f, "default", "e")->ips[0], &a1));
	assert_string_equal(fmt(&find_svc(f, "default", "a")->ips[0]),
	    "10.96.0.12");
	assert_null(store_find(f->st, OBJECT_SERVICE, "default", "b"));

	/* b and p come back to their addresses; a newcomer gets a new one. */
	add(&s, service("default", "g", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, service("default", "b", SERVICE_CLUSTERIP, NULL, NULL, 80));
	add(&s, pod("default", "p", "x", NULL, NULL));
	apply(f, &s);
	assert_true(object_ip_equal(&find_svc(f, "default", "b")->ips[0], &b1));
	assert_true(object_ip_equal(&find_pod(f, "default", "p")->ips[0], &p1));
	assert_string_equal(fmt(&find_svc(f, "default", "g")->ips[0]),
	    "10.96.0.13");
}

static void
test_dual_stack(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	struct object			*svc, *p;
	const struct object_service	*got;
	struct slices			 sl;

	svc = add(&s, service("default", "ds", SERVICE_CLUSTERIP, "ds", "http",
	    80));
	svc->u.svc.dual_stack = true;
	svc = add(&s, service("default", "six", SERVICE_CLUSTERIP, NULL, NULL,
	    80));
	svc->u.svc.dual_stack = true;
	svc->u.svc.families[0] = AF_INET6;
	svc->u.svc.nfamilies = 1;
	p = with_status(pod("default", "ds-0", "ds", NULL, NULL), POD_RUNNING,
	    true, "10.1.0.9");
	add(&s, with_status(p, POD_RUNNING, true, "fd00:10:244::9"));
	apply(f, &s);

	got = find_svc(f, "default", "ds");
	assert_int_equal(got->nips, 2);
	assert_int_equal(got->nfamilies, 2);
	assert_int_equal(got->families[0], AF_INET);
	assert_string_equal(fmt(&got->ips[0]), "10.96.0.10");
	assert_string_equal(fmt(&got->ips[1]), "fd00:10:96::a");
	/* The listed family stays primary. */
	got = find_svc(f, "default", "six");
	assert_int_equal(got->nips, 2);
	assert_int_equal(got->ips[0].family, AF_INET6);
	assert_int_equal(got->ips[1].family, AF_INET);

	sl = slices_of(f, "default", "ds");
	assert_int_equal(sl.n, 2);
	assert_string_not_equal(sl.v[0]->name, sl.v[1]->name);
	assert_int_not_equal(sl.v[0]->u.slice.family, sl.v[1]->u.slice.family);
	for (size_t i = 0; i < 2; i++) {
		const struct object_slice *x = &sl.v[i]->u.slice;

		assert_int_equal(x->nendpoints, 1);
		assert_string_equal(fmt(object_endpoint_addr(&x->endpoints[0], 0)),
		    x->family == AF_INET ? "10.1.0.9" : "fd00:10:244::9");
	}
}

static void
test_manifest_slice_wins(void **state)
{
	struct fixture		*f = *state;
	struct set		 s = { .n = 0 };
	struct object		*mine, *copy;
	const struct object	*got;

	add(&s, service("default", "web", SERVICE_CLUSTERIP, "web", NULL, 80));
	add(&s, pod("default", "web-0", "web", NULL, NULL));
	mine = object_new(OBJECT_ENDPOINTSLICE, "default", "hand-made");
	mine->labels = labels("kubernetes.io/service-name", "web");
	mine->nlabels = 1;
	mine->u.slice.service = xstrdup("web");
	mine->u.slice.family = AF_INET;
	copy = object_dup(mine);
	add(&s, mine);
	/* A slice for the same name in another namespace does not count. */
	add(&s, service("other", "web", SERVICE_CLUSTERIP, "web", NULL, 80));
	apply(f, &s);

	assert_int_equal(slices_of(f, "default", "web").n, 1);
	got = slices_of(f, "default", "web").v[0];
	assert_string_equal(got->name, "hand-made");
	assert_true(object_equal(got, copy));
	assert_int_equal(slices_of(f, "other", "web").n, 1);
	assert_int_equal(store_count(f->st, OBJECT_ENDPOINTSLICE), 2);
	object_free(copy);
}

/* Counts the subscriber's events by kind. */
struct counter {
	int	adds[OBJECT_NKINDS];
	int	updates[OBJECT_NKINDS];
	int	deletes[OBJECT_NKINDS];
	int	total;
	int	last_kind_rank;		/* -1 before the first */
	bool	out_of_order;
};

static int
kind_rank(enum object_kind kind)
{
	switch (kind) {
	case OBJECT_NAMESPACE:
		return 0;
	case OBJECT_SERVICE:
		return 1;
	case OBJECT_POD:
		return 2;
	default:
		return 3;
	}
}

static void
count_cb(const struct object *old, const struct object *new, void *arg)
{
	struct counter		*c = arg;
	const struct object	*o = new != NULL ? new : old;
	int			 rank = kind_rank(o->kind);

	c->total++;
	if (old == NULL)
		c->adds[o->kind]++;
	else if (new == NULL)
		c->deletes[o->kind]++;
	else
		c->updates[o->kind]++;
	if (rank < c->last_kind_rank)
		c->out_of_order = true;
	c->last_kind_rank = rank;
}

static void
test_pod_removed(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	struct counter			 c = { .last_kind_rank = -1 };
	const struct object_slice	*slice;

	store_subscribe(f->st, count_cb, &c);
	petset_set(&s);
	apply(f, &s);
	assert_false(c.out_of_order);
	assert_int_equal(c.adds[OBJECT_NAMESPACE], 4);
	assert_int_equal(c.adds[OBJECT_SERVICE], 1);
	assert_int_equal(c.adds[OBJECT_POD], 2);
	assert_int_equal(c.adds[OBJECT_ENDPOINTSLICE], 1);

	/* The same manifests again: nothing changed, nobody is told. */
	memset(&c, 0, sizeof(c));
	petset_set(&s);
	apply(f, &s);
	assert_int_equal(c.total, 0);

	add(&s, service("default", "nginx", SERVICE_HEADLESS, "nginx", "web",
	    80));
	add(&s, pod("default", "web-0", "nginx", "web-0", "nginx"));
	apply(f, &s);
	assert_int_equal(c.total, 2);
	assert_int_equal(c.deletes[OBJECT_POD], 1);
	assert_int_equal(c.updates[OBJECT_ENDPOINTSLICE], 1);
	assert_int_equal(c.updates[OBJECT_SERVICE], 0);
	assert_int_equal(c.updates[OBJECT_POD], 0);
	assert_null(store_find(f->st, OBJECT_POD, "default", "web-1"));
	assert_int_equal(store_count(f->st, OBJECT_POD), 1);
	slice = one_slice(f, "default", "nginx");
	assert_int_equal(slice->nendpoints, 1);
	assert_string_equal(slice->endpoints[0].hostname, "web-0");
}

static void
test_namespaces(void **state)
{
	struct fixture	*f = *state;
	struct set	 s = { .n = 0 };
	struct object	*ns;
	static const char *const want[] = { "default", "kube-system",
	    "kube-public", "kube-node-lease", "team", "extra", "apps" };

	add(&s, pod("team", "p", "x", NULL, NULL));
	ns = add(&s, object_new(OBJECT_NAMESPACE, NULL, "extra"));
	ns->labels = labels("env", "test");
	ns->nlabels = 1;
	add(&s, service("apps", "s", SERVICE_CLUSTERIP, NULL, NULL, 80));
	apply(f, &s);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(store_find(f->st, OBJECT_NAMESPACE, NULL,
		    want[i]));
	assert_int_equal(store_count(f->st, OBJECT_NAMESPACE), 7);
	/* A manifest's namespace is kept as written. */
	assert_string_equal(object_label(store_find(f->st, OBJECT_NAMESPACE,
	    NULL, "extra"), "env"), "test");

	apply(f, &s);
	assert_int_equal(store_count(f->st, OBJECT_NAMESPACE), 4);
	assert_null(store_find(f->st, OBJECT_NAMESPACE, NULL, "team"));
}

static void
test_no_selector_no_slice(void **state)
{
	struct fixture	*f = *state;
	struct set	 s = { .n = 0 };
	struct object	*ext;

	add(&s, service("default", "plain", SERVICE_CLUSTERIP, NULL, NULL, 80));
	ext = add(&s, service("default", "ext", SERVICE_EXTERNALNAME, "x", NULL,
	    80));
	ext->u.svc.external_name = xstrdup("example.com");
	add(&s, pod("default", "x-0", "x", NULL, NULL));
	/* selector: {} is stored as no selector by the API server. */
	add(&s, service("default", "empty", SERVICE_CLUSTERIP, NULL, NULL,
	    80))->u.svc.has_selector = true;
	apply(f, &s);
	assert_int_equal(slices_of(f, "default", "empty").n, 0);
	assert_int_equal(slices_of(f, "default", "plain").n, 0);
	assert_int_equal(slices_of(f, "default", "ext").n, 0);
	assert_int_equal(store_count(f->st, OBJECT_ENDPOINTSLICE), 0);
	assert_int_equal(find_svc(f, "default", "plain")->nips, 1);
	assert_int_equal(find_svc(f, "default", "ext")->nips, 0);
}

static void
test_target_ports(void **state)
{
	struct fixture			*f = *state;
	struct set			 s = { .n = 0 };
	struct object			*svc, *p;
	const struct object_slice	*slice;

	svc = add(&s, service("default", "app", SERVICE_CLUSTERIP, "app",
	    "http", 80));
	svc->u.svc.ports = xreallocarray(svc->u.svc.ports, 3,
	    sizeof(struct object_port));
	memset(&svc->u.svc.ports[1], 0, 2 * sizeof(struct object_port));
	svc->u.svc.nports = 3;
	svc->u.svc.ports[0].target_name = xstrdup("web");
	svc->u.svc.ports[1].port = 9000;
	svc->u.svc.ports[1].target_port = 9100;
	svc->u.svc.ports[1].proto = IPPROTO_UDP;
	svc->u.svc.ports[2].port = 81;
	svc->u.svc.ports[2].target_name = xstrdup("missing");
	svc->u.svc.ports[2].proto = IPPROTO_TCP;
	p = add(&s, pod("default", "app-0", "app", NULL, NULL));
	p->u.pod.ports = xcalloc(1, sizeof(struct object_port));
	p->u.pod.ports[0].name = xstrdup("web");
	p->u.pod.ports[0].port = 8080;
	p->u.pod.ports[0].proto = IPPROTO_TCP;
	p->u.pod.nports = 1;
	/* Sorts after app-0, so app-0 alone decides the named port. */
	add(&s, pod("default", "app-1", "app", NULL, NULL));
	add(&s, service("default", "idle", SERVICE_CLUSTERIP, "none", "http",
	    80));
	apply(f, &s);

	slice = one_slice(f, "default", "app");
	assert_int_equal(slice->nendpoints, 2);
	assert_int_equal(slice->nports, 2);
	assert_string_equal(slice->ports[0].name, "http");
	assert_int_equal(slice->ports[0].port, 8080);
	assert_int_equal(slice->ports[1].port, 9100);
	assert_int_equal(slice->ports[1].proto, IPPROTO_UDP);
	/* No pods: the controller's placeholder, without ports. */
	slice = one_slice(f, "default", "idle");
	assert_int_equal(slice->nendpoints, 0);
	assert_int_equal(slice->nports, 0);
}

/*
 * Suffixes come from the service name, so other services get other ones.
 * Labels: the controller's, then the service's own minus the reserved ones.
 */
static void
test_slice_names(void **state)
{
	struct fixture		*f = *state;
	struct set		 s = { .n = 0 };
	struct object		*svc;
	const struct object	*sl;
	const char		*a, *b;

	add(&s, service("default", "a", SERVICE_HEADLESS, "x", NULL, 80));
	svc = add(&s, service("default", "b", SERVICE_CLUSTERIP, "x", NULL,
	    80));
	svc->labels = xcalloc(2, sizeof(struct object_label));
	svc->labels[0].key = xstrdup("kubernetes.io/service-name");
	svc->labels[0].value = xstrdup("bogus");
	svc->labels[1].key = xstrdup("team");
	svc->labels[1].value = xstrdup("dns");
	svc->nlabels = 2;
	apply(f, &s);
	sl = slices_of(f, "default", "a").v[0];
	assert_string_equal(object_label(sl, "service.kubernetes.io/headless"),
	    "");
	assert_int_equal(sl->nlabels, 3);
	sl = slices_of(f, "default", "b").v[0];
	assert_null(object_label(sl, "service.kubernetes.io/headless"));
	assert_string_equal(object_label(sl, "kubernetes.io/service-name"),
	    "b");
	assert_string_equal(object_label(sl, "team"), "dns");
	assert_int_equal(sl->nlabels, 3);
	a = slices_of(f, "default", "a").v[0]->name;
	b = slices_of(f, "default", "b").v[0]->name;
	assert_int_equal(strlen(a), 7);
	assert_int_equal(strncmp(a, "a-", 2), 0);
	assert_int_equal(strncmp(b, "b-", 2), 0);
	assert_string_not_equal(a + 2, b + 2);
	assert_true(strspn(a + 2, "bcdfghjklmnpqrstvwxz2456789") == 5);
}

/* generateName keeps 58 characters of the base: names stay DNS labels. */
static void
test_slice_name_long(void **state)
{
	struct fixture	*f = *state;
	struct set	 s = { .n = 0 };
	char		 svc[61];
	const char	*name;

	memset(svc, 's', 60);
	svc[60] = '\0';
	add(&s, service("default", svc, SERVICE_HEADLESS, "x", NULL, 80));
	apply(f, &s);
	name = slices_of(f, "default", svc).v[0]->name;
	assert_int_equal(strlen(name), 63);
	assert_int_equal(strncmp(name, svc, 58), 0);
	assert_int_not_equal(name[58], 's');
}

/*
 * The pod CIDR holds 65533 pods (.0.0, .0.1 and .255.255 are never handed
 * out); after a wrap the allocator must skip leased addresses, so one more
 * pod gets none rather than a duplicate.
 */
static void
test_pod_cidr_full(void **state)
{
	struct fixture	*f = *state;
	const size_t	 n = 65533;
	struct object	**objs = xcalloc(n + 1, sizeof(*objs));
	char		 name[32];

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "p%zu", i);
			objs[i] = object_new(OBJECT_POD, "default", name);
		}
		if (round == 1)
			objs[n] = object_new(OBJECT_POD, "default", "late");
		simulate_apply(f->sim, objs, round == 0 ? n : n + 1);
	}
	assert_string_equal(fmt(&find_pod(f, "default", "p0")->ips[0]),
	    "10.244.0.2");
	assert_string_equal(fmt(&find_pod(f, "default", "p65532")->ips[0]),
	    "10.244.255.254");
	assert_int_equal(find_pod(f, "default", "late")->nips, 0);
	assert_true(find_pod(f, "default", "late")->ready);
	free(objs);
}

/* Of two manifest objects with one name, the later wins, as with kubectl. */
static void
test_duplicate_later_wins(void **state)
{
	struct fixture	*f = *state;
	struct set	 s = { .n = 0 };

	add(&s, pod("default", "p", "old", NULL, NULL));
	add(&s, service("default", "s", SERVICE_HEADLESS, "new", NULL, 80));
	add(&s, pod("default", "p", "new", NULL, NULL));
	apply(f, &s);
	assert_int_equal(store_count(f->st, OBJECT_POD), 1);
	assert_string_equal(object_label(store_find(f->st, OBJECT_POD,
	    "default", "p"), "app"), "new");
	assert_int_equal(one_slice(f, "default", "s")->nendpoints, 1);
}

/* A manifest slice already using the generated name keeps it. */
static void
test_generated_name_taken(void **state)
{
	struct fixture		*f = *state;
	struct set		 s = { .n = 0 };
	struct object		*mine;
	char			*name;

	add(&s, service("default", "s", SERVICE_HEADLESS, "x", NULL, 80));
	apply(f, &s);
	name = xstrdup(slices_of(f, "default", "s").v[0]->name);
	add(&s, service("default", "s", SERVICE_HEADLESS, "x", NULL, 80));
	mine = add(&s, object_new(OBJECT_ENDPOINTSLICE, "default", name));
	mine->u.slice.service = xstrdup("other");
	mine->u.slice.family = AF_INET;
	apply(f, &s);
	assert_int_equal(slices_of(f, "default", "s").n, 0);
	assert_int_equal(slices_of(f, "default", "other").n, 1);
	assert_int_equal(store_count(f->st, OBJECT_ENDPOINTSLICE), 1);
	free(name);
}

/* Each test gets a fresh store and simulation. */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_petset_example),
		TEST(test_hostname_needs_subdomain),
		TEST(test_not_ready_pod),
		TEST(test_clusterip_stable),
		TEST(test_clusterip_yields_to_explicit),
		TEST(test_dual_stack),
		TEST(test_manifest_slice_wins),
		TEST(test_pod_removed),
		TEST(test_namespaces),
		TEST(test_no_selector_no_slice),
		TEST(test_target_ports),
		TEST(test_slice_names),
		TEST(test_slice_name_long),
		TEST(test_pod_cidr_full),
		TEST(test_duplicate_later_wins),
		TEST(test_generated_name_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
