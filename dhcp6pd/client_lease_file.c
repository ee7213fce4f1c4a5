/* The PD client's lease file: encode and decode (see client_lease_file.h). Every
 * number read back is range-checked: the file may be damaged, and a restart
 * must then start clean rather than trust it. */
#include "client_lease_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "json.h"

static void add_time(cJSON *o, const char *key, double t)
{
	if (t >= PD_NEVER / 2)
		cJSON_AddNullToObject(o, key);
	else
		arbor_json_add_fixed(o, key, t, 3);
}

static void add_prefix(cJSON *arr, const struct in6_addr *a, uint8_t len)
{
	char text[64];
	struct arbor_prefix6 p = { *a, len };
	cJSON_AddItemToArray(arr, cJSON_CreateString(arbor_prefix6_format(&p, text, sizeof text)));
}

static cJSON *entry_json(const struct pd_entry *e, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	char text[64];
	struct arbor_prefix6 p = { e->addr, e->len };
	cJSON_AddStringToObject(o, key, arbor_prefix6_format(&p, text, sizeof text));
	arbor_json_add_int(o, "preferred", e->preferred);
	arbor_json_add_int(o, "valid", e->valid);
	add_time(o, "preferred_until", e->preferred_until);
	add_time(o, "valid_until", e->valid_until);
	if (e->valid_until < PD_NEVER / 2) {
		char iso[40];
		struct timespec ts = { (time_t)e->valid_until, (long)((e->valid_until - floor(e->valid_until)) * 1e9) };
		arbor_time_rfc3339(&ts, iso, sizeof iso);
		cJSON_AddStringToObject(o, "ends", iso);
	}
	return o;
}

cJSON *client_lease_file_encode(const char *ifname, const char *state, const struct pd_lease *l,
				const struct in6_addr *hint, uint8_t hint_len, const struct uplink_applied *ap)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "interface", ifname);
	cJSON_AddStringToObject(doc, "state", state);
	if (hint && hint_len) {
		char text[64];
		struct arbor_prefix6 p = { *hint, hint_len };
		cJSON_AddStringToObject(doc, "hint", arbor_prefix6_format(&p, text, sizeof text));
	}
	if (l && l->valid) {
		cJSON *j = cJSON_AddObjectToObject(doc, "lease");
		char duid[DHCP6_DUID_MAX * 3 + 1];
		duid_format(l->server_id, l->server_id_len, duid, sizeof duid);
		cJSON_AddStringToObject(j, "server_id", duid);
		add_time(j, "start", l->start);
		add_time(j, "t1", l->t1);
		add_time(j, "t2", l->t2);
		cJSON *arr = cJSON_AddArrayToObject(j, "prefixes");
		for (size_t i = 0; i < l->nprefix; i++)
			cJSON_AddItemToArray(arr, entry_json(&l->prefix[i], "prefix"));
		arr = cJSON_AddArrayToObject(j, "addresses");
		for (size_t i = 0; i < l->naddr; i++)
			cJSON_AddItemToArray(arr, entry_json(&l->addr[i], "address"));
		arr = cJSON_AddArrayToObject(j, "dns_servers");
		for (size_t i = 0; i < l->ndns; i++) {
			char text[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, &l->dns[i], text, sizeof text);
			cJSON_AddItemToArray(arr, cJSON_CreateString(text));
		}
		arr = cJSON_AddArrayToObject(j, "domain_search");
		for (size_t i = 0; i < l->ndomain; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(l->domain[i]));
	}
	if (ap) {
		cJSON *a = cJSON_AddObjectToObject(doc, "applied");
		cJSON *arr = cJSON_AddArrayToObject(a, "unreachable");
		for (size_t i = 0; i < ap->nunreachable; i++)
			add_prefix(arr, &ap->unreachable[i].addr, ap->unreachable[i].len);
		arr = cJSON_AddArrayToObject(a, "addresses");
		for (size_t i = 0; i < ap->naddresses; i++)
			add_prefix(arr, &ap->addresses[i].addr, ap->addresses[i].len);
	}
	return doc;
}

