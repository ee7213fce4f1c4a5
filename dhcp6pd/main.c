/* arbor-dhcp6pd: the IPv6 half of the tree. PD clients on the uplinks
 * (uplink.c, pd_client.c), the LANs numbered from what they hold and announced
 * with router advertisements and stateless DHCPv6 (lans.c, lan_plan.c), and the
 * delegating server for the machines below (serving.c, pd_server.c). This file is
 * wiring: the daemon definition, start/reload/stop, and the one place where a
 * delegation change fans out to the LANs, the server and the prefix.* events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include "clock.h"
#include "daemon.h"
#include "dhcp6_sockets.h"
#include "dhcp6pd_config.h"
#include "identity.h"
#include "info_reply.h"
#include "json.h"
#include "lans.h"
#include "log.h"
#include "netlink.h"
#include "serving.h"
#include "sysctl.h"
#include "uplink.h"
#include "xalloc.h"

#define DELEGATIONS_MAX 8

struct dhcp6pd {
	struct arbor_daemon *d;
	char machine_id[33];
	bool have_machine_id;
	uint8_t duid[DHCP6PD_DUID_LEN];
	struct arbor_nl *nl;
	struct arbor_nl_monitor *monitor;
	struct event *monitor_ev;
	struct uplink **uplinks;
	size_t nuplinks;
	struct lans *lans;
	struct serving *serving; /* the delegating servers */
	struct d6socks *socks;   /* port 547: stateless DHCPv6 and the servers */
	bool default_route;      /* the machine has an IPv6 default route */
	uint64_t d6_malformed, d6_ignored, d6_info_replies;
};

static struct dhcp6pd *dhcp6pd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

static const struct dhcp6pd_config *config(struct dhcp6pd *h)
{
	return arbor_daemon_config(h->d)->daemon;
}

/* ---- delegation changes ---- */

static cJSON *prefixes_json(const struct pd_lease *l)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; l && l->valid && i < l->nprefix; i++) {
		const struct pd_entry *e = &l->prefix[i];
		char text[64];
		struct arbor_prefix6 p = { e->addr, e->len };
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "prefix", arbor_prefix6_format(&p, text, sizeof text));
		if (e->preferred_until < PD_NEVER / 2)
			arbor_json_add_fixed(o, "preferred_until", e->preferred_until, 3);
		if (e->valid_until < PD_NEVER / 2)
			arbor_json_add_fixed(o, "valid_until", e->valid_until, 3);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Every prefix the uplinks hold, as the LANs take them. */
static size_t delegations(struct dhcp6pd *h, struct lan_delegation *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < h->nuplinks; i++) {
		const struct pd_lease *l = uplink_lease(h->uplinks[i]);
		for (size_t k = 0; l->valid && k < l->nprefix && n < max; k++)
			out[n++] = (struct lan_delegation){ { l->prefix[k].addr, l->prefix[k].len }, l->prefix[k].preferred_until,
							    l->prefix[k].valid_until };
	}
	return n;
}

/* The LANs (and the server) follow what the uplinks hold and the default route. */
static void fan_out(struct dhcp6pd *h)
{
	struct lan_delegation d[DELEGATIONS_MAX];
	size_t n = delegations(h, d, DELEGATIONS_MAX);
	if (h->lans)
		lans_update(h->lans, d, n, h->default_route);
	if (h->serving) {
		struct arbor_prefix6 own[LAN_PREFIXES_MAX * DHCP6PD_LIST_MAX];
		serving_set_excluded(h->serving, own, lans_numbered(h->lans, own, sizeof own / sizeof own[0]));
		for (size_t i = 0; i < h->nuplinks; i++) {
			const struct pd_lease *l = uplink_lease(h->uplinks[i]);
			struct arbor_prefix6 p = { l->valid ? l->prefix[0].addr : in6addr_any, l->valid ? l->prefix[0].len : 0 };
			serving_set_delegation(h->serving, uplink_ifname(h->uplinks[i]), l->valid ? &p : NULL,
					       l->valid ? l->prefix[0].preferred_until : 0, l->valid ? l->prefix[0].valid_until : 0);
		}
	}
}

