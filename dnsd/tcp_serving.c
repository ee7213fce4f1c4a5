/* DNS over TCP (tcp_serving.h). A connection is freed once it is closed and no
 * resolution refers to it any more. */
#include "tcp_serving.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "clock.h"
#include "daemon.h"
#include "dnsd.h"
#include "json.h"
#include "relay.h"
#include "tcp_frame.h"
#include "xalloc.h"

struct tcp_conn {
	LIST_ENTRY(tcp_conn) link; /* while open */
	struct tcp_serving *t;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	unsigned pending; /* resolutions in flight */
	bool closing;
	double partial_since;
};

struct tcp_serving {
	struct dnsd *h;
	struct evconnlistener **listeners;
	size_t nlisteners;
	LIST_HEAD(, tcp_conn) conns;
	unsigned open;
	uint64_t accepted, refused, timeouts;
};

static void conn_free_if_done(struct tcp_conn *c)
{
	if (c->closing && c->pending == 0)
		free(c);
}

static void conn_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	LIST_REMOVE(c, link);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->t->open--;
	conn_free_if_done(c);
}

void tcp_conn_hold(struct tcp_conn *c)
{
	c->pending++;
}

void tcp_conn_unhold(struct tcp_conn *c)
{
	c->pending--;
	conn_free_if_done(c);
}

void tcp_conn_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	if (c->closing || c->bev == NULL)
		return;
	dns_tcp_frame_put(bufferevent_get_output(c->bev), msg, len);
}

static bool answer_one(void *ctx, const uint8_t *q, size_t len)
{
	struct tcp_conn *c = ctx;
	struct dnsd *h = c->t->h;
	struct dnsd_answer_info info;
	struct dnsd_answer_opts o = dnsd_opts_for(h, (struct sockaddr *)&c->peer, DNSD_TCP);
	uint8_t out[65535];
	int n = dnsd_answer(dnsd_main_db(h), q, len, &o, out, sizeof out, &info);
	dnsd_counters_add(&h->main_counters, &info);
	if (n > 0)
		tcp_conn_send(c, out, (size_t)n);
	else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD)
		relay_tcp(h, &info, c);
	return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct tcp_serving *t = c->t;
	struct dnsd *h = t->h;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t q[DNSD_TCP_QUERY_MAX];
	if (dns_tcp_frame_take(in, ARBOR_DNS_HEADER_LEN, sizeof q, q, answer_one, c) < 0) {
		conn_close(c); /* not a query we would answer: no point reading on */
		return;
	}
	/* A message that trickles in (one byte a minute) gets the idle timeout as its
	 * whole deadline, not per byte. */
	double now = arbor_time_monotonic();
	if (evbuffer_get_length(in) == 0) {
		c->partial_since = 0;
	} else if (c->partial_since == 0) {
		c->partial_since = now;
	} else if (now - c->partial_since > h->cfg->tcp_idle_timeout) {
		t->timeouts++;
		conn_close(c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		c->t->timeouts++;
	conn_close(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct tcp_serving *t = arg;
	const struct dnsd_config *cfg = t->h->cfg;
	if (t->open >= cfg->tcp_max_connections) {
		t->refused++;
		close(fd);
		return;
	}
	struct tcp_conn *c = xcalloc(1, sizeof *c);
	c->t = t;
	memcpy(&c->peer, sa, (size_t)salen < sizeof c->peer ? (size_t)salen : sizeof c->peer);
	c->bev = bufferevent_socket_new(arbor_daemon_base(t->h->d), fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	double s = cfg->tcp_idle_timeout;
	struct timeval tv = { (time_t)s, (suseconds_t)((s - floor(s)) * 1e6) };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&t->conns, c, link);
	t->open++;
	t->accepted++;
}

struct tcp_serving *tcp_serving_new(struct dnsd *h, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	struct tcp_serving *t = xcalloc(1, sizeof *t);
	t->h = h;
	LIST_INIT(&t->conns);
	t->listeners = xcalloc(cfg->nlisten + 1, sizeof *t->listeners);
	for (size_t i = 0; i < cfg->nlisten; i++) {
		t->listeners[i] = evconnlistener_new_bind(arbor_daemon_base(h->d), on_accept, t,
							  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
							  128, (const struct sockaddr *)&cfg->listen[i].addr,
							  (int)cfg->listen[i].len);
		if (t->listeners[i] == NULL) {
			snprintf(err, errlen, "listen %s (TCP): %s", cfg->listen[i].text, strerror(errno));
			tcp_serving_free(t);
			return NULL;
		}
		t->nlisteners++;
	}
	return t;
}

void tcp_serving_free(struct tcp_serving *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nlisteners; i++)
		evconnlistener_free(t->listeners[i]);
	free(t->listeners);
	while (!LIST_EMPTY(&t->conns))
		conn_close(LIST_FIRST(&t->conns));
	free(t);
}

void tcp_serving_status(const struct tcp_serving *t, cJSON *obj)
{
	cJSON *tcp = cJSON_AddObjectToObject(obj, "tcp");
	arbor_json_add_int(tcp, "open", t->open);
	arbor_json_add_int(tcp, "accepted", (long long)t->accepted);
	arbor_json_add_int(tcp, "refused", (long long)t->refused);
	arbor_json_add_int(tcp, "timeouts", (long long)t->timeouts);
}
