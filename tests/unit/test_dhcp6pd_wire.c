/* Unit test for dhcp6pd's codecs. DHCPv6: real messages (dhcpcd 9.4.1 and
 * wide-dhcpv6 as requesting routers, kea-dhcp6 2.2.0 delegating), truncation at
 * every byte, status codes at the message, IA and prefix level, T1/T2 and lifetimes
 * as sent, prefix length 129, options past the end, duplicate identifiers, the
 * builders (overflow, unbalanced nesting), relay chains (round trip, Interface-ID
 * echo, 40 levels deep refused). ND: a radvd RA, build/parse round trips with every
 * option, zero-length and overlong options, RIO sizes, DNSSL padding, RS. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp6_wire.h"
#include "nd_wire.h"
#include "ip6.h"
#include "tap.h"

/* Captured in network namespaces on this machine's Debian bookworm (tcpdump on the
 * client's veth), kea-dhcp6 delegating 2001:db8:100::/40 in /56s with preferred 60,
 * valid 120, T1 30, T2 48, dns-servers 2001:db8::53, domain-search isp.example:
 *   dhcpcd 9.4.1: dhcpcd -6 -B -d -f CONF c0 with "ia_pd 1 lanx/0/64" (iaid 1);
 *   wide-dhcpv6 20080615: dhcp6c -f -D -c CONF c0 with "send ia-pd 7" (iaid 7). */
static const char *const DHCPCD_SOLICIT =
	"01e31b470001000e0001000132a3fb822e6900a2b6650019000c0000000100000000000000000006000800170018005200530008"
	"000200000010003d00009f0800376468637063642d392e342e313a4c696e75782d362e31382e34342d66632d76313134373a7838"
	"365f36343a47656e75696e65496e74656c";
static const char *const KEA_ADVERTISE =
	"02e31b470001000e0001000132a3fb822e6900a2b6650002000e0001000132a3fb775a5d54972b580017001020010db800000000"
	"00000000000000530018000d03697370076578616d706c650000190029000000010000001e00000030001a00190000003c000000"
	"783820010db8010000000000000000000000";
static const char *const DHCPCD_REQUEST =
	"03f209000001000e0001000132a3fb822e6900a2b6650002000e0001000132a3fb775a5d54972b5800190029000000010000000"
	"000000000001a00190000003c000000783820010db80100000000000000000000000006000800170018005200530008000200000"
	"010003d00009f0800376468637063642d392e342e313a4c696e75782d362e31382e34342d66632d76313134373a7838365f3634"
	"3a47656e75696e65496e74656c";
static const char *const WIDE_SOLICIT =
	"011357ef0001000e0001000132a3fbb12e6900a2b66500080002000000060004001700180019000c000000070000000000000000";
static const char *const WIDE_REQUEST =
	"036f6adc0001000e0001000132a3fbb12e6900a2b6650002000e0001000132a3fb775a5d54972b580008000200000006000400"
	"17001800190029000000070000000000000000001a00190000003c000000783820010db8010001000000000000000000";
/* radvd 2.19 on a veth: two PIOs (the second deprecated), MTU 1480, a RIO for a
 * /48 (radvd always sends 24 bytes), RDNSS with two servers, DNSSL with two
 * names, source link-layer address. */
