/* The response writer: appends names and records to a message buffer up to a
 * limit, with name compression (RFC 1035 §4.1.4), and rolls back to a mark so that
 * a record set that does not fit is dropped whole (truncation never splits an
 * RRset). Compression remembers where each written name suffix starts, keyed by the
 * suffix hash of dname.h, so finding the longest known suffix of a new name costs a
 * few integer comparisons per label and one confirming byte comparison. Names in
 * rdata are compressed only for the RFC 1035 types (RFC 3597 §4); SRV targets and
 * the like are written whole. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dname.h"

#define DNSD_WRITER_NAMES 64 /* suffixes remembered; later names are still correct, just longer */

enum dnsd_section { DNSD_SEC_ANSWER = 0, DNSD_SEC_AUTHORITY = 1, DNSD_SEC_ADDITIONAL = 2 };

struct dnsd_wname {
	uint32_t hash;
	uint16_t off;
	uint8_t labels;
};

struct dnsd_writer {
	uint8_t *buf;
	size_t limit; /* nothing is written at or past buf + limit */
	size_t len;
	uint16_t count[3];
	unsigned nnames;
	struct dnsd_wname names[DNSD_WRITER_NAMES];
};

struct dnsd_wmark {
	size_t len;
	uint16_t count[3];
	unsigned nnames;
};

/* Starts with len bytes already in buf (the header and question). */
void dnsd_writer_init(struct dnsd_writer *w, uint8_t *buf, size_t limit, size_t len);

/* Remembers a flat name already in the buffer at off (the question), split in l. */
void dnsd_writer_remember(struct dnsd_writer *w, size_t off, const struct dname_labels *l);

static inline struct dnsd_wmark dnsd_writer_mark(const struct dnsd_writer *w)
{
	return (struct dnsd_wmark){ .len = w->len,
				    .count = { w->count[0], w->count[1], w->count[2] },
				    .nnames = w->nnames };
}

static inline void dnsd_writer_rollback(struct dnsd_writer *w, const struct dnsd_wmark *m)
{
	w->len = m->len;
	w->nnames = m->nnames;
	for (int i = 0; i < 3; i++)
		w->count[i] = m->count[i];
}

/* Writes a checked flat name, compressed against what is already written when
 * compress is set. *ref (may be NULL) gets an offset a later pointer can use for the
 * same name, or 0 when there is none within pointer reach. Returns 0 or -ENOSPC. */
int dnsd_writer_name(struct dnsd_writer *w, const uint8_t *name, bool compress, uint16_t *ref);

/* Writes a pointer to ref (from dnsd_writer_name) or, when ref is 0, the name. */
int dnsd_writer_owner(struct dnsd_writer *w, const uint8_t *name, uint16_t ref);

/* Writes type, class, TTL and rdata (flat names inside, compressed per type) after
 * an owner, and counts the record in section. Returns 0 or -ENOSPC. */
int dnsd_writer_rr_body(struct dnsd_writer *w, enum dnsd_section section, uint16_t type, uint16_t rclass,
			uint32_t ttl, const uint8_t *rdata, size_t rdlen);

/* The OPT record (RFC 6891): our payload size, the extended rcode's upper bits,
 * version 0, the DO bit; no options. Counted in the additional section. */
int dnsd_writer_opt(struct dnsd_writer *w, uint16_t payload, uint8_t ext_rcode, bool do_bit);

/* Where the names are inside rdata of a type: `prefix` fixed bytes, then `names`
 * names, then exactly `suffix` fixed bytes (SOA: 0, 2, 20; MX: 2, 1, 0). Returns
 * false for types whose rdata holds no names (or is opaque to us). compress tells
 * whether those names may be compressed (RFC 3597 §4: RFC 1035 types only). */
bool dnsd_rdata_layout(uint16_t type, unsigned *prefix, unsigned *names, unsigned *suffix, bool *compress);
