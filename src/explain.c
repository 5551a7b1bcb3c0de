/* explain.c -- why a name resolves or not: the answer's records traced to their objects, or the nearest cause. */
#include <netinet/in.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "answer.h"
#include "config.h"
#include "dname.h"
#include "explain.h"
#include "explain_int.h"
#include "object.h"
#include "ordinal.h"
#include "petsets.h"
#include "records.h"
#include "selector.h"
#include "store.h"
#include "xmalloc.h"
#include "zone.h"

#define EXPLAIN_LABEL		64	/* a DNS label and its NUL */

/* What a name under a zone apex means, by the Kubernetes DNS schema. */
enum explain_shape {
	SHAPE_OTHER,		/* no Kubernetes name looks like this */
	SHAPE_APEX,
	SHAPE_NS,		/* <ns>.svc */
	SHAPE_SVC,		/* <svc>.<ns>.svc */
	SHAPE_EP,		/* <ep>.<svc>.<ns>.svc */
	SHAPE_PROTO,		/* _<proto>.<svc>.<ns>.svc */
	SHAPE_SRV,		/* _<port>._<proto>.<svc>.<ns>.svc */
	SHAPE_POD_NS,		/* <ns>.pod */
	SHAPE_POD,		/* <dashed-ip>.<ns>.pod */
	SHAPE_REVERSE		/* in-addr.arpa, ip6.arpa */
};

struct explain_parts {
	enum explain_shape shape;
	const char	*zone;	/* the apex as the Corefile names it */
	char		 ns[EXPLAIN_LABEL], svc[EXPLAIN_LABEL];
	char		 ep[EXPLAIN_LABEL], port[EXPLAIN_LABEL];
	char		 proto[EXPLAIN_LABEL];
};

/* One address of an endpoint of a service, with its label from records.c. */
struct explain_ep {
	const struct object		*slice;
	const struct object_endpoint	*ep;
	const struct object_ip		*ip;
	char				 label[EXPLAIN_LABEL];
};

struct explain_eps {
	struct explain_ep		*ep;
	size_t				 n;
	size_t				 cap;
	size_t				 ready;
};

/* One explanation being made. */
struct explain_run {
	const struct explain_view	*v;
	struct explain			*e;
};

static void
explain_vline(struct explain *e, const char *fmt, va_list ap)
{
	char	buf[EXPLAIN_LINE_MAX];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	xstrv_push(&e->lines, &e->nlines, xstrdup(buf));
}

void
explain_line(struct explain *e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	explain_vline(e, fmt, ap);
	va_end(ap);
}

/* Sets the cause and states it: the first line of the explanation. */
void
explain_cause(struct explain *e, enum explain_cause c, const char *fmt, ...)
{
	va_list	ap;

	e->cause = c;
	va_start(ap, fmt);
	explain_vline(e, fmt, ap);
	va_end(ap);
}

/* snprintf for names that may not fit: a cut one is left empty. */
void
explain_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

static int
explain_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a, b, c and 4 more" from in (sorted, duplicates dropped), into buf. */
const char *
explain_join(const char *const *in, size_t n, char *buf, size_t len)
{
	const char	**v = xcalloc(n + 1, sizeof(*v));
	size_t		  pos = 0, shown = 0, uniq = 0;

	memcpy(v, in, n * sizeof(*v));
	buf[0] = '\0';
	if (n > 1)
		qsort(v, n, sizeof(*v), explain_str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		uniq++;
		if (shown == EXPLAIN_LIST_MAX || pos >= len)
			continue;
		pos += snprintf(buf + pos, len - pos, "%s%s", shown ? ", " : "",
		    v[i]);
		shown++;
	}
	if (uniq > shown && pos < len)
		snprintf(buf + pos, len - pos, " and %zu more", uniq - shown);
	free(v);
	return n == 0 ? "none" : buf;
}

/* Optimal string alignment distance: typos, transpositions included. */
static int
explain_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);
	int	d[EXPLAIN_LABEL][EXPLAIN_LABEL];

	if (la >= EXPLAIN_LABEL || lb >= EXPLAIN_LABEL)
		return INT_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int	cost = a[i - 1] != b[j - 1];
			int	best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The closest name of a kind to a misspelt one. */
struct explain_near {
	const char	*word;
	const char	*best;
	int		 dist;
};

static void
explain_near_cb(const struct object *obj, void *arg)
{
	struct explain_near	*n = arg;
	int			 d = explain_distance(n->word, obj->name);

	/* A likely typo: at most two edits, and few for the length. */
	if (d == 0 || d > 2 || (size_t)d * 3 > strlen(n->word))
		return;
	if (n->best == NULL || d < n->dist || (d == n->dist &&
	    strcmp(obj->name, n->best) < 0)) {
		n->best = obj->name;
		n->dist = d;
	}
}

/* "; did you mean x?" when an object of kind in ns is a likely typo. */
static const char *
explain_mean(const struct explain_view *v, enum object_kind kind,
    const char *ns, const char *word, char *buf, size_t len)
{
	struct explain_near	n = { .word = word };

	store_foreach(v->store, kind, ns, explain_near_cb, &n);
	if (n.best == NULL)
		return "";
	snprintf(buf, len, "; did you mean %s?", n.best);
	return buf;
}

/* Labels or a selector as "k=v,k2=v2", or "none". */
static const char *
explain_pairs(const struct object_label *l, size_t n, char *buf, size_t len)
{
	size_t	pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && pos < len; i++)
		pos += snprintf(buf + pos, len - pos, "%s%s=%s", i ? "," : "",
		    l[i].key, l[i].value);
	return n == 0 ? "none" : buf;
}

/* A Corefile label selector against labels; an unparsable one takes all. */
static bool
explain_selects(const char *text, const struct object *obj)
{
	struct selector	*sel;
	bool		 ok;

	if (text == NULL || (sel = selector_parse(text, NULL, 0)) == NULL)
		return true;
	ok = obj != NULL && selector_matches(sel, obj->labels, obj->nlabels);
	selector_free(sel);
	return ok;
}

static bool
explain_forward_zone(const char *zone)
{
	size_t	l = strlen(zone);

	return !(l >= 4 && strcmp(zone + l - 4, "arpa") == 0);
}

/* The Corefile's name of the apex of lname, and its index in the zone. */
static const char *
explain_zone_name(const struct explain_view *v, const uint8_t *lname)
{
	int		 i = zone_match(v->zone, lname);
	uint8_t		 wire[DNAME_MAX];

	if (i < 0)
		return NULL;
	for (size_t z = 0; z < v->cfg->nzones; z++)
		if (dname_from_str(v->cfg->zones[z], wire) != -1 &&
		    dname_equal(wire, zone_apex(v->zone, i)))
			return v->cfg->zones[z];
	return v->cfg->nzones > 0 ? v->cfg->zones[0] : ".";
}

