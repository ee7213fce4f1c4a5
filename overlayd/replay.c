/* Nonce memory (see replay.h): open addressing with linear probing, keyed
 * SipHash. Expired entries are swept when the table is half full; the table
 * doubles up to its bound. */
#include "replay.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xalloc.h"

struct slot {
	uint8_t nonce[OVL_NONCE_BYTES];
	int64_t expires_ms; /* 0: empty */
};

struct ovl_replay {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t count;
	size_t max_entries;
	int64_t swept_ms; /* when a full table was last swept */
	uint8_t key[crypto_shorthash_KEYBYTES];
};

struct ovl_replay *ovl_replay_new(size_t max_entries)
{
	struct ovl_replay *c = xcalloc(1, sizeof *c);
	c->max_entries = max_entries < 16 ? 16 : max_entries;
	c->cap = 64;
	c->slots = xcalloc(c->cap, sizeof *c->slots);
	randombytes_buf(c->key, sizeof c->key);
	return c;
}

void ovl_replay_free(struct ovl_replay *c)
{
	if (c == NULL)
		return;
	free(c->slots);
	free(c);
}

size_t ovl_replay_count(const struct ovl_replay *c)
{
	return c->count;
}

static size_t slot_of(const struct ovl_replay *c, const uint8_t nonce[OVL_NONCE_BYTES])
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, nonce, OVL_NONCE_BYTES, c->key);
	uint64_t v;
	memcpy(&v, h, sizeof v);
	return (size_t)v & (c->cap - 1);
}

static void put(struct ovl_replay *c, const uint8_t nonce[OVL_NONCE_BYTES], int64_t expires_ms)
{
	size_t i = slot_of(c, nonce);
	while (c->slots[i].expires_ms != 0)
		i = (i + 1) & (c->cap - 1);
	memcpy(c->slots[i].nonce, nonce, OVL_NONCE_BYTES);
	c->slots[i].expires_ms = expires_ms;
	c->count++;
}

/* Rebuilds the table at capacity cap with the entries still alive at now. */
static void rebuild(struct ovl_replay *c, size_t cap, int64_t now_ms)
{
	struct slot *old = c->slots;
	size_t old_cap = c->cap;
	c->slots = xcalloc(cap, sizeof *c->slots);
	c->cap = cap;
	c->count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].expires_ms != 0 && old[i].expires_ms >= now_ms)
			put(c, old[i].nonce, old[i].expires_ms);
	free(old);
}

enum ovl_replay_verdict ovl_replay_check(struct ovl_replay *c, const uint8_t nonce[OVL_NONCE_BYTES], int64_t ts_ms,
					 int64_t now_ms, int64_t window_ms)
{
	if (ts_ms < now_ms - window_ms || ts_ms > now_ms + window_ms)
		return OVL_REPLAY_STALE;
	for (size_t i = slot_of(c, nonce); c->slots[i].expires_ms != 0; i = (i + 1) & (c->cap - 1))
		if (memcmp(c->slots[i].nonce, nonce, OVL_NONCE_BYTES) == 0 && c->slots[i].expires_ms >= now_ms)
			return OVL_REPLAY_REPLAYED;
	/* The nonce must be remembered for as long as its timestamp passes the window. */
	int64_t expires = ts_ms + window_ms;
	if (expires <= 0)
		expires = 1;
	if (c->count + 1 > c->cap / 2) {
		bool at_bound = c->cap / 2 >= c->max_entries;
		/* At the bound, a sweep that frees nothing would repeat for every
		 * request: sweep at most once a second there. */
		if (at_bound && now_ms - c->swept_ms < 1000)
			return OVL_REPLAY_FULL;
		rebuild(c, c->cap, now_ms);
		c->swept_ms = now_ms;
		if (c->count + 1 > c->cap / 2) {
			if (at_bound)
				return OVL_REPLAY_FULL;
			rebuild(c, c->cap * 2, now_ms);
		}
	}
	put(c, nonce, expires);
	return OVL_REPLAY_FRESH;
}

const char *ovl_replay_verdict_name(enum ovl_replay_verdict v)
{
	switch (v) {
	case OVL_REPLAY_FRESH: return "fresh";
	case OVL_REPLAY_STALE: return "timestamp outside the window";
	case OVL_REPLAY_REPLAYED: return "nonce already used";
	case OVL_REPLAY_FULL: return "too many requests in the window";
	}
	return "?";
}
