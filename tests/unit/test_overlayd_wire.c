/* overlayd's wire: signed requests and answers round-trip; a changed byte, a
 * wrong key, a wrong nonce, a token for another hub are refused; tokens and
 * their proofs; the replay memory; common/sign.c's key file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "join_wire.h"
#include "replay.h"
#include "sign.h"
#include "tap.h"

static struct arbor_sign_key key_from(uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	struct arbor_sign_key k;
	arbor_sign_key_from_seed(&k, seed);
	return k;
}

static struct ovl_request sample_request(const struct arbor_sign_key *spoke, const struct arbor_sign_key *hub)
{
	struct ovl_request r = { .op = OVL_OP_JOIN, .ts_ms = 1763769445123 };
	arbor_sign_fingerprint(hub->public_key, r.hub_fp);
	memcpy(r.key, spoke->public_key, sizeof r.key);
	memset(r.nonce, 7, sizeof r.nonce);
	snprintf(r.hostname, sizeof r.hostname, "m1");
	ovl_ip_parse("192.0.2.11", &r.underlay);
	return r;
}

static void test_request(void)
{
	struct arbor_sign_key spoke = key_from(1), hub = key_from(2), other = key_from(3);
	struct ovl_request r = sample_request(&spoke, &hub), got;
	r.has_token = true;
	snprintf(r.token_id, sizeof r.token_id, "0123456789abcdef");
	memset(r.token_proof, 9, sizeof r.token_proof);
	r.has_mac = true;
	memcpy(r.mac, "\x52\x54\x00\x00\x00\x01", 6);
	struct arbor_buf b = { 0 };
	char err[256];
	ovl_request_build(&r, &spoke, &b);
	CHECK(ovl_request_parse(b.data, b.len, &got, err, sizeof err) == 0, "a signed request parses");
	CHECK(memcmp(&got.key, &r.key, 32) == 0 && got.ts_ms == r.ts_ms && strcmp(got.hostname, "m1") == 0 &&
		      got.underlay.family == AF_INET && got.has_token && strcmp(got.token_id, r.token_id) == 0 &&
		      got.has_mac && got.mac[5] == 1 && memcmp(got.hub_fp, r.hub_fp, 32) == 0,
	      "every field comes back");

	/* Change one character of the payload (the hostname): the signature fails. */
	char *copy = strndup(b.data, b.len);
	char *m1 = strstr(copy, "m1");
	m1[1] = '2';
	CHECK(ovl_request_parse(copy, b.len, &got, err, sizeof err) == -EPERM && strstr(err, "signature"),
	      "a changed payload is a bad signature (401)");
	free(copy);

	/* Signed by another key than the one it names. */
	struct arbor_buf forged = { 0 };
	ovl_request_build(&r, &other, &forged);
	CHECK(ovl_request_parse(forged.data, forged.len, &got, err, sizeof err) == -EPERM,
	      "a signature by another key is refused");

	static const char *const bad[] = {
		"", "{", "[]", "{\"payload\":1,\"sig\":\"x\"}", "{\"payload\":\"{}\",\"sig\":\"short\"}",
		"{\"payload\":\"{}\",\"sig\":\"AAAA\",\"extra\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(ovl_request_parse(bad[i], strlen(bad[i]), &got, err, sizeof err) == -EINVAL, bad[i]);

	/* Uppercase hostnames are kept in lower case. */
	snprintf(r.hostname, sizeof r.hostname, "Node-A");
	r.has_token = r.has_mac = false;
	arbor_buf_free(&b);
	ovl_request_build(&r, &spoke, &b);
	CHECK(ovl_request_parse(b.data, b.len, &got, err, sizeof err) == 0 && strcmp(got.hostname, "node-a") == 0,
	      "hostnames in lower case");
	snprintf(r.hostname, sizeof r.hostname, "bad_name");
	arbor_buf_free(&b);
	ovl_request_build(&r, &spoke, &b);
	CHECK(ovl_request_parse(b.data, b.len, &got, err, sizeof err) == -EINVAL && strstr(err, "hostname"),
	      "a hostname that is not a DNS label is malformed");
	arbor_buf_free(&b);
	arbor_buf_free(&forged);
}

