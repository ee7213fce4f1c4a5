/* The registry in etcd (see store_etcd.h). One change in flight at a time
 * (the queue keeps order); the mirror is replaced whole by a range read, and
 * kept current by the watch's events. */
#include "store_etcd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "curl_loop.h"
#include "etcd_wire.h"
#include "json.h"
#include "log.h"
#include "statefile.h"
#include "xalloc.h"

#define MAX_ATTEMPTS 32
#define RETRY_MIN_S 0.5
#define RETRY_MAX_S 5.0
#define MAX_ANSWER (64 << 20)
#define CACHE_FILE "registry-cache.json"

enum job_kind { JOB_JOIN, JOB_TOKENS, JOB_FORGET };

struct job {
	enum job_kind kind;
	struct ovl_request req;
	struct ovl_token_entry *tokens;
	size_t ntokens;
	uint32_t forget_id;
	struct ovl_ticket *ticket;
	struct ovl_join_decision decision;
	int attempts;
	struct job *next;
};

enum state { DOWN, SYNCING, UP };

struct ovl_etcd_store {
	struct event_base *base;
	struct arbor_curl_loop *curl;
	const struct ovl_registry_config *cfg;
	char *prefix; /* with its trailing '/' */
	struct ovl_registry *reg;
	char hub_name[OVL_HOSTNAME_MAX + 1];
	struct arbor_nl_ip underlay;
	char *state_dir;
	void (*changed)(void *);
	void *ctx;
	enum state state;
	int64_t revision;     /* the newest etcd revision seen (status, cache) */
	int64_t snapshot_rev; /* the last range's: the watch starts after it */
	int64_t *mod_rev;     /* by spoke id: the last put or delete of spokes/<id> applied */
	size_t mod_cap;
	struct ovl_hub_peer *hubs;
	size_t nhubs;
	size_t endpoint;
	char last_error[256];
	struct arbor_curl_req *range_req, *watch_req, *op_req, *hub_req;
	bool refreshing;    /* the range in flight is a refresh after a lost race */
	bool resync_wanted; /* we ended the watch to read the registry again */
	struct arbor_buf stream;
	struct event *retry, *cache;
	double retry_s;
	struct job *head, *tail;
	uint64_t txns, lost_races, watch_events, outages, syncs;
};

static void sync_now(struct ovl_etcd_store *s);
static void run_next(struct ovl_etcd_store *s);

static const char *endpoint(const struct ovl_etcd_store *s)
{
	return s->cfg->endpoints[s->endpoint % s->cfg->nendpoints];
}

static char *url(const struct ovl_etcd_store *s, const char *path)
{
	return xasprintf("%s%s", endpoint(s), path);
}

static char *key_of(const struct ovl_etcd_store *s, const char *kind, const char *name)
{
	return xasprintf("%s%s/%s", s->prefix, kind, name);
}

static int64_t *mod_slot(struct ovl_etcd_store *s, uint32_t id)
{
	s->mod_rev = xgrow_zeroed(s->mod_rev, &s->mod_cap, id, sizeof *s->mod_rev);
	return &s->mod_rev[id];
}

/* ---- the copy in the state directory ---- */

static void on_cache(evutil_socket_t fd, short what, void *arg)
{
	struct ovl_etcd_store *s = arg;
	struct arbor_buf text = { 0 };
	arbor_buf_printf(&text, "{\"revision\":%lld,\"hubs\":{", (long long)s->revision);
	for (size_t i = 0; i < s->nhubs; i++) {
		char ip[64];
		arbor_buf_printf(&text, "%s\"%s\":\"%s\"", i ? "," : "", s->hubs[i].name,
				 ovl_ip_format(&s->hubs[i].underlay, ip, sizeof ip));
	}
	arbor_buf_puts(&text, "},\"registry\":");
	ovl_registry_write_snapshot(s->reg, &text);
	arbor_buf_puts(&text, "}\n");
	char err[256];
	if (arbor_state_write(s->state_dir, CACHE_FILE, text.data, text.len, err, sizeof err) != 0)
		log_warn("registry copy: %s", err);
	arbor_buf_free(&text);
}

