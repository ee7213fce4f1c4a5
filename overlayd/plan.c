/* The reconcile planner (see plan.h). Both sides are sorted (links by name,
 * addresses by link and address, routes by destination) so a plan for
 * thousands of spokes costs a few sorts and binary searches. */
#include "plan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct planner {
	const struct ovl_desired *want;
	const struct ovl_kernel *have;
	const struct ovl_ownership *own;
	struct ovl_plan *plan;
	size_t cap;
	const struct arbor_nl_link **by_name; /* have->links sorted by name */
	const struct arbor_nl_link **by_index; /* ... and by ifindex */
	size_t *want_sorted;                  /* indices of want->links sorted by name */
	bool *fresh;                          /* want link i is created by this plan */
	bool *deleted;                        /* have link i is deleted by this plan */
};

static struct ovl_action *add(struct planner *p, enum ovl_action_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct ovl_action *add(struct planner *p, enum ovl_action_kind kind, const char *fmt, ...)
{
	struct ovl_plan *plan = p->plan;
	if (plan->nactions == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		plan->actions = xreallocarray(plan->actions, p->cap, sizeof *plan->actions);
	}
	struct ovl_action *a = &plan->actions[plan->nactions];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->order = plan->nactions++;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof a->why, fmt, ap);
	va_end(ap);
	return a;
}

static void conflict(struct ovl_plan *plan, const char *name, const char *why)
{
	plan->conflicts = xreallocarray(plan->conflicts, plan->nconflicts + 1, sizeof *plan->conflicts);
	struct ovl_conflict *c = &plan->conflicts[plan->nconflicts++];
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->why, sizeof c->why, "%s", why);
}

bool ovl_owns_link(const struct ovl_ownership *own, const struct arbor_nl_link *l)
{
	if (own->link_prefix && own->link_prefix[0] && l->is_vxlan &&
	    strncmp(l->name, own->link_prefix, strlen(own->link_prefix)) == 0)
		return true;
	for (const char *const *n = own->link_names; n && *n; n++)
		if (strcmp(*n, l->name) == 0)
			return true;
	return false;
}

static int cmp_link_ptr(const void *x, const void *y)
{
	return strcmp((*(const struct arbor_nl_link *const *)x)->name, (*(const struct arbor_nl_link *const *)y)->name);
}

