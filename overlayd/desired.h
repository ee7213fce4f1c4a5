/* What the kernel should hold, derived from the registry (hub), the
 * assignment (spoke) and the configuration (shims): the input of the planner
 * (plan.h). Pure; the MTU of each VXLAN device comes from the kernel's routes
 * as the caller read them (the underlay route to the far end, minus 50 bytes
 * of VXLAN over IPv4 or 70 over IPv6). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "join_wire.h"
#include "overlayd_config.h"
#include "plan.h"
#include "registry.h"

/* Route protocol number of every route overlayd makes (rtnetlink's
 * rtm_protocol): how reconcile knows its own routes. */
#define OVL_RTPROT 0xa5

#define OVL_VXLAN_OVERHEAD_V4 50
#define OVL_VXLAN_OVERHEAD_V6 70

/* Accumulates the desired state; owns its arrays. */
struct ovl_desired_set {
	struct ovl_desired d;
	size_t cap_links, cap_addrs, cap_routes;
	const char **names; /* link names owned by exact name (NULL-terminated) */
	size_t nnames;
};

void ovl_desired_reset(struct ovl_desired_set *s);
void ovl_desired_free(struct ovl_desired_set *s);

/* The hub's device for spoke id: prefix + the id in base 36 ("ovh1z"). */
void ovl_device_name(const char *prefix, uint32_t id, char out[16]);
/* The id a hub device name stands for, or 0. */
uint32_t ovl_device_id(const char *prefix, const char *name);

/* The MTU for a VXLAN device whose far end is remote: the MTU of the link the
 * main table's longest match for remote leaves by, minus the overhead (routes
 * with protocol ours are ignored: they are the overlay's). 0 when no route. */
unsigned int ovl_underlay_mtu(const struct ovl_kernel *k, const struct arbor_nl_ip *remote, uint8_t ours);

/* The hub: for every spoke this hub serves (hub_name NULL: all), a VXLAN
 * device (VNI = base + id, local = the hub's underlay, remote = the spoke's,
 * the configured port, no learning), the hub's overlay address on it as a /32,
 * IPv4 forwarding, and a route to the spoke's subnet over it. With a shared
 * registry (hub_name set), the spokes of another hub in hubs are routed
 * through that hub's underlay address. */
struct ovl_hub_peer;
void ovl_desired_hub(struct ovl_desired_set *s, const struct ovl_registry *r, const struct ovl_hub_config *h,
		     const char *hub_name, const struct ovl_hub_peer *hubs, size_t nhubs, const struct ovl_kernel *k);

/* The spoke: the bridge with the subnet's first address (forwarding on), the
 * VXLAN device to the hub in it, and a route to the whole overlay through the
 * hub's overlay address. */
void ovl_desired_spoke(struct ovl_desired_set *s, const struct ovl_spoke_config *c, const struct ovl_answer *a,
		       const struct arbor_nl_ip *underlay, const uint8_t direct_mac[6], const struct ovl_kernel *k);

/* With direct spoke-to-spoke forwarding (hub.direct), a spoke also has a VXLAN
 * device on the overlay's shared VNI (base + 0) without a remote: its peers
 * are FDB entries (spoke.c), as flannel does. Its Ethernet address is derived
 * from the spoke's key, so the spoke can tell the hub before creating it. */
void ovl_direct_mac(const uint8_t key[32], uint8_t mac[6]);
/* The address a spoke's direct device carries, and its peers are reached by:
 * its subnet's first address (the network address, as flannel's .0). */
struct in_addr ovl_direct_address(const struct arbor_ipv4_prefix *subnet);

/* The macvlan shims: each on its parent, the host address, routes to the
 * containers' range over it. */
void ovl_desired_shims(struct ovl_desired_set *s, const struct ovl_shim *shims, size_t n);
