/* config.c -- the directive table: Corefile blocks -> struct config, CoreDNS's defaults and checks. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <regex.h>

#include "admin.h"
#include "cache.h"
#include "config.h"
#include "corefile.h"
#include "forward.h"
#include "log.h"
#include "selector.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define DEFAULT_PORT	53
#define K8S_DEFAULT_TTL	5
#define K8S_MAX_TTL	3600
#define K8S_DEFAULT_STARTUP_MS	5000

/* Parses one directive line into its server; fills err and returns -1. */
typedef int	directive_fn(struct config_server *,
		    const struct corefile_line *, char *, size_t);

struct directive {
	const char *name;
	directive_fn *parse;
	bool	 once;		/* CoreDNS's "only once per Server Block" */
};

static directive_fn dir_bind, dir_cache, dir_errors, dir_forward,
	    dir_health, dir_kubernetes, dir_loadbalance, dir_prometheus, dir_ready,
	    dir_log, dir_loop, dir_reload, dir_whoami;

/*
 * The directives petdns knows, in CoreDNS's plugin.cfg order: a query
 * passes a block's directives in this order, whatever the file order. A new
 * directive is one more entry at its plugin.cfg place; petdns's subset runs
 * reload, bind, ready, health, prometheus, errors, log, loadbalance, cache,
 * kubernetes, loop, forward, whoami.
 */
static const struct directive directives[] = {
	{ "reload",	dir_reload,	true },
	{ "bind",	dir_bind,	false },
	{ "ready",	dir_ready,	true },
	{ "health",	dir_health,	false },
	{ "prometheus",	dir_prometheus,	true },
	{ "errors",	dir_errors,	true },
	{ "log",	dir_log,	false },
	{ "loadbalance", dir_loadbalance, true },
	{ "cache",	dir_cache,	true },
	{ "kubernetes",	dir_kubernetes,	true },
	{ "loop",	dir_loop,	true },
	{ "forward",	dir_forward,	false },
	{ "whoami",	dir_whoami,	true },
};

/* Parses one kubernetes option line; fills err and returns -1. */
typedef int	k8s_option_fn(struct config_kubernetes *,
		    const struct corefile_line *, char *, size_t);

struct k8s_option {
	const char *name;
	size_t	 min;		/* argument counts */
	size_t	 max;
	k8s_option_fn *parse;
};

static k8s_option_fn k8s_endpoint, k8s_endpoint_pod_names, k8s_explain,
	    k8s_fallthrough, k8s_ignore, k8s_kubeconfig, k8s_labels,
	    k8s_manifests, k8s_namespace_labels, k8s_namespaces, k8s_noendpoints,
	    k8s_petsets, k8s_pods, k8s_startup_timeout, k8s_tls, k8s_ttl;

static const struct k8s_option k8s_options[] = {
	{ "endpoint",		1, SIZE_MAX,	k8s_endpoint },
	{ "endpoint_pod_names",	0, 0,		k8s_endpoint_pod_names },
	{ "explain",		0, 0,		k8s_explain },
	{ "fallthrough",	0, SIZE_MAX,	k8s_fallthrough },
	{ "ignore",		1, 1,		k8s_ignore },
	{ "kubeconfig",		1, 2,		k8s_kubeconfig },
	{ "labels",		1, SIZE_MAX,	k8s_labels },
	{ "manifests",		1, 1,		k8s_manifests },
	{ "namespace_labels",	1, SIZE_MAX,	k8s_namespace_labels },
	{ "namespaces",		1, SIZE_MAX,	k8s_namespaces },
	{ "noendpoints",	0, 0,		k8s_noendpoints },
	{ "petsets",		0, 1,		k8s_petsets },
	{ "pods",		1, 1,		k8s_pods },
	{ "startup_timeout",	1, 1,		k8s_startup_timeout },
	{ "tls",		3, 3,		k8s_tls },
	{ "ttl",		1, 1,		k8s_ttl },
};

