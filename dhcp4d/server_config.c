/* Parsing dhcp4d.servers[]. Every address must lie where it makes sense (pools
 * and reservations inside the subnet, not on the network or broadcast
 * address), and every error names its key path. */
#include "server_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_table.h"
#include "xalloc.h"

bool parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

void format_ipv4(uint32_t addr, char *buf, size_t len)
{
	struct in_addr a = { htonl(addr) };
	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

static bool get_ipv4(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, bool required, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = 0;
	if (v == NULL) {
		if (required)
			arbor_cfg_error(w, key, "missing");
		return !required;
	}
	char shown[80];
	arbor_cfg_render(v, shown, sizeof shown);
	if (!cJSON_IsString(v) || !parse_ipv4(v->valuestring, out)) {
		arbor_cfg_error(w, key, "%s is not an IPv4 address", shown);
		return false;
	}
	return true;
}

static bool parse_prefix(const char *s, uint32_t *net, unsigned *len)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof buf)
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	char *end = NULL;
	unsigned long l = strtoul(slash + 1, &end, 10);
	if (!parse_ipv4(buf, net) || slash[1] == '\0' || *end != '\0' || l > 32)
		return false;
	*len = (unsigned)l;
	uint32_t mask = l ? ~0u << (32 - l) : 0;
	return (*net & ~mask) == 0;
}

static void ipv4_list(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, uint32_t *out, size_t max,
		      size_t *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*n = 0;
	if (v == NULL)
		return;
	if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) > max) {
		arbor_cfg_error(w, key, "must be an array of at most %zu IPv4 addresses", max);
		return;
	}
	for (const cJSON *a = v->child; a; a = a->next) {
		char shown[80];
		arbor_cfg_render(a, shown, sizeof shown);
		if (!cJSON_IsString(a) || !parse_ipv4(a->valuestring, &out[*n]))
			arbor_cfg_error(w, key, "%s is not an IPv4 address", shown);
		else
			(*n)++;
	}
}

static bool parse_mac(const char *s, uint8_t *out, size_t max, size_t *len)
{
	int n = lease_unhex(s, out, max);
	if (n <= 0)
		return false;
	*len = (size_t)n;
	return true;
}

/* options.domain_search: at most 16 DNS names. */
static void parse_search(struct arbor_cfg_walk *w, const cJSON *search, struct server_options *o)
{
	if (!cJSON_IsArray(search) || cJSON_GetArraySize(search) > 16) {
		arbor_cfg_error(w, "domain_search", "must be an array of at most 16 DNS names");
		return;
	}
	size_t n = (size_t)cJSON_GetArraySize(search), i = 0;
	o->search = xcalloc(n + 1, sizeof *o->search);
	for (const cJSON *s = search->child; s; s = s->next) {
		if (!cJSON_IsString(s) || !arbor_valid_dns_name(s->valuestring))
			arbor_cfg_error(w, "domain_search", "element %zu is not a DNS name", i);
		else
			o->search[i++] = xstrdup(s->valuestring);
	}
}

/* One of options.classless_routes: {"destination": "10.0.0.0/8", "router"}. */
static bool parse_route(struct arbor_cfg_walk *w, const cJSON *r, struct route_spec *rs)
{
	static const char *const keys[] = { "destination", "router", NULL };
	if (!arbor_cfg_object(w, r, keys))
		return false;
	char *dest = NULL;
	arbor_cfg_string(w, r, "destination", NULL, &dest);
	bool ok = dest && parse_prefix(dest, &rs->dest, &rs->prefixlen);
	if (!ok)
		arbor_cfg_error(w, "destination", "\"%s\" is not a prefix like 10.0.0.0/8", dest ? dest : "(missing)");
	free(dest);
	return get_ipv4(w, r, "router", true, &rs->router) && ok;
}

