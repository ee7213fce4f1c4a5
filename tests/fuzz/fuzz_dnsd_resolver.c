/* libFuzzer harness for dnsd's resolver on upstream answers: arbitrary bytes as
 * the response to a try, judged as resolver.c judges it (upstream_check) for a
 * forwarder and for a name server in the tree, for the question the bytes
 * themselves ask (so the fuzzer gets past the id and question checks) and for a
 * fixed one. Whatever is final is kept as the resolver keeps it
 * (upstream_canonical), goes through the cache (stored, read back with its TTLs
 * aged) and is relayed to the client (dnsd_answer_from_upstream), as the resolver
 * and relay.c do. Nothing may crash or read out of bounds; a referral must be
 * below the zone asked and at or above the question, with 1 to UPSTREAM_MAX_GLUE
 * glue addresses; what is kept, what the cache returns (this found upstream names
 * pointing into TTLs, which aging in place changed) and what is relayed must
 * parse. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"
#include "byteorder.h"
#include "cache.h"
#include "dname.h"
#include "dns_wire.h"
#include "upstream_check.h"

static struct arbor_dns_message msg, parsed;
static uint8_t out[ARBOR_DNS_MAX_MSG + 1];
static struct cache *cache;

/* The client's question info for a try (what dnsd_answer gave the relay). */
static void client_info(const struct upstream_try *t, struct dnsd_answer_info *info)
{
	memset(info, 0, sizeof *info);
	info->verdict = t->forward ? DNSD_FORWARD : DNSD_RECURSE_CHILD;
	info->have_question = true;
	memcpy(info->q.name, t->name, t->name_len);
	info->q.name_len = (uint8_t)t->name_len;
	info->q.qtype = t->qtype;
	info->q.qclass = t->qclass;
	info->q.id = 0x4242;
	info->q.rd = true;
	info->q.edns = t->qtype & 1; /* both, by the question */
	info->q.edns_payload = 1232;
	info->q.transport = t->over_tcp ? DNSD_TCP : DNSD_UDP;
	info->q.ra = true;
}

static void judge(const struct upstream_try *t, const uint8_t *data, size_t size)
{
	struct upstream_referral ref;
	enum upstream_verdict v = upstream_check(t, data, size, &msg, &ref);
	if (v == UPSTREAM_REFERRAL) {
		if (ref.nglue < 1 || ref.nglue > UPSTREAM_MAX_GLUE || dname_check(ref.cut, ref.cut_len) < 0 ||
		    !dname_is_below(ref.cut, ref.cut_len, t->zone, t->zone_len) ||
		    dname_equal(ref.cut, ref.cut_len, t->zone, t->zone_len) ||
		    !dname_is_below(t->name, t->name_len, ref.cut, ref.cut_len))
			abort();
		for (unsigned i = 0; i < ref.nglue; i++)
			if (ref.glue[i].family != AF_INET && ref.glue[i].family != AF_INET6)
				abort();
	}
	if (v != UPSTREAM_FINAL)
		return;
	/* Kept and handed on as the resolver keeps it. */
	static uint8_t canon[ARBOR_DNS_MAX_MSG];
	int len = upstream_canonical(t, data, size, canon, sizeof canon);
	if (len < 0 && len != -EBADMSG)
		abort();
	if (len <= 0)
		return;
	if (arbor_dns_parse(canon, (size_t)len, &parsed) != 0)
		abort();
	data = canon;
	size = (size_t)len;
	enum cache_kind kind = t->forward ? CACHE_KIND_FORWARD : CACHE_KIND_CHILD;
	int rc = cache_put(cache, kind, t->name, t->name_len, t->qtype, t->qclass, data, size, 1000);
	if (rc < 0 && rc != -EBADMSG && rc != -EINVAL)
		abort();
	int n = cache_get(cache, kind, t->name, t->name_len, t->qtype, t->qclass, 4000, out, sizeof out);
	if (n > 0 && ((size_t)n != size || arbor_dns_parse(out, (size_t)n, &parsed) != 0))
		abort(); /* the same message back, its TTLs aged */

	struct dnsd_answer_info info;
	client_info(t, &info);
	n = dnsd_answer_from_upstream(&info, data, size, out, sizeof out);
	if (n > 0 && (arbor_dns_parse(out, (size_t)n, &parsed) != 0 || get_be16(out) != 0x4242))
		abort();
	cache_flush(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (cache == NULL)
		cache = cache_new(1 << 20, 3600);
	/* A fixed question: www.m1.lan0.home.arpa A, asked of home.arpa's child m1.lan0. */
	static uint8_t name[ARBOR_DNS_NAME_WIRE_MAX], zone[ARBOR_DNS_NAME_WIRE_MAX];
	static int nlen, zlen;
	if (nlen == 0) {
		nlen = arbor_dns_name_from_text("www.m1.lan0.home.arpa", name, sizeof name);
		zlen = arbor_dns_name_from_text("m1.lan0.home.arpa", zone, sizeof zone);
	}
	uint16_t id = size >= 2 ? get_be16(data) : 0;
	struct upstream_try fixed = { .id = id, .qtype = ARBOR_DNS_TYPE_A, .qclass = ARBOR_DNS_CLASS_IN, .name = name,
				      .name_len = (size_t)nlen, .zone = zone, .zone_len = (size_t)zlen };
	for (int forward = 0; forward < 2; forward++)
		for (int tcp = 0; tcp < 2; tcp++) {
			fixed.forward = forward;
			fixed.over_tcp = tcp;
			judge(&fixed, data, size);
		}
	/* The question the bytes ask, at each zone above it (the root included). */
	if (arbor_dns_parse(data, size, &parsed) != 0 || !parsed.has_question)
		return 0;
	uint8_t q[ARBOR_DNS_NAME_WIRE_MAX];
	size_t qlen = parsed.question.wire_len;
	dname_lower(parsed.question.wire, qlen, q);
	struct upstream_try t = { .id = id, .qtype = parsed.question.qtype, .qclass = parsed.question.qclass,
				  .name = q, .name_len = qlen };
	for (size_t off = 0; off < qlen; off += 1 + (size_t)q[off]) {
		t.zone = q + off;
		t.zone_len = qlen - off;
		judge(&t, data, size);
		t.forward = !t.forward;
		t.over_tcp = q[off] & 1;
		judge(&t, data, size);
	}
	return 0;
}
