/* Unit test for dnsd's query answering: authoritative answers (AA, case echo),
 * NXDOMAIN vs NODATA with the SOA, CNAME chains, loops and exits, referrals with
 * glue, the RD=1 verdicts (recurse into a child, forward), REFUSED outside, EDNS
 * (payload, DO, BADVERS, unknown options), every FORMERR kind (pointer loops,
 * forward pointers, long labels and names, a truncated OPT, trailing bytes),
 * NOTIMP, classes and meta qtypes, truncation by whole RRsets at 512, at the EDNS
 * size and over TCP, name compression, ANY, additional records, relaying upstream
 * answers, SERVFAIL, counters, and never writing past cap. Responses are checked
 * with the common parser (arbor_dns_parse), not with dnsd's own code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "tap.h"
#include "zone.h"

#define T0 1700000000

static struct zone_db *db;
static uint8_t home[ARBOR_DNS_NAME_WIRE_MAX];
static size_t home_len;
static uint8_t resp[65536];
static int resp_len;
static struct arbor_dns_message msg;
static struct dnsd_answer_info info;
static struct dnsd_answer_opts opts = { .transport = DNSD_UDP, .allow_recursion = true, .recursion_available = true };

/* ---- Building the zone ---- */

struct batch {
	struct zone_record r[256];
	uint8_t owner[256][ARBOR_DNS_NAME_WIRE_MAX];
	uint8_t rdata[256][300];
	size_t n;
};

static void add(struct batch *b, const char *owner, int type, const char *data)
{
	char err[200];
	int on = dname_from_text(owner, home, home_len, b->owner[b->n], ARBOR_DNS_NAME_WIRE_MAX);
	int rn = rdata_from_text(type, data, home, home_len, b->rdata[b->n], 300, err, sizeof err);
	if (on < 0 || rn < 0 || b->n == 256) {
		printf("# bad test record %s %s: %s\n", owner, data, err);
		return;
	}
	b->r[b->n] = (struct zone_record){ .owner = b->owner[b->n], .owner_len = (size_t)on, .type = (uint16_t)type,
					   .ttl = 300, .rdata = b->rdata[b->n], .rdata_len = (size_t)rn };
	b->n++;
}

static void commit(struct batch *b, uint32_t source)
{
	char err[300];
	int rc = zone_db_replace_source(db, source, b->r, b->n, T0, NULL, err, sizeof err);
	if (rc < 0)
		printf("# batch for source %u refused: %s\n", source, err);
	b->n = 0;
}

