/* arbor-dnsd: authoritative DNS for a tree of machines.
 *
 * The zone database (zone.c) holds what the record sources contribute (sources.c:
 * config, interfaces, children, dhcp4d's leases); the answerer (answer.c) is pure.
 * This file owns the sockets and the sources' inputs:
 *   - UDP: each listen address has one socket per serving thread (SO_REUSEPORT).
 *     The serving threads are not the daemon's libevent loop: each blocks in
 *     recvmmsg (MSG_WAITFORONE) on its socket, so a wake-up costs one system call
 *     and no event dispatch, and answers the batch with one sendmmsg. Each has its
 *     own copy of the zone database (zone.h: not thread-safe), written only by the
 *     main loop under the thread's mutex. The main loop answers TCP from thread
 *     0's copy (reads need no lock: only the main loop writes).
 *   - TCP (RFC 7766) on the main loop: pipelined queries, answers in the order
 *     they complete, idle timeout, a deadline for a message that trickles in, a
 *     connection limit.
 *   - Queries the answerer hands back (a child's names with RD=1, names outside
 *     the tree) go to the resolver (resolver.c) on the main loop; the serving
 *     threads pass them over a packet pipe.
 *   - Leases: dhcp4d's lease files are stat'ed every 250 ms and re-read on change,
 *     and the sources are rebuilt when the earliest lease ends, so a record never
 *     outlives its lease by more than that. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "addr_derive.h"
#include "answer.h"
#include "daemon.h"
#include "dnsd_config.h"
#include "json.h"
#include "lease_view.h"
#include "log.h"
#include "netlink.h"
#include "resolver.h"
#include "sources.h"
#include "subnet_ids.h"
#include "clock.h"
#include "xalloc.h"
#include "zone.h"

/* UDP buffers: a query longer than 1536 bytes is not one we answer (it is cut and
 * gets FORMERR), and a UDP answer never exceeds our EDNS payload (1232): small
 * slots keep the batch buffers at 176 KiB instead of half a megabyte. */
enum { BATCH = 64, UDP_MAX = 1536, REPLY_MAX = DNSD_EDNS_PAYLOAD, TCP_QUERY_MAX = 16384 };
static const uint32_t source_ids[] = { ZONE_SOURCE_CONFIG, ZONE_SOURCE_INTERFACES, ZONE_SOURCE_CHILDREN,
				       ZONE_SOURCE_LEASES };
#define NSOURCES (sizeof source_ids / sizeof source_ids[0])

struct dnsd;

/* One serving thread: its UDP sockets and its copy of the zones. */
struct worker {
	struct dnsd *h;
	unsigned index;
	int *fds;
	size_t nfds;
	struct zone_db *db;
	pthread_mutex_t lock;
	pthread_t thread;
	bool running;
	struct dnsd_counters counters;
	/* Batch buffers. */
	struct mmsghdr in[BATCH], outm[BATCH];
	struct iovec iov_in[BATCH], iov_out[BATCH];
	struct sockaddr_storage peers[BATCH];
	uint8_t (*qbuf)[UDP_MAX];
	uint8_t (*rbuf)[REPLY_MAX];
};

/* A query waiting on the resolver. */
struct pending {
	struct dnsd *h;
	struct dnsd_answer_info info;
	int udp_fd; /* >= 0: answer over UDP to peer */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct tcp_conn *conn; /* or over this TCP connection */
};

struct tcp_conn {
	struct dnsd *h;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	unsigned pending; /* resolver requests in flight */
	bool closing;
	double partial_since;
};

/* Handed from a worker thread to the main loop over a packet pipe. */
struct handoff {
	int fd;
	socklen_t peer_len;
	struct sockaddr_storage peer;
	uint16_t len;
	uint8_t q[UDP_MAX];
};

struct dnsd {
	struct arbor_daemon *d;
	const struct dnsd_config *cfg;
	char zone[ARBOR_DNS_NAME_TEXT_MAX];
	char machine_id[33];
	bool has_machine_id;
	char (*reverse)[ARBOR_DNS_NAME_TEXT_MAX];
	size_t nreverse;
	struct worker *workers;
	unsigned nworkers;
	struct evconnlistener **tcp;
	size_t ntcp;
	unsigned tcp_conns;
	struct resolver *resolver;
	struct arbor_nl *nl;
	struct arbor_subnet_ids subnet_ids;
	struct lease_view *leases;
	size_t nleases;
	double next_lease_end;
	struct lease_view_stamp stamp;
	struct event *lease_timer;
	int handoff_pipe[2];
	struct event *handoff_ev;
	struct dnsd_counters main_counters; /* TCP and resolved replies */
	uint64_t tcp_accepted, tcp_refused, tcp_timeouts, handoff_dropped, source_errors;
	char last_source_error[256];
	bool started;
};

