/* dnsd's GET /v1/status keys, health and metrics (the contract's callbacks). */
#pragma once
#include <cjson/cJSON.h>

#include "daemon.h"

struct arbor_buf;

void dnsd_status(struct arbor_daemon *d, cJSON *status);
enum arbor_health dnsd_health(struct arbor_daemon *d, cJSON *reasons);
void dnsd_metrics(struct arbor_daemon *d, struct arbor_buf *out);
