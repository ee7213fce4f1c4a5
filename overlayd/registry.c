/* The registry (see registry.h). Spokes live in three sorted pointer arrays
 * (by id, by key, by hostname), so every lookup a join makes is a binary
 * search; subnets live in the IPv4 allocator under the key "spoke:<id>". */
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "json.h"
#include "xalloc.h"

struct ovl_registry {
	struct ovl_registry_params p;
	struct arbor_ipv4_alloc *alloc;
	struct arbor_ipv4_in_use *in_use; /* kept to rebuild the allocator */
	size_t nin_use;
	struct ovl_spoke **by_id, **by_key, **by_host;
	size_t n, cap;
	struct ovl_token_entry *tokens;
	size_t ntokens;
	uint64_t generation;
};


static void alloc_key(uint32_t id, char out[24])
{
	snprintf(out, 24, "spoke:%u", id);
}

/* ---- the three orders ---- */

typedef int (*order_fn)(const struct ovl_spoke *s, const void *probe);

static int order_id(const struct ovl_spoke *s, const void *probe)
{
	uint32_t id = *(const uint32_t *)probe;
	return s->id < id ? -1 : s->id > id;
}

static int order_key(const struct ovl_spoke *s, const void *probe)
{
	return memcmp(s->key, probe, ARBOR_SIGN_PUBLIC_BYTES);
}

static int order_host(const struct ovl_spoke *s, const void *probe)
{
	return strcmp(s->hostname, probe);
}

/* The first position whose element is not below probe. */
static size_t lower_bound(struct ovl_spoke *const *v, size_t n, const void *probe, order_fn order)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (order(v[mid], probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ovl_spoke *find(struct ovl_spoke *const *v, size_t n, const void *probe, order_fn order)
{
	size_t i = lower_bound(v, n, probe, order);
	return i < n && order(v[i], probe) == 0 ? v[i] : NULL;
}

static void insert_at(struct ovl_spoke **v, size_t n, struct ovl_spoke *s, const void *probe, order_fn order)
{
	size_t i = lower_bound(v, n, probe, order);
	memmove(&v[i + 1], &v[i], (n - i) * sizeof *v);
	v[i] = s;
}

static void remove_ptr(struct ovl_spoke **v, size_t n, const struct ovl_spoke *s, const void *probe, order_fn order)
{
	size_t i = lower_bound(v, n, probe, order);
	while (i < n && v[i] != s)
		i++;
	if (i < n)
		memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof *v);
}

/* ---- life ---- */

static struct arbor_ipv4_alloc *new_allocator(const struct ovl_registry_params *p)
{
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	struct arbor_ipv4_prefix hub = { ntohl(p->hub_address.s_addr), 32 };
	arbor_ipv4_alloc_set_pool(a, &p->network, 1, NULL, 0);
	if (hub.addr)
		arbor_ipv4_alloc_set_excluded(a, &hub, 1, NULL, 0);
	return a;
}

struct ovl_registry *ovl_registry_new(const struct ovl_registry_params *p)
{
	struct ovl_registry *r = xcalloc(1, sizeof *r);
	r->p = *p;
	r->alloc = new_allocator(p);
	return r;
}

static void clear_spokes(struct ovl_registry *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->by_id[i]);
	free(r->by_id);
	free(r->by_key);
	free(r->by_host);
	r->by_id = r->by_key = r->by_host = NULL;
	r->n = r->cap = 0;
}

void ovl_registry_free(struct ovl_registry *r)
{
	if (r == NULL)
		return;
	clear_spokes(r);
	arbor_ipv4_alloc_free(r->alloc);
	free(r->in_use);
	free(r->tokens);
	free(r);
}

const struct ovl_registry_params *ovl_registry_params(const struct ovl_registry *r)
{
	return &r->p;
}

