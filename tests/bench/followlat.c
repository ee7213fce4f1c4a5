/*
 * followlat: event delivery latency of a streaming NDJSON event feed over a Unix socket.
 *
 *   followlat -s SOCKET -t TRIGGER_PATH [-f FOLLOWERS] [-n EVENTS] [options] [--json]
 *
 * Opens FOLLOWERS connections that each GET /v1/events?follow=1 (HTTP/1.1; the
 * body is chunked, Content-Length or until close, one JSON object with a
 * top-level "seq" per line), waits until the feeds are quiet (any backlog is
 * drained), then, one at a time, sends EVENTS triggers (POST TRIGGER_PATH on a
 * separate keep-alive connection) and measures for each the time from sending
 * the trigger until every follower has received the first event line with a
 * seq above everything seen before the trigger (and until the first follower
 * has). A few warm-up triggers first learn how many event lines one trigger
 * produces, so that the next trigger is only sent once all of them are in.
 *
 * Timestamps are taken right after recv() returns, on one thread: the "all
 * followers" figure includes the few microseconds this process needs to read
 * the other followers' sockets first.
 *
 * Answers and the stream are read with libarbor's response parser
 * (common/http_response.c), the stream's body drained as it comes.
 * This is a benchmark tool; it asserts nothing about speed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "http_response.h"

#define RBUF_SIZE 65536
#define EVLINE_MAX (4u << 20)
#define MAX_FOLLOWERS 4096
#define ANSWER_MAX (1u << 20)

/* ---- state ---------------------------------------------------------------- */

struct follower {
	int fd;
	int idx;
	struct arbor_response_parser r;
	char *lbuf; /* partial NDJSON line */
	size_t llen, lcap;
	int64_t last_seq;
	uint64_t lines;      /* event lines (with a seq) received */
	uint64_t bad_lines;  /* non-empty lines without a top-level seq */
	uint64_t t_recv;     /* time of the current recv() */
	uint64_t t_first;    /* this round: arrival of the first new event, 0 = not yet */
	uint64_t last_data;  /* time of the last byte received */
};

struct trigger {
	int fd;
	struct arbor_response_parser r;
	bool outstanding; /* request sent, response not complete */
	uint64_t t_sent, t_done;
};

static const char *sock_path;
static struct sockaddr_un addr;
static socklen_t addr_len;
static int epfd = -1;
static struct follower *fol;
static int nfol = 16;
static struct trigger trg = {.fd = -1};
static char *trig_req;
static size_t trig_req_len;
static int64_t round_baseline; /* seq threshold of the current round */
static bool in_round;
static uint64_t last_any_data;
static uint64_t trig_non2xx;
static volatile sig_atomic_t stop_flag;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void fail(const char *msg)
{
	fprintf(stderr, "followlat: %s\n", msg);
	exit(1);
}

