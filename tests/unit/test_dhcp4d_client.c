/* dhcp4d's client state machine (client.c), driven with a fake clock, a recording
 * send callback (every packet parsed back with dhcp_parse and checked against RFC
 * 2131 table 5) and a recording lease callback that can be told to fail. Server
 * replies are built with dhcp_build_reply from the client's own request. Covers
 * INIT → SELECTING → REQUESTING → BOUND → RENEWING → REBINDING → expiry, back-off,
 * ignored replies, NAKs, INIT-REBOOT, the commands, carrier, callback failure,
 * infinite leases, and that client_next_wakeup says when the machine acts.
 * The "zero" and "start" checks are regressions found by this test. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "tap.h"

#define T0 1700000000.0
#define FAR 1e17 /* client.c's "never" is 1e18 */

static struct in_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct in_addr r;
	r.s_addr = htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
	return r;
}
#define SERVER ip4(192, 0, 2, 1)
#define SERVER2 ip4(192, 0, 2, 2)
#define ADDR ip4(192, 0, 2, 50)
#define ADDR2 ip4(192, 0, 2, 51)
#define NONE ip4(0, 0, 0, 0)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- the fake world ---- */

static double clk; /* the fake wall clock, what every call below passes as now */

#define MAXSENT 256
#define MAXEV 64
struct sent_pkt {
	uint8_t buf[1500];
	size_t len;
	struct in_addr dest;
	double at;
};
struct lease_ev {
	enum client_lease_event ev;
	struct client_lease lease;
	bool has_old;
	struct client_lease old;
	int rc;
};
static struct {
	struct sent_pkt sent[MAXSENT]; /* a ring: packet i is at i % MAXSENT */
	size_t nsent;
	struct lease_ev ev[MAXEV];
	size_t nev;
	int fail; /* how many of the next lease calls return -EIO */
	size_t notes;
	char note[200];
} R;

static void rec_send(void *ctx, const uint8_t *pkt, size_t len, struct in_addr dest)
{
	struct sent_pkt *s = &R.sent[R.nsent++ % MAXSENT];
	s->len = len < sizeof s->buf ? len : sizeof s->buf;
	memcpy(s->buf, pkt, s->len);
	s->dest = dest;
	s->at = clk;
}

static int rec_lease(void *ctx, enum client_lease_event ev, const struct client_lease *l, const struct client_lease *old)
{
	struct lease_ev *e = &R.ev[R.nev++ % MAXEV];
	e->ev = ev;
	e->lease = *l;
	e->has_old = old != NULL;
	if (old)
		e->old = *old;
	e->rc = 0;
	if (R.fail > 0) {
		R.fail--;
		e->rc = -EIO;
	}
	return e->rc;
}

static void rec_note(void *ctx, const char *msg)
{
	R.notes++;
	snprintf(R.note, sizeof R.note, "%s", msg);
}

static const struct client_ops OPS = { rec_send, rec_lease, rec_note };

static struct client_identity identity(void)
{
	struct client_identity id;
	memset(&id, 0, sizeof id);
	memcpy(id.mac, MAC, 6);
	id.client_id[0] = 1;
	memcpy(id.client_id + 1, MAC, 6);
	id.client_id_len = 7;
	snprintf(id.hostname, sizeof id.hostname, "arbor-test");
	snprintf(id.vendor_class, sizeof id.vendor_class, "arbor");
	return id;
}

static void start(struct dhcp_client *c, const struct client_lease *saved, double at)
{
	memset(&R, 0, sizeof R);
	clk = at;
	struct client_identity id = identity();
	client_init(c, &id, &OPS, NULL, saved, 12345, clk);
}

static const struct lease_ev *last_ev(void)
{
	return R.nev ? &R.ev[(R.nev - 1) % MAXEV] : NULL;
}

static bool last_ev_is(enum client_lease_event ev)
{
	return R.nev && last_ev()->ev == ev;
}

/* Packet i (0-based, of all sent) parsed; NULL if it does not parse. */
static struct dhcp_message SM; /* the client's packet, parsed */
static const struct sent_pkt *sent_raw(size_t i)
{
	return &R.sent[i % MAXSENT];
}
static const struct dhcp_message *sent_msg(size_t i)
{
	if (i >= R.nsent)
		return NULL;
	const struct sent_pkt *s = sent_raw(i);
	char err[160];
	if (dhcp_parse(s->buf, s->len, &SM, err, sizeof err) < 0) {
		printf("# sent packet %zu does not parse: %s\n", i, err);
		return NULL;
	}
	return &SM;
}
static const struct dhcp_message *last_sent(void)
{
	return R.nsent ? sent_msg(R.nsent - 1) : NULL;
}
static struct in_addr last_dest(void)
{
	return R.nsent ? sent_raw(R.nsent - 1)->dest : ip4(255, 255, 255, 255);
}

static bool has_opt(const struct dhcp_message *m, uint8_t code)
{
	size_t len;
	return dhcp_option(m, code, &len) != NULL;
}
static bool opt_ip_is(const struct dhcp_message *m, uint8_t code, struct in_addr want)
{
	struct in_addr a;
	return dhcp_option_ipv4(m, code, &a) == 0 && a.s_addr == want.s_addr;
}
static bool same_ip(struct in_addr a, struct in_addr b)
{
	return a.s_addr == b.s_addr;
}
static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* A common shape for the client's messages: a request from our MAC with our id. */
static bool well_formed(const struct dhcp_message *m, const struct dhcp_client *c)
{
	if (m == NULL)
		return false;
	size_t len;
	const uint8_t *cid = dhcp_option(m, DHCP_OPT_CLIENT_ID, &len);
	return m->op == DHCP_OP_REQUEST && m->htype == DHCP_HTYPE_ETHERNET && m->hlen == 6 &&
	       memcmp(m->chaddr, MAC, 6) == 0 && m->xid == c->xid && cid && len == 7 && cid[0] == 1 &&
	       memcmp(cid + 1, MAC, 6) == 0 && same_ip(m->yiaddr, NONE);
}

/* ---- the fake server ---- */

struct srv {
	struct in_addr server; /* 54; 0.0.0.0: left out */
	bool no_lease;         /* leave 51 out */
	uint32_t lease;        /* 51 */
	bool has_t1, has_t2;
	uint32_t t1, t2; /* 58, 59 */
	bool no_mask;    /* leave 1 out */
};
static struct srv def(void)
{
	struct srv s = { .server = SERVER, .lease = 3600 };
	return s;
}

static struct dhcp_message RM; /* the server's reply, parsed */
static uint8_t reply_buf[1500];

/* A reply to req, parsed into RM. NULL (with a diagnostic) if it cannot be built. */
static struct dhcp_message *make_reply(const struct dhcp_message *req, uint8_t type, struct in_addr yiaddr,
				       const struct srv *s)
{
	struct dhcp_builder b;
	int rc = dhcp_build_reply(&b, reply_buf, sizeof reply_buf, req, type, type == DHCP_NAK ? NONE : yiaddr, NONE);
	if (type != DHCP_NAK) {
		struct in_addr router = SERVER, dns[2] = { ip4(192, 0, 2, 53), ip4(192, 0, 2, 54) };
		if (rc == 0 && !s->no_mask)
			rc = dhcp_put_ipv4(&b, DHCP_OPT_SUBNET_MASK, ip4(255, 255, 255, 0));
		if (rc == 0)
			rc = dhcp_put_ipv4_list(&b, DHCP_OPT_ROUTER, &router, 1);
		if (rc == 0)
			rc = dhcp_put_ipv4_list(&b, DHCP_OPT_DNS_SERVER, dns, 2);
		if (rc == 0 && !s->no_lease)
			rc = dhcp_put_u32(&b, DHCP_OPT_LEASE_TIME, s->lease);
		if (rc == 0 && s->has_t1)
			rc = dhcp_put_u32(&b, DHCP_OPT_RENEWAL_TIME, s->t1);
		if (rc == 0 && s->has_t2)
			rc = dhcp_put_u32(&b, DHCP_OPT_REBINDING_TIME, s->t2);
	} else if (rc == 0) {
		rc = dhcp_put_string(&b, DHCP_OPT_MESSAGE, "address not available");
	}
	if (rc == 0 && s->server.s_addr)
		rc = dhcp_put_ipv4(&b, DHCP_OPT_SERVER_ID, s->server);
	if (rc == 0)
		rc = dhcp_finish(&b);
	char err[160];
	if (rc < 0 || dhcp_parse(reply_buf, (size_t)rc, &RM, err, sizeof err) < 0) {
		printf("# could not build a reply of type %u: %d\n", type, rc);
		return NULL;
	}
	return &RM;
}

