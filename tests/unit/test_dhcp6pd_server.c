/* dhcp6pd's delegating server (pd_server.c), driven with messages built by the
 * codec: SOLICIT/ADVERTISE (an offer held, nothing journalled), REQUEST/REPLY (a
 * BOUND change with its route), rapid commit, RENEW and REBIND (renewed, NoBinding,
 * lifetimes 0 for prefixes that are not ours), RELEASE, identifiers checked
 * (another server's id, a SOLICIT with a server id), IA_NA refused politely,
 * exhaustion, reservations by DUID, the machine's own LAN /64s kept out of a
 * from_delegation pool, lifetimes capped by the upstream delegation, an upstream
 * change ending bindings and the renewal that follows, expiry, a router getting
 * its prefix back, the reply's wire form, and journal records round-tripping. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "binding_record.h"
#include "pd_server.h"
#include "ip6.h"
#include "tap.h"

#define T0 1700000000.0

static const uint8_t SERVER_DUID[] = { 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t OTHER_SERVER[] = { 0, 3, 0, 1, 9, 9, 9, 9, 9, 9 };

static bool is(const struct arbor_prefix6 *p, const char *s)
{
	struct arbor_prefix6 q = p6(s);
	return p->len == q.len && memcmp(&p->addr, &q.addr, 16) == 0;
}

/* A client message; client n has DUID 00:03:00:01:02:00:00:00:00:n. */
struct msgspec {
	uint8_t type;
	int client;
	uint32_t iaid;
	const char *hint; /* "2001:db8::/56" or NULL */
	const uint8_t *server;
	size_t server_len;
	bool rapid, na, no_pd;
};

static uint8_t mbuf[2048];
static struct dhcp6_message M;

static const struct dhcp6_message *msg(struct msgspec s)
{
	uint8_t duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, (uint8_t)(s.client >> 8), (uint8_t)s.client };
	struct dhcp6_builder b;
	dhcp6_build_start(&b, mbuf, sizeof mbuf, s.type, 0x123456);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, duid, sizeof duid);
	if (s.server)
		dhcp6_put_option(&b, DHCP6_OPT_SERVERID, s.server, s.server_len);
	if (s.rapid)
		dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	uint8_t oro[] = { 0, 23, 0, 24 };
	dhcp6_put_option(&b, DHCP6_OPT_ORO, oro, sizeof oro);
	if (!s.no_pd) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_PD, s.iaid ? s.iaid : 1, 0, 0);
		if (s.hint) {
			struct arbor_prefix6 h = p6(s.hint);
			dhcp6_put_iaprefix(&b, &h.addr, h.len, 0, 0, -1, NULL);
		}
		dhcp6_close(&b);
	}
	if (s.na) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_NA, 9, 0, 0);
		dhcp6_close(&b);
	}
	int n = dhcp6_finish(&b);
	char err[200];
	if (n < 0 || dhcp6_parse(mbuf, (size_t)n, &M, err, sizeof err) != 0)
		printf("# test message does not parse: %s\n", err);
	return &M;
}

static struct {
	struct server6_spec spec;
	struct pool6_spec pools[2];
	struct reservation6_spec res[2];
} H;

static void spec_literal(const char *prefix, uint8_t dlen)
{
	memset(&H, 0, sizeof H);
	H.pools[0].prefix = p6(prefix);
	H.pools[0].delegated_length = dlen;
	H.spec.pools = H.pools;
	H.spec.npools = 1;
	H.spec.preferred_lifetime = 2700;
	H.spec.valid_lifetime = 5400;
	H.spec.rapid_commit = true;
	H.spec.routes = true;
	H.spec.offer_hold = 30;
}

static struct pd_server S;
static struct pd_decision D;
static const struct in6_addr *VIA1, *VIA2;
static struct in6_addr via1, via2;

static void handle(const struct dhcp6_message *m, const struct in6_addr *via, double now)
{
	pd_server_handle(&S, m, via, now, &D);
}

static const struct pd_ia_answer *pd_answer(void)
{
	for (size_t i = 0; i < D.nia; i++)
		if (D.ia[i].type == DHCP6_OPT_IA_PD)
			return &D.ia[i];
	return NULL;
}

