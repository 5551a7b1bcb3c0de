/* dname.c -- wire-format domain names; parsing of text goes through ldns. */
#include <ctype.h>
#include <endian.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dname.h"
#include "object.h"
#include "xmalloc.h"

size_t
dname_length(const uint8_t *n)
{
	const uint8_t	*p = n;

	while (*p != 0)
		p += *p + 1;
	return (size_t)(p - n) + 1;
}

/*
 * Eight bytes a step (SWAR): each byte in 'A'..'Z' gets bit 0x20. Length
 * bytes (0-63) are never in that range, so the whole name is folded as is.
 */
void
dname_lower(uint8_t *n)
{
	dname_lower_copy_len(n, n, dname_length(n));
}

/* Eight bytes of src folded into dst. */
static void
dname_lower8(uint8_t *dst, const uint8_t *src)
{
	const uint64_t	ones = 0x0101010101010101u;
	uint64_t	w, low, upper;

	memcpy(&w, src, 8);
	low = w & 0x7f * ones;
	/* High bit of each byte: >= 'A', and not > 'Z', and ASCII. */
	upper = (low + (0x80 - 'A') * ones) & ~(low + (0x7f - 'Z') * ones) &
	    ~w & 0x80 * ones;
	w |= upper >> 2;
	memcpy(dst, &w, 8);
}

/*
 * The last eight bytes overlap those before (folding twice changes
 * nothing): no byte loop for the tail, and no memcpy of a length known
 * only now (a libc call or a rep movs, slower than the copy itself).
 */
void
dname_lower_copy_len(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t	i;

	if (len < 8) {
		for (i = 0; i < len; i++)
			dst[i] = dname_lower_byte(src[i]);
		return;
	}
	for (i = 0; i + 8 < len; i += 8)
		dname_lower8(dst + i, src + i);
	dname_lower8(dst + len - 8, src + len - 8);
}

void
dname_lower_copy(uint8_t dst[DNAME_MAX], const uint8_t *name)
{
	dname_lower_copy_len(dst, name, dname_length(name));
}

int
dname_from_str(const char *text, uint8_t wire[DNAME_MAX])
{
	ldns_rdf	*rdf = NULL;
	size_t		 len;

	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK)
		return -1;
	len = ldns_rdf_size(rdf);
	if (len > DNAME_MAX) {
		ldns_rdf_deep_free(rdf);
		return -1;
	}
	memcpy(wire, ldns_rdf_data(rdf), len);
	ldns_rdf_deep_free(rdf);
	dname_lower(wire);
	return (int)len;
}

uint8_t **
dname_from_strv(char *const *names, size_t n)
{
	uint8_t	**out = xcalloc(n, sizeof(*out));
	uint8_t	  wire[DNAME_MAX];
	int	  len;

	for (size_t i = 0; i < n; i++)
		if ((len = dname_from_str(names[i], wire)) > 0) {
			out[i] = xmalloc((size_t)len);
			memcpy(out[i], wire, (size_t)len);
		}
	return out;
}