static void fail_errno(const char *what)
{
	fprintf(stderr, "followlat: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_sock(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail_errno("socket");
	if (connect(fd, (struct sockaddr *)&addr, addr_len) < 0) {
		fprintf(stderr, "followlat: connect %s: %s\n", sock_path, strerror(errno));
		exit(1);
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Find the top-level "seq" member of a JSON object line. */
static bool line_seq(const char *s, size_t n, int64_t *out)
{
	int depth = 0;
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '"') {
			size_t st = ++i;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\')
					i++;
				i++;
			}
			if (i >= n)
				return false;
			size_t en = i++;
			if (depth == 1 && en - st == 3 && memcmp(s + st, "seq", 3) == 0) {
				size_t j = i;
				while (j < n && (s[j] == ' ' || s[j] == '\t'))
					j++;
				if (j < n && s[j] == ':') {
					j++;
					while (j < n && (s[j] == ' ' || s[j] == '\t'))
						j++;
					char num[24];
					size_t k = 0;
					while (j < n && k + 1 < sizeof num && (s[j] == '-' || (s[j] >= '0' && s[j] <= '9')))
						num[k++] = s[j++];
					num[k] = 0;
					if (k == 0)
						return false;
					char *ep;
					errno = 0;
					long long v = strtoll(num, &ep, 10);
					if (errno || *ep)
						return false;
					*out = v;
					return true;
				}
			}
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		i++;
	}
	return false;
}

static void follower_line(struct follower *f, const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return; /* keep-alive blank line */
	int64_t seq;
	if (!line_seq(s, n, &seq)) {
		f->bad_lines++;
		return;
	}
	f->lines++;
	if (seq > f->last_seq)
		f->last_seq = seq;
	if (in_round && f->t_first == 0 && seq > round_baseline)
		f->t_first = f->t_recv;
}

static int follower_body(void *ctx, const char *p, size_t n)
{
	struct follower *f = ctx;
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) : n;
		if (f->llen == 0 && nl) {
			follower_line(f, p, part); /* whole line in this span: no copy */
		} else {
			if (f->llen + part > EVLINE_MAX)
				return -1;
			if (f->llen + part > f->lcap) {
				size_t nc = f->lcap ? f->lcap : 4096;
				while (nc < f->llen + part)
					nc *= 2;
				char *b = realloc(f->lbuf, nc);
				if (!b)
					fail_errno("realloc");
				f->lbuf = b;
				f->lcap = nc;
			}
			memcpy(f->lbuf + f->llen, p, part);
			f->llen += part;
			if (nl) {
				follower_line(f, f->lbuf, f->llen);
				f->llen = 0;
			}
		}
		if (!nl)
			break;
		p += part + 1;
		n -= part + 1;
	}
	return 0;
}

static void follower_readable(struct follower *f)
{
	static char buf[RBUF_SIZE];
	for (;;) {
		ssize_t n = recv(f->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			fprintf(stderr, "followlat: follower %d: recv: %s\n", f->idx, strerror(errno));
			exit(1);
		}
		if (n == 0) {
			fprintf(stderr, "followlat: follower %d: the server closed the event stream\n", f->idx);
			exit(1);
		}
		f->t_recv = now_ns();
		f->last_data = f->t_recv;
		last_any_data = f->t_recv;
		size_t used;
		enum arbor_response_status rc = arbor_response_parser_feed(&f->r, buf, (size_t)n, &used);
		if (rc == ARBOR_RESPONSE_ERROR || follower_body(f, f->r.body.data, f->r.body.len) < 0) {
			fprintf(stderr, "followlat: follower %d: malformed HTTP response or line too long: %s\n", f->idx,
				f->r.error);
			exit(1);
		}
		arbor_response_parser_body_consumed(&f->r);
		if (arbor_response_parser_head_done(&f->r) && (f->r.status < 200 || f->r.status > 299)) {
			fprintf(stderr, "followlat: follower %d: the event stream answered HTTP %d\n", f->idx,
				f->r.status);
			exit(1);
		}
		if (rc == ARBOR_RESPONSE_DONE) {
			fprintf(stderr, "followlat: follower %d: the event stream ended (not a follow stream?)\n",
				f->idx);
			exit(1);
		}
		if ((size_t)n < sizeof buf)
			return;
	}
}

static void trigger_close(void)
{
	if (trg.fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, trg.fd, NULL);
		close(trg.fd);
	}
	trg.fd = -1;
}

static void trigger_open(void)
{
	trg.fd = connect_sock();
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, trg.fd, &ev) < 0)
		fail_errno("epoll_ctl");
}

