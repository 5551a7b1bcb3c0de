/* records.c -- the Kubernetes DNS rules (spec 1.1.0) as CoreDNS serves them, objects to records. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "config.h"
#include "dname.h"
#include "object.h"
#include "records.h"
#include "store.h"
#include "wire.h"
#include "xmalloc.h"

/* A ready endpoint address with its DNS label, gathered across a service's slices. */
struct records_ep {
	char	label[64];
	struct object_ip ip;
	const struct object_slice *slice;
};

struct records_eps {
	struct records_ep *ep;
	size_t	n;
	size_t	cap;
};

/* One SRV record before its weight is known. */
struct records_srv {
	uint8_t	name[DNAME_MAX];
	uint8_t	target[DNAME_MAX];
	uint16_t port;
};

struct records_srvs {
	struct records_srv *srv;
	size_t	n;
	size_t	cap;
};

/*
 * Names and rdata, bump-allocated: a list is remade for every change of a
 * service (two allocations a record were a tenth of a change's CPU), and
 * its first block is kept for the next.
 */
#define RECORDS_BLOCK	4096
struct records_block {
	struct records_block *next;
	size_t	used;
	size_t	size;
	uint8_t	data[];
};

void
records_clear(struct records_list *l)
{
	struct records_block	*b, *next;

	l->n = 0;
	if (l->blocks == NULL)
		return;
	/* The oldest block, last, is kept. */
	for (b = l->blocks; b->next != NULL; b = next) {
		next = b->next;
		free(b);
	}
	b->used = 0;
	l->blocks = b;
}

void
records_free(struct records_list *l)
{
	records_clear(l);
	free(l->blocks);
	free(l->rr);
	memset(l, 0, sizeof(*l));
}

static uint8_t *
records_copy_in(struct records_list *l, const uint8_t *src, size_t len)
{
	struct records_block	*b = l->blocks;
	uint8_t			*p;

	if (b == NULL || b->size - b->used < len) {
		size_t	size = len > RECORDS_BLOCK ? len : RECORDS_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->next = l->blocks;
		b->used = 0;
		b->size = size;
		l->blocks = b;
	}
	p = b->data + b->used;
	b->used += len;
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

void
records_add(struct records_list *l, const uint8_t *name, uint16_t type,
    const uint8_t *rdata, size_t rdlen)
{
	struct records_rr	*rr;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->rr = xreallocarray(l->rr, l->cap, sizeof(*l->rr));
	}
	rr = &l->rr[l->n++];
	rr->name = records_copy_in(l, name, dname_length(name));
	rr->type = type;
	rr->rdlen = (uint16_t)rdlen;
	rr->ptr = false;
	rr->rdata = records_copy_in(l, rdata, rdlen);
}

/* An A or AAAA record; ptr: the address's reverse name also answers PTR with name. */
static void
records_add_ip(struct records_list *l, const uint8_t *name,
    const struct object_ip *ip, bool ptr)
{
	if (ip->family == AF_INET)
		records_add(l, name, LDNS_RR_TYPE_A, ip->addr, 4);
	else
		records_add(l, name, LDNS_RR_TYPE_AAAA, ip->addr, 16);
	l->rr[l->n - 1].ptr = ptr;
}

static void
records_add_name(struct records_list *l, const uint8_t *name, uint16_t type,
    const uint8_t *target)
{
	records_add(l, name, type, target, dname_length(target));
}

static bool
records_zone_is_reverse(const char *zone)
{
	size_t	l = strlen(zone);

	return (l >= 12 && strcmp(zone + l - 12, "in-addr.arpa") == 0) ||
	    (l >= 8 && strcmp(zone + l - 8, "ip6.arpa") == 0);
}

static int
records_zone_wire(const char *zone, uint8_t wire[DNAME_MAX])
{
	return dname_from_str(zone, wire);
}

static bool
records_namespace_served(const struct config_kubernetes *cfg, const char *ns)
{
	if (cfg->nnamespaces == 0)
		return true;
	for (size_t i = 0; i < cfg->nnamespaces; i++)
		if (strcmp(cfg->namespaces[i], ns) == 0)
			return true;
	return false;
}

