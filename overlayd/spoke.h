/* The spoke role: its key, the hub it pinned, its assignment; joining with the
 * enrollment token, then heartbeats, all signed, over HTTP on the daemon's loop
 * (common/http_fetch.c). The assignment is kept in the state directory as the
 * hub signed it, so a restarted spoke sets its data plane up at once, even
 * while the hub is away, and never renumbers. */
#pragma once
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "daemon.h"
#include "desired.h"
#include "netlink.h"
#include "overlayd_config.h"

struct spoke;

struct spoke *spoke_start(struct arbor_daemon *d, const struct overlayd_config *cfg, void (*changed)(void *ctx),
			  void *ctx, char *err, size_t errlen);
int spoke_reload(struct spoke *s, const struct overlayd_config *next, char *err, size_t errlen);
void spoke_stop(struct spoke *s);
/* Joins again now (renew). */
void spoke_rejoin(struct spoke *s);

/* The spoke's part of the desired state (nothing before its first assignment). */
void spoke_desired(struct spoke *s, struct ovl_desired_set *set, const struct ovl_kernel *k);
/* Direct forwarding: the FDB and neighbour entries of the peers on the direct
 * device, brought in line with the assignment (after the reconcile made the
 * device). Returns the netlink writes made. */
size_t spoke_sync_peers(struct spoke *s, struct arbor_nl *nl);

void spoke_status(struct spoke *s, cJSON *out);
void spoke_metrics(struct spoke *s, struct arbor_buf *out);
enum arbor_health spoke_health(struct spoke *s, cJSON *reasons);
