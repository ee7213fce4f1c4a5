/* One hex digit's value: percent-decoding, chunked HTTP, machine ids and DNS
 * rdata all read hex, and they read it the same way. */
#pragma once

/* 0..15, or -1 for a character that is not a hex digit. */
static inline int arbor_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
