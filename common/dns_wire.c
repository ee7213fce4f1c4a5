/* DNS message wire codec: names (text, flat wire, compressed), query building,
 * message parsing and rdata rendering. Every read is bounds-checked against the
 * length the caller gave; nothing here allocates or does I/O. */
#include "dns_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "byteorder.h"

/* A compressed name has at most 127 labels besides the root, and a compressor never
 * needs more than one pointer per label: more is an attack, not a name. */
#define MAX_POINTERS 127

/* ---- Mnemonics ---- */

struct mnemonic {
	int value;
	const char *name;
};

static const struct mnemonic types[] = {
	{ ARBOR_DNS_TYPE_A, "A" },         { ARBOR_DNS_TYPE_NS, "NS" },       { ARBOR_DNS_TYPE_CNAME, "CNAME" },
	{ ARBOR_DNS_TYPE_SOA, "SOA" },     { ARBOR_DNS_TYPE_PTR, "PTR" },     { ARBOR_DNS_TYPE_HINFO, "HINFO" },
	{ ARBOR_DNS_TYPE_MX, "MX" },       { ARBOR_DNS_TYPE_TXT, "TXT" },     { ARBOR_DNS_TYPE_AAAA, "AAAA" },
	{ ARBOR_DNS_TYPE_SRV, "SRV" },     { ARBOR_DNS_TYPE_DNAME, "DNAME" }, { ARBOR_DNS_TYPE_OPT, "OPT" },
	{ ARBOR_DNS_TYPE_DS, "DS" },       { ARBOR_DNS_TYPE_RRSIG, "RRSIG" }, { ARBOR_DNS_TYPE_NSEC, "NSEC" },
	{ ARBOR_DNS_TYPE_DNSKEY, "DNSKEY" }, { ARBOR_DNS_TYPE_SVCB, "SVCB" }, { ARBOR_DNS_TYPE_HTTPS, "HTTPS" },
	{ ARBOR_DNS_TYPE_IXFR, "IXFR" },   { ARBOR_DNS_TYPE_AXFR, "AXFR" },   { ARBOR_DNS_TYPE_ANY, "ANY" },
	{ ARBOR_DNS_TYPE_CAA, "CAA" },
};

