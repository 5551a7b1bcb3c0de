/* kubeconfig.c -- where the API is and how to authenticate, as client-go decides: in-cluster, kubeconfig, or the Corefile. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json.h>
#include <openssl/evp.h>

#include "config.h"
#include "kubeconfig.h"
#include "log.h"
#include "xmalloc.h"
#include "yamljson.h"

#define KUBECONFIG_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBECONFIG_MAXSIZE	(4 * 1024 * 1024)
#define KUBECONFIG_TOKEN_MAX	(64 * 1024)

/* One kubeconfig being resolved: what its messages and relative names need. */
struct kubeconfig_file {
	const char	*path;
	const char	*slash;		/* the last '/' of path, or NULL */
	char		*err;
	size_t		 errlen;
};

/* The fields of a cluster and a user that petdns reads; NULL when unset. */
struct kubeconfig_raw {
	const char	*server;
	const char	*ca;
	const char	*ca_data;
	bool		 insecure;
	const char	*cert;
	const char	*cert_data;
	const char	*key;
	const char	*key_data;
	const char	*token;
	const char	*token_file;
};

static void *kubeconfig_fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int kubeconfig_errf(struct kubeconfig_file *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills err; returns NULL for the callers' one-line failure paths. */
static void *
kubeconfig_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return NULL;
}

/* "KUBECONFIG: message"; returns -1. */
static int
kubeconfig_errf(struct kubeconfig_file *c, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	return -1;
}

static void
kubeconfig_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
kube_auth_free(struct kube_auth *a)
{
	if (a == NULL)
		return;
	free(a->server);
	free(a->ca_file);
	free(a->ca_data);
	free(a->cert_file);
	free(a->cert_data);
	free(a->key_file);
	kubeconfig_wipe_free(a->key_data);
	kubeconfig_wipe_free(a->token);
	free(a->token_file);
	free(a->namespace);
	free(a);
}

/* Reads size bytes of fd and closes it. */
static char *
kubeconfig_read_fd(int fd, const char *path, size_t size, size_t *len,
    char *err, size_t errlen)
{
	char		*buf;
	ssize_t		 r;

	buf = xmalloc(size + 1);
	while (*len < size) {
		r = read(fd, buf + *len, size - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			explicit_bzero(buf, *len);
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	buf[*len] = '\0';
	close(fd);
	return buf;
}

/*
 * The whole regular file path, NUL-terminated, at most max bytes; NULL
 * with err "PATH: reason". The caller wipes what may hold secrets.
 */
static char *
kubeconfig_read(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 st;
	int		 fd;

	*len = 0;
	/* O_NONBLOCK: a FIFO must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return kubeconfig_fail(err, errlen, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if ((size_t)st.st_size > max)
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
	else
		return kubeconfig_read_fd(fd, path, (size_t)st.st_size, len,
		    err, errlen);
	close(fd);
	return NULL;
}

/* The token in path with white space trimmed; NULL with err filled. */
char *
kubeconfig_read_token(const char *path, char *err, size_t errlen)
{
	char	*buf;
	size_t	 size, len, start = 0, n;

	if ((buf = kubeconfig_read(path, KUBECONFIG_TOKEN_MAX, &size, err,
	    errlen)) == NULL)
		return NULL;
	len = strlen(buf);
	while (start < len && strchr(" \t\r\n", buf[start]) != NULL)
		start++;
	for (n = len - start; n > 0 && strchr(" \t\r\n", buf[start + n - 1]);
	    n--)
		;
	memmove(buf, buf + start, n);
	explicit_bzero(buf + n, size - n);
	if (n == 0) {
		free(buf);
		return kubeconfig_fail(err, errlen, "%s: empty token", path);
	}
	/* A token goes into a header: control characters would inject more. */
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)buf[i])) {
			explicit_bzero(buf, n);
			free(buf);
			return kubeconfig_fail(err, errlen, "%s: the token has "
			    "white space or control characters", path);
		}
	return buf;
}

char *
kubeconfig_token(const struct kube_auth *a)
{
	char	 err[512], *tok;

	if (a->token_file == NULL)
		return a->token != NULL ? xstrdup(a->token) : NULL;
	if ((tok = kubeconfig_read_token(a->token_file, err,
	    sizeof(err))) != NULL)
		return tok;
	log_warnx("bearer token %s", err);
	/* As client-go, the static token stands in while the file fails. */
	return a->token != NULL ? xstrdup(a->token) : NULL;
}

