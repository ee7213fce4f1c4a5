/* The peer registry (see registry.h). */
#include "registry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_derive.h"
#include "json.h"
#include "subnet_ids.h"
#include "wg_key.h"
#include "xalloc.h"

bool wgd_peer_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > WGD_NAME_MAX || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return false;
	return true;
}

void wgd_peer_free(struct wgd_peer *p)
{
	free(p->routes);
	p->routes = NULL;
	p->nroutes = 0;
	wg_key_wipe(p->psk, sizeof p->psk);
}

void wgd_peer_copy(struct wgd_peer *dst, const struct wgd_peer *src)
{
	*dst = *src;
	dst->routes = NULL;
	if (src->nroutes) {
		dst->routes = xreallocarray(NULL, src->nroutes, sizeof *dst->routes);
		memcpy(dst->routes, src->routes, src->nroutes * sizeof *dst->routes);
	}
}

void wgd_registry_free(struct wgd_registry *r)
{
	for (size_t i = 0; i < r->n; i++)
		wgd_peer_free(&r->peers[i]);
	free(r->peers);
	free(r->ifaces);
	memset(r, 0, sizeof *r);
}

void wgd_registry_copy(struct wgd_registry *dst, const struct wgd_registry *src)
{
	memset(dst, 0, sizeof *dst);
	for (size_t i = 0; i < src->n; i++)
		wgd_registry_add(dst, &src->peers[i]);
	if (src->nifaces) {
		dst->ifaces = xreallocarray(NULL, src->nifaces, sizeof *dst->ifaces);
		memcpy(dst->ifaces, src->ifaces, src->nifaces * sizeof *dst->ifaces);
		dst->nifaces = src->nifaces;
	}
}

struct wgd_peer *wgd_registry_find(const struct wgd_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->peers[i].name, name) == 0)
			return &r->peers[i];
	return NULL;
}

struct wgd_peer *wgd_registry_find_key(const struct wgd_registry *r, const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->peers[i].public_key, key, WG_KEY_LEN) == 0)
			return &r->peers[i];
	return NULL;
}

struct wgd_peer *wgd_registry_add(struct wgd_registry *r, const struct wgd_peer *p)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->peers = xreallocarray(r->peers, r->cap, sizeof *r->peers);
	}
	wgd_peer_copy(&r->peers[r->n], p);
	return &r->peers[r->n++];
}

int wgd_registry_remove(struct wgd_registry *r, const char *name)
{
	struct wgd_peer *p = wgd_registry_find(r, name);
	if (p == NULL)
		return -ENOENT;
	wgd_peer_free(p);
	size_t i = (size_t)(p - r->peers);
	memmove(p, p + 1, (r->n - i - 1) * sizeof *p);
	r->n--;
	return 0;
}

uint16_t wgd_registry_subnet_id(const struct wgd_registry *r, const char *ifname)
{
	for (size_t i = 0; i < r->nifaces; i++)
		if (strcmp(r->ifaces[i].name, ifname) == 0)
			return r->ifaces[i].subnet_id;
	return 0;
}

