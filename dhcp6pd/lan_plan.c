/* LAN numbering and RA planning (see lan_plan.h). */
#include "lan_plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "addr_derive.h"
#include "byteorder.h"

bool lan_subnet_of(const struct arbor_prefix6 *d, int subnet_id, struct arbor_prefix6 *out, char *why, size_t whylen)
{
	char text[64];
	if (subnet_id < 0) {
		snprintf(why, whylen, "no subnet id");
		return false;
	}
	if (d->len > 64) {
		snprintf(why, whylen, "%s is longer than a /64", arbor_prefix6_format(d, text, sizeof text));
		return false;
	}
	unsigned bits = 64u - d->len;
	if (bits < 16 && (unsigned)subnet_id >= 1u << bits) {
		snprintf(why, whylen, "subnet id %d does not fit %s", subnet_id, arbor_prefix6_format(d, text, sizeof text));
		return false;
	}
	memset(out, 0, sizeof *out);
	put_be64(out->addr.s6_addr, get_be64(d->addr.s6_addr) | (uint64_t)subnet_id);
	out->len = 64;
	return true;
}

static struct lan_adv *find_adv(struct lan_adv *adv, size_t nadv, const struct arbor_prefix6 *p)
{
	for (size_t i = 0; i < nadv; i++)
		if (arbor_prefix6_equal(&adv[i].prefix, p))
			return &adv[i];
	return NULL;
}

static uint32_t seconds(double s)
{
	if (s <= 0)
		return 0;
	if (s >= 4294967294.0)
		return 4294967294u;
	return (uint32_t)floor(s);
}

static void add_current(struct lan_result *out, const struct lan_inputs *in, const struct arbor_prefix6 *p, double pref,
			double valid, bool ula)
{
	for (size_t i = 0; i < out->ncur; i++)
		if (arbor_prefix6_equal(&out->cur[i].prefix, p))
			return;
	if (out->ncur == LAN_PREFIXES_MAX)
		return;
	struct lan_current *c = &out->cur[out->ncur++];
	memset(c, 0, sizeof *c);
	c->prefix = *p;
	c->preferred_until = pref;
	c->valid_until = valid;
	c->ula = ula;
	c->router = p->addr;
	if (in->has_iid)
		memcpy(c->router.s6_addr + 8, in->iid, 8);
}

/* Room in the advertised list for a new prefix: the withdrawal ending first gives
 * way when it is full (LAN_ADV_MAX is far above what a LAN sees). */
static struct lan_adv *new_adv(struct lan_adv *adv, size_t *nadv, const struct lan_result *out)
{
	if (*nadv < LAN_ADV_MAX)
		return &adv[(*nadv)++];
	struct lan_adv *victim = NULL;
	for (size_t i = 0; i < *nadv; i++) {
		bool current = false;
		for (size_t k = 0; k < out->ncur; k++)
			current |= arbor_prefix6_equal(&adv[i].prefix, &out->cur[k].prefix);
		if (!current && (victim == NULL || adv[i].bound < victim->bound))
			victim = &adv[i];
	}
	return victim;
}

static void rdnss_add(struct nd_ra *ra, size_t slot, uint32_t lifetime, const struct in6_addr *a)
{
	while (ra->nrdnss <= slot && ra->nrdnss < ND_RDNSS_MAX)
		ra->rdnss[ra->nrdnss++].n = 0;
	struct nd_rdnss *r = &ra->rdnss[slot];
	if (r->n == 0 || lifetime < r->lifetime)
		r->lifetime = lifetime;
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(&r->addr[i], a, 16) == 0)
			return;
	if (r->n < ND_RDNSS_ADDRS_MAX)
		r->addr[r->n++] = *a;
}

/* Empty RDNSS slots (a slot nothing went into) are dropped. */
static void rdnss_compact(struct nd_ra *ra)
{
	size_t k = 0;
	for (size_t i = 0; i < ra->nrdnss; i++)
		if (ra->rdnss[i].n)
			ra->rdnss[k++] = ra->rdnss[i];
	ra->nrdnss = k;
}

void lan_plan(const struct lan_inputs *in, struct lan_adv *adv, size_t *nadv, double now, bool sending,
	      struct lan_result *out)
{
	const struct lan_spec *spec = in->spec;
	memset(out, 0, sizeof *out);
	/* 1. what the LAN has now */
	if (in->has_ula && in->subnet_id >= 0) {
		struct arbor_prefix6 u = { .len = 64 };
		arbor_addr_subnet(&in->ula48, (uint16_t)in->subnet_id, &u.addr);
		add_current(out, in, &u, LAN_NEVER, LAN_NEVER, true);
	}
	for (size_t i = 0; i < in->ndeleg; i++) {
		const struct lan_delegation *d = &in->deleg[i];
		struct arbor_prefix6 p;
		char why[96];
		if (d->valid_until <= now)
			continue;
		if (!lan_subnet_of(&d->prefix, in->subnet_id, &p, why, sizeof why)) {
			if (out->nskipped < LAN_PREFIXES_MAX)
				snprintf(out->skipped[out->nskipped++], sizeof out->skipped[0], "%s", why);
			continue;
		}
		add_current(out, in, &p, d->preferred_until, d->valid_until, false);
	}

