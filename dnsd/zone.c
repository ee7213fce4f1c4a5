/* The zone database (see zone.h): zones, per-source record batches, validation,
 * and the commit step that compiles a new index from all sources, compares each
 * zone's content with the old index and bumps the serials of those that changed.
 * A commit builds the complete new index before touching anything, so a failure
 * (a bad record, data too large to index) leaves the database exactly as it was. */
#include "zone.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "xalloc.h"
#include "zone_index.h"

#define MAX_RDATA 65535

struct src_rec {
	const uint8_t *owner, *key, *rdata;
	uint8_t owner_len;
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
};

struct source {
	uint32_t id;
	struct src_rec *recs;
	size_t n;
	uint8_t *mem; /* owners, keys and rdata of all records */
};

struct zone {
	uint8_t apex[ARBOR_DNS_NAME_WIRE_MAX];
	size_t apex_len;
	char apex_text[ARBOR_DNS_NAME_TEXT_MAX];
	uint8_t soa[2 * ARBOR_DNS_NAME_WIRE_MAX + 20]; /* rdata; the serial kept current */
	size_t soa_len;
	uint32_t ttl, serial;
	uint8_t *ns; /* the NS names, flat, back to back */
	size_t ns_bytes, nns;
};

struct zone_db {
	struct zone *zones;
	size_t nzones;
	struct source *sources;
	size_t nsources;
	struct zone_index *idx;
};

static int __attribute__((format(printf, 3, 4))) fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void source_free(struct source *s)
{
	free(s->recs);
	free(s->mem);
}

struct zone_db *zone_db_new(void)
{
	return xcalloc(1, sizeof(struct zone_db));
}

void zone_db_free(struct zone_db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->nzones; i++)
		free(db->zones[i].ns);
	for (size_t i = 0; i < db->nsources; i++)
		source_free(&db->sources[i]);
	free(db->zones);
	free(db->sources);
	zone_index_free(db->idx);
	free(db);
}

size_t zone_db_zone_count(const struct zone_db *db)
{
	return db->nzones;
}

const struct zone_index *zone_db_index(const struct zone_db *db)
{
	return db->idx;
}

int zone_db_zone_info(const struct zone_db *db, size_t i, struct zone_info *out)
{
	if (i >= db->nzones)
		return -ENOENT;
	const struct zidx_zone *z = &db->idx->zones[i];
	*out = (struct zone_info){ .apex = db->zones[i].apex_text,
				   .serial = db->zones[i].serial,
				   .records = z->records,
				   .shadowed = z->shadowed,
				   .delegations = z->delegations };
	return 0;
}

int zone_db_zone_find(const struct zone_db *db, const uint8_t *apex, size_t apex_len)
{
	for (size_t i = 0; i < db->nzones; i++)
		if (dname_equal(db->zones[i].apex, db->zones[i].apex_len, apex, apex_len))
			return (int)i;
	return -ENOENT;
}

static struct source *find_source(const struct zone_db *db, uint32_t id)
{
	for (size_t i = 0; i < db->nsources; i++)
		if (db->sources[i].id == id)
			return &db->sources[i];
	return NULL;
}

size_t zone_db_source_records(const struct zone_db *db, uint32_t source)
{
	const struct source *s = find_source(db, source);
	return s ? s->n : 0;
}

/* The deepest zone holding a name, or -1. */
static int zone_of(const struct zone_db *db, const uint8_t *name, size_t len)
{
	int best = -1;
	for (size_t i = 0; i < db->nzones; i++)
		if (dname_is_below(name, len, db->zones[i].apex, db->zones[i].apex_len) &&
		    (best < 0 || db->zones[i].apex_len > db->zones[best].apex_len))
			best = (int)i;
	return best;
}

/* ---- The commit: compile, compare, bump, swap ---- */

/* Compiles every zone's SOA and NS and every source's records, with cand standing
 * in for the source of the same id (NULL: the sources as they are). */
