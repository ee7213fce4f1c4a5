/* DUID and IAID derivation (see identity.h). */
#include "identity.h"

#include <errno.h>
#include <string.h>

#include "blake3.h"
#include "byteorder.h"
#include "machine_id.h"

int dhcp6pd_duid_derive(const char *machine_id, uint8_t out[DHCP6PD_DUID_LEN])
{
	char id[ARBOR_MACHINE_ID_LEN + 1];
	if (arbor_machine_id_normalize(machine_id, id) != 0)
		return -EINVAL;
	out[0] = 0;
	out[1] = 4; /* DUID-UUID */
	arbor_blake3_derive_key(DHCP6PD_DUID_CONTEXT, id, ARBOR_MACHINE_ID_LEN, out + 2, 16);
	out[2 + 6] = (uint8_t)((out[2 + 6] & 0x0f) | 0x40); /* version 4 */
	out[2 + 8] = (uint8_t)((out[2 + 8] & 0x3f) | 0x80); /* RFC 4122 variant */
	return 0;
}

uint32_t dhcp6pd_iaid_derive(const char *ifname)
{
	uint8_t h[4];
	arbor_blake3_derive_key(DHCP6PD_IAID_CONTEXT, ifname, strlen(ifname), h, sizeof h);
	return get_be32(h);
}