static void trigger_readable(void)
{
	static char buf[RBUF_SIZE];
	for (;;) {
		ssize_t n = recv(trg.fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			if (!trg.outstanding) {
				trigger_close();
				return;
			}
			fail_errno("trigger connection: recv");
		}
		if (n == 0) {
			if (trg.outstanding && arbor_response_parser_finish_on_eof(&trg.r) == ARBOR_RESPONSE_DONE) {
				trg.outstanding = false;
				trg.t_done = now_ns();
			} else if (trg.outstanding) {
				fail("the server closed the trigger connection before answering");
			}
			trigger_close();
			return;
		}
		if (!trg.outstanding)
			fail("unexpected data on the trigger connection");
		size_t used;
		enum arbor_response_status rc = arbor_response_parser_feed(&trg.r, buf, (size_t)n, &used);
		if (rc == ARBOR_RESPONSE_ERROR || (rc == ARBOR_RESPONSE_DONE && used != (size_t)n))
			fail("malformed answer on the trigger connection");
		if (rc == ARBOR_RESPONSE_DONE) {
			trg.outstanding = false;
			trg.t_done = now_ns();
			if (trg.r.status < 200 || trg.r.status > 299)
				trig_non2xx++;
			if (trg.r.connection_close || trg.r.minor_version == 0)
				trigger_close();
			return;
		}
		if ((size_t)n < sizeof buf)
			return;
	}
}

static void trigger_send(void)
{
	for (int attempt = 0;; attempt++) {
		if (trg.fd < 0)
			trigger_open();
		arbor_response_parser_free(&trg.r);
		arbor_response_parser_init(&trg.r, ANSWER_MAX, false);
		trg.outstanding = true;
		trg.t_sent = now_ns();
		if (send_all(trg.fd, trig_req, trig_req_len) == 0)
			return;
		/* the server closed the idle keep-alive connection: reopen once */
		trg.outstanding = false;
		trigger_close();
		if (attempt)
			fail_errno("trigger connection: send");
	}
}

/* One epoll_wait round, at most timeout_ms. */
static void pump(int timeout_ms)
{
	struct epoll_event evs[MAX_FOLLOWERS + 1];
	int n = epoll_wait(epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return;
		fail_errno("epoll_wait");
	}
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL) {
			if (trg.fd >= 0)
				trigger_readable();
		} else {
			follower_readable(evs[i].data.ptr);
		}
	}
}

static int ms_until(uint64_t deadline)
{
	uint64_t t = now_ns();
	if (t >= deadline)
		return 0;
	uint64_t ms = (deadline - t + 999999) / 1000000;
	return ms > 100 ? 100 : (int)ms;
}

/* Pump until no data arrived for quiet_ms (or max_ms passed). Returns false on timeout. */
static bool drain_quiet(int quiet_ms, int max_ms)
{
	uint64_t start = now_ns();
	uint64_t deadline = start + (uint64_t)max_ms * 1000000u;
	uint64_t q = (uint64_t)quiet_ms * 1000000u;
	uint64_t last = last_any_data > start ? last_any_data : start;
	while (!stop_flag) {
		uint64_t t = now_ns();
		last = last_any_data > last ? last_any_data : last;
		if (t - last >= q && !trg.outstanding)
			return true;
		if (t >= deadline)
			return false;
		uint64_t until = last + q < deadline ? last + q : deadline;
		pump(ms_until(until) ? ms_until(until) : 1);
	}
	return false;
}

static int64_t max_seq(void)
{
	int64_t m = -1;
	for (int i = 0; i < nfol; i++)
		if (fol[i].last_seq > m)
			m = fol[i].last_seq;
	return m;
}

/*
 * One trigger. Waits until the trigger is answered, every follower has the
 * first new event, every follower has at least want_lines new event lines and
 * all followers agree on the last seq. Returns false on timeout.
 */
