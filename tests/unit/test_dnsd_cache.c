/* dnsd's answer cache (dnsd/cache.h): what is cached and for how long (RFC 2308
 * negative answers included), TTLs counted down on hits, keys (case, kind, type),
 * the byte budget with LRU eviction, and messages it must refuse. Time is an
 * argument, so no test sleeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "cache.h"
#include "dns_wire.h"
#include "tap.h"

/* ---- building responses ---- */

struct msg {
	uint8_t b[ARBOR_DNS_MAX_MSG];
	size_t len;
};

static size_t wire(const char *text, uint8_t *out)
{
	int n = arbor_dns_name_from_text(text, out, ARBOR_DNS_NAME_WIRE_MAX);
	if (n < 0) {
		fprintf(stderr, "bad name %s\n", text);
		exit(1);
	}
	return (size_t)n;
}

/* A response header (QR set, plus flags and rcode) and the question. */
static void begin(struct msg *m, uint16_t flags, const char *qname, uint16_t qtype)
{
	memset(m->b, 0, ARBOR_DNS_HEADER_LEN);
	put_be16(m->b, 0x1234);
	put_be16(m->b + 2, (uint16_t)(ARBOR_DNS_FLAG_QR | flags));
	put_be16(m->b + 4, 1);
	m->len = ARBOR_DNS_HEADER_LEN + wire(qname, m->b + ARBOR_DNS_HEADER_LEN);
	put_be16(m->b + m->len, qtype);
	put_be16(m->b + m->len + 2, ARBOR_DNS_CLASS_IN);
	m->len += 4;
}

/* Appends a record to section (1 answer, 2 authority, 3 additional; in order).
 * owner NULL: a compression pointer to the question's name. */
static void rr(struct msg *m, int section, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
	       size_t rdlen)
{
	if (owner) {
		m->len += wire(owner, m->b + m->len);
	} else {
		put_be16(m->b + m->len, 0xc00c);
		m->len += 2;
	}
	put_be16(m->b + m->len, type);
	put_be16(m->b + m->len + 2, type == ARBOR_DNS_TYPE_OPT ? 1232 : ARBOR_DNS_CLASS_IN);
	put_be32(m->b + m->len + 4, ttl);
	put_be16(m->b + m->len + 8, (uint16_t)rdlen);
	memcpy(m->b + m->len + 10, rdata, rdlen);
	m->len += 10 + rdlen;
	uint8_t *cnt = m->b + 4 + 2 * section;
	put_be16(cnt, (uint16_t)((cnt[0] << 8 | cnt[1]) + 1));
}

static void a_rr(struct msg *m, int section, const char *owner, uint32_t ttl, uint8_t last)
{
	uint8_t a[4] = { 10, 0, 0, last };
	rr(m, section, owner, ARBOR_DNS_TYPE_A, ttl, a, 4);
}

static void soa_rr(struct msg *m, const char *zone, uint32_t ttl, uint32_t minimum)
{
	uint8_t rd[2 * ARBOR_DNS_NAME_WIRE_MAX + 20];
	size_t n = wire("ns.example.", rd);
	n += wire("hostmaster.example.", rd + n);
	uint32_t v[5] = { 1, 3600, 600, 86400, minimum };
	for (int i = 0; i < 5; i++, n += 4)
		put_be32(rd + n, v[i]);
	rr(m, 2, zone, ARBOR_DNS_TYPE_SOA, ttl, rd, n);
}

static int put(struct cache *c, enum cache_kind kind, const char *qname, uint16_t qtype, const struct msg *m,
	       int64_t now)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	size_t n = wire(qname, w);
	return cache_put(c, kind, w, n, qtype, ARBOR_DNS_CLASS_IN, m->b, m->len, now);
}

static int get(struct cache *c, enum cache_kind kind, const char *qname, uint16_t qtype, int64_t now, struct msg *out)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	size_t n = wire(qname, w);
	int rc = cache_get(c, kind, w, n, qtype, ARBOR_DNS_CLASS_IN, now, out->b, sizeof out->b);
	out->len = rc > 0 ? (size_t)rc : 0;
	return rc;
}

/* The TTL of record i (in message order) of a parsed message, or -1. */
static long ttl_of(const struct msg *m, size_t i)
{
	static struct arbor_dns_message pm;
	if (arbor_dns_parse(m->b, m->len, &pm) < 0 || i >= pm.nrr)
		return -1;
	return (long)pm.rr[i].ttl;
}

static struct cache_stats stats(struct cache *c)
{
	struct cache_stats st;
	cache_get_stats(c, &st);
	return st;
}

/* ---- the tests ---- */

