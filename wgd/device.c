/* One WireGuard device per configured interface (see wgd.h): which backend
 * runs it, creating or adopting it, applying the registry to it, and
 * bringing it back when it goes away. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "netcfg.h"
#include "uapi_client.h"
#include "wg_key.h"
#include "wgd.h"
#include "wggo.h"
#include "xalloc.h"

struct wgd_iface *wgd_iface_by_name(struct wgd *h, const char *name)
{
	for (size_t i = 0; i < h->nifaces; i++)
		if (strcmp(h->ifaces[i]->name, name) == 0)
			return h->ifaces[i];
	return NULL;
}

int device_get(struct wgd_iface *i, struct wg_device *dev, char *err, size_t errlen)
{
	if (i->backend == WGD_BACKEND_KERNEL)
		return kernel_wg_get(i->h->kwg, i->name, dev, err, errlen);
	return uapi_get(wgd_cfg(i->h)->uapi_dir, i->name, dev, err, errlen);
}

static int device_set(struct wgd_iface *i, const struct wg_device *set, char *err, size_t errlen)
{
	if (i->backend == WGD_BACKEND_KERNEL)
		return kernel_wg_set(i->h->kwg, set, err, errlen);
	return uapi_set(wgd_cfg(i->h)->uapi_dir, i->name, set, err, errlen);
}

/* The link's kind ("wireguard", "tun", ...) and index; -ENODEV when absent. */
static int link_kind(struct wgd *h, const char *name, char *kind, size_t len)
{
	struct arbor_nl_link *links = NULL;
	size_t n = 0;
	int rc = arbor_nl_links(h->nl, &links, &n);
	if (rc < 0)
		return rc;
	rc = -ENODEV;
	for (size_t k = 0; k < n; k++)
		if (strcmp(links[k].name, name) == 0) {
			snprintf(kind, len, "%s", links[k].kind);
			rc = links[k].index;
		}
	free(links);
	return rc;
}

/* Picks the backend: kernel when asked, or for auto when the kernel has
 * WireGuard (creating a link of that kind loads the module where it exists). */
static int choose_backend(struct wgd_iface *i, char *err, size_t errlen)
{
	struct wgd *h = i->h;
	enum wgd_backend want = i->cfg->backend;
	char kind[32] = "";
	if (want != WGD_BACKEND_USERSPACE && h->kwg == NULL) {
		int idx = link_kind(h, i->name, kind, sizeof kind);
		if (idx == -ENODEV && arbor_nl_link_add(h->nl, i->name, "wireguard") > 0)
			h->kwg = kernel_wg_open(h->kernel_why, sizeof h->kernel_why);
	}
	if (want != WGD_BACKEND_USERSPACE && h->kwg) {
		i->backend = WGD_BACKEND_KERNEL;
		return 0;
	}
	if (want == WGD_BACKEND_KERNEL) {
		snprintf(err, errlen, "%s: backend \"kernel\": %s", i->name, h->kernel_why);
		return -EOPNOTSUPP;
	}
	i->backend = WGD_BACKEND_USERSPACE;
	return 0;
}

static int open_kernel(struct wgd_iface *i, char *err, size_t errlen)
{
	char kind[32] = "";
	int idx = link_kind(i->h, i->name, kind, sizeof kind);
	if (idx == -ENODEV)
		idx = arbor_nl_link_add(i->h->nl, i->name, "wireguard");
	else if (idx > 0 && strcmp(kind, "wireguard") != 0) {
		snprintf(err, errlen, "%s exists and is %s%s, not a WireGuard device", i->name, kind[0] ? "a " : "not typed",
			 kind);
		return -EEXIST;
	}
	if (idx < 0) {
		snprintf(err, errlen, "%s: %s", i->name, arbor_nl_error(i->h->nl));
		return idx;
	}
	i->ifindex = idx;
	i->adopted = true;
	return 0;
}

