/* JSON values written straight into a buffer, for records a server writes once
 * per answer (dhcp4d's leases, dhcp6pd's delegations): building a cJSON tree and
 * printing it with printf was a fifth of a server's CPU under load. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* (A JSON string: arbor_json_put_string, json.h.) */
/* Bytes as a string of colon-separated hex pairs ("01:52:54:00"), at most 256. */
void arbor_json_write_hex(struct arbor_buf *out, const uint8_t *b, size_t len);
void arbor_json_write_uint(struct arbor_buf *out, unsigned long long v);
/* Seconds with milliseconds, as arbor_json_add_fixed(…, 3) writes them; 0 for a
 * time that is negative, not finite or past 9e12. */
void arbor_json_write_time(struct arbor_buf *out, double t);
