/* WireGuard keys: 32 bytes, base64 in the API, the registry and wg-quick
 * files, lower-case hex on the UAPI socket, raw on generic netlink. A key
 * from outside is checked strictly (44 characters of canonical base64, not all
 * zero) and every refusal says which rule it broke. Key pairs come from
 * libsodium: a random private key clamped as X25519 wants it, the public key
 * X25519(private, 9). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg_device.h"

#define WG_KEY_B64_LEN 44 /* without the NUL */
#define WG_KEY_HEX_LEN 64

enum wg_key_error {
	WG_KEY_OK = 0,
	WG_KEY_BAD_LENGTH,  /* not 44 characters (32 bytes) */
	WG_KEY_NOT_BASE64,  /* a character outside base64, or not canonical */
	WG_KEY_ZERO,        /* the all-zero key: no key at all */
};

/* Parses a base64 key. The error says why it was refused. */
enum wg_key_error wg_key_from_base64(const char *text, uint8_t key[WG_KEY_LEN]);
/* "must be 44 characters of base64 (32 bytes)" and so on, for messages. */
const char *wg_key_error_text(enum wg_key_error e);
void wg_key_to_base64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64_LEN + 1]);
void wg_key_to_hex(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_HEX_LEN + 1]);
/* Exactly 64 hex digits (either case). 0 or -EINVAL. */
int wg_key_from_hex(const char *text, size_t len, uint8_t key[WG_KEY_LEN]);
bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN]);

/* Must be called once before generating keys (sodium_init). 0 or -EIO. */
int wg_key_init(void);
/* A new private key: 32 random bytes, clamped (RFC 7748 section 5). */
void wg_key_generate_private(uint8_t priv[WG_KEY_LEN]);
/* A new preshared key: 32 random bytes. */
void wg_key_generate_preshared(uint8_t psk[WG_KEY_LEN]);
/* The public key of priv (X25519 with the base point; priv is clamped first,
 * as WireGuard does). 0, or -EINVAL when the result would be all zero. */
int wg_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
/* Overwrites secrets in a way the compiler keeps (sodium_memzero). */
void wg_key_wipe(void *p, size_t n);
