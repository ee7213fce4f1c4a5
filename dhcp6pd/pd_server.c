/* The delegating server's decisions (see pd_server.h). */
#include "pd_server.h"

#include <math.h>
#include <string.h>

#include "byteorder.h"

/* Probes per allocation before a pool counts as full: a free block in a pool of
 * millions is found at once (the cursor moves on), and a full pool costs a
 * bounded scan, not millions of lookups per SOLICIT. */
#define SCAN_MAX 65536

void binding_view_of(const struct binding *b, struct binding_view *v)
{
	memset(v, 0, sizeof *v);
	v->prefix = b->prefix;
	v->duid_len = b->duid_len;
	memcpy(v->duid, b->duid, b->duid_len);
	v->iaid = b->iaid;
	v->state = b->state;
	v->starts = b->starts;
	v->preferred_until = b->preferred_until;
	v->valid_until = b->valid_until;
	v->via = b->via;
}

static void set_pool_prefix(struct pd_pool *p, const struct arbor_prefix6 *prefix)
{
	if (prefix == NULL || prefix->len == 0 || prefix->len > p->dlen || p->dlen - prefix->len > 24) {
		memset(&p->prefix, 0, sizeof p->prefix);
		p->nblocks = 0;
		return;
	}
	p->prefix = *prefix;
	p->nblocks = 1ull << (p->dlen - prefix->len);
	p->cursor %= p->nblocks;
}

void pd_server_init(struct pd_server *s, const struct server6_spec *spec, const uint8_t *duid, size_t duid_len)
{
	memset(s, 0, sizeof *s);
	s->spec = spec;
	s->duid = duid;
	s->duid_len = duid_len;
	binding_table_init(&s->table);
	for (size_t i = 0; i < spec->npools && i < DHCP6PD_LIST_MAX; i++) {
		struct pd_pool *p = &s->pools[s->npools++];
		const struct pool6_spec *ps = &spec->pools[i];
		p->from_delegation = ps->from_delegation;
		p->dlen = ps->delegated_length;
		p->preferred_until = p->valid_until = 1e18;
		if (ps->client)
			memcpy(p->client, ps->client, strnlen(ps->client, sizeof p->client - 1));
		if (!p->from_delegation)
			set_pool_prefix(p, &ps->prefix);
	}
}

void pd_server_free(struct pd_server *s)
{
	binding_table_free(&s->table);
}

void pd_server_adopt(struct pd_server *s, struct pd_server *old)
{
	binding_table_free(&s->table);
	s->table = old->table;
	binding_table_init(&old->table);
	/* from_delegation pools keep what their uplink holds */
	for (size_t i = 0; i < s->npools; i++)
		for (size_t k = 0; k < old->npools; k++)
			if (s->pools[i].from_delegation && old->pools[k].from_delegation &&
			    strcmp(s->pools[i].client, old->pools[k].client) == 0) {
				set_pool_prefix(&s->pools[i], &old->pools[k].prefix);
				s->pools[i].preferred_until = old->pools[k].preferred_until;
				s->pools[i].valid_until = old->pools[k].valid_until;
			}
	memcpy(s->excluded, old->excluded, sizeof s->excluded);
	s->nexcluded = old->nexcluded;
}

/* ---- prefixes and blocks ---- */

static struct arbor_prefix6 block(const struct pd_pool *p, uint64_t i)
{
	struct arbor_prefix6 out = { .len = p->dlen };
	uint64_t hi = get_be64(p->prefix.addr.s6_addr) | (i << (64 - p->dlen));
	put_be64(out.addr.s6_addr, hi);
	return out;
}

