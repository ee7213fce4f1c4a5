/* Reading a datagram socket the way a server under load wants it: recvmmsg in
 * batches, a few batches per wake-up (bounded, so the other sockets of the loop
 * get their turn), a callback per datagram and one after each batch (where a
 * server sends what the batch produced). dhcp4d's and dhcp6pd's servers read
 * their sockets with it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum { ARBOR_DGRAM_BATCH = 64, ARBOR_DGRAM_ROUNDS = 4 };

/* One datagram: its bytes (len of them; truncated when it did not fit the
 * buffer, and then not worth parsing) and its sender. */
typedef void arbor_dgram_fn(void *ctx, const uint8_t *data, size_t len, bool truncated,
			    const struct sockaddr_storage *from);
typedef void arbor_dgram_batch_fn(void *ctx);

/* Reads up to ARBOR_DGRAM_ROUNDS batches of up to ARBOR_DGRAM_BATCH datagrams
 * from the non-blocking fd, each into a buffer of buf_size bytes, until the
 * socket is empty. batch_done (may be NULL) runs after each batch. Returns the
 * number of datagrams read. */
size_t arbor_dgram_read(int fd, size_t buf_size, arbor_dgram_fn *packet, arbor_dgram_batch_fn *batch_done, void *ctx);

/* Asks for a receive queue of bytes: SO_RCVBUFFORCE passes net.core.rmem_max
 * for a daemon with CAP_NET_ADMIN, else SO_RCVBUF (capped by the kernel). */
void arbor_socket_set_rcvbuf(int fd, int bytes);
