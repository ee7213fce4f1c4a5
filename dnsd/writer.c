/* The response writer with name compression (see writer.h). */
#include "writer.h"

#include <errno.h>
#include <string.h>

#include "byteorder.h"
#include "dns_wire.h"

#define POINTER_REACH 0x4000 /* a pointer holds a 14-bit offset */

void dnsd_writer_init(struct dnsd_writer *w, uint8_t *buf, size_t limit, size_t len)
{
	w->buf = buf;
	w->limit = limit;
	w->len = len;
	w->count[0] = w->count[1] = w->count[2] = 0;
	w->nnames = 0;
}

static void remember(struct dnsd_writer *w, size_t off, unsigned labels, uint32_t hash)
{
	if (off >= POINTER_REACH || w->nnames == DNSD_WRITER_NAMES)
		return;
	w->names[w->nnames++] = (struct dnsd_wname){ .hash = hash, .off = (uint16_t)off, .labels = (uint8_t)labels };
}

void dnsd_writer_remember(struct dnsd_writer *w, size_t off, const struct dname_labels *l)
{
	for (unsigned j = 0; j < l->n; j++)
		remember(w, off + l->off[j], l->n - j, l->hash[j]);
}

/* Whether the name written at off (following our own pointers) is name, up to case. */
static bool written_is(const struct dnsd_writer *w, size_t off, const uint8_t *name)
{
	size_t pos = off;
	for (unsigned hops = 0;;) {
		if (pos >= w->len)
			return false;
		uint8_t c = w->buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= w->len || ++hops > DNAME_MAX_LABELS)
				return false;
			size_t target = (size_t)(c & 0x3f) << 8 | w->buf[pos + 1];
			if (target >= pos)
				return false;
			pos = target;
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		if (w->len - pos <= c)
			return false;
		for (unsigned i = 1; i <= c; i++)
			if (dname_lower_byte(w->buf[pos + i]) != dname_lower_byte(name[i]))
				return false;
		pos += 1 + (size_t)c;
		name += 1 + (size_t)c;
	}
}

int dnsd_writer_name(struct dnsd_writer *w, const uint8_t *name, bool compress, uint16_t *ref)
{
	struct dname_labels l;
	dname_split(name, &l);
	unsigned at = l.n;
	int target = -1;
	for (unsigned i = 0; compress && i < l.n && target < 0; i++) {
		for (unsigned e = 0; e < w->nnames; e++) {
			const struct dnsd_wname *n = &w->names[e];
			if (n->hash == l.hash[i] && n->labels == l.n - i && written_is(w, n->off, name + l.off[i])) {
				at = i;
				target = n->off;
				break;
			}
		}
	}
	size_t raw = at < l.n ? l.off[at] : dname_len(name) - 1;
	size_t need = raw + (target >= 0 ? 2 : 1);
	if (w->len > w->limit || need > w->limit - w->len)
		return -ENOSPC;
	size_t start = w->len;
	memcpy(w->buf + start, name, raw);
	w->len += raw;
	if (compress)
		for (unsigned j = 0; j < at; j++)
			remember(w, start + l.off[j], l.n - j, l.hash[j]);
	if (target >= 0) {
		put_be16(w->buf + w->len, 0xc000u | (unsigned)target);
		w->len += 2;
	} else {
		w->buf[w->len++] = 0;
	}
	if (ref)
		*ref = at == 0 && target >= 0 ? (uint16_t)target : start < POINTER_REACH ? (uint16_t)start : 0;
	return 0;
}

int dnsd_writer_owner(struct dnsd_writer *w, const uint8_t *name, uint16_t ref)
{
	if (ref == 0)
		return dnsd_writer_name(w, name, true, NULL);
	if (w->len > w->limit || w->limit - w->len < 2)
		return -ENOSPC;
	put_be16(w->buf + w->len, 0xc000u | ref);
	w->len += 2;
	return 0;
}

