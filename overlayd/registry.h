/* The overlay's registry: which spoke (by its key) holds which id, VNI and
 * subnet, and the enrollment tokens not yet used. The truth the kernel follows.
 *
 * Ids and subnets are allocated once and kept: nothing here ever evicts or
 * renumbers; only ovl_registry_forget (the operator's command) frees an id.
 * Pure: no I/O, time comes in as an argument. The durable store (store.h)
 * journals the records this module encodes and replays them through
 * ovl_registry_apply, which checks them as strictly as a join, so a damaged
 * file is refused rather than half believed.
 *
 * Record shapes (one JSON object each; the journal holds one per line):
 *   {"spoke":{SPOKE}}  {"spoke":{SPOKE},"token_used":"<id>"}  {"forget":<id>}
 *   {"token":{TOKEN}}  {"token_used":"<id>"}
 *   SPOKE = {"id":1,"key":"<b64>","hostname":"m1","underlay":"192.0.2.11",
 *            "subnet":"10.128.1.0/24","joined_at":<s>,"updated_ms":<ms>,
 *            "hub":"root","mac":"52:54:00:00:00:01"}   (hub, mac optional)
 *   TOKEN = {"id":"<16 hex>","proof_key":"<b64>","expires_at":<s>,
 *            "hostname":"m1"}                           (hostname optional)
 * A snapshot is {"version":1,"spokes":[SPOKE...],"tokens":[TOKEN...]}. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ipv4_alloc.h"
#include "join_wire.h"

#define OVL_ID_MAX 0xffffffu

struct ovl_spoke {
	uint32_t id;
	uint8_t key[ARBOR_SIGN_PUBLIC_BYTES];
	char hostname[OVL_HOSTNAME_MAX + 1];
	struct arbor_nl_ip underlay;
	struct arbor_ipv4_prefix subnet;
	int64_t joined_at;  /* seconds since the epoch */
	int64_t updated_ms; /* timestamp of the request that last changed the entry */
	char hub[OVL_HOSTNAME_MAX + 1]; /* the hub serving it (shared registries); "" unknown */
	bool has_mac;
	uint8_t mac[6];
};

struct ovl_token_entry {
	char id[OVL_TOKEN_ID_LEN + 1];
	uint8_t proof_key[32];
	int64_t expires_at;
	char hostname[OVL_HOSTNAME_MAX + 1]; /* "" : any */
};

struct ovl_registry_params {
	struct arbor_ipv4_prefix network;
	unsigned int subnet_length;
	uint32_t vni_base;
	struct in_addr hub_address; /* kept out of every subnet */
	uint32_t max_spokes;        /* 0: as many as ids and subnets allow */
};

struct ovl_registry;

struct ovl_registry *ovl_registry_new(const struct ovl_registry_params *p);
void ovl_registry_free(struct ovl_registry *r);
const struct ovl_registry_params *ovl_registry_params(const struct ovl_registry *r);
/* Replaces the parameters (a reload): entries stay as they are; those that no
 * longer fit (outside the network, another length) are conflicts, not moved. */
void ovl_registry_set_params(struct ovl_registry *r, const struct ovl_registry_params *p);
/* What the machine already uses (ipv4_alloc.h): new subnets avoid it. */
int ovl_registry_set_in_use(struct ovl_registry *r, const struct arbor_ipv4_in_use *in_use, size_t n);

/* The largest id: VNIs are 24 bits, and VNI = vni_base + id. */
uint32_t ovl_registry_max_id(const struct ovl_registry *r);
uint32_t ovl_registry_vni(const struct ovl_registry *r, uint32_t id);

/* Changes whenever an entry changes: the kernel side reconciles when it moves. */
uint64_t ovl_registry_generation(const struct ovl_registry *r);

/* Spokes by id (ordered), and lookups. Pointers stay valid until the next change. */
size_t ovl_registry_count(const struct ovl_registry *r);
const struct ovl_spoke *ovl_registry_at(const struct ovl_registry *r, size_t i);
const struct ovl_spoke *ovl_registry_by_id(const struct ovl_registry *r, uint32_t id);
const struct ovl_spoke *ovl_registry_by_key(const struct ovl_registry *r, const uint8_t key[ARBOR_SIGN_PUBLIC_BYTES]);
const struct ovl_spoke *ovl_registry_by_hostname(const struct ovl_registry *r, const char *hostname);
size_t ovl_registry_token_count(const struct ovl_registry *r, int64_t now);
const struct ovl_token_entry *ovl_registry_token(const struct ovl_registry *r, const char *id);

