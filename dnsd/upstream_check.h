/* What the resolver (resolver.h) makes of a response to one of its tries: pure,
 * so the judgement of what a child or a forwarder sends back is unit-tested and
 * fuzzed alone; resolver.c does the I/O and acts on the verdict.
 *
 *   - a response counts only with our id, QR set, opcode QUERY and exactly our
 *     question (the name case-insensitively); anything else is someone else's
 *     (or spoofed) and is ignored; our id but unparseable is a failed try;
 *   - TC over UDP: ask the same server over TCP;
 *   - SERVFAIL, REFUSED, NOTIMP, FORMERR: the next server;
 *   - from a forwarder, or AA, or an rcode other than NOERROR, or an answer
 *     section: final;
 *   - in the tree, NOERROR without AA or answer: a referral when the authority
 *     section has NS records for a zone strictly below the one asked and at or
 *     above the question (with the glue in the additional section for those NS
 *     names as the next servers; without glue the resolution fails, since names
 *     outside the tree are never resolved to find a server), NODATA when it has
 *     an SOA, else a lame server (the next one). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "dns_wire.h"

enum upstream_verdict {
	UPSTREAM_IGNORE,    /* not the answer to this try: keep waiting (over TCP: a failed try) */
	UPSTREAM_MALFORMED, /* our id, but it does not parse: a failed try */
	UPSTREAM_RETRY_TCP,
	UPSTREAM_NEXT_SERVER,
	UPSTREAM_FINAL,
	UPSTREAM_REFERRAL,  /* ask the servers in the referral */
	UPSTREAM_NO_GLUE,   /* a referral without glue: the resolution fails */
};

/* The try a response is checked against. */
struct upstream_try {
	bool forward;  /* to a forwarder (RD=1), else to a name server in the tree */
	bool over_tcp;
	uint16_t id, qtype, qclass;
	const uint8_t *name; /* the question (flat wire) */
	size_t name_len;
	const uint8_t *zone; /* the zone whose servers were asked */
	size_t zone_len;
};

#define UPSTREAM_MAX_GLUE (2 * DNSD_MAX_GLUE)

struct upstream_referral {
	uint8_t cut[ARBOR_DNS_NAME_WIRE_MAX]; /* the zone delegated to */
	uint8_t cut_len;
	unsigned nglue;
	struct {
		int family; /* AF_INET or AF_INET6 */
		uint8_t addr[16];
	} glue[UPSTREAM_MAX_GLUE];
};

/* Judges msg[0..len) for t; m is scratch for the parse, ref is filled for
 * UPSTREAM_REFERRAL. */
enum upstream_verdict upstream_check(const struct upstream_try *t, const uint8_t *msg, size_t len,
				     struct arbor_dns_message *m, struct upstream_referral *ref);

/* A final answer as the resolver keeps it (in its cache, and for its waiters):
 * rewritten by dnsd_answer_from_upstream for t's question (over TCP, so nothing
 * is cut; DO set, so AD is kept), names decompressed and compressed again. So a
 * name in what is kept never points into another record's TTL, which the cache
 * ages in place (an upstream can send such pointers). Returns the length, or
 * -EBADMSG when msg cannot be relayed, -ENOSPC. */
int upstream_canonical(const struct upstream_try *t, const uint8_t *msg, size_t len, uint8_t *out, size_t cap);
