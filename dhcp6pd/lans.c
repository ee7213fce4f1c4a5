/* The LANs at work (see lans.h).
 *
 * RA timing (RFC 4861 §6.2.4-6.2.6): the first MAX_INITIAL_RTR_ADVERTISEMENTS (3)
 * at most 16 s apart, then every MinRtrAdvInterval..MaxRtrAdvInterval, never more
 * than a third of the shortest lifetime the last RA gave (lifetimes count down, so
 * hosts hear fresh ones long before theirs run out: systemd#16356). A solicitation
 * from a host with an address gets a unicast RA at once (rate-limited); one from
 * the unspecified address a multicast RA within 0.5 s, at most one per 3 s. A
 * change of what a LAN is told goes out at once, with two quick follow-ups. */
#include "lans.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr_derive.h"
#include "advertised.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "statefile.h"
#include "subnet_ids.h"
#include "xalloc.h"
#include "xorshift.h"

#define MAX_INITIAL_INTERVAL 16.0
#define MIN_DELAY_BETWEEN_RAS 3.0
#define MAX_RA_DELAY 0.5
#define UNICAST_PER_SECOND 10
#define DELEG_MAX 8

struct lan {
	struct lans *owner;
	const struct lan_spec *spec;
	char ifname[IF_NAMESIZE];
	int ifindex;
	bool carrier;
	int subnet_id;
	bool has_lladdr;
	uint8_t lladdr[6];
	uint32_t mtu;
	struct lan_adv adv[LAN_ADV_MAX];
	size_t nadv;
	struct lan_result plan;   /* the latest RA's (or update's) */
	double last_ra, last_mcast;
	unsigned initial_left;
	struct event *timer, *solicited;
	double window;            /* unicast rate limit: the current second */
	unsigned in_window;
	uint64_t ra_sent, ra_unicast, rs_received, rs_dropped, send_errors;
	char last_error[200];
};

struct lans {
	struct arbor_daemon *d;
	struct arbor_nl *nl;
	struct lan *v;
	size_t n;
	int fd;
	struct event *rd;
	struct arbor_subnet_ids ids;
	bool has_ula, has_iid;
	struct in6_addr ula48;
	uint8_t iid[8];
	char domain[256];
	struct lan_delegation deleg[DELEG_MAX];
	size_t ndeleg;
	bool default_route;
	uint64_t persist_errors;
	uint32_t rng;
};

static double random_unit(struct lans *l)
{
	return (double)(arbor_xorshift32(&l->rng) % 100001) / 100000.0;
}

static void set_error(struct lan *lan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct lan *lan, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lan->last_error, sizeof lan->last_error, fmt, ap);
	va_end(ap);
	log_warn("%s: %s", lan->ifname, lan->last_error);
}

/* ---- the advertised list on disk ---- */

static int persist(struct lans *l)
{
	struct advertised_lan *all = xcalloc(l->n + 1, sizeof *all);
	for (size_t i = 0; i < l->n; i++) {
		snprintf(all[i].ifname, sizeof all[i].ifname, "%s", l->v[i].ifname);
		memcpy(all[i].adv, l->v[i].adv, sizeof all[i].adv);
		all[i].nadv = l->v[i].nadv;
	}
	cJSON *doc = advertised_encode(all, l->n);
	free(all);
	char err[256];
	int rc = arbor_state_write_json(arbor_daemon_state_dir(l->d), ADVERTISED_FILE, doc, err, sizeof err);
	cJSON_Delete(doc);
	if (rc != 0) {
		l->persist_errors++;
		log_err("%s", err);
	}
	return rc;
}

