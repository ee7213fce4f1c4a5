/* The contract client: blocking HTTP over a daemon's Unix socket (libcurl).
 * Linked only by arborctl; a daemon that talks to another daemon's socket
 * (healthd's daemon checks and actions) uses http_fetch.h, which runs on its
 * own event loop and never blocks it. */
#pragma once
#include <stddef.h>

struct arbor_client_response {
	long status;
	char *body;
	size_t len;
};

/* Error codes beyond -errno from connecting. */
enum { ARBOR_CLIENT_NO_SOCKET = -1000, ARBOR_CLIENT_DENIED, ARBOR_CLIENT_REFUSED, ARBOR_CLIENT_FAILED };

/* Sends one request; body may be NULL (POST with no body). Returns 0 with an
 * HTTP answer (any status), or an ARBOR_CLIENT_* code with err set. */
int arbor_client_request(const char *socket_path, const char *method, const char *path, const char *body,
			 double timeout_s, struct arbor_client_response *out, char *err, size_t errlen);
/* GETs path and calls line() for each line of a streamed answer until it
 * returns non-zero or the stream ends. */
int arbor_client_stream(const char *socket_path, const char *path, int (*line)(void *ctx, const char *text, size_t len),
			void *ctx, char *err, size_t errlen);
void arbor_client_response_free(struct arbor_client_response *r);
