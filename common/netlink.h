/*
 * netlink.h: the kernel's links, addresses and routes, read and changed over rtnetlink.
 *
 * Every arbor daemon that touches interfaces does it through these few calls (libnl-route-3
 * underneath), never by running ip(8): errors come back as errno values with a message that
 * names what was being done, and a monitor reports link and address changes to whatever event
 * loop the daemon runs.
 *
 * Error convention: calls that return int give 0 (or a count or an index) on success and a
 * negative errno value on failure, the kernel's own errno where the kernel refused (-EEXIST,
 * -ESRCH, -ENODEV, -EPERM, ...). arbor_nl_error() then describes the failure ("add route
 * 198.51.100.0/24 via 192.0.2.254: Network is unreachable"); it is empty after a call that
 * succeeded. The open calls take an optional err/errlen buffer for the same purpose.
 *
 * A struct arbor_nl or arbor_nl_monitor is used from one thread at a time.
 */
#ifndef ARBOR_NETLINK_H
#define ARBOR_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* An IPv4 or IPv6 address. family is AF_INET or AF_INET6; AF_UNSPEC (0) means "none". */
struct arbor_nl_ip {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* Parse "192.0.2.1" or "2001:db8::1" (no prefix length). 0 or -EINVAL. */
int arbor_nl_ip_parse(struct arbor_nl_ip *ip, const char *text);
/* Write ip in text form into buf (INET6_ADDRSTRLEN is enough); returns buf ("none" for
 * AF_UNSPEC, "?" for an unknown family). */
const char *arbor_nl_ip_format(const struct arbor_nl_ip *ip, char *buf, size_t buflen);

/* A route socket (rtnetlink). NULL on failure, with errno set and err filled if given. */
struct arbor_nl *arbor_nl_open(char *err, size_t errlen);
void arbor_nl_close(struct arbor_nl *nl);
/* What the last call on nl failed on; "" if it succeeded. Valid until the next call. */
const char *arbor_nl_error(const struct arbor_nl *nl);

/* ---- links ---- */

/* A VXLAN device's own attributes (IFLA_INFO_DATA). */
struct arbor_nl_vxlan {
	uint32_t vni;
	struct arbor_nl_ip local;	/* source of the encapsulated packets; AF_UNSPEC: none */
	struct arbor_nl_ip remote;	/* the unicast remote (IFLA_VXLAN_GROUP/GROUP6); AF_UNSPEC: none */
	uint16_t port;			/* destination UDP port, host order (Linux's default is 8472:
					 * always set it) */
	bool learning;
	int link;			/* underlay ifindex; 0: none */
};

struct arbor_nl_link {
	int index;
	char name[16];			/* IFNAMSIZ */
	unsigned int flags;		/* IFF_* as the kernel reports them */
	bool up;			/* IFF_UP: administratively up */
	bool lower_up;			/* IFF_LOWER_UP: carrier, the link can pass packets */
	unsigned int mtu;
	char kind[32];			/* IFLA_INFO_KIND ("bridge", "vxlan", ...); "" if none */
	bool has_mac;
	uint8_t mac[6];			/* when has_mac: the link's Ethernet address */
	int master_index;		/* bridge or bond the link is enslaved to; 0 if none */
	int lower_index;		/* the link it sits on (IFLA_LINK: a macvlan's parent); 0 if none */
	bool is_vxlan;			/* kind "vxlan", with its attributes in vxlan */
	struct arbor_nl_vxlan vxlan;
	bool ipv4_forwarding_known;	/* the link's IPv4 devconf was in the message */
	bool ipv4_forwarding;		/* net.ipv4.conf.<link>.forwarding */
};

/* The ifindex (> 0) of ifname, or -ENODEV if there is no such link. */
int arbor_nl_link_index(struct arbor_nl *nl, const char *ifname);
int arbor_nl_link_set_up(struct arbor_nl *nl, int ifindex, bool up);
int arbor_nl_link_set_mtu(struct arbor_nl *nl, int ifindex, unsigned int mtu);
/* Create a link of kind ("wireguard", "bridge", ...), down. Returns its ifindex,
 * -EEXIST if name is taken, -EOPNOTSUPP when the kernel has no such kind. */
int arbor_nl_link_add(struct arbor_nl *nl, const char *name, const char *kind);
/* Create a bridge (down, no ports). Returns its ifindex, -EEXIST if name is taken. */
int arbor_nl_bridge_add(struct arbor_nl *nl, const char *name);
int arbor_nl_link_delete(struct arbor_nl *nl, int ifindex);
/* Create a VXLAN device with its MTU (0: the kernel's), its Ethernet address (NULL: a
 * random one) and up or not. No remote (AF_UNSPEC) makes a device whose peers are FDB
 * entries. Returns 0 (not the ifindex: in a batch it is not known yet), -EEXIST if name
 * is taken. */
int arbor_nl_vxlan_add(struct arbor_nl *nl, const char *name, const struct arbor_nl_vxlan *vx,
		       unsigned int mtu, const uint8_t *mac, bool up);
/* Create a macvlan device in bridge mode on parent. 0 or a negative errno, as above. */
int arbor_nl_macvlan_add(struct arbor_nl *nl, const char *name, int parent_ifindex, bool up);
/* Enslave ifindex to the bridge master_ifindex (0: release it). */
int arbor_nl_link_set_master(struct arbor_nl *nl, int ifindex, int master_ifindex);
/* net.ipv4.conf.<link>.forwarding, over netlink (IFLA_AF_SPEC): no sysctl write needed. */
int arbor_nl_link_set_ipv4_forwarding(struct arbor_nl *nl, int ifindex, bool on);
/* All links, into a malloc'd array the caller frees with free() (NULL when *n is 0). */
int arbor_nl_links(struct arbor_nl *nl, struct arbor_nl_link **out, size_t *n);

/* ---- addresses ---- */

struct arbor_nl_addr {
	int ifindex;
	struct arbor_nl_ip addr;	/* the local address */
	unsigned int prefixlen;
	unsigned int flags;		/* IFA_F_* (IFA_F_TENTATIVE, IFA_F_DADFAILED, ...) */
	uint8_t scope;			/* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST */
};

/* Options for arbor_nl_addr_add; NULL means all defaults (zero values). */
struct arbor_nl_addr_opts {
	const struct in_addr *broadcast;	/* IPv4 broadcast address; NULL: none */
	uint32_t valid_lft;		/* seconds; 0: forever */
	uint32_t preferred_lft;		/* seconds, at most valid_lft; 0: same as valid_lft */
	bool nodad;			/* IPv6: usable at once, no duplicate address detection */
	bool replace;			/* update an existing address (lifetimes) instead of -EEXIST */
};

/* Add addr/prefixlen (1..32 or 1..128) to ifindex; -EEXIST if it is there (unless replace). */
int arbor_nl_addr_add(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *addr,
		      unsigned int prefixlen, const struct arbor_nl_addr_opts *opts);
/* -EADDRNOTAVAIL if the address is not on the link. */
int arbor_nl_addr_delete(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *addr,
			 unsigned int prefixlen);
/* Addresses of family (AF_INET, AF_INET6, AF_UNSPEC for both) on ifindex (0 for all links),
 * into a malloc'd array the caller frees with free(). */
int arbor_nl_addrs(struct arbor_nl *nl, int family, int ifindex, struct arbor_nl_addr **out,
		   size_t *n);

/* ---- routes ---- */

/*
 * A route, as given to add/delete and as listed. For add, zero fields take the defaults below;
 * for delete, zero fields match any route (the kernel deletes the first that matches).
 */
struct arbor_nl_route {
	struct arbor_nl_ip dst;		/* its family selects IPv4 or IPv6 */
	unsigned int prefixlen;		/* 0 with an all-zero dst: the default route */
	struct arbor_nl_ip gateway;	/* AF_UNSPEC: none (a directly connected route); an IPv6
					 * link-local gateway needs ifindex */
	int ifindex;			/* 0: none given (the kernel finds it from the gateway) */
	uint32_t metric;		/* 0: the kernel's default (0 for IPv4, 1024 for IPv6) */
	uint32_t table;			/* 0: RT_TABLE_MAIN */
	uint8_t protocol;		/* RTPROT_*; 0: RTPROT_STATIC on add */
	uint8_t type;			/* RTN_*; 0: RTN_UNICAST on add. RTN_UNREACHABLE with no
					 * gateway and no ifindex: a reject route (RFC 7084 WPD-5) */
	unsigned int nexthops;		/* listed: number of next hops (gateway and ifindex are the
					 * first one's); ignored on add and delete */
	bool onlink;			/* RTNH_F_ONLINK: the gateway is on the link, whatever
					 * its addresses say */
};

/* -EEXIST if the same route is there. */
int arbor_nl_route_add(struct arbor_nl *nl, const struct arbor_nl_route *route);
/* Add, or replace the route with the same destination, table and metric. */
int arbor_nl_route_replace(struct arbor_nl *nl, const struct arbor_nl_route *route);
/* -ESRCH if no route matches. */
int arbor_nl_route_delete(struct arbor_nl *nl, const struct arbor_nl_route *route);
/* One change of a batch: add or replace route (del false), or delete it. */
struct arbor_nl_route_op {
	struct arbor_nl_route route;
	bool del;
	int result;			/* set: 0 or the kernel's negative errno */
};

/*
 * Many route changes in one exchange, on the batch below: the requests go to the kernel
 * together and its answers are read after, instead of a round trip each, for a server
 * that routes a delegated prefix per client. Each op's result is set (a socket failure
 * sets it on every op still unanswered). Returns how many failed (arbor_nl_error()
 * describes one of them).
 */
int arbor_nl_route_batch(struct arbor_nl *nl, struct arbor_nl_route_op *ops, size_t n);

/* 1 if the main table holds a unicast default route of family (AF_INET or AF_INET6), 0 if
 * not, or a negative errno. Reads the table without building a list: with a route per
 * delegated prefix, a table can hold a hundred thousand routes. */
int arbor_nl_has_default_route(struct arbor_nl *nl, int family);
/* Routes of family (AF_INET, AF_INET6, AF_UNSPEC for both) in table (0 for main), into a
 * malloc'd array the caller frees with free(). */
int arbor_nl_routes(struct arbor_nl *nl, int family, uint32_t table,
		    struct arbor_nl_route **out, size_t *n);

/* ---- bridge forwarding database and neighbours (VXLAN peers) ---- */

/* Set (or remove) the FDB entry "mac dst dst" on a VXLAN device, as `bridge fdb replace`
 * does: frames for mac go to the VTEP at dst. */
int arbor_nl_fdb_replace(struct arbor_nl *nl, int ifindex, const uint8_t mac[6], const struct arbor_nl_ip *dst);
int arbor_nl_fdb_delete(struct arbor_nl *nl, int ifindex, const uint8_t mac[6], const struct arbor_nl_ip *dst);
/* A permanent neighbour entry ip -> mac on ifindex (add or replace), and its removal. */
int arbor_nl_neigh_replace(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *ip, const uint8_t mac[6]);
int arbor_nl_neigh_delete(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *ip);

/* ---- batches ---- */

/*
 * Between arbor_nl_batch_begin and arbor_nl_batch_end, the calls that change state queue
 * their request and return 0 without waiting for the kernel's answer: up to 64 requests go
 * out in one datagram, with no round trip each. arbor_nl_batch_end collects every answer and
 * reports each failure to fail (its position in the batch, counting from 0, the negative
 * errno and what was being done), then returns the number of failures. The kernel applies
 * requests in order, so a later request may use what an earlier one created (by name; an
 * ifindex is only known after the batch). Calls that read (lists, lookups) must not be
 * made inside a batch.
 */
typedef void arbor_nl_batch_fail_fn(void *ctx, size_t position, int error, const char *what);
void arbor_nl_batch_begin(struct arbor_nl *nl);
int arbor_nl_batch_end(struct arbor_nl *nl, arbor_nl_batch_fail_fn *fail, void *ctx);
/* Requests made since arbor_nl_batch_begin (sent, or queued to be). */
size_t arbor_nl_batch_size(const struct arbor_nl *nl);

/* ---- monitor ---- */

enum arbor_nl_change_kind {
	ARBOR_NL_LINK_NEW,	/* a link appeared or changed (flags, carrier, mtu, name): the
				 * kernel sends one message for both; .link is its whole state */
	ARBOR_NL_LINK_DEL,	/* a link went away; .link is its last state */
	ARBOR_NL_ADDR_NEW,	/* an address was added or changed (e.g. DAD finished); .addr */
	ARBOR_NL_ADDR_DEL,	/* an address was removed; .addr */
	ARBOR_NL_RESYNC,	/* notifications were lost (the socket overran): re-read the
				 * state with arbor_nl_links()/arbor_nl_addrs() */
	ARBOR_NL_ROUTE_NEW,	/* a route was added or replaced; .route (only after
				 * arbor_nl_monitor_watch_routes or _watch_default_routes) */
	ARBOR_NL_ROUTE_DEL,	/* a route was removed; .route */
};

struct arbor_nl_change {
	enum arbor_nl_change_kind kind;
	union {
		struct arbor_nl_link link;
		struct arbor_nl_addr addr;
		struct arbor_nl_route route;
	};
};

/* Called from arbor_nl_monitor_dispatch; change is valid during the call only. The callback
 * must not close the monitor. */
typedef void arbor_nl_change_fn(void *ctx, const struct arbor_nl_change *change);

/*
 * A non-blocking rtnetlink socket subscribed to link and IPv4/IPv6 address changes. Put
 * arbor_nl_monitor_fd() in the event loop for reading and call arbor_nl_monitor_dispatch()
 * when it is readable. NULL on failure, with errno set and err filled if given.
 */
struct arbor_nl_monitor *arbor_nl_monitor_open(arbor_nl_change_fn *cb, void *ctx, char *err,
					       size_t errlen);
int arbor_nl_monitor_fd(const struct arbor_nl_monitor *mon);
/* Also report IPv4 and IPv6 route changes (ARBOR_NL_ROUTE_NEW/DEL). 0 or a negative errno. */
int arbor_nl_monitor_watch_routes(struct arbor_nl_monitor *mon);
/* Only changes of IPv4 and IPv6 default routes, for a daemon that follows the default
 * route. Other route changes are dropped unparsed: a router adding a route per delegated
 * prefix must not pay for parsing each. 0 or a negative errno. */
int arbor_nl_monitor_watch_default_routes(struct arbor_nl_monitor *mon);
/* Read every pending notification and call cb for each change; never blocks. Returns the
 * number of changes delivered (0 if there was nothing to read) or a negative errno. */
int arbor_nl_monitor_dispatch(struct arbor_nl_monitor *mon);
const char *arbor_nl_monitor_error(const struct arbor_nl_monitor *mon);
void arbor_nl_monitor_close(struct arbor_nl_monitor *mon);

/* Parse len bytes of rtnetlink messages (a notification datagram, or a dump's answer) and
 * call cb for each link, address and route in them, as the monitor does; malformed
 * messages are skipped. Returns the number of changes delivered. Pure: the monitor and the
 * fuzz harness share it. */
int arbor_nl_parse_messages(const void *buf, size_t len, arbor_nl_change_fn *cb, void *ctx);

#endif