/* Copies label (wire) into buf; false when it holds what no object name can. */
static bool
explain_label(const uint8_t *label, char buf[EXPLAIN_LABEL])
{
	for (size_t i = 0; i < label[0]; i++) {
		uint8_t	c = label[1 + i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return false;
		buf[i] = (char)c;
	}
	buf[label[0]] = '\0';
	return true;
}

/* Sorts lname (lower case, in a zone) into the schema's shapes. */
static void
explain_parse(const struct explain_view *v, const uint8_t *lname,
    struct explain_parts *p)
{
	char		 lab[5][EXPLAIN_LABEL];
	const uint8_t	*l = lname;
	int		 n;

	memset(p, 0, sizeof(*p));
	if ((p->zone = explain_zone_name(v, lname)) == NULL)
		return;
	if (!explain_forward_zone(p->zone)) {
		p->shape = SHAPE_REVERSE;
		return;
	}
	n = dname_labels(lname) - dname_labels(zone_apex(v->zone,
	    zone_match(v->zone, lname)));
	if (n == 0) {
		p->shape = SHAPE_APEX;
		return;
	}
	if (n > 5)
		return;
	for (int i = 0; i < n; i++, l = dname_parent(l))
		if (!explain_label(l, lab[i]))
			return;
	if (n >= 2 && strcmp(lab[n - 1], "svc") == 0) {
		memcpy(p->ns, lab[n - 2], EXPLAIN_LABEL);
		if (n >= 3)
			memcpy(p->svc, lab[n - 3], EXPLAIN_LABEL);
		if (n == 2)
			p->shape = SHAPE_NS;
		else if (n == 3)
			p->shape = SHAPE_SVC;
		else if (n == 4 && lab[0][0] == '_') {
			p->shape = SHAPE_PROTO;
			memcpy(p->proto, lab[0], EXPLAIN_LABEL);
		} else if (n == 4) {
			p->shape = SHAPE_EP;
			memcpy(p->ep, lab[0], EXPLAIN_LABEL);
		} else if (lab[0][0] == '_' && lab[1][0] == '_') {
			p->shape = SHAPE_SRV;
			memcpy(p->port, lab[0], EXPLAIN_LABEL);
			memcpy(p->proto, lab[1], EXPLAIN_LABEL);
		}
	} else if (n >= 2 && n <= 3 && strcmp(lab[n - 1], "pod") == 0) {
		memcpy(p->ns, lab[n - 2], EXPLAIN_LABEL);
		p->shape = n == 2 ? SHAPE_POD_NS : SHAPE_POD;
		if (n == 3)
			memcpy(p->ep, lab[0], EXPLAIN_LABEL);
	}
}

static void
explain_eps_cb(const struct object *slice, const struct object_endpoint *e,
    const struct object_ip *ip, const char *label, void *arg)
{
	struct explain_eps	*eps = arg;
	struct explain_ep	*x;

	if (eps->n == eps->cap) {
		eps->cap = eps->cap ? eps->cap * 2 : 8;
		eps->ep = xreallocarray(eps->ep, eps->cap, sizeof(*eps->ep));
	}
	x = &eps->ep[eps->n++];
	x->slice = slice;
	x->ep = e;
	x->ip = ip;
	snprintf(x->label, sizeof(x->label), "%s", label);
	eps->ready += e->ready;
}

/* Every endpoint address of svc, ready or not, named as records.c names it. */
static void
explain_eps(const struct explain_view *v, const struct object *svc,
    struct explain_eps *eps)
{
	memset(eps, 0, sizeof(*eps));
	records_foreach_endpoint(v->cfg, v->store, svc, explain_eps_cb, eps);
}

/* The endpoint's slice, name and pod, as explain_record.from shows it. */
static char *
explain_ep_from(const struct explain_view *v, const struct explain_ep *x)
{
	char	ip[INET6_ADDRSTRLEN], what[128], pod[160] = "";

	if (x->ep->hostname != NULL && *x->ep->hostname != '\0')
		snprintf(what, sizeof(what), "hostname %s", x->ep->hostname);
	else if (v->cfg->endpoint_pod_names && object_endpoint_pod_name(x->ep) != NULL)
		snprintf(what, sizeof(what), "pod name %s", object_endpoint_pod_name(x->ep));
	else
		snprintf(what, sizeof(what), "address %s",
		    object_ip_format(x->ip, ip, sizeof(ip)));
	if (object_endpoint_pod_name(x->ep) != NULL)
		snprintf(pod, sizeof(pod), " <- Pod %s/%s", x->slice->ns,
		    object_endpoint_pod_name(x->ep));
	return xasprintf("EndpointSlice %s/%s endpoint %s%s", x->slice->ns,
	    x->slice->name, what, pod);
}

/* The endpoint with label (NULL: any) and address ip (NULL: any). */
static const struct explain_ep *
explain_eps_find(const struct explain_eps *eps, const char *label,
    const struct object_ip *ip, bool ready)
{
	for (size_t i = 0; i < eps->n; i++) {
		const struct explain_ep *x = &eps->ep[i];

		if ((label == NULL || strcmp(x->label, label) == 0) &&
		    (ip == NULL || object_ip_equal(x->ip, ip)) &&
		    x->ep->ready == ready)
			return x;
	}
	return NULL;
}

/* An A/AAAA record's address. */
static bool
explain_rr_ip(const ldns_rr *rr, struct object_ip *ip)
{
	const ldns_rdf	*rdf = ldns_rr_rdf(rr, 0);

	memset(ip, 0, sizeof(*ip));
	if (rdf == NULL)
		return false;
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A &&
	    ldns_rdf_size(rdf) == 4)
		ip->family = AF_INET;
	else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA &&
	    ldns_rdf_size(rdf) == 16)
		ip->family = AF_INET6;
	else
		return false;
	memcpy(ip->addr, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
	return true;
}

static const char *
explain_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "UDP" : proto == IPPROTO_SCTP ? "SCTP" :
	    "TCP";
}