static bool
strv_has(char **v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* True when zone equals parent or lies below it. */
static bool
zone_within(const char *zone, const char *parent)
{
	size_t	 zl = strlen(zone), pl = strlen(parent);

	if (strcmp(parent, ".") == 0 || strcmp(zone, parent) == 0)
		return true;
	return zl > pl && zone[zl - pl - 1] == '.' &&
	    strcmp(zone + zl - pl, parent) == 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	size_t	 n = strlen(s);
	long	 v;

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -1;
	v = strtol(s, NULL, 10);
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Splits "[dns://]ZONE[:PORT]". As in CoreDNS, a CIDR's colons come before
 * its "/", so only a colon after the mask can start the port.
 */
static char *
parse_key(const char *key, uint16_t *port, char *why, size_t whylen)
{
	const char *s = key, *colon, *slash;
	char	*host, *zone;

	if (strncasecmp(s, "dns://", 6) == 0)
		s += 6;
	else if (strstr(s, "://") != NULL) {
		snprintf(why, whylen, "unsupported transport (only dns://)");
		return NULL;
	}
	colon = strrchr(s, ':');
	slash = strchr(s, '/');
	*port = DEFAULT_PORT;
	if (colon != NULL && (slash == NULL || colon > slash)) {
		if (parse_port(colon + 1, port) == -1) {
			snprintf(why, whylen, "invalid port '%s' (1..65535)",
			    colon + 1);
			return NULL;
		}
	} else
		colon = s + strlen(s);
	if (colon == s) {
		snprintf(why, whylen, "missing zone");
		return NULL;
	}
	host = xstrndup(s, colon - s);
	zone = corefile_zone(host, why, whylen);
	free(host);
	return zone;
}

/* The zone:port must not be served by an earlier block, as in CoreDNS. */
static int
check_dup_zone(const struct config *cfg, const struct config_server *srv,
    const char *zone, const struct corefile_pos *pos, char *err, size_t errlen)
{
	size_t	 i;

	if (strv_has(srv->zones, srv->nzones, zone))
		return corefile_errf(pos, err, errlen,
		    "zone '%s' listed twice in one server block", zone);
	for (i = 0; i < cfg->nservers && &cfg->servers[i] != srv; i++)
		if (cfg->servers[i].port == srv->port && strv_has(
		    cfg->servers[i].zones, cfg->servers[i].nzones, zone))
			return corefile_errf(pos, err, errlen,
			    "zone '%s' port %u is already served by the block "
			    "at %s:%d", zone, srv->port, cfg->servers[i].file,
			    cfg->servers[i].line);
	return 0;
}

static int
server_keys(const struct config *cfg, struct config_server *srv,
    const struct corefile_block *b, char *err, size_t errlen)
{
	const struct corefile_pos *pos;
	const char *key;
	char	 why[128], *zone;
	uint16_t port;
	size_t	 i;

	for (i = 0; (key = corefile_key(b, i, &pos)) != NULL; i++) {
		if ((zone = parse_key(key, &port, why, sizeof(why))) == NULL)
			return corefile_errf(pos, err, errlen,
			    "server block key '%s': %s", key, why);
		if (i > 0 && port != srv->port) {
			free(zone);
			return corefile_errf(pos, err, errlen,
			    "server block key '%s': port %u differs from the "
			    "block's port %u", key, port, srv->port);
		}
		srv->port = port;
		if (check_dup_zone(cfg, srv, zone, pos, err, errlen) == -1) {
			free(zone);
			return -1;
		}
		xstrv_push(&srv->zones, &srv->nzones, zone);
	}
	return 0;
}

static const struct directive *
directive_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(directives); i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

static int
server_directives(struct config_server *srv, const struct corefile_block *b,
    char *err, size_t errlen)
{
	const struct corefile_line *l, *seen[nitems(directives)] = { NULL };
	const struct corefile_pos *first;
	const struct directive *d;

	for (l = corefile_first(b); l != NULL; l = corefile_next(l)) {
		if ((d = directive_find(corefile_name(l))) == NULL)
			return corefile_errf(corefile_pos(l), err, errlen,
			    "unknown directive '%s'", corefile_name(l));
		if (d->once && seen[d - directives] != NULL) {
			first = corefile_pos(seen[d - directives]);
			return corefile_errf(corefile_pos(l), err, errlen,
			    "directive '%s' can only be used once per server "
			    "block (first at %s:%d)", d->name, first->file,
			    first->line);
		}
		seen[d - directives] = l;
		if (d->parse(srv, l, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static struct config *
config_build(const struct corefile *cf, const char *name, char *err,
    size_t errlen)
{
	const struct corefile_block *b;
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	struct config_server *srv;
	size_t	 i;

	for (i = 0; (b = corefile_block(cf, i)) != NULL; i++) {
		cfg->servers = xreallocarray(cfg->servers, cfg->nservers + 1,
		    sizeof(*cfg->servers));
		srv = &cfg->servers[cfg->nservers++];
		memset(srv, 0, sizeof(*srv));
		srv->file = xstrdup(corefile_block_pos(b)->file);
		srv->line = corefile_block_pos(b)->line;
		if (server_keys(cfg, srv, b, err, errlen) == -1 ||
		    server_directives(srv, b, err, errlen) == -1) {
			config_free(cfg);
			return NULL;
		}
	}
	if (cfg->nservers == 0) {
		corefile_errf(NULL, err, errlen, "%s: no server blocks", name);
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_parse(const char *name, const char *text, char *err, size_t errlen)
{
	struct corefile *cf;
	struct config *cfg;

	if ((cf = corefile_parse(name, text, err, errlen)) == NULL)
		return NULL;
	cfg = config_build(cf, name, err, errlen);
	corefile_free(cf);
	return cfg;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct corefile *cf;
	struct config *cfg;

	if ((cf = corefile_load(path, err, errlen)) == NULL)
		return NULL;
	cfg = config_build(cf, path, err, errlen);
	corefile_free(cf);
	return cfg;
}

void
config_set_port(struct config *cfg, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < cfg->nservers; i++)
		cfg->servers[i].port = port;
}

static void
k8s_free(struct config_kubernetes *k)
{
	if (k == NULL)
		return;
	xstrv_free(k->zones, k->nzones);
	xstrv_free(k->namespaces, k->nnamespaces);
	xstrv_free(k->fallthrough_zones, k->nfallthrough_zones);
	free(k->manifests);
	free(k->endpoint);
	free(k->tls_cert);
	free(k->tls_key);
	free(k->tls_ca);
	free(k->kubeconfig);
	free(k->kubeconfig_context);
	free(k->labels);
	free(k->namespace_labels);
	free(k->file);
	free(k);
}

void
config_free(struct config *cfg)
{
	struct config_server *srv;
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nservers; i++) {
		srv = &cfg->servers[i];
		xstrv_free(srv->zones, srv->nzones);
		xstrv_free(srv->binds, srv->nbinds);
		for (size_t l = 0; l < srv->nlogs; l++)
			xstrv_free(srv->logs[l].names, srv->logs[l].nnames);
		free(srv->logs);
		for (size_t c = 0; c < srv->nconsolidate; c++) {
			free(srv->consolidate[c].pattern);
			free(srv->consolidate[c].level);
		}
		free(srv->consolidate);
		cache_config_free(srv->cache);
		free(srv->health);
		free(srv->ready);
		free(srv->prometheus);
		for (size_t f = 0; f < srv->nforwards; f++)
			forward_config_free(srv->forwards[f]);
		free(srv->forwards);
		k8s_free(srv->kubernetes);
		free(srv->file);
	}
	free(cfg->servers);
	free(cfg);
}

const char *
config_directive(size_t i)
{
	return i < nitems(directives) ? directives[i].name : NULL;
}

/* cache: cache.c parses it; no zones given means the block's, as in CoreDNS. */
static int
dir_cache(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	struct cache_config	*c;

	if (cache_config_parse(l, &c, err, errlen) == -1)
		return -1;
	if (c->nzones == 0) {
		c->zones = xcalloc(srv->nzones, sizeof(*c->zones));
		for (size_t i = 0; i < srv->nzones; i++)
			c->zones[i] = xstrdup(srv->zones[i]);
		c->nzones = srv->nzones;
	}
	srv->cache = c;
	return 0;
}

/* health, ready, prometheus: admin.c parses them; the last health wins. */
static int
dir_health(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	char	*addr = NULL;
	int	 lameduck = 0;

	if (admin_health_parse(l, &addr, &lameduck, err, errlen) == -1)
		return -1;
	free(srv->health);
	srv->health = addr;
	srv->lameduck_ms = lameduck;
	return 0;
}

static int
dir_ready(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	return admin_ready_parse(l, &srv->ready, &srv->ready_continuously, err,
	    errlen);
}

static int
dir_prometheus(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	return admin_prometheus_parse(l, &srv->prometheus, err, errlen);
}

/* forward: forward.c parses it; several lines are tried in file order. */
static int
dir_forward(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	struct forward_config	*f;
	const char		*file = corefile_pos(l)->file;
	const char		*slash = strrchr(file, '/');
	char			*dir = slash ? xstrndup(file, (size_t)(slash - file)) :
				    xstrdup(".");
	int			 rv = forward_config_parse(l, dir, &f, err, errlen);

	free(dir);
	if (rv == -1)
		return -1;
	srv->forwards = xreallocarray(srv->forwards, srv->nforwards + 1,
	    sizeof(*srv->forwards));
	srv->forwards[srv->nforwards++] = f;
	return 0;
}

/* A directive that takes nothing: errors, loop, whoami. */
static int
dir_flag(bool *flag, const struct corefile_line *l, char *err, size_t errlen)
{
	if (corefile_nargs(l) > 0 || corefile_has_block(l))
		return corefile_errf(corefile_pos(l), err, errlen,
		    "%s: takes no arguments", corefile_name(l));
	*flag = true;
	return 0;
}

/* errors [{ stacktrace; consolidate DURATION REGEXP [LEVEL] [show_first] }] */
static int
dir_errors(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	static const char *const levels[] = { "error", "warning", "info",
	    "debug" };
	const struct corefile_line *o;

	if (corefile_nargs(l) > 0)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "errors: takes no arguments");
	srv->errors = true;
	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		struct config_consolidate c = { 0 };
		const char	*name = corefile_name(o), *a;
		regex_t		 re;
		bool		 negative;
		size_t		 i;

		if (strcmp(name, "stacktrace") == 0 && corefile_nargs(o) == 0)
			continue;	/* C has no panics to trace */
		if (strcmp(name, "consolidate") != 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "errors: unknown option '%s'", name);
		if (corefile_nargs(o) < 2 || corefile_nargs(o) > 4 ||
		    !corefile_duration(corefile_arg(o, 0), &c.ms, &negative) ||
		    negative || c.ms == 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "errors: consolidate DURATION REGEXP [LEVEL] "
			    "[show_first]");
		if (regcomp(&re, corefile_arg(o, 1), REG_EXTENDED | REG_NOSUB)
		    != 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "errors: consolidate: invalid regular expression "
			    "'%s'", corefile_arg(o, 1));
		regfree(&re);
		c.level = xstrdup("ERROR");
		for (i = 2; (a = corefile_arg(o, i)) != NULL; i++) {
			size_t	k;

			for (k = 0; k < 4 && strcasecmp(a, levels[k]) != 0; k++)
				;
			if (k < 4 && i == 2) {
				free(c.level);
				c.level = xstrdup(k == 0 ? "ERROR" : k == 1 ?
				    "WARNING" : k == 2 ? "INFO" : "DEBUG");
			} else if (strcmp(a, "show_first") == 0)
				c.show_first = true;
			else {
				free(c.level);
				return corefile_errf(corefile_pos(o), err,
				    errlen, "errors: consolidate: unknown "
				    "level '%s' (warning, error, info, debug)",
				    a);
			}
		}
		c.pattern = xstrdup(corefile_arg(o, 1));
		srv->consolidate = xreallocarray(srv->consolidate,
		    srv->nconsolidate + 1, sizeof(*srv->consolidate));
		srv->consolidate[srv->nconsolidate++] = c;
	}
	return 0;
}

static int
dir_loop(struct config_server *srv, const struct corefile_line *l, char *err,
    size_t errlen)
{
	return dir_flag(&srv->loop, l, err, errlen);
}

static int
dir_whoami(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	return dir_flag(&srv->whoami, l, err, errlen);
}

/* log [NAMES...] [FORMAT] [{ class success|denial|error|all... }] */
static int
dir_log(struct config_server *srv, const struct corefile_line *l, char *err,
    size_t errlen)
{
	struct config_log	 rule = { 0 };
	const struct corefile_line *o;
	const char		*a;
	char			 why[128], *z;

	for (size_t i = 0; (a = corefile_arg(l, i)) != NULL; i++) {
		if (strchr(a, '{') != NULL) {
			/* The format comes last; only the two CoreDNS names. */
			if (corefile_arg(l, i + 1) == NULL &&
			    (strcmp(a, "{common}") == 0 ||
			    strcmp(a, "{combined}") == 0)) {
				rule.combined = strcmp(a, "{combined}") == 0;
				break;
			}
			xstrv_free(rule.names, rule.nnames);
			return corefile_errf(corefile_pos(l), err, errlen,
			    "log: only the {common} and {combined} formats are "
			    "supported");
		}
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL) {
			xstrv_free(rule.names, rule.nnames);
			return corefile_errf(corefile_pos(l), err, errlen,
			    "log: name '%s': %s", a, why);
		}
		xstrv_push(&rule.names, &rule.nnames, z);
	}
	if (rule.nnames == 0)
		xstrv_push(&rule.names, &rule.nnames, xstrdup("."));
	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		if (strcmp(corefile_name(o), "class") != 0 ||
		    corefile_nargs(o) == 0) {
			xstrv_free(rule.names, rule.nnames);
			return corefile_errf(corefile_pos(o), err, errlen,
			    "log: unknown option '%s' (class CLASSES...)",
			    corefile_name(o));
		}
		for (size_t i = 0; (a = corefile_arg(o, i)) != NULL; i++) {
			if (strcmp(a, "success") == 0)
				rule.classes |= CONFIG_LOG_SUCCESS;
			else if (strcmp(a, "denial") == 0)
				rule.classes |= CONFIG_LOG_DENIAL;
			else if (strcmp(a, "error") == 0)
				rule.classes |= CONFIG_LOG_ERROR;
			else if (strcmp(a, "all") == 0)
				rule.classes |= CONFIG_LOG_ALL;
			else {
				xstrv_free(rule.names, rule.nnames);
				return corefile_errf(corefile_pos(o), err,
				    errlen, "log: unknown class '%s' (success, "
				    "denial, error, all)", a);
			}
		}
	}
	if (rule.classes == 0)
		rule.classes = CONFIG_LOG_ALL;
	srv->logs = xreallocarray(srv->logs, srv->nlogs + 1,
	    sizeof(*srv->logs));
	srv->logs[srv->nlogs++] = rule;
	return 0;
}

/* loadbalance [round_robin]: A, AAAA and MX records in random order. */
static int
dir_loadbalance(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	if (corefile_has_block(l) || corefile_nargs(l) > 1 ||
	    (corefile_nargs(l) == 1 && strcmp(corefile_arg(l, 0),
	    "round_robin") != 0))
		return corefile_errf(corefile_pos(l), err, errlen,
		    "loadbalance: only round_robin is supported");
	srv->loadbalance = true;
	return 0;
}

/* reload [INTERVAL] [JITTER]: defaults 30s and 15s; at least 2s. */
static int
dir_reload(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	int	 ms[2] = { 30000, 15000 };

	if (corefile_has_block(l) || corefile_nargs(l) > 2)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "reload: takes [INTERVAL] [JITTER]");
	for (size_t i = 0; i < corefile_nargs(l); i++)
		if (!corefile_duration(corefile_arg(l, i), &ms[i], NULL))
			return corefile_errf(corefile_pos(l), err, errlen,
			    "reload: invalid duration '%s'",
			    corefile_arg(l, i));
	if (ms[0] < 2000)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "reload: interval must be at least 2s");
	srv->reload_ms = ms[0];
	srv->reload_jitter_ms = ms[1] < ms[0] / 2 ? ms[1] : ms[0] / 2;
	return 0;
}