static struct dnsd *dnsd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

/* ---- record sources ---- */

static int subnet_id_of(void *ctx, const char *ifname)
{
	struct dnsd *h = ctx;
	int id = arbor_subnet_ids_lookup(&h->subnet_ids, ifname);
	if (id >= 0)
		return id;
	char err[200];
	id = arbor_subnet_ids_assign_virtual(&h->subnet_ids, ifname, err, sizeof err);
	if (id < 0)
		log_warn("subnet id for %s: %s", ifname, err);
	return id;
}

/* The machine's interfaces and their IPv4 addresses (netlink); physical ones get
 * their subnet ids numbered in name order the first time they are seen. */
static int read_interfaces(struct dnsd *h, struct iface_addr **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct arbor_nl_link *links = NULL;
	struct arbor_nl_addr *addrs = NULL;
	size_t nlinks = 0, naddrs = 0;
	if (arbor_nl_links(h->nl, &links, &nlinks) < 0 || arbor_nl_addrs(h->nl, AF_INET, 0, &addrs, &naddrs) < 0) {
		log_warn("interfaces: %s", arbor_nl_error(h->nl));
		free(links);
		return -EIO;
	}
	const char **physical = xcalloc(nlinks + 1, sizeof *physical);
	size_t nphys = 0;
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].kind[0] == '\0' && !(links[i].flags & IFF_LOOPBACK))
			physical[nphys++] = links[i].name;
	char err[200];
	if (nphys && arbor_subnet_ids_assign_physical(&h->subnet_ids, physical, nphys, err, sizeof err) < 0)
		log_warn("subnet ids: %s", err);
	free(physical);
	struct iface_addr *v = xcalloc(nlinks + naddrs + 1, sizeof *v);
	for (size_t i = 0; i < nlinks; i++) {
		if (links[i].flags & IFF_LOOPBACK)
			continue;
		bool wanted = h->cfg->interfaces == NULL;
		for (size_t k = 0; h->cfg->interfaces && k < h->cfg->ninterfaces; k++)
			wanted |= strcmp(h->cfg->interfaces[k], links[i].name) == 0;
		if (!wanted)
			continue;
		bool any = false;
		for (size_t a = 0; a < naddrs; a++) {
			if (addrs[a].ifindex != links[i].index || addrs[a].scope != 0)
				continue;
			struct iface_addr *e = &v[(*n)++];
			snprintf(e->name, sizeof e->name, "%s", links[i].name);
			e->family = AF_INET;
			memcpy(e->addr, &addrs[a].addr.v4, 4);
			any = true;
		}
		/* Without an address of its own only a configured interface is named. */
		if (!any && h->cfg->interfaces) {
			struct iface_addr *e = &v[(*n)++];
			snprintf(e->name, sizeof e->name, "%s", links[i].name);
		}
	}
	free(links);
	free(addrs);
	*out = v;
	return 0;
}

static void lock_all(struct dnsd *h)
{
	for (unsigned i = 0; i < h->nworkers; i++)
		pthread_mutex_lock(&h->workers[i].lock);
}

static void unlock_all(struct dnsd *h)
{
	for (unsigned i = 0; i < h->nworkers; i++)
		pthread_mutex_unlock(&h->workers[i].lock);
}

/* Rebuilds the sources in mask (bit i: source_ids[i]) and applies them to every
 * thread's database. A source that fails keeps its previous records. */
