/* Unit test for the DNS wire codec: names (text, wire, compression pointers good and
 * hostile), queries, parsing of real dnsmasq answers and hand-built messages,
 * truncation at every byte, OPT, and rdata rendering for each type. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns_wire.h"
#include "tap.h"

/* Answers captured byte for byte from dnsmasq 2.90 (Debian bookworm), queried over
 * UDP on 127.0.0.1 in a private network namespace, run as:
 *   dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces
 *     --listen-address=127.0.0.1 --local=/home.arpa/ --domain=home.arpa --local-ttl=300
 *     --host-record=host1.home.arpa,192.0.2.10,2001:db8::10
 *     --host-record=db.home.arpa,2001:db8::53 --cname=www.home.arpa,host1.home.arpa
 *     --mx-host=home.arpa,mail.home.arpa,10 --host-record=mail.home.arpa,192.0.2.25
 *     --srv-host=_http._tcp.home.arpa,host1.home.arpa,80,0,5
 *     --txt-record=home.arpa,"v=spf1 -all","second \"quoted\""
 * The queries had RD set, ids 0x1000.., and an OPT record (payload 1232) where noted. */
static const char *const captured[] = {
	/* 0: www.home.arpa A, EDNS: CNAME, then A owned by a pointer into the CNAME's rdata */
	"1000858000010002000000010377777704686f6d6504617270610000010001c00c000500010000012c00110568"
	"6f73743104686f6d65046172706100c02b000100010000012c0004c000020a00002904d0000000000000",
	/* 1: home.arpa MX, with the target's A in the additional section */
	"10018580000100010000000104686f6d65046172706100000f0001c00c000f00010000012c0012000a046d6169"
	"6c04686f6d65046172706100c029000100010000012c0004c0000219",
	/* 2: _http._tcp.home.arpa SRV, with A and AAAA in the additional section */
	"100285800001000100000002055f68747470045f74637004686f6d6504617270610000210001c00c0021000100"
	"00012c001700000005005005686f73743104686f6d65046172706100c038000100010000012c0004c000020ac0"
	"38001c00010000012c001020010db8000000000000000000000010",
	/* 3: home.arpa TXT, two strings */
	"10038580000100010000000004686f6d6504617270610000100001c00c001000010000012c001c0b763d737066"
	"31202d616c6c0f7365636f6e64202271756f74656422",
	/* 4: nope.home.arpa A, EDNS: NXDOMAIN */
	"100481830001000000000001046e6f706504686f6d650461727061000001000100002904d0000000000000",
	/* 5: db.home.arpa AAAA */
	"10058580000100010000000002646204686f6d65046172706100001c0001c00c001c00010000012c001020010d"
	"b8000000000000000000000053",
	/* 6: 10.2.0.192.in-addr.arpa PTR */
	"100685800001000100000000023130013201300331393207696e2d61646472046172706100000c0001c00c000c"
	"00010000012c001105686f73743104686f6d65046172706100",
};

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < cap; h += 2) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* A tiny message assembler for hand-built cases. */
struct mb {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct mb *m, unsigned v)
{
	u8(m, v >> 8);
	u8(m, v & 0xff);
}

static void u32(struct mb *m, unsigned long v)
{
	u16(m, (unsigned)(v >> 16));
	u16(m, (unsigned)(v & 0xffff));
}

static void raw(struct mb *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Labels of a name without the root byte (so a pointer can follow), or with it. */
static void labels(struct mb *m, const char *text, int with_root)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text(text, w, sizeof w);
	if (n > 0)
		raw(m, w, (size_t)(with_root ? n : n - 1));
}

static void ptr(struct mb *m, unsigned off)
{
	u16(m, 0xc000 | off);
}

