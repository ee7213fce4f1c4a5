/* dhcp6pd's PD client state machine (pd_client.c) with a fake clock, a recording
 * send callback (every message parsed back and checked) and a recording lease
 * callback that can be told to fail. Server answers are built from the client's
 * own message with the codec's builders. Covers the RFC 8415 rules the issue
 * lists: ADVERTISE selection (preference, 255, IA_NA NoAddrsAvail beside a good
 * IA_PD, NoPrefixAvail ignored), status codes at three levels, NoBinding → REQUEST,
 * valid lifetime 0 and NoPrefixAvail in an IAPREFIX (odhcp6c#61), T1 > T2, T1 = T2
 * = 0, preferred > valid, the §7.6/§15 timers and option 82, Elapsed Time, RENEW →
 * REBIND → expiry, renumbering (CHANGED), foreign transaction ids, restart with a
 * saved delegation (renew or rebind, never release), hints, the commands, carrier,
 * rapid commit, and that pd_client_next_wakeup says when the machine acts. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pd_client.h"
#include "ip6.h"
#include "tap.h"

#define T0 1700000000.0

static double clk;

/* ---- the fake world ---- */

#define MAXSENT 512
#define MAXEV 64
struct sent_msg {
	uint8_t buf[1024];
	size_t len;
	double at;
};
struct lease_ev {
	enum pd_event ev;
	struct pd_lease lease, old;
	bool has_old;
	bool client_valid; /* the client's own lease, as the owner sees it during the callback */
	char reason[64];
};
static struct {
	struct sent_msg sent[MAXSENT];
	size_t nsent;
	struct lease_ev ev[MAXEV];
	size_t nev;
	int fail;
	char note[240];
	size_t notes;
} R;

static void rec_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct sent_msg *s = &R.sent[R.nsent++ % MAXSENT];
	s->len = len < sizeof s->buf ? len : sizeof s->buf;
	memcpy(s->buf, pkt, s->len);
	s->at = clk;
}

static int rec_lease(void *ctx, enum pd_event ev, const struct pd_lease *l, const struct pd_lease *old,
		     const char *reason)
{
	struct lease_ev *e = &R.ev[R.nev++ % MAXEV];
	e->ev = ev;
	e->lease = *l;
	e->has_old = old != NULL;
	e->client_valid = ctx ? ((const struct pd_client *)ctx)->lease.valid : false;
	if (old)
		e->old = *old;
	snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
	if (R.fail > 0) {
		R.fail--;
		return -EIO;
	}
	return 0;
}

static void rec_note(void *ctx, const char *msg)
{
	R.notes++;
	snprintf(R.note, sizeof R.note, "%s", msg);
}

static const struct pd_client_ops OPS = { rec_send, rec_lease, rec_note };
static const uint8_t DUID[] = { 0, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00 };
static const uint8_t SERVER[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };
static const uint8_t SERVER2[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 2 };
#define IAID 0x0a0b0c0d

static struct pd_client_config config(void)
{
	struct pd_client_config cfg;
	memset(&cfg, 0, sizeof cfg);
	memcpy(cfg.duid, DUID, sizeof DUID);
	cfg.duid_len = sizeof DUID;
	cfg.iaid = IAID;
	cfg.hint_len = 56;
	return cfg;
}

static void start_with(struct pd_client *c, const struct pd_client_config *cfg, const struct pd_lease *saved,
		       const struct in6_addr *hint, uint8_t hint_len)
{
	memset(&R, 0, sizeof R);
	clk = T0;
	pd_client_init(c, cfg, &OPS, c, saved, hint, hint_len, 4242, clk);
}

static void start(struct pd_client *c)
{
	struct pd_client_config cfg = config();
	start_with(c, &cfg, NULL, NULL, 0);
}

/* Runs the machine until t (timers fire when they are due, in order). */
static void run_until(struct pd_client *c, double t)
{
	for (int guard = 0; guard < 100000; guard++) {
		double next = pd_client_next_wakeup(c);
		if (next > t)
			break;
		clk = fmax(clk, next);
		pd_client_tick(c, clk);
	}
	clk = fmax(clk, t);
	pd_client_tick(c, clk);
}

static struct dhcp6_message SM;
static const struct dhcp6_message *sent(size_t i)
{
	if (i >= R.nsent)
		return NULL;
	const struct sent_msg *s = &R.sent[i % MAXSENT];
	char err[200];
	if (dhcp6_parse(s->buf, s->len, &SM, err, sizeof err) != 0) {
		printf("# sent message %zu does not parse: %s\n", i, err);
		return NULL;
	}
	return &SM;
}
static const struct dhcp6_message *last_sent(void)
{
	return R.nsent ? sent(R.nsent - 1) : NULL;
}
static const struct lease_ev *last_ev(void)
{
	return R.nev ? &R.ev[(R.nev - 1) % MAXEV] : NULL;
}

