/* A stand-in for the kernel's WireGuard generic netlink family, preloaded
 * (LD_PRELOAD) into wg(8) on a machine without the module, so that the real
 * tool builds and parses the real protocol and tests/integration/
 * test_wgd_genl.py can hold wgd's codec against it:
 *
 *   WGSHIM_RECORD=FILE  every SET_DEVICE message wg sends is appended to FILE
 *                       (a 4-byte little-endian length, then the message);
 *   WGSHIM_DUMP=FILE    a GET_DEVICE dump is answered with the messages in
 *                       FILE (same framing), sequence and port fixed up.
 *
 * Only NETLINK_GENERIC sockets are taken over: the family "wireguard" is
 * resolved to id 0x1d and every request with NLM_F_ACK is acknowledged. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>

#define FAMILY 0x1d
#define PORTID 4242

static int shim_fd = -1;
static struct {
	uint8_t *data;
	size_t len;
} queue[4096];
static size_t qhead, qtail;

static void push(const void *data, size_t len)
{
	if (qtail >= sizeof queue / sizeof queue[0])
		abort();
	queue[qtail].data = malloc(len);
	memcpy(queue[qtail].data, data, len);
	queue[qtail].len = len;
	qtail++;
}

static void push_ack(const struct nlmsghdr *req, int error)
{
	uint8_t b[NLMSG_HDRLEN + sizeof(struct nlmsgerr)];
	memset(b, 0, sizeof b);
	struct nlmsghdr h = { .nlmsg_len = sizeof b, .nlmsg_type = NLMSG_ERROR, .nlmsg_flags = NLM_F_CAPPED,
			      .nlmsg_seq = req->nlmsg_seq, .nlmsg_pid = PORTID };
	struct nlmsgerr e = { .error = error, .msg = *req };
	memcpy(b, &h, sizeof h);
	memcpy(b + NLMSG_HDRLEN, &e, sizeof e);
	push(b, sizeof b);
}

static void family_reply(const struct nlmsghdr *req)
{
	uint8_t b[64] = { 0 };
	size_t off = NLMSG_HDRLEN;
	struct genlmsghdr g = { .cmd = CTRL_CMD_NEWFAMILY, .version = 2 };
	memcpy(b + off, &g, sizeof g);
	off += GENL_HDRLEN;
	struct nlattr a = { .nla_len = 6, .nla_type = CTRL_ATTR_FAMILY_ID };
	uint16_t id = FAMILY;
	memcpy(b + off, &a, 4);
	memcpy(b + off + 4, &id, 2);
	off += 8;
	struct nlattr n = { .nla_len = 4 + 10, .nla_type = CTRL_ATTR_FAMILY_NAME };
	memcpy(b + off, &n, 4);
	memcpy(b + off + 4, "wireguard", 10);
	off += 16;
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)off, .nlmsg_type = GENL_ID_CTRL, .nlmsg_seq = req->nlmsg_seq,
			      .nlmsg_pid = PORTID };
	memcpy(b, &h, sizeof h);
	push(b, off);
}

static void append_record(const void *msg, size_t len)
{
	const char *path = getenv("WGSHIM_RECORD");
	FILE *f = path ? fopen(path, "ab") : NULL;
	if (f == NULL)
		return;
	uint32_t n = (uint32_t)len;
	fwrite(&n, 4, 1, f);
	fwrite(msg, 1, len, f);
	fclose(f);
}

static void dump_reply(const struct nlmsghdr *req)
{
	const char *path = getenv("WGSHIM_DUMP");
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (f == NULL) {
		push_ack(req, -ENODEV);
		return;
	}
	uint32_t n;
	while (fread(&n, 4, 1, f) == 1 && n >= NLMSG_HDRLEN && n < 65536) {
		uint8_t *m = malloc(n);
		if (fread(m, 1, n, f) != n) {
			free(m);
			break;
		}
		struct nlmsghdr h;
		memcpy(&h, m, sizeof h);
		h.nlmsg_seq = req->nlmsg_seq;
		h.nlmsg_pid = PORTID;
		memcpy(m, &h, sizeof h);
		push(m, n);
		free(m);
	}
	fclose(f);
}

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (domain == AF_NETLINK && protocol == NETLINK_GENERIC) {
		shim_fd = real(AF_UNIX, SOCK_DGRAM | (type & SOCK_CLOEXEC), 0);
		return shim_fd;
	}
	return real(domain, type, protocol);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	if (fd == shim_fd && fd >= 0)
		return 0;
	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	return real(fd, sa, len);
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	if (fd == shim_fd && fd >= 0) {
		struct sockaddr_nl nl = { .nl_family = AF_NETLINK, .nl_pid = PORTID };
		memcpy(sa, &nl, *len < sizeof nl ? *len : sizeof nl);
		*len = sizeof nl;
		return 0;
	}
	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "getsockname");
	return real(fd, sa, len);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (fd != shim_fd || fd < 0) {
		if (!real)
			real = (ssize_t(*)(int, const void *, size_t, int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT,
														 "sendto");
		return real(fd, buf, len, flags, to, tolen);
	}
	struct nlmsghdr h;
	if (len < NLMSG_HDRLEN + GENL_HDRLEN) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&h, buf, sizeof h);
	uint8_t cmd = ((const uint8_t *)buf)[NLMSG_HDRLEN];
	if (h.nlmsg_type == GENL_ID_CTRL && cmd == CTRL_CMD_GETFAMILY) {
		family_reply(&h);
		push_ack(&h, 0);
	} else if (h.nlmsg_type == FAMILY && cmd == WG_CMD_SET_DEVICE) {
		append_record(buf, len);
		push_ack(&h, 0);
	} else if (h.nlmsg_type == FAMILY && cmd == WG_CMD_GET_DEVICE) {
		dump_reply(&h);
	} else {
		push_ack(&h, -EOPNOTSUPP);
	}
	return (ssize_t)len;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	if (fd != shim_fd || fd < 0) {
		if (!real)
			real = (ssize_t(*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
		return real(fd, msg, flags);
	}
	if (qhead == qtail) {
		errno = EAGAIN;
		return -1;
	}
	size_t n = queue[qhead].len;
	if (msg->msg_iovlen < 1 || msg->msg_iov[0].iov_len < n) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(msg->msg_iov[0].iov_base, queue[qhead].data, n);
	free(queue[qhead].data);
	qhead++;
	if (msg->msg_name && msg->msg_namelen >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl from = { .nl_family = AF_NETLINK };
		memcpy(msg->msg_name, &from, sizeof from);
		msg->msg_namelen = sizeof from;
	}
	msg->msg_flags = 0;
	return (ssize_t)n;
}
