/* forward_proxy.c -- one upstream: UDP and TCP exchanges checked by ID, source and question; idle TCP reuse; health checks. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <ldns/ldns.h>

#include "forward.h"
#include "forward_proxy.h"
#include "log.h"
#include "wire.h"
#include "xmalloc.h"

#define PROXY_MSG_MAX		65535
/* Datagrams read per wakeup: stray ones must not starve the loop. */
#define PROXY_UDP_BATCH		16
#define PROXY_PTR_HOPS		64

struct forward_conn {
	TAILQ_ENTRY(forward_conn) entry;	/* in p->idle while idle */
	struct forward_proxy	*p;
	struct bufferevent	*bev;
	struct event		*expire;
	struct forward_xchg	*x;		/* NULL while idle */
	bool			 reused;	/* came from p->idle for x */
	bool			 heard;		/* x got bytes on it */
};

struct forward_xchg {
	TAILQ_ENTRY(forward_xchg) entry;	/* in p->xchgs */
	struct forward_proxy	*p;
	forward_xchg_fn		*fn;
	void			*arg;
	uint8_t			*msg;		/* TCP length, then the query */
	size_t			 len;		/* of the query */
	uint16_t		 id;
	uint8_t			 qname[255];	/* lower case */
	int			 qnamelen;
	uint16_t		 qtype;
	uint16_t		 qclass;
	bool			 tcp;
	bool			 hc;		/* no pool, not counted */
	bool			 early;		/* failed before sending */
	int			 fd;		/* UDP */
	struct event		*rev;
	struct forward_conn	*conn;		/* TCP */
	struct event		*timer;
};

struct forward_proxy {
	struct event_base	*base;
	char			*to;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct forward_proxy_opts opts;
	TAILQ_HEAD(, forward_conn) idle;	/* most recently used first */
	TAILQ_HEAD(, forward_xchg) xchgs;
	uint32_t		 fails;		/* failed checks in a row */
	bool			 hc_running;
	int			 hc_timeout_ms;
	struct forward_xchg	*hc_x;
	struct event		*hc_timer;
	uint8_t			*hc_query;
	size_t			 hc_len;
	uint64_t		 requests;
	uint64_t		 responses[16];
	uint64_t		 hc_failures;
	uint8_t			 buf[PROXY_MSG_MAX];
};

static void	udp_read_cb(evutil_socket_t, short, void *);
static void	tcp_read_cb(struct bufferevent *, void *);
static void	tcp_event_cb(struct bufferevent *, short, void *);
static void	conn_expire_cb(evutil_socket_t, short, void *);
static void	xchg_timer_cb(evutil_socket_t, short, void *);
static void	hc_timer_cb(evutil_socket_t, short, void *);
static bool	tcp_start(struct forward_xchg *);

static struct timeval *
ms_tv(struct timeval *tv, int ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

int
forward_msg_question(const uint8_t *m, size_t len, uint8_t out[255],
    uint16_t *qtype, uint16_t *qclass)
{
	size_t	 pos = 12, end = 0, n = 0, ptr;
	int	 hops = 0;
	uint8_t	 c;

	if (len < 12 || m[4] != 0 || m[5] != 1)
		return -1;
	for (;;) {
		if (pos >= len)
			return -1;
		c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > PROXY_PTR_HOPS)
				return -1;
			if (end == 0)
				end = pos + 2;
			ptr = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			pos = ptr;
			continue;
		}
		if ((c & 0xc0) != 0 || pos + 1 + c > len ||
		    n + 1 + c > (c != 0 ? 254u : 255u))
			return -1;
		out[n++] = c;
		if (c == 0)
			break;
		for (pos++; c > 0; c--)
			out[n++] = (uint8_t)tolower(m[pos++]);
	}
	if (end == 0)
		end = pos + 1;
	if (end + 4 > len)
		return -1;
	*qtype = wire_get16(m + end);
	*qclass = wire_get16(m + end + 2);
	return (int)n;
}

