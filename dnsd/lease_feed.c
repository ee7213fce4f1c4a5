/* Following dhcp4d's leases (lease_feed.h). One fetch at a time; every step
 * ends in its done callback, which starts the next step or the retry timer. */
#include "lease_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "http_fetch.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#define POLL_WAIT_S 25     /* the long-poll's wait= */
#define EVENTS_PER_POLL 1000
#define RETRY_FIRST_S 0.25
#define RETRY_MAX_S 5.0

enum feed_state { FEED_OFF, FEED_CURSOR, FEED_SNAPSHOT, FEED_FOLLOW, FEED_RETRY };

static const char *const state_names[] = { "off", "reading the event cursor", "reading the leases", "following",
					   "waiting to retry" };

struct lease_feed {
	struct event_base *base;
	char *socket;
	lease_feed_changed_fn *changed;
	void *ctx;
	enum feed_state state;
	struct arbor_fetch *fetch;
	struct event *retry, *expiry;
	double retry_s;
	uint64_t since;
	struct lease_set set;
	bool was_down; /* a failure was logged: log the recovery */
	char last_error[256];
	uint64_t snapshots, events_applied, failures;
};

static void step(struct lease_feed *f, enum feed_state s);

static void notify(struct lease_feed *f, const char *why)
{
	double next = lease_set_next_end(&f->set);
	event_del(f->expiry);
	if (next > 0) {
		double in = next - arbor_time_wall();
		if (in < 0)
			in = 0;
		struct timeval tv = { (time_t)in, (suseconds_t)((in - (double)(time_t)in) * 1e6) + 1000 };
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec++;
			tv.tv_usec -= 1000000;
		}
		event_add(f->expiry, &tv);
	}
	if (why)
		f->changed(f->ctx, why);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct lease_feed *f = arg;
	notify(f, lease_set_expire(&f->set, arbor_time_wall()) ? "a lease ended" : NULL);
}

/* why: what was wrong with a complete 200 answer (NULL: look at res). */
static void failed(struct lease_feed *f, const char *what, const struct arbor_fetch_result *res, const char *why)
{
	if (!res->ok)
		snprintf(f->last_error, sizeof f->last_error, "%s: %s", what, res->error);
	else if (res->status != 200)
		snprintf(f->last_error, sizeof f->last_error, "%s: HTTP %d", what, res->status);
	else
		snprintf(f->last_error, sizeof f->last_error, "%s: %s", what, why);
	f->failures++;
	if (!f->was_down)
		log_warn("dhcp4d's leases: %s; keeping %zu leases until they end, retrying", f->last_error, f->set.n);
	f->was_down = true;
	step(f, FEED_RETRY);
}

static void on_cursor(void *ctx, const struct arbor_fetch_result *res)
{
	struct lease_feed *f = ctx;
	f->fetch = NULL;
	cJSON *doc = res->ok && res->status == 200 ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "events"), "last_seq");
	bool ok = cJSON_IsNumber(seq) && seq->valuedouble >= 0;
	if (ok)
		f->since = (uint64_t)seq->valuedouble;
	cJSON_Delete(doc);
	if (!ok) {
		failed(f, "GET /v1/status", res, "no events.last_seq");
		return;
	}
	step(f, FEED_SNAPSHOT);
}

static void on_snapshot(void *ctx, const struct arbor_fetch_result *res)
{
	struct lease_feed *f = ctx;
	f->fetch = NULL;
	char err[200] = "";
	if (!res->ok || res->status != 200 ||
	    lease_set_load(&f->set, res->body, res->body_len, arbor_time_wall(), err, sizeof err) < 0) {
		failed(f, "GET /v1/leases", res, err);
		return;
	}
	f->snapshots++;
	if (f->was_down)
		log_info("dhcp4d's leases: %zu, in step again", f->set.n);
	f->was_down = false;
	f->last_error[0] = '\0';
	f->retry_s = RETRY_FIRST_S;
	notify(f, "leases read from dhcp4d");
	step(f, FEED_FOLLOW);
}

static void on_events(void *ctx, const struct arbor_fetch_result *res)
{
	struct lease_feed *f = ctx;
	f->fetch = NULL;
	char err[200] = "";
	bool changed = false;
	uint64_t before = f->since;
	int rc = res->ok && res->status == 200
			 ? lease_set_apply_events(&f->set, res->body, res->body_len, &f->since, arbor_time_wall(),
						  &changed, err, sizeof err)
			 : -1;
	if (rc < 0) {
		failed(f, "GET /v1/events", res, err);
		return;
	}
	if (rc == LEASE_EVENTS_RESYNC) {
		log_info("dhcp4d's events after seq %llu: lost, or dhcp4d restarted or reloaded; reading its leases again",
			 (unsigned long long)before);
		step(f, FEED_CURSOR);
		return;
	}
	f->events_applied += f->since - before;
	if (changed)
		notify(f, "leases changed");
	step(f, FEED_FOLLOW);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	step(arg, FEED_CURSOR);
}

static void get(struct lease_feed *f, const char *path, double timeout, size_t max_body, arbor_fetch_done_fn done)
{
	struct arbor_fetch_request req = { .unix_path = f->socket, .path = path, .timeout_s = timeout,
					   .max_body = max_body };
	f->fetch = arbor_fetch_start(f->base, &req, done, f);
}

static void step(struct lease_feed *f, enum feed_state s)
{
	f->state = s;
	char path[128];
	switch (s) {
	case FEED_OFF: break;
	case FEED_CURSOR: get(f, "/v1/status", 10, 0, on_cursor); break;
	case FEED_SNAPSHOT: get(f, "/v1/leases?state=bound", 60, 256u << 20, on_snapshot); break;
	case FEED_FOLLOW:
		snprintf(path, sizeof path, "/v1/events?since=%llu&limit=%d&wait=%d", (unsigned long long)f->since,
			 EVENTS_PER_POLL, POLL_WAIT_S);
		get(f, path, POLL_WAIT_S + 15, 16u << 20, on_events);
		break;
	case FEED_RETRY: {
		struct timeval tv = { (time_t)f->retry_s, (suseconds_t)((f->retry_s - (double)(time_t)f->retry_s) * 1e6) };
		event_add(f->retry, &tv);
		f->retry_s = f->retry_s * 2 < RETRY_MAX_S ? f->retry_s * 2 : RETRY_MAX_S;
		break;
	}
	}
}

struct lease_feed *lease_feed_new(struct event_base *base, const char *socket_path, lease_feed_changed_fn *changed,
				  void *ctx)
{
	struct lease_feed *f = xcalloc(1, sizeof *f);
	f->base = base;
	f->changed = changed;
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

void lease_feed_free(struct lease_feed *f)
{
	if (f == NULL)
		return;
	arbor_fetch_cancel(f->fetch);
	event_free(f->retry);
	event_free(f->expiry);
	lease_set_free(&f->set);
	free(f->socket);
	free(f);
}

void lease_feed_resync(struct lease_feed *f)
{
	if (f->socket == NULL)
		return;
	arbor_fetch_cancel(f->fetch);
	f->fetch = NULL;
	event_del(f->retry);
	step(f, FEED_CURSOR);
}

const struct dhcp_lease *lease_feed_leases(const struct lease_feed *f, size_t *n)
{
	*n = f->set.n;
	return f->set.v;
}

void lease_feed_status(const struct lease_feed *f, cJSON *obj)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "lease_feed");
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
