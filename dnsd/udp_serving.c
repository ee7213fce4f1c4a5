/* The UDP serving threads (udp_serving.h). */
#include "udp_serving.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "dgram_batch.h"
#include "dnsd.h"
#include "clock.h"
#include "relay.h"
#include "rrl.h"
#include "xalloc.h"
#include "zone.h"

/* A query longer than 1536 bytes is not one we answer (it is cut and gets
 * FORMERR), and a UDP answer never exceeds our EDNS payload (1232): small slots
 * keep the batch buffers at 176 KiB instead of half a megabyte. */
enum { BATCH = 64, UDP_MAX = 1536, REPLY_MAX = DNSD_EDNS_PAYLOAD };
/* Handed-off queries the main loop takes per wake-up, so a flood of them cannot
 * starve the rest of the loop. */
enum { HANDOFF_PER_WAKEUP = 64 };
/* How long a thread blocks before it looks at its stop flag (ms). */
enum { STOP_CHECK_MS = 200 };

/* One serving thread: its UDP sockets and its copy of the zones. */
struct worker {
	struct udp_serving *u;
	int *fds;
	size_t nfds;
	struct zone_db *db;
	pthread_mutex_t lock;
	pthread_t thread;
	bool running;
	struct dnsd_counters counters; /* written by the thread, read with atomic loads */
	unsigned limited;              /* answers rate limited: every slip-th is slipped */
	/* Batch buffers. */
	struct mmsghdr in[BATCH], outm[BATCH];
	struct iovec iov_in[BATCH], iov_out[BATCH];
	struct sockaddr_storage peers[BATCH];
	uint8_t (*qbuf)[UDP_MAX];
	uint8_t (*rbuf)[REPLY_MAX];
};

/* Handed from a serving thread to the main loop over a packet pipe. */
struct handoff {
	int fd;
	socklen_t peer_len;
	struct sockaddr_storage peer;
	uint16_t len;
	uint8_t q[UDP_MAX];
};

struct udp_serving {
	struct dnsd *h;
	struct worker *workers;
	unsigned nworkers;
	int handoff_pipe[2];
	struct event *handoff_ev;
	uint64_t handoff_dropped; /* atomic: every thread counts */
};

/* Passes a query for the resolver to the main loop; counts it when the pipe is full. */
static void hand_off(struct worker *w, int fd, int i)
{
	if (w->in[i].msg_len > sizeof ((struct handoff *)0)->q)
		return;
	struct handoff ho = { .fd = fd, .peer_len = w->in[i].msg_hdr.msg_namelen, .len = (uint16_t)w->in[i].msg_len };
	memcpy(&ho.peer, &w->peers[i], sizeof ho.peer);
	memcpy(ho.q, w->qbuf[i], w->in[i].msg_len);
	if (write(w->u->handoff_pipe[1], &ho, sizeof ho) != (ssize_t)sizeof ho)
		__atomic_add_fetch(&w->u->handoff_dropped, 1, __ATOMIC_RELAXED);
}

/* Response rate limiting of an answer n bytes long in out, to a client outside
 * allow_recursion: returns the length to send (0: nothing). */
