/* watch.c -- a reflector as client-go runs one: paged LIST, WATCH with bookmarks, relist on 410, backoff. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>

#include "decode.h"
#include "jdoc.h"
#include "jsonlist.h"
#include "kube.h"
#include "log.h"
#include "store.h"
#include "watch.h"
#include "xmalloc.h"

enum watch_next {
	NEXT_LIST,
	NEXT_WATCH
};

struct watch {
	struct event_base	*base;
	struct kube		*kube;
	struct store		*store;
	enum object_kind	 kind;
	char			*path;
	char			*selector;	/* URL-encoded, or NULL */
	char			*name;		/* last path element, for logs */
	struct watch_params	 params;
	void			(*trim)(struct object *);
	watch_synced_fn		 synced_fn;
	void			*arg;

	enum watch_state	 state;
	enum watch_next		 next;
	bool			 synced;
	char			*rv;
	struct kube_request	*req;
	struct event		*timer;
	int			 backoff_ms;
	time_t			 started;	/* when the current stream opened */
	time_t			 listed;	/* when the last LIST completed */

	char			*buf;		/* LIST body, or the partial watch line */
	size_t			 len;
	size_t			 cap;
	bool			 oversize;	/* a LIST page past its cap */
	char			*cont;		/* LIST continue token */
	bool			 next_asked;	/* this page's next, already */
	struct object		**objs;		/* LIST pages so far */
	size_t			 nobjs;
	size_t			 objcap;
	bool			 aborted;	/* body_fn cancelled the request */
	/* Kept across lines and pages: its buffers are reused. */
	struct jdoc		*doc;
};

static void	watch_list(struct watch *);
static void	watch_watch(struct watch *);

static int
watch_env(const char *name, int def)
{
	const char	*v = getenv(name);

	return v != NULL && atoi(v) > 0 ? atoi(v) : def;
}

static void
watch_params_init(struct watch_params *p, const struct watch_params *given)
{
	if (given != NULL) {
		*p = *given;
		return;
	}
	p->page_limit = watch_env("PETDNS_WATCH_PAGE_LIMIT", 500);
	p->timeout_s = watch_env("PETDNS_WATCH_TIMEOUT", 300);
	p->idle_margin_s = watch_env("PETDNS_WATCH_IDLE_MARGIN", 30);
	p->list_idle_s = watch_env("PETDNS_WATCH_LIST_IDLE", 30);
	p->backoff_ms = watch_env("PETDNS_WATCH_BACKOFF_MS", 800);
	p->backoff_max_ms = watch_env("PETDNS_WATCH_BACKOFF_MAX_MS", 30000);
	p->healthy_s = watch_env("PETDNS_WATCH_HEALTHY", 60);
	p->max_line = (size_t)watch_env("PETDNS_WATCH_MAX_LINE", 16 << 20);
}

static void
watch_buf_reset(struct watch *w)
{
	w->len = 0;
}

/* A LIST page grows the buffer to megabytes; watch lines need far less. */
static void
watch_buf_shrink(struct watch *w)
{
	if (w->cap <= 65536)
		return;
	free(w->buf);
	w->buf = NULL;
	w->cap = 0;
}

