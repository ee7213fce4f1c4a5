/* libFuzzer harness for the event log loader: any events.jsonl must load (torn
 * or damaged lines dropped), answer a query, and accept a new event. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "statefile.h"

static char dir[] = "/tmp/arbor-fuzz-events-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (mkdtemp(dir) == NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], path[128];
	snprintf(path, sizeof path, "%s/events.jsonl.1", dir);
	unlink(path);
	arbor_state_write(dir, "events.jsonl", data, size, err, sizeof err);
	struct arbor_events *ev = arbor_events_open(dir, "fuzz", "fuzz", 16, 1 << 20, err, sizeof err);
	if (ev == NULL)
		return 0;
	uint64_t before = arbor_events_last_seq(ev);
	struct arbor_buf out = { 0 };
	arbor_events_query(ev, 0, "*", 100, &out);
	arbor_buf_free(&out);
	if (arbor_event_emit(ev, "fuzz.x", "info", NULL, NULL, "x") != before + 1)
		abort(); /* seq must continue from what was loaded */
	arbor_events_close(ev);
	return 0;
}
