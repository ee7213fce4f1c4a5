/* The asynchronous resolver (resolver.h). One `struct rq` per distinct question in
 * flight, with the requests waiting for it; one try at a time, to one target (a
 * forwarder, or a child name server address), over UDP or, after TC, TCP.
 *
 * Every callback (done, health) is queued and run from one deferred event of the
 * resolver's own, never from inside the resolver's processing: so a callback may
 * ask again or cancel without pulling state out from under the code that called
 * it, and the scratch buffers below are never in use twice at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "byteorder.h"
#include "cache.h"
#include "dname.h"
#include "dns_wire.h"
#include "xalloc.h"
#include "resolver.h"
#include "tcp_frame.h"
#include "upstream_check.h"

#define MAX_TARGETS (2 * DNSD_MAX_GLUE)
#define ROUNDS 2 /* each target is tried at most this often per step */
#define BUCKETS 256
#define OPT_LEN 11
#define QUERY_MAX (ARBOR_DNS_HEADER_LEN + ARBOR_DNS_NAME_WIRE_MAX + 4 + OPT_LEN)
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

/* A response shared by every request it answers. */
struct rbuf {
	unsigned refs;
	size_t len;
	uint8_t data[];
};

struct waiter {
	TAILQ_ENTRY(waiter) link;
	resolver_done_fn *done;
	void *ctx;
	struct rbuf *resp; /* once answered; NULL: failure */
};
TAILQ_HEAD(waiter_list, waiter);

struct health {
	const char *kind;
	char *name;
	unsigned fails; /* consecutive */
	bool down;
	int64_t last_try_ms;
	uint64_t tries, answers, failures;
};

/* A health transition waiting for the deferred event. */
struct hevent {
	TAILQ_ENTRY(hevent) link;
	const char *kind, *name; /* the health entry's own strings (they live as long as r) */
	bool up;
};
TAILQ_HEAD(hevent_list, hevent);

struct target {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fwd; /* index of the forwarder, -1 for a child name server */
};

struct child {
	uint8_t apex[ARBOR_DNS_NAME_WIRE_MAX]; /* lower case */
	uint8_t apex_len;
	struct health h;
};

struct rq {
	TAILQ_ENTRY(rq) link;
	struct resolver *r;
	enum cache_kind kind;
	uint8_t name[ARBOR_DNS_NAME_WIRE_MAX]; /* lower case: the key, and what we send */
	uint8_t name_len;
	uint16_t qtype, qclass;
	uint32_t bucket;
	struct waiter_list waiters;
	size_t child;                          /* index in r->child (CACHE_KIND_CHILD) */
	uint8_t zone[ARBOR_DNS_NAME_WIRE_MAX]; /* the zone whose servers are asked now */
	uint8_t zone_len;
	unsigned depth;
	struct target tg[MAX_TARGETS];
	unsigned ntg, cur, tries;
	/* The try in progress. */
	uint16_t id;
	int fd;
	struct event *ev_io;
	struct bufferevent *bev;
	struct event *ev_try, *ev_total;
	uint8_t query[2 + QUERY_MAX]; /* TCP's 2-byte length, then the message */
	size_t qlen;
};
TAILQ_HEAD(rq_list, rq);

struct resolver {
	struct event_base *base;
	struct resolver_config cfg;
	struct timeval try_tv, total_tv;
	int64_t reprobe_ms;
	struct cache *cache;
	struct health fwd[RESOLVER_MAX_FORWARDERS];
	struct child *child;
	size_t nchild, child_cap;
	struct rq_list inflight[BUCKETS];
	size_t ninflight;
	struct waiter_list ready;
	struct waiter_list *draining; /* being delivered now (resolver_cancel looks here too) */
	struct hevent_list hq;
	struct event *ev_ready;
	uint8_t rnd[64];
	size_t rnd_left;
	struct {
		uint64_t requests, cache_hits, coalesced, resolutions, answered, failed, timeouts, ignored,
			tcp_retries, referrals, overload;
	} n;
	struct arbor_dns_message msg; /* scratch: the response being looked at */
	uint8_t buf[ARBOR_DNS_MAX_MSG + 1];
};

