/* Parsing dhcp6pd's section (see dhcp6pd_config.h): one function per sub-object,
 * defaults for every key, errors with their key paths. Cross-checks: one client,
 * LAN and server per interface; a from_delegation pool needs a client; a
 * delegated length longer than its pool's prefix and at most 64; reservations
 * inside a pool. */
#include "dhcp6pd_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_derive.h"
#include "config.h"
#include "hex.h"
#include "nd_wire.h"
#include "subnet_ids.h"
#include "xalloc.h"

bool duid_parse(const char *s, uint8_t *out, uint16_t *len)
{
	size_t n = 0;
	while (*s) {
		int hi = arbor_hex_digit(s[0]), lo = s[1] ? arbor_hex_digit(s[1]) : -1;
		if (hi < 0 || lo < 0 || n == DHCP6_DUID_MAX)
			return false;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s == ':' && s[1])
			s++;
	}
	*len = (uint16_t)n;
	return n >= 2;
}

void duid_format(const uint8_t *duid, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 <= outlen; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = hex[duid[i] >> 4];
		out[o++] = hex[duid[i] & 15];
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
}

static void get_interface(struct arbor_cfg_walk *w, const cJSON *node, char **out)
{
	arbor_cfg_string(w, node, "interface", NULL, out);
	if (*out == NULL)
		arbor_cfg_error(w, "interface", "is required");
	else if (!arbor_subnet_name_valid(*out))
		arbor_cfg_error(w, "interface", "\"%s\" is not an interface name", *out);
}

static uint32_t get_u32(struct arbor_cfg_walk *w, const cJSON *node, const char *key, unsigned long long def,
			unsigned long long min, unsigned long long max)
{
	unsigned long long v = def;
	arbor_cfg_uint(w, node, key, def, min, max, &v);
	return (uint32_t)v;
}

static void get_duid(struct arbor_cfg_walk *w, const cJSON *node, const char *key, uint8_t *duid, uint16_t *len,
		     bool required)
{
	char *text = NULL;
	arbor_cfg_string(w, node, key, NULL, &text);
	*len = 0;
	if (text && !duid_parse(text, duid, len))
		arbor_cfg_error(w, key, "\"%s\" is not a DUID (2 to 130 hex bytes like \"00:04:...\")", text);
	else if (text == NULL && required)
		arbor_cfg_error(w, key, "is required");
	free(text);
}

static void get_prefix(struct arbor_cfg_walk *w, const cJSON *node, const char *key, struct arbor_prefix6 *p)
{
	char *text = NULL;
	arbor_cfg_string(w, node, key, NULL, &text);
	if (text == NULL)
		arbor_cfg_error(w, key, "is required");
	else if (!arbor_prefix6_parse(text, p))
		arbor_cfg_error(w, key, "\"%s\" is not an IPv6 prefix like \"2001:db8:100::/40\" (host bits zero)", text);
	free(text);
}

/* A list of objects: calls one for each element, with the path entered. */
static size_t parse_list(struct arbor_cfg_walk *w, const cJSON *section, const char *key, size_t elem, void **out,
			 void (*one)(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx), void *ctx)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(section, key);
	*out = NULL;
	if (list == NULL)
		return 0;
	size_t saved = arbor_cfg_enter(w, key);
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > DHCP6PD_LIST_MAX) {
		arbor_cfg_error(w, NULL, "must be an array of at most %d objects", DHCP6PD_LIST_MAX);
		arbor_cfg_leave(w, saved);
		return 0;
	}
	size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
	char *items = xcalloc(n + 1, elem);
	for (const cJSON *node = list->child; node; node = node->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		one(w, node, items + i * elem, ctx);
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
	*out = items;
	return n;
}

static void parse_client(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx)
{
	static const char *const keys[] = { "interface", "prefix_length_hint", "request_address", "rapid_commit", "iaid",
					    "duid", "unreachable_route", "accept_ra", "release_on_stop", NULL };
	struct client6_spec *c = item;
	if (!arbor_cfg_object(w, node, keys))
		return;
	get_interface(w, node, &c->interface);
	c->hint_len = (uint8_t)get_u32(w, node, "prefix_length_hint", 0, 0, 64);
	arbor_cfg_bool(w, node, "request_address", false, &c->request_address);
	arbor_cfg_bool(w, node, "rapid_commit", false, &c->rapid_commit);
	c->has_iaid = cJSON_GetObjectItemCaseSensitive(node, "iaid") != NULL;
	c->iaid = get_u32(w, node, "iaid", 0, 0, UINT32_MAX);
	get_duid(w, node, "duid", c->duid, &c->duid_len, false);
	arbor_cfg_bool(w, node, "unreachable_route", true, &c->unreachable_route);
	arbor_cfg_bool(w, node, "accept_ra", true, &c->accept_ra);
	arbor_cfg_bool(w, node, "release_on_stop", false, &c->release_on_stop);
}

