/* The IPv6 derivation against the vectors published in docs/addressing.md.
 * Every expected value was computed with b3sum on the command line, e.g.
 *   printf %s 0123456789abcdef0123456789abcdef |
 *     b3sum --derive-key "arbor 2026 machine prefix v1" --length 5 --no-names
 * never with our own code. Then the edges: machine-id validation, the
 * reserved interface-id rule, formatting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "addr_derive.h"
#include "tap.h"

static bool prefix_is(const char *machine_id, const char *expect)
{
	struct in6_addr p;
	char text[ARBOR_ADDR_STRLEN];
	return arbor_addr_machine_prefix(machine_id, &p) == 0 && arbor_addr_format(&p, 48, text, sizeof text) == 0 &&
	       strcmp(text, expect) == 0;
}

static bool subnet_is(const char *machine_id, uint16_t id, const char *expect)
{
	struct in6_addr p, s;
	char text[ARBOR_ADDR_STRLEN];
	if (arbor_addr_machine_prefix(machine_id, &p) != 0)
		return false;
	arbor_addr_subnet(&p, id, &s);
	return arbor_addr_format(&s, 64, text, sizeof text) == 0 && strcmp(text, expect) == 0;
}

static bool iid_is(const char *host_id, const char *expect)
{
	uint8_t iid[8];
	char text[20];
	if (arbor_addr_interface_id(host_id, iid) != 0)
		return false;
	arbor_addr_format_iid(iid, text);
	return strcmp(text, expect) == 0;
}

static bool address_is(const char *machine_id, uint16_t id, const char *host_id, const char *expect)
{
	struct in6_addr a;
	char text[ARBOR_ADDR_STRLEN];
	return arbor_addr_derive(machine_id, id, host_id, &a) == 0 && arbor_addr_format(&a, -1, text, sizeof text) == 0 &&
	       strcmp(text, expect) == 0;
}

#define M1 "0123456789abcdef0123456789abcdef"
#define M2 "00000000000000000000000000000001"
#define M3 "ffffffffffffffffffffffffffffffff"
#define M4 "5b3f0a4e9c8d7e6f1a2b3c4d5e6f7a8b"

/* arbor_addr_format writes what inet_ntop writes (RFC 5952), for addresses built
 * to hit every case: zero runs of each length and place, ties, IPv4-mapped and
 * IPv4-compatible forms, and random ones. */
static bool format_matches_inet_ntop(void)
{
	uint32_t x = 12345;
	for (int round = 0; round < 200000; round++) {
		struct in6_addr a;
		for (int i = 0; i < 8; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			uint16_t w = (round & 1) ? (uint16_t)x : ((x >> 3) % 3 == 0 ? 0 : (x & 7) == 1 ? 0xffff : (uint16_t)(x >> 9));
			a.s6_addr[2 * i] = (uint8_t)(w >> 8);
			a.s6_addr[2 * i + 1] = (uint8_t)w;
		}
		if (round % 97 == 0)
			memset(&a, 0, 10), a.s6_addr[10] = a.s6_addr[11] = 0xff;
		if (round % 101 == 0)
			memset(&a, 0, 12);
		char mine[64], libc[64];
		int len = round % 130 - 1;
		if (arbor_addr_format(&a, len, mine, sizeof mine) != 0 || inet_ntop(AF_INET6, &a, libc, sizeof libc) == NULL)
			return false;
		if (len >= 0)
			snprintf(libc + strlen(libc), sizeof libc - strlen(libc), "/%d", len);
		if (strcmp(mine, libc) != 0) {
			printf("# %s != %s\n", mine, libc);
			return false;
		}
	}
	return true;
}

