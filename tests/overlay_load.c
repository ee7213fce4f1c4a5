/* overlay_load: many spokes joining a hub at once, for the 1,000-spoke test
 * and the join-rate benchmark. Each simulated spoke has its own Ed25519 key
 * (derived from its number, so a second run re-joins with the same keys),
 * signs a real join request (overlayd/join_wire.c), with one enrollment token
 * each on its first join, and checks the hub's signed answer.
 *
 *   overlay_load --hub 192.0.2.1:4790 --count 1000 [--tokens FILE]
 *                [--concurrency 64] [--first 0] [--prefix load]
 *                [--underlay 198.51.100.0] [--heartbeat] [--no-verify]
 *
 * Prints one JSON line: counts by HTTP status, seconds, joins per second. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "clock.h"
#include "http_fetch.h"
#include "inet_socket.h"
#include "join_wire.h"
#include "xalloc.h"

struct load {
	struct event_base *base;
	struct sockaddr_storage hub;
	socklen_t hub_len;
	char **tokens;
	size_t ntokens;
	size_t count, first, next, done, in_flight, concurrency;
	const char *prefix;
	uint32_t underlay; /* host order */
	bool heartbeat;
	bool no_verify; /* skip checking answers (a benchmark's generator must not be its bottleneck) */
	size_t by_status[6], failed, bad_answers;
	bool pinned;
	uint8_t hub_key[32];
	char first_error[256];
};

struct job {
	struct load *l;
	size_t n;
	struct ovl_request r;
	struct ovl_token token;
	bool has_token;
};

static void spoke_key(size_t n, struct arbor_sign_key *k)
{
	uint8_t seed[32];
	char text[64];
	snprintf(text, sizeof text, "overlay-load spoke %zu", n);
	crypto_hash_sha256(seed, (const uint8_t *)text, strlen(text));
	arbor_sign_key_from_seed(k, seed);
}

static void start_one(struct load *l);

static void on_done(void *ctx, const struct arbor_fetch_result *res)
{
	struct job *j = ctx;
	struct load *l = j->l;
	l->in_flight--;
	l->done++;
	if (!res->ok) {
		l->failed++;
		if (!l->first_error[0])
			snprintf(l->first_error, sizeof l->first_error, "%s", res->error);
	} else {
		l->by_status[res->status / 100 < 6 ? res->status / 100 : 5]++;
		if (res->status == 200 && !l->no_verify) {
			struct ovl_answer a;
			char err[256];
			const uint8_t *fp = j->has_token ? j->token.hub_fp : NULL;
			if (ovl_answer_parse(res->body, res->body_len, l->pinned ? l->hub_key : NULL, l->pinned ? NULL : fp,
					     j->r.nonce, &a, err, sizeof err) != 0) {
				l->bad_answers++;
				if (!l->first_error[0])
					snprintf(l->first_error, sizeof l->first_error, "answer: %s", err);
			} else {
				if (!l->pinned) {
					memcpy(l->hub_key, a.hub_key, 32);
					l->pinned = true;
				}
				ovl_answer_free(&a);
			}
		} else if (!l->first_error[0]) {
			snprintf(l->first_error, sizeof l->first_error, "%d: %.200s", res->status, res->body);
		}
	}
	free(j);
	if (l->next < l->first + l->count)
		start_one(l);
	else if (l->in_flight == 0)
		event_base_loopbreak(l->base);
}

