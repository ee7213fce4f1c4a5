/* The hub role (see hub.h). A request on the network listener goes: parse and
 * signature (join_wire.c), the hub fingerprint it names, the timestamp window,
 * the registry's decision (registry.c), then the nonce (replay.c); only then is
 * anything changed. A change is applied to the registry, appended to the store
 * and answered once it is durable; its events follow the commit. Refusals get
 * 401 or 409, a spoke.refused event (at most REFUSED_EVENTS_PER_S a second,
 * the rest counted) and change nothing. */
#include "hub.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "http_server.h"
#include "inet_socket.h"
#include "ipv4_alloc_kernel.h"
#include "json.h"
#include "log.h"
#include "replay.h"
#include "store.h"
#include "store_etcd.h"
#include "xalloc.h"

enum { REFUSED_EVENTS_PER_S = 20, NONCE_MEMORY = 1 << 20 };
#define ANSWER_WAIT_S 30.0

struct live {
	double last_seen; /* monotonic; 0: never since start */
	bool up;
};

struct hub {
	struct arbor_daemon *d;
	const struct overlayd_config *cfg;
	void (*changed)(void *ctx);
	void *changed_ctx;
	char name[OVL_HOSTNAME_MAX + 1];
	struct arbor_sign_key key;
	uint8_t fp[ARBOR_FINGERPRINT_BYTES];
	char fp_text[ARBOR_B64_LEN(32) + 1];
	struct ovl_registry *reg;
	struct ovl_file_store *store; /* the file backend, or */
	struct ovl_etcd_store *etcd;  /* the etcd backend */
	struct ovl_replay *replay;
	int listen_fd;
	struct arbor_http_server *srv;
	struct arbor_route routes[3];
	struct live *live; /* by spoke id */
	size_t live_cap;
	struct event *liveness;
	/* counters */
	uint64_t joins_new, joins_updated, joins_known, heartbeats, malformed;
	uint64_t refused[4]; /* by reason: signature, window/nonce, unknown key/token, hostname/full */
	uint64_t refused_events_dropped;
	double refused_window_start;
	unsigned refused_in_window;
	size_t conflicts;
};

enum refusal { REF_SIGNATURE, REF_REPLAY, REF_UNKNOWN, REF_CONFLICT };

static const struct ovl_hub_config *hcfg(const struct hub *h)
{
	return &h->cfg->hub;
}

static int64_t now_ms(void)
{
	return (int64_t)(arbor_time_wall() * 1000);
}

static void key_fingerprint_text(const uint8_t key[32], char out[ARBOR_B64_LEN(32) + 1])
{
	uint8_t fp[ARBOR_FINGERPRINT_BYTES];
	arbor_sign_fingerprint(key, fp);
	arbor_b64_encode(fp, sizeof fp, out, ARBOR_B64_LEN(32) + 1);
}

/* ---- liveness ---- */

static struct live *live_of(struct hub *h, uint32_t id)
{
	h->live = xgrow_zeroed(h->live, &h->live_cap, id, sizeof *h->live);
	return &h->live[id];
}

static cJSON *spoke_data(const struct ovl_registry *r, const struct ovl_spoke *s)
{
	char text[INET6_ADDRSTRLEN], net[ARBOR_IPV4_PREFIX_TEXT_MAX], fp[ARBOR_B64_LEN(32) + 1];
	cJSON *o = cJSON_CreateObject();
	arbor_json_add_int(o, "id", s->id);
	cJSON_AddStringToObject(o, "hostname", s->hostname);
	arbor_json_add_int(o, "vni", ovl_registry_vni(r, s->id));
	cJSON_AddStringToObject(o, "subnet", arbor_ipv4_prefix_format(&s->subnet, net, sizeof net));
	cJSON_AddStringToObject(o, "underlay", ovl_ip_format(&s->underlay, text, sizeof text));
	key_fingerprint_text(s->key, fp);
	char sha[ARBOR_B64_LEN(32) + 8];
	snprintf(sha, sizeof sha, "SHA256:%s", fp);
	cJSON_AddStringToObject(o, "key_fingerprint", sha);
	return o;
}

static void mark_seen(struct hub *h, const struct ovl_spoke *s)
{
	struct live *l = live_of(h, s->id);
	l->last_seen = arbor_time_monotonic();
	if (l->up)
		return;
	l->up = true;
	arbor_event_emit(arbor_daemon_events(h->d), "spoke.up", "info", s->hostname, spoke_data(h->reg, s),
			 "spoke %u (%s) is up", s->id, s->hostname);
}

static void on_liveness(evutil_socket_t fd, short what, void *arg)
{
	struct hub *h = arg;
	double now = arbor_time_monotonic();
	for (size_t i = 0; i < ovl_registry_count(h->reg); i++) {
		const struct ovl_spoke *s = ovl_registry_at(h->reg, i);
		struct live *l = live_of(h, s->id);
		if (!l->up || now - l->last_seen <= hcfg(h)->down_after)
			continue;
		l->up = false;
		cJSON *data = spoke_data(h->reg, s);
		arbor_json_add_fixed(data, "silent_s", now - l->last_seen, 1);
		arbor_event_emit(arbor_daemon_events(h->d), "spoke.down", "warning", s->hostname, data,
				 "spoke %u (%s) is down: no heartbeat for %.0f s", s->id, s->hostname, now - l->last_seen);
	}
}

/* ---- refusals ---- */

