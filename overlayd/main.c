/* arbor-overlayd: the VXLAN hub-and-spoke overlay (docs/overlayd.md).
 *
 * Wiring: the hub role (hub.c) and the spoke role (spoke.c) each say what the
 * kernel should hold; the reconciler here reads the kernel (kernel.c), plans
 * (plan.c) and applies the difference. It runs at start, whenever the registry
 * or the assignment changes, and 100 ms after netlink reports a change to
 * something of ours; a change found then that nobody asked for is drift, fixed
 * and reported as drift.repaired. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "desired.h"
#include "firewall.h"
#include "hub.h"
#include "json.h"
#include "kernel.h"
#include "log.h"
#include "nft.h"
#include "overlayd_config.h"
#include "plan.h"
#include "sign.h"
#include "spoke.h"
#include "xalloc.h"

#define DRIFT_DELAY_MS 100
/* Least time between two runs (or twice the last run's length). */
#define MIN_GAP_MS 50
#define PERIODIC_S 60

struct overlayd {
	struct arbor_daemon *d;
	struct arbor_nl *nl;
	struct arbor_nl_monitor *monitor;
	struct event *monitor_ev, *reconcile_ev;
	struct hub *hub;
	struct spoke *spoke;
	struct ovl_desired_set want;
	bool scheduled;
	double scheduled_in; /* ms from when it was scheduled */
	double last_run;     /* monotonic start of the last run */
	bool change_requested; /* a role asked: what the next run does is not drift */
	int *owned;            /* ifindexes of our links at the last run, sorted */
	size_t nowned;
	uint64_t reconciles, writes, repairs, failures;
	double last_ms;
	char last_error[256];
	struct ovl_conflict *conflicts;
	size_t nconflicts;
	struct ovl_nft *nft;
	char nft_error[256];
	uint64_t nft_applied;
	struct event *periodic;
};

static struct overlayd *overlayd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

static const struct overlayd_config *config(struct overlayd *o)
{
	return arbor_daemon_config(o->d)->daemon;
}

/* ---- reconcile ---- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

static void remember_owned(struct overlayd *o, const struct ovl_kernel *k, const struct ovl_ownership *own)
{
	o->nowned = 0;
	o->owned = xreallocarray(o->owned, k->nlinks + 1, sizeof *o->owned);
	for (size_t i = 0; i < k->nlinks; i++)
		if (ovl_owns_link(own, &k->links[i]))
			o->owned[o->nowned++] = k->links[i].index;
	qsort(o->owned, o->nowned, sizeof *o->owned, cmp_int);
}

static bool is_owned(const struct overlayd *o, int ifindex)
{
	return o->nowned && bsearch(&ifindex, o->owned, o->nowned, sizeof *o->owned, cmp_int) != NULL;
}

static void drift_event(struct overlayd *o, const struct ovl_plan *plan, const struct ovl_apply_result *res)
{
	cJSON *data = cJSON_CreateObject();
	arbor_json_add_int(data, "links_created", (long long)plan->links_created);
	arbor_json_add_int(data, "links_deleted", (long long)plan->links_deleted);
	arbor_json_add_int(data, "links_changed", (long long)plan->links_changed);
	arbor_json_add_int(data, "addresses", (long long)plan->addrs_changed);
	arbor_json_add_int(data, "routes", (long long)plan->routes_changed);
	arbor_json_add_int(data, "failures", (long long)res->failures);
	cJSON *why = cJSON_AddArrayToObject(data, "actions");
	for (size_t i = 0; i < plan->nactions && i < 20; i++)
		cJSON_AddItemToArray(why, cJSON_CreateString(plan->actions[i].why));
	arbor_event_emit(arbor_daemon_events(o->d), "drift.repaired", "warning", plan->actions[0].why, data,
			 "the kernel drifted from the registry: %zu changes made (%s%s)", plan->nactions,
			 plan->actions[0].why, plan->nactions > 1 ? ", ..." : "");
}

/* The hub's nftables table: 1 applied, 0 already right or not wanted, -1 refused. */
static int sync_firewall(struct overlayd *o)
{
	const struct ovl_hub_config *h = &config(o)->hub;
	if (o->hub == NULL || !h->nftables)
		return 0;
	if (o->nft == NULL && (o->nft = ovl_nft_new()) == NULL) {
		snprintf(o->nft_error, sizeof o->nft_error, "libnftables cannot start");
		return -1;
	}
	struct arbor_buf rules = { 0 };
	char tag[OVL_FIREWALL_TAG_MAX];
	ovl_firewall_ruleset(&rules, tag, h, hub_registry(o->hub));
	int rc = ovl_nft_sync(o->nft, h->nft_table, tag, rules.data, o->nft_error, sizeof o->nft_error);
	arbor_buf_free(&rules);
	if (rc >= 0)
		o->nft_error[0] = '\0';
	else
		log_warn("%s", o->nft_error);
	if (rc == 1) {
		o->writes++;
		o->nft_applied++;
	}
	return rc;
}

