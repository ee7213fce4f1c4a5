/* libFuzzer harness for the IPv4 allocator: the bytes before the first NUL are a state
 * file for the JSON loader, the bytes after it a sequence of operations (allocate,
 * release, new pool, exclusions or in-use list, JSON round trip). Loading must succeed
 * or be refused, never crash; after every operation the invariants hold, else abort(). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_alloc.h"
#include "fuzz_check.h"

#define NKEYS 8

struct env {
	struct arbor_ipv4_prefix pool[4], excl[4];
	size_t npool, nexcl;	/* npool 0: the default pool */
	struct arbor_ipv4_in_use use[6];
	size_t nuse;
};

static const struct arbor_ipv4_prefix default_pool[] = {
	{ 0x0a000000u, 8 }, { 0xac100000u, 12 }, { 0xc0a80000u, 16 },
};

/* The operation bytes, read one at a time (zeros once they run out). */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t next(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* A prefix near 10.0.0.0/16, so that requests, pools and uses collide often. */
static struct arbor_ipv4_prefix prefix_from(struct input *in, unsigned int min_len)
{
	uint32_t addr = 0x0a000000u | (uint32_t)next(in) << 8 | next(in);
	unsigned int len = next(in) % 33;
	if (len < min_len)
		len = min_len;
	if (next(in) == 0xff)
		addr ^= 0x80000000u;	/* now and then far away */
	struct arbor_ipv4_prefix p;
	arbor_ipv4_prefix_covering(&p, addr, len);
	return p;
}

static void key_from(struct input *in, char *key, size_t len)
{
	snprintf(key, len, "k%u", next(in) % NKEYS);
}

static bool own(const struct arbor_ipv4_allocation *x, const struct arbor_ipv4_in_use *u)
{
	return u->owner[0] && strcmp(u->owner, x->key) == 0 && arbor_ipv4_prefix_contains(&x->prefix, &u->prefix);
}

/* How much of x the pool covers equals x's size: x is inside the pool's union. */
static bool inside_pool(const struct env *e, const struct arbor_ipv4_prefix *x)
{
	const struct arbor_ipv4_prefix *pool = e->npool ? e->pool : default_pool;
	size_t npool = e->npool ? e->npool : 3;
	struct arbor_ipv4_prefix parts[4];
	size_t n = 0;
	for (size_t i = 0; i < npool; i++)
		if (arbor_ipv4_prefix_overlaps(x, &pool[i]))
			parts[n++] = arbor_ipv4_prefix_contains(x, &pool[i]) ? pool[i] : *x;
	uint64_t covered = 0, end = 0;
	for (size_t i = 0; i < n; i++) {	/* sort by address, then add up the union */
		for (size_t j = i + 1; j < n; j++)
			if (parts[j].addr < parts[i].addr) {
				struct arbor_ipv4_prefix t = parts[i];
				parts[i] = parts[j];
				parts[j] = t;
			}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = parts[i].addr, hi = lo + ((uint64_t)1 << (32 - parts[i].len));
		if (lo < end)
			lo = end;
		if (hi > lo)
			covered += hi - lo;
		if (hi > end)
			end = hi;
	}
	return covered == (uint64_t)1 << (32 - x->len);
}

/* Conflicts of x, counted the slow way. */
static size_t conflicts_of(const struct env *e, const struct arbor_ipv4_allocation *x)
{
	size_t n = 0;
	for (size_t i = 0; i < e->nuse; i++)
		n += e->use[i].prefix.len > 0 && arbor_ipv4_prefix_overlaps(&x->prefix, &e->use[i].prefix) &&
		     !own(x, &e->use[i]);
	for (size_t i = 0; i < e->nexcl; i++)
		n += arbor_ipv4_prefix_overlaps(&x->prefix, &e->excl[i]);
	return n + !inside_pool(e, &x->prefix);
}

static void check(const struct arbor_ipv4_alloc *a, const struct env *e)
{
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	for (size_t i = 0; i < n; i++) {
		if (!arbor_ipv4_prefix_valid(&list[i].prefix) || list[i].prefix.len == 0)
			violated("allocation %zu invalid", i);
		if (i > 0 && list[i - 1].prefix.addr >= list[i].prefix.addr)
			violated("allocations out of order");
		for (size_t j = i + 1; j < n; j++) {
			if (arbor_ipv4_prefix_overlaps(&list[i].prefix, &list[j].prefix))
				violated("%s overlaps %s", list[i].key, list[j].key);
			if (strcmp(list[i].key, list[j].key) == 0)
				violated("key %s twice", list[i].key);
		}
		if (arbor_ipv4_alloc_find(a, list[i].key) != &list[i])
			violated("find %s", list[i].key);
	}
	struct arbor_ipv4_conflict *c;
	size_t nc, expected = 0;
	if (arbor_ipv4_alloc_conflicts(a, &c, &nc) != 0)
		violated("conflicts failed");
	for (size_t i = 0; i < n; i++)
		expected += conflicts_of(e, &list[i]);
	if (nc != expected)
		violated("%zu conflicts, expected %zu", nc, expected);
	for (size_t i = 0; i < nc; i++) {
		const struct arbor_ipv4_allocation *x = arbor_ipv4_alloc_find(a, c[i].key);
		if (x == NULL || x->prefix.addr != c[i].prefix.addr || x->prefix.len != c[i].prefix.len)
			violated("conflict for %s does not match its allocation", c[i].key);
	}
	free(c);
}

/* The free list, checked on its own terms: smallest first then by address, disjoint,
 * maximal (never both halves of a block), clear of everything taken, inside the pool. */
static void check_free_list(const struct arbor_ipv4_alloc *a, const struct env *e,
			    const struct arbor_ipv4_prefix *blocks, size_t n)
{
	size_t nallocs;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &nallocs);
	for (size_t i = 0; i < n; i++) {
		const struct arbor_ipv4_prefix *b = &blocks[i];
		if (!arbor_ipv4_prefix_valid(b))
			violated("free block %zu invalid", i);
		if (i > 0 && (blocks[i - 1].len < b->len ||
			      (blocks[i - 1].len == b->len && blocks[i - 1].addr >= b->addr)))
			violated("free list out of order at %zu", i);
		for (size_t j = i + 1; j < n; j++) {
			if (arbor_ipv4_prefix_overlaps(b, &blocks[j]))
				violated("free blocks %zu and %zu overlap", i, j);
			if (b->len > 0 && b->len == blocks[j].len && (b->addr ^ blocks[j].addr) == 1u << (32 - b->len))
				violated("free blocks %zu and %zu are halves of one block", i, j);
		}
		for (size_t j = 0; j < e->nexcl; j++)
			if (arbor_ipv4_prefix_overlaps(b, &e->excl[j]))
				violated("free block %zu is excluded", i);
		for (size_t j = 0; j < e->nuse; j++)
			if (e->use[j].prefix.len > 0 && arbor_ipv4_prefix_overlaps(b, &e->use[j].prefix))
				violated("free block %zu is in use", i);
		for (size_t j = 0; j < nallocs; j++)
			if (arbor_ipv4_prefix_overlaps(b, &list[j].prefix))
				violated("free block %zu is allocated", i);
		if (!inside_pool(e, b))
			violated("free block %zu outside the pool", i);
	}
}

