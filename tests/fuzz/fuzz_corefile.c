/* fuzz_corefile.c -- Corefile text through the lexer (corefile.c) and the directive table (config.c). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "corefile.h"
#include "fuzz.h"
#include "log.h"

/* Imports resolve against this name's directory: real snippet files. */
#define FUZZ_NAME	FUZZDATA "/corefile/import/Corefile"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	fd;

	log_init(0, 1);
	/* "import /dev/stdin" must not wait for a terminal. */
	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 0) == -1)
		abort();
	close(fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cfg;
	char		*text, err[512];
	int		 ms;
	bool		 neg;

	/* The parsers take C strings: a NUL inside ends the text early. */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if ((cfg = config_parse(FUZZ_NAME, text, err, sizeof(err))) != NULL)
		config_free(cfg);
	else if (err[0] == '\0')
		abort();	/* every failure says why */
	/* The two value parsers directives share, on the raw text too. */
	(void)corefile_duration(text, &ms, &neg);
	free(corefile_zone(text, err, sizeof(err)));
	free(text);
	return 0;
}
