/* The dnsd section, parsed and checked. Every key has a default but the zone,
 * which falls back to machine.domain at start. */
#include "dnsd_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "rdata_text.h"
#include "xalloc.h"

bool dnsd_parse_hostport(const char *s, uint16_t default_port, struct dnsd_listen *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	unsigned long port = default_port;
	const char *colon = NULL;
	memset(out, 0, sizeof *out);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (size_t)(end - s - 1) >= sizeof host)
			return false;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			return false;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		if (len >= sizeof host)
			return false;
		memcpy(host, s, len);
		host[len] = '\0';
	}
	if (colon) {
		char *end;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
			return false;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		out->len = sizeof *v4;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		out->len = sizeof *v6;
	} else {
		return false;
	}
	snprintf(out->text, sizeof out->text, out->addr.ss_family == AF_INET6 ? "[%s]:%lu" : "%s:%lu", host, port);
	return true;
}

bool dnsd_parse_net(const char *s, struct dnsd_net *out)
{
	char buf[INET6_ADDRSTRLEN + 5];
	if (strlen(s) >= sizeof buf)
		return false;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		char *end;
		*slash = '\0';
		prefix = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || prefix < 0)
			return false;
	}
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = prefix < 0 ? 32 : (unsigned)prefix;
		if (out->prefix > 32)
			return false;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = prefix < 0 ? 128 : (unsigned)prefix;
		if (out->prefix > 128)
			return false;
	} else {
		return false;
	}
	return true;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool dnsd_net_contains(const struct dnsd_net *nets, size_t n, const struct sockaddr *sa)
{
	uint8_t addr[16];
	int family = sa->sa_family;
	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family && prefix_match(nets[i].addr, addr, nets[i].prefix))
			return true;
	return false;
}

static bool valid_label(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 63)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

/* A string array key; each element checked by ok (NULL: any string). */
static char **string_list(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, size_t *n, size_t max)
{
	*n = 0;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (arr == NULL)
		return NULL;
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) > max) {
		arbor_cfg_error(w, key, "must be an array of at most %zu strings", max);
		return NULL;
	}
	char **out = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *out);
	size_t saved = arbor_cfg_enter(w, key), i = 0;
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		if (!cJSON_IsString(it)) {
			char idx[24];
			snprintf(idx, sizeof idx, "[%zu]", i);
			arbor_cfg_error(w, NULL, "%s: must be a string", idx);
			continue;
		}
		out[(*n)++] = xstrdup(it->valuestring);
	}
	arbor_cfg_leave(w, saved);
	return out;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* The strings under key, or def (NULL-terminated) when the key is absent. */
static const char *const *list_or_default(struct arbor_cfg_walk *w, const cJSON *sec, const char *key, size_t max,
					  const char *const *def, char ***texts, size_t *count)
{
	*texts = string_list(w, sec, key, count, max);
	if (*texts || cJSON_GetObjectItemCaseSensitive(sec, key) || def == NULL)
		return (const char *const *)*texts;
	for (*count = 0; def[*count]; (*count)++)
		;
	return def;
}

static struct dnsd_listen *addr_list(struct arbor_cfg_walk *w, const cJSON *sec, const char *key, uint16_t port,
				     const char *const *def, size_t *n)
{
	size_t count;
	char **texts;
	const char *const *src = list_or_default(w, sec, key, DNSD_MAX_LISTEN, def, &texts, &count);
	struct dnsd_listen *out = xcalloc(count + 1, sizeof *out);
	*n = 0;
	for (size_t i = 0; i < count; i++) {
		if (!dnsd_parse_hostport(src[i], port, &out[*n])) {
			size_t saved = arbor_cfg_enter(w, key);
			size_t s2 = arbor_cfg_enter_index(w, i);
			arbor_cfg_error(w, NULL, "\"%s\" is not an address with an optional port (\"192.0.2.1\", "
						 "\"127.0.0.1:5353\", \"[::1]:53\")", src[i]);
			arbor_cfg_leave(w, s2);
			arbor_cfg_leave(w, saved);
			continue;
		}
		(*n)++;
	}
	free_list(texts, texts ? count : 0);
	return out;
}

