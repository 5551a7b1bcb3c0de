/* responder.c -- UDP and TCP (RFC 7766) listeners: sockets, framing, limits. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "responder.h"
#include "wire.h"
#include "xmalloc.h"

/* The largest DNS message on either transport. */
#define RESPONDER_MSG_MAX	65535
/*
 * The largest UDP payloads: 65535 less the IPv4 and UDP headers (20 + 8);
 * IPv6's payload length leaves its own header out, so only UDP's (8).
 */
#define RESPONDER_UDP4_MAX	65507
#define RESPONDER_UDP6_MAX	65527
/* Work per wakeup is capped so one busy socket cannot starve the others. */
#define RESPONDER_UDP_BATCH	64
/* Datagrams per recvmmsg/sendmmsg: one system call each way per batch. */
#define RESPONDER_MMSG		32
#define RESPONDER_ACCEPT_BATCH	64
#define RESPONDER_BACKLOG	1024
/* Accepting stops this long when out of descriptors. */
#define RESPONDER_PAUSE_MS	100
/* Port 0: attempts at finding one port free for every socket. */
#define RESPONDER_PORT_TRIES	16

/* CoreDNS's TCP timeouts: read (the first query), then idle (the next). */
#define RESPONDER_READ_MS	3000
#define RESPONDER_IDLE_MS	10000
#define RESPONDER_MAX_CONNS	1000
#define RESPONDER_MAX_OUTPUT	(256 * 1024)

/* A truncated UDP answer: header, question and an OPT with its options. */
#define RESPONDER_CUT_MAX	4096

/* Room for one IP_PKTINFO or IPV6_PKTINFO message, suitably aligned. */
union responder_cmsg {
	struct cmsghdr	hdr;
	unsigned char	buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct responder_listener {
	TAILQ_ENTRY(responder_listener) entry;
	struct responder	*r;
	int			 fd;
	int			 tcp;
	int			 pktinfo;	/* wildcard UDP socket */
	struct event		*ev;
	struct event		*pause;		/* TCP: accept after EMFILE */
	responder_fn		 fn;
	void			*arg;
};

/* A query whose answer comes later. */
struct responder_ticket {
	TAILQ_ENTRY(responder_ticket) entry;	/* in r->tickets */
	struct responder	*r;		/* NULL once the responder is gone */
	struct responder_listener *l;		/* UDP */
	struct responder_conn	*c;		/* TCP; NULL once it closed */
	enum responder_transport transport;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	size_t			 ctllen;
	/* Last: clang sizes it as a GNU variable-length type. */
	union responder_cmsg	 ctl;		/* UDP: the address asked */
};

/* What a handler may ask about the query it is answering. */
struct responder_req {
	struct responder_listener *l;		/* NULL: responder_call */
	struct responder_conn	*c;		/* TCP */
	enum responder_transport transport;
	const struct msghdr	*msg;		/* UDP */
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
	struct timespec		 received;	/* UDP: its batch's */
};

struct responder_conn {
	/* In r->conns, least recently active first. */
	TAILQ_ENTRY(responder_conn) entry;
	struct responder	*r;
	struct responder_listener *l;
	struct bufferevent	*bev;
	struct event		*idle;		/* read timeout, then idle */
	int			 served;	/* answered a query: idle applies */
	size_t			 out_mark;	/* output when idle was armed */
	int			 closing;	/* close once output drains */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
};

/*
 * UDP batches: RESPONDER_MMSG queries in, their answers out. The buffers
 * are large (a datagram may be 64 KiB) but only touched as far as used.
 */
struct responder_mmsg {
	struct mmsghdr		 in[RESPONDER_MMSG];
	struct mmsghdr		 out[RESPONDER_MMSG];
	struct iovec		 iov_in[RESPONDER_MMSG];
	struct iovec		 iov_out[RESPONDER_MMSG];
	struct sockaddr_storage	 from[RESPONDER_MMSG];
	union responder_cmsg	 ctl_in[RESPONDER_MMSG];
	union responder_cmsg	 ctl_out[RESPONDER_MMSG];
	uint8_t			 query[RESPONDER_MMSG][RESPONDER_MSG_MAX];
	uint8_t			 resp[RESPONDER_MMSG][RESPONDER_MSG_MAX];
	int			 filled;	/* by the last recvmmsg */
};

struct responder {
	struct event_base	*base;
	struct responder_mmsg	*mmsg;		/* UDP batches */
	struct responder_limits	 limits;
	/* libevent common timeouts (O(1) re-arming), else the _own ones. */
	const struct timeval	*read_tv;
	const struct timeval	*idle_tv;
	struct timeval		 read_tv_own;
	struct timeval		 idle_tv_own;
	TAILQ_HEAD(, responder_listener) listeners;
	TAILQ_HEAD(, responder_conn) conns;
	TAILQ_HEAD(, responder_ticket) tickets;
	int			 nconns;
	uint16_t		 port;
	uint8_t			 query[RESPONDER_MSG_MAX];
	uint8_t			 resp[RESPONDER_MSG_MAX];
};

static void	responder_udp_cb(evutil_socket_t, short, void *);
static void	responder_accept_cb(evutil_socket_t, short, void *);
static void	responder_listener_close(struct responder_listener *,
		    struct responder *);
static void	responder_resume_cb(evutil_socket_t, short, void *);
static void	responder_idle_cb(evutil_socket_t, short, void *);
static void	responder_read_cb(struct bufferevent *, void *);
static void	responder_write_cb(struct bufferevent *, void *);
static void	responder_event_cb(struct bufferevent *, short, void *);

/* Formats "1.2.3.4:53" or "[::1]:53" for messages. */
static void
responder_fmt_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN] = "?";
	unsigned	 port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	}
}

