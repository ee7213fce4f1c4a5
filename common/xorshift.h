/* A small pseudo-random sequence for protocol timing (RFC 2131's and RFC 8415's
 * randomized retransmission, RA delays): xorshift32. Never for anything secret:
 * seed it from the clock and the pid, and a state of 0 is moved off 0. */
#pragma once
#include <stdint.h>

static inline uint32_t arbor_xorshift32(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x ? x : 0x9e3779b9u;
	return *state;
}
