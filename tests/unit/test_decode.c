/* test_decode.c -- API JSON bodies from tests/data/api to structs, and the exact errors for bad ones. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "decode.h"
#include "jdoc.h"
#include "object.h"

/* The document every test parses into, and the file text it borrows. */
static struct jdoc	*doc;
static char		*text;

static const struct jdoc_val *
parse_text(const char *s)
{
	char	err[256];

	return jdoc_parse(doc, s, strlen(s), NULL, err, sizeof(err));
}

static const struct jdoc_val *
load(const char *file)
{
	char			 path[512];
	FILE			*f;
	size_t			 n;
	const struct jdoc_val	*json;

	snprintf(path, sizeof(path), "%s/api/%s", TESTDATA, file);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot read %s", path);
	free(text);
	text = malloc(1 << 20);
	n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	if ((json = parse_text(text)) == NULL)
		fail_msg("cannot parse %s", path);
	return json;
}

static int
setup(void **state)
{
	doc = jdoc_new();
	return 0;
}

static int
teardown(void **state)
{
	jdoc_free(doc);
	free(text);
	return 0;
}

/* Decodes file (or its item when index >= 0) and expects success. */
static struct object *
decode_file(const char *file, const char *hint)
{
	const struct jdoc_val	*json = load(file);
	struct object		*obj;
	char			 err[256];
	enum decode_result	 r;

	r = decode_object(json, hint, &obj, err, sizeof(err));
	if (r != DECODE_OK)
		fail_msg("%s: %s", file, err);
	return obj;
}

static void
assert_ip(const struct object_ip *ip, const char *want)
{
	char	buf[64];

	assert_string_equal(object_ip_format(ip, buf, sizeof(buf)), want);
}

static void
assert_port(const struct object_port *p, const char *name, int port,
    int proto)
{
	if (name == NULL)
		assert_null(p->name);
	else
		assert_string_equal(p->name, name);
	assert_int_equal(p->port, port);
	assert_int_equal(p->proto, proto);
}

static void
test_namespace(void **state)
{
	struct object	*o = decode_file("namespace.json", NULL);

	assert_int_equal(o->kind, OBJECT_NAMESPACE);
	assert_null(o->ns);
	assert_string_equal(o->name, "kube-system");
	assert_string_equal(o->resource_version, "4");
	assert_string_equal(object_label(o, "kubernetes.io/metadata.name"),
	    "kube-system");
	object_free(o);
}

static void
test_service_clusterip(void **state)
{
	struct object		*o = decode_file("service-kube-dns.json", NULL);
	struct object_service	*svc = &o->u.svc;

	assert_int_equal(o->kind, OBJECT_SERVICE);
	assert_string_equal(o->ns, "kube-system");
	assert_string_equal(o->name, "kube-dns");
	/* object_slim: nothing reads a service's version. */
	assert_null(o->resource_version);
	assert_int_equal(svc->type, SERVICE_CLUSTERIP);
	assert_int_equal(svc->nips, 1);
	assert_ip(&svc->ips[0], "10.96.0.10");
	assert_int_equal(svc->nports, 3);
	assert_port(&svc->ports[0], "dns", 53, IPPROTO_UDP);
	assert_port(&svc->ports[1], "dns-tcp", 53, IPPROTO_TCP);
	assert_port(&svc->ports[2], "metrics", 9153, IPPROTO_TCP);
	assert_int_equal(svc->ports[2].target_port, 9153);
	assert_null(svc->ports[2].target_name);
	assert_true(svc->has_selector);
	assert_int_equal(svc->nselector, 1);
	assert_string_equal(svc->selector[0].key, "k8s-app");
	assert_string_equal(svc->selector[0].value, "kube-dns");
	assert_int_equal(svc->nfamilies, 1);
	assert_int_equal(svc->families[0], AF_INET);
	assert_false(svc->dual_stack);
	assert_false(svc->publish_not_ready);
	/* Labels come sorted by key, whatever the order. */
	assert_int_equal(o->nlabels, 3);
	assert_string_equal(o->labels[0].key, "k8s-app");
	assert_string_equal(o->labels[2].key, "kubernetes.io/name");
	/* Kept only when petdns reads them (object_slim): none of a Service's. */
	assert_int_equal(o->nannotations, 0);
	assert_null(o->annotations);
	assert_null(o->uid);
	object_free(o);
}

