/* WireGuard keys (see wg_key.h). */
#include "wg_key.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "base64.h"
#include "hex.h"

enum wg_key_error wg_key_from_base64(const char *text, uint8_t key[WG_KEY_LEN])
{
	size_t len = strlen(text);
	if (len != WG_KEY_B64_LEN)
		return WG_KEY_BAD_LENGTH;
	uint8_t raw[WG_KEY_LEN + 2];
	int n = arbor_base64_decode(text, len, raw, sizeof raw);
	if (n < 0)
		return WG_KEY_NOT_BASE64;
	if (n != WG_KEY_LEN)
		return WG_KEY_BAD_LENGTH;
	if (wg_key_is_zero(raw))
		return WG_KEY_ZERO;
	memcpy(key, raw, WG_KEY_LEN);
	return WG_KEY_OK;
}

const char *wg_key_error_text(enum wg_key_error e)
{
	switch (e) {
	case WG_KEY_OK: return "ok";
	case WG_KEY_BAD_LENGTH: return "must be 44 characters of base64 (32 bytes)";
	case WG_KEY_NOT_BASE64: return "is not valid base64";
	case WG_KEY_ZERO: return "is the all-zero key";
	}
	return "is not a key";
}

void wg_key_to_base64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64_LEN + 1])
{
	arbor_base64_encode(key, WG_KEY_LEN, out);
}

void wg_key_to_hex(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
	out[WG_KEY_HEX_LEN] = '\0';
}

int wg_key_from_hex(const char *text, size_t len, uint8_t key[WG_KEY_LEN])
{
	if (len != WG_KEY_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		int hi = arbor_hex_digit(text[2 * i]), lo = arbor_hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	uint8_t acc = 0;
	for (size_t i = 0; i < WG_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}

int wg_key_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

static void clamp(uint8_t k[WG_KEY_LEN])
{
	k[0] &= 248;
	k[31] = (uint8_t)((k[31] & 127) | 64);
}

void wg_key_generate_private(uint8_t priv[WG_KEY_LEN])
{
	randombytes_buf(priv, WG_KEY_LEN);
	clamp(priv);
}

void wg_key_generate_preshared(uint8_t psk[WG_KEY_LEN])
{
	randombytes_buf(psk, WG_KEY_LEN);
}

int wg_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	uint8_t k[WG_KEY_LEN];
	memcpy(k, priv, WG_KEY_LEN);
	clamp(k);
	int rc = crypto_scalarmult_curve25519_base(pub, k);
	sodium_memzero(k, sizeof k);
	return rc == 0 ? 0 : -EINVAL;
}

void wg_key_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}
