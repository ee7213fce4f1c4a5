/* wgd's peers as dnsd names them (dnsd/wg_peers.c): the snapshot keeps enabled
 * peers that have not expired; peer.added/updated put or drop, removed/expired
 * drop, online/offline change nothing; a gap or a restart of wgd asks for a new
 * snapshot; and the record source makes A and AAAA under <interface>.<zone>. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "contract_feed.h"
#include "sources.h"
#include "tap.h"
#include "wg_peers.h"

static const struct wg_peer_name *find(const struct wg_peer_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

#define PEER(name, en, reason)                                                                                         \
	"{\"name\":\"" name "\",\"interface\":\"wg0\",\"ipv4\":\"10.200.0.2\",\"ipv6\":\"fd00::2\",\"enabled\":" en \
	",\"status\":{\"online\":false,\"reason\":\"" reason "\"}}"

static int events(struct wg_peer_set *s, uint64_t *since, bool *changed, const char *json)
{
	char err[200];
	return wg_peer_set_apply_events(s, json, strlen(json), since, changed, err, sizeof err);
}

int main(void)
{
	struct wg_peer_set s = { 0 };
	char err[200];
	const char *snap = "{\"peers\":[" PEER("laptop", "true", "never seen") "," PEER("off", "false", "disabled") ","
			   PEER("old", "true", "expired") "," PEER("Bad", "true", "stale") "]}";
	CHECK(wg_peer_set_load(&s, snap, strlen(snap), err, sizeof err) == 0 && s.n == 1 && find(&s, "laptop"),
	      "the snapshot keeps the enabled peer that has not expired (and only valid names)");
	char a[INET6_ADDRSTRLEN];
	CHECK(find(&s, "laptop")->has_ipv4 && strcmp(inet_ntop(AF_INET6, &find(&s, "laptop")->ipv6, a, sizeof a), "fd00::2") == 0,
	      "its addresses");
	CHECK(wg_peer_set_load(&s, "[]", 2, err, sizeof err) == -EBADMSG && s.n == 1, "a bad snapshot changes nothing");

	uint64_t since = 10;
	bool changed;
	CHECK(events(&s, &since, &changed,
		     "{\"events\":[{\"seq\":11,\"type\":\"peer.added\",\"data\":{\"name\":\"phone\",\"interface\":\"wg0\","
		     "\"ipv4\":\"10.200.0.3\",\"enabled\":true}},{\"seq\":12,\"type\":\"peer.online\",\"data\":{\"name\":"
		     "\"phone\",\"interface\":\"wg0\",\"ipv4\":\"10.200.0.3\",\"enabled\":true}}],\"next\":12}") ==
		      CONTRACT_EVENTS_APPLIED && changed && since == 12 && s.n == 2,
	      "peer.added puts; peer.online changes nothing");
	CHECK(events(&s, &since, &changed,
		     "{\"events\":[{\"seq\":13,\"type\":\"peer.updated\",\"data\":{\"name\":\"phone\",\"interface\":\"wg0\","
		     "\"ipv4\":\"10.200.0.3\",\"enabled\":false}}],\"next\":13}") == CONTRACT_EVENTS_APPLIED &&
		      changed && s.n == 1 && !find(&s, "phone"),
	      "a peer disabled is dropped");
	CHECK(events(&s, &since, &changed,
		     "{\"events\":[{\"seq\":14,\"type\":\"peer.expired\",\"data\":{\"name\":\"laptop\",\"interface\":\"wg0\","
		     "\"ipv4\":\"10.200.0.2\",\"enabled\":true}}],\"next\":14}") == CONTRACT_EVENTS_APPLIED && changed && s.n == 0,
	      "an expired peer is dropped");
	CHECK(events(&s, &since, &changed, "{\"events\":[{\"seq\":16,\"type\":\"peer.added\",\"data\":{}}],\"next\":16}") ==
		      CONTRACT_EVENTS_RESYNC && since == 14,
	      "a gap asks for a new snapshot");
	CHECK(events(&s, &since, &changed, "{\"events\":[{\"seq\":15,\"type\":\"daemon.started\",\"data\":{}}],\"next\":15}") ==
		      CONTRACT_EVENTS_RESYNC,
	      "so does a restart of wgd");
	CHECK(events(&s, &since, &changed, "{\"next\":15}") == -EBADMSG, "a malformed answer is refused");

	/* The record source: laptop.wg0.home.arpa A and AAAA. */
	wg_peer_set_load(&s, snap, strlen(snap), err, sizeof err);
	struct dnsd_config cfg = { .ttl = 60 };
	struct dnsd_world w = { .cfg = &cfg, .zone = "home.arpa.", .peers = s.v, .npeers = s.n };
	struct record_list list = { 0 };
	CHECK(sources_wg_peers(&w, &list, err, sizeof err) == 0 && list.n == 2, "two records");
	record_list_free(&list);
	wg_peer_set_free(&s);
	return tap_done();
}
