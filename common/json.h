/* JSON helpers over cJSON. cJSON prints every number through "%1.15g" and reads
 * it back with sscanf to check the round trip; on hot paths (status, events)
 * that was the largest user-space cost, so integers and fixed-point values are
 * formatted here and added as raw JSON. */
#pragma once
#include <cjson/cJSON.h>

void arbor_json_add_int(cJSON *obj, const char *key, long long value);
/* value with exactly `decimals` digits after the point (0..6). */
void arbor_json_add_fixed(cJSON *obj, const char *key, double value, int decimals);

/* A JSON number that is a whole number from 0 to 2^53 (exact in a double):
 * true and *out set, else false. Counters and sequence numbers read back from
 * files go through this, so a damaged file cannot make a float-to-int cast
 * overflow. */
#include <stdbool.h>
#include <stdint.h>
bool arbor_json_get_u53(const cJSON *v, uint64_t *out);

/* For strict readers of our own formats: obj must be an object whose members
 * are all named in names[0..n) (each at most once); found[i] is the member
 * named names[i] or NULL. false with a message naming `where` otherwise. */
#include <stddef.h>
bool arbor_json_members(const cJSON *obj, const char *const names[], const cJSON *found[], size_t n,
			const char *where, char *err, size_t errlen);

/* Writers for answers built as text (a hot view, a journal record): a JSON
 * string with what JSON requires escaped, nothing more. */
#include "buf.h"
void arbor_json_put_string(struct arbor_buf *out, const char *s);
