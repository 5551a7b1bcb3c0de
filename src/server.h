/* server.h -- one listening address: the server blocks behind it and the query pipeline. */
#ifndef PETDNS_SERVER_H
#define PETDNS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "responder.h"

struct config_server;
struct kubernetes;
struct server;

/* Our advertised EDNS UDP payload size (DNS flag day 2020). */
#define SERVER_EDNS_SIZE	1232

struct event_base;
struct metrics;

/*
 * A listening address (addr NULL: every address) and port; upstream queries
 * run on base; metrics (borrowed) counts every query.
 */
struct server *server_new(struct event_base *, struct metrics *,
	    const char *addr, uint16_t port);
void	server_free(struct server *);
/* Queries still out at upstreams (a retiring configuration waits for them). */
size_t	server_pending(const struct server *);
/* Adds a block; both are borrowed and must outlive the server. k may be NULL. */
void	server_add_block(struct server *, const struct config_server *,
	    struct kubernetes *k);
/*
 * The responder_fn: validates the query (FORMERR, NOTIMP, REFUSED, BADVERS,
 * drops), routes it to the block with the longest matching zone, and
 * renders the answer truncated to what the transport and client allow.
 */
size_t	server_query(void *server, const uint8_t *query, size_t len,
	    uint8_t *resp, size_t max, enum responder_transport,
	    struct responder_req *req);

/*
 * The wire-format fast path on (the default) or off: off, every query
 * takes the ldns path, the reference the fast path is tested against.
 */
void	server_set_fast(struct server *, bool on);
/* How many queries the fast path answered (tests, benchmarks). */
size_t	server_fast_count(const struct server *);

/*
 * loop: sends each block's probe (a random name, HINFO) to our own
 * addr:port once; a block that sees its probe a third time halts petdns,
 * as CoreDNS's loop does.
 */
void	server_probe_loops(struct server *, const char *addr, uint16_t port);

#endif
