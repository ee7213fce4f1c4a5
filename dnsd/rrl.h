/* Response rate limiting (RRL), as BIND and Knot do it, so that dnsd cannot be
 * used to reflect and amplify traffic at a forged source address: UDP answers to
 * clients outside allow_recursion are counted per account, and an account over
 * its rate gets, instead of its answers, nothing or (every slip-th time) a
 * truncated reply that sends a real client to TCP.
 *
 * An account is the client's network (the address cut to ipv4_prefix or
 * ipv6_prefix bits) and what it is answered: a positive answer counts per name
 * and type, NXDOMAIN and NODATA per zone (so random names do not escape the
 * limit), referrals per zone, errors (REFUSED, FORMERR, ...) together.
 *
 * Each account has a balance in responses: it starts at the rate, each second
 * adds the rate back (up to the rate), each response takes one. A response that
 * would take it below zero is limited; the debt is capped at what `window`
 * seconds pay back, so an account answers again `window` seconds after its flood
 * stops (window 1: a plain per-second limit).
 *
 * The serving threads share one table, lock-free: each account is one 64-bit
 * word (a 16-bit tag of the account's keyed hash, the balance, the second of the
 * last update) changed with compare-and-swap, in one of two slots its hash picks
 * (the stale or older one is taken over when neither holds it). Shared rather
 * than per thread: SO_REUSEPORT spreads a forged flood's random source ports over
 * every thread, so per-thread tables would let threads x rate through; a lock
 * would make every answer to an outside client wait on the others. The hash is
 * SipHash with a random key, so nobody can aim collisions at another's account.
 * The time is an argument (seconds from any fixed start). */
#pragma once
#include <stdint.h>
#include <sys/socket.h>

#include "answer.h"

struct rrl;

struct rrl_params {
	unsigned responses_per_second; /* 1 .. 1,000,000 */
	unsigned window;               /* seconds, 1 .. 3600 */
	unsigned ipv4_prefix, ipv6_prefix;
};

enum rrl_verdict { RRL_SEND, RRL_LIMITED };

/* A table of 2^slot_bits accounts (0: the default, 32768); key: the hash key. */
struct rrl *rrl_new(const struct rrl_params *p, unsigned slot_bits, const uint8_t key[16]);
void rrl_free(struct rrl *r);

/* Counts one response described by info (verdict ANSWERED) to client at now.
 * Safe to call from several threads at once. */
enum rrl_verdict rrl_account(struct rrl *r, const struct sockaddr *client, const struct dnsd_answer_info *info,
			     uint32_t now);
