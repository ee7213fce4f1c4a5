/* The UAPI text protocol (see uapi_wire.h). */
#include "uapi_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wg_key.h"

static void key_line(struct arbor_buf *out, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char hex[WG_KEY_HEX_LEN + 1];
	wg_key_to_hex(key, hex);
	arbor_buf_printf(out, "%s=%s\n", name, hex);
	wg_key_wipe(hex, sizeof hex);
}

void uapi_build_set(const struct wg_device *dev, struct arbor_buf *out)
{
	arbor_buf_puts(out, "set=1\n");
	if (dev->has_private_key)
		key_line(out, "private_key", dev->private_key);
	if (dev->has_listen_port)
		arbor_buf_printf(out, "listen_port=%u\n", dev->listen_port);
	if (dev->has_fwmark)
		arbor_buf_printf(out, "fwmark=%" PRIu32 "\n", dev->fwmark);
	if (dev->replace_peers)
		arbor_buf_puts(out, "replace_peers=true\n");
	for (size_t i = 0; i < dev->npeers; i++) {
		const struct wg_peer *p = &dev->peers[i];
		key_line(out, "public_key", p->public_key);
		if (p->flags & WG_PEER_REMOVE) {
			arbor_buf_puts(out, "remove=true\n");
			continue;
		}
		if (p->flags & WG_PEER_UPDATE_ONLY)
			arbor_buf_puts(out, "update_only=true\n");
		if (p->flags & WG_PEER_HAS_PRESHARED_KEY)
			key_line(out, "preshared_key", p->preshared_key);
		if (p->endpoint.sa.sa_family != AF_UNSPEC) {
			char ep[INET6_ADDRSTRLEN + 10];
			arbor_buf_printf(out, "endpoint=%s\n", wg_endpoint_format(p, ep, sizeof ep));
		}
		if (p->flags & WG_PEER_HAS_KEEPALIVE)
			arbor_buf_printf(out, "persistent_keepalive_interval=%u\n", p->keepalive);
		if (p->flags & WG_PEER_REPLACE_ALLOWED_IPS)
			arbor_buf_puts(out, "replace_allowed_ips=true\n");
		for (size_t k = 0; k < p->nallowed_ips; k++) {
			char text[INET6_ADDRSTRLEN + 5];
			arbor_buf_printf(out, "allowed_ip=%s\n", wg_allowed_ip_format(&p->allowed_ips[k], text, sizeof text));
		}
	}
	arbor_buf_puts(out, "\n");
}

