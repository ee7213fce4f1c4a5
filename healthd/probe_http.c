/* http and daemon checks. http: GET a URL (over TCP, or over a Unix socket when
 * "socket" is set) and compare the status (any 2xx/3xx unless one is given) and
 * optionally a body substring. daemon: GET /v1/healthz from another arbor
 * daemon's socket; passing when it says "ok" (or "degraded", if accepted). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_fetch.h"
#include "probe.h"

static void http_cancel(struct probe *p)
{
	arbor_fetch_cancel(p->kind_state);
	p->kind_state = NULL;
}

/* memmem over a body that may hold NULs. */
static bool body_contains(const char *body, size_t len, const char *needle)
{
	return memmem(body, len, needle, strlen(needle)) != NULL;
}

static void on_http_done(void *ctx, const struct arbor_fetch_result *res)
{
	struct probe *p = ctx;
	const struct check_spec *s = p->check->spec;
	p->kind_state = NULL; /* the fetch frees itself */
	if (!res->ok) {
		probe_finish(p, false, "%s", res->error);
		return;
	}
	bool status_ok = s->expect_status ? res->status == s->expect_status : res->status >= 200 && res->status < 400;
	if (!status_ok) {
		if (s->expect_status)
			probe_finish(p, false, "status %d, expected %d", res->status, s->expect_status);
		else
			probe_finish(p, false, "status %d", res->status);
		return;
	}
	if (s->expect_body && !body_contains(res->body, res->body_len, s->expect_body)) {
		probe_finish(p, false, "status %d, but the body does not contain \"%s\"", res->status, s->expect_body);
		return;
	}
	probe_finish(p, true, NULL);
}

static void on_daemon_done(void *ctx, const struct arbor_fetch_result *res)
{
	struct probe *p = ctx;
	const struct check_spec *s = p->check->spec;
	p->kind_state = NULL;
	if (!res->ok) {
		probe_finish(p, false, "%s", res->error);
		return;
	}
	cJSON *doc = cJSON_ParseWithLength(res->body, res->body_len);
	const cJSON *health = cJSON_GetObjectItemCaseSensitive(doc, "health");
	const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(doc, "reasons");
	const cJSON *first = cJSON_IsArray(reasons) ? reasons->child : NULL;
	if (!cJSON_IsString(health)) {
		probe_finish(p, false, "status %d without a health answer: not an arbor daemon?", res->status);
	} else if (strcmp(health->valuestring, "ok") == 0 ||
		   (s->accept_degraded && strcmp(health->valuestring, "degraded") == 0)) {
		probe_finish(p, true, NULL);
	} else {
		probe_finish(p, false, "%s%s%s", health->valuestring, cJSON_IsString(first) ? ": " : "",
			     cJSON_IsString(first) ? first->valuestring : "");
	}
	cJSON_Delete(doc);
}

void probe_http_start(struct probe *p)
{
	const struct check_spec *s = p->check->spec;
	struct arbor_fetch_request req = { .method = "GET", .timeout_s = 0, .max_body = 64 * 1024 };
	char socket_path[PATH_MAX];
	p->kind_cancel = http_cancel;
	if (s->kind == CHECK_DAEMON) {
		if (s->socket_path)
			snprintf(socket_path, sizeof socket_path, "%s", s->socket_path);
		else
			snprintf(socket_path, sizeof socket_path, "%s/%s.sock",
				 arbor_daemon_runtime_dir(p->check->hd->d), s->target);
		req.unix_path = socket_path;
		req.path = "/v1/healthz";
		p->kind_state = arbor_fetch_start(p->check->hd->base, &req, on_daemon_done, p);
		return;
	}
	/* The probe's own timer enforces the check's timeout for every kind. */
	req.path = s->http_path;
	req.host = s->http_host;
	req.interface = s->interface;
	if (s->socket_path) {
		req.unix_path = s->socket_path;
	} else {
		req.addr = p->addr;
		req.addr_len = p->addrlen;
	}
	p->kind_state = arbor_fetch_start(p->check->hd->base, &req, on_http_done, p);
}
