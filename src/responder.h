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

/*
 * Answers one query: writes the response (at most max bytes) into resp and
 * returns its length, or 0 to send nothing (over TCP the connection stays
 * open). query may be any length from 0 to 65535; both buffers and from are
 * borrowed for the call only.
 */
typedef size_t (*responder_fn)(void *arg, const uint8_t *query, size_t len,
	    uint8_t *resp, size_t max, enum responder_transport,
	    const struct sockaddr *from, socklen_t fromlen);

/* Fields of 0 (or a NULL limits) take the defaults in parentheses. */
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
