/* test_store.c -- store lookups, notifications, relists and the slice index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "object.h"
#include "store.h"
#include "xmalloc.h"

/* What a subscriber saw, and what the store held while it looked. */
struct event {
	char	 tag;		/* which subscriber */
	char	 what[160];	/* "add|update|delete Kind ns/name" */
	int	 old_port;	/* services: first port of old/new, else -1 */
	int	 new_port;
	bool	 holds_new;	/* store_find gave new (NULL on delete) */
};

struct recorder {
	struct store	*st;
	struct event	 ev[32];
	size_t		 n;
};

struct sub {
	struct recorder	*rec;
	char		 tag;
};

static int
first_port(const struct object *obj)
{
	if (obj == NULL || obj->kind != OBJECT_SERVICE ||
	    obj->u.svc.nports == 0)
		return -1;
	return obj->u.svc.ports[0].port;
}

static void
record_cb(const struct object *old, const struct object *new, void *arg)
{
	struct sub		*s = arg;
	struct recorder		*rec = s->rec;
	const struct object	*o = new != NULL ? new : old;
	struct event		*e;

	assert_true(rec->n < sizeof(rec->ev) / sizeof(rec->ev[0]));
	e = &rec->ev[rec->n++];
	e->tag = s->tag;
	snprintf(e->what, sizeof(e->what), "%s %s %s%s%s",
	    old == NULL ? "add" : new == NULL ? "delete" : "update",
	    object_kind_name(o->kind), o->ns ? o->ns : "", o->ns ? "/" : "",
	    o->name);
	e->old_port = first_port(old);
	e->new_port = first_port(new);
	e->holds_new = store_find(rec->st, o->kind, o->ns, o->name) == new;
}

static struct object *
svc(const char *ns, const char *name, uint16_t port)
{
	struct object	*obj = object_new(OBJECT_SERVICE, ns, name);

	obj->u.svc.type = SERVICE_CLUSTERIP;
	obj->u.svc.ports = xcalloc(1, sizeof(struct object_port));
	obj->u.svc.ports[0].port = port;
	obj->u.svc.ports[0].proto = 6;
	obj->u.svc.nports = 1;
	return obj;
}

static struct object *
slice(const char *ns, const char *name, const char *service)
{
	struct object	*obj = object_new(OBJECT_ENDPOINTSLICE, ns, name);

	obj->u.slice.service = service ? xstrdup(service) : NULL;
	obj->u.slice.family = 2;
	return obj;
}

struct names {
	char	buf[256];	/* the names sorted, each followed by a space */
	char	*v[16];
	size_t	n;
};

