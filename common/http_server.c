/* libmicrohttpd glue (see http_server.h). MHD runs in external-epoll mode: its
 * epoll fd is one persistent read event in the loop, and a timer follows
 * MHD_get_timeout. Every request gets a struct request as MHD's con_cls.
 *
 * Long-polls and followers hold their connection for a long time, so each uid
 * (SO_PEERCRED) may hold at most max_streams_per_peer of them: one reader
 * cannot take every connection slot from the others. Past it: 429.
 *
 * Answers are queued on the second call of the access handler at the earliest:
 * queueing on the first call makes MHD close the connection (it has not read
 * the body yet), which loses keep-alive. */
#include "http_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "log.h"
#include "clock.h"
#include "unix_socket.h"
#include "xalloc.h"

struct request;
struct stream;

/* How many long-polls and followers one uid holds. */
struct peer_streams {
	uid_t uid;
	unsigned int n;
};

struct arbor_http_server {
	struct event_base *base;
	struct MHD_Daemon *mhd;
	struct event *mhd_io;
	struct event *mhd_timer;
	struct event *wake; /* wakes are deferred to the loop: never re-enter MHD_run */
	struct arbor_http_handlers handlers;
	size_t max_body_bytes;
	unsigned int max_connections;
	unsigned int connections;
	uint64_t refused_connections;
	bool stopping;
	struct request *waiting; /* suspended deferred answers */
	struct stream *streams;
	uint64_t status_counts[6]; /* by class: 1xx..5xx (index 1..5) */
	uint64_t too_large;
	uint64_t streams_open;
	uint64_t waiting_count;
	unsigned int max_streams_per_peer;
	struct peer_streams *peers; /* uids holding streams; few, so a plain array */
	size_t npeers;
	uint64_t streams_refused;
};

struct request {
	struct arbor_http_server *srv;
	struct MHD_Connection *conn;
	struct arbor_buf body;
	bool too_large;
	bool suspended;
	bool ready;
	struct arbor_http_response resp;
	struct event *deadline;
	struct request *next, *prev;
	bool counted; /* holds one of peer_uid's streams while it waits */
	uid_t peer_uid;
};

struct stream {
	struct arbor_http_server *srv;
	struct MHD_Connection *conn;
	arbor_http_stream_fn read;
	void *ctx;
	void (*ctx_free)(void *);
	bool suspended;
	struct stream *next, *prev;
	bool counted;
	uid_t peer_uid;
};

static void run_mhd(struct arbor_http_server *srv);

/* Takes one of uid's stream slots; false when it holds the most it may. */
static bool peer_take(struct arbor_http_server *srv, uid_t uid)
{
	for (size_t i = 0; i < srv->npeers; i++)
		if (srv->peers[i].uid == uid) {
			if (srv->max_streams_per_peer && srv->peers[i].n >= srv->max_streams_per_peer)
				return false;
			srv->peers[i].n++;
			return true;
		}
	srv->peers = xrealloc(srv->peers, (srv->npeers + 1) * sizeof *srv->peers);
	srv->peers[srv->npeers++] = (struct peer_streams){ uid, 1 };
	return true;
}

static void peer_release(struct arbor_http_server *srv, uid_t uid)
{
	for (size_t i = 0; i < srv->npeers; i++)
		if (srv->peers[i].uid == uid) {
			if (--srv->peers[i].n == 0)
				srv->peers[i] = srv->peers[--srv->npeers];
			return;
		}
}

/* The uid on the other end of conn, learned only for connections that would
 * hold a stream (reads otherwise skip the getsockopt). */
static bool peer_uid_of(struct MHD_Connection *conn, const struct arbor_http_request *req, uid_t *uid)
{
	if (req->peer.known) {
		*uid = req->peer.uid;
		return true;
	}
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct arbor_peer peer;
	if (ci == NULL || arbor_peer_from_fd(ci->connect_fd, &peer) != 0)
		return false;
	*uid = peer.uid;
	return true;
}

static void on_wake(evutil_socket_t fd, short what, void *arg);

static void waiting_unlink(struct request *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (r->srv->waiting == r)
		r->srv->waiting = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

static void request_resume(struct request *r)
{
	waiting_unlink(r);
	if (r->deadline) {
		event_free(r->deadline);
		r->deadline = NULL;
	}
	r->ready = true;
	if (r->counted) {
		r->counted = false;
		peer_release(r->srv, r->peer_uid);
	}
	if (r->suspended) {
		r->suspended = false;
		r->srv->waiting_count--;
		MHD_resume_connection(r->conn);
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct request *r = arg;
	if (!r->resp.poll(r->resp.ctx, &r->resp, true))
		arbor_resp_error(&r->resp, 500, "internal", "deferred answer not ready at its deadline");
	request_resume(r);
	run_mhd(r->srv);
}

static enum MHD_Result queue(struct request *r, struct arbor_http_response *resp)
{
	struct MHD_Response *mr = MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : "",
								  MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	if (resp->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->allow[0])
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->close_connection)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	int status = resp->status ? resp->status : 500;
	if (status >= 100 && status < 600)
		r->srv->status_counts[status / 100]++;
	enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned int)status, mr);
	MHD_destroy_response(mr);
	return rc;
}