/* Where an SRV record of a service came from: its port, or an endpoint's. */
static char *
explain_srv_from(const struct explain_view *v, const struct object *svc,
    const ldns_rr *rr)
{
	const ldns_rdf		*trdf = ldns_rr_rdf(rr, 3);
	uint16_t		 port;
	uint8_t			 target[DNAME_MAX];
	struct explain_parts	 tp;
	struct explain_eps	 eps;
	const struct explain_ep	*x;
	char			*from, *s;

	port = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
	if (svc->u.svc.type == SERVICE_CLUSTERIP) {
		for (size_t i = 0; i < svc->u.svc.nports; i++)
			if (svc->u.svc.ports[i].port == port)
				return xasprintf("Service %s/%s port %s%s%u/%s",
				    svc->ns, svc->name,
				    svc->u.svc.ports[i].name ?
				    svc->u.svc.ports[i].name : "",
				    svc->u.svc.ports[i].name ? " " : "",
				    port, explain_proto_name(
				    svc->u.svc.ports[i].proto));
		return xasprintf("Service %s/%s", svc->ns, svc->name);
	}
	memcpy(target, ldns_rdf_data(trdf), ldns_rdf_size(trdf));
	dname_lower(target);
	explain_parse(v, target, &tp);
	explain_eps(v, svc, &eps);
	x = explain_eps_find(&eps, tp.ep, NULL, true);
	from = x != NULL ? explain_ep_from(v, x) : xstrdup("an endpoint");
	s = xasprintf("port %u of %s", port, from);
	free(from);
	free(eps.ep);
	return s;
}

static char *
explain_service_from(const struct explain_view *v,
    const struct explain_parts *p, const struct object *svc, const ldns_rr *rr)
{
	struct object_ip	 ip;
	struct explain_eps	 eps;
	const struct explain_ep	*x;
	char			*s;

	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_CNAME:
		return xasprintf("Service %s/%s spec.externalName", svc->ns,
		    svc->name);
	case LDNS_RR_TYPE_SRV:
		return explain_srv_from(v, svc, rr);
	default:
		break;
	}
	if (!explain_rr_ip(rr, &ip))
		return xasprintf("Service %s/%s", svc->ns, svc->name);
	if (p->shape == SHAPE_SVC && svc->u.svc.type == SERVICE_CLUSTERIP)
		return xasprintf("Service %s/%s spec.clusterIPs", svc->ns,
		    svc->name);
	explain_eps(v, svc, &eps);
	x = explain_eps_find(&eps, p->shape == SHAPE_EP ? p->ep : NULL, &ip,
	    true);
	s = x != NULL ? explain_ep_from(v, x) : xasprintf("Service %s/%s",
	    svc->ns, svc->name);
	free(eps.ep);
	return s;
}

struct explain_ippod {
	struct object_ip	 ip;
	const struct object	*pod;
};

static void
explain_ippod_cb(const struct object *pod, void *arg)
{
	struct explain_ippod	*f = arg;

	for (size_t i = 0; i < pod->u.pod.nips && f->pod == NULL; i++)
		if (object_ip_equal(&pod->u.pod.ips[i], &f->ip) &&
		    !pod->u.pod.deleting)
			f->pod = pod;
}

/* A pod of ns (NULL: any) with address ip, or NULL. */
static const struct object *
explain_pod_by_ip(const struct explain_view *v, const char *ns,
    const struct object_ip *ip)
{
	struct explain_ippod	f = { .ip = *ip };

	store_foreach(v->store, OBJECT_POD, ns, explain_ippod_cb, &f);
	return f.pod;
}

/* Where a record of the answer came from. */
static char *
explain_from(const struct explain_view *v, const uint8_t *owner,
    const ldns_rr *rr)
{
	struct explain_parts	 p;
	const struct object	*obj;
	struct object_ip	 ip;
	uint8_t			 target[DNAME_MAX];
	const ldns_rdf		*rdf;

	explain_parse(v, owner, &p);
	switch (p.shape) {
	case SHAPE_SVC:
	case SHAPE_EP:
	case SHAPE_SRV:
		if ((obj = store_find(v->store, OBJECT_SERVICE, p.ns,
		    p.svc)) != NULL)
			return explain_service_from(v, &p, obj, rr);
		break;
	case SHAPE_POD:
		if (v->cfg->pods == PODS_INSECURE)
			return xasprintf("pods insecure: the address in the "
			    "name (namespace %s exists)", p.ns);
		if (explain_rr_ip(rr, &ip) &&
		    (obj = explain_pod_by_ip(v, p.ns, &ip)) != NULL)
			return xasprintf("pods verified: Pod %s/%s "
			    "status.podIPs", obj->ns, obj->name);
		break;
	case SHAPE_REVERSE:
		rdf = ldns_rr_rdf(rr, 0);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || rdf == NULL)
			break;
		memcpy(target, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		dname_lower(target);
		if (zone_match(v->zone, target) < 0)
			break;
		explain_parse(v, target, &p);
		if ((p.shape == SHAPE_SVC || p.shape == SHAPE_EP) &&
		    store_find(v->store, OBJECT_SERVICE, p.ns, p.svc) != NULL)
			return xasprintf("the address of %s (Service %s/%s)",
			    p.shape == SHAPE_SVC ? "the service" :
			    "its endpoint", p.ns, p.svc);
		break;
	default:
		break;
	}
	return xasprintf("petdns: a record of zone %s itself",
	    p.zone ? p.zone : "?");
}

/* "A 10.244.0.4", with the owner first when it is not the name asked. */
static char *
explain_rr_text(const ldns_rr *rr, const uint8_t *lname)
{
	const ldns_rdf	*owner = ldns_rr_owner(rr);
	char		*type = ldns_rr_type2str(ldns_rr_get_type(rr));
	char		 buf[EXPLAIN_LINE_MAX];
	size_t		 pos = 0;

	if (!dname_equal_nocase(ldns_rdf_data(owner), lname)) {
		char	*o = ldns_rdf2str(owner);

		pos += snprintf(buf, sizeof(buf), "%s ", o ? o : "?");
		free(o);
	}
	pos += snprintf(buf + pos, sizeof(buf) - pos, "%s", type);
	free(type);
	for (size_t i = 0; i < ldns_rr_rd_count(rr) && pos < sizeof(buf);
	    i++) {
		char	*r = ldns_rdf2str(ldns_rr_rdf(rr, i));

		pos += snprintf(buf + pos, sizeof(buf) - pos, " %s",
		    r ? r : "?");
		free(r);
	}
	return xstrdup(buf);
}

