/* Following another daemon through its contract (contract_feed.h). One fetch
 * at a time; every step ends in its done callback, which starts the next step
 * or the retry timer. */
#include "contract_feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "http_fetch.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#define POLL_WAIT_S 25 /* the long-poll's wait= */
#define EVENTS_PER_POLL 1000
#define RETRY_FIRST_S 0.25
#define RETRY_MAX_S 5.0

static const char *string_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int contract_events_walk(const char *json, size_t len, uint64_t *since,
			 bool (*apply)(void *ctx, const char *type, const cJSON *data), void *ctx, bool *changed,
			 char *err, size_t errlen)
{
	*changed = false;
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(doc, "next");
	const cJSON *e;
	uint64_t next_seq = 0; /* whole numbers only: a double past 2^64 is no seq (fuzz_dnsd_feeds) */
	bool ok = cJSON_IsArray(events) && arbor_json_get_u53(next, &next_seq) && next_seq >= *since;
	/* First check that the answer continues *since without a gap: every event is
	 * in order, the first one right after *since. */
	uint64_t expect = *since + 1;
	bool resync = false;
	const cJSON *list = ok ? events : NULL;
	cJSON_ArrayForEach(e, list)
	{
		uint64_t seq;
		const char *type = string_of(e, "type");
		if (!arbor_json_get_u53(cJSON_GetObjectItemCaseSensitive(e, "seq"), &seq) || type == NULL || seq < expect) {
			ok = false;
			break;
		}
		if (seq > expect)
			resync = true; /* events between were lost (a daemon keeps a bounded number) */
		if (strcmp(type, "daemon.started") == 0 || strcmp(type, "config.reloaded") == 0)
			resync = true; /* a new process, or a reload that may have dropped state */
		expect = seq + 1;
	}
	if (!ok) {
		snprintf(err, errlen, "the events answer is not {\"events\":[...],\"next\":N} following seq %llu",
			 (unsigned long long)*since);
		cJSON_Delete(doc);
		return -EBADMSG;
	}
	if (resync) {
		cJSON_Delete(doc);
		return CONTRACT_EVENTS_RESYNC;
	}
	cJSON_ArrayForEach(e, events)
		*changed |= apply(ctx, string_of(e, "type"), cJSON_GetObjectItemCaseSensitive(e, "data"));
	*since = next_seq > expect - 1 ? next_seq : expect - 1;
	cJSON_Delete(doc);
	return CONTRACT_EVENTS_APPLIED;
}

enum feed_state { FEED_OFF, FEED_CURSOR, FEED_SNAPSHOT, FEED_FOLLOW, FEED_RETRY };

static const char *const state_names[] = { "off", "reading the event cursor", "reading the snapshot", "following",
					   "waiting to retry" };

struct contract_feed {
	struct event_base *base;
	char *socket;
	const struct contract_feed_ops *ops;
	void *ctx;
	enum feed_state state;
	struct arbor_fetch *fetch;
	struct event *retry, *expiry;
	double retry_s;
	uint64_t since;
	bool was_down; /* a failure was logged: log the recovery */
	char last_error[256];
	uint64_t snapshots, events_applied, failures;
};

static void step(struct contract_feed *f, enum feed_state s);

/* The state changed: tell the owner, and follow the earliest end. */
static void state_changed(struct contract_feed *f, const char *why)
{
	if (f->ops->next_end) {
		double next = f->ops->next_end(f->ctx);
		event_del(f->expiry);
		if (next > 0) {
			struct timeval tv = arbor_timeval(next - arbor_time_wall() + 0.001);
			event_add(f->expiry, &tv);
		}
	}
	if (why)
		f->ops->changed(f->ctx, why);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct contract_feed *f = arg;
	char why[128];
	snprintf(why, sizeof why, "%s: an entry ended", f->ops->what);
	state_changed(f, f->ops->expire(f->ctx, arbor_time_wall()) ? why : NULL);
}

/* why: what was wrong with a complete 200 answer (NULL: look at res). */
static void failed(struct contract_feed *f, const char *what, const struct arbor_fetch_result *res, const char *why)
{
	if (!res->ok)
		snprintf(f->last_error, sizeof f->last_error, "%s: %s", what, res->error);
	else if (res->status != 200)
		snprintf(f->last_error, sizeof f->last_error, "%s: HTTP %d", what, res->status);
	else
		snprintf(f->last_error, sizeof f->last_error, "%s: %s", what, why);
	f->failures++;
	if (!f->was_down)
		log_warn("%s: %s; keeping what we have, retrying", f->ops->what, f->last_error);
	f->was_down = true;
	step(f, FEED_RETRY);
}

static void on_cursor(void *ctx, const struct arbor_fetch_result *res)
{
	struct contract_feed *f = ctx;
	f->fetch = NULL;
	cJSON *doc = res->ok && res->status == 200 ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "events"), "last_seq");
	bool ok = arbor_json_get_u53(seq, &f->since);
	cJSON_Delete(doc);
	if (!ok) {
		failed(f, "GET /v1/status", res, "no events.last_seq");
		return;
	}
	step(f, FEED_SNAPSHOT);
}

