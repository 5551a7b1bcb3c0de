/* responder.h -- UDP and TCP listeners on libevent: sockets and framing, no DNS logic. */
#ifndef PETDNS_RESPONDER_H
#define PETDNS_RESPONDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct responder;
struct timespec;

enum responder_transport {
	RESPONDER_UDP,
	RESPONDER_TCP
};

struct responder_req;
struct responder_ticket;

/*
 * Answers one query: writes the response (at most max bytes) into resp and
 * returns its length, or 0 to send nothing now. req describes the query
 * for the call only; to answer later (forwarding), take a ticket with
 * responder_defer(req) and return 0.
 */
typedef size_t (*responder_fn)(void *arg, const uint8_t *query, size_t len,
	    uint8_t *resp, size_t max, enum responder_transport,
	    struct responder_req *req);

/* The client's address; *len set to its length. */
const struct sockaddr *responder_peer(const struct responder_req *,
	    socklen_t *len);
/* When the query was read (CLOCK_MONOTONIC; UDP: its batch, one read for all). */
void	responder_received(const struct responder_req *, struct timespec *);
/* A ticket to answer this query later, exactly once, with responder_answer. */
struct responder_ticket *responder_defer(struct responder_req *);
/*
 * Sends resp (len 0: nothing) to the query's client and frees the ticket.
 * A client gone meanwhile (TCP closed, responder freed) gets nothing.
 */
void	responder_answer(struct responder_ticket *, const uint8_t *resp,
	    size_t len);
/* The ticket's transport. */
enum responder_transport responder_ticket_transport(
	    const struct responder_ticket *);

/*
 * Calls fn as a listener would for a query from peer, without a socket
 * (fuzzing, tests), with max cut to what a datagram to peer can hold on
 * UDP. Returns fn's answer length; a deferred answer goes nowhere.
 */
size_t	responder_call(responder_fn, void *arg, const uint8_t *query,
	    size_t len, uint8_t *resp, size_t max, enum responder_transport,
	    const struct sockaddr *peer, socklen_t peerlen);

/*
 * Each limit 0 takes the default, or PETDNS_TCP_READ_MS, PETDNS_TCP_IDLE_MS
 * or PETDNS_TCP_MAX_CONNS from the environment (tests).
 */
struct responder_limits {
	/* Close a new TCP connection with no complete query this long (3000). */
	int	tcp_read_ms;
	/* Then close it this long after its last complete query (10000). */
	int	tcp_idle_ms;
	/* Past this, the least recently active connection closes (1000). */
	int	tcp_max_conns;
	/* At its next query, close a client with this much unsent (262144). */
	size_t	tcp_max_output;
};

/*
 * A responder serves on one event base and is used from that base's thread
 * only; worker threads each make their own (the sockets use SO_REUSEPORT).
 * The caller must ignore SIGPIPE: writes to a reset TCP peer raise it.
 */
struct responder *responder_new(struct event_base *,
	    const struct responder_limits *);
/*
 * Serves addr:port over UDP and TCP; queries go to fn(arg, ...). addr is an
 * IPv4 or IPv6 literal ("::" is IPv6 only), or NULL for every address: both
 * 0.0.0.0 and ::, replying from the address each query was sent to. Port 0
 * picks a free port, the same for every socket; see responder_port. Returns
 * 0, or -1 with err filled ("listen udp 127.0.0.1:53: Permission denied").
 */
int	responder_listen(struct responder *, const char *addr, uint16_t port,
	    responder_fn, void *arg, char *err, size_t errlen);
/* The port the last successful responder_listen bound; 0 before any. */
uint16_t responder_port(const struct responder *);
/*
 * Stops listening (a reload): queued UDP queries are answered, every
 * listening socket closes, open TCP connections stay until responder_free.
 * UDP answers still owed leave through next's socket on the same address
 * (next may be NULL: they go nowhere).
 */
void	responder_retire(struct responder *, struct responder *next);
/*
 * Closes every socket and connection; call it before freeing the base.
 * NULL is a no-op.
 */
void	responder_free(struct responder *);

#endif
