/* Following another daemon's state through its contract, on dnsd's loop and
 * without blocking it (common/http_fetch.c over the daemon's Unix socket):
 *
 *   1. GET /v1/status: events.last_seq is the cursor;
 *   2. GET <snapshot path>: the state, replacing what dnsd held;
 *   3. GET /v1/events?since=<cursor>&wait=25: a long-poll, answered as soon as
 *      the daemon emits an event; each answer is applied and the next poll
 *      continues from it at once.
 *
 * The daemon emits its events only after the state they announce is durable,
 * and the snapshot is taken after the cursor, so nothing falls between them.
 * While the daemon cannot be reached, what is held stays until each entry's end
 * (the owner says when that is) and the feed tries again after 0.25 s, doubling
 * to 5 s. dhcp4d's leases (lease_feed.h) and dhcp6pd's prefixes (prefix_feed.h)
 * are the two users: the owner supplies the parsing (pure) through struct
 * contract_feed_ops. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct event_base;
struct contract_feed;

enum contract_feed_events {
	FEED_EVENTS_APPLIED, /* *since moved on; *changed says whether the state did */
	FEED_EVENTS_RESYNC,  /* events were lost, or the daemon restarted or reloaded: start over */
	FEED_EVENTS_RELOAD,  /* *since moved on; read the snapshot again (the events say the state changed) */
};

struct contract_feed_ops {
	const char *what;          /* "dhcp4d's leases", for the log */
	const char *snapshot_path; /* "/v1/leases?state=bound" */
	size_t snapshot_max;       /* bytes */
	/* Replaces the state with a snapshot answer: 0, or -1 with err (state unchanged). */
	int (*load)(void *ctx, const char *body, size_t len, double now, char *err, size_t errlen);
	/* Applies a /v1/events answer: an enum contract_feed_events, or -1 with err. */
	int (*events)(void *ctx, const char *body, size_t len, uint64_t *since, double now, bool *changed, char *err,
		      size_t errlen);
	/* The earliest end of what is held (0: none), and dropping what has ended. */
	double (*next_end)(void *ctx);
	bool (*expire)(void *ctx, double now);
	size_t (*count)(void *ctx); /* entries held, for the log */
};

/* Called from the loop when the state changed (why: for the zone.updated event). */
typedef void contract_feed_changed_fn(void *ctx, const char *why);

/* Follows the daemon at socket_path (NULL: none; nothing happens). ops_ctx is the
 * state the ops work on. */
struct contract_feed *contract_feed_new(struct event_base *base, const char *socket_path,
					const struct contract_feed_ops *ops, void *ops_ctx,
					contract_feed_changed_fn *changed, void *ctx);
void contract_feed_free(struct contract_feed *f);
/* Starts over at step 1 now. */
void contract_feed_resync(struct contract_feed *f);
/* Adds name: {socket, state, last_error, snapshots, events_applied, failures}. */
void contract_feed_status(const struct contract_feed *f, const char *name, cJSON *obj);
