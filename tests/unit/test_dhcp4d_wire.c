/* Unit test for the DHCPv4 codec: real client packets (udhcpc, dhclient, dhcpcd) and
 * dnsmasq's answers, truncation at every byte, malformed headers and options,
 * option overload, RFC 3396 long options, host name sanitizing, classless routes and
 * domain search (round trips and hostile encodings), and the builders: replies,
 * requests, relay information echo, overflow, END and padding. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp_wire.h"
#include "tap.h"

/* Captured byte for byte on the server end of a veth pair in a private network
 * namespace (an AF_PACKET listener), Debian bookworm, the client's MAC set to
 * 52:54:00:12:34:56, the server dnsmasq 2.90 run as:
 *   dnsmasq --no-daemon --port=0 --conf-file=/dev/null --bind-interfaces --interface=veth0
 *     --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,3600 --domain=home.arpa
 *     --dhcp-option=option:router,192.0.2.1 --dhcp-option=option:dns-server,192.0.2.1,192.0.2.2
 *     --dhcp-option=option:classless-static-route,10.0.0.0/8,192.0.2.1,0.0.0.0/0,192.0.2.1
 *     --dhcp-option=option:domain-search,home.arpa,lab.home.arpa
 *     --dhcp-option=option:ntp-server,192.0.2.1 --dhcp-option=option:mtu,1400
 *     --dhcp-authoritative --no-ping
 * and the clients:
 *   udhcpc 1.35.0: udhcpc -i veth0 -f -q -s /bin/true -x hostname:arbor-client -V arbor-test -O 121 -O 119
 *   dhclient 4.4.3-P1: dhclient -d -1 -cf CONF -sf /bin/true veth0, CONF saying
 *     send host-name "arbor-dhclient"; request subnet-mask, broadcast-address, routers,
 *     domain-name, domain-name-servers, domain-search, host-name, ntp-servers, interface-mtu;
 *   dhcpcd 9.4.1: dhcpcd -B -1 -4 -f CONF -c /bin/true veth0, CONF saying hostname arbor-dhcpcd,
 *     fqdn both, duid, option classless_static_routes, domain_search, ntp_servers, interface_mtu,
 *     vendorclassid arbor-dhcpcd-test
 * Trailing zero bytes are left out of the hex and put back from the length. */
struct capture {
	size_t len;
	const char *hex;
};
enum { UDHCPC_DISCOVER, UDHCPC_REQUEST, DHCLIENT_DISCOVER, DHCLIENT_REQUEST, DHCPCD_DISCOVER, DHCPCD_REQUEST,
       DNSMASQ_OFFER_UDHCPC, DNSMASQ_ACK_UDHCPC, DNSMASQ_ACK_DHCPCD, NCAPTURES };
static const struct capture captured[NCAPTURES] = {
	/* udhcpc DISCOVER: 300 bytes, the last 6 of them zero */
	{ 300,
	  "0101060004b5fb5700000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501013902024037090103060c0f1c2a77790c0c6172626f722d636c69656e743c0a6172626f722d746573743d070152"
	  "5400123456ff"
	},
	/* udhcpc REQUEST: 306 bytes, the last 0 of them zero */
	{ 306,
	  "0101060004b5fb5700000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501033204c000026f3604c00002013902024037090103060c0f1c2a77790c0c6172626f722d636c69656e743c0a6172"
	  "626f722d746573743d0701525400123456ff"
	},
	/* dhclient DISCOVER: 300 bytes, the last 29 of them zero */
	{ 300,
	  "010106005f5f424100000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501010c0e6172626f722d6468636c69656e743709011c030f06770c2a1aff"
	},
	/* dhclient REQUEST: 300 bytes, the last 17 of them zero */
	{ 300,
	  "010106005f5f424100000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501033604c00002013204c000026f0c0e6172626f722d6468636c69656e743709011c030f06770c2a1aff"
	},
	/* dhcpcd DISCOVER: 325 bytes, the last 0 of them zero */
	{ 325,
	  "010106000baa796f00000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "350101370b0179031a1c212a333a3b77390205c03d13ff00123456000100013294fd045254001234563c116172626f72"
	  "2d6468637063642d7465737451100500000c6172626f722d646863706364740101910101ff"
	},
	/* dhcpcd REQUEST: 334 bytes, the last 0 of them zero */
	{ 334,
	  "010106000baa796f00000000000000000000000000000000000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3204c000026f3501033604c0000201370b0179031a1c212a333a3b77390205c03d13ff00123456000100013294fd0452"
	  "54001234563c116172626f722d6468637063642d7465737451100500000c6172626f722d646863706364910101ff"
	},
	/* dnsmasq OFFER to udhcpc: 345 bytes, the last 0 of them zero */
	{ 345,
	  "0201060004b5fb570000000000000000c000026fc0000201000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501023604c0000201330400000e103a04000007083b0400000c4e0104ffffff001c04c00002ff0f09686f6d652e6172"
	  "70612a04c0000201771104686f6d65046172706100036c6162c000790b080ac000020100c00002010608c0000201c000"
	  "02020304c0000201ff"
	},
	/* dnsmasq ACK to udhcpc: 359 bytes, the last 0 of them zero */
	{ 359,
	  "0201060004b5fb570000000000000000c000026fc0000201000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501053604c0000201330400000e103a04000007083b0400000c4e0104ffffff001c04c00002ff0f09686f6d652e6172"
	  "70610c0c6172626f722d636c69656e742a04c0000201771104686f6d65046172706100036c6162c000790b080ac00002"
	  "0100c00002010608c0000201c00002020304c0000201ff"
	},
	/* dnsmasq ACK to dhcpcd: 357 bytes, the last 0 of them zero */
	{ 357,
	  "020106000baa796f0000000000000000c000026fc0000201000000005254001234560000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000063825363"
	  "3501053604c0000201330400000e103a04000007083b0400000c4e0104ffffff001c04c00002ff511b05ffff0c617262"
	  "6f722d64686370636404686f6d650461727061001a0205782a04c0000201771104686f6d65046172706100036c6162c0"
	  "00790b080ac000020100c00002010304c0000201ff"
	},
};

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < cap; h += 2) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

static size_t load(int which, uint8_t *out)
{
	memset(out, 0, captured[which].len);
	unhex(captured[which].hex, out, captured[which].len);
	return captured[which].len;
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static bool ip_is(struct in_addr a, const char *s)
{
	return a.s_addr == ip(s).s_addr;
}

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct dhcp_message msg, msg2;
static char err[256];

/* A hand-made message: op, Ethernet, the MAC above, xid 0x01020304, the cookie, then
 * the given option bytes verbatim (the caller writes END). */
static size_t craft(uint8_t *pkt, uint8_t op, const uint8_t *opts, size_t olen)
{
	memset(pkt, 0, DHCP_OPTIONS_OFFSET);
	pkt[0] = op;
	pkt[1] = 1;
	pkt[2] = 6;
	pkt[4] = 1, pkt[5] = 2, pkt[6] = 3, pkt[7] = 4;
	memcpy(pkt + 28, mac, 6);
	pkt[236] = 99, pkt[237] = 130, pkt[238] = 83, pkt[239] = 99;
	memcpy(pkt + DHCP_OPTIONS_OFFSET, opts, olen);
	return DHCP_OPTIONS_OFFSET + olen;
}

static bool option_is(const struct dhcp_message *m, uint8_t code, const void *want, size_t wlen)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, code, &len);
	return v && len == wlen && memcmp(v, want, wlen) == 0;
}

