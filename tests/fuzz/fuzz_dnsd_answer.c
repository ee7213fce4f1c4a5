/* libFuzzer harness for dnsd's answerer: arbitrary bytes as a query against a
 * small zone (CNAME chains and a loop, a delegation with glue, many records for
 * truncation, a reverse zone), under each transport and recursion setting and with
 * a short output buffer. It must never crash, never write past cap, and whatever
 * it answers must be a well-formed DNS message (checked with the common parser)
 * within the transport's size limit, carrying the query's id. The same bytes are
 * then fed as an upstream answer to dnsd_answer_from_upstream, for a fixed forwarded
 * question and for the question the input itself asked. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "zone.h"

#define CANARY 0x5a
#define SLACK 64

static struct zone_db *db;
static struct dnsd_answer_info forwarded; /* a FORWARD verdict for www.example.com A */
static uint8_t out[ARBOR_DNS_MAX_MSG + SLACK];
static struct arbor_dns_message parsed;

static void add(struct zone_record *r, uint8_t (*owner)[ARBOR_DNS_NAME_WIRE_MAX], uint8_t (*rdata)[256], size_t *n,
		const char *name, int type, const char *data)
{
	uint8_t home[ARBOR_DNS_NAME_WIRE_MAX];
	int hl = arbor_dns_name_from_text("home.arpa", home, sizeof home);
	int on = dname_from_text(name, home, (size_t)hl, owner[*n], ARBOR_DNS_NAME_WIRE_MAX);
	int rn = rdata_from_text(type, data, home, (size_t)hl, rdata[*n], 256, NULL, 0);
	if (on < 0 || rn < 0)
		abort();
	r[*n] = (struct zone_record){ .owner = owner[*n], .owner_len = (size_t)on, .type = (uint16_t)type, .ttl = 300,
				      .rdata = rdata[*n], .rdata_len = (size_t)rn };
	(*n)++;
}

