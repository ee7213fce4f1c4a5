/* The bodies of the peers API, parsed and checked before anything changes:
 *
 *   POST  /v1/peers       {"interface", "name", "public_key", "preshared_key",
 *                          "allowed_ips", "persistent_keepalive", "expires",
 *                          "enabled"}
 *   PATCH /v1/peers/NAME  {"enabled", "allowed_ips", "persistent_keepalive",
 *                          "expires"}
 *
 * Only name is required (interface when there are several). preshared_key is
 * a base64 key or true (generate one); expires is seconds since the epoch or
 * "YYYY-MM-DDTHH:MM:SSZ" (null in a PATCH: never). Unknown keys and bad values
 * are refused with a message naming the key. Pure: no registry, no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "wg_device.h"

struct peer_create_req {
	char interface[WG_IFNAME_MAX]; /* "" when not given */
	char name[WGD_NAME_MAX + 1];
	bool has_public_key;
	uint8_t public_key[WG_KEY_LEN];
	bool has_psk, generate_psk;
	uint8_t psk[WG_KEY_LEN];
	struct wg_allowed_ip routes[WGD_MAX_PEER_ROUTES];
	size_t nroutes;
	bool has_keepalive;
	uint16_t keepalive;
	int64_t expires; /* 0: never */
	bool enabled;
};

struct peer_patch_req {
	bool has_enabled, enabled;
	bool has_routes;
	struct wg_allowed_ip routes[WGD_MAX_PEER_ROUTES];
	size_t nroutes;
	bool has_keepalive;
	uint16_t keepalive;
	bool has_expires;
	int64_t expires; /* 0: never */
};

/* 0, or -EINVAL with a message in err. */
int peer_request_parse_create(const char *body, size_t len, struct peer_create_req *out, char *err, size_t errlen);
int peer_request_parse_patch(const char *body, size_t len, struct peer_patch_req *out, char *err, size_t errlen);
/* "2026-12-31T23:59:59Z" → seconds. 0 or -EINVAL. */
int peer_request_parse_time(const char *text, int64_t *out);