/* The answer's records, each with where it came from. */
void
explain_records(const struct explain_view *v, struct explain *e,
    const uint8_t *lname, const ldns_rr_list *an)
{
	size_t	n = ldns_rr_list_rr_count(an);

	e->records = n ? xcalloc(n, sizeof(*e->records)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const ldns_rr	*rr = ldns_rr_list_rr(an, i);
		uint8_t		 owner[DNAME_MAX];
		const ldns_rdf	*o = ldns_rr_owner(rr);

		memcpy(owner, ldns_rdf_data(o), ldns_rdf_size(o));
		dname_lower(owner);
		e->records[i].rr = explain_rr_text(rr, lname);
		e->records[i].from = explain_from(v, owner, rr);
		e->nrecords++;
	}
}

static void
explain_time(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "?");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Why a pod is not serving: "condition Ready=False since ...", or its phase. */
static const char *
explain_pod_state(const struct object *pod, char *buf, size_t len)
{
	static const char *const phases[] = { "Pending", "Running",
	    "Succeeded", "Failed", "Unknown" };
	const struct object_pod *p = &pod->u.pod;
	char	since[64] = "";

	if (p->deleting)
		snprintf(buf, len, "it is terminating");
	else if (p->phase != POD_RUNNING)
		snprintf(buf, len, "it is %s", phases[p->phase]);
	else if (p->nips == 0)
		snprintf(buf, len, "it has no IP address yet");
	else if (p->ready)
		snprintf(buf, len, "it is Ready");
	else if (p->ready_cond == OBJECT_COND_NONE)
		snprintf(buf, len, "it is Running but reports no Ready "
		    "condition");
	else {
		if (p->ready_since != 0) {
			char	t[32];

			explain_time(p->ready_since, t, sizeof(t));
			snprintf(since, sizeof(since), " since %s", t);
		}
		snprintf(buf, len, "its Ready condition is %s%s",
		    p->ready_cond == OBJECT_COND_FALSE ? "False" : "Unknown",
		    since);
	}
	return buf;
}

static bool
explain_pod_serving(const struct object *pod)
{
	return !pod->u.pod.deleting && pod->u.pod.phase == POD_RUNNING &&
	    pod->u.pod.nips > 0 && pod->u.pod.ready;
}

/* One line on a not-ready endpoint: its pod's state when the store has it. */
static void
explain_not_ready(const struct explain_view *v, struct explain *e,
    const struct explain_ep *x)
{
	const struct object	*pod = NULL;
	char			 state[128], ip[INET6_ADDRSTRLEN];

	if (object_endpoint_pod_name(x->ep) != NULL)
		pod = store_find(v->store, OBJECT_POD, x->slice->ns,
		    object_endpoint_pod_name(x->ep));
	if (pod != NULL)
		explain_line(e, "pod %s/%s (endpoint %s) is not Ready: %s",
		    pod->ns, pod->name, x->label,
		    explain_pod_state(pod, state, sizeof(state)));
	else
		explain_line(e, "endpoint %s (%s) in EndpointSlice %s/%s is "
		    "not ready (conditions.ready is false)", x->label,
		    object_ip_format(x->ip, ip, sizeof(ip)), x->slice->ns,
		    x->slice->name);
}

static void
explain_publish_line(struct explain *e, const struct object *svc)
{
	if (!svc->u.svc.publish_not_ready)
		explain_line(e, "service %s/%s does not publish not-ready "
		    "addresses (spec.publishNotReadyAddresses is false)",
		    svc->ns, svc->name);
}

static void
explain_count_cb(const struct object *obj, void *arg)
{
	(*(size_t *)arg)++;
}

static bool
explain_ns_exists(const struct explain_view *v, const char *ns)
{
	size_t	n = 0;

	if (store_find(v->store, OBJECT_NAMESPACE, NULL, ns) != NULL)
		return true;
	store_foreach(v->store, OBJECT_SERVICE, ns, explain_count_cb, &n);
	return n > 0;
}

/* The namespace exists and the Corefile serves it; else the cause. */
static bool
explain_check_ns(const struct explain_view *v, struct explain *e,
    const char *ns)
{
	const struct config_kubernetes *cfg = v->cfg;
	const struct object	*obj;
	char			 buf[EXPLAIN_LINE_MAX / 2], mean[96];
	bool			 listed = cfg->nnamespaces == 0;

	if (!explain_ns_exists(v, ns)) {
		explain_cause(e, EXPLAIN_NS_MISSING, "namespace %s does not "
		    "exist%s", ns, explain_mean(v, OBJECT_NAMESPACE, NULL, ns,
		    mean, sizeof(mean)));
		return false;
	}
	for (size_t i = 0; i < cfg->nnamespaces; i++)
		listed = listed || strcmp(cfg->namespaces[i], ns) == 0;
	if (!listed) {
		explain_cause(e, EXPLAIN_NS_FILTERED, "namespace %s is not "
		    "served: the Corefile's `namespaces %s` lists the only "
		    "namespaces petdns serves", ns, explain_join(
		    (const char *const *)cfg->namespaces, cfg->nnamespaces,
		    buf, sizeof(buf)));
		return false;
	}
	obj = store_find(v->store, OBJECT_NAMESPACE, NULL, ns);
	if (!explain_selects(cfg->namespace_labels, obj)) {
		explain_cause(e, EXPLAIN_NS_FILTERED, "namespace %s is not "
		    "served: its labels (%s) do not match the Corefile's "
		    "`namespace_labels %s`", ns, obj == NULL ? "none" :
		    explain_pairs(obj->labels, obj->nlabels, buf, sizeof(buf)),
		    cfg->namespace_labels);
		return false;
	}
	return true;
}

struct explain_elsewhere {
	const char	*name;
	const char	*skip;
	const char	*ns[EXPLAIN_LIST_MAX];
	size_t		 n;
};

static void
explain_elsewhere_cb(const struct object *svc, void *arg)
{
	struct explain_elsewhere *w = arg;

	if (strcmp(svc->name, w->name) == 0 && strcmp(svc->ns, w->skip) != 0 &&
	    w->n < EXPLAIN_LIST_MAX)
		w->ns[w->n++] = svc->ns;
}

