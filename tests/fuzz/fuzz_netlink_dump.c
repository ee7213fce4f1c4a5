/* libFuzzer harness for the rtnetlink parser that dumps and notifications go
 * through (common/netlink.c, libnl underneath): arbitrary bytes as a run of
 * netlink messages must yield links, addresses and routes or nothing, never a
 * crash or a read past the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"

static void seen(void *ctx, const struct arbor_nl_change *c)
{
	/* Touch what a caller reads. */
	size_t *n = ctx;
	if (c->kind == ARBOR_NL_LINK_NEW || c->kind == ARBOR_NL_LINK_DEL)
		*n += strnlen(c->link.name, sizeof c->link.name) + c->link.vxlan.port;
	else
		(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Netlink messages are 4-byte aligned in a datagram: copy to aligned memory. */
	void *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	size_t n = 0;
	arbor_nl_parse_messages(buf, size, seen, &n);
	free(buf);
	return 0;
}