void wgd_registry_set_subnet_id(struct wgd_registry *r, const char *ifname, uint16_t id)
{
	for (size_t i = 0; i < r->nifaces; i++)
		if (strcmp(r->ifaces[i].name, ifname) == 0) {
			r->ifaces[i].subnet_id = id;
			return;
		}
	r->ifaces = xreallocarray(r->ifaces, r->nifaces + 1, sizeof *r->ifaces);
	snprintf(r->ifaces[r->nifaces].name, sizeof r->ifaces[r->nifaces].name, "%s", ifname);
	r->ifaces[r->nifaces].subnet_id = id;
	r->nifaces++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int wgd_registry_alloc_ipv4(const struct wgd_registry *r, const char *ifname, struct in_addr net, unsigned plen,
			    struct in_addr gateway, struct in_addr *out)
{
	if (plen > 32)
		return -EINVAL;
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;
	uint32_t first = ntohl(net.s_addr) & mask, last = first | ~mask;
	if (plen < 31) {
		first++;
		last--;
	}
	/* The addresses taken, sorted: one pass then finds the lowest gap. */
	uint32_t *used = xreallocarray(NULL, r->n + 1, sizeof *used);
	size_t n = 0;
	used[n++] = ntohl(gateway.s_addr);
	for (size_t i = 0; i < r->n; i++)
		if (r->peers[i].has_ipv4 && strcmp(r->peers[i].interface, ifname) == 0)
			used[n++] = ntohl(r->peers[i].ipv4.s_addr);
	qsort(used, n, sizeof *used, cmp_u32);
	uint64_t candidate = first;
	for (size_t i = 0; i < n && candidate <= last; i++) {
		if (used[i] < candidate)
			continue;
		if (used[i] > candidate)
			break;
		candidate++;
	}
	free(used);
	if (candidate > last || first > last)
		return -ENOSPC;
	out->s_addr = htonl((uint32_t)candidate);
	return 0;
}

int wgd_registry_derive_ipv6(const struct wgd_registry *r, const char *ifname, const struct in6_addr *subnet64,
			     const struct in6_addr *gateway, const char *name, struct in6_addr *out)
{
	uint8_t iid[8];
	int rc = arbor_addr_interface_id(name, iid);
	if (rc < 0)
		return rc;
	*out = *subnet64;
	memcpy(&out->s6_addr[8], iid, 8);
	if (gateway && memcmp(gateway, out, sizeof *out) == 0)
		return -EEXIST;
	for (size_t i = 0; i < r->n; i++)
		if (r->peers[i].has_ipv6 && strcmp(r->peers[i].interface, ifname) == 0 &&
		    memcmp(&r->peers[i].ipv6, out, sizeof *out) == 0 && strcmp(r->peers[i].name, name) != 0)
			return -EEXIST;
	return 0;
}

/* ---- JSON ---- */

cJSON *wgd_peer_to_json(const struct wgd_peer *p, bool with_psk)
{
	cJSON *o = cJSON_CreateObject();
	char text[INET6_ADDRSTRLEN + 8], key[WG_KEY_B64_LEN + 1];
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "interface", p->interface);
	wg_key_to_base64(p->public_key, key);
	cJSON_AddStringToObject(o, "public_key", key);
	if (p->has_psk && with_psk) {
		wg_key_to_base64(p->psk, key);
		cJSON_AddStringToObject(o, "preshared_key", key);
		wg_key_wipe(key, sizeof key);
	}
	if (p->has_ipv4)
		cJSON_AddStringToObject(o, "ipv4", inet_ntop(AF_INET, &p->ipv4, text, sizeof text));
	if (p->has_ipv6)
		cJSON_AddStringToObject(o, "ipv6", inet_ntop(AF_INET6, &p->ipv6, text, sizeof text));
	cJSON *routes = cJSON_AddArrayToObject(o, "allowed_ips");
	for (size_t i = 0; i < p->nroutes; i++)
		cJSON_AddItemToArray(routes, cJSON_CreateString(wg_allowed_ip_format(&p->routes[i], text, sizeof text)));
	arbor_json_add_int(o, "persistent_keepalive", p->keepalive);
	cJSON_AddBoolToObject(o, "enabled", p->enabled);
	if (p->expires)
		arbor_json_add_int(o, "expires", p->expires);
	arbor_json_add_int(o, "created_at", p->created_at);
	cJSON_AddBoolToObject(o, "key_generated", p->key_generated);
	cJSON_AddBoolToObject(o, "export_stale", p->export_stale);
	return o;
}

cJSON *wgd_registry_to_json(const struct wgd_registry *r)
{
	cJSON *doc = cJSON_CreateObject();
	arbor_json_add_int(doc, "version", 1);
	cJSON *ifs = cJSON_AddObjectToObject(doc, "interfaces");
	for (size_t i = 0; i < r->nifaces; i++) {
		cJSON *o = cJSON_AddObjectToObject(ifs, r->ifaces[i].name);
		arbor_json_add_int(o, "subnet_id", r->ifaces[i].subnet_id);
	}
	cJSON *peers = cJSON_AddArrayToObject(doc, "peers");
	for (size_t i = 0; i < r->n; i++)
		cJSON_AddItemToArray(peers, wgd_peer_to_json(&r->peers[i], true));
	return doc;
}

struct loader {
	char *err;
	size_t errlen;
	char path[96];
};

static int lfail(struct loader *l, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int lfail(struct loader *l, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s%s%s: %s", l->path, key && *l->path ? "." : "", key ? key : "", msg);
	return -EINVAL;
}

/* Keys of obj must all be in allowed and none may repeat. */
static int check_keys(struct loader *l, const cJSON *obj, const char *const allowed[])
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(c->string, allowed[i]) == 0;
		if (!known)
			return lfail(l, c->string, "unknown key");
		for (const cJSON *d = c->next; d; d = d->next)
			if (strcmp(c->string, d->string) == 0)
				return lfail(l, c->string, "repeated key");
	}
	return 0;
}

