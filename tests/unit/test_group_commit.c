/* Group commit: answers are delivered only after their batch's records are in
 * the journal file and synced; batches pipeline behind a sync in flight; a full
 * batch commits on the spot; compaction waits for the sync in flight; a failed
 * sync or write delivers nothing of its batch, and after a failed sync the
 * journal is rewritten from the snapshot before the next batch. A failure is
 * made by putting a pipe (fdatasync: EINVAL) or a read-only descriptor (write:
 * EBADF) in place of the journal's descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "group_commit.h"
#include "journal.h"
#include "statefile.h"
#include "tap.h"
#include "xalloc.h"

struct answer {
	int id;
	char pad[60]; /* a daemon's answers are bigger than an int */
};

static const char *dir;
static int delivered[64], ndelivered, batches, snapshots, records_replayed;
static int recorded[64], nrecorded; /* the "daemon's state": every record made */
static bool all_written = true; /* every delivered answer's record was in the file */
static bool all_zeroed = true;  /* every answer slot came zeroed (slots are reused) */

/* In the journal file, or in the snapshot a rewrite made. */
static bool in_journal_file(int id)
{
	char needle[32];
	snprintf(needle, sizeof needle, "{\"id\":%d}", id);
	bool found = false;
	for (int f = 0; f < 2 && !found; f++) {
		char *text = NULL;
		size_t len = 0;
		if (arbor_state_read(dir, f ? "leases.json" : "leases.json.journal", &text, &len, 1 << 20) != 0)
			continue;
		found = strstr(text, needle) != NULL;
		free(text);
	}
	return found;
}

static void deliver(void *ctx, void *answers, size_t n)
{
	struct answer *a = answers;
	batches++;
	for (size_t i = 0; i < n; i++) {
		all_written &= in_journal_file(a[i].id);
		delivered[ndelivered++] = a[i].id;
	}
}

static void snapshot(void *ctx, struct arbor_buf *out)
{
	snapshots++;
	arbor_buf_puts(out, "{\"records\":[");
	for (int i = 0; i < nrecorded; i++)
		arbor_buf_printf(out, "%s{\"id\":%d}", i ? "," : "", recorded[i]);
	arbor_buf_puts(out, "]}");
}

static void add(struct arbor_group_commit *gc, int id)
{
	char rec[32];
	int n = snprintf(rec, sizeof rec, "{\"id\":%d}", id);
	arbor_group_commit_record(gc, rec, (size_t)n);
	recorded[nrecorded++] = id;
	struct answer *a = arbor_group_commit_answer(gc);
	all_zeroed &= a->id == 0 && a->pad[59] == 0;
	a->id = id;
	a->pad[59] = 1;
}

/* Runs the loop until cond holds (a sync's completion is an event). */
#define RUN_UNTIL(base, cond)                                            \
	for (int spins_ = 0; !(cond) && spins_ < 50; spins_++) {         \
		struct timeval tv_ = { 5, 0 };                           \
		event_base_loopexit(base, &tv_);                         \
		event_base_loop(base, EVLOOP_ONCE);                      \
	}

static int on_record(void *ctx, const cJSON *rec)
{
	records_replayed++;
	return 0;
}

