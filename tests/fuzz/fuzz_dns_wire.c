/* libFuzzer harness for the DNS wire codec: arbitrary bytes must parse or be
 * refused, never crash; what parses must render, and every name it holds must
 * survive text → wire → text unchanged. The input, as a string, also feeds the
 * text-to-name parser. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "xalloc.h"

static struct arbor_dns_message msg;
static char rdtext[2 * ARBOR_DNS_MAX_MSG + 64]; /* the longest rendering: \# N and hex */

/* wire → text → wire gives the same bytes, and the text again the same text. */
static void name_round_trip(const uint8_t *wire, size_t wire_len, const char *text)
{
	uint8_t again[ARBOR_DNS_NAME_WIRE_MAX];
	char text2[ARBOR_DNS_NAME_TEXT_MAX];
	int n = arbor_dns_name_from_text(text, again, sizeof again);
	if (n < 0 || (size_t)n != wire_len || memcmp(again, wire, wire_len) != 0)
		abort();
	if (!arbor_dns_name_equal(again, (size_t)n, wire, wire_len))
		abort();
	if (arbor_dns_name_to_text(again, (size_t)n, text2, sizeof text2) != (int)strlen(text) ||
	    strcmp(text, text2) != 0)
		abort();
}

static void check_message(const uint8_t *data, size_t size)
{
	if (msg.has_question) {
		name_round_trip(msg.question.wire, msg.question.wire_len, msg.question.name);
		/* A query for the same question carries the same name. */
		uint8_t q[12 + ARBOR_DNS_NAME_WIRE_MAX + 4 + 11];
		int n = arbor_dns_build_query(q, sizeof q, msg.header.id, msg.question.name, msg.question.qtype,
					      msg.header.rd, 1232);
		static struct arbor_dns_message again;
		if (n < 0 || arbor_dns_parse(q, (size_t)n, &again) != 0 ||
		    again.question.wire_len != msg.question.wire_len ||
		    memcmp(again.question.wire, msg.question.wire, msg.question.wire_len) != 0 ||
		    again.question.qtype != msg.question.qtype || !again.opt.present)
			abort();
	}
	if (msg.nrr > ARBOR_DNS_MAX_RRS || msg.nrr > msg.rr_total)
		abort();
	const char *rcode = arbor_dns_rcode_name(msg.header.rcode);
	if (rcode && arbor_dns_rcode_from_name(rcode) != msg.header.rcode)
		abort();
	for (size_t i = 0; i < msg.nrr; i++) {
		const struct arbor_dns_rr *rr = &msg.rr[i];
		uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
		char name[ARBOR_DNS_NAME_TEXT_MAX];
		int n = arbor_dns_name_unpack(data, size, rr->name_off, wire, NULL);
		if (n < 0 || arbor_dns_name_to_text(wire, (size_t)n, name, sizeof name) < 0)
			abort(); /* the parser checked every owner name */
		name_round_trip(wire, (size_t)n, name);
		char via_read[ARBOR_DNS_NAME_TEXT_MAX];
		if (arbor_dns_name_read(data, size, rr->name_off, via_read, sizeof via_read, NULL) < 0 ||
		    strcmp(via_read, name) != 0)
			abort();
		const char *mnemonic = arbor_dns_type_name(rr->type);
		if (mnemonic && arbor_dns_type_from_name(mnemonic) != rr->type)
			abort();

		int len = arbor_dns_rdata_to_text(data, size, rr, rdtext, sizeof rdtext);
		if (len == -EBADMSG)
			continue;
		if (len < 0 || (size_t)len != strlen(rdtext))
			abort();
		/* One byte short of room is -ENOSPC, never a different answer. */
		char *copy = xmalloc((size_t)len + 1);
		if (arbor_dns_rdata_to_text(data, size, rr, copy, (size_t)len) != -ENOSPC ||
		    arbor_dns_rdata_to_text(data, size, rr, copy, (size_t)len + 1) != len ||
		    memcmp(copy, rdtext, (size_t)len + 1) != 0)
			abort();
		free(copy);
	}
}

static void check_text(const uint8_t *data, size_t size)
{
	char text[ARBOR_DNS_NAME_TEXT_MAX + 64];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX];
	char back[ARBOR_DNS_NAME_TEXT_MAX];
	int wlen = arbor_dns_name_from_text(text, wire, sizeof wire);
	if (wlen == -EINVAL)
		return;
	if (wlen < 1 || arbor_dns_name_to_text(wire, (size_t)wlen, back, sizeof back) < 0)
		abort();
	name_round_trip(wire, (size_t)wlen, back);
	arbor_dns_type_from_name(text);
	arbor_dns_rcode_from_name(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = arbor_dns_parse(data, size, &msg);
	if (rc == 0)
		check_message(data, size);
	else if (rc != -EBADMSG && rc != -EMSGSIZE)
		abort();
	check_text(data, size);
	return 0;
}
