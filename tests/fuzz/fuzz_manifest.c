/* fuzz_manifest.c -- a manifest file's text as local mode loads it: yamljson, decode, then simulate into a store. */
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"
#include "manifest.h"
#include "object.h"
#include "simulate.h"
#include "store.h"

/* The zone side (records, zone) is fuzz_decode's: this stops at the store. */
static struct simulate	*fuzz_sim;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(0, 1);
	fuzz_sim = simulate_new(store_new());
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct object	**objs = NULL;
	size_t		 n = 0;

	/* No NUL follows libFuzzer's data: manifest_parse must keep to size. */
	(void)manifest_parse("fuzz.yaml", (const char *)data, size, &objs, &n);
	/* Completes the objects as the cluster would, into the store. */
	simulate_apply(fuzz_sim, objs, n);
	free(objs);
	/* Back to empty, so that each input starts from the same store. */
	simulate_apply(fuzz_sim, NULL, 0);
	return 0;
}
