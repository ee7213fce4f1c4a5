/* Kernel settings under /proc/sys that rtnetlink cannot change: IPv6 forwarding
 * and accept_ra are per-interface "devconf" values the kernel reports over netlink
 * (IFLA_INET6_CONF) but only takes through /proc/sys/net/ipv6/conf/<if>/<key>.
 * A daemon needs CAP_NET_ADMIN (and a writable /proc/sys: no
 * ProtectKernelTunables=) to change them. */
#pragma once
#include <stddef.h>

/* key is relative to /proc/sys ("net/ipv6/conf/wan0/accept_ra"); it must not
 * contain "..". Returns 0, or -errno with a message naming the key in err. */
int arbor_sysctl_write(const char *key, const char *value, char *err, size_t errlen);
/* The value without its newline. Returns its length, or -errno. */
int arbor_sysctl_read(const char *key, char *out, size_t outlen);
