/* The response parser alone (every case also fed one byte at a time and split
 * at every byte boundary: all must agree), then the fetcher against tiny
 * servers running in the same libevent loop: a Unix socket and TCP on
 * 127.0.0.1 (and ::1 when there is one). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "http_fetch.h"
#include "http_response.h"
#include "tap.h"

/* ---- the parser ---- */

struct parse_case {
	const char *name;
	const char *in;
	size_t max; /* 0: 1 MiB */
	bool head;  /* the request was HEAD */
	bool eof;   /* the connection closes after the input */
	bool ok;    /* DONE, or else ERROR */
	int status;
	const char *body;
	size_t leftover; /* bytes after the answer, left unconsumed */
	bool too_large;
	const char *error; /* a part of the message */
};

struct parse_outcome {
	enum arbor_response_status st;
	int status;
	struct arbor_buf body;
	size_t consumed;
	bool too_large;
	bool consumed_all_while_needing_more;
	char error[160];
};

/* Feeds in[0..len) in pieces: cut at `split` (0: none) or, with bytewise, one
 * byte at a time; stops feeding once DONE or ERROR. */
static void parse(const struct parse_case *c, const char *in, size_t len, size_t split, bool bytewise,
		  struct parse_outcome *o)
{
	struct arbor_response_parser p;
	arbor_response_parser_init(&p, c->max ? c->max : 1 << 20, c->head);
	memset(o, 0, sizeof *o);
	o->consumed_all_while_needing_more = true;
	enum arbor_response_status st = ARBOR_RESPONSE_NEED_MORE;
	size_t pos = 0;
	while (pos < len && st == ARBOR_RESPONSE_NEED_MORE) {
		size_t n = bytewise ? 1 : split > pos ? split - pos : len - pos;
		size_t used = 0;
		st = arbor_response_parser_feed(&p, in + pos, n, &used);
		if (used > n || (st == ARBOR_RESPONSE_NEED_MORE && used != n))
			o->consumed_all_while_needing_more = false;
		pos += used;
	}
	if (c->eof)
		st = arbor_response_parser_finish_on_eof(&p);
	o->st = st;
	o->status = p.status;
	o->consumed = pos;
	o->too_large = p.body_too_large;
	snprintf(o->error, sizeof o->error, "%s", p.error);
	if (st == ARBOR_RESPONSE_DONE)
		arbor_buf_append(&o->body, p.body.data, p.body.len);
	arbor_response_parser_free(&p);
}

static bool same(const struct parse_outcome *a, const struct parse_outcome *b)
{
	/* Where an ERROR is noticed may depend on the pieces; what is used of a DONE answer may not. */
	bool consumed_same = a->st != ARBOR_RESPONSE_DONE || a->consumed == b->consumed;
	return a->st == b->st && a->status == b->status && consumed_same && a->too_large == b->too_large &&
	       a->body.len == b->body.len &&
	       (a->body.len == 0 || memcmp(a->body.data, b->body.data, a->body.len) == 0) &&
	       b->consumed_all_while_needing_more;
}

static void check_parse_case(const struct parse_case *c, const char *in, size_t len)
{
	char what[200];
	struct parse_outcome whole, other;
	parse(c, in, len, 0, false, &whole);
	bool ok = whole.consumed_all_while_needing_more;
	if (c->ok) {
		ok = ok && whole.st == ARBOR_RESPONSE_DONE && whole.status == c->status &&
		     whole.body.len == strlen(c->body) &&
		     memcmp(whole.body.data ? whole.body.data : "", c->body, whole.body.len) == 0 &&
		     whole.consumed == len - c->leftover;
	} else {
		ok = ok && whole.st == ARBOR_RESPONSE_ERROR && whole.too_large == c->too_large &&
		     (c->error == NULL || strstr(whole.error, c->error) != NULL);
	}
	snprintf(what, sizeof what, "parser: %s%s%s", c->name, ok ? "" : " -- got: ", ok ? "" : whole.error);
	CHECK(ok, what);

	parse(c, in, len, 0, true, &other);
	snprintf(what, sizeof what, "parser: %s, one byte at a time, is the same", c->name);
	CHECK(same(&whole, &other), what);
	arbor_buf_free(&other.body);

	bool all_same = true;
	size_t step = len < 4096 ? 1 : len / 97;
	for (size_t cut = 1; cut < len && all_same; cut += step) {
		parse(c, in, len, cut, false, &other);
		all_same = same(&whole, &other);
		arbor_buf_free(&other.body);
	}
	snprintf(what, sizeof what, "parser: %s, split at every byte boundary, is the same", c->name);
	CHECK(all_same, what);
	arbor_buf_free(&whole.body);
}