static void
test_service_headless(void **state)
{
	struct object	*o = decode_file("service-headless.json", NULL);

	assert_int_equal(o->u.svc.type, SERVICE_HEADLESS);
	assert_int_equal(o->u.svc.nips, 0);
	assert_null(o->u.svc.ips);
	assert_int_equal(o->u.svc.nports, 1);
	assert_port(&o->u.svc.ports[0], "web", 80, IPPROTO_TCP);
	assert_true(o->u.svc.has_selector);
	assert_int_equal(o->u.svc.families[0], AF_INET);
	/* Not kept: a whole last-applied configuration. */
	assert_int_equal(o->nannotations, 0);
	assert_int_equal(o->nlabels, 1);
	object_free(o);
}

static void
test_service_externalname(void **state)
{
	struct object	*o = decode_file("service-externalname.json", NULL);

	assert_int_equal(o->u.svc.type, SERVICE_EXTERNALNAME);
	/* The trailing dot of the absolute name is dropped. */
	assert_string_equal(o->u.svc.external_name, "search.example.com");
	assert_int_equal(o->u.svc.nips, 0);
	assert_false(o->u.svc.has_selector);
	assert_int_equal(o->u.svc.nports, 1);
	object_free(o);
}

static void
test_service_dualstack(void **state)
{
	struct object		*o = decode_file("service-dualstack.json",
				    NULL);
	struct object_service	*svc = &o->u.svc;

	assert_int_equal(svc->type, SERVICE_CLUSTERIP);	/* NodePort */
	assert_int_equal(svc->nips, 2);
	assert_ip(&svc->ips[0], "fd00:10:96::4c2");
	assert_ip(&svc->ips[1], "10.96.112.7");
	assert_int_equal(svc->nfamilies, 2);
	assert_int_equal(svc->families[0], AF_INET6);
	assert_int_equal(svc->families[1], AF_INET);
	assert_true(svc->dual_stack);
	assert_true(svc->publish_not_ready);
	assert_port(&svc->ports[0], "http", 80, IPPROTO_TCP);
	assert_string_equal(svc->ports[0].target_name, "http");
	assert_int_equal(svc->ports[0].target_port, 0);
	assert_port(&svc->ports[1], NULL, 9999, IPPROTO_SCTP);
	assert_int_equal(svc->nselector, 2);
	assert_string_equal(svc->selector[1].key, "tier");
	object_free(o);
}

/* Before dual-stack: only spec.clusterIP, families derived from it. */
static void
test_service_old(void **state)
{
	struct object	*o = decode_file("service-old.json", NULL);

	/* A LoadBalancer serves DNS as a ClusterIP service does. */
	assert_int_equal(o->u.svc.type, SERVICE_CLUSTERIP);
	assert_int_equal(o->u.svc.nips, 1);
	assert_ip(&o->u.svc.ips[0], "10.0.171.239");
	assert_int_equal(o->u.svc.nfamilies, 1);
	assert_int_equal(o->u.svc.families[0], AF_INET);
	assert_false(o->u.svc.has_selector);
	assert_port(&o->u.svc.ports[0], NULL, 8080, IPPROTO_TCP);
	object_free(o);
}

static void
test_slice(void **state)
{
	struct object		*o = decode_file("endpointslice.json", NULL);
	struct object_slice	*sl = &o->u.slice;

	assert_int_equal(o->kind, OBJECT_ENDPOINTSLICE);
	assert_string_equal(o->name, "nginx-7xkqp");
	assert_string_equal(sl->service, "nginx");
	assert_int_equal(sl->family, AF_INET);
	assert_int_equal(sl->nendpoints, 3);
	assert_int_equal(sl->endpoints[0].naddrs, 1);
	assert_ip(object_endpoint_addr(&sl->endpoints[0], 0), "10.244.1.5");
	assert_true(sl->endpoints[0].ready);
	assert_string_equal(sl->endpoints[0].hostname, "web-0");
	assert_string_equal(object_endpoint_pod_name(&sl->endpoints[0]), "web-0");
	assert_false(sl->endpoints[1].ready);
	assert_string_equal(sl->endpoints[1].hostname, "web-1");
	/* Empty conditions: ready. A Node targetRef names no pod. */
	assert_true(sl->endpoints[2].ready);
	assert_null(sl->endpoints[2].hostname);
	assert_null(object_endpoint_pod_name(&sl->endpoints[2]));
	assert_int_equal(sl->nports, 1);
	assert_port(&sl->ports[0], "web", 80, IPPROTO_TCP);
	/* What petdns reads stays (the programming metric's trigger time). */
	assert_string_equal(object_annotation(o,
	    "endpoints.kubernetes.io/last-change-trigger-time"),
	    "2024-05-03T11:21:02Z");
	assert_int_equal(o->nlabels, 0);
	assert_null(o->controller_uid);
	object_free(o);
}