/* bind ADDR...: IP addresses only; CoreDNS's interface names are not yet. */
/* An interface's addresses (IPv6 link-local ones need a scope: left out). Returns how many. */
static size_t
bind_iface(struct config_server *srv, const char *name)
{
	struct ifaddrs	*all, *ifa;
	char		 text[INET6_ADDRSTRLEN];
	size_t		 n = 0;

	if (getifaddrs(&all) == -1)
		return 0;
	for (ifa = all; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;
		const void	*addr;

		if (sa == NULL || strcmp(ifa->ifa_name, name) != 0)
			continue;
		if (sa->sa_family == AF_INET)
			addr = &((const struct sockaddr_in *)(const void *)sa)->
			    sin_addr;
		else if (sa->sa_family == AF_INET6 &&
		    !IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr))
			addr = &((const struct sockaddr_in6 *)(const void *)sa)->
			    sin6_addr;
		else
			continue;
		inet_ntop(sa->sa_family, addr, text, sizeof(text));
		if (!strv_has(srv->binds, srv->nbinds, text))
			xstrv_push(&srv->binds, &srv->nbinds, xstrdup(text));
		n++;
	}
	freeifaddrs(all);
	return n;
}

/* bind ADDRESS|IFACE... [{ except ADDRESS... }] */
static int
dir_bind(struct config_server *srv, const struct corefile_line *l, char *err,
    size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(l);
	const struct corefile_line *o;
	unsigned char ip[16];
	const char *a;
	size_t	 i, j;

	if (corefile_nargs(l) == 0)
		return corefile_errf(pos, err, errlen,
		    "bind: needs at least one address");
	for (i = 0; (a = corefile_arg(l, i)) != NULL; i++) {
		if (inet_pton(AF_INET, a, ip) != 1 &&
		    inet_pton(AF_INET6, a, ip) != 1) {
			if (bind_iface(srv, a) == 0)
				return corefile_errf(pos, err, errlen,
				    "bind: '%s' is neither an IP address nor "
				    "an interface with one", a);
		} else if (!strv_has(srv->binds, srv->nbinds, a))
			xstrv_push(&srv->binds, &srv->nbinds, xstrdup(a));
	}
	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		if (strcmp(corefile_name(o), "except") != 0 ||
		    corefile_nargs(o) == 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "bind: unknown option '%s' (except ADDRESS...)",
			    corefile_name(o));
		for (i = 0; (a = corefile_arg(o, i)) != NULL; i++)
			for (j = 0; j < srv->nbinds; j++)
				if (strcmp(srv->binds[j], a) == 0) {
					free(srv->binds[j]);
					srv->binds[j] = srv->binds[--srv->nbinds];
					break;
				}
	}
	if (srv->nbinds == 0)
		return corefile_errf(pos, err, errlen,
		    "bind: every address is excepted");
	return 0;
}

