/* The serving path (see serving.h): sockets, batches in and out, decoding, the
 * server's decisions, and the glue to the conflict probe. */
#include "serving.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "interface_subnet.h"
#include "json.h"
#include "lease_store.h"
#include "log.h"
#include "reply.h"
#include "xalloc.h"

/* Conflict probes per DISCOVER: after this many addresses in a row answered a
 * ping, stay silent (the client asks again). */
enum { PROBE_ROUNDS = 3, RCVBUF_BYTES = 256 << 10 };

struct served *served_by_ifname(struct dhcp4d *h, const char *ifname)
{
	for (size_t i = 0; ifname && i < h->nserved; i++)
		if (strcmp(h->served[i].ifname, ifname) == 0)
			return &h->served[i];
	return NULL;
}

/* ---- answers out ---- */

/* One sendmmsg per run of entries on the same socket. */
void serving_send(struct dhcp4d *h, struct answer *list, size_t n)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t i = 0;
	while (i < n) {
		struct served *sv = NULL;
		unsigned k = 0;
		for (; i < n && k < BATCH; i++) {
			struct answer *p = &list[i];
			if (p->len == 0)
				continue;
			if (sv && p->sv != sv)
				break;
			sv = p->sv;
			iov[k].iov_base = p->pkt;
			iov[k].iov_len = p->len;
			memset(&msgs[k], 0, sizeof msgs[k]);
			msgs[k].msg_hdr.msg_name = &p->to;
			msgs[k].msg_hdr.msg_namelen = sizeof p->to;
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		unsigned done = 0;
		while (sv && done < k) {
			int rc = sendmmsg(sv->fd, msgs + done, k - done, 0);
			if (rc <= 0) {
				/* One bad destination must not hold back the rest: skip it. */
				h->packets.send_errors++;
				log_debug("%s: send: %s", sv->ifname, strerror(errno));
				done++;
				continue;
			}
			h->packets.sent += (unsigned)rc;
			done += (unsigned)rc;
		}
	}
}

/* RFC 2131 §4.1: where an answer goes. A client with no address yet whose
 * broadcast bit is clear should get a unicast to its hardware address; we
 * broadcast instead (every client accepts that), which needs no ARP injection. */
static struct sockaddr_in destination(const struct dhcp_message *req, int type)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(68) };
	if (req->giaddr.s_addr) {
		to.sin_addr = req->giaddr;
		to.sin_port = htons(67);
	} else if (type != DHCP_NAK && req->ciaddr.s_addr) {
		to.sin_addr = req->ciaddr;
	} else {
		to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	}
	return to;
}

static void flush_outbox(struct dhcp4d *h)
{
	serving_send(h, h->outbox, h->noutbox);
	h->noutbox = 0;
}

/* An answer that needs no commit (OFFER, NAK, INFORM's ACK) into the outbox. */
static void queue_reply(struct dhcp4d *h, struct served *sv, const struct dhcp_message *m,
			const struct dhcp_decision *d)
{
	if (h->noutbox == ANSWERS_MAX)
		flush_outbox(h);
	struct answer *o = &h->outbox[h->noutbox];
	int n = reply_build(&sv->srv, m, d, o->pkt, sizeof o->pkt);
	if (n < 0) {
		log_warn("%s: cannot build the reply: %s", sv->ifname, strerror(-n));
		return;
	}
	o->sv = sv;
	o->len = (size_t)n;
	o->to = destination(m, d->reply);
	h->noutbox++;
}

/* ---- requests in ---- */

/* A decoded request: the state machine's view of it and the buffers the view
 * points into. */
struct request {
	struct dhcp_request_view rq;
	uint8_t key[DHCP_LEASE_KEY_MAX];
	char hostname[DHCP_HOSTNAME_MAX + 1];
	char vendor[256];
};