static void load_advertised(struct lans *l)
{
	char *text = NULL;
	size_t len;
	if (arbor_state_read(arbor_daemon_state_dir(l->d), ADVERTISED_FILE, &text, &len, 4 << 20) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	struct advertised_lan *all = xcalloc(DHCP6PD_LIST_MAX, sizeof *all);
	size_t n = 0, skipped = 0;
	char err[160] = "";
	if (doc == NULL || advertised_decode(doc, all, DHCP6PD_LIST_MAX, &n, &skipped, err, sizeof err) != 0)
		log_warn("%s unreadable (%s): nothing to withdraw from it", ADVERTISED_FILE, err[0] ? err : "not JSON");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < l->n; k++)
			if (strcmp(all[i].ifname, l->v[k].ifname) == 0) {
				memcpy(l->v[k].adv, all[i].adv, sizeof l->v[k].adv);
				l->v[k].nadv = all[i].nadv;
			}
	if (skipped)
		log_warn("%s: %zu entries did not parse", ADVERTISED_FILE, skipped);
	free(all);
	cJSON_Delete(doc);
}

/* ---- planning ---- */

static void inputs(const struct lan *lan, struct lan_inputs *in)
{
	const struct lans *l = lan->owner;
	memset(in, 0, sizeof *in);
	in->spec = lan->spec;
	in->ifname = lan->ifname;
	in->subnet_id = lan->subnet_id;
	in->has_ula = l->has_ula && lan->spec->ula;
	in->ula48 = l->ula48;
	in->has_iid = l->has_iid;
	memcpy(in->iid, l->iid, 8);
	in->deleg = l->deleg;
	in->ndeleg = l->ndeleg;
	in->default_route = l->default_route;
	in->has_lladdr = lan->has_lladdr;
	memcpy(in->lladdr, lan->lladdr, 6);
	in->link_mtu = lan->mtu;
	in->domain = l->domain;
}

/* ---- kernel addresses ---- */

static uint32_t lifetime_left(double until, double now)
{
	if (until >= LAN_NEVER / 2)
		return 0; /* forever */
	double left = ceil(until - now);
	return left < 1 ? 1 : left > 0xfffffffe ? 0xfffffffe : (uint32_t)left;
}

/* The router's address in each current prefix, with the prefix's lifetimes; our
 * addresses (our interface id, a /64) in prefixes that are no longer current are
 * removed: prefixes compared, not addresses. */
static void apply_addresses(struct lan *lan, const struct lan_result *plan, double now)
{
	struct lans *l = lan->owner;
	if (!l->has_iid || lan->ifindex <= 0)
		return;
	for (size_t i = 0; i < plan->ncur; i++) {
		const struct lan_current *c = &plan->cur[i];
		struct arbor_nl_ip ip = { .family = AF_INET6, .v6 = c->router };
		struct arbor_nl_addr_opts o = { .valid_lft = lifetime_left(c->valid_until, now),
						.preferred_lft = lifetime_left(c->preferred_until, now),
						.nodad = true, .replace = true };
		if (c->preferred_until <= now)
			o.preferred_lft = 1; /* 0 would mean "as long as valid" */
		if (arbor_nl_addr_add(l->nl, lan->ifindex, &ip, 64, &o) < 0)
			set_error(lan, "%s", arbor_nl_error(l->nl));
	}
	struct arbor_nl_addr *addrs = NULL;
	size_t n = 0;
	if (arbor_nl_addrs(l->nl, AF_INET6, lan->ifindex, &addrs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct arbor_nl_addr *a = &addrs[i];
		if (a->prefixlen != 64 || a->scope != 0 || memcmp(a->addr.v6.s6_addr + 8, l->iid, 8) != 0)
			continue;
		bool current = false;
		for (size_t k = 0; k < plan->ncur; k++)
			current |= memcmp(plan->cur[k].prefix.addr.s6_addr, a->addr.v6.s6_addr, 8) == 0;
		if (!current && arbor_nl_addr_delete(l->nl, lan->ifindex, &a->addr, 64) < 0)
			set_error(lan, "%s", arbor_nl_error(l->nl));
	}
	free(addrs);
}

/* ---- sending ---- */

static void send_ra(struct lan *lan, const struct in6_addr *to, double now)
{
	struct lans *l = lan->owner;
	struct lan_inputs in;
	inputs(lan, &in);
	struct lan_result plan;
	lan_plan(&in, lan->adv, &lan->nadv, now, true, &plan);
	/* The bounds go to disk before hosts hear them: a reboot must still be
	 * able to withdraw for as long as they may hold the prefix. */
	if (plan.adv_changed)
		persist(l);
	lan->plan = plan;
	if (!lan->spec->advertise || !lan->carrier)
		return;
	uint8_t buf[ND_RA_MAX];
	int len = nd_ra_build(&plan.ra, buf, sizeof buf);
	if (len < 0) {
		set_error(lan, "cannot build the RA: %s", strerror(-len));
		return;
	}
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)lan->ifindex };
	if (to)
		dst.sin6_addr = *to;
	else
		inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	if (sendto(l->fd, buf, (size_t)len, 0, (struct sockaddr *)&dst, sizeof dst) < 0) {
		int e = errno;
		lan->send_errors++;
		set_error(lan, "send RA: %s", strerror(e));
		if (e == EADDRNOTAVAIL && !to && !evtimer_pending(lan->solicited, NULL)) {
			/* no link-local address yet (DAD): try again in a second */
			struct timeval second = { 1, 0 };
			evtimer_add(lan->solicited, &second);
		}
		return;
	}
	lan->last_error[0] = '\0';
	lan->ra_sent++;
	lan->last_ra = now;
	if (to)
		lan->ra_unicast++;
	else
		lan->last_mcast = now;
}