static struct zone_index *compile(const struct zone_db *db, const struct source *cand)
{
	size_t n = 0;
	for (size_t z = 0; z < db->nzones; z++)
		n += 1 + db->zones[z].nns;
	for (size_t i = 0; i < db->nsources; i++)
		if (cand == NULL || db->sources[i].id != cand->id)
			n += db->sources[i].n;
	if (cand)
		n += cand->n;
	struct zidx_input *in = xcalloc(n ? n : 1, sizeof *in);
	const uint8_t **apex = xcalloc(db->nzones ? db->nzones : 1, sizeof *apex);
	size_t *apex_len = xcalloc(db->nzones ? db->nzones : 1, sizeof *apex_len);
	uint8_t *keys = xmalloc(db->nzones * ARBOR_DNS_NAME_WIRE_MAX + 1);
	size_t k = 0;
	for (uint16_t z = 0; z < db->nzones; z++) {
		const struct zone *zone = &db->zones[z];
		uint8_t *key = keys + (size_t)z * ARBOR_DNS_NAME_WIRE_MAX;
		dname_lower(zone->apex, zone->apex_len, key);
		apex[z] = zone->apex;
		apex_len[z] = zone->apex_len;
		struct zidx_input base = { .owner = zone->apex, .key = key, .owner_len = (uint8_t)zone->apex_len,
					   .zone = z, .ttl = zone->ttl, .rank = 0 };
		in[k] = base;
		in[k].type = ARBOR_DNS_TYPE_SOA;
		in[k].rdata = zone->soa;
		in[k++].rdlen = (uint16_t)zone->soa_len;
		const uint8_t *ns = zone->ns;
		for (size_t i = 0; i < zone->nns; i++) {
			size_t len = dname_len(ns); /* checked when the zone was added */
			in[k] = base;
			in[k].type = ARBOR_DNS_TYPE_NS;
			in[k].rdata = ns;
			in[k++].rdlen = (uint16_t)len;
			ns += len;
		}
	}
	for (size_t i = 0; i <= db->nsources; i++) {
		const struct source *s = i < db->nsources ? &db->sources[i] : cand;
		if (s == NULL || (i < db->nsources && cand && s->id == cand->id))
			continue;
		for (size_t r = 0; r < s->n; r++) {
			const struct src_rec *rec = &s->recs[r];
			int z = zone_of(db, rec->owner, rec->owner_len);
			if (z < 0)
				abort(); /* checked when the batch came in, and zones are never removed */
			in[k++] = (struct zidx_input){ .owner = rec->owner, .key = rec->key, .owner_len = rec->owner_len,
						       .zone = (uint16_t)z, .type = rec->type, .ttl = rec->ttl,
						       .rank = s->id, .rdata = rec->rdata, .rdlen = rec->rdlen };
		}
	}
	struct zone_index *idx = zone_index_build(in, k, (uint16_t)db->nzones, apex, apex_len);
	free(in);
	free(apex);
	free(apex_len);
	free(keys);
	return idx;
}

/* RFC 1982: the next serial is serial + 1, or now when now is later. */
static uint32_t next_serial(uint32_t serial, int64_t now)
{
	uint32_t next = serial + 1;
	uint32_t t = now <= 0 ? 0 : now >= UINT32_MAX ? UINT32_MAX : (uint32_t)now;
	return (int32_t)(t - next) > 0 ? t : next;
}

/* Compares the new index with the current one, bumps what changed, installs it.
 * Zones from first_new on are new (their serial is already set). */
static int install(struct zone_db *db, struct zone_index *idx, size_t first_new, int64_t now, bool *changed)
{
	int count = 0;
	for (uint16_t z = 0; z < db->nzones; z++) {
		bool diff = z < first_new && (db->idx == NULL || !zone_index_zone_equal(db->idx, idx, z));
		if (diff) {
			struct zone *zone = &db->zones[z];
			zone->serial = next_serial(zone->serial, now);
			put_be32(zone->soa + zone->soa_len - 20, zone->serial);
			zone_index_set_serial(idx, z, zone->serial);
			count++;
		}
		if (changed)
			changed[z] = diff;
	}
	zone_index_free(db->idx);
	db->idx = idx;
	return count;
}

