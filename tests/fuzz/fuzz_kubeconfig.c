/* fuzz_kubeconfig.c -- kubeconfig text (YAML or JSON) through kubeconfig_load, as a file beside real credential files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "kubeconfig.h"
#include "log.h"

/* The files tests/data/kubeconfig/config.yaml names, relative to itself. */
static const char *const fuzz_files[] = {
	"ca.crt", "client.crt", "client.key", "secrets"
};

/* Under $TMPDIR when set: long runs write a file per input (tmpfs is ~5x faster). */
static char	fuzz_dir[512];
static char	fuzz_path[sizeof(fuzz_dir) + 16];

static void
fuzz_cleanup(void)
{
	char	link[sizeof(fuzz_dir) + 16];

	unlink(fuzz_path);
	for (size_t i = 0; i < sizeof(fuzz_files) / sizeof(*fuzz_files); i++) {
		snprintf(link, sizeof(link), "%s/%s", fuzz_dir, fuzz_files[i]);
		unlink(link);
	}
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char		 link[sizeof(fuzz_dir) + 16], target[512];
	const char	*tmp = getenv("TMPDIR");

	log_init(0, 1);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/petdns-fuzz.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fuzz_files) / sizeof(*fuzz_files); i++) {
		snprintf(link, sizeof(link), "%s/%s", fuzz_dir, fuzz_files[i]);
		snprintf(target, sizeof(target), "%s/kubeconfig/%s", FUZZDATA,
		    fuzz_files[i]);
		if (symlink(target, link) == -1)
			abort();
	}
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/config", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_auth	*a;
	char			 err[512];
	int			 fd;

	if ((fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, data, size) != (ssize_t)size || close(fd) == -1)
		abort();
	err[0] = '\0';
	if ((a = kubeconfig_load(fuzz_path, NULL, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			abort();	/* every failure says why */
		return 0;
	}
	if (a->server == NULL)
		abort();
	free(kubeconfig_token(a));
	kube_auth_free(a);
	return 0;
}
