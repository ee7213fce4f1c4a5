/* The wgd section: interfaces[] (one WireGuard device each) and how devices
 * are run and watched. Every key has a default except an interface's name;
 * docs/wgd.md has the table. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wg_device.h"

enum wgd_backend { WGD_BACKEND_AUTO, WGD_BACKEND_KERNEL, WGD_BACKEND_USERSPACE };

struct wgd_iface_config {
	char name[WG_IFNAME_MAX];
	uint16_t listen_port;
	bool has_address;
	struct in_addr address;     /* the gateway's IPv4 address */
	unsigned prefixlen;         /* and its subnet */
	enum wgd_backend backend;
	char *endpoint;             /* what clients dial, "host:port"; NULL: none */
	unsigned mtu;
	uint16_t subnet_id;         /* 0: from the machine's subnet table */
	char **dns;                 /* NULL: the gateway's own address */
	size_t ndns;
	struct wg_allowed_ip *client_allowed_ips; /* routed by clients besides the interface's subnets */
	size_t nclient_allowed_ips;
	uint16_t keepalive;         /* for new peers' client configs */
	uint32_t fwmark;
};

struct wgd_config {
	struct wgd_iface_config *ifaces;
	size_t nifaces;
	char *wireguard_go;   /* the userspace implementation to run */
	char *uapi_dir;       /* where its sockets are */
	double poll_interval;
	double save_interval; /* counters */
	double start_timeout; /* for wireguard-go's socket to appear */
};

void *wgd_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
void wgd_config_free(void *cfg);
const char *wgd_backend_name(enum wgd_backend b);
const struct wgd_iface_config *wgd_config_iface(const struct wgd_config *c, const char *name);
/* "host:port" with a DNS name, an IPv4 address or a [bracketed] IPv6 one. */
bool wgd_endpoint_valid(const char *text);