static const struct parse_case parse_cases[] = {
	{ .name = "Content-Length body",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
	  .ok = true,
	  .status = 200,
	  .body = "hello" },
	{ .name = "chunked with extensions and trailers",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n6 ; x ;y=1\r\n world\r\n"
		"A\r\n0123456789\r\n0;last\r\nX-Trailer: yes\r\nX-Other:\r\n\r\n",
	  .ok = true,
	  .status = 200,
	  .body = "hello world0123456789" },
	{ .name = "chunked without trailers",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	  .ok = true,
	  .status = 200,
	  .body = "abc" },
	{ .name = "close-delimited body",
	  .in = "HTTP/1.0 200 OK\r\n\r\nuntil the end",
	  .eof = true,
	  .ok = true,
	  .status = 200,
	  .body = "until the end" },
	{ .name = "close-delimited empty body",
	  .in = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
	  .eof = true,
	  .ok = true,
	  .status = 200,
	  .body = "" },
	{ .name = "interim 100 and 103 skipped",
	  .in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\nContent-Length: 99\r\n\r\n"
		"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
	  .ok = true,
	  .status = 201,
	  .body = "ok" },
	{ .name = "204 has no body",
	  .in = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
	  .ok = true,
	  .status = 204,
	  .body = "" },
	{ .name = "304 has no body",
	  .in = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
	  .ok = true,
	  .status = 304,
	  .body = "" },
	{ .name = "answer to HEAD has no body",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
	  .head = true,
	  .ok = true,
	  .status = 200,
	  .body = "" },
	{ .name = "header names are case-insensitive",
	  .in = "HTTP/1.1 200 OK\r\ntransfer-ENCODING:   Chunked  \r\n\r\n1\r\nx\r\n0\r\n\r\n",
	  .ok = true,
	  .status = 200,
	  .body = "x" },
	{ .name = "repeated equal Content-Length",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length:3\r\n\r\nabc",
	  .ok = true,
	  .status = 200,
	  .body = "abc" },
	{ .name = "Transfer-Encoding wins over Content-Length",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
	  .ok = true,
	  .status = 200,
	  .body = "hi" },
	{ .name = "no reason phrase",
	  .in = "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
	  .ok = true,
	  .status = 404,
	  .body = "" },
	{ .name = "500 with body",
	  .in = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
	  .ok = true,
	  .status = 500,
	  .body = "oops" },
	{ .name = "obs-text in reason and values",
	  .in = "HTTP/1.1 200 \xc3\xa7"
		"a va\r\nX: \xff\tok\r\nContent-Length: 0\r\n\r\n",
	  .ok = true,
	  .status = 200,
	  .body = "" },
	{ .name = "bytes after the answer are left alone",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
	  .ok = true,
	  .status = 200,
	  .body = "ok",
	  .leftover = 5 },
	{ .name = "bytes after a chunked answer are left alone",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1",
	  .ok = true,
	  .status = 200,
	  .body = "",
	  .leftover = 8 },
	{ .name = "body exactly at max",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345",
	  .max = 5,
	  .ok = true,
	  .status = 200,
	  .body = "12345" },

	{ .name = "negative Content-Length",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	  .error = "Content-Length" },
	{ .name = "signed Content-Length",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
	  .error = "Content-Length" },
	{ .name = "overflowing Content-Length",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	  .error = "too large" },
	{ .name = "Content-Length with junk",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx",
	  .error = "Content-Length" },
	{ .name = "empty Content-Length", .in = "HTTP/1.1 200 OK\r\nContent-Length: , \r\n\r\n", .error = "empty" },
	{ .name = "conflicting Content-Length in one line",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
	  .error = "conflicting" },
	{ .name = "conflicting Content-Length lines",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	  .error = "conflicting" },
	{ .name = "bad chunk size",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	  .error = "bad chunk size" },
	{ .name = "empty chunk size",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
	  .error = "bad chunk size" },
	{ .name = "negative chunk size",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
	  .error = "bad chunk size" },
	{ .name = "chunk size with junk",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n",
	  .error = "bad chunk size" },
	{ .name = "overflowing chunk size",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
	  .error = "too large" },
	{ .name = "chunk data without CRLF",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
	  .error = "CRLF" },
	{ .name = "chunk data with bare LF",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
	  .error = "CRLF" },
	{ .name = "chunk size line with bare LF",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n",
	  .error = "CRLF" },
	{ .name = "head with bare LF", .in = "HTTP/1.1 200 OK\nContent-Length: 0\n\n", .error = "CRLF" },
	{ .name = "header with bare CR",
	  .in = "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
	  .error = "control character" },
	{ .name = "obsolete line folding",
	  .in = "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	  .error = "folding" },
	{ .name = "space before the colon",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
	  .error = "header name" },
	{ .name = "header without colon", .in = "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", .error = "without ':'" },
	{ .name = "NUL in a header", .in = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", .error = "control character" },
	{ .name = "not HTTP", .in = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", .error = "not HTTP" },
	{ .name = "HTTP/2 status line", .in = "HTTP/2 200\r\n\r\n", .error = "bad status line" },
	{ .name = "status 99", .in = "HTTP/1.1 099 Low\r\n\r\n", .error = "out of range" },
	{ .name = "status 600", .in = "HTTP/1.1 600 High\r\n\r\n", .error = "out of range" },
	{ .name = "status with letters", .in = "HTTP/1.1 2x0 OK\r\n\r\n", .error = "status code" },
	{ .name = "status too long", .in = "HTTP/1.1 2000 OK\r\n\r\n", .error = "status code" },
	{ .name = "gzip transfer coding",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	  .error = "unsupported transfer coding" },
	{ .name = "chunked twice",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  .error = "twice" },
	{ .name = "101 Switching Protocols",
	  .in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
	  .error = "101" },
	{ .name = "Content-Length over max",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n123456",
	  .max = 5,
	  .too_large = true,
	  .error = "larger than 5 bytes" },
	{ .name = "chunked body over max",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n123\r\n3\r\n456\r\n0\r\n\r\n",
	  .max = 5,
	  .too_large = true,
	  .error = "larger than 5 bytes" },
	{ .name = "close-delimited body over max",
	  .in = "HTTP/1.1 200 OK\r\n\r\n123456",
	  .max = 5,
	  .eof = true,
	  .too_large = true,
	  .error = "larger than 5 bytes" },
	{ .name = "trailer without colon",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbroken\r\n\r\n",
	  .error = "trailer" },
	{ .name = "closed before any answer", .in = "", .eof = true, .error = "before any answer" },
	{ .name = "closed inside the head",
	  .in = "HTTP/1.1 200 OK\r\nContent-",
	  .eof = true,
	  .error = "inside the head" },
	{ .name = "closed inside a Content-Length body",
	  .in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123",
	  .eof = true,
	  .error = "after 3 of 10 body bytes" },
	{ .name = "closed inside a chunked body",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	  .eof = true,
	  .error = "chunked body" },
	{ .name = "closed before the last chunk",
	  .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
	  .eof = true,
	  .error = "chunked body" },
};

static void check_parser(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = strlen(c->in);
		if (strcmp(c->name, "NUL in a header") == 0)
			len = sizeof "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n" - 1;
		check_parse_case(c, c->in, len);
	}

	/* A body holding NULs comes through whole. */
	static const char nul_body[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b";
	struct parse_case c = { .name = "body with NULs inside", .ok = true, .status = 200 };
	struct parse_outcome o;
	parse(&c, nul_body, sizeof nul_body - 1, 0, false, &o);
	CHECK(o.st == ARBOR_RESPONSE_DONE && o.body.len == 3 && memcmp(o.body.data, "a\0b", 3) == 0,
	      "parser: body with NULs inside");
	arbor_buf_free(&o.body);

	/* A stream read as it comes: the head is known done before any body byte,
	 * and a body drained after each feed stays within max_body however long
	 * the stream runs (the benchmarks' followers read event streams so). */
	{
		struct arbor_response_parser sp;
		arbor_response_parser_init(&sp, 16, false);
		static const char head[] = "HTTP/1.1 100 Continue\r\n\r\n"
					   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
		size_t n;
		enum arbor_response_status rs = arbor_response_parser_feed(&sp, head, 25, &n);
		bool interim_not_done = rs == ARBOR_RESPONSE_NEED_MORE && !arbor_response_parser_head_done(&sp);
		rs = arbor_response_parser_feed(&sp, head + 25, sizeof head - 1 - 25, &n);
		bool head_done = rs == ARBOR_RESPONSE_NEED_MORE && arbor_response_parser_head_done(&sp) && sp.body.len == 0;
		size_t streamed = 0;
		for (int i = 0; i < 100 && rs == ARBOR_RESPONSE_NEED_MORE; i++) {
			rs = arbor_response_parser_feed(&sp, "a\r\n{\"seq\":1}\n\r\n", 15, &n);
			streamed += sp.body.len;
			arbor_response_parser_body_consumed(&sp);
		}
		CHECK(interim_not_done && head_done && rs == ARBOR_RESPONSE_NEED_MORE && streamed == 1000 &&
			      sp.body.len == 0,
		      "parser: a stream drained after each feed runs past max_body");
		arbor_response_parser_free(&sp);
	}

	/* Limits, with inputs too large to write out. */
	struct arbor_buf big = { 0 };
	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\nX-Big: ");
	for (int i = 0; i < ARBOR_RESPONSE_HEAD_MAX; i++)
		arbor_buf_puts(&big, "a");
	arbor_buf_puts(&big, "\r\nContent-Length: 0\r\n\r\n");
	struct parse_case head_limit = { .name = "head over 16 KiB", .error = "head larger than 16384 bytes" };
	check_parse_case(&head_limit, big.data, big.len);
	arbor_buf_free(&big);

	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\nX-Fill: ");
	while (big.len < ARBOR_RESPONSE_HEAD_MAX - 23)
		arbor_buf_puts(&big, "b");
	arbor_buf_puts(&big, "\r\nContent-Length: 0\r\n\r\n");
	struct parse_case head_exact = { .name = "head of exactly 16 KiB", .ok = true, .status = 200, .body = "" };
	CHECK(big.len == ARBOR_RESPONSE_HEAD_MAX, "the exact-size head is 16384 bytes");
	check_parse_case(&head_exact, big.data, big.len);
	arbor_buf_free(&big);

	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
	for (int i = 0; i < ARBOR_RESPONSE_CHUNK_LINE_MAX; i++)
		arbor_buf_puts(&big, "e");
	arbor_buf_puts(&big, "\r\nx\r\n0\r\n\r\n");
	struct parse_case ext_limit = { .name = "chunk size line over 4 KiB", .error = "chunk size line longer" };
	check_parse_case(&ext_limit, big.data, big.len);
	arbor_buf_free(&big);

	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
	for (int i = 0; i < 2000; i++)
		arbor_buf_puts(&big, "X-Trailer: 12345\r\n");
	arbor_buf_puts(&big, "\r\n");
	struct parse_case trailer_limit = { .name = "trailers over 16 KiB", .error = "trailers larger" };
	check_parse_case(&trailer_limit, big.data, big.len);
	arbor_buf_free(&big);

	/* DONE and ERROR are final: more input is not looked at. */
	struct arbor_response_parser p;
	size_t used = 99;
	arbor_response_parser_init(&p, 100, false);
	const char *answer = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive, Close\r\n\r\nx";
	enum arbor_response_status st = arbor_response_parser_feed(&p, answer, strlen(answer), &used);
	CHECK(st == ARBOR_RESPONSE_DONE && used == strlen(answer) && p.connection_close && p.has_content_length &&
		      p.minor_version == 1 && strcmp(p.reason, "OK") == 0,
	      "parser: DONE, with Connection: close, version and reason noted");
	st = arbor_response_parser_feed(&p, "more", 4, &used);
	CHECK(st == ARBOR_RESPONSE_DONE && used == 0, "parser: after DONE nothing more is consumed");
	CHECK(arbor_response_parser_finish_on_eof(&p) == ARBOR_RESPONSE_DONE, "parser: EOF after DONE stays DONE");
	arbor_response_parser_free(&p);
	arbor_response_parser_init(&p, 100, false);
	st = arbor_response_parser_feed(&p, "junk", 4, &used);
	CHECK(st == ARBOR_RESPONSE_ERROR && strstr(p.error, "not HTTP") != NULL,
	      "parser: garbage is refused at once, before a line end");
	st = arbor_response_parser_feed(&p, "HTTP/1.1 200 OK\r\n", 17, &used);
	CHECK(st == ARBOR_RESPONSE_ERROR && used == 0, "parser: after ERROR nothing more is consumed");
	arbor_response_parser_free(&p);
	arbor_response_parser_init(&p, 0, false);
	st = arbor_response_parser_feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, &used);
	CHECK(st == ARBOR_RESPONSE_DONE && p.body.len == 0 && p.body.data && p.body.data[0] == '\0',
	      "parser: max_body 0 takes an empty body, NUL-terminated");
	arbor_response_parser_free(&p);
}

/* ---- tiny servers in the loop ---- */

static struct event_base *base;

struct server;

struct conn {
	struct server *srv;
	int fd;
	struct event *ev;    /* reading the request, then writing the answer */
	struct event *pause; /* between the two halves of a split answer */
	struct arbor_buf in, out;
	size_t sent, limit;
	bool answering;
	struct conn *next;
};

struct server {
	int fd;
	struct event *accept_ev;
	const char *answer; /* NULL: accept, read, never answer */
	size_t answer_len;
	bool echo_path;	 /* answer 200 with the request path as the body */
	size_t split_at; /* > 0: send that much, pause, send the rest */
	int pause_ms;	 /* 0: 20 */
	bool early;	 /* answer once the head is in, without reading the body */
	bool reset;	 /* end with a reset (SO_LINGER 0) instead of a close */
	int accepted;
	int open;
	struct arbor_buf last_request;
	struct conn *conns;
};

static void conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	event_free(c->ev);
	event_free(c->pause);
	close(c->fd);
	c->fd = -1;
	c->srv->open--;
	arbor_buf_free(&c->in);
	arbor_buf_free(&c->out);
}

static void conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	while (c->sent < c->limit) {
		ssize_t n = send(fd, c->out.data + c->sent, c->limit - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(c); /* the client went away (it had enough) */
			return;
		}
		c->sent += (size_t)n;
	}
	if (c->sent < c->out.len) {
		event_del(c->ev);
		int ms = c->srv->pause_ms ? c->srv->pause_ms : 20;
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		evtimer_add(c->pause, &tv);
		return;
	}
	if (c->srv->reset) {
		struct linger now = { 1, 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
	}
	conn_close(c);
}

static void conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	c->limit = c->out.len;
	event_add(c->ev, NULL);
}