/* The next periodic RA. */
static void schedule(struct lan *lan, double now)
{
	const struct lan_spec *s = lan->spec;
	double interval = s->min_interval + random_unit(lan->owner) * (s->max_interval - s->min_interval);
	if (lan->initial_left) {
		interval = fmin(interval, MAX_INITIAL_INTERVAL);
		lan->initial_left--;
	}
	/* never more than a third of the shortest lifetime just given out */
	double shortest = 1e9;
	for (size_t i = 0; i < lan->plan.ncur; i++) {
		if (lan->plan.cur[i].preferred)
			shortest = fmin(shortest, lan->plan.cur[i].preferred);
		if (lan->plan.cur[i].valid)
			shortest = fmin(shortest, lan->plan.cur[i].valid);
	}
	interval = fmin(interval, fmax(MIN_DELAY_BETWEEN_RAS, shortest / 3));
	struct timeval tv = arbor_timeval(interval);
	(void)now;
	event_add(lan->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lan *lan = arg;
	double now = arbor_time_wall();
	send_ra(lan, NULL, now);
	schedule(lan, now);
}

static void on_solicited(evutil_socket_t fd, short what, void *arg)
{
	struct lan *lan = arg;
	send_ra(lan, NULL, arbor_time_wall());
}

/* An RA now, two quick ones after: what the LAN is told changed. */
static void announce_now(struct lan *lan, double now)
{
	send_ra(lan, NULL, now);
	lan->initial_left = 2;
	event_del(lan->timer);
	schedule(lan, now);
}

/* Whether hosts must hear the plan at once: other prefixes (current or
 * withdrawn), another router lifetime, or lifetimes they hold that have fallen to
 * under half of what the LAN can now give (a renewal extended the delegation). */
static bool needs_announcing(const struct lan *lan, const struct lan_result *next, double now)
{
	const struct lan_result *last = &lan->plan;
	if (next->ncur != last->ncur || next->ngone != last->ngone ||
	    next->ra.router_lifetime != last->ra.router_lifetime || next->ndns != last->ndns)
		return true;
	for (size_t i = 0; i < next->ncur; i++) {
		const struct lan_current *c = NULL;
		for (size_t k = 0; k < last->ncur; k++)
			if (arbor_prefix6_equal(&last->cur[k].prefix, &next->cur[i].prefix))
				c = &last->cur[k];
		if (c == NULL)
			return true;
		double held = c->valid - (now - lan->last_ra);
		if (held < next->cur[i].valid / 2.0 || (c->preferred == 0) != (next->cur[i].preferred == 0))
			return true;
	}
	for (size_t i = 0; i < next->ngone; i++)
		if (!arbor_prefix6_equal(&next->gone[i].prefix, &last->gone[i].prefix))
			return true;
	return false;
}

static void take_delegations(struct lans *l, const struct lan_delegation *deleg, size_t ndeleg, bool default_route)
{
	l->ndeleg = ndeleg < DELEG_MAX ? ndeleg : DELEG_MAX;
	memcpy(l->deleg, deleg, l->ndeleg * sizeof *deleg);
	l->default_route = default_route;
}

void lans_update(struct lans *l, const struct lan_delegation *deleg, size_t ndeleg, bool default_route)
{
	take_delegations(l, deleg, ndeleg, default_route);
	double now = arbor_time_wall();
	for (size_t i = 0; i < l->n; i++) {
		struct lan *lan = &l->v[i];
		struct lan_inputs in;
		inputs(lan, &in);
		struct lan_adv copy[LAN_ADV_MAX];
		size_t ncopy = lan->nadv;
		memcpy(copy, lan->adv, sizeof copy);
		struct lan_result next; /* what an RA now would say (on a copy of the list) */
		lan_plan(&in, copy, &ncopy, now, true, &next);
		bool announce = needs_announcing(lan, &next, now);
		if (announce)
			announce_now(lan, now); /* plans again, sending */
		apply_addresses(lan, announce ? &lan->plan : &next, now);
	}
}

/* ---- router solicitations ---- */

static struct lan *lan_by_ifindex(const struct lans *l, int ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

static void on_rs(struct lans *l, struct lan *lan, const struct in6_addr *from, double now)
{
	lan->rs_received++;
	if (!lan->spec->advertise || !lan->carrier)
		return;
	if (!IN6_IS_ADDR_UNSPECIFIED(from)) {
		if (now - lan->window >= 1) {
			lan->window = now;
			lan->in_window = 0;
		}
		if (lan->in_window++ < UNICAST_PER_SECOND) {
			send_ra(lan, from, now); /* RFC 4861 §6.2.6 allows the unicast answer */
			return;
		}
	}
	/* multicast: within MAX_RA_DELAY_TIME, not sooner than 3 s after the last */
	if (evtimer_pending(lan->solicited, NULL))
		return;
	double at = fmax(now + random_unit(l) * MAX_RA_DELAY, lan->last_mcast + MIN_DELAY_BETWEEN_RAS);
	struct timeval tv = arbor_timeval(at - now);
	evtimer_add(lan->solicited, &tv);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct lans *l = arg;
	for (int i = 0; i < 32; i++) {
		uint8_t buf[1500];
		struct sockaddr_in6 from;
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control.buf, .msg_controllen = sizeof control.buf };
		ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		int ifindex = 0, hops = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != IPPROTO_IPV6)
				continue;
			if (c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				ifindex = (int)pi.ipi6_ifindex;
			} else if (c->cmsg_type == IPV6_HOPLIMIT) {
				memcpy(&hops, CMSG_DATA(c), sizeof hops);
			}
		}
		struct lan *lan = lan_by_ifindex(l, ifindex);
		if (lan == NULL)
			continue;
		bool has_ll;
		uint8_t ll[6];
		char err[160];
		/* RFC 4861 §6.1.1: hop limit 255 (it came from the link), code 0, well formed. */
		if (hops != 255 || (msg.msg_flags & MSG_TRUNC) ||
		    nd_rs_parse(buf, (size_t)n, &has_ll, ll, err, sizeof err) != 0 ||
		    (IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr) && has_ll)) {
			lan->rs_dropped++;
			continue;
		}
		on_rs(l, lan, &from.sin6_addr, arbor_time_wall());
	}
}

