/* The peers API (the contract's daemon resources):
 *
 *   GET    /v1/peers[?interface=wg0]   every peer with its status
 *   POST   /v1/peers                   add one (peer_request.h); 201
 *   GET    /v1/peers/NAME              one peer
 *   PATCH  /v1/peers/NAME              enabled, allowed_ips, keepalive, expires
 *   DELETE /v1/peers/NAME
 *   GET    /v1/peers/NAME/config       the client's wg-quick file
 *   GET    /v1/peers/NAME/qr[?format=svg|utf8]   the same as a QR code
 *
 * A change is made on a copy of the registry, applied to the device, written
 * to disk, and only then installed and acknowledged. When the device refuses
 * it, the device is reconciled back to the registry as it was and the answer
 * says why; when the write fails, the same. Nothing is half-applied. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "peer_request.h"
#include "qr.h"
#include "wg_key.h"
#include "wgd.h"
#include "wgquick.h"
#include "xalloc.h"

static struct wgd *wgd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

cJSON *wgd_peer_event_data(const struct wgd_peer *p)
{
	char text[INET6_ADDRSTRLEN];
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "name", p->name);
	cJSON_AddStringToObject(data, "interface", p->interface);
	if (p->has_ipv4)
		cJSON_AddStringToObject(data, "ipv4", inet_ntop(AF_INET, &p->ipv4, text, sizeof text));
	if (p->has_ipv6)
		cJSON_AddStringToObject(data, "ipv6", inet_ntop(AF_INET6, &p->ipv6, text, sizeof text));
	cJSON_AddBoolToObject(data, "enabled", p->enabled);
	return data;
}

/* The peer named by path segment 2, or a 404 answered. */
static struct wgd_peer *peer_from_path(struct wgd *h, const struct arbor_http_request *req,
				       struct arbor_http_response *resp, size_t *index)
{
	char name[WGD_NAME_MAX + 1];
	struct wgd_peer *p = NULL;
	if (arbor_path_segment(req->path, 2, name, sizeof name))
		p = wgd_registry_find(&h->reg, name);
	if (p == NULL) {
		arbor_resp_error(resp, 404, "not_found", "no peer named %.64s", arbor_path_segment(req->path, 2, name, sizeof name) ? name : "?");
		return NULL;
	}
	*index = (size_t)(p - h->reg.peers);
	return p;
}

/* The interface's own prefixes: a peer's routes must not overlap them. */
static size_t iface_prefixes(const struct wgd_iface *i, struct wg_allowed_ip out[2])
{
	size_t n = 0;
	if (i->cfg->has_address) {
		out[n].family = AF_INET;
		uint32_t mask = ~0u << (32 - i->cfg->prefixlen);
		uint32_t net = htonl(ntohl(i->cfg->address.s_addr) & mask);
		memcpy(out[n].addr, &net, 4);
		out[n++].cidr = (uint8_t)i->cfg->prefixlen;
	}
	if (i->subnet_id) {
		out[n].family = AF_INET6;
		memcpy(out[n].addr, &i->subnet6, 16);
		out[n++].cidr = 64;
	}
	return n;
}

/* Routes behind a peer must not overlap the interface's subnets or any other
 * peer's addresses and routes on that device: WireGuard would silently move
 * the prefix from one peer to the other. */
static bool routes_conflict(struct wgd *h, const struct wgd_iface *i, const char *self, const struct wg_allowed_ip *routes,
			    size_t n, char *err, size_t errlen)
{
	char a[64], b[64];
	struct wg_allowed_ip own[2];
	size_t nown = iface_prefixes(i, own);
	for (size_t r = 0; r < n; r++) {
		for (size_t k = 0; k < nown; k++)
			if (wg_allowed_ip_overlap(&routes[r], &own[k])) {
				snprintf(err, errlen, "allowed_ips[%zu] %s overlaps %s's own subnet %s", r,
					 wg_allowed_ip_format(&routes[r], a, sizeof a), i->name, wg_allowed_ip_format(&own[k], b, sizeof b));
				return true;
			}
		for (size_t k = 0; k < h->reg.n; k++) {
			const struct wgd_peer *q = &h->reg.peers[k];
			if (strcmp(q->interface, i->name) != 0 || strcmp(q->name, self) == 0)
				continue;
			struct wg_peer tmp = { 0 };
			wgd_peer_allowed_ips(q, &tmp);
			for (size_t m = 0; m < tmp.nallowed_ips; m++)
				if (wg_allowed_ip_overlap(&routes[r], &tmp.allowed_ips[m])) {
					snprintf(err, errlen, "allowed_ips[%zu] %s overlaps %s of peer %s", r,
						 wg_allowed_ip_format(&routes[r], a, sizeof a),
						 wg_allowed_ip_format(&tmp.allowed_ips[m], b, sizeof b), q->name);
					free(tmp.allowed_ips);
					return true;
				}
			free(tmp.allowed_ips);
		}
	}
	return false;
}

