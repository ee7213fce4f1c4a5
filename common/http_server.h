/* The contract server: libmicrohttpd on a Unix socket, with no threads of its
 * own, driven by the daemon's libevent loop (MHD's epoll fd sits in the loop).
 * Deferred answers (long-polls) and streams (follow=1) suspend their connection
 * and are resumed by arbor_http_server_wake, so one slow client never blocks. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "http.h"

struct arbor_http_server;

struct arbor_http_limits {
	size_t max_body_bytes;
	unsigned int max_connections;
	unsigned int idle_timeout_s;
	/* long-polls and followers one uid may hold at once (0: no cap) */
	unsigned int max_streams_per_peer;
};

struct arbor_http_handlers {
	const struct arbor_route *routes;
	size_t nroutes;
	void *ctx;
	bool (*authorize)(void *ctx, const struct arbor_http_request *req, const struct arbor_route *route,
			  struct arbor_http_response *resp);
};

struct arbor_http_server *arbor_http_server_start(struct event_base *base, int listen_fd,
						  const struct arbor_http_limits *limits,
						  const struct arbor_http_handlers *handlers, char *err,
						  size_t errlen);
/* Something changed (an event): re-poll deferred answers, resume streams. */
void arbor_http_server_wake(struct arbor_http_server *srv);
void arbor_http_server_set_body_limit(struct arbor_http_server *srv, size_t max_body_bytes);
void arbor_http_server_set_stream_limit(struct arbor_http_server *srv, unsigned int max_streams_per_peer);
/* Ends streams and long-polls, closes every connection and the listening socket. */
void arbor_http_server_stop(struct arbor_http_server *srv);
/* Appends Prometheus lines for the server's counters (arbor_http_*, "on the contract socket"). */
void arbor_http_server_metrics(const struct arbor_http_server *srv, struct arbor_buf *out);
/* The same for another server of the daemon's (a network listener): names <prefix>_*,
 * help texts saying "on <where>". */
void arbor_http_server_metrics_as(const struct arbor_http_server *srv, struct arbor_buf *out, const char *prefix,
				  const char *where);
