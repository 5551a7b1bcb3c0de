/* wire.c -- plain queries parsed and answers written by hand: the fast path's packets, no allocation. */
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "wire.h"

#define WIRE_TYPE_NS	2
#define WIRE_TYPE_CNAME	5
#define WIRE_TYPE_SOA	6
#define WIRE_TYPE_PTR	12
#define WIRE_TYPE_MX	15
#define WIRE_TYPE_AAAA	28
#define WIRE_TYPE_A	1
#define WIRE_TYPE_OPT	41
#define WIRE_TYPE_IXFR	251
#define WIRE_TYPE_AXFR	252
#define WIRE_CLASS_IN	1
#define WIRE_OPT_LEN	11
/* Our advertised EDNS size, as server.h's SERVER_EDNS_SIZE. */
#define WIRE_EDNS_SIZE	1232
/* ldns stores compression offsets below this. */
#define WIRE_PTR_MAX	16384

bool
wire_query_parse(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	size_t	pos = WIRE_HEADER;

	if (len < WIRE_HEADER || (pkt[2] & 0xf8) != 0 ||
	    wire_get16(pkt + 4) != 1 || wire_get16(pkt + 6) != 0 ||
	    wire_get16(pkt + 8) != 0 || wire_get16(pkt + 10) > 1)
		return false;
	/* Labels only (a pointer in the first name is malformed). */
	while (pos < len && pkt[pos] != 0) {
		if ((pkt[pos] & 0xc0) != 0 ||
		    pos + pkt[pos] + 2 - WIRE_HEADER > WIRE_NAME_MAX)
			return false;
		pos += (size_t)pkt[pos] + 1;
	}
	if (pos + 5 > len)
		return false;
	/* Every field set here: no memset of lname's 255 bytes a query. */
	q->pkt = pkt;
	q->qname = pkt + WIRE_HEADER;
	q->namelen = pos + 1 - WIRE_HEADER;
	dname_lower_copy_len(q->lname, q->qname, q->namelen);
	q->edns = q->dnssec_ok = false;
	q->udp_size = 0;
	q->qtype = wire_get16(pkt + pos + 1);
	q->qclass = wire_get16(pkt + pos + 3);
	q->qend = pos + 5;
	if (q->qclass != WIRE_CLASS_IN || q->qtype == WIRE_TYPE_AXFR ||
	    q->qtype == WIRE_TYPE_IXFR || q->qtype == WIRE_TYPE_OPT)
		return false;
	if (wire_get16(pkt + 10) == 0)
		return q->qend == len;
	/* The OPT: root owner, version 0, options (ignored) filling the rest. */
	pos = q->qend;
	if (pos + WIRE_OPT_LEN > len || pkt[pos] != 0 ||
	    wire_get16(pkt + pos + 1) != WIRE_TYPE_OPT || pkt[pos + 6] != 0 ||
	    pos + WIRE_OPT_LEN + wire_get16(pkt + pos + 9) != len)
		return false;
	/* Options must be well formed TLVs, as ldns checks them. */
	for (size_t o = pos + WIRE_OPT_LEN; o < len;
	    o += 4 + wire_get16(pkt + o + 2))
		if (o + 4 > len || o + 4 + wire_get16(pkt + o + 2) > len)
			return false;
	q->edns = true;
	q->udp_size = wire_get16(pkt + pos + 3);
	/* ldns takes an all-zero OPT for no EDNS at all. */
	if (q->udp_size == 0)
		return false;
	q->dnssec_ok = (pkt[pos + 7] & 0x80) != 0;
	return true;
}

