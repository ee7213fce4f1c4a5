/* wgd's generic netlink codec as a command, for test_wgd_genl.py to hold
 * against wg(8):
 *
 *   wgd_genl_tool set IFNAME < device.uapi > messages
 *       the SET_DEVICE messages for a device (given in the UAPI get form),
 *       with the flags `wg setconf` uses: replace the peers, replace each
 *       peer's allowed IPs, the preshared key and keepalive where given;
 *   wgd_genl_tool get < messages
 *       parses a GET_DEVICE dump and prints it as `wg show IFNAME dump` does.
 *
 * Messages are framed with a 4-byte little-endian length. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "genl_wire.h"
#include "uapi_wire.h"
#include "wg_key.h"

static void read_all(struct arbor_buf *b)
{
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		arbor_buf_append(b, chunk, n);
}

static const char *key_or_none(const uint8_t *k, bool has, char *buf)
{
	if (!has || wg_key_is_zero(k))
		return "(none)";
	wg_key_to_base64(k, buf);
	return buf;
}

int main(int argc, char **argv)
{
	struct arbor_buf in = { 0 };
	read_all(&in);
	struct wg_device d = { 0 };
	char err[256];
	if (argc == 3 && strcmp(argv[1], "set") == 0) {
		int e;
		if (uapi_parse_get(in.data, in.len, &d, &e, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		snprintf(d.name, sizeof d.name, "%s", argv[2]);
		d.replace_peers = true;
		for (size_t i = 0; i < d.npeers; i++) {
			struct wg_peer *p = &d.peers[i];
			p->flags = WG_PEER_REPLACE_ALLOWED_IPS;
			if (!wg_key_is_zero(p->preshared_key))
				p->flags |= WG_PEER_HAS_PRESHARED_KEY;
			if (p->keepalive)
				p->flags |= WG_PEER_HAS_KEEPALIVE;
		}
		struct genl_msgs m;
		if (genl_build_set(&d, 0x1d, 1, GENL_WG_MSG_MAX, &m) != 0)
			return 1;
		for (size_t i = 0; i < m.n; i++) {
			uint32_t n = (uint32_t)m.len[i];
			fwrite(&n, 4, 1, stdout);
			fwrite(m.msg[i], 1, m.len[i], stdout);
		}
		genl_msgs_free(&m);
	} else if (argc == 2 && strcmp(argv[1], "get") == 0) {
		int rc = 0;
		for (size_t off = 0; off + 4 <= in.len && rc == 0;) {
			uint32_t n;
			memcpy(&n, in.data + off, 4);
			off += 4;
			if (n > in.len - off)
				return 1;
			rc = genl_parse_get((const uint8_t *)in.data + off, n, 0x1d, &d, err, sizeof err);
			off += n;
		}
		if (rc != 1) {
			fprintf(stderr, "dump: %d %s\n", rc, err);
			return 1;
		}
		char k1[WG_KEY_B64_LEN + 1], k2[WG_KEY_B64_LEN + 1];
		printf("%s\t%s\t%u\t", key_or_none(d.private_key, d.has_private_key, k1),
		       key_or_none(d.public_key, d.has_public_key, k2), d.listen_port);
		if (d.fwmark)
			printf("0x%x\n", d.fwmark);
		else
			printf("off\n");
		for (size_t i = 0; i < d.npeers; i++) {
			const struct wg_peer *p = &d.peers[i];
			char ep[80];
			wg_endpoint_format(p, ep, sizeof ep);
			printf("%s\t%s\t%s\t", key_or_none(p->public_key, true, k1), key_or_none(p->preshared_key, true, k2),
			       ep[0] ? ep : "(none)");
			for (size_t a = 0; a < p->nallowed_ips; a++) {
				char t[64];
				printf("%s%c", wg_allowed_ip_format(&p->allowed_ips[a], t, sizeof t),
				       a + 1 < p->nallowed_ips ? ',' : '\t');
			}
			if (p->nallowed_ips == 0)
				printf("(none)\t");
			printf("%lld\t%llu\t%llu\t", (long long)p->last_handshake_sec, (unsigned long long)p->rx_bytes,
			       (unsigned long long)p->tx_bytes);
			if (p->keepalive)
				printf("%u\n", p->keepalive);
			else
				printf("off\n");
		}
	} else {
		fprintf(stderr, "usage: wgd_genl_tool set IFNAME < uapi | get < messages\n");
		return 2;
	}
	wg_device_free(&d);
	arbor_buf_free(&in);
	return 0;
}
