/* libcurl's multi interface driven by a libevent loop: HTTP requests that
 * never block the daemon, including answers that stream for as long as the
 * connection lives (etcd's watch). overlayd's etcd client runs on it; other
 * HTTP from daemons (one complete answer per request) uses http_fetch.h.
 *
 * done is called exactly once per request, from the loop (never from inside
 * arbor_curl_post), unless the request is cancelled first. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct arbor_curl_loop;
struct arbor_curl_req;

struct arbor_curl_result {
	bool ok;          /* a complete answer arrived (whatever its status) */
	long status;      /* HTTP status when ok */
	const char *body; /* collected body (when no on_data), NUL-terminated; valid during done */
	size_t body_len;
	const char *error; /* when !ok: curl's words ("Couldn't connect to server", "Timeout was reached") */
};

/* Body bytes as they arrive (a stream); returning false aborts the request. */
typedef bool (*arbor_curl_data_fn)(void *ctx, const char *data, size_t len);
typedef void (*arbor_curl_done_fn)(void *ctx, const struct arbor_curl_result *res);

struct arbor_curl_loop *arbor_curl_loop_new(struct event_base *base);
/* Cancels what is in flight (their done is not called). */
void arbor_curl_loop_free(struct arbor_curl_loop *loop);

/* POSTs body (copied) as JSON to url. timeout_s covers the whole request (0:
 * none, for streams); connect_timeout_s the connection. on_data NULL: the body
 * is collected, at most max_body bytes (larger is a failure). */
struct arbor_curl_req *arbor_curl_post(struct arbor_curl_loop *loop, const char *url, const char *body, size_t len,
				       double timeout_s, double connect_timeout_s, size_t max_body,
				       arbor_curl_data_fn on_data, arbor_curl_done_fn done, void *ctx);
void arbor_curl_cancel(struct arbor_curl_req *req);