/* Answers the client's last packet; returns whether a reply was delivered. */
static bool answer(struct dhcp_client *c, uint8_t type, struct in_addr yiaddr, const struct srv *s)
{
	const struct dhcp_message *req = last_sent();
	if (req == NULL)
		return false;
	struct dhcp_message *m = make_reply(req, type, yiaddr, s);
	if (m == NULL)
		return false;
	client_on_message(c, m, clk);
	return true;
}

/* ---- time ---- */

struct snap {
	size_t nsent, nev;
	enum client_state st;
	double wake;
	uint32_t xid;
	bool valid;
};
static struct snap snap(const struct dhcp_client *c)
{
	struct snap s = { R.nsent, R.nev, c->state, client_next_wakeup(c), c->xid, c->lease.valid };
	return s;
}
static bool same_snap(struct snap a, struct snap b)
{
	return a.nsent == b.nsent && a.nev == b.nev && a.st == b.st && a.wake == b.wake && a.xid == b.xid &&
	       a.valid == b.valid;
}

/* Tallies for "client_next_wakeup is when things happen". */
static unsigned steps, early_acted, due_idle;

/* One step to the next wakeup: a tick 1 ms before must do nothing, the tick at it
 * must do something (send, report, or change state). */
static void step(struct dhcp_client *c)
{
	double w = client_next_wakeup(c);
	if (w >= FAR)
		return;
	struct snap before = snap(c);
	if (w - 0.001 >= clk) {
		clk = w - 0.001;
		client_tick(c, clk);
		if (!same_snap(before, snap(c))) {
			early_acted++;
			printf("# tick 1 ms before the wakeup at +%.3f (%s) acted\n", w - T0, client_state_name(before.st));
		}
	}
	before = snap(c);
	if (w > clk) /* a wakeup in the past means "now": the clock never goes back */
		clk = w;
	client_tick(c, clk);
	steps++;
	if (same_snap(before, snap(c))) {
		due_idle++;
		printf("# tick at the wakeup at +%.3f (%s) did nothing\n", w - T0, client_state_name(before.st));
	}
}

/* A client bound at T0 to ADDR by SERVER with reply options s (OFFER and ACK both
 * at T0, so the lease start is T0). */
static bool bound_client(struct dhcp_client *c, const struct srv *s)
{
	start(c, NULL, T0);
	client_tick(c, clk);
	struct srv offer = *s;
	offer.no_lease = false;
	return answer(c, DHCP_OFFER, ADDR, &offer) && answer(c, DHCP_ACK, ADDR, s) && c->state == CLIENT_BOUND;
}

/* ---- the tests ---- */

static void test_init_to_bound(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	start(&c, NULL, T0);
	CHECK(c.state == CLIENT_INIT && !c.lease.valid && R.nsent == 0, "init: no saved lease starts in INIT, nothing sent");
	CHECK(client_next_wakeup(&c) == T0, "init: wants a tick at once");
	client_tick(&c, clk - 0.001);
	CHECK(R.nsent == 0 && c.state == CLIENT_INIT, "init: a tick before the wakeup does nothing");
	client_tick(&c, clk);
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_SELECTING && R.nsent == 1, "init: the tick sends one packet and selects");
	CHECK(m && m->type == DHCP_DISCOVER && well_formed(m, &c), "discover: a DISCOVER from our MAC, our xid, client id 01+MAC");
	CHECK(m && m->broadcast && (m->flags & DHCP_FLAG_BROADCAST), "discover: broadcast flag set");
	CHECK(m && same_ip(m->ciaddr, NONE), "discover: ciaddr 0");
	CHECK(m && !has_opt(m, DHCP_OPT_REQUESTED_IP) && !has_opt(m, DHCP_OPT_SERVER_ID), "discover: no 50, no 54");
	CHECK(m && dhcp_param_requested(m, DHCP_OPT_SUBNET_MASK) && dhcp_param_requested(m, DHCP_OPT_ROUTER) &&
		      dhcp_param_requested(m, DHCP_OPT_LEASE_TIME) && dhcp_param_requested(m, DHCP_OPT_RENEWAL_TIME) &&
		      dhcp_param_requested(m, DHCP_OPT_REBINDING_TIME),
	      "discover: 55 asks for 1, 3, 51, 58, 59");
	char host[DHCP_HOSTNAME_MAX + 1];
	bool sanitized;
	CHECK(m && dhcp_hostname(m, host, &sanitized) > 0 && strcmp(host, "arbor-test") == 0, "discover: host name 12 sent");
	CHECK(m && m->secs == 0, "discover: secs 0 on the first one");
	CHECK(same_ip(last_dest(), NONE), "discover: sent to broadcast (dest 0.0.0.0)");
	uint32_t xid = c.xid;

	/* Replies that are not for us, or not usable. */
	m = last_sent();
	struct dhcp_message *r = make_reply(m, DHCP_OFFER, ADDR, &s);
	if (r) {
		r->xid ^= 1;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_SELECTING && R.nsent == 1, "selecting: an OFFER with the wrong xid is ignored");
	m = last_sent();
	r = make_reply(m, DHCP_OFFER, ADDR, &s);
	if (r) {
		r->chaddr[5] ^= 1;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_SELECTING && R.nsent == 1, "selecting: an OFFER for another chaddr is ignored");
	m = last_sent();
	r = make_reply(m, DHCP_OFFER, ADDR, &s);
	if (r) {
		r->op = DHCP_OP_REQUEST;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_SELECTING && R.nsent == 1, "selecting: a BOOTREQUEST with our xid is ignored");
	struct srv nosid = s;
	nosid.server = NONE;
	size_t notes = R.notes;
	CHECK(answer(&c, DHCP_OFFER, ADDR, &nosid) && c.state == CLIENT_SELECTING && R.nsent == 1,
	      "selecting: an OFFER without a server identifier (54) is ignored");
	CHECK(R.notes > notes && strstr(R.note, "54") != NULL, "selecting: ...and a note says why");
	CHECK(answer(&c, DHCP_OFFER, NONE, &s) && c.state == CLIENT_SELECTING && R.nsent == 1,
	      "selecting: an OFFER with yiaddr 0.0.0.0 is ignored");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_SELECTING && R.nsent == 1 && R.nev == 0,
	      "selecting: an ACK (no OFFER first) is ignored");
	CHECK(answer(&c, DHCP_NAK, NONE, &s) && c.state == CLIENT_SELECTING && R.nsent == 1 && R.nev == 0,
	      "selecting: a NAK is ignored");
	CHECK(c.ignored >= 7 && c.received >= 7, "selecting: the counters saw the ignored replies");

	/* The offer. */
	CHECK(answer(&c, DHCP_OFFER, ADDR, &s), "selecting: an OFFER for 192.0.2.50 from 192.0.2.1 delivered");
	m = last_sent();
	CHECK(c.state == CLIENT_REQUESTING && R.nsent == 2, "offer: → REQUESTING, one REQUEST sent at once");
	CHECK(m && m->type == DHCP_REQUEST && well_formed(m, &c) && m->xid == xid, "request: a REQUEST with the DISCOVER's xid");
	CHECK(m && opt_ip_is(m, DHCP_OPT_REQUESTED_IP, ADDR), "request: 50 = the offered address");
	CHECK(m && opt_ip_is(m, DHCP_OPT_SERVER_ID, SERVER), "request: 54 = the offering server");
	CHECK(m && same_ip(m->ciaddr, NONE), "request: ciaddr 0 (REQUESTING)");
	CHECK(m && m->broadcast, "request: broadcast flag set");
	CHECK(same_ip(last_dest(), NONE), "request: broadcast (dest 0.0.0.0)");
	CHECK(c.next_send >= clk + 3 && c.next_send <= clk + 5, "request: retransmission scheduled 4 ± 1 s on");
	CHECK(answer(&c, DHCP_OFFER, ADDR2, &s) && c.state == CLIENT_REQUESTING && R.nsent == 2 &&
		      same_ip(c.offered.addr, ADDR),
	      "requesting: a second OFFER is ignored");

	/* Bad ACKs. */
	clk += 0.2;
	struct srv nolease = s;
	nolease.no_lease = true;
	CHECK(answer(&c, DHCP_ACK, ADDR, &nolease) && c.state == CLIENT_REQUESTING && R.nev == 0,
	      "requesting: an ACK without a lease time (51) is ignored");
	CHECK(answer(&c, DHCP_ACK, ADDR, &nosid) && c.state == CLIENT_REQUESTING && R.nev == 0,
	      "requesting: an ACK without a server identifier is ignored");
	CHECK(answer(&c, DHCP_ACK, ADDR2, &s) && c.state == CLIENT_REQUESTING && R.nev == 0 && !c.lease.valid,
	      "requesting: an ACK for another address than the one requested is ignored");
	m = last_sent();
	r = make_reply(m, DHCP_ACK, ADDR, &s);
	if (r) {
		r->xid++;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_REQUESTING && R.nev == 0, "requesting: an ACK with the wrong xid is ignored");
	m = last_sent();
	r = make_reply(m, DHCP_ACK, ADDR, &s);
	if (r) {
		r->chaddr[0] ^= 0x80;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_REQUESTING && R.nev == 0, "requesting: an ACK for another chaddr is ignored");

	/* The ACK. */
	CHECK(answer(&c, DHCP_ACK, ADDR, &s), "requesting: the ACK delivered");
	const struct lease_ev *e = last_ev();
	CHECK(c.state == CLIENT_BOUND && c.lease.valid && same_ip(c.lease.addr, ADDR), "ack: → BOUND with 192.0.2.50");
	CHECK(R.nev == 1 && e->ev == CLIENT_EV_BOUND && !e->has_old, "ack: one lease.bound event, no old lease");
	CHECK(R.nev == 1 && same_ip(e->lease.addr, ADDR) && e->lease.valid, "ack: the event carries the lease");
	CHECK(c.lease.opts.has_server_id && same_ip(c.lease.opts.server_id, SERVER), "ack: the lease's server id");
	CHECK(c.lease.opts.prefix_len == 24 && c.lease.opts.n_routers == 1 && same_ip(c.lease.opts.routers[0], SERVER) &&
		      c.lease.opts.n_dns == 2,
	      "ack: mask, router, DNS servers kept");
	CHECK(c.lease.start == T0, "ack: the lease starts when the request went out (T0)");
	CHECK(c.lease.t1 == T0 + 1800 && c.lease.t2 == T0 + 3150 && c.lease.expiry == T0 + 3600,
	      "ack: without 58/59, T1 = 0.5 and T2 = 0.875 of the lease from its start");
	CHECK(client_next_wakeup(&c) == c.lease.t1, "bound: the next wakeup is T1");
	size_t before = R.nsent;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && R.nev == 1 && c.state == CLIENT_BOUND,
	      "bound: a duplicate ACK is ignored");
	CHECK(answer(&c, DHCP_NAK, NONE, &s) && R.nev == 1 && c.state == CLIENT_BOUND && c.lease.valid,
	      "bound: a NAK (with the old xid) is ignored");
	client_tick(&c, T0 + 1799.999);
	CHECK(R.nsent == before && c.state == CLIENT_BOUND, "bound: a tick 1 ms before T1 does nothing");
	CHECK(c.sent == 2, "bound: two packets sent in all (DISCOVER, REQUEST)");
}

