/* log.c -- leveled logging to stderr; the only mutable globals are its settings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int log_debug_on;
static int log_quiet;

void
log_init(int debug, int quiet)
{
	log_debug_on = debug;
	log_quiet = quiet;
}

static void __attribute__((format(printf, 3, 0)))
log_vmsg(const char *level, int err, const char *fmt, va_list ap)
{
	char	msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "[%s] %s: %s\n", level, msg, strerror(err));
	else
		fprintf(stderr, "[%s] %s\n", level, msg);
}

void
log_warn(const char *fmt, ...)
{
	int	err = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg("WARNING", err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg("WARNING", 0, fmt, ap);
	va_end(ap);
}

void
log_errorx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg("ERROR", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vmsg("INFO", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vmsg("DEBUG", 0, fmt, ap);
	va_end(ap);
}

void
log_at(const char *level, const char *fmt, ...)
{
	va_list	ap;

	if ((strcmp(level, "INFO") == 0 && log_quiet) ||
	    (strcmp(level, "DEBUG") == 0 && !log_debug_on))
		return;
	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int	err = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg("FATAL", err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg("FATAL", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
