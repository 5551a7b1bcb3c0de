/* test_responder.c -- the responder on loopback, driven by the test thread. */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "responder.h"

#define DEADLINE_MS	5000	/* any wait longer than this is a failure */
#define MAX_FDS		16

struct fixture {
	struct event_base	*base;
	struct responder	*r;
	uint16_t		 port;
	int			 calls;
	enum responder_transport last;
	int			 fds[MAX_FDS];
	int			 nfds;
	struct responder_ticket	*ticket;	/* 'D': answered later */
};

/*
 * The test handler. First byte 'E': echo with that byte turned into 'R'.
 * 'S' hi lo: a response of that size in a known pattern. 'M': a response
 * as large as max allows. 'Z' or nothing: no response. 'D': a ticket to
 * answer later.
 */
static size_t
handler(void *arg, const uint8_t *q, size_t len, uint8_t *resp, size_t max,
    enum responder_transport tp, struct responder_req *req)
{
	struct fixture		*f = arg;
	const struct sockaddr	*from;
	socklen_t		 fromlen;
	size_t			 i, n;

	f->calls++;
	f->last = tp;
	from = responder_peer(req, &fromlen);
	assert_non_null(from);
	assert_true(fromlen > 0);
	if (len == 0 || q[0] == 'Z')
		return 0;
	if (q[0] == 'D') {
		f->ticket = responder_defer(req);
		assert_int_equal(responder_ticket_transport(f->ticket), tp);
		return 0;
	}
	if (q[0] == 'M') {
		memset(resp, 'M', max);
		return max;
	}
	if (q[0] == 'S' && len >= 3) {
		n = (size_t)q[1] << 8 | q[2];
		for (i = 0; i < n; i++)
			resp[i] = (uint8_t)(i * 7 + 3);
		return n;
	}
	assert_true(len <= max);
	memcpy(resp, q, len);
	resp[0] = 'R';
	return len;
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Runs the server's loop for ms milliseconds. */
static void
run_for(struct fixture *f, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* Runs the server's loop for one short slice, between client steps. */
static void
slice(struct fixture *f)
{
	run_for(f, 1);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	while (f->nfds > 0)
		close(f->fds[--f->nfds]);
	responder_free(f->r);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Starts the responder on addr (NULL: every address), a free port. */
static void
start(struct fixture *f, const char *addr, const struct responder_limits *lim)
{
	char	 err[256];

	f->r = responder_new(f->base, lim);
	assert_int_equal(responder_listen(f->r, addr, 0, handler, f, err,
	    sizeof(err)), 0);
	f->port = responder_port(f->r);
	assert_int_not_equal(f->port, 0);
}

/* A nonblocking client socket connected to addr:f->port, closed at teardown. */
static int
client_to(struct fixture *f, const char *addr, int type, int rcvbuf)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, family;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		family = sin->sin_family = AF_INET;
		sin->sin_port = htons(f->port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		family = sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(f->port);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		len = sizeof(*sin6);
	}
	fd = socket(family, type, 0);
	assert_true(fd >= 0);
	assert_true(f->nfds < MAX_FDS);
	f->fds[f->nfds++] = fd;
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	/* Blocking connect: the kernel completes it from the listen backlog. */
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static int
client(struct fixture *f, int family, int type, int rcvbuf)
{
	return client_to(f, family == AF_INET ? "127.0.0.1" : "::1", type,
	    rcvbuf);
}

static void
send_all(struct fixture *f, int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	long		 end = now_ms() + DEADLINE_MS;
	ssize_t		 n;

	while (len > 0) {
		assert_true(now_ms() < end);
		if ((n = send(fd, p, len, 0)) == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			slice(f);
			continue;
		}
		p += n;
		len -= n;
	}
}

/* Sends q as one TCP frame (length prefix and body in one write). */
static void
send_frame(struct fixture *f, int fd, const void *q, size_t len)
{
	uint8_t	 buf[2 + 256];

	assert_true(len <= 256);
	buf[0] = len >> 8;
	buf[1] = len & 0xff;
	memcpy(buf + 2, q, len);
	send_all(f, fd, buf, 2 + len);
}

/*
 * Reads up to want bytes, at most step per slice. Returns the count read:
 * short on EOF or reset.
 */
static size_t
recv_some(struct fixture *f, int fd, void *buf, size_t want, size_t step)
{
	uint8_t	*p = buf;
	long	 end = now_ms() + DEADLINE_MS;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < want) {
		assert_true(now_ms() < end);
		slice(f);
		n = recv(fd, p + got, want - got < step ? want - got : step, 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			break;
		if (n == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			continue;
		}
		got += n;
	}
	return got;
}

/* Reads one TCP frame into buf. Returns its length. */
static size_t
recv_frame(struct fixture *f, int fd, uint8_t *buf, size_t max)
{
	uint8_t	 hdr[2];
	size_t	 len;

	assert_int_equal(recv_some(f, fd, hdr, 2, 2), 2);
	len = (size_t)hdr[0] << 8 | hdr[1];
	assert_true(len <= max);
	assert_int_equal(recv_some(f, fd, buf, len, len), len);
	return len;
}

/* True once the server closed fd, any unread data discarded. */
static bool
closed(struct fixture *f, int fd)
{
	uint8_t	 buf[4096];
	long	 end = now_ms() + DEADLINE_MS;
	ssize_t	 n;

	while (now_ms() < end) {
		slice(f);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return true;
	}
	return false;
}

/* Sends an echo query and checks the answer over TCP. */
static void
tcp_echo(struct fixture *f, int fd, const char *q)
{
	uint8_t	 buf[256];
	size_t	 len = strlen(q);

	send_frame(f, fd, q, len);
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), len);
	assert_int_equal(buf[0], 'R');
	assert_memory_equal(buf + 1, q + 1, len - 1);
}

/* Sends an echo datagram and checks the answer. */
static void
udp_echo(struct fixture *f, int fd, const void *q, size_t len)
{
	static uint8_t	 buf[65536];
	long		 end = now_ms() + DEADLINE_MS;
	ssize_t		 n;

	assert_int_equal(send(fd, q, len, 0), (ssize_t)len);
	for (;;) {
		assert_true(now_ms() < end);
		slice(f);
		if ((n = recv(fd, buf, sizeof(buf), 0)) >= 0)
			break;
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	assert_int_equal(n, len);
	assert_int_equal(buf[0], 'R');
	assert_memory_equal(buf + 1, (const uint8_t *)q + 1, len - 1);
}

static void
test_udp_round_trip(void **state)
{
	struct fixture	*f = *state;
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	udp_echo(f, fd, "Ehello", 6);
	assert_int_equal(f->last, RESPONDER_UDP);
}

/* After a refused query, the next reply is the next query's answer. */
static void
test_udp_no_answer(void **state)
{
	struct fixture	*f = *state;
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(send(fd, "Zsilent", 7, 0), 7);
	udp_echo(f, fd, "Eloud", 5);
	assert_int_equal(f->calls, 2);
}

static void
test_udp_odd_sizes(void **state)
{
	struct fixture	*f = *state;
	static uint8_t	 big[65507];	/* the largest IPv4 UDP payload */
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(send(fd, "", 0, 0), 0);
	udp_echo(f, fd, "E", 1);
	assert_int_equal(f->calls, 2);
	memset(big, 'x', sizeof(big));
	big[0] = 'E';
	udp_echo(f, fd, big, sizeof(big));
	udp_echo(f, fd, "Eafter", 6);
}

/*
 * bug: a handler told it had 65535 bytes for a UDP answer (a client's EDNS
 * size of 65535) made an answer no datagram can carry, and the client got
 * nothing. max is now what fits: 65507 bytes over IPv4.
 */
static void
test_udp_answer_fits_datagram(void **state)
{
	struct fixture	*f = *state;
	static uint8_t	 buf[65536];
	long		 end = now_ms() + DEADLINE_MS;
	ssize_t		 n;
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(send(fd, "M", 1, 0), 1);
	while ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_true(now_ms() < end);
		slice(f);
	}
	assert_int_equal(n, 65507);
	assert_int_equal(buf[65506], 'M');
}

/* addr NULL: 0.0.0.0 and :: on one port, replying from the queried address. */
static void
test_every_address(void **state)
{
	struct fixture	*f = *state;
	int		 fd;

	start(f, NULL, NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	udp_echo(f, fd, "Ev4", 3);
	tcp_echo(f, client(f, AF_INET, SOCK_STREAM, 0), "Ev4tcp");
	/* A connected client drops a reply from any other source address. */
	udp_echo(f, client_to(f, "127.0.0.2", SOCK_DGRAM, 0), "Eother", 6);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd == -1)
		skip();
	close(fd);
	fd = client(f, AF_INET6, SOCK_DGRAM, 0);
	udp_echo(f, fd, "Ev6", 3);
	tcp_echo(f, client(f, AF_INET6, SOCK_STREAM, 0), "Ev6tcp");
}

/* True when /proc/net/udp lists a socket bound to hexaddr (its format):port. */
static bool
udp_bound(const char *hexaddr, uint16_t port)
{
	char	 line[512], want[32];
	FILE	*fp = fopen("/proc/net/udp", "r");
	bool	 found = false;

	assert_non_null(fp);
	snprintf(want, sizeof(want), " %s:%04X ", hexaddr, port);
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strstr(line, want) != NULL;
	fclose(fp);
	return found;
}

/*
 * addr NULL: beside 0.0.0.0, a socket on each address the host has (here
 * 127.0.0.1), whose replies need no IP_PKTINFO; 127.0.0.2, not an address
 * of an interface, is still answered from itself (test_every_address).
 */
static void
test_every_address_own_sockets(void **state)
{
	struct fixture	*f = *state;

	start(f, NULL, NULL);
	assert_true(udp_bound("0100007F", f->port));
	assert_true(udp_bound("00000000", f->port));
	assert_false(udp_bound("0200007F", f->port));
	udp_echo(f, client(f, AF_INET, SOCK_DGRAM, 0), "Eown", 4);
	udp_echo(f, client_to(f, "127.0.0.2", SOCK_DGRAM, 0), "Ewild", 5);
}

/* Run the loop until the handler took a ticket. */
static void
wait_ticket(struct fixture *f)
{
	long	end = now_ms() + DEADLINE_MS;

	while (f->ticket == NULL) {
		assert_true(now_ms() < end);
		slice(f);
	}
}

static void
test_deferred_udp(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[64];
	long		 end = now_ms() + DEADLINE_MS;
	ssize_t		 n;
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(send(fd, "Dlater", 6, 0), 6);
	wait_ticket(f);
	/* Nothing went out yet; a later query is answered meanwhile. */
	udp_echo(f, fd, "Enow", 4);
	responder_answer(f->ticket, (const uint8_t *)"Rlater", 6);
	f->ticket = NULL;
	while ((n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		assert_true(now_ms() < end);
		slice(f);
	}
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "Rlater", 6);
}

/* TCP answers may come out of order (RFC 7766 7); a closed client gets none. */
static void
test_deferred_tcp(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[64];
	const uint8_t	 two[] = { 0, 2, 'D', '1', 0, 2, 'E', '2' };
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	send_all(f, fd, two, sizeof(two));
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "R2", 2);
	assert_non_null(f->ticket);
	responder_answer(f->ticket, (const uint8_t *)"R1", 2);
	f->ticket = NULL;
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "R1", 2);
	/* The client leaves before its answer: the answer goes nowhere. */
	send_frame(f, fd, "Dgone", 5);
	wait_ticket(f);
	close(fd);
	f->fds[--f->nfds] = -1;
	run_for(f, 50);
	responder_answer(f->ticket, (const uint8_t *)"Rgone", 5);
	f->ticket = NULL;
	/* And a ticket outliving the responder is answered safely too. */
	send_frame(f, client(f, AF_INET, SOCK_STREAM, 0), "Dlast", 5);
	wait_ticket(f);
	responder_free(f->r);
	f->r = NULL;
	responder_answer(f->ticket, (const uint8_t *)"Rlast", 5);
	f->ticket = NULL;
}