/* ---- Zones ---- */

int zone_db_add_zone(struct zone_db *db, const char *apex_text, const struct zone_soa *soa, const char *const *ns,
		     size_t nns, int64_t now, char *err, size_t errlen)
{
	uint8_t apex[ARBOR_DNS_NAME_WIRE_MAX], name[ARBOR_DNS_NAME_WIRE_MAX];
	if (err && errlen)
		err[0] = '\0';
	if (soa == NULL)
		return fail(err, errlen, "zone has no SOA settings");
	int alen = arbor_dns_name_from_text(apex_text ? apex_text : "", apex, sizeof apex);
	if (alen < 0)
		return fail(err, errlen, "zone apex \"%.100s\" is not a valid name", apex_text ? apex_text : "");
	if (zone_db_zone_find(db, apex, (size_t)alen) >= 0) {
		fail(err, errlen, "zone %.300s is already served", apex_text);
		return -EEXIST;
	}
	if (nns == 0 || ns == NULL)
		return fail(err, errlen, "zone %.300s needs at least one NS name", apex_text);
	if (db->nzones >= UINT16_MAX)
		return fail(err, errlen, "too many zones");

	struct zone zone = { .apex_len = (size_t)alen, .ttl = soa->ttl, .nns = nns };
	memcpy(zone.apex, apex, (size_t)alen);
	if (arbor_dns_name_to_text(apex, (size_t)alen, zone.apex_text, sizeof zone.apex_text) < 0)
		return fail(err, errlen, "zone apex cannot be shown as text");
	zone.ns = xmalloc(nns * ARBOR_DNS_NAME_WIRE_MAX);
	for (size_t i = 0; i < nns; i++) {
		int n = dname_from_text(ns[i] ? ns[i] : "", apex, (size_t)alen, name, sizeof name);
		if (n < 0) {
			free(zone.ns);
			return fail(err, errlen, "zone %.300s: NS name \"%.100s\" is not a valid name", zone.apex_text,
				    ns[i] ? ns[i] : "");
		}
		memcpy(zone.ns + zone.ns_bytes, name, (size_t)n);
		zone.ns_bytes += (size_t)n;
	}
	/* SOA rdata: mname rname serial refresh retry expire minimum. */
	const char *names[2] = { soa->mname, soa->rname ? soa->rname : "hostmaster" };
	static const char *const what[2] = { "SOA mname", "SOA rname" };
	for (int i = 0; i < 2; i++) {
		int n;
		if (names[i] == NULL) { /* mname: the first NS */
			n = (int)dname_len(zone.ns);
			memcpy(name, zone.ns, (size_t)n);
		} else {
			n = dname_from_text(names[i], apex, (size_t)alen, name, sizeof name);
		}
		if (n < 0) {
			free(zone.ns);
			return fail(err, errlen, "zone %.300s: %s \"%.100s\" is not a valid name", zone.apex_text,
				    what[i], names[i]);
		}
		memcpy(zone.soa + zone.soa_len, name, (size_t)n);
		zone.soa_len += (size_t)n;
	}
	uint32_t t = now <= 0 ? 0 : now >= UINT32_MAX ? UINT32_MAX : (uint32_t)now;
	zone.serial = soa->serial > t ? soa->serial : t;
	const uint32_t fields[5] = { zone.serial, soa->refresh, soa->retry, soa->expire, soa->minimum };
	for (int i = 0; i < 5; i++)
		put_be32(zone.soa + zone.soa_len + 4 * (size_t)i, fields[i]);
	zone.soa_len += 20;

	db->zones = xrealloc(db->zones, (db->nzones + 1) * sizeof *db->zones);
	db->zones[db->nzones++] = zone;
	struct zone_index *idx = compile(db, NULL);
	if (idx == NULL) {
		free(db->zones[--db->nzones].ns);
		return -ENOMEM;
	}
	/* A zone inside another takes over names of the outer one: that is a change. */
	install(db, idx, db->nzones - 1, now, NULL);
	return (int)db->nzones - 1;
}