/* The answer to what x sent: its ID, QR, and the same question. */
static bool
xchg_match(const struct forward_xchg *x, const uint8_t *r, size_t len)
{
	uint8_t	 name[255];
	uint16_t qtype, qclass;
	int	 n;

	if (len < 12 || wire_get16(r) != x->id || (r[2] & 0x80) == 0)
		return false;
	n = forward_msg_question(r, len, name, &qtype, &qclass);
	return n == x->qnamelen && memcmp(name, x->qname, (size_t)n) == 0 &&
	    qtype == x->qtype && qclass == x->qclass;
}

static void
conn_free(struct forward_conn *c)
{
	if (c->x == NULL)
		TAILQ_REMOVE(&c->p->idle, c, entry);
	else
		c->x->conn = NULL;
	event_free(c->expire);
	bufferevent_free(c->bev);
	free(c);
}

static struct forward_conn *
conn_new(struct forward_proxy *p)
{
	struct forward_conn *c;
	int	 fd;

	fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_debug("forward %s: socket: %s", p->to, strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	c->expire = evtimer_new(p->base, conn_expire_cb, c);
	if (c->bev == NULL || c->expire == NULL)
		fatalx("forward: out of memory");
	bufferevent_setcb(c->bev, tcp_read_cb, NULL, tcp_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&p->addr,
	    (int)p->addrlen) == -1) {
		event_free(c->expire);
		bufferevent_free(c->bev);
		free(c);
		return NULL;
	}
	return c;
}

/* Back to the idle list after a clean answer, or closed. */
static void
conn_release(struct forward_conn *c, bool keep)
{
	struct forward_proxy *p = c->p;
	struct timeval	 tv;

	if (!keep || p->opts.expire_ms <= 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
		conn_free(c);
		return;
	}
	c->x = NULL;
	TAILQ_INSERT_HEAD(&p->idle, c, entry);
	evtimer_add(c->expire, ms_tv(&tv, p->opts.expire_ms));
}

static void
conn_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

/* Frees x without its callback. */
static void
xchg_free(struct forward_xchg *x)
{
	TAILQ_REMOVE(&x->p->xchgs, x, entry);
	if (x->rev != NULL)
		event_free(x->rev);
	if (x->fd != -1)
		close(x->fd);
	if (x->conn != NULL)
		conn_free(x->conn);
	event_free(x->timer);
	free(x->msg);
	free(x);
}

/* Reports the result, after x is gone: fn may start or cancel others. */
static void
xchg_finish(struct forward_xchg *x, enum forward_xchg_status st,
    uint8_t *resp, size_t len)
{
	struct forward_proxy *p = x->p;
	forward_xchg_fn	*fn = x->fn;
	void		*arg = x->arg;

	if (st == FORWARD_XCHG_OK && !x->hc)
		p->responses[resp[3] & 0xf]++;
	if (x->conn != NULL) {
		conn_release(x->conn, st == FORWARD_XCHG_OK && !x->hc);
		x->conn = NULL;
	}
	xchg_free(x);
	fn(arg, st, resp, len);
}

static void
xchg_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward_xchg *x = arg;

	xchg_finish(x, x->early ? FORWARD_XCHG_ERROR : FORWARD_XCHG_TIMEOUT,
	    NULL, 0);
}

/* A failure found while sending is reported from the loop, never inline. */
static void
xchg_fail_later(struct forward_xchg *x)
{
	x->early = true;
	event_active(x->timer, EV_TIMEOUT, 1);
}

