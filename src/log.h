/* log.h -- the four log verbs plus info and debug, in CoreDNS's "[LEVEL] " format. */
#ifndef PETDNS_LOG_H
#define PETDNS_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* debug: print log_debug lines; quiet: drop info lines. */
void	log_init(int debug, int quiet);
/* Messages with errno's text appended. */
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
/* "[ERROR] ...": what CoreDNS's errors directive prints, for log scrapers. */
void	log_errorx(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
/* At a level named by its tag: "ERROR", "WARNING", "INFO" or "DEBUG". */
void	log_at(const char *level, const char *, ...) LOG_PRINTF(2, 3);
/* Startup only: log and exit(1). fatal appends errno's text. */
_Noreturn void fatal(const char *, ...) LOG_PRINTF(1, 2);
_Noreturn void fatalx(const char *, ...) LOG_PRINTF(1, 2);

#endif
