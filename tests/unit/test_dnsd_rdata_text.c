/* Unit test for dnsd's record text parser: every supported type into the exact
 * wire bytes, names relative to the origin and absolute, TXT quoting and splitting,
 * CAA, the RFC 3597 generic form, and the error message for each kind of mistake;
 * plus the name helpers it builds on (relative names, reverse names). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "tap.h"

static uint8_t origin[ARBOR_DNS_NAME_WIRE_MAX];
static size_t origin_len;
static char err[256];

static int parse(int type, const char *data, uint8_t *out, size_t cap)
{
	err[0] = '\0';
	return rdata_from_text(type, data, origin, origin_len, out, cap, err, sizeof err);
}

/* Parses and compares with the expected bytes. */
static bool gives(int type, const char *data, const void *want, size_t want_len)
{
	uint8_t out[1024];
	int n = parse(type, data, out, sizeof out);
	if (n != (int)want_len || memcmp(out, want, want_len) != 0) {
		printf("# %s: got %d (%s)\n", data, n, err);
		return false;
	}
	return true;
}

/* Fails with -EINVAL and a message containing want. */
static bool refuses(int type, const char *data, const char *want)
{
	uint8_t out[1024];
	int n = parse(type, data, out, sizeof out);
	if (n != -EINVAL || strstr(err, want) == NULL) {
		printf("# %s: got %d \"%s\", want a message with \"%s\"\n", data, n, err, want);
		return false;
	}
	return true;
}

static void test_addresses(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_A, "192.0.2.1", "\xc0\x00\x02\x01", 4), "A");
	CHECK(gives(ARBOR_DNS_TYPE_A, "  10.0.0.1 ", "\x0a\x00\x00\x01", 4), "A with spaces around");
	CHECK(gives(ARBOR_DNS_TYPE_AAAA, "2001:db8::1", "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16), "AAAA");
	CHECK(refuses(ARBOR_DNS_TYPE_A, "192.0.2.300", "A data \"192.0.2.300\" is not an IPv4 address"),
	      "A out of range refused");
	CHECK(refuses(ARBOR_DNS_TYPE_A, "192.0.2.1 x", "is not an IPv4 address"), "A with junk refused");
	CHECK(refuses(ARBOR_DNS_TYPE_A, "", "is not an IPv4 address"), "empty A refused");
	CHECK(refuses(ARBOR_DNS_TYPE_AAAA, "192.0.2.1", "is not an IPv6 address"), "AAAA given IPv4 refused");
}

static void test_names(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_CNAME, "www", "\3www\4home\4arpa", 15), "CNAME relative to the origin");
	CHECK(gives(ARBOR_DNS_TYPE_CNAME, "host.example.", "\4host\7example", 14), "CNAME absolute");
	CHECK(gives(ARBOR_DNS_TYPE_PTR, "@", "\4home\4arpa", 11), "PTR @ is the origin");
	CHECK(gives(ARBOR_DNS_TYPE_NS, "ns1.m1.lan0", "\3ns1\2m1\4lan0\4home\4arpa", 23), "NS relative, several labels");
	CHECK(gives(ARBOR_DNS_TYPE_CNAME, "a\\.b", "\3a.b\4home\4arpa", 15), "escaped dot stays in the label");
	CHECK(gives(ARBOR_DNS_TYPE_CNAME, "a\\\\.", "\2a\\", 4), "escaped backslash, then an absolute dot");
	CHECK(refuses(ARBOR_DNS_TYPE_CNAME, "a..b", "CNAME target \"a..b\" is not a valid name"), "empty label refused");
	CHECK(refuses(ARBOR_DNS_TYPE_CNAME, "a b", "CNAME data needs 1 field: target"), "two fields refused");
	char longname[300];
	memset(longname, 'a', 64);
	longname[64] = '\0';
	CHECK(refuses(ARBOR_DNS_TYPE_PTR, longname, "is not a valid name"), "label of 64 refused");
	/* 4 labels of 60 = 244 bytes + home.arpa (11) = 255: at the limit; one more is over. */
	char *p = longname;
	for (int i = 0; i < 4; i++) {
		memset(p, 'b', 60);
		p[60] = '.';
		p += 61;
	}
	p[-1] = '\0';
	uint8_t out[300];
	CHECK(parse(ARBOR_DNS_TYPE_CNAME, longname, out, sizeof out) == 255, "relative name of exactly 255 bytes");
	strcpy(p - 1, ".bb"); /* 4 x 61 + 3 + 11 = 258 */
	CHECK(refuses(ARBOR_DNS_TYPE_CNAME, longname, "is not a valid name"), "origin pushes it over 255: refused");
	err[0] = '\0';
	CHECK(rdata_from_text(ARBOR_DNS_TYPE_CNAME, "www", NULL, 0, out, sizeof out, err, sizeof err) == -EINVAL &&
		      strstr(err, "not an absolute name"),
	      "relative name without an origin refused");
	CHECK(rdata_from_text(ARBOR_DNS_TYPE_CNAME, "www.example.", NULL, 0, out, sizeof out, err, sizeof err) == 13,
	      "absolute name without an origin");
}

