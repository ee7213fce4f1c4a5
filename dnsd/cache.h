/* The answer cache of dnsd's resolver: upstream responses (from child machines or
 * from the forwarders) keyed by question and by the kind of resolution that got
 * them, so an in-tree answer and a forwarded one never stand in for each other.
 * Pure: no I/O, time is an argument (milliseconds on any monotonic clock), so
 * expiry and TTL arithmetic are unit-tested without sleeping.
 *
 * What is cached (RFC 1035 §7.4, RFC 2308): NOERROR and NXDOMAIN responses without
 * TC, for min TTL of the answer and authority records (an SOA in the authority
 * section counts as min(its TTL, its MINIMUM)), capped at max_ttl. A negative
 * answer (NXDOMAIN, or NOERROR with no answer) needs that SOA, or it is not cached.
 * TTL 0 (or a TTL with the top bit set, RFC 2181 §8) is not cached. On a hit the
 * response comes back with every TTL decremented by the whole seconds it spent
 * here. The cache is bounded by a byte budget (entry overhead included) and evicts
 * the least recently used entries to stay within it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_DEFAULT_MAX_TTL 3600
#define CACHE_DEFAULT_BYTES (4u << 20)

/* Keeps answers of different origins apart. */
enum cache_kind {
	CACHE_KIND_CHILD = 1,   /* resolved inside the tree (RECURSE_CHILD) */
	CACHE_KIND_FORWARD = 2, /* from the forwarders (FORWARD) */
};

struct cache;

struct cache_stats {
	uint64_t hits, misses;
	uint64_t inserts;   /* responses stored (a replaced entry counts again) */
	uint64_t uncacheable; /* cache_put refused by policy (rcode, TC, TTL 0, no SOA, too big) */
	uint64_t evictions; /* entries pushed out to stay within the byte budget */
	uint64_t expired;   /* entries found expired and dropped */
	size_t entries, bytes, max_bytes;
	uint32_t max_ttl;
};

/* max_bytes 0: CACHE_DEFAULT_BYTES; max_ttl 0: CACHE_DEFAULT_MAX_TTL. */
struct cache *cache_new(size_t max_bytes, uint32_t max_ttl);
void cache_free(struct cache *c);

/* Stores resp[0..len) as the answer to (kind, qname, qtype, qclass), replacing any
 * entry for that key; qname is flat wire form in any case (it is lower-cased for
 * the key) and must match the response's question (case-insensitively). Returns 1
 * when stored, 0 when the response is not cacheable (see above; also a response
 * bigger than the whole budget), -EINVAL for bad arguments or a response to another
 * question, -EBADMSG for a malformed response. */
int cache_put(struct cache *c, enum cache_kind kind, const uint8_t *qname, size_t qname_len, uint16_t qtype,
	      uint16_t qclass, const uint8_t *resp, size_t len, int64_t now_ms);

/* Looks up a key; on a hit copies the response into out[0..cap) with its TTLs
 * decremented by the elapsed seconds and returns its length. -ENOENT on a miss
 * (an expired entry is dropped), -ENOSPC when cap is too small (the entry stays),
 * -EINVAL for bad arguments. */
int cache_get(struct cache *c, enum cache_kind kind, const uint8_t *qname, size_t qname_len, uint16_t qtype,
	      uint16_t qclass, int64_t now_ms, uint8_t *out, size_t cap);

/* Drops every entry (counters other than entries and bytes are kept). */
void cache_flush(struct cache *c);

void cache_get_stats(const struct cache *c, struct cache_stats *out);