/* A new allocator for the current parameters, with every entry's subnet. */
static void rebuild_allocator(struct ovl_registry *r)
{
	struct arbor_ipv4_alloc *a = new_allocator(&r->p);
	if (r->nin_use)
		arbor_ipv4_alloc_set_in_use(a, r->in_use, r->nin_use, NULL, 0);
	for (size_t i = 0; i < r->n; i++) {
		char key[24];
		alloc_key(r->by_id[i]->id, key);
		/* Entries never overlap each other (put_spoke checks), so this holds. */
		arbor_ipv4_alloc_insert(a, key, &r->by_id[i]->subnet, r->by_id[i]->joined_at, NULL, 0);
	}
	arbor_ipv4_alloc_free(r->alloc);
	r->alloc = a;
}

void ovl_registry_set_params(struct ovl_registry *r, const struct ovl_registry_params *p)
{
	r->p = *p;
	rebuild_allocator(r);
	r->generation++;
}

int ovl_registry_set_in_use(struct ovl_registry *r, const struct arbor_ipv4_in_use *in_use, size_t n)
{
	int rc = arbor_ipv4_alloc_set_in_use(r->alloc, in_use, n, NULL, 0);
	if (rc < 0)
		return rc;
	free(r->in_use);
	r->in_use = n ? xmalloc(n * sizeof *in_use) : NULL;
	if (n)
		memcpy(r->in_use, in_use, n * sizeof *in_use);
	r->nin_use = n;
	return 0;
}

uint32_t ovl_registry_max_id(const struct ovl_registry *r)
{
	return r->p.vni_base >= OVL_ID_MAX ? 0 : OVL_ID_MAX - r->p.vni_base;
}

uint32_t ovl_registry_vni(const struct ovl_registry *r, uint32_t id)
{
	return r->p.vni_base + id;
}

uint64_t ovl_registry_generation(const struct ovl_registry *r)
{
	return r->generation;
}

size_t ovl_registry_count(const struct ovl_registry *r)
{
	return r->n;
}

const struct ovl_spoke *ovl_registry_at(const struct ovl_registry *r, size_t i)
{
	return i < r->n ? r->by_id[i] : NULL;
}

const struct ovl_spoke *ovl_registry_by_id(const struct ovl_registry *r, uint32_t id)
{
	return find(r->by_id, r->n, &id, order_id);
}

const struct ovl_spoke *ovl_registry_by_key(const struct ovl_registry *r, const uint8_t key[ARBOR_SIGN_PUBLIC_BYTES])
{
	return find(r->by_key, r->n, key, order_key);
}

const struct ovl_spoke *ovl_registry_by_hostname(const struct ovl_registry *r, const char *hostname)
{
	return find(r->by_host, r->n, hostname, order_host);
}

size_t ovl_registry_token_count(const struct ovl_registry *r, int64_t now)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ntokens; i++)
		n += r->tokens[i].expires_at > now;
	return n;
}

const struct ovl_token_entry *ovl_registry_token(const struct ovl_registry *r, const char *id)
{
	for (size_t i = 0; i < r->ntokens; i++)
		if (strcmp(r->tokens[i].id, id) == 0)
			return &r->tokens[i];
	return NULL;
}

/* ---- changes ---- */

static int check_spoke(const struct ovl_registry *r, const struct ovl_spoke *s, char *err, size_t errlen)
{
	if (s->id == 0 || s->id > ovl_registry_max_id(r))
		return ovl_fail(err, errlen, "spoke id %u is not 1..%u", s->id, ovl_registry_max_id(r));
	if (!arbor_valid_dns_label(s->hostname))
		return ovl_fail(err, errlen, "spoke %u: hostname is not a DNS label", s->id);
	if (s->underlay.family != AF_INET && s->underlay.family != AF_INET6)
		return ovl_fail(err, errlen, "spoke %u: no underlay address", s->id);
	if (!arbor_ipv4_prefix_valid(&s->subnet) || s->subnet.len == 0 || s->subnet.len > 30)
		return ovl_fail(err, errlen, "spoke %u: subnet is not a /1../30 prefix", s->id);
	if (s->joined_at < 0 || s->updated_ms < 0)
		return ovl_fail(err, errlen, "spoke %u: negative time", s->id);
	return 0;
}