/* The service exists and passes the Corefile's labels; else the cause. */
static const struct object *
explain_check_svc(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p)
{
	const struct config_kubernetes *cfg = v->cfg;
	const struct object	*svc;
	struct explain_elsewhere w = { .name = p->svc, .skip = p->ns };
	char			 mean[96], buf[EXPLAIN_LINE_MAX / 2];

	svc = store_find(v->store, OBJECT_SERVICE, p->ns, p->svc);
	if (svc == NULL) {
		explain_cause(e, EXPLAIN_SVC_MISSING, "service %s/%s does not "
		    "exist%s", p->ns, p->svc, explain_mean(v, OBJECT_SERVICE,
		    p->ns, p->svc, mean, sizeof(mean)));
		store_foreach(v->store, OBJECT_SERVICE, NULL,
		    explain_elsewhere_cb, &w);
		if (w.n > 0)
			explain_line(e, "a service %s exists in namespace %s",
			    p->svc, explain_join(w.ns, w.n, buf, sizeof(buf)));
		/* The API server never sends what the selector leaves out. */
		if (cfg->labels != NULL && cfg->manifests == NULL)
			explain_line(e, "petdns sees only the services that "
			    "match the Corefile's `labels %s`", cfg->labels);
		return NULL;
	}
	if (!explain_selects(cfg->labels, svc)) {
		explain_cause(e, EXPLAIN_SVC_FILTERED, "service %s/%s is "
		    "filtered out: its labels (%s) do not match the "
		    "Corefile's `labels %s`", svc->ns, svc->name,
		    explain_pairs(svc->labels, svc->nlabels, buf,
		    sizeof(buf)), cfg->labels);
		return NULL;
	}
	return svc;
}

/* PetSets whose pets are named under svc: spec.serviceName is its name. */
struct explain_sets {
	const char		*svc;
	const char		*pet;	/* a pet name, or NULL for any */
	const struct object	*set;
};

static void
explain_sets_cb(const struct object *set, void *arg)
{
	struct explain_sets	*s = arg;
	const char		*sn = set->u.petset.service_name;

	if (s->set != NULL)
		return;
	if (s->pet != NULL ? ordinal_parse(set->name, s->pet) >= 0 :
	    sn != NULL && strcmp(sn, s->svc) == 0)
		s->set = set;
}

/* What the ordinal controller says of set, as one line. */
static void
explain_set_decision(const struct explain_view *v, struct explain *e,
    const struct object *set)
{
	struct ordinal_decision	d;

	petsets_decide(v->store, set, &d);
	explain_line(e, "PetSet %s/%s: %s", set->ns, set->name, d.reason);
	if (!v->cfg->petsets)
		explain_line(e, "the ordinal controller is off: add `petsets` "
		    "to the kubernetes block");
}

struct explain_selected {
	const struct object_service	*svc;
	const struct object		*pods[EXPLAIN_LIST_MAX];
	size_t				 n;
};

static void
explain_selected_cb(const struct object *pod, void *arg)
{
	struct explain_selected	*s = arg;

	if (s->n < EXPLAIN_LIST_MAX && object_selector_matches(s->svc->selector,
	    s->svc->nselector, pod->labels, pod->nlabels))
		s->pods[s->n++] = pod;
}

/* A headless service without ready endpoints: which pods, and why not. */
static void
explain_no_ready(const struct explain_view *v, struct explain *e,
    const struct object *svc, const struct explain_eps *eps)
{
	struct explain_selected	 s = { .svc = &svc->u.svc };
	struct explain_sets	 sets = { .svc = svc->name };
	char			 sel[256], state[128];

	if (eps->n > 0) {
		explain_cause(e, EXPLAIN_NOT_READY, "headless service %s/%s "
		    "has no ready endpoint", svc->ns, svc->name);
		for (size_t i = 0; i < eps->n && i < EXPLAIN_LIST_MAX; i++)
			explain_not_ready(v, e, &eps->ep[i]);
		explain_publish_line(e, svc);
		return;
	}
	explain_cause(e, EXPLAIN_NO_ENDPOINTS, "headless service %s/%s has no "
	    "endpoints: no EndpointSlice lists an address for it", svc->ns,
	    svc->name);
	if (svc->u.svc.nselector > 0) {
		store_foreach(v->store, OBJECT_POD, svc->ns,
		    explain_selected_cb, &s);
		if (s.n == 0)
			explain_line(e, "no pod in namespace %s matches its "
			    "selector %s", svc->ns, explain_pairs(
			    svc->u.svc.selector, svc->u.svc.nselector, sel,
			    sizeof(sel)));
		for (size_t i = 0; i < s.n; i++)
			explain_line(e, "pod %s/%s: %s", s.pods[i]->ns,
			    s.pods[i]->name, explain_pod_state(s.pods[i], state,
			    sizeof(state)));
	}
	store_foreach(v->store, OBJECT_PETSET, svc->ns, explain_sets_cb, &sets);
	if (sets.set != NULL)
		explain_set_decision(v, e, sets.set);
}

/* <svc>.<ns>.svc does not exist though the service does. */
static void
explain_service_empty(const struct explain_view *v, struct explain *e,
    const struct object *svc)
{
	struct explain_eps	eps;

	if (svc->u.svc.type == SERVICE_HEADLESS && v->cfg->noendpoints) {
		explain_cause(e, EXPLAIN_NO_ENDPOINTS, "the Corefile's "
		    "`noendpoints` leaves out every endpoint, so headless "
		    "service %s/%s has no addresses", svc->ns, svc->name);
		return;
	}
	explain_eps(v, svc, &eps);
	if (eps.ready == 0 && svc->u.svc.type == SERVICE_HEADLESS)
		explain_no_ready(v, e, svc, &eps);
	else if (eps.ready == 0 && v->cfg->ignore_empty_service)
		explain_cause(e, EXPLAIN_NO_ENDPOINTS, "service %s/%s has no "
		    "ready endpoint, and the Corefile's `ignore empty_service` "
		    "hides such services", svc->ns, svc->name);
	else
		explain_cause(e, EXPLAIN_NO_NAME, "service %s/%s has no "
		    "records in this zone", svc->ns, svc->name);
	free(eps.ep);
}

/* The endpoint names under svc, for "its endpoints: ..." lines. */
static const char *
explain_ep_names(const struct explain_eps *eps, char *buf, size_t len)
{
	const char	**names = xcalloc(eps->n + 1, sizeof(*names));
	size_t		  n = 0;

	for (size_t i = 0; i < eps->n; i++)
		if (eps->ep[i].ep->ready)
			names[n++] = eps->ep[i].label;
	explain_join(names, n, buf, len);
	free(names);
	if (n == 0)
		snprintf(buf, len, "none");
	return buf;
}

struct explain_podfind {
	const char		*label;
	const struct object	*by_host;
};

static void
explain_podfind_cb(const struct object *pod, void *arg)
{
	struct explain_podfind	*f = arg;

	if (f->by_host == NULL && pod->u.pod.hostname != NULL &&
	    strcmp(pod->u.pod.hostname, f->label) == 0)
		f->by_host = pod;
}

