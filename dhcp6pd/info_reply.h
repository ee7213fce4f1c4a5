/* The answer to an Information-Request (stateless DHCPv6, RFC 8415 §18.3.6):
 * pure. DNS servers and the search list a LAN's plan gives (lan_plan.h: what is
 * withdrawn from its RAs is not here either), and the Information Refresh Time. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dhcp6_wire.h"

struct info_content {
	const struct in6_addr *dns;
	size_t ndns;
	const char *const *search;
	size_t nsearch;
	uint32_t refresh;
};

/* The REPLY to req into buf. Returns its length, 0 when req must go unanswered
 * (not an Information-Request, another server's id, an IA in it: §16.12), or
 * -ENOSPC. */
int info_reply_build(const struct dhcp6_message *req, const uint8_t *server_duid, size_t server_duid_len,
		     const struct info_content *c, uint8_t *buf, size_t cap);
