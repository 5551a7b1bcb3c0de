/* test_explain.c -- every cause petdns explains, as tables against tests/data/explain, and the three renderings. */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <json.h>
#include <ldns/ldns.h>

#include "config.h"
#include "decode.h"
#include "dname.h"
#include "explain.h"
#include "jdoc.h"
#include "kubernetes.h"
#include "object.h"
#include "xmalloc.h"
#include "zone.h"

#define SVC	".default.svc.cluster.local."

/* One name: the cause and a stable part of the text that explains it. */
struct explain_case {
	const char		*name;
	const char		*type;	/* NULL: by the name's shape */
	enum explain_cause	 cause;
	const char		*text;
};

static const struct explain_case insecure_cases[] = {
	/* Names that resolve: each record with the objects it came from. */
	{ "web-0.nginx" SVC, NULL, EXPLAIN_RESOLVES,
	  "A 10.244.0.* <- EndpointSlice default/nginx-* endpoint hostname "
	  "web-0 <- Pod default/web-0" },
	{ "api.shop.svc.cluster.local.", NULL, EXPLAIN_RESOLVES,
	  "A 10.96.50.10 <- Service shop/api spec.clusterIPs" },
	{ "_web._tcp.nginx" SVC, NULL, EXPLAIN_RESOLVES,
	  "SRV 0 * 80 web-0.nginx" SVC " <- port 80 of EndpointSlice "
	  "default/nginx-* endpoint hostname web-0 <- Pod default/web-0" },
	{ "10-244-50-1.default.pod.cluster.local.", NULL, EXPLAIN_RESOLVES,
	  "pods insecure: the address in the name (namespace default exists)" },
	{ "web-0.nginx" SVC, "AAAA", EXPLAIN_NODATA,
	  "the name has no AAAA records; it has A" },
	/* Each cause of a name that does not resolve. */
	{ "nginx.defualt.svc.cluster.local.", NULL, EXPLAIN_NS_MISSING,
	  "namespace defualt does not exist; did you mean default?" },
	{ "ngnix" SVC, NULL, EXPLAIN_SVC_MISSING,
	  "service default/ngnix does not exist; did you mean nginx?" },
	{ "api" SVC, NULL, EXPLAIN_SVC_MISSING,
	  "a service api exists in namespace shop" },
	{ "web-0.api.shop.svc.cluster.local.", NULL, EXPLAIN_NOT_HEADLESS,
	  "service shop/api is not headless (it has a ClusterIP)" },
	{ "cache-0.cache" SVC, NULL, EXPLAIN_NOT_READY,
	  "pod default/cache-0 (endpoint cache-0) is not Ready: its Ready "
	  "condition is False since 2024-05-01T10:00:00Z\n"
	  "service default/cache does not publish not-ready addresses" },
	{ "db" SVC, NULL, EXPLAIN_NOT_READY,
	  "headless service default/db has no ready endpoint" },
	{ "stray.nginx" SVC, NULL, EXPLAIN_SUBDOMAIN,
	  "pod default/stray has hostname stray but subdomain ngnix" },
	{ "plain.nginx" SVC, NULL, EXPLAIN_NO_HOSTNAME,
	  "pod default/plain has no spec.hostname: its endpoint is named "
	  "10-244-50-3, not plain" },
	{ "loner.nginx" SVC, NULL, EXPLAIN_NOT_SELECTED,
	  "its labels (app=other) do not match the selector app=nginx" },
	{ "web-2.nginx" SVC, NULL, EXPLAIN_PETSET_REPLICAS,
	  "PetSet default/web has 2 replicas (ordinals 0 to 1): web-2 is not "
	  "one of its pets" },
	{ "db-1.db" SVC, NULL, EXPLAIN_PETSET_WAITING,
	  "PetSet default/db: waiting for db-0 to be Running and Ready" },
	{ "nope.nginx" SVC, NULL, EXPLAIN_NO_ENDPOINT,
	  "service default/nginx has no endpoint named nope\n"
	  "its endpoints: 10-244-50-2, 10-244-50-3, web-0, web-1" },
	{ "_http._tcp.nginx" SVC, NULL, EXPLAIN_NO_PORT,
	  "has no port named http with protocol tcp\n"
	  "its named ports: _web._tcp" },
	{ "empty" SVC, NULL, EXPLAIN_NO_ENDPOINTS,
	  "no pod in namespace default matches its selector app=none" },
	{ "web-0.nginx", NULL, EXPLAIN_SEARCH_PATH,
	  "1. web-0.nginx.default.svc.cluster.local. A: answers\n"
	  "web-0.nginx.default.svc.cluster.local. A 10.244.0.*" },
	{ "api", NULL, EXPLAIN_SEARCH_PATH,
	  "it resolves from pods in namespace shop" },
	{ "web-2.nginx", NULL, EXPLAIN_SEARCH_PATH,
	  "web-2.nginx.default.svc.cluster.local. fails because:\n"
	  "  PetSet default/web has 2 replicas" },
	{ "example.com.", NULL, EXPLAIN_NOT_IN_ZONE,
	  "is outside this kubernetes block's zones" },
	{ "foo.cluster.local.", NULL, EXPLAIN_NO_NAME,
	  "no Kubernetes name has this shape" },
	{ "a..b", NULL, EXPLAIN_BAD_NAME, "is not a domain name" },
};

