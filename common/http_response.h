/* An incremental HTTP/1.x response parser over bytes, with no I/O, so the
 * fetcher (http_fetch.c) stays a thin loop around it and the fuzzer and unit
 * tests drive it alone. Feed it bytes as they arrive; it answers NEED_MORE until
 * the whole answer (status line, headers, body) is there, then DONE or ERROR.
 *
 * Framing (RFC 9112 section 6.3): no body for an answer to HEAD, for 204 and
 * for 304; otherwise Transfer-Encoding: chunked (extensions and trailers are
 * checked and dropped), else Content-Length, else the body runs until the
 * connection closes (call arbor_response_parser_finish_on_eof). Interim 1xx
 * answers (100 Continue, 103 Early Hints) are skipped; 101 is an error, since
 * arbor never asks to switch protocols. Transfer codings other than chunked are
 * refused: arbor never offers any (no TE header), and a compressed body is of
 * no use to a health check.
 *
 * Strict where it matters: every line ends in CRLF; Content-Length is digits
 * only (copies must agree); chunk sizes are hex that fits 64 bits; no obsolete
 * line folding, no control characters.
 *
 * Limits: the head (status line and headers, interim heads included) is at
 * most 16 KiB, the trailers too, a chunk-size line 4 KiB. A body longer than
 * max_body is an ERROR with body_too_large set, never silently cut: whoever
 * looks at a body sees all of it or learns that it could not. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ARBOR_RESPONSE_HEAD_MAX 16384
#define ARBOR_RESPONSE_TRAILERS_MAX 16384
#define ARBOR_RESPONSE_CHUNK_LINE_MAX 4096

enum arbor_response_status {
	ARBOR_RESPONSE_NEED_MORE,
	ARBOR_RESPONSE_DONE,
	ARBOR_RESPONSE_ERROR,
};

struct arbor_response_parser {
	/* Filled from the final head on; the body is complete once DONE. */
	int status;	   /* 200..599, or 1xx only while an interim head is parsed */
	int minor_version; /* HTTP/1.<minor_version> */
	char reason[64];   /* reason phrase, cut to fit */
	bool chunked;
	bool has_content_length;
	uint64_t content_length;
	bool connection_close; /* the server said Connection: close */
	struct arbor_buf body; /* always NUL-terminated after the body (may hold NULs) */
	bool body_too_large;   /* the ERROR is a body over max_body */
	char error[160];       /* on ERROR: what was wrong, for operators */

	/* Private. */
	size_t max_body;
	bool no_body;
	int state;
	struct arbor_buf line; /* the line being collected (head, chunk size, trailer) */
	size_t head_bytes;     /* all heads so far, interim ones included */
	size_t trailer_bytes;
	uint64_t left; /* of the Content-Length body or the current chunk */
	bool te_chunked_seen;
	int crlf_seen; /* after chunk data: 0, 1 ('\r') */
};

/* max_body: the largest body accepted (0: none at all). for_head_request: the
 * request was HEAD, so the answer has no body whatever its headers say. */
void arbor_response_parser_init(struct arbor_response_parser *p, size_t max_body, bool for_head_request);

/* Parses up to len bytes. *consumed says how many were used: all of them while
 * NEED_MORE, those up to the end of the answer on DONE (anything after the answer
 * is left alone), and none once DONE or ERROR was returned before. */
enum arbor_response_status arbor_response_parser_feed(struct arbor_response_parser *p, const void *data, size_t len,
						      size_t *consumed);

/* The connection closed: completes a body that runs until close, and makes
 * anything else still incomplete an ERROR. DONE and ERROR stay what they were. */
enum arbor_response_status arbor_response_parser_finish_on_eof(struct arbor_response_parser *p);

/* For an answer read as it streams (an event stream never ends): whether the
 * final head is complete (from then on body bytes go to p->body), and, once
 * the caller has used what p->body holds after a feed, emptying it, so that
 * max_body bounds what is held at once rather than the whole stream. */
bool arbor_response_parser_head_done(const struct arbor_response_parser *p);
void arbor_response_parser_body_consumed(struct arbor_response_parser *p);

void arbor_response_parser_free(struct arbor_response_parser *p);