static void
responder_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int
responder_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Fills ss with the addresses to bind: returns how many, or -1. */
static int
responder_addrs(const char *addr, struct sockaddr_storage ss[2],
    socklen_t sslen[2], char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 rv;

	memset(ss, 0, 2 * sizeof(*ss));
	if (addr == NULL) {
		ss[0].ss_family = AF_INET;
		sslen[0] = sizeof(struct sockaddr_in);
		ss[1].ss_family = AF_INET6;	/* zeroed: in6addr_any */
		sslen[1] = sizeof(struct sockaddr_in6);
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rv = getaddrinfo(addr, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen %s: not an IP address: %s", addr,
		    gai_strerror(rv));
		return -1;
	}
	memcpy(&ss[0], res->ai_addr, res->ai_addrlen);
	sslen[0] = res->ai_addrlen;
	freeaddrinfo(res);
	return 1;
}

static int
responder_setopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

static int
responder_setopt(int fd, int level, int name)
{
	return responder_setopt_int(fd, level, name, 1);
}

/*
 * Makes a bound (and, for TCP, listening) nonblocking socket. Returns it, or
 * -1 with err filled and errno kept for the caller.
 */
static int
responder_socket(const struct sockaddr_storage *ss, socklen_t sslen, int tcp,
    char *err, size_t errlen)
{
	char	 where[INET6_ADDRSTRLEN + 8];
	int	 fd, saved, v6 = ss->ss_family == AF_INET6;

	responder_fmt_addr((const struct sockaddr *)ss, where, sizeof(where));
	fd = socket(ss->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (responder_setopt(fd, SOL_SOCKET, SO_REUSEADDR) == -1 ||
	    responder_setopt(fd, SOL_SOCKET, SO_REUSEPORT) == -1 ||
	    (v6 && responder_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY) == -1))
		goto fail;
	/*
	 * UDP answers go out whole or not at all, never in fragments (RFC
	 * 9715, as BIND sets DF): DF set, sized against the interface's MTU
	 * and not a path MTU that ICMP can lower. One too big for it fails
	 * with EMSGSIZE and goes again truncated (responder_udp_toobig). The
	 * kernel then also skips choosing an IP ID per datagram: ~3% of a
	 * query's CPU on loopback.
	 */
	if (!tcp && (v6 ? responder_setopt_int(fd, IPPROTO_IPV6,
	    IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE) : responder_setopt_int(fd,
	    IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)) == -1)
		goto fail;
	/* Wildcard UDP must learn each query's destination to reply from it. */
	if (!tcp && responder_is_wildcard(ss) && (v6 ?
	    responder_setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO) :
	    responder_setopt(fd, IPPROTO_IP, IP_PKTINFO)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)ss, sslen) == -1)
		goto fail;
	if (tcp && listen(fd, RESPONDER_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	snprintf(err, errlen, "listen %s %s: %s", tcp ? "tcp" : "udp", where,
	    strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

static uint16_t
responder_bound_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void
responder_add_listener(struct responder *r, int fd, int tcp, int pktinfo,
    responder_fn fn, void *arg)
{
	struct responder_listener	*l = xcalloc(1, sizeof(*l));

	l->r = r;
	l->fd = fd;
	l->tcp = tcp;
	l->pktinfo = pktinfo;
	l->fn = fn;
	l->arg = arg;
	l->ev = event_new(r->base, fd, EV_READ | EV_PERSIST,
	    tcp ? responder_accept_cb : responder_udp_cb, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1)
		fatalx("responder: cannot add a listener event");
	if (tcp && (l->pause = evtimer_new(r->base, responder_resume_cb,
	    l)) == NULL)
		fatalx("responder: cannot add a timer");
	TAILQ_INSERT_TAIL(&r->listeners, l, entry);
}

/*
 * Next to a wildcard UDP socket, one socket per address the host has now,
 * as BIND and NSD do: a reply from a bound socket needs no IP_PKTINFO on
 * either side (about 4% of a query's CPU on loopback). The wildcard socket
 * still gets what is sent to addresses added later, or that fail here.
 */
static void
responder_bind_local(struct responder *r, int family, uint16_t port,
    responder_fn fn, void *arg)
{
	struct sockaddr_storage	 ss;
	struct ifaddrs		*ifa, *i;
	char			 err[128];
	socklen_t		 len = family == AF_INET ?
				    sizeof(struct sockaddr_in) :
				    sizeof(struct sockaddr_in6);
	int			 fd;

	if (getifaddrs(&ifa) == -1) {
		log_debug("responder: getifaddrs: %s", strerror(errno));
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != family ||
		    (i->ifa_flags & IFF_UP) == 0)
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr, len);
		responder_set_port(&ss, port);
		/* Taken by another program, or an IPv6 address not ready yet. */
		if ((fd = responder_socket(&ss, len, 0, err, sizeof(err))) ==
		    -1) {
			log_debug("responder: %s (the wildcard socket serves "
			    "it)", err);
			continue;
		}
		responder_add_listener(r, fd, 0, 0, fn, arg);
	}
	freeifaddrs(ifa);
}

/*
 * Binds UDP then TCP on every address. Port 0 takes the kernel's choice for
 * the first socket and asks for the same on the rest. Returns 0, -1 with err
 * filled, or -2 when that choice was taken on another socket (try again).
 */
static int
responder_bind_all(struct responder *r, struct sockaddr_storage ss[2],
    socklen_t sslen[2], int naddr, uint16_t port, responder_fn fn, void *arg,
    char *err, size_t errlen)
{
	int	 fds[4], tcps[4], pktinfo[4], fam[4], nfd = 0, i, tcp, saved;
	int	 ephemeral = port == 0;

	for (i = 0; i < naddr; i++) {
		for (tcp = 0; tcp < 2; tcp++) {
			responder_set_port(&ss[i], port);
			fds[nfd] = responder_socket(&ss[i], sslen[i], tcp, err,
			    errlen);
			if (fds[nfd] == -1) {
				/* Without IPv6, "every address" is IPv4's. */
				if (i > 0 && !tcp && (errno == EAFNOSUPPORT ||
				    errno == EADDRNOTAVAIL))
					break;
				goto fail;
			}
			tcps[nfd] = tcp;
			pktinfo[nfd] = !tcp && responder_is_wildcard(&ss[i]);
			fam[nfd] = ss[i].ss_family;
			if (port == 0)
				port = responder_bound_port(fds[nfd]);
			nfd++;
		}
	}
	for (i = 0; i < nfd; i++) {
		responder_add_listener(r, fds[i], tcps[i], pktinfo[i], fn, arg);
		if (pktinfo[i])
			responder_bind_local(r, fam[i], port, fn, arg);
	}
	r->port = port;
	return 0;
fail:
	saved = errno;
	while (nfd > 0)
		close(fds[--nfd]);
	return ephemeral && saved == EADDRINUSE ? -2 : -1;
}

/* A libevent common timeout of ms in own: O(1) to re-arm for every connection. */
static const struct timeval *
responder_timeout(struct event_base *base, int ms, struct timeval *own)
{
	const struct timeval	*tv;

	own->tv_sec = ms / 1000;
	own->tv_usec = (ms % 1000) * 1000;
	tv = event_base_init_common_timeout(base, own);
	return tv != NULL ? tv : own;
}

/* A limit from lim if set there, else from the environment (tests), else def. */
static int
responder_limit(int given, const char *env, int def)
{
	const char	*v = getenv(env);

	if (given > 0)
		return given;
	return v != NULL && atoi(v) > 0 ? atoi(v) : def;
}

/* The receive headers point at their buffers once and for all. */
static void
responder_mmsg_init(struct responder_mmsg *b)
{
	for (int i = 0; i < RESPONDER_MMSG; i++) {
		struct msghdr *m = &b->in[i].msg_hdr;

		b->iov_in[i].iov_base = b->query[i];
		b->iov_in[i].iov_len = RESPONDER_MSG_MAX;
		m->msg_name = &b->from[i];
		m->msg_namelen = sizeof(b->from[i]);
		m->msg_iov = &b->iov_in[i];
		m->msg_iovlen = 1;
		m->msg_control = b->ctl_in[i].buf;
		m->msg_controllen = sizeof(b->ctl_in[i].buf);
	}
}

struct responder *
responder_new(struct event_base *base, const struct responder_limits *lim)
{
	struct responder	*r = xcalloc(1, sizeof(*r));
	struct responder_limits	 none;

	memset(&none, 0, sizeof(none));
	if (lim == NULL)
		lim = &none;
	r->base = base;
	r->mmsg = xcalloc(1, sizeof(*r->mmsg));
	responder_mmsg_init(r->mmsg);
	TAILQ_INIT(&r->listeners);
	TAILQ_INIT(&r->conns);
	TAILQ_INIT(&r->tickets);
	r->limits.tcp_read_ms = responder_limit(lim->tcp_read_ms,
	    "PETDNS_TCP_READ_MS", RESPONDER_READ_MS);
	r->limits.tcp_idle_ms = responder_limit(lim->tcp_idle_ms,
	    "PETDNS_TCP_IDLE_MS", RESPONDER_IDLE_MS);
	r->limits.tcp_max_conns = responder_limit(lim->tcp_max_conns,
	    "PETDNS_TCP_MAX_CONNS", RESPONDER_MAX_CONNS);
	r->limits.tcp_max_output = lim->tcp_max_output > 0 ?
	    lim->tcp_max_output : RESPONDER_MAX_OUTPUT;
	r->read_tv = responder_timeout(base, r->limits.tcp_read_ms,
	    &r->read_tv_own);
	r->idle_tv = responder_timeout(base, r->limits.tcp_idle_ms,
	    &r->idle_tv_own);
	return r;
}

int
responder_listen(struct responder *r, const char *addr, uint16_t port,
    responder_fn fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss[2];
	socklen_t		 sslen[2];
	int			 naddr, try, rv = -1;

	if ((naddr = responder_addrs(addr, ss, sslen, err, errlen)) == -1)
		return -1;
	for (try = 0; try < RESPONDER_PORT_TRIES; try++) {
		rv = responder_bind_all(r, ss, sslen, naddr, port, fn, arg, err,
		    errlen);
		if (rv != -2)
			break;
	}
	return rv == 0 ? 0 : -1;
}

uint16_t
responder_port(const struct responder *r)
{
	return r->port;
}

/* --- UDP ------------------------------------------------------------- */

/*
 * Copies the query's destination from in's control data into out, so the
 * reply leaves from the address the client asked (multi-homed hosts).
 */
static void
responder_udp_src(const struct msghdr *in, struct msghdr *out,
    union responder_cmsg *ctl)
{
	struct cmsghdr	*cm, *o;
	size_t		 len;

	if (in->msg_flags & MSG_CTRUNC)
		return;
	for (cm = CMSG_FIRSTHDR(in); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)in, cm)) {
		if (!(cm->cmsg_level == IPPROTO_IP && cm->cmsg_type ==
		    IP_PKTINFO) && !(cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO))
			continue;
		len = cm->cmsg_level == IPPROTO_IP ?
		    sizeof(struct in_pktinfo) : sizeof(struct in6_pktinfo);
		memset(ctl, 0, sizeof(*ctl));
		out->msg_control = ctl->buf;
		out->msg_controllen = CMSG_SPACE(len);
		o = CMSG_FIRSTHDR(out);
		o->cmsg_level = cm->cmsg_level;
		o->cmsg_type = cm->cmsg_type;
		o->cmsg_len = CMSG_LEN(len);
		memcpy(CMSG_DATA(o), CMSG_DATA(cm), len);
		/* IPv4: routing picks the interface; the source is spec_dst. */
		if (cm->cmsg_level == IPPROTO_IP)
			((struct in_pktinfo *)CMSG_DATA(o))->ipi_ifindex = 0;
		return;
	}
}

