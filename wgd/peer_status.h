/* Honest status and cumulative counters, as pure functions of what the device
 * reported and the time.
 *
 * Online means a handshake within the last 180 s (WireGuard re-keys every
 * 120 s while traffic flows, so a live session is never older), and, when the
 * client was given a persistent keepalive K, also that something arrived from
 * it within 2 K (it sends at least a keepalive every K seconds; a stopped
 * client falls silent long before its session is 180 s old). Receiving is
 * seen by polling the rx counter, so the silence allows one poll interval on
 * top. Offline says why: never seen, stale, disabled, expired.
 *
 * Totals are the persisted sum of every counter epoch: a device counter that
 * went down, or a device with another ifindex (re-created), starts a new
 * epoch whose counter counts from zero, so nothing is counted twice or
 * lost while wgd watches. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define PEER_HANDSHAKE_FRESH_S 180.0

enum peer_reason {
	PEER_ONLINE = 0,
	PEER_NEVER_SEEN,
	PEER_STALE,
	PEER_DISABLED,
	PEER_EXPIRED,
};

struct peer_observation {
	bool enabled;
	bool expired;
	double last_handshake; /* wall-clock seconds, 0: never */
	double last_rx_at;     /* when the rx counter was last seen to grow, 0: unknown */
	unsigned keepalive;    /* the client's persistent keepalive, 0: none */
	double poll_interval;  /* how stale last_rx_at may be */
};

/* The state at now; "online" when PEER_ONLINE. */
enum peer_reason peer_classify(const struct peer_observation *o, double now);
const char *peer_reason_name(enum peer_reason r); /* "online", "never seen", "stale", ... */
/* The bound after which a client that stopped is reported offline: 2 K plus
 * the poll interval with a keepalive, else 180 s (after its last handshake). */
double peer_offline_bound(unsigned keepalive, double poll_interval);

struct peer_counters {
	uint64_t rx_total, tx_total; /* cumulative across epochs */
	uint64_t seen_rx, seen_tx;   /* the device's counters when last seen */
	uint32_t seen_ifindex;       /* the device they were seen on; 0: none yet */
	double last_handshake;       /* newest handshake ever seen (wall seconds) */
	double last_rx_at;
};

enum {
	PEER_RX_GREW = 1 << 0,   /* something arrived */
	PEER_NEW_EPOCH = 1 << 1, /* the device's counters started again: what the old
				  * epoch counted now lives only in the totals (save them) */
};
/* Folds one reading into c. Returns PEER_RX_GREW | PEER_NEW_EPOCH as they apply. */
int peer_counters_observe(struct peer_counters *c, uint32_t ifindex, uint64_t rx, uint64_t tx, double handshake,
			  double now);
/* The peer was (re)created on the device by us: its counters restart at 0. */
void peer_counters_new_epoch(struct peer_counters *c);
