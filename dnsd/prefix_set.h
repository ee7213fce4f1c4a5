/* dhcp6pd's delegated prefixes as dnsd knows them, kept from dhcp6pd's contract
 * (common/contract_feed.h): the snapshot is GET /v1/prefixes, then each prefix.*
 * event (dhcp6pd emits them only after the change is durable and the LANs were
 * told) carries the LANs as /v1/prefixes shows them and the prefixes its uplink
 * holds now, so applying one replaces what it names and replaying one is
 * harmless. What is kept: each LAN's global /64s (never its ULA /64:
 * that one is derived, sources.h has it) with the router address dhcp6pd put
 * on the interface, the prefixes each uplink holds, and each LAN's subnet id
 * (the ULA /64 the LAN's hosts take from dhcp6pd's RAs has it: dnsd's own
 * derived names there must use the same one). Pure: parsing and applying, time
 * as an argument; prefix_feed.c does the I/O. */
#pragma once
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix6.h"

#define PREFIX_SET_MAX 4096 /* LAN prefixes and delegations each; more are ignored */

struct lan_prefix {
	char interface[16];
	struct arbor_prefix6 prefix; /* the LAN's /64 */
	struct in6_addr router;      /* dhcp6pd's address on it (has_router) */
	bool has_router;
	double valid_until;          /* the delegation's end (HUGE_VAL: infinite) */
};

struct uplink_prefix {
	char interface[16];
	struct arbor_prefix6 prefix; /* as delegated to the uplink */
	double valid_until;
};

struct lan_subnet {
	char interface[16];
	uint16_t subnet_id;
};

struct prefix_set {
	struct lan_prefix *lans;
	size_t nlans;
	struct uplink_prefix *delegations;
	size_t ndelegations;
	struct lan_subnet *subnets; /* every LAN dhcp6pd numbers, prefix or not */
	size_t nsubnets;
};

void prefix_set_free(struct prefix_set *s);

/* Replaces the set with a /v1/prefixes answer ({"delegations":[{interface,
 * prefixes:[{prefix,valid_until}]}], "lans":[{interface, prefixes:[{prefix,
 * router, ula, valid_until}]}]}), keeping what is valid after now. Returns 0, or
 * -EBADMSG with err (the set is then unchanged). */
int prefix_set_load(struct prefix_set *s, const char *json, size_t len, double now, char *err, size_t errlen);

/* Applies a /v1/events answer that follows *since: prefix.bound, .renewed,
 * .changed and .lost replace the LANs and the named uplink's prefixes; other
 * events move the cursor. Returns an enum contract_events_result, or -EBADMSG
 * with err. */
int prefix_set_apply_events(struct prefix_set *s, const char *json, size_t len, uint64_t *since, double now,
			    bool *changed, char *err, size_t errlen);

/* The subnet id dhcp6pd gives the LAN on ifname, or -1. */
int prefix_set_subnet_id(const struct prefix_set *s, const char *ifname);

/* Removes what ended at or before now. Returns whether anything did. */
bool prefix_set_expire(struct prefix_set *s, double now);
/* The earliest end (0 when nothing ends). */
double prefix_set_next_end(const struct prefix_set *s);
