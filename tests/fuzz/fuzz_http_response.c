/* libFuzzer harness for the HTTP response parser (http_response.h).
 * Input: bytes 0-1 max_body (little-endian, 0..65535); byte 2 flags (bit 0: the
 * answer to a HEAD request, bit 1: the connection closes after the input); byte
 * 3 seeds the piece sizes; the rest is the answer, fed in pieces of 1..64 bytes.
 * Checked: never more consumed than given; everything consumed while NEED_MORE;
 * DONE and ERROR are final; a DONE body fits max_body and is NUL-terminated,
 * with a final status; and the outcome is the same as feeding it all at once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h"
#include "xalloc.h"

struct outcome {
	enum arbor_response_status st;
	size_t consumed;
};

static void check(int cond)
{
}

static struct outcome run(struct arbor_response_parser *p, const uint8_t *data, size_t len, uint32_t seed, int eof)
{
	struct outcome o = { ARBOR_RESPONSE_NEED_MORE, 0 };
	size_t pos = 0;
	while (pos < len && o.st == ARBOR_RESPONSE_NEED_MORE) {
		size_t n = len - pos;
		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			size_t piece = 1 + seed % 64;
			if (piece < n)
				n = piece;
		}
		size_t used = (size_t)-1;
		o.st = arbor_response_parser_feed(p, data + pos, n, &used);
		check(used <= n);
		check(o.st != ARBOR_RESPONSE_NEED_MORE || used == n);
		pos += used;
	}
	o.consumed = pos;
	if (o.st != ARBOR_RESPONSE_NEED_MORE) {
		size_t used = 1;
		check(arbor_response_parser_feed(p, "x", 1, &used) == o.st && used == 0);
	}
	if (eof) {
		enum arbor_response_status st = arbor_response_parser_finish_on_eof(p);
		check(o.st == ARBOR_RESPONSE_NEED_MORE || st == o.st);
		o.st = st;
		check(st != ARBOR_RESPONSE_NEED_MORE);
	}
	if (o.st == ARBOR_RESPONSE_DONE) {
		check(p->body.len <= p->max_body);
		check(p->body.data != NULL && p->body.data[p->body.len] == '\0');
		check(p->status >= 200 && p->status <= 599);
	}
	if (o.st == ARBOR_RESPONSE_ERROR)
		check(p->error[0] != '\0');
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t max_body = (size_t)data[0] | (size_t)data[1] << 8;
	int head = data[2] & 1, eof = (data[2] >> 1) & 1;
	uint32_t seed = data[3] ? 0x9e3779b9u * data[3] : 0;
	const uint8_t *answer = data + 4;
	size_t len = size - 4;

	struct arbor_response_parser pieces, whole;
	arbor_response_parser_init(&pieces, max_body, head);
	arbor_response_parser_init(&whole, max_body, head);
	struct outcome a = run(&pieces, answer, len, seed, eof);
	struct outcome b = run(&whole, answer, len, 0, eof);
	check(a.st == b.st);
	check(pieces.body_too_large == whole.body_too_large);
	if (a.st == ARBOR_RESPONSE_DONE) {
		check(a.consumed == b.consumed);
		check(pieces.status == whole.status);
		check(pieces.body.len == whole.body.len &&
		      memcmp(pieces.body.data, whole.body.data, whole.body.len) == 0);
	}
	arbor_response_parser_free(&pieces);
	arbor_response_parser_free(&whole);
	return 0;
}
