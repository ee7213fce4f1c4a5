/* The delegating servers at work (see serving.h).
 *
 * A decision that changes bindings journals one record per change; its answer
 * takes a slot of the group commit (common/group_commit.h) and goes out, with the
 * routes and the events, only once the batch's records are fdatasync'ed. One
 * sync covers everything read meanwhile: under load each carries hundreds. */
#include "serving.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <malloc.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_derive.h"
#include "binding_record.h"
#include "clock.h"
#include "group_commit.h"
#include "journal.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#ifndef RTPROT_DHCP
#define RTPROT_DHCP 16
#endif

/* Answers waiting for one commit, and immediate ones per batch read. A full batch
 * makes the loop wait for the sync in flight: on a busy disk a sync can take tens
 * of milliseconds while a thousand answers are decided (1024 slots halved the
 * rate in the benchmark). The group commit leaves its slot arrays untouched until
 * used: only what a burst needs is resident. */
enum { ANSWERS_MAX = 2048, OUTBOX_MAX = 256 };

struct served6 {
	struct pd_server srv;
	char ifname[IF_NAMESIZE];
	int ifindex;
	double last_exhausted;
};

/* An answer slot of the group commit: the packet (len 0: none) and what the
 * commit makes true, for the routes and the events. */
struct answer6 {
	struct d6socks_out out;
	struct served6 *sv;
	size_t nchanges;
	struct pd_change changes[PD_CHANGES_MAX];
};

/* Route changes wait here and go to the kernel in one batch (a round trip each
 * was a fifth of the server's time under load). */
struct route_batch {
	struct arbor_nl_route_op *ops;
	size_t n, cap;
};

struct serving {
	struct arbor_daemon *d;
	struct arbor_nl *nl;
	struct served6 *v;
	size_t n;
	struct d6socks *socks;
	struct arbor_journal *journal;
	struct arbor_group_commit *gc;
	struct event *expiry;
	struct arbor_buf record;
	struct arbor_buf event_data; /* change_event's */
	struct route_batch routes;
	struct d6socks_out *outbox; /* immediate answers of the current batch */
	size_t noutbox;
	uint64_t compact_records;   /* the configured floor (see tune_compaction) */
	uint64_t route_errors, sent;
};

static struct served6 *by_ifname(struct serving *s, const char *ifname)
{
	for (size_t i = 0; ifname && i < s->n; i++)
		if (strcmp(s->v[i].ifname, ifname) == 0)
			return &s->v[i];
	return NULL;
}

static struct served6 *by_ifindex(const struct serving *s, int ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ifindex == ifindex)
			return &s->v[i];
	return NULL;
}

bool serving_has(const struct serving *s, int ifindex)
{
	return s && by_ifindex(s, ifindex) != NULL;
}

void serving_set_socks(struct serving *s, struct d6socks *socks)
{
	if (s)
		s->socks = socks;
}

/* ---- routes and events (after the commit) ---- */

static struct arbor_nl_route route_of(const struct served6 *sv, const struct binding_view *b, bool with_gateway)
{
	struct arbor_nl_route r = { .dst = { .family = AF_INET6, .v6 = b->prefix.addr }, .prefixlen = b->prefix.len,
				    .ifindex = sv->ifindex, .protocol = RTPROT_DHCP };
	if (with_gateway)
		r.gateway = (struct arbor_nl_ip){ .family = AF_INET6, .v6 = b->via };
	return r;
}

static void queue_route(struct route_batch *rb, struct served6 *sv, const struct pd_change *c)
{
	if (!sv->srv.spec->routes || !(c->route_add || c->route_del))
		return;
	if (rb->n == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 256;
		rb->ops = xreallocarray(rb->ops, rb->cap, sizeof *rb->ops);
	}
	struct arbor_nl_route_op *op = &rb->ops[rb->n++];
	memset(op, 0, sizeof *op);
	op->route = route_of(sv, &c->b, c->route_add);
	op->del = !c->route_add;
}

