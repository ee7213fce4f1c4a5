/* The state dnsd's parts share. main.c wires them: udp_serving.c (the serving
 * threads) and tcp_serving.c answer queries, relay.c hands what the answerer
 * cannot answer itself to the resolver and sends the result back, gather.c
 * collects the record sources' inputs and applies them to every thread's copy of
 * the zones, status.c reports. Everything here but the UDP threads' own fields
 * (udp_serving.h) belongs to the main loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "dns_wire.h"
#include "dnsd_config.h"

struct arbor_daemon;
struct gather;
struct resolver;
struct rrl;
struct tcp_serving;
struct udp_serving;

struct dnsd {
	struct arbor_daemon *d;
	const struct dnsd_config *cfg;
	char zone[ARBOR_DNS_NAME_TEXT_MAX]; /* absolute text */
	char machine_id[33];
	bool has_machine_id;
	/* The reverse zones' apexes (absolute text): the configured IPv4 ones, then the
	 * ULA /48's when the machine id is known. */
	char (*reverse)[ARBOR_DNS_NAME_TEXT_MAX];
	size_t nreverse;
	struct udp_serving *udp;
	struct tcp_serving *tcp;
	struct resolver *resolver;
	struct gather *gather;
	/* Response rate limiting (NULL: off); the serving threads read it and cfg
	 * under their locks, so both change only under udp_serving_lock_all. */
	struct rrl *rrl;
	struct dnsd_counters main_counters; /* replies sent from the main loop (TCP, resolved) */
	bool started;
};

/* The zone copy the main loop answers from (the first serving thread's: only the
 * main loop writes the copies, so it reads them without a lock). */
const struct zone_db *dnsd_main_db(const struct dnsd *h);

/* What the answerer needs to know about a client (inline: once per query). */
static inline struct dnsd_answer_opts dnsd_opts_for(const struct dnsd *h, const struct sockaddr *peer,
						    enum dnsd_transport t)
{
	return (struct dnsd_answer_opts){
		.transport = t,
		.allow_recursion = dnsd_net_contains(h->cfg->allow_recursion, h->cfg->nallow, peer),
		.recursion_available = h->cfg->nforwarders > 0,
	};
}
