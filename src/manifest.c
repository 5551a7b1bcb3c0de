/* manifest.c -- the local source: YAML/JSON manifests read into objects, re-read when the directory changes. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json.h>
/* uthash's own allocations follow the same out-of-memory policy as ours. */
#define uthash_malloc(sz) xmalloc(sz)
#include <uthash.h>

#include "decode.h"
#include "jdoc.h"
#include "log.h"
#include "manifest.h"
#include "object.h"
#include "xmalloc.h"
#include "yamljson.h"

#define MANIFEST_MAXSIZE	(16 * 1024 * 1024)
#define MANIFEST_INTERVAL	1	/* seconds between directory checks */

struct manifest {
	struct event_base	*base;
	struct event		*timer;
	char			*dir;
	manifest_fn		 fn;
	void			*arg;
	char			*print;		/* of the set last loaded */
	size_t			 printlen;
	bool			 gone;		/* missing at the last check */
};

/* One file being parsed: where its objects go and what its messages say. */
struct manifest_file {
	const char	 *name;
	int		  doc;		/* the document, counting from 1 */
	int		  skipped;
	struct object	***objs;
	size_t		 *n;
	char		***origins;	/* "NAME: document N", per object, or NULL */
	struct jdoc	 *jdoc;		/* what decode reads, reused item to item */
};

static void manifest_warn(struct manifest_file *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* "FILE: document N[: item M]: message": the context of every bad object. */
static void
manifest_warn(struct manifest_file *f, size_t item, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (item > 0)
		log_warnx("%s: document %d: item %zu: %s", f->name, f->doc,
		    item, msg);
	else
		log_warnx("%s: document %d: %s", f->name, f->doc, msg);
}

static void
manifest_append(struct manifest_file *f, struct object *obj, size_t item)
{
	if (f->origins != NULL) {
		*f->origins = xreallocarray(*f->origins, *f->n + 1,
		    sizeof(**f->origins));
		(*f->origins)[*f->n] = item > 0 ?
		    xasprintf("%s: document %d: item %zu", f->name, f->doc,
		    item) : xasprintf("%s: document %d", f->name, f->doc);
	}
	*f->objs = xreallocarray(*f->objs, *f->n + 1, sizeof(**f->objs));
	(*f->objs)[(*f->n)++] = obj;
}

/*
 * Decodes one object; item counts list items from 1, 0 for a whole
 * document. decode reads JSON text parsed by jdoc: a YAML document's tree
 * goes there as its compact JSON.
 */
static void
manifest_item(struct manifest_file *f, struct json_object *json,
    const char *hint, size_t item)
{
	struct object		*obj;
	struct json_object	*v;
	const struct jdoc_val	*root;
	const char		*kind = hint, *text;
	char			 err[512], ident[512];

	text = json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN);
	if ((root = jdoc_parse(f->jdoc, text, strlen(text), NULL, err,
	    sizeof(err))) == NULL)
		goto bad;
	switch (decode_object(root, hint, &obj, err, sizeof(err))) {
	case DECODE_OK:
		manifest_append(f, obj, item);
		return;
	case DECODE_UNSUPPORTED:
		decode_ident(root, hint, ident, sizeof(ident));
		manifest_warn(f, item, "skipping %s %s", err, ident);
		return;
	case DECODE_ERROR:
		break;
	}
bad:
	f->skipped++;
	if (root == NULL || !json_object_is_type(json, json_type_object)) {
		manifest_warn(f, item, "%s", err);
		return;
	}
	if (json_object_object_get_ex(json, "kind", &v) &&
	    json_object_is_type(v, json_type_string))
		kind = json_object_get_string(v);
	decode_ident(root, hint, ident, sizeof(ident));
	manifest_warn(f, item, "%s %s: %s", kind ? kind : "object", ident, err);
}

static void
manifest_items(struct manifest_file *f, struct json_object *items,
    const char *hint)
{
	for (size_t i = 0; i < json_object_array_length(items); i++)
		manifest_item(f, json_object_array_get_idx(items, i), hint,
		    i + 1);
}

/*
 * One document's root: an object, an array of objects, or a List (kind
 * "List", or "ServiceList" and the like whose items may lack their kind).
 */
