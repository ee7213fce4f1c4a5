/* WireGuard keys: base64 and hex forms, the three refusals (length, not
 * base64, all zero), X25519 against RFC 7748's vectors, clamping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wg_key.h"

static void from_hex(const char *h, uint8_t k[32])
{
	if (wg_key_from_hex(h, strlen(h), k) != 0) {
		printf("# bad hex in the test\n");
		k[0] = 0;
	}
}

int main(void)
{
	CHECK(wg_key_init() == 0, "libsodium initialises");
	uint8_t priv[32], pub[32], want[32], k[32];
	/* RFC 7748 section 6.1 (Alice and Bob). */
	from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv);
	from_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want);
	CHECK(wg_key_public(pub, priv) == 0 && memcmp(pub, want, 32) == 0, "RFC 7748: Alice's public key");
	from_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", priv);
	from_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want);
	CHECK(wg_key_public(pub, priv) == 0 && memcmp(pub, want, 32) == 0, "RFC 7748: Bob's public key");

	/* Base64 round trip and hex. */
	char b64[WG_KEY_B64_LEN + 1], hex[WG_KEY_HEX_LEN + 1];
	wg_key_to_base64(want, b64);
	CHECK(strlen(b64) == 44 && b64[43] == '=', "44 characters ending in '='");
	CHECK(wg_key_from_base64(b64, k) == WG_KEY_OK && memcmp(k, want, 32) == 0, "base64 round trip");
	wg_key_to_hex(want, hex);
	CHECK(strcmp(hex, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f") == 0, "hex is lower case");
	CHECK(wg_key_from_hex("DE9EDB7D7B7DC1B4D35B61C2ECE435373F8343C85B78674DADFC7E146F882B4F", 64, k) == 0 &&
	      memcmp(k, want, 32) == 0, "upper-case hex is read");
	CHECK(wg_key_from_hex(hex, 63, k) == -EINVAL && wg_key_from_hex("zz", 2, k) == -EINVAL, "bad hex refused");

	/* The refusals, each with its own reason. */
	CHECK(wg_key_from_base64("", k) == WG_KEY_BAD_LENGTH, "empty: length");
	CHECK(wg_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08", k) == WG_KEY_BAD_LENGTH, "43 characters: length");
	CHECK(wg_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08==", k) == WG_KEY_BAD_LENGTH, "45 characters: length");
	CHECK(wg_key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", k) == WG_KEY_BAD_LENGTH, "a 39-byte key: length");
	CHECK(wg_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK0!=", k) == WG_KEY_NOT_BASE64, "'!': not base64");
	CHECK(wg_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx_FG+IK08=", k) == WG_KEY_NOT_BASE64, "URL alphabet: not base64");
	CHECK(wg_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK09=", k) == WG_KEY_NOT_BASE64, "non-zero pad bits: not base64");
	CHECK(wg_key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", k) == WG_KEY_ZERO, "all zero: refused");
	CHECK(strstr(wg_key_error_text(WG_KEY_ZERO), "zero") && strstr(wg_key_error_text(WG_KEY_BAD_LENGTH), "44") &&
	      strstr(wg_key_error_text(WG_KEY_NOT_BASE64), "base64"), "messages say why");

	/* Generated keys are clamped, differ, and have a public key. */
	uint8_t a[32], b[32];
	wg_key_generate_private(a);
	wg_key_generate_private(b);
	CHECK((a[0] & 7) == 0 && (a[31] & 0x80) == 0 && (a[31] & 0x40) != 0, "a generated private key is clamped");
	CHECK(memcmp(a, b, 32) != 0, "two generated keys differ");
	CHECK(wg_key_public(pub, a) == 0 && !wg_key_is_zero(pub), "its public key");
	/* An unclamped private key gives the same public key as its clamped form. */
	uint8_t c[32];
	memcpy(c, a, 32);
	c[0] |= 7;
	c[31] |= 0x80;
	CHECK(wg_key_public(want, c) == 0 && memcmp(want, pub, 32) == 0, "clamping before X25519");
	return tap_done();
}
