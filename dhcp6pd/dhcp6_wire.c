/* The DHCPv6 codec (see dhcp6_wire.h). Options are TLVs of a 16-bit code and a
 * 16-bit length; IA_NA, IA_PD, IAADDR and IAPREFIX carry options of their own
 * after fixed fields, so the same walker runs at every level, and a status code
 * can sit at the message, the IA and the address/prefix level (RFC 8415 §21.13). */
#include "dhcp6_wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "dns_wire.h"
#include "errmsg.h"

const char *dhcp6_type_name(int type)
{
	static const char *const names[] = {
		[DHCP6_SOLICIT] = "SOLICIT", [DHCP6_ADVERTISE] = "ADVERTISE", [DHCP6_REQUEST] = "REQUEST",
		[DHCP6_CONFIRM] = "CONFIRM", [DHCP6_RENEW] = "RENEW", [DHCP6_REBIND] = "REBIND",
		[DHCP6_REPLY] = "REPLY", [DHCP6_RELEASE] = "RELEASE", [DHCP6_DECLINE] = "DECLINE",
		[DHCP6_RECONFIGURE] = "RECONFIGURE", [DHCP6_INFORMATION_REQUEST] = "INFORMATION-REQUEST",
		[DHCP6_RELAY_FORW] = "RELAY-FORW", [DHCP6_RELAY_REPL] = "RELAY-REPL",
	};
	return type > 0 && type <= DHCP6_RELAY_REPL ? names[type] : "unknown";
}

const char *dhcp6_status_name(int code)
{
	static const char *const names[] = { "Success", "UnspecFail", "NoAddrsAvail", "NoBinding",
					     "NotOnLink", "UseMulticast", "NoPrefixAvail" };
	return code >= 0 && code <= DHCP6_STATUS_NO_PREFIX_AVAIL ? names[code] : "unknown";
}

#define fail(err, errlen, ...) arbor_errmsg(-EBADMSG, err, errlen, __VA_ARGS__)

/* ---- parsing ---- */

/* Walks the options in v[0..len): calls fn for each; stops at the first error. */
typedef int option_fn(void *ctx, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen);

static int walk(const uint8_t *v, size_t len, option_fn *fn, void *ctx, const char *where, char *err, size_t errlen)
{
	size_t off = 0;
	while (off < len) {
		if (len - off < 4)
			return fail(err, errlen, "%s: %zu stray bytes after the last option", where, len - off);
		uint16_t code = get_be16(v + off), olen = get_be16(v + off + 2);
		if (olen > len - off - 4)
			return fail(err, errlen, "%s: option %u runs past the end (%u bytes, %zu left)", where, code, olen,
				    len - off - 4);
		int rc = fn(ctx, code, v + off + 4, olen, err, errlen);
		if (rc < 0)
			return rc;
		off += 4 + (size_t)olen;
	}
	return 0;
}

static int parse_status(struct dhcp6_status *s, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	if (len < 2)
		return fail(err, errlen, "status code option of %u bytes", len);
	if (s->present)
		return fail(err, errlen, "two status codes at one level");
	s->present = true;
	s->code = get_be16(v);
	size_t n = len - 2u < DHCP6_STATUS_TEXT_MAX - 1 ? len - 2u : DHCP6_STATUS_TEXT_MAX - 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[2 + i];
		s->text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	s->text[n] = '\0';
	return 0;
}

/* Inside an IAADDR or IAPREFIX only a status code matters. */
static int entry_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	struct dhcp6_lease_entry *e = ctx;
	if (code == DHCP6_OPT_STATUS_CODE)
		return parse_status(&e->status, v, len, err, errlen);
	return 0;
}

struct ia_ctx {
	struct dhcp6_ia *ia; /* NULL: well-formedness only (IA_TA, IAs past the limit) */
};