static void build_zones(void)
{
	static struct batch b;
	char err[200];
	db = zone_db_new();
	const struct zone_soa soa = { .refresh = 3600, .retry = 600, .expire = 86400, .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1", "ns2.example." };
	zone_db_add_zone(db, "home.arpa", &soa, ns, 2, T0, err, sizeof err);
	const struct zone_soa rsoa = { .minimum = 60, .ttl = 120 };
	const char *rns[] = { "ns1.home.arpa." };
	zone_db_add_zone(db, "1.168.192.in-addr.arpa", &rsoa, rns, 1, T0, err, sizeof err);

	add(&b, "ns1", ARBOR_DNS_TYPE_A, "192.168.1.1");
	add(&b, "www", ARBOR_DNS_TYPE_A, "192.168.1.10");
	add(&b, "alias", ARBOR_DNS_TYPE_CNAME, "www");
	add(&b, "chain1", ARBOR_DNS_TYPE_CNAME, "chain2");
	add(&b, "chain2", ARBOR_DNS_TYPE_CNAME, "alias");
	add(&b, "loop1", ARBOR_DNS_TYPE_CNAME, "loop2");
	add(&b, "loop2", ARBOR_DNS_TYPE_CNAME, "loop1");
	add(&b, "self", ARBOR_DNS_TYPE_CNAME, "self");
	add(&b, "ext", ARBOR_DNS_TYPE_CNAME, "www.example.com.");
	add(&b, "dangling", ARBOR_DNS_TYPE_CNAME, "nothere");
	add(&b, "tochild", ARBOR_DNS_TYPE_CNAME, "h.m1.lan0");
	add(&b, "@", ARBOR_DNS_TYPE_MX, "10 mail");
	add(&b, "mail", ARBOR_DNS_TYPE_A, "192.168.1.25");
	add(&b, "@", ARBOR_DNS_TYPE_TXT, "v=spf1 -all");
	add(&b, "@", ARBOR_DNS_TYPE_CAA, "0 issue \"ca.example\"");
	add(&b, "_http._tcp", ARBOR_DNS_TYPE_SRV, "0 5 80 www");
	for (int i = 1; i <= 50; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.0.%d", i);
		add(&b, "many", ARBOR_DNS_TYPE_A, a);
	}
	for (int i = 1; i <= 100; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.1.%d", i);
		add(&b, "huge", ARBOR_DNS_TYPE_A, a);
	}
	commit(&b, ZONE_SOURCE_CONFIG);
	add(&b, "lan0", ARBOR_DNS_TYPE_A, "192.168.1.1");
	commit(&b, ZONE_SOURCE_INTERFACES);
	add(&b, "host1.lan0", ARBOR_DNS_TYPE_A, "192.168.1.50");
	add(&b, "50.1.168.192.in-addr.arpa.", ARBOR_DNS_TYPE_PTR, "host1.lan0");
	commit(&b, ZONE_SOURCE_LEASES);
	add(&b, "m1.lan0", ARBOR_DNS_TYPE_NS, "ns.m1.lan0");
	add(&b, "m1.lan0", ARBOR_DNS_TYPE_NS, "ns2.example.");
	add(&b, "ns.m1.lan0", ARBOR_DNS_TYPE_A, "192.168.1.20");
	add(&b, "ns.m1.lan0", ARBOR_DNS_TYPE_AAAA, "fd00::20");
	commit(&b, ZONE_SOURCE_CHILDREN);
}

/* ---- Asking ---- */

static int ask_raw(const uint8_t *q, size_t qlen)
{
	memset(resp, 0, sizeof resp);
	resp_len = dnsd_answer(db, q, qlen, &opts, resp, sizeof resp, &info);
	memset(&msg, 0, sizeof msg);
	if (resp_len > 0 && arbor_dns_parse(resp, (size_t)resp_len, &msg) != 0) {
		printf("# the response does not parse\n");
		return -1;
	}
	return resp_len;
}

static uint8_t query[4096];
static int query_len;

static int ask(const char *name, uint16_t qtype, bool rd, uint16_t edns)
{
	query_len = arbor_dns_build_query(query, sizeof query, 0x1234, name, qtype, rd, edns);
	if (query_len < 0)
		return -1;
	return ask_raw(query, (size_t)query_len);
}

static unsigned section_count(enum arbor_dns_section s, uint16_t type)
{
	unsigned n = 0;
	for (size_t i = 0; i < msg.nrr; i++)
		n += msg.rr[i].section == s && (type == 0 || msg.rr[i].type == type);
	return n;
}

static bool rr_is(size_t i, const char *owner, uint16_t type, const char *rdata)
{
	char o[ARBOR_DNS_NAME_TEXT_MAX], r[512];
	if (i >= msg.nrr || msg.rr[i].type != type ||
	    arbor_dns_name_read(resp, (size_t)resp_len, msg.rr[i].name_off, o, sizeof o, NULL) < 0 ||
	    arbor_dns_rdata_to_text(resp, (size_t)resp_len, &msg.rr[i], r, sizeof r) < 0)
		return false;
	if (strcmp(o, owner) != 0 || strcmp(r, rdata) != 0) {
		printf("# rr %zu: %s %s, want %s %s\n", i, o, r, owner, rdata);
		return false;
	}
	return true;
}

/* An NXDOMAIN/NODATA authority: exactly the zone's SOA at the negative TTL. */
static bool soa_auth(const char *apex, uint32_t ttl)
{
	for (size_t i = 0; i < msg.nrr; i++) {
		if (msg.rr[i].section != ARBOR_DNS_SECTION_AUTHORITY)
			continue;
		char o[ARBOR_DNS_NAME_TEXT_MAX];
		arbor_dns_name_read(resp, (size_t)resp_len, msg.rr[i].name_off, o, sizeof o, NULL);
		return msg.rr[i].type == ARBOR_DNS_TYPE_SOA && msg.rr[i].ttl == ttl && strcmp(o, apex) == 0 &&
		       section_count(ARBOR_DNS_SECTION_AUTHORITY, 0) == 1;
	}
	return false;
}

/* ---- A message assembler for hand-built queries ---- */

struct mb {
	uint8_t b[1024];
	size_t n;
};

static void u8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct mb *m, unsigned v)
{
	u8(m, v >> 8);
	u8(m, v & 0xff);
}

