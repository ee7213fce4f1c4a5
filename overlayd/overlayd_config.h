/* The "overlayd" section: hub, spoke, registry and shims. Every key has a
 * default (docs/overlayd.md has the table); a machine is a hub, a spoke, both
 * or neither (shims only). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "cfg_walk.h"
#include "ipv4_alloc.h"
#include "join_wire.h"
#include "netlink.h"

struct ovl_hub_config {
	struct sockaddr_storage listen;
	socklen_t listen_len;
	struct arbor_ipv4_prefix network;
	unsigned int subnet_length;
	struct arbor_nl_ip underlay;   /* local end of every VXLAN device */
	struct in_addr address;        /* the hub's address on the overlay */
	uint32_t vni_base;
	uint16_t port;                 /* VXLAN destination port */
	char device_prefix[12];
	unsigned int mtu;              /* 0: from the route to each spoke */
	double heartbeat;              /* told to spokes */
	double down_after;
	double token_ttl;
	double max_clock_skew;
	unsigned int max_spokes;
	char *masquerade;              /* uplink for NAT, or NULL */
	bool nftables;
	char *nft_table;
	bool direct;                   /* spoke-to-spoke without the hub */
	bool forwarding;               /* turn on IPv4 forwarding on the hub's devices */
	char *name;                    /* this hub in a shared registry; NULL: machine.name */
};

struct ovl_spoke_config {
	struct sockaddr_storage hub;
	socklen_t hub_len;
	char *hub_text;
	bool has_token;
	struct ovl_token token;
	bool has_underlay;
	struct arbor_nl_ip underlay;   /* else: the source address towards the hub */
	char device[16];
	char bridge[16];
	char direct_device[16];
	unsigned int mtu;
	double timeout;
	double retry;
	struct arbor_ipv4_prefix *via_hub; /* more routes through the hub (its uplink, masqueraded) */
	size_t nvia_hub;
};

struct ovl_shim {
	char parent[16];
	char name[16];
	struct in_addr address;
	unsigned int prefixlen;
	struct arbor_ipv4_prefix *routes;
	size_t nroutes;
};

enum ovl_backend { OVL_BACKEND_FILE, OVL_BACKEND_ETCD };

struct ovl_registry_config {
	enum ovl_backend backend;
	char **endpoints; /* etcd: "http://127.0.0.1:2379" */
	size_t nendpoints;
	char *prefix;     /* etcd: "/arbor/overlay/NAME" */
	double timeout;
};

struct overlayd_config {
	bool is_hub, is_spoke;
	struct ovl_hub_config hub;
	struct ovl_spoke_config spoke;
	struct ovl_registry_config registry;
	struct ovl_shim *shims;
	size_t nshims;
};

void *overlayd_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
void overlayd_config_free(void *cfg);
