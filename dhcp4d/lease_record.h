/* A lease as one JSON object: the journal's record and the snapshot's entry,
 * readable with jq:
 *   {"interface":"lan0","address":"192.168.1.100","mac":"52:54:00:12:34:56",
 *    "client_id":"01:52:54:00:12:34:56","hostname":"laptop","state":"bound",
 *    "starts":1795391845.1,"ends":1795395445.1}
 * Replaying records in order rebuilds the tables (each record replaces what
 * was known of that address). */
#pragma once
#include <cjson/cJSON.h>

#include "buf.h"
#include "lease_table.h"

cJSON *lease_record_encode(const char *interface, const struct lease *l);
/* The same record as JSON text appended to out (no newline), written directly:
 * the journal writes one per acknowledged lease, and building a cJSON tree and
 * printing it with printf was a fifth of the server's CPU under load. */
void lease_record_write(struct arbor_buf *out, const char *interface, const struct lease *l);
/* Applies one record to the table whose interface it names (the caller finds
 * it); returns 0, or -EINVAL with err set for a record that makes no sense
 * (times must be from 0 to ARBOR_TIME_MAX). */
int lease_record_apply(struct lease_table *t, const cJSON *rec, char *err, size_t errlen);
const char *lease_record_interface(const cJSON *rec);
