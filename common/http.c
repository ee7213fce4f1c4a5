/* Query strings, answers and routing for the contract server. Pure functions over
 * memory: no sockets here. */
#include "hex.h"
#include "xalloc.h"
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t arbor_url_unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		int hi, lo;
		if (s[i] == '%' && s[i + 1] && s[i + 2] && (hi = arbor_hex_digit(s[i + 1])) >= 0 &&
		    (lo = arbor_hex_digit(s[i + 2])) >= 0 && (hi || lo)) {
			s[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/* libmicrohttpd turns '+' into a space in query keys and values before it
 * percent-decodes them. */
static void unescape_plus(char *s)
{
	for (; *s; s++)
		if (*s == '+')
			*s = ' ';
}

void arbor_query_add(struct arbor_query *q, const char *key, const char *value)
{
	if (q->n >= sizeof q->args / sizeof q->args[0]) {
		q->overflow = true;
		return;
	}
	q->args[q->n].key = xstrdup(key);
	q->args[q->n].value = xstrdup(value ? value : "");
	q->n++;
}

bool arbor_query_parse(struct arbor_query *q, const char *raw, size_t len)
{
	char *copy = xstrndup(raw, len);
	char *arg = copy;
	while (*arg) {
		char *amp = strchr(arg, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(arg, '=');
		if (eq) {
			*eq++ = '\0';
			unescape_plus(eq);
			arbor_url_unescape(eq);
		}
		unescape_plus(arg);
		arbor_url_unescape(arg);
		arbor_query_add(q, arg, eq);
		if (amp == NULL)
			break;
		arg = amp + 1;
	}
	free(copy);
	return !q->overflow;
}

const char *arbor_query_get(const struct arbor_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->args[i].key, key) == 0)
			return q->args[i].value;
	return NULL;
}

void arbor_query_free(struct arbor_query *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->args[i].key);
		free(q->args[i].value);
	}
	q->n = 0;
}

bool arbor_query_uint(const struct arbor_query *q, const char *key, uint64_t def, uint64_t max, uint64_t *out)
{
	const char *v = arbor_query_get(q, key);
	*out = def;
	if (v == NULL)
		return true;
	if (*v == '\0' || strlen(v) > 20)
		return false;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	errno = 0;
	unsigned long long n = strtoull(v, NULL, 10);
	if (errno != 0 || n > max)
		return false;
	*out = n;
	return true;
}

bool arbor_query_seconds(const struct arbor_query *q, const char *key, double def, double max, double *out)
{
	const char *v = arbor_query_get(q, key);
	*out = def;
	if (v == NULL)
		return true;
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d) || d < 0 || d > max)
		return false;
	*out = d;
	return true;
}

