/* Conflict probes: ICMP echoes to addresses about to be offered (see
 * conflict_probe.h). The echo codec is libarbor's (icmp_wire.h), shared with
 * healthd's icmp checks. */
#include "conflict_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "icmp_wire.h"
#include "clock.h"
#include "xalloc.h"

/* Raw ICMP sockets' type filter, from <linux/icmp.h> (which clashes with
 * <net/if.h>): a set bit drops that type. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
struct icmp_filter {
	uint32_t data;
};
#endif

struct slot {
	struct conflict_probe *cp;
	bool used;
	uint16_t seq;
	uint64_t token;
	uint32_t addr;
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t key[CONFLICT_PROBE_KEY_MAX];
	size_t key_len;
	uint8_t *pkt;
	size_t len;
	unsigned round;
	double sent_at;
	struct event *timer;
};

struct conflict_probe {
	struct event_base *base;
	conflict_probe_cb cb;
	void *ctx;
	int fd;
	bool raw;
	char bound[IF_NAMESIZE]; /* SO_BINDTODEVICE, "" for none */
	uint16_t id;
	uint16_t next_seq;
	struct event *ev;
	size_t npending;
	char error[200];
	struct slot slots[CONFLICT_PROBE_MAX];
};

static void finish(struct slot *sl, bool conflict)
{
	struct conflict_probe *cp = sl->cp;
	/* The slot is free before the callback runs: it may start the next probe
	 * (of another address for the same DISCOVER), even in this slot. */
	struct slot copy = *sl;
	evtimer_del(sl->timer);
	sl->used = false;
	sl->pkt = NULL;
	cp->npending--;
	struct conflict_probe_result r = {
		.ifname = copy.ifname,
		.addr = copy.addr,
		.conflict = conflict,
		.elapsed = arbor_time_monotonic() - copy.sent_at,
		.key = copy.key,
		.key_len = copy.key_len,
		.pkt = copy.pkt,
		.len = copy.len,
		.round = copy.round,
	};
	cp->cb(cp->ctx, &r);
	free(copy.pkt);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	finish(arg, false);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conflict_probe *cp = arg;
	for (int budget = 0; budget < 256; budget++) {
		uint8_t buf[1500];
		union {
			struct cmsghdr align;
			uint8_t space[CMSG_SPACE(sizeof(struct in_pktinfo))];
		} control;
		struct sockaddr_in from;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &control, .msg_controllen = sizeof control,
		};
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0)
			return; /* EAGAIN, or an error the next send reports */
		int ifindex = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				ifindex = pi.ipi_ifindex;
			}
		struct icmp_echo e;
		if (icmp_echo_parse(buf, (size_t)n, false, cp->raw, &e) != 0)
			continue;
		if (cp->raw && e.id != cp->id)
			continue; /* someone else's ping (a datagram socket's id is the kernel's) */
		uint32_t src = ntohl(from.sin_addr.s_addr);
		for (size_t i = 0; i < CONFLICT_PROBE_MAX; i++) {
			struct slot *sl = &cp->slots[i];
			if (sl->used && sl->seq == e.seq && sl->token == e.token && sl->addr == src &&
			    (ifindex == 0 || sl->ifindex == 0 || ifindex == sl->ifindex)) {
				finish(sl, true);
				break;
			}
		}
	}
}

struct conflict_probe *conflict_probe_new(struct event_base *base, conflict_probe_cb cb, void *ctx)
{
	struct conflict_probe *cp = xcalloc(1, sizeof *cp);
	cp->base = base;
	cp->cb = cb;
	cp->ctx = ctx;
	cp->fd = -1;
	cp->id = (uint16_t)getpid();
	uint16_t seq;
	if (getrandom(&seq, sizeof seq, GRND_NONBLOCK) == sizeof seq)
		cp->next_seq = seq;
	for (size_t i = 0; i < CONFLICT_PROBE_MAX; i++) {
		cp->slots[i].cp = cp;
		cp->slots[i].timer = evtimer_new(base, on_timeout, &cp->slots[i]);
	}
	return cp;
}

void conflict_probe_free(struct conflict_probe *cp)
{
	if (cp == NULL)
		return;
	for (size_t i = 0; i < CONFLICT_PROBE_MAX; i++) {
		event_free(cp->slots[i].timer);
		free(cp->slots[i].pkt);
	}
	if (cp->ev)
		event_free(cp->ev);
	if (cp->fd >= 0)
		close(cp->fd);
	free(cp);
}

