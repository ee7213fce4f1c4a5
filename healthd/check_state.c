/* Check hysteresis (see check_state.h). */
#include "check_state.h"

#include <stdio.h>
#include <string.h>

void check_state_init(struct check_state *st, double now)
{
	memset(st, 0, sizeof *st);
	st->health = CHECK_UNKNOWN;
	st->since = now;
}

bool check_state_record(struct check_state *st, bool ok, double latency, const char *error, unsigned rise,
			unsigned fall, double now)
{
	st->has_result = true;
	st->last_ok = ok;
	st->last_at = now;
	st->last_latency = latency;
	if (ok) {
		st->last_error[0] = '\0';
		st->passes++;
		st->consecutive_passes++;
		st->consecutive_failures = 0;
	} else {
		snprintf(st->last_error, sizeof st->last_error, "%s", error && *error ? error : "failed");
		st->failures++;
		st->consecutive_failures++;
		st->consecutive_passes = 0;
	}
	enum check_health next = st->health;
	if (ok && st->consecutive_passes >= (rise ? rise : 1))
		next = CHECK_PASSING;
	else if (!ok && st->consecutive_failures >= (fall ? fall : 1))
		next = CHECK_FAILING;
	if (next == st->health)
		return false;
	st->health = next;
	st->since = now;
	return true;
}

const char *check_health_name(enum check_health h)
{
	return h == CHECK_PASSING ? "passing" : h == CHECK_FAILING ? "failing" : "unknown";
}