size_t uapi_reply_length(const char *buf, size_t len)
{
	if (len >= 1 && buf[0] == '\n')
		return 1; /* an empty reply line: malformed, but complete */
	for (size_t i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return i + 1;
	return 0;
}

/* Whole decimal numbers only: no sign (unless allowed), no spaces, no overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_errno_value(const char *v, size_t n, int *out)
{
	bool neg = n > 0 && v[0] == '-';
	uint64_t u;
	if (!parse_u64(v + neg, n - neg, 4095, &u))
		return false;
	*out = neg ? -(int)u : (int)u;
	return true;
}

static int fail(char *err, size_t errlen, size_t line, const char *what, const char *key, size_t klen)
{
	snprintf(err, errlen, "UAPI reply line %zu: %s (%.*s)", line, what, (int)(klen > 40 ? 40 : klen), key);
	return -EPROTO;
}

#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(key, lit, klen) == 0)

int uapi_parse_get(const char *text, size_t len, struct wg_device *dev, int *uapi_errno, char *err, size_t errlen)
{
	struct wg_peer *peer = NULL;
	size_t pos = 0, lineno = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			return fail(err, errlen, lineno + 1, "no newline at the end", line, len - pos);
		size_t n = (size_t)(nl - line);
		pos += n + 1;
		lineno++;
		if (n == 0)
			return fail(err, errlen, lineno, "blank line before errno", "", 0);
		const char *eq = memchr(line, '=', n);
		if (eq == NULL)
			return fail(err, errlen, lineno, "not key=value", line, n);
		const char *key = line, *v = eq + 1;
		size_t klen = (size_t)(eq - line), vlen = n - klen - 1;
		uint64_t u;
		if (KEY_IS("errno")) {
			if (!parse_errno_value(v, vlen, uapi_errno))
				return fail(err, errlen, lineno, "bad errno", v, vlen);
			if (pos >= len || text[pos] != '\n' || pos + 1 != len)
				return fail(err, errlen, lineno, "errno is not followed by the end of the reply", v, vlen);
			return 0;
		} else if (KEY_IS("private_key")) {
			if (peer || wg_key_from_hex(v, vlen, dev->private_key) != 0)
				return fail(err, errlen, lineno, "bad private_key", key, klen);
			dev->has_private_key = true;
		} else if (KEY_IS("listen_port")) {
			if (peer || !parse_u64(v, vlen, 65535, &u))
				return fail(err, errlen, lineno, "bad listen_port", v, vlen);
			dev->listen_port = (uint16_t)u;
			dev->has_listen_port = true;
		} else if (KEY_IS("fwmark")) {
			if (peer || !parse_u64(v, vlen, UINT32_MAX, &u))
				return fail(err, errlen, lineno, "bad fwmark", v, vlen);
			dev->fwmark = (uint32_t)u;
			dev->has_fwmark = true;
		} else if (KEY_IS("public_key")) {
			uint8_t k[WG_KEY_LEN];
			if (wg_key_from_hex(v, vlen, k) != 0)
				return fail(err, errlen, lineno, "bad public_key", v, vlen);
			peer = wg_device_add_peer(dev);
			memcpy(peer->public_key, k, WG_KEY_LEN);
		} else if (peer == NULL) {
			/* Device keys we do not know are skipped: a newer wireguard-go
			 * may report more than we use. */
			continue;
		} else if (KEY_IS("preshared_key")) {
			if (wg_key_from_hex(v, vlen, peer->preshared_key) != 0)
				return fail(err, errlen, lineno, "bad preshared_key", key, klen);
		} else if (KEY_IS("protocol_version")) {
			if (!parse_u64(v, vlen, UINT32_MAX, &u))
				return fail(err, errlen, lineno, "bad protocol_version", v, vlen);
			peer->protocol_version = (uint32_t)u;
		} else if (KEY_IS("endpoint")) {
			char ep[80];
			if (vlen >= sizeof ep)
				return fail(err, errlen, lineno, "endpoint too long", v, vlen);
			memcpy(ep, v, vlen);
			ep[vlen] = '\0';
			/* An endpoint we cannot represent (a scoped link-local address)
			 * is shown as none rather than failing the whole reply. */
			wg_endpoint_parse(peer, ep);
		} else if (KEY_IS("last_handshake_time_sec")) {
			if (!parse_u64(v, vlen, INT64_MAX, &u))
				return fail(err, errlen, lineno, "bad last_handshake_time_sec", v, vlen);
			peer->last_handshake_sec = (int64_t)u;
		} else if (KEY_IS("last_handshake_time_nsec")) {
			if (!parse_u64(v, vlen, 999999999, &u))
				return fail(err, errlen, lineno, "bad last_handshake_time_nsec", v, vlen);
			peer->last_handshake_nsec = (int64_t)u;
		} else if (KEY_IS("tx_bytes")) {
			if (!parse_u64(v, vlen, UINT64_MAX, &peer->tx_bytes))
				return fail(err, errlen, lineno, "bad tx_bytes", v, vlen);
		} else if (KEY_IS("rx_bytes")) {
			if (!parse_u64(v, vlen, UINT64_MAX, &peer->rx_bytes))
				return fail(err, errlen, lineno, "bad rx_bytes", v, vlen);
		} else if (KEY_IS("persistent_keepalive_interval")) {
			if (!parse_u64(v, vlen, 65535, &u))
				return fail(err, errlen, lineno, "bad persistent_keepalive_interval", v, vlen);
			peer->keepalive = (uint16_t)u;
		} else if (KEY_IS("allowed_ip")) {
			char t[INET6_ADDRSTRLEN + 6];
			struct wg_allowed_ip ip;
			if (vlen >= sizeof t)
				return fail(err, errlen, lineno, "allowed_ip too long", v, vlen);
			memcpy(t, v, vlen);
			t[vlen] = '\0';
			if (wg_allowed_ip_parse(&ip, t, false) != 0)
				return fail(err, errlen, lineno, "bad allowed_ip", v, vlen);
			*wg_peer_add_allowed_ip(peer) = ip;
		}
	}
	snprintf(err, errlen, "UAPI reply ends without an errno line");
	return -EPROTO;
}

int uapi_parse_errno(const char *text, size_t len, int *uapi_errno)
{
	static const char prefix[] = "errno=";
	if (len < sizeof prefix - 1 + 3 || memcmp(text, prefix, sizeof prefix - 1) != 0 ||
	    text[len - 1] != '\n' || text[len - 2] != '\n')
		return -EPROTO;
	const char *v = text + sizeof prefix - 1;
	size_t vlen = len - (sizeof prefix - 1) - 2;
	return parse_errno_value(v, vlen, uapi_errno) ? 0 : -EPROTO;
}