static void start_try(struct rq *q);

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval seconds_tv(double s)
{
	struct timeval tv = { .tv_sec = (time_t)s };
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* Query ids from the kernel's CSPRNG, fetched 64 bytes at a time. */
static uint16_t rand16(struct resolver *r)
{
	if (r->rnd_left < 2) {
		if (getrandom(r->rnd, sizeof r->rnd, 0) != (ssize_t)sizeof r->rnd) {
			/* Not expected after boot; still, never send a predictable id. */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			for (size_t i = 0; i < sizeof r->rnd; i++)
				r->rnd[i] ^= (uint8_t)(ts.tv_nsec >> (i % 24)) + (uint8_t)i;
		}
		r->rnd_left = sizeof r->rnd;
	}
	r->rnd_left -= 2;
	return get_be16(r->rnd + r->rnd_left);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static uint32_t key_bucket(enum cache_kind kind, const uint8_t *name, size_t len, uint16_t qtype)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return ((h ^ qtype) * 16777619u) % BUCKETS;
}

/* ---- callbacks, deferred ---- */

static void schedule(struct resolver *r)
{
	event_active(r->ev_ready, EV_TIMEOUT, 0);
}

static void rbuf_unref(struct rbuf *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static struct rbuf *rbuf_new(const uint8_t *data, size_t len)
{
	struct rbuf *b = xmalloc(sizeof *b + len);
	b->refs = 1;
	b->len = len;
	memcpy(b->data, data, len);
	return b;
}

/* Moves the waiters of wl to the ready queue, answered with b (NULL: failure). */
static void deliver(struct resolver *r, struct waiter_list *wl, struct rbuf *b)
{
	struct waiter *w;
	while ((w = TAILQ_FIRST(wl))) {
		TAILQ_REMOVE(wl, w, link);
		w->resp = b;
		if (b)
			b->refs++;
		TAILQ_INSERT_TAIL(&r->ready, w, link);
	}
	schedule(r);
}

static void run_callbacks(struct resolver *r)
{
	struct hevent *he;
	while ((he = TAILQ_FIRST(&r->hq))) {
		TAILQ_REMOVE(&r->hq, he, link);
		if (r->cfg.health)
			r->cfg.health(r->cfg.health_ctx, he->kind, he->name, he->up);
		free(he);
	}
	/* Only what is ready now; requests answered by these callbacks wait for the next
	 * round, so a caller asking again from done cannot keep us here forever. */
	struct waiter_list local = TAILQ_HEAD_INITIALIZER(local);
	TAILQ_CONCAT(&local, &r->ready, link);
	struct waiter_list *outer = r->draining;
	r->draining = &local;
	struct waiter *w;
	while ((w = TAILQ_FIRST(&local))) {
		TAILQ_REMOVE(&local, w, link);
		struct rbuf *b = w->resp;
		w->done(w->ctx, b ? b->data : NULL, b ? b->len : 0);
		rbuf_unref(b);
		free(w);
	}
	r->draining = outer;
}

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
	run_callbacks(arg);
}

/* ---- health ---- */

static void health_note(struct resolver *r, struct health *h, bool ok)
{
	bool changed = false;
	if (ok) {
		h->answers++;
		h->fails = 0;
		if (h->down) {
			h->down = false;
			changed = true;
		}
	} else {
		h->failures++;
		h->fails++;
		if (!h->down && h->fails >= RESOLVER_DOWN_AFTER) {
			h->down = true;
			changed = true;
		}
	}
	if (!changed)
		return;
	struct hevent *he = xcalloc(1, sizeof *he);
	he->kind = h->kind;
	he->name = h->name;
	he->up = !h->down;
	TAILQ_INSERT_TAIL(&r->hq, he, link);
	schedule(r);
}

static struct health *rq_health(struct rq *q)
{
	const struct target *t = &q->tg[q->cur % q->ntg];
	return t->fwd >= 0 ? &q->r->fwd[t->fwd] : &q->r->child[q->child].h;
}

/* The health entry of a child apex, made on first use. Returns its index, or
 * -EINVAL for an apex that has no text form. */
static long child_find(struct resolver *r, const uint8_t *apex, size_t len)
{
	uint8_t low[ARBOR_DNS_NAME_WIRE_MAX];
	dname_lower(apex, len, low);
	for (size_t i = 0; i < r->nchild; i++)
		if (r->child[i].apex_len == len && memcmp(r->child[i].apex, low, len) == 0)
			return (long)i;
	if (r->nchild == r->child_cap) {
		size_t cap = r->child_cap ? 2 * r->child_cap : 8;
		r->child = xrealloc(r->child, cap * sizeof *r->child);
		r->child_cap = cap;
	}
	char text[ARBOR_DNS_NAME_TEXT_MAX];
	if (arbor_dns_name_to_text(low, len, text, sizeof text) < 0)
		return -EINVAL;
	struct child *c = &r->child[r->nchild];
	memset(c, 0, sizeof *c);
	memcpy(c->apex, low, len);
	c->apex_len = (uint8_t)len;
	c->h.kind = "child";
	c->h.name = xstrdup(text);
	return (long)r->nchild++;
}

/* ---- one resolution ---- */

static void try_stop(struct rq *q)
{
	if (q->ev_io) {
		event_free(q->ev_io);
		q->ev_io = NULL;
	}
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->bev) {
		bufferevent_free(q->bev);
		q->bev = NULL;
	}
	if (q->ev_try)
		evtimer_del(q->ev_try);
}