static const struct mnemonic rcodes[] = {
	{ ARBOR_DNS_RCODE_NOERROR, "NOERROR" },   { ARBOR_DNS_RCODE_FORMERR, "FORMERR" },
	{ ARBOR_DNS_RCODE_SERVFAIL, "SERVFAIL" }, { ARBOR_DNS_RCODE_NXDOMAIN, "NXDOMAIN" },
	{ ARBOR_DNS_RCODE_NOTIMP, "NOTIMP" },     { ARBOR_DNS_RCODE_REFUSED, "REFUSED" },
	{ ARBOR_DNS_RCODE_YXDOMAIN, "YXDOMAIN" }, { ARBOR_DNS_RCODE_YXRRSET, "YXRRSET" },
	{ ARBOR_DNS_RCODE_NXRRSET, "NXRRSET" },   { ARBOR_DNS_RCODE_NOTAUTH, "NOTAUTH" },
	{ ARBOR_DNS_RCODE_NOTZONE, "NOTZONE" },   { ARBOR_DNS_RCODE_BADVERS, "BADVERS" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "PREFIX123" with 1..5 decimal digits and a value <= max, or -EINVAL. */
static int generic_number(const char *s, const char *prefix, long max)
{
	size_t plen = strlen(prefix);
	if (strncasecmp(s, prefix, plen) != 0)
		return -EINVAL;
	s += plen;
	long v = 0;
	size_t digits = 0;
	for (; *s; s++, digits++) {
		if (*s < '0' || *s > '9' || digits == 5)
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	return digits && v <= max ? (int)v : -EINVAL;
}

static int from_name(const struct mnemonic *table, size_t n, const char *s, const char *prefix, long max)
{
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, table[i].name) == 0)
			return table[i].value;
	return generic_number(s, prefix, max);
}

static const char *to_name(const struct mnemonic *table, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}

int arbor_dns_type_from_name(const char *s)
{
	return from_name(types, COUNT(types), s, "TYPE", 65535);
}

const char *arbor_dns_type_name(int type)
{
	return to_name(types, COUNT(types), type);
}

const char *arbor_dns_type_text(int type, char buf[16])
{
	const char *name = arbor_dns_type_name(type);
	if (name)
		return name;
	snprintf(buf, 16, "TYPE%d", type);
	return buf;
}

int arbor_dns_rcode_from_name(const char *s)
{
	return from_name(rcodes, COUNT(rcodes), s, "RCODE", 4095);
}

const char *arbor_dns_rcode_name(int rcode)
{
	return to_name(rcodes, COUNT(rcodes), rcode);
}

/* ---- Text output: appends until full, always NUL-terminated (cap > 0) ---- */

struct text {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->full || n >= t->cap - t->len) {
		t->full = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void putc_(struct text *t, char c)
{
	put(t, &c, 1);
}

static void __attribute__((format(printf, 2, 3))) putf(struct text *t, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		t->full = true;
	else
		put(t, tmp, (size_t)n);
}

static int text_start(struct text *t, char *buf, size_t cap)
{
	*t = (struct text){ .buf = buf, .cap = cap };
	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	return 0;
}

static int text_done(const struct text *t)
{
	return t->full ? -ENOSPC : (int)t->len;
}

/* A byte of a label: master-file specials as \X, the unprintable as \DDD. */
static void put_label_byte(struct text *t, uint8_t b)
{
	static const char specials[] = ".\\\"();@$";
	if (b <= 0x20 || b >= 0x7f)
		putf(t, "\\%03u", b);
	else if (memchr(specials, b, sizeof specials - 1))
		put(t, (const char[]){ '\\', (char)b }, 2);
	else
		putc_(t, (char)b);
}

/* A byte of a character-string, inside double quotes. */
static void put_string_byte(struct text *t, uint8_t b)
{
	if (b < 0x20 || b >= 0x7f)
		putf(t, "\\%03u", b);
	else if (b == '"' || b == '\\')
		put(t, (const char[]){ '\\', (char)b }, 2);
	else
		putc_(t, (char)b);
}

/* ---- Names ---- */

/* Whether wire[0..len) is exactly one well-formed flat name. */
static bool flat_name_ok(const uint8_t *wire, size_t len)
{
	if (len == 0 || len > ARBOR_DNS_NAME_WIRE_MAX)
		return false;
	size_t pos = 0;
	while (pos < len) {
		uint8_t c = wire[pos];
		if (c == 0)
			return pos + 1 == len;
		if (c > ARBOR_DNS_LABEL_MAX)
			return false;
		pos += 1 + (size_t)c;
	}
	return false;
}

/* Writes a flat name known to be well-formed. */
static void put_flat_name(struct text *t, const uint8_t *wire)
{
	if (wire[0] == 0) {
		putc_(t, '.');
		return;
	}
	for (size_t pos = 0; wire[pos] != 0; pos += 1 + (size_t)wire[pos]) {
		for (size_t i = 1; i <= wire[pos]; i++)
			put_label_byte(t, wire[pos + i]);
		putc_(t, '.');
	}
}

int arbor_dns_name_from_text(const char *text, uint8_t *wire, size_t cap)
{
	uint8_t tmp[ARBOR_DNS_NAME_WIRE_MAX];
	size_t n = 0;
	if (text == NULL || text[0] == '\0')
		return -EINVAL;
	if (strcmp(text, ".") != 0) {
		const char *p = text;
		while (*p) {
			/* Every byte written here leaves room for the root label (n <= 254). */
			if (n >= ARBOR_DNS_NAME_WIRE_MAX - 1)
				return -EINVAL;
			size_t len_at = n++;
			size_t label = 0;
			while (*p && *p != '.') {
				unsigned c;
				if (*p == '\\') {
					p++;
					if (*p >= '0' && *p <= '9') {
						if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
							return -EINVAL;
						c = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
						    (unsigned)(p[2] - '0');
						if (c > 255)
							return -EINVAL;
						p += 3;
					} else if (*p == '\0') {
						return -EINVAL;
					} else {
						c = (unsigned char)*p++;
					}
				} else {
					c = (unsigned char)*p++;
				}
				if (label == ARBOR_DNS_LABEL_MAX || n >= ARBOR_DNS_NAME_WIRE_MAX - 1)
					return -EINVAL;
				tmp[n++] = (uint8_t)c;
				label++;
			}
			if (label == 0)
				return -EINVAL; /* "a..b", ".a", ".." */
			tmp[len_at] = (uint8_t)label;
			if (*p == '.')
				p++;
		}
	}
	tmp[n++] = 0;
	if (wire == NULL || cap < n)
		return -ENOSPC;
	memcpy(wire, tmp, n);
	return (int)n;
}

int arbor_dns_name_to_text(const uint8_t *wire, size_t wire_len, char *out, size_t cap)
{
	struct text t;
	int rc = text_start(&t, out, cap);
	if (rc < 0)
		return rc;
	if (wire == NULL || !flat_name_ok(wire, wire_len))
		return -EBADMSG;
	put_flat_name(&t, wire);
	return text_done(&t);
}

/* A pointer may target msg[lowest..the label run that holds it). */
static int name_unpack(const uint8_t *msg, size_t len, size_t off, size_t lowest, uint8_t *wire, size_t *next)
{
	size_t pos = off, run_start = off, n = 0, after = 0;
	unsigned pointers = 0;
	if (msg == NULL || wire == NULL)
		return -EINVAL;
	if (len > ARBOR_DNS_MAX_MSG)
		return -EBADMSG;
	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return -EBADMSG;
			size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			/* Strictly before the run of labels holding the pointer: no loops,
			 * no forward references, nothing past the end. */
			if (target < lowest || target >= run_start || ++pointers > MAX_POINTERS)
				return -EBADMSG;
			if (pointers == 1)
				after = pos + 2;
			pos = run_start = target;
			continue;
		}
		if (c > ARBOR_DNS_LABEL_MAX)
			return -EBADMSG; /* 0x40 and 0x80: extended and reserved label kinds */
		if (len - pos <= c)
			return -EBADMSG;
		if (c == 0)
			break;
		if (n + 1 + c > ARBOR_DNS_NAME_WIRE_MAX - 1)
			return -EBADMSG;
		memcpy(wire + n, msg + pos, 1 + (size_t)c);
		n += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	wire[n++] = 0;
	if (next)
		*next = pointers ? after : pos + 1;
	return (int)n;
}

int arbor_dns_name_unpack(const uint8_t *msg, size_t len, size_t off, uint8_t *wire, size_t *next)
{
	return name_unpack(msg, len, off, ARBOR_DNS_HEADER_LEN, wire, next);
}

int arbor_dns_name_unpack_value(const uint8_t *buf, size_t len, size_t off, bool compression, uint8_t *wire,
				size_t *next)
{
	return name_unpack(buf, len, off, compression ? 0 : SIZE_MAX, wire, next);
}

int arbor_dns_name_read(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap, size_t *next)
{
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_unpack(msg, len, off, wire, next);
	if (n < 0)
		return n;
	return arbor_dns_name_to_text(wire, (size_t)n, out, cap);
}

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

bool arbor_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (a == NULL || b == NULL || alen != blen || !flat_name_ok(a, alen) || !flat_name_ok(b, blen))
		return false;
	/* Same length bytes at the same places, then the label bytes up to case. */
	for (size_t pos = 0; pos < alen; pos += 1 + (size_t)a[pos]) {
		if (a[pos] != b[pos])
			return false;
		for (size_t i = 1; i <= a[pos]; i++)
			if (ascii_lower(a[pos + i]) != ascii_lower(b[pos + i]))
				return false;
	}
	return true;
}

