/* HTTP/1.x response parser (see http_response.h). A small state machine: lines
 * (status line, headers, chunk sizes, trailers) are collected in p->line up to
 * their limit and handled whole; body bytes go straight to p->body. */
#include "http_response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum state {
	S_STATUS_LINE,
	S_HEADER,
	S_BODY_LENGTH,
	S_BODY_UNTIL_CLOSE,
	S_CHUNK_SIZE,
	S_CHUNK_DATA,
	S_CHUNK_DATA_END,
	S_TRAILER,
	S_DONE,
	S_ERROR,
};

static enum arbor_response_status fail(struct arbor_response_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum arbor_response_status fail(struct arbor_response_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof p->error, fmt, ap);
	va_end(ap);
	p->state = S_ERROR;
	return ARBOR_RESPONSE_ERROR;
}

static enum arbor_response_status fail_too_large(struct arbor_response_parser *p)
{
	p->body_too_large = true;
	return fail(p, "body larger than %zu bytes", p->max_body);
}

/* A short printable copy of untrusted bytes for error messages. */
static const char *excerpt(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0, i = 0;
	for (; i < n && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
	if (i < n)
		memcpy(out + o, "...", 4);
	return out;
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Field values and reason phrases: HTAB, SP, visible ASCII, obs-text. */
static bool is_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Calls item() for each element of a comma-separated list, trimmed; empty
 * elements are skipped (RFC 9110 section 5.6.1). Stops at the first false. */
static bool each_list_item(const char *s, size_t n,
			   bool (*item)(struct arbor_response_parser *p, const char *v, size_t len),
			   struct arbor_response_parser *p)
{
	size_t i = 0;
	while (i <= n) {
		size_t start = i;
		while (i < n && s[i] != ',')
			i++;
		size_t end = i;
		while (start < end && is_ows(s[start]))
			start++;
		while (end > start && is_ows(s[end - 1]))
			end--;
		if (end > start && !item(p, s + start, end - start))
			return false;
		i++;
	}
	return true;
}

static bool content_length_item(struct arbor_response_parser *p, const char *v, size_t len)
{
	char ex[48];
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			fail(p, "bad Content-Length \"%s\"", excerpt(ex, sizeof ex, v, len));
			return false;
		}
		if (n > (UINT64_MAX - 9) / 10) {
			fail(p, "Content-Length \"%s\" is too large", excerpt(ex, sizeof ex, v, len));
			return false;
		}
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (p->has_content_length && p->content_length != n) {
		fail(p, "conflicting Content-Length values");
		return false;
	}
	p->has_content_length = true;
	p->content_length = n;
	return true;
}

static bool transfer_coding_item(struct arbor_response_parser *p, const char *v, size_t len)
{
	char ex[48];
	if (len != 7 || strncasecmp(v, "chunked", 7) != 0) {
		fail(p, "unsupported transfer coding \"%s\"", excerpt(ex, sizeof ex, v, len));
		return false;
	}
	if (p->te_chunked_seen) {
		fail(p, "chunked applied twice");
		return false;
	}
	p->te_chunked_seen = true;
	return true;
}

static bool connection_item(struct arbor_response_parser *p, const char *v, size_t len)
{
	if (len == 5 && strncasecmp(v, "close", 5) == 0)
		p->connection_close = true;
	return true;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

static enum arbor_response_status parse_status_line(struct arbor_response_parser *p)
{
	const char *s = p->line.data;
	size_t n = p->line.len;
	char ex[48];
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return fail(p, "bad status line \"%s\"", excerpt(ex, sizeof ex, s, n));
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(p, "bad status code in \"%s\"", excerpt(ex, sizeof ex, s, n));
		status = status * 10 + (s[i] - '0');
	}
	if (status < 100 || status > 599)
		return fail(p, "status code %d out of range", status);
	if (n > 12 && s[12] != ' ')
		return fail(p, "bad status code in \"%s\"", excerpt(ex, sizeof ex, s, n));
	const char *reason = n > 12 ? s + 13 : s + n;
	size_t reason_len = n > 12 ? n - 13 : 0;
	if (!is_text(reason, reason_len))
		return fail(p, "control character in the reason phrase");
	p->minor_version = s[7] - '0';
	p->status = status;
	size_t keep = reason_len < sizeof p->reason ? reason_len : sizeof p->reason - 1;
	memcpy(p->reason, reason, keep);
	p->reason[keep] = '\0';
	/* Header facts belong to one head: an interim answer's do not carry over. */
	p->has_content_length = false;
	p->content_length = 0;
	p->te_chunked_seen = false;
	p->chunked = false;
	p->connection_close = false;
	return ARBOR_RESPONSE_NEED_MORE;
}

/* One "name: value" line; trailers share the syntax but not the meaning. */
static enum arbor_response_status parse_field(struct arbor_response_parser *p, bool trailer)
{
	const char *s = p->line.data;
	size_t n = p->line.len;
	char ex[48];
	if (is_ows(s[0]))
		return fail(p, "obsolete line folding in \"%s\"", excerpt(ex, sizeof ex, s, n));
	const char *colon = memchr(s, ':', n);
	if (colon == NULL)
		return fail(p, "%s line without ':' \"%s\"", trailer ? "trailer" : "header",
			    excerpt(ex, sizeof ex, s, n));
	size_t name_len = (size_t)(colon - s);
	if (name_len == 0)
		return fail(p, "empty %s name", trailer ? "trailer" : "header");
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(p, "bad %s name \"%s\"", trailer ? "trailer" : "header",
				    excerpt(ex, sizeof ex, s, name_len));
	const char *v = colon + 1;
	size_t vlen = n - name_len - 1;
	while (vlen > 0 && is_ows(v[0])) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_ows(v[vlen - 1]))
		vlen--;
	if (!is_text(v, vlen))
		return fail(p, "control character in %s \"%s\"", trailer ? "trailer" : "header",
			    excerpt(ex, sizeof ex, s, name_len));
	if (trailer)
		return ARBOR_RESPONSE_NEED_MORE;
	bool ok = true;
	if (name_is(s, name_len, "Content-Length")) {
		/* "42, 42" is one length; every copy, on this line or another, must agree. */
		bool had = p->has_content_length;
		uint64_t before = p->content_length;
		p->has_content_length = false;
		if (!each_list_item(v, vlen, content_length_item, p))
			return ARBOR_RESPONSE_ERROR;
		if (!p->has_content_length)
			return fail(p, "empty Content-Length");
		if (had && before != p->content_length)
			return fail(p, "conflicting Content-Length values");
	} else if (name_is(s, name_len, "Transfer-Encoding")) {
		if (!each_list_item(v, vlen, transfer_coding_item, p))
			return ARBOR_RESPONSE_ERROR;
		if (!p->te_chunked_seen)
			return fail(p, "empty Transfer-Encoding");
		p->chunked = true;
	} else if (name_is(s, name_len, "Connection")) {
		ok = each_list_item(v, vlen, connection_item, p);
	}
	return ok ? ARBOR_RESPONSE_NEED_MORE : ARBOR_RESPONSE_ERROR;
}

