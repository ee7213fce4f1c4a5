/* The delegations of one server: found by client (DUID and IAID) and by prefix,
 * two hash tables over the same records. Pure data structure: persistence is
 * the caller's (records go through the journal, binding_record.h). Released and
 * expired bindings are remembered, so a router that comes back gets the prefix
 * it had when nobody took it meanwhile. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp6pd_config.h"

enum binding_state { BINDING_OFFERED, BINDING_BOUND, BINDING_RELEASED, BINDING_EXPIRED };

/* DUIDs this long or shorter (DUID-LL, -LLT, -UUID) live inside the record: a
 * lookup then reads no second allocation, and a record is one allocation. */
#define BINDING_DUID_INLINE 20

struct binding {
	struct arbor_prefix6 prefix;
	uint8_t *duid; /* duid_len bytes: duid_inline, or owned when longer */
	uint16_t duid_len;
	uint8_t state;
	uint8_t pool;            /* which of the server's pools it came from */
	uint32_t iaid;
	uint32_t key_hash;       /* of (duid, iaid): compared before the DUID, reused to rehash */
	double starts, preferred_until, valid_until; /* an offer lapses at valid_until */
	struct in6_addr via;     /* the route's next hop: the requester's link-local, or the relay */
	struct binding *next_key, *next_prefix;
	uint8_t duid_inline[BINDING_DUID_INLINE];
};

struct binding_table {
	struct binding **by_key, **by_prefix;
	size_t nbuckets; /* a power of two */
	size_t count, bound, offered;
};

void binding_table_init(struct binding_table *t);
void binding_table_free(struct binding_table *t);

struct binding *binding_by_key(const struct binding_table *t, const uint8_t *duid, size_t duid_len, uint32_t iaid);
struct binding *binding_by_prefix(const struct binding_table *t, const struct arbor_prefix6 *p);
/* The record for (duid, iaid) holding p: any other record holding p or that key
 * is removed first. Returns it (state as before when it existed, else OFFERED). */
struct binding *binding_put(struct binding_table *t, const uint8_t *duid, size_t duid_len, uint32_t iaid,
			    const struct arbor_prefix6 *p);
void binding_remove(struct binding_table *t, struct binding *b);
void binding_set_state(struct binding_table *t, struct binding *b, enum binding_state s);
/* Calls fn for every record (fn may change or remove the record it is given). */
void binding_table_each(const struct binding_table *t, void (*fn)(void *ctx, struct binding *b), void *ctx);

const char *binding_state_name(enum binding_state s);
int binding_state_from_name(const char *s);