static void apply_routes(struct serving *s, struct route_batch *rb)
{
	if (rb->n == 0)
		return;
	int failed = arbor_nl_route_batch(s->nl, rb->ops, rb->n);
	for (size_t i = 0; failed > 0 && i < rb->n; i++)
		if (rb->ops[i].result < 0 && !(rb->ops[i].del && rb->ops[i].result == -ESRCH)) {
			s->route_errors++;
			char dst[64];
			struct arbor_prefix6 p = { rb->ops[i].route.dst.v6, (uint8_t)rb->ops[i].route.prefixlen };
			log_warn("%s route %s: %s", rb->ops[i].del ? "delete" : "add", arbor_prefix6_format(&p, dst, sizeof dst),
				 strerror(-rb->ops[i].result));
		}
	if (failed < 0) {
		s->route_errors++;
		log_warn("routes: %s", arbor_nl_error(s->nl));
	}
	rb->n = 0;
}

static const char *event_type(enum pd_change_kind k)
{
	switch (k) {
	case PD_CHANGE_BOUND: return "delegation.bound";
	case PD_CHANGE_RENEWED: return "delegation.renewed";
	case PD_CHANGE_RELEASED: return "delegation.released";
	case PD_CHANGE_EXPIRED: return "delegation.expired";
	}
	return "delegation.changed";
}

static cJSON *binding_json(const char *ifname, const struct binding_view *b)
{
	char text[DHCP6_DUID_MAX * 3 + 1];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "interface", ifname);
	cJSON_AddStringToObject(o, "prefix", arbor_prefix6_format(&b->prefix, text, sizeof text));
	duid_format(b->duid, b->duid_len, text, sizeof text);
	cJSON_AddStringToObject(o, "duid", text);
	arbor_json_add_int(o, "iaid", b->iaid);
	cJSON_AddStringToObject(o, "state", binding_state_name(b->state));
	arbor_json_add_fixed(o, "starts", b->starts, 3);
	arbor_json_add_fixed(o, "preferred_until", b->preferred_until, 3);
	arbor_json_add_fixed(o, "valid_until", b->valid_until, 3);
	arbor_addr_format(&b->via, -1, text, sizeof text);
	cJSON_AddStringToObject(o, "via", text);
	return o;
}

/* The event's data is the binding's journal record (binding_json's fields, written as
 * text: a cJSON tree per event was a tenth of the server's time), and the reason. */
static void change_event(struct serving *s, const struct served6 *sv, const struct pd_change *c)
{
	struct arbor_buf *data = &s->event_data;
	data->len = 0;
	binding_record_write(data, sv->ifname, &c->b);
	if (c->reason) {
		data->len--; /* reopens the record's object */
		arbor_buf_puts(data, ",\"reason\":");
		arbor_json_put_string(data, c->reason);
		arbor_buf_puts(data, "}");
	}
	char prefix[64], via[INET6_ADDRSTRLEN];
	arbor_prefix6_format(&c->b.prefix, prefix, sizeof prefix);
	arbor_addr_format(&c->b.via, -1, via, sizeof via);
	const char *type = event_type(c->kind);
	arbor_event_emit_json(arbor_daemon_events(s->d), type, c->kind == PD_CHANGE_EXPIRED ? "warning" : "info", prefix,
			      data->data, data->len, "%s: %s %s via %s%s%s", sv->ifname, type + 11, prefix, via,
			      c->reason ? ": " : "", c->reason ? c->reason : "");
}

/* A batch is durable: answers go out, then routes, then events. */
static void deliver(void *ctx, void *answers, size_t n)
{
	struct serving *s = ctx;
	struct answer6 *list = answers;
	static const struct d6socks_out *outs[ANSWERS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k < ANSWERS_MAX; i++)
		if (list[i].out.len)
			outs[k++] = &list[i].out;
	if (k && s->socks) {
		size_t failed = d6socks_send(s->socks, outs, k);
		s->sent += k - failed;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < list[i].nchanges; c++)
			queue_route(&s->routes, list[i].sv, &list[i].changes[c]);
	apply_routes(s, &s->routes);
	struct arbor_events *ev = arbor_daemon_events(s->d);
	arbor_events_hold(ev); /* the batch's events: one write */
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < list[i].nchanges; c++)
			change_event(s, list[i].sv, &list[i].changes[c]);
	arbor_events_release(ev);
}

/* ---- the journal ---- */

