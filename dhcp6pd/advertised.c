/* advertised.json encode/decode (see advertised.h). */
#include "advertised.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "subnet_ids.h"

cJSON *advertised_encode(const struct advertised_lan *lans, size_t n)
{
	cJSON *doc = cJSON_CreateObject();
	arbor_json_add_int(doc, "version", 1);
	cJSON *all = cJSON_AddObjectToObject(doc, "lans");
	for (size_t i = 0; i < n; i++) {
		cJSON *arr = cJSON_AddArrayToObject(all, lans[i].ifname);
		for (size_t k = 0; k < lans[i].nadv; k++) {
			char text[64];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "prefix", arbor_prefix6_format(&lans[i].adv[k].prefix, text, sizeof text));
			arbor_json_add_fixed(o, "until", lans[i].adv[k].bound, 3);
			cJSON_AddItemToArray(arr, o);
		}
	}
	return doc;
}

int advertised_decode(const cJSON *doc, struct advertised_lan *lans, size_t max, size_t *n, size_t *skipped, char *err,
		      size_t errlen)
{
	*n = 0;
	*skipped = 0;
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(doc, "lans");
	if (!cJSON_IsObject(doc) || !cJSON_IsNumber(version) || version->valuedouble != 1 || !cJSON_IsObject(all)) {
		snprintf(err, errlen, "not a version 1 advertised list");
		return -EBADMSG;
	}
	for (const cJSON *lan = all->child; lan; lan = lan->next) {
		if (*n == max || !arbor_subnet_name_valid(lan->string) || !cJSON_IsArray(lan)) {
			(*skipped)++;
			continue;
		}
		struct advertised_lan *l = &lans[(*n)++];
		memset(l, 0, sizeof *l);
		snprintf(l->ifname, sizeof l->ifname, "%s", lan->string);
		for (const cJSON *e = lan->child; e; e = e->next) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "prefix");
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "until");
			struct lan_adv a;
			if (l->nadv == LAN_ADV_MAX || !cJSON_IsString(p) || !arbor_prefix6_parse(p->valuestring, &a.prefix) ||
			    !cJSON_IsNumber(u) || !(u->valuedouble >= 0 && u->valuedouble < 1e15)) {
				(*skipped)++;
				continue;
			}
			a.bound = u->valuedouble;
			l->adv[l->nadv++] = a;
		}
	}
	return 0;
}