/* ---- Queries ---- */

int arbor_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype, bool rd,
			  uint16_t edns_payload)
{
	uint8_t qname[ARBOR_DNS_NAME_WIRE_MAX];
	int qlen = arbor_dns_name_from_text(name, qname, sizeof qname);
	if (qlen < 0)
		return qlen;
	size_t need = ARBOR_DNS_HEADER_LEN + (size_t)qlen + 4 + (edns_payload ? 11 : 0);
	if (buf == NULL || cap < need)
		return -ENOSPC;
	memset(buf, 0, need);
	put_be16(buf, id);
	put_be16(buf + 2, rd ? ARBOR_DNS_FLAG_RD : 0);
	put_be16(buf + 4, 1);
	put_be16(buf + 10, edns_payload ? 1 : 0);
	uint8_t *p = buf + ARBOR_DNS_HEADER_LEN;
	memcpy(p, qname, (size_t)qlen);
	p += qlen;
	put_be16(p, qtype);
	put_be16(p + 2, ARBOR_DNS_CLASS_IN);
	p += 4;
	if (edns_payload) {
		/* Root owner, TYPE OPT, CLASS payload, TTL 0 (rcode, version 0, no DO), no options. */
		put_be16(p + 1, ARBOR_DNS_TYPE_OPT);
		put_be16(p + 3, edns_payload);
	}
	return (int)need;
}

