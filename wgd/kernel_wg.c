/* Kernel WireGuard I/O (see kernel_wg.h). Messages go out as the bytes
 * genl_wire.c built and come back raw, so the codec that is unit-tested and
 * fuzzed is the one the kernel sees. */
#include "kernel_wg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "genl_wire.h"
#include "xalloc.h"

struct kernel_wg {
	struct nl_sock *sock;
	int family;
	uint32_t seq;
};

struct kernel_wg *kernel_wg_open(char *err, size_t errlen)
{
	struct nl_sock *sock = nl_socket_alloc();
	if (sock == NULL) {
		snprintf(err, errlen, "generic netlink: out of memory");
		return NULL;
	}
	int rc = genl_connect(sock);
	if (rc < 0) {
		snprintf(err, errlen, "generic netlink: %s", nl_geterror(rc));
		nl_socket_free(sock);
		return NULL;
	}
	int family = genl_ctrl_resolve(sock, "wireguard");
	if (family < 0) {
		snprintf(err, errlen, "this kernel has no WireGuard: the generic netlink family \"wireguard\" is not there (%s)",
			 nl_geterror(family));
		nl_socket_free(sock);
		return NULL;
	}
	/* Whole messages however large (a dump of many peers). */
	nl_socket_enable_msg_peek(sock);
	struct kernel_wg *k = xcalloc(1, sizeof *k);
	k->sock = sock;
	k->family = family;
	k->seq = 1;
	return k;
}

void kernel_wg_close(struct kernel_wg *k)
{
	if (k == NULL)
		return;
	nl_socket_free(k->sock);
	free(k);
}

static int receive(struct kernel_wg *k, uint8_t **buf, char *err, size_t errlen)
{
	struct sockaddr_nl from;
	int n = nl_recv(k->sock, &from, buf, NULL);
	if (n <= 0) {
		snprintf(err, errlen, "generic netlink receive: %s", n == 0 ? "nothing" : nl_geterror(n));
		return n == 0 ? -EIO : -EIO;
	}
	return n;
}

int kernel_wg_get(struct kernel_wg *k, const char *ifname, struct wg_device *dev, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		uint8_t req[128];
		int len = genl_build_get(ifname, (uint16_t)k->family, k->seq++, req, sizeof req);
		if (len < 0) {
			snprintf(err, errlen, "%s: not an interface name", ifname);
			return len;
		}
		int rc = nl_sendto(k->sock, req, (size_t)len);
		if (rc < 0) {
			snprintf(err, errlen, "generic netlink send: %s", nl_geterror(rc));
			return -EIO;
		}
		rc = 0;
		while (rc == 0) {
			uint8_t *buf = NULL;
			int n = receive(k, &buf, err, errlen);
			if (n < 0)
				return n;
			rc = genl_parse_get(buf, (size_t)n, (uint16_t)k->family, dev, err, errlen);
			free(buf);
		}
		if (rc == -EINTR) { /* the device changed during the dump: ask again */
			wg_device_free(dev);
			continue;
		}
		return rc < 0 ? rc : 0;
	}
	snprintf(err, errlen, "%s: the dump kept being interrupted", ifname);
	return -EINTR;
}

int kernel_wg_set(struct kernel_wg *k, const struct wg_device *set, char *err, size_t errlen)
{
	struct genl_msgs msgs;
	int rc = genl_build_set(set, (uint16_t)k->family, k->seq, GENL_WG_MSG_MAX, &msgs);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot build the set messages", set->name);
		return rc;
	}
	k->seq += (uint32_t)msgs.n;
	for (size_t i = 0; i < msgs.n && rc == 0; i++) {
		int s = nl_sendto(k->sock, msgs.msg[i], msgs.len[i]);
		if (s < 0) {
			snprintf(err, errlen, "generic netlink send: %s", nl_geterror(s));
			rc = -EIO;
			break;
		}
		uint8_t *buf = NULL;
		int n = receive(k, &buf, err, errlen);
		if (n < 0) {
			rc = n;
			break;
		}
		rc = genl_parse_ack(buf, (size_t)n);
		free(buf);
		if (rc < 0)
			snprintf(err, errlen, "the kernel refused the change to %s: %s", set->name, strerror(-rc));
	}
	for (size_t i = 0; i < msgs.n; i++)
		explicit_bzero(msgs.msg[i], msgs.len[i]);
	genl_msgs_free(&msgs);
	return rc;
}
