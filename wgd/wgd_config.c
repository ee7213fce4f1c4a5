/* Parsing the wgd section (see wgd_config.h); errors name their key path. */
#include "wgd_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subnet_ids.h"
#include "xalloc.h"

const char *wgd_backend_name(enum wgd_backend b)
{
	return b == WGD_BACKEND_KERNEL ? "kernel" : b == WGD_BACKEND_USERSPACE ? "userspace" : "auto";
}

const struct wgd_iface_config *wgd_config_iface(const struct wgd_config *c, const char *name)
{
	for (size_t i = 0; i < c->nifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return &c->ifaces[i];
	return NULL;
}

bool wgd_endpoint_valid(const char *text)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL || colon == text)
		return false;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port < 1 || port > 65535)
		return false;
	char host[256];
	size_t n = (size_t)(colon - text);
	if (n >= sizeof host)
		return false;
	memcpy(host, text, n);
	host[n] = '\0';
	if (host[0] == '[') {
		struct in6_addr a6;
		if (n < 3 || host[n - 1] != ']')
			return false;
		host[n - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, &a6) == 1;
	}
	struct in_addr a4;
	return inet_pton(AF_INET, host, &a4) == 1 || arbor_valid_dns_name(host);
}

static char **string_list(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, size_t max, size_t *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*n = 0;
	if (v == NULL)
		return NULL;
	if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) > max) {
		arbor_cfg_error(w, key, "must be a list of at most %zu strings", max);
		return NULL;
	}
	char **out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *out);
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!cJSON_IsString(c) || c->valuestring[0] == '\0' || strlen(c->valuestring) > 253)
			arbor_cfg_error(w, key, "element %zu must be a non-empty string", *n);
		else
			out[(*n)++] = xstrdup(c->valuestring);
	}
	return out;
}

static void parse_iface(struct arbor_cfg_walk *w, const cJSON *o, struct wgd_iface_config *ic)
{
	static const char *const keys[] = { "name", "listen_port", "address", "backend", "endpoint", "mtu",
					    "subnet_id", "dns", "client_allowed_ips", "persistent_keepalive", "fwmark",
					    NULL };
	if (!arbor_cfg_object(w, o, keys))
		return;
	char *s = NULL;
	arbor_cfg_string(w, o, "name", NULL, &s);
	if (s == NULL)
		arbor_cfg_error(w, "name", "missing");
	else if (!arbor_subnet_name_valid(s))
		arbor_cfg_error(w, "name", "\"%s\" is not an interface name (1-15 bytes, no '/', ':' or spaces)", s);
	else
		snprintf(ic->name, sizeof ic->name, "%s", s);
	free(s);
	unsigned long long v;
	arbor_cfg_uint(w, o, "listen_port", 51820, 1, 65535, &v);
	ic->listen_port = (uint16_t)v;
	s = NULL;
	arbor_cfg_string(w, o, "address", NULL, &s);
	if (s) {
		struct wg_allowed_ip ip;
		uint32_t host = 0, mask = 0;
		if (wg_allowed_ip_parse(&ip, s, true) == 0 && ip.family == AF_INET && strchr(s, '/') && ip.cidr >= 8 &&
		    ip.cidr <= 30) {
			memcpy(&ic->address, ip.addr, 4);
			ic->prefixlen = ip.cidr;
			host = ntohl(ic->address.s_addr);
			mask = ~0u << (32 - ip.cidr);
		}
		if (ic->prefixlen == 0)
			arbor_cfg_error(w, "address", "\"%s\" is not an IPv4 address with a prefix length 8-30 like 10.200.0.1/24", s);
		else if ((host & ~mask) == 0 || (host & ~mask) == ~mask)
			arbor_cfg_error(w, "address", "\"%s\" is the network or broadcast address of its subnet", s);
		else
			ic->has_address = true;
		free(s);
	}
	s = NULL;
	arbor_cfg_string(w, o, "backend", "auto", &s);
	if (strcmp(s, "auto") == 0)
		ic->backend = WGD_BACKEND_AUTO;
	else if (strcmp(s, "kernel") == 0)
		ic->backend = WGD_BACKEND_KERNEL;
	else if (strcmp(s, "userspace") == 0)
		ic->backend = WGD_BACKEND_USERSPACE;
	else
		arbor_cfg_error(w, "backend", "\"%s\" is not kernel, userspace or auto", s);
	free(s);
	arbor_cfg_string(w, o, "endpoint", NULL, &ic->endpoint);
	if (ic->endpoint && !wgd_endpoint_valid(ic->endpoint))
		arbor_cfg_error(w, "endpoint", "\"%s\" is not host:port (a DNS name, an IPv4 address or [IPv6])", ic->endpoint);
	arbor_cfg_uint(w, o, "mtu", 1420, 1280, 9000, &v);
	ic->mtu = (unsigned)v;
	arbor_cfg_uint(w, o, "subnet_id", 0, 1, 65535, &v);
	ic->subnet_id = (uint16_t)v;
	ic->dns = string_list(w, o, "dns", 8, &ic->ndns);
	size_t n = 0;
	char **aips = string_list(w, o, "client_allowed_ips", 64, &n);
	if (aips) {
		ic->client_allowed_ips = xcalloc(n + 1, sizeof *ic->client_allowed_ips);
		for (size_t i = 0; i < n; i++) {
			if (wg_allowed_ip_parse(&ic->client_allowed_ips[ic->nclient_allowed_ips], aips[i], false) != 0)
				arbor_cfg_error(w, "client_allowed_ips", "\"%s\" is not a prefix like 192.168.1.0/24", aips[i]);
			else
				ic->nclient_allowed_ips++;
			free(aips[i]);
		}
		free(aips);
	}
	arbor_cfg_uint(w, o, "persistent_keepalive", 25, 0, 65535, &v);
	ic->keepalive = (uint16_t)v;
	arbor_cfg_uint(w, o, "fwmark", 0, 0, 0xffffffffull, &v);
	ic->fwmark = (uint32_t)v;
}