/* Counts a refusal and reports it (rate-limited). client: "address:port". */
static void refusal_event(struct hub *h, enum refusal kind, int status, const char *code, const struct ovl_request *r,
			  const char *reason, const char *client)
{
	h->refused[kind]++;
	double now = arbor_time_monotonic();
	if (now - h->refused_window_start >= 1) {
		h->refused_window_start = now;
		h->refused_in_window = 0;
	}
	if (++h->refused_in_window > REFUSED_EVENTS_PER_S) {
		h->refused_events_dropped++;
		return;
	}
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "code", code);
	arbor_json_add_int(data, "status", status);
	cJSON_AddStringToObject(data, "reason", reason);
	cJSON_AddStringToObject(data, "client", client);
	if (r) {
		char fp[ARBOR_B64_LEN(32) + 8], b[ARBOR_B64_LEN(32) + 1];
		key_fingerprint_text(r->key, b);
		snprintf(fp, sizeof fp, "SHA256:%s", b);
		cJSON_AddStringToObject(data, "hostname", r->hostname);
		cJSON_AddStringToObject(data, "key_fingerprint", fp);
		cJSON_AddStringToObject(data, "op", r->op == OVL_OP_JOIN ? "join" : "heartbeat");
	}
	arbor_event_emit(arbor_daemon_events(h->d), "spoke.refused", "warning", r ? r->hostname : client, data,
			 "%s from %s refused (%d): %s", r && r->op == OVL_OP_HEARTBEAT ? "heartbeat" : "join", client,
			 status, reason);
}

/* Refuses a request: the error answer, and the event. */
static void refuse(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp,
		   enum refusal kind, int status, const char *code, const struct ovl_request *r, const char *reason)
{
	char client[64] = "?";
	if (req->client)
		arbor_sockaddr_format(req->client, client, sizeof client);
	arbor_resp_error(resp, status, code, "%s", reason);
	refusal_event(h, kind, status, code, r, reason, client);
}

/* ---- answers ---- */

static void build_answer(struct hub *h, const struct ovl_spoke *s, const struct ovl_request *r, struct arbor_buf *out)
{
	const struct ovl_hub_config *c = hcfg(h);
	struct ovl_answer a = {
		.id = s->id, .vni = ovl_registry_vni(h->reg, s->id), .port = c->port, .subnet = s->subnet,
		.network = c->network, .hub_underlay = c->underlay, .hub_address = c->address,
		.heartbeat_s = c->heartbeat, .direct = c->direct, .direct_vni = c->vni_base,
	};
	memcpy(a.re, r->nonce, sizeof a.re);
	struct ovl_peer *peers = NULL;
	if (c->direct) {
		size_t n = ovl_registry_count(h->reg);
		peers = xcalloc(n ? n : 1, sizeof *peers);
		for (size_t i = 0; i < n; i++) {
			const struct ovl_spoke *p = ovl_registry_at(h->reg, i);
			if (p->id == s->id || !p->has_mac || p->underlay.family != s->underlay.family)
				continue;
			struct ovl_peer *x = &peers[a.npeers++];
			x->id = p->id;
			x->subnet = p->subnet;
			x->underlay = p->underlay;
			memcpy(x->mac, p->mac, 6);
			if (a.npeers == OVL_MAX_PEERS)
				break;
		}
		a.peers = peers;
	}
	ovl_answer_build(&a, &h->key, out);
	free(peers);
}

/* An answer waiting for its record (or the records before it) to be durable. */
struct answer_wait {
	struct hub *h;
	struct ovl_ticket *ticket; /* NULL: ready now */
	char *body;
	size_t len;
};

static bool answer_poll(void *ctx, struct arbor_http_response *resp, bool timed_out)
{
	struct answer_wait *w = ctx;
	struct ovl_ticket *t = w->ticket;
	enum ovl_ticket_state st = t ? t->state : OVL_TICKET_DONE;
	if (st == OVL_TICKET_PENDING && !timed_out)
		return false;
	if (st == OVL_TICKET_DONE && (w->body || (t && t->answer.len))) {
		char *body = w->body;
		size_t len = w->len;
		if (body == NULL)
			body = arbor_buf_steal(&t->answer, &len);
		w->body = NULL;
		arbor_resp_text(resp, 200, "application/json", body, len);
		return true;
	}
	if (st == OVL_TICKET_PENDING)
		arbor_resp_error(resp, 503, "not_durable", "the registry did not confirm in time");
	else
		arbor_resp_error(resp, t->status ? t->status : 503, t->code ? t->code : "registry_unavailable", "%s",
				 t->error[0] ? t->error : "the registry could not be written");
	return true;
}

static void answer_free(void *ctx)
{
	struct answer_wait *w = ctx;
	ovl_ticket_put(w->ticket);
	free(w->body);
	free(w);
}

static void answer_when(struct hub *h, struct arbor_http_response *resp, struct ovl_ticket *t, struct arbor_buf *body)
{
	struct answer_wait *w = xcalloc(1, sizeof *w);
	w->h = h;
	w->ticket = t;
	if (body)
		w->body = arbor_buf_steal(body, &w->len);
	if (t == NULL || t->state != OVL_TICKET_PENDING) {
		answer_poll(w, resp, false);
		answer_free(w);
		return;
	}
	arbor_resp_defer(resp, answer_poll, w, answer_free, ANSWER_WAIT_S);
}

/* A committed change: its events, then wake the answers waiting for it. */
struct change_done {
	struct hub *h;
	struct ovl_join_decision d;
};

static void on_change_durable(void *ctx, struct ovl_ticket *t)
{
	struct change_done *c = ctx;
	struct hub *h = c->h;
	if (t->state == OVL_TICKET_DONE) {
		const struct ovl_spoke *s = ovl_registry_by_id(h->reg, c->d.entry.id);
		if (s) {
			bool is_new = c->d.kind == OVL_JOIN_NEW;
			char ip[INET6_ADDRSTRLEN], net[ARBOR_IPV4_PREFIX_TEXT_MAX];
			arbor_event_emit(arbor_daemon_events(h->d), is_new ? "spoke.joined" : "spoke.updated", "info",
					 s->hostname, spoke_data(h->reg, s), "spoke %u (%s) %s: VNI %u, subnet %s, underlay %s",
					 s->id, s->hostname, is_new ? "joined" : "updated", ovl_registry_vni(h->reg, s->id),
					 arbor_ipv4_prefix_format(&s->subnet, net, sizeof net),
					 ovl_ip_format(&s->underlay, ip, sizeof ip));
			mark_seen(h, s);
		}
	}
	arbor_http_server_wake(h->srv);
	free(c);
}

