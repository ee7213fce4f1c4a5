/* dhcp4d's server state machine, driven with decoded requests and a fake
 * clock: the RFC 2131 §4.3 cases, pools, reservations, floods, declines, and
 * the pure half of the conflict probe (which offers need one, conflicts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_record.h"
#include "server.h"
#include "tap.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct arbor_config *load(const char *json)
{
	char *errors = NULL;
	struct arbor_config *c =
		arbor_config_load_text("t.json", json, strlen(json), "dhcp4d", dhcp4d_config_parse, dhcp4d_config_free, &errors);
	if (c == NULL)
		printf("# %s\n", errors);
	free(errors);
	return c;
}

/* The errors of a config that must not load ("" when it loads). */
static char *load_errors(const char *json)
{
	char *errors = NULL;
	struct arbor_config *c =
		arbor_config_load_text("t.json", json, strlen(json), "dhcp4d", dhcp4d_config_parse, dhcp4d_config_free, &errors);
	if (c) {
		arbor_config_free(c);
		return strdup("");
	}
	return errors;
}

struct client {
	uint8_t key[7];
	uint8_t mac[6];
	struct dhcp_request_view rq;
};

static void client_init(struct client *c, unsigned n)
{
	memset(c, 0, sizeof *c);
	uint8_t mac[6] = { 0x52, 0x54, 0x00, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	memcpy(c->mac, mac, 6);
	c->key[0] = 1;
	memcpy(c->key + 1, mac, 6);
	c->rq.key = c->key;
	c->rq.key_len = 7;
	c->rq.mac = c->mac;
	c->rq.mac_len = 6;
}

static struct dhcp_decision ask(struct server *s, struct client *c, int type, uint32_t requested, uint32_t server_id,
				uint32_t ciaddr, double now)
{
	struct dhcp_decision d;
	c->rq.type = type;
	c->rq.requested = requested;
	c->rq.server_id = server_id;
	c->rq.ciaddr = ciaddr;
	server_handle(s, &c->rq, now, &d);
	return d;
}

static int expired;
static void on_expire(void *ctx, struct server *s, struct lease *l)
{
	expired++;
}

/* conflict_probe: which offers wait for a ping, and what an answer does. */
static void test_conflict_probe(void)
{
	struct arbor_config *cfg =
		load("{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"192.168.1.0/24\","
		     "\"pools\": [{\"start\": \"192.168.1.100\", \"end\": \"192.168.1.103\"}],"
		     "\"reservations\": [{\"mac\": \"52:54:00:00:00:63\", \"address\": \"192.168.1.50\"}],"
		     "\"lease_time\": 100, \"offer_timeout\": 5, \"decline_time\": 60,"
		     "\"conflict_probe\": {\"ping\": true, \"timeout\": 0.25}}]}}");
	CHECK(cfg != NULL, "conflict_probe config loads");
	if (cfg == NULL)
		return;
	const struct server_spec *spec = &((struct dhcp4d_config *)cfg->daemon)->servers[0];
	CHECK(spec->probe_ping && spec->probe_timeout == 0.25, "conflict_probe.ping and timeout parsed");
	struct server s;
	server_init(&s, spec, IP(192, 168, 1, 1));
	struct client a, b, c, printer;
	client_init(&a, 1);
	client_init(&b, 2);
	client_init(&c, 3);
	client_init(&printer, 0x63);

	struct dhcp_decision d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1000);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 100) && d.probe,
	      "an address the client never had: the offer waits for a probe");
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1000.1);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 100) && !d.probe,
	      "its own pending offer: no second probe");

	server_conflict(&s, IP(192, 168, 1, 100), 1000.2, &d);
	const struct lease *q = lease_by_addr(&s.leases, IP(192, 168, 1, 100));
	CHECK(d.event == EVENT_CONFLICT && d.reply == 0 && d.journal == q && q->state == LEASE_DECLINED &&
		      q->ends == 1000.2 + 60 && s.conflicts == 1 && s.declines == 0,
	      "a conflict quarantines the address for decline_time, journalled");
	CHECK(lease_by_key(&s.leases, a.rq.key, a.rq.key_len) == NULL, "and withdraws the offer");
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1000.2);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 101) && d.probe,
	      "decided again: another address, probed again");
	server_probe_passed(&s, &a.rq, IP(192, 168, 1, 101), 1000.5, &d);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 101) && d.lease_time == 100 &&
		      lease_by_addr(&s.leases, IP(192, 168, 1, 101))->ends == 1000.5 + 5,
	      "no answer: the offer goes out, its lifetime from now");
	d = ask(&s, &a, DHCP_REQUEST, IP(192, 168, 1, 101), IP(192, 168, 1, 1), 0, 1000.6);
	CHECK(d.reply == DHCP_ACK && d.event == EVENT_BOUND, "and is bound");
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1001);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 101) && !d.probe, "a bound client: no probe");

	d = ask(&s, &b, DHCP_DISCOVER, IP(192, 168, 1, 100), 0, 0, 1002);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 102) && d.probe,
	      "a quarantined address is not offered, even when requested");
	d = ask(&s, &b, DHCP_REQUEST, IP(192, 168, 1, 102), IP(192, 168, 1, 99), 0, 1002.1);
	server_probe_passed(&s, &b.rq, IP(192, 168, 1, 102), 1002.2, &d);
	CHECK(d.reply == 0 && strstr(d.reason, "withdrawn"), "an offer withdrawn while probing does not go out");

	server_conflict(&s, IP(192, 168, 1, 101), 1003, &d);
	CHECK(d.event == EVENT_NONE && d.journal == NULL &&
		      lease_by_addr(&s.leases, IP(192, 168, 1, 101))->state == LEASE_BOUND && s.conflicts == 1,
	      "a bound address is never quarantined by a ping");
	server_conflict(&s, IP(10, 0, 0, 1), 1003, &d);
	CHECK(d.event == EVENT_NONE, "an address of another network changes nothing");

	d = ask(&s, &printer, DHCP_DISCOVER, 0, 0, 0, 1004);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 50) && !d.probe, "a reserved address: no probe");

	d = ask(&s, &a, DHCP_RELEASE, 0, 0, IP(192, 168, 1, 101), 1005);
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1006);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 101) && !d.probe,
	      "the client's own former address: no probe (it might answer it itself)");

	d = ask(&s, &c, DHCP_DISCOVER, IP(192, 168, 1, 101), 0, 0, 1007);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr != IP(192, 168, 1, 101) && d.probe,
	      "another client asking for that address: something else, probed");

	expired = 0;
	server_expire(&s, 1000.2 + 60, on_expire, NULL);
	CHECK(lease_by_addr(&s.leases, IP(192, 168, 1, 100))->state == LEASE_EXPIRED && expired >= 1,
	      "the quarantine ends after decline_time");
	server_free(&s);
	arbor_config_free(cfg);

	static const struct {
		const char *probe, *want;
	} bad[] = {
		{ "{\"ping\": true, \"timeout\": 0.01}",
		  "dhcp4d.servers[0].conflict_probe.timeout: 0.01 must be at least 0.05 and at most 5 seconds" },
		{ "{\"ping\": true, \"timeout\": 6}", "dhcp4d.servers[0].conflict_probe.timeout: 6 must be more than 0" },
		{ "{\"ping\": true, \"timeout\": \"1\"}", "dhcp4d.servers[0].conflict_probe.timeout: \"1\" is not a duration" },
		{ "{\"ping\": \"yes\"}", "dhcp4d.servers[0].conflict_probe.ping" },
		{ "{\"arp\": true}", "dhcp4d.servers[0].conflict_probe.arp: unknown key" },
		{ "true", "dhcp4d.servers[0].conflict_probe: must be an object" },
		{ "{\"ping\": true, \"timeout\": 2}", "conflict_probe.timeout: 2 must be shorter than offer_timeout (1)" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"10.0.0.0/24\","
			 " \"offer_timeout\": 1, \"conflict_probe\": %s}]}}",
			 bad[i].probe);
		char *errors = load_errors(json);
		bool refused = errors && strstr(errors, bad[i].want);
		if (!refused)
			printf("# conflict_probe %s: %s\n", bad[i].probe, errors ? errors : "(loads)");
		CHECK(refused, "a bad conflict_probe is refused with its key path");
		free(errors);
	}
	char *ok = load_errors("{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"10.0.0.0/24\","
			       " \"offer_timeout\": 1, \"conflict_probe\": {\"ping\": false, \"timeout\": 2}}]}}");
	CHECK(ok && ok[0] == '\0', "a long timeout is fine while ping is off");
	free(ok);
}