/* The pool p is a block of (-1: none). */
static int pool_of(const struct pd_server *s, const struct arbor_prefix6 *p)
{
	for (size_t i = 0; i < s->npools; i++) {
		const struct pd_pool *pool = &s->pools[i];
		if (pool->nblocks == 0 || p->len != pool->dlen || !arbor_prefix6_same_bits(&p->addr, &pool->prefix.addr, pool->prefix.len))
			continue;
		/* host bits past the delegated length must be zero */
		uint64_t host_mask = p->len == 64 ? 0 : ~0ull >> p->len;
		if (get_be64(p->addr.s6_addr + 8) == 0 && (get_be64(p->addr.s6_addr) & host_mask) == 0)
			return (int)i;
	}
	return -1;
}

static bool excluded(const struct pd_server *s, const struct arbor_prefix6 *p)
{
	for (size_t i = 0; i < s->nexcluded; i++)
		if (arbor_prefix6_overlaps(&s->excluded[i], p))
			return true;
	return false;
}

static bool reservation_matches(const struct reservation6_spec *r, const struct dhcp6_message *m, uint32_t iaid)
{
	return r->duid_len == m->client_id_len && memcmp(r->duid, m->client_id, r->duid_len) == 0 &&
	       (!r->has_iaid || r->iaid == iaid);
}

/* Whether prefix may go to (m's client, iaid) now. */
static bool usable(const struct pd_server *s, const struct arbor_prefix6 *p, const struct dhcp6_message *m, uint32_t iaid,
		   double now)
{
	if (excluded(s, p))
		return false;
	for (size_t i = 0; i < s->spec->nreservations; i++) {
		const struct reservation6_spec *r = &s->spec->reservations[i];
		if (arbor_prefix6_equal(&r->prefix, p) && !reservation_matches(r, m, iaid))
			return false;
	}
	const struct binding *b = binding_by_prefix(&s->table, p);
	if (b == NULL || (b->iaid == iaid && b->duid_len == m->client_id_len &&
			  memcmp(b->duid, m->client_id, b->duid_len) == 0))
		return true;
	if (b->state == BINDING_BOUND)
		return false;
	if (b->state == BINDING_OFFERED)
		return b->valid_until <= now;
	return true; /* released or expired: remembered for its router, not kept from others */
}

/* A block for (m's client, ia): its reservation, what it had, what it hints, or
 * the next free one. -1 when there is none. */
static int allocate(struct pd_server *s, const struct dhcp6_message *m, const struct dhcp6_ia *ia, double now,
		    struct arbor_prefix6 *out)
{
	for (size_t i = 0; i < s->spec->nreservations; i++) {
		const struct reservation6_spec *r = &s->spec->reservations[i];
		if (reservation_matches(r, m, ia->iaid) && pool_of(s, &r->prefix) >= 0 && usable(s, &r->prefix, m, ia->iaid, now)) {
			*out = r->prefix;
			return pool_of(s, out);
		}
	}
	const struct binding *mine = binding_by_key(&s->table, m->client_id, m->client_id_len, ia->iaid);
	if (mine && pool_of(s, &mine->prefix) >= 0 && usable(s, &mine->prefix, m, ia->iaid, now)) {
		*out = mine->prefix;
		return pool_of(s, out);
	}
	if (mine && mine->pool < s->npools && s->pools[mine->pool].nblocks && mine->prefix.len == s->pools[mine->pool].dlen) {
		/* Renumbered upstream: the same block of the new prefix (its place in
		 * the delegation, like a LAN's subnet id, survives renumbering). */
		const struct pd_pool *pool = &s->pools[mine->pool];
		uint64_t index = (get_be64(mine->prefix.addr.s6_addr) >> (64 - pool->dlen)) & (pool->nblocks - 1);
		struct arbor_prefix6 again = block(pool, index);
		if (usable(s, &again, m, ia->iaid, now)) {
			*out = again;
			return mine->pool;
		}
	}
	for (size_t i = 0; i < ia->n; i++) {
		struct arbor_prefix6 hint = { ia->e[i].addr, ia->e[i].plen };
		if (pool_of(s, &hint) >= 0 && usable(s, &hint, m, ia->iaid, now)) {
			*out = hint;
			return pool_of(s, out);
		}
	}
	for (size_t i = 0; i < s->npools; i++) {
		struct pd_pool *pool = &s->pools[i];
		uint64_t tries = pool->nblocks < SCAN_MAX ? pool->nblocks : SCAN_MAX;
		for (uint64_t k = 0; k < tries; k++) {
			struct arbor_prefix6 p = block(pool, pool->cursor);
			pool->cursor = (pool->cursor + 1) % pool->nblocks;
			if (usable(s, &p, m, ia->iaid, now)) {
				*out = p;
				return (int)i;
			}
		}
	}
	return -1;
}