/* ---- Parsing ---- */

static void parse_header(const uint8_t *msg, struct arbor_dns_header *h)
{
	h->id = get_be16(msg);
	h->flags = get_be16(msg + 2);
	h->qr = h->flags & ARBOR_DNS_FLAG_QR;
	h->opcode = (uint8_t)((h->flags & ARBOR_DNS_OPCODE_MASK) >> ARBOR_DNS_OPCODE_SHIFT);
	h->aa = h->flags & ARBOR_DNS_FLAG_AA;
	h->tc = h->flags & ARBOR_DNS_FLAG_TC;
	h->rd = h->flags & ARBOR_DNS_FLAG_RD;
	h->ra = h->flags & ARBOR_DNS_FLAG_RA;
	h->ad = h->flags & ARBOR_DNS_FLAG_AD;
	h->cd = h->flags & ARBOR_DNS_FLAG_CD;
	h->rcode = h->flags & ARBOR_DNS_RCODE_MASK;
	h->qdcount = get_be16(msg + 4);
	h->ancount = get_be16(msg + 6);
	h->nscount = get_be16(msg + 8);
	h->arcount = get_be16(msg + 10);
}

/* The OPT record: one, in the additional section, owned by the root, its options a
 * well-formed list of (code, length, data). */
static int parse_opt(const uint8_t *msg, struct arbor_dns_message *out, const struct arbor_dns_rr *rr,
		     int owner_len)
{
	struct arbor_dns_opt *opt = &out->opt;
	if (opt->present || rr->section != ARBOR_DNS_SECTION_ADDITIONAL || owner_len != 1)
		return -EBADMSG;
	for (size_t pos = 0; pos < rr->rdata_len;) {
		if (rr->rdata_len - pos < 4)
			return -EBADMSG;
		size_t olen = get_be16(msg + rr->rdata_off + pos + 2);
		if (rr->rdata_len - pos - 4 < olen)
			return -EBADMSG;
		pos += 4 + olen;
	}
	opt->present = true;
	opt->payload = rr->rclass;
	opt->ext_rcode = (uint8_t)(rr->ttl >> 24);
	opt->version = (uint8_t)(rr->ttl >> 16);
	opt->flags = (uint16_t)rr->ttl;
	opt->do_bit = opt->flags & ARBOR_DNS_EDNS_DO;
	opt->rdata_off = rr->rdata_off;
	opt->rdata_len = rr->rdata_len;
	out->header.rcode = (uint16_t)(opt->ext_rcode << 4 | (out->header.rcode & ARBOR_DNS_RCODE_MASK));
	return 0;
}

static int parse_questions(const uint8_t *msg, size_t len, size_t *pos, struct arbor_dns_message *out)
{
	for (unsigned i = 0; i < out->header.qdcount; i++) {
		uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
		size_t next;
		int n = arbor_dns_name_unpack(msg, len, *pos, wire, &next);
		if (n < 0)
			return n;
		if (len - next < 4)
			return -EBADMSG;
		if (i == 0) {
			struct arbor_dns_question *q = &out->question;
			memcpy(q->wire, wire, (size_t)n);
			q->wire_len = (size_t)n;
			q->name_off = *pos;
			q->qtype = get_be16(msg + next);
			q->qclass = get_be16(msg + next + 2);
			int rc = arbor_dns_name_to_text(wire, (size_t)n, q->name, sizeof q->name);
			if (rc < 0)
				return rc;
			out->has_question = true;
		}
		*pos = next + 4;
	}
	return 0;
}

