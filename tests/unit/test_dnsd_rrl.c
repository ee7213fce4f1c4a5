/* Unit test for response rate limiting (dnsd/rrl.h): the rate per second, the
 * window of debt, the accounts (per network with IPv4 and IPv6 prefixes, per
 * name and type for answers, per zone for NXDOMAIN/NODATA and referrals, one for
 * errors), the truncated reply that is slipped, and several threads at once
 * staying within the rate. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "dns_wire.h"
#include "rrl.h"
#include "tap.h"

static const uint8_t KEY[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	s->sin_family = AF_INET;
	inet_pton(AF_INET, a, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &s->sin6_addr);
	return ss;
}

/* An answered question for name/qtype with rcode (and a referral or NODATA). */
static struct dnsd_answer_info answer(const char *name, uint16_t qtype, uint16_t rcode, int zone)
{
	struct dnsd_answer_info info;
	memset(&info, 0, sizeof info);
	info.verdict = DNSD_ANSWERED;
	info.have_question = true;
	int n = arbor_dns_name_from_text(name, info.q.name, sizeof info.q.name);
	info.q.name_len = (uint8_t)(n > 0 ? n : 1);
	info.q.qtype = qtype;
	info.q.qclass = ARBOR_DNS_CLASS_IN;
	info.q.id = 7;
	info.rcode = rcode;
	info.aa = true;
	info.zone = zone;
	return info;
}

/* How many of count responses at now go out. */
static unsigned sent(struct rrl *r, const struct sockaddr_storage *who, const struct dnsd_answer_info *info,
		     unsigned count, uint32_t now)
{
	unsigned n = 0;
	for (unsigned i = 0; i < count; i++)
		n += rrl_account(r, (const struct sockaddr *)who, info, now) == RRL_SEND;
	return n;
}

