/* The DHCPv4 client state machine (RFC 2131 §4.4). Pure: packets out and lease
 * changes go through the caller's callbacks, time comes in as an argument.
 *
 * Retransmission follows §4.1: DISCOVER and the REQUESTs of REQUESTING and
 * REBOOTING back off 4, 8, 16, 32, then 64 s, each ±1 s; RENEWING and REBINDING
 * retry at half the time left to T2 (or expiry), at least 60 s apart (§4.4.5). */
#include "client.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NEVER 1e18
#define BACKOFF_FIRST 4.0
#define BACKOFF_MAX 64.0
#define REQUEST_TRIES 4    /* REQUESTING and REBOOTING give up after this many */
#define RETRY_FLOOR 60.0   /* RENEWING/REBINDING: at least this apart */
#define LEASE_MIN 10.0     /* shortest lease the client will run with */

/* What we ask servers for (55): mask, routers, DNS, host and domain name, MTU,
 * broadcast, NTP, lease/server/T1/T2, search list, classless routes. */
static const uint8_t param_request[] = { 1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121 };

static const char *const state_names[] = {
	[CLIENT_INIT] = "init",
	[CLIENT_SELECTING] = "selecting",
	[CLIENT_REQUESTING] = "requesting",
	[CLIENT_BOUND] = "bound",
	[CLIENT_RENEWING] = "renewing",
	[CLIENT_REBINDING] = "rebinding",
	[CLIENT_INIT_REBOOT] = "init-reboot",
	[CLIENT_REBOOTING] = "rebooting",
	[CLIENT_RELEASED] = "released",
	[CLIENT_NO_CARRIER] = "no-carrier",
};

const char *client_state_name(enum client_state s)
{
	return s <= CLIENT_NO_CARRIER ? state_names[s] : "?";
}

const char *client_event_name(enum client_lease_event e)
{
	switch (e) {
	case CLIENT_EV_BOUND: return "lease.bound";
	case CLIENT_EV_RENEWED: return "lease.renewed";
	case CLIENT_EV_REBOUND: return "lease.rebound";
	case CLIENT_EV_EXPIRED: return "lease.expired";
	case CLIENT_EV_NAK: return "lease.nak";
	case CLIENT_EV_RELEASED: return "lease.released";
	}
	return "?";
}

static uint32_t next_random(struct dhcp_client *c)
{
	uint32_t x = c->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x ? x : 0x9e3779b9u;
	return c->rng;
}

/* -1.0 .. +1.0 s (RFC 2131 §4.1: "randomized by the value of a uniform random
 * number chosen from the range -1 to +1"). */
static double jitter(struct dhcp_client *c)
{
	return (double)(next_random(c) % 2001) / 1000.0 - 1.0;
}

static void note(struct dhcp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct dhcp_client *c, const char *fmt, ...)
{
	if (c->ops.note == NULL)
		return;
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->ops.note(c->ctx, msg);
}

/* A new exchange: fresh xid, secs counted from now, back-off from the start. */
static void new_exchange(struct dhcp_client *c, enum client_state state, double now)
{
	c->state = state;
	c->xid = next_random(c);
	c->started = now;
	c->request_started = now;
	c->attempts = 0;
	c->backoff = BACKOFF_FIRST;
	c->next_send = now;
}