static bool has_text(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

/* ---- Real clients ---- */

static void test_udhcpc(void)
{
	uint8_t pkt[1500];
	size_t len = load(UDHCPC_DISCOVER, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "udhcpc DISCOVER parses");
	CHECK(msg.op == 1 && msg.htype == 1 && msg.hlen == 6 && msg.hops == 0, "udhcpc DISCOVER: op, htype, hlen");
	CHECK(msg.xid == 0x04b5fb57 && !msg.broadcast, "udhcpc DISCOVER: xid, no broadcast bit");
	CHECK(memcmp(msg.chaddr, mac, 6) == 0, "udhcpc DISCOVER: chaddr");
	CHECK(msg.type == DHCP_DISCOVER && msg.overload == 0, "udhcpc DISCOVER: type 1, no overload");
	char host[DHCP_HOSTNAME_MAX + 1];
	bool sanitized = true;
	CHECK(dhcp_hostname(&msg, host, &sanitized) == 12 && strcmp(host, "arbor-client") == 0 && !sanitized,
	      "udhcpc DISCOVER: host name arbor-client, as sent");
	struct dhcp_client_id id;
	CHECK(dhcp_client_id(&msg, &id) == 0 && id.type == 1 && id.id_len == 7 && memcmp(id.id + 1, mac, 6) == 0 &&
		      !id.rfc4361,
	      "udhcpc DISCOVER: client id 01 + MAC");
	uint8_t key[DHCP_LEASE_KEY_MAX];
	CHECK(dhcp_lease_key(&msg, key, sizeof key) == 7 && key[0] == 1 && memcmp(key + 1, mac, 6) == 0,
	      "udhcpc DISCOVER: lease key is the client id");
	static const uint8_t prl[] = { 1, 3, 6, 12, 15, 28, 42, 119, 121 };
	size_t plen;
	const uint8_t *p = dhcp_param_request_list(&msg, &plen);
	CHECK(p && plen == sizeof prl && memcmp(p, prl, plen) == 0, "udhcpc DISCOVER: parameter request list");
	CHECK(dhcp_param_requested(&msg, 121) && !dhcp_param_requested(&msg, 26), "udhcpc DISCOVER: 121 asked, 26 not");
	uint16_t mms = 0;
	CHECK(dhcp_max_message_size(&msg, &mms) == 0 && mms == 576 && dhcp_max_reply_len(&msg) == 548,
	      "udhcpc DISCOVER: max message size 576, so replies of 548 bytes");
	size_t vlen;
	const uint8_t *vc = dhcp_vendor_class(&msg, &vlen);
	CHECK(vc && vlen == 10 && memcmp(vc, "arbor-test", 10) == 0, "udhcpc DISCOVER: vendor class");
	struct in_addr a;
	CHECK(dhcp_requested_ip(&msg, &a) == -ENOENT && dhcp_server_id(&msg, &a) == -ENOENT,
	      "udhcpc DISCOVER: no requested IP, no server id");
	CHECK(dhcp_relay_agent_info(&msg, &vlen) == NULL && vlen == 0, "udhcpc DISCOVER: no relay information");

	len = load(UDHCPC_REQUEST, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_REQUEST, "udhcpc REQUEST parses");
	CHECK(dhcp_requested_ip(&msg, &a) == 0 && ip_is(a, "192.0.2.111"), "udhcpc REQUEST: requested IP");
	CHECK(dhcp_server_id(&msg, &a) == 0 && ip_is(a, "192.0.2.1"), "udhcpc REQUEST: server id");
	CHECK(msg.xid == 0x04b5fb57, "udhcpc REQUEST: same xid as the DISCOVER");
}

static void test_dhclient(void)
{
	uint8_t pkt[1500];
	size_t len = load(DHCLIENT_DISCOVER, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_DISCOVER,
	      "dhclient DISCOVER parses");
	char host[DHCP_HOSTNAME_MAX + 1];
	bool sanitized = true;
	CHECK(dhcp_hostname(&msg, host, &sanitized) == 14 && strcmp(host, "arbor-dhclient") == 0 && !sanitized,
	      "dhclient DISCOVER: host name");
	struct dhcp_client_id id;
	CHECK(dhcp_client_id(&msg, &id) == -ENOENT, "dhclient DISCOVER: no client id");
	uint8_t key[DHCP_LEASE_KEY_MAX];
	CHECK(dhcp_lease_key(&msg, key, sizeof key) == 7 && key[0] == 1 && memcmp(key + 1, mac, 6) == 0,
	      "dhclient DISCOVER: lease key falls back to htype + chaddr, the same bytes as udhcpc's client id");
	CHECK(dhcp_lease_key(&msg, key, 6) == -ENOSPC, "lease key: a short buffer is -ENOSPC");
	static const uint8_t prl[] = { 1, 28, 3, 15, 6, 119, 12, 42, 26 };
	size_t plen;
	const uint8_t *p = dhcp_param_request_list(&msg, &plen);
	CHECK(p && plen == sizeof prl && memcmp(p, prl, plen) == 0, "dhclient DISCOVER: parameter request list");
	uint16_t mms;
	CHECK(dhcp_max_message_size(&msg, &mms) == -ENOENT && dhcp_max_reply_len(&msg) == 548,
	      "dhclient DISCOVER: no max message size, replies of 548 bytes");
	for (size_t cut = len; cut-- > 0;) {
		int rc = dhcp_parse(pkt, cut, &msg, err, sizeof err);
		if (cut > 270 && rc != 0) { /* END sits at 270; what follows is padding */
			CHECK(false, "dhclient DISCOVER cut after END still parses");
			break;
		}
		if (cut <= 270 && rc != -EBADMSG) {
			CHECK(false, "dhclient DISCOVER cut before its END is refused");
			break;
		}
		if (cut == 0)
			CHECK(true, "dhclient DISCOVER: every cut before END refused, every cut after parses");
	}

	len = load(DHCLIENT_REQUEST, pkt);
	struct in_addr a;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_REQUEST &&
		      dhcp_requested_ip(&msg, &a) == 0 && ip_is(a, "192.0.2.111") && dhcp_server_id(&msg, &a) == 0 &&
		      ip_is(a, "192.0.2.1"),
	      "dhclient REQUEST: requested IP and server id");
}

static void test_dhcpcd(void)
{
	uint8_t pkt[1500];
	size_t len = load(DHCPCD_DISCOVER, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_DISCOVER, "dhcpcd DISCOVER parses");
	struct dhcp_client_id id;
	static const uint8_t duid[] = { 0x00, 0x01, 0x00, 0x01, 0x32, 0x94, 0xfd, 0x04,
					0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	CHECK(dhcp_client_id(&msg, &id) == 0 && id.type == 255 && id.rfc4361 && id.iaid == 0x00123456 &&
		      id.duid_len == sizeof duid && memcmp(id.duid, duid, sizeof duid) == 0,
	      "dhcpcd DISCOVER: RFC 4361 client id, IAID and DUID-LLT");
	uint8_t key[DHCP_LEASE_KEY_MAX];
	CHECK(dhcp_lease_key(&msg, key, sizeof key) == 19 && key[0] == 255,
	      "dhcpcd DISCOVER: lease key is the client id");
	struct dhcp_fqdn fq;
	CHECK(dhcp_client_fqdn(&msg, &fq) == 0 && fq.flags == (DHCP_FQDN_S | DHCP_FQDN_E) && fq.rcode1 == 0 &&
		      strcmp(fq.name, "arbor-dhcpcd") == 0 && !fq.fully_qualified,
	      "dhcpcd DISCOVER: client FQDN, wire form, partial name");
	char host[DHCP_HOSTNAME_MAX + 1];
	CHECK(dhcp_hostname(&msg, host, NULL) == -ENOENT, "dhcpcd DISCOVER: no option 12 when it sends 81");
	uint16_t mms;
	CHECK(dhcp_max_message_size(&msg, &mms) == 0 && mms == 1472 && dhcp_max_reply_len(&msg) == 1444,
	      "dhcpcd DISCOVER: max message size 1472 (its MTU less 28), replies of 1444");
	CHECK(dhcp_param_requested(&msg, 121) && dhcp_param_requested(&msg, 119) && dhcp_param_requested(&msg, 26),
	      "dhcpcd DISCOVER: asks for 121, 119, 26");
	size_t vlen;
	const uint8_t *vc = dhcp_vendor_class(&msg, &vlen);
	CHECK(vc && vlen == 17 && memcmp(vc, "arbor-dhcpcd-test", 17) == 0, "dhcpcd DISCOVER: vendor class");
	CHECK(option_is(&msg, 80, "", 0) == false && option_is(&msg, 145, "\x01", 1),
	      "dhcpcd DISCOVER: options this codec has no name for are kept (145)");

	len = load(DHCPCD_REQUEST, pkt);
	struct in_addr a;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_REQUEST &&
		      dhcp_requested_ip(&msg, &a) == 0 && ip_is(a, "192.0.2.111"),
	      "dhcpcd REQUEST: requested IP (sent before option 53)");
}