static const char *const RADVD_RA =
	"860045794040000c0000000000000000030440c00000151800000a8c0000000020010db8000100020000000000000000030440c0"
	"00000258000000000000000020010db80001000300000000000000001803300800000708fd123456789a000000000000000000"
	"0019050000000004b020010db8000100020000000000000001fd123456789a000200000000000000011f050000000004b0046c"
	"616e3004686f6d6504617270610004686f6d65046172706100000000000005010000000005c80101a6fa0b3dc181";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; hex[0] && hex[1] && n < cap; hex += 2) {
		unsigned v;
		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static uint8_t pkt[4096], out[4096];
static struct dhcp6_message m;

static void test_real_messages(void)
{
	char err[200];
	size_t n = unhex(DHCPCD_SOLICIT, pkt, sizeof pkt);
	CHECK(dhcp6_parse(pkt, n, &m, err, sizeof err) == 0, "dhcpcd SOLICIT parses");
	CHECK(m.type == DHCP6_SOLICIT && m.xid == 0xe31b47, "type and xid");
	CHECK(m.client_id_len == 14 && m.client_id[1] == 1 && m.server_id == NULL, "DUID-LLT client id, no server id");
	CHECK(m.nia == 1 && m.ia[0].type == DHCP6_OPT_IA_PD && m.ia[0].iaid == 1 && m.ia[0].t1 == 0 &&
		      m.ia[0].t2 == 0 && m.ia[0].n == 0,
	      "one IA_PD, iaid 1, T1 = T2 = 0, no prefix hint");
	CHECK(m.has_elapsed && m.elapsed == 0, "elapsed time 0");
	CHECK(dhcp6_requested(&m, DHCP6_OPT_DNS_SERVERS) && dhcp6_requested(&m, DHCP6_OPT_SOL_MAX_RT) &&
		      !dhcp6_requested(&m, DHCP6_OPT_IA_PD),
	      "ORO: DNS servers, SOL_MAX_RT");
	CHECK(m.unknown == 1, "the vendor class is counted as unknown");

	n = unhex(KEA_ADVERTISE, pkt, sizeof pkt);
	CHECK(dhcp6_parse(pkt, n, &m, err, sizeof err) == 0, "kea ADVERTISE parses");
	CHECK(m.type == DHCP6_ADVERTISE && m.xid == 0xe31b47 && m.server_id_len == 14, "type, xid, server id");
	CHECK(m.ndns == 1 && eq6(&m.dns[0], "2001:db8::53"), "DNS server");
	char names[4][DHCP6_NAME_TEXT_MAX];
	CHECK(dhcp6_parse_domain_list(m.domains, m.domains_len, names, 4) == 1 && strcmp(names[0], "isp.example.") == 0,
	      "domain list");
	const struct dhcp6_ia *ia = dhcp6_find_ia(&m, DHCP6_OPT_IA_PD, 1);
	CHECK(ia && ia->t1 == 30 && ia->t2 == 48 && ia->n == 1, "IA_PD with T1 30, T2 48, one prefix");
	CHECK(ia && ia->e[0].plen == 56 && eq6(&ia->e[0].addr, "2001:db8:100::") && ia->e[0].preferred == 60 &&
		      ia->e[0].valid == 120 && !ia->e[0].status.present && !ia->status.present && !m.status.present,
	      "the /56 with its lifetimes, no status anywhere");
	CHECK(dhcp6_find_ia(&m, DHCP6_OPT_IA_PD, 2) == NULL && dhcp6_find_ia(&m, DHCP6_OPT_IA_NA, 1) == NULL,
	      "find_ia matches type and iaid");

	n = unhex(DHCPCD_REQUEST, pkt, sizeof pkt);
	CHECK(dhcp6_parse(pkt, n, &m, err, sizeof err) == 0 && m.type == DHCP6_REQUEST && m.server_id_len == 14 &&
		      m.nia == 1 && m.ia[0].n == 1 && m.ia[0].e[0].plen == 56,
	      "dhcpcd REQUEST: server id and the advertised prefix");
	n = unhex(WIDE_SOLICIT, pkt, sizeof pkt);
	CHECK(dhcp6_parse(pkt, n, &m, err, sizeof err) == 0 && m.nia == 1 && m.ia[0].iaid == 7 &&
		      dhcp6_requested(&m, DHCP6_OPT_DOMAIN_LIST),
	      "wide SOLICIT");
	n = unhex(WIDE_REQUEST, pkt, sizeof pkt);
	CHECK(dhcp6_parse(pkt, n, &m, err, sizeof err) == 0 && m.ia[0].e[0].plen == 56 &&
		      eq6(&m.ia[0].e[0].addr, "2001:db8:100:100::"),
	      "wide REQUEST");
}

/* Every prefix of a message is either refused or (cut at an option boundary) a
 * shorter well-formed message; ASan sees any read past the end. */
static void test_truncation(void)
{
	const char *all[] = { DHCPCD_SOLICIT, KEA_ADVERTISE, DHCPCD_REQUEST, WIDE_REQUEST };
	bool ok = true;
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		size_t n = unhex(all[k], pkt, sizeof pkt);
		for (size_t cut = 0; cut < n; cut++) {
			static uint8_t copy[4096];
			memcpy(copy, pkt, cut);
			char err[200] = "";
			int rc = dhcp6_parse(copy, cut, &m, err, sizeof err);
			if (rc != 0 && (rc != -EBADMSG || err[0] == '\0'))
				ok = false;
		}
	}
	CHECK(ok, "every truncation parses or is -EBADMSG with a reason");
}