static char *zones[] = { "cluster.local", "in-addr.arpa" };

/* A kubernetes block on the fixture, run until its pets stopped changing. */
struct fixture {
	struct event_base		*base;
	struct kubernetes		*k;
	struct config_kubernetes	 cfg;
};

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static struct fixture *
fixture_new(void (*tweak)(struct config_kubernetes *))
{
	struct fixture	*f = calloc(1, sizeof(*f));
	struct timeval	 tv = { 0, 20000 };
	struct event	*tick;
	int		 rounds = 0;

	f->cfg.zones = zones;
	f->cfg.nzones = 2;
	f->cfg.ttl = 5;
	f->cfg.pods = PODS_INSECURE;
	f->cfg.manifests = TESTDATA "/explain/cluster";
	f->cfg.petsets = true;
	f->cfg.kubelet_delay_ms = 20;
	f->cfg.file = "test";
	f->cfg.line = 1;
	if (tweak != NULL)
		tweak(&f->cfg);
	f->base = event_base_new();
	f->k = kubernetes_new(f->base, &f->cfg);
	assert_int_equal(kubernetes_start(f->k), 0);
	tick = event_new(f->base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &tv);
	while (!kubernetes_stable(f->k) && rounds++ < 500)
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(tick);
	assert_true(kubernetes_stable(f->k));
	return f;
}

static void
fixture_free(struct fixture *f)
{
	kubernetes_free(f->k);
	event_base_free(f->base);
	free(f);
}

/* True when text holds want, a glob ('*' for what changes between runs). */
static bool
text_has(const char *text, const char *want)
{
	char	*pat = xasprintf("*%s*", want);
	bool	 ok = fnmatch(pat, text, 0) == 0;

	free(pat);
	return ok;
}

static void
check_case(struct kubernetes *k, const struct explain_case *c)
{
	uint16_t	 type;
	struct explain	*e;
	char		*text;

	assert_int_equal(explain_type(c->type, c->name, &type), 0);
	e = kubernetes_explain(k, c->name, type);
	text = explain_text(e);
	if (e->cause != c->cause || !text_has(text, c->text))
		fail_msg("%s: cause %s (want %s), text:\n%s\nwant:\n%s",
		    c->name, explain_cause_name(e->cause),
		    explain_cause_name(c->cause), text, c->text);
	free(text);
	explain_free(e);
}

static void
test_causes(void **state)
{
	struct fixture	*f = fixture_new(NULL);

	for (size_t i = 0; i < sizeof(insecure_cases) /
	    sizeof(insecure_cases[0]); i++)
		check_case(f->k, &insecure_cases[i]);
	fixture_free(f);
}

static char *shop[] = { "shop" };

static void
tweak_namespaces(struct config_kubernetes *cfg)
{
	cfg->namespaces = shop;
	cfg->nnamespaces = 1;
}

static void
tweak_namespace_labels(struct config_kubernetes *cfg)
{
	cfg->namespace_labels = "team=shop";
}

static void
tweak_labels(struct config_kubernetes *cfg)
{
	cfg->labels = "app=api";
}

static void
tweak_disabled(struct config_kubernetes *cfg)
{
	cfg->pods = PODS_DISABLED;
}

static void
tweak_verified(struct config_kubernetes *cfg)
{
	cfg->pods = PODS_VERIFIED;
}

static void
tweak_noendpoints(struct config_kubernetes *cfg)
{
	cfg->noendpoints = true;
}

