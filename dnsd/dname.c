/* Flat wire-form name helpers (see dname.h). */
#include "dname.h"

#include <errno.h>
#include <string.h>

#include "dns_wire.h"

int dname_check(const uint8_t *wire, size_t len)
{
	if (wire == NULL || len == 0 || len > ARBOR_DNS_NAME_WIRE_MAX)
		return -EINVAL;
	int labels = 0;
	for (size_t pos = 0; pos < len; labels++) {
		uint8_t c = wire[pos];
		if (c == 0)
			return pos + 1 == len ? labels : -EINVAL;
		if (c > ARBOR_DNS_LABEL_MAX)
			return -EINVAL;
		pos += 1 + (size_t)c;
	}
	return -EINVAL;
}

void dname_lower(const uint8_t *in, size_t len, uint8_t *out)
{
	/* Length bytes are at most 63, below 'A': folding them too is harmless. */
	for (size_t i = 0; i < len; i++)
		out[i] = dname_lower_byte(in[i]);
}

void dname_split(const uint8_t *wire, struct dname_labels *l)
{
	unsigned n = 0;
	for (size_t pos = 0; wire[pos] != 0 && n < DNAME_MAX_LABELS; pos += 1 + (size_t)wire[pos])
		l->off[n++] = (uint8_t)pos;
	l->n = n;
	uint32_t h = DNAME_HASH_ROOT;
	l->hash[n] = h;
	for (unsigned i = n; i-- > 0;) {
		h = dname_hash_label(h, wire + l->off[i]);
		l->hash[i] = h;
	}
}

uint32_t dname_hash(const uint8_t *wire)
{
	struct dname_labels l;
	dname_split(wire, &l);
	return l.hash[0];
}

bool dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (dname_lower_byte(a[i]) != dname_lower_byte(b[i]))
			return false;
	return true;
}

bool dname_is_below(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len)
{
	if (apex_len > len)
		return false;
	/* The apex must start on a label boundary of name. */
	size_t pos = 0;
	while (len - pos > apex_len && name[pos] != 0)
		pos += 1 + (size_t)name[pos];
	return len - pos == apex_len && dname_equal(name + pos, apex_len, apex, apex_len);
}

/* Whether text ends in a dot that is a separator, not an escaped byte. */
static bool ends_absolute(const char *text)
{
	bool dot = false;
	for (const char *p = text; *p;) {
		if (*p == '\\') {
			p++;
			if (*p >= '0' && *p <= '9') {
				for (int i = 0; i < 3 && *p >= '0' && *p <= '9'; i++)
					p++;
			} else if (*p) {
				p++;
			}
			dot = false;
		} else {
			dot = *p == '.';
			p++;
		}
	}
	return dot;
}

int dname_from_text(const char *text, const uint8_t *origin, size_t origin_len, uint8_t *out, size_t cap)
{
	uint8_t tmp[ARBOR_DNS_NAME_WIRE_MAX];
	if (text == NULL || text[0] == '\0')
		return -EINVAL;
	if (strcmp(text, "@") == 0 || !ends_absolute(text)) {
		if (origin == NULL || dname_check(origin, origin_len) < 0)
			return -EINVAL;
		if (strcmp(text, "@") == 0) {
			if (cap < origin_len)
				return -ENOSPC;
			memcpy(out, origin, origin_len);
			return (int)origin_len;
		}
		int n = arbor_dns_name_from_text(text, tmp, sizeof tmp);
		if (n < 0)
			return n;
		/* n - 1 label bytes, then the origin (root label included). */
		size_t total = (size_t)n - 1 + origin_len;
		if (total > ARBOR_DNS_NAME_WIRE_MAX)
			return -EINVAL;
		if (cap < total)
			return -ENOSPC;
		memcpy(out, tmp, (size_t)n - 1);
		memcpy(out + n - 1, origin, origin_len);
		return (int)total;
	}
	int n = arbor_dns_name_from_text(text, tmp, sizeof tmp);
	if (n < 0)
		return n;
	if (cap < (size_t)n)
		return -ENOSPC;
	memcpy(out, tmp, (size_t)n);
	return n;
}

/* Appends label bytes; the callers' sizes are fixed and far below 255. */
static size_t put_label(uint8_t *w, size_t n, const char *s, size_t len)
{
	w[n] = (uint8_t)len;
	memcpy(w + n + 1, s, len);
	return n + 1 + len;
}

static int finish(const uint8_t *w, size_t n, uint8_t *out, size_t cap)
{
	if (cap < n)
		return -ENOSPC;
	memcpy(out, w, n);
	return (int)n;
}

int dname_reverse4(const uint8_t addr[4], unsigned prefixlen, uint8_t *out, size_t cap)
{
	if (prefixlen > 32 || prefixlen % 8)
		return -EINVAL;
	uint8_t w[64];
	size_t n = 0;
	for (unsigned i = prefixlen / 8; i-- > 0;) {
		char num[4];
		unsigned v = addr[i];
		size_t len = 0;
		if (v >= 100)
			num[len++] = (char)('0' + v / 100);
		if (v >= 10)
			num[len++] = (char)('0' + v / 10 % 10);
		num[len++] = (char)('0' + v % 10);
		n = put_label(w, n, num, len);
	}
	n = put_label(w, n, "in-addr", 7);
	n = put_label(w, n, "arpa", 4);
	w[n++] = 0;
	return finish(w, n, out, cap);
}

int dname_reverse6(const uint8_t addr[16], unsigned prefixlen, uint8_t *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	if (prefixlen > 128 || prefixlen % 4)
		return -EINVAL;
	uint8_t w[80];
	size_t n = 0;
	for (unsigned i = prefixlen / 4; i-- > 0;) {
		unsigned nibble = i % 2 ? addr[i / 2] & 15 : addr[i / 2] >> 4;
		n = put_label(w, n, &hex[nibble], 1);
	}
	n = put_label(w, n, "ip6", 3);
	n = put_label(w, n, "arpa", 4);
	w[n++] = 0;
	return finish(w, n, out, cap);
}
