/* DHCPv4 message codec: parsing (with RFC 3396 concatenation and option overload),
 * typed accessors, the options a client consumes, and reply/request builders. Every
 * read is bounds-checked against the length the caller gave; nothing here allocates
 * or does I/O. */
#include "dhcp_wire.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "dns_wire.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_WIRE_MAX ARBOR_DNS_NAME_WIRE_MAX
#define LABEL_MAX ARBOR_DNS_LABEL_MAX

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static bool is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_ldh(uint8_t c)
{
	return is_alnum(c) || c == '-';
}

/* Domain names that end up in resolv.conf also take '_' (service labels); host
 * names do not. */
static bool is_domain_char(uint8_t c)
{
	return is_ldh(c) || c == '_';
}

/* ---- Parsing ---- */

/* The three places options live, in the order RFC 3396 concatenates them. */
struct area {
	size_t start, end;
	const char *what;
	bool is_options_field;
};

/* Walks one area. count: adds each instance's length to out->opt[code] (pass one,
 * which checks bounds); otherwise copies each value to its slot at cursor[code]
 * (pass two, over the same bytes). Stops at END; bytes after it are padding. */
static int scan_area(const uint8_t *pkt, const struct area *a, struct dhcp_message *out, bool count,
		     uint32_t *cursor, bool *end_seen, int *overload_byte, char *err, size_t errlen)
{
	size_t i = a->start;
	while (i < a->end) {
		uint8_t code = pkt[i];
		if (code == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == DHCP_OPT_END) {
			*end_seen = true;
			return 0;
		}
		if (i + 1 >= a->end)
			return fail(err, errlen, "option %u at offset %zu has no length byte before the end of the %s",
				    code, i, a->what);
		size_t l = pkt[i + 1];
		if (i + 2 + l > a->end)
			return fail(err, errlen, "option %u length %zu runs past the end of the %s", code, l, a->what);
		/* 52 counts only in the options field: inside file or sname it would
		 * point at areas already read (or at itself). */
		if (code != DHCP_OPT_OVERLOAD || a->is_options_field) {
			struct dhcp_option_slot *s = &out->opt[code];
			if (count) {
				s->present = true;
				s->len = (uint16_t)(s->len + l);
				if (code == DHCP_OPT_OVERLOAD && l == 1)
					*overload_byte = pkt[i + 2];
			} else {
				memcpy(out->storage + s->off + cursor[code], pkt + i + 2, l);
				cursor[code] += (uint32_t)l;
			}
		}
		i += 2 + l;
	}
	return 0;
}

int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_message *out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, offsetof(struct dhcp_message, storage));
	if (len > DHCP_MAX_PACKET) {
		fail(err, errlen, "packet of %zu bytes is longer than the %d this parser takes", len, DHCP_MAX_PACKET);
		return -EMSGSIZE;
	}
	if (len < DHCP_OPTIONS_OFFSET)
		return fail(err, errlen,
			    "packet of %zu bytes is shorter than a DHCP header and magic cookie (%d bytes)", len,
			    DHCP_OPTIONS_OFFSET);
	out->op = pkt[0];
	out->htype = pkt[1];
	out->hlen = pkt[2];
	out->hops = pkt[3];
	out->xid = get_be32(pkt + 4);
	out->secs = get_be16(pkt + 8);
	out->flags = get_be16(pkt + 10);
	out->broadcast = (out->flags & DHCP_FLAG_BROADCAST) != 0;
	memcpy(&out->ciaddr, pkt + 12, 4);
	memcpy(&out->yiaddr, pkt + 16, 4);
	memcpy(&out->siaddr, pkt + 20, 4);
	memcpy(&out->giaddr, pkt + 24, 4);
	memcpy(out->chaddr, pkt + 28, DHCP_CHADDR_LEN);
	if (out->op != DHCP_OP_REQUEST && out->op != DHCP_OP_REPLY)
		return fail(err, errlen, "op %u is neither 1 (request) nor 2 (reply)", out->op);
	if (out->htype == 0 && out->hlen != 0)
		return fail(err, errlen, "htype 0 (no hardware address) with hlen %u", out->hlen);
	if (out->hlen > DHCP_CHADDR_LEN)
		return fail(err, errlen, "hlen %u is longer than chaddr (16 bytes)", out->hlen);
	if (out->htype == DHCP_HTYPE_ETHERNET && out->hlen != 6)
		return fail(err, errlen, "hlen %u for Ethernet (htype 1), which has 6-byte addresses", out->hlen);
	if (get_be32(pkt + DHCP_FIXED_LEN) != DHCP_MAGIC_COOKIE)
		return fail(err, errlen, "magic cookie is %u.%u.%u.%u, not 99.130.83.99", pkt[236], pkt[237], pkt[238],
			    pkt[239]);

	struct area areas[3] = { { DHCP_OPTIONS_OFFSET, len, "packet", true } };
	size_t nareas = 1;
	bool end_seen = false, unused_end;
	int overload_byte = -1;
	int rc = scan_area(pkt, &areas[0], out, true, NULL, &end_seen, &overload_byte, err, errlen);
	if (rc < 0)
		return rc;
	if (!end_seen)
		return fail(err, errlen, "the options field has no END option (255): the packet is truncated");
	if (out->opt[DHCP_OPT_OVERLOAD].present) {
		if (out->opt[DHCP_OPT_OVERLOAD].len != 1)
			return fail(err, errlen, "option 52 (overload) has length %u, not 1",
				    out->opt[DHCP_OPT_OVERLOAD].len);
		if (overload_byte < 1 || overload_byte > 3)
			return fail(err, errlen, "option 52 (overload) value %d is not 1, 2 or 3", overload_byte);
		out->overload = (uint8_t)overload_byte;
	}
	if (out->overload & DHCP_OVERLOAD_FILE)
		areas[nareas++] =
			(struct area){ DHCP_FILE_OFFSET, DHCP_FILE_OFFSET + DHCP_FILE_LEN, "file field", false };
	if (out->overload & DHCP_OVERLOAD_SNAME)
		areas[nareas++] =
			(struct area){ DHCP_SNAME_OFFSET, DHCP_SNAME_OFFSET + DHCP_SNAME_LEN, "sname field", false };
	for (size_t a = 1; a < nareas; a++) {
		rc = scan_area(pkt, &areas[a], out, true, NULL, &unused_end, &overload_byte, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!(out->overload & DHCP_OVERLOAD_FILE))
		memcpy(out->file, pkt + DHCP_FILE_OFFSET, DHCP_FILE_LEN);
	if (!(out->overload & DHCP_OVERLOAD_SNAME))
		memcpy(out->sname, pkt + DHCP_SNAME_OFFSET, DHCP_SNAME_LEN);

	/* Lay the values out back to back, then copy them in a second pass. */
	size_t total = 0;
	for (size_t code = 0; code < 256; code++) {
		out->opt[code].off = (uint16_t)total;
		total += out->opt[code].len;
	}
	if (total > sizeof out->storage) /* cannot happen: each value byte is a packet byte */
		return fail(err, errlen, "options take %zu bytes, more than the packet", total);
	out->storage_len = total;
	uint32_t cursor[256] = { 0 };
	for (size_t a = 0; a < nareas; a++) {
		rc = scan_area(pkt, &areas[a], out, false, cursor, &unused_end, &overload_byte, err, errlen);
		if (rc < 0)
			return rc;
	}

	const struct dhcp_option_slot *t = &out->opt[DHCP_OPT_MESSAGE_TYPE];
	if (t->present) {
		if (t->len != 1)
			return fail(err, errlen, "option 53 (message type) has length %u, not 1", t->len);
		out->type = out->storage[t->off];
		if (out->type == 0)
			return fail(err, errlen, "option 53 (message type) is 0");
	} else if (out->op == DHCP_OP_REQUEST) {
		return fail(err, errlen, "request has no message type option (53)");
	}
	return 0;
}

