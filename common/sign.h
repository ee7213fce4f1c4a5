/* Ed25519 identities and signatures (libsodium), for daemons that must
 * authenticate peers over the network by key rather than by address
 * (overlayd's hub and spokes). Also the text forms those keys travel in:
 * unpadded URL-safe base64, and SHA-256 fingerprints.
 *
 * Every signature is over a context string, a NUL and the message, so a
 * signature made for one purpose ("a spoke's request") can never be taken for
 * another ("the hub's answer"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARBOR_SIGN_PUBLIC_BYTES 32
#define ARBOR_SIGN_SEED_BYTES 32
#define ARBOR_SIGN_BYTES 64
#define ARBOR_FINGERPRINT_BYTES 32
/* Characters of unpadded base64 for n bytes, without the NUL. */
#define ARBOR_B64_LEN(n) (((n) * 4 + 2) / 3)

struct arbor_sign_key {
	uint8_t public_key[ARBOR_SIGN_PUBLIC_BYTES];
	uint8_t secret_key[64]; /* libsodium's form: seed then public key */
};

/* Initializes libsodium (once; safe to call again). 0 or -1. */
int arbor_sign_init(void);

/* A new random key. */
void arbor_sign_key_generate(struct arbor_sign_key *k);
/* The key from a 32-byte seed (tests use fixed seeds). */
void arbor_sign_key_from_seed(struct arbor_sign_key *k, const uint8_t seed[ARBOR_SIGN_SEED_BYTES]);
/* Reads <dir>/<name>, or creates it (mode 0600, atomically) with a new key when
 * it does not exist. *created says which. 0, or -errno / -EINVAL (a damaged
 * file is an error, never silently replaced: peers have pinned that key). */
int arbor_sign_key_load_or_create(const char *dir, const char *name, struct arbor_sign_key *k, bool *created,
				  char *err, size_t errlen);

/* Signs context || 0 || msg. */
void arbor_sign(const struct arbor_sign_key *k, const char *context, const void *msg, size_t len,
		uint8_t sig[ARBOR_SIGN_BYTES]);
bool arbor_sign_verify(const uint8_t public_key[ARBOR_SIGN_PUBLIC_BYTES], const char *context, const void *msg,
		       size_t len, const uint8_t sig[ARBOR_SIGN_BYTES]);

/* SHA-256 of the raw public key. */
void arbor_sign_fingerprint(const uint8_t public_key[ARBOR_SIGN_PUBLIC_BYTES], uint8_t fp[ARBOR_FINGERPRINT_BYTES]);

/* Unpadded URL-safe base64 of in into out (ARBOR_B64_LEN(len) + 1 bytes at
 * least); returns out. The signed join API's keys, signatures and tokens use this
 * variant (it goes into tokens and URLs as it is); common/base64.c is the standard
 * alphabet with padding (WireGuard keys, etcd). */
char *arbor_b64_encode(const void *in, size_t len, char *out, size_t outlen);
/* Decodes exactly want bytes from text (unpadded URL-safe base64, nothing
 * else). false when text is not that. */
bool arbor_b64_decode_exact(const char *text, void *out, size_t want);