static void parse_lan(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx)
{
	static const char *const keys[] = { "interface", "ula", "router_advertisements", "min_interval", "max_interval",
					    "router_lifetime", "preferred_lifetime", "valid_lifetime", "mtu", "dns_servers",
					    "domain_search", "stateless_dhcp", "information_refresh", "preference", NULL };
	struct lan_spec *l = item;
	if (!arbor_cfg_object(w, node, keys))
		return;
	get_interface(w, node, &l->interface);
	arbor_cfg_bool(w, node, "ula", true, &l->ula);
	arbor_cfg_bool(w, node, "router_advertisements", true, &l->advertise);
	/* RFC 4861 §6.2.1: MaxRtrAdvInterval 4..1800 s, MinRtrAdvInterval 3 s..0.75 Max. */
	arbor_cfg_number(w, node, "max_interval", 600, 4, 1800, &l->max_interval);
	arbor_cfg_number(w, node, "min_interval", l->max_interval / 3 < 3 ? 3 : l->max_interval / 3, 3, 1350,
			 &l->min_interval);
	if (l->min_interval > 0.75 * l->max_interval)
		arbor_cfg_error(w, "min_interval", "must be at most 0.75 × max_interval (%.0f s)", 0.75 * l->max_interval);
	l->router_lifetime = get_u32(w, node, "router_lifetime", 1800, 0, 9000);
	l->preferred_cap = get_u32(w, node, "preferred_lifetime", 2700, 0, 2700);
	l->valid_cap = get_u32(w, node, "valid_lifetime", 5400, 1, 5400);
	if (l->preferred_cap > l->valid_cap)
		arbor_cfg_error(w, "preferred_lifetime", "is longer than valid_lifetime");
	l->mtu = get_u32(w, node, "mtu", 0, 1280, 65535);
	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(node, "dns_servers");
	l->dns_router = dns == NULL;
	if (dns) {
		if (!cJSON_IsArray(dns) || cJSON_GetArraySize(dns) > DHCP6PD_DNS_MAX) {
			arbor_cfg_error(w, "dns_servers", "must be an array of at most %d entries", DHCP6PD_DNS_MAX);
		} else {
			for (const cJSON *d = dns->child; d; d = d->next) {
				if (cJSON_IsString(d) && strcmp(d->valuestring, "router") == 0)
					l->dns_router = true;
				else if (!cJSON_IsString(d) || inet_pton(AF_INET6, d->valuestring, &l->dns[l->ndns]) != 1)
					arbor_cfg_error(w, "dns_servers", "entries are IPv6 addresses or \"router\"");
				else
					l->ndns++;
			}
		}
	}
	const cJSON *search = cJSON_GetObjectItemCaseSensitive(node, "domain_search");
	l->search_default = search == NULL;
	if (search) {
		if (!cJSON_IsArray(search) || cJSON_GetArraySize(search) > DHCP6PD_SEARCH_MAX) {
			arbor_cfg_error(w, "domain_search", "must be an array of at most %d DNS names", DHCP6PD_SEARCH_MAX);
		} else {
			for (const cJSON *s = search->child; s; s = s->next) {
				if (!cJSON_IsString(s) || !arbor_valid_dns_name(s->valuestring))
					arbor_cfg_error(w, "domain_search", "entries are DNS names");
				else
					l->search[l->nsearch++] = xstrdup(s->valuestring);
			}
		}
	}
	arbor_cfg_bool(w, node, "stateless_dhcp", true, &l->stateless);
	/* RFC 8415 §21.23: at least 600 s; what is withdrawn must not be cached long. */
	l->info_refresh = get_u32(w, node, "information_refresh", 1800, 600, 86400);
	char *pref = NULL;
	arbor_cfg_string(w, node, "preference", "medium", &pref);
	if (pref && strcmp(pref, "medium") == 0)
		l->preference = ND_PREF_MEDIUM;
	else if (pref && strcmp(pref, "high") == 0)
		l->preference = ND_PREF_HIGH;
	else if (pref && strcmp(pref, "low") == 0)
		l->preference = ND_PREF_LOW;
	else
		arbor_cfg_error(w, "preference", "is one of \"low\", \"medium\", \"high\"");
	free(pref);
}

