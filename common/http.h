/* The request/answer model of the contract server, independent of libmicrohttpd:
 * routing and handlers are pure functions of a request, so the fuzzer and unit
 * tests drive them without sockets. The MHD glue lives in http_server.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct arbor_query_arg {
	char *key;
	char *value;
};

struct arbor_query {
	struct arbor_query_arg args[32];
	size_t n;
	bool overflow; /* more than 32 arguments: the request is refused */
};

/* Percent-decoding as the contract server does it: http_server.c hands it to
 * libmicrohttpd for the path and for each query key and value. "%XY" becomes
 * the byte, except "%00", which stays as the three characters: a NUL would
 * silently cut the string short, so the path check refuses the literal '%'
 * and a query value keeps it visible. A '%' without two hex digits after it
 * stays too. In place; returns the new length. */
size_t arbor_url_unescape(char *s);
/* Splits a raw query string ("a=1&b=x%20y") into arguments the way
 * libmicrohttpd does before the server sees them ('&' between arguments, the
 * first '=' between key and value, '+' for a space, then arbor_url_unescape),
 * so the fuzzer and the unit tests see what the server sees. The raw string
 * ends at len or at a NUL. False only for more arguments than fit. */
bool arbor_query_parse(struct arbor_query *q, const char *raw, size_t len);
void arbor_query_add(struct arbor_query *q, const char *key, const char *value);
const char *arbor_query_get(const struct arbor_query *q, const char *key);
void arbor_query_free(struct arbor_query *q);
/* Strict number parsing for query values: whole decimal, within [min, max]. */
bool arbor_query_uint(const struct arbor_query *q, const char *key, uint64_t def, uint64_t max, uint64_t *out);
bool arbor_query_seconds(const struct arbor_query *q, const char *key, double def, double max, double *out);

/* Who is on the other end of the socket (SO_PEERCRED, SO_PEERGROUPS). */
struct arbor_peer {
	bool known;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t ngroups;
};

struct arbor_http_request {
	const char *method;
	const char *path;
	struct arbor_query query;
	const char *body;
	size_t body_len;
	struct arbor_peer peer;
	const struct sockaddr *client; /* a network listener's client address; NULL on Unix sockets */
};

/* A deferred answer: poll is called when something may have changed (an event)
 * and once more at the deadline with timed_out set; it fills resp and returns
 * true when the answer is ready. */
struct arbor_http_response;
typedef bool (*arbor_http_poll_fn)(void *ctx, struct arbor_http_response *resp, bool timed_out);
/* A streamed answer: read copies up to max bytes into buf; 0 means nothing now
 * (the connection sleeps until the next wake), -1 ends the stream. */
typedef ssize_t (*arbor_http_stream_fn)(void *ctx, char *buf, size_t max);

enum arbor_http_kind { ARBOR_HTTP_NOW, ARBOR_HTTP_DEFERRED, ARBOR_HTTP_STREAM };

struct arbor_http_response {
	enum arbor_http_kind kind;
	int status;
	char *body; /* malloc'd */
	size_t body_len;
	const char *content_type;
	char allow[64];
	bool close_connection;
	/* deferred / stream */
	void *ctx;
	void (*ctx_free)(void *ctx);
	arbor_http_poll_fn poll;
	double wait_s;
	arbor_http_stream_fn stream;
	/* called once the answer is fully sent (stop uses it to exit afterwards) */
	void (*on_sent)(void *sent_ctx);
	void *sent_ctx;
};

void arbor_resp_json(struct arbor_http_response *resp, int status, cJSON *doc); /* takes doc */
void arbor_resp_text(struct arbor_http_response *resp, int status, const char *content_type, char *body,
		     size_t len); /* takes body */
void arbor_resp_error(struct arbor_http_response *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void arbor_resp_defer(struct arbor_http_response *resp, arbor_http_poll_fn poll, void *ctx,
		      void (*ctx_free)(void *), double wait_s);
void arbor_resp_stream(struct arbor_http_response *resp, arbor_http_stream_fn stream, void *ctx,
		       void (*ctx_free)(void *));
void arbor_resp_reset(struct arbor_http_response *resp);

/* Routing. A route's path is matched segment by segment; a segment "*" matches
 * any one segment (the pattern of /v1/peers/NAME/config has "*" for NAME), which the handler reads with
 * arbor_path_segment. Commands are POST /v1/commands/<name>; other methods
 * (PATCH, DELETE) are routed the same way. */
typedef void (*arbor_http_handler)(void *ctx, const struct arbor_http_request *req,
				   struct arbor_http_response *resp);

struct arbor_route {
	const char *method; /* "GET" (HEAD is implied), "POST", "PATCH", "DELETE" */
	const char *path;
	arbor_http_handler handler;
	bool command; /* needs authorization */
};

/* Validates the path, finds the route, answers 400/404/405 itself, otherwise calls
 * authorize (for commands) and the handler. Returns the route used or NULL. */
const struct arbor_route *arbor_router_dispatch(const struct arbor_route *routes, size_t nroutes, void *ctx,
						bool (*authorize)(void *ctx, const struct arbor_http_request *req,
								  const struct arbor_route *route,
								  struct arbor_http_response *resp),
						const struct arbor_http_request *req,
						struct arbor_http_response *resp);
/* True when path matches pattern ("*" segments match any one non-empty segment). */
bool arbor_path_match(const char *pattern, const char *path);
/* Copies segment index (0: the first after the leading "/") of path into out.
 * False when there is no such segment or it does not fit. */
bool arbor_path_segment(const char *path, size_t index, char *out, size_t outlen);
/* True for paths arbor serves: "/"-separated segments of [A-Za-z0-9._-], no
 * empty, "." or ".." segments. */
bool arbor_path_valid(const char *path);
