/* The reconcile planner: the kernel state overlayd wants (derived from the
 * registry) against what netlink reports, in, and the smallest list of changes
 * that makes the second the first, out. Nothing to do when all is right. Pure:
 * kernel.c reads the state and carries the plan out.
 *
 * Ownership decides what may be touched, and nothing else is:
 *  - links: a VXLAN link whose name starts with own->link_prefix (the hub's
 *    per-spoke devices), or one of own->link_names (the spoke's device and
 *    bridge, the shims). A link of another kind under one of our names is a
 *    conflict: reported, never changed;
 *  - addresses: the IPv4 addresses on our links;
 *  - routes: those in the main table with protocol own->route_protocol.
 * A VXLAN link whose VNI, addresses, port or learning are wrong is deleted and
 * created again (the kernel cannot change those in place); a wrong MTU, master
 * or a link that is down is corrected in place. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipv4_alloc.h"
#include "netlink.h"

enum ovl_link_kind { OVL_KIND_VXLAN, OVL_KIND_BRIDGE, OVL_KIND_MACVLAN };

struct ovl_want_link {
	char name[16];
	enum ovl_link_kind kind;
	struct arbor_nl_vxlan vx; /* VXLAN: vni, local, remote, port, learning */
	char parent[16];          /* MACVLAN: the parent link */
	unsigned int mtu;         /* 0: whatever the kernel chose */
	char master[16];          /* the bridge it belongs to; "": none */
	bool forwarding;          /* IPv4 forwarding on this link */
	bool has_mac;             /* its Ethernet address is ours to choose */
	uint8_t mac[6];
};

struct ovl_want_addr {
	char link[16];
	struct in_addr addr;
	unsigned int prefixlen;
	bool noprefixroute; /* the route for its subnet is ours, not the kernel's */
};

struct ovl_want_route {
	struct arbor_ipv4_prefix dst;
	char link[16];          /* "": wherever the gateway is */
	struct in_addr gateway; /* 0: directly on the link */
	bool onlink;
};

struct ovl_desired {
	struct ovl_want_link *links;
	size_t nlinks;
	struct ovl_want_addr *addrs;
	size_t naddrs;
	struct ovl_want_route *routes;
	size_t nroutes;
};

/* The kernel as netlink reports it (IPv4 addresses and main-table routes). */
struct ovl_kernel {
	struct arbor_nl_link *links;
	size_t nlinks;
	struct arbor_nl_addr *addrs;
	size_t naddrs;
	struct arbor_nl_route *routes;
	size_t nroutes;
};

struct ovl_ownership {
	const char *link_prefix;        /* NULL: none */
	const char *const *link_names;  /* NULL-terminated, or NULL */
	uint8_t route_protocol;
};

enum ovl_action_kind {
	OVL_ACT_DEL_ROUTE,
	OVL_ACT_DEL_ADDR,
	OVL_ACT_DEL_LINK,
	OVL_ACT_ADD_LINK,
	OVL_ACT_SET_MTU,
	OVL_ACT_SET_MASTER,
	OVL_ACT_SET_FORWARDING,
	OVL_ACT_SET_UP,
	OVL_ACT_ADD_ADDR,
	OVL_ACT_ADD_ROUTE, /* add or replace */
};

/* One change. Links are named (an ifindex is only known for links that exist
 * before the plan runs: ifindex; new links are found by name after creation). */
struct ovl_action {
	enum ovl_action_kind kind;
	int ifindex;                       /* the existing link (DEL_*, SET_*), 0 otherwise */
	const struct ovl_want_link *link;  /* ADD_LINK, SET_* */
	const struct ovl_want_addr *addr;  /* ADD_ADDR */
	const struct ovl_want_route *route; /* ADD_ROUTE */
	struct arbor_nl_addr old_addr;     /* DEL_ADDR */
	struct arbor_nl_route old_route;   /* DEL_ROUTE */
	char why[96];                      /* for the log and drift.repaired */
	size_t order;                      /* position when planned (keeps the sort stable) */
};

struct ovl_conflict {
	char name[16];
	char why[128];
};

/* Actions in the order they must run: removals, links, link settings,
 * addresses, routes. */
struct ovl_plan {
	struct ovl_action *actions;
	size_t nactions;
	struct ovl_conflict *conflicts;
	size_t nconflicts;
	size_t links_created, links_deleted, links_changed, addrs_changed, routes_changed;
};

/* Plans; the plan points into want (keep it alive while the plan runs). */
void ovl_plan_make(const struct ovl_desired *want, const struct ovl_kernel *have, const struct ovl_ownership *own,
		   struct ovl_plan *plan);
void ovl_plan_free(struct ovl_plan *plan);
const char *ovl_action_name(enum ovl_action_kind kind);

bool ovl_owns_link(const struct ovl_ownership *own, const struct arbor_nl_link *l);