/* ---- the fake server ---- */

struct fake_prefix {
	const char *prefix;
	uint8_t len;
	uint32_t pref, valid;
	int status; /* -1: none */
};
struct answer {
	uint8_t type;
	int msg_status, ia_status; /* -1: none */
	uint32_t t1, t2;
	struct fake_prefix p[4];
	int np;
	int preference; /* -1: none */
	bool rapid, no_server_id, wrong_client, no_ia;
	int na_status; /* -1: no IA_NA */
	uint32_t sol_max_rt;
	const uint8_t *server;
	int xid_delta;
};

static struct answer answer(uint8_t type, const char *prefix, uint8_t len, uint32_t pref, uint32_t valid,
			    uint32_t t1, uint32_t t2)
{
	struct answer a;
	memset(&a, 0, sizeof a);
	a.type = type;
	a.msg_status = a.ia_status = a.na_status = a.preference = -1;
	a.t1 = t1;
	a.t2 = t2;
	if (prefix) {
		a.p[0] = (struct fake_prefix){ prefix, len, pref, valid, -1 };
		a.np = 1;
	}
	return a;
}

/* Builds the answer to the client's last message and hands it to the client. */
static void deliver(struct pd_client *c, const struct answer *a)
{
	const struct dhcp6_message *q = last_sent();
	if (q == NULL) {
		CHECK(false, "the client sent something to answer");
		return;
	}
	uint8_t buf[2048];
	struct dhcp6_builder b;
	dhcp6_build_start(&b, buf, sizeof buf, a->type, (q->xid + (uint32_t)a->xid_delta) & 0xffffff);
	if (a->wrong_client)
		dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, SERVER2, sizeof SERVER2);
	else
		dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, q->client_id, q->client_id_len);
	if (!a->no_server_id)
		dhcp6_put_option(&b, DHCP6_OPT_SERVERID, a->server ? a->server : SERVER, sizeof SERVER);
	if (a->msg_status >= 0)
		dhcp6_put_status(&b, (uint16_t)a->msg_status, "message");
	if (a->preference >= 0)
		dhcp6_put_u8(&b, DHCP6_OPT_PREFERENCE, (uint8_t)a->preference);
	if (a->rapid)
		dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	if (a->sol_max_rt)
		dhcp6_put_u32(&b, DHCP6_OPT_SOL_MAX_RT, a->sol_max_rt);
	if (!a->no_ia) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_PD, IAID, a->t1, a->t2);
		if (a->ia_status >= 0)
			dhcp6_put_status(&b, (uint16_t)a->ia_status, "ia");
		for (int i = 0; i < a->np; i++) {
			struct in6_addr p = a6(a->p[i].prefix);
			dhcp6_put_iaprefix(&b, &p, a->p[i].len, a->p[i].pref, a->p[i].valid, a->p[i].status, "prefix");
		}
		dhcp6_close(&b);
	}
	if (a->na_status >= 0) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_NA, IAID, 0, 0);
		dhcp6_put_status(&b, (uint16_t)a->na_status, "no addresses");
		dhcp6_close(&b);
	}
	struct in6_addr dns = a6("2001:db8::53");
	dhcp6_put_dns(&b, &dns, 1);
	const char *names[] = { "isp.example" };
	dhcp6_put_domain_list(&b, names, 1);
	int n = dhcp6_finish(&b);
	static struct dhcp6_message m;
	char err[200];
	if (n < 0 || dhcp6_parse(buf, (size_t)n, &m, err, sizeof err) != 0) {
		CHECK(false, "the fake server's answer parses");
		return;
	}
	pd_client_on_message(c, &m, clk);
}

/* The client's last message: its type, and the prefixes its IA_PD names. */
static bool last_is(uint8_t type)
{
	const struct dhcp6_message *m = last_sent();
	return m && m->type == type;
}

static bool names_prefix(const struct dhcp6_message *m, const char *prefix, uint8_t len)
{
	const struct dhcp6_ia *ia = m ? dhcp6_find_ia(m, DHCP6_OPT_IA_PD, IAID) : NULL;
	for (size_t i = 0; ia && i < ia->n; i++)
		if (ia->e[i].plen == len && eq6(&ia->e[i].addr, prefix))
			return true;
	return false;
}

