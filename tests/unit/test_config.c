/* test_config.c -- Corefile -> struct config: keys, ports, CIDRs, directives, kubernetes options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "xmalloc.h"

#define DATA	TESTDATA "/corefile"

static void
assert_strv(char **v, size_t n, const char *want)
{
	char	 got[1024] = "";
	size_t	 i, len = 0;

	for (i = 0; i < n; i++)
		len += snprintf(got + len, sizeof(got) - len, "%s%s",
		    i ? " " : "", v[i]);
	assert_string_equal(got, want);
}

static struct config *
parse_ok(const char *text)
{
	struct config *cfg;
	char	 err[512];

	if ((cfg = config_parse("T", text, err, sizeof(err))) == NULL)
		fail_msg("%s\n--\n%s", err, text);
	return cfg;
}

struct err_case {
	const char *text;
	const char *want;
};

static void
check_errors(const struct err_case *c, size_t n)
{
	struct config *cfg;
	char	 err[512];
	size_t	 i;

	for (i = 0; i < n; i++) {
		cfg = config_parse("T", c[i].text, err, sizeof(err));
		if (cfg != NULL)
			fail_msg("case %zu parsed:\n%s", i, c[i].text);
		if (strcmp(err, c[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err,
			    c[i].want);
	}
}

static void
test_kubeadm_default(void **state)
{
	struct config *cfg;
	char	 err[512];

	/* The Corefile kubeadm writes, unchanged. */
	cfg = config_load(DATA "/kubeadm.Corefile", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_int_equal(cfg->nservers, 1);
	assert_true(cfg->servers[0].errors);
	assert_non_null(cfg->servers[0].health);
	assert_int_equal(cfg->servers[0].lameduck_ms, 5000);
	assert_non_null(cfg->servers[0].ready);
	assert_string_equal(cfg->servers[0].prometheus, ":9153");
	assert_int_equal(cfg->servers[0].nforwards, 1);
	assert_non_null(cfg->servers[0].cache);
	assert_true(cfg->servers[0].loop);
	assert_int_equal(cfg->servers[0].reload_ms, 30000);
	assert_true(cfg->servers[0].loadbalance);
	assert_int_equal(cfg->servers[0].kubernetes->ttl, 30);
	config_free(cfg);
}

static void
test_simple_directives(void **state)
{
	struct config *cfg = parse_ok(". {\n errors\n log\n loadbalance "
	    "round_robin\n loop\n whoami\n reload 10s 2s\n}\n"
	    "example.org {\n log . {common}\n}");

	assert_true(cfg->servers[0].errors);
	assert_int_equal(cfg->servers[0].nlogs, 1);
	assert_string_equal(cfg->servers[0].logs[0].names[0], ".");
	assert_int_equal(cfg->servers[0].logs[0].classes, CONFIG_LOG_ALL);
	assert_true(cfg->servers[0].loadbalance);
	assert_true(cfg->servers[0].loop);
	assert_true(cfg->servers[0].whoami);
	assert_int_equal(cfg->servers[0].reload_ms, 10000);
	assert_int_equal(cfg->servers[0].reload_jitter_ms, 2000);
	assert_int_equal(cfg->servers[1].nlogs, 1);
	assert_false(cfg->servers[1].logs[0].combined);
	assert_false(cfg->servers[1].errors);
	assert_int_equal(cfg->servers[1].reload_ms, 0);
	config_free(cfg);
}

/* log rules with names, formats and classes; errors with consolidate rules. */
static void
test_log_and_errors_options(void **state)
{
	struct config *cfg = parse_ok(". {\n log example.org Other.NET "
	    "{combined} {\n  class denial error\n }\n log\n errors {\n"
	    "  stacktrace\n  consolidate 5m \"^read udp .* timeout$\" warning\n"
	    "  consolidate 30s no.upstream show_first\n }\n}");
	const struct config_server *srv = &cfg->servers[0];

	assert_int_equal(srv->nlogs, 2);
	assert_int_equal(srv->logs[0].nnames, 2);
	assert_string_equal(srv->logs[0].names[1], "other.net");
	assert_true(srv->logs[0].combined);
	assert_int_equal(srv->logs[0].classes, CONFIG_LOG_DENIAL |
	    CONFIG_LOG_ERROR);
	assert_int_equal(srv->logs[1].classes, CONFIG_LOG_ALL);
	assert_int_equal(srv->nconsolidate, 2);
	assert_int_equal(srv->consolidate[0].ms, 300000);
	assert_string_equal(srv->consolidate[0].pattern, "^read udp .* timeout$");
	assert_string_equal(srv->consolidate[0].level, "WARNING");
	assert_false(srv->consolidate[0].show_first);
	assert_string_equal(srv->consolidate[1].level, "ERROR");
	assert_true(srv->consolidate[1].show_first);
	config_free(cfg);
}