static void test_positive(void)
{
	struct cache *c = cache_new(0, 0);
	static struct msg m, out;
	begin(&m, ARBOR_DNS_FLAG_AA, "www.Example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	a_rr(&m, 1, NULL, 500, 2);
	CHECK(put(c, CACHE_KIND_FORWARD, "WWW.example.", ARBOR_DNS_TYPE_A, &m, 1000) == 1, "a positive answer is stored");
	CHECK(get(c, CACHE_KIND_FORWARD, "www.example.", ARBOR_DNS_TYPE_A, 1000, &out) == (int)m.len &&
		      memcmp(out.b, m.b, m.len) == 0,
	      "a hit at once returns the response unchanged (key case-insensitive)");
	CHECK(get(c, CACHE_KIND_FORWARD, "www.example.", ARBOR_DNS_TYPE_A, 1000 + 100500, &out) > 0 &&
		      ttl_of(&out, 0) == 200 && ttl_of(&out, 1) == 400,
	      "100.5 s later the TTLs are 100 lower (whole seconds)");
	CHECK(get(c, CACHE_KIND_FORWARD, "www.example.", ARBOR_DNS_TYPE_A, 1000 + 299999, &out) > 0 &&
		      ttl_of(&out, 0) == 1,
	      "just before expiry the lowest TTL is 1, never 0");
	CHECK(get(c, CACHE_KIND_CHILD, "www.example.", ARBOR_DNS_TYPE_A, 1000, &out) == -ENOENT,
	      "another kind is another key");
	CHECK(get(c, CACHE_KIND_FORWARD, "www.example.", ARBOR_DNS_TYPE_AAAA, 1000, &out) == -ENOENT,
	      "another qtype is another key");
	uint8_t small[8];
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	size_t wl = wire("www.example.", w);
	CHECK(cache_get(c, CACHE_KIND_FORWARD, w, wl, ARBOR_DNS_TYPE_A, ARBOR_DNS_CLASS_IN, 1000, small, sizeof small) ==
		      -ENOSPC,
	      "a short output buffer: -ENOSPC");
	CHECK(get(c, CACHE_KIND_FORWARD, "www.example.", ARBOR_DNS_TYPE_A, 1000 + 300000, &out) == -ENOENT &&
		      stats(c).expired == 1 && stats(c).entries == 0 && stats(c).bytes == 0,
	      "at the TTL it is gone (counted as expired)");
	struct cache_stats st = stats(c);
	CHECK(st.hits == 3 && st.misses == 3 && st.inserts == 1, "hits and misses are counted");
	cache_free(c);
}

static void test_caps_and_sections(void)
{
	struct cache *c = cache_new(0, 600);
	static struct msg m, out;
	begin(&m, 0, "cap.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 86400, 1);
	a_rr(&m, 3, "ns.example.", 10, 2); /* additional: does not set the expiry */
	rr(&m, 3, ".", ARBOR_DNS_TYPE_OPT, ARBOR_DNS_EDNS_DO, "", 0);
	CHECK(put(c, CACHE_KIND_FORWARD, "cap.example.", ARBOR_DNS_TYPE_A, &m, 0) == 1, "stored");
	CHECK(get(c, CACHE_KIND_FORWARD, "cap.example.", ARBOR_DNS_TYPE_A, 0, &out) > 0 && ttl_of(&out, 0) == 600,
	      "a TTL above max_ttl is served as max_ttl");
	CHECK(get(c, CACHE_KIND_FORWARD, "cap.example.", ARBOR_DNS_TYPE_A, 50000, &out) > 0 && ttl_of(&out, 0) == 550 &&
		      ttl_of(&out, 1) == 0 && ttl_of(&out, 2) == ARBOR_DNS_EDNS_DO,
	      "an additional record's TTL stops at 0; the OPT's flags are not a TTL");
	CHECK(get(c, CACHE_KIND_FORWARD, "cap.example.", ARBOR_DNS_TYPE_A, 600000, &out) == -ENOENT,
	      "the entry expires at max_ttl");

	/* The minimum over answer and authority. */
	begin(&m, 0, "min.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	uint8_t ns[ARBOR_DNS_NAME_WIRE_MAX];
	size_t nl = wire("ns.example.", ns);
	rr(&m, 2, "example.", ARBOR_DNS_TYPE_NS, 30, ns, nl);
	CHECK(put(c, CACHE_KIND_FORWARD, "min.example.", ARBOR_DNS_TYPE_A, &m, 0) == 1 &&
		      get(c, CACHE_KIND_FORWARD, "min.example.", ARBOR_DNS_TYPE_A, 29999, &out) > 0 &&
		      get(c, CACHE_KIND_FORWARD, "min.example.", ARBOR_DNS_TYPE_A, 30000, &out) == -ENOENT,
	      "the authority section's TTLs count too");

	/* More records than arbor_dns_parse keeps: every TTL is still counted down. */
	begin(&m, 0, "many.example.", ARBOR_DNS_TYPE_A);
	for (int i = 0; i < 100; i++)
		a_rr(&m, 1, NULL, (uint32_t)(1000 + i), (uint8_t)i);
	CHECK(put(c, CACHE_KIND_FORWARD, "many.example.", ARBOR_DNS_TYPE_A, &m, 0) == 1 &&
		      get(c, CACHE_KIND_FORWARD, "many.example.", ARBOR_DNS_TYPE_A, 10000, &out) > 0 &&
		      get_be32(out.b + out.len - 10) == 600 - 10,
	      "100 records: the last one's TTL is capped and counted down too");
	cache_free(c);
}

static void test_negative(void)
{
	struct cache *c = cache_new(0, 0);
	static struct msg m, out;
	begin(&m, ARBOR_DNS_FLAG_AA | ARBOR_DNS_RCODE_NXDOMAIN, "nx.example.", ARBOR_DNS_TYPE_A);
	soa_rr(&m, "example.", 3600, 60);
	CHECK(put(c, CACHE_KIND_CHILD, "nx.example.", ARBOR_DNS_TYPE_A, &m, 0) == 1, "NXDOMAIN with an SOA is stored");
	CHECK(get(c, CACHE_KIND_CHILD, "nx.example.", ARBOR_DNS_TYPE_A, 30000, &out) > 0 && ttl_of(&out, 0) == 30,
	      "its SOA is served at min(TTL, MINIMUM) minus the time spent (RFC 2308 §5)");
	CHECK(get(c, CACHE_KIND_CHILD, "nx.example.", ARBOR_DNS_TYPE_A, 60000, &out) == -ENOENT,
	      "and it expires after MINIMUM");

	begin(&m, ARBOR_DNS_FLAG_AA, "nodata.example.", ARBOR_DNS_TYPE_AAAA);
	soa_rr(&m, "example.", 20, 600);
	CHECK(put(c, CACHE_KIND_CHILD, "nodata.example.", ARBOR_DNS_TYPE_AAAA, &m, 0) == 1 &&
		      get(c, CACHE_KIND_CHILD, "nodata.example.", ARBOR_DNS_TYPE_AAAA, 19999, &out) > 0 &&
		      get(c, CACHE_KIND_CHILD, "nodata.example.", ARBOR_DNS_TYPE_AAAA, 20000, &out) == -ENOENT,
	      "NODATA: the SOA's TTL when it is below MINIMUM");

	begin(&m, ARBOR_DNS_RCODE_NXDOMAIN, "nosoa.example.", ARBOR_DNS_TYPE_A);
	CHECK(put(c, CACHE_KIND_CHILD, "nosoa.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0, "NXDOMAIN without SOA: not cached");
	begin(&m, 0, "nosoa.example.", ARBOR_DNS_TYPE_A);
	uint8_t ns[ARBOR_DNS_NAME_WIRE_MAX];
	size_t nl = wire("ns.example.", ns);
	rr(&m, 2, "example.", ARBOR_DNS_TYPE_NS, 300, ns, nl);
	CHECK(put(c, CACHE_KIND_CHILD, "nosoa.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0,
	      "NOERROR without answer or SOA (a referral): not cached");
	CHECK(stats(c).inserts == 2 && stats(c).uncacheable == 2, "only the two negative answers with an SOA were stored");
	cache_free(c);
}

static void test_refused(void)
{
	struct cache *c = cache_new(0, 0);
	static struct msg m;
	begin(&m, ARBOR_DNS_RCODE_SERVFAIL, "x.example.", ARBOR_DNS_TYPE_A);
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0, "SERVFAIL: not cached");
	begin(&m, ARBOR_DNS_RCODE_REFUSED, "x.example.", ARBOR_DNS_TYPE_A);
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0, "REFUSED: not cached");
	begin(&m, ARBOR_DNS_FLAG_TC, "x.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0, "truncated: not cached");
	begin(&m, 0, "x.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	a_rr(&m, 1, NULL, 0, 2);
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0, "a TTL 0 record: not cached");
	begin(&m, 0, "x.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 0x80000001u, 1);
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == 0,
	      "a TTL with the top bit set counts as 0 (RFC 2181 §8)");
	CHECK(stats(c).uncacheable == 5 && stats(c).entries == 0, "refusals are counted");

	begin(&m, 0, "x.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	CHECK(put(c, CACHE_KIND_FORWARD, "y.example.", ARBOR_DNS_TYPE_A, &m, 0) == -EINVAL,
	      "a response to another name: -EINVAL");
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_AAAA, &m, 0) == -EINVAL,
	      "a response to another type: -EINVAL");
	m.len -= 1;
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == -EBADMSG, "a cut record: -EBADMSG");
	m.len += 1;
	m.b[2] &= 0x7f; /* QR off */
	CHECK(put(c, CACHE_KIND_FORWARD, "x.example.", ARBOR_DNS_TYPE_A, &m, 0) == -EBADMSG, "a query: -EBADMSG");
	CHECK(cache_put(c, CACHE_KIND_FORWARD, (const uint8_t *)"\3bad", 4, 1, 1, m.b, m.len, 0) == -EINVAL,
	      "a malformed key name: -EINVAL");
	cache_free(c);
}

static void test_budget(void)
{
	static struct msg m, out;
	char name[64];
	/* Measure one entry's cost, then allow three. */
	struct cache *c = cache_new(0, 0);
	begin(&m, 0, "n0.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	put(c, CACHE_KIND_FORWARD, "n0.example.", ARBOR_DNS_TYPE_A, &m, 0);
	size_t cost = stats(c).bytes;
	cache_free(c);
	CHECK(cost > m.len, "an entry costs its response and some overhead");

	c = cache_new(3 * cost, 0);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "n%d.example.", i);
		begin(&m, 0, name, ARBOR_DNS_TYPE_A);
		a_rr(&m, 1, NULL, 300, 1);
		put(c, CACHE_KIND_FORWARD, name, ARBOR_DNS_TYPE_A, &m, 0);
	}
	CHECK(stats(c).entries == 3 && stats(c).bytes == 3 * cost, "three entries fill the budget");
	CHECK(get(c, CACHE_KIND_FORWARD, "n0.example.", ARBOR_DNS_TYPE_A, 1, &out) > 0, "n0 is used (now most recent)");
	begin(&m, 0, "n3.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 300, 1);
	CHECK(put(c, CACHE_KIND_FORWARD, "n3.example.", ARBOR_DNS_TYPE_A, &m, 2) == 1, "a fourth is stored");
	CHECK(stats(c).evictions == 1 && stats(c).entries == 3 && stats(c).bytes <= 3 * cost,
	      "one entry was evicted to make room");
	CHECK(get(c, CACHE_KIND_FORWARD, "n1.example.", ARBOR_DNS_TYPE_A, 3, &out) == -ENOENT &&
		      get(c, CACHE_KIND_FORWARD, "n0.example.", ARBOR_DNS_TYPE_A, 3, &out) > 0 &&
		      get(c, CACHE_KIND_FORWARD, "n2.example.", ARBOR_DNS_TYPE_A, 3, &out) > 0 &&
		      get(c, CACHE_KIND_FORWARD, "n3.example.", ARBOR_DNS_TYPE_A, 3, &out) > 0,
	      "the least recently used one (n1) went");

	begin(&m, 0, "n2.example.", ARBOR_DNS_TYPE_A);
	a_rr(&m, 1, NULL, 100, 9);
	CHECK(put(c, CACHE_KIND_FORWARD, "n2.example.", ARBOR_DNS_TYPE_A, &m, 10) == 1 && stats(c).entries == 3 &&
		      get(c, CACHE_KIND_FORWARD, "n2.example.", ARBOR_DNS_TYPE_A, 10, &out) > 0 && ttl_of(&out, 0) == 100,
	      "storing a key again replaces its entry");

	begin(&m, 0, "big.example.", ARBOR_DNS_TYPE_A);
	for (int i = 0; i < 60; i++)
		a_rr(&m, 1, NULL, 300, (uint8_t)i);
	CHECK(put(c, CACHE_KIND_FORWARD, "big.example.", ARBOR_DNS_TYPE_A, &m, 10) == 0 && stats(c).entries == 3,
	      "a response bigger than the whole budget is not cached (and evicts nothing)");

	cache_flush(c);
	CHECK(stats(c).entries == 0 && stats(c).bytes == 0 &&
		      get(c, CACHE_KIND_FORWARD, "n0.example.", ARBOR_DNS_TYPE_A, 11, &out) == -ENOENT,
	      "flush empties it");
	cache_free(c);

	/* Many entries (the table grows); each is still found. */
	c = cache_new(0, 0);
	bool all = true;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "h%d.example.", i);
		begin(&m, 0, name, ARBOR_DNS_TYPE_A);
		a_rr(&m, 1, NULL, 300, (uint8_t)i);
		all = all && put(c, CACHE_KIND_CHILD, name, ARBOR_DNS_TYPE_A, &m, 0) == 1;
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "H%d.EXAMPLE.", i);
		all = all && get(c, CACHE_KIND_CHILD, name, ARBOR_DNS_TYPE_A, 5, &out) > 0 &&
		      out.b[out.len - 1] == (uint8_t)i;
	}
	CHECK(all && stats(c).entries == 2000, "2000 entries are stored and found again");
	cache_free(c);
}

int main(void)
{
	test_positive();
	test_caps_and_sections();
	test_negative();
	test_refused();
	test_budget();
	return tap_done();
}