static void test_solicit_request(void)
{
	spec_literal("2001:db8:100::/40", 56);
	pd_server_init(&S, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	CHECK(pd_server_capacity(&S) == 65536, "a /40 in /56s: 65536 blocks");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1 }), VIA1, T0);
	const struct pd_ia_answer *a = pd_answer();
	CHECK(D.reply == DHCP6_ADVERTISE && a && a->n == 1 && a->e[0].prefix.len == 56 && a->status < 0,
	      "SOLICIT: ADVERTISE with a /56");
	CHECK(D.nchanges == 0 && S.table.offered == 1, "an offer is held, nothing to journal");
	CHECK(a->e[0].preferred == 2700 && a->e[0].valid == 5400 && a->t1 == 1350 && a->t2 == 2160,
	      "lifetimes, T1 0.5 and T2 0.8 of the preferred lifetime");
	struct arbor_prefix6 offered = a->e[0].prefix;
	char text[64];
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 2 }), VIA2, T0);
	CHECK(pd_answer() && !is(&pd_answer()->e[0].prefix, arbor_prefix6_format(&offered, text, sizeof text)),
	      "another router is offered another block");
	arbor_prefix6_format(&offered, text, sizeof text);
	handle(msg((struct msgspec){ .type = DHCP6_REQUEST, .client = 1, .hint = text, .server = SERVER_DUID,
				     .server_len = sizeof SERVER_DUID }),
	       VIA1, T0 + 1);
	a = pd_answer();
	CHECK(D.reply == DHCP6_REPLY && a && a->n == 1 && is(&a->e[0].prefix, text), "REQUEST: REPLY with the offered prefix");
	CHECK(D.nchanges == 1 && D.changes[0].kind == PD_CHANGE_BOUND && D.changes[0].route_add &&
		      memcmp(&D.changes[0].b.via, VIA1, 16) == 0 && D.changes[0].b.valid_until == T0 + 1 + 5400,
	      "one BOUND change, a route via the requester");
	CHECK(S.table.bound == 1, "one binding");
	/* the wire form */
	uint8_t out[1500];
	struct in6_addr dns = a6("2001:db8::53");
	const char *search[] = { "lan0.home.arpa" };
	struct info_content info = { &dns, 1, search, 1, 1800 };
	const struct dhcp6_message *req = msg((struct msgspec){ .type = DHCP6_REQUEST, .client = 1, .hint = text, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID });
	handle(req, VIA1, T0 + 2);
	int n = pd_server_build(&S, req, &D, &info, out, sizeof out);
	struct dhcp6_message r;
	char err[200];
	CHECK(n > 0 && dhcp6_parse(out, (size_t)n, &r, err, sizeof err) == 0 && r.type == DHCP6_REPLY &&
		      r.xid == 0x123456 && r.server_id_len == sizeof SERVER_DUID && r.client_id_len == 10 && r.nia == 1 &&
		      r.ia[0].n == 1 && r.ia[0].e[0].plen == 56 && r.ndns == 1 && r.domains,
	      "the REPLY parses: identifiers, the prefix, DNS and search list (asked for)");
	CHECK(D.nchanges == 1 && D.changes[0].kind == PD_CHANGE_RENEWED && !D.changes[0].route_add,
	      "a REQUEST for what it holds renews it, the route stays");
	/* SOLICIT again: the same prefix is advertised */
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1 }), VIA1, T0 + 3);
	CHECK(pd_answer() && is(&pd_answer()->e[0].prefix, text) && D.nchanges == 0, "a bound router is offered its prefix");
	/* identifiers */
	handle(msg((struct msgspec){ .type = DHCP6_REQUEST, .client = 1, .hint = text, .server = OTHER_SERVER, .server_len = sizeof OTHER_SERVER }), VIA1, T0 + 3);
	CHECK(D.reply == 0, "a REQUEST for another server: silence");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 3, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1, T0 + 3);
	CHECK(D.reply == 0, "a SOLICIT with a server id: silence");
	handle(msg((struct msgspec){ .type = DHCP6_REBIND, .client = 3, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1, T0 + 3);
	CHECK(D.reply == 0, "a REBIND with a server id: silence");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 3, .no_pd = true }), VIA1, T0 + 3);
	CHECK(D.reply == 0, "a SOLICIT without an IA: silence");
	/* IA_NA beside IA_PD */
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 4, .na = true }), VIA1, T0 + 3);
	bool na = false;
	for (size_t i = 0; i < D.nia; i++)
		na |= D.ia[i].type == DHCP6_OPT_IA_NA && D.ia[i].status == DHCP6_STATUS_NO_ADDRS_AVAIL;
	CHECK(na && pd_answer() && pd_answer()->n == 1, "IA_NA: NoAddrsAvail, the IA_PD still offered");
	/* rapid commit */
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 5, .rapid = true }), VIA2, T0 + 4);
	CHECK(D.reply == DHCP6_REPLY && D.rapid_commit && D.nchanges == 1 && D.changes[0].kind == PD_CHANGE_BOUND,
	      "rapid commit: REPLY and a binding at once");
	pd_server_free(&S);
}

