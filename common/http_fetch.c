/* Non-blocking HTTP/1.1 fetch (see http_fetch.h), with plain events on the
 * loop: a deadline timer, a `later` timer (delivers outcomes found inside
 * arbor_fetch_start, and retries a Unix connect whose listen queue was full),
 * and a write and a read event on the socket.
 *
 * Every path ends in finish(), which records the outcome and stops all I/O;
 * deliver() then calls done and frees the fetch. A call to finish() is always
 * the last thing its caller does with the fetch, since it may be gone after. */
#include "http_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "http_response.h"
#include "xalloc.h"

/* With no timeout, a Unix socket whose listen queue stays full this long is given up on. */
#define BUSY_GIVE_UP_S 5.0

struct arbor_fetch {
	struct event_base *base;
	arbor_fetch_done_fn done;
	void *ctx;
	struct timespec started;
	double timeout_s;

	bool is_unix;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char target[128]; /* the socket path or "address:port", for messages */
	char interface[IFNAMSIZ];
	int fd;
	bool connected;
	bool busy; /* a Unix connect found the listen queue full */
	unsigned int busy_retries;

	struct arbor_buf request;
	size_t sent;
	int send_errno; /* the server stopped taking the request; its answer may still come */
	size_t received;
	size_t max_body;
	struct arbor_response_parser parser;

	struct event *deadline, *later, *writable, *readable;

	bool starting; /* inside arbor_fetch_start: outcomes wait for the loop */
	bool finished;
	bool delivering;
	enum arbor_fetch_failure failure;
	double latency_s;
	char error[256];
};

static double elapsed(const struct arbor_fetch *f)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - f->started.tv_sec) + (double)(now.tv_nsec - f->started.tv_nsec) / 1e9;
}

static void fetch_free(struct arbor_fetch *f)
{
	struct event *events[] = { f->deadline, f->later, f->writable, f->readable };
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
		if (events[i])
			event_free(events[i]);
	if (f->fd >= 0)
		close(f->fd);
	arbor_response_parser_free(&f->parser);
	arbor_buf_free(&f->request);
	free(f);
}

static void deliver(struct arbor_fetch *f)
{
	bool ok = f->failure == ARBOR_FETCH_OK;
	struct arbor_fetch_result res = {
		.ok = ok,
		.failure = f->failure,
		.status = ok ? f->parser.status : 0,
		.body = ok ? f->parser.body.data : "",
		.body_len = ok ? f->parser.body.len : 0,
		.latency_s = f->latency_s,
		.error = ok ? "" : f->error,
	};
	f->delivering = true;
	f->done(f->ctx, &res);
	fetch_free(f);
}

static void finish(struct arbor_fetch *f, enum arbor_fetch_failure failure, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish(struct arbor_fetch *f, enum arbor_fetch_failure failure, const char *fmt, ...)
{
	if (f->finished)
		return;
	f->finished = true;
	f->failure = failure;
	f->latency_s = elapsed(f);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->error, sizeof f->error, fmt, ap);
		va_end(ap);
	}
	event_del(f->deadline);
	event_del(f->later);
	if (f->writable)
		event_del(f->writable);
	if (f->readable)
		event_del(f->readable);
	if (f->starting)
		event_active(f->later, EV_TIMEOUT, 1);
	else
		deliver(f);
}

/* What the fetch was doing, for timeouts and resets. */
static const char *phase(const struct arbor_fetch *f)
{
	if (!f->connected)
		return "connecting";
	if (f->sent < f->request.len && f->send_errno == 0)
		return "sending the request";
	if (f->received == 0)
		return "waiting for the answer";
	return "reading the answer";
}

