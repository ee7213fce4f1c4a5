/* Address text and TCP listeners (see inet_socket.h). */
#include "inet_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78 /* linux/in6.h */
#endif

int arbor_sockaddr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *port_text = NULL;
	memset(ss, 0, sizeof *ss);
	if (text == NULL)
		return -EINVAL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (size_t)(close - text - 1) >= sizeof host)
			return -EINVAL;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strrchr(text, ':');
		/* More than one colon and no brackets: a bare IPv6 address. */
		if (colon && strchr(text, ':') != colon)
			colon = NULL;
		size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
		if (hlen >= sizeof host)
			return -EINVAL;
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		port_text = colon ? colon + 1 : NULL;
	}
	unsigned long port = default_port;
	if (port_text) {
		char *end = NULL;
		if (port_text[0] < '0' || port_text[0] > '9')
			return -EINVAL;
		port = strtoul(port_text, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535)
			return -EINVAL;
	}
	if (port == 0)
		return -EINVAL;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof *v4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof *v6;
		return 0;
	}
	return -EINVAL;
}

const char *arbor_sockaddr_format(const struct sockaddr *sa, char *buf, size_t buflen)
{
	char ip[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
		snprintf(buf, buflen, "%s:%u", ip, ntohs(v4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
		snprintf(buf, buflen, "[%s]:%u", ip, ntohs(v6->sin6_port));
	} else {
		snprintf(buf, buflen, "?");
	}
	return buf;
}

bool arbor_sockaddr_is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

int arbor_tcp_listen(const struct sockaddr *sa, socklen_t len, int backlog, char *err, size_t errlen)
{
	char text[64];
	arbor_sockaddr_format(sa, text, sizeof text);
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	/* Free bind: a daemon started before the network (Before=network.target)
	 * listens on its address before the address is configured. */
	if (fd >= 0)
		(void)setsockopt(fd, sa->sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
				 sa->sa_family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof one);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 || bind(fd, sa, len) != 0 ||
	    listen(fd, backlog) != 0) {
		int e = errno;
		snprintf(err, errlen, "listen on %s: %s", text, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}
