/* dhcp4d's committed leases (lease_set.h): an array with an open-addressing
 * index over (interface, address), so applying a burst of events costs one lookup
 * each however many leases there are. */
#include "lease_set.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract_feed.h"
#include "hex.h"
#include "xalloc.h"

void lease_set_free(struct lease_set *s)
{
	free(s->v);
	free(s->slots);
	memset(s, 0, sizeof *s);
}

int dhcp_lease_parse_id(const char *text, uint8_t *out)
{
	int n = 0;
	for (const char *p = text;; p += 3) {
		int hi = arbor_hex_digit(p[0]), lo = hi < 0 ? -1 : arbor_hex_digit(p[1]);
		if (lo < 0 || n == DHCP_LEASE_ID_MAX)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		if (p[2] == '\0')
			return n;
		if (p[2] != ':')
			return -1;
	}
}

static size_t hash_key(const char *ifname, struct in_addr a)
{
	uint64_t h = 1469598103934665603ull ^ a.s_addr;
	for (const char *p = ifname; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(h ^ h >> 32);
}

/* The slot holding (ifname, a), or the empty slot where it would go. */
static size_t find_slot(const struct lease_set *s, const char *ifname, struct in_addr a)
{
	size_t mask = s->nslots - 1;
	for (size_t i = hash_key(ifname, a) & mask;; i = (i + 1) & mask) {
		uint32_t k = s->slots[i];
		if (k == 0)
			return i;
		const struct dhcp_lease *l = &s->v[k - 1];
		if (l->addr.s_addr == a.s_addr && strcmp(l->interface, ifname) == 0)
			return i;
	}
}

static void rehash(struct lease_set *s, size_t nslots)
{
	free(s->slots);
	s->nslots = nslots;
	s->slots = xcalloc(nslots, sizeof *s->slots);
	for (size_t i = 0; i < s->n; i++)
		s->slots[find_slot(s, s->v[i].interface, s->v[i].addr)] = (uint32_t)i + 1;
}

static void put(struct lease_set *s, const struct dhcp_lease *l)
{
	if (s->nslots == 0 || 2 * (s->n + 1) > s->nslots)
		rehash(s, s->nslots ? 2 * s->nslots : 64);
	size_t i = find_slot(s, l->interface, l->addr);
	if (s->slots[i]) {
		s->v[s->slots[i] - 1] = *l;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n] = *l;
	s->slots[i] = (uint32_t)++s->n;
}

/* Removes the lease in slot i: the last lease moves into its place in the array,
 * and the entries after i in its probe run move back (linear probing deletion). */
static void remove_slot(struct lease_set *s, size_t i)
{
	size_t mask = s->nslots - 1;
	uint32_t gone = s->slots[i] - 1;
	s->slots[i] = 0;
	for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
		uint32_t k = s->slots[j];
		s->slots[j] = 0;
		s->slots[find_slot(s, s->v[k - 1].interface, s->v[k - 1].addr)] = k;
	}
	if (gone != s->n - 1) {
		s->v[gone] = s->v[s->n - 1];
		s->slots[find_slot(s, s->v[gone].interface, s->v[gone].addr)] = gone + 1;
	}
	s->n--;
}

static bool drop(struct lease_set *s, const char *ifname, struct in_addr a)
{
	if (s->n == 0)
		return false;
	size_t i = find_slot(s, ifname, a);
	if (s->slots[i] == 0)
		return false;
	remove_slot(s, i);
	return true;
}

static const char *string_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A lease from a /v1/leases entry or a lease event's data. Returns false when it
 * does not name an interface and an IPv4 address. */
