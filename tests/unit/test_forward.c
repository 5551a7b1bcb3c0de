/* test_forward.c -- the forward directive: Corefile syntax, and queries against fake upstreams on loopback. */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
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
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "corefile.h"
#include "forward.h"
#include "xmalloc.h"

#define DATA		TESTDATA "/forward"
#define WAIT_MS		3000	/* any wait longer than this is a failure */
#define MAX_CONNS	64

/* Config parsing */

static struct corefile *
load(const char *text, const struct corefile_line **line)
{
	struct corefile	*cf;
	char		 err[512];

	if ((cf = corefile_parse("T", text, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	*line = corefile_first(corefile_block(cf, 0));
	assert_non_null(*line);
	return cf;
}

static struct forward_config *
parse_ok(const char *text)
{
	const struct corefile_line *l;
	struct corefile	*cf = load(text, &l);
	struct forward_config *fc;
	char		 err[512];

	if (forward_config_parse(l, DATA, &fc, err, sizeof(err)) == -1)
		fail_msg("%s\n--\n%s", err, text);
	corefile_free(cf);
	return fc;
}

static void
assert_to(const struct forward_config *fc, const char *want)
{
	char	 got[1024] = "";
	size_t	 i, len = 0;

	for (i = 0; i < fc->nto; i++)
		len += snprintf(got + len, sizeof(got) - len, "%s%s",
		    i ? " " : "", fc->to[i].to);
	assert_string_equal(got, want);
}

static void
test_config_defaults(void **state)
{
	struct forward_config *fc = parse_ok(". {\n forward . 10.0.0.1\n}");

	assert_string_equal(fc->from, ".");
	assert_to(fc, "10.0.0.1:53");
	assert_int_equal(fc->nexcept, 0);
	assert_false(fc->force_tcp);
	assert_false(fc->prefer_udp);
	assert_int_equal(fc->expire_ms, 10000);
	assert_int_equal(fc->max_fails, 2);
	assert_int_equal(fc->hc_interval_ms, 500);
	assert_true(fc->hc_recursion);
	assert_string_equal(fc->hc_domain, ".");
	assert_int_equal(fc->policy, FORWARD_RANDOM);
	assert_int_equal(fc->max_concurrent, 0);
	assert_string_equal(fc->file, "T");
	assert_int_equal(fc->line, 2);
	assert_int_equal(fc->to[0].addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&fc->to[0].addr)->
	    sin_port), 53);
	forward_config_free(fc);
}

static void
test_config_options(void **state)
{
	struct forward_config *fc;

	fc = parse_ok(". {\n forward EXAMPLE.org. 10.0.0.1 {\n"
	    "  except A.example.org b.example.org.\n  except c.example.org\n"
	    "  force_tcp\n  prefer_udp\n  expire 1m30s\n  max_fails 0\n"
	    "  health_check 250ms no_rec domain Health.Example.\n"
	    "  policy round_robin\n  max_concurrent 1000\n }\n}");
	assert_string_equal(fc->from, "example.org");
	assert_int_equal(fc->nexcept, 3);
	assert_string_equal(fc->except[0], "a.example.org");
	assert_string_equal(fc->except[1], "b.example.org");
	assert_string_equal(fc->except[2], "c.example.org");
	assert_true(fc->force_tcp);
	assert_true(fc->prefer_udp);
	assert_int_equal(fc->expire_ms, 90000);
	assert_int_equal(fc->max_fails, 0);
	assert_int_equal(fc->hc_interval_ms, 250);
	assert_false(fc->hc_recursion);
	assert_string_equal(fc->hc_domain, "health.example");
	assert_int_equal(fc->policy, FORWARD_ROUND_ROBIN);
	assert_int_equal(fc->max_concurrent, 1000);
	forward_config_free(fc);

	/* Later values win, as in CoreDNS; health_check resets the domain. */
	fc = parse_ok(". {\n forward . 10.0.0.1 {\n policy sequential\n"
	    " policy random\n health_check 1s domain x.org\n"
	    " health_check 0.5s\n expire 0\n max_fails 4294967295\n"
	    " max_concurrent 0\n policy sequential\n }\n}");
	assert_int_equal(fc->policy, FORWARD_SEQUENTIAL);
	assert_int_equal(fc->hc_interval_ms, 500);
	assert_string_equal(fc->hc_domain, ".");
	assert_int_equal(fc->expire_ms, 0);
	assert_int_equal(fc->max_fails, UINT32_MAX);
	forward_config_free(fc);

	fc = parse_ok(". {\n forward . 10.0.0.1 {\n }\n}");
	assert_int_equal(fc->max_fails, 2);
	forward_config_free(fc);
}

static void
test_config_from(void **state)
{
	static const struct {
		const char *from;
		const char *want;
	} cases[] = {
		{ ".", "." },
		{ "Example.ORG.", "example.org" },
		{ "dns://example.org:53", "example.org" },
		{ "example.org:1053", "example.org" },
		{ "10.0.0.0/8", "10.in-addr.arpa" },
		{ "fd00::/8", "d.f.ip6.arpa" },
	};
	struct forward_config *fc;
	char	 text[256];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), ". {\n forward %s 10.0.0.1\n}",
		    cases[i].from);
		fc = parse_ok(text);
		assert_string_equal(fc->from, cases[i].want);
		forward_config_free(fc);
	}
}

static void
test_config_to(void **state)
{
	struct forward_config *fc;
	struct sockaddr_in6 *sin6;

	fc = parse_ok(". {\n forward . 10.0.0.1 10.0.0.2:5353 dns://10.0.0.3"
	    " dns://10.0.0.4:1053 ::1 [2001:db8::2]:5300 dns://[::2]:53"
	    " dns://2001:db8::3\n}");
	assert_to(fc, "10.0.0.1:53 10.0.0.2:5353 10.0.0.3:53 10.0.0.4:1053 "
	    "[::1]:53 [2001:db8::2]:5300 [::2]:53 [2001:db8::3]:53");
	assert_int_equal(fc->to[5].addr.ss_family, AF_INET6);
	sin6 = (struct sockaddr_in6 *)&fc->to[5].addr;
	assert_int_equal(ntohs(sin6->sin6_port), 5300);
	assert_int_equal(ntohs(((struct sockaddr_in *)&fc->to[1].addr)->
	    sin_port), 5353);
	forward_config_free(fc);

	/* resolv.conf: relative to the directory given; mixed with IPs. */
	fc = parse_ok(". {\n forward . 10.0.0.1 resolv.conf empty.conf "
	    DATA "/resolv.conf\n}");
	assert_to(fc, "10.0.0.1:53 10.0.0.10:53 [2001:db8::1]:53 "
	    "10.0.0.12:53 10.0.0.10:53 [2001:db8::1]:53 10.0.0.12:53");
	forward_config_free(fc);

	/* Fifteen upstreams are allowed. */
	fc = parse_ok(". {\n forward . 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4"
	    " 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.10"
	    " 10.0.0.11 10.0.0.12 10.0.0.13 10.0.0.14 10.0.0.15\n}");
	assert_int_equal(fc->nto, 15);
	forward_config_free(fc);
}

