/*
 * netlink.c: links, addresses and routes over rtnetlink (libnl-route-3), and a monitor of link
 * and address changes for an external event loop.
 *
 * Why not libnl's error codes: libnl folds the kernel's errno into its own NLE_* codes and
 * loses it on the way (-ESRCH and -ENOENT both become NLE_OBJ_NOTFOUND, -ENETUNREACH becomes
 * "Unspecific failure"). The request socket therefore catches the kernel's NLMSG_ERROR itself
 * and reports that errno; only failures inside libnl are translated back from NLE_*.
 *
 * Why the monitor reads its socket itself: it has to see ENOBUFS (notifications were dropped,
 * the caller must re-read the state) and truncated datagrams, which libnl's receive path hides
 * behind NLE_NOMEM. libnl still does the parsing (nl_msg_parse), so listings and notifications
 * are filled in by the same code.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "dgram_batch.h"
#include "xalloc.h"

_Static_assert(sizeof(((struct arbor_nl_link *)0)->name) == IFNAMSIZ, "link name is IFNAMSIZ");

/* A dump the kernel marks inconsistent (NLM_F_DUMP_INTR: state changed under it) is retried. */
enum { DUMP_ATTEMPTS = 20 };
/* The monitor's receive buffer: larger than any single rtnetlink notification. */
enum { MONITOR_BUFFER = 64 * 1024 };
/* SO_RCVBUF asked for on the monitor socket, so bursts of changes do not overrun it. */
enum { MONITOR_SOCKET_BUFFER = 1024 * 1024 };

/* Requests a batch may have unanswered before it reads the answers: their acks must fit in
 * the socket's receive buffer (BATCH_SOCKET_BUFFER), or the kernel drops them. Queued
 * requests go out together, one datagram of at most BATCH_SEND_BYTES (well under the
 * socket's send buffer), instead of a system call each. */
enum { BATCH_WINDOW = 64, BATCH_SOCKET_BUFFER = 1024 * 1024, BATCH_SEND_BYTES = 32 * 1024 };

struct batch_failure {
	size_t position;
	int error;
};

struct arbor_nl {
	struct nl_sock *sock;
	int kernel_errno;		/* positive errno of the last NLMSG_ERROR, 0 if none */
	char error[256];
	/* batch mode (arbor_nl_batch_begin): its own socket, whose answers we read
	 * ourselves (libnl would expect them in its own order on the main one) */
	struct nl_sock *batch_sock;
	bool batching;
	uint32_t batch_first_seq;
	size_t batch_sent, batch_answered;
	size_t batch_unsent;		/* requests from this position on are queued, not sent */
	uint8_t *batch_out;		/* the queued requests, back to back */
	size_t batch_out_len, batch_out_cap;
	char **batch_what;		/* what each request does, for failures (NULL: the
					 * caller describes its own) */
	size_t batch_what_cap;
	struct batch_failure *failures;
	size_t nfailures, failures_cap;
	void *batch_buffer;		/* for reading answers */
};

struct arbor_nl_monitor {
	struct nl_sock *sock;
	arbor_nl_change_fn *cb;
	void *ctx;
	int delivered;			/* changes passed to cb during this dispatch */
	bool default_routes_only;	/* arbor_nl_monitor_watch_default_routes: other
					 * routes are dropped unparsed */
	void *buffer;			/* MONITOR_BUFFER bytes for one datagram */
	char error[256];
};

/* ---- errors ---- */

/* Write "<what>: <strerror(-rc)>" into buf and return rc. */
__attribute__((format(printf, 4, 5)))
static int describe_failure(char *buf, size_t buflen, int rc, const char *fmt, ...)
{
	if (buf == NULL || buflen == 0)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	int used = vsnprintf(buf, buflen, fmt, ap);
	va_end(ap);
	if (used >= 0 && (size_t)used < buflen)
		snprintf(buf + used, buflen - (size_t)used, ": %s", strerror(-rc));
	return rc;
}

/* libnl's own error codes, back to the errno they stand for. */
static int errno_from_nle(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:		return 0;
	case NLE_INTR:			return EINTR;
	case NLE_BAD_SOCK:		return EBADF;
	case NLE_AGAIN:			return EAGAIN;
	case NLE_NOMEM:			return ENOMEM;
	case NLE_EXIST:			return EEXIST;
	case NLE_INVAL:			return EINVAL;
	case NLE_RANGE:			return ERANGE;
	case NLE_MSGSIZE:		return EMSGSIZE;
	case NLE_OPNOTSUPP:		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:		return ENOENT;
	case NLE_NOATTR:		return ENODATA;
	case NLE_MISSING_ATTR:		return EINVAL;
	case NLE_AF_MISMATCH:		return EINVAL;
	case NLE_SEQ_MISMATCH:		return EPROTO;
	case NLE_MSG_OVERFLOW:		return EOVERFLOW;
	case NLE_MSG_TRUNC:		return EMSGSIZE;
	case NLE_NOADDR:		return EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:	return EOPNOTSUPP;
	case NLE_MSG_TOOSHORT:		return EPROTO;
	case NLE_MSGTYPE_NOSUPPORT:	return EOPNOTSUPP;
	case NLE_OBJ_MISMATCH:		return EINVAL;
	case NLE_NOCACHE:		return ENOENT;
	case NLE_BUSY:			return EBUSY;
	case NLE_PROTO_MISMATCH:	return EPROTONOSUPPORT;
	case NLE_NOACCESS:		return EACCES;
	case NLE_PERM:			return EPERM;
	case NLE_PARSE_ERR:		return EPROTO;
	case NLE_NODEV:			return ENODEV;
	case NLE_IMMUTABLE:		return EINVAL;
	case NLE_DUMP_INTR:		return EAGAIN;
	case NLE_ATTRSIZE:		return ERANGE;
	default:			return EIO;
	}
}

/* Receives every NLMSG_ERROR on the request socket (libnl still fails the call). */
static int remember_kernel_error(struct sockaddr_nl *from, struct nlmsgerr *e, void *arg)
{
	struct arbor_nl *nl = arg;
	(void)from;
	nl->kernel_errno = e->error < 0 ? -e->error : e->error;
	return NL_STOP;
}

/* Start a call: forget the previous call's failure. */
static void begin(struct arbor_nl *nl)
{
	nl->kernel_errno = 0;
	nl->error[0] = '\0';
}

/* The negative errno for a libnl failure: the kernel's if it answered with one. */
static int failure_errno(const struct arbor_nl *nl, int nle)
{
	if (nl->kernel_errno != 0)
		return -nl->kernel_errno;
	int e = errno_from_nle(nle);
	return e != 0 ? -e : -EIO;
}

#define FAIL(nl, rc, ...) describe_failure((nl)->error, sizeof((nl)->error), (rc), __VA_ARGS__)

/* ---- sending requests, alone or in a batch ---- */

static void batch_reset(struct arbor_nl *nl)
{
	for (size_t i = 0; i < nl->batch_sent; i++)
		free(nl->batch_what[i]);
	nl->batch_sent = nl->batch_answered = nl->batch_unsent = nl->nfailures = 0;
	nl->batch_out_len = 0;
}

static void batch_fail(struct arbor_nl *nl, size_t position, int error)
{
	if (nl->nfailures == nl->failures_cap) {
		nl->failures_cap = nl->failures_cap ? nl->failures_cap * 2 : 16;
		nl->failures = xreallocarray(nl->failures, nl->failures_cap, sizeof(*nl->failures));
	}
	nl->failures[nl->nfailures++] = (struct batch_failure){ position, error };
}

/* Sends the queued requests in one datagram (the kernel handles them in order, and
 * answers each: a failed one does not stop the rest). */
static void batch_send(struct arbor_nl *nl)
{
	if (nl->batch_out_len) {
		int rc = nl_sendto(nl->batch_sock, nl->batch_out, nl->batch_out_len);
		for (size_t i = nl->batch_unsent; rc < 0 && i < nl->batch_sent; i++) {
			batch_fail(nl, i, -errno_from_nle(rc));
			nl->batch_answered++; /* no answer will come for it */
		}
	}
	nl->batch_out_len = 0;
	nl->batch_unsent = nl->batch_sent;
}

/* Sends what is queued, then reads answers until every request of the batch has one. The
 * kernel handles requests while they are being sent, so their answers are already
 * queued: this never waits long. */
static void batch_drain(struct arbor_nl *nl)
{
	batch_send(nl);
	if (nl->batch_buffer == NULL)
		nl->batch_buffer = xmalloc(MONITOR_BUFFER);
	int fd = nl_socket_get_fd(nl->batch_sock);
	while (nl->batch_answered < nl->batch_sent) {
		ssize_t len = recv(fd, nl->batch_buffer, MONITOR_BUFFER, 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			/* Answers lost (ENOBUFS): the rest cannot be known to have worked. */
			int e = len < 0 ? errno : EPROTO;
			for (size_t i = nl->batch_answered; i < nl->batch_sent; i++)
				batch_fail(nl, i, -e);
			nl->batch_answered = nl->batch_sent;
			return;
		}
		int left = (int)len;
		for (struct nlmsghdr *h = nl->batch_buffer; nlmsg_ok(h, left); h = nlmsg_next(h, &left)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			/* Sequence numbers of a batch are consecutive from its first. */
			size_t position = (size_t)(uint32_t)(h->nlmsg_seq - nl->batch_first_seq);
			if (position >= nl->batch_sent)
				continue;
			if (e->error != 0)
				batch_fail(nl, position, e->error < 0 ? e->error : -e->error);
			nl->batch_answered++;
		}
	}
}

