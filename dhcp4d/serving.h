/* The serving path of arbor-dhcp4d: one UDP socket per served interface (bound
 * to the device). Packets are read in batches (recvmmsg); each is decoded,
 * decided by the server state machine (server.c) and answered. An OFFER or a
 * NAK goes out with the batch (one sendmmsg); an ACK only after its lease
 * record is durable (lease_store.h). With conflict_probe.ping, an OFFER of an
 * address new to the client waits for an ICMP echo to that address to go
 * unanswered (conflict_probe.c); an answer quarantines the address and the
 * DISCOVER is decided again. */
#pragma once
#include <stddef.h>

#include "conflict_probe.h"
#include "dhcp4d.h"

/* Opens a server and its socket for every configured interface (resolving
 * "subnet": "auto" first); on failure nothing stays open (NULL, err says why).
 * Reading starts with serving_start. */
struct served *served_open(struct dhcp4d *h, const struct dhcp4d_config *cfg, char *err, size_t errlen);
/* Closes n served interfaces and frees the array. */
void served_close(struct served *all, size_t n);
struct served *served_by_ifname(struct dhcp4d *h, const char *ifname);
/* Starts reading every socket of h->served. */
void serving_start(struct dhcp4d *h);
/* Sends list[0..n) (entries with len 0 are skipped). */
void serving_send(struct dhcp4d *h, struct answer *list, size_t n);
/* Opens the ICMP socket if some server of cfg probes. */
void serving_probe_setup(struct dhcp4d *h, const struct dhcp4d_config *cfg);
/* conflict_probe_cb (ctx is h): a probe ended; answers the DISCOVER. */
void serving_probe_done(void *ctx, const struct conflict_probe_result *res);
