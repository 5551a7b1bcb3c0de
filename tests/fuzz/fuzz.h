/* fuzz.h -- the libFuzzer entry points every harness defines (prototypes for -Wmissing-prototypes). */
#ifndef PETDNS_FUZZ_H
#define PETDNS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input; may change argv. Returns 0. */
int	LLVMFuzzerInitialize(int *argc, char ***argv);
/* Runs one input; returns 0 (anything else is reserved by libFuzzer). */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
