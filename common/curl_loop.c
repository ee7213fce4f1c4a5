/* libcurl multi on libevent (see curl_loop.h): curl tells us which sockets to
 * watch (socket_cb) and when to call it back (timer_cb); we tell it what
 * happened (curl_multi_socket_action) and collect finished transfers. */
#include "curl_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "xalloc.h"

struct arbor_curl_loop {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct arbor_curl_req *reqs;
};

struct arbor_curl_req {
	struct arbor_curl_loop *loop;
	CURL *easy;
	char *body;
	struct curl_slist *headers;
	struct arbor_buf collected;
	size_t max_body;
	bool too_large;
	arbor_curl_data_fn on_data;
	arbor_curl_done_fn done;
	void *ctx;
	char error[CURL_ERROR_SIZE];
	bool delivering; /* inside done: it is freed after */
	struct arbor_curl_req *prev, *next;
};

/* A socket curl asked us to watch. */
struct watched {
	struct arbor_curl_loop *loop;
	curl_socket_t fd;
	struct event *ev;
};

static void check_done(struct arbor_curl_loop *loop);

static void req_free(struct arbor_curl_req *r)
{
	struct arbor_curl_loop *loop = r->loop;
	if (r->prev)
		r->prev->next = r->next;
	else
		loop->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	curl_multi_remove_handle(loop->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	arbor_buf_free(&r->collected);
	free(r->body);
	free(r);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct watched *w = arg;
	struct arbor_curl_loop *loop = w->loop;
	int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(loop->multi, fd, action, &running);
	check_done(loop);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct arbor_curl_loop *loop = userp;
	struct watched *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			event_free(w->ev);
			free(w);
		}
		curl_multi_assign(loop->multi, fd, NULL);
		return 0;
	}
	short events = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->loop = loop;
		w->fd = fd;
		curl_multi_assign(loop->multi, fd, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(loop->base, fd, events, on_socket_event, w);
	event_add(w->ev, NULL);
	return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_curl_loop *loop = arg;
	int running;
	curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(loop);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct arbor_curl_loop *loop = userp;
	if (timeout_ms < 0) {
		evtimer_del(loop->timer);
		return 0;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(loop->timer, &tv);
	return 0;
}

static void check_done(struct arbor_curl_loop *loop)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct arbor_curl_req *r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		struct arbor_curl_result res = { .body = "" };
		if (msg->data.result == CURLE_OK && !r->too_large) {
			res.ok = true;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
			arbor_buf_append(&r->collected, "", 0);
			res.body = r->collected.data ? r->collected.data : "";
			res.body_len = r->collected.len;
		} else {
			res.error = r->too_large ? "answer too large"
				    : r->error[0] ? r->error : curl_easy_strerror(msg->data.result);
		}
		/* Out of the multi before done runs: done may start or cancel others. */
		curl_multi_remove_handle(loop->multi, r->easy);
		r->delivering = true;
		r->done(r->ctx, &res);
		req_free(r);
	}
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
	struct arbor_curl_req *r = userdata;
	size_t len = size * n;
	if (r->on_data)
		return r->on_data(r->ctx, data, len) ? len : 0;
	if (r->collected.len + len > r->max_body) {
		r->too_large = true;
		return 0;
	}
	arbor_buf_append(&r->collected, data, len);
	return len;
}

struct arbor_curl_loop *arbor_curl_loop_new(struct event_base *base)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct arbor_curl_loop *loop = xcalloc(1, sizeof *loop);
	loop->base = base;
	loop->multi = curl_multi_init();
	loop->timer = evtimer_new(base, on_timer, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	return loop;
}

void arbor_curl_loop_free(struct arbor_curl_loop *loop)
{
	if (loop == NULL)
		return;
	while (loop->reqs)
		req_free(loop->reqs);
	curl_multi_cleanup(loop->multi);
	event_free(loop->timer);
	free(loop);
}

struct arbor_curl_req *arbor_curl_post(struct arbor_curl_loop *loop, const char *url, const char *body, size_t len,
				       double timeout_s, double connect_timeout_s, size_t max_body,
				       arbor_curl_data_fn on_data, arbor_curl_done_fn done, void *ctx)
{
	struct arbor_curl_req *r = xcalloc(1, sizeof *r);
	r->loop = loop;
	r->easy = curl_easy_init();
	r->body = xmalloc(len + 1);
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->max_body = max_body;
	r->on_data = on_data;
	r->done = done;
	r->ctx = ctx;
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (timeout_s > 0)
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	if (connect_timeout_s > 0)
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout_s * 1000));
	r->next = loop->reqs;
	if (r->next)
		r->next->prev = r;
	loop->reqs = r;
	curl_multi_add_handle(loop->multi, r->easy);
	return r;
}

void arbor_curl_cancel(struct arbor_curl_req *r)
{
	if (r && !r->delivering)
		req_free(r);
}