/* Applies fresh to its interface's device (when up) and writes it; on any
 * failure undoes the device and answers the error. True when fresh is now
 * the registry on disk (the caller installs it). */
static bool commit(struct wgd *h, struct wgd_iface *i, struct wgd_registry *fresh, struct arbor_http_response *resp)
{
	char err[512];
	double now = arbor_time_wall();
	if (i->up) {
		int rc = device_apply(i, fresh, now, NULL, NULL, NULL, err, sizeof err);
		if (rc < 0) {
			char undo[256] = "";
			if (device_apply(i, &h->reg, now, NULL, NULL, NULL, undo, sizeof undo) < 0)
				log_warn("%s: undoing a refused change: %s", i->name, undo);
			h->requests_refused++;
			arbor_resp_error(resp, 502, "device_refused", "%s: the change was not applied: %s", i->name, err);
			return false;
		}
	}
	if (store_save_registry(h, fresh, err, sizeof err) < 0) {
		char undo[256] = "";
		if (i->up && device_apply(i, &h->reg, now, NULL, NULL, NULL, undo, sizeof undo) < 0)
			log_warn("%s: undoing an unsaved change: %s", i->name, undo);
		arbor_resp_error(resp, 500, "state_write_failed", "the registry could not be written: %s", err);
		return false;
	}
	return true;
}

/* The client's wg-quick file for peer p on i; priv is the client's private
 * key when the daemon still holds it (only while answering the POST). */
static void client_config(struct wgd *h, const struct wgd_iface *i, const struct wgd_peer *p, const uint8_t *priv,
			  struct arbor_buf *out)
{
	const struct arbor_config *cfg = arbor_daemon_config(h->d);
	char comment[256], a4[INET_ADDRSTRLEN + 4], a6[INET6_ADDRSTRLEN + 5], gw[INET6_ADDRSTRLEN];
	char aip_text[66][INET6_ADDRSTRLEN + 5];
	const char *addrs[2], *dns[8], *aips[66];
	size_t naddrs = 0, ndns = 0, naips = 0;
	snprintf(comment, sizeof comment, "arbor-wgd: peer %s on %s of %s (%s.%s.%s)", p->name, i->name,
		 cfg->machine.name ? cfg->machine.name : "?", p->name, i->name, cfg->machine.domain);
	if (p->has_ipv4) {
		inet_ntop(AF_INET, &p->ipv4, a4, sizeof a4);
		strcat(a4, "/32");
		addrs[naddrs++] = a4;
	}
	if (p->has_ipv6) {
		inet_ntop(AF_INET6, &p->ipv6, a6, sizeof a6);
		strcat(a6, "/128");
		addrs[naddrs++] = a6;
	}
	if (i->cfg->dns) {
		for (size_t k = 0; k < i->cfg->ndns && k < 8; k++)
			dns[ndns++] = i->cfg->dns[k];
	} else if (i->cfg->has_address) {
		dns[ndns++] = inet_ntop(AF_INET, &i->cfg->address, gw, sizeof gw);
	} else if (i->subnet_id) {
		dns[ndns++] = inet_ntop(AF_INET6, &i->addr6, gw, sizeof gw);
	}
	/* The interface's own subnets, then what the config routes beyond them
	 * (the LANs behind the gateway). */
	struct wg_allowed_ip own[2];
	size_t nown = iface_prefixes(i, own);
	for (size_t k = 0; k < nown; k++)
		aips[naips] = wg_allowed_ip_format(&own[k], aip_text[naips], sizeof aip_text[0]), naips++;
	for (size_t k = 0; k < i->cfg->nclient_allowed_ips && naips < 66; k++) {
		bool dup = false;
		for (size_t m = 0; m < nown; m++)
			dup |= wg_allowed_ip_equal(&own[m], &i->cfg->client_allowed_ips[k]);
		if (!dup)
			aips[naips] = wg_allowed_ip_format(&i->cfg->client_allowed_ips[k], aip_text[naips], sizeof aip_text[0]),
			naips++;
	}
	struct wgquick_client c = {
		.comment = comment,
		.private_key = priv,
		.addresses = addrs,
		.naddresses = naddrs,
		.dns = dns,
		.ndns = ndns,
		.mtu = i->cfg->mtu,
		.server_public_key = i->public_key,
		.preshared_key = p->has_psk ? p->psk : NULL,
		.endpoint = i->cfg->endpoint,
		.allowed_ips = aips,
		.nallowed_ips = naips,
		.keepalive = p->keepalive,
	};
	wgquick_write(&c, out);
}

