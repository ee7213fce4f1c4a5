/* What the files of arbor-dhcp4d share: the daemon's state, one struct made by
 * main.c (the wiring) and worked on by the serving path (serving.c), the lease
 * store (lease_store.c) and status (status.c). The pure parts (server.c, the
 * codec, the client's state machine) never see it. */
#pragma once
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "conflict_probe.h"
#include "daemon.h"
#include "dhcp_wire.h"
#include "dgram_batch.h"
#include "server.h"

/* Packets are read BATCH at a time, up to ROUNDS batches per wake-up
 * (common/dgram_batch.h), and up to ANSWERS_MAX answers wait for one journal
 * commit: the more a wake-up reads before committing, the fewer fsyncs per
 * lease under load. */
enum { BATCH = ARBOR_DGRAM_BATCH, ROUNDS = ARBOR_DGRAM_ROUNDS, ANSWERS_MAX = BATCH * ROUNDS, REPLY_MAX = 1024 };

struct dhcp4d;
struct lease_store;
struct uplink_set;

/* One served interface: its server state machine and its socket. */
struct served {
	struct dhcp4d *h;
	struct server srv;
	char ifname[IF_NAMESIZE];
	int fd;
	struct event *ev;
	double last_exhausted_event;
	uint64_t probes_sent, probes_skipped; /* conflicts: srv.conflicts */
};

/* An answer on its way out: in the outbox (OFFER, NAK, INFORM's ACK: sent after
 * the batch read), or a group commit slot (an ACK, or only the event of a
 * RELEASE, DECLINE or conflict: sent after its lease record is durable). The
 * lease is copied: the table may change before the commit completes. */
struct answer {
	struct served *sv;
	struct sockaddr_in to;
	uint8_t pkt[REPLY_MAX];
	size_t len; /* 0: nothing to send */
	struct lease lease;
	enum lease_event event;
};

struct packet_counters {
	uint64_t received, malformed, ignored, sent, send_errors;
};

struct dhcp4d {
	struct arbor_daemon *d;
	struct served *served; /* one per dhcp4d.servers[] entry */
	size_t nserved;
	struct lease_store *store;
	struct conflict_probe *probe; /* the ICMP socket and the pending probes */
	struct uplink_set *uplinks;   /* the clients of the uplinks */
	/* Answers that need no commit, sent together with one sendmmsg after each
	 * batch read. */
	struct answer *outbox;
	size_t noutbox;
	struct packet_counters packets;
	struct dhcp_message msg; /* 16 KiB decode buffer, reused */
};

static inline struct dhcp4d *dhcp4d_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}
