/* Gathering the record sources' inputs (gather.h). Leases come from dhcp4d's
 * contract (lease_feed.h), peers from wgd's (wg_peers.h); the sources that
 * depend on them are rebuilt when a feed says they changed or a lease ended. */
#include "gather.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "contract_feed.h"
#include "daemon.h"
#include "dnsd.h"
#include "json.h"
#include "lease_feed.h"
#include "log.h"
#include "netlink.h"
#include "sources.h"
#include "subnet_ids.h"
#include "udp_serving.h"
#include "xalloc.h"
#include "zone.h"

typedef int source_fn(const struct dnsd_world *w, struct record_list *out, char *err, size_t errlen);

/* The record sources, in the order they are rebuilt. */
static const struct {
	unsigned bit;
	uint32_t zone_source;
	source_fn *build;
} record_sources[] = {
	{ GATHER_CONFIG, ZONE_SOURCE_CONFIG, sources_config },
	{ GATHER_INTERFACES, ZONE_SOURCE_INTERFACES, sources_interfaces },
	{ GATHER_CHILDREN, ZONE_SOURCE_CHILDREN, sources_children },
	{ GATHER_LEASES, ZONE_SOURCE_LEASES, sources_leases },
	{ GATHER_WG_PEERS, ZONE_SOURCE_WG_PEERS, sources_wg_peers },
};

struct gather {
	struct dnsd *h;
	struct arbor_nl *nl;
	struct arbor_subnet_ids subnet_ids;
	const char **reverse; /* h->reverse as the sources take it */
	struct lease_feed *leases;
	char *lease_socket;   /* what the feed follows (NULL: nothing) */
	struct contract_feed *peer_feed;
	struct wg_peer_set peers;
	char *peer_socket;
	uint64_t source_errors;
	char last_source_error[256];
};

static int subnet_id_of(void *ctx, const char *ifname)
{
	struct gather *g = ctx;
	int id = arbor_subnet_ids_lookup(&g->subnet_ids, ifname);
	if (id >= 0)
		return id;
	char err[200];
	id = arbor_subnet_ids_assign_virtual(&g->subnet_ids, ifname, err, sizeof err);
	if (id < 0)
		log_warn("subnet id for %s: %s", ifname, err);
	return id;
}

/* The machine's interfaces and their IPv4 addresses (netlink); physical ones get
 * their subnet ids numbered in name order the first time they are seen. */
static int read_interfaces(struct gather *g, struct iface_addr **out, size_t *n)
{
	const struct dnsd_config *cfg = g->h->cfg;
	*out = NULL;
	*n = 0;
	struct arbor_nl_link *links = NULL;
	struct arbor_nl_addr *addrs = NULL;
	size_t nlinks = 0, naddrs = 0;
	if (arbor_nl_links(g->nl, &links, &nlinks) < 0 || arbor_nl_addrs(g->nl, AF_INET, 0, &addrs, &naddrs) < 0) {
		log_warn("interfaces: %s", arbor_nl_error(g->nl));
		free(links);
		return -EIO;
	}
	const char **physical = xcalloc(nlinks + 1, sizeof *physical);
	size_t nphys = 0;
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].kind[0] == '\0' && !(links[i].flags & IFF_LOOPBACK))
			physical[nphys++] = links[i].name;
	char err[200];
	if (nphys && arbor_subnet_ids_assign_physical(&g->subnet_ids, physical, nphys, err, sizeof err) < 0)
		log_warn("subnet ids: %s", err);
	free(physical);
	struct iface_addr *v = xcalloc(nlinks + naddrs + 1, sizeof *v);
	for (size_t i = 0; i < nlinks; i++) {
		if (links[i].flags & IFF_LOOPBACK)
			continue;
		bool wanted = cfg->interfaces == NULL;
		for (size_t k = 0; cfg->interfaces && k < cfg->ninterfaces; k++)
			wanted |= strcmp(cfg->interfaces[k], links[i].name) == 0;
		if (!wanted)
			continue;
		bool any = false;
		for (size_t a = 0; a < naddrs; a++) {
			if (addrs[a].ifindex != links[i].index || addrs[a].scope != 0)
				continue;
			struct iface_addr *e = &v[(*n)++];
			snprintf(e->name, sizeof e->name, "%s", links[i].name);
			e->family = AF_INET;
			memcpy(e->addr, &addrs[a].addr.v4, 4);
			any = true;
		}
		/* Without an address of its own only a configured interface is named. */
		if (!any && cfg->interfaces) {
			struct iface_addr *e = &v[(*n)++];
			snprintf(e->name, sizeof e->name, "%s", links[i].name);
		}
	}
	free(links);
	free(addrs);
	*out = v;
	return 0;
}

