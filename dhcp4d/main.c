/* arbor-dhcp4d: the DHCPv4 server, crash-safe and fast, and the DHCP clients of
 * the machine's uplinks (uplink.c; the state machine is client.c).
 *
 * One UDP socket per served interface (bound to the device). Packets are read
 * in batches; each is decoded, decided by the server state machine, and
 * answered. An OFFER or a NAK goes out at once; an ACK only after its lease
 * record is in the journal and the journal is fdatasync'ed — one sync for the
 * whole batch (group commit), so many leases share each fsync under load.
 * With conflict_probe.ping, an OFFER of an address new to the client waits for
 * an ICMP echo to that address to go unanswered (conflict_probe.c); an answer
 * quarantines the address and the DISCOVER is decided again. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conflict_probe.h"
#include "daemon.h"
#include "dhcp_wire.h"
#include "ipv4_alloc.h"
#include "ipv4_alloc_kernel.h"
#include "journal.h"
#include "json.h"
#include "lease_record.h"
#include "log.h"
#include "netlink.h"
#include "reply.h"
#include "server.h"
#include "statefile.h"
#include "syncer.h"
#include "clock.h"
#include "uplink.h"
#include "xalloc.h"

/* Up to PENDING_MAX answers wait for one journal commit: the more packets a
 * wake-up reads before committing, the fewer fsyncs per lease under load. */
enum { BATCH = 64, ROUNDS = 4, PENDING_MAX = BATCH * ROUNDS, REPLY_MAX = 1024, RCVBUF_BYTES = 256 << 10 };
/* Conflict probes per DISCOVER: after this many addresses in a row answered a
 * ping, stay silent (the client asks again). */
enum { PROBE_ROUNDS = 3 };

struct dhcp4d;

struct served {
	struct dhcp4d *h;
	struct server srv;
	char ifname[IF_NAMESIZE];
	int fd;
	struct event *ev;
	double last_exhausted_event;
	uint64_t probes_sent, probes_skipped; /* conflicts: srv.conflicts */
};

/* An answer (or just an event) waiting for its lease record to be durable.
 * The lease is copied: the table may change before the commit completes. */
struct pending_ack {
	struct served *sv;
	struct sockaddr_in to;
	uint8_t pkt[REPLY_MAX];
	size_t len; /* 0: nothing to send (RELEASE, DECLINE) */
	struct lease lease;
	enum lease_event event;
};

struct dhcp4d {
	struct arbor_daemon *d;
	struct served *served;
	size_t nserved;
	struct arbor_journal *journal;
	struct event *expiry;
	uint64_t records_since_compaction;
	/* Two lists: answers collecting for the next commit, and those whose
	 * commit is being synced on the worker (syncer.h). */
	struct pending_ack *pending, *inflight;
	size_t npending, ninflight;
	struct arbor_syncer *syncer;
	bool stopping;
	/* Answers that need no commit (OFFER, NAK, INFORM), sent together with
	 * one sendmmsg after each batch read. */
	struct pending_ack *outbox;
	size_t noutbox;
	uint64_t received, malformed, ignored, sent, send_errors, commit_errors, commits;
	/* The clients: one per uplink, with one netlink socket and one link
	 * monitor (carrier) between them. */
	struct uplink **uplinks;
	size_t nuplinks;
	struct arbor_nl *nl;
	struct arbor_nl_monitor *monitor;
	struct event *monitor_ev;
	struct conflict_probe *probe; /* the ICMP socket and the pending probes */
	struct dhcp_message msg; /* 16 KiB decode buffer, reused */
	struct arbor_buf record; /* one journal record, reused */
};

static struct dhcp4d *dhcp4d_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

static const struct dhcp4d_config *config(struct dhcp4d *h)
{
	return arbor_daemon_config(h->d)->daemon;
}

/* ---- events ---- */

/* The data every lease event carries; addr and mac (16 and 64 bytes) are filled
 * for the event's text. */
static cJSON *lease_event_data(const struct served *sv, const struct lease *l, char *addr, char *mac)
{
	char cid[200];
	format_ipv4(l->addr, addr, 16);
	lease_hex(l->mac, l->mac_len, mac, 64);
	lease_hex(l->key, l->key_len, cid, sizeof cid);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", sv->ifname);
	cJSON_AddStringToObject(data, "address", addr);
	cJSON_AddStringToObject(data, "mac", mac);
	cJSON_AddStringToObject(data, "client_id", cid);
	cJSON_AddStringToObject(data, "hostname", l->hostname);
	return data;
}

static void lease_event(struct dhcp4d *h, const struct served *sv, const struct lease *l, const char *type,
			const char *severity)
{
	char addr[16], mac[64];
	cJSON *data = lease_event_data(sv, l, addr, mac);
	arbor_json_add_fixed(data, "ends", l->ends, 3);
	arbor_event_emit(arbor_daemon_events(h->d), type, severity, addr, data, "%s %s to %s%s%s", type + 6, addr, mac,
			 l->hostname[0] ? " " : "", l->hostname);
}

/* lease.conflict: l is the quarantine record with the identity of the client
 * the address was meant for. */
static void conflict_event(struct dhcp4d *h, const struct served *sv, const struct lease *l)
{
	char addr[16], mac[64];
	cJSON *data = lease_event_data(sv, l, addr, mac);
	arbor_json_add_fixed(data, "quarantined_until", l->ends, 3);
	arbor_event_emit(arbor_daemon_events(h->d), "lease.conflict", "warning", addr, data,
			 "%s answered a ping on %s: in use by a host we do not know; quarantined, not offered to %s", addr,
			 sv->ifname, mac);
}