/* Without a directory, a relative path is the Corefile's neighbour. */
static void
test_config_relative(void **state)
{
	const struct corefile_line *l;
	struct corefile	*cf;
	struct forward_config *fc;
	char		 err[512];

	cf = corefile_load(DATA "/Corefile", err, sizeof(err));
	if (cf == NULL)
		fail_msg("%s", err);
	l = corefile_first(corefile_block(cf, 0));
	if (forward_config_parse(l, NULL, &fc, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_to(fc, "10.0.0.10:53 [2001:db8::1]:53 10.0.0.12:53");
	assert_int_equal(fc->max_concurrent, 1000);
	assert_string_equal(fc->file, DATA "/Corefile");
	assert_int_equal(fc->line, 2);
	forward_config_free(fc);
	corefile_free(cf);
}

static void
test_resolvconf(void **state)
{
	char	**servers, err[256];
	size_t	 n, i;

	assert_int_equal(forward_resolvconf(DATA "/resolv.conf", &servers, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(servers[0], "10.0.0.10");
	assert_string_equal(servers[1], "2001:db8::1");
	assert_string_equal(servers[2], "10.0.0.12");
	for (i = 0; i < n; i++)
		free(servers[i]);
	free(servers);

	assert_int_equal(forward_resolvconf(DATA "/empty.conf", &servers, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(servers);

	assert_int_equal(forward_resolvconf(DATA "/missing.conf", &servers,
	    &n, err, sizeof(err)), -1);
	assert_string_equal(err, DATA "/missing.conf: No such file or "
	    "directory");
	assert_null(servers);
}

struct err_case {
	const char *text;
	const char *want;
};

static void
test_config_errors(void **state)
{
	static const struct err_case cases[] = {
		{ ". {\n forward\n}",
		  "T:2: forward: wrong number of arguments (want FROM TO...)" },
		{ ". {\n forward .\n}",
		  "T:2: forward: wrong number of arguments (want FROM TO...)" },
		{ ". {\n forward ex..org 10.0.0.1\n}",
		  "T:2: forward: FROM 'ex..org': not a valid domain name" },
		{ ". {\n forward 10.0.0.0/33 10.0.0.1\n}",
		  "T:2: forward: FROM '10.0.0.0/33': invalid CIDR" },
		{ ". {\n forward . nosuchfile\n}",
		  "T:2: forward: 'nosuchfile' is not an IP address or file "
		  "(" DATA "/nosuchfile: No such file or directory)" },
		{ ". {\n forward . 10.0.0.1:0\n}",
		  "T:2: forward: invalid port in '10.0.0.1:0' (1..65535)" },
		{ ". {\n forward . 10.0.0.1:65536\n}",
		  "T:2: forward: invalid port in '10.0.0.1:65536' (1..65535)" },
		{ ". {\n forward . 10.0.0.1:\n}",
		  "T:2: forward: invalid port in '10.0.0.1:' (1..65535)" },
		{ ". {\n forward . [::1]\n}",
		  "T:2: forward: '[::1]' is not an IP address or file (" DATA
		  "/[::1]: No such file or directory)" },
		{ ". {\n forward . tls://9.9.9.9\n}",
		  "T:2: forward: 'tls' is not supported as a destination "
		  "protocol by petdns: tls://9.9.9.9" },
		{ ". {\n forward . https://9.9.9.9\n}",
		  "T:2: forward: 'https' is not supported as a destination "
		  "protocol by petdns: https://9.9.9.9" },
		{ ". {\n forward . empty.conf\n}",
		  "T:2: forward: no nameservers found" },
		{ ". {\n forward . 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4"
		  " 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.10"
		  " 10.0.0.11 10.0.0.12 10.0.0.13 10.0.0.14 10.0.0.15"
		  " 10.0.0.16\n}",
		  "T:2: forward: more than 15 upstreams configured" },
		{ ". {\n forward . 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4"
		  " 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.10"
		  " 10.0.0.11 10.0.0.12 10.0.0.13 resolv.conf\n}",
		  "T:2: forward: more than 15 upstreams configured" },
		{ ". {\n forward . 10.0.0.1 {\n  bogus\n }\n}",
		  "T:3: forward: unknown property 'bogus'" },
		{ ". {\n forward . 10.0.0.1 {\n  except\n }\n}",
		  "T:3: forward option 'except': wrong number of arguments "
		  "(0)" },
		{ ". {\n forward . 10.0.0.1 {\n  except a..b\n }\n}",
		  "T:3: forward option 'except': 'a..b': not a valid domain "
		  "name" },
		{ ". {\n forward . 10.0.0.1 {\n  force_tcp yes\n }\n}",
		  "T:3: forward option 'force_tcp': wrong number of arguments "
		  "(1)" },
		{ ". {\n forward . 10.0.0.1 {\n  prefer_udp 1\n }\n}",
		  "T:3: forward option 'prefer_udp': wrong number of "
		  "arguments (1)" },
		{ ". {\n forward . 10.0.0.1 {\n  expire\n }\n}",
		  "T:3: forward option 'expire': wrong number of arguments "
		  "(0)" },
		{ ". {\n forward . 10.0.0.1 {\n  expire 10\n }\n}",
		  "T:3: forward option 'expire': invalid duration '10' (as "
		  "10s, 500ms or 1m30s)" },
		{ ". {\n forward . 10.0.0.1 {\n  expire -1s\n }\n}",
		  "T:3: forward option 'expire': can't be negative: -1s" },
		{ ". {\n forward . 10.0.0.1 {\n  max_fails -1\n }\n}",
		  "T:3: forward option 'max_fails': invalid number '-1' "
		  "(0..4294967295)" },
		{ ". {\n forward . 10.0.0.1 {\n  max_fails 4294967296\n }\n}",
		  "T:3: forward option 'max_fails': invalid number "
		  "'4294967296' (0..4294967295)" },
		{ ". {\n forward . 10.0.0.1 {\n  max_fails two\n }\n}",
		  "T:3: forward option 'max_fails': invalid number 'two' "
		  "(0..4294967295)" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check\n }\n}",
		  "T:3: forward option 'health_check': wrong number of "
		  "arguments (0)" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check 1x\n }\n}",
		  "T:3: forward option 'health_check': invalid duration '1x' "
		  "(as 10s, 500ms or 1m30s)" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check -1s\n }\n}",
		  "T:3: forward option 'health_check': can't be negative: "
		  "-1s" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check 1s rec\n }\n}",
		  "T:3: forward option 'health_check': unknown option 'rec' "
		  "(no_rec or domain FQDN)" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check 1s domain\n }\n}",
		  "T:3: forward option 'health_check': domain needs a name" },
		{ ". {\n forward . 10.0.0.1 {\n  health_check 1s domain a..b\n"
		  " }\n}",
		  "T:3: forward option 'health_check': invalid domain name "
		  "'a..b'" },
		{ ". {\n forward . 10.0.0.1 {\n  policy fastest\n }\n}",
		  "T:3: forward option 'policy': unknown policy 'fastest' "
		  "(random, round_robin or sequential)" },
		{ ". {\n forward . 10.0.0.1 {\n  policy\n }\n}",
		  "T:3: forward option 'policy': wrong number of arguments "
		  "(0)" },
		{ ". {\n forward . 10.0.0.1 {\n  max_concurrent -5\n }\n}",
		  "T:3: forward option 'max_concurrent': can't be negative: "
		  "-5" },
		{ ". {\n forward . 10.0.0.1 {\n  max_concurrent many\n }\n}",
		  "T:3: forward option 'max_concurrent': invalid number "
		  "'many'" },
		{ ". {\n forward . 10.0.0.1 {\n  tls\n }\n}",
		  "T:3: forward option 'tls': not supported by petdns (no DNS "
		  "over TLS)" },
		{ ". {\n forward . 10.0.0.1 {\n  tls cert.pem key.pem ca.pem\n"
		  " }\n}",
		  "T:3: forward option 'tls': not supported by petdns (no DNS "
		  "over TLS)" },
		{ ". {\n forward . 10.0.0.1 {\n  tls a b c d\n }\n}",
		  "T:3: forward option 'tls': wrong number of arguments (4)" },
		{ ". {\n forward . 10.0.0.1 {\n  tls_servername dns.quad9.net\n"
		  " }\n}",
		  "T:3: forward option 'tls_servername': not supported by "
		  "petdns (no DNS over TLS)" },
		{ ". {\n forward . 10.0.0.1 {\n  failover SERVFAIL\n }\n}",
		  "T:3: forward option 'failover': not supported by petdns" },
		{ ". {\n forward . 10.0.0.1 {\n  policy random {\n  }\n }\n}",
		  "T:3: forward option 'policy': takes no block" },
	};
	const struct corefile_line *l;
	struct forward_config *fc;
	struct corefile	*cf;
	char		 err[512];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cf = load(cases[i].text, &l);
		fc = (struct forward_config *)&fc;
		if (forward_config_parse(l, DATA, &fc, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed:\n%s", i, cases[i].text);
		assert_null(fc);
		if (strcmp(err, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err,
			    cases[i].want);
		corefile_free(cf);
	}
}

/* Fake upstreams: UDP and TCP on one loopback port, scripted by mode. */

enum fake_mode {
	FAKE_ANSWER,		/* an A record 10.0.0.<marker> */
	FAKE_SILENT,		/* reads and never answers */
	FAKE_WRONG_FIRST,	/* wrong ID, then wrong question, then right */
	FAKE_SPOOF_FIRST,	/* the answer from another port first */
	FAKE_TRUNC,		/* UDP: TC and no records; TCP answers */
	FAKE_CLOSE_AFTER,	/* TCP: closes after each answer */
	FAKE_SERVFAIL		/* answers with RCODE SERVFAIL */
};

struct fake {
	struct event_base	*base;
	enum fake_mode		 mode;
	int			 family;
	uint8_t			 marker;
	uint16_t		 port;
	int			 udp;
	int			 tcp;
	struct event		*uev;
	struct event		*lev;
	struct bufferevent	*conns[MAX_CONNS];
	int			 nconns;	/* accepted */
	int			 closed;	/* closed by the client */
	int			 udp_queries;	/* not counting health checks */
	int			 tcp_queries;
	int			 hc_udp;	/* checks: type NS */
	int			 hc_tcp;
	uint16_t		 last_id;
	bool			 last_rd;
	char			 last_qname[256];
	uint16_t		 last_qtype;
	uint16_t		 last_port;	/* client's UDP port */
	uint16_t		 ports[64];	/* UDP source ports seen */
	int			 nports;
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* One loop pass, woken after at most ms. */
static void
loop_once(struct event_base *base, int64_t ms)
{
	struct event	*t = evtimer_new(base, wake_cb, NULL);
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(t, &tv);
	event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
}

#define RUN_UNTIL(base, cond, ms) do {					\
	int64_t	 dl_ = now_ms() + (ms);					\
	while (!(cond)) {						\
		if (now_ms() >= dl_)					\
			fail_msg("%s:%d: timed out waiting for %s",	\
			    __FILE__, __LINE__, #cond);			\
		loop_once((base), dl_ - now_ms());			\
	}								\
} while (0)

/* Runs the loop for ms, for checking that nothing happens. */
static void
run_for(struct event_base *base, int64_t ms)
{
	int64_t	 dl = now_ms() + ms;

	while (now_ms() < dl)
		loop_once(base, dl - now_ms());
}

/* The end of a query's question: its name is never compressed here. */
static size_t
question_end(const uint8_t *q, size_t len)
{
	size_t	 pos = 12;

	while (pos < len && q[pos] != 0)
		pos += q[pos] + 1;
	return pos + 5;
}

static void
qname_str(const uint8_t *q, char *out)
{
	size_t	 pos = 12, n = 0;

	while (q[pos] != 0) {
		memcpy(out + n, q + pos + 1, q[pos]);
		n += q[pos];
		out[n++] = '.';
		pos += q[pos] + 1;
	}
	out[n] = '\0';
}

/* A response to q: header and question, then maybe an A record. */
static size_t
fake_reply(const struct fake *fk, const uint8_t *q, size_t len, uint8_t *out,
    bool tc, uint8_t marker)
{
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0,
	    4, 10, 0, 0 };
	size_t	 qend = question_end(q, len), n = qend;

	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79) | (tc ? 0x02 : 0));
	out[3] = fk->mode == FAKE_SERVFAIL ? 0x82 : 0x80;
	memset(out + 6, 0, 6);
	if (!tc && fk->mode != FAKE_SERVFAIL) {
		out[7] = 1;
		memcpy(out + n, rr, sizeof(rr));
		n += sizeof(rr);
		out[n++] = marker;
	}
	return n;
}

