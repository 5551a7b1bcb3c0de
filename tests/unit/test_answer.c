/* test_answer.c -- every record rule of DESIGN.md section 4 as a table, against tests/data/cluster. */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "config.h"
#include "dname.h"
#include "kubernetes.h"
#include "zone.h"

#define T_A	LDNS_RR_TYPE_A
#define T_AAAA	LDNS_RR_TYPE_AAAA
#define T_SRV	LDNS_RR_TYPE_SRV
#define T_PTR	LDNS_RR_TYPE_PTR
#define T_TXT	LDNS_RR_TYPE_TXT
#define T_SOA	LDNS_RR_TYPE_SOA
#define T_NS	LDNS_RR_TYPE_NS
#define T_CNAME	LDNS_RR_TYPE_CNAME
#define T_MX	LDNS_RR_TYPE_MX
#define T_ANY	LDNS_RR_TYPE_ANY
#define NOERR	LDNS_RCODE_NOERROR
#define NXDOM	LDNS_RCODE_NXDOMAIN
#define SVC	".default.svc.cluster.local."

/*
 * One query: expected rcode, the answer section (sorted lines "owner ttl IN
 * TYPE rdata", fnmatch patterns, "" for empty), whether the authority holds
 * the SOA, and the additional section (NULL: not checked).
 */
struct answer_case {
	const char	*qname;
	uint16_t	 qtype;
	ldns_pkt_rcode	 rcode;
	const char	*answer;
	int		 soa;
	const char	*additional;
};