/* ---- Accessors ---- */

const uint8_t *dhcp_option(const struct dhcp_message *m, uint8_t code, size_t *len)
{
	const struct dhcp_option_slot *s = &m->opt[code];
	if (!s->present || (size_t)s->off + s->len > m->storage_len) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = s->len;
	return m->storage + s->off;
}

static const uint8_t *fixed(const struct dhcp_message *m, uint8_t code, size_t want, int *rc)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, code, &len);
	*rc = !v ? -ENOENT : len != want ? -EBADMSG : 0;
	return *rc == 0 ? v : NULL;
}

int dhcp_option_u8(const struct dhcp_message *m, uint8_t code, uint8_t *out)
{
	int rc;
	const uint8_t *v = fixed(m, code, 1, &rc);
	if (v)
		*out = v[0];
	return rc;
}

int dhcp_option_u16(const struct dhcp_message *m, uint8_t code, uint16_t *out)
{
	int rc;
	const uint8_t *v = fixed(m, code, 2, &rc);
	if (v)
		*out = get_be16(v);
	return rc;
}

int dhcp_option_u32(const struct dhcp_message *m, uint8_t code, uint32_t *out)
{
	int rc;
	const uint8_t *v = fixed(m, code, 4, &rc);
	if (v)
		*out = get_be32(v);
	return rc;
}

int dhcp_option_ipv4(const struct dhcp_message *m, uint8_t code, struct in_addr *out)
{
	int rc;
	const uint8_t *v = fixed(m, code, 4, &rc);
	if (v)
		memcpy(out, v, 4);
	return rc;
}

int dhcp_requested_ip(const struct dhcp_message *m, struct in_addr *out)
{
	return dhcp_option_ipv4(m, DHCP_OPT_REQUESTED_IP, out);
}

int dhcp_server_id(const struct dhcp_message *m, struct in_addr *out)
{
	return dhcp_option_ipv4(m, DHCP_OPT_SERVER_ID, out);
}

int dhcp_lease_time(const struct dhcp_message *m, uint32_t *seconds)
{
	return dhcp_option_u32(m, DHCP_OPT_LEASE_TIME, seconds);
}

int dhcp_max_message_size(const struct dhcp_message *m, uint16_t *out)
{
	uint16_t v;
	int rc = dhcp_option_u16(m, DHCP_OPT_MAX_MESSAGE_SIZE, &v);
	if (rc < 0)
		return rc;
	if (v < DHCP_MIN_DATAGRAM)
		return -EBADMSG;
	*out = v;
	return 0;
}

size_t dhcp_max_reply_len(const struct dhcp_message *m)
{
	uint16_t v;
	if (dhcp_max_message_size(m, &v) < 0)
		v = DHCP_MIN_DATAGRAM;
	return (size_t)v - DHCP_IP_UDP_OVERHEAD;
}

