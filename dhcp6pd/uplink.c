/* One PD client on an uplink: socket, timer, netlink, lease file (see uplink.h).
 *
 * The client sends from the uplink's link-local address to ff02::1:2 and
 * receives on [::]:546 bound to the device. Kernel state: an unreachable route
 * for each delegated prefix (the machine's LANs and the routers below get more
 * specific routes; anything else in the prefix must not leak back upstream), and
 * each IA_NA address with its remaining lifetimes, so even a daemon killed for good
 * leaves nothing stale once the lifetimes run out. What was applied is kept in the
 * lease file, and removal takes away exactly that, also after a restart. */
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

#include "client_lease_file.h"
#include "clock.h"
#include "identity.h"
#include "json.h"
#include "log.h"
#include "statefile.h"
#include "sysctl.h"
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
	struct client6_spec spec; /* interface not owned */
	bool carrier;
	int fd;
	struct event *rd, *timer;
	struct pd_client client;
	struct uplink_applied applied;
	uplink_changed_fn *changed;
	void *ctx;
	char last_error[256];
	uint64_t malformed, apply_errors;
};

const char *uplink_ifname(const struct uplink *u)
{
	return u->ifname;
}

int uplink_ifindex(const struct uplink *u)
{
	return u->ifindex;
}

const struct pd_lease *uplink_lease(const struct uplink *u)
{
	return &u->client.lease;
}

void uplink_update_spec(struct uplink *u, const struct client6_spec *spec)
{
	u->spec = *spec;
	u->spec.interface = NULL;
}

static void set_error(struct uplink *u, const char *what)
{
	snprintf(u->last_error, sizeof u->last_error, "%s", what);
	log_warn("%s: %s", u->ifname, what);
}

/* ---- the lease file ---- */

static void write_lease_file_as(struct uplink *u, enum pd_state state, const struct pd_lease *lease)
{
	cJSON *doc = client_lease_file_encode(u->ifname, pd_state_name(state), lease, &u->client.hint,
					      u->client.hint_plen, &u->applied);
	char err[256];
	if (arbor_state_write_json(arbor_daemon_state_dir(u->d), u->filename, doc, err, sizeof err) != 0)
		set_error(u, err);
	cJSON_Delete(doc);
}

/* ---- kernel state ---- */

static bool same_prefix(const struct arbor_prefix6 *a, const struct in6_addr *addr, uint8_t len)
{
	return a->len == len && memcmp(&a->addr, addr, 16) == 0;
}

static struct arbor_nl_route unreachable_route(const struct arbor_prefix6 *p)
{
	struct arbor_nl_route r = { .dst = { .family = AF_INET6, .v6 = p->addr }, .prefixlen = p->len,
				    .type = RTN_UNREACHABLE, .protocol = RTPROT_DHCP };
	return r;
}

/* Removes applied routes and addresses that the lease (NULL: none) no longer has. */
static void remove_stale(struct uplink *u, const struct pd_lease *l)
{
	size_t k = 0;
	for (size_t i = 0; i < u->applied.nunreachable; i++) {
		const struct arbor_prefix6 *p = &u->applied.unreachable[i];
		bool keep = false;
		for (size_t j = 0; l && j < l->nprefix && u->spec.unreachable_route; j++)
			keep |= same_prefix(p, &l->prefix[j].addr, l->prefix[j].len);
		if (keep) {
			u->applied.unreachable[k++] = *p;
			continue;
		}
		struct arbor_nl_route r = unreachable_route(p);
		int rc = arbor_nl_route_delete(u->nl, &r);
		if (rc < 0 && rc != -ESRCH)
			set_error(u, arbor_nl_error(u->nl));
	}
	u->applied.nunreachable = k;
	k = 0;
	for (size_t i = 0; i < u->applied.naddresses; i++) {
		const struct arbor_prefix6 *p = &u->applied.addresses[i];
		bool keep = false;
		for (size_t j = 0; l && j < l->naddr; j++)
			keep |= memcmp(&p->addr, &l->addr[j].addr, 16) == 0;
		if (keep) {
			u->applied.addresses[k++] = *p;
			continue;
		}
		struct arbor_nl_ip ip = { .family = AF_INET6, .v6 = p->addr };
		int rc = arbor_nl_addr_delete(u->nl, u->ifindex, &ip, 128);
		if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENODEV)
			set_error(u, arbor_nl_error(u->nl));
	}
	u->applied.naddresses = k;
}