static void
test_slice_v1beta1(void **state)
{
	struct object		*o = decode_file("endpointslice-v1beta1.json",
				    NULL);
	struct object_slice	*sl = &o->u.slice;

	assert_string_equal(o->ns, "kube-system");
	assert_string_equal(sl->service, "kube-dns");
	assert_int_equal(sl->nendpoints, 2);
	assert_true(sl->endpoints[0].ready);
	/* "ready": null means ready. */
	assert_true(sl->endpoints[1].ready);
	assert_string_equal(object_endpoint_pod_name(&sl->endpoints[1]),
	    "coredns-74ff55c5b-x8kcm");
	assert_int_equal(sl->nports, 3);
	assert_port(&sl->ports[1], "dns", 53, IPPROTO_UDP);
	object_free(o);
}

static void
test_slice_ipv6(void **state)
{
	struct object		*o = decode_file("endpointslice-ipv6.json",
				    NULL);
	struct object_slice	*sl = &o->u.slice;

	assert_int_equal(sl->family, AF_INET6);
	assert_ip(object_endpoint_addr(&sl->endpoints[0], 0), "fd00:10:244:1::5");
	/* An empty name is no name; a port without number ("all") is out. */
	assert_int_equal(sl->nports, 2);
	assert_port(&sl->ports[0], "http", 8080, IPPROTO_TCP);
	assert_port(&sl->ports[1], NULL, 9999, IPPROTO_SCTP);
	object_free(o);
}

static void
test_slice_fqdn(void **state)
{
	struct object	*o = decode_file("endpointslice-fqdn.json", NULL);

	assert_int_equal(o->u.slice.family, 0);
	assert_int_equal(o->u.slice.nendpoints, 0);
	assert_null(o->u.slice.service);
	assert_int_equal(o->u.slice.nports, 1);
	object_free(o);
}

static void
test_pod(void **state)
{
	struct object		*o = decode_file("pod.json", NULL);
	struct object_pod	*pod = &o->u.pod;

	assert_int_equal(o->kind, OBJECT_POD);
	assert_string_equal(o->name, "web-0");
	assert_string_equal(pod->hostname, "web-0");
	assert_string_equal(pod->subdomain, "nginx");
	assert_int_equal(pod->phase, POD_RUNNING);
	assert_true(pod->has_status);
	assert_true(pod->ready);
	assert_false(pod->deleting);
	assert_int_equal(pod->nips, 2);
	assert_ip(&pod->ips[0], "10.244.1.5");
	assert_ip(&pod->ips[1], "fd00:10:244:1::5");
	/* Ports of every container, in order. */
	assert_int_equal(pod->nports, 3);
	assert_port(&pod->ports[0], "web", 80, IPPROTO_TCP);
	assert_port(&pod->ports[1], NULL, 9113, IPPROTO_TCP);
	assert_port(&pod->ports[2], "syslog", 514, IPPROTO_UDP);
	object_free(o);
}

static void
test_petset(void **state)
{
	struct object		*o = decode_file("petset.json", NULL);
	struct object_petset	*ps = &o->u.petset;

	assert_int_equal(o->kind, OBJECT_PETSET);
	assert_string_equal(o->ns, "data");
	assert_string_equal(o->uid, "5d2f0c84-7f4e-4f5e-9a53-0c3d1b7f2a11");
	assert_string_equal(ps->api_version, "petdns.io/v1alpha1");
	assert_int_equal(ps->replicas, 3);
	assert_int_equal(ps->ordinals_start, 5);
	assert_string_equal(ps->service_name, "db");
	/* matchLabels wins over the template's labels. */
	assert_int_equal(ps->nselector, 2);
	assert_int_equal(ps->nclaims, 2);
	assert_string_equal(ps->claim_names[0], "data");
	assert_string_equal(ps->claim_names[1], "wal");
	assert_non_null(strstr(ps->pod_template, "postgres:16"));
	assert_int_equal(ps->generation, 3);
	assert_int_equal(ps->status.observed_generation, 2);
	assert_int_equal(ps->status.replicas, 2);
	assert_int_equal(ps->status.ready_replicas, 1);
	assert_false(ps->deleting);
	object_free(o);
}