static const char *event_type(enum lease_event e)
{
	switch (e) {
	case EVENT_BOUND: return "lease.bound";
	case EVENT_RENEWED: return "lease.renewed";
	case EVENT_RELEASED: return "lease.released";
	case EVENT_DECLINED: return "lease.declined";
	default: return NULL;
	}
}

/* ---- persistence ---- */

static void journal_lease(struct dhcp4d *h, const struct served *sv, const struct lease *l)
{
	h->record.len = 0;
	lease_record_write(&h->record, sv->ifname, l);
	arbor_journal_append_text(h->journal, h->record.data, h->record.len);
	h->records_since_compaction++;
}

/* The snapshot is streamed into text one lease at a time, then the freed
 * memory is handed back (glibc keeps it otherwise): RSS stays near what the
 * lease table needs. One lease per line, so `jq` and `grep` both read it. */
static void lease_snapshot(void *ctx, struct arbor_buf *text)
{
	struct dhcp4d *h = ctx;
	arbor_buf_puts(text, "{\"leases\":[");
	bool first = true;
	for (size_t i = 0; i < h->nserved; i++) {
		const struct lease_table *t = &h->served[i].srv.leases;
		for (uint32_t k = 0; k < t->size; k++) {
			if (t->by_addr[k] == NULL || t->by_addr[k]->state == LEASE_OFFERED)
				continue;
			arbor_buf_puts(text, first ? "\n" : ",\n");
			lease_record_write(text, h->served[i].ifname, t->by_addr[k]);
			first = false;
		}
	}
	arbor_buf_puts(text, "\n]}");
}

static void compact(struct dhcp4d *h)
{
	struct arbor_buf text = { 0 };
	lease_snapshot(h, &text);
	char err[256];
	if (arbor_journal_compact_text(h->journal, text.data, text.len, err, sizeof err) != 0)
		log_err("compaction: %s", err);
	else
		h->records_since_compaction = 0;
	arbor_buf_free(&text);
	malloc_trim(0);
}

static void maybe_compact(struct dhcp4d *h)
{
	/* Never while a sync is in flight: compaction replaces the journal file. */
	if (h->records_since_compaction >= config(h)->compact_records &&
	    !(h->syncer && arbor_syncer_busy(h->syncer)))
		compact(h);
}

static struct served *served_by_ifname(struct dhcp4d *h, const char *ifname)
{
	for (size_t i = 0; ifname && i < h->nserved; i++)
		if (strcmp(h->served[i].ifname, ifname) == 0)
			return &h->served[i];
	return NULL;
}

static int replay_snapshot(void *ctx, const cJSON *data)
{
	struct dhcp4d *h = ctx;
	const cJSON *leases = cJSON_GetObjectItemCaseSensitive(data, "leases");
	for (const cJSON *rec = leases ? leases->child : NULL; rec; rec = rec->next) {
		struct served *sv = served_by_ifname(h, lease_record_interface(rec));
		char err[200];
		if (sv == NULL || lease_record_apply(&sv->srv.leases, rec, err, sizeof err) != 0)
			h->records_since_compaction++; /* dropped at the next compaction */
	}
	return 0;
}

static int replay_record(void *ctx, const cJSON *rec)
{
	struct dhcp4d *h = ctx;
	h->records_since_compaction++;
	struct served *sv = served_by_ifname(h, lease_record_interface(rec));
	char err[200];
	if (sv && lease_record_apply(&sv->srv.leases, rec, err, sizeof err) != 0)
		log_warn("lease journal: %s", err);
	return 0;
}

/* ---- the wire ---- */

/* Sends list[0..n) (entries with len 0 are skipped), one sendmmsg per run of
 * entries on the same socket. */
static void send_replies(struct dhcp4d *h, struct pending_ack *list, size_t n)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t i = 0;
	while (i < n) {
		struct served *sv = NULL;
		unsigned k = 0;
		for (; i < n && k < BATCH; i++) {
			struct pending_ack *p = &list[i];
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
				h->send_errors++;
				log_debug("%s: send: %s", sv->ifname, strerror(errno));
				done++;
				continue;
			}
			h->sent += (unsigned)rc;
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
	} else if (type != DHCPNAK && req->ciaddr.s_addr) {
		to.sin_addr = req->ciaddr;
	} else {
		to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	}
	return to;
}

static void deliver(struct dhcp4d *h, struct pending_ack *list, size_t n)
{
	send_replies(h, list, n);
	for (size_t i = 0; i < n; i++) {
		struct pending_ack *p = &list[i];
		const char *type = event_type(p->event);
		if (p->event == EVENT_CONFLICT)
			conflict_event(h, p->sv, &p->lease);
		else if (type)
			lease_event(h, p->sv, &p->lease, type, "info");
	}
}

static void flush_pending(struct dhcp4d *h);

static void on_synced(void *ctx, int rc)
{
	struct dhcp4d *h = ctx;
	if (rc != 0) {
		/* Not durable: acknowledge nothing. The clients retry. */
		h->commit_errors++;
		log_err("lease journal: fdatasync: %s: %zu acknowledgements withheld", strerror(-rc), h->ninflight);
		arbor_journal_sync_failed(h->journal, rc); /* rewritten from memory before the next ACK */
	} else {
		h->commits++;
		deliver(h, h->inflight, h->ninflight);
	}
	h->ninflight = 0;
	maybe_compact(h); /* no sync in flight now: the journal may be replaced */
	flush_pending(h); /* what arrived meanwhile goes in the next commit */
}

/* Commits what is pending. While a sync is in flight, new answers keep
 * collecting and go with the next one (pipelined group commit); at stop and
 * without a worker the commit is synchronous. */
