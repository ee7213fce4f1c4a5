/* Base64 (RFC 4648 section 4: the standard alphabet, '=' padding). WireGuard
 * keys, etcd's JSON gateway and signatures all travel in it. The decoder is
 * strict: no white space, padding required, and the unused bits of the last
 * character must be zero, so every byte string has exactly one accepted text. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, without the NUL. */
#define ARBOR_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the text of data[0..n) and a NUL into out (ARBOR_BASE64_LEN(n) + 1
 * bytes). Returns the text length. */
size_t arbor_base64_encode(const uint8_t *data, size_t n, char *out);
/* Decodes len characters of text into out (at most max bytes). Returns the
 * number of bytes, or -EINVAL for anything that is not canonical base64 (a
 * length that is not a multiple of 4, a character outside the alphabet,
 * misplaced padding, non-zero unused bits), -ENOSPC when out is too small. */
int arbor_base64_decode(const char *text, size_t len, uint8_t *out, size_t max);
