/* What wgd tells: each peer's honest status (peer_status.h) as the view and
 * the peer.online / peer.offline events show it, the daemon's status, health
 * and Prometheus metrics. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "wg_key.h"
#include "wgd.h"

static struct wgd *wgd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

/* ,"key":"<RFC 3339>" or ,"key":null */
static void put_time(struct arbor_buf *out, const char *key, double t)
{
	if (t <= 0) {
		arbor_buf_printf(out, ",\"%s\":null", key);
		return;
	}
	struct timespec ts = { (time_t)t, (long)((t - floor(t)) * 1e9) };
	char text[40];
	arbor_time_rfc3339(&ts, text, sizeof text);
	arbor_buf_printf(out, ",\"%s\":\"%s\"", key, text);
}

static struct peer_observation observation(struct wgd *h, size_t k, double now)
{
	const struct wgd_peer *p = &h->reg.peers[k];
	const struct peer_rt *rt = wgd_rt(h, k);
	return (struct peer_observation){
		.enabled = p->enabled,
		.expired = p->expires && p->expires <= (int64_t)now,
		.last_handshake = rt->c.last_handshake,
		.last_rx_at = rt->c.last_rx_at,
		.keepalive = p->keepalive,
		.poll_interval = wgd_cfg(h)->poll_interval,
	};
}

/* The view is written as text: GET /v1/peers with a thousand peers is the
 * hot path, and building a cJSON tree of them cost several times as much. */
void wgd_peer_write(struct wgd *h, size_t k, double now, struct arbor_buf *out)
{
	const struct wgd_peer *p = &h->reg.peers[k];
	const struct peer_rt *rt = wgd_rt(h, k);
	char key[WG_KEY_B64_LEN + 1], a[INET6_ADDRSTRLEN + 8];
	arbor_buf_printf(out, "{\"name\":\"%s\",\"interface\":", p->name);
	arbor_json_put_string(out, p->interface);
	wg_key_to_base64(p->public_key, key);
	arbor_buf_printf(out, ",\"public_key\":\"%s\"", key);
	if (p->has_ipv4)
		arbor_buf_printf(out, ",\"ipv4\":\"%s\"", inet_ntop(AF_INET, &p->ipv4, a, sizeof a));
	if (p->has_ipv6)
		arbor_buf_printf(out, ",\"ipv6\":\"%s\"", inet_ntop(AF_INET6, &p->ipv6, a, sizeof a));
	arbor_buf_puts(out, ",\"allowed_ips\":[");
	for (size_t r = 0; r < p->nroutes; r++)
		arbor_buf_printf(out, "%s\"%s\"", r ? "," : "", wg_allowed_ip_format(&p->routes[r], a, sizeof a));
	arbor_buf_printf(out, "],\"persistent_keepalive\":%u,\"enabled\":%s,\"key_generated\":%s,\"export_stale\":%s",
			 p->keepalive, p->enabled ? "true" : "false", p->key_generated ? "true" : "false",
			 p->export_stale ? "true" : "false");
	put_time(out, "created_at", (double)p->created_at);
	put_time(out, "expires", (double)p->expires);
	arbor_buf_printf(out, ",\"preshared_key\":%s", p->has_psk ? "true" : "false");
	struct peer_observation ob = observation(h, k, now);
	enum peer_reason r = peer_classify(&ob, now);
	arbor_buf_printf(out, ",\"status\":{\"online\":%s", r == PEER_ONLINE ? "true" : "false");
	if (r != PEER_ONLINE)
		arbor_buf_printf(out, ",\"reason\":\"%s\"", peer_reason_name(r));
	put_time(out, "last_handshake", rt->c.last_handshake);
	if (rt->c.last_handshake > 0)
		arbor_buf_printf(out, ",\"last_handshake_age_s\":%.1f", now - rt->c.last_handshake);
	else
		arbor_buf_puts(out, ",\"last_handshake_age_s\":null");
	if (rt->endpoint[0])
		arbor_buf_printf(out, ",\"endpoint\":\"%s\"", rt->endpoint);
	else
		arbor_buf_puts(out, ",\"endpoint\":null");
	arbor_buf_printf(out, ",\"rx_bytes\":%llu,\"tx_bytes\":%llu,\"offline_after_s\":%.1f}}",
			 (unsigned long long)rt->c.rx_total, (unsigned long long)rt->c.tx_total,
			 peer_offline_bound(p->keepalive, ob.poll_interval));
}

