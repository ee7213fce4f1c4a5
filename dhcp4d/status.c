/* Status, health, metrics and the leases view (see status.h). */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dhcp4d.h"
#include "json.h"
#include "lease_record.h"
#include "lease_store.h"
#include "uplink_set.h"

static void add_server_status(cJSON *servers, const struct served *sv)
{
	const struct server *s = &sv->srv;
	char text[32];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "interface", sv->ifname);
	format_ipv4(s->spec->network, text, sizeof text);
	snprintf(text + strlen(text), sizeof text - strlen(text), "/%u", s->spec->prefixlen);
	cJSON_AddStringToObject(o, "subnet", text);
	format_ipv4(s->server_id, text, sizeof text);
	cJSON_AddStringToObject(o, "server_id", text);
	size_t pool = server_pool_size(s);
	arbor_json_add_int(o, "pool_size", (long long)pool);
	arbor_json_add_int(o, "bound", (long long)s->leases.bound);
	arbor_json_add_fixed(o, "pool_used_percent", pool ? 100.0 * (double)s->leases.bound / (double)pool : 0, 1);
	arbor_json_add_int(o, "records", (long long)s->leases.count);
	arbor_json_add_int(o, "offers", (long long)s->offers);
	arbor_json_add_int(o, "acks", (long long)s->acks);
	arbor_json_add_int(o, "naks", (long long)s->naks);
	arbor_json_add_int(o, "declines", (long long)s->declines);
	arbor_json_add_int(o, "releases", (long long)s->releases);
	arbor_json_add_int(o, "exhausted", (long long)s->exhausted);
	cJSON *cpo = cJSON_AddObjectToObject(o, "conflict_probe");
	cJSON_AddBoolToObject(cpo, "ping", s->spec->probe_ping);
	arbor_json_add_fixed(cpo, "timeout", s->spec->probe_timeout, 3);
	arbor_json_add_int(cpo, "probes_sent", (long long)sv->probes_sent);
	arbor_json_add_int(cpo, "conflicts", (long long)s->conflicts);
	arbor_json_add_int(cpo, "probes_skipped", (long long)sv->probes_skipped);
	cJSON_AddItemToArray(servers, o);
}

void dhcp4d_status(struct arbor_daemon *d, cJSON *status)
{
	struct dhcp4d *h = dhcp4d_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "dhcp4d");
	cJSON *servers = cJSON_AddArrayToObject(own, "servers");
	for (size_t i = 0; i < h->nserved; i++)
		add_server_status(servers, &h->served[i]);
	cJSON *cps = cJSON_AddObjectToObject(own, "conflict_probe");
	const char *kind = conflict_probe_socket_kind(h->probe);
	if (kind)
		cJSON_AddStringToObject(cps, "socket", kind);
	else
		cJSON_AddNullToObject(cps, "socket");
	arbor_json_add_int(cps, "pending", (long long)conflict_probe_pending(h->probe));
	cJSON *pk = cJSON_AddObjectToObject(own, "packets");
	arbor_json_add_int(pk, "received", (long long)h->packets.received);
	arbor_json_add_int(pk, "malformed", (long long)h->packets.malformed);
	arbor_json_add_int(pk, "ignored", (long long)h->packets.ignored);
	arbor_json_add_int(pk, "sent", (long long)h->packets.sent);
	arbor_json_add_int(pk, "send_errors", (long long)h->packets.send_errors);
	arbor_json_add_int(own, "journal_commits", (long long)lease_store_stats(h->store)->commits);
	cJSON *clients = cJSON_AddArrayToObject(own, "clients");
	uplink_set_status(h->uplinks, clients);
}

/* A reason for health, appended to reasons. */
static void reason(cJSON *reasons, enum arbor_health *health, enum arbor_health at_least, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reason(cJSON *reasons, enum arbor_health *health, enum arbor_health at_least, const char *fmt, ...)
{
	char text[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(reasons, cJSON_CreateString(text));
	if (*health == ARBOR_HEALTH_OK || at_least == ARBOR_HEALTH_FAILED)
		*health = at_least;
}

enum arbor_health dhcp4d_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct dhcp4d *h = dhcp4d_of(d);
	enum arbor_health health = ARBOR_HEALTH_OK;
	if (lease_store_stats(h->store)->failures)
		reason(reasons, &health, ARBOR_HEALTH_FAILED, "the lease journal could not be written");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct server *s = &h->served[i].srv;
		if (s->spec->probe_ping && conflict_probe_socket_kind(h->probe) == NULL)
			reason(reasons, &health, ARBOR_HEALTH_DEGRADED, "%s: offers go out without a conflict probe: %s",
			       h->served[i].ifname, conflict_probe_error(h->probe));
		size_t pool = server_pool_size(s);
		if (pool && s->leases.bound >= pool)
			reason(reasons, &health, ARBOR_HEALTH_DEGRADED, "%s: every address of the pools is bound",
			       h->served[i].ifname);
	}
	return health;
}