/* A pod named label, or with hostname label, explains the name; true if so. */
static bool
explain_ep_pod(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p, const struct object *svc,
    const struct explain_eps *eps)
{
	struct explain_podfind	 f = { .label = p->ep };
	const struct object	*pod;
	const char		*host, *sub;
	char			 sel[256], state[128], label[EXPLAIN_LABEL];

	store_foreach(v->store, OBJECT_POD, p->ns, explain_podfind_cb, &f);
	if ((pod = f.by_host) == NULL)
		pod = store_find(v->store, OBJECT_POD, p->ns, p->ep);
	if (pod == NULL) {
		/* No pods in the store (API mode): the slice still names it. */
		for (size_t i = 0; i < eps->n; i++)
			if (object_endpoint_pod_name(eps->ep[i].ep) != NULL &&
			    strcmp(object_endpoint_pod_name(eps->ep[i].ep), p->ep) == 0) {
				explain_cause(e, EXPLAIN_NO_HOSTNAME, "the "
				    "endpoint of Pod %s/%s in EndpointSlice "
				    "%s/%s has no hostname, so it is named %s: "
				    "the pod's spec.hostname is unset or its "
				    "spec.subdomain is not %s", p->ns, p->ep,
				    eps->ep[i].slice->ns,
				    eps->ep[i].slice->name, eps->ep[i].label,
				    svc->name);
				return true;
			}
		return false;
	}
	host = pod->u.pod.hostname;
	sub = pod->u.pod.subdomain;
	if (host != NULL && strcmp(host, p->ep) == 0 &&
	    (sub == NULL || strcmp(sub, svc->name) != 0)) {
		explain_cause(e, EXPLAIN_SUBDOMAIN, "pod %s/%s has hostname %s "
		    "but %s%s: a pod is named <hostname>.<service> only when "
		    "its spec.subdomain is the service's name (%s)", pod->ns,
		    pod->name, host, sub ? "subdomain " : "no subdomain",
		    sub ? sub : "", svc->name);
		return true;
	}
	if (host == NULL || strcmp(host, p->ep) != 0) {
		if (pod->u.pod.nips > 0)
			records_endpoint_label(v->cfg, NULL, pod->name,
			    &pod->u.pod.ips[0], label, sizeof(label));
		explain_cause(e, EXPLAIN_NO_HOSTNAME, "pod %s/%s has %s%s: its "
		    "endpoint is named %s, not %s; a pet name needs "
		    "spec.hostname %s and spec.subdomain %s", pod->ns,
		    pod->name, host ? "spec.hostname " : "no spec.hostname",
		    host ? host : "", pod->u.pod.nips > 0 ? label :
		    "by its address", p->ep, p->ep, svc->name);
		return true;
	}
	if (!object_selector_matches(svc->u.svc.selector,
	    svc->u.svc.nselector, pod->labels, pod->nlabels)) {
		explain_cause(e, EXPLAIN_NOT_SELECTED, "pod %s/%s is not an "
		    "endpoint of service %s/%s: its labels (%s) do not match "
		    "the selector %s", pod->ns, pod->name, svc->ns, svc->name,
		    explain_pairs(pod->labels, pod->nlabels, state,
		    sizeof(state)), explain_pairs(svc->u.svc.selector,
		    svc->u.svc.nselector, sel, sizeof(sel)));
		return true;
	}
	if (!explain_pod_serving(pod)) {
		explain_cause(e, EXPLAIN_NOT_READY, "pod %s/%s is not Ready: "
		    "%s", pod->ns, pod->name, explain_pod_state(pod, state,
		    sizeof(state)));
		explain_publish_line(e, svc);
		return true;
	}
	return false;
}

/* A pet of a PetSet that the controller has not made (yet); true if so. */
static bool
explain_ep_petset(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p, const struct object *svc)
{
	struct explain_sets	 s = { .svc = svc->name, .pet = p->ep };
	const struct object_petset *ps;
	int			 o;

	store_foreach(v->store, OBJECT_PETSET, p->ns, explain_sets_cb, &s);
	if (s.set == NULL)
		return false;
	ps = &s.set->u.petset;
	o = ordinal_parse(s.set->name, p->ep);
	if (ps->service_name == NULL || strcmp(ps->service_name,
	    svc->name) != 0) {
		explain_cause(e, EXPLAIN_SUBDOMAIN, "PetSet %s/%s gives its "
		    "pets subdomain %s (spec.serviceName), not %s", s.set->ns,
		    s.set->name, ps->service_name ? ps->service_name : "(none)",
		    svc->name);
		return true;
	}
	if (o < ps->ordinals_start || (long long)o >=
	    (long long)ps->ordinals_start + ps->replicas) {
		explain_cause(e, EXPLAIN_PETSET_REPLICAS, "PetSet %s/%s has %d "
		    "replicas (ordinals %d to %lld): %s is not one of its "
		    "pets", s.set->ns, s.set->name, ps->replicas,
		    ps->ordinals_start, (long long)ps->ordinals_start +
		    ps->replicas - 1, p->ep);
		return true;
	}
	explain_cause(e, EXPLAIN_PETSET_WAITING, "pod %s/%s does not exist "
	    "yet: PetSet %s/%s makes its pets one at a time, in order",
	    p->ns, p->ep, s.set->ns, s.set->name);
	explain_set_decision(v, e, s.set);
	return true;
}

/* <ep>.<svc>.<ns>.svc does not exist: the nearest of the pet's causes. */
static void
explain_endpoint(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p, const struct object *svc)
{
	struct explain_eps	 eps;
	const struct explain_ep	*x;
	char			 names[EXPLAIN_LINE_MAX / 2], mean[96] = "";

	if (svc->u.svc.type == SERVICE_EXTERNALNAME) {
		explain_cause(e, EXPLAIN_NO_NAME, "service %s/%s is an "
		    "ExternalName (a CNAME): no names exist below it", svc->ns,
		    svc->name);
		return;
	}
	if (v->cfg->noendpoints) {
		explain_cause(e, EXPLAIN_NO_ENDPOINTS, "the Corefile's "
		    "`noendpoints` leaves out every endpoint name");
		return;
	}
	explain_eps(v, svc, &eps);
	if ((x = explain_eps_find(&eps, p->ep, NULL, false)) != NULL) {
		explain_cause(e, EXPLAIN_NOT_READY, "endpoint %s of service "
		    "%s/%s is not ready", p->ep, svc->ns, svc->name);
		explain_not_ready(v, e, x);
		explain_publish_line(e, svc);
	} else if (explain_ep_pod(v, e, p, svc, &eps) ||
	    explain_ep_petset(v, e, p, svc))
		;
	else if (svc->u.svc.type == SERVICE_CLUSTERIP)
		explain_cause(e, EXPLAIN_NOT_HEADLESS, "service %s/%s is not "
		    "headless (it has a ClusterIP): pet names exist under a "
		    "headless service (clusterIP: None) that the pets' "
		    "spec.subdomain names; the names under %s are its "
		    "endpoints: %s", svc->ns, svc->name, svc->name,
		    explain_ep_names(&eps, names, sizeof(names)));
	else {
		for (size_t i = 0; i < eps.n && mean[0] == '\0'; i++)
			if (explain_distance(p->ep, eps.ep[i].label) <= 2)
				snprintf(mean, sizeof(mean), "; did you mean "
				    "%s?", eps.ep[i].label);
		explain_cause(e, EXPLAIN_NO_ENDPOINT, "service %s/%s has no "
		    "endpoint named %s%s", svc->ns, svc->name, p->ep, mean);
		explain_line(e, "its endpoints: %s", explain_ep_names(&eps,
		    names, sizeof(names)));
	}
	free(eps.ep);
}