static void send_message(struct dhcp_client *c, uint8_t type, double now)
{
	struct dhcp_request_params p = {
		.type = type,
		.xid = c->xid,
		.htype = DHCP_HTYPE_ETHERNET,
		.hlen = 6,
		.client_id = c->id.client_id,
		.client_id_len = c->id.client_id_len,
		.params = param_request,
		.nparams = sizeof param_request,
		.max_message_size = 1500,
		.hostname = c->id.hostname[0] ? c->id.hostname : NULL,
		.vendor_class = (const uint8_t *)c->id.vendor_class,
		.vendor_class_len = strlen(c->id.vendor_class),
	};
	double secs = now - c->started;
	p.secs = secs < 0 ? 0 : secs > 65535 ? 65535 : (uint16_t)secs;
	memcpy(p.chaddr, c->id.mac, 6);
	struct in_addr dest = { 0 };
	/* Table 5 of RFC 2131, by state. Without an address of our own the answer
	 * can only reach us as a broadcast, so those states set the flag. */
	switch (c->state) {
	case CLIENT_SELECTING:
		p.broadcast = true;
		if (c->lease.valid)
			p.requested_ip = c->lease.addr; /* "I had this one" (§4.4.1) */
		break;
	case CLIENT_REQUESTING:
		p.broadcast = true;
		p.requested_ip = c->offered.addr;
		p.server_id = c->offered.opts.server_id;
		break;
	case CLIENT_REBOOTING:
		p.broadcast = true;
		p.requested_ip = c->lease.addr;
		break;
	case CLIENT_RENEWING:
		p.ciaddr = c->lease.addr;
		dest = c->lease.opts.server_id;
		break;
	case CLIENT_REBINDING:
		p.ciaddr = c->lease.addr;
		break;
	case CLIENT_BOUND: /* RELEASE */
	case CLIENT_RELEASED:
		p.ciaddr = c->lease.addr;
		p.server_id = c->lease.opts.server_id;
		dest = c->lease.opts.server_id;
		break;
	default:
		break;
	}
	uint8_t buf[DHCP_MIN_MSG_LEN + 28];
	struct dhcp_builder b;
	int rc = dhcp_build_request(&b, buf, sizeof buf, &p);
	if (rc == 0)
		rc = dhcp_finish(&b);
	if (rc < 0) {
		note(c, "could not build a %s message", client_state_name(c->state));
		return;
	}
	c->sent++;
	c->attempts++;
	c->ops.send(c->ctx, buf, (size_t)rc, dest);
}

/* The next retransmission of DISCOVER or a REQUEST that expects an answer now. */
static void schedule_backoff(struct dhcp_client *c, double now)
{
	c->next_send = now + c->backoff + jitter(c);
	c->backoff = fmin(c->backoff * 2, BACKOFF_MAX);
}

static void schedule_half(struct dhcp_client *c, double until, double now)
{
	double wait = fmax((until - now) / 2, RETRY_FLOOR);
	c->next_send = now + wait;
}

static void remove_lease(struct dhcp_client *c, enum client_lease_event ev)
{
	if (!c->lease.valid)
		return;
	c->ops.lease(c->ctx, ev, &c->lease, NULL);
	c->lease.valid = false;
}

static void enter_init(struct dhcp_client *c, double now)
{
	new_exchange(c, CLIENT_INIT, now);
}

void client_init(struct dhcp_client *c, const struct client_identity *id, const struct client_ops *ops,
		 void *ctx, const struct client_lease *saved, uint32_t seed, double now)
{
	memset(c, 0, sizeof *c);
	c->id = *id;
	c->ops = *ops;
	c->ctx = ctx;
	c->rng = seed ? seed : 0x2545f491u;
	if (saved && saved->valid && saved->expiry > now) {
		c->lease = *saved;
		new_exchange(c, CLIENT_INIT_REBOOT, now);
	} else {
		enter_init(c, now);
	}
}

/* Natural (classful) mask, for a server that sends no option 1. */
static uint8_t classful_prefix(struct in_addr a)
{
	uint8_t first = (uint8_t)(ntohl(a.s_addr) >> 24);
	return first < 128 ? 8 : first < 192 ? 16 : 24;
}