static void test_dnsmasq_replies(void)
{
	uint8_t pkt[1500];
	size_t len = load(DNSMASQ_OFFER_UDHCPC, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.op == 2 && msg.type == DHCP_OFFER,
	      "dnsmasq OFFER parses");
	CHECK(ip_is(msg.yiaddr, "192.0.2.111") && ip_is(msg.siaddr, "192.0.2.1") && ip_is(msg.ciaddr, "0.0.0.0"),
	      "dnsmasq OFFER: yiaddr, siaddr");
	struct dhcp_client_options co;
	CHECK(dhcp_parse_client_options(&msg, &co, err, sizeof err) == 0 && err[0] == '\0',
	      "dnsmasq OFFER: client options all well-formed");
	CHECK(co.has_server_id && ip_is(co.server_id, "192.0.2.1"), "dnsmasq OFFER: server id");
	CHECK(co.has_subnet_mask && co.prefix_len == 24 && co.has_broadcast && ip_is(co.broadcast, "192.0.2.255"),
	      "dnsmasq OFFER: mask /24, broadcast");
	CHECK(co.has_lease_time && co.lease_time == 3600 && co.has_t1 && co.t1 == 1800 && co.has_t2 && co.t2 == 3150,
	      "dnsmasq OFFER: lease 3600, T1 1800, T2 3150");
	CHECK(co.n_dns == 2 && ip_is(co.dns[0], "192.0.2.1") && ip_is(co.dns[1], "192.0.2.2"), "dnsmasq OFFER: DNS");
	CHECK(co.n_ntp == 1 && ip_is(co.ntp[0], "192.0.2.1"), "dnsmasq OFFER: NTP");
	CHECK(strcmp(co.domain_name, "home.arpa") == 0, "dnsmasq OFFER: domain name");
	CHECK(co.search.n == 2 && co.search.total == 2 && strcmp(co.search.name[0], "home.arpa") == 0 &&
		      strcmp(co.search.name[1], "lab.home.arpa") == 0,
	      "dnsmasq OFFER: domain search, the second name compressed");
	CHECK(co.has_classless_routes && co.n_routes == 2 && ip_is(co.routes[0].dest, "10.0.0.0") &&
		      co.routes[0].prefix_len == 8 && ip_is(co.routes[0].router, "192.0.2.1") &&
		      ip_is(co.routes[1].dest, "0.0.0.0") && co.routes[1].prefix_len == 0,
	      "dnsmasq OFFER: classless routes 10/8 and 0/0");
	CHECK(co.n_routers == 0 && dhcp_option(&msg, DHCP_OPT_ROUTER, NULL) != NULL,
	      "dnsmasq OFFER: router option ignored because 121 is there (RFC 3442)");
	CHECK(co.mtu == 0, "dnsmasq OFFER: no MTU (udhcpc did not ask)");

	len = load(DNSMASQ_ACK_UDHCPC, pkt);
	char host[DHCP_HOSTNAME_MAX + 1];
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_ACK &&
		      dhcp_hostname(&msg, host, NULL) == 12 && strcmp(host, "arbor-client") == 0,
	      "dnsmasq ACK to udhcpc: type 5, host name echoed");

	len = load(DNSMASQ_ACK_DHCPCD, pkt);
	struct dhcp_fqdn fq;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_ACK, "dnsmasq ACK to dhcpcd parses");
	CHECK(dhcp_client_fqdn(&msg, &fq) == 0 && fq.flags == 0x05 && fq.rcode1 == 255 && fq.rcode2 == 255 &&
		      fq.fully_qualified && strcmp(fq.name, "arbor-dhcpcd.home.arpa") == 0,
	      "dnsmasq ACK to dhcpcd: FQDN fully qualified, rcodes 255");
	CHECK(dhcp_parse_client_options(&msg, &co, err, sizeof err) == 0 && co.mtu == 1400 && co.n_dns == 0,
	      "dnsmasq ACK to dhcpcd: MTU 1400, no DNS (not asked)");

	/* Every real packet, cut anywhere before its END, is refused without reading
	 * past the cut (ASan watches the exact-size copies). */
	for (int which = 0; which < NCAPTURES; which++) {
		len = load(which, pkt);
		size_t end = len;
		while (end > 0 && pkt[end - 1] != 255)
			end--;
		bool ok = true;
		for (size_t cut = 0; cut < end; cut++) {
			uint8_t copy[1500];
			memcpy(copy, pkt, cut);
			if (dhcp_parse(copy, cut, &msg2, err, sizeof err) != -EBADMSG || err[0] == '\0')
				ok = false;
		}
		CHECK(ok, "a captured packet cut short anywhere before END is refused, with a reason");
	}
}

/* ---- Malformed headers and options ---- */

static void test_malformed(void)
{
	uint8_t pkt[2048];
	static const uint8_t discover[] = { 53, 1, 1, 255 };
	size_t len = craft(pkt, 1, discover, sizeof discover);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "a minimal DISCOVER parses");
	CHECK(dhcp_parse(pkt, 239, &msg, err, sizeof err) == -EBADMSG && has_text(err, "239 bytes"),
	      "239 bytes: too short for header and cookie");
	CHECK(dhcp_parse(pkt, 0, &msg, NULL, 0) == -EBADMSG, "0 bytes, no error buffer");
	CHECK(dhcp_parse(pkt, DHCP_MAX_PACKET + 1, &msg, err, sizeof err) == -EMSGSIZE, "longer than DHCP_MAX_PACKET");

	pkt[0] = 3;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "op 3"), "op 3 refused");
	pkt[0] = 1;
	pkt[1] = 0;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "htype 0"),
	      "htype 0 with a 6-byte address refused");
	pkt[2] = 0;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "htype 0, hlen 0 (no hardware address) parses");
	pkt[1] = 6; /* IEEE 802 */
	pkt[2] = 17;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "hlen 17"), "hlen 17 refused");
	pkt[2] = 16;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "hlen 16 for a non-Ethernet type is fine");
	pkt[1] = 1;
	pkt[2] = 5;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "Ethernet"),
	      "Ethernet with hlen 5 refused");
	pkt[2] = 6;
	pkt[239] = 98;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "magic cookie"),
	      "wrong magic cookie refused");

	static const uint8_t past_end[] = { 53, 1, 1, 12, 200, 'a', 'b', 'c', 255 };
	len = craft(pkt, 1, past_end, sizeof past_end);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG &&
		      strcmp(err, "option 12 length 200 runs past the end of the packet") == 0,
	      "option length past the end: named");
	static const uint8_t no_len[] = { 53, 1, 1, 12 };
	len = craft(pkt, 1, no_len, sizeof no_len);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "no length byte"),
	      "option code as the last byte: no length");
	static const uint8_t no_end[] = { 53, 1, 1, 0, 0 };
	len = craft(pkt, 1, no_end, sizeof no_end);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "END"), "no END refused");
	static const uint8_t no_type[] = { 12, 1, 'a', 255 };
	len = craft(pkt, 1, no_type, sizeof no_type);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "message type"),
	      "request without option 53 refused");
	len = craft(pkt, 2, no_type, sizeof no_type);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == 0,
	      "reply without 53 (BOOTP) parses, type 0");
	static const uint8_t type_len2[] = { 53, 2, 1, 1, 255 };
	len = craft(pkt, 1, type_len2, sizeof type_len2);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "option 53"), "53 of length 2");
	static const uint8_t type0[] = { 53, 1, 0, 255 };
	len = craft(pkt, 1, type0, sizeof type0);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG, "53 = 0 refused");

	/* Pads, a zero-length option, garbage after END. */
	static const uint8_t padded[] = { 0, 0, 53, 1, 3, 0, 80, 0, 255, 12, 99, 1, 2 };
	len = craft(pkt, 1, padded, sizeof padded);
	size_t l;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.type == DHCP_REQUEST, "pads and bytes after END");
	CHECK(dhcp_option(&msg, DHCP_OPT_RAPID_COMMIT, &l) != NULL && l == 0,
	      "a zero-length option is present (non-NULL, length 0)");
	CHECK(dhcp_option(&msg, DHCP_OPT_HOSTNAME, &l) == NULL && l == 0, "what follows END is not read");

	/* Wrong fixed lengths in the typed accessors. */
	static const uint8_t bad_lens[] = { 53, 1, 3, 50, 3, 1, 2, 3, 51, 2, 0, 1, 57, 2, 1, 0, 61, 1, 7, 255 };
	len = craft(pkt, 1, bad_lens, sizeof bad_lens);
	struct in_addr a;
	uint32_t t;
	uint16_t mms;
	struct dhcp_client_id id;
	uint8_t key[DHCP_LEASE_KEY_MAX];
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "wrong option lengths are the accessors' business");
	CHECK(dhcp_requested_ip(&msg, &a) == -EBADMSG && dhcp_lease_time(&msg, &t) == -EBADMSG,
	      "requested IP of 3 bytes, lease time of 2: -EBADMSG");
	CHECK(dhcp_max_message_size(&msg, &mms) == -EBADMSG && dhcp_max_reply_len(&msg) == 548,
	      "max message size 256 (< 576) is malformed; replies stay at 548");
	CHECK(dhcp_client_id(&msg, &id) == -EBADMSG && dhcp_lease_key(&msg, key, sizeof key) == -EBADMSG,
	      "a 1-byte client id is malformed, and there is no lease key");
	len = craft(pkt, 1, discover, sizeof discover);
	pkt[1] = 6;
	pkt[2] = 0;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && dhcp_lease_key(&msg, key, sizeof key) == -EBADMSG,
	      "hlen 0 and no client id: no lease key");
}