/* The uplink has applied the change and written its lease file: the LANs and
 * the server follow, and then the event says so. */
static void on_delegation(void *ctx, struct uplink *u, enum pd_event ev, const struct pd_lease *lease,
			  const struct pd_lease *old, const char *reason)
{
	struct dhcp6pd *h = ctx;
	if (ev == PD_EV_RESTORED)
		return; /* nothing changed: the LANs take it when they start */
	fan_out(h);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", uplink_ifname(u));
	cJSON_AddItemToObject(data, "prefixes", prefixes_json(ev == PD_EV_LOST ? NULL : lease));
	if (ev == PD_EV_LOST)
		cJSON_AddItemToObject(data, "old_prefixes", prefixes_json(lease));
	else if (old)
		cJSON_AddItemToObject(data, "old_prefixes", prefixes_json(old));
	cJSON_AddStringToObject(data, "reason", reason ? reason : "");
	cJSON_AddItemToObject(data, "lans", lans_json(h->lans));
	char first[64] = "none";
	if (lease->nprefix) {
		struct arbor_prefix6 p = { lease->prefix[0].addr, lease->prefix[0].len };
		arbor_prefix6_format(&p, first, sizeof first);
	}
	const char *type = pd_event_name(ev);
	arbor_event_emit(arbor_daemon_events(h->d), type, ev == PD_EV_LOST ? "warning" : "info", uplink_ifname(u), data,
			 "%s: %s %s (%s)", uplink_ifname(u), type + 7, first, reason ? reason : "");
}

/* ---- links ---- */

/* Whether the main table has an IPv6 default route (RAs say router lifetime 0
 * without one). */
static bool read_default_route(struct dhcp6pd *h)
{
	int rc = arbor_nl_has_default_route(h->nl, AF_INET6);
	if (rc < 0)
		log_warn("%s", arbor_nl_error(h->nl));
	return rc < 0 ? h->default_route : rc == 1;
}

static void default_route_check(struct dhcp6pd *h)
{
	bool now = read_default_route(h);
	if (now == h->default_route)
		return;
	h->default_route = now;
	log_info("IPv6 default route %s", now ? "present" : "gone");
	fan_out(h);
}

static void on_link_change(void *ctx, const struct arbor_nl_change *c)
{
	struct dhcp6pd *h = ctx;
	if (c->kind == ARBOR_NL_ROUTE_NEW || c->kind == ARBOR_NL_ROUTE_DEL) {
		if (c->route.dst.family == AF_INET6 && c->route.prefixlen == 0)
			default_route_check(h);
		return;
	}
	if (c->kind == ARBOR_NL_RESYNC) {
		default_route_check(h);
		struct arbor_nl_link *links;
		size_t n;
		if (arbor_nl_links(h->nl, &links, &n) < 0)
			return;
		for (size_t i = 0; i < h->nuplinks; i++) {
			bool exists = false, carrier = false;
			for (size_t k = 0; k < n; k++)
				if (links[k].index == uplink_ifindex(h->uplinks[i])) {
					exists = true;
					carrier = links[k].lower_up;
				}
			uplink_link_changed(h->uplinks[i], exists, carrier);
		}
		free(links);
		return;
	}
	if (c->kind == ARBOR_NL_LINK_NEW || c->kind == ARBOR_NL_LINK_DEL) {
		for (size_t i = 0; i < h->nuplinks; i++)
			if (uplink_ifindex(h->uplinks[i]) == c->link.index)
				uplink_link_changed(h->uplinks[i], c->kind == ARBOR_NL_LINK_NEW, c->link.lower_up);
		lans_link_changed(h->lans, c->link.index, c->kind == ARBOR_NL_LINK_NEW, c->link.up && c->link.lower_up);
	}
}

/* ---- port 547 ---- */

static void on_d6_batch_done(void *ctx)
{
	struct dhcp6pd *h = ctx;
	serving_batch_done(h->serving);
}