/* What client-go opens at load: failing now names the file, not a 401. */
static int
kubeconfig_check_file(const char *path, char *why, size_t whylen)
{
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The API's base URL as client-go completes it: without a scheme, https
 * when TLS is configured, else http; no trailing slash. NULL for other
 * schemes or no host.
 */
static char *
kubeconfig_server(const char *s, bool tls)
{
	const char *sep = strstr(s, "://"), *host;
	const char *scheme = tls ? "https" : "http";
	char	*url;
	size_t	 n;

	if (sep != NULL) {
		if (sep - s == 5 && strncasecmp(s, "https", 5) == 0)
			scheme = "https";
		else if (sep - s == 4 && strncasecmp(s, "http", 4) == 0)
			scheme = "http";
		else
			return NULL;
		s = sep + 3;
	}
	host = s;
	if (strcspn(host, "/?#") == 0 || host[0] == ':')
		return NULL;
	url = xasprintf("%s://%s", scheme, host);
	n = strlen(url);
	while (n > strlen(scheme) + 3 && url[n - 1] == '/')
		url[--n] = '\0';
	return url;
}

static bool
kubeconfig_https(const char *url)
{
	return strncmp(url, "https://", 8) == 0;
}

/*
 * Base64 text, as Go's encoding/json reads []byte, to PEM text: NULL when
 * malformed, empty or holding a NUL.
 */
static char *
kubeconfig_base64(const char *in)
{
	EVP_ENCODE_CTX	*ctx;
	unsigned char	*out;
	size_t		 inlen = strlen(in);
	int		 n = 0, m = 0, ok;

	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		fatalx("out of memory (base64)");
	out = xmalloc(inlen + 4);
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)in,
	    (int)inlen) != -1 && EVP_DecodeFinal(ctx, out + n, &m) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok || n + m == 0 || memchr(out, '\0', (size_t)(n + m)) != NULL) {
		explicit_bzero(out, inlen + 4);
		free(out);
		return NULL;
	}
	out[n + m] = '\0';
	return (char *)out;
}

/* A file name from the kubeconfig: relative to the kubeconfig's directory. */
static char *
kubeconfig_path(struct kubeconfig_file *c, const char *name)
{
	if (name[0] == '/' || c->slash == NULL)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(c->slash - c->path), c->path, name);
}

/*
 * The string member key of obj (which may be NULL): NULL when absent, null
 * or empty, as Go reads it. -1 (err filled) when it is not a string.
 */
static int
kubeconfig_string(struct kubeconfig_file *c, struct json_object *obj,
    const char *where, const char *key, const char **out)
{
	struct json_object	*v;

	*out = NULL;
	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return kubeconfig_errf(c, "%s%s%s is not a string", where,
		    where[0] != '\0' ? ": " : "", key);
	if (json_object_get_string_len(v) > 0)
		*out = json_object_get_string(v);
	return 0;
}

/* True when obj has key with a value that is not null, false or empty. */
static bool
kubeconfig_has(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return false;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return json_object_object_length(v) > 0;
	case json_type_boolean:
		return json_object_get_boolean(v);
	default:
		return true;
	}
}

/*
 * Finds {name: NAME, kind: {...}} in the list (clusters, users, contexts)
 * and lends the inner mapping (NULL when it is missing or null). Returns 1
 * when found, 0 when not, -1 (err filled) when the list is malformed or
 * names it twice.
 */
static int
kubeconfig_find(struct kubeconfig_file *c, struct json_object *root,
    const char *list, const char *kind, const char *name,
    struct json_object **out)
{
	struct json_object	*arr, *item, *inner;
	const char		*n;
	size_t			 i;
	int			 found = 0;

