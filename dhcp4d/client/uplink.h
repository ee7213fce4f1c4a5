/* One DHCP client at work on an uplink: its socket, its timer, the kernel state it
 * applies through netlink, its lease file and its events. The decisions are the
 * pure state machine's (client.h); this is where they touch the world. */
#pragma once
#include <cjson/cJSON.h>
#include <stdbool.h>

#include "client_config.h"
#include "daemon.h"
#include "netlink.h"

struct uplink;

/* Opens the client on spec->interface: sets the link up, reads the lease file
 * (undoing what a lease that ran out while we were down had applied), binds the
 * socket and starts (INIT-REBOOT with a still-valid lease, else INIT). NULL with a
 * reason in err. */
struct uplink *uplink_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct client_spec *spec,
			   const char *hostname, char *err, size_t errlen);
/* uplink_open in steps, for a reload that must fail before it changes
 * anything: prepare finds the interface and the client's identity (so a reload
 * can compare it with the running one) and touches nothing; bind opens its
 * socket; begin starts it (sets the link up, reads the lease file, first
 * packet). Only begin cannot fail. An uplink that is not begun goes with
 * uplink_close. */
struct uplink *uplink_prepare(struct arbor_daemon *d, struct arbor_nl *nl, const struct client_spec *spec,
			      const char *hostname, char *err, size_t errlen);
int uplink_bind(struct uplink *u, char *err, size_t errlen);
void uplink_begin(struct uplink *u);
/* Whether two uplinks are the same client to a server: the same interface
 * (ifindex), MAC, client id, hostname and vendor class. */
bool uplink_same_client(const struct uplink *a, const struct uplink *b);
/* Takes a reloaded spec of the same client: the settings that only change
 * what it applies (route metric, routes, MTU, release on stop). A lease it
 * holds is applied again at once when they change, without a packet. */
void uplink_reconfigure(struct uplink *u, const struct client_spec *spec);
/* Stops the client. With release (a graceful stop and release_on_stop) the lease is
 * given back and everything it applied removed; otherwise the lease file stays and
 * the address stays in the kernel with its lifetime, for INIT-REBOOT on restart. */
void uplink_close(struct uplink *u, bool release);

const char *uplink_ifname(const struct uplink *u);
int uplink_ifindex(const struct uplink *u);
/* A netlink link notification for this interface (carrier changes). */
void uplink_link_changed(struct uplink *u, bool exists, bool carrier);
/* "renew", "rebind" or "release". Returns 0 or a negative errno, with a message. */
int uplink_command(struct uplink *u, const char *command, char *msg, size_t msglen);
/* Appends this client's status object to arr. */
void uplink_status(const struct uplink *u, cJSON *arr);
/* Prometheus lines. */
void uplink_metrics(const struct uplink *u, struct arbor_buf *out);
