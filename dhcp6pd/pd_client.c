/* The DHCPv6 PD client state machine (see pd_client.h). Pure: messages out and
 * delegation changes go through the caller's callbacks, time comes in as an
 * argument.
 *
 * Retransmission (RFC 8415 §15): the first RT is IRT + RAND*IRT (for SOLICIT with
 * RAND > 0), then 2*RT + RAND*RT, capped at MRT + RAND*MRT, RAND uniform in
 * [-0.1, 0.1]; an exchange ends after MRC transmissions or at its MRD (RENEW: T2,
 * REBIND: the end of the delegation). */
#include "pd_client.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "xorshift.h"

static const char *const state_names[] = {
	[PD_INIT] = "init",           [PD_SOLICITING] = "soliciting", [PD_REQUESTING] = "requesting",
	[PD_BOUND] = "bound",         [PD_RENEWING] = "renewing",     [PD_REBINDING] = "rebinding",
	[PD_RELEASED] = "released",   [PD_NO_CARRIER] = "no-carrier",
};

const char *pd_state_name(enum pd_state s)
{
	return s <= PD_NO_CARRIER ? state_names[s] : "?";
}

const char *pd_event_name(enum pd_event e)
{
	switch (e) {
	case PD_EV_RESTORED: return "prefix.restored";
	case PD_EV_BOUND: return "prefix.bound";
	case PD_EV_RENEWED: return "prefix.renewed";
	case PD_EV_CHANGED: return "prefix.changed";
	case PD_EV_LOST: return "prefix.lost";
	}
	return "?";
}

double pd_lease_expiry(const struct pd_lease *l)
{
	double t = 0;
	for (size_t i = 0; i < l->nprefix; i++)
		t = fmax(t, l->prefix[i].valid_until);
	for (size_t i = 0; i < l->naddr; i++)
		t = fmax(t, l->addr[i].valid_until);
	return t;
}

static bool same_entry(const struct pd_entry *a, const struct pd_entry *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, 16) == 0;
}

static bool has_entry(const struct pd_entry *v, size_t n, const struct pd_entry *e)
{
	for (size_t i = 0; i < n; i++)
		if (same_entry(&v[i], e))
			return true;
	return false;
}

bool pd_lease_same_prefixes(const struct pd_lease *a, const struct pd_lease *b)
{
	if (a->nprefix != b->nprefix)
		return false;
	for (size_t i = 0; i < a->nprefix; i++)
		if (!has_entry(b->prefix, b->nprefix, &a->prefix[i]))
			return false;
	return true;
}

/* ---- small helpers ---- */

static uint32_t next_random(struct pd_client *c)
{
	return arbor_xorshift32(&c->rng);
}

/* RAND of §15: uniform in [-0.1, 0.1]; strictly positive when positive is set. */
static double rand_factor(struct pd_client *c, bool positive)
{
	double u = (double)(next_random(c) % 10001) / 10000.0; /* 0..1 */
	return positive ? 0.0001 + u * 0.0999 : u * 0.2 - 0.1;
}