static void test_answer(void)
{
	struct arbor_sign_key hub = key_from(2), other = key_from(3);
	struct ovl_answer a = { .id = 7, .vni = 4103, .port = 4789, .heartbeat_s = 10 };
	memset(a.re, 5, sizeof a.re);
	arbor_ipv4_prefix_parse(&a.subnet, "10.128.7.0/24");
	arbor_ipv4_prefix_parse(&a.network, "10.128.0.0/12");
	ovl_ip_parse("192.0.2.1", &a.hub_underlay);
	a.hub_address.s_addr = htonl(0x0a800001);
	struct ovl_peer peers[2] = { { .id = 1 }, { .id = 2 } };
	arbor_ipv4_prefix_parse(&peers[0].subnet, "10.128.1.0/24");
	arbor_ipv4_prefix_parse(&peers[1].subnet, "10.128.2.0/24");
	ovl_ip_parse("192.0.2.21", &peers[0].underlay);
	ovl_ip_parse("2001:db8::22", &peers[1].underlay);
	a.direct = true;
	a.direct_vni = 4096;
	a.peers = peers;
	a.npeers = 2;
	struct arbor_buf b = { 0 };
	ovl_answer_build(&a, &hub, &b);
	uint8_t fp[32], wrong_fp[32];
	arbor_sign_fingerprint(hub.public_key, fp);
	arbor_sign_fingerprint(other.public_key, wrong_fp);
	struct ovl_answer got;
	char err[256];
	CHECK(ovl_answer_parse(b.data, b.len, NULL, fp, a.re, &got, err, sizeof err) == 0 && got.id == 7 &&
		      got.vni == 4103 && got.port == 4789 && got.subnet.len == 24 && got.npeers == 2 &&
		      got.peers[1].underlay.family == AF_INET6 && got.direct_vni == 4096 &&
		      memcmp(got.hub_key, hub.public_key, 32) == 0,
	      "first join: the answer verifies against the token's fingerprint");
	ovl_answer_free(&got);
	CHECK(ovl_answer_parse(b.data, b.len, hub.public_key, NULL, a.re, &got, err, sizeof err) == 0,
	      "later: against the pinned key");
	ovl_answer_free(&got);
	CHECK(ovl_answer_parse(b.data, b.len, NULL, wrong_fp, a.re, &got, err, sizeof err) == -EPERM,
	      "a hub whose key has another fingerprint is refused");
	CHECK(ovl_answer_parse(b.data, b.len, other.public_key, NULL, a.re, &got, err, sizeof err) == -EPERM,
	      "a key other than the pinned one is refused");
	uint8_t other_nonce[OVL_NONCE_BYTES] = { 1 };
	CHECK(ovl_answer_parse(b.data, b.len, hub.public_key, NULL, other_nonce, &got, err, sizeof err) == -EPERM &&
		      strstr(err, "another request"),
	      "an answer to another request is refused");
	struct arbor_buf forged = { 0 };
	ovl_answer_build(&a, &other, &forged);
	CHECK(ovl_answer_parse(forged.data, forged.len, NULL, fp, a.re, &got, err, sizeof err) == -EPERM,
	      "an answer by an impostor hub is refused");
	arbor_buf_free(&b);
	arbor_buf_free(&forged);
}

static void test_token(void)
{
	struct ovl_token t, back;
	memset(t.hub_fp, 0xab, sizeof t.hub_fp);
	memset(t.secret, 0xcd, sizeof t.secret);
	char text[OVL_TOKEN_TEXT_MAX];
	ovl_token_format(&t, text, sizeof text);
	CHECK(strncmp(text, "arbor-ovl1.", 11) == 0 && ovl_token_parse(text, &back) &&
		      memcmp(&back, &t, sizeof t) == 0,
	      "a token round-trips");
	CHECK(!ovl_token_parse("arbor-ovl1.x.y", &back) && !ovl_token_parse("", &back), "garbage is not a token");
	text[20] = '*';
	CHECK(!ovl_token_parse(text, &back), "a damaged token is refused");
	char id[OVL_TOKEN_ID_LEN + 1];
	ovl_token_id(t.secret, id);
	CHECK(strlen(id) == OVL_TOKEN_ID_LEN, "token id is 16 hex digits");
	uint8_t pk[32], proof[32], spoke[32], other[32];
	memset(spoke, 1, 32);
	memset(other, 2, 32);
	ovl_token_proof_key(t.secret, pk);
	ovl_token_proof(pk, spoke, proof);
	CHECK(ovl_token_proof_ok(pk, spoke, proof), "the proof verifies for its key");
	CHECK(!ovl_token_proof_ok(pk, other, proof), "the proof binds the token to the spoke's key");
}