/* bind by interface name (the loopback every machine has), minus except. */
static void
test_bind_interface(void **state)
{
	struct config *cfg = parse_ok(". {\n bind lo 10.1.1.1 {\n  except ::1\n"
	    " }\n}");

	/* lo's IPv4 address, then the literal; ::1, when lo has it, is excepted. */
	assert_strv(cfg->servers[0].binds, cfg->servers[0].nbinds,
	    "127.0.0.1 10.1.1.1");
	config_free(cfg);
}

static void
test_kubeadm_restricted(void **state)
{
	const struct config_kubernetes *k;
	struct config *cfg;
	char	 err[512];

	cfg = config_load(DATA "/kubeadm-k8s.Corefile", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_int_equal(cfg->nservers, 1);
	assert_strv(cfg->servers[0].zones, cfg->servers[0].nzones, ".");
	assert_int_equal(cfg->servers[0].port, 53);
	assert_string_equal(cfg->servers[0].file, DATA "/kubeadm-k8s.Corefile");
	assert_int_equal(cfg->servers[0].line, 2);
	assert_strv(cfg->servers[0].binds, cfg->servers[0].nbinds,
	    "127.0.0.1 ::1");
	k = cfg->servers[0].kubernetes;
	assert_non_null(k);
	assert_strv(k->zones, k->nzones, "cluster.local in-addr.arpa ip6.arpa");
	assert_int_equal(k->pods, PODS_INSECURE);
	assert_true(k->fallthrough);
	assert_strv(k->fallthrough_zones, k->nfallthrough_zones,
	    "in-addr.arpa ip6.arpa");
	assert_int_equal(k->ttl, 30);
	assert_false(k->endpoint_pod_names);
	assert_false(k->noendpoints);
	assert_false(k->ignore_empty_service);
	assert_int_equal(k->nnamespaces, 0);
	assert_null(k->manifests);
	assert_string_equal(k->file, DATA "/kubeadm-k8s.Corefile");
	assert_int_equal(k->line, 4);
	config_free(cfg);
}

/* Each bad Corefile names its error on line 1: "# error: LINE: message". */
static void
test_bad_files(void **state)
{
	char	 want[1024], err[1024], first[512], *msg, *p, *dir;
	struct config *cfg;
	glob_t	 g;
	size_t	 i;
	FILE	*f;

	assert_int_equal(glob(DATA "/bad/*.Corefile", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 10);
	for (i = 0; i < g.gl_pathc; i++) {
		assert_non_null(f = fopen(g.gl_pathv[i], "r"));
		assert_non_null(fgets(first, sizeof(first), f));
		fclose(f);
		first[strcspn(first, "\n")] = '\0';
		assert_int_equal(strncmp(first, "# error: ", 9), 0);
		dir = xstrndup(g.gl_pathv[i], strrchr(g.gl_pathv[i], '/') -
		    g.gl_pathv[i]);
		msg = xasprintf("%s:%s", g.gl_pathv[i], first + 9);
		/* BAD stands for the file itself, DIR for its directory. */
		for (p = msg, want[0] = '\0'; *p != '\0'; p++) {
			if (strncmp(p, "BAD", 3) == 0 ||
			    strncmp(p, "DIR", 3) == 0) {
				strcat(want, *p == 'B' ? g.gl_pathv[i] : dir);
				p += 2;
			} else
				strncat(want, p, 1);
		}
		cfg = config_load(g.gl_pathv[i], err, sizeof(err));
		if (cfg != NULL || strcmp(err, want) != 0)
			fail_msg("%s:\n got  %s\n want %s", g.gl_pathv[i],
			    cfg ? "(parsed)" : err, want);
		free(msg);
		free(dir);
	}
	globfree(&g);
}

static void
test_load_errors(void **state)
{
	char	 err[512];

	assert_null(config_load(DATA "/missing.Corefile", err, sizeof(err)));
	assert_string_equal(err, DATA "/missing.Corefile: cannot read: "
	    "No such file or directory");
	assert_null(config_parse("T", "", err, sizeof(err)));
	assert_string_equal(err, "T: no server blocks");
	assert_null(config_parse("T", "# nothing\n", err, sizeof(err)));
	assert_string_equal(err, "T: no server blocks");
	/* Lexer errors come through unchanged. */
	assert_null(config_parse("T", ". {\n bind \"x\n}", err, sizeof(err)));
	assert_string_equal(err, "T:2: unterminated quoted string");
}

struct key_case {
	const char *key;
	const char *zones;	/* NULL: an error containing want */
	unsigned int port;
	const char *want;
};

static void
test_keys(void **state)
{
	static const struct key_case cases[] = {
		{ ".", ".", 53, NULL },
		{ ".:53", ".", 53, NULL },
		{ ".:1053", ".", 1053, NULL },
		{ "dns://.:5353", ".", 5353, NULL },
		{ "DNS://Example.ORG.", "example.org", 53, NULL },
		{ "cluster.local.:65535", "cluster.local", 65535, NULL },
		{ "a_b.example-1.org", "a_b.example-1.org", 53, NULL },
		{ "a.org b.org,c.org:53", "a.org b.org c.org", 53, NULL },
		{ "a.org:54 b.org:54", "a.org b.org", 54, NULL },
		{ "10.0.0.0/8", "10.in-addr.arpa", 53, NULL },
		{ "10.1.0.0/16", "1.10.in-addr.arpa", 53, NULL },
		{ "192.168.1.0/24:1053", "1.168.192.in-addr.arpa", 1053, NULL },
		{ "1.2.3.4/32", "4.3.2.1.in-addr.arpa", 53, NULL },
		{ "0.0.0.0/0", "in-addr.arpa", 53, NULL },
		{ "10.1.2.3/8", "10.in-addr.arpa", 53, NULL },
		{ "fd00::/8", "d.f.ip6.arpa", 53, NULL },
		{ "fd00::/8:1053", "d.f.ip6.arpa", 1053, NULL },
		{ "2001:db8::/32", "8.b.d.0.1.0.0.2.ip6.arpa", 53, NULL },
		{ "2001:db8::/36", "0.8.b.d.0.1.0.0.2.ip6.arpa", 53, NULL },
		{ "::/0", "ip6.arpa", 53, NULL },
		{ "dns://10.0.0.0/8 fd00::/8", "10.in-addr.arpa d.f.ip6.arpa",
		  53, NULL },
		{ ".:0", NULL, 0, "T:1: server block key '.:0': invalid port "
		  "'0' (1..65535)" },
		{ ".:65536", NULL, 0, "invalid port '65536'" },
		{ ".:100000", NULL, 0, "invalid port '100000'" },
		{ ".:abc", NULL, 0, "invalid port 'abc'" },
		{ ".:-1", NULL, 0, "invalid port '-1'" },
		{ ".:", NULL, 0, "invalid port ''" },
		{ ":53", NULL, 0, "server block key ':53': missing zone" },
		{ "tls://.:853", NULL, 0, "unsupported transport" },
		{ "a..org", NULL, 0, "key 'a..org': not a valid domain name" },
		{ ".org", NULL, 0, "not a valid domain name" },
		{ "bad!zone", NULL, 0, "not a valid domain name" },
		{ "fd00::1", NULL, 0, "key 'fd00::1': not a valid domain "
		  "name" },
		{ "10.0.0.0/12", NULL, 0, "CIDR mask is not on an octet "
		  "boundary" },
		{ "fd00::/7", NULL, 0, "key 'fd00::/7': CIDR mask is not on a "
		  "nibble boundary" },
		{ "10.0.0.0/33", NULL, 0, "key '10.0.0.0/33': invalid CIDR" },
		{ "fd00::/129", NULL, 0, "invalid CIDR" },
		{ "10.0.0/8", NULL, 0, "invalid CIDR" },
		{ "10.0.0.0/", NULL, 0, "invalid CIDR" },
		{ "10.0.0.0/x8", NULL, 0, "invalid CIDR" },
		{ "a.org:53 b.org:54", NULL, 0, "T:1: server block key "
		  "'b.org:54': port 54 differs from the block's port 53" },
		{ "a.org b.org:54", NULL, 0, "port 54 differs" },
		{ "a.org A.org.", NULL, 0, "T:1: zone 'a.org' listed twice in "
		  "one server block" },
		{ "10.0.0.0/8 10.in-addr.arpa", NULL, 0, "listed twice" },
	};
	struct config *cfg;
	char	 text[256], err[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s {\n}\n", cases[i].key);
		cfg = config_parse("T", text, err, sizeof(err));
		if (cases[i].zones == NULL) {
			if (cfg != NULL || strstr(err, cases[i].want) == NULL)
				fail_msg("key '%s': got %s", cases[i].key,
				    cfg ? "(parsed)" : err);
			continue;
		}
		if (cfg == NULL)
			fail_msg("key '%s': %s", cases[i].key, err);
		assert_strv(cfg->servers[0].zones, cfg->servers[0].nzones,
		    cases[i].zones);
		assert_int_equal(cfg->servers[0].port, cases[i].port);
		config_free(cfg);
	}
}

static void
test_blocks(void **state)
{
	struct config *cfg;

	cfg = parse_ok("cluster.local:1053 {\n kubernetes\n}\n\n"
	    "cluster.local {\n bind 10.0.0.1\n}\n"
	    "example.org:1053 {\n kubernetes\n}\n");
	assert_int_equal(cfg->nservers, 3);
	assert_int_equal(cfg->servers[0].port, 1053);
	assert_int_equal(cfg->servers[1].port, 53);
	assert_int_equal(cfg->servers[0].line, 1);
	assert_int_equal(cfg->servers[1].line, 5);
	assert_int_equal(cfg->servers[2].line, 8);
	assert_string_equal(cfg->servers[2].file, "T");
	assert_non_null(cfg->servers[0].kubernetes);
	assert_null(cfg->servers[1].kubernetes);
	assert_strv(cfg->servers[1].binds, cfg->servers[1].nbinds, "10.0.0.1");
	assert_strv(cfg->servers[2].kubernetes->zones,
	    cfg->servers[2].kubernetes->nzones, "example.org");
	assert_int_equal(cfg->servers[2].kubernetes->line, 9);

	config_set_port(cfg, 5300);
	assert_int_equal(cfg->servers[0].port, 5300);
	assert_int_equal(cfg->servers[1].port, 5300);
	assert_int_equal(cfg->servers[2].port, 5300);
	config_free(cfg);
	config_free(NULL);
}

static void
test_directive_errors(void **state)
{
	static const struct err_case cases[] = {
		{ ". {\n nosuch\n}", "T:2: unknown directive 'nosuch'" },
		{ ". {\n errors x\n}", "T:2: errors: takes no arguments" },
		{ ". {\n whoami {\n }\n}", "T:2: whoami: takes no arguments" },
		{ ". {\n loadbalance weighted f\n}",
		    "T:2: loadbalance: only round_robin is supported" },
		{ ". {\n log . \"{>id} {name}\"\n}",
		    "T:2: log: only the {common} and {combined} formats are supported" },
		{ ". {\n log {\n  class sometimes\n }\n}",
		    "T:3: log: unknown class 'sometimes' (success, denial, error, all)" },
		{ ". {\n log {\n  format x\n }\n}",
		    "T:3: log: unknown option 'format' (class CLASSES...)" },
		{ ". {\n errors {\n  consolidate 5m\n }\n}",
		    "T:3: errors: consolidate DURATION REGEXP [LEVEL] [show_first]" },
		{ ". {\n errors {\n  consolidate 5m \"(\"\n }\n}",
		    "T:3: errors: consolidate: invalid regular expression '('" },
		{ ". {\n errors {\n  consolidate 5m x loud\n }\n}",
		    "T:3: errors: consolidate: unknown level 'loud' (warning, error, info, debug)" },
		{ ". {\n reload 1s\n}",
		    "T:2: reload: interval must be at least 2s" },
		{ ". {\n reload soon\n}", "T:2: reload: invalid duration 'soon'" },
		{ ". {\n errors\n errors\n}", "T:3: directive 'errors' can only be used once per server block (first at T:2)" },
		{ ". {\n bind 127.0.0.1\n Kubernetes\n}",
		  "T:3: unknown directive 'Kubernetes'" },
		{ ". {\n kubernetes\n forward . 8.8.8.8 {\n  policy fastest\n }\n}",
		  "T:4: forward option 'policy': unknown policy 'fastest' (random, round_robin or sequential)" },
		{ ". {\n kubernetes\n\n kubernetes cluster.local\n}",
		  "T:4: directive 'kubernetes' can only be used once per "
		  "server block (first at T:2)" },
		{ ". {\n bind\n}", "T:2: bind: needs at least one address" },
		{ ". {\n bind 127.0.0.1 localhost\n}",
		  "T:2: bind: 'localhost' is neither an IP address nor an interface with one" },
		{ ". {\n bind 10.0.0.1/8\n}",
		  "T:2: bind: '10.0.0.1/8' is neither an IP address nor an interface with one" },
		{ ". {\n bind 10.0.0.1 {\n  except 10.0.0.1\n }\n}",
		  "T:2: bind: every address is excepted" },
		{ ". {\n bind 10.0.0.1 {\n  only 10.0.0.1\n }\n}",
		  "T:3: bind: unknown option 'only' (except ADDRESS...)" },
		{ "a.org:53 {\n}\nb.org {\n}\nA.ORG {\n}",
		  "T:5: zone 'a.org' port 53 is already served by the block "
		  "at T:1" },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_bind(void **state)
{
	struct config *cfg;

	cfg = parse_ok(". {\n bind 127.0.0.1 ::1\n bind 10.0.0.1 ::1 "
	    "fe80::1\n}\n.:54 {\n}\n");
	assert_strv(cfg->servers[0].binds, cfg->servers[0].nbinds,
	    "127.0.0.1 ::1 10.0.0.1 fe80::1");
	assert_int_equal(cfg->servers[1].nbinds, 0);
	/* The same zone on another port is another server. */
	assert_strv(cfg->servers[1].zones, cfg->servers[1].nzones, ".");
	config_free(cfg);
}

static void
test_kubernetes_defaults(void **state)
{
	const struct config_kubernetes *k;
	struct config *cfg;

	cfg = parse_ok("cluster.local in-addr.arpa:53 {\n\n kubernetes\n}\n");
	k = cfg->servers[0].kubernetes;
	assert_non_null(k);
	assert_strv(k->zones, k->nzones, "cluster.local in-addr.arpa");
	assert_int_equal(k->ttl, 5);
	assert_int_equal(k->pods, PODS_DISABLED);
	assert_false(k->endpoint_pod_names);
	assert_int_equal(k->nnamespaces, 0);
	assert_false(k->noendpoints);
	assert_false(k->ignore_empty_service);
	assert_false(k->fallthrough);
	assert_int_equal(k->nfallthrough_zones, 0);
	assert_null(k->manifests);
	assert_null(k->endpoint);
	assert_null(k->tls_cert);
	assert_null(k->tls_key);
	assert_null(k->tls_ca);
	assert_null(k->kubeconfig);
	assert_null(k->kubeconfig_context);
	assert_null(k->labels);
	assert_null(k->namespace_labels);
	assert_int_equal(k->startup_timeout_ms, 5000);
	assert_string_equal(k->file, "T");
	assert_int_equal(k->line, 3);
	config_free(cfg);
}

static void
test_kubernetes_options(void **state)
{
	const struct config_kubernetes *k;
	struct config *cfg;

	cfg = parse_ok(". {\n"
	    " kubernetes Cluster.Local. svc.example.org 10.0.0.0/8 fd00::/8 {\n"
	    "  ttl 0\n"
	    "  pods verified\n"
	    "  endpoint_pod_names\n"
	    "  namespaces kube-system default kube-system\n"
	    "  noendpoints\n"
	    "  ignore empty_service\n"
	    "  fallthrough\n"
	    "  manifests /srv/manifests\n"
	    " }\n}\n");
	k = cfg->servers[0].kubernetes;
	assert_strv(k->zones, k->nzones, "cluster.local svc.example.org "
	    "10.in-addr.arpa d.f.ip6.arpa");
	assert_int_equal(k->ttl, 0);
	assert_int_equal(k->pods, PODS_VERIFIED);
	assert_true(k->endpoint_pod_names);
	assert_strv(k->namespaces, k->nnamespaces, "kube-system default");
	assert_true(k->noendpoints);
	assert_true(k->ignore_empty_service);
	assert_true(k->fallthrough);
	assert_int_equal(k->nfallthrough_zones, 0);
	assert_string_equal(k->manifests, "/srv/manifests");
	config_free(cfg);

	cfg = parse_ok("cluster.local {\n kubernetes svc.cluster.local {\n"
	    "  ttl 3600\n  pods disabled\n  fallthrough Example.org. "
	    "10.0.0.0/8\n }\n}\n");
	k = cfg->servers[0].kubernetes;
	assert_strv(k->zones, k->nzones, "svc.cluster.local");
	assert_int_equal(k->ttl, 3600);
	assert_int_equal(k->pods, PODS_DISABLED);
	assert_strv(k->fallthrough_zones, k->nfallthrough_zones,
	    "example.org 10.in-addr.arpa");
	config_free(cfg);
}

static void
test_kubernetes_env(void **state)
{
	struct config *cfg;

	setenv("PDT_TTL", "30", 1);
	unsetenv("PDT_PODS");
	cfg = parse_ok(". {\n kubernetes {\n  ttl {$PDT_TTL}\n"
	    "  pods {$PDT_PODS:insecure}\n }\n}\n");
	assert_int_equal(cfg->servers[0].kubernetes->ttl, 30);
	assert_int_equal(cfg->servers[0].kubernetes->pods, PODS_INSECURE);
	config_free(cfg);
}

static void
test_manifests_path(void **state)
{
	struct config *cfg;
	char	 err[512];

	cfg = config_parse("/etc/coredns/Corefile", ". {\n kubernetes {\n"
	    "  manifests zones/m\n }\n}\n", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->servers[0].kubernetes->manifests,
	    "/etc/coredns/zones/m");
	config_free(cfg);
	cfg = parse_ok(". {\n kubernetes {\n  manifests m\n }\n}\n");
	assert_string_equal(cfg->servers[0].kubernetes->manifests, "m");
	config_free(cfg);
	cfg = config_load(DATA "/local/Corefile", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->servers[0].kubernetes->manifests,
	    DATA "/local/manifests");
	assert_int_equal(cfg->servers[0].port, 1053);
	config_free(cfg);
}

/* The API options; file names are relative to the Corefile, as manifests. */
static void
test_api_options(void **state)
{
	const struct config_kubernetes *k;
	struct config *cfg;
	char	 err[512];

	cfg = config_parse("/etc/coredns/Corefile", ". {\n kubernetes {\n"
	    "  endpoint https://10.0.0.1:6443 https://10.0.0.2:6443\n"
	    "  tls certs/client.crt /abs/client.key ca.crt\n"
	    "  kubeconfig kube/config prod\n"
	    "  labels app=web, tier in (fe,be),   !legacy\n"
	    "  namespace_labels istio-injection=enabled\n"
	    "  startup_timeout 1m30s\n }\n}\n", err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	k = cfg->servers[0].kubernetes;
	assert_string_equal(k->endpoint, "https://10.0.0.1:6443");
	assert_string_equal(k->tls_cert, "/etc/coredns/certs/client.crt");
	assert_string_equal(k->tls_key, "/abs/client.key");
	assert_string_equal(k->tls_ca, "/etc/coredns/ca.crt");
	assert_string_equal(k->kubeconfig, "/etc/coredns/kube/config");
	assert_string_equal(k->kubeconfig_context, "prod");
	/* CoreDNS joins the arguments with spaces. */
	assert_string_equal(k->labels, "app=web, tier in (fe,be), !legacy");
	assert_string_equal(k->namespace_labels, "istio-injection=enabled");
	assert_int_equal(k->startup_timeout_ms, 90000);
	config_free(cfg);

	cfg = parse_ok(". {\n kubernetes {\n  endpoint api:8080\n"
	    "  kubeconfig \"/k c\"\n  namespaces a\n  labels x=\n }\n}\n");
	k = cfg->servers[0].kubernetes;
	assert_string_equal(k->endpoint, "api:8080");
	assert_string_equal(k->kubeconfig, "/k c");
	assert_null(k->kubeconfig_context);
	assert_string_equal(k->labels, "x=");
	config_free(cfg);

	cfg = parse_ok(". {\n kubernetes {\n  kubeconfig kc \"\"\n"
	    "  tls a b c\n }\n}\n");
	k = cfg->servers[0].kubernetes;
	assert_string_equal(k->kubeconfig, "kc");
	assert_null(k->kubeconfig_context);
	assert_string_equal(k->tls_cert, "a");
	config_free(cfg);
}

/* Go's time.ParseDuration, in milliseconds rounded up. */
static void
test_startup_timeout(void **state)
{
	static const struct {
		const char *text;
		int	 ms;
	} cases[] = {
		{ "5s", 5000 }, { "500ms", 500 }, { "1m", 60000 },
		{ "1h", 3600000 }, { "1m30s", 90000 }, { "1.5h", 5400000 },
		{ ".5s", 500 }, { "5.s", 5000 }, { "+2s", 2000 }, { "0", 0 },
		{ "-0", 0 }, { "0s", 0 }, { "-5s", 0 }, { "1ns", 1 },
		{ "999us", 1 }, { "1001us", 2 }, { "2\xc2\xb5s", 1 },
		{ "2\xce\xbcs", 1 }, { "1h2m3s4ms5us6ns", 3723005 },
		{ "0.000000001s", 1 }, { "0.0000000001s", 0 },
		{ "0.1000000000000000000000000000001s", 100 },
		{ "1.99999999999999999999999s", 2000 }, { "1000h", INT_MAX },
		{ "2562047h", INT_MAX },
	};
	struct config *cfg;
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), ". {\n kubernetes {\n"
		    "  startup_timeout %s\n }\n}\n", cases[i].text);
		cfg = parse_ok(text);
		if (cfg->servers[0].kubernetes->startup_timeout_ms !=
		    cases[i].ms)
			fail_msg("'%s': got %d ms, want %d", cases[i].text,
			    cfg->servers[0].kubernetes->startup_timeout_ms,
			    cases[i].ms);
		config_free(cfg);
	}
}

/* Label selectors Kubernetes (and so CoreDNS) accepts. */
static void
test_label_selectors(void **state)
{
	static const char *const good[] = {
		"app", "!app", "app=web", "app==web", "app = web",
		"app in (web,api)", "app notin (a)", "app in ()",
		"app in (a,)", "app in (,a)", "app in (a,,b)", "x=",
		"example.com/app=web", "a.b_c-d=E.f_g-h",
		"app=web,!legacy,tier in (fe, be)", "in-x=in", "k=in",
		"k in (in, notin)", "\"\"",
	};
	struct config *cfg;
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), ". {\n kubernetes {\n"
		    "  labels %s\n  namespace_labels %s\n }\n}\n", good[i],
		    good[i]);
		cfg = parse_ok(text);
		assert_non_null(cfg->servers[0].kubernetes->labels);
		assert_non_null(cfg->servers[0].kubernetes->namespace_labels);
		config_free(cfg);
	}
}

