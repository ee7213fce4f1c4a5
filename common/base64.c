/* Base64 (see base64.h). */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t arbor_base64_encode(const uint8_t *data, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int arbor_base64_decode(const char *text, size_t len, uint8_t *out, size_t max)
{
	if (len % 4 != 0)
		return -EINVAL;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		size_t pad = 0;
		if (last) {
			pad = text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
		}
		int v[4];
		for (size_t k = 0; k < 4 - pad; k++)
			if ((v[k] = value_of(text[i + k])) < 0)
				return -EINVAL;
		for (size_t k = 4 - pad; k < 4; k++)
			v[k] = 0;
		uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* The bits a short group does not use must be zero (canonical text). */
		if ((pad == 1 && (bits & 0xff)) || (pad == 2 && (bits & 0xffff)))
			return -EINVAL;
		size_t take = 3 - pad;
		if (o + take > max)
			return -ENOSPC;
		out[o++] = (uint8_t)(bits >> 16);
		if (take > 1)
			out[o++] = (uint8_t)(bits >> 8);
		if (take > 2)
			out[o++] = (uint8_t)bits;
	}
	return (int)o;
}
