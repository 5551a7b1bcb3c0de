/* forward_config.c -- the forward directive's Corefile syntax, CoreDNS's defaults and checks, resolv.conf files. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corefile.h"
#include "forward.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define FORWARD_DEFAULT_EXPIRE_MS	10000
#define FORWARD_DEFAULT_MAX_FAILS	2
#define FORWARD_DEFAULT_HC_MS		500

/* Parses one option line into the config; fills err and returns -1. */
typedef int	fwd_option_fn(struct forward_config *,
		    const struct corefile_line *, char *, size_t);

struct fwd_option {
	const char *name;
	size_t	 min;		/* argument counts */
	size_t	 max;
	fwd_option_fn *parse;
};

static fwd_option_fn fwd_except, fwd_expire, fwd_force_tcp, fwd_health_check,
	    fwd_max_concurrent, fwd_max_fails, fwd_policy, fwd_prefer_udp,
	    fwd_unsupported;

/*
 * CoreDNS's options; a repeated option overrides (except adds), as there.
 * The TLS ones are recognised so that the error says what is missing.
 */
static const struct fwd_option fwd_options[] = {
	{ "except",		1, SIZE_MAX,	fwd_except },
	{ "expire",		1, 1,		fwd_expire },
	{ "force_tcp",		0, 0,		fwd_force_tcp },
	{ "health_check",	1, 4,		fwd_health_check },
	{ "max_concurrent",	1, 1,		fwd_max_concurrent },
	{ "max_fails",		1, 1,		fwd_max_fails },
	{ "policy",		1, 1,		fwd_policy },
	{ "prefer_udp",		0, 0,		fwd_prefer_udp },
	{ "tls",		0, 3,		fwd_unsupported },
	{ "tls_servername",	1, 1,		fwd_unsupported },
};

/* Newer CoreDNS options petdns does not implement (yet). */
static const char *const fwd_later[] = {
	"doh_method", "failfast_all_unhealthy_upstreams", "failover",
	"max_age", "max_connect_attempts", "max_idle_conns", "next",
	"next_on_nodata", "resolver",
};

static int
option_duration(const struct corefile_line *o, int *ms, char *err,
    size_t errlen)
{
	const char *a = corefile_arg(o, 0);

	bool		 neg;

	switch (!corefile_duration(a, ms, &neg) ? -1 : neg ? -2 : 0) {
	case -1:
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option '%s': invalid duration '%s' (as 10s, "
		    "500ms or 1m30s)", corefile_name(o), a);
	case -2:
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option '%s': can't be negative: %s",
		    corefile_name(o), a);
	}
	return 0;
}

static int
fwd_except(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a;
	char	 why[64], *z;
	size_t	 i;

	for (i = 0; (a = corefile_arg(o, i)) != NULL; i++) {
		if ((z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "forward option 'except': '%s': %s", a, why);
		xstrv_push(&fc->except, &fc->nexcept, z);
	}
	return 0;
}

static int
fwd_expire(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return option_duration(o, &fc->expire_ms, err, errlen);
}

static int
fwd_force_tcp(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	fc->force_tcp = true;
	return 0;
}

static int
fwd_prefer_udp(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	fc->prefer_udp = true;
	return 0;
}

/* health_check DURATION [no_rec] [domain FQDN] */
static int
fwd_health_check(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a;
	char	 why[64], *z;
	size_t	 i;

	if (option_duration(o, &fc->hc_interval_ms, err, errlen) == -1)
		return -1;
	free(fc->hc_domain);
	fc->hc_domain = xstrdup(".");
	for (i = 1; (a = corefile_arg(o, i)) != NULL; i++) {
		if (strcmp(a, "no_rec") == 0) {
			fc->hc_recursion = false;
			continue;
		}
		if (strcmp(a, "domain") != 0)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "forward option 'health_check': unknown option "
			    "'%s' (no_rec or domain FQDN)", a);
		if ((a = corefile_arg(o, ++i)) == NULL)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "forward option 'health_check': domain needs a "
			    "name");
		if (strchr(a, '/') != NULL || strchr(a, ':') != NULL ||
		    (z = corefile_zone(a, why, sizeof(why))) == NULL)
			return corefile_errf(corefile_pos(o), err, errlen,
			    "forward option 'health_check': invalid domain "
			    "name '%s'", a);
		free(fc->hc_domain);
		fc->hc_domain = z;
	}
	return 0;
}