/*
 * After EMSGSIZE: msg's answer cut to header, question and OPT, TC set,
 * into buf; false when it cannot be (msg then is dropped, as on loss).
 */
static bool
responder_udp_toobig(struct msghdr *msg, uint8_t *buf, size_t max)
{
	struct iovec	*iov = msg->msg_iov;
	size_t		 n;

	if (msg->msg_iovlen != 1 || (n = wire_truncate(iov->iov_base,
	    iov->iov_len, buf, max)) == 0 || n >= iov->iov_len)
		return false;
	iov->iov_base = buf;
	iov->iov_len = n;
	return true;
}

static void
responder_udp_send(struct responder_listener *l, struct msghdr *msg)
{
	uint8_t	cut[RESPONDER_CUT_MAX];

	/* A full send buffer drops the reply: the client retries as on loss. */
	if (sendmsg(l->fd, msg, 0) >= 0)
		return;
	if (errno != EMSGSIZE || !responder_udp_toobig(msg, cut, sizeof(cut)) ||
	    sendmsg(l->fd, msg, 0) == -1)
		log_debug("udp reply: %s", strerror(errno));
}

/* Receives up to RESPONDER_MMSG datagrams; returns how many, 0 when none. */
static int
responder_udp_recv(struct responder_listener *l)
{
	struct responder_mmsg	*b = l->r->mmsg;
	int			 n;

	/*
	 * recvmmsg rewrites the name and control lengths of the headers it
	 * fills (a failed receive writes nothing): only those are reset,
	 * not all RESPONDER_MMSG headers each call.
	 */
	for (int i = 0; i < b->filled; i++) {
		b->in[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		b->in[i].msg_hdr.msg_controllen = sizeof(b->ctl_in[i].buf);
	}
	b->filled = 0;
	while ((n = recvmmsg(l->fd, b->in, RESPONDER_MMSG, MSG_DONTWAIT,
	    NULL)) == -1 && errno == EINTR)
		continue;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		log_debug("udp receive: %s", strerror(errno));
	b->filled = n > 0 ? n : 0;
	return b->filled;
}

/*
 * The most a UDP answer to peer may hold: a client's EDNS size of 65535
 * must get an answer that fits a datagram (truncated), not none.
 */
static size_t
responder_udp_max(const struct sockaddr *peer)
{
	return peer->sa_family == AF_INET6 ? RESPONDER_UDP6_MAX :
	    RESPONDER_UDP4_MAX;
}

/*
 * Sends the n answers queued in out; one too big for the interface goes
 * again truncated, one that fails otherwise is dropped, as on loss.
 */
static void
responder_udp_flush(struct responder_listener *l, int n)
{
	struct responder_mmsg	*b = l->r->mmsg;
	uint8_t			 cut[RESPONDER_CUT_MAX];
	int			 sent = 0, k, retried = -1;

	while (sent < n) {
		if ((k = sendmmsg(l->fd, b->out + sent, (unsigned)(n - sent),
		    0)) > 0) {
			sent += k;
			continue;
		}
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1 && errno == EMSGSIZE && retried != sent &&
		    responder_udp_toobig(&b->out[sent].msg_hdr, cut,
		    sizeof(cut))) {
			retried = sent;
			continue;
		}
		/* A full send buffer drops the reply: the client retries. */
		log_debug("udp reply: %s", strerror(errno));
		sent++;
	}
}

