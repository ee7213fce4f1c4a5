/* The compiled, read-only form of the zone database that queries are answered
 * from: nodes (one per owner name, plus empty non-terminals so that an existing
 * name with no data answers NODATA, not NXDOMAIN) in an open-addressing hash table
 * keyed by the lower-cased wire name, each node's RRsets sorted by type, all names
 * and rdata in one arena. Each node knows its zone and the delegation point that
 * covers it, so an exact match needs one probe. Built by zone.c after each change;
 * never modified afterwards except for the SOA serial, patched right after the
 * build. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct zidx_rr {
	uint32_t off;  /* rdata in the arena, flat (uncompressed) wire form */
	uint16_t len;
};

struct zidx_set {
	uint16_t type;
	uint32_t ttl;
	uint32_t first; /* rrs[first .. first + n) */
	uint32_t n;
};

struct zidx_node {
	uint32_t hash;     /* dname_hash of the name */
	uint32_t key_off;  /* lower-cased name in the arena */
	uint32_t name_off; /* the name as its first record spelled it */
	uint8_t name_len, nlabels;
	uint16_t zone;
	uint32_t cut;      /* 1 + the node of the delegation (NS below an apex) at or
			    * above this one; 0 when the zone is authoritative here */
	uint32_t first_set;
	uint16_t nsets;    /* 0: an empty non-terminal */
};

struct zidx_zone {
	uint32_t apex_node;
	uint32_t first_node, nnodes; /* the nodes holding records, sorted (ENTs follow all of them) */
	uint32_t soa_set;            /* the SOA RRset (at the apex) */
	uint32_t neg_ttl;            /* min(SOA TTL, SOA minimum), RFC 2308 */
	uint8_t apex_labels;
	size_t records, shadowed, delegations;
};

struct zone_index {
	struct zidx_node *nodes;
	uint32_t nnodes;
	struct zidx_set *sets;
	uint32_t nsets;
	struct zidx_rr *rrs;
	uint32_t nrrs;
	uint8_t *arena;
	size_t arena_len;
	uint32_t *table; /* 1 + node index, 0 empty */
	unsigned table_bits;
	struct zidx_zone *zones;
	uint16_t nzones;
};

/* One record going into a build (zone.c fills these from the zones and sources). */
struct zidx_input {
	const uint8_t *owner; /* as given */
	const uint8_t *key;   /* lower-cased owner */
	uint8_t owner_len;
	uint16_t zone;
	uint16_t type;
	uint32_t ttl;
	uint32_t rank;        /* the source id: lower wins CNAME conflicts */
	const uint8_t *rdata;
	uint16_t rdlen;
};

/* Builds an index; sorts in[] in place. apex_len[z] is zone z's apex length, every
 * zone has an SOA among the records. NULL when the data is too large to index
 * (over 4 GiB, or a name table over 2^30 slots). */
struct zone_index *zone_index_build(struct zidx_input *in, size_t n, uint16_t nzones, const uint8_t *const *apex,
				    const size_t *apex_len);
void zone_index_free(struct zone_index *idx);

/* Whether zone z serves the same records (SOA aside) in both indexes. */
bool zone_index_zone_equal(const struct zone_index *a, const struct zone_index *b, uint16_t z);

/* Writes serial into zone z's SOA. */
void zone_index_set_serial(struct zone_index *idx, uint16_t z, uint32_t serial);
uint32_t zone_index_serial(const struct zone_index *idx, uint16_t z);

static inline uint32_t zidx_slot(uint32_t hash, unsigned bits)
{
	return (hash * 2654435761u) >> (32 - bits); /* Fibonacci hashing: FNV's low bits are weak */
}

/* The node for a lower-cased flat name with its dname hash, or NULL. */
static inline const struct zidx_node *zidx_lookup(const struct zone_index *idx, const uint8_t *key, size_t len,
						  uint32_t hash)
{
	uint32_t mask = (1u << idx->table_bits) - 1;
	for (uint32_t i = zidx_slot(hash, idx->table_bits);; i = (i + 1) & mask) {
		uint32_t e = idx->table[i];
		if (e == 0)
			return NULL;
		const struct zidx_node *node = &idx->nodes[e - 1];
		if (node->hash == hash && node->name_len == len && memcmp(idx->arena + node->key_off, key, len) == 0)
			return node;
	}
}

static inline const struct zidx_set *zidx_find_set(const struct zone_index *idx, const struct zidx_node *node,
						   uint16_t type)
{
	const struct zidx_set *s = idx->sets + node->first_set;
	for (unsigned i = 0; i < node->nsets; i++)
		if (s[i].type == type)
			return &s[i];
	return NULL;
}