static void note(struct pd_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct pd_client *c, const char *fmt, ...)
{
	if (c->ops.note == NULL)
		return;
	char msg[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->ops.note(c->ctx, msg);
}

static void record_status(struct pd_client *c, const char *where, const struct dhcp6_status *s)
{
	c->status_errors++;
	snprintf(c->last_status, sizeof c->last_status, "%s: %s%s%s", where, dhcp6_status_name(s->code),
		 s->text[0] ? ": " : "", s->text);
}

/* ---- exchanges and retransmission ---- */

struct timing {
	double irt, mrt;
	unsigned mrc; /* 0: no limit */
};

static struct timing timing_of(const struct pd_client *c)
{
	switch (c->state) {
	case PD_SOLICITING: return (struct timing){ PD_SOL_TIMEOUT, c->sol_max_rt, 0 };
	case PD_REQUESTING: return (struct timing){ PD_REQ_TIMEOUT, PD_REQ_MAX_RT, PD_REQ_MAX_RC };
	case PD_RENEWING: return (struct timing){ PD_REN_TIMEOUT, PD_REN_MAX_RT, 0 };
	case PD_REBINDING: return (struct timing){ PD_REB_TIMEOUT, PD_REB_MAX_RT, 0 };
	case PD_RELEASED: return (struct timing){ PD_REL_TIMEOUT, 0, PD_REL_MAX_RC };
	default: return (struct timing){ 1, 0, 1 };
	}
}

static void new_exchange(struct pd_client *c, enum pd_state state, double mrd_end, double now)
{
	c->state = state;
	c->xid = next_random(c) & 0xffffff;
	c->exchange_start = now;
	c->rc = 0;
	c->rt = 0;
	c->next_send = now;
	c->mrd_end = mrd_end;
}

static void put_entries(struct dhcp6_builder *b, const struct pd_entry *v, size_t n, bool prefixes)
{
	for (size_t i = 0; i < n; i++) {
		/* Lifetimes 0 in what a client sends: the server decides (RFC 8415 §18.2). */
		if (prefixes)
			dhcp6_put_iaprefix(b, &v[i].addr, v[i].len, 0, 0, -1, NULL);
		else
			dhcp6_put_iaaddr(b, &v[i].addr, 0, 0, -1, NULL);
	}
}

/* The message of the current state, into buf. */
static int build(struct pd_client *c, uint8_t type, double now, uint8_t *buf, size_t cap)
{
	struct dhcp6_builder b;
	dhcp6_build_start(&b, buf, cap, type, c->xid);
	dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, c->cfg.duid, c->cfg.duid_len);
	const struct pd_lease *about = NULL; /* whose prefixes and server id the message names */
	switch (type) {
	case DHCP6_REQUEST: about = &c->offer; break;
	case DHCP6_RENEW:
	case DHCP6_REBIND: about = &c->lease; break;
	case DHCP6_RELEASE: about = &c->released; break;
	default: break;
	}
	if (about && type != DHCP6_REBIND)
		dhcp6_put_option(&b, DHCP6_OPT_SERVERID, about->server_id, about->server_id_len);
	double elapsed = c->rc == 0 ? 0 : (now - c->exchange_start) * 100;
	dhcp6_put_u16(&b, DHCP6_OPT_ELAPSED_TIME, elapsed > 65535 ? 65535 : elapsed < 0 ? 0 : (uint16_t)elapsed);
	if (type != DHCP6_RELEASE) {
		uint8_t oro[6];
		put_be16(oro, DHCP6_OPT_DNS_SERVERS);
		put_be16(oro + 2, DHCP6_OPT_DOMAIN_LIST);
		put_be16(oro + 4, DHCP6_OPT_SOL_MAX_RT);
		dhcp6_put_option(&b, DHCP6_OPT_ORO, oro, sizeof oro);
	}
	if (type == DHCP6_SOLICIT && c->cfg.rapid_commit)
		dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	dhcp6_open_ia(&b, DHCP6_OPT_IA_PD, c->cfg.iaid, 0, 0);
	if (about) {
		put_entries(&b, about->prefix, about->nprefix, true);
	} else if (c->hint_plen && (c->cfg.hint_len == 0 || c->cfg.hint_len == c->hint_plen)) {
		dhcp6_put_iaprefix(&b, &c->hint, c->hint_plen, 0, 0, -1, NULL); /* "I had this one" */
	} else if (c->cfg.hint_len) {
		struct in6_addr any = IN6ADDR_ANY_INIT;
		dhcp6_put_iaprefix(&b, &any, c->cfg.hint_len, 0, 0, -1, NULL);
	}
	dhcp6_close(&b);
	if (c->cfg.request_address) {
		dhcp6_open_ia(&b, DHCP6_OPT_IA_NA, c->cfg.iaid, 0, 0);
		if (about)
			put_entries(&b, about->addr, about->naddr, false);
		dhcp6_close(&b);
	}
	return dhcp6_finish(&b);
}

static uint8_t message_type(enum pd_state s)
{
	switch (s) {
	case PD_SOLICITING: return DHCP6_SOLICIT;
	case PD_REQUESTING: return DHCP6_REQUEST;
	case PD_RENEWING: return DHCP6_RENEW;
	case PD_REBINDING: return DHCP6_REBIND;
	case PD_RELEASED: return DHCP6_RELEASE;
	default: return 0;
	}
}