static int open_userspace(struct wgd_iface *i, char *err, size_t errlen)
{
	const struct wgd_config *cfg = wgd_cfg(i->h);
	struct wg_device probe = { 0 };
	char why[256];
	int rc = uapi_get(cfg->uapi_dir, i->name, &probe, why, sizeof why);
	wg_device_free(&probe);
	char kind[32] = "";
	if (rc == 0) {
		/* Running already: left by a wgd that was killed, or started by hand. */
		i->adopted = i->pid == 0;
		if (i->adopted)
			log_info("%s: adopting the running wireguard-go (%s)", i->name, cfg->uapi_dir);
	} else {
		if (link_kind(i->h, i->name, kind, sizeof kind) > 0) {
			snprintf(err, errlen, "%s exists (%s) but no wireguard-go answers on its socket in %s (%s)", i->name,
				 kind[0] ? kind : "untyped", cfg->uapi_dir, why);
			return -EEXIST;
		}
		pid_t pid = wggo_spawn(cfg->wireguard_go, i->name, err, errlen);
		if (pid < 0)
			return (int)pid;
		if (!wggo_wait_ready(pid, cfg->uapi_dir, i->name, cfg->start_timeout, err, errlen)) {
			wggo_stop(pid, 1);
			return -ETIMEDOUT;
		}
		i->pid = pid;
		i->adopted = false;
		log_info("%s: wireguard-go started (pid %ld)", i->name, (long)pid);
	}
	int idx = link_kind(i->h, i->name, kind, sizeof kind);
	if (idx < 0) {
		snprintf(err, errlen, "%s: wireguard-go answers but the link is not there", i->name);
		return -ENODEV;
	}
	i->ifindex = idx;
	return 0;
}

void device_wanted_routes(const struct wgd_iface *i, const struct wgd_registry *reg, double now,
			  struct wg_allowed_ip **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (size_t k = 0; k < reg->n; k++) {
		const struct wgd_peer *p = &reg->peers[k];
		if (strcmp(p->interface, i->name) != 0 || !p->enabled || (p->expires && p->expires <= (int64_t)now))
			continue;
		for (size_t r = 0; r < p->nroutes; r++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*out = xreallocarray(*out, cap, sizeof **out);
			}
			(*out)[(*n)++] = p->routes[r];
		}
	}
}

int device_apply(struct wgd_iface *i, const struct wgd_registry *reg, double now, struct reconcile_counts *counts,
		 struct wg_device *actual_out, struct wg_device *set_out, char *err, size_t errlen)
{
	struct reconcile_counts dummy;
	if (counts == NULL)
		counts = &dummy;
	memset(counts, 0, sizeof *counts);
	if (!i->up) {
		snprintf(err, errlen, "%s is down", i->name);
		return -ENODEV;
	}
	double t0 = arbor_time_monotonic();
	struct wg_device actual = { 0 }, desired = { 0 }, set = { 0 };
	int rc = device_get(i, &actual, err, errlen);
	if (rc == 0) {
		snprintf(desired.name, sizeof desired.name, "%s", i->name);
		desired.has_private_key = true;
		memcpy(desired.private_key, i->private_key, WG_KEY_LEN);
		desired.has_listen_port = true;
		desired.listen_port = i->cfg->listen_port;
		desired.has_fwmark = true;
		desired.fwmark = i->cfg->fwmark;
		wgd_registry_desired(reg, i->name, (int64_t)now, &desired);
		reconcile_diff(&desired, &actual, &set, counts);
		if (!reconcile_empty(&set))
			rc = device_set(i, &set, err, errlen);
		wg_key_wipe(desired.private_key, WG_KEY_LEN);
		wg_key_wipe(set.private_key, WG_KEY_LEN);
	}
	if (rc == 0) {
		struct wg_allowed_ip *routes;
		size_t n;
		device_wanted_routes(i, reg, now, &routes, &n);
		int changed = netcfg_routes(i->h->nl, i->ifindex, routes, n, err, errlen);
		free(routes);
		if (changed < 0)
			rc = changed;
	}
	wg_device_free(&desired);
	if (set_out && rc == 0)
		*set_out = set;
	else
		wg_device_free(&set);
	wg_key_wipe(actual.private_key, WG_KEY_LEN);
	if (actual_out && rc == 0)
		*actual_out = actual;
	else
		wg_device_free(&actual);
	i->reconciles++;
	if (rc < 0)
		i->apply_errors++;
	i->reconcile_ms = (arbor_time_monotonic() - t0) * 1000;
	return rc;
}