/* Answers from the uplink to the overlay's masqueraded traffic are forwarded
 * too: IPv4 forwarding is a setting of the receiving link, so it is turned on
 * for the uplink (the only setting of a link not ours that overlayd changes). */
static void uplink_forwarding(struct overlayd *o, const struct ovl_kernel *k, const char *uplink)
{
	for (size_t i = 0; i < k->nlinks; i++) {
		const struct arbor_nl_link *l = &k->links[i];
		if (strcmp(l->name, uplink) != 0 || !l->ipv4_forwarding_known || l->ipv4_forwarding)
			continue;
		o->writes++;
		if (arbor_nl_link_set_ipv4_forwarding(o->nl, l->index, true) < 0)
			log_warn("uplink %s: %s", uplink, arbor_nl_error(o->nl));
		else
			log_info("uplink %s: IPv4 forwarding on (masquerade)", uplink);
	}
}

static void reconcile(struct overlayd *o)
{
	double start = arbor_time_monotonic();
	o->last_run = start;
	bool asked = o->change_requested;
	o->change_requested = false;
	o->scheduled = false;
	struct ovl_kernel k;
	if (ovl_kernel_read(o->nl, &k) != 0) {
		o->failures++;
		snprintf(o->last_error, sizeof o->last_error, "%s", arbor_nl_error(o->nl));
		log_err("reconcile: %s", o->last_error);
		return;
	}
	ovl_desired_reset(&o->want);
	if (o->hub)
		hub_desired(o->hub, &o->want, &k);
	if (o->spoke)
		spoke_desired(o->spoke, &o->want, &k);
	ovl_desired_shims(&o->want, config(o)->shims, config(o)->nshims);
	struct ovl_ownership own = { .link_prefix = o->hub ? hub_device_prefix(o->hub) : NULL,
				     .link_names = o->want.names, .route_protocol = OVL_RTPROT };
	struct ovl_plan plan;
	ovl_plan_make(&o->want.d, &k, &own, &plan);
	struct ovl_apply_result res = { 0 };
	ovl_kernel_apply(o->nl, &plan, &k, &res);
	o->reconciles++;
	o->writes += res.writes;
	if (res.failures) {
		o->failures++;
		snprintf(o->last_error, sizeof o->last_error, "%zu of %zu changes failed; first: %s", res.failures,
			 plan.nactions, res.first_error);
		log_warn("reconcile: %s", o->last_error);
	} else if (plan.nactions) {
		o->last_error[0] = '\0';
	}
	if (plan.nactions && !asked) {
		o->repairs++;
		drift_event(o, &plan, &res);
	} else if (plan.nactions) {
		log_info("kernel: %zu changes (%zu links created, %zu deleted, %zu routes)", plan.nactions,
			 plan.links_created, plan.links_deleted, plan.routes_changed);
	}
	if (o->hub && config(o)->hub.masquerade)
		uplink_forwarding(o, &k, config(o)->hub.masquerade);
	if (o->spoke)
		o->writes += spoke_sync_peers(o->spoke, o->nl);
	bool firewall_restored = sync_firewall(o) == 1 && !asked;
	if (firewall_restored) {
		o->repairs++;
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "table", config(o)->hub.nft_table);
		arbor_event_emit(arbor_daemon_events(o->d), "drift.repaired", "warning", config(o)->hub.nft_table, data,
				 "nftables table inet %s was changed or removed: put back", config(o)->hub.nft_table);
	}
	free(o->conflicts);
	o->conflicts = plan.conflicts;
	o->nconflicts = plan.nconflicts;
	plan.conflicts = NULL;
	if (plan.nactions && plan.links_created) {
		/* Our new links' ifindexes, for the monitor's filter. */
		ovl_kernel_free(&k);
		if (ovl_kernel_read(o->nl, &k) != 0)
			memset(&k, 0, sizeof k);
	}
	remember_owned(o, &k, &own);
	ovl_plan_free(&plan);
	ovl_kernel_free(&k);
	o->last_ms = (arbor_time_monotonic() - start) * 1000;
}