/* The copy is written 100 ms after the first change of a burst (not after
 * the last: a steady stream of changes must not keep it from being written). */
static void mirror_changed(struct ovl_etcd_store *s)
{
	struct timeval tv = { 0, 100000 };
	if (!evtimer_pending(s->cache, NULL))
		evtimer_add(s->cache, &tv);
	s->changed(s->ctx);
}

static void load_cache(struct ovl_etcd_store *s)
{
	char *text = NULL;
	size_t len = 0;
	if (arbor_state_read(s->state_dir, CACHE_FILE, &text, &len, 256 << 20) != 0)
		return;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	char err[256];
	if (ovl_registry_load_snapshot(s->reg, cJSON_GetObjectItemCaseSensitive(doc, "registry"), err, sizeof err) != 0)
		log_warn("%s/%s: %s: waiting for etcd", s->state_dir, CACHE_FILE, err);
	else
		log_info("%zu spokes from %s/%s until etcd answers", ovl_registry_count(s->reg), s->state_dir, CACHE_FILE);
	const cJSON *hubs = cJSON_GetObjectItemCaseSensitive(doc, "hubs");
	for (const cJSON *h = cJSON_IsObject(hubs) ? hubs->child : NULL; h; h = h->next) {
		struct arbor_nl_ip ip;
		if (!cJSON_IsString(h) || !ovl_ip_parse(h->valuestring, &ip) || strlen(h->string) > OVL_HOSTNAME_MAX)
			continue;
		s->hubs = xreallocarray(s->hubs, s->nhubs + 1, sizeof *s->hubs);
		snprintf(s->hubs[s->nhubs].name, sizeof s->hubs[s->nhubs].name, "%s", h->string);
		s->hubs[s->nhubs++].underlay = ip;
	}
	cJSON_Delete(doc);
	free(text);
}

/* ---- jobs ---- */

static void finish(struct ovl_etcd_store *s, struct job *j, bool ok, int status, const char *code, const char *error)
{
	if (s->head == j) {
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
	}
	struct ovl_ticket *t = j->ticket;
	t->decision = j->decision;
	t->status = status;
	t->code = code;
	ovl_ticket_finish(t, ok, error);
	ovl_ticket_put(t);
	free(j->tokens);
	free(j);
}