/* ---- Overload and long options ---- */

static void test_overload(void)
{
	uint8_t pkt[1024];
	/* Option 60 split over all three areas: "ab" in options, "cd" in file, "ef" in
	 * sname; 3 only in file, 15 only in sname. */
	static const uint8_t opts[] = { 53, 1, 1, 52, 1, 3, 60, 2, 'a', 'b', 255 };
	size_t len = craft(pkt, 1, opts, sizeof opts);
	static const uint8_t file[] = { 60, 2, 'c', 'd', 3, 4, 192, 0, 2, 1, 255 };
	static const uint8_t sname[] = { 0, 60, 2, 'e', 'f', 15, 4, 'h', 'o', 'm', 'e' };
	memcpy(pkt + DHCP_FILE_OFFSET, file, sizeof file);
	memcpy(pkt + DHCP_SNAME_OFFSET, sname, sizeof sname);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.overload == 3, "overload 3 parses");
	CHECK(option_is(&msg, 60, "abcdef", 6),
	      "option split across options, file, sname is concatenated in that order");
	CHECK(option_is(&msg, 3, "\xc0\x00\x02\x01", 4) && option_is(&msg, 15, "home", 4),
	      "options from file and from sname (which has no END)");
	static const uint8_t zero[DHCP_FILE_LEN];
	CHECK(memcmp(msg.file, zero, DHCP_FILE_LEN) == 0 && memcmp(msg.sname, zero, DHCP_SNAME_LEN) == 0,
	      "overloaded file and sname are not reported as names");

	/* 52 inside file points at itself or elsewhere: ignored; each area is read once. */
	static const uint8_t opts1[] = { 53, 1, 1, 52, 1, 1, 255 };
	len = craft(pkt, 1, opts1, sizeof opts1);
	static const uint8_t file1[] = { 52, 1, 3, 52, 1, 1, 12, 3, 'f', 'o', 'o', 255 };
	memcpy(pkt + DHCP_FILE_OFFSET, file1, sizeof file1);
	memcpy(pkt + DHCP_SNAME_OFFSET, "pxe-server\0", 11);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.overload == 1 &&
		      option_is(&msg, 52, "\x01", 1) && option_is(&msg, 12, "foo", 3),
	      "52 inside file is ignored (no loop, no sname), the rest of file is read");
	CHECK(memcmp(msg.sname, "pxe-server", 11) == 0, "sname is still the server name under overload 1");

	static const uint8_t ov4[] = { 53, 1, 1, 52, 1, 4, 255 };
	len = craft(pkt, 1, ov4, sizeof ov4);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "option 52"), "overload 4");
	static const uint8_t ov_twice[] = { 53, 1, 1, 52, 1, 1, 52, 1, 2, 255 };
	len = craft(pkt, 1, ov_twice, sizeof ov_twice);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG && has_text(err, "length 2"),
	      "two 52s concatenate to length 2: refused");
	static const uint8_t ov_empty[] = { 53, 1, 1, 52, 0, 255 };
	len = craft(pkt, 1, ov_empty, sizeof ov_empty);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG, "52 of length 0 refused");

	/* An option running past the end of the file field. */
	len = craft(pkt, 1, opts1, sizeof opts1);
	memset(pkt + DHCP_FILE_OFFSET, 0, DHCP_FILE_LEN);
	pkt[DHCP_FILE_OFFSET + 120] = 43;
	pkt[DHCP_FILE_OFFSET + 121] = 10;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == -EBADMSG &&
		      strcmp(err, "option 43 length 10 runs past the end of the file field") == 0,
	      "an option past the end of the file field: named");
	/* Without overload, the same bytes are just a boot file name. */
	static const uint8_t plain[] = { 53, 1, 1, 255 };
	len = craft(pkt, 1, plain, sizeof plain);
	memcpy(pkt + DHCP_FILE_OFFSET, "pxelinux.0", 10);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && memcmp(msg.file, "pxelinux.0", 11) == 0,
	      "without overload, file is the boot file name");
}

static void test_long_option(void)
{
	uint8_t pkt[1500], buf[1500];
	/* Two instances by hand. */
	uint8_t opts[600];
	size_t o = 0;
	opts[o++] = 53, opts[o++] = 1, opts[o++] = 1;
	opts[o++] = 77, opts[o++] = 255;
	for (int i = 0; i < 255; i++)
		opts[o++] = (uint8_t)i;
	opts[o++] = 12, opts[o++] = 2, opts[o++] = 'h', opts[o++] = 'i';
	opts[o++] = 77, opts[o++] = 45;
	for (int i = 255; i < 300; i++)
		opts[o++] = (uint8_t)i;
	opts[o++] = 255;
	size_t len = craft(pkt, 1, opts, o);
	size_t l;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "a 300-byte option in two instances parses");
	const uint8_t *v = dhcp_user_class(&msg, &l);
	bool ok = v && l == 300;
	for (size_t i = 0; ok && i < 300; i++)
		ok = v[i] == (uint8_t)i;
	CHECK(ok, "its instances are concatenated (RFC 3396)");
	CHECK(msg.storage_len <= len, "decoded values never take more than the packet");

	/* The builder splits a 600-byte value into 255 + 255 + 90. */
	uint8_t value[600];
	for (size_t i = 0; i < sizeof value; i++)
		value[i] = (uint8_t)(i * 7);
	static const uint8_t mms[] = { 53, 1, 1, 57, 2, 0x05, 0xdc, 255 }; /* 1500 */
	len = craft(pkt, 1, mms, sizeof mms);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && dhcp_max_reply_len(&msg) == 1472,
	      "request with 57 = 1500");
	struct dhcp_builder b;
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.9"), ip("0.0.0.0")) == 0,
	      "reply starts");
	CHECK(dhcp_put_option(&b, 43, value, sizeof value) == 0, "600-byte option put");
	int n = dhcp_finish(&b);
	CHECK(n > 0 && (size_t)n <= 1472, "reply within the client's size");
	/* 240 + 53 (3 bytes), then instances at 243, 500, 757. */
	CHECK(buf[243] == 43 && buf[244] == 255 && buf[500] == 43 && buf[501] == 255 && buf[757] == 43 &&
		      buf[758] == 90 && buf[849] == 255,
	      "instances of 255, 255 and 90 bytes, then END");
	CHECK(dhcp_parse(buf, (size_t)n, &msg2, err, sizeof err) == 0 && option_is(&msg2, 43, value, sizeof value),
	      "the split option reads back whole");
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.9"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_option(&b, 43, value, 255) == 0 && dhcp_put_option(&b, 44, value, 256) == 0 &&
		      dhcp_put_option(&b, 45, value, 0) == 0,
	      "values of exactly 255, 256 and 0 bytes");
	n = dhcp_finish(&b);
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg2, err, sizeof err) == 0 && option_is(&msg2, 43, value, 255) &&
		      option_is(&msg2, 44, value, 256) && option_is(&msg2, 45, "", 0),
	      "and they read back");
}

