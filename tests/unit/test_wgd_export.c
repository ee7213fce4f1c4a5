/* The client's wg-quick file, exactly, with and without the private key; the
 * QR code's two drawings (zbarimg reads them back in
 * tests/integration/test_wgd.py). */
#include <stdio.h>
#include <string.h>

#include "qr.h"
#include "tap.h"
#include "wg_key.h"
#include "wgquick.h"

int main(void)
{
	uint8_t priv[32], server[32], psk[32];
	wg_key_from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", 64, priv);
	wg_key_from_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", 64, server);
	memset(psk, 0x11, 32);
	const char *addrs[] = { "10.200.0.2/32", "fd5a:965f:8fee:3:1111:2222:3333:4444/128" };
	const char *dns[] = { "10.200.0.1", "home.arpa" };
	const char *aips[] = { "10.200.0.0/24", "fd5a:965f:8fee:3::/64", "192.168.1.0/24" };
	struct wgquick_client c = {
		.comment = "laptop on wg0 of root.home.arpa",
		.private_key = priv,
		.addresses = addrs, .naddresses = 2,
		.dns = dns, .ndns = 2,
		.mtu = 1420,
		.server_public_key = server,
		.preshared_key = psk,
		.endpoint = "vpn.example.org:51820",
		.allowed_ips = aips, .nallowed_ips = 3,
		.keepalive = 25,
	};
	struct arbor_buf out = { 0 };
	wgquick_write(&c, &out);
	const char *want = "# laptop on wg0 of root.home.arpa\n"
			   "[Interface]\n"
			   "PrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n"
			   "Address = 10.200.0.2/32, fd5a:965f:8fee:3:1111:2222:3333:4444/128\n"
			   "DNS = 10.200.0.1, home.arpa\n"
			   "MTU = 1420\n"
			   "\n[Peer]\n"
			   "PublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
			   "PresharedKey = ERERERERERERERERERERERERERERERERERERERERERE=\n"
			   "Endpoint = vpn.example.org:51820\n"
			   "AllowedIPs = 10.200.0.0/24, fd5a:965f:8fee:3::/64, 192.168.1.0/24\n"
			   "PersistentKeepalive = 25\n";
	CHECK(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0, "the wg-quick file");
	if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
		printf("# got:\n%s", out.data);
	arbor_buf_free(&out);
	c.private_key = NULL;
	c.preshared_key = NULL;
	c.keepalive = 0;
	c.endpoint = NULL;
	wgquick_write(&c, &out);
	CHECK(strstr(out.data, "# PrivateKey = (yours: it was shown once") && !strstr(out.data, "\nPrivateKey") &&
	      !strstr(out.data, "PresharedKey") && !strstr(out.data, "Persistent") && !strstr(out.data, "Endpoint"),
	      "without the private key, preshared key, keepalive and endpoint");

	/* QR: the UTF-8 drawing is a square of (w + 8) columns and (w + 9) / 2
	 * lines with the finder pattern's dark ring at the corner. */
	struct arbor_buf q = { 0 };
	CHECK(qr_render(want, QR_UTF8, &q) == 0, "UTF-8 QR");
	size_t lines = 0, first_len = 0;
	for (char *p = q.data; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	first_len = (size_t)(strchr(q.data, '\n') - q.data) / 3; /* every cell is 3 bytes except spaces */
	CHECK(lines > 20 && first_len > 20, "a square of cells");
	/* Line 2 (modules 4 and 5, below the quiet zone) starts with 4 light
	 * cells, then the finder's dark top edge over a dark cell: a space. */
	char *l2 = q.data;
	for (int i = 0; i < 2; i++)
		l2 = strchr(l2, '\n') + 1;
	CHECK(strncmp(l2, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88 ", 13) == 0, "the finder pattern where it belongs");
	arbor_buf_free(&q);
	CHECK(qr_render(want, QR_SVG, &q) == 0 && strstr(q.data, "<svg") && strstr(q.data, "<path"), "SVG QR");
	arbor_buf_free(&q);
	char big[4000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(qr_render(big, QR_UTF8, &q) < 0, "text too large for a QR code is refused");
	arbor_buf_free(&q);
	arbor_buf_free(&out);
	return tap_done();
}
