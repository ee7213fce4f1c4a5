/* WireGuard's generic netlink protocol (the kernel module, family
 * "wireguard", version 1), as wg(8) and the kernel's drivers/net/wireguard/
 * netlink.c speak it. Pure functions over byte buffers; kernel_backend.c
 * sends and receives them.
 *
 * - Keys are raw 32-byte attributes.
 * - A GET_DEVICE dump may split a device over several messages: the device
 *   attributes come in the first only, and one peer's allowed IPs may continue
 *   in the next message under the same public key (merged here).
 * - The last handshake is a struct __kernel_timespec (two s64).
 * - A SET_DEVICE that does not fit one message is sent as several, built the
 *   way wg(8) builds them: every message names the device; the private key,
 *   port, fwmark and replace-peers flag go in the first only; a peer cut in two
 *   repeats its public key, and its preshared key, endpoint, keepalive and
 *   replace-allowed-IPs flag go in its first part only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "wg_device.h"

/* wg(8) caps its messages at the page size (at most 8 KiB). */
#define GENL_WG_MSG_MAX 4096

/* A list of whole netlink messages, each at most the builder's limit. */
struct genl_msgs {
	uint8_t **msg;
	size_t *len;
	size_t n;
};
void genl_msgs_free(struct genl_msgs *m);

/* The SET_DEVICE messages for dev (as the kernel applies them in order).
 * Flags NLM_F_REQUEST|NLM_F_ACK, port id 0, sequence numbers seq, seq+1, ...
 * Returns 0, or -EMSGSIZE when max_len cannot hold even one peer part. */
int genl_build_set(const struct wg_device *dev, uint16_t family, uint32_t seq, size_t max_len,
		   struct genl_msgs *out);
/* The GET_DEVICE dump request for ifname into buf; returns its length, or
 * -EINVAL for a bad name or a small buffer. */
int genl_build_get(const char *ifname, uint16_t family, uint32_t seq, uint8_t *buf, size_t len);

/* Parsing a dump: feed every received buffer (one or more messages) in order.
 * Returns 1 once NLMSG_DONE was read (dev is complete), 0 when more is
 * expected, or a negative errno: the kernel's (NLMSG_ERROR), -EINTR when the
 * dump was interrupted by a change (NLM_F_DUMP_INTR: ask again), -EPROTO for a
 * malformed message (err says what). dev must start empty. */
int genl_parse_get(const uint8_t *buf, size_t len, uint16_t family, struct wg_device *dev, char *err,
		   size_t errlen);
/* The answer to a request with NLM_F_ACK: 0 for an ACK, the kernel's negative
 * errno for an error, -EPROTO for anything else. */
int genl_parse_ack(const uint8_t *buf, size_t len);
