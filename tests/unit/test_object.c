/* test_object.c -- lifecycle, equality, selectors and addresses of the slim structs. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "object.h"
#include "xmalloc.h"

static struct object_label *
labels(size_t n, ...)
{
	struct object_label	*l = xcalloc(n, sizeof(*l));
	va_list			 ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		l[i].key = xstrdup(va_arg(ap, const char *));
		l[i].value = xstrdup(va_arg(ap, const char *));
	}
	va_end(ap);
	return l;
}

static void
labels_free(struct object_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static struct object_ip
ip(const char *s)
{
	struct object_ip	a;

	assert_int_equal(object_ip_parse(s, &a), 0);
	return a;
}

static struct object *
make_service(void)
{
	struct object		*o = object_new(OBJECT_SERVICE, "default",
				    "web");
	struct object_service	*svc = &o->u.svc;

	o->labels = labels(1, "app", "web");
	o->nlabels = 1;
	o->annotations = labels(1, "note", "x");
	o->nannotations = 1;
	o->resource_version = xstrdup("42");
	svc->type = SERVICE_CLUSTERIP;
	svc->ips = xcalloc(2, sizeof(*svc->ips));
	svc->ips[0] = ip("10.96.0.10");
	svc->ips[1] = ip("fd00::10");
	svc->nips = 2;
	svc->ports = xcalloc(2, sizeof(*svc->ports));
	svc->ports[0] = (struct object_port){ xstrdup("http"), 80,
	    IPPROTO_TCP, 8080, NULL };
	svc->ports[1] = (struct object_port){ NULL, 53, IPPROTO_UDP, 0,
	    xstrdup("dns") };
	svc->nports = 2;
	svc->selector = labels(1, "app", "web");
	svc->nselector = 1;
	svc->has_selector = true;
	svc->families[0] = AF_INET;
	svc->families[1] = AF_INET6;
	svc->nfamilies = 2;
	svc->dual_stack = true;
	return o;
}

static struct object *
make_slice(void)
{
	struct object		*o = object_new(OBJECT_ENDPOINTSLICE, "default",
				    "web-abc");
	struct object_slice	*sl = &o->u.slice;

	sl->service = xstrdup("web");
	sl->family = AF_INET;
	sl->endpoints = xcalloc(2, sizeof(*sl->endpoints));
	sl->nendpoints = 2;
	sl->endpoints[0].first = ip("10.244.1.5");
	sl->endpoints[0].naddrs = 1;
	sl->endpoints[0].ready = true;
	sl->endpoints[0].hostname = xstrdup("web-0");
	object_endpoint_set_pod_name(&sl->endpoints[0], xstrdup("web-0"));
	sl->endpoints[1].first = ip("10.244.2.7");
	sl->endpoints[1].naddrs = 1;
	sl->ports = xcalloc(1, sizeof(*sl->ports));
	sl->ports[0] = (struct object_port){ xstrdup("web"), 80, IPPROTO_TCP,
	    0, NULL };
	sl->nports = 1;
	return o;
}

static struct object *
make_pod(void)
{
	struct object		*o = object_new(OBJECT_POD, "default", "web-0");
	struct object_pod	*pod = &o->u.pod;

	pod->hostname = xstrdup("web-0");
	pod->subdomain = xstrdup("nginx");
	pod->ips = xcalloc(1, sizeof(*pod->ips));
	pod->ips[0] = ip("10.244.1.5");
	pod->nips = 1;
	pod->ports = xcalloc(1, sizeof(*pod->ports));
	pod->ports[0] = (struct object_port){ xstrdup("web"), 80, IPPROTO_TCP,
	    0, NULL };
	pod->nports = 1;
	pod->phase = POD_RUNNING;
	pod->has_status = true;
	pod->ready = true;
	return o;
}

static struct object *
make_namespace(void)
{
	struct object	*o = object_new(OBJECT_NAMESPACE, NULL, "kube-system");

	o->labels = labels(1, "kubernetes.io/metadata.name", "kube-system");
	o->nlabels = 1;
	return o;
}

/* Each kind survives dup and free, and a dup equals its original. */
static void
test_dup_equal(void **state)
{
	struct object	*(*makers[])(void) = { make_service, make_slice,
			    make_pod, make_namespace };

	for (size_t i = 0; i < sizeof(makers) / sizeof(*makers); i++) {
		struct object	*a = makers[i](), *b = object_dup(a);

		assert_true(object_equal(a, b));
		assert_true(object_equal(b, a));
		/* Deep: no pointer shared. */
		assert_ptr_not_equal(a->name, b->name);
		assert_string_equal(a->name, b->name);
		object_free(a);
		assert_true(b->name[0] != '\0');
		object_free(b);
	}
	object_free(NULL);
}

