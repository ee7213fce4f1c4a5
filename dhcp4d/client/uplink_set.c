/* The set of uplink clients (see uplink_set.h): one netlink socket and one link
 * monitor for all of them; a link notification goes to the client on that
 * interface, and a resync (the monitor lost messages) re-reads every link. */
#include "uplink_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "uplink.h"
#include "xalloc.h"

struct uplink_set {
	struct uplink **uplinks;
	size_t n;
	struct arbor_nl *nl;
	struct arbor_nl_monitor *monitor;
	struct event *monitor_ev;
};

void uplink_set_close(struct uplink_set *set, bool release)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		uplink_close(set->uplinks[i], release);
	free(set->uplinks);
	if (set->monitor_ev)
		event_free(set->monitor_ev);
	arbor_nl_monitor_close(set->monitor);
	arbor_nl_close(set->nl);
	free(set);
}

static void on_link_change(void *ctx, const struct arbor_nl_change *c)
{
	struct uplink_set *set = ctx;
	if (c->kind == ARBOR_NL_RESYNC) {
		struct arbor_nl_link *links;
		size_t n;
		if (arbor_nl_links(set->nl, &links, &n) < 0)
			return;
		for (size_t i = 0; i < set->n; i++) {
			bool exists = false, carrier = false;
			for (size_t k = 0; k < n; k++)
				if (links[k].index == uplink_ifindex(set->uplinks[i])) {
					exists = true;
					carrier = links[k].lower_up;
				}
			uplink_link_changed(set->uplinks[i], exists, carrier);
		}
		free(links);
		return;
	}
	if (c->kind != ARBOR_NL_LINK_NEW && c->kind != ARBOR_NL_LINK_DEL)
		return;
	for (size_t i = 0; i < set->n; i++)
		if (uplink_ifindex(set->uplinks[i]) == c->link.index)
			uplink_link_changed(set->uplinks[i], c->kind == ARBOR_NL_LINK_NEW, c->link.lower_up);
}

static void on_monitor_readable(evutil_socket_t fd, short what, void *arg)
{
	struct uplink_set *set = arg;
	if (arbor_nl_monitor_dispatch(set->monitor) < 0)
		log_warn("link monitor: %s", arbor_nl_monitor_error(set->monitor));
}

/* A reload of the clients, prepared: every uplink of the new config, either a
 * running one kept (the same client) or a new one prepared (not begun). */
struct uplink_plan {
	struct arbor_nl *nl;               /* opened for it when the set had none */
	struct arbor_nl_monitor *monitor;
	struct uplink **next;
	bool *fresh;
	const struct client_spec *specs;
	size_t n;
};

static struct uplink *uplink_by_ifname(const struct uplink_set *set, const char *ifname)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(uplink_ifname(set->uplinks[i]), ifname) == 0)
			return set->uplinks[i];
	return NULL;
}

void uplink_set_abort(struct uplink_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->n; i++)
		if (plan->fresh[i])
			uplink_close(plan->next[i], false);
	arbor_nl_monitor_close(plan->monitor);
	arbor_nl_close(plan->nl);
	free(plan->next);
	free(plan->fresh);
	free(plan);
}

