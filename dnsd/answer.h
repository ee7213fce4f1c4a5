/* Answering one DNS query from the zone database: pure, no I/O, no allocation, no
 * text. The caller (main.c) owns the sockets; for each datagram or TCP message it
 * calls dnsd_answer and then, by info->verdict, sends the response, drops the
 * query, or resolves it elsewhere (inside the tree, or at the forwarders) and turns
 * what comes back into the response with dnsd_answer_from_upstream (or
 * dnsd_answer_servfail when that fails).
 *
 * Policy (the choices the RFCs leave open are made here):
 *   - opcode other than QUERY: NOTIMP. QDCOUNT != 1, malformed messages (bad
 *     pointers, labels over 63, names over 255, a truncated or second OPT, trailing
 *     bytes): FORMERR when the header is readable; shorter than a header, or QR=1:
 *     dropped. qtype OPT, TSIG, TKEY: FORMERR. AXFR/IXFR: REFUSED (no transfers).
 *   - Classes other than IN (CH, HS, NONE, ANY): REFUSED. We hold no data in them
 *     (REFUSED says "not here", NOTIMP would say the server lacks a feature).
 *   - In our zones: authoritative answers (AA), NXDOMAIN vs NODATA with the SOA in
 *     the authority section at TTL min(SOA TTL, minimum), CNAME chains followed
 *     inside our zones (8 steps at most, a loop stops at the repeat), ANY answered
 *     with one RRset (RFC 8482), unknown qtypes NODATA. No wildcards.
 *   - At or below a child delegation: RD=1 from a client allowed to recurse →
 *     verdict RECURSE_CHILD; otherwise a referral (NS in authority, glue in
 *     additional, no AA). DS at the delegation point is answered from our side.
 *   - Outside all our zones: RD=1, client allowed to recurse and forwarding
 *     available → verdict FORWARD; otherwise REFUSED.
 *   - EDNS (RFC 6891): OPT echoed with payload 1232 and the client's DO bit;
 *     version > 0 → BADVERS; options ignored. Size limit: UDP 512 without EDNS,
 *     max(512, min(client payload, 1232)) with; TCP 65535. What does not fit is
 *     dropped by whole RRsets with TC set; optional additional records are dropped
 *     silently (RFC 2181 §9), glue inside the delegation sets TC.
 *   - RA is set when the client may recurse; RD and CD are copied; the question is
 *     echoed byte for byte (its case kept). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_wire.h"

struct zone_db;

#define DNSD_EDNS_PAYLOAD 1232 /* our advertised UDP payload (DNS flag day 2020) */
#define DNSD_UDP_PLAIN 512
#define DNSD_MAX_DELEG_NS 8
#define DNSD_MAX_GLUE 16
#define DNSD_MAX_CHAIN 8       /* CNAME steps followed inside our zones */

enum dnsd_transport { DNSD_UDP, DNSD_TCP };

enum dnsd_verdict {
	DNSD_ANSWERED,      /* out holds the response: send it */
	DNSD_DROP,          /* send nothing (no header, a response, or cap too small) */
	DNSD_RECURSE_CHILD, /* resolve info->q at the child in info->deleg, then
			     * dnsd_answer_from_upstream */
	DNSD_FORWARD,       /* resolve info->q at the forwarders, likewise */
};

struct dnsd_answer_opts {
	enum dnsd_transport transport;
	bool allow_recursion;     /* the client is in a network allowed to recurse */
	bool recursion_available; /* forwarders are configured (names outside the tree) */
};

/* The question as received, and what the reply to it must carry. */
struct dnsd_question {
	uint8_t name[ARBOR_DNS_NAME_WIRE_MAX]; /* flat wire, case exactly as received */
	uint8_t name_len;
	uint16_t qtype, qclass;
	uint16_t id;
	uint8_t opcode;
	bool rd, cd, ad;
	bool edns;             /* the client sent a well-formed OPT */
	uint16_t edns_payload; /* its payload size as sent */
	bool do_bit;
	enum dnsd_transport transport;
	bool ra;               /* RA in replies to this client */
};

