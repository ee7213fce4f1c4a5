/* IPv6 addresses and prefixes from text, for the unit tests. */
#pragma once
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "prefix6.h"

static inline struct in6_addr a6(const char *s)
{
	struct in6_addr a;
	if (inet_pton(AF_INET6, s, &a) != 1)
		memset(&a, 0xff, sizeof a);
	return a;
}

static inline bool eq6(const struct in6_addr *a, const char *s)
{
	struct in6_addr b = a6(s);
	return memcmp(a, &b, 16) == 0;
}

/* "2001:db8::/56" (all ones when it is not a prefix). */
static inline struct arbor_prefix6 p6(const char *s)
{
	struct arbor_prefix6 p;
	if (!arbor_prefix6_parse(s, &p))
		memset(&p, 0xff, sizeof p);
	return p;
}