/* Sends msg (and frees it) and waits for the answer; in a batch, queues it and returns 0.
 * what describes the request for messages (in a batch, NULL: the caller describes the
 * failures it is told of). */
static int submit(struct arbor_nl *nl, struct nl_msg *msg, const char *what)
{
	if (!nl->batching) {
		int rc = nl_send_sync(nl->sock, msg);
		return rc < 0 ? FAIL(nl, failure_errno(nl, rc), "%s", what) : 0;
	}
	if (nl->batch_sent == nl->batch_what_cap) {
		nl->batch_what_cap = nl->batch_what_cap ? nl->batch_what_cap * 2 : 64;
		nl->batch_what = xreallocarray(nl->batch_what, nl->batch_what_cap, sizeof(*nl->batch_what));
	}
	nl_complete_msg(nl->batch_sock, msg);
	const struct nlmsghdr *h = nlmsg_hdr(msg);
	size_t position = nl->batch_sent, size = NLMSG_ALIGN(h->nlmsg_len);
	if (position == 0)
		nl->batch_first_seq = h->nlmsg_seq;
	bool in_order = h->nlmsg_seq == nl->batch_first_seq + (uint32_t)position;
	if (!in_order || nl->batch_out_len + size > BATCH_SEND_BYTES)
		batch_send(nl); /* what is queued stays one run of positions */
	nl->batch_what[position] = what ? xstrdup(what) : NULL;
	nl->batch_sent++;
	if (in_order) {
		if (nl->batch_out_len + size > nl->batch_out_cap) {
			nl->batch_out_cap = nl->batch_out_len + size > BATCH_SEND_BYTES ? nl->batch_out_len + size
											 : BATCH_SEND_BYTES;
			nl->batch_out = xrealloc(nl->batch_out, nl->batch_out_cap);
		}
		memcpy(nl->batch_out + nl->batch_out_len, h, h->nlmsg_len);
		memset(nl->batch_out + nl->batch_out_len + h->nlmsg_len, 0, size - h->nlmsg_len);
		nl->batch_out_len += size;
	} else {
		batch_fail(nl, position, -EPROTO);
		nl->batch_answered++; /* never sent: no answer will come for it */
		nl->batch_unsent = nl->batch_sent;
	}
	nlmsg_free(msg);
	if (nl->batch_sent - nl->batch_answered >= BATCH_WINDOW)
		batch_drain(nl);
	return 0;
}

static struct nl_sock *raw_socket(struct arbor_nl *nl);

void arbor_nl_batch_begin(struct arbor_nl *nl)
{
	batch_reset(nl);
	/* Without a second socket, requests go one at a time. */
	nl->batching = raw_socket(nl) != NULL;
}

size_t arbor_nl_batch_size(const struct arbor_nl *nl)
{
	return nl->batch_sent;
}

int arbor_nl_batch_end(struct arbor_nl *nl, arbor_nl_batch_fail_fn *fail, void *ctx)
{
	begin(nl);
	if (!nl->batching)
		return 0;
	batch_drain(nl);
	nl->batching = false;
	int failed = (int)nl->nfailures;
	for (size_t i = 0; i < nl->nfailures; i++) {
		const struct batch_failure *f = &nl->failures[i];
		if (fail)
			fail(ctx, f->position, f->error, nl->batch_what[f->position]);
	}
	if (failed && nl->batch_what[nl->failures[0].position])
		FAIL(nl, nl->failures[0].error, "%s", nl->batch_what[nl->failures[0].position]);
	else if (failed)
		FAIL(nl, nl->failures[0].error, "request %zu of a batch", nl->failures[0].position);
	batch_reset(nl);
	return failed;
}

/* ---- addresses in our form and libnl's ---- */

static size_t ip_size(int family)
{
	switch (family) {
	case AF_INET:	return sizeof(struct in_addr);
	case AF_INET6:	return sizeof(struct in6_addr);
	default:	return 0;
	}
}

static unsigned int ip_bits(int family)
{
	return (unsigned int)ip_size(family) * 8;
}

int arbor_nl_ip_parse(struct arbor_nl_ip *ip, const char *text)
{
	memset(ip, 0, sizeof(*ip));
	if (text == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, text, &ip->v4) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &ip->v6) == 1) {
		ip->family = AF_INET6;
		return 0;
	}
	memset(ip, 0, sizeof(*ip));
	return -EINVAL;
}

const char *arbor_nl_ip_format(const struct arbor_nl_ip *ip, char *buf, size_t buflen)
{
	if (buflen == 0)
		return buf;
	if (ip->family == AF_UNSPEC)
		snprintf(buf, buflen, "none");
	else if (ip_size(ip->family) == 0 ||
		 inet_ntop(ip->family, &ip->v6, buf, (socklen_t)buflen) == NULL)
		snprintf(buf, buflen, "?");
	return buf;
}

/* Our address as a libnl one with a prefix length, or NULL when out of memory. */
static struct nl_addr *nl_addr_from_ip(const struct arbor_nl_ip *ip, unsigned int prefixlen)
{
	struct nl_addr *a = nl_addr_build(ip->family, &ip->v6, ip_size(ip->family));
	if (a != NULL)
		nl_addr_set_prefixlen(a, (int)prefixlen);
	return a;
}

/* libnl's address as ours; family is used when the address has no bytes (default route).
 * false for anything but IPv4 and IPv6. */
static bool ip_from_nl_addr(struct arbor_nl_ip *ip, const struct nl_addr *a, int family)
{
	memset(ip, 0, sizeof(*ip));
	if (a == NULL)
		return false;
	if (nl_addr_get_family(a) != AF_UNSPEC)
		family = nl_addr_get_family(a);
	size_t size = ip_size(family);
	if (size == 0)
		return false;
	unsigned int len = nl_addr_get_len(a);
	if (len != 0 && len != size)
		return false;
	ip->family = family;
	if (len != 0)
		memcpy(&ip->v6, nl_addr_get_binary_addr(a), size);
	return true;
}

/* "192.0.2.1/24" for messages. */
static const char *format_prefix(const struct arbor_nl_ip *ip, unsigned int prefixlen, char *buf,
				 size_t buflen)
{
	char text[INET6_ADDRSTRLEN];
	snprintf(buf, buflen, "%s/%u", arbor_nl_ip_format(ip, text, sizeof(text)), prefixlen);
	return buf;
}

/* 0, or -EINVAL with a message when ip is not a usable IPv4/IPv6 address with prefixlen. */
static int check_prefix(struct arbor_nl *nl, const char *what, const struct arbor_nl_ip *ip,
			unsigned int prefixlen)
{
	if (ip == NULL)
		return FAIL(nl, -EINVAL, "%s: no address", what);
	if (ip_size(ip->family) == 0)
		return FAIL(nl, -EAFNOSUPPORT, "%s: address family %d", what, ip->family);
	if (prefixlen > ip_bits(ip->family))
		return FAIL(nl, -EINVAL, "%s: prefix length %u", what, prefixlen);
	return 0;
}

/* ---- the request socket ---- */

struct arbor_nl *arbor_nl_open(char *err, size_t errlen)
{
	struct arbor_nl *nl = xcalloc(1, sizeof(*nl));
	nl->sock = nl_socket_alloc();
	if (nl->sock == NULL) {
		describe_failure(err, errlen, -ENOMEM, "netlink socket");
		free(nl);
		errno = ENOMEM;
		return NULL;
	}
	int rc = nl_connect(nl->sock, NETLINK_ROUTE);
	if (rc < 0) {
		int e = errno_from_nle(rc);
		describe_failure(err, errlen, -e, "netlink route socket");
		nl_socket_free(nl->sock);
		free(nl);
		errno = e;
		return NULL;
	}
	nl_socket_modify_err_cb(nl->sock, NL_CB_CUSTOM, remember_kernel_error, nl);
	return nl;
}

void arbor_nl_close(struct arbor_nl *nl)
{
	if (nl == NULL)
		return;
	batch_reset(nl);
	free(nl->batch_what);
	free(nl->batch_out);
	free(nl->failures);
	free(nl->batch_buffer);
	if (nl->batch_sock)
		nl_socket_free(nl->batch_sock);
	nl_socket_free(nl->sock);
	free(nl);
}

const char *arbor_nl_error(const struct arbor_nl *nl)
{
	return nl->error;
}

/* ---- links ---- */

/* An attribute's type without the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags, as
 * libnl reads it (an RTA_VIA flagged so slipped past a plain comparison). */
