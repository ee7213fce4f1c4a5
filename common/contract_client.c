/* Contract client over libcurl. Connection failures are classified here so
 * every caller can tell "no daemon there" from "not allowed" from "stale". */
#include "contract_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct arbor_buf *b = ctx;
	arbor_buf_append(b, ptr, size * nmemb);
	return size * nmemb;
}

/* Explains why the socket cannot be used, before curl says something vaguer. */
static int probe_socket(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == EACCES) {
			snprintf(err, errlen, "%s: permission denied (needs root, the read group arbor or the admin group)", path);
			return ARBOR_CLIENT_DENIED;
		}
		snprintf(err, errlen, "%s: no such socket (is the daemon running? check --runtime-dir)", path);
		return ARBOR_CLIENT_NO_SOCKET;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int rc = fd >= 0 ? connect(fd, (struct sockaddr *)&sa, sizeof sa) : -1;
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return 0;
	if (e == EACCES || e == EPERM) {
		snprintf(err, errlen, "%s: permission denied (needs root, the read group arbor or the admin group)", path);
		return ARBOR_CLIENT_DENIED;
	}
	if (e == ECONNREFUSED) {
		snprintf(err, errlen, "%s: nobody is listening (stale socket: the daemon is not running)", path);
		return ARBOR_CLIENT_REFUSED;
	}
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	return ARBOR_CLIENT_FAILED;
}

static CURL *prepare(const char *socket_path, const char *path, char *url, size_t urllen)
{
	static int initialized;
	if (!initialized) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialized = 1;
	}
	CURL *c = curl_easy_init();
	if (c == NULL)
		return NULL;
	snprintf(url, urllen, "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

int arbor_client_request(const char *socket_path, const char *method, const char *path, const char *body,
			 double timeout_s, struct arbor_client_response *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int rc = probe_socket(socket_path, err, errlen);
	if (rc != 0)
		return rc;
	char url[1024];
	CURL *c = prepare(socket_path, path, url, sizeof url);
	if (c == NULL) {
		snprintf(err, errlen, "cannot initialize libcurl");
		return ARBOR_CLIENT_FAILED;
	}
	struct arbor_buf b = { 0 };
	struct curl_slist *headers = NULL;
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0 || body != NULL) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (timeout_s > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", socket_path, curl_easy_strerror(cc));
		arbor_buf_free(&b);
		rc = ARBOR_CLIENT_FAILED;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		arbor_buf_reserve(&b, 0);
		out->body = arbor_buf_steal(&b, &out->len);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return rc;
}

struct line_state {
	struct arbor_buf partial;
	int (*line)(void *ctx, const char *text, size_t len);
	void *ctx;
	int stopped;
};

static size_t split_lines(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct line_state *s = arg;
	arbor_buf_append(&s->partial, ptr, size * nmemb);
	char *start = s->partial.data;
	char *nl;
	while ((nl = memchr(start, '\n', s->partial.len - (size_t)(start - s->partial.data))) != NULL) {
		if (s->line(s->ctx, start, (size_t)(nl - start)) != 0) {
			s->stopped = 1;
			return 0; /* makes curl stop */
		}
		start = nl + 1;
	}
	size_t rest = s->partial.len - (size_t)(start - s->partial.data);
	memmove(s->partial.data, start, rest);
	s->partial.len = rest;
	return size * nmemb;
}

int arbor_client_stream(const char *socket_path, const char *path, int (*line)(void *ctx, const char *text, size_t len),
			void *ctx, char *err, size_t errlen)
{
	int rc = probe_socket(socket_path, err, errlen);
	if (rc != 0)
		return rc;
	char url[1024];
	CURL *c = prepare(socket_path, path, url, sizeof url);
	if (c == NULL) {
		snprintf(err, errlen, "cannot initialize libcurl");
		return ARBOR_CLIENT_FAILED;
	}
	struct line_state s = { .line = line, .ctx = ctx };
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, split_lines);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK && !s.stopped) {
		snprintf(err, errlen, "%s: %s", socket_path, curl_easy_strerror(cc));
		rc = ARBOR_CLIENT_FAILED;
	}
	arbor_buf_free(&s.partial);
	curl_easy_cleanup(c);
	return rc;
}

void arbor_client_response_free(struct arbor_client_response *r)
{
	free(r->body);
	r->body = NULL;
}