/* The request is complete once the head and Content-Length bytes are in. */
static bool request_complete(const struct arbor_buf *in, bool head_only)
{
	const char *end = in->len ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
	if (end == NULL)
		return false;
	size_t head = (size_t)(end - in->data) + 4;
	const char *cl = strcasestr(in->data, "\r\nContent-Length:");
	size_t body = cl && cl < end && !head_only ? strtoul(cl + 17, NULL, 10) : 0;
	return in->len >= head + body;
}

static void conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (c->answering)
		return;
	arbor_buf_append(&c->in, buf, (size_t)n);
	if (!request_complete(&c->in, c->srv->early) || c->srv->answer == NULL)
		return;
	c->answering = true;
	struct server *s = c->srv;
	arbor_buf_free(&s->last_request);
	arbor_buf_append(&s->last_request, c->in.data, c->in.len);
	if (s->echo_path) {
		const char *sp1 = strchr(c->in.data, ' ');
		const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		int plen = sp2 ? (int)(sp2 - sp1 - 1) : 0;
		arbor_buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%.*s", plen, plen, sp1 + 1);
	} else {
		arbor_buf_append(&c->out, s->answer, s->answer_len);
	}
	c->limit = s->split_at && s->split_at < c->out.len ? s->split_at : c->out.len;
	event_free(c->ev);
	c->ev = event_new(base, c->fd, EV_WRITE | EV_PERSIST, conn_write, c);
	event_add(c->ev, NULL);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		struct conn *c = calloc(1, sizeof *c);
		c->srv = s;
		c->fd = cfd;
		c->ev = event_new(base, cfd, EV_READ | EV_PERSIST, conn_read, c);
		c->pause = evtimer_new(base, conn_resume, c);
		event_add(c->ev, NULL);
		c->next = s->conns;
		s->conns = c;
		s->accepted++;
		s->open++;
	}
}

