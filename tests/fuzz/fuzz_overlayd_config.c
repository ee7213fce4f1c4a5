/* libFuzzer harness for overlayd's config section: any text is refused with
 * messages or parsed; a parsed one is turned into the kernel state it asks
 * for (a spoke's assignment-free shims, the hub's firewall text for an empty
 * registry), as overlayd does at start. Nothing may crash, leak or read out of
 * bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "desired.h"
#include "firewall.h"
#include "overlayd_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errors = NULL;
	struct arbor_config *cfg = arbor_config_load_text("fuzz.json", (const char *)data, size, "overlayd",
							  overlayd_config_parse, overlayd_config_free, &errors);
	free(errors);
	if (cfg == NULL)
		return 0;
	const struct overlayd_config *c = cfg->daemon;
	struct ovl_desired_set want = { 0 };
	ovl_desired_shims(&want, c->shims, c->nshims);
	if (c->is_hub) {
		struct ovl_registry_params p = { .network = c->hub.network, .subnet_length = c->hub.subnet_length,
						 .vni_base = c->hub.vni_base, .hub_address = c->hub.address };
		struct ovl_registry *r = ovl_registry_new(&p);
		struct arbor_buf text = { 0 };
		char tag[OVL_FIREWALL_TAG_MAX];
		ovl_firewall_ruleset(&text, tag, &c->hub, r);
		ovl_desired_hub(&want, r, &c->hub, NULL, NULL, 0, NULL);
		arbor_buf_free(&text);
		ovl_registry_free(r);
	}
	ovl_desired_free(&want);
	arbor_config_free(cfg);
	return 0;
}