static void raw(struct mb *m, const void *p, size_t n)
{
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void hdr(struct mb *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	u16(m, 0xbeef);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void qname(struct mb *m, const char *text)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text(text, w, sizeof w);
	if (n > 0)
		raw(m, w, (size_t)n);
}

/* An OPT record: payload, version, DO, and optional raw options. */
static void opt(struct mb *m, unsigned payload, unsigned version, bool do_bit, const void *options, size_t olen)
{
	u8(m, 0);
	u16(m, ARBOR_DNS_TYPE_OPT);
	u16(m, payload);
	u8(m, 0);
	u8(m, version);
	u16(m, do_bit ? 0x8000 : 0);
	u16(m, (unsigned)olen);
	raw(m, options, olen);
}

static int ask_mb(const struct mb *m)
{
	return ask_raw(m->b, m->n);
}

static bool formerr(void)
{
	return resp_len > 0 && info.verdict == DNSD_ANSWERED && msg.header.rcode == ARBOR_DNS_RCODE_FORMERR &&
	       msg.header.id == 0xbeef && msg.header.qr;
}

/* ---- Tests ---- */

static void test_authoritative(void)
{
	ask("www.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.id == 0x1234 && msg.header.qr && msg.header.aa &&
		      msg.header.rcode == 0 && !msg.header.tc && msg.header.ancount == 1 &&
		      rr_is(0, "www.home.arpa.", ARBOR_DNS_TYPE_A, "192.168.1.10") && msg.rr[0].ttl == 300,
	      "A: authoritative answer");
	CHECK(msg.header.nscount == 0 && msg.header.arcount == 0 && !msg.opt.present, "no extra sections, no OPT");
	CHECK(msg.header.ra && !msg.header.rd, "RA for a client allowed to recurse, RD copied (0)");

	ask("WwW.HoMe.ArPa", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(memcmp(resp + 12, query + 12, (size_t)query_len - 12) == 0 && strcmp(msg.question.name, "WwW.HoMe.ArPa.") == 0,
	      "question echoed with its case");
	CHECK(msg.header.rd && rr_is(0, "WwW.HoMe.ArPa.", ARBOR_DNS_TYPE_A, "192.168.1.10") && resp[12 + 15 + 4] == 0xc0 &&
		      resp[12 + 15 + 5] == 12,
	      "answer owner is a pointer to the question (its case)");

	ask("nope.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN && msg.header.aa && msg.header.ancount == 0 &&
		      soa_auth("home.arpa.", 300),
	      "NXDOMAIN: AA, SOA in authority, TTL min(SOA TTL 3600, minimum 300)");
	CHECK(info.rcode == ARBOR_DNS_RCODE_NXDOMAIN && info.aa && !info.nodata, "info for NXDOMAIN");
	ask("a.b.c.nope.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN && soa_auth("home.arpa.", 300), "deep NXDOMAIN");

	ask("www.home.arpa", ARBOR_DNS_TYPE_AAAA, false, 0);
	CHECK(msg.header.rcode == 0 && msg.header.aa && msg.header.ancount == 0 && soa_auth("home.arpa.", 300) &&
		      info.nodata,
	      "NODATA: NOERROR, no answer, SOA in authority");
	ask("_tcp.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == 0 && msg.header.ancount == 0 && soa_auth("home.arpa.", 300),
	      "empty non-terminal: NODATA, not NXDOMAIN");
	ask("www.home.arpa", 65000, false, 0);
	CHECK(msg.header.rcode == 0 && msg.header.ancount == 0 && soa_auth("home.arpa.", 300), "unknown qtype: NODATA");

	ask("50.1.168.192.in-addr.arpa", ARBOR_DNS_TYPE_PTR, false, 0);
	CHECK(msg.header.aa && rr_is(0, "50.1.168.192.in-addr.arpa.", ARBOR_DNS_TYPE_PTR, "host1.lan0.home.arpa."),
	      "reverse zone PTR");
	ask("51.1.168.192.in-addr.arpa", ARBOR_DNS_TYPE_PTR, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN && soa_auth("1.168.192.in-addr.arpa.", 60),
	      "reverse NXDOMAIN with that zone's SOA, TTL min(120, 60)");
	ask("host1.lan0.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(rr_is(0, "host1.lan0.home.arpa.", ARBOR_DNS_TYPE_A, "192.168.1.50"), "a lease's A");
	ask("home.arpa", ARBOR_DNS_TYPE_SOA, false, 0); /* four batches touched home.arpa: T0 + 4 */
	char soa[200];
	snprintf(soa, sizeof soa, "ns1.home.arpa. hostmaster.home.arpa. %u 3600 600 86400 300", T0 + 4);
	CHECK(rr_is(0, "home.arpa.", ARBOR_DNS_TYPE_SOA, soa) && msg.rr[0].ttl == 3600, "SOA query: the full TTL");
}

static void test_additional(void)
{
	ask("home.arpa", ARBOR_DNS_TYPE_MX, false, 0);
	CHECK(rr_is(0, "home.arpa.", ARBOR_DNS_TYPE_MX, "10 mail.home.arpa.") &&
		      section_count(ARBOR_DNS_SECTION_ADDITIONAL, ARBOR_DNS_TYPE_A) == 1 &&
		      rr_is(1, "mail.home.arpa.", ARBOR_DNS_TYPE_A, "192.168.1.25"),
	      "MX with the exchange's A in additional");
	ask("_http._tcp.home.arpa", ARBOR_DNS_TYPE_SRV, false, 0);
	CHECK(rr_is(0, "_http._tcp.home.arpa.", ARBOR_DNS_TYPE_SRV, "0 5 80 www.home.arpa.") &&
		      rr_is(1, "www.home.arpa.", ARBOR_DNS_TYPE_A, "192.168.1.10"),
	      "SRV with the target's A in additional");
	/* RFC 2782: the SRV target is not compressed. */
	size_t srv_rd = msg.rr[0].rdata_off;
	CHECK(msg.rr[0].rdata_len == 6 + 15 && resp[srv_rd + 6] == 3, "SRV target written whole");
	ask("home.arpa", ARBOR_DNS_TYPE_NS, false, 0);
	CHECK(msg.header.ancount == 2 && section_count(ARBOR_DNS_SECTION_ADDITIONAL, ARBOR_DNS_TYPE_A) == 1,
	      "apex NS with ns1's address in additional");
	ask("home.arpa", ARBOR_DNS_TYPE_CAA, false, 0);
	CHECK(rr_is(0, "home.arpa.", ARBOR_DNS_TYPE_CAA, "0 issue \"ca.example\""), "CAA");
	ask("home.arpa", ARBOR_DNS_TYPE_TXT, false, 0);
	CHECK(rr_is(0, "home.arpa.", ARBOR_DNS_TYPE_TXT, "\"v=spf1 -all\""), "TXT");
}

static void test_cnames(void)
{
	ask("chain1.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == 0 && msg.header.aa && msg.header.ancount == 4 &&
		      rr_is(0, "chain1.home.arpa.", ARBOR_DNS_TYPE_CNAME, "chain2.home.arpa.") &&
		      rr_is(1, "chain2.home.arpa.", ARBOR_DNS_TYPE_CNAME, "alias.home.arpa.") &&
		      rr_is(2, "alias.home.arpa.", ARBOR_DNS_TYPE_CNAME, "www.home.arpa.") &&
		      rr_is(3, "www.home.arpa.", ARBOR_DNS_TYPE_A, "192.168.1.10"),
	      "CNAME chain followed to the A");
	/* Compression: every name after the question is a pointer or ends in one. */
	size_t uncompressed = 12 + 21 + 4;
	static const size_t owners[] = { 18, 18, 17, 15 }, rdatas[] = { 18, 17, 15, 4 };
	for (int i = 0; i < 4; i++)
		uncompressed += owners[i] + 10 + rdatas[i];
	CHECK((size_t)resp_len < uncompressed - 80, "compression shrinks the chain answer by far");
	printf("# chain answer: %d bytes, %zu uncompressed\n", resp_len, uncompressed);
	ask("alias.home.arpa", ARBOR_DNS_TYPE_CNAME, false, 0);
	CHECK(msg.header.ancount == 1 && rr_is(0, "alias.home.arpa.", ARBOR_DNS_TYPE_CNAME, "www.home.arpa."),
	      "qtype CNAME: the CNAME, not followed");
	ask("loop1.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.rcode == 0 && msg.header.ancount == 2 &&
		      rr_is(1, "loop2.home.arpa.", ARBOR_DNS_TYPE_CNAME, "loop1.home.arpa."),
	      "CNAME loop: stops at the repeat");
	ask("self.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == 0 && msg.header.ancount == 1, "CNAME to itself: one record");
	ask("ext.home.arpa", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.rcode == 0 && msg.header.aa && msg.header.ancount == 1 &&
		      msg.header.nscount == 0 && rr_is(0, "ext.home.arpa.", ARBOR_DNS_TYPE_CNAME, "www.example.com."),
	      "CNAME leaving our zones: the CNAME, for the client to follow");
	ask("dangling.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN && msg.header.aa && msg.header.ancount == 1 &&
		      soa_auth("home.arpa.", 300),
	      "CNAME to a missing name: the CNAME, NXDOMAIN, SOA (RFC 6604)");
	ask("tochild.home.arpa", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.ancount == 1 && msg.header.rcode == 0,
	      "CNAME into a child zone: the CNAME");
	ask("alias.home.arpa", ARBOR_DNS_TYPE_AAAA, false, 0);
	CHECK(msg.header.ancount == 1 && soa_auth("home.arpa.", 300) && msg.header.rcode == 0,
	      "CNAME to a name without the type: CNAME + SOA (NODATA)");
}

static void test_delegation(void)
{
	ask("h.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, false, 1232);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.rcode == 0 && !msg.header.aa && msg.header.ancount == 0 &&
		      section_count(ARBOR_DNS_SECTION_AUTHORITY, ARBOR_DNS_TYPE_NS) == 2 && info.referral,
	      "RD=0 below a delegation: referral, no AA, NS in authority");
	CHECK(section_count(ARBOR_DNS_SECTION_ADDITIONAL, ARBOR_DNS_TYPE_A) == 1 &&
		      section_count(ARBOR_DNS_SECTION_ADDITIONAL, ARBOR_DNS_TYPE_AAAA) == 1 && msg.opt.present,
	      "referral: glue A and AAAA in additional, OPT");
	bool names_ok = true;
	for (size_t i = 0; i < msg.nrr; i++) {
		char o[ARBOR_DNS_NAME_TEXT_MAX];
		arbor_dns_name_read(resp, (size_t)resp_len, msg.rr[i].name_off, o, sizeof o, NULL);
		if (msg.rr[i].section == ARBOR_DNS_SECTION_AUTHORITY)
			names_ok &= strcmp(o, "m1.lan0.home.arpa.") == 0;
		else if (msg.rr[i].type != ARBOR_DNS_TYPE_OPT)
			names_ok &= strcmp(o, "ns.m1.lan0.home.arpa.") == 0;
	}
	CHECK(names_ok, "referral owners: the delegation point, the glue names");

	ask("h.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, true, 1232);
	CHECK(resp_len == 0 && info.verdict == DNSD_RECURSE_CHILD, "RD=1 below a delegation: RECURSE_CHILD");
	CHECK(info.deleg.apex_len == 19 && memcmp(info.deleg.apex, "\2m1\4lan0\4home\4arpa", 19) == 0 &&
		      info.deleg.nns == 2 && info.deleg.nv4 == 1 && info.deleg.nv6 == 1 &&
		      memcmp(info.deleg.v4[0], "\xc0\xa8\x01\x14", 4) == 0 && info.deleg.v6[0][0] == 0xfd &&
		      info.deleg.v6[0][15] == 0x20,
	      "the delegation: apex, NS names, glue addresses");
	CHECK(info.have_question && info.q.id == 0x1234 && info.q.qtype == ARBOR_DNS_TYPE_A && info.q.rd &&
		      info.q.edns && info.q.edns_payload == 1232 && info.q.name_len == 21,
	      "the parsed question for the caller");
	ask("m1.lan0.home.arpa", ARBOR_DNS_TYPE_SOA, true, 0);
	CHECK(info.verdict == DNSD_RECURSE_CHILD, "RD=1 at the delegation point itself: RECURSE_CHILD");
	opts.allow_recursion = false;
	ask("h.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(info.verdict == DNSD_ANSWERED && info.referral && !msg.header.ra && msg.header.rd,
	      "RD=1 from a client not allowed to recurse: referral, RA clear");
	opts.allow_recursion = true;
	ask("m1.lan0.home.arpa", ARBOR_DNS_TYPE_DS, false, 0);
	CHECK(msg.header.aa && msg.header.rcode == 0 && msg.header.ancount == 0 && soa_auth("home.arpa.", 300),
	      "DS at the delegation point: answered by the parent (NODATA)");
	ask("ns.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(info.referral && !msg.header.aa, "glue itself is not answered authoritatively");
}

static void test_outside(void)
{
	ask("www.example.com", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(resp_len == 0 && info.verdict == DNSD_FORWARD && info.q.qtype == ARBOR_DNS_TYPE_A,
	      "outside, RD=1, allowed, forwarding: FORWARD");
	ask("www.example.com", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(info.verdict == DNSD_ANSWERED && msg.header.rcode == ARBOR_DNS_RCODE_REFUSED && !msg.header.aa,
	      "outside, RD=0: REFUSED");
	opts.recursion_available = false;
	ask("www.example.com", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "outside, no forwarders: REFUSED");
	opts.recursion_available = true;
	opts.allow_recursion = false;
	ask("www.example.com", ARBOR_DNS_TYPE_A, true, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED && !msg.header.ra, "outside, client not allowed: REFUSED");
	opts.allow_recursion = true;
	ask("arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "an ancestor of our zones is outside them");
	ask(".", ARBOR_DNS_TYPE_NS, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "the root is outside");
}

static void test_classes_and_qtypes(void)
{
	ask("www.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	query[query_len - 1] = ARBOR_DNS_CLASS_CH;
	ask_raw(query, (size_t)query_len);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED && msg.question.qclass == ARBOR_DNS_CLASS_CH,
	      "class CH: REFUSED");
	query[query_len - 1] = ARBOR_DNS_CLASS_ANY;
	ask_raw(query, (size_t)query_len);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "class ANY: REFUSED");
	ask("home.arpa", ARBOR_DNS_TYPE_AXFR, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "AXFR: REFUSED");
	ask("home.arpa", ARBOR_DNS_TYPE_IXFR, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_REFUSED, "IXFR: REFUSED");
	ask("home.arpa", ARBOR_DNS_TYPE_OPT, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_FORMERR && msg.header.qdcount == 1, "qtype OPT: FORMERR");
	ask("home.arpa", 250, false, 0);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_FORMERR, "qtype TSIG: FORMERR");

	ask("www.home.arpa", ARBOR_DNS_TYPE_ANY, false, 0);
	CHECK(msg.header.aa && msg.header.ancount == 1 && msg.rr[0].type == ARBOR_DNS_TYPE_A && info.any_minimal,
	      "ANY: one RRset");
	ask("home.arpa", ARBOR_DNS_TYPE_ANY, false, 0);
	bool one_type = msg.header.ancount >= 1;
	for (size_t i = 1; i < msg.header.ancount; i++)
		one_type &= msg.rr[i].type == msg.rr[0].type;
	CHECK(one_type && msg.rr[0].type == ARBOR_DNS_TYPE_MX, "ANY at the apex (5 RRsets): one RRset (MX)");
	ask("lan0.home.arpa", ARBOR_DNS_TYPE_ANY, false, 0);
	CHECK(msg.header.ancount == 1, "ANY at an interface name");
	ask("_tcp.home.arpa", ARBOR_DNS_TYPE_ANY, false, 0);
	CHECK(msg.header.ancount == 0 && soa_auth("home.arpa.", 300), "ANY at an empty non-terminal: NODATA");
	ask("alias.home.arpa", ARBOR_DNS_TYPE_ANY, false, 0);
	CHECK(msg.header.ancount == 1 && msg.rr[0].type == ARBOR_DNS_TYPE_CNAME, "ANY at a CNAME: the CNAME");
}

static void test_edns(void)
{
	struct mb m;
	hdr(&m, 0, 1, 0, 0, 1);
	qname(&m, "www.home.arpa");
	u16(&m, ARBOR_DNS_TYPE_A);
	u16(&m, ARBOR_DNS_CLASS_IN);
	size_t at = m.n;
	opt(&m, 4096, 0, true, "\xfd\xe9\x00\x02\xab\xcd", 6);
	ask_mb(&m);
	CHECK(msg.header.rcode == 0 && msg.header.ancount == 1 && msg.opt.present && msg.opt.payload == 1232 &&
		      msg.opt.version == 0 && msg.opt.do_bit && msg.opt.rdata_len == 0,
	      "EDNS: OPT echoed with 1232, DO echoed, unknown option ignored");
	m.n = at;
	opt(&m, 1232, 1, false, NULL, 0);
	ask_mb(&m);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_BADVERS && msg.opt.present && msg.opt.version == 0 &&
		      msg.opt.ext_rcode == 1 && (msg.header.flags & 15) == 0 && msg.header.ancount == 0 &&
		      info.rcode == ARBOR_DNS_RCODE_BADVERS,
	      "EDNS version 1: BADVERS (extended rcode 16), OPT version 0");
	m.n = at;
	opt(&m, 1232, 0, false, "\x00\x0a\x00\x08\x01\x02", 6); /* a cookie option cut short */
	ask_mb(&m);
	CHECK(formerr() && !msg.opt.present, "truncated option: FORMERR, no OPT");
	m.n = at;
	opt(&m, 1232, 0, false, NULL, 0);
	m.n -= 3; /* the OPT record itself cut short */
	ask_mb(&m);
	CHECK(formerr(), "truncated OPT record: FORMERR");
	m.n = at;
	hdr(&m, 0, 1, 0, 0, 2);
	m.n = at;
	opt(&m, 1232, 0, false, NULL, 0);
	opt(&m, 1232, 0, false, NULL, 0);
	ask_mb(&m);
	CHECK(formerr(), "two OPT records: FORMERR");
	hdr(&m, 0, 1, 1, 0, 0);
	m.n = at;
	opt(&m, 1232, 0, false, NULL, 0);
	ask_mb(&m);
	CHECK(formerr(), "OPT in the answer section: FORMERR");
	hdr(&m, 0, 1, 0, 0, 1);
	m.n = at;
	u8(&m, 1);
	u8(&m, 'x');
	opt(&m, 1232, 0, false, NULL, 0);
	ask_mb(&m);
	CHECK(formerr(), "OPT owned by a name other than the root: FORMERR");
}

static void test_formerr(void)
{
	struct mb m;
	hdr(&m, 0, 1, 0, 0, 0);
	u16(&m, 0xc00c); /* the question's name is a pointer to itself */
	u16(&m, ARBOR_DNS_TYPE_A);
	u16(&m, ARBOR_DNS_CLASS_IN);
	ask_mb(&m);
	CHECK(formerr() && msg.header.qdcount == 0, "pointer loop in the question: FORMERR without the question");
	hdr(&m, 0, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	u16(&m, 0xc020); /* forward */
	u16(&m, 1);
	u16(&m, 1);
	u8(&m, 0);
	ask_mb(&m);
	CHECK(formerr(), "forward pointer: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	u16(&m, 0xc3ff); /* past the end */
	u16(&m, 1);
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr(), "pointer past the end: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	u8(&m, 64);
	for (int i = 0; i < 64; i++)
		u8(&m, 'a');
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr(), "label of 64 bytes: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	for (int l = 0; l < 5; l++) {
		u8(&m, 63);
		for (int i = 0; i < 63; i++)
			u8(&m, 'a');
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr(), "name of 321 bytes: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr(), "question without its class: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	u8(&m, 0);
	ask_mb(&m);
	CHECK(formerr() && msg.header.qdcount == 1, "trailing byte: FORMERR (question echoed)");
	hdr(&m, 0, 0, 0, 0, 0);
	ask_mb(&m);
	CHECK(formerr() && msg.header.qdcount == 0, "no question: FORMERR");
	hdr(&m, 0, 2, 0, 0, 0);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr() && msg.header.qdcount == 0, "two questions: FORMERR");
	/* An additional record whose owner points at itself. */
	hdr(&m, 0, 1, 0, 0, 1);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0xc000 | (unsigned)m.n);
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 0);
	ask_mb(&m);
	CHECK(formerr(), "pointer loop in an additional record: FORMERR");
	/* An additional record whose owner points forward, at the next record's owner. */
	hdr(&m, 0, 1, 0, 0, 2);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0xc000 | (unsigned)(m.n + 12));
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 0);
	qname(&m, "x");
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 0);
	ask_mb(&m);
	CHECK(formerr(), "forward pointer in an additional record: FORMERR");
	hdr(&m, 0, 1, 0, 0, 1);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0xc00c); /* a valid record, but its rdata runs past the end */
	u16(&m, 1);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 8);
	u16(&m, 0);
	ask_mb(&m);
	CHECK(formerr(), "record running past the end: FORMERR");
	hdr(&m, 0, 1, 0, 0, 0);
	u8(&m, 0x41); /* reserved label kind */
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	ask_mb(&m);
	CHECK(formerr(), "extended label type: FORMERR");

	/* Not answered at all. */
	hdr(&m, 0, 1, 0, 0, 0);
	m.n = 11;
	CHECK(ask_mb(&m) == 0 && info.verdict == DNSD_DROP, "shorter than a header: dropped");
	hdr(&m, ARBOR_DNS_FLAG_QR, 1, 0, 0, 0);
	qname(&m, "www.home.arpa");
	u16(&m, 1);
	u16(&m, 1);
	CHECK(ask_mb(&m) == 0 && info.verdict == DNSD_DROP, "a response (QR=1): dropped");

	/* Opcodes. */
	static const unsigned opcodes[] = { 1, ARBOR_DNS_OPCODE_STATUS, ARBOR_DNS_OPCODE_NOTIFY, ARBOR_DNS_OPCODE_UPDATE, 15 };
	bool ok = true;
	for (size_t i = 0; i < sizeof opcodes / sizeof opcodes[0]; i++) {
		hdr(&m, opcodes[i] << ARBOR_DNS_OPCODE_SHIFT, 1, 0, 0, 0);
		qname(&m, "www.home.arpa");
		u16(&m, 1);
		u16(&m, 1);
		ask_mb(&m);
		ok &= msg.header.rcode == ARBOR_DNS_RCODE_NOTIMP && msg.header.opcode == opcodes[i] &&
		      msg.header.id == 0xbeef && msg.header.ancount == 0;
	}
	CHECK(ok, "opcodes other than QUERY: NOTIMP, opcode echoed");
	hdr(&m, ARBOR_DNS_OPCODE_UPDATE << ARBOR_DNS_OPCODE_SHIFT, 0, 0, 0, 0);
	u8(&m, 0xc0);
	ask_mb(&m);
	CHECK(msg.header.rcode == ARBOR_DNS_RCODE_NOTIMP && msg.header.qdcount == 0, "NOTIMP even when malformed");
}

static void test_truncation(void)
{
	ask("many.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(resp_len <= 512 && msg.header.tc && msg.header.ancount == 0 && msg.header.aa && info.tc,
	      "50 A records over plain UDP: TC, the RRset dropped whole");
	ask("many.home.arpa", ARBOR_DNS_TYPE_A, false, 1232);
	CHECK(!msg.header.tc && msg.header.ancount == 50 && resp_len > 512 && resp_len <= 1232, "with EDNS 1232: fits");
	ask("many.home.arpa", ARBOR_DNS_TYPE_A, false, 600);
	CHECK(msg.header.tc && msg.header.ancount == 0 && resp_len <= 600 && msg.opt.present,
	      "client payload 600: TC, OPT kept");
	ask("many.home.arpa", ARBOR_DNS_TYPE_A, false, 100);
	CHECK(msg.header.tc && resp_len <= 512, "client payload under 512 counts as 512");
	ask("huge.home.arpa", ARBOR_DNS_TYPE_A, false, 4096);
	CHECK(msg.header.tc && msg.header.ancount == 0 && resp_len <= 1232, "client payload 4096: capped at 1232");
	opts.transport = DNSD_TCP;
	ask("huge.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	CHECK(!msg.header.tc && msg.header.ancount == 100, "over TCP: all 100 records");
	/* A small cap: TC within the cap, nothing written past it. */
	memset(resp, 0xaa, sizeof resp);
	query_len = arbor_dns_build_query(query, sizeof query, 7, "huge.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	int n = dnsd_answer(db, query, (size_t)query_len, &opts, resp, 300, &info);
	bool untouched = true;
	for (size_t i = 300; i < 1000; i++)
		untouched &= resp[i] == 0xaa;
	CHECK(n > 0 && n <= 300 && untouched && (resp[2] & 2), "cap 300: TC, nothing past the cap");
	n = dnsd_answer(db, query, (size_t)query_len, &opts, resp, 20, &info);
	CHECK(n == -ENOSPC && info.verdict == DNSD_DROP, "cap too small for the question: -ENOSPC");
	opts.transport = DNSD_UDP;
	CHECK(dnsd_answer(db, query, (size_t)query_len, &opts, NULL, 512, &info) == -EINVAL &&
		      dnsd_answer(NULL, query, (size_t)query_len, &opts, resp, 512, &info) == -EINVAL,
	      "NULL arguments: -EINVAL");
}

/* An upstream answer for www.example.com A: a CNAME (owner compressed to the
 * question) to e.example.net, its A, an NS in authority, and upstream's OPT. */
static size_t upstream_answer(uint8_t *b, unsigned flags, const char *name, unsigned qtype)
{
	struct mb m;
	hdr(&m, flags, 1, 2, 1, 1);
	qname(&m, name);
	u16(&m, qtype);
	u16(&m, 1);
	u16(&m, 0xc00c);
	u16(&m, ARBOR_DNS_TYPE_CNAME);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 60);
	size_t target = m.n + 2;
	u16(&m, 15);
	qname(&m, "e.example.net");
	u16(&m, 0xc000 | (unsigned)target);
	u16(&m, ARBOR_DNS_TYPE_A);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 60);
	u16(&m, 4);
	raw(&m, "\x5d\xb8\xd8\x22", 4);
	u16(&m, 0xc000 | (unsigned)(target + 2)); /* example.net */
	u16(&m, ARBOR_DNS_TYPE_NS);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 60);
	u16(&m, 6);
	u8(&m, 3);
	raw(&m, "ns1", 3);
	u16(&m, 0xc000 | (unsigned)(target + 2));
	opt(&m, 4096, 0, false, NULL, 0);
	memcpy(b, m.b, m.n);
	return m.n;
}

