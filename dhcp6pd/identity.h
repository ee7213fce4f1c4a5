/* The client's DHCPv6 identity, stable across restarts without any state (RFC
 * 9096 WPD-10): the DUID is derived from the machine id, the IAID from the
 * interface name, both with BLAKE3 derive_key under their own contexts, so
 * neither reveals the machine id and both are the same after a reinstall that
 * keeps /etc/machine-id. */
#pragma once
#include <stdint.h>

#define DHCP6PD_DUID_CONTEXT "arbor 2026 dhcp6 duid v1"
#define DHCP6PD_IAID_CONTEXT "arbor 2026 dhcp6 iaid v1"
#define DHCP6PD_DUID_LEN 18 /* DUID-UUID: type 4 and 16 bytes */

/* DUID-UUID (RFC 6355) whose 16 bytes are the first 16 of the hash of the
 * machine id (32 hex characters), as an RFC 4122 version 4 UUID. -EINVAL for a
 * bad machine id. */
int dhcp6pd_duid_derive(const char *machine_id, uint8_t out[DHCP6PD_DUID_LEN]);
/* The first 4 bytes (big-endian) of the hash of the interface name. */
uint32_t dhcp6pd_iaid_derive(const char *ifname);
