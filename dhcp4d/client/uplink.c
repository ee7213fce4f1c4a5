/* One DHCP client on an uplink: socket, timer, netlink, lease file, events.
 *
 * Receiving before we have an address: the client sets the broadcast flag in every
 * state without one (RFC 2131 §4.1), so servers broadcast their answers, and a UDP
 * socket bound to port 68 on the device gets them; no packet socket needed.
 *
 * Kernel state: the address goes in with the lease's remaining time as its valid
 * lifetime, so even a daemon killed for good never leaves a stale address behind:
 * the kernel drops it (and the routes through it) when the lease would have ended.
 * Everything we add is recorded in the lease file (applied), and removal takes away
 * exactly that, also after a restart. */
#include "uplink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "client_lease_file.h"
#include "json.h"
#include "log.h"
#include "statefile.h"
#include "clock.h"
#include "xalloc.h"

#ifndef RTPROT_DHCP
#define RTPROT_DHCP 16
#endif

struct uplink {
	struct arbor_daemon *d;
	struct arbor_nl *nl;
	char ifname[IF_NAMESIZE];
	char filename[IF_NAMESIZE + 16];
	int ifindex;
	uint32_t metric;
	bool use_routes, use_mtu, release_on_stop;
	bool carrier, admin_down;
	struct client_identity id; /* what it tells servers (client.id once begun) */
	bool begun;
	int fd;
	struct event *rd, *timer;
	struct dhcp_client client;
	struct applied_state applied;
	char last_error[200];
	uint64_t malformed, apply_errors;
	struct dhcp_message msg; /* decode buffer */
};

const char *uplink_ifname(const struct uplink *u)
{
	return u->ifname;
}

int uplink_ifindex(const struct uplink *u)
{
	return u->ifindex;
}

static void uplink_update_spec(struct uplink *u, const struct client_spec *spec)
{
	u->metric = spec->route_metric;
	u->use_routes = spec->use_routes;
	u->use_mtu = spec->use_mtu;
	u->release_on_stop = spec->release_on_stop;
}

static void set_error(struct uplink *u, const char *what)
{
	snprintf(u->last_error, sizeof u->last_error, "%s", what);
	log_warn("%s: %s", u->ifname, what);
}

/* ---- the lease file ---- */

/* Writes the file for a given state and lease (NULL: none); the state machine's
 * own fields lag behind inside its callback, so the caller says what will hold. */
static void write_lease_file_as(struct uplink *u, enum client_state state, const struct client_lease *lease)
{
	cJSON *doc = client_lease_file_encode(u->ifname, client_state_name(state), lease, &u->applied);
	char err[256];
	if (arbor_state_write_json(arbor_daemon_state_dir(u->d), u->filename, doc, err, sizeof err) != 0)
		set_error(u, err);
	cJSON_Delete(doc);
}

static void write_lease_file(struct uplink *u)
{
	write_lease_file_as(u, u->client.state, &u->client.lease);
}

/* ---- kernel state ---- */

static struct arbor_nl_route nl_route(const struct uplink *u, const struct applied_route *r)
{
	struct arbor_nl_route nr = {
		.dst = { .family = AF_INET, .v4 = r->dest },
		.prefixlen = r->prefix_len,
		.ifindex = u->ifindex,
		.metric = u->applied.metric,
		.protocol = RTPROT_DHCP,
	};
	if (r->gateway.s_addr)
		nr.gateway = (struct arbor_nl_ip){ .family = AF_INET, .v4 = r->gateway };
	return nr;
}

static bool same_route(const struct applied_route *a, const struct applied_route *b)
{
	return a->dest.s_addr == b->dest.s_addr && a->prefix_len == b->prefix_len && a->gateway.s_addr == b->gateway.s_addr;
}

static bool in_subnet(struct in_addr a, struct in_addr net, uint8_t plen)
{
	uint32_t mask = plen ? 0xffffffffu << (32 - plen) : 0;
	return (ntohl(a.s_addr) & mask) == (ntohl(net.s_addr) & mask);
}

/* The routes a lease asks for (RFC 3442: classless routes replace the router
 * option), with an on-link host route first for a router outside the subnet. */