static void parse_routes(struct arbor_cfg_walk *w, const cJSON *routes, struct server_options *o)
{
	size_t saved = arbor_cfg_enter(w, "classless_routes");
	if (!cJSON_IsArray(routes) || cJSON_GetArraySize(routes) > 32) {
		arbor_cfg_error(w, NULL, "must be an array of at most 32 {\"destination\", \"router\"}");
	} else {
		o->routes = xcalloc((size_t)cJSON_GetArraySize(routes) + 1, sizeof *o->routes);
		size_t i = 0;
		for (const cJSON *r = routes->child; r; r = r->next, i++) {
			size_t s2 = arbor_cfg_enter_index(w, i);
			if (parse_route(w, r, &o->routes[o->nroutes]))
				o->nroutes++;
			arbor_cfg_leave(w, s2);
		}
	}
	arbor_cfg_leave(w, saved);
}

/* One of options.custom: {"code", "hex" | "text"}; codes dhcp4d sets itself
 * are refused. */
static bool parse_custom_option(struct arbor_cfg_walk *w, const cJSON *c, struct custom_option *co)
{
	static const char *const keys[] = { "code", "hex", "text", NULL };
	static const uint8_t reserved[] = { 0, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 82, 255 };
	if (!arbor_cfg_object(w, c, keys))
		return false;
	unsigned long long code;
	char *hex = NULL, *text = NULL;
	bool ok = arbor_cfg_uint(w, c, "code", 0, 1, 254, &code) && cJSON_GetObjectItemCaseSensitive(c, "code");
	if (!cJSON_GetObjectItemCaseSensitive(c, "code"))
		arbor_cfg_error(w, "code", "missing");
	arbor_cfg_string(w, c, "hex", NULL, &hex);
	arbor_cfg_string(w, c, "text", NULL, &text);
	if ((hex == NULL) == (text == NULL)) {
		arbor_cfg_error(w, NULL, "give exactly one of \"hex\" or \"text\"");
		ok = false;
	} else if (hex) {
		co->data = xmalloc(strlen(hex) / 2 + 1);
		int n = lease_unhex(hex, co->data, strlen(hex) / 2 + 1);
		if (n < 0 || n > 255) {
			arbor_cfg_error(w, "hex", "\"%s\" is not hex bytes (at most 255)", hex);
			ok = false;
		}
		co->len = n > 0 ? (size_t)n : 0;
	} else {
		co->len = strlen(text);
		co->data = (uint8_t *)xstrdup(text);
		if (co->len > 255) {
			arbor_cfg_error(w, "text", "longer than 255 bytes");
			ok = false;
		}
	}
	co->code = (uint8_t)code;
	for (size_t k = 0; ok && k < sizeof reserved; k++)
		if (co->code == reserved[k]) {
			arbor_cfg_error(w, "code", "%u is set by dhcp4d itself", co->code);
			ok = false;
		}
	if (!ok) {
		free(co->data);
		co->data = NULL;
	}
	free(hex);
	free(text);
	return ok;
}

static void parse_custom(struct arbor_cfg_walk *w, const cJSON *custom, struct server_options *o)
{
	size_t saved = arbor_cfg_enter(w, "custom");
	if (!cJSON_IsArray(custom) || cJSON_GetArraySize(custom) > 64) {
		arbor_cfg_error(w, NULL, "must be an array of at most 64 {\"code\", \"hex\"|\"text\"}");
	} else {
		o->custom = xcalloc((size_t)cJSON_GetArraySize(custom) + 1, sizeof *o->custom);
		size_t i = 0;
		for (const cJSON *c = custom->child; c; c = c->next, i++) {
			size_t s2 = arbor_cfg_enter_index(w, i);
			if (parse_custom_option(w, c, &o->custom[o->ncustom]))
				o->ncustom++;
			arbor_cfg_leave(w, s2);
		}
	}
	arbor_cfg_leave(w, saved);
}

