/* Unit test for dnsd's copy of dhcp6pd's prefixes (dnsd/prefix_set.h) and the
 * records made from them (sources_prefixes, dnsd/sources.h): the snapshot keeps
 * each LAN's global /64s that are valid (never the ULA one) and the uplinks'
 * delegations; a prefix.* event replaces the LANs and its uplink's prefixes
 * (replaying one changes nothing), other events only
 * move the cursor, a gap, a restart or a reload starts over; malformed answers
 * change nothing; expiry; the AAAA records of the machine (the router address),
 * a declared host and a lease host on the /64, TTLs capped by what is left of
 * the prefix, nothing on another LAN, nothing for a child's name, PTR records
 * when the delegation's reverse zone is served; the reverse zones of a
 * delegated prefix (sources_reverse_apexes_prefix). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr_derive.h"
#include "contract_feed.h"
#include "dns_wire.h"
#include "prefix_set.h"
#include "sources.h"
#include "tap.h"

#define NOW 1700000000.0

static const char *SNAPSHOT =
	"{\"delegations\":[{\"interface\":\"wan0\",\"prefixes\":[{\"prefix\":\"2001:db8:100::/56\","
	"\"preferred_until\":1700001800,\"valid_until\":1700003600}]},"
	"{\"interface\":\"wan1\",\"prefixes\":[]}],"
	"\"lans\":["
	"{\"interface\":\"lan0\",\"subnet_id\":1,\"prefixes\":["
	"{\"prefix\":\"2001:db8:100:1::/64\",\"router\":\"2001:db8:100:1:1111:2222:3333:4444\",\"ula\":false,"
	"\"preferred_until\":1700001800,\"valid_until\":1700003600,\"advertised_preferred\":1800,\"advertised_valid\":3600},"
	"{\"prefix\":\"fd00:1:2:1::/64\",\"router\":\"fd00:1:2:1:1111:2222:3333:4444\",\"ula\":true,"
	"\"preferred_until\":null,\"valid_until\":null},"
	"{\"prefix\":\"2001:db8:99:1::/64\",\"ula\":false,\"valid_until\":1699999999}],"
	"\"withdrawn\":[{\"prefix\":\"2001:db8:98:1::/64\",\"advertised_valid\":0}]},"
	"{\"interface\":\"lan1\",\"subnet_id\":2,\"prefixes\":["
	"{\"prefix\":\"2001:db8:100:2::/64\",\"ula\":false,\"valid_until\":1700000030}]}],"
	"\"default_route\":true}";

static void test_snapshot(void)
{
	struct prefix_set s = { 0 };
	char err[200];
	CHECK(prefix_set_load(&s, SNAPSHOT, strlen(SNAPSHOT), NOW, err, sizeof err) == 0, "the snapshot loads");
	CHECK(s.nlans == 2, "the valid global /64s: 2 (not the ULA one, not the ended one, not the withdrawn one)");
	char text[64];
	CHECK(strcmp(s.lans[0].interface, "lan0") == 0 &&
		      strcmp(arbor_prefix6_format(&s.lans[0].prefix, text, sizeof text), "2001:db8:100:1::/64") == 0 &&
		      s.lans[0].has_router && s.lans[0].router.s6_addr[15] == 0x44 && s.lans[0].valid_until == 1700003600,
	      "lan0's /64 with its router address and end");
	CHECK(strcmp(s.lans[1].interface, "lan1") == 0 && !s.lans[1].has_router, "lan1's, without a router address");
	CHECK(s.ndelegations == 1 && strcmp(s.delegations[0].interface, "wan0") == 0 &&
		      s.delegations[0].prefix.len == 56,
	      "the uplink's /56");
	CHECK(prefix_set_next_end(&s) == 1700000030, "the earliest end");
	CHECK(s.nsubnets == 2 && prefix_set_subnet_id(&s, "lan0") == 1 && prefix_set_subnet_id(&s, "lan1") == 2 &&
		      prefix_set_subnet_id(&s, "wan0") == -1,
	      "each LAN's subnet id");
	static const char *const bad[] = {
		"{\"lans\":[]}",
		"{\"delegations\":[],\"lans\":[{\"prefixes\":[]}]}",
		"{\"delegations\":[],\"lans\":[{\"interface\":\"lan0\",\"prefixes\":[{\"prefix\":\"2001:db8::1/64\"}]}]}",
		"{\"delegations\":[],\"lans\":[{\"interface\":\"lan0\",\"prefixes\":[{\"prefix\":\"2001:db8::/64\",\"valid_until\":\"soon\"}]}]}",
		"{\"delegations\":[{\"interface\":\"wan0\",\"prefixes\":[{\"prefix\":\"x\"}]}],\"lans\":[]}",
		"{\"delegations\":[],\"lans\":[",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(prefix_set_load(&s, bad[i], strlen(bad[i]), NOW, err, sizeof err) == -EBADMSG && s.nlans == 2,
		      "a malformed answer changes nothing");
	CHECK(!prefix_set_expire(&s, NOW) && prefix_set_expire(&s, 1700000030) && s.nlans == 1 && s.ndelegations == 1,
	      "lan1's /64 goes when it ends");
	CHECK(prefix_set_expire(&s, 1700003600) && s.nlans == 0 && s.ndelegations == 0 && prefix_set_next_end(&s) == 0,
	      "then the rest");
	const char *forever = "{\"delegations\":[{\"interface\":\"wan0\",\"prefixes\":[{\"prefix\":\"2001:db8:100::/56\"}]}],"
			      "\"lans\":[{\"interface\":\"lan0\",\"prefixes\":[{\"prefix\":\"2001:db8:100:1::/64\","
			      "\"ula\":false,\"valid_until\":null}]}]}";
	CHECK(prefix_set_load(&s, forever, strlen(forever), NOW, err, sizeof err) == 0 && s.nlans == 1 &&
		      s.ndelegations == 1 && prefix_set_next_end(&s) == 0 && !prefix_set_expire(&s, 4e9),
	      "an infinite lifetime (null or absent) never ends");
	prefix_set_free(&s);
}

static void test_events(void)
{
	struct prefix_set s = { 0 };
	char err[200];
	bool changed;
	prefix_set_load(&s, SNAPSHOT, strlen(SNAPSHOT), NOW, err, sizeof err);
	uint64_t since = 10;
	const char *other = "{\"events\":[{\"seq\":11,\"type\":\"delegation.bound\",\"data\":{}},"
			    "{\"seq\":12,\"type\":\"pool.exhausted\",\"data\":{}}],\"next\":12}";
	CHECK(prefix_set_apply_events(&s, other, strlen(other), &since, NOW, &changed, err, sizeof err) ==
			      CONTRACT_EVENTS_APPLIED &&
		      since == 12 && !changed && s.nlans == 2,
	      "events about other things move the cursor only");
	/* wan0 renumbered: the event carries the LANs as they are now and wan0's prefixes */
	const char *renumbered =
		"{\"events\":[{\"seq\":13,\"type\":\"prefix.changed\",\"data\":{\"interface\":\"wan0\","
		"\"prefixes\":[{\"prefix\":\"2001:db8:300::/56\",\"valid_until\":1700007200}],"
		"\"old_prefixes\":[{\"prefix\":\"2001:db8:100::/56\",\"valid_until\":1700003600}],"
		"\"lans\":[{\"interface\":\"lan0\",\"subnet_id\":1,\"prefixes\":["
		"{\"prefix\":\"2001:db8:300:1::/64\",\"router\":\"2001:db8:300:1::1\",\"ula\":false,"
		"\"valid_until\":1700007200}],\"withdrawn\":[{\"prefix\":\"2001:db8:100:1::/64\"}]}]}}],\"next\":13}";
	CHECK(prefix_set_apply_events(&s, renumbered, strlen(renumbered), &since, NOW, &changed, err, sizeof err) ==
			      CONTRACT_EVENTS_APPLIED &&
		      since == 13 && changed,
	      "prefix.changed applies");
	char text[64];
	CHECK(s.nlans == 1 && strcmp(arbor_prefix6_format(&s.lans[0].prefix, text, sizeof text), "2001:db8:300:1::/64") == 0 &&
		      s.ndelegations == 1 && s.delegations[0].prefix.addr.s6_addr[5] == 0 &&
		      s.delegations[0].prefix.addr.s6_addr[4] == 3 && prefix_set_subnet_id(&s, "lan1") == -1,
	      "the LANs as the event says (lan1 is gone), wan0's new /56 instead of the old one");
	CHECK(prefix_set_apply_events(&s, renumbered, strlen(renumbered), &since, NOW, &changed, err, sizeof err) < 0,
	      "the same answer again does not follow the cursor: an error");
	since = 12;
	CHECK(prefix_set_apply_events(&s, renumbered, strlen(renumbered), &since, NOW, &changed, err, sizeof err) ==
			      CONTRACT_EVENTS_APPLIED &&
		      s.nlans == 1 && s.ndelegations == 1,
	      "replaying the event changes nothing");
	const char *lost = "{\"events\":[{\"seq\":14,\"type\":\"prefix.lost\",\"data\":{\"interface\":\"wan0\","
			   "\"prefixes\":[],\"old_prefixes\":[],\"reason\":\"released\",\"lans\":[{\"interface\":\"lan0\","
			   "\"subnet_id\":1,\"prefixes\":[{\"prefix\":\"fd00:1:2:1::/64\",\"ula\":true,"
			   "\"valid_until\":null}]}]}}],\"next\":14}";
	CHECK(prefix_set_apply_events(&s, lost, strlen(lost), &since, NOW, &changed, err, sizeof err) ==
			      CONTRACT_EVENTS_APPLIED &&
		      changed && s.nlans == 0 && s.ndelegations == 0 && prefix_set_subnet_id(&s, "lan0") == 1,
	      "prefix.lost: nothing global left, the LAN's subnet id stays");
	const char *junk_event = "{\"events\":[{\"seq\":15,\"type\":\"prefix.bound\",\"data\":{\"interface\":7}}],"
				 "\"next\":15}";
	CHECK(prefix_set_apply_events(&s, junk_event, strlen(junk_event), &since, NOW, &changed, err, sizeof err) ==
			      CONTRACT_EVENTS_APPLIED &&
		      !changed && since == 15,
	      "a prefix event that cannot be read changes nothing");
	const char *gap = "{\"events\":[{\"seq\":20,\"type\":\"prefix.bound\",\"data\":{}}],\"next\":20}";
	CHECK(prefix_set_apply_events(&s, gap, strlen(gap), &since, NOW, &changed, err, sizeof err) ==
		      CONTRACT_EVENTS_RESYNC,
	      "a gap starts over");
	const char *restart = "{\"events\":[{\"seq\":16,\"type\":\"daemon.started\",\"data\":{}}],\"next\":16}";
	CHECK(prefix_set_apply_events(&s, restart, strlen(restart), &since, NOW, &changed, err, sizeof err) ==
		      CONTRACT_EVENTS_RESYNC,
	      "a restart starts over");
	const char *junk = "{\"events\":{},\"next\":16}";
	CHECK(prefix_set_apply_events(&s, junk, strlen(junk), &since, NOW, &changed, err, sizeof err) == -EBADMSG &&
		      since == 15,
	      "a malformed answer: an error, the cursor stays");
	prefix_set_free(&s);
}

