/* Unit test for how dnsd's resolver judges a response to one of its tries
 * (dnsd/upstream_check.h): not ours (id, QR, question), malformed, TC, the rcodes
 * that move on, final answers, referrals with and without glue (and ones that
 * are not below the zone asked), NODATA and lame servers; and the canonical form
 * the resolver keeps, which the cache can age in place even when the upstream's
 * names pointed into a TTL (found by fuzz_dnsd_resolver). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "byteorder.h"
#include "cache.h"
#include "dns_wire.h"
#include "tap.h"
#include "upstream_check.h"

static uint8_t m[1024];
static size_t mlen;

static void put(const void *p, size_t n)
{
	memcpy(m + mlen, p, n);
	mlen += n;
}

static void name(const char *text)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text(text, w, sizeof w);
	put(w, (size_t)n);
}

static void u16(uint16_t v)
{
	uint8_t b[2];
	put_be16(b, v);
	put(b, 2);
}

static void u32(uint32_t v)
{
	uint8_t b[4];
	put_be32(b, v);
	put(b, 4);
}

/* A header and the question q A IN. */
static void begin(uint16_t id, uint16_t flags, const char *q, uint16_t an, uint16_t ns, uint16_t ar)
{
	mlen = 0;
	u16(id);
	u16(flags);
	u16(1);
	u16(an);
	u16(ns);
	u16(ar);
	name(q);
	u16(ARBOR_DNS_TYPE_A);
	u16(ARBOR_DNS_CLASS_IN);
}

/* A record whose owner and fixed fields are written here; rdata follows. */
static void rr(const char *owner, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	name(owner);
	u16(type);
	u16(ARBOR_DNS_CLASS_IN);
	u32(ttl);
	u16(rdlen);
}

/* A record whose rdata is one name (NS). */
static void rr_name(const char *owner, uint16_t type, const char *target)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text(target, w, sizeof w);
	rr(owner, type, 60, (uint16_t)n);
	put(w, (size_t)n);
}

static struct arbor_dns_message scratch;
static struct upstream_referral ref;
static uint8_t qname[ARBOR_DNS_NAME_WIRE_MAX], zone[ARBOR_DNS_NAME_WIRE_MAX];

static enum upstream_verdict check(bool forward, bool tcp)
{
	int ql = arbor_dns_name_from_text("www.m1.lan0.home.arpa", qname, sizeof qname);
	int zl = arbor_dns_name_from_text("lan0.home.arpa", zone, sizeof zone);
	struct upstream_try t = { .forward = forward, .over_tcp = tcp, .id = 7, .qtype = ARBOR_DNS_TYPE_A,
				  .qclass = ARBOR_DNS_CLASS_IN, .name = qname, .name_len = (size_t)ql, .zone = zone,
				  .zone_len = (size_t)zl };
	return upstream_check(&t, m, mlen, &scratch, &ref);
}

#define Q "www.m1.lan0.home.arpa"
#define QR ARBOR_DNS_FLAG_QR
#define AA ARBOR_DNS_FLAG_AA

static void test_ours(void)
{
	begin(8, QR | AA, Q, 0, 0, 0);
	CHECK(check(false, false) == UPSTREAM_IGNORE, "another id: someone else's");
	begin(7, AA, Q, 0, 0, 0);
	CHECK(check(false, false) == UPSTREAM_IGNORE, "no QR: not a response");
	begin(7, QR | AA, "www.m2.lan0.home.arpa", 0, 0, 0);
	CHECK(check(false, false) == UPSTREAM_IGNORE, "another question");
	begin(7, QR | AA, "WWW.M1.lan0.home.arpa", 0, 0, 0);
	rr(Q, ARBOR_DNS_TYPE_A, 60, 4);
	u32(0x0a000001);
	m[7] = 1;
	CHECK(check(false, false) == UPSTREAM_FINAL, "our question in another case: final");
	begin(7, QR | AA, Q, 1, 0, 0);
	CHECK(check(false, false) == UPSTREAM_MALFORMED, "our id, a record missing: malformed");
}

static void test_verdicts(void)
{
	begin(7, QR | ARBOR_DNS_FLAG_TC, Q, 0, 0, 0);
	CHECK(check(false, false) == UPSTREAM_RETRY_TCP && check(false, true) != UPSTREAM_RETRY_TCP,
	      "TC: over TCP next, not again over TCP");
	const uint16_t move_on[] = { ARBOR_DNS_RCODE_SERVFAIL, ARBOR_DNS_RCODE_REFUSED, ARBOR_DNS_RCODE_NOTIMP,
				     ARBOR_DNS_RCODE_FORMERR };
	bool ok = true;
	for (size_t i = 0; i < 4; i++) {
		begin(7, QR | AA | move_on[i], Q, 0, 0, 0);
		ok &= check(true, false) == UPSTREAM_NEXT_SERVER && check(false, false) == UPSTREAM_NEXT_SERVER;
	}
	CHECK(ok, "SERVFAIL, REFUSED, NOTIMP, FORMERR: the next server");
	begin(7, QR | ARBOR_DNS_RCODE_NXDOMAIN, Q, 0, 0, 0);
	CHECK(check(false, false) == UPSTREAM_FINAL, "NXDOMAIN: final");
	begin(7, QR, Q, 0, 0, 0);
	CHECK(check(true, false) == UPSTREAM_FINAL, "anything else from a forwarder: final");
	CHECK(check(false, false) == UPSTREAM_NEXT_SERVER, "in the tree, no AA, no answer, no SOA: lame");
	begin(7, QR, Q, 0, 1, 0);
	rr("lan0.home.arpa", ARBOR_DNS_TYPE_SOA, 60, 24);
	u16(0xc000 | (12 + 4)); /* mname: m1.lan0.home.arpa in the question */
	u16(0xc000 | (12 + 4));
	for (int i = 0; i < 5; i++)
		u32(60);
	CHECK(check(false, false) == UPSTREAM_FINAL, "no AA, but an SOA: NODATA, final");
}