/* The option sits on line 3 of "cluster.local in-addr.arpa { kubernetes {". */
static void
test_kubernetes_option_errors(void **state)
{
	static const struct {
		const char *body;
		const char *want;
	} cases[] = {
		{ "ttl", "T:3: kubernetes option 'ttl': wrong number of "
		  "arguments (0)" },
		{ "ttl 1 2", "T:3: kubernetes option 'ttl': wrong number of "
		  "arguments (2)" },
		{ "ttl 3601", "T:3: kubernetes option 'ttl': '3601' is not a "
		  "number in 0..3600" },
		{ "ttl -1", "T:3: kubernetes option 'ttl': '-1' is not a "
		  "number in 0..3600" },
		{ "ttl abc", "'abc' is not a number in 0..3600" },
		{ "ttl 99999", "'99999' is not a number in 0..3600" },
		{ "ttl 5s", "'5s' is not a number in 0..3600" },
		{ "ttl \"\"", "'' is not a number in 0..3600" },
		{ "pods", "T:3: kubernetes option 'pods': wrong number of "
		  "arguments (0)" },
		{ "pods maybe", "T:3: kubernetes option 'pods': unknown mode "
		  "'maybe' (disabled, insecure or verified)" },
		{ "pods Insecure", "unknown mode 'Insecure'" },
		{ "pods insecure verified", "'pods': wrong number of "
		  "arguments (2)" },
		{ "endpoint_pod_names x", "T:3: kubernetes option "
		  "'endpoint_pod_names': wrong number of arguments (1)" },
		{ "namespaces", "T:3: kubernetes option 'namespaces': wrong "
		  "number of arguments (0)" },
		{ "noendpoints yes", "'noendpoints': wrong number of "
		  "arguments (1)" },
		{ "ignore", "'ignore': wrong number of arguments (0)" },
		{ "ignore everything", "T:3: kubernetes option 'ignore': "
		  "unknown value 'everything' (only empty_service)" },
		{ "ignore empty_service x", "'ignore': wrong number of "
		  "arguments (2)" },
		{ "fallthrough bad!zone", "T:3: kubernetes option "
		  "'fallthrough': zone 'bad!zone': not a valid domain name" },
		{ "fallthrough 10.0.0.0/12", "zone '10.0.0.0/12': CIDR mask "
		  "is not on an octet boundary" },
		{ "manifests", "'manifests': wrong number of arguments (0)" },
		{ "manifests a b", "'manifests': wrong number of arguments "
		  "(2)" },
		{ "manifests \"\"", "T:3: kubernetes option 'manifests': "
		  "empty directory" },
		{ "bogus", "T:3: kubernetes: unknown option 'bogus'" },
		{ "resyncperiod 5m", "T:3: kubernetes: unknown option "
		  "'resyncperiod'" },
		{ "pods insecure {\n   }", "T:3: kubernetes option 'pods': "
		  "takes no block" },
		{ "ttl 5\n  pods insecure\n  ttl 6", "T:5: kubernetes option "
		  "'ttl': given twice" },
		{ "namespaces a\n  namespaces b", "T:4: kubernetes option "
		  "'namespaces': given twice" },
		{ "endpoint", "T:3: kubernetes option 'endpoint': wrong number "
		  "of arguments (0)" },
		{ "endpoint ftp://10.0.0.1", "T:3: kubernetes option "
		  "'endpoint': 'ftp://10.0.0.1': only http:// and https:// "
		  "URLs" },
		{ "endpoint https://", "T:3: kubernetes option 'endpoint': "
		  "'https://' has no host" },
		{ "endpoint http:///api", "'http:///api' has no host" },
		{ "endpoint \"\"", "'endpoint': '' has no host" },
		{ "endpoint a\n  endpoint b", "T:4: kubernetes option "
		  "'endpoint': given twice" },
		{ "tls a b", "T:3: kubernetes option 'tls': wrong number of "
		  "arguments (2)" },
		{ "tls a b c d", "'tls': wrong number of arguments (4)" },
		{ "tls a \"\" c", "T:3: kubernetes option 'tls': empty file "
		  "name" },
		{ "kubeconfig", "T:3: kubernetes option 'kubeconfig': wrong "
		  "number of arguments (0)" },
		{ "kubeconfig a b c", "'kubeconfig': wrong number of "
		  "arguments (3)" },
		{ "kubeconfig \"\" ctx", "T:3: kubernetes option "
		  "'kubeconfig': empty file name" },
		{ "labels", "T:3: kubernetes option 'labels': wrong number of "
		  "arguments (0)" },
		{ "labels app web", "T:3: kubernetes option 'labels': invalid "
		  "label selector 'app web': found 'web', expected: in, notin, "
		  "=, ==" },
		{ "labels app!=web", "invalid label selector 'app!=web': "
		  "operator '!=' is not supported in label selectors" },
		{ "labels replicas>1", "operator '>' is not supported" },
		{ "labels replicas < 1", "operator '<' is not supported" },
		{ "labels app in web", "found 'web', expected: '('" },
		{ "labels app in (web", "found '', expected: ',' or ')'" },
		{ "labels app in (a b)", "found 'b', expected: ',' or ')'" },
		{ "labels app in (=)", "found '=', expected: ',', ')' or "
		  "identifier" },
		{ "labels app in (a,=)", "found '=', expected: ',', ')' or "
		  "identifier" },
		{ "labels app=web,", "found '', expected: identifier after ','" },
		{ "labels app=web tier=fe", "found 'tier', expected: ',' or "
		  "'end of string'" },
		{ "labels !app=web", "found '=', expected: ',' or 'end of "
		  "string'" },
		{ "labels !", "found '', expected: identifier" },
		{ "labels =web", "found '=', expected: !, identifier, or 'end "
		  "of string'" },
		{ "labels in=x", "found 'in', expected: !, identifier, or "
		  "'end of string'" },
		{ "labels app=(", "found '(', expected: identifier" },
		{ "labels -app=web", "invalid label key '-app'" },
		{ "labels Example.com/app=web", "invalid label key "
		  "'Example.com/app'" },
		{ "labels a/b/c", "invalid label key 'a/b/c'" },
		{ "labels /app", "invalid label key '/app'" },
		{ "labels a..b/app", "invalid label key 'a..b/app'" },
		{ "labels "
		  "a1234567890123456789012345678901234567890123456789012345678901"
		  "23=x", "invalid label key" },
		{ "labels app=web-", "invalid label value 'web-'" },
		{ "labels app in (ok, b@d)", "invalid label value 'b@d'" },
		{ "namespace_labels", "T:3: kubernetes option "
		  "'namespace_labels': wrong number of arguments (0)" },
		{ "namespace_labels team!=x", "T:3: kubernetes option "
		  "'namespace_labels': invalid label selector 'team!=x': "
		  "operator '!=' is not supported in label selectors" },
		{ "startup_timeout", "T:3: kubernetes option 'startup_timeout': "
		  "wrong number of arguments (0)" },
		{ "startup_timeout 5 s", "'startup_timeout': wrong number of "
		  "arguments (2)" },
		{ "startup_timeout 5", "T:3: kubernetes option "
		  "'startup_timeout': invalid duration '5' (as 5s, 500ms or "
		  "1m30s)" },
		{ "startup_timeout 5x", "invalid duration '5x'" },
		{ "startup_timeout 5sec", "invalid duration '5sec'" },
		{ "startup_timeout \"\"", "invalid duration ''" },
		{ "startup_timeout s", "invalid duration 's'" },
		{ "startup_timeout .s", "invalid duration '.s'" },
		{ "startup_timeout 1h1", "invalid duration '1h1'" },
		{ "startup_timeout 1.2.3s", "invalid duration '1.2.3s'" },
		{ "startup_timeout --5s", "invalid duration '--5s'" },
		{ "startup_timeout -", "invalid duration '-'" },
		{ "startup_timeout 5S", "invalid duration '5S'" },
		{ "startup_timeout 9223372037s", "invalid duration "
		  "'9223372037s'" },
		{ "startup_timeout 99999999999999999999ns", "invalid duration "
		  "'99999999999999999999ns'" },
		{ "startup_timeout 2562048h", "invalid duration '2562048h'" },
	};
	struct config *cfg;
	char	 text[512], err[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "cluster.local in-addr.arpa {\n"
		    " kubernetes {\n  %s\n }\n}\n", cases[i].body);
		cfg = config_parse("T", text, err, sizeof(err));
		if (cfg != NULL || strstr(err, cases[i].want) == NULL)
			fail_msg("'%s':\n got  %s\n want %s", cases[i].body,
			    cfg ? "(parsed)" : err, cases[i].want);
	}
}