static void
test_equal_ignores_resource_version(void **state)
{
	struct object	*a = make_service(), *b = object_dup(a);

	free(b->resource_version);
	b->resource_version = xstrdup("43");
	assert_true(object_equal(a, b));
	object_free(a);
	object_free(b);
}

/* Every field DNS serves from makes two objects differ. */
static void
test_service_differs(void **state)
{
	struct object	*a = make_service(), *b;

	b = object_dup(a);
	b->u.svc.ips[1] = ip("fd00::11");
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	b->u.svc.ports[0].port = 81;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	free(b->u.svc.ports[1].target_name);
	b->u.svc.ports[1].target_name = NULL;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	b->u.svc.type = SERVICE_HEADLESS;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	b->u.svc.nfamilies = 1;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	free(b->labels[0].value);
	b->labels[0].value = xstrdup("other");
	assert_false(object_equal(a, b));
	object_free(b);
	object_free(a);
}

static void
test_slice_differs(void **state)
{
	struct object	*a = make_slice(), *b = object_dup(a);

	b->u.slice.endpoints[1].ready = true;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	free(b->u.slice.endpoints[0].hostname);
	b->u.slice.endpoints[0].hostname = NULL;
	assert_false(object_equal(a, b));
	object_free(b);
	object_free(a);
}

