/* Response header, question and OPT (see reply.h). */
#include "reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "dns_wire.h"

#define OPT_LEN 11

size_t dnsd_reply_limit(const struct dnsd_question *q, size_t cap)
{
	size_t limit = DNSD_UDP_PLAIN;
	if (q->transport == DNSD_TCP)
		limit = ARBOR_DNS_MAX_MSG;
	else if (q->edns && q->edns_payload > DNSD_UDP_PLAIN)
		/* RFC 6891 §6.2.5: a payload under 512 is taken as 512. */
		limit = q->edns_payload < DNSD_EDNS_PAYLOAD ? q->edns_payload : DNSD_EDNS_PAYLOAD;
	return limit < cap ? limit : cap;
}

int dnsd_reply_begin(struct dnsd_reply *r, uint8_t *out, size_t cap, const struct dnsd_question *q, bool question,
		     const struct dname_labels *l)
{
	size_t limit = dnsd_reply_limit(q, cap);
	size_t len = ARBOR_DNS_HEADER_LEN + (question ? (size_t)q->name_len + 4 : 0);
	if (len + (q->edns ? OPT_LEN : 0) > limit)
		return -ENOSPC;
	memset(out, 0, ARBOR_DNS_HEADER_LEN);
	if (question) {
		uint8_t *p = out + ARBOR_DNS_HEADER_LEN;
		memcpy(p, q->name, q->name_len);
		put_be16(p + q->name_len, q->qtype);
		put_be16(p + q->name_len + 2, q->qclass);
	}
	dnsd_writer_init(&r->w, out, limit - (q->edns ? OPT_LEN : 0), len);
	if (question) {
		struct dname_labels own;
		if (l == NULL) {
			dname_split(q->name, &own);
			l = &own;
		}
		dnsd_writer_remember(&r->w, ARBOR_DNS_HEADER_LEN, l);
	}
	r->q = q;
	r->question = question;
	return 0;
}

int dnsd_reply_end(struct dnsd_reply *r, uint16_t flags, uint16_t rcode)
{
	struct dnsd_writer *w = &r->w;
	if (r->q->edns) {
		w->limit += OPT_LEN; /* reserved by dnsd_reply_begin */
		if (dnsd_writer_opt(w, DNSD_EDNS_PAYLOAD, (uint8_t)(rcode >> 4), r->q->do_bit) < 0)
			abort(); /* cannot happen: the room was reserved */
	}
	uint8_t *h = w->buf;
	put_be16(h, r->q->id);
	put_be16(h + 2, ARBOR_DNS_FLAG_QR | ((unsigned)r->q->opcode << ARBOR_DNS_OPCODE_SHIFT & ARBOR_DNS_OPCODE_MASK) |
			     (flags & ~(ARBOR_DNS_FLAG_QR | ARBOR_DNS_OPCODE_MASK | ARBOR_DNS_RCODE_MASK)) |
			     (rcode & ARBOR_DNS_RCODE_MASK));
	put_be16(h + 4, r->question ? 1 : 0);
	put_be16(h + 6, w->count[DNSD_SEC_ANSWER]);
	put_be16(h + 8, w->count[DNSD_SEC_AUTHORITY]);
	put_be16(h + 10, w->count[DNSD_SEC_ADDITIONAL]);
	return (int)w->len;
}
