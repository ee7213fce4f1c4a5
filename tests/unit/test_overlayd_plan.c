/* The reconcile planner: from an empty kernel, everything is created; when all
 * is right, nothing is done; each kind of drift gets its one fix; nothing of
 * anyone else is touched. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tap.h"

#define PROTO 0xa5

static struct arbor_nl_ip ip4(const char *text)
{
	struct arbor_nl_ip ip = { .family = AF_INET };
	inet_pton(AF_INET, text, &ip.v4);
	return ip;
}

static struct in_addr in4(const char *text)
{
	struct in_addr a;
	inet_pton(AF_INET, text, &a);
	return a;
}

/* A hub with n spokes: vxlan ovh<i> (VNI 4096+i), the hub's /32 on each, a route
 * to 10.128.i.0/24 over each. */
struct hub {
	struct ovl_want_link links[8];
	struct ovl_want_addr addrs[8];
	struct ovl_want_route routes[8];
	struct ovl_desired want;
};

static void make_hub(struct hub *h, int n)
{
	memset(h, 0, sizeof *h);
	for (int i = 0; i < n; i++) {
		struct ovl_want_link *l = &h->links[i];
		snprintf(l->name, sizeof l->name, "ovh%d", i + 1);
		l->kind = OVL_KIND_VXLAN;
		l->vx = (struct arbor_nl_vxlan){ .vni = 4097 + (uint32_t)i, .local = ip4("192.0.2.1"), .port = 4789 };
		char remote[32];
		snprintf(remote, sizeof remote, "192.0.2.%d", 11 + i);
		l->vx.remote = ip4(remote);
		l->mtu = 1450;
		struct ovl_want_addr *a = &h->addrs[i];
		snprintf(a->link, sizeof a->link, "%s", l->name);
		a->addr = in4("10.128.0.1");
		a->prefixlen = 32;
		struct ovl_want_route *r = &h->routes[i];
		snprintf(r->link, sizeof r->link, "%s", l->name);
		r->dst = (struct arbor_ipv4_prefix){ 0x0a800000u + ((uint32_t)(i + 1) << 8), 24 };
	}
	h->want = (struct ovl_desired){ h->links, (size_t)n, h->addrs, (size_t)n, h->routes, (size_t)n };
}

/* The kernel exactly as the hub wants it, plus eth0 with its own address and route. */
struct kernel {
	struct arbor_nl_link links[16];
	struct arbor_nl_addr addrs[16];
	struct arbor_nl_route routes[16];
	struct ovl_kernel view;
};

static void make_kernel(struct kernel *k, const struct hub *h)
{
	memset(k, 0, sizeof *k);
	size_t n = h->want.nlinks;
	k->links[0] = (struct arbor_nl_link){ .index = 2, .name = "eth0", .up = true, .mtu = 1500, .kind = "veth" };
	k->addrs[0] = (struct arbor_nl_addr){ .ifindex = 2, .addr = ip4("192.0.2.1"), .prefixlen = 24 };
	k->routes[0] = (struct arbor_nl_route){ .dst = ip4("192.0.2.0"), .prefixlen = 24, .ifindex = 2, .protocol = 2,
						.table = 254 };
	for (size_t i = 0; i < n; i++) {
		struct arbor_nl_link *l = &k->links[i + 1];
		l->index = 10 + (int)i;
		snprintf(l->name, sizeof l->name, "%s", h->links[i].name);
		snprintf(l->kind, sizeof l->kind, "vxlan");
		l->is_vxlan = true;
		l->vxlan = h->links[i].vx;
		l->mtu = 1450;
		l->up = true;
		k->addrs[i + 1] = (struct arbor_nl_addr){ .ifindex = l->index, .addr = ip4("10.128.0.1"), .prefixlen = 32 };
		struct arbor_nl_route *r = &k->routes[i + 1];
		r->dst.family = AF_INET;
		r->dst.v4.s_addr = htonl(h->routes[i].dst.addr);
		r->prefixlen = 24;
		r->ifindex = l->index;
		r->protocol = PROTO;
		r->table = 254;
		r->nexthops = 1;
	}
	k->view = (struct ovl_kernel){ k->links, n + 1, k->addrs, n + 1, k->routes, n + 1 };
}

static const struct ovl_ownership own = { .link_prefix = "ovh", .route_protocol = PROTO };

static size_t count(const struct ovl_plan *p, enum ovl_action_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nactions; i++)
		n += p->actions[i].kind == kind;
	return n;
}

static bool ordered(const struct ovl_plan *p)
{
	for (size_t i = 1; i < p->nactions; i++)
		if (p->actions[i].kind < p->actions[i - 1].kind)
			return false;
	return true;
}

