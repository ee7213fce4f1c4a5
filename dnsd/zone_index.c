/* Compiling the union of all sources' records into the read-only index (see
 * zone_index.h). The records are sorted so that a node's records, and within it an
 * RRset's, are adjacent; a first pass decides which records are served (duplicates
 * collapse, CNAME conflicts between sources are settled by source rank) and sizes
 * every array exactly; a second fills them; then empty non-terminals are added and
 * each node learns the delegation covering it. */
#include "zone_index.h"

#include <stdlib.h>

#include "byteorder.h"
#include "dname.h"
#include "dns_wire.h"
#include "xalloc.h"

enum { KEEP, DUPLICATE, SHADOWED };

static int cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int cmp_input(const void *pa, const void *pb)
{
	const struct zidx_input *a = pa, *b = pb;
	if (a->zone != b->zone)
		return a->zone < b->zone ? -1 : 1;
	int c = cmp_bytes(a->key, a->owner_len, b->key, b->owner_len);
	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	c = cmp_bytes(a->rdata, a->rdlen, b->rdata, b->rdlen);
	if (c)
		return c;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static bool same_node(const struct zidx_input *a, const struct zidx_input *b)
{
	return a->zone == b->zone && a->owner_len == b->owner_len && memcmp(a->key, b->key, a->owner_len) == 0;
}

static bool same_rdata(const struct zidx_input *a, const struct zidx_input *b)
{
	return a->rdlen == b->rdlen && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* Decides which records of one node are served; returns how many were shadowed. */
static size_t settle_node(const struct zidx_input *r, size_t m, uint8_t *state)
{
	uint64_t cname_rank = UINT64_MAX, other_rank = UINT64_MAX;
	size_t shadowed = 0, best_cname = m;
	for (size_t i = 0; i < m; i++) {
		state[i] = KEEP;
		if (r[i].type == ARBOR_DNS_TYPE_CNAME) {
			if (r[i].rank < cname_rank) {
				cname_rank = r[i].rank;
				best_cname = i;
			}
		} else if (r[i].rank < other_rank) {
			other_rank = r[i].rank;
		}
	}
	bool cname_wins = best_cname < m && cname_rank < other_rank;
	for (size_t i = 0; i < m; i++) {
		bool is_cname = r[i].type == ARBOR_DNS_TYPE_CNAME;
		/* CNAME and other data never together; one CNAME target only. */
		if ((best_cname < m && is_cname != cname_wins) ||
		    (is_cname && cname_wins && !same_rdata(&r[i], &r[best_cname]))) {
			state[i] = SHADOWED;
			shadowed++;
		}
	}
	/* Equal records (adjacent after the sort) are served once. */
	size_t last = m;
	for (size_t i = 0; i < m; i++) {
		if (state[i] != KEEP)
			continue;
		if (last < m && r[last].type == r[i].type && same_rdata(&r[last], &r[i]))
			state[i] = DUPLICATE;
		else
			last = i;
	}
	return shadowed;
}

static size_t node_end(const struct zidx_input *in, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && same_node(&in[i], &in[j]))
		j++;
	return j;
}

static uint32_t arena_put(struct zone_index *idx, const uint8_t *p, size_t len)
{
	uint32_t off = (uint32_t)idx->arena_len;
	memcpy(idx->arena + off, p, len);
	idx->arena_len += len;
	return off;
}

static void table_insert(struct zone_index *idx, uint32_t node)
{
	uint32_t mask = (1u << idx->table_bits) - 1;
	uint32_t i = zidx_slot(idx->nodes[node].hash, idx->table_bits);
	while (idx->table[i])
		i = (i + 1) & mask;
	idx->table[i] = node + 1;
}

void zone_index_free(struct zone_index *idx)
{
	if (idx == NULL)
		return;
	free(idx->nodes);
	free(idx->sets);
	free(idx->rrs);
	free(idx->arena);
	free(idx->table);
	free(idx->zones);
	free(idx);
}

/* Fills the nodes, RRsets and records of one node group. */
static void fill_node(struct zone_index *idx, const struct zidx_input *r, size_t m, const uint8_t *state,
		      const uint8_t *apex_labels)
{
	size_t first = 0;
	while (state[first] == SHADOWED)
		first++;
	struct zidx_node *node = &idx->nodes[idx->nnodes++];
	struct dname_labels l;
	dname_split(r[first].key, &l);
	*node = (struct zidx_node){
		.hash = l.hash[0],
		.key_off = arena_put(idx, r[first].key, r[first].owner_len),
		.name_off = arena_put(idx, r[first].owner, r[first].owner_len),
		.name_len = r[first].owner_len,
		.nlabels = (uint8_t)l.n,
		.zone = r[first].zone,
		.first_set = idx->nsets,
	};
	struct zidx_zone *zone = &idx->zones[node->zone];
	for (size_t i = 0; i < m;) {
		size_t j = i;
		while (j < m && r[j].type == r[i].type)
			j++;
		struct zidx_set *set = NULL;
		for (size_t k = i; k < j; k++) {
			if (state[k] == SHADOWED) {
				zone->shadowed++;
				continue;
			}
			if (set == NULL) {
				set = &idx->sets[idx->nsets++];
				*set = (struct zidx_set){ .type = r[k].type, .ttl = r[k].ttl, .first = idx->nrrs };
				node->nsets++;
			}
			if (r[k].ttl < set->ttl)
				set->ttl = r[k].ttl; /* RFC 2181 §5.2: one TTL per RRset */
			if (state[k] == DUPLICATE)
				continue;
			idx->rrs[idx->nrrs++] = (struct zidx_rr){ .off = arena_put(idx, r[k].rdata, r[k].rdlen),
								  .len = r[k].rdlen };
			set->n++;
			zone->records++;
		}
		if (set && set->type == ARBOR_DNS_TYPE_NS && node->nlabels > apex_labels[node->zone])
			zone->delegations++;
		i = j;
	}
}

/* Adds the empty non-terminals between a node and its zone's apex. */
static void add_ents(struct zone_index *idx, uint32_t k, const uint8_t *apex_labels)
{
	struct zidx_node node = idx->nodes[k];
	struct dname_labels l;
	dname_split(idx->arena + node.key_off, &l);
	unsigned depth = node.nlabels - apex_labels[node.zone];
	for (unsigned j = 1; j < depth; j++) {
		const uint8_t *key = idx->arena + node.key_off + l.off[j];
		size_t len = node.name_len - l.off[j];
		if (zidx_lookup(idx, key, len, l.hash[j]))
			continue;
		uint32_t e = idx->nnodes++;
		idx->nodes[e] = (struct zidx_node){
			.hash = l.hash[j],
			.key_off = node.key_off + l.off[j],
			.name_off = node.name_off + l.off[j],
			.name_len = (uint8_t)len,
			.nlabels = (uint8_t)(node.nlabels - j),
			.zone = node.zone,
			.first_set = idx->nsets,
		};
		table_insert(idx, e);
	}
}

/* The delegation covering node k: the NS owner nearest the apex, strictly below it. */
static void find_cut(struct zone_index *idx, uint32_t k, const uint8_t *apex_labels)
{
	struct zidx_node *node = &idx->nodes[k];
	struct dname_labels l;
	dname_split(idx->arena + node->key_off, &l);
	unsigned depth = node->nlabels - apex_labels[node->zone];
	for (unsigned j = depth; j-- > 0;) {
		const struct zidx_node *anc =
			zidx_lookup(idx, idx->arena + node->key_off + l.off[j], node->name_len - l.off[j], l.hash[j]);
		if (anc && zidx_find_set(idx, anc, ARBOR_DNS_TYPE_NS)) {
			node->cut = (uint32_t)(anc - idx->nodes) + 1;
			return;
		}
	}
}

struct zone_index *zone_index_build(struct zidx_input *in, size_t n, uint16_t nzones, const uint8_t *const *apex,
				    const size_t *apex_len)
{
	struct zone_index *idx = xcalloc(1, sizeof *idx);
	uint8_t *state = xmalloc(n ? n : 1);
	uint8_t *apex_labels = xmalloc(nzones ? nzones : 1);
	for (uint16_t z = 0; z < nzones; z++)
		apex_labels[z] = (uint8_t)dname_check(apex[z], apex_len[z]);
	qsort(in, n, sizeof *in, cmp_input);

	/* Pass 1: settle each node and count everything. */
	size_t bound = 0, nsets = 0, nrrs = 0, arena = 0;
	for (size_t i = 0; i < n;) {
		size_t j = node_end(in, n, i);
		settle_node(in + i, j - i, state + i);
		arena += 2 * (size_t)in[i].owner_len;
		int labels = dname_check(in[i].key, in[i].owner_len);
		bound += 1 + (size_t)(labels > apex_labels[in[i].zone] ? labels - apex_labels[in[i].zone] - 1 : 0);
		for (size_t k = i; k < j; k++) {
			if (state[k] == SHADOWED)
				continue;
			if (k == i || in[k].type != in[k - 1].type || state[k - 1] == SHADOWED)
				nsets++; /* an upper bound: a set split by shadowed records counts twice */
			if (state[k] == KEEP) {
				nrrs++;
				arena += in[k].rdlen;
			}
		}
		i = j;
	}
	if (arena > UINT32_MAX || bound > UINT32_MAX / 4)
		goto fail;
	unsigned bits = 4;
	while ((1ul << bits) < 2 * bound)
		bits++;
	idx->table_bits = bits;
	if (bits > 30)
		goto fail;
	idx->nodes = xcalloc(bound ? bound : 1, sizeof *idx->nodes);
	idx->sets = xcalloc(nsets ? nsets : 1, sizeof *idx->sets);
	idx->rrs = xcalloc(nrrs ? nrrs : 1, sizeof *idx->rrs);
	idx->arena = xmalloc(arena ? arena : 1);
	idx->table = xcalloc((size_t)1 << bits, sizeof *idx->table);
	idx->zones = xcalloc(nzones ? nzones : 1, sizeof *idx->zones);
	idx->nzones = nzones;

	/* Pass 2: the nodes holding records, in sorted order (so by zone). */
	for (uint16_t z = 0; z < nzones; z++)
		idx->zones[z].apex_labels = apex_labels[z];
	for (size_t i = 0; i < n;) {
		size_t j = node_end(in, n, i);
		struct zidx_zone *zone = &idx->zones[in[i].zone];
		if (zone->nnodes == 0)
			zone->first_node = idx->nnodes;
		zone->nnodes++;
		fill_node(idx, in + i, j - i, state + i, apex_labels);
		table_insert(idx, idx->nnodes - 1);
		i = j;
	}
	uint32_t real = idx->nnodes;
	for (uint32_t k = 0; k < real; k++)
		add_ents(idx, k, apex_labels);
	for (uint32_t k = 0; k < idx->nnodes; k++)
		find_cut(idx, k, apex_labels);

	for (uint16_t z = 0; z < nzones; z++) {
		struct zidx_zone *zone = &idx->zones[z];
		uint8_t key[ARBOR_DNS_NAME_WIRE_MAX];
		dname_lower(apex[z], apex_len[z], key);
		const struct zidx_node *node = zidx_lookup(idx, key, apex_len[z], dname_hash(key));
		const struct zidx_set *soa = node ? zidx_find_set(idx, node, ARBOR_DNS_TYPE_SOA) : NULL;
		if (soa == NULL || soa->n != 1 || idx->rrs[soa->first].len < 22)
			abort(); /* zone.c always supplies the SOA */
		zone->apex_node = (uint32_t)(node - idx->nodes);
		zone->soa_set = (uint32_t)(soa - idx->sets);
		const struct zidx_rr *rr = &idx->rrs[soa->first];
		uint32_t minimum = get_be32(idx->arena + rr->off + rr->len - 4);
		zone->neg_ttl = minimum < soa->ttl ? minimum : soa->ttl;
	}
	free(state);
	free(apex_labels);
	return idx;
fail:
	free(state);
	free(apex_labels);
	zone_index_free(idx);
	return NULL;
}

static bool set_equal(const struct zone_index *a, const struct zidx_set *sa, const struct zone_index *b,
		      const struct zidx_set *sb)
{
	if (sa->type != sb->type || sa->ttl != sb->ttl || sa->n != sb->n)
		return false;
	for (uint32_t i = 0; i < sa->n; i++) {
		const struct zidx_rr *ra = &a->rrs[sa->first + i], *rb = &b->rrs[sb->first + i];
		if (ra->len != rb->len || memcmp(a->arena + ra->off, b->arena + rb->off, ra->len) != 0)
			return false;
	}
	return true;
}

/* The next RRset at or after *i that is not the SOA (whose serial is what
 * changes), or NULL. */
static const struct zidx_set *next_set(const struct zone_index *idx, const struct zidx_node *node, unsigned *i)
{
	while (*i < node->nsets) {
		const struct zidx_set *s = &idx->sets[node->first_set + (*i)++];
		if (s->type != ARBOR_DNS_TYPE_SOA)
			return s;
	}
	return NULL;
}

bool zone_index_zone_equal(const struct zone_index *a, const struct zone_index *b, uint16_t z)
{
	if (z >= a->nzones || z >= b->nzones)
		return false;
	const struct zidx_zone *za = &a->zones[z], *zb = &b->zones[z];
	if (za->nnodes != zb->nnodes)
		return false;
	for (uint32_t i = 0; i < za->nnodes; i++) {
		const struct zidx_node *na = &a->nodes[za->first_node + i], *nb = &b->nodes[zb->first_node + i];
		if (na->name_len != nb->name_len || na->nsets != nb->nsets ||
		    memcmp(a->arena + na->name_off, b->arena + nb->name_off, na->name_len) != 0)
			return false;
		unsigned ia = 0, ib = 0;
		for (;;) {
			const struct zidx_set *sa = next_set(a, na, &ia), *sb = next_set(b, nb, &ib);
			if (sa == NULL || sb == NULL) {
				if (sa != sb)
					return false;
				break;
			}
			if (!set_equal(a, sa, b, sb))
				return false;
		}
	}
	return true;
}

void zone_index_set_serial(struct zone_index *idx, uint16_t z, uint32_t serial)
{
	const struct zidx_rr *rr = &idx->rrs[idx->sets[idx->zones[z].soa_set].first];
	uint8_t *p = idx->arena + rr->off + rr->len - 20;
	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
}

uint32_t zone_index_serial(const struct zone_index *idx, uint16_t z)
{
	const struct zidx_rr *rr = &idx->rrs[idx->sets[idx->zones[z].soa_set].first];
	return get_be32(idx->arena + rr->off + rr->len - 20);
}