/* Two controllers (invalid, but seen): the first wins, even without a uid, and nothing leaks. */
static void
test_first_controller(void **state)
{
	const struct jdoc_val	*json = parse_text("{\"kind\":\"Pod\","
	    "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-0\","
	    "\"namespace\":\"default\",\"ownerReferences\":["
	    "{\"kind\":\"PetSet\",\"name\":\"first\",\"controller\":true},"
	    "{\"kind\":\"ReplicaSet\",\"name\":\"second\",\"uid\":\"u2\","
	    "\"controller\":true}]},\"spec\":{\"containers\":[]}}");
	struct object		*o = NULL;
	char			 err[256];

	assert_non_null(json);
	assert_int_equal(decode_object(json, NULL, &o, err, sizeof(err)),
	    DECODE_OK);
	assert_string_equal(o->controller_kind, "PetSet");
	assert_string_equal(o->controller_name, "first");
	assert_null(o->controller_uid);
	object_free(o);
}

static void
test_pvc_and_owner(void **state)
{
	struct object	*pvc = decode_file("pvc.json", NULL);
	struct object	*pod = decode_file("pod-pet.json", NULL);

	assert_int_equal(pvc->kind, OBJECT_PVC);
	assert_true(pvc->u.pvc.deleting);
	assert_null(pvc->controller_uid);
	/* Only the ownerReference marked controller counts. */
	assert_string_equal(pod->controller_kind, "PetSet");
	assert_string_equal(pod->controller_name, "db");
	assert_string_equal(pod->controller_uid,
	    "5d2f0c84-7f4e-4f5e-9a53-0c3d1b7f2a11");
	assert_int_equal(pod->u.pod.phase, POD_PENDING);
	object_free(pvc);
	object_free(pod);
}

static void
test_pod_terminating_pending(void **state)
{
	struct object	*o = decode_file("pod-terminating.json", NULL);

	assert_true(o->u.pod.deleting);
	assert_false(o->u.pod.ready);
	assert_int_equal(o->u.pod.nips, 1);	/* podIP, no podIPs */
	assert_ip(&o->u.pod.ips[0], "10.244.2.7");
	assert_null(o->u.pod.hostname);
	assert_int_equal(o->u.pod.nports, 0);
	object_free(o);

	o = decode_file("pod-pending.json", NULL);
	assert_int_equal(o->u.pod.phase, POD_PENDING);
	assert_true(o->u.pod.has_status);
	assert_false(o->u.pod.ready);
	assert_int_equal(o->u.pod.nips, 0);
	object_free(o);
}

/* A LIST body: items lack kind and apiVersion; the caller's hint names them. */
static void
test_list_items_with_hint(void **state)
{
	const struct jdoc_val	*list = load("servicelist.json"), *items;
	struct object		*o;
	char			 err[256];

	assert_non_null(items = jdoc_get(list, "items"));
	assert_int_equal(items->n, 2);
	assert_int_equal(decode_object(jdoc_at(items, 0),
	    NULL, &o, err, sizeof(err)), DECODE_ERROR);
	assert_null(o);
	assert_string_equal(err, "kind: missing");
	assert_int_equal(decode_object(jdoc_at(items, 0),
	    "Service", &o, err, sizeof(err)), DECODE_OK);
	assert_string_equal(o->name, "kubernetes");
	assert_ip(&o->u.svc.ips[0], "10.96.0.1");
	assert_int_equal(o->u.svc.ports[0].target_port, 6443);
	object_free(o);
	assert_int_equal(decode_object(jdoc_at(items, 1),
	    "Service", &o, err, sizeof(err)), DECODE_OK);
	assert_int_equal(o->u.svc.type, SERVICE_HEADLESS);
	object_free(o);
}

static void
test_unsupported(void **state)
{
	static const struct {
		const char	*file;
		const char	*err;
	} cases[] = {
		{ "deployment.json", "unsupported kind Deployment" },
		{ "knative-service.json",
		    "unsupported kind Service "
		    "(apiVersion serving.knative.dev/v1)" },
		{ "servicelist.json", "unsupported kind ServiceList" },
	};
	const struct jdoc_val	*json;
	struct object		*o;
	char			 err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json = load(cases[i].file);
		assert_int_equal(decode_object(json, NULL, &o, err,
		    sizeof(err)), DECODE_UNSUPPORTED);
		assert_null(o);
		assert_string_equal(err, cases[i].err);
	}
}

#define SVC(spec) "{\"kind\":\"Service\",\"apiVersion\":\"v1\"," \
	"\"metadata\":{\"name\":\"web\"},\"spec\":" spec "}"
