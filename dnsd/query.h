/* The hot-path query parser: header, the one question, and the OPT record
 * (RFC 6891), strictly checked and bounds-checked but without rendering any text
 * and without allocating (arbor_dns_parse renders the question as text, which the
 * answerer does not need). Whatever else a query carries (answer and authority
 * records, other additional records) is walked and checked, then ignored. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dnsd_query_status {
	DNSD_Q_OK,
	DNSD_Q_DROP,    /* shorter than a header, or a response (QR=1): never answered */
	DNSD_Q_FORMERR, /* malformed, or QDCOUNT != 1 */
	DNSD_Q_NOTIMP,  /* an opcode other than QUERY (checked before the format) */
	DNSD_Q_BADVERS, /* a well-formed query with EDNS version > 0 */
};

struct dnsd_query {
	uint16_t id, flags, qdcount;
	bool question;     /* the one question is well-formed: echo it */
	uint8_t qname_len; /* its name, at offset 12, flat (a pointer there is malformed) */
	uint16_t qtype, qclass;
	bool edns;         /* a well-formed OPT record is present */
	uint16_t payload;  /* the sender's UDP payload size */
	uint8_t version;
	bool do_bit;
};

enum dnsd_query_status dnsd_query_parse(const uint8_t *msg, size_t len, struct dnsd_query *q);