static void
watch_buf_add(struct watch *w, const char *data, size_t len)
{
	if (w->len + len + 1 > w->cap) {
		w->cap = (w->len + len + 1) * 2;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

static void
watch_set_rv(struct watch *w, const char *rv)
{
	if (rv == NULL || *rv == '\0')
		return;
	free(w->rv);
	w->rv = xstrdup(rv);
}

static void
watch_objs_clear(struct watch *w)
{
	for (size_t i = 0; i < w->nobjs; i++)
		object_free(w->objs[i]);
	w->nobjs = 0;
	free(w->cont);
	w->cont = NULL;
}

static void
watch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch	*w = arg;

	if (w->next == NEXT_LIST)
		watch_list(w);
	else
		watch_watch(w);
}

/*
 * Runs the next step from the event loop, never from inside a transfer's
 * callback (a LIST's next page excepted: watch_list_done_cb).
 */
static void
watch_schedule(struct watch *w, enum watch_next next, int delay_ms)
{
	struct timeval	tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	w->next = next;
	w->state = delay_ms > 0 ? WATCH_BACKOFF : w->state;
	evtimer_add(w->timer, &tv);
}

/* Waits with exponential backoff and jitter (at least retry_after seconds). */
static void
watch_backoff(struct watch *w, enum watch_next next, int retry_after,
    const char *why)
{
	int	delay = w->backoff_ms + (int)(random() % (w->backoff_ms / 2 + 1));

	if (retry_after > 0 && delay < retry_after * 1000)
		delay = retry_after * 1000;
	log_warnx("plugin/kubernetes: %s %s: %s; retrying in %d.%01ds",
	    next == NEXT_LIST ? "list" : "watch", w->name, why, delay / 1000,
	    delay % 1000 / 100);
	w->backoff_ms *= 2;
	if (w->backoff_ms > w->params.backoff_max_ms)
		w->backoff_ms = w->params.backoff_max_ms;
	watch_schedule(w, next, delay);
}

static void
watch_backoff_reset(struct watch *w)
{
	w->backoff_ms = w->params.backoff_ms;
}

/*
 * A 410, or an event too large to hold: list again. At once the first
 * time; when the last LIST is recent, after a backoff, so that a server
 * answering every watch so cannot make us relist in a loop.
 */
static void
watch_relist(struct watch *w, const char *why)
{
	if (w->listed != 0 && time(NULL) - w->listed < w->params.healthy_s) {
		watch_backoff(w, NEXT_LIST, 0, why);
		return;
	}
	log_info("plugin/kubernetes: watch %s: %s; relisting", w->name, why);
	watch_schedule(w, NEXT_LIST, 0);
}

/* The string obj.a (or obj.a.b), or NULL. */
static const char *
watch_json_str(const struct jdoc_val *obj, const char *a, const char *b)
{
	const struct jdoc_val	*v = jdoc_get(obj, a);

	if (b != NULL)
		v = jdoc_get(v, b);
	return v != NULL && v->type == JDOC_STRING ? v->u.s : NULL;
}

static void
watch_log_decode(struct watch *w, const struct jdoc_val *obj,
    const char *err)
{
	char	ident[256];

	decode_ident(obj, object_kind_name(w->kind), ident, sizeof(ident));
	log_warnx("plugin/kubernetes: %s %s: %s; skipped",
	    object_kind_name(w->kind), ident, err);
}

/* A decoded object of our kind, or NULL (logged when malformed). */
static struct object *
watch_decode(struct watch *w, const struct jdoc_val *obj)
{
	struct object	*o = NULL;
	char		 err[256];

	switch (decode_object(obj, object_kind_name(w->kind), &o, err,
	    sizeof(err))) {
	case DECODE_OK:
		if (o->kind == w->kind) {
			if (w->trim != NULL)
				w->trim(o);
			return o;
		}
		object_free(o);
		return NULL;
	case DECODE_ERROR:
		watch_log_decode(w, obj, err);
		return NULL;
	default:
		return NULL;
	}
}

/* The watch's one document, made on first use. */
static struct jdoc *
watch_doc(struct watch *w)
{
	if (w->doc == NULL)
		w->doc = jdoc_new();
	return w->doc;
}

/* A decoded LIST item joins the page's others. */
static void
watch_list_item_cb(const struct jdoc_val *item, void *arg)
{
	struct watch	*w = arg;
	struct object	*o;

	if ((o = watch_decode(w, item)) == NULL)
		return;
	if (w->nobjs == w->objcap) {
		w->objcap = w->objcap ? w->objcap * 2 : 64;
		w->objs = xreallocarray(w->objs, w->objcap, sizeof(*w->objs));
	}
	w->objs[w->nobjs++] = o;
}

/* The page's metadata: its continue token, and on the last page its version. */
static void
watch_list_member_cb(const char *key, const struct jdoc_val *value,
    void *arg)
{
	struct watch	*w = arg;
	const char	*cont;

	if (strcmp(key, "metadata") != 0)
		return;
	cont = watch_json_str(value, "continue", NULL);
	free(w->cont);
	w->cont = cont != NULL && *cont != '\0' ? xstrdup(cont) : NULL;
	if (w->cont == NULL)
		watch_set_rv(w, watch_json_str(value, "resourceVersion", NULL));
}

/* The next page first: the server makes it while this one is decoded. */
static void
watch_list_items_cb(void *arg)
{
	struct watch	*w = arg;

	if (w->cont != NULL && !w->next_asked) {
		w->next_asked = true;
		watch_list(w);
	}
}

/* A LIST page may hold many objects, each up to max_line. */
static size_t
watch_max_page(const struct watch *w)
{
	return w->params.max_line * 8;
}

static void
watch_list_body_cb(const char *data, size_t len, void *arg)
{
	struct watch	*w = arg;

	if (w->oversize)
		return;
	if (w->len + len > watch_max_page(w)) {
		char	why[64];

		/* Bounded memory: drop the page, retry after a backoff. */
		w->oversize = true;
		kube_cancel(w->req);
		w->req = NULL;
		watch_objs_clear(w);
		snprintf(why, sizeof(why), "page over %zu bytes rejected",
		    watch_max_page(w));
		watch_backoff(w, NEXT_LIST, 0, why);
		return;
	}
	watch_buf_add(w, data, len);
}

static void
watch_list_done_cb(int status, const char *err, int retry_after, void *arg)
{
	static const struct jsonlist_cb cb = { watch_list_member_cb,
				    watch_list_items_cb, watch_list_item_cb };
	struct watch		*w = arg;
	char			 why[256], *body;
	size_t			 len;
	int			 rc;

	w->req = NULL;
	if (err != NULL || status != 200) {
		if (status == 410 && w->cont != NULL) {
			/*
			 * The continue token expired: start the list again,
			 * after a backoff, as a server doing it to every page
			 * would otherwise have us list in a loop.
			 */
			watch_objs_clear(w);
			watch_backoff(w, NEXT_LIST, 0, "continue token expired");
			return;
		}
		snprintf(why, sizeof(why), "%s", err ? err : "");
		if (err == NULL)
			snprintf(why, sizeof(why), "HTTP %d", status);
		watch_objs_clear(w);
		watch_backoff(w, NEXT_LIST, retry_after, why);
		return;
	}
	/* The body is ours: the next page's request starts a buffer anew. */
	body = w->buf;
	len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	free(w->cont);
	w->cont = NULL;
	w->next_asked = false;
	rc = jsonlist_walk(watch_doc(w), body, len, &cb, w);
	free(body);
	if (rc == -1) {
		if (w->req != NULL) {	/* the next page, asked already */
			kube_cancel(w->req);
			w->req = NULL;
		}
		free(w->cont);
		w->cont = NULL;
		watch_objs_clear(w);
		watch_backoff(w, NEXT_LIST, 0, "malformed list body");
		return;
	}
	watch_list_items_cb(w);		/* "items" before "metadata" */
	if (w->cont != NULL)
		return;
	store_replace(w->store, w->kind, w->objs, w->nobjs);
	log_info("plugin/kubernetes: listed %zu %s at resourceVersion %s",
	    w->nobjs, w->name, w->rv ? w->rv : "?");
	w->nobjs = 0;
	/* The backoff resets only once a watch has been healthy. */
	w->listed = time(NULL);
	watch_schedule(w, NEXT_WATCH, 0);
	w->synced = true;
	if (w->synced_fn != NULL)
		w->synced_fn(w, w->arg);
}

static char *
watch_query(struct watch *w, const char *first)
{
	char	*q = xasprintf("%s?%s", w->path, first), *t;

	if (w->selector != NULL) {
		t = xasprintf("%s&labelSelector=%s", q, w->selector);
		free(q);
		q = t;
	}
	return q;
}

static void
watch_list(struct watch *w)
{
	char	*first, *path, *cont = NULL;

	w->state = WATCH_LISTING;
	watch_buf_reset(w);
	w->oversize = false;
	if (w->cont != NULL)
		cont = evhttp_uriencode(w->cont, -1, 0);
	first = xasprintf("limit=%d%s%s", w->params.page_limit,
	    cont ? "&continue=" : "", cont ? cont : "");
	path = watch_query(w, first);
	w->req = kube_get(w->kube, path, w->params.list_idle_s,
	    watch_list_body_cb, watch_list_done_cb, w);
	if (w->req == NULL)
		watch_backoff(w, NEXT_LIST, 0, "cannot start the request");
	free(cont);
	free(first);
	free(path);
}

enum watch_verdict {
	VERDICT_OK,
	VERDICT_RELIST,		/* 410: our version is gone */
	VERDICT_OVERSIZE,	/* an event too large was skipped */
	VERDICT_RETRY		/* abort the stream, resume from the last version */
};

static enum watch_verdict
watch_apply(struct watch *w, const char *type, const struct jdoc_val *obj)
{
	struct object	*o;
	const char	*ns, *name;

	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		if ((o = watch_decode(w, obj)) != NULL)
			store_put(w->store, o);
	} else if (strcmp(type, "DELETED") == 0) {
		ns = watch_json_str(obj, "metadata", "namespace");
		name = watch_json_str(obj, "metadata", "name");
		if (name != NULL)
			store_delete(w->store, w->kind,
			    w->kind == OBJECT_NAMESPACE ? NULL : ns, name);
	} else if (strcmp(type, "BOOKMARK") != 0)
		return VERDICT_RETRY;
	watch_set_rv(w, watch_json_str(obj, "metadata", "resourceVersion"));
	return VERDICT_OK;
}

