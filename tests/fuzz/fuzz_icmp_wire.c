/* libFuzzer harness for the ICMP echo parser: any bytes, every mode. */
#include <stdint.h>
#include <stdlib.h>

#include "icmp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icmp_echo e;
	for (int mode = 0; mode < 4; mode++) {
		int rc = icmp_echo_parse(data, size, mode & 1, mode & 2, &e);
		if (rc < -1 || rc > 1)
			abort();
	}
	return 0;
}
