/* The record sources: config (static records, the name server's own addresses,
 * declared hosts), interfaces (<ifname>.<zone>), children (delegations with glue)
 * and leases (<host>.<ifname>.<zone> from dhcp4d). Each also writes the PTR
 * records for its addresses that fall inside a reverse zone we serve. */
#include "sources.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_derive.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "xalloc.h"

void record_list_free(struct record_list *l)
{
	for (size_t i = 0; i < l->nblocks; i++)
		free(l->blocks[i]);
	free(l->blocks);
	free(l->r);
	memset(l, 0, sizeof *l);
}

static int add_wire(struct record_list *l, const uint8_t *owner, size_t owner_len, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, size_t rdlen)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->r = xrealloc(l->r, l->cap * sizeof *l->r);
		l->blocks = xrealloc(l->blocks, l->cap * sizeof *l->blocks);
	}
	uint8_t *block = xmalloc(owner_len + rdlen + 1);
	memcpy(block, owner, owner_len);
	memcpy(block + owner_len, rdata, rdlen);
	l->blocks[l->nblocks++] = block;
	l->r[l->n++] = (struct zone_record){ block, owner_len, type, ttl, block + owner_len, rdlen };
	return 0;
}

static int add_text(struct record_list *l, const char *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
		    size_t rdlen, char *err, size_t errlen)
{
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	int len = arbor_dns_name_from_text(owner, wire, sizeof wire);
	if (len < 0) {
		snprintf(err, errlen, "\"%s\" is not a DNS name (too long?)", owner);
		return -EINVAL;
	}
	return add_wire(l, wire, (size_t)len, type, ttl, rdata, rdlen);
}

/* "label" + "." + parent (absolute). */
static int join(char *out, size_t len, const char *label, const char *parent)
{
	int n = snprintf(out, len, "%s.%s", label, parent);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Whether name (absolute text) is at or below apex (absolute text). */
static bool within(const char *name, const char *apex)
{
	size_t n = strlen(name), a = strlen(apex);
	if (n < a || strcasecmp(name + n - a, apex) != 0)
		return false;
	return n == a || name[n - a - 1] == '.';
}

static bool in_reverse(const struct dnsd_world *w, const char *name)
{
	for (size_t i = 0; i < w->nreverse; i++)
		if (within(name, w->reverse_apexes[i]))
			return true;
	return false;
}

static void ptr_name(int family, const uint8_t *a, char *out, size_t len)
{
	if (family == AF_INET) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2], a[1], a[0]);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (int i = 15; i >= 0 && k + 4 < len; i--) {
		out[k++] = hex[a[i] & 15];
		out[k++] = '.';
		out[k++] = hex[a[i] >> 4];
		out[k++] = '.';
	}
	snprintf(out + k, len - k, "ip6.arpa.");
}

/* An address record at owner, and its PTR when a reverse zone holds it. */
static int add_address(const struct dnsd_world *w, struct record_list *l, const char *owner, int family,
		       const uint8_t *addr, uint32_t ttl, char *err, size_t errlen)
{
	int rc = add_text(l, owner, family == AF_INET ? ARBOR_DNS_TYPE_A : ARBOR_DNS_TYPE_AAAA, ttl, addr,
			  family == AF_INET ? 4 : 16, err, errlen);
	if (rc < 0)
		return rc;
	char ptr[80];
	ptr_name(family, addr, ptr, sizeof ptr);
	if (!in_reverse(w, ptr))
		return 0;
	uint8_t target[ARBOR_DNS_NAME_WIRE_MAX];
	int tlen = arbor_dns_name_from_text(owner, target, sizeof target);
	if (tlen < 0)
		return 0;
	return add_text(l, ptr, ARBOR_DNS_TYPE_PTR, ttl, target, (size_t)tlen, err, errlen);
}

