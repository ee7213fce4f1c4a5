/* The registry's file backend (see store.h). */
#include "store.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "journal.h"
#include "log.h"
#include "group_commit.h"
#include "xalloc.h"

/* Compact once the journal holds this many records; answers in one batch. */
enum { COMPACT_RECORDS = 4096, BATCH_MAX = 1024 };

struct ovl_file_store {
	struct ovl_registry *reg;
	struct arbor_journal *journal;
	struct arbor_group_commit *gc; /* answers are ticket pointers */
	struct event *flush_ev;
	bool failed;
};

struct ovl_ticket *ovl_ticket_new(void (*done)(void *, struct ovl_ticket *), void *ctx)
{
	struct ovl_ticket *t = xcalloc(1, sizeof *t);
	t->refs = 1;
	t->done = done;
	t->ctx = ctx;
	return t;
}

void ovl_ticket_put(struct ovl_ticket *t)
{
	if (t && --t->refs == 0) {
		arbor_buf_free(&t->answer);
		free(t);
	}
}

void ovl_ticket_finish(struct ovl_ticket *t, bool ok, const char *error)
{
	if (t->state != OVL_TICKET_PENDING)
		return;
	t->state = ok ? OVL_TICKET_DONE : OVL_TICKET_FAILED;
	if (error)
		snprintf(t->error, sizeof t->error, "%s", error);
	if (t->done)
		t->done(t->ctx, t);
}

static void finish_all(struct ovl_ticket **v, size_t n, bool ok, const char *error)
{
	for (size_t i = 0; i < n; i++) {
		ovl_ticket_finish(v[i], ok, error);
		ovl_ticket_put(v[i]);
	}
}

static void deliver(void *ctx, void *answers, size_t n)
{
	finish_all(answers, n, true, NULL);
}

static void withhold(void *ctx, void *answers, size_t n)
{
	struct ovl_file_store *s = ctx;
	s->failed = true;
	finish_all(answers, n, false, "the registry could not be written (fdatasync failed)");
}

/* The snapshot compaction writes; expired tokens are dropped here. */
static void snapshot(void *ctx, struct arbor_buf *out)
{
	struct ovl_file_store *s = ctx;
	ovl_registry_prune_tokens(s->reg, (int64_t)arbor_time_wall());
	ovl_registry_write_snapshot(s->reg, out);
}

static int replay_snapshot(void *ctx, const cJSON *data)
{
	char err[256];
	if (data == NULL)
		return 0;
	if (ovl_registry_load_snapshot(ctx, data, err, sizeof err) != 0) {
		log_err("registry.json: %s", err);
		return -EINVAL;
	}
	return 0;
}

static int replay_record(void *ctx, const cJSON *rec)
{
	char err[256];
	if (ovl_registry_apply(ctx, rec, err, sizeof err) != 0) {
		log_err("registry.json.journal: %s", err);
		return -EINVAL;
	}
	return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct ovl_file_store *s = arg;
	arbor_group_commit_flush(s->gc);
}

struct ovl_file_store *ovl_file_store_open(struct event_base *base, const char *dir, struct ovl_registry *reg,
					   char *err, size_t errlen)
{
	struct ovl_file_store *s = xcalloc(1, sizeof *s);
	s->reg = reg;
	struct arbor_journal_replay replay = { replay_snapshot, replay_record, reg };
	if (arbor_journal_open(dir, "registry.json", &replay, &s->journal, err, errlen) != 0) {
		if (strstr(err, "registry") == NULL) {
			char more[256];
			snprintf(more, sizeof more, "%s/registry.json: %s", dir, err);
			snprintf(err, errlen, "%s", more);
		}
		ovl_file_store_close(s);
		return NULL;
	}
	struct arbor_group_commit_def def = {
		.name = "registry journal", .answer_size = sizeof(struct ovl_ticket *), .batch_max = BATCH_MAX,
		.deliver = deliver, .snapshot = snapshot, .withhold = withhold, .ctx = s,
	};
	s->gc = arbor_group_commit_new(base, s->journal, &def);
	arbor_group_commit_compact_after(s->gc, COMPACT_RECORDS);
	/* Start from a snapshot: registry.json then holds every entry (jq reads it). */
	if (arbor_group_commit_compact(s->gc) != 0) {
		snprintf(err, errlen, "%s/registry.json: cannot write a snapshot", dir);
		ovl_file_store_close(s);
		return NULL;
	}
	s->flush_ev = event_new(base, -1, 0, on_flush, s);
	return s;
}

/* One commit per loop turn: the flush runs after the turn's requests. */
static void schedule(struct ovl_file_store *s)
{
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

void ovl_file_store_append(struct ovl_file_store *s, const char *record, size_t len, struct ovl_ticket *t)
{
	arbor_group_commit_record(s->gc, record, len);
	if (t) {
		t->refs++;
		*(struct ovl_ticket **)arbor_group_commit_answer(s->gc) = t;
	}
	schedule(s);
}

struct ovl_ticket *ovl_file_store_barrier(struct ovl_file_store *s, void (*done)(void *, struct ovl_ticket *),
					  void *ctx)
{
	if (arbor_group_commit_idle(s->gc))
		return NULL;
	struct ovl_ticket *t = ovl_ticket_new(done, ctx);
	t->refs++;
	*(struct ovl_ticket **)arbor_group_commit_answer(s->gc) = t;
	schedule(s);
	return t;
}

int ovl_file_store_sync(struct ovl_file_store *s, char *err, size_t errlen)
{
	uint64_t failures = arbor_group_commit_stats(s->gc)->failures;
	arbor_group_commit_drain(s->gc);
	if (arbor_group_commit_stats(s->gc)->failures != failures) {
		snprintf(err, errlen, "the registry journal could not be written (see the log)");
		return -EIO;
	}
	return 0;
}

uint64_t ovl_file_store_commits(const struct ovl_file_store *s)
{
	return arbor_group_commit_stats(s->gc)->commits;
}

bool ovl_file_store_failed(const struct ovl_file_store *s)
{
	return s->failed;
}

void ovl_file_store_close(struct ovl_file_store *s)
{
	if (s == NULL)
		return;
	arbor_group_commit_free(s->gc); /* drains */
	if (s->flush_ev)
		event_free(s->flush_ev);
	arbor_journal_close(s->journal);
	free(s);
}
