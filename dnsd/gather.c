/* Gathering the record sources' inputs (gather.h). Leases come from dhcp4d's
 * contract (lease_feed.h), peers from wgd's (wg_peers.h), prefixes from
 * dhcp6pd's (prefix_set.h); the sources that depend on them are rebuilt when a
 * feed says they changed or one ended, and each prefix an uplink holds has its
 * reverse zones while it is held. */
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
	{ GATHER_PREFIXES, ZONE_SOURCE_PREFIXES, sources_prefixes },
};

struct gather {
	struct dnsd *h;
	struct arbor_nl *nl;
	struct arbor_subnet_ids subnet_ids;
	const char **reverse; /* h->reverse and the delegated prefixes' zones, as the sources take them */
	size_t nreverse;
	/* The reverse zones of the prefixes the uplinks hold (sources.h), served
	 * while they are held. */
	char (*delegated)[ARBOR_DNS_NAME_TEXT_MAX];
	size_t ndelegated;
	struct lease_feed *leases;
	char *lease_socket;   /* what the feed follows (NULL: nothing) */
	struct contract_feed *peer_feed;
	struct wg_peer_set peers;
	char *peer_socket;
	struct contract_feed *prefix_feed;
	struct prefix_set prefixes;
	char *prefix_socket;
	uint64_t source_errors;
	char last_source_error[256];
};

/* A LAN that dhcp6pd numbers has dhcp6pd's subnet id (its hosts take their ULA
 * addresses from its RAs); any other interface the table's, unless dhcp6pd gives
 * that id to a LAN (then none: two interfaces with one /64 would be a lie). */
static int subnet_id_of(void *ctx, const char *ifname)
{
	struct gather *g = ctx;
	int id = prefix_set_subnet_id(&g->prefixes, ifname);
	if (id >= 0)
		return id;
	id = arbor_subnet_ids_lookup(&g->subnet_ids, ifname);
	if (id < 0) {
		char err[200];
		id = arbor_subnet_ids_assign_virtual(&g->subnet_ids, ifname, err, sizeof err);
		if (id < 0)
			log_warn("subnet id for %s: %s", ifname, err);
	}
	for (size_t i = 0; id >= 0 && i < g->prefixes.nsubnets; i++)
		if (g->prefixes.subnets[i].subnet_id == id)
			return -1;
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

static bool holds(char (*list)[ARBOR_DNS_NAME_TEXT_MAX], size_t n, const char *apex)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], apex) == 0)
			return true;
	return false;
}

/* The delegated prefixes' reverse zones as they should be now: how many. */
static size_t wanted_zones(const struct gather *g, char (**out)[ARBOR_DNS_NAME_TEXT_MAX])
{
	const struct prefix_set *s = &g->prefixes;
	size_t n = 0;
	*out = xcalloc(s->ndelegations * SOURCES_PREFIX_ZONES_MAX + 1, sizeof **out);
	for (size_t i = 0; i < s->ndelegations; i++) {
		char one[SOURCES_PREFIX_ZONES_MAX][ARBOR_DNS_NAME_TEXT_MAX];
		int k = sources_reverse_apexes_prefix(&s->delegations[i].prefix, one, SOURCES_PREFIX_ZONES_MAX);
		for (int j = 0; j < k; j++)
			if (!holds(*out, n, one[j]))
				memcpy((*out)[n++], one[j], sizeof one[j]);
	}
	return n;
}

/* The reverse zones the sources write PTR records into: the configured ones and
 * the delegated prefixes' in list. */
static void set_reverse(struct gather *g, char (*list)[ARBOR_DNS_NAME_TEXT_MAX], size_t n)
{
	const struct dnsd *h = g->h;
	free(g->reverse);
	g->reverse = xcalloc(h->nreverse + n + 1, sizeof *g->reverse);
	for (size_t i = 0; i < h->nreverse; i++)
		g->reverse[i] = h->reverse[i];
	for (size_t i = 0; i < n; i++)
		g->reverse[h->nreverse + i] = list[i];
	g->nreverse = h->nreverse + n;
}