/* Decodes pkt into h->msg and r; -1 when it is dropped (counted). */
static int decode_request(struct dhcp4d *h, struct served *sv, const uint8_t *pkt, size_t len, struct request *r)
{
	char err[200];
	struct dhcp_message *m = &h->msg;
	if (dhcp_parse(pkt, len, m, err, sizeof err) != 0) {
		h->packets.malformed++;
		log_debug("%s: dropped a malformed packet: %s", sv->ifname, err);
		return -1;
	}
	if (m->op != DHCP_OP_REQUEST || m->type == 0) {
		h->packets.ignored++;
		return -1;
	}
	int key_len = dhcp_lease_key(m, r->key, sizeof r->key);
	bool sanitized = false;
	size_t vclen = 0;
	const uint8_t *vc = dhcp_vendor_class(m, &vclen);
	r->hostname[0] = '\0';
	r->vendor[0] = '\0';
	if (vc) {
		memcpy(r->vendor, vc, vclen < 255 ? vclen : 255);
		r->vendor[vclen < 255 ? vclen : 255] = '\0';
	}
	struct in_addr requested = { 0 }, server_id = { 0 };
	dhcp_requested_ip(m, &requested);
	dhcp_server_id(m, &server_id);
	if (key_len <= 0 || key_len > LEASE_KEY_MAX) {
		h->packets.malformed++;
		return -1;
	}
	r->rq = (struct dhcp_request_view){
		.type = m->type,
		.ciaddr = ntohl(m->ciaddr.s_addr),
		.giaddr = ntohl(m->giaddr.s_addr),
		.requested = ntohl(requested.s_addr),
		.server_id = ntohl(server_id.s_addr),
		.key = r->key,
		.key_len = (size_t)key_len,
		.mac = m->chaddr,
		.mac_len = m->hlen,
		.hostname = dhcp_hostname(m, r->hostname, &sanitized) > 0 ? r->hostname : NULL,
		.vendor_class = vc ? r->vendor : NULL,
	};
	/* A relayed packet belongs to the subnet of its giaddr; one relayed for
	 * another subnet is not ours. */
	if (r->rq.giaddr && !lease_table_contains(&sv->srv.leases, r->rq.giaddr)) {
		h->packets.ignored++;
		return -1;
	}
	return 0;
}

/* The OFFER of d waits for a conflict probe of its address (round of PROBE_ROUNDS
 * for this DISCOVER). False: it cannot (too many pending, no ICMP socket), and
 * the offer goes out unprobed. */
static bool probe_offer(struct dhcp4d *h, struct served *sv, const struct dhcp_decision *d, const uint8_t *pkt,
			size_t len, const struct request *r, unsigned round)
{
	struct conflict_probe_req pr = {
		.ifname = sv->ifname, .addr = d->yiaddr, .timeout = sv->srv.spec->probe_timeout,
		.key = r->rq.key, .key_len = r->rq.key_len, .pkt = pkt, .len = len, .round = round,
	};
	char err[256] = "";
	int rc = conflict_probe_start(h->probe, &pr, err, sizeof err);
	if (rc == CONFLICT_PROBE_STARTED) {
		sv->probes_sent++;
		return true;
	}
	sv->probes_skipped++;
	char addr[16];
	format_ipv4(d->yiaddr, addr, sizeof addr);
	if (rc == CONFLICT_PROBE_FULL)
		log_debug("%s: %d conflict probes pending: %s offered without one", sv->ifname, CONFLICT_PROBE_MAX, addr);
	else
		log_debug("%s: conflict probe: %s: %s offered without one", sv->ifname, err, addr);
	return false;
}

/* pool.exhausted, at most one per ten seconds: a flood must not flood the log too. */
static void exhausted_event(struct dhcp4d *h, struct served *sv, double now)
{
	if (now - sv->last_exhausted_event <= 10)
		return;
	sv->last_exhausted_event = now;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", sv->ifname);
	arbor_json_add_int(data, "pool_size", (long long)server_pool_size(&sv->srv));
	arbor_json_add_int(data, "bound", (long long)sv->srv.leases.bound);
	arbor_event_emit(arbor_daemon_events(h->d), "pool.exhausted", "warning", sv->ifname, data,
			 "%s: no free address for a client", sv->ifname);
}

/* A quarantine record belongs to nobody; its event names the client it concerns
 * (the one that declined the address, or the one it was meant for). */
static void name_client(struct lease *l, const struct request *r)
{
	memcpy(l->key, r->rq.key, r->rq.key_len);
	l->key_len = (uint8_t)r->rq.key_len;
	l->mac_len = (uint8_t)(r->rq.mac_len < sizeof l->mac ? r->rq.mac_len : sizeof l->mac);
	memcpy(l->mac, r->rq.mac, l->mac_len);
	snprintf(l->hostname, sizeof l->hostname, "%s", r->rq.hostname ? r->rq.hostname : "");
}