/* The AAAA records at owner in l, as text, joined by spaces; their TTLs in *ttl. */
static void aaaa_of(const struct record_list *l, const char *owner, char *out, size_t len, uint32_t *ttl)
{
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	int wlen = arbor_dns_name_from_text(owner, wire, sizeof wire);
	out[0] = '\0';
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct zone_record *r = &l->r[i];
		if (r->type != ARBOR_DNS_TYPE_AAAA || (int)r->owner_len != wlen || memcmp(r->owner, wire, r->owner_len) != 0)
			continue;
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, r->rdata, a, sizeof a);
		k += (size_t)snprintf(out + k, len - k, "%s%s", k ? " " : "", a);
		*ttl = r->ttl;
	}
}

static void test_records(void)
{
	struct prefix_set s = { 0 };
	char err[200];
	prefix_set_load(&s, SNAPSHOT, strlen(SNAPSHOT), NOW, err, sizeof err);
	struct dnsd_host_spec hosts[] = {
		{ .name = "printer", .interface = "lan0", .host_id = "printer" },
		{ .name = "nas", .interface = "lan1", .host_id = "nas" },
		{ .name = "noid", .interface = "lan0" },
	};
	struct dnsd_child_spec children[] = { { .name = "m1", .interface = "lan0" } };
	struct dnsd_config cfg = { .ttl = 300, .hosts = hosts, .nhosts = 3, .children = children, .nchildren = 1 };
	struct dhcp_lease leases[3] = { { .interface = "lan0", .hostname = "laptop" },
					{ .interface = "lan0", .hostname = "m1" },
					{ .interface = "lan0", .hostname = "" } };
	struct dnsd_world w = { .cfg = &cfg, .zone = "home.arpa.", .leases = leases, .nleases = 3,
				.prefixes = s.lans, .nprefixes = s.nlans, .now = (int64_t)NOW };
	struct record_list l = { 0 };
	CHECK(sources_prefixes(&w, &l, err, sizeof err) == 0, "the records build");
	char got[512], want[64];
	uint32_t ttl = 0;
	aaaa_of(&l, "lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(strcmp(got, "2001:db8:100:1:1111:2222:3333:4444") == 0 && ttl == 300,
	      "the machine on lan0: dhcp6pd's router address");
	aaaa_of(&l, "lan1.home.arpa.", got, sizeof got, &ttl);
	CHECK(got[0] == '\0', "lan1 has no router address: no record");
	uint8_t iid[8];
	arbor_addr_interface_id("printer", iid);
	struct in6_addr a;
	inet_pton(AF_INET6, "2001:db8:100:1::", &a);
	memcpy(a.s6_addr + 8, iid, 8);
	inet_ntop(AF_INET6, &a, want, sizeof want);
	aaaa_of(&l, "printer.lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(strcmp(got, want) == 0, "a declared host: the /64 and its interface id");
	aaaa_of(&l, "nas.lan1.home.arpa.", got, sizeof got, &ttl);
	CHECK(got[0] && ttl == 30, "on lan1, with the TTL cut to the 30 s left of its prefix");
	aaaa_of(&l, "noid.lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(got[0] == '\0', "a host without a host id: none");
	arbor_addr_interface_id("laptop", iid);
	memcpy(a.s6_addr + 8, iid, 8);
	inet_ntop(AF_INET6, &a, want, sizeof want);
	aaaa_of(&l, "laptop.lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(strcmp(got, want) == 0, "a lease host: the /64 and the interface id of its name");
	aaaa_of(&l, "m1.lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(got[0] == '\0', "a child's name is delegated: none");
	CHECK(l.n == 4, "four records, no PTR without a reverse zone for the prefix");
	record_list_free(&l);

	const char *only_lan0[] = { "lan1" };
	cfg.interfaces = (char **)only_lan0;
	cfg.ninterfaces = 1;
	CHECK(sources_prefixes(&w, &l, err, sizeof err) == 0, "again with interfaces: [lan1]");
	aaaa_of(&l, "lan0.home.arpa.", got, sizeof got, &ttl);
	CHECK(got[0] == '\0', "an interface dnsd does not name gets no record of the machine");
	record_list_free(&l);

	char zones[SOURCES_PREFIX_ZONES_MAX][ARBOR_DNS_NAME_TEXT_MAX];
	CHECK(sources_reverse_apexes_prefix(&s.delegations[0].prefix, zones, SOURCES_PREFIX_ZONES_MAX) == 1,
	      "the /56's reverse zone");
	const char *apexes[] = { zones[0] };
	w.reverse_apexes = apexes;
	w.nreverse = 1;
	cfg.interfaces = NULL;
	CHECK(sources_prefixes(&w, &l, err, sizeof err) == 0 && l.n == 8, "with it: a PTR for each AAAA");
	size_t ptrs = 0;
	for (size_t i = 0; i < l.n; i++)
		if (l.r[i].type == ARBOR_DNS_TYPE_PTR) {
			char owner[ARBOR_DNS_NAME_TEXT_MAX], target[ARBOR_DNS_NAME_TEXT_MAX];
			arbor_dns_name_to_text(l.r[i].owner, l.r[i].owner_len, owner, sizeof owner);
			arbor_dns_name_to_text(l.r[i].rdata, l.r[i].rdata_len, target, sizeof target);
			ptrs += strcmp(owner, "4.4.4.4.3.3.3.3.2.2.2.2.1.1.1.1.1.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0 &&
				strcmp(target, "lan0.home.arpa.") == 0;
		}
	CHECK(ptrs == 1, "the router address's PTR names the machine on lan0");
	record_list_free(&l);

	w.nprefixes = 0;
	CHECK(sources_prefixes(&w, &l, err, sizeof err) == 0 && l.n == 0, "no prefixes, no records");
	record_list_free(&l);
	prefix_set_free(&s);
}

static void test_reverse_zones(void)
{
	char z[SOURCES_PREFIX_ZONES_MAX][ARBOR_DNS_NAME_TEXT_MAX];
	struct arbor_prefix6 p;
	arbor_prefix6_parse("2001:db8:100::/56", &p);
	CHECK(sources_reverse_apexes_prefix(&p, z, SOURCES_PREFIX_ZONES_MAX) == 1 &&
		      strcmp(z[0], "0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0,
	      "a /56: one zone of 14 nibbles");
	arbor_prefix6_parse("2001:db8:100:10::/60", &p);
	CHECK(sources_reverse_apexes_prefix(&p, z, SOURCES_PREFIX_ZONES_MAX) == 1 &&
		      strcmp(z[0], "1.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0,
	      "a /60: 15 nibbles");
	arbor_prefix6_parse("2001:db8:100:4::/62", &p);
	CHECK(sources_reverse_apexes_prefix(&p, z, SOURCES_PREFIX_ZONES_MAX) == 4 &&
		      strcmp(z[0], "4.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0 &&
		      strcmp(z[3], "7.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0,
	      "a /62: the four /64 zones it is made of");
	arbor_prefix6_parse("2001:db8:100::/41", &p);
	CHECK(sources_reverse_apexes_prefix(&p, z, SOURCES_PREFIX_ZONES_MAX) == 8 &&
		      strcmp(z[0], "0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0 && strcmp(z[7], "7.1.0.8.b.d.0.1.0.0.2.ip6.arpa.") == 0,
	      "a /41: eight /44 zones");
	CHECK(sources_reverse_apexes_prefix(&p, z, 4) == -ENOSPC, "more than max: refused");
	arbor_prefix6_parse("2001:db8:100:1:8000::/65", &p);
	CHECK(sources_reverse_apexes_prefix(&p, z, SOURCES_PREFIX_ZONES_MAX) == -EINVAL, "longer than /64: none");
	char ula[ARBOR_DNS_NAME_TEXT_MAX];
	CHECK(sources_reverse_apex_ula("0123456789abcdef0123456789abcdef", ula, sizeof ula) == 0 &&
		      strcmp(ula, "e.e.f.8.f.5.6.9.a.5.d.f.ip6.arpa.") == 0,
	      "the ULA /48's zone, as before (docs/addressing.md's fd5a:965f:8fee::/48)");
}

int main(void)
{
	test_reverse_zones();
	test_snapshot();
	test_events();
	test_records();
	return tap_done();
}
