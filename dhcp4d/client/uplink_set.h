/* The DHCP clients of the machine's uplinks together: one client per
 * dhcp4d.clients[] entry (uplink.c), the netlink socket they share, the link
 * monitor that tells each of them about its carrier, and the client commands
 * of the contract (renew, rebind, release). */
#pragma once
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "client_config.h"
#include "daemon.h"

struct uplink_set;

/* Starts a client on every spec; all or nothing (NULL with a reason in err).
 * With n == 0 the set is empty and opens no netlink socket (a reload that adds
 * clients opens it). */
struct uplink_set *uplink_set_open(struct arbor_daemon *d, const struct client_spec *specs, size_t n, char *err,
				   size_t errlen);
/* A reload of clients[], transactional: prepare opens every client that is new
 * or changed (interface, MAC, client id, hostname or vendor class) and touches
 * nothing; NULL with a reason when one cannot be opened (the running set is as
 * it was). commit then stops the clients that went or changed (as a graceful
 * stop: RELEASE if release_on_stop, else the lease stays for INIT-REBOOT), starts
 * the new ones, and gives the unchanged ones their other settings (route
 * metric, routes, MTU: applied again without a packet). abort drops a plan. */
struct uplink_plan;
struct uplink_plan *uplink_set_prepare(struct uplink_set *set, struct arbor_daemon *d, const struct client_spec *specs,
				       size_t n, const char *hostname, char *err, size_t errlen);
void uplink_set_commit(struct uplink_set *set, struct arbor_daemon *d, struct uplink_plan *plan);
void uplink_set_abort(struct uplink_plan *plan);
/* Stops every client (with release: a graceful stop, see uplink_close) and
 * frees the set. NULL is fine. */
void uplink_set_close(struct uplink_set *set, bool release);

size_t uplink_set_count(const struct uplink_set *set);
/* Every client renews; returns how many could. */
size_t uplink_set_renew(struct uplink_set *set);
/* POST /v1/commands/{rebind,release} {"interface": "wan0"}: one client, or every
 * client when no interface is named. command is "rebind" or "release". */
void uplink_set_command(struct uplink_set *set, const struct arbor_http_request *req,
			struct arbor_http_response *resp, const char *command);
/* Appends each client's status object to arr. */
void uplink_set_status(const struct uplink_set *set, cJSON *arr);
/* The clients' Prometheus lines (nothing when there are none). */
void uplink_set_metrics(const struct uplink_set *set, struct arbor_buf *out);