static int rate_limit(struct worker *w, const struct sockaddr *peer, const struct dnsd_answer_info *info, uint8_t *out,
		      int n, uint32_t now)
{
	struct dnsd *h = w->u->h;
	if (rrl_account(h->rrl, peer, info, now) == RRL_SEND)
		return n;
	unsigned slip = h->cfg->rrl.slip;
	if (slip && ++w->limited % slip == 0) {
		__atomic_add_fetch(&w->counters.rrl_slipped, 1, __ATOMIC_RELAXED);
		int t = dnsd_answer_truncated(info, out, REPLY_MAX);
		return t > 0 ? t : 0;
	}
	__atomic_add_fetch(&w->counters.rrl_dropped, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Reads and answers one batch on a UDP socket (flags: MSG_WAITFORONE to block for
 * the first datagram, MSG_DONTWAIT not to). Returns the datagrams read. */
static int serve_batch(struct worker *w, int fd, int flags)
{
	struct dnsd *h = w->u->h;
	for (int i = 0; i < BATCH; i++) {
		w->iov_in[i] = (struct iovec){ w->qbuf[i], UDP_MAX };
		w->in[i].msg_hdr = (struct msghdr){ .msg_name = &w->peers[i], .msg_namelen = sizeof w->peers[i],
						    .msg_iov = &w->iov_in[i], .msg_iovlen = 1 };
	}
	int got = recvmmsg(fd, w->in, BATCH, flags, NULL);
	if (got <= 0)
		return 0;
	int nout = 0;
	uint32_t now = (uint32_t)arbor_time_monotonic();
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < got; i++) {
		struct dnsd_answer_info info;
		const struct sockaddr *peer = (const struct sockaddr *)&w->peers[i];
		struct dnsd_answer_opts o = dnsd_opts_for(h, peer, DNSD_UDP);
		int n = dnsd_answer(w->db, w->qbuf[i], w->in[i].msg_len, &o, w->rbuf[nout], REPLY_MAX, &info);
		dnsd_counters_add(&w->counters, &info);
		if (n > 0 && h->rrl && !o.allow_recursion)
			n = rate_limit(w, peer, &info, w->rbuf[nout], n, now);
		if (n > 0) {
			w->iov_out[nout] = (struct iovec){ w->rbuf[nout], (size_t)n };
			w->outm[nout].msg_hdr = (struct msghdr){ .msg_name = &w->peers[i], .msg_namelen = w->in[i].msg_hdr.msg_namelen,
								  .msg_iov = &w->iov_out[nout], .msg_iovlen = 1 };
			nout++;
		} else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD) {
			hand_off(w, fd, i);
		}
	}
	pthread_mutex_unlock(&w->lock);
	for (int sent = 0; sent < nout;) {
		int r = sendmmsg(fd, w->outm + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		sent += r;
	}
	return got;
}

/* The main loop's side of the pipe: answered again from the main loop's zone copy
 * (the zones may have changed meanwhile), and resolved. */
static void on_handoff(evutil_socket_t fd, short what, void *arg)
{
	struct udp_serving *u = arg;
	struct dnsd *h = u->h;
	struct handoff ho;
	for (int i = 0; i < HANDOFF_PER_WAKEUP && read(fd, &ho, sizeof ho) == (ssize_t)sizeof ho; i++) {
		struct dnsd_answer_info info;
		struct dnsd_answer_opts o = dnsd_opts_for(h, (struct sockaddr *)&ho.peer, DNSD_UDP);
		uint8_t out[REPLY_MAX];
		int n = dnsd_answer(dnsd_main_db(h), ho.q, ho.len, &o, out, sizeof out, &info);
		if (n > 0)
			sendto(ho.fd, out, (size_t)n, 0, (struct sockaddr *)&ho.peer, ho.peer_len);
		else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD)
			relay_udp(h, &info, ho.fd, &ho.peer, ho.peer_len);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->nfds == 1) {
		/* One socket: block in recvmmsg itself (its receive timeout lets the
		 * thread see a stop). */
		int fd = w->fds[0];
		struct timeval tv = { 0, STOP_CHECK_MS * 1000 };
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		while (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE))
			serve_batch(w, fd, MSG_WAITFORONE);
		return NULL;
	}
	struct pollfd pfd[DNSD_MAX_LISTEN];
	for (size_t i = 0; i < w->nfds && i < DNSD_MAX_LISTEN; i++)
		pfd[i] = (struct pollfd){ .fd = w->fds[i], .events = POLLIN };
	while (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE)) {
		int r = poll(pfd, w->nfds, STOP_CHECK_MS);
		if (r <= 0)
			continue;
		for (size_t i = 0; i < w->nfds; i++)
			if (pfd[i].revents & POLLIN)
				while (serve_batch(w, pfd[i].fd, MSG_DONTWAIT) == BATCH)
					;
	}
	return NULL;
}

