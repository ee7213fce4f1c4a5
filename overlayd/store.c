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
#include "syncer.h"
#include "xalloc.h"

/* Compact once the journal holds this many records. */
enum { COMPACT_RECORDS = 4096 };

struct ticket_list {
	struct ovl_ticket **v;
	size_t n, cap;
};

struct ovl_file_store {
	struct event_base *base;
	struct ovl_registry *reg;
	struct arbor_journal *journal;
	struct arbor_syncer *syncer;
	struct event *flush_ev;
	struct ticket_list pending, inflight;
	size_t since_compaction;
	uint64_t commits;
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

static void list_add(struct ticket_list *l, struct ovl_ticket *t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	t->refs++;
	l->v[l->n++] = t;
}

static void list_finish(struct ticket_list *l, bool ok, const char *error)
{
	for (size_t i = 0; i < l->n; i++) {
		ovl_ticket_finish(l->v[i], ok, error);
		ovl_ticket_put(l->v[i]);
	}
	l->n = 0;
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

/* A fresh snapshot of the registry replaces snapshot and journal. Expired
 * tokens are dropped here. */
static int compact(struct ovl_file_store *s, char *err, size_t errlen)
{
	ovl_registry_prune_tokens(s->reg, (int64_t)arbor_time_wall());
	struct arbor_buf text = { 0 };
	ovl_registry_write_snapshot(s->reg, &text);
	int rc = arbor_journal_compact_text(s->journal, text.data, text.len, err, errlen);
	arbor_buf_free(&text);
	if (rc == 0)
		s->since_compaction = 0;
	malloc_trim(0);
	return rc;
}

static void flush(struct ovl_file_store *s);

static void on_synced(void *ctx, int rc)
{
	struct ovl_file_store *s = ctx;
	if (rc != 0) {
		char why[160];
		snprintf(why, sizeof why, "the registry could not be written: fdatasync: %s", strerror(-rc));
		log_err("%s", why);
		s->failed = true;
		list_finish(&s->inflight, false, why);
	} else {
		s->commits++;
		list_finish(&s->inflight, true, NULL);
	}
	if (s->since_compaction >= COMPACT_RECORDS) {
		char err[256];
		if (compact(s, err, sizeof err) != 0)
			log_err("registry compaction: %s", err);
	}
	flush(s);
}

/* Writes what is queued and starts its sync, unless one is running (then the
 * queue waits for it: the next commit carries everything that came meanwhile). */
static void flush(struct ovl_file_store *s)
{
	if (arbor_syncer_busy(s->syncer) || (s->pending.n == 0 && arbor_journal_pending(s->journal) == 0))
		return;
	char err[256];
	if (arbor_journal_write(s->journal, err, sizeof err) != 0) {
		log_err("registry journal: %s", err);
		s->failed = true;
		list_finish(&s->pending, false, err);
		return;
	}
	struct ticket_list t = s->inflight;
	s->inflight = s->pending;
	s->pending = t;
	s->pending.n = 0;
	arbor_syncer_start(s->syncer, arbor_journal_fd(s->journal), on_synced, s);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

struct ovl_file_store *ovl_file_store_open(struct event_base *base, const char *dir, struct ovl_registry *reg,
					   char *err, size_t errlen)
{
	struct ovl_file_store *s = xcalloc(1, sizeof *s);
	s->base = base;
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
	/* Start from a snapshot: registry.json then holds every entry (jq reads it). */
	if (compact(s, err, errlen) != 0) {
		ovl_file_store_close(s);
		return NULL;
	}
	s->syncer = arbor_syncer_new(base, err, errlen);
	if (s->syncer == NULL) {
		ovl_file_store_close(s);
		return NULL;
	}
	s->flush_ev = event_new(base, -1, 0, on_flush, s);
	return s;
}

void ovl_file_store_append(struct ovl_file_store *s, const char *record, size_t len, struct ovl_ticket *t)
{
	arbor_journal_append_text(s->journal, record, len);
	s->since_compaction++;
	if (t)
		list_add(&s->pending, t);
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

struct ovl_ticket *ovl_file_store_barrier(struct ovl_file_store *s, void (*done)(void *, struct ovl_ticket *),
					  void *ctx)
{
	if (s->pending.n == 0 && s->inflight.n == 0 && arbor_journal_pending(s->journal) == 0)
		return NULL;
	struct ovl_ticket *t = ovl_ticket_new(done, ctx);
	list_add(arbor_journal_pending(s->journal) || s->pending.n ? &s->pending : &s->inflight, t);
	event_active(s->flush_ev, EV_TIMEOUT, 0);
	return t;
}

int ovl_file_store_sync(struct ovl_file_store *s, char *err, size_t errlen)
{
	while (arbor_syncer_busy(s->syncer))
		arbor_syncer_wait(s->syncer);
	int rc = arbor_journal_commit(s->journal, err, errlen);
	if (rc == 0) {
		s->commits++;
		list_finish(&s->pending, true, NULL);
	} else {
		s->failed = true;
		list_finish(&s->pending, false, err);
	}
	return rc;
}

uint64_t ovl_file_store_commits(const struct ovl_file_store *s)
{
	return s->commits;
}

bool ovl_file_store_failed(const struct ovl_file_store *s)
{
	return s->failed;
}

void ovl_file_store_close(struct ovl_file_store *s)
{
	if (s == NULL)
		return;
	if (s->syncer) {
		char err[256];
		if (s->journal && ovl_file_store_sync(s, err, sizeof err) != 0)
			log_err("registry journal: %s", err);
		arbor_syncer_free(s->syncer);
	}
	list_finish(&s->pending, false, "stopping");
	list_finish(&s->inflight, false, "stopping");
	free(s->pending.v);
	free(s->inflight.v);
	if (s->flush_ev)
		event_free(s->flush_ev);
	arbor_journal_close(s->journal);
	free(s);
}