static void zone_event(struct gather *g, const char *type, const char *apex, const char *reason)
{
	if (!g->h->started)
		return;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "zone", apex);
	cJSON_AddStringToObject(data, "reason", reason);
	arbor_event_emit(arbor_daemon_events(g->h->d), type, "info", apex, data, "%s: %s", apex, reason);
}

/* Adds the zones of want that are not served yet to every copy (one that cannot
 * be added, or that is served already as a configured zone, leaves want); the
 * sources take want from now on. Returns whether the zones change (then every
 * source is rebuilt: their PTR records follow the reverse zones). */
static bool add_delegated_zones(struct gather *g, char (*want)[ARBOR_DNS_NAME_TEXT_MAX], size_t *nwant)
{
	struct dnsd *h = g->h;
	int64_t now = (int64_t)arbor_time_wall();
	size_t k = 0;
	for (size_t i = 0; i < *nwant; i++) {
		if (holds(g->delegated, g->ndelegated, want[i])) {
			memmove(want[k++], want[i], sizeof want[i]);
			continue;
		}
		int rc = 0;
		char err[256] = "";
		for (unsigned t = 0; rc >= 0 && t < udp_serving_threads(h->udp); t++)
			rc = dnsd_add_reverse_zone(h, udp_serving_db(h->udp, t), want[i], now, err, sizeof err);
		if (rc < 0) {
			if (rc != -EEXIST)
				log_warn("zone %s: %s", want[i], err);
			continue;
		}
		memmove(want[k++], want[i], sizeof want[i]);
		zone_event(g, "zone.added", want[k - 1], "a delegated prefix's reverse zone");
	}
	*nwant = k;
	bool change = k != g->ndelegated;
	for (size_t i = 0; i < k; i++)
		change |= !holds(g->delegated, g->ndelegated, want[i]);
	if (change)
		set_reverse(g, want, k);
	return change;
}

/* Removes the zones of g->delegated that are not in want (their records are gone
 * already) from every copy, with a zone.removed event; then want is what is
 * served (and what could not be removed: a record a source still holds there). */
static void remove_delegated_zones(struct gather *g, char (*want)[ARBOR_DNS_NAME_TEXT_MAX], size_t nwant)
{
	struct dnsd *h = g->h;
	int64_t now = (int64_t)arbor_time_wall();
	want = xreallocarray(want, nwant + g->ndelegated + 1, sizeof *want);
	for (size_t i = 0; i < g->ndelegated; i++) {
		if (holds(want, nwant, g->delegated[i]))
			continue;
		uint8_t apex[ARBOR_DNS_NAME_WIRE_MAX];
		int len = arbor_dns_name_from_text(g->delegated[i], apex, sizeof apex);
		int rc = 0;
		for (unsigned t = 0; len > 0 && t < udp_serving_threads(h->udp); t++) {
			struct zone_db *db = udp_serving_db(h->udp, t);
			int z = zone_db_zone_find(db, apex, (size_t)len);
			if (z >= 0)
				rc = zone_db_remove_zone(db, (size_t)z, now, NULL);
		}
		if (rc < 0) {
			log_warn("zone %s: cannot remove it (%s)", g->delegated[i], strerror(-rc));
			memcpy(want[nwant++], g->delegated[i], sizeof want[0]);
			continue;
		}
		zone_event(g, "zone.removed", g->delegated[i], "the delegated prefix is no longer held");
	}
	free(g->delegated);
	g->delegated = want;
	g->ndelegated = nwant;
	set_reverse(g, g->delegated, g->ndelegated);
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
	char (*want)[ARBOR_DNS_NAME_TEXT_MAX] = NULL;
	size_t nwant = 0;
	bool zones_change = false;
	if (sources & GATHER_PREFIXES) {
		udp_serving_lock_all(h->udp);
		nwant = wanted_zones(g, &want);
		zones_change = add_delegated_zones(g, want, &nwant);
		if (zones_change)
			sources = GATHER_ALL; /* every source's PTR records follow the zones */
		udp_serving_unlock_all(h->udp);
	}
	int64_t now = (int64_t)arbor_time_wall();
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
		.prefixes = g->prefixes.lans,
		.nprefixes = g->prefixes.nlans,
		.now = now,
		.subnet_id = subnet_id_of,
		.ctx = g,
		.reverse_apexes = g->reverse,
		.nreverse = g->nreverse,
	};
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
	if (zones_change) {
		udp_serving_lock_all(h->udp);
		remove_delegated_zones(g, want, nwant);
		udp_serving_unlock_all(h->udp);
	} else {
		free(want);
	}
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