static int get_bool(struct loader *l, const cJSON *o, const char *key, bool required, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL)
		return required ? lfail(l, key, "missing") : 0;
	if (!cJSON_IsBool(v))
		return lfail(l, key, "must be true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_int(struct loader *l, const cJSON *o, const char *key, bool required, uint64_t max, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL)
		return required ? lfail(l, key, "missing") : 0;
	if (!arbor_json_get_u53(v, out) || *out > max)
		return lfail(l, key, "must be a whole number from 0 to %llu", (unsigned long long)max);
	return 0;
}

static int get_key(struct loader *l, const cJSON *o, const char *key, bool required, bool *has, uint8_t out[WG_KEY_LEN])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL)
		return required ? lfail(l, key, "missing") : 0;
	if (!cJSON_IsString(v))
		return lfail(l, key, "must be a base64 key");
	enum wg_key_error e = wg_key_from_base64(v->valuestring, out);
	if (e != WG_KEY_OK)
		return lfail(l, key, "%s", wg_key_error_text(e));
	if (has)
		*has = true;
	return 0;
}

static int load_peer(struct loader *l, const cJSON *o, struct wgd_peer *p)
{
	static const char *const keys[] = { "name", "interface", "public_key", "preshared_key", "ipv4", "ipv6",
					    "allowed_ips", "persistent_keepalive", "enabled", "expires", "created_at",
					    "key_generated", "export_stale", NULL };
	if (!cJSON_IsObject(o))
		return lfail(l, NULL, "must be an object");
	int rc = check_keys(l, o, keys);
	if (rc)
		return rc;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (!cJSON_IsString(v) || !wgd_peer_name_valid(v->valuestring))
		return lfail(l, "name", "must be 1-63 of a-z, 0-9 and '-', not starting or ending with '-'");
	snprintf(p->name, sizeof p->name, "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(o, "interface");
	if (!cJSON_IsString(v) || !arbor_subnet_name_valid(v->valuestring))
		return lfail(l, "interface", "must be an interface name");
	snprintf(p->interface, sizeof p->interface, "%s", v->valuestring);
	if ((rc = get_key(l, o, "public_key", true, NULL, p->public_key)) ||
	    (rc = get_key(l, o, "preshared_key", false, &p->has_psk, p->psk)))
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(o, "ipv4");
	if (v) {
		if (!cJSON_IsString(v) || inet_pton(AF_INET, v->valuestring, &p->ipv4) != 1)
			return lfail(l, "ipv4", "must be an IPv4 address");
		p->has_ipv4 = true;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "ipv6");
	if (v) {
		if (!cJSON_IsString(v) || inet_pton(AF_INET6, v->valuestring, &p->ipv6) != 1)
			return lfail(l, "ipv6", "must be an IPv6 address");
		p->has_ipv6 = true;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "allowed_ips");
	if (v) {
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > WGD_MAX_PEER_ROUTES)
			return lfail(l, "allowed_ips", "must be a list of at most %d prefixes", WGD_MAX_PEER_ROUTES);
		p->routes = xreallocarray(NULL, (size_t)cJSON_GetArraySize(v) + 1, sizeof *p->routes);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (!cJSON_IsString(c) || wg_allowed_ip_parse(&p->routes[p->nroutes], c->valuestring, false) != 0)
				return lfail(l, "allowed_ips", "element %zu is not a prefix like 192.168.50.0/24", p->nroutes);
			p->nroutes++;
		}
	}
	uint64_t u = 0;
	if ((rc = get_int(l, o, "persistent_keepalive", false, 65535, &u)))
		return rc;
	p->keepalive = (uint16_t)u;
	u = 0;
	if ((rc = get_int(l, o, "expires", false, (1ull << 53), &u)))
		return rc;
	p->expires = (int64_t)u;
	u = 0;
	if ((rc = get_int(l, o, "created_at", true, (1ull << 53), &u)))
		return rc;
	p->created_at = (int64_t)u;
	if ((rc = get_bool(l, o, "enabled", true, &p->enabled)) || (rc = get_bool(l, o, "key_generated", false, &p->key_generated)) ||
	    (rc = get_bool(l, o, "export_stale", false, &p->export_stale)))
		return rc;
	return 0;
}

