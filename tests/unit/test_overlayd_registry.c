/* The overlay registry: joins decided (unknown key, token rules, hostnames,
 * moves, stale requests, a full overlay), ids and subnets never reused while
 * held, records and snapshots round-trip and bad ones are refused whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry.h"
#include "tap.h"

static struct ovl_registry_params params(const char *network, unsigned len)
{
	struct ovl_registry_params p = { .subnet_length = len, .vni_base = 4096 };
	arbor_ipv4_prefix_parse(&p.network, network);
	p.hub_address.s_addr = htonl(p.network.addr + 1);
	return p;
}

static struct arbor_sign_key key_from(uint32_t n)
{
	uint8_t seed[32] = { 0 };
	memcpy(seed, &n, sizeof n);
	struct arbor_sign_key k;
	arbor_sign_key_from_seed(&k, seed);
	return k;
}

/* A token filed in r (as the enroll command does); its secret in *secret. */
static void enroll(struct ovl_registry *r, uint8_t fill, const char *hostname, int64_t expires, uint8_t secret[32],
		   char id[OVL_TOKEN_ID_LEN + 1])
{
	memset(secret, fill, 32);
	struct ovl_token_entry t = { .expires_at = expires };
	ovl_token_id(secret, t.id);
	ovl_token_proof_key(secret, t.proof_key);
	snprintf(t.hostname, sizeof t.hostname, "%s", hostname ? hostname : "");
	char err[128];
	CHECK(ovl_registry_put_token(r, &t, err, sizeof err) == 0, "token filed");
	memcpy(id, t.id, sizeof t.id);
}

static struct ovl_request join_req(const struct arbor_sign_key *k, const char *host, const char *underlay,
				   int64_t ts_ms, const uint8_t *secret)
{
	struct ovl_request r = { .op = OVL_OP_JOIN, .ts_ms = ts_ms };
	memcpy(r.key, k->public_key, 32);
	snprintf(r.hostname, sizeof r.hostname, "%s", host);
	ovl_ip_parse(underlay, &r.underlay);
	if (secret) {
		uint8_t pk[32];
		r.has_token = true;
		ovl_token_id(secret, r.token_id);
		ovl_token_proof_key(secret, pk);
		ovl_token_proof(pk, k->public_key, r.token_proof);
	}
	return r;
}

/* Decides and applies through the record, as the hub does. */
static struct ovl_join_decision join(struct ovl_registry *r, const struct ovl_request *req, int64_t now)
{
	struct ovl_join_decision d;
	ovl_registry_decide_join(r, req, "hub", now, &d);
	if (d.kind == OVL_JOIN_NEW || d.kind == OVL_JOIN_UPDATE) {
		struct arbor_buf b = { 0 };
		ovl_registry_record_join(&b, &d);
		cJSON *rec = cJSON_Parse(b.data);
		char err[256];
		CHECK(ovl_registry_apply(r, rec, err, sizeof err) == 0, "the decision's record applies");
		cJSON_Delete(rec);
		arbor_buf_free(&b);
	}
	return d;
}