/* An etcd join finished deciding and claiming: answer as it decided. */
struct etcd_join {
	struct hub *h;
	struct ovl_request req;
	char client[64];
};

static void on_etcd_join(void *ctx, struct ovl_ticket *t)
{
	struct etcd_join *j = ctx;
	struct hub *h = j->h;
	const struct ovl_join_decision *d = &t->decision;
	if (t->state == OVL_TICKET_DONE && d->kind == OVL_JOIN_REFUSED) {
		t->status = d->status;
		t->code = d->code;
		snprintf(t->error, sizeof t->error, "%s", d->reason);
		refusal_event(h, d->status == 409 ? REF_CONFLICT : REF_UNKNOWN, d->status, d->code, &j->req, d->reason,
			      j->client);
	} else if (t->state == OVL_TICKET_DONE) {
		const struct ovl_spoke *s = ovl_registry_by_id(h->reg, d->entry.id);
		if (s == NULL) {
			t->status = 503;
			snprintf(t->error, sizeof t->error, "the entry vanished from the registry before the answer");
		} else {
			if (d->kind == OVL_JOIN_KNOWN) {
				j->req.op == OVL_OP_JOIN ? h->joins_known++ : h->heartbeats++;
				mark_seen(h, s);
			} else {
				d->kind == OVL_JOIN_NEW ? h->joins_new++ : h->joins_updated++;
				struct change_done *c = xcalloc(1, sizeof *c);
				c->h = h;
				c->d = *d;
				on_change_durable(c, t); /* its events; frees c */
			}
			build_answer(h, s, &j->req, &t->answer);
		}
	}
	arbor_http_server_wake(h->srv);
	free(j);
}

static void on_barrier(void *ctx, struct ovl_ticket *t)
{
	struct hub *h = ctx;
	arbor_http_server_wake(h->srv);
}

/* ---- the network API ---- */

static void handle_request(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp,
			   enum ovl_op op)
{
	struct ovl_request r;
	char err[320];
	int rc = ovl_request_parse(req->body, req->body_len, &r, err, sizeof err);
	if (rc == -EINVAL) {
		h->malformed++;
		arbor_resp_error(resp, 400, "bad_request", "%s", err);
		return;
	}
	if (rc != 0) {
		refuse(h, req, resp, REF_SIGNATURE, 401, "unauthorized", NULL, err);
		return;
	}
	if (r.op != op) {
		h->malformed++;
		arbor_resp_error(resp, 400, "bad_request", "a %s request sent to the %s endpoint",
				 r.op == OVL_OP_JOIN ? "join" : "heartbeat", op == OVL_OP_JOIN ? "join" : "heartbeat");
		return;
	}
	if (sodium_memcmp(r.hub_fp, h->fp, sizeof h->fp) != 0) {
		refuse(h, req, resp, REF_SIGNATURE, 401, "unauthorized", &r,
		       "the request is for another hub (its fingerprint is not this hub's key)");
		return;
	}
	int64_t now = now_ms(), window = (int64_t)(hcfg(h)->max_clock_skew * 1000);
	if (r.ts_ms < now - window || r.ts_ms > now + window) {
		snprintf(err, sizeof err, "timestamp %.1f s away from the hub's clock (at most %.0f s allowed)",
			 (double)(r.ts_ms - now) / 1000, hcfg(h)->max_clock_skew);
		refuse(h, req, resp, REF_REPLAY, 401, "unauthorized", &r, err);
		return;
	}
	struct ovl_join_decision d;
	ovl_registry_decide_join(h->reg, &r, h->name, now / 1000, &d);
	if (d.kind == OVL_JOIN_REFUSED) {
		refuse(h, req, resp, d.status == 409 ? REF_CONFLICT : REF_UNKNOWN, d.status, d.code, &r, d.reason);
		return;
	}
	enum ovl_replay_verdict v = ovl_replay_check(h->replay, r.nonce, r.ts_ms, now, window);
	if (v != OVL_REPLAY_FRESH) {
		snprintf(err, sizeof err, "%s", ovl_replay_verdict_name(v));
		if (v == OVL_REPLAY_FULL) {
			arbor_resp_error(resp, 503, "busy", "%s", err);
			return;
		}
		refuse(h, req, resp, REF_REPLAY, 401, "unauthorized", &r, err);
		return;
	}
	struct arbor_buf body = { 0 };
	if (d.kind == OVL_JOIN_KNOWN) {
		const struct ovl_spoke *s = ovl_registry_by_key(h->reg, r.key);
		op == OVL_OP_JOIN ? h->joins_known++ : h->heartbeats++;
		mark_seen(h, s);
		build_answer(h, s, &r, &body);
		answer_when(h, resp, h->store ? ovl_file_store_barrier(h->store, on_barrier, h) : NULL, &body);
		return;
	}
	if (h->etcd) {
		/* A change to a shared registry: claimed in etcd, answered once it is. */
		if (!ovl_etcd_store_up(h->etcd)) {
			snprintf(err, sizeof err, "the registry (etcd) is unreachable: %s; known spokes are served, new "
				 "joins wait until it returns", ovl_etcd_store_error(h->etcd));
			refuse(h, req, resp, REF_UNKNOWN, 503, "registry_unavailable", &r, err);
			return;
		}
		struct etcd_join *j = xcalloc(1, sizeof *j);
		j->h = h;
		j->req = r;
		snprintf(j->client, sizeof j->client, "?");
		if (req->client)
			arbor_sockaddr_format(req->client, j->client, sizeof j->client);
		struct ovl_ticket *t = ovl_ticket_new(on_etcd_join, j);
		ovl_etcd_store_join(h->etcd, &r, t);
		answer_when(h, resp, t, NULL);
		return;
	}
	/* NEW or UPDATE: apply, append, answer once durable. */
	struct arbor_buf rec = { 0 };
	ovl_registry_record_join(&rec, &d);
	cJSON *doc = cJSON_ParseWithLength(rec.data, rec.len);
	rc = ovl_registry_apply(h->reg, doc, err, sizeof err);
	cJSON_Delete(doc);
	if (rc != 0) {
		/* The decision was made against this registry: this cannot fail. */
		log_err("join: applying the decision failed: %s", err);
		arbor_resp_error(resp, 500, "internal", "%s", err);
		arbor_buf_free(&rec);
		return;
	}
	d.kind == OVL_JOIN_NEW ? h->joins_new++ : h->joins_updated++;
	struct change_done *c = xcalloc(1, sizeof *c);
	c->h = h;
	c->d = d;
	struct ovl_ticket *t = ovl_ticket_new(on_change_durable, c);
	ovl_file_store_append(h->store, rec.data, rec.len, t);
	arbor_buf_free(&rec);
	build_answer(h, ovl_registry_by_id(h->reg, d.entry.id), &r, &body);
	answer_when(h, resp, t, &body);
	h->changed(h->changed_ctx);
}

