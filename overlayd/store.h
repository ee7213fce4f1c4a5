/* The registry's file backend: <state-dir>/registry.json (a snapshot) and
 * registry.json.journal (the records since), common/journal.c underneath.
 * Records are applied to the registry by the caller and appended here; a
 * ticket says when what was appended is on disk. Commits are grouped: the
 * records of one loop turn, and all that arrive while a sync runs on the
 * worker (common/syncer.c), share one fdatasync. A join is answered only when
 * its ticket is done. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "registry.h"

enum ovl_ticket_state { OVL_TICKET_PENDING, OVL_TICKET_DONE, OVL_TICKET_FAILED };

/* Shared by the store and whoever waits on it; freed when both let go. */
struct ovl_ticket {
	enum ovl_ticket_state state;
	int refs;
	char error[320];
	/* A shared registry (store_etcd.c) decides a join when it can claim it:
	 * the decision it made, the answer built from it, or the refusal. */
	struct ovl_join_decision decision;
	struct arbor_buf answer;
	int status;       /* FAILED: the HTTP status (0: 503) */
	const char *code; /* FAILED: the error code (NULL: "registry_unavailable") */
	/* Called once when the state leaves PENDING (events go out here). */
	void (*done)(void *ctx, struct ovl_ticket *t);
	void *ctx;
};

struct ovl_ticket *ovl_ticket_new(void (*done)(void *, struct ovl_ticket *), void *ctx);
void ovl_ticket_put(struct ovl_ticket *t);
/* Sets the outcome and runs done (the store and store_etcd.c use it). */
void ovl_ticket_finish(struct ovl_ticket *t, bool ok, const char *error);

struct ovl_file_store;

/* Opens the files and replays them into reg (which must be empty). Nothing
 * may be half loaded: a damaged file is an error. */
struct ovl_file_store *ovl_file_store_open(struct event_base *base, const char *dir, struct ovl_registry *reg,
					   char *err, size_t errlen);
/* Queues a record already applied to the registry; t (may be NULL) is done when
 * it is durable. A commit is scheduled on the loop. */
void ovl_file_store_append(struct ovl_file_store *s, const char *record, size_t len, struct ovl_ticket *t);
/* A ticket done once everything appended so far is durable, or NULL when it
 * is already. */
struct ovl_ticket *ovl_file_store_barrier(struct ovl_file_store *s, void (*done)(void *, struct ovl_ticket *),
					  void *ctx);
/* Commits everything now, blocking (commands, stop). 0 or -errno. */
int ovl_file_store_sync(struct ovl_file_store *s, char *err, size_t errlen);
uint64_t ovl_file_store_commits(const struct ovl_file_store *s);
bool ovl_file_store_failed(const struct ovl_file_store *s);
void ovl_file_store_close(struct ovl_file_store *s);
