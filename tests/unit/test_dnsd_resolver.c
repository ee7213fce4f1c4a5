/* dnsd's resolver (dnsd/resolver.h) against fake DNS servers running in the same
 * libevent loop: child name servers on 127.0.0.1, .2 and .3, all on one random port
 * (glue carries only addresses; the resolver's child_port is set to it), and two
 * forwarders on their own ports. Checked: two levels of delegation, cache hits
 * without a packet, coalescing and cancelling, timeouts within the bound, spoofed
 * responses ignored, TC retried over TCP, referrals without glue and too deep,
 * forwarder failover, health transitions, cancel_all, status. No test sleeps: the
 * loop runs until a condition holds or a timer says it is too late. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "answer.h"
#include "byteorder.h"
#include "dns_wire.h"
#include "resolver.h"
#include "tap.h"

static struct event_base *base;

/* ---- DNS messages ---- */

static size_t wire(const char *text, uint8_t *out)
{
	int n = arbor_dns_name_from_text(text, out, ARBOR_DNS_NAME_WIRE_MAX);
	if (n < 0) {
		fprintf(stderr, "bad name %s\n", text);
		exit(1);
	}
	return (size_t)n;
}

struct msg {
	uint8_t b[ARBOR_DNS_MAX_MSG];
	size_t len;
};

/* A response to query q: its id and question, flags and rcode as given. */
static void begin(struct msg *m, const uint8_t *q, size_t qnamelen, uint16_t flags)
{
	memset(m->b, 0, ARBOR_DNS_HEADER_LEN);
	memcpy(m->b, q, 2);
	put_be16(m->b + 2, (uint16_t)(ARBOR_DNS_FLAG_QR | flags | (get_be16(q + 2) & ARBOR_DNS_FLAG_RD)));
	put_be16(m->b + 4, 1);
	memcpy(m->b + ARBOR_DNS_HEADER_LEN, q + ARBOR_DNS_HEADER_LEN, qnamelen + 4);
	m->len = ARBOR_DNS_HEADER_LEN + qnamelen + 4;
}

static void rr(struct msg *m, int section, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
	       size_t rdlen)
{
	if (owner) {
		m->len += wire(owner, m->b + m->len);
	} else {
		put_be16(m->b + m->len, 0xc00c); /* the question's name */
		m->len += 2;
	}
	put_be16(m->b + m->len, type);
	put_be16(m->b + m->len + 2, ARBOR_DNS_CLASS_IN);
	put_be16(m->b + m->len + 4, (uint16_t)(ttl >> 16));
	put_be16(m->b + m->len + 6, (uint16_t)ttl);
	put_be16(m->b + m->len + 8, (uint16_t)rdlen);
	memcpy(m->b + m->len + 10, rdata, rdlen);
	m->len += 10 + rdlen;
	uint8_t *cnt = m->b + 4 + 2 * section;
	put_be16(cnt, (uint16_t)(get_be16(cnt) + 1));
}

static void a_rr(struct msg *m, int section, const char *owner, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t ip[4] = { a, b, c, d };
	rr(m, section, owner, ARBOR_DNS_TYPE_A, 300, ip, 4);
}

static void ns_rr(struct msg *m, const char *owner, const char *target)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	rr(m, 2, owner, ARBOR_DNS_TYPE_NS, 300, w, wire(target, w));
}

static void soa_rr(struct msg *m, const char *zone)
{
	uint8_t rd[2 * ARBOR_DNS_NAME_WIRE_MAX + 20];
	size_t n = wire("ns.m1.lan0.home.arpa.", rd);
	n += wire("hostmaster.m1.lan0.home.arpa.", rd + n);
	memset(rd + n, 0, 20);
	rd[n + 19] = 60; /* minimum */
	rr(m, 2, zone, ARBOR_DNS_TYPE_SOA, 60, rd, n + 20);
}

