/* DHCP server decisions (see server.h). The cases of RFC 2131 §4.3.2 for a
 * REQUEST are told apart by which of server id, requested address and ciaddr
 * are present: SELECTING (server id), INIT-REBOOT (requested, no ciaddr),
 * RENEWING/REBINDING (ciaddr). */
#include "server.h"

#include <stdio.h>
#include <string.h>

int server_init(struct server *s, const struct server_spec *spec, uint32_t server_id)
{
	memset(s, 0, sizeof *s);
	s->spec = spec;
	s->server_id = server_id;
	s->cursor = 0;
	return lease_table_init(&s->leases, spec->network, spec->prefixlen);
}

void server_free(struct server *s)
{
	lease_table_free(&s->leases);
}

void server_adopt_leases(struct server *s, struct server *old)
{
	lease_table_free(&s->leases);
	s->leases = old->leases;
	memset(&old->leases, 0, sizeof old->leases);
}

static bool excluded(const struct server *s, uint32_t a)
{
	const struct server_spec *sp = s->spec;
	if (a == s->server_id || a == sp->options.router)
		return true;
	for (size_t i = 0; i < sp->nexclusions; i++)
		if (a >= sp->exclusions[i].first && a <= sp->exclusions[i].last)
			return true;
	return false;
}

static const struct reservation_spec *reservation_for(const struct server *s, const struct dhcp_request_view *rq)
{
	for (size_t i = 0; i < s->spec->nreservations; i++) {
		const struct reservation_spec *r = &s->spec->reservations[i];
		if (r->client_id_len && r->client_id_len == rq->key_len && memcmp(r->client_id, rq->key, rq->key_len) == 0)
			return r;
		if (r->has_mac && rq->mac_len == 6 && memcmp(r->mac, rq->mac, 6) == 0)
			return r;
	}
	return NULL;
}

/* An address reserved for some client is never given to another. */
static bool reserved_for_other(const struct server *s, uint32_t a, const struct reservation_spec *mine)
{
	for (size_t i = 0; i < s->spec->nreservations; i++)
		if (s->spec->reservations[i].addr == a && &s->spec->reservations[i] != mine)
			return true;
	return false;
}

static bool pool_matches(const struct pool_spec *p, const struct dhcp_request_view *rq,
			 const struct reservation_spec *r)
{
	if (r && r->pool)
		return strcmp(r->pool, p->name) == 0;
	if (p->reservations_only)
		return false;
	if (p->match_class && (rq->vendor_class == NULL || strcmp(p->match_class, rq->vendor_class) != 0))
		return false;
	if (p->match_mac_len && (rq->mac_len < p->match_mac_len || memcmp(rq->mac, p->match_mac, p->match_mac_len)))
		return false;
	return true;
}

static const struct pool_spec *pool_of(const struct server *s, uint32_t a)
{
	for (size_t i = 0; i < s->spec->npools; i++)
		if (a >= s->spec->pools[i].range.first && a <= s->spec->pools[i].range.last)
			return &s->spec->pools[i];
	return NULL;
}

/* May this client have address a? (It is in a pool the client may draw from,
 * or reserved for it, and not excluded or reserved for someone else.) */
static bool allowed(const struct server *s, uint32_t a, const struct dhcp_request_view *rq,
		    const struct reservation_spec *r)
{
	if (!lease_table_contains(&s->leases, a) || excluded(s, a) || reserved_for_other(s, a, r))
		return false;
	if (r && r->addr == a)
		return true;
	const struct pool_spec *p = pool_of(s, a);
	return p && pool_matches(p, rq, r);
}

static bool free_for(const struct server *s, uint32_t a, const uint8_t *key, size_t key_len, double now)
{
	const struct lease *l = lease_by_addr(&s->leases, a);
	if (l == NULL)
		return true;
	if (l->key_len == key_len && memcmp(l->key, key, key_len) == 0)
		return l->state != LEASE_DECLINED;
	switch (l->state) {
	case LEASE_BOUND:
		return false;
	case LEASE_OFFERED:
	case LEASE_DECLINED:
		return l->ends <= now;
	case LEASE_RELEASED:
	case LEASE_EXPIRED:
		return true;
	}
	return false;
}

/* Next fit over the matching pools: first an address nobody ever had, then
 * the one whose former owner left longest ago, then (under a DISCOVER flood)
 * the oldest pending offer — never a bound lease. */