int wgd_registry_from_json(struct wgd_registry *r, const cJSON *doc, char *err, size_t errlen)
{
	static const char *const top[] = { "version", "interfaces", "peers", NULL };
	struct loader l = { err, errlen, "" };
	struct wgd_registry fresh = { 0 };
	int rc;
	if (!cJSON_IsObject(doc))
		return lfail(&l, NULL, "the registry must be a JSON object");
	if ((rc = check_keys(&l, doc, top)))
		return rc;
	uint64_t version = 0;
	if ((rc = get_int(&l, doc, "version", true, 1000, &version)))
		return rc;
	if (version != 1)
		return lfail(&l, "version", "%llu is not 1", (unsigned long long)version);
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(doc, "interfaces");
	if (ifs && !cJSON_IsObject(ifs))
		return lfail(&l, "interfaces", "must be an object");
	for (const cJSON *c = ifs ? ifs->child : NULL; c; c = c->next) {
		static const char *const ikeys[] = { "subnet_id", NULL };
		snprintf(l.path, sizeof l.path, "interfaces.%.20s", c->string);
		if (!arbor_subnet_name_valid(c->string) || !cJSON_IsObject(c)) {
			rc = lfail(&l, NULL, "must be an interface name with an object");
			goto out;
		}
		uint64_t id = 0;
		if ((rc = check_keys(&l, c, ikeys)) || (rc = get_int(&l, c, "subnet_id", true, 65535, &id)))
			goto out;
		if (id == 0 || wgd_registry_subnet_id(&fresh, c->string) != 0) {
			rc = lfail(&l, "subnet_id", "must be 1-65535, once per interface");
			goto out;
		}
		wgd_registry_set_subnet_id(&fresh, c->string, (uint16_t)id);
	}
	l.path[0] = '\0';
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(doc, "peers");
	if (peers == NULL || !cJSON_IsArray(peers)) {
		rc = lfail(&l, "peers", "must be a list");
		goto out;
	}
	if (cJSON_GetArraySize(peers) > WGD_MAX_PEERS) {
		rc = lfail(&l, "peers", "more than %d peers", WGD_MAX_PEERS);
		goto out;
	}
	size_t i = 0;
	for (const cJSON *c = peers->child; c; c = c->next, i++) {
		struct wgd_peer p = { 0 };
		snprintf(l.path, sizeof l.path, "peers[%zu]", i);
		rc = load_peer(&l, c, &p);
		if (rc == 0 && wgd_registry_find(&fresh, p.name))
			rc = lfail(&l, "name", "\"%s\" appears twice", p.name);
		if (rc == 0 && wgd_registry_find_key(&fresh, p.public_key))
			rc = lfail(&l, "public_key", "the same key as another peer");
		for (size_t k = 0; rc == 0 && k < fresh.n; k++) {
			const struct wgd_peer *q = &fresh.peers[k];
			if (strcmp(q->interface, p.interface) != 0)
				continue;
			if (p.has_ipv4 && q->has_ipv4 && p.ipv4.s_addr == q->ipv4.s_addr)
				rc = lfail(&l, "ipv4", "the address of peer %s too", q->name);
			else if (p.has_ipv6 && q->has_ipv6 && memcmp(&p.ipv6, &q->ipv6, sizeof p.ipv6) == 0)
				rc = lfail(&l, "ipv6", "the address of peer %s too", q->name);
		}
		if (rc == 0)
			wgd_registry_add(&fresh, &p);
		wgd_peer_free(&p);
		if (rc)
			goto out;
	}
	wgd_registry_free(r);
	*r = fresh;
	return 0;
out:
	wgd_registry_free(&fresh);
	return rc;
}

void wgd_peer_allowed_ips(const struct wgd_peer *p, struct wg_peer *out)
{
	if (p->has_ipv4) {
		struct wg_allowed_ip *ip = wg_peer_add_allowed_ip(out);
		ip->family = AF_INET;
		memcpy(ip->addr, &p->ipv4, 4);
		ip->cidr = 32;
	}
	if (p->has_ipv6) {
		struct wg_allowed_ip *ip = wg_peer_add_allowed_ip(out);
		ip->family = AF_INET6;
		memcpy(ip->addr, &p->ipv6, 16);
		ip->cidr = 128;
	}
	for (size_t i = 0; i < p->nroutes; i++)
		*wg_peer_add_allowed_ip(out) = p->routes[i];
}

void wgd_registry_desired(const struct wgd_registry *r, const char *ifname, int64_t now, struct wg_device *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct wgd_peer *p = &r->peers[i];
		if (strcmp(p->interface, ifname) != 0 || !p->enabled || (p->expires && p->expires <= now))
			continue;
		struct wg_peer *w = wg_device_add_peer(out);
		memcpy(w->public_key, p->public_key, WG_KEY_LEN);
		if (p->has_psk)
			memcpy(w->preshared_key, p->psk, WG_KEY_LEN);
		w->flags = WG_PEER_HAS_PRESHARED_KEY | WG_PEER_REPLACE_ALLOWED_IPS;
		wgd_peer_allowed_ips(p, w);
	}
}
