/* healthd's state file (see state_file.h). */
#include "state_file.h"

#include <math.h>
#include <string.h>

#include "clock.h"
#include "json.h"

cJSON *healthd_state_encode(const struct check *checks, size_t n)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "checks");
	for (size_t i = 0; i < n; i++) {
		const struct check *c = &checks[i];
		if (c->state.health == CHECK_UNKNOWN)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", c->spec->name);
		cJSON_AddStringToObject(o, "definition", c->spec->definition);
		cJSON_AddStringToObject(o, "state", check_health_name(c->state.health));
		arbor_json_add_fixed(o, "since", c->state.since, 3);
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

size_t healthd_state_restore(const cJSON *doc, struct check *checks, size_t n)
{
	size_t restored = 0;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "checks");
	for (const cJSON *o = cJSON_IsArray(arr) ? arr->child : NULL; o; o = o->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
		const cJSON *def = cJSON_GetObjectItemCaseSensitive(o, "definition");
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(o, "state");
		const cJSON *since = cJSON_GetObjectItemCaseSensitive(o, "since");
		if (!cJSON_IsString(name) || !cJSON_IsString(def) || !cJSON_IsString(state) || !cJSON_IsNumber(since) ||
		    !(since->valuedouble >= 0 && since->valuedouble <= ARBOR_TIME_MAX))
			continue;
		enum check_health health;
		if (strcmp(state->valuestring, "failing") == 0)
			health = CHECK_FAILING;
		else if (strcmp(state->valuestring, "passing") == 0)
			health = CHECK_PASSING;
		else
			continue;
		for (size_t i = 0; i < n; i++) {
			struct check *c = &checks[i];
			if (strcmp(c->spec->name, name->valuestring) || strcmp(c->spec->definition, def->valuestring))
				continue;
			c->state.health = health;
			/* In milliseconds, as it is written: a restart then a write gives the
			 * same file (fuzz_healthd_state: 0.3425 read, 0.343 written). */
			c->state.since = (double)(int64_t)(since->valuedouble * 1000 + 0.5) / 1000; /* in range: checked */
			/* Hysteresis continues from the restored state, not from zero. */
			if (health == CHECK_FAILING)
				c->state.consecutive_failures = c->spec->fall;
			else
				c->state.consecutive_passes = c->spec->rise;
			restored++;
		}
	}
	return restored;
}