/* ---- Sources ---- */

static bool storable_type(uint16_t type)
{
	switch (type) {
	case 0:
	case ARBOR_DNS_TYPE_SOA:   /* the zone's own, from its settings */
	case ARBOR_DNS_TYPE_DNAME: /* no DNAME substitution here */
	case ARBOR_DNS_TYPE_OPT:
	case ARBOR_DNS_TYPE_RRSIG: /* no DNSSEC: these would only mislead validators */
	case ARBOR_DNS_TYPE_NSEC:
	case ARBOR_DNS_TYPE_DNSKEY:
	case 50: /* NSEC3 */
	case 51: /* NSEC3PARAM */
		return false;
	default:
		return type < 128 || type > 255; /* 128-255: meta types and QTYPEs */
	}
}

/* Checks one record of a batch (i: its index, for the message). */
static int check_record(const struct zone_db *db, size_t i, const struct zone_record *r, char *err, size_t errlen)
{
	char owner[ARBOR_DNS_NAME_TEXT_MAX], tb[16];
	const char *tname = arbor_dns_type_text(r->type, tb);
	if (r->owner == NULL || dname_check(r->owner, r->owner_len) < 0)
		return fail(err, errlen, "record %zu (%s): owner is not a valid wire name", i, tname);
	arbor_dns_name_to_text(r->owner, r->owner_len, owner, sizeof owner);
	int z = zone_of(db, r->owner, r->owner_len);
	if (z < 0) {
		char zones[512] = "";
		size_t used = 0;
		for (size_t k = 0; k < db->nzones && used < sizeof zones - 1; k++) {
			int w = snprintf(zones + used, sizeof zones - used, "%s%s", k ? ", " : "",
					 db->zones[k].apex_text);
			used += w < 0 ? 0 : (size_t)w;
		}
		return fail(err, errlen, "record %zu (%s %s): owner is outside all zones (%s)", i, owner, tname,
			    db->nzones ? zones : "none configured");
	}
	bool at_apex = r->owner_len == db->zones[z].apex_len;
	if (!storable_type(r->type))
		return fail(err, errlen, "record %zu (%s %s): records of this type cannot be stored", i, owner, tname);
	if (at_apex && (r->type == ARBOR_DNS_TYPE_CNAME || r->type == ARBOR_DNS_TYPE_DS))
		return fail(err, errlen, "record %zu (%s %s): not allowed at a zone apex", i, owner, tname);
	if (r->ttl > INT32_MAX)
		return fail(err, errlen, "record %zu (%s %s): TTL %u is over 2147483647", i, owner, tname, r->ttl);
	if (r->rdata_len > MAX_RDATA || (r->rdata == NULL && r->rdata_len))
		return fail(err, errlen, "record %zu (%s %s): rdata is longer than %d bytes", i, owner, tname,
			    MAX_RDATA);
	const char *problem = rdata_wire_problem(r->type, r->rdata, r->rdata_len);
	if (problem)
		return fail(err, errlen, "record %zu (%s %s): %s", i, owner, tname, problem);
	return 0;
}

/* Sort order for the CNAME check: lower-cased owner, then type. */
static int cmp_rec(const void *pa, const void *pb)
{
	const struct src_rec *a = *(const struct src_rec *const *)pa, *b = *(const struct src_rec *const *)pb;
	if (a->owner_len != b->owner_len)
		return a->owner_len < b->owner_len ? -1 : 1;
	int c = memcmp(a->key, b->key, a->owner_len);
	if (c)
		return c;
	return a->type < b->type ? -1 : a->type > b->type;
}