static void test_referrals(void)
{
	/* m1.lan0.home.arpa delegated, with glue for one of its two name servers. */
	begin(7, QR, Q, 0, 2, 2);
	rr_name("m1.lan0.home.arpa", ARBOR_DNS_TYPE_NS, "ns.m1.lan0.home.arpa");
	rr_name("m1.lan0.home.arpa", ARBOR_DNS_TYPE_NS, "ns.example");
	rr("ns.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, 60, 4);
	u32(0x0a010002);
	rr("other.example", ARBOR_DNS_TYPE_A, 60, 4);
	u32(0x0a0100ff);
	CHECK(check(false, false) == UPSTREAM_REFERRAL, "a referral");
	CHECK(ref.nglue == 1 && ref.glue[0].family == AF_INET && memcmp(ref.glue[0].addr, "\x0a\x01\x00\x02", 4) == 0,
	      "its glue, not the unrelated address");
	uint8_t cut[ARBOR_DNS_NAME_WIRE_MAX];
	int cl = arbor_dns_name_from_text("m1.lan0.home.arpa", cut, sizeof cut);
	CHECK(ref.cut_len == cl && memcmp(ref.cut, cut, (size_t)cl) == 0, "to m1.lan0.home.arpa");
	begin(7, QR, Q, 0, 1, 0);
	rr_name("m1.lan0.home.arpa", ARBOR_DNS_TYPE_NS, "ns.example");
	CHECK(check(false, false) == UPSTREAM_NO_GLUE, "without glue: the resolution fails");
	begin(7, QR, Q, 0, 1, 1);
	rr_name("home.arpa", ARBOR_DNS_TYPE_NS, "ns.home.arpa");
	rr("ns.home.arpa", ARBOR_DNS_TYPE_A, 60, 4);
	u32(0x0a000001);
	CHECK(check(false, false) == UPSTREAM_NEXT_SERVER, "NS above the zone asked: no referral (lame)");
	begin(7, QR, Q, 0, 1, 1);
	rr_name("x.m1.lan0.home.arpa", ARBOR_DNS_TYPE_NS, "ns.home.arpa");
	rr("ns.home.arpa", ARBOR_DNS_TYPE_A, 60, 4);
	u32(0x0a000001);
	CHECK(check(false, false) == UPSTREAM_NEXT_SERVER, "NS not above the question: no referral");
}

static void test_canonical_survives_ageing(void)
{
	/* An answer whose second owner name is a pointer to the last byte of the
	 * first record's TTL (256: that byte is 0, the root). Aged in place by 45 s
	 * the byte would be 0xd3, a compression pointer out of the message. */
	begin(7, QR | AA, Q, 2, 0, 0);
	size_t ttl_end = mlen + 23 + 4 + 3; /* owner (23 bytes), type, class, then the TTL's last byte */
	rr(Q, ARBOR_DNS_TYPE_A, 256, 4);
	u32(0x0a000001);
	u16(0xc000 | (uint16_t)ttl_end);
	u16(ARBOR_DNS_TYPE_A);
	u16(ARBOR_DNS_CLASS_IN);
	u32(60);
	u16(4);
	u32(0x0a000002);
	CHECK(arbor_dns_parse(m, mlen, &scratch) == 0, "the upstream answer parses");
	m[ttl_end] = 0xd3;
	CHECK(arbor_dns_parse(m, mlen, &scratch) != 0, "aged in place it would not");
	m[ttl_end] = 0;
	int ql = arbor_dns_name_from_text(Q, qname, sizeof qname);
	struct upstream_try t = { .forward = true, .id = 7, .qtype = ARBOR_DNS_TYPE_A, .qclass = ARBOR_DNS_CLASS_IN,
				  .name = qname, .name_len = (size_t)ql, .zone = qname, .zone_len = (size_t)ql };
	uint8_t canon[1024], back[1024];
	int n = upstream_canonical(&t, m, mlen, canon, sizeof canon);
	CHECK(n > 0 && arbor_dns_parse(canon, (size_t)n, &scratch) == 0, "the canonical form parses");
	struct cache *c = cache_new(0, 0);
	CHECK(cache_put(c, CACHE_KIND_FORWARD, qname, (size_t)ql, ARBOR_DNS_TYPE_A, ARBOR_DNS_CLASS_IN, canon,
			(size_t)n, 0) == 1,
	      "it is cached");
	int b = cache_get(c, CACHE_KIND_FORWARD, qname, (size_t)ql, ARBOR_DNS_TYPE_A, ARBOR_DNS_CLASS_IN, 45000, back,
			  sizeof back);
	CHECK(b == n && arbor_dns_parse(back, (size_t)b, &scratch) == 0 && scratch.nrr >= 2 &&
		      get_be32(back + scratch.rr[0].rdata_off - 6) == 211 &&
		      get_be32(back + scratch.rr[1].rdata_off - 6) == 15,
	      "45 s later it comes back aged (TTLs 211 and 15) and still parses");
	cache_free(c);
}

int main(void)
{
	test_ours();
	test_verdicts();
	test_referrals();
	test_canonical_survives_ageing();
	return tap_done();
}
