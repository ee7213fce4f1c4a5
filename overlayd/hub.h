/* The hub: its key, the registry and its store, the network listener with the
 * signed join/heartbeat API, spoke liveness, and the operator's commands
 * (enroll, forget) and view (GET /v1/spokes). The kernel side is the caller's:
 * the hub says when the registry changed (changed callback) and contributes
 * its part of the desired state (hub_desired). */
#pragma once
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "daemon.h"
#include "desired.h"
#include "netlink.h"
#include "overlayd_config.h"

struct hub;

/* Starts the hub role: key (created on first start), registry loaded, the
 * listener up. changed(ctx) runs whenever the registry changes. NULL on error
 * with err set; nothing is left open. */
struct hub *hub_start(struct arbor_daemon *d, const struct overlayd_config *cfg, struct arbor_nl *nl,
		      void (*changed)(void *ctx), void *ctx, char *err, size_t errlen);
/* A reload: parameters that can change at run time; non-zero refuses it
 * (listen address, backend), the hub unchanged. */
int hub_reload(struct hub *h, const struct overlayd_config *next, char *err, size_t errlen);
void hub_stop(struct hub *h);

void hub_desired(struct hub *h, struct ovl_desired_set *s, const struct ovl_kernel *k);
const char *hub_device_prefix(const struct hub *h);
const struct ovl_registry *hub_registry(const struct hub *h);

void hub_status(struct hub *h, cJSON *out);
void hub_metrics(struct hub *h, struct arbor_buf *out);
/* Adds reasons; returns the worst health it sees. */
enum arbor_health hub_health(struct hub *h, cJSON *reasons);

void hub_command_enroll(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp);
void hub_command_forget(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp);
void hub_view_spokes(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp);
