/* fuzz_decode.c -- API JSON through decode.c as a reflector reads it: a LIST body or WATCH lines, into a zone. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "decode.h"
#include "fuzz.h"
#include "jdoc.h"
#include "jsonlist.h"
#include "kubernetes.h"
#include "log.h"
#include "object.h"
#include "store.h"
#include "zone.h"

/*
 * The first input byte: bit 0 picks a WATCH stream (one event a line)
 * over a LIST body; the rest picks the reflector's kind, which list items
 * without "kind" take. The rest of the input is the body.
 */
#define FUZZ_WATCH	0x01

static struct kubernetes *fuzz_k;

static char *fuzz_zones[] = { "cluster.local", "in-addr.arpa", "ip6.arpa" };

/*
 * A kubernetes directive serving cluster.local and the reverse zones in
 * local mode, its store empty: objects put in its store reach its zone at
 * kubernetes_flush.
 */
static struct kubernetes *
fuzz_kube_local(void)
{
	static struct config_kubernetes	 cfg;
	static char			 dir[] = "/tmp/petdns-fuzz.XXXXXX";
	struct event_base		*base;
	struct kubernetes		*k;

	if (mkdtemp(dir) == NULL || (base = event_base_new()) == NULL)
		abort();
	zone_thread_register();
	cfg.zones = fuzz_zones;
	cfg.nzones = 3;
	cfg.ttl = 5;
	/* verified: pod records depend on the pods in the store. */
	cfg.pods = PODS_VERIFIED;
	cfg.manifests = dir;
	cfg.file = "fuzz";
	cfg.line = 1;
	k = kubernetes_new(base, &cfg);
	if (kubernetes_start(k) == -1)
		abort();
	/* Empty now, the directory is no longer needed. */
	rmdir(dir);
	return k;
}

/*
 * Adds -detect_leaks=0 to libFuzzer's flags: the zone frees what an input
 * replaced later, through call_rcu, so every input would look leaky and
 * cost a full leak scan. LeakSanitizer still checks at exit.
 */
static void
fuzz_kube_args(int *argc, char ***argv)
{
	static char	 flag[] = "-detect_leaks=0";
	char		**args;

	/* After argv[0], so that a -detect_leaks given by hand still wins. */
	if ((args = calloc((size_t)*argc + 2, sizeof(*args))) == NULL)
		abort();
	args[0] = (*argv)[0];
	args[1] = flag;
	for (int i = 1; i < *argc; i++)
		args[i + 1] = (*argv)[i];
	(*argc)++;
	*argv = args;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(0, 1);
	fuzz_kube_args(argc, argv);
	fuzz_k = fuzz_kube_local();
	return 0;
}

/* Decodes as watch.c does; an object of another kind is dropped. */
static struct object *
fuzz_decode(const struct jdoc_val *obj, enum object_kind kind)
{
	struct object	*o = NULL, *copy;
	char		 err[256], ident[256];

	(void)decode_ident(obj, object_kind_name(kind), ident, sizeof(ident));
	err[0] = '\0';
	switch (decode_object(obj, object_kind_name(kind), &o, err,
	    sizeof(err))) {
	case DECODE_OK:
		if (o == NULL)
			abort();
		/* The store compares and copies what it holds. */
		copy = object_dup(o);
		if (!object_equal(o, copy))
			abort();
		object_free(copy);
		if (o->kind == kind)
			return o;
		object_free(o);
		return NULL;
	default:
		if (o != NULL || err[0] == '\0')
			abort();	/* a failure says why and gives nothing */
		return NULL;
	}
}

static const char *
fuzz_str(const struct jdoc_val *obj, const char *a, const char *b)
{
	const struct jdoc_val	*v = jdoc_get(obj, a);

	if (b != NULL)
		v = jdoc_get(v, b);
	return v != NULL && v->type == JDOC_STRING ? v->u.s : NULL;
}

/* What a LIST page's walk gathers: its items of our kind. */
struct fuzz_page {
	enum object_kind	 kind;
	struct object		**objs;
	size_t			 n, cap;
};

static void
fuzz_member(const char *key, const struct jdoc_val *value, void *arg)
{
	(void)key;
	(void)value;
	(void)arg;
}

static void
fuzz_items(void *arg)
{
	(void)arg;
}

static void
fuzz_item(const struct jdoc_val *item, void *arg)
{
	struct fuzz_page	*p = arg;
	struct object		*o;

	if ((o = fuzz_decode(item, p->kind)) == NULL)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		if ((p->objs = realloc(p->objs, p->cap * sizeof(*p->objs))) ==
		    NULL)
			abort();
	}
	p->objs[p->n++] = o;
}

/* A LIST page, walked as watch.c walks it: its items of our kind replace the store's. */
static void
fuzz_list(struct store *st, enum object_kind kind, const char *text)
{
	static const struct jsonlist_cb cb = { fuzz_member, fuzz_items,
					    fuzz_item };
	struct fuzz_page	 p = { .kind = kind };
	struct jdoc		*doc = jdoc_new();

	if (jsonlist_walk(doc, text, strlen(text), &cb, &p) == 0)
		store_replace(st, kind, p.objs, p.n);
	else
		for (size_t i = 0; i < p.n; i++)
			object_free(p.objs[i]);
	free(p.objs);
	jdoc_free(doc);
}

/* One WATCH event line: ADDED/MODIFIED put, DELETED removes. */
static void
fuzz_event(struct store *st, enum object_kind kind, const char *line)
{
	struct jdoc		*doc = jdoc_new();
	const struct jdoc_val	*ev, *obj;
	struct object		*o;
	const char		*type, *name;
	char			 err[128];

	if ((ev = jdoc_parse(doc, line, strlen(line), NULL, err,
	    sizeof(err))) != NULL &&
	    (type = fuzz_str(ev, "type", NULL)) != NULL &&
	    (obj = jdoc_get(ev, "object")) != NULL &&
	    obj->type == JDOC_OBJECT) {
		if (strcmp(type, "DELETED") == 0 &&
		    (name = fuzz_str(obj, "metadata", "name")) != NULL)
			store_delete(st, kind, kind == OBJECT_NAMESPACE ? NULL :
			    fuzz_str(obj, "metadata", "namespace"), name);
		else if (strcmp(type, "ERROR") != 0 &&
		    (o = fuzz_decode(obj, kind)) != NULL)
			store_put(st, o);
	}
	jdoc_free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store		*st = kubernetes_store(fuzz_k);
	enum object_kind	 kind;
	char			*text, *line, *nl;

	if (size < 1)
		return 0;
	kind = (enum object_kind)((data[0] >> 1) % OBJECT_NKINDS);
	if ((text = malloc(size)) == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & FUZZ_WATCH) {
		for (line = text; line != NULL; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			fuzz_event(st, kind, line);
		}
	} else
		fuzz_list(st, kind, text);
	kubernetes_flush(fuzz_k);
	/* Back to empty, so that each input starts from the same zone. */
	for (int i = 0; i < OBJECT_NKINDS; i++)
		store_replace(st, (enum object_kind)i, NULL, 0);
	kubernetes_flush(fuzz_k);
	free(text);
	return 0;
}
