/* libFuzzer harness for the RS/RA codec: arbitrary bytes parse as an RA and as an
 * RS or are refused with a reason. An RA that parses is built again and must parse
 * back to the same header and options (what the codec keeps). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "nd_wire.h"

static struct nd_ra ra, again;
static uint8_t out[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200] = "";
	bool has;
	uint8_t mac[6];
	int rc = nd_rs_parse(data, size, &has, mac, err, sizeof err);
	if (rc != 0 && (rc != -EBADMSG || err[0] == '\0'))
		violated("an RS refused with %d and no reason", rc);
	err[0] = '\0';
	rc = nd_ra_parse(data, size, &ra, err, sizeof err);
	if (rc != 0) {
		if (rc != -EBADMSG || err[0] == '\0')
			violated("an RA refused with %d and no reason", rc);
		return 0;
	}
	if (ra.nprefix > ND_PREFIXES_MAX || ra.nroute > ND_ROUTES_MAX || ra.nrdnss > ND_RDNSS_MAX || ra.ndnssl > ND_DNSSL_MAX)
		violated("a parsed RA beyond its bounds");
	/* Names that parse may still not build (an escaped dot, a label of 63
	 * escaped bytes grows past 255 as text): only then may the build refuse. */
	int n = nd_ra_build(&ra, out, sizeof out);
	if (n == -EINVAL && ra.ndnssl)
		return 0;
	if (n < 0)
		violated("a parsed RA does not rebuild (%d)", n);
	if (nd_ra_parse(out, (size_t)n, &again, err, sizeof err) != 0)
		violated("the rebuilt RA does not parse: %s", err);
	if (again.router_lifetime != ra.router_lifetime || again.managed != ra.managed || again.other != ra.other ||
	    again.nprefix != ra.nprefix || again.nroute != ra.nroute || again.nrdnss != ra.nrdnss ||
	    again.has_mtu != ra.has_mtu || again.mtu != ra.mtu || again.ndnssl != ra.ndnssl)
		violated("the rebuilt RA differs in its header or option counts");
	if (memcmp(again.prefix, ra.prefix, ra.nprefix * sizeof ra.prefix[0]) != 0)
		violated("the rebuilt RA has other prefixes");
	for (size_t i = 0; i < ra.nrdnss; i++)
		if (again.rdnss[i].n != ra.rdnss[i].n || again.rdnss[i].lifetime != ra.rdnss[i].lifetime)
			violated("the rebuilt RA has other RDNSS option %zu", i);
	return 0;
}