static void flush_pending(struct dhcp4d *h)
{
	if (h->syncer && arbor_syncer_busy(h->syncer))
		return;
	if (h->npending == 0 && arbor_journal_pending(h->journal) == 0)
		return;
	char err[256];
	int rc = arbor_journal_write(h->journal, err, sizeof err);
	if (rc == 0 && (h->stopping || h->syncer == NULL)) {
		rc = arbor_journal_commit(h->journal, err, sizeof err);
		if (rc == 0) {
			h->commits++;
			deliver(h, h->pending, h->npending);
			h->npending = 0;
			return;
		}
	}
	if (rc != 0) {
		h->commit_errors++;
		log_err("lease journal: %s: %zu acknowledgements withheld", err, h->npending);
		h->npending = 0;
		return;
	}
	struct pending_ack *t = h->inflight;
	h->inflight = h->pending;
	h->ninflight = h->npending;
	h->pending = t;
	h->npending = 0;
	arbor_syncer_start(h->syncer, arbor_journal_fd(h->journal), on_synced, h);
}

/* Everything pending and in flight is durable and answered when this returns. */
static void drain(struct dhcp4d *h)
{
	flush_pending(h);
	while (h->syncer && arbor_syncer_busy(h->syncer))
		arbor_syncer_wait(h->syncer);
}

static struct pending_ack *next_pending(struct dhcp4d *h)
{
	if (h->npending == PENDING_MAX) {
		/* Full: wait for the sync in flight, then commit this batch now. */
		drain(h);
		bool was = h->stopping;
		h->stopping = true;
		flush_pending(h);
		h->stopping = was;
	}
	struct pending_ack *p = &h->pending[h->npending];
	memset(p, 0, offsetof(struct pending_ack, pkt));
	p->len = 0;
	return p;
}

static void flush_outbox(struct dhcp4d *h)
{
	send_replies(h, h->outbox, h->noutbox);
	h->noutbox = 0;
}

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
		h->malformed++;
		log_debug("%s: dropped a malformed packet: %s", sv->ifname, err);
		return -1;
	}
	if (m->op != DHCP_OP_REQUEST || m->type == 0) {
		h->ignored++;
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
		h->malformed++;
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
		h->ignored++;
		return -1;
	}
	return 0;
}

/* An answer that needs no commit (OFFER, NAK, INFORM's ACK) into the outbox. */
static void queue_reply(struct dhcp4d *h, struct served *sv, const struct dhcp_message *m,
			const struct dhcp_decision *d)
{
	if (h->noutbox == PENDING_MAX)
		flush_outbox(h);
	struct pending_ack *o = &h->outbox[h->noutbox];
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
	if (d.event == EVENT_EXHAUSTED && now - sv->last_exhausted_event > 10) {
		/* One event per ten seconds: a flood must not flood the log too. */
		sv->last_exhausted_event = now;
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "interface", sv->ifname);
		arbor_json_add_int(data, "pool_size", (long long)server_pool_size(&sv->srv));
		arbor_json_add_int(data, "bound", (long long)sv->srv.leases.bound);
		arbor_event_emit(arbor_daemon_events(h->d), "pool.exhausted", "warning", sv->ifname, data,
				 "%s: no free address for a client", sv->ifname);
	}
	if (d.journal)
		journal_lease(h, sv, d.journal);
	if (d.reply == 0) {
		if (d.event == EVENT_DECLINED || d.event == EVENT_RELEASED) {
			/* No answer to wait for: the event follows the commit like an ACK's. */
			struct pending_ack *p = next_pending(h);
			p->sv = sv;
			p->lease = *d.journal;
			p->event = d.event;
			h->npending++;
		}
		return;
	}
	if (d.reply == DHCPACK && d.journal) {
		struct lease copy = *d.journal;
		struct pending_ack *p = next_pending(h);
		int n = reply_build(&sv->srv, m, &d, p->pkt, sizeof p->pkt);
		if (n < 0) {
			log_warn("%s: cannot build the reply: %s", sv->ifname, strerror(-n));
			return;
		}
		p->sv = sv;
		p->len = (size_t)n;
		p->to = destination(m, d.reply);
		p->lease = copy;
		p->event = d.event;
		h->npending++;
		return;
	}
	if (d.reply == DHCPOFFER && d.probe && probe_offer(h, sv, &d, pkt, len, r, round))
		return; /* on_probe_done answers */
	queue_reply(h, sv, m, &d);
}

static void handle_packet(struct dhcp4d *h, struct served *sv, const uint8_t *pkt, size_t len)
{
	h->received++;
	struct request r;
	if (decode_request(h, sv, pkt, len, &r) != 0)
		return;
	/* A DISCOVER retransmitted while its offer's address is being probed: the
	 * probe's end answers it (with this copy's xid). */
	if (r.rq.type == DHCPDISCOVER && conflict_probe_update(h->probe, sv->ifname, r.rq.key, r.rq.key_len, pkt, len))
		return;
	decide(h, sv, pkt, len, &r, 1);
}

/* A conflict probe ended. No answer: the offer goes out (if it is still this
 * client's). An answer: the address is quarantined (journalled, lease.conflict
 * after the commit) and the same DISCOVER is decided again — another address,
 * probed again, up to PROBE_ROUNDS; then silence, and the client retries. */