static void header(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

/* Fixed part of an RR after its owner name. */
static void rrhead(struct mb *m, unsigned type, unsigned rclass, unsigned long ttl, unsigned rdlen)
{
	u16(m, type);
	u16(m, rclass);
	u32(m, ttl);
	u16(m, rdlen);
}

static struct arbor_dns_message msg; /* large: keep it off the stack */

static int rdtext(const uint8_t *buf, size_t len, size_t i, char *out, size_t cap)
{
	return arbor_dns_rdata_to_text(buf, len, &msg.rr[i], out, cap);
}

static int rdeq(const uint8_t *buf, size_t len, size_t i, const char *want)
{
	char out[512];
	int n = rdtext(buf, len, i, out, sizeof out);
	if (n < 0 || strcmp(out, want) != 0) {
		printf("# rr %zu: got %d \"%s\", want \"%s\"\n", i, n, n < 0 ? "" : out, want);
		return 0;
	}
	return n == (int)strlen(want);
}

static int owner_is(const uint8_t *buf, size_t len, size_t i, const char *want)
{
	char out[ARBOR_DNS_NAME_TEXT_MAX];
	return arbor_dns_name_read(buf, len, msg.rr[i].name_off, out, sizeof out, NULL) > 0 &&
	       strcmp(out, want) == 0;
}

static void test_mnemonics(void)
{
	CHECK(arbor_dns_type_from_name("A") == 1 && arbor_dns_type_from_name("aaaa") == 28 &&
		      arbor_dns_type_from_name("Caa") == 257 && arbor_dns_type_from_name("OPT") == 41 &&
		      arbor_dns_type_from_name("ANY") == 255 && arbor_dns_type_from_name("srv") == 33,
	      "type names in, any case");
	CHECK(arbor_dns_type_from_name("TYPE65534") == 65534 && arbor_dns_type_from_name("type1") == 1,
	      "RFC 3597 TYPEnnn in");
	CHECK(arbor_dns_type_from_name("TYPE65536") == -EINVAL && arbor_dns_type_from_name("TYPE") == -EINVAL &&
		      arbor_dns_type_from_name("TYPE1x") == -EINVAL && arbor_dns_type_from_name("TYPE000001") == -EINVAL &&
		      arbor_dns_type_from_name("") == -EINVAL && arbor_dns_type_from_name("bogus") == -EINVAL &&
		      arbor_dns_type_from_name(NULL) == -EINVAL,
	      "bad type names refused");
	CHECK(strcmp(arbor_dns_type_name(28), "AAAA") == 0 && strcmp(arbor_dns_type_name(12), "PTR") == 0 &&
		      strcmp(arbor_dns_type_name(6), "SOA") == 0 && arbor_dns_type_name(9999) == NULL &&
		      arbor_dns_type_name(-1) == NULL,
	      "type names out");
	static const char *const rc[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	int ok = 1;
	for (int i = 0; i < 6; i++)
		ok &= arbor_dns_rcode_from_name(rc[i]) == i && strcmp(arbor_dns_rcode_name(i), rc[i]) == 0;
	CHECK(ok, "rcode names both ways");
	CHECK(arbor_dns_rcode_from_name("nxdomain") == 3 && arbor_dns_rcode_from_name("BADVERS") == 16 &&
		      strcmp(arbor_dns_rcode_name(16), "BADVERS") == 0 && arbor_dns_rcode_name(15) == NULL &&
		      arbor_dns_rcode_from_name("RCODE15") == 15 && arbor_dns_rcode_from_name("RCODE4096") == -EINVAL &&
		      arbor_dns_rcode_from_name("NOPE") == -EINVAL,
	      "rcode names: case, extended, generic, unknown");
}

static void test_name_text(void)
{
	uint8_t w[300];
	static const uint8_t www[] = "\3www\4home\4arpa";
	int n = arbor_dns_name_from_text("www.home.arpa", w, sizeof w);
	CHECK(n == 15 && memcmp(w, www, 15) == 0, "name from text");
	n = arbor_dns_name_from_text("www.home.arpa.", w, sizeof w);
	CHECK(n == 15 && memcmp(w, www, 15) == 0, "trailing dot is the same name");
	n = arbor_dns_name_from_text(".", w, sizeof w);
	CHECK(n == 1 && w[0] == 0, "root");
	n = arbor_dns_name_from_text("WwW.Example", w, sizeof w);
	CHECK(n == 13 && memcmp(w, "\3WwW\7Example", 13) == 0, "case kept");
	n = arbor_dns_name_from_text("a\\.b.\\065\\\\\\032z", w, sizeof w);
	CHECK(n == 10 && memcmp(w, "\3a.b\4A\\ z", 10) == 0, "escapes \\. \\DDD \\\\ in");
	n = arbor_dns_name_from_text("\\000\\255", w, sizeof w);
	CHECK(n == 4 && w[0] == 2 && w[1] == 0 && w[2] == 255 && w[3] == 0, "\\000 and \\255");

	static const char *const bad[] = { "", "..", ".a", "a..b", "a.b..", "a\\", "\\256", "\\12x", "\\1", "a\\0" };
	int ok = 1;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok &= arbor_dns_name_from_text(bad[i], w, sizeof w) == -EINVAL;
	CHECK(ok, "empty labels, bad escapes refused");
	CHECK(arbor_dns_name_from_text(NULL, w, sizeof w) == -EINVAL, "NULL name refused");

	char text[1100];
	memset(text, 'a', 63);
	text[63] = '\0';
	CHECK(arbor_dns_name_from_text(text, w, sizeof w) == 65, "63-byte label accepted");
	memset(text, 'a', 64);
	text[64] = '\0';
	CHECK(arbor_dns_name_from_text(text, w, sizeof w) == -EINVAL, "64-byte label refused");
	/* 63.63.63.61 = 4 * 1 + 250 + 1 = 255 wire bytes; one more byte is 256. */
	memset(text, 'b', 63);
	memset(text + 64, 'c', 63);
	memset(text + 128, 'd', 63);
	memset(text + 192, 'e', 61);
	text[63] = text[127] = text[191] = '.';
	text[253] = '\0';
	CHECK(arbor_dns_name_from_text(text, w, sizeof w) == 255, "255-byte name accepted");
	strcat(text, ".");
	CHECK(arbor_dns_name_from_text(text, w, sizeof w) == 255, "255-byte name with trailing dot accepted");
	text[253] = 'e';
	text[254] = '\0';
	CHECK(arbor_dns_name_from_text(text, w, sizeof w) == -EINVAL, "256-byte name refused");
	CHECK(arbor_dns_name_from_text("a.b", w, 4) == -ENOSPC && arbor_dns_name_from_text("a.b", w, 5) == 5,
	      "short output is -ENOSPC");

	char out[ARBOR_DNS_NAME_TEXT_MAX];
	CHECK(arbor_dns_name_to_text(www, 15, out, sizeof out) == 14 && strcmp(out, "www.home.arpa.") == 0,
	      "name to text, absolute");
	CHECK(arbor_dns_name_to_text((const uint8_t *)"", 1, out, sizeof out) == 1 && strcmp(out, ".") == 0,
	      "root to text");
	static const uint8_t odd[] = { 9, 'a', '.', 'b', '\\', ' ', 0, 0xff, '"', ';', 3, 'C', '@', '$', 0 };
	n = arbor_dns_name_to_text(odd, sizeof odd, out, sizeof out);
	CHECK(n > 0 && strcmp(out, "a\\.b\\\\\\032\\000\\255\\\"\\;.C\\@\\$.") == 0, "escapes out");
	n = arbor_dns_name_from_text(out, w, sizeof w);
	CHECK(n == (int)sizeof odd && memcmp(w, odd, sizeof odd) == 0, "escaped text reads back to the same wire");
	CHECK(arbor_dns_name_to_text(www, 14, out, sizeof out) == -EBADMSG, "missing root label");
	CHECK(arbor_dns_name_to_text((const uint8_t *)"\3www\0\0", 6, out, sizeof out) == -EBADMSG,
	      "bytes after the root label");
	CHECK(arbor_dns_name_to_text((const uint8_t *)"\100", 2, out, sizeof out) == -EBADMSG, "label kind 0x40");
	CHECK(arbor_dns_name_to_text(www, 15, out, 14) == -ENOSPC && arbor_dns_name_to_text(www, 15, out, 0) == -ENOSPC,
	      "short text buffer is -ENOSPC");

	/* The longest possible text: 250 bytes that all need \DDD, in 4 labels. */
	uint8_t big[255];
	memset(big, 0, sizeof big);
	big[0] = 63, big[64] = 63, big[128] = 63, big[192] = 61, big[254] = 0;
	static char longest[ARBOR_DNS_NAME_TEXT_MAX];
	n = arbor_dns_name_to_text(big, sizeof big, longest, sizeof longest);
	CHECK(n == ARBOR_DNS_NAME_TEXT_MAX - 1, "longest text is 1004 characters");
	CHECK(arbor_dns_name_to_text(big, sizeof big, longest, sizeof longest - 1) == -ENOSPC,
	      "and needs all of ARBOR_DNS_NAME_TEXT_MAX");
	n = arbor_dns_name_from_text(longest, w, sizeof w);
	CHECK(n == 255 && memcmp(w, big, 255) == 0, "longest text reads back");

	uint8_t a[255], b[255];
	int an = arbor_dns_name_from_text("WWW.Home.ARPA", a, sizeof a);
	int bn = arbor_dns_name_from_text("www.home.arpa.", b, sizeof b);
	CHECK(arbor_dns_name_equal(a, (size_t)an, b, (size_t)bn), "names equal up to case");
	bn = arbor_dns_name_from_text("www.home.arpb", b, sizeof b);
	CHECK(!arbor_dns_name_equal(a, (size_t)an, b, (size_t)bn), "different names differ");
	bn = arbor_dns_name_from_text("www.home\\.arpa", b, sizeof b);
	CHECK(!arbor_dns_name_equal(a, (size_t)an, b, (size_t)bn), "label boundaries matter");
	CHECK(!arbor_dns_name_equal(a, (size_t)an - 1, a, (size_t)an - 1) && !arbor_dns_name_equal(NULL, 0, NULL, 0),
	      "malformed names are never equal");
}

static void test_compression(void)
{
	struct mb m;
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	char out[ARBOR_DNS_NAME_TEXT_MAX];
	size_t next = 0;

	/* 12: home.arpa.  23: www -> 12  29: a -> 23 */
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "home.arpa", 1);
	labels(&m, "www", 0);
	ptr(&m, 12);
	labels(&m, "a", 0);
	ptr(&m, 23);
	CHECK(m.n == 33, "layout");
	int n = arbor_dns_name_read(m.b, m.n, 23, out, sizeof out, &next);
	CHECK(n > 0 && strcmp(out, "www.home.arpa.") == 0 && next == 29, "backward pointer");
	n = arbor_dns_name_read(m.b, m.n, 29, out, sizeof out, &next);
	CHECK(n > 0 && strcmp(out, "a.www.home.arpa.") == 0 && next == 33, "chain of backward pointers");
	n = arbor_dns_name_unpack(m.b, m.n, 29, w, &next);
	CHECK(n == 17 && memcmp(w, "\1a\3www\4home\4arpa", 17) == 0, "unpack to flat wire");
	n = arbor_dns_name_read(m.b, m.n, 12, out, sizeof out, &next);
	CHECK(n > 0 && strcmp(out, "home.arpa.") == 0 && next == 23, "plain name, next after root");

	/* Loops: a pointer to itself, a label then a pointer back to the label, two
	 * pointers to each other (one of them is forward). */
	header(&m, 1, 0, 0, 0, 0, 0);
	ptr(&m, 12);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "pointer to itself");
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "a", 0);
	ptr(&m, 12);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "loop through the name's own labels");
	header(&m, 1, 0, 0, 0, 0, 0);
	ptr(&m, 14);
	ptr(&m, 12);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG &&
		      arbor_dns_name_unpack(m.b, m.n, 14, w, &next) == -EBADMSG,
	      "two pointers to each other");
	/* A pointer back into the middle of its own run: it points before itself, so a
	 * "before the pointer" rule alone would loop until the length limit. */
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "a.b", 0); /* 12: a, 14: b */
	ptr(&m, 14);          /* 16: -> 14 */
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "pointer into its own run of labels");

	header(&m, 1, 0, 0, 0, 0, 0);
	ptr(&m, 14);
	labels(&m, "x", 1);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 14, w, &next) == 3, "target is a good name");
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "forward pointer refused");
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "x", 1);
	ptr(&m, 0x3fff);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 15, w, &next) == -EBADMSG, "pointer past the end");
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "x", 1);
	ptr(&m, 5);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 15, w, &next) == -EBADMSG, "pointer into the header");
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "x", 1);
	u8(&m, 0xc0);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 15, w, &next) == -EBADMSG, "pointer cut in half");
	header(&m, 1, 0, 0, 0, 0, 0);
	labels(&m, "abc", 0);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "name runs off the end");
	header(&m, 1, 0, 0, 0, 0, 0);
	u8(&m, 5);
	raw(&m, "ab", 2);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "label runs off the end");
	CHECK(arbor_dns_name_unpack(m.b, m.n, 40, w, &next) == -EBADMSG, "offset past the end");
	CHECK(arbor_dns_name_read(m.b, m.n, 12, out, sizeof out, &next) == -EBADMSG, "name_read passes errors on");
	CHECK(arbor_dns_name_unpack(NULL, 0, 0, w, &next) == -EINVAL &&
		      arbor_dns_name_unpack(m.b, m.n, 12, NULL, &next) == -EINVAL,
	      "NULL buffers are -EINVAL");
	header(&m, 1, 0, 0, 0, 0, 0);
	u8(&m, 0x40);
	u8(&m, 0);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "label kind 0x40 refused");
	header(&m, 1, 0, 0, 0, 0, 0);
	u8(&m, 0x80);
	u8(&m, 0);
	CHECK(arbor_dns_name_unpack(m.b, m.n, 12, w, &next) == -EBADMSG, "label kind 0x80 refused");

	/* Length limits across pointers: a 250-byte name (63.63.63.56), then a 4-byte
	 * label in front (255: fine) or a 5-byte one (256: refused). */
	header(&m, 1, 0, 0, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		int label = i < 3 ? 63 : 56;
		u8(&m, (unsigned)label);
		for (int j = 0; j < label; j++)
			u8(&m, (unsigned)('a' + i));
	}
	u8(&m, 0);
	size_t base_len = m.n - 12;
	size_t off4 = m.n;
	labels(&m, "wxyz", 0);
	ptr(&m, 12);
	size_t off5 = m.n;
	labels(&m, "vwxyz", 0);
	ptr(&m, 12);
	CHECK(base_len == 250, "long base name is 250 bytes");
	CHECK(arbor_dns_name_unpack(m.b, m.n, off4, w, &next) == 255, "255 bytes through a pointer");
	CHECK(arbor_dns_name_unpack(m.b, m.n, off5, w, &next) == -EBADMSG, "256 bytes through a pointer refused");

	/* Pointer-to-pointer chains: 127 hops read, 128 refused. */
	header(&m, 1, 0, 0, 0, 0, 0);
	u8(&m, 0);
	for (int i = 0; i < 128; i++)
		ptr(&m, (unsigned)(i == 0 ? 12 : m.n - 2));
	CHECK(arbor_dns_name_unpack(m.b, m.n, m.n - 4, w, &next) == 1, "127 pointers");
	CHECK(arbor_dns_name_unpack(m.b, m.n, m.n - 2, w, &next) == -EBADMSG, "128 pointers refused");
}