static uint32_t remaining(double until, double now)
{
	if (until >= PD_NEVER / 2)
		return 0; /* netlink: forever */
	double left = ceil(until - now);
	return left < 1 ? 1 : left > 0xfffffffe ? 0xfffffffe : (uint32_t)left;
}

static int apply(struct uplink *u, const struct pd_lease *l, double now)
{
	remove_stale(u, l);
	for (size_t i = 0; u->spec.unreachable_route && i < l->nprefix; i++) {
		struct arbor_prefix6 p = { l->prefix[i].addr, l->prefix[i].len };
		bool have = false;
		for (size_t j = 0; j < u->applied.nunreachable; j++)
			have |= same_prefix(&u->applied.unreachable[j], &p.addr, p.len);
		struct arbor_nl_route r = unreachable_route(&p);
		if (arbor_nl_route_replace(u->nl, &r) < 0) {
			set_error(u, arbor_nl_error(u->nl));
			u->apply_errors++;
			return -EIO;
		}
		if (!have && u->applied.nunreachable < APPLIED_MAX)
			u->applied.unreachable[u->applied.nunreachable++] = p;
	}
	for (size_t i = 0; i < l->naddr; i++) {
		const struct pd_entry *e = &l->addr[i];
		struct arbor_nl_ip ip = { .family = AF_INET6, .v6 = e->addr };
		struct arbor_nl_addr_opts o = { .valid_lft = remaining(e->valid_until, now),
						.preferred_lft = remaining(e->preferred_until, now), .replace = true };
		if (e->preferred_until <= now)
			o.preferred_lft = 1; /* 0 would mean "as long as valid": deprecated within a second */
		if (arbor_nl_addr_add(u->nl, u->ifindex, &ip, 128, &o) < 0) {
			set_error(u, arbor_nl_error(u->nl));
			u->apply_errors++;
			continue; /* an address the kernel refuses does not spoil the prefix */
		}
		bool have = false;
		for (size_t j = 0; j < u->applied.naddresses; j++)
			have |= memcmp(&u->applied.addresses[j].addr, &e->addr, 16) == 0;
		if (!have && u->applied.naddresses < APPLIED_MAX)
			u->applied.addresses[u->applied.naddresses++] = (struct arbor_prefix6){ e->addr, 128 };
	}
	return 0;
}

/* ---- the state machine's callbacks ---- */

static void on_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct uplink *u = ctx;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(DHCP6_SERVER_PORT),
				   .sin6_scope_id = (uint32_t)u->ifindex };
	inet_pton(AF_INET6, "ff02::1:2", &to.sin6_addr);
	if (sendto(u->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "send to ff02::1:2: %s", strerror(errno));
		set_error(u, msg);
	}
}

