/* fuzz_cache.c -- an upstream's reply into the cache (cache_insert's wire walk), then the query answered from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "corefile.h"
#include "fuzz.h"
#include "log.h"
#include "zone.h"

/*
 * Input: the query's length (two bytes, big-endian), the query, then the
 * reply. The clock is fixed so that RRSIG validity is judged the same way
 * every run.
 */
#define FUZZ_NOW	((time_t)1700000000)

static struct cache	*fuzz_cache;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char	 text[] = ". {\n\tcache 30\n}\n";
	struct corefile		*cf;
	struct cache_config	*cfg;
	char			 err[512];

	(void)argc;
	(void)argv;
	log_init(0, 1);
	zone_thread_register();
	if ((cf = corefile_parse("fuzz", text, err, sizeof(err))) == NULL ||
	    cache_config_parse(corefile_first(corefile_block(cf, 0)), &cfg,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cache: %s\n", err);
		abort();
	}
	fuzz_cache = cache_new(cfg);
	cache_config_free(cfg);
	corefile_free(cf);
	return 0;
}

/*
 * A cached answer answers the query: its ID, QR, the question's bytes as
 * asked. Its records are the upstream's, as malformed as it sent them
 * within their bounds: those are not judged here.
 */
static void
fuzz_check(const uint8_t *query, size_t qlen, const uint8_t *out, size_t n)
{
	size_t	 qend = 12;

	if (n == 0)
		return;
	while (qend < qlen && query[qend] != 0)
		qend += (size_t)query[qend] + 1;
	qend += 5;
	if (n < 12 || qend > qlen || n < qend || out[0] != query[0] ||
	    out[1] != query[1] || (out[2] & 0x80) == 0 ||
	    memcmp(out + 12, query + 12, qend - 12) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t	 out[65535];
	uint8_t		*query, *reply;
	size_t		 qlen, rlen, n;
	bool		 stale;

	if (size < 2 || (qlen = (size_t)data[0] << 8 | data[1]) > size - 2)
		return 0;
	rlen = size - 2 - qlen;
	/* Copies of their own, so that ASan sees any read past either. */
	query = malloc(qlen ? qlen : 1);
	reply = malloc(rlen ? rlen : 1);
	if (query == NULL || reply == NULL)
		abort();
	memcpy(query, data + 2, qlen);
	memcpy(reply, data + 2 + qlen, rlen);
	cache_insert(fuzz_cache, query, qlen, reply, rlen, FUZZ_NOW);
	n = cache_lookup(fuzz_cache, query, qlen, 512, FUZZ_NOW, out,
	    sizeof(out), &stale);
	if (n > 512)
		abort();
	fuzz_check(query, qlen, out, n);
	n = cache_lookup(fuzz_cache, query, qlen, 0, FUZZ_NOW, out,
	    sizeof(out), &stale);
	fuzz_check(query, qlen, out, n);
	free(query);
	free(reply);
	return 0;
}