void
wire_msg_init(struct wire_msg *m, uint8_t *buf, size_t max,
    const struct wire_query *q)
{
	/* Not a memset: ptrs and ptrlen are written before they are read. */
	m->buf = buf;
	m->max = max;
	m->len = 0;
	m->count[0] = m->count[1] = m->count[2] = 0;
	m->start[0] = m->start[1] = m->start[2] = 0;
	m->nptrs = 0;
	m->full = false;
	m->q = q;
	if (q->qend > max) {
		m->full = true;
		return;
	}
	memcpy(buf, q->pkt, q->qend);
	buf[2] = (uint8_t)(0x80 | 0x04 | (q->pkt[2] & 0x01));
	buf[3] = (uint8_t)(q->pkt[3] & 0x10);
	memset(buf + 6, 0, 6);
	m->len = q->qend;
	m->start[WIRE_ANSWER] = m->start[WIRE_AUTHORITY] =
	    m->start[WIRE_ADDITIONAL] = q->qend;
}

/*
 * The question's suffixes are the first compression targets: noted before
 * the first record, not by wire_msg_init (a message wire_msg_load fills
 * needs none).
 */
static void
wire_msg_question_ptrs(struct wire_msg *m)
{
	const uint8_t	*buf = m->buf;
	size_t		 qend = m->q->qend;

	for (size_t pos = WIRE_HEADER; buf[pos] != 0 && m->nptrs < WIRE_PTRS;
	    pos += (size_t)buf[pos] + 1) {
		m->ptrlen[m->nptrs] = (uint8_t)(qend - 4 - pos);
		m->ptrs[m->nptrs++] = (uint16_t)pos;
	}
}

/* Does the (possibly compressed) name at off in buf equal name, ignoring case? */
static bool
wire_name_eq(const uint8_t *buf, size_t len, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 128 && off < len; ) {
		if ((buf[off] & 0xc0) == 0xc0) {
			if (off + 1 >= len)
				return false;
			off = (size_t)(wire_get16(buf + off) & 0x3fff);
			hops++;
			continue;
		}
		if (buf[off] != name[0])
			return false;
		if (name[0] == 0)
			return true;
		if (off + name[0] >= len)
			return false;
		/* Both are mostly lower case already: bytes first, then folded. */
		if (memcmp(buf + off + 1, name + 1, name[0]) != 0)
			for (size_t i = 1; i <= name[0]; i++)
				if (dname_lower_byte(buf[off + i]) !=
				    dname_lower_byte(name[i]))
					return false;
		off += (size_t)buf[off] + 1;
		name += name[0] + 1;
	}
	return false;
}

static bool
wire_room(struct wire_msg *m, size_t n)
{
	if (m->len + n > m->max)
		m->full = true;
	return !m->full;
}

/* ldns's compression: the longest known suffix becomes a pointer. */
static void
wire_put_name(struct wire_msg *m, const uint8_t *name)
{
	size_t	rem;		/* the length of the suffix at name */

	/* Most owners are the question's name as asked: its offset at once. */
	if (name == m->q->qname && m->nptrs > 0) {
		if (wire_room(m, 2)) {
			wire_put16(m->buf + m->len,
			    (uint16_t)(0xc000 | WIRE_HEADER));
			m->len += 2;
		}
		return;
	}
	rem = dname_length(name);
	for (;;) {
		if (name[0] == 0) {
			if (wire_room(m, 1))
				m->buf[m->len++] = 0;
			return;
		}
		/*
		 * ptrs are where labels were written: length bytes. A suffix
		 * of another length or first label cannot match: compared only
		 * when both agree (the first match wins, as before).
		 */
		for (size_t i = 0; i < m->nptrs; i++)
			if (m->buf[m->ptrs[i]] == name[0] && m->ptrlen[i] == rem &&
			    wire_name_eq(m->buf, m->len, m->ptrs[i], name)) {
				if (wire_room(m, 2)) {
					wire_put16(m->buf + m->len,
					    (uint16_t)(0xc000 | m->ptrs[i]));
					m->len += 2;
				}
				return;
			}
		if (!wire_room(m, (size_t)name[0] + 1))
			return;
		if (m->len < WIRE_PTR_MAX && m->nptrs < WIRE_PTRS) {
			m->ptrlen[m->nptrs] = (uint8_t)rem;
			m->ptrs[m->nptrs++] = (uint16_t)m->len;
		}
		memcpy(m->buf + m->len, name, (size_t)name[0] + 1);
		m->len += (size_t)name[0] + 1;
		rem -= (size_t)name[0] + 1;
		name += name[0] + 1;
	}
}