static enum MHD_Result queue_too_large(struct request *r)
{
	r->srv->too_large++;
	arbor_resp_error(&r->resp, 413, "body_too_large", "request body larger than %zu bytes",
			 r->srv->max_body_bytes);
	r->resp.close_connection = true;
	return queue(r, &r->resp);
}

static void stream_unlink(struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (s->srv->streams == s)
		s->srv->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	if (s->srv->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	ssize_t n = s->read(s->ctx, buf, max);
	if (n > 0)
		return n;
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: sleep until the next wake instead of being polled. */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	return 0;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	stream_unlink(s);
	s->srv->streams_open--;
	if (s->counted)
		peer_release(s->srv, s->peer_uid);
	if (s->ctx_free)
		s->ctx_free(s->ctx);
	free(s);
}

static enum MHD_Result queue_stream(struct request *r)
{
	struct stream *s = xcalloc(1, sizeof *s);
	s->srv = r->srv;
	s->conn = r->conn;
	s->counted = r->counted; /* the slot moves to the stream */
	s->peer_uid = r->peer_uid;
	r->counted = false;
	s->read = r->resp.stream;
	s->ctx = r->resp.ctx;
	s->ctx_free = r->resp.ctx_free;
	r->resp.ctx = NULL; /* the stream owns it now */
	struct MHD_Response *mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, s,
								    stream_free);
	if (mr == NULL) {
		if (s->ctx_free)
			s->ctx_free(s->ctx);
		if (s->counted)
			peer_release(s->srv, s->peer_uid);
		free(s);
		return MHD_NO;
	}
	s->next = r->srv->streams;
	if (s->next)
		s->next->prev = s;
	r->srv->streams = s;
	r->srv->streams_open++;
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp.content_type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* The idle timeout stays: a quiet stream sleeps suspended, which MHD does
	 * not time out, but a follower that stops reading blocks our writes and is
	 * closed once no byte has moved for the timeout. */
	r->srv->status_counts[2]++;
	enum MHD_Result rc = MHD_queue_response(r->conn, 200, mr);
	MHD_destroy_response(mr);
	return rc;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	arbor_query_add(cls, key, value);
	return MHD_YES;
}

/* True when a GET route for url is authorized like a command. */
static bool route_needs_peer(const struct arbor_http_server *srv, const char *url, const char *method)
{
	for (size_t i = 0; i < srv->handlers.nroutes; i++) {
		const struct arbor_route *r = &srv->handlers.routes[i];
		if (r->command && strcmp(r->method, "GET") == 0 && arbor_path_match(r->path, url))
			return true;
	}
	return false;
}

/* A long-poll or follower takes one of its uid's slots; past the cap (or when
 * the peer is unknown) the answer becomes 429 instead. */
