/* watch.h -- one reflector: LIST (paged) then WATCH (bookmarks, 410 relist, backoff) into the store. */
#ifndef PETDNS_WATCH_H
#define PETDNS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "object.h"

struct event_base;
struct kube;
struct store;
struct watch;

enum watch_state {
	WATCH_LISTING,		/* paging through a LIST */
	WATCH_WATCHING,		/* a WATCH stream is open */
	WATCH_BACKOFF,		/* waiting before the next attempt */
	WATCH_STOPPED
};

struct watch_params {
	int	page_limit;	/* LIST page size (500) */
	int	timeout_s;	/* WATCH timeoutSeconds, randomised in [t, 2t) (300) */
	int	idle_margin_s;	/* a stream silent for timeout + margin is dead (30) */
	int	list_idle_s;	/* a LIST silent this long is dead (30) */
	int	backoff_ms;	/* first retry delay (800), doubled up to... */
	int	backoff_max_ms;	/* ...this (30000), with jitter */
	int	healthy_s;	/* a stream up this long resets the backoff (60) */
	size_t	max_line;	/* longest watch event accepted (16 MiB) */
};

/* Told each time a LIST is in the store: the first sync, then every relist. */
typedef void (*watch_synced_fn)(struct watch *, void *arg);

/*
 * A reflector for kind at path ("/api/v1/services"), objects filtered by
 * label_selector (NULL: all). kube and store are borrowed. params NULL:
 * defaults (each may be overridden by PETDNS_WATCH_* environment variables,
 * for tests). Nothing happens until watch_start.
 */
struct watch *watch_new(struct event_base *, struct kube *, struct store *,
	    enum object_kind, const char *path, const char *label_selector,
	    const struct watch_params *, watch_synced_fn, void *arg);
/* fn trims every object decoded before the store takes it (what is never read). */
void	watch_set_trim(struct watch *, void (*fn)(struct object *));
void	watch_start(struct watch *);
/* Stops and frees; NULL is a no-op. */
void	watch_free(struct watch *);
bool	watch_synced(const struct watch *);
enum watch_state watch_state(const struct watch *);
/* "services", for logs. */
const char *watch_name(const struct watch *);
/* The last resourceVersion seen, or "" before the first LIST. */
const char *watch_resource_version(const struct watch *);

struct watch_probe;
/* Told the version found; the probe may be freed from inside. */
typedef void (*watch_version_fn)(const char *version, void *arg);
/*
 * Discovery: GETs /apis/GROUP and tells fn the first of versions (in order
 * of preference, NULL-terminated, borrowed) that the server lists, retrying
 * with backoff until one is found.
 */
struct watch_probe *watch_probe_new(struct event_base *, struct kube *,
	    const char *group, const char *const *versions, watch_version_fn,
	    void *arg);
void	watch_probe_free(struct watch_probe *);

#endif