static void test_hostname(void)
{
	uint8_t pkt[1500];
	char host[DHCP_HOSTNAME_MAX + 1];
	bool sanitized;
	struct {
		const char *value;
		size_t len;
		const char *want;
		bool sanitized;
	} cases[] = {
		{ "myhost\0\0", 8, "myhost", false }, /* trailing NULs: a common client bug, not a change */
		{ "my host", 7, "myhost", true },
		{ "laptop.example.com", 18, "laptop", true },
		{ "-x-", 3, "x", true },
		{ "\xff\xfe\x01", 3, "", true },
		{ "a\0b", 3, "ab", true },
		{ "Desk_Top", 8, "DeskTop", true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t opts[300];
		size_t o = 0;
		opts[o++] = 53, opts[o++] = 1, opts[o++] = 1, opts[o++] = 12, opts[o++] = (uint8_t)cases[i].len;
		memcpy(opts + o, cases[i].value, cases[i].len);
		o += cases[i].len;
		opts[o++] = 255;
		size_t len = craft(pkt, 1, opts, o);
		int n = dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 ? dhcp_hostname(&msg, host, &sanitized) : -1;
		char what[96];
		snprintf(what, sizeof what, "host name case %zu -> \"%s\"", i, cases[i].want);
		CHECK(n == (int)strlen(cases[i].want) && strcmp(host, cases[i].want) == 0 &&
			      sanitized == cases[i].sanitized,
		      what);
	}
	/* 255 bytes: NULs and control bytes among letters. */
	uint8_t opts[300];
	size_t o = 0;
	opts[o++] = 53, opts[o++] = 1, opts[o++] = 1, opts[o++] = 12, opts[o++] = 255;
	for (int i = 0; i < 255; i++)
		opts[o++] = i % 3 == 0 ? '\0' : i % 3 == 1 ? (uint8_t)('a' + i % 26) : '\n';
	opts[o++] = 255;
	size_t len = craft(pkt, 1, opts, o);
	int n = dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 ? dhcp_hostname(&msg, host, &sanitized) : -1;
	bool printable = true;
	for (int i = 0; i < n; i++)
		printable = printable && ((host[i] >= 'a' && host[i] <= 'z'));
	CHECK(n == 63 && strlen(host) == 63 && printable && sanitized,
	      "a 255-byte host name with NULs and newlines: 63 printable characters, flagged");
	CHECK(host[0] == 'b' && host[1] == 'e', "the letters kept are the ones sent, in order");
	static const uint8_t none[] = { 53, 1, 1, 255 };
	len = craft(pkt, 1, none, sizeof none);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && dhcp_hostname(&msg, host, &sanitized) == -ENOENT &&
		      host[0] == '\0' && !sanitized,
	      "no host name: -ENOENT, empty string");
}

static void test_fqdn(void)
{
	uint8_t pkt[1500];
	struct dhcp_fqdn fq;
	struct {
		const char *value;
		size_t len;
		int rc;
		const char *name;
		bool fq;
	} cases[] = {
		{ "\x04\0\0\x04host\x07" "example\x03" "com\0", 21, 0, "host.example.com", true },
		{ "\x04\0\0", 3, 0, "", false },
		{ "\x04\0\0\0", 4, 0, "", false },
		{ "\x00\0\0host.example.", 16, 0, "host.example", true }, /* ASCII */
		{ "\x00\0\0host\0", 8, 0, "host", false },
		{ "\x04\0\0\x04host\0\x01x", 12, -EBADMSG, "", false },      /* bytes after the root */
		{ "\x04\0\0\x05host", 8, -EBADMSG, "", false },             /* label past the end */
		{ "\x04\0\0\xc0\x03", 5, -EBADMSG, "", false },             /* a compression pointer */
		{ "\x04\0\0\x04ho t\0", 9, -EBADMSG, "", false },           /* a space */
		{ "\x00\0\0a..b", 7, -EBADMSG, "", false },                 /* empty label */
		{ "\x04\0", 2, -EBADMSG, "", false },                       /* too short */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t opts[300];
		size_t o = 0;
		opts[o++] = 53, opts[o++] = 1, opts[o++] = 3, opts[o++] = 81, opts[o++] = (uint8_t)cases[i].len;
		memcpy(opts + o, cases[i].value, cases[i].len);
		o += cases[i].len;
		opts[o++] = 255;
		size_t len = craft(pkt, 1, opts, o);
		int rc = dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 ? dhcp_client_fqdn(&msg, &fq) : -1;
		char what[96];
		snprintf(what, sizeof what, "client FQDN case %zu", i);
		CHECK(rc == cases[i].rc &&
			      (rc < 0 || (strcmp(fq.name, cases[i].name) == 0 && fq.fully_qualified == cases[i].fq)),
		      what);
	}
	/* 4 labels of 63: 256 wire bytes, one too many (a long option, in two instances). */
	uint8_t value[3 + 4 * 64], opts[300];
	size_t v = 0, o = 0;
	value[v++] = 4, value[v++] = 0, value[v++] = 0;
	for (int l = 0; l < 4; l++) {
		value[v++] = 63;
		memset(value + v, 'a', 63);
		v += 63;
	}
	opts[o++] = 53, opts[o++] = 1, opts[o++] = 3, opts[o++] = 81, opts[o++] = 255;
	memcpy(opts + o, value, 255);
	o += 255;
	opts[o++] = 81, opts[o++] = (uint8_t)(v - 255);
	memcpy(opts + o, value + 255, v - 255);
	o += v - 255;
	opts[o++] = 255;
	size_t len = craft(pkt, 1, opts, o);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && dhcp_client_fqdn(&msg, &fq) == -EBADMSG,
	      "a partial FQDN over 255 wire bytes refused");
}

/* ---- Classless routes and domain search ---- */

static void test_classless_routes(void)
{
	struct dhcp_route r[8];
	/* dnsmasq's encoding of 10/8 via 192.0.2.1 and 0/0 via 192.0.2.1 */
	static const uint8_t dnsmasq[] = { 8, 10, 192, 0, 2, 1, 0, 192, 0, 2, 1 };
	CHECK(dhcp_parse_classless_routes(dnsmasq, sizeof dnsmasq, r, 8) == 2 && r[1].prefix_len == 0,
	      "dnsmasq's routes parse");
	static const struct {
		const char *dest;
		uint8_t prefix;
		const char *router;
	} in[] = {
		{ "10.0.0.0", 8, "192.0.2.1" },    { "0.0.0.0", 0, "192.0.2.1" },
		{ "192.168.1.128", 25, "0.0.0.0" }, { "203.0.113.7", 32, "192.0.2.2" },
		{ "172.16.0.0", 12, "192.0.2.3" },  { "198.51.100.0", 24, "192.0.2.4" },
	};
	struct dhcp_route routes[6];
	for (size_t i = 0; i < 6; i++) {
		routes[i].dest = ip(in[i].dest);
		routes[i].prefix_len = in[i].prefix;
		routes[i].router = ip(in[i].router);
	}
	uint8_t buf[1024];
	struct dhcp_builder b;
	struct dhcp_request_params p = { .type = DHCP_DISCOVER, .htype = 1, .hlen = 6 };
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0, "a builder to carry routes");
	CHECK(dhcp_put_classless_routes(&b, routes, 2) == 0 && memcmp(buf + 243 + 2, dnsmasq, sizeof dnsmasq) == 0,
	      "encoding matches dnsmasq's byte for byte");
	CHECK(dhcp_put_classless_routes(&b, routes, 6) == 0, "six routes put");
	int n = dhcp_finish(&b);
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0, "and parse");
	size_t len;
	const uint8_t *v = dhcp_option(&msg, DHCP_OPT_CLASSLESS_ROUTES, &len);
	/* The two options concatenate: eight routes. */
	bool ok = v && dhcp_parse_classless_routes(v, len, r, 8) == 8;
	for (size_t i = 0; ok && i < 6; i++)
		ok = r[2 + i].dest.s_addr == routes[i].dest.s_addr && r[2 + i].prefix_len == routes[i].prefix_len &&
		     r[2 + i].router.s_addr == routes[i].router.s_addr;
	CHECK(ok, "classless routes round trip (/0, /8, /12, /24, /25, /32)");
	CHECK(v && dhcp_parse_classless_routes(v, len, r, 3) == 8, "more routes than room: all counted, first stored");

	static const struct {
		uint8_t v[16];
		size_t len;
		const char *what;
	} bad[] = {
		{ { 33, 10, 0, 0, 0, 0, 192, 0, 2, 1 }, 10, "prefix length 33" },
		{ { 24, 10, 0, 0, 192, 0, 2 }, 7, "router cut short" },
		{ { 24, 10 }, 2, "destination cut short" },
		{ { 8, 10, 192, 0, 2, 1, 0 }, 7, "a trailing byte" },
		{ { 8, 10, 1, 192, 0, 2, 1 }, 7, "wrong number of significant octets" },
		{ { 7, 11, 192, 0, 2, 1 }, 6, "host bits set (11/7)" },
		{ { 0 }, 0, "empty" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[96];
		snprintf(what, sizeof what, "malformed classless routes: %s", bad[i].what);
		CHECK(dhcp_parse_classless_routes(bad[i].v, bad[i].len, r, 8) == -EBADMSG, what);
	}

	struct dhcp_route wrong = { ip("10.1.0.0"), 8, ip("192.0.2.1") };
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_classless_routes(&b, &wrong, 1) == -EINVAL,
	      "builder refuses host bits beyond the prefix");
	wrong.prefix_len = 33;
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_classless_routes(&b, &wrong, 1) == -EINVAL,
	      "builder refuses prefix 33");

	/* A client given a malformed 121 falls back to the router option, and is told. */
	static const uint8_t opts[] = { 53, 1, 5, 3, 4, 192, 0, 2, 1, 121, 2, 33, 0, 1, 4, 255, 0, 255, 0, 255 };
	uint8_t pkt[600];
	len = craft(pkt, 2, opts, sizeof opts);
	struct dhcp_client_options co;
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 &&
		      dhcp_parse_client_options(&msg, &co, err, sizeof err) == -EBADMSG && has_text(err, "option 1:") &&
		      !co.has_subnet_mask && !co.has_classless_routes && co.n_routers == 1 &&
		      ip_is(co.routers[0], "192.0.2.1"),
	      "client options: non-contiguous mask reported first, bad 121 dropped, routers used");
}

