/* test_manifest.c -- manifests to objects (YAML, JSON, lists, broken documents) and the directory reload. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "manifest.h"
#include "object.h"
#include "xmalloc.h"

/* What one manifest_parse() gave: objects, skips, and the log lines. */
struct parsed {
	struct object	**objs;
	size_t		  n;
	int		  skipped;
	char		 *log;
};

static int	capture_fd = -1;
static FILE	*capture_file;

/* Sends stderr, where log.c writes, to a temporary file. */
static void
capture_start(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	assert_non_null(capture_file);
	capture_fd = dup(STDERR_FILENO);
	dup2(fileno(capture_file), STDERR_FILENO);
}

/* Restores stderr; returns what was logged, also echoed for the reader. */
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
	if (len > 0 && fread(buf, 1, (size_t)len, capture_file) != (size_t)len)
		fail_msg("cannot read the captured log");
	fclose(capture_file);
	fputs(buf, stderr);
	return buf;
}

static void
parse_text(struct parsed *p, const char *name, const char *text, size_t len)
{
	memset(p, 0, sizeof(*p));
	capture_start();
	p->skipped = manifest_parse(name, text, len, &p->objs, &p->n);
	p->log = capture_end();
}

/* Parses tests/data/<rel>, named by its base name in messages. */
static void
parse_file(struct parsed *p, const char *rel)
{
	char	 path[512], *buf;
	FILE	*f;
	long	 len;

	snprintf(path, sizeof(path), "%s/%s", TESTDATA, rel);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* Not NUL-terminated: the parser must respect len. */
	parse_text(p, strrchr(rel, '/') + 1, buf, (size_t)len);
	free(buf);
}

static void
parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++)
		object_free(p->objs[i]);
	free(p->objs);
	free(p->log);
}

static void
assert_object(const struct object *o, enum object_kind kind, const char *ns,
    const char *name)
{
	assert_int_equal(o->kind, kind);
	if (ns == NULL)
		assert_null(o->ns);
	else
		assert_string_equal(o->ns, ns);
	assert_string_equal(o->name, name);
}

/* Each wanted line appears in the log, and the log has no others. */
static void
assert_log(const char *log, const char *const *want, size_t nwant)
{
	size_t	lines = 0;

	for (const char *p = log; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	for (size_t i = 0; i < nwant; i++)
		if (strstr(log, want[i]) == NULL)
			fail_msg("log lacks \"%s\"", want[i]);
	if (lines != nwant)
		fail_msg("%zu log lines, want %zu", lines, nwant);
}

static void
test_multi_doc(void **state)
{
	struct parsed		 p;
	const struct object	*svc, *pod, *sl;

	parse_file(&p, "manifests/multi.yaml");
	assert_int_equal(p.skipped, 0);
	assert_string_equal(p.log, "");
	assert_int_equal(p.n, 4);
	assert_object(p.objs[0], OBJECT_NAMESPACE, NULL, "shop");
	assert_object(p.objs[1], OBJECT_SERVICE, "shop", "web");
	assert_object(p.objs[2], OBJECT_POD, "shop", "web-0");
	assert_object(p.objs[3], OBJECT_ENDPOINTSLICE, "shop", "web-manual");
	svc = p.objs[1];
	assert_int_equal(svc->u.svc.nips, 0);	/* left to the simulation */
	assert_int_equal(svc->u.svc.nports, 2);
	assert_string_equal(svc->u.svc.ports[0].target_name, "http");
	assert_int_equal(svc->u.svc.ports[1].proto, IPPROTO_UDP);
	assert_string_equal(object_label(svc, "tier"), "front");
	pod = p.objs[2];
	assert_string_equal(pod->u.pod.subdomain, "web");
	assert_int_equal(pod->u.pod.ports[0].port, 8080);
	assert_false(pod->u.pod.has_status);
	sl = p.objs[3];
	assert_string_equal(sl->u.slice.service, "web");
	assert_true(sl->u.slice.endpoints[0].ready);
	assert_false(sl->u.slice.endpoints[1].ready);
	parsed_free(&p);
}

static void
test_json(void **state)
{
	struct parsed	p;

	parse_file(&p, "manifests/array.json");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.skipped, 0);
	assert_object(p.objs[0], OBJECT_SERVICE, "json", "one");
	assert_object(p.objs[1], OBJECT_SERVICE, "json", "two");
	assert_string_equal(p.objs[1]->u.svc.external_name, "two.example.org");
	parsed_free(&p);

	parse_file(&p, "manifests/stream.json");
	assert_int_equal(p.n, 2);
	assert_object(p.objs[0], OBJECT_NAMESPACE, NULL, "json");
	assert_int_equal(p.objs[1]->u.svc.type, SERVICE_HEADLESS);
	parsed_free(&p);

	/* An API list body: items without kind take it from "ServiceList". */
	parse_file(&p, "api/servicelist.json");
	assert_int_equal(p.n, 2);
	assert_object(p.objs[0], OBJECT_SERVICE, "default", "kubernetes");
	assert_object(p.objs[1], OBJECT_SERVICE, "default", "nginx");
	parsed_free(&p);
}

