/* arbor-wgd's state, shared by its files: main.c (wiring, lifecycle, the
 * poll), device.c (one WireGuard device per interface: backend, create or
 * adopt, apply), peers_api.c (the peers API), status.c (status, health,
 * metrics, the peers view) and store.c (the files). */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "daemon.h"
#include "kernel_wg.h"
#include "netlink.h"
#include "peer_status.h"
#include "reconcile.h"
#include "registry.h"
#include "wg_device.h"
#include "wgd_config.h"

struct wgd;

struct wgd_iface {
	struct wgd *h;
	char name[WG_IFNAME_MAX];
	const struct wgd_iface_config *cfg; /* in the current config */
	enum wgd_backend backend;           /* resolved: kernel or userspace */
	int ifindex;
	bool up;                            /* the device answers */
	pid_t pid;                          /* our wireguard-go; 0: none (kernel, or adopted) */
	bool adopted;                       /* found running at start */
	unsigned restarts;
	double backoff, up_since;
	struct event *restart_ev;
	uint8_t private_key[WG_KEY_LEN], public_key[WG_KEY_LEN];
	uint16_t subnet_id;
	struct in6_addr subnet6, addr6;     /* the /64 and the gateway's address in it */
	char error[256];                    /* the last failure, "" when fine */
	uint64_t reconciles, repairs, apply_errors;
	double reconcile_ms;
	/* Addresses added for the config in force, to remove when it changes. */
	bool has_address;
	struct in_addr address;
	unsigned prefixlen;
};

/* What the daemon knows about a peer beyond the registry: counters and the
 * status last reported. Kept parallel to reg.peers (same index). */
struct peer_rt {
	struct peer_counters c;
	enum peer_reason reason;
	bool reported;          /* reason has been announced (or was the start state) */
	bool expiry_seen, was_expired; /* peer.expired once, when the time comes */
	char endpoint[64];
};

struct wgd {
	struct arbor_daemon *d;
	struct wgd_registry reg;
	struct peer_rt *rt;
	size_t rt_cap;
	struct wgd_iface **ifaces; /* pointers: timers hold them across reloads */
	size_t nifaces;
	struct arbor_nl *nl;
	struct kernel_wg *kwg;          /* NULL: no kernel WireGuard */
	char kernel_why[256];           /* why there is none */
	char machine_id[33];
	bool has_machine_id;
	struct event *poll_ev, *sigchld_ev;
	double last_save;
	bool counters_dirty;
	bool counters_urgent; /* a counter epoch ended: save at once, not at the interval */
	uint64_t polls, requests_refused;
	bool stopping;
};

static inline const struct wgd_config *wgd_cfg(struct wgd *h)
{
	return arbor_daemon_config(h->d)->daemon;
}

/* ---- device.c ---- */
/* Brings the interface's device up (create, adopt, or start wireguard-go),
 * its addresses and routes, and applies the registry. 0 or -errno with err. */
int device_open(struct wgd_iface *i, char *err, size_t errlen);
/* Stops what wgd started for it (wireguard-go); delete also removes a kernel
 * device (the interface left the config). */
void device_close(struct wgd_iface *i, bool delete);
int device_get(struct wgd_iface *i, struct wg_device *dev, char *err, size_t errlen);
/* Makes the device match reg (get, diff, set) and its routes too. counts
 * (may be NULL) says what changed; actual_out and set_out (may be NULL) get
 * the reading before the change and the change itself. 0, or -errno with err: the device refused
 * or is gone; part of the set may have been applied (reconcile to undo). */
int device_apply(struct wgd_iface *i, const struct wgd_registry *reg, double now, struct reconcile_counts *counts,
		 struct wg_device *actual_out, struct wg_device *set_out, char *err, size_t errlen);
/* The device went away: note it and schedule a restart with back-off. */
void device_lost(struct wgd_iface *i, const char *why);
struct wgd_iface *wgd_iface_by_name(struct wgd *h, const char *name);
/* The allowed IPs of every enabled peer's routes on i (for netlink). */
void device_wanted_routes(const struct wgd_iface *i, const struct wgd_registry *reg, double now,
			  struct wg_allowed_ip **out, size_t *n);

/* ---- store.c ---- */
int store_load(struct wgd *h, char *err, size_t errlen);
int store_save_registry(struct wgd *h, const struct wgd_registry *reg, char *err, size_t errlen);
int store_save_counters(struct wgd *h, char *err, size_t errlen);
/* The interface's private key, made (mode 0600) when there is none. */
int store_interface_key(struct wgd *h, const char *ifname, uint8_t key[WG_KEY_LEN], bool *created, char *err,
			size_t errlen);
int store_write_interface_key(struct wgd *h, const char *ifname, const uint8_t key[WG_KEY_LEN], char *err,
			      size_t errlen);

/* ---- main.c ---- */
/* The runtime entry of peer index k (grows with the registry). */
struct peer_rt *wgd_rt(struct wgd *h, size_t k);
/* Installs a new registry (after it was applied and saved): the runtime
 * entries follow by name; old_index of each new peer (or SIZE_MAX). */
void wgd_install_registry(struct wgd *h, struct wgd_registry *fresh);
/* Applies every interface now (renew, after a change, periodically). */
void wgd_reconcile_all(struct wgd *h, const char *why);

/* ---- peers_api.c ---- */
extern const struct arbor_resource wgd_resources[];
extern const size_t wgd_nresources;
/* Data every peer.* event carries: name, interface, addresses, enabled. */
cJSON *wgd_peer_event_data(const struct wgd_peer *p);

/* ---- status.c ---- */
void wgd_status(struct arbor_daemon *d, cJSON *status);
enum arbor_health wgd_health(struct arbor_daemon *d, cJSON *reasons);
void wgd_metrics(struct arbor_daemon *d, struct arbor_buf *out);
/* A peer as the API shows it: the registry's fields (no preshared key) and
 * its status, as JSON text appended to out, or as a cJSON object. */
void wgd_peer_write(struct wgd *h, size_t k, double now, struct arbor_buf *out);
cJSON *wgd_peer_view(struct wgd *h, size_t k, double now);
/* Folds a device reading into the counters and status of i's peers; emits
 * peer.online / peer.offline on changes. */
void wgd_observe(struct wgd *h, struct wgd_iface *i, const struct wg_device *actual, double now);
/* Statuses of peers not on any device (disabled, expired, their interface
 * down) move too: called once per poll after the observations. */
void wgd_observe_rest(struct wgd *h, double now);