static void handle_join(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	handle_request(ctx, req, resp, OVL_OP_JOIN);
}

static void handle_heartbeat(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	handle_request(ctx, req, resp, OVL_OP_HEARTBEAT);
}

static void handle_hub_info(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct hub *h = ctx;
	char pub[ARBOR_B64_LEN(32) + 1], fp[ARBOR_B64_LEN(32) + 8];
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "public_key", arbor_b64_encode(h->key.public_key, 32, pub, sizeof pub));
	snprintf(fp, sizeof fp, "SHA256:%s", h->fp_text);
	cJSON_AddStringToObject(doc, "fingerprint", fp);
	arbor_resp_json(resp, 200, doc);
}

static bool no_authorization(void *ctx, const struct arbor_http_request *req, const struct arbor_route *route,
			     struct arbor_http_response *resp)
{
	return true; /* every request is signed; the route table has no commands */
}

/* ---- life ---- */

static void registry_params(const struct ovl_hub_config *c, struct ovl_registry_params *p)
{
	*p = (struct ovl_registry_params){ .network = c->network, .subnet_length = c->subnet_length,
					   .vni_base = c->vni_base, .hub_address = c->address,
					   .max_spokes = c->max_spokes };
}

/* What the machine uses in the overlay's network that is not ours: new subnets
 * avoid it. Our devices and routes are the registry applied, not a use. */
static void read_in_use(struct hub *h, struct arbor_nl *nl)
{
	struct arbor_ipv4_in_use *use = NULL;
	size_t n = 0, kept = 0;
	char err[256];
	if (arbor_ipv4_in_use_from_kernel(nl, &use, &n, err, sizeof err) != 0) {
		log_warn("what the machine uses: %s", err);
		return;
	}
	const char *prefix = hcfg(h)->device_prefix;
	for (size_t i = 0; i < n; i++)
		if (strncmp(use[i].owner, prefix, strlen(prefix)) != 0 &&
		    arbor_ipv4_prefix_overlaps(&use[i].prefix, &hcfg(h)->network))
			use[kept++] = use[i];
	ovl_registry_set_in_use(h->reg, use, kept);
	free(use);
}

static void on_mirror_changed(void *ctx)
{
	struct hub *h = ctx;
	h->changed(h->changed_ctx);
}

struct hub *hub_start(struct arbor_daemon *d, const struct overlayd_config *cfg, struct arbor_nl *nl,
		      void (*changed)(void *ctx), void *ctx, char *err, size_t errlen)
{
	struct hub *h = xcalloc(1, sizeof *h);
	h->d = d;
	h->cfg = cfg;
	h->changed = changed;
	h->changed_ctx = ctx;
	h->listen_fd = -1;
	snprintf(h->name, sizeof h->name, "%s", cfg->hub.name ? cfg->hub.name : arbor_daemon_config(d)->machine.name);
	const char *dir = arbor_daemon_state_dir(d);
	bool created;
	if (arbor_sign_key_load_or_create(dir, "hub.key", &h->key, &created, err, errlen) != 0)
		goto fail;
	arbor_sign_fingerprint(h->key.public_key, h->fp);
	arbor_b64_encode(h->fp, sizeof h->fp, h->fp_text, sizeof h->fp_text);
	if (created)
		log_info("hub key created: SHA256:%s", h->fp_text);
	struct ovl_registry_params p;
	registry_params(&cfg->hub, &p);
	h->reg = ovl_registry_new(&p);
	read_in_use(h, nl);
	if (cfg->registry.backend == OVL_BACKEND_ETCD) {
		h->etcd = ovl_etcd_store_open(arbor_daemon_base(d), &cfg->registry, h->reg, dir, h->name, &cfg->hub.underlay,
					      on_mirror_changed, h, err, errlen);
		if (h->etcd == NULL)
			goto fail;
	} else if ((h->store = ovl_file_store_open(arbor_daemon_base(d), dir, h->reg, err, errlen)) == NULL) {
		goto fail;
	}
	h->replay = ovl_replay_new(NONCE_MEMORY);
	h->listen_fd = arbor_tcp_listen((const struct sockaddr *)&cfg->hub.listen, cfg->hub.listen_len, 1024, err, errlen);
	if (h->listen_fd < 0)
		goto fail;
	h->routes[0] = (struct arbor_route){ "POST", "/v1/join", handle_join, false };
	h->routes[1] = (struct arbor_route){ "POST", "/v1/heartbeat", handle_heartbeat, false };
	h->routes[2] = (struct arbor_route){ "GET", "/v1/hub", handle_hub_info, false };
	struct arbor_http_limits limits = { .max_body_bytes = OVL_BODY_MAX, .max_connections = 4096,
					    .idle_timeout_s = 10 };
	struct arbor_http_handlers handlers = { h->routes, 3, h, no_authorization };
	h->srv = arbor_http_server_start(arbor_daemon_base(d), h->listen_fd, &limits, &handlers, err, errlen);
	if (h->srv == NULL)
		goto fail;
	h->liveness = event_new(arbor_daemon_base(d), -1, EV_PERSIST, on_liveness, h);
	struct timeval second = { 1, 0 };
	event_add(h->liveness, &second);
	char listen[64];
	log_info("hub %s on %s: %zu spokes, key SHA256:%s", h->name,
		 arbor_sockaddr_format((const struct sockaddr *)&cfg->hub.listen, listen, sizeof listen),
		 ovl_registry_count(h->reg), h->fp_text);
	return h;
fail:
	hub_stop(h);
	return NULL;
}