#define SLICE(body) "{\"kind\":\"EndpointSlice\",\"apiVersion\":" \
	"\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"web-1\"}," body "}"
#define EP "{\"addresses\":[\"10.0.0.1\"]},"
#define POD(body) "{\"kind\":\"Pod\",\"metadata\":" \
	"{\"name\":\"web-0\"}," body "}"
#define PETSET(spec) "{\"kind\":\"PetSet\",\"apiVersion\":" \
	"\"petdns.io/v1alpha1\",\"metadata\":{\"name\":\"db\"}," \
	"\"spec\":" spec "}"
/* 144 bytes, a valid label key: paths in decode.c are cut at 127. */
#define KEY10 "example.io"
#define LONG_KEY KEY10 KEY10 KEY10 KEY10 KEY10 KEY10 KEY10 KEY10 KEY10 KEY10 \
	KEY10 KEY10 KEY10 KEY10 "/key"

static const struct {
	const char	*json;
	const char	*err;
} decode_errors[] = {
	{ SVC("{\"ports\":[{\"port\":80},{\"port\":\"80\"}]}"),
	    "spec.ports[1].port: not an integer" },
	{ SVC("{\"ports\":[{\"port\":80.0}]}"),
	    "spec.ports[0].port: not an integer" },
	{ SVC("{\"ports\":[{\"port\":0}]}"),
	    "spec.ports[0].port: 0 out of range 1-65535" },
	{ SVC("{\"ports\":[{\"port\":70000}]}"),
	    "spec.ports[0].port: 70000 out of range 1-65535" },
	{ SVC("{\"ports\":[{\"name\":\"x\"}]}"),
	    "spec.ports[0].port: missing" },
	{ SVC("{\"ports\":[{\"port\":53,\"protocol\":\"udp\"}]}"),
	    "spec.ports[0].protocol: unknown protocol \"udp\"" },
	{ SVC("{\"ports\":[{\"port\":53,\"targetPort\":true}]}"),
	    "spec.ports[0].targetPort: not an integer or a string" },
	{ SVC("{\"ports\":[{\"port\":53,\"targetPort\":0}]}"),
	    "spec.ports[0].targetPort: 0 out of range 1-65535" },
	{ SVC("{\"ports\":{\"port\":80}}"), "spec.ports: not an array" },
	{ SVC("{\"ports\":[\"80\"]}"), "spec.ports[0]: not an object" },
	{ SVC("{\"ports\":[{\"port\":80,\"name\":7}]}"),
	    "spec.ports[0].name: not a string" },
	{ SVC("{\"ports\":[{\"port\":80,\"name\":\"Web\"}]}"),
	    "spec.ports[0].name: \"Web\" is not a valid port name" },
	{ SVC("{\"ports\":[{\"port\":80,\"name\":\"8080\"}]}"),
	    "spec.ports[0].name: \"8080\" is not a valid port name" },
	{ SVC("{\"ports\":[{\"port\":80,\"name\":\"a--b\"}]}"),
	    "spec.ports[0].name: \"a--b\" is not a valid port name" },
	{ SVC("{\"ports\":[{\"port\":80,"
	    "\"name\":\"a-very-long-name\"}]}"),
	    "spec.ports[0].name: \"a-very-long-name\" is not a valid port "
	    "name" },
	{ SVC("{\"type\":\"ExternalName\"}"), "spec.externalName: missing" },
	{ SVC("{\"type\":\"ExternalName\",\"externalName\":\"a..b\"}"),
	    "spec.externalName: \"a..b\" is not a valid DNS subdomain" },
	{ SVC("{\"type\":\"ExternalName\",\"externalName\":\".\"}"),
	    "spec.externalName: \".\" is not a valid DNS subdomain" },
	{ SVC("{\"type\":\"Weird\"}"), "spec.type: unknown type \"Weird\"" },
	{ SVC("{\"clusterIPs\":[\"10.0.0.300\"]}"),
	    "spec.clusterIPs[0]: bad IP address \"10.0.0.300\"" },
	{ SVC("{\"clusterIPs\":[\"10.0.0.1\",7]}"),
	    "spec.clusterIPs[1]: not a string" },
	{ SVC("{\"clusterIPs\":[\"10.0.0.1\",\"fd00::1\",\"10.0.0.2\"]}"),
	    "spec.clusterIPs: more than two addresses" },
	{ SVC("{\"clusterIP\":5}"), "spec.clusterIP: not a string" },
	{ SVC("{\"clusterIP\":\"web\"}"),
	    "spec.clusterIP: bad IP address \"web\"" },
	{ SVC("{\"ipFamilies\":[\"IPv5\"]}"),
	    "spec.ipFamilies[0]: unknown family \"IPv5\"" },
	{ SVC("{\"selector\":{\"app\":true}}"),
	    "spec.selector.app: not a string" },
	{ SVC("{\"publishNotReadyAddresses\":\"yes\"}"),
	    "spec.publishNotReadyAddresses: not a boolean" },
	{ SVC("[]"), "spec: not an object" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"}}",
	    "spec: missing" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"Web\"},\"spec\":{}}",
	    "metadata.name: \"Web\" is not a valid DNS label" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"1web\"},\"spec\":{}}",
	    "metadata.name: \"1web\" is not a valid DNS label" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"namespace\":\"Prod_1\"},\"spec\":{}}",
	    "metadata.namespace: \"Prod_1\" is not a valid DNS label" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"labels\":{\"a\":\"b\",\"c\":1}},\"spec\":{}}",
	    "metadata.labels.c: not a string" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"namespace\":\"x\"}}",
	    "metadata.name: missing" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"\"}}",
	    "metadata.name: missing" },
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":5}}",
	    "metadata.name: not a string" },
	{ "{\"kind\":\"Service\",\"metadata\":\"web\"}",
	    "metadata: not an object" },
	{ "{\"kind\":\"Service\"}", "metadata.name: missing" },
	{ "{\"kind\":5}", "kind: not a string" },
	{ "{\"metadata\":{\"name\":\"web\"}}", "kind: missing" },
	{ "[{\"kind\":\"Service\"}]", "not an object" },
	{ "{\"kind\":\"Service\",\"apiVersion\":1}",
	    "apiVersion: not a string" },
	{ SLICE("\"endpoints\":[]"), "addressType: missing" },
	{ SLICE("\"addressType\":\"IPv5\""),
	    "addressType: unknown type \"IPv5\"" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":["
	    "{\"addresses\":[\"fd00::1\"]}]"),
	    "endpoints[0].addresses[0]: \"fd00::1\" is not an IPv4 address" },
	{ SLICE("\"addressType\":\"IPv6\",\"endpoints\":["
	    "{\"addresses\":[\"fd00::1\"]},"
	    "{\"addresses\":[\"fd00::2\",\"10.0.0.1\"]}]"),
	    "endpoints[1].addresses[1]: \"10.0.0.1\" is not an IPv6 address" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":["
	    "{\"addresses\":[\"nope\"]}]"),
	    "endpoints[0].addresses[0]: bad IP address \"nope\"" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[{}]"),
	    "endpoints[0].addresses: missing" },
	/* A two-digit index, spelled without printf. */
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP EP EP EP EP
	    EP EP EP EP EP "{\"addresses\":[\"nope\"]}]"),
	    "endpoints[10].addresses[0]: bad IP address \"nope\"" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":["
	    "{\"addresses\":[\"10.0.0.1\"],"
	    "\"conditions\":{\"ready\":\"true\"}}]"),
	    "endpoints[0].conditions.ready: not a boolean" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":["
	    "{\"addresses\":[\"10.0.0.1\"],\"hostname\":\"web_0\"}]"),
	    "endpoints[0].hostname: \"web_0\" is not a valid DNS label" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":["
	    "{\"addresses\":[\"10.0.0.1\"],\"targetRef\":\"web-0\"}]"),
	    "endpoints[0].targetRef: not an object" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":\"x\""),
	    "endpoints: not an array" },
	{ SLICE("\"addressType\":\"IPv4\",\"ports\":[{\"port\":\"x\"}]"),
	    "ports[0].port: not an integer" },
	{ POD("\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":80},"
	    "{\"containerPort\":\"81\"}]}]}"),
	    "spec.containers[0].ports[1].containerPort: not an integer" },
	{ POD("\"spec\":{\"containers\":[{},"
	    "{\"ports\":[{\"name\":\"web\"}]}]}"),
	    "spec.containers[1].ports[0].containerPort: missing" },
	{ POD("\"spec\":{\"hostname\":\"Web-0\"}"),
	    "spec.hostname: \"Web-0\" is not a valid DNS label" },
	{ POD("\"spec\":{\"subdomain\":7}"), "spec.subdomain: not a string" },
	{ POD("\"status\":{\"podIPs\":[{\"ip\":\"x\"}]}"),
	    "status.podIPs[0].ip: bad IP address \"x\"" },
	{ POD("\"status\":{\"podIPs\":[{}]}"),
	    "status.podIPs[0].ip: not a string" },
	{ POD("\"status\":{\"podIPs\":[\"10.0.0.1\"]}"),
	    "status.podIPs[0]: not an object" },
	{ POD("\"status\":{\"podIP\":5}"), "status.podIP: not a string" },
	{ POD("\"status\":{\"phase\":1}"), "status.phase: not a string" },
	{ POD("\"status\":{\"conditions\":[{\"type\":\"Ready\","
	    "\"status\":true}]}"),
	    "status.conditions[0].status: not a string" },
	{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"Web\"}}",
	    "metadata.name: \"Web\" is not a valid DNS subdomain" },
	/*
	 * Paths are rendered only for errors, from frames chained through
	 * items past the first and members of members: each level must show.
	 */
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP EP
	    "{\"addresses\":[\"10.0.0.3\",true]}]"),
	    "endpoints[2].addresses[1]: not a string" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP EP
	    "{\"addresses\":[\"10.0.0.3\",\"10.0.0.256\"]}]"),
	    "endpoints[2].addresses[1]: bad IP address \"10.0.0.256\"" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP
	    "{\"addresses\":[\"10.0.0.2\"],\"conditions\":{\"ready\":1}}]"),
	    "endpoints[1].conditions.ready: not a boolean" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP "[]]"),
	    "endpoints[1]: not an object" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP "{}]"),
	    "endpoints[1].addresses: missing" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP EP
	    "{\"addresses\":[\"10.0.0.3\"],"
	    "\"targetRef\":{\"kind\":\"Pod\",\"name\":5}}]"),
	    "endpoints[2].targetRef.name: not a string" },
	{ SLICE("\"addressType\":\"IPv4\",\"endpoints\":[" EP
	    "{\"addresses\":[\"10.0.0.2\"],\"targetRef\":{\"kind\":[]}}]"),
	    "endpoints[1].targetRef.kind: not a string" },
	{ SLICE("\"addressType\":\"IPv4\","
	    "\"ports\":[{\"port\":80},{\"port\":0}]"),
	    "ports[1].port: 0 out of range 1-65535" },
	{ SVC("{\"ipFamilies\":[\"IPv4\",6]}"),
	    "spec.ipFamilies[1]: not a string" },
	{ SVC("{\"ports\":[{\"port\":80},{\"port\":81,\"targetPort\":[]}]}"),
	    "spec.ports[1].targetPort: not an integer or a string" },
	{ POD("\"spec\":{\"containers\":[{},{\"ports\":[{\"containerPort\":80},"
	    "{\"containerPort\":81,\"protocol\":\"ICMP\"}]}]}"),
	    "spec.containers[1].ports[1].protocol: unknown protocol \"ICMP\"" },
	{ POD("\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"x\"}]}"),
	    "status.podIPs[1].ip: bad IP address \"x\"" },
	{ POD("\"status\":{\"conditions\":[{\"type\":\"Ready\"},7]}"),
	    "status.conditions[1]: not an object" },
	{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\","
	    "\"ownerReferences\":[{},{\"controller\":\"yes\"}]}}",
	    "metadata.ownerReferences[1].controller: not a boolean" },
	{ PETSET("{\"template\":{},\"volumeClaimTemplates\":["
	    "{\"metadata\":{\"name\":\"data\"}},{\"metadata\":{}}]}"),
	    "spec.volumeClaimTemplates[1].metadata.name: missing" },
	{ PETSET("{\"ordinals\":{\"start\":-1},\"template\":{}}"),
	    "spec.ordinals.start: -1 is out of range" },
	{ PETSET("{\"template\":{},\"selector\":{\"matchLabels\":{\"a\":1}}}"),
	    "spec.selector.matchLabels.a: not a string" },
	{ PETSET("{\"template\":{\"metadata\":{\"labels\":{\"a\":1}}}}"),
	    "spec.template.metadata.labels.a: not a string" },
	/* A label key may outgrow a path: it is not cut short of err. */
	{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	    "\"labels\":{\"" LONG_KEY "\":1}},\"spec\":{}}",
	    "metadata.labels." LONG_KEY ": not a string" },
};

