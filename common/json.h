/* JSON helpers over cJSON. cJSON prints every number through "%1.15g" and reads
 * it back with sscanf to check the round trip; on hot paths (status, events)
 * that was the largest user-space cost, so integers and fixed-point values are
 * formatted here and added as raw JSON. */
#pragma once
#include <cjson/cJSON.h>

void arbor_json_add_int(cJSON *obj, const char *key, long long value);
/* value with exactly `decimals` digits after the point (0..6). */
void arbor_json_add_fixed(cJSON *obj, const char *key, double value, int decimals);
