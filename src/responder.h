/* responder.h -- UDP and TCP listeners on libevent: sockets and framing, no DNS logic. */
#ifndef PETDNS_RESPONDER_H
#define PETDNS_RESPONDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct responder;

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

struct responder_limits {
	/* Close a TCP connection with no complete query this long (10000). */
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
 * Closes every socket and connection; call it before freeing the base.
 * NULL is a no-op.
 */
void	responder_free(struct responder *);

#endif
