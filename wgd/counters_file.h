/* counters.json: each peer's cumulative totals and the device readings they
 * were last folded from (peer_status.h), so totals survive restarts:
 *
 *   {"version": 1, "peers": {"laptop": {"rx": 2296, "tx": 1184,
 *     "seen_rx": 2296, "seen_tx": 1184, "ifindex": 17,
 *     "last_handshake": 1760000000.5, "last_rx_at": 1760000004.2}}}
 *
 * Pure; loaded strictly (a damaged file is an error, never silently zero). */
#pragma once
#include <stddef.h>

#include <cjson/cJSON.h>

#include "peer_status.h"
#include "registry.h"

struct counters_entry {
	char name[WGD_NAME_MAX + 1];
	struct peer_counters c;
};

cJSON *counters_to_json(const struct counters_entry *v, size_t n);
/* A malloc'd array (free()) in *out. 0 or -EINVAL with err naming the key. */
int counters_from_json(const cJSON *doc, struct counters_entry **out, size_t *n, char *err, size_t errlen);