static void test_renew_rebind_release(void)
{
	spec_literal("2001:db8:100::/40", 56);
	pd_server_init(&S, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1, .rapid = true }), VIA1, T0);
	struct arbor_prefix6 p = D.changes[0].b.prefix;
	char text[64];
	arbor_prefix6_format(&p, text, sizeof text);
	handle(msg((struct msgspec){ .type = DHCP6_RENEW, .client = 1, .hint = text, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1, T0 + 1000);
	CHECK(D.reply == DHCP6_REPLY && D.nchanges == 1 && D.changes[0].kind == PD_CHANGE_RENEWED &&
		      !D.changes[0].route_add && D.changes[0].b.valid_until == T0 + 1000 + 5400 && D.changes[0].b.starts == T0,
	      "RENEW extends it, the route stays, starts kept");
	handle(msg((struct msgspec){ .type = DHCP6_RENEW, .client = 1, .hint = text, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA2, T0 + 1001);
	CHECK(D.nchanges == 1 && D.changes[0].route_add && memcmp(&D.changes[0].b.via, VIA2, 16) == 0,
	      "a new next hop moves the route");
	handle(msg((struct msgspec){ .type = DHCP6_REBIND, .client = 1, .hint = text }), VIA2, T0 + 1002);
	CHECK(D.reply == DHCP6_REPLY && D.nchanges == 1 && D.changes[0].kind == PD_CHANGE_RENEWED, "REBIND renews it");
	handle(msg((struct msgspec){ .type = DHCP6_RENEW, .client = 7, .hint = "2001:db8:100:100::/56", .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1,
	       T0 + 1);
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_BINDING && D.nchanges == 0, "RENEW of nothing: NoBinding");
	handle(msg((struct msgspec){ .type = DHCP6_REBIND, .client = 7, .hint = "2001:db8:9999::/56" }), VIA1, T0 + 1);
	CHECK(pd_answer() && pd_answer()->status < 0 && pd_answer()->n == 1 && pd_answer()->e[0].valid == 0,
	      "REBIND of a prefix that is not ours: lifetimes 0");
	handle(msg((struct msgspec){ .type = DHCP6_REBIND, .client = 7, .hint = "2001:db8:100:100::/56" }), VIA1, T0 + 1);
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_BINDING, "REBIND of one of ours without a binding: NoBinding");
	/* release */
	handle(msg((struct msgspec){ .type = DHCP6_RELEASE, .client = 1, .hint = text, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1, T0 + 2000);
	CHECK(D.reply == DHCP6_REPLY && D.msg_status == DHCP6_STATUS_SUCCESS && D.nchanges == 1 &&
		      D.changes[0].kind == PD_CHANGE_RELEASED && D.changes[0].route_del && S.table.bound == 0,
	      "RELEASE: Success, RELEASED, the route goes");
	handle(msg((struct msgspec){ .type = DHCP6_RELEASE, .client = 1, .hint = text, .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1, T0 + 2001);
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_BINDING && D.nchanges == 0, "released twice: NoBinding");
	/* affinity: the router asks again and gets the same prefix */
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1, .rapid = true }), VIA1, T0 + 3000);
	CHECK(D.nchanges == 1 && is(&D.changes[0].b.prefix, text), "released, asked again: the same prefix");
	pd_server_free(&S);
}

static struct pd_change got[16];
static size_t ngot;
static void collect(void *ctx, const struct pd_change *c)
{
	if (ngot < 16)
		got[ngot++] = *c;
}

static void test_expiry_exhaustion_reservation(void)
{
	spec_literal("2001:db8::/62", 64);
	uint8_t res_duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 9 };
	memcpy(H.res[0].duid, res_duid, sizeof res_duid);
	H.res[0].duid_len = sizeof res_duid;
	H.res[0].prefix = p6("2001:db8:0:3::/64");
	H.spec.reservations = H.res;
	H.spec.nreservations = 1;
	pd_server_init(&S, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	int given = 0;
	bool reserved_given = false;
	for (int c = 1; c <= 4; c++) {
		handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = c, .rapid = true }), VIA1, T0);
		given += D.nchanges == 1;
		reserved_given |= D.nchanges == 1 && is(&D.changes[0].b.prefix, "2001:db8:0:3::/64");
	}
	CHECK(given == 3 && !reserved_given, "four /64s, one reserved: three for the others");
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_PREFIX_AVAIL, "the fourth: NoPrefixAvail");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 9, .rapid = true }), VIA1, T0);
	CHECK(D.nchanges == 1 && is(&D.changes[0].b.prefix, "2001:db8:0:3::/64"), "the reserved DUID gets its prefix");
	ngot = 0;
	pd_server_expire(&S, T0 + 5399, collect, NULL);
	CHECK(ngot == 0, "nothing expires early");
	pd_server_expire(&S, T0 + 5400, collect, NULL);
	CHECK(ngot == 4 && got[0].kind == PD_CHANGE_EXPIRED && got[0].route_del && S.table.bound == 0,
	      "at the valid lifetime's end: EXPIRED, routes go");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 4 }), VIA1, T0 + 5401);
	CHECK(pd_answer() && pd_answer()->n == 1 && S.table.offered == 1, "expired blocks are given again");
	pd_server_expire(&S, T0 + 5401 + 31, collect, NULL);
	CHECK(S.table.offered == 0, "an offer lapses after offer_hold");
	pd_server_free(&S);
}

