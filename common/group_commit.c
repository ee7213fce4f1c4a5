/* Group commit (see group_commit.h): two arrays of answer slots, the batch being
 * filled and the batch whose sync is in flight, swapped at each commit. */
#include "group_commit.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "syncer.h"
#include "xalloc.h"

struct arbor_group_commit {
	struct arbor_journal *journal;
	struct arbor_syncer *syncer; /* NULL: every commit is synchronous */
	struct arbor_group_commit_def def;
	unsigned char *next, *inflight; /* batch_max slots each */
	size_t nnext, ninflight;
	uint64_t since_compaction, compact_records;
	struct arbor_group_commit_stats stats;
};

static bool in_flight(const struct arbor_group_commit *gc)
{
	return gc->syncer && arbor_syncer_busy(gc->syncer);
}

/* Writes the snapshot and starts an empty journal. The snapshot is streamed
 * into text, then the freed memory is handed back (glibc keeps it otherwise):
 * RSS stays near what the daemon's state needs. */
static int compact_now(struct arbor_group_commit *gc)
{
	if (gc->def.snapshot == NULL)
		return 0;
	struct arbor_buf text = { 0 };
	gc->def.snapshot(gc->def.ctx, &text);
	char err[256];
	int rc = arbor_journal_compact_text(gc->journal, text.data ? text.data : "", text.len, err, sizeof err);
	if (rc != 0)
		log_err("%s: compaction: %s", gc->def.name, err);
	else
		gc->since_compaction = 0;
	arbor_buf_free(&text);
	malloc_trim(0);
	return rc;
}

/* The batch in flight is durable (rc 0) or not: deliver or withhold it. No sync
 * is in flight now, so the journal may be compacted. */
static void end_inflight(struct arbor_group_commit *gc, int rc, const char *err)
{
	if (rc != 0) {
		gc->stats.failures++;
		gc->stats.withheld += gc->ninflight;
		log_err("%s: %s: %zu acknowledgements withheld", gc->def.name, err, gc->ninflight);
		if (gc->def.withhold)
			gc->def.withhold(gc->def.ctx, gc->inflight, gc->ninflight);
	} else {
		gc->stats.commits++;
		gc->def.deliver(gc->def.ctx, gc->inflight, gc->ninflight);
	}
	gc->ninflight = 0;
	if (gc->compact_records && gc->since_compaction >= gc->compact_records)
		compact_now(gc);
}

static void on_synced(void *ctx, int rc)
{
	struct arbor_group_commit *gc = ctx;
	if (rc != 0)
		arbor_journal_sync_failed(gc->journal, rc); /* rewritten from the snapshot before the next batch */
	char err[128] = "";
	if (rc != 0)
		snprintf(err, sizeof err, "fdatasync: %s", strerror(-rc));
	end_inflight(gc, rc, err);
	arbor_group_commit_flush(gc); /* what came meanwhile is the next batch */
}

void arbor_group_commit_flush(struct arbor_group_commit *gc)
{
	if (in_flight(gc) || (gc->nnext == 0 && arbor_journal_pending(gc->journal) == 0))
		return;
	char err[256];
	int rc = arbor_journal_write(gc->journal, err, sizeof err);
	unsigned char *t = gc->inflight;
	gc->inflight = gc->next;
	gc->ninflight = gc->nnext;
	gc->next = t;
	gc->nnext = 0;
	if (rc == 0 && gc->syncer) {
		rc = arbor_syncer_start(gc->syncer, arbor_journal_fd(gc->journal), on_synced, gc);
		if (rc == 0)
			return; /* on_synced ends it */
		snprintf(err, sizeof err, "fdatasync: %s", strerror(-rc));
	} else if (rc == 0) {
		rc = arbor_journal_commit(gc->journal, err, sizeof err);
	}
	end_inflight(gc, rc, err);
}

void arbor_group_commit_drain(struct arbor_group_commit *gc)
{
	for (;;) {
		arbor_group_commit_flush(gc);
		if (!in_flight(gc))
			return;
		arbor_syncer_wait(gc->syncer); /* runs on_synced, which may start the next batch */
	}
}

void *arbor_group_commit_answer(struct arbor_group_commit *gc)
{
	if (gc->nnext == gc->def.batch_max)
		arbor_group_commit_drain(gc);
	void *slot = gc->next + gc->nnext++ * gc->def.answer_size;
	memset(slot, 0, gc->def.answer_size);
	return slot;
}

void arbor_group_commit_record(struct arbor_group_commit *gc, const char *text, size_t len)
{
	arbor_journal_append_text(gc->journal, text, len);
	gc->since_compaction++;
}

int arbor_group_commit_compact(struct arbor_group_commit *gc)
{
	arbor_group_commit_drain(gc);
	return compact_now(gc);
}

void arbor_group_commit_compact_after(struct arbor_group_commit *gc, uint64_t records)
{
	gc->compact_records = records;
}

const struct arbor_group_commit_stats *arbor_group_commit_stats(const struct arbor_group_commit *gc)
{
	return &gc->stats;
}

bool arbor_group_commit_idle(const struct arbor_group_commit *gc)
{
	return !in_flight(gc) && gc->nnext == 0 && arbor_journal_pending(gc->journal) == 0;
}

struct arbor_group_commit *arbor_group_commit_new(struct event_base *base, struct arbor_journal *journal,
						  const struct arbor_group_commit_def *def)
{
	struct arbor_group_commit *gc = xcalloc(1, sizeof *gc);
	gc->journal = journal;
	gc->def = *def;
	if (gc->def.batch_max == 0)
		gc->def.batch_max = 1;
	/* Not zeroed here: answer() clears each slot it hands out, and a big slot
	 * array left untouched costs no memory until a burst uses it. */
	gc->next = xreallocarray(NULL, gc->def.batch_max, gc->def.answer_size);
	gc->inflight = xreallocarray(NULL, gc->def.batch_max, gc->def.answer_size);
	if (def->snapshot)
		arbor_journal_on_rewrite(journal, def->snapshot, def->ctx); /* after a failed sync */
	char err[128];
	gc->syncer = arbor_syncer_new(base, err, sizeof err);
	if (gc->syncer == NULL)
		log_warn("%s: %s: committing on the loop", def->name, err);
	return gc;
}

void arbor_group_commit_free(struct arbor_group_commit *gc)
{
	if (gc == NULL)
		return;
	arbor_group_commit_drain(gc);
	arbor_syncer_free(gc->syncer);
	free(gc->next);
	free(gc->inflight);
	free(gc);
}
