/* Deterministic IPv6 addresses (architecture.md, "The naming and addressing
 * model"; the derivation and its test vectors are in docs/addressing.md).
 *
 *   | 8 bits | 40 bits          | 16 bits   | 64 bits                 |
 *   | 0xfd   | machine global id| subnet id | interface id            |
 *
 * machine global id: BLAKE3 derive_key("arbor 2026 machine prefix v1",
 *                    machine-id as 32 lower-case hex ASCII chars), bytes 0..4
 * subnet id:         per interface, big-endian (kept by subnet_ids.h)
 * interface id:      BLAKE3 derive_key("arbor 2026 interface id v1", host-id),
 *                    the first 8-byte window of the output that is not a
 *                    reserved interface id (RFC 5453 / IANA registry)
 *
 * Pure functions: no I/O, no state. They return 0 or a negative errno. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine_id.h"

#define ARBOR_ADDR_PREFIX_CONTEXT "arbor 2026 machine prefix v1"
#define ARBOR_ADDR_IID_CONTEXT "arbor 2026 interface id v1"
/* Subnet id 0 is the machine's own /64 (its loopback-ish services, the
 * addresses it has on no particular interface); interfaces get 1..65535. */
#define ARBOR_SUBNET_ID_MACHINE 0
/* How many 8-byte windows of output are tried before giving up (-EOVERFLOW);
 * each is reserved with probability about 2^-40, so this never happens. */
#define ARBOR_ADDR_IID_TRIES 32
/* "fdxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx/128" and a NUL. */
#define ARBOR_ADDR_STRLEN 48

/* The machine's /48: fd, 40 derived bits, the other 80 bits zero. */
int arbor_addr_machine_prefix(const char *machine_id, struct in6_addr *prefix);
/* prefix's first 48 bits, subnet_id in bits 48..63 (network byte order), the
 * interface id zero: the interface's /64. */
void arbor_addr_subnet(const struct in6_addr *prefix, uint16_t subnet_id, struct in6_addr *out);
/* The 64-bit interface id of host_id (a non-empty string: a machine-id, a
 * container name...). -EINVAL for NULL or "". */
int arbor_addr_interface_id(const char *host_id, uint8_t iid[8]);
/* True when iid is reserved: all zero (subnet-router anycast, RFC 4291),
 * 0200:5eff:fe00:0000-0200:5eff:feff:ffff (IANA Ethernet block, RFC 4291 and
 * RFC 6543), fdff:ffff:ffff:ff80-fdff:ffff:ffff:ffff (subnet anycast, RFC 2526). */
bool arbor_addr_iid_reserved(const uint8_t iid[8]);
/* The first 8-byte window stream[8k..8k+7] that is not reserved; -EOVERFLOW
 * when there is none in len bytes. (The rule arbor_addr_interface_id applies
 * to the BLAKE3 output; separate so it can be tested.) */
int arbor_addr_iid_pick(const uint8_t *stream, size_t len, uint8_t iid[8]);

/* The full address: prefix(machine_id) + subnet_id + interface id(host_id). */
int arbor_addr_derive(const char *machine_id, uint16_t subnet_id, const char *host_id, struct in6_addr *out);

/* RFC 5952 text ("fd12:3456:789a:1::" style); with prefix_len >= 0 "/N" is
 * appended. -ENOSPC when len is too small (ARBOR_ADDR_STRLEN always fits),
 * -EINVAL for prefix_len > 128. */
int arbor_addr_format(const struct in6_addr *a, int prefix_len, char *out, size_t len);
/* An interface id as four full groups: "1a2b:03c4:5d6e:7f80". out: 20 bytes. */
void arbor_addr_format_iid(const uint8_t iid[8], char out[20]);
