/* test_kubeconfig.c -- kubeconfig files, in-cluster service accounts and the Corefile's endpoint to struct kube_auth. */
#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "kubeconfig.h"
#include "xmalloc.h"

#define DATA	TESTDATA "/kubeconfig"
#define KC	DATA "/config.yaml"

/* Expected fields; NULL is unset, "@NAME" the contents of DATA/NAME. */
struct want {
	const char *server;
	const char *ca_file;
	const char *ca_data;
	const char *cert_file;
	const char *cert_data;
	const char *key_file;
	const char *key_data;
	const char *token;
	const char *token_file;
	const char *namespace;
	bool	 insecure;
	const char *bearer;	/* what kubeconfig_token gives */
};

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 len;

	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = xcalloc(1, (size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static void
check_field(const char *name, const char *got, const char *want)
{
	char	*path, *text = NULL;

	if (want != NULL && want[0] == '@') {
		path = xasprintf("%s/%s", DATA, want + 1);
		want = text = slurp(path);
		free(path);
	}
	if (want == NULL && got != NULL)
		fail_msg("%s: got '%s', want unset", name, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("%s: got '%s', want '%s'", name, got ? got : "(unset)",
		    want);
	free(text);
}

static void
check_auth(const struct kube_auth *a, const struct want *w)
{
	char	*tok;

	assert_non_null(a);
	check_field("server", a->server, w->server);
	check_field("ca_file", a->ca_file, w->ca_file);
	check_field("ca_data", a->ca_data, w->ca_data);
	check_field("cert_file", a->cert_file, w->cert_file);
	check_field("cert_data", a->cert_data, w->cert_data);
	check_field("key_file", a->key_file, w->key_file);
	check_field("key_data", a->key_data, w->key_data);
	check_field("token", a->token, w->token);
	check_field("token_file", a->token_file, w->token_file);
	check_field("namespace", a->namespace, w->namespace);
	assert_int_equal(a->insecure, w->insecure);
	tok = kubeconfig_token(a);
	check_field("kubeconfig_token", tok, w->bearer);
	free(tok);
}

static void
load_ok(const char *path, const char *context, const struct want *w)
{
	struct kube_auth *a;
	char	 err[512];

	if ((a = kubeconfig_load(path, context, err, sizeof(err))) == NULL)
		fail_msg("%s %s: %s", path, context ? context : "", err);
	check_auth(a, w);
	kube_auth_free(a);
}

/* The current context: static token, a CA file relative to the kubeconfig. */
static void
test_token(void **state)
{
	const struct want w = {
		.server = "https://10.0.0.1:6443", .ca_file = DATA "/ca.crt",
		.token = "kc-static-token", .namespace = "kube-system",
		.bearer = "kc-static-token",
	};

	load_ok(KC, NULL, &w);
	load_ok(KC, "dev", &w);
}

/* A named context: tokenFile (relative), insecure, trailing slash dropped. */
static void
test_token_file(void **state)
{
	const struct want w = {
		.server = "https://prod.example.org", .insecure = true,
		.token_file = DATA "/secrets/token", .bearer = "kc-file-token",
	};

	load_ok(KC, "insecure", &w);
}

static void
test_cert_data(void **state)
{
	const struct want w = {
		.server = "https://[fd00::1]:6443", .ca_data = "@ca.crt",
		.cert_data = "@client.crt", .key_data = "@client.key",
	};

	load_ok(KC, "certs", &w);
}

static void
test_cert_files(void **state)
{
	const struct want w = {
		.server = "https://10.0.0.1:6443", .ca_file = DATA "/ca.crt",
		.cert_file = DATA "/client.crt", .key_file = DATA "/client.key",
	};

	load_ok(KC, "cert-files", &w);
}

/* No user is anonymous; over http, client-go sends no credentials. */
static void
test_anonymous_and_http(void **state)
{
	const struct want anon = {
		.server = "https://10.0.0.1:6443", .ca_file = DATA "/ca.crt",
	};
	const struct want plain = { .server = "http://127.0.0.1:8080" };

	load_ok(KC, "anonymous", &anon);
	load_ok(KC, "plain", &plain);
}

static void
test_json(void **state)
{
	const struct want w = {
		.server = "https://json.example.org:6443",
		.ca_file = DATA "/ca.crt", .token = "kc-json-token",
		.namespace = "json-ns", .bearer = "kc-json-token",
	};

	load_ok(DATA "/config.json", NULL, &w);
}

/* Errors name the file and the entry, never the secrets next to them. */
static void
test_errors(void **state)
{
	static const struct {
		const char *path;
		const char *context;
		const char *want;
		const char *secret;	/* must not appear */
	} cases[] = {
		{ KC, "nope", KC ": context \"nope\" not found", NULL },
		{ KC, "exec", KC ": user \"exec-user\": exec credential "
		  "plugins are not supported (use a token, tokenFile or client "
		  "certificate)", "kc-exec-secret" },
		{ KC, "auth-provider", KC ": user \"gcp-user\": auth-provider "
		  "plugins are not supported (use a token, tokenFile or client "
		  "certificate)", "kc-provider-secret" },
		{ KC, "basic", KC ": user \"basic-user\": username/password "
		  "authentication is not supported (use a token, tokenFile or "
		  "client certificate)", "kc-basic-secret" },
		{ KC, "bad-data", KC ": user \"bad-data\": "
		  "client-certificate-data is not base64 of PEM text",
		  "not*base64" },
		{ KC, "missing-ca", KC ": cluster \"missing-ca\": "
		  "certificate-authority " DATA "/nowhere/ca.crt: No such file "
		  "or directory", NULL },
		{ KC, "ghost-user", KC ": user \"nobody\" of context "
		  "\"ghost-user\" not found", NULL },
		{ KC, "ghost-cluster", KC ": cluster \"nowhere\" of context "
		  "\"ghost-cluster\" not found", NULL },
		{ DATA "/nocurrent.yaml", NULL, DATA "/nocurrent.yaml: no "
		  "current-context and no context given", NULL },
		{ DATA "/broken.yaml", NULL, DATA "/broken.yaml: line 7: did "
		  "not find expected key (while parsing a block mapping at "
		  "line 4)", NULL },
		{ DATA "/missing.yaml", NULL, DATA "/missing.yaml: No such "
		  "file or directory", NULL },
		{ DATA, NULL, DATA ": not a regular file", NULL },
	};
	struct kube_auth *a;
	char	 err[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = kubeconfig_load(cases[i].path, cases[i].context, err,
		    sizeof(err));
		if (a != NULL || strcmp(err, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i,
			    a ? "(loaded)" : err, cases[i].want);
		if (cases[i].secret != NULL)
			assert_null(strstr(err, cases[i].secret));
	}
}

static char	tmpdir[] = "/tmp/kcfg-test-XXXXXX";

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup_tmp(void **state)
{
	strcpy(tmpdir, "/tmp/kcfg-test-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	return nftw(tmpdir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes DIR/name (created as needed) and returns its path. */
static char *
put(const char *name, const char *text)
{
	char	*path = xasprintf("%s/%s", tmpdir, name), *slash;
	FILE	*f;

	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

#define KC_HEAD	"apiVersion: v1\nkind: Config\ncurrent-context: c\n" \
		"contexts:\n- name: c\n  context: {cluster: c, user: u}\n"

/* Small kubeconfigs with what client-go refuses, or petdns does. */
static void
test_inline_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;	/* after "PATH: " */
	} cases[] = {
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x,"
		  " certificate-authority: ca, certificate-authority-data: "
		  "eA==}\nusers: [{name: u, user: {}}]\n",
		  "cluster \"c\": certificate-authority and "
		  "certificate-authority-data are both set" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x,"
		  " certificate-authority-data: eA==, insecure-skip-tls-verify:"
		  " true}\nusers: [{name: u, user: {}}]\n",
		  "cluster \"c\": insecure-skip-tls-verify with a certificate "
		  "authority" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x,"
		  " insecure-skip-tls-verify: \"true\"}\nusers: [{name: u, "
		  "user: {}}]\n",
		  "cluster \"c\": insecure-skip-tls-verify is not a boolean" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {certificate-"
		  "authority: ca}\nusers: [{name: u, user: {}}]\n",
		  "cluster \"c\" has no server" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: "
		  "ftp://x}\nusers: [{name: u, user: {}}]\n",
		  "cluster \"c\": server 'ftp://x' is not an http:// or "
		  "https:// URL" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x,"
		  " tls-server-name: y}\nusers: [{name: u, user: {}}]\n",
		  "cluster \"c\": tls-server-name is not supported" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {client-certificate-data: eA==}}]"
		  "\n",
		  "user \"u\": client-certificate without client-key or "
		  "client-key-data" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {client-certificate: a, "
		  "client-certificate-data: eA==, client-key: k}}]\n",
		  "user \"u\": client-certificate and client-certificate-data "
		  "are both set" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {client-certificate: a, "
		  "client-key: k, client-key-data: eA==}}]\n",
		  "user \"u\": client-key and client-key-data are both set" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {token: 12345}}]\n",
		  "user \"u\": token is not a string" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {as: admin, token: t}}]\n",
		  "user \"u\": impersonation is not supported (use a token, "
		  "tokenFile or client certificate)" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\nusers: [{name: u, user: {tokenFile: gone}}]\n",
		  "user \"u\": tokenFile TMP/gone: No such file or directory" },
		{ KC_HEAD "clusters:\n- name: c\n  cluster: {server: https://x}"
		  "\n- name: c\n  cluster: {server: https://y}\n",
		  "cluster \"c\" is listed twice" },
		{ KC_HEAD "clusters: {c: {server: https://x}}\n",
		  "clusters is not a list" },
		{ "current-context: c\ncontexts: [{name: c, context: {user: "
		  "u}}]\n", "context \"c\" names no cluster" },
		{ "kind: Pod\ncurrent-context: c\n", "kind is Pod, not Config" },
		{ "- a\n- b\n", "not a mapping" },
		{ "", "no document" },
		{ "# only a comment\n", "no document" },
		{ "kind: Config\n---\nkind: Config\n", "more than one document" },
		{ "{\"kind\": \"Config\",", "line 1: unexpected end of JSON" },
	};
	struct kube_auth *a;
	char	 err[512], *path, *want, *p;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path = put("kc.yaml", cases[i].text);
		want = xasprintf("%s: %s", path, cases[i].want);
		if ((p = strstr(want, "TMP")) != NULL) {
			free(want);
			want = xasprintf("%s: %.*s%s%s", path,
			    (int)(strstr(cases[i].want, "TMP") - cases[i].want),
			    cases[i].want, tmpdir,
			    strstr(cases[i].want, "TMP") + 3);
		}
		a = kubeconfig_load(path, NULL, err, sizeof(err));
		if (a != NULL || strcmp(err, want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i,
			    a ? "(loaded)" : err, want);
		free(want);
		free(path);
	}
}

/* What loads: a tokenFile beside a token, base64 over lines, a null user. */
static void
test_inline_ok(void **state)
{
	struct kube_auth *a;
	char	 err[512], *path, *tf;

	path = put("kc.yaml", KC_HEAD "clusters:\n- name: c\n  cluster:\n"
	    "    server: HTTPS://x:6443//\n    certificate-authority-data: |\n"
	    "      LS0tLS1CRUdJTiBDRVJUSUZJQ0FU\n"
	    "      RS0tLS0tCg==\nusers:\n- name: u\n  user:\n"
	    "    token: t-static\n    tokenFile: later\n");
	a = kubeconfig_load(path, NULL, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://x:6443");
	assert_string_equal(a->ca_data, "-----BEGIN CERTIFICATE-----\n");
	assert_string_equal(a->token, "t-static");
	tf = xasprintf("%s/later", tmpdir);
	assert_string_equal(a->token_file, tf);
	free(path);
	/* The file, once it exists, wins over the static token. */
	path = put("later", "t-file\n");
	free(path);
	path = kubeconfig_token(a);
	assert_string_equal(path, "t-file");
	free(path);
	unlink(tf);
	free(tf);
	path = kubeconfig_token(a);
	assert_string_equal(path, "t-static");
	free(path);
	kube_auth_free(a);

	path = put("kc.json", "{\"current-context\": \"c\", \"contexts\": "
	    "[{\"name\": \"c\", \"context\": {\"cluster\": \"c\", "
	    "\"user\": null}}], \"clusters\": [{\"name\": \"c\", "
	    "\"cluster\": {\"server\": \"10.0.0.9:8443\"}}]}");
	a = kubeconfig_load(path, NULL, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	/* client-go's scheme for a bare host:port without TLS settings. */
	assert_string_equal(a->server, "http://10.0.0.9:8443");
	assert_null(kubeconfig_token(a));
	kube_auth_free(a);
	free(path);
}

/* $KUBECONFIG: the first file that exists; else ~/.kube/config. */
static void
test_env(void **state)
{
	struct kube_auth *a;
	char	 err[512], *path, *home;

	setenv("KUBECONFIG", "/nonexistent/a::" DATA "/config.json:" KC, 1);
	a = kubeconfig_load(NULL, NULL, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://json.example.org:6443");
	kube_auth_free(a);
	setenv("KUBECONFIG", "/nonexistent/a:" KC ":" DATA "/config.json", 1);
	a = kubeconfig_load(NULL, "insecure", err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://prod.example.org");
	kube_auth_free(a);
	setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
	assert_null(kubeconfig_load(NULL, NULL, err, sizeof(err)));
	assert_string_equal(err, "no kubeconfig: no file of $KUBECONFIG "
	    "(/nonexistent/a:/nonexistent/b) exists");

	unsetenv("KUBECONFIG");
	path = put(".kube/config", "clusters: [{name: h, cluster: {server: "
	    "https://home.example}}]\ncontexts: [{name: h, context: "
	    "{cluster: h}}]\ncurrent-context: h\n");
	home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	setenv("HOME", tmpdir, 1);
	a = kubeconfig_load(NULL, NULL, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://home.example");
	kube_auth_free(a);
	setenv("KUBECONFIG", "", 1);
	a = kubeconfig_load(NULL, NULL, err, sizeof(err));
	assert_non_null(a);
	kube_auth_free(a);
	unsetenv("KUBECONFIG");
	unsetenv("HOME");
	assert_null(kubeconfig_load(NULL, NULL, err, sizeof(err)));
	assert_string_equal(err, "no kubeconfig: neither $KUBECONFIG nor "
	    "$HOME is set");
	if (home != NULL)
		setenv("HOME", home, 1);
	free(home);
	free(path);
}

static void
set_cluster_env(const char *host, const char *port, const char *ns)
{
	if (host)
		setenv("KUBERNETES_SERVICE_HOST", host, 1);
	else
		unsetenv("KUBERNETES_SERVICE_HOST");
	if (port)
		setenv("KUBERNETES_SERVICE_PORT", port, 1);
	else
		unsetenv("KUBERNETES_SERVICE_PORT");
	if (ns)
		setenv("POD_NAMESPACE", ns, 1);
	else
		unsetenv("POD_NAMESPACE");
}

/* A service account directory, the token rotating under us. */
static void
test_in_cluster(void **state)
{
	struct kube_auth *a;
	char	 err[512], *sa, *tok, *token, *ca, *ns;

	sa = xasprintf("%s/sa", tmpdir);
	token = put("sa/token", "  sa-token-1\n");
	ca = put("sa/ca.crt", "-----BEGIN CERTIFICATE-----\n");
	ns = put("sa/namespace", "kube-system\n");
	set_cluster_env("10.96.0.1", "443", NULL);
	a = kubeconfig_in_cluster(sa, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://10.96.0.1:443");
	assert_string_equal(a->token_file, token);
	assert_string_equal(a->ca_file, ca);
	assert_string_equal(a->namespace, "kube-system");
	assert_null(a->token);
	assert_null(a->ca_data);
	assert_false(a->insecure);
	tok = kubeconfig_token(a);
	assert_string_equal(tok, "sa-token-1");
	free(tok);
	free(put("sa/token", "sa-token-2"));
	tok = kubeconfig_token(a);
	assert_string_equal(tok, "sa-token-2");
	free(tok);
	unlink(token);
	assert_null(kubeconfig_token(a));
	kube_auth_free(a);

	free(put("sa/token", "sa-token-3\n"));
	set_cluster_env("fd00::1", "6443", "from-env");
	a = kubeconfig_in_cluster(sa, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://[fd00::1]:6443");
	assert_string_equal(a->namespace, "from-env");
	kube_auth_free(a);

	unlink(ns);
	set_cluster_env("api.internal", "443", NULL);
	a = kubeconfig_in_cluster(sa, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_string_equal(a->server, "https://api.internal:443");
	assert_null(a->namespace);
	kube_auth_free(a);
	free(sa);
	free(token);
	free(ca);
	free(ns);
}

static void
test_in_cluster_errors(void **state)
{
	char	 err[512], *sa, *want, *p;

	sa = xasprintf("%s/sa", tmpdir);
	set_cluster_env(NULL, "443", NULL);
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	assert_string_equal(err, "not running in a cluster: "
	    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	set_cluster_env("10.96.0.1", "", NULL);
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	assert_non_null(strstr(err, "not running in a cluster"));
	set_cluster_env("10.96.0.1", "https", NULL);
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	assert_string_equal(err, "KUBERNETES_SERVICE_PORT 'https' is not a "
	    "port");
	set_cluster_env("10.96.0.1", "443", NULL);
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	want = xasprintf("service account token %s/token: No such file or "
	    "directory", sa);
	assert_string_equal(err, want);
	free(want);
	p = put("sa/token", " \n");
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	want = xasprintf("service account token %s/token: empty token", sa);
	assert_string_equal(err, want);
	free(want);
	free(put("sa/token", "sa-secret-token"));
	assert_null(kubeconfig_in_cluster(sa, err, sizeof(err)));
	want = xasprintf("service account CA %s/ca.crt: No such file or "
	    "directory", sa);
	assert_string_equal(err, want);
	assert_null(strstr(err, "sa-secret-token"));
	free(want);
	free(p);
	free(sa);
}

static struct kube_auth *
from_corefile(const char *options, char *err, size_t errlen)
{
	struct config	*cfg;
	struct kube_auth *a;
	char		*text;

	text = xasprintf(". {\n kubernetes {\n%s\n }\n}\n", options);
	/* Named as if in DATA: relative names resolve there. */
	if ((cfg = config_parse(DATA "/Corefile", text, err, errlen)) == NULL)
		fail_msg("%s", err);
	a = kubeconfig_from_config(cfg->servers[0].kubernetes, err, errlen);
	config_free(cfg);
	free(text);
	return a;
}

static void
from_corefile_ok(const char *options, const struct want *w)
{
	struct kube_auth *a;
	char	 err[512];

	if ((a = from_corefile(options, err, sizeof(err))) == NULL)
		fail_msg("%s: %s", options, err);
	check_auth(a, w);
	kube_auth_free(a);
}

/* CoreDNS's order: kubeconfig, else endpoint (+ tls), else in-cluster. */
static void
test_from_config(void **state)
{
	const struct want certs = {
		.server = "https://[fd00::1]:6443", .ca_data = "@ca.crt",
		.cert_data = "@client.crt", .key_data = "@client.key",
	};
	const struct want dev = {
		.server = "https://10.0.0.1:6443", .ca_file = DATA "/ca.crt",
		.token = "kc-static-token", .namespace = "kube-system",
		.bearer = "kc-static-token",
	};
	const struct want tls = {
		.server = "https://api.example.org:6443",
		.ca_file = DATA "/ca.crt", .cert_file = DATA "/client.crt",
		.key_file = DATA "/client.key",
	};
	const struct want https = { .server = "https://api.example.org" };
	const struct want http = { .server = "http://api.example.org:8080" };
	const struct want plain = { .server = "http://127.0.0.1:8080" };
	struct kube_auth *a;
	char	 err[512];

	from_corefile_ok("  kubeconfig config.yaml certs", &certs);
	from_corefile_ok("  kubeconfig config.yaml", &dev);
	from_corefile_ok("  kubeconfig config.yaml \"\"", &dev);
	from_corefile_ok("  endpoint https://10.9.9.9\n"
	    "  kubeconfig " KC " dev", &dev);
	from_corefile_ok("  endpoint https://api.example.org:6443/\n"
	    "  tls client.crt client.key ca.crt", &tls);
	from_corefile_ok("  tls client.crt client.key ca.crt\n"
	    "  endpoint api.example.org:6443", &tls);
	from_corefile_ok("  endpoint https://api.example.org/", &https);
	from_corefile_ok("  endpoint api.example.org:8080", &http);
	from_corefile_ok("  endpoint http://127.0.0.1:8080 http://other\n"
	    "  tls client.crt client.key ca.crt", &plain);

	a = from_corefile("  endpoint https://api.example.org\n"
	    "  tls missing.crt client.key ca.crt", err, sizeof(err));
	assert_null(a);
	assert_string_equal(err, "tls CERT " DATA "/missing.crt: No such "
	    "file or directory");
	a = from_corefile("  kubeconfig missing.yaml", err, sizeof(err));
	assert_null(a);
	assert_string_equal(err, DATA "/missing.yaml: No such file or "
	    "directory");
	set_cluster_env(NULL, NULL, NULL);
	a = from_corefile("  ttl 30", err, sizeof(err));
	assert_null(a);
	assert_string_equal(err, "not running in a cluster: "
	    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
}

static int	capture_fd = -1;
static FILE	*capture_file;

/* Sends stderr, where log.c writes, to a temporary file. */
static void
capture_start(void)
{
	fflush(stderr);
	assert_non_null(capture_file = tmpfile());
	capture_fd = dup(STDERR_FILENO);
	dup2(fileno(capture_file), STDERR_FILENO);
}

/* Restores stderr; returns what was logged. */
static char *
capture_end(void)
{
	char	*buf;
	long	 len;

	fflush(stderr);
	dup2(capture_fd, STDERR_FILENO);
	close(capture_fd);
	len = ftell(capture_file);
	buf = xcalloc(1, (size_t)len + 1);
	rewind(capture_file);
	assert_int_equal(fread(buf, 1, (size_t)len, capture_file),
	    (size_t)len);
	fclose(capture_file);
	fputs(buf, stderr);
	return buf;
}

/* kubeconfig_token without a file, and the trivial frees. */
static void
test_token_sources(void **state)
{
	struct kube_auth *a = xcalloc(1, sizeof(*a));
	char	*tok, *log;

	assert_null(kubeconfig_token(a));
	a->token = xstrdup("only-static");
	tok = kubeconfig_token(a);
	assert_string_equal(tok, "only-static");
	free(tok);
	a->token_file = xstrdup("/nonexistent/token");
	capture_start();
	tok = kubeconfig_token(a);
	log = capture_end();
	assert_string_equal(tok, "only-static");
	/* The failure is logged by file name; the token stays out of it. */
	assert_non_null(strstr(log, "[WARNING] bearer token "
	    "/nonexistent/token: No such file or directory"));
	assert_null(strstr(log, "only-static"));
	free(log);
	free(tok);
	kube_auth_free(a);
	kube_auth_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_cert_data),
		cmocka_unit_test(test_cert_files),
		cmocka_unit_test(test_anonymous_and_http),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_errors),
		cmocka_unit_test_setup_teardown(test_inline_errors, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_inline_ok, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_env, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_in_cluster, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(test_in_cluster_errors,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test(test_from_config),
		cmocka_unit_test(test_token_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
