/* The hub's memory of request nonces, so a captured request cannot be
 * replayed. A request's timestamp must lie within the window around the hub's
 * clock; its nonce is remembered until the timestamp has left the window, after
 * which the window check alone refuses it. Pure: time comes in as an argument.
 *
 * The table is hashed with a random key (an attacker picks nonces) and bounded:
 * when it is full of live nonces, new requests are refused rather than old
 * nonces forgotten. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "join_wire.h"

enum ovl_replay_verdict {
	OVL_REPLAY_FRESH,    /* remembered now */
	OVL_REPLAY_STALE,    /* timestamp outside the window */
	OVL_REPLAY_REPLAYED, /* nonce seen before */
	OVL_REPLAY_FULL,     /* too many live nonces: try again later */
};

struct ovl_replay;

/* max_entries: the most nonces held at once (at least 16). */
struct ovl_replay *ovl_replay_new(size_t max_entries);
void ovl_replay_free(struct ovl_replay *c);

enum ovl_replay_verdict ovl_replay_check(struct ovl_replay *c, const uint8_t nonce[OVL_NONCE_BYTES], int64_t ts_ms,
					 int64_t now_ms, int64_t window_ms);
size_t ovl_replay_count(const struct ovl_replay *c);
const char *ovl_replay_verdict_name(enum ovl_replay_verdict v);