/* ---- lifetimes ---- */

struct lifetimes {
	uint32_t preferred, valid, t1, t2;
};

static uint32_t whole(double s)
{
	return s <= 0 ? 0 : s >= 4294967294.0 ? 4294967294u : (uint32_t)floor(s);
}

/* What a binding from pool gets now: the configured lifetimes, never longer than
 * what the upstream delegation has left. */
static struct lifetimes lifetimes_for(const struct pd_server *s, int pool, double now)
{
	struct lifetimes l = { s->spec->preferred_lifetime, s->spec->valid_lifetime, 0, 0 };
	const struct pd_pool *p = &s->pools[pool];
	if (p->from_delegation) {
		uint32_t pv = whole(p->valid_until - now), pp = whole(p->preferred_until - now);
		l.valid = l.valid < pv ? l.valid : pv;
		l.preferred = l.preferred < pp ? l.preferred : pp;
		if (l.preferred > l.valid)
			l.preferred = l.valid;
	}
	l.t1 = s->spec->t1 ? s->spec->t1 : l.preferred / 2;
	l.t2 = s->spec->t2 ? s->spec->t2 : (uint32_t)(l.preferred * 4ull / 5);
	if (l.t1 > l.t2)
		l.t1 = l.t2;
	return l;
}

/* ---- changes ---- */

