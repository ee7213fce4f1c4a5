/* The interface's kernel state besides WireGuard itself, through netlink:
 * MTU, up, the gateway's IPv4 address and its derived IPv6 address on the
 * interface's /64, and a route for every prefix behind a peer (a site). Only
 * what wgd adds is touched: addresses it did not make stay, and its routes
 * carry their own protocol number (WGD_RTPROT) so it never removes another's. */
#pragma once
#include <netinet/in.h>
#include <stddef.h>

#include "netlink.h"
#include "wg_device.h"
#include "wgd_config.h"

#define WGD_RTPROT 87 /* the routes wgd owns (ip route shows "proto 87") */

/* MTU, up, addresses. addr6 may be NULL (no IPv6). 0 or -errno with err. */
int netcfg_apply(struct arbor_nl *nl, int ifindex, const struct wgd_iface_config *cfg, const struct in6_addr *addr6,
		 char *err, size_t errlen);
/* Makes wgd's routes through ifindex exactly want[0..n). Returns the number of
 * routes added or removed, or -errno with err. */
int netcfg_routes(struct arbor_nl *nl, int ifindex, const struct wg_allowed_ip *want, size_t n, char *err, size_t errlen);
/* Removes an address wgd added (on reload, when the config changed it). */
int netcfg_remove_address(struct arbor_nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen);
