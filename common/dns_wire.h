/* The DNS message wire codec (RFC 1035, 3596, 2782, 3597, 6891, 8659): pure functions
 * over byte buffers, no I/O, so they are unit-tested and fuzzed alone. healthd builds
 * queries and checks answers with it; dnsd builds on the same names, header and
 * record parsing. Every function returns a negative errno on bad input, never aborts:
 * -EBADMSG for a malformed message, -EINVAL for bad text, -ENOSPC for a short output. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes. A name is at most 255 bytes on the wire; its presentation text, every byte
 * escaped as \DDD, at most 1004 characters (4 labels of 63, 63, 63, 61 bytes). */
#define ARBOR_DNS_HEADER_LEN 12
#define ARBOR_DNS_MAX_MSG 65535
#define ARBOR_DNS_LABEL_MAX 63
#define ARBOR_DNS_NAME_WIRE_MAX 255
#define ARBOR_DNS_NAME_TEXT_MAX 1005 /* including the NUL */
#define ARBOR_DNS_MAX_RRS 64         /* records stored per message; more are counted */

/* Record types (IANA "Resource Record (RR) TYPEs"). */
enum {
	ARBOR_DNS_TYPE_A = 1,
	ARBOR_DNS_TYPE_NS = 2,
	ARBOR_DNS_TYPE_CNAME = 5,
	ARBOR_DNS_TYPE_SOA = 6,
	ARBOR_DNS_TYPE_PTR = 12,
	ARBOR_DNS_TYPE_HINFO = 13,
	ARBOR_DNS_TYPE_MX = 15,
	ARBOR_DNS_TYPE_TXT = 16,
	ARBOR_DNS_TYPE_AAAA = 28,
	ARBOR_DNS_TYPE_SRV = 33,
	ARBOR_DNS_TYPE_DNAME = 39,
	ARBOR_DNS_TYPE_OPT = 41,
	ARBOR_DNS_TYPE_DS = 43,
	ARBOR_DNS_TYPE_RRSIG = 46,
	ARBOR_DNS_TYPE_NSEC = 47,
	ARBOR_DNS_TYPE_DNSKEY = 48,
	ARBOR_DNS_TYPE_SVCB = 64,
	ARBOR_DNS_TYPE_HTTPS = 65,
	ARBOR_DNS_TYPE_IXFR = 251,
	ARBOR_DNS_TYPE_AXFR = 252,
	ARBOR_DNS_TYPE_ANY = 255,
	ARBOR_DNS_TYPE_CAA = 257,
};

/* Classes. */
enum {
	ARBOR_DNS_CLASS_IN = 1,
	ARBOR_DNS_CLASS_CH = 3,
	ARBOR_DNS_CLASS_HS = 4,
	ARBOR_DNS_CLASS_NONE = 254,
	ARBOR_DNS_CLASS_ANY = 255,
};

/* Response codes; values above 15 need an OPT record (the extended rcode). */
enum {
	ARBOR_DNS_RCODE_NOERROR = 0,
	ARBOR_DNS_RCODE_FORMERR = 1,
	ARBOR_DNS_RCODE_SERVFAIL = 2,
	ARBOR_DNS_RCODE_NXDOMAIN = 3,
	ARBOR_DNS_RCODE_NOTIMP = 4,
	ARBOR_DNS_RCODE_REFUSED = 5,
	ARBOR_DNS_RCODE_YXDOMAIN = 6,
	ARBOR_DNS_RCODE_YXRRSET = 7,
	ARBOR_DNS_RCODE_NXRRSET = 8,
	ARBOR_DNS_RCODE_NOTAUTH = 9,
	ARBOR_DNS_RCODE_NOTZONE = 10,
	ARBOR_DNS_RCODE_BADVERS = 16,
};

/* Opcodes. */
enum {
	ARBOR_DNS_OPCODE_QUERY = 0,
	ARBOR_DNS_OPCODE_STATUS = 2,
	ARBOR_DNS_OPCODE_NOTIFY = 4,
	ARBOR_DNS_OPCODE_UPDATE = 5,
};