cJSON *wgd_peer_view(struct wgd *h, size_t k, double now)
{
	struct arbor_buf b = { 0 };
	wgd_peer_write(h, k, now, &b);
	cJSON *o = cJSON_ParseWithLength(b.data, b.len);
	arbor_buf_free(&b);
	return o;
}

/* Emits peer.online / peer.offline when the status changed. The first
 * status after a start is announced only when the peer is online (every
 * offline peer would otherwise be announced at each restart). */
static void update_status(struct wgd *h, size_t k, double now)
{
	struct peer_rt *rt = wgd_rt(h, k);
	const struct wgd_peer *p = &h->reg.peers[k];
	struct peer_observation ob = observation(h, k, now);
	enum peer_reason r = peer_classify(&ob, now);
	/* An expiry is announced when it happens while wgd runs (dnsd drops the
	 * peer's names on it), not again at every start. */
	if (rt->expiry_seen && ob.expired && !rt->was_expired)
		arbor_event_emit(arbor_daemon_events(h->d), "peer.expired", "info", p->name, wgd_peer_event_data(p),
				 "peer %s expired: it left the device", p->name);
	rt->expiry_seen = true;
	rt->was_expired = ob.expired;
	bool was_online = rt->reported && rt->reason == PEER_ONLINE;
	bool first = !rt->reported;
	rt->reported = true;
	rt->reason = r;
	if ((r == PEER_ONLINE) == was_online && !(first && r == PEER_ONLINE))
		return;
	if (first && r != PEER_ONLINE)
		return;
	cJSON *data = wgd_peer_event_data(p);
	if (rt->endpoint[0])
		cJSON_AddStringToObject(data, "endpoint", rt->endpoint);
	if (rt->c.last_handshake > 0)
		arbor_json_add_fixed(data, "last_handshake_age_s", now - rt->c.last_handshake, 1);
	if (r == PEER_ONLINE) {
		arbor_event_emit(arbor_daemon_events(h->d), "peer.online", "info", p->name, data, "peer %s is online%s%s",
				 p->name, rt->endpoint[0] ? " from " : "", rt->endpoint);
	} else {
		cJSON_AddStringToObject(data, "reason", peer_reason_name(r));
		arbor_event_emit(arbor_daemon_events(h->d), "peer.offline", "info", p->name, data, "peer %s is offline (%s)",
				 p->name, peer_reason_name(r));
	}
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(((const struct wg_peer *)a)->public_key, ((const struct wg_peer *)b)->public_key, WG_KEY_LEN);
}

void wgd_observe(struct wgd *h, struct wgd_iface *i, const struct wg_device *actual, double now)
{
	/* Sorted by key for lookups: the reading may hold thousands of peers. */
	struct wg_device sorted = *actual;
	if (sorted.npeers)
		qsort(sorted.peers, sorted.npeers, sizeof *sorted.peers, cmp_key);
	for (size_t k = 0; k < h->reg.n; k++) {
		const struct wgd_peer *p = &h->reg.peers[k];
		if (strcmp(p->interface, i->name) != 0)
			continue;
		struct wg_peer key;
		memcpy(key.public_key, p->public_key, WG_KEY_LEN);
		const struct wg_peer *w =
			sorted.npeers ? bsearch(&key, sorted.peers, sorted.npeers, sizeof *sorted.peers, cmp_key) : NULL;
		struct peer_rt *rt = wgd_rt(h, k);
		if (w) {
			double hs = (double)w->last_handshake_sec + (double)w->last_handshake_nsec / 1e9;
			uint64_t rx0 = rt->c.rx_total, tx0 = rt->c.tx_total;
			int seen = peer_counters_observe(&rt->c, (uint32_t)i->ifindex, w->rx_bytes, w->tx_bytes, hs, now);
			if (rt->c.rx_total != rx0 || rt->c.tx_total != tx0)
				h->counters_dirty = true;
			if (seen & PEER_NEW_EPOCH)
				h->counters_dirty = h->counters_urgent = true;
			char ep[64];
			wg_endpoint_format(w, ep, sizeof ep);
			if (ep[0])
				snprintf(rt->endpoint, sizeof rt->endpoint, "%s", ep);
		}
		update_status(h, k, now);
	}
}

void wgd_observe_rest(struct wgd *h, double now)
{
	for (size_t k = 0; k < h->reg.n; k++) {
		const struct wgd_iface *i = wgd_iface_by_name(h, h->reg.peers[k].interface);
		if (i == NULL || !i->up)
			update_status(h, k, now);
	}
}

