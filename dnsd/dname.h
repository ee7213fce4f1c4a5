/* Flat wire-form names for dnsd's hot path: case folding, label splitting and a
 * suffix hash computed right to left, so one pass over a query name gives the hash
 * of every ancestor (the zone lookup, the closest encloser and name compression all
 * probe ancestors). Plus text with an origin ("www" relative to the zone) and the
 * reverse-mapping names. Inputs to the inline helpers must already be checked flat
 * names (dname_check); nothing here allocates. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 255-byte name has at most 127 labels besides the root. */
#define DNAME_MAX_LABELS 127
#define DNAME_HASH_ROOT 2166136261u /* FNV-1a offset basis: the hash of the root */

struct dname_labels {
	unsigned n;                          /* labels besides the root */
	uint8_t off[DNAME_MAX_LABELS];       /* offset of label i's length byte */
	uint32_t hash[DNAME_MAX_LABELS + 1]; /* hash[i]: the suffix from label i on; hash[n]: root */
};

static inline uint8_t dname_lower_byte(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The hash of label.parent from the parent's hash; case-insensitive. */
static inline uint32_t dname_hash_label(uint32_t parent, const uint8_t *label)
{
	uint32_t h = (parent ^ label[0]) * 16777619u;
	for (unsigned i = 1; i <= label[0]; i++)
		h = (h ^ dname_lower_byte(label[i])) * 16777619u;
	return h;
}

/* The length of a checked flat name, root label included. */
static inline size_t dname_len(const uint8_t *wire)
{
	size_t len = 0;
	while (wire[len])
		len += 1 + (size_t)wire[len];
	return len + 1;
}

/* Whether wire[0..len) is exactly one flat name (no pointers). Returns the number of
 * labels besides the root, or -EINVAL. */
int dname_check(const uint8_t *wire, size_t len);

/* Lower-cases a flat name of len bytes into out (may be the same buffer). */
void dname_lower(const uint8_t *in, size_t len, uint8_t *out);

/* Label offsets and suffix hashes of a checked flat name. */
void dname_split(const uint8_t *wire, struct dname_labels *l);

/* The hash of a whole checked flat name (hash[0] of dname_split). */
uint32_t dname_hash(const uint8_t *wire);

/* Case-insensitive equality of two checked flat names. */
bool dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Whether a checked flat name is at or below apex (case-insensitive). */
bool dname_is_below(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len);

/* Text to a flat name relative to origin: "@" is the origin, a name ending in an
 * unescaped dot is absolute, anything else gets the origin appended (origin may be
 * NULL only for absolute names). Returns the wire length, -EINVAL for bad text or a
 * result over 255 bytes, -ENOSPC if cap is too small. */
int dname_from_text(const char *text, const uint8_t *origin, size_t origin_len, uint8_t *out, size_t cap);

/* Reverse-mapping names: for prefixlen 32 (128) the PTR owner of addr
 * ("10.1.168.192.in-addr.arpa."), for a shorter prefix on an octet (nibble) boundary
 * the zone apex covering it ("1.168.192.in-addr.arpa." for a /24,
 * "d.c.b.a.0.0.0.0.d.f.ip6.arpa." for fd00:abcd::/48). Returns the wire length,
 * -EINVAL for a prefix length off the boundary, -ENOSPC if cap is too small. */
int dname_reverse4(const uint8_t addr[4], unsigned prefixlen, uint8_t *out, size_t cap);
int dname_reverse6(const uint8_t addr[16], unsigned prefixlen, uint8_t *out, size_t cap);
