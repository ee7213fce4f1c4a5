/* The record sources' inputs, gathered on the main loop: the config, the
 * machine's interfaces and addresses (netlink, with the persisted subnet ids of
 * subnets6.json), dhcp4d's committed leases (lease_feed.h) and wgd's peers
 * (wg_peers.h). gather_refresh rebuilds the sources asked
 * for (sources.h computes each one's records) and applies them to every serving
 * thread's copy of the zones; a zone whose content changed gets a zone.updated
 * event. A new record source is one row in gather.c's table and one bit here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct dnsd;
struct gather;

/* Which sources to rebuild (a mask). */
enum gather_source {
	GATHER_CONFIG = 1u << 0,     /* static records, listen addresses, declared hosts */
	GATHER_INTERFACES = 1u << 1, /* <ifname>.<zone>: re-reads the interfaces first */
	GATHER_CHILDREN = 1u << 2,   /* delegations and their glue */
	GATHER_LEASES = 1u << 3,     /* <host>.<ifname>.<zone> from dhcp4d's leases */
	GATHER_WG_PEERS = 1u << 4,   /* <peer>.<ifname>.<zone> from wgd's peers */
	/* What depends on the leases: the leases' own records, and children whose glue
	 * may come from a lease. */
	GATHER_FROM_LEASES = GATHER_CHILDREN | GATHER_LEASES,
	GATHER_ALL = GATHER_CONFIG | GATHER_INTERFACES | GATHER_CHILDREN | GATHER_LEASES | GATHER_WG_PEERS,
};

/* Loads the subnet ids and opens netlink. NULL with err. */
struct gather *gather_new(struct dnsd *h, char *err, size_t errlen);
void gather_free(struct gather *g);

void gather_refresh(struct gather *g, unsigned sources, const char *why);
/* Follows dhcp4d's leases and wgd's peers at the configured sockets (at start,
 * once the serving threads run, and after a reload: a new socket starts over). */
void gather_follow(struct gather *g);
/* Reads dhcp4d's leases and wgd's peers again (the renew command); the sources
 * follow when they arrive. */
void gather_reread(struct gather *g);

/* Adds "leases" (how many are bound), "lease_feed" (lease_feed.h), "wg_peers"
 * and "peer_feed" (common/contract_feed.h). */
void gather_status(const struct gather *g, cJSON *obj);
/* Whether a record source has failed, and the last failure. */
bool gather_failed(const struct gather *g, const char **last_error);