void
dname_strv_free(uint8_t **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
dname_build(uint8_t wire[DNAME_MAX], const char *const *labels, size_t n,
    const uint8_t *suffix)
{
	size_t	pos = 0, slen = dname_length(suffix);

	for (size_t i = 0; i < n; i++) {
		size_t	l = strlen(labels[i]);

		if (l == 0 || l > 63 || pos + 1 + l + slen > DNAME_MAX)
			return -1;
		wire[pos++] = (uint8_t)l;
		memcpy(wire + pos, labels[i], l);
		pos += l;
	}
	memcpy(wire + pos, suffix, slen);
	return (int)(pos + slen);
}

const uint8_t *
dname_parent(const uint8_t *n)
{
	return *n == 0 ? n : n + *n + 1;
}

int
dname_labels(const uint8_t *n)
{
	int	count = 0;

	for (; *n != 0; n += *n + 1)
		count++;
	return count;
}

bool
dname_equal(const uint8_t *a, const uint8_t *b)
{
	size_t	la = dname_length(a);

	return la == dname_length(b) && memcmp(a, b, la) == 0;
}

bool
dname_equal_nocase(const uint8_t *a, const uint8_t *b)
{
	size_t	la = dname_length(a);

	if (la != dname_length(b))
		return false;
	for (size_t i = 0; i < la; i++)
		if (dname_lower_byte(a[i]) != dname_lower_byte(b[i]))
			return false;
	return true;
}

bool
dname_is_under(const uint8_t *name, const uint8_t *apex)
{
	return dname_is_under_len(name, dname_length(name), apex,
	    dname_length(apex));
}

bool
dname_is_under_len(const uint8_t *name, size_t nlen, const uint8_t *apex,
    size_t alen)
{
	/* The bytes first: most names asked of a zone's other apexes end otherwise. */
	if (alen > nlen || memcmp(name + nlen - alen, apex, alen) != 0)
		return false;
	/* Then that they start at a label ("xcluster.local" is not under). */
	while (nlen > alen) {
		nlen -= (size_t)*name + 1;
		name += *name + 1;
	}
	return nlen == alen;
}

int
dname_compare(const uint8_t *a, const uint8_t *b)
{
	size_t	la = dname_length(a), lb = dname_length(b);
	int	c = memcmp(a, b, la < lb ? la : lb);

	if (c != 0 || la == lb)
		return c;
	return la < lb ? -1 : 1;
}

/* Inlined into dname_hash, which every query calls. */
static inline uint64_t
dname_fold(uint64_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 i = 0;
	uint64_t	 w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	/*
	 * The tail as a little-endian word, zero-padded: below eight bytes in
	 * all, a byte at a time; else the last eight read and shifted (no
	 * memcpy call for a length known only now).
	 */
	if (i < len && len < 8) {
		w = 0;
		for (size_t k = 0; i + k < len; k++)
			w |= (uint64_t)b[i + k] << (8 * k);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
	} else if (i < len) {
		memcpy(&w, b + len - 8, 8);
		w = le64toh(w) >> (8 * (8 - (len - i)));
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
	}
	return h;
}

uint64_t
dname_hash_fold(uint64_t h, const void *p, size_t len)
{
	return dname_fold(h, p, len);
}

/*
 * Eight bytes a step, then a final mix (a murmur3-style finalizer) so that
 * every byte reaches the high bits rtable's home slots are picked by.
 */
uint64_t
dname_hash(const uint8_t *n)
{
	return dname_hash_len(n, dname_length(n));
}

uint64_t
dname_hash_len(const uint8_t *n, size_t len)
{
	uint64_t	h = dname_fold(14695981039346656037u ^ len, n, len);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return h;
}

/* The reverse zones' apexes, in wire form. */
static const uint8_t dname_in_addr[] = "\7in-addr\4arpa";
static const uint8_t dname_ip6[] = "\3ip6\4arpa";

int
dname_reverse(const struct object_ip *ip, uint8_t wire[DNAME_MAX])
{
	size_t	pos = 0;

	if (ip->family == AF_INET) {
		char	text[INET_ADDRSTRLEN], *end;

		/* "a.b.c.d" -> d.c.b.a: the labels in reverse order. */
		object_ip_format(ip, text, sizeof(text));
		end = text + strlen(text);
		while (end > text) {
			char	*dot = end;

			while (dot > text && dot[-1] != '.')
				dot--;
			wire[pos] = (uint8_t)(end - dot);
			memcpy(wire + pos + 1, dot, (size_t)(end - dot));
			pos += (size_t)(end - dot) + 1;
			end = dot > text ? dot - 1 : text;
		}
		memcpy(wire + pos, dname_in_addr, sizeof(dname_in_addr));
		return (int)(pos + sizeof(dname_in_addr));
	}
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		wire[pos++] = 1;
		wire[pos++] = (uint8_t)hex[ip->addr[i] & 0xf];
		wire[pos++] = 1;
		wire[pos++] = (uint8_t)hex[ip->addr[i] >> 4];
	}
	memcpy(wire + pos, dname_ip6, sizeof(dname_ip6));
	return (int)(pos + sizeof(dname_ip6));
}

/*
 * One label's value: decimal 0-255 (in-addr.arpa) or one lower-case hex
 * digit (ip6.arpa); -1 when neither, or not as dname_reverse spells it
 * ("01" and "001" name no address).
 */
static int
dname_octet(const uint8_t *label, bool v4)
{
	int	v = 0;

	if (!v4) {
		if (label[0] != 1 || !isxdigit(label[1]) || isupper(label[1]))
			return -1;
		return isdigit(label[1]) ? label[1] - '0' : label[1] - 'a' + 10;
	}
	if (label[0] < 1 || label[0] > 3 || (label[0] > 1 && label[1] == '0'))
		return -1;
	for (uint8_t i = 1; i <= label[0]; i++) {
		if (!isdigit(label[i]))
			return -1;
		v = v * 10 + label[i] - '0';
	}
	return v;
}

int
dname_address(const uint8_t *lname, struct object_ip *ip)
{
	int		 labels = dname_labels(lname);
	bool		 v4 = labels == 6;
	const uint8_t	*p = lname;

	if (labels != 6 && labels != 34)
		return -1;
	memset(ip, 0, sizeof(*ip));
	ip->family = v4 ? AF_INET : AF_INET6;
	for (int i = 0; i < labels - 2; i++, p = dname_parent(p)) {
		int	v = dname_octet(p, v4);

		if (v < 0 || v > 255)
			return -1;
		if (v4)
			ip->addr[3 - i] = (uint8_t)v;
		else
			ip->addr[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	/* Each label as dname_reverse writes it: the name is canonical. */
	return dname_equal(p, v4 ? dname_in_addr : dname_ip6) ? 0 : -1;
}

char *
dname_to_str(const uint8_t *n, char *buf, size_t len)
{
	ldns_rdf	*rdf;
	char		*s;
	size_t		 l;

	rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dname_length(n), n);
	s = rdf ? ldns_rdf2str(rdf) : NULL;
	ldns_rdf_deep_free(rdf);
	if (s == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	l = strlen(s);
	if (l > 1 && s[l - 1] == '.')
		s[l - 1] = '\0';
	snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}