static void rq_free(struct rq *q)
{
	struct resolver *r = q->r;
	try_stop(q);
	if (q->ev_try)
		event_free(q->ev_try);
	if (q->ev_total)
		event_free(q->ev_total);
	struct waiter *w;
	while ((w = TAILQ_FIRST(&q->waiters))) {
		TAILQ_REMOVE(&q->waiters, w, link);
		free(w);
	}
	TAILQ_REMOVE(&r->inflight[q->bucket], q, link);
	r->ninflight--;
	free(q);
}

/* Ends a resolution: stores a final answer, hands it (or the failure) to every
 * waiter, frees q. */
static void try_of(const struct rq *q, struct upstream_try *t)
{
	*t = (struct upstream_try){ .forward = q->kind == CACHE_KIND_FORWARD, .over_tcp = q->bev != NULL, .id = q->id,
				    .qtype = q->qtype, .qclass = q->qclass, .name = q->name, .name_len = q->name_len,
				    .zone = q->zone, .zone_len = q->zone_len };
}

/* Ends a resolution with the final answer resp (NULL: failure), kept and handed
 * on in its canonical form (upstream_check.h). */
static void rq_finish(struct rq *q, const uint8_t *resp, size_t len)
{
	struct resolver *r = q->r;
	struct rbuf *b = NULL;
	uint8_t canon[ARBOR_DNS_MAX_MSG];
	int n = -1;
	if (resp) {
		struct upstream_try t;
		try_of(q, &t);
		n = upstream_canonical(&t, resp, len, canon, sizeof canon);
	}
	if (n > 0) {
		if (r->cache)
			cache_put(r->cache, q->kind, q->name, q->name_len, q->qtype, q->qclass, canon, (size_t)n, now_ms());
		b = rbuf_new(canon, (size_t)n);
		r->n.answered++;
	} else {
		r->n.failed++;
	}
	deliver(r, &q->waiters, b);
	rbuf_unref(b);
	rq_free(q);
}

/* The question with a fresh id: RD for the forwarders, and OPT with our payload. */
static void build_query(struct rq *q)
{
	uint8_t *m = q->query + 2;
	q->id = rand16(q->r);
	memset(m, 0, ARBOR_DNS_HEADER_LEN);
	put_be16(m, q->id);
	put_be16(m + 2, q->kind == CACHE_KIND_FORWARD ? ARBOR_DNS_FLAG_RD : 0);
	put_be16(m + 4, 1);
	put_be16(m + 10, 1);
	size_t n = ARBOR_DNS_HEADER_LEN;
	memcpy(m + n, q->name, q->name_len);
	n += q->name_len;
	put_be16(m + n, q->qtype);
	put_be16(m + n + 2, q->qclass);
	n += 4;
	m[n] = 0; /* OPT: root owner, type, payload, extended rcode/version/flags 0, no rdata */
	put_be16(m + n + 1, ARBOR_DNS_TYPE_OPT);
	put_be16(m + n + 3, DNSD_EDNS_PAYLOAD);
	memset(m + n + 5, 0, 6);
	n += OPT_LEN;
	q->qlen = n;
	put_be16(q->query, (uint16_t)n);
}