/* Answers a batch of datagrams; returns how many were received. */
static int
responder_udp_batch(struct responder_listener *l)
{
	struct responder_mmsg	*b = l->r->mmsg;
	struct responder_req	 req;
	int			 n = responder_udp_recv(l), nout = 0;

	/* One clock read a batch: its queries were read together. */
	if (n > 0)
		clock_gettime(CLOCK_MONOTONIC, &req.received);
	for (int i = 0; i < n; i++) {
		const struct msghdr	*in = &b->in[i].msg_hdr;
		struct msghdr		*out = &b->out[nout].msg_hdr;
		size_t			 rn, max;

		req.l = l;
		req.c = NULL;
		req.transport = RESPONDER_UDP;
		req.msg = in;
		req.peer = (struct sockaddr *)&b->from[i];
		req.peerlen = in->msg_namelen;
		max = responder_udp_max(req.peer);
		rn = l->fn(l->arg, b->query[i], b->in[i].msg_len,
		    b->resp[nout], max, RESPONDER_UDP, &req);
		if (rn > max) {
			log_warnx("responder: handler returned %zu bytes, "
			    "dropped", rn);
			continue;
		}
		if (rn == 0)
			continue;
		memset(out, 0, sizeof(*out));
		b->iov_out[nout].iov_base = b->resp[nout];
		b->iov_out[nout].iov_len = rn;
		out->msg_name = &b->from[i];
		out->msg_namelen = in->msg_namelen;
		out->msg_iov = &b->iov_out[nout];
		out->msg_iovlen = 1;
		if (l->pktinfo)
			responder_udp_src(in, out, &b->ctl_out[nout]);
		nout++;
	}
	responder_udp_flush(l, nout);
	return n;
}

