/* libFuzzer harness for what dnsd reads from other daemons' contracts: any
 * bytes as a snapshot and as an events answer, for dhcp4d's leases
 * (lease_set.c) and wgd's peers (wg_peers.c). Refused or applied, never a
 * crash, a leak or a read past the answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lease_set.h"
#include "wg_peers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	char err[256];
	bool changed;
	uint64_t since = 0;
	struct wg_peer_set peers = { 0 };
	wg_peer_set_load(&peers, copy, size, err, sizeof err);
	wg_peer_set_apply_events(&peers, copy, size, &since, &changed, err, sizeof err);
	wg_peer_set_free(&peers);
	struct lease_set leases = { 0 };
	since = 0;
	lease_set_load(&leases, copy, size, 1700000000, err, sizeof err);
	lease_set_apply_events(&leases, copy, size, &since, 1700000000, &changed, err, sizeof err);
	lease_set_expire(&leases, 1700000300);
	lease_set_free(&leases);
	free(copy);
	return 0;
}
