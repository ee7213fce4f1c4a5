/* libFuzzer harness for wgd's UAPI reply parser: any bytes are either refused
 * or parsed into a device whose set request builds; nothing crashes, leaks or
 * reads out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "uapi_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t n = uapi_reply_length(text, size);
	struct wg_device d = { 0 };
	int e = 0;
	char err[256];
	if (uapi_parse_get(text, n ? n : size, &d, &e, err, sizeof err) == 0) {
		struct arbor_buf out = { 0 };
		snprintf(d.name, sizeof d.name, "wg0");
		uapi_build_set(&d, &out);
		arbor_buf_free(&out);
	}
	wg_device_free(&d);
	uapi_parse_errno(text, size, &e);
	return 0;
}
