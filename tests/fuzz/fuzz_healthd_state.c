/* libFuzzer harness for healthd's state file (state.json), restored as healthd
 * starts: into a few checks, some sharing a name with a different definition.
 * Any text is used or skipped, never a crash; a restored check is passing or
 * failing since a time status can show; the file healthd then writes, restored
 * into fresh checks, gives the same states. abort() on any violation. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "state_file.h"
#include "fuzz_check.h"

#define NCHECKS 4

static struct check_spec specs[NCHECKS] = {
	{ .name = "uplink", .definition = "{\"name\":\"uplink\",\"kind\":\"tcp\"}", .rise = 2, .fall = 3 },
	{ .name = "dns", .definition = "{\"name\":\"dns\",\"kind\":\"dns\"}", .rise = 1, .fall = 1 },
	{ .name = "web", .definition = "{\"name\":\"web\",\"kind\":\"http\"}", .rise = 5, .fall = 2 },
	{ .name = "uplink", .definition = "{}", .rise = 1, .fall = 4 },
};

static void fresh(struct check *checks)
{
	memset(checks, 0, NCHECKS * sizeof *checks);
	for (size_t i = 0; i < NCHECKS; i++) {
		checks[i].spec = &specs[i];
		check_state_init(&checks[i].state, 1.0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	if (doc == NULL)
		return 0;
	struct check checks[NCHECKS], again[NCHECKS];
	fresh(checks);
	size_t restored = healthd_state_restore(doc, checks, NCHECKS);
	cJSON_Delete(doc);
	size_t changed = 0;
	for (size_t i = 0; i < NCHECKS; i++) {
		const struct check_state *st = &checks[i].state;
		if (st->health == CHECK_UNKNOWN) {
			if (st->since != 1.0 || st->consecutive_passes || st->consecutive_failures)
				violated("check %zu: unknown, yet touched", i);
			continue;
		}
		changed++;
		if (st->health != CHECK_PASSING && st->health != CHECK_FAILING)
			violated("check %zu: health %d", i, (int)st->health);
		if (!(st->since >= 0 && st->since <= ARBOR_TIME_MAX))
			violated("check %zu: since %.17g is no time status can show", i, st->since);
		if (st->health == CHECK_FAILING ? st->consecutive_failures != specs[i].fall
						: st->consecutive_passes != specs[i].rise)
			violated("check %zu: hysteresis does not continue from the restored state", i);
	}
	if (restored < changed)
		violated("%zu checks changed, %zu restored", changed, restored);
	/* What healthd writes next, read by the next start. */
	cJSON *out = healthd_state_encode(checks, NCHECKS);
	char *text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON *back = cJSON_Parse(text);
	fresh(again);
	healthd_state_restore(back, again, NCHECKS);
	for (size_t i = 0; i < NCHECKS; i++)
		if (again[i].state.health != checks[i].state.health ||
		    fabs(again[i].state.since - checks[i].state.since) > 0.0005)
			violated("check %zu changes across a restart: %s", i, text);
	cJSON_Delete(back);
	cJSON_free(text);
	return 0;
}
