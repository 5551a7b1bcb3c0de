/* forward.c -- the forward directive at run time: matching, upstream order by policy, failover, max_concurrent, counters. */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

#include "dname.h"
#include "forward.h"
#include "forward_proxy.h"
#include "log.h"
#include "xmalloc.h"

/*
 * CoreDNS reads each try for 2s (its dial timeout adapts; here the 2s
 * covers connecting too), starts no try after 5s, and gives health checks
 * 1s.
 */
#define FORWARD_TRY_MS		2000
#define FORWARD_QUERY_MS	5000
#define FORWARD_HC_MS		1000

struct forward_req {
	TAILQ_ENTRY(forward_req) entry;		/* in f->reqs */
	struct forward		*f;
	forward_done_fn		*done;
	void			*arg;
	uint8_t			*query;
	size_t			 len;
	bool			 tcp;		/* each try starts with it */
	bool			 try_tcp;	/* this try's, after TC */
	bool			 counted;	/* in f->inflight */
	struct forward_proxy	*list[FORWARD_MAX_UPSTREAMS];
	size_t			 i;		/* next in list */
	size_t			 fails;		/* skipped as down */
	bool			 tried;		/* this pass sent a try */
	bool			 waited;	/* and one of them timed out */
	struct forward_proxy	*cur;
	struct forward_xchg	*x;
	int64_t			 deadline;	/* ms, monotonic */
	struct event		*later;		/* a failure, from the loop */
	int			 status;
};

struct forward {
	struct event_base	*base;
	uint8_t			 from[DNAME_MAX];
	uint8_t			(*except)[DNAME_MAX];
	size_t			 nexcept;
	struct forward_proxy	*proxies[FORWARD_MAX_UPSTREAMS];
	size_t			 n;
	enum forward_policy	 policy;
	bool			 force_tcp;
	bool			 prefer_udp;
	uint32_t		 max_fails;
	int			 max_concurrent;
	uint32_t		 robin;
	int			 inflight;	/* sent upstream */
	size_t			 pending;	/* in reqs */
	uint64_t		 rejects;
	uint64_t		 broken;
	int			 try_ms;
	int			 query_ms;
	int			 hc_ms;
	TAILQ_HEAD(, forward_req) reqs;
};

static void	req_next(struct forward_req *);

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t
rnd(uint32_t n)
{
	uint32_t v;

	evutil_secure_rng_get_bytes(&v, sizeof(v));
	return v % n;
}

static void
name_wire(const char *s, uint8_t wire[DNAME_MAX])
{
	if (dname_from_str(s, wire) < 0)
		wire[0] = 0;
}

struct forward *
forward_new(struct event_base *base, const struct forward_config *cfg)
{
	struct forward_proxy_opts opts;
	struct forward	*f;
	size_t		 i;

	f = xcalloc(1, sizeof(*f));
	f->base = base;
	name_wire(cfg->from, f->from);
	f->except = xcalloc(cfg->nexcept, sizeof(*f->except));
	for (i = 0; i < cfg->nexcept; i++)
		name_wire(cfg->except[i], f->except[i]);
	f->nexcept = cfg->nexcept;
	f->policy = cfg->policy;
	f->force_tcp = cfg->force_tcp;
	f->prefer_udp = cfg->prefer_udp;
	f->max_fails = cfg->max_fails;
	f->max_concurrent = cfg->max_concurrent;
	f->try_ms = FORWARD_TRY_MS;
	f->query_ms = FORWARD_QUERY_MS;
	f->hc_ms = FORWARD_HC_MS;
	TAILQ_INIT(&f->reqs);
	memset(&opts, 0, sizeof(opts));
	opts.expire_ms = cfg->expire_ms;
	opts.hc_tcp = cfg->force_tcp;
	opts.hc_recursion = cfg->hc_recursion;
	opts.hc_domain = cfg->hc_domain;
	opts.hc_interval_ms = cfg->hc_interval_ms;
	for (i = 0; i < cfg->nto && i < FORWARD_MAX_UPSTREAMS; i++)
		f->proxies[f->n++] = forward_proxy_new(base, &cfg->to[i],
		    &opts);
	return f;
}