static unsigned short attr_type(const struct rtattr *rta)
{
	return rta->rta_type & NLA_TYPE_MASK;
}

/* The address in a VXLAN attribute of 4 (IPv4) or 16 (IPv6) bytes. */
static void vxlan_ip(struct arbor_nl_ip *ip, const struct rtattr *rta, int family)
{
	size_t size = ip_size(family);
	memset(ip, 0, sizeof(*ip));
	if (RTA_PAYLOAD(rta) < size)
		return;
	ip->family = family;
	memcpy(&ip->v6, RTA_DATA(rta), size);
}

/* The VXLAN attributes of a link message, read from the message itself: libnl
 * 3.7's getters dereference a NULL info block for a "vxlan" link whose
 * IFLA_INFO_DATA is missing or malformed (fuzz_netlink_dump found it; the kernel
 * always sends it). The port is in network byte order there. */
static void vxlan_from_msg(struct arbor_nl_vxlan *vx, const struct nlmsghdr *hdr)
{
	int len = (int)IFLA_PAYLOAD(hdr);
	for (const struct rtattr *rta = IFLA_RTA(NLMSG_DATA(hdr)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (attr_type(rta) != IFLA_LINKINFO)
			continue;
		int ilen = (int)RTA_PAYLOAD(rta);
		for (const struct rtattr *info = RTA_DATA(rta); RTA_OK(info, ilen); info = RTA_NEXT(info, ilen)) {
			if (attr_type(info) != IFLA_INFO_DATA)
				continue;
			int dlen = (int)RTA_PAYLOAD(info);
			for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, dlen); a = RTA_NEXT(a, dlen)) {
				size_t n = RTA_PAYLOAD(a);
				uint32_t u32 = 0;
				uint16_t u16 = 0;
				switch (attr_type(a)) {
				case IFLA_VXLAN_ID:
				case IFLA_VXLAN_LINK:
					if (n >= sizeof u32) {
						memcpy(&u32, RTA_DATA(a), sizeof u32);
						if (attr_type(a) == IFLA_VXLAN_ID)
							vx->vni = u32;
						else
							vx->link = (int)u32;
					}
					break;
				case IFLA_VXLAN_PORT: /* network byte order */
					if (n >= sizeof u16) {
						memcpy(&u16, RTA_DATA(a), sizeof u16);
						vx->port = ntohs(u16);
					}
					break;
				case IFLA_VXLAN_LEARNING:
					if (n >= 1)
						vx->learning = *(const uint8_t *)RTA_DATA(a) != 0;
					break;
				case IFLA_VXLAN_LOCAL:
					vxlan_ip(&vx->local, a, AF_INET);
					break;
				case IFLA_VXLAN_LOCAL6:
					if (vx->local.family != AF_INET)
						vxlan_ip(&vx->local, a, AF_INET6);
					break;
				case IFLA_VXLAN_GROUP:
					vxlan_ip(&vx->remote, a, AF_INET);
					break;
				case IFLA_VXLAN_GROUP6:
					if (vx->remote.family != AF_INET)
						vxlan_ip(&vx->remote, a, AF_INET6);
					break;
				}
			}
		}
	}
}

static void link_from_rtnl(struct arbor_nl_link *out, struct rtnl_link *link, const struct nlmsghdr *hdr)
{
	memset(out, 0, sizeof(*out));
	out->index = rtnl_link_get_ifindex(link);
	const char *name = rtnl_link_get_name(link);
	if (name != NULL)
		snprintf(out->name, sizeof(out->name), "%s", name);
	out->flags = rtnl_link_get_flags(link);
	out->up = (out->flags & IFF_UP) != 0;
	out->lower_up = (out->flags & IFF_LOWER_UP) != 0;
	out->mtu = rtnl_link_get_mtu(link);
	const char *kind = rtnl_link_get_type(link);
	if (kind != NULL)
		snprintf(out->kind, sizeof(out->kind), "%s", kind);
	struct nl_addr *mac = rtnl_link_get_addr(link);
	if (mac != NULL && nl_addr_get_len(mac) == sizeof(out->mac)) {
		memcpy(out->mac, nl_addr_get_binary_addr(mac), sizeof(out->mac));
		out->has_mac = true;
	}
	out->master_index = rtnl_link_get_master(link);
	out->lower_index = rtnl_link_get_link(link);
	uint32_t forwarding = 0;
	if (rtnl_link_inet_get_conf(link, IPV4_DEVCONF_FORWARDING, &forwarding) == 0) {
		out->ipv4_forwarding_known = true;
		out->ipv4_forwarding = forwarding != 0;
	}
	if (kind != NULL && strcmp(kind, "vxlan") == 0) {
		out->is_vxlan = true;
		vxlan_from_msg(&out->vxlan, hdr);
	}
}

static int check_ifname(struct arbor_nl *nl, const char *what, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return FAIL(nl, -EINVAL, "%s: no interface name", what);
	if (strlen(name) >= IFNAMSIZ)
		return FAIL(nl, -EINVAL, "%s \"%s\": name longer than %d characters", what, name,
			    IFNAMSIZ - 1);
	return 0;
}

int arbor_nl_link_index(struct arbor_nl *nl, const char *ifname)
{
	begin(nl);
	int rc = check_ifname(nl, "look up link", ifname);
	if (rc < 0)
		return rc;
	struct rtnl_link *link = NULL;
	rc = rtnl_link_get_kernel(nl->sock, 0, ifname, &link);
	if (rc < 0)
		return FAIL(nl, failure_errno(nl, rc), "look up link %s", ifname);
	int index = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	if (index <= 0)
		return FAIL(nl, -ENODEV, "look up link %s", ifname);
	return index;
}

/* Apply changes (flags, mtu) to the link ifindex; what describes it for the message. */
static int link_change(struct arbor_nl *nl, int ifindex, struct rtnl_link *changes,
		       const char *what)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	if (orig == NULL)
		return FAIL(nl, -ENOMEM, "%s on ifindex %d", what, ifindex);
	rtnl_link_set_ifindex(orig, ifindex);
	struct nl_msg *msg = NULL;
	int rc = rtnl_link_build_change_request(orig, changes, 0, &msg);
	rtnl_link_put(orig);
	char text[96];
	snprintf(text, sizeof(text), "%s on ifindex %d", what, ifindex);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", text);
	return submit(nl, msg, text);
}

int arbor_nl_link_set_up(struct arbor_nl *nl, int ifindex, bool up)
{
	begin(nl);
	const char *what = up ? "set link up" : "set link down";
	if (ifindex <= 0)
		return FAIL(nl, -EINVAL, "%s on ifindex %d", what, ifindex);
	struct rtnl_link *changes = rtnl_link_alloc();
	if (changes == NULL)
		return FAIL(nl, -ENOMEM, "%s on ifindex %d", what, ifindex);
	if (up)
		rtnl_link_set_flags(changes, IFF_UP);
	else
		rtnl_link_unset_flags(changes, IFF_UP);
	int rc = link_change(nl, ifindex, changes, what);
	rtnl_link_put(changes);
	return rc;
}

int arbor_nl_link_set_mtu(struct arbor_nl *nl, int ifindex, unsigned int mtu)
{
	begin(nl);
	char what[32];
	snprintf(what, sizeof(what), "set mtu %u", mtu);
	if (ifindex <= 0 || mtu == 0)
		return FAIL(nl, -EINVAL, "%s on ifindex %d", what, ifindex);
	struct rtnl_link *changes = rtnl_link_alloc();
	if (changes == NULL)
		return FAIL(nl, -ENOMEM, "%s on ifindex %d", what, ifindex);
	rtnl_link_set_mtu(changes, mtu);
	int rc = link_change(nl, ifindex, changes, what);
	rtnl_link_put(changes);
	return rc;
}

