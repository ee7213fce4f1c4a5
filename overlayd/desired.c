/* The desired kernel state (see desired.h). */
#include "desired.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_etcd.h"
#include "xalloc.h"

void ovl_desired_reset(struct ovl_desired_set *s)
{
	s->d.nlinks = s->d.naddrs = s->d.nroutes = 0;
	for (size_t i = 0; i < s->nnames; i++)
		free((char *)s->names[i]);
	s->nnames = 0;
	if (s->names)
		s->names[0] = NULL;
}

void ovl_desired_free(struct ovl_desired_set *s)
{
	ovl_desired_reset(s);
	free(s->d.links);
	free(s->d.addrs);
	free(s->d.routes);
	free(s->names);
	memset(s, 0, sizeof *s);
}

static struct ovl_want_link *add_link(struct ovl_desired_set *s)
{
	if (s->d.nlinks == s->cap_links) {
		s->cap_links = s->cap_links ? s->cap_links * 2 : 16;
		s->d.links = xreallocarray(s->d.links, s->cap_links, sizeof *s->d.links);
	}
	struct ovl_want_link *l = &s->d.links[s->d.nlinks++];
	memset(l, 0, sizeof *l);
	return l;
}

static struct ovl_want_addr *add_addr(struct ovl_desired_set *s)
{
	if (s->d.naddrs == s->cap_addrs) {
		s->cap_addrs = s->cap_addrs ? s->cap_addrs * 2 : 16;
		s->d.addrs = xreallocarray(s->d.addrs, s->cap_addrs, sizeof *s->d.addrs);
	}
	struct ovl_want_addr *a = &s->d.addrs[s->d.naddrs++];
	memset(a, 0, sizeof *a);
	return a;
}

static struct ovl_want_route *add_route(struct ovl_desired_set *s)
{
	if (s->d.nroutes == s->cap_routes) {
		s->cap_routes = s->cap_routes ? s->cap_routes * 2 : 16;
		s->d.routes = xreallocarray(s->d.routes, s->cap_routes, sizeof *s->d.routes);
	}
	struct ovl_want_route *r = &s->d.routes[s->d.nroutes++];
	memset(r, 0, sizeof *r);
	return r;
}

/* Links owned by their exact name (copies: they outlive a reload's config). */
static void own_name(struct ovl_desired_set *s, const char *name)
{
	s->names = xreallocarray(s->names, s->nnames + 2, sizeof *s->names);
	s->names[s->nnames++] = xstrdup(name);
	s->names[s->nnames] = NULL;
}

void ovl_device_name(const char *prefix, uint32_t id, char out[16])
{
	char digits[8];
	int n = 0;
	do {
		uint32_t d = id % 36;
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		id /= 36;
	} while (id && n < 7);
	int used = snprintf(out, 16, "%s", prefix);
	while (n > 0 && used < 15)
		out[used++] = digits[--n];
	out[used] = '\0';
}

uint32_t ovl_device_id(const char *prefix, const char *name)
{
	size_t plen = strlen(prefix);
	if (strncmp(name, prefix, plen) != 0 || name[plen] == '\0' || name[plen] == '0' || strlen(name + plen) > 5)
		return 0;
	uint32_t id = 0;
	for (const char *c = name + plen; *c; c++) {
		int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'z' ? *c - 'a' + 10 : -1;
		if (d < 0)
			return 0;
		id = id * 36 + (uint32_t)d;
	}
	return id <= 0xffffff ? id : 0;
}