/* A record read back from text (the journal's form) into t. */
static int apply_text(struct lease_table *t, const char *json)
{
	char err[128];
	cJSON *rec = cJSON_Parse(json);
	int rc = lease_record_apply(t, rec, err, sizeof err);
	cJSON_Delete(rec);
	return rc;
}

/* A client whose client id is the 12 bytes older dhcp4d used as the key of a
 * quarantine record ("declined" + the address as it lies in memory) is a client
 * like any other: it neither finds the quarantine as its own nor moves it. */
static void test_forged_quarantine_key(void)
{
	struct arbor_config *cfg =
		load("{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"192.168.1.0/24\","
		     "\"pools\": [{\"start\": \"192.168.1.100\", \"end\": \"192.168.1.103\"}],"
		     "\"lease_time\": 100, \"offer_timeout\": 5, \"decline_time\": 60}]}}");
	if (cfg == NULL)
		return;
	struct server s;
	server_init(&s, &((struct dhcp4d_config *)cfg->daemon)->servers[0], IP(192, 168, 1, 1));
	uint32_t q = IP(192, 168, 1, 100), other = IP(192, 168, 1, 102);
	struct client forger, victim;
	client_init(&victim, 1);
	client_init(&forger, 2);
	uint8_t forged[12] = { 'd', 'e', 'c', 'l', 'i', 'n', 'e', 'd' };
	memcpy(forged + 8, &q, 4);
	forger.rq.key = forged;
	forger.rq.key_len = sizeof forged;

	struct dhcp_decision d;
	server_conflict(&s, q, 1000, &d);
	CHECK(d.event == EVENT_CONFLICT && lease_is_quarantine(lease_by_addr(&s.leases, q)), "forged key: .100 quarantined");
	d = ask(&s, &forger, DHCP_DISCOVER, 0, 0, 0, 1001);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr != q && lease_by_addr(&s.leases, q) &&
		      lease_by_addr(&s.leases, q)->state == LEASE_DECLINED,
	      "forged key: its offer elsewhere leaves the quarantine in place");
	d = ask(&s, &forger, DHCP_REQUEST, q, 0, 0, 1002);
	CHECK(d.reply == DHCP_NAK, "forged key: INIT-REBOOT for the quarantined address: NAK");
	d = ask(&s, &forger, DHCP_DECLINE, q, 0, 0, 1003);
	CHECK(d.event == EVENT_NONE, "forged key: it cannot decline (or renew) the quarantine");
	d = ask(&s, &forger, DHCP_REQUEST, other, 0, 0, 1004);
	CHECK(d.reply == DHCP_ACK && !lease_is_quarantine(d.journal), "forged key: bound on .102, a client's lease");

	/* The other way round: quarantining the address its key names leaves its lease. */
	server_free(&s);
	server_init(&s, &((struct dhcp4d_config *)cfg->daemon)->servers[0], IP(192, 168, 1, 1));
	d = ask(&s, &forger, DHCP_REQUEST, other, 0, 0, 1010);
	d = ask(&s, &victim, DHCP_DISCOVER, 0, 0, 0, 1011);
	d = ask(&s, &victim, DHCP_REQUEST, q, IP(192, 168, 1, 1), 0, 1012);
	d = ask(&s, &victim, DHCP_DECLINE, q, 0, 0, 1013);
	const struct lease *kept = lease_by_addr(&s.leases, other);
	CHECK(d.event == EVENT_DECLINED && kept && kept->state == LEASE_BOUND && kept->key_len == sizeof forged,
	      "forged key: a DECLINE of .100 does not take its lease on .102");
	CHECK(lease_by_key(&s.leases, forged, sizeof forged) == kept, "forged key: its key finds its own lease");
	expired = 0;
	server_expire(&s, 1013 + 60, on_expire, NULL);
	CHECK(lease_by_addr(&s.leases, q)->state == LEASE_EXPIRED && lease_by_addr(&s.leases, other)->state == LEASE_BOUND,
	      "forged key: the quarantine ends on its own");
	server_free(&s);
	arbor_config_free(cfg);

	/* Lease files: a quarantine is written without a client id and reads back
	 * as one; records of older dhcp4d (the 12-byte key) are still taken for
	 * quarantines; the forger's bound lease reads back as its own. */
	struct lease_table t;
	lease_table_init(&t, IP(192, 168, 1, 0), 24);
	struct lease *ql = lease_put_quarantine(&t, q);
	ql->ends = 2000;
	struct arbor_buf text = { 0 };
	lease_record_write(&text, "lan0", ql);
	CHECK(strstr(text.data, "\"client_id\":\"\"") != NULL, "quarantine record: no client id");
	struct lease_table back;
	lease_table_init(&back, IP(192, 168, 1, 0), 24);
	CHECK(apply_text(&back, text.data) == 0 && lease_is_quarantine(lease_by_addr(&back, q)) &&
		      lease_by_addr(&back, q)->state == LEASE_DECLINED,
	      "quarantine record: reads back as a quarantine");
	char hex[40];
	lease_hex(forged, sizeof forged, hex, sizeof hex);
	char rec[400];
	snprintf(rec, sizeof rec,
		 "{\"interface\":\"lan0\",\"address\":\"192.168.1.101\",\"mac\":\"\",\"client_id\":\"%s\","
		 "\"hostname\":\"\",\"state\":\"declined\",\"starts\":1,\"ends\":2}", hex);
	CHECK(apply_text(&back, rec) == 0 && lease_is_quarantine(lease_by_addr(&back, IP(192, 168, 1, 101))),
	      "older lease file: a declined record is a quarantine");
	snprintf(rec, sizeof rec,
		 "{\"interface\":\"lan0\",\"address\":\"192.168.1.100\",\"mac\":\"\",\"client_id\":\"%s\","
		 "\"hostname\":\"\",\"state\":\"expired\",\"starts\":1,\"ends\":2}", hex);
	CHECK(apply_text(&back, rec) == 0 && lease_is_quarantine(lease_by_addr(&back, q)) &&
		      lease_by_key(&back, forged, sizeof forged) == NULL,
	      "older lease file: an ended quarantine (its own address in the old key) is nobody's");
	snprintf(rec, sizeof rec,
		 "{\"interface\":\"lan0\",\"address\":\"192.168.1.102\",\"mac\":\"\",\"client_id\":\"%s\","
		 "\"hostname\":\"\",\"state\":\"bound\",\"starts\":1,\"ends\":2}", hex);
	CHECK(apply_text(&back, rec) == 0 && !lease_is_quarantine(lease_by_addr(&back, other)) &&
		      lease_by_key(&back, forged, sizeof forged) == lease_by_addr(&back, other),
	      "lease file: the forger's bound lease is its own");
	CHECK(apply_text(&back, "{\"interface\":\"lan0\",\"address\":\"192.168.1.103\",\"mac\":\"\","
				"\"client_id\":\"\",\"hostname\":\"\",\"state\":\"bound\",\"starts\":1,\"ends\":2}") != 0,
	      "lease file: a bound lease without a client id is refused");
	arbor_buf_free(&text);
	lease_table_free(&t);
	lease_table_free(&back);
}