static enum watch_verdict
watch_event(struct watch *w, const char *line)
{
	const struct jdoc_val	*ev, *obj, *code;
	const char		*type, *msg;
	char			 err[128];
	int			 c;

	if ((ev = jdoc_parse(watch_doc(w), line, strlen(line), NULL, err,
	    sizeof(err))) == NULL ||
	    (type = watch_json_str(ev, "type", NULL)) == NULL ||
	    (obj = jdoc_get(ev, "object")) == NULL ||
	    obj->type != JDOC_OBJECT) {
		log_warnx("plugin/kubernetes: watch %s: malformed event",
		    w->name);
		return VERDICT_RETRY;
	}
	if (strcmp(type, "ERROR") != 0)
		return watch_apply(w, type, obj);
	code = jdoc_get(obj, "code");
	c = code != NULL && code->type == JDOC_INT ? (int)code->u.i : 0;
	msg = watch_json_str(obj, "message", NULL);
	log_info("plugin/kubernetes: watch %s: %d %s", w->name, c,
	    msg ? msg : "");
	return c == 410 ? VERDICT_RELIST : VERDICT_RETRY;
}

/*
 * The string value of the first "key":"..." in text, for a log: a JSON
 * string without escapes, at most outlen - 1 bytes; "?" when not found.
 */