static int build_reply(uint8_t *buf, size_t cap, int msg_status, int ia_status, int prefix_status, uint32_t t1,
		       uint32_t t2, uint8_t plen)
{
	struct dhcp6_builder b;
	static const uint8_t duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };
	struct in6_addr p = a6("2001:db8:100::");
	dhcp6_build_start(&b, buf, cap, DHCP6_REPLY, 0xabcdef);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, duid, sizeof duid);
	dhcp6_put_option(&b, DHCP6_OPT_SERVERID, duid, sizeof duid);
	if (msg_status >= 0)
		dhcp6_put_status(&b, (uint16_t)msg_status, "message level");
	dhcp6_open_ia(&b, DHCP6_OPT_IA_PD, 1, t1, t2);
	if (ia_status >= 0)
		dhcp6_put_status(&b, (uint16_t)ia_status, "IA level");
	dhcp6_put_iaprefix(&b, &p, plen, 100, 200, prefix_status, "prefix\x01level");
	dhcp6_close(&b);
	dhcp6_open_ia(&b, DHCP6_OPT_IA_NA, 2, 0, 0);
	dhcp6_put_status(&b, DHCP6_STATUS_NO_ADDRS_AVAIL, "no addresses");
	dhcp6_close(&b);
	dhcp6_put_u32(&b, DHCP6_OPT_SOL_MAX_RT, 7200);
	dhcp6_put_u8(&b, DHCP6_OPT_PREFERENCE, 255);
	dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	dhcp6_put_u32(&b, DHCP6_OPT_INFORMATION_REFRESH_TIME, 900);
	const char *names[] = { "lan0.home.arpa", "home.arpa." };
	dhcp6_put_domain_list(&b, names, 2);
	return dhcp6_finish(&b);
}

