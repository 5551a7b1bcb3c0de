/* wire.h -- the common query parsed and its answer written in wire format, without ldns (the fast path). */
#ifndef PETDNS_WIRE_H
#define PETDNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_HEADER	12
#define WIRE_NAME_MAX	255
/* Name offsets remembered for compression; past that, names go uncompressed. */
#define WIRE_PTRS	64

/* Big-endian 16- and 32-bit fields, as every DNS header and record has them. */
static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)wire_get16(p) << 16 | wire_get16(p + 2);
}

static inline void
wire_put32(uint8_t *p, uint32_t v)
{
	wire_put16(p, (uint16_t)(v >> 16));
	wire_put16(p + 2, (uint16_t)v);
}

enum wire_section {
	WIRE_ANSWER,
	WIRE_AUTHORITY,
	WIRE_ADDITIONAL
};

/* A plain query: one question, at most one OPT; pointers into the packet. */
struct wire_query {
	const uint8_t	*pkt;
	const uint8_t	*qname;		/* as asked, uncompressed */
	uint8_t		 lname[WIRE_NAME_MAX];	/* qname in lower case, once */
	size_t		 namelen;	/* their length (dname_length), once */
	size_t		 qend;		/* end of the question */
	uint16_t	 qtype;
	uint16_t	 qclass;
	bool		 edns;
	bool		 dnssec_ok;
	uint16_t	 udp_size;	/* the OPT's; 0 without EDNS */
};

/*
 * Parses pkt (len bytes) when it is a plain query: QR clear, opcode QUERY,
 * one uncompressed question, no answer or authority records, and nothing
 * or one EDNS version 0 OPT in additional, ending the packet. Returns false
 * for anything else, which the ldns path then answers (errors included).
 */
bool	wire_query_parse(const uint8_t *pkt, size_t len, struct wire_query *);

/* A response being written into a caller's buffer; lives on the stack. */
struct wire_msg {
	uint8_t		*buf;
	size_t		 max;
	size_t		 len;		/* end of the records */
	size_t		 start[3];	/* where each section starts */
	uint16_t	 count[3];
	uint16_t	 ptrs[WIRE_PTRS];
	uint8_t		 ptrlen[WIRE_PTRS];	/* the suffix's length there, uncompressed */
	size_t		 nptrs;
	bool		 full;		/* something did not fit in max */
	const struct wire_query *q;
};

/*
 * Starts the response to q in buf: ID, opcode, RD and CD echoed, QR and AA
 * set, the question copied as asked.
 */
void	wire_msg_init(struct wire_msg *, uint8_t *buf, size_t max,
	    const struct wire_query *);
/*
 * Appends a record in section (sections in order). owner is an uncompressed
 * wire name; names in NS, CNAME, SOA, PTR and MX data and every owner are
 * compressed as ldns compresses them, so both paths render the same bytes.
 */
void	wire_msg_rr(struct wire_msg *, enum wire_section, const uint8_t *owner,
	    uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/*
 * Finishes the message for a client that takes limit bytes, as server.c's
 * render: additional records dropped, then answer and authority emptied
 * with TC set; an OPT (our size, the query's DO) when the query had one.
 * May be called again with a smaller limit. Returns the length, 0 when
 * even the question does not fit or the buffer overflowed.
 */
size_t	wire_msg_finish(struct wire_msg *, int rcode, size_t limit);
/*
 * The records of an unfinished message (after its question, no OPT) and
 * where its sections start, to be put back into another message to the
 * same question: compression pointers aim at the question or the records.
 */
struct wire_saved {
	uint16_t	len;
	uint16_t	count[3];
	uint16_t	start[3];	/* past the question */
};
/*
 * Copies m's records to dst (room bytes) and fills saved; false when they
 * do not fit or m overflowed its buffer.
 */
bool	wire_msg_save(const struct wire_msg *, uint8_t *dst, size_t room,
	    struct wire_saved *);
/*
 * Puts saved records (src) into m, as wire_msg_init left it for a query
 * with the same question, ready for wire_msg_finish (records appended
 * after would not be compressed against them); false when they do not fit.
 */
bool	wire_msg_load(struct wire_msg *, const uint8_t *src,
	    const struct wire_saved *);
/*
 * A response cut to its header, question and OPT (when it has one), TC
 * set: what to send a client when the whole would not fit a datagram, so
 * it asks again over TCP. Writes to out (max bytes; out may be msg);
 * returns the length, 0 when msg is malformed or out too small.
 */
size_t	wire_truncate(const uint8_t *msg, size_t len, uint8_t *out,
	    size_t max);
/*
 * loadbalance in wire form: shuffles the data of the answer's A and AAAA
 * records among those of the same owner and type (which is the order of
 * those records). False (msg untouched) when the answer holds MX records or
 * is malformed: the caller shuffles those the ldns way. An answer of one
 * record or none is true at once (there is nothing to shuffle).
 */
bool	wire_shuffle(uint8_t *msg, size_t len);

/*
 * The offset past the name at pos in a message of len bytes (a compression
 * pointer ends it); 0 when it is malformed or runs past the end.
 */
size_t	wire_skip_name(const uint8_t *, size_t len, size_t pos);
/*
 * The record at pos: the offset of its type (past its owner), when all of
 * it, data too, lies within len; 0 when it does not. The record ends at
 * wire_rr_end of that offset.
 */
size_t	wire_rr_fields(const uint8_t *, size_t len, size_t pos);
static inline size_t
wire_rr_end(const uint8_t *w, size_t fields)
{
	return fields + 10 + wire_get16(w + fields + 8);
}

#endif
