/* The server side's UDP port 547: one socket per interface that serves (a LAN's
 * stateless DHCPv6, a delegating server, or both), bound to the device and joined
 * to All_DHCP_Relay_Agents_and_Servers (ff02::1:2). Datagrams are read in batches
 * (recvmmsg) and handed on one by one; batch_done runs after each batch, so a
 * server can commit once for all of it. Answers go out in batches too. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "dhcp6_wire.h"

struct d6socks;

typedef void d6socks_packet_fn(void *ctx, int ifindex, const char *ifname, const struct sockaddr_in6 *from,
			       const uint8_t *pkt, size_t len);
typedef void d6socks_batch_fn(void *ctx);

/* Opens port 547 on each of ifnames[0..n) (duplicates are opened once). NULL with
 * a reason in err; nothing stays open then. */
struct d6socks *d6socks_open(struct event_base *base, const char *const *ifnames, size_t n, d6socks_packet_fn *packet,
			     d6socks_batch_fn *batch_done, void *ctx, char *err, size_t errlen);
void d6socks_close(struct d6socks *s);

/* An answer waiting to be sent (to: the client's port 546, or a relay's 547). */
struct d6socks_out {
	int ifindex;
	struct sockaddr_in6 to;
	uint16_t len;
	/* An answer is a few hundred bytes; 1024 holds one wrapped in eight relay
	 * levels. Kept small: hundreds of these wait for each commit. */
	uint8_t pkt[1024];
};

/* Sends *out[0..n) (entries of length 0 are skipped), one sendmmsg per run on
 * the same interface. Returns how many could not be sent. */
size_t d6socks_send(struct d6socks *s, const struct d6socks_out *const *out, size_t n);
uint64_t d6socks_received(const struct d6socks *s);
uint64_t d6socks_truncated(const struct d6socks *s);
