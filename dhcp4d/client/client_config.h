/* dhcp4d.clients[]: one DHCP client per uplink interface. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"

struct client_spec {
	char *interface;
	char *hostname;       /* option 12; NULL: the machine's name */
	char *vendor_class;   /* option 60; NULL: none */
	uint8_t client_id[64];/* option 61; length 0: 01 + the interface's MAC */
	size_t client_id_len;
	uint32_t route_metric;/* for the default and classless routes */
	bool use_routes;      /* routers (3) and classless routes (121) */
	bool use_mtu;         /* option 26 */
	bool release_on_stop; /* give the lease back on a graceful stop */
};

/* Parses the "clients" array (w is at "dhcp4d"). Returns the array (n entries). */
struct client_spec *client_config_parse(struct arbor_cfg_walk *w, const cJSON *clients, size_t *n);
void client_config_free(struct client_spec *specs, size_t n);
