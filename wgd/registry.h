/* The peer registry: the truth the devices follow. Each peer has a name (a DNS
 * label, unique across interfaces: it is the API's key and dnsd's name), its
 * interface, its public key (the private key of a generated pair is never
 * here), an optional preshared key, one address in each family, the routes
 * behind it, its keepalive, enabled, expiry.
 *
 * File (peers.json, mode 0600 because of the preshared keys):
 *   {"version": 1,
 *    "interfaces": {"wg0": {"subnet_id": 3}},
 *    "peers": [{"name": "laptop", "interface": "wg0", "public_key": "base64",
 *               "preshared_key": "base64", "ipv4": "10.200.0.2",
 *               "ipv6": "fd..", "allowed_ips": ["192.168.50.0/24"],
 *               "persistent_keepalive": 25, "enabled": true,
 *               "expires": 1790000000, "created_at": 1760000000,
 *               "key_generated": true, "export_stale": false}]}
 *
 * Addresses: IPv4 is the lowest free address of the interface's subnet (not
 * the network, broadcast or gateway address, not another peer's); IPv6 is the
 * interface's /64 with the interface id derived from the peer's name
 * (docs/addressing.md: host id = the name), as dnsd derives a lease's AAAA.
 * Pure: no I/O (the caller writes the JSON with statefile.h). */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wg_device.h"

#define WGD_NAME_MAX 63
#define WGD_MAX_PEERS 65536
#define WGD_MAX_PEER_ROUTES 64

struct wgd_peer {
	char name[WGD_NAME_MAX + 1];
	char interface[WG_IFNAME_MAX];
	uint8_t public_key[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	bool has_ipv4, has_ipv6;
	struct in_addr ipv4;
	struct in6_addr ipv6;
	struct wg_allowed_ip *routes; /* allowed IPs behind the peer (a site) */
	size_t nroutes;
	uint16_t keepalive;
	bool enabled;
	int64_t expires;    /* seconds since the epoch, 0: never */
	int64_t created_at;
	bool key_generated; /* the daemon made the pair; the private key left once */
	bool export_stale;  /* the interface key changed since the config was exported */
};

struct wgd_iface_record {
	char name[WG_IFNAME_MAX];
	uint16_t subnet_id;
};

struct wgd_registry {
	struct wgd_peer *peers;
	size_t n, cap;
	struct wgd_iface_record *ifaces;
	size_t nifaces;
};

/* A peer name: 1..63 of [a-z0-9-], not starting or ending with '-'. */
bool wgd_peer_name_valid(const char *name);

void wgd_registry_free(struct wgd_registry *r);
struct wgd_peer *wgd_registry_find(const struct wgd_registry *r, const char *name);
struct wgd_peer *wgd_registry_find_key(const struct wgd_registry *r, const uint8_t key[WG_KEY_LEN]);
/* Appends a copy of p (routes copied). */
struct wgd_peer *wgd_registry_add(struct wgd_registry *r, const struct wgd_peer *p);
/* Removes the peer with this name; 0 or -ENOENT. */
int wgd_registry_remove(struct wgd_registry *r, const char *name);
/* Deep copy (for changes that must be undone when the device refuses them). */
void wgd_registry_copy(struct wgd_registry *dst, const struct wgd_registry *src);
void wgd_peer_copy(struct wgd_peer *dst, const struct wgd_peer *src);
void wgd_peer_free(struct wgd_peer *p);

/* The interface's persisted subnet id, 0 when unknown; set records it. */
uint16_t wgd_registry_subnet_id(const struct wgd_registry *r, const char *ifname);
void wgd_registry_set_subnet_id(struct wgd_registry *r, const char *ifname, uint16_t id);

/* The lowest free IPv4 address of net/plen for a new peer on ifname: not the
 * network or broadcast address (for lengths under 31), not gateway, not any
 * peer's. 0 with *out, or -ENOSPC. */
int wgd_registry_alloc_ipv4(const struct wgd_registry *r, const char *ifname, struct in_addr net, unsigned plen,
			    struct in_addr gateway, struct in_addr *out);
/* The IPv6 address of peer name on subnet64: the /64 plus the interface id
 * derived from the name. -EEXIST when another peer or the gateway already has
 * it (a 2^-64 chance, checked anyway). */
int wgd_registry_derive_ipv6(const struct wgd_registry *r, const char *ifname, const struct in6_addr *subnet64,
			     const struct in6_addr *gateway, const char *name, struct in6_addr *out);

/* JSON in the file's shape (with or without the preshared keys). */
cJSON *wgd_registry_to_json(const struct wgd_registry *r);
cJSON *wgd_peer_to_json(const struct wgd_peer *p, bool with_psk);
/* Replaces r with the file's contents, checked strictly: the shape above and
 * nothing else, valid names (no name twice), keys (no key twice), addresses
 * (no address twice on one interface) and numbers. -EINVAL with err naming
 * the key path, and r unchanged. */
int wgd_registry_from_json(struct wgd_registry *r, const cJSON *doc, char *err, size_t errlen);

/* The device's peers as the registry wants them on ifname: every enabled peer
 * that has not expired at now, with its allowed IPs (its addresses and
 * routes), preshared key and flags to replace allowed IPs. */
void wgd_registry_desired(const struct wgd_registry *r, const char *ifname, int64_t now, struct wg_device *out);
/* A peer's allowed IPs on the gateway: its /32, its /128, its routes. */
void wgd_peer_allowed_ips(const struct wgd_peer *p, struct wg_peer *out);
