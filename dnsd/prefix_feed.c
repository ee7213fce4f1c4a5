/* Following dhcp6pd's prefixes (prefix_feed.h): contract_feed.c does the
 * fetching, prefix_set.c the parsing. */
#include "prefix_feed.h"

#include <stdlib.h>

#include "xalloc.h"

struct prefix_feed {
	struct prefix_set set;
	struct contract_feed *feed;
};

static int load(void *ctx, const char *body, size_t len, double now, char *err, size_t errlen)
{
	return prefix_set_load(ctx, body, len, now, err, errlen) < 0 ? -1 : 0;
}

static int events(void *ctx, const char *body, size_t len, uint64_t *since, double now, bool *changed, char *err,
		  size_t errlen)
{
	(void)ctx;
	(void)now;
	*changed = false;
	int rc = prefix_set_apply_events(body, len, since, err, errlen);
	return rc < 0 ? -1
	       : rc == PREFIX_EVENTS_RESYNC ? FEED_EVENTS_RESYNC
	       : rc == PREFIX_EVENTS_RELOAD ? FEED_EVENTS_RELOAD
					    : FEED_EVENTS_APPLIED;
}

static double next_end(void *ctx)
{
	return prefix_set_next_end(ctx);
}

static bool expire(void *ctx, double now)
{
	return prefix_set_expire(ctx, now);
}

static size_t count(void *ctx)
{
	const struct prefix_set *s = ctx;
	return s->nlans + s->ndelegations;
}

static const struct contract_feed_ops ops = {
	.what = "dhcp6pd's prefixes",
	.snapshot_path = "/v1/prefixes",
	.snapshot_max = 16u << 20,
	.load = load,
	.events = events,
	.next_end = next_end,
	.expire = expire,
	.count = count,
};

struct prefix_feed *prefix_feed_new(struct event_base *base, const char *socket_path,
				    contract_feed_changed_fn *changed, void *ctx)
{
	struct prefix_feed *f = xcalloc(1, sizeof *f);
	f->feed = contract_feed_new(base, socket_path, &ops, &f->set, changed, ctx);
	return f;
}

void prefix_feed_free(struct prefix_feed *f)
{
	if (f == NULL)
		return;
	contract_feed_free(f->feed);
	prefix_set_free(&f->set);
	free(f);
}

void prefix_feed_resync(struct prefix_feed *f)
{
	contract_feed_resync(f->feed);
}

const struct prefix_set *prefix_feed_prefixes(const struct prefix_feed *f)
{
	return &f->set;
}

void prefix_feed_status(const struct prefix_feed *f, cJSON *obj)
{
	contract_feed_status(f->feed, "prefix_feed", obj);
}