/* _<port>._<proto>.<svc>.<ns>.svc or _<proto>.<svc>.<ns>.svc does not exist. */
static void
explain_port(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p, const struct object *svc)
{
	const struct object_service *s = &svc->u.svc;
	const char	**names = xcalloc(s->nports + 1, sizeof(*names));
	char		(*text)[EXPLAIN_LABEL + 8] = xcalloc(s->nports + 1,
			    sizeof(*text));
	char		  list[EXPLAIN_LINE_MAX / 2];
	struct explain_eps eps;
	size_t		  n = 0;

	explain_eps(v, svc, &eps);
	free(eps.ep);
	if (s->type == SERVICE_HEADLESS && (eps.ready == 0 ||
	    v->cfg->noendpoints)) {
		explain_service_empty(v, e, svc);
		goto done;
	}
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].name != NULL) {
			snprintf(text[n], sizeof(text[n]), "_%s._%s",
			    s->ports[i].name, s->ports[i].proto == IPPROTO_UDP ?
			    "udp" : s->ports[i].proto == IPPROTO_SCTP ? "sctp" :
			    "tcp");
			names[n] = text[n];
			n++;
		}
	if (p->shape == SHAPE_SRV)
		explain_cause(e, EXPLAIN_NO_PORT, "service %s/%s has no port "
		    "named %s with protocol %s", svc->ns, svc->name,
		    p->port + 1, p->proto + 1);
	else
		explain_cause(e, EXPLAIN_NO_PORT, "service %s/%s has no named "
		    "port with protocol %s", svc->ns, svc->name, p->proto + 1);
	explain_line(e, "its named ports: %s", explain_join(names, n, list,
	    sizeof(list)));
done:
	free(names);
	free(text);
}

/* <a-b-c-d>.<ns>.pod does not exist. */
static void
explain_pod_name(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p)
{
	const struct object	*pod;
	struct object_ip	 ip;
	char			 text[INET6_ADDRSTRLEN];

	if (v->cfg->pods == PODS_DISABLED) {
		explain_cause(e, EXPLAIN_PODS_DISABLED, "pod records are "
		    "disabled: the kubernetes block has `pods disabled` (the "
		    "default); `pods insecure` or `pods verified` turns "
		    "<a-b-c-d>.<namespace>.pod names on");
		return;
	}
	if (!explain_check_ns(v, e, p->ns))
		return;
	if (p->shape == SHAPE_POD_NS) {
		explain_cause(e, EXPLAIN_NO_NAME, "no pod of namespace %s has "
		    "a name: `pods verified` names only existing pods", p->ns);
		return;
	}
	if (records_dashed_ip(p->ep, &ip) == -1) {
		explain_cause(e, EXPLAIN_NO_NAME, "%s is not an address "
		    "written with dashes (as 10-244-0-4)", p->ep);
		return;
	}
	object_ip_format(&ip, text, sizeof(text));
	if (v->cfg->pods != PODS_VERIFIED)
		explain_cause(e, EXPLAIN_NO_NAME, "no records for %s", text);
	else if ((pod = explain_pod_by_ip(v, NULL, &ip)) == NULL)
		explain_cause(e, EXPLAIN_POD_UNKNOWN, "no pod has address %s: "
		    "`pods verified` answers only for the addresses of "
		    "existing pods", text);
	else
		explain_cause(e, EXPLAIN_POD_UNKNOWN, "pod %s/%s has address "
		    "%s, but in namespace %s, not %s", pod->ns, pod->name, text,
		    pod->ns, p->ns);
}

/* An NXDOMAIN: the nearest cause along namespace, service, endpoint. */
static void
explain_missing(const struct explain_view *v, struct explain *e,
    const struct explain_parts *p)
{
	const struct object	*svc;

	switch (p->shape) {
	case SHAPE_NS:
	case SHAPE_SVC:
	case SHAPE_EP:
	case SHAPE_PROTO:
	case SHAPE_SRV:
		if (!explain_check_ns(v, e, p->ns))
			return;
		if (p->shape == SHAPE_NS)
			explain_cause(e, EXPLAIN_NO_NAME, "namespace %s has no "
			    "service with records", p->ns);
		else if ((svc = explain_check_svc(v, e, p)) == NULL)
			return;
		else if (p->shape == SHAPE_SVC)
			explain_service_empty(v, e, svc);
		else if (p->shape == SHAPE_EP)
			explain_endpoint(v, e, p, svc);
		else
			explain_port(v, e, p, svc);
		return;
	case SHAPE_POD_NS:
	case SHAPE_POD:
		explain_pod_name(v, e, p);
		return;
	case SHAPE_REVERSE:
		explain_cause(e, EXPLAIN_NO_NAME, "no service ClusterIP and no "
		    "ready endpoint has this address");
		return;
	default:
		explain_cause(e, EXPLAIN_NO_NAME, "no Kubernetes name has this "
		    "shape: %s holds <service>.<namespace>.svc, "
		    "<endpoint>.<service>.<namespace>.svc, "
		    "_<port>._<proto>.<service>.<namespace>.svc and "
		    "<a-b-c-d>.<namespace>.pod names", p->zone ? p->zone : "");
		return;
	}
}

