/* The machine id (see machine_id.h). */
#include "machine_id.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int arbor_machine_id_normalize(const char *text, char out[ARBOR_MACHINE_ID_LEN + 1])
{
	if (text == NULL)
		return -EINVAL;
	while (is_space(*text))
		text++;
	size_t len = strlen(text);
	while (len > 0 && is_space(text[len - 1]))
		len--;
	if (len != ARBOR_MACHINE_ID_LEN)
		return -EINVAL;
	bool all_zero = true;
	for (size_t i = 0; i < len; i++) {
		int v = arbor_hex_digit(text[i]);
		if (v < 0)
			return -EINVAL;
		all_zero &= v == 0;
		out[i] = "0123456789abcdef"[v];
	}
	out[len] = '\0';
	return all_zero ? -EINVAL : 0;
}

int arbor_machine_id_read_file(const char *path, char out[ARBOR_MACHINE_ID_LEN + 1], char *err, size_t errlen)
{
	char text[128];
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	if (arbor_machine_id_normalize(text, out) != 0) {
		snprintf(err, errlen, "%s: not a machine id (32 hexadecimal digits, not all zero)", path);
		return -EINVAL;
	}
	return 0;
}
