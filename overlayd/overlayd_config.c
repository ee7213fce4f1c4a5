/* Parsing the "overlayd" section (see overlayd_config.h): one function per
 * sub-object, a default for every key, every error with its key path. */
#include "overlayd_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "inet_socket.h"
#include "xalloc.h"

#define HUB_PORT 4790
#define VXLAN_PORT 4789

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == '/' || *s == ':' || *s >= 0x7f)
			return false;
	return true;
}

/* An interface name under key (default def), into out[16]. */
static void ifname(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, const char *def, char out[16])
{
	char *s = NULL;
	snprintf(out, 16, "%s", def);
	if (!arbor_cfg_string(w, obj, key, def, &s) || s == NULL) {
		free(s); /* a wrong type leaves the default's copy */
		return;
	}
	if (!valid_ifname(s))
		arbor_cfg_error(w, key, "\"%s\" is not an interface name (1 to 15 characters, no spaces, '/' or ':')", s);
	else
		snprintf(out, 16, "%s", s);
	free(s);
}

static bool prefix_key(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, const char *def,
		       struct arbor_ipv4_prefix *out)
{
	char *s = NULL;
	if (!arbor_cfg_string(w, obj, key, def, &s) || s == NULL) {
		free(s); /* a wrong type leaves the default's copy */
		return false;
	}
	bool ok = arbor_ipv4_prefix_parse(out, s) == 0;
	if (!ok)
		arbor_cfg_error(w, key, "\"%s\" is not an IPv4 prefix such as 10.128.0.0/12 (no host bits)", s);
	free(s);
	return ok;
}

/* An address under key: *present says whether it was given. */
static bool address_key(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, struct arbor_nl_ip *out,
			bool *present)
{
	char *s = NULL;
	*present = false;
	if (!arbor_cfg_string(w, obj, key, NULL, &s) || s == NULL)
		return s == NULL;
	*present = true;
	bool ok = ovl_ip_parse(s, out);
	if (!ok)
		arbor_cfg_error(w, key, "\"%s\" is not an IPv4 or IPv6 address", s);
	free(s);
	return ok;
}

/* An array of IPv4 prefixes under key (missing: none). */
static struct arbor_ipv4_prefix *prefix_list(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	*n = 0;
	if (arr == NULL)
		return NULL;
	int count = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || count > 256) {
		arbor_cfg_error(w, key, "must be an array of at most 256 IPv4 prefixes");
		return NULL;
	}
	struct arbor_ipv4_prefix *v = xcalloc((size_t)(count ? count : 1), sizeof *v);
	size_t i = 0;
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		if (cJSON_IsString(e) && arbor_ipv4_prefix_parse(&v[*n], e->valuestring) == 0) {
			(*n)++;
			continue;
		}
		size_t s1 = arbor_cfg_enter(w, key), s2 = arbor_cfg_enter_index(w, i);
		arbor_cfg_error(w, NULL, "not an IPv4 prefix such as 192.168.1.192/27");
		arbor_cfg_leave(w, s2);
		arbor_cfg_leave(w, s1);
	}
	return v;
}