bool dnsd_rdata_layout(uint16_t type, unsigned *prefix, unsigned *names, unsigned *suffix, bool *compress)
{
	*prefix = 0;
	*names = 1;
	*suffix = 0;
	*compress = false;
	switch (type) {
	case ARBOR_DNS_TYPE_NS:
	case 3: /* MD */
	case 4: /* MF */
	case ARBOR_DNS_TYPE_CNAME:
	case 7: /* MB */
	case 8: /* MG */
	case 9: /* MR */
	case ARBOR_DNS_TYPE_PTR:
		*compress = true;
		return true;
	case ARBOR_DNS_TYPE_SOA:
		*names = 2;
		*suffix = 20;
		*compress = true;
		return true;
	case 14: /* MINFO */
		*names = 2;
		*compress = true;
		return true;
	case ARBOR_DNS_TYPE_MX:
		*prefix = 2;
		*compress = true;
		return true;
	case 17: /* RP */
		*names = 2;
		return true;
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		*prefix = 2;
		return true;
	case 26: /* PX */
		*prefix = 2;
		*names = 2;
		return true;
	case ARBOR_DNS_TYPE_SRV:
		*prefix = 6;
		return true;
	case ARBOR_DNS_TYPE_DNAME:
		return true;
	default:
		return false;
	}
}

/* The length of a flat name at the start of p[0..len), or 0 when there is none. */
static size_t flat_len(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos < len && pos < ARBOR_DNS_NAME_WIRE_MAX) {
		uint8_t c = p[pos];
		if (c == 0)
			return pos + 1;
		if (c > ARBOR_DNS_LABEL_MAX)
			return 0;
		pos += 1 + (size_t)c;
	}
	return 0;
}

/* Writes rdata with its names compressed; false when it does not match the layout
 * (then it is copied as it is). */
static int rdata_names(struct dnsd_writer *w, uint16_t type, const uint8_t *rd, size_t rdlen, bool *done)
{
	unsigned prefix, names, suffix;
	bool compress;
	*done = false;
	if (!dnsd_rdata_layout(type, &prefix, &names, &suffix, &compress) || rdlen < prefix)
		return 0;
	size_t pos = prefix, name_at[2], name_len[2];
	for (unsigned i = 0; i < names; i++) {
		name_len[i] = flat_len(rd + pos, rdlen - pos);
		if (name_len[i] == 0)
			return 0;
		name_at[i] = pos;
		pos += name_len[i];
	}
	if (rdlen - pos != suffix)
		return 0;
	if (prefix > w->limit - w->len)
		return -ENOSPC;
	memcpy(w->buf + w->len, rd, prefix);
	w->len += prefix;
	for (unsigned i = 0; i < names; i++) {
		int rc = dnsd_writer_name(w, rd + name_at[i], compress, NULL);
		if (rc < 0)
			return rc;
	}
	if (suffix > w->limit - w->len)
		return -ENOSPC;
	memcpy(w->buf + w->len, rd + pos, suffix);
	w->len += suffix;
	*done = true;
	return 0;
}

int dnsd_writer_rr_body(struct dnsd_writer *w, enum dnsd_section section, uint16_t type, uint16_t rclass,
			uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	if (w->len > w->limit || w->limit - w->len < 10)
		return -ENOSPC;
	size_t start = w->len;
	uint8_t *p = w->buf + start;
	put_be16(p, type);
	put_be16(p + 2, rclass);
	put_be32(p + 4, ttl);
	w->len += 10;
	bool done;
	int rc = rdata_names(w, type, rdata, rdlen, &done);
	if (rc < 0)
		return rc;
	if (!done) {
		if (rdlen > w->limit - w->len)
			return -ENOSPC;
		memcpy(w->buf + w->len, rdata, rdlen);
		w->len += rdlen;
	}
	put_be16(p + 8, (unsigned)(w->len - start - 10));
	w->count[section]++;
	return 0;
}

int dnsd_writer_opt(struct dnsd_writer *w, uint16_t payload, uint8_t ext_rcode, bool do_bit)
{
	if (w->len > w->limit || w->limit - w->len < 11)
		return -ENOSPC;
	uint8_t *p = w->buf + w->len;
	p[0] = 0;
	put_be16(p + 1, ARBOR_DNS_TYPE_OPT);
	put_be16(p + 3, payload);
	p[5] = ext_rcode;
	p[6] = 0; /* version */
	put_be16(p + 7, do_bit ? ARBOR_DNS_EDNS_DO : 0);
	put_be16(p + 9, 0);
	w->len += 11;
	w->count[DNSD_SEC_ADDITIONAL]++;
	return 0;
}