static void record(struct serving *s, const struct served6 *sv, const struct binding_view *b)
{
	s->record.len = 0;
	binding_record_write(&s->record, sv->ifname, b);
	arbor_group_commit_record(s->gc, s->record.data, s->record.len);
}

struct snap {
	struct arbor_buf *out;
	const char *ifname;
	bool first;
};

static void snap_one(void *ctx, struct binding *b)
{
	struct snap *sn = ctx;
	if (b->state == BINDING_OFFERED)
		return;
	struct binding_view v;
	binding_view_of(b, &v);
	arbor_buf_puts(sn->out, sn->first ? "\n" : ",\n");
	binding_record_write(sn->out, sn->ifname, &v);
	sn->first = false;
}

/* Every delegation, one per line, so jq and grep both read delegations.json. */
static void snapshot(void *ctx, struct arbor_buf *out)
{
	struct serving *s = ctx;
	struct snap sn = { out, NULL, true };
	arbor_buf_puts(out, "{\"delegations\":[");
	for (size_t i = 0; i < s->n; i++) {
		sn.ifname = s->v[i].ifname;
		binding_table_each(&s->v[i].srv.table, snap_one, &sn);
	}
	arbor_buf_puts(out, "\n]}");
}

static int replay_snapshot(void *ctx, const cJSON *data)
{
	struct serving *s = ctx;
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(data, "delegations");
	for (const cJSON *rec = all ? all->child : NULL; rec; rec = rec->next) {
		struct served6 *sv = by_ifname(s, binding_record_interface(rec));
		char err[200];
		if (sv)
			binding_record_apply(&sv->srv, rec, err, sizeof err);
	}
	return 0;
}

static int replay_record(void *ctx, const cJSON *rec)
{
	struct serving *s = ctx;
	struct served6 *sv = by_ifname(s, binding_record_interface(rec));
	char err[200];
	if (sv && binding_record_apply(&sv->srv, rec, err, sizeof err) != 0)
		log_warn("delegation journal: %s", err);
	return 0;
}

/* A change that needs no packet: journalled, then routed and announced. */
struct ended_ctx {
	struct serving *s;
	struct served6 *sv;
};

static void ended(void *ctx, const struct pd_change *c)
{
	struct ended_ctx *e = ctx;
	record(e->s, e->sv, &c->b);
	struct answer6 *a = arbor_group_commit_answer(e->s->gc);
	a->sv = e->sv;
	a->nchanges = 1;
	a->changes[0] = *c;
}

static void sweep(struct serving *s)
{
	double now = arbor_time_wall();
	for (size_t i = 0; i < s->n; i++) {
		struct ended_ctx e = { s, &s->v[i] };
		pd_server_expire(&s->v[i].srv, now, ended, &e);
	}
	arbor_group_commit_flush(s->gc);
}

/* A snapshot rewrites every binding: compacting after a fixed number of records
 * would cost more and more as the tables grow. At least twice the records held
 * keeps the rewriting to a constant share of the records written. */
static void tune_compaction(struct serving *s)
{
	uint64_t held = 0;
	for (size_t i = 0; i < s->n; i++)
		held += s->v[i].srv.table.count;
	arbor_group_commit_compact_after(s->gc, held * 2 > s->compact_records ? held * 2 : s->compact_records);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	sweep(arg);
	tune_compaction(arg);
}

/* ---- answering ---- */

static struct d6socks_out *outbox_slot(struct serving *s)
{
	if (s->noutbox == OUTBOX_MAX)
		serving_batch_done(s);
	struct d6socks_out *o = &s->outbox[s->noutbox++];
	o->len = 0;
	return o;
}

