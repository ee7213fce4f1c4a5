/* Talking to wireguard-go over its UAPI socket (<dir>/<ifname>.sock): one
 * connection per operation (after an error wireguard-go stops reading the
 * request half-way, so a connection is never reused), blocking with a
 * timeout: wireguard-go answers in milliseconds, and a device that does not
 * answer within the timeout is treated as down. */
#pragma once
#include <stddef.h>

#include "wg_device.h"

/* 0 with dev filled; -ECONNREFUSED/-ENOENT when nobody listens (the device
 * is down); -ETIMEDOUT; -EPROTO for a malformed reply; the device's errno
 * (negative) when it refused. err says which. */
int uapi_get(const char *dir, const char *ifname, struct wg_device *dev, char *err, size_t errlen);
/* Applies set; the same errors. */
int uapi_set(const char *dir, const char *ifname, const struct wg_device *set, char *err, size_t errlen);
/* The socket's path into buf. */
void uapi_socket_path(const char *dir, const char *ifname, char *buf, size_t len);