/* Moves on after a failed try (timeout, network error, malformed answer). */
static void try_failed(struct rq *q)
{
	health_note(q->r, rq_health(q), false);
	try_stop(q);
	q->cur++;
	start_try(q);
}

/* Moves on after a server answered, but not usefully (SERVFAIL, REFUSED, lame). */
static void next_server(struct rq *q)
{
	try_stop(q);
	q->cur++;
	start_try(q);
}

static int tcp_start(struct rq *q);
static void add_target(struct rq *q, int family, const uint8_t *addr, uint16_t port, int fwd);

/* Judges a response to the try in progress (upstream_check.h). */
static enum upstream_verdict judge(struct rq *q, const uint8_t *msg, size_t len, struct upstream_referral *ref)
{
	struct upstream_try t;
	try_of(q, &t);
	return upstream_check(&t, msg, len, &q->r->msg, ref);
}

/* Acts on a response that answers the try in progress (any verdict but IGNORE). */
static void act(struct rq *q, enum upstream_verdict v, const uint8_t *msg, size_t len, const struct upstream_referral *ref)
{
	struct resolver *r = q->r;
	if (v == UPSTREAM_MALFORMED) {
		try_failed(q);
		return;
	}
	health_note(r, rq_health(q), true);
	if (v == UPSTREAM_REFERRAL && q->depth + 1 > r->cfg.max_depth)
		v = UPSTREAM_NO_GLUE; /* too deep: fails the same way */
	switch (v) {
	case UPSTREAM_RETRY_TCP:
		r->n.tcp_retries++;
		try_stop(q);
		if (tcp_start(q) < 0)
			try_failed(q);
		return;
	case UPSTREAM_NEXT_SERVER: next_server(q); return;
	case UPSTREAM_FINAL: rq_finish(q, msg, len); return;
	case UPSTREAM_REFERRAL: break;
	default:
		try_stop(q);
		rq_finish(q, NULL, 0);
		return;
	}
	r->n.referrals++;
	try_stop(q);
	q->ntg = 0;
	for (unsigned i = 0; i < ref->nglue && i < MAX_TARGETS; i++)
		add_target(q, ref->glue[i].family, ref->glue[i].addr, r->cfg.child_port, -1);
	q->cur = q->tries = 0;
	q->depth++;
	memcpy(q->zone, ref->cut, ref->cut_len);
	q->zone_len = ref->cut_len;
	start_try(q);
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rq *q = arg;
	struct resolver *r = q->r;
	const struct target *t = &q->tg[q->cur % q->ntg];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(fd, r->buf, sizeof r->buf, 0, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			try_failed(q); /* ECONNREFUSED (ICMP port unreachable) and the like */
			return;
		}
		/* The socket is connected, so the kernel already filters by source; check anyway. */
		if (!same_addr(&from, &t->addr)) {
			r->n.ignored++;
			continue;
		}
		struct upstream_referral ref;
		enum upstream_verdict v = judge(q, r->buf, (size_t)n, &ref);
		if (v == UPSTREAM_IGNORE) {
			r->n.ignored++;
			continue;
		}
		act(q, v, r->buf, (size_t)n, &ref);
		return;
	}
}

/* Sends the try over UDP from a fresh socket: a new random source port each time. */
static int udp_send(struct rq *q, const struct target *t)
{
	int fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) < 0 ||
	    send(fd, q->query + 2, q->qlen, 0) != (ssize_t)q->qlen) {
		int e = errno;
		close(fd);
		return -e;
	}
	q->ev_io = event_new(q->r->base, fd, EV_READ | EV_PERSIST, udp_read_cb, q);
	if (q->ev_io == NULL || event_add(q->ev_io, NULL) < 0) {
		if (q->ev_io)
			event_free(q->ev_io);
		q->ev_io = NULL;
		close(fd);
		return -ENOMEM;
	}
	q->fd = fd;
	return 0;
}

/* The one answer over TCP; the try ends with it (the buffer goes with the try). */
static bool tcp_answer(void *ctx, const uint8_t *msg, size_t len)
{
	struct rq *q = ctx;
	/* On TCP nobody else can speak on our connection: anything but our answer is an error. */
	struct upstream_referral ref;
	enum upstream_verdict v = judge(q, msg, len, &ref);
	act(q, v == UPSTREAM_IGNORE ? UPSTREAM_MALFORMED : v, msg, len, &ref);
	return false;
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct rq *q = arg;
	if (dns_tcp_frame_take(bufferevent_get_input(bev), ARBOR_DNS_HEADER_LEN, ARBOR_DNS_MAX_MSG, q->r->buf,
			       tcp_answer, q) < 0)
		try_failed(q);
}

