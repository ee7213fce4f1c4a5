/* ICMP and ICMPv6 echo messages: pure functions over buffers (no I/O), so the
 * parser is unit-tested and fuzzed alone. Shared: healthd's icmp checks and
 * dhcp4d's conflict probe (RFC 2131 §2.2) both send and match echoes with it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct icmp_echo {
	bool v6;
	uint16_t id;
	uint16_t seq;
	uint64_t token; /* 8 bytes of payload that identify our probe */
};

/* Writes an echo request (ICMP type 8 or ICMPv6 type 128) with the checksum
 * filled in for IPv4 (the kernel fills ICMPv6's). Returns its length or -1. */
int icmp_echo_build(uint8_t *buf, size_t cap, const struct icmp_echo *e);
/* Parses an echo reply. with_ip_header: IPv4 raw sockets deliver the IP header
 * first. Returns 0 for an echo reply, 1 for another ICMP message, -1 when
 * malformed. */
int icmp_echo_parse(const uint8_t *buf, size_t len, bool v6, bool with_ip_header, struct icmp_echo *out);
uint16_t icmp_checksum(const uint8_t *buf, size_t len);
