/* The DHCPv6 prefix delegation client (RFC 8415 §18.2, the requesting router of
 * RFC 9096/7084): pure. It builds the messages and decides; the caller (uplink.c)
 * sends them, applies delegations to the kernel and the LANs, and writes the lease
 * file through the callbacks in struct pd_client_ops. Every entry point takes the
 * current wall-clock time, so the unit test drives whole delegations, retransmission
 * schedules and server failures in microseconds.
 *
 * What it promises (each is a rule of RFC 8415 that common clients get wrong):
 * - an ADVERTISE is accepted when any requested IA carries a binding (an IA_NA with
 *   NoAddrsAvail beside a good IA_PD is fine); preference 255 is requested at once,
 *   otherwise the best ADVERTISE of the first retransmission period wins;
 * - status codes are read at the message, the IA and the prefix level;
 *   NoBinding in a RENEW/REBIND reply sends a REQUEST; NoPrefixAvail, a prefix
 *   status error or a valid lifetime of 0 removes that prefix at once;
 * - an IA with T1 > T2 (both nonzero) is discarded; T1 or T2 of 0 means the client
 *   chooses (0.5 and 0.8 of the shortest preferred lifetime); a prefix whose
 *   preferred lifetime exceeds its valid lifetime is discarded;
 * - the §7.6 timers with §15 randomisation, SOL_MAX_RT 3600 s and option 82;
 *   Elapsed Time in every message;
 * - a restart with a saved delegation renews (before T2) or rebinds it, keeping it
 *   applied meanwhile, and never releases; a solicit hints the last prefix held;
 * - a link that comes back rebinds (§18.2.12). */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp6_wire.h"

#define PD_PREFIXES_MAX 4
#define PD_ADDRS_MAX 4
#define PD_DOMAINS_MAX 4
#define PD_NEVER 1e18 /* "infinite" as an absolute time */

/* RFC 8415 §7.6 (seconds). */
#define PD_SOL_MAX_DELAY 1.0
#define PD_SOL_TIMEOUT 1.0
#define PD_SOL_MAX_RT 3600.0
#define PD_REQ_TIMEOUT 1.0
#define PD_REQ_MAX_RT 30.0
#define PD_REQ_MAX_RC 10
#define PD_REN_TIMEOUT 10.0
#define PD_REN_MAX_RT 600.0
#define PD_REB_TIMEOUT 10.0
#define PD_REB_MAX_RT 600.0
#define PD_REL_TIMEOUT 1.0
#define PD_REL_MAX_RC 4
/* The shortest T1 the client runs with (a server sending lifetimes of a few
 * seconds would otherwise have it renew in a loop). */
#define PD_T1_MIN 5.0

enum pd_state {
	PD_INIT,       /* waiting the random SOL_MAX_DELAY before the first SOLICIT */
	PD_SOLICITING,
	PD_REQUESTING,
	PD_BOUND,
	PD_RENEWING,
	PD_REBINDING,
	PD_RELEASED,   /* after the release command: idle until renew */
	PD_NO_CARRIER, /* link down: idle; a delegation keeps running out */
};
const char *pd_state_name(enum pd_state s);

/* One delegated prefix (or, with len 128, an IA_NA address). Lifetimes count from
 * start, the time the message that got them was sent. */
struct pd_entry {
	struct in6_addr addr;
	uint8_t len;
	uint32_t preferred, valid; /* as the server sent them */
	double preferred_until, valid_until; /* absolute; PD_NEVER for infinity */
};

struct pd_lease {
	bool valid;
	uint8_t server_id[DHCP6_DUID_MAX];
	uint16_t server_id_len;
	double start, t1, t2; /* absolute */
	struct pd_entry prefix[PD_PREFIXES_MAX];
	size_t nprefix;
	struct pd_entry addr[PD_ADDRS_MAX]; /* IA_NA, when asked for */
	size_t naddr;
	struct in6_addr dns[DHCP6_DNS_MAX];
	size_t ndns;
	char domain[PD_DOMAINS_MAX][DHCP6_NAME_TEXT_MAX];
	size_t ndomain;
};

/* When every prefix and address is past its valid lifetime (0 with none). */
double pd_lease_expiry(const struct pd_lease *l);
/* Whether a and b hold the same prefixes (addresses and lengths, any order). */
bool pd_lease_same_prefixes(const struct pd_lease *a, const struct pd_lease *b);

