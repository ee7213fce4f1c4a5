/* Reconciling a device with the registry: the registry is the truth, and the
 * device gets exactly the set operation that makes it match — peers missing
 * on the device are added (someone ran `wg set ... remove`, or the device was
 * re-created), peers with other allowed IPs, preshared key or keepalive are
 * updated, peers the registry does not know are removed, and the interface
 * key and port are put back. Pure: the caller reads the device (get) and
 * applies the result (set). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "wg_device.h"

struct reconcile_counts {
	size_t added, updated, removed;
	bool device; /* the private key or the port changed */
};

/* desired: the interface key and port (has_*), and the peers as
 * wgd_registry_desired lists them. actual: what the device reports. The set
 * operation goes into out (empty at first: out->npeers == 0 and no has_*
 * means nothing to do). Peers are compared by public key; endpoints and
 * counters are the device's own business. */
void reconcile_diff(const struct wg_device *desired, const struct wg_device *actual, struct wg_device *out,
		    struct reconcile_counts *counts);
/* True when out holds nothing to apply. */
bool reconcile_empty(const struct wg_device *out);
