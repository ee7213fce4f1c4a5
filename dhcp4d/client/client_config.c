/* dhcp4d.clients[]: parsing and checking one client per uplink. Every key has a
 * default; only the interface is required. */
#include "client_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_wire.h"
#include "xalloc.h"

/* "01:52:54:00:12:34:56" → bytes; false for anything else. */
static bool parse_hex_bytes(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;
	while (*s) {
		unsigned v;
		int used = 0;
		if (n == cap || sscanf(s, "%2x%n", &v, &used) != 1 || used != 2)
			return false;
		out[n++] = (uint8_t)v;
		s += 2;
		if (*s == ':')
			s++;
		else if (*s)
			return false;
	}
	*len = n;
	return n >= 2;
}

static void parse_one(struct arbor_cfg_walk *w, const cJSON *node, struct client_spec *c)
{
	static const char *const keys[] = { "interface", "hostname", "vendor_class", "client_id", "route_metric",
					    "use_routes", "use_mtu", "release_on_stop", NULL };
	if (!cJSON_IsObject(node)) {
		arbor_cfg_object(w, node, keys); /* reports the type */
		return;
	}
	arbor_cfg_object(w, node, keys);
	arbor_cfg_string(w, node, "interface", NULL, &c->interface);
	if (c->interface == NULL)
		arbor_cfg_error(w, "interface", "is required");
	else if (strlen(c->interface) >= 16 || c->interface[0] == '\0' || strchr(c->interface, '/'))
		arbor_cfg_error(w, "interface", "\"%s\" is not an interface name", c->interface);
	arbor_cfg_string(w, node, "hostname", NULL, &c->hostname);
	if (c->hostname && (strlen(c->hostname) > DHCP_HOSTNAME_MAX || c->hostname[0] == '\0'))
		arbor_cfg_error(w, "hostname", "must be 1..%d characters", DHCP_HOSTNAME_MAX);
	arbor_cfg_string(w, node, "vendor_class", NULL, &c->vendor_class);
	if (c->vendor_class && (strlen(c->vendor_class) > 63 || c->vendor_class[0] == '\0'))
		arbor_cfg_error(w, "vendor_class", "must be 1..63 characters");
	char *cid = NULL;
	arbor_cfg_string(w, node, "client_id", NULL, &cid);
	if (cid && !parse_hex_bytes(cid, c->client_id, sizeof c->client_id, &c->client_id_len))
		arbor_cfg_error(w, "client_id", "\"%s\" is not 2..64 hex bytes like \"01:52:54:00:12:34:56\"", cid);
	free(cid);
	unsigned long long metric;
	arbor_cfg_uint(w, node, "route_metric", 1024, 0, UINT32_MAX, &metric);
	c->route_metric = (uint32_t)metric;
	arbor_cfg_bool(w, node, "use_routes", true, &c->use_routes);
	arbor_cfg_bool(w, node, "use_mtu", true, &c->use_mtu);
	arbor_cfg_bool(w, node, "release_on_stop", false, &c->release_on_stop);
}

struct client_spec *client_config_parse(struct arbor_cfg_walk *w, const cJSON *clients, size_t *n)
{
	*n = 0;
	if (clients == NULL)
		return NULL;
	size_t saved = arbor_cfg_enter(w, "clients");
	if (!cJSON_IsArray(clients) || cJSON_GetArraySize(clients) > 64) {
		arbor_cfg_error(w, NULL, "must be an array of at most 64 clients");
		arbor_cfg_leave(w, saved);
		return NULL;
	}
	struct client_spec *specs = xcalloc((size_t)cJSON_GetArraySize(clients) + 1, sizeof *specs);
	size_t i = 0;
	for (const cJSON *node = clients->child; node; node = node->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		parse_one(w, node, &specs[(*n)++]);
		for (size_t j = 0; j + 1 < *n; j++)
			if (specs[j].interface && specs[i].interface && strcmp(specs[j].interface, specs[i].interface) == 0)
				arbor_cfg_error(w, "interface", "\"%s\" already has a client (clients[%zu])",
						specs[i].interface, j);
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
	return specs;
}

void client_config_free(struct client_spec *specs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(specs[i].interface);
		free(specs[i].hostname);
		free(specs[i].vendor_class);
	}
	free(specs);
}
