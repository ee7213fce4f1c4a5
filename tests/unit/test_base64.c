/* Base64: the RFC 4648 vectors both ways, and the strict decoder refusing
 * everything that is not the one canonical text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

int main(void)
{
	static const char *const vec[][2] = { { "", "" },	  { "f", "Zg==" },	    { "fo", "Zm8=" },
					      { "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
					      { "foobar", "Zm9vYmFy" } };
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		char out[32];
		uint8_t back[32];
		size_t n = strlen(vec[i][0]);
		arbor_base64_encode((const uint8_t *)vec[i][0], n, out);
		CHECK(strcmp(out, vec[i][1]) == 0, vec[i][1]);
		int m = arbor_base64_decode(vec[i][1], strlen(vec[i][1]), back, sizeof back);
		CHECK(m == (int)n && memcmp(back, vec[i][0], n) == 0, "decodes back");
	}
	uint8_t b[64];
	const char *bad[] = { "Zg=", "Zg", "Zh==", "Zm9=", "Z===", "=Zg=", "Zg==Zg==", "Zm 9", "Zm9v\n", "Zm-v", "Zm_v" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "refused: \"%s\"", bad[i]);
		CHECK(arbor_base64_decode(bad[i], strlen(bad[i]), b, sizeof b) == -EINVAL, what);
	}
	CHECK(arbor_base64_decode("Zm9vYmFy", 8, b, 5) == -ENOSPC, "a small buffer is -ENOSPC");
	/* All 256 byte values round trip. */
	uint8_t all[256], again[256];
	char text[ARBOR_BASE64_LEN(256) + 1];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	CHECK(arbor_base64_encode(all, 256, text) == ARBOR_BASE64_LEN(256), "length");
	CHECK(arbor_base64_decode(text, strlen(text), again, sizeof again) == 256 && memcmp(all, again, 256) == 0,
	      "256 byte values round trip");
	return tap_done();
}
