/* Honest status and cumulative counters (see peer_status.h). */
#include "peer_status.h"

enum peer_reason peer_classify(const struct peer_observation *o, double now)
{
	if (!o->enabled)
		return PEER_DISABLED;
	if (o->expired)
		return PEER_EXPIRED;
	if (o->last_handshake <= 0)
		return PEER_NEVER_SEEN;
	if (now - o->last_handshake > PEER_HANDSHAKE_FRESH_S)
		return PEER_STALE;
	if (o->keepalive) {
		double heard = o->last_rx_at > o->last_handshake ? o->last_rx_at : o->last_handshake;
		if (now - heard > peer_offline_bound(o->keepalive, o->poll_interval))
			return PEER_STALE;
	}
	return PEER_ONLINE;
}

const char *peer_reason_name(enum peer_reason r)
{
	switch (r) {
	case PEER_ONLINE: return "online";
	case PEER_NEVER_SEEN: return "never seen";
	case PEER_STALE: return "stale";
	case PEER_DISABLED: return "disabled";
	case PEER_EXPIRED: return "expired";
	}
	return "?";
}

double peer_offline_bound(unsigned keepalive, double poll_interval)
{
	if (keepalive == 0)
		return PEER_HANDSHAKE_FRESH_S;
	double b = 2.0 * keepalive + poll_interval;
	return b < PEER_HANDSHAKE_FRESH_S ? b : PEER_HANDSHAKE_FRESH_S;
}

int peer_counters_observe(struct peer_counters *c, uint32_t ifindex, uint64_t rx, uint64_t tx, double handshake,
			  double now)
{
	bool new_epoch = c->seen_ifindex != ifindex || rx < c->seen_rx || tx < c->seen_tx;
	uint64_t drx = new_epoch ? rx : rx - c->seen_rx;
	uint64_t dtx = new_epoch ? tx : tx - c->seen_tx;
	c->rx_total += drx;
	c->tx_total += dtx;
	c->seen_rx = rx;
	c->seen_tx = tx;
	c->seen_ifindex = ifindex;
	if (handshake > c->last_handshake)
		c->last_handshake = handshake;
	if (drx > 0)
		c->last_rx_at = now;
	return (drx > 0 ? PEER_RX_GREW : 0) | (new_epoch ? PEER_NEW_EPOCH : 0);
}

void peer_counters_new_epoch(struct peer_counters *c)
{
	c->seen_rx = c->seen_tx = 0;
}
