/* The device model's small helpers: growing arrays, prefixes, endpoints. */
#include "wg_device.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct wg_peer *wg_device_add_peer(struct wg_device *dev)
{
	if (dev->npeers == dev->peers_cap) {
		dev->peers_cap = dev->peers_cap ? dev->peers_cap * 2 : 8;
		dev->peers = xreallocarray(dev->peers, dev->peers_cap, sizeof *dev->peers);
	}
	struct wg_peer *p = &dev->peers[dev->npeers++];
	memset(p, 0, sizeof *p);
	return p;
}

struct wg_allowed_ip *wg_peer_add_allowed_ip(struct wg_peer *peer)
{
	if (peer->nallowed_ips == peer->allowed_cap) {
		peer->allowed_cap = peer->allowed_cap ? peer->allowed_cap * 2 : 4;
		peer->allowed_ips = xreallocarray(peer->allowed_ips, peer->allowed_cap, sizeof *peer->allowed_ips);
	}
	struct wg_allowed_ip *ip = &peer->allowed_ips[peer->nallowed_ips++];
	memset(ip, 0, sizeof *ip);
	return ip;
}

struct wg_peer *wg_device_find_peer(const struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < dev->npeers; i++)
		if (memcmp(dev->peers[i].public_key, key, WG_KEY_LEN) == 0)
			return &dev->peers[i];
	return NULL;
}

void wg_device_free(struct wg_device *dev)
{
	for (size_t i = 0; i < dev->npeers; i++)
		free(dev->peers[i].allowed_ips);
	free(dev->peers);
	dev->peers = NULL;
	dev->npeers = dev->peers_cap = 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int wg_allowed_ip_parse(struct wg_allowed_ip *ip, const char *text, bool allow_host_bits)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, buf, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = ip->family == AF_INET ? 32 : 128;
	unsigned cidr = max;
	if (slash) {
		const char *p = slash + 1;
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0') || strlen(p) > 3)
			return -EINVAL;
		cidr = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			cidr = cidr * 10 + (unsigned)(*p - '0');
		}
		if (cidr > max)
			return -EINVAL;
	}
	ip->cidr = (uint8_t)cidr;
	if (!allow_host_bits)
		for (unsigned bit = cidr; bit < max; bit++)
			if (ip->addr[bit / 8] & (0x80 >> (bit % 8)))
				return -EINVAL;
	return 0;
}

const char *wg_allowed_ip_format(const struct wg_allowed_ip *ip, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (inet_ntop(ip->family, ip->addr, a, sizeof a) == NULL)
		snprintf(a, sizeof a, "?");
	snprintf(buf, len, "%s/%u", a, ip->cidr);
	return buf;
}

bool wg_allowed_ip_equal(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b)
{
	return a->family == b->family && a->cidr == b->cidr && memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

bool wg_allowed_ip_overlap(const struct wg_allowed_ip *a, const struct wg_allowed_ip *b)
{
	if (a->family != b->family)
		return false;
	unsigned n = a->cidr < b->cidr ? a->cidr : b->cidr;
	for (unsigned bit = 0; bit < n; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));
		if ((a->addr[bit / 8] & m) != (b->addr[bit / 8] & m))
			return false;
	}
	return true;
}

int wg_allowed_ip_cmp(const void *pa, const void *pb)
{
	const struct wg_allowed_ip *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->addr, b->addr, addr_len(a->family));
	if (c != 0)
		return c;
	return (int)a->cidr - (int)b->cidr;
}

int wg_endpoint_parse(struct wg_peer *peer, const char *text)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	memset(&peer->endpoint, 0, sizeof peer->endpoint);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
			return -EINVAL;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon == NULL || (size_t)(colon - text) >= sizeof host || strchr(text, ':') != colon)
			return -EINVAL;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
		port = colon + 1;
	}
	unsigned long p = 0;
	if (*port == '\0' || strlen(port) > 5)
		return -EINVAL;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		p = p * 10 + (unsigned long)(*c - '0');
	}
	if (p == 0 || p > 65535)
		return -EINVAL;
	if (text[0] != '[' && inet_pton(AF_INET, host, &peer->endpoint.in4.sin_addr) == 1) {
		peer->endpoint.in4.sin_family = AF_INET;
		peer->endpoint.in4.sin_port = htons((uint16_t)p);
		return 0;
	}
	if (text[0] == '[' && inet_pton(AF_INET6, host, &peer->endpoint.in6.sin6_addr) == 1) {
		peer->endpoint.in6.sin6_family = AF_INET6;
		peer->endpoint.in6.sin6_port = htons((uint16_t)p);
		return 0;
	}
	memset(&peer->endpoint, 0, sizeof peer->endpoint);
	return -EINVAL;
}

const char *wg_endpoint_format(const struct wg_peer *peer, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";
	if (peer->endpoint.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &peer->endpoint.in4.sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(peer->endpoint.in4.sin_port));
	} else if (peer->endpoint.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &peer->endpoint.in6.sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(peer->endpoint.in6.sin6_port));
	} else if (len) {
		buf[0] = '\0';
	}
	return buf;
}