/* The last octet of the first A record in the answer section, or -1. */
static int answer_octet(const uint8_t *resp, size_t len)
{
	static struct arbor_dns_message pm;
	if (resp == NULL || arbor_dns_parse(resp, len, &pm) < 0)
		return -1;
	for (size_t i = 0; i < pm.nrr; i++)
		if (pm.rr[i].section == ARBOR_DNS_SECTION_ANSWER && pm.rr[i].type == ARBOR_DNS_TYPE_A)
			return resp[pm.rr[i].rdata_off + 3];
	return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* ---- fake servers ---- */

enum role { ROLE_M1, ROLE_VM, ROLE_DEAD, ROLE_FWD };

#define MAX_CONNS 8

struct fake {
	enum role role;
	const char *ip;
	uint16_t port;
	int ufd;
	struct event *uev;
	struct evconnlistener *lst;
	struct bufferevent *conns[MAX_CONNS];
	bool silent;
	uint8_t tag; /* forwarders: the last octet of their answers */
	unsigned udp_queries, tcp_queries, deep_asked, name_asked;
	const char *count_name; /* queries for this name are counted in name_asked */
	bool last_rd;
};

static struct fake fa = { .role = ROLE_M1, .ip = "127.0.0.1" }, fb = { .role = ROLE_VM, .ip = "127.0.0.2" },
		   fs = { .role = ROLE_DEAD, .ip = "127.0.0.3" }, f1 = { .role = ROLE_FWD, .ip = "127.0.0.1", .tag = 1 },
		   f2 = { .role = ROLE_FWD, .ip = "127.0.0.1", .tag = 2 };
static struct fake *fakes[] = { &fa, &fb, &fs, &f1, &f2 };

static void reset_counts(void)
{
	for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++) {
		fakes[i]->udp_queries = fakes[i]->tcp_queries = fakes[i]->deep_asked = fakes[i]->name_asked = 0;
		fakes[i]->count_name = NULL;
	}
}

/* The deep zone hands out a referral one label further down on every ask. */
static void deep_referral(struct fake *f, struct msg *m, const char *qname)
{
	int labels = 0, deep = 5; /* deep.m1.lan0.home.arpa. */
	for (const char *p = qname; *p; p++)
		labels += *p == '.';
	int skip = labels - deep - (int)f->deep_asked++;
	const char *owner = qname;
	for (int i = 0; i < skip && strchr(owner, '.'); i++)
		owner = strchr(owner, '.') + 1;
	ns_rr(m, owner, "ns.m1.lan0.home.arpa.");
	a_rr(m, 3, "ns.m1.lan0.home.arpa.", 127, 0, 0, 1);
}

static struct msg answer_buf;