void wgd_status(struct arbor_daemon *d, cJSON *status)
{
	struct wgd *h = wgd_of(d);
	double now = arbor_time_wall();
	cJSON *own = cJSON_AddObjectToObject(status, "wgd");
	cJSON *ifs = cJSON_AddArrayToObject(own, "interfaces");
	for (size_t n = 0; n < h->nifaces; n++) {
		const struct wgd_iface *i = h->ifaces[n];
		cJSON *o = cJSON_CreateObject();
		char key[WG_KEY_B64_LEN + 1], t[INET6_ADDRSTRLEN + 8];
		cJSON_AddStringToObject(o, "name", i->name);
		cJSON_AddStringToObject(o, "backend", wgd_backend_name(i->backend));
		cJSON_AddBoolToObject(o, "up", i->up);
		arbor_json_add_int(o, "ifindex", i->ifindex);
		if (i->pid > 0)
			arbor_json_add_int(o, "wireguard_go_pid", i->pid);
		cJSON_AddBoolToObject(o, "adopted", i->adopted);
		wg_key_to_base64(i->public_key, key);
		cJSON_AddStringToObject(o, "public_key", key);
		arbor_json_add_int(o, "listen_port", i->cfg->listen_port);
		if (i->cfg->has_address) {
			inet_ntop(AF_INET, &i->cfg->address, t, sizeof t);
			snprintf(t + strlen(t), sizeof t - strlen(t), "/%u", i->cfg->prefixlen);
			cJSON_AddStringToObject(o, "address", t);
		}
		if (i->subnet_id) {
			inet_ntop(AF_INET6, &i->addr6, t, sizeof t);
			strcat(t, "/64");
			cJSON_AddStringToObject(o, "address6", t);
			arbor_json_add_int(o, "subnet_id", i->subnet_id);
		}
		if (i->cfg->endpoint)
			cJSON_AddStringToObject(o, "endpoint", i->cfg->endpoint);
		size_t peers = 0, online = 0;
		for (size_t k = 0; k < h->reg.n; k++) {
			if (strcmp(h->reg.peers[k].interface, i->name) != 0)
				continue;
			peers++;
			struct peer_observation ob = observation(h, k, now);
			online += peer_classify(&ob, now) == PEER_ONLINE;
		}
		arbor_json_add_int(o, "peers", (long long)peers);
		arbor_json_add_int(o, "online", (long long)online);
		arbor_json_add_int(o, "reconciles", (long long)i->reconciles);
		arbor_json_add_int(o, "repairs", (long long)i->repairs);
		arbor_json_add_int(o, "apply_errors", (long long)i->apply_errors);
		arbor_json_add_int(o, "restarts", (long long)i->restarts);
		arbor_json_add_fixed(o, "last_reconcile_ms", i->reconcile_ms, 2);
		if (i->error[0])
			cJSON_AddStringToObject(o, "error", i->error);
		cJSON_AddItemToArray(ifs, o);
	}
	arbor_json_add_int(own, "peers", (long long)h->reg.n);
	arbor_json_add_int(own, "polls", (long long)h->polls);
	arbor_json_add_fixed(own, "poll_interval", wgd_cfg(h)->poll_interval, 3);
	if (h->kwg == NULL)
		cJSON_AddStringToObject(own, "kernel_wireguard", h->kernel_why);
	else
		cJSON_AddStringToObject(own, "kernel_wireguard", "available");
}

enum arbor_health wgd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct wgd *h = wgd_of(d);
	enum arbor_health health = ARBOR_HEALTH_OK;
	for (size_t k = 0; k < h->reg.n; k++) {
		const char *ifname = h->reg.peers[k].interface;
		if (wgd_iface_by_name(h, ifname))
			continue;
		bool first = true;
		for (size_t m = 0; m < k && first; m++)
			first = strcmp(h->reg.peers[m].interface, ifname) != 0;
		if (first) {
			char r[160];
			snprintf(r, sizeof r, "peers on %s, which is not configured (peer %s first)", ifname, h->reg.peers[k].name);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(r));
			health = ARBOR_HEALTH_DEGRADED;
		}
	}
	for (size_t n = 0; n < h->nifaces; n++) {
		const struct wgd_iface *i = h->ifaces[n];
		if (!i->up) {
			char r[400];
			snprintf(r, sizeof r, "%s is down: %s", i->name, i->error[0] ? i->error : "starting");
			cJSON_AddItemToArray(reasons, cJSON_CreateString(r));
			health = ARBOR_HEALTH_DEGRADED;
		} else if (i->error[0]) {
			char r[400];
			snprintf(r, sizeof r, "%s: %s", i->name, i->error);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(r));
			health = ARBOR_HEALTH_DEGRADED;
		}
	}
	return health;
}