static int open_udp(const struct dnsd_listen *l, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    (l->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->len) != 0) {
		snprintf(err, errlen, "listen %s (UDP): %s", l->text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	arbor_socket_set_rcvbuf(fd, 4 << 20);
	return fd;
}

struct udp_serving *udp_serving_new(struct dnsd *h, unsigned threads, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	struct udp_serving *u = xcalloc(1, sizeof *u);
	u->h = h;
	u->handoff_pipe[0] = u->handoff_pipe[1] = -1;
	u->nworkers = threads;
	u->workers = xcalloc(threads, sizeof *u->workers);
	for (unsigned t = 0; t < threads; t++) {
		struct worker *w = &u->workers[t];
		w->u = u;
		pthread_mutex_init(&w->lock, NULL);
		w->db = zone_db_new();
		w->qbuf = xcalloc(BATCH, UDP_MAX);
		w->rbuf = xcalloc(BATCH, REPLY_MAX);
		w->fds = xcalloc(cfg->nlisten + 1, sizeof *w->fds);
		for (size_t i = 0; i < cfg->nlisten; i++) {
			int fd = open_udp(&cfg->listen[i], err, errlen);
			if (fd < 0) {
				udp_serving_free(u);
				return NULL;
			}
			w->fds[w->nfds++] = fd;
		}
	}
	if (pipe2(u->handoff_pipe, O_DIRECT | O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		udp_serving_free(u);
		return NULL;
	}
	u->handoff_ev = event_new(arbor_daemon_base(h->d), u->handoff_pipe[0], EV_READ | EV_PERSIST, on_handoff, u);
	event_add(u->handoff_ev, NULL);
	return u;
}

int udp_serving_start(struct udp_serving *u, char *err, size_t errlen)
{
	for (unsigned t = 0; t < u->nworkers; t++) {
		struct worker *w = &u->workers[t];
		w->running = true;
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			w->running = false;
			snprintf(err, errlen, "serving thread: %s", strerror(rc));
			return -1;
		}
	}
	return 0;
}

void udp_serving_free(struct udp_serving *u)
{
	if (u == NULL)
		return;
	if (u->handoff_ev)
		event_free(u->handoff_ev);
	for (unsigned t = 0; t < u->nworkers; t++) {
		struct worker *w = &u->workers[t];
		if (w->running) {
			__atomic_store_n(&w->running, false, __ATOMIC_RELEASE);
			pthread_join(w->thread, NULL);
		}
	}
	for (unsigned t = 0; t < u->nworkers; t++) {
		struct worker *w = &u->workers[t];
		for (size_t i = 0; i < w->nfds; i++)
			close(w->fds[i]);
		free(w->fds);
		zone_db_free(w->db);
		free(w->qbuf);
		free(w->rbuf);
		pthread_mutex_destroy(&w->lock);
	}
	free(u->workers);
	for (int i = 0; i < 2; i++)
		if (u->handoff_pipe[i] >= 0)
			close(u->handoff_pipe[i]);
	free(u);
}

unsigned udp_serving_threads(const struct udp_serving *u)
{
	return u->nworkers;
}

struct zone_db *udp_serving_db(struct udp_serving *u, unsigned thread)
{
	return u->workers[thread].db;
}

void udp_serving_lock_all(struct udp_serving *u)
{
	for (unsigned i = 0; i < u->nworkers; i++)
		pthread_mutex_lock(&u->workers[i].lock);
}

void udp_serving_unlock_all(struct udp_serving *u)
{
	for (unsigned i = 0; i < u->nworkers; i++)
		pthread_mutex_unlock(&u->workers[i].lock);
}

void udp_serving_counters(const struct udp_serving *u, struct dnsd_counters *sum)
{
	uint64_t *dst = (uint64_t *)sum;
	for (unsigned t = 0; t < u->nworkers; t++) {
		const uint64_t *src = (const uint64_t *)&u->workers[t].counters;
		for (size_t i = 0; i < sizeof *sum / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

uint64_t udp_serving_handoff_dropped(const struct udp_serving *u)
{
	return __atomic_load_n(&u->handoff_dropped, __ATOMIC_RELAXED);
}