static bool allocate(struct server *s, const struct dhcp_request_view *rq, const struct reservation_spec *r,
		     double now, uint32_t *out)
{
	uint32_t best_reuse = 0, best_offer = 0;
	double reuse_ends = 0, offer_ends = 0;
	for (size_t i = 0; i < s->spec->npools; i++) {
		const struct pool_spec *p = &s->spec->pools[i];
		if (!pool_matches(p, rq, r))
			continue;
		uint32_t n = p->range.last - p->range.first + 1;
		uint32_t start = s->cursor >= p->range.first && s->cursor <= p->range.last ? s->cursor - p->range.first : 0;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t a = p->range.first + (start + k) % n;
			if (excluded(s, a) || reserved_for_other(s, a, r))
				continue;
			const struct lease *l = lease_by_addr(&s->leases, a);
			if (l == NULL) {
				*out = a;
				s->cursor = a + 1;
				return true;
			}
			if ((l->state == LEASE_RELEASED || l->state == LEASE_EXPIRED) &&
			    (best_reuse == 0 || l->ends < reuse_ends)) {
				best_reuse = a;
				reuse_ends = l->ends;
			}
			if (l->state == LEASE_DECLINED && l->ends <= now && best_reuse == 0)
				best_reuse = a, reuse_ends = l->ends;
			if (l->state == LEASE_OFFERED && (best_offer == 0 || l->ends < offer_ends)) {
				best_offer = a;
				offer_ends = l->ends;
			}
		}
	}
	*out = best_reuse ? best_reuse : best_offer;
	return *out != 0;
}

static void set_times(const struct server *s, struct dhcp_decision *d)
{
	d->lease_time = s->spec->lease_time;
	d->t1 = s->spec->t1;
	d->t2 = s->spec->t2;
}

static void copy_identity(struct lease *l, const struct dhcp_request_view *rq, const struct reservation_spec *r)
{
	size_t mac_len = rq->mac_len < sizeof l->mac ? rq->mac_len : sizeof l->mac;
	memcpy(l->mac, rq->mac, mac_len);
	l->mac_len = (uint8_t)mac_len;
	const char *name = r && r->hostname ? r->hostname : rq->hostname;
	if (name)
		snprintf(l->hostname, sizeof l->hostname, "%s", name);
}

static bool owned_by(const struct lease *l, const struct dhcp_request_view *rq)
{
	return l && l->key_len == rq->key_len && memcmp(l->key, rq->key, rq->key_len) == 0;
}

static void discover(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d)
{
	const struct reservation_spec *r = reservation_for(s, rq);
	struct lease *mine = lease_by_key(&s->leases, rq->key, rq->key_len);
	uint32_t a = 0;
	if (r && r->addr && free_for(s, r->addr, rq->key, rq->key_len, now))
		a = r->addr;
	else if (mine && mine->state != LEASE_DECLINED && allowed(s, mine->addr, rq, r))
		a = mine->addr;
	else if (rq->requested && allowed(s, rq->requested, rq, r) &&
		 free_for(s, rq->requested, rq->key, rq->key_len, now))
		a = rq->requested;
	else if (!allocate(s, rq, r, now, &a)) {
		s->exhausted++;
		d->event = EVENT_EXHAUSTED;
		snprintf(d->reason, sizeof d->reason, "no free address for this client");
		return;
	}
	struct lease *l = lease_by_addr(&s->leases, a);
	/* An address is new to the client unless our record of it is this
	 * client's (in any state: a client's own former address is trusted, it
	 * might answer the probe itself) or it is the client's reserved address. */
	bool known = owned_by(l, rq) || (r && r->addr == a);
	if (!owned_by(l, rq)) {
		l = lease_put(&s->leases, a, rq->key, rq->key_len);
		if (l == NULL) { /* only a reservation can name an address outside the subnet */
			snprintf(d->reason, sizeof d->reason, "the client's reserved address is not in the subnet");
			return;
		}
	}
	if (l->state != LEASE_BOUND) {
		lease_set_state(&s->leases, l, LEASE_OFFERED);
		l->ends = now + s->spec->offer_timeout;
	}
	copy_identity(l, rq, r);
	s->offers++;
	d->reply = DHCP_OFFER;
	d->yiaddr = a;
	d->probe = s->spec->probe_ping && !known;
	set_times(s, d);
}