static void test_times(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	s.lease = 7200;
	s.has_t1 = s.has_t2 = true;
	s.t1 = 1000;
	s.t2 = 5000;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 1000 && c.lease.t2 == T0 + 5000 && c.lease.expiry == T0 + 7200,
	      "times: the server's T1 (58) and T2 (59) are honoured");
	s.t1 = 5000;
	s.t2 = 4000;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 3600 && c.lease.t2 == T0 + 6300 && c.lease.expiry == T0 + 7200,
	      "times: T1 >= T2 is replaced by the defaults (0.5, 0.875)");
	s.t1 = s.t2 = 3000;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 3600 && c.lease.t2 == T0 + 6300,
	      "times: T1 == T2 is replaced by the defaults");
	s.t1 = 1000;
	s.t2 = 7200;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 3600 && c.lease.t2 == T0 + 6300,
	      "times: T2 >= the lease time is replaced by the defaults");
	s.has_t2 = false;
	s.t1 = 2000;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 2000 && c.lease.t2 == T0 + 6300,
	      "times: T1 alone is honoured, T2 defaults to 0.875");
	s.t1 = 6500;
	CHECK(bound_client(&c, &s) && c.lease.t1 == T0 + 3600 && c.lease.t2 == T0 + 6300,
	      "times: T1 alone past the default T2 gives the defaults");
	s = def();
	s.no_mask = true;
	CHECK(bound_client(&c, &s) && c.lease.opts.prefix_len == 24 && !c.lease.opts.has_subnet_mask,
	      "times: no option 1: the classful prefix (/24 for 192.0.2.0)");
}

static void test_discover_backoff(void)
{
	static struct dhcp_client c;
	steps = early_acted = due_idle = 0;
	start(&c, NULL, T0);
	step(&c);
	CHECK(R.nsent == 1 && c.state == CLIENT_SELECTING, "backoff: the first DISCOVER at once");
	uint32_t xid = c.xid;
	static const double want[] = { 4, 8, 16, 32, 64, 64, 64 };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		step(&c);
		char what[120];
		double gap = sent_raw(i + 1)->at - sent_raw(i)->at;
		snprintf(what, sizeof what, "backoff: DISCOVER %zu comes %.0f ± 1 s after the one before (%.3f)", i + 2,
			 want[i], gap);
		CHECK(R.nsent == i + 2 && gap >= want[i] - 1 && gap <= want[i] + 1, what);
	}
	const struct dhcp_message *m = last_sent();
	CHECK(m && m->type == DHCP_DISCOVER && m->xid == xid && m->broadcast,
	      "backoff: retransmissions are DISCOVERs with the same xid, broadcast flag");
	CHECK(m && near(m->secs, sent_raw(R.nsent - 1)->at - T0, 1), "backoff: secs counts from the first DISCOVER");
	CHECK(c.state == CLIENT_SELECTING && R.nev == 0, "backoff: still selecting, no lease events");
	CHECK(steps == 8 && early_acted == 0 && due_idle == 0, "backoff: client_next_wakeup is exactly when each DISCOVER goes");
}

