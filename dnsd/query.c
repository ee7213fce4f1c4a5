/* The hot-path query parser (see query.h). The question name starts at offset 12,
 * so any compression pointer in it would point into the header or forward: it must
 * be flat, and is checked byte by byte without copying. */
#include "query.h"

#include "byteorder.h"
#include "dns_wire.h"

/* The first question's name at msg[12]: flat labels of 1..63 bytes, at most 255
 * bytes in all. Returns its length, or 0 when malformed. */
static size_t flat_qname(const uint8_t *msg, size_t len)
{
	size_t pos = ARBOR_DNS_HEADER_LEN;
	for (;;) {
		if (pos >= len)
			return 0;
		uint8_t c = msg[pos];
		if (c > ARBOR_DNS_LABEL_MAX)
			return 0; /* a pointer, or the reserved 0x40/0x80 label kinds */
		pos += 1 + (size_t)c;
		if (pos - ARBOR_DNS_HEADER_LEN > ARBOR_DNS_NAME_WIRE_MAX)
			return 0;
		if (c == 0)
			return pos - ARBOR_DNS_HEADER_LEN;
	}
}

/* Skips one name anywhere (pointers allowed, and checked as arbor_dns_name_unpack
 * checks them). Returns false when malformed; *owner_root tells whether it is the
 * root name. */
static bool skip_name(const uint8_t *msg, size_t len, size_t *pos, bool *owner_root)
{
	if (*pos < len && msg[*pos] == 0) { /* the root: every OPT record's owner */
		*owner_root = true;
		(*pos)++;
		return true;
	}
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	size_t next;
	int n = arbor_dns_name_unpack(msg, len, *pos, wire, &next);
	if (n < 0)
		return false;
	*owner_root = n == 1;
	*pos = next;
	return true;
}

/* The OPT record's options: a well-formed list of (code, length, data). */
static bool options_ok(const uint8_t *p, size_t rdlen)
{
	size_t pos = 0;
	while (pos < rdlen) {
		if (rdlen - pos < 4)
			return false;
		size_t olen = get_be16(p + pos + 2);
		if (rdlen - pos - 4 < olen)
			return false;
		pos += 4 + olen;
	}
	return true;
}

/* Walks the records after the questions; fills the EDNS fields. */
static bool parse_records(const uint8_t *msg, size_t len, size_t pos, unsigned counts[3], struct dnsd_query *q)
{
	for (int section = 0; section < 3; section++) {
		for (unsigned i = 0; i < counts[section]; i++) {
			bool root;
			if (!skip_name(msg, len, &pos, &root) || len - pos < 10)
				return false;
			uint16_t type = get_be16(msg + pos), rclass = get_be16(msg + pos + 2);
			uint8_t version = msg[pos + 5]; /* msg[pos + 4]: extended rcode, 0 in queries */
			uint16_t eflags = get_be16(msg + pos + 6), rdlen = get_be16(msg + pos + 8);
			pos += 10;
			if (len - pos < rdlen)
				return false;
			if (type == ARBOR_DNS_TYPE_OPT) {
				/* One OPT, owned by the root, in the additional section. */
				if (section != 2 || !root || q->edns || !options_ok(msg + pos, rdlen))
					return false;
				q->edns = true;
				q->payload = rclass;
				q->version = version;
				q->do_bit = eflags & ARBOR_DNS_EDNS_DO;
			}
			pos += rdlen;
		}
	}
	return pos == len; /* nothing may follow the last record */
}

enum dnsd_query_status dnsd_query_parse(const uint8_t *msg, size_t len, struct dnsd_query *q)
{
	q->question = false;
	q->edns = false;
	q->do_bit = false;
	q->payload = 0;
	q->version = 0;
	q->qname_len = 0;
	q->qtype = q->qclass = 0;
	if (msg == NULL || len < ARBOR_DNS_HEADER_LEN || len > ARBOR_DNS_MAX_MSG)
		return DNSD_Q_DROP;
	q->id = get_be16(msg);
	q->flags = get_be16(msg + 2);
	if (q->flags & ARBOR_DNS_FLAG_QR)
		return DNSD_Q_DROP;
	q->qdcount = get_be16(msg + 4);
	unsigned counts[3] = { get_be16(msg + 6), get_be16(msg + 8), get_be16(msg + 10) };
	bool notimp = (q->flags & ARBOR_DNS_OPCODE_MASK) >> ARBOR_DNS_OPCODE_SHIFT != ARBOR_DNS_OPCODE_QUERY;

	size_t pos = ARBOR_DNS_HEADER_LEN;
	bool ok = true;
	for (unsigned i = 0; i < q->qdcount && ok; i++) {
		if (i == 0) {
			size_t n = flat_qname(msg, len);
			ok = n != 0 && len - ARBOR_DNS_HEADER_LEN - n >= 4;
			if (ok) {
				q->qname_len = (uint8_t)n;
				q->qtype = get_be16(msg + pos + n);
				q->qclass = get_be16(msg + pos + n + 2);
				pos += n + 4;
			}
		} else {
			bool root;
			ok = skip_name(msg, len, &pos, &root) && len - pos >= 4;
			pos += 4;
		}
	}
	q->question = ok && q->qdcount == 1;
	if (ok)
		ok = parse_records(msg, len, pos, counts, q);
	if (!ok)
		q->edns = false; /* a malformed message: no OPT in the answer either */
	if (notimp)
		return DNSD_Q_NOTIMP;
	if (!ok || q->qdcount != 1)
		return DNSD_Q_FORMERR;
	if (q->version > 0)
		return DNSD_Q_BADVERS;
	return DNSD_Q_OK;
}