/* Builds d's answer into o, wrapped for the relays it came through. */
static void build(struct served6 *sv, int ifindex, const struct sockaddr_in6 *from, const struct dhcp6_relay *chain,
		  size_t depth, const struct dhcp6_message *m, const struct pd_decision *d, const struct info_content *info,
		  struct d6socks_out *o)
{
	uint8_t inner[sizeof o->pkt];
	int n = pd_server_build(&sv->srv, m, d, info, depth ? inner : o->pkt, sizeof o->pkt);
	if (n > 0 && depth)
		n = dhcp6_build_relay_reply(o->pkt, sizeof o->pkt, chain, depth, inner, (size_t)n);
	if (n <= 0) {
		log_warn("%s: cannot build the %s: %s", sv->ifname, dhcp6_type_name(d->reply), strerror(n ? -n : ENOSPC));
		o->len = 0;
		return;
	}
	o->ifindex = ifindex;
	o->to = *from;
	if (depth)
		o->to.sin6_port = htons(DHCP6_SERVER_PORT); /* RELAY-REPL goes to the relay's server port */
	o->len = (uint16_t)n;
}

void serving_handle(struct serving *s, int ifindex, const struct sockaddr_in6 *from, const struct dhcp6_relay *chain,
		    size_t depth, const struct dhcp6_message *m, const struct info_content *info)
{
	struct served6 *sv = by_ifindex(s, ifindex);
	if (sv == NULL)
		return;
	static struct pd_decision d;
	double now = arbor_time_wall();
	pd_server_handle(&sv->srv, m, &from->sin6_addr, now, &d);
	if (d.reply == 0) {
		log_debug("%s: %s from %s ignored: %s", sv->ifname, dhcp6_type_name(m->type), "a client",
			  d.reason ? d.reason : "");
		return;
	}
	for (size_t i = 0; i < d.nia; i++)
		if (d.ia[i].status == DHCP6_STATUS_NO_PREFIX_AVAIL && now - sv->last_exhausted > 10) {
			/* One event per ten seconds: a flood must not flood the log too. */
			sv->last_exhausted = now;
			cJSON *data = cJSON_CreateObject();
			cJSON_AddStringToObject(data, "interface", sv->ifname);
			arbor_json_add_int(data, "capacity", (long long)pd_server_capacity(&sv->srv));
			arbor_json_add_int(data, "bound", (long long)sv->srv.table.bound);
			arbor_event_emit(arbor_daemon_events(s->d), "pool.exhausted", "warning", sv->ifname, data,
					 "%s: no prefix left for a requesting router", sv->ifname);
		}
	if (d.nchanges == 0) {
		build(sv, ifindex, from, chain, depth, m, &d, info, outbox_slot(s));
		return;
	}
	/* Records first (they may start a commit of a full batch), then the slot. */
	for (size_t i = 0; i < d.nchanges; i++)
		record(s, sv, &d.changes[i].b);
	struct answer6 *a = arbor_group_commit_answer(s->gc);
	a->sv = sv;
	a->nchanges = d.nchanges;
	memcpy(a->changes, d.changes, d.nchanges * sizeof d.changes[0]);
	build(sv, ifindex, from, chain, depth, m, &d, info, &a->out);
}

void serving_batch_done(struct serving *s)
{
	if (s == NULL)
		return;
	if (s->noutbox && s->socks) {
		const struct d6socks_out *outs[OUTBOX_MAX];
		for (size_t i = 0; i < s->noutbox; i++)
			outs[i] = &s->outbox[i];
		size_t failed = d6socks_send(s->socks, outs, s->noutbox);
		s->sent += s->noutbox - failed;
	}
	s->noutbox = 0;
	arbor_group_commit_flush(s->gc);
}

void serving_set_delegation(struct serving *s, const char *client, const struct arbor_prefix6 *p, double preferred_until,
			    double valid_until)
{
	double now = arbor_time_wall();
	for (size_t i = 0; s && i < s->n; i++) {
		struct ended_ctx e = { s, &s->v[i] };
		pd_server_set_delegation(&s->v[i].srv, client, p, preferred_until, valid_until, now, ended, &e);
	}
	if (s)
		arbor_group_commit_flush(s->gc);
}

void serving_set_excluded(struct serving *s, const struct arbor_prefix6 *ex, size_t n)
{
	for (size_t i = 0; s && i < s->n; i++)
		pd_server_set_excluded(&s->v[i].srv, ex, n);
}

/* ---- open, reload, close ---- */

static void restore_route(void *ctx, struct binding *b)
{
	struct ended_ctx *e = ctx;
	if (b->state != BINDING_BOUND)
		return;
	struct pd_change c = { .kind = PD_CHANGE_BOUND, .route_add = true };
	binding_view_of(b, &c.b);
	queue_route(&e->s->routes, e->sv, &c);
}