static void list_peers(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	const char *ifname = arbor_query_get(&req->query, "interface");
	if (ifname && wgd_iface_by_name(h, ifname) == NULL) {
		arbor_resp_error(resp, 404, "not_found", "no interface %.32s", ifname);
		return;
	}
	double now = arbor_time_wall();
	struct arbor_buf out = { 0 };
	arbor_buf_puts(&out, "{\"peers\":[");
	bool first = true;
	for (size_t k = 0; k < h->reg.n; k++) {
		if (ifname && strcmp(h->reg.peers[k].interface, ifname) != 0)
			continue;
		if (!first)
			arbor_buf_puts(&out, ",");
		wgd_peer_write(h, k, now, &out);
		first = false;
	}
	arbor_buf_puts(&out, "]}\n");
	size_t len;
	char *body = arbor_buf_steal(&out, &len);
	arbor_resp_text(resp, 200, "application/json", body, len);
}

static void get_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	size_t k;
	if (peer_from_path(h, req, resp, &k))
		arbor_resp_json(resp, 200, wgd_peer_view(h, k, arbor_time_wall()));
}

static struct wgd_iface *iface_for(struct wgd *h, const char *name, struct arbor_http_response *resp)
{
	if (name[0]) {
		struct wgd_iface *i = wgd_iface_by_name(h, name);
		if (i == NULL)
			arbor_resp_error(resp, 404, "not_found", "no interface %s is configured", name);
		return i;
	}
	if (h->nifaces == 1)
		return h->ifaces[0];
	arbor_resp_error(resp, 400, "bad_request", h->nifaces ? "interface: give one (several are configured)"
							      : "no interface is configured");
	return NULL;
}

static void add_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	struct peer_create_req r;
	char err[512];
	if (peer_request_parse_create(req->body, req->body_len, &r, err, sizeof err) < 0) {
		arbor_resp_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	struct wgd_iface *i = iface_for(h, r.interface, resp);
	if (i == NULL)
		return;
	const struct wgd_peer *dup = wgd_registry_find(&h->reg, r.name);
	if (dup) {
		arbor_resp_error(resp, 409, "exists", "a peer named %s exists (on %s)", r.name, dup->interface);
		return;
	}
	double now = arbor_time_wall();
	if (r.expires && r.expires <= (int64_t)now) {
		arbor_resp_error(resp, 400, "bad_request", "expires is in the past");
		return;
	}
	struct wgd_peer p = { .enabled = r.enabled, .created_at = (int64_t)now, .expires = r.expires };
	snprintf(p.name, sizeof p.name, "%s", r.name);
	snprintf(p.interface, sizeof p.interface, "%s", i->name);
	uint8_t priv[WG_KEY_LEN];
	bool generated = !r.has_public_key;
	if (generated) {
		wg_key_generate_private(priv);
		wg_key_public(p.public_key, priv);
	} else {
		memcpy(p.public_key, r.public_key, WG_KEY_LEN);
	}
	p.key_generated = generated;
	const struct wgd_peer *same = wgd_registry_find_key(&h->reg, p.public_key);
	if (same || memcmp(p.public_key, i->public_key, WG_KEY_LEN) == 0) {
		arbor_resp_error(resp, 409, "exists", "public_key is already %s's", same ? same->name : "the interface");
		goto out;
	}
	if (r.generate_psk || r.has_psk) {
		p.has_psk = true;
		if (r.generate_psk)
			wg_key_generate_preshared(p.psk);
		else
			memcpy(p.psk, r.psk, WG_KEY_LEN);
	}
	p.keepalive = r.has_keepalive ? r.keepalive : i->cfg->keepalive;
	if (i->cfg->has_address) {
		uint32_t mask = ~0u << (32 - i->cfg->prefixlen);
		struct in_addr net = { htonl(ntohl(i->cfg->address.s_addr) & mask) };
		if (wgd_registry_alloc_ipv4(&h->reg, i->name, net, i->cfg->prefixlen, i->cfg->address, &p.ipv4) < 0) {
			char t[INET_ADDRSTRLEN];
			arbor_resp_error(resp, 409, "pool_exhausted", "%s's address pool %s/%u is exhausted: no free IPv4 address",
					 i->name, inet_ntop(AF_INET, &net, t, sizeof t), i->cfg->prefixlen);
			goto out;
		}
		p.has_ipv4 = true;
	}
	if (i->subnet_id) {
		if (wgd_registry_derive_ipv6(&h->reg, i->name, &i->subnet6, &i->addr6, p.name, &p.ipv6) < 0) {
			arbor_resp_error(resp, 409, "address_taken", "the IPv6 address derived from %s is taken on %s",
					 p.name, i->name);
			goto out;
		}
		p.has_ipv6 = true;
	}
	if (routes_conflict(h, i, p.name, r.routes, r.nroutes, err, sizeof err)) {
		arbor_resp_error(resp, 409, "overlap", "%s", err);
		goto out;
	}
	p.routes = r.routes;
	p.nroutes = r.nroutes;
	struct wgd_registry fresh;
	wgd_registry_copy(&fresh, &h->reg);
	wgd_registry_add(&fresh, &p);
	p.routes = NULL;
	if (!commit(h, i, &fresh, resp)) {
		wgd_registry_free(&fresh);
		goto out;
	}
	wgd_install_registry(h, &fresh);
	size_t k = h->reg.n - 1;
	const struct wgd_peer *added = &h->reg.peers[k];
	char a4[INET_ADDRSTRLEN] = "-";
	if (added->has_ipv4)
		inet_ntop(AF_INET, &added->ipv4, a4, sizeof a4);
	arbor_event_emit(arbor_daemon_events(d), "peer.added", "info", added->name, wgd_peer_event_data(added),
			 "peer %s added on %s (%s)", added->name, i->name, a4);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "peer", wgd_peer_view(h, k, now));
	if (generated) {
		/* The only time the private key leaves, and then it is gone. */
		char b64[WG_KEY_B64_LEN + 1];
		wg_key_to_base64(priv, b64);
		cJSON_AddStringToObject(doc, "private_key", b64);
		wg_key_wipe(b64, sizeof b64);
		struct arbor_buf conf = { 0 }, q = { 0 };
		client_config(h, i, added, priv, &conf);
		cJSON_AddStringToObject(doc, "config", conf.data);
		if (qr_render(conf.data, QR_UTF8, &q) == 0)
			cJSON_AddStringToObject(doc, "qr", q.data);
		wg_key_wipe(conf.data, conf.len);
		arbor_buf_free(&conf);
		arbor_buf_free(&q);
	}
	arbor_resp_json(resp, 201, doc);
