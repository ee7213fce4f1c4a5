/* dhcp4d's committed leases, followed through its contract on dnsd's loop
 * without blocking it (common/http_fetch.c over dhcp4d's Unix socket):
 *
 *   1. GET /v1/status: events.last_seq is the cursor;
 *   2. GET /v1/leases?state=bound: the snapshot, replacing what dnsd held;
 *   3. GET /v1/events?since=<cursor>&wait=25: a long-poll, answered as soon as
 *      dhcp4d emits an event; each answer is applied (lease_set.h) and the next
 *      poll continues from it at once.
 *
 * Events are read whatever their type so that a gap (dhcp4d keeps only its
 * newest control.events.memory events), a restart or a reload is seen, and any
 * of those starts again at 1. While dhcp4d cannot be reached, dnsd keeps the
 * leases it has until each one's end (they were committed, and the clients keep
 * their addresses that long) and tries again after 0.25 s, doubling to 5 s. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lease_set.h"

struct event_base;
struct lease_feed;

/* Called from the loop when the set of leases changed (why: for the zone.updated
 * event). */
typedef void lease_feed_changed_fn(void *ctx, const char *why);

/* Follows dhcp4d at socket_path (NULL: no dhcp4d, no leases). */
struct lease_feed *lease_feed_new(struct event_base *base, const char *socket_path, lease_feed_changed_fn *changed,
				  void *ctx);
void lease_feed_free(struct lease_feed *f);
/* Starts over at step 1 now (the renew command). */
void lease_feed_resync(struct lease_feed *f);

const struct dhcp_lease *lease_feed_leases(const struct lease_feed *f, size_t *n);

/* Adds "lease_feed": {socket, state, last_error, snapshots, events_applied}. */
void lease_feed_status(const struct lease_feed *f, cJSON *obj);