static void test_status_codes_and_builder(void)
{
	char err[200];
	int n = build_reply(pkt, sizeof pkt, DHCP6_STATUS_SUCCESS, DHCP6_STATUS_NO_BINDING, DHCP6_STATUS_NO_PREFIX_AVAIL,
			    50, 40, 60);
	CHECK(n > 0, "reply builds");
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == 0, "and parses");
	CHECK(m.status.present && m.status.code == 0 && strcmp(m.status.text, "message level") == 0, "message status");
	const struct dhcp6_ia *pd = dhcp6_find_ia(&m, DHCP6_OPT_IA_PD, 1);
	CHECK(pd && pd->status.present && pd->status.code == DHCP6_STATUS_NO_BINDING, "IA status");
	CHECK(pd && pd->n == 1 && pd->e[0].status.present && pd->e[0].status.code == DHCP6_STATUS_NO_PREFIX_AVAIL &&
		      strcmp(pd->e[0].status.text, "prefix?level") == 0,
	      "prefix status, control bytes shown as ?");
	CHECK(pd && pd->t1 == 50 && pd->t2 == 40, "T1 > T2 is reported as sent (the client judges it)");
	const struct dhcp6_ia *na = dhcp6_find_ia(&m, DHCP6_OPT_IA_NA, 2);
	CHECK(na && na->n == 0 && na->status.code == DHCP6_STATUS_NO_ADDRS_AVAIL, "IA_NA NoAddrsAvail beside it");
	CHECK(m.has_sol_max_rt && m.sol_max_rt == 7200 && m.has_preference && m.preference == 255 && m.rapid_commit &&
		      m.has_info_refresh && m.info_refresh == 900,
	      "SOL_MAX_RT, preference, rapid commit, refresh time");
	char names[4][DHCP6_NAME_TEXT_MAX];
	CHECK(dhcp6_parse_domain_list(m.domains, m.domains_len, names, 4) == 2 &&
		      strcmp(names[0], "lan0.home.arpa.") == 0 && strcmp(names[1], "home.arpa.") == 0,
	      "domain list round trip");

	/* prefix length 129 */
	n = build_reply(pkt, sizeof pkt, -1, -1, -1, 0, 0, 129);
	CHECK(n > 0 && dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG && strstr(err, "129"),
	      "prefix length 129 is malformed");

	/* an option past the end: grow the last option's length by one */
	n = build_reply(pkt, sizeof pkt, -1, -1, -1, 0, 0, 56);
	size_t last = 0;
	for (size_t off = 4; off + 4 <= (size_t)n;) {
		last = off;
		off += 4 + (size_t)(pkt[off + 2] << 8 | pkt[off + 3]);
	}
	pkt[last + 3]++;
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG && strstr(err, "past the end"),
	      "an option running past the end is malformed");
	/* a status code option inside the IA prefix whose length is past the prefix option */
	n = build_reply(pkt, sizeof pkt, -1, -1, DHCP6_STATUS_SUCCESS, 0, 0, 56);
	/* IAPREFIX (code 26): 4 header bytes, 25 fixed, then its status option */
	uint8_t *sc = memmem(pkt, (size_t)n, "\x00\x1a\x00", 3);
	if (sc)
		sc[4 + 25 + 3] += 20;
	CHECK(sc && dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "a nested option past its container");

	/* duplicate client id */
	struct dhcp6_builder b;
	static const uint8_t duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, duid, sizeof duid);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, duid, sizeof duid);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "two client ids");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, duid, 1);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "a one-byte DUID");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_put_u8(&b, DHCP6_OPT_ELAPSED_TIME, 1);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "elapsed time of 1 byte");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_put_option(&b, DHCP6_OPT_DNS_SERVERS, duid, 10);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "DNS servers of 10 bytes");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_put_option(&b, DHCP6_OPT_DOMAIN_LIST, "\x03" "abc", 4);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "an unterminated domain name");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_SOLICIT, 1);
	dhcp6_open(&b, DHCP6_OPT_IA_PD);
	dhcp6_put_bytes(&b, duid, 8);
	dhcp6_close(&b);
	n = dhcp6_finish(&b);
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "an IA_PD of 8 bytes");
	CHECK(dhcp6_parse(pkt, 3, &m, err, sizeof err) == -EBADMSG, "shorter than the header");
	pkt[0] = DHCP6_RELAY_FORW;
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "a relay message is not a client message");
	pkt[0] = 0;
	CHECK(dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == -EBADMSG, "message type 0");

	/* many IAs and prefixes: kept up to the limits, counted beyond */
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_REPLY, 1);
	struct in6_addr p = a6("2001:db8::");
	for (int i = 0; i < DHCP6_IA_MAX + 2; i++) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_PD, (uint32_t)i, 0, 0);
		for (int k = 0; k < DHCP6_IA_ENTRIES_MAX + 3; k++)
			dhcp6_put_iaprefix(&b, &p, 64, 1, 2, -1, NULL);
		dhcp6_close(&b);
	}
	n = dhcp6_finish(&b);
	CHECK(n > 0 && dhcp6_parse(pkt, (size_t)n, &m, err, sizeof err) == 0 && m.nia == DHCP6_IA_MAX &&
		      m.ia_dropped == 2 && m.ia[0].n == DHCP6_IA_ENTRIES_MAX && m.ia[0].dropped == 3,
	      "IAs and prefixes beyond the limits are counted, not kept");

	/* builder errors */
	CHECK(build_reply(pkt, 60, 0, 0, 0, 0, 0, 56) == -ENOSPC, "a reply that does not fit is -ENOSPC");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_REPLY, 1);
	dhcp6_open(&b, DHCP6_OPT_IA_PD);
	CHECK(dhcp6_finish(&b) == -EINVAL, "an option left open is -EINVAL");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_REPLY, 1);
	dhcp6_close(&b);
	CHECK(dhcp6_finish(&b) == -EINVAL, "closing nothing is -EINVAL");
	dhcp6_build_start(&b, pkt, sizeof pkt, DHCP6_REPLY, 1);
	const char *bad[] = { "a..b" };
	dhcp6_put_domain_list(&b, bad, 1);
	CHECK(dhcp6_finish(&b) == -EINVAL, "a bad domain name is -EINVAL");
	CHECK(strcmp(dhcp6_status_name(DHCP6_STATUS_NO_PREFIX_AVAIL), "NoPrefixAvail") == 0 &&
		      strcmp(dhcp6_type_name(DHCP6_RELAY_REPL), "RELAY-REPL") == 0 && strcmp(dhcp6_type_name(99), "unknown") == 0,
	      "names");
}