static void on_d6_packet(void *ctx, int ifindex, const char *ifname, const struct sockaddr_in6 *from,
			 const uint8_t *pkt, size_t len)
{
	struct dhcp6pd *h = ctx;
	struct dhcp6_relay chain[DHCP6_RELAY_MAX];
	size_t depth;
	const uint8_t *inner;
	size_t inner_len;
	static struct dhcp6_message m;
	char err[200];
	if (dhcp6_unwrap_relays(pkt, len, chain, &depth, &inner, &inner_len, err, sizeof err) != 0 ||
	    (depth && chain[0].type != DHCP6_RELAY_FORW) || dhcp6_parse(inner, inner_len, &m, err, sizeof err) != 0) {
		h->d6_malformed++;
		log_debug("%s: malformed DHCPv6 message dropped: %s", ifname, err);
		return;
	}
	/* What the LAN on this interface is told (none: a server alone). */
	const struct lan_result *plan = lans_plan_of(h->lans, ifindex);
	const char *search[DHCP6PD_SEARCH_MAX];
	struct info_content c = { NULL, 0, search, 0, 86400 };
	if (plan) {
		for (size_t i = 0; i < plan->nsearch; i++)
			search[i] = plan->search[i];
		c = (struct info_content){ plan->dns, plan->ndns, search, plan->nsearch, plan->info_refresh };
	}
	if (m.type != DHCP6_INFORMATION_REQUEST) {
		if (serving_has(h->serving, ifindex))
			serving_handle(h->serving, ifindex, from, chain, depth, &m, &c);
		else
			h->d6_ignored++;
		return;
	}
	if (plan == NULL && !serving_has(h->serving, ifindex)) {
		h->d6_ignored++;
		return;
	}
	uint8_t reply[1024];
	int n = info_reply_build(&m, h->duid, sizeof h->duid, &c, reply, sizeof reply);
	if (n <= 0) {
		h->d6_ignored++;
		return;
	}
	struct d6socks_out out = { .ifindex = ifindex, .to = *from };
	if (depth) {
		/* relayed: RELAY-REPL back to the relay that sent it, on port 547 */
		n = dhcp6_build_relay_reply(out.pkt, sizeof out.pkt, chain, depth, reply, (size_t)n);
		out.to.sin6_port = htons(DHCP6_SERVER_PORT);
	} else {
		memcpy(out.pkt, reply, (size_t)n);
	}
	if (n <= 0)
		return;
	out.len = (uint16_t)n;
	h->d6_info_replies++;
	const struct d6socks_out *one = &out;
	d6socks_send(h->socks, &one, 1);
}

static void on_monitor_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp6pd *h = arg;
	if (arbor_nl_monitor_dispatch(h->monitor) < 0)
		log_warn("netlink monitor: %s", arbor_nl_monitor_error(h->monitor));
}

/* ---- start and stop ---- */

static void close_uplinks(struct dhcp6pd *h, bool release)
{
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_close(h->uplinks[i], release);
	free(h->uplinks);
	h->uplinks = NULL;
	h->nuplinks = 0;
}

static void dhcp6pd_free(struct dhcp6pd *h)
{
	close_uplinks(h, false);
	serving_close(h->serving); /* commits and answers what is pending */
	d6socks_close(h->socks);
	lans_close(h->lans);
	if (h->monitor_ev)
		event_free(h->monitor_ev);
	arbor_nl_monitor_close(h->monitor);
	arbor_nl_close(h->nl);
	arbor_daemon_set_userdata(h->d, NULL);
	free(h);
}

static int open_uplinks(struct dhcp6pd *h, const struct dhcp6pd_config *cfg, char *err, size_t errlen)
{
	h->uplinks = xcalloc(cfg->nclients + 1, sizeof *h->uplinks);
	for (size_t i = 0; i < cfg->nclients; i++) {
		const struct client6_spec *spec = &cfg->clients[i];
		const uint8_t *duid = spec->duid_len ? spec->duid : h->duid;
		uint16_t duid_len = spec->duid_len ? spec->duid_len : DHCP6PD_DUID_LEN;
		if (spec->duid_len == 0 && !h->have_machine_id) {
			snprintf(err, errlen, "clients[%zu]: no duid configured and no machine id to derive one from", i);
			return -1;
		}
		struct uplink *u = uplink_open(h->d, h->nl, spec, duid, duid_len, on_delegation, h, err, errlen);
		if (u == NULL)
			return -1;
		h->uplinks[h->nuplinks++] = u;
	}
	return 0;
}