static void
collect_cb(const struct object *obj, void *arg)
{
	struct names	*nm = arg;

	assert_true(nm->n < sizeof(nm->v) / sizeof(nm->v[0]));
	nm->v[nm->n++] = obj->name;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, so the checks do not depend on hash order. */
static void
names_join(struct names *nm)
{
	qsort(nm->v, nm->n, sizeof(nm->v[0]), name_cmp);
	nm->buf[0] = '\0';
	for (size_t i = 0; i < nm->n; i++) {
		strcat(nm->buf, nm->v[i]);
		strcat(nm->buf, " ");
	}
}

static const char *
each_of(struct store *st, enum object_kind kind, const char *ns,
    struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	store_foreach(st, kind, ns, collect_cb, nm);
	names_join(nm);
	return nm->buf;
}

static const char *
slices_of(struct store *st, const char *ns, const char *service,
    struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	store_foreach_slice(st, ns, service, collect_cb, nm);
	names_join(nm);
	return nm->buf;
}

static void
test_put_find(void **state)
{
	struct store		*st = store_new();
	struct object		*a = svc("default", "web", 80);
	const struct object	*found;

	assert_true(store_put(st, a));
	found = store_find(st, OBJECT_SERVICE, "default", "web");
	assert_ptr_equal(found, a);
	assert_null(store_find(st, OBJECT_SERVICE, "other", "web"));
	assert_null(store_find(st, OBJECT_POD, "default", "web"));
	assert_int_equal(store_count(st, OBJECT_SERVICE), 1);
	assert_int_equal(store_count(st, OBJECT_POD), 0);

	/* Cluster-scoped: no namespace in the key, so ns NULL finds it. */
	assert_true(store_put(st, object_new(OBJECT_NAMESPACE, NULL, "web")));
	assert_non_null(store_find(st, OBJECT_NAMESPACE, NULL, "web"));
	assert_ptr_equal(store_find(st, OBJECT_SERVICE, "default", "web"), a);
	store_free(st);
	store_free(NULL);
}

static void
test_equal_put_does_not_notify(void **state)
{
	struct recorder	 rec = { .st = store_new() };
	struct sub	 s = { &rec, 'A' };
	struct object	*a = svc("default", "web", 80);

	store_subscribe(rec.st, record_cb, &s);
	assert_true(store_put(rec.st, a));
	assert_int_equal(rec.n, 1);
	assert_string_equal(rec.ev[0].what, "add Service default/web");
	assert_true(rec.ev[0].holds_new);
	/* An equal object is dropped; the stored one stays. */
	assert_false(store_put(rec.st, svc("default", "web", 80)));
	assert_int_equal(rec.n, 1);
	assert_ptr_equal(store_find(rec.st, OBJECT_SERVICE, "default", "web"),
	    a);
	store_free(rec.st);
}

static void
test_replace_notifies_old_and_new(void **state)
{
	struct recorder	 rec = { .st = store_new() };
	struct sub	 s = { &rec, 'A' };

	store_subscribe(rec.st, record_cb, &s);
	store_put(rec.st, svc("default", "web", 80));
	assert_true(store_put(rec.st, svc("default", "web", 8080)));
	assert_int_equal(rec.n, 2);
	assert_string_equal(rec.ev[1].what, "update Service default/web");
	assert_int_equal(rec.ev[1].old_port, 80);
	assert_int_equal(rec.ev[1].new_port, 8080);
	assert_true(rec.ev[1].holds_new);
	assert_int_equal(first_port(store_find(rec.st, OBJECT_SERVICE,
	    "default", "web")), 8080);
	assert_int_equal(store_count(rec.st, OBJECT_SERVICE), 1);
	store_free(rec.st);
}

static void
test_delete(void **state)
{
	struct recorder	 rec = { .st = store_new() };
	struct sub	 s = { &rec, 'A' };

	store_subscribe(rec.st, record_cb, &s);
	store_put(rec.st, svc("default", "web", 80));
	assert_false(store_delete(rec.st, OBJECT_SERVICE, "default", "nope"));
	assert_false(store_delete(rec.st, OBJECT_POD, "default", "web"));
	assert_int_equal(rec.n, 1);
	assert_true(store_delete(rec.st, OBJECT_SERVICE, "default", "web"));
	assert_int_equal(rec.n, 2);
	assert_string_equal(rec.ev[1].what, "delete Service default/web");
	assert_int_equal(rec.ev[1].old_port, 80);
	assert_int_equal(rec.ev[1].new_port, -1);
	/* The subscriber already saw the store without it. */
	assert_true(rec.ev[1].holds_new);
	assert_null(store_find(rec.st, OBJECT_SERVICE, "default", "web"));
	assert_int_equal(store_count(rec.st, OBJECT_SERVICE), 0);
	store_free(rec.st);
}

static void
test_notify_order(void **state)
{
	struct recorder	 rec = { .st = store_new() };
	struct sub	 s1 = { &rec, 'A' }, s2 = { &rec, 'B' };
	struct sub	 s3 = { &rec, 'C' };

	store_subscribe(rec.st, record_cb, &s2);
	store_subscribe(rec.st, record_cb, &s1);
	store_subscribe(rec.st, record_cb, &s3);
	store_put(rec.st, svc("default", "web", 80));
	store_delete(rec.st, OBJECT_SERVICE, "default", "web");
	assert_int_equal(rec.n, 6);
	assert_int_equal(rec.ev[0].tag, 'B');
	assert_int_equal(rec.ev[1].tag, 'A');
	assert_int_equal(rec.ev[2].tag, 'C');
	assert_int_equal(rec.ev[3].tag, 'B');
	assert_int_equal(rec.ev[5].tag, 'C');
	assert_string_equal(rec.ev[4].what, "delete Service default/web");
	store_free(rec.st);
}

static void
test_slice_index(void **state)
{
	struct store	*st = store_new();
	struct names	 nm;

	store_put(st, slice("default", "a-1", "a"));
	store_put(st, slice("default", "a-2", "a"));
	store_put(st, slice("default", "b-1", "b"));
	store_put(st, slice("other", "a-9", "a"));
	store_put(st, slice("default", "loose", NULL));
	assert_string_equal(slices_of(st, "default", "a", &nm), "a-1 a-2 ");
	assert_string_equal(slices_of(st, "default", "b", &nm), "b-1 ");
	assert_string_equal(slices_of(st, "other", "a", &nm), "a-9 ");
	assert_string_equal(slices_of(st, "default", "c", &nm), "");

	/* a-2 relabelled for b moves between the groups. */
	store_put(st, slice("default", "a-2", "b"));
	assert_string_equal(slices_of(st, "default", "a", &nm), "a-1 ");
	assert_string_equal(slices_of(st, "default", "b", &nm), "a-2 b-1 ");

	/* An update that keeps the service keeps the slice listed once. */
	store_put(st, slice("default", "a-1", "a"));
	assert_int_equal(slices_of(st, "default", "a", &nm)[0], 'a');
	assert_int_equal(nm.n, 1);

	store_delete(st, OBJECT_ENDPOINTSLICE, "default", "a-1");
	assert_string_equal(slices_of(st, "default", "a", &nm), "");
	store_put(st, slice("default", "b-1", NULL));
	assert_string_equal(slices_of(st, "default", "b", &nm), "a-2 ");
	store_put(st, slice("default", "loose", "a"));
	assert_string_equal(slices_of(st, "default", "a", &nm), "loose ");
	store_put(st, slice("default", "a-1", "a"));
	assert_string_equal(slices_of(st, "default", "a", &nm), "a-1 loose ");
	assert_int_equal(store_count(st, OBJECT_ENDPOINTSLICE), 5);
	store_free(st);
}

static void
test_store_replace(void **state)
{
	struct recorder	 rec = { .st = store_new() };
	struct sub	 s = { &rec, 'A' };
	struct object	*objs[3];
	struct names	 nm;

	store_put(rec.st, svc("default", "a", 80));
	store_put(rec.st, svc("default", "b", 80));
	store_put(rec.st, svc("default", "c", 80));
	store_put(rec.st, slice("default", "a-1", "a"));
	store_subscribe(rec.st, record_cb, &s);
	objs[0] = svc("default", "b", 81);
	objs[1] = svc("default", "c", 80);
	objs[2] = svc("default", "d", 80);
	store_replace(rec.st, OBJECT_SERVICE, objs, 3);
	assert_int_equal(rec.n, 3);
	assert_string_equal(rec.ev[0].what, "update Service default/b");
	assert_string_equal(rec.ev[1].what, "add Service default/d");
	assert_string_equal(rec.ev[2].what, "delete Service default/a");
	assert_null(store_find(rec.st, OBJECT_SERVICE, "default", "a"));
	assert_int_equal(store_count(rec.st, OBJECT_SERVICE), 3);
	/* Other kinds are untouched. */
	assert_string_equal(slices_of(rec.st, "default", "a", &nm), "a-1 ");

	/* Replacing with nothing empties the kind and its index. */
	store_replace(rec.st, OBJECT_ENDPOINTSLICE, NULL, 0);
	assert_string_equal(slices_of(rec.st, "default", "a", &nm), "");
	assert_int_equal(store_count(rec.st, OBJECT_ENDPOINTSLICE), 0);
	assert_int_equal(rec.n, 4);
	store_free(rec.st);
}

static void
test_foreach_namespace(void **state)
{
	struct store	*st = store_new();
	struct names	 nm;

	store_put(st, svc("x", "one", 80));
	store_put(st, svc("x", "two", 80));
	store_put(st, svc("y", "three", 80));
	store_put(st, object_new(OBJECT_NAMESPACE, NULL, "x"));
	assert_string_equal(each_of(st, OBJECT_SERVICE, "x", &nm), "one two ");
	assert_string_equal(each_of(st, OBJECT_SERVICE, NULL, &nm),
	    "one three two ");
	assert_string_equal(each_of(st, OBJECT_SERVICE, "z", &nm), "");
	assert_string_equal(each_of(st, OBJECT_NAMESPACE, NULL, &nm), "x ");
	/* A namespaced filter never matches cluster-scoped objects. */
	assert_string_equal(each_of(st, OBJECT_NAMESPACE, "x", &nm), "");
	store_free(st);
}

/* Names past the lookup buffer take the heap path and still match. */
static void
test_long_names(void **state)
{
	struct store	*st = store_new();
	char		 ns[300], name[300];

	memset(ns, 'n', sizeof(ns) - 1);
	ns[sizeof(ns) - 1] = '\0';
	memset(name, 'm', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	store_put(st, svc(ns, name, 80));
	store_put(st, slice(ns, name, name));
	assert_non_null(store_find(st, OBJECT_SERVICE, ns, name));
	assert_null(store_find(st, OBJECT_SERVICE, ns, "m"));
	assert_true(store_delete(st, OBJECT_ENDPOINTSLICE, ns, name));
	assert_int_equal(store_count(st, OBJECT_ENDPOINTSLICE), 0);
	store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_find),
		cmocka_unit_test(test_equal_put_does_not_notify),
		cmocka_unit_test(test_replace_notifies_old_and_new),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_notify_order),
		cmocka_unit_test(test_slice_index),
		cmocka_unit_test(test_store_replace),
		cmocka_unit_test(test_foreach_namespace),
		cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