const uint8_t *dhcp_param_request_list(const struct dhcp_message *m, size_t *len)
{
	return dhcp_option(m, DHCP_OPT_PARAM_REQUEST_LIST, len);
}

const uint8_t *dhcp_relay_agent_info(const struct dhcp_message *m, size_t *len)
{
	return dhcp_option(m, DHCP_OPT_RELAY_AGENT_INFO, len);
}

const uint8_t *dhcp_vendor_class(const struct dhcp_message *m, size_t *len)
{
	return dhcp_option(m, DHCP_OPT_VENDOR_CLASS, len);
}

const uint8_t *dhcp_user_class(const struct dhcp_message *m, size_t *len)
{
	return dhcp_option(m, DHCP_OPT_USER_CLASS, len);
}

bool dhcp_param_requested(const struct dhcp_message *m, uint8_t code)
{
	size_t len;
	const uint8_t *v = dhcp_param_request_list(m, &len);
	return v && memchr(v, code, len) != NULL;
}

int dhcp_client_id(const struct dhcp_message *m, struct dhcp_client_id *out)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_CLIENT_ID, &len);
	memset(out, 0, sizeof *out);
	if (!v)
		return -ENOENT;
	if (len < 2 || len > DHCP_LEASE_KEY_MAX)
		return -EBADMSG;
	out->type = v[0];
	out->id = v;
	out->id_len = len;
	if (v[0] == 255) {
		/* RFC 4361 §6.1: type 255, a 4-byte IAID, then a DUID (RFC 8415 §11:
		 * a 2-byte type and at most 128 bytes more). */
		if (len < 1 + 4 + 3 || len > 1 + 4 + 130)
			return -EBADMSG;
		out->rfc4361 = true;
		out->iaid = get_be32(v + 1);
		out->duid = v + 5;
		out->duid_len = len - 5;
	}
	return 0;
}

int dhcp_lease_key(const struct dhcp_message *m, uint8_t *out, size_t cap)
{
	struct dhcp_client_id id;
	int rc = dhcp_client_id(m, &id);
	if (rc == 0) {
		if (id.id_len > cap)
			return -ENOSPC;
		memcpy(out, id.id, id.id_len);
		return (int)id.id_len;
	}
	if (rc != -ENOENT)
		return rc;
	if (m->hlen == 0 || m->hlen > DHCP_CHADDR_LEN)
		return -EBADMSG;
	if ((size_t)m->hlen + 1 > cap)
		return -ENOSPC;
	out[0] = m->htype;
	memcpy(out + 1, m->chaddr, m->hlen);
	return m->hlen + 1;
}

int dhcp_hostname(const struct dhcp_message *m, char *out, bool *sanitized)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_HOSTNAME, &len);
	bool changed = false;
	out[0] = '\0';
	if (sanitized)
		*sanitized = false;
	if (!v)
		return -ENOENT;
	while (len > 0 && v[len - 1] == '\0')
		len--;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '.') {
			changed = true;
			break;
		}
		if (!is_ldh(v[i])) {
			changed = true;
			continue;
		}
		if (v[i] == '-' && n == 0) { /* a label does not start with a hyphen */
			changed = true;
			continue;
		}
		if (n == DHCP_HOSTNAME_MAX) {
			changed = true;
			break;
		}
		out[n++] = (char)v[i];
	}
	while (n > 0 && out[n - 1] == '-') {
		n--;
		changed = true;
	}
	out[n] = '\0';
	if (sanitized)
		*sanitized = changed;
	return (int)n;
}