/* Digits only, as strconv.ParseUint and Atoi (with its sign) take them. */
static bool
number_parse(const char *s, bool sign, long long max, long long *v)
{
	bool	 neg = false;
	size_t	 n;

	if (sign && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	n = strlen(s);
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return false;
	*v = strtoll(s, NULL, 10);
	if (*v > max)
		return false;
	if (neg)
		*v = -*v;
	return true;
}

static int
fwd_max_fails(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	long long v;

	if (!number_parse(corefile_arg(o, 0), false, UINT32_MAX, &v))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option 'max_fails': invalid number '%s' "
		    "(0..%u)", corefile_arg(o, 0), UINT32_MAX);
	fc->max_fails = (uint32_t)v;
	return 0;
}

static int
fwd_max_concurrent(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	long long v;

	if (!number_parse(corefile_arg(o, 0), true, INT_MAX, &v))
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option 'max_concurrent': invalid number '%s'",
		    corefile_arg(o, 0));
	if (v < 0)
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option 'max_concurrent': can't be negative: %lld",
		    v);
	fc->max_concurrent = (int)v;
	return 0;
}

static int
fwd_policy(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const char *a = corefile_arg(o, 0);

	if (strcmp(a, "random") == 0)
		fc->policy = FORWARD_RANDOM;
	else if (strcmp(a, "round_robin") == 0)
		fc->policy = FORWARD_ROUND_ROBIN;
	else if (strcmp(a, "sequential") == 0)
		fc->policy = FORWARD_SEQUENTIAL;
	else
		return corefile_errf(corefile_pos(o), err, errlen,
		    "forward option 'policy': unknown policy '%s' (random, "
		    "round_robin or sequential)", a);
	return 0;
}

static int
fwd_unsupported(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	return corefile_errf(corefile_pos(o), err, errlen,
	    "forward option '%s': not supported by petdns (no DNS over TLS)",
	    corefile_name(o));
}

static int
fwd_option(struct forward_config *fc, const struct corefile_line *o,
    char *err, size_t errlen)
{
	const struct corefile_pos *pos = corefile_pos(o);
	const char *name = corefile_name(o);
	size_t	 i, n = corefile_nargs(o);

	for (i = 0; i < nitems(fwd_later); i++)
		if (strcmp(fwd_later[i], name) == 0)
			return corefile_errf(pos, err, errlen,
			    "forward option '%s': not supported by petdns",
			    name);
	for (i = 0; i < nitems(fwd_options); i++)
		if (strcmp(fwd_options[i].name, name) == 0)
			break;
	if (i == nitems(fwd_options))
		return corefile_errf(pos, err, errlen,
		    "forward: unknown property '%s'", name);
	if (corefile_has_block(o))
		return corefile_errf(pos, err, errlen,
		    "forward option '%s': takes no block", name);
	if (n < fwd_options[i].min || n > fwd_options[i].max)
		return corefile_errf(pos, err, errlen,
		    "forward option '%s': wrong number of arguments (%zu)",
		    name, n);
	return fwd_options[i].parse(fc, o, err, errlen);
}

static bool
resolv_field(char **line, const char **word)
{
	*line += strspn(*line, " \t\r\n");
	if (**line == '\0')
		return false;
	*word = *line;
	*line += strcspn(*line, " \t\r\n");
	if (**line != '\0')
		*(*line)++ = '\0';
	return true;
}

