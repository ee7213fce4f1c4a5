/* libFuzzer harness for the config loader: comment stripping, JSON parsing, the
 * machine and control sections, and a daemon section walked with every typed
 * getter. Any input must yield a config or error text, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xalloc.h"

static void walk(struct arbor_cfg_walk *w, const cJSON *node, int depth)
{
	if (depth > 8 || !cJSON_IsObject(node))
		return;
	static const char *const keys[] = { "name", "interval", "count", "enabled", "ratio", "items", "child", NULL };
	arbor_cfg_object(w, node, keys);
	char *s = NULL;
	double d;
	unsigned long long u;
	bool b;
	arbor_cfg_string(w, node, "name", "x", &s);
	free(s);
	arbor_cfg_duration(w, node, "interval", 1, 3600, &d);
	arbor_cfg_uint(w, node, "count", 1, 0, 1000, &u);
	arbor_cfg_bool(w, node, "enabled", false, &b);
	arbor_cfg_number(w, node, "ratio", 0.5, 0, 1, &d);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(node, "items");
	size_t saved = arbor_cfg_enter(w, "items");
	size_t i = 0;
	for (const cJSON *it = cJSON_IsArray(items) ? items->child : NULL; it; it = it->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		walk(w, it, depth + 1);
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
	saved = arbor_cfg_enter(w, "child");
	walk(w, cJSON_GetObjectItemCaseSensitive(node, "child"), depth + 1);
	arbor_cfg_leave(w, saved);
}

static void *parse_section(struct arbor_cfg_walk *w, const cJSON *sec)
{
	walk(w, sec, 0);
	return xstrdup("parsed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errors = NULL;
	struct arbor_config *c =
		arbor_config_load_text("fuzz.json", (const char *)data, size, "fixture", parse_section, free, &errors);
	arbor_config_free(c);
	free(errors);
	return 0;
}
