/* Journal: replay, torn tail, compaction, a crash between compaction steps;
 * a short write (a real one, from RLIMIT_FSIZE) and failed syncs (fdatasync is
 * interposed below: the journal in libarbor.a links to this one). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* fdatasync calls to fail with EIO, as a disk that lost a write reports it. */
static int failing_syncs;

int fdatasync(int fd)
{
	if (failing_syncs > 0) {
		failing_syncs--;
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
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

/* The caller's memory for a rewrite: {"sum": N}. */
static void snapshot_sum(void *ctx, struct arbor_buf *out)
{
	arbor_buf_printf(out, "{\"sum\":%d}", *(int *)ctx);
}

static off_t file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A write cut short by a full disk (RLIMIT_FSIZE: the kernel writes what fits,
 * then refuses) must not leave a fragment that the retry appends behind. */
static void test_short_write(const char *dir)
{
	char err[256];
	struct counter c;
	struct arbor_journal *j = open_j(dir, &c);
	for (int i = 1; i <= 3; i++)
		add(j, i);
	CHECK(arbor_journal_commit(j, err, sizeof err) == 0, "short write: three records committed");
	off_t good = file_size(dir, "leases.json.journal");
	struct rlimit saved, full;
	getrlimit(RLIMIT_FSIZE, &saved);
	full = saved;
	full.rlim_cur = (rlim_t)good + 10; /* room for a fragment of the next batch */
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &full);
	for (int i = 0; i < 5; i++)
		add(j, 100);
	int rc = arbor_journal_commit(j, err, sizeof err);
	setrlimit(RLIMIT_FSIZE, &saved);
	CHECK(rc == -EFBIG, "short write: the commit fails");
	CHECK(file_size(dir, "leases.json.journal") == good, "short write: the fragment is cut off at once");
	CHECK(arbor_journal_pending(j) == 5, "short write: the batch stays queued for the retry");
	add(j, 1000);
	CHECK(arbor_journal_commit(j, err, sizeof err) == 0, "short write: the retry commits");
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.records == 9 && c.sum == 6 + 500 + 1000, "short write: every record after the failure replays");
	arbor_journal_close(j);
}

/* A failed fdatasync: the file is not trusted again. Without a way to rewrite,
 * every later write is refused; with one, the next write rewrites the state
 * from memory (a new generation) and the journal is sound again. */
static void test_failed_sync(const char *dir)
{
	char err[256];
	struct counter c;
	struct arbor_journal *j = open_j(dir, &c);
	int memory = c.sum;
	add(j, 1);
	memory += 1;
	failing_syncs = 1;
	CHECK(arbor_journal_commit(j, err, sizeof err) == -EIO && arbor_journal_broken(j), "failed sync: broken");
	add(j, 2);
	memory += 2;
	CHECK(arbor_journal_commit(j, err, sizeof err) != 0 && strstr(err, "until a restart"),
	      "failed sync, no rewrite function: later commits are refused, not appended to the suspect file");
	CHECK(arbor_journal_pending(j) == 1, "failed sync: the refused record counts as pending");

	uint64_t gen = arbor_journal_generation(j);
	arbor_journal_on_rewrite(j, snapshot_sum, &memory);
	CHECK(arbor_journal_commit(j, err, sizeof err) == 0 && !arbor_journal_broken(j) && arbor_journal_pending(j) == 0,
	      "failed sync: the next commit rewrites from memory");
	CHECK(arbor_journal_generation(j) == gen + 1, "failed sync: a new snapshot generation");
	add(j, 4);
	memory += 4;
	CHECK(arbor_journal_commit(j, err, sizeof err) == 0, "failed sync: appends resume on the new journal");

	/* The caller syncs off the loop (syncer.h) and reports the failure. */
	add(j, 8);
	memory += 8;
	CHECK(arbor_journal_write(j, err, sizeof err) == 0, "off-loop: write");
	arbor_journal_sync_failed(j, -EIO);
	CHECK(arbor_journal_broken(j), "off-loop: a reported failure breaks the journal");
	struct rlimit saved, none;
	getrlimit(RLIMIT_FSIZE, &saved);
	none = saved;
	none.rlim_cur = 0; /* the disk is still failing: the rewrite fails too */
	setrlimit(RLIMIT_FSIZE, &none);
	CHECK(arbor_journal_write(j, err, sizeof err) != 0 && arbor_journal_broken(j), "off-loop: a failed rewrite");
	setrlimit(RLIMIT_FSIZE, &saved);
	CHECK(arbor_journal_write(j, err, sizeof err) != 0 && strstr(err, "pending"),
	      "off-loop: rewrites are retried at most once a second");
	int tries = 0; /* poll until the interval has passed (5 s at most) */
	while (arbor_journal_write(j, err, sizeof err) != 0 && tries++ < 500)
		usleep(10000);
	CHECK(tries > 0 && !arbor_journal_broken(j), "off-loop: rewritten once the interval passed");
	arbor_journal_close(j);
	j = open_j(dir, &c);
	CHECK(j && c.sum == memory && c.records == 0, "failed sync: what was in memory is what replays");
	arbor_journal_close(j);
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
	char sub[512];
	snprintf(sub, sizeof sub, "%s/short", dir);
	mkdir(sub, 0700);
	test_short_write(sub);
	snprintf(sub, sizeof sub, "%s/sync", dir);
	mkdir(sub, 0700);
	test_failed_sync(sub);
	return tap_done();
}