static void on_reconcile(evutil_socket_t fd, short what, void *arg)
{
	reconcile(arg);
}

/* When to run next: the registry's changes at once, unless the last run was
 * recent (a burst of joins then shares one run: each run reads the whole
 * kernel); drift checks after DRIFT_DELAY_MS, so a burst of notifications
 * (ours, mostly) costs one run. */
static void schedule(struct overlayd *o, double delay_ms)
{
	double since = (arbor_time_monotonic() - o->last_run) * 1000;
	double gap = o->last_ms * 2 > MIN_GAP_MS ? o->last_ms * 2 : MIN_GAP_MS;
	if (since < gap && delay_ms < gap - since)
		delay_ms = gap - since;
	if (o->scheduled && delay_ms >= o->scheduled_in)
		return;
	o->scheduled = true;
	o->scheduled_in = delay_ms;
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)((delay_ms - 1000 * (double)(time_t)(delay_ms / 1000)) * 1000) };
	evtimer_del(o->reconcile_ev);
	evtimer_add(o->reconcile_ev, &tv);
}

/* A role changed what it wants. */
static void on_changed(void *ctx)
{
	struct overlayd *o = ctx;
	o->change_requested = true;
	schedule(o, 0);
}

static void schedule_drift_check(struct overlayd *o)
{
	schedule(o, DRIFT_DELAY_MS);
}

static void on_periodic(evutil_socket_t fd, short what, void *arg)
{
	schedule_drift_check(arg);
}