static void test_requesting_gives_up(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	start(&c, NULL, T0);
	client_tick(&c, clk);
	answer(&c, DHCP_OFFER, ADDR, &s);
	uint32_t xid = c.xid;
	CHECK(c.state == CLIENT_REQUESTING && R.nsent == 2, "give up: requesting after the OFFER");
	size_t first = R.nsent - 1; /* the first REQUEST */
	for (int i = 0; i < 10 && c.state == CLIENT_REQUESTING; i++)
		step(&c);
	size_t requests = R.nsent - first;
	bool ok = true;
	static const double want[] = { 4, 8, 16 };
	for (size_t i = first; i < R.nsent; i++) {
		const struct dhcp_message *m = sent_msg(i);
		ok &= m && m->type == DHCP_REQUEST && m->xid == xid && opt_ip_is(m, DHCP_OPT_REQUESTED_IP, ADDR) &&
		      opt_ip_is(m, DHCP_OPT_SERVER_ID, SERVER) && m->broadcast;
		if (i > first && i - first - 1 < 3) {
			double gap = sent_raw(i)->at - sent_raw(i - 1)->at;
			ok &= gap >= want[i - first - 1] - 1 && gap <= want[i - first - 1] + 1;
		}
	}
	CHECK(ok, "give up: the retransmitted REQUESTs keep xid, 50, 54, broadcast and come 4, 8, 16 ± 1 s apart");
	CHECK(requests == 4, "give up: four REQUESTs in all");
	double gave_up = clk - sent_raw(R.nsent - 1)->at;
	CHECK(gave_up >= 31 && gave_up <= 33, "give up: INIT 32 ± 1 s after the fourth REQUEST");
	CHECK(c.state == CLIENT_INIT && R.nev == 0 && !c.lease.valid, "give up: after the fourth, back to INIT, no lease event");
	CHECK(client_next_wakeup(&c) == clk, "give up: INIT wants a tick at once");
	step(&c);
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_SELECTING && m && m->type == DHCP_DISCOVER && m->xid != xid,
	      "give up: then a DISCOVER with a new xid");
	CHECK(early_acted == 0 && due_idle == 0, "give up: client_next_wakeup is exactly when each step happens");
}

static void test_renewing(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	CHECK(bound_client(&c, &s), "renew: bound (lease 3600 s at T0)");
	uint32_t old_xid = c.xid;
	size_t n = R.nsent;
	step(&c);
	const struct dhcp_message *m = last_sent();
	CHECK(clk == T0 + 1800 && c.state == CLIENT_RENEWING && R.nsent == n + 1, "renew: at T1 → RENEWING, one REQUEST");
	CHECK(m && m->type == DHCP_REQUEST && well_formed(m, &c) && c.xid != old_xid, "renew: a REQUEST with a new xid");
	CHECK(same_ip(last_dest(), SERVER), "renew: unicast to the server id");
	CHECK(m && same_ip(m->ciaddr, ADDR), "renew: ciaddr = our address");
	CHECK(m && !has_opt(m, DHCP_OPT_REQUESTED_IP) && !has_opt(m, DHCP_OPT_SERVER_ID), "renew: no 50, no 54");
	CHECK(m && !m->broadcast && m->flags == 0, "renew: no broadcast flag");
	CHECK(client_next_wakeup(&c) == T0 + 1800 + 675, "renew: retransmission at (T2 - now) / 2 = 675 s on");
	step(&c);
	CHECK(clk == T0 + 2475 && R.nsent == n + 2 && c.state == CLIENT_RENEWING, "renew: retransmitted at T1 + 675");
	m = last_sent();
	CHECK(m && m->type == DHCP_REQUEST && m->xid == c.xid && same_ip(m->ciaddr, ADDR) && same_ip(last_dest(), SERVER),
	      "renew: the retransmission is the same unicast REQUEST");
	CHECK(m && near(m->secs, 675, 1), "renew: secs counts from the start of renewing");
	CHECK(client_next_wakeup(&c) == T0 + 2475 + 337.5, "renew: next at half the time left to T2 again");
	/* Renewed, 10 s after the retransmission. */
	clk += 10;
	struct srv s2 = s;
	s2.lease = 1000;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s2), "renew: the server ACKs (lease 1000 s)");
	const struct lease_ev *e = last_ev();
	CHECK(c.state == CLIENT_BOUND && R.nev == 2 && e->ev == CLIENT_EV_RENEWED, "renew: → BOUND, lease.renewed");
	CHECK(e->has_old && e->old.expiry == T0 + 3600 && same_ip(e->old.addr, ADDR), "renew: the event carries the old lease");
	CHECK(c.lease.start == T0 + 1800 && c.lease.t1 == T0 + 1800 + 500 && c.lease.t2 == T0 + 1800 + 875 &&
		      c.lease.expiry == T0 + 1800 + 1000,
	      "renew: new times counted from when renewing began");
	CHECK(client_next_wakeup(&c) == T0 + 2300, "renew: next wakeup is the new T1");
	/* The floor: a short lease retries at least 60 s apart. */
	s2.lease = 100;
	CHECK(bound_client(&c, &s2), "renew: bound again (lease 100 s)");
	step(&c);
	CHECK(clk == T0 + 50 && c.state == CLIENT_RENEWING, "renew: T1 at 50 s");
	CHECK(client_next_wakeup(&c) == T0 + 87.5, "renew: with (T2-now)/2 under 60 s, the next wakeup is T2");
	CHECK(c.next_send == T0 + 110, "renew: the retransmission itself is 60 s on (the floor)");
	CHECK(early_acted == 0 && due_idle == 0, "renew: client_next_wakeup is exactly when each step happens");
}

/* From T1 with no answer: retransmissions, T2, rebinding, rebound. */
static void test_rebinding(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	CHECK(bound_client(&c, &s), "rebind: bound (lease 3600 s at T0)");
	bool gaps_ok = true;
	double prev = 0;
	while (c.state != CLIENT_REBINDING && steps < 50) {
		size_t n = R.nsent;
		step(&c);
		if (c.state == CLIENT_RENEWING && R.nsent > n && prev) {
			double want = fmax(60, (T0 + 3150 - prev) / 2);
			gaps_ok &= near(clk - prev, want, 1e-6);
		}
		if (c.state == CLIENT_RENEWING && R.nsent > n)
			prev = clk;
	}
	CHECK(gaps_ok, "rebind: renewing retransmissions max(60, (T2 - now) / 2) apart");
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_REBINDING && clk == T0 + 3150, "rebind: at T2 → REBINDING");
	CHECK(m && m->type == DHCP_REQUEST && well_formed(m, &c), "rebind: a REQUEST at once");
	CHECK(same_ip(last_dest(), NONE), "rebind: broadcast (dest 0.0.0.0)");
	CHECK(m && same_ip(m->ciaddr, ADDR), "rebind: ciaddr = our address");
	CHECK(m && !has_opt(m, DHCP_OPT_REQUESTED_IP) && !has_opt(m, DHCP_OPT_SERVER_ID), "rebind: no 50, no 54");
	CHECK(m && !m->broadcast, "rebind: no broadcast flag (we have an address)");
	CHECK(client_next_wakeup(&c) == T0 + 3150 + 225, "rebind: retransmission at (expiry - now) / 2");
	step(&c);
	CHECK(c.state == CLIENT_REBINDING && clk == T0 + 3375 && same_ip(last_dest(), NONE), "rebind: retransmitted");
	/* Another server answers. */
	clk += 1;
	struct srv s2 = def();
	s2.server = SERVER2;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s2), "rebind: another server ACKs");
	const struct lease_ev *e = last_ev();
	CHECK(c.state == CLIENT_BOUND && e && e->ev == CLIENT_EV_REBOUND && e->has_old, "rebind: → BOUND, lease.rebound");
	CHECK(same_ip(c.lease.opts.server_id, SERVER2), "rebind: the lease now belongs to the other server");
	CHECK(c.lease.start == T0 + 3150 && c.lease.expiry == T0 + 3150 + 3600, "rebind: new times from when rebinding began");
	CHECK(R.nev == 2, "rebind: bound, rebound: no other events");
	/* Renewing now goes to the new server. */
	step(&c);
	CHECK(c.state == CLIENT_RENEWING && same_ip(last_dest(), SERVER2), "rebind: the next renewal is unicast to the new server");
	CHECK(early_acted == 0 && due_idle == 0, "rebind: client_next_wakeup is exactly when each step happens");
}

