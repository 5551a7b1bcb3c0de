/* config.h -- the parsed Corefile: server blocks and the options of their directives. */
#ifndef PETDNS_CONFIG_H
#define PETDNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_pods {
	PODS_DISABLED,
	PODS_INSECURE,
	PODS_VERIFIED
};

/*
 * Zone names are lower case, absolute, without the trailing dot, with the
 * root as "." ("cluster.local", "in-addr.arpa", ".").
 */
struct config_kubernetes {
	char	**zones;		/* the directive's zones, else the block's */
	size_t	nzones;
	uint32_t ttl;			/* ttl N, 0..3600, default 5 */
	enum config_pods pods;		/* pods disabled|insecure|verified */
	bool	endpoint_pod_names;
	char	**namespaces;		/* namespaces NS...; none means all */
	size_t	nnamespaces;
	bool	noendpoints;
	bool	ignore_empty_service;	/* ignore empty_service */
	bool	fallthrough;		/* fallthrough [ZONES...] */
	char	**fallthrough_zones;	/* none means every zone */
	size_t	nfallthrough_zones;
	char	*manifests;		/* petdns extension: manifests DIR */
	/*
	 * How to reach the API (see kubeconfig_from_config). File names are
	 * resolved against the Corefile's directory, as manifests is.
	 */
	char	*endpoint;		/* endpoint URL: the first URL given */
	char	*tls_cert;		/* tls CERT KEY CACERT */
	char	*tls_key;
	char	*tls_ca;
	char	*kubeconfig;		/* kubeconfig KUBECONFIG [CONTEXT] */
	char	*kubeconfig_context;	/* NULL: the file's current-context */
	char	*labels;		/* labels EXPRESSION: a label selector */
	char	*namespace_labels;	/* namespace_labels EXPRESSION */
	int	 startup_timeout_ms;	/* startup_timeout DURATION, default 5s */
	bool	 petsets;		/* petdns extension: petsets [KUBELET_DELAY] runs the controller */
	int	 kubelet_delay_ms;	/* local mode: pets turn Running and Ready after this (1s) */
	bool	 explain;		/* petdns extension: TXT _explain.NAME and /explain */
	bool	 readonly;		/* set by -explain: no writes to the API (no controller) */
	bool	 pod_names;		/* keep endpoints' pod names: endpoint_pod_names, explain */
	char	*file;			/* where the directive was written */
	int	line;
};

struct cache_config;
struct forward_config;

/* log [NAMES...] [FORMAT] { class CLASSES... }: one line's rule. */
enum {
	CONFIG_LOG_SUCCESS = 1, CONFIG_LOG_DENIAL = 2, CONFIG_LOG_ERROR = 4,
	CONFIG_LOG_ALL = 7
};
struct config_log {
	char	**names;		/* zones, normalised; "." is every name */
	size_t	nnames;
	unsigned classes;		/* CONFIG_LOG_* */
	bool	combined;		/* {combined}: {common} and the opcode */
};

/* errors { consolidate DURATION REGEXP [LEVEL] [show_first] } */
struct config_consolidate {
	int	ms;
	char	*pattern;		/* POSIX extended regular expression */
	char	*level;			/* "ERROR", "WARNING", "INFO" or "DEBUG" */
	bool	show_first;
};

struct config_server {
	char	**zones;		/* the block's keys, normalised */
	size_t	nzones;
	uint16_t port;			/* from ZONE:PORT, default 53 */
	char	**binds;		/* bind ADDR...; none means all addresses */
	size_t	nbinds;
	struct config_kubernetes *kubernetes;	/* NULL when absent */
	bool	errors;			/* errors */
	struct config_consolidate *consolidate;	/* errors { consolidate ... } */
	size_t	nconsolidate;
	struct config_log *logs;	/* one per log line */
	size_t	nlogs;
	bool	loadbalance;		/* loadbalance [round_robin] */
	bool	loop;			/* loop */
	bool	whoami;			/* whoami */
	struct cache_config *cache;	/* cache, NULL when absent; zones default to the block's */
	char	*health;		/* health [ADDR]: its address, NULL when absent */
	int	lameduck_ms;		/* health { lameduck DURATION } */
	char	*ready;			/* ready [ADDR] */
	bool	ready_continuously;	/* ready { monitor continuously } */
	char	*prometheus;		/* prometheus [ADDR] */
	struct forward_config **forwards;	/* forward lines, in file order */
	size_t	nforwards;
	int	reload_ms;		/* reload [INTERVAL] [JITTER]; 0: off */
	int	reload_jitter_ms;
	char	*file;
	int	line;
};

struct config {
	struct config_server *servers;
	size_t	nservers;
};

/*
 * Parses the Corefile at path (or text named name). On error returns NULL
 * and fills err with "FILE:LINE: reason". Environment references {$VAR}
 * are substituted.
 */
struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_parse(const char *name, const char *text, char *err,
	    size_t errlen);
/* Sets every block's port (the -dns.port flag). */
void	config_set_port(struct config *, uint16_t);
void	config_free(struct config *);
/* The name of directive i in plugin order (for -plugins); NULL past the last. */
const char *config_directive(size_t i);

#endif