static void
req_free(struct forward_req *r)
{
	TAILQ_REMOVE(&r->f->reqs, r, entry);
	r->f->pending--;
	if (r->counted)
		r->f->inflight--;
	forward_xchg_cancel(r->x);
	event_free(r->later);
	free(r->query);
	free(r);
}

void
forward_free(struct forward *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	while (!TAILQ_EMPTY(&f->reqs))
		req_free(TAILQ_FIRST(&f->reqs));
	for (i = 0; i < f->n; i++)
		forward_proxy_free(f->proxies[i]);
	free(f->except);
	free(f);
}

bool
forward_match(const struct forward *f, const uint8_t *qname)
{
	uint8_t	 name[DNAME_MAX];
	size_t	 i, len = dname_length(qname);

	if (len > DNAME_MAX)
		return false;
	memcpy(name, qname, len);
	dname_lower(name);
	if (!dname_is_under(name, f->from))
		return false;
	if (dname_equal(name, f->from))
		return true;
	for (i = 0; i < f->nexcept; i++)
		if (dname_is_under(name, f->except[i]))
			return false;
	return true;
}

/* CoreDNS's policies: each query gets its own order of the upstreams. */
static void
order(struct forward *f, struct forward_proxy **list)
{
	struct forward_proxy *t;
	size_t	 i, j, k;

	memcpy(list, f->proxies, f->n * sizeof(*list));
	switch (f->policy) {
	case FORWARD_SEQUENTIAL:
		break;
	case FORWARD_ROUND_ROBIN:
		k = ++f->robin % f->n;
		list[0] = f->proxies[k];
		for (i = 0, j = 1; i < f->n; i++)
			if (i != k)
				list[j++] = f->proxies[i];
		break;
	case FORWARD_RANDOM:
		for (i = f->n - 1; i > 0; i--) {
			j = rnd((uint32_t)i + 1);
			t = list[i];
			list[i] = list[j];
			list[j] = t;
		}
		break;
	}
}

/* Ends r: done runs after r is gone, so it may query or cancel freely. */
static void
req_done(struct forward_req *r, const uint8_t *resp, size_t len, int rcode)
{
	forward_done_fn	*done = r->done;
	void		*arg = r->arg;

	req_free(r);
	done(arg, resp, len, rcode);
}

static void
req_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward_req *r = arg;

	req_done(r, NULL, 0, r->status);
}

static void
req_fail_later(struct forward_req *r, int status)
{
	r->status = status;
	event_active(r->later, EV_TIMEOUT, 1);
}

static void
req_xchg_cb(void *arg, enum forward_xchg_status st, uint8_t *resp,
    size_t len)
{
	struct forward_req *r = arg;
	struct forward	*f = r->f;

	r->x = NULL;
	if (st == FORWARD_XCHG_OK) {
		/* prefer_udp: a truncated answer is asked again over TCP. */
		if ((resp[2] & 0x02) != 0 && f->prefer_udp && !r->try_tcp) {
			r->try_tcp = true;
			r->x = forward_proxy_send(r->cur, r->query, r->len,
			    true, f->try_ms, req_xchg_cb, r);
			return;
		}
		resp[0] = r->query[0];
		resp[1] = r->query[1];
		req_done(r, resp, len, resp[3] & 0xf);
		return;
	}
	log_debug("forward %s: %s", forward_proxy_to(r->cur),
	    st == FORWARD_XCHG_TIMEOUT ? "timeout" : "error");
	if (st == FORWARD_XCHG_TIMEOUT)
		r->waited = true;
	if (f->max_fails != 0)
		forward_proxy_healthcheck(r->cur, f->hc_ms);
	if (r->fails < f->n)
		req_next(r);
	else
		req_fail_later(r, FORWARD_SERVFAIL);
}