static void test_query(void)
{
	uint8_t buf[512], want[64];
	/* The query captured[0] answers, as a script wrote it independently. */
	size_t wlen = unhex("100001000001000000000001037777770468" "6f6d650461727061000001000100002904d0000000000000",
			    want, sizeof want);
	int n = arbor_dns_build_query(buf, sizeof buf, 0x1000, "www.home.arpa", ARBOR_DNS_TYPE_A, true, 1232);
	CHECK(n == (int)wlen && memcmp(buf, want, wlen) == 0, "query with EDNS, byte for byte");
	CHECK(arbor_dns_parse(buf, (size_t)n, &msg) == 0, "own query parses");
	CHECK(msg.header.id == 0x1000 && !msg.header.qr && msg.header.rd && msg.header.opcode == 0 &&
		      msg.header.qdcount == 1 && msg.header.arcount == 1 && msg.has_question &&
		      strcmp(msg.question.name, "www.home.arpa.") == 0 && msg.question.qtype == 1 &&
		      msg.question.qclass == 1 && msg.question.name_off == 12 && msg.question.wire_len == 15,
	      "query header and question");
	CHECK(msg.opt.present && msg.opt.payload == 1232 && msg.opt.version == 0 && !msg.opt.do_bit &&
		      msg.nrr == 1 && msg.rr[0].type == ARBOR_DNS_TYPE_OPT,
	      "query OPT");
	n = arbor_dns_build_query(buf, sizeof buf, 0xbeef, "home.arpa.", ARBOR_DNS_TYPE_MX, false, 0);
	CHECK(n == 12 + 11 + 4 && buf[2] == 0 && buf[3] == 0 && buf[11] == 0, "query without EDNS or RD");
	CHECK(arbor_dns_parse(buf, (size_t)n, &msg) == 0 && !msg.opt.present && msg.header.id == 0xbeef &&
		      !msg.header.rd && msg.question.qtype == 15,
	      "and it parses");
	int ok = 1;
	for (size_t cap = 0; cap < 27; cap++)
		ok &= arbor_dns_build_query(buf, cap, 1, "home.arpa", 1, false, 0) == -ENOSPC;
	CHECK(ok && arbor_dns_build_query(buf, 27, 1, "home.arpa", 1, false, 0) == 27, "exact capacity, -ENOSPC below");
	CHECK(arbor_dns_build_query(buf, sizeof buf, 1, "a..b", 1, true, 0) == -EINVAL &&
		      arbor_dns_build_query(buf, sizeof buf, 1, "", 1, true, 0) == -EINVAL,
	      "bad name is -EINVAL");
}