static bool
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* A fresh socket per query: the kernel picks a random source port. */
static bool
udp_start(struct forward_xchg *x)
{
	struct forward_proxy *p = x->p;

	x->fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (x->fd == -1) {
		log_debug("forward %s: socket: %s", p->to, strerror(errno));
		return false;
	}
	if (connect(x->fd, (struct sockaddr *)&p->addr, p->addrlen) == -1 ||
	    send(x->fd, x->msg + 2, x->len, 0) != (ssize_t)x->len)
		return false;
	x->rev = event_new(p->base, x->fd, EV_READ | EV_PERSIST, udp_read_cb,
	    x);
	if (x->rev == NULL || event_add(x->rev, NULL) == -1)
		fatalx("forward: out of memory");
	return true;
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward_xchg *x = arg;
	struct forward_proxy *p = x->p;
	struct sockaddr_storage from;
	socklen_t	 fromlen;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < PROXY_UDP_BATCH; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, p->buf, sizeof(p->buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* ICMP unreachable on the connected socket. */
			xchg_finish(x, FORWARD_XCHG_ERROR, NULL, 0);
			return;
		}
		if (same_peer(&from, &p->addr) &&
		    xchg_match(x, p->buf, (size_t)n)) {
			xchg_finish(x, FORWARD_XCHG_OK, p->buf, (size_t)n);
			return;
		}
	}
}

static bool
tcp_start(struct forward_xchg *x)
{
	struct forward_proxy *p = x->p;
	struct forward_conn *c = NULL;

	if (!x->hc && (c = TAILQ_FIRST(&p->idle)) != NULL) {
		TAILQ_REMOVE(&p->idle, c, entry);
		evtimer_del(c->expire);
		c->reused = true;
	} else if ((c = conn_new(p)) == NULL)
		return false;
	else
		c->reused = false;
	c->heard = false;
	c->x = x;
	x->conn = c;
	if (bufferevent_write(c->bev, x->msg, x->len + 2) == -1)
		return false;
	return true;
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct forward_conn *c = arg;
	struct forward_xchg *x = c->x;
	struct forward_proxy *p = c->p;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[2];
	size_t		 n;

	if (x == NULL) {		/* nothing is owed on an idle one */
		conn_free(c);
		return;
	}
	c->heard = true;
	while (evbuffer_copyout(in, hdr, 2) == 2) {
		n = wire_get16(hdr);
		if (evbuffer_get_length(in) < n + 2)
			return;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, p->buf, n);
		if (xchg_match(x, p->buf, n)) {
			xchg_finish(x, FORWARD_XCHG_OK, p->buf, n);
			return;
		}
	}
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct forward_conn *c = arg;
	struct forward_xchg *x = c->x;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (x == NULL) {
		conn_free(c);
		return;
	}
	if (c->reused && !c->heard) {
		/* The upstream closed it while idle: a new one, as CoreDNS. */
		conn_free(c);
		if (!tcp_start(x))
			xchg_fail_later(x);
		return;
	}
	xchg_finish(x, FORWARD_XCHG_ERROR, NULL, 0);
}

static struct forward_xchg *
xchg_send(struct forward_proxy *p, const uint8_t *q, size_t len, bool tcp,
    bool hc, int timeout_ms, forward_xchg_fn *fn, void *arg)
{
	struct forward_xchg *x;
	struct timeval	 tv;
	bool		 ok;

	x = xcalloc(1, sizeof(*x));
	x->p = p;
	x->fn = fn;
	x->arg = arg;
	x->tcp = tcp;
	x->hc = hc;
	x->fd = -1;
	x->len = len;
	x->msg = xmalloc(len + 2);
	wire_put16(x->msg, (uint16_t)len);
	memcpy(x->msg + 2, q, len);
	evutil_secure_rng_get_bytes(&x->id, sizeof(x->id));
	wire_put16(x->msg + 2, x->id);
	if ((x->timer = evtimer_new(p->base, xchg_timer_cb, x)) == NULL)
		fatalx("forward: out of memory");
	TAILQ_INSERT_TAIL(&p->xchgs, x, entry);
	if (!hc)
		p->requests++;
	x->qnamelen = forward_msg_question(q, len, x->qname, &x->qtype,
	    &x->qclass);
	ok = x->qnamelen > 0 && (tcp ? tcp_start(x) : udp_start(x));
	if (!ok)
		xchg_fail_later(x);
	else
		evtimer_add(x->timer, ms_tv(&tv, timeout_ms));
	return x;
}

struct forward_xchg *
forward_proxy_send(struct forward_proxy *p, const uint8_t *q, size_t len,
    bool tcp, int timeout_ms, forward_xchg_fn *fn, void *arg)
{
	return xchg_send(p, q, len, tcp, false, timeout_ms, fn, arg);
}