int hub_reload(struct hub *h, const struct overlayd_config *next, char *err, size_t errlen)
{
	const struct ovl_hub_config *a = hcfg(h), *b = &next->hub;
	if (a->listen_len != b->listen_len || memcmp(&a->listen, &b->listen, a->listen_len) != 0) {
		snprintf(err, errlen, "overlayd.hub.listen changes only at a restart");
		return -1;
	}
	if (h->cfg->registry.backend != next->registry.backend) {
		snprintf(err, errlen, "overlayd.registry.backend changes only at a restart");
		return -1;
	}
	if (h->etcd && strcmp(h->cfg->registry.prefix, next->registry.prefix) != 0) {
		snprintf(err, errlen, "overlayd.registry.prefix changes only at a restart");
		return -1;
	}
	h->cfg = next;
	if (h->etcd)
		ovl_etcd_store_set_config(h->etcd, &next->registry);
	struct ovl_registry_params p;
	registry_params(b, &p);
	ovl_registry_set_params(h->reg, &p);
	h->changed(h->changed_ctx);
	return 0;
}

void hub_stop(struct hub *h)
{
	if (h == NULL)
		return;
	if (h->srv)
		arbor_http_server_stop(h->srv);
	else if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->liveness)
		event_free(h->liveness);
	ovl_file_store_close(h->store);
	ovl_etcd_store_close(h->etcd);
	ovl_registry_free(h->reg);
	ovl_replay_free(h->replay);
	free(h->live);
	sodium_memzero(&h->key, sizeof h->key);
	free(h);
}

void hub_desired(struct hub *h, struct ovl_desired_set *s, const struct ovl_kernel *k)
{
	size_t nhubs = 0;
	const struct ovl_hub_peer *hubs = h->etcd ? ovl_etcd_store_hubs(h->etcd, &nhubs) : NULL;
	ovl_desired_hub(s, h->reg, hcfg(h), h->etcd ? h->name : NULL, hubs, nhubs, k);
}

const char *hub_device_prefix(const struct hub *h)
{
	return hcfg(h)->device_prefix;
}

const struct ovl_registry *hub_registry(const struct hub *h)
{
	return h->reg;
}

/* ---- status ---- */

static size_t count_up(struct hub *h)
{
	size_t up = 0;
	for (size_t i = 0; i < ovl_registry_count(h->reg); i++)
		up += live_of(h, ovl_registry_at(h->reg, i)->id)->up;
	return up;
}

void hub_status(struct hub *h, cJSON *out)
{
	const struct ovl_hub_config *c = hcfg(h);
	cJSON *o = cJSON_AddObjectToObject(out, "hub");
	char text[64], net[ARBOR_IPV4_PREFIX_TEXT_MAX], fp[ARBOR_B64_LEN(32) + 8], pub[ARBOR_B64_LEN(32) + 1];
	cJSON_AddStringToObject(o, "name", h->name);
	cJSON_AddStringToObject(o, "listen", arbor_sockaddr_format((const struct sockaddr *)&c->listen, text, sizeof text));
	snprintf(fp, sizeof fp, "SHA256:%s", h->fp_text);
	cJSON_AddStringToObject(o, "fingerprint", fp);
	cJSON_AddStringToObject(o, "public_key", arbor_b64_encode(h->key.public_key, 32, pub, sizeof pub));
	cJSON_AddStringToObject(o, "network", arbor_ipv4_prefix_format(&c->network, net, sizeof net));
	arbor_json_add_int(o, "subnet_length", c->subnet_length);
	cJSON_AddStringToObject(o, "underlay", ovl_ip_format(&c->underlay, text, sizeof text));
	inet_ntop(AF_INET, &c->address, text, sizeof text);
	cJSON_AddStringToObject(o, "address", text);
	arbor_json_add_int(o, "vni_base", c->vni_base);
	arbor_json_add_int(o, "port", c->port);
	cJSON_AddStringToObject(o, "registry", h->cfg->registry.backend == OVL_BACKEND_ETCD ? "etcd" : "file");
	size_t n = ovl_registry_count(h->reg), up = count_up(h);
	arbor_json_add_int(o, "spokes", (long long)n);
	arbor_json_add_int(o, "up", (long long)up);
	arbor_json_add_int(o, "down", (long long)(n - up));
	arbor_json_add_int(o, "tokens", (long long)ovl_registry_token_count(h->reg, (int64_t)arbor_time_wall()));
	cJSON *j = cJSON_AddObjectToObject(o, "requests");
	arbor_json_add_int(j, "joined", (long long)h->joins_new);
	arbor_json_add_int(j, "updated", (long long)h->joins_updated);
	arbor_json_add_int(j, "rejoined", (long long)h->joins_known);
	arbor_json_add_int(j, "heartbeats", (long long)h->heartbeats);
	arbor_json_add_int(j, "malformed", (long long)h->malformed);
	arbor_json_add_int(j, "refused_signature", (long long)h->refused[REF_SIGNATURE]);
	arbor_json_add_int(j, "refused_replay", (long long)h->refused[REF_REPLAY]);
	arbor_json_add_int(j, "refused_unknown", (long long)h->refused[REF_UNKNOWN]);
	arbor_json_add_int(j, "refused_conflict", (long long)h->refused[REF_CONFLICT]);
	if (h->store)
		arbor_json_add_int(o, "registry_commits", (long long)ovl_file_store_commits(h->store));
	if (h->etcd)
		ovl_etcd_store_status(h->etcd, o);
}