static void test_rate_and_window(void)
{
	struct rrl_params p = { .responses_per_second = 5, .window = 3, .ipv4_prefix = 24, .ipv6_prefix = 56 };
	struct rrl *r = rrl_new(&p, 10, KEY);
	struct sockaddr_storage a = v4("192.0.2.7");
	struct dnsd_answer_info www = answer("www.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	CHECK(sent(r, &a, &www, 100, 1000) == 5, "a flood gets 5 answers in its first second");
	CHECK(sent(r, &a, &www, 100, 1001) == 0, "and none the next second: its debt is 3 seconds' worth");
	CHECK(sent(r, &a, &www, 1, 1003) == 0, "2 quiet seconds are not enough");
	CHECK(sent(r, &a, &www, 1, 1006) == 1, "window (3) quiet seconds after the flood it answers again");
	CHECK(sent(r, &a, &www, 10, 1010) == 5, "a quiet account is back to 5 a second");
	CHECK(sent(r, &a, &www, 5, 1012) == 5, "5 a second is never limited");
	CHECK(sent(r, &a, &www, 5, 1013) == 5, "second after second");
	rrl_free(r);
}

static void test_accounts(void)
{
	struct rrl_params p = { .responses_per_second = 2, .window = 5, .ipv4_prefix = 24, .ipv6_prefix = 56 };
	struct rrl *r = rrl_new(&p, 12, KEY);
	struct sockaddr_storage a = v4("192.0.2.7"), same24 = v4("192.0.2.200"), other = v4("198.51.100.7");
	struct dnsd_answer_info www = answer("www.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	struct dnsd_answer_info WWW = answer("WWW.Home.Arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	struct dnsd_answer_info www6 = answer("www.home.arpa", ARBOR_DNS_TYPE_AAAA, ARBOR_DNS_RCODE_NOERROR, 0);
	struct dnsd_answer_info mail = answer("mail.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	CHECK(sent(r, &a, &www, 10, 50) == 2, "www A: 2");
	CHECK(sent(r, &same24, &WWW, 10, 50) == 0, "the same /24 and name in another case share the account");
	CHECK(sent(r, &other, &www, 10, 50) == 2, "another network has its own");
	CHECK(sent(r, &a, &www6, 10, 50) == 2, "another type has its own");
	CHECK(sent(r, &a, &mail, 10, 50) == 2, "another name has its own");
	/* NXDOMAIN and NODATA count per zone: random names share one account. */
	unsigned nx = 0;
	for (int i = 0; i < 10; i++) {
		char name[64];
		snprintf(name, sizeof name, "r%d.home.arpa", i);
		struct dnsd_answer_info info = answer(name, ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NXDOMAIN, 0);
		nx += sent(r, &a, &info, 1, 50);
	}
	CHECK(nx == 2, "NXDOMAIN for 10 random names: 2");
	struct dnsd_answer_info nodata = answer("www.home.arpa", ARBOR_DNS_TYPE_MX, ARBOR_DNS_RCODE_NOERROR, 0);
	nodata.nodata = true;
	CHECK(sent(r, &a, &nodata, 1, 50) == 0, "NODATA in the same zone shares NXDOMAIN's account");
	struct dnsd_answer_info nx1 = answer("x.1.168.192.in-addr.arpa", ARBOR_DNS_TYPE_PTR, ARBOR_DNS_RCODE_NXDOMAIN, 1);
	CHECK(sent(r, &a, &nx1, 10, 50) == 2, "another zone's NXDOMAIN has its own");
	struct dnsd_answer_info ref = answer("a.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	ref.referral = true;
	ref.aa = false;
	struct dnsd_answer_info ref2 = answer("b.m1.lan0.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	ref2.referral = true;
	CHECK(sent(r, &a, &ref, 5, 50) == 2 && sent(r, &a, &ref2, 5, 50) == 0, "referrals count per zone");
	struct dnsd_answer_info refused = answer("example.com", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_REFUSED, -1);
	struct dnsd_answer_info formerr = answer("x", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_FORMERR, -1);
	CHECK(sent(r, &a, &refused, 5, 50) == 2 && sent(r, &a, &formerr, 5, 50) == 0, "errors share one account");
	/* IPv6: a /56 is one network; a v4-mapped address counts as IPv4. */
	struct sockaddr_storage x = v6("2001:db8:0:1::1"), y = v6("2001:db8:0:ff::2"), z = v6("2001:db8:0:100::1");
	struct sockaddr_storage mapped = v6("::ffff:192.0.2.9");
	CHECK(sent(r, &x, &www, 10, 50) == 2 && sent(r, &y, &www, 10, 50) == 0, "IPv6: the same /56 shares");
	CHECK(sent(r, &z, &www, 10, 50) == 2, "IPv6: the next /56 does not");
	CHECK(sent(r, &mapped, &www, 10, 50) == 0, "a v4-mapped address is its IPv4 network");
	rrl_free(r);
}

static void test_prefix_lengths(void)
{
	struct rrl_params p = { .responses_per_second = 1, .window = 1, .ipv4_prefix = 32, .ipv6_prefix = 128 };
	struct rrl *r = rrl_new(&p, 10, KEY);
	struct sockaddr_storage a = v4("192.0.2.7"), b = v4("192.0.2.8");
	struct dnsd_answer_info www = answer("www.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	CHECK(sent(r, &a, &www, 3, 9) == 1 && sent(r, &b, &www, 3, 9) == 1, "/32: each address is its own network");
	rrl_free(r);
	p.ipv4_prefix = 0;
	r = rrl_new(&p, 10, KEY);
	struct sockaddr_storage c = v4("203.0.113.1");
	CHECK(sent(r, &a, &www, 3, 9) == 1 && sent(r, &c, &www, 3, 9) == 0, "/0: every IPv4 client is one network");
	rrl_free(r);
}

static void test_truncated_reply(void)
{
	struct dnsd_answer_info info = answer("www.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NXDOMAIN, 0);
	info.q.rd = true;
	info.q.edns = true;
	info.q.edns_payload = 1232;
	info.q.transport = DNSD_UDP;
	uint8_t out[512];
	int n = dnsd_answer_truncated(&info, out, sizeof out);
	struct arbor_dns_message m;
	CHECK(n > 0 && arbor_dns_parse(out, (size_t)n, &m) == 0, "the slipped reply parses");
	CHECK(m.header.tc && m.header.qr && m.header.aa && m.header.rd, "TC, QR, AA and RD set");
	CHECK(m.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN && m.header.id == 7, "the rcode and id kept");
	CHECK(m.header.ancount == 0 && m.header.nscount == 0 && m.header.arcount == 1, "no records but the OPT");
	CHECK(n == 12 + 15 + 4 + 11, "no bigger than header, question and OPT");
}

struct hammer {
	struct rrl *r;
	pthread_barrier_t *second; /* the threads' clocks tick together */
	unsigned sent;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	struct sockaddr_storage a = v4("192.0.2.7");
	struct dnsd_answer_info www = answer("www.home.arpa", ARBOR_DNS_TYPE_A, ARBOR_DNS_RCODE_NOERROR, 0);
	for (uint32_t now = 100; now < 110; now++) {
		pthread_barrier_wait(h->second);
		h->sent += sent(h->r, &a, &www, 20000, now);
	}
	return NULL;
}

static void test_threads_share_the_limit(void)
{
	struct rrl_params p = { .responses_per_second = 100, .window = 1, .ipv4_prefix = 24, .ipv6_prefix = 56 };
	struct rrl *r = rrl_new(&p, 10, KEY);
	struct hammer h[4];
	pthread_t t[4];
	pthread_barrier_t second;
	pthread_barrier_init(&second, NULL, 4);
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ .r = r, .second = &second };
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	unsigned total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += h[i].sent;
	}
	pthread_barrier_destroy(&second);
	/* 10 seconds at 100 a second, whichever thread answers: 1,000 (a few more when
	 * a thread loses the compare-and-swap race CAS_TRIES times in a row). */
	char what[120];
	snprintf(what, sizeof what, "4 threads, 800,000 answers over 10 s at 100/s: %u sent", total);
	CHECK(total >= 1000 && total <= 1100, what);
	rrl_free(r);
}

int main(void)
{
	test_rate_and_window();
	test_accounts();
	test_prefix_lengths();
	test_truncated_reply();
	test_threads_share_the_limit();
	return tap_done();
}