/* Appends one label to dotted text. */
static int append_label(char *text, size_t *tlen, const uint8_t *label, size_t n, bool underscore)
{
	if (n == 0 || n > LABEL_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (!(underscore ? is_domain_char(label[i]) : is_ldh(label[i])))
			return -EBADMSG;
	size_t need = (*tlen ? 1 : 0) + n;
	if (*tlen + need > DHCP_NAME_TEXT_MAX - 1)
		return -EBADMSG;
	if (*tlen)
		text[(*tlen)++] = '.';
	memcpy(text + *tlen, label, n);
	*tlen += n;
	text[*tlen] = '\0';
	return 0;
}

/* Flat wire name (from arbor_dns_name_unpack_value) to checked dotted text,
 * labels as append_label takes them; the root alone is "" (length 0). */
static int flat_to_text(const uint8_t *flat, size_t flen, bool underscore, char *out)
{
	size_t pos = 0, tlen = 0;
	out[0] = '\0';
	while (pos < flen && flat[pos] != 0) {
		if (append_label(out, &tlen, flat + pos + 1, flat[pos], underscore) < 0)
			return -EBADMSG;
		pos += 1 + (size_t)flat[pos];
	}
	return (int)tlen;
}

/* Dotted ASCII ("a.b.c", one trailing dot allowed) to checked text. */
static int ascii_name(const uint8_t *v, size_t len, bool underscore, char *out, bool *trailing_dot)
{
	size_t tlen = 0;
	out[0] = '\0';
	*trailing_dot = false;
	if (len > 0 && v[len - 1] == '.') {
		*trailing_dot = true;
		len--;
	}
	size_t start = 0;
	for (size_t i = 0; i <= len && len > 0; i++) {
		if (i == len || v[i] == '.') {
			if (append_label(out, &tlen, v + start, i - start, underscore) < 0)
				return -EBADMSG;
			start = i + 1;
		}
	}
	if (len == 0 && *trailing_dot)
		return -EBADMSG; /* "." alone */
	return (int)tlen;
}

int dhcp_client_fqdn(const struct dhcp_message *m, struct dhcp_fqdn *out)
{
	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_CLIENT_FQDN, &len);
	memset(out, 0, sizeof *out);
	if (!v)
		return -ENOENT;
	if (len < 3)
		return -EBADMSG;
	out->flags = v[0];
	out->rcode1 = v[1];
	out->rcode2 = v[2];
	const uint8_t *name = v + 3;
	size_t nlen = len - 3;
	if (!(out->flags & DHCP_FQDN_E)) {
		while (nlen > 0 && name[nlen - 1] == '\0')
			nlen--;
		return ascii_name(name, nlen, false, out->name, &out->fully_qualified) < 0 ? -EBADMSG : 0;
	}
	/* Wire form, no compression (RFC 4702 §2.3.1): labels, and either the root
	 * label at the very end (fully qualified) or none (a partial name, read here
	 * with the root label added). A bare root is an empty name. */
	if (nlen == 0)
		return 0;
	if (nlen > NAME_WIRE_MAX)
		return -EBADMSG;
	uint8_t wire[NAME_WIRE_MAX + 1], flat[NAME_WIRE_MAX];
	bool partial = name[nlen - 1] != 0;
	memcpy(wire, name, nlen);
	wire[nlen] = 0;
	size_t next = 0;
	int flen = arbor_dns_name_unpack_value(wire, nlen + partial, 0, false, flat, &next);
	if (flen < 0 || next != nlen + partial)
		return -EBADMSG; /* bytes after the root label */
	int tlen = flat_to_text(flat, (size_t)flen, false, out->name);
	if (tlen < 0)
		return -EBADMSG;
	out->fully_qualified = !partial && tlen > 0;
	return 0;
}

/* ---- Options a client consumes ---- */

int dhcp_parse_ipv4_list(const uint8_t *v, size_t len, struct in_addr *out, size_t max)
{
	if (len == 0 || len % 4 != 0 || len / 4 > (size_t)INT_MAX)
		return -EBADMSG;
	size_t n = len / 4;
	for (size_t i = 0; i < n && i < max; i++)
		memcpy(&out[i], v + 4 * i, 4);
	return (int)n;
}

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int dhcp_parse_classless_routes(const uint8_t *v, size_t len, struct dhcp_route *out, size_t max)
{
	size_t pos = 0;
	int n = 0;
	if (len == 0)
		return -EBADMSG;
	while (pos < len) {
		unsigned prefix = v[pos];
		if (prefix > 32)
			return -EBADMSG;
		size_t sig = (prefix + 7) / 8;
		if (pos + 1 + sig + 4 > len)
			return -EBADMSG;
		uint8_t dest[4] = { 0 };
		memcpy(dest, v + pos + 1, sig);
		if (get_be32(dest) & ~prefix_mask(prefix))
			return -EBADMSG; /* host bits set */
		if ((size_t)n < max) {
			memcpy(&out[n].dest, dest, 4);
			out[n].prefix_len = (uint8_t)prefix;
			memcpy(&out[n].router, v + pos + 1 + sig, 4);
		}
		n++;
		pos += 1 + sig + 4;
	}
	return n;
}

int dhcp_parse_domain_search(const uint8_t *v, size_t len, struct dhcp_domain_list *out)
{
	uint8_t flat[NAME_WIRE_MAX];
	char text[DHCP_NAME_TEXT_MAX];
	out->n = out->total = 0;
	if (len == 0)
		return -EBADMSG;
	size_t off = 0;
	while (off < len) {
		size_t next = 0;
		int flen = arbor_dns_name_unpack_value(v, len, off, true, flat, &next);
		if (flen < 0 || flat_to_text(flat, (size_t)flen, true, text) <= 0)
			return -EBADMSG; /* malformed, or the root alone */
		if (out->n < DHCP_SEARCH_MAX)
			memcpy(out->name[out->n++], text, sizeof text);
		out->total++;
		off = next;
	}
	return out->total > (size_t)INT_MAX ? -EBADMSG : (int)out->total;
}

int dhcp_parse_domain_name(const uint8_t *v, size_t len, char *out)
{
	bool dot;
	out[0] = '\0';
	while (len > 0 && v[len - 1] == '\0')
		len--;
	int n = ascii_name(v, len, true, out, &dot);
	if (n <= 0) {
		out[0] = '\0';
		return -EBADMSG;
	}
	return n;
}

static int mask_prefix(struct in_addr mask)
{
	uint32_t m;
	memcpy(&m, &mask, 4);
	m = ntohl(m);
	int prefix = 0;
	while (prefix < 32 && (m & (0x80000000u >> prefix)))
		prefix++;
	return m == prefix_mask((unsigned)prefix) ? prefix : -1;
}

struct client_parse {
	const struct dhcp_message *m;
	char *err;
	size_t errlen;
	int rc;
};

/* The first problem is the one reported; the rest only keep their options absent. */
__attribute__((format(printf, 3, 4))) static void bad_option(struct client_parse *cp, uint8_t code,
							     const char *fmt, ...)
{
	if (cp->rc < 0)
		return;
	cp->rc = -EBADMSG;
	if (cp->err && cp->errlen) {
		char why[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof why, fmt, ap);
		va_end(ap);
		snprintf(cp->err, cp->errlen, "option %u: %s", code, why);
	}
}