static int dhcp6pd_start(struct arbor_daemon *d, char *err, size_t errlen)
{

	struct dhcp6pd *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	const struct arbor_config *all = arbor_daemon_config(d);
	const struct dhcp6pd_config *cfg = all->daemon;
	char merr[256];
	h->have_machine_id = arbor_machine_id(&all->machine, h->machine_id, merr, sizeof merr) == 0;
	if (h->have_machine_id)
		dhcp6pd_duid_derive(h->machine_id, h->duid);
	else
		log_warn("no machine id (%s): no derived DUID or ULA prefixes", merr);
	h->nl = arbor_nl_open(err, errlen);
	if (h->nl == NULL) {
		dhcp6pd_free(h);
		return -1;
	}
	h->monitor = arbor_nl_monitor_open(on_link_change, h, err, errlen);
	if (h->monitor == NULL || arbor_nl_monitor_watch_default_routes(h->monitor) < 0) {
		if (h->monitor)
			snprintf(err, errlen, "%s", arbor_nl_monitor_error(h->monitor));
		dhcp6pd_free(h);
		return -1;
	}
	h->monitor_ev = event_new(arbor_daemon_base(d), arbor_nl_monitor_fd(h->monitor), EV_READ | EV_PERSIST,
				  on_monitor_readable, h);
	event_add(h->monitor_ev, NULL);
	if (cfg->forwarding && (cfg->nlans || cfg->nservers)) {
		/* A router forwards; each uplink's accept_ra=2 (set by its client) keeps
		 * its RAs coming. */
		if (arbor_sysctl_write("net/ipv6/conf/all/forwarding", "1", merr, sizeof merr) < 0)
			log_warn("%s", merr);
	}
	if (open_uplinks(h, cfg, err, errlen) < 0) {
		dhcp6pd_free(h);
		return -1;
	}
	h->default_route = read_default_route(h);
	if (cfg->nlans) {
		struct lan_delegation dl[DELEGATIONS_MAX];
		size_t n = delegations(h, dl, DELEGATIONS_MAX);
		h->lans = lans_open(d, h->nl, cfg, h->have_machine_id ? h->machine_id : NULL, all->machine.domain, dl, n,
				    h->default_route, err, errlen);
		if (h->lans == NULL) {
			dhcp6pd_free(h);
			return -1;
		}
	}
	if (cfg->nservers) {
		h->serving = serving_open(d, h->nl, cfg, h->duid, sizeof h->duid, err, errlen);
		if (h->serving == NULL) {
			dhcp6pd_free(h);
			return -1;
		}
		fan_out(h); /* the from_delegation pools get what the uplinks hold */
		serving_end_strays(h->serving);
	}
	const char *ifnames[2 * DHCP6PD_LIST_MAX];
	size_t nif = lans_stateless_ifnames(h->lans, ifnames, DHCP6PD_LIST_MAX);
	for (size_t i = 0; i < cfg->nservers; i++)
		ifnames[nif++] = cfg->servers[i].interface;
	if (nif) {
		h->socks = d6socks_open(arbor_daemon_base(d), ifnames, nif, on_d6_packet, on_d6_batch_done, h, err, errlen);
		if (h->socks == NULL) {
			dhcp6pd_free(h);
			return -1;
		}
		serving_set_socks(h->serving, h->socks);
	}
	log_info("%zu uplink clients, %zu LANs, %zu servers", h->nuplinks, cfg->nlans, cfg->nservers);
	return 0;
}