static void
responder_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct responder_listener	*l = arg;
	int				 done = 0, n;

	/*
	 * Read until empty: under load the next datagrams are queued already,
	 * and a read that finds them saves the epoll_wait that would.
	 */
	while (done < RESPONDER_UDP_BATCH &&
	    (n = responder_udp_batch(l)) > 0)
		done += n;
}

/* --- TCP ------------------------------------------------------------- */

static struct evbuffer *
responder_output(const struct responder_conn *c)
{
	return bufferevent_get_output(c->bev);
}

static void
responder_conn_free(struct responder_conn *c)
{
	struct responder_ticket	*t;

	/* Answers still coming for this connection go nowhere. */
	TAILQ_FOREACH(t, &c->r->tickets, entry)
		if (t->c == c)
			t->c = NULL;
	TAILQ_REMOVE(&c->r->conns, c, entry);
	c->r->nconns--;
	event_free(c->idle);
	bufferevent_free(c->bev);	/* closes the socket */
	free(c);
}

/* Marks c as just active: last to be evicted, idle clock restarted. */
static void
responder_conn_touch(struct responder_conn *c)
{
	struct responder	*r = c->r;

	TAILQ_REMOVE(&r->conns, c, entry);
	TAILQ_INSERT_TAIL(&r->conns, c, entry);
	c->out_mark = evbuffer_get_length(responder_output(c));
	evtimer_add(c->idle, r->idle_tv);
}

