/* Lease table (see lease_table.h). */
#include "lease_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const char *const state_names[] = { "offered", "bound", "released", "expired", "declined" };

const char *lease_state_name(enum lease_state s)
{
	return state_names[s];
}

int lease_state_from_name(const char *s)
{
	for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (int)i;
	return -1;
}

static uint64_t key_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return h;
}

int lease_table_init(struct lease_table *t, uint32_t network, unsigned prefixlen)
{
	memset(t, 0, sizeof *t);
	if (prefixlen < 16 || prefixlen > 30)
		return -EINVAL;
	t->network = network;
	t->prefixlen = prefixlen;
	t->size = 1u << (32 - prefixlen);
	t->by_addr = xcalloc(t->size, sizeof *t->by_addr);
	t->nbuckets = t->size < 1024 ? 1024 : t->size;
	t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
	return 0;
}

void lease_table_free(struct lease_table *t)
{
	if (t->by_addr)
		for (uint32_t i = 0; i < t->size; i++)
			free(t->by_addr[i]);
	free(t->by_addr);
	free(t->buckets);
	memset(t, 0, sizeof *t);
}

bool lease_table_contains(const struct lease_table *t, uint32_t addr)
{
	return addr - t->network < t->size;
}

struct lease *lease_by_addr(const struct lease_table *t, uint32_t addr)
{
	return lease_table_contains(t, addr) ? t->by_addr[addr - t->network] : NULL;
}

struct lease *lease_by_key(const struct lease_table *t, const uint8_t *key, size_t len)
{
	if (len == 0)
		return NULL; /* quarantine records are nobody's */
	for (struct lease *l = t->buckets[key_hash(key, len) % t->nbuckets]; l; l = l->key_next)
		if (l->key_len == len && memcmp(l->key, key, len) == 0)
			return l;
	return NULL;
}

static void unlink_key(struct lease_table *t, struct lease *l)
{
	struct lease **pp = &t->buckets[key_hash(l->key, l->key_len) % t->nbuckets];
	while (*pp && *pp != l)
		pp = &(*pp)->key_next;
	if (*pp)
		*pp = l->key_next;
	l->key_next = NULL;
}

void lease_remove(struct lease_table *t, struct lease *l)
{
	if (!lease_is_quarantine(l))
		unlink_key(t, l);
	t->by_addr[l->addr - t->network] = NULL;
	if (l->state == LEASE_BOUND)
		t->bound--;
	t->count--;
	free(l);
}

struct lease *lease_put_quarantine(struct lease_table *t, uint32_t addr)
{
	if (!lease_table_contains(t, addr))
		return NULL;
	struct lease *at = t->by_addr[addr - t->network];
	if (at)
		lease_remove(t, at);
	struct lease *l = xcalloc(1, sizeof *l);
	l->addr = addr;
	l->state = LEASE_DECLINED;
	t->by_addr[addr - t->network] = l;
	t->count++;
	return l;
}

struct lease *lease_put(struct lease_table *t, uint32_t addr, const uint8_t *key, size_t key_len)
{
	if (key_len == 0)
		return lease_put_quarantine(t, addr);
	if (!lease_table_contains(t, addr) || key_len > LEASE_KEY_MAX)
		return NULL;
	struct lease *by_key = lease_by_key(t, key, key_len);
	struct lease *at = t->by_addr[addr - t->network];
	if (by_key && by_key == at)
		return at;
	if (at)
		lease_remove(t, at);
	if (by_key)
		lease_remove(t, by_key);
	struct lease *l = xcalloc(1, sizeof *l);
	l->addr = addr;
	memcpy(l->key, key, key_len);
	l->key_len = (uint8_t)key_len;
	l->state = LEASE_OFFERED;
	t->by_addr[addr - t->network] = l;
	struct lease **bucket = &t->buckets[key_hash(key, key_len) % t->nbuckets];
	l->key_next = *bucket;
	*bucket = l;
	t->count++;
	return l;
}

void lease_hex(const uint8_t *b, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < len && o + 4 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02x" : "%02x", b[i]);
}

void lease_set_state(struct lease_table *t, struct lease *l, enum lease_state state)
{
	if (l->state == LEASE_BOUND)
		t->bound--;
	if (state == LEASE_BOUND)
		t->bound++;
	l->state = state;
}

int lease_unhex(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = text;
	while (*p) {
		unsigned v;
		int used;
		if (n >= cap || sscanf(p, "%2x%n", &v, &used) != 1 || used != 2)
			return -EINVAL;
		out[n++] = (uint8_t)v;
		p += 2;
		if (*p == ':')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return (int)n;
}
