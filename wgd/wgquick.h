/* The client's wg-quick(8) file: what `GET /v1/peers/NAME/config` returns and
 * the QR code carries. Usable as it is by wg-quick and the WireGuard apps;
 * `wg setconf` takes it after the wg-quick-only keys (Address, DNS, MTU) are
 * stripped, as `wg-quick strip` does. When the daemon does not hold the
 * client's private key (it left once, when the peer was created), the
 * PrivateKey line is a comment saying so. Pure: text in a buffer. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wg_device.h"

struct wgquick_client {
	const char *comment;            /* first line, after "# " */
	const uint8_t *private_key;     /* NULL: not held */
	const char *const *addresses;   /* "10.200.0.2/32", "fd00::2/128" */
	size_t naddresses;
	const char *const *dns;         /* servers and search domains */
	size_t ndns;
	unsigned mtu;                   /* 0: none */
	const uint8_t *server_public_key;
	const uint8_t *preshared_key;   /* NULL: none */
	const char *endpoint;           /* NULL: none (the client cannot start the tunnel) */
	const char *const *allowed_ips;
	size_t nallowed_ips;
	unsigned keepalive;             /* 0: none */
};

void wgquick_write(const struct wgquick_client *c, struct arbor_buf *out);