static bool has_server(const struct dhcp6_message *m, const uint8_t *duid)
{
	return m && m->server_id && m->server_id_len == sizeof SERVER && memcmp(m->server_id, duid, sizeof SERVER) == 0;
}

/* From start to bound with 2001:db8:100::/56 (pref 60, valid 120, T1 30, T2 48). */
static void bound(struct pd_client *c)
{
	start(c);
	run_until(c, T0 + 1.0);
	struct answer a = answer(DHCP6_ADVERTISE, "2001:db8:100::", 56, 60, 120, 30, 48);
	a.preference = 255;
	deliver(c, &a);
	a.type = DHCP6_REPLY;
	a.preference = -1;
	deliver(c, &a);
}

/* ---- tests ---- */

static void test_solicit_and_timers(void)
{
	struct pd_client c;
	start(&c);
	CHECK(c.state == PD_INIT && R.nsent == 0, "INIT: nothing sent at once");
	double first = pd_client_next_wakeup(&c);
	CHECK(first >= T0 && first <= T0 + PD_SOL_MAX_DELAY, "the first SOLICIT waits at most SOL_MAX_DELAY");
	run_until(&c, first);
	const struct dhcp6_message *m = last_sent();
	CHECK(c.state == PD_SOLICITING && m && m->type == DHCP6_SOLICIT, "SOLICIT sent");
	CHECK(m && m->client_id_len == sizeof DUID && memcmp(m->client_id, DUID, sizeof DUID) == 0 && !m->server_id,
	      "our DUID, no server id");
	CHECK(m && m->has_elapsed && m->elapsed == 0, "Elapsed Time 0 in the first message");
	CHECK(m && dhcp6_requested(m, DHCP6_OPT_DNS_SERVERS) && dhcp6_requested(m, DHCP6_OPT_SOL_MAX_RT),
	      "ORO asks for DNS and SOL_MAX_RT");
	const struct dhcp6_ia *ia = m ? dhcp6_find_ia(m, DHCP6_OPT_IA_PD, IAID) : NULL;
	CHECK(ia && ia->t1 == 0 && ia->t2 == 0 && ia->n == 1 && ia->e[0].plen == 56 && eq6(&ia->e[0].addr, "::"),
	      "IA_PD with T1 = T2 = 0 and a ::/56 length hint");
	CHECK(!m->rapid_commit && dhcp6_find_ia(m, DHCP6_OPT_IA_NA, IAID) == NULL, "no rapid commit, no IA_NA unasked");

	/* retransmissions: RT1 in (1, 1.1], then doubling ±10%, then SOL_MAX_RT ±10% */
	double rt1 = c.next_send - first;
	CHECK(rt1 > 1.0 && rt1 <= 1.1, "first RT strictly greater than SOL_TIMEOUT, at most +10%");
	run_until(&c, c.next_send);
	double rt2 = c.next_send - clk;
	CHECK(R.nsent == 2 && rt2 >= 1.8 * rt1 && rt2 <= 2.1 * rt1, "second RT doubles (±10%)");
	m = last_sent();
	CHECK(m && m->elapsed >= 100 && m->elapsed <= 115 && m->xid == c.xid, "Elapsed Time counts, same xid");
	run_until(&c, T0 + 10000);
	double rt = c.next_send - R.sent[(R.nsent - 1) % MAXSENT].at;
	CHECK(rt >= 3600 * 0.9 && rt <= 3600 * 1.1, "RT settles at SOL_MAX_RT 3600 s ±10%");
	m = last_sent();
	CHECK(m && m->elapsed == 65535, "Elapsed Time caps at 0xffff");
	/* option 82 in an (unusable) ADVERTISE still sets SOL_MAX_RT */
	struct answer a = answer(DHCP6_ADVERTISE, NULL, 0, 0, 0, 0, 0);
	a.sol_max_rt = 120;
	deliver(&c, &a);
	CHECK(c.sol_max_rt == 120 && c.state == PD_SOLICITING, "SOL_MAX_RT option honoured, the ADVERTISE ignored");
	run_until(&c, c.next_send);
	run_until(&c, c.next_send);
	rt = c.next_send - clk;
	CHECK(rt >= 120 * 0.9 && rt <= 120 * 1.1, "RT capped by the new SOL_MAX_RT");
	a.sol_max_rt = 10; /* below 60: ignored (RFC 7083) */
	deliver(&c, &a);
	CHECK(c.sol_max_rt == 120, "SOL_MAX_RT out of range ignored");
}