/* Sends the state's message and schedules the next transmission (§15). */
static void transmit(struct pd_client *c, double now)
{
	uint8_t type = message_type(c->state);
	uint8_t buf[1024];
	int n = type ? build(c, type, now, buf, sizeof buf) : -EINVAL;
	if (n < 0) {
		note(c, "could not build a %s message", dhcp6_type_name(type));
		c->next_send = 0;
		return;
	}
	struct timing t = timing_of(c);
	if (c->rc == 0)
		c->rt = t.irt + rand_factor(c, c->state == PD_SOLICITING) * t.irt;
	else
		c->rt = 2 * c->rt + rand_factor(c, false) * c->rt;
	if (t.mrt > 0 && c->rt > t.mrt)
		c->rt = t.mrt + rand_factor(c, false) * t.mrt;
	c->rc++;
	c->sent++;
	c->last_send = now;
	c->next_send = fmin(now + c->rt, c->mrd_end);
	if (c->state == PD_SOLICITING && c->rc == 1)
		c->collect_until = now + c->rt;
	c->ops.send(c->ctx, buf, (size_t)n);
}

/* SOLICIT from scratch after delay (INIT until then). */
static void solicit_after(struct pd_client *c, double delay, double now)
{
	c->state = PD_INIT;
	c->offer.valid = false;
	c->offer_pref = -1;
	c->requesting_held = false;
	c->next_send = now + delay;
}

/* A refusal (NoPrefixAvail, a failed exchange): solicit again, later each time. */
static void solicit_backoff(struct pd_client *c, double now)
{
	c->backoff = c->backoff <= 0 ? PD_SOL_TIMEOUT : fmin(c->backoff * 2, c->sol_max_rt);
	solicit_after(c, c->backoff * (1 + rand_factor(c, false)), now);
}

static void lose(struct pd_client *c, const char *reason)
{
	if (!c->lease.valid)
		return;
	/* Gone before the owner hears of it: what the owner then asks the uplinks
	 * (the LANs renumber from them) no longer includes it. */
	struct pd_lease lost = c->lease;
	c->lease.valid = false;
	c->ops.lease(c->ctx, PD_EV_LOST, &lost, NULL, reason);
}

/* ---- starting ---- */

void pd_client_init(struct pd_client *c, const struct pd_client_config *cfg, const struct pd_client_ops *ops,
		    void *ctx, const struct pd_lease *saved, const struct in6_addr *hint, uint8_t hint_len,
		    uint32_t seed, double now)
{
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->ops = *ops;
	c->ctx = ctx;
	c->rng = seed ? seed : 0x2545f491u;
	c->sol_max_rt = PD_SOL_MAX_RT;
	c->offer_pref = -1;
	c->mrd_end = PD_NEVER;
	if (hint && hint_len && hint_len <= 128) {
		c->hint = *hint;
		c->hint_plen = hint_len;
	}
	if (saved && saved->valid && pd_lease_expiry(saved) > now) {
		c->lease = *saved;
		/* Prefixes whose valid lifetime passed while we were down go now. */
		size_t k = 0;
		for (size_t i = 0; i < c->lease.nprefix; i++)
			if (c->lease.prefix[i].valid_until > now)
				c->lease.prefix[k++] = c->lease.prefix[i];
		c->lease.nprefix = k;
		k = 0;
		for (size_t i = 0; i < c->lease.naddr; i++)
			if (c->lease.addr[i].valid_until > now)
				c->lease.addr[k++] = c->lease.addr[i];
		c->lease.naddr = k;
		if (c->ops.lease(c->ctx, PD_EV_RESTORED, &c->lease, NULL, "restart") == 0) {
			/* Confirm it with its server (RENEW) or anyone (REBIND); it stays
			 * applied meanwhile. Never a RELEASE (RFC 9096 WPD-9). */
			if (now < c->lease.t2)
				new_exchange(c, PD_RENEWING, c->lease.t2, now);
			else
				new_exchange(c, PD_REBINDING, pd_lease_expiry(&c->lease), now);
			return;
		}
		c->lease.valid = false;
	}
	/* RFC 8415 §18.2.1: wait a random time up to SOL_MAX_DELAY before the first SOLICIT. */
	solicit_after(c, (double)(next_random(c) % 1001) / 1000.0 * PD_SOL_MAX_DELAY, now);
}

/* ---- reading answers ---- */