static void enqueue(struct ovl_etcd_store *s, struct job *j)
{
	j->ticket->refs++;
	if (s->state != UP) {
		char why[320];
		snprintf(why, sizeof why, "the registry (etcd at %s) is unreachable: %s; new joins and changes wait until it "
			 "returns", endpoint(s), s->last_error[0] ? s->last_error : "not synced yet");
		finish(s, j, false, 503, "registry_unavailable", why);
		return;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	run_next(s);
}

static void fail_all(struct ovl_etcd_store *s, const char *why)
{
	while (s->head)
		finish(s, s->head, false, 503, "registry_unavailable", why);
}

/* ---- outages ---- */

static void go_down(struct ovl_etcd_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void go_down(struct ovl_etcd_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof s->last_error, fmt, ap);
	va_end(ap);
	if (s->state == UP) {
		s->outages++;
		log_warn("etcd: %s: known spokes are served from the mirror, new joins refused", s->last_error);
	}
	/* From now on the copy is all a restart has: changes not written yet are
	 * written at once rather than up to 100 ms later (a kill -9 in between
	 * lost the last spokes the watch brought). */
	if (evtimer_pending(s->cache, NULL)) {
		evtimer_del(s->cache);
		on_cache(-1, 0, s);
	}
	s->state = DOWN;
	arbor_curl_cancel(s->watch_req);
	arbor_curl_cancel(s->op_req);
	arbor_curl_cancel(s->range_req);
	arbor_curl_cancel(s->hub_req);
	s->watch_req = s->op_req = s->range_req = s->hub_req = NULL;
	s->refreshing = false;
	char why[320];
	snprintf(why, sizeof why, "the registry (etcd at %s) is unreachable: %s", endpoint(s), s->last_error);
	fail_all(s, why);
	/* The next try goes to the next endpoint. */
	s->endpoint++;
	struct timeval tv = { (time_t)s->retry_s, (suseconds_t)((s->retry_s - (double)(time_t)s->retry_s) * 1e6) };
	evtimer_add(s->retry, &tv);
	s->retry_s = s->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : s->retry_s * 2;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	sync_now(arg);
}

/* ---- the mirror ---- */

struct hub_info {
	struct ovl_hub_peer *v;
	size_t n;
};

/* One key of ours into fresh (a range) or the mirror (an event). */
static bool apply_kv(struct ovl_etcd_store *s, struct ovl_registry *into, struct hub_info *hubs,
		     const struct ovl_etcd_kv *kv)
{
	size_t plen = strlen(s->prefix);
	if (strncmp(kv->key, s->prefix, plen) != 0)
		return false;
	const char *rest = kv->key + plen;
	char err[256] = "";
	bool changed = false;
	if (strncmp(rest, "spokes/", 7) == 0) {
		char *end = NULL;
		unsigned long id = strtoul(rest + 7, &end, 10);
		if (end == rest + 7 || *end != '\0' || id == 0 || id > OVL_ID_MAX)
			return false;
		/* An event older than what the mirror holds for this id (our own
		 * transaction, applied when etcd answered, can overtake the watch). */
		if (kv->mod_revision && kv->mod_revision < *mod_slot(s, (uint32_t)id))
			return false;
		if (kv->deleted) {
			changed = ovl_registry_forget(into, (uint32_t)id) == 0;
		} else {
			cJSON *doc = cJSON_ParseWithLength(kv->value, kv->value_len);
			struct ovl_spoke sp;
			if (ovl_spoke_read(doc, &sp, err, sizeof err) == 0 && sp.id == id &&
			    ovl_registry_put_spoke(into, &sp, err, sizeof err) == 0)
				changed = true;
			else
				log_warn("etcd: %s: not taken: %s", kv->key, err[0] ? err : "its id differs from its key");
			cJSON_Delete(doc);
		}
		*mod_slot(s, (uint32_t)id) = kv->mod_revision;
	} else if (strncmp(rest, "tokens/", 7) == 0) {
		if (kv->deleted) {
			changed = ovl_registry_use_token(into, rest + 7) == 0;
		} else {
			cJSON *doc = cJSON_ParseWithLength(kv->value, kv->value_len);
			struct ovl_token_entry t;
			if (ovl_token_read(doc, &t, err, sizeof err) == 0 && ovl_registry_put_token(into, &t, err, sizeof err) == 0)
				changed = true;
			else
				log_warn("etcd: %s: not taken: %s", kv->key, err);
			cJSON_Delete(doc);
		}
	} else if (strncmp(rest, "hubs/", 5) == 0 && hubs) {
		const char *name = rest + 5;
		size_t i = 0;
		while (i < hubs->n && strcmp(hubs->v[i].name, name) != 0)
			i++;
		if (kv->deleted) {
			if (i < hubs->n)
				hubs->v[i] = hubs->v[--hubs->n];
			return true;
		}
		cJSON *doc = cJSON_ParseWithLength(kv->value, kv->value_len);
		const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "underlay"));
		struct arbor_nl_ip ip;
		if (u && ovl_ip_parse(u, &ip) && strlen(name) <= OVL_HOSTNAME_MAX) {
			if (i == hubs->n) {
				hubs->v = xreallocarray(hubs->v, hubs->n + 1, sizeof *hubs->v);
				hubs->n++;
			}
			snprintf(hubs->v[i].name, sizeof hubs->v[i].name, "%s", name);
			hubs->v[i].underlay = ip;
			changed = true;
		}
		cJSON_Delete(doc);
	}
	return changed;
}

static void start_watch(struct ovl_etcd_store *s);

static void on_registered(void *ctx, const struct arbor_curl_result *res)
{
	struct ovl_etcd_store *s = ctx;
	s->hub_req = NULL;
	if (!res->ok || res->status != 200)
		log_warn("etcd: registering hub %s: %s", s->hub_name, res->ok ? res->body : res->error);
}

/* Puts hubs/<name> unless the mirror has it as it should be; the watch brings
 * it back into the mirror, and a failure is the next sync's to retry. */