/* One zone.updated event per zone whose content changed. */
static void announce(struct gather *g, const bool *changed, size_t nzones, const char *why)
{
	const struct zone_db *db = dnsd_main_db(g->h);
	for (size_t z = 0; z < nzones; z++) {
		struct zone_info zi;
		if (!changed[z] || zone_db_zone_info(db, z, &zi) != 0)
			continue;
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "zone", zi.apex);
		arbor_json_add_int(data, "serial", zi.serial);
		arbor_json_add_int(data, "records", (long long)zi.records);
		cJSON_AddStringToObject(data, "reason", why);
		arbor_event_emit(arbor_daemon_events(g->h->d), "zone.updated", "info", zi.apex, data,
				 "%s serial %u, %zu records (%s)", zi.apex, zi.serial, zi.records, why);
	}
}

void gather_refresh(struct gather *g, unsigned sources, const char *why)
{
	struct dnsd *h = g->h;
	struct iface_addr *ifaces = NULL;
	size_t nifaces = 0;
	if (sources & GATHER_INTERFACES)
		read_interfaces(g, &ifaces, &nifaces);
	size_t nleases = 0;
	const struct dhcp_lease *leases = g->leases ? lease_feed_leases(g->leases, &nleases) : NULL;
	struct dnsd_world w = {
		.cfg = h->cfg,
		.zone = h->zone,
		.machine_id = h->has_machine_id ? h->machine_id : NULL,
		.ifaces = ifaces,
		.nifaces = nifaces,
		.leases = leases,
		.nleases = nleases,
		.peers = g->peers.v,
		.npeers = g->peers.n,
		.subnet_id = subnet_id_of,
		.ctx = g,
		.reverse_apexes = g->reverse,
		.nreverse = h->nreverse,
	};
	int64_t now = (int64_t)arbor_time_wall();
	unsigned nthreads = udp_serving_threads(h->udp);
	size_t nzones = zone_db_zone_count(udp_serving_db(h->udp, 0));
	/* Whether each zone changed (the same in every copy: the copies get the same inputs). */
	bool *changed_any = xcalloc(nzones + 1, sizeof *changed_any);
	bool *changed = xcalloc(nzones + 1, sizeof *changed);
	udp_serving_lock_all(h->udp);
	for (size_t s = 0; s < sizeof record_sources / sizeof record_sources[0]; s++) {
		if (!(sources & record_sources[s].bit))
			continue;
		struct record_list list = { 0 };
		char err[256] = "";
		int rc = record_sources[s].build(&w, &list, err, sizeof err);
		for (unsigned t = 0; rc == 0 && t < nthreads; t++) {
			rc = zone_db_replace_source(udp_serving_db(h->udp, t), record_sources[s].zone_source, list.r, list.n,
						    now, changed, err, sizeof err);
			for (size_t z = 0; rc >= 0 && t == 0 && z < nzones; z++)
				changed_any[z] |= changed[z];
			rc = rc < 0 ? rc : 0;
		}
		if (rc < 0) {
			g->source_errors++;
			snprintf(g->last_source_error, sizeof g->last_source_error, "%s", err);
			log_warn("record source %u: %s", record_sources[s].zone_source, err);
		}
		record_list_free(&list);
	}
	udp_serving_unlock_all(h->udp);
	free(ifaces);
	if (h->started)
		announce(g, changed_any, nzones, why);
	free(changed);
	free(changed_any);
}

