/* arbor-wgd: a WireGuard gateway. Interfaces come from the config; their
 * devices run in the kernel (generic netlink) or as wireguard-go (its UAPI
 * socket); the peer registry (registry.h) is the truth and each device is
 * reconciled to it at start, after every change through the API and every
 * poll_interval, when the honest status and the cumulative counters are also
 * read. This file is the wiring: start, reload, stop, the poll, SIGCHLD, the
 * rotate-key command. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "addr_derive.h"
#include "clock.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "netcfg.h"
#include "subnet_ids.h"
#include "wg_key.h"
#include "wgd.h"
#include "xalloc.h"

static struct wgd *wgd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

struct peer_rt *wgd_rt(struct wgd *h, size_t k)
{
	if (k >= h->rt_cap) {
		size_t cap = h->reg.n > k + 1 ? h->reg.n : k + 1;
		h->rt = xreallocarray(h->rt, cap, sizeof *h->rt);
		memset(h->rt + h->rt_cap, 0, (cap - h->rt_cap) * sizeof *h->rt);
		h->rt_cap = cap;
	}
	return &h->rt[k];
}

void wgd_install_registry(struct wgd *h, struct wgd_registry *fresh)
{
	struct peer_rt *rt = xcalloc(fresh->n + 1, sizeof *rt);
	size_t j = 0;
	for (size_t k = 0; k < fresh->n; k++) {
		const char *name = fresh->peers[k].name;
		/* Changes keep the order, so the old entry is nearly always next. */
		if (j < h->reg.n && strcmp(h->reg.peers[j].name, name) == 0) {
			rt[k] = *wgd_rt(h, j++);
			continue;
		}
		for (size_t m = 0; m < h->reg.n; m++)
			if (strcmp(h->reg.peers[m].name, name) == 0) {
				rt[k] = *wgd_rt(h, m);
				j = m + 1;
				break;
			}
	}
	free(h->rt);
	h->rt = rt;
	h->rt_cap = fresh->n + 1;
	wgd_registry_free(&h->reg);
	h->reg = *fresh;
	memset(fresh, 0, sizeof *fresh);
}

/* ---- the poll ---- */

static bool device_gone(int rc)
{
	return rc == -ECONNREFUSED || rc == -ENOENT || rc == -ENODEV || rc == -ECONNRESET || rc == -ETIMEDOUT ||
	       rc == -EPIPE;
}

/* A reconcile that had to change the device although nothing in wgd asked
 * for it: someone changed it by hand (wg set ... remove), or it was created
 * anew. Says what was put back. */
static void report_repair(struct wgd *h, struct wgd_iface *i, const struct wg_device *set,
			  const struct reconcile_counts *c)
{
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", i->name);
	cJSON *restored = cJSON_AddArrayToObject(data, "restored");
	cJSON *updated = cJSON_AddArrayToObject(data, "updated");
	cJSON *removed = cJSON_AddArrayToObject(data, "removed");
	for (size_t n = 0; n < set->npeers; n++) {
		const struct wg_peer *w = &set->peers[n];
		struct wgd_peer *p = wgd_registry_find_key(&h->reg, w->public_key);
		if (w->flags & WG_PEER_REMOVE) {
			char key[WG_KEY_B64_LEN + 1];
			wg_key_to_base64(w->public_key, key);
			cJSON_AddItemToArray(removed, cJSON_CreateString(key));
		} else if (p) {
			cJSON_AddItemToArray(w->flags & WG_PEER_UPDATE_ONLY ? updated : restored, cJSON_CreateString(p->name));
			if (!(w->flags & WG_PEER_UPDATE_ONLY)) { /* re-created: its counters restart */
				peer_counters_new_epoch(&wgd_rt(h, (size_t)(p - h->reg.peers))->c);
				h->counters_dirty = h->counters_urgent = true;
			}
		}
	}
	cJSON_AddBoolToObject(data, "device", c->device);
	i->repairs++;
	arbor_event_emit(arbor_daemon_events(h->d), "device.repaired", "warning", i->name, data,
			 "%s differed from the registry: %zu peers restored, %zu updated, %zu removed%s", i->name, c->added,
			 c->updated, c->removed, c->device ? ", device key or port reset" : "");
}

