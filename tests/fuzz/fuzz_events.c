/* libFuzzer harness for the event log loader: any events.jsonl must load (torn
 * or damaged lines dropped), answer a query with valid JSON (what was loaded is
 * served verbatim), and accept a new event. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "statefile.h"
#include "fuzz_check.h"

static const char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir("events");
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
	size_t n = arbor_events_query(ev, 0, "*", 100, &out);
	cJSON *answer = cJSON_ParseWithLength(out.data, out.len);
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(answer, "events");
	if (!cJSON_IsArray(events) || (size_t)cJSON_GetArraySize(events) != n)
		abort(); /* a damaged line was served as it was */
	cJSON_Delete(answer);
	arbor_buf_free(&out);
	if (arbor_event_emit(ev, "fuzz.x", "info", NULL, NULL, "x") != before + 1)
		abort(); /* seq must continue from what was loaded */
	arbor_events_close(ev);
	return 0;
}
