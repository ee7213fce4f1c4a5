/* What arbor-dhcp4d shows through the contract: its part of /v1/status, its
 * health, its metrics, and the /v1/leases view. Read-only over struct dhcp4d. */
#pragma once
#include <cjson/cJSON.h>

#include "daemon.h"

void dhcp4d_status(struct arbor_daemon *d, cJSON *status);
enum arbor_health dhcp4d_health(struct arbor_daemon *d, cJSON *reasons);
void dhcp4d_metrics(struct arbor_daemon *d, struct arbor_buf *out);
/* GET /v1/leases?interface=&state=&mac=&address=&hostname= */
void dhcp4d_view_leases(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp);