static void parse_hub(struct arbor_cfg_walk *w, const cJSON *obj, struct ovl_hub_config *h)
{
	static const char *const keys[] = { "listen", "network", "subnet_length", "underlay", "address", "vni_base",
					    "port", "device_prefix", "mtu", "heartbeat", "down_after", "token_ttl",
					    "max_clock_skew", "max_spokes", "masquerade", "nftables", "nft_table",
					    "direct", "name", "forwarding", NULL };
	size_t saved = arbor_cfg_enter(w, "hub");
	if (!arbor_cfg_object(w, obj, keys)) {
		arbor_cfg_leave(w, saved);
		return;
	}
	char *listen = NULL;
	arbor_cfg_string(w, obj, "listen", NULL, &listen);
	if (listen == NULL)
		arbor_cfg_error(w, "listen", "required: the address and port spokes join on (e.g. \"192.0.2.1:4790\")");
	else if (arbor_sockaddr_parse(listen, HUB_PORT, &h->listen, &h->listen_len) != 0)
		arbor_cfg_error(w, "listen", "\"%s\" is not an address with an optional port", listen);
	free(listen);
	bool net_ok = prefix_key(w, obj, "network", "10.128.0.0/12", &h->network);
	unsigned long long v;
	arbor_cfg_uint(w, obj, "subnet_length", 24, 1, 30, &v);
	h->subnet_length = (unsigned)v;
	if (net_ok && h->subnet_length < h->network.len)
		arbor_cfg_error(w, "subnet_length", "/%u is larger than the network /%u", h->subnet_length, h->network.len);
	bool present;
	address_key(w, obj, "underlay", &h->underlay, &present);
	if (!present && h->listen_len) {
		if (arbor_sockaddr_is_any((struct sockaddr *)&h->listen))
			arbor_cfg_error(w, "underlay", "required when listen is a wildcard address: the VXLAN source address");
		else if (h->listen.ss_family == AF_INET) {
			h->underlay.family = AF_INET;
			h->underlay.v4 = ((struct sockaddr_in *)&h->listen)->sin_addr;
		} else {
			h->underlay.family = AF_INET6;
			h->underlay.v6 = ((struct sockaddr_in6 *)&h->listen)->sin6_addr;
		}
	}
	struct arbor_nl_ip addr;
	address_key(w, obj, "address", &addr, &present);
	if (present && addr.family != AF_INET)
		arbor_cfg_error(w, "address", "must be an IPv4 address inside the network");
	else if (present)
		h->address = addr.v4;
	else if (net_ok)
		h->address.s_addr = htonl(h->network.addr + 1);
	if (net_ok && h->address.s_addr) {
		struct arbor_ipv4_prefix one = { ntohl(h->address.s_addr), 32 };
		if (!arbor_ipv4_prefix_contains(&h->network, &one))
			arbor_cfg_error(w, "address", "must lie inside the network");
	}
	arbor_cfg_uint(w, obj, "vni_base", 4096, 1, 0xfff000, &v);
	h->vni_base = (uint32_t)v;
	arbor_cfg_uint(w, obj, "port", VXLAN_PORT, 1, 65535, &v);
	h->port = (uint16_t)v;
	char *prefix = NULL;
	arbor_cfg_string(w, obj, "device_prefix", "ovh", &prefix);
	if (prefix && (strlen(prefix) == 0 || strlen(prefix) > 10 || !valid_ifname(prefix)))
		arbor_cfg_error(w, "device_prefix", "\"%s\": 1 to 10 characters of an interface name (5 are left for the id)",
				prefix);
	else if (prefix)
		snprintf(h->device_prefix, sizeof h->device_prefix, "%s", prefix);
	free(prefix);
	arbor_cfg_uint(w, obj, "mtu", 0, 0, 65535, &v);
	h->mtu = (unsigned)v;
	if (h->mtu && h->mtu < 576)
		arbor_cfg_error(w, "mtu", "%u is below 576 (0: from the route to each spoke)", h->mtu);
	arbor_cfg_duration(w, obj, "heartbeat", 10, 3600, &h->heartbeat);
	arbor_cfg_duration(w, obj, "down_after", 3 * h->heartbeat, 86400, &h->down_after);
	if (h->down_after <= h->heartbeat)
		arbor_cfg_error(w, "down_after", "must be longer than heartbeat (%g s)", h->heartbeat);
	arbor_cfg_duration(w, obj, "token_ttl", 86400, 366 * 86400.0, &h->token_ttl);
	arbor_cfg_duration(w, obj, "max_clock_skew", 60, 3600, &h->max_clock_skew);
	arbor_cfg_uint(w, obj, "max_spokes", 0, 0, 0xffffff, &v);
	h->max_spokes = (unsigned)v;
	const cJSON *masq = cJSON_GetObjectItemCaseSensitive(obj, "masquerade");
	if (masq && !cJSON_IsNull(masq)) {
		if (!cJSON_IsString(masq) || !valid_ifname(masq->valuestring))
			arbor_cfg_error(w, "masquerade", "must be the uplink's interface name, or null");
		else
			h->masquerade = xstrdup(masq->valuestring);
	}
	arbor_cfg_bool(w, obj, "nftables", true, &h->nftables);
	arbor_cfg_string(w, obj, "nft_table", "arbor_overlay", &h->nft_table);
	if (h->nft_table && (strlen(h->nft_table) == 0 || strlen(h->nft_table) > 32 ||
			     strspn(h->nft_table, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
				     strlen(h->nft_table)))
		arbor_cfg_error(w, "nft_table", "\"%s\": 1 to 32 letters, digits and '_'", h->nft_table);
	arbor_cfg_bool(w, obj, "direct", false, &h->direct);
	/* Per link, over netlink (one more request per device); false for a machine
	 * that forwards already (net.ipv4.conf.all.forwarding = 1). */
	arbor_cfg_bool(w, obj, "forwarding", true, &h->forwarding);
	arbor_cfg_string(w, obj, "name", NULL, &h->name);
	if (h->name && !arbor_valid_dns_label(h->name))
		arbor_cfg_error(w, "name", "\"%s\" is not a DNS label", h->name);
	arbor_cfg_leave(w, saved);
}

static void parse_spoke(struct arbor_cfg_walk *w, const cJSON *obj, struct ovl_spoke_config *s)
{
	static const char *const keys[] = { "hub", "token", "underlay", "device", "bridge", "direct_device", "mtu",
					    "timeout", "retry", "via_hub", NULL };
	size_t saved = arbor_cfg_enter(w, "spoke");
	if (!arbor_cfg_object(w, obj, keys)) {
		arbor_cfg_leave(w, saved);
		return;
	}
	arbor_cfg_string(w, obj, "hub", NULL, &s->hub_text);
	if (s->hub_text == NULL)
		arbor_cfg_error(w, "hub", "required: the hub's listen address (e.g. \"192.0.2.1:4790\")");
	else if (arbor_sockaddr_parse(s->hub_text, HUB_PORT, &s->hub, &s->hub_len) != 0 ||
		 arbor_sockaddr_is_any((struct sockaddr *)&s->hub))
		arbor_cfg_error(w, "hub", "\"%s\" is not an address with an optional port", s->hub_text);
	char *token = NULL;
	arbor_cfg_string(w, obj, "token", NULL, &token);
	if (token) {
		s->has_token = ovl_token_parse(token, &s->token);
		if (!s->has_token)
			arbor_cfg_error(w, "token", "not a token from the hub's enroll command (arbor-ovl1.<fingerprint>.<secret>)");
		free(token);
	}
	bool present;
	address_key(w, obj, "underlay", &s->underlay, &present);
	s->has_underlay = present;
	ifname(w, obj, "device", "ovl0", s->device);
	ifname(w, obj, "bridge", "ovbr0", s->bridge);
	ifname(w, obj, "direct_device", "ovd0", s->direct_device);
	if (strcmp(s->device, s->bridge) == 0 || strcmp(s->device, s->direct_device) == 0 ||
	    strcmp(s->bridge, s->direct_device) == 0)
		arbor_cfg_error(w, "device", "device, bridge and direct_device need three different names");
	unsigned long long v;
	arbor_cfg_uint(w, obj, "mtu", 0, 0, 65535, &v);
	s->mtu = (unsigned)v;
	if (s->mtu && s->mtu < 576)
		arbor_cfg_error(w, "mtu", "%u is below 576 (0: from the route to the hub)", s->mtu);
	arbor_cfg_duration(w, obj, "timeout", 5, 600, &s->timeout);
	arbor_cfg_duration(w, obj, "retry", 2, 3600, &s->retry);
	s->via_hub = prefix_list(w, obj, "via_hub", &s->nvia_hub);
	arbor_cfg_leave(w, saved);
}

static void parse_registry(struct arbor_cfg_walk *w, const cJSON *obj, struct ovl_registry_config *r)
{
	static const char *const keys[] = { "backend", "endpoints", "prefix", "timeout", NULL };
	r->timeout = 5;
	if (obj == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "registry");
	if (!arbor_cfg_object(w, obj, keys)) {
		arbor_cfg_leave(w, saved);
		return;
	}
	char *backend = NULL;
	arbor_cfg_string(w, obj, "backend", "file", &backend);
	if (backend && strcmp(backend, "etcd") == 0)
		r->backend = OVL_BACKEND_ETCD;
	else if (backend && strcmp(backend, "file") != 0)
		arbor_cfg_error(w, "backend", "\"%s\": \"file\" or \"etcd\"", backend);
	free(backend);
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(obj, "endpoints");
	if (r->backend == OVL_BACKEND_FILE && (eps || cJSON_GetObjectItemCaseSensitive(obj, "prefix")))
		arbor_cfg_error(w, NULL, "endpoints and prefix belong to the etcd backend");
	if (r->backend == OVL_BACKEND_ETCD) {
		int n = eps ? cJSON_GetArraySize(eps) : 0;
		if (eps && (!cJSON_IsArray(eps) || n < 1 || n > 16)) {
			arbor_cfg_error(w, "endpoints", "must be 1 to 16 URLs such as \"http://127.0.0.1:2379\"");
		} else {
			r->endpoints = xcalloc((size_t)(n ? n : 1), sizeof *r->endpoints);
			if (n == 0)
				r->endpoints[r->nendpoints++] = xstrdup("http://127.0.0.1:2379");
			size_t i = 0;
			for (const cJSON *e = eps ? eps->child : NULL; e; e = e->next, i++) {
				if (!cJSON_IsString(e) || strncmp(e->valuestring, "http://", 7) != 0 ||
				    strlen(e->valuestring) > 200 || strpbrk(e->valuestring, " \t\r\n")) {
					size_t s2 = arbor_cfg_enter_index(w, i);
					arbor_cfg_error(w, NULL, "must be an http:// URL of an etcd client endpoint");
					arbor_cfg_leave(w, s2);
					continue;
				}
				r->endpoints[r->nendpoints++] = xstrndup(e->valuestring, strlen(e->valuestring) -
							(e->valuestring[strlen(e->valuestring) - 1] == '/'));
			}
		}
		arbor_cfg_string(w, obj, "prefix", "/arbor/overlay/default", &r->prefix);
		if (r->prefix && (r->prefix[0] != '/' || strlen(r->prefix) > 200 || strpbrk(r->prefix, " \t\r\n\"\\")))
			arbor_cfg_error(w, "prefix", "\"%s\" must be a key path starting with '/'", r->prefix);
		arbor_cfg_duration(w, obj, "timeout", 5, 600, &r->timeout);
	}
	arbor_cfg_leave(w, saved);
}

static void parse_shims(struct arbor_cfg_walk *w, const cJSON *arr, struct overlayd_config *cfg)
{
	static const char *const keys[] = { "parent", "name", "address", "routes", NULL };
	if (arr == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "shims");
	int n = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || n > 64) {
		arbor_cfg_error(w, NULL, "must be an array of at most 64 shims");
		arbor_cfg_leave(w, saved);
		return;
	}
	cfg->shims = xcalloc((size_t)(n ? n : 1), sizeof *cfg->shims);
	size_t i = 0;
	for (const cJSON *e = arr->child; e; e = e->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		struct ovl_shim *sh = &cfg->shims[cfg->nshims];
		if (!arbor_cfg_object(w, e, keys)) {
			arbor_cfg_leave(w, s2);
			continue;
		}
		const cJSON *parent = cJSON_GetObjectItemCaseSensitive(e, "parent");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		if (!cJSON_IsString(parent) || !valid_ifname(parent->valuestring))
			arbor_cfg_error(w, "parent", "required: the interface the containers' macvlans sit on");
		else
			snprintf(sh->parent, sizeof sh->parent, "%s", parent->valuestring);
		if (!cJSON_IsString(name) || !valid_ifname(name->valuestring))
			arbor_cfg_error(w, "name", "required: the shim's interface name");
		else
			snprintf(sh->name, sizeof sh->name, "%s", name->valuestring);
		const cJSON *addr = cJSON_GetObjectItemCaseSensitive(e, "address");
		char ip[32];
		unsigned len = 0;
		int used = 0;
		if (!cJSON_IsString(addr) || sscanf(addr->valuestring, "%31[0-9.]/%u%n", ip, &len, &used) != 2 ||
		    addr->valuestring[used] != '\0' || len < 1 || len > 32 || inet_pton(AF_INET, ip, &sh->address) != 1)
			arbor_cfg_error(w, "address", "required: the host's address on the shim, such as \"192.168.1.250/32\"");
		sh->prefixlen = len;
		sh->routes = prefix_list(w, e, "routes", &sh->nroutes);
		for (size_t k = 0; k < cfg->nshims; k++)
			if (sh->name[0] && strcmp(cfg->shims[k].name, sh->name) == 0)
				arbor_cfg_error(w, "name", "\"%s\" is already the name of shims[%zu]", sh->name, k);
		cfg->nshims++;
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
}

void *overlayd_config_parse(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "hub", "spoke", "registry", "shims", NULL };
	struct overlayd_config *cfg = xcalloc(1, sizeof *cfg);
	cfg->registry.timeout = 5;
	if (!arbor_cfg_object(w, sec, keys))
		return cfg;
	const cJSON *hub = cJSON_GetObjectItemCaseSensitive(sec, "hub");
	const cJSON *spoke = cJSON_GetObjectItemCaseSensitive(sec, "spoke");
	if (hub && !cJSON_IsNull(hub)) {
		cfg->is_hub = true;
		parse_hub(w, hub, &cfg->hub);
	}
	if (spoke && !cJSON_IsNull(spoke)) {
		cfg->is_spoke = true;
		parse_spoke(w, spoke, &cfg->spoke);
	}
	parse_registry(w, cJSON_GetObjectItemCaseSensitive(sec, "registry"), &cfg->registry);
	parse_shims(w, cJSON_GetObjectItemCaseSensitive(sec, "shims"), cfg);
	if (cfg->is_hub && cfg->is_spoke && strncmp(cfg->spoke.device, cfg->hub.device_prefix,
						    strlen(cfg->hub.device_prefix)) == 0)
		arbor_cfg_error(w, "spoke.device", "\"%s\" starts with hub.device_prefix \"%s\": the hub would take it for "
				"one of its own", cfg->spoke.device, cfg->hub.device_prefix);
	return cfg;
}

void overlayd_config_free(void *p)
{
	struct overlayd_config *cfg = p;
	if (cfg == NULL)
		return;
	free(cfg->hub.masquerade);
	free(cfg->hub.nft_table);
	free(cfg->hub.name);
	free(cfg->spoke.hub_text);
	free(cfg->spoke.via_hub);
	for (size_t i = 0; i < cfg->registry.nendpoints; i++)
		free(cfg->registry.endpoints[i]);
	free(cfg->registry.endpoints);
	free(cfg->registry.prefix);
	for (size_t i = 0; i < cfg->nshims; i++)
		free(cfg->shims[i].routes);
	free(cfg->shims);
	free(cfg);
}
