/* The spoke role (see spoke.h). One request at a time: a join until one is
 * answered, then a heartbeat each interval the hub gave. A refusal is final
 * until the configuration changes or the operator renews (a new token is
 * needed); an unreachable hub is retried with back-off, and the data plane
 * stays as it is meanwhile. */
#include "spoke.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "http_fetch.h"
#include "inet_socket.h"
#include "json.h"
#include "log.h"
#include "statefile.h"
#include "xalloc.h"

#define MAX_RETRY_S 60.0

enum spoke_state { SPOKE_JOINING, SPOKE_JOINED, SPOKE_REFUSED };

struct spoke {
	struct arbor_daemon *d;
	const struct overlayd_config *cfg;
	void (*changed)(void *ctx);
	void *changed_ctx;
	struct arbor_sign_key key;
	bool pinned;
	uint8_t hub_key[ARBOR_SIGN_PUBLIC_BYTES];
	bool assigned;
	struct ovl_answer assignment;
	char *assignment_text; /* the signed answer, as kept on disk */
	uint8_t assignment_nonce[OVL_NONCE_BYTES];
	struct arbor_nl_ip underlay; /* as last sent */
	enum spoke_state state;
	bool hub_reachable;
	char last_error[320];
	double retry_s;
	struct arbor_fetch *fetch;
	struct ovl_request inflight; /* the request fetch carries */
	struct event *timer;
	uint64_t joins, heartbeats, failures, refusals;
	double last_answer; /* wall clock */
	uint8_t direct_mac[6];
	/* peers whose FDB and neighbour entries are on the direct device */
	struct ovl_peer *installed;
	size_t ninstalled;
	int installed_ifindex;
};

static const struct ovl_spoke_config *scfg(const struct spoke *s)
{
	return &s->cfg->spoke;
}

/* ---- the state directory ---- */

static int save_pin(struct spoke *s, char *err, size_t errlen)
{
	char pub[ARBOR_B64_LEN(32) + 1];
	char *doc = xasprintf("{\"public\":\"%s\"}\n", arbor_b64_encode(s->hub_key, 32, pub, sizeof pub));
	int rc = arbor_state_write(arbor_daemon_state_dir(s->d), "hub.pub", doc, strlen(doc), err, errlen);
	free(doc);
	return rc;
}

