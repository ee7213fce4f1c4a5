/* libFuzzer harness for dhcp6pd's config section: any text is refused with
 * messages or parsed; a parsed config holds what the loader promises (a client,
 * LAN and server per interface, pools with a delegated length of 1..64, caps of
 * RFC 9096). Nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp6pd_config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arbor_config *cfg = load_section(data, size, "dhcp6pd", dhcp6pd_config_parse, dhcp6pd_config_free);
	if (cfg == NULL)
		return 0;
	const struct dhcp6pd_config *c = cfg->daemon;
	for (size_t i = 0; i < c->nlans; i++)
		if (c->lans[i].preferred_cap > 2700 || c->lans[i].valid_cap > 5400 ||
		    c->lans[i].preferred_cap > c->lans[i].valid_cap || c->lans[i].info_refresh < 600)
			violated("LAN %zu: caps %u/%u or information refresh %u outside RFC 9096's and 8415's", i,
				 (unsigned)c->lans[i].preferred_cap, (unsigned)c->lans[i].valid_cap,
				 (unsigned)c->lans[i].info_refresh);
	for (size_t i = 0; i < c->nservers; i++)
		for (size_t k = 0; k < c->servers[i].npools; k++) {
			const struct pool6_spec *p = &c->servers[i].pools[k];
			if (p->delegated_length < 1 || p->delegated_length > 64 || (p->from_delegation && p->client == NULL))
				violated("server %zu pool %zu: delegated length %u, or from_delegation without a client", i, k,
					 (unsigned)p->delegated_length);
		}
	arbor_config_free(cfg);
	return 0;
}
