/* Configuration text → wire rdata (see rdata_text.h). Every field is checked
 * strictly (no signs, no trailing junk, ranges enforced) and every error says which
 * field of which type was wrong and what was expected. */
#include "hex.h"
#include "rdata_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"
#include "dns_wire.h"
#include "errmsg.h"

#define MAX_FIELDS 8
#define SHOWN 64 /* characters of the offending text quoted in a message */

struct out {
	uint8_t *buf;
	size_t cap, len;
	bool full;
};

static void emit(struct out *o, const void *p, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void emit8(struct out *o, unsigned v)
{
	uint8_t b = (uint8_t)v;
	emit(o, &b, 1);
}

static void emit16(struct out *o, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	emit(o, b, 2);
}

#define fail(err, errlen, ...) arbor_errmsg(-EINVAL, err, errlen, __VA_ARGS__)

/* The offending text, cut short and with control bytes replaced, for a message. */
static const char *shown(const char *s, char buf[SHOWN + 4])
{
	size_t n = 0;
	for (; s[n] && n < SHOWN; n++)
		buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
	if (s[n]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* Splits on whitespace into copies in store; returns the number of fields, or
 * MAX_FIELDS + 1 when there are more. */
static size_t split(const char *data, char *store, size_t store_cap, char *fields[MAX_FIELDS])
{
	size_t n = 0, used = 0;
	const char *p = skip_space(data);
	while (*p) {
		if (n == MAX_FIELDS)
			return MAX_FIELDS + 1;
		size_t len = 0;
		while (p[len] && !is_space(p[len]))
			len++;
		if (used + len + 1 > store_cap)
			return MAX_FIELDS + 1;
		fields[n++] = store + used;
		memcpy(store + used, p, len);
		store[used + len] = '\0';
		used += len + 1;
		p = skip_space(p + len);
	}
	return n;
}

/* A decimal number without sign or junk, at most max. */
static bool number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t digits = 0;
	for (; *s; s++, digits++) {
		if (*s < '0' || *s > '9' || digits == 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (digits == 0 || v > max)
		return false;
	*out = v;
	return true;
}

static int field_number(const char *tname, const char *what, const char *s, unsigned long max, unsigned long *v,
			char *err, size_t errlen)
{
	char b[SHOWN + 4];
	if (!number(s, max, v))
		return fail(err, errlen, "%s %s \"%s\" is not a number from 0 to %lu", tname, what, shown(s, b), max);
	return 0;
}

static int field_name(struct out *o, const char *tname, const char *what, const char *s, const uint8_t *origin,
		      size_t origin_len, char *err, size_t errlen)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	char b[SHOWN + 4];
	int n = dname_from_text(s, origin, origin_len, w, sizeof w);
	if (n < 0) {
		if (origin == NULL && strcmp(s, ".") != 0)
			return fail(err, errlen, "%s %s \"%s\" is not an absolute name (no origin to append)", tname,
				    what, shown(s, b));
		return fail(err, errlen, "%s %s \"%s\" is not a valid name (labels of 1-63 bytes, 255 in all)", tname,
			    what, shown(s, b));
	}
	emit(o, w, (size_t)n);
	return 0;
}

/* One quoted character-string starting at *pp (on the opening quote), with \X and
 * \DDD escapes, appended with its length byte (max 255 bytes) or without one (CAA's
 * value runs to the end of the rdata). */
static int quoted(struct out *o, const char **pp, bool length_byte, const char *tname, char *err, size_t errlen)
{
	size_t start = o->len, n = 0;
	const char *p = *pp + 1;
	if (length_byte)
		emit8(o, 0); /* patched below */
	for (;;) {
		if (*p == '\0')
			return fail(err, errlen, "%s data has an unterminated quoted string", tname);
		if (*p == '"')
			break;
		unsigned c = (unsigned char)*p++;
		if (c == '\\') {
			if (*p >= '0' && *p <= '9') {
				if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
					return fail(err, errlen, "%s data has a bad escape: \\DDD needs 3 digits", tname);
				c = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
				if (c > 255)
					return fail(err, errlen, "%s data has a bad escape: \\%c%c%c is over 255", tname,
						    p[0], p[1], p[2]);
				p += 3;
			} else if (*p == '\0') {
				return fail(err, errlen, "%s data ends in a lone backslash", tname);
			} else {
				c = (unsigned char)*p++;
			}
		}
		if (length_byte && n == 255)
			return fail(err, errlen, "%s string is longer than 255 bytes", tname);
		emit8(o, c);
		n++;
	}
	*pp = p + 1;
	if (length_byte && !o->full)
		o->buf[start] = (uint8_t)n;
	return 0;
}

static int txt(struct out *o, const char *data, char *err, size_t errlen)
{
	const char *p = skip_space(data);
	if (*p != '"') {
		/* Plain text, taken literally as one string; longer than a
		 * character-string holds, it is split (as DKIM keys are). */
		size_t len = strlen(data);
		size_t pos = 0;
		do {
			size_t piece = len - pos > 255 ? 255 : len - pos;
			emit8(o, (unsigned)piece);
			emit(o, data + pos, piece);
			pos += piece;
		} while (pos < len);
		return 0;
	}
	while (*p) {
		if (*p != '"')
			return fail(err, errlen, "TXT data mixes quoted strings and bare text (quote every string)");
		int rc = quoted(o, &p, true, "TXT", err, errlen);
		if (rc < 0)
			return rc;
		if (*p && !is_space(*p))
			return fail(err, errlen, "TXT strings must be separated by spaces");
		p = skip_space(p);
	}
	return 0;
}

static int caa(struct out *o, const char *data, char *err, size_t errlen)
{
	char store[64], *f[MAX_FIELDS], b[SHOWN + 4];
	const char *p = skip_space(data);
	/* flags and tag are the first two fields; the value is the rest. */
	const char *rest = p;
	for (int i = 0; i < 2; i++) {
		while (*rest && !is_space(*rest))
			rest++;
		rest = skip_space(rest);
	}
	size_t head = (size_t)(rest - p);
	if (*rest == '\0' || head >= sizeof store)
		return fail(err, errlen, "CAA data needs 3 fields: flags tag value");
	memcpy(store, p, head);
	store[head] = '\0';
	char fstore[64];
	if (split(store, fstore, sizeof fstore, f) != 2)
		return fail(err, errlen, "CAA data needs 3 fields: flags tag value");
	unsigned long flags = 0;
	int rc = field_number("CAA", "flags", f[0], 255, &flags, err, errlen);
	if (rc < 0)
		return rc;
	size_t tlen = strlen(f[1]);
	bool ok = tlen >= 1 && tlen <= 15;
	for (size_t i = 0; i < tlen; i++)
		ok &= (f[1][i] >= '0' && f[1][i] <= '9') || (f[1][i] >= 'a' && f[1][i] <= 'z') ||
		      (f[1][i] >= 'A' && f[1][i] <= 'Z');
	if (!ok)
		return fail(err, errlen, "CAA tag \"%s\" must be 1-15 letters and digits", shown(f[1], b));
	emit8(o, (unsigned)flags);
	emit8(o, (unsigned)tlen);
	emit(o, f[1], tlen);
	if (*rest == '"') {
		rc = quoted(o, &rest, false, "CAA", err, errlen);
		if (rc < 0)
			return rc;
		if (*skip_space(rest))
			return fail(err, errlen, "CAA data has text after the quoted value");
		return 0;
	}
	size_t vlen = 0;
	while (rest[vlen] && !is_space(rest[vlen]))
		vlen++;
	if (*skip_space(rest + vlen))
		return fail(err, errlen, "CAA value with spaces must be quoted");
	emit(o, rest, vlen);
	return 0;
}

/* RFC 3597: \# length hex, the hex possibly split by spaces. */
static int generic(struct out *o, const char *tname, const char *data, char *err, size_t errlen)
{
	const char *p = skip_space(data) + 2;
	if (!is_space(*p) && *p)
		return fail(err, errlen, "%s generic data must be \"\\# length hex\"", tname);
	p = skip_space(p);
	char num[8];
	size_t nl = 0;
	while (p[nl] && !is_space(p[nl]) && nl < sizeof num - 1) {
		num[nl] = p[nl];
		nl++;
	}
	num[nl] = '\0';
	unsigned long len;
	if ((p[nl] && !is_space(p[nl])) || !number(num, 65535, &len))
		return fail(err, errlen, "%s generic data length must be a number from 0 to 65535", tname);
	p += nl;
	size_t got = 0;
	int hi = -1;
	for (; *p; p++) {
		if (is_space(*p))
			continue;
		int v = arbor_hex_digit(*p);
		if (v < 0)
			return fail(err, errlen, "%s generic data has a non-hex character '%c'", tname,
				    (unsigned char)*p < 0x20 ? '?' : *p);
		if (hi < 0) {
			hi = v;
		} else {
			emit8(o, (unsigned)(hi << 4 | v));
			hi = -1;
			got++;
		}
	}
	if (hi >= 0 || got != len)
		return fail(err, errlen, "%s generic data says %lu bytes but has %zu%s", tname, len, got,
			    hi >= 0 ? " and a half" : "");
	return 0;
}

static int typed(struct out *o, int type, const char *tname, const char *data, const uint8_t *origin,
		 size_t origin_len, char *err, size_t errlen)
{
	char store[1100], *f[MAX_FIELDS], b[SHOWN + 4];
	size_t n;
	unsigned long v[3] = { 0, 0, 0 };
	int rc;

	switch (type) {
	case ARBOR_DNS_TYPE_TXT:
		return txt(o, data, err, errlen);
	case ARBOR_DNS_TYPE_CAA:
		return caa(o, data, err, errlen);
	default:
		break;
	}
	n = split(data, store, sizeof store, f);
	switch (type) {
	case ARBOR_DNS_TYPE_A:
	case ARBOR_DNS_TYPE_AAAA: {
		bool v4 = type == ARBOR_DNS_TYPE_A;
		uint8_t addr[16];
		if (n != 1 || inet_pton(v4 ? AF_INET : AF_INET6, f[0], addr) != 1)
			return fail(err, errlen, "%s data \"%s\" is not an %s address", tname, shown(data, b),
				    v4 ? "IPv4" : "IPv6");
		emit(o, addr, v4 ? 4 : 16);
		return 0;
	}
	case ARBOR_DNS_TYPE_CNAME:
	case ARBOR_DNS_TYPE_NS:
	case ARBOR_DNS_TYPE_PTR:
		if (n != 1)
			return fail(err, errlen, "%s data needs 1 field: target", tname);
		return field_name(o, tname, "target", f[0], origin, origin_len, err, errlen);
	case ARBOR_DNS_TYPE_MX:
		if (n != 2)
			return fail(err, errlen, "MX data needs 2 fields: preference exchange");
		rc = field_number(tname, "preference", f[0], 65535, &v[0], err, errlen);
		if (rc < 0)
			return rc;
		emit16(o, (unsigned)v[0]);
		return field_name(o, tname, "exchange", f[1], origin, origin_len, err, errlen);
	case ARBOR_DNS_TYPE_SRV: {
		static const char *const what[] = { "priority", "weight", "port" };
		if (n != 4)
			return fail(err, errlen, "SRV data needs 4 fields: priority weight port target");
		for (int i = 0; i < 3; i++) {
			rc = field_number(tname, what[i], f[i], 65535, &v[i], err, errlen);
			if (rc < 0)
				return rc;
			emit16(o, (unsigned)v[i]);
		}
		return field_name(o, tname, "target", f[3], origin, origin_len, err, errlen);
	}
	default:
		return fail(err, errlen, "%s has no text form here; give it as \"\\# length hex\" (RFC 3597)", tname);
	}
}

const char *rdata_wire_problem(int type, const uint8_t *rd, size_t len)
{
	switch (type) {
	case ARBOR_DNS_TYPE_A:
		return len == 4 ? NULL : "A rdata must be 4 bytes";
	case ARBOR_DNS_TYPE_AAAA:
		return len == 16 ? NULL : "AAAA rdata must be 16 bytes";
	case ARBOR_DNS_TYPE_NS:
	case ARBOR_DNS_TYPE_CNAME:
	case ARBOR_DNS_TYPE_PTR:
		return dname_check(rd, len) >= 0 ? NULL : "rdata must be one uncompressed name";
	case ARBOR_DNS_TYPE_MX:
		return len >= 3 && dname_check(rd + 2, len - 2) >= 0 ? NULL : "MX rdata must be a preference and a name";
	case ARBOR_DNS_TYPE_SRV:
		return len >= 7 && dname_check(rd + 6, len - 6) >= 0 ? NULL
								     : "SRV rdata must be priority, weight, port and a name";
	case ARBOR_DNS_TYPE_TXT: {
		if (len == 0)
			return "TXT rdata needs at least one string";
		for (size_t pos = 0; pos < len; pos += 1 + (size_t)rd[pos])
			if (len - pos - 1 < rd[pos])
				return "TXT rdata has a string running past its end";
		return NULL;
	}
	case ARBOR_DNS_TYPE_CAA: {
		if (len < 2 || rd[1] == 0 || rd[1] > 15 || len - 2 < rd[1])
			return "CAA rdata must be flags, a tag of 1-15 bytes and a value";
		for (size_t i = 0; i < rd[1]; i++) {
			uint8_t c = rd[2 + i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
				return "CAA tag must be letters and digits";
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

int rdata_from_text(int type, const char *data, const uint8_t *origin_wire, size_t origin_len, uint8_t *out,
		    size_t cap, char *err, size_t errlen)
{
	char tbuf[16];
	if (err && errlen)
		err[0] = '\0';
	if (type < 0 || type > 65535)
		return fail(err, errlen, "record type %d is out of range", type);
	const char *tname = arbor_dns_type_text(type, tbuf);
	if (data == NULL)
		return fail(err, errlen, "%s record has no data", tname);
	if ((type >= 128 && type <= 255) || type == 0 || type == ARBOR_DNS_TYPE_OPT)
		return fail(err, errlen, "%s is not a record type that can be stored", tname);
	if (origin_wire && dname_check(origin_wire, origin_len) < 0)
		return fail(err, errlen, "the origin is not a valid wire name");
	struct out o = { .buf = out, .cap = out ? cap : 0 };
	const char *p = skip_space(data);
	int rc = p[0] == '\\' && p[1] == '#' ? generic(&o, tname, data, err, errlen)
					     : typed(&o, type, tname, data, origin_wire, origin_len, err, errlen);
	if (rc < 0)
		return rc;
	if (o.full) {
		if (err && errlen)
			snprintf(err, errlen, "%s data is longer than the %zu bytes of room", tname, cap);
		return -ENOSPC;
	}
	if (o.len > 65535)
		return fail(err, errlen, "%s data is longer than 65535 bytes", tname);
	/* The generic form can spell anything: it must still be valid for the type. */
	const char *problem = rdata_wire_problem(type, out, o.len);
	if (problem)
		return fail(err, errlen, "%s", problem);
	return (int)o.len;
}
