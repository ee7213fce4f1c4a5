/* Unit test for dnsd's copy of dhcp4d's committed leases (dnsd/lease_set.h): the
 * snapshot keeps bound leases that have not ended; events add, renew and remove;
 * replaying events the snapshot already holds changes nothing (the cursor is
 * read before the snapshot); the uplink client's lease events are not ours; a
 * gap in the events, a restart or a reload asks for a new snapshot; malformed
 * answers change nothing; expiry; many leases (the index). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lease_set.h"
#include "tap.h"

#define NOW 1700000000.0

static const char *SNAPSHOT =
	"{\"leases\":["
	"{\"interface\":\"lan0\",\"address\":\"192.168.1.100\",\"mac\":\"52:54:00:00:00:01\",\"client_id\":\"01:52:54:00:00:00:01\","
	"\"hostname\":\"laptop\",\"state\":\"bound\",\"starts\":1699999000,\"ends\":1700000600},"
	"{\"interface\":\"lan0\",\"address\":\"192.168.1.101\",\"mac\":\"52:54:00:00:00:02\",\"client_id\":\"\","
	"\"hostname\":\"\",\"state\":\"bound\",\"starts\":1699999000,\"ends\":1700000060},"
	"{\"interface\":\"lan0\",\"address\":\"192.168.1.102\",\"mac\":\"52:54:00:00:00:03\",\"client_id\":\"\","
	"\"hostname\":\"old\",\"state\":\"bound\",\"starts\":1699990000,\"ends\":1699999999},"
	"{\"interface\":\"lan0\",\"address\":\"192.168.1.103\",\"mac\":\"52:54:00:00:00:04\",\"client_id\":\"\","
	"\"hostname\":\"gone\",\"state\":\"released\",\"starts\":1699990000,\"ends\":1700000600},"
	"{\"interface\":\"lan1\",\"address\":\"192.168.1.100\",\"mac\":\"52:54:00:00:00:05\",\"client_id\":\"\","
	"\"hostname\":\"twin\",\"state\":\"bound\",\"starts\":1699999000,\"ends\":1700000600}]}";

static const struct dhcp_lease *find(const struct lease_set *s, const char *ifname, const char *host)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].interface, ifname) == 0 && strcmp(s->v[i].hostname, host) == 0)
			return &s->v[i];
	return NULL;
}

/* An events answer with one server lease event per (seq, type, address, hostname, ends). */
static int events(char *out, size_t cap, unsigned long long next, int n, const unsigned long long *seq,
		  const char *const *type, const char *const *addr, const char *const *host, const double *ends)
{
	size_t k = (size_t)snprintf(out, cap, "{\"events\":[");
	for (int i = 0; i < n; i++)
		k += (size_t)snprintf(out + k, cap - k,
				      "%s{\"seq\":%llu,\"time\":\"x\",\"type\":\"%s\",\"severity\":\"info\",\"subject\":\"%s\","
				      "\"message\":\"m\",\"data\":{\"interface\":\"lan0\",\"address\":\"%s\","
				      "\"mac\":\"52:54:00:00:00:09\",\"client_id\":\"01:52:54:00:00:00:09\","
				      "\"hostname\":\"%s\",\"ends\":%.3f}}",
				      i ? "," : "", seq[i], type[i], addr[i], addr[i], host[i], ends[i]);
	return (int)k + snprintf(out + k, cap - k, "],\"next\":%llu}", next);
}

static void test_snapshot(void)
{
	struct lease_set s = { 0 };
	char err[200];
	CHECK(lease_set_load(&s, SNAPSHOT, strlen(SNAPSHOT), NOW, err, sizeof err) == 0, "the snapshot loads");
	CHECK(s.n == 3, "bound and not ended: 3 (not the ended one, not the released one)");
	const struct dhcp_lease *l = find(&s, "lan0", "laptop");
	CHECK(l && l->ends == 1700000600 && l->mac_len == 6 && l->mac[5] == 1 && l->client_id_len == 7 &&
		      l->client_id[0] == 1,
	      "laptop with its hardware address, client id and end");
	CHECK(find(&s, "lan0", "") && find(&s, "lan1", "twin"), "no hostname is kept; the same address elsewhere too");
	CHECK(lease_set_next_end(&s) == 1700000060, "the earliest end");
	CHECK(lease_set_load(&s, "{\"leases\":7}", 12, NOW, err, sizeof err) == -EBADMSG && s.n == 3,
	      "a malformed answer changes nothing");
	CHECK(lease_set_load(&s, "{\"leases\":[", 11, NOW, err, sizeof err) == -EBADMSG && s.n == 3, "nor a cut one");
	CHECK(!lease_set_expire(&s, NOW) && lease_set_expire(&s, 1700000060) && s.n == 2 && !find(&s, "lan0", ""),
	      "the lease ending at 1700000060 goes then");
	lease_set_free(&s);
}