int arbor_nl_link_add(struct arbor_nl *nl, const char *name, const char *kind)
{
	begin(nl);
	int rc = check_ifname(nl, "add link", name);
	if (rc < 0)
		return rc;
	struct rtnl_link *link = rtnl_link_alloc();
	if (link == NULL)
		return FAIL(nl, -ENOMEM, "add %s %s", kind, name);
	rtnl_link_set_name(link, name);
	rc = rtnl_link_set_type(link, kind);
	if (rc >= 0)
		rc = rtnl_link_add(nl->sock, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	if (rc < 0)
		return FAIL(nl, failure_errno(nl, rc), "add %s %s", kind, name);
	rc = arbor_nl_link_index(nl, name);
	if (rc < 0)
		return FAIL(nl, rc, "add %s %s: created, then not found", kind, name);
	return rc;
}

int arbor_nl_bridge_add(struct arbor_nl *nl, const char *name)
{
	return arbor_nl_link_add(nl, name, "bridge");
}

int arbor_nl_link_delete(struct arbor_nl *nl, int ifindex)
{
	begin(nl);
	if (ifindex <= 0)
		return FAIL(nl, -EINVAL, "delete link %d", ifindex);
	struct rtnl_link *link = rtnl_link_alloc();
	if (link == NULL)
		return FAIL(nl, -ENOMEM, "delete link %d", ifindex);
	rtnl_link_set_ifindex(link, ifindex);
	struct nl_msg *msg = NULL;
	int rc = rtnl_link_build_delete_request(link, &msg);
	rtnl_link_put(link);
	char text[48];
	snprintf(text, sizeof(text), "delete link %d", ifindex);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", text);
	return submit(nl, msg, text);
}

/* Sends the creation of link (taken); what names it for messages. */
static int link_create(struct arbor_nl *nl, struct rtnl_link *link, const char *what)
{
	struct nl_msg *msg = NULL;
	int rc = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_link_put(link);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", what);
	return submit(nl, msg, what);
}

int arbor_nl_vxlan_add(struct arbor_nl *nl, const char *name, const struct arbor_nl_vxlan *vx,
		       unsigned int mtu, const uint8_t *mac, bool up)
{
	begin(nl);
	int rc = check_ifname(nl, "add vxlan", name);
	if (rc < 0)
		return rc;
	char what[64];
	snprintf(what, sizeof(what), "add vxlan %s (vni %u)", name, vx->vni);
	if (vx->vni > 0xffffff || vx->port == 0 || (vx->remote.family == AF_UNSPEC && vx->local.family == AF_UNSPEC) ||
	    (vx->remote.family != AF_UNSPEC && ip_size(vx->remote.family) == 0) ||
	    (vx->local.family != AF_UNSPEC && vx->remote.family != AF_UNSPEC && vx->local.family != vx->remote.family))
		return FAIL(nl, -EINVAL, "%s: needs a VNI under 2^24, a port, a remote or a local, of one family",
			    what);
	struct rtnl_link *link = rtnl_link_vxlan_alloc();
	struct nl_addr *remote = vx->remote.family ? nl_addr_from_ip(&vx->remote, ip_bits(vx->remote.family)) : NULL;
	struct nl_addr *local = vx->local.family ? nl_addr_from_ip(&vx->local, ip_bits(vx->local.family)) : NULL;
	struct nl_addr *ll = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL;
	rc = link && (remote || !vx->remote.family) && (local || !vx->local.family) && (ll || !mac) ? 0 : -ENOMEM;
	if (rc == 0) {
		rtnl_link_set_name(link, name);
		rtnl_link_vxlan_set_id(link, vx->vni);
		/* Host order in libnl 3.7 (read back to check; the kernel's default is 8472). */
		rtnl_link_vxlan_set_port(link, vx->port);
		rtnl_link_vxlan_set_learning(link, vx->learning ? 1 : 0);
		if ((remote && rtnl_link_vxlan_set_group(link, remote) < 0) ||
		    (local && rtnl_link_vxlan_set_local(link, local) < 0))
			rc = -EINVAL;
		if (ll)
			rtnl_link_set_addr(link, ll);
		if (vx->link > 0)
			rtnl_link_vxlan_set_link(link, (uint32_t)vx->link);
		if (mtu)
			rtnl_link_set_mtu(link, mtu);
		if (up)
			rtnl_link_set_flags(link, IFF_UP);
	}
	nl_addr_put(remote);
	nl_addr_put(local);
	nl_addr_put(ll);
	if (rc < 0) {
		if (link)
			rtnl_link_put(link);
		return FAIL(nl, rc, "%s", what);
	}
	return link_create(nl, link, what);
}

int arbor_nl_macvlan_add(struct arbor_nl *nl, const char *name, int parent_ifindex, bool up)
{
	begin(nl);
	int rc = check_ifname(nl, "add macvlan", name);
	if (rc < 0)
		return rc;
	char what[64];
	snprintf(what, sizeof(what), "add macvlan %s on ifindex %d", name, parent_ifindex);
	if (parent_ifindex <= 0)
		return FAIL(nl, -EINVAL, "%s", what);
	struct rtnl_link *link = rtnl_link_macvlan_alloc();
	if (link == NULL)
		return FAIL(nl, -ENOMEM, "%s", what);
	rtnl_link_set_name(link, name);
	rtnl_link_set_link(link, parent_ifindex);
	rtnl_link_macvlan_set_mode(link, (uint32_t)rtnl_link_macvlan_str2mode("bridge"));
	if (up)
		rtnl_link_set_flags(link, IFF_UP);
	return link_create(nl, link, what);
}

int arbor_nl_link_set_master(struct arbor_nl *nl, int ifindex, int master_ifindex)
{
	begin(nl);
	char what[48];
	snprintf(what, sizeof(what), "set master %d", master_ifindex);
	if (ifindex <= 0 || master_ifindex < 0)
		return FAIL(nl, -EINVAL, "%s on ifindex %d", what, ifindex);
	struct rtnl_link *changes = rtnl_link_alloc();
	if (changes == NULL)
		return FAIL(nl, -ENOMEM, "%s on ifindex %d", what, ifindex);
	rtnl_link_set_master(changes, master_ifindex);
	int rc = link_change(nl, ifindex, changes, what);
	rtnl_link_put(changes);
	return rc;
}

int arbor_nl_link_set_ipv4_forwarding(struct arbor_nl *nl, int ifindex, bool on)
{
	begin(nl);
	const char *what = on ? "enable IPv4 forwarding" : "disable IPv4 forwarding";
	if (ifindex <= 0)
		return FAIL(nl, -EINVAL, "%s on ifindex %d", what, ifindex);
	struct rtnl_link *changes = rtnl_link_alloc();
	if (changes == NULL)
		return FAIL(nl, -ENOMEM, "%s on ifindex %d", what, ifindex);
	int rc = rtnl_link_inet_set_conf(changes, IPV4_DEVCONF_FORWARDING, on ? 1 : 0);
	if (rc < 0)
		rc = FAIL(nl, -errno_from_nle(rc), "%s on ifindex %d", what, ifindex);
	else
		rc = link_change(nl, ifindex, changes, what);
	rtnl_link_put(changes);
	return rc;
}

/* ---- addresses ---- */

static bool addr_from_rtnl(struct arbor_nl_addr *out, struct rtnl_addr *a)
{
	memset(out, 0, sizeof(*out));
	int family = rtnl_addr_get_family(a);
	if (ip_size(family) == 0 || !ip_from_nl_addr(&out->addr, rtnl_addr_get_local(a), family))
		return false;
	out->ifindex = rtnl_addr_get_ifindex(a);
	out->prefixlen = (unsigned int)rtnl_addr_get_prefixlen(a);
	out->flags = rtnl_addr_get_flags(a);
	out->scope = (uint8_t)rtnl_addr_get_scope(a);
	return true;
}

/* An rtnl_addr for ifindex and addr/prefixlen, or NULL when out of memory. */
static struct rtnl_addr *rtnl_addr_for(int ifindex, const struct arbor_nl_ip *addr,
				       unsigned int prefixlen)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_from_ip(addr, prefixlen);
	if (a == NULL || local == NULL || rtnl_addr_set_local(a, local) < 0) {
		nl_addr_put(local);
		if (a != NULL)
			rtnl_addr_put(a);
		return NULL;
	}
	nl_addr_put(local);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, addr->family);
	rtnl_addr_set_prefixlen(a, (int)prefixlen);
	return a;
}