static void test_captured(void)
{
	uint8_t b[512];
	size_t len = unhex(captured[0], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0, "dnsmasq CNAME+A answer parses");
	CHECK(msg.header.id == 0x1000 && msg.header.qr && msg.header.aa && msg.header.rd && msg.header.ra &&
		      !msg.header.tc && !msg.header.ad && !msg.header.cd && msg.header.rcode == 0 &&
		      msg.header.ancount == 2 && msg.header.arcount == 1,
	      "header flags");
	CHECK(strcmp(msg.question.name, "www.home.arpa.") == 0 && msg.question.qtype == ARBOR_DNS_TYPE_A,
	      "question");
	CHECK(msg.nrr == 3 && msg.rr_total == 3 && msg.rr[0].section == ARBOR_DNS_SECTION_ANSWER &&
		      msg.rr[2].section == ARBOR_DNS_SECTION_ADDITIONAL,
	      "three records, sections");
	CHECK(msg.rr[0].type == ARBOR_DNS_TYPE_CNAME && msg.rr[0].ttl == 300 && owner_is(b, len, 0, "www.home.arpa.") &&
		      rdeq(b, len, 0, "host1.home.arpa."),
	      "CNAME");
	CHECK(msg.rr[1].type == ARBOR_DNS_TYPE_A && msg.rr[1].rclass == 1 && owner_is(b, len, 1, "host1.home.arpa.") &&
		      rdeq(b, len, 1, "192.0.2.10"),
	      "A owned through a pointer into the CNAME rdata");
	CHECK(msg.opt.present && msg.opt.payload == 1232 && msg.rr[2].type == ARBOR_DNS_TYPE_OPT &&
		      rdeq(b, len, 2, "\\# 0"),
	      "dnsmasq's OPT");

	len = unhex(captured[1], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && msg.nrr == 2 && rdeq(b, len, 0, "10 mail.home.arpa.") &&
		      msg.rr[1].section == ARBOR_DNS_SECTION_ADDITIONAL && owner_is(b, len, 1, "mail.home.arpa.") &&
		      rdeq(b, len, 1, "192.0.2.25"),
	      "dnsmasq MX answer with additional A");
	len = unhex(captured[2], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && msg.nrr == 3 &&
		      strcmp(msg.question.name, "_http._tcp.home.arpa.") == 0 &&
		      rdeq(b, len, 0, "0 5 80 host1.home.arpa.") && rdeq(b, len, 1, "192.0.2.10") &&
		      msg.rr[2].type == ARBOR_DNS_TYPE_AAAA && rdeq(b, len, 2, "2001:db8::10"),
	      "dnsmasq SRV answer with A and AAAA");
	len = unhex(captured[3], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && msg.nrr == 1 &&
		      rdeq(b, len, 0, "\"v=spf1 -all\" \"second \\\"quoted\\\"\""),
	      "dnsmasq TXT answer");
	len = unhex(captured[4], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && msg.header.rcode == ARBOR_DNS_RCODE_NXDOMAIN &&
		      strcmp(arbor_dns_rcode_name(msg.header.rcode), "NXDOMAIN") == 0 && msg.header.ancount == 0 &&
		      msg.nrr == 1 && msg.opt.present,
	      "dnsmasq NXDOMAIN");
	len = unhex(captured[5], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && rdeq(b, len, 0, "2001:db8::53"), "dnsmasq AAAA answer");
	len = unhex(captured[6], b, sizeof b);
	CHECK(arbor_dns_parse(b, len, &msg) == 0 && strcmp(msg.question.name, "10.2.0.192.in-addr.arpa.") == 0 &&
		      rdeq(b, len, 0, "host1.home.arpa."),
	      "dnsmasq PTR answer");

	/* Every proper prefix of every answer is malformed (a truncated header, question,
	 * record or rdata), and a byte more is trailing garbage. */
	int ok = 1, header_kept = 1;
	for (size_t i = 0; i < sizeof captured / sizeof captured[0]; i++) {
		len = unhex(captured[i], b, sizeof b);
		for (size_t cut = 0; cut < len; cut++) {
			ok &= arbor_dns_parse(b, cut, &msg) == -EBADMSG;
			if (cut >= 12)
				header_kept &= msg.header.id == 0x1000 + i && msg.header.qr;
		}
		b[len] = 0;
		ok &= arbor_dns_parse(b, len + 1, &msg) == -EBADMSG;
	}
	CHECK(ok, "every truncation and a trailing byte are -EBADMSG");
	CHECK(header_kept, "the header is still filled on -EBADMSG");
	len = unhex(captured[0], b, sizeof b);
	CHECK(arbor_dns_parse(b, 11, &msg) == -EBADMSG, "truncated header");
	CHECK(arbor_dns_parse(b, 20, &msg) == -EBADMSG, "truncated question name");
	CHECK(arbor_dns_parse(b, 29, &msg) == -EBADMSG, "truncated question type/class");
	CHECK(arbor_dns_parse(b, 40, &msg) == -EBADMSG, "truncated RR fixed part");
	CHECK(arbor_dns_parse(b, 50, &msg) == -EBADMSG, "truncated rdata");
}