static void
watch_peek(const char *text, size_t len, const char *key, char *out,
    size_t outlen)
{
	char		 pat[32];
	const char	*p, *end = text + len, *q;
	size_t		 n;

	snprintf(out, outlen, "?");
	n = (size_t)snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	for (p = text; (p = memchr(p, '"', (size_t)(end - p))) != NULL; p++) {
		if ((size_t)(end - p) < n || memcmp(p, pat, n) != 0)
			continue;
		p += n;
		for (q = p; q < end && *q != '"' && *q != '\\' &&
		    (size_t)(q - p) < outlen - 1; q++)
			;
		if (q < end && *q == '"') {
			memcpy(out, p, (size_t)(q - p));
			out[q - p] = '\0';
		}
		return;
	}
}

/* Names the event a line too long to hold was about, from its start. */
static void
watch_log_oversize(struct watch *w)
{
	const char	*meta;
	size_t		 len = w->len < 65536 ? w->len : 65536;
	char		 type[16], ns[64], name[256];

	watch_peek(w->buf, len, "type", type, sizeof(type));
	meta = memmem(w->buf, len, "\"metadata\":{", 12);
	if (meta == NULL)
		meta = w->buf + len;
	len -= (size_t)(meta - w->buf);
	watch_peek(meta, len, "namespace", ns, sizeof(ns));
	watch_peek(meta, len, "name", name, sizeof(name));
	log_warnx("plugin/kubernetes: watch %s: event over %zu bytes skipped "
	    "(%s %s %s%s%s)", w->name, w->params.max_line, type,
	    object_kind_name(w->kind), strcmp(ns, "?") == 0 ? "" : ns,
	    strcmp(ns, "?") == 0 ? "" : "/", name);
}

