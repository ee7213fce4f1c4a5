/* Response rate limiting (rrl.h). */
#include "rrl.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dname.h"
#include "xalloc.h"

#define DEFAULT_SLOT_BITS 15
#define TIME_MASK 0xffffffu          /* 24 bits of seconds: 194 days before it wraps */
#define BALANCE_BIAS (1 << 23)       /* the balance is stored as 24 bits, offset by this */
#define CAS_TRIES 8                  /* then the response goes out: never stall a thread */

enum account_kind { KIND_ANSWER = 1, KIND_NEGATIVE, KIND_REFERRAL, KIND_ERROR };

struct rrl {
	struct rrl_params p;
	int64_t floor; /* the lowest balance: -rate x (window - 1), within 24 bits */
	uint64_t k0, k1;
	uint64_t *slots; /* accessed with atomics only */
	size_t mask, bytes;
};

/* ---- SipHash-1-3 (Aumasson and Bernstein), keyed with k0, k1 ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                                  \
	do {                                                                                                       \
		v0 += v1;                                                                                          \
		v1 = rotl(v1, 13) ^ v0;                                                                            \
		v0 = rotl(v0, 32);                                                                                 \
		v2 += v3;                                                                                          \
		v3 = rotl(v3, 16) ^ v2;                                                                            \
		v0 += v3;                                                                                          \
		v3 = rotl(v3, 21) ^ v0;                                                                            \
		v2 += v1;                                                                                          \
		v1 = rotl(v1, 17) ^ v2;                                                                            \
		v2 = rotl(v2, 32);                                                                                 \
	} while (0)

static uint64_t siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	size_t whole = len & ~(size_t)7;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m;
		memcpy(&m, in + i, 8); /* little-endian hosts only matter for the value, not its quality */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = whole; i < len; i++)
		b |= (uint64_t)in[i] << (8 * (i - whole));
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the accounts ---- */

static uint16_t tag_of(uint64_t w)
{
	return (uint16_t)(w >> 48);
}

static int64_t balance_of(uint64_t w)
{
	return (int64_t)((w >> 24) & 0xffffff) - BALANCE_BIAS;
}

static uint32_t time_of(uint64_t w)
{
	return (uint32_t)w & TIME_MASK;
}

static uint64_t pack(uint16_t tag, int64_t balance, uint32_t now)
{
	return (uint64_t)tag << 48 | (uint64_t)(balance + BALANCE_BIAS) << 24 | (now & TIME_MASK);
}

/* Seconds since w was written; 0 when another thread wrote it a second "later"
 * (its clock read came after ours). */
static uint32_t age(uint64_t w, uint32_t now)
{
	uint32_t d = (now - time_of(w)) & TIME_MASK;
	return d > TIME_MASK / 2 ? 0 : d;
}

struct rrl *rrl_new(const struct rrl_params *p, unsigned slot_bits, const uint8_t key[16])
{
	struct rrl *r = xcalloc(1, sizeof *r);
	r->p = *p;
	/* A balance at the floor is paid back after exactly `window` quiet seconds. */
	int64_t floor = -(int64_t)p->responses_per_second * (p->window - 1);
	r->floor = floor < -BALANCE_BIAS ? -BALANCE_BIAS : floor;
	memcpy(&r->k0, key, 8);
	memcpy(&r->k1, key + 8, 8);
	size_t n = (size_t)1 << (slot_bits ? slot_bits : DEFAULT_SLOT_BITS);
	/* Mapped rather than calloc'd: the kernel's zero pages cost no memory until
	 * accounts land on them (calloc from the heap would write every byte). */
	r->bytes = n * sizeof *r->slots;
	r->slots = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->slots == MAP_FAILED) {
		fprintf(stderr, "out of memory: %zu bytes for the rate limiting table\n", r->bytes);
		abort(); /* the allocation policy of xalloc.h */
	}
	r->mask = n - 1;
	return r;
}

void rrl_free(struct rrl *r)
{
	if (r == NULL)
		return;
	munmap(r->slots, r->bytes);
	free(r);
}