static int dhcp6pd_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	const struct dhcp6pd_config *cfg = next->daemon;
	const struct dhcp6pd_config *cur = config(h);
	/* The set of uplinks is fixed for the run (a client's identity and state are
	 * per interface); their settings follow the reload. */
	if (cfg->nclients != cur->nclients) {
		snprintf(err, errlen, "dhcp6pd.clients: adding or removing a client needs a restart");
		return -1;
	}
	for (size_t i = 0; i < cfg->nclients; i++)
		if (strcmp(cfg->clients[i].interface, cur->clients[i].interface) != 0) {
			snprintf(err, errlen, "dhcp6pd.clients[%zu].interface: changing it needs a restart", i);
			return -1;
		}
	if (h->lans && lans_reconfigure(h->lans, cfg, err, errlen) < 0)
		return -1;
	if (!h->lans && cfg->nlans) {
		snprintf(err, errlen, "dhcp6pd.lans: adding LANs needs a restart");
		return -1;
	}
	if ((h->serving == NULL) != (cfg->nservers == 0)) {
		snprintf(err, errlen, "dhcp6pd.servers: adding or removing servers needs a restart");
		return -1;
	}
	if (h->serving && serving_reconfigure(h->serving, cfg, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_update_spec(h->uplinks[i], &cfg->clients[i]);
	fan_out(h); /* the new settings go out at once where they change an RA */
	return 0;
}

static void dhcp6pd_stop(struct arbor_daemon *d)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	if (h == NULL)
		return;
	close_uplinks(h, true);
	dhcp6pd_free(h);
}

static void dhcp6pd_status(struct arbor_daemon *d, cJSON *status)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "dhcp6pd");
	cJSON *clients = cJSON_AddArrayToObject(own, "clients");
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_status(h->uplinks[i], clients);
	cJSON_AddItemToObject(own, "lans", lans_json(h->lans));
	cJSON_AddItemToObject(own, "servers", serving_status(h->serving));
	cJSON_AddBoolToObject(own, "default_route", h->default_route);
	cJSON *pk = cJSON_AddObjectToObject(own, "server_packets");
	arbor_json_add_int(pk, "received", (long long)d6socks_received(h->socks));
	arbor_json_add_int(pk, "malformed", (long long)(h->d6_malformed + d6socks_truncated(h->socks)));
	arbor_json_add_int(pk, "ignored", (long long)h->d6_ignored);
	arbor_json_add_int(pk, "information_replies", (long long)h->d6_info_replies);
}

/* GET /v1/prefixes: what the uplinks hold and what each LAN is told. */
static void view_prefixes(struct arbor_daemon *d, const struct arbor_http_request *req,
			  struct arbor_http_response *resp)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	cJSON *doc = cJSON_CreateObject();
	cJSON *ds = cJSON_AddArrayToObject(doc, "delegations");
	for (size_t i = 0; i < h->nuplinks; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "interface", uplink_ifname(h->uplinks[i]));
		cJSON_AddItemToObject(o, "prefixes", prefixes_json(uplink_lease(h->uplinks[i])));
		cJSON_AddItemToArray(ds, o);
	}
	cJSON_AddItemToObject(doc, "lans", lans_json(h->lans));
	cJSON_AddBoolToObject(doc, "default_route", h->default_route);
	arbor_resp_json(resp, 200, doc);
}

static enum arbor_health dhcp6pd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	enum arbor_health health = ARBOR_HEALTH_OK;
	for (size_t i = 0; i < h->nuplinks; i++)
		if (!uplink_lease(h->uplinks[i])->valid) {
			char reason[96];
			snprintf(reason, sizeof reason, "%s: no delegated prefix", uplink_ifname(h->uplinks[i]));
			cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
			health = ARBOR_HEALTH_DEGRADED;
		}
	enum arbor_health sh = serving_health(h->serving, reasons);
	return sh > health ? sh : health;
}