static int add_derived(const struct dnsd_world *w, struct record_list *l, const char *owner, const char *ifname,
		       const char *host_id, uint32_t ttl, char *err, size_t errlen)
{
	if (w->machine_id == NULL || host_id == NULL || w->subnet_id == NULL)
		return 0;
	int sid = w->subnet_id(w->ctx, ifname);
	if (sid < 0)
		return 0;
	struct in6_addr a;
	if (arbor_addr_derive(w->machine_id, (uint16_t)sid, host_id, &a) != 0)
		return 0;
	return add_address(w, l, owner, AF_INET6, a.s6_addr, ttl, err, errlen);
}

int sources_reverse_apex_v4(const struct dnsd_net *net, char *out, size_t len)
{
	const uint8_t *a = net->addr;
	switch (net->prefix) {
	case 8: return snprintf(out, len, "%u.in-addr.arpa.", a[0]) < (int)len ? 0 : -ENOSPC;
	case 16: return snprintf(out, len, "%u.%u.in-addr.arpa.", a[1], a[0]) < (int)len ? 0 : -ENOSPC;
	case 24: return snprintf(out, len, "%u.%u.%u.in-addr.arpa.", a[2], a[1], a[0]) < (int)len ? 0 : -ENOSPC;
	default: return -EINVAL;
	}
}