static void
test_tcp_single(void **state)
{
	struct fixture	*f = *state;

	start(f, "127.0.0.1", NULL);
	tcp_echo(f, client(f, AF_INET, SOCK_STREAM, 0), "Equery");
	assert_int_equal(f->last, RESPONDER_TCP);
}

static void
test_tcp_pipelined(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[256];
	const uint8_t	 two[] = { 0, 4, 'E', 'o', 'n', 'e', 0, 1, 'Z',
			    0, 5, 'E', 't', 'w', 'o', '!' };
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	send_all(f, fd, two, sizeof(two));
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "Rone", 4);
	/* The refused query in between sent nothing and kept the connection. */
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "Rtwo!", 5);
	tcp_echo(f, fd, "Ethree");
	assert_int_equal(f->calls, 4);
}

static void
test_tcp_byte_at_a_time(void **state)
{
	struct fixture	*f = *state;
	const uint8_t	 q[] = { 0, 6, 'E', 's', 'l', 'o', 'w', '!',
			    0, 3, 'E', 'x', 'y' };
	uint8_t		 buf[256];
	size_t		 i;
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	for (i = 0; i < sizeof(q); i++) {
		send_all(f, fd, &q[i], 1);
		slice(f);
	}
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "Rslow!", 6);
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "Rxy", 3);
}