static void test_handmade(void)
{
	struct mb m;
	char out[512];

	/* An authoritative NXDOMAIN with a compressed SOA in the authority section. */
	header(&m, 0x4242, 0x8403, 1, 0, 1, 0);
	labels(&m, "nope.example.com", 1); /* 12: nope, 17: example, 25: com */
	u16(&m, 1);
	u16(&m, 1);
	ptr(&m, 17);
	size_t rdlen_at = m.n + 8;
	rrhead(&m, ARBOR_DNS_TYPE_SOA, 1, 3600, 0);
	size_t rd = m.n;
	labels(&m, "ns1", 0);
	ptr(&m, 17);
	labels(&m, "hostmaster", 0);
	ptr(&m, 17);
	u32(&m, 2024010101);
	u32(&m, 3600);
	u32(&m, 900);
	u32(&m, 604800);
	u32(&m, 300);
	m.b[rdlen_at] = (uint8_t)((m.n - rd) >> 8);
	m.b[rdlen_at + 1] = (uint8_t)(m.n - rd);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && msg.header.aa && msg.header.rcode == 3 && msg.nrr == 1 &&
		      msg.rr[0].section == ARBOR_DNS_SECTION_AUTHORITY && owner_is(m.b, m.n, 0, "example.com."),
	      "NXDOMAIN with SOA parses");
	CHECK(rdeq(m.b, m.n, 0, "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300"),
	      "SOA with compressed names");
	m.b[rdlen_at + 1]--;
	m.n--;
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && rdtext(m.b, m.n, 0, out, sizeof out) == -EBADMSG,
	      "SOA one byte short");

	/* An answer of many types at once, names compressed against the question. */
	header(&m, 7, 0x8180, 1, 9, 0, 0);
	labels(&m, "example.org", 1); /* 12 */
	u16(&m, ARBOR_DNS_TYPE_ANY);
	u16(&m, 1);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_MX, 1, 60, 2 + 3 + 2);
	u16(&m, 5);
	labels(&m, "mx", 0);
	ptr(&m, 12);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_NS, 1, 60, 2);
	ptr(&m, 12);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_SRV, 1, 60, 6 + 1);
	u16(&m, 1);
	u16(&m, 2);
	u16(&m, 443);
	u8(&m, 0);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_CAA, 1, 60, 2 + 5 + 10);
	u8(&m, 128);
	u8(&m, 5);
	raw(&m, "issue", 5);
	raw(&m, "ca.\"x\"\\\001ok", 10);
	ptr(&m, 12);
	rrhead(&m, 99, 1, 60, 3); /* SPF: no text form here, so generic */
	raw(&m, "\002\x0a\xff", 3);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_A, ARBOR_DNS_CLASS_CH, 60, 4);
	raw(&m, "\x01\x02\x03\x04", 4);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_TXT, 1, 60, 4);
	raw(&m, "\0\002a\t", 4);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_PTR, 1, 60, 1);
	u8(&m, 0);
	ptr(&m, 12);
	rrhead(&m, ARBOR_DNS_TYPE_DNAME, 1, 60, 2);
	ptr(&m, 12);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && msg.nrr == 9 && msg.question.qtype == ARBOR_DNS_TYPE_ANY,
	      "many-type answer parses");
	CHECK(rdeq(m.b, m.n, 0, "5 mx.example.org."), "MX with a compressed target");
	CHECK(rdeq(m.b, m.n, 1, "example.org."), "NS that is only a pointer");
	CHECK(rdeq(m.b, m.n, 2, "1 2 443 ."), "SRV with the root as target");
	CHECK(rdeq(m.b, m.n, 3, "128 issue \"ca.\\\"x\\\"\\\\\\001ok\""), "CAA, value escaped");
	CHECK(rdeq(m.b, m.n, 4, "\\# 3 020AFF"), "unknown type: RFC 3597 generic");
	CHECK(rdeq(m.b, m.n, 5, "\\# 4 01020304"), "A outside class IN: generic");
	msg.rr[2].rclass = ARBOR_DNS_CLASS_CH;
	CHECK(rdeq(m.b, m.n, 2, "\\# 7 0001000201BB00"), "SRV outside class IN: generic");
	CHECK(rdeq(m.b, m.n, 6, "\"\" \"a\\009\""), "TXT with an empty string and a tab");
	CHECK(rdeq(m.b, m.n, 7, "."), "PTR to the root");
	CHECK(rdeq(m.b, m.n, 8, "example.org."), "DNAME");
	CHECK(rdtext(m.b, m.n, 0, out, 10) == -ENOSPC && rdtext(m.b, m.n, 0, out, 18) == 17 &&
		      rdtext(m.b, m.n, 0, out, 17) == -ENOSPC && rdtext(m.b, m.n, 0, out, 0) == -ENOSPC,
	      "short output is -ENOSPC, exact fit works");
	struct arbor_dns_rr bad = msg.rr[0];
	bad.rdata_len = 4000;
	CHECK(arbor_dns_rdata_to_text(m.b, m.n, &bad, out, sizeof out) == -EBADMSG, "rdata outside the message");
	bad = msg.rr[1];
	bad.rdata_len = 1;
	CHECK(arbor_dns_rdata_to_text(m.b, m.n, &bad, out, sizeof out) == -EBADMSG, "name cut by rdlength");

	/* Malformed rdata for each typed form, in records that frame correctly. */
	struct {
		unsigned type;
		const char *rdata;
		size_t len;
		const char *what;
	} const bads[] = {
		{ ARBOR_DNS_TYPE_A, "\1\2\3", 3, "A of 3 bytes" },
		{ ARBOR_DNS_TYPE_A, "\1\2\3\4\5", 5, "A of 5 bytes" },
		{ ARBOR_DNS_TYPE_AAAA, "\1\2\3\4", 4, "AAAA of 4 bytes" },
		{ ARBOR_DNS_TYPE_CNAME, "\1a\0\0", 4, "CNAME with a byte after the name" },
		{ ARBOR_DNS_TYPE_CNAME, "", 0, "empty CNAME" },
		{ ARBOR_DNS_TYPE_NS, "\3ab", 3, "NS name past rdata" },
		{ ARBOR_DNS_TYPE_MX, "\0\1", 2, "MX without a name" },
		{ ARBOR_DNS_TYPE_SRV, "\0\1\0\2\0\3", 6, "SRV without a name" },
		{ ARBOR_DNS_TYPE_TXT, "", 0, "empty TXT" },
		{ ARBOR_DNS_TYPE_TXT, "\3ab", 3, "TXT string past rdata" },
		{ ARBOR_DNS_TYPE_SOA, "\0\0", 2, "SOA without numbers" },
		{ ARBOR_DNS_TYPE_SOA, "\100", 1, "SOA with a bad first name" },
		{ ARBOR_DNS_TYPE_CAA, "\0\0", 2, "CAA with an empty tag" },
		{ ARBOR_DNS_TYPE_CAA, "\0\5iss", 5, "CAA tag past rdata" },
		{ ARBOR_DNS_TYPE_CAA, "\0\2i-", 4, "CAA tag not alphanumeric" },
		{ ARBOR_DNS_TYPE_PTR, "\300\005", 2, "PTR pointing into the header" },
	};
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		header(&m, 1, 0x8000, 0, 1, 0, 0);
		u8(&m, 0);
		rrhead(&m, bads[i].type, 1, 0, (unsigned)bads[i].len);
		raw(&m, bads[i].rdata, bads[i].len);
		int rc = arbor_dns_parse(m.b, m.n, &msg);
		CHECK(rc == 0 && rdtext(m.b, m.n, 0, out, sizeof out) == -EBADMSG && out[0] == '\0', bads[i].what);
	}
}