static bool
fake_note(struct fake *fk, const uint8_t *q, size_t len, bool tcp)
{
	size_t	 qend = question_end(q, len);
	bool	 hc;

	assert_true(qend <= len);
	fk->last_id = (uint16_t)(q[0] << 8 | q[1]);
	fk->last_rd = (q[2] & 0x01) != 0;
	fk->last_qtype = (uint16_t)(q[qend - 4] << 8 | q[qend - 3]);
	qname_str(q, fk->last_qname);
	hc = fk->last_qtype == 2;
	if (hc && tcp)
		fk->hc_tcp++;
	else if (hc)
		fk->hc_udp++;
	else if (tcp)
		fk->tcp_queries++;
	else
		fk->udp_queries++;
	return hc;
}

static void
fake_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake	*fk = arg;
	struct sockaddr_storage from;
	socklen_t	 fromlen = sizeof(from);
	uint8_t		 q[4096], r[4096];
	ssize_t		 n;
	size_t		 rlen;
	int		 s;

	n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
	if (n < 12)
		return;
	fake_note(fk, q, (size_t)n, false);
	fk->last_port = ntohs(from.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&from)->sin6_port :
	    ((struct sockaddr_in *)&from)->sin_port);
	if (fk->nports < 64)
		fk->ports[fk->nports++] = fk->last_port;
	switch (fk->mode) {
	case FAKE_SILENT:
		return;
	case FAKE_WRONG_FIRST:
		rlen = fake_reply(fk, q, (size_t)n, r, false, 98);
		r[0] ^= 0xff;
		sendto(fd, r, rlen, 0, (struct sockaddr *)&from, fromlen);
		rlen = fake_reply(fk, q, (size_t)n, r, false, 97);
		r[rlen - 19] ^= 0x01;	/* the qtype's low byte */
		sendto(fd, r, rlen, 0, (struct sockaddr *)&from, fromlen);
		break;
	case FAKE_SPOOF_FIRST:
		s = socket(AF_INET, SOCK_DGRAM, 0);
		rlen = fake_reply(fk, q, (size_t)n, r, false, 99);
		sendto(s, r, rlen, 0, (struct sockaddr *)&from, fromlen);
		close(s);
		break;
	default:
		break;
	}
	rlen = fake_reply(fk, q, (size_t)n, r, fk->mode == FAKE_TRUNC,
	    fk->marker);
	sendto(fd, r, rlen, 0, (struct sockaddr *)&from, fromlen);
}

