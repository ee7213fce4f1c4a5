/* Relaying an answer from a child machine or an upstream server to our client, and
 * SERVFAIL when there is none (see answer.h). The upstream message is untrusted:
 * every name (compression pointers included) and record is checked as it is read,
 * names inside rdata are decompressed before they are written again, and anything
 * malformed makes the whole message unusable (-EBADMSG → the caller sends
 * SERVFAIL) rather than half-relayed. */
#include <errno.h>
#include <string.h>

#include "answer.h"
#include "byteorder.h"
#include "dname.h"
#include "reply.h"

#define TYPE_TSIG 250

/* One upstream record, read and checked. */
struct urr {
	uint8_t owner[ARBOR_DNS_NAME_WIRE_MAX];
	int owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata; /* flat: either in the message, or in flat[] */
	size_t rdlen;
	uint8_t flat[2 * ARBOR_DNS_NAME_WIRE_MAX + 32];
};

/* Decompresses the names inside rdata of the types that hold names. */
static int flatten_rdata(const uint8_t *msg, size_t len, size_t off, size_t rdlen, struct urr *rr)
{
	unsigned prefix, names, suffix;
	bool compress;
	rr->rdata = msg + off;
	rr->rdlen = rdlen;
	if (!dnsd_rdata_layout(rr->type, &prefix, &names, &suffix, &compress))
		return 0;
	if (rdlen < prefix)
		return -EBADMSG;
	size_t end = off + rdlen, pos = off + prefix, n = prefix;
	memcpy(rr->flat, msg + off, prefix);
	for (unsigned i = 0; i < names; i++) {
		size_t next;
		int w = arbor_dns_name_unpack(msg, len, pos, rr->flat + n, &next);
		if (w < 0 || next > end)
			return -EBADMSG;
		n += (size_t)w;
		pos = next;
	}
	if (end - pos != suffix)
		return -EBADMSG;
	memcpy(rr->flat + n, msg + pos, suffix);
	rr->rdata = rr->flat;
	rr->rdlen = n + suffix;
	return 0;
}

static int read_rr(const uint8_t *msg, size_t len, size_t *pos, struct urr *rr)
{
	size_t next;
	rr->owner_len = arbor_dns_name_unpack(msg, len, *pos, rr->owner, &next);
	if (rr->owner_len < 0 || len - next < 10)
		return -EBADMSG;
	rr->type = get_be16(msg + next);
	rr->rclass = get_be16(msg + next + 2);
	rr->ttl = get_be32(msg + next + 4);
	size_t rdlen = get_be16(msg + next + 8);
	next += 10;
	if (len - next < rdlen)
		return -EBADMSG;
	*pos = next + rdlen;
	if (rr->type == ARBOR_DNS_TYPE_OPT) {
		rr->rdata = msg + next;
		rr->rdlen = rdlen;
		return 0;
	}
	return flatten_rdata(msg, len, next, rdlen, rr);
}

/* Whether rr starts a new RRset after the one whose first record is at prev. */
static bool same_set(const struct urr *prev, const struct urr *rr)
{
	return prev->owner_len == rr->owner_len && prev->type == rr->type && prev->rclass == rr->rclass &&
	       dname_equal(prev->owner, (size_t)prev->owner_len, rr->owner, (size_t)rr->owner_len);
}