/* The directive's zones must lie within the block's, else none would match. */
static int
k8s_zones(struct config_kubernetes *k, const struct config_server *srv,
    const struct corefile_line *l, char *err, size_t errlen)
{
	const char *a;
	char	 why[128], *z;
	size_t	 i, j;

	for (i = 0; i < srv->nzones && corefile_nargs(l) == 0; i++)
		xstrv_push(&k->zones, &k->nzones, xstrdup(srv->zones[i]));
	for (i = 0; (a = corefile_arg(l, i)) != NULL; i++) {
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(corefile_pos(l), err, errlen,
			    "kubernetes: zone '%s': %s", a, why);
		for (j = 0; j < srv->nzones; j++)
			if (zone_within(z, srv->zones[j]))
				break;
		if (j == srv->nzones) {
			free(z);
			return corefile_errf(corefile_pos(l), err, errlen,
			    "kubernetes: zone '%s' is not within the server "
			    "block's zones", a);
		}
		xstrv_push(&k->zones, &k->nzones, z);
	}
	return 0;
}

static const struct k8s_option *
k8s_option_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(k8s_options); i++)
		if (strcmp(k8s_options[i].name, name) == 0)
			return &k8s_options[i];
	return NULL;
}

/* Checks what the option table can: name, block, argument count, repeats. */
static const struct k8s_option *
k8s_option_check(const struct corefile_line *o, bool *seen, char *err,
    size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const struct k8s_option *opt;
	const char *name = corefile_name(o);
	size_t	 n = corefile_nargs(o);

	if ((opt = k8s_option_find(name)) == NULL)
		corefile_errf(pos, err, errlen,
		    "kubernetes: unknown option '%s'", name);
	else if (corefile_has_block(o))
		corefile_errf(pos, err, errlen,
		    "kubernetes option '%s': takes no block", name);
	else if (n < opt->min || n > opt->max)
		corefile_errf(pos, err, errlen,
		    "kubernetes option '%s': wrong number of arguments (%zu)",
		    name, n);
	else if (seen[opt - k8s_options])
		corefile_errf(pos, err, errlen,
		    "kubernetes option '%s': given twice", name);
	else {
		seen[opt - k8s_options] = true;
		return opt;
	}
	return NULL;
}

