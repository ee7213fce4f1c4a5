/* BLAKE3 (see blake3.h), following the structure of the specification's
 * reference implementation: https://github.com/BLAKE3-team/BLAKE3-specs
 *
 * The input is split into 1024-byte chunks; each chunk is hashed in 64-byte
 * blocks into a chaining value (CV); CVs are merged pairwise into parent nodes
 * up to a single root. The last node (chunk or parent) is compressed with the
 * ROOT flag, and its output is extendable by running the root compression
 * again with a counter.
 *
 * The tree is built incrementally with a stack of CVs: after chunk number
 * n (counting from 1) is complete, merge the top of the stack once for every
 * trailing zero bit of n. A chunk is only known to be complete (not the last
 * one) when more input arrives, so a full chunk waits in the chunk state until
 * then: the final chunk, even if exactly 1024 bytes, must get the ROOT flag
 * (if it is alone) instead of being pushed. The same goes for a full block
 * inside a chunk: it is compressed only when more bytes follow, so the last
 * block gets CHUNK_END. */
#include "blake3.h"

#include <string.h>

enum {
	CHUNK_START = 1 << 0,
	CHUNK_END = 1 << 1,
	PARENT = 1 << 2,
	ROOT = 1 << 3,
	KEYED_HASH = 1 << 4,
	DERIVE_KEY_CONTEXT = 1 << 5,
	DERIVE_KEY_MATERIAL = 1 << 6,
};

static const uint32_t IV[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

/* The message word order for each of the 7 rounds: round r uses the schedule
 * permuted r times by {2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8}. */
static const uint8_t SCHEDULE[7][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8 },
	{ 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1 },
	{ 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6 },
	{ 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4 },
	{ 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7 },
	{ 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13 },
};

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32(uint8_t *p, uint32_t w)
{
	p[0] = (uint8_t)w;
	p[1] = (uint8_t)(w >> 8);
	p[2] = (uint8_t)(w >> 16);
	p[3] = (uint8_t)(w >> 24);
}

static uint32_t rotr(uint32_t w, unsigned n)
{
	return (w >> n) | (w << (32 - n));
}

static void g(uint32_t s[16], int a, int b, int c, int d, uint32_t mx, uint32_t my)
{
	s[a] = s[a] + s[b] + mx;
	s[d] = rotr(s[d] ^ s[a], 16);
	s[c] = s[c] + s[d];
	s[b] = rotr(s[b] ^ s[c], 12);
	s[a] = s[a] + s[b] + my;
	s[d] = rotr(s[d] ^ s[a], 8);
	s[c] = s[c] + s[d];
	s[b] = rotr(s[b] ^ s[c], 7);
}

/* The compression function: the full 16-word output (the first 8 words are
 * the chaining value; all 16 are used for root output). */