/* The journal's direct writer and the cJSON encoder say the same thing, and
 * the record reads back into the same lease. */
static void check_record_writer(void)
{
	struct lease l = { .addr = 0xc0a8010a, .mac_len = 6, .key_len = 7, .state = LEASE_BOUND,
			   .starts = 1795317397.917, .ends = 1795320997.9174 };
	memcpy(l.mac, "\x52\x54\x00\x00\x01\x10", 6);
	memcpy(l.key, "\x01\x52\x54\x00\x00\x01\x10", 7);
	snprintf(l.hostname, sizeof l.hostname, "%s", "we\"ird\\\x01");
	struct arbor_buf text = { 0 };
	lease_record_write(&text, "lan\"0", &l);
	cJSON *direct = cJSON_ParseWithLength(text.data, text.len);
	cJSON *tree = lease_record_encode("lan\"0", &l);
	char *a = cJSON_PrintUnformatted(tree);
	CHECK(direct != NULL && strlen(a) == text.len && memcmp(a, text.data, text.len) == 0,
	      "record writer: the same JSON text as the cJSON encoder");
	struct lease_table t;
	char err[128];
	CHECK(lease_table_init(&t, 0xc0a80100, 24) == 0 && lease_record_apply(&t, direct, err, sizeof err) == 0 &&
		      t.bound == 1,
	      "record writer: the record reads back into a bound lease");
	lease_table_free(&t);
	free(a);
	cJSON_Delete(direct);
	cJSON_Delete(tree);
	arbor_buf_free(&text);
}