static int
dir_kubernetes(struct config_server *srv, const struct corefile_line *l,
    char *err, size_t errlen)
{
	const struct corefile_line *o;
	const struct k8s_option *opt;
	struct config_kubernetes *k;
	bool	 seen[nitems(k8s_options)] = { false };

	k = xcalloc(1, sizeof(*k));
	k->ttl = K8S_DEFAULT_TTL;
	k->pods = PODS_DISABLED;
	k->startup_timeout_ms = K8S_DEFAULT_STARTUP_MS;
	k->kubelet_delay_ms = 1000;
	k->file = xstrdup(corefile_pos(l)->file);
	k->line = corefile_pos(l)->line;
	srv->kubernetes = k;	/* config_free frees it on error */
	if (k8s_zones(k, srv, l, err, errlen) == -1)
		return -1;
	for (o = corefile_options(l); o != NULL; o = corefile_next(o)) {
		if ((opt = k8s_option_check(o, seen, err, errlen)) == NULL)
			return -1;
		if (opt->parse(k, o, err, errlen) == -1)
			return -1;
	}
	/* CoreDNS refuses the pair rather than pick one. */
	if (k->nnamespaces > 0 && k->namespace_labels != NULL)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "kubernetes: namespaces and namespace_labels cannot both "
		    "be set");
	return 0;
}