static int ia_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	struct dhcp6_ia *ia = ((struct ia_ctx *)ctx)->ia;
	struct dhcp6_lease_entry e;
	memset(&e, 0, sizeof e);
	int rc;
	switch (code) {
	case DHCP6_OPT_STATUS_CODE:
		return ia ? parse_status(&ia->status, v, len, err, errlen) : 0;
	case DHCP6_OPT_IAADDR:
		if (len < 24)
			return fail(err, errlen, "IA Address option of %u bytes", len);
		memcpy(&e.addr, v, 16);
		e.plen = 128;
		e.preferred = get_be32(v + 16);
		e.valid = get_be32(v + 20);
		rc = walk(v + 24, len - 24u, entry_option, &e, "IA Address", err, errlen);
		break;
	case DHCP6_OPT_IAPREFIX:
		if (len < 25)
			return fail(err, errlen, "IA Prefix option of %u bytes", len);
		e.preferred = get_be32(v);
		e.valid = get_be32(v + 4);
		e.plen = v[8];
		if (e.plen > 128)
			return fail(err, errlen, "IA Prefix with prefix length %u", e.plen);
		memcpy(&e.addr, v + 9, 16);
		rc = walk(v + 25, len - 25u, entry_option, &e, "IA Prefix", err, errlen);
		break;
	default:
		return 0;
	}
	if (rc < 0 || ia == NULL)
		return rc;
	if (ia->n < DHCP6_IA_ENTRIES_MAX)
		ia->e[ia->n++] = e;
	else
		ia->dropped++;
	return 0;
}

static int parse_ia(struct dhcp6_message *m, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	size_t fixed = code == DHCP6_OPT_IA_TA ? 4 : 12;
	if (len < fixed)
		return fail(err, errlen, "%s option of %u bytes", code == DHCP6_OPT_IA_PD ? "IA_PD" : "IA_NA/TA", len);
	struct ia_ctx c = { NULL };
	struct dhcp6_ia *ia = NULL;
	if (code != DHCP6_OPT_IA_TA && m->nia < DHCP6_IA_MAX) {
		ia = &m->ia[m->nia];
		memset(ia, 0, sizeof *ia);
		ia->type = code;
		ia->iaid = get_be32(v);
		ia->t1 = get_be32(v + 4);
		ia->t2 = get_be32(v + 8);
		c.ia = ia;
	}
	int rc = walk(v + fixed, len - fixed, ia_option, &c, code == DHCP6_OPT_IA_PD ? "IA_PD" : "IA", err, errlen);
	if (rc < 0)
		return rc;
	if (ia)
		m->nia++;
	else if (code != DHCP6_OPT_IA_TA)
		m->ia_dropped++;
	return 0;
}

/* Finds where the flat name starting at v[off] ends (pointers are not allowed in
 * DHCPv6 or ND names). Returns the offset after it, or -EBADMSG. */
static int flat_name_end(const uint8_t *v, size_t len, size_t off)
{
	size_t start = off;
	for (;;) {
		if (off >= len)
			return -EBADMSG;
		uint8_t l = v[off];
		if (l == 0)
			break;
		if (l > 63 || l > len - off - 1)
			return -EBADMSG;
		off += 1u + l;
		if (off - start > 254)
			return -EBADMSG;
	}
	return (int)(off + 1);
}

int dhcp6_parse_domain_list(const uint8_t *v, size_t len, char names[][DHCP6_NAME_TEXT_MAX], size_t max)
{
	size_t off = 0;
	int count = 0;
	while (off < len) {
		int end = flat_name_end(v, len, off);
		if (end < 0)
			return -EBADMSG;
		char text[DHCP6_NAME_TEXT_MAX * 4];
		int tl = arbor_dns_name_to_text(v + off, (size_t)end - off, text, sizeof text);
		if (tl < 0)
			return -EBADMSG;
		if ((size_t)count < max)
			snprintf(names[count], DHCP6_NAME_TEXT_MAX, "%s", text);
		count++;
		off = (size_t)end;
	}
	return count;
}