static void parse_options(struct arbor_cfg_walk *w, const cJSON *node, struct server_options *o)
{
	static const char *const keys[] = { "router", "dns_servers", "domain_name", "domain_search", "mtu",
					    "ntp_servers", "classless_routes", "custom", NULL };
	if (node == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "options");
	if (!arbor_cfg_object(w, node, keys)) {
		arbor_cfg_leave(w, saved);
		return;
	}
	get_ipv4(w, node, "router", false, &o->router);
	ipv4_list(w, node, "dns_servers", o->dns, 8, &o->ndns);
	ipv4_list(w, node, "ntp_servers", o->ntp, 8, &o->nntp);
	arbor_cfg_string(w, node, "domain_name", NULL, &o->domain_name);
	if (o->domain_name && !arbor_valid_dns_name(o->domain_name))
		arbor_cfg_error(w, "domain_name", "\"%s\" is not a DNS name", o->domain_name);
	unsigned long long mtu;
	arbor_cfg_uint(w, node, "mtu", 0, 68, 65535, &mtu);
	o->mtu = (unsigned)mtu;
	const cJSON *search = cJSON_GetObjectItemCaseSensitive(node, "domain_search");
	if (search)
		parse_search(w, search, o);
	const cJSON *routes = cJSON_GetObjectItemCaseSensitive(node, "classless_routes");
	if (routes)
		parse_routes(w, routes, o);
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(node, "custom");
	if (custom)
		parse_custom(w, custom, o);
	arbor_cfg_leave(w, saved);
}

static bool parse_range(struct arbor_cfg_walk *w, const cJSON *node, struct addr_range *r)
{
	if (cJSON_IsString(node)) {
		char shown[80];
		arbor_cfg_render(node, shown, sizeof shown);
		if (!parse_ipv4(node->valuestring, &r->first)) {
			arbor_cfg_error(w, NULL, "%s is not an IPv4 address", shown);
			return false;
		}
		r->last = r->first;
		return true;
	}
	static const char *const keys[] = { "start", "end", NULL };
	if (!arbor_cfg_object(w, node, keys))
		return false;
	/* Both are checked (and reported) even when the first is wrong. */
	bool start_ok = get_ipv4(w, node, "start", true, &r->first);
	bool ok = get_ipv4(w, node, "end", true, &r->last) && start_ok;
	if (ok && r->last < r->first) {
		arbor_cfg_error(w, "end", "comes before start");
		return false;
	}
	return ok;
}

static bool inside(const struct server_spec *s, uint32_t a)
{
	uint32_t size = 1u << (32 - s->prefixlen);
	return a - s->network < size && a != s->network && a != s->network + size - 1;
}

/* Whether the subnet is known while parsing (not "auto", not malformed). */
static bool have_subnet(const struct server_spec *s)
{
	return s->prefixlen != 0;
}

/* "conflict_probe": { "ping": true, "timeout": 0.5 }. The probe delays the
 * offer, so it must end well before the offer itself would lapse. */
static void parse_conflict_probe(struct arbor_cfg_walk *w, const cJSON *node, struct server_spec *s)
{
	static const char *const keys[] = { "ping", "timeout", NULL };
	s->probe_ping = false;
	s->probe_timeout = 0.5;
	if (node == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "conflict_probe");
	if (arbor_cfg_object(w, node, keys)) {
		arbor_cfg_bool(w, node, "ping", false, &s->probe_ping);
		if (arbor_cfg_duration(w, node, "timeout", 0.5, 5, &s->probe_timeout) && s->probe_timeout < 0.05) {
			char shown[80];
			arbor_cfg_render(cJSON_GetObjectItemCaseSensitive(node, "timeout"), shown, sizeof shown);
			arbor_cfg_error(w, "timeout", "%s must be at least 0.05 and at most 5 seconds", shown);
		} else if (s->probe_ping && s->probe_timeout >= s->offer_timeout) {
			arbor_cfg_error(w, "timeout", "%g must be shorter than offer_timeout (%g)", s->probe_timeout,
					s->offer_timeout);
		}
	}
	arbor_cfg_leave(w, saved);
}