static void test_upstream(void)
{
	uint8_t up[2048], out[2048];
	ask("WWW.Example.COM", ARBOR_DNS_TYPE_A, true, 1232);
	CHECK(info.verdict == DNSD_FORWARD, "forward verdict for the relay");
	struct dnsd_answer_info fwd = info;
	size_t ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR | ARBOR_DNS_FLAG_RD | ARBOR_DNS_FLAG_RA | ARBOR_DNS_FLAG_AA,
				      "www.example.com", ARBOR_DNS_TYPE_A);
	resp_len = dnsd_answer_from_upstream(&fwd, up, ulen, resp, sizeof resp);
	CHECK(resp_len > 0 && arbor_dns_parse(resp, (size_t)resp_len, &msg) == 0, "relayed answer parses");
	CHECK(msg.header.id == 0x1234 && msg.header.ra && !msg.header.aa && msg.header.rd && msg.header.rcode == 0 &&
		      strcmp(msg.question.name, "WWW.Example.COM.") == 0,
	      "relayed: our id, our question's case, RA set, AA cleared");
	CHECK(rr_is(0, "WWW.Example.COM.", ARBOR_DNS_TYPE_CNAME, "e.example.net.") &&
		      rr_is(1, "e.example.net.", ARBOR_DNS_TYPE_A, "93.184.216.34") &&
		      rr_is(2, "example.net.", ARBOR_DNS_TYPE_NS, "ns1.example.net."),
	      "relayed records, names decompressed and compressed again");
	CHECK(msg.header.arcount == 1 && msg.opt.present && msg.opt.payload == 1232, "upstream OPT replaced by ours");

	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR, "www.example.org", ARBOR_DNS_TYPE_A);
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out) == -EBADMSG, "another name: -EBADMSG");
	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR, "www.example.com", ARBOR_DNS_TYPE_AAAA);
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out) == -EBADMSG, "another qtype: -EBADMSG");
	ulen = upstream_answer(up, 0, "www.example.com", ARBOR_DNS_TYPE_A);
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out) == -EBADMSG, "not a response: -EBADMSG");
	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR, "www.example.com", ARBOR_DNS_TYPE_A);
	up[ulen] = 0;
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen + 1, out, sizeof out) == -EBADMSG, "trailing byte: -EBADMSG");
	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR, "www.example.com", ARBOR_DNS_TYPE_A);
	/* The CNAME's target made a pointer to itself. */
	size_t cname_rd = 12 + 17 + 4 + 2 + 10;
	up[cname_rd + 2] = 0xc0;
	up[cname_rd + 3] = (uint8_t)(cname_rd + 2);
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out) == -EBADMSG, "pointer loop in rdata: -EBADMSG");
	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR, "www.example.com", ARBOR_DNS_TYPE_A);
	up[ulen - 6] = 1; /* upstream's OPT carries an extended rcode */
	CHECK(dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out) == -EBADMSG, "extended rcode: -EBADMSG");
	ulen = upstream_answer(up, ARBOR_DNS_FLAG_QR | ARBOR_DNS_FLAG_TC | ARBOR_DNS_RCODE_NXDOMAIN, "www.example.com",
			       ARBOR_DNS_TYPE_A);
	int n = dnsd_answer_from_upstream(&fwd, up, ulen, out, sizeof out);
	CHECK(n > 0 && (out[2] & 2) && (out[3] & 15) == ARBOR_DNS_RCODE_NXDOMAIN, "upstream TC and rcode kept");

	/* A large upstream answer for a plain UDP client: TC, whole RRsets dropped. */
	ask("big.example.com", ARBOR_DNS_TYPE_A, true, 0);
	fwd = info;
	struct mb m;
	hdr(&m, ARBOR_DNS_FLAG_QR, 1, 60, 0, 0);
	qname(&m, "big.example.com");
	u16(&m, 1);
	u16(&m, 1);
	for (int i = 0; i < 60; i++) {
		u16(&m, 0xc00c);
		u16(&m, 1);
		u16(&m, 1);
		u16(&m, 0);
		u16(&m, 60);
		u16(&m, 4);
		u16(&m, 0x0a00);
		u16(&m, (unsigned)i);
	}
	resp_len = dnsd_answer_from_upstream(&fwd, m.b, m.n, resp, sizeof resp);
	CHECK(resp_len > 0 && resp_len <= 512 && arbor_dns_parse(resp, (size_t)resp_len, &msg) == 0 && msg.header.tc &&
		      msg.header.ancount == 0,
	      "relayed answer over 512 for a plain UDP client: TC, RRset dropped");
	opts.transport = DNSD_TCP;
	ask("big.example.com", ARBOR_DNS_TYPE_A, true, 0);
	opts.transport = DNSD_UDP;
	fwd = info;
	resp_len = dnsd_answer_from_upstream(&fwd, m.b, m.n, resp, sizeof resp);
	CHECK(resp_len > 0 && arbor_dns_parse(resp, (size_t)resp_len, &msg) == 0 && !msg.header.tc &&
		      msg.header.ancount == 60,
	      "the same over TCP: all of it");

	resp_len = dnsd_answer_servfail(&fwd, resp, sizeof resp);
	CHECK(resp_len > 0 && arbor_dns_parse(resp, (size_t)resp_len, &msg) == 0 &&
		      msg.header.rcode == ARBOR_DNS_RCODE_SERVFAIL && msg.header.ra && msg.header.id == 0x1234 &&
		      strcmp(msg.question.name, "big.example.com.") == 0,
	      "SERVFAIL: question echoed, RA");
	ask("h.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, true, 1232);
	resp_len = dnsd_answer_servfail(&info, resp, sizeof resp);
	CHECK(resp_len > 0 && arbor_dns_parse(resp, (size_t)resp_len, &msg) == 0 && msg.opt.present,
	      "SERVFAIL carries OPT for an EDNS client");
}