static void connect_failed(struct arbor_fetch *f, int e)
{
	const char *t = f->target;
	if (f->is_unix) {
		if (e == ENOENT || e == ENOTDIR)
			finish(f, ARBOR_FETCH_CONNECT, "no such socket: %s", t);
		else if (e == ECONNREFUSED)
			finish(f, ARBOR_FETCH_CONNECT, "nobody is listening on %s (stale socket)", t);
		else if (e == EACCES || e == EPERM)
			finish(f, ARBOR_FETCH_CONNECT, "permission denied: %s", t);
		else
			finish(f, ARBOR_FETCH_CONNECT, "cannot connect to %s: %s", t, strerror(e));
		return;
	}
	if (e == ECONNREFUSED)
		finish(f, ARBOR_FETCH_CONNECT, "connection refused by %s", t);
	else if (e == ETIMEDOUT)
		finish(f, ARBOR_FETCH_CONNECT, "connection to %s timed out (no answer from the host)", t);
	else if (e == EHOSTUNREACH)
		finish(f, ARBOR_FETCH_CONNECT, "host unreachable: %s", t);
	else if (e == ENETUNREACH)
		finish(f, ARBOR_FETCH_CONNECT, "network unreachable: %s", t);
	else
		finish(f, ARBOR_FETCH_CONNECT, "cannot connect to %s: %s", t, strerror(e));
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_fetch *f = arg;
	bool queue_full = f->busy && !f->connected;
	finish(f, ARBOR_FETCH_TIMEOUT, "timed out after %.2f s while %s%s", f->timeout_s, phase(f),
	       queue_full ? " (the server's connection queue is full)" : "");
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_fetch *f = arg;
	char buf[16384];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n < 0) {
		int e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
			return;
		if (e == ECONNRESET)
			finish(f, ARBOR_FETCH_IO, "connection reset by the server while %s", phase(f));
		else
			finish(f, ARBOR_FETCH_IO, "receive failed while %s: %s", phase(f), strerror(e));
		return;
	}
	enum arbor_response_status st;
	if (n == 0) {
		if (f->received == 0) {
			finish(f, ARBOR_FETCH_IO, "connection closed by the server %s",
			       f->send_errno ? "while sending the request" : "before it answered");
			return;
		}
		st = arbor_response_parser_finish_on_eof(&f->parser);
		if (st == ARBOR_RESPONSE_ERROR && !f->parser.body_too_large) {
			finish(f, ARBOR_FETCH_IO, "answer cut short: %s", f->parser.error);
			return;
		}
	} else {
		f->received += (size_t)n;
		size_t used;
		st = arbor_response_parser_feed(&f->parser, buf, (size_t)n, &used);
	}
	if (st == ARBOR_RESPONSE_DONE)
		finish(f, ARBOR_FETCH_OK, NULL);
	else if (st == ARBOR_RESPONSE_ERROR && f->parser.body_too_large)
		finish(f, ARBOR_FETCH_TOO_LARGE, "answer body larger than %zu bytes", f->max_body);
	else if (st == ARBOR_RESPONSE_ERROR)
		finish(f, ARBOR_FETCH_MALFORMED, "malformed response: %s", f->parser.error);
}

static void send_some(struct arbor_fetch *f)
{
	while (f->sent < f->request.len) {
		ssize_t n = send(f->fd, f->request.data + f->sent, f->request.len - f->sent, MSG_NOSIGNAL);
		if (n > 0) {
			f->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* The server closed early; it may have answered (a 413, say): read on. */
		f->send_errno = n < 0 ? errno : EPIPE;
		break;
	}
	event_del(f->writable);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_fetch *f = arg;
	if (!f->connected) {
		int e = 0;
		socklen_t len = sizeof e;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			e = errno;
		if (e != 0) {
			connect_failed(f, e);
			return;
		}
		f->connected = true;
		event_add(f->readable, NULL); /* read while sending: an early answer counts */
	}
	send_some(f);
}

static void try_connect(struct arbor_fetch *f);

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_fetch *f = arg;
	if (f->finished)
		deliver(f);
	else
		try_connect(f);
}

static void try_connect(struct arbor_fetch *f)
{
	if (f->fd < 0) {
		f->fd = socket(f->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f->fd < 0) {
			finish(f, ARBOR_FETCH_LOCAL, "cannot create a socket: %s", strerror(errno));
			return;
		}
		if (f->interface[0] && setsockopt(f->fd, SOL_SOCKET, SO_BINDTODEVICE, f->interface,
						  (socklen_t)strlen(f->interface) + 1) != 0) {
			int e = errno;
			if (e == ENODEV)
				finish(f, ARBOR_FETCH_CONNECT, "no such interface: %s", f->interface);
			else if (e == EPERM)
				finish(f, ARBOR_FETCH_LOCAL, "sending from interface %s needs CAP_NET_RAW",
				       f->interface);
			else
				finish(f, ARBOR_FETCH_LOCAL, "cannot bind to interface %s: %s", f->interface,
				       strerror(e));
			return;
		}
		f->writable = event_new(f->base, f->fd, EV_WRITE | EV_PERSIST, on_writable, f);
		f->readable = event_new(f->base, f->fd, EV_READ | EV_PERSIST, on_readable, f);
		if (f->writable == NULL || f->readable == NULL) {
			finish(f, ARBOR_FETCH_LOCAL, "cannot watch a socket (out of memory)");
			return;
		}
	}
	if (connect(f->fd, (const struct sockaddr *)&f->addr, f->addr_len) == 0 || errno == EINPROGRESS ||
	    errno == EINTR) {
		event_add(f->writable, NULL); /* writable: connected, or failed (SO_ERROR says) */
		return;
	}
	int e = errno;
	if (e == EAGAIN && f->is_unix) {
		/* A full listen queue: a non-blocking Unix connect cannot wait, so retry. */
		f->busy = true;
		if (f->timeout_s == 0 && elapsed(f) > BUSY_GIVE_UP_S) {
			finish(f, ARBOR_FETCH_CONNECT, "%s is too busy: its connection queue stayed full for %.0f s",
			       f->target, BUSY_GIVE_UP_S);
			return;
		}
		unsigned int ms = 1u << (f->busy_retries < 6 ? f->busy_retries : 6);
		f->busy_retries++;
		struct timeval tv = { 0, (suseconds_t)ms * 1000 };
		evtimer_add(f->later, &tv);
		return;
	}
	connect_failed(f, e);
}

