/* Group commit over a journal (journal.h), for a server whose answers announce
 * durable state (a DHCP ACK, a delegated prefix): an answer goes out only after
 * the records it announces are on disk, and one fdatasync covers many answers.
 *
 * What an answer is belongs to the daemon: the group commit holds answers as
 * opaque fixed-size slots (answer_size bytes, the daemon's own struct) and hands
 * a batch of them back through deliver() once its records are durable.
 *
 * A batch is what was appended since the last commit: records (record()) and
 * answers (answer()). flush() ends it: its records are written to the journal
 * on the loop and fdatasync'ed on the syncer (syncer.h), off the loop. While
 * that sync is in flight the loop goes on, and what it appends waits for the
 * next batch, committed as soon as the sync returns (pipelined: under load each
 * sync carries what arrived during the one before, so batches grow with the
 * load and need no timer).
 *
 * - Bounded: a batch holds at most batch_max answers. Taking one more first
 *   drains: the loop waits for the sync in flight and commits the full batch
 *   on the spot, then the new answer starts the next batch.
 * - Failure: a batch whose write or sync fails acknowledges nothing: its
 *   answers are dropped (counted in withheld, logged), never delivered; the
 *   clients ask again. Its records stay the journal's to retry. After a failed
 *   sync the journal file is not trusted again: the next batch first rewrites
 *   it from snapshot() (journal.h), and without snapshot() nothing more commits.
 * - Compaction replaces the journal's files, so it runs only when no sync is in
 *   flight: after a commit once compact_records records were appended since the
 *   last one, or when asked (compact(), which drains first).
 * - Without a worker thread (it could not be started) every commit is
 *   synchronous: slower, still correct.
 *
 * Everything runs on the loop's thread; deliver() and snapshot() are called from
 * flush(), answer(), drain(), compact() and the loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "journal.h"

struct arbor_group_commit;

struct arbor_group_commit_def {
	const char *name;   /* for the log: "lease journal" */
	size_t answer_size; /* bytes of one answer slot */
	size_t batch_max;   /* answers in one batch, at least 1 */
	/* The batch's records are durable: send its answers (n may be 0, when the
	 * batch had records only). */
	void (*deliver)(void *ctx, void *answers, size_t n);
	/* For compaction: the daemon's whole state as the snapshot's data, one JSON
	 * value appended to out. NULL: compaction is never run. */
	void (*snapshot)(void *ctx, struct arbor_buf *out);
	/* A batch that could not be made durable: its answers, never delivered (the
	 * daemon releases what they hold). NULL: they are only counted. */
	void (*withhold)(void *ctx, void *answers, size_t n);
	void *ctx;
};

struct arbor_group_commit_stats {
	uint64_t commits;  /* batches made durable (and delivered) */
	uint64_t failures; /* batches whose write or sync failed */
	uint64_t withheld; /* answers of those batches, never delivered */
};

/* The journal stays the caller's: close it after arbor_group_commit_free. */
struct arbor_group_commit *arbor_group_commit_new(struct event_base *base, struct arbor_journal *journal,
						  const struct arbor_group_commit_def *def);
/* Drains (every answer is delivered or withheld), then stops the worker. */
void arbor_group_commit_free(struct arbor_group_commit *gc);

/* Appends one record (one line of JSON, no newline) to the current batch. */
void arbor_group_commit_record(struct arbor_group_commit *gc, const char *text, size_t len);
/* A zeroed answer slot in the current batch, delivered after the batch's
 * commit. Fill it before the next call into the group commit. */
void *arbor_group_commit_answer(struct arbor_group_commit *gc);
/* Ends the current batch: commits it unless a sync is in flight (then it is
 * committed when that one returns). Call it once a loop turn has decided what
 * it read. */
void arbor_group_commit_flush(struct arbor_group_commit *gc);
/* Commits everything and waits: when it returns, nothing is in flight and
 * every answer taken so far has been delivered or withheld. For stop and for a
 * reload that replaces what the answers point to. */
void arbor_group_commit_drain(struct arbor_group_commit *gc);
/* Drains, then compacts the journal now. Returns 0, or -errno (logged). */
int arbor_group_commit_compact(struct arbor_group_commit *gc);
/* Compact after this many records since the last compaction (0: never). */
void arbor_group_commit_compact_after(struct arbor_group_commit *gc, uint64_t records);
const struct arbor_group_commit_stats *arbor_group_commit_stats(const struct arbor_group_commit *gc);
/* Nothing waits: no answer or record taken since the last commit, no sync in flight. */
bool arbor_group_commit_idle(const struct arbor_group_commit *gc);