static void poll_iface(struct wgd *h, struct wgd_iface *i, double now)
{
	struct reconcile_counts c;
	struct wg_device actual = { 0 }, set = { 0 };
	char err[512];
	int rc = device_apply(i, &h->reg, now, &c, &actual, &set, err, sizeof err);
	if (rc < 0) {
		if (device_gone(rc))
			device_lost(i, err);
		else
			snprintf(i->error, sizeof i->error, "%s", err);
		return;
	}
	if (c.added || c.updated || c.removed || c.device)
		report_repair(h, i, &set, &c);
	wg_device_free(&set);
	wgd_observe(h, i, &actual, now);
	wg_device_free(&actual);
	rc = netcfg_apply(h->nl, i->ifindex, i->cfg, i->subnet_id ? &i->addr6 : NULL, err, sizeof err);
	if (rc == -ENODEV) {
		device_lost(i, "the link is gone");
		return;
	}
	snprintf(i->error, sizeof i->error, "%s", rc < 0 ? err : "");
}

static void poll_all(struct wgd *h)
{
	double now = arbor_time_wall();
	h->polls++;
	for (size_t n = 0; n < h->nifaces; n++)
		if (h->ifaces[n]->up)
			poll_iface(h, h->ifaces[n], now);
	wgd_observe_rest(h, now);
	if (h->counters_dirty &&
	    (h->counters_urgent || arbor_time_monotonic() - h->last_save >= wgd_cfg(h)->save_interval)) {
		char err[256];
		if (store_save_counters(h, err, sizeof err) < 0)
			log_warn("counters: %s", err);
		else
			h->counters_urgent = false;
		h->last_save = arbor_time_monotonic();
	}
}

static void on_poll(evutil_socket_t fd, short what, void *ctx)
{
	poll_all(ctx);
}

void wgd_reconcile_all(struct wgd *h, const char *why)
{
	log_debug("reconcile: %s", why);
	poll_all(h);
}

static void on_sigchld(evutil_socket_t fd, short what, void *ctx)
{
	struct wgd *h = ctx;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t n = 0; n < h->nifaces; n++) {
			struct wgd_iface *i = h->ifaces[n];
			if (i->pid != pid)
				continue;
			i->pid = 0;
			char why[128];
			if (WIFEXITED(status))
				snprintf(why, sizeof why, "wireguard-go (pid %ld) exited with status %d", (long)pid, WEXITSTATUS(status));
			else
				snprintf(why, sizeof why, "wireguard-go (pid %ld) was killed by signal %d", (long)pid,
					 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			device_lost(i, why);
		}
	}
}

/* ---- interfaces ---- */

/* The interface's subnet id: configured, else what the registry used, else
 * the machine's table (numbered there now if it has none). */
static int resolve_subnet_id(struct wgd *h, const struct wgd_iface_config *ic, uint16_t *out, char *err, size_t errlen)
{
	if (ic->subnet_id) {
		*out = ic->subnet_id;
		return 0;
	}
	uint16_t known = wgd_registry_subnet_id(&h->reg, ic->name);
	if (known) {
		*out = known;
		return 0;
	}
	struct arbor_subnet_ids t;
	char why[400];
	int rc = arbor_subnet_ids_load(&t, arbor_daemon_subnets6_dir(h->d), ARBOR_SUBNET_IDS_FILE, why, sizeof why);
	if (rc == 0)
		rc = arbor_subnet_ids_assign_virtual(&t, ic->name, why, sizeof why);
	arbor_subnet_ids_free(&t);
	if (rc < 0) {
		snprintf(err, errlen, "%s: no subnet id in the machine's table (%s); set wgd.interfaces[].subnet_id", ic->name,
			 why);
		return rc;
	}
	*out = (uint16_t)rc;
	return 0;
}

