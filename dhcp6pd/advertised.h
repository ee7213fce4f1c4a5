/* advertised.json: what each LAN was told, so a withdrawal outlives a restart
 * (RFC 9096 §3.5):
 *
 *   {"version": 1, "lans": {"lan0": [{"prefix": "2001:db8:100:1::/64", "until": 1795397245.0}]}}
 *
 * "until" is the bound of lan_plan.h: hosts may hold the prefix until then. The
 * file is replaced atomically before an RA that raises a bound goes out. */
#pragma once
#include <cjson/cJSON.h>

#include "lan_plan.h"

#define ADVERTISED_FILE "advertised.json"

struct advertised_lan {
	char ifname[16];
	struct lan_adv adv[LAN_ADV_MAX];
	size_t nadv;
};

cJSON *advertised_encode(const struct advertised_lan *lans, size_t n);
/* Fills lans (at most max); entries that do not parse are left out and counted
 * in *skipped. -EBADMSG with err for a document of the wrong shape. */
int advertised_decode(const cJSON *doc, struct advertised_lan *lans, size_t max, size_t *n, size_t *skipped, char *err,
		      size_t errlen);
