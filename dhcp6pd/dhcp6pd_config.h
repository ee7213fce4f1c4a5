/* The dhcp6pd section of arbor.json: uplink clients, LANs and delegating servers.
 * Every key has a default; every error names the file and the key path. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg_walk.h"
#include "dhcp6_wire.h"
#include "prefix6.h"

#define DHCP6PD_LIST_MAX 64   /* clients, LANs, servers, pools, reservations each */
#define DHCP6PD_DNS_MAX 4
#define DHCP6PD_SEARCH_MAX 4

struct client6_spec {
	char *interface;
	uint8_t hint_len;          /* prefix_length_hint; 0: none */
	bool request_address;      /* an IA_NA beside the IA_PD */
	bool rapid_commit;
	bool has_iaid;
	uint32_t iaid;             /* default: derived from the interface name */
	uint8_t duid[DHCP6_DUID_MAX]; /* default: derived from the machine id */
	uint16_t duid_len;         /* 0: derived */
	bool unreachable_route;    /* RFC 7084 WPD-5 */
	bool accept_ra;            /* accept_ra=2 on the uplink, so forwarding keeps its RAs */
	bool release_on_stop;
};

struct lan_spec {
	char *interface;
	bool ula;                  /* the derived ULA /64 beside the delegated one */
	bool advertise;            /* send router advertisements */
	double min_interval, max_interval; /* RFC 4861 MinRtrAdvInterval, MaxRtrAdvInterval */
	uint32_t router_lifetime;
	uint32_t preferred_cap, valid_cap; /* RFC 9096: 2700 / 5400 */
	uint32_t mtu;              /* 0: the link's */
	bool dns_router;           /* the router's own addresses as DNS servers */
	struct in6_addr dns[DHCP6PD_DNS_MAX];
	size_t ndns;
	char *search[DHCP6PD_SEARCH_MAX]; /* NULL entries: none; default <ifname>.<domain> */
	size_t nsearch;
	bool search_default;
	bool stateless;            /* answer Information-Request */
	uint32_t info_refresh;     /* option 32 */
	uint8_t preference;        /* ND_PREF_* */
};

struct pool6_spec {
	bool from_delegation;
	struct arbor_prefix6 prefix;     /* a literal prefix */
	char *client;              /* from_delegation: the uplink whose delegation (default: the first) */
	uint8_t delegated_length;
};

struct reservation6_spec {
	uint8_t duid[DHCP6_DUID_MAX];
	uint16_t duid_len;
	bool has_iaid;
	uint32_t iaid;
	struct arbor_prefix6 prefix;
};

struct server6_spec {
	char *interface;
	struct pool6_spec *pools;
	size_t npools;
	struct reservation6_spec *reservations;
	size_t nreservations;
	uint32_t preferred_lifetime, valid_lifetime;
	uint32_t t1, t2;           /* 0: 0.5 and 0.8 of the preferred lifetime */
	bool rapid_commit;
	bool routes;               /* a route to each delegated prefix via the requester */
	double offer_hold;         /* seconds an ADVERTISEd prefix is held for its REQUEST */
};

struct dhcp6pd_config {
	bool forwarding;
	uint64_t compact_records;
	struct client6_spec *clients;
	size_t nclients;
	struct lan_spec *lans;
	size_t nlans;
	struct server6_spec *servers;
	size_t nservers;
};

void *dhcp6pd_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
void dhcp6pd_config_free(void *cfg);

/* "00:01:00:01:..." or "000100..." → bytes (2..130). */
bool duid_parse(const char *s, uint8_t *out, uint16_t *len);
void duid_format(const uint8_t *duid, size_t len, char *out, size_t outlen);