/* Length of the uncompressed name at p within end; 0 when malformed. */
static size_t
wire_name_len(const uint8_t *p, const uint8_t *end)
{
	size_t	n = 0;

	while (p + n < end && p[n] != 0) {
		if ((p[n] & 0xc0) != 0)
			return 0;
		n += (size_t)p[n] + 1;
	}
	return p + n < end && n < WIRE_NAME_MAX ? n + 1 : 0;
}

/* Copies bytes, and names compressed; false when the rdata is malformed. */
static bool
wire_put_rdata(struct wire_msg *m, uint16_t type, const uint8_t *rd,
    uint16_t rdlen)
{
	const uint8_t	*end = rd + rdlen;
	size_t		 skip = type == WIRE_TYPE_MX ? 2 : 0;
	int		 names = type == WIRE_TYPE_SOA ? 2 : 1;

	if (type != WIRE_TYPE_NS && type != WIRE_TYPE_CNAME &&
	    type != WIRE_TYPE_SOA && type != WIRE_TYPE_PTR &&
	    type != WIRE_TYPE_MX) {
		if (wire_room(m, rdlen))
			memcpy(m->buf + m->len, rd, rdlen);
		m->len += m->full ? 0 : rdlen;
		return true;
	}
	if (skip > rdlen || !wire_room(m, skip))
		return skip <= rdlen;
	memcpy(m->buf + m->len, rd, skip);
	m->len += skip;
	rd += skip;
	for (int i = 0; i < names; i++) {
		size_t	n = wire_name_len(rd, end);

		if (n == 0)
			return false;
		wire_put_name(m, rd);
		rd += n;
	}
	if (wire_room(m, (size_t)(end - rd)))
		memcpy(m->buf + m->len, rd, (size_t)(end - rd));
	m->len += m->full ? 0 : (size_t)(end - rd);
	return true;
}

void
wire_msg_rr(struct wire_msg *m, enum wire_section sec, const uint8_t *owner,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t	 mark = m->len, nptrs, rdpos;

	if (m->full)
		return;
	if (m->nptrs == 0 && m->len == m->q->qend)
		wire_msg_question_ptrs(m);
	nptrs = m->nptrs;
	for (int s = (int)sec + 1; s <= WIRE_ADDITIONAL; s++)
		m->start[s] = m->len;
	wire_put_name(m, owner);
	if (!wire_room(m, 10))
		return;
	wire_put16(m->buf + m->len, type);
	wire_put16(m->buf + m->len + 2, WIRE_CLASS_IN);
	wire_put16(m->buf + m->len + 4, (uint16_t)(ttl >> 16));
	wire_put16(m->buf + m->len + 6, (uint16_t)ttl);
	rdpos = m->len + 10;
	m->len = rdpos;
	if (!wire_put_rdata(m, type, rdata, rdlen)) {
		/* ldns too drops records whose data it cannot parse. */
		m->len = mark;
		m->nptrs = nptrs;
		return;
	}
	if (m->full)
		return;
	wire_put16(m->buf + rdpos - 2, (uint16_t)(m->len - rdpos));
	m->count[sec]++;
	for (int s = (int)sec + 1; s <= WIRE_ADDITIONAL; s++)
		m->start[s] = m->len;
}