static void test_advertise_selection(void)
{
	struct pd_client c;
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	double collect = c.collect_until;
	struct answer a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 64, 100, 200, 0, 0);
	a.preference = 10;
	deliver(&c, &a);
	CHECK(c.state == PD_SOLICITING && c.offer.valid, "an ADVERTISE in the first RT is kept, not requested yet");
	struct answer b = answer(DHCP6_ADVERTISE, "2001:db8:2::", 60, 100, 200, 0, 0);
	b.preference = 20;
	b.server = SERVER2;
	deliver(&c, &b);
	struct answer low = answer(DHCP6_ADVERTISE, "2001:db8:3::", 48, 100, 200, 0, 0);
	deliver(&c, &low); /* preference 0 */
	run_until(&c, collect);
	const struct dhcp6_message *m = last_sent();
	CHECK(c.state == PD_REQUESTING && m && m->type == DHCP6_REQUEST, "REQUEST at the end of the first RT");
	CHECK(has_server(m, SERVER2) && names_prefix(m, "2001:db8:2::", 60), "the most preferred ADVERTISE wins (odhcpd#42)");
	CHECK(m && m->elapsed == 0, "a new exchange: Elapsed Time 0");

	/* preference 255: REQUEST at once */
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	a.preference = 255;
	deliver(&c, &a);
	CHECK(c.state == PD_REQUESTING && last_is(DHCP6_REQUEST), "preference 255 is requested at once");

	/* IA_NA NoAddrsAvail beside a good IA_PD (systemd#15375) */
	struct pd_client_config cfg = config();
	cfg.request_address = true;
	start_with(&c, &cfg, NULL, NULL, 0);
	run_until(&c, pd_client_next_wakeup(&c));
	CHECK(dhcp6_find_ia(last_sent(), DHCP6_OPT_IA_NA, IAID) != NULL, "IA_NA asked for when configured");
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.na_status = DHCP6_STATUS_NO_ADDRS_AVAIL;
	a.preference = 255;
	deliver(&c, &a);
	CHECK(c.state == PD_REQUESTING, "an ADVERTISE with IA_NA NoAddrsAvail and a good IA_PD is accepted");
	a.type = DHCP6_REPLY;
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND && c.lease.nprefix == 1 && c.lease.naddr == 0, "bound to the prefix without an address");

	/* ADVERTISEs that offer nothing usable */
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	size_t ign = c.ignored;
	a = answer(DHCP6_ADVERTISE, NULL, 0, 0, 0, 0, 0);
	a.ia_status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	a = answer(DHCP6_ADVERTISE, NULL, 0, 0, 0, 0, 0);
	a.no_ia = true;
	a.msg_status = DHCP6_STATUS_NO_ADDRS_AVAIL;
	deliver(&c, &a);
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 300, 200, 0, 0); /* preferred > valid */
	deliver(&c, &a);
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.p[0].status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 50, 40); /* T1 > T2 */
	deliver(&c, &a);
	CHECK(c.ignored == ign + 5 && !c.offer.valid && c.state == PD_SOLICITING,
	      "NoPrefixAvail (IA and prefix level), no IA, preferred > valid, T1 > T2: all ignored");
	CHECK(c.status_errors >= 2 && strstr(c.last_status, "NoPrefixAvail"), "the status is recorded for status/events");
	/* an ADVERTISE after the first RT is requested at once */
	run_until(&c, c.collect_until + 0.5);
	a = answer(DHCP6_ADVERTISE, "2001:db8:9::", 56, 100, 200, 0, 0);
	deliver(&c, &a);
	CHECK(c.state == PD_REQUESTING, "an ADVERTISE after the first RT is requested without waiting");
}