static int open_socket(struct lans *l, char *err, size_t errlen)
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int one = 1, zero = 0, hops = 255;
	struct icmp6_filter filter;
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
	if (fd < 0 || setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero) != 0) {
		snprintf(err, errlen, "ICMPv6 socket for router advertisements: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->fd = fd;
	for (size_t i = 0; i < l->n; i++) {
		struct ipv6_mreq mreq = { .ipv6mr_interface = (unsigned)l->v[i].ifindex };
		inet_pton(AF_INET6, "ff02::2", &mreq.ipv6mr_multiaddr);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0 && errno != EADDRINUSE)
			log_warn("%s: join ff02::2: %s", l->v[i].ifname, strerror(errno));
	}
	return 0;
}

/* ---- opening ---- */

/* Subnet ids: physical interfaces numbered in name order the first time, then
 * each LAN its own (a bridge or other virtual one: the next free id). */
static int number_lans(struct lans *l, const struct arbor_nl_link *links, size_t nlinks, char *err, size_t errlen)
{
	if (arbor_subnet_ids_load(&l->ids, arbor_daemon_subnets6_dir(l->d), ARBOR_SUBNET_IDS_FILE, err, errlen) < 0)
		return -1;
	const char **physical = xcalloc(nlinks + 1, sizeof *physical);
	size_t nphys = 0;
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].kind[0] == '\0' && !(links[i].flags & IFF_LOOPBACK))
			physical[nphys++] = links[i].name;
	int rc = nphys ? arbor_subnet_ids_assign_physical(&l->ids, physical, nphys, err, errlen) : 0;
	free(physical);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		int id = arbor_subnet_ids_lookup(&l->ids, l->v[i].ifname);
		if (id < 0)
			id = arbor_subnet_ids_assign_virtual(&l->ids, l->v[i].ifname, err, errlen);
		if (id < 0)
			return -1;
		l->v[i].subnet_id = id;
	}
	return 0;
}