static void test_from_delegation(void)
{
	memset(&H, 0, sizeof H);
	H.pools[0].from_delegation = true;
	H.pools[0].delegated_length = 60;
	char wan[] = "wan0";
	H.pools[0].client = wan;
	H.spec.pools = H.pools;
	H.spec.npools = 1;
	H.spec.preferred_lifetime = 2700;
	H.spec.valid_lifetime = 5400;
	H.spec.offer_hold = 30;
	H.spec.rapid_commit = true;
	pd_server_init(&S, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1, .rapid = true }), VIA1, T0);
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_PREFIX_AVAIL, "nothing delegated to us: NoPrefixAvail");
	struct arbor_prefix6 up = p6("2001:db8:100::/56");
	pd_server_set_delegation(&S, "wan0", &up, T0 + 1000, T0 + 2000, T0, collect, NULL);
	struct arbor_prefix6 lan = p6("2001:db8:100:1::/64");
	pd_server_set_excluded(&S, &lan, 1);
	CHECK(pd_server_capacity(&S) == 16, "a /56 in /60s");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1, .rapid = true }), VIA1, T0);
	CHECK(D.nchanges == 1 && is(&D.changes[0].b.prefix, "2001:db8:100:10::/60"),
	      "the first /60 holds the LAN's /64: the next one is delegated");
	const struct pd_ia_answer *a = pd_answer();
	CHECK(a && a->e[0].valid == 2000 && a->e[0].preferred == 1000, "lifetimes never past the upstream delegation");
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 2, .hint = "2001:db8:100::/60", .rapid = true }), VIA1, T0);
	CHECK(D.nchanges == 1 && !is(&D.changes[0].b.prefix, "2001:db8:100::/60"), "a hint for the excluded block is not taken");
	/* the ISP renumbers */
	struct arbor_prefix6 up2 = p6("2001:db8:300::/56");
	ngot = 0;
	pd_server_set_delegation(&S, "wan0", &up2, T0 + 100 + 1000, T0 + 100 + 2000, T0 + 100, collect, NULL);
	CHECK(ngot == 2 && got[0].kind == PD_CHANGE_EXPIRED && got[0].route_del &&
		      strcmp(got[0].reason, "upstream delegation changed") == 0,
	      "bindings from the old prefix end, with the reason");
	lan = p6("2001:db8:300:1::/64");
	pd_server_set_excluded(&S, &lan, 1);
	handle(msg((struct msgspec){ .type = DHCP6_RENEW, .client = 1, .hint = "2001:db8:100:10::/60", .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1,
	       T0 + 200);
	CHECK(pd_answer() && pd_answer()->status == DHCP6_STATUS_NO_BINDING, "its RENEW: NoBinding (it will REQUEST)");
	handle(msg((struct msgspec){ .type = DHCP6_REQUEST, .client = 1, .hint = "2001:db8:100:10::/60", .server = SERVER_DUID, .server_len = sizeof SERVER_DUID }), VIA1,
	       T0 + 201);
	a = pd_answer();
	CHECK(a && a->n == 1 && is(&a->e[0].prefix, "2001:db8:300:10::/60") && D.changes[0].kind == PD_CHANGE_BOUND,
	      "its REQUEST: the same block of the new prefix");
	/* lost upstream */
	ngot = 0;
	pd_server_set_delegation(&S, "wan0", NULL, 0, 0, T0 + 300, collect, NULL);
	CHECK(ngot == 1 && pd_server_capacity(&S) == 0, "upstream lost: every binding of the pool ends");
	pd_server_free(&S);
}

static void test_records(void)
{
	spec_literal("2001:db8:100::/40", 56);
	pd_server_init(&S, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	handle(msg((struct msgspec){ .type = DHCP6_SOLICIT, .client = 1, .iaid = 5, .rapid = true }), VIA2, T0);
	struct arbor_buf out = { 0 };
	binding_record_write(&out, "lan0", &D.changes[0].b);
	cJSON *rec = cJSON_ParseWithLength(out.data, out.len);
	struct pd_server again;
	pd_server_init(&again, &H.spec, SERVER_DUID, sizeof SERVER_DUID);
	char err[200];
	CHECK(rec && strcmp(binding_record_interface(rec), "lan0") == 0 && binding_record_apply(&again, rec, err, sizeof err) == 0,
	      "a record parses and applies");
	uint8_t duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };
	const struct binding *b = binding_by_key(&again.table, duid, sizeof duid, 5);
	CHECK(b && b->state == BINDING_BOUND && memcmp(&b->prefix, &D.changes[0].b.prefix, sizeof b->prefix) == 0 &&
		      fabs(b->valid_until - D.changes[0].b.valid_until) < 0.001 && memcmp(&b->via, VIA2, 16) == 0 &&
		      binding_by_prefix(&again.table, &b->prefix) == b,
	      "the same binding, by key and by prefix");
	cJSON_Delete(rec);
	rec = cJSON_Parse("{\"interface\":\"lan0\",\"prefix\":\"2001:db8::/129\",\"duid\":\"00:01\",\"iaid\":1}");
	CHECK(binding_record_apply(&again, rec, err, sizeof err) == -EINVAL, "a bad record is refused");
	cJSON_Delete(rec);
	arbor_buf_free(&out);
	pd_server_free(&again);
	pd_server_free(&S);
}

/* The table itself: DUIDs short enough to live in the record and longer ones,
 * found by key and by prefix after the buckets grew, removed, freed. */
static void test_table(void)
{
	struct binding_table t;
	binding_table_init(&t);
	enum { N = 1000 };
	int found = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < N; i++) {
			uint8_t duid[40] = { 0, 2 };
			size_t len = i % 3 == 0 ? 40 : 14; /* DUID-EN with a long identifier, or DUID-LLT */
			duid[len - 2] = (uint8_t)(i >> 8);
			duid[len - 1] = (uint8_t)i;
			struct arbor_prefix6 p = { .len = 56 };
			p.addr.s6_addr[0] = 0x20;
			p.addr.s6_addr[1] = 0x01;
			p.addr.s6_addr[5] = (uint8_t)(i >> 8);
			p.addr.s6_addr[6] = (uint8_t)i;
			if (pass == 0) {
				binding_put(&t, duid, len, 7, &p);
				continue;
			}
			struct binding *b = binding_by_key(&t, duid, len, 7);
			found += b && b->duid_len == len && memcmp(b->duid, duid, len) == 0 && binding_by_prefix(&t, &p) == b &&
				 binding_by_key(&t, duid, len, 8) == NULL;
			if (b && i % 2)
				binding_remove(&t, b);
		}
	CHECK(found == N && t.count == N / 2, "a thousand bindings (DUIDs of 14 and 40 bytes): each found by key and "
					      "by prefix after the table grew, half removed");
	binding_table_free(&t);
}

int main(void)
{
	via1 = a6("fe80::1");
	via2 = a6("fe80::2");
	VIA1 = &via1;
	VIA2 = &via2;
	test_solicit_request();
	test_renew_rebind_release();
	test_expiry_exhaustion_reservation();
	test_from_delegation();
	test_records();
	test_table();
	return tap_done();
}