static void register_hub(struct ovl_etcd_store *s)
{
	for (size_t i = 0; i < s->nhubs; i++)
		if (strcmp(s->hubs[i].name, s->hub_name) == 0 && s->hubs[i].underlay.family == s->underlay.family &&
		    memcmp(&s->hubs[i].underlay.v6, &s->underlay.v6, 16) == 0)
			return;
	if (s->hub_req)
		return;
	char ip[64];
	char *value = xasprintf("{\"underlay\":\"%s\"}", ovl_ip_format(&s->underlay, ip, sizeof ip));
	char *key = key_of(s, "hubs", s->hub_name);
	struct ovl_etcd_op op = { OVL_ETCD_PUT, key, value, 0 };
	struct arbor_buf body = { 0 };
	ovl_etcd_txn_request(&body, &op, 1);
	char *u = url(s, "/v3/kv/txn");
	s->hub_req = arbor_curl_post(s->curl, u, body.data, body.len, s->cfg->timeout, s->cfg->timeout, MAX_ANSWER, NULL,
				     on_registered, s);
	free(u);
	arbor_buf_free(&body);
	free(key);
	free(value);
}

static void on_range(void *ctx, const struct arbor_curl_result *res)
{
	struct ovl_etcd_store *s = ctx;
	s->range_req = NULL;
	if (!res->ok || res->status != 200) {
		go_down(s, "range: %s", res->ok ? res->body : res->error);
		return;
	}
	struct ovl_etcd_answer a;
	char err[256];
	if (ovl_etcd_parse_range(res->body, res->body_len, &a, err, sizeof err) != 0) {
		go_down(s, "range: %s", err);
		return;
	}
	if (a.error) {
		go_down(s, "range: %s", a.reason);
		ovl_etcd_answer_free(&a);
		return;
	}
	struct ovl_registry *fresh = ovl_registry_new(ovl_registry_params(s->reg));
	struct hub_info hubs = { 0 };
	if (s->mod_cap)
		memset(s->mod_rev, 0, s->mod_cap * sizeof *s->mod_rev);
	for (size_t i = 0; i < a.nkvs; i++)
		apply_kv(s, fresh, &hubs, &a.kvs[i]);
	ovl_registry_swap(s->reg, fresh);
	ovl_registry_free(fresh);
	free(s->hubs);
	s->hubs = hubs.v;
	s->nhubs = hubs.n;
	s->revision = s->snapshot_rev = a.revision;
	ovl_etcd_answer_free(&a);
	s->syncs++;
	mirror_changed(s);
	if (s->refreshing) {
		s->refreshing = false;
		/* The running watch may already have delivered events newer than this
		 * range, which the swap just dropped: a new watch from right after it
		 * replays them. */
		if (s->watch_req) {
			arbor_curl_cancel(s->watch_req);
			s->watch_req = NULL;
			start_watch(s);
		}
		run_next(s); /* the job that lost its race decides again */
		return;
	}
	s->state = UP;
	s->retry_s = RETRY_MIN_S;
	s->last_error[0] = '\0';
	log_info("etcd %s: %zu spokes at revision %lld", endpoint(s), ovl_registry_count(s->reg), (long long)s->revision);
	start_watch(s);
	run_next(s);
}

static void post_range(struct ovl_etcd_store *s)
{
	struct arbor_buf body = { 0 };
	ovl_etcd_range_request(&body, s->prefix);
	char *u = url(s, "/v3/kv/range");
	s->range_req = arbor_curl_post(s->curl, u, body.data, body.len, s->cfg->timeout * 4, s->cfg->timeout, MAX_ANSWER,
				       NULL, on_range, s);
	free(u);
	arbor_buf_free(&body);
}

static void sync_now(struct ovl_etcd_store *s)
{
	if (s->range_req)
		return;
	s->state = s->state == UP ? UP : SYNCING;
	s->refreshing = false;
	post_range(s);
}

/* ---- the watch ---- */

