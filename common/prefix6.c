/* IPv6 prefixes (prefix6.h). */
#include "prefix6.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_derive.h"

bool arbor_prefix6_parse(const char *s, struct arbor_prefix6 *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = s ? strchr(s, '/') : NULL;
	if (slash == NULL || (size_t)(slash - s) >= sizeof buf || slash[1] == '\0')
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	char *end = NULL;
	unsigned long l = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || l > 128 || slash[1] < '0' || slash[1] > '9' || inet_pton(AF_INET6, buf, &out->addr) != 1)
		return false;
	out->len = (uint8_t)l;
	for (unsigned bit = out->len; bit < 128; bit++)
		if (out->addr.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

const char *arbor_prefix6_format(const struct arbor_prefix6 *p, char *out, size_t len)
{
	if (arbor_addr_format(&p->addr, p->len, out, len) != 0)
		snprintf(out, len, "?");
	return out;
}

bool arbor_prefix6_equal(const struct arbor_prefix6 *a, const struct arbor_prefix6 *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, 16) == 0;
}

bool arbor_prefix6_same_bits(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	return bits == 0 || ((a->s6_addr[bytes] ^ b->s6_addr[bytes]) & (0xff00 >> bits)) == 0;
}

bool arbor_prefix6_overlaps(const struct arbor_prefix6 *a, const struct arbor_prefix6 *b)
{
	return arbor_prefix6_same_bits(&a->addr, &b->addr, a->len < b->len ? a->len : b->len);
}