static void test_opt(void)
{
	struct mb m;
	/* A BADVERS answer: header rcode 0, extended rcode 1, version 1, DO. */
	header(&m, 9, 0x8000, 0, 0, 0, 1);
	u8(&m, 0);
	rrhead(&m, ARBOR_DNS_TYPE_OPT, 4096, 0x01018000, 12);
	u16(&m, 10); /* COOKIE */
	u16(&m, 8);
	raw(&m, "12345678", 8);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0, "OPT with an option parses");
	CHECK(msg.opt.present && msg.opt.payload == 4096 && msg.opt.ext_rcode == 1 && msg.opt.version == 1 &&
		      msg.opt.do_bit && msg.opt.flags == 0x8000 && msg.opt.rdata_len == 12 &&
		      msg.header.rcode == ARBOR_DNS_RCODE_BADVERS,
	      "payload, version, DO, extended rcode");
	CHECK(strcmp(arbor_dns_rcode_name(msg.header.rcode), "BADVERS") == 0, "BADVERS by name");
	m.b[3] = 0x02; /* header rcode SERVFAIL with extended 1: 18 */
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && msg.header.rcode == 18, "12-bit rcode combines both parts");
	m.b[m.n - 9] = 9; /* option length 9 > 8 bytes left */
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "option longer than the rdata");
	m.b[m.n - 9] = 7; /* 1 byte left over: not a whole option header */
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "option list with a stray byte");

	header(&m, 9, 0x8000, 0, 0, 0, 2);
	u8(&m, 0);
	rrhead(&m, ARBOR_DNS_TYPE_OPT, 1232, 0, 0);
	u8(&m, 0);
	rrhead(&m, ARBOR_DNS_TYPE_OPT, 1232, 0, 0);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "two OPT records refused");
	header(&m, 9, 0x8000, 0, 1, 0, 0);
	u8(&m, 0);
	rrhead(&m, ARBOR_DNS_TYPE_OPT, 1232, 0, 0);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "OPT in the answer section refused");
	header(&m, 9, 0x8000, 0, 0, 0, 1);
	labels(&m, "a", 1);
	rrhead(&m, ARBOR_DNS_TYPE_OPT, 1232, 0, 0);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "OPT not owned by the root refused");
}

