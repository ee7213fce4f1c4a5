/* A delegation as one line of JSON: the journal's record and the snapshot's entry
 * (delegations.json), readable with jq:
 *   {"interface":"lan0","prefix":"2001:db8:100:10::/60","duid":"00:04:...","iaid":1,
 *    "state":"bound","starts":1795391845.1,"preferred_until":...,"valid_until":...,
 *    "via":"fe80::1"}
 * Replaying records in order rebuilds the tables (each record replaces what was
 * known of that client's IA and of that prefix). */
#pragma once
#include <cjson/cJSON.h>

#include "buf.h"
#include "pd_server.h"

/* Appends the record (no newline), written directly (no cJSON tree). */
void binding_record_write(struct arbor_buf *out, const char *interface, const struct binding_view *b);
const char *binding_record_interface(const cJSON *rec);
/* Applies a record to s's table: 0, or -EINVAL with err for one that makes no
 * sense (a prefix outside s's literal pools is kept: a from_delegation pool may
 * not know its prefix yet at replay). */
int binding_record_apply(struct pd_server *s, const cJSON *rec, char *err, size_t errlen);
