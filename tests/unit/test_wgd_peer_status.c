/* Honest status (online within 180 s of a handshake; with a keepalive, also
 * heard from within 2 keepalives plus the poll interval; the reasons) and the
 * cumulative counters (deltas, a counter reset, a re-created device, a peer
 * re-added by us). Time is an argument: nothing sleeps. */
#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "counters_file.h"
#include "peer_status.h"
#include "tap.h"

int main(void)
{
	double t0 = 1760000000;
	struct peer_observation o = { .enabled = true, .poll_interval = 5 };
	CHECK(peer_classify(&o, t0) == PEER_NEVER_SEEN, "no handshake ever: never seen");
	o.last_handshake = t0;
	CHECK(peer_classify(&o, t0 + 10) == PEER_ONLINE, "10 s after a handshake: online");
	CHECK(peer_classify(&o, t0 + 180) == PEER_ONLINE, "180 s: still online");
	CHECK(peer_classify(&o, t0 + 181) == PEER_STALE, "181 s: stale");
	/* With a keepalive of 25 s: silence over 55 s (2 x 25 + 5) is offline
	 * even though the session is fresh. */
	o.keepalive = 25;
	o.last_rx_at = t0 + 30;
	CHECK(peer_classify(&o, t0 + 80) == PEER_ONLINE, "heard 50 s ago: online");
	CHECK(peer_classify(&o, t0 + 86) == PEER_STALE, "heard 56 s ago: stale");
	o.last_rx_at = t0 + 170;
	CHECK(peer_classify(&o, t0 + 175) == PEER_ONLINE, "keepalives arriving: online");
	CHECK(peer_classify(&o, t0 + 190) == PEER_STALE, "but never past 180 s without a handshake");
	o.last_rx_at = 0;
	CHECK(peer_classify(&o, t0 + 40) == PEER_ONLINE && peer_classify(&o, t0 + 60) == PEER_STALE,
	      "without rx seen, the handshake counts as hearing from it");
	o.enabled = false;
	CHECK(peer_classify(&o, t0 + 1) == PEER_DISABLED, "disabled first");
	o.enabled = true;
	o.expired = true;
	CHECK(peer_classify(&o, t0 + 1) == PEER_EXPIRED, "expired");
	CHECK(strcmp(peer_reason_name(PEER_NEVER_SEEN), "never seen") == 0 && strcmp(peer_reason_name(PEER_STALE), "stale") == 0,
	      "reason names");
	CHECK(peer_offline_bound(0, 5) == 180 && peer_offline_bound(25, 5) == 55 && peer_offline_bound(100, 5) == 180,
	      "the offline bound");

	/* Counters. */
	struct peer_counters c = { 0 };
	CHECK(peer_counters_observe(&c, 7, 1000, 500, t0, t0) == (PEER_RX_GREW | PEER_NEW_EPOCH) && c.rx_total == 1000 &&
		      c.tx_total == 500,
	      "first reading counts from zero (the first epoch)");
	CHECK(!peer_counters_observe(&c, 7, 1000, 600, t0, t0 + 5) && c.rx_total == 1000 && c.tx_total == 600,
	      "a tx delta; rx did not grow");
	CHECK(c.last_rx_at == t0, "last rx time stays");
	CHECK(peer_counters_observe(&c, 7, 1500, 600, t0, t0 + 10) == PEER_RX_GREW && c.rx_total == 1500 &&
		      c.last_rx_at == t0 + 10,
	      "rx grew: total and time");
	CHECK((peer_counters_observe(&c, 7, 200, 100, t0, t0 + 15) & PEER_NEW_EPOCH) && c.rx_total == 1700 &&
		      c.tx_total == 700,
	      "a counter reset (lower reading) starts a new epoch");
	CHECK((peer_counters_observe(&c, 9, 5000, 50, t0 + 20, t0 + 20) & PEER_NEW_EPOCH) && c.rx_total == 6700 &&
		      c.tx_total == 750,
	      "another ifindex (device re-created): a new epoch even with a higher reading");
	peer_counters_new_epoch(&c);
	CHECK(peer_counters_observe(&c, 9, 300, 30, t0 + 20, t0 + 25) && c.rx_total == 7000 && c.tx_total == 780,
	      "a peer re-added by us counts from zero");
	CHECK(c.last_handshake == t0 + 20, "the newest handshake is kept");
	peer_counters_observe(&c, 9, 300, 30, 0, t0 + 30);
	CHECK(c.last_handshake == t0 + 20, "a device reporting no handshake (re-created) keeps the last one known");

	/* counters.json: a round trip through text, and a damaged file refused. */
	struct counters_entry e[2] = { { .name = "laptop", .c = c }, { .name = "phone" } };
	cJSON *doc = counters_to_json(e, 2);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	doc = cJSON_Parse(text);
	free(text);
	struct counters_entry *back = NULL;
	size_t n = 0;
	char err[256];
	CHECK(counters_from_json(doc, &back, &n, err, sizeof err) == 0 && n == 2, "counters.json loads back");
	CHECK(back && back[0].c.rx_total == 7000 && back[0].c.tx_total == 780 && back[0].c.seen_ifindex == 9 &&
	      back[0].c.last_handshake == t0 + 20, "the same totals and readings");
	free(back);
	cJSON_Delete(doc);
	const char *bad[] = { "{\"version\":2,\"peers\":{}}", "{\"version\":1,\"peers\":{\"A\":{}}}",
			      ("{\"version\":1,\"peers\":{\"a\":{\"rx\":-1,\"tx\":0,\"seen_rx\":0,\"seen_tx\":0,"
			       "\"ifindex\":1,\"last_handshake\":0,\"last_rx_at\":0}}}") };
	for (int i = 0; i < 3; i++) {
		doc = cJSON_Parse(bad[i]);
		CHECK(counters_from_json(doc, &back, &n, err, sizeof err) == -EINVAL && back == NULL, "a damaged counters.json is refused");
		cJSON_Delete(doc);
	}
	return tap_done();
}