/* Large pipelined answers to a small-window client reading 1000 bytes a go. */
static void
test_tcp_slow_reader(void **state)
{
	struct fixture	*f = *state;
	const uint8_t	 q[] = { 0, 3, 'S', 40000 >> 8, 40000 & 0xff,
			    0, 3, 'S', 60000 >> 8, 60000 & 0xff };
	static uint8_t	 buf[65535];
	size_t		 i, k, len;
	uint8_t		 hdr[2];
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 4096);
	send_all(f, fd, q, sizeof(q));
	for (k = 0; k < 2; k++) {
		assert_int_equal(recv_some(f, fd, hdr, 2, 2), 2);
		len = (size_t)hdr[0] << 8 | hdr[1];
		assert_int_equal(len, k == 0 ? 40000 : 60000);
		assert_int_equal(recv_some(f, fd, buf, len, 1000), len);
		for (i = 0; i < len; i++)
			if (buf[i] != (uint8_t)(i * 7 + 3))
				fail_msg("answer %zu: byte %zu differs", k, i);
	}
	tcp_echo(f, fd, "Estill");
}

/* A client that queries without reading is closed past the output cap. */
static void
test_tcp_output_cap(void **state)
{
	struct fixture		*f = *state;
	struct responder_limits	 lim = { .tcp_max_output = 1000 };
	const uint8_t		 q[] = { 0, 3, 'S', 0xea, 0x60, 0, 3, 'S', 0xea,
				    0x60, 0, 3, 'S', 0xea, 0x60 };
	int			 fd;

	start(f, "127.0.0.1", &lim);
	fd = client(f, AF_INET, SOCK_STREAM, 4096);
	send_all(f, fd, q, sizeof(q));
	assert_true(closed(f, fd));
	assert_int_equal(f->calls, 1);
}