static enum account_kind kind_of(const struct dnsd_answer_info *info)
{
	if (info->rcode == ARBOR_DNS_RCODE_NOERROR && info->referral)
		return KIND_REFERRAL;
	if (info->rcode == ARBOR_DNS_RCODE_NXDOMAIN || (info->rcode == ARBOR_DNS_RCODE_NOERROR && info->nodata))
		return KIND_NEGATIVE;
	if (info->rcode == ARBOR_DNS_RCODE_NOERROR)
		return KIND_ANSWER;
	return KIND_ERROR;
}

/* The client's network: its address with the bits past the prefix cleared. */
static size_t put_network(const struct rrl *r, const struct sockaddr *sa, uint8_t *out)
{
	const uint8_t *a;
	unsigned bits;
	memset(out, 0, 17);
	if (sa->sa_family == AF_INET) {
		out[0] = 4;
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		bits = r->p.ipv4_prefix;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		bool mapped = IN6_IS_ADDR_V4MAPPED(a6);
		out[0] = mapped ? 4 : 6;
		a = mapped ? a6->s6_addr + 12 : a6->s6_addr;
		bits = mapped ? r->p.ipv4_prefix : r->p.ipv6_prefix;
	} else {
		return 1;
	}
	memcpy(out + 1, a, bits / 8);
	if (bits % 8)
		out[1 + bits / 8] = a[bits / 8] & (uint8_t)(0xff << (8 - bits % 8));
	return 17;
}

/* The account's slot: the one of its two that holds it, else the empty, stale
 * or less recently used one, which it takes over. */
static uint64_t *slot_for(struct rrl *r, uint64_t h, uint16_t tag, uint32_t now)
{
	uint64_t *a = &r->slots[h & r->mask], *b = &r->slots[(h >> 24) & r->mask];
	uint64_t va = __atomic_load_n(a, __ATOMIC_RELAXED), vb = __atomic_load_n(b, __ATOMIC_RELAXED);
	if (va && tag_of(va) == tag)
		return a;
	if (vb && tag_of(vb) == tag)
		return b;
	if (va == 0)
		return a;
	if (vb == 0)
		return b;
	return age(va, now) >= age(vb, now) ? a : b;
}

enum rrl_verdict rrl_account(struct rrl *r, const struct sockaddr *client, const struct dnsd_answer_info *info,
			     uint32_t now)
{
	uint8_t key[1 + 17 + 2 + ARBOR_DNS_NAME_WIRE_MAX];
	enum account_kind kind = kind_of(info);
	key[0] = (uint8_t)kind;
	size_t k = 1 + put_network(r, client, key + 1);
	if (kind == KIND_ANSWER && info->have_question) {
		key[k++] = (uint8_t)(info->q.qtype >> 8);
		key[k++] = (uint8_t)info->q.qtype;
		dname_lower(info->q.name, info->q.name_len, key + k);
		k += info->q.name_len;
	} else if (kind == KIND_NEGATIVE || kind == KIND_REFERRAL) {
		key[k++] = (uint8_t)((unsigned)info->zone >> 8);
		key[k++] = (uint8_t)info->zone;
	}
	uint64_t h = siphash13(r->k0, r->k1, key, k);
	uint16_t tag = (uint16_t)(h >> 48) ? (uint16_t)(h >> 48) : 1; /* 0 is an empty slot */
	uint64_t *slot = slot_for(r, h, tag, now);
	int64_t rate = r->p.responses_per_second;
	bool send = true;
	for (int tries = 0; tries < CAS_TRIES; tries++) {
		uint64_t old = __atomic_load_n(slot, __ATOMIC_RELAXED);
		int64_t balance = rate;
		if (old && tag_of(old) == tag) {
			balance = balance_of(old) + rate * (int64_t)age(old, now);
			if (balance > rate)
				balance = rate;
		}
		balance--;
		send = balance >= 0;
		if (balance < r->floor)
			balance = r->floor;
		if (__atomic_compare_exchange_n(slot, &old, pack(tag, balance, now), false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	/* Still contended after CAS_TRIES: judged by the balance last seen, not counted. */
	return send ? RRL_SEND : RRL_LIMITED;
}