int arbor_nl_addr_add(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *addr,
		      unsigned int prefixlen, const struct arbor_nl_addr_opts *opts)
{
	static const struct arbor_nl_addr_opts defaults;
	begin(nl);
	if (opts == NULL)
		opts = &defaults;
	int rc = check_prefix(nl, "add address", addr, prefixlen);
	if (rc < 0)
		return rc;
	char text[INET6_ADDRSTRLEN + 8];
	format_prefix(addr, prefixlen, text, sizeof(text));
	if (ifindex <= 0 || prefixlen == 0)
		return FAIL(nl, -EINVAL, "add address %s on ifindex %d", text, ifindex);
	if (opts->preferred_lft != 0 && opts->valid_lft != 0 &&
	    opts->preferred_lft > opts->valid_lft)
		return FAIL(nl, -EINVAL, "add address %s: preferred lifetime %u > valid %u", text,
			    opts->preferred_lft, opts->valid_lft);

	struct rtnl_addr *a = rtnl_addr_for(ifindex, addr, prefixlen);
	if (a == NULL)
		return FAIL(nl, -ENOMEM, "add address %s on ifindex %d", text, ifindex);
	if (opts->broadcast != NULL && addr->family == AF_INET) {
		struct nl_addr *broadcast = nl_addr_build(AF_INET, opts->broadcast,
							  sizeof(*opts->broadcast));
		if (broadcast == NULL || rtnl_addr_set_broadcast(a, broadcast) < 0) {
			nl_addr_put(broadcast);
			rtnl_addr_put(a);
			return FAIL(nl, -ENOMEM, "add address %s on ifindex %d", text, ifindex);
		}
		nl_addr_put(broadcast);
	}
	if (opts->nodad && addr->family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	if (opts->valid_lft != 0 || opts->preferred_lft != 0) {
		uint32_t valid = opts->valid_lft != 0 ? opts->valid_lft : UINT32_MAX;
		uint32_t preferred = opts->preferred_lft != 0 ? opts->preferred_lft : valid;
		rtnl_addr_set_valid_lifetime(a, valid);
		rtnl_addr_set_preferred_lifetime(a, preferred);
	}
	struct nl_msg *msg = NULL;
	rc = rtnl_addr_build_add_request(a, NLM_F_CREATE | (opts->replace ? NLM_F_REPLACE : NLM_F_EXCL), &msg);
	rtnl_addr_put(a);
	char what[INET6_ADDRSTRLEN + 64];
	snprintf(what, sizeof(what), "add address %s on ifindex %d", text, ifindex);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", what);
	return submit(nl, msg, what);
}

int arbor_nl_addr_delete(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *addr,
			 unsigned int prefixlen)
{
	begin(nl);
	int rc = check_prefix(nl, "delete address", addr, prefixlen);
	if (rc < 0)
		return rc;
	char text[INET6_ADDRSTRLEN + 8];
	format_prefix(addr, prefixlen, text, sizeof(text));
	if (ifindex <= 0)
		return FAIL(nl, -EINVAL, "delete address %s on ifindex %d", text, ifindex);
	struct rtnl_addr *a = rtnl_addr_for(ifindex, addr, prefixlen);
	if (a == NULL)
		return FAIL(nl, -ENOMEM, "delete address %s on ifindex %d", text, ifindex);
	struct nl_msg *msg = NULL;
	rc = rtnl_addr_build_delete_request(a, 0, &msg);
	rtnl_addr_put(a);
	char what[INET6_ADDRSTRLEN + 64];
	snprintf(what, sizeof(what), "delete address %s on ifindex %d", text, ifindex);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", what);
	return submit(nl, msg, what);
}

/* ---- routes ---- */

/* "route 198.51.100.0/24 via 192.0.2.254 dev 3 metric 50 table 254" for messages. */
static const char *describe_route(const struct arbor_nl_route *r, char *buf, size_t buflen)
{
	char dst[INET6_ADDRSTRLEN + 8], gateway[INET6_ADDRSTRLEN];
	int used = snprintf(buf, buflen, "route %s", format_prefix(&r->dst, r->prefixlen, dst,
								     sizeof(dst)));
	if (used >= 0 && (size_t)used < buflen && r->gateway.family != AF_UNSPEC)
		used += snprintf(buf + used, buflen - (size_t)used, " via %s",
				 arbor_nl_ip_format(&r->gateway, gateway, sizeof(gateway)));
	if (used >= 0 && (size_t)used < buflen && r->ifindex != 0)
		used += snprintf(buf + used, buflen - (size_t)used, " dev %d", r->ifindex);
	if (used >= 0 && (size_t)used < buflen && r->metric != 0)
		used += snprintf(buf + used, buflen - (size_t)used, " metric %u", r->metric);
	if (used >= 0 && (size_t)used < buflen && r->table != 0 && r->table != RT_TABLE_MAIN)
		snprintf(buf + used, buflen - (size_t)used, " table %u", r->table);
	return buf;
}

/*
 * The rtnl_route for r: for add, zero fields take their defaults; for delete they are left
 * out (or set to the kernel's "any") so that they match any route. NULL when out of memory.
 */
static struct rtnl_route *rtnl_route_for(const struct arbor_nl_route *r, bool for_delete)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct nl_addr *dst = nl_addr_from_ip(&r->dst, r->prefixlen);
	struct nl_addr *gateway = NULL;
	struct rtnl_nexthop *nh = NULL;
	if (route == NULL || dst == NULL)
		goto fail;
	rtnl_route_set_family(route, (uint8_t)r->dst.family);
	if (rtnl_route_set_dst(route, dst) < 0)
		goto fail;
	rtnl_route_set_table(route, r->table != 0 ? r->table : RT_TABLE_MAIN);
	if (r->metric != 0)
		rtnl_route_set_priority(route, r->metric);
	uint8_t type = r->type != 0 ? r->type : RTN_UNICAST;
	if (for_delete) {
		rtnl_route_set_protocol(route, r->protocol);
		rtnl_route_set_type(route, r->type);
		rtnl_route_set_scope(route, RT_SCOPE_NOWHERE);
	} else {
		rtnl_route_set_protocol(route, r->protocol != 0 ? r->protocol : RTPROT_STATIC);
		rtnl_route_set_type(route, type);
		/* As ip(8) does: a local route is host scope, a directly connected unicast
		 * route link scope, anything else universe. */
		uint8_t scope = RT_SCOPE_UNIVERSE;
		if (type == RTN_LOCAL)
			scope = RT_SCOPE_HOST;
		else if (type == RTN_UNICAST && r->gateway.family == AF_UNSPEC && r->ifindex != 0)
			scope = RT_SCOPE_LINK;
		rtnl_route_set_scope(route, scope);
	}
	if (r->gateway.family != AF_UNSPEC || r->ifindex != 0) {
		nh = rtnl_route_nh_alloc();
		if (nh == NULL)
			goto fail;
		if (r->ifindex != 0)
			rtnl_route_nh_set_ifindex(nh, r->ifindex);
		if (r->onlink && !for_delete)
			rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
		if (r->gateway.family != AF_UNSPEC) {
			gateway = nl_addr_from_ip(&r->gateway, ip_bits(r->gateway.family));
			if (gateway == NULL)
				goto fail;
			rtnl_route_nh_set_gateway(nh, gateway);
			nl_addr_put(gateway);
		}
		rtnl_route_add_nexthop(route, nh);
	}
	nl_addr_put(dst);
	return route;
fail:
	if (nh != NULL)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	if (route != NULL)
		rtnl_route_put(route);
	return NULL;
}

/* 0, or -EINVAL/-EAFNOSUPPORT with a message when r cannot be a route. */
static int check_route(struct arbor_nl *nl, const char *verb, const struct arbor_nl_route *r)
{
	int rc = check_prefix(nl, verb, &r->dst, r->prefixlen);
	if (rc < 0)
		return rc;
	char text[160];
	if (r->gateway.family != AF_UNSPEC && r->gateway.family != r->dst.family)
		return FAIL(nl, -EINVAL, "%s %s: gateway family differs from destination", verb,
			    describe_route(r, text, sizeof(text)));
	if (r->ifindex < 0)
		return FAIL(nl, -EINVAL, "%s %s: bad ifindex", verb, describe_route(r, text, sizeof(text)));
	return 0;
}

/* Adds (nlm_flags: NLM_F_EXCL or NLM_F_REPLACE) or deletes r. In a batch, quiet leaves
 * the request undescribed (the caller describes the failures it is told of): formatting
 * every route of a big batch cost more than sending it. */
static int route_change(struct arbor_nl *nl, const struct arbor_nl_route *r, bool del, int nlm_flags,
			const char *verb, bool quiet)
{
	begin(nl);
	if (r == NULL)
		return FAIL(nl, -EINVAL, "%s route: no route given", verb);
	int rc = check_route(nl, verb, r);
	if (rc < 0)
		return rc;
	struct rtnl_route *route = rtnl_route_for(r, del);
	struct nl_msg *msg = NULL;
	rc = route == NULL ? -NLE_NOMEM
	     : del	   ? rtnl_route_build_del_request(route, 0, &msg)
			   : rtnl_route_build_add_request(route, NLM_F_CREATE | nlm_flags, &msg);
	if (route != NULL)
		rtnl_route_put(route);
	char what[192] = "", text[160];
	if (!quiet || !nl->batching || rc < 0)
		snprintf(what, sizeof(what), "%s %s", verb, describe_route(r, text, sizeof(text)));
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", what);
	return submit(nl, msg, what[0] ? what : NULL);
}

int arbor_nl_route_add(struct arbor_nl *nl, const struct arbor_nl_route *route)
{
	return route_change(nl, route, false, NLM_F_EXCL, "add", false);
}

int arbor_nl_route_replace(struct arbor_nl *nl, const struct arbor_nl_route *route)
{
	return route_change(nl, route, false, NLM_F_REPLACE, "replace", false);
}

int arbor_nl_route_delete(struct arbor_nl *nl, const struct arbor_nl_route *r)
{
	return route_change(nl, r, true, 0, "delete", false);
}

static bool route_from_rtnl(struct arbor_nl_route *out, struct rtnl_route *route)
{
	memset(out, 0, sizeof(*out));
	int family = rtnl_route_get_family(route);
	struct nl_addr *dst = rtnl_route_get_dst(route);
	if (ip_size(family) == 0 || !ip_from_nl_addr(&out->dst, dst, family))
		return false;
	out->prefixlen = (unsigned int)nl_addr_get_prefixlen(dst);
	out->metric = rtnl_route_get_priority(route);
	out->table = rtnl_route_get_table(route);
	out->protocol = rtnl_route_get_protocol(route);
	out->type = rtnl_route_get_type(route);
	int nexthops = rtnl_route_get_nnexthops(route);
	out->nexthops = nexthops > 0 ? (unsigned int)nexthops : 0;
	struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
	if (nh != NULL) {
		out->ifindex = rtnl_route_nh_get_ifindex(nh);
		out->onlink = (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK) != 0;
		struct nl_addr *gateway = rtnl_route_nh_get_gateway(nh);
		if (gateway != NULL && !ip_from_nl_addr(&out->gateway, gateway, family))
			memset(&out->gateway, 0, sizeof(out->gateway));
	}
	return true;
}

