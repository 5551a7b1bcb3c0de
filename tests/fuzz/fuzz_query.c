/* fuzz_query.c -- a received packet through server_query, the code the responder runs, over tests/data/cluster. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "config.h"
#include "fuzz.h"
#include "kubernetes.h"
#include "log.h"
#include "metrics.h"
#include "responder.h"
#include "server.h"
#include "zone.h"

/*
 * Every directive whose code a query reaches without a socket of its own:
 * kubernetes (all record kinds, fallthrough), cache, loadbalance, log and
 * errors (their lines are formatted, then dropped by quiet), whoami.
 */
static const char fuzz_corefile[] =
    "cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {\n"
    "	errors\n"
    "	log\n"
    "	kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
    "		manifests " FUZZDATA "/cluster\n"
    "		pods insecure\n"
    "		fallthrough in-addr.arpa ip6.arpa\n"
    "		ttl 30\n"
    "	}\n"
    "	cache 30\n"
    "	loadbalance\n"
    "}\n"
    "example.org:53 {\n"
    "	whoami\n"
    "}\n";

/* The first input byte's bits; the rest is the query as received. */
#define FUZZ_TCP	0x01
#define FUZZ_IPV6	0x02

static struct config	*fuzz_config;	/* the server borrows its blocks */
static struct server	*fuzz_server;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct event_base	*base;
	struct config_server	*cs;
	struct kubernetes	*k;
	char			 err[512];

	log_init(0, 1);
	zone_thread_register();
	if ((base = event_base_new()) == NULL)
		abort();
	if ((fuzz_config = config_parse("fuzz", fuzz_corefile, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_query: %s\n", err);
		abort();
	}
	/* Everything lives as long as the process, like the daemon's. */
	fuzz_server = server_new(base, metrics_new(), NULL, 53);
	for (size_t i = 0; i < fuzz_config->nservers; i++) {
		cs = &fuzz_config->servers[i];
		k = NULL;
		if (cs->kubernetes != NULL) {
			k = kubernetes_new(base, cs->kubernetes);
			if (kubernetes_start(k) == -1 || !kubernetes_ready(k))
				abort();
		}
		server_add_block(fuzz_server, cs, k);
	}
	return 0;
}

/* The size a UDP answer must fit: 512, or the query's EDNS size. */
static size_t
fuzz_udp_limit(const uint8_t *query, size_t len)
{
	ldns_pkt	*q = NULL;
	size_t		 limit = 512;

	if (ldns_wire2pkt(&q, query, len) == LDNS_STATUS_OK &&
	    ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > limit)
		limit = ldns_pkt_edns_udp_size(q);
	ldns_pkt_free(q);
	return limit;
}

/* What every answer must be, whatever was asked: abort() shows the input. */
static void
fuzz_check(const uint8_t *query, size_t len, const uint8_t *resp, size_t n,
    int tcp)
{
	ldns_pkt	*p = NULL;

	if (n == 0)
		return;
	if (n < 12 || len < 12 || resp[0] != query[0] || resp[1] != query[1] ||
	    (resp[2] & 0x80) == 0)
		abort();
	if (!tcp && n > fuzz_udp_limit(query, len))
		abort();
	if (ldns_wire2pkt(&p, resp, n) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 resp[65535];
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
	size_t			 n;
	int			 tcp;

	if (size < 1)
		return 0;
	tcp = (data[0] & FUZZ_TCP) != 0;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(40000);
	sin6.sin6_addr = in6addr_loopback;
	if (data[0] & FUZZ_IPV6) {
		peer = (const struct sockaddr *)&sin6;
		peerlen = sizeof(sin6);
	} else {
		peer = (const struct sockaddr *)&sin;
		peerlen = sizeof(sin);
	}
	n = responder_call(server_query, fuzz_server, data + 1, size - 1, resp,
	    sizeof(resp), tcp ? RESPONDER_TCP : RESPONDER_UDP, peer, peerlen);
	fuzz_check(data + 1, size - 1, resp, n, tcp);
	return 0;
}