static bool status_error(const struct dhcp6_status *s)
{
	return s->present && s->code != DHCP6_STATUS_SUCCESS;
}

/* The entries of ia merged with held (RFC 8415 §18.2.10.1): entries with a valid
 * lifetime of 0 or an error status go; a preferred lifetime above the valid one
 * discards the entry; when the reply carries new entries they are the set (held
 * ones it leaves out were replaced), otherwise the held ones stay. Returns the
 * count written to out. */
static size_t merge_entries(struct pd_client *c, const struct dhcp6_ia *ia, const struct pd_entry *held, size_t nheld,
			    double start, struct pd_entry *out, size_t max, size_t *zeroed, size_t *offered)
{
	size_t n = 0;
	struct pd_entry gone[DHCP6_IA_ENTRIES_MAX];
	size_t ngone = 0;
	*zeroed = 0;
	for (size_t i = 0; ia && i < ia->n; i++) {
		const struct dhcp6_lease_entry *e = &ia->e[i];
		struct pd_entry p = { .addr = e->addr, .len = e->plen, .preferred = e->preferred, .valid = e->valid };
		if (ia->type == DHCP6_OPT_IA_PD && (e->plen == 0 || e->plen > 128)) {
			note(c, "a prefix of length %u discarded", e->plen);
			continue;
		}
		if (status_error(&e->status) || e->valid == 0) {
			if (status_error(&e->status))
				record_status(c, ia->type == DHCP6_OPT_IA_PD ? "prefix" : "address", &e->status);
			if (ngone < DHCP6_IA_ENTRIES_MAX)
				gone[ngone++] = p;
			(*zeroed)++;
			continue;
		}
		if (e->preferred > e->valid) {
			note(c, "an entry with preferred lifetime %u over its valid lifetime %u discarded", e->preferred,
			     e->valid);
			continue;
		}
		if (has_entry(out, n, &p) || n == max)
			continue;
		p.preferred_until = e->preferred == DHCP6_INFINITY ? PD_NEVER : start + e->preferred;
		p.valid_until = e->valid == DHCP6_INFINITY ? PD_NEVER : start + e->valid;
		out[n++] = p;
	}
	*offered = n;
	if (n > 0)
		return n;
	for (size_t i = 0; i < nheld && n < max; i++)
		if (!has_entry(gone, ngone, &held[i]))
			out[n++] = held[i];
	return n;
}

/* T1/T2 of the new lease (absolute): the server's, or the client's choice when
 * it sent 0 (0.5 and 0.8 of the shortest preferred lifetime), never past the
 * first valid lifetime's end, never sooner than PD_T1_MIN. */
static void choose_times(struct pd_lease *l, const struct dhcp6_ia *ia, double start)
{
	double min_pref = PD_NEVER, min_valid = PD_NEVER;
	for (size_t i = 0; i < l->nprefix; i++) {
		min_pref = fmin(min_pref, l->prefix[i].preferred_until - start);
		min_valid = fmin(min_valid, l->prefix[i].valid_until - start);
	}
	for (size_t i = 0; i < l->naddr; i++) {
		min_pref = fmin(min_pref, l->addr[i].preferred_until - start);
		min_valid = fmin(min_valid, l->addr[i].valid_until - start);
	}
	double t1 = ia && ia->t1 ? (ia->t1 == DHCP6_INFINITY ? PD_NEVER : ia->t1) : 0.5 * fmax(min_pref, 0);
	double t2 = ia && ia->t2 ? (ia->t2 == DHCP6_INFINITY ? PD_NEVER : ia->t2) : 0.8 * fmax(min_pref, 0);
	if (min_pref >= PD_NEVER / 2 && !(ia && ia->t1))
		t1 = PD_NEVER;
	if (min_pref >= PD_NEVER / 2 && !(ia && ia->t2))
		t2 = PD_NEVER;
	if (min_valid < PD_NEVER / 2) {
		t2 = fmin(t2, min_valid);
		t1 = fmin(t1, t2);
	}
	t1 = fmax(t1, PD_T1_MIN);
	t2 = fmax(t2, t1);
	l->start = start;
	l->t1 = t1 >= PD_NEVER / 2 ? PD_NEVER : start + t1;
	l->t2 = t2 >= PD_NEVER / 2 ? PD_NEVER : start + t2;
}

