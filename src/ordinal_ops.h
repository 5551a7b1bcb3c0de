/* ordinal_ops.h -- the controller's side effects behind one small interface: the API, or local mode's store. */
#ifndef PETDNS_ORDINAL_OPS_H
#define PETDNS_ORDINAL_OPS_H

#include <stddef.h>

struct event_base;
struct kube;
struct object;
struct ordinal_status;

/*
 * What the controller may do. Each call starts the change and returns 0, or
 * -1 (logged) when it could not even start; the outcome comes back through
 * the store like any other change. set is borrowed for the call.
 */
struct ordinal_ops {
	int	(*create_claim)(void *ctx, const struct object *set,
		    size_t template_index, const char *claim);
	int	(*create_pod)(void *ctx, const struct object *set, int ordinal);
	int	(*delete_pod)(void *ctx, const struct object *set,
		    const char *pod);
	int	(*update_status)(void *ctx, const struct object *set,
		    const struct ordinal_status *);
	/* A Kubernetes Event on the set: reason is CamelCase, message a sentence. */
	void	(*event)(void *ctx, const struct object *set,
		    const char *reason, const char *message);
	void	*ctx;
};

/* The uid pets point their owner reference at; local sets without one get "local:NS/NAME". */
const char *ordinal_ops_set_uid(const struct object *set, char *buf,
	    size_t len);
/* The pet pod of set for ordinal, as API JSON text; NULL with err filled. */
char	*ordinal_ops_pod_json(const struct object *set, int ordinal,
	    char *err, size_t errlen);
/* The claim from volumeClaimTemplates[template_index], named claim; NULL with err filled. */
char	*ordinal_ops_claim_json(const struct object *set,
	    size_t template_index, const char *claim, char *err, size_t errlen);

struct ordinal_ops_api;
/* Writes through the Kubernetes API (kube borrowed). */
struct ordinal_ops_api *ordinal_ops_api_new(struct kube *);
void	ordinal_ops_api_free(struct ordinal_ops_api *);
void	ordinal_ops_api_get(struct ordinal_ops_api *, struct ordinal_ops *);

struct ordinal_ops_local;
/* Told when the pods and claims local mode holds changed. */
typedef void (*ordinal_ops_changed_fn)(void *arg);
/*
 * Local mode: pods and claims kept here stand in for the API; a simulated
 * kubelet makes pods Running and Ready kubelet_delay_ms after creation
 * (except the ordinals a set lists in its annotation petdns.io/unready,
 * "1,3") and removes deleted ones after the same delay.
 */
struct ordinal_ops_local *ordinal_ops_local_new(struct event_base *,
	    int kubelet_delay_ms, ordinal_ops_changed_fn, void *arg);
void	ordinal_ops_local_free(struct ordinal_ops_local *);
void	ordinal_ops_local_get(struct ordinal_ops_local *, struct ordinal_ops *);
/* Appends copies of the pods and claims held (the caller owns them) to *objs. */
void	ordinal_ops_local_objects(const struct ordinal_ops_local *,
	    struct object ***objs, size_t *n);

#endif