/* src into dst of len bytes, cut to fit (snprintf "%s" cost ~800 instructions). */
static void
records_copy(char *dst, size_t len, const char *src)
{
	size_t	n;

	if (len == 0)
		return;
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
records_endpoint_label(const struct config_kubernetes *cfg,
    const char *hostname, const char *pod_name, const struct object_ip *ip,
    char *buf, size_t len)
{
	char	text[INET6_ADDRSTRLEN + 1];	/* room for a trailing "0" */
	size_t	l;

	if (hostname != NULL && *hostname != '\0') {
		records_copy(buf, len, hostname);
		return;
	}
	if (cfg != NULL && cfg->endpoint_pod_names && pod_name != NULL &&
	    *pod_name != '\0') {
		records_copy(buf, len, pod_name);
		return;
	}
	object_ip_format(ip, text, sizeof(text) - 1);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	l = strlen(text);
	/* A label may not end in '-': "fd00::" becomes "fd00--0". */
	if (l > 0 && text[l - 1] == '-') {
		text[l] = '0';
		text[l + 1] = '\0';
	}
	records_copy(buf, len, text);
}

int
records_dashed_ip(const char *label, struct object_ip *ip)
{
	char	text[INET6_ADDRSTRLEN + 1];
	size_t	dashes = 0, l = strlen(label);
	char	sep;

	if (l == 0 || l >= sizeof(text))
		return -1;
	for (size_t i = 0; i < l; i++)
		dashes += label[i] == '-';
	sep = dashes == 3 && strstr(label, "--") == NULL ? '.' : ':';
	for (size_t i = 0; i <= l; i++)
		text[i] = label[i] == '-' ? sep : label[i];
	return object_ip_parse(text, ip);
}

struct records_walk {
	const struct config_kubernetes	*cfg;
	records_endpoint_fn		 fn;
	void				*arg;
};

static void
records_walk_cb(const struct object *obj, void *arg)
{
	struct records_walk		*w = arg;
	const struct object_slice	*s = &obj->u.slice;
	char				 label[64];

	for (size_t i = 0; i < s->nendpoints; i++) {
		const struct object_endpoint *e = &s->endpoints[i];

		for (size_t j = 0; j < e->naddrs; j++) {
			const struct object_ip *ip = object_endpoint_addr(e, j);

			records_endpoint_label(w->cfg, e->hostname,
			    object_endpoint_pod_name(e), ip, label, sizeof(label));
			w->fn(obj, e, ip, label, w->arg);
		}
	}
}

void
records_foreach_endpoint(const struct config_kubernetes *cfg,
    const struct store *st, const struct object *svc, records_endpoint_fn fn,
    void *arg)
{
	struct records_walk	w = { .cfg = cfg, .fn = fn, .arg = arg };

	store_foreach_slice(st, svc->ns, svc->name, records_walk_cb, &w);
}

/* Gathers the ready endpoint addresses. */
static void
records_gather_cb(const struct object *slice, const struct object_endpoint *e,
    const struct object_ip *ip, const char *label, void *arg)
{
	struct records_eps	*eps = arg;
	struct records_ep	*ep;

	if (!e->ready)
		return;
	if (eps->n == eps->cap) {
		eps->cap = eps->cap ? eps->cap * 2 : 8;
		eps->ep = xreallocarray(eps->ep, eps->cap, sizeof(*eps->ep));
	}
	ep = &eps->ep[eps->n++];
	records_copy(ep->label, sizeof(ep->label), label);
	ep->ip = *ip;
	ep->slice = &slice->u.slice;
}

static void
records_srv_add(struct records_srvs *srvs, const uint8_t *name,
    const uint8_t *target, uint16_t port)
{
	struct records_srv	*srv;

	if (srvs->n == srvs->cap) {
		srvs->cap = srvs->cap ? srvs->cap * 2 : 8;
		srvs->srv = xreallocarray(srvs->srv, srvs->cap,
		    sizeof(*srvs->srv));
	}
	srv = &srvs->srv[srvs->n++];
	memcpy(srv->name, name, dname_length(name));
	memcpy(srv->target, target, dname_length(target));
	srv->port = port;
}

static int
records_srv_cmp(const struct records_srv *x, const struct records_srv *y)
{
	int	c;

	if ((c = dname_compare(x->name, y->name)) != 0)
		return c;
	if ((c = dname_compare(x->target, y->target)) != 0)
		return c;
	return (int)x->port - (int)y->port;
}

static int
records_srv_ptr_cmp(const void *a, const void *b)
{
	return records_srv_cmp(*(const struct records_srv *const *)a,
	    *(const struct records_srv *const *)b);
}

/*
 * Emits the SRV records, deduplicated, with weight max(1, 100/N) per RRset.
 * Sorted by pointer: an entry is two names' room (moving them was 4% of an
 * endpoint change's CPU).
 */
static void
records_srv_emit(struct records_srvs *srvs, struct records_list *out)
{
	const struct records_srv **p;
	uint8_t	rdata[6 + DNAME_MAX];

	if (srvs->n == 0)
		return;
	p = xreallocarray(NULL, srvs->n, sizeof(*p));
	for (size_t i = 0; i < srvs->n; i++)
		p[i] = &srvs->srv[i];
	qsort(p, srvs->n, sizeof(*p), records_srv_ptr_cmp);
	for (size_t i = 0, j; i < srvs->n; i = j) {
		size_t	count = 0;

		for (j = i; j < srvs->n && dname_equal(p[j]->name, p[i]->name);
		    j++)
			if (j == i || records_srv_cmp(p[j], p[j - 1]) != 0)
				count++;
		for (size_t k = i; k < j; k++) {
			uint16_t w = count >= 100 ? 1 : (uint16_t)(100 / count);

			if (k > i && records_srv_cmp(p[k], p[k - 1]) == 0)
				continue;
			wire_put16(rdata, 0);
			wire_put16(rdata + 2, w);
			wire_put16(rdata + 4, p[k]->port);
			memcpy(rdata + 6, p[k]->target,
			    dname_length(p[k]->target));
			records_add(out, p[k]->name, LDNS_RR_TYPE_SRV, rdata,
			    6 + dname_length(p[k]->target));
		}
	}
	free(p);
}

static const char *
records_proto_label(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_UDP:
		return "_udp";
	case IPPROTO_SCTP:
		return "_sctp";
	default:
		return "_tcp";
	}
}