static void allocate(struct arbor_ipv4_alloc *a, const struct env *e, struct input *in)
{
	char key[16], err[256];
	key_from(in, key, sizeof key);
	unsigned int len = next(in) % 34;	/* 33 and 0 are invalid */
	const struct arbor_ipv4_allocation *had = arbor_ipv4_alloc_find(a, key);
	struct arbor_ipv4_allocation before = { .prefix = { 0, 0 } };
	if (had)
		before = *had;
	size_t conflicts = had ? conflicts_of(e, had) : 0;
	struct arbor_ipv4_prefix *blocks;
	size_t nblocks;
	if (arbor_ipv4_alloc_free_blocks(a, &blocks, &nblocks) != 0)
		violated("free_blocks failed");
	check_free_list(a, e, blocks, nblocks);
	struct arbor_ipv4_prefix out = { 0, 0 };
	int rc = arbor_ipv4_alloc_allocate(a, key, len, 7, &out, err, sizeof err);
	if (len == 0 || len > 32) {
		if (rc != -EINVAL)
			violated("/%u gave %d", len, rc);
	} else if (had) {
		int want = before.prefix.len != len ? -EEXIST : conflicts ? -EADDRINUSE : 0;
		if (rc != want || out.addr != before.prefix.addr || out.len != before.prefix.len)
			violated("%s asked again for /%u: %d, wanted %d", key, len, rc, want);
	} else {
		size_t i = 0;
		while (i < nblocks && blocks[i].len > len)
			i++;
		if (i == nblocks ? rc != -ENOSPC : rc != 1 || out.addr != blocks[i].addr || out.len != len)
			violated("%s /%u: %d, not the best fit (%s)", key, len, rc, err);
		if (rc == 1) {
			const struct arbor_ipv4_allocation *x = arbor_ipv4_alloc_find(a, key);
			if (x == NULL || conflicts_of(e, x) != 0)
				violated("new allocation for %s collides", key);
			struct arbor_ipv4_prefix again;
			if (arbor_ipv4_alloc_allocate(a, key, len, 8, &again, err, sizeof err) != 0 ||
			    again.addr != out.addr)
				violated("asking again for %s", key);
		}
	}
	free(blocks);
}