/* The fake's answer to q, or NULL for none. spoofs: extra datagrams to send first. */
static const struct msg *answer(struct fake *f, const uint8_t *q, size_t qlen, bool tcp)
{
	static struct arbor_dns_message pm;
	if (arbor_dns_parse(q, qlen, &pm) < 0 || !pm.has_question)
		return NULL;
	if (tcp)
		f->tcp_queries++;
	else
		f->udp_queries++;
	f->last_rd = pm.header.rd;
	const char *qn = pm.question.name;
	if (f->count_name && strcasecmp(qn, f->count_name) == 0)
		f->name_asked++;
	if (f->silent)
		return NULL;
	struct msg *m = &answer_buf;
	size_t nl = pm.question.wire_len;
	switch (f->role) {
	case ROLE_M1:
		if (ends_with(qn, "vm.m1.lan0.home.arpa.")) {
			begin(m, q, nl, 0);
			ns_rr(m, "vm.m1.lan0.home.arpa.", "ns.vm.m1.lan0.home.arpa.");
			a_rr(m, 3, "ns.vm.m1.lan0.home.arpa.", 127, 0, 0, 2);
		} else if (ends_with(qn, "noglue.m1.lan0.home.arpa.")) {
			begin(m, q, nl, 0);
			ns_rr(m, "noglue.m1.lan0.home.arpa.", "ns.elsewhere.example.");
		} else if (ends_with(qn, "deep.m1.lan0.home.arpa.")) {
			begin(m, q, nl, 0);
			deep_referral(f, m, qn);
		} else if (ends_with(qn, "nx.m1.lan0.home.arpa.")) {
			begin(m, q, nl, ARBOR_DNS_FLAG_AA | ARBOR_DNS_RCODE_NXDOMAIN);
			soa_rr(m, "m1.lan0.home.arpa.");
		} else if (ends_with(qn, "big.m1.lan0.home.arpa.")) {
			begin(m, q, nl, ARBOR_DNS_FLAG_AA | (tcp ? 0 : ARBOR_DNS_FLAG_TC));
			for (int i = 0; tcp && i < 100; i++)
				a_rr(m, 1, NULL, 10, 1, 0, (uint8_t)i);
		} else if (ends_with(qn, "refused.m1.lan0.home.arpa.")) {
			begin(m, q, nl, ARBOR_DNS_RCODE_REFUSED);
		} else {
			begin(m, q, nl, ARBOR_DNS_FLAG_AA);
			a_rr(m, 1, NULL, 10, 0, 0, 1);
		}
		return m;
	case ROLE_VM:
		begin(m, q, nl, ARBOR_DNS_FLAG_AA);
		a_rr(m, 1, NULL, 10, 0, 0, 7);
		return m;
	case ROLE_DEAD:
		begin(m, q, nl, ARBOR_DNS_FLAG_AA);
		a_rr(m, 1, NULL, 10, 9, 9, 9);
		return m;
	case ROLE_FWD:
		begin(m, q, nl, ARBOR_DNS_FLAG_RA);
		a_rr(m, 1, NULL, 192, 0, 2, f->tag);
		return m;
	}
	return NULL;
}

/* Datagrams a spoofer would send before the real answer: a wrong id, the right id
 * from another port, the right id for another name. The resolver must take none. */
static void send_spoofs(struct fake *f, const uint8_t *q, struct sockaddr_storage *to, socklen_t tolen,
			const struct msg *real)
{
	static struct msg s;
	s = *real;
	s.b[s.len - 1] = 66; /* the answer's last octet: 10.0.0.66 */
	put_be16(s.b, (uint16_t)(get_be16(q) + 1));
	sendto(f->ufd, s.b, s.len, 0, (struct sockaddr *)to, tolen);
	memcpy(s.b, q, 2);
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(other, s.b, s.len, 0, (struct sockaddr *)to, tolen);
	close(other);
	s.b[ARBOR_DNS_HEADER_LEN + 1] = 'x'; /* "xpoof..." */
	sendto(f->ufd, s.b, s.len, 0, (struct sockaddr *)to, tolen);
}

static void fake_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	uint8_t q[4096];
	struct sockaddr_storage from;
	socklen_t flen = sizeof from;
	ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
	if (n <= 0)
		return;
	const struct msg *m = answer(f, q, (size_t)n, false);
	if (m == NULL)
		return;
	if (f->role == ROLE_M1 && n > 13 && memcmp(q + ARBOR_DNS_HEADER_LEN, "\5spoof", 6) == 0)
		send_spoofs(f, q, &from, flen, m);
	sendto(fd, m->b, m->len, 0, (struct sockaddr *)&from, flen);
}

static void conn_forget(struct fake *f, struct bufferevent *bev)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (f->conns[i] == bev)
			f->conns[i] = NULL;
	bufferevent_free(bev);
}

static void fake_tcp_read(struct bufferevent *bev, void *arg)
{
	struct fake *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t lb[2], q[4096];
	if (evbuffer_copyout(in, lb, 2) < 2 || evbuffer_get_length(in) < 2u + get_be16(lb))
		return;
	size_t n = get_be16(lb);
	evbuffer_drain(in, 2);
	if (n > sizeof q) {
		conn_forget(f, bev);
		return;
	}
	evbuffer_remove(in, q, n);
	const struct msg *m = answer(f, q, n, true);
	if (m) {
		put_be16(lb, (uint16_t)m->len);
		bufferevent_write(bev, lb, 2);
		bufferevent_write(bev, m->b, m->len);
	}
}