static void test_domain_search(void)
{
	static const char *const names[] = { "home.arpa", "lab.home.arpa", "example.com", "sub.example.com.",
					     "LAB.HOME.ARPA", "_tcp.example.com" };
	uint8_t buf[1024];
	struct dhcp_builder b;
	struct dhcp_request_params p = { .type = DHCP_DISCOVER, .htype = 1, .hlen = 6 };
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_domain_search(&b, names, 2) == 0,
	      "two search names put");
	static const uint8_t dnsmasq[] = { 4, 'h', 'o', 'm', 'e', 4,   'a', 'r', 'p',
					   'a', 0,   3,   'l', 'a', 'b', 0xc0, 0x00 };
	CHECK(buf[243] == 119 && buf[244] == sizeof dnsmasq && memcmp(buf + 245, dnsmasq, sizeof dnsmasq) == 0,
	      "encoding matches dnsmasq's, compression pointer and all");
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_domain_search(&b, names, 6) == 0,
	      "six search names put");
	CHECK(buf[244] == 17 + 13 + 6 + 2 + 7, "the later names are compressed (a whole name to one pointer)");
	int n = dhcp_finish(&b);
	struct dhcp_domain_list list;
	size_t len;
	const uint8_t *v = n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0 ?
				   dhcp_option(&msg, DHCP_OPT_DOMAIN_SEARCH, &len) :
				   NULL;
	CHECK(v && dhcp_parse_domain_search(v, len, &list) == 6 && list.n == 6, "and parse back: six names");
	CHECK(strcmp(list.name[0], "home.arpa") == 0 && strcmp(list.name[1], "lab.home.arpa") == 0 &&
		      strcmp(list.name[2], "example.com") == 0 && strcmp(list.name[3], "sub.example.com") == 0 &&
		      strcmp(list.name[4], "lab.home.arpa") == 0 && strcmp(list.name[5], "_tcp.example.com") == 0,
	      "domain search round trip (a case-insensitive match reads back in the first spelling)");

	const char *bad_names[] = { "ok.example", "two..dots" };
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_domain_search(&b, bad_names, 2) == -EINVAL &&
		      dhcp_finish(&b) == -EINVAL,
	      "builder refuses an empty label, and the error sticks");
	const char *root[] = { "." };
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == 0 && dhcp_put_domain_search(&b, root, 1) == -EINVAL,
	      "builder refuses the root as a search name");

	static const struct {
		uint8_t v[24];
		size_t len;
		const char *what;
	} bad[] = {
		{ { 0xc0, 0x00 }, 2, "a pointer to itself" },
		{ { 1, 'a', 0xc0, 0x00 }, 4, "a pointer to the start of its own name" },
		{ { 1, 'a', 0, 1, 'b', 0xc0, 0x03 }, 7, "a pointer to the start of its own name, second name" },
		{ { 1, 'a', 0xc0, 0x04, 1, 'b', 0 }, 7, "a forward pointer" },
		{ { 1, 'a', 0, 0xc0, 0x40 }, 5, "a pointer past the end" },
		{ { 1, 'a', 0, 1, 'b', 0xc0 }, 6, "a pointer cut in half" },
		{ { 1, 'a' }, 2, "no root label" },
		{ { 0 }, 1, "an empty name" },
		{ { 3, 'a', ' ', 'b', 0 }, 5, "a space in a label" },
		{ { 2, 'a', '\n', 0 }, 4, "a newline in a label" },
		{ { 0x41, 'a', 0 }, 3, "a reserved label kind" },
		{ { 0 }, 0, "empty" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[96];
		snprintf(what, sizeof what, "malformed domain search: %s", bad[i].what);
		CHECK(dhcp_parse_domain_search(bad[i].v, bad[i].len, &list) == -EBADMSG, what);
	}
	/* A loop through two names, each pointing at the other: the backward rule
	 * catches the jump that is not backwards. */
	static const uint8_t loop[] = { 1, 'a', 0xc0, 0x04, 1, 'b', 0xc0, 0x00 };
	CHECK(dhcp_parse_domain_search(loop, sizeof loop, &list) == -EBADMSG, "two names pointing at each other");
	/* Chained pointers that add up to a name of 257 bytes. */
	uint8_t chain[400];
	size_t o = 0, prev = 0;
	for (int i = 0; i < 4; i++) {
		size_t start = o;
		chain[o++] = 63;
		memset(chain + o, 'a' + i, 63);
		o += 63;
		if (i == 0) {
			chain[o++] = 0;
		} else {
			chain[o++] = 0xc0;
			chain[o++] = (uint8_t)prev;
		}
		prev = start;
	}
	CHECK(dhcp_parse_domain_search(chain, o, &list) == -EBADMSG && list.total == 3,
	      "a name grown past 255 bytes through pointers refused (three good names before it)");
	/* Many names: checked, the first DHCP_SEARCH_MAX kept. */
	uint8_t many[200];
	o = 0;
	for (int i = 0; i < 20; i++) {
		many[o++] = 1;
		many[o++] = (uint8_t)('a' + i);
		if (i == 0) {
			many[o++] = 0;
		} else {
			many[o++] = 0xc0;
			many[o++] = 0;
		}
	}
	CHECK(dhcp_parse_domain_search(many, o, &list) == 20 && list.n == DHCP_SEARCH_MAX && list.total == 20 &&
		      strcmp(list.name[1], "b.a") == 0,
	      "20 names: all counted, 16 stored");
}

/* ---- Builders ---- */