static void compress(const uint32_t cv[8], const uint8_t block[ARBOR_BLAKE3_BLOCK_LEN], uint32_t block_len,
		     uint64_t counter, uint32_t flags, uint32_t out[16])
{
	uint32_t m[16], s[16];
	for (int i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	for (int i = 0; i < 8; i++)
		s[i] = cv[i];
	s[8] = IV[0];
	s[9] = IV[1];
	s[10] = IV[2];
	s[11] = IV[3];
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = block_len;
	s[15] = flags;
	for (int r = 0; r < 7; r++) {
		const uint8_t *o = SCHEDULE[r];
		g(s, 0, 4, 8, 12, m[o[0]], m[o[1]]);
		g(s, 1, 5, 9, 13, m[o[2]], m[o[3]]);
		g(s, 2, 6, 10, 14, m[o[4]], m[o[5]]);
		g(s, 3, 7, 11, 15, m[o[6]], m[o[7]]);
		g(s, 0, 5, 10, 15, m[o[8]], m[o[9]]);
		g(s, 1, 6, 11, 12, m[o[10]], m[o[11]]);
		g(s, 2, 7, 8, 13, m[o[12]], m[o[13]]);
		g(s, 3, 4, 9, 14, m[o[14]], m[o[15]]);
	}
	for (int i = 0; i < 8; i++) {
		out[i] = s[i] ^ s[i + 8];
		out[i + 8] = s[i + 8] ^ cv[i];
	}
}

/* A node not yet compressed: either a chunk's last block or a parent. Turned
 * into a CV (non-root) or into output bytes (root). */
struct node {
	uint32_t cv[8];
	uint8_t block[ARBOR_BLAKE3_BLOCK_LEN];
	uint32_t block_len;
	uint64_t counter;
	uint32_t flags;
};

static void node_cv(const struct node *n, uint32_t cv[8])
{
	uint32_t out[16];
	compress(n->cv, n->block, n->block_len, n->counter, n->flags, out);
	memcpy(cv, out, 8 * sizeof(uint32_t));
}

static void node_root_bytes(const struct node *n, uint8_t *out, size_t outlen)
{
	uint64_t block_counter = 0;
	while (outlen > 0) {
		uint32_t words[16];
		uint8_t bytes[ARBOR_BLAKE3_BLOCK_LEN];
		compress(n->cv, n->block, n->block_len, block_counter++, n->flags | ROOT, words);
		for (int i = 0; i < 16; i++)
			store32(bytes + 4 * i, words[i]);
		size_t take = outlen < sizeof bytes ? outlen : sizeof bytes;
		memcpy(out, bytes, take);
		out += take;
		outlen -= take;
	}
}

static void parent_node(const uint32_t left[8], const uint32_t right[8], const uint32_t key[8], uint32_t flags,
			struct node *n)
{
	memcpy(n->cv, key, sizeof n->cv);
	for (int i = 0; i < 8; i++) {
		store32(n->block + 4 * i, left[i]);
		store32(n->block + 32 + 4 * i, right[i]);
	}
	n->block_len = ARBOR_BLAKE3_BLOCK_LEN;
	n->counter = 0;
	n->flags = flags | PARENT;
}

static void chunk_init(struct arbor_blake3_chunk *c, const uint32_t key[8], uint64_t counter, uint32_t flags)
{
	memset(c, 0, sizeof *c);
	memcpy(c->cv, key, sizeof c->cv);
	c->counter = counter;
	c->flags = flags;
}

static size_t chunk_len(const struct arbor_blake3_chunk *c)
{
	return (size_t)c->blocks_compressed * ARBOR_BLAKE3_BLOCK_LEN + c->block_len;
}

static uint32_t chunk_start_flag(const struct arbor_blake3_chunk *c)
{
	return c->blocks_compressed == 0 ? CHUNK_START : 0;
}

/* Adds at most what fits in the chunk. */
static void chunk_update(struct arbor_blake3_chunk *c, const uint8_t *in, size_t len)
{
	while (len > 0) {
		if (c->block_len == ARBOR_BLAKE3_BLOCK_LEN) { /* full, and more follows: not the last block */
			uint32_t out[16];
			compress(c->cv, c->block, ARBOR_BLAKE3_BLOCK_LEN, c->counter, c->flags | chunk_start_flag(c), out);
			memcpy(c->cv, out, sizeof c->cv);
			c->blocks_compressed++;
			c->block_len = 0;
			memset(c->block, 0, sizeof c->block);
		}
		size_t take = ARBOR_BLAKE3_BLOCK_LEN - c->block_len;
		if (take > len)
			take = len;
		memcpy(c->block + c->block_len, in, take);
		c->block_len = (uint8_t)(c->block_len + take);
		in += take;
		len -= take;
	}
}

static void chunk_node(const struct arbor_blake3_chunk *c, struct node *n)
{
	memcpy(n->cv, c->cv, sizeof n->cv);
	memcpy(n->block, c->block, sizeof n->block); /* unused bytes are zero */
	n->block_len = c->block_len;
	n->counter = c->counter;
	n->flags = c->flags | chunk_start_flag(c) | CHUNK_END;
}

static void init_with(struct arbor_blake3 *ctx, const uint32_t key[8], uint32_t flags)
{
	memcpy(ctx->key, key, sizeof ctx->key);
	ctx->flags = flags;
	ctx->stack_len = 0;
	chunk_init(&ctx->chunk, key, 0, flags);
}

void arbor_blake3_init(struct arbor_blake3 *ctx)
{
	init_with(ctx, IV, 0);
}

void arbor_blake3_init_keyed(struct arbor_blake3 *ctx, const uint8_t key[ARBOR_BLAKE3_KEY_LEN])
{
	uint32_t words[8];
	for (int i = 0; i < 8; i++)
		words[i] = load32(key + 4 * i);
	init_with(ctx, words, KEYED_HASH);
}

void arbor_blake3_init_derive_key(struct arbor_blake3 *ctx, const char *context)
{
	/* The context string is hashed on its own (DERIVE_KEY_CONTEXT); its 32-byte
	 * output is the key for hashing the material (DERIVE_KEY_MATERIAL). */
	struct arbor_blake3 c;
	uint8_t context_key[ARBOR_BLAKE3_KEY_LEN];
	uint32_t words[8];
	init_with(&c, IV, DERIVE_KEY_CONTEXT);
	arbor_blake3_update(&c, context, strlen(context));
	arbor_blake3_finalize(&c, context_key, sizeof context_key);
	for (int i = 0; i < 8; i++)
		words[i] = load32(context_key + 4 * i);
	init_with(ctx, words, DERIVE_KEY_MATERIAL);
}

/* Chunk number total_chunks (counting from 1) is complete with this CV. */
static void push_chunk_cv(struct arbor_blake3 *ctx, uint32_t cv[8], uint64_t total_chunks)
{
	while ((total_chunks & 1) == 0) {
		struct node n;
		ctx->stack_len--;
		parent_node(ctx->stack[ctx->stack_len], cv, ctx->key, ctx->flags, &n);
		node_cv(&n, cv);
		total_chunks >>= 1;
	}
	memcpy(ctx->stack[ctx->stack_len], cv, sizeof ctx->stack[0]);
	ctx->stack_len++;
}

void arbor_blake3_update(struct arbor_blake3 *ctx, const void *in, size_t len)
{
	const uint8_t *p = in;
	while (len > 0) {
		if (chunk_len(&ctx->chunk) == ARBOR_BLAKE3_CHUNK_LEN) { /* full, and more follows */
			struct node n;
			uint32_t cv[8];
			chunk_node(&ctx->chunk, &n);
			node_cv(&n, cv);
			uint64_t total = ctx->chunk.counter + 1;
			push_chunk_cv(ctx, cv, total);
			chunk_init(&ctx->chunk, ctx->key, total, ctx->flags);
		}
		size_t take = ARBOR_BLAKE3_CHUNK_LEN - chunk_len(&ctx->chunk);
		if (take > len)
			take = len;
		chunk_update(&ctx->chunk, p, take);
		p += take;
		len -= take;
	}
}

void arbor_blake3_finalize(const struct arbor_blake3 *ctx, uint8_t *out, size_t outlen)
{
	/* The current chunk is the rightmost leaf; fold the stack into it from
	 * the top (the stack is not changed, so ctx stays usable). */
	struct node n;
	chunk_node(&ctx->chunk, &n);
	for (size_t i = ctx->stack_len; i > 0; i--) {
		uint32_t right[8];
		node_cv(&n, right);
		parent_node(ctx->stack[i - 1], right, ctx->key, ctx->flags, &n);
	}
	node_root_bytes(&n, out, outlen);
}

void arbor_blake3(const void *in, size_t len, uint8_t *out, size_t outlen)
{
	struct arbor_blake3 ctx;
	arbor_blake3_init(&ctx);
	arbor_blake3_update(&ctx, in, len);
	arbor_blake3_finalize(&ctx, out, outlen);
}

void arbor_blake3_derive_key(const char *context, const void *material, size_t len, uint8_t *out, size_t outlen)
{
	struct arbor_blake3 ctx;
	arbor_blake3_init_derive_key(&ctx, context);
	arbor_blake3_update(&ctx, material, len);
	arbor_blake3_finalize(&ctx, out, outlen);
}