/* The end of the first complete top-level JSON object in buf, or 0. */
static size_t object_end(const char *buf, size_t len, size_t *start)
{
	int depth = 0;
	bool in_string = false, escaped = false;
	*start = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{') {
			if (depth++ == 0)
				*start = i;
		} else if (c == '}' && depth > 0 && --depth == 0)
			return i + 1;
	}
	return 0;
}

static bool handle_watch_message(struct ovl_etcd_store *s, const char *text, size_t len)
{
	struct ovl_etcd_answer a;
	char err[256];
	if (ovl_etcd_parse_watch(text, len, &a, err, sizeof err) != 0) {
		log_warn("etcd watch: %s: reading the registry again", err);
		return false;
	}
	if (a.error || a.canceled) {
		log_warn("etcd watch %s: %s: reading the registry again", a.error ? "error" : "canceled",
			 a.reason[0] ? a.reason : a.compact_revision ? "compacted" : "no reason");
		ovl_etcd_answer_free(&a);
		return false;
	}
	bool changed = false;
	struct hub_info hubs = { s->hubs, s->nhubs };
	for (size_t i = 0; i < a.nkvs; i++) {
		/* What the last range already held. Not compared with the
		 * revision in the answers' headers: the watch's first answer carries
		 * etcd's current revision, ahead of the events it then replays. */
		if (a.kvs[i].mod_revision && a.kvs[i].mod_revision <= s->snapshot_rev)
			continue;
		s->watch_events++;
		changed |= apply_kv(s, s->reg, &hubs, &a.kvs[i]);
	}
	s->hubs = hubs.v;
	s->nhubs = hubs.n;
	if (a.revision > s->revision)
		s->revision = a.revision;
	ovl_etcd_answer_free(&a);
	if (changed)
		mirror_changed(s);
	return true;
}

static bool on_watch_data(void *ctx, const char *data, size_t len)
{
	struct ovl_etcd_store *s = ctx;
	arbor_buf_append(&s->stream, data, len);
	size_t start, end;
	while ((end = object_end(s->stream.data, s->stream.len, &start)) > 0) {
		bool ok = handle_watch_message(s, s->stream.data + start, end - start);
		memmove(s->stream.data, s->stream.data + end, s->stream.len - end);
		s->stream.len -= end;
		if (!ok) {
			s->stream.len = 0;
			s->resync_wanted = true;
			return false; /* ends the stream: its done resyncs */
		}
	}
	if (s->stream.len > (16u << 20)) {
		log_warn("etcd watch: a message over 16 MiB: reading the registry again");
		s->stream.len = 0;
		s->resync_wanted = true;
		return false;
	}
	return true;
}

static void on_watch_done(void *ctx, const struct arbor_curl_result *res)
{
	struct ovl_etcd_store *s = ctx;
	s->watch_req = NULL;
	s->stream.len = 0;
	if (res->ok || s->resync_wanted) {
		s->resync_wanted = false;
		/* The stream ended (or we ended it to resync): read the registry again. */
		s->state = SYNCING;
		sync_now(s);
		return;
	}
	go_down(s, "watch: %s", res->error);
}

static void start_watch(struct ovl_etcd_store *s)
{
	struct arbor_buf body = { 0 };
	ovl_etcd_watch_request(&body, s->prefix, s->snapshot_rev + 1);
	char *u = url(s, "/v3/watch");
	s->stream.len = 0;
	s->watch_req = arbor_curl_post(s->curl, u, body.data, body.len, 0, s->cfg->timeout, 0, on_watch_data,
				       on_watch_done, s);
	free(u);
	arbor_buf_free(&body);
	register_hub(s);
}

/* ---- changes ---- */

