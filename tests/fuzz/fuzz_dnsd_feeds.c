/* libFuzzer harness for what dnsd reads from other daemons' contracts: any
 * bytes as a snapshot and as an events answer, for dhcp4d's leases
 * (lease_set.c), wgd's peers (wg_peers.c) and dhcp6pd's prefixes
 * (prefix_set.c, then the records and reverse zones they make). Refused or
 * applied, never a crash, a leak or a read past the answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lease_set.h"
#include "prefix_set.h"
#include "sources.h"
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
	struct prefix_set prefixes = { 0 };
	since = 0;
	prefix_set_load(&prefixes, copy, size, 1700000000, err, sizeof err);
	prefix_set_apply_events(&prefixes, copy, size, &since, 1700000000, &changed, err, sizeof err);
	struct dnsd_config cfg = { .ttl = 60 };
	struct dnsd_world w = { .cfg = &cfg, .zone = "home.arpa.", .prefixes = prefixes.lans,
				.nprefixes = prefixes.nlans, .now = 1700000000 };
	struct record_list l = { 0 };
	sources_prefixes(&w, &l, err, sizeof err);
	record_list_free(&l);
	char zones[SOURCES_PREFIX_ZONES_MAX][ARBOR_DNS_NAME_TEXT_MAX];
	for (size_t i = 0; i < prefixes.ndelegations; i++)
		sources_reverse_apexes_prefix(&prefixes.delegations[i].prefix, zones, SOURCES_PREFIX_ZONES_MAX);
	prefix_set_expire(&prefixes, 1700000300);
	prefix_set_free(&prefixes);
	free(copy);
	return 0;
}