static size_t desired_routes(const struct uplink *u, const struct client_lease *l, struct applied_route *out)
{
	size_t n = 0;
	if (!u->use_routes)
		return 0;
	const struct dhcp_client_options *o = &l->opts;
	struct applied_route want[DHCP_ROUTES_MAX + 1];
	size_t nwant = 0;
	if (o->has_classless_routes) {
		for (size_t i = 0; i < o->n_routes && i < DHCP_ROUTES_MAX; i++)
			want[nwant++] = (struct applied_route){ o->routes[i].dest, o->routes[i].prefix_len, o->routes[i].router };
	} else if (o->n_routers > 0) {
		want[nwant++] = (struct applied_route){ { 0 }, 0, o->routers[0] };
	}
	for (size_t i = 0; i < nwant; i++) {
		struct in_addr gw = want[i].gateway;
		if (gw.s_addr && !in_subnet(gw, l->addr, o->prefix_len)) {
			struct applied_route host = { gw, 32, { 0 } };
			bool have = false;
			for (size_t j = 0; j < n; j++)
				have |= same_route(&out[j], &host);
			if (!have && n < APPLIED_ROUTES_MAX)
				out[n++] = host;
		}
	}
	for (size_t i = 0; i < nwant && n < APPLIED_ROUTES_MAX; i++)
		out[n++] = want[i];
	return n;
}

static void remove_routes(struct uplink *u, const struct applied_route *keep, size_t nkeep)
{
	/* Backwards: gateway routes before the host routes that make them reachable. */
	size_t kept = 0;
	struct applied_route still[APPLIED_ROUTES_MAX];
	for (size_t i = u->applied.nroutes; i-- > 0;) {
		const struct applied_route *r = &u->applied.routes[i];
		bool wanted = false;
		for (size_t j = 0; j < nkeep; j++)
			wanted |= same_route(r, &keep[j]);
		if (wanted && keep) {
			still[kept++] = *r;
			continue;
		}
		struct arbor_nl_route nr = nl_route(u, r);
		int rc = arbor_nl_route_delete(u->nl, &nr);
		if (rc < 0 && rc != -ESRCH)
			set_error(u, arbor_nl_error(u->nl));
	}
	/* still[] is in reverse order. */
	u->applied.nroutes = kept;
	for (size_t i = 0; i < kept; i++)
		u->applied.routes[i] = still[kept - 1 - i];
}

static void restore_mtu(struct uplink *u)
{
	if (u->applied.mtu_restore == 0)
		return;
	if (arbor_nl_link_set_mtu(u->nl, u->ifindex, u->applied.mtu_restore) < 0)
		set_error(u, arbor_nl_error(u->nl));
	u->applied.mtu_restore = 0;
}

static void remove_address(struct uplink *u)
{
	if (!u->applied.address)
		return;
	struct arbor_nl_ip ip = { .family = AF_INET, .v4 = u->applied.addr };
	int rc = arbor_nl_addr_delete(u->nl, u->ifindex, &ip, u->applied.prefix_len);
	if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENODEV)
		set_error(u, arbor_nl_error(u->nl));
	u->applied.address = false;
}

/* Takes away everything we applied: routes, MTU, address, in that order. */
static void unapply(struct uplink *u)
{
	remove_routes(u, NULL, 0);
	restore_mtu(u);
	remove_address(u);
}