int main(void)
{
	arbor_alloc_init();
	dir = tap_tmpdir();
	struct event_base *base = event_base_new();
	struct arbor_journal *j = NULL;
	char err[256];
	CHECK(arbor_journal_open(dir, "leases.json", NULL, &j, err, sizeof err) == 0, "journal opens");
	struct arbor_group_commit_def def = {
		.name = "test journal", .answer_size = sizeof(struct answer), .batch_max = 4,
		.deliver = deliver, .snapshot = snapshot,
	};
	struct arbor_group_commit *gc = arbor_group_commit_new(base, j, &def);
	const struct arbor_group_commit_stats *st = arbor_group_commit_stats(gc);

	/* One batch: nothing is delivered before the sync returns on the loop. */
	add(gc, 1);
	arbor_group_commit_flush(gc);
	CHECK(ndelivered == 0, "no answer before its sync has returned");
	RUN_UNTIL(base, ndelivered == 1);
	CHECK(ndelivered == 1 && delivered[0] == 1 && st->commits == 1, "delivered after the sync");
	CHECK(all_written, "its record was in the journal file when it was delivered");

	/* Pipelining: what comes while a sync is in flight is the next batch. */
	batches = 0;
	add(gc, 2);
	arbor_group_commit_flush(gc);
	add(gc, 3);
	add(gc, 4);
	arbor_group_commit_flush(gc); /* a sync is in flight: waits */
	CHECK(ndelivered == 1, "nothing delivered while the first sync is in flight");
	RUN_UNTIL(base, ndelivered == 4);
	CHECK(ndelivered == 4 && delivered[1] == 2 && delivered[2] == 3 && delivered[3] == 4, "both batches, in order");
	CHECK(batches == 2 && st->commits == 3, "two commits: the second batch followed the first sync");

	/* Bounded: the answer after a full batch first commits everything (here
	 * the batch in flight, then the full one) before it is handed out. */
	add(gc, 5);
	arbor_group_commit_flush(gc); /* in flight */
	for (int id = 6; id <= 9; id++)
		add(gc, id);
	CHECK(ndelivered == 4, "a full batch waits like any other");
	add(gc, 10); /* one more than batch_max */
	CHECK(ndelivered == 9 && delivered[4] == 5 && delivered[8] == 9, "taking one more commits the full batch first");
	arbor_group_commit_drain(gc);
	CHECK(ndelivered == 10 && delivered[9] == 10, "drain delivers the rest");
	CHECK(all_written, "every delivered record was written first");

	/* A failed sync: the batch is withheld; the file is not trusted again, so
	 * the next batch first rewrites it from the snapshot, then goes through. */
	int fd = arbor_journal_fd(j), saved = dup(fd), pipefd[2];
	CHECK(pipe(pipefd) == 0 && dup2(pipefd[1], fd) == fd, "the journal now writes into a pipe");
	add(gc, 11);
	add(gc, 12);
	arbor_group_commit_flush(gc);
	RUN_UNTIL(base, st->failures == 1);
	CHECK(st->failures == 1 && st->withheld == 2 && ndelivered == 10, "fdatasync failed: nothing of the batch delivered");
	dup2(saved, fd);
	uint64_t generation = arbor_journal_generation(j);
	add(gc, 13);
	arbor_group_commit_flush(gc);
	RUN_UNTIL(base, ndelivered == 11);
	CHECK(ndelivered == 11 && delivered[10] == 13, "the next batch is delivered");
	CHECK(snapshots == 1 && arbor_journal_generation(j) == generation + 1 && in_journal_file(11) && all_written,
	      "after a rewrite from the snapshot (a new journal file)");
	close(saved);
	fd = arbor_journal_fd(j);
	saved = dup(fd);

	/* A failed write: the commit fails on the loop, nothing is delivered. */
	int rdonly = open("/dev/null", O_RDONLY);
	CHECK(dup2(rdonly, fd) == fd, "the journal's descriptor is read-only now");
	add(gc, 14);
	arbor_group_commit_flush(gc);
	CHECK(st->failures == 2 && st->withheld == 3 && ndelivered == 11, "write failed: nothing delivered");
	dup2(saved, fd);
	add(gc, 15);
	arbor_group_commit_flush(gc);
	RUN_UNTIL(base, ndelivered == 12);
	CHECK(delivered[11] == 15 && in_journal_file(14), "the next batch goes through, with the failed record rewritten");
	CHECK(snapshots == 2, "a journal that could not be cut back after the failed write was rewritten from the snapshot");

	/* Compaction waits until no sync is in flight. */
	arbor_group_commit_compact_after(gc, 2);
	generation = arbor_journal_generation(j);
	add(gc, 16);
	add(gc, 17);
	arbor_group_commit_flush(gc);
	CHECK(arbor_journal_generation(j) == generation && snapshots == 2, "no compaction while a sync is in flight");
	RUN_UNTIL(base, ndelivered == 14);
	CHECK(arbor_journal_generation(j) == generation + 1 && snapshots == 3, "compacted once the sync returned");

	/* A batch of records alone is committed too (deliver gets none). */
	arbor_group_commit_compact_after(gc, 0);
	batches = 0;
	arbor_group_commit_record(gc, "{\"id\":18}", 9);
	arbor_group_commit_flush(gc);
	RUN_UNTIL(base, batches == 1);
	CHECK(batches == 1 && ndelivered == 14 && in_journal_file(18), "records without answers are committed");

	/* compact(): drains first; free() drains what is left. */
	add(gc, 19);
	arbor_group_commit_flush(gc);
	CHECK(arbor_group_commit_compact(gc) == 0 && ndelivered == 15 && snapshots == 4, "compact drains, then compacts");
	add(gc, 20);
	arbor_group_commit_free(gc);
	CHECK(ndelivered == 16 && delivered[15] == 20, "free delivers what was pending");
	CHECK(all_zeroed, "every answer slot came zeroed, also when reused");
	arbor_journal_close(j);
	struct arbor_journal_replay replay = { NULL, on_record, NULL };
	CHECK(arbor_journal_open(dir, "leases.json", &replay, &j, err, sizeof err) == 0 && records_replayed == 1,
	      "reopened: the snapshot and the one record after it");
	arbor_journal_close(j);
	close(saved);
	close(rdonly);
	close(pipefd[0]);
	close(pipefd[1]);
	event_base_free(base);
	return tap_done();
}