/* Turns an OFFER or ACK into a lease; false (with a note) if it cannot be one. */
static bool lease_from_message(struct dhcp_client *c, const struct dhcp_message *m, double start, bool need_times,
			       struct client_lease *out)
{
	memset(out, 0, sizeof *out);
	char err[160];
	if (dhcp_parse_client_options(m, &out->opts, err, sizeof err) < 0)
		note(c, "reply has a malformed option, kept the rest: %s", err);
	if (m->yiaddr.s_addr == 0 || m->yiaddr.s_addr == INADDR_BROADCAST) {
		note(c, "%s", "reply without a usable yiaddr ignored");
		return false;
	}
	if (!out->opts.has_server_id) {
		note(c, "%s", "reply without a server identifier (54) ignored");
		return false;
	}
	if (need_times && !out->opts.has_lease_time) {
		note(c, "%s", "ACK without a lease time (51) ignored");
		return false;
	}
	if (!out->opts.has_subnet_mask)
		out->opts.prefix_len = classful_prefix(m->yiaddr);
	out->valid = true;
	out->addr = m->yiaddr;
	out->start = start;
	if (out->opts.lease_time == 0xffffffffu) {
		out->t1 = out->t2 = out->expiry = NEVER;
		return true;
	}
	/* A lease shorter than LEASE_MIN (0 from a broken server) would have the
	 * client rediscover in a tight loop; it is taken as LEASE_MIN (dhcpcd does the same
	 * with 20 s). */
	double lt = out->opts.lease_time < LEASE_MIN ? LEASE_MIN : out->opts.lease_time;
	/* T1 or T2 of 0 is a server bug, not "renew at once" (which would loop). */
	double t1 = out->opts.has_t1 && out->opts.t1 ? out->opts.t1 : lt * 0.5;
	double t2 = out->opts.has_t2 && out->opts.t2 ? out->opts.t2 : lt * 0.875;
	/* A server that sends T1 >= T2 or T2 >= lease gets the defaults (§4.4.5). */
	if (!(t1 < t2 && t2 < lt)) {
		t1 = lt * 0.5;
		t2 = lt * 0.875;
	}
	out->t1 = start + t1;
	out->t2 = start + t2;
	out->expiry = start + lt;
	return true;
}

static void bind_lease(struct dhcp_client *c, const struct client_lease *fresh, enum client_lease_event ev,
		       double now)
{
	struct client_lease old = c->lease;
	c->lease = *fresh;
	int rc = c->ops.lease(c->ctx, ev, &c->lease, old.valid ? &old : NULL);
	if (rc < 0) {
		/* The kernel refused it: nothing half-applied stays (the owner undoes its
		 * part); try again from scratch after a back-off. */
		c->lease.valid = false;
		new_exchange(c, CLIENT_INIT, now);
		c->next_send = now + BACKOFF_FIRST + jitter(c);
		return;
	}
	c->state = CLIENT_BOUND;
	c->next_send = 0;
	c->attempts = 0;
}

static bool ours(const struct dhcp_client *c, const struct dhcp_message *m)
{
	return m->op == DHCP_OP_REPLY && m->xid == c->xid && m->htype == DHCP_HTYPE_ETHERNET && m->hlen == 6 &&
	       memcmp(m->chaddr, c->id.mac, 6) == 0;
}

