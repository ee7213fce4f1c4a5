/* dnsd's status, health and metrics (status.h). The query counters are the sum of
 * the serving threads' (read with atomic loads while they run) and the main
 * loop's. */
#include "status.h"

#include <stdio.h>

#include "buf.h"
#include "dnsd.h"
#include "gather.h"
#include "json.h"
#include "resolver.h"
#include "tcp_serving.h"
#include "udp_serving.h"
#include "zone.h"

static struct dnsd *dnsd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

static void total_counters(const struct dnsd *h, struct dnsd_counters *c)
{
	*c = h->main_counters;
	udp_serving_counters(h->udp, c);
}

void dnsd_status(struct arbor_daemon *d, cJSON *status)
{
	struct dnsd *h = dnsd_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "dnsd");
	cJSON *zones = cJSON_AddArrayToObject(own, "zones");
	const struct zone_db *db = dnsd_main_db(h);
	for (size_t z = 0; z < zone_db_zone_count(db); z++) {
		struct zone_info zi;
		if (zone_db_zone_info(db, z, &zi) != 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "zone", zi.apex);
		arbor_json_add_int(o, "serial", zi.serial);
		arbor_json_add_int(o, "records", (long long)zi.records);
		arbor_json_add_int(o, "delegations", (long long)zi.delegations);
		arbor_json_add_int(o, "shadowed", (long long)zi.shadowed);
		cJSON_AddItemToArray(zones, o);
	}
	cJSON *listen = cJSON_AddArrayToObject(own, "listen");
	for (size_t i = 0; i < h->cfg->nlisten; i++)
		cJSON_AddItemToArray(listen, cJSON_CreateString(h->cfg->listen[i].text));
	arbor_json_add_int(own, "threads", udp_serving_threads(h->udp));
	gather_status(h->gather, own);
	struct dnsd_counters c;
	total_counters(h, &c);
	cJSON *q = cJSON_AddObjectToObject(own, "queries");
	arbor_json_add_int(q, "total", (long long)c.queries);
	arbor_json_add_int(q, "answered", (long long)c.answered);
	arbor_json_add_int(q, "dropped", (long long)c.dropped);
	arbor_json_add_int(q, "nxdomain", (long long)c.nxdomain);
	arbor_json_add_int(q, "formerr", (long long)c.formerr);
	arbor_json_add_int(q, "refused", (long long)c.refused);
	arbor_json_add_int(q, "truncated", (long long)c.truncated);
	arbor_json_add_int(q, "referrals", (long long)c.referrals);
	arbor_json_add_int(q, "recursed", (long long)c.recurse_child);
	arbor_json_add_int(q, "forwarded", (long long)c.forwarded);
	arbor_json_add_int(q, "handoff_dropped", (long long)udp_serving_handoff_dropped(h->udp));
	const struct dnsd_rrl_config *rc = &h->cfg->rrl;
	cJSON *rrl = cJSON_AddObjectToObject(own, "rrl");
	arbor_json_add_int(rrl, "responses_per_second", rc->responses_per_second);
	arbor_json_add_int(rrl, "window", rc->window);
	arbor_json_add_int(rrl, "slip", rc->slip);
	arbor_json_add_int(rrl, "ipv4_prefix", rc->ipv4_prefix);
	arbor_json_add_int(rrl, "ipv6_prefix", rc->ipv6_prefix);
	arbor_json_add_int(rrl, "dropped", (long long)c.rrl_dropped);
	arbor_json_add_int(rrl, "slipped", (long long)c.rrl_slipped);
	tcp_serving_status(h->tcp, own);
	const char *last_error;
	if (gather_failed(h->gather, &last_error))
		cJSON_AddStringToObject(own, "last_source_error", last_error);
	resolver_status(h->resolver, own);
}

enum arbor_health dnsd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct dnsd *h = dnsd_of(d);
	const char *last_error;
	if (gather_failed(h->gather, &last_error)) {
		char reason[300];
		snprintf(reason, sizeof reason, "a record source failed: %s", last_error);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		return ARBOR_HEALTH_DEGRADED;
	}
	return ARBOR_HEALTH_OK;
}

void dnsd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct dnsd *h = dnsd_of(d);
	struct dnsd_counters c;
	total_counters(h, &c);
	arbor_buf_printf(out,
			 "# HELP arbor_dnsd_queries_total DNS queries by outcome.\n# TYPE arbor_dnsd_queries_total counter\n"
			 "arbor_dnsd_queries_total{outcome=\"noerror\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"nxdomain\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"formerr\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"refused\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"notimp\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"servfail\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"dropped\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"forwarded\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"recursed\"} %llu\n",
			 (unsigned long long)c.noerror, (unsigned long long)c.nxdomain, (unsigned long long)c.formerr,
			 (unsigned long long)c.refused, (unsigned long long)c.notimp, (unsigned long long)c.servfail,
			 (unsigned long long)c.dropped, (unsigned long long)c.forwarded, (unsigned long long)c.recurse_child);
	arbor_buf_printf(out,
			 "# HELP arbor_dnsd_handoff_dropped_total Queries for the resolver dropped because the serving "
			 "threads' pipe to the main loop was full.\n# TYPE arbor_dnsd_handoff_dropped_total counter\n"
			 "arbor_dnsd_handoff_dropped_total %llu\n"
			 "# HELP arbor_dnsd_rrl_responses_total Answers held back by response rate limiting: dropped, or "
			 "slipped (sent truncated).\n# TYPE arbor_dnsd_rrl_responses_total counter\n"
			 "arbor_dnsd_rrl_responses_total{action=\"dropped\"} %llu\n"
			 "arbor_dnsd_rrl_responses_total{action=\"slipped\"} %llu\n",
			 (unsigned long long)udp_serving_handoff_dropped(h->udp), (unsigned long long)c.rrl_dropped,
			 (unsigned long long)c.rrl_slipped);
}
