/* state.json: each check's health and since, kept across restarts (a kill -9
 * must not turn a failing uplink into "unknown" and run its actions again):
 *   {"checks":[{"name":"uplink","definition":"{...}","state":"failing",
 *               "since":1795391845.123}]}
 * A saved state applies only to a check with the very same definition. Pure:
 * main.c reads and writes the file. */
#pragma once
#include <stddef.h>

#include <cjson/cJSON.h>

#include "check.h"

/* The document for checks[0..n) (checks still unknown are left out). */
cJSON *healthd_state_encode(const struct check *checks, size_t n);
/* Gives checks[0..n) the saved state of the entry with their name and
 * definition. Entries that are not objects, name a state other than passing or
 * failing, or give since as anything but a time from 0 to ARBOR_TIME_MAX (a time
 * status can show) are skipped. Returns how many checks were restored. */
size_t healthd_state_restore(const cJSON *doc, struct check *checks, size_t n);