void
forward_xchg_cancel(struct forward_xchg *x)
{
	if (x != NULL)
		xchg_free(x);
}

static void hc_start(struct forward_proxy *);

static void
hc_done_cb(void *arg, enum forward_xchg_status st, uint8_t *resp,
    size_t len)
{
	struct forward_proxy *p = arg;
	struct timeval	 tv;

	p->hc_x = NULL;
	if (st == FORWARD_XCHG_OK) {
		if (p->fails > 0)
			log_debug("forward %s: healthy again", p->to);
		p->fails = 0;
		p->hc_running = false;
		return;
	}
	if (p->fails < UINT32_MAX)
		p->fails++;
	p->hc_failures++;
	evtimer_add(p->hc_timer, ms_tv(&tv, p->opts.hc_interval_ms));
}

static void
hc_start(struct forward_proxy *p)
{
	p->hc_x = xchg_send(p, p->hc_query, p->hc_len, p->opts.hc_tcp, true,
	    p->hc_timeout_ms, hc_done_cb, p);
}

static void
hc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	hc_start(arg);
}

void
forward_proxy_healthcheck(struct forward_proxy *p, int timeout_ms)
{
	if (p->hc_running)
		return;
	p->hc_timeout_ms = timeout_ms;
	p->hc_running = true;
	hc_start(p);
}

bool
forward_proxy_down(const struct forward_proxy *p, uint32_t max_fails)
{
	return max_fails != 0 && p->fails > max_fails;
}

/* ". IN NS", RD unless no_rec, as CoreDNS's checks; no EDNS. */
static void
hc_build(struct forward_proxy *p)
{
	ldns_rdf	*name;
	ldns_pkt	*pkt = NULL;

	if ((name = ldns_dname_new_frm_str(p->opts.hc_domain)) == NULL)
		name = ldns_dname_new_frm_str(".");
	pkt = ldns_pkt_query_new(name, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN,
	    p->opts.hc_recursion ? LDNS_RD : 0);
	if (pkt == NULL ||
	    ldns_pkt2wire(&p->hc_query, pkt, &p->hc_len) != LDNS_STATUS_OK)
		fatalx("forward: cannot build the health check query");
	ldns_pkt_free(pkt);
}

struct forward_proxy *
forward_proxy_new(struct event_base *base, const struct forward_upstream *u,
    const struct forward_proxy_opts *opts)
{
	struct forward_proxy *p;

	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->to = xstrdup(u->to);
	memcpy(&p->addr, &u->addr, u->addrlen);
	p->addrlen = u->addrlen;
	p->opts = *opts;
	p->opts.hc_domain = xstrdup(opts->hc_domain);
	TAILQ_INIT(&p->idle);
	TAILQ_INIT(&p->xchgs);
	if ((p->hc_timer = evtimer_new(base, hc_timer_cb, p)) == NULL)
		fatalx("forward: out of memory");
	hc_build(p);
	return p;
}

void
forward_proxy_free(struct forward_proxy *p)
{
	if (p == NULL)
		return;
	while (!TAILQ_EMPTY(&p->xchgs))
		xchg_free(TAILQ_FIRST(&p->xchgs));
	while (!TAILQ_EMPTY(&p->idle))
		conn_free(TAILQ_FIRST(&p->idle));
	event_free(p->hc_timer);
	free(p->hc_query);
	free((char *)p->opts.hc_domain);
	free(p->to);
	free(p);
}

const char *
forward_proxy_to(const struct forward_proxy *p)
{
	return p->to;
}

uint64_t
forward_proxy_requests(const struct forward_proxy *p)
{
	return p->requests;
}

uint64_t
forward_proxy_responses(const struct forward_proxy *p, int rcode)
{
	return rcode >= 0 && rcode < 16 ? p->responses[rcode] : 0;
}

uint64_t
forward_proxy_hc_failures(const struct forward_proxy *p)
{
	return p->hc_failures;
}
