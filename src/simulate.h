/* simulate.h -- local mode's control plane: ClusterIPs, kubelet pod status, EndpointSlices. */
#ifndef PETDNS_SIMULATE_H
#define PETDNS_SIMULATE_H

#include <stddef.h>

struct object;
struct simulate;
struct store;

/* The store is borrowed and must outlive the simulation. */
struct simulate *simulate_new(struct store *);
void	simulate_free(struct simulate *);
/*
 * Takes ownership of the objects (not of the array): the complete set of
 * objects from the manifests. Completes them as a cluster would (ClusterIPs
 * from 10.96.0.0/12, Running and Ready pods with IPs from 10.244.0.0/16,
 * EndpointSlices for services with a selector and no slice, the standard
 * namespaces), keeping earlier allocations stable, then makes the store hold
 * exactly that set.
 */
void	simulate_apply(struct simulate *, struct object **objs, size_t n);

#endif