/* Decides the request r (decoded from pkt into h->msg) and answers it, now or
 * after the commit or a conflict probe. round: conflict probes this DISCOVER
 * has had, plus one. */
static void decide(struct dhcp4d *h, struct served *sv, const uint8_t *pkt, size_t len, const struct request *r,
		   unsigned round)
{
	const struct dhcp_message *m = &h->msg;
	struct dhcp_decision d;
	double now = arbor_time_wall();
	server_handle(&sv->srv, &r->rq, now, &d);
	if (d.event == EVENT_EXHAUSTED)
		exhausted_event(h, sv, now);
	if (d.journal)
		lease_store_record(h->store, sv, d.journal);
	if (d.reply == 0) {
		if (d.event == EVENT_DECLINED || d.event == EVENT_RELEASED) {
			/* No answer to wait for: the event follows the commit like an ACK's. */
			struct answer *a = lease_store_answer(h->store);
			a->sv = sv;
			a->lease = *d.journal;
			a->event = d.event;
			if (d.event == EVENT_DECLINED)
				name_client(&a->lease, r);
		}
		return;
	}
	if (d.reply == DHCP_ACK && d.journal) {
		struct lease copy = *d.journal;
		struct answer *a = lease_store_answer(h->store);
		int n = reply_build(&sv->srv, m, &d, a->pkt, sizeof a->pkt);
		if (n < 0) {
			/* The answer stays empty: nothing is sent, no event. */
			log_warn("%s: cannot build the reply: %s", sv->ifname, strerror(-n));
			return;
		}
		a->sv = sv;
		a->len = (size_t)n;
		a->to = destination(m, d.reply);
		a->lease = copy;
		a->event = d.event;
		return;
	}
	if (d.reply == DHCP_OFFER && d.probe && probe_offer(h, sv, &d, pkt, len, r, round))
		return; /* serving_probe_done answers */
	queue_reply(h, sv, m, &d);
}

static void handle_packet(struct dhcp4d *h, struct served *sv, const uint8_t *pkt, size_t len)
{
	h->packets.received++;
	struct request r;
	if (decode_request(h, sv, pkt, len, &r) != 0)
		return;
	/* A DISCOVER retransmitted while its offer's address is being probed: the
	 * probe's end answers it (with this copy's xid). */
	if (r.rq.type == DHCP_DISCOVER && conflict_probe_update(h->probe, sv->ifname, r.rq.key, r.rq.key_len, pkt, len))
		return;
	decide(h, sv, pkt, len, &r, 1);
}

/* A conflict probe ended. No answer: the offer goes out (if it is still this
 * client's). An answer: the address is quarantined (journalled, lease.conflict
 * after the commit) and the same DISCOVER is decided again — another address,
 * probed again, up to PROBE_ROUNDS; then silence, and the client retries. */
void serving_probe_done(void *ctx, const struct conflict_probe_result *res)
{
	struct dhcp4d *h = ctx;
	struct served *sv = served_by_ifname(h, res->ifname);
	struct request r;
	if (sv == NULL || decode_request(h, sv, res->pkt, res->len, &r) != 0)
		return; /* the interface is no longer served (a reload) */
	char addr[16];
	format_ipv4(res->addr, addr, sizeof addr);
	double now = arbor_time_wall();
	struct dhcp_decision d;
	if (!res->conflict) {
		server_probe_passed(&sv->srv, &r.rq, res->addr, now, &d);
		if (d.reply == 0)
			log_debug("%s: %s: %s", sv->ifname, addr, d.reason);
		else
			queue_reply(h, sv, &h->msg, &d);
		flush_outbox(h);
		return;
	}
	server_conflict(&sv->srv, res->addr, now, &d);
	if (d.event == EVENT_CONFLICT) {
		lease_store_record(h->store, sv, d.journal);
		struct answer *a = lease_store_answer(h->store);
		a->sv = sv;
		a->lease = *d.journal;
		name_client(&a->lease, &r);
		a->event = EVENT_CONFLICT;
	} else {
		log_info("%s: %s answered a ping: %s", sv->ifname, addr, d.reason);
	}
	if (res->round < PROBE_ROUNDS)
		decide(h, sv, res->pkt, res->len, &r, res->round + 1);
	else
		log_warn("%s: %u addresses in a row answered a ping: no offer to this DISCOVER", sv->ifname,
			 (unsigned)PROBE_ROUNDS);
	flush_outbox(h);
	lease_store_flush(h->store);
}

