/* WireGuard generic netlink messages (see genl_wire.h). Attribute order and the
 * way SET_DEVICE is cut into messages follow wg(8) (wireguard-tools,
 * ipc-linux.h) so that the kernel sees exactly what it sees from wg; the dump
 * layout follows the kernel's netlink.c. */
#include "genl_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>

#include "xalloc.h"

#define ALIGN4(n) (((n) + 3u) & ~3u)
#define NLA_HDR 4u

void genl_msgs_free(struct genl_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->msg[i]);
	free(m->msg);
	free(m->len);
	memset(m, 0, sizeof *m);
}

/* ---- building ---- */

/* One message being written; the checks mirror libmnl's *_check functions. */
struct writer {
	uint8_t *buf;
	size_t len, max;
};

static void put_raw(struct writer *w, uint16_t type, const void *data, size_t n)
{
	uint16_t nla_len = (uint16_t)(NLA_HDR + n);
	memcpy(w->buf + w->len, &nla_len, 2);
	memcpy(w->buf + w->len + 2, &type, 2);
	memcpy(w->buf + w->len + NLA_HDR, data, n);
	memset(w->buf + w->len + NLA_HDR + n, 0, ALIGN4(n) - n);
	w->len += ALIGN4(NLA_HDR + n);
}

static bool put(struct writer *w, uint16_t type, const void *data, size_t n)
{
	if (w->len + NLA_HDR + ALIGN4(n) > w->max)
		return false;
	put_raw(w, type, data, n);
	return true;
}

static bool put_u8(struct writer *w, uint16_t type, uint8_t v) { return put(w, type, &v, 1); }
static bool put_u16(struct writer *w, uint16_t type, uint16_t v) { return put(w, type, &v, 2); }
static bool put_u32(struct writer *w, uint16_t type, uint32_t v) { return put(w, type, &v, 4); }

/* Returns the nest's offset, or 0 when it does not fit (0 is never a nest's
 * offset: the headers come first). */
static size_t nest_start(struct writer *w, uint16_t type)
{
	if (w->len + NLA_HDR > w->max)
		return 0;
	size_t at = w->len;
	uint16_t t = (uint16_t)(NLA_F_NESTED | type), zero = 0;
	memcpy(w->buf + at, &zero, 2);
	memcpy(w->buf + at + 2, &t, 2);
	w->len += NLA_HDR;
	return at;
}

static void nest_end(struct writer *w, size_t at)
{
	uint16_t n = (uint16_t)(w->len - at);
	memcpy(w->buf + at, &n, 2);
}

static void nest_cancel(struct writer *w, size_t at)
{
	w->len = at;
}