static int
k8s_endpoint_pod_names(struct config_kubernetes *k,
    const struct corefile_line *o, char *err, size_t errlen)
{
	k->endpoint_pod_names = k->pod_names = true;
	return 0;
}

/* explain: off by default, as the answers disclose the cluster's state. */
static int
k8s_explain(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	k->explain = k->pod_names = true;
	return 0;
}

static int
k8s_noendpoints(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	k->noendpoints = true;
	return 0;
}

/* fallthrough [ZONES...]: no zones means every zone. */
static int
k8s_fallthrough(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a;
	char	 why[128], *z;
	size_t	 i;

	k->fallthrough = true;
	for (i = 0; (a = corefile_arg(o, i)) != NULL; i++) {
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "kubernetes option 'fallthrough': zone '%s': %s",
			    a, why);
		xstrv_push(&k->fallthrough_zones, &k->nfallthrough_zones, z);
	}
	return 0;
}

static int
k8s_ignore(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	if (strcmp(corefile_arg(o, 0), "empty_service") != 0)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'ignore': unknown value '%s' "
		    "(only empty_service)", corefile_arg(o, 0));
	k->ignore_empty_service = true;
	return 0;
}

/* A relative name is relative to the file that names it, not the cwd. */
static char *
k8s_path(const struct corefile_line *o, const char *name)
{
	const char *file = corefile_pos(o)->file;
	const char *slash = strrchr(file, '/');

	if (name[0] == '/' || slash == NULL)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - file), file, name);
}

