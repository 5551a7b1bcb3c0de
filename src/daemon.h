/* daemon.h -- one running configuration: its kubernetes instances, listeners and sockets. */
#ifndef PETDNS_DAEMON_H
#define PETDNS_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

struct config;
struct daemon;
struct event_base;
struct explain;
struct metrics;

/*
 * Takes ownership of config; metrics (borrowed) outlives reloads. Starts its
 * sources; NULL (logged) when one cannot start.
 */
struct daemon *daemon_new(struct event_base *, struct config *,
	    struct metrics *);
/*
 * Checks what the sources of config will read when they start (a kubeconfig,
 * the endpoint's tls files, a manifests directory) without starting them, so
 * that a bad one is one error at load time. -1 with err filled ("FILE:LINE:
 * kubernetes: reason"). In-cluster credentials are left to the start.
 */
int	daemon_check(const struct config *, char *err, size_t errlen);
/* Frees everything; answers still owed are dropped. NULL is a no-op. */
void	daemon_free(struct daemon *);
/* True once every source has synced (what /ready reports). */
bool	daemon_ready(const struct daemon *);
/* Ready, and every PetSet controller has nothing left to do. */
bool	daemon_settled(const struct daemon *);
/* Ready, and every PetSet controller is done or waits on unready pets. */
bool	daemon_stable(const struct daemon *);
/*
 * Explains name asked with type (see explain_type) with the kubernetes
 * block that serves it, else the first one (short names go through its
 * search path). NULL with err filled when there is none or type is bad.
 */
struct explain *daemon_explain(struct daemon *, const char *name,
	    const char *type, char *err, size_t errlen);
/* Opens the DNS and HTTP (health, ready, prometheus) sockets; -1 (logged) when one cannot bind. */
int	daemon_listen(struct daemon *);
/*
 * A reload: next listens now; d stops listening (its queued queries
 * answered) and keeps only what answers its queries still at upstreams.
 */
void	daemon_retire(struct daemon *d, struct daemon *next);
/* True when a retired daemon owes no answer any more. */
bool	daemon_idle(const struct daemon *);
/* Shutting down: done(arg) after the longest health lameduck (at once without). */
void	daemon_lameduck(struct daemon *, void (*done)(void *), void *arg);
/* Prints every record of every kubernetes zone, sorted. */
void	daemon_dump(struct daemon *, FILE *);
const struct config *daemon_config(const struct daemon *);

#endif
