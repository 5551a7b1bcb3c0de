/* explain_render.c -- an explanation as plain text, JSON and TXT records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <ldns/ldns.h>

#include "dname.h"
#include "explain.h"
#include "xmalloc.h"

static const char *const explain_causes[] = {
	[EXPLAIN_RESOLVES] = "resolves",
	[EXPLAIN_NODATA] = "no-data",
	[EXPLAIN_BAD_NAME] = "bad-name",
	[EXPLAIN_NOT_IN_ZONE] = "not-in-zone",
	[EXPLAIN_SEARCH_PATH] = "search-path",
	[EXPLAIN_NO_NAME] = "no-such-name",
	[EXPLAIN_NS_MISSING] = "namespace-missing",
	[EXPLAIN_NS_FILTERED] = "namespace-filtered",
	[EXPLAIN_SVC_MISSING] = "service-missing",
	[EXPLAIN_SVC_FILTERED] = "service-filtered",
	[EXPLAIN_NOT_HEADLESS] = "not-headless",
	[EXPLAIN_NO_ENDPOINTS] = "no-endpoints",
	[EXPLAIN_NOT_READY] = "pod-not-ready",
	[EXPLAIN_SUBDOMAIN] = "subdomain-mismatch",
	[EXPLAIN_NO_HOSTNAME] = "no-hostname",
	[EXPLAIN_NOT_SELECTED] = "pod-not-selected",
	[EXPLAIN_PETSET_REPLICAS] = "petset-replicas",
	[EXPLAIN_PETSET_WAITING] = "petset-waiting",
	[EXPLAIN_NO_ENDPOINT] = "endpoint-missing",
	[EXPLAIN_NO_PORT] = "port-missing",
	[EXPLAIN_PODS_DISABLED] = "pods-disabled",
	[EXPLAIN_POD_UNKNOWN] = "pod-ip-unknown",
};

const char *
explain_cause_name(enum explain_cause c)
{
	if ((size_t)c >= sizeof(explain_causes) / sizeof(explain_causes[0]))
		return "unknown";
	return explain_causes[c];
}

/* NULL when petdns would not answer the name itself. */
static const char *
explain_rcode(const struct explain *e)
{
	const ldns_lookup_table	*t;

	if (e->rcode < 0)
		return NULL;
	t = ldns_lookup_by_id(ldns_rcodes, e->rcode);
	return t != NULL ? t->name : "?";
}

/* What every front end shows: a summary, the records, the explanation. */
static char **
explain_render(const struct explain *e, size_t *n)
{
	char	**lines = NULL, *type = ldns_rr_type2str(e->type);
	const char *rcode = explain_rcode(e);

	*n = 0;
	if (e->nrecords > 0)
		xstrv_push(&lines, n, xasprintf("%s %s: %s, %zu record%s (%s)",
		    e->name, type, rcode ? rcode : "NOERROR", e->nrecords,
		    e->nrecords == 1 ? "" : "s", explain_cause_name(e->cause)));
	else
		xstrv_push(&lines, n, xasprintf("%s %s: %s (%s)", e->name, type,
		    rcode ? rcode : "not answered here",
		    explain_cause_name(e->cause)));
	for (size_t i = 0; i < e->nlines; i++)
		xstrv_push(&lines, n, xstrdup(e->lines[i]));
	for (size_t i = 0; i < e->nrecords; i++)
		xstrv_push(&lines, n, xasprintf("%s <- %s", e->records[i].rr,
		    e->records[i].from));
	free(type);
	return lines;
}

char *
explain_text(const struct explain *e)
{
	size_t	  n, len = 1, pos = 0;
	char	**lines = explain_render(e, &n), *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	out = xmalloc(len);
	for (size_t i = 0; i < n; i++)
		pos += (size_t)sprintf(out + pos, "%s\n", lines[i]);
	out[pos] = '\0';
	xstrv_free(lines, n);
	return out;
}

char *
explain_json(const struct explain *e)
{
	struct json_object	*o = json_object_new_object();
	struct json_object	*recs = json_object_new_array();
	struct json_object	*lines = json_object_new_array();
	char			*type = ldns_rr_type2str(e->type), *out;
	const char		*rcode = explain_rcode(e);

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "rcode", rcode ?
	    json_object_new_string(rcode) : NULL);
	json_object_object_add(o, "resolves",
	    json_object_new_boolean(e->nrecords > 0));
	json_object_object_add(o, "cause",
	    json_object_new_string(explain_cause_name(e->cause)));
	for (size_t i = 0; i < e->nrecords; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "rr",
		    json_object_new_string(e->records[i].rr));
		json_object_object_add(r, "from",
		    json_object_new_string(e->records[i].from));
		json_object_array_add(recs, r);
	}
	for (size_t i = 0; i < e->nlines; i++)
		json_object_array_add(lines,
		    json_object_new_string(e->lines[i]));
	json_object_object_add(o, "records", recs);
	json_object_object_add(o, "explanation", lines);
	out = xasprintf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	free(type);
	return out;
}

const uint8_t *
explain_txt_target(const uint8_t *qname)
{
	static const char	label[] = "_explain";
	size_t			len = sizeof(label) - 1;

	if (qname[0] != len || strncasecmp((const char *)qname + 1, label,
	    len) != 0 || qname[len + 1] == 0)
		return NULL;
	return qname + len + 1;
}

/* One TXT record of owner holding text in character-strings of 255 bytes. */
static void
explain_txt_rr(const uint8_t *owner, const char *text, ldns_pkt *resp)
{
	ldns_rr	*rr = ldns_rr_new();
	uint8_t	 buf[256];
	size_t	 len = strlen(text);

	ldns_rr_set_owner(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
	    dname_length(owner), owner));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	/* Cluster state changes: nothing should keep this. */
	ldns_rr_set_ttl(rr, 0);
	do {
		size_t	chunk = len > 255 ? 255 : len;

		buf[0] = (uint8_t)chunk;
		memcpy(buf + 1, text, chunk);
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR,
		    chunk + 1, buf));
		text += chunk;
		len -= chunk;
	} while (len > 0);
	ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr);
}

void
explain_txt(const struct explain *e, const uint8_t *owner, ldns_pkt *resp)
{
	static const char	cut[] = "(cut short: petdns -explain or "
				    "/explain has the rest)";
	size_t			n, total = 0;
	char			**lines = explain_render(e, &n);

	for (size_t i = 0; i < n; i++) {
		total += strlen(lines[i]);
		if (total + sizeof(cut) > EXPLAIN_TXT_MAX) {
			explain_txt_rr(owner, cut, resp);
			break;
		}
		explain_txt_rr(owner, lines[i], resp);
	}
	xstrv_free(lines, n);
}