/*
 * Stops reading and lets queued answers drain before closing. Returns -1
 * when nothing is queued, so the caller closes now.
 */
static int
responder_conn_shutdown(struct responder_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	return evbuffer_get_length(responder_output(c)) == 0 ? -1 : 0;
}

static void
responder_conn_new(struct responder_listener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct responder	*r = l->r;
	struct responder_conn	*c;

	/* At the cap, the least recently active client makes room. */
	if (r->nconns >= r->limits.tcp_max_conns)
		responder_conn_free(TAILQ_FIRST(&r->conns));
	/* Pipelined answers must not wait for the client's delayed ACK. */
	(void)responder_setopt(fd, IPPROTO_TCP, TCP_NODELAY);
	c = xcalloc(1, sizeof(*c));
	c->r = r;
	c->l = l;
	memcpy(&c->peer, ss, sslen);
	c->peerlen = sslen;
	c->bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->idle = evtimer_new(r->base, responder_idle_cb, c);
	if (c->bev == NULL || c->idle == NULL)
		fatalx("responder: cannot set up a connection");
	bufferevent_setcb(c->bev, responder_read_cb, responder_write_cb,
	    responder_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&r->conns, c, entry);
	r->nconns++;
	/* A client that connects and sends nothing goes at the read timeout. */
	evtimer_add(c->idle, r->read_tv);
}

static void
responder_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct responder_listener	*l = arg;
	struct sockaddr_storage		 ss;
	struct timeval			 tv = { 0, RESPONDER_PAUSE_MS * 1000 };
	socklen_t			 sslen;
	int				 cfd, i, saved;

	for (i = 0; i < RESPONDER_ACCEPT_BATCH; i++) {
		sslen = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd != -1) {
			responder_conn_new(l, cfd, &ss, sslen);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		saved = errno;
		log_warn("tcp accept");
		/* Out of fds: a still-readable listener would spin the loop. */
		if (saved == EMFILE || saved == ENFILE || saved == ENOBUFS ||
		    saved == ENOMEM) {
			event_del(l->ev);
			evtimer_add(l->pause, &tv);
		}
		return;
	}
}

