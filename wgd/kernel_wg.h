/* The kernel's WireGuard over generic netlink (libnl-genl-3 for the socket
 * and the family; genl_wire.h builds and parses the messages). Devices are
 * created with RTM_NEWLINK kind "wireguard" (common/netlink.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "wg_device.h"

struct kernel_wg;

/* NULL with err saying why when the family "wireguard" does not exist (no
 * module) or the socket cannot be opened. */
struct kernel_wg *kernel_wg_open(char *err, size_t errlen);
void kernel_wg_close(struct kernel_wg *k);
int kernel_wg_get(struct kernel_wg *k, const char *ifname, struct wg_device *dev, char *err, size_t errlen);
int kernel_wg_set(struct kernel_wg *k, const struct wg_device *set, char *err, size_t errlen);
