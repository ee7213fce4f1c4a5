/* The client's lease file (client-<ifname>.json in the state directory): the lease
 * as the server gave it, and exactly what we changed in the kernel for it, so a
 * restarted daemon can reuse the lease (INIT-REBOOT) and still remove precisely
 * what it added. Readable with jq. */
#pragma once
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "client.h"

#define APPLIED_ROUTES_MAX (DHCP_ROUTES_MAX + 2)

struct applied_route {
	struct in_addr dest;
	uint8_t prefix_len;
	struct in_addr gateway; /* 0: on-link */
};

/* What this client put into the kernel. */
struct applied_state {
	bool address;
	struct in_addr addr;
	uint8_t prefix_len;
	size_t nroutes;
	struct applied_route routes[APPLIED_ROUTES_MAX];
	uint32_t metric;
	unsigned mtu_restore; /* the MTU before ours; 0: we did not change it */
};

cJSON *client_lease_file_encode(const char *ifname, const char *state, const struct client_lease *lease,
				const struct applied_state *applied);
/* Reads back what encode wrote. A missing or unreadable lease leaves lease->valid
 * false; applied is filled whenever present (so it can be undone). Returns 0 or
 * -EBADMSG with a reason. */
int client_lease_file_decode(const cJSON *doc, struct client_lease *lease, struct applied_state *applied,
			     char *err, size_t errlen);
