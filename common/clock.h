/* The clocks (wall and monotonic, in seconds as doubles) and the one timestamp
 * format events carry: RFC 3339 UTC with milliseconds. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The latest wall time (seconds) RFC 3339 can write, 9999-12-31T23:59:59Z: a
 * time read from a state file must be from 0 to this. */
#define ARBOR_TIME_MAX 253402300799.0

/* Formats ts as "2026-11-21T23:57:25.123Z" into buf (at least 25 bytes). */
void arbor_time_rfc3339(const struct timespec *ts, char *buf, size_t len);
double arbor_time_monotonic(void);
double arbor_time_wall(void);