static void test_bind_renew_rebind_expire(void)
{
	struct pd_client c;
	bound(&c);
	const struct lease_ev *e = last_ev();
	CHECK(c.state == PD_BOUND && e && e->ev == PD_EV_BOUND && e->lease.nprefix == 1 &&
		      eq6(&e->lease.prefix[0].addr, "2001:db8:100::") && e->lease.prefix[0].len == 56 && !e->has_old,
	      "bound: prefix.bound with the /56");
	double start = c.lease.start;
	CHECK(start == c.last_send && fabs(c.lease.t1 - (start + 30)) < 1e-6 && fabs(c.lease.t2 - (start + 48)) < 1e-6 &&
		      fabs(c.lease.prefix[0].valid_until - (start + 120)) < 1e-6 &&
		      fabs(c.lease.prefix[0].preferred_until - (start + 60)) < 1e-6,
	      "T1, T2 and lifetimes count from the REQUEST that got them");
	CHECK(c.lease.ndns == 1 && eq6(&c.lease.dns[0], "2001:db8::53") && c.lease.ndomain == 1 &&
		      strcmp(c.lease.domain[0], "isp.example.") == 0 && c.lease.server_id_len == sizeof SERVER,
	      "DNS servers, domain list and server id kept");
	CHECK(pd_client_next_wakeup(&c) == c.lease.t1, "next wake-up is T1");
	size_t n = R.nsent;
	run_until(&c, c.lease.t1 - 0.01);
	CHECK(R.nsent == n, "nothing sent before T1");
	run_until(&c, c.lease.t1);
	const struct dhcp6_message *m = last_sent();
	CHECK(c.state == PD_RENEWING && m && m->type == DHCP6_RENEW && has_server(m, SERVER) &&
		      names_prefix(m, "2001:db8:100::", 56),
	      "RENEW at T1 to our server, naming the prefix");
	const struct dhcp6_ia *ia = dhcp6_find_ia(m, DHCP6_OPT_IA_PD, IAID);
	CHECK(ia && ia->e[0].preferred == 0 && ia->e[0].valid == 0 && ia->t1 == 0, "lifetimes and T1/T2 0 in what we send");
	struct answer a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 30, 48);
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND && last_ev()->ev == PD_EV_RENEWED && last_ev()->has_old, "renewed: prefix.renewed");

	/* no answers: RENEW retransmits (10 s, 20 s...) until T2, then REBIND until expiry */
	double t2 = c.lease.t2, expiry = pd_lease_expiry(&c.lease);
	run_until(&c, c.lease.t1);
	double rt = c.next_send - clk;
	CHECK(c.state == PD_RENEWING && rt >= 9 && rt <= 11, "REN_TIMEOUT 10 s ±10%");
	run_until(&c, t2 - 0.01);
	CHECK(c.state == PD_RENEWING, "still renewing just before T2");
	run_until(&c, t2);
	m = last_sent();
	CHECK(c.state == PD_REBINDING && m && m->type == DHCP6_REBIND && !m->server_id &&
		      names_prefix(m, "2001:db8:100::", 56),
	      "REBIND at T2, to any server");
	size_t nev = R.nev;
	run_until(&c, expiry - 0.01);
	CHECK(R.nev == nev && c.lease.valid, "held until the valid lifetime ends");
	run_until(&c, expiry);
	e = last_ev();
	CHECK(e && e->ev == PD_EV_LOST && strcmp(e->reason, "expired") == 0 && !c.lease.valid, "expiry: prefix.lost");
	run_until(&c, expiry + 0.01);
	m = last_sent();
	CHECK(m && m->type == DHCP6_SOLICIT && names_prefix(m, "2001:db8:100::", 56),
	      "then SOLICIT, hinting the prefix it had");
}