/* "subnet": a prefix from /16 to /30, or "auto" (with "prefix_length"). */
static void parse_subnet(struct arbor_cfg_walk *w, const cJSON *node, struct server_spec *s)
{
	char *subnet = NULL;
	arbor_cfg_string(w, node, "subnet", NULL, &subnet);
	unsigned long long plen;
	arbor_cfg_uint(w, node, "prefix_length", 24, 16, 30, &plen);
	if (subnet == NULL) {
		arbor_cfg_error(w, "subnet", "missing (a prefix like \"192.168.1.0/24\", or \"auto\")");
	} else if (strcmp(subnet, "auto") == 0) {
		/* The subnet comes from the IPv4 allocator at start (subnets.json):
		 * nothing in this section may name an address of it. */
		s->subnet_auto = true;
		s->auto_prefixlen = (unsigned)plen;
		static const char *const fixed[] = { "pools", "exclusions", "reserved", "server_id", NULL };
		for (size_t i = 0; fixed[i]; i++)
			if (cJSON_GetObjectItemCaseSensitive(node, fixed[i]))
				arbor_cfg_error(w, fixed[i], "cannot be given with \"subnet\": \"auto\" (the subnet is chosen at start)");
	} else if (!parse_prefix(subnet, &s->network, &s->prefixlen)) {
		arbor_cfg_error(w, "subnet", "\"%s\" is not a prefix like 192.168.1.0/24 (no host bits)", subnet);
	} else if (s->prefixlen < 16 || s->prefixlen > 30) {
		arbor_cfg_error(w, "subnet", "\"%s\": dhcp4d serves subnets from /16 to /30", subnet);
		s->prefixlen = 0;
	}
	free(subnet);
}

/* One of pools[]: {"name", "start", "end", "match": {...}}. */
static bool parse_pool(struct arbor_cfg_walk *w, const cJSON *p, size_t i, const struct server_spec *s,
		       struct pool_spec *ps)
{
	static const char *const keys[] = { "name", "start", "end", "match", NULL };
	static const char *const mkeys[] = { "vendor_class", "mac_prefix", "reservations_only", NULL };
	if (!arbor_cfg_object(w, p, keys))
		return false;
	char defname[16];
	snprintf(defname, sizeof defname, "pool%zu", i);
	arbor_cfg_string(w, p, "name", defname, &ps->name);
	bool start_ok = get_ipv4(w, p, "start", true, &ps->range.first);
	bool ok = get_ipv4(w, p, "end", true, &ps->range.last) && start_ok;
	if (ok && ps->range.last < ps->range.first) {
		arbor_cfg_error(w, "end", "comes before start");
		ok = false;
	}
	if (ok && have_subnet(s) && (!inside(s, ps->range.first) || !inside(s, ps->range.last))) {
		arbor_cfg_error(w, NULL, "the range is not inside the subnet's host addresses");
		ok = false;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "match");
	if (m) {
		size_t saved = arbor_cfg_enter(w, "match");
		if (arbor_cfg_object(w, m, mkeys)) {
			arbor_cfg_string(w, m, "vendor_class", NULL, &ps->match_class);
			char *mac = NULL;
			arbor_cfg_string(w, m, "mac_prefix", NULL, &mac);
			if (mac && !parse_mac(mac, ps->match_mac, 6, &ps->match_mac_len))
				arbor_cfg_error(w, "mac_prefix", "\"%s\" is not like \"52:54:00\"", mac);
			free(mac);
			arbor_cfg_bool(w, m, "reservations_only", false, &ps->reservations_only);
		}
		arbor_cfg_leave(w, saved);
	}
	if (!ok) {
		free(ps->name);
		free(ps->match_class);
		memset(ps, 0, sizeof *ps);
	}
	return ok;
}

/* "pools": 1 to 64 ranges that do not overlap; by default the whole subnet but
 * its first and last host addresses. */
