/* udp_echo: the ceiling for tests/bench/bench_dnsd.py.
 *
 * A trivial UDP server that sends every datagram straight back with the DNS
 * QR bit set (so dnsperf counts it as an answer, rcode NOERROR) and does
 * nothing else: no parsing, no lookup, one socket, batches of up to 64
 * datagrams per recvmmsg/sendmmsg. Whatever a DNS server does on top of this
 * costs it; its rate under the same CPU cap is the most any server on this
 * kernel could answer, so the benchmark reports each server as a share of it.
 *
 * usage: udp_echo PORT [ADDRESS]        (ADDRESS: IPv4, default 127.0.0.1)
 * Runs until killed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 4096

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [ADDRESS]\n", argv[0]);
		return 2;
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(argv[1], &end, 10);
	if (errno || *end || port == 0 || port > 65535) {
		fprintf(stderr, "udp_echo: bad port %s\n", argv[1]);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, argc == 3 ? argv[2] : "127.0.0.1", &sa.sin_addr) != 1) {
		fprintf(stderr, "udp_echo: bad address %s\n", argv[2]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("udp_echo: socket/bind");
		return 1;
	}

	static unsigned char buf[BATCH][DGRAM_MAX];
	static struct sockaddr_in from[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msgs[BATCH];

	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = DGRAM_MAX;
			memset(&msgs[i], 0, sizeof msgs[i]);
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof from[i];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_echo: recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			unsigned len = msgs[i].msg_len;
			if (len > 2)
				buf[i][2] |= 0x80; /* QR: this is a response */
			iov[i].iov_len = len;
		}
		int sent = 0;
		while (sent < n) {
			int r = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* e.g. ENOBUFS or an ICMP error from a gone client: drop this one */
				sent++;
				continue;
			}
			sent += r;
		}
	}
}