int ovl_registry_put_spoke(struct ovl_registry *r, const struct ovl_spoke *s, char *err, size_t errlen)
{
	int rc = check_spoke(r, s, err, errlen);
	if (rc)
		return rc;
	struct ovl_spoke *old = find(r->by_id, r->n, &s->id, order_id);
	struct ovl_spoke *same_key = find(r->by_key, r->n, s->key, order_key);
	struct ovl_spoke *same_host = find(r->by_host, r->n, s->hostname, order_host);
	if (same_key && same_key != old)
		return ovl_fail(err, errlen, "spoke %u: its key belongs to spoke %u", s->id, same_key->id);
	if (same_host && same_host != old)
		return ovl_fail(err, errlen, "spoke %u: hostname %s belongs to spoke %u", s->id, s->hostname, same_host->id);
	char key[24], aerr[200];
	alloc_key(s->id, key);
	if (old == NULL || old->subnet.addr != s->subnet.addr || old->subnet.len != s->subnet.len) {
		if (old)
			arbor_ipv4_alloc_release(r->alloc, key);
		rc = arbor_ipv4_alloc_insert(r->alloc, key, &s->subnet, s->joined_at, aerr, sizeof aerr);
		if (rc < 0) {
			if (old)
				arbor_ipv4_alloc_insert(r->alloc, key, &old->subnet, old->joined_at, NULL, 0);
			return ovl_fail(err, errlen, "spoke %u: %s", s->id, aerr);
		}
	}
	if (old) {
		remove_ptr(r->by_key, r->n, old, old->key, order_key);
		remove_ptr(r->by_host, r->n, old, old->hostname, order_host);
		*old = *s;
		insert_at(r->by_key, r->n - 1, old, old->key, order_key);
		insert_at(r->by_host, r->n - 1, old, old->hostname, order_host);
	} else {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 16;
			r->by_id = xreallocarray(r->by_id, r->cap, sizeof *r->by_id);
			r->by_key = xreallocarray(r->by_key, r->cap, sizeof *r->by_key);
			r->by_host = xreallocarray(r->by_host, r->cap, sizeof *r->by_host);
		}
		struct ovl_spoke *x = xmalloc(sizeof *x);
		*x = *s;
		insert_at(r->by_id, r->n, x, &x->id, order_id);
		insert_at(r->by_key, r->n, x, x->key, order_key);
		insert_at(r->by_host, r->n, x, x->hostname, order_host);
		r->n++;
	}
	r->generation++;
	return 0;
}

int ovl_registry_forget(struct ovl_registry *r, uint32_t id)
{
	struct ovl_spoke *s = find(r->by_id, r->n, &id, order_id);
	if (s == NULL)
		return -ENOENT;
	char key[24];
	alloc_key(id, key);
	arbor_ipv4_alloc_release(r->alloc, key);
	remove_ptr(r->by_id, r->n, s, &s->id, order_id);
	remove_ptr(r->by_key, r->n, s, s->key, order_key);
	remove_ptr(r->by_host, r->n, s, s->hostname, order_host);
	r->n--;
	free(s);
	r->generation++;
	return 0;
}


int ovl_registry_put_token(struct ovl_registry *r, const struct ovl_token_entry *t, char *err, size_t errlen)
{
	if (!ovl_token_id_valid(t->id))
		return ovl_fail(err, errlen, "token id is not %d hex digits", OVL_TOKEN_ID_LEN);
	if (t->expires_at < 0)
		return ovl_fail(err, errlen, "token %s: negative expiry", t->id);
	if (t->hostname[0] && !arbor_valid_dns_label(t->hostname))
		return ovl_fail(err, errlen, "token %s: hostname is not a DNS label", t->id);
	for (size_t i = 0; i < r->ntokens; i++)
		if (strcmp(r->tokens[i].id, t->id) == 0) {
			r->tokens[i] = *t;
			return 0;
		}
	r->tokens = xreallocarray(r->tokens, r->ntokens + 1, sizeof *r->tokens);
	r->tokens[r->ntokens++] = *t;
	return 0;
}

int ovl_registry_use_token(struct ovl_registry *r, const char *id)
{
	for (size_t i = 0; i < r->ntokens; i++)
		if (strcmp(r->tokens[i].id, id) == 0) {
			sodium_memzero(r->tokens[i].proof_key, sizeof r->tokens[i].proof_key);
			r->tokens[i] = r->tokens[--r->ntokens];
			return 0;
		}
	return -ENOENT;
}