static void test_status_rules(void)
{
	struct pd_client c;
	/* NoBinding in a RENEW reply → REQUEST (systemd#15455) */
	bound(&c);
	run_until(&c, c.lease.t1);
	struct answer a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.ia_status = DHCP6_STATUS_NO_BINDING;
	a.server = SERVER2;
	deliver(&c, &a);
	const struct dhcp6_message *m = last_sent();
	CHECK(c.state == PD_REQUESTING && m && m->type == DHCP6_REQUEST && has_server(m, SERVER2) &&
		      names_prefix(m, "2001:db8:100::", 56),
	      "NoBinding → REQUEST of the held prefix to the server that said it");
	CHECK(c.lease.valid, "the delegation stays meanwhile");
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 30, 48);
	a.server = SERVER2;
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND && last_ev()->ev == PD_EV_RENEWED, "the REQUEST's reply renews it");
	/* the same at message level, from a REBIND */
	run_until(&c, c.lease.t2);
	CHECK(c.state == PD_REBINDING, "rebinding");
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.no_ia = true;
	a.msg_status = DHCP6_STATUS_NO_BINDING;
	deliver(&c, &a);
	CHECK(c.state == PD_REQUESTING, "NoBinding at message level in a REBIND reply → REQUEST");

	/* valid lifetime 0 → the prefix goes at once */
	bound(&c);
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 0, 0, 0, 0);
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_LOST && strcmp(last_ev()->reason, "valid lifetime 0") == 0 && !c.lease.valid,
	      "valid lifetime 0: prefix.lost at once");
	run_until(&c, clk);
	CHECK(last_is(DHCP6_SOLICIT), "and SOLICIT");

	/* NoPrefixAvail inside the IAPREFIX with lifetimes 0 (odhcp6c#61) */
	bound(&c);
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 0, 0, 0, 0);
	a.p[0].status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_LOST && !c.lease.valid, "NoPrefixAvail in the IAPREFIX: lost at once");
	/* NoPrefixAvail inside the IAPREFIX with nonzero lifetimes: still refused */
	bound(&c);
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 0, 0);
	a.p[0].status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_LOST, "a prefix-level error status removes the prefix whatever its lifetimes");
	/* NoPrefixAvail at IA level in a RENEW reply */
	bound(&c);
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.ia_status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_LOST && strcmp(last_ev()->reason, "NoPrefixAvail") == 0, "IA-level NoPrefixAvail: lost");
	CHECK(c.state == PD_INIT && c.next_send > clk, "solicits again after a back-off, not in a loop");

	/* NoPrefixAvail in a REQUEST's reply: back to SOLICIT with a growing back-off */
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.preference = 255;
	deliver(&c, &a);
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.ia_status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	double d1 = c.next_send - clk;
	run_until(&c, c.next_send);
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.preference = 255;
	deliver(&c, &a);
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.ia_status = DHCP6_STATUS_NO_PREFIX_AVAIL;
	deliver(&c, &a);
	double d2 = c.next_send - clk;
	CHECK(c.state == PD_INIT && d1 > 0 && d2 > 1.5 * d1, "refused REQUESTs back off");

	/* UnspecFail and UseMulticast at message level: keep retransmitting */
	bound(&c);
	run_until(&c, c.lease.t1);
	double next = c.next_send;
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.msg_status = DHCP6_STATUS_UNSPEC_FAIL;
	deliver(&c, &a);
	a.msg_status = DHCP6_STATUS_USE_MULTICAST;
	deliver(&c, &a);
	CHECK(c.state == PD_RENEWING && c.next_send == next && c.lease.valid, "UnspecFail, UseMulticast: retransmit as planned");

	/* T1 > T2 in a reply: the IA is discarded, the exchange goes on */
	size_t nev = R.nev;
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 50, 40);
	deliver(&c, &a);
	CHECK(c.state == PD_RENEWING && R.nev == nev, "T1 > T2: IA discarded");
	/* preferred > valid */
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 300, 120, 0, 0);
	deliver(&c, &a);
	CHECK(c.state == PD_RENEWING && R.nev == nev, "preferred > valid: prefix discarded, nothing bound");

	/* T1 = T2 = 0: the client chooses 0.5 and 0.8 of the shortest preferred lifetime */
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 1000, 2000, 0, 0);
	a.p[1] = (struct fake_prefix){ "2001:db8:200::", 56, 400, 2000, -1 };
	a.np = 2;
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND && fabs(c.lease.t1 - (c.lease.start + 200)) < 1e-6 &&
		      fabs(c.lease.t2 - (c.lease.start + 320)) < 1e-6,
	      "T1 = T2 = 0: T1 0.5, T2 0.8 of the shortest preferred lifetime");
	CHECK(last_ev()->ev == PD_EV_CHANGED && c.lease.nprefix == 2, "a second prefix is a change");
	/* a server T2 past the shortest valid lifetime is brought in */
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 100, 200, 150, 500);
	deliver(&c, &a);
	CHECK(fabs(c.lease.t2 - (c.lease.start + 200)) < 1e-6 && fabs(c.lease.t1 - (c.lease.start + 150)) < 1e-6,
	      "T2 never past the end of the delegation");
}

