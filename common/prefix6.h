/* IPv6 prefixes: an address and a length (delegated prefixes, pools, LAN /64s).
 * Pure. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arbor_prefix6 {
	struct in6_addr addr;
	uint8_t len;
};

/* "2001:db8::/40" → prefix (the bits past the length must be zero). */
bool arbor_prefix6_parse(const char *s, struct arbor_prefix6 *out);
/* RFC 5952 text with "/len"; "?" when it does not fit. out: at least 48 bytes. */
const char *arbor_prefix6_format(const struct arbor_prefix6 *p, char *out, size_t len);
bool arbor_prefix6_equal(const struct arbor_prefix6 *a, const struct arbor_prefix6 *b);
/* Whether the first len bits of a and b agree. */
bool arbor_prefix6_same_bits(const struct in6_addr *a, const struct in6_addr *b, unsigned len);
/* Whether one of a and b holds the other. */
bool arbor_prefix6_overlaps(const struct arbor_prefix6 *a, const struct arbor_prefix6 *b);
