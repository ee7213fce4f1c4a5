/*
 * uxload: a small HTTP/1.1 keep-alive load generator over a Unix socket.
 *
 *   uxload -s SOCKET -p PATH -c CONNECTIONS -d SECONDS [-w WARMUP_SECONDS] [--json]
 *
 * One thread, one epoll set, non-blocking sockets. Each connection sends
 * "GET PATH HTTP/1.1", reads the whole response (Content-Length, chunked, or
 * until close) with libarbor's response parser (common/http_response.c, the one
 * healthd's checks use), then sends the next request on the same connection. Counters
 * and latencies are reset when the warm-up ends; everything that completes in
 * the measurement window counts. A connection the server closes is reopened
 * and counted as a reconnect (an error too if it was closed mid-response).
 *
 * This is a benchmark tool; it asserts nothing about speed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "http_response.h"

#define RBUF_SIZE 65536
#define MAX_CONNS 10000
#define BODY_MAX (16u << 20)

/* One response being read: the parser, and its size on the wire. */
struct resp {
	struct arbor_response_parser p;
	uint64_t total_bytes;
};

enum cstate { C_DOWN, C_CONNECTING, C_BUSY };

struct conn {
	int fd;
	enum cstate cs;
	bool want_out;    /* EPOLLOUT armed */
	bool req_pending; /* request not (fully) written yet */
	size_t woff;
	uint64_t t_start;
	uint64_t retry_at; /* when C_DOWN: monotonic ns to try again */
	uint64_t served;   /* responses completed on this connection */
	struct resp r;
};

struct stats {
	uint64_t requests, non2xx, errors, reconnects;
	uint64_t resp_bytes, body_bytes;
	uint64_t *lat; /* ns */
	size_t nlat, caplat;
};

static const char *sock_path;
static const char *req_path;
static char *request;
static size_t request_len;
static struct sockaddr_un addr;
static socklen_t addr_len;
static int epfd = -1;
static bool measuring;
static long ndown; /* connections in C_DOWN, waiting to be (re)opened */
static struct stats st;
static volatile sig_atomic_t stop_flag;

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void reset_counters(void)
{
	st.requests = st.non2xx = st.errors = st.reconnects = 0;
	st.resp_bytes = st.body_bytes = 0;
	st.nlat = 0;
}

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

static void die(const char *what)
{
	fprintf(stderr, "uxload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void count_error(void)
{
	if (measuring)
		st.errors++;
}

static void count_reconnect(void)
{
	if (measuring)
		st.reconnects++;
}

static void record(const struct resp *r, uint64_t lat)
{
	if (!measuring)
		return;
	st.requests++;
	if (r->p.status < 200 || r->p.status > 299)
		st.non2xx++;
	st.resp_bytes += r->total_bytes;
	st.body_bytes += r->p.body.len;
	if (st.nlat == st.caplat) {
		size_t ncap = st.caplat ? st.caplat * 2 : 65536;
		uint64_t *n = realloc(st.lat, ncap * sizeof *n);
		if (!n)
			die("realloc");
		st.lat = n;
		st.caplat = ncap;
	}
	st.lat[st.nlat++] = lat;
}

/* ---- responses ---------------------------------------------------------- */

static void resp_reset(struct resp *r)
{
	arbor_response_parser_free(&r->p);
	arbor_response_parser_init(&r->p, BODY_MAX, false);
	r->total_bytes = 0;
}

/* The server's answer says the connection ends after it (HTTP/1.0 is taken
 * as close: neither server under test keeps an HTTP/1.0 connection). */
static bool resp_closes(const struct resp *r)
{
	return r->p.connection_close || r->p.minor_version == 0;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	if (c->cs != C_DOWN)
		ndown++;
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->cs = C_DOWN;
	c->want_out = false;
}

static void set_out(struct conn *c, bool on)
{
	if (c->want_out == on)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->want_out = on;
}

static void conn_down(struct conn *c, uint64_t delay_ns)
{
	conn_close(c);
	c->retry_at = now_ns() + delay_ns;
}

/* Write (the rest of) the request. Returns 0, or -1 if the connection failed. */
static int conn_write(struct conn *c)
{
	while (c->woff < request_len) {
		ssize_t w = send(c->fd, request + c->woff, request_len - c->woff, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_out(c, true);
				return 0;
			}
			return -1;
		}
		c->woff += (size_t)w;
	}
	c->req_pending = false;
	set_out(c, false);
	return 0;
}

/*
 * The connection failed while a request was outstanding. If no byte of the
 * response arrived and the connection had already served a response, the
 * server closed an idle keep-alive connection (a race every HTTP/1.1 client
 * must tolerate): reconnect and resend, not an error. Anything else is one.
 */
static void conn_failed(struct conn *c)
{
	bool idle_close = c->served > 0 && c->r.total_bytes == 0;
	if (!idle_close)
		count_error();
	count_reconnect();
	conn_down(c, 0);
}

static void conn_start_request(struct conn *c)
{
	resp_reset(&c->r);
	c->woff = 0;
	c->req_pending = true;
	c->cs = C_BUSY;
	c->t_start = now_ns();
	if (conn_write(c) < 0)
		conn_failed(c);
}

static void conn_open(struct conn *c)
{
	ndown--;
	c->cs = C_CONNECTING;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	c->want_out = false;
	c->served = 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	if (connect(c->fd, (struct sockaddr *)&addr, addr_len) == 0) {
		conn_start_request(c);
		return;
	}
	if (errno == EINPROGRESS) {
		c->cs = C_CONNECTING;
		set_out(c, true);
		return;
	}
	if (errno == EAGAIN) {
		/* listen backlog full: not an error, try again shortly */
		conn_down(c, 200000);
		return;
	}
	count_error();
	conn_down(c, 10000000);
}

static void conn_readable(struct conn *c)
{
	static char buf[RBUF_SIZE];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			conn_failed(c);
			return;
		}
		if (n == 0) {
			/* A body that runs until close is complete now; anything else is cut. */
			if (c->r.total_bytes > 0 && arbor_response_parser_finish_on_eof(&c->r.p) == ARBOR_RESPONSE_DONE) {
				uint64_t t = now_ns();
				record(&c->r, t - c->t_start);
				count_reconnect();
				conn_down(c, 0);
			} else {
				conn_failed(c);
			}
			return;
		}
		if (c->cs != C_BUSY || c->req_pending) {
			/* data before the request went out, or with none outstanding */
			count_error();
			count_reconnect();
			conn_down(c, 0);
			return;
		}
		size_t used = 0;
		enum arbor_response_status rc = arbor_response_parser_feed(&c->r.p, buf, (size_t)n, &used);
		c->r.total_bytes += used;
		if (rc == ARBOR_RESPONSE_ERROR || (rc == ARBOR_RESPONSE_DONE && used != (size_t)n)) {
			count_error(); /* malformed, or bytes beyond the response */
			count_reconnect();
			conn_down(c, 0);
			return;
		}
		if (rc == ARBOR_RESPONSE_DONE) {
			uint64_t t = now_ns();
			record(&c->r, t - c->t_start);
			c->served++;
			if (resp_closes(&c->r)) {
				count_reconnect();
				conn_down(c, 0);
			} else {
				conn_start_request(c);
			}
			return;
		}
		if ((size_t)n < sizeof buf)
			return; /* most likely drained; wait for the next event */
	}
}