/* Header flag bits (the 16-bit word after the id), and the EDNS DO bit (in the
 * OPT record's TTL field, low 16 bits). */
#define ARBOR_DNS_FLAG_QR 0x8000
#define ARBOR_DNS_FLAG_AA 0x0400
#define ARBOR_DNS_FLAG_TC 0x0200
#define ARBOR_DNS_FLAG_RD 0x0100
#define ARBOR_DNS_FLAG_RA 0x0080
#define ARBOR_DNS_FLAG_AD 0x0020
#define ARBOR_DNS_FLAG_CD 0x0010
#define ARBOR_DNS_OPCODE_SHIFT 11
#define ARBOR_DNS_OPCODE_MASK 0x7800
#define ARBOR_DNS_RCODE_MASK 0x000f
#define ARBOR_DNS_EDNS_DO 0x8000

/* Mnemonics, case-insensitive in; upper case out. from_name accepts the RFC 3597
 * form "TYPE123" too and returns -EINVAL for an unknown name; *_name returns NULL
 * for a value without a mnemonic (print it as "TYPE%d" / "RCODE%d"). */
int arbor_dns_type_from_name(const char *s);
const char *arbor_dns_type_name(int type);
/* The mnemonic, or "TYPE123" (RFC 3597) written into buf (16 bytes), for messages. */
const char *arbor_dns_type_text(int type, char buf[16]);
int arbor_dns_rcode_from_name(const char *s);
const char *arbor_dns_rcode_name(int rcode);

/* --- Names --------------------------------------------------------------------
 * Three forms: presentation text ("www.home.arpa." with \. \\ \DDD escapes), flat
 * wire form (length-prefixed labels ending in the root label, no pointers), and
 * names inside a message (possibly ending in a compression pointer). */

/* Text → flat wire. "www.home.arpa" and "www.home.arpa." are the same name, "." is
 * the root; case is kept. Rejects empty labels, labels over 63 bytes, names over
 * 255 wire bytes and bad escapes (-EINVAL). Returns the wire length. */
int arbor_dns_name_from_text(const char *text, uint8_t *wire, size_t cap);

/* Flat wire → text, always absolute ("www.home.arpa.", "."), case kept; '.', '\\'
 * and the master-file specials ("();@$) inside a label are escaped as \X, bytes
 * outside 0x21..0x7e as \DDD. Returns the text length, -EBADMSG if wire is not one
 * well-formed flat name of exactly wire_len bytes. */
int arbor_dns_name_to_text(const uint8_t *wire, size_t wire_len, char *out, size_t cap);

/* Reads the name at msg[off] (len bytes in all), following compression pointers,
 * into flat wire form (wire must hold ARBOR_DNS_NAME_WIRE_MAX bytes); *next gets the
 * offset just after the name where it sits (after its first pointer). Never reads
 * outside msg[0..len). -EBADMSG for: running off the end, a label over 63 bytes or
 * of the reserved 0x40/0x80 kinds, a name over 255 bytes, a pointer into the header
 * or not strictly before the start of the label run that holds it (which rules out
 * loops, forward pointers and pointers past the end), more than 127 pointers.
 * Returns the wire length. */
int arbor_dns_name_unpack(const uint8_t *msg, size_t len, size_t off, uint8_t *wire, size_t *next);

/* The same for a name outside a DNS message, in an option's value (DHCP options
 * 119, RFC 3397, and 81, RFC 4702): there is no header, so a pointer may target
 * any offset of buf before the label run that holds it; without compression
 * (RFC 4702) a pointer is malformed. */
int arbor_dns_name_unpack_value(const uint8_t *buf, size_t len, size_t off, bool compression, uint8_t *wire,
				size_t *next);

/* arbor_dns_name_unpack, then arbor_dns_name_to_text. Returns the text length. */
int arbor_dns_name_read(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap, size_t *next);

/* Whether two flat wire names are the same name (ASCII case-insensitive, RFC 4343). */
bool arbor_dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* --- Queries ------------------------------------------------------------------ */

