/* libFuzzer harness for the journal loader: arbitrary snapshot and journal
 * files (split at the first 0xff byte) must load or be refused, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "statefile.h"
#include "fuzz_check.h"

static const char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir("journal");
	return 0;
}

static int count(void *ctx, const cJSON *v)
{
	(*(int *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memchr(data, 0xff, size);
	size_t snap_len = split ? (size_t)(split - data) : 0;
	const uint8_t *journal = split ? split + 1 : data;
	size_t journal_len = size - (size_t)(journal - data);
	char err[256];
	char path[128];
	snprintf(path, sizeof path, "%s/s", dir);
	unlink(path);
	if (split)
		arbor_state_write(dir, "s", data, snap_len, err, sizeof err);
	arbor_state_write(dir, "s.journal", journal, journal_len, err, sizeof err);
	int n = 0;
	struct arbor_journal_replay r = { count, count, &n };
	struct arbor_journal *j = NULL;
	if (arbor_journal_open(dir, "s", &r, &j, err, sizeof err) == 0) {
		cJSON *rec = cJSON_CreateObject();
		arbor_journal_append(j, rec);
		arbor_journal_commit(j, err, sizeof err);
		cJSON_Delete(rec);
		arbor_journal_close(j);
	}
	return 0;
}