static void tcp_event_cb(struct bufferevent *bev, short events, void *arg)
{
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		try_failed(arg);
}

/* Asks the current target again over TCP (the UDP answer had TC). */
static int tcp_start(struct rq *q)
{
	const struct target *t = &q->tg[q->cur % q->ntg];
	build_query(q);
	q->bev = bufferevent_socket_new(q->r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (q->bev == NULL)
		return -ENOMEM;
	bufferevent_setcb(q->bev, tcp_read_cb, NULL, tcp_event_cb, q);
	if (bufferevent_enable(q->bev, EV_READ | EV_WRITE) < 0 || bufferevent_write(q->bev, q->query, q->qlen + 2) < 0 ||
	    bufferevent_socket_connect(q->bev, (const struct sockaddr *)&t->addr, (int)t->addrlen) < 0) {
		/* bufferevent_socket_connect may have freed nothing; we own bev either way. */
		bufferevent_free(q->bev);
		q->bev = NULL;
		return -EIO;
	}
	evtimer_add(q->ev_try, &q->r->try_tv);
	return 0;
}

/* Sends the next try, skipping targets that fail at once; fails the resolution when
 * every target of this step has had its ROUNDS tries. */
static void start_try(struct rq *q)
{
	struct resolver *r = q->r;
	for (;;) {
		if (q->tries >= ROUNDS * q->ntg) {
			rq_finish(q, NULL, 0);
			return;
		}
		q->tries++;
		const struct target *t = &q->tg[q->cur % q->ntg];
		struct health *h = rq_health(q);
		h->tries++;
		h->last_try_ms = now_ms();
		build_query(q);
		if (udp_send(q, t) == 0) {
			evtimer_add(q->ev_try, &r->try_tv);
			return;
		}
		health_note(r, h, false);
		q->cur++;
	}
}

static void try_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rq *q = arg;
	q->r->n.timeouts++;
	try_failed(q);
}

/* The bound on the whole resolution. The try cut short is not held against its
 * server: it may not have had its full try_timeout. */
static void total_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rq *q = arg;
	q->r->n.timeouts++;
	rq_finish(q, NULL, 0);
}

/* ---- the API ---- */

struct resolver *resolver_new(struct event_base *base, const struct resolver_config *cfg, char *err, size_t errlen)
{
	char dummy[1];
	if (err == NULL) {
		err = dummy;
		errlen = sizeof dummy;
	}
	if (base == NULL || cfg == NULL) {
		snprintf(err, errlen, "no event base or configuration");
		return NULL;
	}
	if (cfg->nforwarders > RESOLVER_MAX_FORWARDERS) {
		snprintf(err, errlen, "at most %d forwarders", RESOLVER_MAX_FORWARDERS);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nforwarders; i++) {
		int fam = cfg->forwarders[i].ss_family;
		if (fam != AF_INET && fam != AF_INET6) {
			snprintf(err, errlen, "forwarders[%zu]: not an IPv4 or IPv6 address", i);
			return NULL;
		}
	}
	const double *secs[] = { &cfg->try_timeout, &cfg->total_timeout, &cfg->reprobe_interval };
	const char *names[] = { "try_timeout", "total_timeout", "reprobe_interval" };
	for (size_t i = 0; i < 3; i++) {
		if (!(*secs[i] >= 0 && *secs[i] <= 86400)) {
			snprintf(err, errlen, "%s: %g is not between 0 and 86400 seconds", names[i], *secs[i]);
			return NULL;
		}
	}
	struct resolver *r = xcalloc(1, sizeof *r);
	r->base = base;
	r->cfg = *cfg;
	if (!r->cfg.child_port)
		r->cfg.child_port = 53;
	if (!r->cfg.max_depth)
		r->cfg.max_depth = 8;
	if (!r->cfg.max_inflight)
		r->cfg.max_inflight = 1024;
	r->try_tv = seconds_tv(cfg->try_timeout > 0 ? cfg->try_timeout : 1);
	r->total_tv = seconds_tv(cfg->total_timeout > 0 ? cfg->total_timeout : 4);
	r->reprobe_ms = (int64_t)((cfg->reprobe_interval > 0 ? cfg->reprobe_interval : 10) * 1000 + 0.5);
	for (size_t i = 0; i < BUCKETS; i++)
		TAILQ_INIT(&r->inflight[i]);
	TAILQ_INIT(&r->ready);
	TAILQ_INIT(&r->hq);
	for (size_t i = 0; i < cfg->nforwarders; i++) {
		struct sockaddr_storage *ss = &r->cfg.forwarders[i];
		if (ss->ss_family == AF_INET && ((struct sockaddr_in *)ss)->sin_port == 0)
			((struct sockaddr_in *)ss)->sin_port = htons(53);
		if (ss->ss_family == AF_INET6 && ((struct sockaddr_in6 *)ss)->sin6_port == 0)
			((struct sockaddr_in6 *)ss)->sin6_port = htons(53);
		char text[ADDR_TEXT_MAX];
		addr_text(ss, text, sizeof text);
		r->fwd[i].kind = "upstream";
		r->fwd[i].name = xstrdup(text);
	}
	r->ev_ready = event_new(base, -1, 0, ready_cb, r);
	if (!cfg->no_cache)
		r->cache = cache_new(cfg->cache_bytes, cfg->cache_max_ttl);
	if (r->ev_ready == NULL) {
		snprintf(err, errlen, "cannot make an event");
		resolver_free(r);
		return NULL;
	}
	return r;
}