/* Adds _<port>._<proto>.<base> (named ports only) and the bare-name SRV. */
static void
records_srv_port(struct records_srvs *srvs, const uint8_t *base,
    const struct object_port *p, const uint8_t *target)
{
	uint8_t		 name[DNAME_MAX];
	char		 plabel[65];
	const char	*labels[2];

	records_srv_add(srvs, base, target, p->port);
	if (p->name == NULL || *p->name == '\0')
		return;
	snprintf(plabel, sizeof(plabel), "_%s", p->name);
	labels[0] = plabel;
	labels[1] = records_proto_label(p->proto);
	if (dname_build(name, labels, 2, base) != -1)
		records_srv_add(srvs, name, target, p->port);
}

static int
records_ep_cmp(const void *a, const void *b)
{
	const struct records_ep *x = a, *y = b;
	int	c;

	if ((c = (int)x->ip.family - (int)y->ip.family) != 0)
		return c;
	if ((c = memcmp(x->ip.addr, y->ip.addr, 16)) != 0)
		return c;
	return strcmp(x->label, y->label);
}

/* Endpoint names, their PTRs and (headless) the service's A/AAAA and SRV. */
static void
records_endpoints(const struct object *svc, struct records_eps *eps,
    const uint8_t *base, struct records_srvs *srvs, struct records_list *out)
{
	bool	headless = svc->u.svc.type == SERVICE_HEADLESS;

	for (size_t i = 0; i < eps->n; i++) {
		const struct records_ep *ep = &eps->ep[i];
		const char	*labels[1] = { ep->label };
		uint8_t		 name[DNAME_MAX];
		bool		 dup = i > 0 && records_ep_cmp(ep,
				    &eps->ep[i - 1]) == 0;
		bool		 dupip = i > 0 && object_ip_equal(&ep->ip,
				    &eps->ep[i - 1].ip);

		if (dname_build(name, labels, 1, base) == -1)
			continue;
		if (!dup)
			records_add_ip(out, name, &ep->ip, true);
		if (headless && !dupip)
			records_add_ip(out, base, &ep->ip, false);
		if (!headless)
			continue;
		for (size_t p = 0; p < ep->slice->nports; p++)
			records_srv_port(srvs, base, &ep->slice->ports[p],
			    name);
	}
}

static void
records_service_zone(const struct config_kubernetes *cfg,
    const struct object *svc, struct records_eps *eps, const uint8_t *zone,
    struct records_list *out)
{
	const struct object_service *s = &svc->u.svc;
	const char	*labels[3] = { svc->name, svc->ns, "svc" };
	uint8_t		 base[DNAME_MAX], target[DNAME_MAX];
	struct records_srvs srvs = { 0 };

	if (dname_build(base, labels, 3, zone) == -1)
		return;
	if (s->type == SERVICE_EXTERNALNAME) {
		if (s->external_name != NULL &&
		    dname_from_str(s->external_name, target) != -1)
			records_add_name(out, base, LDNS_RR_TYPE_CNAME, target);
		return;
	}
	if (s->type == SERVICE_CLUSTERIP) {
		for (size_t i = 0; i < s->nips; i++)
			records_add_ip(out, base, &s->ips[i], true);
		for (size_t i = 0; i < s->nports; i++)
			records_srv_port(&srvs, base, &s->ports[i], base);
	}
	records_endpoints(svc, eps, base, &srvs, out);
	records_srv_emit(&srvs, out);
	free(srvs.srv);
}

