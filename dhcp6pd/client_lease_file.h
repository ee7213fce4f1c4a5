/* The PD client's lease file, client-<ifname>.json in the state directory:
 *
 *   {"interface": "wan0", "state": "bound", "hint": "2001:db8:100::/56",
 *    "lease": {"server_id": "00:01:...", "start": 1795391845.1, "t1": ..., "t2": ...,
 *              "prefixes": [{"prefix": "2001:db8:100::/56", "preferred": 3600, "valid": 7200,
 *                            "preferred_until": ..., "valid_until": ..., "ends": "2026-...Z"}],
 *              "addresses": [...], "dns_servers": [...], "domain_search": [...]},
 *    "applied": {"unreachable": ["2001:db8:100::/56"], "addresses": ["2001:db8::5/128"]}}
 *
 * Times are Unix seconds (null: infinite). "applied" is what the kernel was given,
 * so a restart removes exactly that when the lease is gone. Replaced atomically. */
#pragma once
#include <cjson/cJSON.h>

#include "dhcp6pd_config.h"
#include "pd_client.h"

#define APPLIED_MAX (PD_PREFIXES_MAX + PD_ADDRS_MAX)

struct uplink_applied {
	struct arbor_prefix6 unreachable[APPLIED_MAX];
	size_t nunreachable;
	struct arbor_prefix6 addresses[APPLIED_MAX]; /* IA_NA addresses, /128 */
	size_t naddresses;
};

cJSON *client_lease_file_encode(const char *ifname, const char *state, const struct pd_lease *l,
				const struct in6_addr *hint, uint8_t hint_len, const struct uplink_applied *ap);
/* Fills what the document holds; a missing or null lease leaves l->valid false.
 * Returns 0, or -EBADMSG with err set for a lease without its required fields.
 * Entries that do not parse are left out (and counted in *skipped, if given). */
int client_lease_file_decode(const cJSON *doc, struct pd_lease *l, struct in6_addr *hint, uint8_t *hint_len,
			     struct uplink_applied *ap, char *err, size_t errlen);