static void
test_errors(void **state)
{
	const struct jdoc_val	*json;
	struct object		*o;
	char			 err[256];

	for (size_t i = 0; i < sizeof(decode_errors) / sizeof(*decode_errors);
	    i++) {
		json = parse_text(decode_errors[i].json);
		if (json == NULL)
			fail_msg("case %zu: bad JSON in the test", i);
		if (decode_object(json, NULL, &o, err, sizeof(err)) !=
		    DECODE_ERROR)
			fail_msg("case %zu decoded: %s", i,
			    decode_errors[i].json);
		assert_null(o);
		if (strcmp(err, decode_errors[i].err) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			    decode_errors[i].err);
	}
}

/* What DNS does not use is not judged. */
static void
test_lenient(void **state)
{
	static const char *const ok[] = {
		SVC("{\"ipFamilyPolicy\":\"Whatever\",\"sessionAffinity\":7,"
		    "\"ports\":[{\"port\":80,\"nodePort\":\"x\"}]}"),
		SVC("{\"clusterIP\":\"\",\"selector\":{}}"),
		POD("\"status\":{\"phase\":\"Evicted\",\"hostIP\":42}"),
		POD("\"spec\":null,\"status\":null"),
		SLICE("\"addressType\":\"IPv4\",\"endpoints\":null,"
		    "\"ports\":[{\"port\":null}]"),
	};
	const struct jdoc_val	*json;
	struct object		*o;
	char			 err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		json = parse_text(ok[i]);
		assert_non_null(json);
		if (decode_object(json, NULL, &o, err, sizeof(err)) !=
		    DECODE_OK)
			fail_msg("case %zu: %s", i, err);
		assert_string_equal(o->ns, "default");
		if (i == 0)
			assert_false(o->u.svc.dual_stack);
		if (i == 1) {
			assert_int_equal(o->u.svc.nips, 0);
			assert_false(o->u.svc.has_selector);
		}
		if (i == 2)
			assert_int_equal(o->u.pod.phase, POD_UNKNOWN);
		if (i == 3)
			assert_false(o->u.pod.has_status);
		if (i == 4)
			assert_int_equal(o->u.slice.nports, 0);
		object_free(o);
	}
}