/* An IP literal, an IPv6 one possibly with a %zone. */
static bool
ip_parse(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return false;
	if (ss != NULL) {
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		*sslen = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return true;
}

int
forward_resolvconf(const char *path, char ***servers, size_t *n, char *err,
    size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL, *line;
	const char *key, *addr;
	size_t	 cap = 0;

	*servers = NULL;
	*n = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&buf, &cap, fp) != -1) {
		line = buf;
		if (!resolv_field(&line, &key) ||
		    strcmp(key, "nameserver") != 0 ||
		    !resolv_field(&line, &addr) ||
		    !ip_parse(addr, "53", NULL, NULL))
			continue;
		xstrv_push(servers, n, xstrdup(addr));
	}
	free(buf);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(fp);
		xstrv_free(*servers, *n);
		*servers = NULL;
		*n = 0;
		return -1;
	}
	fclose(fp);
	return 0;
}

static int
upstream_add(struct forward_config *fc, const char *host, const char *port,
    const char *to)
{
	struct forward_upstream *u;

	if (fc->nto == FORWARD_MAX_UPSTREAMS)
		return -1;
	fc->to = xreallocarray(fc->to, fc->nto + 1, sizeof(*fc->to));
	u = &fc->to[fc->nto];
	memset(u, 0, sizeof(*u));
	if (!ip_parse(host, port, &u->addr, &u->addrlen))
		return -2;
	u->to = xstrdup(to);
	fc->nto++;
	return 0;
}

/* Go's net.JoinHostPort for the metrics label. */
static char *
join_host_port(const char *host, const char *port)
{
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%s", host, port);
	return xasprintf("%s:%s", host, port);
}

static int
add_checked(struct forward_config *fc, const struct corefile_line *l,
    const char *host, const char *port, char *err, size_t errlen)
{
	char	*to = join_host_port(host, port);
	int	 rv = upstream_add(fc, host, port, to);

	free(to);
	if (rv == -1)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: more than %d upstreams configured",
		    FORWARD_MAX_UPSTREAMS);
	if (rv == -2)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: invalid upstream address '%s' port '%s'", host,
		    port);
	return 0;
}

static int
add_file(struct forward_config *fc, const struct corefile_line *l,
    const char *dir, const char *name, char *err, size_t errlen)
{
	const char *file = corefile_pos(l)->file, *slash;
	char	*path, **servers, why[512];
	size_t	 i, n;
	int	 rv = 0;

	if (name[0] == '/')
		path = xstrdup(name);
	else if (dir != NULL)
		path = xasprintf("%s/%s", dir, name);
	else if ((slash = strrchr(file, '/')) != NULL)
		path = xasprintf("%.*s/%s", (int)(slash - file), file, name);
	else
		path = xstrdup(name);
	if (forward_resolvconf(path, &servers, &n, why, sizeof(why)) == -1) {
		free(path);
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: '%s' is not an IP address or file (%s)", name,
		    why);
	}
	for (i = 0; i < n && rv == 0; i++)
		rv = add_checked(fc, l, servers[i], "53", err, errlen);
	xstrv_free(servers, n);
	free(path);
	return rv;
}

/*
 * One TO, as CoreDNS's parse.HostPortOrFile: [dns://]IP, [dns://]IP:PORT,
 * [dns://][IPv6]:PORT, or a resolv.conf file; other transports refused.
 */
