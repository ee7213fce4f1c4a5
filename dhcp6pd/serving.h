/* The delegating servers at work: one pd_server per servers[] interface, their
 * bindings in one journal (delegations.json) made durable by libarbor's group
 * commit before any REPLY that announces them, the routes to delegated prefixes
 * (via the requesting router's link-local address, or the relay), and the
 * delegation.* events that follow each commit. Answers that announce nothing
 * (ADVERTISE, NoBinding, NoPrefixAvail) go out with each batch read. */
#pragma once
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "daemon.h"
#include "dhcp6_sockets.h"
#include "dhcp6pd_config.h"
#include "info_reply.h"
#include "netlink.h"
#include "pd_server.h"

struct serving;

/* Opens every configured server and replays the journal; delegations that are in
 * no pool now end, the routes of the others are put back. from_delegation pools
 * start empty: serving_set_delegation fills them. NULL with a reason in err. */
struct serving *serving_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct dhcp6pd_config *cfg,
			     const uint8_t *duid, size_t duid_len, char *err, size_t errlen);
/* Commits what is pending and closes (a fresh snapshot is written). */
void serving_close(struct serving *s);
/* A reload: the same interfaces with new settings (bindings carry over). */
int serving_reconfigure(struct serving *s, const struct dhcp6pd_config *cfg, char *err, size_t errlen);
/* The sockets answers go out on (port 547, dhcp6_sockets.h). */
void serving_set_socks(struct serving *s, struct d6socks *socks);
/* Whether ifindex has a server. */
bool serving_has(const struct serving *s, int ifindex);
/* A message for the server on ifindex; chain[0..depth): its relays. info: the
 * DNS and search list to answer with (NULL: none). */
void serving_handle(struct serving *s, int ifindex, const struct sockaddr_in6 *from, const struct dhcp6_relay *chain,
		    size_t depth, const struct dhcp6_message *m, const struct info_content *info);
/* End of a batch read: immediate answers go out, the batch's records commit. */
void serving_batch_done(struct serving *s);
/* What an uplink holds now (p NULL: nothing), for the from_delegation pools. */
void serving_set_delegation(struct serving *s, const char *client, const struct arbor_prefix6 *p, double preferred_until,
			    double valid_until);
/* Once the uplinks' delegations are set: bound delegations in no pool now (the
 * config, or the upstream prefix, changed while we were down) end. */
void serving_end_strays(struct serving *s);
/* The machine's LAN /64s: never delegated. */
void serving_set_excluded(struct serving *s, const struct arbor_prefix6 *ex, size_t n);

cJSON *serving_status(const struct serving *s);
enum arbor_health serving_health(const struct serving *s, cJSON *reasons);
void serving_metrics(const struct serving *s, struct arbor_buf *out);
/* GET /v1/delegations: {"delegations": [...]}, filtered by the query
 * (interface, state, duid, prefix). NULL with a message when the query is bad. */
cJSON *serving_delegations(const struct serving *s, const struct arbor_query *q, char *err, size_t errlen);