static void parse_pools(struct arbor_cfg_walk *w, const cJSON *pools, struct server_spec *s)
{
	size_t saved = arbor_cfg_enter(w, "pools");
	if (pools == NULL) {
		if (have_subnet(s)) {
			s->pools = xcalloc(1, sizeof *s->pools);
			s->npools = 1;
			s->pools[0].name = xstrdup("default");
			uint32_t size = 1u << (32 - s->prefixlen);
			s->pools[0].range.first = s->network + (size > 8 ? 2 : 1);
			s->pools[0].range.last = s->network + size - 2;
		}
	} else if (!cJSON_IsArray(pools) || cJSON_GetArraySize(pools) < 1 || cJSON_GetArraySize(pools) > 64) {
		arbor_cfg_error(w, NULL, "must be an array of 1 to 64 pools");
	} else {
		s->pools = xcalloc((size_t)cJSON_GetArraySize(pools), sizeof *s->pools);
		size_t i = 0;
		for (const cJSON *p = pools->child; p; p = p->next, i++) {
			size_t s2 = arbor_cfg_enter_index(w, i);
			if (parse_pool(w, p, i, s, &s->pools[s->npools]))
				s->npools++;
			arbor_cfg_leave(w, s2);
		}
		for (size_t a = 0; a < s->npools; a++)
			for (size_t b = 0; b < a; b++)
				if (s->pools[a].range.first <= s->pools[b].range.last &&
				    s->pools[b].range.first <= s->pools[a].range.last)
					arbor_cfg_error(w, NULL, "pools %s and %s overlap", s->pools[b].name, s->pools[a].name);
	}
	arbor_cfg_leave(w, saved);
}

/* "exclusions" and the "reserved" range: both are "never handed out". */
static void parse_exclusions(struct arbor_cfg_walk *w, const cJSON *ex, const cJSON *reserved, struct server_spec *s)
{
	size_t nex = (cJSON_IsArray(ex) ? (size_t)cJSON_GetArraySize(ex) : 0) + (reserved ? 1 : 0);
	s->exclusions = xcalloc(nex + 1, sizeof *s->exclusions);
	if (ex) {
		size_t saved = arbor_cfg_enter(w, "exclusions");
		if (!cJSON_IsArray(ex)) {
			arbor_cfg_error(w, NULL, "must be an array of addresses or {\"start\", \"end\"} ranges");
		} else {
			size_t i = 0;
			for (const cJSON *e = ex->child; e; e = e->next, i++) {
				size_t s2 = arbor_cfg_enter_index(w, i);
				if (parse_range(w, e, &s->exclusions[s->nexclusions]))
					s->nexclusions++;
				arbor_cfg_leave(w, s2);
			}
		}
		arbor_cfg_leave(w, saved);
	}
	if (reserved) {
		size_t saved = arbor_cfg_enter(w, "reserved");
		if (parse_range(w, reserved, &s->exclusions[s->nexclusions]))
			s->nexclusions++;
		arbor_cfg_leave(w, saved);
	}
}

/* One of reservations[]: by "mac" or "client_id", an "address", a "pool", a
 * "hostname". The pools are parsed already. */
static bool parse_reservation(struct arbor_cfg_walk *w, const cJSON *r, const struct server_spec *s,
			      struct reservation_spec *rs)
{
	static const char *const keys[] = { "mac", "client_id", "address", "pool", "hostname", NULL };
	if (!arbor_cfg_object(w, r, keys))
		return false;
	char *mac = NULL, *cid = NULL;
	size_t maclen = 0;
	bool ok = true;
	arbor_cfg_string(w, r, "mac", NULL, &mac);
	arbor_cfg_string(w, r, "client_id", NULL, &cid);
	if (mac && (!parse_mac(mac, rs->mac, 6, &maclen) || maclen != 6)) {
		arbor_cfg_error(w, "mac", "\"%s\" is not a MAC address", mac);
		ok = false;
	}
	rs->has_mac = mac != NULL;
	if (cid && !parse_mac(cid, rs->client_id, sizeof rs->client_id, &rs->client_id_len)) {
		arbor_cfg_error(w, "client_id", "\"%s\" is not hex bytes like \"01:52:54:00:12:34:56\"", cid);
		ok = false;
	}
	if (!mac && !cid) {
		arbor_cfg_error(w, NULL, "a reservation needs \"mac\" or \"client_id\"");
		ok = false;
	}
	free(mac);
	free(cid);
	if (!get_ipv4(w, r, "address", false, &rs->addr))
		ok = false;
	if (rs->addr && have_subnet(s) && !inside(s, rs->addr)) {
		arbor_cfg_error(w, "address", "is not a host address of the subnet");
		ok = false;
	}
	arbor_cfg_string(w, r, "pool", NULL, &rs->pool);
	arbor_cfg_string(w, r, "hostname", NULL, &rs->hostname);
	if (rs->hostname && !arbor_valid_dns_label(rs->hostname)) {
		arbor_cfg_error(w, "hostname", "\"%s\" is not a DNS label", rs->hostname);
		ok = false;
	}
	if (rs->pool) {
		bool found = false;
		for (size_t k = 0; k < s->npools; k++)
			found |= strcmp(s->pools[k].name, rs->pool) == 0;
		if (!found) {
			arbor_cfg_error(w, "pool", "no pool is named \"%s\"", rs->pool);
			ok = false;
		}
	}
	if (!ok) {
		free(rs->pool);
		free(rs->hostname);
		memset(rs, 0, sizeof *rs);
	}
	return ok;
}