struct uplink_plan *uplink_set_prepare(struct uplink_set *set, struct arbor_daemon *d, const struct client_spec *specs,
				       size_t n, const char *hostname, char *err, size_t errlen)
{
	struct uplink_plan *plan = xcalloc(1, sizeof *plan);
	plan->next = xcalloc(n + 1, sizeof *plan->next);
	plan->fresh = xcalloc(n + 1, sizeof *plan->fresh);
	plan->specs = specs;
	struct arbor_nl *nl = set->nl;
	if (nl == NULL && n > 0) {
		plan->nl = nl = arbor_nl_open(err, errlen);
		if (nl)
			plan->monitor = arbor_nl_monitor_open(on_link_change, set, err, errlen);
		if (plan->monitor == NULL) {
			uplink_set_abort(plan);
			return NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct uplink *cand = uplink_prepare(d, nl, &specs[i], hostname, err, errlen);
		if (cand == NULL) {
			uplink_set_abort(plan);
			return NULL;
		}
		struct uplink *old = uplink_by_ifname(set, specs[i].interface);
		if (old && uplink_same_client(old, cand)) {
			uplink_close(cand, false);
			plan->next[plan->n++] = old;
			continue;
		}
		plan->fresh[plan->n] = true;
		plan->next[plan->n++] = cand;
		if (uplink_bind(cand, err, errlen) != 0) {
			uplink_set_abort(plan);
			return NULL;
		}
	}
	return plan;
}

void uplink_set_commit(struct uplink_set *set, struct arbor_daemon *d, struct uplink_plan *plan)
{
	/* Those that go (removed, or the client changed) stop first, as at a
	 * graceful stop: their lease file is final before a successor reads it. */
	for (size_t i = 0; i < set->n; i++) {
		bool kept = false;
		for (size_t k = 0; k < plan->n; k++)
			kept |= !plan->fresh[k] && plan->next[k] == set->uplinks[i];
		if (!kept) {
			log_info("%s: DHCP client stopped by a reload", uplink_ifname(set->uplinks[i]));
			uplink_close(set->uplinks[i], true);
		}
	}
	if (plan->nl) {
		set->nl = plan->nl;
		set->monitor = plan->monitor;
		set->monitor_ev = event_new(arbor_daemon_base(d), arbor_nl_monitor_fd(set->monitor), EV_READ | EV_PERSIST,
					    on_monitor_readable, set);
		event_add(set->monitor_ev, NULL);
	}
	for (size_t k = 0; k < plan->n; k++) {
		if (plan->fresh[k])
			uplink_begin(plan->next[k]);
		else
			uplink_reconfigure(plan->next[k], &plan->specs[k]);
	}
	free(set->uplinks);
	set->uplinks = plan->next;
	set->n = plan->n;
	free(plan->fresh);
	free(plan);
}

struct uplink_set *uplink_set_open(struct arbor_daemon *d, const struct client_spec *specs, size_t n, char *err,
				   size_t errlen)
{
	struct uplink_set *set = xcalloc(1, sizeof *set);
	struct uplink_plan *plan = uplink_set_prepare(set, d, specs, n, arbor_daemon_config(d)->machine.name, err, errlen);
	if (plan == NULL) {
		free(set);
		return NULL;
	}
	uplink_set_commit(set, d, plan);
	return set;
}

size_t uplink_set_count(const struct uplink_set *set)
{
	return set->n;
}

size_t uplink_set_renew(struct uplink_set *set)
{
	size_t renewed = 0;
	for (size_t i = 0; i < set->n; i++) {
		char m[160];
		if (uplink_command(set->uplinks[i], "renew", m, sizeof m) == 0)
			renewed++;
	}
	return renewed;
}

void uplink_set_command(struct uplink_set *set, const struct arbor_http_request *req,
			struct arbor_http_response *resp, const char *name)
{
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(body, "interface");
	if (ifn && !cJSON_IsString(ifn)) {
		cJSON_Delete(body);
		arbor_command_answer(resp, name, false, 400, "\"interface\" must be a string");
		return;
	}
	char msg[512] = "";
	int failures = 0;
	size_t done = 0;
	if (ifn) {
		struct uplink *u = uplink_by_ifname(set, ifn->valuestring);
		if (u == NULL) {
			arbor_command_answer(resp, name, false, 404, "no DHCP client on interface \"%.32s\"", ifn->valuestring);
			cJSON_Delete(body);
			return;
		}
		failures = uplink_command(u, name, msg, sizeof msg) < 0;
		done = 1;
	} else {
		for (size_t i = 0; i < set->n; i++) {
			size_t used = strlen(msg);
			if (used + 2 >= sizeof msg)
				break;
			if (used)
				strcat(msg, "; ");
			failures += uplink_command(set->uplinks[i], name, msg + strlen(msg), sizeof msg - strlen(msg)) < 0;
			done++;
		}
		if (done == 0)
			snprintf(msg, sizeof msg, "no DHCP clients are configured");
	}
	cJSON_Delete(body);
	bool ok = done > 0 && failures == 0;
	arbor_command_answer(resp, name, ok, ok ? 200 : done == 0 ? 404 : 409, "%s", msg);
}

void uplink_set_status(const struct uplink_set *set, cJSON *arr)
{
	for (size_t i = 0; i < set->n; i++)
		uplink_status(set->uplinks[i], arr);
}

void uplink_set_metrics(const struct uplink_set *set, struct arbor_buf *out)
{
	if (set->n)
		arbor_buf_puts(out, "# HELP arbor_dhcp4d_client_packets_total DHCP client packets, by outcome.\n"
				    "# TYPE arbor_dhcp4d_client_packets_total counter\n"
				    "# HELP arbor_dhcp4d_client_bound Whether the client holds a lease.\n"
				    "# TYPE arbor_dhcp4d_client_bound gauge\n");
	for (size_t i = 0; i < set->n; i++)
		uplink_metrics(set->uplinks[i], out);
}