out:
	wg_key_wipe(priv, sizeof priv);
	wgd_peer_free(&p);
	wg_key_wipe(&r, sizeof r);
}

static void patch_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	size_t k;
	struct wgd_peer *cur = peer_from_path(h, req, resp, &k);
	if (cur == NULL)
		return;
	struct peer_patch_req r;
	char err[512];
	if (peer_request_parse_patch(req->body, req->body_len, &r, err, sizeof err) < 0) {
		arbor_resp_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	double now = arbor_time_wall();
	if (r.has_expires && r.expires && r.expires <= (int64_t)now) {
		arbor_resp_error(resp, 400, "bad_request", "expires is in the past");
		return;
	}
	struct wgd_iface *i = wgd_iface_by_name(h, cur->interface);
	if (i == NULL) {
		arbor_resp_error(resp, 409, "no_interface", "%s's interface %s is not configured", cur->name, cur->interface);
		return;
	}
	if (r.has_routes && routes_conflict(h, i, cur->name, r.routes, r.nroutes, err, sizeof err)) {
		arbor_resp_error(resp, 409, "overlap", "%s", err);
		return;
	}
	bool was_enabled = cur->enabled;
	struct wgd_registry fresh;
	wgd_registry_copy(&fresh, &h->reg);
	struct wgd_peer *p = &fresh.peers[k];
	if (r.has_enabled)
		p->enabled = r.enabled;
	if (r.has_keepalive)
		p->keepalive = r.keepalive;
	if (r.has_expires)
		p->expires = r.expires;
	if (r.has_routes) {
		free(p->routes);
		p->routes = r.nroutes ? xreallocarray(NULL, r.nroutes, sizeof *p->routes) : NULL;
		if (r.nroutes)
			memcpy(p->routes, r.routes, r.nroutes * sizeof *p->routes);
		p->nroutes = r.nroutes;
	}
	if (!commit(h, i, &fresh, resp)) {
		wgd_registry_free(&fresh);
		return;
	}
	wgd_install_registry(h, &fresh);
	const struct wgd_peer *now_p = &h->reg.peers[k];
	if (was_enabled && !now_p->enabled) { /* off the device: back from zero */
		peer_counters_new_epoch(&wgd_rt(h, k)->c);
		h->counters_dirty = h->counters_urgent = true;
	}
	arbor_event_emit(arbor_daemon_events(d), "peer.updated", "info", now_p->name, wgd_peer_event_data(now_p),
			 "peer %s updated (%s)", now_p->name, now_p->enabled ? "enabled" : "disabled");
	arbor_resp_json(resp, 200, wgd_peer_view(h, k, now));
}