static void
manifest_root(struct manifest_file *f, struct json_object *root)
{
	struct json_object	*kind, *items;
	char			 hint[128];
	size_t			 len;

	if (root == NULL)
		return;		/* an empty document */
	if (json_object_is_type(root, json_type_array)) {
		manifest_items(f, root, NULL);
		return;
	}
	if (!json_object_object_get_ex(root, "kind", &kind) ||
	    !json_object_is_type(kind, json_type_string) ||
	    (len = (size_t)json_object_get_string_len(kind)) < 4 ||
	    len >= sizeof(hint) ||
	    strcmp(json_object_get_string(kind) + len - 4, "List") != 0 ||
	    !json_object_object_get_ex(root, "items", &items) ||
	    (items != NULL && !json_object_is_type(items, json_type_array))) {
		manifest_item(f, root, NULL, 0);
		return;
	}
	memcpy(hint, json_object_get_string(kind), len - 4);
	hint[len - 4] = '\0';
	if (items != NULL)
		manifest_items(f, items, hint[0] != '\0' ? hint : NULL);
}

/* One document of a file, or its syntax error. */
static void
manifest_doc_cb(int doc, struct json_object *root, const char *err, void *arg)
{
	struct manifest_file	*f = arg;

	f->doc = doc;
	if (err == NULL) {
		manifest_root(f, root);
		return;
	}
	f->skipped++;
	manifest_warn(f, 0, "%s", err);
}

/* manifest_parse, noting where each object was written when origins is set. */
static int
manifest_parse_file(const char *name, const char *buf, size_t len,
    struct object ***objs, size_t *n, char ***origins)
{
	struct manifest_file	 f = { name, 0, 0, objs, n, origins, NULL };

	if (len > MANIFEST_MAXSIZE) {
		log_warnx("%s: larger than %d MiB, skipped", name,
		    MANIFEST_MAXSIZE >> 20);
		return 1;
	}
	f.jdoc = jdoc_new();
	yamljson_stream(buf, len, manifest_doc_cb, &f);
	jdoc_free(f.jdoc);
	return f.skipped;
}

int
manifest_parse(const char *name, const char *buf, size_t len,
    struct object ***objs, size_t *n)
{
	return manifest_parse_file(name, buf, len, objs, n, NULL);
}

struct manifest_seen {
	char		*key;
	size_t		 idx;
	UT_hash_handle	 hh;
};

/*
 * One object per kind and name: a later one replaces an earlier one, as a
 * second kubectl apply would, and the replacement is said once, naming
 * both places. Frees the origins; returns the new count.
 */
static size_t
manifest_dedup(struct object **objs, char **origins, size_t n)
{
	struct manifest_seen	*seen = NULL, *s, *tmp;
	const struct object	*o;
	size_t			 kept = 0;
	char			*key;

	for (size_t i = 0; i < n; i++) {
		o = objs[i];
		key = xasprintf("%d/%s/%s", (int)o->kind, o->ns ? o->ns : "",
		    o->name);
		HASH_FIND_STR(seen, key, s);
		if (s == NULL) {
			s = xcalloc(1, sizeof(*s));
			s->key = key;
			s->idx = i;
			HASH_ADD_KEYPTR(hh, seen, s->key, strlen(s->key), s);
			continue;
		}
		log_warnx("%s: %s %s%s%s: also defined at %s; this one wins",
		    origins[i], object_kind_name(o->kind), o->ns ? o->ns : "",
		    o->ns ? "/" : "", o->name, origins[s->idx]);
		object_free(objs[s->idx]);
		objs[s->idx] = NULL;
		s->idx = i;
		free(key);
	}
	HASH_ITER(hh, seen, s, tmp) {
		HASH_DEL(seen, s);
		free(s->key);
		free(s);
	}
	for (size_t i = 0; i < n; i++) {
		if (objs[i] != NULL)
			objs[kept++] = objs[i];
		free(origins[i]);
	}
	free(origins);
	return kept;
}

static void
manifest_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
manifest_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A name we load: a manifest suffix, and visible, which skips editors'
 * swap files and a ConfigMap mount's ..data machinery (its visible names
 * are symlinks through ..data, followed by stat).
 */
static bool
manifest_wanted(const char *name)
{
	const char	*dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL && (strcmp(dot, ".yaml") == 0 ||
	    strcmp(dot, ".yml") == 0 || strcmp(dot, ".json") == 0);
}

static void
manifest_print_add(char **print, size_t *len, const char *line)
{
	size_t	n = strlen(line);

	*print = xreallocarray(*print, *len + n, 1);
	memcpy(*print + *len, line, n);
	*len += n;
}

/*
 * Lists dir (sorted manifest names) and fingerprints the set: names, and
 * through symlinks size, times to the nanosecond, inode and mode, so an
 * edit, a replacement or a ConfigMap's atomic swap all show. -1 (errno set)
 * when dir cannot be read.
 */
