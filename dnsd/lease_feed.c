/* Following dhcp4d's leases (lease_feed.h): common/contract_feed.c does the
 * following, lease_set.c holds the leases, and a timer drops each one at its
 * end. */
#include "lease_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "contract_feed.h"
#include "xalloc.h"

struct lease_feed {
	struct contract_feed *feed;
	lease_feed_changed_fn *changed;
	void *ctx;
	struct event *expiry;
	struct lease_set set;
};

/* The set changed (why, or NULL for an expiry that changed nothing): the
 * timer follows the earliest end. */
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

static int on_snapshot(void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct lease_feed *f = ctx;
	return lease_set_load(&f->set, body, len, arbor_time_wall(), err, errlen);
}

static int on_events(void *ctx, const char *body, size_t len, uint64_t *since, bool *changed, char *err, size_t errlen)
{
	struct lease_feed *f = ctx;
	int rc = lease_set_apply_events(&f->set, body, len, since, arbor_time_wall(), changed, err, errlen);
	return rc == LEASE_EVENTS_RESYNC ? CONTRACT_EVENTS_RESYNC : rc;
}

static void on_changed(void *ctx, const char *why)
{
	notify(ctx, why);
}

static const struct contract_feed_ops lease_ops = {
	.what = "dhcp4d's leases",
	.snapshot_path = "/v1/leases?state=bound",
	.snapshot = on_snapshot,
	.events = on_events,
	.changed = on_changed,
};

struct lease_feed *lease_feed_new(struct event_base *base, const char *socket_path, lease_feed_changed_fn *changed,
				  void *ctx)
{
	struct lease_feed *f = xcalloc(1, sizeof *f);
	f->changed = changed;
	f->ctx = ctx;
	f->expiry = evtimer_new(base, on_expiry, f);
	f->feed = contract_feed_new(base, socket_path, &lease_ops, f);
	return f;
}

void lease_feed_free(struct lease_feed *f)
{
	if (f == NULL)
		return;
	contract_feed_free(f->feed);
	event_free(f->expiry);
	lease_set_free(&f->set);
	free(f);
}

void lease_feed_resync(struct lease_feed *f)
{
	contract_feed_resync(f->feed);
}

const struct dhcp_lease *lease_feed_leases(const struct lease_feed *f, size_t *n)
{
	*n = f->set.n;
	return f->set.v;
}

void lease_feed_status(const struct lease_feed *f, cJSON *obj)
{
	contract_feed_status(f->feed, obj, "lease_feed");
}
