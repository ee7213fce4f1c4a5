/* dhcp6pd's prefixes (prefix_set.h). */
#include "prefix_set.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract_feed.h"
#include "xalloc.h"

void prefix_set_free(struct prefix_set *s)
{
	free(s->lans);
	free(s->delegations);
	free(s->subnets);
	memset(s, 0, sizeof *s);
}

static const char *string_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* valid_until: absent or null is infinite; anything else must be a number. */
static bool until_of(const cJSON *o, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "valid_until");
	if (v == NULL || cJSON_IsNull(v)) {
		*out = HUGE_VAL;
		return true;
	}
	*out = v->valuedouble;
	return cJSON_IsNumber(v);
}

static bool interface_of(const cJSON *o, char out[16])
{
	const char *ifname = string_of(o, "interface");
	if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= 16)
		return false;
	memcpy(out, ifname, strlen(ifname) + 1);
	return true;
}

/* The LANs of a /v1/prefixes answer or a prefix.* event into n: their global
 * /64s valid after now and their subnet ids. NULL, or what is wrong. */
static const char *take_lans(struct prefix_set *n, const cJSON *lans, double now)
{
	const cJSON *o, *p;
	cJSON_ArrayForEach(o, lans)
	{
		char ifname[16];
		const cJSON *prefixes = cJSON_GetObjectItemCaseSensitive(o, "prefixes");
		if (!interface_of(o, ifname) || !cJSON_IsArray(prefixes))
			return "a LAN without interface or prefixes";
		const cJSON *sid = cJSON_GetObjectItemCaseSensitive(o, "subnet_id");
		if (cJSON_IsNumber(sid) && sid->valuedouble >= 0 && sid->valuedouble <= 65535 &&
		    n->nsubnets < PREFIX_SET_MAX) {
			if (n->nsubnets % 16 == 0)
				n->subnets = xreallocarray(n->subnets, n->nsubnets + 16, sizeof *n->subnets);
			struct lan_subnet *e = &n->subnets[n->nsubnets++];
			memcpy(e->interface, ifname, sizeof ifname);
			e->subnet_id = (uint16_t)sid->valuedouble;
		}
		cJSON_ArrayForEach(p, prefixes)
		{
			struct lan_prefix e = { 0 };
			const char *router = string_of(p, "router");
			if (!arbor_prefix6_parse(string_of(p, "prefix"), &e.prefix) || !until_of(p, &e.valid_until) ||
			    (router && inet_pton(AF_INET6, router, &e.router) != 1))
				return "a LAN prefix without prefix or valid_until";
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "ula")) || e.valid_until <= now ||
			    n->nlans == PREFIX_SET_MAX)
				continue;
			memcpy(e.interface, ifname, sizeof ifname);
			e.has_router = router != NULL;
			if (n->nlans % 16 == 0)
				n->lans = xreallocarray(n->lans, n->nlans + 16, sizeof *n->lans);
			n->lans[n->nlans++] = e;
		}
	}
	return NULL;
}

/* An uplink's prefixes into n (valid after now). NULL, or what is wrong. */
static const char *take_delegation(struct prefix_set *n, const char *ifname, const cJSON *prefixes, double now)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, prefixes)
	{
		struct uplink_prefix e = { 0 };
		if (!arbor_prefix6_parse(string_of(p, "prefix"), &e.prefix) || !until_of(p, &e.valid_until))
			return "a delegated prefix without prefix or valid_until";
		if (e.valid_until <= now || n->ndelegations == PREFIX_SET_MAX)
			continue;
		snprintf(e.interface, sizeof e.interface, "%s", ifname);
		if (n->ndelegations % 16 == 0)
			n->delegations = xreallocarray(n->delegations, n->ndelegations + 16, sizeof *n->delegations);
		n->delegations[n->ndelegations++] = e;
	}
	return NULL;
}