static void take_link(struct lan *lan, const struct arbor_nl_link *link)
{
	lan->carrier = link->up && link->lower_up;
	lan->has_lladdr = link->has_mac;
	memcpy(lan->lladdr, link->mac, 6);
	lan->mtu = link->mtu;
}

struct lans *lans_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct dhcp6pd_config *cfg,
		       const char *machine_id, const char *domain, const struct lan_delegation *deleg, size_t ndeleg,
		       bool default_route, char *err, size_t errlen)
{
	struct lans *l = xcalloc(1, sizeof *l);
	l->d = d;
	l->nl = nl;
	l->fd = -1;
	l->v = xcalloc(cfg->nlans + 1, sizeof *l->v);
	l->n = cfg->nlans;
	if (getrandom(&l->rng, sizeof l->rng, GRND_NONBLOCK) != sizeof l->rng)
		l->rng = (uint32_t)getpid();
	snprintf(l->domain, sizeof l->domain, "%s", domain ? domain : "");
	if (machine_id) {
		l->has_ula = arbor_addr_machine_prefix(machine_id, &l->ula48) == 0;
		l->has_iid = arbor_addr_interface_id(machine_id, l->iid) == 0;
	}
	struct arbor_nl_link *links = NULL;
	size_t nlinks = 0;
	if (arbor_nl_links(nl, &links, &nlinks) < 0) {
		snprintf(err, errlen, "lans: %s", arbor_nl_error(nl));
		lans_close(l);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct lan *lan = &l->v[i];
		lan->owner = l;
		lan->spec = &cfg->lans[i];
		snprintf(lan->ifname, sizeof lan->ifname, "%s", cfg->lans[i].interface);
		lan->ifindex = -1;
		for (size_t k = 0; k < nlinks; k++)
			if (strcmp(links[k].name, lan->ifname) == 0) {
				lan->ifindex = links[k].index;
				if (!links[k].up && arbor_nl_link_set_up(nl, links[k].index, true) == 0)
					links[k].up = true;
				take_link(lan, &links[k]);
			}
		if (lan->ifindex < 0) {
			snprintf(err, errlen, "lans[%zu]: interface %s does not exist", i, lan->ifname);
			free(links);
			lans_close(l);
			return NULL;
		}
	}
	int rc = number_lans(l, links, nlinks, err, errlen);
	free(links);
	if (rc < 0 || open_socket(l, err, errlen) < 0) {
		lans_close(l);
		return NULL;
	}
	load_advertised(l);
	struct event_base *base = arbor_daemon_base(d);
	l->rd = event_new(base, l->fd, EV_READ | EV_PERSIST, on_readable, l);
	event_add(l->rd, NULL);
	take_delegations(l, deleg, ndeleg, default_route);
	double now = arbor_time_wall();
	for (size_t i = 0; i < l->n; i++) {
		struct lan *lan = &l->v[i];
		lan->timer = evtimer_new(base, on_timer, lan);
		lan->solicited = evtimer_new(base, on_solicited, lan);
		/* The first RA at once: it also withdraws what a restart left behind. */
		lan->initial_left = 3;
		send_ra(lan, NULL, now);
		apply_addresses(lan, &lan->plan, now);
		schedule(lan, now);
		log_info("%s: LAN with subnet id %d, %zu prefixes, %zu withdrawn", lan->ifname, lan->subnet_id,
			 lan->plan.ncur, lan->plan.ngone);
	}
	return l;
}