static int prefixes_snapshot(void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct gather *g = ctx;
	return prefix_set_load(&g->prefixes, body, len, arbor_time_wall(), err, errlen);
}

static int prefixes_events(void *ctx, const char *body, size_t len, uint64_t *since, bool *changed, char *err,
			   size_t errlen)
{
	struct gather *g = ctx;
	return prefix_set_apply_events(&g->prefixes, body, len, since, arbor_time_wall(), changed, err, errlen);
}

static void prefixes_changed(void *ctx, const char *why)
{
	/* All of them: the derived ULA names follow dhcp6pd's subnet ids. */
	gather_refresh(ctx, GATHER_ALL, why);
}

static double prefixes_next_end(void *ctx)
{
	return prefix_set_next_end(&((struct gather *)ctx)->prefixes);
}

static bool prefixes_expire(void *ctx, double now)
{
	return prefix_set_expire(&((struct gather *)ctx)->prefixes, now);
}

static const struct contract_feed_ops prefix_ops = {
	.what = "dhcp6pd's prefixes",
	.snapshot_path = "/v1/prefixes",
	.snapshot = prefixes_snapshot,
	.events = prefixes_events,
	.changed = prefixes_changed,
	.next_end = prefixes_next_end,
	.expire = prefixes_expire,
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
	socket = socket_of(g, g->h->cfg->dhcp6pd_socket, "dhcp6pd");
	if (g->prefix_feed == NULL || !same_socket(socket, g->prefix_socket)) {
		contract_feed_free(g->prefix_feed);
		free(g->prefix_socket);
		g->prefix_socket = socket;
		g->prefix_feed = contract_feed_new(arbor_daemon_base(g->h->d), socket, &prefix_ops, g);
	} else {
		free(socket);
	}
}

void gather_reread(struct gather *g)
{
	lease_feed_resync(g->leases);
	contract_feed_resync(g->peer_feed);
	contract_feed_resync(g->prefix_feed);
}

struct gather *gather_new(struct dnsd *h, char *err, size_t errlen)
{
	struct gather *g = xcalloc(1, sizeof *g);
	g->h = h;
	set_reverse(g, NULL, 0);
	if (arbor_subnet_ids_load(&g->subnet_ids, arbor_daemon_subnets6_dir(h->d), ARBOR_SUBNET_IDS_FILE, err, errlen) < 0) {
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
	contract_feed_free(g->prefix_feed);
	prefix_set_free(&g->prefixes);
	free(g->prefix_socket);
	arbor_nl_close(g->nl);
	arbor_subnet_ids_free(&g->subnet_ids);
	free(g->reverse);
	free(g->delegated);
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
	arbor_json_add_int(obj, "prefixes", (long long)g->prefixes.nlans);
	if (g->prefix_feed)
		contract_feed_status(g->prefix_feed, obj, "prefix_feed");
}

bool gather_failed(const struct gather *g, const char **last_error)
{
	*last_error = g->last_source_error;
	return g->source_errors > 0;
}