static void test_renumbering_and_foreign(void)
{
	struct pd_client c;
	bound(&c);
	run_until(&c, c.lease.t1);
	/* the ISP renumbers: the old prefix with lifetimes 0, a new one beside it (Kea) */
	struct answer a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 0, 0, 30, 48);
	a.p[1] = (struct fake_prefix){ "2001:db8:200::", 56, 60, 120, -1 };
	a.np = 2;
	deliver(&c, &a);
	const struct lease_ev *e = last_ev();
	CHECK(e && e->ev == PD_EV_CHANGED && e->has_old && eq6(&e->old.prefix[0].addr, "2001:db8:100::") &&
		      e->lease.nprefix == 1 && eq6(&e->lease.prefix[0].addr, "2001:db8:200::"),
	      "renumbered: prefix.changed, old and new");
	/* a server that just sends another prefix replaces the old one too */
	run_until(&c, c.lease.t1);
	a = answer(DHCP6_REPLY, "2001:db8:300::", 56, 60, 120, 30, 48);
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_CHANGED && c.lease.nprefix == 1 && eq6(&c.lease.prefix[0].addr, "2001:db8:300::"),
	      "a different prefix replaces the old");
	/* foreign xid, another client's DUID, no server id */
	run_until(&c, c.lease.t1);
	size_t nev = R.nev, ign = c.ignored;
	a = answer(DHCP6_REPLY, "2001:db8:400::", 56, 60, 120, 30, 48);
	a.xid_delta = 1;
	deliver(&c, &a);
	CHECK(strstr(R.note, "foreign transaction id") != NULL, "a REPLY with a foreign transaction id is ignored");
	a.xid_delta = 0;
	a.wrong_client = true;
	deliver(&c, &a);
	a.wrong_client = false;
	a.no_server_id = true;
	deliver(&c, &a);
	a.no_server_id = false;
	a.type = DHCP6_ADVERTISE; /* not expected while renewing */
	deliver(&c, &a);
	a.type = DHCP6_RECONFIGURE;
	deliver(&c, &a);
	CHECK(R.nev == nev && c.ignored == ign + 5 && c.state == PD_RENEWING, "none of them changes anything");
}

static void test_restart(void)
{
	struct pd_client c;
	bound(&c);
	struct pd_lease saved = c.lease;
	struct pd_client_config cfg = config();
	/* a restart before T2: RESTORED (applied, no event), then RENEW at once */
	memset(&R, 0, sizeof R);
	clk = saved.t1 - 5;
	pd_client_init(&c, &cfg, &OPS, NULL, &saved, &saved.prefix[0].addr, 56, 99, clk);
	CHECK(R.nev == 1 && R.ev[0].ev == PD_EV_RESTORED && c.lease.valid, "restart: the saved delegation is applied");
	pd_client_tick(&c, clk);
	CHECK(last_is(DHCP6_RENEW) && has_server(last_sent(), SERVER) && names_prefix(last_sent(), "2001:db8:100::", 56),
	      "and renewed at once");
	bool released = false;
	for (size_t i = 0; i < R.nsent; i++)
		released |= sent(i) && sent(i)->type == DHCP6_RELEASE;
	CHECK(!released, "never a RELEASE on restart");
	struct answer a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 30, 48);
	deliver(&c, &a);
	CHECK(last_ev()->ev == PD_EV_RENEWED, "renewed after the restart");
	/* past T2: REBIND */
	memset(&R, 0, sizeof R);
	clk = saved.t2 + 1;
	pd_client_init(&c, &cfg, &OPS, NULL, &saved, NULL, 0, 99, clk);
	pd_client_tick(&c, clk);
	CHECK(c.state == PD_REBINDING && last_is(DHCP6_REBIND), "restart past T2: REBIND");
	/* an expired one: SOLICIT hinting it */
	memset(&R, 0, sizeof R);
	clk = pd_lease_expiry(&saved) + 1;
	pd_client_init(&c, &cfg, &OPS, NULL, &saved, &saved.prefix[0].addr, 56, 99, clk);
	CHECK(R.nev == 0 && !c.lease.valid, "an expired saved delegation is not applied");
	run_until(&c, clk + 1.0);
	CHECK(last_is(DHCP6_SOLICIT) && names_prefix(last_sent(), "2001:db8:100::", 56), "SOLICIT hints the last prefix");
	/* the restored delegation cannot be applied: dropped, SOLICIT */
	memset(&R, 0, sizeof R);
	clk = saved.t1 - 5;
	R.fail = 1;
	pd_client_init(&c, &cfg, &OPS, NULL, &saved, NULL, 0, 99, clk);
	CHECK(!c.lease.valid && c.state == PD_INIT, "a restored delegation that cannot be applied is dropped");
}