static void	fake_tcp_write_cb(struct bufferevent *, void *);
static void	fake_tcp_event_cb(struct bufferevent *, short, void *);

static void
fake_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake	*fk = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 q[4096], r[4098];
	size_t		 n, rlen;

	while (evbuffer_copyout(in, q, 2) == 2) {
		n = (size_t)q[0] << 8 | q[1];
		if (evbuffer_get_length(in) < n + 2)
			return;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, q, n);
		fake_note(fk, q, n, true);
		if (fk->mode == FAKE_SILENT)
			continue;
		if (fk->mode == FAKE_WRONG_FIRST) {
			rlen = fake_reply(fk, q, n, r + 2, false, 98);
			r[0] = (uint8_t)(rlen >> 8);
			r[1] = (uint8_t)rlen;
			r[2] ^= 0xff;
			bufferevent_write(bev, r, rlen + 2);
		}
		rlen = fake_reply(fk, q, n, r + 2, false, fk->marker);
		r[0] = (uint8_t)(rlen >> 8);
		r[1] = (uint8_t)rlen;
		bufferevent_write(bev, r, rlen + 2);
		if (fk->mode == FAKE_CLOSE_AFTER)	/* once it is sent */
			bufferevent_setcb(bev, fake_tcp_read_cb,
			    fake_tcp_write_cb, fake_tcp_event_cb, fk);
	}
}

static void
fake_conn_close(struct fake *fk, struct bufferevent *bev)
{
	int	 i;

	for (i = 0; i < fk->nconns; i++)
		if (fk->conns[i] == bev) {
			bufferevent_free(bev);
			fk->conns[i] = NULL;
		}
}

/* CLOSE_AFTER: the answer is flushed, now hang up. */
static void
fake_tcp_write_cb(struct bufferevent *bev, void *arg)
{
	fake_conn_close(arg, bev);
}

static void
fake_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fake	*fk = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		fk->closed++;
		fake_conn_close(fk, bev);
	}
}

static void
fake_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake	*fk = arg;
	struct bufferevent *bev;
	int		 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	assert_true(fk->nconns < MAX_CONNS);
	bev = bufferevent_socket_new(fk->base, s, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, fake_tcp_read_cb, NULL, fake_tcp_event_cb, fk);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	fk->conns[fk->nconns++] = bev;
}

/* Binds UDP and TCP to one free loopback port of fk->family. */
static bool
fake_bind(struct fake *fk)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t	 len;
	int		 one = 1;

	memset(&ss, 0, sizeof(ss));
	if (fk->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	fk->udp = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fk->tcp = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fk->udp >= 0 && fk->tcp >= 0);
	setsockopt(fk->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fk->udp, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fk->udp, (struct sockaddr *)&ss, &len),
	    0);
	fk->port = ntohs(fk->family == AF_INET6 ? sin6->sin6_port :
	    sin->sin_port);
	if (bind(fk->tcp, (struct sockaddr *)&ss, len) == -1) {
		close(fk->udp);
		close(fk->tcp);
		return false;
	}
	assert_int_equal(listen(fk->tcp, 16), 0);
	return true;
}

static struct fake *
fake_new(struct event_base *base, enum fake_mode mode, uint8_t marker,
    int family)
{
	struct fake	*fk = xcalloc(1, sizeof(*fk));
	int		 tries;

	fk->base = base;
	fk->family = family;
	fk->mode = mode;
	fk->marker = marker;
	for (tries = 0; !fake_bind(fk); tries++)
		assert_true(tries < 16);
	fk->uev = event_new(base, fk->udp, EV_READ | EV_PERSIST, fake_udp_cb,
	    fk);
	fk->lev = event_new(base, fk->tcp, EV_READ | EV_PERSIST,
	    fake_accept_cb, fk);
	event_add(fk->uev, NULL);
	event_add(fk->lev, NULL);
	return fk;
}

static void
fake_free(struct fake *fk)
{
	int	 i;

	for (i = 0; i < fk->nconns; i++)
		if (fk->conns[i] != NULL)
			bufferevent_free(fk->conns[i]);
	event_free(fk->uev);
	event_free(fk->lev);
	close(fk->udp);
	close(fk->tcp);
	free(fk);
}

/* A port nobody listens on: UDP gets ICMP unreachable, TCP a reset. */
static uint16_t
closed_port(void)
{
	struct fake	 fk;

	memset(&fk, 0, sizeof(fk));
	fk.family = AF_INET;
	while (!fake_bind(&fk))
		;
	close(fk.udp);
	close(fk.tcp);
	return fk.port;
}

/* Runtime fixture */

