/* A journal with compaction, for state that changes faster than it can be
 * rewritten whole (a DHCP server under load).
 *
 * Files in the state directory, for a journal named NAME:
 *   NAME          snapshot: {"generation": G, "data": <caller's document>}, atomic
 *   NAME.journal  first line {"journal": G}, then one JSON record per line
 * Records are appended to memory, then written and fdatasync'ed by one commit
 * (group commit: the caller commits once per loop turn, and acknowledges what it
 * appended only after the commit returns 0). Compaction writes a new snapshot
 * with generation G+1 atomically, then atomically replaces the journal with an
 * empty one for G+1. On load, a journal whose generation differs from the
 * snapshot's is stale (a crash between the two steps) and is ignored; a torn last
 * line is dropped and cut off the file.
 *
 * Failures. A write that fails part-way (disk full, EIO) is cut back off the
 * file at once, so the next commit appends after the last whole record and
 * never behind a torn fragment (which replay would stop at, losing every later
 * record). A failed fdatasync is worse: Linux may have dropped the dirty pages
 * and a later fdatasync can succeed without them, so the file can no longer be
 * trusted (nor can one that a failed write could not be cut back on). The
 * journal then counts as broken: nothing more is appended to it, and the next
 * write rewrites the state from the caller's memory instead (a fresh snapshot
 * and a fresh journal, both synced, through the function given to
 * arbor_journal_on_rewrite), retried at most once a second until it succeeds.
 * Until then every write fails, so the caller acknowledges nothing. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct arbor_journal;

struct arbor_journal_replay {
	/* Called once with the snapshot's data (NULL when there is none yet). */
	int (*snapshot)(void *ctx, const cJSON *data);
	/* Called for each journal record after the snapshot, in order. */
	int (*record)(void *ctx, const cJSON *record);
	void *ctx;
};

/* Opens (creating if needed) and replays. Returns 0 or -errno with err set. */
int arbor_journal_open(const char *dir, const char *name, const struct arbor_journal_replay *replay,
		       struct arbor_journal **out, char *err, size_t errlen);
void arbor_journal_close(struct arbor_journal *j);

/* Queues a record (not yet durable). */
void arbor_journal_append(struct arbor_journal *j, const cJSON *record);
/* Queues a record already serialized as one line of JSON (no newline). */
void arbor_journal_append_text(struct arbor_journal *j, const char *text, size_t len);
/* Number of records appended but not committed. */
size_t arbor_journal_pending(const struct arbor_journal *j);
/* Writes the queued records and fdatasyncs. 0 means all of them are durable. */
int arbor_journal_commit(struct arbor_journal *j, char *err, size_t errlen);
/* The two halves of a commit, for a caller that syncs off the loop (syncer.h):
 * write the queued records to the file (not yet durable), then fdatasync the
 * descriptor arbor_journal_fd gives. Compact only when no sync is in flight. */
int arbor_journal_write(struct arbor_journal *j, char *err, size_t errlen);
int arbor_journal_fd(const struct arbor_journal *j);
/* The caller's own fdatasync of arbor_journal_fd failed with rc (-errno): the
 * file is no longer trusted, and the next write rewrites it from memory. */
void arbor_journal_sync_failed(struct arbor_journal *j, int rc);
/* How to rewrite from memory: snapshot appends the caller's whole state as
 * JSON text (what arbor_journal_compact_text takes) to out. Without it a broken
 * journal refuses every write until the daemon restarts and replays. */
void arbor_journal_on_rewrite(struct arbor_journal *j, void (*snapshot)(void *ctx, struct arbor_buf *out),
			      void *ctx);
/* True while a failed sync has not yet been repaired by a rewrite. */
bool arbor_journal_broken(const struct arbor_journal *j);
/* Replaces snapshot + journal by a snapshot of data (commit first; on a broken
 * journal, the queued records are dropped instead: data holds them). */
int arbor_journal_compact(struct arbor_journal *j, const cJSON *data, char *err, size_t errlen);
/* The same, with the data already serialized as JSON text: a caller with many
 * records streams them into one buffer instead of building a cJSON tree (a
 * tree of 50,000 leases costs tens of megabytes at its peak). */
int arbor_journal_compact_text(struct arbor_journal *j, const char *data, size_t len, char *err, size_t errlen);
/* Bytes in the journal file: the caller compacts when it grows too large. */
uint64_t arbor_journal_bytes(const struct arbor_journal *j);
uint64_t arbor_journal_generation(const struct arbor_journal *j);
