/* Reconciling: a missing peer is added, a stray one removed, a changed one
 * updated (update only), an equal one left alone (allowed IPs compared as a
 * set), the interface key and port put back; nothing to do is empty. */
#include <string.h>

#include "reconcile.h"
#include "tap.h"

static struct wg_peer *add(struct wg_device *d, int key, const char *ip1, const char *ip2)
{
	struct wg_peer *p = wg_device_add_peer(d);
	memset(p->public_key, key, 32);
	if (ip1)
		wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), ip1, false);
	if (ip2)
		wg_allowed_ip_parse(wg_peer_add_allowed_ip(p), ip2, false);
	return p;
}

int main(void)
{
	struct wg_device want = { .has_private_key = true, .has_listen_port = true, .listen_port = 51820 };
	memset(want.private_key, 9, 32);
	struct wg_device have = want;
	have.peers = NULL;
	have.npeers = have.peers_cap = 0;
	add(&want, 1, "10.0.0.2/32", "fd00::2/128");
	add(&want, 2, "10.0.0.3/32", NULL);
	add(&want, 3, "10.0.0.4/32", NULL);
	add(&have, 3, "10.0.0.4/32", NULL);          /* the same */
	add(&have, 2, "10.0.0.99/32", NULL);         /* other allowed IPs */
	add(&have, 4, "10.0.0.5/32", NULL);          /* stray */
	add(&have, 1, "fd00::2/128", "10.0.0.2/32"); /* the same, other order */
	have.peers[0].rx_bytes = 99;                 /* counters do not matter */
	struct wg_device out = { 0 };
	struct reconcile_counts c;
	reconcile_diff(&want, &have, &out, &c);
	CHECK(c.added == 0 && c.updated == 1 && c.removed == 1 && !c.device, "one update, one removal");
	CHECK(out.npeers == 2, "two peer operations");
	const struct wg_peer *upd = out.peers[0].flags & WG_PEER_REMOVE ? &out.peers[1] : &out.peers[0];
	const struct wg_peer *rem = out.peers[0].flags & WG_PEER_REMOVE ? &out.peers[0] : &out.peers[1];
	CHECK(upd->public_key[0] == 2 && (upd->flags & WG_PEER_REPLACE_ALLOWED_IPS) && (upd->flags & WG_PEER_UPDATE_ONLY) &&
	      upd->nallowed_ips == 1, "the update replaces its allowed IPs, update only");
	CHECK(rem->public_key[0] == 4 && rem->nallowed_ips == 0, "the stray peer is removed");
	wg_device_free(&out);

	/* A peer removed by hand comes back; a changed key and port are reset. */
	wg_device_free(&have);
	have.listen_port = 40000;
	memset(have.private_key, 8, 32);
	add(&have, 1, "10.0.0.2/32", "fd00::2/128");
	add(&have, 3, "10.0.0.4/32", NULL);
	memset(&out, 0, sizeof out);
	reconcile_diff(&want, &have, &out, &c);
	CHECK(c.added == 1 && c.updated == 0 && c.removed == 0 && c.device, "peer 2 restored, device reset");
	CHECK(out.npeers == 1 && out.peers[0].public_key[0] == 2 && !(out.peers[0].flags & WG_PEER_UPDATE_ONLY) &&
	      (out.peers[0].flags & WG_PEER_HAS_PRESHARED_KEY), "added in full");
	CHECK(out.has_private_key && out.private_key[0] == 9 && out.has_listen_port && out.listen_port == 51820,
	      "key and port put back");
	wg_device_free(&out);

	/* A preshared key or keepalive that differs is an update. */
	wg_device_free(&have);
	have = want;
	have.peers = NULL;
	have.npeers = have.peers_cap = 0;
	add(&have, 1, "10.0.0.2/32", "fd00::2/128")->preshared_key[0] = 1;
	add(&have, 2, "10.0.0.3/32", NULL)->keepalive = 25;
	add(&have, 3, "10.0.0.4/32", NULL);
	memset(&out, 0, sizeof out);
	reconcile_diff(&want, &have, &out, &c);
	CHECK(c.updated == 2 && c.added == 0 && c.removed == 0, "preshared key and keepalive differences are updates");
	wg_device_free(&out);

	/* In step: nothing to do. */
	wg_device_free(&have);
	have = want;
	have.peers = NULL;
	have.npeers = have.peers_cap = 0;
	add(&have, 3, "10.0.0.4/32", NULL);
	add(&have, 1, "10.0.0.2/32", "fd00::2/128");
	add(&have, 2, "10.0.0.3/32", NULL);
	memset(&out, 0, sizeof out);
	reconcile_diff(&want, &have, &out, &c);
	CHECK(reconcile_empty(&out) && c.added + c.updated + c.removed == 0, "nothing to do");
	wg_device_free(&out);
	wg_device_free(&have);
	wg_device_free(&want);
	return tap_done();
}