/* Sets i's keys and addresses from its config. Peers whose IPv6 address was
 * derived on another /64 (the subnet id changed) get the new one, and their
 * exported configs are stale. Returns whether the registry changed. */
static int iface_prepare(struct wgd *h, struct wgd_iface *i, bool *reg_changed, char *err, size_t errlen)
{
	bool created;
	int rc = store_interface_key(h, i->name, i->private_key, &created, err, errlen);
	if (rc < 0)
		return rc;
	wg_key_public(i->public_key, i->private_key);
	char pub[WG_KEY_B64_LEN + 1];
	wg_key_to_base64(i->public_key, pub);
	if (created)
		log_info("%s: generated its key (public key %s)", i->name, pub);
	if ((rc = resolve_subnet_id(h, i->cfg, &i->subnet_id, err, errlen)) < 0)
		return rc;
	struct in6_addr prefix;
	arbor_addr_machine_prefix(h->machine_id, &prefix);
	arbor_addr_subnet(&prefix, i->subnet_id, &i->subnet6);
	arbor_addr_derive(h->machine_id, i->subnet_id, h->machine_id, &i->addr6);
	if (wgd_registry_subnet_id(&h->reg, i->name) != i->subnet_id) {
		wgd_registry_set_subnet_id(&h->reg, i->name, i->subnet_id);
		*reg_changed = true;
	}
	for (size_t k = 0; k < h->reg.n; k++) {
		struct wgd_peer *p = &h->reg.peers[k];
		struct in6_addr want;
		if (strcmp(p->interface, i->name) != 0 ||
		    wgd_registry_derive_ipv6(&h->reg, i->name, &i->subnet6, &i->addr6, p->name, &want) < 0)
			continue;
		if (!p->has_ipv6 || memcmp(&want, &p->ipv6, sizeof want) != 0) {
			p->ipv6 = want;
			p->has_ipv6 = true;
			p->export_stale = true;
			*reg_changed = true;
		}
	}
	return 0;
}

static struct wgd_iface *iface_new(struct wgd *h, const struct wgd_iface_config *ic)
{
	struct wgd_iface *i = xcalloc(1, sizeof *i);
	i->h = h;
	i->cfg = ic;
	i->backend = WGD_BACKEND_AUTO;
	snprintf(i->name, sizeof i->name, "%s", ic->name);
	return i;
}

static void iface_free(struct wgd_iface *i)
{
	wg_key_wipe(i->private_key, sizeof i->private_key);
	free(i);
}

/* ---- lifecycle ---- */

static void wgd_free(struct wgd *h)
{
	for (size_t n = 0; n < h->nifaces; n++)
		iface_free(h->ifaces[n]);
	free(h->ifaces);
	if (h->poll_ev)
		event_free(h->poll_ev);
	if (h->sigchld_ev)
		event_free(h->sigchld_ev);
	kernel_wg_close(h->kwg);
	if (h->nl)
		arbor_nl_close(h->nl);
	wgd_registry_free(&h->reg);
	free(h->rt);
	free(h);
}