static bool take_stream_slot(struct request *r, const struct arbor_http_request *req)
{
	struct arbor_http_server *srv = r->srv;
	uid_t uid;
	if (peer_uid_of(r->conn, req, &uid) && peer_take(srv, uid)) {
		r->counted = true;
		r->peer_uid = uid;
		return true;
	}
	srv->streams_refused++;
	arbor_resp_reset(&r->resp);
	arbor_resp_error(&r->resp, 429, "too_many_streams",
			 "this user already holds %u long-polls and followers on this socket "
			 "(control.http.max_streams_per_peer)",
			 srv->max_streams_per_peer);
	return false;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	struct arbor_http_server *srv = cls;
	struct request *r = *con_cls;
	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		r->srv = srv;
		r->conn = conn;
		*con_cls = r;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl == NULL || strtoull(cl, NULL, 10) <= srv->max_body_bytes)
			return MHD_YES;
		/* The one answer queued on the first call: refuse before the body (and
		 * before "100 Continue"); MHD closes the connection after it. */
		return queue_too_large(r);
	}
	if (r->ready) {
		r->ready = false;
		return queue(r, &r->resp);
	}
	if (*upload_data_size > 0 && !r->too_large) {
		if (r->body.len + *upload_data_size > srv->max_body_bytes)
			r->too_large = true;
		else
			arbor_buf_append(&r->body, upload_data, *upload_data_size);
	}
	if (r->too_large) {
		/* A chunked body that outgrew the limit. MHD cannot queue an answer in
		 * the middle of a body, and reading the rest could take forever: close
		 * the connection (RFC 9110 §15.5.14 allows it). */
		r->srv->too_large++;
		return MHD_NO;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}

	struct arbor_http_request req = { .method = method, .path = url };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &req.query);
	req.body = r->body.data ? r->body.data : "";
	req.body_len = r->body.len;
	const union MHD_ConnectionInfo *client = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (client && client->client_addr && client->client_addr->sa_family != AF_UNIX)
		req.client = client->client_addr;
	/* Who is asking: commands need it, and so do the few reads that hand out
	 * secrets (a route marked command); plain reads skip the system calls. */
	if ((strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) || route_needs_peer(srv, url, method)) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			arbor_peer_from_fd(ci->connect_fd, &req.peer);
	}
	arbor_router_dispatch(srv->handlers.routes, srv->handlers.nroutes, srv->handlers.ctx,
			      srv->handlers.authorize, &req, &r->resp);
	arbor_query_free(&req.query);
	if (r->resp.kind != ARBOR_HTTP_NOW && !srv->stopping && !take_stream_slot(r, &req))
		return queue(r, &r->resp);

	switch (r->resp.kind) {
	case ARBOR_HTTP_NOW:
		return queue(r, &r->resp);
	case ARBOR_HTTP_STREAM:
		return queue_stream(r);
	case ARBOR_HTTP_DEFERRED:
		break;
	}
	if (srv->stopping || r->resp.poll(r->resp.ctx, &r->resp, false)) {
		if (srv->stopping)
			r->resp.poll(r->resp.ctx, &r->resp, true);
		if (r->counted) { /* answered at once: it holds nothing */
			r->counted = false;
			peer_release(srv, r->peer_uid);
		}
		return queue(r, &r->resp);
	}
	r->next = srv->waiting;
	if (r->next)
		r->next->prev = r;
	srv->waiting = r;
	double wait = r->resp.wait_s;
	struct timeval tv = { (time_t)wait, (suseconds_t)((wait - (double)(time_t)wait) * 1e6) };
	r->deadline = evtimer_new(srv->base, on_deadline, r);
	evtimer_add(r->deadline, &tv);
	r->suspended = true;
	srv->waiting_count++;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;
	if (r == NULL)
		return;
	waiting_unlink(r);
	if (r->deadline)
		event_free(r->deadline);
	if (r->counted)
		peer_release(r->srv, r->peer_uid);
	void (*on_sent)(void *) = r->resp.on_sent;
	void *sent_ctx = r->resp.sent_ctx;
	arbor_resp_reset(&r->resp);
	arbor_buf_free(&r->body);
	free(r);
	*con_cls = NULL;
	if (on_sent)
		on_sent(sent_ctx);
}

/* libmicrohttpd's decoder for the path and query values: ours (http.h), which
 * leaves "%00" as it is. */
static size_t unescape_keep_nul(void *cls, struct MHD_Connection *conn, char *s)
{
	return arbor_url_unescape(s);
}

/* The connection limit is ours, not MHD's: libmicrohttpd 0.9.75 in external
 * epoll mode can stop accepting for good after hitting its own limit (seen in
 * test_connection_limit: the listen socket never returned to its epoll set).
 * Over the limit, a new connection is closed at once instead. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct arbor_http_server *srv = cls;
	if (srv->connections >= srv->max_connections) {
		srv->refused_connections++;
		return MHD_NO;
	}
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct arbor_http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		srv->connections++;
	else if (srv->connections > 0)
		srv->connections--;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

static void schedule_timer(struct arbor_http_server *srv)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES) {
		struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
		evtimer_add(srv->mhd_timer, &tv);
	} else {
		evtimer_del(srv->mhd_timer);
	}
}

static void run_mhd(struct arbor_http_server *srv)
{
	if (srv->mhd == NULL)
		return;
	MHD_run(srv->mhd);
	schedule_timer(srv);
}

static void on_mhd_event(evutil_socket_t fd, short what, void *arg)
{
	run_mhd(arg);
}

struct arbor_http_server *arbor_http_server_start(struct event_base *base, int listen_fd,
						  const struct arbor_http_limits *limits,
						  const struct arbor_http_handlers *handlers, char *err,
						  size_t errlen)
{
	struct arbor_http_server *srv = xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->handlers = *handlers;
	srv->max_body_bytes = limits->max_body_bytes;
	srv->max_connections = limits->max_connections;
	srv->max_streams_per_peer = limits->max_streams_per_peer;
	srv->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG,
				    0, accept_policy, srv, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
				    MHD_OPTION_UNESCAPE_CALLBACK, unescape_keep_nul, srv,
				    MHD_OPTION_LISTEN_SOCKET, listen_fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000000,
				    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
				    MHD_OPTION_CONNECTION_TIMEOUT, limits->idle_timeout_s,
				    /* libmicrohttpd zeroes this pool for every request: 8 KiB holds
				     * any sane request head and keeps that cheap. */
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8 * 1024,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
	if (srv->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd)");
		free(srv);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	srv->mhd_io = event_new(base, info->epoll_fd, EV_READ | EV_PERSIST, on_mhd_event, srv);
	srv->mhd_timer = evtimer_new(base, on_mhd_event, srv);
	srv->wake = event_new(base, -1, 0, on_wake, srv);
	event_add(srv->mhd_io, NULL);
	schedule_timer(srv);
	return srv;
}