static struct served6 *open_servers(const struct dhcp6pd_config *cfg, const uint8_t *duid, size_t duid_len, size_t *n,
				    char *err, size_t errlen)
{
	struct served6 *v = xcalloc(cfg->nservers + 1, sizeof *v);
	for (size_t i = 0; i < cfg->nservers; i++) {
		snprintf(v[i].ifname, sizeof v[i].ifname, "%s", cfg->servers[i].interface);
		v[i].ifindex = (int)if_nametoindex(v[i].ifname);
		pd_server_init(&v[i].srv, &cfg->servers[i], duid, duid_len);
		if (v[i].ifindex <= 0) {
			snprintf(err, errlen, "servers[%zu]: interface %s does not exist", i, v[i].ifname);
			for (size_t k = 0; k <= i; k++)
				pd_server_free(&v[k].srv);
			free(v);
			return NULL;
		}
	}
	*n = cfg->nservers;
	return v;
}

struct serving *serving_open(struct arbor_daemon *d, struct arbor_nl *nl, const struct dhcp6pd_config *cfg,
			     const uint8_t *duid, size_t duid_len, char *err, size_t errlen)
{
	struct serving *s = xcalloc(1, sizeof *s);
	s->d = d;
	s->nl = nl;
	s->outbox = xcalloc(OUTBOX_MAX, sizeof *s->outbox);
	s->v = open_servers(cfg, duid, duid_len, &s->n, err, errlen);
	if (s->v == NULL) {
		free(s->outbox);
		free(s);
		return NULL;
	}
	struct arbor_journal_replay replay = { replay_snapshot, replay_record, s };
	if (arbor_journal_open(arbor_daemon_state_dir(d), "delegations.json", &replay, &s->journal, err, errlen) != 0) {
		serving_close(s);
		return NULL;
	}
	/* The replay's peak (a parsed snapshot of every binding) goes back first:
	 * the group commit's slot arrays then take fresh pages, resident only once
	 * a burst uses them, not the replay's, resident already. */
	malloc_trim(0);
	struct arbor_group_commit_def def = {
		.name = "delegation journal",
		.answer_size = sizeof(struct answer6),
		.batch_max = ANSWERS_MAX,
		.deliver = deliver,
		.snapshot = snapshot,
		.ctx = s,
	};
	s->gc = arbor_group_commit_new(arbor_daemon_base(d), s->journal, &def);
	s->compact_records = cfg->compact_records;
	tune_compaction(s);
	/* Literal pools are known now: what is in none of them ends; the routes of
	 * the others come back (a restart must not leave a router unreachable).
	 * from_delegation bindings wait for their uplink (serving_set_delegation). */
	double now = arbor_time_wall();
	for (size_t i = 0; i < s->n; i++) {
		struct ended_ctx e = { s, &s->v[i] };
		pd_server_expire(&s->v[i].srv, now, ended, &e);
		binding_table_each(&s->v[i].srv.table, restore_route, &e);
	}
	apply_routes(s, &s->routes);
	arbor_group_commit_compact(s->gc);
	malloc_trim(0); /* the replay's and the snapshot's peak goes back to the system */
	struct timeval second = { 1, 0 };
	s->expiry = event_new(arbor_daemon_base(d), -1, EV_PERSIST, on_expiry, s);
	event_add(s->expiry, &second);
	size_t bound = 0;
	for (size_t i = 0; i < s->n; i++)
		bound += s->v[i].srv.table.bound;
	log_info("delegating on %zu interfaces, %zu delegations on record", s->n, bound);
	return s;
}

void serving_end_strays(struct serving *s)
{
	double now = arbor_time_wall();
	for (size_t i = 0; s && i < s->n; i++) {
		struct ended_ctx e = { s, &s->v[i] };
		pd_server_end_strays(&s->v[i].srv, now, ended, &e);
	}
	if (s)
		arbor_group_commit_flush(s->gc);
}