/* A child zone, for RECURSE_CHILD: ask its name servers at the glue addresses
 * (the addresses of NS names we hold A/AAAA records for, anywhere in our zones). */
struct dnsd_delegation {
	uint8_t apex[ARBOR_DNS_NAME_WIRE_MAX];
	uint8_t apex_len;
	unsigned nns;
	struct {
		uint8_t name[ARBOR_DNS_NAME_WIRE_MAX];
		uint8_t len;
	} ns[DNSD_MAX_DELEG_NS];
	unsigned nv4, nv6;
	uint8_t v4[DNSD_MAX_GLUE][4];
	uint8_t v6[DNSD_MAX_GLUE][16];
};

struct dnsd_answer_info {
	enum dnsd_verdict verdict;
	bool have_question;   /* q is filled (the question was well-formed) */
	struct dnsd_question q;
	/* For ANSWERED: what was sent. */
	uint16_t rcode;       /* extended (BADVERS is 16) */
	bool aa, tc;
	bool referral;        /* a delegation was answered with a referral */
	bool nodata;          /* NOERROR with no answer for the name (NODATA) */
	bool any_minimal;     /* an ANY query answered with one RRset */
	int zone;             /* the index of the zone of ours that holds the name, -1: none */
	struct dnsd_delegation deleg; /* filled for RECURSE_CHILD only */
};

/* Answers query[0..qlen) into out[0..cap). Returns the response length, 0 when
 * nothing is to be sent now (info->verdict says why), -EINVAL for NULL arguments,
 * -ENOSPC when cap cannot hold even the header, question and OPT (then the verdict
 * is DROP). Never writes at or past out + cap. */
int dnsd_answer(const struct zone_db *db, const uint8_t *query, size_t qlen, const struct dnsd_answer_opts *opts,
		uint8_t *out, size_t cap, struct dnsd_answer_info *info);

/* Turns a response from a child or an upstream server (to a query for info->q)
 * into the response to our client: our client's id, its question exactly as asked,
 * RA set, AA cleared, RD and CD copied, AD kept only for a client that set DO or AD,
 * the upstream rcode and records (names decompressed, then compressed again,
 * upstream OPT and TSIG removed), our OPT when the client sent one, and the size
 * limit of the client's transport (whole RRsets dropped, TC set; TC from upstream
 * is kept). Returns the length, -EBADMSG when upstream is malformed, not a
 * response, or for another question (answer SERVFAIL then), -ENOSPC when cap is too
 * small, -EINVAL for NULL arguments. */
int dnsd_answer_from_upstream(const struct dnsd_answer_info *info, const uint8_t *upstream, size_t ulen,
			      uint8_t *out, size_t cap);

/* SERVFAIL for info->q (RA set, question echoed, OPT when the client sent one).
 * Returns the length or -ENOSPC / -EINVAL. */
int dnsd_answer_servfail(const struct dnsd_answer_info *info, uint8_t *out, size_t cap);

/* The answer info described, cut to nothing with TC set: its rcode and AA, the
 * question echoed, OPT when the client sent one, no records. What response rate
 * limiting "slips" instead of an answer: a real client asks again over TCP, a
 * forged one gets nothing bigger than its query. Returns the length or -ENOSPC /
 * -EINVAL. */
int dnsd_answer_truncated(const struct dnsd_answer_info *info, uint8_t *out, size_t cap);

/* Counters for the metrics endpoint. dnsd_counters_add counts one dnsd_answer call
 * by its info; dnsd_counters_reply counts a reply built by
 * dnsd_answer_from_upstream or dnsd_answer_servfail (its rcode and TC, from the
 * header). */
struct dnsd_counters {
	uint64_t queries, dropped, answered;
	uint64_t noerror, formerr, servfail, nxdomain, notimp, refused, badvers, other_rcode;
	uint64_t nodata, truncated, referrals, any_minimal;
	uint64_t recurse_child, forwarded;
	uint64_t rrl_dropped, rrl_slipped; /* counted by the caller (rrl.h) */
};
void dnsd_counters_add(struct dnsd_counters *c, const struct dnsd_answer_info *info);
void dnsd_counters_reply(struct dnsd_counters *c, const uint8_t *reply, size_t len);
