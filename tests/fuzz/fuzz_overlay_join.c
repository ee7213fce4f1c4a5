/* libFuzzer harness for overlayd's wire: arbitrary bytes as a spoke's request
 * body, as a hub's answer body (both with and without a pinned key) and as an
 * enrollment token must parse or be refused, never crash or read past the
 * buffer. A request that parses is built again and must parse to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "join_wire.h"

static struct arbor_sign_key spoke;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32] = { 1 };
	arbor_sign_init();
	arbor_sign_key_from_seed(&spoke, seed);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct ovl_request r, again;
	if (ovl_request_parse((const char *)data, size, &r, err, sizeof err) == 0) {
		/* Signed by the key it names: rebuild with our key and reparse. */
		memcpy(r.key, spoke.public_key, sizeof r.key);
		struct arbor_buf b = { 0 };
		ovl_request_build(&r, &spoke, &b);
		if (ovl_request_parse(b.data, b.len, &again, err, sizeof err) != 0 || again.ts_ms != r.ts_ms ||
		    strcmp(again.hostname, r.hostname) != 0)
			abort();
		arbor_buf_free(&b);
	}
	struct ovl_answer a;
	uint8_t re[OVL_NONCE_BYTES] = { 0 }, fp[32] = { 0 };
	if (ovl_answer_parse((const char *)data, size, NULL, fp, re, &a, err, sizeof err) == 0)
		ovl_answer_free(&a);
	if (ovl_answer_parse((const char *)data, size, spoke.public_key, NULL, re, &a, err, sizeof err) == 0)
		ovl_answer_free(&a);
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct ovl_token t;
	ovl_token_parse(text, &t);
	uint8_t mac[6];
	ovl_mac_parse(text, mac);
	free(text);
	return 0;
}