/* A route batch on the generic batch: positions in the batch map back to the ops that
 * were sent (an op refused before sending has its result already). */
struct route_batch {
	struct arbor_nl_route_op *ops;
	size_t *op_at;			/* batch position -> index in ops */
};

static void route_batch_failed(void *ctx, size_t position, int error, const char *what)
{
	(void)what;
	struct route_batch *b = ctx;
	b->ops[b->op_at[position]].result = error;
}

int arbor_nl_route_batch(struct arbor_nl *nl, struct arbor_nl_route_op *ops, size_t n)
{
	struct route_batch b = { ops, xcalloc(n ? n : 1, sizeof(*b.op_at)) };
	int failed = 0;
	arbor_nl_batch_begin(nl);
	for (size_t i = 0; i < n; i++) {
		size_t position = arbor_nl_batch_size(nl);
		ops[i].result = ops[i].del ? route_change(nl, &ops[i].route, true, 0, "delete", true)
					   : route_change(nl, &ops[i].route, false, NLM_F_REPLACE, "replace", true);
		if (arbor_nl_batch_size(nl) > position)
			b.op_at[position] = i;	/* sent: its answer comes at the end */
		else if (ops[i].result < 0)
			failed++;		/* refused here (or sent alone, without a batch socket) */
	}
	failed += arbor_nl_batch_end(nl, route_batch_failed, &b);
	free(b.op_at);
	/* the requests went undescribed: the message names the last failure */
	for (size_t i = n; failed > 0 && i-- > 0;)
		if (ops[i].result < 0) {
			char text[160];
			FAIL(nl, ops[i].result, "%s %s", ops[i].del ? "delete" : "replace",
			     describe_route(&ops[i].route, text, sizeof(text)));
			break;
		}
	return failed;
}

struct default_scan {
	bool found;
};

/* One route of a dump, read in place: no libnl object. */
static int scan_default(struct nl_msg *msg, void *arg)
{
	struct default_scan *scan = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return NL_OK;
	const struct rtmsg *r = NLMSG_DATA(h);
	if (r->rtm_dst_len == 0 && r->rtm_type == RTN_UNICAST && r->rtm_table == RT_TABLE_MAIN)
		scan->found = true;
	return NL_OK;
}

int arbor_nl_has_default_route(struct arbor_nl *nl, int family)
{
	begin(nl);
	if (family != AF_INET && family != AF_INET6)
		return FAIL(nl, -EAFNOSUPPORT, "default route of family %d", family);
	int rc = 0;
	struct default_scan scan = { false };
	for (int attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
		struct rtmsg req = { .rtm_family = (unsigned char)family };
		nl->kernel_errno = 0;
		scan.found = false;
		rc = nl_send_simple(nl->sock, RTM_GETROUTE, NLM_F_DUMP, &req, sizeof(req));
		if (rc < 0)
			break;
		struct nl_cb *orig = nl_socket_get_cb(nl->sock);
		struct nl_cb *cb = nl_cb_clone(orig);
		nl_cb_put(orig);
		if (cb == NULL) {
			rc = -NLE_NOMEM;
			break;
		}
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, scan_default, &scan);
		rc = nl_recvmsgs(nl->sock, cb);
		nl_cb_put(cb);
		if (rc != -NLE_DUMP_INTR)
			break;
	}
	if (rc < 0)
		return FAIL(nl, failure_errno(nl, rc), "look for a default route");
	return scan.found ? 1 : 0;
}

/* ---- bridge forwarding database and neighbours ---- */

/* An FDB entry (family AF_BRIDGE, NTF_SELF: the VXLAN device's own table) or an IP
 * neighbour, as a request. */
static int neigh_request(struct arbor_nl *nl, bool fdb, bool add, int ifindex, const uint8_t *mac,
			 const struct arbor_nl_ip *ip, const char *what)
{
	if (ifindex <= 0 || ip == NULL || ip_size(ip->family) == 0)
		return FAIL(nl, -EINVAL, "%s", what);
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = nl_addr_from_ip(ip, ip_bits(ip->family));
	struct nl_addr *ll = mac ? nl_addr_build(AF_LLC, mac, 6) : NULL;
	struct nl_msg *msg = NULL;
	int rc = n && dst && (ll || !mac) ? 0 : -NLE_NOMEM;
	if (rc == 0) {
		rtnl_neigh_set_ifindex(n, ifindex);
		/* The destination first: libnl takes the entry's family from it, and an FDB
		 * entry (AF_BRIDGE) has an IP destination, the VTEP. */
		rc = rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_family(n, fdb ? AF_BRIDGE : ip->family);
		if (ll)
			rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, fdb ? NUD_PERMANENT | NUD_NOARP : NUD_PERMANENT);
		if (fdb)
			rtnl_neigh_set_flags(n, NTF_SELF);
	}
	if (rc >= 0)
		rc = add ? rtnl_neigh_build_add_request(n, NLM_F_CREATE | NLM_F_REPLACE, &msg)
			 : rtnl_neigh_build_delete_request(n, 0, &msg);
	nl_addr_put(dst);
	nl_addr_put(ll);
	if (n)
		rtnl_neigh_put(n);
	if (rc < 0)
		return FAIL(nl, -errno_from_nle(rc), "%s", what);
	return submit(nl, msg, what);
}

static void neigh_what(char *buf, size_t len, const char *verb, const uint8_t *mac,
		       const struct arbor_nl_ip *ip, int ifindex)
{
	char text[INET6_ADDRSTRLEN];
	arbor_nl_ip_format(ip, text, sizeof(text));
	if (mac)
		snprintf(buf, len, "%s %02x:%02x:%02x:%02x:%02x:%02x %s on ifindex %d", verb, mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5], text, ifindex);
	else
		snprintf(buf, len, "%s %s on ifindex %d", verb, text, ifindex);
}

int arbor_nl_fdb_replace(struct arbor_nl *nl, int ifindex, const uint8_t mac[6], const struct arbor_nl_ip *dst)
{
	begin(nl);
	char what[128];
	neigh_what(what, sizeof(what), "set fdb entry", mac, dst, ifindex);
	return neigh_request(nl, true, true, ifindex, mac, dst, what);
}

int arbor_nl_fdb_delete(struct arbor_nl *nl, int ifindex, const uint8_t mac[6], const struct arbor_nl_ip *dst)
{
	begin(nl);
	char what[128];
	neigh_what(what, sizeof(what), "delete fdb entry", mac, dst, ifindex);
	return neigh_request(nl, true, false, ifindex, mac, dst, what);
}

int arbor_nl_neigh_replace(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *ip, const uint8_t mac[6])
{
	begin(nl);
	char what[128];
	neigh_what(what, sizeof(what), "replace neighbour", mac, ip, ifindex);
	return neigh_request(nl, false, true, ifindex, mac, ip, what);
}

int arbor_nl_neigh_delete(struct arbor_nl *nl, int ifindex, const struct arbor_nl_ip *ip)
{
	begin(nl);
	char what[128];
	neigh_what(what, sizeof(what), "delete neighbour", NULL, ip, ifindex);
	return neigh_request(nl, false, false, ifindex, NULL, ip, what);
}

/* ---- monitor ---- */

#define MONITOR_FAIL(mon, rc, ...) \
	describe_failure((mon)->error, sizeof((mon)->error), (rc), __VA_ARGS__)

static void deliver(struct arbor_nl_monitor *mon, const struct arbor_nl_change *change)
{
	mon->delivered++;
	mon->cb(mon->ctx, change);
}

static void deliver_resync(struct arbor_nl_monitor *mon)
{
	struct arbor_nl_change change = { .kind = ARBOR_NL_RESYNC };
	deliver(mon, &change);
}

struct parse_ctx {
	arbor_nl_change_fn *cb;
	void *ctx;
	int delivered;
	const struct nlmsghdr *hdr; /* the message being parsed */
};

/* nl_msg_parse's callback: one link, address or route object out of a message. */
static void deliver_object(struct nl_object *o, void *arg)
{
	struct parse_ctx *p = arg;
	struct arbor_nl_change change;
	memset(&change, 0, sizeof(change));
	switch (nl_object_get_msgtype(o)) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		change.kind = nl_object_get_msgtype(o) == RTM_NEWLINK ? ARBOR_NL_LINK_NEW
								       : ARBOR_NL_LINK_DEL;
		link_from_rtnl(&change.link, (struct rtnl_link *)o, p->hdr);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (!addr_from_rtnl(&change.addr, (struct rtnl_addr *)o))
			return;
		change.kind = nl_object_get_msgtype(o) == RTM_NEWADDR ? ARBOR_NL_ADDR_NEW
								       : ARBOR_NL_ADDR_DEL;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (!route_from_rtnl(&change.route, (struct rtnl_route *)o))
			return;
		change.kind = nl_object_get_msgtype(o) == RTM_NEWROUTE ? ARBOR_NL_ROUTE_NEW
									: ARBOR_NL_ROUTE_DEL;
		break;
	default:
		return;
	}
	p->delivered++;
	p->cb(p->ctx, &change);
}

