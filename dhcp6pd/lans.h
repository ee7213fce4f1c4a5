/* The LANs at work: their subnet ids (persisted, common/subnet_ids.c), the router
 * addresses on their interfaces, router advertisements (periodic, solicited, and
 * at once when what they say changes) on one raw ICMPv6 socket, and the advertised
 * list on disk (advertised.h). What each LAN is told is lan_plan.c's decision. */
#pragma once
#include <cjson/cJSON.h>
#include <stdbool.h>

#include "daemon.h"
#include "dhcp6pd_config.h"
#include "lan_plan.h"
#include "netlink.h"

struct lans;

/* Opens every configured LAN: numbers it, reads the advertised list, opens the
 * ICMPv6 socket, and sends the first RA (withdrawing what a restart left behind).
 * machine_id may be NULL (no ULA, no router address: RAs with delegated prefixes
 * only). NULL with a reason in err. */
struct lans *lans_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct dhcp6pd_config *cfg,
		       const char *machine_id, const char *domain, const struct lan_delegation *deleg, size_t ndeleg,
		       bool default_route, char *err, size_t errlen);
void lans_close(struct lans *l);
/* Takes a reloaded config's LAN settings (the set of LANs must be the same). */
int lans_reconfigure(struct lans *l, const struct dhcp6pd_config *cfg, char *err, size_t errlen);

/* New delegations or default route: every LAN is planned again; one whose
 * prefixes, router lifetime or lifetimes changed gets an RA at once. */
void lans_update(struct lans *l, const struct lan_delegation *deleg, size_t ndeleg, bool default_route);
/* The LAN on ifindex and its current plan (NULL when it is no LAN). */
const struct lan_result *lans_plan_of(const struct lans *l, int ifindex);
/* Every /64 the LANs number now (servers keep their pools clear of them). */
size_t lans_numbered(const struct lans *l, struct arbor_prefix6 *out, size_t max);
/* A link appeared, went or changed carrier. */
void lans_link_changed(struct lans *l, int ifindex, bool exists, bool carrier);

/* The "lans" array of /v1/prefixes and /v1/status. */
cJSON *lans_json(const struct lans *l);
void lans_metrics(const struct lans *l, struct arbor_buf *out);
/* Interface names, for the port 547 sockets (stateless DHCPv6 is answered there). */
size_t lans_stateless_ifnames(const struct lans *l, const char **out, size_t max);