static void refresh_sources(struct dnsd *h, unsigned mask, const char *why)
{
	struct iface_addr *ifaces = NULL;
	size_t nifaces = 0;
	if (mask & 2)
		read_interfaces(h, &ifaces, &nifaces);
	const char *reverse[64];
	for (size_t i = 0; i < h->nreverse && i < 64; i++)
		reverse[i] = h->reverse[i];
	struct dnsd_world w = {
		.cfg = h->cfg,
		.zone = h->zone,
		.machine_id = h->has_machine_id ? h->machine_id : NULL,
		.ifaces = ifaces,
		.nifaces = nifaces,
		.leases = h->leases,
		.nleases = h->nleases,
		.subnet_id = subnet_id_of,
		.ctx = h,
		.reverse_apexes = reverse,
		.nreverse = h->nreverse < 64 ? h->nreverse : 64,
	};
	int64_t now = (int64_t)arbor_time_wall();
	size_t nzones = zone_db_zone_count(h->workers[0].db);
	bool changed_any[64] = { false };
	lock_all(h);
	for (size_t s = 0; s < NSOURCES; s++) {
		if (!(mask & (1u << s)))
			continue;
		struct record_list list = { 0 };
		char err[256] = "";
		int rc = 0;
		switch (source_ids[s]) {
		case ZONE_SOURCE_CONFIG: rc = sources_config(&w, &list, err, sizeof err); break;
		case ZONE_SOURCE_INTERFACES: rc = sources_interfaces(&w, &list, err, sizeof err); break;
		case ZONE_SOURCE_CHILDREN: rc = sources_children(&w, &list, err, sizeof err); break;
		case ZONE_SOURCE_LEASES: rc = sources_leases(&w, &list, err, sizeof err); break;
		}
		for (unsigned t = 0; rc == 0 && t < h->nworkers; t++) {
			bool changed[64] = { false };
			rc = zone_db_replace_source(h->workers[t].db, source_ids[s], list.r, list.n, now,
						    nzones <= 64 ? changed : NULL, err, sizeof err);
			for (size_t z = 0; rc >= 0 && t == 0 && z < nzones && z < 64; z++)
				changed_any[z] |= changed[z];
			rc = rc < 0 ? rc : 0;
		}
		if (rc < 0) {
			h->source_errors++;
			snprintf(h->last_source_error, sizeof h->last_source_error, "%s", err);
			log_warn("record source %u: %s", source_ids[s], err);
		}
		record_list_free(&list);
	}
	unlock_all(h);
	free(ifaces);
	if (!h->started)
		return;
	for (size_t z = 0; z < nzones && z < 64; z++) {
		struct zone_info zi;
		if (!changed_any[z] || zone_db_zone_info(h->workers[0].db, z, &zi) != 0)
			continue;
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "zone", zi.apex);
		arbor_json_add_int(data, "serial", zi.serial);
		arbor_json_add_int(data, "records", (long long)zi.records);
		cJSON_AddStringToObject(data, "reason", why);
		arbor_event_emit(arbor_daemon_events(h->d), "zone.updated", "info", zi.apex, data,
				 "%s serial %u, %zu records (%s)", zi.apex, zi.serial, zi.records, why);
	}
}

static void read_leases(struct dnsd *h)
{
	struct lease_view *v;
	size_t n;
	double next;
	char err[256];
	if (lease_view_read(h->cfg->leases_dir, arbor_time_wall(), &v, &n, &next, err, sizeof err) < 0) {
		log_warn("leases: %s", err);
		return;
	}
	free(h->leases);
	h->leases = v;
	h->nleases = n;
	h->next_lease_end = next;
}

static void on_lease_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dnsd *h = arg;
	struct lease_view_stamp st;
	lease_view_stamp(h->cfg->leases_dir, &st);
	bool changed = !lease_view_stamp_equal(&st, &h->stamp);
	bool ended = h->next_lease_end && arbor_time_wall() >= h->next_lease_end;
	if (!changed && !ended)
		return;
	h->stamp = st;
	read_leases(h);
	refresh_sources(h, 4 | 8, changed ? "leases changed" : "a lease ended");
}

/* ---- answering ---- */

static struct dnsd_answer_opts opts_for(const struct dnsd *h, const struct sockaddr *peer, enum dnsd_transport t)
{
	return (struct dnsd_answer_opts){
		.transport = t,
		.allow_recursion = dnsd_net_contains(h->cfg->allow_recursion, h->cfg->nallow, peer),
		.recursion_available = h->cfg->nforwarders > 0,
	};
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len);
static void tcp_release(struct tcp_conn *c);

static void on_resolved(void *ctx, const uint8_t *resp, size_t len)
{
	struct pending *p = ctx;
	struct dnsd *h = p->h;
	uint8_t out[65535 + 2];
	int n = resp ? dnsd_answer_from_upstream(&p->info, resp, len, out, sizeof out) : -1;
	if (n < 0)
		n = dnsd_answer_servfail(&p->info, out, sizeof out);
	if (n > 0) {
		dnsd_counters_reply(&h->main_counters, out, (size_t)n);
		if (p->conn)
			tcp_send(p->conn, out, (size_t)n);
		else
			sendto(p->udp_fd, out, (size_t)n, 0, (struct sockaddr *)&p->peer, p->peer_len);
	}
	if (p->conn) {
		p->conn->pending--;
		tcp_release(p->conn);
	}
	free(p);
}

static void resolve(struct dnsd *h, const struct dnsd_answer_info *info, int udp_fd, const struct sockaddr_storage *peer,
		    socklen_t peer_len, struct tcp_conn *conn)
{
	struct pending *p = xcalloc(1, sizeof *p);
	p->h = h;
	p->info = *info;
	p->udp_fd = udp_fd;
	if (peer)
		memcpy(&p->peer, peer, peer_len);
	p->peer_len = peer_len;
	p->conn = conn;
	if (conn)
		conn->pending++;
	if (resolver_resolve(h->resolver, info, on_resolved, p) < 0)
		on_resolved(p, NULL, 0);
}

