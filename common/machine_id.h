/* The machine id: 32 hexadecimal digits, not all zero (machine-id(5)). The one
 * place that says what a valid one is; the config loader, the address
 * derivation and arborctl all go through it. */
#pragma once
#include <stddef.h>

#define ARBOR_MACHINE_ID_LEN 32

/* A machine-id as found in /etc/machine-id: surrounding white space trimmed,
 * exactly 32 hex digits (upper case accepted), not all zero (systemd's null
 * id). Writes the lower-case form and a NUL to out. -EINVAL otherwise. */
int arbor_machine_id_normalize(const char *text, char out[ARBOR_MACHINE_ID_LEN + 1]);
/* Reads and normalizes the machine id in a file such as /etc/machine-id.
 * Returns 0, or -errno with a message naming the file in err. */
int arbor_machine_id_read_file(const char *path, char out[ARBOR_MACHINE_ID_LEN + 1], char *err, size_t errlen);