void lans_close(struct lans *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].timer)
			event_free(l->v[i].timer);
		if (l->v[i].solicited)
			event_free(l->v[i].solicited);
	}
	if (l->rd)
		event_free(l->rd);
	if (l->fd >= 0)
		close(l->fd);
	arbor_subnet_ids_free(&l->ids);
	free(l->v);
	free(l);
}

int lans_reconfigure(struct lans *l, const struct dhcp6pd_config *cfg, char *err, size_t errlen)
{
	if (cfg->nlans != l->n) {
		snprintf(err, errlen, "dhcp6pd.lans: adding or removing a LAN needs a restart");
		return -1;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(cfg->lans[i].interface, l->v[i].ifname) != 0) {
			snprintf(err, errlen, "dhcp6pd.lans[%zu].interface: changing it needs a restart", i);
			return -1;
		}
	for (size_t i = 0; i < l->n; i++)
		l->v[i].spec = &cfg->lans[i];
	return 0;
}

const struct lan_result *lans_plan_of(const struct lans *l, int ifindex)
{
	const struct lan *lan = l ? lan_by_ifindex(l, ifindex) : NULL;
	return lan ? &lan->plan : NULL;
}

size_t lans_numbered(const struct lans *l, struct arbor_prefix6 *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; l && i < l->n; i++)
		for (size_t k = 0; k < l->v[i].plan.ncur && n < max; k++)
			out[n++] = l->v[i].plan.cur[k].prefix;
	return n;
}

void lans_link_changed(struct lans *l, int ifindex, bool exists, bool carrier)
{
	struct lan *lan = l ? lan_by_ifindex(l, ifindex) : NULL;
	if (lan == NULL)
		return;
	bool was = lan->carrier;
	lan->carrier = exists && carrier;
	if (lan->carrier && !was) {
		log_info("%s: carrier up", lan->ifname);
		struct arbor_nl_link *links;
		size_t n;
		if (arbor_nl_links(l->nl, &links, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (links[i].index == ifindex)
					take_link(lan, &links[i]);
			free(links);
		}
		lan->initial_left = 3;
		announce_now(lan, arbor_time_wall());
	}
}

size_t lans_stateless_ifnames(const struct lans *l, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; l && i < l->n && n < max; i++)
		if (l->v[i].spec->stateless)
			out[n++] = l->v[i].ifname;
	return n;
}