static void test_mx_srv(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_MX, "10 mail", "\0\x0a\4mail\4home\4arpa", 18), "MX");
	CHECK(gives(ARBOR_DNS_TYPE_MX, "0 .", "\0\0\0", 3), "MX null (RFC 7505)");
	CHECK(refuses(ARBOR_DNS_TYPE_MX, "mail", "MX data needs 2 fields: preference exchange"), "MX one field");
	CHECK(refuses(ARBOR_DNS_TYPE_MX, "70000 mail", "MX preference \"70000\" is not a number from 0 to 65535"),
	      "MX preference too big");
	CHECK(refuses(ARBOR_DNS_TYPE_MX, "-1 mail", "not a number"), "MX negative");
	CHECK(refuses(ARBOR_DNS_TYPE_MX, "+1 mail", "not a number"), "MX with a sign");
	CHECK(gives(ARBOR_DNS_TYPE_SRV, "0 5 80 host", "\0\0\0\x05\0\x50\4host\4home\4arpa", 22), "SRV");
	CHECK(gives(ARBOR_DNS_TYPE_SRV, "1\t2\t65535   target.example.", "\0\1\0\2\xff\xff\6target\7example", 22),
	      "SRV with tabs, absolute target");
	CHECK(refuses(ARBOR_DNS_TYPE_SRV, "0 5 80", "SRV data needs 4 fields: priority weight port target"),
	      "SRV with 3 fields");
	CHECK(refuses(ARBOR_DNS_TYPE_SRV, "0 5 80 a b", "SRV data needs 4 fields"), "SRV with 5 fields");
	CHECK(refuses(ARBOR_DNS_TYPE_SRV, "0 x 80 host", "SRV weight \"x\" is not a number"), "SRV weight not a number");
	CHECK(refuses(ARBOR_DNS_TYPE_SRV, "0 5 65536 host", "SRV port \"65536\""), "SRV port too big");
}

static void test_txt(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_TXT, "\"a\" \"b\"", "\1a\1b", 4), "TXT two quoted strings");
	CHECK(gives(ARBOR_DNS_TYPE_TXT, "v=spf1 -all", "\x0bv=spf1 -all", 12), "TXT plain text is one string");
	CHECK(gives(ARBOR_DNS_TYPE_TXT, "\"say \\\"hi\\\" \\\\ \\065\"", "\x0csay \"hi\" \\ A", 13), "TXT escapes");
	CHECK(gives(ARBOR_DNS_TYPE_TXT, "\"\"", "\0", 1), "TXT one empty string");
	CHECK(gives(ARBOR_DNS_TYPE_TXT, "", "\0", 1), "TXT empty plain text");
	char long_text[600];
	memset(long_text, 'k', 300);
	long_text[300] = '\0';
	uint8_t out[1024];
	int n = parse(ARBOR_DNS_TYPE_TXT, long_text, out, sizeof out);
	CHECK(n == 302 && out[0] == 255 && out[256] == 45 && out[1] == 'k' && out[301] == 'k',
	      "TXT plain text over 255 bytes is split into strings");
	long_text[0] = '"';
	memset(long_text + 1, 'q', 256);
	strcpy(long_text + 257, "\"");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, long_text, "TXT string is longer than 255 bytes"), "quoted string over 255");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, "\"open", "unterminated quoted string"), "unterminated string");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, "\"a\" b", "mixes quoted strings and bare text"), "quoted then bare");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, "\"a\"\"b\"", "separated by spaces"), "strings not separated");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, "\"\\12\"", "\\DDD needs 3 digits"), "short \\DDD");
	CHECK(refuses(ARBOR_DNS_TYPE_TXT, "\"\\300\"", "over 255"), "\\DDD over 255");
}

