/* wgd's peers as dnsd names them: <peer>.<interface>.<zone>, an A and an AAAA
 * record from the addresses wgd gave it, for each peer that is enabled and has
 * not expired. dnsd learns them from wgd's contract only (common/
 * contract_feed.h): the snapshot is GET /v1/peers, then peer.added and
 * peer.updated put a peer (or drop it when it is disabled), peer.removed and
 * peer.expired drop it; each event carries the peer's whole naming state, so
 * replaying one is harmless. Pure: parsing and applying. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_peer_name {
	char name[64];      /* a DNS label (wgd allows a-z, 0-9 and '-') */
	char interface[16];
	bool has_ipv4, has_ipv6;
	struct in_addr ipv4;
	struct in6_addr ipv6;
};

struct wg_peer_set {
	struct wg_peer_name *v;
	size_t n, cap;
};

void wg_peer_set_free(struct wg_peer_set *s);
/* Replaces the set with the named peers of a GET /v1/peers answer. 0, or
 * -EBADMSG with err (the set unchanged). */
int wg_peer_set_load(struct wg_peer_set *s, const char *json, size_t len, char *err, size_t errlen);
/* Applies a GET /v1/events answer following *since: an enum
 * contract_events_result, or -EBADMSG with err. */
int wg_peer_set_apply_events(struct wg_peer_set *s, const char *json, size_t len, uint64_t *since, bool *changed,
			     char *err, size_t errlen);