static int on_lease(void *ctx, enum pd_event ev, const struct pd_lease *l, const struct pd_lease *old,
		    const char *reason)
{
	struct uplink *u = ctx;
	double now = arbor_time_wall();
	if (ev == PD_EV_LOST) {
		remove_stale(u, NULL);
		write_lease_file_as(u, u->client.state == PD_RELEASED ? PD_RELEASED : PD_INIT, NULL);
	} else {
		if (apply(u, l, now) < 0) {
			remove_stale(u, NULL);
			write_lease_file_as(u, PD_INIT, NULL);
			return -EIO;
		}
		u->last_error[0] = '\0';
		write_lease_file_as(u, PD_BOUND, l);
	}
	/* The file is on disk: the owner renumbers, then says so (prefix.* events). */
	if (u->changed)
		u->changed(u->ctx, u, ev, l, old, reason);
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
	double at = pd_client_next_wakeup(&u->client);
	if (at >= PD_NEVER / 2) {
		event_del(u->timer);
		return;
	}
	struct timeval tv = arbor_timeval(at - arbor_time_wall() + 0.001);
	event_add(u->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;
	pd_client_tick(&u->client, arbor_time_wall());
	reschedule(u);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct uplink *u = arg;
	static struct dhcp6_message msg; /* one loop thread: reused */
	for (int i = 0; i < 16; i++) {
		uint8_t pkt[DHCP6_MAX_PACKET];
		ssize_t n = recv(u->fd, pkt, sizeof pkt, MSG_TRUNC);
		if (n < 0)
			break;
		char err[200] = "longer than any DHCPv6 message";
		if ((size_t)n > sizeof pkt || dhcp6_parse(pkt, (size_t)n, &msg, err, sizeof err) < 0) {
			u->malformed++;
			log_debug("%s: malformed DHCPv6 message dropped: %s", u->ifname, err);
			continue;
		}
		pd_client_on_message(&u->client, &msg, arbor_time_wall());
	}
	reschedule(u);
}

static int open_socket(struct uplink *u, char *err, size_t errlen)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, hops = 1;
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(DHCP6_CLIENT_PORT) };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, u->ifname, (socklen_t)strlen(u->ifname)) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &u->ifindex, sizeof u->ifindex) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof any) != 0) {
		snprintf(err, errlen, "%s: DHCPv6 client socket: %s", u->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	u->fd = fd;
	return 0;
}

/* Reads the lease file; what a delegation that ran out while we were down had
 * applied is undone now. */
static void load_lease(struct uplink *u, struct pd_lease *saved, struct in6_addr *hint, uint8_t *hint_len, double now)
{
	char *text = NULL;
	size_t len;
	memset(saved, 0, sizeof *saved);
	*hint_len = 0;
	if (arbor_state_read(arbor_daemon_state_dir(u->d), u->filename, &text, &len, 1 << 20) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	char err[160] = "";
	if (doc == NULL || client_lease_file_decode(doc, saved, hint, hint_len, &u->applied, err, sizeof err) < 0) {
		log_warn("%s: %s unreadable (%s), starting without a delegation", u->ifname, u->filename,
			 err[0] ? err : "not JSON");
		saved->valid = false;
	}
	cJSON_Delete(doc);
	if (!saved->valid || pd_lease_expiry(saved) <= now) {
		saved->valid = false;
		remove_stale(u, NULL);
	}
}

struct uplink *uplink_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct client6_spec *spec,
			   const uint8_t *duid, uint16_t duid_len, uplink_changed_fn *changed, void *ctx, char *err,
			   size_t errlen)
{
	struct uplink *u = xcalloc(1, sizeof *u);
	u->d = d;
	u->nl = nl;
	u->fd = -1;
	u->changed = changed;
	u->ctx = ctx;
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
	if (arbor_nl_links(nl, &links, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (links[i].index == u->ifindex) {
				u->carrier = links[i].lower_up;
				if (!links[i].up && arbor_nl_link_set_up(nl, u->ifindex, true) < 0)
					log_warn("%s: set up: %s", u->ifname, arbor_nl_error(nl));
			}
		free(links);
	}
	if (spec->accept_ra) {
		/* With forwarding on, the kernel ignores RAs unless accept_ra is 2; the
		 * uplink's default route comes from them (RFC 7084, "the uplink keeps
		 * accepting RAs while forwarding"). */
		char key[64], serr[200];
		snprintf(key, sizeof key, "net/ipv6/conf/%s/accept_ra", u->ifname);
		if (arbor_sysctl_write(key, "2", serr, sizeof serr) < 0)
			set_error(u, serr);
	}
	if (open_socket(u, err, errlen) < 0) {
		free(u);
		return NULL;
	}
	double now = arbor_time_wall();
	struct pd_lease saved;
	struct in6_addr hint = IN6ADDR_ANY_INIT;
	uint8_t hint_len;
	load_lease(u, &saved, &hint, &hint_len, now);
	struct pd_client_config cfg = { .hint_len = spec->hint_len, .request_address = spec->request_address,
					.rapid_commit = spec->rapid_commit };
	memcpy(cfg.duid, duid, duid_len);
	cfg.duid_len = duid_len;
	cfg.iaid = spec->has_iaid ? spec->iaid : dhcp6pd_iaid_derive(u->ifname);
	uint32_t seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
		seed = (uint32_t)now ^ (uint32_t)getpid();
	struct pd_client_ops ops = { on_send, on_lease, on_note };
	pd_client_init(&u->client, &cfg, &ops, u, &saved, &hint, hint_len, seed, now);
	if (!u->carrier)
		pd_client_carrier(&u->client, false, now);
	struct event_base *base = arbor_daemon_base(d);
	u->rd = event_new(base, u->fd, EV_READ | EV_PERSIST, on_readable, u);
	u->timer = evtimer_new(base, on_timer, u);
	event_add(u->rd, NULL);
	if (u->carrier)
		pd_client_tick(&u->client, now);
	reschedule(u);
	log_info("%s: DHCPv6-PD client started (%s, iaid %u)", u->ifname, pd_state_name(u->client.state), cfg.iaid);
	return u;
}

void uplink_close(struct uplink *u, bool release)
{
	if (u == NULL)
		return;
	if (release && u->spec.release_on_stop && u->client.lease.valid)
		pd_client_release(&u->client, arbor_time_wall());
	else
		write_lease_file_as(u, u->client.state, &u->client.lease);
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
	pd_client_carrier(&u->client, up, arbor_time_wall());
	reschedule(u);
}

int uplink_command(struct uplink *u, const char *command, char *msg, size_t msglen)
{
	double now = arbor_time_wall();
	int rc;
	if (strcmp(command, "renew") == 0)
		rc = pd_client_renew(&u->client, now);
	else if (strcmp(command, "rebind") == 0)
		rc = pd_client_rebind(&u->client, now);
	else if (strcmp(command, "release") == 0)
		rc = pd_client_release(&u->client, now);
	else
		rc = -EINVAL;
	reschedule(u);
	arbor_client_command_message(rc, u->ifname, command, pd_state_name(u->client.state), msg, msglen);
	return rc;
}

void uplink_status(const struct uplink *u, cJSON *arr)
{
	const struct pd_client *c = &u->client;
	cJSON *o = client_lease_file_encode(u->ifname, pd_state_name(c->state), &c->lease, &c->hint, c->hint_plen,
					    &u->applied);
	char duid[DHCP6_DUID_MAX * 3 + 1];
	duid_format(c->cfg.duid, c->cfg.duid_len, duid, sizeof duid);
	cJSON_AddStringToObject(o, "duid", duid);
	arbor_json_add_int(o, "iaid", c->cfg.iaid);
	cJSON_AddBoolToObject(o, "carrier", u->carrier);
	arbor_json_add_int(o, "sol_max_rt", (long long)c->sol_max_rt);
	if (u->last_error[0])
		cJSON_AddStringToObject(o, "last_error", u->last_error);
	if (c->last_status[0])
		cJSON_AddStringToObject(o, "last_status", c->last_status);
	cJSON *pk = cJSON_AddObjectToObject(o, "packets");
	arbor_json_add_int(pk, "sent", (long long)c->sent);
	arbor_json_add_int(pk, "received", (long long)c->received);
	arbor_json_add_int(pk, "ignored", (long long)c->ignored);
	arbor_json_add_int(pk, "malformed", (long long)u->malformed);
	cJSON_AddItemToArray(arr, o);
}

void uplink_metrics(const struct uplink *u, struct arbor_buf *out)
{
	const struct pd_client *c = &u->client;
	arbor_buf_printf(out,
			 "arbor_dhcp6pd_client_packets_total{interface=\"%s\",outcome=\"sent\"} %llu\n"
			 "arbor_dhcp6pd_client_packets_total{interface=\"%s\",outcome=\"received\"} %llu\n"
			 "arbor_dhcp6pd_client_packets_total{interface=\"%s\",outcome=\"ignored\"} %llu\n"
			 "arbor_dhcp6pd_client_packets_total{interface=\"%s\",outcome=\"malformed\"} %llu\n"
			 "arbor_dhcp6pd_client_status_errors_total{interface=\"%s\"} %llu\n"
			 "arbor_dhcp6pd_client_bound{interface=\"%s\"} %d\n",
			 u->ifname, (unsigned long long)c->sent, u->ifname, (unsigned long long)c->received, u->ifname,
			 (unsigned long long)c->ignored, u->ifname, (unsigned long long)u->malformed, u->ifname,
			 (unsigned long long)c->status_errors, u->ifname, c->lease.valid ? 1 : 0);
}