/* NOERROR without records: the types the name does have. */
static void
explain_nodata(const struct explain_view *v, struct explain *e,
    const uint8_t *lname, uint16_t type)
{
	struct zone_scratch	 scratch;
	const struct zone_node	*node = zone_find(v->zone, lname, &scratch);
	struct zone_walk	 w;
	struct zone_rr		 rr;
	const char		*types[16];
	char			*want = ldns_rr_type2str(type);
	char			 list[256];
	size_t			 n = 0;

	if (node != NULL)
		zone_walk_init(&w, node);
	while (node != NULL && n < 16 && zone_walk_next(&w, &rr))
		if (rr.type != RECORDS_TYPE_MARKER)
			types[n++] = ldns_rr_type2str(rr.type);
	if (node != NULL && n == 0)
		explain_cause(e, EXPLAIN_NODATA, "the name exists only because "
		    "names exist below it (an empty non-terminal): it has no "
		    "records of its own");
	else if (n == 0)
		explain_cause(e, EXPLAIN_NODATA, "the name has no %s records",
		    want);
	else
		explain_cause(e, EXPLAIN_NODATA, "the name has no %s records; "
		    "it has %s", want, explain_join(types, n, list,
		    sizeof(list)));
	for (size_t i = 0; i < n; i++)
		free((char *)types[i]);
	free(want);
}

/* A name in one of the zones: the answer's records, or why there are none. */
void
explain_in_zone(const struct explain_view *v, struct explain *e,
    const uint8_t *lname, uint16_t type)
{
	ldns_pkt		*resp = ldns_pkt_new();
	const ldns_rr_list	*an;
	struct explain_parts	 p;
	uint8_t			 last[DNAME_MAX];

	e->rcode = answer_zone(v->zone, v->cfg, lname, type, resp);
	an = ldns_pkt_answer(resp);
	explain_records(v, e, lname, an);
	/* A CNAME chain: what is missing is at its end. */
	memcpy(last, lname, dname_length(lname));
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr	*rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
		    ldns_rr_rdf(rr, 0) != NULL) {
			memcpy(last, ldns_rdf_data(ldns_rr_rdf(rr, 0)),
			    ldns_rdf_size(ldns_rr_rdf(rr, 0)));
			dname_lower(last);
		}
	}
	if (e->rcode == LDNS_RCODE_NOERROR && e->nrecords > 0)
		e->cause = EXPLAIN_RESOLVES;
	else if (e->rcode == LDNS_RCODE_NOERROR)
		explain_nodata(v, e, last, type);
	else {
		explain_parse(v, last, &p);
		explain_missing(v, e, &p);
	}
	ldns_pkt_free(resp);
}

/* Asks the zone; the rcode (-1 outside it) and how many records answer. */
int
explain_probe(const struct explain_view *v, const uint8_t *wire,
    uint16_t type, ldns_pkt **keep)
{
	ldns_pkt	*resp;
	int		 rcode;

	if (zone_match(v->zone, wire) < 0)
		return -1;
	resp = ldns_pkt_new();
	rcode = answer_zone(v->zone, v->cfg, wire, type, resp);
	if (rcode == LDNS_RCODE_NOERROR &&
	    ldns_rr_list_rr_count(ldns_pkt_answer(resp)) > 0 && keep != NULL)
		*keep = resp;
	else
		ldns_pkt_free(resp);
	return rcode;
}

/* The first zone of names (not a reverse one), or NULL. */
static const char *
explain_search_zone(const struct config_kubernetes *cfg)
{
	for (size_t i = 0; i < cfg->nzones; i++)
		if (explain_forward_zone(cfg->zones[i]) &&
		    strcmp(cfg->zones[i], ".") != 0)
			return cfg->zones[i];
	return NULL;
}

struct explain *
explain_name(const struct explain_view *v, const char *name, uint16_t type)
{
	struct explain	*e = xcalloc(1, sizeof(*e));
	uint8_t		 wire[DNAME_MAX];
	char		 rel[DNAME_MAX * 4], zones[EXPLAIN_LINE_MAX / 2];
	size_t		 len = strlen(name);
	const char	*zone = explain_search_zone(v->cfg);
	bool		 absolute = len > 0 && name[len - 1] == '.';
	int		 dots;

	e->type = type;
	e->rcode = -1;
	if (len == 0 || dname_from_str(name, wire) == -1) {
		e->name = xstrdup(name);
		explain_cause(e, EXPLAIN_BAD_NAME, "\"%s\" is not a domain "
		    "name", name);
		return e;
	}
	dname_to_str(wire, rel, sizeof(rel));
	dots = dname_labels(wire) - 1;
	/* A short name stays relative: the search list completes it. */
	e->name = xasprintf("%s%s", rel, strcmp(rel, ".") == 0 || (!absolute &&
	    dots < EXPLAIN_NDOTS && zone_match(v->zone, wire) < 0) ? "" : ".");
	if (zone_match(v->zone, wire) >= 0) {
		explain_in_zone(v, e, wire, type);
		if (!absolute && dots < EXPLAIN_NDOTS)
			explain_line(e, "note: with %d dots, fewer than "
			    "ndots:5, a pod asks its 3 search-list expansions "
			    "first; a trailing dot (%s) skips them", dots,
			    e->name);
	} else if (!absolute && dots < EXPLAIN_NDOTS && zone != NULL)
		explain_search(v, e, wire, rel, dots, zone, type);
	else
		explain_cause(e, EXPLAIN_NOT_IN_ZONE, "%s is outside this "
		    "kubernetes block's zones (%s): petdns hands it to the "
		    "next directive, as forward", e->name, explain_join(
		    (const char *const *)v->cfg->zones, v->cfg->nzones, zones,
		    sizeof(zones)));
	if (!v->synced)
		explain_line(e, "petdns has not listed the whole cluster yet: "
		    "what it knows may be incomplete");
	return e;
}

void
explain_free(struct explain *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nrecords; i++) {
		free(e->records[i].rr);
		free(e->records[i].from);
	}
	free(e->records);
	xstrv_free(e->lines, e->nlines);
	free(e->name);
	free(e);
}

int
explain_type(const char *text, const char *name, uint16_t *type)
{
	size_t	l = name != NULL ? strlen(name) : 0;

	if (text != NULL && *text != '\0') {
		if ((*type = ldns_get_rr_type_by_name(text)) == 0)
			return -1;
		return 0;
	}
	while (l > 0 && name[l - 1] == '.')
		l--;
	if (l > 0 && name[0] == '_')
		*type = LDNS_RR_TYPE_SRV;
	else if ((l >= 12 && strncasecmp(name + l - 12, "in-addr.arpa",
	    12) == 0) || (l >= 8 && strncasecmp(name + l - 8, "ip6.arpa",
	    8) == 0))
		*type = LDNS_RR_TYPE_PTR;
	else
		*type = LDNS_RR_TYPE_A;
	return 0;
}
