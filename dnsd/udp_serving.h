/* dnsd's UDP serving threads. Each listen address has one socket per thread
 * (SO_REUSEPORT). The threads are not the daemon's libevent loop: each blocks in
 * recvmmsg (MSG_WAITFORONE) on its socket, so a wake-up costs one system call and
 * no event dispatch, and answers the batch with one sendmmsg. Each thread has its
 * own copy of the zone database (zone.h: not thread-safe), written only by the
 * main loop under the thread's lock (udp_serving_lock_all). What the answerer
 * hands back (a child's names with RD=1, names outside the tree) goes to the main
 * loop over a packet pipe and on to relay.c. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "answer.h"

struct dnsd;
struct udp_serving;
struct zone_db;

/* Opens every thread's sockets and gives each an empty zone database (the caller
 * adds the zones). The threads start with udp_serving_start. NULL with err. */
struct udp_serving *udp_serving_new(struct dnsd *h, unsigned threads, char *err, size_t errlen);
/* Starts the threads. Returns 0, or -1 with err (the threads started are stopped
 * by udp_serving_free). */
int udp_serving_start(struct udp_serving *u, char *err, size_t errlen);
/* Stops the threads and closes everything; NULL is fine. */
void udp_serving_free(struct udp_serving *u);

unsigned udp_serving_threads(const struct udp_serving *u);
struct zone_db *udp_serving_db(struct udp_serving *u, unsigned thread);
/* Holds every thread's lock: the zone copies may be written. */
void udp_serving_lock_all(struct udp_serving *u);
void udp_serving_unlock_all(struct udp_serving *u);

/* Adds the threads' counters to *sum. */
void udp_serving_counters(const struct udp_serving *u, struct dnsd_counters *sum);
/* Queries for the resolver that the pipe to the main loop could not take (full). */
uint64_t udp_serving_handoff_dropped(const struct udp_serving *u);
