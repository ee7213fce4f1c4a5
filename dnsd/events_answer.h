/* A daemon's /v1/events answer ({"events":[{seq,type,data...}],"next":N}) as a
 * follower of its contract reads it (contract_feed.h): whether it continues the
 * cursor without a gap, and whether the daemon started again or reloaded since,
 * in which case what the follower holds must be read again whole. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct events_answer {
	cJSON *doc;
	const cJSON *events; /* the array, in order */
	uint64_t next;       /* the cursor after these events */
};

enum { EVENTS_ANSWER_APPLY = 0, EVENTS_ANSWER_RESYNC = 1 };

/* Parses an answer that follows since. EVENTS_ANSWER_APPLY: walk a->events, then
 * a->next is the cursor. EVENTS_ANSWER_RESYNC: events after since were lost (the
 * daemon keeps a bounded number), or a daemon.started or config.reloaded is among
 * them. -EBADMSG with err when it is not such an answer. a->doc is set with
 * EVENTS_ANSWER_APPLY (free it with events_answer_free) and NULL otherwise. */
int events_answer_parse(struct events_answer *a, const char *json, size_t len, uint64_t since, char *err,
			size_t errlen);
void events_answer_free(struct events_answer *a);
/* An event's type ("lease.bound"), or NULL. */
const char *events_answer_type(const cJSON *event);
