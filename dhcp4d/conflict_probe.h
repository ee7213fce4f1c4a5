/* The conflict probe (RFC 2131 §2.2: a server SHOULD probe an address with an
 * ICMP echo request before allocating it): the impure half. The server state
 * machine (server.h) marks an OFFER that needs a probe; serving.c hands it here and
 * keeps the offer pending until the probe ends one way or the other.
 *
 * One ICMP socket for the whole daemon: a datagram ("ping") socket where
 * net.ipv4.ping_group_range allows it, a raw one (CAP_NET_RAW) otherwise. It is
 * bound to the served interface (SO_BINDTODEVICE) when only one interface
 * probes; with several, each echo names its interface (IP_PKTINFO) and a reply
 * counts only when it comes in on that interface. A reply is matched by sequence
 * number, a random token in the payload and the sender's address (and, on a raw
 * socket, our identifier).
 *
 * Pending probes live in a small table (CONFLICT_PROBE_MAX); each has a libevent
 * timer. When the table is full a new probe is refused (the caller offers
 * without probing and counts it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

enum { CONFLICT_PROBE_MAX = 256, CONFLICT_PROBE_KEY_MAX = 64 };

struct conflict_probe;

/* What to probe, and what to hand back when it ends. */
struct conflict_probe_req {
	const char *ifname;       /* the served interface */
	uint32_t addr;            /* host byte order */
	double timeout;           /* seconds */
	const uint8_t *key;       /* the client it is for (lease key) */
	size_t key_len;
	const uint8_t *pkt;       /* its DISCOVER, copied */
	size_t len;
	unsigned round;           /* 1 for the first probe of this DISCOVER */
};

/* How a probe ended. The pointers are valid during the callback only. */
struct conflict_probe_result {
	const char *ifname;
	uint32_t addr;
	bool conflict;            /* an echo reply came from addr: the address is in use */
	double elapsed;           /* seconds from the echo to the reply or the timeout */
	const uint8_t *key;
	size_t key_len;
	const uint8_t *pkt;       /* the latest DISCOVER of that client */
	size_t len;
	unsigned round;
};

typedef void (*conflict_probe_cb)(void *ctx, const struct conflict_probe_result *r);

enum conflict_probe_start_rc {
	CONFLICT_PROBE_STARTED,
	CONFLICT_PROBE_FULL,      /* CONFLICT_PROBE_MAX probes are pending */
	CONFLICT_PROBE_FAILED,    /* no socket, or the echo could not be sent (err says why) */
};

struct conflict_probe *conflict_probe_new(struct event_base *base, conflict_probe_cb cb, void *ctx);
/* Pending probes end without a callback (their clients will ask again). */
void conflict_probe_free(struct conflict_probe *cp);
/* Opens the socket if it is not open; bound to ifname when not NULL (the only
 * probing interface), else to no device. Returns 0, or -1 with err set. */
int conflict_probe_open(struct conflict_probe *cp, const char *ifname, char *err, size_t errlen);
int conflict_probe_start(struct conflict_probe *cp, const struct conflict_probe_req *rq, char *err, size_t errlen);
/* Is a probe pending for this client on ifname? If so, pkt (a retransmitted
 * DISCOVER) replaces its copy, so the answer carries the latest xid. */
bool conflict_probe_update(struct conflict_probe *cp, const char *ifname, const uint8_t *key, size_t key_len,
			   const uint8_t *pkt, size_t len);
size_t conflict_probe_pending(const struct conflict_probe *cp);
/* "datagram", "raw", or NULL while no socket is open. */
const char *conflict_probe_socket_kind(const struct conflict_probe *cp);
/* Why the last open failed ("" if it did not). */
const char *conflict_probe_error(const struct conflict_probe *cp);
