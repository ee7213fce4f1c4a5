/* The central IPv4 subnet allocator (architecture.md, "The naming and addressing model"):
 * start from a pool (the RFC 1918 ranges unless configured), subtract the configured
 * exclusions, what the machine's routes and addresses already use and what is already
 * allocated; of the free space, as maximal aligned CIDR blocks, carve each request from
 * the smallest block that fits, at its lowest address. Allocations are keyed (an
 * interface, a runner's hostname) and persisted as JSON, so asking again returns the
 * same subnet. A persisted allocation that now collides with something is reported as a
 * conflict, never moved.
 *
 * Pure logic, no I/O: ipv4_alloc_kernel.h reads the "in use" list from the kernel, the
 * caller writes the JSON with statefile.h, time comes in as an argument. Every function
 * returns a negative errno on bad input (never aborts), with a message in err when the
 * caller gives a buffer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* A CIDR prefix: network address in host byte order, no host bits set, len 0..32. */
struct arbor_ipv4_prefix {
	uint32_t addr;
	unsigned int len;
};

#define ARBOR_IPV4_PREFIX_TEXT_MAX 19	/* "255.255.255.255/32" and the NUL */
#define ARBOR_IPV4_KEY_MAX 255		/* bytes in a key, without the NUL */
#define ARBOR_IPV4_MAX_ALLOCATIONS 65536	/* per allocator, loaded or made */

/* Parse "10.0.0.0/8": four decimal octets (no leading zeros), '/', a length 0..32,
 * nothing else. 0, or -EINVAL for garbage, a length over 32 or host bits set. */
int arbor_ipv4_prefix_parse(struct arbor_ipv4_prefix *p, const char *text);
/* Writes p as "a.b.c.d/len" into buf (ARBOR_IPV4_PREFIX_TEXT_MAX is enough); returns buf. */
const char *arbor_ipv4_prefix_format(const struct arbor_ipv4_prefix *p, char *buf, size_t buflen);
/* The prefix of length len that covers addr (host order): the subnet of an address
 * 10.2.3.4/24 is 10.2.3.0/24. -EINVAL if len > 32. */
int arbor_ipv4_prefix_covering(struct arbor_ipv4_prefix *p, uint32_t addr, unsigned int len);
/* True if len <= 32 and no host bits are set. */
bool arbor_ipv4_prefix_valid(const struct arbor_ipv4_prefix *p);
bool arbor_ipv4_prefix_overlaps(const struct arbor_ipv4_prefix *a, const struct arbor_ipv4_prefix *b);
/* True if inner lies entirely inside outer (or equals it). */
bool arbor_ipv4_prefix_contains(const struct arbor_ipv4_prefix *outer,
				const struct arbor_ipv4_prefix *inner);

/* Something the machine already uses: a route's destination or an address's subnet.
 * owner names whose use it is, if known: the kernel reader sets the interface name (the
 * address is on it, the route goes out of it). A use inside an allocation whose key
 * equals its owner is that allocation applied (dhcp4d keys by interface), not a
 * conflict; a caller keyed otherwise (the overlay, by hostname) sets owner to its key
 * for the routes it made itself. */
struct arbor_ipv4_in_use {
	struct arbor_ipv4_prefix prefix;
	char owner[ARBOR_IPV4_KEY_MAX + 1];	/* "" when unknown */
};

struct arbor_ipv4_allocation {
	char key[ARBOR_IPV4_KEY_MAX + 1];
	struct arbor_ipv4_prefix prefix;
	int64_t allocated_at;			/* seconds since the epoch, as given to allocate */
};

enum arbor_ipv4_conflict_kind {
	ARBOR_IPV4_CONFLICT_IN_USE,		/* overlaps a route or address (not its own) */
	ARBOR_IPV4_CONFLICT_EXCLUDED,		/* overlaps a configured exclusion */
	ARBOR_IPV4_CONFLICT_OUTSIDE_POOL,	/* not entirely inside the pool */
};

/* A persisted allocation that collides with something: one entry per allocation and
 * thing it collides with, for the daemon to report as an event. */
struct arbor_ipv4_conflict {
	enum arbor_ipv4_conflict_kind kind;
	char key[ARBOR_IPV4_KEY_MAX + 1];
	struct arbor_ipv4_prefix prefix;	/* the allocation */
	struct arbor_ipv4_prefix with;		/* the in-use or excluded prefix; for
						 * OUTSIDE_POOL the allocation itself */
	char owner[ARBOR_IPV4_KEY_MAX + 1];	/* IN_USE: the use's owner ("" if unknown) */
};

/* "in_use", "excluded", "outside_pool". */
const char *arbor_ipv4_conflict_kind_name(enum arbor_ipv4_conflict_kind kind);

/* The allocator: pool, exclusions, in-use list and allocations. NULL when out of
 * memory. Starts with the default pool, nothing excluded, in use or allocated. */
struct arbor_ipv4_alloc *arbor_ipv4_alloc_new(void);
void arbor_ipv4_alloc_free(struct arbor_ipv4_alloc *a);

