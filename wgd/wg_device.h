/* The WireGuard device as both backends see it: what `get` reports (keys,
 * peers, endpoints, handshakes, counters, allowed IPs) and what a `set`
 * changes (the same structure, with flags saying what to replace or remove).
 * The UAPI codec (uapi_wire.h) and the generic netlink codec (genl_wire.h)
 * translate it to and from their wire forms; nothing here does I/O. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN 32
#define WG_IFNAME_MAX 16 /* IFNAMSIZ, with the NUL */

struct wg_allowed_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t cidr;
};

/* Flags of a peer in a set operation. */
enum {
	WG_PEER_REMOVE = 1u << 0,              /* remove this peer */
	WG_PEER_REPLACE_ALLOWED_IPS = 1u << 1, /* its allowed IPs become exactly these */
	WG_PEER_UPDATE_ONLY = 1u << 2,         /* do not create it */
	WG_PEER_HAS_PRESHARED_KEY = 1u << 3,   /* set it (all zero: none) */
	WG_PEER_HAS_KEEPALIVE = 1u << 4,       /* set the persistent keepalive */
};

struct wg_peer {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN]; /* all zero: none */
	unsigned flags;
	/* AF_UNSPEC in endpoint.sa.sa_family: none */
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} endpoint;
	uint16_t keepalive;           /* seconds, 0: off */
	int64_t last_handshake_sec;   /* 0: never */
	int64_t last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	uint32_t protocol_version;
	struct wg_allowed_ip *allowed_ips;
	size_t nallowed_ips, allowed_cap;
};

struct wg_device {
	char name[WG_IFNAME_MAX];
	uint32_t ifindex;
	bool has_private_key, has_public_key;
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
	bool has_listen_port, has_fwmark;
	uint16_t listen_port;
	uint32_t fwmark;
	bool replace_peers; /* set: remove every peer first */
	struct wg_peer *peers;
	size_t npeers, peers_cap;
};

/* Appends a zeroed peer / allowed IP and returns it (xalloc: never NULL). */
struct wg_peer *wg_device_add_peer(struct wg_device *dev);
struct wg_allowed_ip *wg_peer_add_allowed_ip(struct wg_peer *peer);
/* The peer with this public key, or NULL. */
struct wg_peer *wg_device_find_peer(const struct wg_device *dev, const uint8_t key[WG_KEY_LEN]);
void wg_device_free(struct wg_device *dev); /* frees the contents; dev stays usable (empty) */

/* "10.0.0.0/24", "fd00::/64"; a bare address means /32 or /128. Host bits must
 * be zero unless allow_host_bits (a peer's own address with its length, as
 * wg-quick writes Address = 10.0.0.2/24). 0 or -EINVAL. */
int wg_allowed_ip_parse(struct wg_allowed_ip *ip, const char *text, bool allow_host_bits);
/* The text form (INET6_ADDRSTRLEN + 4 bytes is enough); returns buf. */
const char *wg_allowed_ip_format(const struct wg_allowed_ip *ip, char *buf, size_t len);
bool wg_allowed_ip_equal(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b);
/* True if the two prefixes share an address. */
bool wg_allowed_ip_overlap(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b);
/* Orders by family, address, then length (for set comparisons). */
int wg_allowed_ip_cmp(const void *a, const void *b);

/* "192.0.2.1:51820", "[2001:db8::1]:51820" (numeric only). 0 or -EINVAL. */
int wg_endpoint_parse(struct wg_peer *peer, const char *text);
/* The endpoint's text, "" when there is none. */
const char *wg_endpoint_format(const struct wg_peer *peer, char *buf, size_t len);