static void wake_now(struct arbor_http_server *srv)
{
	for (struct request *r = srv->waiting, *next; r; r = next) {
		next = r->next;
		if (r->resp.poll(r->resp.ctx, &r->resp, srv->stopping))
			request_resume(r);
	}
	for (struct stream *s = srv->streams; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	run_mhd(srv);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	wake_now(arg);
}

/* Called from event emitters, which may run inside an MHD callback: running MHD
 * there would re-enter it, so the work happens on the next loop turn (and a
 * burst of events costs one wake). */
void arbor_http_server_wake(struct arbor_http_server *srv)
{
	if (srv != NULL && !srv->stopping)
		event_active(srv->wake, EV_TIMEOUT, 0);
}

void arbor_http_server_set_body_limit(struct arbor_http_server *srv, size_t max_body_bytes)
{
	if (srv != NULL)
		srv->max_body_bytes = max_body_bytes;
}

void arbor_http_server_set_stream_limit(struct arbor_http_server *srv, unsigned int max_streams_per_peer)
{
	if (srv != NULL)
		srv->max_streams_per_peer = max_streams_per_peer;
}

void arbor_http_server_stop(struct arbor_http_server *srv)
{
	if (srv == NULL)
		return;
	srv->stopping = true;
	/* MHD must not be stopped with suspended connections: answer the waiters
	 * (their deadline poll) and let streams end, then run once to flush. */
	wake_now(srv);
	for (struct request *r = srv->waiting, *next; r; r = next) {
		next = r->next;
		if (!r->resp.poll(r->resp.ctx, &r->resp, true))
			arbor_resp_error(&r->resp, 503, "stopping", "daemon is stopping");
		request_resume(r);
	}
	run_mhd(srv);
	event_free(srv->mhd_io);
	event_free(srv->mhd_timer);
	event_free(srv->wake);
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	free(srv->peers);
	free(srv);
}

void arbor_http_server_metrics_as(const struct arbor_http_server *srv, struct arbor_buf *out, const char *prefix,
				  const char *where)
{
	if (srv == NULL)
		return;
	arbor_buf_printf(out, "# HELP %s_responses_total Answers sent on %s, by status class.\n"
			      "# TYPE %s_responses_total counter\n", prefix, where, prefix);
	for (int c = 1; c <= 5; c++)
		arbor_buf_printf(out, "%s_responses_total{class=\"%dxx\"} %llu\n", prefix, c,
				 (unsigned long long)srv->status_counts[c]);
	const struct {
		const char *name, *type, *help;
		bool on_where; /* the help text ends "on <where>" */
		unsigned long long value;
	} m[] = {
		{ "body_too_large_total", "counter", "Requests refused for an oversized body", false,
		  (unsigned long long)srv->too_large },
		{ "connections", "gauge", "Open connections", true, srv->connections },
		{ "connections_refused_total", "counter", "Connections closed at once for the connection limit", false,
		  (unsigned long long)srv->refused_connections },
		{ "streams", "gauge", "Open follow streams", false, (unsigned long long)srv->streams_open },
		{ "waiting", "gauge", "Suspended long-poll requests", false, (unsigned long long)srv->waiting_count },
		{ "streams_refused_total", "counter", "Long-polls and followers refused for the per-user cap", false,
		  (unsigned long long)srv->streams_refused },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		arbor_buf_printf(out, "# HELP %s_%s %s%s%s.\n# TYPE %s_%s %s\n%s_%s %llu\n", prefix, m[i].name, m[i].help,
				 m[i].on_where ? " on " : "", m[i].on_where ? where : "", prefix, m[i].name, m[i].type, prefix,
				 m[i].name, m[i].value);
}

void arbor_http_server_metrics(const struct arbor_http_server *srv, struct arbor_buf *out)
{
	arbor_http_server_metrics_as(srv, out, "arbor_http", "the contract socket");
}
