/* The hub's network API on the wire: signed join and heartbeat requests from
 * spokes, the hub's signed answers, and the enrollment token. Pure functions
 * over buffers (no clock, no I/O): the hub checks the time window and nonces
 * itself (replay.h) and decides with the registry (registry.h).
 *
 * A request body is an envelope {"payload": "<JSON text>", "sig": "<base64>"}:
 * the signature is over the payload string exactly as sent (no
 * canonicalization), with the context OVL_CTX_REQUEST, by the spoke key the
 * payload names. An answer is the same envelope signed by the hub key with
 * OVL_CTX_ANSWER, and names the request's nonce, so an answer cannot be
 * replayed to another request. docs/overlayd.md gives the argument.
 *
 * Request payload:
 *   {"v":1, "op":"join"|"heartbeat", "hub":"<fingerprint of the hub key the
 *    spoke expects>", "key":"<spoke public key>", "ts":<ms since the epoch>,
 *    "nonce":"<16 bytes>", "hostname":"m1", "underlay":"192.0.2.11",
 *    "token_id":"...", "token_proof":"<HMAC>" (first join only),
 *    "mac":"52:54:00:..." (direct spoke-to-spoke only)}
 * Binary values are unpadded URL-safe base64. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipv4_alloc.h"
#include "netlink.h"
#include "sign.h"

#define OVL_CTX_REQUEST "arbor-overlay request v1"
#define OVL_CTX_ANSWER "arbor-overlay answer v1"
#define OVL_NONCE_BYTES 16
#define OVL_TOKEN_SECRET_BYTES 32
#define OVL_TOKEN_ID_LEN 16 /* hex characters */
#define OVL_HOSTNAME_MAX 63
#define OVL_BODY_MAX 16384
#define OVL_MAX_PEERS 4096

enum ovl_op { OVL_OP_JOIN, OVL_OP_HEARTBEAT };

struct ovl_request {
	enum ovl_op op;
	uint8_t hub_fp[ARBOR_FINGERPRINT_BYTES];
	uint8_t key[ARBOR_SIGN_PUBLIC_BYTES];
	int64_t ts_ms;
	uint8_t nonce[OVL_NONCE_BYTES];
	char hostname[OVL_HOSTNAME_MAX + 1];
	struct arbor_nl_ip underlay;
	bool has_token;
	char token_id[OVL_TOKEN_ID_LEN + 1];
	uint8_t token_proof[32];
	bool has_mac;
	uint8_t mac[6];
};

/* Writes the signed envelope of r into out (appended). */
void ovl_request_build(const struct ovl_request *r, const struct arbor_sign_key *spoke, struct arbor_buf *out);

/* Parses an envelope and its payload, and checks the signature with the key the
 * payload names. 0, or -EINVAL (malformed: 400) or -EPERM (bad signature:
 * 401), with a message in err. r is filled only on 0. */
int ovl_request_parse(const char *body, size_t len, struct ovl_request *r, char *err, size_t errlen);

/* A peer for direct spoke-to-spoke forwarding. */
struct ovl_peer {
	uint32_t id;
	struct arbor_ipv4_prefix subnet;
	struct arbor_nl_ip underlay;
	uint8_t mac[6];
};

/* The hub's answer to a join or heartbeat: the spoke's assignment. */
struct ovl_answer {
	uint8_t re[OVL_NONCE_BYTES]; /* the request's nonce */
	uint8_t hub_key[ARBOR_SIGN_PUBLIC_BYTES];
	uint32_t id;
	uint32_t vni;
	uint16_t port;
	struct arbor_ipv4_prefix subnet;
	struct arbor_ipv4_prefix network;
	struct arbor_nl_ip hub_underlay;
	struct in_addr hub_address;
	double heartbeat_s;
	bool direct;
	uint32_t direct_vni;
	struct ovl_peer *peers; /* malloc'd (parse), or the caller's (build) */
	size_t npeers;
};

void ovl_answer_build(const struct ovl_answer *a, const struct arbor_sign_key *hub, struct arbor_buf *out);
/* Parses and verifies an answer. pinned: the hub key the spoke already trusts,
 * or NULL on a first join, when the key in the answer must instead have the
 * fingerprint fp (from the token). re must equal the request's nonce.
 * 0, -EINVAL (malformed) or -EPERM (wrong key, bad signature, wrong nonce). On
 * 0, free a->peers with ovl_answer_free. */
int ovl_answer_parse(const char *body, size_t len, const uint8_t *pinned, const uint8_t *fp,
		     const uint8_t re[OVL_NONCE_BYTES], struct ovl_answer *a, char *err, size_t errlen);
void ovl_answer_free(struct ovl_answer *a);

/* The enrollment token: "arbor-ovl1.<hub fingerprint>.<secret>". The spoke
 * pins the hub by the fingerprint; the secret never travels again: the first
 * join carries its id and an HMAC, keyed by it, of the spoke's public key. */
struct ovl_token {
	uint8_t hub_fp[ARBOR_FINGERPRINT_BYTES];
	uint8_t secret[OVL_TOKEN_SECRET_BYTES];
};

void ovl_token_format(const struct ovl_token *t, char *out, size_t outlen);
#define OVL_TOKEN_TEXT_MAX 128
bool ovl_token_parse(const char *text, struct ovl_token *t);
/* Hex id of a token secret (what the hub files it under). */
void ovl_token_id(const uint8_t secret[OVL_TOKEN_SECRET_BYTES], char id[OVL_TOKEN_ID_LEN + 1]);
/* The proof key the hub keeps instead of the secret, and the proof itself. */
void ovl_token_proof_key(const uint8_t secret[OVL_TOKEN_SECRET_BYTES], uint8_t proof_key[32]);
void ovl_token_proof(const uint8_t proof_key[32], const uint8_t spoke_key[ARBOR_SIGN_PUBLIC_BYTES],
		     uint8_t proof[32]);
bool ovl_token_proof_ok(const uint8_t proof_key[32], const uint8_t spoke_key[ARBOR_SIGN_PUBLIC_BYTES],
			const uint8_t proof[32]);

/* "52:54:00:12:34:56" <-> bytes. */
bool ovl_mac_parse(const char *text, uint8_t mac[6]);
void ovl_mac_format(const uint8_t mac[6], char out[18]);

/* An IPv4 or IPv6 address in text ("none" for neither), and back. */
const char *ovl_ip_format(const struct arbor_nl_ip *ip, char *buf, size_t len);
bool ovl_ip_parse(const char *text, struct arbor_nl_ip *ip);

/* Writes a message into err and returns -EINVAL: the readers' one-line refusal. */
int ovl_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 16 lower-case hex digits. */
bool ovl_token_id_valid(const char *s);