static void nak(struct server *s, struct dhcp_decision *d, const char *why)
{
	s->naks++;
	d->reply = DHCP_NAK;
	snprintf(d->reason, sizeof d->reason, "%s", why);
}

/* Binds (or extends) the lease of this client on address a. */
static void bind_lease(struct server *s, const struct dhcp_request_view *rq, uint32_t a, double now,
		       struct dhcp_decision *d)
{
	const struct reservation_spec *r = reservation_for(s, rq);
	struct lease *l = lease_by_addr(&s->leases, a);
	bool renewal = l && l->state == LEASE_BOUND && l->key_len == rq->key_len &&
		       memcmp(l->key, rq->key, rq->key_len) == 0;
	if (!renewal) {
		l = lease_put(&s->leases, a, rq->key, rq->key_len); /* a is in the subnet: never NULL */
		l->starts = now;
	}
	lease_set_state(&s->leases, l, LEASE_BOUND);
	l->ends = now + s->spec->lease_time;
	copy_identity(l, rq, r);
	s->acks++;
	d->reply = DHCP_ACK;
	d->yiaddr = a;
	d->journal = l;
	d->event = renewal ? EVENT_RENEWED : EVENT_BOUND;
	set_times(s, d);
}

static void request(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d)
{
	const struct reservation_spec *r = reservation_for(s, rq);
	if (rq->server_id) {
		/* SELECTING: the client chose among offers. */
		struct lease *mine = lease_by_key(&s->leases, rq->key, rq->key_len);
		if (rq->server_id != s->server_id) {
			if (mine && mine->state == LEASE_OFFERED)
				lease_remove(&s->leases, mine); /* it chose another server */
			snprintf(d->reason, sizeof d->reason, "the client chose another server");
			return;
		}
		uint32_t want = rq->requested ? rq->requested : rq->ciaddr;
		if (mine == NULL || mine->addr != want || mine->state == LEASE_DECLINED) {
			nak(s, d, "no offer for that address");
			return;
		}
		if (mine->state == LEASE_OFFERED && mine->ends <= now) {
			nak(s, d, "the offer has lapsed");
			return;
		}
		bind_lease(s, rq, want, now, d);
		return;
	}
	uint32_t want = rq->ciaddr ? rq->ciaddr : rq->requested;
	const char *phase = rq->ciaddr ? "renewing" : "init-reboot";
	if (want == 0) {
		snprintf(d->reason, sizeof d->reason, "a REQUEST with no address");
		return;
	}
	if (!lease_table_contains(&s->leases, want)) {
		if (s->spec->authoritative)
			nak(s, d, "the address is not on this network");
		else
			snprintf(d->reason, sizeof d->reason, "%s: not our network", phase);
		return;
	}
	struct lease *l = lease_by_addr(&s->leases, want);
	if (owned_by(l, rq) && l->state != LEASE_DECLINED && allowed(s, want, rq, r)) {
		bind_lease(s, rq, want, now, d);
		return;
	}
	if (l && !owned_by(l, rq) && !free_for(s, want, rq->key, rq->key_len, now)) {
		nak(s, d, "the address belongs to another client");
		return;
	}
	if (!rq->ciaddr && lease_by_key(&s->leases, rq->key, rq->key_len) == NULL && !s->spec->authoritative) {
		/* RFC 2131 4.3.2: no record of this client: remain silent. */
		snprintf(d->reason, sizeof d->reason, "init-reboot from an unknown client");
		return;
	}
	/* We have no binding, but the address is free and the client may have it
	 * (our lease file was lost, or it moved pools): take it over. */
	if (allowed(s, want, rq, r) && free_for(s, want, rq->key, rq->key_len, now)) {
		bind_lease(s, rq, want, now, d);
		return;
	}
	nak(s, d, "the client may not have that address");
}

/* A declined or conflicting address (a, in the subnet): held by a record of
 * nobody for decline_time; the allocator passes it by meanwhile. */
static struct lease *quarantine(struct server *s, uint32_t a, double now)
{
	struct lease *l = lease_put_quarantine(&s->leases, a);
	lease_set_state(&s->leases, l, LEASE_DECLINED);
	l->starts = now;
	l->ends = now + s->spec->decline_time;
	return l;
}