void dhcp4d_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct dhcp4d *h = dhcp4d_of(d);
	const struct packet_counters *pk = &h->packets;
	arbor_buf_printf(out,
			 "# HELP arbor_dhcp4d_packets_total DHCP packets, by outcome.\n# TYPE arbor_dhcp4d_packets_total counter\n"
			 "arbor_dhcp4d_packets_total{outcome=\"received\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"malformed\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"ignored\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"sent\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"send_error\"} %llu\n"
			 "# HELP arbor_dhcp4d_journal_commits_total Group commits of the lease journal.\n"
			 "# TYPE arbor_dhcp4d_journal_commits_total counter\narbor_dhcp4d_journal_commits_total %llu\n",
			 (unsigned long long)pk->received, (unsigned long long)pk->malformed, (unsigned long long)pk->ignored,
			 (unsigned long long)pk->sent, (unsigned long long)pk->send_errors,
			 (unsigned long long)lease_store_stats(h->store)->commits);
	arbor_buf_puts(out, "# HELP arbor_dhcp4d_leases Leases by interface and state.\n# TYPE arbor_dhcp4d_leases gauge\n");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct lease_table *t = &h->served[i].srv.leases;
		arbor_buf_printf(out, "arbor_dhcp4d_leases{interface=\"%s\",state=\"bound\"} %zu\n", h->served[i].ifname,
				 t->bound);
	}
	arbor_buf_puts(out, "# HELP arbor_dhcp4d_conflict_probes_total Conflict probes (an ICMP echo before an offer), "
			    "by interface and outcome.\n# TYPE arbor_dhcp4d_conflict_probes_total counter\n");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct served *sv = &h->served[i];
		if (!sv->srv.spec->probe_ping)
			continue;
		arbor_buf_printf(out,
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"sent\"} %llu\n"
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"conflict\"} %llu\n"
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"skipped\"} %llu\n",
				 sv->ifname, (unsigned long long)sv->probes_sent, sv->ifname,
				 (unsigned long long)sv->srv.conflicts, sv->ifname, (unsigned long long)sv->probes_skipped);
	}
	uplink_set_metrics(h->uplinks, out);
}

/* Whether l passes the view's filters (NULL: not given). */
static bool lease_matches(const struct lease *l, const char *state, const char *mac, const char *address,
			  const char *hostname)
{
	if ((state && strcmp(state, lease_state_name(l->state)) != 0) || (hostname && strcmp(hostname, l->hostname) != 0))
		return false;
	char text[64];
	if (mac) {
		lease_hex(l->mac, l->mac_len, text, sizeof text);
		if (strcasecmp(mac, text) != 0)
			return false;
	}
	if (address) {
		format_ipv4(l->addr, text, sizeof text);
		if (strcmp(address, text) != 0)
			return false;
	}
	return true;
}

void dhcp4d_view_leases(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp)
{
	struct dhcp4d *h = dhcp4d_of(d);
	/* The table changes when a lease is decided, before its record is durable.
	 * Readers of this view (dnsd publishes what it lists) must see only what is
	 * on disk, as the lease.* events are: commit what is pending first (at most
	 * one fdatasync on the loop; the view is read at a reader's start and resync,
	 * not per lease). */
	lease_store_drain(h->store);
	const char *ifname = arbor_query_get(&req->query, "interface");
	const char *state = arbor_query_get(&req->query, "state");
	const char *mac = arbor_query_get(&req->query, "mac");
	const char *address = arbor_query_get(&req->query, "address");
	const char *hostname = arbor_query_get(&req->query, "hostname");
	if (state && lease_state_from_name(state) < 0) {
		arbor_resp_error(resp, 400, "bad_query", "state is one of offered, bound, released, expired, declined");
		return;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "leases");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct served *sv = &h->served[i];
		if (ifname && strcmp(ifname, sv->ifname) != 0)
			continue;
		const struct lease_table *t = &sv->srv.leases;
		for (uint32_t k = 0; k < t->size; k++) {
			const struct lease *l = t->by_addr[k];
			if (l && lease_matches(l, state, mac, address, hostname))
				cJSON_AddItemToArray(arr, lease_record_encode(sv->ifname, l));
		}
	}
	arbor_resp_json(resp, 200, doc);
}
