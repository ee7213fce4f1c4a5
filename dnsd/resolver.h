/* dnsd's asynchronous resolver, on the daemon's libevent loop: what the answerer
 * (answer.h) hands on as RECURSE_CHILD or FORWARD is resolved here, and the final
 * upstream response goes back to the caller, which turns it into its client's
 * reply with dnsd_answer_from_upstream (or dnsd_answer_servfail on failure).
 *
 *   - RECURSE_CHILD: the question goes with RD=0 to the child's glue addresses
 *     (info->deleg, port child_port), each tried in turn on timeout; referrals to
 *     deeper zones (NS below the current zone in the authority section, with glue)
 *     are followed up to max_depth. An authoritative answer, NXDOMAIN or NODATA
 *     ends it. A referral without glue fails: names outside the tree are never
 *     resolved to find a name server.
 *   - FORWARD: the question goes with RD=1 to the forwarders, one at a time
 *     (those not marked down first); the first usable answer wins.
 *   - UDP, EDNS payload 1232, a fresh socket (so a random source port) and a random
 *     id per try; a response counts only when it comes from the address asked, with
 *     our id and our question (case-insensitively); TC=1 retries that server over
 *     TCP. SERVFAIL, REFUSED, NOTIMP, FORMERR and lame answers move on to the next
 *     server; so do timeouts (try_timeout each), within total_timeout in all.
 *   - The cache (cache.h) is asked first and keeps final answers; identical
 *     questions in flight (same cache key) share one upstream resolution.
 *   - Health: per forwarder and per child apex, consecutive failed tries (timeout,
 *     network error, malformed response); after RESOLVER_DOWN_AFTER the health
 *     callback says down, and the next success says up again.
 *
 * done is called exactly once per accepted request (resolver_resolve returned 0)
 * unless it is cancelled, always from the event loop, never from inside
 * resolver_resolve: with the response (valid until done returns) or with
 * resp == NULL on failure. The health callback is deferred the same way. Callbacks
 * may call resolver_resolve, resolver_cancel and resolver_cancel_all, not
 * resolver_free. Single-threaded: call everything from the loop's thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "answer.h"

#define RESOLVER_DOWN_AFTER 3   /* consecutive failed tries before "down" */
#define RESOLVER_MAX_FORWARDERS 16

typedef void resolver_done_fn(void *ctx, const uint8_t *resp, size_t len);

/* kind: "upstream" (name: the forwarder's address, "192.0.2.1:53",
 * "[2001:db8::1]:53") or "child" (name: the child zone's apex, "m1.lan0.home.arpa.").
 * Called on transitions only. */
typedef void resolver_health_fn(void *ctx, const char *kind, const char *name, bool up);

struct resolver_config {
	struct sockaddr_storage forwarders[RESOLVER_MAX_FORWARDERS]; /* AF_INET/AF_INET6, port 0: 53 */
	size_t nforwarders;
	uint16_t child_port;  /* port of the child name servers; 0: 53 */
	double try_timeout;   /* seconds per try; 0: 1 */
	double total_timeout; /* seconds per resolution; 0: 4 */
	unsigned max_depth;   /* referrals followed below the child's apex; 0: 8 */
	size_t cache_bytes;   /* 0: CACHE_DEFAULT_BYTES */
	uint32_t cache_max_ttl; /* 0: CACHE_DEFAULT_MAX_TTL */
	bool no_cache;
	unsigned max_inflight;  /* resolutions at once, beyond that requests fail; 0: 1024 */
	double reprobe_interval; /* seconds: a forwarder marked down is tried first again
				  * once this long after its last try; 0: 10 */
	resolver_health_fn *health; /* may be NULL; called from the event loop too */
	void *health_ctx;
};

struct resolver;

/* NULL with a message in err on bad configuration (or when libevent fails). */
struct resolver *resolver_new(struct event_base *base, const struct resolver_config *cfg, char *err, size_t errlen);

/* Starts resolving info->q (info->verdict RECURSE_CHILD or FORWARD, have_question
 * set); info is copied as needed and need not outlive the call. Returns 0 (done
 * will be called), -EINVAL for a NULL argument or another verdict, -ENOMEM when
 * libevent cannot arm the resolution's timers. */
int resolver_resolve(struct resolver *r, const struct dnsd_answer_info *info, resolver_done_fn *done, void *ctx);

/* Forgets every pending request whose ctx is ctx (its done will not be called),
 * e.g. when a TCP client goes away. Returns how many. */
size_t resolver_cancel(struct resolver *r, void *ctx);

/* Ends every resolution now; each pending request gets done(ctx, NULL, 0), called
 * from inside this function (the only exception to "from the event loop"). */
void resolver_cancel_all(struct resolver *r);

/* Frees everything; done is not called for requests still pending (call
 * resolver_cancel_all first to have them failed). Not from inside a callback. */
void resolver_free(struct resolver *r);

/* Drops the cache (the "renew" command). */
void resolver_flush_cache(struct resolver *r);

/* Adds to obj: "forwarders" [{address, state "up"/"down", tries, answers,
 * failures, consecutive_failures}], "children" [{apex, state, ...} for every child
 * zone asked so far], "cache" {entries, bytes, max_bytes, max_ttl, hits, misses,
 * inserts, uncacheable, evictions, expired} (null when disabled), and "resolver"
 * {requests, cache_hits, coalesced, resolutions, inflight, answered, failed,
 * timeouts, ignored_responses, tcp_retries, referrals, overload}. */
void resolver_status(const struct resolver *r, cJSON *obj);