static struct dnsd_net *net_list(struct arbor_cfg_walk *w, const cJSON *sec, const char *key,
				 const char *const *def, size_t *n)
{
	size_t count;
	char **texts;
	const char *const *src = list_or_default(w, sec, key, 256, def, &texts, &count);
	struct dnsd_net *out = xcalloc(count + 1, sizeof *out);
	*n = 0;
	for (size_t i = 0; i < count; i++) {
		if (!dnsd_parse_net(src[i], &out[*n])) {
			size_t saved = arbor_cfg_enter(w, key);
			size_t s2 = arbor_cfg_enter_index(w, i);
			arbor_cfg_error(w, NULL, "\"%s\" is not a network like \"192.168.0.0/16\" or \"::1/128\"", src[i]);
			arbor_cfg_leave(w, s2);
			arbor_cfg_leave(w, saved);
			continue;
		}
		(*n)++;
	}
	free_list(texts, texts ? count : 0);
	return out;
}

static void parse_record(struct arbor_cfg_walk *w, const cJSON *node, uint32_t def_ttl, const uint8_t *origin,
			 size_t origin_len, struct dnsd_record_spec *r, bool *ok)
{
	static const char *const keys[] = { "name", "type", "data", "ttl", NULL };
	*ok = false;
	if (!cJSON_IsObject(node)) {
		arbor_cfg_object(w, node, keys);
		return;
	}
	arbor_cfg_object(w, node, keys);
	char *type = NULL;
	arbor_cfg_string(w, node, "name", NULL, &r->name);
	arbor_cfg_string(w, node, "type", NULL, &type);
	arbor_cfg_string(w, node, "data", NULL, &r->data);
	unsigned long long ttl;
	arbor_cfg_uint(w, node, "ttl", def_ttl, 0, 2147483647, &ttl);
	r->ttl = (uint32_t)ttl;
	if (r->name == NULL)
		arbor_cfg_error(w, "name", "is required");
	if (type == NULL)
		arbor_cfg_error(w, "type", "is required");
	if (r->data == NULL)
		arbor_cfg_error(w, "data", "is required");
	if (r->name == NULL || type == NULL || r->data == NULL) {
		free(type);
		return;
	}
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	if (strcmp(r->name, "@") != 0 && arbor_dns_name_from_text(r->name, wire, sizeof wire) < 0)
		arbor_cfg_error(w, "name", "\"%s\" is not a DNS name", r->name);
	r->type = arbor_dns_type_from_name(type);
	static const int allowed[] = { ARBOR_DNS_TYPE_A, ARBOR_DNS_TYPE_AAAA, ARBOR_DNS_TYPE_CNAME, ARBOR_DNS_TYPE_TXT,
				       ARBOR_DNS_TYPE_SRV, ARBOR_DNS_TYPE_MX, ARBOR_DNS_TYPE_PTR, ARBOR_DNS_TYPE_CAA,
				       ARBOR_DNS_TYPE_NS };
	bool known = false;
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		known |= r->type == allowed[i];
	if (!known) {
		arbor_cfg_error(w, "type", "\"%s\" is not one of A, AAAA, CNAME, TXT, SRV, MX, PTR, CAA, NS", type);
		free(type);
		return;
	}
	free(type);
	uint8_t rdata[ARBOR_DNS_MAX_MSG];
	char err[200];
	if (rdata_from_text(r->type, r->data, origin, origin_len, rdata, sizeof rdata, err, sizeof err) < 0) {
		arbor_cfg_error(w, "data", "%s", err);
		return;
	}
	*ok = true;
}

/* What hosts and children share: a name (one label) on an interface, and an
 * optional IPv4 address. */
static void parse_placed_name(struct arbor_cfg_walk *w, const cJSON *node, const char *what, char **name,
			      char **interface, bool *has_ipv4, struct in_addr *ipv4)
{
	arbor_cfg_string(w, node, "name", NULL, name);
	arbor_cfg_string(w, node, "interface", NULL, interface);
	char *v4 = NULL;
	arbor_cfg_string(w, node, "ipv4", NULL, &v4);
	if (*name == NULL || !valid_label(*name))
		arbor_cfg_error(w, "name", "is required: %s", what);
	if (*interface == NULL || !valid_label(*interface))
		arbor_cfg_error(w, "interface", "is required: an interface name");
	if (v4) {
		*has_ipv4 = inet_pton(AF_INET, v4, ipv4) == 1;
		if (!*has_ipv4)
			arbor_cfg_error(w, "ipv4", "\"%s\" is not an IPv4 address", v4);
	}
	free(v4);
}