/* The ICMP socket, when some server probes: bound to the interface if only
 * one does. Failing is not fatal: offers then go out unprobed (counted as
 * skipped, and health says why). */
void serving_probe_setup(struct dhcp4d *h, const struct dhcp4d_config *cfg)
{
	size_t n = 0;
	const char *only = NULL;
	for (size_t i = 0; i < cfg->nservers; i++)
		if (cfg->servers[i].probe_ping) {
			n++;
			only = cfg->servers[i].interface;
		}
	char err[256];
	if (n && conflict_probe_open(h->probe, n == 1 ? only : NULL, err, sizeof err) != 0)
		log_warn("conflict probe: %s", err);
}

static void on_datagram(void *arg, const uint8_t *pkt, size_t len, bool truncated, const struct sockaddr_storage *from)
{
	(void)from; /* the answer's destination comes from the message (RFC 2131 4.1) */
	struct served *sv = arg;
	if (truncated)
		sv->h->packets.malformed++;
	else
		handle_packet(sv->h, sv, pkt, len);
}

/* Offers go out with each batch read, not after all of them: a client's next
 * step waits on its offer. */
static void on_batch(void *arg)
{
	struct served *sv = arg;
	flush_outbox(sv->h);
}

/* Several batches per wake-up, one commit for all of them. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct served *sv = arg;
	arbor_dgram_read(fd, 1500, on_datagram, on_batch, sv);
	lease_store_flush(sv->h->store);
}

/* ---- sockets ---- */

static int open_socket(struct served *sv, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(67) };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sv->ifname, (socklen_t)strlen(sv->ifname)) != 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) != 0) {
		snprintf(err, errlen, "%s: DHCP socket: %s", sv->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The queue holds a burst (a rack powering on: some hundreds of requests)
	 * but not seconds of overload: answers served from a deep queue all come too
	 * late, clients retry, and the server spends itself on stale requests (with
	 * 4 MiB, throughput under a 25% CPU cap fell to a fifth). FORCE passes
	 * net.core.rmem_max (we have CAP_NET_ADMIN), else ask. */
	arbor_socket_set_rcvbuf(fd, RCVBUF_BYTES);
	return fd;
}

void served_close(struct served *all, size_t n)
{
	for (size_t i = 0; all && i < n; i++) {
		struct served *sv = &all[i];
		if (sv->ev)
			event_free(sv->ev);
		if (sv->fd >= 0)
			close(sv->fd);
		server_free(&sv->srv);
	}
	free(all);
}

struct served *served_open(struct dhcp4d *h, const struct dhcp4d_config *cfg, char *err, size_t errlen)
{
	struct served *all = xcalloc(cfg->nservers, sizeof *all);
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct served *sv = &all[i];
		const struct server_spec *spec = &cfg->servers[i];
		sv->h = h;
		sv->fd = -1;
		snprintf(sv->ifname, sizeof sv->ifname, "%s", spec->interface);
		uint32_t server_id;
		int rc = 0;
		if (spec->subnet_auto)
			rc = interface_auto_subnet(arbor_daemon_state_dir(h->d), (struct server_spec *)spec, err, errlen);
		if (rc == 0)
			rc = interface_server_id(spec, &server_id, err, errlen);
		if (rc == 0)
			rc = server_spec_check_reservations(spec, i, server_id, err, errlen);
		if (rc == 0 && server_init(&sv->srv, spec, server_id) != 0) {
			snprintf(err, errlen, "%s: a /%u subnet cannot be served", spec->interface, spec->prefixlen);
			rc = -1;
		}
		if (rc == 0 && (sv->fd = open_socket(sv, err, errlen)) < 0)
			rc = -1;
		if (rc != 0) {
			served_close(all, i + 1);
			return NULL;
		}
		sv->ev = event_new(arbor_daemon_base(h->d), sv->fd, EV_READ | EV_PERSIST, on_readable, sv);
	}
	return all;
}

void serving_start(struct dhcp4d *h)
{
	for (size_t i = 0; i < h->nserved; i++)
		event_add(h->served[i].ev, NULL);
}