static void decline(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d)
{
	struct lease *l = lease_by_addr(&s->leases, rq->requested);
	/* Only the client the address was given to may decline it: a storm of
	 * DECLINEs cannot quarantine addresses that were never theirs. */
	if (!owned_by(l, rq) || (l->state != LEASE_BOUND && l->state != LEASE_OFFERED)) {
		snprintf(d->reason, sizeof d->reason, "DECLINE for an address this client does not hold");
		return;
	}
	l = quarantine(s, rq->requested, now);
	s->declines++;
	d->journal = l;
	d->event = EVENT_DECLINED;
	snprintf(d->reason, sizeof d->reason, "address in use by another host: quarantined");
}

static void release(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d)
{
	struct lease *l = lease_by_addr(&s->leases, rq->ciaddr);
	if (!owned_by(l, rq) || l->state != LEASE_BOUND) {
		snprintf(d->reason, sizeof d->reason, "RELEASE for an address this client does not hold");
		return;
	}
	lease_set_state(&s->leases, l, LEASE_RELEASED);
	l->ends = now;
	s->releases++;
	d->journal = l;
	d->event = EVENT_RELEASED;
}

void server_handle(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d)
{
	memset(d, 0, sizeof *d);
	if (rq->key_len > LEASE_KEY_MAX) {
		snprintf(d->reason, sizeof d->reason, "a client key of %zu bytes", rq->key_len);
		return;
	}
	switch (rq->type) {
	case DHCP_DISCOVER: discover(s, rq, now, d); break;
	case DHCP_REQUEST: request(s, rq, now, d); break;
	case DHCP_DECLINE: decline(s, rq, now, d); break;
	case DHCP_RELEASE: release(s, rq, now, d); break;
	case DHCP_INFORM:
		s->informs++;
		d->reply = DHCP_ACK; /* options only: no yiaddr, no lease time */
		break;
	default:
		snprintf(d->reason, sizeof d->reason, "not a client message (type %d)", rq->type);
	}
}

void server_probe_passed(struct server *s, const struct dhcp_request_view *rq, uint32_t addr, double now,
			 struct dhcp_decision *d)
{
	memset(d, 0, sizeof *d);
	struct lease *l = lease_by_addr(&s->leases, addr);
	if (!owned_by(l, rq) || (l->state != LEASE_OFFERED && l->state != LEASE_BOUND)) {
		snprintf(d->reason, sizeof d->reason, "the offer was withdrawn or taken while probing");
		return;
	}
	if (l->state == LEASE_OFFERED)
		l->ends = now + s->spec->offer_timeout;
	d->reply = DHCP_OFFER;
	d->yiaddr = addr;
	set_times(s, d);
}

void server_conflict(struct server *s, uint32_t addr, double now, struct dhcp_decision *d)
{
	memset(d, 0, sizeof *d);
	const struct lease *l = lease_by_addr(&s->leases, addr);
	if (!lease_table_contains(&s->leases, addr) || (l && l->state == LEASE_BOUND)) {
		/* A binding is ours to keep: its holder may well be who answered. */
		snprintf(d->reason, sizeof d->reason, "%s", l ? "the address is bound: left alone" : "not our network");
		return;
	}
	struct lease *q = quarantine(s, addr, now);
	s->conflicts++;
	d->journal = q;
	d->event = EVENT_CONFLICT;
	snprintf(d->reason, sizeof d->reason, "the address answered a ping: in use by an unknown host: quarantined");
}

void server_expire(struct server *s, double now, void (*cb)(void *ctx, struct server *s, struct lease *l), void *ctx)
{
	struct lease_table *t = &s->leases;
	for (uint32_t i = 0; i < t->size; i++) {
		struct lease *l = t->by_addr[i];
		if (l == NULL || l->ends > now)
			continue;
		if (l->state == LEASE_OFFERED) {
			lease_remove(t, l);
		} else if (l->state == LEASE_BOUND) {
			lease_set_state(t, l, LEASE_EXPIRED);
			cb(ctx, s, l);
		} else if (l->state == LEASE_DECLINED) {
			lease_set_state(t, l, LEASE_EXPIRED); /* the quarantine is over */
			cb(ctx, s, l);
		}
	}
}

size_t server_pool_size(const struct server *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->spec->npools; i++)
		for (uint32_t a = s->spec->pools[i].range.first; a <= s->spec->pools[i].range.last && a != 0; a++) {
			n += !excluded(s, a);
			if (a == UINT32_MAX)
				break;
		}
	return n;
}
