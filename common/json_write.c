/* Direct JSON writing (see json_write.h). */
#include "json_write.h"

static const char hex_digits[] = "0123456789abcdef";

void arbor_json_write_hex(struct arbor_buf *out, const uint8_t *b, size_t len)
{
	char text[3 * 256];
	size_t o = 0;
	for (size_t i = 0; i < len && i < 256; i++) {
		if (i)
			text[o++] = ':';
		text[o++] = hex_digits[b[i] >> 4];
		text[o++] = hex_digits[b[i] & 15];
	}
	arbor_buf_append(out, "\"", 1);
	arbor_buf_append(out, text, o);
	arbor_buf_append(out, "\"", 1);
}

void arbor_json_write_uint(struct arbor_buf *out, unsigned long long v)
{
	char text[24];
	size_t i = sizeof text;
	do {
		text[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	arbor_buf_append(out, text + i, sizeof text - i);
}

void arbor_json_write_time(struct arbor_buf *out, double t)
{
	if (!(t >= 0 && t < 9e12)) {
		arbor_buf_puts(out, "0");
		return;
	}
	unsigned long long ms = (unsigned long long)(t * 1000 + 0.5);
	arbor_json_write_uint(out, ms / 1000);
	char frac[4] = { '.', (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10) };
	arbor_buf_append(out, frac, 4);
}
