/* DNS over TCP framing (tcp_frame.h). */
#include "tcp_frame.h"

#include <errno.h>

#include <event2/buffer.h>

int dns_tcp_frame_take(struct evbuffer *in, size_t min, size_t max, uint8_t *scratch, dns_tcp_frame_fn *each,
		       void *ctx)
{
	int taken = 0;
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		uint8_t prefix[2];
		if (avail < 2 || evbuffer_copyout(in, prefix, 2) != 2)
			return taken;
		size_t len = (size_t)prefix[0] << 8 | prefix[1];
		if (len < min || len > max)
			return -EBADMSG;
		if (avail < 2 + len)
			return taken;
		evbuffer_drain(in, 2);
		if (evbuffer_remove(in, scratch, len) != (int)len)
			return -EBADMSG; /* cannot happen: the bytes were counted */
		taken++;
		if (!each(ctx, scratch, len))
			return taken;
	}
}

int dns_tcp_frame_put(struct evbuffer *out, const uint8_t *msg, size_t len)
{
	if (len > 0xffff)
		return -1;
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	return evbuffer_add(out, prefix, 2) == 0 && evbuffer_add(out, msg, len) == 0 ? 0 : -1;
}