void client_on_message(struct dhcp_client *c, const struct dhcp_message *m, double now)
{
	c->received++;
	if (!ours(c, m)) {
		c->ignored++;
		return;
	}
	switch (c->state) {
	case CLIENT_SELECTING:
		if (m->type != DHCP_OFFER) {
			c->ignored++;
			return;
		}
		if (!lease_from_message(c, m, now, false, &c->offered)) {
			c->ignored++;
			return;
		}
		/* The first acceptable offer wins (§4.4.1 allows collecting more; waiting
		 * only slows the common one-server case down). Same xid for the REQUEST. */
		c->state = CLIENT_REQUESTING;
		c->request_started = now; /* the lease runs from this REQUEST (§4.4.1) */
		c->attempts = 0;
		c->backoff = BACKOFF_FIRST;
		send_message(c, DHCP_REQUEST, now);
		schedule_backoff(c, now);
		return;
	case CLIENT_REQUESTING:
	case CLIENT_REBOOTING:
	case CLIENT_RENEWING:
	case CLIENT_REBINDING:
		break;
	default:
		c->ignored++;
		return;
	}
	if (m->type == DHCP_NAK) {
		c->naks++;
		char msg[64] = "";
		size_t len;
		const uint8_t *text = dhcp_option(m, DHCP_OPT_MESSAGE, &len);
		if (text)
			snprintf(msg, sizeof msg, "%.*s", (int)(len < 60 ? len : 60), (const char *)text);
		note(c, "NAK from the server: %s", msg[0] ? msg : "(no message)");
		if (c->lease.valid)
			remove_lease(c, CLIENT_EV_NAK);
		else
			c->ops.lease(c->ctx, CLIENT_EV_NAK, &c->offered, NULL);
		enter_init(c, now);
		/* Repeated NAKs (a confused server) must not become a packet storm. */
		if (c->naks > 1)
			c->next_send = now + BACKOFF_FIRST + jitter(c);
		return;
	}
	if (m->type != DHCP_ACK) {
		c->ignored++;
		return;
	}
	struct client_lease fresh;
	if (!lease_from_message(c, m, c->request_started, true, &fresh)) {
		c->ignored++;
		return;
	}
	if (c->state == CLIENT_REQUESTING && fresh.addr.s_addr != c->offered.addr.s_addr) {
		note(c, "%s", "ACK for another address than the one requested ignored");
		c->ignored++;
		return;
	}
	if ((c->state == CLIENT_RENEWING || c->state == CLIENT_REBINDING || c->state == CLIENT_REBOOTING) &&
	    fresh.addr.s_addr != c->lease.addr.s_addr) {
		/* A new address for us: the old lease goes first, whole. */
		remove_lease(c, CLIENT_EV_EXPIRED);
	}
	enum client_lease_event ev = CLIENT_EV_BOUND;
	if (c->lease.valid && c->state == CLIENT_RENEWING)
		ev = CLIENT_EV_RENEWED;
	else if (c->lease.valid && c->state == CLIENT_REBINDING)
		ev = CLIENT_EV_REBOUND;
	c->naks = 0;
	bind_lease(c, &fresh, ev, now);
}

/* REQUESTING/REBOOTING ran out of tries. */
static void request_gave_up(struct dhcp_client *c, double now)
{
	if (c->state == CLIENT_REBOOTING && c->lease.valid && c->lease.expiry > now) {
		/* §3.2: no answer to INIT-REBOOT: the client may keep its unexpired lease.
		 * Renewal at T1 (or rebinding, if past T2) finds out more. */
		note(c, "%s", "no answer to INIT-REBOOT: keeping the unexpired lease");
		if (c->ops.lease(c->ctx, CLIENT_EV_BOUND, &c->lease, NULL) < 0) {
			c->lease.valid = false;
			enter_init(c, now);
			c->next_send = now + BACKOFF_FIRST + jitter(c);
			return;
		}
		c->state = CLIENT_BOUND;
		c->next_send = 0;
		return;
	}
	note(c, "%s", "no answer to REQUEST: back to INIT");
	enter_init(c, now);
}

void client_tick(struct dhcp_client *c, double now)
{
	/* Expiry first: whatever the state, a lease past its end is gone. */
	if (c->lease.valid && now >= c->lease.expiry) {
		remove_lease(c, CLIENT_EV_EXPIRED);
		if (c->state != CLIENT_NO_CARRIER && c->state != CLIENT_RELEASED && c->state != CLIENT_SELECTING &&
		    c->state != CLIENT_REQUESTING)
			enter_init(c, now);
	}
	switch (c->state) {
	case CLIENT_INIT:
		if (now < c->next_send)
			return;
		new_exchange(c, CLIENT_SELECTING, now);
		send_message(c, DHCP_DISCOVER, now);
		schedule_backoff(c, now);
		return;
	case CLIENT_INIT_REBOOT:
		if (now < c->next_send)
			return;
		new_exchange(c, CLIENT_REBOOTING, now);
		send_message(c, DHCP_REQUEST, now);
		schedule_backoff(c, now);
		return;
	case CLIENT_SELECTING:
		if (now < c->next_send)
			return;
		send_message(c, DHCP_DISCOVER, now);
		schedule_backoff(c, now);
		return;
	case CLIENT_REQUESTING:
	case CLIENT_REBOOTING:
		if (now < c->next_send)
			return;
		if (c->attempts >= REQUEST_TRIES) {
			request_gave_up(c, now);
			return;
		}
		send_message(c, DHCP_REQUEST, now);
		schedule_backoff(c, now);
		return;
	case CLIENT_BOUND:
		if (now >= c->lease.t2) {
			new_exchange(c, CLIENT_REBINDING, now);
			client_tick(c, now);
		} else if (now >= c->lease.t1) {
			new_exchange(c, CLIENT_RENEWING, now);
			client_tick(c, now);
		}
		return;
	case CLIENT_RENEWING:
		if (now >= c->lease.t2) {
			new_exchange(c, CLIENT_REBINDING, now);
			client_tick(c, now);
			return;
		}
		if (now < c->next_send)
			return;
		send_message(c, DHCP_REQUEST, now);
		schedule_half(c, c->lease.t2, now);
		return;
	case CLIENT_REBINDING:
		if (now < c->next_send)
			return;
		send_message(c, DHCP_REQUEST, now);
		schedule_half(c, c->lease.expiry, now);
		return;
	case CLIENT_RELEASED:
	case CLIENT_NO_CARRIER:
		return;
	}
}