struct result {
	int	 calls;
	int	 rcode;
	bool	 null;
	uint8_t	 resp[4096];
	size_t	 len;
};

struct fixture {
	struct event_base	*base;
	struct fake		*fakes[4];
	int			 nfakes;
	struct forward_config	*cfg;
	struct forward		*f;
};

static void
done_cb(void *arg, const uint8_t *resp, size_t len, int rcode)
{
	struct result	*r = arg;

	r->calls++;
	r->rcode = rcode;
	r->null = resp == NULL;
	r->len = 0;
	if (resp != NULL) {
		assert_true(len <= sizeof(r->resp));
		memcpy(r->resp, resp, len);
		r->len = len;
	}
}

static int
setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof(*fx));

	signal(SIGPIPE, SIG_IGN);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;
	int		 i;

	forward_free(fx->f);
	forward_config_free(fx->cfg);
	for (i = 0; i < fx->nfakes; i++)
		fake_free(fx->fakes[i]);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static struct fake *
add_fake(struct fixture *fx, enum fake_mode mode, uint8_t marker)
{
	assert_true(fx->nfakes < 4);
	return fx->fakes[fx->nfakes++] = fake_new(fx->base, mode, marker,
	    AF_INET);
}

/*
 * Starts a forwarder to the fixture's fakes (in order; a port of 0 in
 * extra_ports adds a closed port first) with the given options block.
 */
static void
start(struct fixture *fx, bool closed_first, const char *options)
{
	char	 text[1024];
	size_t	 n;
	int	 i;

	n = (size_t)snprintf(text, sizeof(text), ". {\n forward .");
	if (closed_first)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    " 127.0.0.1:%u", closed_port());
	for (i = 0; i < fx->nfakes; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    fx->fakes[i]->family == AF_INET6 ? " [::1]:%u" :
		    " 127.0.0.1:%u", fx->fakes[i]->port);
	snprintf(text + n, sizeof(text) - n, " {\n%s\n }\n}", options);
	fx->cfg = parse_ok(text);
	fx->f = forward_new(fx->base, fx->cfg);
	/* Short tries keep the timeouts' tests fast. */
	forward_set_timeouts(fx->f, 200, 700, 100);
}

static size_t
make_query(uint8_t *q, uint16_t id, const char *name, uint16_t qtype)
{
	size_t	 n = 12, l;
	const char *dot;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;			/* RD */
	q[5] = 1;
	while (*name != '\0') {
		dot = strchr(name, '.');
		l = dot ? (size_t)(dot - name) : strlen(name);
		q[n++] = (uint8_t)l;
		memcpy(q + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

/* Sends one query; done must not have run inside forward_query. */
static struct forward_req *
ask(struct fixture *fx, struct result *r, uint16_t id, bool tcp)
{
	struct forward_req *req;
	uint8_t		 q[512];
	size_t		 n = make_query(q, id, "www.example.org", 1);

	memset(r, 0, sizeof(*r));
	req = forward_query(fx->f, q, n, tcp, done_cb, r);
	assert_non_null(req);
	assert_int_equal(r->calls, 0);
	return req;
}

/* Asks and waits for the answer, which must be 10.0.0.<marker>. */
static void
ask_ok(struct fixture *fx, uint16_t id, bool tcp, uint8_t marker)
{
	struct result	 r;

	ask(fx, &r, id, tcp);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_int_equal(r.calls, 1);
	assert_false(r.null);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.resp[0] << 8 | r.resp[1], id);
	assert_true(r.resp[2] & 0x80);
	assert_false(r.resp[2] & 0x02);
	assert_int_equal(r.resp[7], 1);
	assert_int_equal(r.resp[r.len - 1], marker);
}

static void
test_answer_udp(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);
	struct forward_stats st;
	uint64_t	 rejects, broken;
	int		 i, distinct;

	start(fx, false, "");
	ask_ok(fx, 0x1234, false, 1);
	assert_int_equal(a->udp_queries, 1);
	assert_int_equal(a->tcp_queries, 0);
	assert_string_equal(a->last_qname, "www.example.org.");
	assert_true(a->last_rd);
	/* A fresh ID and source port for each query. */
	for (i = 0; i < 8; i++)
		ask_ok(fx, 0x1234, false, 1);
	for (i = 1, distinct = 0; i < a->nports; i++)
		distinct += a->ports[i] != a->ports[0];
	assert_true(distinct >= 6);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_false(forward_stats(fx->f, 1, &st));
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.requests, 9);
	assert_int_equal(st.responses[0], 9);
	assert_int_equal(st.healthcheck_failures, 0);
	assert_false(st.down);
	forward_totals(fx->f, &rejects, &broken);
	assert_int_equal(rejects, 0);
	assert_int_equal(broken, 0);
}

static void
test_ipv6(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a;

	a = fx->fakes[fx->nfakes++] = fake_new(fx->base, FAKE_WRONG_FIRST, 6,
	    AF_INET6);
	start(fx, false, "");
	ask_ok(fx, 1, false, 6);
	ask_ok(fx, 2, true, 6);
	assert_int_equal(a->udp_queries, 1);
	assert_int_equal(a->tcp_queries, 1);
}

static void
test_rcode(void **state)
{
	struct fixture	*fx = *state;
	struct forward_stats st;
	struct result	 r;

	add_fake(fx, FAKE_SERVFAIL, 1);
	start(fx, false, "");
	ask(fx, &r, 7, false);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	/* An upstream's SERVFAIL is its answer, not a failure. */
	assert_false(r.null);
	assert_int_equal(r.rcode, 2);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.responses[2], 1);
	assert_int_equal(st.responses[0], 0);
}

static void
test_wrong_id_ignored(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_WRONG_FIRST, 5);

	start(fx, false, "");
	ask_ok(fx, 42, false, 5);
	assert_int_equal(a->udp_queries, 1);
	ask_ok(fx, 43, true, 5);
	assert_int_equal(a->tcp_queries, 1);
}

static void
test_spoof_ignored(void **state)
{
	struct fixture	*fx = *state;

	add_fake(fx, FAKE_SPOOF_FIRST, 6);
	start(fx, false, "");
	ask_ok(fx, 43, false, 6);
}

static void
test_failover_timeout(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct fake	*b = add_fake(fx, FAKE_ANSWER, 2);
	struct forward_stats st;
	int64_t		 t0 = now_ms();

	start(fx, false, "policy sequential\nmax_fails 0");
	ask_ok(fx, 1, false, 2);
	assert_true(now_ms() - t0 >= 200);
	assert_int_equal(a->udp_queries, 1);
	assert_int_equal(b->udp_queries, 1);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.responses[0], 0);
	/* max_fails 0: no health checks. */
	run_for(fx->base, 150);
	assert_int_equal(a->hc_udp, 0);
}