static void on_snapshot(void *ctx, const struct arbor_fetch_result *res)
{
	struct contract_feed *f = ctx;
	f->fetch = NULL;
	char err[200] = "";
	if (!res->ok || res->status != 200 || f->ops->snapshot(f->ctx, res->body, res->body_len, err, sizeof err) < 0) {
		failed(f, f->ops->snapshot_path, res, err);
		return;
	}
	f->snapshots++;
	if (f->was_down)
		log_info("%s: in step again", f->ops->what);
	f->was_down = false;
	f->last_error[0] = '\0';
	f->retry_s = RETRY_FIRST_S;
	char why[128];
	snprintf(why, sizeof why, "%s read", f->ops->what);
	state_changed(f, why);
	step(f, FEED_FOLLOW);
}

static void on_events(void *ctx, const struct arbor_fetch_result *res)
{
	struct contract_feed *f = ctx;
	f->fetch = NULL;
	char err[200] = "";
	bool changed = false;
	uint64_t before = f->since;
	int rc = res->ok && res->status == 200
			 ? f->ops->events(f->ctx, res->body, res->body_len, &f->since, &changed, err, sizeof err)
			 : -1;
	if (rc < 0) {
		failed(f, "GET /v1/events", res, err);
		return;
	}
	if (rc == CONTRACT_EVENTS_RESYNC) {
		log_info("%s: the events after seq %llu were lost, or the daemon restarted or reloaded; reading again",
			 f->ops->what, (unsigned long long)before);
		step(f, FEED_CURSOR);
		return;
	}
	f->events_applied += f->since - before;
	if (changed) {
		char why[128];
		snprintf(why, sizeof why, "%s changed", f->ops->what);
		state_changed(f, why);
	}
	step(f, FEED_FOLLOW);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	step(arg, FEED_CURSOR);
}

static void get(struct contract_feed *f, const char *path, double timeout, size_t max_body, arbor_fetch_done_fn done)
{
	struct arbor_fetch_request req = { .unix_path = f->socket, .path = path, .timeout_s = timeout,
					   .max_body = max_body };
	f->fetch = arbor_fetch_start(f->base, &req, done, f);
}

static void step(struct contract_feed *f, enum feed_state s)
{
	f->state = s;
	char path[128];
	switch (s) {
	case FEED_OFF: break;
	case FEED_CURSOR: get(f, "/v1/status", 10, 0, on_cursor); break;
	case FEED_SNAPSHOT: get(f, f->ops->snapshot_path, 60, 256u << 20, on_snapshot); break;
	case FEED_FOLLOW:
		snprintf(path, sizeof path, "/v1/events?since=%llu&limit=%d&wait=%d", (unsigned long long)f->since,
			 EVENTS_PER_POLL, POLL_WAIT_S);
		get(f, path, POLL_WAIT_S + 15, 16u << 20, on_events);
		break;
	case FEED_RETRY: {
		struct timeval tv = arbor_timeval(f->retry_s);
		event_add(f->retry, &tv);
		f->retry_s = f->retry_s * 2 < RETRY_MAX_S ? f->retry_s * 2 : RETRY_MAX_S;
		break;
	}
	}
}

struct contract_feed *contract_feed_new(struct event_base *base, const char *socket_path,
					const struct contract_feed_ops *ops, void *ctx)
{
	struct contract_feed *f = xcalloc(1, sizeof *f);
	f->base = base;
	f->ops = ops;
	f->ctx = ctx;
	f->retry_s = RETRY_FIRST_S;
	f->retry = evtimer_new(base, on_retry, f);
	f->expiry = evtimer_new(base, on_expiry, f);
	if (socket_path == NULL)
		return f;
	f->socket = xstrdup(socket_path);
	step(f, FEED_CURSOR);
	return f;
}

void contract_feed_free(struct contract_feed *f)
{
	if (f == NULL)
		return;
	arbor_fetch_cancel(f->fetch);
	event_free(f->retry);
	event_free(f->expiry);
	free(f->socket);
	free(f);
}

void contract_feed_resync(struct contract_feed *f)
{
	if (f->socket == NULL)
		return;
	arbor_fetch_cancel(f->fetch);
	f->fetch = NULL;
	event_del(f->retry);
	step(f, FEED_CURSOR);
}

void contract_feed_status(const struct contract_feed *f, cJSON *obj, const char *key)
{
	cJSON *o = cJSON_AddObjectToObject(obj, key);
	if (f->socket)
		cJSON_AddStringToObject(o, "socket", f->socket);
	else
		cJSON_AddNullToObject(o, "socket");
	cJSON_AddStringToObject(o, "state", state_names[f->state]);
	if (f->last_error[0])
		cJSON_AddStringToObject(o, "last_error", f->last_error);
	arbor_json_add_int(o, "snapshots", (long long)f->snapshots);
	arbor_json_add_int(o, "events_applied", (long long)f->events_applied);
	arbor_json_add_int(o, "failures", (long long)f->failures);
}