static void on_txn(void *ctx, const struct arbor_curl_result *res)
{
	struct ovl_etcd_store *s = ctx;
	s->op_req = NULL;
	struct job *j = s->head;
	if (!res->ok || res->status != 200) {
		go_down(s, "txn: %s", res->ok ? res->body : res->error);
		return;
	}
	struct ovl_etcd_answer a;
	char err[256];
	if (ovl_etcd_parse_txn(res->body, res->body_len, &a, err, sizeof err) != 0 || a.error) {
		go_down(s, "txn: %s", a.error ? a.reason : err);
		return;
	}
	s->txns++;
	if (!a.succeeded) {
		/* Another hub took one of the keys first: read again, decide again. */
		s->lost_races++;
		if (++j->attempts >= MAX_ATTEMPTS) {
			finish(s, j, false, 503, "registry_busy", "could not claim an id: other hubs kept taking the candidates");
			run_next(s);
			return;
		}
		s->refreshing = true;
		post_range(s);
		return;
	}
	if (a.revision > s->revision)
		s->revision = a.revision;
	bool ok = true;
	switch (j->kind) {
	case JOB_JOIN: {
		struct arbor_buf rec = { 0 };
		ovl_registry_record_join(&rec, &j->decision);
		cJSON *doc = cJSON_ParseWithLength(rec.data, rec.len);
		ok = ovl_registry_apply(s->reg, doc, err, sizeof err) == 0;
		cJSON_Delete(doc);
		arbor_buf_free(&rec);
		*mod_slot(s, j->decision.entry.id) = a.revision;
		break;
	}
	case JOB_TOKENS:
		for (size_t i = 0; i < j->ntokens; i++)
			ovl_registry_put_token(s->reg, &j->tokens[i], NULL, 0);
		break;
	case JOB_FORGET:
		ovl_registry_forget(s->reg, j->forget_id);
		*mod_slot(s, j->forget_id) = a.revision;
		break;
	}
	if (!ok)
		log_warn("etcd: claimed, but the mirror refused it (%s): reading the registry again", err);
	mirror_changed(s);
	finish(s, j, true, 0, NULL, NULL);
	if (!ok)
		sync_now(s);
	run_next(s);
}

static void post_txn(struct ovl_etcd_store *s, const struct ovl_etcd_op *ops, size_t n)
{
	struct arbor_buf body = { 0 };
	ovl_etcd_txn_request(&body, ops, n);
	char *u = url(s, "/v3/kv/txn");
	s->op_req = arbor_curl_post(s->curl, u, body.data, body.len, s->cfg->timeout, s->cfg->timeout, MAX_ANSWER, NULL,
				    on_txn, s);
	free(u);
	arbor_buf_free(&body);
}

/* The keys of an entry that make it unique. */
struct claim_keys {
	char *spoke, *key, *hostname, *subnet;
};

static void claim_keys(const struct ovl_etcd_store *s, const struct ovl_spoke *e, struct claim_keys *k)
{
	char id[16], pub[ARBOR_B64_LEN(32) + 1], net[ARBOR_IPV4_PREFIX_TEXT_MAX];
	snprintf(id, sizeof id, "%u", e->id);
	arbor_ipv4_prefix_format(&e->subnet, net, sizeof net);
	*strchr(net, '/') = '-';
	k->spoke = key_of(s, "spokes", id);
	k->key = key_of(s, "keys", arbor_b64_encode(e->key, 32, pub, sizeof pub));
	k->hostname = key_of(s, "hostnames", e->hostname);
	k->subnet = key_of(s, "subnets", net);
}

static void free_claim_keys(struct claim_keys *k)
{
	free(k->spoke);
	free(k->key);
	free(k->hostname);
	free(k->subnet);
}