static int
add_to(struct forward_config *fc, const struct corefile_line *l,
    const char *dir, const char *arg, char *err, size_t errlen)
{
	const char *s = arg, *colon, *scheme;
	char	*host, port[8];
	size_t	 plen;
	int	 rv;

	if (strncmp(s, "dns://", 6) == 0)
		s += 6;
	else if ((scheme = strstr(s, "://")) != NULL)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: '%.*s' is not supported as a destination "
		    "protocol by petdns: %s", (int)(scheme - s), s, arg);
	if (ip_parse(s, "53", NULL, NULL))
		return add_checked(fc, l, s, "53", err, errlen);
	colon = strrchr(s, ':');
	if (colon == NULL || (s[0] != '[' && strchr(s, ':') != colon) ||
	    (s[0] == '[' && colon[-1] != ']'))
		return add_file(fc, l, dir, s, err, errlen);
	if (s[0] == '[')
		host = xstrndup(s + 1, colon - s - 2);
	else
		host = xstrndup(s, colon - s);
	if (!ip_parse(host, "53", NULL, NULL)) {
		free(host);
		return add_file(fc, l, dir, s, err, errlen);
	}
	plen = strlen(colon + 1);
	if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") != plen ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535) {
		free(host);
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: invalid port in '%s' (1..65535)", arg);
	}
	snprintf(port, sizeof(port), "%d", atoi(colon + 1));
	rv = upstream_add(fc, host, port, s);
	free(host);
	if (rv == -1)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: more than %d upstreams configured",
		    FORWARD_MAX_UPSTREAMS);
	if (rv == -2)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: invalid upstream '%s'", arg);
	return 0;
}

/* FROM as CoreDNS takes it (plugin.Host): an optional dns:// and :port around the zone. */
static char *
forward_from(const char *arg, char *why, size_t whylen)
{
	const char	*s = strncmp(arg, "dns://", 6) == 0 ? arg + 6 : arg;
	const char	*colon = strrchr(s, ':');
	char		*host, *z;

	/* A port only after a name or IPv4 address: IPv6 CIDRs hold colons. */
	if (colon != NULL && strchr(s, ':') == colon &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    colon[1] != '\0')
		host = xstrndup(s, (size_t)(colon - s));
	else
		host = xstrdup(s);
	z = corefile_zone(host, why, whylen);
	free(host);
	return z;
}

static int
parse_line(struct forward_config *fc, const struct corefile_line *l,
    const char *dir, char *err, size_t errlen)
{
	const struct corefile_line *o;
	const char *a;
	char	 why[64];
	size_t	 i;

	if (corefile_nargs(l) < 2)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: wrong number of arguments (want FROM TO...)");
	if ((fc->from = forward_from(corefile_arg(l, 0), why,
	    sizeof(why))) == NULL)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: FROM '%s': %s", corefile_arg(l, 0), why);
	for (i = 1; (a = corefile_arg(l, i)) != NULL; i++)
		if (add_to(fc, l, dir, a, err, errlen) == -1)
			return -1;
	if (fc->nto == 0)
		return corefile_errf(corefile_pos(l), err, errlen,
		    "forward: no nameservers found");
	for (o = corefile_options(l); o != NULL; o = corefile_next(o))
		if (fwd_option(fc, o, err, errlen) == -1)
			return -1;
	return 0;
}

int
forward_config_parse(const struct corefile_line *l, const char *dir,
    struct forward_config **out, char *err, size_t errlen)
{
	struct forward_config *fc;

	fc = xcalloc(1, sizeof(*fc));
	fc->expire_ms = FORWARD_DEFAULT_EXPIRE_MS;
	fc->max_fails = FORWARD_DEFAULT_MAX_FAILS;
	fc->hc_interval_ms = FORWARD_DEFAULT_HC_MS;
	fc->hc_recursion = true;
	fc->hc_domain = xstrdup(".");
	fc->policy = FORWARD_RANDOM;
	fc->file = xstrdup(corefile_pos(l)->file);
	fc->line = corefile_pos(l)->line;
	if (parse_line(fc, l, dir, err, errlen) == -1) {
		forward_config_free(fc);
		*out = NULL;
		return -1;
	}
	*out = fc;
	return 0;
}

void
forward_config_free(struct forward_config *fc)
{
	size_t	 i;

	if (fc == NULL)
		return;
	free(fc->from);
	xstrv_free(fc->except, fc->nexcept);
	for (i = 0; i < fc->nto; i++)
		free(fc->to[i].to);
	free(fc->to);
	free(fc->hc_domain);
	free(fc->file);
	free(fc);
}