static bool get_time(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNull(v)) {
		*out = PD_NEVER;
		return true;
	}
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1e15))
		return false;
	*out = v->valuedouble;
	return true;
}

static bool get_u32(const cJSON *o, const char *key, uint32_t *out)
{
	uint64_t v;
	if (!arbor_json_get_u53(cJSON_GetObjectItemCaseSensitive(o, key), &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool get_prefix(const cJSON *v, struct arbor_prefix6 *p)
{
	return cJSON_IsString(v) && arbor_prefix6_parse(v->valuestring, p);
}

/* A prefix read back from our own file may carry host bits (an address /128 has
 * none; a prefix never does): the same parse as the config. */
static bool get_entry(const cJSON *o, const char *key, struct pd_entry *e)
{
	struct arbor_prefix6 p;
	if (!get_prefix(cJSON_GetObjectItemCaseSensitive(o, key), &p) || p.len == 0 ||
	    !get_u32(o, "preferred", &e->preferred) || !get_u32(o, "valid", &e->valid) ||
	    !get_time(o, "preferred_until", &e->preferred_until) || !get_time(o, "valid_until", &e->valid_until))
		return false;
	e->addr = p.addr;
	e->len = p.len;
	return true;
}

static void get_prefix_list(const cJSON *arr, struct arbor_prefix6 *out, size_t *n, size_t max)
{
	const cJSON *it;
	*n = 0;
	cJSON_ArrayForEach(it, arr)
		if (*n < max && get_prefix(it, &out[*n]))
			(*n)++;
}

int client_lease_file_decode(const cJSON *doc, struct pd_lease *l, struct in6_addr *hint, uint8_t *hint_len,
			     struct uplink_applied *ap, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	memset(ap, 0, sizeof *ap);
	*hint_len = 0;
	if (!cJSON_IsObject(doc)) {
		snprintf(err, errlen, "not a JSON object");
		return -EBADMSG;
	}
	struct arbor_prefix6 h;
	if (get_prefix(cJSON_GetObjectItemCaseSensitive(doc, "hint"), &h) && h.len) {
		*hint = h.addr;
		*hint_len = h.len;
	}
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "applied");
	if (cJSON_IsObject(a)) {
		get_prefix_list(cJSON_GetObjectItemCaseSensitive(a, "unreachable"), ap->unreachable, &ap->nunreachable,
				APPLIED_MAX);
		get_prefix_list(cJSON_GetObjectItemCaseSensitive(a, "addresses"), ap->addresses, &ap->naddresses,
				APPLIED_MAX);
	}
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(doc, "lease");
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(j, "server_id");
	if (!cJSON_IsObject(j) || !cJSON_IsString(sid) || !duid_parse(sid->valuestring, l->server_id, &l->server_id_len) ||
	    !get_time(j, "start", &l->start) || !get_time(j, "t1", &l->t1) || !get_time(j, "t2", &l->t2)) {
		snprintf(err, errlen, "lease: server_id, start, t1 and t2 are required");
		return -EBADMSG;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "prefixes"))
		if (l->nprefix < PD_PREFIXES_MAX && get_entry(it, "prefix", &l->prefix[l->nprefix]))
			l->nprefix++;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "addresses"))
		if (l->naddr < PD_ADDRS_MAX && get_entry(it, "address", &l->addr[l->naddr]) && l->addr[l->naddr].len == 128)
			l->naddr++;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "dns_servers"))
		if (l->ndns < DHCP6_DNS_MAX && cJSON_IsString(it) && inet_pton(AF_INET6, it->valuestring, &l->dns[l->ndns]) == 1)
			l->ndns++;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "domain_search"))
		if (l->ndomain < PD_DOMAINS_MAX && cJSON_IsString(it) && strlen(it->valuestring) < DHCP6_NAME_TEXT_MAX)
			snprintf(l->domain[l->ndomain++], DHCP6_NAME_TEXT_MAX, "%s", it->valuestring);
	if (l->nprefix == 0) {
		snprintf(err, errlen, "lease: no prefix");
		return -EBADMSG;
	}
	l->valid = true;
	return 0;
}