static void server_answer(struct server *s, const char *answer)
{
	s->answer = answer;
	s->answer_len = answer ? strlen(answer) : 0;
	s->echo_path = false;
	s->split_at = 0;
	s->pause_ms = 0;
	s->early = false;
	s->reset = false;
}

static void server_start(struct server *s, int fd, bool accepting)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	if (accepting) {
		s->accept_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, s);
		event_add(s->accept_ev, NULL);
	}
}

/* Hangs up on every client still connected. */
static void server_drop_clients(struct server *s)
{
	for (struct conn *c = s->conns; c; c = c->next)
		conn_close(c);
}

static void server_stop(struct server *s)
{
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		conn_close(c);
		free(c);
	}
	if (s->accept_ev)
		event_free(s->accept_ev);
	close(s->fd);
	arbor_buf_free(&s->last_request);
}

static void fill_sun(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		fprintf(stderr, "%s: too long for a Unix socket\n", path);
		exit(1);
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

static int unix_listener(const char *path, int backlog)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	fill_sun(&sa, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

/* A TCP socket on the loopback with an ephemeral port, listening or not. */
static int tcp_socket(int family, bool listening, struct sockaddr_storage *addr, socklen_t *len)
{
	memset(addr, 0, sizeof *addr);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)addr;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof *sin6;
	}
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, *len) != 0 || (listening && listen(fd, SOMAXCONN) != 0) ||
	    getsockname(fd, (struct sockaddr *)addr, len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* ---- running fetches ---- */

struct outcome {
	int calls;
	struct arbor_fetch_result res;
	struct arbor_buf body;
	char error[256];
};

static int pending;
static bool safety_fired;

static void on_done(void *ctx, const struct arbor_fetch_result *res)
{
	struct outcome *o = ctx;
	o->calls++;
	o->res = *res;
	arbor_buf_append(&o->body, res->body, res->body_len);
	snprintf(o->error, sizeof o->error, "%s", res->error);
	o->res.body = NULL;
	o->res.error = o->error;
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void on_safety(evutil_socket_t fd, short what, void *arg)
{
	safety_fired = true;
	event_base_loopbreak(base);
}

/* Runs the loop until every pending fetch is done (or 10 s, a failure). */
static void run(void)
{
	struct event *safety = evtimer_new(base, on_safety, NULL);
	struct timeval tv = { 10, 0 };
	evtimer_add(safety, &tv);
	event_base_dispatch(base);
	event_free(safety);
}

static void run_for(double seconds)
{
	struct timeval tv = { (time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void outcome_reset(struct outcome *o)
{
	arbor_buf_free(&o->body);
	memset(o, 0, sizeof *o);
}

static void fetch(const struct arbor_fetch_request *req, struct outcome *o)
{
	outcome_reset(o);
	pending = 1;
	arbor_fetch_start(base, req, on_done, o);
	CHECK(o->calls == 0, "done is not called from inside arbor_fetch_start");
	run();
}

static bool body_is(const struct outcome *o, const char *want)
{
	return o->body.len == strlen(want) && memcmp(o->body.data ? o->body.data : "", want, o->body.len) == 0;
}

static bool has(const char *haystack, const char *needle)
{
	return haystack && strstr(haystack, needle) != NULL;
}

/* A fetch started from another's done. */
static struct arbor_fetch_request chained_req;
static struct outcome chained;

static void on_done_then_fetch(void *ctx, const struct arbor_fetch_result *res)
{
	pending++; /* before on_done, which stops the loop at zero */
	on_done(ctx, res);
	arbor_fetch_start(base, &chained_req, on_done, &chained);
}

/* Cancels a fetch from a timer. */
static struct arbor_fetch *to_cancel;

static void on_cancel_timer(evutil_socket_t fd, short what, void *arg)
{
	arbor_fetch_cancel(to_cancel);
	to_cancel = NULL;
}

static void check_fetch(void)
{
	base = event_base_new();
	const char *dir = tap_tmpdir();
	char sock_path[256], missing_path[256], stale_path[256], busy_path[256];
	snprintf(sock_path, sizeof sock_path, "%s/test.sock", dir);
	snprintf(missing_path, sizeof missing_path, "%s/dhcp4d.sock", dir);
	snprintf(stale_path, sizeof stale_path, "%s/stale.sock", dir);
	snprintf(busy_path, sizeof busy_path, "%s/busy.sock", dir);

	struct server us, ts; /* Unix, TCP */
	server_start(&us, unix_listener(sock_path, 16), true);
	struct sockaddr_storage tcp_addr;
	socklen_t tcp_len;
	int tfd = tcp_socket(AF_INET, true, &tcp_addr, &tcp_len);
	if (tfd < 0) {
		perror("tcp listener");
		exit(1);
	}
	server_start(&ts, tfd, true);

	struct arbor_fetch_request ureq = { .unix_path = sock_path, .path = "/v1/healthz", .timeout_s = 5 };
	struct arbor_fetch_request treq = { .addr = tcp_addr, .addr_len = tcp_len, .path = "/", .timeout_s = 5 };
	struct outcome o = { 0 };

	/* Content-Length over the Unix socket: the contract's GET /v1/healthz. */
	server_answer(
		&us,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"health\":\"ok\"}\n");
	fetch(&ureq, &o);
	CHECK(o.calls == 1 && o.res.ok && o.res.failure == ARBOR_FETCH_OK && o.res.status == 200 &&
		      body_is(&o, "{\"health\":\"ok\"}\n") && o.error[0] == '\0',
	      "unix: Content-Length body");
	CHECK(o.res.latency_s > 0 && o.res.latency_s < 5, "unix: latency measured");
	CHECK(has(us.last_request.data, "GET /v1/healthz HTTP/1.1\r\n") &&
		      has(us.last_request.data, "\r\nHost: localhost\r\n") &&
		      has(us.last_request.data, "\r\nConnection: close\r\n") &&
		      !has(us.last_request.data, "Content-Length"),
	      "unix: the request is HTTP/1.1 with Host, Connection: close and no Content-Length");

	/* POST a command with a body and extra headers. */
	const char *const extra[] = { "X-Arbor-Check: router-up", "Accept: application/json", NULL };
	struct arbor_fetch_request post = ureq;
	post.method = "POST";
	post.path = "/v1/commands/renew?scope=all";
	post.body = "{}";
	post.body_len = 2;
	post.content_type = "application/json";
	post.headers = extra;
	server_answer(&us, "HTTP/1.1 202 Accepted\r\nContent-Length: "
			   "56\r\n\r\n{\"command\":\"renew\",\"accepted\":true,\"message\":\"renewing\"}");
	fetch(&post, &o);
	CHECK(o.res.ok && o.res.status == 202 && has(o.body.data, "\"accepted\":true"), "unix: POST a command");
	const char *r = us.last_request.data;
	CHECK(has(r, "POST /v1/commands/renew?scope=all HTTP/1.1\r\n") &&
		      has(r, "\r\nContent-Type: application/json\r\n") && has(r, "\r\nContent-Length: 2\r\n") &&
		      has(r, "\r\nX-Arbor-Check: router-up\r\n") && us.last_request.len > 6 &&
		      memcmp(r + us.last_request.len - 6, "\r\n\r\n{}", 6) == 0,
	      "unix: POST carries Content-Type, Content-Length, extra headers and the body");
	post.body = NULL;
	post.body_len = 0;
	post.content_type = NULL;
	post.headers = NULL;
	fetch(&post, &o);
	CHECK(o.res.ok && has(us.last_request.data, "\r\nContent-Length: 0\r\n"),
	      "unix: POST without a body says Content-Length: 0");

	/* Chunked over TCP, in two halves with a pause in the middle of a chunk size. */
	const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n"
			      "E\r\n in\r\n\r\nchunks.\r\n0\r\nX-Sum: 1\r\n\r\n";
	server_answer(&ts, chunked);
	ts.split_at = (size_t)(strstr(chunked, "5\r\npedia") - chunked) + 1;
	fetch(&treq, &o);
	CHECK(o.res.ok && o.res.status == 200 && body_is(&o, "Wikipedia in\r\n\r\nchunks."),
	      "tcp: chunked body, split");
	CHECK(has(ts.last_request.data, "GET / HTTP/1.1\r\n") && has(ts.last_request.data, "\r\nHost: 127.0.0.1:"),
	      "tcp: Host defaults to the address and port");
	struct arbor_fetch_request named = treq;
	named.host = "www.example.org";
	fetch(&named, &o);
	CHECK(o.res.ok && has(ts.last_request.data, "\r\nHost: www.example.org\r\n"), "tcp: Host as given");

	/* Close-delimited. */
	server_answer(&ts, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server closes");
	ts.split_at = 30;
	fetch(&treq, &o);
	CHECK(o.res.ok && body_is(&o, "until the server closes"), "tcp: close-delimited body");

	/* A 500 is an answer. */
	server_answer(&ts, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nbroke");
	fetch(&treq, &o);
	CHECK(o.res.ok && o.res.status == 500 && body_is(&o, "broke"), "tcp: 500 is an answer, ok with status 500");

	/* HEAD: headers announce a body that never comes. */
	server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	struct arbor_fetch_request head = treq;
	head.method = "HEAD";
	fetch(&head, &o);
	CHECK(o.res.ok && o.res.status == 200 && o.body.len == 0, "tcp: HEAD answer has no body");

	/* Malformed, and closed without an answer. */
	server_answer(&ts, "SSH-2.0-OpenSSH_9.2p1\r\n");
	fetch(&treq, &o);
	CHECK(!o.res.ok && o.res.failure == ARBOR_FETCH_MALFORMED && has(o.error, "malformed response: not HTTP"),
	      "tcp: malformed response");
	printf("# %s\n", o.error);
	server_answer(&ts, "");
	fetch(&treq, &o);
	CHECK(!o.res.ok && o.res.failure == ARBOR_FETCH_IO &&
		      strcmp(o.error, "connection closed by the server before it answered") == 0,
	      "tcp: closed without an answer");
	server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	fetch(&treq, &o);
	CHECK(!o.res.ok && o.res.failure == ARBOR_FETCH_IO && has(o.error, "answer cut short") &&
		      has(o.error, "3 of 10"),
	      "tcp: answer cut short");
	printf("# %s\n", o.error);

	/* Reset in the middle of the answer; a stall in the middle of it. */
	server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	ts.reset = true;
	fetch(&treq, &o);
	CHECK(o.res.failure == ARBOR_FETCH_IO &&
		      has(o.error, "connection reset by the server while reading the answer"),
	      "tcp: reset in the middle of the answer");
	printf("# %s\n", o.error);
	server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	ts.split_at = 20;
	ts.pause_ms = 2000;
	struct arbor_fetch_request stall = treq;
	stall.timeout_s = 0.2;
	fetch(&stall, &o);
	CHECK(o.res.failure == ARBOR_FETCH_TIMEOUT &&
		      strcmp(o.error, "timed out after 0.20 s while reading the answer") == 0,
	      "tcp: a server stalling mid-answer times out");
	server_drop_clients(&ts);

	/* An answer before the request is all sent (a 413 to a 32 MB upload): the
	 * server closes without reading, the send fails, and the answer counts. */
	server_answer(&ts, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo much");
	ts.early = true;
	struct arbor_fetch_request upload = treq;
	upload.method = "PUT";
	upload.body_len = 32 << 20;
	char *upload_body = calloc(1, upload.body_len);
	upload.body = upload_body;
	fetch(&upload, &o);
	free(upload_body);
	CHECK(o.res.ok && o.res.status == 413 && body_is(&o, "too much"),
	      "tcp: an answer before the request is sent counts");
	if (!o.res.ok)
		printf("# %s\n", o.error);

	/* Bodies over the max, each framing. */
	struct arbor_fetch_request small = treq;
	small.max_body = 100;
	struct arbor_buf big = { 0 };
	arbor_buf_printf(&big, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	for (int i = 0; i < 100; i++)
		arbor_buf_puts(&big, "0123456789");
	server_answer(&ts, big.data);
	fetch(&small, &o);
	CHECK(!o.res.ok && o.res.failure == ARBOR_FETCH_TOO_LARGE &&
		      strcmp(o.error, "answer body larger than 100 bytes") == 0,
	      "tcp: Content-Length body over the max");
	arbor_buf_free(&big);
	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 20; i++)
		arbor_buf_puts(&big, "a\r\n0123456789\r\n");
	arbor_buf_puts(&big, "0\r\n\r\n");
	server_answer(&ts, big.data);
	fetch(&small, &o);
	CHECK(o.res.failure == ARBOR_FETCH_TOO_LARGE && strcmp(o.error, "answer body larger than 100 bytes") == 0,
	      "tcp: chunked body over the max");
	arbor_buf_free(&big);
	arbor_buf_puts(&big, "HTTP/1.1 200 OK\r\n\r\n");
	for (int i = 0; i < 30000; i++)
		arbor_buf_puts(&big, "0123456789");
	server_answer(&ts, big.data);
	fetch(&small, &o);
	CHECK(o.res.failure == ARBOR_FETCH_TOO_LARGE && strcmp(o.error, "answer body larger than 100 bytes") == 0,
	      "tcp: close-delimited body (300 kB) over the max");
	server_answer(&ts, NULL);
	arbor_buf_free(&big);

	/* Connection refused: a bound port nobody listens on. */
	struct sockaddr_storage closed_addr;
	socklen_t closed_len;
	int closed_fd = tcp_socket(AF_INET, false, &closed_addr, &closed_len);
	struct arbor_fetch_request refused = { .addr = closed_addr, .addr_len = closed_len, .timeout_s = 5 };
	fetch(&refused, &o);
	char want[512];
	snprintf(want, sizeof want, "connection refused by 127.0.0.1:%u",
		 ntohs(((struct sockaddr_in *)&closed_addr)->sin_port));
	CHECK(o.calls == 1 && !o.res.ok && o.res.failure == ARBOR_FETCH_CONNECT && strcmp(o.error, want) == 0,
	      "tcp: connection refused");
	printf("# %s\n", o.error);
	close(closed_fd);

	/* Missing and stale Unix sockets. */
	struct arbor_fetch_request missing = { .unix_path = missing_path, .timeout_s = 5 };
	fetch(&missing, &o);
	snprintf(want, sizeof want, "no such socket: %s", missing_path);
	CHECK(o.calls == 1 && o.res.failure == ARBOR_FETCH_CONNECT && strcmp(o.error, want) == 0,
	      "unix: no such socket");
	printf("# %s\n", o.error);
	close(unix_listener(stale_path, 1));
	struct arbor_fetch_request stale = { .unix_path = stale_path };
	fetch(&stale, &o);
	CHECK(o.res.failure == ARBOR_FETCH_CONNECT && has(o.error, "nobody is listening") && has(o.error, "stale"),
	      "unix: stale socket");

	/* Never answers: the timeout fires, and no later than it should. */
	server_answer(&ts, NULL);
	struct arbor_fetch_request quick = treq;
	quick.timeout_s = 0.2;
	fetch(&quick, &o);
	CHECK(o.res.failure == ARBOR_FETCH_TIMEOUT &&
		      strcmp(o.error, "timed out after 0.20 s while waiting for the answer") == 0,
	      "tcp: a silent server times out");
	CHECK(o.res.latency_s >= 0.19 && o.res.latency_s < 0.6, "tcp: the timeout takes as long as asked, no longer");
	printf("# %s after %.3f s\n", o.error, o.res.latency_s);
	run_for(0.02);
	CHECK(ts.open == 0, "tcp: the timed-out connection is closed");

	/* A Unix server whose listen queue is full: connect retries until the deadline. */
	int busy_fd = unix_listener(busy_path, 0);
	int fillers[4];
	struct sockaddr_un busy_sa;
	fill_sun(&busy_sa, busy_path);
	for (int i = 0; i < 4; i++) {
		fillers[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (connect(fillers[i], (struct sockaddr *)&busy_sa, sizeof busy_sa) != 0 && errno != EAGAIN)
			perror("filler");
	}
	struct arbor_fetch_request busy = { .unix_path = busy_path, .timeout_s = 0.2 };
	fetch(&busy, &o);
	CHECK(o.res.failure == ARBOR_FETCH_TIMEOUT && has(o.error, "timed out after 0.20 s while connecting") &&
		      has(o.error, "queue is full"),
	      "unix: full listen queue, timed out while connecting");
	CHECK(o.res.latency_s >= 0.19 && o.res.latency_s < 0.6, "unix: connect timeout takes as long as asked");
	printf("# %s\n", o.error);
	for (int i = 0; i < 4; i++)
		close(fillers[i]);
	close(busy_fd);

	/* Cancel: before anything happened, mid-wait, and with a failure pending. */
	outcome_reset(&o);
	int accepted = ts.accepted;
	arbor_fetch_cancel(arbor_fetch_start(base, &treq, on_done, &o));
	arbor_fetch_cancel(arbor_fetch_start(base, &missing, on_done, &o));
	arbor_fetch_cancel(NULL);
	to_cancel = arbor_fetch_start(base, &treq, on_done, &o);
	struct event *canceller = evtimer_new(base, on_cancel_timer, NULL);
	struct timeval tv = { 0, 50000 };
	evtimer_add(canceller, &tv);
	run_for(0.15);
	event_free(canceller);
	CHECK(o.calls == 0, "cancel: done is never called");
	CHECK(ts.accepted > accepted && ts.open == 0, "cancel: the server saw the connection and its close");

	/* Chaining: a fetch started from done. */
	server_answer(&us, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
	server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
	chained_req = treq;
	outcome_reset(&o);
	outcome_reset(&chained);
	pending = 1;
	arbor_fetch_start(base, &ureq, on_done_then_fetch, &o);
	run();
	CHECK(o.calls == 1 && body_is(&o, "first") && chained.calls == 1 && body_is(&chained, "second"),
	      "a fetch started from done completes");
	outcome_reset(&chained);

	/* Bad requests fail through done, later. */
	const char *const injected[] = { "X-Bad: a\r\nInjected: 1", NULL };
	const char *const framing[] = { "Content-Length: 5", NULL };
	struct arbor_fetch_request bad[6] = { ureq, ureq, ureq, ureq, ureq, { .path = "/" } };
	bad[0].headers = injected;
	bad[1].headers = framing;
	bad[2].path = "/a b";
	bad[3].method = "GE T";
	bad[4].interface = "lo";
	const char *bad_names[] = { "header injection",		  "framing header", "space in path", "bad method",
				    "interface on a Unix socket", "no target" };
	for (int i = 0; i < 6; i++) {
		fetch(&bad[i], &o);
		char what[512];
		snprintf(what, sizeof what, "bad request refused through done: %s (%s)", bad_names[i], o.error);
		CHECK(o.calls == 1 && o.res.failure == ARBOR_FETCH_LOCAL && o.error[0], what);
	}

	/* 200 at once on one loop, over TCP and over a Unix socket whose listen
	 * queue (16) is far too short for them. */
	enum { N = 200 };
	struct server *servers[] = { &ts, &us };
	for (int k = 0; k < 2; k++) {
		servers[k]->echo_path = true;
		servers[k]->answer = "";
		static struct outcome many[N];
		pending = N;
		for (int i = 0; i < N; i++) {
			char path[32];
			snprintf(path, sizeof path, "/n/%d", i);
			struct arbor_fetch_request req = k == 0 ? treq : ureq;
			req.path = path; /* copied by start */
			outcome_reset(&many[i]);
			arbor_fetch_start(base, &req, on_done, &many[i]);
		}
		run();
		int good = 0;
		for (int i = 0; i < N; i++) {
			char path[32];
			snprintf(path, sizeof path, "/n/%d", i);
			if (many[i].calls == 1 && many[i].res.ok && body_is(&many[i], path))
				good++;
			else if (good == i)
				printf("# fetch %d: %s\n", i, many[i].error);
			outcome_reset(&many[i]);
		}
		CHECK(good == N && !safety_fired, k == 0 ? "200 concurrent fetches over TCP, each with its own answer"
							 : "200 concurrent fetches over a busy Unix socket");
		servers[k]->echo_path = false;
	}

	/* IPv6 loopback, when there is one. */
	struct sockaddr_storage v6_addr;
	socklen_t v6_len;
	int v6fd = tcp_socket(AF_INET6, true, &v6_addr, &v6_len);
	if (v6fd >= 0) {
		struct server v6;
		server_start(&v6, v6fd, true);
		server_answer(&v6, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6");
		struct arbor_fetch_request req6 = { .addr = v6_addr, .addr_len = v6_len, .timeout_s = 5 };
		fetch(&req6, &o);
		CHECK(o.res.ok && body_is(&o, "v6") && has(v6.last_request.data, "\r\nHost: [::1]:"),
		      "tcp: IPv6 loopback");
		server_stop(&v6);
	} else {
		printf("# no IPv6 loopback: skipped\n");
	}

	/* Source interface (SO_BINDTODEVICE needs CAP_NET_RAW). */
	if (geteuid() == 0) {
		server_answer(&ts, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nlo");
		struct arbor_fetch_request via_lo = treq;
		via_lo.interface = "lo";
		fetch(&via_lo, &o);
		CHECK(o.res.ok && body_is(&o, "lo"), "tcp: from interface lo");
		via_lo.interface = "nosuchif0";
		fetch(&via_lo, &o);
		CHECK(o.res.failure == ARBOR_FETCH_CONNECT && strcmp(o.error, "no such interface: nosuchif0") == 0,
		      "tcp: from a missing interface");
	} else {
		printf("# not root: SO_BINDTODEVICE checks skipped\n");
	}

	CHECK(!safety_fired, "no run needed the 10 s safety stop");
	outcome_reset(&o);
	server_stop(&us);
	server_stop(&ts);
	event_base_free(base);
}

int main(void)
{
	check_parser();
	check_fetch();
	return tap_done();
}