static void parse_host(struct arbor_cfg_walk *w, const cJSON *node, struct dnsd_host_spec *h)
{
	static const char *const keys[] = { "name", "interface", "host_id", "ipv4", NULL };
	if (!cJSON_IsObject(node)) {
		arbor_cfg_object(w, node, keys);
		return;
	}
	arbor_cfg_object(w, node, keys);
	parse_placed_name(w, node, "one DNS label", &h->name, &h->interface, &h->has_ipv4, &h->ipv4);
	arbor_cfg_string(w, node, "host_id", NULL, &h->host_id);
	if (h->host_id && h->host_id[0] == '\0')
		arbor_cfg_error(w, "host_id", "must not be empty");
	if (h->host_id == NULL && !h->has_ipv4)
		arbor_cfg_error(w, NULL, "a host needs \"host_id\" (for its derived AAAA) or \"ipv4\"");
}

static void parse_child(struct arbor_cfg_walk *w, const cJSON *node, struct dnsd_child_spec *c)
{
	static const char *const keys[] = { "name", "interface", "ipv4", "mac", "client_id", "machine_id", NULL };
	if (!cJSON_IsObject(node)) {
		arbor_cfg_object(w, node, keys);
		return;
	}
	arbor_cfg_object(w, node, keys);
	parse_placed_name(w, node, "the child machine's name (one DNS label)", &c->name, &c->interface, &c->has_ipv4,
			  &c->ipv4);
	/* What finds the child's DHCP lease for its glue: never its hostname. */
	static const char *const ids[] = { "mac", "client_id" };
	uint8_t *bytes[] = { c->mac, c->client_id }, *lens[] = { &c->mac_len, &c->client_id_len };
	for (size_t i = 0; i < 2; i++) {
		char *text = NULL;
		arbor_cfg_string(w, node, ids[i], NULL, &text);
		int n = text ? dhcp_lease_parse_id(text, bytes[i]) : 0;
		if (n < 0)
			arbor_cfg_error(w, ids[i], "\"%s\" is not colon-separated hex bytes like \"52:54:00:12:34:56\"",
					text);
		*lens[i] = n > 0 ? (uint8_t)n : 0;
		free(text);
	}
	arbor_cfg_string(w, node, "machine_id", NULL, &c->machine_id);
	if (c->machine_id) {
		size_t len = strlen(c->machine_id);
		bool hex = len == 32;
		for (size_t i = 0; hex && i < len; i++)
			hex = (c->machine_id[i] >= '0' && c->machine_id[i] <= '9') ||
			      (c->machine_id[i] >= 'a' && c->machine_id[i] <= 'f');
		if (!hex)
			arbor_cfg_error(w, "machine_id", "must be 32 lower-case hex digits");
	}
}

/* The rrl object: every key has a default, also when the object is absent. */
static void parse_rrl(struct arbor_cfg_walk *w, const cJSON *sec, struct dnsd_rrl_config *rrl)
{
	const struct {
		const char *key;
		unsigned def, min, max;
		unsigned *out;
	} keys[] = {
		{ "responses_per_second", 20, 0, 1000000, &rrl->responses_per_second },
		{ "window", 15, 1, 3600, &rrl->window },
		{ "slip", 2, 0, 10, &rrl->slip },
		{ "ipv4_prefix", 24, 0, 32, &rrl->ipv4_prefix },
		{ "ipv6_prefix", 56, 0, 128, &rrl->ipv6_prefix },
	};
	const size_t n = sizeof keys / sizeof keys[0];
	const char *names[sizeof keys / sizeof keys[0] + 1] = { NULL };
	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].key;
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(sec, "rrl");
	size_t saved = arbor_cfg_enter(w, "rrl");
	bool ok = o == NULL || arbor_cfg_object(w, o, names);
	for (size_t i = 0; i < n; i++) {
		unsigned long long v = keys[i].def;
		if (ok)
			arbor_cfg_uint(w, o, keys[i].key, keys[i].def, keys[i].min, keys[i].max, &v);
		*keys[i].out = (unsigned)v;
	}
	arbor_cfg_leave(w, saved);
}