static void
test_list(void **state)
{
	static const char *const want[] = {
		"list.yaml: document 1: item 2: skipping unsupported kind "
		    "ConfigMap prod/settings",
		"list.yaml: document 1: item 4: Service prod/broken: "
		    "spec.ports[0].port: 99999 out of range 1-65535",
	};
	struct parsed	p;

	parse_file(&p, "manifests/list.yaml");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.skipped, 1);
	assert_object(p.objs[0], OBJECT_SERVICE, "prod", "api");
	assert_object(p.objs[1], OBJECT_NAMESPACE, NULL, "prod");
	assert_log(p.log, want, 2);
	parsed_free(&p);
}

/* DESIGN.md's example: the Service and the original apps/v1alpha1 PetSet. */
static void
test_petset_example(void **state)
{
	struct parsed			 p;
	const struct object		*o;
	const struct object_petset	*ps;

	parse_file(&p, "manifests/petset.yaml");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.skipped, 0);
	o = p.objs[0];
	assert_object(o, OBJECT_SERVICE, "default", "nginx");
	assert_int_equal(o->u.svc.type, SERVICE_HEADLESS);
	assert_int_equal(o->u.svc.nports, 1);
	assert_string_equal(o->u.svc.ports[0].name, "web");
	assert_int_equal(o->u.svc.ports[0].port, 80);
	assert_int_equal(o->u.svc.ports[0].proto, IPPROTO_TCP);
	assert_int_equal(o->u.svc.nselector, 1);
	assert_string_equal(o->u.svc.selector[0].value, "nginx");
	o = p.objs[1];
	assert_object(o, OBJECT_PETSET, "default", "web");
	ps = &o->u.petset;
	assert_string_equal(ps->api_version, "apps/v1alpha1");
	assert_int_equal(ps->replicas, 2);
	assert_int_equal(ps->ordinals_start, 0);
	assert_string_equal(ps->service_name, "nginx");
	/* No selector in the original: the template's labels stand in. */
	assert_int_equal(ps->nselector, 1);
	assert_string_equal(ps->selector[0].key, "app");
	assert_string_equal(ps->selector[0].value, "nginx");
	assert_int_equal(ps->nclaims, 1);
	assert_string_equal(ps->claim_names[0], "www");
	assert_non_null(strstr(ps->pod_template, "nginx-slim:0.8"));
	assert_non_null(strstr(ps->claim_templates, "ReadWriteOnce"));
	assert_string_equal(p.log, "");
	parsed_free(&p);
}

/* Broken documents cost only themselves, syntax errors included. */
static void
test_broken(void **state)
{
	static const char *const want[] = {
		"broken.yaml: document 2: Service default/bad-port: "
		    "spec.ports[0].port: not an integer",
		"broken.yaml: document 3: line 21: mapping values are not "
		    "allowed in this context",
		"broken.yaml: document 5: Service other/?: "
		    "metadata.name: missing",
		"broken.yaml: document 6: skipping unsupported kind "
		    "Deployment default/web",
		"broken.yaml: document 7: not an object",
		"broken.yaml: document 8: line 51: did not find expected ',' "
		    "or '}' (while parsing a flow mapping at line 50)",
	};
	struct parsed	p;

	parse_file(&p, "manifests/broken.yaml");
	assert_int_equal(p.n, 3);
	assert_int_equal(p.skipped, 5);
	assert_object(p.objs[0], OBJECT_SERVICE, "default", "good-1");
	assert_object(p.objs[1], OBJECT_SERVICE, "other", "good-4");
	assert_object(p.objs[2], OBJECT_NAMESPACE, NULL, "good-9");
	assert_log(p.log, want, sizeof(want) / sizeof(*want));
	parsed_free(&p);
}

