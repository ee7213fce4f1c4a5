/* The healthd section of the config: checks[] and their actions, validated
 * fully (every error names the key path) before anything runs. */
#pragma once
#include <cjson/cJSON.h>

#include "check.h"
#include "config.h"

void *healthd_config_parse(struct arbor_cfg_walk *w, const cJSON *section);
void healthd_config_free(void *cfg);

/* Splits "host:port", "[v6]:port" or "host" (then *port = default_port).
 * Returns 0 or -EINVAL. */
int split_host_port(const char *text, char **host, uint16_t *port, uint16_t default_port);