/* The causes that come from the Corefile: each case on its own options. */
static const struct {
	void			(*tweak)(struct config_kubernetes *);
	struct explain_case	  c;
} option_cases[] = {
	{ tweak_namespaces, { "nginx" SVC, NULL, EXPLAIN_NS_FILTERED,
	  "namespace default is not served: the Corefile's `namespaces shop`" } },
	{ tweak_namespaces, { "api.shop.svc.cluster.local.", NULL,
	  EXPLAIN_RESOLVES, "<- Service shop/api spec.clusterIPs" } },
	{ tweak_namespace_labels, { "nginx" SVC, NULL, EXPLAIN_NS_FILTERED,
	  "namespace default is not served: its labels (none) do not match "
	  "the Corefile's `namespace_labels team=shop`" } },
	{ tweak_labels, { "nginx" SVC, NULL, EXPLAIN_SVC_FILTERED,
	  "service default/nginx is filtered out: its labels (app=nginx) do "
	  "not match the Corefile's `labels app=api`" } },
	{ tweak_labels, { "api.shop.svc.cluster.local.", NULL,
	  EXPLAIN_RESOLVES, "<- Service shop/api spec.clusterIPs" } },
	{ tweak_disabled, { "10-244-50-1.default.pod.cluster.local.", NULL,
	  EXPLAIN_PODS_DISABLED, "pod records are disabled: the kubernetes "
	  "block has `pods disabled` (the default)" } },
	{ tweak_verified, { "10-244-50-1.default.pod.cluster.local.", NULL,
	  EXPLAIN_RESOLVES, "pods verified: Pod default/cache-0 "
	  "status.podIPs" } },
	{ tweak_verified, { "10-244-99-99.default.pod.cluster.local.", NULL,
	  EXPLAIN_POD_UNKNOWN, "no pod has address 10.244.99.99" } },
	{ tweak_verified, { "10-244-50-5.default.pod.cluster.local.", NULL,
	  EXPLAIN_POD_UNKNOWN, "pod shop/api-1 has address 10.244.50.5, but "
	  "in namespace shop" } },
	{ tweak_noendpoints, { "web-0.nginx" SVC, NULL, EXPLAIN_NO_ENDPOINTS,
	  "the Corefile's `noendpoints` leaves out every endpoint name" } },
};

/* One fixture per run of cases with the same options. */
static void
test_options(void **state)
{
	struct fixture	*f = NULL;
	size_t		 n = sizeof(option_cases) / sizeof(option_cases[0]);

	for (size_t i = 0; i < n; i++) {
		if (i == 0 || option_cases[i].tweak !=
		    option_cases[i - 1].tweak) {
			if (f != NULL)
				fixture_free(f);
			f = fixture_new(option_cases[i].tweak);
		}
		check_case(f->k, &option_cases[i].c);
	}
	fixture_free(f);
}

static void
test_type(void **state)
{
	uint16_t	t;

	assert_int_equal(explain_type("srv", "x", &t), 0);
	assert_int_equal(t, LDNS_RR_TYPE_SRV);
	assert_int_equal(explain_type(NULL, "_web._tcp.nginx" SVC, &t), 0);
	assert_int_equal(t, LDNS_RR_TYPE_SRV);
	assert_int_equal(explain_type("", "4.0.244.10.IN-ADDR.ARPA", &t), 0);
	assert_int_equal(t, LDNS_RR_TYPE_PTR);
	assert_int_equal(explain_type(NULL, "web-0.nginx", &t), 0);
	assert_int_equal(t, LDNS_RR_TYPE_A);
	assert_int_equal(explain_type("bogus", "x", &t), -1);
}

static void
test_txt_target(void **state)
{
	uint8_t	wire[DNAME_MAX], plain[DNAME_MAX];

	/* Matched like any name: case-insensitively. */
	dname_from_str("web-0.nginx" SVC, plain);
	memcpy(wire, "\010_EXPLAIN", 9);
	memcpy(wire + 9, plain, dname_length(plain));
	assert_non_null(explain_txt_target(wire));
	assert_true(dname_equal(explain_txt_target(wire), plain));
	assert_null(explain_txt_target(plain));
	dname_from_str("_explain.", wire);
	assert_null(explain_txt_target(wire));
	dname_from_str("_explainx.a.", wire);
	assert_null(explain_txt_target(wire));
}

/* An explanation of n lines of len bytes each. */
static struct explain *
explain_fake(size_t n, size_t len)
{
	struct explain	*e = xcalloc(1, sizeof(*e));

	e->name = xstrdup("x.cluster.local.");
	e->type = LDNS_RR_TYPE_A;
	e->rcode = LDNS_RCODE_NXDOMAIN;
	e->cause = EXPLAIN_NO_NAME;
	for (size_t i = 0; i < n; i++) {
		char	*l = xmalloc(len + 1);

		memset(l, 'a' + (int)(i % 26), len);
		l[len] = '\0';
		xstrv_push(&e->lines, &e->nlines, l);
	}
	return e;
}

static void
test_txt_split(void **state)
{
	struct explain	*e = explain_fake(1, 600);
	ldns_pkt	*resp = ldns_pkt_new();
	uint8_t		 owner[DNAME_MAX];
	const ldns_rr	*rr;

	dname_from_str("_explain.x.cluster.local.", owner);
	explain_txt(e, owner, resp);
	/* The summary, then the 600 bytes as 255 + 255 + 90. */
	assert_int_equal(ldns_pkt_ancount(resp), 2);
	rr = ldns_rr_list_rr(ldns_pkt_answer(resp), 1);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	assert_int_equal(ldns_rr_rd_count(rr), 3);
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 256);
	assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 2)), 91);
	ldns_pkt_free(resp);
	explain_free(e);
}

