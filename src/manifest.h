/* manifest.h -- the local source: YAML/JSON manifests in a directory, reloaded when they change. */
#ifndef PETDNS_MANIFEST_H
#define PETDNS_MANIFEST_H

#include <stddef.h>

struct event_base;
struct manifest;
struct object;

/* Takes ownership of the objects and of the array (NULL when n is 0). */
typedef void (*manifest_fn)(struct object **objs, size_t n, void *arg);

/* The event base is borrowed and must outlive the manifest. */
struct manifest *manifest_new(struct event_base *, const char *dir,
	    manifest_fn, void *arg);
/*
 * Loads every *.yaml, *.yml and *.json file of dir (not recursive; names
 * starting with '.' skipped; symlinks followed; sorted by name) now and
 * calls fn with all objects; then checks the directory every second and
 * calls fn again with the full set after any change of a name, size, time or
 * inode. An unreadable or oversized (16 MiB) file is logged and skipped. If
 * dir vanishes, that is logged once and fn is not called: the last set keeps
 * serving. Returns -1 (logged) when dir cannot be read at start.
 */
int	manifest_start(struct manifest *);
/* Stops the checks; NULL is a no-op. */
void	manifest_free(struct manifest *);
/*
 * Decodes every document of one file's text (multi-document YAML, JSON or
 * concatenated JSON values, a JSON array of objects, kind: List and typed
 * lists such as ServiceList) and appends the objects to the array *objs of
 * *n (grown with xreallocarray; start from NULL and 0). Text starting with
 * '{' or '[' is JSON, as kubectl decides. YAML plain scalars are typed as
 * Kubernetes types them (YAML 1.1 booleans yes/no/on/off included); anchors,
 * aliases and << merge keys work. A bad document or list item is logged as
 * "NAME: document N[: item M]: Kind ns/name: reason" and skipped; a YAML
 * syntax error names the line and costs only its document. Unsupported
 * kinds are logged ("skipping unsupported kind PetSet default/web") and
 * skipped. Returns the number of documents and items skipped for errors
 * (unsupported kinds not counted).
 */
int	manifest_parse(const char *name, const char *buf, size_t len,
	    struct object ***objs, size_t *n);

#endif
