/* Routing, query strings, path checks and authorization, without sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "http.h"
#include "tap.h"

static int calls;

static void handler(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	calls++;
	arbor_resp_json(resp, 200, cJSON_CreateObject());
}

static char admins[] = "admins";
static const struct arbor_control control = { .admin_group = admins, .admin_gid = 50 };

static bool deny(void *ctx, const struct arbor_http_request *req, const struct arbor_route *route,
		 struct arbor_http_response *resp)
{
	if (arbor_authorize_command(&req->peer, 1000, &control, "fixture", "reload") != ARBOR_AUTHZ_DENIED)
		return true;
	arbor_resp_error(resp, 403, "forbidden", "no");
	return false;
}

static const struct arbor_route routes[] = {
	{ "GET", "/v1/status", handler, false },
	{ "POST", "/v1/commands/reload", handler, true },
};

/* A resource with path parameters and several methods (wgd's peers). */
static const struct arbor_route peer_routes[] = {
	{ "GET", "/v1/peers", handler, false },
	{ "POST", "/v1/peers", handler, true },
	{ "GET", "/v1/peers/*", handler, false },
	{ "PATCH", "/v1/peers/*", handler, true },
	{ "DELETE", "/v1/peers/*", handler, true },
	{ "GET", "/v1/peers/*/config", handler, false },
};

static int dispatch_in(const struct arbor_route *table, size_t n, const char *method, const char *path,
		       const struct arbor_peer *peer, struct arbor_http_response *resp)
{
	struct arbor_http_request req = { .method = method, .path = path };
	if (peer)
		req.peer = *peer;
	memset(resp, 0, sizeof *resp);
	arbor_router_dispatch(table, n, NULL, deny, &req, resp);
	return resp->status;
}

static int dispatch(const char *method, const char *path, const struct arbor_peer *peer,
		    struct arbor_http_response *resp)
{
	return dispatch_in(routes, 2, method, path, peer, resp);
}

static int dispatch_peers(const char *method, const char *path, const struct arbor_peer *peer,
			  struct arbor_http_response *resp)
{
	return dispatch_in(peer_routes, 6, method, path, peer, resp);
}