static void fake_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_forget(arg, bev);
}

static void fake_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct fake *f = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	int i = 0;
	while (i < MAX_CONNS && f->conns[i])
		i++;
	if (bev == NULL || i == MAX_CONNS) {
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		return;
	}
	f->conns[i] = bev;
	bufferevent_setcb(bev, fake_tcp_read, NULL, fake_tcp_event, f);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* Binds f's UDP socket (port 0: any) and, with tcp, a TCP listener on the same port. */
static bool fake_open(struct fake *f, uint16_t port, bool tcp)
{
	struct sockaddr_in sin = sin_of(f->ip, port);
	socklen_t slen = sizeof sin;
	f->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->ufd < 0 || bind(f->ufd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(f->ufd, (struct sockaddr *)&sin, &slen) < 0) {
		if (f->ufd >= 0)
			close(f->ufd);
		f->ufd = -1;
		return false;
	}
	f->port = ntohs(sin.sin_port);
	if (tcp) {
		f->lst = evconnlistener_new_bind(base, fake_accept, f, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
						 (struct sockaddr *)&sin, sizeof sin);
		if (f->lst == NULL) {
			close(f->ufd);
			f->ufd = -1;
			return false;
		}
	}
	f->uev = event_new(base, f->ufd, EV_READ | EV_PERSIST, fake_udp_cb, f);
	event_add(f->uev, NULL);
	return true;
}

static void fake_close(struct fake *f)
{
	if (f->uev)
		event_free(f->uev);
	if (f->ufd >= 0)
		close(f->ufd);
	if (f->lst)
		evconnlistener_free(f->lst);
	for (int i = 0; i < MAX_CONNS; i++)
		if (f->conns[i])
			bufferevent_free(f->conns[i]);
	memset(f->conns, 0, sizeof f->conns);
	f->uev = NULL;
	f->lst = NULL;
	f->ufd = -1;
}

/* The three child servers on one port (retrying when another process holds it). */
static bool open_children(void)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		if (!fake_open(&fa, 0, true))
			return false;
		if (fake_open(&fb, fa.port, true)) {
			if (fake_open(&fs, fa.port, true))
				return true;
			fake_close(&fb);
		}
		fake_close(&fa);
	}
	return false;
}

/* ---- running the loop ---- */

