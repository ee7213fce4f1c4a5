/* Router Solicitation and Router Advertisement codec (RFC 4861 §4.1-4.2, §4.6;
 * RFC 4191 Route Information; RFC 8106 RDNSS and DNSSL): pure functions over the
 * ICMPv6 payload (type, code, checksum and what follows; the kernel computes and
 * checks the checksum of raw ICMPv6 sockets). Nothing reads past the buffer;
 * malformed input is -EBADMSG with a reason, an output that does not fit -ENOSPC. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134

enum {
	ND_OPT_SOURCE_LLADDR = 1,
	ND_OPT_PREFIX_INFO = 3,
	ND_OPT_MTU = 5,
	ND_OPT_ROUTE_INFO = 24,
	ND_OPT_RDNSS = 25,
	ND_OPT_DNSSL = 31,
};

/* Router preference (RFC 4191 §2.1), as the 2-bit field holds it. */
enum { ND_PREF_MEDIUM = 0, ND_PREF_HIGH = 1, ND_PREF_RESERVED = 2, ND_PREF_LOW = 3 };

#define ND_PREFIXES_MAX 16
#define ND_ROUTES_MAX 8
#define ND_RDNSS_MAX 4        /* RDNSS options (each with its own lifetime) */
#define ND_RDNSS_ADDRS_MAX 4  /* addresses per RDNSS option */
#define ND_DNSSL_MAX 2
#define ND_DNSSL_NAMES_MAX 4
#define ND_NAME_TEXT_MAX 256
#define ND_RA_MAX 1280        /* what we build fits the IPv6 minimum MTU */

struct nd_prefix_info {
	struct in6_addr prefix;
	uint8_t len;
	bool onlink, autonomous;
	uint32_t valid, preferred;
};

struct nd_route_info {
	struct in6_addr prefix;
	uint8_t len;
	uint8_t preference; /* ND_PREF_* */
	uint32_t lifetime;
};

struct nd_rdnss {
	uint32_t lifetime;
	struct in6_addr addr[ND_RDNSS_ADDRS_MAX];
	size_t n;
};

struct nd_dnssl {
	uint32_t lifetime;
	char name[ND_DNSSL_NAMES_MAX][ND_NAME_TEXT_MAX]; /* text, "home.arpa." */
	size_t n;
};

struct nd_ra {
	uint8_t hop_limit;
	bool managed, other;
	uint8_t preference; /* ND_PREF_* */
	uint16_t router_lifetime;
	uint32_t reachable, retrans;
	bool has_lladdr;
	uint8_t lladdr[6];
	bool has_mtu;
	uint32_t mtu;
	struct nd_prefix_info prefix[ND_PREFIXES_MAX];
	size_t nprefix;
	struct nd_route_info route[ND_ROUTES_MAX];
	size_t nroute;
	struct nd_rdnss rdnss[ND_RDNSS_MAX];
	size_t nrdnss;
	struct nd_dnssl dnssl[ND_DNSSL_MAX];
	size_t ndnssl;
	size_t skipped; /* options kept out: unknown, or beyond the limits above */
};

/* Builds the RA's ICMPv6 payload (checksum 0). Returns the length, -ENOSPC when it
 * exceeds cap, or -EINVAL (a prefix length over 128, an RDNSS without addresses,
 * a DNSSL name that is no DNS name). */
int nd_ra_build(const struct nd_ra *ra, uint8_t *buf, size_t cap);
/* Parses an RA (type 134, code 0). Options beyond the limits are counted in
 * skipped. -EBADMSG with a reason for a short message, an option of length 0 or
 * running past the end, or an option whose length its kind cannot have. */
int nd_ra_parse(const uint8_t *buf, size_t len, struct nd_ra *ra, char *err, size_t errlen);

/* Parses a Router Solicitation (type 133, code 0): its Source Link-Layer Address
 * option, if any, into lladdr (*has_lladdr). Same errors as nd_ra_parse. */
int nd_rs_parse(const uint8_t *buf, size_t len, bool *has_lladdr, uint8_t lladdr[6], char *err, size_t errlen);
/* A Router Solicitation (with lladdr when non-NULL), for tests and clients. */
int nd_rs_build(const uint8_t *lladdr, uint8_t *buf, size_t cap);