int conflict_probe_open(struct conflict_probe *cp, const char *ifname, char *err, size_t errlen)
{
	if (cp->fd < 0) {
		bool raw = false;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
		if (fd < 0) {
			raw = true;
			fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
		}
		int one = 1;
		if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
			snprintf(cp->error, sizeof cp->error,
				 "no ICMP socket: %s (datagram sockets need net.ipv4.ping_group_range, raw ones CAP_NET_RAW)",
				 strerror(errno));
			snprintf(err, errlen, "%s", cp->error);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		if (raw) {
			/* Only echo replies, not every ICMP message the host receives. */
			struct icmp_filter filter = { .data = ~(1u << ICMP_ECHOREPLY) };
			setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
		}
		cp->fd = fd;
		cp->raw = raw;
		cp->bound[0] = '\0';
		cp->ev = event_new(cp->base, fd, EV_READ | EV_PERSIST, on_readable, cp);
		event_add(cp->ev, NULL);
	}
	const char *want = ifname ? ifname : "";
	if (strcmp(cp->bound, want) != 0) {
		if (setsockopt(cp->fd, SOL_SOCKET, SO_BINDTODEVICE, want, (socklen_t)strlen(want)) != 0) {
			/* Not fatal: every echo names its interface anyway (IP_PKTINFO). */
			snprintf(err, errlen, "ICMP socket: bind to %s: %s", want[0] ? want : "no device", strerror(errno));
			return -1;
		}
		snprintf(cp->bound, sizeof cp->bound, "%s", want);
	}
	cp->error[0] = '\0';
	return 0;
}

int conflict_probe_start(struct conflict_probe *cp, const struct conflict_probe_req *rq, char *err, size_t errlen)
{
	if (cp->npending >= CONFLICT_PROBE_MAX)
		return CONFLICT_PROBE_FULL;
	if (cp->fd < 0 && conflict_probe_open(cp, NULL, err, errlen) != 0)
		return CONFLICT_PROBE_FAILED;
	if (rq->key_len > CONFLICT_PROBE_KEY_MAX) {
		snprintf(err, errlen, "client key too long");
		return CONFLICT_PROBE_FAILED;
	}
	struct slot *sl = NULL;
	for (size_t i = 0; i < CONFLICT_PROBE_MAX && sl == NULL; i++)
		if (!cp->slots[i].used)
			sl = &cp->slots[i];
	/* A sequence number no pending probe uses (at most CONFLICT_PROBE_MAX are). */
	uint16_t seq;
	bool taken;
	do {
		seq = cp->next_seq++;
		taken = false;
		for (size_t i = 0; i < CONFLICT_PROBE_MAX && !taken; i++)
			taken = cp->slots[i].used && cp->slots[i].seq == seq;
	} while (taken);
	uint64_t token;
	if (getrandom(&token, sizeof token, GRND_NONBLOCK) != sizeof token)
		token = (uint64_t)(uintptr_t)sl ^ ((uint64_t)seq << 48) ^ (uint64_t)(arbor_time_monotonic() * 1e9);
	int ifindex = (int)if_nametoindex(rq->ifname);

	struct icmp_echo e = { .v6 = false, .id = cp->id, .seq = seq, .token = token };
	uint8_t pkt[64];
	int len = icmp_echo_build(pkt, sizeof pkt, &e);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(rq->addr) };
	struct iovec iov = { pkt, (size_t)len };
	union {
		struct cmsghdr align;
		uint8_t space[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1 };
	if (ifindex > 0) {
		/* Out through the served interface, whatever the routes say. */
		msg.msg_control = &control;
		msg.msg_controllen = sizeof control;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { .ipi_ifindex = ifindex };
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	}
	if (sendmsg(cp->fd, &msg, 0) != len) {
		char shown[16];
		inet_ntop(AF_INET, &to.sin_addr, shown, sizeof shown);
		snprintf(err, errlen, "echo to %s on %s: %s", shown, rq->ifname, strerror(errno));
		return CONFLICT_PROBE_FAILED;
	}
	uint8_t *copy = xmalloc(rq->len ? rq->len : 1);
	memcpy(copy, rq->pkt, rq->len);
	sl->used = true;
	sl->seq = seq;
	sl->token = token;
	sl->addr = rq->addr;
	sl->ifindex = ifindex;
	snprintf(sl->ifname, sizeof sl->ifname, "%s", rq->ifname);
	memcpy(sl->key, rq->key, rq->key_len);
	sl->key_len = rq->key_len;
	sl->pkt = copy;
	sl->len = rq->len;
	sl->round = rq->round;
	sl->sent_at = arbor_time_monotonic();
	struct timeval tv = { (time_t)rq->timeout, (suseconds_t)((rq->timeout - (double)(time_t)rq->timeout) * 1e6) };
	evtimer_add(sl->timer, &tv);
	cp->npending++;
	return CONFLICT_PROBE_STARTED;
}

bool conflict_probe_update(struct conflict_probe *cp, const char *ifname, const uint8_t *key, size_t key_len,
			   const uint8_t *pkt, size_t len)
{
	if (cp->npending == 0)
		return false;
	for (size_t i = 0; i < CONFLICT_PROBE_MAX; i++) {
		struct slot *sl = &cp->slots[i];
		if (!sl->used || sl->key_len != key_len || memcmp(sl->key, key, key_len) != 0 ||
		    strcmp(sl->ifname, ifname) != 0)
			continue;
		uint8_t *copy = xrealloc(sl->pkt, len ? len : 1);
		memcpy(copy, pkt, len);
		sl->pkt = copy;
		sl->len = len;
		return true;
	}
	return false;
}

size_t conflict_probe_pending(const struct conflict_probe *cp)
{
	return cp->npending;
}

const char *conflict_probe_socket_kind(const struct conflict_probe *cp)
{
	return cp->fd < 0 ? NULL : cp->raw ? "raw" : "datagram";
}

const char *conflict_probe_error(const struct conflict_probe *cp)
{
	return cp->error;
}