static bool get_addr(struct client_parse *cp, uint8_t code, struct in_addr *out)
{
	int rc = dhcp_option_ipv4(cp->m, code, out);
	if (rc == -EBADMSG)
		bad_option(cp, code, "an address is 4 bytes");
	return rc == 0;
}

static bool get_time(struct client_parse *cp, uint8_t code, uint32_t *out)
{
	int rc = dhcp_option_u32(cp->m, code, out);
	if (rc == -EBADMSG)
		bad_option(cp, code, "a time is 4 bytes");
	return rc == 0;
}

static size_t get_addr_list(struct client_parse *cp, uint8_t code, struct in_addr *out)
{
	size_t len;
	const uint8_t *v = dhcp_option(cp->m, code, &len);
	if (!v)
		return 0;
	int n = dhcp_parse_ipv4_list(v, len, out, DHCP_ADDRS_MAX);
	if (n < 0) {
		bad_option(cp, code, "length %zu is not a non-zero multiple of 4", len);
		return 0;
	}
	return (size_t)n < DHCP_ADDRS_MAX ? (size_t)n : DHCP_ADDRS_MAX;
}

int dhcp_parse_client_options(const struct dhcp_message *m, struct dhcp_client_options *out, char *err,
			      size_t errlen)
{
	struct client_parse cp = { m, err, errlen, 0 };
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	out->has_server_id = get_addr(&cp, DHCP_OPT_SERVER_ID, &out->server_id);
	if (get_addr(&cp, DHCP_OPT_SUBNET_MASK, &out->subnet_mask)) {
		int prefix = mask_prefix(out->subnet_mask);
		if (prefix < 0) {
			bad_option(&cp, DHCP_OPT_SUBNET_MASK, "the mask is not contiguous");
			memset(&out->subnet_mask, 0, sizeof out->subnet_mask);
		} else {
			out->has_subnet_mask = true;
			out->prefix_len = (uint8_t)prefix;
		}
	}
	out->has_broadcast = get_addr(&cp, DHCP_OPT_BROADCAST, &out->broadcast);
	out->n_dns = get_addr_list(&cp, DHCP_OPT_DNS_SERVER, out->dns);
	out->n_ntp = get_addr_list(&cp, DHCP_OPT_NTP_SERVER, out->ntp);
	uint16_t mtu;
	int rc = dhcp_option_u16(m, DHCP_OPT_MTU, &mtu);
	if (rc == -EBADMSG)
		bad_option(&cp, DHCP_OPT_MTU, "an MTU is 2 bytes");
	else if (rc == 0 && mtu < 68)
		bad_option(&cp, DHCP_OPT_MTU, "MTU %u is below the minimum of 68", mtu);
	else if (rc == 0)
		out->mtu = mtu;
	out->has_lease_time = get_time(&cp, DHCP_OPT_LEASE_TIME, &out->lease_time);
	out->has_t1 = get_time(&cp, DHCP_OPT_RENEWAL_TIME, &out->t1);
	out->has_t2 = get_time(&cp, DHCP_OPT_REBINDING_TIME, &out->t2);

	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_DOMAIN_NAME, &len);
	if (v && dhcp_parse_domain_name(v, len, out->domain_name) < 0)
		bad_option(&cp, DHCP_OPT_DOMAIN_NAME, "not a domain name of letters, digits, '-' and '_'");
	v = dhcp_option(m, DHCP_OPT_DOMAIN_SEARCH, &len);
	if (v && dhcp_parse_domain_search(v, len, &out->search) < 0) {
		bad_option(&cp, DHCP_OPT_DOMAIN_SEARCH, "malformed domain search list");
		memset(&out->search, 0, sizeof out->search);
	}
	v = dhcp_option(m, DHCP_OPT_CLASSLESS_ROUTES, &len);
	if (v) {
		int n = dhcp_parse_classless_routes(v, len, out->routes, DHCP_ROUTES_MAX);
		if (n < 0) {
			bad_option(&cp, DHCP_OPT_CLASSLESS_ROUTES,
				   "malformed classless static routes (RFC 3442)");
			memset(out->routes, 0, sizeof out->routes);
		} else {
			out->has_classless_routes = true;
			out->n_routes = (size_t)n < DHCP_ROUTES_MAX ? (size_t)n : DHCP_ROUTES_MAX;
		}
	}
	if (!out->has_classless_routes)
		out->n_routers = get_addr_list(&cp, DHCP_OPT_ROUTER, out->routers);
	return cp.rc;
}

/* ---- Building ---- */

static int set_error(struct dhcp_builder *b, int rc)
{
	if (b->error == 0)
		b->error = rc;
	return rc;
}

/* How much a value of len bytes takes once split into instances of <= 255. */
static size_t encoded_size(size_t len)
{
	size_t instances = len == 0 ? 1 : (len + 254) / 255;
	return len + 2 * instances;
}

/* Room left for option bytes, after what dhcp_finish needs. */
static size_t room(const struct dhcp_builder *b)
{
	size_t used = b->len + b->reserved;
	return used < b->limit ? b->limit - used : 0;
}

static int check_open(struct dhcp_builder *b)
{
	if (b->error)
		return b->error;
	if (b->finished || !b->buf)
		return set_error(b, -EINVAL);
	return 0;
}