int main(void)
{
	CHECK(format_matches_inet_ntop(), "arbor_addr_format writes what inet_ntop writes, for 200000 addresses");
	/* machine-id -> /48 */
	CHECK(prefix_is(M1, "fd5a:965f:8fee::/48"), "prefix of " M1);
	CHECK(prefix_is(M2, "fd12:6415:2275::/48"), "prefix of " M2);
	CHECK(prefix_is(M3, "fdaf:805f:99aa::/48"), "prefix of " M3);
	CHECK(prefix_is(M4, "fd8a:9afd:6920::/48"), "prefix of " M4);
	/* subnet id -> /64 */
	CHECK(subnet_is(M1, 0, "fd5a:965f:8fee::/64"), "subnet 0");
	CHECK(subnet_is(M1, 1, "fd5a:965f:8fee:1::/64"), "subnet 1");
	CHECK(subnet_is(M1, 0x1234, "fd5a:965f:8fee:1234::/64"), "subnet 4660 is 0x1234, big-endian");
	CHECK(subnet_is(M1, 65535, "fd5a:965f:8fee:ffff::/64"), "subnet 65535");
	/* host-id -> interface id */
	CHECK(iid_is(M1, "ec05:56f3:2d08:73cb"), "interface id of a machine-id");
	CHECK(iid_is("web1", "d0f0:8bd4:f607:4dd7"), "interface id of web1");
	CHECK(iid_is("container-42", "2c20:6ca3:e028:3d07"), "interface id of container-42");
	CHECK(iid_is("a", "14de:dcb9:c99e:5ccf"), "interface id of a");
	CHECK(iid_is("caf\xc3\xa9", "d782:b0bc:9cdb:2f81"), "interface id of café (UTF-8 bytes)");
	/* full addresses */
	CHECK(address_is(M1, 0, M1, "fd5a:965f:8fee:0:ec05:56f3:2d08:73cb"), "the machine's own address");
	CHECK(address_is(M1, 1, "web1", "fd5a:965f:8fee:1:d0f0:8bd4:f607:4dd7"), "web1 on subnet 1");
	CHECK(address_is(M1, 0x1234, "container-42", "fd5a:965f:8fee:1234:2c20:6ca3:e028:3d07"),
	      "container-42 on subnet 4660");
	CHECK(address_is(M4, 65535, "a", "fd8a:9afd:6920:ffff:14de:dcb9:c99e:5ccf"), "a on subnet 65535");
	CHECK(address_is(M2, 2, "caf\xc3\xa9", "fd12:6415:2275:2:d782:b0bc:9cdb:2f81"), "café on subnet 2");

	/* The machine-id is taken as /etc/machine-id holds it. */
	char id[ARBOR_MACHINE_ID_LEN + 1];
	CHECK(arbor_machine_id_normalize(" 0123456789ABCDEF0123456789abcdef\n", id) == 0 && strcmp(id, M1) == 0,
	      "machine-id: trimmed and lower-cased");
	CHECK(prefix_is("0123456789ABCDEF0123456789ABCDEF\n", "fd5a:965f:8fee::/48"), "upper case gives the same prefix");
	struct in6_addr a;
	CHECK(arbor_addr_machine_prefix("0123456789abcdef0123456789abcde", &a) == -EINVAL, "31 digits: -EINVAL");
	CHECK(arbor_addr_machine_prefix(M1 "0", &a) == -EINVAL, "33 digits: -EINVAL");
	CHECK(arbor_addr_machine_prefix("0123456789abcdef 0123456789abcde", &a) == -EINVAL, "inner space: -EINVAL");
	CHECK(arbor_addr_machine_prefix("0123456789abcdeg0123456789abcdef", &a) == -EINVAL, "not hex: -EINVAL");
	CHECK(arbor_addr_machine_prefix("01234567-89ab-cdef-0123-456789abcdef", &a) == -EINVAL, "UUID form: -EINVAL");
	CHECK(arbor_addr_machine_prefix("00000000000000000000000000000000", &a) == -EINVAL, "the null id: -EINVAL");
	CHECK(arbor_addr_machine_prefix("uninitialized\n", &a) == -EINVAL, "systemd's first-boot marker: -EINVAL");
	CHECK(arbor_addr_machine_prefix("", &a) == -EINVAL && arbor_addr_machine_prefix(NULL, &a) == -EINVAL,
	      "empty and NULL: -EINVAL");
	CHECK(arbor_addr_derive("nope", 1, "web1", &a) == -EINVAL, "derive: bad machine-id");
	CHECK(arbor_addr_derive(M1, 1, "", &a) == -EINVAL && arbor_addr_derive(M1, 1, NULL, &a) == -EINVAL,
	      "derive: empty host-id");

	/* Different contexts: the machine-id as a host id is not its prefix bits. */
	uint8_t iid[8];
	CHECK(arbor_addr_interface_id(M1, iid) == 0 && memcmp(iid, "\x5a\x96\x5f\x8f\xee", 5) != 0,
	      "prefix and interface id are domain-separated");

	/* The reserved interface ids (RFC 5453 registry). */
	static const uint8_t reserved[][8] = {
		{ 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x00 },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13 },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfe, 0xff, 0xff, 0xff },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80 },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	static const uint8_t usable[][8] = {
		{ 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0x02, 0x00, 0x5e, 0xff, 0xfd, 0xff, 0xff, 0xff },
		{ 0x02, 0x00, 0x5e, 0xff, 0xff, 0x00, 0x00, 0x00 },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
		{ 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	bool all = true;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		all &= arbor_addr_iid_reserved(reserved[i]);
	CHECK(all, "0, 0200:5eff:fe00:0-0200:5eff:feff:ffff, fdff:ffff:ffff:ff80-ffff are reserved");
	all = true;
	for (size_t i = 0; i < sizeof usable / sizeof usable[0]; i++)
		all &= !arbor_addr_iid_reserved(usable[i]);
	CHECK(all, "their neighbours are not");

	/* The rule: the first 8-byte window of the output that is not reserved. */
	uint8_t stream[32] = { 0 };
	memcpy(stream + 8, reserved[4], 8);
	memcpy(stream + 16, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	memcpy(stream + 24, "\x99\x99\x99\x99\x99\x99\x99\x99", 8);
	CHECK(arbor_addr_iid_pick(stream, sizeof stream, iid) == 0 && memcmp(iid, stream + 16, 8) == 0,
	      "reserved windows are skipped, the next one is taken");
	CHECK(arbor_addr_iid_pick(stream + 16, 16, iid) == 0 && memcmp(iid, stream + 16, 8) == 0,
	      "the first window when it is usable");
	CHECK(arbor_addr_iid_pick(stream, 16, iid) == -EOVERFLOW, "no usable window: -EOVERFLOW");
	CHECK(arbor_addr_iid_pick(stream + 16, 7, iid) == -EOVERFLOW, "a partial window is not used");

	/* Formatting (RFC 5952). */
	char text[ARBOR_ADDR_STRLEN];
	struct in6_addr full;
	memset(&full, 0xff, sizeof full);
	CHECK(arbor_addr_format(&full, 128, text, sizeof text) == 0 &&
		      strcmp(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128") == 0,
	      "the longest text fits ARBOR_ADDR_STRLEN");
	CHECK(arbor_addr_format(&full, 128, text, 10) == -ENOSPC, "too small a buffer: -ENOSPC");
	CHECK(arbor_addr_format(&full, 129, text, sizeof text) == -EINVAL, "prefix length 129: -EINVAL");
	inet_pton(AF_INET6, "fd00:0:0:1:0:0:0:1", &a);
	CHECK(arbor_addr_format(&a, -1, text, sizeof text) == 0 && strcmp(text, "fd00:0:0:1::1") == 0,
	      "the longest run of zero groups is compressed");
	return tap_done();
}
