/* The zone database: the zones this machine is authoritative for, and the records
 * that record sources (configuration, the DHCP lease watcher, interfaces, child
 * machines, prefix delegation…) contribute to them. Each source's records are
 * replaced or withdrawn as one batch, atomically; the served data is the union of
 * all sources, recompiled into a read-only index (zone_index.h) after each change,
 * and every zone whose served content changed gets its SOA serial bumped exactly
 * once. Pure: no I/O, time is an argument. Not thread-safe: a daemon with one loop
 * per thread keeps one database per loop and applies the same changes to each (the
 * results, serials included, are a function of the inputs). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zone_db;

/* Suggested source ids. Where one source puts a CNAME at a name and another puts
 * other data there (not allowed together, RFC 2181 §10.1), the source with the lower
 * id wins and the loser's records are counted as shadowed; so the operator's
 * configuration comes first. Id 0 is reserved for the zone's own SOA and NS. */
enum {
	ZONE_SOURCE_CONFIG = 1,     /* static records from the configuration */
	ZONE_SOURCE_INTERFACES = 2, /* <ifname>.<zone>, the machine's own names */
	ZONE_SOURCE_CHILDREN = 3,   /* delegations of child machines (NS + glue) */
	ZONE_SOURCE_PREFIXES = 4,   /* derived/delegated IPv6 addresses (AAAA, ip6.arpa PTR) */
	ZONE_SOURCE_LEASES = 5,     /* DHCPv4 leases (A, in-addr.arpa PTR) */
	ZONE_SOURCE_WG_PEERS = 6,   /* wgd's peers, <peer>.<interface>.<zone> (wg_peers.h) */
};

/* The SOA of a zone. Names are relative to the zone unless they end in a dot. */
struct zone_soa {
	const char *mname; /* the primary name server; NULL: the first NS name */
	const char *rname; /* the responsible mailbox as a name; NULL: "hostmaster" */
	uint32_t refresh, retry, expire;
	uint32_t minimum;  /* negative-caching TTL cap (RFC 2308) */
	uint32_t ttl;      /* TTL of the SOA and of the apex NS records */
	uint32_t serial;   /* the first serial is max(serial, now): pass the last one
			    * served, +1, to stay monotonic across restarts */
};

/* One record: owner and rdata in flat (uncompressed) wire form, class IN. */
struct zone_record {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdata_len;
};

/* A zone as the status endpoint shows it. */
struct zone_info {
	const char *apex; /* presentation text, absolute ("home.arpa.") */
	uint32_t serial;
	size_t records;   /* records served, the SOA and apex NS included */
	size_t shadowed;  /* records hidden by a CNAME conflict between sources */
	size_t delegations; /* names below the apex with NS records (child zones) */
};

struct zone_db *zone_db_new(void);
void zone_db_free(struct zone_db *db);

/* Adds a zone (apex text, absolute or not), its SOA and the names of its name
 * servers (relative to the apex unless they end in a dot; at least one). A zone may
 * sit inside another one (the deepest apex owns a name). Returns the zone's index
 * (0, 1, … in the order added), -EEXIST for an apex already served, -EINVAL with a
 * message in err for bad names, -ENOMEM when the zones grow too large to index. */
int zone_db_add_zone(struct zone_db *db, const char *apex, const struct zone_soa *soa, const char *const *ns,
		     size_t nns, int64_t now, char *err, size_t errlen);

size_t zone_db_zone_count(const struct zone_db *db);
/* Returns 0, or -ENOENT for an index out of range. */
int zone_db_zone_info(const struct zone_db *db, size_t i, struct zone_info *out);
/* The index of the zone with this apex (flat wire, any case), or -ENOENT. */
int zone_db_zone_find(const struct zone_db *db, const uint8_t *apex, size_t apex_len);

/* Replaces everything source contributed by recs[0..n) (copied). All or nothing:
 * every record is checked first, and on any error nothing changes and err says
 * which record and why ("record 3 (www.example.com. A): owner is outside all
 * zones"). Records of types SOA, DNAME, OPT, DNSSEC, and meta types are refused, as
 * are a CNAME at an apex, a CNAME next to other data from the same batch, and rdata
 * malformed for its type. Identical records (same owner, type, rdata) are served
 * once; an RRset's TTL is the lowest of its records'.
 * Each zone whose served content changed gets serial = max(serial + 1, now) once
 * (no change, no bump); changed (NULL, or zone_db_zone_count() entries) is set
 * true for those and false for the rest. Returns the number of zones changed,
 * -EINVAL (message in err), -ENOMEM (too large to index). err may be NULL. */
int zone_db_replace_source(struct zone_db *db, uint32_t source, const struct zone_record *recs, size_t n,
			   int64_t now, bool *changed, char *err, size_t errlen);

/* Withdraws everything source contributed (replace with nothing). */
int zone_db_withdraw_source(struct zone_db *db, uint32_t source, int64_t now, bool *changed);

/* The number of records source currently contributes. */
size_t zone_db_source_records(const struct zone_db *db, uint32_t source);

/* The compiled index the answerer reads; NULL before the first zone. */
struct zone_index;
const struct zone_index *zone_db_index(const struct zone_db *db);