int device_open(struct wgd_iface *i, char *err, size_t errlen)
{
	int rc = i->backend == WGD_BACKEND_AUTO ? choose_backend(i, err, errlen) : 0;
	if (rc == 0)
		rc = i->backend == WGD_BACKEND_KERNEL ? open_kernel(i, err, errlen) : open_userspace(i, err, errlen);
	if (rc < 0)
		return rc;
	rc = netcfg_apply(i->h->nl, i->ifindex, i->cfg, i->subnet_id ? &i->addr6 : NULL, err, errlen);
	if (rc < 0)
		return rc;
	i->has_address = i->cfg->has_address;
	i->address = i->cfg->address;
	i->prefixlen = i->cfg->prefixlen;
	i->up = true;
	i->up_since = arbor_time_monotonic();
	rc = device_apply(i, &i->h->reg, arbor_time_wall(), NULL, NULL, NULL, err, errlen);
	if (rc < 0) {
		i->up = false;
		return rc;
	}
	i->error[0] = '\0';
	return 0;
}

void device_close(struct wgd_iface *i, bool delete)
{
	if (i->restart_ev) {
		event_free(i->restart_ev);
		i->restart_ev = NULL;
	}
	if (i->pid > 0) {
		wggo_stop(i->pid, 2);
		i->pid = 0;
	} else if (delete && i->backend == WGD_BACKEND_KERNEL && i->ifindex > 0) {
		arbor_nl_link_delete(i->h->nl, i->ifindex);
	}
	i->up = false;
}

static void on_restart(evutil_socket_t fd, short what, void *ctx)
{
	struct wgd_iface *i = ctx;
	char err[256];
	if (i->h->stopping)
		return;
	if (device_open(i, err, sizeof err) == 0) {
		i->restarts++;
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "interface", i->name);
		cJSON_AddStringToObject(data, "backend", wgd_backend_name(i->backend));
		cJSON_AddNumberToObject(data, "ifindex", i->ifindex);
		arbor_event_emit(arbor_daemon_events(i->h->d), "interface.up", "info", i->name, data,
				 "%s is back (%s, ifindex %d); its peers were applied again", i->name,
				 wgd_backend_name(i->backend), i->ifindex);
		log_info("%s: back up (ifindex %d)", i->name, i->ifindex);
		i->backoff = 0;
		return;
	}
	snprintf(i->error, sizeof i->error, "%s", err);
	log_warn("%s: cannot bring it back: %s", i->name, err);
	device_lost(i, NULL);
}

void device_lost(struct wgd_iface *i, const char *why)
{
	bool was_up = i->up;
	i->up = false;
	if (why) {
		snprintf(i->error, sizeof i->error, "%s", why);
		log_warn("%s: %s", i->name, why);
	}
	if (was_up && why) {
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "interface", i->name);
		cJSON_AddStringToObject(data, "reason", why);
		arbor_event_emit(arbor_daemon_events(i->h->d), "interface.down", "warning", i->name, data, "%s went away: %s",
				 i->name, why);
	}
	if (i->h->stopping)
		return;
	/* Back-off: at once the first time, then doubling up to 30 s; a device
	 * that stayed up a minute starts again from the beginning. */
	if (i->up_since && arbor_time_monotonic() - i->up_since > 60)
		i->backoff = 0;
	double delay = i->backoff;
	i->backoff = i->backoff ? (i->backoff * 2 > 30 ? 30 : i->backoff * 2) : 0.5;
	if (i->restart_ev == NULL)
		i->restart_ev = evtimer_new(arbor_daemon_base(i->h->d), on_restart, i);
	struct timeval tv = { (time_t)delay, (suseconds_t)((delay - (double)(time_t)delay) * 1e6) };
	evtimer_add(i->restart_ev, &tv);
}
