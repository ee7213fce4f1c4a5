/* Judging a response to one of the resolver's tries (upstream_check.h). */
#include "upstream_check.h"

#include <string.h>
#include <sys/socket.h>

#include "byteorder.h"
#include "dname.h"

/* Whether msg answers the try: 1 yes, 0 not ours, -1 ours (our id) but malformed.
 * Parses into m. */
static int ours(const struct upstream_try *t, const uint8_t *msg, size_t len, struct arbor_dns_message *m)
{
	if (len < ARBOR_DNS_HEADER_LEN || get_be16(msg) != t->id || !(get_be16(msg + 2) & ARBOR_DNS_FLAG_QR))
		return 0;
	if (arbor_dns_parse(msg, len, m) < 0)
		return -1;
	if (m->header.opcode != ARBOR_DNS_OPCODE_QUERY || m->header.qdcount != 1 || !m->has_question ||
	    !arbor_dns_name_equal(m->question.wire, m->question.wire_len, t->name, t->name_len) ||
	    m->question.qtype != t->qtype || m->question.qclass != t->qclass)
		return 0;
	return 1;
}

/* A referral in m: NS records in the authority section for a zone strictly below
 * the one asked and at or above the question's name, and the glue (A and AAAA in
 * the additional section for those NS names). Returns the number of glue
 * addresses, 0 when it is no referral, -1 for one without glue. The glue is used
 * to ask, never cached, and the NS names are never resolved. */
static int referral(const struct upstream_try *t, const uint8_t *msg, size_t len, const struct arbor_dns_message *m,
		    struct upstream_referral *ref)
{
	uint8_t ns[DNSD_MAX_DELEG_NS][ARBOR_DNS_NAME_WIRE_MAX];
	size_t nslen[DNSD_MAX_DELEG_NS], nns = 0;
	int clen = -1;
	for (size_t i = 0; i < m->nrr; i++) {
		const struct arbor_dns_rr *rr = &m->rr[i];
		if (rr->section != ARBOR_DNS_SECTION_AUTHORITY || rr->type != ARBOR_DNS_TYPE_NS ||
		    rr->rclass != ARBOR_DNS_CLASS_IN)
			continue;
		uint8_t owner[ARBOR_DNS_NAME_WIRE_MAX];
		size_t next;
		int olen = arbor_dns_name_unpack(msg, len, rr->name_off, owner, &next);
		if (olen < 0)
			continue;
		if (clen < 0) {
			if (!dname_is_below(owner, (size_t)olen, t->zone, t->zone_len) ||
			    dname_equal(owner, (size_t)olen, t->zone, t->zone_len) ||
			    !dname_is_below(t->name, t->name_len, owner, (size_t)olen))
				continue;
			memcpy(ref->cut, owner, (size_t)olen);
			clen = olen;
		} else if (!dname_equal(owner, (size_t)olen, ref->cut, (size_t)clen)) {
			continue;
		}
		if (nns < DNSD_MAX_DELEG_NS) {
			int nl = arbor_dns_name_unpack(msg, len, rr->rdata_off, ns[nns], &next);
			if (nl > 0 && next == rr->rdata_off + rr->rdata_len)
				nslen[nns++] = (size_t)nl;
		}
	}
	if (clen < 0)
		return 0;
	ref->cut_len = (uint8_t)clen;
	ref->nglue = 0;
	for (size_t i = 0; i < m->nrr && ref->nglue < UPSTREAM_MAX_GLUE; i++) {
		const struct arbor_dns_rr *rr = &m->rr[i];
		bool a = rr->type == ARBOR_DNS_TYPE_A && rr->rdata_len == 4;
		bool aaaa = rr->type == ARBOR_DNS_TYPE_AAAA && rr->rdata_len == 16;
		if (rr->section != ARBOR_DNS_SECTION_ADDITIONAL || rr->rclass != ARBOR_DNS_CLASS_IN || !(a || aaaa))
			continue;
		uint8_t owner[ARBOR_DNS_NAME_WIRE_MAX];
		size_t next;
		int olen = arbor_dns_name_unpack(msg, len, rr->name_off, owner, &next);
		bool match = false;
		for (size_t k = 0; k < nns && olen > 0 && !match; k++)
			match = dname_equal(owner, (size_t)olen, ns[k], nslen[k]);
		if (!match)
			continue;
		ref->glue[ref->nglue].family = a ? AF_INET : AF_INET6;
		memcpy(ref->glue[ref->nglue++].addr, msg + rr->rdata_off, a ? 4 : 16);
	}
	return ref->nglue ? (int)ref->nglue : -1;
}

static bool has_soa(const struct arbor_dns_message *m)
{
	for (size_t i = 0; i < m->nrr; i++)
		if (m->rr[i].section == ARBOR_DNS_SECTION_AUTHORITY && m->rr[i].type == ARBOR_DNS_TYPE_SOA)
			return true;
	return false;
}

enum upstream_verdict upstream_check(const struct upstream_try *t, const uint8_t *msg, size_t len,
				     struct arbor_dns_message *m, struct upstream_referral *ref)
{
	int rc = ours(t, msg, len, m);
	if (rc <= 0)
		return rc < 0 ? UPSTREAM_MALFORMED : UPSTREAM_IGNORE;
	const struct arbor_dns_header *h = &m->header;
	if (h->tc && !t->over_tcp)
		return UPSTREAM_RETRY_TCP;
	switch (h->rcode) {
	case ARBOR_DNS_RCODE_SERVFAIL:
	case ARBOR_DNS_RCODE_REFUSED:
	case ARBOR_DNS_RCODE_NOTIMP:
	case ARBOR_DNS_RCODE_FORMERR:
		return UPSTREAM_NEXT_SERVER;
	}
	if (t->forward || h->aa || h->rcode != ARBOR_DNS_RCODE_NOERROR || h->ancount > 0)
		return UPSTREAM_FINAL;
	/* In the tree, NOERROR without AA or answer: a referral, NODATA, or a lame server. */
	int n = referral(t, msg, len, m, ref);
	if (n == 0)
		return has_soa(m) ? UPSTREAM_FINAL : UPSTREAM_NEXT_SERVER;
	return n < 0 ? UPSTREAM_NO_GLUE : UPSTREAM_REFERRAL;
}

int upstream_canonical(const struct upstream_try *t, const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	struct dnsd_answer_info info;
	memset(&info, 0, sizeof info);
	info.verdict = t->forward ? DNSD_FORWARD : DNSD_RECURSE_CHILD;
	info.have_question = true;
	struct dnsd_question *q = &info.q;
	memcpy(q->name, t->name, t->name_len);
	q->name_len = (uint8_t)t->name_len;
	q->qtype = t->qtype;
	q->qclass = t->qclass;
	q->id = t->id;
	q->rd = t->forward;
	q->edns = true;
	q->edns_payload = DNSD_EDNS_PAYLOAD;
	q->do_bit = true;
	q->transport = DNSD_TCP;
	q->ra = true;
	return dnsd_answer_from_upstream(&info, msg, len, out, cap);
}
