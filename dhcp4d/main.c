/* arbor-dhcp4d: the DHCPv4 server, crash-safe and fast, and the DHCP clients of
 * the machine's uplinks. This file is the wiring: the daemon's definition and
 * its start, reload and stop. The parts:
 *   serving.c      sockets, batches of packets, decisions, answers
 *   lease_store.c  the lease journal, group commit, lease events, expiry
 *   status.c       status, health, metrics, /v1/leases
 *   client/        the clients of the uplinks (uplink_set.c holds them all)
 * and the pure cores: server.c (RFC 2131 decisions), dhcp_wire.c (the codec),
 * client/client.c (the client's state machine). */
#include <stdio.h>
#include <stdlib.h>

#include "dhcp4d.h"
#include "lease_store.h"
#include "log.h"
#include "serving.h"
#include "status.h"
#include "uplink_set.h"
#include "xalloc.h"

/* Frees whatever of h exists (start may fail half way). The lease store goes
 * before the sockets: answers it still holds go out on them. */
static void dhcp4d_free(struct dhcp4d *h)
{
	uplink_set_close(h->uplinks, false);
	lease_store_close(h->store);
	served_close(h->served, h->nserved);
	conflict_probe_free(h->probe); /* probes still pending are dropped: their clients ask again */
	free(h->outbox);
	arbor_daemon_set_userdata(h->d, NULL);
	free(h);
}

static int dhcp4d_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	struct dhcp4d *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	h->outbox = xcalloc(ANSWERS_MAX, sizeof *h->outbox);
	h->probe = conflict_probe_new(arbor_daemon_base(d), serving_probe_done, h);
	const struct dhcp4d_config *cfg = arbor_daemon_config(d)->daemon;
	h->served = served_open(h, cfg, err, errlen);
	if (h->served == NULL) {
		dhcp4d_free(h);
		return -1;
	}
	h->nserved = cfg->nservers;
	h->store = lease_store_open(h, cfg->compact_records, err, errlen);
	if (h->store == NULL) {
		dhcp4d_free(h);
		return -1;
	}
	serving_probe_setup(h, cfg);
	serving_start(h);
	h->uplinks = uplink_set_open(d, cfg->clients, cfg->nclients, err, errlen);
	if (h->uplinks == NULL) {
		dhcp4d_free(h);
		return -1;
	}
	size_t leases = 0;
	for (size_t i = 0; i < h->nserved; i++)
		leases += h->served[i].srv.leases.count;
	log_info("serving %zu interfaces, %zu leases on record; %zu clients", h->nserved, leases,
		 uplink_set_count(h->uplinks));
	return 0;
}

static int dhcp4d_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct dhcp4d *h = dhcp4d_of(d);
	const struct dhcp4d_config *cfg = next->daemon;
	/* Open the new sets first: if any interface cannot be served, or a new or
	 * changed client cannot be opened, the reload is rejected and the old
	 * servers and clients keep running untouched. The new sockets share ports
	 * 67 and 68 with the old ones (SO_REUSEADDR) until those close. */
	struct uplink_plan *clients = uplink_set_prepare(h->uplinks, d, cfg->clients, cfg->nclients, next->machine.name,
							  err, errlen);
	if (clients == NULL)
		return -1;
	struct served *fresh = served_open(h, cfg, err, errlen);
	if (fresh == NULL) {
		uplink_set_abort(clients);
		return -1;
	}
	lease_store_drain(h->store); /* answers in flight still use the old sockets */
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct served *old = served_by_ifname(h, fresh[i].ifname);
		/* Same subnet: the leases carry over, whatever happened to the pools. */
		if (old && old->srv.spec->network == fresh[i].srv.spec->network &&
		    old->srv.spec->prefixlen == fresh[i].srv.spec->prefixlen)
			server_adopt_leases(&fresh[i].srv, &old->srv);
	}
	served_close(h->served, h->nserved);
	h->served = fresh;
	h->nserved = cfg->nservers;
	lease_store_compact_after(h->store, cfg->compact_records);
	/* Probes pending on the old servers end on the new ones (found by name). */
	serving_probe_setup(h, cfg);
	serving_start(h);
	uplink_set_commit(h->uplinks, d, clients);
	return 0;
}

static void dhcp4d_stop(struct arbor_daemon *d)
{
	struct dhcp4d *h = dhcp4d_of(d);
	if (h == NULL)
		return;
	uplink_set_close(h->uplinks, true);
	h->uplinks = NULL;
	dhcp4d_free(h); /* commits, answers and compacts the lease journal */
}

static int dhcp4d_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct dhcp4d *h = dhcp4d_of(d);
	lease_store_sweep(h->store);
	size_t renewed = uplink_set_renew(h->uplinks);
	snprintf(msg, msglen, "expired leases swept, journal committed; %zu of %zu clients renewing", renewed,
		 uplink_set_count(h->uplinks));
	return 0;
}

/* renew is the contract's own command (dhcp4d_renew: every client); these take
 * {"interface": "wan0"} or {} for every client. */
static void command_rebind(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	uplink_set_command(dhcp4d_of(d)->uplinks, req, resp, "rebind");
}

static void command_release(struct arbor_daemon *d, const struct arbor_http_request *req,
			    struct arbor_http_response *resp)
{
	uplink_set_command(dhcp4d_of(d)->uplinks, req, resp, "release");
}

static const struct arbor_command dhcp4d_commands[] = {
	{ "rebind", command_rebind },
	{ "release", command_release },
};

static const struct arbor_view dhcp4d_views[] = { { "/v1/leases", dhcp4d_view_leases } };

static const struct arbor_daemon_def dhcp4d_def = {
	.name = "dhcp4d",
	.binary = "arbor-dhcp4d",
	.summary = "DHCPv4 server (RFC 2131/2132) with a crash-safe lease journal, and DHCP clients for uplinks.",
	.parse = dhcp4d_config_parse,
	.free_config = dhcp4d_config_free,
	.start = dhcp4d_start,
	.reload = dhcp4d_reload,
	.stop = dhcp4d_stop,
	.renew = dhcp4d_renew,
	.status = dhcp4d_status,
	.health = dhcp4d_health,
	.metrics = dhcp4d_metrics,
	.views = dhcp4d_views,
	.nviews = sizeof dhcp4d_views / sizeof dhcp4d_views[0],
	.commands = dhcp4d_commands,
	.ncommands = sizeof dhcp4d_commands / sizeof dhcp4d_commands[0],
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&dhcp4d_def, argc, argv);
}