static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Runs the loop until *count reaches want or seconds pass; returns whether it did. */
static bool run_until(const int *count, int want, double seconds)
{
	bool expired = false;
	struct event *t = evtimer_new(base, on_expire, &expired);
	struct timeval tv = { .tv_sec = (time_t)seconds, .tv_usec = (suseconds_t)((seconds - (int)seconds) * 1e6) };
	evtimer_add(t, &tv);
	while (*count < want && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *count >= want;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- requests ---- */

struct result {
	int calls;
	bool failed;
	int octet; /* answer_octet of the response */
	uint8_t resp[ARBOR_DNS_MAX_MSG];
	size_t len;
	double at;
};

static int done_total;

static void on_done(void *ctx, const uint8_t *resp, size_t len)
{
	struct result *res = ctx;
	res->calls++;
	res->failed = resp == NULL;
	res->octet = answer_octet(resp, len);
	res->len = resp ? len : 0;
	if (resp)
		memcpy(res->resp, resp, len);
	res->at = now_s();
	done_total++;
}

static void make_info(struct dnsd_answer_info *info, enum dnsd_verdict v, const char *qname, const char *apex,
		      const char *glue)
{
	memset(info, 0, sizeof *info);
	info->verdict = v;
	info->have_question = true;
	info->q.name_len = (uint8_t)wire(qname, info->q.name);
	info->q.qtype = ARBOR_DNS_TYPE_A;
	info->q.qclass = ARBOR_DNS_CLASS_IN;
	info->q.id = 0x4242;
	info->q.rd = true;
	info->q.transport = DNSD_TCP;
	if (apex) {
		info->deleg.apex_len = (uint8_t)wire(apex, info->deleg.apex);
		inet_pton(AF_INET, glue, info->deleg.v4[0]);
		info->deleg.nv4 = 1;
	}
}

/* Starts one request; returns what resolver_resolve returned. */
static int ask(struct resolver *r, struct result *res, enum dnsd_verdict v, const char *qname, const char *apex,
	       const char *glue)
{
	struct dnsd_answer_info info;
	make_info(&info, v, qname, apex, glue);
	memset(res, 0, sizeof *res);
	return resolver_resolve(r, &info, on_done, res);
}

static int child(struct resolver *r, struct result *res, const char *qname)
{
	return ask(r, res, DNSD_RECURSE_CHILD, qname, "m1.lan0.home.arpa.", "127.0.0.1");
}

/* Asks and runs the loop until the answer (or 3 s). */
static void ask_wait(struct resolver *r, struct result *res, enum dnsd_verdict v, const char *qname,
		     const char *apex, const char *glue)
{
	int want = done_total + 1;
	ask(r, res, v, qname, apex, glue);
	run_until(&done_total, want, 3);
}

static char events[16][160];
static int nevents;

static void on_health(void *ctx, const char *kind, const char *name, bool up)
{
	if (nevents < 16)
		snprintf(events[nevents++], sizeof events[0], "%s %s %s", kind, name, up ? "up" : "down");
}

static struct resolver_config base_config(void)
{
	struct resolver_config cfg = { .child_port = fa.port, .try_timeout = 0.2, .total_timeout = 2,
				       .health = on_health };
	struct sockaddr_in a = sin_of(f1.ip, f1.port), b = sin_of(f2.ip, f2.port);
	memcpy(&cfg.forwarders[0], &a, sizeof a);
	memcpy(&cfg.forwarders[1], &b, sizeof b);
	cfg.nforwarders = 2;
	return cfg;
}

/* ---- the tests ---- */

/* obj.key as a number, -1 when missing (a broken status must fail a check, not crash). */
static double num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(obj, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}


static struct result res[8];

static void test_two_levels(struct resolver *r)
{
	reset_counts();
	int rc = child(r, &res[0], "www.vm.m1.lan0.home.arpa.");
	CHECK(rc == 0 && res[0].calls == 0, "resolve accepts, and does not call done from inside");
	run_until(&res[0].calls, 1, 3);
	CHECK(res[0].calls == 1 && res[0].octet == 7, "two levels: the referral to vm is followed to 127.0.0.2");
	CHECK(fa.udp_queries == 1 && fb.udp_queries == 1 && !fa.last_rd && !fb.last_rd,
	      "one query to each level, with RD=0");

	/* The response is what dnsd_answer_from_upstream turns into the client's reply. */
	struct dnsd_answer_info info;
	make_info(&info, DNSD_RECURSE_CHILD, "www.vm.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	static uint8_t out[ARBOR_DNS_MAX_MSG];
	int n = dnsd_answer_from_upstream(&info, res[0].resp, res[0].len, out, sizeof out);
	CHECK(n > 0 && get_be16(out) == 0x4242 && answer_octet(out, (size_t)n) == 7,
	      "the response is one dnsd_answer_from_upstream accepts");

	reset_counts();
	rc = child(r, &res[1], "WWW.vm.M1.lan0.home.arpa.");
	CHECK(rc == 0 && res[1].calls == 0, "a cache hit is not delivered from inside resolve either");
	run_until(&res[1].calls, 1, 3);
	CHECK(res[1].calls == 1 && res[1].octet == 7 && fa.udp_queries == 0 && fb.udp_queries == 0,
	      "asked again (another case): answered from the cache, no packet sent");

	reset_counts();
	ask_wait(r, &res[2], DNSD_FORWARD, "www.vm.m1.lan0.home.arpa.", NULL, NULL);
	CHECK(res[2].calls == 1 && res[2].octet == 1 && f1.udp_queries == 1,
	      "the same name forwarded is another cache key");
}

static void test_coalescing(struct resolver *r)
{
	reset_counts();
	fa.count_name = "co.m1.lan0.home.arpa.";
	int want = done_total + 4;
	for (int i = 0; i < 5; i++)
		child(r, &res[i], "co.m1.lan0.home.arpa.");
	CHECK(resolver_cancel(r, &res[2]) == 1, "one of them is cancelled");
	run_until(&done_total, want, 3);
	bool ok = true;
	for (int i = 0; i < 5; i++)
		ok = ok && (i == 2 ? res[i].calls == 0 : res[i].calls == 1 && res[i].octet == 1);
	CHECK(ok, "five identical questions: four answered once each, the cancelled one never");
	CHECK(fa.name_asked == 1, "and one query went upstream");
}

static void test_failures(struct resolver *r)
{
	reset_counts();
	ask_wait(r, &res[0], DNSD_RECURSE_CHILD, "x.noglue.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	CHECK(res[0].calls == 1 && res[0].failed && fa.udp_queries == 1,
	      "a referral without glue fails (the NS name is not resolved)");

	ask_wait(r, &res[1], DNSD_RECURSE_CHILD, "a.b.c.d.e.deep.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	CHECK(res[1].calls == 1 && res[1].failed && fa.deep_asked == 4,
	      "referrals are followed to max_depth (3), then it fails");

	ask_wait(r, &res[2], DNSD_RECURSE_CHILD, "nx.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	CHECK(res[2].calls == 1 && !res[2].failed && (get_be16(res[2].resp + 2) & 0xf) == ARBOR_DNS_RCODE_NXDOMAIN,
	      "NXDOMAIN ends the resolution");

	reset_counts();
	ask_wait(r, &res[3], DNSD_RECURSE_CHILD, "refused.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	CHECK(res[3].calls == 1 && res[3].failed && fa.udp_queries == 2,
	      "REFUSED: the server is tried again (2 rounds), then it fails");

	reset_counts();
	ask_wait(r, &res[4], DNSD_RECURSE_CHILD, "www.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.9");
	CHECK(res[4].calls == 1 && res[4].failed && res[4].at > 0, "an address nobody listens on fails at once");

	struct dnsd_answer_info info;
	make_info(&info, DNSD_ANSWERED, "www.m1.lan0.home.arpa.", NULL, NULL);
	CHECK(resolver_resolve(r, &info, on_done, &res[5]) == -EINVAL, "another verdict: -EINVAL");
	CHECK(resolver_resolve(NULL, &info, on_done, &res[5]) == -EINVAL, "no resolver: -EINVAL");
}

static void test_spoof_and_tcp(struct resolver *r)
{
	reset_counts();
	ask_wait(r, &res[0], DNSD_RECURSE_CHILD, "spoof.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	CHECK(res[0].calls == 1 && res[0].octet == 1, "spoofed responses (wrong id, port, question) are not taken");
	cJSON *st = cJSON_CreateObject();
	resolver_status(r, st);
	CHECK(num(cJSON_GetObjectItem(st, "resolver"), "ignored_responses") >= 2, "and they are counted as ignored");
	cJSON_Delete(st);

	reset_counts();
	ask_wait(r, &res[1], DNSD_RECURSE_CHILD, "big.m1.lan0.home.arpa.", "m1.lan0.home.arpa.", "127.0.0.1");
	static struct arbor_dns_message pm;
	bool parsed = res[1].calls == 1 && !res[1].failed && arbor_dns_parse(res[1].resp, res[1].len, &pm) == 0;
	CHECK(parsed && pm.header.ancount == 100 && !pm.header.tc && fa.udp_queries == 1 && fa.tcp_queries == 1,
	      "TC over UDP: asked again over TCP, the whole answer comes back");
}

static void test_timeouts(struct resolver *r)
{
	/* One silent server, 0.2 s per try, 2 tries. */
	reset_counts();
	fs.silent = true;
	nevents = 0;
	double t0 = now_s();
	ask_wait(r, &res[0], DNSD_RECURSE_CHILD, "www.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	double took = res[0].at - t0;
	CHECK(res[0].calls == 1 && res[0].failed && fs.udp_queries == 2, "a silent server: two tries, then done(NULL)");
	CHECK(took >= 0.35 && took < 1.0, "after two try timeouts (0.4 s)");

	/* The total bound cuts the second try short. */
	struct resolver_config cfg = base_config();
	cfg.try_timeout = 0.3;
	cfg.total_timeout = 0.5;
	struct resolver *r2 = resolver_new(base, &cfg, NULL, 0);
	t0 = now_s();
	ask_wait(r2, &res[1], DNSD_RECURSE_CHILD, "www2.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	took = res[1].at - t0;
	CHECK(res[1].calls == 1 && res[1].failed && took >= 0.45 && took < 0.9,
	      "total_timeout bounds the whole resolution (0.5 s)");
	resolver_free(r2);

	/* Child health: the third failed try marks the apex down, a success brings it up. */
	CHECK(nevents == 0, "two failed tries: the child is not down yet");
	ask_wait(r, &res[2], DNSD_RECURSE_CHILD, "www3.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	CHECK(nevents == 1 && strcmp(events[0], "child dead.lan0.home.arpa. down") == 0,
	      "the third failed try: child down");
	fs.silent = false;
	ask_wait(r, &res[3], DNSD_RECURSE_CHILD, "www4.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	CHECK(res[3].octet == 9 && nevents == 2 && strcmp(events[1], "child dead.lan0.home.arpa. up") == 0,
	      "the next answer: child up");
}

static void test_forwarders(struct resolver *r)
{
	char down[96], up[96];
	snprintf(down, sizeof down, "upstream 127.0.0.1:%u down", f1.port);
	snprintf(up, sizeof up, "upstream 127.0.0.1:%u up", f1.port);
	reset_counts();
	nevents = 0;
	ask_wait(r, &res[0], DNSD_FORWARD, "www.example.com.", NULL, NULL);
	CHECK(res[0].octet == 1 && f1.udp_queries == 1 && f1.last_rd && f2.udp_queries == 0,
	      "forwarded with RD=1 to the first forwarder");

	f1.silent = true;
	bool ok = true;
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "f%d.example.com.", i);
		ask_wait(r, &res[1], DNSD_FORWARD, name, NULL, NULL);
		ok = ok && res[1].octet == 2;
	}
	CHECK(ok && f1.udp_queries == 4 && f2.udp_queries == 3, "the first forwarder times out: the second answers");
	CHECK(nevents == 1 && strcmp(events[0], down) == 0, "after three failed tries: upstream down");

	reset_counts();
	ask_wait(r, &res[2], DNSD_FORWARD, "f4.example.com.", NULL, NULL);
	CHECK(res[2].octet == 2 && f1.udp_queries == 0 && f2.udp_queries == 1,
	      "a forwarder that is down is asked last");

	f1.silent = false;
	f2.silent = true;
	ask_wait(r, &res[3], DNSD_FORWARD, "f5.example.com.", NULL, NULL);
	CHECK(res[3].octet == 1 && nevents == 2 && strcmp(events[1], up) == 0,
	      "the second times out, the first answers: upstream up");
	f2.silent = false;

	cJSON *st = cJSON_CreateObject();
	resolver_status(r, st);
	cJSON *fw = cJSON_GetObjectItem(st, "forwarders");
	cJSON *first = cJSON_GetArrayItem(fw, 0);
	cJSON *cache = cJSON_GetObjectItem(st, "cache");
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(first, "state"));
	CHECK(cJSON_GetArraySize(fw) == 2 && state && strcmp(state, "up") == 0 && num(first, "failures") == 3 &&
		      num(cache, "entries") > 0 &&
		      cJSON_GetArraySize(cJSON_GetObjectItem(st, "children")) == 2,
	      "status: forwarders with state and counters, children, cache");
	cJSON_Delete(st);

	/* Reprobe: with a short interval a forwarder that is down is tried first again. */
	struct resolver_config cfg = base_config();
	cfg.reprobe_interval = 0.05;
	struct resolver *r2 = resolver_new(base, &cfg, NULL, 0);
	f1.silent = true;
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof name, "p%d.example.com.", i);
		ask_wait(r2, &res[4], DNSD_FORWARD, name, NULL, NULL);
	}
	f1.silent = false;
	reset_counts();
	int never = 0;
	run_until(&never, 1, 0.1); /* let the reprobe interval pass */
	ask_wait(r2, &res[5], DNSD_FORWARD, "p9.example.com.", NULL, NULL);
	CHECK(res[5].octet == 1 && f1.udp_queries == 1 && f2.udp_queries == 0,
	      "after reprobe_interval the forwarder that was down is tried first");
	resolver_free(r2);
}

static void test_lifecycle(void)
{
	struct resolver_config cfg = base_config();
	char err[128] = "";
	cfg.forwarders[1].ss_family = AF_UNIX;
	CHECK(resolver_new(base, &cfg, err, sizeof err) == NULL && strstr(err, "forwarders[1]") != NULL,
	      "a forwarder that is not IP is refused, naming it");
	cfg = base_config();
	cfg.try_timeout = -1;
	CHECK(resolver_new(base, &cfg, err, sizeof err) == NULL && strstr(err, "try_timeout") != NULL,
	      "a negative timeout is refused");

	cfg = base_config();
	cfg.nforwarders = 0;
	struct resolver *r = resolver_new(base, &cfg, err, sizeof err);
	ask_wait(r, &res[0], DNSD_FORWARD, "nofwd.example.com.", NULL, NULL);
	CHECK(res[0].calls == 1 && res[0].failed, "no forwarders: done(NULL), from the loop");

	fs.silent = true;
	ask(r, &res[1], DNSD_RECURSE_CHILD, "x.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	ask(r, &res[2], DNSD_RECURSE_CHILD, "x.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	resolver_cancel_all(r);
	CHECK(res[1].calls == 1 && res[1].failed && res[2].calls == 1 && res[2].failed,
	      "cancel_all: every pending request gets done(NULL) at once");

	ask(r, &res[3], DNSD_RECURSE_CHILD, "y.dead.lan0.home.arpa.", "dead.lan0.home.arpa.", "127.0.0.3");
	resolver_free(r);
	int never = 0;
	run_until(&never, 1, 0.3);
	CHECK(res[3].calls == 0, "free: nothing is called afterwards");
	fs.silent = false;

	cfg = base_config();
	cfg.no_cache = true;
	r = resolver_new(base, &cfg, err, sizeof err);
	reset_counts();
	ask_wait(r, &res[4], DNSD_FORWARD, "nc.example.com.", NULL, NULL);
	ask_wait(r, &res[5], DNSD_FORWARD, "nc.example.com.", NULL, NULL);
	cJSON *st = cJSON_CreateObject();
	resolver_status(r, st);
	CHECK(res[5].octet == 1 && f1.udp_queries == 2 && cJSON_IsNull(cJSON_GetObjectItem(st, "cache")),
	      "no_cache: every request goes upstream");
	cJSON_Delete(st);
	resolver_free(r);
}

int main(void)
{
	base = event_base_new();
	for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++)
		fakes[i]->ufd = -1;
	bool up = open_children() && fake_open(&f1, 0, false) && fake_open(&f2, 0, false);
	CHECK(up, "fake servers on 127.0.0.1-3 (one port) and two forwarders");
	if (!up)
		return tap_done();

	struct resolver_config cfg = base_config();
	cfg.max_depth = 3;
	char err[128];
	struct resolver *r = resolver_new(base, &cfg, err, sizeof err);
	CHECK(r != NULL, "resolver_new");
	test_two_levels(r);
	test_coalescing(r);
	test_failures(r);
	test_spoof_and_tcp(r);
	test_timeouts(r);
	test_forwarders(r);
	resolver_free(r);
	test_lifecycle();

	for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++)
		fake_close(fakes[i]);
	event_base_free(base);
	return tap_done();
}