static bool name_is_ours(struct overlayd *o, const char *name)
{
	if (o->hub && strncmp(name, hub_device_prefix(o->hub), strlen(hub_device_prefix(o->hub))) == 0)
		return true;
	for (const char *const *n = o->want.names; n && *n; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

static void on_kernel_change(void *ctx, const struct arbor_nl_change *c)
{
	struct overlayd *o = ctx;
	bool ours = false;
	switch (c->kind) {
	case ARBOR_NL_LINK_NEW:
	case ARBOR_NL_LINK_DEL:
		ours = name_is_ours(o, c->link.name) || is_owned(o, c->link.index);
		break;
	case ARBOR_NL_ADDR_NEW:
	case ARBOR_NL_ADDR_DEL:
		/* IPv4 only: the kernel's IPv6 link-local addresses (and their DAD) on
		 * our new devices are none of ours. */
		ours = c->addr.addr.family == AF_INET && is_owned(o, c->addr.ifindex);
		break;
	case ARBOR_NL_ROUTE_NEW:
	case ARBOR_NL_ROUTE_DEL:
		ours = c->route.dst.family == AF_INET &&
		       (c->route.protocol == OVL_RTPROT || is_owned(o, c->route.ifindex));
		break;
	case ARBOR_NL_RESYNC:
		ours = true;
		break;
	}
	if (ours)
		schedule_drift_check(o);
}

static void on_monitor(evutil_socket_t fd, short what, void *arg)
{
	struct overlayd *o = arg;
	if (arbor_nl_monitor_dispatch(o->monitor) < 0)
		log_warn("netlink monitor: %s", arbor_nl_monitor_error(o->monitor));
}

/* ---- life ---- */

static void overlayd_free(struct overlayd *o)
{
	hub_stop(o->hub);
	spoke_stop(o->spoke);
	if (o->monitor_ev)
		event_free(o->monitor_ev);
	if (o->reconcile_ev)
		event_free(o->reconcile_ev);
	if (o->periodic)
		event_free(o->periodic);
	ovl_nft_free(o->nft);
	arbor_nl_monitor_close(o->monitor);
	arbor_nl_close(o->nl);
	ovl_desired_free(&o->want);
	free(o->owned);
	free(o->conflicts);
	arbor_daemon_set_userdata(o->d, NULL);
	free(o);
}

static int overlayd_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	const struct overlayd_config *cfg = arbor_daemon_config(d)->daemon;
	if (arbor_sign_init() != 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	struct overlayd *o = xcalloc(1, sizeof *o);
	o->d = d;
	arbor_daemon_set_userdata(d, o);
	struct event_base *base = arbor_daemon_base(d);
	o->nl = arbor_nl_open(err, errlen);
	if (o->nl == NULL)
		goto fail;
	o->monitor = arbor_nl_monitor_open(on_kernel_change, o, err, errlen);
	if (o->monitor == NULL || arbor_nl_monitor_watch_routes(o->monitor) != 0) {
		if (o->monitor)
			snprintf(err, errlen, "%s", arbor_nl_monitor_error(o->monitor));
		goto fail;
	}
	o->monitor_ev = event_new(base, arbor_nl_monitor_fd(o->monitor), EV_READ | EV_PERSIST, on_monitor, o);
	event_add(o->monitor_ev, NULL);
	o->reconcile_ev = evtimer_new(base, on_reconcile, o);
	/* What no notification tells us of (nftables, FDB entries): looked at each minute. */
	o->periodic = event_new(base, -1, EV_PERSIST, on_periodic, o);
	struct timeval minute = { PERIODIC_S, 0 };
	event_add(o->periodic, &minute);
	if (cfg->is_hub && (o->hub = hub_start(d, cfg, o->nl, on_changed, o, err, errlen)) == NULL)
		goto fail;
	if (cfg->is_spoke && (o->spoke = spoke_start(d, cfg, on_changed, o, err, errlen)) == NULL)
		goto fail;
	/* The kernel follows the registry before the daemon says it is ready.
	 * What this first run changes is logged, not reported as drift: events
	 * begin with daemon.started. */
	o->change_requested = true;
	reconcile(o);
	if (o->hub)
		log_info("reconciled %zu spokes in %.1f ms", ovl_registry_count(hub_registry(o->hub)), o->last_ms);
	return 0;
fail:
	overlayd_free(o);
	return -1;
}

static int overlayd_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct overlayd *o = overlayd_of(d);
	const struct overlayd_config *now = config(o), *cfg = next->daemon;
	if (now->is_hub != cfg->is_hub || now->is_spoke != cfg->is_spoke) {
		snprintf(err, errlen, "overlayd.hub and overlayd.spoke are added or removed only at a restart");
		return -1;
	}
	if (o->hub && hub_reload(o->hub, cfg, err, errlen) != 0)
		return -1;
	if (o->spoke && spoke_reload(o->spoke, cfg, err, errlen) != 0)
		return -1;
	on_changed(o); /* shims too */
	return 0;
}

static void overlayd_stop(struct arbor_daemon *d)
{
	struct overlayd *o = overlayd_of(d);
	if (o)
		overlayd_free(o);
}

static int overlayd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct overlayd *o = overlayd_of(d);
	if (o->spoke)
		spoke_rejoin(o->spoke);
	o->change_requested = false;
	reconcile(o);
	snprintf(msg, msglen, "reconciled in %.1f ms%s", o->last_ms, o->spoke ? "; joining the hub again" : "");
	return 0;
}

static void overlayd_status(struct arbor_daemon *d, cJSON *status)
{
	struct overlayd *o = overlayd_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "overlayd");
	if (o->hub)
		hub_status(o->hub, own);
	if (o->spoke)
		spoke_status(o->spoke, own);
	cJSON *k = cJSON_AddObjectToObject(own, "kernel");
	arbor_json_add_int(k, "links", (long long)o->want.d.nlinks);
	/* A join's answer (either side) is acted on by the next reconcile, not
	 * at once: until it has run, the kernel is behind what status shows. */
	cJSON_AddBoolToObject(k, "pending", o->change_requested);
	arbor_json_add_int(k, "reconciles", (long long)o->reconciles);
	arbor_json_add_fixed(k, "last_reconcile_ms", o->last_ms, 1);
	arbor_json_add_int(k, "writes", (long long)o->writes);
	arbor_json_add_int(k, "drift_repairs", (long long)o->repairs);
	if (o->hub && config(o)->hub.nftables) {
		cJSON *f = cJSON_AddObjectToObject(k, "nftables");
		cJSON_AddStringToObject(f, "table", config(o)->hub.nft_table);
		arbor_json_add_int(f, "applied", (long long)o->nft_applied);
		if (o->nft_error[0])
			cJSON_AddStringToObject(f, "error", o->nft_error);
	}
	if (o->last_error[0])
		cJSON_AddStringToObject(k, "last_error", o->last_error);
	cJSON *c = cJSON_AddArrayToObject(k, "conflicts");
	for (size_t i = 0; i < o->nconflicts; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", o->conflicts[i].name);
		cJSON_AddStringToObject(x, "reason", o->conflicts[i].why);
		cJSON_AddItemToArray(c, x);
	}
}