static const struct answer_case insecure_cases[] = {
	/* Pets of a headless service: the DESIGN.md section 7 names. */
	{ "web-0.nginx" SVC, T_A, NOERR, "web-0.nginx" SVC " 5 IN A 10.244.1.10", 0, NULL },
	{ "web-1.nginx" SVC, T_A, NOERR, "web-1.nginx" SVC " 5 IN A 10.244.1.11", 0, NULL },
	{ "nginx" SVC, T_A, NOERR,
	  "nginx" SVC " 5 IN A 10.244.1.10\n"
	  "nginx" SVC " 5 IN A 10.244.1.11\n"
	  "nginx" SVC " 5 IN A 10.244.1.12", 0, NULL },
	{ "_web._tcp.nginx" SVC, T_SRV, NOERR,
	  "_web._tcp.nginx" SVC " 5 IN SRV 0 33 80 10-244-1-12.nginx" SVC "\n"
	  "_web._tcp.nginx" SVC " 5 IN SRV 0 33 80 web-0.nginx" SVC "\n"
	  "_web._tcp.nginx" SVC " 5 IN SRV 0 33 80 web-1.nginx" SVC, 0,
	  "10-244-1-12.nginx" SVC " 5 IN A 10.244.1.12\n"
	  "web-0.nginx" SVC " 5 IN A 10.244.1.10\n"
	  "web-1.nginx" SVC " 5 IN A 10.244.1.11" },
	/* A subdomain that is not the service's name gives no pet name. */
	{ "stray.nginx" SVC, T_A, NXDOM, "", 1, NULL },
	{ "10-244-1-12.nginx" SVC, T_A, NOERR, "10-244-1-12.nginx" SVC " 5 IN A 10.244.1.12", 0, NULL },
	{ "web-0.nginx" SVC, T_AAAA, NOERR, "", 1, NULL },
	{ "web-0.nginx" SVC, T_MX, NOERR, "", 1, NULL },
	{ "web-9.nginx" SVC, T_A, NXDOM, "", 1, NULL },
	/* ClusterIP service, its ports and its endpoints. */
	{ "api" SVC, T_A, NOERR, "api" SVC " 5 IN A 10.96.0.50", 0, NULL },
	{ "api" SVC, T_AAAA, NOERR, "", 1, NULL },
	{ "_http._tcp.api" SVC, T_SRV, NOERR, "_http._tcp.api" SVC " 5 IN SRV 0 100 80 api" SVC, 0,
	  "api" SVC " 5 IN A 10.96.0.50" },
	{ "_dns._udp.api" SVC, T_SRV, NOERR, "_dns._udp.api" SVC " 5 IN SRV 0 100 53 api" SVC, 0, NULL },
	{ "_dns._tcp.api" SVC, T_SRV, NXDOM, "", 1, NULL },
	{ "_dns-tcp._tcp.api" SVC, T_SRV, NOERR, "_dns-tcp._tcp.api" SVC " 5 IN SRV 0 100 53 api" SVC, 0, NULL },
	{ "_tcp.api" SVC, T_SRV, NOERR, "", 1, NULL },
	/* Regression srv_dedupe: 53/UDP and 53/TCP give one bare SRV, and N counts it once. */
	{ "api" SVC, T_SRV, NOERR,
	  "api" SVC " 5 IN SRV 0 33 53 api" SVC "\n"
	  "api" SVC " 5 IN SRV 0 33 80 api" SVC "\n"
	  "api" SVC " 5 IN SRV 0 33 8443 api" SVC, 0, "api" SVC " 5 IN A 10.96.0.50" },
	{ "10-244-2-1.api" SVC, T_A, NOERR, "10-244-2-1.api" SVC " 5 IN A 10.244.2.1", 0, NULL },
	{ "10-244-2-3.api" SVC, T_A, NOERR, "10-244-2-3.api" SVC " 5 IN A 10.244.2.3", 0, NULL },
	{ "alpha.api" SVC, T_A, NOERR, "alpha.api" SVC " 5 IN A 10.244.2.4", 0, NULL },
	{ "10-244-2-2.api" SVC, T_A, NXDOM, "", 1, NULL },
	{ "api-pod-1.api" SVC, T_A, NXDOM, "", 1, NULL },
	/* Dual stack and IPv6 endpoint names. */
	{ "dual" SVC, T_A, NOERR, "dual" SVC " 5 IN A 10.96.0.60", 0, NULL },
	{ "dual" SVC, T_AAAA, NOERR, "dual" SVC " 5 IN AAAA fd00::60", 0, NULL },
	{ "v6" SVC, T_AAAA, NOERR, "v6" SVC " 5 IN AAAA 2001:db8::\n" "v6" SVC " 5 IN AAAA fd00::1:5", 0, NULL },
	{ "v6" SVC, T_A, NOERR, "", 1, NULL },
	{ "fd00--1-5.v6" SVC, T_AAAA, NOERR, "fd00--1-5.v6" SVC " 5 IN AAAA fd00::1:5", 0, NULL },
	{ "2001-db8--0.v6" SVC, T_AAAA, NOERR, "2001-db8--0.v6" SVC " 5 IN AAAA 2001:db8::", 0, NULL },
	/* Headless without ready endpoints; ClusterIP without endpoints. */
	{ "empty" SVC, T_A, NXDOM, "", 1, NULL },
	{ "noeps" SVC, T_A, NOERR, "noeps" SVC " 5 IN A 10.96.0.70", 0, NULL },
	/* ExternalName: CNAME, chased in zone, nothing below it. */
	{ "ext" SVC, T_A, NOERR, "ext" SVC " 5 IN CNAME www.example.com.", 0, NULL },
	{ "ext" SVC, T_SRV, NOERR, "ext" SVC " 5 IN CNAME www.example.com.", 0, NULL },
	{ "foo.ext" SVC, T_A, NXDOM, "", 1, NULL },
	{ "chase" SVC, T_A, NOERR, "api" SVC " 5 IN A 10.96.0.50\n" "chase" SVC " 5 IN CNAME api" SVC, 0, NULL },
	{ "svc.other.svc.cluster.local.", T_A, NOERR, "svc.other.svc.cluster.local. 5 IN A 10.96.0.80", 0, NULL },
	/* Reverse. */
	{ "50.0.96.10.in-addr.arpa.", T_PTR, NOERR, "50.0.96.10.in-addr.arpa. 5 IN PTR api" SVC, 0, NULL },
	{ "10.1.244.10.in-addr.arpa.", T_PTR, NOERR, "10.1.244.10.in-addr.arpa. 5 IN PTR web-0.nginx" SVC, 0, NULL },
	{ "1.2.244.10.in-addr.arpa.", T_PTR, NOERR, "1.2.244.10.in-addr.arpa. 5 IN PTR 10-244-2-1.api" SVC, 0, NULL },
	{ "2.2.244.10.in-addr.arpa.", T_PTR, NXDOM, "", 1, NULL },
	{ "0.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", T_PTR, NOERR,
	  "0.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual" SVC, 0, NULL },
	{ "9.9.99.10.in-addr.arpa.", T_PTR, NXDOM, "", 1, NULL },
	{ "96.10.in-addr.arpa.", T_PTR, NOERR, "", 1, NULL },
	/* The apex and its well-known names. */
	{ "dns-version.cluster.local.", T_TXT, NOERR, "dns-version.cluster.local. 5 IN TXT \"1.1.0\"", 0, NULL },
	{ "cluster.local.", T_SOA, NOERR,
	  "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. * 7200 1800 86400 5", 0, NULL },
	{ "cluster.local.", T_NS, NOERR, "cluster.local. 5 IN NS ns.dns.cluster.local.", 0,
	  "ns.dns.cluster.local. 5 IN A 10.96.0.10" },
	{ "ns.dns.cluster.local.", T_A, NOERR, "ns.dns.cluster.local. 5 IN A 10.96.0.10", 0, NULL },
	{ "in-addr.arpa.", T_SOA, NOERR,
	  "in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. * 7200 1800 86400 5", 0, NULL },
	{ "cluster.local.", T_A, NOERR, "", 1, NULL },
	/* Empty non-terminals are NODATA, missing names NXDOMAIN. */
	{ "svc.cluster.local.", T_A, NOERR, "", 1, NULL },
	{ "default.svc.cluster.local.", T_A, NOERR, "", 1, NULL },
	{ "nosuchns.svc.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "nosuch.cluster.local.", T_A, NXDOM, "", 1, NULL },
	/* Pods insecure: the IP in the name, when the namespace exists. */
	{ "pod.cluster.local.", T_A, NOERR, "", 1, NULL },
	{ "default.pod.cluster.local.", T_A, NOERR, "", 1, NULL },
	{ "10-244-1-10.default.pod.cluster.local.", T_A, NOERR,
	  "10-244-1-10.default.pod.cluster.local. 5 IN A 10.244.1.10", 0, NULL },
	{ "10-244-1-10.default.pod.cluster.local.", T_AAAA, NOERR, "", 1, NULL },
	{ "fd00--1.other.pod.cluster.local.", T_AAAA, NOERR,
	  "fd00--1.other.pod.cluster.local. 5 IN AAAA fd00::1", 0, NULL },
	{ "10-244-1-10.nosuchns.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "bogus.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "x.10-244-1-10.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	/* Case: owners as asked, the zone part of generated names too. */
	{ "WEB-0.Nginx.Default.SVC.Cluster.Local.", T_A, NOERR,
	  "WEB-0.Nginx.Default.SVC.Cluster.Local. 5 IN A 10.244.1.10", 0, NULL },
	{ "_peer._tcp.trio.default.svc.CLUSTER.local.", T_SRV, NOERR,
	  "_peer._tcp.trio.default.svc.CLUSTER.local. 5 IN SRV 0 33 2380 trio-0.trio.default.svc.CLUSTER.local.\n"
	  "_peer._tcp.trio.default.svc.CLUSTER.local. 5 IN SRV 0 33 2380 trio-1.trio.default.svc.CLUSTER.local.\n"
	  "_peer._tcp.trio.default.svc.CLUSTER.local. 5 IN SRV 0 33 2380 trio-2.trio.default.svc.CLUSTER.local.", 0,
	  "trio-0.trio.default.svc.CLUSTER.local. 5 IN A 10.244.3.1\n"
	  "trio-1.trio.default.svc.CLUSTER.local. 5 IN A 10.244.3.2\n"
	  "trio-2.trio.default.svc.CLUSTER.local. 5 IN A 10.244.3.3" },
	{ "NOSUCH.Cluster.Local.", T_A, NXDOM, "", 1, NULL },
	/* ANY gets one RRset (RFC 8482). */
	{ "api" SVC, T_ANY, NOERR, "api" SVC " 5 IN A 10.96.0.50", 0, NULL },
};

struct answer_fixture {
	struct event_base		*base;
	struct kubernetes		*k;
	struct config_kubernetes	 cfg;
};

static char *zones[] = { "cluster.local", "in-addr.arpa", "ip6.arpa" };

static struct answer_fixture *
fixture_new(void (*tweak)(struct config_kubernetes *))
{
	struct answer_fixture	*f = calloc(1, sizeof(*f));

	f->cfg.zones = zones;
	f->cfg.nzones = 3;
	f->cfg.ttl = 5;
	f->cfg.pods = PODS_INSECURE;
	f->cfg.manifests = TESTDATA "/cluster";
	f->cfg.file = "test";
	f->cfg.line = 1;
	if (tweak != NULL)
		tweak(&f->cfg);
	f->base = event_base_new();
	f->k = kubernetes_new(f->base, &f->cfg);
	assert_int_equal(kubernetes_start(f->k), 0);
	assert_true(kubernetes_ready(f->k));
	return f;
}

static void
fixture_free(struct answer_fixture *f)
{
	kubernetes_free(f->k);
	event_base_free(f->base);
	free(f);
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The section as sorted lines with single spaces. */
static char *
section_text(const ldns_rr_list *list)
{
	size_t	 n = ldns_rr_list_rr_count(list), len = 1;
	char	**lines = calloc(n + 1, sizeof(*lines)), *out;

	for (size_t i = 0; i < n; i++) {
		char	*s = ldns_rr2str(ldns_rr_list_rr(list, i));
		size_t	 l = strlen(s);

		for (char *p = s; *p; p++)
			if (*p == '\t')
				*p = ' ';
		if (l > 0 && s[l - 1] == '\n')
			s[l - 1] = '\0';
		lines[i] = s;
		len += strlen(s) + 1;
	}
	qsort(lines, n, sizeof(*lines), line_cmp);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, "\n");
		strcat(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return out;
}

static void
check_case(struct kubernetes *k, const struct answer_case *c)
{
	ldns_rdf	*qname = ldns_dname_new_frm_str(c->qname);
	ldns_pkt	*resp = ldns_pkt_new();
	ldns_pkt_rcode	 rcode;
	char		*text;

	assert_non_null(qname);
	rcode = kubernetes_answer(k, ldns_rdf_data(qname), c->qtype, resp);
	text = section_text(ldns_pkt_answer(resp));
	if (rcode != c->rcode || fnmatch(c->answer, text, 0) != 0)
		fail_msg("%s type %u: rcode %d (want %d), answer:\n%s\nwant:\n%s",
		    c->qname, c->qtype, rcode, c->rcode, text, c->answer);
	free(text);
	assert_true(ldns_pkt_aa(resp));
	if (c->soa) {
		assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_authority(resp)), 1);
		assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
		    ldns_pkt_authority(resp), 0)), LDNS_RR_TYPE_SOA);
	} else
		assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_authority(resp)), 0);
	if (c->additional != NULL) {
		text = section_text(ldns_pkt_additional(resp));
		if (fnmatch(c->additional, text, 0) != 0)
			fail_msg("%s: additional:\n%s\nwant:\n%s", c->qname,
			    text, c->additional);
		free(text);
	}
	ldns_pkt_free(resp);
	ldns_rdf_deep_free(qname);
}

