/* One PD client at work on an uplink: its UDP socket (port 546), its timer, the
 * kernel state it applies (an unreachable route per delegated prefix, RFC 7084
 * WPD-5; IA_NA addresses; accept_ra=2 so the uplink keeps its default route while
 * the machine forwards), its lease file. The decisions are pd_client.c's; what a
 * delegation means for the LANs and the server is the owner's (the changed hook),
 * which also emits the prefix.* events once everything is on disk. */
#pragma once
#include <cjson/cJSON.h>
#include <stdbool.h>

#include "daemon.h"
#include "dhcp6pd_config.h"
#include "netlink.h"
#include "pd_client.h"

struct uplink;

/* Called after a delegation change is applied and the lease file written. */
typedef void uplink_changed_fn(void *ctx, struct uplink *u, enum pd_event ev, const struct pd_lease *lease,
			       const struct pd_lease *old, const char *reason);

/* Opens the client on spec->interface: sets accept_ra, reads the lease file (undoing
 * what a delegation that ran out while we were down had applied), binds the socket
 * and starts (a saved delegation is restored and renewed). NULL with a reason. */
struct uplink *uplink_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct client6_spec *spec,
			   const uint8_t *duid, uint16_t duid_len, uplink_changed_fn *changed, void *ctx, char *err,
			   size_t errlen);
/* Stops the client. With release (a graceful stop and release_on_stop) the
 * delegation is given back and removed; otherwise it stays applied and on file for
 * the restart. */
void uplink_close(struct uplink *u, bool release);

const char *uplink_ifname(const struct uplink *u);
int uplink_ifindex(const struct uplink *u);
/* The delegation held (lease->valid false when none). */
const struct pd_lease *uplink_lease(const struct uplink *u);
void uplink_update_spec(struct uplink *u, const struct client6_spec *spec);
void uplink_link_changed(struct uplink *u, bool exists, bool carrier);
/* "renew", "rebind" or "release": 0 or a negative errno, with a message. */
int uplink_command(struct uplink *u, const char *command, char *msg, size_t msglen);
void uplink_status(const struct uplink *u, cJSON *arr);
void uplink_metrics(const struct uplink *u, struct arbor_buf *out);