/* Writes a standard query (opcode QUERY, one question of class IN) for name (text,
 * as arbor_dns_name_from_text takes it) and qtype, with RD if rd, and an OPT record
 * announcing edns_payload bytes (version 0, no DO) unless it is 0. Returns the
 * message length, -EINVAL for a bad name, -ENOSPC if cap is too small. */
int arbor_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype, bool rd,
			  uint16_t edns_payload);

/* --- Parsing ------------------------------------------------------------------ */

enum arbor_dns_section {
	ARBOR_DNS_SECTION_ANSWER = 1,
	ARBOR_DNS_SECTION_AUTHORITY = 2,
	ARBOR_DNS_SECTION_ADDITIONAL = 3,
};

struct arbor_dns_header {
	uint16_t id;
	uint16_t flags; /* the raw flag word */
	bool qr, aa, tc, rd, ra, ad, cd;
	uint8_t opcode;
	uint16_t rcode; /* 4 bits from the header, plus the upper 8 from OPT when present */
	uint16_t qdcount, ancount, nscount, arcount;
};

struct arbor_dns_question {
	char name[ARBOR_DNS_NAME_TEXT_MAX]; /* presentation text, absolute */
	uint8_t wire[ARBOR_DNS_NAME_WIRE_MAX]; /* flat wire form, for comparisons */
	size_t wire_len;
	size_t name_off; /* where the name starts in the message */
	uint16_t qtype, qclass;
};

/* One resource record: everything but the owner name and rdata is decoded; those are
 * offsets into the message (the parser has checked the owner name, so reading it
 * back with arbor_dns_name_read cannot fail but for a short buffer). */
struct arbor_dns_rr {
	enum arbor_dns_section section;
	size_t name_off;
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rdata_off, rdata_len;
};

/* The OPT pseudo-record (RFC 6891), decoded. Its options are rdata_off/rdata_len,
 * checked to be a well-formed list of (code, length, data). */
struct arbor_dns_opt {
	bool present;
	uint16_t payload; /* the sender's UDP payload size (the CLASS field) */
	uint8_t ext_rcode; /* upper 8 bits of the rcode (already merged into header.rcode) */
	uint8_t version;
	bool do_bit;
	uint16_t flags; /* all 16 flag bits, DO included */
	size_t rdata_off, rdata_len;
};

struct arbor_dns_message {
	struct arbor_dns_header header;
	bool has_question; /* qdcount > 0: question holds the first one */
	struct arbor_dns_question question;
	struct arbor_dns_opt opt;
	/* Answer, authority then additional records in message order (the OPT record
	 * included); the first ARBOR_DNS_MAX_RRS are stored, rr_total counts them all. */
	struct arbor_dns_rr rr[ARBOR_DNS_MAX_RRS];
	size_t nrr, rr_total;
};

/* Parses a whole message. Every name is checked (pointers included), every record
 * must fit, the OPT record must be unique, owned by the root and in the additional
 * section, and nothing may follow the last record. Returns 0, -EBADMSG for a
 * malformed message, -EMSGSIZE if len > 65535. On -EBADMSG, out->header is still
 * filled when len >= 12, so a caller can report the id, TC or rcode it got. */
int arbor_dns_parse(const uint8_t *msg, size_t len, struct arbor_dns_message *out);

/* Renders a record's rdata as master-file text, the way dig prints it:
 *   A "192.0.2.1", AAAA "2001:db8::1" (class IN), CNAME/NS/PTR/DNAME "host.example.",
 *   MX "10 mail.example.", TXT "\"v=spf1 -all\" \"two\"", SRV (class IN)
 *   "0 5 80 host.example.", SOA "ns. admin. serial refresh retry expire minimum",
 *   CAA "0 issue \"ca.example\"", anything else "\# 4 C0000201" (RFC 3597).
 * Names may be compressed (pointers into msg). Returns the text length, -EBADMSG if
 * the rdata is malformed for its type, -ENOSPC if outlen is too small. */
int arbor_dns_rdata_to_text(const uint8_t *msg, size_t len, const struct arbor_dns_rr *rr, char *out,
			    size_t outlen);