static void test_replay(void)
{
	struct ovl_replay *c = ovl_replay_new(100);
	uint8_t n[OVL_NONCE_BYTES] = { 1 };
	int64_t now = 1000000;
	CHECK(ovl_replay_check(c, n, now, now, 60000) == OVL_REPLAY_FRESH, "a new nonce is fresh");
	CHECK(ovl_replay_check(c, n, now, now + 10, 60000) == OVL_REPLAY_REPLAYED, "the same nonce again is a replay");
	uint8_t m[OVL_NONCE_BYTES] = { 2 };
	CHECK(ovl_replay_check(c, m, now - 60001, now, 60000) == OVL_REPLAY_STALE, "too old");
	CHECK(ovl_replay_check(c, m, now + 60001, now, 60000) == OVL_REPLAY_STALE, "too far ahead");
	CHECK(ovl_replay_check(c, n, now, now + 60001, 60000) == OVL_REPLAY_STALE,
	      "after the window the timestamp alone refuses it");
	/* Fill to the bound: refused, not forgotten. */
	enum ovl_replay_verdict v = OVL_REPLAY_FRESH;
	int fresh = 0;
	for (int i = 0; i < 300 && v == OVL_REPLAY_FRESH; i++) {
		uint8_t x[OVL_NONCE_BYTES] = { 0 };
		memcpy(x + 4, &i, sizeof i);
		v = ovl_replay_check(c, x, now, now, 60000);
		fresh += v == OVL_REPLAY_FRESH;
	}
	CHECK(v == OVL_REPLAY_FULL && fresh >= 99 && fresh <= 130, "a full memory refuses new nonces");
	CHECK(ovl_replay_check(c, n, now, now + 10, 60000) == OVL_REPLAY_REPLAYED, "and still knows the old ones");
	uint8_t late[OVL_NONCE_BYTES] = { 3 };
	CHECK(ovl_replay_check(c, late, now + 61000, now + 61000 + 1500, 60000) == OVL_REPLAY_FRESH,
	      "once the old ones expire there is room again");
	ovl_replay_free(c);
}

static void test_key_file(void)
{
	const char *dir = tap_tmpdir();
	struct arbor_sign_key a, b;
	bool created;
	char err[256];
	CHECK(arbor_sign_key_load_or_create(dir, "k.key", &a, &created, err, sizeof err) == 0 && created,
	      "a new key file");
	struct stat st;
	char path[512];
	snprintf(path, sizeof path, "%s/k.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	CHECK(arbor_sign_key_load_or_create(dir, "k.key", &b, &created, err, sizeof err) == 0 && !created &&
		      memcmp(&a, &b, sizeof a) == 0,
	      "loaded again: the same key");
	FILE *f = fopen(path, "w");
	fputs("{\"type\":\"ed25519\",\"seed\":\"AAAA\",\"public\":\"x\"}", f);
	fclose(f);
	CHECK(arbor_sign_key_load_or_create(dir, "k.key", &b, &created, err, sizeof err) == -EINVAL &&
		      strstr(err, "k.key"),
	      "a damaged key file is an error, not replaced");
	uint8_t sig[64];
	arbor_sign(&a, "ctx", "msg", 3, sig);
	CHECK(arbor_sign_verify(a.public_key, "ctx", "msg", 3, sig), "sign and verify");
	CHECK(!arbor_sign_verify(a.public_key, "other", "msg", 3, sig), "another context does not verify");
}

int main(void)
{
	if (arbor_sign_init() != 0)
		return 1;
	test_request();
	test_answer();
	test_token();
	test_replay();
	test_key_file();
	return tap_done();
}
