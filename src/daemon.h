/* daemon.h -- one running configuration: its kubernetes instances, listeners and sockets. */
#ifndef PETDNS_DAEMON_H
#define PETDNS_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

struct config;
struct daemon;
struct event_base;

/* Takes ownership of config. Starts its sources; NULL (logged) when one cannot start. */
struct daemon *daemon_new(struct event_base *, struct config *);
/* Frees everything; answers still owed are dropped. NULL is a no-op. */
void	daemon_free(struct daemon *);
/* True once every source has synced (what /ready reports). */
bool	daemon_ready(const struct daemon *);
/* Ready, and every PetSet controller has nothing left to do. */
bool	daemon_settled(const struct daemon *);
/* Opens the sockets of every server block; -1 (logged) when one cannot bind. */
int	daemon_listen(struct daemon *);
/* Prints every record of every kubernetes zone, sorted. */
void	daemon_dump(struct daemon *, FILE *);
const struct config *daemon_config(const struct daemon *);

#endif
