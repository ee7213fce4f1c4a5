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

int arbor_addr_format(const struct in6_addr *a, int prefix_len, char *out, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	if (prefix_len > 128)
		return -EINVAL;
	if (inet_ntop(AF_INET6, a, text, sizeof text) == NULL)
		return -errno;
	int n = prefix_len >= 0 ? snprintf(out, len, "%s/%d", text, prefix_len) : snprintf(out, len, "%s", text);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

void arbor_addr_format_iid(const uint8_t iid[8], char out[20])
{
	snprintf(out, 20, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", iid[0], iid[1], iid[2], iid[3], iid[4], iid[5],
		 iid[6], iid[7]);
}