static void
test_tcp_idle_timeout(void **state)
{
	struct fixture		*f = *state;
	struct responder_limits	 lim = { .tcp_read_ms = 200,
				    .tcp_idle_ms = 200 };
	long			 t0;
	int			 fd, part;

	start(f, "127.0.0.1", &lim);
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, fd, "Ebusy");
	t0 = now_ms();
	assert_true(closed(f, fd));
	assert_true(now_ms() - t0 >= 150);
	/* Half a frame is not a query: it does not keep the connection. */
	part = client(f, AF_INET, SOCK_STREAM, 0);
	send_all(f, part, "\0", 1);
	t0 = now_ms();
	assert_true(closed(f, part));
	assert_true(now_ms() - t0 >= 150);
}

/*
 * CoreDNS's two timeouts: a client that connects and asks nothing goes at
 * the read timeout; once it has asked, the longer idle timeout applies.
 */
static void
test_tcp_read_timeout(void **state)
{
	struct fixture		*f = *state;
	struct responder_limits	 lim = { .tcp_read_ms = 100,
				    .tcp_idle_ms = 600 };
	long			 t0 = now_ms();
	int			 silent, asked;

	start(f, "127.0.0.1", &lim);
	silent = client(f, AF_INET, SOCK_STREAM, 0);
	asked = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, asked, "Eonce");
	assert_true(closed(f, silent));
	assert_true(now_ms() - t0 >= 80);
	assert_true(now_ms() - t0 < 500);
	t0 = now_ms();
	tcp_echo(f, asked, "Etwice");
	assert_true(closed(f, asked));
	assert_true(now_ms() - t0 >= 500);
}