static void test_reply(void)
{
	uint8_t pkt[1500], buf[1500];
	size_t len = load(UDHCPC_DISCOVER, pkt);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "udhcpc DISCOVER again");
	/* Everything the server could send, in its own order. */
	static const uint8_t have[] = { 54, 51, 58, 59, 1, 3, 6, 15, 28, 42, 119, 121, 26, 53, 82 };
	uint8_t order[sizeof have];
	size_t n = dhcp_reply_option_order(&msg, have, sizeof have, order);
	/* PRL 1 3 6 12 15 28 42 119 121 (12 not had), then the always-sent 54 51 58 59. */
	static const uint8_t want[] = { 1, 3, 6, 15, 28, 42, 119, 121, 54, 51, 58, 59 };
	CHECK(n == sizeof want && memcmp(order, want, n) == 0,
	      "option order: the client's list, then the always-sent; 26 not asked, 53 and 82 left out");
	CHECK(dhcp_option_always_sent(1) && dhcp_option_always_sent(59) && !dhcp_option_always_sent(15) &&
		      !dhcp_option_always_sent(121),
	      "always-sent set");

	struct dhcp_builder b;
	memset(buf, 0xa5, sizeof buf);
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.111"), ip("192.0.2.1")) == 0,
	      "OFFER to udhcpc starts");
	CHECK(b.limit == 548, "limited to the client's 576-byte datagrams");
	static const struct in_addr dns[2] = { { 0x010200c0 }, { 0x020200c0 } };
	const char *search[] = { "home.arpa", "lab.home.arpa" };
	struct dhcp_route routes[2] = { { ip("10.0.0.0"), 8, ip("192.0.2.1") }, { ip("0.0.0.0"), 0, ip("192.0.2.1") } };
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		switch (order[i]) {
		case 1: rc |= dhcp_put_ipv4(&b, 1, ip("255.255.255.0")); break;
		case 3: rc |= dhcp_put_ipv4_list(&b, 3, &routes[0].router, 1); break;
		case 6: rc |= dhcp_put_ipv4_list(&b, 6, dns, 2); break;
		case 15: rc |= dhcp_put_string(&b, 15, "home.arpa"); break;
		case 28: rc |= dhcp_put_ipv4(&b, 28, ip("192.0.2.255")); break;
		case 42: rc |= dhcp_put_ipv4(&b, 42, ip("192.0.2.1")); break;
		case 119: rc |= dhcp_put_domain_search(&b, search, 2); break;
		case 121: rc |= dhcp_put_classless_routes(&b, routes, 2); break;
		case 54: rc |= dhcp_put_ipv4(&b, 54, ip("192.0.2.1")); break;
		case 51: rc |= dhcp_put_u32(&b, 51, 3600); break;
		case 58: rc |= dhcp_put_u32(&b, 58, 1800); break;
		case 59: rc |= dhcp_put_u32(&b, 59, 3150); break;
		}
	}
	int total = dhcp_finish(&b);
	CHECK(rc == 0 && total >= DHCP_BOOTP_MIN_LEN && total <= 548, "OFFER finished within 548 bytes");
	CHECK(buf[total] == 0xa5, "nothing written past the message");
	CHECK(dhcp_parse(buf, (size_t)total, &msg2, err, sizeof err) == 0 && msg2.op == 2 && msg2.type == DHCP_OFFER,
	      "our OFFER parses");
	CHECK(msg2.xid == msg.xid && memcmp(msg2.chaddr, msg.chaddr, 16) == 0 && msg2.flags == msg.flags &&
		      msg2.htype == 1 && msg2.hlen == 6 && ip_is(msg2.yiaddr, "192.0.2.111") &&
		      ip_is(msg2.siaddr, "192.0.2.1") && msg2.ciaddr.s_addr == 0,
	      "OFFER: xid, chaddr, flags, yiaddr, siaddr from the request and the caller");
	CHECK(option_is(&msg2, 61, "\x01\x52\x54\x00\x12\x34\x56", 7), "OFFER echoes the client id (RFC 6842)");
	/* The options follow 53 and 61 in the computed order. */
	size_t pos = 240 + 3 + 9;
	bool in_order = true;
	for (size_t i = 0; i < n && in_order; i++) {
		in_order = buf[pos] == order[i];
		pos += 2 + buf[pos + 1];
	}
	CHECK(in_order && buf[pos] == 255, "OFFER options on the wire in the parameter request list's order, then END");
	struct dhcp_client_options co;
	CHECK(dhcp_parse_client_options(&msg2, &co, err, sizeof err) == 0 && co.prefix_len == 24 && co.n_routes == 2 &&
		      co.search.n == 2 && co.lease_time == 3600 && co.n_dns == 2,
	      "our OFFER reads back as a client sees it");

	/* An ACK to a renewing client carries its ciaddr. */
	static const uint8_t renew[] = { 53, 1, 3, 255 };
	len = craft(pkt, 1, renew, sizeof renew);
	memcpy(pkt + 12, "\xc0\x00\x02\x6f", 4);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 &&
		      dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_ACK, ip("192.0.2.111"), ip("0.0.0.0")) == 0 &&
		      (total = dhcp_finish(&b)) == DHCP_BOOTP_MIN_LEN &&
		      dhcp_parse(buf, (size_t)total, &msg2, err, sizeof err) == 0 &&
		      ip_is(msg2.ciaddr, "192.0.2.111"),
	      "ACK copies ciaddr; a short reply is padded to 300 bytes");
	CHECK(buf[243] == 255 && buf[244] == 0 && buf[299] == 0, "END right after 53, zero padding after it");
	CHECK(dhcp_put_u8(&b, 60, 1) == -EINVAL, "nothing goes in after dhcp_finish");
	CHECK(dhcp_build_reply(&b, buf, 300, &msg, DHCP_ACK, ip("192.0.2.111"), ip("0.0.0.0")) == -EINVAL,
	      "a buffer under 576 bytes refused");
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_ACK, ip("0.0.0.0"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_option(&b, 0, "", 0) == -EINVAL,
	      "code 0 is not an option");
}

static void test_relay(void)
{
	uint8_t pkt[1500], buf[1500];
	/* A relayed DISCOVER: hops 1, giaddr, option 82 with circuit id and remote id. */
	static const uint8_t opts[] = { 53, 1, 1, 82, 12, 1, 4, 'e', 't', 'h', '1', 2, 4, 0xde, 0xad, 0xbe, 0xef, 255 };
	size_t len = craft(pkt, 1, opts, sizeof opts);
	pkt[3] = 1;
	memcpy(pkt + 24, "\x0a\x00\x00\x01", 4);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 && msg.hops == 1 && ip_is(msg.giaddr, "10.0.0.1"),
	      "relayed DISCOVER: hops and giaddr");
	size_t rlen;
	const uint8_t *relay = dhcp_relay_agent_info(&msg, &rlen);
	CHECK(relay && rlen == 12 && memcmp(relay, opts + 5, 12) == 0, "relay agent information kept raw");
	struct dhcp_builder b;
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("10.0.0.50"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_ipv4(&b, 54, ip("192.0.2.1")) == 0,
	      "OFFER through a relay");
	int total = dhcp_finish(&b);
	CHECK(total > 0 && dhcp_parse(buf, (size_t)total, &msg2, err, sizeof err) == 0 &&
		      ip_is(msg2.giaddr, "10.0.0.1") && option_is(&msg2, 82, opts + 5, 12),
	      "reply keeps giaddr and echoes option 82");
	CHECK(buf[249] == 82 && buf[250] == 12 && buf[263] == 255, "option 82 is the last option before END");

	/* The room for 82 is kept from the start: filling the reply cannot squeeze it out. */
	uint8_t big[400] = { 0 };
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("10.0.0.50"), ip("0.0.0.0")) == 0, "again");
	/* What is left after 53, 82 and END, for one value over 255 bytes (two headers). */
	size_t fill = 548 - 243 - 14 - 1 - 4;
	CHECK(dhcp_put_option(&b, 43, big, fill + 1) == -ENOSPC, "one byte too many is refused");
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("10.0.0.50"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_option(&b, 43, big, fill) == 0 && (total = dhcp_finish(&b)) == 548,
	      "exactly full: 548 bytes with 82 and END");
	CHECK(dhcp_parse(buf, (size_t)total, &msg2, err, sizeof err) == 0 && option_is(&msg2, 82, opts + 5, 12),
	      "and the full reply parses with its 82");
}

static void test_overflow(void)
{
	uint8_t pkt[1500], buf[1024];
	static const uint8_t opts[] = { 53, 1, 1, 255 };
	size_t len = craft(pkt, 1, opts, sizeof opts);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0, "plain DISCOVER");
	struct dhcp_builder b;
	memset(buf, 0x5a, sizeof buf);
	uint8_t big[400] = { 1 };
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_option(&b, 43, big, 300) == 0,
	      "300 bytes fit in 548");
	CHECK(dhcp_put_option(&b, 43, big, 10) == -ENOSPC, "10 more do not: -ENOSPC");
	CHECK(dhcp_put_u8(&b, 46, 1) == -ENOSPC && dhcp_finish(&b) == -ENOSPC, "the error sticks through dhcp_finish");
	bool untouched = true;
	for (size_t i = 548; i < sizeof buf; i++)
		untouched = untouched && buf[i] == 0x5a;
	CHECK(untouched, "nothing written past the client's limit");
	static const struct in_addr many[200];
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_ipv4_list(&b, 6, many, 200) == -ENOSPC,
	      "an address list too long is refused, not cut");
	const char *names[40];
	char store[40][64];
	for (int i = 0; i < 40; i++) {
		snprintf(store[i], sizeof store[i], "name-number-%02d.some-rather-long-domain%02d.example", i, i);
		names[i] = store[i];
	}
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_domain_search(&b, names, 40) == -ENOSPC,
	      "a search list too long is refused");
	struct dhcp_route routes[70];
	for (int i = 0; i < 70; i++)
		routes[i] = (struct dhcp_route){ ip("0.0.0.0"), 0, ip("192.0.2.1") };
	CHECK(dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_OFFER, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_classless_routes(&b, routes, 70) == -ENOSPC,
	      "too many routes refused");
	untouched = true;
	for (size_t i = 548; i < sizeof buf; i++)
		untouched = untouched && buf[i] == 0x5a;
	CHECK(untouched, "still nothing past the limit");
	/* A buffer smaller than the client allows bounds the reply too. */
	static const uint8_t big_mms[] = { 53, 1, 1, 57, 2, 0x10, 0x00, 255 };
	len = craft(pkt, 1, big_mms, sizeof big_mms);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 &&
		      dhcp_build_reply(&b, buf, 600, &msg, DHCP_OFFER, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      b.limit == 600,
	      "the caller's buffer bounds a reply to a client that takes 4096");
}