static void test_caa(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_CAA, "0 issue \"ca.example\"", "\0\5issueca.example", 17), "CAA quoted value");
	CHECK(gives(ARBOR_DNS_TYPE_CAA, "128 iodef mailto:a@b", "\x80\5iodefmailto:a@b", 17), "CAA bare value");
	CHECK(gives(ARBOR_DNS_TYPE_CAA, "0 issue \";\"", "\0\5issue;", 8), "CAA value ';' (no issuer)");
	CHECK(refuses(ARBOR_DNS_TYPE_CAA, "0 issue", "CAA data needs 3 fields: flags tag value"), "CAA two fields");
	CHECK(refuses(ARBOR_DNS_TYPE_CAA, "256 issue x", "CAA flags \"256\""), "CAA flags over 255");
	CHECK(refuses(ARBOR_DNS_TYPE_CAA, "0 is-sue x", "CAA tag \"is-sue\" must be 1-15 letters and digits"),
	      "CAA tag with a dash");
	CHECK(refuses(ARBOR_DNS_TYPE_CAA, "0 issue a b", "must be quoted"), "CAA bare value with a space");
	CHECK(refuses(ARBOR_DNS_TYPE_CAA, "0 issue \"a\" b", "text after the quoted value"), "CAA junk after value");
}

static void test_generic(void)
{
	CHECK(gives(ARBOR_DNS_TYPE_A, "\\# 4 c0000201", "\xc0\x00\x02\x01", 4), "generic form for a known type");
	CHECK(gives(65280, "\\# 3 01 02 0A", "\x01\x02\x0a", 3), "generic form, private type, split hex");
	CHECK(gives(99, "\\# 0", "", 0), "generic empty rdata");
	CHECK(refuses(ARBOR_DNS_TYPE_NS, "\\# 4 0a000000", "rdata must be one uncompressed name"),
	      "generic form for NS must hold a name (found by the fuzzer)");
	CHECK(refuses(ARBOR_DNS_TYPE_A, "\\# 3 010203", "A rdata must be 4 bytes"), "generic A of 3 bytes");
	CHECK(gives(ARBOR_DNS_TYPE_MX, "\\# 5 000a016d00", "\0\x0a\1m\0", 5), "generic MX holding a valid name");
	CHECK(refuses(99, "\\# 3 0102", "says 3 bytes but has 2"), "generic length mismatch");
	CHECK(refuses(99, "\\# 1 0", "and a half"), "generic odd hex");
	CHECK(refuses(99, "\\# 1 zz", "non-hex"), "generic bad hex");
	CHECK(refuses(99, "\\#", "length must be a number"), "generic without length");
	CHECK(refuses(ARBOR_DNS_TYPE_HINFO, "a b", "HINFO has no text form here"), "type without a text form");
	CHECK(refuses(99, "abc", "TYPE99 has no text form here"), "unknown type named TYPEnn");
	CHECK(refuses(ARBOR_DNS_TYPE_ANY, "x", "not a record type that can be stored"), "meta type refused");
	CHECK(refuses(ARBOR_DNS_TYPE_OPT, "\\# 0", "not a record type that can be stored"), "OPT refused");
	CHECK(refuses(70000, "x", "out of range"), "type out of range");
	CHECK(refuses(ARBOR_DNS_TYPE_A, NULL, "no data"), "NULL data");
}

static void test_space(void)
{
	uint8_t out[8];
	err[0] = '\0';
	CHECK(rdata_from_text(ARBOR_DNS_TYPE_CNAME, "www", origin, origin_len, out, sizeof out, err, sizeof err) ==
			      -ENOSPC &&
		      strstr(err, "longer than the 8 bytes"),
	      "short output: -ENOSPC with a message");
	CHECK(rdata_from_text(ARBOR_DNS_TYPE_A, "192.0.2.1", origin, origin_len, out, 4, NULL, 0) == 4,
	      "exact room, err may be NULL");
	CHECK(rdata_from_text(ARBOR_DNS_TYPE_A, "x", origin, origin_len, out, 4, NULL, 0) == -EINVAL,
	      "error with err NULL");
}

