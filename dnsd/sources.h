/* What each record source contributes, computed from the world as dnsd sees it
 * (config, the machine's interfaces, dhcp4d's leases, the derived IPv6 addresses).
 * Pure: main.c gathers the inputs (netlink, files) and hands each source's list to
 * zone_db_replace_source, so a source can be withdrawn whole. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd_config.h"
#include "lease_set.h"
#include "wg_peers.h"
#include "zone.h"

/* A growing list of records that owns its bytes. */
struct record_list {
	struct zone_record *r;
	size_t n, cap;
	uint8_t **blocks; /* owner+rdata storage per record */
	size_t nblocks;
};
void record_list_free(struct record_list *l);

struct iface_addr {
	char name[16];
	int family;
	uint8_t addr[16];
	int subnet_id; /* for the derived AAAA; < 0: none */
};

struct dnsd_world {
	const struct dnsd_config *cfg;
	const char *zone;       /* absolute text, "home.arpa." */
	const char *machine_id; /* 32 hex, or NULL: no derived IPv6 */
	/* The machine's addresses by interface (one entry per address; an interface
	 * with no IPv4 appears once with family 0 so it still gets its AAAA). */
	const struct iface_addr *ifaces;
	size_t nifaces;
	const struct dhcp_lease *leases; /* dhcp4d's committed, bound leases */
	size_t nleases;
	const struct wg_peer_name *peers; /* wgd's enabled peers */
	size_t npeers;
	/* Subnet id of an interface name for hosts, leases and children (< 0: none). */
	int (*subnet_id)(void *ctx, const char *ifname);
	void *ctx;
	/* The zones that exist: records whose owner would fall outside them are left out. */
	const char *const *reverse_apexes; /* absolute text */
	size_t nreverse;
};

/* The zone apex texts for cfg's reverse networks ("1.168.192.in-addr.arpa.") and,
 * with a machine id, its ULA /48 ("e.e.f.8.f.5.6.9.a.5.d.f.ip6.arpa."). */
int sources_reverse_apex_v4(const struct dnsd_net *net, char *out, size_t len);
int sources_reverse_apex_ula(const char *machine_id, char *out, size_t len);

/* Each returns 0 or -EINVAL with a message naming the record. */
int sources_config(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);
int sources_interfaces(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);
int sources_children(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);
int sources_leases(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);
/* <peer>.<interface>.<zone>: A and AAAA from the addresses wgd gave each peer. */
int sources_wg_peers(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);
