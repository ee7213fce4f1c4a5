/* Following dhcp4d's leases (lease_feed.h): contract_feed.c does the fetching,
 * lease_set.c the parsing. */
#include "lease_feed.h"

#include <stdlib.h>

#include "contract_feed.h"
#include "xalloc.h"

struct lease_feed {
	struct lease_set set;
	struct contract_feed *feed;
};

static int load(void *ctx, const char *body, size_t len, double now, char *err, size_t errlen)
{
	return lease_set_load(ctx, body, len, now, err, errlen) < 0 ? -1 : 0;
}

static int events(void *ctx, const char *body, size_t len, uint64_t *since, double now, bool *changed, char *err,
		  size_t errlen)
{
	int rc = lease_set_apply_events(ctx, body, len, since, now, changed, err, errlen);
	return rc < 0 ? -1 : rc == LEASE_EVENTS_RESYNC ? FEED_EVENTS_RESYNC : FEED_EVENTS_APPLIED;
}

static double next_end(void *ctx)
{
	return lease_set_next_end(ctx);
}

static bool expire(void *ctx, double now)
{
	return lease_set_expire(ctx, now);
}

static size_t count(void *ctx)
{
	return ((struct lease_set *)ctx)->n;
}

static const struct contract_feed_ops ops = {
	.what = "dhcp4d's leases",
	.snapshot_path = "/v1/leases?state=bound",
	.snapshot_max = 256u << 20,
	.load = load,
	.events = events,
	.next_end = next_end,
	.expire = expire,
	.count = count,
};

struct lease_feed *lease_feed_new(struct event_base *base, const char *socket_path, lease_feed_changed_fn *changed,
				  void *ctx)
{
	struct lease_feed *f = xcalloc(1, sizeof *f);
	f->feed = contract_feed_new(base, socket_path, &ops, &f->set, changed, ctx);
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
	contract_feed_status(f->feed, "lease_feed", obj);
}