static void test_joins(void)
{
	struct ovl_registry_params p = params("10.128.0.0/12", 24);
	struct ovl_registry *r = ovl_registry_new(&p);
	struct arbor_sign_key a = key_from(1), b = key_from(2), c = key_from(3);
	uint8_t sa[32], sb[32];
	char ida[OVL_TOKEN_ID_LEN + 1], idb[OVL_TOKEN_ID_LEN + 1];
	int64_t now = 1763769445;
	enroll(r, 0x11, NULL, now + 3600, sa, ida);
	enroll(r, 0x22, "m2", now + 3600, sb, idb);

	struct ovl_request q = join_req(&a, "m1", "192.0.2.11", now * 1000, NULL);
	struct ovl_join_decision d = join(r, &q, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && d.status == 401 && strstr(d.reason, "enroll"),
	      "an unknown key without a token: 401, saying to enroll");

	q = join_req(&a, "m1", "192.0.2.11", now * 1000, sa);
	d = join(r, &q, now);
	char net[32];
	CHECK(d.kind == OVL_JOIN_NEW && d.entry.id == 1 &&
		      strcmp(arbor_ipv4_prefix_format(&d.entry.subnet, net, sizeof net), "10.128.1.0/24") == 0,
	      "the first spoke: id 1, the first /24 clear of the hub's address");
	CHECK(ovl_registry_vni(r, 1) == 4097, "VNI = base + id");
	CHECK(ovl_registry_token(r, ida) == NULL, "the token is used up");

	d = join(r, &q, now);
	CHECK(d.kind == OVL_JOIN_KNOWN && d.entry.id == 1, "joining again: known, nothing changes");
	struct ovl_request again = join_req(&c, "m3", "192.0.2.13", now * 1000, sa);
	d = join(r, &again, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && d.status == 401 && strstr(d.reason, "already used"),
	      "a used token does not work twice");

	struct ovl_request wrong_host = join_req(&b, "m9", "192.0.2.12", now * 1000, sb);
	d = join(r, &wrong_host, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && strstr(d.reason, "for host m2"), "a token bound to a hostname");
	struct ovl_request claims_m1 = join_req(&b, "m1", "192.0.2.12", now * 1000, sb);
	uint8_t sc[32];
	char idc[OVL_TOKEN_ID_LEN + 1];
	enroll(r, 0x33, NULL, now + 3600, sc, idc);
	claims_m1 = join_req(&b, "m1", "192.0.2.12", now * 1000, sc);
	uint64_t gen = ovl_registry_generation(r);
	d = join(r, &claims_m1, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && d.status == 409 && strcmp(d.code, "hostname_taken") == 0 &&
		      ovl_registry_generation(r) == gen && ovl_registry_token(r, idc) != NULL,
	      "a second spoke claiming another's hostname: 409, nothing changed, token kept");

	struct ovl_request forged = join_req(&b, "m2", "192.0.2.12", now * 1000, sb);
	forged.token_proof[0] ^= 1;
	d = join(r, &forged, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && strstr(d.reason, "proof"), "a proof not made with the secret");
	struct ovl_request good_b = join_req(&b, "m2", "192.0.2.12", now * 1000, sb);
	d = join(r, &good_b, now + 7200);
	CHECK(d.kind == OVL_JOIN_REFUSED && strstr(d.reason, "expired"), "an expired token");
	d = join(r, &good_b, now);
	CHECK(d.kind == OVL_JOIN_NEW && d.entry.id == 2, "the second spoke: id 2");

	/* A known spoke moves: a newer request updates, an older one cannot undo it. */
	struct ovl_request moved = join_req(&a, "m1", "192.0.2.99", now * 1000 + 5000, NULL);
	d = join(r, &moved, now);
	CHECK(d.kind == OVL_JOIN_UPDATE && d.entry.id == 1 && d.entry.subnet.addr == 0x0a800100,
	      "a moved spoke keeps its id and subnet");
	struct ovl_request older = join_req(&a, "m1", "192.0.2.11", now * 1000 + 1000, NULL);
	d = join(r, &older, now);
	CHECK(d.kind == OVL_JOIN_REFUSED && d.status == 401, "an older request cannot undo a newer change");
	struct ovl_request hb = { .op = OVL_OP_HEARTBEAT };
	memcpy(hb.key, c.public_key, 32);
	ovl_registry_decide_join(r, &hb, "hub", now, &d);
	CHECK(d.kind == OVL_JOIN_REFUSED && d.status == 401, "a heartbeat from an unknown key");
	memcpy(hb.key, a.public_key, 32);
	ovl_registry_decide_join(r, &hb, "hub", now, &d);
	CHECK(d.kind == OVL_JOIN_KNOWN && d.entry.id == 1, "a heartbeat from a known key");

	/* Forget spoke 1: its id is the lowest free again, its subnet free. */
	CHECK(ovl_registry_forget(r, 1) == 0 && ovl_registry_by_key(r, a.public_key) == NULL, "forget");
	uint8_t sd[32];
	char idd[OVL_TOKEN_ID_LEN + 1];
	enroll(r, 0x44, NULL, now + 3600, sd, idd);
	struct ovl_request c_join = join_req(&c, "m3", "192.0.2.13", now * 1000, sd);
	d = join(r, &c_join, now);
	CHECK(d.kind == OVL_JOIN_NEW && d.entry.id == 1 && d.entry.subnet.addr == 0x0a800100,
	      "a forgotten id and subnet are given again");
	ovl_registry_free(r);
}

static void test_full(void)
{
	/* A /22 in /24s: the hub's address takes a piece of the first, so three fit. */
	struct ovl_registry_params p = params("10.9.0.0/22", 24);
	struct ovl_registry *r = ovl_registry_new(&p);
	int64_t now = 1763769445;
	int new = 0;
	struct ovl_join_decision d;
	for (uint32_t i = 0; i < 5; i++) {
		struct arbor_sign_key k = key_from(100 + i);
		uint8_t s[32];
		char id[OVL_TOKEN_ID_LEN + 1], host[16];
		enroll(r, (uint8_t)(0x50 + i), NULL, now + 10, s, id);
		snprintf(host, sizeof host, "n%u", i);
		struct ovl_request q = join_req(&k, host, "192.0.2.50", now * 1000, s);
		d = join(r, &q, now);
		new += d.kind == OVL_JOIN_NEW;
	}
	CHECK(new == 3 && d.kind == OVL_JOIN_REFUSED && d.status == 409 && strcmp(d.code, "overlay_full") == 0 &&
		      strstr(d.reason, "no free /24"),
	      "a full overlay refuses clearly, evicting nobody");
	CHECK(ovl_registry_count(r) == 3, "the three stay");
	p.max_spokes = 2;
	ovl_registry_set_params(r, &p);
	CHECK(ovl_registry_count(r) == 3, "a lower limit evicts nobody either");
	ovl_registry_free(r);
}