static int start_inner(struct wgd *h, char *err, size_t errlen)
{
	struct arbor_daemon *d = h->d;
	const struct arbor_config *all = arbor_daemon_config(d);
	const struct wgd_config *cfg = all->daemon;
	if (wg_key_init() < 0) {
		snprintf(err, errlen, "libsodium cannot be initialised");
		return -1;
	}
	if ((h->nl = arbor_nl_open(err, errlen)) == NULL)
		return -1;
	h->kwg = kernel_wg_open(h->kernel_why, sizeof h->kernel_why);
	if (arbor_machine_id(&all->machine, h->machine_id, err, errlen) != 0)
		return -1;
	h->has_machine_id = true;
	if (store_load(h, err, errlen) < 0)
		return -1;
	/* The event loop's SIGCHLD, before the first wireguard-go starts. */
	h->sigchld_ev = evsignal_new(arbor_daemon_base(d), SIGCHLD, on_sigchld, h);
	event_add(h->sigchld_ev, NULL);
	bool reg_changed = false;
	h->ifaces = xcalloc(cfg->nifaces + 1, sizeof *h->ifaces);
	for (size_t n = 0; n < cfg->nifaces; n++) {
		struct wgd_iface *i = iface_new(h, &cfg->ifaces[n]);
		h->ifaces[h->nifaces++] = i;
		if (iface_prepare(h, i, &reg_changed, err, errlen) < 0)
			return -1;
	}
	if (reg_changed && store_save_registry(h, &h->reg, err, errlen) < 0)
		return -1;
	for (size_t n = 0; n < h->nifaces; n++) {
		char why[400];
		if (device_open(h->ifaces[n], why, sizeof why) < 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		log_info("%s: %s device up (ifindex %d), %zu peers in the registry", h->ifaces[n]->name,
			 wgd_backend_name(h->ifaces[n]->backend), h->ifaces[n]->ifindex, h->reg.n);
	}
	h->last_save = arbor_time_monotonic();
	poll_all(h);
	h->poll_ev = event_new(arbor_daemon_base(d), -1, EV_PERSIST, on_poll, h);
	double iv = cfg->poll_interval;
	struct timeval tv = { (time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6) };
	event_add(h->poll_ev, &tv);
	return 0;
}

static int wgd_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	struct wgd *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	if (start_inner(h, err, errlen) == 0)
		return 0;
	/* Nothing stays half-started: the wireguard-go processes started so far go. */
	h->stopping = true;
	for (size_t n = 0; n < h->nifaces; n++)
		device_close(h->ifaces[n], false);
	wgd_free(h);
	arbor_daemon_set_userdata(d, NULL);
	return -1;
}

static void wgd_stop(struct arbor_daemon *d)
{
	struct wgd *h = wgd_of(d);
	if (h == NULL)
		return;
	h->stopping = true;
	char err[256];
	if (h->nl) {
		poll_all(h); /* the last readings, so the totals are as late as can be */
		if (store_save_counters(h, err, sizeof err) < 0)
			log_warn("counters: %s", err);
	}
	for (size_t n = 0; n < h->nifaces; n++)
		device_close(h->ifaces[n], false);
	wgd_free(h);
	arbor_daemon_set_userdata(d, NULL);
}

/* A reload may add, change and remove interfaces; one that still has peers
 * cannot go, and a changed subnet must still hold every peer's address. */
static int check_reload(struct wgd *h, const struct wgd_config *next, char *err, size_t errlen)
{
	for (size_t k = 0; k < h->reg.n; k++) {
		const struct wgd_peer *p = &h->reg.peers[k];
		const struct wgd_iface_config *ic = wgd_config_iface(next, p->interface);
		if (ic == NULL && wgd_iface_by_name(h, p->interface)) {
			snprintf(err, errlen, "interface %s still has peers (%s first): delete them before removing it",
				 p->interface, p->name);
			return -1;
		}
		if (ic && p->has_ipv4) {
			uint32_t mask = ic->has_address ? ~0u << (32 - ic->prefixlen) : 0;
			if (!ic->has_address || (ntohl(p->ipv4.s_addr) & mask) != (ntohl(ic->address.s_addr) & mask) ||
			    p->ipv4.s_addr == ic->address.s_addr) {
				char a[INET_ADDRSTRLEN];
				snprintf(err, errlen, "%s.address: peer %s's address %s would be outside the new subnet", p->interface,
					 p->name, inet_ntop(AF_INET, &p->ipv4, a, sizeof a));
				return -1;
			}
		}
	}
	return 0;
}