int dnsd_answer_from_upstream(const struct dnsd_answer_info *info, const uint8_t *up, size_t ulen, uint8_t *out,
			      size_t cap)
{
	if (info == NULL || up == NULL || out == NULL || !info->have_question)
		return -EINVAL;
	const struct dnsd_question *q = &info->q;
	if (ulen < ARBOR_DNS_HEADER_LEN || ulen > ARBOR_DNS_MAX_MSG)
		return -EBADMSG;
	uint16_t uflags = get_be16(up + 2);
	if (!(uflags & ARBOR_DNS_FLAG_QR) || (uflags & ARBOR_DNS_OPCODE_MASK) || get_be16(up + 4) != 1)
		return -EBADMSG;
	/* The question must be ours (the case may differ: 0x20 randomisation). */
	uint8_t qname[ARBOR_DNS_NAME_WIRE_MAX];
	size_t pos;
	int qn = arbor_dns_name_unpack(up, ulen, ARBOR_DNS_HEADER_LEN, qname, &pos);
	if (qn < 0 || ulen - pos < 4 || !dname_equal(qname, (size_t)qn, q->name, q->name_len) ||
	    get_be16(up + pos) != q->qtype || get_be16(up + pos + 2) != q->qclass)
		return -EBADMSG;
	pos += 4;

	struct dnsd_reply r;
	int rc = dnsd_reply_begin(&r, out, cap, q, true, NULL);
	if (rc < 0)
		return rc;
	struct dnsd_writer *w = &r.w;
	uint16_t tc = uflags & ARBOR_DNS_FLAG_TC;
	bool stop = false, opt_seen = false;
	static const enum dnsd_section sections[3] = { DNSD_SEC_ANSWER, DNSD_SEC_AUTHORITY, DNSD_SEC_ADDITIONAL };
	for (int s = 0; s < 3; s++) {
		unsigned count = get_be16(up + 6 + 2 * s);
		struct urr rr, first;
		struct dnsd_wmark mark = dnsd_writer_mark(w);
		bool have_first = false, skip_set = false, stop_section = false;
		for (unsigned i = 0; i < count; i++) {
			rc = read_rr(up, ulen, &pos, &rr);
			if (rc < 0)
				return rc;
			if (rr.type == ARBOR_DNS_TYPE_OPT) {
				/* Upstream's OPT is between it and us; an extended rcode we cannot relay. */
				if (sections[s] != DNSD_SEC_ADDITIONAL || rr.owner_len != 1 || opt_seen || (rr.ttl >> 24))
					return -EBADMSG;
				opt_seen = true;
				continue;
			}
			if (rr.type == TYPE_TSIG || stop || stop_section)
				continue;
			if (!have_first || !same_set(&first, &rr)) {
				memcpy(&first, &rr, sizeof rr);
				have_first = true;
				skip_set = false;
				mark = dnsd_writer_mark(w);
			}
			if (skip_set)
				continue;
			rc = dnsd_writer_name(w, rr.owner, true, NULL);
			if (rc == 0)
				rc = dnsd_writer_rr_body(w, sections[s], rr.type, rr.rclass, rr.ttl, rr.rdata, rr.rdlen);
			if (rc < 0) {
				/* Drop the whole RRset; answer and authority need TC, additional is optional. */
				dnsd_writer_rollback(w, &mark);
				skip_set = true;
				if (sections[s] == DNSD_SEC_ADDITIONAL) {
					stop_section = true;
				} else {
					stop = true;
					tc = ARBOR_DNS_FLAG_TC;
				}
			}
		}
	}
	if (pos != ulen)
		return -EBADMSG;
	uint16_t flags = ARBOR_DNS_FLAG_RA | tc | (q->rd ? ARBOR_DNS_FLAG_RD : 0) | (q->cd ? ARBOR_DNS_FLAG_CD : 0);
	if ((q->do_bit || q->ad) && (uflags & ARBOR_DNS_FLAG_AD))
		flags |= ARBOR_DNS_FLAG_AD;
	return dnsd_reply_end(&r, flags, uflags & ARBOR_DNS_RCODE_MASK);
}

/* A response with the question and no records. */
static int bare_reply(const struct dnsd_answer_info *info, uint8_t *out, size_t cap, uint16_t flags, uint16_t rcode)
{
	if (info == NULL || out == NULL || !info->have_question)
		return -EINVAL;
	const struct dnsd_question *q = &info->q;
	struct dnsd_reply r;
	int rc = dnsd_reply_begin(&r, out, cap, q, true, NULL);
	if (rc < 0)
		return rc;
	flags |= (q->rd ? ARBOR_DNS_FLAG_RD : 0) | (q->cd ? ARBOR_DNS_FLAG_CD : 0);
	return dnsd_reply_end(&r, flags, rcode);
}

int dnsd_answer_servfail(const struct dnsd_answer_info *info, uint8_t *out, size_t cap)
{
	return bare_reply(info, out, cap, ARBOR_DNS_FLAG_RA, ARBOR_DNS_RCODE_SERVFAIL);
}

int dnsd_answer_truncated(const struct dnsd_answer_info *info, uint8_t *out, size_t cap)
{
	if (info == NULL)
		return -EINVAL;
	uint16_t flags = ARBOR_DNS_FLAG_TC | (info->aa ? ARBOR_DNS_FLAG_AA : 0) | (info->q.ra ? ARBOR_DNS_FLAG_RA : 0);
	return bare_reply(info, out, cap, flags, info->rcode);
}