static unsigned current_mtu(struct uplink *u)
{
	struct arbor_nl_link *links;
	size_t n;
	unsigned mtu = 0;
	if (arbor_nl_links(u->nl, &links, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (links[i].index == u->ifindex)
			mtu = links[i].mtu;
	free(links);
	return mtu;
}

static int apply(struct uplink *u, const struct client_lease *l, double now)
{
	const struct dhcp_client_options *o = &l->opts;
	if (u->applied.address && (u->applied.addr.s_addr != l->addr.s_addr || u->applied.prefix_len != o->prefix_len)) {
		remove_routes(u, NULL, 0);
		remove_address(u);
	}
	struct in_addr bcast = o->broadcast;
	if (!o->has_broadcast) {
		uint32_t mask = o->prefix_len ? 0xffffffffu << (32 - o->prefix_len) : 0;
		bcast.s_addr = htonl(ntohl(l->addr.s_addr) | ~mask);
	}
	double left = l->expiry - now;
	struct arbor_nl_addr_opts ao = {
		.broadcast = o->prefix_len < 31 ? &bcast : NULL,
		.valid_lft = l->expiry >= 1e17 ? 0 : (uint32_t)fmax(1, ceil(left)),
		.replace = true,
	};
	struct arbor_nl_ip ip = { .family = AF_INET, .v4 = l->addr };
	if (arbor_nl_addr_add(u->nl, u->ifindex, &ip, o->prefix_len, &ao) < 0) {
		set_error(u, arbor_nl_error(u->nl));
		return -EIO;
	}
	u->applied.address = true;
	u->applied.addr = l->addr;
	u->applied.prefix_len = o->prefix_len;

	if (u->use_mtu && o->mtu) {
		unsigned cur = current_mtu(u);
		if (cur && cur != o->mtu) {
			if (arbor_nl_link_set_mtu(u->nl, u->ifindex, o->mtu) < 0) {
				set_error(u, arbor_nl_error(u->nl)); /* not fatal: the address works */
			} else if (u->applied.mtu_restore == 0) {
				u->applied.mtu_restore = cur;
			}
		}
	} else {
		restore_mtu(u);
	}

	struct applied_route want[APPLIED_ROUTES_MAX];
	size_t nwant = desired_routes(u, l, want);
	if (u->applied.metric != u->metric)
		remove_routes(u, NULL, 0); /* the metric is part of a route's identity */
	else
		remove_routes(u, want, nwant);
	u->applied.metric = u->metric;
	for (size_t i = 0; i < nwant; i++) {
		bool have = false;
		for (size_t j = 0; j < u->applied.nroutes; j++)
			have |= same_route(&u->applied.routes[j], &want[i]);
		if (have)
			continue;
		struct arbor_nl_route nr = nl_route(u, &want[i]);
		if (want[i].prefix_len == 32 && want[i].gateway.s_addr == 0)
			nr.type = RTN_UNICAST;
		int rc = arbor_nl_route_replace(u->nl, &nr);
		if (rc < 0) {
			/* A route the kernel refuses (a router nobody can reach) is reported; the
			 * lease and the other routes still stand. */
			char msg[200];
			snprintf(msg, sizeof msg, "%s", arbor_nl_error(u->nl));
			set_error(u, msg);
			u->apply_errors++;
			continue;
		}
		if (u->applied.nroutes < APPLIED_ROUTES_MAX)
			u->applied.routes[u->applied.nroutes++] = want[i];
	}
	return 0;
}

/* ---- events ---- */

static void emit(struct uplink *u, enum client_lease_event ev, const struct client_lease *l)
{
	const struct dhcp_client_options *o = &l->opts;
	char addr[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &l->addr, addr, sizeof addr);
	inet_ntop(AF_INET, &o->server_id, server, sizeof server);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", u->ifname);
	cJSON_AddStringToObject(data, "address", addr);
	cJSON_AddNumberToObject(data, "prefix_len", o->prefix_len);
	cJSON_AddStringToObject(data, "server", server);
	if (o->n_routers) {
		char r[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &o->routers[0], r, sizeof r);
		cJSON_AddStringToObject(data, "router", r);
	}
	cJSON *dns = cJSON_AddArrayToObject(data, "dns_servers");
	for (size_t i = 0; i < o->n_dns && i < DHCP_ADDRS_MAX; i++) {
		char s[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &o->dns[i], s, sizeof s);
		cJSON_AddItemToArray(dns, cJSON_CreateString(s));
	}
	if (o->domain_name[0])
		cJSON_AddStringToObject(data, "domain_name", o->domain_name);
	if (l->expiry < 1e17)
		arbor_json_add_fixed(data, "expiry", l->expiry, 3);
	const char *type = client_event_name(ev);
	bool bad = ev == CLIENT_EV_EXPIRED || ev == CLIENT_EV_NAK;
	arbor_event_emit(arbor_daemon_events(u->d), type, bad ? "warning" : "info", u->ifname, data,
			 "%s: %s %s/%u from %s", u->ifname, type + 6, addr, o->prefix_len, server);
}

/* ---- the state machine's callbacks ---- */

static void on_send(void *ctx, const uint8_t *pkt, size_t len, struct in_addr dest)
{
	struct uplink *u = ctx;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = dest };
	if (dest.s_addr == 0)
		to.sin_addr.s_addr = INADDR_BROADCAST;
	if (sendto(u->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "send to %s: %s", inet_ntoa(to.sin_addr), strerror(errno));
		set_error(u, msg);
	}
}

static int on_lease(void *ctx, enum client_lease_event ev, const struct client_lease *l, const struct client_lease *old)
{
	struct uplink *u = ctx;
	double now = arbor_time_wall();
	int rc = 0;
	switch (ev) {
	case CLIENT_EV_BOUND:
	case CLIENT_EV_RENEWED:
	case CLIENT_EV_REBOUND:
		rc = apply(u, l, now);
		if (rc < 0) {
			unapply(u);
			write_lease_file_as(u, CLIENT_INIT, NULL);
			return rc;
		}
		u->last_error[0] = '\0';
		break;
	case CLIENT_EV_EXPIRED:
	case CLIENT_EV_NAK:
	case CLIENT_EV_RELEASED:
		unapply(u);
		break;
	}
	(void)old;
	/* The file holds what the client will have after this call: the lease,
	 * bound, or none after a removal. */
	bool removed = ev == CLIENT_EV_EXPIRED || ev == CLIENT_EV_NAK || ev == CLIENT_EV_RELEASED;
	write_lease_file_as(u, removed ? (ev == CLIENT_EV_RELEASED ? CLIENT_RELEASED : CLIENT_INIT) : CLIENT_BOUND,
			    removed ? NULL : l);
	emit(u, ev, l);
	return 0;
}

static void on_note(void *ctx, const char *msg)
{
	struct uplink *u = ctx;
	log_info("%s: %s", u->ifname, msg);
}

/* ---- the loop ---- */

static void reschedule(struct uplink *u)
{
	double at = client_next_wakeup(&u->client);
	if (at >= 1e17) {
		event_del(u->timer);
		return;
	}
	double wait = fmax(0, at - arbor_time_wall());
	struct timeval tv = { (time_t)wait, (suseconds_t)((wait - floor(wait)) * 1e6) + 1000 };
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	event_add(u->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;
	client_tick(&u->client, arbor_time_wall());
	reschedule(u);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;
	for (int i = 0; i < 16; i++) {
		uint8_t pkt[DHCP_MAX_PACKET];
		ssize_t n = recv(u->fd, pkt, sizeof pkt, 0);
		if (n < 0)
			break;
		char err[160];
		if (dhcp_parse(pkt, (size_t)n, &u->msg, err, sizeof err) < 0) {
			u->malformed++;
			continue;
		}
		client_on_message(&u->client, &u->msg, arbor_time_wall());
	}
	reschedule(u);
}

static int open_socket(struct uplink *u, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(68) };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, u->ifname, (socklen_t)strlen(u->ifname)) != 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) != 0) {
		snprintf(err, errlen, "%s: DHCP client socket: %s", u->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	u->fd = fd;
	return 0;
}

/* Reads the lease file; a lease that ran out while we were down is undone now. */
static void load_lease(struct uplink *u, struct client_lease *saved, double now)
{
	char *text = NULL;
	size_t len;
	memset(saved, 0, sizeof *saved);
	if (arbor_state_read(arbor_daemon_state_dir(u->d), u->filename, &text, &len, 1 << 20) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	char err[160];
	if (doc == NULL || client_lease_file_decode(doc, saved, &u->applied, err, sizeof err) < 0) {
		log_warn("%s: %s unreadable, starting from INIT", u->ifname, u->filename);
		saved->valid = false;
	}
	cJSON_Delete(doc);
	if (!saved->valid || saved->expiry <= now) {
		saved->valid = false;
		unapply(u);
	}
}

struct uplink *uplink_prepare(struct arbor_daemon *d, struct arbor_nl *nl, const struct client_spec *spec,
			      const char *hostname, char *err, size_t errlen)
{
	struct uplink *u = xcalloc(1, sizeof *u);
	u->d = d;
	u->nl = nl;
	u->fd = -1;
	snprintf(u->ifname, sizeof u->ifname, "%s", spec->interface);
	snprintf(u->filename, sizeof u->filename, "client-%s.json", spec->interface);
	uplink_update_spec(u, spec);
	u->ifindex = arbor_nl_link_index(nl, u->ifname);
	if (u->ifindex < 0) {
		snprintf(err, errlen, "clients: interface %s: %s", u->ifname, strerror(-u->ifindex));
		free(u);
		return NULL;
	}
	struct arbor_nl_link *links;
	size_t n;
	struct client_identity *id = &u->id;
	bool found = false;
	if (arbor_nl_links(nl, &links, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (links[i].index == u->ifindex && links[i].has_mac) {
				memcpy(id->mac, links[i].mac, 6);
				u->carrier = links[i].lower_up;
				u->admin_down = !links[i].up;
				found = true;
			}
		free(links);
	}
	if (!found) {
		snprintf(err, errlen, "clients: interface %s has no Ethernet address", u->ifname);
		free(u);
		return NULL;
	}
	if (spec->client_id_len) {
		memcpy(id->client_id, spec->client_id, spec->client_id_len);
		id->client_id_len = spec->client_id_len;
	} else {
		id->client_id[0] = 1; /* RFC 2132 §9.14: type 1 (Ethernet) + MAC */
		memcpy(id->client_id + 1, id->mac, 6);
		id->client_id_len = 7;
	}
	const char *hn = spec->hostname ? spec->hostname : hostname;
	if (hn)
		snprintf(id->hostname, sizeof id->hostname, "%s", hn);
	if (spec->vendor_class)
		snprintf(id->vendor_class, sizeof id->vendor_class, "%s", spec->vendor_class);
	return u;
}

int uplink_bind(struct uplink *u, char *err, size_t errlen)
{
	return open_socket(u, err, errlen);
}

void uplink_begin(struct uplink *u)
{
	if (u->admin_down && arbor_nl_link_set_up(u->nl, u->ifindex, true) < 0)
		log_warn("%s: set up: %s", u->ifname, arbor_nl_error(u->nl));
	double now = arbor_time_wall();
	struct client_lease saved;
	load_lease(u, &saved, now);
	uint32_t seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
		seed = (uint32_t)now ^ (uint32_t)getpid();
	struct client_ops ops = { on_send, on_lease, on_note };
	client_init(&u->client, &u->id, &ops, u, &saved, seed, now);
	if (!u->carrier)
		client_carrier(&u->client, false, now);
	struct event_base *base = arbor_daemon_base(u->d);
	u->rd = event_new(base, u->fd, EV_READ | EV_PERSIST, on_readable, u);
	u->timer = evtimer_new(base, on_timer, u);
	event_add(u->rd, NULL);
	u->begun = true;
	if (u->carrier)
		client_tick(&u->client, now);
	reschedule(u);
	log_info("%s: DHCP client started (%s)", u->ifname, client_state_name(u->client.state));
}

struct uplink *uplink_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct client_spec *spec,
			   const char *hostname, char *err, size_t errlen)
{
	struct uplink *u = uplink_prepare(d, nl, spec, hostname, err, errlen);
	if (u && uplink_bind(u, err, errlen) != 0) {
		uplink_close(u, false);
		return NULL;
	}
	if (u)
		uplink_begin(u);
	return u;
}

bool uplink_same_client(const struct uplink *a, const struct uplink *b)
{
	const struct client_identity *x = &a->id, *y = &b->id;
	return a->ifindex == b->ifindex && memcmp(x->mac, y->mac, 6) == 0 && x->client_id_len == y->client_id_len &&
	       memcmp(x->client_id, y->client_id, x->client_id_len) == 0 && strcmp(x->hostname, y->hostname) == 0 &&
	       strcmp(x->vendor_class, y->vendor_class) == 0;
}

void uplink_reconfigure(struct uplink *u, const struct client_spec *spec)
{
	bool kernel = u->metric != spec->route_metric || u->use_routes != spec->use_routes || u->use_mtu != spec->use_mtu;
	uplink_update_spec(u, spec);
	if (!kernel || !u->client.lease.valid || !u->applied.address)
		return;
	/* The lease stands; what it puts in the kernel follows the new settings now
	 * (routes with the new metric, or none; the MTU, or the old one back). */
	log_info("%s: client settings changed: applying the lease again", u->ifname);
	if (apply(u, &u->client.lease, arbor_time_wall()) == 0)
		u->last_error[0] = '\0';
	write_lease_file(u);
}

void uplink_close(struct uplink *u, bool release)
{
	if (u == NULL)
		return;
	/* Prepared and never begun: at most its socket is ours. */
	if (u->begun && release && u->release_on_stop && u->client.lease.valid)
		client_release(&u->client, arbor_time_wall());
	else if (u->begun)
		write_lease_file(u);
	if (u->rd)
		event_free(u->rd);
	if (u->timer)
		event_free(u->timer);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
}

void uplink_link_changed(struct uplink *u, bool exists, bool carrier)
{
	bool up = exists && carrier;
	if (up == u->carrier)
		return;
	u->carrier = up;
	log_info("%s: carrier %s", u->ifname, up ? "up" : "down");
	client_carrier(&u->client, up, arbor_time_wall());
	if (up)
		client_tick(&u->client, arbor_time_wall());
	reschedule(u);
}

int uplink_command(struct uplink *u, const char *command, char *msg, size_t msglen)
{
	double now = arbor_time_wall();
	int rc;
	if (strcmp(command, "renew") == 0)
		rc = client_renew(&u->client, now);
	else if (strcmp(command, "rebind") == 0)
		rc = client_rebind(&u->client, now);
	else if (strcmp(command, "release") == 0)
		rc = client_release(&u->client, now);
	else
		rc = -EINVAL;
	reschedule(u);
	if (rc == 0)
		snprintf(msg, msglen, "%s: %s (now %s)", u->ifname, command, client_state_name(u->client.state));
	else if (rc == -ENETDOWN)
		snprintf(msg, msglen, "%s: no carrier", u->ifname);
	else if (rc == -EAGAIN)
		snprintf(msg, msglen, "%s: nothing to %s in state %s", u->ifname, command, client_state_name(u->client.state));
	else
		snprintf(msg, msglen, "%s: unknown command %s", u->ifname, command);
	return rc;
}

void uplink_status(const struct uplink *u, cJSON *arr)
{
	cJSON *o = client_lease_file_encode(u->ifname, client_state_name(u->client.state), &u->client.lease, &u->applied);
	cJSON_AddBoolToObject(o, "carrier", u->carrier);
	if (u->last_error[0])
		cJSON_AddStringToObject(o, "last_error", u->last_error);
	cJSON_AddItemToArray(arr, o);
}

void uplink_metrics(const struct uplink *u, struct arbor_buf *out)
{
	const struct dhcp_client *c = &u->client;
	arbor_buf_printf(out,
			 "arbor_dhcp4d_client_packets_total{interface=\"%s\",outcome=\"sent\"} %llu\n"
			 "arbor_dhcp4d_client_packets_total{interface=\"%s\",outcome=\"received\"} %llu\n"
			 "arbor_dhcp4d_client_packets_total{interface=\"%s\",outcome=\"ignored\"} %llu\n"
			 "arbor_dhcp4d_client_packets_total{interface=\"%s\",outcome=\"malformed\"} %llu\n"
			 "arbor_dhcp4d_client_bound{interface=\"%s\"} %d\n",
			 u->ifname, (unsigned long long)c->sent, u->ifname, (unsigned long long)c->received, u->ifname,
			 (unsigned long long)c->ignored, u->ifname, (unsigned long long)u->malformed, u->ifname,
			 c->lease.valid ? 1 : 0);
}
