/* What a served subnet needs from the machine: the server identifier (the
 * interface's address in the subnet) and, for "subnet": "auto", the subnet
 * itself, from the IPv4 allocator (common/ipv4_alloc.c). Both ask the kernel
 * through netlink. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "server_config.h"

/* The server identifier: spec->server_id when configured, else the
 * interface's IPv4 address inside the subnet. 0, or -1 with err set. */
int interface_server_id(const struct server_spec *spec, uint32_t *out, char *err, size_t errlen);
/* Fills spec's subnet, its one pool and (unless configured) its router from the
 * allocator's subnet for spec->interface, persisted in <state_dir>/subnets.json
 * (asking again gives the same one), and gives the interface the subnet's first
 * host address if it has none in it. 0, or -1 with err set. */
int interface_auto_subnet(const char *state_dir, struct server_spec *spec, char *err, size_t errlen);