size_t
wire_msg_finish(struct wire_msg *m, int rcode, size_t limit)
{
	size_t	 opt = m->q->edns ? WIRE_OPT_LEN : 0, len = m->len;
	uint8_t	*b = m->buf;

	if (m->full)
		return 0;
	if (limit > m->max)
		limit = m->max;
	b[3] = (uint8_t)((b[3] & 0xf0) | (rcode & 0x0f));
	wire_put16(b + 6, m->count[WIRE_ANSWER]);
	wire_put16(b + 8, m->count[WIRE_AUTHORITY]);
	wire_put16(b + 10, m->count[WIRE_ADDITIONAL]);
	if (len + opt > limit) {
		len = m->start[WIRE_ADDITIONAL];
		wire_put16(b + 10, 0);
	}
	if (len + opt > limit) {
		len = m->q->qend;
		wire_put16(b + 6, 0);
		wire_put16(b + 8, 0);
		b[2] |= 0x02;
	}
	if (len + opt > limit)
		return 0;
	/* Later calls start from what this one kept. */
	m->len = len;
	if (len <= m->start[WIRE_ADDITIONAL]) {
		m->count[WIRE_ADDITIONAL] = 0;
		m->start[WIRE_ADDITIONAL] = len;
	}
	if (len == m->q->qend) {
		m->count[WIRE_ANSWER] = m->count[WIRE_AUTHORITY] = 0;
		m->start[WIRE_AUTHORITY] = len;
	}
	if (opt != 0) {
		memset(b + len, 0, WIRE_OPT_LEN);
		wire_put16(b + len + 1, WIRE_TYPE_OPT);
		wire_put16(b + len + 3, WIRE_EDNS_SIZE);
		b[len + 7] = m->q->dnssec_ok ? 0x80 : 0;
		wire_put16(b + 10, (uint16_t)(wire_get16(b + 10) + 1));
	}
	return len + opt;
}

bool
wire_msg_save(const struct wire_msg *m, uint8_t *dst, size_t room,
    struct wire_saved *saved)
{
	size_t	qend = m->q->qend, len = m->len - qend;

	if (m->full || len > room || len > UINT16_MAX)
		return false;
	memcpy(dst, m->buf + qend, len);
	saved->len = (uint16_t)len;
	for (int s = 0; s < 3; s++) {
		saved->count[s] = m->count[s];
		saved->start[s] = (uint16_t)(m->start[s] - qend);
	}
	return true;
}

bool
wire_msg_load(struct wire_msg *m, const uint8_t *src,
    const struct wire_saved *saved)
{
	size_t	qend = m->q->qend;

	if (m->full || m->len != qend || qend + saved->len > m->max)
		return false;
	memcpy(m->buf + qend, src, saved->len);
	m->len = qend + saved->len;
	for (int s = 0; s < 3; s++) {
		m->count[s] = saved->count[s];
		m->start[s] = qend + saved->start[s];
	}
	return true;
}

size_t
wire_truncate(const uint8_t *msg, size_t len, uint8_t *out, size_t max)
{
	size_t	 qend, pos, opt = 0, optlen = 0;
	unsigned n;

	if (len < WIRE_HEADER || wire_get16(msg + 4) != 1 ||
	    (qend = wire_skip_name(msg, len, WIRE_HEADER)) == 0 ||
	    (qend += 4) > len)
		return 0;
	n = (unsigned)wire_get16(msg + 6) + wire_get16(msg + 8) +
	    wire_get16(msg + 10);
	for (pos = qend; n > 0; n--) {
		size_t	f = wire_rr_fields(msg, len, pos);

		if (f == 0)
			return 0;
		if (wire_get16(msg + f) == WIRE_TYPE_OPT && msg[pos] == 0) {
			opt = pos;
			optlen = wire_rr_end(msg, f) - pos;
		}
		pos = wire_rr_end(msg, f);
	}
	if (qend + optlen > max)
		return 0;
	memmove(out, msg, qend);
	memmove(out + qend, msg + opt, optlen);
	out[2] |= 0x02;
	wire_put16(out + 6, 0);
	wire_put16(out + 8, 0);
	wire_put16(out + 10, optlen > 0 ? 1 : 0);
	return qend + optlen;
}