double client_next_wakeup(const struct dhcp_client *c)
{
	double t = c->lease.valid ? c->lease.expiry : NEVER;
	switch (c->state) {
	case CLIENT_BOUND:
		t = fmin(t, fmin(c->lease.t1, c->lease.t2));
		break;
	case CLIENT_RENEWING:
		t = fmin(t, fmin(c->next_send, c->lease.t2));
		break;
	case CLIENT_RELEASED:
	case CLIENT_NO_CARRIER:
		break;
	default:
		t = fmin(t, c->next_send);
		break;
	}
	return t;
}

int client_renew(struct dhcp_client *c, double now)
{
	if (c->state == CLIENT_NO_CARRIER || c->carrier_down)
		return -ENETDOWN;
	if (!c->lease.valid || c->state == CLIENT_RELEASED) {
		enter_init(c, now);
		client_tick(c, now);
		return 0;
	}
	if (c->state != CLIENT_BOUND && c->state != CLIENT_RENEWING && c->state != CLIENT_REBINDING)
		return -EAGAIN; /* an exchange is already under way */
	new_exchange(c, CLIENT_RENEWING, now);
	send_message(c, DHCP_REQUEST, now);
	schedule_half(c, c->lease.t2, now);
	return 0;
}

int client_rebind(struct dhcp_client *c, double now)
{
	if (c->state == CLIENT_NO_CARRIER)
		return -ENETDOWN;
	if (!c->lease.valid || (c->state != CLIENT_BOUND && c->state != CLIENT_RENEWING && c->state != CLIENT_REBINDING))
		return -EAGAIN;
	new_exchange(c, CLIENT_REBINDING, now);
	send_message(c, DHCP_REQUEST, now);
	schedule_half(c, c->lease.expiry, now);
	return 0;
}

int client_release(struct dhcp_client *c, double now)
{
	if (!c->lease.valid)
		return -EAGAIN;
	if (c->state != CLIENT_NO_CARRIER) {
		c->state = CLIENT_RELEASED;
		c->xid = next_random(c);
		c->started = now;
		send_message(c, DHCP_RELEASE, now);
	}
	remove_lease(c, CLIENT_EV_RELEASED);
	c->state = CLIENT_RELEASED;
	c->next_send = 0;
	return 0;
}

void client_carrier(struct dhcp_client *c, bool up, double now)
{
	c->carrier_down = !up;
	if (!up) {
		if (c->state != CLIENT_RELEASED) /* released stays released, link or not */
			c->state = CLIENT_NO_CARRIER;
		c->next_send = 0;
		return;
	}
	if (c->state != CLIENT_NO_CARRIER)
		return;
	if (c->lease.valid && c->lease.expiry > now)
		new_exchange(c, CLIENT_INIT_REBOOT, now);
	else
		enter_init(c, now);
}