/* Handles complete lines; keeps the partial one. Returns the first non-OK verdict. */
static enum watch_verdict
watch_lines(struct watch *w)
{
	char			*start = w->buf, *nl;
	enum watch_verdict	 v = VERDICT_OK;

	while (v == VERDICT_OK && (nl = memchr(start, '\n',
	    w->len - (size_t)(start - w->buf))) != NULL) {
		*nl = '\0';
		if (nl > start)
			v = watch_event(w, start);
		start = nl + 1;
	}
	w->len -= (size_t)(start - w->buf);
	memmove(w->buf, start, w->len);
	if (v == VERDICT_OK && w->len > w->params.max_line) {
		/*
		 * Too large to hold: skip it. The store now lacks that change,
		 * so list again: the zone then matches the server's state.
		 */
		watch_log_oversize(w);
		w->len = 0;
		v = VERDICT_OVERSIZE;
	}
	return v;
}

static void
watch_stream_body_cb(const char *data, size_t len, void *arg)
{
	struct watch		*w = arg;
	enum watch_verdict	 v;

	if (w->aborted)
		return;
	watch_buf_add(w, data, len);
	if ((v = watch_lines(w)) == VERDICT_OK)
		return;
	w->aborted = true;
	kube_cancel(w->req);
	w->req = NULL;
	if (time(NULL) - w->started >= w->params.healthy_s)
		watch_backoff_reset(w);
	if (v == VERDICT_RELIST)
		watch_relist(w, "resource version expired");
	else if (v == VERDICT_OVERSIZE)
		watch_relist(w, "an event was skipped");
	else
		watch_backoff(w, NEXT_WATCH, 0, "stream aborted");
}

static void
watch_stream_done_cb(int status, const char *err, int retry_after, void *arg)
{
	struct watch	*w = arg;
	char		 why[256];

	w->req = NULL;
	if (err == NULL && status == 200 && time(NULL) - w->started >= 1) {
		/* The server ended the watch (timeoutSeconds): resume. */
		watch_backoff_reset(w);
		watch_schedule(w, NEXT_WATCH, 0);
		return;
	}
	if (time(NULL) - w->started >= w->params.healthy_s)
		watch_backoff_reset(w);
	if (status == 410) {
		watch_relist(w, "resource version expired");
		return;
	}
	if (err != NULL)
		snprintf(why, sizeof(why), "%s", err);
	else if (status == 200)
		snprintf(why, sizeof(why), "stream ended at once");
	else
		snprintf(why, sizeof(why), "HTTP %d", status);
	watch_backoff(w, NEXT_WATCH, retry_after, why);
}

static void
watch_watch(struct watch *w)
{
	int	 timeout = w->params.timeout_s + (int)(random() %
		    (w->params.timeout_s > 0 ? w->params.timeout_s : 1));
	char	*first, *path;

	w->state = WATCH_WATCHING;
	w->aborted = false;
	w->started = time(NULL);
	watch_buf_reset(w);
	watch_buf_shrink(w);
	first = xasprintf("watch=1&allowWatchBookmarks=true&resourceVersion=%s"
	    "&timeoutSeconds=%d", w->rv ? w->rv : "", timeout);
	path = watch_query(w, first);
	w->req = kube_get(w->kube, path, timeout + w->params.idle_margin_s,
	    watch_stream_body_cb, watch_stream_done_cb, w);
	if (w->req == NULL)
		watch_backoff(w, NEXT_WATCH, 0, "cannot start the request");
	free(first);
	free(path);
}

struct watch *
watch_new(struct event_base *base, struct kube *kube, struct store *store,
    enum object_kind kind, const char *path, const char *selector,
    const struct watch_params *params, watch_synced_fn fn, void *arg)
{
	struct watch	*w = xcalloc(1, sizeof(*w));
	const char	*slash = strrchr(path, '/');

	w->base = base;
	w->kube = kube;
	w->store = store;
	w->kind = kind;
	w->path = xstrdup(path);
	w->name = xstrdup(slash ? slash + 1 : path);
	if (selector != NULL && *selector != '\0')
		w->selector = evhttp_uriencode(selector, -1, 0);
	watch_params_init(&w->params, params);
	w->synced_fn = fn;
	w->arg = arg;
	w->state = WATCH_STOPPED;
	w->timer = evtimer_new(base, watch_timer_cb, w);
	watch_backoff_reset(w);
	return w;
}

void
watch_set_trim(struct watch *w, void (*fn)(struct object *))
{
	w->trim = fn;
}

void
watch_start(struct watch *w)
{
	watch_schedule(w, NEXT_LIST, 0);
	w->state = WATCH_LISTING;
}