static void
run_cases(void (*tweak)(struct config_kubernetes *),
    const struct answer_case *cases, size_t n)
{
	struct answer_fixture	*f = fixture_new(tweak);

	for (size_t i = 0; i < n; i++)
		check_case(f->k, &cases[i]);
	fixture_free(f);
}

static void
test_records_insecure(void **state)
{
	run_cases(NULL, insecure_cases,
	    sizeof(insecure_cases) / sizeof(insecure_cases[0]));
}

static void
tweak_disabled(struct config_kubernetes *cfg)
{
	cfg->pods = PODS_DISABLED;
}

static const struct answer_case disabled_cases[] = {
	{ "10-244-1-10.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "web-0.nginx" SVC, T_A, NOERR, "web-0.nginx" SVC " 5 IN A 10.244.1.10", 0, NULL },
};

static void
test_records_pods_disabled(void **state)
{
	run_cases(tweak_disabled, disabled_cases,
	    sizeof(disabled_cases) / sizeof(disabled_cases[0]));
}

static void
tweak_verified(struct config_kubernetes *cfg)
{
	cfg->pods = PODS_VERIFIED;
}

static const struct answer_case verified_cases[] = {
	{ "10-244-1-10.default.pod.cluster.local.", T_A, NOERR,
	  "10-244-1-10.default.pod.cluster.local. 5 IN A 10.244.1.10", 0, NULL },
	{ "10-244-1-10.other.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "10-244-9-9.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "default.pod.cluster.local.", T_A, NOERR, "", 1, NULL },
};

static void
test_records_pods_verified(void **state)
{
	run_cases(tweak_verified, verified_cases,
	    sizeof(verified_cases) / sizeof(verified_cases[0]));
}

static void
tweak_options(struct config_kubernetes *cfg)
{
	cfg->endpoint_pod_names = true;
	cfg->ignore_empty_service = true;
	cfg->ttl = 30;
}

static const struct answer_case options_cases[] = {
	{ "api-pod-1.api" SVC, T_A, NOERR, "api-pod-1.api" SVC " 30 IN A 10.244.2.1", 0, NULL },
	{ "alpha.api" SVC, T_A, NOERR, "alpha.api" SVC " 30 IN A 10.244.2.4", 0, NULL },
	{ "10-244-2-1.api" SVC, T_A, NXDOM, "", 1, NULL },
	{ "noeps" SVC, T_A, NXDOM, "", 1, NULL },
	{ "api" SVC, T_A, NOERR, "api" SVC " 30 IN A 10.96.0.50", 0, NULL },
	{ "cluster.local.", T_SOA, NOERR,
	  "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. * 7200 1800 86400 30", 0, NULL },
};

static void
test_records_options(void **state)
{
	run_cases(tweak_options, options_cases,
	    sizeof(options_cases) / sizeof(options_cases[0]));
}

static char *only_other[] = { "other" };

static void
tweak_filters(struct config_kubernetes *cfg)
{
	cfg->namespaces = only_other;
	cfg->nnamespaces = 1;
	cfg->noendpoints = true;
}

static const struct answer_case filter_cases[] = {
	{ "api" SVC, T_A, NXDOM, "", 1, NULL },
	{ "svc.other.svc.cluster.local.", T_A, NOERR, "svc.other.svc.cluster.local. 5 IN A 10.96.0.80", 0, NULL },
	{ "10-244-1-10.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "10-244-1-10.other.pod.cluster.local.", T_A, NOERR,
	  "10-244-1-10.other.pod.cluster.local. 5 IN A 10.244.1.10", 0, NULL },
};

static void
test_records_filters(void **state)
{
	run_cases(tweak_filters, filter_cases,
	    sizeof(filter_cases) / sizeof(filter_cases[0]));
}

static void
tweak_namespace_labels(struct config_kubernetes *cfg)
{
	cfg->namespace_labels = "team in (blue, green)";
}

static const struct answer_case namespace_labels_cases[] = {
	{ "api" SVC, T_A, NXDOM, "", 1, NULL },
	{ "svc.other.svc.cluster.local.", T_A, NOERR, "svc.other.svc.cluster.local. 5 IN A 10.96.0.80", 0, NULL },
	{ "10-244-1-10.default.pod.cluster.local.", T_A, NXDOM, "", 1, NULL },
	{ "10-244-1-10.other.pod.cluster.local.", T_A, NOERR,
	  "10-244-1-10.other.pod.cluster.local. 5 IN A 10.244.1.10", 0, NULL },
};

static void
test_records_namespace_labels(void **state)
{
	run_cases(tweak_namespace_labels, namespace_labels_cases,
	    sizeof(namespace_labels_cases) / sizeof(namespace_labels_cases[0]));
}

static void
tweak_noendpoints(struct config_kubernetes *cfg)
{
	cfg->noendpoints = true;
}

static const struct answer_case noendpoints_cases[] = {
	{ "nginx" SVC, T_A, NXDOM, "", 1, NULL },
	{ "web-0.nginx" SVC, T_A, NXDOM, "", 1, NULL },
	{ "10-244-2-1.api" SVC, T_A, NXDOM, "", 1, NULL },
	{ "api" SVC, T_A, NOERR, "api" SVC " 5 IN A 10.96.0.50", 0, NULL },
};

static void
test_noendpoints(void **state)
{
	run_cases(tweak_noendpoints, noendpoints_cases,
	    sizeof(noendpoints_cases) / sizeof(noendpoints_cases[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_insecure),
		cmocka_unit_test(test_records_pods_disabled),
		cmocka_unit_test(test_records_pods_verified),
		cmocka_unit_test(test_records_options),
		cmocka_unit_test(test_records_filters),
		cmocka_unit_test(test_noendpoints),
		cmocka_unit_test(test_records_namespace_labels),
	};

	zone_thread_register();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