/* Wraps inner in depth RELAY-FORW levels (each with an Interface-ID). */
static size_t wrap(uint8_t *buf, size_t cap, const uint8_t *inner, size_t inner_len, int depth, bool with_msg)
{
	uint8_t tmp[8192];
	size_t len = inner_len;
	memcpy(buf, inner, inner_len);
	for (int i = depth - 1; i >= 0; i--) {
		struct dhcp6_builder b;
		dhcp6_build_start(&b, tmp, sizeof tmp, DHCP6_RELAY_FORW, 0);
		b.len = 1; /* the relay header is msg-type, hop-count, two addresses */
		uint8_t hdr[33] = { (uint8_t)i };
		struct in6_addr link = a6("2001:db8:aa::1"), peer = a6("fe80::1");
		link.s6_addr[15] = (uint8_t)i;
		memcpy(hdr + 1, &link, 16);
		memcpy(hdr + 17, &peer, 16);
		dhcp6_put_bytes(&b, hdr, 33);
		char ifid[16];
		snprintf(ifid, sizeof ifid, "port%d", i);
		dhcp6_put_option(&b, DHCP6_OPT_INTERFACE_ID, ifid, strlen(ifid));
		if (with_msg || i != depth - 1)
			dhcp6_put_option(&b, DHCP6_OPT_RELAY_MSG, buf, len);
		int n = dhcp6_finish(&b);
		if (n < 0 || (size_t)n > cap)
			return 0;
		memcpy(buf, tmp, (size_t)n);
		len = (size_t)n;
	}
	return len;
}

static void test_relays(void)
{
	char err[200];
	uint8_t inner[512], buf[8192], reply[8192];
	size_t ilen = unhex(WIDE_SOLICIT, inner, sizeof inner);
	size_t n = wrap(buf, sizeof buf, inner, ilen, 3, true);
	struct dhcp6_relay chain[DHCP6_RELAY_MAX];
	size_t depth;
	const uint8_t *msg;
	size_t msg_len;
	CHECK(dhcp6_unwrap_relays(buf, n, chain, &depth, &msg, &msg_len, err, sizeof err) == 0 && depth == 3,
	      "three relay levels unwrap");
	CHECK(msg_len == ilen && memcmp(msg, inner, ilen) == 0, "the client's message inside");
	CHECK(chain[0].hop_count == 0 && chain[2].hop_count == 2 && chain[2].link_addr.s6_addr[15] == 2 &&
		      chain[1].interface_id_len == 5 && memcmp(chain[1].interface_id, "port1", 5) == 0,
	      "hop counts, link addresses, interface ids, outermost first");
	CHECK(dhcp6_parse(msg, msg_len, &m, err, sizeof err) == 0 && m.type == DHCP6_SOLICIT, "inner parses");

	/* the answer: RELAY-REPL levels echoing each Interface-ID */
	int rn = dhcp6_build_relay_reply(reply, sizeof reply, chain, depth, inner, ilen);
	struct dhcp6_relay back[DHCP6_RELAY_MAX];
	size_t bdepth;
	CHECK(rn > 0 && dhcp6_unwrap_relays(reply, (size_t)rn, back, &bdepth, &msg, &msg_len, err, sizeof err) == 0 &&
		      bdepth == 3 && back[0].type == DHCP6_RELAY_REPL && msg_len == ilen && memcmp(msg, inner, ilen) == 0,
	      "RELAY-REPL round trip");
	bool same = true;
	for (size_t i = 0; i < 3; i++)
		same &= back[i].hop_count == chain[i].hop_count && memcmp(&back[i].peer_addr, &chain[i].peer_addr, 16) == 0 &&
			back[i].interface_id_len == chain[i].interface_id_len &&
			memcmp(back[i].interface_id, chain[i].interface_id, chain[i].interface_id_len) == 0;
	CHECK(same, "each level echoed");
	CHECK(dhcp6_build_relay_reply(reply, (size_t)rn - 1, chain, depth, inner, ilen) == -ENOSPC, "too small: -ENOSPC");

	n = wrap(buf, sizeof buf, inner, ilen, 40, true);
	CHECK(n > 0 && dhcp6_unwrap_relays(buf, n, chain, &depth, &msg, &msg_len, err, sizeof err) == -ELOOP,
	      "40 levels deep is refused");
	n = wrap(buf, sizeof buf, inner, ilen, DHCP6_RELAY_MAX, true);
	CHECK(dhcp6_unwrap_relays(buf, n, chain, &depth, &msg, &msg_len, err, sizeof err) == 0 && depth == DHCP6_RELAY_MAX,
	      "HOP_COUNT_LIMIT levels are fine");
	n = wrap(buf, sizeof buf, inner, ilen, 2, false);
	CHECK(dhcp6_unwrap_relays(buf, n, chain, &depth, &msg, &msg_len, err, sizeof err) == -EBADMSG,
	      "a relay without a Relay Message option");
	n = wrap(buf, sizeof buf, inner, ilen, 1, true);
	CHECK(dhcp6_unwrap_relays(buf, 20, chain, &depth, &msg, &msg_len, err, sizeof err) == -EBADMSG,
	      "a truncated relay header");
	CHECK(dhcp6_unwrap_relays(inner, ilen, chain, &depth, &msg, &msg_len, err, sizeof err) == 0 && depth == 0 &&
		      msg == inner,
	      "a client message is its own inner message");
	bool ok = true;
	n = wrap(buf, sizeof buf, inner, ilen, 3, true);
	for (size_t cut = 0; cut < n; cut++) {
		static uint8_t copy[8192];
		memcpy(copy, buf, cut);
		int rc = dhcp6_unwrap_relays(copy, cut, chain, &depth, &msg, &msg_len, err, sizeof err);
		if (rc == 0 && depth > 0 && (msg < copy || msg + msg_len > copy + cut))
			ok = false;
		if (rc != 0 && rc != -EBADMSG)
			ok = false;
	}
	CHECK(ok, "truncated relay chains stay inside the buffer");
}

