/* RS/RA codec (see nd_wire.h). ND options are TLVs whose length counts units of
 * 8 bytes, including the type and length bytes; a length of 0 is malformed (RFC
 * 4861 §4.6: "Nodes MUST silently discard an ND packet that contains an option
 * with length zero"). */
#include "nd_wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "dhcp6_wire.h"
#include "dns_wire.h"
#include "errmsg.h"

#define fail(err, errlen, ...) arbor_errmsg(-EBADMSG, err, errlen, __VA_ARGS__)

/* ---- building ---- */

struct out {
	uint8_t *buf;
	size_t cap, len;
	int error;
};

/* Reserves an option of units*8 bytes, zeroed, with its type and length set. */
static uint8_t *option(struct out *o, uint8_t type, size_t units)
{
	if (o->error)
		return NULL;
	if (units == 0 || units > 255) {
		o->error = -EINVAL;
		return NULL;
	}
	if (units * 8 > o->cap - o->len) {
		o->error = -ENOSPC;
		return NULL;
	}
	uint8_t *p = o->buf + o->len;
	memset(p, 0, units * 8);
	p[0] = type;
	p[1] = (uint8_t)units;
	o->len += units * 8;
	return p;
}

static void put_prefix(struct out *o, const struct nd_prefix_info *pi)
{
	if (pi->len > 128) {
		o->error = -EINVAL;
		return;
	}
	uint8_t *p = option(o, ND_OPT_PREFIX_INFO, 4);
	if (!p)
		return;
	p[2] = pi->len;
	p[3] = (uint8_t)((pi->onlink ? 0x80 : 0) | (pi->autonomous ? 0x40 : 0));
	put_be32(p + 4, pi->valid);
	put_be32(p + 8, pi->preferred);
	memcpy(p + 16, &pi->prefix, 16);
}

static void put_route(struct out *o, const struct nd_route_info *ri)
{
	if (ri->len > 128) {
		o->error = -EINVAL;
		return;
	}
	/* RFC 4191 §2.3: the prefix field is 0, 8 or 16 bytes, as short as the length allows. */
	size_t bytes = ri->len == 0 ? 0 : ri->len <= 64 ? 8 : 16;
	uint8_t *p = option(o, ND_OPT_ROUTE_INFO, 1 + bytes / 8);
	if (!p)
		return;
	p[2] = ri->len;
	p[3] = (uint8_t)((ri->preference & 3) << 3);
	put_be32(p + 4, ri->lifetime);
	memcpy(p + 8, &ri->prefix, bytes);
}

static void put_rdnss(struct out *o, const struct nd_rdnss *r)
{
	if (r->n == 0 || r->n > ND_RDNSS_ADDRS_MAX) {
		o->error = -EINVAL;
		return;
	}
	uint8_t *p = option(o, ND_OPT_RDNSS, 1 + 2 * r->n);
	if (!p)
		return;
	put_be32(p + 4, r->lifetime);
	for (size_t i = 0; i < r->n; i++)
		memcpy(p + 8 + 16 * i, &r->addr[i], 16);
}

static void put_dnssl(struct out *o, const struct nd_dnssl *d)
{
	uint8_t wire[ND_DNSSL_NAMES_MAX * 256];
	size_t wl = 0;
	if (d->n == 0 || d->n > ND_DNSSL_NAMES_MAX) {
		o->error = -EINVAL;
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		int n = arbor_dns_name_from_text(d->name[i], wire + wl, sizeof wire - wl);
		if (n <= 1) { /* the root alone is no search domain */
			o->error = -EINVAL;
			return;
		}
		wl += (size_t)n;
	}
	uint8_t *p = option(o, ND_OPT_DNSSL, 1 + (wl + 7) / 8);
	if (!p)
		return;
	put_be32(p + 4, d->lifetime);
	memcpy(p + 8, wire, wl); /* the rest stays zero: padding */
}

