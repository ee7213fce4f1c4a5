/* libFuzzer harness for wgd's file loaders, the peer registry (peers.json)
 * and the counters (counters.json): any text is
 * refused with a message or loaded; a loaded registry written out loads again
 * to the same peers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters_file.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct wgd_registry r = { 0 };
	char err[256];
	if (wgd_registry_from_json(&r, doc, err, sizeof err) == 0) {
		/* Through text, as the file is written and read (numbers are raw JSON). */
		cJSON *out = wgd_registry_to_json(&r);
		char *text = cJSON_PrintUnformatted(out);
		cJSON_Delete(out);
		cJSON *again = cJSON_Parse(text);
		cJSON_free(text);
		struct wgd_registry back = { 0 };
		if (wgd_registry_from_json(&back, again, err, sizeof err) != 0 || back.n != r.n)
			abort();
		struct wg_device dev = { 0 };
		for (size_t i = 0; i < r.nifaces; i++)
			wgd_registry_desired(&r, r.ifaces[i].name, 1800000000, &dev);
		wg_device_free(&dev);
		wgd_registry_free(&back);
		cJSON_Delete(again);
	}
	wgd_registry_free(&r);
	/* The same input as counters.json, the other file wgd loads. */
	struct counters_entry *v = NULL;
	size_t n = 0;
	if (counters_from_json(doc, &v, &n, err, sizeof err) == 0) {
		cJSON *again = counters_to_json(v, n);
		cJSON_Delete(again);
	}
	free(v);
	cJSON_Delete(doc);
	return 0;
}
