/* healthd's hysteresis state machine: rise/fall counts, transitions only. */
#include <string.h>

#include "check_state.h"
#include "tap.h"

int main(void)
{
	struct check_state st;
	check_state_init(&st, 100);
	CHECK(st.health == CHECK_UNKNOWN && !st.has_result, "starts unknown");
	CHECK(!check_state_record(&st, true, 0.01, NULL, 2, 3, 101), "one pass of rise=2: still unknown");
	CHECK(check_state_record(&st, true, 0.02, NULL, 2, 3, 102) && st.health == CHECK_PASSING && st.since == 102,
	      "second pass: passing, since now");
	CHECK(!check_state_record(&st, false, 0.5, "refused", 2, 3, 103) &&
		      !check_state_record(&st, false, 0.5, "refused", 2, 3, 104),
	      "two failures of fall=3: still passing");
	CHECK(st.consecutive_failures == 2 && st.consecutive_passes == 0 && strcmp(st.last_error, "refused") == 0,
	      "counters and last error");
	CHECK(!check_state_record(&st, true, 0.01, NULL, 2, 3, 105) && st.consecutive_failures == 0 &&
		      st.last_error[0] == '\0',
	      "a pass resets the failure run (flapping does not fail)");
	for (int i = 0; i < 2; i++)
		check_state_record(&st, false, 0.5, "timeout", 2, 3, 106 + i);
	CHECK(check_state_record(&st, false, 0.5, "timeout", 2, 3, 110) && st.health == CHECK_FAILING &&
		      st.since == 110,
	      "third failure: failing");
	CHECK(!check_state_record(&st, false, 0.5, "timeout", 2, 3, 111), "more failures: no new transition");
	CHECK(st.passes == 3 && st.failures == 6, "totals");
	check_state_init(&st, 0);
	CHECK(check_state_record(&st, false, 0, "x", 5, 1, 1) && st.health == CHECK_FAILING,
	      "fall=1 from unknown fails at once");
	CHECK(!check_state_record(&st, false, 0, "", 5, 1, 2) && strcmp(st.last_error, "failed") == 0,
	      "an empty reason becomes \"failed\"");
	return tap_done();
}