void
watch_free(struct watch *w)
{
	if (w == NULL)
		return;
	if (w->req != NULL)
		kube_cancel(w->req);
	if (w->timer != NULL)
		event_free(w->timer);
	watch_objs_clear(w);
	free(w->objs);
	free(w->buf);
	jdoc_free(w->doc);
	free(w->rv);
	free(w->selector);
	free(w->path);
	free(w->name);
	free(w);
}

bool
watch_synced(const struct watch *w)
{
	return w->synced;
}

enum watch_state
watch_state(const struct watch *w)
{
	return w->state;
}

const char *
watch_name(const struct watch *w)
{
	return w->name;
}

const char *
watch_resource_version(const struct watch *w)
{
	return w->rv ? w->rv : "";
}

/* Discovery: which version of an API group the server has. */
struct watch_probe {
	struct kube		*kube;
	struct event		*timer;
	struct kube_request	*req;
	char			*path;
	const char *const	*versions;
	watch_version_fn	 fn;
	void			*arg;
	char			*buf;
	size_t			 len;
	int			 backoff_ms;
};

static void	watch_probe_send(struct watch_probe *);

static void
watch_probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	watch_probe_send(arg);
}

static void
watch_probe_body_cb(const char *data, size_t len, void *arg)
{
	struct watch_probe	*p = arg;

	p->buf = xreallocarray(p->buf, p->len + len + 1, 1);
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	p->buf[p->len] = '\0';
}

/* The first preferred version the APIGroup document lists, or NULL. */
static const char *
watch_probe_pick(struct watch_probe *p)
{
	struct jdoc		*doc = jdoc_new();
	const struct jdoc_val	*root, *versions, *v;
	const char		*found = NULL, *s;
	char			 err[128];

	root = jdoc_parse(doc, p->buf ? p->buf : "", p->len, NULL, err,
	    sizeof(err));
	versions = jdoc_get(root, "versions");
	for (size_t i = 0; versions != NULL && versions->type == JDOC_ARRAY &&
	    p->versions[i] != NULL && !found; i++)
		for (v = jdoc_first(versions); v != NULL && !found;
		    v = jdoc_next(versions, v))
			if ((s = watch_json_str(v, "version", NULL)) != NULL &&
			    strcmp(s, p->versions[i]) == 0)
				found = p->versions[i];
	jdoc_free(doc);
	return found;
}

static void
watch_probe_done_cb(int status, const char *err, int retry_after, void *arg)
{
	struct watch_probe	*p = arg;
	const char		*version;
	struct timeval		 tv;

	p->req = NULL;
	if (err == NULL && status == 200 &&
	    (version = watch_probe_pick(p)) != NULL) {
		p->fn(version, p->arg);
		return;
	}
	log_warnx("plugin/kubernetes: discovery %s: %s", p->path,
	    err ? err : status == 200 ? "no usable version" : "HTTP error");
	if (retry_after * 1000 > p->backoff_ms)
		p->backoff_ms = retry_after * 1000;
	tv.tv_sec = p->backoff_ms / 1000;
	tv.tv_usec = (p->backoff_ms % 1000) * 1000;
	p->backoff_ms = p->backoff_ms * 2 > 30000 ? 30000 : p->backoff_ms * 2;
	evtimer_add(p->timer, &tv);
}

static void
watch_probe_send(struct watch_probe *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = 0;
	p->req = kube_get(p->kube, p->path, 30, watch_probe_body_cb,
	    watch_probe_done_cb, p);
	if (p->req == NULL)
		watch_probe_done_cb(0, "cannot start the request", 0, p);
}

struct watch_probe *
watch_probe_new(struct event_base *base, struct kube *kube, const char *group,
    const char *const *versions, watch_version_fn fn, void *arg)
{
	struct watch_probe	*p = xcalloc(1, sizeof(*p));

	p->kube = kube;
	p->path = xasprintf("/apis/%s", group);
	p->versions = versions;
	p->fn = fn;
	p->arg = arg;
	p->backoff_ms = 800;
	p->timer = evtimer_new(base, watch_probe_timer_cb, p);
	watch_probe_send(p);
	return p;
}

void
watch_probe_free(struct watch_probe *p)
{
	if (p == NULL)
		return;
	if (p->req != NULL)
		kube_cancel(p->req);
	event_free(p->timer);
	free(p->buf);
	free(p->path);
	free(p);
}