static void
test_failover_refused(void **state)
{
	struct fixture	*fx = *state;
	int64_t		 t0 = now_ms();

	add_fake(fx, FAKE_ANSWER, 3);
	start(fx, true, "policy sequential");
	ask_ok(fx, 2, false, 3);
	/* ICMP port unreachable fails over at once. */
	assert_true(now_ms() - t0 < 200);
}

static void
test_servfail_when_none_answer(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct result	 r;
	int64_t		 t0 = now_ms();

	start(fx, false, "max_fails 0");
	ask(fx, &r, 3, false);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_true(r.null);
	assert_int_equal(r.rcode, FORWARD_SERVFAIL);
	/* Tries of 200ms until the 700ms deadline: at 0, 200, 400, 600. */
	assert_true(a->udp_queries >= 3 && a->udp_queries <= 4);
	assert_true(now_ms() - t0 >= 700);
	run_for(fx->base, 50);
	assert_int_equal(r.calls, 1);
}

/* Refused everywhere: one pass and SERVFAIL, no spinning to the deadline. */
static void
test_servfail_refused(void **state)
{
	struct fixture	*fx = *state;
	struct forward_stats st;
	struct result	 r;

	start(fx, true, "max_fails 0");
	ask(fx, &r, 4, false);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_int_equal(r.rcode, FORWARD_SERVFAIL);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.requests, 1);
}

static bool
is_down(struct fixture *fx, size_t i)
{
	struct forward_stats st;

	assert_true(forward_stats(fx->f, i, &st));
	return st.down;
}

static void
test_health_down_and_recover(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct forward_stats st;
	int		 before;

	add_fake(fx, FAKE_ANSWER, 2);
	start(fx, false, "policy sequential\nmax_fails 1\n"
	    "health_check 50ms");
	ask_ok(fx, 1, false, 2);
	assert_int_equal(a->udp_queries, 1);
	/* Checks start after the failed try; two failures: more than 1. */
	RUN_UNTIL(fx->base, is_down(fx, 0), WAIT_MS);
	assert_true(a->hc_udp >= 2);
	assert_string_equal(a->last_qname, "");
	assert_int_equal(a->last_qtype, 2);
	assert_true(a->last_rd);
	assert_false(is_down(fx, 1));
	/* Down: skipped without a try. */
	ask_ok(fx, 2, false, 2);
	assert_int_equal(a->udp_queries, 1);
	/* Checks continue until one is answered. */
	before = a->hc_udp;
	RUN_UNTIL(fx->base, a->hc_udp > before + 1, WAIT_MS);
	a->mode = FAKE_ANSWER;
	RUN_UNTIL(fx->base, !is_down(fx, 0), WAIT_MS);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.healthcheck_failures, (uint64_t)a->hc_udp - 1);
	before = a->hc_udp;
	ask_ok(fx, 3, false, 1);
	assert_int_equal(a->udp_queries, 2);
	/* Healthy again: checks stopped. */
	run_for(fx->base, 150);
	assert_int_equal(a->hc_udp, before);
}

static void
test_health_options(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct result	 r;

	start(fx, false, "force_tcp\nmax_fails 3\n"
	    "health_check 20ms no_rec domain Health.Example.org");
	ask(fx, &r, 9, false);
	RUN_UNTIL(fx->base, a->hc_tcp > 0, WAIT_MS);
	assert_int_equal(a->hc_udp, 0);
	assert_false(a->last_rd);
	assert_string_equal(a->last_qname, "health.example.org.");
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_int_equal(r.rcode, FORWARD_SERVFAIL);
}

static void
test_all_down_random(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct fake	*b = add_fake(fx, FAKE_SILENT, 2);
	uint64_t	 rejects, broken, broken0;
	struct result	 r;
	int		 tries;

	start(fx, false, "max_fails 1\nhealth_check 20ms");
	ask(fx, &r, 1, false);
	RUN_UNTIL(fx->base, r.calls > 0 && is_down(fx, 0) && is_down(fx, 1),
	    WAIT_MS);
	assert_int_equal(r.rcode, FORWARD_SERVFAIL);
	/* All down: one try to a random upstream, then SERVFAIL. */
	tries = a->udp_queries + b->udp_queries;
	forward_totals(fx->f, &rejects, &broken0);
	ask(fx, &r, 2, false);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_int_equal(r.rcode, FORWARD_SERVFAIL);
	assert_int_equal(a->udp_queries + b->udp_queries, tries + 1);
	forward_totals(fx->f, &rejects, &broken);
	assert_int_equal(broken, broken0 + 1);
	/* An upstream back up answers again. */
	b->mode = FAKE_ANSWER;
	RUN_UNTIL(fx->base, !is_down(fx, 1), WAIT_MS);
	ask_ok(fx, 3, false, 2);
}

static void
test_policy_sequential(void **state)
{
	struct fixture	*fx = *state;
	int		 i;

	add_fake(fx, FAKE_ANSWER, 1);
	add_fake(fx, FAKE_ANSWER, 2);
	add_fake(fx, FAKE_ANSWER, 3);
	start(fx, false, "policy sequential");
	for (i = 0; i < 5; i++)
		ask_ok(fx, (uint16_t)i, false, 1);
}

static void
test_policy_round_robin(void **state)
{
	struct fixture	*fx = *state;

	add_fake(fx, FAKE_ANSWER, 1);
	add_fake(fx, FAKE_ANSWER, 2);
	add_fake(fx, FAKE_ANSWER, 3);
	start(fx, false, "policy round_robin");
	/* CoreDNS's counter is incremented first: the second one leads. */
	ask_ok(fx, 1, false, 2);
	ask_ok(fx, 2, false, 3);
	ask_ok(fx, 3, false, 1);
	ask_ok(fx, 4, false, 2);
}

/* round_robin after the leader: the rest in config order. */
static void
test_policy_round_robin_failover(void **state)
{
	struct fixture	*fx = *state;

	add_fake(fx, FAKE_ANSWER, 1);
	add_fake(fx, FAKE_ANSWER, 2);
	start(fx, true, "policy round_robin\nmax_fails 0");
	ask_ok(fx, 1, false, 1);	/* leader 1: fake 1 */
	ask_ok(fx, 2, false, 2);	/* leader 2: fake 2 */
	ask_ok(fx, 3, false, 1);	/* leader 0: closed, then fake 1 */
}

static void
test_policy_random(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);
	struct fake	*b = add_fake(fx, FAKE_ANSWER, 2);
	struct fake	*c = add_fake(fx, FAKE_ANSWER, 3);
	struct result	 r;
	int		 i;

	start(fx, false, "");
	for (i = 0; i < 60; i++) {
		ask(fx, &r, (uint16_t)i, false);
		RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
		assert_int_equal(r.rcode, 0);
	}
	/* More than 60 only when a slow machine made a query time out and retry. */
	assert_true(a->udp_queries + b->udp_queries + c->udp_queries >= 60);
	assert_true(a->udp_queries > 0 && b->udp_queries > 0 &&
	    c->udp_queries > 0);
}

