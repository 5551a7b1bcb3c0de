/* kubeconfig.h -- where the Kubernetes API is and how to authenticate: in-cluster, kubeconfig, or the Corefile. */
#ifndef PETDNS_KUBECONFIG_H
#define PETDNS_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config_kubernetes;

/* Everything a client needs to reach one API server. Secrets live only here. */
struct kube_auth {
	char	*server;	/* "https://host:port" (or http://), no trailing slash */
	char	*ca_file;	/* PEM file, or NULL */
	char	*ca_data;	/* PEM text (certificate-authority-data, decoded), or NULL */
	char	*cert_file;	/* client certificate PEM file, or NULL */
	char	*cert_data;	/* client certificate PEM text, or NULL */
	char	*key_file;	/* client key PEM file, or NULL */
	char	*key_data;	/* client key PEM text, or NULL */
	char	*token;		/* static bearer token, or NULL */
	char	*token_file;	/* bearer token re-read as it rotates, or NULL */
	bool	 insecure;	/* insecure-skip-tls-verify: only when configured */
	char	*namespace;	/* the pod's or context's namespace, or NULL */
};

/*
 * In-cluster configuration, as client-go's rest.InClusterConfig:
 * https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT (an IPv6 host in
 * brackets), and the service account's files in sa_dir (NULL:
 * /var/run/secrets/kubernetes.io/serviceaccount): token (token_file; must
 * hold a token now), ca.crt (ca_file; must be readable) and namespace
 * ($POD_NAMESPACE first; NULL when neither). NULL with err filled when not
 * in a cluster or a file is missing.
 */
struct kube_auth *kubeconfig_in_cluster(const char *sa_dir, char *err,
	    size_t errlen);
/*
 * A kubeconfig file, YAML or JSON, as client-go's clientcmd reads it: path
 * (NULL: the first existing file of the ':'-separated $KUBECONFIG -- not
 * merged, unlike client-go -- else ~/.kube/config), context (NULL:
 * current-context). File names in it are relative to the file's directory
 * and must be readable now; *-data fields are base64. Over an http server
 * no credentials are used, as in client-go. exec and auth-provider plugins,
 * username/password, impersonation, tls-server-name and proxy-url are
 * refused, naming the entry. NULL with err filled ("PATH: reason").
 */
struct kube_auth *kubeconfig_load(const char *path, const char *context,
	    char *err, size_t errlen);
/*
 * As CoreDNS decides from the kubernetes directive: kubeconfig if set; else
 * endpoint, with the tls files when set (none over http); else in-cluster.
 * NULL with err filled.
 */
struct kube_auth *kubeconfig_from_config(const struct config_kubernetes *,
	    char *err, size_t errlen);
/*
 * The bearer token to send now, a new string: token_file re-read on every
 * call (white space trimmed), else token; NULL when there is none. A
 * token_file that fails is logged by name, and token, if any, stands in.
 */
char	*kubeconfig_token(const struct kube_auth *);
/* The bearer token in the file at path, trimmed; NULL with err filled when unusable. */
char	*kubeconfig_read_token(const char *path, char *err, size_t errlen);
/* Wipes the secrets and frees; NULL is a no-op. */
void	kube_auth_free(struct kube_auth *);

#endif
