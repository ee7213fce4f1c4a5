/* The IPv4 subnet allocator (see ipv4_alloc.h). Free space is computed afresh for each
 * request: pool and unavailable prefixes become sorted, merged address spans, one sweep
 * subtracts them, and the remaining spans are cut into maximal aligned CIDR blocks. */
#include "ipv4_alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "xalloc.h"

#define MAX_SAFE_INTEGER 9007199254740992.0	/* 2^53: integers a JSON double holds */

struct arbor_ipv4_alloc {
	struct arbor_ipv4_prefix *pool;
	size_t npool;
	struct arbor_ipv4_prefix *excluded;
	size_t nexcluded;
	struct arbor_ipv4_in_use *in_use;
	size_t nin_use;
	struct arbor_ipv4_allocation *allocs;	/* ordered by address, never overlapping */
	size_t nallocs, allocs_cap;
};

static const struct arbor_ipv4_prefix default_pool[] = {
	{ 0x0a000000u, 8 },	/* 10.0.0.0/8 */
	{ 0xac100000u, 12 },	/* 172.16.0.0/12 */
	{ 0xc0a80000u, 16 },	/* 192.168.0.0/16 */
};

__attribute__((format(printf, 3, 4)))
static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- prefixes ---- */

static uint32_t netmask(unsigned int len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* First address and one past the last, as 64-bit numbers so /0 and 255.255.255.255 fit. */
static uint64_t prefix_lo(const struct arbor_ipv4_prefix *p)
{
	return p->addr;
}

static uint64_t prefix_hi(const struct arbor_ipv4_prefix *p)
{
	return (uint64_t)p->addr + ((uint64_t)1 << (32 - p->len));
}

bool arbor_ipv4_prefix_valid(const struct arbor_ipv4_prefix *p)
{
	return p->len <= 32 && (p->addr & ~netmask(p->len)) == 0;
}

bool arbor_ipv4_prefix_overlaps(const struct arbor_ipv4_prefix *a, const struct arbor_ipv4_prefix *b)
{
	return prefix_lo(a) < prefix_hi(b) && prefix_lo(b) < prefix_hi(a);
}

bool arbor_ipv4_prefix_contains(const struct arbor_ipv4_prefix *outer,
				const struct arbor_ipv4_prefix *inner)
{
	return prefix_lo(outer) <= prefix_lo(inner) && prefix_hi(inner) <= prefix_hi(outer);
}

int arbor_ipv4_prefix_covering(struct arbor_ipv4_prefix *p, uint32_t addr, unsigned int len)
{
	if (len > 32)
		return -EINVAL;
	p->addr = addr & netmask(len);
	p->len = len;
	return 0;
}

/* A decimal number of at most max_digits digits, no sign, no leading zero (but "0"). */
static const char *parse_decimal(const char *s, unsigned int max_digits, unsigned int *value)
{
	unsigned int v = 0, digits = 0;
	while (*s >= '0' && *s <= '9') {
		if (digits == max_digits || (digits == 1 && v == 0))
			return NULL;
		v = v * 10 + (unsigned int)(*s - '0');
		digits++;
		s++;
	}
	if (digits == 0)
		return NULL;
	*value = v;
	return s;
}

/* Parses text into *p; on failure says why ("not a prefix", ...) and returns -EINVAL. */
static int parse_prefix(struct arbor_ipv4_prefix *p, const char *text, const char **why)
{
	uint32_t addr = 0;
	const char *s = text;
	*why = "not a prefix a.b.c.d/len";
	for (int i = 0; i < 4; i++) {
		unsigned int octet;
		s = parse_decimal(s, 3, &octet);
		if (s == NULL || octet > 255)
			return -EINVAL;
		addr = addr << 8 | octet;
		if (*s != (i < 3 ? '.' : '/'))
			return -EINVAL;
		s++;
	}
	unsigned int len;
	s = parse_decimal(s, 2, &len);
	if (s == NULL || *s != '\0')
		return -EINVAL;
	if (len > 32) {
		*why = "prefix length over 32";
		return -EINVAL;
	}
	struct arbor_ipv4_prefix parsed = { addr, len };
	if (!arbor_ipv4_prefix_valid(&parsed)) {
		*why = "host bits set";
		return -EINVAL;
	}
	*p = parsed;
	return 0;
}

int arbor_ipv4_prefix_parse(struct arbor_ipv4_prefix *p, const char *text)
{
	const char *why;
	return text == NULL ? -EINVAL : parse_prefix(p, text, &why);
}

const char *arbor_ipv4_prefix_format(const struct arbor_ipv4_prefix *p, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%u.%u.%u.%u/%u", p->addr >> 24, (p->addr >> 16) & 0xff,
		 (p->addr >> 8) & 0xff, p->addr & 0xff, p->len);
	return buf;
}