static int
k8s_manifests(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *dir = corefile_arg(o, 0);

	if (dir[0] == '\0')
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'manifests': empty directory");
	k->manifests = k8s_path(o, dir);
	return 0;
}

static int
k8s_namespaces(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a;
	size_t	 i;

	for (i = 0; (a = corefile_arg(o, i)) != NULL; i++)
		if (!strv_has(k->namespaces, k->nnamespaces, a))
			xstrv_push(&k->namespaces, &k->nnamespaces, xstrdup(a));
	return 0;
}

static int
k8s_pods(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *mode = corefile_arg(o, 0);

	if (strcmp(mode, "disabled") == 0)
		k->pods = PODS_DISABLED;
	else if (strcmp(mode, "insecure") == 0)
		k->pods = PODS_INSECURE;
	else if (strcmp(mode, "verified") == 0)
		k->pods = PODS_VERIFIED;
	else
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'pods': unknown mode '%s' "
		    "(disabled, insecure or verified)", mode);
	return 0;
}

static int
k8s_ttl(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *s = corefile_arg(o, 0);
	size_t	 n = strlen(s);

	if (n == 0 || n > 4 || strspn(s, "0123456789") != n ||
	    atoi(s) > K8S_MAX_TTL)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'ttl': '%s' is not a number in 0..%d",
		    s, K8S_MAX_TTL);
	k->ttl = (uint32_t)atoi(s);
	return 0;
}