/* Within one batch: no CNAME next to other data, one CNAME target per name. */
static int check_cnames(const struct source *s, char *err, size_t errlen)
{
	const struct src_rec **v = xmalloc((s->n ? s->n : 1) * sizeof *v);
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->recs[i];
	qsort(v, s->n, sizeof *v, cmp_rec);
	int rc = 0;
	for (size_t i = 0; i < s->n && rc == 0;) {
		size_t j = i + 1;
		while (j < s->n && v[j]->owner_len == v[i]->owner_len &&
		       memcmp(v[j]->key, v[i]->key, v[i]->owner_len) == 0)
			j++;
		size_t cnames = 0, other = 0;
		const struct src_rec *first = NULL;
		bool two_targets = false;
		for (size_t k = i; k < j; k++) {
			if (v[k]->type != ARBOR_DNS_TYPE_CNAME) {
				other++;
				continue;
			}
			if (first && (first->rdlen != v[k]->rdlen || !dname_equal(first->rdata, first->rdlen,
										  v[k]->rdata, v[k]->rdlen)))
				two_targets = true;
			if (first == NULL)
				first = v[k];
			cnames++;
		}
		if (cnames && (other || two_targets)) {
			char owner[ARBOR_DNS_NAME_TEXT_MAX];
			arbor_dns_name_to_text(v[i]->owner, v[i]->owner_len, owner, sizeof owner);
			rc = fail(err, errlen, "%s has %s", owner,
				  other ? "a CNAME and other records (a CNAME must be alone at its name)"
					: "two CNAME targets");
		}
		i = j;
	}
	free(v);
	return rc;
}

/* Copies a batch into a new source (owners, lower-cased keys and rdata in one
 * block). */
static void source_copy(struct source *s, uint32_t id, const struct zone_record *recs, size_t n)
{
	*s = (struct source){ .id = id, .n = n };
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += 2 * recs[i].owner_len + recs[i].rdata_len;
	s->recs = xcalloc(n ? n : 1, sizeof *s->recs);
	s->mem = xmalloc(bytes ? bytes : 1);
	uint8_t *p = s->mem;
	for (size_t i = 0; i < n; i++) {
		struct src_rec *r = &s->recs[i];
		size_t len = recs[i].owner_len;
		memcpy(p, recs[i].owner, len);
		r->owner = p;
		dname_lower(p, len, p + len);
		r->key = p + len;
		p += 2 * len;
		if (recs[i].rdata_len)
			memcpy(p, recs[i].rdata, recs[i].rdata_len);
		r->rdata = p;
		p += recs[i].rdata_len;
		r->owner_len = (uint8_t)len;
		r->rdlen = (uint16_t)recs[i].rdata_len;
		r->type = recs[i].type;
		r->ttl = recs[i].ttl;
	}
}

int zone_db_replace_source(struct zone_db *db, uint32_t source, const struct zone_record *recs, size_t n,
			   int64_t now, bool *changed, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (source == 0)
		return fail(err, errlen, "source id 0 is reserved");
	if (n && recs == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int rc = check_record(db, i, &recs[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	struct source cand;
	source_copy(&cand, source, recs, n);
	int rc = check_cnames(&cand, err, errlen);
	if (rc < 0) {
		source_free(&cand);
		return rc;
	}
	struct source *old = find_source(db, source);
	if (old == NULL && n)
		db->sources = xrealloc(db->sources, (db->nsources + 1) * sizeof *db->sources);
	struct zone_index *idx = db->nzones ? compile(db, &cand) : NULL;
	if (db->nzones && idx == NULL) {
		source_free(&cand);
		return -ENOMEM;
	}
	/* Nothing can fail from here on. */
	if (old) {
		source_free(old);
		if (n) {
			*old = cand;
		} else {
			*old = db->sources[--db->nsources];
			source_free(&cand);
		}
	} else if (n) {
		db->sources[db->nsources++] = cand;
	} else {
		source_free(&cand);
	}
	if (idx == NULL)
		return 0;
	return install(db, idx, db->nzones, now, changed);
}

int zone_db_withdraw_source(struct zone_db *db, uint32_t source, int64_t now, bool *changed)
{
	return zone_db_replace_source(db, source, NULL, 0, now, changed, NULL, 0);
}