static void test_commands_carrier_rapid(void)
{
	struct pd_client c;
	bound(&c);
	CHECK(pd_client_renew(&c, clk) == 0 && last_is(DHCP6_RENEW), "renew command: RENEW now");
	struct answer a = answer(DHCP6_REPLY, "2001:db8:100::", 56, 60, 120, 30, 48);
	deliver(&c, &a);
	CHECK(pd_client_rebind(&c, clk) == 0 && last_is(DHCP6_REBIND), "rebind command: REBIND now");
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND, "rebound");
	size_t n = R.nsent;
	CHECK(pd_client_release(&c, clk) == 0 && last_is(DHCP6_RELEASE) && has_server(last_sent(), SERVER) &&
		      names_prefix(last_sent(), "2001:db8:100::", 56),
	      "release: RELEASE to the server naming the prefix");
	CHECK(last_ev()->ev == PD_EV_LOST && strcmp(last_ev()->reason, "released") == 0 && !c.lease.valid,
	      "the delegation is removed at once");
	CHECK(!last_ev()->client_valid && last_ev()->lease.valid && last_ev()->lease.nprefix == 1,
	      "and already gone when the owner hears of it (the LANs renumber from the client), the event naming it");
	run_until(&c, clk + 100);
	CHECK(R.nsent == n + PD_REL_MAX_RC && c.state == PD_RELEASED, "RELEASE retransmitted REL_MAX_RC times, then idle");
	CHECK(pd_client_release(&c, clk) == -EAGAIN && pd_client_rebind(&c, clk) == -EAGAIN, "nothing to release or rebind");
	CHECK(pd_client_renew(&c, clk) == 0 && last_is(DHCP6_SOLICIT), "renew after a release solicits");

	/* RELEASE answered: no more retransmissions */
	bound(&c);
	pd_client_release(&c, clk);
	n = R.nsent;
	a = answer(DHCP6_REPLY, NULL, 0, 0, 0, 0, 0);
	a.msg_status = DHCP6_STATUS_SUCCESS;
	deliver(&c, &a);
	run_until(&c, clk + 100);
	CHECK(R.nsent == n, "a REPLY to the RELEASE stops its retransmissions");

	/* carrier */
	bound(&c);
	n = R.nsent;
	pd_client_carrier(&c, false, clk);
	run_until(&c, c.lease.t1 + 5);
	CHECK(c.state == PD_NO_CARRIER && R.nsent == n, "no carrier: silent");
	CHECK(pd_client_renew(&c, clk) == -ENETDOWN, "renew without carrier: -ENETDOWN");
	pd_client_carrier(&c, true, clk);
	CHECK(c.state == PD_REBINDING && last_is(DHCP6_REBIND), "carrier back with a delegation: REBIND (§18.2.12)");
	pd_client_carrier(&c, false, clk);
	run_until(&c, pd_lease_expiry(&c.lease) + 1);
	CHECK(last_ev()->ev == PD_EV_LOST && c.state == PD_NO_CARRIER, "a delegation runs out without carrier");
	pd_client_carrier(&c, true, clk);
	CHECK(last_is(DHCP6_SOLICIT), "carrier back without one: SOLICIT");

	/* rapid commit */
	struct pd_client_config cfg = config();
	cfg.rapid_commit = true;
	start_with(&c, &cfg, NULL, NULL, 0);
	run_until(&c, pd_client_next_wakeup(&c));
	CHECK(last_sent() && last_sent()->rapid_commit, "SOLICIT carries Rapid Commit");
	a = answer(DHCP6_REPLY, "2001:db8:5::", 56, 60, 120, 30, 48);
	deliver(&c, &a); /* no rapid commit option: not an answer to SOLICIT */
	CHECK(c.state == PD_SOLICITING, "a REPLY without Rapid Commit is no answer to SOLICIT");
	a.rapid = true;
	deliver(&c, &a);
	CHECK(c.state == PD_BOUND && last_ev()->ev == PD_EV_BOUND && strcmp(last_ev()->reason, "rapid commit") == 0,
	      "a Rapid Commit REPLY binds directly");

	/* an apply that fails: dropped, solicit after a back-off */
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.preference = 255;
	deliver(&c, &a);
	a.type = DHCP6_REPLY;
	R.fail = 1;
	deliver(&c, &a);
	CHECK(!c.lease.valid && c.state == PD_INIT && c.next_send > clk, "apply failure: dropped, solicit later");

	/* REQUEST unanswered REQ_MAX_RC times: SOLICIT again */
	start(&c);
	run_until(&c, pd_client_next_wakeup(&c));
	a = answer(DHCP6_ADVERTISE, "2001:db8:1::", 56, 100, 200, 0, 0);
	a.preference = 255;
	deliver(&c, &a);
	n = R.nsent;
	for (int i = 0; i < 30 && c.state == PD_REQUESTING; i++)
		run_until(&c, c.next_send);
	CHECK(R.nsent - n == PD_REQ_MAX_RC - 1 + 0 && c.state == PD_INIT,
	      "REQUEST gives up after REQ_MAX_RC transmissions");
}

int main(void)
{
	test_solicit_and_timers();
	test_advertise_selection();
	test_bind_renew_rebind_expire();
	test_status_rules();
	test_renumbering_and_foreign();
	test_restart();
	test_commands_carrier_rapid();
	return tap_done();
}
