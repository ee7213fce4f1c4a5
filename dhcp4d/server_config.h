/* The dhcp4d section: servers[] (one per LAN interface) and clients[] (one per uplink).
 * Everything is validated before anything runs; addresses are kept in host
 * byte order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client_config.h"
#include "config.h"

struct addr_range {
	uint32_t first, last; /* inclusive, host byte order */
};

struct pool_spec {
	char *name;
	struct addr_range range;
	/* Who may draw from this pool (all given conditions must hold; none: anyone). */
	char *match_class;       /* vendor class (60) equals */
	uint8_t match_mac[6];    /* MAC prefix */
	size_t match_mac_len;
	bool reservations_only;  /* only clients with a reservation naming this pool */
};

struct reservation_spec {
	uint8_t mac[6];
	bool has_mac;
	uint8_t client_id[64];
	size_t client_id_len;
	uint32_t addr;           /* 0: none (only selects the pool) */
	char *pool;              /* pool name, or NULL */
	char *hostname;
};

struct route_spec {
	uint32_t dest;
	unsigned prefixlen;
	uint32_t router;
};

struct custom_option {
	uint8_t code;
	uint8_t *data;
	size_t len;
};

struct server_options {
	uint32_t router;         /* 0: none */
	uint32_t dns[8];
	size_t ndns;
	char *domain_name;
	char **search;           /* NULL-terminated */
	unsigned mtu;            /* 0: none */
	uint32_t ntp[8];
	size_t nntp;
	struct route_spec *routes;
	size_t nroutes;
	struct custom_option *custom;
	size_t ncustom;
};

struct server_spec {
	char *interface;
	bool subnet_auto;
	unsigned auto_prefixlen;
	uint32_t network;        /* when not auto */
	unsigned prefixlen;
	uint32_t server_id;      /* 0: the interface's address in the subnet */
	struct pool_spec *pools;
	size_t npools;
	struct addr_range *exclusions;
	size_t nexclusions;
	struct reservation_spec *reservations;
	size_t nreservations;
	struct server_options options;
	double lease_time, t1, t2;
	double offer_timeout;
	double decline_time;
	bool authoritative;      /* NAK requests for addresses we do not know */
	/* "conflict_probe": before offering an address new to the client, ping it
	 * (RFC 2131 §2.2) and wait this long for an answer. */
	bool probe_ping;
	double probe_timeout;
};

struct dhcp4d_config {
	struct server_spec *servers;
	size_t nservers;
	struct client_spec *clients;
	size_t nclients;
	unsigned compact_records; /* journal records before compaction */
};

void *dhcp4d_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
/* What can only be checked once the subnet and the server's address are known
 * ("subnet": "auto" is resolved at start): every reservation's address is a host
 * address of the subnet and not the server's own. 0, or -1 with
 * err naming servers[index].reservations[k] and the subnet. */
int server_spec_check_reservations(const struct server_spec *s, size_t index, uint32_t server_id, char *err,
				   size_t errlen);
void dhcp4d_config_free(void *cfg);
/* Parses dotted-quad IPv4 into host order; false if it is not one. */
bool parse_ipv4(const char *s, uint32_t *out);
void format_ipv4(uint32_t addr, char *buf, size_t len);
