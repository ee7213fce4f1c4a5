/* dhcp4d's committed leases as dnsd knows them, kept from dhcp4d's contract: a
 * snapshot (GET /v1/leases?state=bound) and then the events that follow it
 * (GET /v1/events?since=N), each of which dhcp4d emits only after the lease
 * record it announces is on disk. Pure: parsing and applying, time as an
 * argument; lease_feed.c does the I/O.
 *
 * Applying the events after a snapshot is idempotent: each server lease event
 * carries the lease's whole state, so replaying events the snapshot already
 * holds ends in the same table, which is why the snapshot is taken after the
 * event cursor is read and never loses an event in between. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest hardware address or client identifier kept (longer ones cannot be
 * named in the config either). */
#define DHCP_LEASE_ID_MAX 64

struct dhcp_lease {
	char interface[16];
	char hostname[64]; /* as the client sent it; "" when it sent none */
	struct in_addr addr;
	uint8_t mac[DHCP_LEASE_ID_MAX], client_id[DHCP_LEASE_ID_MAX];
	uint8_t mac_len, client_id_len;
	double ends;
};

struct lease_set {
	struct dhcp_lease *v; /* the bound leases, in no order */
	size_t n, cap;
	uint32_t *slots; /* open addressing over (interface, address): index + 1, 0 empty */
	size_t nslots;
};

void lease_set_free(struct lease_set *s);

/* Replaces the set with the leases of a /v1/leases answer ({"leases":[...]}) that
 * are bound and end after now. Returns 0, or -EBADMSG with err (the set is then
 * unchanged). */
int lease_set_load(struct lease_set *s, const char *json, size_t len, double now, char *err, size_t errlen);

enum lease_events_result {
	LEASE_EVENTS_APPLIED, /* *since moved on; *changed says whether a lease did */
	LEASE_EVENTS_RESYNC,  /* events were lost (the answer does not continue *since), or dhcp4d
			       * restarted or reloaded: take a new snapshot */
};

/* Applies a /v1/events answer ({"events":[...],"next":N}, every type) that follows
 * *since. Server lease events (lease.bound and lease.renewed add or update,
 * lease.released, lease.expired, lease.declined and lease.conflict remove) are
 * those whose data has a client_id; the uplink client's lease events (no
 * client_id) are not leases we serve and are skipped. Returns an enum
 * lease_events_result, or -EBADMSG with err (nothing applied). */
int lease_set_apply_events(struct lease_set *s, const char *json, size_t len, uint64_t *since, double now,
			   bool *changed, char *err, size_t errlen);

/* Removes the leases that ended at or before now. Returns whether any did. */
bool lease_set_expire(struct lease_set *s, double now);
/* The earliest end (0 when empty). */
double lease_set_next_end(const struct lease_set *s);

/* "52:54:00:12:34:56" (colon-separated hex bytes, 1 to DHCP_LEASE_ID_MAX of them)
 * → bytes. Returns the length, or -1. */
int dhcp_lease_parse_id(const char *text, uint8_t *out);