static void parse_pool(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx)
{
	static const char *const keys[] = { "prefix", "delegated_length", "client", NULL };
	struct pool6_spec *p = item;
	if (!arbor_cfg_object(w, node, keys))
		return;
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(node, "prefix");
	if (cJSON_IsString(pr) && strcmp(pr->valuestring, "from_delegation") == 0)
		p->from_delegation = true;
	else
		get_prefix(w, node, "prefix", &p->prefix);
	p->delegated_length = (uint8_t)get_u32(w, node, "delegated_length", 60, 1, 64);
	if (!p->from_delegation && p->prefix.len && p->delegated_length < p->prefix.len)
		arbor_cfg_error(w, "delegated_length", "/%u is shorter than the pool's /%u", p->delegated_length,
				p->prefix.len);
	if (!p->from_delegation && p->prefix.len && p->delegated_length - p->prefix.len > 24)
		arbor_cfg_error(w, "delegated_length", "more than 2^24 blocks in one pool");
	arbor_cfg_string(w, node, "client", NULL, &p->client);
}

static void parse_reservation(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx)
{
	static const char *const keys[] = { "duid", "iaid", "prefix", NULL };
	struct reservation6_spec *r = item;
	if (!arbor_cfg_object(w, node, keys))
		return;
	get_duid(w, node, "duid", r->duid, &r->duid_len, true);
	r->has_iaid = cJSON_GetObjectItemCaseSensitive(node, "iaid") != NULL;
	r->iaid = get_u32(w, node, "iaid", 0, 0, UINT32_MAX);
	get_prefix(w, node, "prefix", &r->prefix);
}

static void parse_server(struct arbor_cfg_walk *w, const cJSON *node, void *item, void *ctx)
{
	static const char *const keys[] = { "interface", "pools", "reservations", "preferred_lifetime", "valid_lifetime",
					    "t1", "t2", "rapid_commit", "routes", "offer_hold", NULL };
	struct server6_spec *s = item;
	if (!arbor_cfg_object(w, node, keys))
		return;
	get_interface(w, node, &s->interface);
	s->npools = parse_list(w, node, "pools", sizeof *s->pools, (void **)&s->pools, parse_pool, NULL);
	if (s->npools == 0)
		arbor_cfg_error(w, "pools", "at least one pool is required");
	s->nreservations = parse_list(w, node, "reservations", sizeof *s->reservations, (void **)&s->reservations,
				      parse_reservation, NULL);
	s->preferred_lifetime = get_u32(w, node, "preferred_lifetime", 2700, 60, UINT32_MAX - 1);
	s->valid_lifetime = get_u32(w, node, "valid_lifetime", 5400, 60, UINT32_MAX - 1);
	if (s->preferred_lifetime > s->valid_lifetime)
		arbor_cfg_error(w, "preferred_lifetime", "is longer than valid_lifetime");
	s->t1 = get_u32(w, node, "t1", 0, 0, UINT32_MAX - 1);
	s->t2 = get_u32(w, node, "t2", 0, 0, UINT32_MAX - 1);
	if (s->t1 && s->t2 && s->t1 > s->t2)
		arbor_cfg_error(w, "t1", "is longer than t2");
	arbor_cfg_bool(w, node, "rapid_commit", true, &s->rapid_commit);
	arbor_cfg_bool(w, node, "routes", true, &s->routes);
	arbor_cfg_number(w, node, "offer_hold", 30, 1, 3600, &s->offer_hold);
	for (size_t i = 0; i < s->nreservations; i++) {
		const struct reservation6_spec *r = &s->reservations[i];
		bool inside = false;
		for (size_t k = 0; k < s->npools; k++) {
			const struct pool6_spec *p = &s->pools[k];
			inside |= !p->from_delegation && r->prefix.len == p->delegated_length && p->prefix.len &&
				  memcmp(&r->prefix.addr, &p->prefix.addr, p->prefix.len / 8) == 0 &&
				  (p->prefix.len % 8 == 0 ||
				   ((r->prefix.addr.s6_addr[p->prefix.len / 8] ^ p->prefix.addr.s6_addr[p->prefix.len / 8]) &
				    (0xff00 >> (p->prefix.len % 8))) == 0);
		}
		if (!inside && r->prefix.len) {
			char text[64];
			arbor_cfg_error(w, "reservations", "%s is not a delegated_length block of a literal pool",
					arbor_prefix6_format(&r->prefix, text, sizeof text));
		}
	}
}

/* An error at list[i].key (a cross-check made after the lists are read). */
static void error_at(struct arbor_cfg_walk *w, const char *list, size_t i, const char *sub, size_t j, const char *key,
		     const char *msg)
{
	size_t s1 = arbor_cfg_enter(w, list), s2 = arbor_cfg_enter_index(w, i);
	size_t s3 = sub ? arbor_cfg_enter(w, sub) : 0, s4 = sub ? arbor_cfg_enter_index(w, j) : 0;
	arbor_cfg_error(w, key, "%s", msg);
	if (sub) {
		arbor_cfg_leave(w, s4);
		arbor_cfg_leave(w, s3);
	}
	arbor_cfg_leave(w, s2);
	arbor_cfg_leave(w, s1);
}