static void on_probe_done(void *ctx, const struct conflict_probe_result *res)
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
		journal_lease(h, sv, d.journal);
		struct pending_ack *p = next_pending(h);
		p->sv = sv;
		p->lease = *d.journal;
		/* The event names the client the address was meant for. */
		memcpy(p->lease.key, r.rq.key, r.rq.key_len);
		p->lease.key_len = (uint8_t)r.rq.key_len;
		p->lease.mac_len = (uint8_t)(r.rq.mac_len < sizeof p->lease.mac ? r.rq.mac_len : sizeof p->lease.mac);
		memcpy(p->lease.mac, r.rq.mac, p->lease.mac_len);
		snprintf(p->lease.hostname, sizeof p->lease.hostname, "%s", r.rq.hostname ? r.rq.hostname : "");
		p->event = EVENT_CONFLICT;
		h->npending++;
	} else {
		log_info("%s: %s answered a ping: %s", sv->ifname, addr, d.reason);
	}
	if (res->round < PROBE_ROUNDS)
		decide(h, sv, res->pkt, res->len, &r, res->round + 1);
	else
		log_warn("%s: %u addresses in a row answered a ping: no offer to this DISCOVER", sv->ifname,
			 (unsigned)PROBE_ROUNDS);
	flush_outbox(h);
	flush_pending(h);
}

/* The ICMP socket, when some server probes: bound to the interface if only
 * one does. Failing is not fatal: offers then go out unprobed (counted as
 * skipped, and health says why). */
static void probe_setup(struct dhcp4d *h, const struct dhcp4d_config *cfg)
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

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct served *sv = arg;
	struct dhcp4d *h = sv->h;
	static uint8_t bufs[BATCH][1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	/* Several batches per wake-up, one commit for all of them; bounded, so other
	 * sockets get their turn. */
	for (int round = 0; round < ROUNDS; round++) {
		memset(msgs, 0, sizeof msgs);
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof bufs[i];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				h->malformed++;
				continue;
			}
			handle_packet(h, sv, bufs[i], msgs[i].msg_len);
		}
		/* Offers go out with each batch read, not after all of them: a
		 * client's next step waits on its offer. */
		flush_outbox(h);
		if (n < BATCH)
			break;
	}
	flush_pending(h);
}

static int open_socket(struct served *sv, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, queue = RCVBUF_BYTES;
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
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &queue, sizeof queue) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &queue, sizeof queue);
	return fd;
}

/* The server identifier: configured, or the interface's address in the subnet. */
static int find_server_id(const struct server_spec *spec, uint32_t *out, char *err, size_t errlen)
{
	if (spec->server_id) {
		*out = spec->server_id;
		return 0;
	}
	struct arbor_nl *nl = arbor_nl_open(err, errlen);
	if (nl == NULL)
		return -1;
	int ifindex = arbor_nl_link_index(nl, spec->interface);
	struct arbor_nl_addr *addrs = NULL;
	size_t n = 0;
	int rc = ifindex > 0 ? arbor_nl_addrs(nl, AF_INET, ifindex, &addrs, &n) : ifindex;
	*out = 0;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		uint32_t a = ntohl(addrs[i].addr.v4.s_addr);
		if (((a ^ spec->network) >> (32 - spec->prefixlen)) == 0)
			*out = a;
	}
	free(addrs);
	char net[16];
	format_ipv4(spec->network, net, sizeof net);
	if (ifindex < 0)
		snprintf(err, errlen, "interface %s: %s", spec->interface, arbor_nl_error(nl));
	else if (*out == 0)
		snprintf(err, errlen, "%s has no IPv4 address in %s/%u: add one, or set server_id", spec->interface, net,
			 spec->prefixlen);
	arbor_nl_close(nl);
	return *out ? 0 : -1;
}

static void served_close(struct served *sv)
{
	if (sv->ev)
		event_free(sv->ev);
	if (sv->fd >= 0)
		close(sv->fd);
	server_free(&sv->srv);
}

/* "subnet": "auto": a subnet from the IPv4 allocator, keyed by the interface
 * and persisted in <state-dir>/subnets.json (asking again gives the same one),
 * avoiding every prefix the machine's routes and addresses use. The interface
 * gets the subnet's first host address if it has none in it; that address
 * stays at stop (the subnet is the interface's for good), and it is the
 * router unless the options name one. The pool is the rest of the hosts. */
static int resolve_auto_subnet(struct dhcp4d *h, struct server_spec *spec, char *err, size_t errlen)
{
	const char *dir = arbor_daemon_state_dir(h->d);
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	struct arbor_nl *nl = arbor_nl_open(err, errlen);
	char *text = NULL;
	size_t len = 0;
	int rc = nl ? 0 : -1;
	if (rc == 0 && arbor_state_read(dir, "subnets.json", &text, &len, 16 << 20) == 0) {
		cJSON *doc = cJSON_ParseWithLength(text, len);
		rc = arbor_ipv4_alloc_from_json(a, doc, err, errlen);
		cJSON_Delete(doc);
		free(text);
	}
	struct arbor_ipv4_prefix prefix;
	if (rc == 0)
		rc = arbor_ipv4_alloc_read_kernel(a, nl, err, errlen);
	if (rc == 0)
		rc = arbor_ipv4_alloc_allocate(a, spec->interface, spec->auto_prefixlen, (int64_t)arbor_time_wall(), &prefix,
					       err, errlen);
	if (rc == 1) { /* new: persist before anyone hears of it */
		cJSON *doc = arbor_ipv4_alloc_to_json(a);
		rc = arbor_state_write_json(dir, "subnets.json", doc, err, errlen);
		cJSON_Delete(doc);
	}
	if (rc == 0) {
		uint32_t size = 1u << (32 - prefix.len);
		spec->network = prefix.addr;
		spec->prefixlen = prefix.len;
		free(spec->pools);
		spec->pools = xcalloc(1, sizeof *spec->pools);
		spec->npools = 1;
		spec->pools[0].name = xstrdup("auto");
		spec->pools[0].range.first = prefix.addr + 2;
		spec->pools[0].range.last = prefix.addr + size - 2;
		uint32_t id;
		char ignored[200];
		if (find_server_id(spec, &id, ignored, sizeof ignored) != 0) {
			struct arbor_nl_ip ip = { .family = AF_INET };
			ip.v4.s_addr = htonl(prefix.addr + 1);
			int ifindex = arbor_nl_link_index(nl, spec->interface);
			rc = ifindex > 0 ? arbor_nl_addr_add(nl, ifindex, &ip, prefix.len, NULL) : ifindex;
			if (rc < 0)
				snprintf(err, errlen, "%s: %s", spec->interface, arbor_nl_error(nl));
			else
				rc = 0;
		}
		if (rc == 0 && spec->options.router == 0)
			spec->options.router = prefix.addr + 1;
		char shown[ARBOR_IPV4_PREFIX_TEXT_MAX];
		if (rc == 0)
			log_info("%s: subnet %s (auto)", spec->interface, arbor_ipv4_prefix_format(&prefix, shown, sizeof shown));
	}
	if (nl)
		arbor_nl_close(nl);
	arbor_ipv4_alloc_free(a);
	return rc == 0 ? 0 : -1;
}

