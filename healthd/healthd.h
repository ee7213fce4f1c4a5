/* healthd's run-time state, shared by the scheduler, the probes and the actions. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "check.h"
#include "daemon.h"
#include <cjson/cJSON.h>

struct icmp_socket;
struct exec_child;

struct healthd {
	struct arbor_daemon *d;
	struct event_base *base;
	struct evdns_base *dns; /* NULL when the system has no resolver config */
	struct check *checks;
	size_t nchecks;
	struct icmp_socket *icmp_sockets;
	struct exec_child *children;
	unsigned running_programs;
	struct event *sigchld;
	/* scheduling delay of probes (how late they start), a ring of recent samples */
	double delays[4096];
	size_t ndelays, delay_pos;
	uint64_t probes_started, probes_skipped, actions_run, actions_failed;
	uint16_t icmp_seq;
	struct event *save;     /* writes state.json on the next loop turn */
	cJSON *restored;        /* state.json as found at start, until applied */
};

/* Called by every probe kind exactly once per probe. */
void healthd_probe_done(struct check *c, bool ok, double latency, const char *error);
const struct healthd_config *healthd_config(struct healthd *hd);
