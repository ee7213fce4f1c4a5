/* The hysteresis state machine of one check: unknown -> passing / failing.
 * A check becomes passing after `rise` consecutive successes and failing after
 * `fall` consecutive failures; from unknown, the first full run of either
 * decides. Pure: time comes in as an argument, so it is tested without sleeping. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum check_health { CHECK_UNKNOWN, CHECK_PASSING, CHECK_FAILING };

struct check_state {
	enum check_health health;
	double since;            /* wall time of the last transition (or of creation) */
	bool has_result;
	bool last_ok;
	double last_at;          /* wall time of the last result */
	double last_latency;     /* seconds */
	char last_error[256];    /* empty when the last result passed */
	unsigned consecutive_passes;
	unsigned consecutive_failures;
	uint64_t passes, failures;
};

void check_state_init(struct check_state *st, double now);
/* Records one probe result; returns true when the health changed (the caller
 * emits the event and runs the actions). */
bool check_state_record(struct check_state *st, bool ok, double latency, const char *error, unsigned rise,
			unsigned fall, double now);
const char *check_health_name(enum check_health h);