/* A copy of a caller's string fit for a one-line message: at most max bytes,
 * control characters shown as '?'. */
static const char *printable(char *out, size_t outlen, const char *s, size_t max)
{
	size_t i = 0;
	for (; s[i] && i < max && i + 1 < outlen; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

/* Visible ASCII only (no space, no control): methods, paths, Host values. */
static bool is_visible(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
			return false;
	}
	return true;
}

/* A header value: no CR, LF or other control bytes but HTAB. */
static bool is_field_value(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* "Name: value", and not one of the headers the fetcher writes itself. */
static bool check_extra_header(const char *h, char *err, size_t errlen)
{
	static const char *const own[] = { "Host", "Content-Length", "Transfer-Encoding", "Connection" };
	const char *colon = strchr(h, ':');
	size_t name_len = colon ? (size_t)(colon - h) : 0;
	if (colon == NULL || !is_token(h, name_len) || !is_field_value(colon + 1)) {
		char shown[48];
		snprintf(err, errlen, "bad request header \"%s\" (want \"Name: value\", no line breaks)",
			 printable(shown, sizeof shown, h, 40));
		return false;
	}
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		if (name_len == strlen(own[i]) && strncasecmp(h, own[i], name_len) == 0) {
			snprintf(err, errlen, "request header %s is set by the fetcher", own[i]);
			return false;
		}
	}
	return true;
}

static bool set_target(struct arbor_fetch *f, const struct arbor_fetch_request *req, char *err, size_t errlen)
{
	if (req->unix_path) {
		struct sockaddr_un *sa = (struct sockaddr_un *)&f->addr;
		size_t len = strlen(req->unix_path);
		if (len == 0 || len >= sizeof sa->sun_path) {
			char shown[64];
			snprintf(err, errlen, "bad Unix socket path \"%s\" (empty or longer than %zu bytes)",
				 printable(shown, sizeof shown, req->unix_path, 60), sizeof sa->sun_path - 1);
			return false;
		}
		f->is_unix = true;
		sa->sun_family = AF_UNIX;
		memcpy(sa->sun_path, req->unix_path, len + 1);
		f->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
		printable(f->target, sizeof f->target, req->unix_path, sizeof f->target);
		return true;
	}
	char ip[INET6_ADDRSTRLEN];
	if (req->addr.ss_family == AF_INET && req->addr_len >= sizeof(struct sockaddr_in) &&
	    req->addr_len <= sizeof req->addr) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&req->addr;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
		snprintf(f->target, sizeof f->target, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (req->addr.ss_family == AF_INET6 && req->addr_len >= sizeof(struct sockaddr_in6) &&
		   req->addr_len <= sizeof req->addr) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&req->addr;
		char scope[IFNAMSIZ + 1] = "";
		char ifname[IF_NAMESIZE];
		if (sin6->sin6_scope_id && if_indextoname(sin6->sin6_scope_id, ifname))
			snprintf(scope, sizeof scope, "%%%s", ifname);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
		snprintf(f->target, sizeof f->target, "[%s%s]:%u", ip, scope, ntohs(sin6->sin6_port));
	} else {
		snprintf(err, errlen, "no target: set a Unix socket path or an IPv4/IPv6 address with its length");
		return false;
	}
	memcpy(&f->addr, &req->addr, req->addr_len);
	f->addr_len = req->addr_len;
	return true;
}

/* Checks the request and writes it out in f->request. */
static bool prepare(struct arbor_fetch *f, const struct arbor_fetch_request *req, char *err, size_t errlen)
{
	if (req == NULL) {
		snprintf(err, errlen, "no request");
		return false;
	}
	if (!set_target(f, req, err, errlen))
		return false;
	char shown[64];
	if (req->interface) {
		if (f->is_unix) {
			snprintf(err, errlen, "a source interface applies to TCP targets only");
			return false;
		}
		if (req->interface[0] == '\0' || strlen(req->interface) >= sizeof f->interface) {
			snprintf(err, errlen, "bad interface name \"%s\"",
				 printable(shown, sizeof shown, req->interface, 40));
			return false;
		}
		snprintf(f->interface, sizeof f->interface, "%s", req->interface);
	}
	if (!(req->timeout_s >= 0 && req->timeout_s <= 1e9)) {
		snprintf(err, errlen, "bad timeout %g s", req->timeout_s);
		return false;
	}
	f->timeout_s = req->timeout_s;
	const char *method = req->method ? req->method : "GET";
	const char *path = req->path ? req->path : "/";
	const char *host = req->host ? req->host : f->is_unix ? "localhost" : f->target;
	if (!is_token(method, strlen(method))) {
		snprintf(err, errlen, "bad method \"%s\"", printable(shown, sizeof shown, method, 20));
		return false;
	}
	if (path[0] != '/' || !is_visible(path)) {
		snprintf(err, errlen, "bad path \"%s\" (must start with '/', no spaces or control characters)",
			 printable(shown, sizeof shown, path, 60));
		return false;
	}
	if (host[0] == '\0' || !is_visible(host)) {
		snprintf(err, errlen, "bad Host \"%s\"", printable(shown, sizeof shown, host, 60));
		return false;
	}
	if (req->body == NULL && req->body_len > 0) {
		snprintf(err, errlen, "body_len set without a body");
		return false;
	}
	if (req->content_type && !is_field_value(req->content_type)) {
		snprintf(err, errlen, "bad Content-Type \"%s\"", printable(shown, sizeof shown, req->content_type, 40));
		return false;
	}
	for (const char *const *h = req->headers; h && *h; h++)
		if (!check_extra_header(*h, err, errlen))
			return false;

	struct arbor_buf *b = &f->request;
	arbor_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host);
	if (req->content_type)
		arbor_buf_printf(b, "Content-Type: %s\r\n", req->content_type);
	bool sends_body =
		req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
	if (sends_body)
		arbor_buf_printf(b, "Content-Length: %zu\r\n", req->body_len);
	for (const char *const *h = req->headers; h && *h; h++)
		arbor_buf_printf(b, "%s\r\n", *h);
	arbor_buf_puts(b, "\r\n");
	if (req->body_len)
		arbor_buf_append(b, req->body, req->body_len);

	f->max_body = req->max_body ? req->max_body : ARBOR_FETCH_DEFAULT_MAX_BODY;
	arbor_response_parser_init(&f->parser, f->max_body, strcmp(method, "HEAD") == 0);
	return true;
}