static struct pd_change *add_change(struct pd_decision *d, enum pd_change_kind kind, const struct binding *b,
				    const char *reason)
{
	if (d->nchanges == PD_CHANGES_MAX)
		return NULL;
	struct pd_change *c = &d->changes[d->nchanges++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->reason = reason;
	binding_view_of(b, &c->b);
	return c;
}

static struct pd_ia_answer *new_ia(struct pd_decision *d, uint16_t type, uint32_t iaid)
{
	struct pd_ia_answer *a = &d->ia[d->nia++];
	memset(a, 0, sizeof *a);
	a->type = type;
	a->iaid = iaid;
	a->status = -1;
	return a;
}

static void add_entry(struct pd_ia_answer *a, const struct arbor_prefix6 *p, uint32_t preferred, uint32_t valid)
{
	if (a->n < sizeof a->e / sizeof a->e[0])
		a->e[a->n++] = (struct pd_ia_entry){ *p, preferred, valid, -1 };
}

/* Binds prefix (from pool) to the client of m for ia, as kind. */
static void bind_prefix(struct pd_server *s, const struct dhcp6_message *m, const struct dhcp6_ia *ia, int pool,
			const struct arbor_prefix6 *prefix, const struct in6_addr *via, double now, enum pd_change_kind kind,
			struct pd_ia_answer *a, struct pd_decision *d)
{
	struct lifetimes l = lifetimes_for(s, pool, now);
	struct binding *old = binding_by_key(&s->table, m->client_id, m->client_id_len, ia->iaid);
	if (old && old->state == BINDING_BOUND && !arbor_prefix6_equal(&old->prefix, prefix)) {
		/* the router moves to another prefix: the old one ends first */
		binding_set_state(&s->table, old, BINDING_EXPIRED);
		struct pd_change *c = add_change(d, PD_CHANGE_EXPIRED, old, "replaced");
		if (c)
			c->route_del = true;
		old->valid_until = now;
		if (c)
			c->b.valid_until = now;
	}
	bool was_bound = old && old->state == BINDING_BOUND && arbor_prefix6_equal(&old->prefix, prefix);
	struct in6_addr old_via = old ? old->via : *via;
	struct binding *b = binding_put(&s->table, m->client_id, m->client_id_len, ia->iaid, prefix);
	if (!was_bound)
		b->starts = now;
	b->pool = (uint8_t)pool;
	b->preferred_until = now + l.preferred;
	b->valid_until = now + l.valid;
	b->via = *via;
	binding_set_state(&s->table, b, BINDING_BOUND);
	s->next_expiry = fmin(s->next_expiry, b->valid_until);
	struct pd_change *c = add_change(d, was_bound ? PD_CHANGE_RENEWED : kind, b, NULL);
	if (c)
		c->route_add = !was_bound || memcmp(&old_via, via, 16) != 0;
	a->t1 = l.t1;
	a->t2 = l.t2;
	add_entry(a, prefix, l.preferred, l.valid);
}

/* Prefixes the client named that are not (any longer) its own: lifetimes 0, so it
 * stops using them (RFC 8415 §18.3.4). */
static void zero_others(const struct dhcp6_ia *ia, const struct arbor_prefix6 *keep, struct pd_ia_answer *a)
{
	for (size_t i = 0; i < ia->n; i++) {
		struct arbor_prefix6 p = { ia->e[i].addr, ia->e[i].plen };
		if (p.len && (keep == NULL || !arbor_prefix6_equal(&p, keep)))
			add_entry(a, &p, 0, 0);
	}
}

enum mode { MODE_SOLICIT, MODE_REQUEST, MODE_RENEW, MODE_REBIND, MODE_RELEASE };

static void answer_pd(struct pd_server *s, const struct dhcp6_message *m, const struct dhcp6_ia *ia,
		      const struct in6_addr *via, double now, enum mode mode, bool commit, struct pd_decision *d)
{
	struct pd_ia_answer *a = new_ia(d, DHCP6_OPT_IA_PD, ia->iaid);
	struct binding *b = binding_by_key(&s->table, m->client_id, m->client_id_len, ia->iaid);
	bool bound = b && b->state == BINDING_BOUND;
	if (mode == MODE_RELEASE) {
		bool named = false;
		for (size_t i = 0; bound && i < ia->n; i++)
			named |= ia->e[i].plen == b->prefix.len && memcmp(&ia->e[i].addr, &b->prefix.addr, 16) == 0;
		if (!bound || !named) {
			a->status = DHCP6_STATUS_NO_BINDING;
			a->text = "no such delegation";
			return;
		}
		binding_set_state(&s->table, b, BINDING_RELEASED);
		b->valid_until = now;
		struct pd_change *c = add_change(d, PD_CHANGE_RELEASED, b, "released");
		if (c)
			c->route_del = true;
		s->releases++;
		return;
	}
	if (mode == MODE_RENEW || mode == MODE_REBIND) {
		if (bound && pool_of(s, &b->prefix) >= 0 && !excluded(s, &b->prefix)) {
			struct arbor_prefix6 p = b->prefix;
			bind_prefix(s, m, ia, pool_of(s, &p), &p, via, now, PD_CHANGE_RENEWED, a, d);
			zero_others(ia, &p, a);
			return;
		}
		if (bound) {
			/* Its prefix is no longer ours to give (the upstream changed) or it
			 * ended: the old one with lifetimes 0, a new one beside it. */
			struct arbor_prefix6 p;
			int pool = allocate(s, m, ia, now, &p);
			if (pool >= 0) {
				bind_prefix(s, m, ia, pool, &p, via, now, PD_CHANGE_BOUND, a, d);
				zero_others(ia, &p, a);
				return;
			}
		}
		/* §18.3.4/§18.3.5: no binding. A REBIND naming prefixes that are not ours
		 * hears lifetimes 0 for them; otherwise NoBinding, and it will REQUEST. */
		bool ours = false;
		for (size_t i = 0; i < ia->n; i++) {
			struct arbor_prefix6 p = { ia->e[i].addr, ia->e[i].plen };
			ours |= pool_of(s, &p) >= 0;
		}
		if (mode == MODE_REBIND && ia->n && !ours) {
			zero_others(ia, NULL, a);
			return;
		}
		a->status = DHCP6_STATUS_NO_BINDING;
		a->text = "no binding for this IA";
		return;
	}
	/* SOLICIT, REQUEST */
	struct arbor_prefix6 p;
	int pool = allocate(s, m, ia, now, &p);
	if (pool < 0) {
		s->no_prefix++;
		a->status = DHCP6_STATUS_NO_PREFIX_AVAIL;
		a->text = "no prefix available";
		return;
	}
	if (commit) {
		bind_prefix(s, m, ia, pool, &p, via, now, PD_CHANGE_BOUND, a, d);
		return;
	}
	/* An offer: held for its REQUEST, not journalled (it binds nothing yet). */
	struct lifetimes l = lifetimes_for(s, pool, now);
	if (!bound) {
		struct binding *o = binding_put(&s->table, m->client_id, m->client_id_len, ia->iaid, &p);
		if (o->state != BINDING_OFFERED)
			binding_set_state(&s->table, o, BINDING_OFFERED);
		o->pool = (uint8_t)pool;
		o->valid_until = now + s->spec->offer_hold;
		s->next_expiry = fmin(s->next_expiry, o->valid_until);
	}
	a->t1 = l.t1;
	a->t2 = l.t2;
	add_entry(a, &p, l.preferred, l.valid);
}

static bool is_our_server_id(const struct pd_server *s, const struct dhcp6_message *m)
{
	return m->server_id && m->server_id_len == s->duid_len && memcmp(m->server_id, s->duid, s->duid_len) == 0;
}

void pd_server_handle(struct pd_server *s, const struct dhcp6_message *m, const struct in6_addr *via, double now,
		      struct pd_decision *d)
{
	memset(d, 0, sizeof *d);
	d->msg_status = -1;
	enum mode mode;
	/* RFC 8415 §16: who may send what, with which identifiers. */
	switch (m->type) {
	case DHCP6_SOLICIT:
		mode = MODE_SOLICIT;
		s->solicits++;
		if (m->client_id == NULL || m->server_id) {
			d->reason = "SOLICIT without a client id, or with a server id";
			goto silence;
		}
		break;
	case DHCP6_REQUEST:
	case DHCP6_RENEW:
	case DHCP6_RELEASE:
	case DHCP6_DECLINE:
		mode = m->type == DHCP6_REQUEST ? MODE_REQUEST : m->type == DHCP6_RENEW ? MODE_RENEW : MODE_RELEASE;
		if (m->type == DHCP6_REQUEST)
			s->requests++;
		else if (m->type == DHCP6_RENEW)
			s->renews++;
		if (m->client_id == NULL || !is_our_server_id(s, m)) {
			d->reason = "no client id, or another server's id";
			goto silence;
		}
		if (m->type == DHCP6_DECLINE) { /* for addresses; we delegate prefixes only */
			s->declines++;
			d->reply = DHCP6_REPLY;
			d->msg_status = DHCP6_STATUS_SUCCESS;
			return;
		}
		break;
	case DHCP6_REBIND:
		mode = MODE_REBIND;
		s->rebinds++;
		if (m->client_id == NULL || m->server_id) {
			d->reason = "REBIND without a client id, or with a server id";
			goto silence;
		}
		break;
	default:
		d->reason = "not a message for a delegating server";
		goto silence;
	}
	bool rapid = mode == MODE_SOLICIT && m->rapid_commit && s->spec->rapid_commit;
	bool commit = mode != MODE_SOLICIT || rapid;
	size_t npd = 0, nna = 0;
	for (size_t i = 0; i < m->nia; i++) {
		const struct dhcp6_ia *ia = &m->ia[i];
		if (ia->type == DHCP6_OPT_IA_PD && npd < PD_SERVER_IAS) {
			npd++;
			answer_pd(s, m, ia, via, now, mode, commit, d);
		} else if (ia->type == DHCP6_OPT_IA_PD) {
			struct pd_ia_answer *a = new_ia(d, DHCP6_OPT_IA_PD, ia->iaid);
			a->status = DHCP6_STATUS_NO_PREFIX_AVAIL;
			a->text = "too many IA_PDs in one message";
		} else if (ia->type == DHCP6_OPT_IA_NA && nna++ == 0 && d->nia < PD_SERVER_IAS + 2 && mode != MODE_RELEASE) {
			/* addresses are not ours to give: said so, the prefix still binds */
			struct pd_ia_answer *a = new_ia(d, DHCP6_OPT_IA_NA, ia->iaid);
			a->status = mode == MODE_SOLICIT || mode == MODE_REQUEST ? DHCP6_STATUS_NO_ADDRS_AVAIL
										 : DHCP6_STATUS_NO_BINDING;
			a->text = "this server delegates prefixes only";
		}
	}
	if (npd == 0 && nna == 0) {
		d->reason = "no IA_PD to answer";
		goto silence;
	}
	if (mode == MODE_RELEASE)
		d->msg_status = DHCP6_STATUS_SUCCESS;
	d->rapid_commit = rapid;
	d->reply = mode == MODE_SOLICIT && !rapid ? DHCP6_ADVERTISE : DHCP6_REPLY;
	if (d->reply == DHCP6_ADVERTISE)
		s->advertised++;
	else
		s->replied++;
	return;
silence:
	s->ignored++;
	d->reply = 0;
}

int pd_server_build(const struct pd_server *s, const struct dhcp6_message *m, const struct pd_decision *d,
		    const struct info_content *info, uint8_t *buf, size_t cap)
{
	struct dhcp6_builder b;
	dhcp6_build_start(&b, buf, cap, d->reply, m->xid);
	dhcp6_put_option(&b, DHCP6_OPT_SERVERID, s->duid, s->duid_len);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, m->client_id, m->client_id_len);
	if (d->rapid_commit)
		dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	if (d->msg_status >= 0)
		dhcp6_put_status(&b, (uint16_t)d->msg_status, d->msg_status ? d->msg_text : "ok");
	for (size_t i = 0; i < d->nia; i++) {
		const struct pd_ia_answer *a = &d->ia[i];
		dhcp6_open_ia(&b, a->type, a->iaid, a->t1, a->t2);
		if (a->status >= 0)
			dhcp6_put_status(&b, (uint16_t)a->status, a->text);
		for (size_t k = 0; k < a->n; k++)
			dhcp6_put_iaprefix(&b, &a->e[k].prefix.addr, a->e[k].prefix.len, a->e[k].preferred, a->e[k].valid,
					   a->e[k].status, NULL);
		dhcp6_close(&b);
	}
	if (info && info->ndns && dhcp6_requested(m, DHCP6_OPT_DNS_SERVERS))
		dhcp6_put_dns(&b, info->dns, info->ndns);
	if (info && info->nsearch && dhcp6_requested(m, DHCP6_OPT_DOMAIN_LIST))
		dhcp6_put_domain_list(&b, info->search, info->nsearch);
	return dhcp6_finish(&b);
}

