/* Journal: replay, torn tail, compaction, a crash between compaction steps. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "statefile.h"
#include "tap.h"

struct counter {
	int snapshot_value;
	int records;
	int sum;
};

static int on_snapshot(void *ctx, const cJSON *data)
{
	struct counter *c = ctx;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "sum");
	c->snapshot_value = cJSON_IsNumber(v) ? v->valueint : 0;
	c->sum = c->snapshot_value;
	return 0;
}

static int on_record(void *ctx, const cJSON *rec)
{
	struct counter *c = ctx;
	c->records++;
	c->sum += cJSON_GetObjectItemCaseSensitive(rec, "add")->valueint;
	return 0;
}

static struct arbor_journal *open_j(const char *dir, struct counter *c)
{
	memset(c, 0, sizeof *c);
	struct arbor_journal_replay r = { on_snapshot, on_record, c };
	struct arbor_journal *j = NULL;
	char err[256];
	if (arbor_journal_open(dir, "leases.json", &r, &j, err, sizeof err) != 0)
		printf("# %s\n", err);
	return j;
}

static void add(struct arbor_journal *j, int v)
{
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "add", v);
	arbor_journal_append(j, rec);
	cJSON_Delete(rec);
}

int main(void)
{
	const char *dir = tap_tmpdir();
	char err[256], path[512];
	struct counter c;
	struct arbor_journal *j = open_j(dir, &c);
	CHECK(j && c.sum == 0, "fresh journal");
	for (int i = 1; i <= 10; i++)
		add(j, i);
	CHECK(arbor_journal_pending(j) == 10, "ten pending");
	CHECK(arbor_journal_commit(j, err, sizeof err) == 0 && arbor_journal_pending(j) == 0, "group commit");
	add(j, 1000); /* appended, never committed: not durable, must not come back */
	arbor_journal_close(j);

	j = open_j(dir, &c);
	CHECK(j && c.records == 10 && c.sum == 55, "replay of committed records only");

	snprintf(path, sizeof path, "%s/leases.json.journal", dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, "{\"add\": 7", 9) == 9, "simulate a torn write");
	close(fd);
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.sum == 55, "torn tail ignored");
	add(j, 5);
	arbor_journal_commit(j, err, sizeof err);
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.sum == 60 && c.records == 11, "torn tail was cut, so later records replay");

	cJSON *snap = cJSON_CreateObject();
	cJSON_AddNumberToObject(snap, "sum", 60);
	CHECK(arbor_journal_compact(j, snap, err, sizeof err) == 0, "compaction");
	uint64_t gen = arbor_journal_generation(j);
	add(j, 1);
	arbor_journal_commit(j, err, sizeof err);
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.snapshot_value == 60 && c.records == 1 && c.sum == 61, "snapshot plus new journal");
	arbor_journal_close(j);

	/* Crash after the snapshot was replaced but before the journal was: the old
	 * journal's records are already in the snapshot and must not replay. */
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "generation", (double)(gen + 1));
	cJSON *data = cJSON_AddObjectToObject(doc, "data");
	cJSON_AddNumberToObject(data, "sum", 61);
	CHECK(arbor_state_write_json(dir, "leases.json", doc, err, sizeof err) == 0, "write a newer snapshot by hand");
	cJSON_Delete(doc);
	j = open_j(dir, &c);
	CHECK(j && c.sum == 61 && c.records == 0, "stale journal ignored");
	add(j, 2);
	arbor_journal_commit(j, err, sizeof err);
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.sum == 63, "new journal started for the snapshot's generation");
	arbor_journal_close(j);
	cJSON_Delete(snap);
	return tap_done();
}