static void header(struct writer *w, uint16_t type, uint16_t flags, uint32_t seq, uint8_t cmd)
{
	struct nlmsghdr h = { .nlmsg_len = 0, .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq };
	struct genlmsghdr g = { .cmd = cmd, .version = WG_GENL_VERSION };
	memcpy(w->buf, &h, sizeof h);
	memcpy(w->buf + NLMSG_HDRLEN, &g, sizeof g);
	w->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void finish(struct writer *w, struct genl_msgs *out)
{
	uint32_t n = (uint32_t)w->len;
	memcpy(w->buf, &n, 4);
	out->msg = xreallocarray(out->msg, out->n + 1, sizeof *out->msg);
	out->len = xreallocarray(out->len, out->n + 1, sizeof *out->len);
	out->msg[out->n] = w->buf;
	out->len[out->n] = w->len;
	out->n++;
	w->buf = NULL;
}

static bool put_endpoint(struct writer *w, const struct wg_peer *p)
{
	if (p->endpoint.sa.sa_family == AF_INET)
		return put(w, WGPEER_A_ENDPOINT, &p->endpoint.in4, sizeof p->endpoint.in4);
	if (p->endpoint.sa.sa_family == AF_INET6)
		return put(w, WGPEER_A_ENDPOINT, &p->endpoint.in6, sizeof p->endpoint.in6);
	return true;
}

int genl_build_set(const struct wg_device *dev, uint16_t family, uint32_t seq, size_t max_len,
		   struct genl_msgs *out)
{
	memset(out, 0, sizeof *out);
	size_t name_len = strnlen(dev->name, WG_IFNAME_MAX);
	if (name_len == 0 || name_len >= WG_IFNAME_MAX || max_len < 256)
		return -EINVAL;
	size_t peer = 0, aip = 0; /* where the next message continues */
	bool first = true, in_peer = false;
	for (;;) {
		struct writer w = { xmalloc(max_len), 0, max_len };
		header(&w, family, NLM_F_REQUEST | NLM_F_ACK, seq + (uint32_t)out->n, WG_CMD_SET_DEVICE);
		put_raw(&w, WGDEVICE_A_IFNAME, dev->name, name_len + 1);
		if (first) {
			if (dev->has_private_key)
				put_raw(&w, WGDEVICE_A_PRIVATE_KEY, dev->private_key, WG_KEY_LEN);
			if (dev->has_listen_port)
				put_raw(&w, WGDEVICE_A_LISTEN_PORT, &dev->listen_port, 2);
			if (dev->has_fwmark)
				put_raw(&w, WGDEVICE_A_FWMARK, &dev->fwmark, 4);
			if (dev->replace_peers) {
				uint32_t f = WGDEVICE_F_REPLACE_PEERS;
				put_raw(&w, WGDEVICE_A_FLAGS, &f, 4);
			}
			first = false;
		}
		if (dev->npeers == 0) {
			finish(&w, out);
			return 0;
		}
		size_t peers_nest = w.len;
		uint16_t t = NLA_F_NESTED | WGDEVICE_A_PEERS, zero = 0;
		memcpy(w.buf + w.len, &zero, 2);
		memcpy(w.buf + w.len + 2, &t, 2);
		w.len += NLA_HDR;
		bool progressed = false, full = false;
		for (; peer < dev->npeers && !full; peer++) {
			const struct wg_peer *p = &dev->peers[peer];
			size_t pn = nest_start(&w, 0);
			bool ok = pn != 0 && put(&w, WGPEER_A_PUBLIC_KEY, p->public_key, WG_KEY_LEN);
			uint32_t flags = 0;
			if (p->flags & WG_PEER_REMOVE)
				flags |= WGPEER_F_REMOVE_ME;
			if (ok && !in_peer) {
				if (p->flags & WG_PEER_REPLACE_ALLOWED_IPS)
					flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
				if (p->flags & WG_PEER_UPDATE_ONLY)
					flags |= WGPEER_F_UPDATE_ONLY;
				if (p->flags & WG_PEER_HAS_PRESHARED_KEY)
					ok = put(&w, WGPEER_A_PRESHARED_KEY, p->preshared_key, WG_KEY_LEN);
				ok = ok && put_endpoint(&w, p);
				if (ok && (p->flags & WG_PEER_HAS_KEEPALIVE))
					ok = put_u16(&w, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive);
			}
			if (ok && flags)
				ok = put_u32(&w, WGPEER_A_FLAGS, flags);
			if (!ok) {
				/* The peer does not fit: it starts the next message. */
				if (pn)
					nest_cancel(&w, pn);
				full = true;
				break;
			}
			if (p->nallowed_ips && !(p->flags & WG_PEER_REMOVE)) {
				size_t an = nest_start(&w, WGPEER_A_ALLOWEDIPS);
				if (an == 0) {
					/* Not even the list fits: close the peer here, its allowed
					 * IPs go on in the next message. */
					nest_end(&w, pn);
					in_peer = true;
					progressed = true;
					full = true;
					break;
				}
				for (; aip < p->nallowed_ips; aip++) {
					const struct wg_allowed_ip *ip = &p->allowed_ips[aip];
					size_t in = nest_start(&w, 0);
					bool fit = in != 0 && put_u16(&w, WGALLOWEDIP_A_FAMILY, (uint16_t)ip->family) &&
						   put(&w, WGALLOWEDIP_A_IPADDR, ip->addr, ip->family == AF_INET ? 4 : 16) &&
						   put_u8(&w, WGALLOWEDIP_A_CIDR_MASK, ip->cidr);
					if (!fit) {
						if (in)
							nest_cancel(&w, in);
						break;
					}
					nest_end(&w, in);
				}
				nest_end(&w, an);
				if (aip < p->nallowed_ips) {
					nest_end(&w, pn);
					in_peer = true;
					progressed = true;
					full = true;
					break;
				}
			}
			nest_end(&w, pn);
			progressed = true;
			in_peer = false;
			aip = 0;
		}
		nest_end(&w, peers_nest);
		if (!progressed) {
			free(w.buf);
			genl_msgs_free(out);
			return -EMSGSIZE;
		}
		finish(&w, out);
		if (peer >= dev->npeers)
			return 0;
	}
}

int genl_build_get(const char *ifname, uint16_t family, uint32_t seq, uint8_t *buf, size_t len)
{
	size_t n = strnlen(ifname, WG_IFNAME_MAX);
	size_t need = NLMSG_HDRLEN + GENL_HDRLEN + ALIGN4(NLA_HDR + n + 1);
	if (n == 0 || n >= WG_IFNAME_MAX || len < need)
		return -EINVAL;
	struct writer w = { buf, 0, len };
	header(&w, family, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, seq, WG_CMD_GET_DEVICE);
	put_raw(&w, WGDEVICE_A_IFNAME, ifname, n + 1);
	uint32_t total = (uint32_t)w.len;
	memcpy(buf, &total, 4);
	return (int)w.len;
}

/* ---- parsing ---- */

/* Iterates the attributes in [p, p+len): returns false at the end; -1 in *bad
 * when an attribute runs past the end. */
struct attrs {
	const uint8_t *p;
	size_t len, off;
};

static bool next_attr(struct attrs *a, uint16_t *type, const uint8_t **data, size_t *n, bool *bad)
{
	if (a->off + NLA_HDR > a->len) {
		*bad = a->off != a->len && a->len - a->off >= NLA_HDR;
		return false;
	}
	uint16_t nla_len, t;
	memcpy(&nla_len, a->p + a->off, 2);
	memcpy(&t, a->p + a->off + 2, 2);
	if (nla_len < NLA_HDR || a->off + nla_len > a->len) {
		*bad = true;
		return false;
	}
	*type = t & NLA_TYPE_MASK;
	*data = a->p + a->off + NLA_HDR;
	*n = nla_len - NLA_HDR;
	a->off += ALIGN4(nla_len);
	if (a->off > a->len)
		a->off = a->len;
	return true;
}

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "malformed WireGuard netlink message: %s", what);
	return -EPROTO;
}