/* The other configuration a reply carries. */
static void take_options(struct pd_lease *l, const struct dhcp6_message *m)
{
	l->server_id_len = m->server_id_len;
	memcpy(l->server_id, m->server_id, m->server_id_len);
	l->ndns = m->ndns;
	memcpy(l->dns, m->dns, m->ndns * sizeof m->dns[0]);
	l->ndomain = 0;
	if (m->domains) {
		int n = dhcp6_parse_domain_list(m->domains, m->domains_len, l->domain, PD_DOMAINS_MAX);
		l->ndomain = n < 0 ? 0 : (size_t)n > PD_DOMAINS_MAX ? PD_DOMAINS_MAX : (size_t)n;
	}
}

/* Evaluates an IA_PD as an ADVERTISE offers it: usable prefixes into l. */
static bool advertised(struct pd_client *c, const struct dhcp6_message *m, struct pd_lease *l, double now)
{
	memset(l, 0, sizeof *l);
	const struct dhcp6_ia *pd = dhcp6_find_ia(m, DHCP6_OPT_IA_PD, c->cfg.iaid);
	if (pd == NULL || status_error(&pd->status)) {
		if (pd)
			record_status(c, "IA_PD of an ADVERTISE", &pd->status);
		return false;
	}
	if (pd->t1 && pd->t2 && pd->t1 > pd->t2) {
		note(c, "ADVERTISE with T1 %u > T2 %u: its IA_PD is discarded", pd->t1, pd->t2);
		return false;
	}
	size_t zeroed, offered;
	l->nprefix = merge_entries(c, pd, NULL, 0, now, l->prefix, PD_PREFIXES_MAX, &zeroed, &offered);
	if (l->nprefix == 0)
		return false;
	/* The IA_NA is optional: NoAddrsAvail there does not spoil a good IA_PD. */
	const struct dhcp6_ia *na = c->cfg.request_address ? dhcp6_find_ia(m, DHCP6_OPT_IA_NA, c->cfg.iaid) : NULL;
	if (na && !status_error(&na->status))
		l->naddr = merge_entries(c, na, NULL, 0, now, l->addr, PD_ADDRS_MAX, &zeroed, &offered);
	take_options(l, m);
	l->valid = true;
	return true;
}

static void request_offer(struct pd_client *c, double now)
{
	new_exchange(c, PD_REQUESTING, PD_NEVER, now);
	transmit(c, now);
}

static void on_advertise(struct pd_client *c, const struct dhcp6_message *m, double now)
{
	if (c->state != PD_SOLICITING) {
		c->ignored++;
		return;
	}
	if (status_error(&m->status))
		record_status(c, "ADVERTISE", &m->status);
	struct pd_lease cand;
	if (!advertised(c, m, &cand, now)) {
		c->ignored++;
		note(c, "an ADVERTISE without a usable delegated prefix ignored");
		return;
	}
	int pref = m->has_preference ? m->preference : 0;
	if (!c->offer.valid || pref > c->offer_pref) {
		c->offer = cand;
		c->offer_pref = pref;
	}
	/* Preference 255, or past the first RT: no reason to wait for others. */
	if (pref == 255 || now >= c->collect_until)
		request_offer(c, now);
}

/* Binds what a reply gave: the caller applies it; the state becomes BOUND. */
static void bind_lease(struct pd_client *c, struct pd_lease *fresh, const char *why, double now)
{
	enum pd_event ev = PD_EV_BOUND;
	struct pd_lease old = c->lease;
	if (old.valid)
		ev = pd_lease_same_prefixes(&old, fresh) ? PD_EV_RENEWED : PD_EV_CHANGED;
	fresh->valid = true;
	c->lease = *fresh;
	int rc = c->ops.lease(c->ctx, ev, &c->lease, old.valid ? &old : NULL, why);
	if (rc < 0) {
		/* Could not be applied: nothing half-applied stays (the owner undoes its
		 * part); try again from scratch later. */
		c->lease.valid = false;
		solicit_backoff(c, now);
		return;
	}
	if (c->lease.nprefix) {
		c->hint = c->lease.prefix[0].addr;
		c->hint_plen = c->lease.prefix[0].len;
	}
	c->backoff = 0;
	c->state = PD_BOUND;
	c->next_send = 0;
	c->offer.valid = false;
	c->requesting_held = false;
	c->mrd_end = PD_NEVER;
}