static struct rq *find_inflight(struct resolver *r, uint32_t bucket, enum cache_kind kind, const uint8_t *name,
				size_t len, uint16_t qtype, uint16_t qclass)
{
	struct rq *q;
	TAILQ_FOREACH(q, &r->inflight[bucket], link)
		if (q->kind == kind && q->qtype == qtype && q->qclass == qclass && q->name_len == len &&
		    memcmp(q->name, name, len) == 0)
			return q;
	return NULL;
}

static void add_target(struct rq *q, int family, const uint8_t *addr, uint16_t port, int fwd)
{
	if (q->ntg >= MAX_TARGETS)
		return;
	struct target *t = &q->tg[q->ntg++];
	memset(t, 0, sizeof *t);
	t->fwd = fwd;
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr, 4);
		t->addrlen = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		t->addrlen = sizeof *s6;
	}
}

/* The forwarders in the order to try: one that is down and due for a probe, those
 * that are up, then the rest that are down. */
static void forwarder_targets(struct resolver *r, struct rq *q)
{
	int64_t now = now_ms();
	bool used[RESOLVER_MAX_FORWARDERS] = { false };
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < r->cfg.nforwarders; i++) {
			const struct health *h = &r->fwd[i];
			bool take = pass == 0 ? h->down && now - h->last_try_ms >= r->reprobe_ms : pass == 1 ? !h->down : true;
			if (used[i] || !take)
				continue;
			used[i] = true;
			struct target *t = &q->tg[q->ntg++];
			t->addr = r->cfg.forwarders[i];
			t->addrlen = t->addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
			t->fwd = (int)i;
			if (pass == 0)
				break; /* one probe at a time is enough */
		}
	}
}

/* Queues w as failed: done(ctx, NULL) from the event loop. */
static int fail_soon(struct resolver *r, struct waiter *w)
{
	r->n.failed++;
	TAILQ_INSERT_TAIL(&r->ready, w, link);
	schedule(r);
	return 0;
}