static void test_expiry(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	CHECK(bound_client(&c, &s), "expiry: bound (lease 3600 s at T0)");
	bool never_past = true, floor_ok = true;
	double prev = 0;
	while (c.lease.valid && steps < 80) {
		never_past &= client_next_wakeup(&c) <= T0 + 3600;
		size_t n = R.nsent;
		step(&c);
		if (c.state == CLIENT_REBINDING && R.nsent > n) {
			if (prev)
				floor_ok &= clk - prev >= 60 - 1e-6;
			prev = clk;
		}
	}
	CHECK(never_past, "expiry: the wakeup is never after the expiry");
	CHECK(floor_ok, "expiry: rebinding retransmissions at least 60 s apart");
	const struct dhcp_message *m = last_sent();
	CHECK(clk == T0 + 3600 && !c.lease.valid, "expiry: the lease ends at its expiry");
	CHECK(last_ev_is(CLIENT_EV_EXPIRED) && same_ip(last_ev()->lease.addr, ADDR), "expiry: lease.expired with the lease");
	CHECK(c.state == CLIENT_SELECTING && m && m->type == DHCP_DISCOVER && same_ip(m->ciaddr, NONE) && m->broadcast,
	      "expiry: back to INIT, a DISCOVER at once");
	CHECK(R.nev == 2, "expiry: bound, expired: no other events");
	CHECK(early_acted == 0 && due_idle == 0, "expiry: client_next_wakeup is exactly when each step happens");
}

static void test_nak(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	/* In REQUESTING. */
	start(&c, NULL, T0);
	client_tick(&c, clk);
	answer(&c, DHCP_OFFER, ADDR, &s);
	const struct dhcp_message *m = last_sent();
	struct dhcp_message *r = make_reply(m, DHCP_NAK, NONE, &s);
	if (r) {
		r->xid ^= 0x100;
		client_on_message(&c, r, clk);
	}
	CHECK(r && c.state == CLIENT_REQUESTING && R.nev == 0, "nak: a NAK with the wrong xid is ignored");
	CHECK(answer(&c, DHCP_NAK, NONE, &s), "nak: the server NAKs the REQUEST");
	CHECK(last_ev_is(CLIENT_EV_NAK) && same_ip(last_ev()->lease.addr, ADDR), "nak: requesting: lease.nak (for the offer)");
	CHECK(c.state == CLIENT_INIT && !c.lease.valid && c.naks == 1, "nak: requesting: → INIT");
	CHECK(strstr(R.note, "address not available") != NULL, "nak: the server's message (56) is noted");
	CHECK(client_next_wakeup(&c) == clk, "nak: the first NAK restarts at once");
	client_tick(&c, clk);
	CHECK(c.state == CLIENT_SELECTING && last_sent() && last_sent()->type == DHCP_DISCOVER, "nak: a DISCOVER follows");
	/* A server that NAKs everything: no storm. */
	bool delayed = true, quiet = true;
	double first = clk;
	size_t cycles = 0;
	for (int i = 0; i < 5; i++) {
		answer(&c, DHCP_OFFER, ADDR, &s);
		answer(&c, DHCP_NAK, NONE, &s);
		if (c.state != CLIENT_INIT)
			break;
		double w = client_next_wakeup(&c);
		delayed &= w >= clk + 3 && w <= clk + 5;
		size_t n = R.nsent;
		client_tick(&c, w - 0.001);
		quiet &= R.nsent == n && c.state == CLIENT_INIT;
		clk = w;
		client_tick(&c, clk);
		quiet &= R.nsent == n + 1 && c.state == CLIENT_SELECTING;
		cycles++;
	}
	CHECK(cycles == 5 && delayed, "nak: repeated NAKs: the next DISCOVER is 4 ± 1 s later");
	CHECK(quiet, "nak: nothing is sent in between");
	CHECK(clk - first >= 5 * 3, "nak: five NAK rounds take at least 15 s");
	CHECK(c.naks == 6, "nak: the NAK counter counts them");
	/* An ACK resets it: the next NAK restarts at once again. */
	answer(&c, DHCP_OFFER, ADDR, &s);
	answer(&c, DHCP_ACK, ADDR, &s);
	CHECK(c.state == CLIENT_BOUND && c.naks == 0, "nak: an ACK resets the NAK counter");

	/* In RENEWING. */
	CHECK(bound_client(&c, &s), "nak: bound again");
	step(&c);
	CHECK(c.state == CLIENT_RENEWING, "nak: renewing at T1");
	CHECK(answer(&c, DHCP_NAK, NONE, &s), "nak: the server NAKs the renewal");
	CHECK(last_ev_is(CLIENT_EV_NAK) && same_ip(last_ev()->lease.addr, ADDR) && R.nev == 2,
	      "nak: renewing: lease.nak with the lease to remove");
	CHECK(c.state == CLIENT_INIT && !c.lease.valid, "nak: renewing: lease gone, → INIT");
	client_tick(&c, clk);
	m = last_sent();
	CHECK(c.state == CLIENT_SELECTING && m && m->type == DHCP_DISCOVER && !has_opt(m, DHCP_OPT_REQUESTED_IP),
	      "nak: renewing: a DISCOVER follows");

	/* In REBINDING. */
	CHECK(bound_client(&c, &s) && client_rebind(&c, clk) == 0 && c.state == CLIENT_REBINDING, "nak: rebinding");
	CHECK(answer(&c, DHCP_NAK, NONE, &s) && last_ev_is(CLIENT_EV_NAK) && c.state == CLIENT_INIT && !c.lease.valid,
	      "nak: rebinding: lease.nak, → INIT");

	/* In REBOOTING. */
	struct client_lease saved = { .valid = true, .addr = ADDR, .start = T0 - 600, .t1 = T0 + 1200, .t2 = T0 + 2550,
				      .expiry = T0 + 3000 };
	saved.opts.has_server_id = true;
	saved.opts.server_id = SERVER;
	saved.opts.prefix_len = 24;
	start(&c, &saved, T0);
	client_tick(&c, clk);
	CHECK(c.state == CLIENT_REBOOTING, "nak: rebooting with the saved lease");
	CHECK(answer(&c, DHCP_NAK, NONE, &s), "nak: the server NAKs the INIT-REBOOT request");
	CHECK(last_ev_is(CLIENT_EV_NAK) && same_ip(last_ev()->lease.addr, ADDR) && R.nev == 1,
	      "nak: rebooting: lease.nak with the saved lease");
	CHECK(c.state == CLIENT_INIT && !c.lease.valid, "nak: rebooting: → INIT, no lease");
	client_tick(&c, clk);
	CHECK(c.state == CLIENT_SELECTING && last_sent()->type == DHCP_DISCOVER, "nak: rebooting: a DISCOVER follows");
}

static struct client_lease saved_lease(double t1, double t2, double expiry)
{
	struct client_lease l;
	memset(&l, 0, sizeof l);
	l.valid = true;
	l.addr = ADDR;
	l.opts.has_server_id = true;
	l.opts.server_id = SERVER;
	l.opts.has_subnet_mask = true;
	l.opts.subnet_mask = ip4(255, 255, 255, 0);
	l.opts.prefix_len = 24;
	l.opts.has_lease_time = true;
	l.opts.lease_time = 3600;
	l.start = expiry - 3600;
	l.t1 = t1;
	l.t2 = t2;
	l.expiry = expiry;
	return l;
}