static void test_many_and_snapshot(void)
{
	struct ovl_registry_params p = params("10.128.0.0/12", 24);
	struct ovl_registry *r = ovl_registry_new(&p);
	int64_t now = 1763769445;
	int ok = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		struct arbor_sign_key k = key_from(1000 + i);
		uint8_t s[32];
		memset(s, 0, sizeof s);
		memcpy(s, &i, sizeof i);
		s[31] = 0x77;
		struct ovl_token_entry t = { .expires_at = now + 60 };
		ovl_token_id(s, t.id);
		ovl_token_proof_key(s, t.proof_key);
		ovl_registry_put_token(r, &t, NULL, 0);
		char host[16];
		snprintf(host, sizeof host, "s%u", i);
		struct ovl_request q = join_req(&k, host, "198.51.100.1", now * 1000, s);
		struct ovl_join_decision d = join(r, &q, now);
		ok += d.kind == OVL_JOIN_NEW && d.entry.id == i + 1;
	}
	CHECK(ok == 1000 && ovl_registry_count(r) == 1000, "1000 spokes: ids 1..1000");
	bool distinct = true;
	for (size_t i = 1; i < ovl_registry_count(r); i++) {
		const struct ovl_spoke *x = ovl_registry_at(r, i - 1), *y = ovl_registry_at(r, i);
		distinct &= !arbor_ipv4_prefix_overlaps(&x->subnet, &y->subnet) && x->id < y->id;
	}
	CHECK(distinct, "subnets distinct");

	struct arbor_buf snap = { 0 };
	ovl_registry_write_snapshot(r, &snap);
	cJSON *doc = cJSON_Parse(snap.data);
	struct ovl_registry *back = ovl_registry_new(&p);
	char err[256];
	CHECK(ovl_registry_load_snapshot(back, doc, err, sizeof err) == 0 && ovl_registry_count(back) == 1000,
	      "a snapshot loads back");
	bool same = true;
	for (size_t i = 0; i < 1000; i++) {
		const struct ovl_spoke *x = ovl_registry_at(r, i), *y = ovl_registry_at(back, i);
		same &= x->id == y->id && x->subnet.addr == y->subnet.addr && memcmp(x->key, y->key, 32) == 0 &&
			strcmp(x->hostname, y->hostname) == 0;
	}
	CHECK(same, "every entry the same");

	/* A damaged snapshot changes nothing. */
	cJSON *spokes = cJSON_GetObjectItem(doc, "spokes");
	cJSON *second = cJSON_GetArrayItem(spokes, 1);
	cJSON_ReplaceItemInObject(second, "subnet", cJSON_CreateString("10.128.1.0/24"));
	uint64_t gen = ovl_registry_generation(back);
	CHECK(ovl_registry_load_snapshot(back, doc, err, sizeof err) == -EINVAL && strstr(err, "overlaps") &&
		      ovl_registry_count(back) == 1000 && ovl_registry_generation(back) == gen,
	      "two entries with one subnet: refused whole");
	cJSON_Delete(doc);
	arbor_buf_free(&snap);
	ovl_registry_free(back);
	ovl_registry_free(r);
}

static void test_bad_records(void)
{
	struct ovl_registry_params p = params("10.128.0.0/12", 24);
	struct ovl_registry *r = ovl_registry_new(&p);
	static const char *const bad[] = {
		"{}",
		"{\"forget\":0}",
		"{\"forget\":1,\"token_used\":\"0123456789abcdef\"}",
		"{\"spoke\":{\"id\":1}}",
		("{\"spoke\":{\"id\":1,\"key\":\"AAAA\",\"hostname\":\"a\",\"underlay\":\"1.2.3.4\",\"subnet\":\"10.128.1.0/24\","
		 "\"joined_at\":1,\"updated_ms\":1}}"),
		"{\"token\":{\"id\":\"xyz\",\"proof_key\":\"AAAA\",\"expires_at\":1}}",
		"{\"what\":1}",
		"[]",
	};
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *rec = cJSON_Parse(bad[i]);
		CHECK(ovl_registry_apply(r, rec, err, sizeof err) == -EINVAL && ovl_registry_count(r) == 0, bad[i]);
		cJSON_Delete(rec);
	}
	ovl_registry_free(r);
}

int main(void)
{
	arbor_sign_init();
	test_joins();
	test_full();
	test_many_and_snapshot();
	test_bad_records();
	return tap_done();
}