static void parse_reservations(struct arbor_cfg_walk *w, const cJSON *res, struct server_spec *s)
{
	if (res == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "reservations");
	if (!cJSON_IsArray(res)) {
		arbor_cfg_error(w, NULL, "must be an array");
	} else {
		s->reservations = xcalloc((size_t)cJSON_GetArraySize(res) + 1, sizeof *s->reservations);
		size_t i = 0;
		for (const cJSON *r = res->child; r; r = r->next, i++) {
			size_t s2 = arbor_cfg_enter_index(w, i);
			if (parse_reservation(w, r, s, &s->reservations[s->nreservations]))
				s->nreservations++;
			arbor_cfg_leave(w, s2);
		}
	}
	arbor_cfg_leave(w, saved);
}

static void parse_server(struct arbor_cfg_walk *w, const cJSON *node, struct server_spec *s)
{
	static const char *const keys[] = { "interface", "subnet", "prefix_length", "server_id", "pools",
					    "exclusions", "reserved", "reservations", "options", "lease_time", "t1",
					    "t2", "offer_timeout", "decline_time", "authoritative", "conflict_probe",
					    NULL };
	if (!arbor_cfg_object(w, node, keys))
		return;
	arbor_cfg_string(w, node, "interface", NULL, &s->interface);
	if (s->interface == NULL)
		arbor_cfg_error(w, "interface", "missing");
	else if (strlen(s->interface) == 0 || strlen(s->interface) > 15 || strchr(s->interface, '/'))
		arbor_cfg_error(w, "interface", "\"%s\" is not an interface name", s->interface);
	parse_subnet(w, node, s);
	get_ipv4(w, node, "server_id", false, &s->server_id);
	if (s->server_id && have_subnet(s) && !inside(s, s->server_id))
		arbor_cfg_error(w, "server_id", "is not a host address of the subnet");
	parse_pools(w, cJSON_GetObjectItemCaseSensitive(node, "pools"), s);
	parse_exclusions(w, cJSON_GetObjectItemCaseSensitive(node, "exclusions"),
			 cJSON_GetObjectItemCaseSensitive(node, "reserved"), s);
	parse_reservations(w, cJSON_GetObjectItemCaseSensitive(node, "reservations"), s);
	parse_options(w, cJSON_GetObjectItemCaseSensitive(node, "options"), &s->options);
	arbor_cfg_duration(w, node, "lease_time", 3600, 365 * 86400.0, &s->lease_time);
	arbor_cfg_duration(w, node, "t1", s->lease_time / 2, 365 * 86400.0, &s->t1);
	arbor_cfg_duration(w, node, "t2", s->lease_time * 7 / 8, 365 * 86400.0, &s->t2);
	if (!(s->t1 < s->t2 && s->t2 < s->lease_time) && s->lease_time > 0)
		arbor_cfg_error(w, "t2", "need t1 < t2 < lease_time (%g < %g < %g)", s->t1, s->t2, s->lease_time);
	arbor_cfg_duration(w, node, "offer_timeout", 10, 600, &s->offer_timeout);
	arbor_cfg_duration(w, node, "decline_time", 600, 86400, &s->decline_time);
	arbor_cfg_bool(w, node, "authoritative", true, &s->authoritative);
	parse_conflict_probe(w, cJSON_GetObjectItemCaseSensitive(node, "conflict_probe"), s);
}