static int parse_records(const uint8_t *msg, size_t len, size_t *pos, struct arbor_dns_message *out,
			 enum arbor_dns_section section, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
		size_t next;
		int n = arbor_dns_name_unpack(msg, len, *pos, wire, &next);
		if (n < 0)
			return n;
		if (len - next < 10)
			return -EBADMSG;
		struct arbor_dns_rr rr = {
			.section = section,
			.name_off = *pos,
			.type = get_be16(msg + next),
			.rclass = get_be16(msg + next + 2),
			.ttl = get_be32(msg + next + 4),
			.rdata_off = next + 10,
			.rdata_len = get_be16(msg + next + 8),
		};
		if (len - rr.rdata_off < rr.rdata_len)
			return -EBADMSG;
		if (rr.type == ARBOR_DNS_TYPE_OPT) {
			int rc = parse_opt(msg, out, &rr, n);
			if (rc < 0)
				return rc;
		}
		if (out->nrr < ARBOR_DNS_MAX_RRS)
			out->rr[out->nrr++] = rr;
		out->rr_total++;
		*pos = rr.rdata_off + rr.rdata_len;
	}
	return 0;
}

int arbor_dns_parse(const uint8_t *msg, size_t len, struct arbor_dns_message *out)
{
	memset(out, 0, sizeof *out);
	if (len > ARBOR_DNS_MAX_MSG)
		return -EMSGSIZE;
	if (msg == NULL || len < ARBOR_DNS_HEADER_LEN)
		return -EBADMSG;
	parse_header(msg, &out->header);
	size_t pos = ARBOR_DNS_HEADER_LEN;
	int rc = parse_questions(msg, len, &pos, out);
	if (rc == 0)
		rc = parse_records(msg, len, &pos, out, ARBOR_DNS_SECTION_ANSWER, out->header.ancount);
	if (rc == 0)
		rc = parse_records(msg, len, &pos, out, ARBOR_DNS_SECTION_AUTHORITY, out->header.nscount);
	if (rc == 0)
		rc = parse_records(msg, len, &pos, out, ARBOR_DNS_SECTION_ADDITIONAL, out->header.arcount);
	if (rc == 0 && pos != len)
		rc = -EBADMSG; /* trailing bytes */
	return rc;
}

/* ---- Rdata ---- */

/* A (possibly compressed) name that starts at *pos and must end by end. */
static int put_name(struct text *t, const uint8_t *msg, size_t len, size_t *pos, size_t end)
{
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	size_t next;
	int n = arbor_dns_name_unpack(msg, len, *pos, wire, &next);
	if (n < 0)
		return n;
	if (next > end)
		return -EBADMSG;
	put_flat_name(t, wire);
	*pos = next;
	return 0;
}

static int txt_to_text(struct text *t, const uint8_t *rd, size_t rdlen)
{
	if (rdlen == 0)
		return -EBADMSG; /* at least one character-string */
	for (size_t pos = 0; pos < rdlen;) {
		size_t slen = rd[pos];
		if (rdlen - pos - 1 < slen)
			return -EBADMSG;
		if (pos)
			putc_(t, ' ');
		putc_(t, '"');
		for (size_t i = 0; i < slen; i++)
			put_string_byte(t, rd[pos + 1 + i]);
		putc_(t, '"');
		pos += 1 + slen;
	}
	return 0;
}