/* Opens every configured server; on failure nothing stays open. */
static struct served *served_open(struct dhcp4d *h, const struct dhcp4d_config *cfg, char *err, size_t errlen)
{
	struct served *all = xcalloc(cfg->nservers ? cfg->nservers : 1, sizeof *all);
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct served *sv = &all[i];
		const struct server_spec *spec = &cfg->servers[i];
		sv->h = h;
		sv->fd = -1;
		snprintf(sv->ifname, sizeof sv->ifname, "%s", spec->interface);
		uint32_t server_id;
		int rc = 0;
		if (spec->subnet_auto)
			rc = resolve_auto_subnet(h, (struct server_spec *)spec, err, errlen);
		if (rc == 0)
			rc = find_server_id(spec, &server_id, err, errlen);
		if (rc == 0 && server_init(&sv->srv, spec, server_id) != 0) {
			snprintf(err, errlen, "%s: cannot allocate the lease table", spec->interface);
			rc = -1;
		}
		if (rc == 0 && (sv->fd = open_socket(sv, err, errlen)) < 0)
			rc = -1;
		if (rc != 0) {
			for (size_t k = 0; k <= i; k++)
				served_close(&all[k]);
			free(all);
			return NULL;
		}
		sv->ev = event_new(arbor_daemon_base(h->d), sv->fd, EV_READ | EV_PERSIST, on_readable, sv);
	}
	return all;
}

static void on_expiry(evutil_socket_t fd, short what, void *arg);

static void expire_one(void *ctx, struct server *srv, struct lease *l)
{
	struct dhcp4d *h = ctx;
	for (size_t i = 0; i < h->nserved; i++)
		if (&h->served[i].srv == srv) {
			journal_lease(h, &h->served[i], l);
			if (l->key_len && memcmp(l->key, "declined", 8) != 0)
				lease_event(h, &h->served[i], l, "lease.expired", "info");
		}
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp4d *h = arg;
	double now = arbor_time_wall();
	for (size_t i = 0; i < h->nserved; i++)
		server_expire(&h->served[i].srv, now, expire_one, h);
	flush_pending(h);
}

/* Frees whatever of h exists (start may fail half way). */
static void close_uplinks(struct dhcp4d *h, bool release)
{
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_close(h->uplinks[i], release);
	free(h->uplinks);
	h->uplinks = NULL;
	h->nuplinks = 0;
	if (h->monitor_ev)
		event_free(h->monitor_ev);
	h->monitor_ev = NULL;
	arbor_nl_monitor_close(h->monitor);
	h->monitor = NULL;
	arbor_nl_close(h->nl);
	h->nl = NULL;
}

static void on_link_change(void *ctx, const struct arbor_nl_change *c)
{
	struct dhcp4d *h = ctx;
	if (c->kind == ARBOR_NL_RESYNC) {
		struct arbor_nl_link *links;
		size_t n;
		if (arbor_nl_links(h->nl, &links, &n) < 0)
			return;
		for (size_t i = 0; i < h->nuplinks; i++) {
			bool exists = false, carrier = false;
			for (size_t k = 0; k < n; k++)
				if (links[k].index == uplink_ifindex(h->uplinks[i])) {
					exists = true;
					carrier = links[k].lower_up;
				}
			uplink_link_changed(h->uplinks[i], exists, carrier);
		}
		free(links);
		return;
	}
	if (c->kind != ARBOR_NL_LINK_NEW && c->kind != ARBOR_NL_LINK_DEL)
		return;
	for (size_t i = 0; i < h->nuplinks; i++)
		if (uplink_ifindex(h->uplinks[i]) == c->link.index)
			uplink_link_changed(h->uplinks[i], c->kind == ARBOR_NL_LINK_NEW, c->link.lower_up);
}

static void on_monitor_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp4d *h = arg;
	if (arbor_nl_monitor_dispatch(h->monitor) < 0)
		log_warn("link monitor: %s", arbor_nl_monitor_error(h->monitor));
}

/* Starts a client on every configured uplink; all or nothing. */
static int open_uplinks(struct dhcp4d *h, const struct dhcp4d_config *cfg, char *err, size_t errlen)
{
	if (cfg->nclients == 0)
		return 0;
	h->nl = arbor_nl_open(err, errlen);
	if (h->nl == NULL)
		return -1;
	h->monitor = arbor_nl_monitor_open(on_link_change, h, err, errlen);
	if (h->monitor == NULL)
		return -1;
	h->monitor_ev = event_new(arbor_daemon_base(h->d), arbor_nl_monitor_fd(h->monitor), EV_READ | EV_PERSIST,
				  on_monitor_readable, h);
	event_add(h->monitor_ev, NULL);
	h->uplinks = xcalloc(cfg->nclients, sizeof *h->uplinks);
	const char *hostname = arbor_daemon_config(h->d)->machine.name;
	for (size_t i = 0; i < cfg->nclients; i++) {
		struct uplink *u = uplink_open(h->d, h->nl, &cfg->clients[i], hostname, err, errlen);
		if (u == NULL)
			return -1;
		h->uplinks[h->nuplinks++] = u;
	}
	return 0;
}