const char *arbor_ipv4_conflict_kind_name(enum arbor_ipv4_conflict_kind kind)
{
	switch (kind) {
	case ARBOR_IPV4_CONFLICT_IN_USE:
		return "in_use";
	case ARBOR_IPV4_CONFLICT_EXCLUDED:
		return "excluded";
	case ARBOR_IPV4_CONFLICT_OUTSIDE_POOL:
		return "outside_pool";
	}
	return "unknown";
}

/* ---- address spans ---- */

/* [lo, hi): a run of addresses. */
struct span {
	uint64_t lo, hi;
};

static int compare_spans(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sorts spans and merges those that overlap or touch; returns the new count. */
static size_t merge_spans(struct span *spans, size_t n)
{
	if (n == 0)
		return 0;
	qsort(spans, n, sizeof(*spans), compare_spans);
	size_t out = 0;
	for (size_t i = 1; i < n; i++) {
		if (spans[i].lo <= spans[out].hi) {
			if (spans[i].hi > spans[out].hi)
				spans[out].hi = spans[i].hi;
		} else {
			spans[++out] = spans[i];
		}
	}
	return out + 1;
}

static struct span span_of(const struct arbor_ipv4_prefix *p)
{
	return (struct span){ prefix_lo(p), prefix_hi(p) };
}

/* The pool as merged spans (malloc'd; NULL with *n = 0 when empty). 0 or -ENOMEM. */
static int pool_spans(const struct arbor_ipv4_alloc *a, struct span **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (a->npool == 0)
		return 0;
	struct span *spans = xmalloc(a->npool * sizeof(*spans));
	for (size_t i = 0; i < a->npool; i++)
		spans[i] = span_of(&a->pool[i]);
	*out = spans;
	*n = merge_spans(spans, a->npool);
	return 0;
}

/* Exclusions, in-use prefixes (but 0.0.0.0/0) and allocations as merged spans. */
static int taken_spans(const struct arbor_ipv4_alloc *a, struct span **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t total = a->nexcluded + a->nin_use + a->nallocs;
	if (total == 0)
		return 0;
	struct span *spans = xmalloc(total * sizeof(*spans));
	size_t used = 0;
	for (size_t i = 0; i < a->nexcluded; i++)
		spans[used++] = span_of(&a->excluded[i]);
	for (size_t i = 0; i < a->nin_use; i++)
		if (a->in_use[i].prefix.len > 0)
			spans[used++] = span_of(&a->in_use[i].prefix);
	for (size_t i = 0; i < a->nallocs; i++)
		spans[used++] = span_of(&a->allocs[i].prefix);
	*out = spans;
	*n = merge_spans(spans, used);
	return 0;
}

/* Pool minus taken: both sorted and merged, so one sweep does it. */
static int free_spans(const struct arbor_ipv4_alloc *a, struct span **out, size_t *n)
{
	struct span *pool, *taken;
	size_t npool, ntaken;
	*out = NULL;
	*n = 0;
	if (pool_spans(a, &pool, &npool) < 0)
		return -ENOMEM;
	if (taken_spans(a, &taken, &ntaken) < 0) {
		free(pool);
		return -ENOMEM;
	}
	/* Each taken span splits at most one pool span in two. */
	struct span *result = npool ? xmalloc((npool + ntaken) * sizeof(*result)) : NULL;
	size_t used = 0, t = 0;
	for (size_t i = 0; i < npool; i++) {
		uint64_t lo = pool[i].lo, hi = pool[i].hi;
		while (t < ntaken && taken[t].hi <= lo)
			t++;
		for (size_t k = t; k < ntaken && taken[k].lo < hi && lo < hi; k++) {
			if (taken[k].lo > lo)
				result[used++] = (struct span){ lo, taken[k].lo };
			if (taken[k].hi > lo)
				lo = taken[k].hi;
		}
		if (lo < hi)
			result[used++] = (struct span){ lo, hi };
	}
	free(pool);
	free(taken);
	if (used == 0) {
		free(result);
		result = NULL;
	}
	*out = result;
	*n = used;
	return 0;
}

/* Cuts [lo, hi) into its maximal aligned blocks, lowest first, appending to out (which
 * has room: at most 64 blocks per span). Returns the number appended. */
static size_t span_blocks(uint64_t lo, uint64_t hi, struct arbor_ipv4_prefix *out)
{
	size_t n = 0;
	while (lo < hi) {
		unsigned int len = 0;
		/* The largest block aligned at lo, shrunk until it fits below hi. */
		while (len < 32 && ((lo & (((uint64_t)1 << (32 - len)) - 1)) != 0 ||
				    lo + ((uint64_t)1 << (32 - len)) > hi))
			len++;
		out[n++] = (struct arbor_ipv4_prefix){ (uint32_t)lo, len };
		lo += (uint64_t)1 << (32 - len);
	}
	return n;
}

/* Smallest block first (longest prefix), equal sizes by address. */
static int compare_fit(const void *x, const void *y)
{
	const struct arbor_ipv4_prefix *a = x, *b = y;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

int arbor_ipv4_alloc_free_blocks(const struct arbor_ipv4_alloc *a, struct arbor_ipv4_prefix **out,
				 size_t *n)
{
	struct span *spans;
	size_t nspans;
	*out = NULL;
	*n = 0;
	if (free_spans(a, &spans, &nspans) < 0)
		return -ENOMEM;
	if (nspans == 0)
		return 0;
	struct arbor_ipv4_prefix *blocks = xmalloc(nspans * 64 * sizeof(*blocks));
	size_t used = 0;
	for (size_t i = 0; i < nspans; i++)
		used += span_blocks(spans[i].lo, spans[i].hi, blocks + used);
	free(spans);
	qsort(blocks, used, sizeof(*blocks), compare_fit);
	struct arbor_ipv4_prefix *shrunk = xrealloc(blocks, used * sizeof(*blocks));
	*out = shrunk ? shrunk : blocks;
	*n = used;
	return 0;
}

/* ---- the allocator ---- */

struct arbor_ipv4_alloc *arbor_ipv4_alloc_new(void)
{
	struct arbor_ipv4_alloc *a = xcalloc(1, sizeof(*a));
	if (arbor_ipv4_alloc_set_pool(a, NULL, 0, NULL, 0) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

void arbor_ipv4_alloc_free(struct arbor_ipv4_alloc *a)
{
	if (a == NULL)
		return;
	free(a->pool);
	free(a->excluded);
	free(a->in_use);
	free(a->allocs);
	free(a);
}

/* Checks list[0..n) and copies it into a malloc'd array (NULL when n is 0). */
static int copy_prefixes(const struct arbor_ipv4_prefix *list, size_t n, const char *what,
			 struct arbor_ipv4_prefix **out, char *err, size_t errlen)
{
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		if (!arbor_ipv4_prefix_valid(&list[i])) {
			struct arbor_ipv4_prefix shown = { list[i].addr, list[i].len > 32 ? 99 : list[i].len };
			set_error(err, errlen, "%s[%zu]: %s %s", what, i,
				  list[i].len > 32 ? "prefix length over 32 in" : "host bits set in",
				  arbor_ipv4_prefix_format(&shown, text, sizeof(text)));
			return -EINVAL;
		}
	}
	*out = NULL;
	if (n == 0)
		return 0;
	*out = xmalloc(n * sizeof(**out));
	memcpy(*out, list, n * sizeof(**out));
	return 0;
}

int arbor_ipv4_alloc_set_pool(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_prefix *pool,
			      size_t n, char *err, size_t errlen)
{
	if (n == 0) {
		pool = default_pool;
		n = sizeof(default_pool) / sizeof(default_pool[0]);
	}
	struct arbor_ipv4_prefix *copy;
	int rc = copy_prefixes(pool, n, "pool", &copy, err, errlen);
	if (rc < 0)
		return rc;
	free(a->pool);
	a->pool = copy;
	a->npool = n;
	return 0;
}

int arbor_ipv4_alloc_set_excluded(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_prefix *excluded,
				  size_t n, char *err, size_t errlen)
{
	struct arbor_ipv4_prefix *copy;
	int rc = copy_prefixes(excluded, n, "excluded", &copy, err, errlen);
	if (rc < 0)
		return rc;
	free(a->excluded);
	a->excluded = copy;
	a->nexcluded = n;
	return 0;
}

int arbor_ipv4_alloc_set_in_use(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_in_use *in_use,
				size_t n, char *err, size_t errlen)
{
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
	for (size_t i = 0; i < n; i++) {
		const struct arbor_ipv4_prefix *p = &in_use[i].prefix;
		if (!arbor_ipv4_prefix_valid(p)) {
			struct arbor_ipv4_prefix shown = { p->addr, p->len > 32 ? 99 : p->len };
			set_error(err, errlen, "in_use[%zu]: %s %s", i,
				  p->len > 32 ? "prefix length over 32 in" : "host bits set in",
				  arbor_ipv4_prefix_format(&shown, text, sizeof(text)));
			return -EINVAL;
		}
		if (memchr(in_use[i].owner, '\0', sizeof(in_use[i].owner)) == NULL) {
			set_error(err, errlen, "in_use[%zu]: owner not terminated", i);
			return -EINVAL;
		}
	}
	struct arbor_ipv4_in_use *copy = NULL;
	if (n > 0) {
		copy = xmalloc(n * sizeof(*copy));
		memcpy(copy, in_use, n * sizeof(*copy));
	}
	free(a->in_use);
	a->in_use = copy;
	a->nin_use = n;
	return 0;
}

/* 1..ARBOR_IPV4_KEY_MAX printable ASCII characters, no spaces; "" when fine, else why. */
static const char *key_problem(const char *key)
{
	if (key == NULL || key[0] == '\0')
		return "empty key";
	size_t len = 0;
	for (const unsigned char *c = (const unsigned char *)key; *c; c++, len++) {
		if (len == ARBOR_IPV4_KEY_MAX)
			return "key longer than 255 bytes";
		if (*c <= ' ' || *c >= 0x7f)
			return "key has a space, control or non-ASCII character";
	}
	return "";
}

static ssize_t find_index(const struct arbor_ipv4_alloc *a, const char *key)
{
	for (size_t i = 0; i < a->nallocs; i++)
		if (strcmp(a->allocs[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

const struct arbor_ipv4_allocation *arbor_ipv4_alloc_find(const struct arbor_ipv4_alloc *a,
							 const char *key)
{
	if (key == NULL)
		return NULL;
	ssize_t i = find_index(a, key);
	return i < 0 ? NULL : &a->allocs[i];
}

const struct arbor_ipv4_allocation *arbor_ipv4_alloc_list(const struct arbor_ipv4_alloc *a, size_t *n)
{
	*n = a->nallocs;
	return a->allocs;
}

/* Is in-use u the allocation x itself applied (an address or route its owner made)? */
static bool own_use(const struct arbor_ipv4_allocation *x, const struct arbor_ipv4_in_use *u)
{
	return u->owner[0] != '\0' && strcmp(u->owner, x->key) == 0 &&
	       arbor_ipv4_prefix_contains(&x->prefix, &u->prefix);
}

static bool inside_pool(const struct span *pool, size_t npool, const struct arbor_ipv4_prefix *p)
{
	struct span s = span_of(p);
	for (size_t i = 0; i < npool; i++)
		if (pool[i].lo <= s.lo && s.hi <= pool[i].hi)
			return true;
	return false;
}

/* A growable list of conflicts. */
struct conflicts {
	struct arbor_ipv4_conflict *v;
	size_t n, cap;
};

static void add_conflict(struct conflicts *c, enum arbor_ipv4_conflict_kind kind,
			 const struct arbor_ipv4_allocation *x, const struct arbor_ipv4_prefix *with,
			 const char *owner)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct arbor_ipv4_conflict *v = xrealloc(c->v, cap * sizeof(*v));
		c->v = v;
		c->cap = cap;
	}
	struct arbor_ipv4_conflict *e = &c->v[c->n++];
	e->kind = kind;
	memcpy(e->key, x->key, sizeof(e->key));
	e->prefix = x->prefix;
	e->with = *with;
	snprintf(e->owner, sizeof(e->owner), "%s", owner);
}

/* Everything x collides with, into c. pool is the merged pool. */
static void conflicts_of(const struct arbor_ipv4_alloc *a, const struct span *pool, size_t npool,
			 const struct arbor_ipv4_allocation *x, struct conflicts *c)
{
	for (size_t i = 0; i < a->nin_use; i++) {
		const struct arbor_ipv4_in_use *u = &a->in_use[i];
		if (u->prefix.len > 0 && arbor_ipv4_prefix_overlaps(&x->prefix, &u->prefix) &&
		    !own_use(x, u))
			add_conflict(c, ARBOR_IPV4_CONFLICT_IN_USE, x, &u->prefix, u->owner);
	}
	for (size_t i = 0; i < a->nexcluded; i++)
		if (arbor_ipv4_prefix_overlaps(&x->prefix, &a->excluded[i]))
			add_conflict(c, ARBOR_IPV4_CONFLICT_EXCLUDED, x, &a->excluded[i], "");
	if (!inside_pool(pool, npool, &x->prefix))
		add_conflict(c, ARBOR_IPV4_CONFLICT_OUTSIDE_POOL, x, &x->prefix, "");
}

int arbor_ipv4_alloc_conflicts(const struct arbor_ipv4_alloc *a, struct arbor_ipv4_conflict **out,
			       size_t *n)
{
	*out = NULL;
	*n = 0;
	struct span *pool;
	size_t npool;
	if (pool_spans(a, &pool, &npool) < 0)
		return -ENOMEM;
	struct conflicts c = { 0 };
	for (size_t i = 0; i < a->nallocs; i++)
		conflicts_of(a, pool, npool, &a->allocs[i], &c);
	free(pool);
	*out = c.v;
	*n = c.n;
	return 0;
}

/* Describes x's first conflict into err. */
static int describe_conflict(const struct arbor_ipv4_alloc *a, const struct arbor_ipv4_allocation *x,
			     char *err, size_t errlen)
{
	struct span *pool;
	size_t npool;
	if (pool_spans(a, &pool, &npool) < 0)
		return -ENOMEM;
	struct conflicts c = { 0 };
	conflicts_of(a, pool, npool, x, &c);
	free(pool);
	if (c.n == 0)
		return 0;
	char mine[ARBOR_IPV4_PREFIX_TEXT_MAX], with[ARBOR_IPV4_PREFIX_TEXT_MAX];
	arbor_ipv4_prefix_format(&x->prefix, mine, sizeof(mine));
	arbor_ipv4_prefix_format(&c.v[0].with, with, sizeof(with));
	switch (c.v[0].kind) {
	case ARBOR_IPV4_CONFLICT_IN_USE:
		set_error(err, errlen, "%s of %s collides with %s in use%s%s", mine, x->key, with,
			  c.v[0].owner[0] ? " on " : "", c.v[0].owner);
		break;
	case ARBOR_IPV4_CONFLICT_EXCLUDED:
		set_error(err, errlen, "%s of %s collides with the exclusion %s", mine, x->key, with);
		break;
	case ARBOR_IPV4_CONFLICT_OUTSIDE_POOL:
		set_error(err, errlen, "%s of %s is outside the pool", mine, x->key);
		break;
	}
	free(c.v);
	return -EADDRINUSE;
}

/* Inserts x keeping the array ordered by address. */
static int insert_allocation(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_allocation *x)
{
	if (a->nallocs == a->allocs_cap) {
		size_t cap = a->allocs_cap ? a->allocs_cap * 2 : 8;
		struct arbor_ipv4_allocation *v = xrealloc(a->allocs, cap * sizeof(*v));
		a->allocs = v;
		a->allocs_cap = cap;
	}
	size_t at = a->nallocs;
	while (at > 0 && a->allocs[at - 1].prefix.addr > x->prefix.addr)
		at--;
	memmove(&a->allocs[at + 1], &a->allocs[at], (a->nallocs - at) * sizeof(*x));
	a->allocs[at] = *x;
	a->nallocs++;
	return 0;
}

int arbor_ipv4_alloc_allocate(struct arbor_ipv4_alloc *a, const char *key, unsigned int prefixlen,
			      int64_t now, struct arbor_ipv4_prefix *out, char *err, size_t errlen)
{
	const char *problem = key_problem(key);
	if (problem[0]) {
		set_error(err, errlen, "%s", problem);
		return -EINVAL;
	}
	if (prefixlen < 1 || prefixlen > 32) {
		set_error(err, errlen, "%s: prefix length %u is not 1..32", key, prefixlen);
		return -EINVAL;
	}
	if (now < 0 || (double)now > MAX_SAFE_INTEGER) {
		set_error(err, errlen, "%s: time %lld out of range", key, (long long)now);
		return -EINVAL;
	}
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
	ssize_t have = find_index(a, key);
	if (have >= 0) {
		const struct arbor_ipv4_allocation *x = &a->allocs[have];
		*out = x->prefix;
		if (x->prefix.len != prefixlen) {
			set_error(err, errlen, "%s holds %s, not a /%u", key,
				  arbor_ipv4_prefix_format(&x->prefix, text, sizeof(text)), prefixlen);
			return -EEXIST;
		}
		int rc = describe_conflict(a, x, err, errlen);
		if (rc < 0 && rc != -EADDRINUSE)
			set_error(err, errlen, "%s: out of memory", key);
		return rc;
	}
	if (a->nallocs >= ARBOR_IPV4_MAX_ALLOCATIONS) {
		set_error(err, errlen, "%s: already %d allocations", key, ARBOR_IPV4_MAX_ALLOCATIONS);
		return -ENOSPC;
	}
	struct arbor_ipv4_prefix *blocks;
	size_t nblocks;
	if (arbor_ipv4_alloc_free_blocks(a, &blocks, &nblocks) < 0) {
		set_error(err, errlen, "%s: out of memory", key);
		return -ENOMEM;
	}
	/* Smallest first, so the first block large enough is the best fit. */
	size_t i = 0;
	while (i < nblocks && blocks[i].len > prefixlen)
		i++;
	if (i == nblocks) {
		free(blocks);
		set_error(err, errlen, "%s: no free /%u left in the pool", key, prefixlen);
		return -ENOSPC;
	}
	struct arbor_ipv4_allocation x = { .prefix = { blocks[i].addr, prefixlen },
					   .allocated_at = now };
	free(blocks);
	snprintf(x.key, sizeof(x.key), "%s", key);
	if (insert_allocation(a, &x) < 0) {
		set_error(err, errlen, "%s: out of memory", key);
		return -ENOMEM;
	}
	*out = x.prefix;
	return 1;
}

int arbor_ipv4_alloc_insert(struct arbor_ipv4_alloc *a, const char *key, const struct arbor_ipv4_prefix *prefix,
			    int64_t allocated_at, char *err, size_t errlen)
{
	const char *problem = key_problem(key);
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX], other[ARBOR_IPV4_PREFIX_TEXT_MAX];
	if (problem[0]) {
		set_error(err, errlen, "%s", problem);
		return -EINVAL;
	}
	if (!arbor_ipv4_prefix_valid(prefix) || prefix->len == 0) {
		set_error(err, errlen, "%s: not a prefix that can be allocated", key);
		return -EINVAL;
	}
	if (allocated_at < 0 || (double)allocated_at > MAX_SAFE_INTEGER) {
		set_error(err, errlen, "%s: time %lld out of range", key, (long long)allocated_at);
		return -EINVAL;
	}
	if (find_index(a, key) >= 0) {
		set_error(err, errlen, "%s holds a subnet already", key);
		return -EEXIST;
	}
	if (a->nallocs >= ARBOR_IPV4_MAX_ALLOCATIONS) {
		set_error(err, errlen, "%s: already %d allocations", key, ARBOR_IPV4_MAX_ALLOCATIONS);
		return -ENOSPC;
	}
	/* Ordered by address and never overlapping: only the neighbours of the
	 * insertion point can overlap. */
	size_t lo = 0, hi = a->nallocs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->allocs[mid].prefix.addr < prefix->addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo > 0 ? lo - 1 : 0; i < a->nallocs && i <= lo; i++) {
		if (arbor_ipv4_prefix_overlaps(&a->allocs[i].prefix, prefix)) {
			set_error(err, errlen, "%s: %s overlaps %s of %s", key,
				  arbor_ipv4_prefix_format(prefix, text, sizeof(text)),
				  arbor_ipv4_prefix_format(&a->allocs[i].prefix, other, sizeof(other)), a->allocs[i].key);
			return -EADDRINUSE;
		}
	}
	struct arbor_ipv4_allocation x = { .prefix = *prefix, .allocated_at = allocated_at };
	snprintf(x.key, sizeof(x.key), "%s", key);
	return insert_allocation(a, &x);
}

int arbor_ipv4_alloc_release(struct arbor_ipv4_alloc *a, const char *key)
{
	if (key_problem(key)[0])
		return -EINVAL;
	ssize_t i = find_index(a, key);
	if (i < 0)
		return -ENOENT;
	memmove(&a->allocs[i], &a->allocs[i + 1], (a->nallocs - (size_t)i - 1) * sizeof(a->allocs[0]));
	a->nallocs--;
	return 0;
}

/* ---- JSON ---- */

cJSON *arbor_ipv4_alloc_to_json(const struct arbor_ipv4_alloc *a)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	if (doc == NULL || list == NULL || !cJSON_AddItemToObject(doc, "version", cJSON_CreateNumber(1))) {
		cJSON_Delete(doc);
		cJSON_Delete(list);
		return NULL;
	}
	cJSON_AddItemToObject(doc, "allocations", list);
	char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
	for (size_t i = 0; i < a->nallocs; i++) {
		const struct arbor_ipv4_allocation *x = &a->allocs[i];
		cJSON *item = cJSON_CreateObject();
		if (item == NULL || !cJSON_AddItemToArray(list, item) ||
		    cJSON_AddStringToObject(item, "key", x->key) == NULL ||
		    cJSON_AddStringToObject(item, "prefix",
					    arbor_ipv4_prefix_format(&x->prefix, text, sizeof(text))) == NULL ||
		    cJSON_AddNumberToObject(item, "allocated_at", (double)x->allocated_at) == NULL) {
			cJSON_Delete(doc);
			return NULL;
		}
	}
	return doc;
}

/* Finds each of names[] in obj, rejecting other members, repeats and absences. */
static bool members(const cJSON *obj, const char *where, const char *const names[], const cJSON *found[],
		    size_t n, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		set_error(err, errlen, "%s: not an object", where);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		found[i] = NULL;
	for (const cJSON *m = obj->child; m != NULL; m = m->next) {
		size_t i = 0;
		while (i < n && (m->string == NULL || strcmp(m->string, names[i]) != 0))
			i++;
		if (i == n) {
			set_error(err, errlen, "%s: unknown member \"%.64s\"", where, m->string ? m->string : "");
			return false;
		}
		if (found[i] != NULL) {
			set_error(err, errlen, "%s: \"%s\" given twice", where, names[i]);
			return false;
		}
		found[i] = m;
	}
	for (size_t i = 0; i < n; i++) {
		if (found[i] == NULL) {
			set_error(err, errlen, "%s: \"%s\" missing", where, names[i]);
			return false;
		}
	}
	return true;
}

static int compare_keys(const void *x, const void *y)
{
	const struct arbor_ipv4_allocation *a = x, *b = y;
	return strcmp(a->key, b->key);
}

static int compare_addrs(const void *x, const void *y)
{
	const struct arbor_ipv4_allocation *a = x, *b = y;
	return a->prefix.addr < b->prefix.addr ? -1 : a->prefix.addr > b->prefix.addr;
}

/* One element of "allocations", checked, into *x. */
static bool parse_allocation(const cJSON *item, size_t index, struct arbor_ipv4_allocation *x,
			     char *err, size_t errlen)
{
	static const char *const names[] = { "key", "prefix", "allocated_at" };
	const cJSON *found[3];
	char where[64];
	snprintf(where, sizeof(where), "allocations[%zu]", index);
	if (!members(item, where, names, found, 3, err, errlen))
		return false;
	if (!cJSON_IsString(found[0])) {
		set_error(err, errlen, "%s.key: not a string", where);
		return false;
	}
	const char *problem = key_problem(found[0]->valuestring);
	if (problem[0]) {
		set_error(err, errlen, "%s.key: %s", where, problem);
		return false;
	}
	snprintf(x->key, sizeof(x->key), "%s", found[0]->valuestring);
	if (!cJSON_IsString(found[1])) {
		set_error(err, errlen, "%s.prefix: not a string", where);
		return false;
	}
	const char *why;
	if (parse_prefix(&x->prefix, found[1]->valuestring, &why) < 0) {
		set_error(err, errlen, "%s.prefix: %s in \"%.40s\"", where, why, found[1]->valuestring);
		return false;
	}
	if (x->prefix.len == 0) {
		set_error(err, errlen, "%s.prefix: a /0 cannot be allocated", where);
		return false;
	}
	double t = cJSON_IsNumber(found[2]) ? found[2]->valuedouble : -1;
	if (!(t >= 0 && t <= MAX_SAFE_INTEGER) || t != (double)(int64_t)t) {
		set_error(err, errlen, "%s.allocated_at: not a whole number of seconds 0..2^53", where);
		return false;
	}
	x->allocated_at = (int64_t)t;
	return true;
}

int arbor_ipv4_alloc_from_json(struct arbor_ipv4_alloc *a, const cJSON *doc, char *err, size_t errlen)
{
	static const char *const names[] = { "version", "allocations" };
	const cJSON *found[2];
	if (doc == NULL) {
		set_error(err, errlen, "no document");
		return -EINVAL;
	}
	if (!members(doc, "state", names, found, 2, err, errlen))
		return -EINVAL;
	if (!cJSON_IsNumber(found[0]) || found[0]->valuedouble != 1) {
		set_error(err, errlen, "version: not 1");
		return -EINVAL;
	}
	if (!cJSON_IsArray(found[1])) {
		set_error(err, errlen, "allocations: not an array");
		return -EINVAL;
	}
	size_t n = 0;
	for (const cJSON *item = found[1]->child; item != NULL; item = item->next) {
		if (++n > ARBOR_IPV4_MAX_ALLOCATIONS) {
			set_error(err, errlen, "allocations: more than %d", ARBOR_IPV4_MAX_ALLOCATIONS);
			return -EINVAL;
		}
	}
	struct arbor_ipv4_allocation *v = n ? xcalloc(n, sizeof(*v)) : NULL;
	size_t i = 0;
	for (const cJSON *item = found[1]->child; item != NULL; item = item->next, i++) {
		if (!parse_allocation(item, i, &v[i], err, errlen)) {
			free(v);
			return -EINVAL;
		}
	}
	char one[ARBOR_IPV4_PREFIX_TEXT_MAX], other[ARBOR_IPV4_PREFIX_TEXT_MAX];
	if (n > 1) {
		qsort(v, n, sizeof(*v), compare_keys);
		for (i = 1; i < n; i++) {
			if (strcmp(v[i - 1].key, v[i].key) == 0) {
				set_error(err, errlen, "allocations: key \"%s\" given twice", v[i].key);
				free(v);
				return -EINVAL;
			}
		}
		qsort(v, n, sizeof(*v), compare_addrs);
		for (i = 1; i < n; i++) {
			if (arbor_ipv4_prefix_overlaps(&v[i - 1].prefix, &v[i].prefix)) {
				set_error(err, errlen, "allocations: %s of %s overlaps %s of %s",
					  arbor_ipv4_prefix_format(&v[i - 1].prefix, one, sizeof(one)),
					  v[i - 1].key,
					  arbor_ipv4_prefix_format(&v[i].prefix, other, sizeof(other)), v[i].key);
				free(v);
				return -EINVAL;
			}
		}
	}
	free(a->allocs);
	a->allocs = v;
	a->nallocs = a->allocs_cap = n;
	return 0;
}