void arbor_resp_reset(struct arbor_http_response *resp)
{
	if (resp->ctx && resp->ctx_free)
		resp->ctx_free(resp->ctx);
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

void arbor_resp_text(struct arbor_http_response *resp, int status, const char *content_type, char *body,
		     size_t len)
{
	free(resp->body);
	resp->kind = ARBOR_HTTP_NOW;
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = len;
}

void arbor_resp_json(struct arbor_http_response *resp, int status, cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	size_t len = strlen(text);
	/* A trailing newline makes curl output readable; JSON parsers ignore it. */
	char *withnl = xrealloc(text, len + 2);
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	arbor_resp_text(resp, status, "application/json", withnl, len + 1);
}

void arbor_resp_error(struct arbor_http_response *resp, int status, const char *code, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	cJSON *doc = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(doc, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	arbor_resp_json(resp, status, doc);
}

void arbor_resp_defer(struct arbor_http_response *resp, arbor_http_poll_fn poll, void *ctx,
		      void (*ctx_free)(void *), double wait_s)
{
	resp->kind = ARBOR_HTTP_DEFERRED;
	resp->poll = poll;
	resp->ctx = ctx;
	resp->ctx_free = ctx_free;
	resp->wait_s = wait_s;
}

void arbor_resp_stream(struct arbor_http_response *resp, arbor_http_stream_fn stream, void *ctx,
		       void (*ctx_free)(void *))
{
	resp->kind = ARBOR_HTTP_STREAM;
	resp->status = 200;
	resp->content_type = "application/x-ndjson";
	resp->stream = stream;
	resp->ctx = ctx;
	resp->ctx_free = ctx_free;
}

bool arbor_path_valid(const char *path)
{
	if (path[0] != '/' || strlen(path) > 256)
		return false;
	const char *seg = path + 1;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (end && n == 0)
			return false; /* "//" */
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++) {
			char c = seg[i];
			if (!isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.')
				return false;
		}
		if (end == NULL)
			return true;
		seg = end + 1;
	}
}

bool arbor_path_match(const char *pattern, const char *path)
{
	for (;;) {
		const char *pe = strchr(pattern, '/'), *se = strchr(path, '/');
		size_t pn = pe ? (size_t)(pe - pattern) : strlen(pattern);
		size_t sn = se ? (size_t)(se - path) : strlen(path);
		bool wild = pn == 1 && pattern[0] == '*';
		if (!wild && (pn != sn || memcmp(pattern, path, pn) != 0))
			return false;
		if (wild && sn == 0)
			return false;
		if (pe == NULL || se == NULL)
			return pe == NULL && se == NULL;
		pattern = pe + 1;
		path = se + 1;
	}
}

bool arbor_path_segment(const char *path, size_t index, char *out, size_t outlen)
{
	const char *seg = path[0] == '/' ? path + 1 : path;
	for (size_t i = 0; i < index; i++) {
		seg = strchr(seg, '/');
		if (seg == NULL)
			return false;
		seg++;
	}
	const char *end = strchr(seg, '/');
	size_t n = end ? (size_t)(end - seg) : strlen(seg);
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, seg, n);
	out[n] = '\0';
	return true;
}

const struct arbor_route *arbor_router_dispatch(const struct arbor_route *routes, size_t nroutes, void *ctx,
						bool (*authorize)(void *ctx, const struct arbor_http_request *req,
								  const struct arbor_route *route,
								  struct arbor_http_response *resp),
						const struct arbor_http_request *req,
						struct arbor_http_response *resp)
{
	if (!arbor_path_valid(req->path)) {
		arbor_resp_error(resp, 400, "bad_path", "invalid request path");
		return NULL;
	}
	if (req->query.overflow) {
		arbor_resp_error(resp, 400, "bad_query", "too many query arguments");
		return NULL;
	}
	bool is_head = strcmp(req->method, "HEAD") == 0;
	const char *allowed[8];
	size_t nallowed = 0;
	for (size_t i = 0; i < nroutes; i++) {
		const struct arbor_route *r = &routes[i];
		if (!arbor_path_match(r->path, req->path))
			continue;
		bool get = strcmp(r->method, "GET") == 0;
		if (strcmp(r->method, req->method) == 0 || (get && is_head)) {
			if (r->command && authorize && !authorize(ctx, req, r, resp))
				return r;
			r->handler(ctx, req, resp);
			return r;
		}
		bool seen = false;
		for (size_t k = 0; k < nallowed; k++)
			seen |= strcmp(allowed[k], r->method) == 0;
		if (!seen && nallowed < 7) {
			allowed[nallowed++] = r->method;
			if (get)
				allowed[nallowed++] = "HEAD";
		}
	}
	if (nallowed == 0) {
		arbor_resp_error(resp, 404, "not_found", "no such resource: %s", req->path);
		return NULL;
	}
	size_t off = 0;
	for (size_t i = 0; i < nallowed && off < sizeof resp->allow; i++)
		off += (size_t)snprintf(resp->allow + off, sizeof resp->allow - off, "%s%s", i ? ", " : "",
					allowed[i]);
	arbor_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", req->method,
			 req->path, resp->allow);
	return NULL;
}