static struct uplink *uplink_by_ifname(struct dhcp4d *h, const char *ifname)
{
	for (size_t i = 0; i < h->nuplinks; i++)
		if (strcmp(uplink_ifname(h->uplinks[i]), ifname) == 0)
			return h->uplinks[i];
	return NULL;
}

static void dhcp4d_free(struct dhcp4d *h)
{
	close_uplinks(h, false);
	for (size_t i = 0; h->served && i < h->nserved; i++)
		served_close(&h->served[i]);
	free(h->served);
	free(h->pending);
	free(h->inflight);
	free(h->outbox);
	conflict_probe_free(h->probe); /* probes still pending are dropped: their clients ask again */
	if (h->expiry)
		event_free(h->expiry);
	arbor_journal_close(h->journal);
	arbor_buf_free(&h->record);
	arbor_daemon_set_userdata(h->d, NULL);
	free(h);
}

static int dhcp4d_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	struct dhcp4d *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	h->pending = xcalloc(PENDING_MAX, sizeof *h->pending);
	h->inflight = xcalloc(PENDING_MAX, sizeof *h->inflight);
	h->outbox = xcalloc(PENDING_MAX, sizeof *h->outbox);
	h->probe = conflict_probe_new(arbor_daemon_base(d), on_probe_done, h);
	const struct dhcp4d_config *cfg = arbor_daemon_config(d)->daemon;
	h->served = served_open(h, cfg, err, errlen);
	if (h->served == NULL) {
		dhcp4d_free(h);
		return -1;
	}
	h->nserved = cfg->nservers;
	struct arbor_journal_replay replay = { replay_snapshot, replay_record, h };
	if (arbor_journal_open(arbor_daemon_state_dir(d), "leases.json", &replay, &h->journal, err, errlen) != 0) {
		dhcp4d_free(h);
		return -1;
	}
	arbor_journal_on_rewrite(h->journal, lease_snapshot, h);
	on_expiry(-1, 0, h); /* what lapsed while we were down (committed on the spot) */
	/* Start from a fresh snapshot: leases.json then always holds every lease
	 * (readable with jq), and the journal holds only what came since. */
	compact(h);
	/* From here on commits are synced on a worker; without one they are
	 * synchronous: slower, still correct. */
	char werr[128];
	h->syncer = arbor_syncer_new(arbor_daemon_base(d), werr, sizeof werr);
	if (h->syncer == NULL)
		log_warn("%s: committing on the loop", werr);
	probe_setup(h, cfg);
	for (size_t i = 0; i < h->nserved; i++)
		event_add(h->served[i].ev, NULL);
	struct timeval second = { 1, 0 };
	h->expiry = event_new(arbor_daemon_base(d), -1, EV_PERSIST, on_expiry, h);
	event_add(h->expiry, &second);
	if (open_uplinks(h, cfg, err, errlen) < 0) {
		dhcp4d_free(h);
		return -1;
	}
	size_t leases = 0;
	for (size_t i = 0; i < h->nserved; i++)
		leases += h->served[i].srv.leases.count;
	log_info("serving %zu interfaces, %zu leases on record; %zu clients", h->nserved, leases, h->nuplinks);
	return 0;
}

static int dhcp4d_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct dhcp4d *h = dhcp4d_of(d);
	const struct dhcp4d_config *cfg = next->daemon;
	/* Open the new set first: if any interface cannot be served, the reload is
	 * rejected and the old servers keep running untouched. The new sockets
	 * share port 67 with the old ones (SO_REUSEADDR) until those close. */
	struct served *fresh = served_open(h, cfg, err, errlen);
	if (fresh == NULL)
		return -1;
	drain(h); /* answers in flight still use the old sockets */
	for (size_t i = 0; i < cfg->nservers; i++) {
		struct served *old = served_by_ifname(h, fresh[i].ifname);
		/* Same subnet: the leases carry over, whatever happened to the pools. */
		if (old && old->srv.spec->network == fresh[i].srv.spec->network &&
		    old->srv.spec->prefixlen == fresh[i].srv.spec->prefixlen)
			server_adopt_leases(&fresh[i].srv, &old->srv);
	}
	for (size_t i = 0; i < h->nserved; i++)
		served_close(&h->served[i]);
	free(h->served);
	h->served = fresh;
	h->nserved = cfg->nservers;
	/* Probes pending on the old servers end on the new ones (found by name). */
	probe_setup(h, cfg);
	for (size_t i = 0; i < h->nserved; i++)
		event_add(h->served[i].ev, NULL);
	return 0;
}

static void dhcp4d_stop(struct arbor_daemon *d)
{
	struct dhcp4d *h = dhcp4d_of(d);
	if (h == NULL)
		return;
	close_uplinks(h, true);
	drain(h);
	h->stopping = true;
	arbor_syncer_free(h->syncer);
	h->syncer = NULL;
	flush_pending(h);
	compact(h);
	dhcp4d_free(h);
}

static void add_lease_json(cJSON *arr, const struct served *sv, const struct lease *l)
{
	cJSON *o = lease_record_encode(sv->ifname, l);
	cJSON_AddItemToArray(arr, o);
}