int main(void)
{
	struct arbor_http_response resp;
	CHECK(dispatch("GET", "/v1/status", NULL, &resp) == 200 && calls == 1, "GET route");
	arbor_resp_reset(&resp);
	CHECK(dispatch("HEAD", "/v1/status", NULL, &resp) == 200, "HEAD implied by GET");
	arbor_resp_reset(&resp);
	CHECK(dispatch("DELETE", "/v1/status", NULL, &resp) == 405 && strcmp(resp.allow, "GET, HEAD") == 0,
	      "405 with Allow");
	arbor_resp_reset(&resp);
	CHECK(dispatch("GET", "/v1/nope", NULL, &resp) == 404 && strstr(resp.body, "\"not_found\""), "404 JSON error");
	arbor_resp_reset(&resp);
	CHECK(dispatch("GET", "/v1/../v1/status", NULL, &resp) == 400, ".. refused");
	arbor_resp_reset(&resp);
	CHECK(dispatch("GET", "/v1//status", NULL, &resp) == 400, "empty segment refused");
	arbor_resp_reset(&resp);
	CHECK(dispatch("GET", "/v1/st%00atus", NULL, &resp) == 400, "escaped NUL refused");
	arbor_resp_reset(&resp);

	struct arbor_peer nobody = { .known = true, .uid = 65534, .gid = 65534 };
	calls = 0;
	CHECK(dispatch("POST", "/v1/commands/reload", &nobody, &resp) == 403 && calls == 0, "403 for another uid");
	arbor_resp_reset(&resp);
	struct arbor_peer root = { .known = true, .uid = 0 };
	CHECK(dispatch("POST", "/v1/commands/reload", &root, &resp) == 200 && calls == 1, "root may");
	arbor_resp_reset(&resp);
	struct arbor_peer member = { .known = true, .uid = 2000, .gid = 2000, .groups = { 7, 50 }, .ngroups = 2 };
	CHECK(dispatch("POST", "/v1/commands/reload", &member, &resp) == 200, "admin group member may");
	arbor_resp_reset(&resp);
	struct arbor_peer self = { .known = true, .uid = 1000, .gid = 1000 };
	const struct arbor_control none = { 0 };
	CHECK(arbor_authorize_command(&self, 1000, &none, "fixture", "reload") == ARBOR_AUTHZ_SELF &&
		      arbor_authorize_command(&member, 1000, &none, "fixture", "reload") == ARBOR_AUTHZ_DENIED,
	      "own uid may; no admin group configured means no group access");
	struct arbor_peer unknown = { 0 };
	CHECK(arbor_authorize_command(&unknown, 1000, &control, "fixture", "reload") == ARBOR_AUTHZ_DENIED,
	      "unknown peer may not");

	struct arbor_query q = { 0 };
	CHECK(arbor_query_parse(&q, "since=5&type=lease.%2A&x&wait=1.5", 33), "query parse");
	uint64_t since;
	/* Path patterns, PATCH and DELETE. */
	struct arbor_peer superuser = { .known = true, .uid = 0 };
	CHECK(arbor_path_match("/v1/peers/*", "/v1/peers/laptop") && !arbor_path_match("/v1/peers/*", "/v1/peers") &&
	      !arbor_path_match("/v1/peers/*", "/v1/peers/a/b") && arbor_path_match("/v1/peers/*/config", "/v1/peers/a/config") &&
	      !arbor_path_match("/v1/peers/*/config", "/v1/peers/a/qr") && !arbor_path_match("/v1/peers", "/v1/peersx"),
	      "segment patterns");
	char seg[16];
	CHECK(arbor_path_segment("/v1/peers/laptop/config", 2, seg, sizeof seg) && strcmp(seg, "laptop") == 0 &&
	      !arbor_path_segment("/v1/peers", 2, seg, sizeof seg) &&
	      !arbor_path_segment("/v1/peers/a-name-longer-than-16", 2, seg, sizeof seg), "path segments");
	calls = 0;
	CHECK(dispatch_peers("PATCH", "/v1/peers/laptop", &superuser, &resp) == 200 && calls == 1, "PATCH on a pattern");
	arbor_resp_reset(&resp);
	CHECK(dispatch_peers("DELETE", "/v1/peers/laptop", NULL, &resp) == 403 && calls == 1,
	      "DELETE is authorized like a command");
	arbor_resp_reset(&resp);
	CHECK(dispatch_peers("PUT", "/v1/peers/laptop", &superuser, &resp) == 405 &&
	      strcmp(resp.allow, "GET, HEAD, PATCH, DELETE") == 0, "405 lists every method of the pattern");
	arbor_resp_reset(&resp);
	CHECK(dispatch_peers("DELETE", "/v1/peers", &superuser, &resp) == 405 && strcmp(resp.allow, "GET, HEAD, POST") == 0,
	      "405 on the collection");
	arbor_resp_reset(&resp);
	CHECK(dispatch_peers("GET", "/v1/peers/laptop/qr", NULL, &resp) == 404, "an unknown sub-resource is 404");
	arbor_resp_reset(&resp);

	double wait;
	CHECK(strcmp(arbor_query_get(&q, "type"), "lease.*") == 0 && strcmp(arbor_query_get(&q, "x"), "") == 0,
	      "percent-decoding and bare keys");
	CHECK(arbor_query_uint(&q, "since", 0, 100, &since) && since == 5, "uint");
	CHECK(arbor_query_seconds(&q, "wait", 0, 10, &wait) && wait == 1.5, "seconds");
	CHECK(!arbor_query_uint(&q, "type", 0, 100, &since), "non-number refused");
	arbor_query_free(&q);
	/* What the server gets from libmicrohttpd and our decoder: a bad escape and
	 * %00 stay as they are (the handlers then refuse or match nothing). */
	struct arbor_query bad = { 0 };
	CHECK(arbor_query_parse(&bad, "a=%zz&b=%00&c=%4&d=x+y%2B&&e", 28), "odd escapes parse");
	CHECK(strcmp(arbor_query_get(&bad, "a"), "%zz") == 0 && strcmp(arbor_query_get(&bad, "b"), "%00") == 0 &&
		      strcmp(arbor_query_get(&bad, "c"), "%4") == 0 && strcmp(arbor_query_get(&bad, "d"), "x y+") == 0,
	      "bad escapes and %00 kept, '+' a space, %2B a plus");
	CHECK(bad.n == 6 && strcmp(bad.args[4].key, "") == 0 && strcmp(arbor_query_get(&bad, "e"), "") == 0,
	      "an empty argument between two '&' is an empty key, as in libmicrohttpd");
	arbor_query_free(&bad);
	char path[] = "/v1/%2e%2E/st%61tus%00%zz%4";
	CHECK(arbor_url_unescape(path) == 21 && strcmp(path, "/v1/../status%00%zz%4") == 0, "path decoding");
	struct arbor_query many = { 0 };
	char big[400] = "";
	for (int i = 0; i < 40; i++)
		strcat(big, "a=1&");
	CHECK(!arbor_query_parse(&many, big, strlen(big)) && many.overflow, "argument count bounded");
	arbor_query_free(&many);
	return tap_done();
}