size_t ovl_registry_prune_tokens(struct ovl_registry *r, int64_t now)
{
	size_t kept = 0, n = r->ntokens;
	for (size_t i = 0; i < n; i++)
		if (r->tokens[i].expires_at > now)
			r->tokens[kept++] = r->tokens[i];
	r->ntokens = kept;
	return n - kept;
}

/* ---- joins ---- */

static int ovl_registry_decide_subnet(struct ovl_registry *r, const char *key, int64_t now_s,
				      struct arbor_ipv4_prefix *subnet, char *err, size_t errlen)
{
	int rc = arbor_ipv4_alloc_allocate(r->alloc, key, r->p.subnet_length, now_s, subnet, err, errlen);
	if (rc == 1)
		arbor_ipv4_alloc_release(r->alloc, key);
	return rc;
}

__attribute__((format(printf, 4, 5))) static void refuse(struct ovl_join_decision *d, int status, const char *code,
							 const char *fmt, ...)
{
	d->kind = OVL_JOIN_REFUSED;
	d->status = status;
	d->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
}

static bool same_ip(const struct arbor_nl_ip *a, const struct arbor_nl_ip *b)
{
	return a->family == b->family &&
	       memcmp(&a->v6, &b->v6, a->family == AF_INET ? sizeof a->v4 : sizeof a->v6) == 0;
}

static void fingerprint_text(const uint8_t key[ARBOR_SIGN_PUBLIC_BYTES], char out[ARBOR_B64_LEN(32) + 1])
{
	uint8_t fp[ARBOR_FINGERPRINT_BYTES];
	arbor_sign_fingerprint(key, fp);
	arbor_b64_encode(fp, sizeof fp, out, ARBOR_B64_LEN(32) + 1);
}

/* The lowest id no entry holds after passing over skip free ones, or 0. */
static uint32_t free_id(const struct ovl_registry *r, unsigned skip)
{
	uint32_t next = 1;
	size_t i = 0;
	for (;;) {
		while (i < r->n && r->by_id[i]->id == next) {
			next++;
			i++;
		}
		if (skip == 0 || next > ovl_registry_max_id(r))
			break;
		skip--;
		next++;
	}
	return next <= ovl_registry_max_id(r) ? next : 0;
}

static void decide_known(struct ovl_registry *r, const struct ovl_request *req, const struct ovl_spoke *s,
			 const char *hub, struct ovl_join_decision *d)
{
	d->entry = *s;
	d->kind = OVL_JOIN_KNOWN;
	if (req->op == OVL_OP_HEARTBEAT)
		return;
	const struct ovl_spoke *named = ovl_registry_by_hostname(r, req->hostname);
	if (named && named != s) {
		char fp[ARBOR_B64_LEN(32) + 1];
		fingerprint_text(named->key, fp);
		refuse(d, 409, "hostname_taken", "hostname %s belongs to spoke %u (key SHA256:%s), not to this key",
		       req->hostname, named->id, fp);
		return;
	}
	bool moved = !same_ip(&s->underlay, &req->underlay) || strcmp(s->hostname, req->hostname) != 0 ||
		     s->has_mac != req->has_mac || (req->has_mac && memcmp(s->mac, req->mac, 6) != 0) ||
		     (hub[0] && strcmp(s->hub, hub) != 0);
	if (!moved)
		return;
	/* An older request (replayed after the nonce memory was lost, or overtaken
	 * in flight) must not undo a newer change. */
	if (req->ts_ms <= s->updated_ms) {
		refuse(d, 401, "unauthorized", "request from %lld ms is older than the entry's last change (%lld ms)",
		       (long long)req->ts_ms, (long long)s->updated_ms);
		return;
	}
	d->kind = OVL_JOIN_UPDATE;
	d->entry.underlay = req->underlay;
	snprintf(d->entry.hostname, sizeof d->entry.hostname, "%s", req->hostname);
	d->entry.has_mac = req->has_mac;
	memcpy(d->entry.mac, req->mac, 6);
	d->entry.updated_ms = req->ts_ms;
	if (hub[0])
		snprintf(d->entry.hub, sizeof d->entry.hub, "%s", hub);
}

