/* arbor-dnsd: authoritative DNS for a tree of machines.
 *
 * The zone database (zone.c) holds what the record sources contribute (sources.c:
 * config, interfaces, children, dhcp4d's leases); the answerer (answer.c) is pure.
 * This file is the wiring: start, reload, renew and stop. The parts (dnsd.h):
 * the UDP serving threads (udp_serving.c), TCP (tcp_serving.c), the resolver for
 * what the answerer hands back (relay.c, resolver.c), the record sources' inputs
 * (gather.c), status and metrics (status.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "addr_derive.h"
#include "clock.h"
#include "daemon.h"
#include "dnsd.h"
#include "gather.h"
#include "json.h"
#include "log.h"
#include "resolver.h"
#include "rrl.h"
#include "sources.h"
#include "status.h"
#include "tcp_serving.h"
#include "udp_serving.h"
#include "xalloc.h"
#include "zone.h"

static struct dnsd *dnsd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

const struct zone_db *dnsd_main_db(const struct dnsd *h)
{
	return udp_serving_db(h->udp, 0);
}

static void on_health(void *ctx, const char *kind, const char *name, bool up)
{
	struct dnsd *h = ctx;
	bool upstream = strcmp(kind, "upstream") == 0;
	const char *type = upstream ? (up ? "upstream.up" : "upstream.down") : (up ? "child.reachable" : "child.unreachable");
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, upstream ? "upstream" : "child", name);
	arbor_event_emit(arbor_daemon_events(h->d), type, up ? "info" : "warning", name, data, "%s %s %s",
			 upstream ? "upstream" : "child", name, up ? "answers again" : "does not answer");
}

/* Response rate limiting as configured (NULL: off). */
static struct rrl *rrl_for(const struct dnsd_config *cfg)
{
	const struct dnsd_rrl_config *c = &cfg->rrl;
	if (c->responses_per_second == 0)
		return NULL;
	uint8_t key[16];
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
		abort(); /* the kernel always has 16 random bytes for us */
	struct rrl_params p = { .responses_per_second = c->responses_per_second, .window = c->window,
				.ipv4_prefix = c->ipv4_prefix, .ipv6_prefix = c->ipv6_prefix };
	return rrl_new(&p, 0, key);
}

static bool same_rrl(const struct dnsd_rrl_config *a, const struct dnsd_rrl_config *b)
{
	return a->responses_per_second == b->responses_per_second && a->window == b->window &&
	       a->ipv4_prefix == b->ipv4_prefix && a->ipv6_prefix == b->ipv6_prefix;
}

static void dnsd_free(struct dnsd *h)
{
	udp_serving_free(h->udp); /* the threads stop first */
	rrl_free(h->rrl);
	tcp_serving_free(h->tcp);
	if (h->resolver)
		resolver_free(h->resolver);
	gather_free(h->gather);
	free(h->reverse);
	arbor_daemon_set_userdata(h->d, NULL);
	free(h);
}

/* The zones: the machine's own, each configured reverse zone, and the ULA /48's
 * ip6.arpa zone when the machine id is known. */
static int add_zones(struct dnsd *h, struct zone_db *db, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	struct zone_soa soa = { .mname = NULL, .rname = NULL, .refresh = cfg->soa_refresh, .retry = cfg->soa_retry,
				.expire = cfg->soa_expire, .minimum = cfg->soa_minimum, .ttl = cfg->ttl };
	int64_t now = (int64_t)arbor_time_wall();
	const char *ns_rel[] = { "ns" };
	if (zone_db_add_zone(db, h->zone, &soa, ns_rel, 1, now, err, errlen) < 0)
		return -1;
	char ns_abs[ARBOR_DNS_NAME_TEXT_MAX + 4];
	snprintf(ns_abs, sizeof ns_abs, "ns.%s", h->zone);
	const char *ns[] = { ns_abs };
	char rname[ARBOR_DNS_NAME_TEXT_MAX + 16];
	snprintf(rname, sizeof rname, "hostmaster.%s", h->zone);
	soa.mname = ns_abs;
	soa.rname = rname;
	for (size_t i = 0; i < h->nreverse; i++)
		if (zone_db_add_zone(db, h->reverse[i], &soa, ns, 1, now, err, errlen) < 0)
			return -1;
	return 0;
}

/* The zone names: the machine's own and the reverse zones. */
static int name_zones(struct dnsd *h, const struct arbor_config *acfg, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	const char *zone = cfg->zone ? cfg->zone : acfg->machine.domain;
	if (zone == NULL) {
		snprintf(err, errlen, "dnsd needs a zone: set machine.domain or dnsd.zone");
		return -1;
	}
	snprintf(h->zone, sizeof h->zone, "%s%s", zone, zone[strlen(zone) - 1] == '.' ? "" : ".");
	char merr[200];
	h->has_machine_id = arbor_machine_id(&acfg->machine, h->machine_id, merr, sizeof merr) == 0;
	if (!h->has_machine_id)
		log_warn("no machine id (%s): no derived IPv6 addresses", merr);
	h->reverse = xcalloc(cfg->nreverse + 2, sizeof *h->reverse);
	for (size_t i = 0; i < cfg->nreverse; i++)
		if (sources_reverse_apex_v4(&cfg->reverse[i], h->reverse[h->nreverse], sizeof h->reverse[0]) == 0)
			h->nreverse++;
	if (h->has_machine_id && sources_reverse_apex_ula(h->machine_id, h->reverse[h->nreverse], sizeof h->reverse[0]) == 0)
		h->nreverse++;
	return 0;
}