int main(void)
{
	struct hub h;
	struct kernel k;
	struct ovl_plan plan;
	make_hub(&h, 3);

	struct ovl_kernel empty = { 0 };
	ovl_plan_make(&h.want, &empty, &own, &plan);
	CHECK(count(&plan, OVL_ACT_ADD_LINK) == 3 && count(&plan, OVL_ACT_ADD_ADDR) == 3 &&
		      count(&plan, OVL_ACT_ADD_ROUTE) == 3 && plan.nactions == 9 && ordered(&plan),
	      "from an empty kernel: links, then addresses, then routes");
	ovl_plan_free(&plan);

	make_kernel(&k, &h);
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nactions == 0 && plan.nconflicts == 0, "all right: nothing to do");
	ovl_plan_free(&plan);

	/* A device deleted by hand (its address and route went with it). */
	make_kernel(&k, &h);
	k.links[2] = k.links[3];
	k.addrs[2] = k.addrs[3];
	k.routes[2] = k.routes[3];
	k.view.nlinks = k.view.naddrs = k.view.nroutes = 3;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nactions == 3 && count(&plan, OVL_ACT_ADD_LINK) == 1 && strcmp(plan.actions[0].link->name, "ovh2") == 0,
	      "a deleted device: created again with its address and route");
	ovl_plan_free(&plan);

	/* Wrong VNI: deleted and created again; its route goes with it. */
	make_kernel(&k, &h);
	k.links[1].vxlan.vni = 9;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(count(&plan, OVL_ACT_DEL_LINK) == 1 && count(&plan, OVL_ACT_ADD_LINK) == 1 &&
		      count(&plan, OVL_ACT_ADD_ADDR) == 1 && count(&plan, OVL_ACT_ADD_ROUTE) == 1 &&
		      plan.actions[0].kind == OVL_ACT_DEL_LINK && plan.actions[0].ifindex == 10,
	      "a wrong VNI: recreated");
	ovl_plan_free(&plan);
	make_kernel(&k, &h);
	k.links[1].vxlan.port = 8472;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(count(&plan, OVL_ACT_DEL_LINK) == 1 && strstr(plan.actions[0].why, "port"), "port 8472: recreated");
	ovl_plan_free(&plan);

	/* MTU, down: fixed in place. */
	make_kernel(&k, &h);
	k.links[1].mtu = 1500;
	k.links[2].up = false;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nactions == 2 && count(&plan, OVL_ACT_SET_MTU) == 1 && count(&plan, OVL_ACT_SET_UP) == 1 &&
		      plan.links_changed == 2,
	      "MTU and a link set down: corrected in place");
	ovl_plan_free(&plan);

	/* A device of ours nobody owns: removed. Someone else's vxlan, bridge, route: untouched. */
	make_kernel(&k, &h);
	size_t n = k.view.nlinks;
	k.links[n] = k.links[1];
	k.links[n].index = 50;
	snprintf(k.links[n].name, sizeof k.links[n].name, "ovhz");
	k.links[n + 1] = (struct arbor_nl_link){ .index = 51, .name = "vxother", .kind = "vxlan", .is_vxlan = true };
	k.links[n + 2] = (struct arbor_nl_link){ .index = 52, .name = "ovh9x", .kind = "bridge" };
	k.view.nlinks = n + 3;
	k.routes[k.view.nroutes] = (struct arbor_nl_route){ .dst = ip4("10.200.0.0"), .prefixlen = 16, .ifindex = 2,
							    .protocol = 4, .table = 254 };
	k.routes[k.view.nroutes + 1] = (struct arbor_nl_route){ .dst = ip4("10.128.77.0"), .prefixlen = 24, .ifindex = 50,
								.protocol = PROTO, .table = 254 };
	k.view.nroutes += 2;
	k.addrs[k.view.naddrs] = (struct arbor_nl_addr){ .ifindex = 51, .addr = ip4("10.99.0.1"), .prefixlen = 24 };
	k.view.naddrs++;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nactions == 2 && count(&plan, OVL_ACT_DEL_LINK) == 1 && count(&plan, OVL_ACT_DEL_ROUTE) == 1 &&
		      plan.actions[0].old_route.prefixlen == 24 && plan.actions[1].ifindex == 50,
	      "an orphan device and route of ours: removed; nothing else touched");
	ovl_plan_free(&plan);

	/* A non-VXLAN link under one of our wanted names: a conflict, not touched. */
	make_kernel(&k, &h);
	snprintf(k.links[1].kind, sizeof k.links[1].kind, "bridge");
	k.links[1].is_vxlan = false;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nconflicts == 1 && strcmp(plan.conflicts[0].name, "ovh1") == 0 && count(&plan, OVL_ACT_DEL_LINK) == 0 &&
		      count(&plan, OVL_ACT_ADD_ROUTE) == 0,
	      "someone else's bridge named like ours: reported, not touched");
	ovl_plan_free(&plan);

	/* A route of ours over the wrong device, and a second one with a metric. */
	make_kernel(&k, &h);
	k.routes[1].ifindex = 11;
	k.routes[k.view.nroutes] = k.routes[2];
	k.routes[k.view.nroutes].metric = 100;
	k.view.nroutes++;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(count(&plan, OVL_ACT_ADD_ROUTE) == 1 && count(&plan, OVL_ACT_DEL_ROUTE) == 1 && plan.nactions == 2,
	      "a wrong route replaced, a duplicate removed");
	ovl_plan_free(&plan);

	/* A stray address on our device goes; the kernel's IPv6 link-local stays. */
	make_kernel(&k, &h);
	k.addrs[k.view.naddrs] = (struct arbor_nl_addr){ .ifindex = 10, .addr = ip4("10.5.5.5"), .prefixlen = 24 };
	k.addrs[k.view.naddrs + 1] = (struct arbor_nl_addr){ .ifindex = 10, .prefixlen = 64 };
	k.addrs[k.view.naddrs + 1].addr.family = AF_INET6;
	k.view.naddrs += 2;
	ovl_plan_make(&h.want, &k.view, &own, &plan);
	CHECK(plan.nactions == 1 && plan.actions[0].kind == OVL_ACT_DEL_ADDR && plan.actions[0].ifindex == 10,
	      "a stray IPv4 address on our device removed");
	ovl_plan_free(&plan);

	/* A spoke: a bridge and a VXLAN port in it, by exact names. */
	static const char *const names[] = { "ovbr0", "ovl0", NULL };
	struct ovl_ownership spoke_own = { .link_names = names, .route_protocol = PROTO };
	struct ovl_want_link sl[2] = { { .name = "ovbr0", .kind = OVL_KIND_BRIDGE, .forwarding = true },
				       { .name = "ovl0", .kind = OVL_KIND_VXLAN, .master = "ovbr0", .mtu = 1450 } };
	sl[1].vx = (struct arbor_nl_vxlan){ .vni = 4097, .local = ip4("192.0.2.11"), .remote = ip4("192.0.2.1"), .port = 4789 };
	struct ovl_want_addr sa = { .link = "ovbr0", .addr = in4("10.128.1.1"), .prefixlen = 24 };
	struct ovl_want_route sr = { .dst = { 0x0a800000, 12 }, .link = "ovbr0", .gateway = in4("10.128.0.1"), .onlink = true };
	struct ovl_desired sw = { sl, 2, &sa, 1, &sr, 1 };
	ovl_plan_make(&sw, &empty, &spoke_own, &plan);
	CHECK(plan.nactions == 6 && plan.actions[0].kind == OVL_ACT_ADD_LINK &&
		      strcmp(plan.actions[0].link->name, "ovbr0") == 0 && count(&plan, OVL_ACT_SET_MASTER) == 1 &&
		      count(&plan, OVL_ACT_SET_FORWARDING) == 1,
	      "a spoke from nothing: the bridge first, then its port");
	ovl_plan_free(&plan);
	struct arbor_nl_link have[3] = {
		{ .index = 5, .name = "ovbr0", .kind = "bridge", .up = true, .ipv4_forwarding_known = true, .ipv4_forwarding = true },
		{ .index = 6, .name = "ovl0", .kind = "vxlan", .is_vxlan = true, .up = true, .mtu = 1450, .master_index = 5 },
		{ .index = 2, .name = "eth0", .kind = "veth", .up = true },
	};
	have[1].vxlan = sl[1].vx;
	struct arbor_nl_addr haddr = { .ifindex = 5, .addr = ip4("10.128.1.1"), .prefixlen = 24 };
	struct arbor_nl_route hroute = { .dst = ip4("10.128.0.0"), .prefixlen = 12, .gateway = ip4("10.128.0.1"), .ifindex = 5,
					 .onlink = true, .protocol = PROTO, .table = 254, .nexthops = 1 };
	struct ovl_kernel sk = { have, 3, &haddr, 1, &hroute, 1 };
	ovl_plan_make(&sw, &sk, &spoke_own, &plan);
	CHECK(plan.nactions == 0, "a spoke all right: nothing to do");
	ovl_plan_free(&plan);
	have[1].master_index = 0;
	have[0].ipv4_forwarding = false;
	ovl_plan_make(&sw, &sk, &spoke_own, &plan);
	CHECK(plan.nactions == 2 && count(&plan, OVL_ACT_SET_MASTER) == 1 && plan.actions[0].kind == OVL_ACT_SET_MASTER &&
		      count(&plan, OVL_ACT_SET_FORWARDING) == 1,
	      "a port taken out of its bridge and forwarding turned off: both put back");
	ovl_plan_free(&plan);
	return tap_done();
}