static void on_reply(struct pd_client *c, const struct dhcp6_message *m, double now)
{
	enum pd_state s = c->state;
	if (s == PD_RELEASED) { /* the RELEASE was heard */
		c->next_send = 0;
		return;
	}
	bool rapid = s == PD_SOLICITING && c->cfg.rapid_commit && m->rapid_commit;
	if (s != PD_REQUESTING && s != PD_RENEWING && s != PD_REBINDING && !rapid) {
		c->ignored++;
		return;
	}
	bool renewal = s == PD_RENEWING || s == PD_REBINDING;
	/* Message level. */
	if (status_error(&m->status)) {
		record_status(c, "REPLY", &m->status);
		switch (m->status.code) {
		case DHCP6_STATUS_UNSPEC_FAIL:
		case DHCP6_STATUS_USE_MULTICAST: /* we always multicast: retransmit as scheduled */
			c->ignored++;
			return;
		case DHCP6_STATUS_NOT_ON_LINK:
			note(c, "NotOnLink: soliciting again");
			solicit_after(c, 0, now);
			return;
		case DHCP6_STATUS_NO_BINDING:
			break; /* read at the IA below, as if it were there */
		default:
			if (!renewal) {
				note(c, "REPLY refused the request (%s): soliciting again", dhcp6_status_name(m->status.code));
				solicit_backoff(c, now);
				return;
			}
			break;
		}
	}
	const struct dhcp6_ia *pd = dhcp6_find_ia(m, DHCP6_OPT_IA_PD, c->cfg.iaid);
	struct dhcp6_status ia_status = pd ? pd->status : m->status;
	if (status_error(&ia_status)) {
		if (pd)
			record_status(c, "IA_PD", &pd->status);
		if (ia_status.code == DHCP6_STATUS_NO_BINDING && renewal && c->lease.valid) {
			/* §18.2.10.1: the server lost our binding: REQUEST what we hold, from it. */
			note(c, "NoBinding in the %s reply: requesting the delegation again",
			     s == PD_RENEWING ? "RENEW" : "REBIND");
			c->offer = c->lease;
			c->offer.server_id_len = m->server_id_len;
			memcpy(c->offer.server_id, m->server_id, m->server_id_len);
			c->requesting_held = true;
			request_offer(c, now);
			return;
		}
		if (ia_status.code == DHCP6_STATUS_UNSPEC_FAIL) {
			c->ignored++;
			return;
		}
		if (renewal)
			lose(c, dhcp6_status_name(ia_status.code));
		note(c, "%s for the IA_PD: soliciting again", dhcp6_status_name(ia_status.code));
		solicit_backoff(c, now);
		return;
	}
	if (pd == NULL) {
		c->ignored++;
		note(c, "a REPLY without our IA_PD ignored");
		return;
	}
	if (pd->t1 && pd->t2 && pd->t1 > pd->t2) {
		c->ignored++;
		note(c, "REPLY with T1 %u > T2 %u: its IA_PD is discarded", pd->t1, pd->t2);
		return;
	}
	double start = c->last_send;
	struct pd_lease fresh;
	memset(&fresh, 0, sizeof fresh);
	const struct pd_lease *held = renewal || c->requesting_held ? &c->lease : NULL;
	size_t zeroed = 0, offered = 0;
	fresh.nprefix = merge_entries(c, pd, held ? held->prefix : NULL, held ? held->nprefix : 0, start, fresh.prefix,
				      PD_PREFIXES_MAX, &zeroed, &offered);
	if (offered == 0 && zeroed == 0) {
		/* Nothing usable and nothing withdrawn: no answer at all. */
		c->ignored++;
		note(c, "a REPLY without a usable prefix ignored");
		return;
	}
	if (c->cfg.request_address) {
		const struct dhcp6_ia *na = dhcp6_find_ia(m, DHCP6_OPT_IA_NA, c->cfg.iaid);
		size_t z2, o2;
		if (na && status_error(&na->status))
			record_status(c, "IA_NA", &na->status); /* addresses are optional: the prefix still binds */
		else if (na)
			fresh.naddr = merge_entries(c, na, held ? held->addr : NULL, held ? held->naddr : 0, start,
						    fresh.addr, PD_ADDRS_MAX, &z2, &o2);
		else if (held)
			fresh.naddr = held->naddr, memcpy(fresh.addr, held->addr, sizeof fresh.addr);
	}
	if (fresh.nprefix == 0) {
		if (renewal && zeroed) {
			lose(c, "valid lifetime 0");
			solicit_after(c, 0, now);
		} else if (!renewal) {
			note(c, "REPLY delegated no usable prefix: soliciting again");
			solicit_backoff(c, now);
		} else {
			c->ignored++;
		}
		return;
	}
	take_options(&fresh, m);
	choose_times(&fresh, pd, start);
	bind_lease(c, &fresh, rapid ? "rapid commit" : dhcp6_type_name(message_type(s)), now);
}