static void
test_tcp_conn_cap(void **state)
{
	struct fixture		*f = *state;
	struct responder_limits	 lim = { .tcp_max_conns = 2 };
	int			 a, b, c, d;

	start(f, "127.0.0.1", &lim);
	a = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, a, "Ea");
	b = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, b, "Eb");
	c = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, c, "Ec");
	assert_true(closed(f, a));
	/* b is now the most recently active, so d evicts c. */
	tcp_echo(f, b, "Eb2");
	d = client(f, AF_INET, SOCK_STREAM, 0);
	tcp_echo(f, d, "Ed");
	assert_true(closed(f, c));
	tcp_echo(f, b, "Eb3");
	tcp_echo(f, d, "Ed2");
}

static void
test_tcp_zero_frame(void **state)
{
	struct fixture	*f = *state;
	const uint8_t	 q[] = { 0, 3, 'E', 'o', 'k', 0, 0,
			    0, 3, 'E', 'n', 'o' };
	uint8_t		 buf[256];
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	send_all(f, fd, "\0\0", 2);
	assert_true(closed(f, fd));
	/* Answers before the empty frame are still delivered; none after. */
	fd = client(f, AF_INET, SOCK_STREAM, 0);
	send_all(f, fd, q, sizeof(q));
	assert_int_equal(recv_frame(f, fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "Rok", 3);
	assert_true(closed(f, fd));
	assert_int_equal(f->calls, 1);
}

/* A client that half-closes after its query still gets all of the answer. */
static void
test_tcp_half_close(void **state)
{
	struct fixture	*f = *state;
	const uint8_t	 q[] = { 0, 3, 'S', 60000 >> 8, 60000 & 0xff };
	static uint8_t	 buf[60000];
	int		 fd;

	start(f, "127.0.0.1", NULL);
	fd = client(f, AF_INET, SOCK_STREAM, 4096);
	send_all(f, fd, q, sizeof(q));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	run_for(f, 20);
	assert_int_equal(recv_some(f, fd, buf, 2, 2), 2);
	assert_int_equal(recv_some(f, fd, buf, sizeof(buf), 4096),
	    sizeof(buf));
	assert_int_equal(buf[sizeof(buf) - 1], (uint8_t)(59999 * 7 + 3));
	assert_true(closed(f, fd));
}

/*
 * A reader slower than the idle timeout, steadily draining pipelined
 * answers, gets them all: neither idle nor the output cap cuts it off.
 */
static void
test_tcp_slow_reader_not_idle(void **state)
{
	struct fixture		*f = *state;
	struct responder_limits	 lim = { .tcp_idle_ms = 100 };
	const uint8_t		 q[] = { 0, 3, 'S', 60000 >> 8, 60000 & 0xff };
	static uint8_t		 buf[3 * 60002];
	size_t			 got = 0, n;
	int			 fd, i;

	start(f, "127.0.0.1", &lim);
	fd = client(f, AF_INET, SOCK_STREAM, 4096);
	for (i = 0; i < 3; i++)
		send_all(f, fd, q, sizeof(q));
	while (got < sizeof(buf)) {
		run_for(f, 10);
		n = sizeof(buf) - got < 4000 ? sizeof(buf) - got : 4000;
		assert_int_equal(recv_some(f, fd, buf + got, n, n), n);
		got += n;
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(buf[i * 60002 + 60001],
		    (uint8_t)(59999 * 7 + 3));
}

/* Tries to listen on a UDP port another socket holds exclusively. */
static void
port_in_use(struct fixture *f, char *err, size_t errlen)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 want[64];
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	f->fds[f->nfds++] = fd;
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(responder_listen(f->r, "127.0.0.1",
	    ntohs(sin.sin_port), handler, f, err, errlen), -1);
	snprintf(want, sizeof(want), "listen udp 127.0.0.1:%u: ",
	    ntohs(sin.sin_port));
	assert_non_null(strstr(err, want));
}

/*
 * The first documentation address this host cannot bind (CI hosts sometimes
 * sit on TEST-NET-1 themselves), or NULL.
 */
static const char *
nonlocal_addr(int family)
{
	static const char *v4[] = { "192.0.2.1", "198.51.100.1",
	    "203.0.113.1" };
	static const char *v6[] = { "2001:db8::1", "2001:db8::2" };
	const char	**c = family == AF_INET ? v4 : v6;
	size_t		 i, n = family == AF_INET ? 3 : 2;
	struct sockaddr_storage ss;
	int		 fd, rv;

	for (i = 0; i < n; i++) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = family;
		if (family == AF_INET)
			inet_pton(AF_INET, c[i],
			    &((struct sockaddr_in *)&ss)->sin_addr);
		else
			inet_pton(AF_INET6, c[i],
			    &((struct sockaddr_in6 *)&ss)->sin6_addr);
		if ((fd = socket(family, SOCK_DGRAM, 0)) == -1)
			return NULL;
		rv = bind(fd, (struct sockaddr *)&ss, sizeof(ss));
		close(fd);
		if (rv == -1 && errno == EADDRNOTAVAIL)
			return c[i];
	}
	return NULL;
}

