/* icmp checks: echo request / reply. All icmp checks share one socket per
 * (family, source interface), so thousands of checks cost a few descriptors;
 * replies are matched by sequence number, a random token in the payload and
 * the sender's address. An ICMP datagram socket is used where
 * net.ipv4.ping_group_range allows it, a raw socket (CAP_NET_RAW) otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "icmp_wire.h"
#include "probe.h"
#include "xalloc.h"

enum { SLOTS = 4096 };

struct icmp_probe;

struct icmp_socket {
	struct icmp_socket *next;
	int family;
	char ifname[16];
	int fd;
	bool raw;
	uint16_t id;
	struct event *ev;
	struct icmp_probe *slots[SLOTS];
};

struct icmp_probe {
	struct probe *p;
	struct icmp_socket *sock;
	uint16_t seq;
	uint64_t token;
	struct icmp_probe *next; /* in its slot */
};

static void slot_remove(struct icmp_probe *ip)
{
	struct icmp_probe **pp = &ip->sock->slots[ip->seq % SLOTS];
	while (*pp && *pp != ip)
		pp = &(*pp)->next;
	if (*pp)
		*pp = ip->next;
}

static void icmp_cancel(struct probe *p)
{
	struct icmp_probe *ip = p->kind_state;
	if (ip->sock)
		slot_remove(ip);
	free(ip);
	p->kind_state = NULL;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct icmp_socket *s = arg;
	for (int budget = 0; budget < 256; budget++) {
		uint8_t buf[1500];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return; /* EAGAIN, or an error the next send will report */
		struct icmp_echo e;
		if (icmp_echo_parse(buf, (size_t)n, s->family == AF_INET6, s->raw && s->family == AF_INET, &e) != 0)
			continue;
		if (s->raw && e.id != s->id)
			continue; /* someone else's ping */
		for (struct icmp_probe *ip = s->slots[e.seq % SLOTS]; ip; ip = ip->next) {
			if (ip->seq == e.seq && ip->token == e.token && same_host(&from, &ip->p->addr)) {
				probe_finish(ip->p, true, NULL);
				break;
			}
		}
	}
}

static struct icmp_socket *socket_for(struct healthd *hd, int family, const char *ifname, char *err, size_t errlen)
{
	for (struct icmp_socket *s = hd->icmp_sockets; s; s = s->next)
		if (s->family == family && strcmp(s->ifname, ifname ? ifname : "") == 0)
			return s;
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	bool raw = false;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		raw = true;
		fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	}
	if (fd < 0) {
		snprintf(err, errlen, "no ICMP socket: %s (datagram sockets need net.ipv4.ping_group_range, raw ones CAP_NET_RAW)",
			 strerror(errno));
		return NULL;
	}
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0) {
		snprintf(err, errlen, "bind to interface %s: %s", ifname, strerror(errno));
		close(fd);
		return NULL;
	}
	if (raw && family == AF_INET6) {
		struct icmp6_filter filter;
		ICMP6_FILTER_SETBLOCKALL(&filter);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
	}
	struct icmp_socket *s = xcalloc(1, sizeof *s);
	s->family = family;
	snprintf(s->ifname, sizeof s->ifname, "%s", ifname ? ifname : "");
	s->fd = fd;
	s->raw = raw;
	s->id = (uint16_t)getpid();
	s->ev = event_new(hd->base, fd, EV_READ | EV_PERSIST, on_readable, s);
	event_add(s->ev, NULL);
	s->next = hd->icmp_sockets;
	hd->icmp_sockets = s;
	return s;
}

void probe_icmp_start(struct probe *p)
{
	struct healthd *hd = p->check->hd;
	struct icmp_probe *ip = xcalloc(1, sizeof *ip);
	ip->p = p;
	p->kind_state = ip;
	p->kind_cancel = icmp_cancel;
	char err[200];
	struct icmp_socket *s = socket_for(hd, p->addr.ss_family, p->check->spec->interface, err, sizeof err);
	if (s == NULL) {
		probe_finish(p, false, "%s", err);
		return;
	}
	ip->seq = hd->icmp_seq++;
	if (getrandom(&ip->token, sizeof ip->token, GRND_NONBLOCK) != sizeof ip->token)
		ip->token = (uint64_t)(uintptr_t)ip ^ ((uint64_t)ip->seq << 48);
	struct icmp_echo e = { .v6 = p->addr.ss_family == AF_INET6, .id = s->id, .seq = ip->seq, .token = ip->token };
	uint8_t pkt[64];
	int len = icmp_echo_build(pkt, sizeof pkt, &e);
	struct sockaddr_storage to = p->addr;
	if (to.ss_family == AF_INET)
		((struct sockaddr_in *)&to)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&to)->sin6_port = 0;
	if (sendto(s->fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, p->addrlen) != len) {
		char where[64];
		probe_finish(p, false, "echo to %s: %s", inet_ntop(to.ss_family,
			to.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&to)->sin_addr
						: (void *)&((struct sockaddr_in6 *)&to)->sin6_addr, where, sizeof where),
			     strerror(errno));
		return;
	}
	ip->sock = s;
	ip->next = s->slots[ip->seq % SLOTS];
	s->slots[ip->seq % SLOTS] = ip;
}

void icmp_sockets_close(struct healthd *hd)
{
	while (hd->icmp_sockets) {
		struct icmp_socket *s = hd->icmp_sockets;
		hd->icmp_sockets = s->next;
		event_free(s->ev);
		close(s->fd);
		free(s);
	}
}