/*
 * CoreDNS's loop: walk the order, skipping upstreams that are down; when
 * a whole pass found them all down, try a random one anyway; start over
 * at the end until the query's deadline. Unlike CoreDNS, a pass whose
 * tries all failed at once (refused, unreachable) ends the query rather
 * than spin until the deadline.
 */
static void
req_next(struct forward_req *r)
{
	struct forward	*f = r->f;
	struct forward_proxy *p;

	while (now_ms() < r->deadline) {
		if (r->i >= f->n) {
			if (r->tried && !r->waited)
				break;
			r->i = 0;
			r->fails = 0;
			r->tried = r->waited = false;
		}
		p = r->list[r->i++];
		if (forward_proxy_down(p, f->max_fails)) {
			if (++r->fails < f->n)
				continue;
			f->broken++;
			p = f->proxies[rnd((uint32_t)f->n)];
		}
		r->cur = p;
		r->tried = true;
		r->try_tcp = r->tcp;
		r->x = forward_proxy_send(p, r->query, r->len, r->tcp,
		    f->try_ms, req_xchg_cb, r);
		return;
	}
	req_fail_later(r, FORWARD_SERVFAIL);
}

struct forward_req *
forward_query(struct forward *f, const uint8_t *query, size_t len,
    bool client_tcp, forward_done_fn *done, void *arg)
{
	struct forward_req *r;
	uint8_t		 name[DNAME_MAX];
	uint16_t	 qtype, qclass;

	if (len < 12 || len > 65535 || (query[2] & 0x80) != 0 ||
	    forward_msg_question(query, len, name, &qtype, &qclass) < 0)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->f = f;
	r->done = done;
	r->arg = arg;
	r->query = xmalloc(len);
	memcpy(r->query, query, len);
	r->len = len;
	if ((r->later = event_new(f->base, -1, 0, req_later_cb, r)) == NULL)
		fatalx("forward: out of memory");
	TAILQ_INSERT_TAIL(&f->reqs, r, entry);
	f->pending++;
	if (f->max_concurrent > 0 && f->inflight >= f->max_concurrent) {
		f->rejects++;
		req_fail_later(r, FORWARD_REFUSED);
		return r;
	}
	f->inflight++;
	r->counted = true;
	order(f, r->list);
	r->deadline = now_ms() + f->query_ms;
	r->tcp = f->force_tcp || (client_tcp && !f->prefer_udp);
	req_next(r);
	return r;
}

void
forward_cancel(struct forward_req *r)
{
	if (r != NULL)
		req_free(r);
}

size_t
forward_pending(const struct forward *f)
{
	return f->pending;
}

bool
forward_stats(const struct forward *f, size_t i, struct forward_stats *st)
{
	const struct forward_proxy *p;
	int	 rc;

	if (i >= f->n)
		return false;
	p = f->proxies[i];
	memset(st, 0, sizeof(*st));
	st->to = forward_proxy_to(p);
	st->requests = forward_proxy_requests(p);
	for (rc = 0; rc < 16; rc++)
		st->responses[rc] = forward_proxy_responses(p, rc);
	st->healthcheck_failures = forward_proxy_hc_failures(p);
	st->down = forward_proxy_down(p, f->max_fails);
	return true;
}

void
forward_totals(const struct forward *f, uint64_t *rejects, uint64_t *broken)
{
	*rejects = f->rejects;
	*broken = f->broken;
}

void
forward_set_timeouts(struct forward *f, int try_ms, int query_ms, int hc_ms)
{
	if (try_ms > 0)
		f->try_ms = try_ms;
	if (query_ms > 0)
		f->query_ms = query_ms;
	if (hc_ms > 0)
		f->hc_ms = hc_ms;
}
