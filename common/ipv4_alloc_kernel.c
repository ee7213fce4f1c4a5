/* The allocator's "in use" list from rtnetlink (see ipv4_alloc_kernel.h): the only part of
 * the allocator that touches the kernel. */
#include "ipv4_alloc_kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include "netlink.h"
#include "xalloc.h"

/* The shortest route that says which subnets are taken: 0/0 and the 0/1 + 128/1 halves
 * cover every private range. */
#define MIN_ROUTE_LEN 2

static void owner_of(const struct arbor_nl_link *links, size_t nlinks, int ifindex, char *owner,
		     size_t len)
{
	owner[0] = '\0';
	for (size_t i = 0; i < nlinks; i++) {
		if (links[i].index == ifindex) {
			snprintf(owner, len, "%s", links[i].name);
			return;
		}
	}
}

/* By prefix, then owner, so duplicates sit side by side. */
static int compare_uses(const void *x, const void *y)
{
	const struct arbor_ipv4_in_use *a = x, *b = y;
	if (a->prefix.addr != b->prefix.addr)
		return a->prefix.addr < b->prefix.addr ? -1 : 1;
	if (a->prefix.len != b->prefix.len)
		return a->prefix.len < b->prefix.len ? -1 : 1;
	return strcmp(a->owner, b->owner);
}

/* An address and the route the kernel made for it name the same prefix on the same
 * interface: keep one, so a collision is reported once. Returns the new count. */
static size_t drop_duplicates(struct arbor_ipv4_in_use *list, size_t n)
{
	if (n == 0)
		return 0;
	qsort(list, n, sizeof(*list), compare_uses);
	size_t out = 0;
	for (size_t i = 1; i < n; i++)
		if (compare_uses(&list[out], &list[i]) != 0)
			list[++out] = list[i];
	return out + 1;
}

static bool route_counts(const struct arbor_nl_route *r)
{
	if (r->dst.family != AF_INET || r->prefixlen > 32 || r->prefixlen < MIN_ROUTE_LEN)
		return false;
	switch (r->type) {
	case RTN_LOCAL:
	case RTN_BROADCAST:
	case RTN_ANYCAST:
	case RTN_MULTICAST:
		return false;
	}
	return true;
}

int arbor_ipv4_in_use_from_kernel(struct arbor_nl *nl, struct arbor_ipv4_in_use **out, size_t *n,
				  char *err, size_t errlen)
{
	struct arbor_nl_route *routes = NULL;
	struct arbor_nl_addr *addrs = NULL;
	struct arbor_nl_link *links = NULL;
	struct arbor_ipv4_in_use *list = NULL;
	size_t nroutes = 0, naddrs = 0, nlinks = 0;
	*out = NULL;
	*n = 0;
	int rc = arbor_nl_links(nl, &links, &nlinks);
	if (rc >= 0)
		rc = arbor_nl_routes(nl, AF_INET, RT_TABLE_MAIN, &routes, &nroutes);
	if (rc >= 0)
		rc = arbor_nl_addrs(nl, AF_INET, 0, &addrs, &naddrs);
	if (rc < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "IPv4 prefixes in use: %s", arbor_nl_error(nl));
		goto done;
	}
	if (nroutes + naddrs > 0)
		list = xcalloc(nroutes + naddrs, sizeof(*list));
	size_t used = 0;
	for (size_t i = 0; i < nroutes; i++) {
		const struct arbor_nl_route *r = &routes[i];
		if (!route_counts(r))
			continue;
		struct arbor_ipv4_in_use *u = &list[used++];
		arbor_ipv4_prefix_covering(&u->prefix, ntohl(r->dst.v4.s_addr), r->prefixlen);
		owner_of(links, nlinks, r->ifindex, u->owner, sizeof(u->owner));
	}
	for (size_t i = 0; i < naddrs; i++) {
		const struct arbor_nl_addr *ad = &addrs[i];
		if (ad->addr.family != AF_INET || ad->prefixlen < 1 || ad->prefixlen > 32)
			continue;
		struct arbor_ipv4_in_use *u = &list[used++];
		arbor_ipv4_prefix_covering(&u->prefix, ntohl(ad->addr.v4.s_addr), ad->prefixlen);
		owner_of(links, nlinks, ad->ifindex, u->owner, sizeof(u->owner));
	}
	used = drop_duplicates(list, used);
	if (used == 0) {
		free(list);
		list = NULL;
	}
	*out = list;
	*n = used;
	rc = 0;
done:
	free(routes);
	free(addrs);
	free(links);
	return rc;
}

int arbor_ipv4_alloc_read_kernel(struct arbor_ipv4_alloc *a, struct arbor_nl *nl, char *err,
				 size_t errlen)
{
	struct arbor_ipv4_in_use *list;
	size_t n;
	int rc = arbor_ipv4_in_use_from_kernel(nl, &list, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = arbor_ipv4_alloc_set_in_use(a, list, n, err, errlen);
	free(list);
	return rc;
}
