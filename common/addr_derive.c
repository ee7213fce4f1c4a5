/* The IPv6 address derivation (see addr_derive.h and docs/addressing.md).
 * Every hash input is domain-separated with BLAKE3's derive_key mode and a
 * fixed context string, so a machine-id hashed for its prefix and the same
 * machine-id hashed as a host id give unrelated bits. */
#include "hex.h"
#include "addr_derive.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blake3.h"
#include "machine_id.h"

int arbor_addr_machine_prefix(const char *machine_id, struct in6_addr *prefix)
{
	char id[ARBOR_MACHINE_ID_LEN + 1];
	int rc = arbor_machine_id_normalize(machine_id, id);
	if (rc < 0)
		return rc;
	uint8_t global_id[5];
	arbor_blake3_derive_key(ARBOR_ADDR_PREFIX_CONTEXT, id, ARBOR_MACHINE_ID_LEN, global_id, sizeof global_id);
	memset(prefix, 0, sizeof *prefix);
	prefix->s6_addr[0] = 0xfd;
	memcpy(&prefix->s6_addr[1], global_id, sizeof global_id);
	return 0;
}

void arbor_addr_subnet(const struct in6_addr *prefix, uint16_t subnet_id, struct in6_addr *out)
{
	struct in6_addr a = { 0 };
	memcpy(a.s6_addr, prefix->s6_addr, 6);
	a.s6_addr[6] = (uint8_t)(subnet_id >> 8);
	a.s6_addr[7] = (uint8_t)subnet_id;
	*out = a;
}

bool arbor_addr_iid_reserved(const uint8_t iid[8])
{
	static const uint8_t zero[8] = { 0 };
	static const uint8_t ethernet[5] = { 0x02, 0x00, 0x5e, 0xff, 0xfe };
	static const uint8_t anycast[7] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (memcmp(iid, zero, 8) == 0)
		return true;
	if (memcmp(iid, ethernet, sizeof ethernet) == 0) /* 0200:5eff:fe00:0000 - 0200:5eff:feff:ffff */
		return true;
	return memcmp(iid, anycast, sizeof anycast) == 0 && iid[7] >= 0x80; /* fdff:ffff:ffff:ff80 - ffff */
}

int arbor_addr_iid_pick(const uint8_t *stream, size_t len, uint8_t iid[8])
{
	for (size_t off = 0; off + 8 <= len; off += 8) {
		if (!arbor_addr_iid_reserved(stream + off)) {
			memcpy(iid, stream + off, 8);
			return 0;
		}
	}
	return -EOVERFLOW;
}

int arbor_addr_interface_id(const char *host_id, uint8_t iid[8])
{
	if (host_id == NULL || host_id[0] == '\0')
		return -EINVAL;
	uint8_t stream[8 * ARBOR_ADDR_IID_TRIES];
	arbor_blake3_derive_key(ARBOR_ADDR_IID_CONTEXT, host_id, strlen(host_id), stream, sizeof stream);
	return arbor_addr_iid_pick(stream, sizeof stream, iid);
}

int arbor_addr_derive(const char *machine_id, uint16_t subnet_id, const char *host_id, struct in6_addr *out)
{
	struct in6_addr prefix;
	uint8_t iid[8];
	int rc = arbor_addr_machine_prefix(machine_id, &prefix);
	if (rc == 0)
		rc = arbor_addr_interface_id(host_id, iid);
	if (rc < 0)
		return rc;
	arbor_addr_subnet(&prefix, subnet_id, out);
	memcpy(&out->s6_addr[8], iid, sizeof iid);
	return 0;
}

/* RFC 5952 text, exactly as glibc's inet_ntop writes it (the longest run of two
 * or more zero groups as "::", the first of equal runs; ::a.b.c.d and
 * ::ffff:a.b.c.d in dotted form), without its sprintf per group: servers format
 * an address for every record and event they write. */
static size_t format6(const struct in6_addr *a, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint16_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (uint16_t)(a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1]);
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (w[i]) {
			i++;
			continue;
		}
		int k = i;
		while (k < 8 && w[k] == 0)
			k++;
		if (k - i > best_len) {
			best = i;
			best_len = k - i;
		}
		i = k;
	}
	if (best_len < 2)
		best = -1;
	size_t o = 0;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				out[o++] = ':';
			continue;
		}
		if (i)
			out[o++] = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			for (int b = 12; b < 16; b++) { /* the embedded IPv4 address */
				unsigned v = a->s6_addr[b];
				if (v >= 100)
					out[o++] = (char)('0' + v / 100);
				if (v >= 10)
					out[o++] = (char)('0' + v / 10 % 10);
				out[o++] = (char)('0' + v % 10);
				if (b < 15)
					out[o++] = '.';
			}
			return o;
		}
		bool started = false;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned nib = (w[i] >> shift) & 15;
			if (nib || started || shift == 0) {
				out[o++] = hex[nib];
				started = true;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		out[o++] = ':';
	return o;
}

int arbor_addr_format(const struct in6_addr *a, int prefix_len, char *out, size_t len)
{
	char text[INET6_ADDRSTRLEN + 4];
	if (prefix_len > 128)
		return -EINVAL;
	size_t n = format6(a, text);
	if (prefix_len >= 0) {
		text[n++] = '/';
		if (prefix_len >= 100)
			text[n++] = (char)('0' + prefix_len / 100);
		if (prefix_len >= 10)
			text[n++] = (char)('0' + prefix_len / 10 % 10);
		text[n++] = (char)('0' + prefix_len % 10);
	}
	if (n >= len)
		return -ENOSPC;
	memcpy(out, text, n);
	out[n] = '\0';
	return 0;
}

void arbor_addr_format_iid(const uint8_t iid[8], char out[20])
{
	snprintf(out, 20, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", iid[0], iid[1], iid[2], iid[3], iid[4], iid[5],
		 iid[6], iid[7]);
}
