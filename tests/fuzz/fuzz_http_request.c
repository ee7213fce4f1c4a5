/* libFuzzer harness for the request path behind the socket: the percent-decoder
 * the server hands libmicrohttpd (arbor_url_unescape, for the path and each
 * query key and value, after libmicrohttpd's own splitting: arbor_query_parse),
 * path checks, routing, authorization, the common handlers (status, healthz,
 * events with since/type/limit/wait/follow, metrics, reload, renew, stop) and
 * JSON command bodies, on a detached daemon (no socket, no loop).
 * Input: byte 0 picks method and peer; then "PATH\nQUERY\nBODY", raw as they
 * come off the request line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "xalloc.h"
#include "fuzz_check.h"

static struct arbor_daemon *daemon_under_test;

static void cmd_echo(struct arbor_daemon *d, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	cJSON_Delete(body);
	arbor_command_answer(resp, "echo", true, 200, "ok");
}

static const struct arbor_command commands[] = { { "echo", cmd_echo } };

static const struct arbor_daemon_def def = {
	.name = "fixture",
	.binary = "fuzz",
	.summary = "fuzz",
	.commands = commands,
	.ncommands = 1,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("http");
	char path[128];
	snprintf(path, sizeof path, "%s/arbor.json", dir);
	FILE *f = fopen(path, "w");
	/* uid 65534 (the second peer) holds a grant of echo: the grant path too. */
	fputs("{\"machine\": {\"name\": \"fuzz\"}, \"control\": {\"grants\": [{\"user\": \"nobody\", "
	      "\"daemons\": [\"fixture\"], \"commands\": [\"echo\"]}]}}",
	      f);
	fclose(f);
	char err[512];
	daemon_under_test = arbor_daemon_create_detached(&def, path, dir, err, sizeof err);
	if (daemon_under_test == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT" };
	if (size < 1)
		return 0;
	struct arbor_http_request req = { .method = methods[data[0] & 3] };
	req.peer.known = true;
	req.peer.uid = (data[0] & 4) ? 65534 : 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	const char *nl1 = memchr(p, '\n', (size_t)(end - p));
	const char *path_end = nl1 ? nl1 : end;
	char *path = xstrndup(p, (size_t)(path_end - p));
	if (memchr(p, '\0', (size_t)(path_end - p)) != NULL) {
		free(path);
		return 0; /* MHD hands us C strings: no NUL inside */
	}
	const char *q = nl1 ? nl1 + 1 : end;
	const char *nl2 = q < end ? memchr(q, '\n', (size_t)(end - q)) : NULL;
	const char *q_end = nl2 ? nl2 : end;
	const char *body = nl2 ? nl2 + 1 : end;
	size_t path_len = strlen(path), decoded = arbor_url_unescape(path);
	if (decoded > path_len || strlen(path) != decoded)
		abort(); /* decoding never lengthens, and never makes a NUL */
	req.path = path;
	struct arbor_http_response resp = { 0 };
	arbor_query_parse(&req.query, q, (size_t)(q_end - q)); /* too many: the router refuses them */
	req.body = body;
	req.body_len = (size_t)(end - body);
	arbor_daemon_dispatch(daemon_under_test, &req, &resp);
	if (resp.kind == ARBOR_HTTP_DEFERRED) {
		resp.poll(resp.ctx, &resp, false);
		resp.poll(resp.ctx, &resp, true);
	} else if (resp.kind == ARBOR_HTTP_STREAM) {
		char buf[300];
		for (int i = 0; i < 4 && resp.stream(resp.ctx, buf, sizeof buf) > 0; i++)
			;
	}
	if (resp.status < 100 || resp.status > 599)
		abort(); /* every request gets a real status */
	arbor_resp_reset(&resp);
	arbor_query_free(&req.query);
	free(path);
	return 0;
}
