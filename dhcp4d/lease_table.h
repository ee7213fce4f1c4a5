/* The leases of one served subnet: found by address (an array over the subnet)
 * and by client key (a hash table). Pure data structure: persistence is the
 * caller's (lease records go through the journal, see lease_record.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lease_state { LEASE_OFFERED, LEASE_BOUND, LEASE_RELEASED, LEASE_EXPIRED, LEASE_DECLINED };

#define LEASE_KEY_MAX 64

struct lease {
	uint32_t addr; /* host byte order */
	/* client identifier (61, 2 bytes or more), or htype + chaddr (2 or more);
	 * length 0: a quarantine record, held by nobody (lease_put_quarantine) */
	uint8_t key[LEASE_KEY_MAX];
	uint8_t key_len;
	uint8_t mac[16];
	uint8_t mac_len;
	char hostname[64];
	double starts, ends; /* wall time; for an offer, ends is when it lapses */
	enum lease_state state;
	struct lease *key_next;
};

struct lease_table {
	uint32_t network; /* host byte order */
	unsigned prefixlen;
	uint32_t size; /* addresses in the subnet */
	struct lease **by_addr;
	struct lease **buckets;
	size_t nbuckets;
	size_t count;
	size_t bound;
};

/* Subnets from a /16 (65536 addresses) to a /30. Returns 0 or -EINVAL. */
int lease_table_init(struct lease_table *t, uint32_t network, unsigned prefixlen);
void lease_table_free(struct lease_table *t);
bool lease_table_contains(const struct lease_table *t, uint32_t addr);
struct lease *lease_by_addr(const struct lease_table *t, uint32_t addr);
struct lease *lease_by_key(const struct lease_table *t, const uint8_t *key, size_t len);
/* Inserts or moves the record for (key, addr): any other record holding addr or
 * key is removed first. Returns the lease (owned by the table), or NULL when
 * addr is outside the subnet or key_len over LEASE_KEY_MAX. */
struct lease *lease_put(struct lease_table *t, uint32_t addr, const uint8_t *key, size_t key_len);
/* Puts a quarantine record on addr (a declined or conflicting address): a key no
 * client can have (length 0: every client key has at least 2 bytes), and not in
 * the key index, so no client finds it as its own or moves it away. Whatever
 * held addr is removed. NULL when addr is outside the subnet. */
struct lease *lease_put_quarantine(struct lease_table *t, uint32_t addr);
static inline bool lease_is_quarantine(const struct lease *l)
{
	return l->key_len == 0;
}
void lease_remove(struct lease_table *t, struct lease *l);
/* Changes a lease's state, keeping the table's counters. */
void lease_set_state(struct lease_table *t, struct lease *l, enum lease_state state);
const char *lease_state_name(enum lease_state s);
int lease_state_from_name(const char *s);
/* "01:aa:bb:..." for keys and MACs in records and messages. */
void lease_hex(const uint8_t *b, size_t len, char *out, size_t outlen);
int lease_unhex(const char *text, uint8_t *out, size_t cap);
