/* Batched datagram reads (dgram_batch.h). */
#include "dgram_batch.h"
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"

size_t arbor_dgram_read(int fd, size_t buf_size, arbor_dgram_fn *packet, arbor_dgram_batch_fn *batch_done, void *ctx)
{
	/* One set of buffers for the process: the loop is single-threaded, and a
	 * callback never reads the socket again. Grown to the largest size asked. */
	static uint8_t *bufs;
	static size_t bufs_size;
	static struct sockaddr_storage from[ARBOR_DGRAM_BATCH];
	if (buf_size > bufs_size) {
		bufs = xrealloc(bufs, ARBOR_DGRAM_BATCH * buf_size);
		bufs_size = buf_size;
	}
	struct mmsghdr msgs[ARBOR_DGRAM_BATCH];
	struct iovec iov[ARBOR_DGRAM_BATCH];
	size_t total = 0;
	for (int round = 0; round < ARBOR_DGRAM_ROUNDS; round++) {
		memset(msgs, 0, sizeof msgs);
		for (int i = 0; i < ARBOR_DGRAM_BATCH; i++) {
			iov[i].iov_base = bufs + (size_t)i * buf_size;
			iov[i].iov_len = buf_size;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		int n = recvmmsg(fd, msgs, ARBOR_DGRAM_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			packet(ctx, iov[i].iov_base, msgs[i].msg_len, (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0,
			       &from[i]);
		total += (size_t)n;
		if (batch_done)
			batch_done(ctx);
		if (n < ARBOR_DGRAM_BATCH)
			break;
	}
	return total;
}

void arbor_socket_set_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}