static const struct arbor_nl_link *have_link(const struct planner *p, const char *name)
{
	size_t lo = 0, hi = p->have->nlinks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->by_name[mid]->name, name);
		if (c == 0)
			return p->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct arbor_nl_link *have_by_index(const struct planner *p, int ifindex)
{
	size_t lo = 0, hi = p->have->nlinks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->by_index[mid]->index == ifindex)
			return p->by_index[mid];
		if (p->by_index[mid]->index < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_index_ptr(const void *x, const void *y)
{
	int a = (*(const struct arbor_nl_link *const *)x)->index, b = (*(const struct arbor_nl_link *const *)y)->index;
	return a < b ? -1 : a > b;
}

static int cmp_want_index(const void *x, const void *y, void *arg)
{
	const struct ovl_desired *want = arg;
	return strcmp(want->links[*(const size_t *)x].name, want->links[*(const size_t *)y].name);
}

/* The wanted link named name (its index in *index), or NULL. */
static const struct ovl_want_link *want_link(const struct planner *p, const char *name, size_t *index)
{
	size_t lo = 0, hi = p->want->nlinks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ovl_want_link *w = &p->want->links[p->want_sorted[mid]];
		int c = strcmp(w->name, name);
		if (c == 0) {
			*index = p->want_sorted[mid];
			return w;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static size_t have_index(const struct planner *p, const struct arbor_nl_link *l)
{
	return (size_t)(l - p->have->links);
}

static bool same_ip(const struct arbor_nl_ip *a, const struct arbor_nl_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return a->family != AF_INET6 || memcmp(&a->v6, &b->v6, sizeof a->v6) == 0;
}

/* Why an existing VXLAN link is not the one wanted, or NULL. */
static const char *vxlan_mismatch(const struct arbor_nl_vxlan *want, const struct arbor_nl_vxlan *have)
{
	if (want->vni != have->vni)
		return "wrong VNI";
	if (!same_ip(&want->remote, &have->remote))
		return "wrong remote";
	if (!same_ip(&want->local, &have->local))
		return "wrong local address";
	if (want->port != have->port)
		return "wrong destination port";
	if (want->learning != have->learning)
		return "learning differs";
	if (want->link != have->link)
		return "wrong underlay link";
	return NULL;
}

static bool kind_matches(const struct ovl_want_link *w, const struct arbor_nl_link *l)
{
	switch (w->kind) {
	case OVL_KIND_VXLAN: return l->is_vxlan;
	case OVL_KIND_BRIDGE: return strcmp(l->kind, "bridge") == 0;
	case OVL_KIND_MACVLAN: return strcmp(l->kind, "macvlan") == 0;
	}
	return false;
}

static void create(struct planner *p, size_t i, const char *why)
{
	const struct ovl_want_link *w = &p->want->links[i];
	p->fresh[i] = true;
	add(p, OVL_ACT_ADD_LINK, "%s: %s", w->name, why)->link = w;
	p->plan->links_created++;
}

static void plan_links(struct planner *p)
{
	const struct ovl_desired *want = p->want;
	for (size_t i = 0; i < want->nlinks; i++) {
		const struct ovl_want_link *w = &want->links[i];
		const struct arbor_nl_link *l = have_link(p, w->name);
		if (l == NULL) {
			create(p, i, "missing");
			continue;
		}
		if (!kind_matches(w, l)) {
			char why[128];
			snprintf(why, sizeof why, "a %s link of someone else's has the name: not touched",
				 l->kind[0] ? l->kind : "plain");
			conflict(p->plan, w->name, why);
			continue;
		}
		const char *bad = w->kind == OVL_KIND_VXLAN ? vxlan_mismatch(&w->vx, &l->vxlan) : NULL;
		if (!bad && w->has_mac && (!l->has_mac || memcmp(l->mac, w->mac, 6) != 0))
			bad = "another Ethernet address";
		if (w->kind == OVL_KIND_MACVLAN) {
			const struct arbor_nl_link *parent = have_link(p, w->parent);
			if (parent && l->lower_index != parent->index)
				bad = "on another parent";
		}
		if (bad) {
			add(p, OVL_ACT_DEL_LINK, "%s: %s", w->name, bad)->ifindex = l->index;
			p->deleted[have_index(p, l)] = true;
			p->plan->links_deleted++;
			create(p, i, bad);
		}
	}
	for (size_t k = 0; k < p->have->nlinks; k++) {
		const struct arbor_nl_link *l = &p->have->links[k];
		if (p->deleted[k] || !ovl_owns_link(p->own, l))
			continue;
		size_t unused;
		if (want_link(p, l->name, &unused) == NULL) {
			add(p, OVL_ACT_DEL_LINK, "%s: no registry entry owns it", l->name)->ifindex = l->index;
			p->deleted[k] = true;
			p->plan->links_deleted++;
		}
	}
}

/* In-place corrections of links that stay. */
static void plan_link_settings(struct planner *p)
{
	const struct ovl_desired *want = p->want;
	for (size_t i = 0; i < want->nlinks; i++) {
		const struct ovl_want_link *w = &want->links[i];
		const struct arbor_nl_link *l = have_link(p, w->name);
		bool fresh = p->fresh[i];
		if (!fresh && (l == NULL || !kind_matches(w, l)))
			continue; /* a conflict */
		int ifindex = fresh ? 0 : l->index;
		bool changed = false;
		if (!fresh && w->mtu && l->mtu != w->mtu) {
			struct ovl_action *a = add(p, OVL_ACT_SET_MTU, "%s: MTU %u, not %u", w->name, w->mtu, l->mtu);
			a->ifindex = ifindex, a->link = w, changed = true;
		}
		const struct arbor_nl_link *master = w->master[0] ? have_link(p, w->master) : NULL;
		bool master_fresh = false;
		for (size_t k = 0; w->master[0] && k < want->nlinks; k++)
			if (p->fresh[k] && strcmp(want->links[k].name, w->master) == 0)
				master_fresh = true;
		int want_master = master && !master_fresh ? master->index : -1;
		if (fresh ? w->master[0] != '\0'
			  : (w->master[0] ? want_master != l->master_index : l->master_index != 0)) {
			struct ovl_action *a = add(p, OVL_ACT_SET_MASTER, "%s: into %s", w->name,
						   w->master[0] ? w->master : "no bridge");
			a->ifindex = ifindex, a->link = w, changed = true;
		}
		if (w->forwarding && (fresh || (l->ipv4_forwarding_known && !l->ipv4_forwarding))) {
			struct ovl_action *a = add(p, OVL_ACT_SET_FORWARDING, "%s: IPv4 forwarding", w->name);
			a->ifindex = ifindex, a->link = w, changed = !fresh || changed;
		}
		if (!fresh && !l->up) {
			struct ovl_action *a = add(p, OVL_ACT_SET_UP, "%s: down", w->name);
			a->ifindex = ifindex, a->link = w, changed = true;
		}
		p->plan->links_changed += changed && !fresh;
	}
}

static int cmp_addr(const void *x, const void *y)
{
	const struct arbor_nl_addr *a = x, *b = y;
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	uint32_t u = ntohl(a->addr.v4.s_addr), v = ntohl(b->addr.v4.s_addr);
	if (u != v)
		return u < v ? -1 : 1;
	return a->prefixlen < b->prefixlen ? -1 : a->prefixlen > b->prefixlen;
}

static void plan_addrs(struct planner *p)
{
	const struct ovl_desired *want = p->want;
	size_t n = 0;
	struct arbor_nl_addr *v4 = p->have->naddrs ? xmalloc(p->have->naddrs * sizeof *v4) : NULL;
	for (size_t i = 0; i < p->have->naddrs; i++)
		if (p->have->addrs[i].addr.family == AF_INET)
			v4[n++] = p->have->addrs[i];
	if (n)
		qsort(v4, n, sizeof *v4, cmp_addr);
	bool *kept = n ? xcalloc(n, sizeof *kept) : NULL;
	for (size_t i = 0; i < want->naddrs; i++) {
		const struct ovl_want_addr *w = &want->addrs[i];
		size_t li;
		const struct ovl_want_link *wl = want_link(p, w->link, &li);
		const struct arbor_nl_link *l = have_link(p, w->link);
		if (wl == NULL || (!p->fresh[li] && (l == NULL || !kind_matches(wl, l))))
			continue; /* no such link of ours (a conflict) */
		if (!p->fresh[li]) {
			struct arbor_nl_addr probe = { .ifindex = l->index, .prefixlen = w->prefixlen };
			probe.addr.family = AF_INET;
			probe.addr.v4 = w->addr;
			struct arbor_nl_addr *found = n ? bsearch(&probe, v4, n, sizeof *v4, cmp_addr) : NULL;
			if (found) {
				kept[found - v4] = true;
				continue;
			}
		}
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &w->addr, text, sizeof text);
		add(p, OVL_ACT_ADD_ADDR, "%s: address %s/%u missing", w->link, text, w->prefixlen)->addr = w;
		p->plan->addrs_changed++;
	}
	/* IPv4 addresses on links of ours that stay, that nothing wants. */
	for (size_t i = 0; i < n; i++) {
		if (kept[i])
			continue;
		const struct arbor_nl_link *l = have_by_index(p, v4[i].ifindex);
		if (l == NULL || p->deleted[have_index(p, l)] || !ovl_owns_link(p->own, l))
			continue;
		size_t li;
		const struct ovl_want_link *wl = want_link(p, l->name, &li);
		if (wl == NULL || !kind_matches(wl, l))
			continue;
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &v4[i].addr.v4, text, sizeof text);
		struct ovl_action *a = add(p, OVL_ACT_DEL_ADDR, "%s: address %s/%u not wanted", l->name, text,
					   v4[i].prefixlen);
		a->ifindex = l->index;
		a->old_addr = v4[i];
		p->plan->addrs_changed++;
	}
	free(kept);
	free(v4);
}

static int cmp_route_dst(const struct arbor_ipv4_prefix *a, const struct arbor_ipv4_prefix *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

static struct arbor_ipv4_prefix route_dst(const struct arbor_nl_route *r)
{
	return (struct arbor_ipv4_prefix){ ntohl(r->dst.v4.s_addr), r->prefixlen };
}

static int cmp_have_route(const void *x, const void *y)
{
	struct arbor_ipv4_prefix a = route_dst(*(const struct arbor_nl_route *const *)x);
	struct arbor_ipv4_prefix b = route_dst(*(const struct arbor_nl_route *const *)y);
	return cmp_route_dst(&a, &b);
}

static int cmp_want_route(const void *x, const void *y)
{
	return cmp_route_dst(&(*(const struct ovl_want_route *const *)x)->dst,
			     &(*(const struct ovl_want_route *const *)y)->dst);
}

/* Is the existing route r the wanted w, on the link it names? */
static bool route_right(struct planner *p, const struct ovl_want_route *w, const struct arbor_nl_route *r)
{
	size_t li;
	if (r->onlink != w->onlink || r->nexthops > 1 || r->metric != 0)
		return false;
	if (w->link[0] == '\0') /* through a gateway, whatever link the kernel chose */
		return w->gateway.s_addr && r->gateway.family == AF_INET && r->gateway.v4.s_addr == w->gateway.s_addr;
	const struct ovl_want_link *wl = want_link(p, w->link, &li);
	const struct arbor_nl_link *l = have_link(p, w->link);
	if (wl && p->fresh[li])
		return false; /* its link is new: the route went with the old one */
	if (l == NULL || r->ifindex != l->index)
		return false;
	if (w->gateway.s_addr == 0)
		return r->gateway.family == AF_UNSPEC;
	return r->gateway.family == AF_INET && r->gateway.v4.s_addr == w->gateway.s_addr;
}

static void plan_routes(struct planner *p)
{
	const struct ovl_kernel *have = p->have;
	const struct ovl_desired *want = p->want;
	size_t nh = 0;
	const struct arbor_nl_route **hv = have->nroutes ? xmalloc(have->nroutes * sizeof *hv) : NULL;
	for (size_t i = 0; i < have->nroutes; i++) {
		const struct arbor_nl_route *r = &have->routes[i];
		if (r->dst.family == AF_INET && r->protocol == p->own->route_protocol &&
		    (r->table == 0 || r->table == 254))
			hv[nh++] = r;
	}
	const struct ovl_want_route **wv = want->nroutes ? xmalloc(want->nroutes * sizeof *wv) : NULL;
	for (size_t i = 0; i < want->nroutes; i++)
		wv[i] = &want->routes[i];
	if (nh)
		qsort(hv, nh, sizeof *hv, cmp_have_route);
	if (want->nroutes)
		qsort(wv, want->nroutes, sizeof *wv, cmp_want_route);
	size_t a = 0, b = 0;
	char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
	while (a < nh || b < want->nroutes) {
		struct arbor_ipv4_prefix hd = a < nh ? route_dst(hv[a]) : (struct arbor_ipv4_prefix){ 0, 0 };
		int c = a >= nh ? 1 : b >= want->nroutes ? -1 : cmp_route_dst(&hd, &wv[b]->dst);
		if (c < 0) { /* ours, unwanted */
			struct ovl_action *x = add(p, OVL_ACT_DEL_ROUTE, "route %s: no registry entry owns it",
						   arbor_ipv4_prefix_format(&hd, net, sizeof net));
			x->old_route = *hv[a];
			p->plan->routes_changed++;
			a++;
			continue;
		}
		const struct ovl_want_route *w = wv[b];
		/* Ours for this destination: [a, end). Keep one right one; a wrong one with
		 * metric 0 is replaced by the route added; any other is removed. */
		size_t end = a, right = SIZE_MAX;
		for (; end < nh; end++) {
			struct arbor_ipv4_prefix d = route_dst(hv[end]);
			if (cmp_route_dst(&d, &w->dst) != 0)
				break;
			if (right == SIZE_MAX && route_right(p, w, hv[end]))
				right = end;
		}
		for (size_t k = a; k < end; k++) {
			if (k == right || (right == SIZE_MAX && hv[k]->metric == 0))
				continue;
			struct ovl_action *x = add(p, OVL_ACT_DEL_ROUTE, "route %s: a second one",
						   arbor_ipv4_prefix_format(&w->dst, net, sizeof net));
			x->old_route = *hv[k];
			p->plan->routes_changed++;
		}
		if (right == SIZE_MAX) {
			add(p, OVL_ACT_ADD_ROUTE, "route %s dev %s: %s", arbor_ipv4_prefix_format(&w->dst, net, sizeof net),
			    w->link, end > a ? "wrong" : "missing")->route = w;
			p->plan->routes_changed++;
		}
		a = end;
		b++;
	}
	free(hv);
	free(wv);
}

static int action_rank(enum ovl_action_kind k)
{
	return (int)k;
}

static int cmp_action(const void *x, const void *y)
{
	const struct ovl_action *a = x, *b = y;
	int d = action_rank(a->kind) - action_rank(b->kind);
	if (d)
		return d;
	return a->order < b->order ? -1 : a->order > b->order; /* bridges before their ports */
}

void ovl_plan_make(const struct ovl_desired *want, const struct ovl_kernel *have, const struct ovl_ownership *own,
		   struct ovl_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	struct planner p = { .want = want, .have = have, .own = own, .plan = plan };
	p.by_name = have->nlinks ? xmalloc(have->nlinks * sizeof *p.by_name) : NULL;
	for (size_t i = 0; i < have->nlinks; i++)
		p.by_name[i] = &have->links[i];
	if (have->nlinks)
		qsort(p.by_name, have->nlinks, sizeof *p.by_name, cmp_link_ptr);
	p.by_index = have->nlinks ? xmalloc(have->nlinks * sizeof *p.by_index) : NULL;
	if (have->nlinks) {
		memcpy(p.by_index, p.by_name, have->nlinks * sizeof *p.by_index);
		qsort(p.by_index, have->nlinks, sizeof *p.by_index, cmp_index_ptr);
	}
	p.want_sorted = xcalloc(want->nlinks + 1, sizeof *p.want_sorted);
	for (size_t i = 0; i < want->nlinks; i++)
		p.want_sorted[i] = i;
	if (want->nlinks)
		qsort_r(p.want_sorted, want->nlinks, sizeof *p.want_sorted, cmp_want_index, (void *)want);
	p.fresh = xcalloc(want->nlinks + 1, sizeof *p.fresh);
	p.deleted = xcalloc(have->nlinks + 1, sizeof *p.deleted);
	plan_links(&p);
	plan_link_settings(&p);
	plan_addrs(&p);
	plan_routes(&p);
	/* qsort is not stable: sort by (kind, planned position), which is. */
	if (plan->nactions > 1)
		qsort(plan->actions, plan->nactions, sizeof *plan->actions, cmp_action);
	free(p.by_name);
	free(p.by_index);
	free(p.want_sorted);
	free(p.fresh);
	free(p.deleted);
}

void ovl_plan_free(struct ovl_plan *plan)
{
	free(plan->actions);
	free(plan->conflicts);
	memset(plan, 0, sizeof *plan);
}

const char *ovl_action_name(enum ovl_action_kind kind)
{
	switch (kind) {
	case OVL_ACT_DEL_ROUTE: return "delete route";
	case OVL_ACT_DEL_ADDR: return "delete address";
	case OVL_ACT_DEL_LINK: return "delete link";
	case OVL_ACT_ADD_LINK: return "create link";
	case OVL_ACT_SET_MTU: return "set MTU";
	case OVL_ACT_SET_MASTER: return "set bridge";
	case OVL_ACT_SET_FORWARDING: return "enable forwarding";
	case OVL_ACT_SET_UP: return "set up";
	case OVL_ACT_ADD_ADDR: return "add address";
	case OVL_ACT_ADD_ROUTE: return "add route";
	}
	return "?";
}