static bool lease_from_json(const cJSON *o, struct dhcp_lease *l)
{
	memset(l, 0, sizeof *l);
	const char *ifname = string_of(o, "interface"), *addr = string_of(o, "address");
	const char *host = string_of(o, "hostname"), *mac = string_of(o, "mac"), *cid = string_of(o, "client_id");
	const cJSON *ends = cJSON_GetObjectItemCaseSensitive(o, "ends");
	if (ifname == NULL || addr == NULL || strlen(ifname) >= sizeof l->interface ||
	    inet_pton(AF_INET, addr, &l->addr) != 1)
		return false;
	snprintf(l->interface, sizeof l->interface, "%s", ifname);
	snprintf(l->hostname, sizeof l->hostname, "%s", host ? host : "");
	int n = mac && mac[0] ? dhcp_lease_parse_id(mac, l->mac) : 0;
	l->mac_len = n > 0 ? (uint8_t)n : 0;
	n = cid && cid[0] ? dhcp_lease_parse_id(cid, l->client_id) : 0;
	l->client_id_len = n > 0 ? (uint8_t)n : 0;
	l->ends = cJSON_IsNumber(ends) ? ends->valuedouble : 0;
	return true;
}

int lease_set_load(struct lease_set *s, const char *json, size_t len, double now, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *leases = cJSON_GetObjectItemCaseSensitive(doc, "leases");
	if (!cJSON_IsArray(leases)) {
		snprintf(err, errlen, "the leases answer is not {\"leases\":[...]}");
		cJSON_Delete(doc);
		return -EBADMSG;
	}
	struct lease_set next = { 0 };
	const cJSON *o;
	cJSON_ArrayForEach(o, leases)
	{
		struct dhcp_lease l;
		const char *state = string_of(o, "state");
		if (state && strcmp(state, "bound") == 0 && lease_from_json(o, &l) && l.ends > now)
			put(&next, &l);
	}
	cJSON_Delete(doc);
	lease_set_free(s);
	*s = next;
	return 0;
}

/* What one event does to the set. Returns whether it changed anything. */
static bool apply_event(struct lease_set *s, const char *type, const cJSON *data, double now)
{
	struct dhcp_lease l;
	if (strncmp(type, "lease.", 6) != 0 || !cJSON_IsObject(data) ||
	    !cJSON_HasObjectItem(data, "client_id") || !lease_from_json(data, &l))
		return false;
	const char *what = type + 6;
	if (strcmp(what, "bound") == 0 || strcmp(what, "renewed") == 0) {
		if (l.ends <= now)
			return drop(s, l.interface, l.addr);
		put(s, &l);
		return true;
	}
	if (strcmp(what, "released") == 0 || strcmp(what, "expired") == 0 || strcmp(what, "declined") == 0 ||
	    strcmp(what, "conflict") == 0)
		return drop(s, l.interface, l.addr);
	return false;
}

struct apply_ctx {
	struct lease_set *s;
	double now;
};

static bool apply_one(void *ctx, const char *type, const cJSON *data)
{
	struct apply_ctx *a = ctx;
	return apply_event(a->s, type, data, a->now);
}

int lease_set_apply_events(struct lease_set *s, const char *json, size_t len, uint64_t *since, double now,
			   bool *changed, char *err, size_t errlen)
{
	struct apply_ctx a = { s, now };
	int rc = contract_events_walk(json, len, since, apply_one, &a, changed, err, errlen);
	return rc == CONTRACT_EVENTS_RESYNC ? LEASE_EVENTS_RESYNC : rc;
}

bool lease_set_expire(struct lease_set *s, double now)
{
	bool any = false;
	for (size_t i = 0; i < s->n;) {
		if (s->v[i].ends > now) {
			i++;
			continue;
		}
		remove_slot(s, find_slot(s, s->v[i].interface, s->v[i].addr));
		any = true; /* the last lease moved to i: look at i again */
	}
	return any;
}

double lease_set_next_end(const struct lease_set *s)
{
	double next = 0;
	for (size_t i = 0; i < s->n; i++)
		if (next == 0 || s->v[i].ends < next)
			next = s->v[i].ends;
	return next;
}