static void
test_bind_errors(void **state)
{
	struct fixture	*f = *state;
	const char	*addr;
	char		 err[256], want[80];

	f->r = responder_new(f->base, NULL);
	if ((addr = nonlocal_addr(AF_INET)) != NULL) {
		assert_int_equal(responder_listen(f->r, addr, 5353, handler, f,
		    err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "listen udp %s:5353: ", addr);
		assert_non_null(strstr(err, want));
	}
	if ((addr = nonlocal_addr(AF_INET6)) != NULL) {
		assert_int_equal(responder_listen(f->r, addr, 5353, handler, f,
		    err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "listen udp [%s]:5353: ", addr);
		assert_non_null(strstr(err, want));
	}
	assert_int_equal(responder_listen(f->r, "not-an-ip", 53, handler, f,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not-an-ip"));
	assert_int_equal(responder_port(f->r), 0);
	/* A port held by a socket without SO_REUSEPORT is refused, named. */
	port_in_use(f, err, sizeof(err));
	assert_non_null(strstr(err, "Address already in use"));
}

/* Two listens on one responder: both serve, and freeing closes both. */
static void
test_two_listens(void **state)
{
	struct fixture	*f = *state;
	char		 err[256];
	uint16_t	 first;

	start(f, "127.0.0.1", NULL);
	first = f->port;
	assert_int_equal(responder_listen(f->r, "127.0.0.1", 0, handler, f,
	    err, sizeof(err)), 0);
	f->port = responder_port(f->r);
	assert_int_not_equal(f->port, first);
	tcp_echo(f, client(f, AF_INET, SOCK_STREAM, 0), "Esecond");
	f->port = first;
	udp_echo(f, client(f, AF_INET, SOCK_DGRAM, 0), "Efirst", 6);
	/* Open connections at free time must not leak. */
	client(f, AF_INET, SOCK_STREAM, 0);
	slice(f);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_udp_round_trip),
		T(test_udp_no_answer),
		T(test_udp_odd_sizes),
		T(test_udp_answer_fits_datagram),
		T(test_every_address),
		T(test_every_address_own_sockets),
		T(test_deferred_udp),
		T(test_deferred_tcp),
		T(test_tcp_single),
		T(test_tcp_pipelined),
		T(test_tcp_byte_at_a_time),
		T(test_tcp_slow_reader),
		T(test_tcp_slow_reader_not_idle),
		T(test_tcp_output_cap),
		T(test_tcp_idle_timeout),
		T(test_tcp_read_timeout),
		T(test_tcp_conn_cap),
		T(test_tcp_zero_frame),
		T(test_tcp_half_close),
		T(test_bind_errors),
		T(test_two_listens),
	};

	/* Writes to a peer that went away must fail, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