void pd_client_on_message(struct pd_client *c, const struct dhcp6_message *m, double now)
{
	c->received++;
	if (m->type != DHCP6_ADVERTISE && m->type != DHCP6_REPLY) {
		c->ignored++; /* Reconfigure is not supported: short lifetimes do its job */
		return;
	}
	if (m->xid != c->xid) {
		c->ignored++;
		note(c, "a %s with a foreign transaction id ignored", dhcp6_type_name(m->type));
		return;
	}
	if (m->client_id == NULL || m->client_id_len != c->cfg.duid_len ||
	    memcmp(m->client_id, c->cfg.duid, c->cfg.duid_len) != 0 || m->server_id == NULL) {
		c->ignored++;
		note(c, "a %s not for our DUID, or without a server id, ignored", dhcp6_type_name(m->type));
		return;
	}
	if (m->has_sol_max_rt && m->sol_max_rt >= 60 && m->sol_max_rt <= 86400)
		c->sol_max_rt = m->sol_max_rt; /* RFC 7083 */
	if (m->type == DHCP6_ADVERTISE)
		on_advertise(c, m, now);
	else
		on_reply(c, m, now);
}

/* ---- timers ---- */

/* Drops entries past their valid lifetime; the delegation is lost when none is left. */
static void expire_entries(struct pd_client *c, double now)
{
	if (!c->lease.valid)
		return;
	struct pd_lease old = c->lease;
	size_t k = 0;
	for (size_t i = 0; i < c->lease.nprefix; i++)
		if (c->lease.prefix[i].valid_until > now)
			c->lease.prefix[k++] = c->lease.prefix[i];
	size_t removed = c->lease.nprefix - k;
	c->lease.nprefix = k;
	k = 0;
	for (size_t i = 0; i < c->lease.naddr; i++)
		if (c->lease.addr[i].valid_until > now)
			c->lease.addr[k++] = c->lease.addr[i];
	removed += c->lease.naddr - k;
	c->lease.naddr = k;
	if (removed == 0)
		return;
	if (c->lease.nprefix == 0) {
		c->lease = old;
		lose(c, "expired");
		if (c->state != PD_NO_CARRIER && c->state != PD_RELEASED && c->state != PD_SOLICITING &&
		    c->state != PD_INIT)
			solicit_after(c, 0, now);
		return;
	}
	if (c->ops.lease(c->ctx, PD_EV_CHANGED, &c->lease, &old, "expired") < 0)
		note(c, "could not apply the remaining prefixes");
}

void pd_client_tick(struct pd_client *c, double now)
{
	expire_entries(c, now);
	switch (c->state) {
	case PD_INIT:
		if (now < c->next_send)
			return;
		new_exchange(c, PD_SOLICITING, PD_NEVER, now);
		c->offer.valid = false;
		c->offer_pref = -1;
		transmit(c, now);
		return;
	case PD_SOLICITING:
		if (c->offer.valid && now >= c->collect_until) {
			request_offer(c, now);
			return;
		}
		if (now >= c->next_send)
			transmit(c, now);
		return;
	case PD_REQUESTING:
		if (now < c->next_send)
			return;
		if (c->rc >= PD_REQ_MAX_RC) {
			note(c, "no answer to %u REQUESTs: soliciting again", c->rc);
			solicit_backoff(c, now);
			return;
		}
		transmit(c, now);
		return;
	case PD_BOUND:
		if (now >= c->lease.t2) {
			new_exchange(c, PD_REBINDING, pd_lease_expiry(&c->lease), now);
			transmit(c, now);
		} else if (now >= c->lease.t1) {
			new_exchange(c, PD_RENEWING, c->lease.t2, now);
			transmit(c, now);
		}
		return;
	case PD_RENEWING:
		if (now >= c->lease.t2) {
			new_exchange(c, PD_REBINDING, pd_lease_expiry(&c->lease), now);
			transmit(c, now);
			return;
		}
		if (now >= c->next_send)
			transmit(c, now);
		return;
	case PD_REBINDING:
		if (c->lease.valid && now >= c->next_send)
			transmit(c, now);
		return;
	case PD_RELEASED:
		if (c->next_send && now >= c->next_send) {
			if (c->rc >= PD_REL_MAX_RC)
				c->next_send = 0; /* RFC 8415 §18.2.7: give up, the prefix is gone anyway */
			else
				transmit(c, now);
		}
		return;
	case PD_NO_CARRIER:
		return;
	}
}

