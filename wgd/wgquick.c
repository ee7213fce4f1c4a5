/* The client's wg-quick file (see wgquick.h). */
#include "wgquick.h"

#include "wg_key.h"

static void list_line(struct arbor_buf *out, const char *key, const char *const *v, size_t n)
{
	if (n == 0)
		return;
	arbor_buf_printf(out, "%s = ", key);
	for (size_t i = 0; i < n; i++)
		arbor_buf_printf(out, "%s%s", i ? ", " : "", v[i]);
	arbor_buf_puts(out, "\n");
}

void wgquick_write(const struct wgquick_client *c, struct arbor_buf *out)
{
	char key[WG_KEY_B64_LEN + 1];
	if (c->comment)
		arbor_buf_printf(out, "# %s\n", c->comment);
	arbor_buf_puts(out, "[Interface]\n");
	if (c->private_key) {
		wg_key_to_base64(c->private_key, key);
		arbor_buf_printf(out, "PrivateKey = %s\n", key);
	} else {
		arbor_buf_puts(out, "# PrivateKey = (yours: it was shown once, when this peer was created)\n");
	}
	list_line(out, "Address", c->addresses, c->naddresses);
	list_line(out, "DNS", c->dns, c->ndns);
	if (c->mtu)
		arbor_buf_printf(out, "MTU = %u\n", c->mtu);
	arbor_buf_puts(out, "\n[Peer]\n");
	wg_key_to_base64(c->server_public_key, key);
	arbor_buf_printf(out, "PublicKey = %s\n", key);
	if (c->preshared_key) {
		wg_key_to_base64(c->preshared_key, key);
		arbor_buf_printf(out, "PresharedKey = %s\n", key);
	}
	if (c->endpoint)
		arbor_buf_printf(out, "Endpoint = %s\n", c->endpoint);
	list_line(out, "AllowedIPs", c->allowed_ips, c->nallowed_ips);
	if (c->keepalive)
		arbor_buf_printf(out, "PersistentKeepalive = %u\n", c->keepalive);
	wg_key_wipe(key, sizeof key);
}