static void
responder_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct responder_listener	*l = arg;

	event_add(l->ev, NULL);
}

static void
responder_conn_write(struct responder_conn *c, const uint8_t *resp, size_t n)
{
	uint8_t	hdr[2];

	if (n == 0)
		return;
	hdr[0] = n >> 8;
	hdr[1] = n & 0xff;
	bufferevent_write(c->bev, hdr, 2);
	bufferevent_write(c->bev, resp, n);
}

/*
 * Serves the next complete frame of c's input. Returns 1 when one was
 * served, 0 when more input is needed, -1 when c must close now.
 */
static int
responder_conn_frame(struct responder_conn *c)
{
	struct responder	*r = c->r;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct responder_req	 req;
	uint8_t			 hdr[2];
	size_t			 len, n;

	if (c->closing || evbuffer_copyout(in, hdr, 2) < 2)
		return 0;
	len = wire_get16(hdr);
	if (len == 0)
		return responder_conn_shutdown(c);
	if (evbuffer_get_length(in) < 2 + len)
		return 0;
	/* A client that asks but does not read must not grow our memory. */
	if (evbuffer_get_length(responder_output(c)) >=
	    r->limits.tcp_max_output) {
		log_debug("tcp: output backlog over %zu bytes, closing",
		    r->limits.tcp_max_output);
		return -1;
	}
	evbuffer_drain(in, 2);
	evbuffer_remove(in, r->query, len);
	clock_gettime(CLOCK_MONOTONIC, &req.received);
	req.l = c->l;
	req.c = c;
	req.transport = RESPONDER_TCP;
	req.msg = NULL;
	req.peer = (struct sockaddr *)&c->peer;
	req.peerlen = c->peerlen;
	n = c->l->fn(c->l->arg, r->query, len, r->resp, sizeof(r->resp),
	    RESPONDER_TCP, &req);
	if (n > sizeof(r->resp)) {
		log_warnx("responder: handler returned %zu bytes, dropped", n);
		n = 0;
	}
	responder_conn_write(c, r->resp, n);
	c->served = 1;
	responder_conn_touch(c);
	return 1;
}

static void
responder_read_cb(struct bufferevent *bev, void *arg)
{
	struct responder_conn	*c = arg;
	int			 rv;

	while ((rv = responder_conn_frame(c)) == 1)
		continue;
	if (rv == -1)
		responder_conn_free(c);
}

/* Called when the output has drained completely. */
static void
responder_write_cb(struct bufferevent *bev, void *arg)
{
	struct responder_conn	*c = arg;

	if (c->closing)
		responder_conn_free(c);
}

static void
responder_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct responder_conn	*c = arg;

	/* A client may half-close after its last query and still read. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    responder_conn_shutdown(c) == 0)
		return;
	responder_conn_free(c);
}

static void
responder_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct responder_conn	*c = arg;
	size_t			 out;

	/* Still draining answers to a slow reader is not idleness. */
	out = evbuffer_get_length(responder_output(c));
	if (out > 0 && out < c->out_mark) {
		c->out_mark = out;
		evtimer_add(c->idle, c->r->idle_tv);
		return;
	}
	log_debug("tcp: %s for %d ms, closing", c->served ? "idle" :
	    "no query", c->served ? c->r->limits.tcp_idle_ms :
	    c->r->limits.tcp_read_ms);
	responder_conn_free(c);
}

void
responder_free(struct responder *r)
{
	struct responder_listener	*l;
	struct responder_ticket		*t;

	if (r == NULL)
		return;
	/* First: answering queued queries may defer some (forwarding). */
	while ((l = TAILQ_FIRST(&r->listeners)) != NULL)
		responder_listener_close(l, NULL);
	while (!TAILQ_EMPTY(&r->conns))
		responder_conn_free(TAILQ_FIRST(&r->conns));
	/* Tickets outlive us with their owners; their answers go nowhere. */
	while ((t = TAILQ_FIRST(&r->tickets)) != NULL) {
		TAILQ_REMOVE(&r->tickets, t, entry);
		t->r = NULL;
	}
	free(r->mmsg);
	free(r);
}

/* True when both sockets are bound to the same address and port. */
static bool
responder_same_local(int a, int b)
{
	struct sockaddr_storage	 x, y;
	socklen_t		 xlen = sizeof(x), ylen = sizeof(y);

	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	return getsockname(a, (struct sockaddr *)&x, &xlen) == 0 &&
	    getsockname(b, (struct sockaddr *)&y, &ylen) == 0 &&
	    xlen == ylen && memcmp(&x, &y, xlen) == 0;
}