static void load_pin(struct spoke *s)
{
	char *text = NULL;
	size_t len = 0;
	if (arbor_state_read(arbor_daemon_state_dir(s->d), "hub.pub", &text, &len, 4096) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *pub = cJSON_GetObjectItemCaseSensitive(doc, "public");
	s->pinned = cJSON_IsString(pub) && arbor_b64_decode_exact(pub->valuestring, s->hub_key, sizeof s->hub_key);
	if (!s->pinned)
		log_warn("%s/hub.pub is damaged: the hub is pinned again from the token", arbor_daemon_state_dir(s->d));
	cJSON_Delete(doc);
	free(text);
}

/* assignment.json: {"nonce": "...", "answer": {the hub's signed answer}}. */
static int save_assignment(struct spoke *s, const char *answer, const uint8_t nonce[OVL_NONCE_BYTES], char *err,
			   size_t errlen)
{
	char n[ARBOR_B64_LEN(OVL_NONCE_BYTES) + 1];
	char *doc = xasprintf("{\"nonce\":\"%s\",\"answer\":%s}\n", arbor_b64_encode(nonce, OVL_NONCE_BYTES, n, sizeof n),
			      answer);
	int rc = arbor_state_write(arbor_daemon_state_dir(s->d), "assignment.json", doc, strlen(doc), err, errlen);
	free(doc);
	return rc;
}

static void load_assignment(struct spoke *s)
{
	char *text = NULL;
	size_t len = 0;
	if (!s->pinned || arbor_state_read(arbor_daemon_state_dir(s->d), "assignment.json", &text, &len, 1 << 20) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(doc, "nonce");
	const cJSON *answer = cJSON_GetObjectItemCaseSensitive(doc, "answer");
	char *body = answer ? cJSON_PrintUnformatted(answer) : NULL;
	char err[256] = "not an assignment file";
	if (cJSON_IsString(nonce) && arbor_b64_decode_exact(nonce->valuestring, s->assignment_nonce, OVL_NONCE_BYTES) &&
	    body && ovl_answer_parse(body, strlen(body), s->hub_key, NULL, s->assignment_nonce, &s->assignment, err,
				     sizeof err) == 0) {
		s->assigned = true;
		s->assignment_text = body;
		body = NULL;
	} else {
		log_warn("%s/assignment.json: %s: waiting for the hub's answer", arbor_daemon_state_dir(s->d), err);
	}
	free(body);
	cJSON_Delete(doc);
	free(text);
}

/* ---- requests ---- */

static void send_request(struct spoke *s);

static void arm(struct spoke *s, double seconds)
{
	struct timeval tv = { (time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
	evtimer_add(s->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	send_request(arg);
}

/* The source address the kernel picks towards the hub: the underlay, unless
 * configured. A UDP connect sends nothing. */
static int find_underlay(struct spoke *s, struct arbor_nl_ip *out, char *err, size_t errlen)
{
	if (scfg(s)->has_underlay) {
		*out = scfg(s)->underlay;
		return 0;
	}
	const struct sockaddr *hub = (const struct sockaddr *)&scfg(s)->hub;
	int fd = socket(hub->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage local;
	socklen_t len = sizeof local;
	if (fd < 0 || connect(fd, hub, scfg(s)->hub_len) != 0 || getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
		snprintf(err, errlen, "no route to the hub %s: %s", scfg(s)->hub_text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	memset(out, 0, sizeof *out);
	out->family = local.ss_family;
	if (local.ss_family == AF_INET)
		out->v4 = ((struct sockaddr_in *)&local)->sin_addr;
	else
		out->v6 = ((struct sockaddr_in6 *)&local)->sin6_addr;
	return 0;
}

static void emit(struct spoke *s, const char *type, const char *severity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void emit(struct spoke *s, const char *type, const char *severity, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "hub", scfg(s)->hub_text);
	if (s->assigned) {
		char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
		arbor_json_add_int(data, "id", s->assignment.id);
		arbor_json_add_int(data, "vni", s->assignment.vni);
		cJSON_AddStringToObject(data, "subnet", arbor_ipv4_prefix_format(&s->assignment.subnet, net, sizeof net));
	}
	arbor_event_emit(arbor_daemon_events(s->d), type, severity, scfg(s)->hub_text, data, "%s", msg);
}

static void retry_later(struct spoke *s)
{
	arm(s, s->retry_s);
	s->retry_s = s->retry_s * 2 > MAX_RETRY_S ? MAX_RETRY_S : s->retry_s * 2;
}

static bool same_assignment(const struct ovl_answer *a, const struct ovl_answer *b)
{
	return a->id == b->id && a->vni == b->vni && a->port == b->port && a->subnet.addr == b->subnet.addr &&
	       a->subnet.len == b->subnet.len && a->network.addr == b->network.addr &&
	       a->network.len == b->network.len && a->hub_address.s_addr == b->hub_address.s_addr &&
	       a->hub_underlay.family == b->hub_underlay.family &&
	       memcmp(&a->hub_underlay.v6, &b->hub_underlay.v6, sizeof a->hub_underlay.v6) == 0 &&
	       a->direct == b->direct && a->direct_vni == b->direct_vni;
}

static void on_answer(struct spoke *s, const char *body, size_t len)
{
	struct ovl_answer a;
	char err[256];
	bool first = !s->pinned;
	int rc = ovl_answer_parse(body, len, s->pinned ? s->hub_key : NULL,
				  s->pinned ? NULL : scfg(s)->token.hub_fp, s->inflight.nonce, &a, err, sizeof err);
	if (rc != 0) {
		s->failures++;
		snprintf(s->last_error, sizeof s->last_error, "the hub's answer was refused: %s", err);
		log_warn("%s", s->last_error);
		retry_later(s);
		return;
	}
	if (first) {
		memcpy(s->hub_key, a.hub_key, sizeof s->hub_key);
		s->pinned = true;
		if (save_pin(s, err, sizeof err) != 0) {
			log_err("cannot pin the hub: %s", err);
			s->pinned = false;
			ovl_answer_free(&a);
			retry_later(s);
			return;
		}
		log_info("hub pinned: its key matches the token's fingerprint");
	}
	bool changed = !s->assigned || !same_assignment(&s->assignment, &a) || a.npeers != s->assignment.npeers;
	for (size_t i = 0; !changed && i < a.npeers; i++)
		changed = memcmp(&a.peers[i], &s->assignment.peers[i], sizeof a.peers[i]) != 0;
	if (changed) {
		if (save_assignment(s, body, s->inflight.nonce, err, sizeof err) != 0) {
			log_err("cannot keep the assignment: %s", err);
			ovl_answer_free(&a);
			retry_later(s);
			return;
		}
		bool was = s->assigned;
		ovl_answer_free(&s->assignment);
		s->assignment = a;
		s->assigned = true;
		free(s->assignment_text);
		s->assignment_text = xstrndup(body, len);
		memcpy(s->assignment_nonce, s->inflight.nonce, OVL_NONCE_BYTES);
		char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
		emit(s, "overlay.joined", "info", "%s the overlay: id %u, VNI %u, subnet %s", was ? "assignment changed in" : "joined",
		     a.id, a.vni, arbor_ipv4_prefix_format(&a.subnet, net, sizeof net));
		s->changed(s->changed_ctx);
	} else {
		ovl_answer_free(&a);
	}
	if (!s->hub_reachable && s->state == SPOKE_JOINED)
		emit(s, "hub.reachable", "info", "the hub answers again");
	s->hub_reachable = true;
	s->state = SPOKE_JOINED;
	s->last_error[0] = '\0';
	s->last_answer = arbor_time_wall();
	s->retry_s = scfg(s)->retry;
	arm(s, s->assignment.heartbeat_s);
}

static void on_fetched(void *ctx, const struct arbor_fetch_result *res)
{
	struct spoke *s = ctx;
	s->fetch = NULL;
	if (!res->ok) {
		s->failures++;
		snprintf(s->last_error, sizeof s->last_error, "hub %s: %s", scfg(s)->hub_text, res->error);
		if (s->hub_reachable)
			emit(s, "hub.unreachable", "warning", "%s", s->last_error);
		s->hub_reachable = false;
		retry_later(s);
		return;
	}
	if (res->status == 200) {
		on_answer(s, res->body, res->body_len);
		return;
	}
	/* The hub's error document: {"error":{"code","message"}}. */
	cJSON *doc = cJSON_ParseWithLength(res->body, res->body_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const char *message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	snprintf(s->last_error, sizeof s->last_error, "the hub refused (%d): %s", res->status,
		 message ? message : "no reason given");
	cJSON_Delete(doc);
	s->hub_reachable = true;
	if (res->status == 401 || res->status == 409) {
		s->refusals++;
		/* Our clock or a lost race can explain a 401 once; retry slowly, and
		 * report it as a refusal the operator must look at. */
		if (s->state != SPOKE_REFUSED)
			emit(s, "overlay.refused", "error", "%s", s->last_error);
		s->state = SPOKE_REFUSED;
		log_err("%s", s->last_error);
		s->retry_s = MAX_RETRY_S;
	} else {
		s->failures++;
		log_warn("%s", s->last_error);
	}
	retry_later(s);
}

static void send_request(struct spoke *s)
{
	if (s->fetch)
		return;
	char err[256];
	struct ovl_request *r = &s->inflight;
	memset(r, 0, sizeof *r);
	if (find_underlay(s, &r->underlay, err, sizeof err) != 0) {
		snprintf(s->last_error, sizeof s->last_error, "%s", err);
		retry_later(s);
		return;
	}
	bool heartbeat = s->state == SPOKE_JOINED && s->assigned &&
			 memcmp(&r->underlay, &s->underlay, sizeof r->underlay) == 0;
	s->underlay = r->underlay;
	r->op = heartbeat ? OVL_OP_HEARTBEAT : OVL_OP_JOIN;
	if (s->pinned)
		arbor_sign_fingerprint(s->hub_key, r->hub_fp);
	else if (scfg(s)->has_token)
		memcpy(r->hub_fp, scfg(s)->token.hub_fp, sizeof r->hub_fp);
	else {
		snprintf(s->last_error, sizeof s->last_error, "not joined yet and no token: set overlayd.spoke.token");
		s->state = SPOKE_REFUSED;
		return;
	}
	memcpy(r->key, s->key.public_key, sizeof r->key);
	r->ts_ms = (int64_t)(arbor_time_wall() * 1000);
	randombytes_buf(r->nonce, sizeof r->nonce);
	snprintf(r->hostname, sizeof r->hostname, "%s", arbor_daemon_config(s->d)->machine.name);
	r->has_mac = true; /* the direct device's, used if the hub forwards directly */
	memcpy(r->mac, s->direct_mac, 6);
	if (r->op == OVL_OP_JOIN && scfg(s)->has_token) {
		uint8_t pk[32];
		r->has_token = true;
		ovl_token_id(scfg(s)->token.secret, r->token_id);
		ovl_token_proof_key(scfg(s)->token.secret, pk);
		ovl_token_proof(pk, s->key.public_key, r->token_proof);
		sodium_memzero(pk, sizeof pk);
	}
	struct arbor_buf body = { 0 };
	ovl_request_build(r, &s->key, &body);
	struct arbor_fetch_request fr = {
		.addr = scfg(s)->hub, .addr_len = scfg(s)->hub_len, .method = "POST",
		.path = heartbeat ? "/v1/heartbeat" : "/v1/join", .body = body.data, .body_len = body.len,
		.content_type = "application/json", .timeout_s = scfg(s)->timeout, .max_body = 1 << 20,
	};
	heartbeat ? s->heartbeats++ : s->joins++;
	s->fetch = arbor_fetch_start(arbor_daemon_base(s->d), &fr, on_fetched, s);
	arbor_buf_free(&body);
}

/* ---- life ---- */

struct spoke *spoke_start(struct arbor_daemon *d, const struct overlayd_config *cfg, void (*changed)(void *ctx),
			  void *ctx, char *err, size_t errlen)
{
	struct spoke *s = xcalloc(1, sizeof *s);
	s->d = d;
	s->cfg = cfg;
	s->changed = changed;
	s->changed_ctx = ctx;
	s->retry_s = cfg->spoke.retry;
	bool created;
	if (arbor_sign_key_load_or_create(arbor_daemon_state_dir(d), "spoke.key", &s->key, &created, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	ovl_direct_mac(s->key.public_key, s->direct_mac);
	load_pin(s);
	/* A token for another hub than the pinned one: the operator moved us. */
	if (s->pinned && cfg->spoke.has_token) {
		uint8_t fp[ARBOR_FINGERPRINT_BYTES];
		arbor_sign_fingerprint(s->hub_key, fp);
		if (memcmp(fp, cfg->spoke.token.hub_fp, sizeof fp) != 0) {
			log_warn("the token is for another hub than the pinned one: pinning the token's hub");
			s->pinned = false;
		}
	}
	load_assignment(s);
	if (s->assigned) {
		char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
		log_info("assignment from the state directory: id %u, VNI %u, subnet %s", s->assignment.id,
			 s->assignment.vni, arbor_ipv4_prefix_format(&s->assignment.subnet, net, sizeof net));
	}
	s->timer = evtimer_new(arbor_daemon_base(d), on_timer, s);
	event_active(s->timer, EV_TIMEOUT, 0); /* join on the first loop turn */
	return s;
}

int spoke_reload(struct spoke *s, const struct overlayd_config *next, char *err, size_t errlen)
{
	const struct ovl_spoke_config *a = scfg(s), *b = &next->spoke;
	bool hub_moved = a->hub_len != b->hub_len || memcmp(&a->hub, &b->hub, a->hub_len) != 0;
	bool token_changed = a->has_token != b->has_token ||
			     (b->has_token && memcmp(&a->token, &b->token, sizeof a->token) != 0);
	s->cfg = next;
	if (hub_moved || token_changed || s->state == SPOKE_REFUSED) {
		s->state = SPOKE_JOINING;
		s->retry_s = b->retry;
		spoke_rejoin(s);
	}
	s->changed(s->changed_ctx);
	return 0;
}

void spoke_rejoin(struct spoke *s)
{
	if (s->state == SPOKE_JOINED)
		s->state = SPOKE_JOINING;
	evtimer_del(s->timer);
	event_active(s->timer, EV_TIMEOUT, 0);
}

void spoke_stop(struct spoke *s)
{
	if (s == NULL)
		return;
	arbor_fetch_cancel(s->fetch);
	if (s->timer)
		event_free(s->timer);
	ovl_answer_free(&s->assignment);
	free(s->assignment_text);
	free(s->installed);
	sodium_memzero(&s->key, sizeof s->key);
	free(s);
}

void spoke_desired(struct spoke *s, struct ovl_desired_set *set, const struct ovl_kernel *k)
{
	if (!s->assigned)
		return;
	struct arbor_nl_ip underlay = s->underlay;
	if (underlay.family == 0) {
		char err[256];
		if (find_underlay(s, &underlay, err, sizeof err) != 0)
			return;
		s->underlay = underlay;
	}
	ovl_desired_spoke(set, scfg(s), &s->assignment, &underlay, s->direct_mac, k);
}

static const struct ovl_peer *find_peer(const struct ovl_peer *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

static bool same_peer(const struct ovl_peer *a, const struct ovl_peer *b)
{
	return a->subnet.addr == b->subnet.addr && a->subnet.len == b->subnet.len && memcmp(a->mac, b->mac, 6) == 0 &&
	       a->underlay.family == b->underlay.family && memcmp(&a->underlay.v6, &b->underlay.v6, 16) == 0;
}

static void peer_entries(struct arbor_nl *nl, int ifindex, const struct ovl_peer *p, bool add, size_t *writes)
{
	struct arbor_nl_ip gw = { .family = AF_INET };
	gw.v4 = ovl_direct_address(&p->subnet);
	int rc = add ? arbor_nl_fdb_replace(nl, ifindex, p->mac, &p->underlay)
		     : arbor_nl_fdb_delete(nl, ifindex, p->mac, &p->underlay);
	if (rc < 0 && rc != -ENOENT)
		log_warn("direct peer %u: %s", p->id, arbor_nl_error(nl));
	rc = add ? arbor_nl_neigh_replace(nl, ifindex, &gw, p->mac) : arbor_nl_neigh_delete(nl, ifindex, &gw);
	if (rc < 0 && rc != -ENOENT)
		log_warn("direct peer %u: %s", p->id, arbor_nl_error(nl));
	*writes += 2;
}

size_t spoke_sync_peers(struct spoke *s, struct arbor_nl *nl)
{
	size_t writes = 0;
	bool direct = s->assigned && s->assignment.direct;
	int ifindex = direct ? arbor_nl_link_index(nl, scfg(s)->direct_device) : 0;
	if (ifindex != s->installed_ifindex) {
		/* A new device (or none): its table is empty. */
		s->ninstalled = 0;
		s->installed_ifindex = ifindex > 0 ? ifindex : 0;
	}
	if (ifindex <= 0)
		return 0;
	const struct ovl_answer *a = &s->assignment;
	for (size_t i = 0; i < s->ninstalled; i++) {
		const struct ovl_peer *now = find_peer(a->peers, a->npeers, s->installed[i].id);
		if (now == NULL || !same_peer(now, &s->installed[i]))
			peer_entries(nl, ifindex, &s->installed[i], false, &writes);
	}
	for (size_t i = 0; i < a->npeers; i++) {
		const struct ovl_peer *was = find_peer(s->installed, s->ninstalled, a->peers[i].id);
		if (a->peers[i].underlay.family == s->underlay.family && (was == NULL || !same_peer(was, &a->peers[i])))
			peer_entries(nl, ifindex, &a->peers[i], true, &writes);
	}
	free(s->installed);
	s->installed = a->npeers ? xmalloc(a->npeers * sizeof *s->installed) : NULL;
	if (a->npeers)
		memcpy(s->installed, a->peers, a->npeers * sizeof *s->installed);
	s->ninstalled = a->npeers;
	return writes;
}

static const char *state_name(enum spoke_state st)
{
	return st == SPOKE_JOINED ? "joined" : st == SPOKE_REFUSED ? "refused" : "joining";
}

void spoke_status(struct spoke *s, cJSON *out)
{
	cJSON *o = cJSON_AddObjectToObject(out, "spoke");
	char text[INET6_ADDRSTRLEN], net[ARBOR_IPV4_PREFIX_TEXT_MAX], pub[ARBOR_B64_LEN(32) + 1];
	cJSON_AddStringToObject(o, "hub", scfg(s)->hub_text);
	cJSON_AddStringToObject(o, "state", state_name(s->state));
	cJSON_AddBoolToObject(o, "hub_reachable", s->hub_reachable);
	cJSON_AddStringToObject(o, "public_key", arbor_b64_encode(s->key.public_key, 32, pub, sizeof pub));
	if (s->pinned) {
		uint8_t fp[32];
		char b[ARBOR_B64_LEN(32) + 1], sha[ARBOR_B64_LEN(32) + 8];
		arbor_sign_fingerprint(s->hub_key, fp);
		snprintf(sha, sizeof sha, "SHA256:%s", arbor_b64_encode(fp, sizeof fp, b, sizeof b));
		cJSON_AddStringToObject(o, "hub_fingerprint", sha);
	}
	if (s->underlay.family)
		cJSON_AddStringToObject(o, "underlay", ovl_ip_format(&s->underlay, text, sizeof text));
	cJSON_AddStringToObject(o, "device", scfg(s)->device);
	cJSON_AddStringToObject(o, "bridge", scfg(s)->bridge);
	if (s->assigned) {
		const struct ovl_answer *a = &s->assignment;
		cJSON *x = cJSON_AddObjectToObject(o, "assignment");
		arbor_json_add_int(x, "id", a->id);
		arbor_json_add_int(x, "vni", a->vni);
		arbor_json_add_int(x, "port", a->port);
		cJSON_AddStringToObject(x, "subnet", arbor_ipv4_prefix_format(&a->subnet, net, sizeof net));
		struct in_addr gw = { htonl(a->subnet.addr + 1) };
		inet_ntop(AF_INET, &gw, text, sizeof text);
		cJSON_AddStringToObject(x, "gateway", text);
		/* What a DHCP server on the bridge hands out: the rest of the subnet. */
		struct in_addr first = { htonl(a->subnet.addr + 2) }, last = { htonl(a->subnet.addr + (1u << (32 - a->subnet.len)) - 2) };
		char lo[INET_ADDRSTRLEN], hi[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &first, lo, sizeof lo);
		inet_ntop(AF_INET, &last, hi, sizeof hi);
		cJSON *pool = cJSON_AddObjectToObject(x, "pool");
		cJSON_AddStringToObject(pool, "start", lo);
		cJSON_AddStringToObject(pool, "end", hi);
		cJSON_AddStringToObject(x, "network", arbor_ipv4_prefix_format(&a->network, net, sizeof net));
		inet_ntop(AF_INET, &a->hub_address, text, sizeof text);
		cJSON_AddStringToObject(x, "hub_address", text);
		cJSON_AddStringToObject(x, "hub_underlay", ovl_ip_format(&a->hub_underlay, text, sizeof text));
		arbor_json_add_fixed(x, "heartbeat", a->heartbeat_s, 3);
		cJSON_AddBoolToObject(x, "direct", a->direct);
	}
	if (s->last_error[0])
		cJSON_AddStringToObject(o, "last_error", s->last_error);
}

void spoke_metrics(struct spoke *s, struct arbor_buf *out)
{
	arbor_buf_printf(out,
			 "# HELP arbor_overlayd_spoke_requests_total Requests the spoke sent to its hub, by kind.\n"
			 "# TYPE arbor_overlayd_spoke_requests_total counter\n"
			 "arbor_overlayd_spoke_requests_total{kind=\"join\"} %llu\n"
			 "arbor_overlayd_spoke_requests_total{kind=\"heartbeat\"} %llu\n"
			 "# HELP arbor_overlayd_spoke_failures_total Requests without a usable answer, and refusals.\n"
			 "# TYPE arbor_overlayd_spoke_failures_total counter\n"
			 "arbor_overlayd_spoke_failures_total{kind=\"failed\"} %llu\n"
			 "arbor_overlayd_spoke_failures_total{kind=\"refused\"} %llu\n"
			 "# HELP arbor_overlayd_spoke_joined Whether the spoke holds an assignment from its hub.\n"
			 "# TYPE arbor_overlayd_spoke_joined gauge\narbor_overlayd_spoke_joined %d\n",
			 (unsigned long long)s->joins, (unsigned long long)s->heartbeats, (unsigned long long)s->failures,
			 (unsigned long long)s->refusals, s->assigned ? 1 : 0);
}

enum arbor_health spoke_health(struct spoke *s, cJSON *reasons)
{
	char reason[400];
	if (s->state == SPOKE_REFUSED) {
		snprintf(reason, sizeof reason, "spoke: %s", s->last_error);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		return ARBOR_HEALTH_FAILED;
	}
	if (!s->assigned || !s->hub_reachable) {
		snprintf(reason, sizeof reason, "spoke: %s", s->last_error[0] ? s->last_error
						     : "not joined yet");
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		return s->assigned ? ARBOR_HEALTH_DEGRADED : ARBOR_HEALTH_FAILED;
	}
	return ARBOR_HEALTH_OK;
}
