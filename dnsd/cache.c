/* The answer cache (cache.h): a chained hash table for lookups and a doubly linked
 * list in recency order for LRU eviction. Each entry is one allocation holding its
 * key name, the offsets of the TTL fields to rewrite on a hit and the response.
 * The records are walked once when stored (so a hit costs a copy and a few 32-bit
 * writes, not a parse); the walk has no limit on the record count, unlike
 * arbor_dns_parse's stored records, which is used only to validate the message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "byteorder.h"
#include "dname.h"
#include "dns_wire.h"
#include "xalloc.h"

struct centry {
	struct centry *hnext;       /* hash chain */
	struct centry *prev, *next; /* recency list: c->head is the most recent */
	uint32_t hash;
	uint16_t qtype, qclass;
	uint8_t kind, name_len;
	int64_t stored, expires;    /* ms */
	size_t cost;                /* what it counts against the budget */
	size_t nttl;                /* TTL fields, their offsets as 16-bit big-endian in data */
	size_t len;                 /* the response */
	uint8_t data[];             /* name, then offsets, then the response */
};

struct cache {
	struct centry **buckets;
	size_t nbuckets; /* a power of two */
	struct centry *head, *tail;
	struct cache_stats st;
};

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* FNV-1a over the lower-cased key. */
static uint32_t key_hash(uint8_t kind, const uint8_t *name, size_t len, uint16_t qtype, uint16_t qclass)
{
	uint8_t tail[5] = { kind, (uint8_t)(qtype >> 8), (uint8_t)qtype, (uint8_t)(qclass >> 8), (uint8_t)qclass };
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	for (size_t i = 0; i < sizeof tail; i++)
		h = (h ^ tail[i]) * 16777619u;
	return h;
}

struct cache *cache_new(size_t max_bytes, uint32_t max_ttl)
{
	struct cache *c = xcalloc(1, sizeof *c);
	c->nbuckets = 64;
	c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
	c->st.max_bytes = max_bytes ? max_bytes : CACHE_DEFAULT_BYTES;
	c->st.max_ttl = max_ttl ? max_ttl : CACHE_DEFAULT_MAX_TTL;
	return c;
}

static void lru_unlink(struct cache *c, struct centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct cache *c, struct centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void entry_remove(struct cache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->st.entries--;
	c->st.bytes -= e->cost;
	free(e);
}

void cache_flush(struct cache *c)
{
	if (c == NULL)
		return;
	while (c->head)
		entry_remove(c, c->head);
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cache_flush(c);
	free(c->buckets);
	free(c);
}

void cache_get_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c->st;
}

/* Doubles the table when chains get long. */
static void maybe_grow(struct cache *c)
{
	if (c->st.entries < c->nbuckets * 2)
		return;
	size_t n = c->nbuckets * 2;
	struct centry **b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry *e = c->buckets[i];
		while (e) {
			struct centry *next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static struct centry *lookup(struct cache *c, uint32_t h, uint8_t kind, const uint8_t *name, size_t len,
			     uint16_t qtype, uint16_t qclass)
{
	for (struct centry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->kind == kind && e->qtype == qtype && e->qclass == qclass && e->name_len == len &&
		    memcmp(e->data, name, len) == 0)
			return e;
	return NULL;
}

/* What the walk over the records found. */
struct walk {
	size_t nttl;
	uint16_t *ttl_off; /* NULL: only count */
	uint32_t min_ttl;  /* over answer and authority; UINT32_MAX when there are none */
	bool soa;          /* an SOA in the authority section */
	uint32_t max_ttl;
	uint8_t *msg;      /* when set, TTLs are clamped in place (the stored copy) */
};

/* Walks every record after the question at pos. An RR's fixed fields follow its
 * owner name: type (2), class (2), TTL (4), rdlength (2). */
static int walk_records(const uint8_t *msg, size_t len, size_t pos, struct walk *w)
{
	unsigned counts[3] = { get_be16(msg + 6), get_be16(msg + 8), get_be16(msg + 10) };
	w->min_ttl = UINT32_MAX;
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			uint8_t owner[ARBOR_DNS_NAME_WIRE_MAX];
			size_t next;
			if (arbor_dns_name_unpack(msg, len, pos, owner, &next) < 0 || len - next < 10)
				return -EBADMSG;
			uint16_t type = get_be16(msg + next);
			uint32_t ttl = get_be32(msg + next + 4);
			size_t rdlen = get_be16(msg + next + 8);
			if (len - next - 10 < rdlen)
				return -EBADMSG;
			pos = next + 10 + rdlen;
			if (type == ARBOR_DNS_TYPE_OPT)
				continue; /* its "TTL" is the extended rcode and flags */
			if (ttl > 0x7fffffffu)
				ttl = 0; /* RFC 2181 §8 */
			uint32_t cap = w->max_ttl;
			if (s == 1 && type == ARBOR_DNS_TYPE_SOA) {
				/* The SOA's MINIMUM is the last 4 bytes of its rdata (RFC 2308 §5). */
				if (rdlen < 22)
					return -EBADMSG;
				w->soa = true;
				cap = min32(cap, get_be32(msg + pos - 4));
			}
			ttl = min32(ttl, cap);
			if (s < 2)
				w->min_ttl = min32(w->min_ttl, ttl);
			if (w->msg)
				put_be32(w->msg + next + 4, ttl);
			if (w->ttl_off)
				w->ttl_off[w->nttl] = (uint16_t)(next + 4);
			w->nttl++;
		}
	}
	return pos == len ? 0 : -EBADMSG;
}