int resolver_resolve(struct resolver *r, const struct dnsd_answer_info *info, resolver_done_fn *done, void *ctx)
{
	if (r == NULL || info == NULL || done == NULL || !info->have_question ||
	    (info->verdict != DNSD_RECURSE_CHILD && info->verdict != DNSD_FORWARD) ||
	    dname_check(info->q.name, info->q.name_len) < 0)
		return -EINVAL;
	enum cache_kind kind = info->verdict == DNSD_FORWARD ? CACHE_KIND_FORWARD : CACHE_KIND_CHILD;
	struct waiter *w = xcalloc(1, sizeof *w);
	w->done = done;
	w->ctx = ctx;
	r->n.requests++;
	uint8_t name[ARBOR_DNS_NAME_WIRE_MAX];
	size_t len = info->q.name_len;
	dname_lower(info->q.name, len, name);

	if (r->cache) {
		int n = cache_get(r->cache, kind, name, len, info->q.qtype, info->q.qclass, now_ms(), r->buf,
				  sizeof r->buf);
		if (n > 0) {
			w->resp = rbuf_new(r->buf, (size_t)n);
			r->n.cache_hits++;
			TAILQ_INSERT_TAIL(&r->ready, w, link);
			schedule(r);
			return 0;
		}
	}
	uint32_t bucket = key_bucket(kind, name, len, info->q.qtype);
	struct rq *q = find_inflight(r, bucket, kind, name, len, info->q.qtype, info->q.qclass);
	if (q) {
		r->n.coalesced++;
		TAILQ_INSERT_TAIL(&q->waiters, w, link);
		return 0;
	}
	if (r->ninflight >= r->cfg.max_inflight) {
		r->n.overload++;
		return fail_soon(r, w);
	}
	q = xcalloc(1, sizeof *q);
	q->r = r;
	q->fd = -1;
	q->kind = kind;
	memcpy(q->name, name, len);
	q->name_len = (uint8_t)len;
	q->qtype = info->q.qtype;
	q->qclass = info->q.qclass;
	q->bucket = bucket;
	TAILQ_INIT(&q->waiters);
	if (kind == CACHE_KIND_FORWARD) {
		forwarder_targets(r, q);
	} else {
		const struct dnsd_delegation *d = &info->deleg;
		long c = dname_check(d->apex, d->apex_len) < 0 ? -EINVAL : child_find(r, d->apex, d->apex_len);
		if (c < 0) {
			free(q);
			return fail_soon(r, w);
		}
		q->child = (size_t)c;
		dname_lower(d->apex, d->apex_len, q->zone);
		q->zone_len = d->apex_len;
		for (unsigned i = 0; i < d->nv4 && i < DNSD_MAX_GLUE; i++)
			add_target(q, AF_INET, d->v4[i], r->cfg.child_port, -1);
		for (unsigned i = 0; i < d->nv6 && i < DNSD_MAX_GLUE; i++)
			add_target(q, AF_INET6, d->v6[i], r->cfg.child_port, -1);
	}
	if (q->ntg == 0) {
		free(q);
		return fail_soon(r, w);
	}
	q->ev_try = evtimer_new(r->base, try_timeout_cb, q);
	q->ev_total = evtimer_new(r->base, total_timeout_cb, q);
	if (q->ev_try == NULL || q->ev_total == NULL || evtimer_add(q->ev_total, &r->total_tv) < 0) {
		if (q->ev_try)
			event_free(q->ev_try);
		if (q->ev_total)
			event_free(q->ev_total);
		free(q);
		free(w);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&q->waiters, w, link);
	TAILQ_INSERT_TAIL(&r->inflight[bucket], q, link);
	r->ninflight++;
	r->n.resolutions++;
	start_try(q); /* may end q already (every target unreachable): delivery is deferred anyway */
	return 0;
}

static size_t cancel_in(struct waiter_list *wl, void *ctx)
{
	size_t n = 0;
	struct waiter *w = TAILQ_FIRST(wl);
	while (w) {
		struct waiter *next = TAILQ_NEXT(w, link);
		if (w->ctx == ctx) {
			TAILQ_REMOVE(wl, w, link);
			rbuf_unref(w->resp);
			free(w);
			n++;
		}
		w = next;
	}
	return n;
}

size_t resolver_cancel(struct resolver *r, void *ctx)
{
	if (r == NULL)
		return 0;
	size_t n = cancel_in(&r->ready, ctx);
	if (r->draining)
		n += cancel_in(r->draining, ctx);
	/* A resolution left without waiters goes on: its answer still fills the cache. */
	for (size_t b = 0; b < BUCKETS; b++) {
		struct rq *q;
		TAILQ_FOREACH(q, &r->inflight[b], link)
			n += cancel_in(&q->waiters, ctx);
	}
	return n;
}