static enum arbor_response_status done(struct arbor_response_parser *p)
{
	p->state = S_DONE;
	return ARBOR_RESPONSE_DONE;
}

/* The empty line after the headers: decide how the body is framed. */
static enum arbor_response_status end_of_head(struct arbor_response_parser *p)
{
	if (p->status < 200) {
		if (p->status == 101)
			return fail(p, "unexpected 101 Switching Protocols");
		p->state = S_STATUS_LINE; /* interim: the real answer follows */
		return ARBOR_RESPONSE_NEED_MORE;
	}
	if (p->no_body || p->status == 204 || p->status == 304)
		return done(p);
	if (p->te_chunked_seen) {
		p->state = S_CHUNK_SIZE;
		return ARBOR_RESPONSE_NEED_MORE;
	}
	if (p->has_content_length) {
		if (p->content_length > p->max_body)
			return fail_too_large(p);
		if (p->content_length == 0)
			return done(p);
		p->left = p->content_length;
		p->state = S_BODY_LENGTH;
		return ARBOR_RESPONSE_NEED_MORE;
	}
	p->state = S_BODY_UNTIL_CLOSE;
	return ARBOR_RESPONSE_NEED_MORE;
}

static enum arbor_response_status parse_chunk_size(struct arbor_response_parser *p)
{
	const char *s = p->line.data;
	size_t n = p->line.len;
	char ex[48];
	uint64_t size = 0;
	size_t i = 0;
	for (; i < n && hexval(s[i]) >= 0; i++) {
		if (size > UINT64_MAX >> 4)
			return fail(p, "chunk size \"%s\" is too large", excerpt(ex, sizeof ex, s, n));
		size = size << 4 | (uint64_t)hexval(s[i]);
	}
	size_t digits = i;
	while (i < n && is_ows(s[i]))
		i++;
	if (digits == 0 || (i < n && s[i] != ';'))
		return fail(p, "bad chunk size \"%s\"", excerpt(ex, sizeof ex, s, n));
	if (!is_text(s + i, n - i))
		return fail(p, "control character in a chunk extension");
	if (size == 0) {
		p->state = S_TRAILER;
		return ARBOR_RESPONSE_NEED_MORE;
	}
	if (size > p->max_body - p->body.len)
		return fail_too_large(p);
	p->left = size;
	p->state = S_CHUNK_DATA;
	return ARBOR_RESPONSE_NEED_MORE;
}