static void conn_writable(struct conn *c)
{
	if (c->cs == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
			count_error();
			conn_down(c, 10000000);
			return;
		}
		conn_start_request(c);
		return;
	}
	if (c->cs == C_BUSY && c->req_pending) {
		if (conn_write(c) < 0)
			conn_failed(c);
	} else {
		set_out(c, false);
	}
}

/* ---- output ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* nearest-rank percentile, in microseconds */
static double pct_us(double p)
{
	if (st.nlat == 0)
		return 0;
	double x = p / 100.0 * (double)st.nlat;
	size_t k = (size_t)x;
	if ((double)k < x)
		k++; /* ceil */
	if (k < 1)
		k = 1;
	if (k > st.nlat)
		k = st.nlat;
	return (double)st.lat[k - 1] / 1000.0;
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
	fputs("usage: uxload -s SOCKET -p PATH -c CONNECTIONS -d SECONDS [-w WARMUP_SECONDS] [--json]\n"
	      "  HTTP/1.1 keep-alive GET load over a Unix socket; prints requests/s, p50/p99 latency\n"
	      "  (microseconds), non-2xx and error counts, reconnects and the mean response size.\n",
	      f);
}

static double parse_secs(const char *s, const char *what)
{
	char *ep;
	errno = 0;
	double d = strtod(s, &ep);
	if (errno || ep == s || *ep || !(d >= 0) || d > 86400) {
		fprintf(stderr, "uxload: bad %s: %s\n", what, s);
		exit(2);
	}
	return d;
}

