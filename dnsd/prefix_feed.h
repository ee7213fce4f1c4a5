/* dhcp6pd's prefixes (prefix_set.h), followed through its contract on dnsd's
 * loop (contract_feed.h): GET /v1/status for the cursor, GET /v1/prefixes, then
 * the events, the snapshot read again after each prefix.* event. While dhcp6pd
 * cannot be reached, the prefixes stay until their valid lifetimes end (the
 * LANs' hosts keep their addresses that long) and the feed tries again. */
#pragma once
#include <cjson/cJSON.h>

#include "contract_feed.h"
#include "prefix_set.h"

struct event_base;
struct prefix_feed;

/* Follows dhcp6pd at socket_path (NULL: no dhcp6pd, no prefixes). */
struct prefix_feed *prefix_feed_new(struct event_base *base, const char *socket_path,
				    contract_feed_changed_fn *changed, void *ctx);
void prefix_feed_free(struct prefix_feed *f);
/* Starts over now (the renew command). */
void prefix_feed_resync(struct prefix_feed *f);
const struct prefix_set *prefix_feed_prefixes(const struct prefix_feed *f);
/* Adds "prefix_feed": {socket, state, last_error, snapshots, events_applied, failures}. */
void prefix_feed_status(const struct prefix_feed *f, cJSON *obj);
