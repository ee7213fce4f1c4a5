/* ICMP echo codec (see icmp_wire.h). */
#include "icmp_wire.h"

#include <string.h>

enum { ECHO_REQUEST4 = 8, ECHO_REPLY4 = 0, ECHO_REQUEST6 = 128, ECHO_REPLY6 = 129, HEADER = 8, PAYLOAD = 8 };

uint16_t icmp_checksum(const uint8_t *buf, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int icmp_echo_build(uint8_t *buf, size_t cap, const struct icmp_echo *e)
{
	if (cap < HEADER + PAYLOAD)
		return -1;
	buf[0] = e->v6 ? ECHO_REQUEST6 : ECHO_REQUEST4;
	buf[1] = 0;
	buf[2] = buf[3] = 0;
	buf[4] = (uint8_t)(e->id >> 8);
	buf[5] = (uint8_t)e->id;
	buf[6] = (uint8_t)(e->seq >> 8);
	buf[7] = (uint8_t)e->seq;
	for (int i = 0; i < 8; i++)
		buf[HEADER + i] = (uint8_t)(e->token >> (56 - 8 * i));
	if (!e->v6) {
		uint16_t sum = icmp_checksum(buf, HEADER + PAYLOAD);
		buf[2] = (uint8_t)(sum >> 8);
		buf[3] = (uint8_t)sum;
	}
	return HEADER + PAYLOAD;
}

int icmp_echo_parse(const uint8_t *buf, size_t len, bool v6, bool with_ip_header, struct icmp_echo *out)
{
	if (with_ip_header) {
		if (len < 20 || (buf[0] >> 4) != 4)
			return -1;
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > len)
			return -1;
		buf += ihl;
		len -= ihl;
	}
	if (len < HEADER)
		return -1;
	if (buf[0] != (v6 ? ECHO_REPLY6 : ECHO_REPLY4) || buf[1] != 0)
		return 1;
	if (len < HEADER + PAYLOAD)
		return -1;
	memset(out, 0, sizeof *out);
	out->v6 = v6;
	out->id = (uint16_t)(buf[4] << 8 | buf[5]);
	out->seq = (uint16_t)(buf[6] << 8 | buf[7]);
	for (int i = 0; i < 8; i++)
		out->token = out->token << 8 | buf[HEADER + i];
	return 0;
}
