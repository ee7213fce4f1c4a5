/* BLAKE3, the hash behind arbor's zero-coordination IPv6 addresses
 * (docs/addressing.md). A portable, scalar implementation written for clarity:
 * one compression function, the chunk state, and the stack of chaining values
 * that builds the binary tree incrementally. Output is extendable (any
 * length). Three modes: hash, keyed hash, and derive_key (the KDF mode arbor
 * uses to domain-separate every input with a fixed context string).
 *
 * The context is a plain struct so callers can keep it on the stack; its
 * fields are private. Hashing never fails and never allocates. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define ARBOR_BLAKE3_OUT_LEN 32
#define ARBOR_BLAKE3_KEY_LEN 32
#define ARBOR_BLAKE3_BLOCK_LEN 64
#define ARBOR_BLAKE3_CHUNK_LEN 1024
/* 2^64 bytes of input are at most 2^54 chunks: one stack entry per tree level. */
#define ARBOR_BLAKE3_MAX_DEPTH 54

struct arbor_blake3_chunk {
	uint32_t cv[8];
	uint64_t counter; /* index of this chunk in the input */
	uint8_t block[ARBOR_BLAKE3_BLOCK_LEN];
	uint8_t block_len;
	uint8_t blocks_compressed;
	uint32_t flags;
};

struct arbor_blake3 {
	uint32_t key[8];
	struct arbor_blake3_chunk chunk;
	uint8_t stack_len;
	uint32_t stack[ARBOR_BLAKE3_MAX_DEPTH][8];
	uint32_t flags; /* mode flags: 0, keyed, or derive-key material */
};

/* Plain hash mode. */
void arbor_blake3_init(struct arbor_blake3 *ctx);
/* Keyed hash mode with a 32-byte key. */
void arbor_blake3_init_keyed(struct arbor_blake3 *ctx, const uint8_t key[ARBOR_BLAKE3_KEY_LEN]);
/* derive_key mode: context is a hard-coded, globally unique, application
 * specific string (e.g. "arbor 2026 machine prefix v1"); the key material is
 * then fed with arbor_blake3_update. */
void arbor_blake3_init_derive_key(struct arbor_blake3 *ctx, const char *context);
void arbor_blake3_update(struct arbor_blake3 *ctx, const void *in, size_t len);
/* Writes outlen bytes of output (any length, 32 is the default). Does not
 * change ctx: more input may follow, and finalize may be called again. */
void arbor_blake3_finalize(const struct arbor_blake3 *ctx, uint8_t *out, size_t outlen);

/* One-shot hash mode. */
void arbor_blake3(const void *in, size_t len, uint8_t *out, size_t outlen);
/* One-shot derive_key mode. */
void arbor_blake3_derive_key(const char *context, const void *material, size_t len, uint8_t *out,
			     size_t outlen);
