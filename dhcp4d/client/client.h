/* The DHCPv4 client state machine (RFC 2131 §4.4, figure 5): pure. It builds the
 * packets and decides what happens; the caller (uplink.c) sends, applies the lease
 * to the kernel and writes the lease file through the callbacks in struct
 * client_ops. Every entry point takes the current (wall-clock) time, so the unit
 * tests drive whole lease lifetimes in microseconds. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_wire.h"

enum client_state {
	CLIENT_INIT,
	CLIENT_SELECTING,
	CLIENT_REQUESTING,
	CLIENT_BOUND,
	CLIENT_RENEWING,
	CLIENT_REBINDING,
	CLIENT_INIT_REBOOT,
	CLIENT_REBOOTING,
	CLIENT_RELEASED, /* after a release command: idle until renew */
	CLIENT_NO_CARRIER, /* link down: idle; the lease (if any) keeps running out */
};

const char *client_state_name(enum client_state s);

/* A lease as the client holds it: what the server's ACK said, and when. */
struct client_lease {
	bool valid;
	struct in_addr addr;
	struct dhcp_client_options opts; /* server id, mask, routers, dns, routes, mtu... */
	double start;                    /* when the REQUEST that got it went out */
	double t1, t2, expiry;           /* absolute times */
};

/* What the client tells its owner. */
enum client_lease_event {
	CLIENT_EV_BOUND,   /* a new lease (from SELECTING, REBOOTING) */
	CLIENT_EV_RENEWED, /* extended by its own server */
	CLIENT_EV_REBOUND, /* extended by any server while rebinding */
	CLIENT_EV_EXPIRED, /* ran out: remove it */
	CLIENT_EV_NAK,     /* the server refused it: remove it, back to INIT */
	CLIENT_EV_RELEASED,/* given back by command */
};
const char *client_event_name(enum client_lease_event e);

struct client_ops {
	/* Send pkt: broadcast when dest is 0.0.0.0, else unicast to dest:67. */
	void (*send)(void *ctx, const uint8_t *pkt, size_t len, struct in_addr dest);
	/* The lease changed: apply (BOUND/RENEWED/REBOUND: old is the previous lease or
	 * NULL) or remove (EXPIRED/NAK/RELEASED: lease is what to take away). Returns
	 * 0, or a negative errno when the lease could not be applied (the client then
	 * DECLINEs nothing — the address is fine, the kernel is not — and retries
	 * later from INIT). */
	int (*lease)(void *ctx, enum client_lease_event ev, const struct client_lease *lease,
		     const struct client_lease *old);
	/* A one-line note for the log (why a packet was ignored and the like). */
	void (*note)(void *ctx, const char *msg);
};

struct client_identity {
	uint8_t mac[6];
	uint8_t client_id[64]; /* 61, default 01 + MAC */
	size_t client_id_len;
	char hostname[DHCP_HOSTNAME_MAX + 1]; /* "" for none */
	char vendor_class[64];                /* "" for none */
};

struct dhcp_client {
	enum client_state state;
	struct client_identity id;
	struct client_ops ops;
	void *ctx;
	struct client_lease lease;   /* the lease we hold (valid) */
	struct client_lease offered; /* SELECTING → REQUESTING: the offer we took */
	uint32_t xid;
	double started;     /* when this exchange began (the secs field) */
	double request_started; /* when its first REQUEST went out: the lease's start */
	bool carrier_down;
	double next_send;   /* retransmission time, 0: none */
	unsigned attempts;  /* transmissions in this state */
	double backoff;     /* current RFC 2131 §4.1 delay */
	uint32_t rng;       /* xorshift state: xids and ±1 s jitter */
	uint64_t sent, received, ignored, naks;
};

/* Starts the machine: INIT-REBOOT when a still-valid lease is given (from the
 * lease file after a restart), else INIT. seed feeds the xid/jitter generator. */
void client_init(struct dhcp_client *c, const struct client_identity *id, const struct client_ops *ops,
		 void *ctx, const struct client_lease *saved, uint32_t seed, double now);

/* A DHCP message that arrived on the client's port (already parsed). */
void client_on_message(struct dhcp_client *c, const struct dhcp_message *m, double now);

/* Timers: call client_tick at (or after) client_next_wakeup. */
void client_tick(struct dhcp_client *c, double now);
double client_next_wakeup(const struct dhcp_client *c);

/* Commands. renew: unicast REQUEST to the server now (or INIT when there is no
 * lease or after a release); rebind: broadcast REQUEST now; release: RELEASE to
 * the server, remove the lease, idle. Return 0, -EAGAIN with no lease to act on (or
 * an exchange under way), -ENETDOWN without carrier. */
int client_renew(struct dhcp_client *c, double now);
int client_rebind(struct dhcp_client *c, double now);
int client_release(struct dhcp_client *c, double now);

/* Carrier (netlink): loss idles the client; return reboots it with the lease it
 * has (INIT-REBOOT, RFC 2131 §3.2: the client may have moved) or from INIT. */
void client_carrier(struct dhcp_client *c, bool up, double now);
