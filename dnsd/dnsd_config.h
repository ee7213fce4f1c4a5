/* The dnsd section: where to listen, the zone and its records, hosts and child
 * machines, reverse zones, forwarders and who may recurse. Validated whole before
 * anything runs; record data is checked here with rdata_from_text so a bad record
 * is a config error naming its key path. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "lease_set.h"

/* Listen addresses at most (each serving thread polls one socket per address). */
#define DNSD_MAX_LISTEN 64

struct dnsd_listen {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64];
};

struct dnsd_record_spec {
	char *name; /* relative to the zone unless it ends in a dot; "@" is the apex */
	int type;
	char *data;
	uint32_t ttl;
};

struct dnsd_host_spec {
	char *name;      /* label */
	char *interface; /* the host is <name>.<interface>.<zone> */
	char *host_id;   /* for the derived AAAA; NULL: none */
	bool has_ipv4;
	struct in_addr ipv4;
};

struct dnsd_child_spec {
	char *name;      /* the machine's name: zone <name>.<interface>.<zone> */
	char *interface;
	bool has_ipv4;   /* glue; else from the DHCP lease of the mac or client_id below */
	struct in_addr ipv4;
	uint8_t mac[DHCP_LEASE_ID_MAX], client_id[DHCP_LEASE_ID_MAX];
	uint8_t mac_len, client_id_len; /* 0: not given */
	char *machine_id;/* for the AAAA glue (its /48, subnet 0, host id = machine id) */
};

/* Response rate limiting (rrl.h) of UDP answers to clients outside
 * allow_recursion. */
struct dnsd_rrl_config {
	unsigned responses_per_second; /* 0: off */
	unsigned window;               /* seconds */
	unsigned slip;                 /* every slip-th limited answer goes out truncated; 0: none */
	unsigned ipv4_prefix, ipv6_prefix;
};

struct dnsd_net {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

struct dnsd_config {
	struct dnsd_listen *listen;
	size_t nlisten;
	char *zone;          /* NULL: machine.domain */
	uint32_t ttl;        /* default record TTL */
	uint32_t soa_refresh, soa_retry, soa_expire, soa_minimum;
	struct dnsd_record_spec *records;
	size_t nrecords;
	struct dnsd_host_spec *hosts;
	size_t nhosts;
	struct dnsd_child_spec *children;
	size_t nchildren;
	char **interfaces;   /* NULL: every interface with an address but lo */
	size_t ninterfaces;
	struct dnsd_net *reverse; /* IPv4 networks (/8, /16, /24) with in-addr.arpa zones */
	size_t nreverse;
	struct dnsd_listen *forwarders;
	size_t nforwarders;
	struct dnsd_net *allow_recursion;
	size_t nallow;
	char *dhcp4d_socket; /* NULL: <runtime-dir>/dhcp4d.sock; "": no dhcp4d */
	char *wgd_socket;    /* NULL: <runtime-dir>/wgd.sock; "": no wgd */
	struct dnsd_rrl_config rrl;
	unsigned threads;
	double tcp_idle_timeout;
	unsigned tcp_max_connections;
	uint16_t child_port; /* port of child machines' dnsd (53; tests use others) */
};

void *dnsd_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
void dnsd_config_free(void *cfg);
/* "192.0.2.1", "192.0.2.1:5353", "::1", "[::1]:5353" → address (port default_port). */
bool dnsd_parse_hostport(const char *s, uint16_t default_port, struct dnsd_listen *out);
/* "10.0.0.0/8", "::1/128", "192.0.2.7" (a host) → network. */
bool dnsd_parse_net(const char *s, struct dnsd_net *out);
bool dnsd_net_contains(const struct dnsd_net *nets, size_t n, const struct sockaddr *sa);