int nd_ra_build(const struct nd_ra *ra, uint8_t *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };
	if (cap < 16)
		return -ENOSPC;
	memset(buf, 0, 16);
	buf[0] = ND_ROUTER_ADVERT;
	buf[4] = ra->hop_limit;
	buf[5] = (uint8_t)((ra->managed ? 0x80 : 0) | (ra->other ? 0x40 : 0) | (ra->preference & 3) << 3);
	put_be16(buf + 6, ra->router_lifetime);
	put_be32(buf + 8, ra->reachable);
	put_be32(buf + 12, ra->retrans);
	o.len = 16;
	if (ra->has_lladdr) {
		uint8_t *p = option(&o, ND_OPT_SOURCE_LLADDR, 1);
		if (p)
			memcpy(p + 2, ra->lladdr, 6);
	}
	if (ra->has_mtu) {
		uint8_t *p = option(&o, ND_OPT_MTU, 1);
		if (p)
			put_be32(p + 4, ra->mtu);
	}
	for (size_t i = 0; i < ra->nprefix && i < ND_PREFIXES_MAX; i++)
		put_prefix(&o, &ra->prefix[i]);
	for (size_t i = 0; i < ra->nroute && i < ND_ROUTES_MAX; i++)
		put_route(&o, &ra->route[i]);
	for (size_t i = 0; i < ra->nrdnss && i < ND_RDNSS_MAX; i++)
		put_rdnss(&o, &ra->rdnss[i]);
	for (size_t i = 0; i < ra->ndnssl && i < ND_DNSSL_MAX; i++)
		put_dnssl(&o, &ra->dnssl[i]);
	return o.error ? o.error : (int)o.len;
}

int nd_rs_build(const uint8_t *lladdr, uint8_t *buf, size_t cap)
{
	size_t len = lladdr ? 16 : 8;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	buf[0] = ND_ROUTER_SOLICIT;
	if (lladdr) {
		buf[8] = ND_OPT_SOURCE_LLADDR;
		buf[9] = 1;
		memcpy(buf + 10, lladdr, 6);
	}
	return (int)len;
}

/* ---- parsing ---- */

typedef int nd_option_fn(void *ctx, uint8_t type, const uint8_t *p, size_t len, char *err, size_t errlen);

static int walk(const uint8_t *buf, size_t len, size_t off, nd_option_fn *fn, void *ctx, char *err, size_t errlen)
{
	while (off < len) {
		if (len - off < 2)
			return fail(err, errlen, "a stray byte after the last option");
		size_t olen = (size_t)buf[off + 1] * 8;
		if (olen == 0)
			return fail(err, errlen, "option %u of length 0", buf[off]);
		if (olen > len - off)
			return fail(err, errlen, "option %u runs past the end (%zu bytes, %zu left)", buf[off], olen,
				    len - off);
		int rc = fn(ctx, buf[off], buf + off, olen, err, errlen);
		if (rc < 0)
			return rc;
		off += olen;
	}
	return 0;
}