static void
test_ident(void **state)
{
	static const struct {
		const char	*json;
		const char	*hint;
		const char	*want;
	} cases[] = {
		{ "{\"kind\":\"PetSet\",\"metadata\":{\"name\":\"web\"}}", NULL,
		    "default/web" },
		{ "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
		    "\"namespace\":\"prod\"}}", NULL, "prod/web" },
		{ "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\"}}",
		    NULL, "prod" },
		{ "{\"metadata\":{\"name\":\"prod\"}}", "Namespace", "prod" },
		{ "{\"kind\":\"ClusterRole\",\"metadata\":{}}", NULL, "?" },
		{ "{\"kind\":\"Service\"}", NULL, "default/?" },
		{ "[1]", NULL, "default/?" },
	};
	const struct jdoc_val	*json;
	char			 buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json = parse_text(cases[i].json);
		assert_string_equal(decode_ident(json, cases[i].hint, buf,
		    sizeof(buf)), cases[i].want);
	}
}

/* The JSON's own kind wins over the hint, which fills in when it is absent. */
static void
test_hint(void **state)
{
	const struct jdoc_val	*json;
	struct object		*o;
	char			 err[256];

	json = parse_text("{\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"prod\",\"namespace\":\"x\"}}");
	assert_int_equal(decode_object(json, "Service", &o, err, sizeof(err)),
	    DECODE_OK);
	assert_int_equal(o->kind, OBJECT_NAMESPACE);
	assert_null(o->ns);
	object_free(o);

	json = parse_text("{\"metadata\":{\"name\":\"x\"}}");
	assert_int_equal(decode_object(json, "ConfigMap", &o, err,
	    sizeof(err)), DECODE_UNSUPPORTED);
	assert_string_equal(err, "unsupported kind ConfigMap");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_petset),
		cmocka_unit_test(test_pvc_and_owner),
		cmocka_unit_test(test_service_clusterip),
		cmocka_unit_test(test_service_headless),
		cmocka_unit_test(test_service_externalname),
		cmocka_unit_test(test_service_dualstack),
		cmocka_unit_test(test_service_old),
		cmocka_unit_test(test_slice),
		cmocka_unit_test(test_slice_v1beta1),
		cmocka_unit_test(test_slice_ipv6),
		cmocka_unit_test(test_slice_fqdn),
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_first_controller),
		cmocka_unit_test(test_pod_terminating_pending),
		cmocka_unit_test(test_list_items_with_hint),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_hint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