/*
 * endpoint URL...: CoreDNS takes a list but uses only the first URL. A URL
 * without a scheme is completed later, as client-go completes it.
 */
static int
k8s_endpoint(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const char *url = corefile_arg(o, 0), *host = url, *sep;

	if ((sep = strstr(url, "://")) != NULL) {
		if (strncasecmp(url, "https://", 8) != 0 &&
		    strncasecmp(url, "http://", 7) != 0)
			return corefile_errf(pos, err, errlen,
			    "kubernetes option 'endpoint': '%s': only http:// "
			    "and https:// URLs", url);
		host = sep + 3;
	}
	if (host[0] == '\0' || host[0] == '/' || host[0] == ':')
		return corefile_errf(pos, err, errlen,
		    "kubernetes option 'endpoint': '%s' has no host", url);
	if (corefile_nargs(o) > 1)
		log_warnx("%s:%d: kubernetes option 'endpoint': multiple "
		    "endpoints are deprecated, only '%s' is used", pos->file,
		    pos->line, url);
	k->endpoint = xstrdup(url);
	return 0;
}

/* tls CERT KEY CACERT: the client certificate, its key and the API's CA. */
static int
k8s_tls(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < 3; i++)
		if (corefile_arg(o, i)[0] == '\0')
			return corefile_errf(corefile_pos(o), err, errlen,
			    "kubernetes option 'tls': empty file name");
	k->tls_cert = k8s_path(o, corefile_arg(o, 0));
	k->tls_key = k8s_path(o, corefile_arg(o, 1));
	k->tls_ca = k8s_path(o, corefile_arg(o, 2));
	return 0;
}

/* kubeconfig KUBECONFIG [CONTEXT]: an empty CONTEXT is the current one. */
static int
k8s_kubeconfig(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *ctx = corefile_arg(o, 1);

	if (corefile_arg(o, 0)[0] == '\0')
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'kubeconfig': empty file name");
	k->kubeconfig = k8s_path(o, corefile_arg(o, 0));
	if (ctx != NULL && ctx[0] != '\0')
		k->kubeconfig_context = xstrdup(ctx);
	return 0;
}

/* The arguments joined by spaces, as CoreDNS joins them, and checked. */
static int
k8s_selector(char **out, const struct corefile_line *o, char *err,
    size_t errlen)
{
	char	 why[256], *sel = xstrdup(corefile_arg(o, 0)), *t;
	struct selector *parsed;
	size_t	 i;

	for (i = 1; i < corefile_nargs(o); i++) {
		t = xasprintf("%s %s", sel, corefile_arg(o, i));
		free(sel);
		sel = t;
	}
	if ((parsed = selector_parse(sel, why, sizeof(why))) == NULL) {
		corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option '%s': invalid label selector '%s': %s",
		    corefile_name(o), sel, why);
		free(sel);
		return -1;
	}
	selector_free(parsed);
	*out = sel;
	return 0;
}

static int
k8s_labels(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return k8s_selector(&k->labels, o, err, errlen);
}

static int
k8s_namespace_labels(struct config_kubernetes *k,
    const struct corefile_line *o, char *err, size_t errlen)
{
	return k8s_selector(&k->namespace_labels, o, err, errlen);
}

/* petsets [KUBELET_DELAY]: the ordinal controller; the delay is local mode's kubelet. */
static int
k8s_petsets(struct config_kubernetes *k, const struct corefile_line *o,
    char *err, size_t errlen)
{
	k->petsets = true;
	if (corefile_nargs(o) == 1 && !corefile_duration(corefile_arg(o, 0),
	    &k->kubelet_delay_ms, NULL))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'petsets': invalid kubelet delay '%s' "
		    "(as 1s or 250ms)", corefile_arg(o, 0));
	return 0;
}

static int
k8s_startup_timeout(struct config_kubernetes *k,
    const struct corefile_line *o, char *err, size_t errlen)
{
	if (!corefile_duration(corefile_arg(o, 0), &k->startup_timeout_ms, NULL))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "kubernetes option 'startup_timeout': invalid duration "
		    "'%s' (as 5s, 500ms or 1m30s)", corefile_arg(o, 0));
	return 0;
}
