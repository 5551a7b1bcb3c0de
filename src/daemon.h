/* daemon.h -- one running configuration: its kubernetes instances, listeners and sockets. */
#ifndef PETDNS_DAEMON_H
#define PETDNS_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

struct config;
struct daemon;
struct event_base;
struct metrics;

/*
 * Takes ownership of config; metrics (borrowed) outlives reloads. Starts its
 * sources; NULL (logged) when one cannot start.
 */
struct daemon *daemon_new(struct event_base *, struct config *,
	    struct metrics *);
/* Frees everything; answers still owed are dropped. NULL is a no-op. */
void	daemon_free(struct daemon *);
/* True once every source has synced (what /ready reports). */
bool	daemon_ready(const struct daemon *);
/* Ready, and every PetSet controller has nothing left to do. */
bool	daemon_settled(const struct daemon *);
/* Opens the DNS and HTTP (health, ready, prometheus) sockets; -1 (logged) when one cannot bind. */
int	daemon_listen(struct daemon *);
/* Shutting down: done(arg) after the longest health lameduck (at once without). */
void	daemon_lameduck(struct daemon *, void (*done)(void *), void *arg);
/* Prints every record of every kubernetes zone, sorted. */
void	daemon_dump(struct daemon *, FILE *);
const struct config *daemon_config(const struct daemon *);

#endif