/* The value (len bytes) sits at buf + b->len: spread it into instances in place,
 * each chunk moved forward by the headers before it, last chunk first so no chunk
 * is overwritten before it has moved. */
static int emit_in_place(struct dhcp_builder *b, uint8_t code, size_t len)
{
	if (encoded_size(len) > room(b))
		return set_error(b, -ENOSPC);
	uint8_t *base = b->buf + b->len;
	size_t instances = len == 0 ? 1 : (len + 254) / 255;
	for (size_t i = instances; i-- > 0;) {
		size_t chunk = len - i * 255 < 255 ? len - i * 255 : 255;
		memmove(base + i * 257 + 2, base + i * 255, chunk);
		base[i * 257] = code;
		base[i * 257 + 1] = (uint8_t)chunk;
	}
	b->len += encoded_size(len);
	return 0;
}

int dhcp_put_option(struct dhcp_builder *b, uint8_t code, const void *data, size_t len)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	if (code == DHCP_OPT_PAD || code == DHCP_OPT_END || (len && !data))
		return set_error(b, -EINVAL);
	if (encoded_size(len) > room(b))
		return set_error(b, -ENOSPC);
	if (len)
		memmove(b->buf + b->len, data, len);
	return emit_in_place(b, code, len);
}

int dhcp_put_u8(struct dhcp_builder *b, uint8_t code, uint8_t v)
{
	return dhcp_put_option(b, code, &v, 1);
}

int dhcp_put_u16(struct dhcp_builder *b, uint8_t code, uint16_t v)
{
	uint8_t w[2];
	put_be16(w, v);
	return dhcp_put_option(b, code, w, 2);
}

int dhcp_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t v)
{
	uint8_t w[4];
	put_be32(w, v);
	return dhcp_put_option(b, code, w, 4);
}

int dhcp_put_ipv4(struct dhcp_builder *b, uint8_t code, struct in_addr a)
{
	return dhcp_put_option(b, code, &a, 4);
}

int dhcp_put_ipv4_list(struct dhcp_builder *b, uint8_t code, const struct in_addr *a, size_t n)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	if (n == 0 || !a)
		return set_error(b, -EINVAL);
	if (n > room(b) / 4)
		return set_error(b, -ENOSPC);
	for (size_t i = 0; i < n; i++)
		memcpy(b->buf + b->len + 4 * i, &a[i], 4);
	return emit_in_place(b, code, 4 * n);
}

int dhcp_put_string(struct dhcp_builder *b, uint8_t code, const char *s)
{
	if (!s || !*s)
		return set_error(b, -EINVAL);
	return dhcp_put_option(b, code, s, strlen(s));
}

int dhcp_put_classless_routes(struct dhcp_builder *b, const struct dhcp_route *routes, size_t n)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	if (n == 0 || !routes)
		return set_error(b, -EINVAL);
	size_t avail = room(b), vlen = 0;
	uint8_t *p = b->buf + b->len;
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_route *r = &routes[i];
		uint8_t dest[4];
		memcpy(dest, &r->dest, 4);
		if (r->prefix_len > 32 || (get_be32(dest) & ~prefix_mask(r->prefix_len)))
			return set_error(b, -EINVAL);
		size_t sig = (r->prefix_len + 7u) / 8;
		if (vlen + 1 + sig + 4 > avail)
			return set_error(b, -ENOSPC);
		p[vlen] = r->prefix_len;
		memcpy(p + vlen + 1, dest, sig);
		memcpy(p + vlen + 1 + sig, &r->router, 4);
		vlen += 1 + sig + 4;
	}
	return emit_in_place(b, DHCP_OPT_CLASSLESS_ROUTES, vlen);
}

/* Dotted text to a flat wire name; labels as dhcp_parse_domain_search takes them
 * (underscore) or as a host name (not). "" is the root name (for an empty FQDN). */
static int name_from_text(const char *text, uint8_t *flat, bool underscore, bool *trailing_dot)
{
	size_t tlen = strlen(text), flen = 0, start = 0;
	*trailing_dot = tlen > 0 && text[tlen - 1] == '.';
	if (*trailing_dot)
		tlen--;
	if (tlen == 0 && *trailing_dot)
		return -EINVAL;
	for (size_t i = 0; i <= tlen && tlen > 0; i++) {
		if (i < tlen && text[i] != '.')
			continue;
		size_t l = i - start;
		if (l == 0 || l > LABEL_MAX || flen + 1 + l + 1 > NAME_WIRE_MAX)
			return -EINVAL;
		for (size_t k = start; k < i; k++)
			if (!(underscore ? is_domain_char((uint8_t)text[k]) : is_ldh((uint8_t)text[k])))
				return -EINVAL;
		flat[flen++] = (uint8_t)l;
		memcpy(flat + flen, text + start, l);
		flen += l;
		start = i + 1;
	}
	flat[flen++] = 0;
	return (int)flen;
}

/* Where in the value encoded so far (v[0..vlen)) the flat name suffix sits, as a
 * compression target, or -1. Candidates are the label starts of every name already
 * written (the labels before its pointer, if it has one). */