static void test_nd(void)
{
	char err[200];
	struct nd_ra ra, back;
	size_t n = unhex(RADVD_RA, pkt, sizeof pkt);
	CHECK(nd_ra_parse(pkt, n, &ra, err, sizeof err) == 0, "radvd's RA parses");
	CHECK(ra.hop_limit == 64 && ra.other && !ra.managed && ra.router_lifetime == 12, "header");
	CHECK(ra.has_mtu && ra.mtu == 1480 && ra.has_lladdr && ra.lladdr[0] == 0xa6 && ra.lladdr[5] == 0x81,
	      "MTU and source link-layer address");
	CHECK(ra.nprefix == 2 && ra.prefix[0].len == 64 && eq6(&ra.prefix[0].prefix, "2001:db8:1:2::") &&
		      ra.prefix[0].valid == 5400 && ra.prefix[0].preferred == 2700 && ra.prefix[0].onlink &&
		      ra.prefix[0].autonomous && ra.prefix[1].preferred == 0 && ra.prefix[1].valid == 600,
	      "two PIOs, the second deprecated");
	CHECK(ra.nroute == 1 && ra.route[0].len == 48 && eq6(&ra.route[0].prefix, "fd12:3456:789a::") &&
		      ra.route[0].preference == ND_PREF_HIGH && ra.route[0].lifetime == 1800,
	      "RIO");
	CHECK(ra.nrdnss == 1 && ra.rdnss[0].n == 2 && ra.rdnss[0].lifetime == 1200 &&
		      eq6(&ra.rdnss[0].addr[1], "fd12:3456:789a:2::1"),
	      "RDNSS");
	CHECK(ra.ndnssl == 1 && ra.dnssl[0].n == 2 && strcmp(ra.dnssl[0].name[0], "lan0.home.arpa.") == 0 &&
		      strcmp(ra.dnssl[0].name[1], "home.arpa.") == 0,
	      "DNSSL without its padding");

	/* build → parse: the same RA, with RIOs of each size */
	ra.route[1] = (struct nd_route_info){ a6("::"), 0, ND_PREF_LOW, 600 };
	ra.route[2] = (struct nd_route_info){ a6("2001:db8:1:2:3::"), 80, ND_PREF_MEDIUM, 60 };
	ra.nroute = 3;
	ra.rdnss[1].lifetime = 0;
	ra.rdnss[1].addr[0] = a6("2001:db8::1");
	ra.rdnss[1].n = 1;
	ra.nrdnss = 2;
	int bn = nd_ra_build(&ra, out, sizeof out);
	CHECK(bn > 0 && nd_ra_parse(out, (size_t)bn, &back, err, sizeof err) == 0, "built RA parses");
	CHECK(back.nprefix == 2 && memcmp(back.prefix, ra.prefix, sizeof ra.prefix[0] * 2) == 0 && back.nroute == 3 &&
		      back.route[1].len == 0 && back.route[2].len == 80 && eq6(&back.route[2].prefix, "2001:db8:1:2:3::") &&
		      back.nrdnss == 2 && back.rdnss[1].lifetime == 0 && back.ndnssl == 1 &&
		      strcmp(back.dnssl[0].name[1], "home.arpa.") == 0 && back.mtu == 1480 && back.other &&
		      back.router_lifetime == 12,
	      "round trip");
	CHECK(out[16 + 8 + 8 + 32 * 2] == ND_OPT_ROUTE_INFO && out[16 + 8 + 8 + 32 * 2 + 1] == 2,
	      "a /48 route goes in 16 bytes (RFC 4191 shortest form)");
	CHECK(nd_ra_build(&ra, out, 100) == -ENOSPC, "too small: -ENOSPC");
	ra.prefix[0].len = 129;
	CHECK(nd_ra_build(&ra, out, sizeof out) == -EINVAL, "a prefix length of 129 does not build");

	/* malformed */
	memcpy(out, pkt, n);
	out[16 + 1] = 0; /* the first option (a PIO) of length 0 */
	CHECK(nd_ra_parse(out, n, &back, err, sizeof err) == -EBADMSG && strstr(err, "length 0"), "option of length 0");
	memcpy(out, pkt, n);
	out[16 + 1] = 200;
	CHECK(nd_ra_parse(out, n, &back, err, sizeof err) == -EBADMSG && strstr(err, "past the end"), "option past the end");
	memcpy(out, pkt, n);
	out[16 + 2] = 129;
	CHECK(nd_ra_parse(out, n, &back, err, sizeof err) == -EBADMSG, "PIO with prefix length 129");
	memcpy(out, pkt, n);
	out[0] = 133;
	CHECK(nd_ra_parse(out, n, &back, err, sizeof err) == -EBADMSG, "an RS is not an RA");
	bool ok = true;
	for (size_t cut = 0; cut < n; cut++) {
		static uint8_t copy[2048];
		memcpy(copy, pkt, cut);
		int rc = nd_ra_parse(copy, cut, &back, err, sizeof err);
		if (rc != 0 && rc != -EBADMSG)
			ok = false;
	}
	CHECK(ok, "every truncation of the RA parses or is -EBADMSG");

	/* DNSSL whose name ends in a label with a zero byte: the padding is found
	 * from the front (fuzz_nd_wire: trimming zeros from the back cut the name). */
	static const uint8_t dnssl_ra[] = { 134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    31, 2, 0, 0, 0, 0, 0, 60, 2, 'a', 0, 0, 0, 0, 0, 0 };
	CHECK(nd_ra_parse(dnssl_ra, sizeof dnssl_ra, &back, err, sizeof err) == 0 && back.ndnssl == 1 &&
		      back.dnssl[0].n == 1 && strcmp(back.dnssl[0].name[0], "a\\000.") == 0,
	      "a DNSSL label ending in a zero byte");
	int rebuilt = nd_ra_build(&back, out, sizeof out);
	struct nd_ra again;
	CHECK(rebuilt > 0 && nd_ra_parse(out, (size_t)rebuilt, &again, err, sizeof err) == 0 && again.ndnssl == 1 &&
		      strcmp(again.dnssl[0].name[0], back.dnssl[0].name[0]) == 0,
	      "builds and parses back the same");
	uint8_t bad_pad[sizeof dnssl_ra];
	memcpy(bad_pad, dnssl_ra, sizeof bad_pad);
	bad_pad[sizeof bad_pad - 1] = 7;
	CHECK(nd_ra_parse(bad_pad, sizeof bad_pad, &back, err, sizeof err) == -EBADMSG && strstr(err, "padding"),
	      "DNSSL padding that is not zero is refused");

	uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 }, got[6];
	bool has;
	int rn = nd_rs_build(mac, out, sizeof out);
	CHECK(rn == 16 && nd_rs_parse(out, 16, &has, got, err, sizeof err) == 0 && has && memcmp(got, mac, 6) == 0,
	      "RS with source link-layer address");
	rn = nd_rs_build(NULL, out, sizeof out);
	CHECK(rn == 8 && nd_rs_parse(out, 8, &has, got, err, sizeof err) == 0 && !has, "RS without");
	CHECK(nd_rs_parse(out, 7, &has, got, err, sizeof err) == -EBADMSG, "short RS");
}

int main(void)
{
	test_real_messages();
	test_truncation();
	test_status_codes_and_builder();
	test_relays();
	test_nd();
	return tap_done();
}