int main(void)
{
	check_record_writer();
	test_forged_quarantine_key();
	struct arbor_config *cfg = load("{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"192.168.1.0/24\","
					"\"pools\": [{\"name\": \"lab\", \"start\": \"192.168.1.10\", \"end\": \"192.168.1.13\","
					" \"match\": {\"mac_prefix\": \"aa:bb\"}},"
					" {\"name\": \"main\", \"start\": \"192.168.1.100\", \"end\": \"192.168.1.104\"}],"
					"\"exclusions\": [\"192.168.1.101\"],"
					"\"reservations\": [{\"mac\": \"52:54:00:00:00:63\", \"address\": \"192.168.1.50\", \"hostname\": \"printer\"}],"
					"\"options\": {\"router\": \"192.168.1.1\"}, \"lease_time\": 100, \"offer_timeout\": 5}]}}");
	CHECK(cfg != NULL, "config loads");
	if (cfg == NULL)
		return tap_done();
	struct dhcp4d_config *dc = cfg->daemon;
	struct server s;
	CHECK(server_init(&s, &dc->servers[0], IP(192, 168, 1, 1)) == 0, "server init");
	CHECK(server_pool_size(&s) == 4 + 5 - 1, "pool size minus exclusions");

	struct client a, b, lab, printer;
	client_init(&a, 1);
	client_init(&b, 2);
	client_init(&lab, 3);
	lab.mac[0] = 0xaa, lab.mac[1] = 0xbb;
	client_init(&printer, 0x63);

	struct dhcp_decision d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1000);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 100) && d.journal == NULL,
	      "DISCOVER: an offer from the main pool, nothing to journal");
	CHECK(!d.probe && !dc->servers[0].probe_ping, "no conflict probe unless configured");
	d = ask(&s, &a, DHCP_REQUEST, IP(192, 168, 1, 100), IP(192, 168, 1, 1), 0, 1001);
	CHECK(d.reply == DHCP_ACK && d.event == EVENT_BOUND && d.journal && d.journal->state == LEASE_BOUND &&
		      d.journal->ends == 1101,
	      "SELECTING REQUEST: ACK after journalling a bound lease");
	d = ask(&s, &a, DHCP_REQUEST, 0, 0, IP(192, 168, 1, 100), 1050);
	CHECK(d.reply == DHCP_ACK && d.event == EVENT_RENEWED && d.journal->ends == 1150, "RENEWING: extended");
	d = ask(&s, &a, DHCP_REQUEST, IP(192, 168, 1, 100), 0, 0, 1060);
	CHECK(d.reply == DHCP_ACK && d.event == EVENT_RENEWED, "INIT-REBOOT with its own address: ACK");
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1061);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 100), "a bound client rediscovering keeps its address");

	d = ask(&s, &b, DHCP_DISCOVER, IP(192, 168, 1, 100), 0, 0, 1062);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 102), "a taken requested address is not offered; .101 is excluded");
	d = ask(&s, &b, DHCP_REQUEST, IP(192, 168, 1, 100), 0, 0, 1063);
	CHECK(d.reply == DHCP_NAK && strstr(d.reason, "another client"), "INIT-REBOOT for another's address: NAK");
	d = ask(&s, &b, DHCP_REQUEST, IP(10, 0, 0, 5), 0, 0, 1064);
	CHECK(d.reply == DHCP_NAK && strstr(d.reason, "not on this network"), "INIT-REBOOT from another network: NAK");
	d = ask(&s, &b, DHCP_REQUEST, IP(192, 168, 1, 102), IP(192, 168, 1, 99), 0, 1065);
	CHECK(d.reply == 0 && lease_by_addr(&s.leases, IP(192, 168, 1, 102)) == NULL,
	      "REQUEST naming another server: silent, our offer withdrawn");
	d = ask(&s, &b, DHCP_REQUEST, IP(192, 168, 1, 102), IP(192, 168, 1, 1), 0, 1066);
	CHECK(d.reply == DHCP_NAK, "REQUEST for a withdrawn offer: NAK");

	d = ask(&s, &lab, DHCP_DISCOVER, 0, 0, 0, 1070);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 10), "MAC prefix selects the lab pool");
	d = ask(&s, &printer, DHCP_DISCOVER, 0, 0, 0, 1071);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 50), "reservation by MAC");
	d = ask(&s, &printer, DHCP_REQUEST, IP(192, 168, 1, 50), IP(192, 168, 1, 1), 0, 1072);
	CHECK(d.reply == DHCP_ACK && strcmp(d.journal->hostname, "printer") == 0, "reserved hostname recorded");

	/* A flood of DISCOVERs from random MACs takes offers, never bound leases. */
	for (unsigned i = 0; i < 200; i++) {
		struct client f;
		client_init(&f, 1000 + i);
		ask(&s, &f, DHCP_DISCOVER, 0, 0, 0, 1080);
	}
	CHECK(lease_by_addr(&s.leases, IP(192, 168, 1, 100))->state == LEASE_BOUND, "the flood left the bound lease alone");
	client_init(&b, 2);
	d = ask(&s, &b, DHCP_DISCOVER, 0, 0, 0, 1081);
	CHECK(d.reply == DHCP_OFFER, "after the flood a real client still gets an offer");
	d = ask(&s, &b, DHCP_REQUEST, d.yiaddr, IP(192, 168, 1, 1), 0, 1082);
	CHECK(d.reply == DHCP_ACK, "and binds it");
	uint32_t b_addr = d.yiaddr;

	d = ask(&s, &b, DHCP_DECLINE, b_addr, 0, 0, 1083);
	CHECK(d.reply == 0 && d.event == EVENT_DECLINED && lease_by_addr(&s.leases, b_addr)->state == LEASE_DECLINED,
	      "DECLINE quarantines the address");
	d = ask(&s, &b, DHCP_DISCOVER, 0, 0, 0, 1084);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr != b_addr, "the decliner gets another address");
	struct client storm;
	client_init(&storm, 9999);
	d = ask(&s, &storm, DHCP_DECLINE, IP(192, 168, 1, 100), 0, 0, 1085);
	CHECK(d.event == EVENT_NONE && lease_by_addr(&s.leases, IP(192, 168, 1, 100))->state == LEASE_BOUND,
	      "a DECLINE for someone else's address changes nothing");

	d = ask(&s, &a, DHCP_RELEASE, 0, 0, IP(192, 168, 1, 100), 1090);
	CHECK(d.event == EVENT_RELEASED && d.journal->state == LEASE_RELEASED, "RELEASE");
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1091);
	CHECK(d.reply == DHCP_OFFER && d.yiaddr == IP(192, 168, 1, 100), "a returning client gets its old address back");
	d = ask(&s, &a, DHCP_INFORM, 0, 0, IP(192, 168, 1, 100), 1092);
	CHECK(d.reply == DHCP_ACK && d.yiaddr == 0 && d.journal == NULL, "INFORM: options only");

	expired = 0;
	server_expire(&s, 5000, on_expire, NULL);
	CHECK(expired >= 2 && lease_by_addr(&s.leases, IP(192, 168, 1, 50))->state == LEASE_EXPIRED,
	      "bound leases expire (and declines end) through the callback");
	CHECK(s.leases.bound == 0, "no bound leases counted after expiry");

	/* Exhaustion: a pool of 1 with a bound lease. */
	server_free(&s);
	arbor_config_free(cfg);
	cfg = load("{\"dhcp4d\": {\"servers\": [{\"interface\": \"lan0\", \"subnet\": \"10.0.0.0/24\","
		   "\"pools\": [{\"start\": \"10.0.0.5\", \"end\": \"10.0.0.5\"}]}]}}");
	dc = cfg->daemon;
	server_init(&s, &dc->servers[0], IP(10, 0, 0, 1));
	d = ask(&s, &a, DHCP_DISCOVER, 0, 0, 0, 1);
	ask(&s, &a, DHCP_REQUEST, d.yiaddr, IP(10, 0, 0, 1), 0, 2);
	d = ask(&s, &b, DHCP_DISCOVER, 0, 0, 0, 3);
	CHECK(d.reply == 0 && d.event == EVENT_EXHAUSTED, "pool exhausted: no offer, an event");
	server_free(&s);
	arbor_config_free(cfg);

	test_conflict_probe();
	return tap_done();
}
