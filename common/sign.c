/* Ed25519 keys, signatures and their text forms (see sign.h). */
#include "sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "statefile.h"
#include "xalloc.h"

_Static_assert(crypto_sign_PUBLICKEYBYTES == ARBOR_SIGN_PUBLIC_BYTES, "public key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == 64, "secret key size");
_Static_assert(crypto_sign_BYTES == ARBOR_SIGN_BYTES, "signature size");
_Static_assert(crypto_hash_sha256_BYTES == ARBOR_FINGERPRINT_BYTES, "fingerprint size");

int arbor_sign_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void arbor_sign_key_generate(struct arbor_sign_key *k)
{
	crypto_sign_keypair(k->public_key, k->secret_key);
}

void arbor_sign_key_from_seed(struct arbor_sign_key *k, const uint8_t seed[ARBOR_SIGN_SEED_BYTES])
{
	crypto_sign_seed_keypair(k->public_key, k->secret_key, seed);
}

char *arbor_b64_encode(const void *in, size_t len, char *out, size_t outlen)
{
	if (outlen < ARBOR_B64_LEN(len) + 1) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	sodium_bin2base64(out, outlen, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

bool arbor_b64_decode_exact(const char *text, void *out, size_t want)
{
	if (text == NULL || strlen(text) != ARBOR_B64_LEN(want))
		return false;
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, want, text, strlen(text), NULL, &got, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	return got == want && end != NULL && *end == '\0';
}

/* The key file: {"type":"ed25519","seed":"...","public":"..."}; the public key
 * is there for the operator (and is checked against the seed). */
static int parse_key_file(const char *text, size_t len, struct arbor_sign_key *k, const char **why)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(doc, "seed");
	const cJSON *pub = cJSON_GetObjectItemCaseSensitive(doc, "public");
	uint8_t s[ARBOR_SIGN_SEED_BYTES], p[ARBOR_SIGN_PUBLIC_BYTES];
	int rc = -EINVAL;
	if (doc == NULL)
		*why = "not JSON";
	else if (!cJSON_IsString(type) || strcmp(type->valuestring, "ed25519") != 0)
		*why = "type is not \"ed25519\"";
	else if (!cJSON_IsString(seed) || !arbor_b64_decode_exact(seed->valuestring, s, sizeof s))
		*why = "seed is not 32 bytes of base64";
	else if (!cJSON_IsString(pub) || !arbor_b64_decode_exact(pub->valuestring, p, sizeof p))
		*why = "public is not 32 bytes of base64";
	else {
		arbor_sign_key_from_seed(k, s);
		if (memcmp(k->public_key, p, sizeof p) != 0)
			*why = "public does not match the seed";
		else
			rc = 0;
	}
	sodium_memzero(s, sizeof s);
	cJSON_Delete(doc);
	return rc;
}

int arbor_sign_key_load_or_create(const char *dir, const char *name, struct arbor_sign_key *k, bool *created,
				  char *err, size_t errlen)
{
	*created = false;
	char *text = NULL;
	size_t len = 0;
	int rc = arbor_state_read(dir, name, &text, &len, 4096);
	if (rc == 0) {
		const char *why = "";
		rc = parse_key_file(text, len, k, &why);
		sodium_memzero(text, len);
		free(text);
		if (rc != 0)
			snprintf(err, errlen, "%s/%s: %s (move it away to make a new key; peers that pinned the old one "
				 "will refuse the new one)", dir, name, why);
		return rc;
	}
	if (rc != -ENOENT) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
		return rc;
	}
	arbor_sign_key_generate(k);
	char seed[ARBOR_B64_LEN(32) + 1], pub[ARBOR_B64_LEN(32) + 1];
	arbor_b64_encode(k->secret_key, ARBOR_SIGN_SEED_BYTES, seed, sizeof seed);
	arbor_b64_encode(k->public_key, sizeof k->public_key, pub, sizeof pub);
	char *doc = xasprintf("{\"type\":\"ed25519\",\"seed\":\"%s\",\"public\":\"%s\"}\n", seed, pub);
	rc = arbor_state_write_mode(dir, name, doc, strlen(doc), 0600, err, errlen);
	sodium_memzero(doc, strlen(doc));
	sodium_memzero(seed, sizeof seed);
	free(doc);
	*created = rc == 0;
	return rc;
}

/* context || 0 || msg, in one buffer: Ed25519 signs the whole message. */
static uint8_t *framed(const char *context, const void *msg, size_t len, size_t *total)
{
	size_t clen = strlen(context);
	*total = clen + 1 + len;
	uint8_t *buf = xmalloc(*total);
	memcpy(buf, context, clen + 1);
	if (len)
		memcpy(buf + clen + 1, msg, len);
	return buf;
}

void arbor_sign(const struct arbor_sign_key *k, const char *context, const void *msg, size_t len,
		uint8_t sig[ARBOR_SIGN_BYTES])
{
	size_t total;
	uint8_t *buf = framed(context, msg, len, &total);
	crypto_sign_detached(sig, NULL, buf, total, k->secret_key);
	free(buf);
}

bool arbor_sign_verify(const uint8_t public_key[ARBOR_SIGN_PUBLIC_BYTES], const char *context, const void *msg,
		       size_t len, const uint8_t sig[ARBOR_SIGN_BYTES])
{
	size_t total;
	uint8_t *buf = framed(context, msg, len, &total);
	bool ok = crypto_sign_verify_detached(sig, buf, total, public_key) == 0;
	free(buf);
	return ok;
}

void arbor_sign_fingerprint(const uint8_t public_key[ARBOR_SIGN_PUBLIC_BYTES], uint8_t fp[ARBOR_FINGERPRINT_BYTES])
{
	crypto_hash_sha256(fp, public_key, ARBOR_SIGN_PUBLIC_BYTES);
}