/* Whether a route's attributes are safe to hand to libnl 3.7, which the kernel's
 * never fail to be (fuzz_netlink_dump found both):
 *  - an RTA_VIA (top level or a nexthop's) must hold its family: libnl copies
 *    nla_len - 2 bytes unchecked (memcpy of -1 bytes for a 1-byte one);
 *  - every nexthop of an RTA_MULTIPATH must be at least a struct rtnexthop long
 *    (libnl's loop does not advance past a zero-length one and allocates nexthops
 *    until memory runs out) and end, aligned, inside the attribute (libnl's
 *    unsigned remaining length wraps, and it parses on past the attribute). */
static bool route_attrs_sane(const struct rtattr *rta, int len, int depth)
{
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (attr_type(rta) == RTA_VIA && RTA_PAYLOAD(rta) < sizeof(struct rtvia))
			return false;
		if (attr_type(rta) == RTA_MULTIPATH && depth == 0) {
			const struct rtnexthop *nh = RTA_DATA(rta);
			int left = (int)RTA_PAYLOAD(rta);
			while (left >= (int)sizeof *nh && nh->rtnh_len <= left) {
				/* libnl's remaining length is unsigned: a nexthop whose
				 * aligned length passes the end wraps it, and it reads on
				 * past the attribute. */
				if (nh->rtnh_len < sizeof *nh || (int)RTNH_ALIGN(nh->rtnh_len) > left)
					return false;
				if (!route_attrs_sane(RTNH_DATA(nh), nh->rtnh_len - (int)RTNH_LENGTH(0), 1))
					return false;
				left -= RTNH_ALIGN(nh->rtnh_len);
				nh = RTNH_NEXT(nh);
			}
		}
	}
	return true;
}

/* Whether a link message is safe to hand to libnl 3.7: an IFLA_LINKINFO with
 * IFLA_INFO_XSTATS but no IFLA_INFO_DATA has the kind's parser called on a NULL
 * data attribute (fuzz_netlink_dump; the kernel sends no such message). */
static bool link_attrs_sane(const struct nlmsghdr *hdr)
{
	int len = (int)IFLA_PAYLOAD(hdr);
	for (const struct rtattr *rta = IFLA_RTA(NLMSG_DATA(hdr)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (attr_type(rta) != IFLA_LINKINFO)
			continue;
		bool data = false, xstats = false;
		int ilen = (int)RTA_PAYLOAD(rta);
		for (const struct rtattr *info = RTA_DATA(rta); RTA_OK(info, ilen); info = RTA_NEXT(info, ilen)) {
			data |= attr_type(info) == IFLA_INFO_DATA;
			xstats |= attr_type(info) == IFLA_INFO_XSTATS;
		}
		if (xstats && !data)
			return false;
	}
	return true;
}

/* Parses every link, address and route message in buf (of routes only default ones
 * when default_routes_only: a router adding a route per delegated prefix must not pay
 * for parsing each); *lost counts the messages libnl could not take. */
static int parse_messages(const void *buf, size_t len, bool default_routes_only, arbor_nl_change_fn *cb,
			  void *ctx, int *lost)
{
	struct parse_ctx p = { cb, ctx, 0, NULL };
	int left = len > INT32_MAX ? INT32_MAX : (int)len;
	*lost = 0;
	for (const struct nlmsghdr *hdr = buf; nlmsg_ok(hdr, left); hdr = nlmsg_next((struct nlmsghdr *)hdr, &left)) {
		switch (hdr->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			/* AF_BRIDGE link messages describe bridge ports, and an AF_BRIDGE
			 * RTM_DELLINK means "no longer a port", not that the link is gone: only
			 * AF_UNSPEC ones are about the link itself. (libnl reports a bridge's
			 * family as AF_BRIDGE either way, so look at the message.) */
			if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) ||
			    ((const struct ifinfomsg *)NLMSG_DATA(hdr))->ifi_family != AF_UNSPEC)
				continue;
			if (!link_attrs_sane(hdr)) {
				(*lost)++;
				continue;
			}
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			if (default_routes_only && (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)) ||
						    ((const struct rtmsg *)NLMSG_DATA(hdr))->rtm_dst_len != 0))
				continue;	/* not a default route: not even parsed */
			/* fall through */
		case RTM_NEWADDR:
		case RTM_DELADDR:
			if (hdr->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)) &&
			    !route_attrs_sane(RTM_RTA(NLMSG_DATA(hdr)), (int)RTM_PAYLOAD(hdr), 0)) {
				(*lost)++;
				continue;
			}
			break;
		default:
			continue;
		}
		struct nl_msg *msg = nlmsg_convert((struct nlmsghdr *)hdr);
		if (msg == NULL) {
			(*lost)++;
			continue;
		}
		nlmsg_set_proto(msg, NETLINK_ROUTE);
		p.hdr = hdr;
		if (nl_msg_parse(msg, deliver_object, &p) < 0)
			(*lost)++;
		nlmsg_free(msg);
	}
	return p.delivered;
}

int arbor_nl_parse_messages(const void *buf, size_t len, arbor_nl_change_fn *cb, void *ctx)
{
	int lost;
	return parse_messages(buf, len, false, cb, ctx, &lost);
}

struct arbor_nl_monitor *arbor_nl_monitor_open(arbor_nl_change_fn *cb, void *ctx, char *err,
					       size_t errlen)
{
	int rc;
	const char *what = "netlink monitor";
	struct arbor_nl_monitor *mon = NULL;
	if (cb == NULL) {
		rc = -EINVAL;
		what = "netlink monitor: no callback";
		goto fail;
	}
	mon = xcalloc(1, sizeof(*mon));
	mon->buffer = xmalloc(MONITOR_BUFFER);
	if ((mon->sock = nl_socket_alloc()) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	mon->cb = cb;
	mon->ctx = ctx;
	nl_socket_disable_seq_check(mon->sock);
	rc = nl_connect(mon->sock, NETLINK_ROUTE);
	if (rc < 0) {
		rc = -errno_from_nle(rc);
		what = "netlink monitor: route socket";
		goto fail;
	}
	rc = nl_socket_add_memberships(mon->sock, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				       RTNLGRP_IPV6_IFADDR, RTNLGRP_NONE);
	if (rc < 0) {
		rc = -errno_from_nle(rc);
		what = "netlink monitor: subscribe to link and address groups";
		goto fail;
	}
	/* Best effort: a smaller buffer only makes an overrun (ARBOR_NL_RESYNC) likelier. */
	(void)nl_socket_set_buffer_size(mon->sock, MONITOR_SOCKET_BUFFER, 0);
	rc = nl_socket_set_nonblocking(mon->sock);
	if (rc < 0) {
		rc = -errno_from_nle(rc);
		what = "netlink monitor: non-blocking";
		goto fail;
	}
	return mon;
fail:
	describe_failure(err, errlen, rc, "%s", what);
	arbor_nl_monitor_close(mon);
	errno = -rc;
	return NULL;
}

int arbor_nl_monitor_fd(const struct arbor_nl_monitor *mon)
{
	return nl_socket_get_fd(mon->sock);
}

static int watch_route_groups(struct arbor_nl_monitor *mon);

/*
 * The default-routes-only monitor's socket filter: the kernel drops a route
 * notification whose destination length is not 0 before queueing it. A server that
 * adds a route per delegated prefix then does not wake its own monitor for each (nor
 * overrun it: every overrun cost a resync, a dump of every route). Everything else
 * passes, and parse_messages still checks (the filter is only a saving).
 */
static void filter_default_routes(struct arbor_nl_monitor *mon, bool on)
{
	int fd = nl_socket_get_fd(mon->sock);
	if (!on) {
		(void)setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0);
		return;
	}
	/* nlmsg_type is in host order; route types fit in its low byte */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	enum { TYPE_LOW = offsetof(struct nlmsghdr, nlmsg_type), TYPE_HIGH = TYPE_LOW + 1 };
#else
	enum { TYPE_HIGH = offsetof(struct nlmsghdr, nlmsg_type), TYPE_LOW = TYPE_HIGH + 1 };
#endif
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, TYPE_HIGH),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),		/* not a route type: 7 */
		/* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, TYPE_LOW),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RTM_NEWROUTE, 1, 0),	/* 5 */
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RTM_DELROUTE, 0, 2),	/* not a route: 7 */
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NLMSG_HDRLEN + offsetof(struct rtmsg, rtm_dst_len)),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),		/* a default route: 7 */
		/* 7 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),			/* kept */
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, 0),				/* dropped */
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	(void)setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

int arbor_nl_monitor_watch_default_routes(struct arbor_nl_monitor *mon)
{
	mon->default_routes_only = true;
	filter_default_routes(mon, true);
	return watch_route_groups(mon);
}