static void test_init_reboot(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	struct client_lease saved = saved_lease(T0 + 1200, T0 + 2550, T0 + 3000);
	start(&c, &saved, T0);
	CHECK(c.state == CLIENT_INIT_REBOOT && c.lease.valid && same_ip(c.lease.addr, ADDR),
	      "reboot: a saved valid lease starts in INIT-REBOOT");
	CHECK(client_next_wakeup(&c) == T0, "reboot: wants a tick at once");
	step(&c);
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_REBOOTING && R.nsent == 1, "reboot: → REBOOTING, one packet");
	CHECK(m && m->type == DHCP_REQUEST && well_formed(m, &c), "reboot: a REQUEST");
	CHECK(m && opt_ip_is(m, DHCP_OPT_REQUESTED_IP, ADDR), "reboot: 50 = the saved address");
	CHECK(m && !has_opt(m, DHCP_OPT_SERVER_ID), "reboot: no 54");
	CHECK(m && same_ip(m->ciaddr, NONE), "reboot: ciaddr 0");
	CHECK(m && m->broadcast, "reboot: broadcast flag set");
	CHECK(same_ip(last_dest(), NONE), "reboot: broadcast (dest 0.0.0.0)");
	clk += 0.5;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s), "reboot: the server ACKs");
	const struct lease_ev *e = last_ev();
	CHECK(c.state == CLIENT_BOUND && R.nev == 1 && e->ev == CLIENT_EV_BOUND, "reboot: → BOUND, lease.bound");
	CHECK(e->has_old && e->old.expiry == T0 + 3000, "reboot: the event's old lease is the saved one");
	CHECK(c.lease.start == T0 && c.lease.expiry == T0 + 3600 && c.lease.t1 == T0 + 1800, "reboot: new times from the REQUEST");

	/* No answer at all: the unexpired lease is kept. */
	start(&c, &saved, T0);
	size_t requests = 0;
	for (int i = 0; i < 10 && c.state != CLIENT_BOUND; i++) {
		size_t n = R.nsent;
		step(&c);
		if (R.nsent > n && last_sent() && last_sent()->type == DHCP_REQUEST)
			requests++;
	}
	e = last_ev();
	CHECK(requests == 4, "reboot: four REQUESTs without an answer");
	CHECK(c.state == CLIENT_BOUND && c.lease.valid && same_ip(c.lease.addr, ADDR) && c.lease.expiry == T0 + 3000,
	      "reboot: then BOUND with the unexpired saved lease");
	CHECK(R.nev == 1 && e->ev == CLIENT_EV_BOUND && same_ip(e->lease.addr, ADDR), "reboot: ...reported as lease.bound");
	CHECK(clk < T0 + 1200 && client_next_wakeup(&c) == T0 + 1200, "reboot: next wakeup the saved T1");
	step(&c);
	CHECK(c.state == CLIENT_RENEWING && same_ip(last_dest(), SERVER) && same_ip(last_sent()->ciaddr, ADDR),
	      "reboot: at the saved T1, renewing by unicast");

	/* No answer, already past T2: rebinding right after. */
	struct client_lease late = saved_lease(T0 - 1000, T0 - 100, T0 + 300);
	start(&c, &late, T0);
	for (int i = 0; i < 10 && c.state != CLIENT_BOUND; i++)
		step(&c);
	CHECK(c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_BOUND), "reboot: a lease past T2 is kept after no answer too");
	step(&c);
	CHECK(c.state == CLIENT_REBINDING && same_ip(last_dest(), NONE), "reboot: ...and rebinding follows at once");

	/* The saved lease runs out while rebooting. */
	struct client_lease brief = saved_lease(T0 - 1000, T0 - 100, T0 + 20);
	start(&c, &brief, T0);
	for (int i = 0; i < 10 && c.lease.valid; i++)
		step(&c);
	CHECK(last_ev_is(CLIENT_EV_EXPIRED) && clk == T0 + 20 && !c.lease.valid,
	      "reboot: the saved lease expiring while rebooting: lease.expired at its expiry");
	CHECK(c.state == CLIENT_SELECTING && last_sent()->type == DHCP_DISCOVER, "reboot: ...then INIT, DISCOVER");

	/* An ACK for another address: the old lease goes first. */
	start(&c, &saved, T0);
	step(&c);
	CHECK(answer(&c, DHCP_ACK, ADDR2, &s) && c.state == CLIENT_BOUND && same_ip(c.lease.addr, ADDR2),
	      "reboot: an ACK for another address is taken");
	CHECK(R.nev == 2 && R.ev[0].ev == CLIENT_EV_EXPIRED && same_ip(R.ev[0].lease.addr, ADDR) &&
		      R.ev[1].ev == CLIENT_EV_BOUND && same_ip(R.ev[1].lease.addr, ADDR2) && !R.ev[1].has_old,
	      "reboot: ...the old address is removed (expired) before the new one is bound");

	/* A saved lease that has expired. */
	struct client_lease old = saved_lease(T0 - 3000, T0 - 2000, T0 - 1);
	start(&c, &old, T0);
	CHECK(c.state == CLIENT_INIT && !c.lease.valid, "reboot: a saved expired lease starts in INIT, no lease");
	step(&c);
	m = last_sent();
	CHECK(c.state == CLIENT_SELECTING && m && m->type == DHCP_DISCOVER && R.nev == 0, "reboot: ...a DISCOVER, no events");
	struct client_lease invalid = saved;
	invalid.valid = false;
	start(&c, &invalid, T0);
	CHECK(c.state == CLIENT_INIT && !c.lease.valid, "reboot: a saved lease marked invalid starts in INIT");
	CHECK(early_acted == 0 && due_idle == 0, "reboot: client_next_wakeup is exactly when each step happens");
}

