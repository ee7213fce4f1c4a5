/* Record data from configuration text: the master-file syntax of the types a
 * configuration gives (A, AAAA, NS, CNAME, PTR, MX, TXT, SRV, CAA) and the RFC 3597
 * generic form ("\# 4 c0000201") for any type, into uncompressed wire rdata. Errors
 * are precise sentences ("SRV data needs 4 fields: priority weight port target") that
 * the config loader prefixes with the file and key path. Config time only: not on
 * the query path. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Turns data into wire rdata for type. Names inside (CNAME, NS, PTR, MX, SRV targets)
 * are relative to origin (a flat wire name) unless they end in a dot; "@" is the
 * origin. TXT is either quoted strings ("\"a\" \"b\"", with \" \\ \DDD escapes) or
 * plain text taken literally as one string (split into 255-byte pieces when
 * longer). Returns the rdata length, or -EINVAL with a message in err, or -ENOSPC
 * (with a message) when cap is too small. err may be NULL. */
int rdata_from_text(int type, const char *data, const uint8_t *origin_wire, size_t origin_len, uint8_t *out,
		    size_t cap, char *err, size_t errlen);

/* Why rdata is malformed for type (A of 4 bytes, names in NS, CNAME, PTR, MX and SRV
 * flat and exact, TXT strings covering the rdata, CAA flags/tag/value), or NULL when
 * it is well-formed or of a type whose layout is opaque here. */
const char *rdata_wire_problem(int type, const uint8_t *rd, size_t len);
