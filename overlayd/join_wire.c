/* Signed requests and answers of the hub's API, and the enrollment token
 * (see join_wire.h). Payloads are written as text directly (they are small and
 * fixed in shape) and read strictly: every member known, every value checked,
 * nothing read past the body. */
#include "join_wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "config.h"
#include "hex.h"
#include "json.h"
#include "xalloc.h"

#define TOKEN_PREFIX "arbor-ovl1."

int ovl_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- small codecs ---- */

bool ovl_mac_parse(const char *text, uint8_t mac[6])
{
	if (text == NULL || strlen(text) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = arbor_hex_digit(text[i * 3]), lo = arbor_hex_digit(text[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void ovl_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void b64(struct arbor_buf *out, const void *data, size_t len)
{
	char text[ARBOR_B64_LEN(512) + 1];
	arbor_buf_puts(out, arbor_b64_encode(data, len, text, sizeof text));
}

const char *ovl_ip_format(const struct arbor_nl_ip *ip, char *buf, size_t len)
{
	if ((ip->family != AF_INET && ip->family != AF_INET6) || inet_ntop(ip->family, &ip->v6, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "none");
	return buf;
}

bool ovl_ip_parse(const char *text, struct arbor_nl_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, text, &ip->v4) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, text, &ip->v6) == 1)
		ip->family = AF_INET6;
	return ip->family != 0;
}

/* An envelope around payload text: the payload as a JSON string. Our payloads
 * hold no control characters, so only quotes and backslashes need escaping. */
static void envelope(struct arbor_buf *out, const char *payload, size_t len, const uint8_t sig[ARBOR_SIGN_BYTES])
{
	arbor_buf_puts(out, "{\"payload\":\"");
	for (size_t i = 0; i < len; i++) {
		if (payload[i] == '"' || payload[i] == '\\')
			arbor_buf_append(out, "\\", 1);
		arbor_buf_append(out, &payload[i], 1);
	}
	arbor_buf_puts(out, "\",\"sig\":\"");
	b64(out, sig, ARBOR_SIGN_BYTES);
	arbor_buf_puts(out, "\"}");
}

static int members(const cJSON *obj, const char *const names[], const cJSON *found[], size_t n, const char *where,
		   char *err, size_t errlen)
{
	return arbor_json_members(obj, names, found, n, where, err, errlen) ? 0 : -EINVAL;
}

static bool get_bytes(const cJSON *v, void *out, size_t n)
{
	return cJSON_IsString(v) && arbor_b64_decode_exact(v->valuestring, out, n);
}

static bool get_uint(const cJSON *v, uint64_t max, uint64_t *out)
{
	return arbor_json_get_u53(v, out) && *out <= max;
}

/* Opens an envelope: the payload text (owned by *doc) and the signature. */
static int open_envelope(const char *body, size_t len, cJSON **doc, const char **payload,
			 uint8_t sig[ARBOR_SIGN_BYTES], char *err, size_t errlen)
{
	static const char *const names[] = { "payload", "sig" };
	const cJSON *f[2];
	*doc = NULL;
	if (len > OVL_BODY_MAX)
		return ovl_fail(err, errlen, "body larger than %d bytes", OVL_BODY_MAX);
	*doc = cJSON_ParseWithLength(body, len);
	if (*doc == NULL)
		return ovl_fail(err, errlen, "body is not JSON");
	int rc = members(*doc, names, f, 2, "body", err, errlen);
	if (rc)
		return rc;
	if (!cJSON_IsString(f[0]))
		return ovl_fail(err, errlen, "body: \"payload\" must be a string");
	if (!get_bytes(f[1], sig, ARBOR_SIGN_BYTES))
		return ovl_fail(err, errlen, "body: \"sig\" must be 64 bytes of base64");
	*payload = f[0]->valuestring;
	return 0;
}

/* ---- requests ---- */

void ovl_request_build(const struct ovl_request *r, const struct arbor_sign_key *spoke, struct arbor_buf *out)
{
	struct arbor_buf p = { 0 };
	char ip[INET6_ADDRSTRLEN];
	arbor_buf_printf(&p, "{\"v\":1,\"op\":\"%s\",\"hub\":\"", r->op == OVL_OP_JOIN ? "join" : "heartbeat");
	b64(&p, r->hub_fp, sizeof r->hub_fp);
	arbor_buf_puts(&p, "\",\"key\":\"");
	b64(&p, r->key, sizeof r->key);
	arbor_buf_printf(&p, "\",\"ts\":%lld,\"nonce\":\"", (long long)r->ts_ms);
	b64(&p, r->nonce, sizeof r->nonce);
	arbor_buf_printf(&p, "\",\"hostname\":\"%s\",\"underlay\":\"%s\"", r->hostname,
			 ovl_ip_format(&r->underlay, ip, sizeof ip));
	if (r->has_token) {
		arbor_buf_printf(&p, ",\"token_id\":\"%s\",\"token_proof\":\"", r->token_id);
		b64(&p, r->token_proof, sizeof r->token_proof);
		arbor_buf_puts(&p, "\"");
	}
	if (r->has_mac) {
		char mac[18];
		ovl_mac_format(r->mac, mac);
		arbor_buf_printf(&p, ",\"mac\":\"%s\"", mac);
	}
	arbor_buf_puts(&p, "}");
	uint8_t sig[ARBOR_SIGN_BYTES];
	arbor_sign(spoke, OVL_CTX_REQUEST, p.data, p.len, sig);
	envelope(out, p.data, p.len, sig);
	arbor_buf_free(&p);
}

bool ovl_token_id_valid(const char *s)
{
	if (strlen(s) != OVL_TOKEN_ID_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int parse_request_payload(const char *text, struct ovl_request *r, char *err, size_t errlen)
{
	static const char *const names[] = { "v", "op", "hub", "key", "ts", "nonce", "hostname", "underlay",
					     "token_id", "token_proof", "mac" };
	enum { V, OP, HUB, KEY, TS, NONCE, HOST, UNDERLAY, TOKEN_ID, TOKEN_PROOF, MAC, N };
	const cJSON *f[N];
	cJSON *doc = cJSON_Parse(text);
	int rc = doc ? members(doc, names, f, N, "payload", err, errlen) : ovl_fail(err, errlen, "payload is not JSON");
	uint64_t u;
	if (rc)
		goto out;
	rc = -EINVAL;
	memset(r, 0, sizeof *r);
	for (int i = V; i <= UNDERLAY; i++)
		if (f[i] == NULL) {
			ovl_fail(err, errlen, "payload: \"%s\" missing", names[i]);
			goto out;
		}
	if (!get_uint(f[V], 1, &u) || u != 1) {
		ovl_fail(err, errlen, "payload: version must be 1");
		goto out;
	}
	if (cJSON_IsString(f[OP]) && strcmp(f[OP]->valuestring, "join") == 0)
		r->op = OVL_OP_JOIN;
	else if (cJSON_IsString(f[OP]) && strcmp(f[OP]->valuestring, "heartbeat") == 0)
		r->op = OVL_OP_HEARTBEAT;
	else {
		ovl_fail(err, errlen, "payload: \"op\" must be \"join\" or \"heartbeat\"");
		goto out;
	}
	if (!get_bytes(f[HUB], r->hub_fp, sizeof r->hub_fp) || !get_bytes(f[KEY], r->key, sizeof r->key) ||
	    !get_bytes(f[NONCE], r->nonce, sizeof r->nonce)) {
		ovl_fail(err, errlen, "payload: \"hub\", \"key\" and \"nonce\" must be 32, 32 and 16 bytes of base64");
		goto out;
	}
	if (!get_uint(f[TS], (uint64_t)1 << 53, &u)) {
		ovl_fail(err, errlen, "payload: \"ts\" must be milliseconds since the epoch");
		goto out;
	}
	r->ts_ms = (int64_t)u;
	if (!cJSON_IsString(f[HOST]) || !arbor_valid_dns_label(f[HOST]->valuestring)) {
		ovl_fail(err, errlen, "payload: \"hostname\" must be a DNS label (letters, digits, '-'; 1 to 63)");
		goto out;
	}
	/* Names are compared without case: kept in lower case. */
	for (size_t i = 0; f[HOST]->valuestring[i]; i++)
		r->hostname[i] = (char)tolower((unsigned char)f[HOST]->valuestring[i]);
	if (!cJSON_IsString(f[UNDERLAY]) || !ovl_ip_parse(f[UNDERLAY]->valuestring, &r->underlay)) {
		ovl_fail(err, errlen, "payload: \"underlay\" must be an IPv4 or IPv6 address");
		goto out;
	}
	if ((f[TOKEN_ID] == NULL) != (f[TOKEN_PROOF] == NULL)) {
		ovl_fail(err, errlen, "payload: \"token_id\" and \"token_proof\" come together");
		goto out;
	}
	if (f[TOKEN_ID]) {
		if (!cJSON_IsString(f[TOKEN_ID]) || !ovl_token_id_valid(f[TOKEN_ID]->valuestring) ||
		    !get_bytes(f[TOKEN_PROOF], r->token_proof, sizeof r->token_proof)) {
			ovl_fail(err, errlen, "payload: \"token_id\" must be %d hex digits, \"token_proof\" 32 bytes of base64",
			     OVL_TOKEN_ID_LEN);
			goto out;
		}
		r->has_token = true;
		memcpy(r->token_id, f[TOKEN_ID]->valuestring, OVL_TOKEN_ID_LEN + 1);
	}
	if (f[MAC]) {
		if (!cJSON_IsString(f[MAC]) || !ovl_mac_parse(f[MAC]->valuestring, r->mac)) {
			ovl_fail(err, errlen, "payload: \"mac\" must be six hex bytes separated by ':'");
			goto out;
		}
		r->has_mac = true;
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}

int ovl_request_parse(const char *body, size_t len, struct ovl_request *r, char *err, size_t errlen)
{
	cJSON *doc;
	const char *payload;
	uint8_t sig[ARBOR_SIGN_BYTES];
	struct ovl_request parsed;
	int rc = open_envelope(body, len, &doc, &payload, sig, err, errlen);
	if (rc == 0)
		rc = parse_request_payload(payload, &parsed, err, errlen);
	if (rc == 0 && !arbor_sign_verify(parsed.key, OVL_CTX_REQUEST, payload, strlen(payload), sig)) {
		snprintf(err, errlen, "bad signature");
		rc = -EPERM;
	}
	if (rc == 0)
		*r = parsed;
	cJSON_Delete(doc);
	return rc;
}

/* ---- answers ---- */

static void prefix_member(struct arbor_buf *p, const char *name, const struct arbor_ipv4_prefix *x)
{
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
	arbor_buf_printf(p, ",\"%s\":\"%s\"", name, arbor_ipv4_prefix_format(x, text, sizeof text));
}

void ovl_answer_build(const struct ovl_answer *a, const struct arbor_sign_key *hub, struct arbor_buf *out)
{
	struct arbor_buf p = { 0 };
	char ip[INET6_ADDRSTRLEN];
	arbor_buf_puts(&p, "{\"v\":1,\"re\":\"");
	b64(&p, a->re, sizeof a->re);
	arbor_buf_puts(&p, "\",\"hub_key\":\"");
	b64(&p, hub->public_key, sizeof hub->public_key);
	arbor_buf_printf(&p, "\",\"id\":%u,\"vni\":%u,\"port\":%u", a->id, a->vni, a->port);
	prefix_member(&p, "subnet", &a->subnet);
	prefix_member(&p, "network", &a->network);
	arbor_buf_printf(&p, ",\"hub_underlay\":\"%s\"", ovl_ip_format(&a->hub_underlay, ip, sizeof ip));
	inet_ntop(AF_INET, &a->hub_address, ip, sizeof ip);
	arbor_buf_printf(&p, ",\"hub_address\":\"%s\",\"heartbeat\":%.3f,\"direct\":%s", ip, a->heartbeat_s,
			 a->direct ? "true" : "false");
	if (a->direct) {
		arbor_buf_printf(&p, ",\"direct_vni\":%u,\"peers\":[", a->direct_vni);
		for (size_t i = 0; i < a->npeers; i++) {
			const struct ovl_peer *x = &a->peers[i];
			char mac[18], net[ARBOR_IPV4_PREFIX_TEXT_MAX];
			ovl_mac_format(x->mac, mac);
			arbor_buf_printf(&p, "%s{\"id\":%u,\"subnet\":\"%s\",\"underlay\":\"%s\",\"mac\":\"%s\"}", i ? "," : "",
					 x->id, arbor_ipv4_prefix_format(&x->subnet, net, sizeof net),
					 ovl_ip_format(&x->underlay, ip, sizeof ip), mac);
		}
		arbor_buf_puts(&p, "]");
	}
	arbor_buf_puts(&p, "}");
	uint8_t sig[ARBOR_SIGN_BYTES];
	arbor_sign(hub, OVL_CTX_ANSWER, p.data, p.len, sig);
	envelope(out, p.data, p.len, sig);
	arbor_buf_free(&p);
}

static bool get_prefix(const cJSON *v, struct arbor_ipv4_prefix *out)
{
	return cJSON_IsString(v) && arbor_ipv4_prefix_parse(out, v->valuestring) == 0;
}

static int parse_peers(const cJSON *arr, struct ovl_answer *a, char *err, size_t errlen)
{
	static const char *const names[] = { "id", "subnet", "underlay", "mac" };
	if (!cJSON_IsArray(arr))
		return ovl_fail(err, errlen, "answer: \"peers\" must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n > OVL_MAX_PEERS)
		return ovl_fail(err, errlen, "answer: more than %d peers", OVL_MAX_PEERS);
	a->peers = n ? xcalloc((size_t)n, sizeof *a->peers) : NULL;
	for (const cJSON *e = arr->child; e; e = e->next) {
		const cJSON *f[4];
		struct ovl_peer *x = &a->peers[a->npeers];
		uint64_t id;
		if (members(e, names, f, 4, "answer: peer", err, errlen) != 0)
			return -EINVAL;
		if (!get_uint(f[0], 0xffffff, &id) || !get_prefix(f[1], &x->subnet) || !cJSON_IsString(f[2]) ||
		    !ovl_ip_parse(f[2]->valuestring, &x->underlay) || !cJSON_IsString(f[3]) ||
		    !ovl_mac_parse(f[3]->valuestring, x->mac))
			return ovl_fail(err, errlen, "answer: peer %zu: bad id, subnet, underlay or mac", a->npeers);
		x->id = (uint32_t)id;
		a->npeers++;
	}
	return 0;
}

static int parse_answer_payload(const char *text, struct ovl_answer *a, char *err, size_t errlen)
{
	static const char *const names[] = { "v", "re", "hub_key", "id", "vni", "port", "subnet", "network",
					     "hub_underlay", "hub_address", "heartbeat", "direct", "direct_vni", "peers" };
	enum { V, RE, KEY, ID, VNI, PORT, SUBNET, NETWORK, HUB_UNDERLAY, HUB_ADDRESS, HEARTBEAT, DIRECT, DIRECT_VNI,
	       PEERS, N };
	const cJSON *f[N];
	memset(a, 0, sizeof *a);
	cJSON *doc = cJSON_Parse(text);
	int rc = doc ? members(doc, names, f, N, "answer", err, errlen) : ovl_fail(err, errlen, "answer is not JSON");
	uint64_t v, id, vni, port;
	struct arbor_nl_ip hub_address;
	if (rc)
		goto out;
	rc = -EINVAL;
	for (int i = V; i <= DIRECT; i++)
		if (f[i] == NULL) {
			ovl_fail(err, errlen, "answer: \"%s\" missing", names[i]);
			goto out;
		}
	if (!get_uint(f[V], 1, &v) || v != 1 || !get_bytes(f[RE], a->re, sizeof a->re) ||
	    !get_bytes(f[KEY], a->hub_key, sizeof a->hub_key)) {
		ovl_fail(err, errlen, "answer: bad \"v\", \"re\" or \"hub_key\"");
		goto out;
	}
	if (!get_uint(f[ID], 0xffffff, &id) || id == 0 || !get_uint(f[VNI], 0xffffff, &vni) ||
	    !get_uint(f[PORT], 65535, &port) || port == 0) {
		ovl_fail(err, errlen, "answer: bad \"id\", \"vni\" or \"port\"");
		goto out;
	}
	a->id = (uint32_t)id;
	a->vni = (uint32_t)vni;
	a->port = (uint16_t)port;
	if (!get_prefix(f[SUBNET], &a->subnet) || !get_prefix(f[NETWORK], &a->network) || a->subnet.len > 30 ||
	    !arbor_ipv4_prefix_contains(&a->network, &a->subnet)) {
		ovl_fail(err, errlen, "answer: bad \"subnet\" or \"network\"");
		goto out;
	}
	if (!cJSON_IsString(f[HUB_UNDERLAY]) || !ovl_ip_parse(f[HUB_UNDERLAY]->valuestring, &a->hub_underlay) ||
	    !cJSON_IsString(f[HUB_ADDRESS]) || !ovl_ip_parse(f[HUB_ADDRESS]->valuestring, &hub_address) ||
	    hub_address.family != AF_INET) {
		ovl_fail(err, errlen, "answer: bad \"hub_underlay\" or \"hub_address\"");
		goto out;
	}
	a->hub_address = hub_address.v4;
	if (!cJSON_IsNumber(f[HEARTBEAT]) || !(f[HEARTBEAT]->valuedouble >= 0.1 && f[HEARTBEAT]->valuedouble <= 86400) ||
	    !cJSON_IsBool(f[DIRECT])) {
		ovl_fail(err, errlen, "answer: bad \"heartbeat\" or \"direct\"");
		goto out;
	}
	a->heartbeat_s = f[HEARTBEAT]->valuedouble;
	a->direct = cJSON_IsTrue(f[DIRECT]);
	if (a->direct) {
		if (!get_uint(f[DIRECT_VNI], 0xffffff, &vni) || f[PEERS] == NULL) {
			ovl_fail(err, errlen, "answer: direct without \"direct_vni\" or \"peers\"");
			goto out;
		}
		a->direct_vni = (uint32_t)vni;
		if (parse_peers(f[PEERS], a, err, errlen) != 0)
			goto out;
	} else if (f[DIRECT_VNI] || f[PEERS]) {
		ovl_fail(err, errlen, "answer: \"direct_vni\" and \"peers\" only with direct");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		ovl_answer_free(a);
	cJSON_Delete(doc);
	return rc;
}

int ovl_answer_parse(const char *body, size_t len, const uint8_t *pinned, const uint8_t *fp,
		     const uint8_t re[OVL_NONCE_BYTES], struct ovl_answer *a, char *err, size_t errlen)
{
	cJSON *doc;
	const char *payload;
	uint8_t sig[ARBOR_SIGN_BYTES];
	memset(a, 0, sizeof *a);
	int rc = open_envelope(body, len, &doc, &payload, sig, err, errlen);
	if (rc == 0)
		rc = parse_answer_payload(payload, a, err, errlen);
	if (rc == 0) {
		uint8_t got[ARBOR_FINGERPRINT_BYTES];
		arbor_sign_fingerprint(a->hub_key, got);
		rc = -EPERM;
		if (pinned && sodium_memcmp(pinned, a->hub_key, ARBOR_SIGN_PUBLIC_BYTES) != 0)
			snprintf(err, errlen, "the answer is signed by another key than the pinned hub key");
		else if (!pinned && (fp == NULL || sodium_memcmp(fp, got, sizeof got) != 0))
			snprintf(err, errlen, "the hub's key does not have the fingerprint in the token");
		else if (!arbor_sign_verify(a->hub_key, OVL_CTX_ANSWER, payload, strlen(payload), sig))
			snprintf(err, errlen, "bad signature on the answer");
		else if (sodium_memcmp(a->re, re, OVL_NONCE_BYTES) != 0)
			snprintf(err, errlen, "the answer is for another request");
		else
			rc = 0;
		if (rc)
			ovl_answer_free(a);
	}
	cJSON_Delete(doc);
	return rc;
}

void ovl_answer_free(struct ovl_answer *a)
{
	free(a->peers);
	a->peers = NULL;
	a->npeers = 0;
}

/* ---- tokens ---- */

void ovl_token_format(const struct ovl_token *t, char *out, size_t outlen)
{
	char fp[ARBOR_B64_LEN(32) + 1], secret[ARBOR_B64_LEN(32) + 1];
	arbor_b64_encode(t->hub_fp, sizeof t->hub_fp, fp, sizeof fp);
	arbor_b64_encode(t->secret, sizeof t->secret, secret, sizeof secret);
	snprintf(out, outlen, TOKEN_PREFIX "%s.%s", fp, secret);
	sodium_memzero(secret, sizeof secret);
}

bool ovl_token_parse(const char *text, struct ovl_token *t)
{
	size_t plen = strlen(TOKEN_PREFIX), b = ARBOR_B64_LEN(32);
	if (text == NULL || strncmp(text, TOKEN_PREFIX, plen) != 0 || strlen(text) != plen + b + 1 + b ||
	    text[plen + b] != '.')
		return false;
	char fp[ARBOR_B64_LEN(32) + 1];
	memcpy(fp, text + plen, b);
	fp[b] = '\0';
	return arbor_b64_decode_exact(fp, t->hub_fp, sizeof t->hub_fp) &&
	       arbor_b64_decode_exact(text + plen + b + 1, t->secret, sizeof t->secret);
}

/* Domain-separated SHA-256 of a token secret. */
static void token_hash(const char *purpose, const uint8_t secret[OVL_TOKEN_SECRET_BYTES], uint8_t out[32])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)purpose, strlen(purpose) + 1);
	crypto_hash_sha256_update(&st, secret, OVL_TOKEN_SECRET_BYTES);
	crypto_hash_sha256_final(&st, out);
}

void ovl_token_id(const uint8_t secret[OVL_TOKEN_SECRET_BYTES], char id[OVL_TOKEN_ID_LEN + 1])
{
	uint8_t h[32];
	token_hash("arbor-overlay token id v1", secret, h);
	for (int i = 0; i < OVL_TOKEN_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", h[i]);
}

void ovl_token_proof_key(const uint8_t secret[OVL_TOKEN_SECRET_BYTES], uint8_t proof_key[32])
{
	token_hash("arbor-overlay token proof key v1", secret, proof_key);
}

void ovl_token_proof(const uint8_t proof_key[32], const uint8_t spoke_key[ARBOR_SIGN_PUBLIC_BYTES],
		     uint8_t proof[32])
{
	crypto_auth_hmacsha256(proof, spoke_key, ARBOR_SIGN_PUBLIC_BYTES, proof_key);
}

bool ovl_token_proof_ok(const uint8_t proof_key[32], const uint8_t spoke_key[ARBOR_SIGN_PUBLIC_BYTES],
			const uint8_t proof[32])
{
	return crypto_auth_hmacsha256_verify(proof, spoke_key, ARBOR_SIGN_PUBLIC_BYTES, proof_key) == 0;
}
