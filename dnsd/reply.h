/* What every response shares, whether answered from our zones, relayed from a
 * child or upstream, or a SERVFAIL: the size limit of the client's transport, the
 * header, the question echoed byte for byte, and the OPT record (whose 11 bytes are
 * reserved up front, so records can never crowd it out). Internal to dnsd_core. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "dname.h"
#include "writer.h"

struct dnsd_reply {
	struct dnsd_writer w;
	const struct dnsd_question *q;
	bool question;
};

/* TCP: 65535; UDP: 512 without EDNS, max(512, min(payload, 1232)) with; never
 * more than cap. */
size_t dnsd_reply_limit(const struct dnsd_question *q, size_t cap);

/* Writes a blank header and (when question) q's question; l, when not NULL, is the
 * split of q->name (saves splitting it twice). Returns 0, or -ENOSPC when cap
 * cannot hold the header, question and OPT. */
int dnsd_reply_begin(struct dnsd_reply *r, uint8_t *out, size_t cap, const struct dnsd_question *q, bool question,
		     const struct dname_labels *l);

/* Appends the OPT (when the client sent one) and fills the header: QR, the opcode,
 * flags (AA, TC, RD, RA, CD, AD as the caller decided), the rcode (its upper bits in
 * the OPT) and the counts. Returns the message length. */
int dnsd_reply_end(struct dnsd_reply *r, uint16_t flags, uint16_t rcode);