static void
test_kubernetes_zone_errors(void **state)
{
	static const struct err_case cases[] = {
		{ ". {\n kubernetes {\n  namespaces a\n  namespace_labels x=y\n"
		  " }\n}", "T:2: kubernetes: namespaces and namespace_labels "
		  "cannot both be set" },
		{ ". {\n kubernetes {\n  namespace_labels x=y\n  namespaces a\n"
		  " }\n}", "T:2: kubernetes: namespaces and namespace_labels "
		  "cannot both be set" },
		{ "cluster.local {\n kubernetes example.org\n}",
		  "T:2: kubernetes: zone 'example.org' is not within the "
		  "server block's zones" },
		{ "cluster.local {\n kubernetes local\n}",
		  "T:2: kubernetes: zone 'local' is not within the server "
		  "block's zones" },
		{ "cluster.local {\n kubernetes xcluster.local\n}",
		  "T:2: kubernetes: zone 'xcluster.local' is not within the "
		  "server block's zones" },
		{ "10.0.0.0/8 {\n kubernetes 11.0.0.0/8\n}",
		  "T:2: kubernetes: zone '11.0.0.0/8' is not within the "
		  "server block's zones" },
		{ ". {\n kubernetes bad!zone\n}",
		  "T:2: kubernetes: zone 'bad!zone': not a valid domain name" },
		{ ". {\n kubernetes 10.0.0.0/9\n}",
		  "T:2: kubernetes: zone '10.0.0.0/9': CIDR mask is not on an "
		  "octet boundary" },
	};

	check_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeadm_default),
		cmocka_unit_test(test_kubeadm_restricted),
		cmocka_unit_test(test_simple_directives),
		cmocka_unit_test(test_log_and_errors_options),
		cmocka_unit_test(test_bind_interface),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_directive_errors),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_kubernetes_defaults),
		cmocka_unit_test(test_kubernetes_options),
		cmocka_unit_test(test_kubernetes_env),
		cmocka_unit_test(test_manifests_path),
		cmocka_unit_test(test_api_options),
		cmocka_unit_test(test_startup_timeout),
		cmocka_unit_test(test_label_selectors),
		cmocka_unit_test(test_kubernetes_option_errors),
		cmocka_unit_test(test_kubernetes_zone_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