void hub_metrics(struct hub *h, struct arbor_buf *out)
{
	size_t n = ovl_registry_count(h->reg), up = count_up(h);
	arbor_buf_printf(out,
			 "# HELP arbor_overlayd_spokes Spokes in the registry, by state.\n# TYPE arbor_overlayd_spokes gauge\n"
			 "arbor_overlayd_spokes{state=\"up\"} %zu\narbor_overlayd_spokes{state=\"down\"} %zu\n"
			 "# HELP arbor_overlayd_requests_total Requests on the hub's listener, by outcome.\n"
			 "# TYPE arbor_overlayd_requests_total counter\n"
			 "arbor_overlayd_requests_total{outcome=\"joined\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"updated\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"rejoined\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"heartbeat\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"malformed\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"refused_signature\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"refused_replay\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"refused_unknown\"} %llu\n"
			 "arbor_overlayd_requests_total{outcome=\"refused_conflict\"} %llu\n"
			 "# HELP arbor_overlayd_refused_events_dropped_total spoke.refused events not written (rate limit).\n"
			 "# TYPE arbor_overlayd_refused_events_dropped_total counter\n"
			 "arbor_overlayd_refused_events_dropped_total %llu\n",
			 up, n - up, (unsigned long long)h->joins_new, (unsigned long long)h->joins_updated,
			 (unsigned long long)h->joins_known, (unsigned long long)h->heartbeats,
			 (unsigned long long)h->malformed, (unsigned long long)h->refused[REF_SIGNATURE],
			 (unsigned long long)h->refused[REF_REPLAY], (unsigned long long)h->refused[REF_UNKNOWN],
			 (unsigned long long)h->refused[REF_CONFLICT], (unsigned long long)h->refused_events_dropped);
	arbor_http_server_metrics_as(h->srv, out, "arbor_overlayd_hub_http", "the hub's listener");
}

enum arbor_health hub_health(struct hub *h, cJSON *reasons)
{
	enum arbor_health health = ARBOR_HEALTH_OK;
	if (h->etcd && !ovl_etcd_store_up(h->etcd)) {
		char reason[400];
		snprintf(reason, sizeof reason, "the registry (etcd) is unreachable: %s: %zu known spokes served, new "
			 "joins refused", ovl_etcd_store_error(h->etcd), ovl_registry_count(h->reg));
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		health = ARBOR_HEALTH_DEGRADED;
	}
	if (h->store && ovl_file_store_failed(h->store)) {
		cJSON_AddItemToArray(reasons, cJSON_CreateString("the registry could not be written: joins are not acknowledged"));
		health = ARBOR_HEALTH_FAILED;
	}
	struct arbor_ipv4_conflict *c = NULL;
	size_t n = 0;
	if (ovl_registry_conflicts(h->reg, &c, &n) == 0 && n) {
		char reason[200], net[ARBOR_IPV4_PREFIX_TEXT_MAX];
		snprintf(reason, sizeof reason, "%zu spoke subnets collide with the machine's routes or left the network "
			 "(first: %s of %s, %s)", n, arbor_ipv4_prefix_format(&c[0].prefix, net, sizeof net), c[0].key,
			 arbor_ipv4_conflict_kind_name(c[0].kind));
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		if (health == ARBOR_HEALTH_OK)
			health = ARBOR_HEALTH_DEGRADED;
	}
	free(c);
	return health;
}

/* ---- commands and views ---- */


/* Hostnames are kept in lower case (as join_wire.c reads them). */
static void lower_label(const char *in, char out[OVL_HOSTNAME_MAX + 1])
{
	size_t i = 0;
	for (; in[i] && i < OVL_HOSTNAME_MAX; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* A new token filed in the registry and queued for the store; its text in out. */
/* A new token (its text in out); not yet filed anywhere. */
static void new_token(struct hub *h, const char *hostname, double seconds, char out[OVL_TOKEN_TEXT_MAX],
		      struct ovl_token_entry *t)
{
	struct ovl_token token;
	memset(t, 0, sizeof *t);
	snprintf(t->hostname, sizeof t->hostname, "%s", hostname);
	memcpy(token.hub_fp, h->fp, sizeof h->fp);
	randombytes_buf(token.secret, sizeof token.secret);
	ovl_token_id(token.secret, t->id);
	ovl_token_proof_key(token.secret, t->proof_key);
	t->expires_at = (int64_t)(arbor_time_wall() + seconds);
	ovl_token_format(&token, out, OVL_TOKEN_TEXT_MAX);
	sodium_memzero(&token, sizeof token);
}

/* A command answered once a shared registry confirmed it (or could not). */
struct command_wait {
	int refs; /* the waiting answer's and the ticket callback's */
	struct hub *h;
	struct ovl_ticket *t;
	const char *command;
	cJSON *doc;       /* the answer when it is done */
	cJSON **events;   /* each: {"type", "subject", "data", "message"}: emitted when done */
	size_t nevents;
};

static void command_wait_free(void *ctx)
{
	struct command_wait *w = ctx;
	if (--w->refs > 0)
		return;
	ovl_ticket_put(w->t);
	cJSON_Delete(w->doc);
	for (size_t i = 0; i < w->nevents; i++)
		cJSON_Delete(w->events[i]);
	free(w->events);
	free(w);
}

static bool command_poll(void *ctx, struct arbor_http_response *resp, bool timed_out)
{
	struct command_wait *w = ctx;
	if (w->t->state == OVL_TICKET_PENDING && !timed_out)
		return false;
	if (w->t->state == OVL_TICKET_DONE) {
		arbor_resp_json(resp, 200, w->doc);
		w->doc = NULL;
	} else {
		arbor_command_answer(resp, w->command, false, w->t->status ? w->t->status : 503, "%s",
				     w->t->state == OVL_TICKET_PENDING ? "the registry did not confirm in time" : w->t->error);
	}
	return true;
}

static void emit_all(struct hub *h, cJSON **events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON *e = events[i];
		cJSON *data = cJSON_DetachItemFromObject(e, "data");
		arbor_event_emit(arbor_daemon_events(h->d), cJSON_GetStringValue(cJSON_GetObjectItem(e, "type")), "info",
				 cJSON_GetStringValue(cJSON_GetObjectItem(e, "subject")), data, "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")));
	}
}

