/* The generic netlink codec, against messages laid out as the kernel's
 * drivers/net/wireguard/netlink.c writes them (built here byte by byte, not
 * with the codec): raw keys, the __kernel_timespec, u64 counters with the
 * alignment padding some architectures add, one peer's allowed IPs split over
 * two messages, the error inside NLMSG_DONE. Then SET_DEVICE: the attribute
 * layout, and a large set cut into messages with the device attributes and
 * the replace flags only where wg(8) puts them. (tests/integration/
 * test_wgd_genl.py compares these messages with wg(8)'s own.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>

#include "genl_wire.h"
#include "tap.h"

#define FAMILY 0x1d

/* A message under construction, kernel style. */
struct msg {
	uint8_t b[8192];
	size_t len;
	size_t nest[8];
	int depth;
};

static void begin(struct msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof *m);
	struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = 7, .nlmsg_pid = 4242 };
	memcpy(m->b, &h, sizeof h);
	m->len = NLMSG_HDRLEN;
	if (type == FAMILY) {
		struct genlmsghdr g = { .cmd = WG_CMD_GET_DEVICE, .version = 1 };
		memcpy(m->b + m->len, &g, sizeof g);
		m->len += GENL_HDRLEN;
	}
}

static void attr(struct msg *m, uint16_t type, const void *data, uint16_t n)
{
	uint16_t len = (uint16_t)(4 + n);
	memcpy(m->b + m->len, &len, 2);
	memcpy(m->b + m->len + 2, &type, 2);
	if (n)
		memcpy(m->b + m->len + 4, data, n);
	m->len += (4u + n + 3u) & ~3u;
}

static void u16a(struct msg *m, uint16_t t, uint16_t v) { attr(m, t, &v, 2); }
static void u32a(struct msg *m, uint16_t t, uint32_t v) { attr(m, t, &v, 4); }
static void u8a(struct msg *m, uint16_t t, uint8_t v) { attr(m, t, &v, 1); }

/* nla_put_u64_64bit with the pad attribute an architecture without efficient
 * unaligned access inserts (type WGPEER_A_UNSPEC). */
static void u64a_padded(struct msg *m, uint16_t t, uint64_t v)
{
	attr(m, WGPEER_A_UNSPEC, NULL, 0);
	attr(m, t, &v, 8);
}

static void open_nest(struct msg *m, uint16_t type)
{
	m->nest[m->depth++] = m->len;
	uint16_t t = (uint16_t)(type | NLA_F_NESTED), z = 0;
	memcpy(m->b + m->len, &z, 2);
	memcpy(m->b + m->len + 2, &t, 2);
	m->len += 4;
}

static void close_nest(struct msg *m)
{
	size_t at = m->nest[--m->depth];
	uint16_t n = (uint16_t)(m->len - at);
	memcpy(m->b + at, &n, 2);
}

static void end(struct msg *m)
{
	uint32_t n = (uint32_t)m->len;
	memcpy(m->b, &n, 4);
}

static void allowed(struct msg *m, int family, const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip ip;
	char t[64];
	snprintf(t, sizeof t, "%s/%u", addr, cidr);
	wg_allowed_ip_parse(&ip, t, false);
	open_nest(m, 0);
	u8a(m, WGALLOWEDIP_A_CIDR_MASK, cidr); /* the kernel's order: cidr, family, address */
	u16a(m, WGALLOWEDIP_A_FAMILY, (uint16_t)family);
	attr(m, WGALLOWEDIP_A_IPADDR, ip.addr, family == AF_INET ? 4 : 16);
	close_nest(m);
}

static uint8_t K1[32], K2[32], PRIV[32], PUB[32];

static void peer_head(struct msg *m, const uint8_t *key, int64_t sec, int64_t nsec, uint64_t rx, uint64_t tx)
{
	attr(m, WGPEER_A_PUBLIC_KEY, key, 32);
	uint8_t zero[32] = { 0 };
	attr(m, WGPEER_A_PRESHARED_KEY, zero, 32);
	int64_t ts[2] = { sec, nsec };
	attr(m, WGPEER_A_LAST_HANDSHAKE_TIME, ts, 16);
	u16a(m, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	u64a_padded(m, WGPEER_A_TX_BYTES, tx);
	u64a_padded(m, WGPEER_A_RX_BYTES, rx);
	u32a(m, WGPEER_A_PROTOCOL_VERSION, 1);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };
	sin.sin_addr.s_addr = htonl(0xc0000207);
	attr(m, WGPEER_A_ENDPOINT, &sin, sizeof sin);
}

