/* libFuzzer harness for dnsd's record text parser. The first byte picks the type,
 * the second a buffer size, the rest is the text. It must never crash or write past
 * the buffer; an error always comes with a message; and what it accepts must be
 * valid wire rdata for the type (the zone database takes it) that survives
 * rendering to master-file text (the common codec's, the way dig prints it) and
 * parsing again, byte for byte. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "zone.h"

static const int types[] = { ARBOR_DNS_TYPE_A,   ARBOR_DNS_TYPE_AAAA, ARBOR_DNS_TYPE_NS,  ARBOR_DNS_TYPE_CNAME,
			     ARBOR_DNS_TYPE_PTR, ARBOR_DNS_TYPE_MX,   ARBOR_DNS_TYPE_TXT, ARBOR_DNS_TYPE_SRV,
			     ARBOR_DNS_TYPE_CAA, ARBOR_DNS_TYPE_HINFO, 99,               ARBOR_DNS_TYPE_ANY };

static struct zone_db *db;
static uint8_t home[ARBOR_DNS_NAME_WIRE_MAX];
static size_t home_len;
static char text[70000], again_text[2 * 65536 + 64], err[256];
static uint8_t rdata[65536 + 64], again[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (db == NULL) {
		home_len = (size_t)arbor_dns_name_from_text("home.arpa", home, sizeof home);
		db = zone_db_new();
		const struct zone_soa soa = { .minimum = 60, .ttl = 60 };
		const char *ns[] = { "ns" };
		if (zone_db_add_zone(db, "home.arpa", &soa, ns, 1, 1, NULL, 0) < 0)
			abort();
	}
	if (size < 2)
		return 0;
	int type = types[data[0] % (sizeof types / sizeof types[0])];
	size_t cap = data[1] < 128 ? data[1] : 65536;
	size_t n = size - 2 < sizeof text - 1 ? size - 2 : sizeof text - 1;
	memcpy(text, data + 2, n);
	text[n] = '\0';

	memset(rdata + cap, 0x5a, 64);
	err[0] = 'x';
	int len = rdata_from_text(type, text, home, home_len, rdata, cap, err, sizeof err);
	for (size_t i = cap; i < cap + 64; i++)
		if (rdata[i] != 0x5a)
			abort();
	if (len < 0) {
		if ((len != -EINVAL && len != -ENOSPC) || err[0] == '\0' || strlen(err) >= sizeof err)
			abort();
		return 0;
	}
	if ((size_t)len > cap)
		abort();

	/* The zone database takes it (owner inside the zone). */
	static uint8_t owner[ARBOR_DNS_NAME_WIRE_MAX];
	owner[0] = 1;
	owner[1] = 'x';
	memcpy(owner + 2, home, home_len);
	const struct zone_record r = { .owner = owner, .owner_len = home_len + 2, .type = (uint16_t)type, .ttl = 1,
				       .rdata = rdata, .rdata_len = (size_t)len };
	if (zone_db_replace_source(db, 1, &r, 1, 1, NULL, err, sizeof err) < 0)
		abort();

	/* Rendered and parsed again: the same bytes. */
	const struct arbor_dns_rr rr = { .type = (uint16_t)type, .rclass = ARBOR_DNS_CLASS_IN, .rdata_off = 0,
					 .rdata_len = (size_t)len };
	int tlen = arbor_dns_rdata_to_text(rdata, (size_t)len, &rr, again_text, sizeof again_text);
	if (tlen < 0)
		abort();
	int len2 = rdata_from_text(type, again_text, home, home_len, again, sizeof again, err, sizeof err);
	if (len2 != len || memcmp(again, rdata, (size_t)len) != 0)
		abort();
	return 0;
}