static enum arbor_health worse(enum arbor_health a, enum arbor_health b)
{
	return a > b ? a : b;
}

static enum arbor_health overlayd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct overlayd *o = overlayd_of(d);
	enum arbor_health h = ARBOR_HEALTH_OK;
	if (o->hub)
		h = worse(h, hub_health(o->hub, reasons));
	if (o->spoke)
		h = worse(h, spoke_health(o->spoke, reasons));
	char reason[320];
	if (o->last_error[0]) {
		snprintf(reason, sizeof reason, "kernel: %s", o->last_error);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		h = worse(h, ARBOR_HEALTH_DEGRADED);
	}
	if (o->nft_error[0]) {
		cJSON_AddItemToArray(reasons, cJSON_CreateString(o->nft_error));
		h = worse(h, ARBOR_HEALTH_DEGRADED);
	}
	for (size_t i = 0; i < o->nconflicts; i++) {
		snprintf(reason, sizeof reason, "%s: %s", o->conflicts[i].name, o->conflicts[i].why);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		h = worse(h, ARBOR_HEALTH_DEGRADED);
	}
	return h;
}

static void overlayd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct overlayd *o = overlayd_of(d);
	arbor_buf_printf(out,
			 "# HELP arbor_overlayd_reconciles_total Reconciles of the kernel with the registry.\n"
			 "# TYPE arbor_overlayd_reconciles_total counter\narbor_overlayd_reconciles_total %llu\n"
			 "# HELP arbor_overlayd_netlink_writes_total Netlink requests that changed the kernel.\n"
			 "# TYPE arbor_overlayd_netlink_writes_total counter\narbor_overlayd_netlink_writes_total %llu\n"
			 "# HELP arbor_overlayd_drift_repairs_total Reconciles that found and fixed drift.\n"
			 "# TYPE arbor_overlayd_drift_repairs_total counter\narbor_overlayd_drift_repairs_total %llu\n"
			 "# HELP arbor_overlayd_reconcile_seconds Duration of the last reconcile.\n"
			 "# TYPE arbor_overlayd_reconcile_seconds gauge\narbor_overlayd_reconcile_seconds %.6f\n",
			 (unsigned long long)o->reconciles, (unsigned long long)o->writes, (unsigned long long)o->repairs,
			 o->last_ms / 1000);
	if (o->hub)
		hub_metrics(o->hub, out);
	if (o->spoke)
		spoke_metrics(o->spoke, out);
}

static void command_enroll(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct overlayd *o = overlayd_of(d);
	if (o->hub == NULL) {
		arbor_command_answer(resp, "enroll", false, 409, "this machine is not a hub (no overlayd.hub)");
		return;
	}
	hub_command_enroll(o->hub, req, resp);
}

static void command_forget(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct overlayd *o = overlayd_of(d);
	if (o->hub == NULL) {
		arbor_command_answer(resp, "forget", false, 409, "this machine is not a hub (no overlayd.hub)");
		return;
	}
	hub_command_forget(o->hub, req, resp);
}

static void view_spokes(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct overlayd *o = overlayd_of(d);
	if (o->hub == NULL) {
		arbor_resp_error(resp, 404, "not_found", "this machine is not a hub (no overlayd.hub)");
		return;
	}
	hub_view_spokes(o->hub, req, resp);
}

static const struct arbor_command overlayd_commands[] = {
	{ "enroll", command_enroll },
	{ "forget", command_forget },
};

static const struct arbor_view overlayd_views[] = { { "/v1/spokes", view_spokes } };

static const struct arbor_daemon_def overlayd_def = {
	.name = "overlayd",
	.binary = "arbor-overlayd",
	.summary = "VXLAN hub-and-spoke overlay with signed joins, a registry that never renumbers, and macvlan shims.",
	.parse = overlayd_config_parse,
	.free_config = overlayd_config_free,
	.start = overlayd_start,
	.reload = overlayd_reload,
	.stop = overlayd_stop,
	.renew = overlayd_renew,
	.status = overlayd_status,
	.health = overlayd_health,
	.metrics = overlayd_metrics,
	.commands = overlayd_commands,
	.ncommands = sizeof overlayd_commands / sizeof overlayd_commands[0],
	.views = overlayd_views,
	.nviews = 1,
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&overlayd_def, argc, argv);
}