static void test_commands(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	/* renew */
	CHECK(bound_client(&c, &s), "cmd: bound");
	clk = T0 + 100;
	size_t n = R.nsent;
	uint32_t xid = c.xid;
	CHECK(client_renew(&c, clk) == 0, "cmd: renew while bound returns 0");
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_RENEWING && R.nsent == n + 1 && c.xid != xid, "cmd: renew: → RENEWING, a REQUEST at once, new xid");
	CHECK(m && same_ip(last_dest(), SERVER) && same_ip(m->ciaddr, ADDR) && !has_opt(m, DHCP_OPT_REQUESTED_IP) &&
		      !has_opt(m, DHCP_OPT_SERVER_ID) && !m->broadcast,
	      "cmd: renew: unicast to the server, ciaddr set, no 50/54, no broadcast flag");
	CHECK(client_next_wakeup(&c) == clk + (T0 + 3150 - clk) / 2, "cmd: renew: retransmission at half the time to T2");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_RENEWED),
	      "cmd: renew: ACK → lease.renewed");
	CHECK(c.lease.start == T0 + 100 && c.lease.expiry == T0 + 3700, "cmd: renew: the lease now runs from the command");
	/* rebind */
	clk = T0 + 200;
	n = R.nsent;
	CHECK(client_rebind(&c, clk) == 0, "cmd: rebind while bound returns 0");
	m = last_sent();
	CHECK(c.state == CLIENT_REBINDING && R.nsent == n + 1 && m && m->type == DHCP_REQUEST && same_ip(last_dest(), NONE) &&
		      same_ip(m->ciaddr, ADDR) && !has_opt(m, DHCP_OPT_REQUESTED_IP) && !has_opt(m, DHCP_OPT_SERVER_ID),
	      "cmd: rebind: → REBINDING, a broadcast REQUEST with ciaddr at once");
	CHECK(client_renew(&c, clk) == 0 && c.state == CLIENT_RENEWING && same_ip(last_dest(), SERVER),
	      "cmd: renew while rebinding: a unicast REQUEST");
	CHECK(client_rebind(&c, clk) == 0 && c.state == CLIENT_REBINDING, "cmd: rebind while renewing");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_REBOUND),
	      "cmd: rebind: ACK → lease.rebound");
	/* release */
	clk = T0 + 300;
	n = R.nsent;
	size_t nev = R.nev;
	CHECK(client_release(&c, clk) == 0, "cmd: release while bound returns 0");
	m = last_sent();
	CHECK(R.nsent == n + 1 && m && m->type == DHCP_RELEASE && m->op == DHCP_OP_REQUEST && memcmp(m->chaddr, MAC, 6) == 0,
	      "cmd: release: one RELEASE");
	CHECK(m && same_ip(m->ciaddr, ADDR), "cmd: release: ciaddr = the address");
	CHECK(m && opt_ip_is(m, DHCP_OPT_SERVER_ID, SERVER), "cmd: release: 54 = the server");
	CHECK(m && !has_opt(m, DHCP_OPT_REQUESTED_IP), "cmd: release: no 50");
	CHECK(same_ip(last_dest(), SERVER), "cmd: release: unicast to the server");
	CHECK(R.nev == nev + 1 && last_ev_is(CLIENT_EV_RELEASED) && same_ip(last_ev()->lease.addr, ADDR),
	      "cmd: release: lease.released with the lease");
	CHECK(c.state == CLIENT_RELEASED && !c.lease.valid, "cmd: release: state released, no lease");
	CHECK(client_next_wakeup(&c) >= FAR, "cmd: released: no wakeup");
	n = R.nsent;
	client_tick(&c, T0 + 100000);
	clk = T0 + 100000;
	CHECK(R.nsent == n && c.state == CLIENT_RELEASED && R.nev == nev + 1, "cmd: released: ticks do nothing, ever");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_RELEASED && R.nev == nev + 1,
	      "cmd: released: a late ACK is ignored");
	CHECK(client_release(&c, clk) == -EAGAIN, "cmd: release with no lease: -EAGAIN");
	CHECK(client_rebind(&c, clk) == -EAGAIN, "cmd: rebind with no lease: -EAGAIN");
	CHECK(client_renew(&c, clk) == 0, "cmd: renew from released returns 0");
	m = last_sent();
	CHECK(c.state == CLIENT_SELECTING && R.nsent == n + 1 && m && m->type == DHCP_DISCOVER,
	      "cmd: renew from released: INIT, a DISCOVER at once");
	/* While an exchange is under way. */
	CHECK(client_rebind(&c, clk) == -EAGAIN, "cmd: rebind while selecting: -EAGAIN");
	CHECK(client_release(&c, clk) == -EAGAIN && R.nsent == n + 1, "cmd: release while selecting: -EAGAIN, nothing sent");
	struct client_lease saved = saved_lease(T0 + 200000, T0 + 200500, T0 + 201000);
	start(&c, &saved, T0 + 100000);
	client_tick(&c, clk);
	CHECK(c.state == CLIENT_REBOOTING && client_renew(&c, clk) == -EAGAIN && client_rebind(&c, clk) == -EAGAIN,
	      "cmd: renew and rebind while rebooting: -EAGAIN");
	n = R.nsent;
	CHECK(client_release(&c, clk) == 0 && c.state == CLIENT_RELEASED && last_ev_is(CLIENT_EV_RELEASED) &&
		      R.nsent == n + 1 && last_sent()->type == DHCP_RELEASE && same_ip(last_dest(), SERVER),
	      "cmd: release while rebooting: RELEASE to the server, lease.released");
	/* A renew with no lease while selecting restarts discovery. */
	start(&c, NULL, T0);
	client_tick(&c, clk);
	xid = c.xid;
	clk += 1;
	CHECK(client_renew(&c, clk) == 0 && c.state == CLIENT_SELECTING && c.xid != xid && last_sent()->type == DHCP_DISCOVER &&
		      R.nsent == 2,
	      "cmd: renew without a lease: a fresh DISCOVER");
}

static void test_carrier(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	CHECK(bound_client(&c, &s), "carrier: bound");
	clk = T0 + 10;
	client_carrier(&c, false, clk);
	CHECK(c.state == CLIENT_NO_CARRIER && c.lease.valid, "carrier: down → no-carrier, the lease kept");
	CHECK(client_next_wakeup(&c) == T0 + 3600, "carrier: the only wakeup is the lease's expiry");
	size_t n = R.nsent;
	client_tick(&c, T0 + 1800);
	client_tick(&c, T0 + 3150);
	client_tick(&c, T0 + 3599.999);
	CHECK(R.nsent == n && c.state == CLIENT_NO_CARRIER && c.lease.valid, "carrier: no packets at T1 or T2");
	CHECK(client_renew(&c, clk) == -ENETDOWN && client_rebind(&c, clk) == -ENETDOWN && R.nsent == n,
	      "carrier: renew and rebind refused (-ENETDOWN), nothing sent");
	clk = T0 + 20;
	CHECK(answer(&c, DHCP_NAK, NONE, &s) && c.state == CLIENT_NO_CARRIER && c.lease.valid, "carrier: replies ignored");
	clk = T0 + 3599.999;
	step(&c);
	CHECK(clk == T0 + 3600 && last_ev_is(CLIENT_EV_EXPIRED) && !c.lease.valid, "carrier: the lease still expires");
	CHECK(c.state == CLIENT_NO_CARRIER && R.nsent == n, "carrier: ...and the client stays idle, nothing sent");
	CHECK(client_next_wakeup(&c) >= FAR, "carrier: no wakeup without a lease");
	clk = T0 + 4000;
	client_carrier(&c, true, clk);
	CHECK(c.state == CLIENT_INIT, "carrier: up without a lease → INIT");
	step(&c);
	CHECK(c.state == CLIENT_SELECTING && last_sent()->type == DHCP_DISCOVER, "carrier: ...a DISCOVER");
	/* Up again with a valid lease: INIT-REBOOT. */
	CHECK(bound_client(&c, &s), "carrier: bound again");
	clk = T0 + 100;
	client_carrier(&c, false, clk);
	clk = T0 + 200;
	client_carrier(&c, true, clk);
	CHECK(c.state == CLIENT_INIT_REBOOT && c.lease.valid, "carrier: up with a valid lease → INIT-REBOOT");
	n = R.nsent;
	step(&c);
	const struct dhcp_message *m = last_sent();
	CHECK(c.state == CLIENT_REBOOTING && R.nsent == n + 1 && m && m->type == DHCP_REQUEST &&
		      opt_ip_is(m, DHCP_OPT_REQUESTED_IP, ADDR) && !has_opt(m, DHCP_OPT_SERVER_ID) && same_ip(m->ciaddr, NONE),
	      "carrier: ...an INIT-REBOOT REQUEST (50, no 54, no ciaddr)");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_BOUND),
	      "carrier: ACK → lease.bound");
	/* Carrier lost mid-exchange. */
	start(&c, NULL, T0);
	client_tick(&c, clk);
	client_carrier(&c, false, clk);
	n = R.nsent;
	client_tick(&c, T0 + 1000);
	CHECK(c.state == CLIENT_NO_CARRIER && R.nsent == n && client_next_wakeup(&c) >= FAR,
	      "carrier: down while selecting: idle, no wakeup");
	client_carrier(&c, true, T0 + 1000);
	CHECK(c.state == CLIENT_INIT, "carrier: up → INIT");
	client_carrier(&c, true, T0 + 1000);
	CHECK(c.state == CLIENT_INIT, "carrier: a second up changes nothing");
	CHECK(early_acted == 0 && due_idle == 0, "carrier: client_next_wakeup is exactly when each step happens");
}

