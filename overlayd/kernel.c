/* Reading the kernel and carrying out plans (see kernel.h). */
#include "kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "xalloc.h"

int ovl_kernel_read(struct arbor_nl *nl, struct ovl_kernel *k)
{
	memset(k, 0, sizeof *k);
	int rc = arbor_nl_links(nl, &k->links, &k->nlinks);
	if (rc == 0)
		rc = arbor_nl_addrs(nl, AF_INET, 0, &k->addrs, &k->naddrs);
	if (rc == 0)
		rc = arbor_nl_routes(nl, AF_UNSPEC, 0, &k->routes, &k->nroutes);
	if (rc < 0)
		ovl_kernel_free(k);
	return rc;
}

void ovl_kernel_free(struct ovl_kernel *k)
{
	free(k->links);
	free(k->addrs);
	free(k->routes);
	memset(k, 0, sizeof *k);
}

/* Ends a batch, counting its requests. */
static void flush(struct arbor_nl *nl, struct ovl_apply_result *res);

static void on_fail(void *ctx, size_t position, int error, const char *what)
{
	struct ovl_apply_result *res = ctx;
	res->failures++;
	if (res->first_error[0] == '\0')
		snprintf(res->first_error, sizeof res->first_error, "%s: %s", what, strerror(-error));
}

static void flush(struct arbor_nl *nl, struct ovl_apply_result *res)
{
	res->writes += arbor_nl_batch_size(nl);
	arbor_nl_batch_end(nl, on_fail, res);
}

/* A call's own failure (bad arguments, or any failure outside a batch). */
static void note(struct ovl_apply_result *res, struct arbor_nl *nl, int rc)
{
	if (rc < 0)
		on_fail(res, 0, rc, arbor_nl_error(nl));
}

static int index_of(const struct arbor_nl_link *links, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].name, name) == 0)
			return links[i].index;
	return 0;
}

/* Name to ifindex after the first batch; the listing is sorted once. */
struct names {
	struct arbor_nl_link *links;
	size_t n;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct arbor_nl_link *)a)->name, ((const struct arbor_nl_link *)b)->name);
}

static int lookup(const struct names *nm, const char *name)
{
	struct arbor_nl_link probe;
	snprintf(probe.name, sizeof probe.name, "%s", name);
	const struct arbor_nl_link *l = nm->n ? bsearch(&probe, nm->links, nm->n, sizeof *nm->links, cmp_name) : NULL;
	return l ? l->index : 0;
}

static void missing_link(struct ovl_apply_result *res, const char *name)
{
	res->failures++;
	if (res->first_error[0] == '\0')
		snprintf(res->first_error, sizeof res->first_error, "%s: not there after creating it", name);
}

void ovl_kernel_apply(struct arbor_nl *nl, const struct ovl_plan *plan, const struct ovl_kernel *k,
		      struct ovl_apply_result *res)
{
	memset(res, 0, sizeof *res);
	if (plan->nactions == 0)
		return;
	bool created = false;
	size_t i = 0;
	arbor_nl_batch_begin(nl);
	for (; i < plan->nactions && plan->actions[i].kind <= OVL_ACT_ADD_LINK; i++) {
		const struct ovl_action *a = &plan->actions[i];
		switch (a->kind) {
		case OVL_ACT_DEL_ROUTE: {
			struct arbor_nl_route r = a->old_route;
			note(res, nl, arbor_nl_route_delete(nl, &r));
			break;
		}
		case OVL_ACT_DEL_ADDR:
			note(res, nl, arbor_nl_addr_delete(nl, a->ifindex, &a->old_addr.addr, a->old_addr.prefixlen));
			break;
		case OVL_ACT_DEL_LINK:
			note(res, nl, arbor_nl_link_delete(nl, a->ifindex));
			break;
		case OVL_ACT_ADD_LINK: {
			const struct ovl_want_link *w = a->link;
			created = true;
			if (w->kind == OVL_KIND_VXLAN) {
				note(res, nl, arbor_nl_vxlan_add(nl, w->name, &w->vx, w->mtu, w->has_mac ? w->mac : NULL, true));
			} else if (w->kind == OVL_KIND_BRIDGE) {
				/* Bridges are few (one per spoke): created outside the batch. */
				flush(nl, res);
				res->writes += 2;
				int rc = arbor_nl_bridge_add(nl, w->name);
				if (rc > 0)
					rc = arbor_nl_link_set_up(nl, rc, true);
				if (rc < 0)
					on_fail(res, 0, rc, arbor_nl_error(nl));
				arbor_nl_batch_begin(nl);
			} else {
				int parent = index_of(k->links, k->nlinks, w->parent);
				if (parent > 0) {
					note(res, nl, arbor_nl_macvlan_add(nl, w->name, parent, true));
				} else {
					res->failures++;
					snprintf(res->first_error, sizeof res->first_error, "%s: no parent link %s",
						 w->name, w->parent);
				}
			}
			break;
		}
		default:
			break;
		}
	}
	flush(nl, res);