enum line_result { LINE_READY, LINE_PARTIAL, LINE_TOO_LONG, LINE_NO_CR };

/* Moves the bytes of one line from data[*pos..len) into p->line, at most max of
 * them counting the CRLF. LINE_READY leaves the line, without CRLF and
 * NUL-terminated, in p->line; LINE_PARTIAL has used all the input. */
static enum line_result take_line(struct arbor_response_parser *p, const char *data, size_t len, size_t *pos,
				  size_t max)
{
	const char *start = data + *pos;
	const char *lf = memchr(start, '\n', len - *pos);
	size_t take = lf ? (size_t)(lf - start) + 1 : len - *pos;
	if (p->line.len + take > max)
		return LINE_TOO_LONG;
	arbor_buf_append(&p->line, start, take);
	*pos += take;
	if (lf == NULL)
		return LINE_PARTIAL;
	if (p->line.len < 2 || p->line.data[p->line.len - 2] != '\r')
		return LINE_NO_CR;
	p->line.len -= 2;
	p->line.data[p->line.len] = '\0';
	return LINE_READY;
}

static enum arbor_response_status head_line(struct arbor_response_parser *p, const char *data, size_t len, size_t *pos)
{
	size_t budget = ARBOR_RESPONSE_HEAD_MAX - p->head_bytes;
	enum line_result got = take_line(p, data, len, pos, budget);
	/* Say "not HTTP" at once rather than after 16 KiB or a timeout. */
	if (p->state == S_STATUS_LINE && (got == LINE_PARTIAL || got == LINE_READY)) {
		size_t n = p->line.len < 5 ? p->line.len : 5;
		if (memcmp(p->line.data, "HTTP/", n) != 0) {
			char ex[48];
			return fail(p, "not HTTP: the answer starts with \"%s\"",
				    excerpt(ex, sizeof ex, p->line.data, p->line.len < 16 ? p->line.len : 16));
		}
	}
	switch (got) {
	case LINE_PARTIAL:
		return ARBOR_RESPONSE_NEED_MORE;
	case LINE_TOO_LONG:
		return fail(p, "head larger than %d bytes", ARBOR_RESPONSE_HEAD_MAX);
	case LINE_NO_CR:
		return fail(p, "a line of the head does not end in CRLF");
	case LINE_READY:
		break;
	}
	p->head_bytes += p->line.len + 2;
	enum arbor_response_status st;
	if (p->state == S_STATUS_LINE) {
		st = parse_status_line(p);
		if (st == ARBOR_RESPONSE_NEED_MORE)
			p->state = S_HEADER;
	} else if (p->line.len == 0) {
		st = end_of_head(p);
	} else {
		st = parse_field(p, false);
	}
	p->line.len = 0;
	return st;
}

static enum arbor_response_status chunk_size_line(struct arbor_response_parser *p, const char *data, size_t len,
						  size_t *pos)
{
	switch (take_line(p, data, len, pos, ARBOR_RESPONSE_CHUNK_LINE_MAX)) {
	case LINE_PARTIAL:
		return ARBOR_RESPONSE_NEED_MORE;
	case LINE_TOO_LONG:
		return fail(p, "chunk size line longer than %d bytes", ARBOR_RESPONSE_CHUNK_LINE_MAX);
	case LINE_NO_CR:
		return fail(p, "chunk size line does not end in CRLF");
	case LINE_READY:
		break;
	}
	enum arbor_response_status st = parse_chunk_size(p);
	p->line.len = 0;
	return st;
}

