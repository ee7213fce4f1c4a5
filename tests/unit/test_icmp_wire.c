/* ICMP echo codec: build/parse round trips, raw IPv4 headers, bad input. */
#include <string.h>

#include "icmp_wire.h"
#include "tap.h"

int main(void)
{
	uint8_t buf[64];
	struct icmp_echo e = { .v6 = false, .id = 0x1234, .seq = 7, .token = 0x0102030405060708ULL }, out;
	int n = icmp_echo_build(buf, sizeof buf, &e);
	CHECK(n == 16 && buf[0] == 8, "IPv4 echo request");
	CHECK(icmp_checksum(buf, (size_t)n) == 0, "IPv4 checksum verifies");
	buf[0] = 0; /* turn it into a reply (checksum no longer matters to the parser) */
	CHECK(icmp_echo_parse(buf, (size_t)n, false, false, &out) == 0 && out.id == 0x1234 && out.seq == 7 &&
		      out.token == e.token,
	      "parse the reply");
	uint8_t with_ip[64] = { 0x45 };
	memcpy(with_ip + 20, buf, (size_t)n);
	CHECK(icmp_echo_parse(with_ip, 20 + (size_t)n, false, true, &out) == 0 && out.seq == 7, "with an IP header");
	with_ip[0] = 0x4f; /* IHL 60 > length */
	CHECK(icmp_echo_parse(with_ip, 30, false, true, &out) == -1, "IHL past the end");
	CHECK(icmp_echo_parse(buf, 7, false, false, &out) == -1, "truncated header");
	CHECK(icmp_echo_parse(buf, 12, false, false, &out) == -1, "truncated payload");
	buf[0] = 3;
	CHECK(icmp_echo_parse(buf, (size_t)n, false, false, &out) == 1, "another ICMP type is not a reply");
	e.v6 = true;
	n = icmp_echo_build(buf, sizeof buf, &e);
	CHECK(n == 16 && buf[0] == 128, "ICMPv6 echo request");
	buf[0] = 129;
	CHECK(icmp_echo_parse(buf, (size_t)n, true, false, &out) == 0 && out.v6 && out.token == e.token, "ICMPv6 reply");
	CHECK(icmp_echo_build(buf, 8, &e) == -1, "buffer too small");
	return tap_done();
}