static bool
match(struct forward *f, const char *name)
{
	uint8_t	 q[512];

	make_query(q, 0, name, 1);
	return forward_match(f, q + 12);
}

static void
test_match_except(void **state)
{
	struct fixture	*fx = *state;
	struct forward_config *cfg;
	struct forward	*f;

	cfg = parse_ok(". {\n forward Example.org 10.0.0.1 {\n"
	    "  except a.example.org B.EXAMPLE.ORG\n }\n}");
	f = forward_new(fx->base, cfg);
	assert_true(match(f, "example.org"));
	assert_true(match(f, "EXAMPLE.org"));
	assert_true(match(f, "x.example.org"));
	assert_true(match(f, "aa.example.org"));
	assert_false(match(f, "a.example.org"));
	assert_false(match(f, "x.A.example.org"));
	assert_false(match(f, "b.example.org"));
	assert_false(match(f, "example.com"));
	assert_false(match(f, "xexample.org"));
	assert_false(match(f, ""));
	forward_free(f);
	forward_config_free(cfg);

	/* FROM itself matches even when excepted, as in CoreDNS. */
	cfg = parse_ok(". {\n forward . 10.0.0.1 {\n  except .\n }\n}");
	f = forward_new(fx->base, cfg);
	assert_true(match(f, ""));
	assert_false(match(f, "org"));
	forward_free(f);
	forward_config_free(cfg);
}

static void
test_max_concurrent(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a;
	struct result	 r[4];
	uint64_t	 rejects, broken;

	a = add_fake(fx, FAKE_SILENT, 1);
	start(fx, false, "max_concurrent 2\nmax_fails 0");
	ask(fx, &r[0], 1, false);
	ask(fx, &r[1], 2, false);
	ask(fx, &r[2], 3, false);
	assert_int_equal(forward_pending(fx->f), 3);
	RUN_UNTIL(fx->base, r[2].calls > 0, WAIT_MS);
	assert_int_equal(forward_pending(fx->f), 2);
	assert_true(r[2].null);
	assert_int_equal(r[2].rcode, FORWARD_REFUSED);
	assert_int_equal(r[0].calls + r[1].calls, 0);
	forward_totals(fx->f, &rejects, &broken);
	assert_int_equal(rejects, 1);
	RUN_UNTIL(fx->base, a->udp_queries == 2, WAIT_MS);
	/* A slot frees when a query ends. */
	a->mode = FAKE_ANSWER;
	RUN_UNTIL(fx->base, r[0].calls > 0 && r[1].calls > 0, WAIT_MS);
	assert_int_equal(forward_pending(fx->f), 0);
	assert_int_equal(r[0].rcode, 0);
	ask_ok(fx, 4, false, 1);
	(void)r[3];
}

static void
test_transport(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);

	start(fx, false, "");
	/* A TCP client is forwarded over TCP. */
	ask_ok(fx, 1, true, 1);
	assert_int_equal(a->tcp_queries, 1);
	assert_int_equal(a->udp_queries, 0);
	ask_ok(fx, 2, false, 1);
	assert_int_equal(a->udp_queries, 1);
}

static void
test_force_tcp(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);

	start(fx, false, "force_tcp\nprefer_udp");
	ask_ok(fx, 1, false, 1);
	ask_ok(fx, 2, true, 1);
	assert_int_equal(a->tcp_queries, 2);
	assert_int_equal(a->udp_queries, 0);
	/* The connection was reused. */
	assert_int_equal(a->nconns, 1);
}

static void
test_prefer_udp(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);

	start(fx, false, "prefer_udp");
	ask_ok(fx, 1, true, 1);
	assert_int_equal(a->udp_queries, 1);
	assert_int_equal(a->tcp_queries, 0);
}

static void
test_truncated_retry_tcp(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_TRUNC, 1);
	struct forward_stats st;

	start(fx, false, "prefer_udp");
	ask_ok(fx, 1, true, 1);
	assert_int_equal(a->udp_queries, 1);
	assert_int_equal(a->tcp_queries, 1);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.requests, 2);
}

/* Without prefer_udp a UDP client gets TC and retries itself (CoreDNS). */
static void
test_truncated_passed_on(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_TRUNC, 1);
	struct result	 r;

	start(fx, false, "");
	ask(fx, &r, 77, false);
	RUN_UNTIL(fx->base, r.calls > 0, WAIT_MS);
	assert_false(r.null);
	assert_true(r.resp[2] & 0x02);
	assert_int_equal(r.resp[0] << 8 | r.resp[1], 77);
	assert_int_equal(a->tcp_queries, 0);
	/* Its TCP retry gets the whole answer. */
	ask_ok(fx, 78, true, 1);
}

static void
test_tcp_expire(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);

	start(fx, false, "force_tcp\nexpire 100ms");
	ask_ok(fx, 1, false, 1);
	ask_ok(fx, 2, false, 1);
	assert_int_equal(a->nconns, 1);
	/* Idle past expire: closed, and the next query dials again. */
	RUN_UNTIL(fx->base, a->closed == 1, WAIT_MS);
	ask_ok(fx, 3, false, 1);
	assert_int_equal(a->nconns, 2);
}

static void
test_tcp_no_reuse(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_ANSWER, 1);

	start(fx, false, "force_tcp\nexpire 0");
	ask_ok(fx, 1, false, 1);
	ask_ok(fx, 2, false, 1);
	assert_int_equal(a->nconns, 2);
}

/* An idle connection the upstream closed is replaced, not a failure. */
static void
test_tcp_cached_closed(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_CLOSE_AFTER, 1);
	struct forward_stats st;
	int		 i;

	start(fx, false, "force_tcp");
	for (i = 0; i < 4; i++)
		ask_ok(fx, (uint16_t)i, false, 1);
	assert_int_equal(a->tcp_queries, 4);
	assert_int_equal(a->nconns, 4);
	assert_true(forward_stats(fx->f, 0, &st));
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.healthcheck_failures, 0);
	/* Closed while idle and noticed: dropped from the idle list. */
	run_for(fx->base, 50);
	ask_ok(fx, 9, false, 1);
	assert_int_equal(a->nconns, 5);
}

static void
test_tcp_failover(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct fake	*b = add_fake(fx, FAKE_ANSWER, 2);

	start(fx, true, "force_tcp\npolicy sequential\nmax_fails 0");
	ask_ok(fx, 1, false, 2);
	assert_int_equal(a->tcp_queries, 1);
	assert_int_equal(b->tcp_queries, 1);
}