static int
manifest_scan(const char *dir, char ***names, size_t *n, char **print,
    size_t *plen)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path, *line;

	*names = NULL;
	*n = *plen = 0;
	*print = NULL;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!manifest_wanted(de->d_name))
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), manifest_name_cmp);
	for (size_t i = 0; i < *n; i++) {
		path = xasprintf("%s/%s", dir, (*names)[i]);
		if (stat(path, &st) == -1)
			line = xasprintf("%s !%d\n", (*names)[i], errno);
		else
			line = xasprintf(
			    "%s %jd %jd.%09ld %jd.%09ld %ju %ju %o\n",
			    (*names)[i], (intmax_t)st.st_size,
			    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
			    (uintmax_t)st.st_ino, (uintmax_t)st.st_dev,
			    (unsigned int)st.st_mode);
		manifest_print_add(print, plen, line);
		free(line);
		free(path);
	}
	return 0;
}

/* The whole file, NUL-terminated, or NULL (logged with the path). */
static char *
manifest_read(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 r;
	int		 fd;

	*len = 0;
	/* O_NONBLOCK: a FIFO named like a manifest must not stall the loop. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file, skipped", path);
		goto out;
	}
	if (st.st_size > MANIFEST_MAXSIZE) {
		log_warnx("%s: larger than %d MiB, skipped", path,
		    MANIFEST_MAXSIZE >> 20);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (*len < (size_t)st.st_size) {
		r = read(fd, buf + *len, (size_t)st.st_size - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_warn("%s", path);
			free(buf);
			buf = NULL;
			goto out;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	buf[*len] = '\0';
out:
	if (fd != -1)
		close(fd);
	return buf;
}

/*
 * Reads every file of the set and hands the objects to the callback. Only
 * reloads are news to the operator: the first load is the caller's to log.
 */
static void
manifest_load(struct manifest *m, char **names, size_t n, bool reload)
{
	struct object	**objs = NULL;
	size_t		  nobjs = 0, len;
	char		 *path, *buf, **origins = NULL;

	for (size_t i = 0; i < n; i++) {
		path = xasprintf("%s/%s", m->dir, names[i]);
		if ((buf = manifest_read(path, &len)) != NULL)
			manifest_parse_file(path, buf, len, &objs, &nobjs,
			    &origins);
		free(buf);
		free(path);
	}
	nobjs = manifest_dedup(objs, origins, nobjs);
	if (reload)
		log_info("manifests %s: reloaded %zu objects from %zu files",
		    m->dir, nobjs, n);
	else
		log_debug("manifests %s: %zu objects from %zu files", m->dir,
		    nobjs, n);
	m->fn(objs, nobjs, m->arg);
}

/* Polling, not inotify: it sees through symlinks and works on any mount. */
static void
manifest_check_cb(evutil_socket_t fd, short events, void *arg)
{
	struct manifest	*m = arg;
	char		**names, *print;
	size_t		  n, plen;

	if (manifest_scan(m->dir, &names, &n, &print, &plen) == -1) {
		if (!m->gone)
			log_warnx("manifests %s: %s; serving the last set",
			    m->dir, strerror(errno));
		m->gone = true;
		return;
	}
	if (m->gone)
		log_info("manifests %s: directory is back", m->dir);
	m->gone = false;
	if (plen == m->printlen && (plen == 0 ||
	    memcmp(print, m->print, plen) == 0)) {
		free(print);
		manifest_names_free(names, n);
		return;
	}
	free(m->print);
	m->print = print;
	m->printlen = plen;
	manifest_load(m, names, n, true);
	manifest_names_free(names, n);
}

struct manifest *
manifest_new(struct event_base *base, const char *dir, manifest_fn fn,
    void *arg)
{
	struct manifest	*m = xcalloc(1, sizeof(*m));

	m->base = base;
	m->dir = xstrdup(dir);
	m->fn = fn;
	m->arg = arg;
	return m;
}

int
manifest_start(struct manifest *m)
{
	struct timeval	  tv = { MANIFEST_INTERVAL, 0 };
	char		**names;
	size_t		  n;

	if (manifest_scan(m->dir, &names, &n, &m->print, &m->printlen) == -1) {
		log_warn("manifests %s", m->dir);
		return -1;
	}
	manifest_load(m, names, n, false);
	manifest_names_free(names, n);
	m->timer = event_new(m->base, -1, EV_PERSIST, manifest_check_cb, m);
	if (m->timer == NULL || event_add(m->timer, &tv) == -1) {
		log_warnx("manifests %s: cannot start the timer", m->dir);
		return -1;
	}
	return 0;
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	if (m->timer != NULL)
		event_free(m->timer);
	free(m->print);
	free(m->dir);
	free(m);
}