static enum arbor_response_status trailer_line(struct arbor_response_parser *p, const char *data, size_t len,
					       size_t *pos)
{
	switch (take_line(p, data, len, pos, ARBOR_RESPONSE_TRAILERS_MAX - p->trailer_bytes)) {
	case LINE_PARTIAL:
		return ARBOR_RESPONSE_NEED_MORE;
	case LINE_TOO_LONG:
		return fail(p, "trailers larger than %d bytes", ARBOR_RESPONSE_TRAILERS_MAX);
	case LINE_NO_CR:
		return fail(p, "a trailer line does not end in CRLF");
	case LINE_READY:
		break;
	}
	p->trailer_bytes += p->line.len + 2;
	enum arbor_response_status st = p->line.len == 0 ? done(p) : parse_field(p, true);
	p->line.len = 0;
	return st;
}

/* Moves up to p->left body bytes. */
static void take_body(struct arbor_response_parser *p, const char *data, size_t len, size_t *pos)
{
	size_t n = len - *pos;
	if (n > p->left)
		n = (size_t)p->left;
	arbor_buf_append(&p->body, data + *pos, n);
	*pos += n;
	p->left -= n;
}

void arbor_response_parser_init(struct arbor_response_parser *p, size_t max_body, bool for_head_request)
{
	memset(p, 0, sizeof *p);
	p->max_body = max_body;
	p->no_body = for_head_request;
	p->state = S_STATUS_LINE;
	arbor_buf_reserve(&p->body, 0); /* body.data is a string even when empty */
	p->body.data[0] = '\0';
}

enum arbor_response_status arbor_response_parser_feed(struct arbor_response_parser *p, const void *data, size_t len,
						      size_t *consumed)
{
	const char *d = data;
	size_t pos = 0;
	enum arbor_response_status st = p->state == S_DONE    ? ARBOR_RESPONSE_DONE
					: p->state == S_ERROR ? ARBOR_RESPONSE_ERROR
							      : ARBOR_RESPONSE_NEED_MORE;
	while (st == ARBOR_RESPONSE_NEED_MORE && pos < len) {
		switch (p->state) {
		case S_STATUS_LINE:
		case S_HEADER:
			st = head_line(p, d, len, &pos);
			break;
		case S_BODY_LENGTH:
			take_body(p, d, len, &pos);
			if (p->left == 0)
				st = done(p);
			break;
		case S_BODY_UNTIL_CLOSE:
			if (len - pos > p->max_body - p->body.len) {
				st = fail_too_large(p);
				break;
			}
			arbor_buf_append(&p->body, d + pos, len - pos);
			pos = len;
			break;
		case S_CHUNK_SIZE:
			st = chunk_size_line(p, d, len, &pos);
			break;
		case S_CHUNK_DATA:
			take_body(p, d, len, &pos);
			if (p->left == 0) {
				p->crlf_seen = 0;
				p->state = S_CHUNK_DATA_END;
			}
			break;
		case S_CHUNK_DATA_END:
			if (d[pos] != (p->crlf_seen == 0 ? '\r' : '\n')) {
				st = fail(p, "chunk data not followed by CRLF");
				break;
			}
			pos++;
			if (++p->crlf_seen == 2)
				p->state = S_CHUNK_SIZE;
			break;
		case S_TRAILER:
			st = trailer_line(p, d, len, &pos);
			break;
		}
	}
	*consumed = pos;
	return st;
}

enum arbor_response_status arbor_response_parser_finish_on_eof(struct arbor_response_parser *p)
{
	switch (p->state) {
	case S_DONE:
		return ARBOR_RESPONSE_DONE;
	case S_ERROR:
		return ARBOR_RESPONSE_ERROR;
	case S_BODY_UNTIL_CLOSE:
		return done(p);
	case S_STATUS_LINE:
		if (p->head_bytes == 0 && p->line.len == 0)
			return fail(p, "connection closed before any answer");
		return fail(p, "connection closed inside the head");
	case S_HEADER:
		return fail(p, "connection closed inside the head");
	case S_BODY_LENGTH:
		return fail(p, "connection closed after %zu of %llu body bytes", p->body.len,
			    (unsigned long long)p->content_length);
	default:
		return fail(p, "connection closed inside the chunked body");
	}
}

bool arbor_response_parser_head_done(const struct arbor_response_parser *p)
{
	return p->state != S_STATUS_LINE && p->state != S_HEADER && p->state != S_ERROR;
}

void arbor_response_parser_body_consumed(struct arbor_response_parser *p)
{
	p->body.len = 0;
	p->body.data[0] = '\0';
}

void arbor_response_parser_free(struct arbor_response_parser *p)
{
	arbor_buf_free(&p->body);
	arbor_buf_free(&p->line);
}
