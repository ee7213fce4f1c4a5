/* DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message behind a
 * two-byte length. One reader for the server (tcp_serving.c) and the resolver's
 * TCP retries (resolver.c), over libevent's buffers; no sockets. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* The longest query the server reads: a length prefix above it closes the
 * connection (no query we answer is longer). */
#define DNSD_TCP_QUERY_MAX 16384

/* Called for each whole message; returns false to stop taking (the buffer may be
 * gone then: the connection was closed). */
typedef bool dns_tcp_frame_fn(void *ctx, const uint8_t *msg, size_t len);

/* Takes the whole messages off the front of in, in order, calling each for every
 * one, and stops at an incomplete one (left in in) or when each says so. scratch
 * holds max bytes. Returns the number of messages taken, or -EBADMSG when the next
 * length is outside [min, max] (then the stream cannot be read on). */
int dns_tcp_frame_take(struct evbuffer *in, size_t min, size_t max, uint8_t *scratch, dns_tcp_frame_fn *each,
		       void *ctx);

/* Appends msg (at most 65535 bytes) with its length to out. Returns 0 or -1. */
int dns_tcp_frame_put(struct evbuffer *out, const uint8_t *msg, size_t len);