void
records_service(const struct config_kubernetes *cfg, const struct store *st,
    const struct object *svc, struct records_list *out)
{
	struct records_eps eps = { 0 };
	uint8_t		 zone[DNAME_MAX];

	if (!records_namespace_served(cfg, svc->ns))
		return;
	if (!cfg->noendpoints && svc->u.svc.type != SERVICE_EXTERNALNAME)
		records_foreach_endpoint(cfg, st, svc, records_gather_cb,
		    &eps);
	if (eps.n > 1)
		qsort(eps.ep, eps.n, sizeof(*eps.ep), records_ep_cmp);
	if (eps.n == 0 && (svc->u.svc.type == SERVICE_HEADLESS ||
	    (svc->u.svc.type == SERVICE_CLUSTERIP && cfg->ignore_empty_service)))
		goto done;
	for (size_t z = 0; z < cfg->nzones; z++) {
		if (records_zone_is_reverse(cfg->zones[z]) ||
		    records_zone_wire(cfg->zones[z], zone) == -1)
			continue;
		records_service_zone(cfg, svc, &eps, zone, out);
	}
done:
	free(eps.ep);
}

void
records_namespace(const struct config_kubernetes *cfg,
    const struct object *ns, struct records_list *out)
{
	const char	*labels[2] = { ns->name, "pod" };
	uint8_t		 zone[DNAME_MAX], name[DNAME_MAX];

	if (cfg->pods != PODS_INSECURE ||
	    !records_namespace_served(cfg, ns->name))
		return;
	for (size_t z = 0; z < cfg->nzones; z++) {
		if (records_zone_is_reverse(cfg->zones[z]) ||
		    records_zone_wire(cfg->zones[z], zone) == -1 ||
		    dname_build(name, labels, 2, zone) == -1)
			continue;
		records_add(out, name, RECORDS_TYPE_MARKER, NULL, 0);
	}
}

void
records_pod(const struct config_kubernetes *cfg, const struct object *pod,
    struct records_list *out)
{
	uint8_t		 zone[DNAME_MAX], name[DNAME_MAX];
	char		 label[64];
	const char	*labels[3] = { label, pod->ns, "pod" };

	if (cfg->pods != PODS_VERIFIED || pod->u.pod.deleting ||
	    !records_namespace_served(cfg, pod->ns))
		return;
	for (size_t z = 0; z < cfg->nzones; z++) {
		if (records_zone_is_reverse(cfg->zones[z]) ||
		    records_zone_wire(cfg->zones[z], zone) == -1)
			continue;
		for (size_t i = 0; i < pod->u.pod.nips; i++) {
			records_endpoint_label(NULL, NULL, NULL,
			    &pod->u.pod.ips[i], label, sizeof(label));
			if (dname_build(name, labels, 3, zone) != -1)
				records_add_ip(out, name, &pod->u.pod.ips[i],
				    false);
		}
	}
}

static void
records_apex_zone(const struct config_kubernetes *cfg, const uint8_t *zone,
    bool forward, uint32_t serial, const struct object_ip *ips, size_t nips,
    struct records_list *out)
{
	static const char *const ns_labels[2] = { "ns", "dns" };
	static const char *const hm_labels[1] = { "hostmaster" };
	static const char *const ver_labels[1] = { "dns-version" };
	static const uint8_t version[] = "\0051.1.0";
	uint8_t	ns[DNAME_MAX], hm[DNAME_MAX], name[DNAME_MAX];
	uint8_t	soa[2 * DNAME_MAX + 20];
	size_t	pos;

	if (dname_build(ns, ns_labels, 2, zone) == -1 ||
	    dname_build(hm, hm_labels, 1, zone) == -1)
		return;
	pos = dname_length(ns);
	memcpy(soa, ns, pos);
	memcpy(soa + pos, hm, dname_length(hm));
	pos += dname_length(hm);
	wire_put32(soa + pos, serial);
	wire_put32(soa + pos + 4, 7200);
	wire_put32(soa + pos + 8, 1800);
	wire_put32(soa + pos + 12, 86400);
	wire_put32(soa + pos + 16, cfg->ttl);
	records_add(out, zone, LDNS_RR_TYPE_SOA, soa, pos + 20);
	records_add_name(out, zone, LDNS_RR_TYPE_NS, ns);
	for (size_t i = 0; i < nips; i++)
		records_add_ip(out, ns, &ips[i], false);
	if (forward && dname_build(name, ver_labels, 1, zone) != -1)
		records_add(out, name, LDNS_RR_TYPE_TXT, version,
		    sizeof(version) - 1);
}

void
records_apex(const struct config_kubernetes *cfg, uint32_t serial,
    const struct object_ip *ips, size_t nips, struct records_list *out)
{
	uint8_t	zone[DNAME_MAX];

	for (size_t z = 0; z < cfg->nzones; z++)
		if (records_zone_wire(cfg->zones[z], zone) != -1)
			records_apex_zone(cfg, zone,
			    !records_zone_is_reverse(cfg->zones[z]), serial,
			    ips, nips, out);
}