static int set_once(const uint8_t **p, uint16_t *plen, const uint8_t *v, uint16_t len, const char *what, char *err,
		    size_t errlen)
{
	if (*p)
		return fail(err, errlen, "two %s options", what);
	if (len < 2 || len > DHCP6_DUID_MAX)
		return fail(err, errlen, "%s of %u bytes (a DUID is 2 to %d)", what, len, DHCP6_DUID_MAX);
	*p = v;
	*plen = len;
	return 0;
}

static int fixed_len(uint16_t code, uint16_t len, uint16_t want, char *err, size_t errlen)
{
	if (len != want)
		return fail(err, errlen, "option %u of %u bytes (must be %u)", code, len, want);
	return 0;
}

static int message_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	struct dhcp6_message *m = ctx;
	int rc;
	switch (code) {
	case DHCP6_OPT_CLIENTID:
		return set_once(&m->client_id, &m->client_id_len, v, len, "client id", err, errlen);
	case DHCP6_OPT_SERVERID:
		return set_once(&m->server_id, &m->server_id_len, v, len, "server id", err, errlen);
	case DHCP6_OPT_IA_NA:
	case DHCP6_OPT_IA_TA:
	case DHCP6_OPT_IA_PD:
		return parse_ia(m, code, v, len, err, errlen);
	case DHCP6_OPT_STATUS_CODE:
		return parse_status(&m->status, v, len, err, errlen);
	case DHCP6_OPT_ORO:
		if (len % 2)
			return fail(err, errlen, "option request option of odd length %u", len);
		for (uint16_t i = 0; i < len && m->noro < DHCP6_ORO_MAX; i += 2)
			m->oro[m->noro++] = get_be16(v + i);
		return 0;
	case DHCP6_OPT_ELAPSED_TIME:
		if ((rc = fixed_len(code, len, 2, err, errlen)) < 0)
			return rc;
		m->has_elapsed = true;
		m->elapsed = get_be16(v);
		return 0;
	case DHCP6_OPT_PREFERENCE:
		if ((rc = fixed_len(code, len, 1, err, errlen)) < 0)
			return rc;
		m->has_preference = true;
		m->preference = v[0];
		return 0;
	case DHCP6_OPT_RAPID_COMMIT:
		if ((rc = fixed_len(code, len, 0, err, errlen)) < 0)
			return rc;
		m->rapid_commit = true;
		return 0;
	case DHCP6_OPT_RECONF_ACCEPT:
		if ((rc = fixed_len(code, len, 0, err, errlen)) < 0)
			return rc;
		m->reconf_accept = true;
		return 0;
	case DHCP6_OPT_DNS_SERVERS:
		if (len % 16)
			return fail(err, errlen, "DNS servers option of %u bytes (not a multiple of 16)", len);
		for (uint16_t i = 0; i < len && m->ndns < DHCP6_DNS_MAX; i += 16)
			memcpy(&m->dns[m->ndns++], v + i, 16);
		return 0;
	case DHCP6_OPT_DOMAIN_LIST:
		if (dhcp6_parse_domain_list(v, len, NULL, 0) < 0)
			return fail(err, errlen, "domain list option is not a list of names");
		m->domains = v;
		m->domains_len = len;
		return 0;
	case DHCP6_OPT_INFORMATION_REFRESH_TIME:
		if ((rc = fixed_len(code, len, 4, err, errlen)) < 0)
			return rc;
		m->has_info_refresh = true;
		m->info_refresh = get_be32(v);
		return 0;
	case DHCP6_OPT_SOL_MAX_RT:
		if ((rc = fixed_len(code, len, 4, err, errlen)) < 0)
			return rc;
		m->has_sol_max_rt = true;
		m->sol_max_rt = get_be32(v);
		return 0;
	case DHCP6_OPT_INF_MAX_RT:
		if ((rc = fixed_len(code, len, 4, err, errlen)) < 0)
			return rc;
		m->has_inf_max_rt = true;
		m->inf_max_rt = get_be32(v);
		return 0;
	case DHCP6_OPT_RELAY_MSG: /* only meaningful inside relay messages */
	default:
		m->unknown++;
		return 0;
	}
}

int dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_message *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (err && errlen)
		err[0] = '\0';
	if (len > DHCP6_MAX_PACKET) {
		fail(err, errlen, "message of %zu bytes", len);
		return -EMSGSIZE;
	}
	if (len < DHCP6_HEADER_LEN)
		return fail(err, errlen, "message of %zu bytes is shorter than the header", len);
	m->type = buf[0];
	if (m->type == 0 || m->type == DHCP6_RELAY_FORW || m->type == DHCP6_RELAY_REPL || m->type > 13)
		return fail(err, errlen, "message type %u is not a client or server message", m->type);
	m->xid = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	return walk(buf + 4, len - 4, message_option, m, dhcp6_type_name(m->type), err, errlen);
}

struct relay_ctx {
	struct dhcp6_relay *r;
	int nmsg;
};

static int relay_option(void *ctx, uint16_t code, const uint8_t *v, uint16_t len, char *err, size_t errlen)
{
	struct relay_ctx *c = ctx;
	if (code == DHCP6_OPT_RELAY_MSG) {
		if (c->nmsg++)
			return fail(err, errlen, "two Relay Message options");
		c->r->msg = v;
		c->r->msg_len = len;
	} else if (code == DHCP6_OPT_INTERFACE_ID) {
		if (c->r->interface_id)
			return fail(err, errlen, "two Interface-ID options");
		c->r->interface_id = v;
		c->r->interface_id_len = len;
	}
	return 0;
}

int dhcp6_unwrap_relays(const uint8_t *buf, size_t len, struct dhcp6_relay chain[DHCP6_RELAY_MAX], size_t *n,
			const uint8_t **inner, size_t *inner_len, char *err, size_t errlen)
{
	*n = 0;
	*inner = buf;
	*inner_len = len;
	if (err && errlen)
		err[0] = '\0';
	if (len > DHCP6_MAX_PACKET) {
		fail(err, errlen, "message of %zu bytes", len);
		return -EMSGSIZE;
	}
	const uint8_t *p = buf;
	size_t plen = len;
	/* Iterative, never recursive: the depth is bounded before any work is done
	 * on a level. */
	while (plen >= 1 && (p[0] == DHCP6_RELAY_FORW || p[0] == DHCP6_RELAY_REPL)) {
		if (*n == DHCP6_RELAY_MAX) {
			if (err && errlen)
				snprintf(err, errlen, "relay messages nested deeper than %d", DHCP6_RELAY_MAX);
			return -ELOOP;
		}
		if (plen < DHCP6_RELAY_HEADER_LEN)
			return fail(err, errlen, "relay message of %zu bytes is shorter than its header", plen);
		struct dhcp6_relay *r = &chain[*n];
		memset(r, 0, sizeof *r);
		r->type = p[0];
		r->hop_count = p[1];
		memcpy(&r->link_addr, p + 2, 16);
		memcpy(&r->peer_addr, p + 18, 16);
		struct relay_ctx c = { r, 0 };
		int rc = walk(p + DHCP6_RELAY_HEADER_LEN, plen - DHCP6_RELAY_HEADER_LEN, relay_option, &c,
			      dhcp6_type_name(r->type), err, errlen);
		if (rc < 0)
			return rc;
		if (r->msg == NULL)
			return fail(err, errlen, "%s without a Relay Message option", dhcp6_type_name(r->type));
		(*n)++;
		p = r->msg;
		plen = r->msg_len;
	}
	*inner = p;
	*inner_len = plen;
	return 0;
}

bool dhcp6_requested(const struct dhcp6_message *m, uint16_t code)
{
	for (size_t i = 0; i < m->noro; i++)
		if (m->oro[i] == code)
			return true;
	return false;
}