void ovl_registry_decide_join(struct ovl_registry *r, const struct ovl_request *req, const char *hub,
			      int64_t now_s, struct ovl_join_decision *d)
{
	ovl_registry_decide_join_skip(r, req, hub, now_s, 0, d);
}

void ovl_registry_decide_join_skip(struct ovl_registry *r, const struct ovl_request *req, const char *hub,
				   int64_t now_s, unsigned skip, struct ovl_join_decision *d)
{
	memset(d, 0, sizeof *d);
	const struct ovl_spoke *s = ovl_registry_by_key(r, req->key);
	if (s) {
		decide_known(r, req, s, hub, d);
		return;
	}
	if (req->op == OVL_OP_HEARTBEAT) {
		refuse(d, 401, "unauthorized", "unknown key: join first");
		return;
	}
	if (!req->has_token) {
		refuse(d, 401, "unauthorized", "unknown key and no token: enroll the spoke on the hub "
		       "(arborctl overlay enroll) and give it the token");
		return;
	}
	const struct ovl_token_entry *t = ovl_registry_token(r, req->token_id);
	if (t == NULL) {
		refuse(d, 401, "unauthorized", "token %s is unknown or already used", req->token_id);
		return;
	}
	if (t->expires_at <= now_s) {
		refuse(d, 401, "unauthorized", "token %s expired", req->token_id);
		return;
	}
	if (!ovl_token_proof_ok(t->proof_key, req->key, req->token_proof)) {
		refuse(d, 401, "unauthorized", "the proof of token %s does not match: not made with its secret",
		       req->token_id);
		return;
	}
	if (t->hostname[0] && strcmp(t->hostname, req->hostname) != 0) {
		refuse(d, 401, "unauthorized", "token %s is for host %s, not %s", req->token_id, t->hostname, req->hostname);
		return;
	}
	const struct ovl_spoke *named = ovl_registry_by_hostname(r, req->hostname);
	if (named) {
		char fp[ARBOR_B64_LEN(32) + 1];
		fingerprint_text(named->key, fp);
		refuse(d, 409, "hostname_taken", "hostname %s belongs to spoke %u (key SHA256:%s): if this is its new "
		       "key, forget the old entry first (arborctl overlay forget %s)", req->hostname, named->id, fp,
		       req->hostname);
		return;
	}
	char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
	arbor_ipv4_prefix_format(&r->p.network, net, sizeof net);
	uint32_t id = free_id(r, skip);
	if (id == 0 && skip)
		id = free_id(r, 0);
	if (id == 0 || (r->p.max_spokes && r->n >= r->p.max_spokes)) {
		refuse(d, 409, "overlay_full", "the overlay is full: %zu spokes hold every id (hub.max_spokes or the VNI "
		       "range); forget a spoke (arborctl overlay forget) to make room", r->n);
		return;
	}
	char key[24], aerr[200];
	alloc_key(id, key);
	struct arbor_ipv4_prefix subnet;
	/* Passing over skip free subnets: take them for a moment under keys of their own. */
	unsigned held = 0;
	int rc = 1;
	for (; held < skip && rc == 1; held++) {
		char tmp[32];
		snprintf(tmp, sizeof tmp, "skip:%u", held);
		rc = arbor_ipv4_alloc_allocate(r->alloc, tmp, r->p.subnet_length, now_s, &subnet, aerr, sizeof aerr);
	}
	rc = arbor_ipv4_alloc_allocate(r->alloc, key, r->p.subnet_length, now_s, &subnet, aerr, sizeof aerr);
	if (rc == 1)
		arbor_ipv4_alloc_release(r->alloc, key); /* deciding only: apply records it */
	for (unsigned i = 0; i < held; i++) {
		char tmp[32];
		snprintf(tmp, sizeof tmp, "skip:%u", i);
		arbor_ipv4_alloc_release(r->alloc, tmp);
	}
	if (rc != 1 && held) /* nothing free past the skipped: the lowest then */
		rc = ovl_registry_decide_subnet(r, key, now_s, &subnet, aerr, sizeof aerr);
	if (rc != 1) {
		refuse(d, 409, "overlay_full", "the overlay is full: no free /%u left in %s (%zu spokes); forget a spoke "
		       "(arborctl overlay forget) or widen hub.network", r->p.subnet_length, net, r->n);
		return;
	}
	d->kind = OVL_JOIN_NEW;
	d->entry = (struct ovl_spoke){ .id = id, .subnet = subnet, .underlay = req->underlay, .joined_at = now_s,
				       .updated_ms = req->ts_ms, .has_mac = req->has_mac };
	memcpy(d->entry.key, req->key, sizeof d->entry.key);
	memcpy(d->entry.mac, req->mac, 6);
	snprintf(d->entry.hostname, sizeof d->entry.hostname, "%s", req->hostname);
	snprintf(d->entry.hub, sizeof d->entry.hub, "%s", hub);
	memcpy(d->token_id, req->token_id, sizeof d->token_id);
}