/* ---- upstream, exclusions, expiry ---- */

struct sweep {
	struct pd_server *s;
	double now;
	int pool;                /* -1: expiry; -2: strays; else: end bindings of this pool outside it */
	double next;             /* expiry: the earliest end of what stays */
	void (*cb)(void *ctx, const struct pd_change *c);
	void *ctx;
};

static void sweep_one(void *arg, struct binding *b)
{
	struct sweep *w = arg;
	struct pd_server *s = w->s;
	if (b->state == BINDING_OFFERED) {
		if (b->valid_until <= w->now)
			binding_remove(&s->table, b);
		else
			w->next = fmin(w->next, b->valid_until);
		return;
	}
	if (b->state != BINDING_BOUND)
		return;
	if (w->pool == -1 && b->valid_until > w->now)
		w->next = fmin(w->next, b->valid_until);
	const char *reason = NULL;
	if (w->pool < 0 && b->valid_until <= w->now)
		reason = "expired";
	else if (w->pool >= 0 && b->pool == w->pool && pool_of(s, &b->prefix) != w->pool)
		reason = "upstream delegation changed";
	else if (w->pool == -2 && (pool_of(s, &b->prefix) < 0 || excluded(s, &b->prefix)))
		reason = "no longer in a pool";
	if (reason == NULL)
		return;
	binding_set_state(&s->table, b, BINDING_EXPIRED);
	if (b->valid_until > w->now)
		b->valid_until = w->now;
	struct pd_change c = { .kind = PD_CHANGE_EXPIRED, .route_del = true, .reason = reason };
	binding_view_of(b, &c.b);
	w->cb(w->ctx, &c);
}