int sources_reverse_apex_ula(const char *machine_id, char *out, size_t len)
{
	struct in6_addr p;
	if (arbor_addr_machine_prefix(machine_id, &p) != 0)
		return -EINVAL;
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (int i = 5; i >= 0; i--) {
		if (k + 5 > len)
			return -ENOSPC;
		out[k++] = hex[p.s6_addr[i] & 15];
		out[k++] = '.';
		out[k++] = hex[p.s6_addr[i] >> 4];
		out[k++] = '.';
	}
	return snprintf(out + k, len - k, "ip6.arpa.") < (int)(len - k) ? 0 : -ENOSPC;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int sources_config(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = w->cfg;
	uint8_t origin[ARBOR_DNS_NAME_WIRE_MAX];
	int olen = arbor_dns_name_from_text(w->zone, origin, sizeof origin);
	if (olen < 0) {
		snprintf(err, errlen, "zone \"%s\" is not a DNS name", w->zone);
		return -EINVAL;
	}
	char owner[ARBOR_DNS_NAME_TEXT_MAX + 300];
	for (size_t i = 0; i < cfg->nrecords; i++) {
		const struct dnsd_record_spec *r = &cfg->records[i];
		size_t nlen = strlen(r->name);
		if (strcmp(r->name, "@") == 0)
			snprintf(owner, sizeof owner, "%s", w->zone);
		else if (nlen && r->name[nlen - 1] == '.')
			snprintf(owner, sizeof owner, "%s", r->name);
		else if (join(owner, sizeof owner, r->name, w->zone) < 0) {
			snprintf(err, errlen, "records[%zu]: name too long", i);
			return -EINVAL;
		}
		uint8_t rdata[ARBOR_DNS_MAX_MSG];
		char why[200];
		int len = rdata_from_text(r->type, r->data, origin, (size_t)olen, rdata, sizeof rdata, why, sizeof why);
		if (len < 0) {
			snprintf(err, errlen, "records[%zu]: %s", i, why);
			return -EINVAL;
		}
		if (add_text(out, owner, (uint16_t)r->type, r->ttl, rdata, (size_t)len, err, errlen) < 0)
			return -EINVAL;
		/* A static A/AAAA gets its PTR too, when a reverse zone holds it. */
		if ((r->type == ARBOR_DNS_TYPE_A && len == 4) || (r->type == ARBOR_DNS_TYPE_AAAA && len == 16)) {
			char ptr[80];
			ptr_name(len == 4 ? AF_INET : AF_INET6, rdata, ptr, sizeof ptr);
			uint8_t target[ARBOR_DNS_NAME_WIRE_MAX];
			int tlen = arbor_dns_name_from_text(owner, target, sizeof target);
			if (in_reverse(w, ptr) && tlen > 0 &&
			    add_text(out, ptr, ARBOR_DNS_TYPE_PTR, r->ttl, target, (size_t)tlen, err, errlen) < 0)
				return -EINVAL;
		}
	}
	/* The machine's own name (the apex) and its name server's (ns.<zone>): the
	 * addresses we listen on, the loopback ones only when there is nothing else.
	 * The PTR names the machine. */
	char ns[ARBOR_DNS_NAME_TEXT_MAX + 8];
	join(ns, sizeof ns, "ns", w->zone);
	bool any_public = false;
	for (size_t i = 0; i < cfg->nlisten; i++)
		any_public |= !is_loopback(&cfg->listen[i].addr);
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr_storage *ss = &cfg->listen[i].addr;
		if (any_public && is_loopback(ss))
			continue;
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= memcmp(&cfg->listen[j].addr, ss, sizeof *ss) == 0 ||
			       (ss->ss_family == AF_INET && cfg->listen[j].addr.ss_family == AF_INET &&
				((const struct sockaddr_in *)&cfg->listen[j].addr)->sin_addr.s_addr ==
					((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		if (dup)
			continue;
		bool v4 = ss->ss_family == AF_INET;
		const uint8_t *a = v4 ? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
				      : ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		uint16_t type = v4 ? ARBOR_DNS_TYPE_A : ARBOR_DNS_TYPE_AAAA;
		if (add_text(out, ns, type, cfg->ttl, a, v4 ? 4 : 16, err, errlen) < 0 ||
		    add_address(w, out, w->zone, v4 ? AF_INET : AF_INET6, a, cfg->ttl, err, errlen) < 0)
			return -EINVAL;
	}
	for (size_t i = 0; i < cfg->nhosts; i++) {
		const struct dnsd_host_spec *h = &cfg->hosts[i];
		char sub[ARBOR_DNS_NAME_TEXT_MAX + 80];
		if (join(sub, sizeof sub, h->interface, w->zone) < 0 || join(owner, sizeof owner, h->name, sub) < 0) {
			snprintf(err, errlen, "hosts[%zu]: name too long", i);
			return -EINVAL;
		}
		if (h->has_ipv4 && add_address(w, out, owner, AF_INET, (const uint8_t *)&h->ipv4, cfg->ttl, err, errlen) < 0)
			return -EINVAL;
		if (add_derived(w, out, owner, h->interface, h->host_id, cfg->ttl, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

static bool dns_label(const char *s)
{
	if (*s == '\0' || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

int sources_interfaces(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen)
{
	char owner[ARBOR_DNS_NAME_TEXT_MAX + 80];
	for (size_t i = 0; i < w->nifaces; i++) {
		const struct iface_addr *ia = &w->ifaces[i];
		if (!dns_label(ia->name) || join(owner, sizeof owner, ia->name, w->zone) < 0)
			continue;
		if (ia->family == AF_INET && add_address(w, out, owner, AF_INET, ia->addr, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= strcmp(w->ifaces[j].name, ia->name) != 0;
		if (first && add_derived(w, out, owner, ia->name, w->machine_id, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

/* The child's lease on its interface, found by what the client cannot choose
 * for itself: the hardware address or client identifier the config names (so
 * also a reservation's). Never by hostname: any host on the LAN may ask for the
 * child's name and would take over its delegation. */
static const struct dhcp_lease *child_lease(const struct dnsd_world *w, const struct dnsd_child_spec *c)
{
	for (size_t i = 0; i < w->nleases; i++) {
		const struct dhcp_lease *l = &w->leases[i];
		if (strcmp(l->interface, c->interface) != 0)
			continue;
		if (c->mac_len && l->mac_len == c->mac_len && memcmp(l->mac, c->mac, c->mac_len) == 0)
			return l;
		if (c->client_id_len && l->client_id_len == c->client_id_len &&
		    memcmp(l->client_id, c->client_id, c->client_id_len) == 0)
			return l;
	}
	return NULL;
}

int sources_children(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = w->cfg;
	for (size_t i = 0; i < cfg->nchildren; i++) {
		const struct dnsd_child_spec *c = &cfg->children[i];
		char sub[ARBOR_DNS_NAME_TEXT_MAX + 80], apex[ARBOR_DNS_NAME_TEXT_MAX + 160], ns[ARBOR_DNS_NAME_TEXT_MAX + 170];
		if (join(sub, sizeof sub, c->interface, w->zone) < 0 || join(apex, sizeof apex, c->name, sub) < 0 ||
		    join(ns, sizeof ns, "ns", apex) < 0) {
			snprintf(err, errlen, "children[%zu]: name too long", i);
			return -EINVAL;
		}
		struct in_addr v4 = c->ipv4;
		bool has_v4 = c->has_ipv4;
		const struct dhcp_lease *l = has_v4 ? NULL : child_lease(w, c);
		if (l) {
			v4 = l->addr;
			has_v4 = true;
		}
		struct in6_addr v6;
		bool has_v6 = c->machine_id && arbor_addr_derive(c->machine_id, 0, c->machine_id, &v6) == 0;
		if (!has_v4 && !has_v6)
			continue; /* no glue, no delegation: the child is not reachable yet */
		uint8_t target[ARBOR_DNS_NAME_WIRE_MAX];
		int tlen = arbor_dns_name_from_text(ns, target, sizeof target);
		if (tlen < 0 || add_text(out, apex, ARBOR_DNS_TYPE_NS, cfg->ttl, target, (size_t)tlen, err, errlen) < 0)
			return -EINVAL;
		if (has_v4 && add_text(out, ns, ARBOR_DNS_TYPE_A, cfg->ttl, (const uint8_t *)&v4, 4, err, errlen) < 0)
			return -EINVAL;
		/* The child's address points back at the child's name (the lease's PTR
		 * is not published: the name is delegated). */
		char ptr[80];
		uint8_t apex_wire[ARBOR_DNS_NAME_WIRE_MAX];
		int alen = arbor_dns_name_from_text(apex, apex_wire, sizeof apex_wire);
		if (has_v4 && alen > 0 && (ptr_name(AF_INET, (const uint8_t *)&v4, ptr, sizeof ptr), in_reverse(w, ptr)) &&
		    add_text(out, ptr, ARBOR_DNS_TYPE_PTR, cfg->ttl, apex_wire, (size_t)alen, err, errlen) < 0)
			return -EINVAL;
		if (has_v6 && add_text(out, ns, ARBOR_DNS_TYPE_AAAA, cfg->ttl, v6.s6_addr, 16, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int sources_leases(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen)
{
	char owner[ARBOR_DNS_NAME_TEXT_MAX + 160];
	for (size_t i = 0; i < w->nleases; i++) {
		const struct dhcp_lease *l = &w->leases[i];
		if (!dns_label(l->hostname) || !dns_label(l->interface))
			continue;
		bool delegated = false;
		for (size_t c = 0; c < w->cfg->nchildren; c++)
			delegated |= strcmp(w->cfg->children[c].interface, l->interface) == 0 &&
				     strcasecmp(w->cfg->children[c].name, l->hostname) == 0;
		if (delegated)
			continue; /* the child's own zone answers for its name */
		char sub[ARBOR_DNS_NAME_TEXT_MAX + 80];
		if (join(sub, sizeof sub, l->interface, w->zone) < 0 || join(owner, sizeof owner, l->hostname, sub) < 0)
			continue;
		if (add_address(w, out, owner, AF_INET, (const uint8_t *)&l->addr, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
		if (add_derived(w, out, owner, l->interface, l->hostname, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int sources_wg_peers(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen)
{
	char sub[ARBOR_DNS_NAME_TEXT_MAX + 80], owner[ARBOR_DNS_NAME_TEXT_MAX + 160];
	for (size_t i = 0; i < w->npeers; i++) {
		const struct wg_peer_name *p = &w->peers[i];
		if (join(sub, sizeof sub, p->interface, w->zone) < 0 || join(owner, sizeof owner, p->name, sub) < 0)
			continue;
		if (p->has_ipv4 && add_address(w, out, owner, AF_INET, (const uint8_t *)&p->ipv4, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
		if (p->has_ipv6 && add_address(w, out, owner, AF_INET6, p->ipv6.s6_addr, w->cfg->ttl, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}