	/* 2. lifetimes: what is left of each bound, raised in steps while sending */
	struct nd_ra *ra = &out->ra;
	bool global = false;
	for (size_t i = 0; i < out->ncur; i++) {
		struct lan_current *c = &out->cur[i];
		double target = floor(fmin(spec->valid_cap, c->valid_until - now));
		if (target < 1)
			target = 1;
		struct lan_adv *e = find_adv(adv, *nadv, &c->prefix);
		if (sending) {
			double step = fmax(1, fmin(target / 4, 2 * spec->max_interval));
			if (e == NULL && (e = new_adv(adv, nadv, out)) != NULL) {
				e->prefix = c->prefix;
				e->bound = now + target;
				out->adv_changed = true;
			} else if (e && e->bound - now < target - step) {
				e->bound = now + target;
				out->adv_changed = true;
			}
		}
		double valid = e ? fmin(e->bound - now, target) : target;
		c->valid = seconds(valid);
		c->preferred = seconds(fmin(fmin(spec->preferred_cap, c->preferred_until - now), c->valid));
		if (!c->ula && c->valid > 0)
			global = true;
		if (ra->nprefix < ND_PREFIXES_MAX)
			ra->prefix[ra->nprefix++] = (struct nd_prefix_info){ .prefix = c->prefix.addr, .len = 64,
									     .onlink = true, .autonomous = true,
									     .valid = c->valid, .preferred = c->preferred };
	}

	/* 3. withdrawals: what the LAN was told and is no longer true */
	size_t kept = 0;
	for (size_t i = 0; i < *nadv; i++) {
		bool current = false;
		for (size_t k = 0; k < out->ncur; k++)
			current |= arbor_prefix6_equal(&adv[i].prefix, &out->cur[k].prefix);
		uint32_t left = seconds(adv[i].bound - now);
		if (!current && left == 0 && sending) {
			out->adv_changed = true; /* ended: forget it */
			continue;
		}
		adv[kept++] = adv[i];
		if (current || left == 0)
			continue;
		if (out->ngone < LAN_ADV_MAX)
			out->gone[out->ngone++] = (struct lan_withdrawn){ adv[i].prefix, left };
		if (ra->nprefix < ND_PREFIXES_MAX)
			ra->prefix[ra->nprefix++] = (struct nd_prefix_info){ .prefix = adv[i].prefix.addr,
									     .len = adv[i].prefix.len, .onlink = true,
									     .autonomous = true, .valid = left, .preferred = 0 };
	}
	*nadv = kept;

	/* 4. the header and the other options */
	ra->hop_limit = 64;
	ra->other = spec->stateless;
	ra->preference = spec->preference;
	ra->router_lifetime = (uint16_t)(in->default_route && global ? spec->router_lifetime : 0);
	ra->has_lladdr = in->has_lladdr;
	memcpy(ra->lladdr, in->lladdr, 6);
	uint32_t mtu = spec->mtu ? spec->mtu : in->link_mtu;
	if (mtu >= 1280) {
		ra->has_mtu = true;
		ra->mtu = mtu;
	}
	uint32_t option_life = seconds(ceil(3 * spec->max_interval));
	bool ula_current = out->ncur && out->cur[0].ula;
	if (ula_current) /* RFC 4191: the whole /48 is reached through us */
		ra->route[ra->nroute++] = (struct nd_route_info){ .prefix = in->ula48, .len = 48,
								  .preference = ND_PREF_MEDIUM, .lifetime = option_life };

	/* 5. DNS: router addresses go with their prefix; configured ones are kept */
	uint32_t refresh = spec->info_refresh;
	if (spec->dns_router && in->has_iid && ula_current) {
		rdnss_add(ra, 0, option_life, &out->cur[0].router);
		out->dns[out->ndns++] = out->cur[0].router;
	}
	for (size_t i = 0; i < spec->ndns; i++) {
		rdnss_add(ra, 0, option_life, &spec->dns[i]);
		out->dns[out->ndns++] = spec->dns[i];
	}
	for (size_t i = 0; spec->dns_router && in->has_iid && i < out->ncur; i++) {
		const struct lan_current *c = &out->cur[i];
		if (c->ula)
			continue;
		if (c->preferred > 0) {
			rdnss_add(ra, 1, c->preferred < option_life ? c->preferred : option_life, &c->router);
			out->dns[out->ndns++] = c->router;
			if (c->preferred < refresh)
				refresh = c->preferred;
		} else {
			rdnss_add(ra, 2, 0, &c->router); /* deprecated: stop using it */
		}
	}
	for (size_t i = 0; spec->dns_router && in->has_iid && i < out->ngone; i++) {
		struct in6_addr r = out->gone[i].prefix.addr;
		memcpy(r.s6_addr + 8, in->iid, 8);
		rdnss_add(ra, 2, 0, &r);
	}
	rdnss_compact(ra);
	out->info_refresh = refresh < 600 ? 600 : refresh;

	if (spec->search_default) {
		if (in->domain && in->domain[0] && strlen(in->ifname) + strlen(in->domain) + 2 < sizeof out->search[0])
			snprintf(out->search[out->nsearch++], sizeof out->search[0], "%s.%s", in->ifname, in->domain);
	} else {
		for (size_t i = 0; i < spec->nsearch && i < DHCP6PD_SEARCH_MAX; i++)
			snprintf(out->search[out->nsearch++], sizeof out->search[0], "%s", spec->search[i]);
	}
	if (out->nsearch) {
		struct nd_dnssl *d = &ra->dnssl[ra->ndnssl++];
		d->lifetime = option_life;
		for (size_t i = 0; i < out->nsearch && i < ND_DNSSL_NAMES_MAX; i++)
			snprintf(d->name[d->n++], ND_NAME_TEXT_MAX, "%s", out->search[i]);
	}
}
