/* A non-blocking HTTP/1.1 client on the daemon's libevent loop: healthd's http
 * checks against TCP servers, its `daemon` checks of another arbor daemon's
 * GET /v1/healthz, and its actions that POST /v1/commands/<name>, thousands in
 * flight on one loop. One request per connection (Connection: close); the
 * answer is parsed by http_response.h. client.h (libcurl, blocking) stays the
 * tool of arborctl.
 *
 * The callback contract: done is called exactly once per fetch, from the loop,
 * never from inside arbor_fetch_start (so a fetch may be started from any
 * callback, done included), unless the fetch is cancelled first. Everything
 * the fetch owns is freed when done returns. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;

/* Bodies larger than this are refused when the request sets no max_body. */
#define ARBOR_FETCH_DEFAULT_MAX_BODY (1024 * 1024)

struct arbor_fetch_request {
	/* Where: a Unix socket path, or else an IPv4/IPv6 address already resolved
	 * (name resolution is the caller's job). */
	const char *unix_path;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	/* TCP only: send from this interface (SO_BINDTODEVICE, needs CAP_NET_RAW). */
	const char *interface;

	const char *method; /* NULL: "GET"; an answer to "HEAD" has no body */
	const char *path;   /* with the query; NULL: "/"; must be percent-encoded already */
	const char *host;   /* Host header; NULL: "localhost" for Unix sockets, the address for TCP */
	const char *body;   /* NULL: none (POST/PUT/PATCH still send Content-Length: 0) */
	size_t body_len;
	const char *content_type;   /* NULL: no Content-Type header */
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */

	double timeout_s; /* covers connect, send and receive; 0: none */
	size_t max_body;  /* largest answer body accepted; 0: ARBOR_FETCH_DEFAULT_MAX_BODY */
};

/* Why a fetch failed, for callers that react differently (a health check counts
 * LOCAL failures as its own problem, not the target's). */
enum arbor_fetch_failure {
	ARBOR_FETCH_OK,	     /* a complete answer arrived, whatever its status */
	ARBOR_FETCH_LOCAL,   /* on our side: an unusable request, no socket to be had */
	ARBOR_FETCH_CONNECT, /* refused, no such socket, unreachable, no such interface */
	ARBOR_FETCH_TIMEOUT,
	ARBOR_FETCH_IO,	       /* reset, or closed before the answer was complete */
	ARBOR_FETCH_MALFORMED, /* the answer is not valid HTTP/1.x */
	ARBOR_FETCH_TOO_LARGE, /* the answer body is over max_body */
};

struct arbor_fetch_result {
	bool ok; /* failure == ARBOR_FETCH_OK */
	enum arbor_fetch_failure failure;
	int status;	  /* HTTP status when ok, else 0 */
	const char *body; /* when ok, NUL-terminated (may hold NULs), else ""; valid during done only */
	size_t body_len;
	double latency_s; /* monotonic, from arbor_fetch_start to the complete answer (or the failure) */
	/* When not ok, what happened, in an operator's words: "connection refused by
	 * 127.0.0.1:80", "timed out after 0.50 s while connecting", "no such socket:
	 * /run/arbor/dhcp4d.sock", "malformed response: ...", "answer body larger
	 * than 65536 bytes". "" when ok. */
	const char *error;
};

typedef void (*arbor_fetch_done_fn)(void *ctx, const struct arbor_fetch_result *res);

struct arbor_fetch;

/* Starts a fetch; req is copied, so it may go away when this returns. Never
 * returns NULL (a bad request is reported through done, as ARBOR_FETCH_LOCAL). */
struct arbor_fetch *arbor_fetch_start(struct event_base *base, const struct arbor_fetch_request *req,
				      arbor_fetch_done_fn done, void *ctx);

/* Stops a fetch that has not completed and frees it; done is not called. NULL is
 * fine. Not for a fetch whose done has been called: that one is gone already. */
void arbor_fetch_cancel(struct arbor_fetch *f);