const struct dhcp6_ia *dhcp6_find_ia(const struct dhcp6_message *m, uint16_t type, uint32_t iaid)
{
	for (size_t i = 0; i < m->nia; i++)
		if (m->ia[i].type == type && m->ia[i].iaid == iaid)
			return &m->ia[i];
	return NULL;
}

/* ---- building ---- */

static bool room(struct dhcp6_builder *b, size_t n)
{
	if (b->error)
		return false;
	if (n > b->cap - b->len) {
		b->error = -ENOSPC;
		return false;
	}
	return true;
}

void dhcp6_build_start(struct dhcp6_builder *b, uint8_t *buf, size_t cap, uint8_t type, uint32_t xid)
{
	memset(b, 0, sizeof *b);
	b->buf = buf;
	b->cap = cap > 65535 ? 65535 : cap;
	if (!room(b, 4))
		return;
	buf[0] = type;
	buf[1] = (uint8_t)(xid >> 16);
	buf[2] = (uint8_t)(xid >> 8);
	buf[3] = (uint8_t)xid;
	b->len = 4;
}

void dhcp6_put_bytes(struct dhcp6_builder *b, const void *data, size_t len)
{
	if (!room(b, len))
		return;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
}

void dhcp6_put_option(struct dhcp6_builder *b, uint16_t code, const void *data, size_t len)
{
	if (len > 65535 && !b->error)
		b->error = -EINVAL;
	if (!room(b, 4 + len))
		return;
	put_be16(b->buf + b->len, code);
	put_be16(b->buf + b->len + 2, (uint16_t)len);
	b->len += 4;
	dhcp6_put_bytes(b, data, len);
}

void dhcp6_put_u8(struct dhcp6_builder *b, uint16_t code, uint8_t v)
{
	dhcp6_put_option(b, code, &v, 1);
}

void dhcp6_put_u16(struct dhcp6_builder *b, uint16_t code, uint16_t v)
{
	uint8_t x[2];
	put_be16(x, v);
	dhcp6_put_option(b, code, x, 2);
}

void dhcp6_put_u32(struct dhcp6_builder *b, uint16_t code, uint32_t v)
{
	uint8_t x[4];
	put_be32(x, v);
	dhcp6_put_option(b, code, x, 4);
}

void dhcp6_open(struct dhcp6_builder *b, uint16_t code)
{
	if (b->depth == (int)(sizeof b->open / sizeof b->open[0])) {
		if (!b->error)
			b->error = -EINVAL;
		return;
	}
	if (!room(b, 4))
		return;
	put_be16(b->buf + b->len, code);
	b->open[b->depth++] = b->len;
	b->len += 4;
}

void dhcp6_close(struct dhcp6_builder *b)
{
	if (b->error)
		return;
	if (b->depth == 0) {
		b->error = -EINVAL;
		return;
	}
	size_t at = b->open[--b->depth];
	size_t vlen = b->len - at - 4;
	if (vlen > 65535) {
		b->error = -ENOSPC;
		return;
	}
	put_be16(b->buf + at + 2, (uint16_t)vlen);
}

void dhcp6_put_status(struct dhcp6_builder *b, uint16_t code, const char *text)
{
	size_t tl = text ? strlen(text) : 0;
	if (tl > 512)
		tl = 512;
	dhcp6_open(b, DHCP6_OPT_STATUS_CODE);
	uint8_t c[2];
	put_be16(c, code);
	dhcp6_put_bytes(b, c, 2);
	dhcp6_put_bytes(b, text, tl);
	dhcp6_close(b);
}

void dhcp6_open_ia(struct dhcp6_builder *b, uint16_t type, uint32_t iaid, uint32_t t1, uint32_t t2)
{
	uint8_t f[12];
	put_be32(f, iaid);
	put_be32(f + 4, t1);
	put_be32(f + 8, t2);
	dhcp6_open(b, type);
	dhcp6_put_bytes(b, f, 12);
}