/* ---- records ---- */

void ovl_spoke_write(struct arbor_buf *out, const struct ovl_spoke *s)
{
	char key[ARBOR_B64_LEN(32) + 1], ip[INET6_ADDRSTRLEN], net[ARBOR_IPV4_PREFIX_TEXT_MAX];
	arbor_buf_printf(out, "{\"id\":%u,\"key\":\"%s\",\"hostname\":\"%s\",\"underlay\":\"%s\",\"subnet\":\"%s\","
			 "\"joined_at\":%lld,\"updated_ms\":%lld", s->id,
			 arbor_b64_encode(s->key, sizeof s->key, key, sizeof key), s->hostname,
			 ovl_ip_format(&s->underlay, ip, sizeof ip), arbor_ipv4_prefix_format(&s->subnet, net, sizeof net),
			 (long long)s->joined_at, (long long)s->updated_ms);
	if (s->hub[0])
		arbor_buf_printf(out, ",\"hub\":\"%s\"", s->hub);
	if (s->has_mac) {
		char mac[18];
		ovl_mac_format(s->mac, mac);
		arbor_buf_printf(out, ",\"mac\":\"%s\"", mac);
	}
	arbor_buf_puts(out, "}");
}

void ovl_token_write(struct arbor_buf *out, const struct ovl_token_entry *t)
{
	char key[ARBOR_B64_LEN(32) + 1];
	arbor_buf_printf(out, "{\"id\":\"%s\",\"proof_key\":\"%s\",\"expires_at\":%lld", t->id,
			 arbor_b64_encode(t->proof_key, sizeof t->proof_key, key, sizeof key), (long long)t->expires_at);
	if (t->hostname[0])
		arbor_buf_printf(out, ",\"hostname\":\"%s\"", t->hostname);
	arbor_buf_puts(out, "}");
}

static bool get_int(const cJSON *v, int64_t *out)
{
	uint64_t u;
	if (!arbor_json_get_u53(v, &u))
		return false;
	*out = (int64_t)u;
	return true;
}

static bool get_label(const cJSON *v, char *out, size_t outlen)
{
	if (!cJSON_IsString(v) || !arbor_valid_dns_label(v->valuestring) || strlen(v->valuestring) >= outlen)
		return false;
	snprintf(out, outlen, "%s", v->valuestring);
	return true;
}