/* Calls fn on each entry of a nested list (peers, allowed IPs). */
static int each_nested(const uint8_t *p, size_t len, int (*fn)(const uint8_t *, size_t, void *, char *, size_t),
		       void *ctx, const char *what, char *err, size_t errlen)
{
	struct attrs list = { p, len, 0 };
	uint16_t type;
	const uint8_t *d;
	size_t n;
	bool broken = false;
	while (next_attr(&list, &type, &d, &n, &broken)) {
		int rc = fn(d, n, ctx, err, errlen);
		if (rc < 0)
			return rc;
	}
	return broken ? bad(err, errlen, what) : 0;
}

static int parse_allowed_ip(const uint8_t *p, size_t len, struct wg_allowed_ip *ip, char *err, size_t errlen)
{
	struct attrs a = { p, len, 0 };
	uint16_t type;
	const uint8_t *d;
	size_t n;
	bool broken = false, has_family = false, has_addr = false, has_cidr = false;
	size_t addr_len = 0;
	memset(ip, 0, sizeof *ip);
	while (next_attr(&a, &type, &d, &n, &broken)) {
		if (type == WGALLOWEDIP_A_FAMILY) {
			uint16_t f;
			if (n != 2)
				return bad(err, errlen, "allowed IP family size");
			memcpy(&f, d, 2);
			ip->family = f;
			has_family = true;
		} else if (type == WGALLOWEDIP_A_IPADDR) {
			if (n != 4 && n != 16)
				return bad(err, errlen, "allowed IP address size");
			memcpy(ip->addr, d, n);
			addr_len = n;
			has_addr = true;
		} else if (type == WGALLOWEDIP_A_CIDR_MASK) {
			if (n != 1)
				return bad(err, errlen, "allowed IP prefix length size");
			ip->cidr = d[0];
			has_cidr = true;
		}
	}
	if (broken)
		return bad(err, errlen, "allowed IP attribute past its end");
	if (!has_family || !has_addr || !has_cidr)
		return bad(err, errlen, "allowed IP without family, address or length");
	if (!((ip->family == AF_INET && addr_len == 4 && ip->cidr <= 32) ||
	      (ip->family == AF_INET6 && addr_len == 16 && ip->cidr <= 128)))
		return bad(err, errlen, "allowed IP family, address and length disagree");
	return 0;
}

