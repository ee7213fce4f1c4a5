/* libFuzzer harness for dnsd's config and zone loading: any config text is either
 * refused with messages or parsed, and a parsed one is turned into zones and
 * records exactly as dnsd starts (sources_config into a zone database). Neither
 * step may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dnsd_config.h"
#include "sources.h"
#include "zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errors = NULL;
	struct arbor_config *cfg = arbor_config_load_text("fuzz.json", (const char *)data, size, "dnsd",
							  dnsd_config_parse, dnsd_config_free, &errors);
	free(errors);
	if (cfg == NULL)
		return 0;
	const struct dnsd_config *dc = cfg->daemon;
	char zone[300];
	snprintf(zone, sizeof zone, "%s.", dc->zone ? dc->zone : "home.arpa");
	struct zone_db *db = zone_db_new();
	struct zone_soa soa = { .refresh = 1, .retry = 1, .expire = 1, .minimum = 1, .ttl = 1 };
	const char *ns[] = { "ns" };
	char err[256];
	if (db && zone_db_add_zone(db, zone, &soa, ns, 1, 1800000000, err, sizeof err) >= 0) {
		struct dnsd_world w = { .cfg = dc, .zone = zone, .machine_id = "0123456789abcdef0123456789abcdef" };
		struct record_list list = { 0 };
		if (sources_config(&w, &list, err, sizeof err) == 0)
			zone_db_replace_source(db, ZONE_SOURCE_CONFIG, list.r, list.n, 1800000001, NULL, err, sizeof err);
		record_list_free(&list);
	}
	zone_db_free(db);
	arbor_config_free(cfg);
	return 0;
}