static bool run_round(uint64_t want_lines, uint64_t timeout_ns, uint64_t *t_all, uint64_t *t_first,
		      uint64_t *t_trig, uint64_t *min_new_lines)
{
	uint64_t base_lines[MAX_FOLLOWERS];
	round_baseline = max_seq();
	for (int i = 0; i < nfol; i++) {
		fol[i].t_first = 0;
		base_lines[i] = fol[i].lines;
	}
	in_round = true;
	trigger_send();
	uint64_t t0 = trg.t_sent;
	uint64_t deadline = t0 + timeout_ns;
	bool ok = false;
	while (!stop_flag) {
		bool done = !trg.outstanding;
		uint64_t minl = UINT64_MAX;
		int64_t seq0 = fol[0].last_seq;
		for (int i = 0; i < nfol && done; i++) {
			uint64_t nl = fol[i].lines - base_lines[i];
			if (nl < minl)
				minl = nl;
			if (fol[i].t_first == 0 || nl < want_lines || fol[i].last_seq != seq0)
				done = false;
		}
		if (done) {
			uint64_t mx = 0, mn = UINT64_MAX;
			for (int i = 0; i < nfol; i++) {
				if (fol[i].t_first > mx)
					mx = fol[i].t_first;
				if (fol[i].t_first < mn)
					mn = fol[i].t_first;
			}
			*t_all = mx - t0;
			*t_first = mn - t0;
			*t_trig = trg.t_done - t0;
			*min_new_lines = minl;
			ok = true;
			break;
		}
		if (now_ns() >= deadline)
			break;
		pump(ms_until(deadline));
	}
	in_round = false;
	return ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double pct_us(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	double x = p / 100.0 * (double)n;
	size_t k = (size_t)x;
	if ((double)k < x)
		k++;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void usage(FILE *f)
{
	fputs("usage: followlat -s SOCKET -t TRIGGER_PATH [-f FOLLOWERS] [-n EVENTS] [options] [--json]\n"
	      "  -s, --socket PATH        the daemon's Unix socket\n"
	      "  -t, --trigger PATH       request that makes the daemon emit an event (e.g. /v1/commands/renew)\n"
	      "  -m, --method METHOD      method of the trigger request (default POST)\n"
	      "  -b, --body JSON          body of the trigger request (default none)\n"
	      "  -e, --events-path PATH   the follow stream (default /v1/events?follow=1)\n"
	      "  -f, --followers N        streaming followers (default 16)\n"
	      "  -n, --events N           measured events (default 200)\n"
	      "  -W, --warmup-events N    warm-up triggers, not measured (default 3, at least 1)\n"
	      "  -T, --timeout SECONDS    give up on one event after this long (default 5)\n"
	      "  -g, --gap SECONDS        pause between events (default 0)\n"
	      "      --json               print one JSON object\n",
	      f);
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
	char *ep;
	errno = 0;
	long v = strtol(s, &ep, 10);
	if (errno || ep == s || *ep || v < lo || v > hi) {
		fprintf(stderr, "followlat: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static double parse_secs(const char *s, const char *what)
{
	char *ep;
	errno = 0;
	double d = strtod(s, &ep);
	if (errno || ep == s || *ep || !(d >= 0) || d > 3600) {
		fprintf(stderr, "followlat: bad %s: %s\n", what, s);
		exit(2);
	}
	return d;
}

static bool bad_path(const char *p)
{
	return p[0] != '/' || strpbrk(p, " \r\n") != NULL;
}

int main(int argc, char **argv)
{
	const char *trig_path = NULL, *method = "POST", *body = NULL;
	const char *ev_path = "/v1/events?follow=1";
	long nev = 200, nwarm = 3;
	double timeout_s = 5, gap_s = 0;
	bool json = false;
	static const struct option lopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"trigger", required_argument, NULL, 't'},
		{"method", required_argument, NULL, 'm'},
		{"body", required_argument, NULL, 'b'},
		{"events-path", required_argument, NULL, 'e'},
		{"followers", required_argument, NULL, 'f'},
		{"events", required_argument, NULL, 'n'},
		{"warmup-events", required_argument, NULL, 'W'},
		{"timeout", required_argument, NULL, 'T'},
		{"gap", required_argument, NULL, 'g'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "s:t:m:b:e:f:n:W:T:g:jh", lopts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock_path = optarg;
			break;
		case 't':
			trig_path = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		case 'e':
			ev_path = optarg;
			break;
		case 'f':
			nfol = (int)parse_long(optarg, 1, MAX_FOLLOWERS, "follower count");
			break;
		case 'n':
			nev = parse_long(optarg, 1, 10000000, "event count");
			break;
		case 'W':
			nwarm = parse_long(optarg, 1, 1000, "warm-up event count");
			break;
		case 'T':
			timeout_s = parse_secs(optarg, "timeout");
			break;
		case 'g':
			gap_s = parse_secs(optarg, "gap");
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !sock_path || !trig_path) {
		usage(stderr);
		return 2;
	}
	if (bad_path(trig_path) || bad_path(ev_path) || strpbrk(method, " \r\n/") || !*method) {
		fprintf(stderr, "followlat: paths must start with / and contain no spaces or line breaks\n");
		return 2;
	}
	if (timeout_s <= 0)
		timeout_s = 5;
	if (strlen(sock_path) >= sizeof addr.sun_path) {
		fprintf(stderr, "followlat: socket path too long: %s\n", sock_path);
		return 2;
	}
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, sock_path);
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock_path) + 1);

	int rl;
	if (body)
		rl = asprintf(&trig_req,
			      "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
			      "Content-Length: %zu\r\n\r\n%s",
			      method, trig_path, strlen(body), body);
	else
		rl = asprintf(&trig_req, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", method,
			      trig_path);
	if (rl < 0)
		fail_errno("asprintf");
	trig_req_len = (size_t)rl;

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		fail_errno("epoll_create1");

	/* followers: connect, subscribe, wait for all heads, drain any backlog */
	fol = calloc((size_t)nfol, sizeof *fol);
	if (!fol)
		fail_errno("calloc");
	char *greq;
	int gl = asprintf(&greq, "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-ndjson\r\n\r\n",
			  ev_path);
	if (gl < 0)
		fail_errno("asprintf");
	for (int i = 0; i < nfol; i++) {
		struct follower *f = &fol[i];
		f->idx = i;
		f->last_seq = -1;
		arbor_response_parser_init(&f->r, EVLINE_MAX, false);
		f->fd = connect_sock();
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0)
			fail_errno("epoll_ctl");
		if (send_all(f->fd, greq, (size_t)gl) < 0)
			fail_errno("send");
	}
	free(greq);
	uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
	for (;;) {
		int ready = 0;
		for (int i = 0; i < nfol; i++)
			ready += arbor_response_parser_head_done(&fol[i].r);
		if (ready == nfol)
			break;
		if (stop_flag || now_ns() >= deadline) {
			fprintf(stderr, "followlat: only %d of %d followers got the stream's head in %.1f s\n", ready,
				nfol, timeout_s);
			return 1;
		}
		pump(ms_until(deadline) ? ms_until(deadline) : 1);
	}
	drain_quiet(200, 10000);
	trigger_open();

	/* warm-up: learn how many event lines one trigger makes */
	uint64_t per_trigger = 0;
	uint64_t tn = (uint64_t)(timeout_s * 1e9);
	for (long w = 0; w < nwarm && !stop_flag; w++) {
		uint64_t base = fol[0].lines;
		uint64_t a, b, c, m;
		if (!run_round(1, tn, &a, &b, &c, &m)) {
			fprintf(stderr, "followlat: no event reached every follower within %.1f s of %s %s\n",
				timeout_s, method, trig_path);
			return 1;
		}
		drain_quiet(100, 10000);
		if (max_seq() != fol[0].last_seq)
			fail("followers disagree on the last seq after the warm-up");
		per_trigger = fol[0].lines - base;
	}
	if (per_trigger == 0)
		per_trigger = 1;

	/* measured events */
	uint64_t *lat_all = calloc((size_t)nev, sizeof *lat_all);
	uint64_t *lat_first = calloc((size_t)nev, sizeof *lat_first);
	uint64_t *lat_trig = calloc((size_t)nev, sizeof *lat_trig);
	if (!lat_all || !lat_first || !lat_trig)
		fail_errno("calloc");
	size_t got = 0;
	long timeouts = 0;
	uint64_t lines_before = 0;
	for (int i = 0; i < nfol; i++)
		lines_before += fol[i].lines;
	trig_non2xx = 0;
	for (long e = 0; e < nev && !stop_flag; e++) {
		uint64_t a, b, c, m;
		if (run_round(per_trigger, tn, &a, &b, &c, &m)) {
			lat_all[got] = a;
			lat_first[got] = b;
			lat_trig[got] = c;
			got++;
		} else {
			timeouts++;
			drain_quiet(100, 10000);
		}
		if (gap_s > 0) {
			uint64_t until = now_ns() + (uint64_t)(gap_s * 1e9);
			while (!stop_flag && now_ns() < until)
				pump(ms_until(until) ? ms_until(until) : 1);
		}
	}
	uint64_t lines_after = 0, bad = 0;
	for (int i = 0; i < nfol; i++) {
		lines_after += fol[i].lines;
		bad += fol[i].bad_lines;
	}

	qsort(lat_all, got, sizeof *lat_all, cmp_u64);
	qsort(lat_first, got, sizeof *lat_first, cmp_u64);
	qsort(lat_trig, got, sizeof *lat_trig, cmp_u64);
	double all_max = got ? (double)lat_all[got - 1] / 1000.0 : 0;
	double first_max = got ? (double)lat_first[got - 1] / 1000.0 : 0;
	size_t rounds = got + (size_t)timeouts;
	double lines_per_event =
		rounds ? (double)(lines_after - lines_before) / (double)nfol / (double)rounds : 0;

	if (json) {
		printf("{\"socket\":");
		json_str(stdout, sock_path);
		printf(",\"events_path\":");
		json_str(stdout, ev_path);
		printf(",\"trigger\":");
		json_str(stdout, trig_path);
		printf(",\"method\":");
		json_str(stdout, method);
		printf(",\"followers\":%d,\"events\":%zu,\"timeouts\":%ld,\"warmup_events\":%ld"
		       ",\"lines_per_trigger\":%" PRIu64 ",\"lines_per_event_seen\":%.2f"
		       ",\"all_p50_us\":%.1f,\"all_p99_us\":%.1f,\"all_max_us\":%.1f"
		       ",\"first_p50_us\":%.1f,\"first_p99_us\":%.1f,\"first_max_us\":%.1f"
		       ",\"trigger_p50_us\":%.1f,\"trigger_p99_us\":%.1f,\"trigger_non2xx\":%" PRIu64
		       ",\"lines_without_seq\":%" PRIu64 "}\n",
		       nfol, got, timeouts, nwarm, per_trigger, lines_per_event, pct_us(lat_all, got, 50),
		       pct_us(lat_all, got, 99), all_max, pct_us(lat_first, got, 50), pct_us(lat_first, got, 99),
		       first_max, pct_us(lat_trig, got, 50), pct_us(lat_trig, got, 99), trig_non2xx, bad);
	} else {
		printf("target      unix:%s, %d followers of GET %s\n", sock_path, nfol, ev_path);
		printf("trigger     %s %s, %" PRIu64 " event line(s) per trigger\n", method, trig_path, per_trigger);
		printf("events      %zu measured after %ld warm-up, %ld timed out, %" PRIu64 " non-2xx triggers\n",
		       got, nwarm, timeouts, trig_non2xx);
		printf("all         p50 %.1f us, p99 %.1f us, max %.1f us (trigger sent -> every follower has it)\n",
		       pct_us(lat_all, got, 50), pct_us(lat_all, got, 99), all_max);
		printf("first       p50 %.1f us, p99 %.1f us, max %.1f us (trigger sent -> first follower has it)\n",
		       pct_us(lat_first, got, 50), pct_us(lat_first, got, 99), first_max);
		printf("answer      p50 %.1f us, p99 %.1f us (trigger sent -> its HTTP answer complete)\n",
		       pct_us(lat_trig, got, 50), pct_us(lat_trig, got, 99));
		if (bad)
			printf("warning     %" PRIu64 " stream lines had no top-level seq\n", bad);
	}
	for (int i = 0; i < nfol; i++) {
		close(fol[i].fd);
		free(fol[i].lbuf);
		arbor_response_parser_free(&fol[i].r);
	}
	trigger_close();
	arbor_response_parser_free(&trg.r);
	free(fol);
	free(lat_all);
	free(lat_first);
	free(lat_trig);
	free(trig_req);
	close(epfd);
	return got > 0 && timeouts == 0 ? 0 : 1;
}