static void
test_txt_cut(void **state)
{
	struct explain	*e = explain_fake(40, 300);
	ldns_pkt	*resp = ldns_pkt_new();
	uint8_t		 owner[DNAME_MAX];
	size_t		 total = 0, n;
	char		*last;

	dname_from_str("_explain.x.cluster.local.", owner);
	explain_txt(e, owner, resp);
	n = ldns_pkt_ancount(resp);
	assert_true(n > 2 && n < 41);
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(resp), i);

		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++)
			total += ldns_rdf_size(ldns_rr_rdf(rr, j)) - 1;
	}
	assert_true(total <= EXPLAIN_TXT_MAX);
	last = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(resp),
	    n - 1), 0));
	assert_non_null(strstr(last, "cut short"));
	free(last);
	ldns_pkt_free(resp);
	explain_free(e);
}

static void
test_json(void **state)
{
	struct fixture		*f = fixture_new(NULL);
	struct explain		*e;
	struct json_object	*o, *v, *r;
	char			*json;

	e = kubernetes_explain(f->k, "web-0.nginx" SVC, LDNS_RR_TYPE_A);
	json = explain_json(e);
	assert_non_null(o = json_tokener_parse(json));
	assert_true(json_object_object_get_ex(o, "cause", &v));
	assert_string_equal(json_object_get_string(v), "resolves");
	assert_true(json_object_object_get_ex(o, "rcode", &v));
	assert_string_equal(json_object_get_string(v), "NOERROR");
	assert_true(json_object_object_get_ex(o, "resolves", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "records", &v));
	assert_int_equal(json_object_array_length(v), 1);
	r = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(r, "from", &v));
	assert_non_null(strstr(json_object_get_string(v),
	    "<- Pod default/web-0"));
	json_object_put(o);
	free(json);
	explain_free(e);
	e = kubernetes_explain(f->k, "example.com.", LDNS_RR_TYPE_A);
	json = explain_json(e);
	assert_non_null(o = json_tokener_parse(json));
	/* Forwarded: no rcode of ours. */
	assert_true(json_object_object_get_ex(o, "rcode", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "explanation", &v));
	assert_int_equal(json_object_array_length(v), 1);
	json_object_put(o);
	free(json);
	explain_free(e);
	fixture_free(f);
}

/* The kubernetes option: off unless written. */
static void
test_option(void **state)
{
	char		 err[256];
	struct config	*cfg;

	cfg = config_parse("t", "cluster.local:1053 {\n kubernetes {\n"
	    "  explain\n }\n}\n", err, sizeof(err));
	assert_non_null(cfg);
	assert_true(cfg->servers[0].kubernetes->explain);
	config_free(cfg);
	cfg = config_parse("t", "cluster.local:1053 {\n kubernetes\n}\n", err,
	    sizeof(err));
	assert_non_null(cfg);
	assert_false(cfg->servers[0].kubernetes->explain);
	config_free(cfg);
	assert_null(config_parse("t", "cluster.local:1053 {\n kubernetes {\n"
	    "  explain yes\n }\n}\n", err, sizeof(err)));
}

/* lastTransitionTime of the Ready condition, with an offset, and a bad one. */
static void
test_ready_since(void **state)
{
	static const char *const pods[] = {
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"p\"},\"status\":{\"phase\":\"Running\",\"conditions\":[{"
	    "\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":"
	    "\"2024-05-01T12:00:00.5+02:00\"}]}}",
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"p\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
	    "\"status\":\"Unknown\",\"lastTransitionTime\":\"yesterday\"}]}}",
	};
	const int64_t	 want[] = { 1714557600, 0 };
	const uint8_t	 cond[] = { OBJECT_COND_FALSE,
			    OBJECT_COND_UNKNOWN };
	char		 err[256];
	struct jdoc	*doc = jdoc_new();

	for (size_t i = 0; i < 2; i++) {
		const struct jdoc_val	*j = jdoc_parse(doc, pods[i],
					    strlen(pods[i]), NULL, err,
					    sizeof(err));
		struct object		*obj;

		assert_int_equal(decode_object(j, NULL, &obj, err, sizeof(err)),
		    DECODE_OK);
		assert_false(obj->u.pod.ready);
		assert_int_equal(obj->u.pod.ready_cond, cond[i]);
		assert_int_equal(obj->u.pod.ready_since, want[i]);
		object_free(obj);
	}
	jdoc_free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_txt_target),
		cmocka_unit_test(test_txt_split),
		cmocka_unit_test(test_txt_cut),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_option),
		cmocka_unit_test(test_ready_since),
	};

	zone_thread_register();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