size_t
wire_rr_fields(const uint8_t *w, size_t len, size_t pos)
{
	if ((pos = wire_skip_name(w, len, pos)) == 0 || pos + 10 > len ||
	    wire_rr_end(w, pos) > len)
		return 0;
	return pos;
}

size_t
wire_skip_name(const uint8_t *w, size_t len, size_t pos)
{
	for (int labels = 0; pos < len && labels <= 128; labels++) {
		if (w[pos] == 0)
			return pos + 1;
		if ((w[pos] & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		if ((w[pos] & 0xc0) != 0)
			return 0;
		pos += (size_t)w[pos] + 1;
	}
	return 0;
}

/* Do the names at a and b (in msg, possibly compressed) match exactly? */
static bool
wire_same_owner(const uint8_t *msg, size_t len, size_t a, size_t b)
{
	uint8_t	 name[WIRE_NAME_MAX + 1];
	size_t	 n = 0;

	/* The usual case: both point at the question. */
	if (a + 1 < len && b + 1 < len && (msg[a] & 0xc0) == 0xc0 &&
	    msg[a] == msg[b] && msg[a + 1] == msg[b + 1])
		return true;
	/* Expand a, then compare b against it. */
	for (int hops = 0; hops < 128 && a < len; ) {
		if ((msg[a] & 0xc0) == 0xc0) {
			if (a + 1 >= len)
				return false;
			a = (size_t)(wire_get16(msg + a) & 0x3fff);
			hops++;
			continue;
		}
		if (n + msg[a] + 1 > WIRE_NAME_MAX || a + msg[a] >= len)
			return false;
		memcpy(name + n, msg + a, (size_t)msg[a] + 1);
		n += (size_t)msg[a] + 1;
		if (msg[a] == 0)
			break;
		a += (size_t)msg[a] + 1;
	}
	if (n == 0 || name[n - 1] != 0)
		return false;
	return wire_name_eq(msg, len, b, name);
}

bool
wire_shuffle(uint8_t *msg, size_t len)
{
	size_t	 own[256], rd[256], pos, n = 0, an;
	uint16_t type[256], rdl[256];
	uint8_t	 tmp[16];

	/* One record or none: nothing to shuffle (most answers; msg untouched either way). */
	if (len >= WIRE_HEADER && wire_get16(msg + 6) < 2)
		return true;
	if (len < WIRE_HEADER || (pos = wire_skip_name(msg, len,
	    WIRE_HEADER)) == 0 || pos + 4 > len)
		return false;
	pos += 4;
	an = wire_get16(msg + 6);
	for (size_t i = 0; i < an; i++) {
		size_t	f = wire_rr_fields(msg, len, pos);

		if (f == 0 || wire_get16(msg + f) == WIRE_TYPE_MX)
			return false;
		if ((wire_get16(msg + f) == WIRE_TYPE_A &&
		    wire_get16(msg + f + 8) == 4) ||
		    (wire_get16(msg + f) == WIRE_TYPE_AAAA &&
		    wire_get16(msg + f + 8) == 16)) {
			if (n == 256)
				return false;
			own[n] = pos;
			type[n] = wire_get16(msg + f);
			rdl[n] = wire_get16(msg + f + 8);
			rd[n++] = f + 10;
		}
		pos = wire_rr_end(msg, f);
	}
	/* Fisher-Yates over each record's group of equal owner and type. */
	for (size_t i = n; i > 1; i--) {
		size_t	 k = 0, pick;
		size_t	 group[256];

		for (size_t j = 0; j < i; j++)
			if (type[j] == type[i - 1] && (own[j] == own[i - 1] ||
			    wire_same_owner(msg, len, own[j], own[i - 1])))
				group[k++] = j;
		pick = group[(size_t)random() % k];
		memcpy(tmp, msg + rd[pick], rdl[pick]);
		memcpy(msg + rd[pick], msg + rd[i - 1], rdl[pick]);
		memcpy(msg + rd[i - 1], tmp, rdl[pick]);
	}
	return true;
}
