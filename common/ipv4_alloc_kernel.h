/* The IPv4 allocator's view of the kernel: which prefixes the machine's routes and
 * addresses already use, so the allocator (ipv4_alloc.h) never hands them out. Kept
 * apart from ipv4_alloc.h because only this part needs rtnetlink (libnl). */
#pragma once
#include <stddef.h>

#include "ipv4_alloc.h"

struct arbor_nl;

/*
 * What is in use, into a malloc'd array the caller frees (NULL when *n is 0): the
 * destination of every IPv4 route in the main table and the subnet of every IPv4 address
 * (10.2.3.4/24 uses 10.2.3.0/24; a /32 only itself), each with owner set to the name of
 * the interface the address is on or the route goes out of ("" if none). Left out: the
 * default route 0.0.0.0/0 and the 0.0.0.0/1 + 128.0.0.0/1 pair VPNs use to override it
 * (they cover everything and say nothing about which subnets are taken), and local,
 * broadcast, anycast and multicast routes. 0, or a negative errno with err filled.
 */
int arbor_ipv4_in_use_from_kernel(struct arbor_nl *nl, struct arbor_ipv4_in_use **out, size_t *n,
				  char *err, size_t errlen);
/* The same, handed to arbor_ipv4_alloc_set_in_use: the one call a daemon makes before
 * allocating or checking for conflicts. */
int arbor_ipv4_alloc_read_kernel(struct arbor_ipv4_alloc *a, struct arbor_nl *nl, char *err,
				 size_t errlen);
