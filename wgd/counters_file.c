/* counters.json (see counters_file.h). */
#include "counters_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xalloc.h"

cJSON *counters_to_json(const struct counters_entry *v, size_t n)
{
	cJSON *doc = cJSON_CreateObject();
	arbor_json_add_int(doc, "version", 1);
	cJSON *peers = cJSON_AddObjectToObject(doc, "peers");
	for (size_t i = 0; i < n; i++) {
		const struct peer_counters *c = &v[i].c;
		cJSON *o = cJSON_AddObjectToObject(peers, v[i].name);
		arbor_json_add_int(o, "rx", (long long)c->rx_total);
		arbor_json_add_int(o, "tx", (long long)c->tx_total);
		arbor_json_add_int(o, "seen_rx", (long long)c->seen_rx);
		arbor_json_add_int(o, "seen_tx", (long long)c->seen_tx);
		arbor_json_add_int(o, "ifindex", c->seen_ifindex);
		arbor_json_add_fixed(o, "last_handshake", c->last_handshake, 3);
		arbor_json_add_fixed(o, "last_rx_at", c->last_rx_at, 3);
	}
	return doc;
}

static int get_u(const cJSON *o, const char *key, uint64_t max, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return v && arbor_json_get_u53(v, out) && *out <= max ? 0 : -EINVAL;
}

static int get_time(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e12)
		return -EINVAL;
	*out = v->valuedouble;
	return 0;
}

int counters_from_json(const cJSON *doc, struct counters_entry **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	uint64_t version = 0;
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(doc, "peers");
	if (!cJSON_IsObject(doc) || get_u(doc, "version", 1000, &version) != 0 || version != 1 || !cJSON_IsObject(peers)) {
		snprintf(err, errlen, "not {\"version\": 1, \"peers\": {...}}");
		return -EINVAL;
	}
	size_t count = (size_t)cJSON_GetArraySize(peers);
	if (count > WGD_MAX_PEERS) {
		snprintf(err, errlen, "peers: more than %d", WGD_MAX_PEERS);
		return -EINVAL;
	}
	struct counters_entry *v = xcalloc(count + 1, sizeof *v);
	size_t k = 0;
	for (const cJSON *o = peers->child; o; o = o->next, k++) {
		static const char *const keys[] = { "rx", "tx", "seen_rx", "seen_tx", "ifindex", "last_handshake", "last_rx_at" };
		uint64_t u[5] = { 0 };
		bool ok = cJSON_IsObject(o) && wgd_peer_name_valid(o->string) && cJSON_GetArraySize(o) == 7;
		for (size_t i = 0; ok && i < 5; i++)
			ok = get_u(o, keys[i], i == 4 ? UINT32_MAX : (1ull << 53), &u[i]) == 0;
		ok = ok && get_time(o, "last_handshake", &v[k].c.last_handshake) == 0 &&
		     get_time(o, "last_rx_at", &v[k].c.last_rx_at) == 0;
		for (size_t i = 0; ok && i < k; i++)
			ok = strcmp(v[i].name, o->string) != 0;
		if (!ok) {
			snprintf(err, errlen, "peers.%.64s: not {rx, tx, seen_rx, seen_tx, ifindex, last_handshake, last_rx_at} "
				 "of a peer named once", o->string ? o->string : "?");
			free(v);
			return -EINVAL;
		}
		snprintf(v[k].name, sizeof v[k].name, "%s", o->string);
		v[k].c.rx_total = u[0];
		v[k].c.tx_total = u[1];
		v[k].c.seen_rx = u[2];
		v[k].c.seen_tx = u[3];
		v[k].c.seen_ifindex = (uint32_t)u[4];
	}
	*out = v;
	*n = k;
	return 0;
}
