/* blake3_tool: our BLAKE3 as a command, so tests/test_blake3_b3sum.py can
 * compare it with b3sum on arbitrary inputs. Reads stdin, prints the hex
 * output and a newline (like `b3sum --no-names`).
 *   blake3_tool [--derive-key CONTEXT] [--length N]
 * Exit codes: 0 ok, 1 read error, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blake3.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "derive-key", required_argument, NULL, 'd' },
		{ "length", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *context = NULL;
	size_t length = ARBOR_BLAKE3_OUT_LEN;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd': context = optarg; break;
		case 'l': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || v > (1u << 20)) {
				fprintf(stderr, "blake3_tool: --length takes a number of bytes up to 1048576\n");
				return 2;
			}
			length = (size_t)v;
			break;
		}
		default: return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: blake3_tool [--derive-key CONTEXT] [--length N] < input\n");
		return 2;
	}
	struct arbor_blake3 ctx;
	if (context)
		arbor_blake3_init_derive_key(&ctx, context);
	else
		arbor_blake3_init(&ctx);
	static unsigned char buf[65536];
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "blake3_tool: stdin: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		arbor_blake3_update(&ctx, buf, (size_t)n);
	}
	unsigned char *out = malloc(length ? length : 1);
	if (out == NULL) {
		fprintf(stderr, "blake3_tool: out of memory\n");
		return 1;
	}
	arbor_blake3_finalize(&ctx, out, length);
	for (size_t i = 0; i < length; i++)
		printf("%02x", out[i]);
	printf("\n");
	free(out);
	return 0;
}