static void test_counters(void)
{
	struct dnsd_counters c = { 0 };
	ask("www.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	dnsd_counters_add(&c, &info);
	ask("nope.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	dnsd_counters_add(&c, &info);
	ask("www.home.arpa", ARBOR_DNS_TYPE_AAAA, false, 0);
	dnsd_counters_add(&c, &info);
	ask("many.home.arpa", ARBOR_DNS_TYPE_A, false, 0);
	dnsd_counters_add(&c, &info);
	ask("www.example.com", ARBOR_DNS_TYPE_A, true, 0);
	dnsd_counters_add(&c, &info);
	ask("www.example.com", ARBOR_DNS_TYPE_A, false, 0);
	dnsd_counters_add(&c, &info);
	uint8_t shortq[5] = { 0 };
	dnsd_answer(db, shortq, sizeof shortq, &opts, resp, sizeof resp, &info);
	dnsd_counters_add(&c, &info);
	int n = dnsd_answer_servfail(&(struct dnsd_answer_info){ .have_question = true, .q = { .name_len = 1 } }, resp,
				     sizeof resp);
	dnsd_counters_reply(&c, resp, (size_t)n);
	CHECK(c.queries == 7 && c.answered == 6 && c.noerror == 3 && c.nxdomain == 1 && c.nodata == 1 &&
		      c.truncated == 1 && c.forwarded == 1 && c.refused == 1 && c.dropped == 1 && c.servfail == 1,
	      "counters");
}

int main(void)
{
	home_len = (size_t)arbor_dns_name_from_text("home.arpa", home, sizeof home);
	build_zones();
	test_authoritative();
	test_additional();
	test_cnames();
	test_delegation();
	test_outside();
	test_classes_and_qtypes();
	test_edns();
	test_formerr();
	test_truncation();
	test_upstream();
	test_counters();
	zone_db_free(db);
	return tap_done();
}
