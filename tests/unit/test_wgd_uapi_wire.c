/* The UAPI codec: a set request in wireguard-go's order, a get reply as
 * wireguard-go writes it, errno, and malformed replies refused with a line
 * number. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "uapi_wire.h"
#include "wg_key.h"

#define K1 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define K2 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"

static int parse(const char *text, struct wg_device *d, int *e, char *err)
{
	memset(d, 0, sizeof *d);
	return uapi_parse_get(text, strlen(text), d, e, err, 200);
}

int main(void)
{
	struct wg_device d = { .has_private_key = true, .has_listen_port = true, .listen_port = 51820, .replace_peers = true };
	wg_key_from_hex(PRIV, 64, d.private_key);
	struct wg_peer *p = wg_device_add_peer(&d);
	wg_key_from_hex(K1, 64, p->public_key);
	p->flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_KEEPALIVE;
	p->keepalive = 25;
	wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), "10.200.0.2/32", false);
	wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), "fd00:1:2:3::/64", false);
	p = wg_device_add_peer(&d);
	wg_key_from_hex(K2, 64, p->public_key);
	p->flags = WG_PEER_REMOVE;
	struct arbor_buf out = { 0 };
	uapi_build_set(&d, &out);
	const char *want = "set=1\nprivate_key=" PRIV "\nlisten_port=51820\nreplace_peers=true\n"
			   "public_key=" K1 "\npreshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
			   "persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.200.0.2/32\n"
			   "allowed_ip=fd00:1:2:3::/64\npublic_key=" K2 "\nremove=true\n\n";
	CHECK(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0, "set request text and order");
	if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
		printf("# got:\n%s", out.data);
	arbor_buf_free(&out);
	wg_device_free(&d);

	/* A get reply as wireguard-go 0.0.20220316 writes it. */
	const char *reply = "private_key=" PRIV "\nlisten_port=51820\n"
			    "public_key=" K1 "\npreshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
			    "protocol_version=1\nendpoint=192.0.2.7:40123\nlast_handshake_time_sec=1760000000\n"
			    "last_handshake_time_nsec=123456789\ntx_bytes=1184\nrx_bytes=2296\n"
			    "persistent_keepalive_interval=0\nallowed_ip=10.200.0.2/32\nallowed_ip=fd00:1:2:3::2/128\n"
			    "public_key=" K2 "\npreshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
			    "protocol_version=1\nendpoint=[2001:db8::9]:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
			    "tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=25\nerrno=0\n\n";
	CHECK(uapi_reply_length(reply, strlen(reply)) == strlen(reply), "the reply's length is found");
	CHECK(uapi_reply_length(reply, strlen(reply) - 1) == 0, "an incomplete reply needs more");
	int e = 99;
	char err[200] = "";
	CHECK(parse(reply, &d, &e, err) == 0 && e == 0, "a get reply parses");
	CHECK(d.has_private_key && d.has_listen_port && d.listen_port == 51820 && d.npeers == 2, "device fields");
	char text[64];
	CHECK(d.peers[0].last_handshake_sec == 1760000000 && d.peers[0].last_handshake_nsec == 123456789 &&
	      d.peers[0].rx_bytes == 2296 && d.peers[0].tx_bytes == 1184 && d.peers[0].protocol_version == 1, "counters");
	CHECK(strcmp(wg_endpoint_format(&d.peers[0], text, sizeof text), "192.0.2.7:40123") == 0, "IPv4 endpoint");
	CHECK(strcmp(wg_endpoint_format(&d.peers[1], text, sizeof text), "[2001:db8::9]:51820") == 0, "IPv6 endpoint");
	CHECK(d.peers[0].nallowed_ips == 2 &&
	      strcmp(wg_allowed_ip_format(&d.peers[0].allowed_ips[1], text, sizeof text), "fd00:1:2:3::2/128") == 0,
	      "allowed IPs");
	CHECK(d.peers[1].keepalive == 25 && d.peers[1].nallowed_ips == 0, "second peer");
	wg_device_free(&d);

	/* errno. */
	CHECK(parse("errno=-22\n\n", &d, &e, err) == 0 && e == -22 && d.npeers == 0, "errno=-22 on get");
	CHECK(uapi_parse_errno("errno=0\n\n", 9, &e) == 0 && e == 0, "set reply errno=0");
	CHECK(uapi_parse_errno("errno=-98\n\n", 11, &e) == 0 && e == -98, "set reply errno=-98 (port in use)");
	CHECK(uapi_parse_errno("errno=x\n\n", 9, &e) == -EPROTO, "bad errno value");
	CHECK(uapi_parse_errno("errno=0\n", 8, &e) == -EPROTO, "no blank line");

	/* Malformed replies: refused, with the line. */
	const char *bad[] = {
		"listen_port=70000\nerrno=0\n\n",
		"public_key=abc\nerrno=0\n\n",
		"public_key=" K1 "\nrx_bytes=-1\nerrno=0\n\n",
		"public_key=" K1 "\nallowed_ip=10.0.0.1/24\nerrno=0\n\n",
		"public_key=" K1 "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n",
		"garbage\nerrno=0\n\n",
		"listen_port=1\n",
		"errno=0\nlisten_port=1\n\n",
		"\n",
		"public_key=" K1 "\ntx_bytes=99999999999999999999999\nerrno=0\n\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "malformed reply %zu refused", i);
		int rc = parse(bad[i], &d, &e, err);
		CHECK(rc == -EPROTO && strstr(err, "UAPI reply"), what);
		wg_device_free(&d);
	}
	/* Keys we do not know are skipped (a newer wireguard-go). */
	CHECK(parse("new_device_key=1\npublic_key=" K1 "\nnew_peer_key=2\nerrno=0\n\n", &d, &e, err) == 0 && d.npeers == 1,
	      "unknown keys are skipped");
	wg_device_free(&d);
	return tap_done();
}