static void test_requests(void)
{
	uint8_t buf[1024];
	struct dhcp_builder b;
	static const uint8_t prl[] = { 1, 3, 6, 15, 26, 28, 42, 119, 121 };
	static const uint8_t cid[] = { 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct dhcp_request_params p = {
		.type = DHCP_DISCOVER, .xid = 0xdeadbeef, .secs = 3, .broadcast = true, .htype = 1, .hlen = 6,
		.client_id = cid, .client_id_len = sizeof cid, .hostname = "arbor-node", .params = prl,
		.nparams = sizeof prl, .max_message_size = 1500, .vendor_class = (const uint8_t *)"arbor",
		.vendor_class_len = 5,
	};
	memcpy(p.chaddr, mac, 6);
	int n = dhcp_build_request(&b, buf, sizeof buf, &p) == 0 ? dhcp_finish(&b) : -1;
	CHECK(n == DHCP_BOOTP_MIN_LEN && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0,
	      "DISCOVER built, 300 bytes");
	char host[DHCP_HOSTNAME_MAX + 1];
	uint16_t mms;
	size_t plen;
	const uint8_t *got = dhcp_param_request_list(&msg, &plen);
	uint8_t key[DHCP_LEASE_KEY_MAX];
	CHECK(msg.op == 1 && msg.type == DHCP_DISCOVER && msg.xid == 0xdeadbeef && msg.secs == 3 && msg.broadcast &&
		      memcmp(msg.chaddr, mac, 6) == 0,
	      "DISCOVER header");
	CHECK(dhcp_hostname(&msg, host, NULL) == 10 && strcmp(host, "arbor-node") == 0 &&
		      dhcp_max_message_size(&msg, &mms) == 0 && mms == 1500 && got && plen == sizeof prl &&
		      memcmp(got, prl, plen) == 0 && dhcp_lease_key(&msg, key, sizeof key) == 7 &&
		      option_is(&msg, 60, "arbor", 5),
	      "DISCOVER options: host name, 57, 55, 61, 60");

	p.type = DHCP_REQUEST;
	p.requested_ip = ip("192.0.2.111");
	p.server_id = ip("192.0.2.1");
	p.hostname = NULL;
	p.fqdn = "arbor-node";
	p.fqdn_flags = DHCP_FQDN_S;
	struct in_addr a;
	struct dhcp_fqdn fq;
	n = dhcp_build_request(&b, buf, sizeof buf, &p) == 0 ? dhcp_finish(&b) : -1;
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0 && msg.type == DHCP_REQUEST &&
		      dhcp_requested_ip(&msg, &a) == 0 && ip_is(a, "192.0.2.111") && dhcp_server_id(&msg, &a) == 0 &&
		      ip_is(a, "192.0.2.1"),
	      "REQUEST (selecting): requested IP and server id");
	CHECK(dhcp_client_fqdn(&msg, &fq) == 0 && fq.flags == (DHCP_FQDN_S | DHCP_FQDN_E) && fq.rcode1 == 0 &&
		      strcmp(fq.name, "arbor-node") == 0 && !fq.fully_qualified,
	      "REQUEST carries a partial FQDN in wire form");

	p.type = DHCP_RELEASE;
	p.requested_ip = ip("0.0.0.0");
	p.ciaddr = ip("192.0.2.111");
	p.hostname = "arbor-node";
	n = dhcp_build_request(&b, buf, sizeof buf, &p) == 0 ? dhcp_finish(&b) : -1;
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0 && msg.type == DHCP_RELEASE &&
		      ip_is(msg.ciaddr, "192.0.2.111") && dhcp_server_id(&msg, &a) == 0 &&
		      dhcp_hostname(&msg, host, NULL) == -ENOENT && !dhcp_param_request_list(&msg, &plen) &&
		      !dhcp_option(&msg, 57, NULL) && dhcp_option(&msg, 61, NULL),
	      "RELEASE: ciaddr, server id, client id; no host name, 55 or 57");
	p.server_id = ip("0.0.0.0");
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "RELEASE without a server id refused");

	p.type = DHCP_DECLINE;
	p.ciaddr = ip("0.0.0.0");
	p.server_id = ip("192.0.2.1");
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "DECLINE without the declined address refused");
	p.requested_ip = ip("192.0.2.111");
	n = dhcp_build_request(&b, buf, sizeof buf, &p) == 0 ? dhcp_finish(&b) : -1;
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0 && msg.type == DHCP_DECLINE &&
		      dhcp_requested_ip(&msg, &a) == 0 && ip_is(a, "192.0.2.111"),
	      "DECLINE: requested IP and server id");

	p.type = DHCP_INFORM;
	p.requested_ip = ip("0.0.0.0");
	p.ciaddr = ip("192.0.2.111");
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "INFORM with a server id refused");
	p.server_id = ip("0.0.0.0");
	n = dhcp_build_request(&b, buf, sizeof buf, &p) == 0 ? dhcp_finish(&b) : -1;
	CHECK(n > 0 && dhcp_parse(buf, (size_t)n, &msg, err, sizeof err) == 0 && msg.type == DHCP_INFORM &&
		      ip_is(msg.ciaddr, "192.0.2.111") && dhcp_param_request_list(&msg, &plen) != NULL,
	      "INFORM: ciaddr and parameter list");
	p.ciaddr = ip("0.0.0.0");
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "INFORM without ciaddr refused");
	p.type = DHCP_OFFER;
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "a client does not send OFFER");
	p.type = DHCP_DISCOVER;
	p.max_message_size = 500;
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -EINVAL, "max message size under 576 refused");
	p.max_message_size = 0;
	uint8_t long_params[400];
	for (size_t i = 0; i < sizeof long_params; i++)
		long_params[i] = (uint8_t)(i % 254 + 1);
	p.params = long_params;
	p.nparams = sizeof long_params;
	CHECK(dhcp_build_request(&b, buf, sizeof buf, &p) == -ENOSPC && dhcp_finish(&b) == -ENOSPC,
	      "a request that will not fit in 548 bytes is refused");
	/* A fully qualified FQDN from a server. */
	static const uint8_t disc[] = { 53, 1, 1, 255 };
	uint8_t pkt[600];
	size_t len = craft(pkt, 1, disc, sizeof disc);
	CHECK(dhcp_parse(pkt, len, &msg, err, sizeof err) == 0 &&
		      dhcp_build_reply(&b, buf, sizeof buf, &msg, DHCP_ACK, ip("192.0.2.5"), ip("0.0.0.0")) == 0 &&
		      dhcp_put_client_fqdn(&b, DHCP_FQDN_S | DHCP_FQDN_O, "node.home.arpa.") == 0 &&
		      (n = dhcp_finish(&b)) > 0 && dhcp_parse(buf, (size_t)n, &msg2, err, sizeof err) == 0 &&
		      dhcp_client_fqdn(&msg2, &fq) == 0 && fq.fully_qualified && fq.rcode1 == 255 &&
		      strcmp(fq.name, "node.home.arpa") == 0 && fq.flags == (DHCP_FQDN_S | DHCP_FQDN_O | DHCP_FQDN_E),
	      "reply FQDN: fully qualified, rcodes 255");
}

int main(void)
{
	test_udhcpc();
	test_dhclient();
	test_dhcpcd();
	test_dnsmasq_replies();
	test_malformed();
	test_overload();
	test_long_option();
	test_hostname();
	test_fqdn();
	test_classless_routes();
	test_domain_search();
	test_reply();
	test_relay();
	test_overflow();
	test_requests();
	return tap_done();
}