/* Reads and answers one batch on a UDP socket (flags: MSG_WAITFORONE to block for
 * the first datagram, MSG_DONTWAIT not to). Returns the datagrams read. */
static int serve_udp_batch(struct worker *w, int fd, int flags)
{
	struct dnsd *h = w->h;
	for (int i = 0; i < BATCH; i++) {
		w->iov_in[i] = (struct iovec){ w->qbuf[i], UDP_MAX };
		w->in[i].msg_hdr = (struct msghdr){ .msg_name = &w->peers[i], .msg_namelen = sizeof w->peers[i],
						    .msg_iov = &w->iov_in[i], .msg_iovlen = 1 };
	}
	int got = recvmmsg(fd, w->in, BATCH, flags, NULL);
	if (got <= 0)
		return 0;
	int nout = 0;
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < got; i++) {
		struct dnsd_answer_info info;
		const struct sockaddr *peer = (const struct sockaddr *)&w->peers[i];
		struct dnsd_answer_opts o = opts_for(h, peer, DNSD_UDP);
		int n = dnsd_answer(w->db, w->qbuf[i], w->in[i].msg_len, &o, w->rbuf[nout], REPLY_MAX, &info);
		dnsd_counters_add(&w->counters, &info);
		if (n > 0) {
			w->iov_out[nout] = (struct iovec){ w->rbuf[nout], (size_t)n };
			w->outm[nout].msg_hdr = (struct msghdr){ .msg_name = &w->peers[i], .msg_namelen = w->in[i].msg_hdr.msg_namelen,
								  .msg_iov = &w->iov_out[nout], .msg_iovlen = 1 };
			nout++;
		} else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD) {
			if (w->in[i].msg_len <= sizeof ((struct handoff *)0)->q) {
				struct handoff ho = { .fd = fd, .peer_len = w->in[i].msg_hdr.msg_namelen,
						      .len = (uint16_t)w->in[i].msg_len };
				memcpy(&ho.peer, &w->peers[i], sizeof ho.peer);
				memcpy(ho.q, w->qbuf[i], w->in[i].msg_len);
				if (write(h->handoff_pipe[1], &ho, sizeof ho) != (ssize_t)sizeof ho)
					h->handoff_dropped++;
			}
		}
	}
	pthread_mutex_unlock(&w->lock);
	for (int sent = 0; sent < nout;) {
		int r = sendmmsg(fd, w->outm + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		sent += r;
	}
	return got;
}

static void on_handoff(evutil_socket_t fd, short what, void *arg)
{
	struct dnsd *h = arg;
	struct handoff ho;
	for (int i = 0; i < 64 && read(fd, &ho, sizeof ho) == (ssize_t)sizeof ho; i++) {
		struct dnsd_answer_info info;
		struct dnsd_answer_opts o = opts_for(h, (struct sockaddr *)&ho.peer, DNSD_UDP);
		uint8_t out[REPLY_MAX];
		int n = dnsd_answer(h->workers[0].db, ho.q, ho.len, &o, out, sizeof out, &info);
		if (n > 0)
			sendto(ho.fd, out, (size_t)n, 0, (struct sockaddr *)&ho.peer, ho.peer_len);
		else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD)
			resolve(h, &info, ho.fd, &ho.peer, ho.peer_len, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->nfds == 1) {
		/* One socket: block in recvmmsg itself (its receive timeout lets the
		 * thread see a stop). */
		int fd = w->fds[0];
		struct timeval tv = { 0, 200000 };
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		while (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE))
			serve_udp_batch(w, fd, MSG_WAITFORONE);
		return NULL;
	}
	struct pollfd pfd[64];
	for (size_t i = 0; i < w->nfds && i < 64; i++)
		pfd[i] = (struct pollfd){ .fd = w->fds[i], .events = POLLIN };
	while (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE)) {
		int r = poll(pfd, w->nfds, 200);
		if (r <= 0)
			continue;
		for (size_t i = 0; i < w->nfds; i++)
			if (pfd[i].revents & POLLIN)
				while (serve_udp_batch(w, pfd[i].fd, MSG_DONTWAIT) == BATCH)
					;
	}
	return NULL;
}

/* ---- TCP (RFC 7766) ---- */

static void tcp_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->h->tcp_conns--;
	tcp_release(c);
}