/* Walks a SET message: returns the attributes of the top level in order. */
static size_t top_attrs(const uint8_t *b, size_t len, uint16_t *types, size_t max)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, n = 0;
	while (off + 4 <= len && n < max) {
		uint16_t l, t;
		memcpy(&l, b + off, 2);
		memcpy(&t, b + off + 2, 2);
		types[n++] = t & NLA_TYPE_MASK;
		off += (l + 3u) & ~3u;
	}
	return n;
}

int main(void)
{
	for (int i = 0; i < 32; i++) {
		K1[i] = (uint8_t)(i + 1);
		K2[i] = (uint8_t)(0xa0 + i);
		PRIV[i] = (uint8_t)(0x40 + i);
		PUB[i] = (uint8_t)(0x80 + i);
	}
	/* Message 1: the device, peer 1 with its first allowed IPs, cut off.
	 * Message 2: peer 1 again (key only) with the rest, then peer 2. */
	struct msg m1, m2, done;
	begin(&m1, FAMILY, NLM_F_MULTI);
	u16a(&m1, WGDEVICE_A_LISTEN_PORT, 51820);
	u32a(&m1, WGDEVICE_A_FWMARK, 0);
	u32a(&m1, WGDEVICE_A_IFINDEX, 17);
	attr(&m1, WGDEVICE_A_IFNAME, "wg0", 4);
	attr(&m1, WGDEVICE_A_PRIVATE_KEY, PRIV, 32);
	attr(&m1, WGDEVICE_A_PUBLIC_KEY, PUB, 32);
	open_nest(&m1, WGDEVICE_A_PEERS);
	open_nest(&m1, 0);
	peer_head(&m1, K1, 1760000000, 5, 2296, 1184);
	open_nest(&m1, WGPEER_A_ALLOWEDIPS);
	allowed(&m1, AF_INET, "10.200.0.2", 32);
	allowed(&m1, AF_INET6, "fd00:1:2:3::2", 128);
	close_nest(&m1);
	close_nest(&m1);
	close_nest(&m1);
	end(&m1);
	begin(&m2, FAMILY, NLM_F_MULTI);
	open_nest(&m2, WGDEVICE_A_PEERS);
	open_nest(&m2, 0);
	attr(&m2, WGPEER_A_PUBLIC_KEY, K1, 32);
	open_nest(&m2, WGPEER_A_ALLOWEDIPS);
	allowed(&m2, AF_INET, "192.168.50.0", 24);
	close_nest(&m2);
	close_nest(&m2);
	open_nest(&m2, 0);
	peer_head(&m2, K2, 0, 0, 0, 0);
	close_nest(&m2);
	close_nest(&m2);
	end(&m2);
	begin(&done, NLMSG_DONE, NLM_F_MULTI);
	int32_t zero = 0;
	memcpy(done.b + done.len, &zero, 4);
	done.len += 4;
	end(&done);

	struct wg_device d = { 0 };
	char err[200] = "";
	CHECK(genl_parse_get(m1.b, m1.len, FAMILY, &d, err, sizeof err) == 0, "first message: more to come");
	CHECK(genl_parse_get(m2.b, m2.len, FAMILY, &d, err, sizeof err) == 0, "second message: more to come");
	CHECK(genl_parse_get(done.b, done.len, FAMILY, &d, err, sizeof err) == 1, "NLMSG_DONE ends the dump");
	CHECK(strcmp(d.name, "wg0") == 0 && d.ifindex == 17 && d.listen_port == 51820, "device attributes");
	CHECK(d.has_private_key && memcmp(d.private_key, PRIV, 32) == 0 && memcmp(d.public_key, PUB, 32) == 0,
	      "raw device keys");
	CHECK(d.npeers == 2, "the split peer is merged: two peers");
	CHECK(d.peers[0].nallowed_ips == 3, "peer 1 has all three allowed IPs");
	char t[64];
	CHECK(strcmp(wg_allowed_ip_format(&d.peers[0].allowed_ips[2], t, sizeof t), "192.168.50.0/24") == 0,
	      "the allowed IP from the second message");
	CHECK(d.peers[0].last_handshake_sec == 1760000000 && d.peers[0].last_handshake_nsec == 5, "the timespec");
	CHECK(d.peers[0].rx_bytes == 2296 && d.peers[0].tx_bytes == 1184, "u64 counters behind pad attributes");
	CHECK(d.peers[0].keepalive == 25 && d.peers[0].protocol_version == 1, "keepalive and version");
	CHECK(strcmp(wg_endpoint_format(&d.peers[0], t, sizeof t), "192.0.2.7:40000") == 0, "endpoint sockaddr_in");
	CHECK(memcmp(d.peers[1].public_key, K2, 32) == 0 && d.peers[1].last_handshake_sec == 0, "peer 2, never seen");
	wg_device_free(&d);

	/* Both messages and DONE in one buffer parse the same. */
	uint8_t all[16384];
	size_t n = 0;
	memcpy(all + n, m1.b, m1.len), n += m1.len;
	memcpy(all + n, m2.b, m2.len), n += m2.len;
	memcpy(all + n, done.b, done.len), n += done.len;
	CHECK(genl_parse_get(all, n, FAMILY, &d, err, sizeof err) == 1 && d.npeers == 2 && d.peers[0].nallowed_ips == 3,
	      "one buffer with the whole dump");
	wg_device_free(&d);

	/* Errors: NLMSG_ERROR, an error inside DONE, an interrupted dump. */
	struct msg e;
	begin(&e, NLMSG_ERROR, 0);
	int32_t enodev = -ENODEV;
	memcpy(e.b + e.len, &enodev, 4);
	e.len += 4 + sizeof(struct nlmsghdr);
	end(&e);
	CHECK(genl_parse_get(e.b, e.len, FAMILY, &d, err, sizeof err) == -ENODEV, "NLMSG_ERROR -ENODEV");
	CHECK(genl_parse_ack(e.b, e.len) == -ENODEV, "an ACK with an error");
	memcpy(e.b + NLMSG_HDRLEN, &zero, 4);
	CHECK(genl_parse_ack(e.b, e.len) == 0, "an ACK");
	memcpy(done.b + NLMSG_HDRLEN, &enodev, 4);
	CHECK(genl_parse_get(done.b, done.len, FAMILY, &d, err, sizeof err) == -ENODEV, "an error inside DONE");
	struct nlmsghdr h;
	memcpy(&h, m1.b, sizeof h);
	h.nlmsg_flags |= NLM_F_DUMP_INTR;
	struct msg intr = m1;
	memcpy(intr.b, &h, sizeof h);
	CHECK(genl_parse_get(intr.b, intr.len, FAMILY, &d, err, sizeof err) == -EINTR, "NLM_F_DUMP_INTR: ask again");
	wg_device_free(&d);

	/* Malformed: every truncation of the first message is refused or
	 * incomplete, never read past. */
	for (size_t cut = 1; cut < m1.len; cut++) {
		struct msg c = m1;
		uint32_t l = (uint32_t)cut;
		if (cut >= 4)
			memcpy(c.b, &l, 4);
		int rc = genl_parse_get(c.b, cut, FAMILY, &d, err, sizeof err);
		wg_device_free(&d);
		if (rc != -EPROTO && rc != 0) {
			CHECK(false, "a truncated message is refused");
			break;
		}
	}
	CHECK(true, "truncations handled");

	/* SET_DEVICE: one message for a small device, in wg(8)'s layout. */
	struct wg_device s = { .has_private_key = true, .has_listen_port = true, .listen_port = 51820, .replace_peers = true };
	snprintf(s.name, sizeof s.name, "wg0");
	memcpy(s.private_key, PRIV, 32);
	struct wg_peer *p = wg_device_add_peer(&s);
	memcpy(p->public_key, K1, 32);
	p->flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_KEEPALIVE;
	p->keepalive = 25;
	wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), "10.200.0.2/32", false);
	struct genl_msgs msgs;
	CHECK(genl_build_set(&s, FAMILY, 100, GENL_WG_MSG_MAX, &msgs) == 0 && msgs.n == 1, "one SET message");
	uint16_t types[16];
	size_t nt = top_attrs(msgs.msg[0], msgs.len[0], types, 16);
	CHECK(nt == 5 && types[0] == WGDEVICE_A_IFNAME && types[1] == WGDEVICE_A_PRIVATE_KEY &&
	      types[2] == WGDEVICE_A_LISTEN_PORT && types[3] == WGDEVICE_A_FLAGS && types[4] == WGDEVICE_A_PEERS,
	      "ifname, private key, port, flags, peers");
	memcpy(&h, msgs.msg[0], sizeof h);
	CHECK(h.nlmsg_type == FAMILY && h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) && h.nlmsg_seq == 100 &&
	      h.nlmsg_len == msgs.len[0], "header");
	genl_msgs_free(&msgs);

	/* A peer with 1,000 allowed IPs: several messages, each within the
	 * limit; device attributes and flags only in the first; the peer's key in
	 * every one, its preshared key and REPLACE_ALLOWEDIPS in the first only. */
	wg_device_free(&s);
	p = wg_device_add_peer(&s);
	memcpy(p->public_key, K1, 32);
	p->flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_PRESHARED_KEY;
	for (int i = 0; i < 1000; i++) {
		struct wg_allowed_ip *ip = wg_peer_add_allowed_ip(p);
		ip->family = AF_INET;
		ip->addr[0] = 10, ip->addr[1] = (uint8_t)(i >> 8), ip->addr[2] = (uint8_t)i;
		ip->cidr = 24;
	}
	p = wg_device_add_peer(&s);
	memcpy(p->public_key, K2, 32);
	p->flags = WG_PEER_REPLACE_ALLOWED_IPS;
	wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), "10.99.0.0/16", false);
	CHECK(genl_build_set(&s, FAMILY, 1, GENL_WG_MSG_MAX, &msgs) == 0 && msgs.n > 5, "a large set is cut into messages");
	bool within = true, device_once = true, names = true;
	for (size_t i = 0; i < msgs.n; i++) {
		within &= msgs.len[i] <= GENL_WG_MSG_MAX;
		nt = top_attrs(msgs.msg[i], msgs.len[i], types, 16);
		names &= nt >= 1 && types[0] == WGDEVICE_A_IFNAME;
		for (size_t k = 1; k < nt; k++)
			if (types[k] != WGDEVICE_A_PEERS)
				device_once &= i == 0;
	}
	CHECK(within && names && device_once, "every message within 4 KiB, names the device, device attributes first only");
	/* Parse the SET messages back as if they were a dump: the same peers. */
	struct wg_device back = { 0 };
	int rc = 0;
	for (size_t i = 0; i < msgs.n && rc == 0; i++) {
		struct nlmsghdr hh;
		memcpy(&hh, msgs.msg[i], sizeof hh);
		rc = genl_parse_get(msgs.msg[i], msgs.len[i], FAMILY, &back, err, sizeof err);
	}
	CHECK(rc == 0 && back.npeers == 2 && back.peers[0].nallowed_ips == 1000 && back.peers[1].nallowed_ips == 1,
	      "the messages carry every allowed IP once, the split peer merged");
	wg_device_free(&back);
	genl_msgs_free(&msgs);
	wg_device_free(&s);

	uint8_t get[64];
	int gl = genl_build_get("wg0", FAMILY, 9, get, sizeof get);
	memcpy(&h, get, sizeof h);
	CHECK(gl == NLMSG_HDRLEN + GENL_HDRLEN + 8 && h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP) &&
	      get[NLMSG_HDRLEN] == WG_CMD_GET_DEVICE, "GET_DEVICE dump request");
	CHECK(genl_build_get("a-name-too-long-for-linux", FAMILY, 9, get, sizeof get) == -EINVAL, "a long name is refused");
	return tap_done();
}