/* The first address inline, the others apart: each counts, copies are deep. */
static void
test_slice_addresses(void **state)
{
	struct object		*a = make_slice(), *b;
	struct object_ip	 three[3] = { ip("10.244.1.5"), ip("10.244.1.6"),
				    ip("10.244.1.7") };
	struct object_endpoint	*e = &a->u.slice.endpoints[0];

	assert_true(object_endpoint_set_addrs(e, three, 3));
	assert_int_equal(e->naddrs, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(object_ip_equal(object_endpoint_addr(e, i),
		    &three[i]));
	b = object_dup(a);
	assert_true(object_equal(a, b));
	assert_ptr_not_equal(b->u.slice.endpoints[0].rest, e->rest);
	b->u.slice.endpoints[0].rest->more[1] = ip("10.244.1.8");
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	assert_true(object_endpoint_set_addrs(&b->u.slice.endpoints[0], three,
	    2));
	assert_false(object_equal(a, b));
	object_free(b);
	/* Back to one: only the pod name stays apart, and goes when dropped. */
	assert_true(object_endpoint_set_addrs(e, three, 1));
	assert_string_equal(object_endpoint_pod_name(e), "web-0");
	assert_true(object_ip_equal(object_endpoint_addr(e, 0), &three[0]));
	object_drop_pod_names(a);
	assert_null(e->rest);
	assert_null(object_endpoint_pod_name(e));
	object_free(a);
}

static void
test_pod_differ(void **state)
{
	struct object	*a, *b;

	a = make_pod();
	b = object_dup(a);
	b->u.pod.deleting = true;
	assert_false(object_equal(a, b));
	object_free(b);
	b = object_dup(a);
	b->u.pod.ips[0] = ip("10.244.1.6");
	assert_false(object_equal(a, b));
	object_free(b);
	object_free(a);

	a = make_pod();
	b = make_namespace();
	assert_false(object_equal(a, b));
	object_free(a);
	object_free(b);
}

static void
test_new_and_names(void **state)
{
	struct object	*o = object_new(OBJECT_NAMESPACE, NULL, "prod");

	assert_null(o->ns);
	assert_string_equal(o->name, "prod");
	assert_null(o->labels);
	assert_int_equal(o->nlabels, 0);
	object_free(o);
	assert_string_equal(object_kind_name(OBJECT_SERVICE), "Service");
	assert_string_equal(object_kind_name(OBJECT_ENDPOINTSLICE),
	    "EndpointSlice");
	assert_string_equal(object_kind_name(OBJECT_POD), "Pod");
	assert_string_equal(object_kind_name(OBJECT_NAMESPACE), "Namespace");
}

static void
test_selector(void **state)
{
	struct object_label	*sel = labels(2, "app", "web", "tier", "front");
	struct object_label	*lab = labels(3, "tier", "front", "x", "y",
				    "app", "web");
	struct object_label	*other = labels(2, "app", "web", "tier",
				    "back");
	struct object		*o = make_service();

	assert_true(object_selector_matches(sel, 2, lab, 3));
	assert_true(object_selector_matches(sel, 1, lab, 3));
	assert_false(object_selector_matches(sel, 2, other, 2));
	assert_false(object_selector_matches(sel, 2, lab, 0));
	/* An empty selector selects nothing (a service without endpoints). */
	assert_false(object_selector_matches(sel, 0, lab, 3));
	assert_string_equal(object_label(o, "app"), "web");
	assert_null(object_label(o, "tier"));
	object_free(o);
	labels_free(sel, 2);
	labels_free(lab, 3);
	labels_free(other, 2);
}

static void
test_ip(void **state)
{
	static const struct {
		const char	*in;
		int		 family;
		const char	*out;
	} good[] = {
		{ "10.96.0.10", AF_INET, "10.96.0.10" },
		{ "0.0.0.0", AF_INET, "0.0.0.0" },
		{ "255.100.99.9", AF_INET, "255.100.99.9" },
		{ "1.20.200.0", AF_INET, "1.20.200.0" },
		{ "fd00:10:96::a", AF_INET6, "fd00:10:96::a" },
		{ "FD00:0:0:0:0:0:0:1", AF_INET6, "fd00::1" },
		{ "::ffff:10.0.0.1", AF_INET6, "::ffff:10.0.0.1" },
	};
	static const char *const bad[] = { "", "10.0.0", "10.0.0.256",
	    "10.0.0.1 ", "fd00::g", "web", "1.2.3.4/32" };
	struct object_ip	 a, b;
	char			 buf[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		assert_int_equal(object_ip_parse(good[i].in, &a), 0);
		assert_int_equal(a.family, good[i].family);
		assert_string_equal(object_ip_format(&a, buf, sizeof(buf)),
		    good[i].out);
		assert_int_equal(object_ip_parse(buf, &b), 0);
		assert_true(object_ip_equal(&a, &b));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(object_ip_parse(bad[i], &a), -1);
	a = ip("10.0.0.1");
	b = ip("10.0.0.2");
	assert_false(object_ip_equal(&a, &b));
	assert_int_equal(a.addr[3], 1);
	b = ip("::ffff:10.0.0.1");
	assert_false(object_ip_equal(&a, &b));
	/* Too small a buffer gives "", as inet_ntop's ENOSPC did. */
	a = ip("255.255.255.255");
	assert_string_equal(object_ip_format(&a, buf, 15), "");
	assert_string_equal(object_ip_format(&a, buf, 16), "255.255.255.255");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup_equal),
		cmocka_unit_test(test_equal_ignores_resource_version),
		cmocka_unit_test(test_slice_addresses),
		cmocka_unit_test(test_pod_differ),
		cmocka_unit_test(test_service_differs),
		cmocka_unit_test(test_slice_differs),
		cmocka_unit_test(test_new_and_names),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