static void test_lease_callback_fails(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	steps = early_acted = due_idle = 0;
	start(&c, NULL, T0);
	client_tick(&c, clk);
	answer(&c, DHCP_OFFER, ADDR, &s);
	uint32_t xid = c.xid;
	R.fail = 1;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s), "fail: the ACK delivered, the lease callback fails");
	CHECK(R.nev == 1 && R.ev[0].ev == CLIENT_EV_BOUND && R.ev[0].rc == -EIO, "fail: lease.bound was tried");
	CHECK(c.state == CLIENT_INIT && !c.lease.valid, "fail: → INIT, the lease not valid");
	double w = client_next_wakeup(&c);
	CHECK(w >= clk + 3 && w <= clk + 5, "fail: a retry 4 ± 1 s later, not at once");
	size_t n = R.nsent;
	step(&c);
	const struct dhcp_message *m = last_sent();
	CHECK(R.nsent == n + 1 && m && m->type == DHCP_DISCOVER && c.xid != xid, "fail: then a DISCOVER with a new xid");
	CHECK(answer(&c, DHCP_OFFER, ADDR, &s) && answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND &&
		      last_ev_is(CLIENT_EV_BOUND) && last_ev()->rc == 0,
	      "fail: the next attempt binds");
	/* On a renewal. */
	step(&c);
	R.fail = 1;
	CHECK(c.state == CLIENT_RENEWING && answer(&c, DHCP_ACK, ADDR, &s), "fail: renewing, ACK, the callback fails");
	CHECK(last_ev_is(CLIENT_EV_RENEWED) && last_ev()->rc == -EIO && c.state == CLIENT_INIT && !c.lease.valid,
	      "fail: renewed refused: → INIT, no lease");
	/* Keeping the lease after an unanswered INIT-REBOOT. */
	struct client_lease saved = saved_lease(T0 + 1200, T0 + 2550, T0 + 3000);
	start(&c, &saved, T0);
	while (c.state != CLIENT_BOUND && c.state != CLIENT_INIT && R.nsent < 10) {
		if (R.nsent == 4)
			R.fail = 1;
		step(&c);
	}
	CHECK(c.state == CLIENT_INIT && !c.lease.valid && last_ev_is(CLIENT_EV_BOUND) && last_ev()->rc == -EIO,
	      "fail: keeping the rebooted lease refused: → INIT, no lease");
	CHECK(early_acted == 0 && due_idle == 0, "fail: client_next_wakeup is exactly when each step happens");
}

static void test_infinite(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	s.lease = 0xffffffffu;
	CHECK(bound_client(&c, &s), "infinite: bound with lease time 0xffffffff");
	CHECK(c.lease.expiry >= FAR && c.lease.t1 >= FAR && c.lease.t2 >= FAR, "infinite: no T1, T2 or expiry");
	CHECK(client_next_wakeup(&c) >= FAR, "infinite: no wakeup");
	size_t n = R.nsent, nev = R.nev;
	client_tick(&c, T0 + 10.0 * 365 * 86400);
	client_tick(&c, T0 + 100.0 * 365 * 86400);
	CHECK(R.nsent == n && R.nev == nev && c.state == CLIENT_BOUND && c.lease.valid, "infinite: a century later, still bound");
	s.has_t1 = s.has_t2 = true;
	s.t1 = 1000;
	s.t2 = 2000;
	CHECK(bound_client(&c, &s) && c.lease.expiry >= FAR, "infinite: with 58/59 too, it never expires");
	clk = T0 + 100.0 * 365 * 86400;
	client_tick(&c, clk);
	CHECK(c.lease.valid && !last_ev_is(CLIENT_EV_EXPIRED), "infinite: ...a century later, no lease.expired");
	clk = T0 + 1000;
	CHECK(client_renew(&c, clk) == 0 && c.state == CLIENT_RENEWING, "infinite: renew by command works");
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_RENEWED) &&
		      c.lease.expiry >= FAR,
	      "infinite: ...renewed, still infinite");
}

/* A server that answers every packet at once (DISCOVER with an OFFER, REQUEST with
 * an ACK) for `seconds` of fake time, or until `limit` packets went out. Returns
 * the packets the client sent. */
static size_t serve(struct dhcp_client *c, const struct srv *s, double seconds, size_t limit)
{
	double end = clk + seconds;
	size_t answered = R.nsent;
	while (R.nsent < limit) {
		if (R.nsent > answered) {
			answered = R.nsent;
			const struct dhcp_message *m = last_sent();
			if (m && m->type == DHCP_DISCOVER)
				answer(c, DHCP_OFFER, ADDR, s);
			else if (m && m->type == DHCP_REQUEST)
				answer(c, DHCP_ACK, ADDR, s);
			continue;
		}
		if (client_next_wakeup(c) > end)
			break;
		step(c);
	}
	return R.nsent;
}

/* Servers that hand out nonsense times: the client must not turn them into a storm
 * (as it takes care not to for repeated NAKs). */
static void test_zero_times(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	start(&c, NULL, T0);
	CHECK(serve(&c, &s, 60, 1000) == 2 && c.state == CLIENT_BOUND, "zero: a sane server: two packets in a minute");
	s.has_t1 = true;
	s.t1 = 0;
	start(&c, NULL, T0);
	size_t n = serve(&c, &s, 60, 1000);
	printf("# a server sending T1 (58) = 0: %zu packets in %.3f s\n", n, clk - T0);
	/* T1 = 0 once passed the t1 < t2 < lease check, so every renewal ACK set the
	 * next T1 to the start of that renewal: a renewal storm. */
	CHECK(n < 10, "zero: a server sending T1 = 0 does not make the client renew without pause");
	s = def();
	s.lease = 0;
	start(&c, NULL, T0);
	n = serve(&c, &s, 60, 1000);
	printf("# a server sending lease time (51) = 0: %zu packets in %.3f s, %zu lease events\n", n, clk - T0, R.nev);
	/* A lease time of 0 was bound, expired on the next tick and the client
	 * DISCOVERed again at once; now it runs for the minimum lease (10 s): in 60 s
	 * at most one DISCOVER + REQUEST per lease, plus the first. */
	CHECK(n <= 14, "zero: a server sending lease time 0 does not make the client rediscover without pause");
}

/* The lease's start is documented as "when the REQUEST that got it went out" (and
 * RFC 2131 §4.4.1 counts the lease from the request). The client counts it from
 * the first DISCOVER instead, which after a long search makes a short lease
 * expire before it is even bound. */
static void test_lease_start_after_long_search(void)
{
	static struct dhcp_client c;
	struct srv s = def();
	start(&c, NULL, T0);
	for (int i = 0; i < 6; i++) /* DISCOVERs at 0, ~4, ~12, ~28, ~60, ~124 s: no server yet */
		step(&c);
	CHECK(R.nsent == 6 && clk > T0 + 115, "start: six DISCOVERs, two minutes without a server");
	CHECK(answer(&c, DHCP_OFFER, ADDR, &s) && c.state == CLIENT_REQUESTING, "start: then an OFFER; a REQUEST goes out");
	double request_at = sent_raw(R.nsent - 1)->at;
	clk += 0.1;
	s.lease = 100;
	CHECK(answer(&c, DHCP_ACK, ADDR, &s) && c.state == CLIENT_BOUND && last_ev_is(CLIENT_EV_BOUND),
	      "start: ACK with a 100 s lease: bound");
	/* The lease once started at the first DISCOVER, not at the REQUEST. */
	CHECK(c.lease.start == request_at, "start: the lease starts when the REQUEST went out, not the first DISCOVER");
	CHECK(c.lease.expiry > clk && c.lease.t1 > clk,
	      "start: a 100 s lease bound just now is neither expired nor past T1");
	size_t nev = R.nev;
	client_tick(&c, clk + 1);
	CHECK(R.nev == nev && c.state == CLIENT_BOUND, "start: a second later it is still bound, not expired");
}

int main(void)
{
	test_init_to_bound();
	test_times();
	test_discover_backoff();
	test_requesting_gives_up();
	test_renewing();
	test_rebinding();
	test_expiry();
	test_nak();
	test_init_reboot();
	test_commands();
	test_carrier();
	test_lease_callback_fails();
	test_infinite();
	test_lease_start_after_long_search();
	test_zero_times();
	CHECK(strcmp(client_state_name(CLIENT_NO_CARRIER), "no-carrier") == 0 &&
		      strcmp(client_state_name(CLIENT_INIT_REBOOT), "init-reboot") == 0,
	      "names: state names");
	CHECK(strcmp(client_event_name(CLIENT_EV_RELEASED), "lease.released") == 0 &&
		      strcmp(client_event_name(CLIENT_EV_NAK), "lease.nak") == 0,
	      "names: event names");
	return tap_done();
}