static bool same_name(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

void *dhcp6pd_config_parse(struct arbor_cfg_walk *w, const cJSON *section)
{
	static const char *const keys[] = { "forwarding", "compact_records", "clients", "lans", "servers", NULL };
	struct dhcp6pd_config *c = xcalloc(1, sizeof *c);
	if (!arbor_cfg_object(w, section, keys))
		return c;
	arbor_cfg_bool(w, section, "forwarding", true, &c->forwarding);
	unsigned long long compact = 100000;
	arbor_cfg_uint(w, section, "compact_records", 100000, 100, 100000000, &compact);
	c->compact_records = compact;
	c->nclients = parse_list(w, section, "clients", sizeof *c->clients, (void **)&c->clients, parse_client, NULL);
	c->nlans = parse_list(w, section, "lans", sizeof *c->lans, (void **)&c->lans, parse_lan, NULL);
	c->nservers = parse_list(w, section, "servers", sizeof *c->servers, (void **)&c->servers, parse_server, NULL);
	char msg[160];
	/* one of each per interface; an uplink is not a LAN */
	for (size_t i = 0; i < c->nclients; i++)
		for (size_t k = 0; k < i; k++)
			if (same_name(c->clients[i].interface, c->clients[k].interface)) {
				snprintf(msg, sizeof msg, "%s already has a client (clients[%zu])", c->clients[i].interface, k);
				error_at(w, "clients", i, NULL, 0, "interface", msg);
			}
	for (size_t i = 0; i < c->nlans; i++) {
		for (size_t k = 0; k < i; k++)
			if (same_name(c->lans[i].interface, c->lans[k].interface)) {
				snprintf(msg, sizeof msg, "%s is already a LAN (lans[%zu])", c->lans[i].interface, k);
				error_at(w, "lans", i, NULL, 0, "interface", msg);
			}
		for (size_t k = 0; k < c->nclients; k++)
			if (same_name(c->lans[i].interface, c->clients[k].interface)) {
				snprintf(msg, sizeof msg, "%s is an uplink (clients[%zu])", c->lans[i].interface, k);
				error_at(w, "lans", i, NULL, 0, "interface", msg);
			}
	}
	for (size_t i = 0; i < c->nservers; i++) {
		for (size_t k = 0; k < i; k++)
			if (same_name(c->servers[i].interface, c->servers[k].interface)) {
				snprintf(msg, sizeof msg, "%s already has a server (servers[%zu])", c->servers[i].interface, k);
				error_at(w, "servers", i, NULL, 0, "interface", msg);
			}
		for (size_t k = 0; k < c->nclients; k++)
			if (same_name(c->servers[i].interface, c->clients[k].interface)) {
				snprintf(msg, sizeof msg, "%s is an uplink (clients[%zu]): a server delegates downstream",
					 c->servers[i].interface, k);
				error_at(w, "servers", i, NULL, 0, "interface", msg);
			}
		for (size_t k = 0; k < c->servers[i].npools; k++) {
			struct pool6_spec *p = &c->servers[i].pools[k];
			if (!p->from_delegation) {
				if (p->client)
					error_at(w, "servers", i, "pools", k, "client", "only a from_delegation pool names a client");
				continue;
			}
			if (c->nclients == 0) {
				error_at(w, "servers", i, "pools", k, "prefix", "from_delegation needs a client (dhcp6pd.clients)");
				continue;
			}
			if (p->client == NULL) {
				p->client = xstrdup(c->clients[0].interface ? c->clients[0].interface : "");
				continue;
			}
			bool found = false;
			for (size_t j = 0; j < c->nclients; j++)
				found |= same_name(c->clients[j].interface, p->client);
			if (!found) {
				snprintf(msg, sizeof msg, "no client on %s", p->client);
				error_at(w, "servers", i, "pools", k, "client", msg);
			}
		}
	}
	return c;
}

void dhcp6pd_config_free(void *cfg)
{
	struct dhcp6pd_config *c = cfg;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nclients; i++)
		free(c->clients[i].interface);
	for (size_t i = 0; i < c->nlans; i++) {
		free(c->lans[i].interface);
		for (size_t k = 0; k < c->lans[i].nsearch; k++)
			free(c->lans[i].search[k]);
	}
	for (size_t i = 0; i < c->nservers; i++) {
		free(c->servers[i].interface);
		for (size_t k = 0; k < c->servers[i].npools; k++)
			free(c->servers[i].pools[k].client);
		free(c->servers[i].pools);
		free(c->servers[i].reservations);
	}
	free(c->clients);
	free(c->lans);
	free(c->servers);
	free(c);
}
