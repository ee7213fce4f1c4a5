/* Following dhcp4d's leases (lease_feed.h): common/contract_feed.c does the
 * following (and drops each lease at its end), lease_set.c holds the leases. */
#include "lease_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "clock.h"
#include "contract_feed.h"
#include "xalloc.h"

struct lease_feed {
	struct contract_feed *feed;
	lease_feed_changed_fn *changed;
	void *ctx;
	struct lease_set set;
};

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
	struct lease_feed *f = ctx;
	f->changed(f->ctx, why);
}

static double next_end(void *ctx)
{
	return lease_set_next_end(&((struct lease_feed *)ctx)->set);
}

static bool expire(void *ctx, double now)
{
	return lease_set_expire(&((struct lease_feed *)ctx)->set, now);
}

static const struct contract_feed_ops lease_ops = {
	.what = "dhcp4d's leases",
	.snapshot_path = "/v1/leases?state=bound",
	.snapshot = on_snapshot,
	.events = on_events,
	.changed = on_changed,
	.next_end = next_end,
	.expire = expire,
};

struct lease_feed *lease_feed_new(struct event_base *base, const char *socket_path, lease_feed_changed_fn *changed,
				  void *ctx)
{
	struct lease_feed *f = xcalloc(1, sizeof *f);
	f->changed = changed;
	f->ctx = ctx;
	f->feed = contract_feed_new(base, socket_path, &lease_ops, f);
	return f;
}

void lease_feed_free(struct lease_feed *f)
{
	if (f == NULL)
		return;
	contract_feed_free(f->feed);
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