static void run_join(struct ovl_etcd_store *s, struct job *j)
{
	struct ovl_join_decision *d = &j->decision;
	/* After a lost race, pass over a random few of the lowest candidates: the
	 * other hub is most likely claiming those. */
	unsigned skip = j->attempts ? randombytes_uniform(1u << (j->attempts < 6 ? j->attempts + 2 : 8)) : 0;
	ovl_registry_decide_join_skip(s->reg, &j->req, s->hub_name, (int64_t)arbor_time_wall(), skip, d);
	if (d->kind == OVL_JOIN_KNOWN || d->kind == OVL_JOIN_REFUSED) {
		finish(s, j, true, 0, NULL, NULL);
		run_next(s);
		return;
	}
	struct arbor_buf value = { 0 };
	ovl_spoke_write(&value, &d->entry);
	struct claim_keys k;
	claim_keys(s, &d->entry, &k);
	char id[16];
	snprintf(id, sizeof id, "%u", d->entry.id);
	struct ovl_etcd_op ops[12];
	size_t n = 0;
	char *token_key = NULL, *old_host = NULL;
	if (d->kind == OVL_JOIN_NEW) {
		token_key = key_of(s, "tokens", d->token_id);
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_ABSENT, k.spoke, NULL, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_ABSENT, k.key, NULL, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_ABSENT, k.hostname, NULL, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_ABSENT, k.subnet, NULL, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_PRESENT, token_key, NULL, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_PUT, k.key, id, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_PUT, k.subnet, id, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_PUT, k.hostname, id, 0 };
		ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_DELETE, token_key, NULL, 0 };
	} else {
		const struct ovl_spoke *was = ovl_registry_by_id(s->reg, d->entry.id);
		int64_t rev = *mod_slot(s, d->entry.id);
		ops[n++] = rev ? (struct ovl_etcd_op){ OVL_ETCD_IF_MOD, k.spoke, NULL, rev }
			       : (struct ovl_etcd_op){ OVL_ETCD_IF_PRESENT, k.spoke, NULL, 0 };
		if (was && strcmp(was->hostname, d->entry.hostname) != 0) {
			old_host = key_of(s, "hostnames", was->hostname);
			ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_IF_ABSENT, k.hostname, NULL, 0 };
			ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_PUT, k.hostname, id, 0 };
			ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_DELETE, old_host, NULL, 0 };
		}
	}
	ops[n++] = (struct ovl_etcd_op){ OVL_ETCD_PUT, k.spoke, value.data, 0 };
	post_txn(s, ops, n);
	free_claim_keys(&k);
	free(token_key);
	free(old_host);
	arbor_buf_free(&value);
}

static void run_tokens(struct ovl_etcd_store *s, struct job *j)
{
	struct ovl_etcd_op *ops = xcalloc(j->ntokens, sizeof *ops);
	char **keys = xcalloc(j->ntokens, sizeof *keys);
	struct arbor_buf *values = xcalloc(j->ntokens, sizeof *values);
	for (size_t i = 0; i < j->ntokens; i++) {
		keys[i] = key_of(s, "tokens", j->tokens[i].id);
		ovl_token_write(&values[i], &j->tokens[i]);
		ops[i] = (struct ovl_etcd_op){ OVL_ETCD_PUT, keys[i], values[i].data, 0 };
	}
	post_txn(s, ops, j->ntokens);
	for (size_t i = 0; i < j->ntokens; i++) {
		free(keys[i]);
		arbor_buf_free(&values[i]);
	}
	free(keys);
	free(values);
	free(ops);
}

static void run_forget(struct ovl_etcd_store *s, struct job *j)
{
	const struct ovl_spoke *e = ovl_registry_by_id(s->reg, j->forget_id);
	if (e == NULL) {
		finish(s, j, false, 404, "not_found", "no such spoke");
		run_next(s);
		return;
	}
	struct claim_keys k;
	claim_keys(s, e, &k);
	struct ovl_etcd_op ops[] = {
		{ OVL_ETCD_DELETE, k.spoke, NULL, 0 }, { OVL_ETCD_DELETE, k.key, NULL, 0 },
		{ OVL_ETCD_DELETE, k.hostname, NULL, 0 }, { OVL_ETCD_DELETE, k.subnet, NULL, 0 },
	};
	post_txn(s, ops, 4);
	free_claim_keys(&k);
}

static void run_next(struct ovl_etcd_store *s)
{
	if (s->state != UP || s->op_req || s->refreshing || s->head == NULL)
		return;
	struct job *j = s->head;
	switch (j->kind) {
	case JOB_JOIN: run_join(s, j); break;
	case JOB_TOKENS: run_tokens(s, j); break;
	case JOB_FORGET: run_forget(s, j); break;
	}
}

void ovl_etcd_store_join(struct ovl_etcd_store *s, const struct ovl_request *req, struct ovl_ticket *t)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_JOIN;
	j->req = *req;
	j->ticket = t;
	enqueue(s, j);
}