static void free_server(struct server_spec *s)
{
	free(s->interface);
	for (size_t i = 0; s->pools && i < s->npools; i++) {
		free(s->pools[i].name);
		free(s->pools[i].match_class);
	}
	free(s->pools);
	free(s->exclusions);
	for (size_t i = 0; i < s->nreservations; i++) {
		free(s->reservations[i].pool);
		free(s->reservations[i].hostname);
	}
	free(s->reservations);
	struct server_options *o = &s->options;
	free(o->domain_name);
	for (size_t i = 0; o->search && o->search[i]; i++)
		free(o->search[i]);
	free(o->search);
	free(o->routes);
	for (size_t i = 0; i < o->ncustom; i++)
		free(o->custom[i].data);
	free(o->custom);
}

int server_spec_check_reservations(const struct server_spec *s, size_t index, uint32_t server_id, char *err,
				   size_t errlen)
{
	for (size_t k = 0; k < s->nreservations; k++) {
		uint32_t a = s->reservations[k].addr;
		const char *why = !inside(s, a) ? "is not a host address of" : a == server_id ? "is the server's own address in"
										  : NULL;
		if (a == 0 || why == NULL)
			continue;
		char addr[16], net[16];
		format_ipv4(a, addr, sizeof addr);
		format_ipv4(s->network, net, sizeof net);
		snprintf(err, errlen, "dhcp4d.servers[%zu].reservations[%zu].address: %s %s the subnet %s/%u of %s%s: no "
			 "client could get it", index, k, addr, why, net, s->prefixlen, s->interface,
			 s->subnet_auto ? " (\"subnet\": \"auto\")" : "");
		return -1;
	}
	return 0;
}

void dhcp4d_config_free(void *p)
{
	struct dhcp4d_config *cfg = p;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nservers; i++)
		free_server(&cfg->servers[i]);
	free(cfg->servers);
	client_config_free(cfg->clients, cfg->nclients);
	free(cfg);
}

void *dhcp4d_config_parse(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "servers", "clients", "compact_records", NULL };
	struct dhcp4d_config *cfg = xcalloc(1, sizeof *cfg);
	arbor_cfg_object(w, sec, keys);
	unsigned long long compact;
	arbor_cfg_uint(w, sec, "compact_records", 100000, 100, 100000000, &compact);
	cfg->compact_records = (unsigned)compact;
	cfg->clients = client_config_parse(w, cJSON_GetObjectItemCaseSensitive(sec, "clients"), &cfg->nclients);
	const cJSON *servers = cJSON_GetObjectItemCaseSensitive(sec, "servers");
	if (servers == NULL)
		return cfg;
	size_t saved = arbor_cfg_enter(w, "servers");
	if (!cJSON_IsArray(servers) || cJSON_GetArraySize(servers) > 256) {
		arbor_cfg_error(w, NULL, "must be an array of at most 256 servers");
		arbor_cfg_leave(w, saved);
		return cfg;
	}
	cfg->servers = xcalloc((size_t)cJSON_GetArraySize(servers) + 1, sizeof *cfg->servers);
	size_t i = 0;
	for (const cJSON *node = servers->child; node; node = node->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		parse_server(w, node, &cfg->servers[cfg->nservers++]);
		arbor_cfg_leave(w, s2);
	}
	for (size_t a = 0; a < cfg->nservers; a++)
		for (size_t b = 0; b < a; b++)
			if (cfg->servers[a].interface && cfg->servers[b].interface &&
			    strcmp(cfg->servers[a].interface, cfg->servers[b].interface) == 0) {
				size_t s2 = arbor_cfg_enter_index(w, a);
				arbor_cfg_error(w, "interface", "\"%s\" already has a server (servers[%zu])",
						cfg->servers[a].interface, b);
				arbor_cfg_leave(w, s2);
			}
	arbor_cfg_leave(w, saved);
	return cfg;
}
