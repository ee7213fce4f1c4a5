/* Turning a server decision into the reply on the wire: the options a subnet
 * gives, in the order the client asked for them (dhcp_wire.h does the encoding). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "dhcp_wire.h"
#include "server.h"

/* Builds the reply to req for decision d into buf. Returns its length or a
 * negative errno. */
int reply_build(const struct server *s, const struct dhcp_message *req, const struct dhcp_decision *d, uint8_t *buf,
		size_t cap);