/* Frees the connection once it is closed and no resolution refers to it. */
static void tcp_release(struct tcp_conn *c)
{
	if (c->closing && c->pending == 0)
		free(c);
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	if (c->closing || c->bev == NULL)
		return;
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	bufferevent_write(c->bev, prefix, 2);
	bufferevent_write(c->bev, msg, len);
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct dnsd *h = c->h;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		if (avail < 2)
			break;
		uint8_t prefix[2];
		evbuffer_copyout(in, prefix, 2);
		size_t len = (size_t)prefix[0] << 8 | prefix[1];
		if (len < ARBOR_DNS_HEADER_LEN || len > TCP_QUERY_MAX) {
			tcp_close(c); /* not a query we would answer: no point reading on */
			return;
		}
		if (avail < len + 2)
			break;
		uint8_t q[TCP_QUERY_MAX];
		evbuffer_drain(in, 2);
		evbuffer_remove(in, q, len);
		struct dnsd_answer_info info;
		struct dnsd_answer_opts o = opts_for(h, (struct sockaddr *)&c->peer, DNSD_TCP);
		uint8_t out[65535];
		int n = dnsd_answer(h->workers[0].db, q, len, &o, out, sizeof out, &info);
		dnsd_counters_add(&h->main_counters, &info);
		if (n > 0)
			tcp_send(c, out, (size_t)n);
		else if (info.verdict == DNSD_RECURSE_CHILD || info.verdict == DNSD_FORWARD)
			resolve(h, &info, -1, NULL, 0, c);
	}
	/* A message that trickles in (one byte a minute) gets the idle timeout as its
	 * whole deadline, not per byte. */
	double now = arbor_time_monotonic();
	if (evbuffer_get_length(in) == 0) {
		c->partial_since = 0;
	} else if (c->partial_since == 0) {
		c->partial_since = now;
	} else if (now - c->partial_since > h->cfg->tcp_idle_timeout) {
		h->tcp_timeouts++;
		tcp_close(c);
	}
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		c->h->tcp_timeouts++;
	tcp_close(c);
}

static void on_tcp_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct dnsd *h = arg;
	if (h->tcp_conns >= h->cfg->tcp_max_connections) {
		h->tcp_refused++;
		close(fd);
		return;
	}
	struct tcp_conn *c = xcalloc(1, sizeof *c);
	c->h = h;
	memcpy(&c->peer, sa, (size_t)salen < sizeof c->peer ? (size_t)salen : sizeof c->peer);
	c->bev = bufferevent_socket_new(arbor_daemon_base(h->d), fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_tcp_read, NULL, on_tcp_event, c);
	double t = h->cfg->tcp_idle_timeout;
	struct timeval tv = { (time_t)t, (suseconds_t)((t - floor(t)) * 1e6) };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	h->tcp_conns++;
	h->tcp_accepted++;
}

/* ---- start and stop ---- */