static void test_dname(void)
{
	uint8_t w[300];
	int n = dname_from_text("www", origin, origin_len, w, sizeof w);
	CHECK(n == 15 && memcmp(w, "\3www\4home\4arpa", 15) == 0, "relative name");
	CHECK(dname_from_text("www.", origin, origin_len, w, sizeof w) == 5, "absolute name");
	CHECK(dname_from_text("@", origin, origin_len, w, sizeof w) == 11, "@");
	CHECK(dname_from_text("", origin, origin_len, w, sizeof w) == -EINVAL, "empty text");
	CHECK(dname_from_text("www", origin, origin_len, w, 5) == -ENOSPC, "short output");
	CHECK(dname_is_below((const uint8_t *)"\3www\4HOME\4arpa", 15, origin, origin_len) &&
		      dname_is_below(origin, origin_len, origin, origin_len) &&
		      !dname_is_below((const uint8_t *)"\5xhome\4arpa", 12, origin, origin_len) &&
		      !dname_is_below((const uint8_t *)"\4arpa", 6, origin, origin_len),
	      "is_below: case, apex itself, label boundary, ancestor");
	CHECK(dname_check((const uint8_t *)"\3www\0", 5) == 1 && dname_check((const uint8_t *)"\3www", 4) < 0 &&
		      dname_check((const uint8_t *)"\xc0\x0c", 2) < 0 && dname_check((const uint8_t *)"", 1) == 0,
	      "dname_check");
	struct dname_labels l1, l2;
	dname_split((const uint8_t *)"\3WwW\4home\4arpa", &l1);
	dname_split((const uint8_t *)"\4home\4ARPA", &l2);
	CHECK(l1.n == 3 && l2.n == 2 && l1.hash[1] == l2.hash[0] && l1.hash[3] == DNAME_HASH_ROOT &&
		      l1.hash[0] == dname_hash((const uint8_t *)"\3www\4home\4arpa"),
	      "suffix hashes are case-insensitive and shared by ancestors");

	char text[ARBOR_DNS_NAME_TEXT_MAX];
	const uint8_t a4[4] = { 192, 168, 1, 10 };
	n = dname_reverse4(a4, 32, w, sizeof w);
	CHECK(n > 0 && arbor_dns_name_to_text(w, (size_t)n, text, sizeof text) > 0 &&
		      strcmp(text, "10.1.168.192.in-addr.arpa.") == 0,
	      "reverse4 of an address");
	n = dname_reverse4(a4, 24, w, sizeof w);
	CHECK(n > 0 && arbor_dns_name_to_text(w, (size_t)n, text, sizeof text) > 0 &&
		      strcmp(text, "1.168.192.in-addr.arpa.") == 0,
	      "reverse4 zone of a /24");
	CHECK(dname_reverse4(a4, 20, w, sizeof w) == -EINVAL, "reverse4 off an octet boundary");
	const uint8_t a6[16] = { 0xfd, 0x00, 0xab, 0xcd, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	n = dname_reverse6(a6, 48, w, sizeof w);
	CHECK(n > 0 && arbor_dns_name_to_text(w, (size_t)n, text, sizeof text) > 0 &&
		      strcmp(text, "4.3.2.1.d.c.b.a.0.0.d.f.ip6.arpa.") == 0,
	      "reverse6 zone of a /48");
	n = dname_reverse6(a6, 128, w, sizeof w);
	CHECK(n == 74 && w[0] == 1 && w[1] == '1' && w[3] == '0', "reverse6 of an address");
	CHECK(dname_reverse6(a6, 50, w, sizeof w) == -EINVAL && dname_reverse6(a6, 128, w, 10) == -ENOSPC,
	      "reverse6 bad prefix, short output");
}

int main(void)
{
	origin_len = (size_t)arbor_dns_name_from_text("home.arpa", origin, sizeof origin);
	test_addresses();
	test_names();
	test_mx_srv();
	test_txt();
	test_caa();
	test_generic();
	test_space();
	test_dname();
	return tap_done();
}