static int ra_option(void *ctx, uint8_t type, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct nd_ra *ra = ctx;
	switch (type) {
	case ND_OPT_SOURCE_LLADDR:
		if (len == 8) { /* Ethernet; other link layers are kept out */
			ra->has_lladdr = true;
			memcpy(ra->lladdr, p + 2, 6);
		} else {
			ra->skipped++;
		}
		return 0;
	case ND_OPT_MTU:
		if (len != 8)
			return fail(err, errlen, "MTU option of %zu bytes", len);
		ra->has_mtu = true;
		ra->mtu = get_be32(p + 4);
		return 0;
	case ND_OPT_PREFIX_INFO: {
		if (len != 32)
			return fail(err, errlen, "prefix information option of %zu bytes", len);
		if (p[2] > 128)
			return fail(err, errlen, "prefix information with prefix length %u", p[2]);
		if (ra->nprefix == ND_PREFIXES_MAX) {
			ra->skipped++;
			return 0;
		}
		struct nd_prefix_info *pi = &ra->prefix[ra->nprefix++];
		pi->len = p[2];
		pi->onlink = p[3] & 0x80;
		pi->autonomous = p[3] & 0x40;
		pi->valid = get_be32(p + 4);
		pi->preferred = get_be32(p + 8);
		memcpy(&pi->prefix, p + 16, 16);
		return 0;
	}
	case ND_OPT_ROUTE_INFO: {
		/* RFC 4191 §2.3: length 1, 2 or 3, and long enough for the prefix length. */
		if (len > 24 || p[2] > 128 || (p[2] > 64 && len < 24) || (p[2] > 0 && len < 16))
			return fail(err, errlen, "route information option of %zu bytes for a /%u", len, p[2]);
		if (ra->nroute == ND_ROUTES_MAX) {
			ra->skipped++;
			return 0;
		}
		struct nd_route_info *ri = &ra->route[ra->nroute++];
		memset(ri, 0, sizeof *ri);
		ri->len = p[2];
		ri->preference = (p[3] >> 3) & 3;
		ri->lifetime = get_be32(p + 4);
		memcpy(&ri->prefix, p + 8, len - 8);
		return 0;
	}
	case ND_OPT_RDNSS: {
		if (len < 24 || (len - 8) % 16)
			return fail(err, errlen, "RDNSS option of %zu bytes", len);
		if (ra->nrdnss == ND_RDNSS_MAX) {
			ra->skipped++;
			return 0;
		}
		struct nd_rdnss *r = &ra->rdnss[ra->nrdnss++];
		r->lifetime = get_be32(p + 4);
		r->n = 0;
		for (size_t off = 8; off < len; off += 16) {
			if (r->n < ND_RDNSS_ADDRS_MAX)
				memcpy(&r->addr[r->n++], p + off, 16);
			else
				ra->skipped++;
		}
		return 0;
	}
	case ND_OPT_DNSSL: {
		if (len < 16)
			return fail(err, errlen, "DNSSL option of %zu bytes", len);
		/* The names, then zero padding: the padding starts where a root label
		 * would start the next name (RFC 8106 §5.2). Walked from the front: a
		 * label may end in zero bytes, so trimming zeros from the back could cut
		 * into the last name. */
		size_t end = 8;
		while (end < len && p[end] != 0) {
			size_t q = end;
			while (q < len && p[q] != 0 && p[q] < 64)
				q += 1u + p[q];
			if (q >= len || p[q] != 0)
				return fail(err, errlen, "DNSSL option is not a list of names");
			end = q + 1;
		}
		for (size_t i = end; i < len; i++)
			if (p[i] != 0)
				return fail(err, errlen, "DNSSL padding is not zero");
		if (ra->ndnssl == ND_DNSSL_MAX) {
			ra->skipped++;
			return 0;
		}
		struct nd_dnssl *d = &ra->dnssl[ra->ndnssl];
		char names[ND_DNSSL_NAMES_MAX][DHCP6_NAME_TEXT_MAX];
		int n = dhcp6_parse_domain_list(p + 8, end - 8, names, ND_DNSSL_NAMES_MAX);
		if (n < 0)
			return fail(err, errlen, "DNSSL option is not a list of names");
		ra->ndnssl++;
		d->lifetime = get_be32(p + 4);
		d->n = (size_t)n < ND_DNSSL_NAMES_MAX ? (size_t)n : ND_DNSSL_NAMES_MAX;
		for (size_t i = 0; i < d->n; i++)
			memcpy(d->name[i], names[i], ND_NAME_TEXT_MAX);
		if ((size_t)n > d->n)
			ra->skipped += (size_t)n - d->n;
		return 0;
	}
	default:
		ra->skipped++;
		return 0;
	}
}

int nd_ra_parse(const uint8_t *buf, size_t len, struct nd_ra *ra, char *err, size_t errlen)
{
	memset(ra, 0, sizeof *ra);
	if (len < 16)
		return fail(err, errlen, "router advertisement of %zu bytes", len);
	if (buf[0] != ND_ROUTER_ADVERT || buf[1] != 0)
		return fail(err, errlen, "ICMPv6 type %u code %u is not a router advertisement", buf[0], buf[1]);
	ra->hop_limit = buf[4];
	ra->managed = buf[5] & 0x80;
	ra->other = buf[5] & 0x40;
	ra->preference = (buf[5] >> 3) & 3;
	ra->router_lifetime = get_be16(buf + 6);
	ra->reachable = get_be32(buf + 8);
	ra->retrans = get_be32(buf + 12);
	return walk(buf, len, 16, ra_option, ra, err, errlen);
}

struct rs_ctx {
	bool *has;
	uint8_t *lladdr;
};

static int rs_option(void *ctx, uint8_t type, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct rs_ctx *c = ctx;
	if (type == ND_OPT_SOURCE_LLADDR && len == 8) {
		*c->has = true;
		memcpy(c->lladdr, p + 2, 6);
	}
	return 0;
}

int nd_rs_parse(const uint8_t *buf, size_t len, bool *has_lladdr, uint8_t lladdr[6], char *err, size_t errlen)
{
	*has_lladdr = false;
	if (len < 8)
		return fail(err, errlen, "router solicitation of %zu bytes", len);
	if (buf[0] != ND_ROUTER_SOLICIT || buf[1] != 0)
		return fail(err, errlen, "ICMPv6 type %u code %u is not a router solicitation", buf[0], buf[1]);
	struct rs_ctx c = { has_lladdr, lladdr };
	return walk(buf, len, 8, rs_option, &c, err, errlen);
}