/* The ticket's callback: the events once the change is in the registry; an
 * event either way, which also wakes the waiting answer (the control socket
 * re-polls on events). */
static void on_command_done(void *ctx, struct ovl_ticket *t)
{
	struct command_wait *w = ctx;
	if (t->state == OVL_TICKET_DONE) {
		emit_all(w->h, w->events, w->nevents);
		if (strcmp(w->command, "forget") == 0)
			w->h->changed(w->h->changed_ctx);
	} else {
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "command", w->command);
		cJSON_AddStringToObject(data, "reason", t->error);
		arbor_event_emit(arbor_daemon_events(w->h->d), "registry.refused", "warning", w->command, data,
				 "%s not done: %s", w->command, t->error);
	}
	command_wait_free(w);
}

static cJSON *event_spec(const char *type, const char *subject, cJSON *data, const char *message)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "subject", subject);
	cJSON_AddItemToObject(e, "data", data);
	cJSON_AddStringToObject(e, "message", message);
	return e;
}

/* Carries out a change: the file backend applies, commits and answers now; the
 * etcd backend answers when etcd confirmed. apply(h, arg) changes the local
 * registry and queues the file records; submit(h, arg, t) hands it to etcd. */
static void carry_out(struct hub *h, struct arbor_http_response *resp, const char *command, cJSON *doc,
		      cJSON **events, size_t nevents, void (*apply)(struct hub *, void *),
		      void (*submit)(struct hub *, void *, struct ovl_ticket *), void (*undo)(struct hub *, void *),
		      void *arg)
{
	if (h->store) {
		char err[256];
		apply(h, arg);
		if (ovl_file_store_sync(h->store, err, sizeof err) != 0) {
			undo(h, arg);
			arbor_command_answer(resp, command, false, 500, "not durable: %s", err);
		} else {
			emit_all(h, events, nevents);
			arbor_resp_json(resp, 200, doc);
			doc = NULL;
			if (strcmp(command, "forget") == 0)
				h->changed(h->changed_ctx);
		}
		cJSON_Delete(doc);
		for (size_t i = 0; i < nevents; i++)
			cJSON_Delete(events[i]);
		free(events);
		return;
	}
	if (!ovl_etcd_store_up(h->etcd)) {
		arbor_command_answer(resp, command, false, 503, "the registry (etcd) is unreachable: %s",
				     ovl_etcd_store_error(h->etcd));
		cJSON_Delete(doc);
		for (size_t i = 0; i < nevents; i++)
			cJSON_Delete(events[i]);
		free(events);
		return;
	}
	struct command_wait *w = xcalloc(1, sizeof *w);
	w->h = h;
	w->command = command;
	w->doc = doc;
	w->events = events;
	w->nevents = nevents;
	w->t = ovl_ticket_new(on_command_done, w);
	w->refs = 2;
	arbor_resp_defer(resp, command_poll, w, command_wait_free, h->cfg->registry.timeout * 2 + 1);
	submit(h, arg, w->t);
}

struct tokens_arg {
	struct ovl_token_entry *v;
	size_t n;
};

static void tokens_apply(struct hub *h, void *arg)
{
	struct tokens_arg *a = arg;
	for (size_t i = 0; i < a->n; i++) {
		struct arbor_buf rec = { 0 };
		arbor_buf_puts(&rec, "{\"token\":");
		ovl_token_write(&rec, &a->v[i]);
		arbor_buf_puts(&rec, "}");
		ovl_registry_put_token(h->reg, &a->v[i], NULL, 0); /* its fields are ours and valid */
		ovl_file_store_append(h->store, rec.data, rec.len, NULL);
		arbor_buf_free(&rec);
	}
}

static void tokens_undo(struct hub *h, void *arg)
{
	struct tokens_arg *a = arg;
	for (size_t i = 0; i < a->n; i++)
		ovl_registry_use_token(h->reg, a->v[i].id);
}

static void tokens_submit(struct hub *h, void *arg, struct ovl_ticket *t)
{
	struct tokens_arg *a = arg;
	ovl_etcd_store_put_tokens(h->etcd, a->v, a->n, t);
}

/* POST /v1/commands/enroll {"hostname": "m1", "ttl": 3600, "count": 1}: one
 * token (in "token"), or count of them (in "tokens", one commit for all: a
 * rack at once). Answered once the tokens are in the registry. */