/* What a join asks for, decided against the registry as it is. */
enum ovl_join_kind {
	OVL_JOIN_KNOWN,   /* nothing changes */
	OVL_JOIN_UPDATE,  /* a known spoke moved (underlay), renamed itself or changed its MAC */
	OVL_JOIN_NEW,     /* a new entry, with the token it uses */
	OVL_JOIN_REFUSED, /* status, code and reason say why */
};

struct ovl_join_decision {
	enum ovl_join_kind kind;
	int status;       /* HTTP status when refused: 401, 409 */
	const char *code; /* "unauthorized", "hostname_taken", "overlay_full" */
	char reason[320];
	struct ovl_spoke entry; /* the entry as it will be (KNOWN, UPDATE, NEW) */
	char token_id[OVL_TOKEN_ID_LEN + 1]; /* NEW: the token to mark used */
};

/* Decides a join (or, with op heartbeat, only whether the key is known). The
 * request's signature, hub fingerprint, timestamp and nonce are checked
 * already. hub: this hub's name, recorded in new and moved entries. Changes
 * nothing; the caller persists the decision and then applies it. */
void ovl_registry_decide_join(struct ovl_registry *r, const struct ovl_request *req, const char *hub,
			      int64_t now_s, struct ovl_join_decision *d);
/* The same, passing over the first skip free ids and subnets: a hub that lost
 * a race for a shared registry's lowest candidates tries others, so two busy
 * hubs stop colliding on the same ones. */
void ovl_registry_decide_join_skip(struct ovl_registry *r, const struct ovl_request *req, const char *hub,
				   int64_t now_s, unsigned skip, struct ovl_join_decision *d);

/* ---- changes (each checked; nothing changes on error) ---- */

int ovl_registry_put_spoke(struct ovl_registry *r, const struct ovl_spoke *s, char *err, size_t errlen);
int ovl_registry_forget(struct ovl_registry *r, uint32_t id);
int ovl_registry_put_token(struct ovl_registry *r, const struct ovl_token_entry *t, char *err, size_t errlen);
int ovl_registry_use_token(struct ovl_registry *r, const char *id);
/* Drops tokens that expired before now; returns how many. */
size_t ovl_registry_prune_tokens(struct ovl_registry *r, int64_t now);

/* ---- records ---- */

/* A spoke or token as its JSON object (text appended to out). */
void ovl_spoke_write(struct arbor_buf *out, const struct ovl_spoke *s);
void ovl_token_write(struct arbor_buf *out, const struct ovl_token_entry *t);
int ovl_spoke_read(const cJSON *obj, struct ovl_spoke *s, char *err, size_t errlen);
int ovl_token_read(const cJSON *obj, struct ovl_token_entry *t, char *err, size_t errlen);

/* The record for a decision (UPDATE or NEW) into out. */
void ovl_registry_record_join(struct arbor_buf *out, const struct ovl_join_decision *d);
/* Applies one record (see the shapes above). 0 or -EINVAL with err. */
int ovl_registry_apply(struct ovl_registry *r, const cJSON *record, char *err, size_t errlen);
/* The snapshot text, and loading one (replacing everything). */
void ovl_registry_write_snapshot(const struct ovl_registry *r, struct arbor_buf *out);
int ovl_registry_load_snapshot(struct ovl_registry *r, const cJSON *data, char *err, size_t errlen);

/* Takes src's entries and tokens (a fresh copy of a shared registry), giving it
 * ours; the parameters and what the machine uses stay. */
void ovl_registry_swap(struct ovl_registry *r, struct ovl_registry *src);

/* Subnets that collide with what the machine uses, or left the network: a
 * malloc'd array (ipv4_alloc.h) the caller frees. Keys are "spoke:<id>". */
int ovl_registry_conflicts(const struct ovl_registry *r, struct arbor_ipv4_conflict **out, size_t *n);