static bool prefix_match(const struct arbor_nl_ip *dst, unsigned int len, const struct arbor_nl_ip *ip)
{
	if (dst->family != ip->family)
		return false;
	const uint8_t *a = (const uint8_t *)&dst->v6, *b = (const uint8_t *)&ip->v6;
	unsigned int bits = ip->family == AF_INET ? 32 : 128;
	if (len > bits)
		return false;
	for (unsigned int i = 0; i < len / 8; i++)
		if (a[i] != b[i])
			return false;
	unsigned int rest = len % 8;
	return rest == 0 || ((a[len / 8] ^ b[len / 8]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

unsigned int ovl_underlay_mtu(const struct ovl_kernel *k, const struct arbor_nl_ip *remote, uint8_t ours)
{
	const struct arbor_nl_route *best = NULL;
	for (size_t i = 0; i < k->nroutes; i++) {
		const struct arbor_nl_route *r = &k->routes[i];
		if (r->protocol == ours || (r->table != 0 && r->table != 254) || (r->type != 0 && r->type != 1) ||
		    r->ifindex == 0 || !prefix_match(&r->dst, r->prefixlen, remote))
			continue;
		if (best == NULL || r->prefixlen > best->prefixlen ||
		    (r->prefixlen == best->prefixlen && r->metric < best->metric))
			best = r;
	}
	if (best == NULL)
		return 0;
	for (size_t i = 0; i < k->nlinks; i++)
		if (k->links[i].index == best->ifindex) {
			unsigned int overhead = remote->family == AF_INET6 ? OVL_VXLAN_OVERHEAD_V6 : OVL_VXLAN_OVERHEAD_V4;
			return k->links[i].mtu > overhead + 68 ? k->links[i].mtu - overhead : 0;
		}
	return 0;
}

static unsigned int mtu_for(unsigned int configured, const struct ovl_kernel *k, const struct arbor_nl_ip *remote)
{
	if (configured)
		return configured;
	unsigned int mtu = k ? ovl_underlay_mtu(k, remote, OVL_RTPROT) : 0;
	/* No route yet (the underlay is still coming up): what a 1500-byte link gives. */
	return mtu ? mtu : 1500 - (remote->family == AF_INET6 ? OVL_VXLAN_OVERHEAD_V6 : OVL_VXLAN_OVERHEAD_V4);
}

void ovl_desired_hub(struct ovl_desired_set *s, const struct ovl_registry *r, const struct ovl_hub_config *h,
		     const char *hub_name, const struct ovl_hub_peer *hubs, size_t nhubs, const struct ovl_kernel *k)
{
	size_t n = ovl_registry_count(r);
	for (size_t i = 0; i < n; i++) {
		const struct ovl_spoke *sp = ovl_registry_at(r, i);
		if (hub_name && sp->hub[0] && strcmp(sp->hub, hub_name) != 0) {
			for (size_t k2 = 0; k2 < nhubs; k2++) {
				if (strcmp(hubs[k2].name, sp->hub) != 0 || hubs[k2].underlay.family != AF_INET)
					continue;
				struct ovl_want_route *via = add_route(s);
				via->dst = sp->subnet;
				snprintf(via->link, sizeof via->link, "%s", "");
				via->gateway = hubs[k2].underlay.v4;
			}
			continue;
		}
		if (sp->underlay.family != h->underlay.family)
			continue;
		struct ovl_want_link *l = add_link(s);
		ovl_device_name(h->device_prefix, sp->id, l->name);
		l->kind = OVL_KIND_VXLAN;
		l->vx.vni = ovl_registry_vni(r, sp->id);
		l->vx.local = h->underlay;
		l->vx.remote = sp->underlay;
		l->vx.port = h->port;
		l->vx.learning = false;
		l->mtu = mtu_for(h->mtu, k, &sp->underlay);
		l->forwarding = h->forwarding;
		struct ovl_want_addr *a = add_addr(s);
		snprintf(a->link, sizeof a->link, "%s", l->name);
		a->addr = h->address;
		a->prefixlen = 32;
		struct ovl_want_route *rt = add_route(s);
		rt->dst = sp->subnet;
		snprintf(rt->link, sizeof rt->link, "%s", l->name);
	}
}

void ovl_direct_mac(const uint8_t key[32], uint8_t mac[6])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, key, 32);
	mac[0] = 0x02; /* locally administered, unicast */
	memcpy(mac + 1, h, 5);
}

struct in_addr ovl_direct_address(const struct arbor_ipv4_prefix *subnet)
{
	struct in_addr a = { htonl(subnet->addr) };
	return a;
}

void ovl_desired_spoke(struct ovl_desired_set *s, const struct ovl_spoke_config *c, const struct ovl_answer *a,
		       const struct arbor_nl_ip *underlay, const uint8_t direct_mac[6], const struct ovl_kernel *k)
{
	struct ovl_want_link *br = add_link(s);
	snprintf(br->name, sizeof br->name, "%s", c->bridge);
	br->kind = OVL_KIND_BRIDGE;
	br->forwarding = true;
	struct ovl_want_link *vx = add_link(s);
	snprintf(vx->name, sizeof vx->name, "%s", c->device);
	vx->kind = OVL_KIND_VXLAN;
	vx->vx.vni = a->vni;
	vx->vx.local = *underlay;
	vx->vx.remote = a->hub_underlay;
	vx->vx.port = a->port;
	vx->mtu = mtu_for(c->mtu, k, &a->hub_underlay);
	snprintf(vx->master, sizeof vx->master, "%s", c->bridge);
	struct ovl_want_addr *gw = add_addr(s);
	snprintf(gw->link, sizeof gw->link, "%s", c->bridge);
	gw->addr.s_addr = htonl(a->subnet.addr + 1);
	gw->prefixlen = a->subnet.len;
	struct ovl_want_route *rt = add_route(s);
	rt->dst = a->network;
	snprintf(rt->link, sizeof rt->link, "%s", c->bridge);
	rt->gateway = a->hub_address;
	rt->onlink = true;
	for (size_t i = 0; i < c->nvia_hub; i++) {
		struct ovl_want_route *via = add_route(s);
		via->dst = c->via_hub[i];
		snprintf(via->link, sizeof via->link, "%s", c->bridge);
		via->gateway = a->hub_address;
		via->onlink = true;
	}
	own_name(s, c->bridge);
	own_name(s, c->device);
	if (!a->direct)
		return;
	struct ovl_want_link *d = add_link(s);
	snprintf(d->name, sizeof d->name, "%s", c->direct_device);
	d->kind = OVL_KIND_VXLAN;
	d->vx.vni = a->direct_vni;
	d->vx.local = *underlay;
	d->vx.port = a->port;
	d->mtu = vx->mtu;
	d->forwarding = true;
	d->has_mac = true;
	memcpy(d->mac, direct_mac, 6);
	struct ovl_want_addr *da = add_addr(s);
	snprintf(da->link, sizeof da->link, "%s", c->direct_device);
	da->addr = ovl_direct_address(&a->subnet);
	da->prefixlen = 32;
	for (size_t i = 0; i < a->npeers; i++) {
		const struct ovl_peer *p = &a->peers[i];
		if (p->underlay.family != underlay->family)
			continue;
		struct ovl_want_route *pr = add_route(s);
		pr->dst = p->subnet;
		snprintf(pr->link, sizeof pr->link, "%s", c->direct_device);
		pr->gateway = ovl_direct_address(&p->subnet);
		pr->onlink = true;
	}
	own_name(s, c->direct_device);
}

void ovl_desired_shims(struct ovl_desired_set *s, const struct ovl_shim *shims, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ovl_shim *sh = &shims[i];
		struct ovl_want_link *l = add_link(s);
		snprintf(l->name, sizeof l->name, "%s", sh->name);
		l->kind = OVL_KIND_MACVLAN;
		snprintf(l->parent, sizeof l->parent, "%s", sh->parent);
		struct ovl_want_addr *a = add_addr(s);
		snprintf(a->link, sizeof a->link, "%s", sh->name);
		a->addr = sh->address;
		a->prefixlen = sh->prefixlen;
		for (size_t k = 0; k < sh->nroutes; k++) {
			struct ovl_want_route *rt = add_route(s);
			rt->dst = sh->routes[k];
			snprintf(rt->link, sizeof rt->link, "%s", sh->name);
		}
		own_name(s, sh->name);
	}
}
