/* dhcp6pd's LAN planner (lan_plan.c): numbering from the subnet id and the
 * derived ULA and interface id (the docs/addressing.md vectors), lifetimes capped
 * and never past the delegation and counting down between RAs, the persisted
 * bounds raised in steps, withdrawal of a replaced or lost prefix (preferred 0,
 * valid counting down to its bound, also from a list read back after a reboot),
 * router lifetime 0 without a default route or a global prefix, RDNSS and
 * stateless DHCPv6 content following the same rules, and the RA building and
 * parsing back. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr_derive.h"
#include "lan_plan.h"
#include "ip6.h"
#include "tap.h"

#define T0 1700000000.0
#define MID "0123456789abcdef0123456789abcdef"

static struct lan_spec spec;
static struct lan_inputs in;
static struct lan_delegation deleg[2];
static struct lan_adv adv[LAN_ADV_MAX];
static size_t nadv;
static struct lan_result out;

static void setup(void)
{
	memset(&spec, 0, sizeof spec);
	spec.ula = spec.advertise = spec.stateless = spec.dns_router = spec.search_default = true;
	spec.max_interval = 600;
	spec.min_interval = 200;
	spec.router_lifetime = 1800;
	spec.preferred_cap = 2700;
	spec.valid_cap = 5400;
	spec.info_refresh = 1800;
	memset(&in, 0, sizeof in);
	in.spec = &spec;
	in.ifname = "lan0";
	in.subnet_id = 1;
	in.has_ula = arbor_addr_machine_prefix(MID, &in.ula48) == 0;
	in.has_iid = arbor_addr_interface_id(MID, in.iid) == 0;
	deleg[0] = (struct lan_delegation){ p6("2001:db8:100::/56"), T0 + 3600, T0 + 7200 };
	in.deleg = deleg;
	in.ndeleg = 1;
	in.default_route = true;
	in.has_lladdr = true;
	memcpy(in.lladdr, "\x02\x00\x00\x00\x00\x01", 6);
	in.link_mtu = 1500;
	in.domain = "root.home.arpa";
	nadv = 0;
}

static const struct nd_prefix_info *pio(const char *prefix)
{
	struct in6_addr a = a6(prefix);
	for (size_t i = 0; i < out.ra.nprefix; i++)
		if (memcmp(&out.ra.prefix[i].prefix, &a, 16) == 0)
			return &out.ra.prefix[i];
	return NULL;
}

static void test_numbering(void)
{
	setup();
	lan_plan(&in, adv, &nadv, T0, true, &out);
	CHECK(out.ncur == 2 && out.cur[0].ula && eq6(&out.cur[0].prefix.addr, "fd5a:965f:8fee:1::") &&
		      eq6(&out.cur[1].prefix.addr, "2001:db8:100:1::") && out.cur[1].prefix.len == 64,
	      "the ULA /64 and the delegation's /64, both with subnet id 1");
	CHECK(eq6(&out.cur[0].router, "fd5a:965f:8fee:1:ec05:56f3:2d08:73cb") &&
		      eq6(&out.cur[1].router, "2001:db8:100:1:ec05:56f3:2d08:73cb"),
	      "router addresses: the derived interface id of the machine (addressing.md vectors)");
	struct arbor_prefix6 sub;
	char why[96];
	struct arbor_prefix6 d60 = p6("2001:db8:100:10::/60");
	CHECK(lan_subnet_of(&d60, 15, &sub, why, sizeof why) && eq6(&sub.addr, "2001:db8:100:1f::"),
	      "subnet id 15 of a /60");
	CHECK(!lan_subnet_of(&d60, 16, &sub, why, sizeof why) && strstr(why, "does not fit"), "subnet id 16 does not fit a /60");
	struct arbor_prefix6 d48 = p6("2001:db8:100::/48");
	CHECK(lan_subnet_of(&d48, 65535, &sub, why, sizeof why) && eq6(&sub.addr, "2001:db8:100:ffff::"),
	      "any subnet id fits a /48");
	struct arbor_prefix6 d64 = p6("2001:db8:100:5::/64");
	CHECK(!lan_subnet_of(&d64, 1, &sub, why, sizeof why), "a /64 has room for no subnet id");
	struct arbor_prefix6 d72 = p6("2001:db8:100:5:8000::/72");
	CHECK(!lan_subnet_of(&d72, 1, &sub, why, sizeof why) && strstr(why, "longer"), "a /72 is longer than a /64");
	deleg[1] = (struct lan_delegation){ d60, T0 + 100, T0 + 200 };
	in.ndeleg = 2;
	in.subnet_id = 20;
	lan_plan(&in, adv, &nadv, T0, false, &out);
	CHECK(out.ncur == 2 && out.nskipped == 1 && strstr(out.skipped[0], "20"),
	      "a delegation the subnet id does not fit is skipped, with the reason");
	in.has_ula = false;
	in.subnet_id = -1;
	lan_plan(&in, adv, &nadv, T0, false, &out);
	CHECK(out.ncur == 0 && out.nskipped == 2, "no subnet id: nothing numbered");
}

static void test_lifetimes(void)
{
	setup();
	lan_plan(&in, adv, &nadv, T0, true, &out);
	const struct nd_prefix_info *g = pio("2001:db8:100:1::"), *u = pio("fd5a:965f:8fee:1::");
	CHECK(g && g->valid == 5400 && g->preferred == 2700 && g->onlink && g->autonomous, "capped at 2700/5400 (RFC 9096)");
	CHECK(u && u->valid == 5400 && u->preferred == 2700, "the ULA too");
	CHECK(out.adv_changed && nadv == 2 && adv[1].bound == T0 + 5400, "the bound of each is persisted before the RA");
	lan_plan(&in, adv, &nadv, T0 + 100, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(!out.adv_changed && g && g->valid == 5300 && g->preferred == 2700, "lifetimes count down between RAs");
	lan_plan(&in, adv, &nadv, T0 + 1300, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(out.adv_changed && g && g->valid == 5400, "a step later the bound is raised again");
	/* the delegation has less left than the caps */
	lan_plan(&in, adv, &nadv, T0 + 3000, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(g && g->preferred == 600 && g->valid <= 4200, "never past what remains of the delegation");
	lan_plan(&in, adv, &nadv, T0 + 3700, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(g && g->preferred == 0 && g->valid <= 3500 && g->valid > 0, "preferred 0 once the delegation's preferred lifetime is over");
	/* a short delegation: RA lifetimes follow it down */
	setup();
	deleg[0] = (struct lan_delegation){ p6("2001:db8:100::/56"), T0 + 20, T0 + 40 };
	lan_plan(&in, adv, &nadv, T0, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(g && g->valid == 40 && g->preferred == 20, "lifetimes of a 40 s delegation");
	lan_plan(&in, adv, &nadv, T0 + 15, true, &out);
	g = pio("2001:db8:100:1::");
	CHECK(g && g->valid == 25 && g->preferred == 5, "and 15 s later");
}

static void test_withdrawal(void)
{
	setup();
	lan_plan(&in, adv, &nadv, T0, true, &out);
	double bound = adv[1].bound;
	/* the ISP renumbers */
	deleg[0] = (struct lan_delegation){ p6("2001:db8:300::/56"), T0 + 3700, T0 + 7300 };
	lan_plan(&in, adv, &nadv, T0 + 100, true, &out);
	const struct nd_prefix_info *old = pio("2001:db8:100:1::"), *fresh = pio("2001:db8:300:1::");
	CHECK(old && old->preferred == 0 && old->valid == (uint32_t)(bound - (T0 + 100)), "old prefix: preferred 0, valid what is left of its bound");
	CHECK(fresh && fresh->valid == 5400 && fresh->preferred == 2700, "new prefix with the same subnet id");
	CHECK(out.ngone == 1 && out.adv_changed, "one withdrawn, the new one's bound persisted");
	lan_plan(&in, adv, &nadv, T0 + 1100, true, &out);
	old = pio("2001:db8:100:1::");
	CHECK(old && old->preferred == 0 && old->valid == (uint32_t)(bound - (T0 + 1100)), "the withdrawal counts down");
	/* reboot: the list is all that is left; no delegation at all */
	struct lan_adv saved[LAN_ADV_MAX];
	size_t nsaved = nadv;
	memcpy(saved, adv, sizeof adv);
	setup();
	memcpy(adv, saved, sizeof adv);
	nadv = nsaved;
	in.ndeleg = 0;
	lan_plan(&in, adv, &nadv, T0 + 2000, true, &out);
	old = pio("2001:db8:100:1::");
	fresh = pio("2001:db8:300:1::");
	CHECK(old && old->preferred == 0 && fresh && fresh->preferred == 0 && fresh->valid > 0 && out.ngone == 2,
	      "after a reboot without the delegation both are withdrawn from the list on disk");
	CHECK(out.ra.router_lifetime == 0, "router lifetime 0 with only a ULA");
	/* the same prefix is current again: not withdrawn (compare prefixes) */
	deleg[0] = (struct lan_delegation){ p6("2001:db8:300::/56"), T0 + 5000, T0 + 9000 };
	in.ndeleg = 1;
	lan_plan(&in, adv, &nadv, T0 + 2001, true, &out);
	fresh = pio("2001:db8:300:1::");
	CHECK(fresh && fresh->preferred > 0 && out.ngone == 1, "a prefix that is current again is announced, not withdrawn");
	/* once its bound passes the entry goes */
	lan_plan(&in, adv, &nadv, bound + 1, true, &out);
	CHECK(pio("2001:db8:100:1::") == NULL && out.adv_changed && nadv == 2, "after its bound the withdrawal ends");
	/* ULA switched off: it is withdrawn like any other */
	spec.ula = false;
	in.has_ula = false;
	lan_plan(&in, adv, &nadv, bound + 2, true, &out);
	const struct nd_prefix_info *u = pio("fd5a:965f:8fee:1::");
	CHECK(u && u->preferred == 0 && u->valid > 0, "a ULA no longer wanted is withdrawn too");
	/* planning without sending changes nothing */
	struct lan_adv before[LAN_ADV_MAX];
	memcpy(before, adv, sizeof adv);
	size_t nbefore = nadv;
	lan_plan(&in, adv, &nadv, bound + 1e6, false, &out);
	CHECK(nadv == nbefore && memcmp(before, adv, sizeof adv) == 0 && !out.adv_changed, "status planning leaves the list alone");
}

static void test_router_dns_ra(void)
{
	setup();
	lan_plan(&in, adv, &nadv, T0, true, &out);
	CHECK(out.ra.router_lifetime == 1800, "router lifetime with a default route and a global prefix");
	in.default_route = false;
	lan_plan(&in, adv, &nadv, T0, true, &out);
	CHECK(out.ra.router_lifetime == 0, "router lifetime 0 without an IPv6 default route");
	in.default_route = true;
	CHECK(out.ra.nroute == 1 && out.ra.route[0].len == 48 && eq6(&out.ra.route[0].prefix, "fd5a:965f:8fee::") &&
		      out.ra.route[0].lifetime == 1800,
	      "RIO for the ULA /48");
	CHECK(out.ra.other && !out.ra.managed && out.ra.has_mtu && out.ra.mtu == 1500 && out.ra.has_lladdr,
	      "O flag (stateless DHCPv6), MTU, source link-layer address");
	CHECK(out.ra.ndnssl == 1 && strcmp(out.ra.dnssl[0].name[0], "lan0.root.home.arpa") == 0 && out.nsearch == 1,
	      "search list: <ifname>.<domain>");
	CHECK(out.ra.nrdnss == 2 && out.ra.rdnss[0].lifetime == 1800 &&
		      eq6(&out.ra.rdnss[0].addr[0], "fd5a:965f:8fee:1:ec05:56f3:2d08:73cb") && out.ra.rdnss[1].lifetime == 1800 &&
		      eq6(&out.ra.rdnss[1].addr[0], "2001:db8:100:1:ec05:56f3:2d08:73cb"),
	      "RDNSS: the ULA and the global router addresses");
	CHECK(out.ndns == 2 && out.info_refresh == 1800, "stateless DHCPv6: both, refresh 1800");
	/* renumbered: the old router address is withdrawn from DNS as well */
	deleg[0] = (struct lan_delegation){ p6("2001:db8:300::/56"), T0 + 700, T0 + 7300 };
	lan_plan(&in, adv, &nadv, T0 + 10, true, &out);
	bool zero_old = false, live_new = false;
	for (size_t i = 0; i < out.ra.nrdnss; i++)
		for (size_t k = 0; k < out.ra.rdnss[i].n; k++) {
			zero_old |= out.ra.rdnss[i].lifetime == 0 && eq6(&out.ra.rdnss[i].addr[k], "2001:db8:100:1:ec05:56f3:2d08:73cb");
			live_new |= out.ra.rdnss[i].lifetime == 690 && eq6(&out.ra.rdnss[i].addr[k], "2001:db8:300:1:ec05:56f3:2d08:73cb");
		}
	CHECK(zero_old, "RDNSS lifetime 0 for the withdrawn router address");
	CHECK(live_new, "the new router address lives as long as its prefix is preferred");
	bool listed_old = false;
	for (size_t i = 0; i < out.ndns; i++)
		listed_old |= eq6(&out.dns[i], "2001:db8:100:1:ec05:56f3:2d08:73cb");
	CHECK(!listed_old && out.ndns == 2 && out.info_refresh == 690, "stateless DHCPv6 drops it; refresh within the preferred lifetime");
	deleg[0].preferred_until = T0 + 100;
	lan_plan(&in, adv, &nadv, T0 + 20, true, &out);
	CHECK(out.info_refresh == 600, "refresh never under RFC 8415's 600 s");
	/* the RA builds and parses back */
	uint8_t buf[ND_RA_MAX];
	int n = nd_ra_build(&out.ra, buf, sizeof buf);
	struct nd_ra back;
	char err[200];
	CHECK(n > 0 && nd_ra_parse(buf, (size_t)n, &back, err, sizeof err) == 0 && back.nprefix == out.ra.nprefix &&
		      back.nrdnss == out.ra.nrdnss && back.router_lifetime == 1800,
	      "the planned RA builds and parses back");
	/* configured DNS and search */
	setup();
	spec.dns_router = false;
	spec.ndns = 1;
	spec.dns[0] = a6("2001:db8::53");
	spec.search_default = false;
	spec.nsearch = 1;
	char name[] = "example.org";
	spec.search[0] = name;
	lan_plan(&in, adv, &nadv, T0, true, &out);
	CHECK(out.ndns == 1 && eq6(&out.dns[0], "2001:db8::53") && out.ra.nrdnss == 1 && out.nsearch == 1 &&
		      strcmp(out.search[0], "example.org") == 0,
	      "configured DNS servers and search list");
}

int main(void)
{
	test_numbering();
	test_lifetimes();
	test_withdrawal();
	test_router_dns_ra();
	return tap_done();
}