void pd_server_expire(struct pd_server *s, double now, void (*cb)(void *ctx, const struct pd_change *c), void *ctx)
{
	if (now < s->next_expiry)
		return; /* nothing ends yet: no walk over every binding each second */
	struct sweep w = { .s = s, .now = now, .pool = -1, .next = 1e18, .cb = cb, .ctx = ctx };
	binding_table_each(&s->table, sweep_one, &w);
	s->next_expiry = w.next;
}

void pd_server_end_strays(struct pd_server *s, double now, void (*cb)(void *ctx, const struct pd_change *c), void *ctx)
{
	struct sweep w = { .s = s, .now = now, .pool = -2, .cb = cb, .ctx = ctx };
	binding_table_each(&s->table, sweep_one, &w);
}

int pd_server_pool_of(const struct pd_server *s, const struct arbor_prefix6 *p)
{
	int i = pool_of(s, p);
	for (size_t k = 0; i < 0 && k < s->npools; k++)
		if (s->pools[k].from_delegation && s->pools[k].dlen == p->len && s->pools[k].nblocks == 0)
			i = (int)k;
	return i;
}

void pd_server_set_delegation(struct pd_server *s, const char *client, const struct arbor_prefix6 *p,
			      double preferred_until, double valid_until, double now,
			      void (*ended)(void *ctx, const struct pd_change *c), void *ctx)
{
	for (size_t i = 0; i < s->npools; i++) {
		struct pd_pool *pool = &s->pools[i];
		if (!pool->from_delegation || strcmp(pool->client, client) != 0)
			continue;
		bool changed = !(p && p->len && arbor_prefix6_equal(&pool->prefix, p));
		set_pool_prefix(pool, p);
		pool->preferred_until = p && p->len ? preferred_until : 0;
		pool->valid_until = p && p->len ? valid_until : 0;
		if (changed) {
			struct sweep w = { .s = s, .now = now, .pool = (int)i, .cb = ended, .ctx = ctx };
			binding_table_each(&s->table, sweep_one, &w);
		}
	}
}

void pd_server_set_excluded(struct pd_server *s, const struct arbor_prefix6 *ex, size_t n)
{
	s->nexcluded = n < PD_EXCLUDED_MAX ? n : PD_EXCLUDED_MAX;
	memcpy(s->excluded, ex, s->nexcluded * sizeof *ex);
}

uint64_t pd_server_capacity(const struct pd_server *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->npools; i++)
		n += s->pools[i].nblocks;
	return n;
}