void dhcp6_put_iaprefix(struct dhcp6_builder *b, const struct in6_addr *prefix, uint8_t plen, uint32_t preferred,
			uint32_t valid, int status, const char *text)
{
	uint8_t f[25];
	put_be32(f, preferred);
	put_be32(f + 4, valid);
	f[8] = plen;
	memcpy(f + 9, prefix, 16);
	dhcp6_open(b, DHCP6_OPT_IAPREFIX);
	dhcp6_put_bytes(b, f, 25);
	if (status >= 0)
		dhcp6_put_status(b, (uint16_t)status, text);
	dhcp6_close(b);
}

void dhcp6_put_iaaddr(struct dhcp6_builder *b, const struct in6_addr *addr, uint32_t preferred, uint32_t valid,
		      int status, const char *text)
{
	uint8_t f[24];
	memcpy(f, addr, 16);
	put_be32(f + 16, preferred);
	put_be32(f + 20, valid);
	dhcp6_open(b, DHCP6_OPT_IAADDR);
	dhcp6_put_bytes(b, f, 24);
	if (status >= 0)
		dhcp6_put_status(b, (uint16_t)status, text);
	dhcp6_close(b);
}

void dhcp6_put_dns(struct dhcp6_builder *b, const struct in6_addr *servers, size_t n)
{
	dhcp6_open(b, DHCP6_OPT_DNS_SERVERS);
	for (size_t i = 0; i < n; i++)
		dhcp6_put_bytes(b, &servers[i], 16);
	dhcp6_close(b);
}

void dhcp6_put_domain_list(struct dhcp6_builder *b, const char *const *names, size_t n)
{
	dhcp6_open(b, DHCP6_OPT_DOMAIN_LIST);
	for (size_t i = 0; i < n; i++) {
		uint8_t wire[256];
		int wl = arbor_dns_name_from_text(names[i], wire, sizeof wire);
		if (wl < 0) {
			if (!b->error)
				b->error = -EINVAL;
			return;
		}
		dhcp6_put_bytes(b, wire, (size_t)wl);
	}
	dhcp6_close(b);
}

int dhcp6_finish(struct dhcp6_builder *b)
{
	if (b->error)
		return b->error;
	if (b->depth != 0)
		return -EINVAL;
	return (int)b->len;
}

int dhcp6_build_relay_reply(uint8_t *buf, size_t cap, const struct dhcp6_relay *chain, size_t n, const uint8_t *msg,
			    size_t msg_len)
{
	if (n > DHCP6_RELAY_MAX)
		return -EINVAL;
	/* Sizes from the innermost level out: level i wraps level i+1. */
	size_t size[DHCP6_RELAY_MAX + 1];
	size[n] = msg_len;
	for (size_t i = n; i-- > 0;) {
		size[i] = DHCP6_RELAY_HEADER_LEN + 4 + size[i + 1];
		if (chain[i].interface_id)
			size[i] += 4 + (size_t)chain[i].interface_id_len;
		if (size[i + 1] > 65535)
			return -ENOSPC;
	}
	if (size[0] > cap)
		return -ENOSPC;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dhcp6_relay *r = &chain[i];
		buf[off] = DHCP6_RELAY_REPL;
		buf[off + 1] = r->hop_count;
		memcpy(buf + off + 2, &r->link_addr, 16);
		memcpy(buf + off + 18, &r->peer_addr, 16);
		off += DHCP6_RELAY_HEADER_LEN;
		if (r->interface_id) {
			put_be16(buf + off, DHCP6_OPT_INTERFACE_ID);
			put_be16(buf + off + 2, r->interface_id_len);
			memcpy(buf + off + 4, r->interface_id, r->interface_id_len);
			off += 4 + (size_t)r->interface_id_len;
		}
		put_be16(buf + off, DHCP6_OPT_RELAY_MSG);
		put_be16(buf + off + 2, (uint16_t)size[i + 1]);
		off += 4;
	}
	memcpy(buf + off, msg, msg_len);
	return (int)(off + msg_len);
}
