/* The binding table (see binding_table.h): chained hashing, the bucket array
 * doubled when the table holds more records than buckets. */
#include "binding_table.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define INITIAL_BUCKETS 256

static const char *const state_names[] = { "offered", "bound", "released", "expired" };

const char *binding_state_name(enum binding_state s)
{
	return s <= BINDING_EXPIRED ? state_names[s] : "?";
}

int binding_state_from_name(const char *s)
{
	for (int i = 0; i <= BINDING_EXPIRED; i++)
		if (s && strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

/* FNV-1a, then a final mix: DUIDs often differ only in their last bytes. */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint32_t key_hash(const uint8_t *duid, size_t len, uint32_t iaid)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, duid, len);
	h = hash_bytes(h, (const uint8_t *)&iaid, sizeof iaid);
	return (uint32_t)mix(h);
}

static size_t key_bucket(const struct binding_table *t, uint32_t hash)
{
	return hash & (t->nbuckets - 1);
}

static void free_binding(struct binding *b)
{
	if (b->duid != b->duid_inline)
		free(b->duid);
	free(b);
}

static size_t prefix_bucket(const struct binding_table *t, const struct arbor_prefix6 *p)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, p->addr.s6_addr, 16);
	return mix(h ^ p->len) & (t->nbuckets - 1);
}

void binding_table_init(struct binding_table *t)
{
	memset(t, 0, sizeof *t);
	t->nbuckets = INITIAL_BUCKETS;
	t->by_key = xcalloc(t->nbuckets, sizeof *t->by_key);
	t->by_prefix = xcalloc(t->nbuckets, sizeof *t->by_prefix);
}

void binding_table_free(struct binding_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct binding *b = t->by_key[i];
		while (b) {
			struct binding *next = b->next_key;
			free_binding(b);
			b = next;
		}
	}
	free(t->by_key);
	free(t->by_prefix);
	memset(t, 0, sizeof *t);
}

static bool same_key(const struct binding *b, uint32_t hash, const uint8_t *duid, size_t len, uint32_t iaid)
{
	return b->key_hash == hash && b->iaid == iaid && b->duid_len == len && memcmp(b->duid, duid, len) == 0;
}

struct binding *binding_by_key(const struct binding_table *t, const uint8_t *duid, size_t duid_len, uint32_t iaid)
{
	uint32_t hash = key_hash(duid, duid_len, iaid);
	for (struct binding *b = t->by_key[key_bucket(t, hash)]; b; b = b->next_key)
		if (same_key(b, hash, duid, duid_len, iaid))
			return b;
	return NULL;
}

struct binding *binding_by_prefix(const struct binding_table *t, const struct arbor_prefix6 *p)
{
	for (struct binding *b = t->by_prefix[prefix_bucket(t, p)]; b; b = b->next_prefix)
		if (arbor_prefix6_equal(&b->prefix, p))
			return b;
	return NULL;
}

static void unlink_key(struct binding_table *t, struct binding *b)
{
	struct binding **pp = &t->by_key[key_bucket(t, b->key_hash)];
	for (; *pp; pp = &(*pp)->next_key)
		if (*pp == b) {
			*pp = b->next_key;
			return;
		}
}

static void unlink_prefix(struct binding_table *t, struct binding *b)
{
	struct binding **pp = &t->by_prefix[prefix_bucket(t, &b->prefix)];
	for (; *pp; pp = &(*pp)->next_prefix)
		if (*pp == b) {
			*pp = b->next_prefix;
			return;
		}
}

static void link_both(struct binding_table *t, struct binding *b)
{
	size_t k = key_bucket(t, b->key_hash), p = prefix_bucket(t, &b->prefix);
	b->next_key = t->by_key[k];
	t->by_key[k] = b;
	b->next_prefix = t->by_prefix[p];
	t->by_prefix[p] = b;
}

static void count(struct binding_table *t, const struct binding *b, int sign)
{
	if (b->state == BINDING_BOUND)
		t->bound += (size_t)sign;
	else if (b->state == BINDING_OFFERED)
		t->offered += (size_t)sign;
}

void binding_remove(struct binding_table *t, struct binding *b)
{
	unlink_key(t, b);
	unlink_prefix(t, b);
	count(t, b, -1);
	t->count--;
	free_binding(b);
}

static void grow(struct binding_table *t)
{
	size_t old = t->nbuckets;
	struct binding **keys = t->by_key;
	t->nbuckets *= 2;
	t->by_key = xcalloc(t->nbuckets, sizeof *t->by_key);
	free(t->by_prefix);
	t->by_prefix = xcalloc(t->nbuckets, sizeof *t->by_prefix);
	for (size_t i = 0; i < old; i++) {
		struct binding *b = keys[i];
		while (b) {
			struct binding *next = b->next_key;
			link_both(t, b);
			b = next;
		}
	}
	free(keys);
}

struct binding *binding_put(struct binding_table *t, const uint8_t *duid, size_t duid_len, uint32_t iaid,
			    const struct arbor_prefix6 *p)
{
	struct binding *mine = binding_by_key(t, duid, duid_len, iaid);
	struct binding *other = binding_by_prefix(t, p);
	if (other && other != mine)
		binding_remove(t, other);
	if (mine) {
		if (!arbor_prefix6_equal(&mine->prefix, p)) {
			unlink_prefix(t, mine);
			mine->prefix = *p;
			size_t k = prefix_bucket(t, p);
			mine->next_prefix = t->by_prefix[k];
			t->by_prefix[k] = mine;
		}
		return mine;
	}
	if (t->count >= t->nbuckets)
		grow(t);
	struct binding *b = xcalloc(1, sizeof *b);
	b->duid = duid_len <= sizeof b->duid_inline ? b->duid_inline : xmalloc(duid_len);
	memcpy(b->duid, duid, duid_len);
	b->key_hash = key_hash(duid, duid_len, iaid);
	b->duid_len = (uint16_t)duid_len;
	b->iaid = iaid;
	b->prefix = *p;
	b->state = BINDING_OFFERED;
	link_both(t, b);
	t->count++;
	t->offered++;
	return b;
}

void binding_set_state(struct binding_table *t, struct binding *b, enum binding_state s)
{
	count(t, b, -1);
	b->state = (uint8_t)s;
	count(t, b, 1);
}

void binding_table_each(const struct binding_table *t, void (*fn)(void *ctx, struct binding *b), void *ctx)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct binding *b = t->by_key[i], *next; b; b = next) {
			next = b->next_key;
			fn(ctx, b);
		}
}