void *wgd_config_parse(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "interfaces", "wireguard_go", "uapi_dir", "poll_interval",
					    "counters_save_interval", "start_timeout", NULL };
	struct wgd_config *cfg = xcalloc(1, sizeof *cfg);
	arbor_cfg_object(w, sec, keys);
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(sec, "interfaces");
	if (ifs) {
		size_t saved = arbor_cfg_enter(w, "interfaces");
		if (!cJSON_IsArray(ifs) || cJSON_GetArraySize(ifs) > 64) {
			arbor_cfg_error(w, NULL, "must be a list of at most 64 interfaces");
		} else {
			cfg->ifaces = xcalloc((size_t)cJSON_GetArraySize(ifs) + 1, sizeof *cfg->ifaces);
			size_t i = 0;
			for (const cJSON *o = ifs->child; o; o = o->next, i++) {
				size_t s2 = arbor_cfg_enter_index(w, i);
				struct wgd_iface_config *ic = &cfg->ifaces[cfg->nifaces++];
				parse_iface(w, o, ic);
				for (size_t k = 0; k + 1 < cfg->nifaces; k++) {
					if (ic->name[0] && strcmp(cfg->ifaces[k].name, ic->name) == 0)
						arbor_cfg_error(w, "name", "\"%s\" is configured twice", ic->name);
					if (cfg->ifaces[k].listen_port == ic->listen_port)
						arbor_cfg_error(w, "listen_port", "%u is interfaces[%zu]'s port too", ic->listen_port, k);
				}
				arbor_cfg_leave(w, s2);
			}
		}
		arbor_cfg_leave(w, saved);
	}
	arbor_cfg_string(w, sec, "wireguard_go", "wireguard-go", &cfg->wireguard_go);
	arbor_cfg_string(w, sec, "uapi_dir", "/run/wireguard", &cfg->uapi_dir);
	arbor_cfg_duration(w, sec, "poll_interval", 5, 3600, &cfg->poll_interval);
	arbor_cfg_duration(w, sec, "counters_save_interval", 60, 86400, &cfg->save_interval);
	arbor_cfg_duration(w, sec, "start_timeout", 5, 60, &cfg->start_timeout);
	return cfg;
}

void wgd_config_free(void *p)
{
	struct wgd_config *cfg = p;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nifaces; i++) {
		free(cfg->ifaces[i].endpoint);
		for (size_t k = 0; k < cfg->ifaces[i].ndns; k++)
			free(cfg->ifaces[i].dns[k]);
		free(cfg->ifaces[i].dns);
		free(cfg->ifaces[i].client_allowed_ips);
	}
	free(cfg->ifaces);
	free(cfg->wireguard_go);
	free(cfg->uapi_dir);
	free(cfg);
}