static void test_events(void)
{
	struct lease_set s = { 0 };
	char err[200], buf[4096];
	bool changed;
	lease_set_load(&s, SNAPSHOT, strlen(SNAPSHOT), NOW, err, sizeof err);
	uint64_t since = 40;
	/* A bound, a renewal of laptop, a release of the nameless one. */
	const unsigned long long seq[] = { 41, 42, 43 };
	const char *type[] = { "lease.bound", "lease.renewed", "lease.released" };
	const char *addr[] = { "192.168.1.150", "192.168.1.100", "192.168.1.101" };
	const char *host[] = { "phone", "laptop", "" };
	const double ends[] = { NOW + 600, NOW + 3600, NOW + 600 };
	int n = events(buf, sizeof buf, 43, 3, seq, type, addr, host, ends);
	CHECK(lease_set_apply_events(&s, buf, (size_t)n, &since, NOW, &changed, err, sizeof err) == LEASE_EVENTS_APPLIED,
	      "applied");
	CHECK(changed && since == 43, "changed, and the cursor follows");
	CHECK(find(&s, "lan0", "phone") && find(&s, "lan0", "laptop")->ends == NOW + 3600 && !find(&s, "lan0", "") &&
		      s.n == 3,
	      "bound added, renewal moves the end, release removes");
	/* The same events again (the snapshot already held them): the same set. */
	since = 40;
	CHECK(lease_set_apply_events(&s, buf, (size_t)n, &since, NOW, &changed, err, sizeof err) == LEASE_EVENTS_APPLIED &&
		      s.n == 3 && find(&s, "lan0", "laptop")->ends == NOW + 3600,
	      "replaying events the snapshot holds changes nothing");
	/* Expired, declined, conflict remove; a bound that has ended already removes too. */
	const unsigned long long seq2[] = { 44, 45 };
	const char *type2[] = { "lease.expired", "lease.bound" };
	const char *addr2[] = { "192.168.1.150", "192.168.1.100" };
	const char *host2[] = { "phone", "laptop" };
	const double ends2[] = { NOW, NOW - 1 };
	n = events(buf, sizeof buf, 45, 2, seq2, type2, addr2, host2, ends2);
	lease_set_apply_events(&s, buf, (size_t)n, &since, NOW, &changed, err, sizeof err);
	CHECK(s.n == 1 && find(&s, "lan1", "twin"), "expired and ended leases go; lan1's lease with the same address stays");
	/* The uplink client's lease.bound (no client_id): not a lease we serve. */
	const char *client = "{\"events\":[{\"seq\":46,\"type\":\"lease.bound\",\"data\":{\"interface\":\"wan0\","
			     "\"address\":\"203.0.113.5\",\"server\":\"203.0.113.1\",\"expiry\":1700009999}}],\"next\":46}";
	CHECK(lease_set_apply_events(&s, client, strlen(client), &since, NOW, &changed, err, sizeof err) ==
			      LEASE_EVENTS_APPLIED &&
		      !changed && s.n == 1 && since == 46,
	      "the uplink client's events are skipped");
	/* An empty answer (the long-poll timed out). */
	const char *empty = "{\"events\":[],\"next\":46}";
	CHECK(lease_set_apply_events(&s, empty, strlen(empty), &since, NOW, &changed, err, sizeof err) ==
			      LEASE_EVENTS_APPLIED &&
		      !changed && since == 46,
	      "nothing new");
	/* A gap: events 47.. were dropped from dhcp4d's memory. */
	const unsigned long long seq3[] = { 50 };
	n = events(buf, sizeof buf, 50, 1, seq3, type, addr, host, ends);
	CHECK(lease_set_apply_events(&s, buf, (size_t)n, &since, NOW, &changed, err, sizeof err) == LEASE_EVENTS_RESYNC &&
		      since == 46 && s.n == 1,
	      "a gap asks for a new snapshot and applies nothing");
	const char *restart = "{\"events\":[{\"seq\":47,\"type\":\"daemon.started\",\"data\":{}}],\"next\":47}";
	CHECK(lease_set_apply_events(&s, restart, strlen(restart), &since, NOW, &changed, err, sizeof err) ==
		      LEASE_EVENTS_RESYNC,
	      "dhcp4d restarted: a new snapshot");
	const char *reload = "{\"events\":[{\"seq\":47,\"type\":\"config.reloaded\",\"data\":{}}],\"next\":47}";
	CHECK(lease_set_apply_events(&s, reload, strlen(reload), &since, NOW, &changed, err, sizeof err) ==
		      LEASE_EVENTS_RESYNC,
	      "dhcp4d reloaded: a new snapshot");
	const char *bad[] = { "{\"events\":[],\"next\":3}", "{\"events\":{},\"next\":47}", "[]",
			      "{\"events\":[{\"seq\":46,\"type\":\"x\"}],\"next\":46}", "{\"events\":[{\"type\":\"x\"}],\"next\":47}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[120];
		snprintf(what, sizeof what, "malformed or going back: %s", bad[i]);
		CHECK(lease_set_apply_events(&s, bad[i], strlen(bad[i]), &since, NOW, &changed, err, sizeof err) == -EBADMSG &&
			      since == 46 && s.n == 1,
		      what);
	}
	lease_set_free(&s);
}