static void dhcp4d_status(struct arbor_daemon *d, cJSON *status)
{
	struct dhcp4d *h = dhcp4d_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "dhcp4d");
	cJSON *servers = cJSON_AddArrayToObject(own, "servers");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct served *sv = &h->served[i];
		const struct server *s = &sv->srv;
		char text[32];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "interface", sv->ifname);
		format_ipv4(s->spec->network, text, sizeof text);
		snprintf(text + strlen(text), sizeof text - strlen(text), "/%u", s->spec->prefixlen);
		cJSON_AddStringToObject(o, "subnet", text);
		format_ipv4(s->server_id, text, sizeof text);
		cJSON_AddStringToObject(o, "server_id", text);
		size_t pool = server_pool_size(s);
		arbor_json_add_int(o, "pool_size", (long long)pool);
		arbor_json_add_int(o, "bound", (long long)s->leases.bound);
		arbor_json_add_fixed(o, "pool_used_percent", pool ? 100.0 * (double)s->leases.bound / (double)pool : 0, 1);
		arbor_json_add_int(o, "records", (long long)s->leases.count);
		arbor_json_add_int(o, "offers", (long long)s->offers);
		arbor_json_add_int(o, "acks", (long long)s->acks);
		arbor_json_add_int(o, "naks", (long long)s->naks);
		arbor_json_add_int(o, "declines", (long long)s->declines);
		arbor_json_add_int(o, "releases", (long long)s->releases);
		arbor_json_add_int(o, "exhausted", (long long)s->exhausted);
		cJSON *cpo = cJSON_AddObjectToObject(o, "conflict_probe");
		cJSON_AddBoolToObject(cpo, "ping", s->spec->probe_ping);
		arbor_json_add_fixed(cpo, "timeout", s->spec->probe_timeout, 3);
		arbor_json_add_int(cpo, "probes_sent", (long long)sv->probes_sent);
		arbor_json_add_int(cpo, "conflicts", (long long)s->conflicts);
		arbor_json_add_int(cpo, "probes_skipped", (long long)sv->probes_skipped);
		cJSON_AddItemToArray(servers, o);
	}
	cJSON *cps = cJSON_AddObjectToObject(own, "conflict_probe");
	const char *kind = conflict_probe_socket_kind(h->probe);
	if (kind)
		cJSON_AddStringToObject(cps, "socket", kind);
	else
		cJSON_AddNullToObject(cps, "socket");
	arbor_json_add_int(cps, "pending", (long long)conflict_probe_pending(h->probe));
	cJSON *pk = cJSON_AddObjectToObject(own, "packets");
	arbor_json_add_int(pk, "received", (long long)h->received);
	arbor_json_add_int(pk, "malformed", (long long)h->malformed);
	arbor_json_add_int(pk, "ignored", (long long)h->ignored);
	arbor_json_add_int(pk, "sent", (long long)h->sent);
	arbor_json_add_int(pk, "send_errors", (long long)h->send_errors);
	arbor_json_add_int(own, "journal_commits", (long long)h->commits);
	cJSON *clients = cJSON_AddArrayToObject(own, "clients");
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_status(h->uplinks[i], clients);
}

static enum arbor_health dhcp4d_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct dhcp4d *h = dhcp4d_of(d);
	enum arbor_health health = ARBOR_HEALTH_OK;
	if (h->commit_errors) {
		cJSON_AddItemToArray(reasons, cJSON_CreateString("the lease journal could not be written"));
		health = ARBOR_HEALTH_FAILED;
	}
	for (size_t i = 0; i < h->nserved; i++) {
		const struct server *s = &h->served[i].srv;
		if (s->spec->probe_ping && conflict_probe_socket_kind(h->probe) == NULL) {
			char reason[300];
			snprintf(reason, sizeof reason, "%s: offers go out without a conflict probe: %s", h->served[i].ifname,
				 conflict_probe_error(h->probe));
			cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
			if (health == ARBOR_HEALTH_OK)
				health = ARBOR_HEALTH_DEGRADED;
		}
		size_t pool = server_pool_size(s);
		if (pool && s->leases.bound >= pool) {
			char reason[128];
			snprintf(reason, sizeof reason, "%s: every address of the pools is bound", h->served[i].ifname);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
			if (health == ARBOR_HEALTH_OK)
				health = ARBOR_HEALTH_DEGRADED;
		}
	}
	return health;
}

static void dhcp4d_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct dhcp4d *h = dhcp4d_of(d);
	arbor_buf_printf(out,
			 "# HELP arbor_dhcp4d_packets_total DHCP packets, by outcome.\n# TYPE arbor_dhcp4d_packets_total counter\n"
			 "arbor_dhcp4d_packets_total{outcome=\"received\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"malformed\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"ignored\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"sent\"} %llu\n"
			 "arbor_dhcp4d_packets_total{outcome=\"send_error\"} %llu\n"
			 "# HELP arbor_dhcp4d_journal_commits_total Group commits of the lease journal.\n"
			 "# TYPE arbor_dhcp4d_journal_commits_total counter\narbor_dhcp4d_journal_commits_total %llu\n",
			 (unsigned long long)h->received, (unsigned long long)h->malformed, (unsigned long long)h->ignored,
			 (unsigned long long)h->sent, (unsigned long long)h->send_errors, (unsigned long long)h->commits);
	arbor_buf_puts(out, "# HELP arbor_dhcp4d_leases Leases by interface and state.\n# TYPE arbor_dhcp4d_leases gauge\n");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct lease_table *t = &h->served[i].srv.leases;
		arbor_buf_printf(out, "arbor_dhcp4d_leases{interface=\"%s\",state=\"bound\"} %zu\n", h->served[i].ifname,
				 t->bound);
	}
	arbor_buf_puts(out, "# HELP arbor_dhcp4d_conflict_probes_total Conflict probes (an ICMP echo before an offer), "
			    "by interface and outcome.\n# TYPE arbor_dhcp4d_conflict_probes_total counter\n");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct served *sv = &h->served[i];
		if (!sv->srv.spec->probe_ping)
			continue;
		arbor_buf_printf(out,
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"sent\"} %llu\n"
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"conflict\"} %llu\n"
				 "arbor_dhcp4d_conflict_probes_total{interface=\"%s\",outcome=\"skipped\"} %llu\n",
				 sv->ifname, (unsigned long long)sv->probes_sent, sv->ifname,
				 (unsigned long long)sv->srv.conflicts, sv->ifname, (unsigned long long)sv->probes_skipped);
	}
	if (h->nuplinks)
		arbor_buf_puts(out, "# HELP arbor_dhcp4d_client_packets_total DHCP client packets, by outcome.\n"
				    "# TYPE arbor_dhcp4d_client_packets_total counter\n"
				    "# HELP arbor_dhcp4d_client_bound Whether the client holds a lease.\n"
				    "# TYPE arbor_dhcp4d_client_bound gauge\n");
	for (size_t i = 0; i < h->nuplinks; i++)
		uplink_metrics(h->uplinks[i], out);
}

