/* The DHCP server state machine for one subnet (RFC 2131 §4.3): given a
 * request (already decoded) and the time, it decides the answer and changes the
 * lease table. Pure: no sockets, no clock, no files. The caller journals the
 * changed lease and, for an ACK, sends it only after the journal commit. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_wire.h"
#include "lease_table.h"
#include "server_config.h"

/* What the server needs from a request (host byte order; 0 means absent). */
struct dhcp_request_view {
	int type;            /* enum dhcp_message_type */
	uint32_t ciaddr, giaddr;
	uint32_t requested;  /* option 50 */
	uint32_t server_id;  /* option 54 */
	const uint8_t *key;  /* client identifier (61), or htype + chaddr; at most LEASE_KEY_MAX bytes */
	size_t key_len;
	const uint8_t *mac;
	size_t mac_len;
	const char *hostname;     /* sanitized, or NULL */
	const char *vendor_class; /* or NULL */
};

enum lease_event {
	EVENT_NONE, EVENT_BOUND, EVENT_RENEWED, EVENT_RELEASED, EVENT_DECLINED, EVENT_EXHAUSTED, EVENT_CONFLICT,
};

struct dhcp_decision {
	int reply;             /* 0 (stay silent), DHCP_OFFER, DHCP_ACK or DHCP_NAK */
	uint32_t yiaddr;
	double lease_time, t1, t2;
	struct lease *journal; /* a lease to write to the journal before answering, or NULL */
	enum lease_event event;
	/* An OFFER of an address this client has no record on (and that is not its
	 * reserved address), with conflict_probe.ping on: ping yiaddr before
	 * sending, then finish with server_probe_passed or server_conflict. */
	bool probe;
	char reason[160];      /* why a NAK or silence (for the NAK message and the logs) */
};

struct server {
	const struct server_spec *spec;
	struct lease_table leases;
	uint32_t server_id;
	uint32_t cursor;       /* next-fit allocation position */
	uint64_t offers, acks, naks, declines, releases, informs, exhausted, conflicts;
};

int server_init(struct server *s, const struct server_spec *spec, uint32_t server_id);
void server_free(struct server *s);
/* Takes over the leases of old (a reload that keeps the subnet). */
void server_adopt_leases(struct server *s, struct server *old);
/* A key longer than LEASE_KEY_MAX gets silence (the caller drops it first). */
void server_handle(struct server *s, const struct dhcp_request_view *rq, double now, struct dhcp_decision *d);
/* The conflict probe (RFC 2131 §2.2) of addr, offered to the client of the
 * DISCOVER rq by a decision with d->probe, got no answer: d becomes that OFFER,
 * and the offer's lifetime restarts now (it goes out now). d->reply is 0 when
 * the offer is no longer this client's (withdrawn or taken while probing). */
void server_probe_passed(struct server *s, const struct dhcp_request_view *rq, uint32_t addr, double now,
			 struct dhcp_decision *d);
/* addr answered a conflict probe: a host we do not know uses it. It is
 * quarantined for decline_time like a declined address (d->journal, event
 * EVENT_CONFLICT), whoever it was offered to; a bound lease is left alone
 * (d->event stays EVENT_NONE). The DISCOVER then needs a new decision. */
void server_conflict(struct server *s, uint32_t addr, double now, struct dhcp_decision *d);
/* Ends what has lapsed: bound leases expire (journalled through cb), offers
 * vanish, declined addresses come back after decline_time (journalled). */
void server_expire(struct server *s, double now, void (*cb)(void *ctx, struct server *s, struct lease *l), void *ctx);
/* Addresses the pools can hand out, and how many are bound. */
size_t server_pool_size(const struct server *s);