static void test_limits(void)
{
	struct mb m;
	/* 70 answers: 64 stored, all counted. */
	header(&m, 3, 0x8180, 1, 70, 0, 0);
	labels(&m, "many.example", 1);
	u16(&m, 1);
	u16(&m, 1);
	for (unsigned i = 0; i < 70; i++) {
		ptr(&m, 12);
		rrhead(&m, ARBOR_DNS_TYPE_A, 1, i, 4);
		u32(&m, 0xc0000200ul + i);
	}
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && msg.nrr == ARBOR_DNS_MAX_RRS && msg.rr_total == 70 &&
		      msg.rr[63].ttl == 63,
	      "more records than stored are counted");
	CHECK(rdeq(m.b, m.n, 63, "192.0.2.63"), "last stored record");

	/* Two questions: both checked, the first kept. */
	header(&m, 3, 0, 2, 0, 0, 0);
	labels(&m, "first.example", 1);
	u16(&m, 1);
	u16(&m, 1);
	labels(&m, "second", 0);
	ptr(&m, 18);
	u16(&m, 28);
	u16(&m, 1);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && strcmp(msg.question.name, "first.example.") == 0 &&
		      msg.header.qdcount == 2,
	      "two questions, first kept");
	m.b[m.n - 5] = 0xff; /* second question's pointer now forward */
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "bad second question refused");

	header(&m, 3, 0, 0, 0, 0, 0);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == 0 && !msg.has_question && msg.nrr == 0, "empty message");
	header(&m, 3, 0, 0, 0xffff, 0, 0);
	CHECK(arbor_dns_parse(m.b, m.n, &msg) == -EBADMSG, "counts larger than the message");

	static uint8_t huge[ARBOR_DNS_MAX_MSG + 1];
	CHECK(arbor_dns_parse(huge, sizeof huge, &msg) == -EMSGSIZE, "over 65535 bytes is -EMSGSIZE");
	CHECK(arbor_dns_parse(huge, 0, &msg) == -EBADMSG && arbor_dns_parse(NULL, 0, &msg) == -EBADMSG,
	      "empty input");
}

int main(void)
{
	test_mnemonics();
	test_name_text();
	test_compression();
	test_query();
	test_captured();
	test_handmade();
	test_opt();
	test_limits();
	return tap_done();
}