static void start_one(struct load *l)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->l = l;
	j->n = l->next++;
	struct arbor_sign_key key;
	spoke_key(j->n, &key);
	struct ovl_request *r = &j->r;
	r->op = l->heartbeat ? OVL_OP_HEARTBEAT : OVL_OP_JOIN;
	memcpy(r->key, key.public_key, 32);
	r->ts_ms = (int64_t)(arbor_time_wall() * 1000);
	randombytes_buf(r->nonce, sizeof r->nonce);
	snprintf(r->hostname, sizeof r->hostname, "%s%zu", l->prefix, j->n);
	r->underlay.family = AF_INET;
	r->underlay.v4.s_addr = htonl(l->underlay + (uint32_t)j->n + 1);
	size_t t = j->n - l->first;
	if (t < l->ntokens && ovl_token_parse(l->tokens[t], &j->token)) {
		j->has_token = true;
		memcpy(r->hub_fp, j->token.hub_fp, 32);
		if (!l->heartbeat) {
			uint8_t pk[32];
			r->has_token = true;
			ovl_token_id(j->token.secret, r->token_id);
			ovl_token_proof_key(j->token.secret, pk);
			ovl_token_proof(pk, key.public_key, r->token_proof);
		}
	} else if (l->pinned) {
		arbor_sign_fingerprint(l->hub_key, r->hub_fp);
	} else if (l->ntokens) {
		struct ovl_token any;
		ovl_token_parse(l->tokens[0], &any);
		memcpy(r->hub_fp, any.hub_fp, 32);
		memcpy(&j->token, &any, sizeof any);
		j->has_token = true;
	}
	struct arbor_buf body = { 0 };
	ovl_request_build(r, &key, &body);
	struct arbor_fetch_request fr = { .addr = l->hub, .addr_len = l->hub_len, .method = "POST",
					  .path = l->heartbeat ? "/v1/heartbeat" : "/v1/join", .body = body.data,
					  .body_len = body.len, .content_type = "application/json", .timeout_s = 60 };
	l->in_flight++;
	arbor_fetch_start(l->base, &fr, on_done, j);
	arbor_buf_free(&body);
}

static void read_tokens(struct load *l, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	char line[256];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		l->tokens = xreallocarray(l->tokens, l->ntokens + 1, sizeof *l->tokens);
		l->tokens[l->ntokens++] = xstrdup(line);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct load l = { .count = 1000, .concurrency = 64, .prefix = "load", .underlay = 0xc6336400 };
	static const struct option opts[] = {
		{ "hub", required_argument, NULL, 'h' },	{ "count", required_argument, NULL, 'n' },
		{ "tokens", required_argument, NULL, 't' },	{ "concurrency", required_argument, NULL, 'c' },
		{ "first", required_argument, NULL, 'f' },	{ "prefix", required_argument, NULL, 'p' },
		{ "underlay", required_argument, NULL, 'u' }, { "heartbeat", no_argument, NULL, 'b' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *hub = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': hub = optarg; break;
		case 'n': l.count = strtoul(optarg, NULL, 10); break;
		case 't': read_tokens(&l, optarg); break;
		case 'c': l.concurrency = strtoul(optarg, NULL, 10); break;
		case 'f': l.first = strtoul(optarg, NULL, 10); break;
		case 'p': l.prefix = optarg; break;
		case 'u': {
			struct in_addr a;
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return 2;
			l.underlay = ntohl(a.s_addr);
			break;
		}
		case 'b': l.heartbeat = true; break;
		case 'V': l.no_verify = true; break;
		default: return 2;
		}
	}
	if (hub == NULL || arbor_sockaddr_parse(hub, 4790, &l.hub, &l.hub_len) != 0 || l.concurrency == 0) {
		fprintf(stderr, "usage: overlay_load --hub ADDR[:PORT] [--count N] [--tokens FILE] [--concurrency C] "
				"[--first N] [--prefix NAME] [--underlay A.B.C.D] [--heartbeat]\n");
		return 2;
	}
	arbor_alloc_init();
	if (arbor_sign_init() != 0)
		return 1;
	l.base = event_base_new();
	l.next = l.first;
	double t0 = arbor_time_monotonic();
	while (l.in_flight < l.concurrency && l.next < l.first + l.count)
		start_one(&l);
	if (l.in_flight)
		event_base_dispatch(l.base);
	double seconds = arbor_time_monotonic() - t0;
	printf("{\"count\":%zu,\"ok\":%zu,\"status_4xx\":%zu,\"status_5xx\":%zu,\"failed\":%zu,\"bad_answers\":%zu,"
	       "\"seconds\":%.3f,\"per_second\":%.1f,\"first_error\":\"",
	       l.done, l.by_status[2], l.by_status[4], l.by_status[5], l.failed, l.bad_answers, seconds,
	       seconds > 0 ? (double)l.by_status[2] / seconds : 0);
	for (const char *c = l.first_error; *c; c++)
		if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
			putchar(*c);
	printf("\"}\n");
	event_base_free(l.base);
	for (size_t i = 0; i < l.ntokens; i++)
		free(l.tokens[i]);
	free(l.tokens);
	return l.by_status[2] == l.done ? 0 : 1;
}
