/* The server identifier and the "auto" subnet (see interface_subnet.h). */
#include "interface_subnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "ipv4_alloc.h"
#include "ipv4_alloc_kernel.h"
#include "log.h"
#include "netlink.h"
#include "statefile.h"
#include "xalloc.h"

int interface_server_id(const struct server_spec *spec, uint32_t *out, char *err, size_t errlen)
{
	if (spec->server_id) {
		*out = spec->server_id;
		return 0;
	}
	struct arbor_nl *nl = arbor_nl_open(err, errlen);
	if (nl == NULL)
		return -1;
	int ifindex = arbor_nl_link_index(nl, spec->interface);
	struct arbor_nl_addr *addrs = NULL;
	size_t n = 0;
	int rc = ifindex > 0 ? arbor_nl_addrs(nl, AF_INET, ifindex, &addrs, &n) : ifindex;
	*out = 0;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		uint32_t a = ntohl(addrs[i].addr.v4.s_addr);
		if (((a ^ spec->network) >> (32 - spec->prefixlen)) == 0)
			*out = a;
	}
	free(addrs);
	char net[16];
	format_ipv4(spec->network, net, sizeof net);
	if (ifindex < 0)
		snprintf(err, errlen, "interface %s: %s", spec->interface, arbor_nl_error(nl));
	else if (*out == 0)
		snprintf(err, errlen, "%s has no IPv4 address in %s/%u: add one, or set server_id", spec->interface, net,
			 spec->prefixlen);
	arbor_nl_close(nl);
	return *out ? 0 : -1;
}

/* The subnet is keyed by the interface, avoiding every prefix the machine's
 * routes and addresses use. The interface's address stays at stop (the subnet
 * is the interface's for good), and it is the router unless the options name
 * one. The pool is the rest of the hosts. */
int interface_auto_subnet(const char *dir, struct server_spec *spec, char *err, size_t errlen)
{
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	struct arbor_nl *nl = arbor_nl_open(err, errlen);
	char *text = NULL;
	size_t len = 0;
	int rc = nl ? 0 : -1;
	if (rc == 0 && arbor_state_read(dir, "subnets.json", &text, &len, 16 << 20) == 0) {
		cJSON *doc = cJSON_ParseWithLength(text, len);
		rc = arbor_ipv4_alloc_from_json(a, doc, err, errlen);
		cJSON_Delete(doc);
		free(text);
	}
	struct arbor_ipv4_prefix prefix;
	if (rc == 0)
		rc = arbor_ipv4_alloc_read_kernel(a, nl, err, errlen);
	if (rc == 0)
		rc = arbor_ipv4_alloc_allocate(a, spec->interface, spec->auto_prefixlen, (int64_t)arbor_time_wall(), &prefix,
					       err, errlen);
	if (rc == 1) { /* new: persist before anyone hears of it */
		cJSON *doc = arbor_ipv4_alloc_to_json(a);
		rc = arbor_state_write_json(dir, "subnets.json", doc, err, errlen);
		cJSON_Delete(doc);
	}
	if (rc == 0) {
		uint32_t size = 1u << (32 - prefix.len);
		spec->network = prefix.addr;
		spec->prefixlen = prefix.len;
		free(spec->pools);
		spec->pools = xcalloc(1, sizeof *spec->pools);
		spec->npools = 1;
		spec->pools[0].name = xstrdup("auto");
		spec->pools[0].range.first = prefix.addr + 2;
		spec->pools[0].range.last = prefix.addr + size - 2;
		uint32_t id;
		char ignored[200];
		if (interface_server_id(spec, &id, ignored, sizeof ignored) != 0) {
			struct arbor_nl_ip ip = { .family = AF_INET };
			ip.v4.s_addr = htonl(prefix.addr + 1);
			int ifindex = arbor_nl_link_index(nl, spec->interface);
			rc = ifindex > 0 ? arbor_nl_addr_add(nl, ifindex, &ip, prefix.len, NULL) : ifindex;
			if (rc < 0)
				snprintf(err, errlen, "%s: %s", spec->interface, arbor_nl_error(nl));
			else
				rc = 0;
		}
		if (rc == 0 && spec->options.router == 0)
			spec->options.router = prefix.addr + 1;
		char shown[ARBOR_IPV4_PREFIX_TEXT_MAX];
		if (rc == 0)
			log_info("%s: subnet %s (auto)", spec->interface, arbor_ipv4_prefix_format(&prefix, shown, sizeof shown));
	}
	if (nl)
		arbor_nl_close(nl);
	arbor_ipv4_alloc_free(a);
	return rc == 0 ? 0 : -1;
}