/* An array of objects under key, each parsed by fn into a calloc'd array. */
#define PARSE_ARRAY(w, sec, key, max, arr, n, call)                                                            \
	do {                                                                                                   \
		const cJSON *list_ = cJSON_GetObjectItemCaseSensitive(sec, key);                               \
		if (list_ == NULL)                                                                             \
			break;                                                                                 \
		if (!cJSON_IsArray(list_) || cJSON_GetArraySize(list_) > (max)) {                              \
			arbor_cfg_error(w, key, "must be an array of at most %d entries", (int)(max));         \
			break;                                                                                 \
		}                                                                                              \
		arr = xcalloc((size_t)cJSON_GetArraySize(list_) + 1, sizeof *(arr));                            \
		size_t saved_ = arbor_cfg_enter(w, key), i_ = 0;                                               \
		for (const cJSON *node = list_->child; node; node = node->next, i_++) {                        \
			size_t s2_ = arbor_cfg_enter_index(w, i_);                                             \
			call;                                                                                  \
			arbor_cfg_leave(w, s2_);                                                               \
		}                                                                                              \
		arbor_cfg_leave(w, saved_);                                                                    \
	} while (0)

void *dnsd_config_parse(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "listen", "zone", "ttl", "soa", "records", "hosts", "children",
					    "interfaces", "reverse_zones", "forwarders", "allow_recursion", "leases",
					    "dhcp4d_socket", "wgd_socket", "rrl", "threads", "tcp", "child_port", NULL };
	struct dnsd_config *cfg = xcalloc(1, sizeof *cfg);
	arbor_cfg_object(w, sec, keys);
	static const char *const def_listen[] = { "127.0.0.1", "::1", NULL };
	cfg->listen = addr_list(w, sec, "listen", 53, def_listen, &cfg->nlisten);
	if (cfg->nlisten == 0 && cJSON_GetObjectItemCaseSensitive(sec, "listen"))
		arbor_cfg_error(w, "listen", "needs at least one address");
	arbor_cfg_string(w, sec, "zone", NULL, &cfg->zone);
	uint8_t origin[ARBOR_DNS_NAME_WIRE_MAX] = { 0 };
	int origin_len = 1;
	if (cfg->zone) {
		origin_len = arbor_dns_name_from_text(cfg->zone, origin, sizeof origin);
		if (origin_len < 0 || strcmp(cfg->zone, ".") == 0) {
			arbor_cfg_error(w, "zone", "\"%s\" is not a DNS name", cfg->zone);
			origin_len = 1;
			origin[0] = 0;
		}
	}
	unsigned long long v;
	arbor_cfg_uint(w, sec, "ttl", 60, 0, 2147483647, &v);
	cfg->ttl = (uint32_t)v;
	cfg->soa_refresh = 3600;
	cfg->soa_retry = 600;
	cfg->soa_expire = 86400;
	cfg->soa_minimum = 30;
	const cJSON *soa = cJSON_GetObjectItemCaseSensitive(sec, "soa");
	if (soa) {
		static const char *const skeys[] = { "refresh", "retry", "expire", "minimum", NULL };
		size_t saved = arbor_cfg_enter(w, "soa");
		if (arbor_cfg_object(w, soa, skeys)) {
			arbor_cfg_uint(w, soa, "refresh", 3600, 1, 2147483647, &v);
			cfg->soa_refresh = (uint32_t)v;
			arbor_cfg_uint(w, soa, "retry", 600, 1, 2147483647, &v);
			cfg->soa_retry = (uint32_t)v;
			arbor_cfg_uint(w, soa, "expire", 86400, 1, 2147483647, &v);
			cfg->soa_expire = (uint32_t)v;
			arbor_cfg_uint(w, soa, "minimum", 30, 0, 86400, &v);
			cfg->soa_minimum = (uint32_t)v;
		}
		arbor_cfg_leave(w, saved);
	}
	PARSE_ARRAY(w, sec, "records", 100000, cfg->records, cfg->nrecords, {
		bool ok;
		parse_record(w, node, cfg->ttl, origin, (size_t)origin_len, &cfg->records[cfg->nrecords], &ok);
		cfg->nrecords++;
	});
	PARSE_ARRAY(w, sec, "hosts", 65536, cfg->hosts, cfg->nhosts, parse_host(w, node, &cfg->hosts[cfg->nhosts++]));
	PARSE_ARRAY(w, sec, "children", 4096, cfg->children, cfg->nchildren,
		    parse_child(w, node, &cfg->children[cfg->nchildren++]));
	if (cJSON_GetObjectItemCaseSensitive(sec, "interfaces")) {
		cfg->interfaces = string_list(w, sec, "interfaces", &cfg->ninterfaces, 256);
		for (size_t i = 0; cfg->interfaces && i < cfg->ninterfaces; i++)
			if (!valid_label(cfg->interfaces[i]))
				arbor_cfg_error(w, "interfaces", "\"%s\" cannot be a DNS label", cfg->interfaces[i]);
		if (cfg->interfaces == NULL) {
			cfg->interfaces = xcalloc(1, sizeof *cfg->interfaces);
		}
	}
	cfg->reverse = net_list(w, sec, "reverse_zones", NULL, &cfg->nreverse);
	for (size_t i = 0; i < cfg->nreverse; i++)
		if (cfg->reverse[i].family != AF_INET || cfg->reverse[i].prefix % 8 != 0 || cfg->reverse[i].prefix == 0 ||
		    cfg->reverse[i].prefix > 24)
			arbor_cfg_error(w, "reverse_zones", "entry %zu: an IPv4 network of /8, /16 or /24", i);
	cfg->forwarders = addr_list(w, sec, "forwarders", 53, NULL, &cfg->nforwarders);
	static const char *const def_allow[] = { "127.0.0.0/8", "::1/128", NULL };
	cfg->allow_recursion = net_list(w, sec, "allow_recursion", def_allow, &cfg->nallow);
	if (cJSON_GetObjectItemCaseSensitive(sec, "leases"))
		arbor_cfg_error(w, "leases", "is no longer read: dnsd takes dhcp4d's committed leases from its socket "
					     "(\"dhcp4d_socket\", default <runtime-dir>/dhcp4d.sock)");
	arbor_cfg_string(w, sec, "dhcp4d_socket", NULL, &cfg->dhcp4d_socket);
	arbor_cfg_string(w, sec, "wgd_socket", NULL, &cfg->wgd_socket);
	parse_rrl(w, sec, &cfg->rrl);
	arbor_cfg_uint(w, sec, "threads", 1, 1, 64, &v);
	cfg->threads = (unsigned)v;
	arbor_cfg_uint(w, sec, "child_port", 53, 1, 65535, &v);
	cfg->child_port = (uint16_t)v;
	cfg->tcp_idle_timeout = 10;
	cfg->tcp_max_connections = 256;
	const cJSON *tcp = cJSON_GetObjectItemCaseSensitive(sec, "tcp");
	if (tcp) {
		static const char *const tkeys[] = { "idle_timeout", "max_connections", NULL };
		size_t saved = arbor_cfg_enter(w, "tcp");
		if (arbor_cfg_object(w, tcp, tkeys)) {
			arbor_cfg_duration(w, tcp, "idle_timeout", 10, 3600, &cfg->tcp_idle_timeout);
			arbor_cfg_uint(w, tcp, "max_connections", 256, 1, 65536, &v);
			cfg->tcp_max_connections = (unsigned)v;
		}
		arbor_cfg_leave(w, saved);
	}
	return cfg;
}

void dnsd_config_free(void *p)
{
	struct dnsd_config *cfg = p;
	if (cfg == NULL)
		return;
	free(cfg->listen);
	free(cfg->zone);
	for (size_t i = 0; i < cfg->nrecords; i++) {
		free(cfg->records[i].name);
		free(cfg->records[i].data);
	}
	free(cfg->records);
	for (size_t i = 0; i < cfg->nhosts; i++) {
		free(cfg->hosts[i].name);
		free(cfg->hosts[i].interface);
		free(cfg->hosts[i].host_id);
	}
	free(cfg->hosts);
	for (size_t i = 0; i < cfg->nchildren; i++) {
		free(cfg->children[i].name);
		free(cfg->children[i].interface);
		free(cfg->children[i].machine_id);
	}
	free(cfg->children);
	free_list(cfg->interfaces, cfg->ninterfaces);
	free(cfg->reverse);
	free(cfg->forwarders);
	free(cfg->allow_recursion);
	free(cfg->dhcp4d_socket);
	free(cfg->wgd_socket);
	free(cfg);
}
