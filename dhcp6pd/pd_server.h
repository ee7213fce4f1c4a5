/* The delegating server of one interface (RFC 8415 §18.3, for requesting routers):
 * pure. Given a parsed message (relay wrappers already taken off), the next hop
 * toward its sender and the time, it decides the answer and changes the binding
 * table; every binding it changes comes back as a pd_change, which the caller
 * journals and makes durable before the answer goes out (and then routes and
 * announces). No sockets, no clock, no files.
 *
 * Pools carve a literal prefix, or what an uplink holds ("from_delegation"), into
 * delegated_length blocks; blocks that overlap the machine's own LAN /64s are
 * skipped; a reserved prefix goes only to its DUID (and IAID, when given). A
 * router asking again gets what it had when nobody took it meanwhile. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binding_table.h"
#include "dhcp6_wire.h"
#include "dhcp6pd_config.h"
#include "info_reply.h"

#define PD_SERVER_IAS 4          /* IA_PDs answered per message (more: NoPrefixAvail) */
#define PD_CHANGES_MAX 4         /* bindings one decision changes */
#define PD_EXCLUDED_MAX 16

struct pd_pool {
	bool from_delegation;
	char client[16];
	struct arbor_prefix6 prefix;       /* len 0: nothing to carve now */
	uint8_t dlen;
	uint64_t nblocks, cursor;
	double preferred_until, valid_until; /* the upstream delegation's; never for a literal pool */
};

/* A binding as a value: what a journal record, an event and an answer carry. */
struct binding_view {
	struct arbor_prefix6 prefix;
	uint8_t duid[DHCP6_DUID_MAX];
	uint16_t duid_len;
	uint32_t iaid;
	uint8_t state;
	double starts, preferred_until, valid_until;
	struct in6_addr via;
};

enum pd_change_kind { PD_CHANGE_BOUND, PD_CHANGE_RENEWED, PD_CHANGE_RELEASED, PD_CHANGE_EXPIRED };

struct pd_change {
	enum pd_change_kind kind;
	struct binding_view b;
	bool route_add;  /* a route to b.prefix via b.via (replacing one via old_via) */
	bool route_del;  /* the route to b.prefix (via b.via) goes */
	const char *reason; /* a static string, for the event */
};

struct pd_ia_entry {
	struct arbor_prefix6 prefix;
	uint32_t preferred, valid;
	int status; /* -1: none */
};

struct pd_ia_answer {
	uint16_t type; /* DHCP6_OPT_IA_PD or DHCP6_OPT_IA_NA */
	uint32_t iaid, t1, t2;
	int status;    /* -1: none */
	const char *text;
	struct pd_ia_entry e[4];
	size_t n;
};

struct pd_decision {
	uint8_t reply;     /* 0: silence; DHCP6_ADVERTISE or DHCP6_REPLY */
	bool rapid_commit;
	int msg_status;    /* -1: none */
	const char *msg_text;
	struct pd_ia_answer ia[PD_SERVER_IAS + 2];
	size_t nia;
	struct pd_change changes[PD_CHANGES_MAX];
	size_t nchanges;
	const char *reason; /* why silence, for the log */
};

struct pd_server {
	const struct server6_spec *spec;
	const uint8_t *duid; /* our server id (the caller's) */
	size_t duid_len;
	struct pd_pool pools[DHCP6PD_LIST_MAX];
	size_t npools;
	struct binding_table table;
	struct arbor_prefix6 excluded[PD_EXCLUDED_MAX];
	size_t nexcluded;
	double next_expiry; /* no binding or offer ends before this: expiry sweeps wait for it */
	uint64_t solicits, requests, renews, rebinds, releases, declines, advertised, replied, no_prefix, ignored;
};

void pd_server_init(struct pd_server *s, const struct server6_spec *spec, const uint8_t *duid, size_t duid_len);
void pd_server_free(struct pd_server *s);
/* Takes over the bindings of old (a reload that keeps the interface). */
void pd_server_adopt(struct pd_server *s, struct pd_server *old);

/* The uplink client's delegation for from_delegation pools (p NULL or len 0: none).
 * Bindings of those pools outside the new prefix end now: one EXPIRED change each
 * through ended (the routers below hear it at their next renewal: their prefix
 * comes back with lifetimes 0, a new one beside it). */
void pd_server_set_delegation(struct pd_server *s, const char *client, const struct arbor_prefix6 *p,
			      double preferred_until, double valid_until, double now,
			      void (*ended)(void *ctx, const struct pd_change *c), void *ctx);
/* The machine's own LAN prefixes: never delegated. */
void pd_server_set_excluded(struct pd_server *s, const struct arbor_prefix6 *ex, size_t n);

/* Decides m (already validated by dhcp6_parse). via: the next hop toward the
 * requesting router (its link-local address, or the relay the message came
 * through). */
void pd_server_handle(struct pd_server *s, const struct dhcp6_message *m, const struct in6_addr *via, double now,
		      struct pd_decision *d);
/* The ADVERTISE or REPLY of d to m, with info's DNS servers and search list when
 * the client asked for them (info may be NULL). Returns the length or -ENOSPC. */
int pd_server_build(const struct pd_server *s, const struct dhcp6_message *m, const struct pd_decision *d,
		    const struct info_content *info, uint8_t *buf, size_t cap);
/* Bindings past their valid lifetime expire (one change each through cb); offers
 * lapse silently. */
void pd_server_expire(struct pd_server *s, double now, void (*cb)(void *ctx, const struct pd_change *c), void *ctx);
/* Bound delegations that are in no pool now (the pools or the upstream
 * delegation changed while the daemon was down) end: one change each. */
void pd_server_end_strays(struct pd_server *s, double now, void (*cb)(void *ctx, const struct pd_change *c), void *ctx);
/* The pool p is a block of now, or -1. For replay: the from_delegation pool of
 * p's length when none holds it yet. */
int pd_server_pool_of(const struct pd_server *s, const struct arbor_prefix6 *p);
/* Blocks the pools hold now. */
uint64_t pd_server_capacity(const struct pd_server *s);

void binding_view_of(const struct binding *b, struct binding_view *v);