void ovl_etcd_store_put_tokens(struct ovl_etcd_store *s, const struct ovl_token_entry *tokens, size_t n,
			       struct ovl_ticket *t)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_TOKENS;
	j->tokens = xcalloc(n, sizeof *j->tokens);
	memcpy(j->tokens, tokens, n * sizeof *tokens);
	j->ntokens = n;
	j->ticket = t;
	enqueue(s, j);
}

void ovl_etcd_store_forget(struct ovl_etcd_store *s, uint32_t id, struct ovl_ticket *t)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_FORGET;
	j->forget_id = id;
	j->ticket = t;
	enqueue(s, j);
}

/* ---- life ---- */

struct ovl_etcd_store *ovl_etcd_store_open(struct event_base *base, const struct ovl_registry_config *cfg,
					   struct ovl_registry *reg, const char *state_dir, const char *hub_name,
					   const struct arbor_nl_ip *underlay, void (*changed)(void *), void *ctx,
					   char *err, size_t errlen)
{
	struct ovl_etcd_store *s = xcalloc(1, sizeof *s);
	s->base = base;
	s->cfg = cfg;
	s->reg = reg;
	s->changed = changed;
	s->ctx = ctx;
	s->state_dir = xstrdup(state_dir);
	s->underlay = *underlay;
	snprintf(s->hub_name, sizeof s->hub_name, "%s", hub_name);
	size_t plen = strlen(cfg->prefix);
	s->prefix = xasprintf("%s%s", cfg->prefix, plen && cfg->prefix[plen - 1] == '/' ? "" : "/");
	s->curl = arbor_curl_loop_new(base);
	s->retry = evtimer_new(base, on_retry, s);
	s->cache = evtimer_new(base, on_cache, s);
	s->retry_s = RETRY_MIN_S;
	s->state = SYNCING;
	snprintf(s->last_error, sizeof s->last_error, "not synced yet");
	load_cache(s);
	sync_now(s);
	(void)err;
	(void)errlen;
	return s;
}

void ovl_etcd_store_close(struct ovl_etcd_store *s)
{
	if (s == NULL)
		return;
	fail_all(s, "stopping");
	if (event_pending(s->cache, EV_TIMEOUT, NULL))
		on_cache(-1, 0, s);
	arbor_curl_loop_free(s->curl); /* cancels what is in flight */
	event_free(s->retry);
	event_free(s->cache);
	arbor_buf_free(&s->stream);
	free(s->mod_rev);
	free(s->hubs);
	free(s->prefix);
	free(s->state_dir);
	free(s);
}

void ovl_etcd_store_set_config(struct ovl_etcd_store *s, const struct ovl_registry_config *cfg)
{
	s->cfg = cfg;
}

bool ovl_etcd_store_up(const struct ovl_etcd_store *s)
{
	return s->state == UP;
}

const char *ovl_etcd_store_error(const struct ovl_etcd_store *s)
{
	return s->last_error;
}

const struct ovl_hub_peer *ovl_etcd_store_hubs(const struct ovl_etcd_store *s, size_t *n)
{
	*n = s->nhubs;
	return s->hubs;
}

void ovl_etcd_store_status(const struct ovl_etcd_store *s, cJSON *out)
{
	cJSON *o = cJSON_AddObjectToObject(out, "etcd");
	cJSON_AddStringToObject(o, "state", s->state == UP ? "up" : s->state == SYNCING ? "syncing" : "down");
	cJSON_AddStringToObject(o, "endpoint", endpoint(s));
	cJSON_AddStringToObject(o, "prefix", s->prefix);
	arbor_json_add_int(o, "revision", (long long)s->revision);
	arbor_json_add_int(o, "transactions", (long long)s->txns);
	arbor_json_add_int(o, "lost_races", (long long)s->lost_races);
	arbor_json_add_int(o, "watch_events", (long long)s->watch_events);
	arbor_json_add_int(o, "outages", (long long)s->outages);
	cJSON *hubs = cJSON_AddArrayToObject(o, "hubs");
	for (size_t i = 0; i < s->nhubs; i++)
		cJSON_AddItemToArray(hubs, cJSON_CreateString(s->hubs[i].name));
	if (s->state != UP)
		cJSON_AddStringToObject(o, "last_error", s->last_error);
}