static void dhcp6pd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	if (h->nuplinks)
		arbor_buf_puts(out, "# HELP arbor_dhcp6pd_client_packets_total DHCPv6 client messages, by outcome.\n"
				    "# TYPE arbor_dhcp6pd_client_packets_total counter\n"
				    "# HELP arbor_dhcp6pd_client_status_errors_total Status codes other than Success received.\n"
				    "# TYPE arbor_dhcp6pd_client_status_errors_total counter\n"
				    "# HELP arbor_dhcp6pd_client_bound Whether the client holds a delegation.\n"
				    "# TYPE arbor_dhcp6pd_client_bound gauge\n");
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_metrics(h->uplinks[i], out);
	lans_metrics(h->lans, out);
	serving_metrics(h->serving, out);
	arbor_buf_printf(out, "# HELP arbor_dhcp6pd_server_packets_total DHCPv6 messages on port 547, by outcome.\n"
			      "# TYPE arbor_dhcp6pd_server_packets_total counter\n"
			      "arbor_dhcp6pd_server_packets_total{outcome=\"received\"} %llu\n"
			      "arbor_dhcp6pd_server_packets_total{outcome=\"malformed\"} %llu\n"
			      "arbor_dhcp6pd_server_packets_total{outcome=\"ignored\"} %llu\n",
			 (unsigned long long)d6socks_received(h->socks),
			 (unsigned long long)(h->d6_malformed + d6socks_truncated(h->socks)),
			 (unsigned long long)h->d6_ignored);
}

static int dhcp6pd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	size_t renewed = 0;
	for (size_t i = 0; i < h->nuplinks; i++) {
		char m[160];
		if (uplink_command(h->uplinks[i], "renew", m, sizeof m) == 0)
			renewed++;
	}
	snprintf(msg, msglen, "%zu of %zu clients renewing", renewed, h->nuplinks);
	return 0;
}

static const char *client_ifname(void *ctx, size_t i)
{
	return uplink_ifname(((struct dhcp6pd *)ctx)->uplinks[i]);
}

static int run_client_command(void *ctx, size_t i, const char *command, char *msg, size_t msglen)
{
	return uplink_command(((struct dhcp6pd *)ctx)->uplinks[i], command, msg, msglen);
}

/* POST /v1/commands/{rebind,release} {"interface": "wan0"}: one client, or every
 * client when none is named. */
static void client_command(struct arbor_daemon *d, const struct arbor_http_request *req,
			   struct arbor_http_response *resp, const char *name)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	arbor_command_per_client(req, resp, name, "DHCPv6", h->nuplinks, client_ifname, run_client_command, h);
}

static void command_rebind(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	client_command(d, req, resp, "rebind");
}

static void command_release(struct arbor_daemon *d, const struct arbor_http_request *req,
			    struct arbor_http_response *resp)
{
	client_command(d, req, resp, "release");
}

static const struct arbor_command dhcp6pd_commands[] = {
	{ "rebind", command_rebind },
	{ "release", command_release },
};

/* GET /v1/delegations?interface=&state=&duid=&prefix= */
static void view_delegations(struct arbor_daemon *d, const struct arbor_http_request *req,
			     struct arbor_http_response *resp)
{
	struct dhcp6pd *h = dhcp6pd_of(d);
	char err[128];
	cJSON *doc = serving_delegations(h->serving, &req->query, err, sizeof err);
	if (doc == NULL)
		arbor_resp_error(resp, 400, "bad_query", "%s", err);
	else
		arbor_resp_json(resp, 200, doc);
}

static const struct arbor_view dhcp6pd_views[] = { { "/v1/prefixes", view_prefixes },
						   { "/v1/delegations", view_delegations } };

static const struct arbor_daemon_def dhcp6pd_def = {
	.name = "dhcp6pd",
	.binary = "arbor-dhcp6pd",
	.summary = "DHCPv6 prefix delegation (client and delegating server), LAN numbering and router advertisements.",
	.parse = dhcp6pd_config_parse,
	.free_config = dhcp6pd_config_free,
	.start = dhcp6pd_start,
	.reload = dhcp6pd_reload,
	.stop = dhcp6pd_stop,
	.renew = dhcp6pd_renew,
	.status = dhcp6pd_status,
	.health = dhcp6pd_health,
	.metrics = dhcp6pd_metrics,
	.views = dhcp6pd_views,
	.nviews = sizeof dhcp6pd_views / sizeof dhcp6pd_views[0],
	.commands = dhcp6pd_commands,
	.ncommands = sizeof dhcp6pd_commands / sizeof dhcp6pd_commands[0],
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&dhcp6pd_def, argc, argv);
}
