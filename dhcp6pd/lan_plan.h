/* What a LAN is told, computed: pure. From the delegations the uplinks hold, the
 * LAN's persisted subnet id, the machine's ULA /48 and the list of prefixes the
 * LAN was ever told about (persisted, see advertised.h), it numbers the LAN and
 * plans its next router advertisement and its stateless DHCPv6 content.
 *
 * The promise is that nothing here is ever false:
 * - each delegation D gives the LAN D + subnet id as a /64 (the same id after any
 *   renumbering); the ULA /64 sits beside it; the router address is the /64 with
 *   the machine's derived interface id (docs/addressing.md);
 * - PIO lifetimes never exceed what remains of the delegation, are capped at the
 *   LAN's caps (RFC 9096: 2700 s preferred, 5400 s valid), and count down between
 *   RAs: a prefix's "bound" (persisted) is the time until which hosts may hold it,
 *   and every RA advertises exactly what is left of it, raised in steps;
 * - a prefix the LAN was told about and that is no longer current (lost, replaced,
 *   a subnet id that no longer fits) is announced with preferred lifetime 0 and a
 *   valid lifetime counting down to 0 at its bound, also after a restart, because
 *   the bound is on disk; prefixes are compared, not addresses (odhcpd#387);
 * - router lifetime 0 unless the machine has an IPv6 default route and the LAN a
 *   global prefix;
 * - DNS servers that are router addresses in a prefix go with it: the RDNSS of a
 *   deprecated or withdrawn router address has lifetime 0, and stateless DHCPv6
 *   lists only live ones, with an information refresh time no longer than what
 *   remains of their preferred lifetime (at least RFC 8415's 600 s). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp6pd_config.h"
#include "nd_wire.h"

#define LAN_ADV_MAX 16        /* prefixes remembered per LAN (current and withdrawn) */
#define LAN_PREFIXES_MAX 8    /* current prefixes per LAN: the ULA and the delegations */
#define LAN_NEVER 1e18

/* A delegated prefix as an uplink holds it. */
struct lan_delegation {
	struct arbor_prefix6 prefix;
	double preferred_until, valid_until;
};

/* An entry of the advertised list: hosts may hold prefix until bound. */
struct lan_adv {
	struct arbor_prefix6 prefix;
	double bound;
};

struct lan_inputs {
	const struct lan_spec *spec;
	const char *ifname;
	int subnet_id;             /* < 0: none (no GUA, no ULA) */
	bool has_ula;              /* the machine's /48 is known and spec->ula */
	struct in6_addr ula48;
	bool has_iid;
	uint8_t iid[8];            /* the router's interface id */
	const struct lan_delegation *deleg;
	size_t ndeleg;
	bool default_route;        /* the machine has an IPv6 default route */
	bool has_lladdr;
	uint8_t lladdr[6];
	uint32_t link_mtu;
	const char *domain;        /* for the default search list: <ifname>.<domain> */
};

/* A prefix the LAN has now. */
struct lan_current {
	struct arbor_prefix6 prefix;
	struct in6_addr router;    /* the router's address in it (valid when has_iid) */
	double preferred_until, valid_until; /* LAN_NEVER for the ULA */
	bool ula;
	uint32_t preferred, valid; /* what the planned RA says (0 when not sending) */
};

struct lan_withdrawn {
	struct arbor_prefix6 prefix;
	uint32_t valid;            /* what is left until its bound */
};

struct lan_result {
	struct lan_current cur[LAN_PREFIXES_MAX];
	size_t ncur;
	struct lan_withdrawn gone[LAN_ADV_MAX];
	size_t ngone;
	char skipped[LAN_PREFIXES_MAX][96]; /* delegations not numbered, and why */
	size_t nskipped;
	struct nd_ra ra;
	struct in6_addr dns[DHCP6PD_DNS_MAX + LAN_PREFIXES_MAX];
	size_t ndns;
	char search[DHCP6PD_SEARCH_MAX][DHCP6_NAME_TEXT_MAX]; /* copies: a result can be copied */
	size_t nsearch;
	uint32_t info_refresh;
	bool adv_changed;          /* the advertised list changed: persist it before sending */
};

/* The /64 of delegation d for subnet id (< 2^(64 - d.len)). False when it does not
 * fit (then why says so). */
bool lan_subnet_of(const struct arbor_prefix6 *d, int subnet_id, struct arbor_prefix6 *out, char *why, size_t whylen);

/* Plans the LAN at now. With sending, the advertised list (adv[0..*nadv), at most
 * LAN_ADV_MAX) is updated: bounds raised for what the RA will say, ended
 * withdrawals dropped; out->adv_changed tells the caller to persist it first.
 * Without sending (status, numbering) it is left alone. */
void lan_plan(const struct lan_inputs *in, struct lan_adv *adv, size_t *nadv, double now, bool sending,
	      struct lan_result *out);