void hub_command_enroll(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(body, "hostname");
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(body, "ttl");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(body, "count");
	/* etcd takes at most 128 operations in one transaction (its default). */
	uint64_t n = 1, most = h->etcd ? 120 : 10000;
	if ((host && (!cJSON_IsString(host) || !arbor_valid_dns_label(host->valuestring))) ||
	    (ttl && (!cJSON_IsNumber(ttl) || !(ttl->valuedouble >= 1 && ttl->valuedouble <= 366 * 86400.0))) ||
	    (count && (!arbor_json_get_u53(count, &n) || n < 1 || n > most)) || (host && n > 1)) {
		cJSON_Delete(body);
		arbor_command_answer(resp, "enroll", false, 400,
				     "\"hostname\" must be a DNS label, \"ttl\" seconds from 1 to 366 days, \"count\" "
				     "1 to %llu (without a hostname)", (unsigned long long)most);
		return;
	}
	char hostname[OVL_HOSTNAME_MAX + 1] = "";
	if (host)
		lower_label(host->valuestring, hostname);
	double seconds = ttl ? ttl->valuedouble : hcfg(h)->token_ttl;
	cJSON_Delete(body);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "command", "enroll");
	cJSON_AddBoolToObject(doc, "accepted", true);
	cJSON *tokens = count ? cJSON_CreateArray() : NULL;
	struct tokens_arg arg = { xcalloc(n, sizeof *arg.v), n };
	cJSON **events = xcalloc(n, sizeof *events);
	char text[OVL_TOKEN_TEXT_MAX], when[40], msg[240];
	for (uint64_t i = 0; i < n; i++) {
		new_token(h, hostname, seconds, text, &arg.v[i]);
		if (tokens)
			cJSON_AddItemToArray(tokens, cJSON_CreateString(text));
		else
			cJSON_AddStringToObject(doc, "token", text);
		sodium_memzero(text, sizeof text);
		struct timespec ts = { .tv_sec = arg.v[i].expires_at };
		arbor_time_rfc3339(&ts, when, sizeof when);
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "token_id", arg.v[i].id);
		cJSON_AddStringToObject(data, "expires_at", when);
		if (hostname[0])
			cJSON_AddStringToObject(data, "hostname", hostname);
		snprintf(msg, sizeof msg, "enrollment token %s created%s%s", arg.v[i].id, hostname[0] ? " for " : "",
			 hostname);
		events[i] = event_spec("token.created", arg.v[i].id, data, msg);
	}
	snprintf(msg, sizeof msg, "%llu token%s for %s, valid until %s: give %s to the spoke (overlayd.spoke.token)",
		 (unsigned long long)n, n > 1 ? "s" : "", hostname[0] ? hostname : "any hostname", when,
		 n > 1 ? "each" : "it");
	cJSON_AddStringToObject(doc, "message", msg);
	if (tokens)
		cJSON_AddItemToObject(doc, "tokens", tokens);
	else
		cJSON_AddStringToObject(doc, "token_id", arg.v[0].id);
	cJSON_AddStringToObject(doc, "expires_at", when);
	carry_out(h, resp, "enroll", doc, events, n, tokens_apply, tokens_submit, tokens_undo, &arg);
	sodium_memzero(arg.v, n * sizeof *arg.v);
	free(arg.v);
}

static const struct ovl_spoke *find_spoke(struct hub *h, const cJSON *body)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(body, "hostname");
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key");
	uint64_t n;
	uint8_t k[32];
	if (id && arbor_json_get_u53(id, &n) && n <= OVL_ID_MAX)
		return ovl_registry_by_id(h->reg, (uint32_t)n);
	if (cJSON_IsString(host)) {
		char lower[OVL_HOSTNAME_MAX + 1];
		lower_label(host->valuestring, lower);
		return ovl_registry_by_hostname(h->reg, lower);
	}
	if (cJSON_IsString(key) && arbor_b64_decode_exact(key->valuestring, k, sizeof k))
		return ovl_registry_by_key(h->reg, k);
	return NULL;
}

static void forget_apply(struct hub *h, void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	char rec[48];
	int len = snprintf(rec, sizeof rec, "{\"forget\":%u}", id);
	ovl_registry_forget(h->reg, id);
	live_of(h, id)->up = false;
	ovl_file_store_append(h->store, rec, (size_t)len, NULL);
}

static void forget_undo(struct hub *h, void *arg)
{
	/* The entry is gone from memory but not from the file: a restart brings it
	 * back; the failed commit makes health say so. */
}

static void forget_submit(struct hub *h, void *arg, struct ovl_ticket *t)
{
	ovl_etcd_store_forget(h->etcd, *(uint32_t *)arg, t);
}

void hub_command_forget(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	bool named = cJSON_GetObjectItemCaseSensitive(body, "id") || cJSON_GetObjectItemCaseSensitive(body, "hostname") ||
		     cJSON_GetObjectItemCaseSensitive(body, "key");
	const struct ovl_spoke *s = find_spoke(h, body);
	cJSON_Delete(body);
	if (!named) {
		arbor_command_answer(resp, "forget", false, 400, "name the spoke: {\"id\": N}, {\"hostname\": \"m1\"} or {\"key\": \"...\"}");
		return;
	}
	if (s == NULL) {
		arbor_command_answer(resp, "forget", false, 404, "no such spoke");
		return;
	}
	uint32_t id = s->id;
	char msg[200];
	snprintf(msg, sizeof msg, "spoke %u (%s) forgotten: its id and subnet are free", id, s->hostname);
	cJSON **events = xcalloc(1, sizeof *events);
	events[0] = event_spec("spoke.forgotten", s->hostname, spoke_data(h->reg, s), msg);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "command", "forget");
	cJSON_AddBoolToObject(doc, "accepted", true);
	cJSON_AddStringToObject(doc, "message", msg);
	carry_out(h, resp, "forget", doc, events, 1, forget_apply, forget_submit, forget_undo, &id);
}

void hub_view_spokes(struct hub *h, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "spokes");
	double now = arbor_time_monotonic();
	const char *state = arbor_query_get(&req->query, "state");
	for (size_t i = 0; i < ovl_registry_count(h->reg); i++) {
		const struct ovl_spoke *s = ovl_registry_at(h->reg, i);
		struct live *l = live_of(h, s->id);
		if (state && strcmp(state, l->up ? "up" : "down") != 0)
			continue;
		cJSON *o = spoke_data(h->reg, s);
		char dev[16], key[ARBOR_B64_LEN(32) + 1], when[40];
		ovl_device_name(hcfg(h)->device_prefix, s->id, dev);
		cJSON_AddStringToObject(o, "device", dev);
		cJSON_AddStringToObject(o, "key", arbor_b64_encode(s->key, 32, key, sizeof key));
		cJSON_AddStringToObject(o, "state", l->up ? "up" : "down");
		if (l->last_seen > 0)
			arbor_json_add_fixed(o, "last_seen_s_ago", now - l->last_seen, 1);
		else
			cJSON_AddNullToObject(o, "last_seen_s_ago");
		struct timespec ts = { .tv_sec = s->joined_at };
		arbor_time_rfc3339(&ts, when, sizeof when);
		cJSON_AddStringToObject(o, "joined_at", when);
		if (s->hub[0])
			cJSON_AddStringToObject(o, "hub", s->hub);
		if (s->has_mac) {
			char mac[18];
			ovl_mac_format(s->mac, mac);
			cJSON_AddStringToObject(o, "mac", mac);
		}
		cJSON_AddItemToArray(arr, o);
	}
	arbor_resp_json(resp, 200, doc);
}