static int open_udp(const struct dnsd_listen *l, char *err, size_t errlen)
{
	int fd = socket(l->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, big = 4 << 20;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    (l->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->len) != 0) {
		snprintf(err, errlen, "listen %s (UDP): %s", l->text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	return fd;
}

static void on_health(void *ctx, const char *kind, const char *name, bool up)
{
	struct dnsd *h = ctx;
	bool upstream = strcmp(kind, "upstream") == 0;
	const char *type = upstream ? (up ? "upstream.up" : "upstream.down") : (up ? "child.reachable" : "child.unreachable");
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, upstream ? "upstream" : "child", name);
	arbor_event_emit(arbor_daemon_events(h->d), type, up ? "info" : "warning", name, data, "%s %s %s",
			 upstream ? "upstream" : "child", name, up ? "answers again" : "does not answer");
}

static void dnsd_free(struct dnsd *h)
{
	if (h->lease_timer)
		event_free(h->lease_timer);
	if (h->handoff_ev)
		event_free(h->handoff_ev);
	for (unsigned t = 0; h->workers && t < h->nworkers; t++) {
		struct worker *w = &h->workers[t];
		if (w->running) {
			__atomic_store_n(&w->running, false, __ATOMIC_RELEASE);
			pthread_join(w->thread, NULL);
		}
	}
	for (size_t i = 0; i < h->ntcp; i++)
		if (h->tcp[i])
			evconnlistener_free(h->tcp[i]);
	free(h->tcp);
	if (h->resolver)
		resolver_free(h->resolver);
	for (unsigned t = 0; h->workers && t < h->nworkers; t++) {
		struct worker *w = &h->workers[t];
		for (size_t i = 0; i < w->nfds; i++)
			if (w->fds[i] >= 0)
				close(w->fds[i]);
		free(w->fds);
		zone_db_free(w->db);
		free(w->qbuf);
		free(w->rbuf);
		pthread_mutex_destroy(&w->lock);
	}
	free(h->workers);
	for (int i = 0; i < 2; i++)
		if (h->handoff_pipe[i] > 0)
			close(h->handoff_pipe[i]);
	arbor_nl_close(h->nl);
	arbor_subnet_ids_free(&h->subnet_ids);
	free(h->leases);
	free(h->reverse);
	arbor_daemon_set_userdata(h->d, NULL);
	free(h);
}

/* The zones: the machine's own, each configured reverse zone, and the ULA /48's
 * ip6.arpa zone when the machine id is known. */
static int add_zones(struct dnsd *h, struct zone_db *db, char *err, size_t errlen)
{
	const struct dnsd_config *cfg = h->cfg;
	struct zone_soa soa = { .mname = NULL, .rname = NULL, .refresh = cfg->soa_refresh, .retry = cfg->soa_retry,
				.expire = cfg->soa_expire, .minimum = cfg->soa_minimum, .ttl = cfg->ttl };
	int64_t now = (int64_t)arbor_time_wall();
	const char *ns_rel[] = { "ns" };
	if (zone_db_add_zone(db, h->zone, &soa, ns_rel, 1, now, err, errlen) < 0)
		return -1;
	char ns_abs[ARBOR_DNS_NAME_TEXT_MAX + 4];
	snprintf(ns_abs, sizeof ns_abs, "ns.%s", h->zone);
	const char *ns[] = { ns_abs };
	char rname[ARBOR_DNS_NAME_TEXT_MAX + 16];
	snprintf(rname, sizeof rname, "hostmaster.%s", h->zone);
	soa.mname = ns_abs;
	soa.rname = rname;
	for (size_t i = 0; i < h->nreverse; i++)
		if (zone_db_add_zone(db, h->reverse[i], &soa, ns, 1, now, err, errlen) < 0)
			return -1;
	return 0;
}

static int dnsd_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	struct dnsd *h = xcalloc(1, sizeof *h);
	h->d = d;
	arbor_daemon_set_userdata(d, h);
	const struct arbor_config *acfg = arbor_daemon_config(d);
	const struct dnsd_config *cfg = acfg->daemon;
	h->cfg = cfg;
	const char *zone = cfg->zone ? cfg->zone : acfg->machine.domain;
	if (zone == NULL) {
		snprintf(err, errlen, "dnsd needs a zone: set machine.domain or dnsd.zone");
		dnsd_free(h);
		return -1;
	}
	snprintf(h->zone, sizeof h->zone, "%s%s", zone, zone[strlen(zone) - 1] == '.' ? "" : ".");
	char merr[200];
	h->has_machine_id = arbor_machine_id(&acfg->machine, h->machine_id, merr, sizeof merr) == 0;
	if (!h->has_machine_id)
		log_warn("no machine id (%s): no derived IPv6 addresses", merr);
	h->reverse = xcalloc(cfg->nreverse + 2, sizeof *h->reverse);
	for (size_t i = 0; i < cfg->nreverse; i++)
		if (sources_reverse_apex_v4(&cfg->reverse[i], h->reverse[h->nreverse], sizeof h->reverse[0]) == 0)
			h->nreverse++;
	if (h->has_machine_id && sources_reverse_apex_ula(h->machine_id, h->reverse[h->nreverse], sizeof h->reverse[0]) == 0)
		h->nreverse++;
	if (arbor_subnet_ids_load(&h->subnet_ids, arbor_daemon_state_dir(d), ARBOR_SUBNET_IDS_FILE, err, errlen) < 0) {
		dnsd_free(h);
		return -1;
	}
	h->nl = arbor_nl_open(err, errlen);
	if (h->nl == NULL) {
		dnsd_free(h);
		return -1;
	}
	h->nworkers = cfg->threads;
	h->workers = xcalloc(h->nworkers, sizeof *h->workers);
	for (unsigned t = 0; t < h->nworkers; t++) {
		struct worker *w = &h->workers[t];
		w->h = h;
		w->index = t;
		pthread_mutex_init(&w->lock, NULL);
		w->db = zone_db_new();
		w->qbuf = xcalloc(BATCH, UDP_MAX);
		w->rbuf = xcalloc(BATCH, REPLY_MAX);
		w->fds = xcalloc(cfg->nlisten + 1, sizeof *w->fds);
		if (add_zones(h, w->db, err, errlen) < 0) {
			dnsd_free(h);
			return -1;
		}
		for (size_t i = 0; i < cfg->nlisten; i++) {
			w->fds[i] = -1;
			int fd = open_udp(&cfg->listen[i], err, errlen);
			if (fd < 0) {
				dnsd_free(h);
				return -1;
			}
			w->fds[w->nfds++] = fd;
		}
	}
	struct event_base *base = arbor_daemon_base(d);
	h->tcp = xcalloc(cfg->nlisten + 1, sizeof *h->tcp);
	for (size_t i = 0; i < cfg->nlisten; i++) {
		h->tcp[i] = evconnlistener_new_bind(base, on_tcp_accept, h,
						    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
						    (const struct sockaddr *)&cfg->listen[i].addr, (int)cfg->listen[i].len);
		h->ntcp++;
		if (h->tcp[i] == NULL) {
			snprintf(err, errlen, "listen %s (TCP): %s", cfg->listen[i].text, strerror(errno));
			dnsd_free(h);
			return -1;
		}
	}
	struct resolver_config rc = { .child_port = cfg->child_port, .health = on_health, .health_ctx = h };
	for (size_t i = 0; i < cfg->nforwarders && i < RESOLVER_MAX_FORWARDERS; i++)
		rc.forwarders[rc.nforwarders++] = cfg->forwarders[i].addr;
	h->resolver = resolver_new(base, &rc, err, errlen);
	if (h->resolver == NULL) {
		dnsd_free(h);
		return -1;
	}
	if (pipe2(h->handoff_pipe, O_DIRECT | O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		dnsd_free(h);
		return -1;
	}
	h->handoff_ev = event_new(base, h->handoff_pipe[0], EV_READ | EV_PERSIST, on_handoff, h);
	event_add(h->handoff_ev, NULL);
	lease_view_stamp(cfg->leases_dir, &h->stamp);
	read_leases(h);
	refresh_sources(h, 0xf, "start");
	struct worker *w0 = &h->workers[0];
	for (unsigned t = 0; t < h->nworkers; t++) {
		h->workers[t].running = true;
		if (pthread_create(&h->workers[t].thread, NULL, worker_main, &h->workers[t]) != 0) {
			h->workers[t].running = false;
			snprintf(err, errlen, "thread: %s", strerror(errno));
			dnsd_free(h);
			return -1;
		}
	}
	struct timeval quarter = { 0, 250000 };
	h->lease_timer = event_new(base, -1, EV_PERSIST, on_lease_timer, h);
	event_add(h->lease_timer, &quarter);
	h->started = true;
	struct zone_info zi;
	zone_db_zone_info(w0->db, 0, &zi);
	log_info("serving %s (%zu records, serial %u) on %zu addresses, %u threads", zi.apex, zi.records, zi.serial,
		 cfg->nlisten, h->nworkers);
	return 0;
}

static void dnsd_stop(struct arbor_daemon *d)
{
	struct dnsd *h = dnsd_of(d);
	if (h == NULL)
		return;
	resolver_cancel_all(h->resolver);
	dnsd_free(h);
}

/* Reload: the zone contents and the resolver follow the new config at once; the
 * sockets and threads stay, so a change of listen or threads needs a restart and
 * is refused (the old config keeps running). */
static int dnsd_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct dnsd *h = dnsd_of(d);
	const struct dnsd_config *nc = next->daemon, *oc = h->cfg;
	bool same_listen = nc->nlisten == oc->nlisten && nc->threads == oc->threads && nc->child_port == oc->child_port;
	for (size_t i = 0; same_listen && i < nc->nlisten; i++)
		same_listen = strcmp(nc->listen[i].text, oc->listen[i].text) == 0;
	bool same_zones = nc->nreverse == oc->nreverse && ((nc->zone == NULL) == (oc->zone == NULL)) &&
			  (nc->zone == NULL || strcmp(nc->zone, oc->zone) == 0) &&
			  memcmp(nc->reverse, oc->reverse, nc->nreverse * sizeof *nc->reverse) == 0 &&
			  nc->nforwarders == oc->nforwarders &&
			  memcmp(nc->forwarders, oc->forwarders, nc->nforwarders * sizeof *nc->forwarders) == 0 &&
			  nc->ttl == oc->ttl && nc->soa_minimum == oc->soa_minimum;
	if (!same_listen || !same_zones) {
		snprintf(err, errlen, "listen, threads, child_port, zone, reverse_zones, forwarders, ttl and soa need a "
				      "restart; the running config is unchanged");
		return -1;
	}
	h->cfg = nc;
	refresh_sources(h, 0xf, "reload");
	return 0;
}