static void
test_cancel(void **state)
{
	struct fixture	*fx = *state;
	struct fake	*a = add_fake(fx, FAKE_SILENT, 1);
	struct forward_req *req;
	struct result	 r, r2;

	start(fx, false, "max_concurrent 1\nmax_fails 0");
	req = ask(fx, &r, 1, false);
	RUN_UNTIL(fx->base, a->udp_queries == 1, WAIT_MS);
	forward_cancel(req);
	/* Cancelled: no done, and its slot is free. */
	a->mode = FAKE_ANSWER;
	ask_ok(fx, 2, false, 1);
	assert_int_equal(r.calls, 0);

	/* Cancel before the loop ever ran, and a refused one too. */
	a->mode = FAKE_SILENT;
	req = ask(fx, &r, 3, true);
	forward_cancel(ask(fx, &r2, 4, false));
	assert_int_equal(forward_pending(fx->f), 1);
	forward_cancel(req);
	forward_cancel(NULL);
	assert_int_equal(forward_pending(fx->f), 0);
	run_for(fx->base, 300);
	assert_int_equal(r.calls + r2.calls, 0);
}

static void
test_free_pending(void **state)
{
	struct fixture	*fx = *state;
	struct result	 r[3];

	add_fake(fx, FAKE_SILENT, 1);
	start(fx, false, "max_concurrent 2\nmax_fails 1\nhealth_check 10ms");
	ask(fx, &r[0], 1, false);
	ask(fx, &r[1], 2, true);
	ask(fx, &r[2], 3, false);
	run_for(fx->base, 250);
	assert_int_equal(r[2].calls, 1);
	forward_free(fx->f);
	fx->f = NULL;
	run_for(fx->base, 50);
	assert_int_equal(r[0].calls + r[1].calls, 0);
	forward_free(NULL);
}

static void
test_bad_queries(void **state)
{
	struct fixture	*fx = *state;
	struct result	 r;
	uint8_t		 q[512];
	size_t		 n;

	add_fake(fx, FAKE_ANSWER, 1);
	start(fx, false, "");
	memset(&r, 0, sizeof(r));
	n = make_query(q, 1, "example.org", 1);
	assert_null(forward_query(fx->f, q, 11, false, done_cb, &r));
	assert_null(forward_query(fx->f, q, n - 1, false, done_cb, &r));
	q[2] |= 0x80;
	assert_null(forward_query(fx->f, q, n, false, done_cb, &r));
	q[2] &= 0x7f;
	q[5] = 2;
	assert_null(forward_query(fx->f, q, n, false, done_cb, &r));
	q[5] = 1;
	q[12] = 0xc0;		/* a pointer loop onto itself */
	q[13] = 12;
	assert_null(forward_query(fx->f, q, n, false, done_cb, &r));
	run_for(fx->base, 20);
	assert_int_equal(r.calls, 0);
}

/* done may start the next query and free nothing it should not. */
struct chain {
	struct fixture	*fx;
	int		 left;
	int		 answered;
};

static void
chain_cb(void *arg, const uint8_t *resp, size_t len, int rcode)
{
	struct chain	*c = arg;
	uint8_t		 q[512];
	size_t		 n;

	assert_non_null(resp);
	c->answered++;
	if (--c->left > 0) {
		n = make_query(q, (uint16_t)c->left, "x.example.org", 28);
		assert_non_null(forward_query(c->fx->f, q, n, c->left % 2,
		    chain_cb, c));
	}
}

static void
test_query_from_done(void **state)
{
	struct fixture	*fx = *state;
	struct chain	 c = { fx, 6, 0 };
	uint8_t		 q[512];
	size_t		 n;

	add_fake(fx, FAKE_ANSWER, 1);
	start(fx, false, "");
	n = make_query(q, 99, "x.example.org", 28);
	assert_non_null(forward_query(fx->f, q, n, false, chain_cb, &c));
	RUN_UNTIL(fx->base, c.answered == 6, WAIT_MS);
}

/* done may free the forward: nothing of it is touched afterwards. */
static void
free_cb(void *arg, const uint8_t *resp, size_t len, int rcode)
{
	struct fixture	*fx = arg;

	assert_non_null(resp);
	forward_free(fx->f);
	fx->f = NULL;
}

static void
test_free_from_done(void **state)
{
	struct fixture	*fx = *state;
	uint8_t		 q[512];
	size_t		 n = make_query(q, 5, "x.example.org", 1);
	struct forward_req *other;
	struct result	 r;

	add_fake(fx, FAKE_ANSWER, 1);
	start(fx, false, "force_tcp");
	assert_non_null(forward_query(fx->f, q, n, false, free_cb, fx));
	RUN_UNTIL(fx->base, fx->f == NULL, WAIT_MS);
	forward_config_free(fx->cfg);
	/* Over UDP, with another query pending that is dropped unanswered. */
	start(fx, false, "");
	forward_config_free(fx->cfg);	/* the forward keeps a copy */
	fx->cfg = NULL;
	assert_non_null(forward_query(fx->f, q, n, false, free_cb, fx));
	other = ask(fx, &r, 6, true);
	RUN_UNTIL(fx->base, fx->f == NULL, WAIT_MS);
	run_for(fx->base, 50);
	assert_true(r.calls <= 1);
	(void)other;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_options),
		cmocka_unit_test(test_config_from),
		cmocka_unit_test(test_config_to),
		cmocka_unit_test(test_config_relative),
		cmocka_unit_test(test_resolvconf),
		cmocka_unit_test(test_config_errors),
#define RT(t)	cmocka_unit_test_setup_teardown(t, setup, teardown)
		RT(test_answer_udp),
		RT(test_ipv6),
		RT(test_rcode),
		RT(test_wrong_id_ignored),
		RT(test_spoof_ignored),
		RT(test_failover_timeout),
		RT(test_failover_refused),
		RT(test_servfail_when_none_answer),
		RT(test_servfail_refused),
		RT(test_health_down_and_recover),
		RT(test_health_options),
		RT(test_all_down_random),
		RT(test_policy_sequential),
		RT(test_policy_round_robin),
		RT(test_policy_round_robin_failover),
		RT(test_policy_random),
		RT(test_match_except),
		RT(test_max_concurrent),
		RT(test_transport),
		RT(test_force_tcp),
		RT(test_prefer_udp),
		RT(test_truncated_retry_tcp),
		RT(test_truncated_passed_on),
		RT(test_tcp_expire),
		RT(test_tcp_no_reuse),
		RT(test_tcp_cached_closed),
		RT(test_tcp_failover),
		RT(test_cancel),
		RT(test_free_pending),
		RT(test_bad_queries),
		RT(test_query_from_done),
		RT(test_free_from_done),
#undef RT
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
