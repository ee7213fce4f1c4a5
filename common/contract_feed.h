/* Following another daemon's state through its contract, on the loop without
 * blocking it (http_fetch.h over the daemon's Unix socket):
 *
 *   1. GET /v1/status: events.last_seq is the cursor;
 *   2. GET <snapshot path>: the state, replacing what the follower held;
 *   3. GET /v1/events?since=<cursor>&wait=25: a long-poll, answered as soon as
 *      the daemon emits an event; each answer is applied in order and the next
 *      poll continues from it at once.
 *
 * Events are read whatever their type, so a gap (a daemon keeps only its newest
 * control.events.memory events), a restart (daemon.started) or a reload
 * (config.reloaded) is seen, and any of those starts again at 1; the snapshot
 * comes after the cursor, so replaying events it already holds must be
 * idempotent. While the daemon cannot be reached the follower keeps what it
 * has and tries again after 0.25 s, doubling to 5 s. dnsd follows dhcp4d's
 * leases and wgd's peers this way. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct event_base;
struct contract_feed;

enum contract_events_result {
	CONTRACT_EVENTS_APPLIED, /* *since moved on; *changed says whether the state did */
	CONTRACT_EVENTS_RESYNC,  /* a gap, a restart or a reload: take a new snapshot */
};

/* Pure: checks that an events answer ({"events":[...],"next":N}) continues
 * *since with no gap, restart or reload, then calls apply for each event in
 * order (true: the state changed). Returns an enum contract_events_result, or
 * -EBADMSG with err (nothing applied). */
int contract_events_walk(const char *json, size_t len, uint64_t *since,
			 bool (*apply)(void *ctx, const char *type, const cJSON *data), void *ctx, bool *changed,
			 char *err, size_t errlen);

struct contract_feed_ops {
	const char *what;          /* "dhcp4d's leases": for the log */
	const char *snapshot_path; /* "/v1/leases?state=bound" */
	/* Replaces the state with a snapshot answer. 0, or < 0 with err (the state
	 * is then unchanged). */
	int (*snapshot)(void *ctx, const char *body, size_t len, char *err, size_t errlen);
	/* Applies an events answer following *since: an enum contract_events_result
	 * or < 0 with err. */
	int (*events)(void *ctx, const char *body, size_t len, uint64_t *since, bool *changed, char *err, size_t errlen);
	/* The state changed (a snapshot, or events that changed it). */
	void (*changed)(void *ctx, const char *why);
};

/* Follows the daemon at socket_path (NULL: nothing to follow). ops must outlive it. */
struct contract_feed *contract_feed_new(struct event_base *base, const char *socket_path,
					const struct contract_feed_ops *ops, void *ctx);
void contract_feed_free(struct contract_feed *f);
/* Starts over at step 1 now. */
void contract_feed_resync(struct contract_feed *f);
/* Adds key: {socket, state, last_error, snapshots, events_applied, failures}. */
void contract_feed_status(const struct contract_feed *f, cJSON *obj, const char *key);