	*out = NULL;
	if (!json_object_object_get_ex(root, list, &arr) || arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return kubeconfig_errf(c, "%s is not a list", list);
	for (i = 0; i < json_object_array_length(arr); i++) {
		item = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(item, json_type_object))
			return kubeconfig_errf(c, "%s[%zu] is not a mapping",
			    list, i);
		if (kubeconfig_string(c, item, list, "name", &n) == -1)
			return -1;
		if (n == NULL || strcmp(n, name) != 0)
			continue;
		if (found)
			return kubeconfig_errf(c, "%s \"%s\" is listed twice",
			    kind, name);
		found = 1;
		if (json_object_object_get_ex(item, kind, &inner) &&
		    inner != NULL &&
		    !json_object_is_type(inner, json_type_object))
			return kubeconfig_errf(c, "%s \"%s\": %s is not a "
			    "mapping", kind, name, kind);
		*out = inner;
	}
	return found;
}

/* What client-go could do but petdns cannot: refused, not ignored. */
static int
kubeconfig_unsupported(struct kubeconfig_file *c, struct json_object *user,
    const char *name, struct json_object *cluster, const char *cname)
{
	static const struct {
		const char *key;
		const char *what;
	} users[] = {
		{ "exec", "exec credential plugins are" },
		{ "auth-provider", "auth-provider plugins are" },
		{ "username", "username/password authentication is" },
		{ "password", "username/password authentication is" },
		{ "as", "impersonation is" },
		{ "as-uid", "impersonation is" },
		{ "as-groups", "impersonation is" },
		{ "as-user-extra", "impersonation is" },
	}, clusters[] = {
		{ "tls-server-name", "tls-server-name is" },
		{ "proxy-url", "proxy-url is" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (kubeconfig_has(user, users[i].key))
			return kubeconfig_errf(c, "user \"%s\": %s not "
			    "supported (use a token, tokenFile or client "
			    "certificate)", name, users[i].what);
	for (i = 0; i < sizeof(clusters) / sizeof(clusters[0]); i++)
		if (kubeconfig_has(cluster, clusters[i].key))
			return kubeconfig_errf(c, "cluster \"%s\": %s not "
			    "supported", cname, clusters[i].what);
	return 0;
}

static int
kubeconfig_read_cluster(struct kubeconfig_file *c, struct json_object *obj,
    const char *name, struct kubeconfig_raw *r)
{
	struct json_object	*v;
	char			 where[300];

	snprintf(where, sizeof(where), "cluster \"%s\"", name);
	if (kubeconfig_string(c, obj, where, "server", &r->server) == -1 ||
	    kubeconfig_string(c, obj, where, "certificate-authority",
	    &r->ca) == -1 ||
	    kubeconfig_string(c, obj, where, "certificate-authority-data",
	    &r->ca_data) == -1)
		return -1;
	if (obj != NULL && json_object_object_get_ex(obj,
	    "insecure-skip-tls-verify", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean))
			return kubeconfig_errf(c, "%s: insecure-skip-tls-verify "
			    "is not a boolean", where);
		r->insecure = json_object_get_boolean(v);
	}
	if (r->server == NULL)
		return kubeconfig_errf(c, "%s has no server", where);
	if (r->ca != NULL && r->ca_data != NULL)
		return kubeconfig_errf(c, "%s: certificate-authority and "
		    "certificate-authority-data are both set", where);
	if (r->insecure && (r->ca != NULL || r->ca_data != NULL))
		return kubeconfig_errf(c, "%s: insecure-skip-tls-verify with a "
		    "certificate authority", where);
	return 0;
}

static int
kubeconfig_read_user(struct kubeconfig_file *c, struct json_object *obj,
    const char *name, struct kubeconfig_raw *r)
{
	char	 where[300];

	snprintf(where, sizeof(where), "user \"%s\"", name);
	if (kubeconfig_string(c, obj, where, "token", &r->token) == -1 ||
	    kubeconfig_string(c, obj, where, "tokenFile",
	    &r->token_file) == -1 ||
	    kubeconfig_string(c, obj, where, "client-certificate",
	    &r->cert) == -1 ||
	    kubeconfig_string(c, obj, where, "client-certificate-data",
	    &r->cert_data) == -1 ||
	    kubeconfig_string(c, obj, where, "client-key", &r->key) == -1 ||
	    kubeconfig_string(c, obj, where, "client-key-data",
	    &r->key_data) == -1)
		return -1;
	if (r->cert == NULL && r->cert_data == NULL) {
		/* client-go reads a key only with a certificate. */
		r->key = r->key_data = NULL;
		return 0;
	}
	if (r->cert != NULL && r->cert_data != NULL)
		return kubeconfig_errf(c, "%s: client-certificate and "
		    "client-certificate-data are both set", where);
	if (r->key != NULL && r->key_data != NULL)
		return kubeconfig_errf(c, "%s: client-key and client-key-data "
		    "are both set", where);
	if (r->key == NULL && r->key_data == NULL)
		return kubeconfig_errf(c, "%s: client-certificate without "
		    "client-key or client-key-data", where);
	return 0;
}

/* A file named by field of entry: resolved, and openable now. */
static int
kubeconfig_file(struct kubeconfig_file *c, const char *name,
    const char *field, const char *entry, char **out)
{
	char	 why[128];

	*out = kubeconfig_path(c, name);
	if (kubeconfig_check_file(*out, why, sizeof(why)) == -1)
		return kubeconfig_errf(c, "%s: %s %s: %s", entry, field, *out,
		    why);
	return 0;
}

/* Base64 data of field of entry, decoded. */
static int
kubeconfig_data(struct kubeconfig_file *c, const char *data,
    const char *field, const char *entry, char **out)
{
	if ((*out = kubeconfig_base64(data)) == NULL)
		return kubeconfig_errf(c, "%s: %s is not base64 of PEM text",
		    entry, field);
	return 0;
}

/* The raw fields into a (over http, client-go sends no credentials). */
static int
kubeconfig_fill(struct kubeconfig_file *c, const struct kubeconfig_raw *r,
    const char *cname, const char *uname, struct kube_auth *a)
{
	char	 cl[300], us[300];

	snprintf(cl, sizeof(cl), "cluster \"%s\"", cname);
	snprintf(us, sizeof(us), "user \"%s\"", uname ? uname : "");
	a->server = kubeconfig_server(r->server, r->ca != NULL ||
	    r->ca_data != NULL || r->insecure || r->cert != NULL ||
	    r->cert_data != NULL);
	if (a->server == NULL)
		return kubeconfig_errf(c, "%s: server '%s' is not an http:// or "
		    "https:// URL", cl, r->server);
	if (!kubeconfig_https(a->server))
		return 0;
	a->insecure = r->insecure;
	if ((r->ca != NULL && kubeconfig_file(c, r->ca,
	    "certificate-authority", cl, &a->ca_file) == -1) ||
	    (r->ca_data != NULL && kubeconfig_data(c, r->ca_data,
	    "certificate-authority-data", cl, &a->ca_data) == -1) ||
	    (r->cert != NULL && kubeconfig_file(c, r->cert,
	    "client-certificate", us, &a->cert_file) == -1) ||
	    (r->cert_data != NULL && kubeconfig_data(c, r->cert_data,
	    "client-certificate-data", us, &a->cert_data) == -1) ||
	    (r->key != NULL && kubeconfig_file(c, r->key, "client-key", us,
	    &a->key_file) == -1) ||
	    (r->key_data != NULL && kubeconfig_data(c, r->key_data,
	    "client-key-data", us, &a->key_data) == -1))
		return -1;
	if (r->token != NULL)
		a->token = xstrdup(r->token);
	if (r->token_file == NULL)
		return 0;
	/* Without a static token, client-go reads the file at load. */
	if (r->token == NULL)
		return kubeconfig_file(c, r->token_file, "tokenFile", us,
		    &a->token_file);
	a->token_file = kubeconfig_path(c, r->token_file);
	return 0;
}

/* The context's cluster and user, checked and read. */
static int
kubeconfig_context(struct kubeconfig_file *c, struct json_object *root,
    const char *ctxname, struct kube_auth *a)
{
	struct json_object	*ctx, *cluster, *user = NULL;
	struct kubeconfig_raw	 r;
	const char		*cname, *uname, *ns;
	char			 where[300];
	int			 found;

	memset(&r, 0, sizeof(r));
	snprintf(where, sizeof(where), "context \"%s\"", ctxname);
	if ((found = kubeconfig_find(c, root, "contexts", "context", ctxname,
	    &ctx)) <= 0)
		return found == 0 ? kubeconfig_errf(c, "%s not found", where) :
		    -1;
	if (kubeconfig_string(c, ctx, where, "cluster", &cname) == -1 ||
	    kubeconfig_string(c, ctx, where, "user", &uname) == -1 ||
	    kubeconfig_string(c, ctx, where, "namespace", &ns) == -1)
		return -1;
	if (cname == NULL)
		return kubeconfig_errf(c, "%s names no cluster", where);
	if ((found = kubeconfig_find(c, root, "clusters", "cluster", cname,
	    &cluster)) <= 0)
		return found == 0 ? kubeconfig_errf(c, "cluster \"%s\" of %s "
		    "not found", cname, where) : -1;
	/* No user is anonymous; a user named but missing is a mistake. */
	if (uname != NULL && (found = kubeconfig_find(c, root, "users",
	    "user", uname, &user)) <= 0)
		return found == 0 ? kubeconfig_errf(c, "user \"%s\" of %s not "
		    "found", uname, where) : -1;
	if (kubeconfig_read_cluster(c, cluster, cname, &r) == -1 ||
	    kubeconfig_unsupported(c, user, uname, cluster, cname) == -1 ||
	    (uname != NULL &&
	    kubeconfig_read_user(c, user, uname, &r) == -1))
		return -1;
	if (ns != NULL)
		a->namespace = xstrdup(ns);
	return kubeconfig_fill(c, &r, cname, uname, a);
}

static struct kube_auth *
kubeconfig_resolve(struct kubeconfig_file *c, struct json_object *root,
    const char *context)
{
	struct kube_auth	*a;
	const char		*kind;

	if (!json_object_is_type(root, json_type_object)) {
		kubeconfig_errf(c, "not a mapping");
		return NULL;
	}
	if (kubeconfig_string(c, root, "", "kind", &kind) == -1 ||
	    (context == NULL && kubeconfig_string(c, root, "",
	    "current-context", &context) == -1))
		return NULL;
	if (kind != NULL && strcmp(kind, "Config") != 0) {
		kubeconfig_errf(c, "kind is %s, not Config", kind);
		return NULL;
	}
	if (context == NULL) {
		kubeconfig_errf(c, "no current-context and no context given");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	if (kubeconfig_context(c, root, context, a) == -1) {
		kube_auth_free(a);
		return NULL;
	}
	return a;
}

/*
 * client-go's default: the files of $KUBECONFIG (':'-separated), else
 * ~/.kube/config. client-go merges every file of the list; petdns takes the
 * first that exists.
 */
static char *
kubeconfig_default(char *err, size_t errlen)
{
	const char	*env = getenv("KUBECONFIG"), *home = getenv("HOME");
	const char	*p, *colon;
	struct stat	 st;
	char		*path;
	size_t		 n;

	if (env == NULL || env[0] == '\0') {
		if (home == NULL || home[0] == '\0')
			return kubeconfig_fail(err, errlen, "no kubeconfig: "
			    "neither $KUBECONFIG nor $HOME is set");
		return xasprintf("%s/.kube/config", home);
	}
	for (p = env;; p = colon + 1) {
		colon = strchr(p, ':');
		n = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (n > 0) {
			path = xstrndup(p, n);
			if (stat(path, &st) == 0)
				return path;
			free(path);
		}
		if (colon == NULL)
			break;
	}
	return kubeconfig_fail(err, errlen, "no kubeconfig: no file of "
	    "$KUBECONFIG (%s) exists", env);
}

struct kube_auth *
kubeconfig_load(const char *path, const char *context, char *err,
    size_t errlen)
{
	struct kubeconfig_file	 c;
	struct json_object	*root;
	struct kube_auth	*a = NULL;
	char			*def = NULL, *buf, why[256];
	size_t			 len;

	if (path == NULL && (path = def = kubeconfig_default(err,
	    errlen)) == NULL)
		return NULL;
	c.path = path;
	c.slash = strrchr(path, '/');
	c.err = err;
	c.errlen = errlen;
	if ((buf = kubeconfig_read(path, KUBECONFIG_MAXSIZE, &len, err,
	    errlen)) != NULL) {
		if ((root = yamljson_parse(buf, len, why, sizeof(why))) == NULL)
			kubeconfig_errf(&c, "%s", why);
		else
			a = kubeconfig_resolve(&c, root, context);
		json_object_put(root);
		explicit_bzero(buf, len);
		free(buf);
	}
	free(def);
	return a;
}

static bool
kubeconfig_port_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= 5 && strspn(s, "0123456789") == n &&
	    atoi(s) >= 1 && atoi(s) <= 65535;
}

struct kube_auth *
kubeconfig_in_cluster(const char *sa_dir, char *err, size_t errlen)
{
	const char	*host = getenv("KUBERNETES_SERVICE_HOST");
	const char	*port = getenv("KUBERNETES_SERVICE_PORT");
	const char	*ns = getenv("POD_NAMESPACE");
	struct kube_auth *a;
	char		 why[128], *tok, *path;

	/* Tests (and odd mounts) may move the service account's files. */
	if (sa_dir == NULL && (sa_dir = getenv("PETDNS_SERVICEACCOUNT_DIR")) ==
	    NULL)
		sa_dir = KUBECONFIG_SA_DIR;
	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
		return kubeconfig_fail(err, errlen, "not running in a cluster: "
		    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must "
		    "be set");
	if (!kubeconfig_port_ok(port))
		return kubeconfig_fail(err, errlen, "KUBERNETES_SERVICE_PORT "
		    "'%s' is not a port", port);
	a = xcalloc(1, sizeof(*a));
	/* Go's net.JoinHostPort: an IPv6 address goes in brackets. */
	a->server = xasprintf(strchr(host, ':') != NULL && host[0] != '[' ?
	    "https://[%s]:%s" : "https://%s:%s", host, port);
	a->token_file = xasprintf("%s/token", sa_dir);
	a->ca_file = xasprintf("%s/ca.crt", sa_dir);
	if ((tok = kubeconfig_read_token(a->token_file, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "service account token %s", why);
		kube_auth_free(a);
		return NULL;
	}
	kubeconfig_wipe_free(tok);
	if (kubeconfig_check_file(a->ca_file, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "service account CA %s: %s", a->ca_file,
		    why);
		kube_auth_free(a);
		return NULL;
	}
	/* clientcmd's order: the downward API's POD_NAMESPACE, then the file. */
	if (ns != NULL && ns[0] != '\0')
		a->namespace = xstrdup(ns);
	else {
		path = xasprintf("%s/namespace", sa_dir);
		a->namespace = kubeconfig_read_token(path, why, sizeof(why));
		free(path);
	}
	return a;
}

/* endpoint URL, with tls CERT KEY CACERT over https, as CoreDNS builds it. */
static struct kube_auth *
kubeconfig_endpoint(const struct config_kubernetes *k, char *err,
    size_t errlen)
{
	const char *const files[] = { k->tls_cert, k->tls_key, k->tls_ca };
	struct kube_auth *a = xcalloc(1, sizeof(*a));
	char	 why[128];
	size_t	 i;

	if ((a->server = kubeconfig_server(k->endpoint,
	    k->tls_cert != NULL)) == NULL) {
		kube_auth_free(a);
		return kubeconfig_fail(err, errlen, "endpoint '%s' is not an "
		    "http:// or https:// URL", k->endpoint);
	}
	if (k->tls_cert == NULL || !kubeconfig_https(a->server))
		return a;
	for (i = 0; i < 3; i++)
		if (kubeconfig_check_file(files[i], why, sizeof(why)) == -1) {
			kube_auth_free(a);
			return kubeconfig_fail(err, errlen, "tls %s %s: %s",
			    i == 0 ? "CERT" : i == 1 ? "KEY" : "CACERT",
			    files[i], why);
		}
	a->cert_file = xstrdup(k->tls_cert);
	a->key_file = xstrdup(k->tls_key);
	a->ca_file = xstrdup(k->tls_ca);
	return a;
}

struct kube_auth *
kubeconfig_from_config(const struct config_kubernetes *k, char *err,
    size_t errlen)
{
	if (k->kubeconfig != NULL)
		return kubeconfig_load(k->kubeconfig, k->kubeconfig_context,
		    err, errlen);
	if (k->endpoint != NULL)
		return kubeconfig_endpoint(k, err, errlen);
	return kubeconfig_in_cluster(NULL, err, errlen);
}