enum pd_event {
	PD_EV_RESTORED, /* a saved delegation applied at start (nothing changed: no event) */
	PD_EV_BOUND,    /* a delegation where there was none */
	PD_EV_RENEWED,  /* the same prefixes, lifetimes extended (renew or rebind) */
	PD_EV_CHANGED,  /* other prefixes than before (old has the previous ones) */
	PD_EV_LOST,     /* no delegation any more (expired, released, refused) */
};
const char *pd_event_name(enum pd_event e); /* "prefix.bound" ... */

struct pd_client_ops {
	/* Send pkt to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) port 547. */
	void (*send)(void *ctx, const uint8_t *pkt, size_t len);
	/* The delegation changed. lease is what holds now (for LOST: what was lost),
	 * old the previous one (or NULL). reason says why (LOST, CHANGED). Returns 0,
	 * or -errno when it could not be applied: the client then drops it and
	 * solicits again after a back-off. */
	int (*lease)(void *ctx, enum pd_event ev, const struct pd_lease *lease, const struct pd_lease *old,
		     const char *reason);
	/* A line for the log (why a message was ignored, and the like). */
	void (*note)(void *ctx, const char *msg);
};

struct pd_client_config {
	uint8_t duid[DHCP6_DUID_MAX];
	uint16_t duid_len;
	uint32_t iaid;          /* of the IA_PD, and of the IA_NA when asked */
	uint8_t hint_len;       /* prefix_length_hint; 0: none */
	bool request_address;   /* also an IA_NA */
	bool rapid_commit;
};

struct pd_client {
	enum pd_state state;
	struct pd_client_config cfg;
	struct pd_client_ops ops;
	void *ctx;
	struct pd_lease lease;  /* held (lease.valid) */
	struct pd_lease offer;  /* SOLICITING: the best ADVERTISE so far; REQUESTING: what is asked for */
	struct pd_lease released; /* RELEASED: what the RELEASE retransmissions name */
	int offer_pref;         /* its preference */
	struct in6_addr hint;   /* the last prefix held, hinted in SOLICIT */
	uint8_t hint_plen;      /* 0: none (then cfg.hint_len alone) */
	uint32_t xid;
	double exchange_start;  /* first transmission of this exchange (Elapsed Time) */
	double last_send;       /* the latest transmission: lifetimes of its answer run from here */
	double next_send;       /* the next (re)transmission; 0: none */
	double rt;              /* the current retransmission timeout */
	unsigned rc;            /* transmissions in this exchange */
	double mrd_end;         /* the exchange gives up at this time (PD_NEVER: no limit) */
	double collect_until;   /* SOLICITING: the end of the first RT (ADVERTISEs collected) */
	double sol_max_rt;      /* PD_SOL_MAX_RT, or what option 82 said */
	double backoff;         /* delay before soliciting again after a refusal (doubles) */
	bool requesting_held;   /* REQUESTING the held prefixes (after NoBinding) */
	bool carrier_down;
	uint32_t rng;
	char last_status[DHCP6_STATUS_TEXT_MAX + 32]; /* the last non-success status seen */
	uint64_t sent, received, ignored, status_errors;
};

/* Starts the client. With a saved lease still valid it is applied (RESTORED) and
 * renewed at once (rebound when past T2); otherwise INIT, then SOLICIT after a
 * random delay. hint/hint_len: the last prefix held (from the lease file), or len 0. */
void pd_client_init(struct pd_client *c, const struct pd_client_config *cfg, const struct pd_client_ops *ops,
		    void *ctx, const struct pd_lease *saved, const struct in6_addr *hint, uint8_t hint_len,
		    uint32_t seed, double now);

/* A message that arrived on port 546 (already parsed; relayed messages never reach
 * a client). */
void pd_client_on_message(struct pd_client *c, const struct dhcp6_message *m, double now);

/* Timers: call at (or after) pd_client_next_wakeup. */
void pd_client_tick(struct pd_client *c, double now);
double pd_client_next_wakeup(const struct pd_client *c);

/* Commands. renew: RENEW now (SOLICIT when nothing is held or after a release);
 * rebind: REBIND now; release: RELEASE, the delegation removed at once, idle. 0,
 * -EAGAIN when there is nothing to act on, -ENETDOWN without carrier. */
int pd_client_renew(struct pd_client *c, double now);
int pd_client_rebind(struct pd_client *c, double now);
int pd_client_release(struct pd_client *c, double now);
void pd_client_carrier(struct pd_client *c, bool up, double now);