static long find_suffix(const uint8_t *v, size_t vlen, const uint8_t *suffix, size_t slen)
{
	uint8_t flat[NAME_WIRE_MAX];
	size_t pos = 0;
	while (pos < vlen) {
		while (pos < vlen && v[pos] != 0 && (v[pos] & 0xc0) == 0) {
			int flen = arbor_dns_name_unpack_value(v, vlen, pos, true, flat, NULL);
			if (pos < 0x3fff && flen > 0 && arbor_dns_name_equal(flat, (size_t)flen, suffix, slen))
				return (long)pos;
			pos += 1 + (size_t)v[pos];
		}
		pos += pos < vlen && v[pos] == 0 ? 1 : 2; /* the root label or the pointer */
	}
	return -1;
}

int dhcp_put_domain_search(struct dhcp_builder *b, const char *const *names, size_t n)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	if (n == 0 || !names)
		return set_error(b, -EINVAL);
	size_t avail = room(b), vlen = 0;
	uint8_t *v = b->buf + b->len;
	for (size_t i = 0; i < n; i++) {
		uint8_t flat[NAME_WIRE_MAX];
		bool dot;
		int flen = names[i] ? name_from_text(names[i], flat, true, &dot) : -EINVAL;
		if (flen <= 1) /* NULL, malformed, or the root */
			return set_error(b, -EINVAL);
		/* The longest suffix already written becomes a pointer. */
		size_t pos = 0;
		long target = -1;
		while (flat[pos] != 0) {
			target = find_suffix(v, vlen, flat + pos, (size_t)flen - pos);
			if (target >= 0)
				break;
			pos += 1 + (size_t)flat[pos];
		}
		size_t need = target >= 0 ? pos + 2 : (size_t)flen;
		if (vlen + need > avail)
			return set_error(b, -ENOSPC);
		memcpy(v + vlen, flat, target >= 0 ? pos : (size_t)flen);
		if (target >= 0)
			put_be16(v + vlen + pos, (uint16_t)(0xc000 | target));
		vlen += need;
	}
	return emit_in_place(b, DHCP_OPT_DOMAIN_SEARCH, vlen);
}

int dhcp_put_client_fqdn(struct dhcp_builder *b, uint8_t flags, const char *name)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	uint8_t v[3 + NAME_WIRE_MAX];
	bool dot;
	int flen = name ? name_from_text(name, v + 3, false, &dot) : -EINVAL;
	if (flen < 0)
		return set_error(b, -EINVAL);
	if (!dot)
		flen--; /* partial: no root label (and "" is no name at all) */
	v[0] = (uint8_t)(flags | DHCP_FQDN_E);
	v[1] = v[2] = b->reply ? 255 : 0;
	return dhcp_put_option(b, DHCP_OPT_CLIENT_FQDN, v, 3 + (size_t)flen);
}

bool dhcp_option_always_sent(uint8_t code)
{
	switch (code) {
	case DHCP_OPT_SUBNET_MASK:
	case DHCP_OPT_ROUTER:
	case DHCP_OPT_DNS_SERVER:
	case DHCP_OPT_LEASE_TIME:
	case DHCP_OPT_MESSAGE_TYPE:
	case DHCP_OPT_SERVER_ID:
	case DHCP_OPT_RENEWAL_TIME:
	case DHCP_OPT_REBINDING_TIME:
		return true;
	default:
		return false;
	}
}