int ovl_spoke_read(const cJSON *obj, struct ovl_spoke *s, char *err, size_t errlen)
{
	static const char *const names[] = { "id", "key", "hostname", "underlay", "subnet", "joined_at", "updated_ms",
					     "hub", "mac" };
	const cJSON *f[9];
	memset(s, 0, sizeof *s);
	if (!arbor_json_members(obj, names, f, 9, "spoke", err, errlen))
		return -EINVAL;
	int64_t id;
	if (!get_int(f[0], &id) || id < 1 || id > OVL_ID_MAX)
		return ovl_fail(err, errlen, "spoke: \"id\" must be 1..%u", OVL_ID_MAX);
	s->id = (uint32_t)id;
	if (!cJSON_IsString(f[1]) || !arbor_b64_decode_exact(f[1]->valuestring, s->key, sizeof s->key))
		return ovl_fail(err, errlen, "spoke %u: \"key\" must be 32 bytes of base64", s->id);
	if (!get_label(f[2], s->hostname, sizeof s->hostname))
		return ovl_fail(err, errlen, "spoke %u: \"hostname\" must be a DNS label", s->id);
	if (!cJSON_IsString(f[3]) || !ovl_ip_parse(f[3]->valuestring, &s->underlay))
		return ovl_fail(err, errlen, "spoke %u: \"underlay\" must be an address", s->id);
	if (!cJSON_IsString(f[4]) || arbor_ipv4_prefix_parse(&s->subnet, f[4]->valuestring) != 0)
		return ovl_fail(err, errlen, "spoke %u: \"subnet\" must be a prefix", s->id);
	if (!get_int(f[5], &s->joined_at) || !get_int(f[6], &s->updated_ms))
		return ovl_fail(err, errlen, "spoke %u: \"joined_at\" and \"updated_ms\" must be whole numbers", s->id);
	if (f[7] && !get_label(f[7], s->hub, sizeof s->hub))
		return ovl_fail(err, errlen, "spoke %u: \"hub\" must be a DNS label", s->id);
	if (f[8]) {
		if (!cJSON_IsString(f[8]) || !ovl_mac_parse(f[8]->valuestring, s->mac))
			return ovl_fail(err, errlen, "spoke %u: \"mac\" must be a MAC address", s->id);
		s->has_mac = true;
	}
	return 0;
}

int ovl_token_read(const cJSON *obj, struct ovl_token_entry *t, char *err, size_t errlen)
{
	static const char *const names[] = { "id", "proof_key", "expires_at", "hostname" };
	const cJSON *f[4];
	memset(t, 0, sizeof *t);
	if (!arbor_json_members(obj, names, f, 4, "token", err, errlen))
		return -EINVAL;
	if (!cJSON_IsString(f[0]) || !ovl_token_id_valid(f[0]->valuestring))
		return ovl_fail(err, errlen, "token: \"id\" must be %d hex digits", OVL_TOKEN_ID_LEN);
	memcpy(t->id, f[0]->valuestring, OVL_TOKEN_ID_LEN + 1);
	if (!cJSON_IsString(f[1]) || !arbor_b64_decode_exact(f[1]->valuestring, t->proof_key, sizeof t->proof_key))
		return ovl_fail(err, errlen, "token %s: \"proof_key\" must be 32 bytes of base64", t->id);
	if (!get_int(f[2], &t->expires_at))
		return ovl_fail(err, errlen, "token %s: \"expires_at\" must be a whole number", t->id);
	if (f[3] && !get_label(f[3], t->hostname, sizeof t->hostname))
		return ovl_fail(err, errlen, "token %s: \"hostname\" must be a DNS label", t->id);
	return 0;
}

void ovl_registry_record_join(struct arbor_buf *out, const struct ovl_join_decision *d)
{
	arbor_buf_puts(out, "{\"spoke\":");
	ovl_spoke_write(out, &d->entry);
	if (d->kind == OVL_JOIN_NEW && d->token_id[0])
		arbor_buf_printf(out, ",\"token_used\":\"%s\"", d->token_id);
	arbor_buf_puts(out, "}");
}

int ovl_registry_apply(struct ovl_registry *r, const cJSON *record, char *err, size_t errlen)
{
	static const char *const names[] = { "spoke", "token_used", "forget", "token" };
	const cJSON *f[4];
	if (!arbor_json_members(record, names, f, 4, "record", err, errlen))
		return -EINVAL;
	int present = (f[0] || f[1]) + (f[2] != NULL) + (f[3] != NULL);
	if (present != 1)
		return ovl_fail(err, errlen, "record: one of spoke (with token_used), token_used, forget or token");
	if (f[1] && (!cJSON_IsString(f[1]) || !ovl_token_id_valid(f[1]->valuestring)))
		return ovl_fail(err, errlen, "record: \"token_used\" must be a token id");
	if (f[0]) {
		struct ovl_spoke s;
		int rc = ovl_spoke_read(f[0], &s, err, errlen);
		if (rc == 0)
			rc = ovl_registry_put_spoke(r, &s, err, errlen);
		if (rc)
			return rc;
	}
	if (f[1])
		ovl_registry_use_token(r, f[1]->valuestring); /* gone already (pruned) is fine */
	if (f[2]) {
		int64_t id;
		if (!get_int(f[2], &id) || id < 1 || id > OVL_ID_MAX)
			return ovl_fail(err, errlen, "record: \"forget\" must be a spoke id");
		ovl_registry_forget(r, (uint32_t)id); /* forgetting twice is fine */
	}
	if (f[3]) {
		struct ovl_token_entry t;
		int rc = ovl_token_read(f[3], &t, err, errlen);
		if (rc == 0)
			rc = ovl_registry_put_token(r, &t, err, errlen);
		sodium_memzero(&t, sizeof t);
		return rc;
	}
	return 0;
}

