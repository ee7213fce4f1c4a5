/* Addresses and routes of a WireGuard interface (see netcfg.h). */
#include "netcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_addr(const struct arbor_nl_addr *v, size_t n, int family, const void *addr, unsigned plen)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.family == family && v[i].prefixlen == plen &&
		    memcmp(family == AF_INET ? (const void *)&v[i].addr.v4 : (const void *)&v[i].addr.v6, addr,
			   family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

int netcfg_apply(struct arbor_nl *nl, int ifindex, const struct wgd_iface_config *cfg, const struct in6_addr *addr6,
		 char *err, size_t errlen)
{
	struct arbor_nl_link *links = NULL;
	size_t nlinks = 0;
	int rc = arbor_nl_links(nl, &links, &nlinks);
	const struct arbor_nl_link *l = NULL;
	for (size_t i = 0; rc >= 0 && i < nlinks; i++)
		if (links[i].index == ifindex)
			l = &links[i];
	if (rc >= 0 && l == NULL)
		rc = -ENODEV;
	if (rc >= 0 && l->mtu != cfg->mtu)
		rc = arbor_nl_link_set_mtu(nl, ifindex, cfg->mtu);
	if (rc >= 0 && !l->up)
		rc = arbor_nl_link_set_up(nl, ifindex, true);
	free(links);
	struct arbor_nl_addr *addrs = NULL;
	size_t naddrs = 0;
	if (rc >= 0)
		rc = arbor_nl_addrs(nl, AF_UNSPEC, ifindex, &addrs, &naddrs);
	if (rc >= 0 && cfg->has_address && !has_addr(addrs, naddrs, AF_INET, &cfg->address, cfg->prefixlen)) {
		struct arbor_nl_ip ip = { .family = AF_INET, .v4 = cfg->address };
		uint32_t mask = ~0u << (32 - cfg->prefixlen);
		struct in_addr bcast = { htonl((ntohl(cfg->address.s_addr) & mask) | ~mask) };
		struct arbor_nl_addr_opts o = { .broadcast = &bcast };
		rc = arbor_nl_addr_add(nl, ifindex, &ip, cfg->prefixlen, &o);
	}
	if (rc >= 0 && addr6 && !has_addr(addrs, naddrs, AF_INET6, addr6, 64)) {
		struct arbor_nl_ip ip = { .family = AF_INET6, .v6 = *addr6 };
		struct arbor_nl_addr_opts o = { .nodad = true };
		rc = arbor_nl_addr_add(nl, ifindex, &ip, 64, &o);
	}
	free(addrs);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", cfg->name, arbor_nl_error(nl)[0] ? arbor_nl_error(nl) : strerror(-rc));
		return rc;
	}
	return 0;
}

int netcfg_remove_address(struct arbor_nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen)
{
	struct arbor_nl_ip ip = { .family = family };
	memcpy(family == AF_INET ? (void *)&ip.v4 : (void *)&ip.v6, addr, family == AF_INET ? 4 : 16);
	return arbor_nl_addr_delete(nl, ifindex, &ip, prefixlen);
}

static void route_of(const struct wg_allowed_ip *p, int ifindex, struct arbor_nl_route *r)
{
	memset(r, 0, sizeof *r);
	r->dst.family = p->family;
	memcpy(p->family == AF_INET ? (void *)&r->dst.v4 : (void *)&r->dst.v6, p->addr, p->family == AF_INET ? 4 : 16);
	r->prefixlen = p->cidr;
	r->ifindex = ifindex;
	r->protocol = WGD_RTPROT;
}

static bool same_dst(const struct arbor_nl_route *r, const struct wg_allowed_ip *p)
{
	if (r->dst.family != p->family || r->prefixlen != p->cidr)
		return false;
	return memcmp(p->family == AF_INET ? (const void *)&r->dst.v4 : (const void *)&r->dst.v6, p->addr,
		      p->family == AF_INET ? 4 : 16) == 0;
}

int netcfg_routes(struct arbor_nl *nl, int ifindex, const struct wg_allowed_ip *want, size_t n, char *err, size_t errlen)
{
	struct arbor_nl_route *have = NULL;
	size_t nhave = 0;
	int changes = 0;
	int rc = arbor_nl_routes(nl, AF_UNSPEC, 0, &have, &nhave);
	for (size_t i = 0; rc >= 0 && i < nhave; i++) {
		if (have[i].protocol != WGD_RTPROT || have[i].ifindex != ifindex)
			continue;
		bool wanted = false;
		for (size_t k = 0; k < n && !wanted; k++)
			wanted = same_dst(&have[i], &want[k]);
		if (!wanted) {
			struct arbor_nl_route r = have[i];
			rc = arbor_nl_route_delete(nl, &r);
			changes++;
		}
	}
	for (size_t k = 0; rc >= 0 && k < n; k++) {
		bool present = false;
		for (size_t i = 0; i < nhave && !present; i++)
			present = have[i].protocol == WGD_RTPROT && have[i].ifindex == ifindex && same_dst(&have[i], &want[k]);
		if (!present) {
			/* Added, never replaced: a route to the same prefix that is not
			 * wgd's (a LAN's own) must not be taken over. */
			struct arbor_nl_route r;
			route_of(&want[k], ifindex, &r);
			rc = arbor_nl_route_add(nl, &r);
			changes++;
		}
	}
	free(have);
	if (rc == -EEXIST) {
		snprintf(err, errlen, "routes: %s (a route that is not wgd's holds the prefix)", arbor_nl_error(nl));
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "routes: %s", arbor_nl_error(nl));
		return rc;
	}
	return changes;
}