double pd_client_next_wakeup(const struct pd_client *c)
{
	double t = PD_NEVER;
	for (size_t i = 0; c->lease.valid && i < c->lease.nprefix; i++)
		t = fmin(t, c->lease.prefix[i].valid_until);
	for (size_t i = 0; c->lease.valid && i < c->lease.naddr; i++)
		t = fmin(t, c->lease.addr[i].valid_until);
	switch (c->state) {
	case PD_BOUND:
		t = fmin(t, fmin(c->lease.t1, c->lease.t2));
		break;
	case PD_RENEWING:
		t = fmin(t, fmin(c->next_send, c->lease.t2));
		break;
	case PD_SOLICITING:
		t = fmin(t, c->offer.valid ? fmin(c->collect_until, c->next_send) : c->next_send);
		break;
	case PD_RELEASED:
		if (c->next_send)
			t = fmin(t, c->next_send);
		break;
	case PD_NO_CARRIER:
		break;
	default:
		t = fmin(t, c->next_send);
		break;
	}
	return t;
}

/* ---- commands ---- */

int pd_client_renew(struct pd_client *c, double now)
{
	if (c->state == PD_NO_CARRIER || c->carrier_down)
		return -ENETDOWN;
	if (!c->lease.valid || c->state == PD_RELEASED) {
		solicit_after(c, 0, now);
		pd_client_tick(c, now);
		return 0;
	}
	if (c->state != PD_BOUND && c->state != PD_RENEWING && c->state != PD_REBINDING)
		return -EAGAIN; /* an exchange is under way */
	new_exchange(c, PD_RENEWING, fmax(c->lease.t2, now + PD_REN_TIMEOUT), now);
	transmit(c, now);
	return 0;
}

int pd_client_rebind(struct pd_client *c, double now)
{
	if (c->state == PD_NO_CARRIER || c->carrier_down)
		return -ENETDOWN;
	if (!c->lease.valid || (c->state != PD_BOUND && c->state != PD_RENEWING && c->state != PD_REBINDING))
		return -EAGAIN;
	new_exchange(c, PD_REBINDING, pd_lease_expiry(&c->lease), now);
	transmit(c, now);
	return 0;
}

int pd_client_release(struct pd_client *c, double now)
{
	if (!c->lease.valid)
		return -EAGAIN;
	c->released = c->lease;
	lose(c, "released");
	new_exchange(c, PD_RELEASED, PD_NEVER, now);
	if (c->carrier_down)
		c->next_send = 0; /* nobody to tell; the prefix is gone here all the same */
	else
		transmit(c, now);
	return 0;
}

void pd_client_carrier(struct pd_client *c, bool up, double now)
{
	c->carrier_down = !up;
	if (!up) {
		if (c->state != PD_RELEASED)
			c->state = PD_NO_CARRIER;
		c->next_send = 0;
		return;
	}
	if (c->state != PD_NO_CARRIER)
		return;
	/* §18.2.12: possibly a new link: REBIND what is held, else SOLICIT. */
	if (c->lease.valid && pd_lease_expiry(&c->lease) > now) {
		new_exchange(c, PD_REBINDING, pd_lease_expiry(&c->lease), now);
		transmit(c, now);
	} else {
		solicit_after(c, 0, now);
		pd_client_tick(c, now);
	}
}