int prefix_set_load(struct prefix_set *s, const char *json, size_t len, double now, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *lans = cJSON_GetObjectItemCaseSensitive(doc, "lans");
	const cJSON *dels = cJSON_GetObjectItemCaseSensitive(doc, "delegations");
	struct prefix_set n = { 0 };
	const char *bad = NULL;
	if (!cJSON_IsArray(lans) || !cJSON_IsArray(dels))
		bad = "not {\"delegations\":[...],\"lans\":[...]}";
	else
		bad = take_lans(&n, lans, now);
	const cJSON *o, *list = bad ? NULL : dels;
	cJSON_ArrayForEach(o, list)
	{
		char ifname[16];
		const cJSON *prefixes = cJSON_GetObjectItemCaseSensitive(o, "prefixes");
		if (!interface_of(o, ifname) || !cJSON_IsArray(prefixes))
			bad = "a delegation without interface or prefixes";
		else
			bad = take_delegation(&n, ifname, prefixes, now);
		if (bad)
			break;
	}
	cJSON_Delete(doc);
	if (bad) {
		snprintf(err, errlen, "the prefixes answer: %s", bad);
		prefix_set_free(&n);
		return -EBADMSG;
	}
	prefix_set_free(s);
	*s = n;
	return 0;
}

struct apply_ctx {
	struct prefix_set *s;
	double now;
};

/* A prefix.* event: the LANs as they are now, and the named uplink's prefixes.
 * One that cannot be read changes nothing (the next snapshot will). */
static bool apply_one(void *ctx, const char *type, const cJSON *data)
{
	struct apply_ctx *a = ctx;
	char ifname[16];
	const cJSON *lans = cJSON_GetObjectItemCaseSensitive(data, "lans");
	const cJSON *prefixes = cJSON_GetObjectItemCaseSensitive(data, "prefixes");
	if (strncmp(type, "prefix.", 7) != 0 || !interface_of(data, ifname) || !cJSON_IsArray(lans) ||
	    !cJSON_IsArray(prefixes))
		return false;
	struct prefix_set n = { 0 };
	for (size_t i = 0; i < a->s->ndelegations; i++) /* the other uplinks' stay */
		if (strcmp(a->s->delegations[i].interface, ifname) != 0) {
			if (n.ndelegations % 16 == 0)
				n.delegations = xreallocarray(n.delegations, n.ndelegations + 16, sizeof *n.delegations);
			n.delegations[n.ndelegations++] = a->s->delegations[i];
		}
	if (take_lans(&n, lans, a->now) || take_delegation(&n, ifname, prefixes, a->now)) {
		prefix_set_free(&n);
		return false;
	}
	prefix_set_free(a->s);
	*a->s = n;
	return true;
}

int prefix_set_apply_events(struct prefix_set *s, const char *json, size_t len, uint64_t *since, double now,
			    bool *changed, char *err, size_t errlen)
{
	struct apply_ctx a = { s, now };
	return contract_events_walk(json, len, since, apply_one, &a, changed, err, errlen);
}

int prefix_set_subnet_id(const struct prefix_set *s, const char *ifname)
{
	for (size_t i = 0; i < s->nsubnets; i++)
		if (strcmp(s->subnets[i].interface, ifname) == 0)
			return s->subnets[i].subnet_id;
	return -1;
}

bool prefix_set_expire(struct prefix_set *s, double now)
{
	size_t before = s->nlans + s->ndelegations, k = 0;
	for (size_t i = 0; i < s->nlans; i++)
		if (s->lans[i].valid_until > now)
			s->lans[k++] = s->lans[i];
	s->nlans = k;
	k = 0;
	for (size_t i = 0; i < s->ndelegations; i++)
		if (s->delegations[i].valid_until > now)
			s->delegations[k++] = s->delegations[i];
	s->ndelegations = k;
	return s->nlans + s->ndelegations != before;
}

double prefix_set_next_end(const struct prefix_set *s)
{
	double next = 0;
	for (size_t i = 0; i < s->nlans; i++)
		if (isfinite(s->lans[i].valid_until) && (next == 0 || s->lans[i].valid_until < next))
			next = s->lans[i].valid_until;
	for (size_t i = 0; i < s->ndelegations; i++)
		if (isfinite(s->delegations[i].valid_until) && (next == 0 || s->delegations[i].valid_until < next))
			next = s->delegations[i].valid_until;
	return next;
}
