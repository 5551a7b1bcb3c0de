/* admin.h -- the health, ready and prometheus directives: /health, /ready and /metrics over evhttp. */
#ifndef PETDNS_ADMIN_H
#define PETDNS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct admin;
struct corefile_line;
struct event_base;
struct explain;
struct metrics;

/*
 * Directive parsers, with CoreDNS's syntax and defaults. ADDR is HOST:PORT
 * as Go's net.SplitHostPort takes it: ":8080", "0.0.0.0:8080",
 * "[::]:8080", "localhost:8080"; the port is a number (0 picks a free
 * one). *addr gets a new string, the default when ADDR is absent. Return
 * 0, or -1 with err filled ("FILE:LINE: health: ...").
 */
/* health [ADDR] { lameduck DURATION }: ":8080", no lameduck. */
int	admin_health_parse(const struct corefile_line *, char **addr,
	    int *lameduck_ms, char *err, size_t errlen);
/* ready [ADDR] { monitor until-ready|continuously }: ":8181", until-ready. */
int	admin_ready_parse(const struct corefile_line *, char **addr,
	    bool *continuously, char *err, size_t errlen);
/* prometheus [ADDR] { runtime_metrics }: "localhost:9153", as CoreDNS. */
int	admin_prometheus_parse(const struct corefile_line *, char **addr,
	    char *err, size_t errlen);

/*
 * The endpoints, served on base's thread. m is borrowed and must outlive
 * the admin; NULL serves an empty /metrics.
 */
struct admin *admin_new(struct event_base *, struct metrics *m);
/* Closes the listeners; a pending lameduck callback never runs. */
void	admin_free(struct admin *);

/*
 * Serve /health (with CoreDNS's once-a-second self-check feeding
 * coredns_health_*), /ready and /metrics on addr. Directives naming the
 * same address, of any of the three kinds, share one listener (CoreDNS
 * shares per kind); other paths answer 404. Sockets use SO_REUSEPORT, as
 * CoreDNS's, so a reloaded admin can bind before the old one closes.
 * Returns 0, or -1 with err filled ("listen tcp :8080: bind: Address
 * already in use"). Blocks while resolving a host name.
 */
int	admin_listen_health(struct admin *, const char *addr,
	    int lameduck_ms, char *err, size_t errlen);
/* continuously: re-ask ready checks that said yes (ready's monitor). */
int	admin_listen_ready(struct admin *, const char *addr,
	    bool continuously, char *err, size_t errlen);
int	admin_listen_prometheus(struct admin *, const char *addr, char *err,
	    size_t errlen);
/* The port bound for addr, spelled as given to admin_listen_*; 0 if none. */
uint16_t admin_port(const struct admin *, const char *addr);

/*
 * Adds a readiness check (kubernetes: its reflectors have synced). /ready
 * answers 200 "OK" when every check says ready, else 503 with the sorted
 * names of those that do not ("kubernetes"). fn(arg) runs on base's
 * thread at each /ready until it first says yes (unless continuously);
 * name is copied, arg borrowed and must outlive the admin.
 */
void	admin_add_ready(struct admin *, const char *name,
	    bool (*fn)(void *), void *arg);

/*
 * Serves /explain?name=NAME[&type=TYPE][&format=json|text] on the listener
 * of addr (a health address): fn(arg, name, type, err, errlen) makes the
 * explanation, or returns NULL with err filled (400). The answer is JSON
 * when format=json, or without format when Accept names application/json;
 * else plain text. fn and arg are the same for every address; arg is
 * borrowed and must outlive the admin.
 */
typedef struct explain *(*admin_explain_fn)(void *arg, const char *name,
	    const char *type, char *err, size_t errlen);
void	admin_add_explain(struct admin *, const char *addr, admin_explain_fn,
	    void *arg);

/* The longest lameduck of the health directives; 0 when none. */
int	admin_lameduck_ms(const struct admin *);
/*
 * Shutdown begins: /ready answers 503 "Shutting down" while /health and
 * /metrics keep answering, as in CoreDNS. done(arg), if done is not
 * NULL, runs on base's thread after admin_lameduck_ms (from the loop even
 * when 0); keep serving queries until then. Later calls do nothing.
 */
void	admin_lameduck(struct admin *, void (*done)(void *), void *arg);

#endif