static int add_allowed_ip(const uint8_t *p, size_t len, void *ctx, char *err, size_t errlen)
{
	struct wg_allowed_ip ip;
	int rc = parse_allowed_ip(p, len, &ip, err, errlen);
	if (rc == 0)
		*wg_peer_add_allowed_ip(ctx) = ip;
	return rc;
}

static int parse_peer(const uint8_t *p, size_t len, void *ctx, char *err, size_t errlen)
{
	struct wg_device *dev = ctx;
	struct attrs a = { p, len, 0 };
	uint16_t type;
	const uint8_t *d;
	size_t n;
	bool broken = false;
	/* The public key comes first (the kernel's get_peer); a peer whose key
	 * equals the previous one continues it (allowed IPs split over messages). */
	if (!next_attr(&a, &type, &d, &n, &broken) || type != WGPEER_A_PUBLIC_KEY || n != WG_KEY_LEN)
		return bad(err, errlen, "peer without a public key first");
	struct wg_peer *peer;
	if (dev->npeers && memcmp(dev->peers[dev->npeers - 1].public_key, d, WG_KEY_LEN) == 0) {
		peer = &dev->peers[dev->npeers - 1];
	} else {
		peer = wg_device_add_peer(dev);
		memcpy(peer->public_key, d, WG_KEY_LEN);
	}
	while (next_attr(&a, &type, &d, &n, &broken)) {
		switch (type) {
		case WGPEER_A_PRESHARED_KEY:
			if (n != WG_KEY_LEN)
				return bad(err, errlen, "preshared key size");
			memcpy(peer->preshared_key, d, WG_KEY_LEN);
			break;
		case WGPEER_A_ENDPOINT: {
			sa_family_t f;
			if (n < sizeof f)
				return bad(err, errlen, "endpoint size");
			memcpy(&f, d, sizeof f);
			if ((f == AF_INET && n == sizeof peer->endpoint.in4) || (f == AF_INET6 && n == sizeof peer->endpoint.in6))
				memcpy(&peer->endpoint, d, n);
			else
				return bad(err, errlen, "endpoint family and size disagree");
			break;
		}
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			if (n != 2)
				return bad(err, errlen, "keepalive size");
			memcpy(&peer->keepalive, d, 2);
			break;
		case WGPEER_A_LAST_HANDSHAKE_TIME: {
			int64_t ts[2]; /* struct __kernel_timespec */
			if (n != sizeof ts)
				return bad(err, errlen, "last handshake size");
			memcpy(ts, d, sizeof ts);
			if (ts[0] < 0 || ts[1] < 0 || ts[1] > 999999999)
				return bad(err, errlen, "last handshake out of range");
			peer->last_handshake_sec = ts[0];
			peer->last_handshake_nsec = ts[1];
			break;
		}
		case WGPEER_A_RX_BYTES:
		case WGPEER_A_TX_BYTES:
			if (n != 8)
				return bad(err, errlen, "byte counter size");
			memcpy(type == WGPEER_A_RX_BYTES ? &peer->rx_bytes : &peer->tx_bytes, d, 8);
			break;
		case WGPEER_A_PROTOCOL_VERSION:
			if (n != 4)
				return bad(err, errlen, "protocol version size");
			memcpy(&peer->protocol_version, d, 4);
			break;
		case WGPEER_A_ALLOWEDIPS: {
			int rc = each_nested(d, n, add_allowed_ip, peer, "allowed IP list past its end", err, errlen);
			if (rc < 0)
				return rc;
			break;
		}
		default:
			break; /* padding (type 0) and attributes newer than us */
		}
	}
	return broken ? bad(err, errlen, "peer attribute past its end") : 0;
}

