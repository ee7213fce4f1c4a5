/* wgd's peers for dnsd's names (wg_peers.h). A few hundred peers at most in
 * practice: a plain array, found by name. */
#include "wg_peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "contract_feed.h"
#include "xalloc.h"

void wg_peer_set_free(struct wg_peer_set *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static bool label_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* A peer's naming state from an event's data or a view entry; false when it
 * is not one (or has no name dnsd could serve). */
static bool peer_from_json(const cJSON *o, struct wg_peer_name *p)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	const cJSON *ifname = cJSON_GetObjectItemCaseSensitive(o, "interface");
	const cJSON *v4 = cJSON_GetObjectItemCaseSensitive(o, "ipv4");
	const cJSON *v6 = cJSON_GetObjectItemCaseSensitive(o, "ipv6");
	memset(p, 0, sizeof *p);
	if (!cJSON_IsString(name) || !cJSON_IsString(ifname) || !label_ok(name->valuestring, sizeof p->name) ||
	    strlen(ifname->valuestring) >= sizeof p->interface || !label_ok(ifname->valuestring, sizeof p->interface))
		return false;
	snprintf(p->name, sizeof p->name, "%s", name->valuestring);
	snprintf(p->interface, sizeof p->interface, "%s", ifname->valuestring);
	p->has_ipv4 = cJSON_IsString(v4) && inet_pton(AF_INET, v4->valuestring, &p->ipv4) == 1;
	p->has_ipv6 = cJSON_IsString(v6) && inet_pton(AF_INET6, v6->valuestring, &p->ipv6) == 1;
	return p->has_ipv4 || p->has_ipv6;
}

static struct wg_peer_name *find(struct wg_peer_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static bool put(struct wg_peer_set *s, const struct wg_peer_name *p)
{
	struct wg_peer_name *cur = find(s, p->name);
	if (cur) {
		bool same = memcmp(cur, p, sizeof *p) == 0;
		*cur = *p;
		return !same;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = *p;
	return true;
}

static bool drop(struct wg_peer_set *s, const char *name)
{
	struct wg_peer_name *cur = find(s, name);
	if (cur == NULL)
		return false;
	*cur = s->v[--s->n];
	return true;
}

int wg_peer_set_load(struct wg_peer_set *s, const char *json, size_t len, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(doc, "peers");
	if (!cJSON_IsArray(peers)) {
		snprintf(err, errlen, "the answer is not {\"peers\": [...]}");
		cJSON_Delete(doc);
		return -EBADMSG;
	}
	struct wg_peer_set next = { 0 };
	const cJSON *o;
	cJSON_ArrayForEach(o, peers)
	{
		struct wg_peer_name p;
		const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(status, "reason");
		bool expired = cJSON_IsString(reason) && strcmp(reason->valuestring, "expired") == 0;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "enabled")) && !expired && peer_from_json(o, &p))
			put(&next, &p);
	}
	cJSON_Delete(doc);
	wg_peer_set_free(s);
	*s = next;
	return 0;
}

static bool apply(void *ctx, const char *type, const cJSON *data)
{
	struct wg_peer_set *s = ctx;
	struct wg_peer_name p;
	if (strncmp(type, "peer.", 5) != 0 || !peer_from_json(data, &p))
		return false;
	const char *what = type + 5;
	if (strcmp(what, "added") == 0 || strcmp(what, "updated") == 0)
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "enabled")) ? put(s, &p) : drop(s, p.name);
	if (strcmp(what, "removed") == 0 || strcmp(what, "expired") == 0)
		return drop(s, p.name);
	return false; /* peer.online and peer.offline change no name */
}

int wg_peer_set_apply_events(struct wg_peer_set *s, const char *json, size_t len, uint64_t *since, bool *changed,
			     char *err, size_t errlen)
{
	return contract_events_walk(json, len, since, apply, s, changed, err, errlen);
}