/* to_json then from_json into a copy must give the same allocations. */
static void round_trip(const struct arbor_ipv4_alloc *a)
{
	char err[256];
	cJSON *doc = arbor_ipv4_alloc_to_json(a);
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON *back = text ? cJSON_Parse(text) : NULL;
	struct arbor_ipv4_alloc *b = arbor_ipv4_alloc_new();
	if (back == NULL || b == NULL || arbor_ipv4_alloc_from_json(b, back, err, sizeof err) != 0)
		violated("round trip: %s", back ? err : "no document");
	size_t na, nb;
	const struct arbor_ipv4_allocation *la = arbor_ipv4_alloc_list(a, &na), *lb = arbor_ipv4_alloc_list(b, &nb);
	if (na != nb)
		violated("round trip: %zu allocations became %zu", na, nb);
	for (size_t i = 0; i < na; i++)
		if (strcmp(la[i].key, lb[i].key) != 0 || la[i].prefix.addr != lb[i].prefix.addr ||
		    la[i].prefix.len != lb[i].prefix.len || la[i].allocated_at != lb[i].allocated_at)
			violated("round trip changed %s", la[i].key);
	arbor_ipv4_alloc_free(b);
	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t json_len = nul ? (size_t)(nul - data) : size;
	struct input in = { nul ? nul + 1 : data + size, nul ? size - json_len - 1 : 0 };
	char err[256];
	struct env e = { .npool = 0 };
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	if (a == NULL)
		return 0;
	cJSON *doc = cJSON_ParseWithLength((const char *)data, json_len);
	if (doc != NULL) {
		int rc = arbor_ipv4_alloc_from_json(a, doc, err, sizeof err);
		if (rc != 0 && (rc != -EINVAL || err[0] == '\0'))
			violated("load failed without a message: %d", rc);
		if (rc != 0 && arbor_ipv4_alloc_list(a, &(size_t){ 0 }) != NULL)
			violated("a refused load changed the allocations");
		cJSON_Delete(doc);
	}
	check(a, &e);
	round_trip(a);
	for (unsigned int ops = 0; in.left > 0 && ops < 200; ops++) {
		char key[16];
		switch (next(&in) % 7) {
		case 0:
		case 1:
			allocate(a, &e, &in);
			break;
		case 2:
			key_from(&in, key, sizeof key);
			if (arbor_ipv4_alloc_release(a, key) == 0 && arbor_ipv4_alloc_find(a, key) != NULL)
				violated("release kept %s", key);
			break;
		case 3:
			e.npool = next(&in) % 4;
			for (size_t i = 0; i < e.npool; i++)
				e.pool[i] = prefix_from(&in, 8);
			if (arbor_ipv4_alloc_set_pool(a, e.pool, e.npool, err, sizeof err) != 0)
				violated("set_pool: %s", err);
			break;
		case 4:
			e.nexcl = next(&in) % 5;
			for (size_t i = 0; i < e.nexcl; i++)
				e.excl[i] = prefix_from(&in, 0);
			if (arbor_ipv4_alloc_set_excluded(a, e.excl, e.nexcl, err, sizeof err) != 0)
				violated("set_excluded: %s", err);
			break;
		case 5:
			e.nuse = next(&in) % 7;
			for (size_t i = 0; i < e.nuse; i++) {
				uint8_t owner = next(&in);
				e.use[i].prefix = prefix_from(&in, 0);
				if (owner < 128)
					snprintf(e.use[i].owner, sizeof(e.use[i].owner), "k%u", owner % NKEYS);
				else
					e.use[i].owner[0] = '\0';
			}
			if (arbor_ipv4_alloc_set_in_use(a, e.use, e.nuse, err, sizeof err) != 0)
				violated("set_in_use: %s", err);
			break;
		case 6:
			round_trip(a);
			break;
		}
		check(a, &e);
	}
	arbor_ipv4_alloc_free(a);
	return 0;
}