static void test_many(void)
{
	/* 20,000 leases through events, then every other one released: the index
	 * finds each after the array moved under it. */
	struct lease_set s = { 0 };
	static char buf[1 << 16];
	char err[200];
	bool changed;
	uint64_t since = 0;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 20000; i++) {
			if (round == 1 && i % 2)
				continue;
			char a[32], h[32];
			snprintf(a, sizeof a, "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
			snprintf(h, sizeof h, "h%d", i);
			const char *ap = a, *hp = h, *type = round ? "lease.released" : "lease.bound";
			unsigned long long seq = since + 1;
			double ends = NOW + 600;
			int n = events(buf, sizeof buf, seq, 1, &seq, &type, &ap, &hp, &ends);
			lease_set_apply_events(&s, buf, (size_t)n, &since, NOW, &changed, err, sizeof err);
		}
	}
	bool ok = s.n == 10000;
	for (size_t i = 0; ok && i < s.n; i++) {
		int k;
		ok = sscanf(s.v[i].hostname, "h%d", &k) == 1 && k % 2 == 1;
	}
	CHECK(ok, "20,000 bound, the even ones released: the 10,000 odd ones left");
	CHECK(lease_set_expire(&s, NOW + 600) && s.n == 0, "all end together");
	lease_set_free(&s);
}

static void test_ids(void)
{
	uint8_t b[DHCP_LEASE_ID_MAX];
	CHECK(dhcp_lease_parse_id("52:54:00:AB:cd:ef", b) == 6 && b[3] == 0xab && b[5] == 0xef, "a MAC");
	CHECK(dhcp_lease_parse_id("01", b) == 1, "one byte");
	const char *bad[] = { "", "5", "52:", "52:5", "52-54", "zz", "52:54:", ":52" };
	bool ok = true;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok &= dhcp_lease_parse_id(bad[i], b) < 0;
	CHECK(ok, "not colon-separated hex bytes");
	char long_id[3 * (DHCP_LEASE_ID_MAX + 1)];
	for (int i = 0; i <= DHCP_LEASE_ID_MAX; i++)
		memcpy(long_id + 3 * i, i < DHCP_LEASE_ID_MAX ? "00:" : "00", 3);
	CHECK(dhcp_lease_parse_id(long_id, b) < 0, "longer than DHCP_LEASE_ID_MAX bytes");
}

int main(void)
{
	test_snapshot();
	test_events();
	test_many();
	test_ids();
	return tap_done();
}