static void view_leases(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct dhcp4d *h = dhcp4d_of(d);
	const char *ifname = arbor_query_get(&req->query, "interface");
	const char *state = arbor_query_get(&req->query, "state");
	const char *mac = arbor_query_get(&req->query, "mac");
	const char *address = arbor_query_get(&req->query, "address");
	const char *hostname = arbor_query_get(&req->query, "hostname");
	if (state && lease_state_from_name(state) < 0) {
		arbor_resp_error(resp, 400, "bad_query", "state is one of offered, bound, released, expired, declined");
		return;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "leases");
	for (size_t i = 0; i < h->nserved; i++) {
		const struct served *sv = &h->served[i];
		if (ifname && strcmp(ifname, sv->ifname) != 0)
			continue;
		const struct lease_table *t = &sv->srv.leases;
		for (uint32_t k = 0; k < t->size; k++) {
			const struct lease *l = t->by_addr[k];
			if (l == NULL || (state && strcmp(state, lease_state_name(l->state)) != 0) ||
			    (hostname && strcmp(hostname, l->hostname) != 0))
				continue;
			char text[64];
			if (mac) {
				lease_hex(l->mac, l->mac_len, text, sizeof text);
				if (strcasecmp(mac, text) != 0)
					continue;
			}
			if (address) {
				format_ipv4(l->addr, text, sizeof text);
				if (strcmp(address, text) != 0)
					continue;
			}
			add_lease_json(arr, sv, l);
		}
	}
	arbor_resp_json(resp, 200, doc);
}

static const struct arbor_view dhcp4d_views[] = { { "/v1/leases", view_leases } };

static int dhcp4d_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct dhcp4d *h = dhcp4d_of(d);
	on_expiry(-1, 0, h);
	size_t renewed = 0;
	for (size_t i = 0; i < h->nuplinks; i++) {
		char m[160];
		if (uplink_command(h->uplinks[i], "renew", m, sizeof m) == 0)
			renewed++;
	}
	snprintf(msg, msglen, "expired leases swept, journal committed; %zu of %zu clients renewing", renewed,
		 h->nuplinks);
	return 0;
}

/* POST /v1/commands/{rebind,release} {"interface": "wan0"}: one client, or every
 * client when no interface is named. (renew is the contract's own command: it
 * renews every client, see dhcp4d_renew.) */
static void client_command(struct arbor_daemon *d, const struct arbor_http_request *req,
			   struct arbor_http_response *resp, const char *name)
{
	struct dhcp4d *h = dhcp4d_of(d);
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(body, "interface");
	if (ifn && !cJSON_IsString(ifn)) {
		cJSON_Delete(body);
		arbor_command_answer(resp, name, false, 400, "\"interface\" must be a string");
		return;
	}
	char msg[512] = "";
	int failures = 0;
	size_t done = 0;
	if (ifn) {
		struct uplink *u = uplink_by_ifname(h, ifn->valuestring);
		if (u == NULL) {
			arbor_command_answer(resp, name, false, 404, "no DHCP client on interface \"%.32s\"", ifn->valuestring);
			cJSON_Delete(body);
			return;
		}
		failures = uplink_command(u, name, msg, sizeof msg) < 0;
		done = 1;
	} else {
		for (size_t i = 0; i < h->nuplinks; i++) {
			size_t used = strlen(msg);
			if (used + 2 >= sizeof msg)
				break;
			if (used)
				strcat(msg, "; ");
			failures += uplink_command(h->uplinks[i], name, msg + strlen(msg), sizeof msg - strlen(msg)) < 0;
			done++;
		}
		if (done == 0)
			snprintf(msg, sizeof msg, "no DHCP clients are configured");
	}
	cJSON_Delete(body);
	bool ok = done > 0 && failures == 0;
	arbor_command_answer(resp, name, ok, ok ? 200 : done == 0 ? 404 : 409, "%s", msg);
}

static void command_rebind(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	client_command(d, req, resp, "rebind");
}

static void command_release(struct arbor_daemon *d, const struct arbor_http_request *req,
			    struct arbor_http_response *resp)
{
	client_command(d, req, resp, "release");
}

static const struct arbor_command dhcp4d_commands[] = {
	{ "rebind", command_rebind },
	{ "release", command_release },
};

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
	.nviews = 1,
	.commands = dhcp4d_commands,
	.ncommands = sizeof dhcp4d_commands / sizeof dhcp4d_commands[0],
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&dhcp4d_def, argc, argv);
}
