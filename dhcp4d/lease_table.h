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
	uint8_t key[LEASE_KEY_MAX]; /* client identifier (61), or htype + chaddr */
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
void lease_remove(struct lease_table *t, struct lease *l);
/* Changes a lease's state, keeping the table's counters. */
void lease_set_state(struct lease_table *t, struct lease *l, enum lease_state state);
const char *lease_state_name(enum lease_state s);
int lease_state_from_name(const char *s);
/* "01:aa:bb:..." for keys and MACs in records and messages. */
void lease_hex(const uint8_t *b, size_t len, char *out, size_t outlen);
int lease_unhex(const char *text, uint8_t *out, size_t cap);