int cache_put(struct cache *c, enum cache_kind kind, const uint8_t *qname, size_t qname_len, uint16_t qtype,
	      uint16_t qclass, const uint8_t *resp, size_t len, int64_t now_ms)
{
	if (c == NULL || qname == NULL || resp == NULL || dname_check(qname, qname_len) < 0)
		return -EINVAL;
	if (len > ARBOR_DNS_MAX_MSG)
		return -EBADMSG;
	struct arbor_dns_message *m = xmalloc(sizeof *m);
	int rc = arbor_dns_parse(resp, len, m);
	struct arbor_dns_header h = m->header;
	bool has_q = m->has_question;
	size_t qoff = m->question.name_off;
	free(m);
	if (rc < 0)
		return -EBADMSG;
	if (!h.qr || h.qdcount != 1 || !has_q)
		return -EBADMSG;

	/* The question must be the key's. */
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	size_t pos;
	int wl = arbor_dns_name_unpack(resp, len, qoff, wire, &pos);
	if (wl < 0 || len - pos < 4)
		return -EBADMSG;
	if (!dname_equal(wire, (size_t)wl, qname, qname_len) || get_be16(resp + pos) != qtype ||
	    get_be16(resp + pos + 2) != qclass)
		return -EINVAL;
	pos += 4;

	if (h.tc || (h.rcode != ARBOR_DNS_RCODE_NOERROR && h.rcode != ARBOR_DNS_RCODE_NXDOMAIN)) {
		c->st.uncacheable++;
		return 0;
	}
	struct walk w = { .max_ttl = c->st.max_ttl };
	rc = walk_records(resp, len, pos, &w);
	if (rc < 0)
		return rc;
	bool negative = h.rcode == ARBOR_DNS_RCODE_NXDOMAIN || h.ancount == 0;
	uint32_t ttl = w.min_ttl;
	size_t cost = sizeof(struct centry) + qname_len + 2 * w.nttl + len;
	if ((negative && !w.soa) || ttl == 0 || ttl == UINT32_MAX || cost > c->st.max_bytes) {
		c->st.uncacheable++;
		return 0;
	}

	struct centry *e = xmalloc(cost);
	memset(e, 0, sizeof *e);
	e->kind = (uint8_t)kind;
	e->qtype = qtype;
	e->qclass = qclass;
	e->name_len = (uint8_t)qname_len;
	dname_lower(qname, qname_len, e->data);
	e->hash = key_hash(e->kind, e->data, qname_len, qtype, qclass);
	e->stored = now_ms;
	e->expires = now_ms + (int64_t)ttl * 1000;
	e->cost = cost;
	e->len = len;
	uint8_t *offs = e->data + qname_len, *copy = offs + 2 * w.nttl;
	memcpy(copy, resp, len);
	/* Walk again over the copy: clamp its TTLs in place and note where they are. */
	uint16_t *tmp = w.nttl ? xmalloc(w.nttl * sizeof *tmp) : NULL;
	struct walk w2 = { .max_ttl = c->st.max_ttl, .ttl_off = tmp, .msg = copy };
	walk_records(copy, len, pos, &w2); /* cannot fail: the same bytes passed above */
	for (size_t i = 0; i < w2.nttl; i++) {
		offs[2 * i] = (uint8_t)(tmp[i] >> 8);
		offs[2 * i + 1] = (uint8_t)tmp[i];
	}
	e->nttl = w2.nttl;
	free(tmp);

	struct centry *old = lookup(c, e->hash, e->kind, e->data, qname_len, qtype, qclass);
	if (old)
		entry_remove(c, old);
	while (c->tail && c->st.bytes + cost > c->st.max_bytes) {
		entry_remove(c, c->tail);
		c->st.evictions++;
	}
	size_t b = e->hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	lru_push_front(c, e);
	c->st.entries++;
	c->st.bytes += cost;
	c->st.inserts++;
	maybe_grow(c);
	return 1;
}

int cache_get(struct cache *c, enum cache_kind kind, const uint8_t *qname, size_t qname_len, uint16_t qtype,
	      uint16_t qclass, int64_t now_ms, uint8_t *out, size_t cap)
{
	if (c == NULL || qname == NULL || out == NULL || dname_check(qname, qname_len) < 0)
		return -EINVAL;
	uint8_t key[ARBOR_DNS_NAME_WIRE_MAX];
	dname_lower(qname, qname_len, key);
	uint32_t h = key_hash((uint8_t)kind, key, qname_len, qtype, qclass);
	struct centry *e = lookup(c, h, (uint8_t)kind, key, qname_len, qtype, qclass);
	if (e && now_ms >= e->expires) {
		entry_remove(c, e);
		c->st.expired++;
		e = NULL;
	}
	if (e == NULL) {
		c->st.misses++;
		return -ENOENT;
	}
	if (cap < e->len)
		return -ENOSPC;
	/* A clock stepping back (it should not: monotonic) must not raise TTLs. */
	int64_t elapsed = now_ms > e->stored ? (now_ms - e->stored) / 1000 : 0;
	const uint8_t *offs = e->data + e->name_len;
	memcpy(out, offs + 2 * e->nttl, e->len);
	for (size_t i = 0; i < e->nttl; i++) {
		uint8_t *p = out + get_be16(offs + 2 * i);
		uint32_t ttl = get_be32(p);
		put_be32(p, (int64_t)ttl > elapsed ? (uint32_t)(ttl - elapsed) : 0);
	}
	lru_unlink(c, e);
	lru_push_front(c, e);
	c->st.hits++;
	return (int)e->len;
}