struct arbor_fetch *arbor_fetch_start(struct event_base *base, const struct arbor_fetch_request *req,
				      arbor_fetch_done_fn done, void *ctx)
{
	struct arbor_fetch *f = xcalloc(1, sizeof *f);
	f->base = base;
	f->done = done;
	f->ctx = ctx;
	f->fd = -1;
	f->starting = true;
	clock_gettime(CLOCK_MONOTONIC, &f->started);
	f->deadline = evtimer_new(base, on_deadline, f);
	f->later = evtimer_new(base, on_later, f);

	char err[256];
	if (!prepare(f, req, err, sizeof err)) {
		finish(f, ARBOR_FETCH_LOCAL, "%s", err); /* the zeroed parser is fine to free */
	} else {
		if (f->timeout_s > 0) {
			struct timeval tv;
			tv.tv_sec = (time_t)f->timeout_s;
			tv.tv_usec = (suseconds_t)((f->timeout_s - (double)tv.tv_sec) * 1e6);
			if (tv.tv_sec == 0 && tv.tv_usec == 0)
				tv.tv_usec = 1;
			event_add(f->deadline, &tv);
		}
		try_connect(f);
	}
	f->starting = false;
	return f;
}

void arbor_fetch_cancel(struct arbor_fetch *f)
{
	if (f == NULL || f->delivering)
		return;
	fetch_free(f);
}