const char *arbor_nl_monitor_error(const struct arbor_nl_monitor *mon)
{
	return mon->error;
}

static void monitor_deliver(void *ctx, const struct arbor_nl_change *change)
{
	deliver(ctx, change);
}

/* Hand every link, address and route message in one datagram to the callback; a message
 * that cannot be parsed means a change is lost: have the caller re-read. */
static void dispatch_datagram(struct arbor_nl_monitor *mon, int len)
{
	int lost;
	parse_messages(mon->buffer, (size_t)len, mon->default_routes_only, monitor_deliver, mon, &lost);
	if (lost)
		deliver_resync(mon);
}

static int watch_route_groups(struct arbor_nl_monitor *mon)
{
	int rc = nl_socket_add_memberships(mon->sock, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NONE);
	if (rc < 0)
		return MONITOR_FAIL(mon, -errno_from_nle(rc), "netlink monitor: subscribe to route groups");
	return 0;
}

int arbor_nl_monitor_watch_routes(struct arbor_nl_monitor *mon)
{
	if (mon->default_routes_only)
		filter_default_routes(mon, false);
	mon->default_routes_only = false;
	return watch_route_groups(mon);
}

int arbor_nl_monitor_dispatch(struct arbor_nl_monitor *mon)
{
	mon->error[0] = '\0';
	mon->delivered = 0;
	int fd = nl_socket_get_fd(mon->sock);
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		ssize_t len = recvfrom(fd, mon->buffer, MONITOR_BUFFER, MSG_DONTWAIT | MSG_TRUNC,
				       (struct sockaddr *)&from, &fromlen);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {	/* the kernel dropped notifications */
				deliver_resync(mon);
				continue;
			}
			return MONITOR_FAIL(mon, -errno, "netlink monitor: receive");
		}
		if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;	/* only the kernel speaks on these groups */
		if (len > MONITOR_BUFFER) {	/* truncated: part of it is lost */
			deliver_resync(mon);
			continue;
		}
		dispatch_datagram(mon, (int)len);
	}
	return mon->delivered;
}

void arbor_nl_monitor_close(struct arbor_nl_monitor *mon)
{
	if (mon == NULL)
		return;
	if (mon->sock != NULL)
		nl_socket_free(mon->sock);
	free(mon->buffer);
	free(mon);
}

/* ---- dumps ---- */

/*
 * Listings are dumps read on the request socket's twin (the batch socket), parsed by the
 * same code as notifications. Why not libnl's caches: libnl 3.7 restarts an interrupted
 * dump (NLM_F_DUMP_INTR: the table changed under it) into the same cache without clearing
 * it, so a busy table (a thousand new links finishing IPv6 DAD) came back with every
 * address twice. Here a dump that was interrupted is thrown away and asked for again.
 */

struct collect {
	enum arbor_nl_change_kind kind;
	int family;	/* addresses, routes: AF_UNSPEC for all */
	int ifindex;	/* addresses: 0 for all */
	uint32_t table;	/* routes */
	void *v;
	size_t n, cap, size;
};

static void collect_change(void *ctx, const struct arbor_nl_change *c)
{
	struct collect *col = ctx;
	const void *item = NULL;
	if (c->kind != col->kind)
		return;
	switch (c->kind) {
	case ARBOR_NL_LINK_NEW:
		item = &c->link;
		break;
	case ARBOR_NL_ADDR_NEW:
		if ((col->family != AF_UNSPEC && c->addr.addr.family != col->family) ||
		    (col->ifindex != 0 && c->addr.ifindex != col->ifindex))
			return;
		item = &c->addr;
		break;
	case ARBOR_NL_ROUTE_NEW:
		if (c->route.table != col->table || (col->family != AF_UNSPEC && c->route.dst.family != col->family))
			return;
		item = &c->route;
		break;
	default:
		return;
	}
	if (col->n == col->cap) {
		col->cap = col->cap ? col->cap * 2 : 64;
		col->v = xreallocarray(col->v, col->cap, col->size);
	}
	memcpy((char *)col->v + col->n * col->size, item, col->size);
	col->n++;
}

static struct nl_sock *raw_socket(struct arbor_nl *nl)
{
	if (nl->batch_sock == NULL) {
		nl->batch_sock = nl_socket_alloc();
		if (nl->batch_sock == NULL || nl_connect(nl->batch_sock, NETLINK_ROUTE) < 0) {
			if (nl->batch_sock)
				nl_socket_free(nl->batch_sock);
			nl->batch_sock = NULL;
			return NULL;
		}
		arbor_socket_set_rcvbuf(nl_socket_get_fd(nl->batch_sock), BATCH_SOCKET_BUFFER);
	}
	if (nl->batch_buffer == NULL)
		nl->batch_buffer = xmalloc(MONITOR_BUFFER);
	return nl->batch_sock;
}

/* One attempt: 0 done, 1 interrupted, or a negative errno. */
static int dump_once(struct arbor_nl *nl, int type, int family, struct collect *col)
{
	struct nl_sock *sock = nl->batch_sock;
	int fd = nl_socket_get_fd(sock);
	struct {
		struct nlmsghdr h;
		union {
			struct ifinfomsg link;
			struct ifaddrmsg addr;
			struct rtmsg route;
		};
	} req;
	memset(&req, 0, sizeof(req));
	size_t body = type == RTM_GETLINK ? sizeof(req.link) : type == RTM_GETADDR ? sizeof(req.addr) : sizeof(req.route);
	req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	req.h.nlmsg_type = (uint16_t)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = nl_socket_use_seq(sock);
	/* The family is the first byte of each of the three headers. */
	req.link.ifi_family = (unsigned char)family;
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
		return -errno;
	bool interrupted = false;
	for (;;) {
		ssize_t len = recv(fd, nl->batch_buffer, MONITOR_BUFFER, MSG_TRUNC);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -errno;
		if (len > MONITOR_BUFFER)
			return -EMSGSIZE;
		int left = (int)len;
		for (struct nlmsghdr *h = nl->batch_buffer; nlmsg_ok(h, left); h = nlmsg_next(h, &left)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue; /* a late answer to something else */
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return interrupted ? 1 : 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error < 0 ? e->error : -EPROTO;
			}
			if (!interrupted) {
				int lost;
				parse_messages(h, h->nlmsg_len, false, collect_change, col, &lost);
			}
		}
	}
}

/* Dumps type into col, again while the kernel says the dump was interrupted. */
static int dump(struct arbor_nl *nl, int type, int family, struct collect *col)
{
	if (nl->batching)
		return -EBUSY;
	if (raw_socket(nl) == NULL)
		return -ENOMEM;
	int rc = 1;
	for (int attempt = 0; attempt < DUMP_ATTEMPTS && rc == 1; attempt++) {
		col->n = 0;
		rc = dump_once(nl, type, family, col);
	}
	if (rc == 1)
		rc = -EAGAIN;
	return rc;
}

int arbor_nl_links(struct arbor_nl *nl, struct arbor_nl_link **out, size_t *n)
{
	begin(nl);
	struct collect col = { .kind = ARBOR_NL_LINK_NEW, .size = sizeof(**out) };
	int rc = dump(nl, RTM_GETLINK, AF_UNSPEC, &col);
	if (rc < 0) {
		free(col.v);
		col.v = NULL, col.n = 0;
		FAIL(nl, rc, "list links");
	}
	*out = col.n ? col.v : (free(col.v), NULL);
	*n = col.n;
	return rc < 0 ? rc : 0;
}

int arbor_nl_addrs(struct arbor_nl *nl, int family, int ifindex, struct arbor_nl_addr **out, size_t *n)
{
	begin(nl);
	*out = NULL;
	*n = 0;
	if (family != AF_UNSPEC && ip_size(family) == 0)
		return FAIL(nl, -EAFNOSUPPORT, "list addresses of family %d", family);
	struct collect col = { .kind = ARBOR_NL_ADDR_NEW, .family = family, .ifindex = ifindex, .size = sizeof(**out) };
	int rc = dump(nl, RTM_GETADDR, family, &col);
	if (rc < 0) {
		free(col.v);
		return FAIL(nl, rc, "list addresses");
	}
	*out = col.n ? col.v : (free(col.v), NULL);
	*n = col.n;
	return 0;
}

int arbor_nl_routes(struct arbor_nl *nl, int family, uint32_t table, struct arbor_nl_route **out, size_t *n)
{
	begin(nl);
	*out = NULL;
	*n = 0;
	if (family != AF_UNSPEC && ip_size(family) == 0)
		return FAIL(nl, -EAFNOSUPPORT, "list routes of family %d", family);
	struct collect col = { .kind = ARBOR_NL_ROUTE_NEW, .family = family, .table = table ? table : RT_TABLE_MAIN,
			       .size = sizeof(**out) };
	int rc = dump(nl, RTM_GETROUTE, family, &col);
	if (rc < 0) {
		free(col.v);
		return FAIL(nl, rc, "list routes");
	}
	*out = col.n ? col.v : (free(col.v), NULL);
	*n = col.n;
	return 0;
}
