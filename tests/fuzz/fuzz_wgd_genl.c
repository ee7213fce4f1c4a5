/* libFuzzer harness for wgd's generic netlink dump parser. The input is cut
 * into buffers (a 2-byte length before each) fed in order, as recvmsg would
 * deliver them; a parsed device is built back into SET messages and those
 * are parsed again to the same peers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "genl_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device d = { 0 };
	char err[256];
	int rc = 0;
	size_t off = 0;
	while (off + 2 <= size && rc == 0) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n > size - off)
			n = size - off;
		/* A copy, so a read past n is past the allocation (ASan sees it). */
		uint8_t *buf = malloc(n ? n : 1);
		memcpy(buf, data + off, n);
		rc = genl_parse_get(buf, n, 0x1d, &d, err, sizeof err);
		free(buf);
		off += n;
	}
	genl_parse_ack(data, size);
	if (rc >= 0 && d.npeers) {
		memcpy(d.name, "wg0", 4);
		struct genl_msgs m;
		if (genl_build_set(&d, 0x1d, 1, GENL_WG_MSG_MAX, &m) == 0) {
			struct wg_device back = { 0 };
			for (size_t i = 0; i < m.n; i++)
				if (genl_parse_get(m.msg[i], m.len[i], 0x1d, &back, err, sizeof err) < 0)
					abort();
			size_t total = 0, total_back = 0;
			for (size_t i = 0; i < d.npeers; i++)
				total += d.peers[i].nallowed_ips;
			for (size_t i = 0; i < back.npeers; i++)
				total_back += back.peers[i].nallowed_ips;
			if (total != total_back)
				abort();
			wg_device_free(&back);
			genl_msgs_free(&m);
		}
	}
	wg_device_free(&d);
	return 0;
}