static void on_leases_changed(void *ctx, const char *why)
{
	gather_refresh(ctx, GATHER_FROM_LEASES, why);
}

/* A daemon's socket as configured (NULL: <runtime-dir>/<daemon>.sock): NULL
 * for none (""). */
static char *socket_of(struct gather *g, const char *configured, const char *daemon)
{
	if (configured && configured[0] == '\0')
		return NULL;
	return configured ? xstrdup(configured) : xasprintf("%s/%s.sock", arbor_daemon_runtime_dir(g->h->d), daemon);
}

static bool same_socket(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int peers_snapshot(void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct gather *g = ctx;
	return wg_peer_set_load(&g->peers, body, len, err, errlen);
}

static int peers_events(void *ctx, const char *body, size_t len, uint64_t *since, bool *changed, char *err,
			size_t errlen)
{
	struct gather *g = ctx;
	return wg_peer_set_apply_events(&g->peers, body, len, since, changed, err, errlen);
}

static void peers_changed(void *ctx, const char *why)
{
	gather_refresh(ctx, GATHER_WG_PEERS, why);
}

static const struct contract_feed_ops peer_ops = {
	.what = "wgd's peers",
	.snapshot_path = "/v1/peers",
	.snapshot = peers_snapshot,
	.events = peers_events,
	.changed = peers_changed,
};

void gather_follow(struct gather *g)
{
	char *socket = socket_of(g, g->h->cfg->dhcp4d_socket, "dhcp4d");
	if (g->leases == NULL || !same_socket(socket, g->lease_socket)) {
		lease_feed_free(g->leases);
		free(g->lease_socket);
		g->lease_socket = socket;
		g->leases = lease_feed_new(arbor_daemon_base(g->h->d), socket, on_leases_changed, g);
	} else {
		free(socket);
	}
	socket = socket_of(g, g->h->cfg->wgd_socket, "wgd");
	if (g->peer_feed == NULL || !same_socket(socket, g->peer_socket)) {
		contract_feed_free(g->peer_feed);
		free(g->peer_socket);
		g->peer_socket = socket;
		g->peer_feed = contract_feed_new(arbor_daemon_base(g->h->d), socket, &peer_ops, g);
	} else {
		free(socket);
	}
}

void gather_reread(struct gather *g)
{
	lease_feed_resync(g->leases);
	contract_feed_resync(g->peer_feed);
}

struct gather *gather_new(struct dnsd *h, char *err, size_t errlen)
{
	struct gather *g = xcalloc(1, sizeof *g);
	g->h = h;
	g->reverse = xcalloc(h->nreverse + 1, sizeof *g->reverse);
	for (size_t i = 0; i < h->nreverse; i++)
		g->reverse[i] = h->reverse[i];
	if (arbor_subnet_ids_load(&g->subnet_ids, arbor_daemon_state_dir(h->d), ARBOR_SUBNET_IDS_FILE, err, errlen) < 0) {
		gather_free(g);
		return NULL;
	}
	g->nl = arbor_nl_open(err, errlen);
	if (g->nl == NULL) {
		gather_free(g);
		return NULL;
	}
	return g;
}

void gather_free(struct gather *g)
{
	if (g == NULL)
		return;
	lease_feed_free(g->leases);
	free(g->lease_socket);
	contract_feed_free(g->peer_feed);
	wg_peer_set_free(&g->peers);
	free(g->peer_socket);
	arbor_nl_close(g->nl);
	arbor_subnet_ids_free(&g->subnet_ids);
	free(g->reverse);
	free(g);
}

void gather_status(const struct gather *g, cJSON *obj)
{
	size_t n = 0;
	if (g->leases)
		lease_feed_leases(g->leases, &n);
	arbor_json_add_int(obj, "leases", (long long)n);
	if (g->leases)
		lease_feed_status(g->leases, obj);
	arbor_json_add_int(obj, "wg_peers", (long long)g->peers.n);
	if (g->peer_feed)
		contract_feed_status(g->peer_feed, obj, "peer_feed");
}

bool gather_failed(const struct gather *g, const char **last_error)
{
	*last_error = g->last_source_error;
	return g->source_errors > 0;
}