static int wgd_reload(struct arbor_daemon *d, const struct arbor_config *next_all, char *err, size_t errlen)
{
	struct wgd *h = wgd_of(d);
	const struct wgd_config *next = next_all->daemon, *cur = wgd_cfg(h);
	if (check_reload(h, next, err, errlen) < 0)
		return -1;
	if (strcmp(next->uapi_dir, cur->uapi_dir) != 0 || strcmp(next->wireguard_go, cur->wireguard_go) != 0) {
		snprintf(err, errlen, "wgd.uapi_dir and wgd.wireguard_go apply at the next start");
		return -1;
	}
	for (size_t n = 0; n < next->nifaces; n++) {
		const struct wgd_iface *i = wgd_iface_by_name(h, next->ifaces[n].name);
		if (i && (i->cfg->backend != next->ifaces[n].backend || i->cfg->subnet_id != next->ifaces[n].subnet_id)) {
			snprintf(err, errlen, "%s: backend and subnet_id apply at the next start", i->name);
			return -1;
		}
	}
	/* New interfaces first: if one cannot be opened, nothing has changed. */
	struct wgd_iface **fresh = xcalloc(next->nifaces + 1, sizeof *fresh);
	size_t nfresh = 0;
	bool reg_changed = false;
	int rc = 0;
	for (size_t n = 0; n < next->nifaces && rc == 0; n++) {
		if (wgd_iface_by_name(h, next->ifaces[n].name))
			continue;
		struct wgd_iface *i = iface_new(h, &next->ifaces[n]);
		fresh[nfresh++] = i;
		rc = iface_prepare(h, i, &reg_changed, err, errlen);
		if (rc == 0)
			rc = device_open(i, err, errlen);
	}
	if (rc < 0) {
		for (size_t n = 0; n < nfresh; n++) {
			device_close(fresh[n], true);
			iface_free(fresh[n]);
		}
		free(fresh);
		return -1;
	}
	/* Removed interfaces go (their devices too), kept ones take their new
	 * settings: port, MTU, address, endpoint and client settings. */
	struct wgd_iface **all = xcalloc(next->nifaces + 1, sizeof *all);
	size_t nall = 0;
	for (size_t n = 0; n < h->nifaces; n++) {
		struct wgd_iface *i = h->ifaces[n];
		const struct wgd_iface_config *ic = wgd_config_iface(next, i->name);
		if (ic == NULL) {
			device_close(i, true);
			iface_free(i);
			continue;
		}
		if (i->has_address && (!ic->has_address || ic->address.s_addr != i->address.s_addr || ic->prefixlen != i->prefixlen))
			netcfg_remove_address(h->nl, i->ifindex, AF_INET, &i->address, i->prefixlen);
		i->cfg = ic;
		i->has_address = ic->has_address;
		i->address = ic->address;
		i->prefixlen = ic->prefixlen;
		all[nall++] = i;
	}
	for (size_t n = 0; n < nfresh; n++)
		all[nall++] = fresh[n];
	free(fresh);
	free(h->ifaces);
	h->ifaces = all;
	h->nifaces = nall;
	if (reg_changed) {
		char why[256];
		if (store_save_registry(h, &h->reg, why, sizeof why) < 0)
			log_warn("registry: %s", why);
	}
	struct timeval tv = { (time_t)next->poll_interval,
			      (suseconds_t)((next->poll_interval - (double)(time_t)next->poll_interval) * 1e6) };
	event_del(h->poll_ev);
	event_add(h->poll_ev, &tv);
	/* The kept devices get their new port and addresses on this poll; the
	 * config is not current yet, so the poll runs once the reload is done. */
	for (size_t n = 0; n < h->nifaces; n++) {
		char why[256];
		struct wgd_iface *i = h->ifaces[n];
		if (i->up && netcfg_apply(h->nl, i->ifindex, i->cfg, i->subnet_id ? &i->addr6 : NULL, why, sizeof why) < 0)
			snprintf(i->error, sizeof i->error, "%s", why);
	}
	event_active(h->poll_ev, EV_TIMEOUT, 0);
	return 0;
}

static int wgd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct wgd *h = wgd_of(d);
	wgd_reconcile_all(h, "renew");
	size_t up = 0;
	for (size_t n = 0; n < h->nifaces; n++)
		up += h->ifaces[n]->up;
	snprintf(msg, msglen, "%zu of %zu interfaces reconciled with %zu peers", up, h->nifaces, h->reg.n);
	return 0;
}