void resolver_cancel_all(struct resolver *r)
{
	if (r == NULL)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct rq *q;
		while ((q = TAILQ_FIRST(&r->inflight[b]))) {
			r->n.failed++;
			deliver(r, &q->waiters, NULL);
			rq_free(q);
		}
	}
	run_callbacks(r);
	if (TAILQ_EMPTY(&r->ready) && TAILQ_EMPTY(&r->hq))
		event_del(r->ev_ready); /* nothing left for the deferred round */
}

void resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct rq *q;
		while ((q = TAILQ_FIRST(&r->inflight[b])))
			rq_free(q);
	}
	struct waiter *w;
	while ((w = TAILQ_FIRST(&r->ready))) {
		TAILQ_REMOVE(&r->ready, w, link);
		rbuf_unref(w->resp);
		free(w);
	}
	struct hevent *he;
	while ((he = TAILQ_FIRST(&r->hq))) {
		TAILQ_REMOVE(&r->hq, he, link);
		free(he);
	}
	if (r->ev_ready)
		event_free(r->ev_ready);
	cache_free(r->cache);
	for (size_t i = 0; i < r->cfg.nforwarders; i++)
		free(r->fwd[i].name);
	for (size_t i = 0; i < r->nchild; i++)
		free(r->child[i].h.name);
	free(r->child);
	free(r);
}

void resolver_flush_cache(struct resolver *r)
{
	if (r && r->cache)
		cache_flush(r->cache);
}

static cJSON *health_json(const struct health *h, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, key, h->name);
	cJSON_AddStringToObject(o, "state", h->down ? "down" : "up");
	cJSON_AddNumberToObject(o, "tries", (double)h->tries);
	cJSON_AddNumberToObject(o, "answers", (double)h->answers);
	cJSON_AddNumberToObject(o, "failures", (double)h->failures);
	cJSON_AddNumberToObject(o, "consecutive_failures", h->fails);
	return o;
}

void resolver_status(const struct resolver *r, cJSON *obj)
{
	if (r == NULL || obj == NULL)
		return;
	cJSON *fw = cJSON_AddArrayToObject(obj, "forwarders");
	for (size_t i = 0; fw && i < r->cfg.nforwarders; i++)
		cJSON_AddItemToArray(fw, health_json(&r->fwd[i], "address"));
	cJSON *ch = cJSON_AddArrayToObject(obj, "children");
	for (size_t i = 0; ch && i < r->nchild; i++)
		cJSON_AddItemToArray(ch, health_json(&r->child[i].h, "apex"));
	if (r->cache) {
		struct cache_stats st;
		cache_get_stats(r->cache, &st);
		cJSON *c = cJSON_AddObjectToObject(obj, "cache");
		cJSON_AddNumberToObject(c, "entries", (double)st.entries);
		cJSON_AddNumberToObject(c, "bytes", (double)st.bytes);
		cJSON_AddNumberToObject(c, "max_bytes", (double)st.max_bytes);
		cJSON_AddNumberToObject(c, "max_ttl", st.max_ttl);
		cJSON_AddNumberToObject(c, "hits", (double)st.hits);
		cJSON_AddNumberToObject(c, "misses", (double)st.misses);
		cJSON_AddNumberToObject(c, "inserts", (double)st.inserts);
		cJSON_AddNumberToObject(c, "uncacheable", (double)st.uncacheable);
		cJSON_AddNumberToObject(c, "evictions", (double)st.evictions);
		cJSON_AddNumberToObject(c, "expired", (double)st.expired);
	} else {
		cJSON_AddNullToObject(obj, "cache");
	}
	cJSON *s = cJSON_AddObjectToObject(obj, "resolver");
	const struct {
		const char *name;
		uint64_t v;
	} nums[] = {
		{ "requests", r->n.requests },
		{ "cache_hits", r->n.cache_hits },
		{ "coalesced", r->n.coalesced },
		{ "resolutions", r->n.resolutions },
		{ "inflight", r->ninflight },
		{ "answered", r->n.answered },
		{ "failed", r->n.failed },
		{ "timeouts", r->n.timeouts },
		{ "ignored_responses", r->n.ignored },
		{ "tcp_retries", r->n.tcp_retries },
		{ "referrals", r->n.referrals },
		{ "overload", r->n.overload },
	};
	for (size_t i = 0; s && i < sizeof nums / sizeof nums[0]; i++)
		cJSON_AddNumberToObject(s, nums[i].name, (double)nums[i].v);
}