static void add_time(cJSON *o, const char *key, double t)
{
	if (t < LAN_NEVER / 2)
		arbor_json_add_fixed(o, key, t, 3);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *lans_json(const struct lans *l)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; l && i < l->n; i++) {
		const struct lan *lan = &l->v[i];
		const struct lan_result *p = &lan->plan;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "interface", lan->ifname);
		arbor_json_add_int(o, "subnet_id", lan->subnet_id);
		cJSON *cur = cJSON_AddArrayToObject(o, "prefixes");
		for (size_t k = 0; k < p->ncur; k++) {
			const struct lan_current *c = &p->cur[k];
			char text[64], addr[INET6_ADDRSTRLEN];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "prefix", arbor_prefix6_format(&c->prefix, text, sizeof text));
			if (l->has_iid)
				cJSON_AddStringToObject(e, "router", inet_ntop(AF_INET6, &c->router, addr, sizeof addr));
			cJSON_AddBoolToObject(e, "ula", c->ula);
			add_time(e, "preferred_until", c->preferred_until);
			add_time(e, "valid_until", c->valid_until);
			arbor_json_add_int(e, "advertised_preferred", c->preferred);
			arbor_json_add_int(e, "advertised_valid", c->valid);
			cJSON_AddItemToArray(cur, e);
		}
		cJSON *gone = cJSON_AddArrayToObject(o, "withdrawn");
		for (size_t k = 0; k < p->ngone; k++) {
			char text[64];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "prefix", arbor_prefix6_format(&p->gone[k].prefix, text, sizeof text));
			arbor_json_add_int(e, "advertised_valid", p->gone[k].valid);
			cJSON_AddItemToArray(gone, e);
		}
		cJSON *skipped = cJSON_AddArrayToObject(o, "not_numbered");
		for (size_t k = 0; k < p->nskipped; k++)
			cJSON_AddItemToArray(skipped, cJSON_CreateString(p->skipped[k]));
		cJSON *dns = cJSON_AddArrayToObject(o, "dns_servers");
		for (size_t k = 0; k < p->ndns; k++) {
			char addr[INET6_ADDRSTRLEN];
			cJSON_AddItemToArray(dns, cJSON_CreateString(inet_ntop(AF_INET6, &p->dns[k], addr, sizeof addr)));
		}
		cJSON *search = cJSON_AddArrayToObject(o, "domain_search");
		for (size_t k = 0; k < p->nsearch; k++)
			cJSON_AddItemToArray(search, cJSON_CreateString(p->search[k]));
		arbor_json_add_int(o, "router_lifetime", p->ra.router_lifetime);
		cJSON_AddBoolToObject(o, "carrier", lan->carrier);
		arbor_json_add_int(o, "ra_sent", (long long)lan->ra_sent);
		arbor_json_add_int(o, "ra_unicast", (long long)lan->ra_unicast);
		arbor_json_add_int(o, "rs_received", (long long)lan->rs_received);
		arbor_json_add_int(o, "rs_dropped", (long long)lan->rs_dropped);
		if (lan->last_ra > 0)
			arbor_json_add_fixed(o, "last_ra", lan->last_ra, 3);
		if (lan->last_error[0])
			cJSON_AddStringToObject(o, "last_error", lan->last_error);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void lans_metrics(const struct lans *l, struct arbor_buf *out)
{
	if (l == NULL || l->n == 0)
		return;
	arbor_buf_puts(out, "# HELP arbor_dhcp6pd_ra_total Router advertisements sent and solicitations received.\n"
			    "# TYPE arbor_dhcp6pd_ra_total counter\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct lan *lan = &l->v[i];
		arbor_buf_printf(out,
				 "arbor_dhcp6pd_ra_total{interface=\"%s\",outcome=\"sent\"} %llu\n"
				 "arbor_dhcp6pd_ra_total{interface=\"%s\",outcome=\"unicast\"} %llu\n"
				 "arbor_dhcp6pd_ra_total{interface=\"%s\",outcome=\"rs_received\"} %llu\n"
				 "arbor_dhcp6pd_ra_total{interface=\"%s\",outcome=\"rs_dropped\"} %llu\n",
				 lan->ifname, (unsigned long long)lan->ra_sent, lan->ifname,
				 (unsigned long long)lan->ra_unicast, lan->ifname, (unsigned long long)lan->rs_received,
				 lan->ifname, (unsigned long long)lan->rs_dropped);
	}
	arbor_buf_printf(out, "# HELP arbor_dhcp6pd_advertised_write_errors_total advertised.json writes that failed.\n"
			      "# TYPE arbor_dhcp6pd_advertised_write_errors_total counter\n"
			      "arbor_dhcp6pd_advertised_write_errors_total %llu\n",
			 (unsigned long long)l->persist_errors);
}