/* RFC 8659: flags, a tag of letters and digits, a value rendered as a string. */
static int caa_to_text(struct text *t, const uint8_t *rd, size_t rdlen)
{
	if (rdlen < 2 || rd[1] == 0 || rdlen - 2 < rd[1])
		return -EBADMSG;
	putf(t, "%u ", rd[0]);
	for (size_t i = 0; i < rd[1]; i++) {
		uint8_t c = rd[2 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return -EBADMSG;
		putc_(t, (char)c);
	}
	put(t, " \"", 2);
	for (size_t i = 2 + (size_t)rd[1]; i < rdlen; i++)
		put_string_byte(t, rd[i]);
	putc_(t, '"');
	return 0;
}

/* RFC 3597: \# length hex. */
static void generic_to_text(struct text *t, const uint8_t *rd, size_t rdlen)
{
	static const char hex[] = "0123456789ABCDEF";
	putf(t, "\\# %zu", rdlen);
	if (rdlen)
		putc_(t, ' ');
	for (size_t i = 0; i < rdlen && !t->full; i++)
		put(t, (const char[]){ hex[rd[i] >> 4], hex[rd[i] & 15] }, 2);
}

static int rdata_typed(struct text *t, const uint8_t *msg, size_t len, const struct arbor_dns_rr *rr)
{
	const uint8_t *rd = msg + rr->rdata_off;
	size_t rdlen = rr->rdata_len, pos = rr->rdata_off, end = rr->rdata_off + rr->rdata_len;
	bool in = rr->rclass == ARBOR_DNS_CLASS_IN;
	char addr[INET6_ADDRSTRLEN];
	int rc;

	switch (rr->type) {
	case ARBOR_DNS_TYPE_A:
	case ARBOR_DNS_TYPE_AAAA: {
		/* A and AAAA are class-specific: other classes go to the generic form. */
		if (!in)
			break;
		bool v4 = rr->type == ARBOR_DNS_TYPE_A;
		if (rdlen != (v4 ? 4u : 16u) || inet_ntop(v4 ? AF_INET : AF_INET6, rd, addr, sizeof addr) == NULL)
			return -EBADMSG;
		put(t, addr, strlen(addr));
		return 0;
	}
	case ARBOR_DNS_TYPE_CNAME:
	case ARBOR_DNS_TYPE_NS:
	case ARBOR_DNS_TYPE_PTR:
	case ARBOR_DNS_TYPE_DNAME:
		rc = put_name(t, msg, len, &pos, end);
		return rc < 0 ? rc : pos == end ? 0 : -EBADMSG;
	case ARBOR_DNS_TYPE_MX:
		if (rdlen < 3)
			return -EBADMSG;
		putf(t, "%u ", get_be16(rd));
		pos += 2;
		rc = put_name(t, msg, len, &pos, end);
		return rc < 0 ? rc : pos == end ? 0 : -EBADMSG;
	case ARBOR_DNS_TYPE_SRV:
		if (!in)
			break;
		if (rdlen < 7)
			return -EBADMSG;
		putf(t, "%u %u %u ", get_be16(rd), get_be16(rd + 2), get_be16(rd + 4));
		pos += 6;
		rc = put_name(t, msg, len, &pos, end);
		return rc < 0 ? rc : pos == end ? 0 : -EBADMSG;
	case ARBOR_DNS_TYPE_SOA:
		rc = put_name(t, msg, len, &pos, end);
		if (rc == 0) {
			putc_(t, ' ');
			rc = put_name(t, msg, len, &pos, end);
		}
		if (rc < 0)
			return rc;
		if (end - pos != 20)
			return -EBADMSG;
		putf(t, " %u %u %u %u %u", get_be32(msg + pos), get_be32(msg + pos + 4), get_be32(msg + pos + 8),
		     get_be32(msg + pos + 12), get_be32(msg + pos + 16));
		return 0;
	case ARBOR_DNS_TYPE_TXT:
		return txt_to_text(t, rd, rdlen);
	case ARBOR_DNS_TYPE_CAA:
		return caa_to_text(t, rd, rdlen);
	default:
		break;
	}
	generic_to_text(t, rd, rdlen);
	return 0;
}

int arbor_dns_rdata_to_text(const uint8_t *msg, size_t len, const struct arbor_dns_rr *rr, char *out,
			    size_t outlen)
{
	struct text t;
	int rc = text_start(&t, out, outlen);
	if (rc < 0)
		return rc;
	if (msg == NULL || rr == NULL || len > ARBOR_DNS_MAX_MSG || rr->rdata_off > len ||
	    rr->rdata_len > len - rr->rdata_off)
		return -EBADMSG;
	rc = rdata_typed(&t, msg, len, rr);
	if (rc < 0) {
		out[0] = '\0';
		return rc;
	}
	return text_done(&t);
}