static int start_parts(struct dnsd *h, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	h->gather = gather_new(h, err, errlen);
	if (h->gather == NULL)
		return -1;
	h->udp = udp_serving_new(h, cfg->threads, err, errlen);
	if (h->udp == NULL)
		return -1;
	for (unsigned t = 0; t < udp_serving_threads(h->udp); t++)
		if (add_zones(h, udp_serving_db(h->udp, t), err, errlen) < 0)
			return -1;
	h->tcp = tcp_serving_new(h, err, errlen);
	if (h->tcp == NULL)
		return -1;
	struct resolver_config rc = { .child_port = cfg->child_port, .health = on_health, .health_ctx = h };
	for (size_t i = 0; i < cfg->nforwarders && i < RESOLVER_MAX_FORWARDERS; i++)
		rc.forwarders[rc.nforwarders++] = cfg->forwarders[i].addr;
	h->resolver = resolver_new(arbor_daemon_base(h->d), &rc, err, errlen);
	if (h->resolver == NULL)
		return -1;
	h->rrl = rrl_for(cfg);
	gather_refresh(h->gather, GATHER_ALL, "start");
	if (udp_serving_start(h->udp, err, errlen) < 0)
		return -1;
	gather_follow(h->gather);
	return 0;
}

static int dnsd_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	struct dnsd *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	const struct arbor_config *acfg = arbor_daemon_config(d);
	h->cfg = acfg->daemon;
	if (name_zones(h, acfg, err, errlen) < 0 || start_parts(h, err, errlen) < 0) {
		dnsd_free(h);
		return -1;
	}
	h->started = true;
	struct zone_info zi;
	zone_db_zone_info(dnsd_main_db(h), 0, &zi);
	log_info("serving %s (%zu records, serial %u) on %zu addresses, %u threads", zi.apex, zi.records, zi.serial,
		 h->cfg->nlisten, udp_serving_threads(h->udp));
	return 0;
}

static void dnsd_stop(struct arbor_daemon *d)
{
	struct dnsd *h = dnsd_of(d);
	if (h == NULL)
		return;
	resolver_cancel_all(h->resolver);
	dnsd_free(h);
}

/* Reload: the zone contents and the resolver follow the new config at once; the
 * sockets and threads stay, so a change of listen or threads needs a restart and
 * is refused (the old config keeps running). */
static int dnsd_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct dnsd *h = dnsd_of(d);
	const struct dnsd_config *nc = next->daemon, *oc = h->cfg;
	bool same_listen = nc->nlisten == oc->nlisten && nc->threads == oc->threads && nc->child_port == oc->child_port;
	for (size_t i = 0; same_listen && i < nc->nlisten; i++)
		same_listen = strcmp(nc->listen[i].text, oc->listen[i].text) == 0;
	bool same_zones = nc->nreverse == oc->nreverse && ((nc->zone == NULL) == (oc->zone == NULL)) &&
			  (nc->zone == NULL || strcmp(nc->zone, oc->zone) == 0) &&
			  memcmp(nc->reverse, oc->reverse, nc->nreverse * sizeof *nc->reverse) == 0 &&
			  nc->nforwarders == oc->nforwarders &&
			  memcmp(nc->forwarders, oc->forwarders, nc->nforwarders * sizeof *nc->forwarders) == 0 &&
			  nc->ttl == oc->ttl && nc->soa_minimum == oc->soa_minimum;
	if (!same_listen || !same_zones) {
		snprintf(err, errlen, "listen, threads, child_port, zone, reverse_zones, forwarders, ttl and soa need a "
				      "restart; the running config is unchanged");
		return -1;
	}
	struct rrl *old = NULL;
	udp_serving_lock_all(h->udp); /* the serving threads read cfg and rrl */
	if (!same_rrl(&nc->rrl, &oc->rrl)) {
		old = h->rrl;
		h->rrl = rrl_for(nc);
	}
	h->cfg = nc;
	udp_serving_unlock_all(h->udp);
	rrl_free(old);
	gather_follow(h->gather);
	gather_refresh(h->gather, GATHER_ALL, "reload");
	return 0;
}

static int dnsd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct dnsd *h = dnsd_of(d);
	gather_reread(h->gather);
	resolver_flush_cache(h->resolver);
	gather_refresh(h->gather, GATHER_ALL, "renew");
	snprintf(msg, msglen, "every record source re-read (dhcp4d's leases follow when they arrive), cache flushed");
	return 0;
}

static const struct arbor_daemon_def dnsd_def = {
	.name = "dnsd",
	.binary = "arbor-dnsd",
	.summary = "Authoritative DNS for a tree of machines, with deterministic IPv6 addresses.",
	.parse = dnsd_config_parse,
	.free_config = dnsd_config_free,
	.start = dnsd_start,
	.reload = dnsd_reload,
	.stop = dnsd_stop,
	.renew = dnsd_renew,
	.status = dnsd_status,
	.health = dnsd_health,
	.metrics = dnsd_metrics,
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&dnsd_def, argc, argv);
}
