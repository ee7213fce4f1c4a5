/* libFuzzer harness for the peers API's request bodies (POST and PATCH) and
 * the wgd config section: refused with a message or parsed, never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "peer_request.h"
#include "wgd_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_create_req c;
	struct peer_patch_req p;
	char err[256];
	peer_request_parse_create((const char *)data, size, &c, err, sizeof err);
	peer_request_parse_patch((const char *)data, size, &p, err, sizeof err);
	char *errors = NULL;
	struct arbor_config *cfg = arbor_config_load_text("fuzz.json", (const char *)data, size, "wgd", wgd_config_parse,
							  wgd_config_free, &errors);
	free(errors);
	arbor_config_free(cfg);
	return 0;
}