void ovl_registry_write_snapshot(const struct ovl_registry *r, struct arbor_buf *out)
{
	arbor_buf_puts(out, "{\"version\":1,\"spokes\":[");
	for (size_t i = 0; i < r->n; i++) {
		arbor_buf_puts(out, i ? ",\n" : "\n");
		ovl_spoke_write(out, r->by_id[i]);
	}
	arbor_buf_puts(out, "\n],\"tokens\":[");
	for (size_t i = 0; i < r->ntokens; i++) {
		arbor_buf_puts(out, i ? ",\n" : "\n");
		ovl_token_write(out, &r->tokens[i]);
	}
	arbor_buf_puts(out, "\n]}");
}

/* Swaps the contents (not the parameters) of two registries. */
static void swap_contents(struct ovl_registry *a, struct ovl_registry *b)
{
	struct ovl_registry t = *a;
	a->alloc = b->alloc, a->by_id = b->by_id, a->by_key = b->by_key, a->by_host = b->by_host;
	a->n = b->n, a->cap = b->cap, a->tokens = b->tokens, a->ntokens = b->ntokens;
	b->alloc = t.alloc, b->by_id = t.by_id, b->by_key = t.by_key, b->by_host = t.by_host;
	b->n = t.n, b->cap = t.cap, b->tokens = t.tokens, b->ntokens = t.ntokens;
}

int ovl_registry_load_snapshot(struct ovl_registry *r, const cJSON *data, char *err, size_t errlen)
{
	static const char *const names[] = { "version", "spokes", "tokens" };
	const cJSON *f[3];
	uint64_t version;
	if (!arbor_json_members(data, names, f, 3, "registry", err, errlen))
		return -EINVAL;
	if (!arbor_json_get_u53(f[0], &version) || version != 1)
		return ovl_fail(err, errlen, "registry: \"version\" must be 1");
	if (!cJSON_IsArray(f[1]) || !cJSON_IsArray(f[2]))
		return ovl_fail(err, errlen, "registry: \"spokes\" and \"tokens\" must be arrays");
	struct ovl_registry *fresh = ovl_registry_new(&r->p);
	if (r->nin_use)
		ovl_registry_set_in_use(fresh, r->in_use, r->nin_use);
	int rc = 0;
	for (const cJSON *e = f[1]->child; e && rc == 0; e = e->next) {
		struct ovl_spoke s;
		rc = ovl_spoke_read(e, &s, err, errlen);
		if (rc == 0)
			rc = ovl_registry_put_spoke(fresh, &s, err, errlen);
	}
	for (const cJSON *e = f[2]->child; e && rc == 0; e = e->next) {
		struct ovl_token_entry t;
		rc = ovl_token_read(e, &t, err, errlen);
		if (rc == 0)
			rc = ovl_registry_put_token(fresh, &t, err, errlen);
	}
	if (rc == 0) {
		swap_contents(r, fresh);
		r->generation++;
	}
	ovl_registry_free(fresh);
	return rc;
}

void ovl_registry_swap(struct ovl_registry *r, struct ovl_registry *src)
{
	swap_contents(r, src);
	/* The allocator came with src's parameters and no in-use list: rebuild it. */
	rebuild_allocator(r);
	r->generation++;
}

int ovl_registry_conflicts(const struct ovl_registry *r, struct arbor_ipv4_conflict **out, size_t *n)
{
	return arbor_ipv4_alloc_conflicts(r->alloc, out, n);
}