static void
test_typing(void **state)
{
	static const char *const want[] = {
		"document 2: Service default/quoted-port: spec.ports[0].port: "
		    "not an integer",
		"document 3: Service default/bool-label: "
		    "metadata.labels.enabled: not a string",
		"document 4: Service default/float-port: spec.ports[0].port: "
		    "not an integer",
		"document 5: Service default/str-port: spec.ports[0].port: "
		    "not an integer",
		"document 6: line 58: \"eighty\" is not a valid !!int",
		/* yes is a boolean to Kubernetes too (YAML 1.1). */
		"document 7: Service default/yes-label: "
		    "metadata.labels.enabled: not a string",
	};
	static const int ports[] = { 80, 8080, 8443, 81, 15 };
	struct parsed		 p;
	const struct object	*o;

	parse_file(&p, "manifests/typing.yaml");
	assert_int_equal(p.n, 1);
	assert_int_equal(p.skipped, 6);
	o = p.objs[0];
	assert_object(o, OBJECT_SERVICE, "default", "typed");
	assert_string_equal(object_label(o, "enabled"), "true");
	assert_string_equal(object_label(o, "version"), "1.10");
	assert_string_equal(object_label(o, "zero"), "010");
	assert_true(o->u.svc.publish_not_ready);
	assert_int_equal(o->u.svc.nips, 0);
	assert_int_equal(o->u.svc.nports, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(o->u.svc.ports[i].port, ports[i]);
	assert_log(p.log, want, sizeof(want) / sizeof(*want));
	parsed_free(&p);
}

static void
test_anchors(void **state)
{
	static const char *const want[] = {
		"anchors.yaml: document 2: line 23: alias *labels names no "
		    "anchor defined before it",
		"anchors.yaml: document 3: line 30: duplicate key \"name\"",
	};
	struct parsed		 p;
	const struct object_service *svc;

	parse_file(&p, "manifests/anchors.yaml");
	assert_int_equal(p.n, 1);
	assert_int_equal(p.skipped, 2);
	svc = &p.objs[0]->u.svc;
	assert_int_equal(svc->nselector, 2);
	assert_string_equal(svc->selector[0].key, "app");
	assert_string_equal(svc->selector[1].value, "front");
	assert_int_equal(svc->nports, 3);
	assert_string_equal(svc->ports[0].name, "http");
	/* The mapping's own keys beat <<'s; protocol comes from the alias. */
	assert_string_equal(svc->ports[1].name, "alt");
	assert_int_equal(svc->ports[1].port, 8080);
	/* With a list under <<, the first mapping wins, the second fills in. */
	assert_string_equal(svc->ports[2].name, "first");
	assert_int_equal(svc->ports[2].port, 1);
	assert_int_equal(svc->ports[2].proto, IPPROTO_UDP);
	assert_log(p.log, want, sizeof(want) / sizeof(*want));
	parsed_free(&p);
}

#define NS(name) "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " \
	name "\n"

/* Small streams: n objects, skipped errors, one log line with want or none. */
static const struct {
	const char	*text;
	size_t		 n;
	int		 skipped;
	const char	*want;
} inline_cases[] = {
	{ "", 0, 0, NULL },
	{ "# only a comment\n", 0, 0, NULL },
	{ "---\n---\n...\n", 0, 0, NULL },
	{ "---\n---\n" NS("a") "---\nkind: Foo\nmetadata: {name: x}\n", 1, 0,
	    "t.yaml: document 3: skipping unsupported kind Foo default/x" },
	{ "%YAML 1.1\n---\n" NS("a") "...\n%YAML 1.1\n---\n" NS("b"), 2, 0,
	    NULL },
	{ "\xef\xbb\xbf" NS("bom"), 1, 0, NULL },
	{ "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: crlf\r\n"
	    "---\r\n" NS("b"), 2, 0, NULL },
	{ "--- " "{kind: Namespace, metadata: {name: a}}\n--- # c\n" NS("b"), 2,
	    0, NULL },
	{ "a: &x [*x]\n", 0, 1,
	    "t.yaml: document 1: line 1: alias *x names no anchor" },
	{ "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", 0, 1,
	    "line 7: more than 4194304 nodes once aliases are expanded" },
	{ "? [a, b]\n: c\n", 0, 1, "line 1: mapping key is not a scalar" },
	/* Regression: only the first item of a << list was checked. */
	{ "a: {<<: [{x: 1}, 5]}\n", 0, 1,
	    "line 1: << needs a mapping or a list of mappings" },
	{ "a: {<<: *b}\n", 0, 1, "line 1: alias *b names no anchor" },
	{ "a: b\nc\n", 0, 1,
	    "document 1: line 3: could not find expected ':'" },
	{ "kind: ServiceList\napiVersion: v1\nitems: null\n", 0, 0, NULL },
	{ "kind: ServiceList\nitems:\n- metadata: {name: web}\n  spec: {}\n", 1,
	    0, NULL },
	{ "- just a string\n", 0, 1, "document 1: item 1: not an object" },
	{ "{\"kind\": \"Namespace\",\n \"metadata\": }", 0, 1,
	    "t.yaml: document 1: line 2: unexpected character" },
	{ "{\"kind\": \"Namespace\"", 0, 1,
	    "t.yaml: document 1: line 1: unexpected end of JSON" },
	{ "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}} [1", 1, 1,
	    "t.yaml: document 2: line 1: unexpected end of JSON" },
	{ "  \n[]", 0, 0, NULL },
};

static void
test_inline(void **state)
{
	struct parsed	p;
	size_t		lines;

	for (size_t i = 0; i < sizeof(inline_cases) / sizeof(*inline_cases);
	    i++) {
		parse_text(&p, "t.yaml", inline_cases[i].text,
		    strlen(inline_cases[i].text));
		lines = 0;
		for (const char *s = p.log; (s = strchr(s, '\n')) != NULL; s++)
			lines++;
		if (p.n != inline_cases[i].n ||
		    p.skipped != inline_cases[i].skipped)
			fail_msg("case %zu: %zu objects, %d skipped", i, p.n,
			    p.skipped);
		if (inline_cases[i].want != NULL && (lines != 1 ||
		    strstr(p.log, inline_cases[i].want) == NULL))
			fail_msg("case %zu: log \"%s\" lacks \"%s\"", i, p.log,
			    inline_cases[i].want);
		if (inline_cases[i].want == NULL && lines != 0)
			fail_msg("case %zu: unexpected log \"%s\"", i, p.log);
		parsed_free(&p);
	}
}

static void
test_deep_nesting(void **state)
{
	char		text[603] = "a: ";
	struct parsed	p;

	memset(text + 3, '[', 300);
	memset(text + 303, ']', 300);
	parse_text(&p, "deep.yaml", text, sizeof(text));
	assert_int_equal(p.skipped, 1);
	assert_non_null(strstr(p.log, "deep.yaml: document 1: line 1: "
	    "nested deeper than 128"));
	parsed_free(&p);
	/* As JSON, it meets json-c's depth limit. */
	parse_text(&p, "deep.json", text + 3, sizeof(text) - 3);
	assert_int_equal(p.skipped, 1);
	assert_non_null(strstr(p.log, "deep.json: document 1: line 1: "
	    "nesting too deep"));
	parsed_free(&p);
}

/* The directory source: what the callback saw. */
struct seen {
	int	 calls;
	size_t	 n;
	char	 names[8][64];
};

static void
seen_cb(struct object **objs, size_t n, void *arg)
{
	struct seen	*s = arg;

	s->calls++;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		if (i < 8)
			snprintf(s->names[i], sizeof(s->names[i]), "%s",
			    objs[i]->name);
		object_free(objs[i]);
	}
	free(objs);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	*path = xasprintf("%s/%s", dir, name);
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
flag_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Runs the loop until the callback count reaches want or secs pass. */
static bool
run_until(struct event_base *base, struct seen *s, int want, double secs)
{
	struct timeval	 tv = { (time_t)secs,
			    (suseconds_t)((secs - (time_t)secs) * 1e6) };
	bool		 timeout = false;
	struct event	*ev = evtimer_new(base, flag_cb, &timeout);

	evtimer_add(ev, &tv);
	while (s->calls < want && !timeout)
		event_base_loop(base, EVLOOP_ONCE);
	/* Freed here: a deadline outliving this frame would write into it. */
	event_free(ev);
	return s->calls >= want;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

#define SVC(name) "apiVersion: v1\nkind: Service\nmetadata:\n  name: " name \
	"\nspec:\n  ports:\n  - port: 80\n"

/*
 * A ConfigMap mount: visible names are symlinks through ..data, which is
 * swapped atomically; stat follows them. Plus the files that must be skipped.
 */
static void
test_dir_reload(void **state)
{
	char			 dir[] = "/tmp/test_manifest.XXXXXX", path[600],
				 moved[600];
	struct event_base	*base = event_base_new();
	struct seen		 s = { 0 };
	struct manifest		*m;
	char			*log, *p;
	bool			 reloaded;
	int			 fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/..v1", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(path, "a.yaml", SVC("one"));
	snprintf(path, sizeof(path), "%s/..data", dir);
	assert_int_equal(symlink("..v1", path), 0);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_int_equal(symlink("..data/a.yaml", path), 0);
	snprintf(path, sizeof(path), "%s/zz.yaml", dir);
	assert_int_equal(symlink("missing.yaml", path), 0);
	write_file(dir, "README.md", "not a manifest\n");
	write_file(dir, ".hidden.yaml", SVC("hidden"));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(ftruncate(fd, 16 * 1024 * 1024 + 1), 0);
	close(fd);

	m = manifest_new(base, dir, seen_cb, &s);
	capture_start();
	assert_int_equal(manifest_start(m), 0);
	log = capture_end();
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "one");
	assert_non_null(strstr(log, "big.yaml: larger than 16 MiB, skipped"));
	assert_non_null(strstr(log, "zz.yaml: No such file or directory"));
	free(log);

	/* The kubelet's update: a new version directory, ..data swapped. */
	snprintf(path, sizeof(path), "%s/..v2", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(path, "a.yaml", SVC("one") "---\n" SVC("two"));
	snprintf(path, sizeof(path), "%s/..data_tmp", dir);
	assert_int_equal(symlink("..v2", path), 0);
	snprintf(moved, sizeof(moved), "%s/..data", dir);
	assert_int_equal(rename(path, moved), 0);
	assert_true(run_until(base, &s, 2, 3.0));
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[1], "two");

	/* The directory goes: the last set stays, fn is not called. */
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	assert_int_equal(rename(dir, moved), 0);
	capture_start();
	reloaded = run_until(base, &s, 3, 2.2);
	log = capture_end();
	assert_false(reloaded);
	assert_int_equal(s.calls, 2);
	/* Said once, not every second. */
	assert_non_null(p = strstr(log, "No such file or directory; serving "
	    "the last set\n"));
	assert_null(strstr(strchr(p, '\n'), "the last set"));
	free(log);
	/* It comes back unchanged (no reload), then gains a file (reload). */
	assert_int_equal(rename(moved, dir), 0);
	write_file(dir, "b.yml", SVC("three"));
	assert_true(run_until(base, &s, 3, 3.0));
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[2], "three");

	manifest_free(m);
	event_base_free(base);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_dir_missing(void **state)
{
	struct event_base	*base = event_base_new();
	struct seen		 s = { 0 };
	struct manifest		*m;
	char			*log;

	m = manifest_new(base, "/nonexistent/petdns-manifests", seen_cb, &s);
	capture_start();
	assert_int_equal(manifest_start(m), -1);
	log = capture_end();
	assert_non_null(strstr(log, "manifests /nonexistent/petdns-manifests: "
	    "No such file or directory"));
	assert_int_equal(s.calls, 0);
	free(log);
	manifest_free(m);
	manifest_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multi_doc),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_petset_example),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_typing),
		cmocka_unit_test(test_anchors),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_dir_reload),
		cmocka_unit_test(test_dir_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