static int dnsd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct dnsd *h = dnsd_of(d);
	lease_view_stamp(h->cfg->leases_dir, &h->stamp);
	read_leases(h);
	resolver_flush_cache(h->resolver);
	refresh_sources(h, 0xf, "renew");
	snprintf(msg, msglen, "every record source re-read (%zu leases), cache flushed", h->nleases);
	return 0;
}

static void total_counters(const struct dnsd *h, struct dnsd_counters *c)
{
	*c = h->main_counters;
	for (unsigned t = 0; t < h->nworkers; t++) {
		const uint64_t *src = (const uint64_t *)&h->workers[t].counters;
		uint64_t *dst = (uint64_t *)c;
		for (size_t i = 0; i < sizeof *c / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

static void dnsd_status(struct arbor_daemon *d, cJSON *status)
{
	struct dnsd *h = dnsd_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "dnsd");
	cJSON *zones = cJSON_AddArrayToObject(own, "zones");
	const struct zone_db *db = h->workers[0].db;
	for (size_t z = 0; z < zone_db_zone_count(db); z++) {
		struct zone_info zi;
		if (zone_db_zone_info(db, z, &zi) != 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "zone", zi.apex);
		arbor_json_add_int(o, "serial", zi.serial);
		arbor_json_add_int(o, "records", (long long)zi.records);
		arbor_json_add_int(o, "delegations", (long long)zi.delegations);
		arbor_json_add_int(o, "shadowed", (long long)zi.shadowed);
		cJSON_AddItemToArray(zones, o);
	}
	cJSON *listen = cJSON_AddArrayToObject(own, "listen");
	for (size_t i = 0; i < h->cfg->nlisten; i++)
		cJSON_AddItemToArray(listen, cJSON_CreateString(h->cfg->listen[i].text));
	arbor_json_add_int(own, "threads", h->nworkers);
	arbor_json_add_int(own, "leases", (long long)h->nleases);
	struct dnsd_counters c;
	total_counters(h, &c);
	cJSON *q = cJSON_AddObjectToObject(own, "queries");
	arbor_json_add_int(q, "total", (long long)c.queries);
	arbor_json_add_int(q, "answered", (long long)c.answered);
	arbor_json_add_int(q, "dropped", (long long)c.dropped);
	arbor_json_add_int(q, "nxdomain", (long long)c.nxdomain);
	arbor_json_add_int(q, "formerr", (long long)c.formerr);
	arbor_json_add_int(q, "refused", (long long)c.refused);
	arbor_json_add_int(q, "truncated", (long long)c.truncated);
	arbor_json_add_int(q, "referrals", (long long)c.referrals);
	arbor_json_add_int(q, "recursed", (long long)c.recurse_child);
	arbor_json_add_int(q, "forwarded", (long long)c.forwarded);
	cJSON *tcp = cJSON_AddObjectToObject(own, "tcp");
	arbor_json_add_int(tcp, "open", h->tcp_conns);
	arbor_json_add_int(tcp, "accepted", (long long)h->tcp_accepted);
	arbor_json_add_int(tcp, "refused", (long long)h->tcp_refused);
	arbor_json_add_int(tcp, "timeouts", (long long)h->tcp_timeouts);
	if (h->last_source_error[0])
		cJSON_AddStringToObject(own, "last_source_error", h->last_source_error);
	resolver_status(h->resolver, own);
}

static enum arbor_health dnsd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct dnsd *h = dnsd_of(d);
	if (h->source_errors) {
		char reason[300];
		snprintf(reason, sizeof reason, "a record source failed: %s", h->last_source_error);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		return ARBOR_HEALTH_DEGRADED;
	}
	return ARBOR_HEALTH_OK;
}

static void dnsd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct dnsd *h = dnsd_of(d);
	struct dnsd_counters c;
	total_counters(h, &c);
	arbor_buf_printf(out,
			 "# HELP arbor_dnsd_queries_total DNS queries by outcome.\n# TYPE arbor_dnsd_queries_total counter\n"
			 "arbor_dnsd_queries_total{outcome=\"noerror\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"nxdomain\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"formerr\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"refused\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"notimp\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"servfail\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"dropped\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"forwarded\"} %llu\n"
			 "arbor_dnsd_queries_total{outcome=\"recursed\"} %llu\n",
			 (unsigned long long)c.noerror, (unsigned long long)c.nxdomain, (unsigned long long)c.formerr,
			 (unsigned long long)c.refused, (unsigned long long)c.notimp, (unsigned long long)c.servfail,
			 (unsigned long long)c.dropped, (unsigned long long)c.forwarded, (unsigned long long)c.recurse_child);
}

static const struct arbor_daemon_def dnsd_def = {
	.name = "dnsd",
	.binary = "arbor-dnsd",
	.summary = "Authoritative DNS for a tree of machines, with deterministic IPv6 addresses.",
	.parse = dnsd_config_parse,
	.free_config = dnsd_config_free,
	.start = dnsd_start,
	.reload = dnsd_reload,
	.stop = dnsd_stop,
	.renew = dnsd_renew,
	.status = dnsd_status,
	.health = dnsd_health,
	.metrics = dnsd_metrics,
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&dnsd_def, argc, argv);
}