static void setup(void)
{
	static struct zone_record r[128];
	static uint8_t owner[128][ARBOR_DNS_NAME_WIRE_MAX], rdata[128][256];
	size_t n = 0;
	db = zone_db_new();
	const struct zone_soa soa = { .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1" };
	const char *rns[] = { "ns1.home.arpa." };
	if (zone_db_add_zone(db, "home.arpa", &soa, ns, 1, 1, NULL, 0) < 0 ||
	    zone_db_add_zone(db, "1.168.192.in-addr.arpa", &soa, rns, 1, 1, NULL, 0) < 0)
		abort();
	add(r, owner, rdata, &n, "ns1", ARBOR_DNS_TYPE_A, "192.168.1.1");
	add(r, owner, rdata, &n, "www", ARBOR_DNS_TYPE_A, "192.168.1.10");
	add(r, owner, rdata, &n, "www", ARBOR_DNS_TYPE_AAAA, "fd00::10");
	add(r, owner, rdata, &n, "a", ARBOR_DNS_TYPE_CNAME, "b");
	add(r, owner, rdata, &n, "b", ARBOR_DNS_TYPE_CNAME, "www");
	add(r, owner, rdata, &n, "l1", ARBOR_DNS_TYPE_CNAME, "l2");
	add(r, owner, rdata, &n, "l2", ARBOR_DNS_TYPE_CNAME, "l1");
	add(r, owner, rdata, &n, "out", ARBOR_DNS_TYPE_CNAME, "example.com.");
	add(r, owner, rdata, &n, "@", ARBOR_DNS_TYPE_MX, "10 www");
	add(r, owner, rdata, &n, "@", ARBOR_DNS_TYPE_TXT, "\"a\" \"b\"");
	add(r, owner, rdata, &n, "_s._tcp", ARBOR_DNS_TYPE_SRV, "0 0 80 www");
	add(r, owner, rdata, &n, "c", ARBOR_DNS_TYPE_NS, "ns.c");
	add(r, owner, rdata, &n, "c", ARBOR_DNS_TYPE_NS, "ns.example.");
	add(r, owner, rdata, &n, "ns.c", ARBOR_DNS_TYPE_A, "192.168.1.30");
	add(r, owner, rdata, &n, "ns.c", ARBOR_DNS_TYPE_AAAA, "fd00::30");
	add(r, owner, rdata, &n, "10.1.168.192.in-addr.arpa.", ARBOR_DNS_TYPE_PTR, "www");
	for (int i = 0; i < 60; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.0.%d", i);
		add(r, owner, rdata, &n, "many", ARBOR_DNS_TYPE_A, a);
	}
	if (zone_db_replace_source(db, ZONE_SOURCE_CONFIG, r, n, 2, NULL, NULL, 0) < 0)
		abort();
	uint8_t q[512];
	int qlen = arbor_dns_build_query(q, sizeof q, 77, "www.example.com", ARBOR_DNS_TYPE_A, true, 1232);
	const struct dnsd_answer_opts o = { .transport = DNSD_UDP, .allow_recursion = true, .recursion_available = true };
	if (qlen < 0 || dnsd_answer(db, q, (size_t)qlen, &o, out, sizeof out, &forwarded) != 0 ||
	    forwarded.verdict != DNSD_FORWARD)
		abort();
}

/* A response must parse, fit, and stop at cap. */
static void check_reply(int n, size_t cap, size_t limit, const uint8_t *query, size_t qlen, bool same_id)
{
	for (size_t i = cap; i < cap + SLACK; i++)
		if (out[i] != CANARY)
			abort(); /* written past cap */
	if (n < 0) {
		if (n != -ENOSPC && n != -EBADMSG)
			abort();
		return;
	}
	if ((size_t)n > cap || (size_t)n > limit)
		abort();
	if (n == 0)
		return;
	if (arbor_dns_parse(out, (size_t)n, &parsed) != 0 || !parsed.header.qr)
		abort();
	if (same_id && (qlen < 2 || memcmp(out, query, 2) != 0))
		abort();
}

static void answer(const uint8_t *data, size_t size, enum dnsd_transport t, bool allow, bool avail, size_t cap)
{
	const struct dnsd_answer_opts o = { .transport = t, .allow_recursion = allow, .recursion_available = avail };
	static struct dnsd_answer_info info;
	memset(out + cap, CANARY, SLACK);
	int n = dnsd_answer(db, data, size, &o, out, cap, &info);
	size_t limit = t == DNSD_TCP ? ARBOR_DNS_MAX_MSG : DNSD_EDNS_PAYLOAD;
	check_reply(n, cap, limit, data, size, true);
	if (n > 0 && info.verdict != DNSD_ANSWERED)
		abort();
	if (n == 0 && info.verdict == DNSD_ANSWERED)
		abort();
	if (n > 0 && t == DNSD_UDP && !info.q.edns && n > DNSD_UDP_PLAIN)
		abort();
	if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD) {
		/* The input answering its own question. */
		memset(out + cap, CANARY, SLACK);
		n = dnsd_answer_from_upstream(&info, data, size, out, cap);
		check_reply(n, cap, limit, NULL, 0, false);
		memset(out + cap, CANARY, SLACK);
		n = dnsd_answer_servfail(&info, out, cap);
		check_reply(n, cap, limit, NULL, 0, false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (db == NULL)
		setup();
	size_t small = 12 + (size % 700);
	answer(data, size, DNSD_UDP, true, true, ARBOR_DNS_MAX_MSG);
	answer(data, size, DNSD_UDP, false, false, ARBOR_DNS_MAX_MSG);
	answer(data, size, DNSD_TCP, true, false, ARBOR_DNS_MAX_MSG);
	answer(data, size, DNSD_TCP, true, true, small);
	/* As an upstream answer to a forwarded question. */
	memset(out + ARBOR_DNS_MAX_MSG, CANARY, SLACK);
	int n = dnsd_answer_from_upstream(&forwarded, data, size, out, ARBOR_DNS_MAX_MSG);
	check_reply(n, ARBOR_DNS_MAX_MSG, DNSD_EDNS_PAYLOAD, NULL, 0, false);
	memset(out + small, CANARY, SLACK);
	n = dnsd_answer_from_upstream(&forwarded, data, size, out, small);
	check_reply(n, small, DNSD_EDNS_PAYLOAD, NULL, 0, false);
	return 0;
}