int main(int argc, char **argv)
{
	long nconns = 1;
	double dur = 5, warm = 0;
	bool json = false;
	static const struct option lopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"path", required_argument, NULL, 'p'},
		{"connections", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "s:p:c:d:w:jh", lopts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock_path = optarg;
			break;
		case 'p':
			req_path = optarg;
			break;
		case 'c': {
			char *ep;
			errno = 0;
			nconns = strtol(optarg, &ep, 10);
			if (errno || *ep || nconns < 1 || nconns > MAX_CONNS) {
				fprintf(stderr, "uxload: bad connection count: %s\n", optarg);
				return 2;
			}
			break;
		}
		case 'd':
			dur = parse_secs(optarg, "duration");
			break;
		case 'w':
			warm = parse_secs(optarg, "warm-up");
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
	if (optind != argc || !sock_path || !req_path || dur <= 0) {
		usage(stderr);
		return 2;
	}
	if (req_path[0] != '/' || strpbrk(req_path, " \r\n")) {
		fprintf(stderr, "uxload: PATH must start with / and contain no spaces or line breaks\n");
		return 2;
	}
	if (strlen(sock_path) >= sizeof addr.sun_path) {
		fprintf(stderr, "uxload: socket path too long: %s\n", sock_path);
		return 2;
	}
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, sock_path);
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock_path) + 1);

	if (asprintf(&request, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", req_path) < 0)
		die("asprintf");
	request_len = strlen(request);

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	struct conn *conns = calloc((size_t)nconns, sizeof *conns);
	if (!conns)
		die("calloc");

	uint64_t t0 = now_ns();
	uint64_t t_measure = t0 + (uint64_t)(warm * 1e9);
	uint64_t t_end = t_measure + (uint64_t)(dur * 1e9);
	measuring = warm <= 0;
	double cpu0 = cpu_seconds();
	for (long i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].cs = C_DOWN;
		conns[i].retry_at = 0; /* opened by the first loop iteration */
	}
	ndown = nconns;

	struct epoll_event evs[256];
	uint64_t now = now_ns();
	while (!stop_flag && now < t_end) {
		if (!measuring && now >= t_measure) {
			measuring = true;
			reset_counters();
			cpu0 = cpu_seconds();
		}
		/* reopen connections that are down and due */
		uint64_t next = measuring ? t_end : t_measure;
		for (long i = 0; ndown > 0 && i < nconns; i++) {
			struct conn *c = &conns[i];
			if (c->cs != C_DOWN)
				continue;
			if (c->retry_at <= now)
				conn_open(c);
			if (c->cs == C_DOWN && c->retry_at < next)
				next = c->retry_at;
		}
		now = now_ns();
		int timeout = 0;
		if (next > now) {
			uint64_t ms = (next - now + 999999) / 1000000;
			timeout = ms > 100 ? 100 : (int)ms;
		}
		int n = epoll_wait(epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout);
		if (n < 0) {
			if (errno == EINTR) {
				now = now_ns();
				continue;
			}
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			uint32_t e = evs[i].events;
			if ((e & EPOLLOUT) && c->cs != C_DOWN)
				conn_writable(c);
			if ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->fd >= 0) {
				if (c->cs == C_CONNECTING)
					conn_writable(c);
				else
					conn_readable(c);
			}
		}
		now = now_ns();
	}
	if (!measuring) {
		/* interrupted during warm-up */
		measuring = true;
		reset_counters();
		t_measure = now;
		cpu0 = cpu_seconds();
	}
	double elapsed = (double)((now < t_end ? now : t_end) - t_measure) / 1e9;
	/* this process's own CPU use: near 1.0 means uxload, not the server, is the limit */
	double cpu_util = elapsed > 0 ? (cpu_seconds() - cpu0) / elapsed : 0;
	for (long i = 0; i < nconns; i++) {
		conn_close(&conns[i]);
		arbor_response_parser_free(&conns[i].r.p);
	}

	if (st.nlat)
		qsort(st.lat, st.nlat, sizeof *st.lat, cmp_u64);
	double rps = elapsed > 0 ? (double)st.requests / elapsed : 0;
	double mean_us = 0;
	for (size_t i = 0; i < st.nlat; i++)
		mean_us += (double)st.lat[i];
	mean_us = st.nlat ? mean_us / (double)st.nlat / 1000.0 : 0;
	double max_us = st.nlat ? (double)st.lat[st.nlat - 1] / 1000.0 : 0;
	double mean_resp = st.requests ? (double)st.resp_bytes / (double)st.requests : 0;
	double mean_body = st.requests ? (double)st.body_bytes / (double)st.requests : 0;

	if (json) {
		printf("{\"socket\":");
		json_str(stdout, sock_path);
		printf(",\"path\":");
		json_str(stdout, req_path);
		printf(",\"connections\":%ld,\"duration_s\":%.3f,\"warmup_s\":%.3f"
		       ",\"requests\":%" PRIu64 ",\"rps\":%.1f"
		       ",\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f"
		       ",\"non2xx\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"reconnects\":%" PRIu64
		       ",\"mean_response_bytes\":%.1f,\"mean_body_bytes\":%.1f,\"client_cpu\":%.2f}\n",
		       nconns, elapsed, warm, st.requests, rps, pct_us(50), pct_us(90), pct_us(99), max_us,
		       mean_us, st.non2xx, st.errors, st.reconnects, mean_resp, mean_body, cpu_util);
	} else {
		printf("target      unix:%s GET %s\n", sock_path, req_path);
		printf("load        %ld connection%s, %.2f s measured after %.2f s warm-up\n", nconns,
		       nconns == 1 ? "" : "s", elapsed, warm);
		printf("requests    %" PRIu64 " (%.1f/s)\n", st.requests, rps);
		printf("latency     p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us, mean %.1f us\n",
		       pct_us(50), pct_us(90), pct_us(99), max_us, mean_us);
		printf("non-2xx     %" PRIu64 "\n", st.non2xx);
		printf("errors      %" PRIu64 "\n", st.errors);
		printf("reconnects  %" PRIu64 "\n", st.reconnects);
		printf("response    %.1f bytes mean (body %.1f bytes)\n", mean_resp, mean_body);
		printf("client cpu  %.0f%% of one core\n", cpu_util * 100);
	}
	free(conns);
	free(st.lat);
	free(request);
	close(epfd);
	return st.requests ? 0 : 1;
}