static void delete_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	size_t k;
	struct wgd_peer *cur = peer_from_path(h, req, resp, &k);
	if (cur == NULL)
		return;
	struct wgd_iface *i = wgd_iface_by_name(h, cur->interface);
	cJSON *data = wgd_peer_event_data(cur);
	char name[WGD_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", cur->name);
	struct wgd_registry fresh;
	wgd_registry_copy(&fresh, &h->reg);
	wgd_registry_remove(&fresh, name);
	bool ok;
	if (i) {
		ok = commit(h, i, &fresh, resp);
	} else {
		char err[256];
		ok = store_save_registry(h, &fresh, err, sizeof err) == 0;
		if (!ok)
			arbor_resp_error(resp, 500, "state_write_failed", "the registry could not be written: %s", err);
	}
	if (!ok) {
		wgd_registry_free(&fresh);
		cJSON_Delete(data);
		return;
	}
	wgd_install_registry(h, &fresh);
	arbor_event_emit(arbor_daemon_events(d), "peer.removed", "info", name, data, "peer %s removed", name);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "peer", name);
	cJSON_AddBoolToObject(doc, "deleted", true);
	arbor_resp_json(resp, 200, doc);
}

/* An export: the peer's config as text or QR. Fetching it is what clears
 * export_stale (the client can now have the current interface key). */
static void export_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp,
			bool qr)
{
	struct wgd *h = wgd_of(d);
	size_t k;
	struct wgd_peer *p = peer_from_path(h, req, resp, &k);
	if (p == NULL)
		return;
	struct wgd_iface *i = wgd_iface_by_name(h, p->interface);
	if (i == NULL) {
		arbor_resp_error(resp, 409, "no_interface", "%s's interface %s is not configured", p->name, p->interface);
		return;
	}
	const char *format = arbor_query_get(&req->query, "format");
	if (qr && format && strcmp(format, "svg") != 0 && strcmp(format, "utf8") != 0) {
		arbor_resp_error(resp, 400, "bad_query", "format is svg or utf8");
		return;
	}
	struct arbor_buf conf = { 0 };
	client_config(h, i, p, NULL, &conf);
	if (p->export_stale) {
		struct wgd_registry fresh;
		char err[256];
		wgd_registry_copy(&fresh, &h->reg);
		fresh.peers[k].export_stale = false;
		if (store_save_registry(h, &fresh, err, sizeof err) == 0)
			wgd_install_registry(h, &fresh);
		else
			wgd_registry_free(&fresh);
	}
	if (!qr) {
		size_t len;
		char *body = arbor_buf_steal(&conf, &len);
		arbor_resp_text(resp, 200, "text/plain; charset=utf-8", body, len);
		return;
	}
	struct arbor_buf out = { 0 };
	bool svg = format == NULL || strcmp(format, "svg") == 0;
	if (qr_render(conf.data, svg ? QR_SVG : QR_UTF8, &out) < 0) {
		arbor_resp_error(resp, 500, "qr_failed", "the config does not fit a QR code");
	} else {
		size_t len;
		char *body = arbor_buf_steal(&out, &len);
		arbor_resp_text(resp, 200, svg ? "image/svg+xml" : "text/plain; charset=utf-8", body, len);
	}
	wg_key_wipe(conf.data, conf.len);
	arbor_buf_free(&conf);
	arbor_buf_free(&out);
}

static void config_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	export_peer(d, req, resp, false);
}

static void qr_peer(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	export_peer(d, req, resp, true);
}

const struct arbor_resource wgd_resources[] = {
	{ "GET", "/v1/peers", list_peers, false },
	{ "POST", "/v1/peers", add_peer, false },
	{ "GET", "/v1/peers/*", get_peer, false },
	{ "PATCH", "/v1/peers/*", patch_peer, false },
	{ "DELETE", "/v1/peers/*", delete_peer, false },
	{ "GET", "/v1/peers/*/config", config_peer, true },
	{ "GET", "/v1/peers/*/qr", qr_peer, true },
};
const size_t wgd_nresources = sizeof wgd_resources / sizeof wgd_resources[0];
