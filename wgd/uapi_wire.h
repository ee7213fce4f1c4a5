/* The WireGuard cross-platform configuration protocol (the UAPI socket of
 * wireguard-go, /run/wireguard/IFNAME.sock): text lines `key=value`.
 *
 *   request  "get=1\n\n"              reply: device and peer lines, "errno=N\n\n"
 *   request  "set=1\n" lines "\n"     reply: "errno=N\n\n"
 *
 * Keys are lower-case hex. In a set, `public_key=` opens a peer section, and
 * that peer's `replace_allowed_ips=true` must come before its `allowed_ip=`
 * lines; wireguard-go applies lines as it reads them, so a set that fails
 * half-way has changed what came before the bad line (the caller repairs by
 * reconciling). Pure functions over buffers. */
#pragma once
#include <stddef.h>

#include "buf.h"
#include "wg_device.h"

#define UAPI_GET_REQUEST "get=1\n\n"

/* Appends the set request for dev: its private key, port and fwmark where
 * has_*, replace_peers, then each peer by its flags. */
void uapi_build_set(const struct wg_device *dev, struct arbor_buf *out);

/* The length of the first complete reply in buf (through its "\n\n"), or 0
 * when more bytes are needed. */
size_t uapi_reply_length(const char *buf, size_t len);

/* Parses a get reply (the whole of it, as uapi_reply_length measured) into
 * dev (which must be empty). Returns 0 with *uapi_errno the errno line's
 * value (negative: the device refused), or -EPROTO for a malformed reply
 * with err saying where. On -EPROTO dev may hold part of the reply (free it). */
int uapi_parse_get(const char *text, size_t len, struct wg_device *dev, int *uapi_errno, char *err, size_t errlen);
/* Parses a set reply: "errno=N\n\n". 0 with *uapi_errno, or -EPROTO. */
int uapi_parse_errno(const char *text, size_t len, int *uapi_errno);