static int parse_device_msg(const uint8_t *p, size_t len, struct wg_device *dev, char *err, size_t errlen)
{
	struct attrs a = { p, len, 0 };
	uint16_t type;
	const uint8_t *d;
	size_t n;
	bool broken = false;
	while (next_attr(&a, &type, &d, &n, &broken)) {
		switch (type) {
		case WGDEVICE_A_IFINDEX:
			if (n != 4)
				return bad(err, errlen, "ifindex size");
			memcpy(&dev->ifindex, d, 4);
			break;
		case WGDEVICE_A_IFNAME:
			if (n == 0 || n > WG_IFNAME_MAX || memchr(d, '\0', n) == NULL)
				return bad(err, errlen, "interface name");
			memcpy(dev->name, d, n);
			break;
		case WGDEVICE_A_PRIVATE_KEY:
		case WGDEVICE_A_PUBLIC_KEY:
			if (n != WG_KEY_LEN)
				return bad(err, errlen, "device key size");
			if (type == WGDEVICE_A_PRIVATE_KEY) {
				memcpy(dev->private_key, d, WG_KEY_LEN);
				dev->has_private_key = true;
			} else {
				memcpy(dev->public_key, d, WG_KEY_LEN);
				dev->has_public_key = true;
			}
			break;
		case WGDEVICE_A_LISTEN_PORT:
			if (n != 2)
				return bad(err, errlen, "listen port size");
			memcpy(&dev->listen_port, d, 2);
			dev->has_listen_port = true;
			break;
		case WGDEVICE_A_FWMARK:
			if (n != 4)
				return bad(err, errlen, "fwmark size");
			memcpy(&dev->fwmark, d, 4);
			dev->has_fwmark = true;
			break;
		case WGDEVICE_A_PEERS: {
			int rc = each_nested(d, n, parse_peer, dev, "peer list past its end", err, errlen);
			if (rc < 0)
				return rc;
			break;
		}
		default:
			break;
		}
	}
	return broken ? bad(err, errlen, "device attribute past its end") : 0;
}

static int error_code(const uint8_t *payload, size_t n)
{
	int32_t e;
	if (n < sizeof e)
		return -EPROTO;
	memcpy(&e, payload, sizeof e);
	return e > 0 || e < -4095 ? -EPROTO : e;
}

int genl_parse_get(const uint8_t *buf, size_t len, uint16_t family, struct wg_device *dev, char *err,
		   size_t errlen)
{
	size_t off = 0;
	while (off + NLMSG_HDRLEN <= len) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof h);
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return bad(err, errlen, "message length");
		const uint8_t *payload = buf + off + NLMSG_HDRLEN;
		size_t n = h.nlmsg_len - NLMSG_HDRLEN;
		off += NLMSG_ALIGN(h.nlmsg_len);
		if (h.nlmsg_flags & NLM_F_DUMP_INTR)
			return -EINTR;
		if (h.nlmsg_type == NLMSG_DONE) {
			/* A dump that failed half-way carries the error in its DONE. */
			int rc = n >= 4 ? error_code(payload, n) : 0;
			if (rc < 0 && rc != -EPROTO) {
				snprintf(err, errlen, "the kernel ended the dump with: %s", strerror(-rc));
				return rc;
			}
			return 1;
		}
		if (h.nlmsg_type == NLMSG_NOOP)
			continue;
		if (h.nlmsg_type == NLMSG_ERROR) {
			int rc = error_code(payload, n);
			if (rc == 0)
				continue; /* the ACK of a dump request */
			if (rc == -EPROTO)
				return bad(err, errlen, "error message size");
			snprintf(err, errlen, "the kernel refused: %s", strerror(-rc));
			return rc;
		}
		if (h.nlmsg_type != family)
			return bad(err, errlen, "message of another family");
		if (n < GENL_HDRLEN)
			return bad(err, errlen, "generic netlink header");
		int rc = parse_device_msg(payload + GENL_HDRLEN, n - GENL_HDRLEN, dev, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (off < len && len - off < NLMSG_HDRLEN)
		return bad(err, errlen, "trailing bytes");
	return 0;
}

int genl_parse_ack(const uint8_t *buf, size_t len)
{
	struct nlmsghdr h;
	if (len < NLMSG_HDRLEN)
		return -EPROTO;
	memcpy(&h, buf, sizeof h);
	if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len || h.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return error_code(buf + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
}