	/* The second batch needs the ifindex of every link it names. */
	struct names nm = { 0 };
	if (created) {
		if (arbor_nl_links(nl, &nm.links, &nm.n) < 0) {
			on_fail(res, 0, -EIO, arbor_nl_error(nl));
			return;
		}
	} else {
		nm.links = xmalloc(k->nlinks ? k->nlinks * sizeof *nm.links : 1);
		if (k->nlinks)
			memcpy(nm.links, k->links, k->nlinks * sizeof *nm.links);
		nm.n = k->nlinks;
	}
	if (nm.n > 1)
		qsort(nm.links, nm.n, sizeof *nm.links, cmp_name);
	arbor_nl_batch_begin(nl);
	for (; i < plan->nactions; i++) {
		const struct ovl_action *a = &plan->actions[i];
		const char *name = a->link ? a->link->name : a->addr ? a->addr->link : a->route ? a->route->link : NULL;
		int ifindex = a->ifindex ? a->ifindex : name && name[0] ? lookup(&nm, name) : 0;
		if (ifindex <= 0 && !(a->kind == OVL_ACT_ADD_ROUTE && name && name[0] == '\0')) {
			missing_link(res, name ? name : "?");
			continue;
		}
		switch (a->kind) {
		case OVL_ACT_SET_MTU:
			note(res, nl, arbor_nl_link_set_mtu(nl, ifindex, a->link->mtu));
			break;
		case OVL_ACT_SET_MASTER: {
			int master = a->link->master[0] ? lookup(&nm, a->link->master) : 0;
			if (a->link->master[0] && master <= 0)
				missing_link(res, a->link->master);
			else
				note(res, nl, arbor_nl_link_set_master(nl, ifindex, master));
			break;
		}
		case OVL_ACT_SET_FORWARDING:
			note(res, nl, arbor_nl_link_set_ipv4_forwarding(nl, ifindex, true));
			break;
		case OVL_ACT_SET_UP:
			note(res, nl, arbor_nl_link_set_up(nl, ifindex, true));
			break;
		case OVL_ACT_ADD_ADDR: {
			struct arbor_nl_ip ip = { .family = AF_INET };
			ip.v4 = a->addr->addr;
			struct arbor_nl_addr_opts opts = { .replace = true };
			note(res, nl, arbor_nl_addr_add(nl, ifindex, &ip, a->addr->prefixlen, &opts));
			break;
		}
		case OVL_ACT_ADD_ROUTE: {
			const struct ovl_want_route *w = a->route;
			struct arbor_nl_route r = { .prefixlen = w->dst.len, .ifindex = ifindex, .protocol = OVL_RTPROT,
						    .onlink = w->onlink };
			r.dst.family = AF_INET;
			r.dst.v4.s_addr = htonl(w->dst.addr);
			if (w->gateway.s_addr) {
				r.gateway.family = AF_INET;
				r.gateway.v4 = w->gateway;
			}
			note(res, nl, arbor_nl_route_replace(nl, &r));
			break;
		}
		default:
			break;
		}
	}
	flush(nl, res);
	free(nm.links);
}