int serving_reconfigure(struct serving *s, const struct dhcp6pd_config *cfg, char *err, size_t errlen)
{
	if (cfg->nservers != s->n) {
		snprintf(err, errlen, "dhcp6pd.servers: adding or removing a server needs a restart");
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(cfg->servers[i].interface, s->v[i].ifname) != 0) {
			snprintf(err, errlen, "dhcp6pd.servers[%zu].interface: changing it needs a restart", i);
			return -1;
		}
	size_t n;
	struct served6 *fresh = open_servers(cfg, s->v[0].srv.duid, s->v[0].srv.duid_len, &n, err, errlen);
	if (fresh == NULL)
		return -1;
	arbor_group_commit_drain(s->gc); /* answers in flight point at the old servers */
	for (size_t i = 0; i < n; i++) {
		pd_server_adopt(&fresh[i].srv, &s->v[i].srv);
		pd_server_free(&s->v[i].srv);
	}
	free(s->v);
	s->v = fresh;
	s->compact_records = cfg->compact_records;
	tune_compaction(s);
	serving_end_strays(s); /* pools may have shrunk */
	return 0;
}

void serving_close(struct serving *s)
{
	if (s == NULL)
		return;
	if (s->expiry)
		event_free(s->expiry);
	if (s->gc) {
		arbor_group_commit_compact(s->gc);
		arbor_group_commit_free(s->gc);
	}
	arbor_journal_close(s->journal);
	for (size_t i = 0; i < s->n; i++)
		pd_server_free(&s->v[i].srv);
	free(s->v);
	free(s->outbox);
	arbor_buf_free(&s->record);
	arbor_buf_free(&s->event_data);
	free(s->routes.ops);
	free(s);
	malloc_trim(0);
}

/* ---- views ---- */

cJSON *serving_status(const struct serving *s)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; s && i < s->n; i++) {
		const struct served6 *sv = &s->v[i];
		const struct pd_server *p = &sv->srv;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "interface", sv->ifname);
		cJSON *pools = cJSON_AddArrayToObject(o, "pools");
		for (size_t k = 0; k < p->npools; k++) {
			char text[64];
			cJSON *po = cJSON_CreateObject();
			if (p->pools[k].nblocks)
				cJSON_AddStringToObject(po, "prefix", arbor_prefix6_format(&p->pools[k].prefix, text, sizeof text));
			else
				cJSON_AddNullToObject(po, "prefix");
			cJSON_AddBoolToObject(po, "from_delegation", p->pools[k].from_delegation);
			arbor_json_add_int(po, "delegated_length", p->pools[k].dlen);
			arbor_json_add_int(po, "blocks", (long long)p->pools[k].nblocks);
			cJSON_AddItemToArray(pools, po);
		}
		arbor_json_add_int(o, "bound", (long long)p->table.bound);
		arbor_json_add_int(o, "offered", (long long)p->table.offered);
		arbor_json_add_int(o, "records", (long long)p->table.count);
		cJSON *c = cJSON_AddObjectToObject(o, "messages");
		arbor_json_add_int(c, "solicit", (long long)p->solicits);
		arbor_json_add_int(c, "request", (long long)p->requests);
		arbor_json_add_int(c, "renew", (long long)p->renews);
		arbor_json_add_int(c, "rebind", (long long)p->rebinds);
		arbor_json_add_int(c, "release", (long long)p->releases);
		arbor_json_add_int(c, "advertise", (long long)p->advertised);
		arbor_json_add_int(c, "reply", (long long)p->replied);
		arbor_json_add_int(c, "no_prefix", (long long)p->no_prefix);
		arbor_json_add_int(c, "ignored", (long long)p->ignored);
		cJSON_AddItemToArray(arr, o);
	}
	if (s) {
		const struct arbor_group_commit_stats *st = arbor_group_commit_stats(s->gc);
		cJSON *j = cJSON_CreateObject();
		arbor_json_add_int(j, "commits", (long long)st->commits);
		arbor_json_add_int(j, "failures", (long long)st->failures);
		arbor_json_add_int(j, "withheld", (long long)st->withheld);
		arbor_json_add_int(j, "route_errors", (long long)s->route_errors);
		cJSON *wrap = cJSON_CreateObject();
		cJSON_AddItemToObject(wrap, "servers", arr);
		cJSON_AddItemToObject(wrap, "journal", j);
		return wrap;
	}
	cJSON *wrap = cJSON_CreateObject();
	cJSON_AddItemToObject(wrap, "servers", arr);
	return wrap;
}