/* POST /v1/commands/rotate-key {"interface": "wg0"}: a new interface key.
 * Every client config exported so far names the old public key, so all of
 * them are marked stale (key.rotated says how many). */
static void command_rotate_key(struct arbor_daemon *d, const struct arbor_http_request *req,
			       struct arbor_http_response *resp)
{
	struct wgd *h = wgd_of(d);
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(body, "interface");
	struct wgd_iface *i = NULL;
	if (cJSON_IsString(ifn))
		i = wgd_iface_by_name(h, ifn->valuestring);
	else if (ifn == NULL && h->nifaces == 1)
		i = h->ifaces[0];
	cJSON_Delete(body);
	if (i == NULL) {
		arbor_command_answer(resp, "rotate-key", false, ifn ? 404 : 400, "%s",
				     ifn ? "no such interface" : "interface: give the interface whose key to rotate");
		return;
	}
	uint8_t old[WG_KEY_LEN];
	memcpy(old, i->private_key, WG_KEY_LEN);
	char err[512];
	wg_key_generate_private(i->private_key);
	struct wgd_registry fresh;
	wgd_registry_copy(&fresh, &h->reg);
	size_t stale = 0;
	for (size_t k = 0; k < fresh.n; k++)
		if (strcmp(fresh.peers[k].interface, i->name) == 0) {
			fresh.peers[k].export_stale = true;
			stale++;
		}
	int rc = store_write_interface_key(h, i->name, i->private_key, err, sizeof err);
	if (rc == 0 && i->up)
		rc = device_apply(i, &fresh, arbor_time_wall(), NULL, NULL, NULL, err, sizeof err);
	if (rc == 0)
		rc = store_save_registry(h, &fresh, err, sizeof err);
	if (rc < 0) {
		char undo[256];
		memcpy(i->private_key, old, WG_KEY_LEN);
		store_write_interface_key(h, i->name, old, undo, sizeof undo);
		if (i->up)
			device_apply(i, &h->reg, arbor_time_wall(), NULL, NULL, NULL, undo, sizeof undo);
		wgd_registry_free(&fresh);
		wg_key_wipe(old, sizeof old);
		arbor_command_answer(resp, "rotate-key", false, 500, "%s: the key was not changed: %s", i->name, err);
		return;
	}
	wg_key_wipe(old, sizeof old);
	wg_key_public(i->public_key, i->private_key);
	wgd_install_registry(h, &fresh);
	char pub[WG_KEY_B64_LEN + 1];
	wg_key_to_base64(i->public_key, pub);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", i->name);
	cJSON_AddStringToObject(data, "public_key", pub);
	arbor_json_add_int(data, "stale_exports", (long long)stale);
	arbor_event_emit(arbor_daemon_events(d), "key.rotated", "warning", i->name, data,
			 "%s has a new key (%s); %zu exported client configs are stale", i->name, pub, stale);
	arbor_command_answer(resp, "rotate-key", true, 200, "%s: new public key %s; %zu client configs to export again",
			     i->name, pub, stale);
}

static const struct arbor_command wgd_commands[] = {
	{ "rotate-key", command_rotate_key },
};

static const struct arbor_daemon_def wgd_def = {
	.name = "wgd",
	.binary = "arbor-wgd",
	.summary = "WireGuard gateway: interfaces, keys, a peer registry and API, client configs and QR codes, honest status.",
	.parse = wgd_config_parse,
	.free_config = wgd_config_free,
	.start = wgd_start,
	.reload = wgd_reload,
	.stop = wgd_stop,
	.renew = wgd_renew,
	.status = wgd_status,
	.health = wgd_health,
	.metrics = wgd_metrics,
	.commands = wgd_commands,
	.ncommands = sizeof wgd_commands / sizeof wgd_commands[0],
	.resources = wgd_resources,
	.nresources = 7,
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&wgd_def, argc, argv);
}
