/* ordinal.h -- PetSet decisions: (set, pods, claims) -> next action, pure. */
#ifndef PETDNS_ORDINAL_H
#define PETDNS_ORDINAL_H

#include <stdbool.h>
#include <stddef.h>

/* Longest object name the API accepts (a DNS subdomain). */
#define ORDINAL_NAME_MAX	253
#define ORDINAL_REASON_MAX	640

enum ordinal_phase {
	ORDINAL_PENDING,
	ORDINAL_RUNNING,
	ORDINAL_SUCCEEDED,
	ORDINAL_FAILED,
	ORDINAL_UNKNOWN
};

/* The status the controller writes, and what it last observed. replicas
 * counts the pets it controls (terminating too), ready_replicas those Running
 * and Ready, current_replicas those not terminating; available = ready. */
struct ordinal_status {
	long long	observed_generation;
	int		replicas;
	int		ready_replicas;
	int		current_replicas;
	int		available_replicas;
};

/* The set, as the runner sees it in the store. All strings borrowed. */
struct ordinal_set {
	const char	*ns;
	const char	*name;
	const char	*uid;
	int		 replicas;
	int		 ordinals_start;	/* 0 when absent */
	const char	*service_name;
	bool		 deleting;	/* deletionTimestamp, or gone */
	long long	 generation;
	struct ordinal_status observed;	/* status as stored */
	const char *const *claim_templates; /* volumeClaimTemplates names */
	size_t		 nclaim_templates;
};

/* A pod in the set's namespace; the ordinal comes from its name. */
struct ordinal_pod {
	const char	*name;
	/* A controller owner reference with the set's uid; to anything else. */
	bool		 controlled_by_set;
	bool		 controlled_by_other;
	enum ordinal_phase phase;
	bool		 ready;		/* condition Ready == True */
	bool		 deleting;	/* deletionTimestamp set */
	/* annotation pod.alpha.kubernetes.io/initialized == "false" */
	bool		 initialized_false;
};

/* A PersistentVolumeClaim in the set's namespace. */
struct ordinal_claim {
	const char	*name;
	bool		 deleting;
};

enum ordinal_action {
	ORDINAL_NONE,		/* all as wanted, or the set is going */
	ORDINAL_WAIT,		/* blocked; reason says on what */
	ORDINAL_CREATE_CLAIM,	/* claim from claim_template */
	ORDINAL_CREATE_POD,	/* pod for pet ordinal */
	ORDINAL_DELETE_POD	/* pod, see why */
};

enum ordinal_delete_why {
	ORDINAL_WHY_NONE,
	ORDINAL_WHY_FAILED,	/* recreated next pass, same name */
	ORDINAL_WHY_SUCCEEDED,	/* likewise */
	ORDINAL_WHY_SCALE_DOWN
};

/* One pass's outcome: at most one create or delete, plus the status.
 * pod is the pet concerned ("" and ordinal -1 when none); claim and
 * claim_template are set for CREATE_CLAIM only; reason is for humans
 * ("creating web-1"). status_changed: status differs from the observed one
 * and should be written; never for a set going away. */
struct ordinal_decision {
	enum ordinal_action action;
	enum ordinal_delete_why why;
	int		 ordinal;
	char		 pod[ORDINAL_NAME_MAX + 1];
	char		 claim[ORDINAL_NAME_MAX + 1];
	char		 claim_template[ORDINAL_NAME_MAX + 1];
	char		 reason[ORDINAL_REASON_MAX];
	struct ordinal_status status;
	bool		 status_changed;
};

/* The ordinal of pod_name when it is exactly "<set_name>-<n>", n without
 * leading zeros and at most INT_MAX; -1 otherwise. */
int	ordinal_parse(const char *set_name, const char *pod_name);
/* Writes "<set>-<ordinal>"; -1 (and "") past ORDINAL_NAME_MAX or len. */
int	ordinal_pet_name(char *buf, size_t len, const char *set_name,
	    int ordinal);
/* Writes "<template>-<set>-<ordinal>"; -1 as ordinal_pet_name. */
int	ordinal_claim_name(char *buf, size_t len, const char *claim_template,
	    const char *set_name, int ordinal);
/* Fills out with the next action for the set. Pods and claims in any order;
 * pods of other sets are ignored. Borrows everything, keeps nothing. */
void	ordinal_decide(const struct ordinal_set *,
	    const struct ordinal_pod *pods, size_t npods,
	    const struct ordinal_claim *claims, size_t nclaims,
	    struct ordinal_decision *out);
/* Writes "ns/name: <reason>" into buf (truncated to len); returns buf. */
const char *ordinal_format(char *buf, size_t len, const char *ns,
	    const char *name, const struct ordinal_decision *);
/* True when a and b are the same action for the same reason (status aside),
 * so the runner logs and posts each decision once. */
bool	ordinal_same(const struct ordinal_decision *a,
	    const struct ordinal_decision *b);

#endif
