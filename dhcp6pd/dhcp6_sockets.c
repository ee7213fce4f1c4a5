/* Port 547 sockets (see dhcp6_sockets.h). */
#include "dhcp6_sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgram_batch.h"
#include "log.h"
#include "xalloc.h"

/* Packets are read in batches (common/dgram_batch.h) and answers sent in runs of
 * BATCH. The receive queue holds a burst, not seconds of overload (as in dhcp4d:
 * answers from a deep queue all come too late). */
enum { BATCH = ARBOR_DGRAM_BATCH, RCVBUF_BYTES = 256 << 10 };

struct d6sock {
	struct d6socks *owner;
	char ifname[IF_NAMESIZE];
	int ifindex;
	int fd;
	struct event *ev;
};

struct d6socks {
	struct d6sock *v;
	size_t n;
	d6socks_packet_fn *packet;
	d6socks_batch_fn *batch_done;
	void *ctx;
	uint64_t received, truncated, send_errors;
};

static void on_datagram(void *arg, const uint8_t *pkt, size_t len, bool truncated, const struct sockaddr_storage *from)
{
	struct d6sock *sk = arg;
	struct d6socks *s = sk->owner;
	s->received++;
	if (truncated)
		s->truncated++;
	else
		s->packet(s->ctx, sk->ifindex, sk->ifname, (const struct sockaddr_in6 *)from, pkt, len);
}

static void on_batch(void *arg)
{
	struct d6sock *sk = arg;
	if (sk->owner->batch_done)
		sk->owner->batch_done(sk->owner->ctx);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	arbor_dgram_read(fd, DHCP6_MAX_PACKET / 4, on_datagram, on_batch, arg);
}

static int open_one(struct d6sock *sk, char *err, size_t errlen)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(DHCP6_SERVER_PORT) };
	struct ipv6_mreq mreq = { .ipv6mr_interface = (unsigned)sk->ifindex };
	inet_pton(AF_INET6, "ff02::1:2", &mreq.ipv6mr_multiaddr);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sk->ifname, (socklen_t)strlen(sk->ifname)) != 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
		snprintf(err, errlen, "%s: DHCPv6 server socket: %s", sk->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	arbor_socket_set_rcvbuf(fd, RCVBUF_BYTES);
	sk->fd = fd;
	return 0;
}

struct d6socks *d6socks_open(struct event_base *base, const char *const *ifnames, size_t n, d6socks_packet_fn *packet,
			     d6socks_batch_fn *batch_done, void *ctx, char *err, size_t errlen)
{
	struct d6socks *s = xcalloc(1, sizeof *s);
	s->v = xcalloc(n + 1, sizeof *s->v);
	s->packet = packet;
	s->batch_done = batch_done;
	s->ctx = ctx;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < s->n; k++)
			dup |= strcmp(s->v[k].ifname, ifnames[i]) == 0;
		if (dup)
			continue;
		struct d6sock *sk = &s->v[s->n];
		sk->owner = s;
		sk->fd = -1;
		snprintf(sk->ifname, sizeof sk->ifname, "%s", ifnames[i]);
		sk->ifindex = (int)if_nametoindex(sk->ifname);
		if (sk->ifindex <= 0) {
			snprintf(err, errlen, "%s: no such interface", sk->ifname);
			d6socks_close(s);
			return NULL;
		}
		if (open_one(sk, err, errlen) < 0) {
			d6socks_close(s);
			return NULL;
		}
		sk->ev = event_new(base, sk->fd, EV_READ | EV_PERSIST, on_readable, sk);
		event_add(sk->ev, NULL);
		s->n++;
	}
	return s;
}

void d6socks_close(struct d6socks *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].ev)
			event_free(s->v[i].ev);
		if (s->v[i].fd >= 0)
			close(s->v[i].fd);
	}
	free(s->v);
	free(s);
}

static struct d6sock *by_ifindex(struct d6socks *s, int ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ifindex == ifindex)
			return &s->v[i];
	return NULL;
}

size_t d6socks_send(struct d6socks *s, const struct d6socks_out *const *out, size_t n)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t failed = 0, i = 0;
	while (i < n) {
		struct d6sock *sk = NULL;
		unsigned k = 0;
		for (; i < n && k < BATCH; i++) {
			const struct d6socks_out *o = out[i];
			if (o->len == 0)
				continue;
			if (sk && o->ifindex != sk->ifindex)
				break;
			if (sk == NULL && (sk = by_ifindex(s, o->ifindex)) == NULL) {
				failed++;
				continue;
			}
			iov[k].iov_base = (void *)o->pkt;
			iov[k].iov_len = o->len;
			memset(&msgs[k], 0, sizeof msgs[k]);
			msgs[k].msg_hdr.msg_name = (void *)&o->to;
			msgs[k].msg_hdr.msg_namelen = sizeof o->to;
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		unsigned done = 0;
		while (sk && done < k) {
			int rc = sendmmsg(sk->fd, msgs + done, k - done, 0);
			if (rc <= 0) {
				/* One bad destination must not hold back the rest. */
				failed++;
				s->send_errors++;
				log_debug("%s: send: %s", sk->ifname, strerror(errno));
				done++;
				continue;
			}
			done += (unsigned)rc;
		}
	}
	return failed;
}

uint64_t d6socks_received(const struct d6socks *s)
{
	return s ? s->received : 0;
}

uint64_t d6socks_truncated(const struct d6socks *s)
{
	return s ? s->truncated : 0;
}