size_t dhcp_reply_option_order(const struct dhcp_message *req, const uint8_t *have, size_t n, uint8_t *out)
{
	bool in_have[256] = { false }, placed[256] = { false };
	size_t count = 0, plen;
	for (size_t i = 0; i < n; i++)
		in_have[have[i]] = true;
	placed[DHCP_OPT_PAD] = placed[DHCP_OPT_END] = true;
	placed[DHCP_OPT_MESSAGE_TYPE] = placed[DHCP_OPT_RELAY_AGENT_INFO] = true;
	const uint8_t *prl = dhcp_param_request_list(req, &plen);
	for (size_t i = 0; prl && i < plen; i++) {
		if (in_have[prl[i]] && !placed[prl[i]]) {
			placed[prl[i]] = true;
			out[count++] = prl[i];
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (dhcp_option_always_sent(have[i]) && !placed[have[i]]) {
			placed[have[i]] = true;
			out[count++] = have[i];
		}
	}
	return count;
}

static int builder_start(struct dhcp_builder *b, uint8_t *buf, size_t cap, size_t limit)
{
	memset(b, 0, sizeof *b);
	if (!buf || cap < DHCP_BUILDER_MIN_CAP) {
		b->error = -EINVAL;
		return -EINVAL;
	}
	b->buf = buf;
	b->limit = limit < cap ? limit : cap;
	memset(buf, 0, DHCP_OPTIONS_OFFSET);
	put_be32(buf + DHCP_FIXED_LEN, DHCP_MAGIC_COOKIE);
	b->len = DHCP_OPTIONS_OFFSET;
	b->reserved = 1; /* END */
	return 0;
}

int dhcp_build_reply(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_message *req,
		     uint8_t type, struct in_addr yiaddr, struct in_addr siaddr)
{
	int rc = builder_start(b, buf, cap, req ? dhcp_max_reply_len(req) : 0);
	if (rc < 0)
		return rc;
	if (!req || req->hlen > DHCP_CHADDR_LEN || type == 0)
		return set_error(b, -EINVAL);
	b->reply = true;
	buf[0] = DHCP_OP_REPLY;
	buf[1] = req->htype;
	buf[2] = req->hlen;
	put_be32(buf + 4, req->xid);
	put_be16(buf + 10, req->flags);
	if (type == DHCP_ACK)
		memcpy(buf + 12, &req->ciaddr, 4);
	memcpy(buf + 16, &yiaddr, 4);
	memcpy(buf + 20, &siaddr, 4);
	memcpy(buf + 24, &req->giaddr, 4);
	memcpy(buf + 28, req->chaddr, DHCP_CHADDR_LEN);
	size_t rlen;
	const uint8_t *relay = dhcp_relay_agent_info(req, &rlen);
	if (relay) {
		b->relay_info = relay;
		b->relay_info_len = rlen;
		b->reserved += encoded_size(rlen);
	}
	rc = dhcp_put_u8(b, DHCP_OPT_MESSAGE_TYPE, type);
	size_t idlen;
	const uint8_t *id = dhcp_option(req, DHCP_OPT_CLIENT_ID, &idlen);
	if (rc == 0 && id)
		rc = dhcp_put_option(b, DHCP_OPT_CLIENT_ID, id, idlen);
	return rc;
}

static bool addr_set(struct in_addr a)
{
	return a.s_addr != 0;
}

int dhcp_build_request(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_request_params *p)
{
	int rc = builder_start(b, buf, cap, DHCP_MIN_MSG_LEN);
	if (rc < 0)
		return rc;
	if (!p || p->hlen > DHCP_CHADDR_LEN || (p->client_id && (p->client_id_len < 2 || p->client_id_len > 255)) ||
	    (p->max_message_size && p->max_message_size < DHCP_MIN_DATAGRAM))
		return set_error(b, -EINVAL);
	bool needs_ciaddr = false, ciaddr_zero = false, needs_ip = false, ip_allowed = false;
	bool needs_server = false, server_allowed = false, extras = true;
	switch (p->type) {
	case DHCP_DISCOVER:
		ciaddr_zero = ip_allowed = true;
		break;
	case DHCP_REQUEST:
		ip_allowed = server_allowed = true;
		break;
	case DHCP_DECLINE:
		ciaddr_zero = needs_ip = ip_allowed = needs_server = server_allowed = true;
		extras = false;
		break;
	case DHCP_RELEASE:
		needs_ciaddr = needs_server = server_allowed = true;
		extras = false;
		break;
	case DHCP_INFORM:
		needs_ciaddr = true;
		break;
	default:
		return set_error(b, -EINVAL);
	}
	if ((needs_ciaddr && !addr_set(p->ciaddr)) || (ciaddr_zero && addr_set(p->ciaddr)) ||
	    (needs_ip && !addr_set(p->requested_ip)) || (!ip_allowed && addr_set(p->requested_ip)) ||
	    (needs_server && !addr_set(p->server_id)) || (!server_allowed && addr_set(p->server_id)))
		return set_error(b, -EINVAL);

	buf[0] = DHCP_OP_REQUEST;
	buf[1] = p->htype;
	buf[2] = p->hlen;
	put_be32(buf + 4, p->xid);
	put_be16(buf + 8, p->secs);
	put_be16(buf + 10, p->broadcast ? DHCP_FLAG_BROADCAST : 0);
	memcpy(buf + 12, &p->ciaddr, 4);
	memcpy(buf + 28, p->chaddr, p->hlen);
	dhcp_put_u8(b, DHCP_OPT_MESSAGE_TYPE, p->type);
	if (p->client_id)
		dhcp_put_option(b, DHCP_OPT_CLIENT_ID, p->client_id, p->client_id_len);
	if (addr_set(p->requested_ip))
		dhcp_put_ipv4(b, DHCP_OPT_REQUESTED_IP, p->requested_ip);
	if (addr_set(p->server_id))
		dhcp_put_ipv4(b, DHCP_OPT_SERVER_ID, p->server_id);
	if (extras) {
		if (p->max_message_size)
			dhcp_put_u16(b, DHCP_OPT_MAX_MESSAGE_SIZE, p->max_message_size);
		if (p->params && p->nparams)
			dhcp_put_option(b, DHCP_OPT_PARAM_REQUEST_LIST, p->params, p->nparams);
		if (p->hostname)
			dhcp_put_string(b, DHCP_OPT_HOSTNAME, p->hostname);
		if (p->fqdn)
			dhcp_put_client_fqdn(b, p->fqdn_flags, p->fqdn);
		if (p->vendor_class && p->vendor_class_len)
			dhcp_put_option(b, DHCP_OPT_VENDOR_CLASS, p->vendor_class, p->vendor_class_len);
	}
	return b->error;
}

int dhcp_finish(struct dhcp_builder *b)
{
	int rc = check_open(b);
	if (rc < 0)
		return rc;
	b->reserved = 0; /* what was kept back is spent now */
	if (b->relay_info) {
		rc = dhcp_put_option(b, DHCP_OPT_RELAY_AGENT_INFO, b->relay_info, b->relay_info_len);
		if (rc < 0)
			return rc;
	}
	if (b->len + 1 > b->limit)
		return set_error(b, -ENOSPC);
	b->buf[b->len++] = DHCP_OPT_END;
	size_t min = DHCP_BOOTP_MIN_LEN < b->limit ? DHCP_BOOTP_MIN_LEN : b->limit;
	if (b->len < min) {
		memset(b->buf + b->len, 0, min - b->len);
		b->len = min;
	}
	b->finished = true;
	return (int)b->len;
}