/*
 * Queries already queued would die with the socket: they are answered
 * first (on a reload the new configuration's sockets take the next ones).
 * The UDP tickets of l move to next's socket on the same address, so that
 * answers still owed leave from the address their clients asked.
 */
static void
responder_listener_close(struct responder_listener *l, struct responder *next)
{
	struct responder		*r = l->r;
	struct responder_listener	*nl = NULL;
	struct responder_ticket		*t, *tmp;

	if (!l->tcp)
		responder_udp_cb(l->fd, EV_READ, l);
	if (next != NULL && !l->tcp)
		TAILQ_FOREACH(nl, &next->listeners, entry)
			if (!nl->tcp && responder_same_local(l->fd, nl->fd))
				break;
	for (t = TAILQ_FIRST(&r->tickets); t != NULL; t = tmp) {
		tmp = TAILQ_NEXT(t, entry);
		if (t->l != l || t->transport != RESPONDER_UDP)
			continue;
		TAILQ_REMOVE(&r->tickets, t, entry);
		t->l = nl;
		t->r = nl != NULL ? next : NULL;
		if (nl != NULL)
			TAILQ_INSERT_TAIL(&next->tickets, t, entry);
	}
	TAILQ_REMOVE(&r->listeners, l, entry);
	event_free(l->ev);
	if (l->pause != NULL)
		event_free(l->pause);
	close(l->fd);
	free(l);
}

void
responder_retire(struct responder *r, struct responder *next)
{
	struct responder_listener	*l;

	while ((l = TAILQ_FIRST(&r->listeners)) != NULL)
		responder_listener_close(l, next);
}

/* --- Answers that come later ---------------------------------------- */

const struct sockaddr *
responder_peer(const struct responder_req *req, socklen_t *len)
{
	*len = req->peerlen;
	return req->peer;
}

void
responder_received(const struct responder_req *req, struct timespec *ts)
{
	*ts = req->received;
}

struct responder_ticket *
responder_defer(struct responder_req *req)
{
	struct responder_ticket	*t = xcalloc(1, sizeof(*t));
	struct msghdr		 out;

	t->transport = req->transport;
	memcpy(&t->peer, req->peer, req->peerlen);
	t->peerlen = req->peerlen;
	if (req->l == NULL)
		return t;	/* responder_call: no socket to answer on */
	t->r = req->l->r;
	t->l = req->l;
	t->c = req->c;
	if (req->msg != NULL && req->l->pktinfo) {
		memset(&out, 0, sizeof(out));
		responder_udp_src(req->msg, &out, &t->ctl);
		t->ctllen = out.msg_controllen;
	}
	TAILQ_INSERT_TAIL(&t->r->tickets, t, entry);
	return t;
}

enum responder_transport
responder_ticket_transport(const struct responder_ticket *t)
{
	return t->transport;
}

void
responder_answer(struct responder_ticket *t, const uint8_t *resp, size_t len)
{
	struct iovec	iov;
	struct msghdr	msg;

	if (t->r == NULL) {
		free(t);
		return;
	}
	TAILQ_REMOVE(&t->r->tickets, t, entry);
	if (len > 0 && t->transport == RESPONDER_UDP) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)resp;
		iov.iov_len = len;
		msg.msg_name = &t->peer;
		msg.msg_namelen = t->peerlen;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (t->ctllen > 0) {
			msg.msg_control = t->ctl.buf;
			msg.msg_controllen = t->ctllen;
		}
		responder_udp_send(t->l, &msg);
	} else if (len > 0 && t->c != NULL) {
		responder_conn_write(t->c, resp, len);
		responder_conn_touch(t->c);
	}
	free(t);
}

size_t
responder_call(responder_fn fn, void *arg, const uint8_t *query, size_t len,
    uint8_t *resp, size_t max, enum responder_transport transport,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct responder_req	req;

	memset(&req, 0, sizeof(req));
	req.transport = transport;
	req.peer = peer;
	req.peerlen = peerlen;
	clock_gettime(CLOCK_MONOTONIC, &req.received);
	if (transport == RESPONDER_UDP && max > responder_udp_max(peer))
		max = responder_udp_max(peer);
	return fn(arg, query, len, resp, max, transport, &req);
}