/* Replace the pool (n == 0: the default, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16),
 * the exclusions, or the in-use list. Pool entries may overlap (their union counts).
 * In-use 0.0.0.0/0 (the default route) is ignored; a /32 covers only itself. 0, or
 * -EINVAL for an invalid prefix (nothing is changed), -ENOMEM. */
int arbor_ipv4_alloc_set_pool(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_prefix *pool,
			      size_t n, char *err, size_t errlen);
int arbor_ipv4_alloc_set_excluded(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_prefix *excluded,
				  size_t n, char *err, size_t errlen);
int arbor_ipv4_alloc_set_in_use(struct arbor_ipv4_alloc *a, const struct arbor_ipv4_in_use *in_use,
				size_t n, char *err, size_t errlen);

/*
 * The subnet of length prefixlen (1..32) for key. If key already holds one of that
 * length that collides with nothing, returns 0 with it in *out (asking again gives the
 * same answer). Otherwise takes the smallest free block at least that large (ties: the
 * lowest address), carves the request from its lowest address, records it with
 * allocated_at = now and returns 1. Errors, with a message in err:
 *   -EINVAL      a bad key (empty, longer than ARBOR_IPV4_KEY_MAX, anything but printable
 *                ASCII without spaces), prefixlen, or now (not 0..2^53);
 *   -EEXIST      key holds a subnet of another length (*out is it; release it first);
 *   -EADDRINUSE  key's subnet now collides (a conflict: *out is it, not moved; see
 *                arbor_ipv4_alloc_conflicts);
 *   -ENOSPC      no free block is large enough, or ARBOR_IPV4_MAX_ALLOCATIONS reached;
 *   -ENOMEM.
 */
int arbor_ipv4_alloc_allocate(struct arbor_ipv4_alloc *a, const char *key, unsigned int prefixlen,
			      int64_t now, struct arbor_ipv4_prefix *out, char *err, size_t errlen);
/* Records an allocation made elsewhere (a registry replaying its own records, or
 * another machine's claim read from a shared store), exactly as given. 0, or
 * -EINVAL (bad key, prefix or time), -EEXIST (key holds a subnet already),
 * -EADDRINUSE (overlaps another key's allocation), -ENOSPC (too many), with a
 * message in err; nothing changes on error. Collisions with in-use prefixes or
 * exclusions are not refused: they are conflicts, as for loaded allocations. */
int arbor_ipv4_alloc_insert(struct arbor_ipv4_alloc *a, const char *key, const struct arbor_ipv4_prefix *prefix,
			    int64_t allocated_at, char *err, size_t errlen);
/* Forget key's subnet. 0, -ENOENT if key holds none, -EINVAL for a bad key. */
int arbor_ipv4_alloc_release(struct arbor_ipv4_alloc *a, const char *key);
/* key's allocation, or NULL. Valid until the allocations next change. */
const struct arbor_ipv4_allocation *arbor_ipv4_alloc_find(const struct arbor_ipv4_alloc *a,
							 const char *key);
/* All allocations, ordered by address. Valid until the allocations next change. */
const struct arbor_ipv4_allocation *arbor_ipv4_alloc_list(const struct arbor_ipv4_alloc *a, size_t *n);

/* The free space (pool minus exclusions, in-use and allocations) as maximal aligned CIDR
 * blocks, smallest block first, equal sizes by address: the order allocate picks in.
 * A malloc'd array the caller frees (NULL when *n is 0). 0 or -ENOMEM. */
int arbor_ipv4_alloc_free_blocks(const struct arbor_ipv4_alloc *a, struct arbor_ipv4_prefix **out,
				 size_t *n);
/* Every allocation that collides with an in-use prefix (other than its own use, see
 * struct arbor_ipv4_in_use), an exclusion, or lies outside the pool; ordered by
 * allocation address. A malloc'd array the caller frees (NULL when *n is 0). 0 or -ENOMEM. */
int arbor_ipv4_alloc_conflicts(const struct arbor_ipv4_alloc *a, struct arbor_ipv4_conflict **out,
			       size_t *n);

/* The allocations as {"version":1,"allocations":[{"key":"lan0","prefix":"10.0.0.0/24",
 * "allocated_at":1763769445}, ...]}, ordered by address. NULL when out of memory. */
cJSON *arbor_ipv4_alloc_to_json(const struct arbor_ipv4_alloc *a);
/* Replace the allocations with those in doc, checked strictly: the shape above and
 * nothing else, valid keys and prefixes, no key twice, no two allocations overlapping.
 * Allocations that collide with the current pool, exclusions or in-use list load (they
 * are conflicts to report). 0, -ENOMEM, or -EINVAL with err naming what was wrong (e.g.
 * "allocations[2].prefix: host bits set in \"10.0.0.1/24\""), and nothing changed. */
int arbor_ipv4_alloc_from_json(struct arbor_ipv4_alloc *a, const cJSON *doc, char *err, size_t errlen);