/* Label values are names (a-z, 0-9, '-') and interface names; an interface
 * name may hold '"' or '\\', which Prometheus wants escaped. */
static void label(struct arbor_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			arbor_buf_append(out, "\\", 1);
		arbor_buf_append(out, s, 1);
	}
}

void wgd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct wgd *h = wgd_of(d);
	double now = arbor_time_wall();
	static const char *const iface_help[] = {
		"# HELP arbor_wgd_interface_up Whether the WireGuard device answers.\n# TYPE arbor_wgd_interface_up gauge\n",
		"# HELP arbor_wgd_interface_restarts_total Times the device was brought back.\n"
		"# TYPE arbor_wgd_interface_restarts_total counter\n",
		"# HELP arbor_wgd_interface_repairs_total Reconciliations that had to change the device.\n"
		"# TYPE arbor_wgd_interface_repairs_total counter\n",
	};
	static const char *const iface_names[] = { "arbor_wgd_interface_up", "arbor_wgd_interface_restarts_total",
						   "arbor_wgd_interface_repairs_total" };
	for (int m = 0; m < 3; m++) {
		arbor_buf_puts(out, iface_help[m]);
		for (size_t n = 0; n < h->nifaces; n++) {
			const struct wgd_iface *i = h->ifaces[n];
			unsigned long long v = m == 0 ? i->up : m == 1 ? i->restarts : i->repairs;
			arbor_buf_printf(out, "%s{interface=\"", iface_names[m]);
			label(out, i->name);
			arbor_buf_printf(out, "\"} %llu\n", v);
		}
	}
	static const char *const help[] = {
		"# HELP arbor_wgd_peer_online 1 when the peer is online (a handshake within 180 s; with a keepalive, heard from within 2 keepalives).\n# TYPE arbor_wgd_peer_online gauge\n",
		"# HELP arbor_wgd_peer_receive_bytes_total Bytes received from the peer, cumulative across restarts.\n# TYPE arbor_wgd_peer_receive_bytes_total counter\n",
		"# HELP arbor_wgd_peer_transmit_bytes_total Bytes sent to the peer, cumulative across restarts.\n# TYPE arbor_wgd_peer_transmit_bytes_total counter\n",
		"# HELP arbor_wgd_peer_last_handshake_seconds Time of the last handshake (seconds since the epoch, 0: never).\n# TYPE arbor_wgd_peer_last_handshake_seconds gauge\n",
		"# HELP arbor_wgd_peer_enabled 1 when the peer is enabled and not expired.\n# TYPE arbor_wgd_peer_enabled gauge\n",
	};
	for (int m = 0; m < 5; m++) {
		arbor_buf_puts(out, help[m]);
		static const char *const names[] = { "arbor_wgd_peer_online", "arbor_wgd_peer_receive_bytes_total",
						     "arbor_wgd_peer_transmit_bytes_total", "arbor_wgd_peer_last_handshake_seconds",
						     "arbor_wgd_peer_enabled" };
		for (size_t k = 0; k < h->reg.n; k++) {
			const struct wgd_peer *p = &h->reg.peers[k];
			const struct peer_rt *rt = wgd_rt(h, k);
			arbor_buf_printf(out, "%s{interface=\"", names[m]);
			label(out, p->interface);
			arbor_buf_printf(out, "\",peer=\"%s\"} ", p->name);
			struct peer_observation ob;
			switch (m) {
			case 0:
				ob = observation(h, k, now);
				arbor_buf_printf(out, "%d\n", peer_classify(&ob, now) == PEER_ONLINE);
				break;
			case 1: arbor_buf_printf(out, "%llu\n", (unsigned long long)rt->c.rx_total); break;
			case 2: arbor_buf_printf(out, "%llu\n", (unsigned long long)rt->c.tx_total); break;
			case 3: arbor_buf_printf(out, "%.3f\n", rt->c.last_handshake); break;
			default:
				arbor_buf_printf(out, "%d\n", p->enabled && !(p->expires && p->expires <= (int64_t)now));
				break;
			}
		}
	}
}