enum arbor_health serving_health(const struct serving *s, cJSON *reasons)
{
	enum arbor_health h = ARBOR_HEALTH_OK;
	if (s == NULL)
		return h;
	if (arbor_group_commit_stats(s->gc)->failures) {
		cJSON_AddItemToArray(reasons, cJSON_CreateString("the delegation journal could not be written"));
		h = ARBOR_HEALTH_FAILED;
	}
	for (size_t i = 0; i < s->n; i++) {
		uint64_t cap = pd_server_capacity(&s->v[i].srv);
		if (cap && s->v[i].srv.table.bound >= cap) {
			char reason[96];
			snprintf(reason, sizeof reason, "%s: every block of the pools is delegated", s->v[i].ifname);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
			if (h == ARBOR_HEALTH_OK)
				h = ARBOR_HEALTH_DEGRADED;
		}
	}
	return h;
}

void serving_metrics(const struct serving *s, struct arbor_buf *out)
{
	if (s == NULL)
		return;
	arbor_buf_puts(out, "# HELP arbor_dhcp6pd_delegations Delegations by interface and state.\n"
			    "# TYPE arbor_dhcp6pd_delegations gauge\n");
	for (size_t i = 0; i < s->n; i++)
		arbor_buf_printf(out, "arbor_dhcp6pd_delegations{interface=\"%s\",state=\"bound\"} %zu\n", s->v[i].ifname,
				 s->v[i].srv.table.bound);
	const struct arbor_group_commit_stats *st = arbor_group_commit_stats(s->gc);
	arbor_buf_printf(out,
			 "# HELP arbor_dhcp6pd_journal_commits_total Group commits of the delegation journal.\n"
			 "# TYPE arbor_dhcp6pd_journal_commits_total counter\n"
			 "arbor_dhcp6pd_journal_commits_total %llu\n"
			 "# HELP arbor_dhcp6pd_server_replies_total Answers sent by the delegating servers.\n"
			 "# TYPE arbor_dhcp6pd_server_replies_total counter\n"
			 "arbor_dhcp6pd_server_replies_total %llu\n",
			 (unsigned long long)st->commits, (unsigned long long)s->sent);
}

struct list_ctx {
	cJSON *arr;
	const char *ifname, *duid, *prefix;
	int state;
};

static void list_one(void *ctx, struct binding *b)
{
	struct list_ctx *lc = ctx;
	if (b->state == BINDING_OFFERED || (lc->state >= 0 && b->state != lc->state))
		return;
	struct binding_view v;
	binding_view_of(b, &v);
	char text[DHCP6_DUID_MAX * 3 + 1];
	if (lc->duid) {
		duid_format(v.duid, v.duid_len, text, sizeof text);
		if (strcasecmp(text, lc->duid) != 0)
			return;
	}
	if (lc->prefix && strcmp(arbor_prefix6_format(&v.prefix, text, sizeof text), lc->prefix) != 0)
		return;
	cJSON_AddItemToArray(lc->arr, binding_json(lc->ifname, &v));
}

cJSON *serving_delegations(const struct serving *s, const struct arbor_query *q, char *err, size_t errlen)
{
	struct list_ctx lc = { NULL, NULL, arbor_query_get(q, "duid"), arbor_query_get(q, "prefix"), -1 };
	const char *state = arbor_query_get(q, "state"), *ifname = arbor_query_get(q, "interface");
	if (state && ((lc.state = binding_state_from_name(state)) < 0 || lc.state == BINDING_OFFERED)) {
		snprintf(err, errlen, "state is one of bound, released, expired");
		return NULL;
	}
	cJSON *doc = cJSON_CreateObject();
	lc.arr = cJSON_AddArrayToObject(doc, "delegations");
	for (size_t i = 0; s && i < s->n; i++) {
		if (ifname && strcmp(ifname, s->v[i].ifname) != 0)
			continue;
		lc.ifname = s->v[i].ifname;
		binding_table_each(&s->v[i].srv.table, list_one, &lc);
	}
	return doc;
}
