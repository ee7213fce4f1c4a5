/* Unit test for dnsd's zone database: zones and their SOA/NS, record sources
 * replaced and withdrawn atomically, the serial rule (one bump per change,
 * max(serial + 1, now), none without a change, only in the zones that changed),
 * refusal of bad batches with a clear message and nothing changed, CNAME conflicts
 * between sources, duplicates and TTLs, nested zones, empty non-terminals and
 * delegation points in the compiled index, removing a zone (refused while a
 * source's record would be left outside every zone; the zones after it keep
 * their content and serials, an enclosing zone takes its names back), and a
 * large batch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "tap.h"
#include "zone.h"
#include "zone_index.h"

#define T0 1700000000

/* A pool of records built from text, owners relative to home.arpa. */
struct batch {
	struct zone_record r[64];
	uint8_t owner[64][ARBOR_DNS_NAME_WIRE_MAX];
	uint8_t rdata[64][512];
	size_t n;
};

static uint8_t home[ARBOR_DNS_NAME_WIRE_MAX];
static size_t home_len;

static void add(struct batch *b, const char *owner, int type, uint32_t ttl, const char *data)
{
	char err[200];
	struct zone_record *r = &b->r[b->n];
	int on = dname_from_text(owner, home, home_len, b->owner[b->n], ARBOR_DNS_NAME_WIRE_MAX);
	int rn = rdata_from_text(type, data, home, home_len, b->rdata[b->n], 512, err, sizeof err);
	if (on < 0 || rn < 0) {
		printf("# bad test record %s %s: %s\n", owner, data, err);
		return;
	}
	*r = (struct zone_record){ .owner = b->owner[b->n], .owner_len = (size_t)on, .type = (uint16_t)type,
				   .ttl = ttl, .rdata = b->rdata[b->n], .rdata_len = (size_t)rn };
	b->n++;
}

static struct zone_db *new_db(void)
{
	struct zone_db *db = zone_db_new();
	const struct zone_soa soa = { .refresh = 3600, .retry = 600, .expire = 86400, .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1", "ns2.example." };
	char err[200];
	int z = zone_db_add_zone(db, "home.arpa", &soa, ns, 2, T0, err, sizeof err);
	if (z != 0)
		printf("# add_zone: %d %s\n", z, err);
	return db;
}

static uint32_t serial(const struct zone_db *db, size_t z)
{
	struct zone_info info;
	return zone_db_zone_info(db, z, &info) == 0 ? info.serial : 0;
}

static size_t records(const struct zone_db *db, size_t z)
{
	struct zone_info info;
	return zone_db_zone_info(db, z, &info) == 0 ? info.records : 0;
}

/* The node for a name (text, absolute) in the compiled index. */
static const struct zidx_node *node_of(const struct zone_db *db, const char *text)
{
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text(text, w, sizeof w);
	if (n < 0)
		return NULL;
	dname_lower(w, (size_t)n, w);
	return zidx_lookup(zone_db_index(db), w, (size_t)n, dname_hash(w));
}

static const struct zidx_set *set_of(const struct zone_db *db, const char *text, uint16_t type)
{
	const struct zidx_node *node = node_of(db, text);
	return node ? zidx_find_set(zone_db_index(db), node, type) : NULL;
}

static void test_zone_basics(void)
{
	struct zone_db *db = new_db();
	struct zone_info info;
	CHECK(zone_db_zone_count(db) == 1 && zone_db_zone_info(db, 0, &info) == 0 &&
		      strcmp(info.apex, "home.arpa.") == 0 && info.serial == T0 && info.records == 3,
	      "zone: apex text, serial = now, SOA + 2 NS");
	CHECK(zone_db_zone_info(db, 1, &info) == -ENOENT, "zone index out of range");
	const struct zidx_set *soa = set_of(db, "home.arpa.", ARBOR_DNS_TYPE_SOA);
	const struct zone_index *idx = zone_db_index(db);
	CHECK(soa && soa->n == 1 && soa->ttl == 3600, "SOA at the apex");
	if (soa) {
		const struct zidx_rr *rr = &idx->rrs[soa->first];
		/* mname = the first NS (ns1.home.arpa), rname = hostmaster.home.arpa */
		CHECK(rr->len == 15 + 22 + 20 && memcmp(idx->arena + rr->off, "\3ns1\4home\4arpa\0\12hostmaster", 26) == 0,
		      "SOA mname defaults to the first NS, rname to hostmaster");
		CHECK(idx->zones[0].neg_ttl == 300, "negative TTL = min(SOA TTL, minimum)");
	}
	const struct zidx_set *ns = set_of(db, "HOME.arpa", ARBOR_DNS_TYPE_NS);
	CHECK(ns && ns->n == 2, "apex NS, looked up in any case");

	char err[200];
	const struct zone_soa soa2 = { .minimum = 60, .ttl = 30, .serial = T0 + 500, .mname = "ns.example.",
				       .rname = "admin.example." };
	const char *ns2[] = { "ns.example." };
	CHECK(zone_db_add_zone(db, "home.arpa.", &soa2, ns2, 1, T0, err, sizeof err) == -EEXIST, "duplicate apex");
	CHECK(zone_db_add_zone(db, "1.168.192.in-addr.arpa", &soa2, ns2, 1, T0, err, sizeof err) == 1 &&
		      serial(db, 1) == T0 + 500 && zone_db_index(db)->zones[1].neg_ttl == 30,
	      "second zone: serial = max(given, now), negative TTL from the SOA TTL");
	CHECK(zone_db_add_zone(db, "x", &soa2, ns2, 0, T0, err, sizeof err) == -EINVAL &&
		      strstr(err, "at least one NS"),
	      "zone without NS refused");
	const char *badns[] = { "a..b" };
	CHECK(zone_db_add_zone(db, "y", &soa2, badns, 1, T0, err, sizeof err) == -EINVAL && strstr(err, "\"a..b\""),
	      "bad NS name refused with the name");
	CHECK(zone_db_add_zone(db, "a..b", &soa2, ns2, 1, T0, err, sizeof err) == -EINVAL && strstr(err, "apex"),
	      "bad apex refused");
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text("1.168.192.IN-ADDR.arpa", w, sizeof w);
	CHECK(zone_db_zone_find(db, w, (size_t)n) == 1 && zone_db_zone_find(db, w + 2, (size_t)n - 2) == -ENOENT,
	      "zone_find");
	zone_db_free(db);
}

static void test_serial_rules(void)
{
	struct zone_db *db = new_db();
	static struct batch b;
	b.n = 0;
	add(&b, "www", ARBOR_DNS_TYPE_A, 300, "192.168.1.10");
	add(&b, "www", ARBOR_DNS_TYPE_AAAA, 300, "fd00::10");
	bool changed[1] = { false };
	char err[200];
	int rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, changed, err, sizeof err);
	CHECK(rc == 1 && changed[0] && serial(db, 0) == T0 + 1 && records(db, 0) == 5,
	      "first batch: one zone changed, serial + 1 (now is not later)");
	CHECK(zone_index_serial(zone_db_index(db), 0) == T0 + 1, "the served SOA carries the new serial");
	rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0 + 100, changed, err, sizeof err);
	CHECK(rc == 0 && !changed[0] && serial(db, 0) == T0 + 1, "same content again: no bump");
	/* The same records in another order are the same content. */
	struct zone_record swapped[2] = { b.r[1], b.r[0] };
	rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, swapped, 2, T0 + 100, changed, err, sizeof err);
	CHECK(rc == 0 && serial(db, 0) == T0 + 1, "reordered batch: no bump");
	b.r[0].ttl = 600;
	rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0 + 100, changed, err, sizeof err);
	CHECK(rc == 1 && serial(db, 0) == T0 + 100, "TTL change: bump to now when now is later");
	rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, 1, T0 + 50, changed, err, sizeof err);
	CHECK(rc == 1 && serial(db, 0) == T0 + 101, "clock behind the serial: serial + 1");
	rc = zone_db_withdraw_source(db, ZONE_SOURCE_CONFIG, T0 + 50, changed);
	CHECK(rc == 1 && changed[0] && serial(db, 0) == T0 + 102 && records(db, 0) == 3 &&
		      node_of(db, "www.home.arpa") == NULL && zone_db_source_records(db, ZONE_SOURCE_CONFIG) == 0,
	      "withdraw: everything the source gave is gone, one bump");
	rc = zone_db_withdraw_source(db, ZONE_SOURCE_CONFIG, T0 + 50, changed);
	CHECK(rc == 0 && !changed[0] && serial(db, 0) == T0 + 102, "withdrawing nothing changes nothing");
	CHECK(zone_db_replace_source(db, 0, b.r, 1, T0, changed, err, sizeof err) == -EINVAL && strstr(err, "reserved"),
	      "source id 0 is reserved");
	zone_db_free(db);
}

static void test_two_zones(void)
{
	struct zone_db *db = new_db();
	const struct zone_soa soa = { .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1.home.arpa." };
	char err[200];
	CHECK(zone_db_add_zone(db, "1.168.192.in-addr.arpa", &soa, ns, 1, T0, err, sizeof err) == 1, "reverse zone");
	static struct batch b;
	b.n = 0;
	add(&b, "host1.lan0", ARBOR_DNS_TYPE_A, 60, "192.168.1.50");
	add(&b, "50.1.168.192.in-addr.arpa.", ARBOR_DNS_TYPE_PTR, 60, "host1.lan0");
	bool changed[2];
	int rc = zone_db_replace_source(db, ZONE_SOURCE_LEASES, b.r, b.n, T0, changed, err, sizeof err);
	CHECK(rc == 2 && changed[0] && changed[1], "a lease touches the forward and the reverse zone");
	/* A second source in the forward zone only. */
	static struct batch c;
	c.n = 0;
	add(&c, "www", ARBOR_DNS_TYPE_CNAME, 300, "host1.lan0");
	rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, c.r, c.n, T0, changed, err, sizeof err);
	CHECK(rc == 1 && changed[0] && !changed[1] && serial(db, 0) == T0 + 2 && serial(db, 1) == T0 + 1,
	      "a change in one zone bumps that zone only");
	/* Replacing the leases leaves the config's records alone. */
	rc = zone_db_replace_source(db, ZONE_SOURCE_LEASES, b.r, 1, T0, changed, err, sizeof err);
	CHECK(rc == 1 && !changed[0] && changed[1] && set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_CNAME) &&
		      set_of(db, "host1.lan0.home.arpa", ARBOR_DNS_TYPE_A) &&
		      node_of(db, "50.1.168.192.in-addr.arpa") == NULL,
	      "replacing one source keeps the others'");
	const struct zidx_node *ent = node_of(db, "lan0.home.arpa");
	CHECK(ent && ent->nsets == 0 && ent->zone == 0, "empty non-terminal between the apex and a record");
	zone_db_free(db);
}

static void test_remove_zone(void)
{
	struct zone_db *db = new_db();
	const struct zone_soa soa = { .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1.home.arpa." };
	char err[200];
	CHECK(zone_db_add_zone(db, "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa", &soa, ns, 1, T0, err, sizeof err) == 1 &&
		      zone_db_add_zone(db, "1.168.192.in-addr.arpa", &soa, ns, 1, T0, err, sizeof err) == 2 &&
		      zone_db_add_zone(db, "sub.home.arpa", &soa, ns, 1, T0, err, sizeof err) == 3,
	      "a delegated prefix's reverse zone between two others, and a zone inside home.arpa");
	static struct batch b, c;
	b.n = c.n = 0;
	add(&b, "h.lan0", ARBOR_DNS_TYPE_AAAA, 60, "2001:db8:100:1::5");
	add(&b, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", ARBOR_DNS_TYPE_PTR, 60,
	    "h.lan0");
	add(&c, "www", ARBOR_DNS_TYPE_A, 60, "192.168.1.10");
	add(&c, "10.1.168.192.in-addr.arpa.", ARBOR_DNS_TYPE_PTR, 60, "www");
	add(&c, "x.sub", ARBOR_DNS_TYPE_A, 60, "192.168.1.11");
	bool changed[4];
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_PREFIXES, b.r, b.n, T0, changed, err, sizeof err) == 2 &&
		      zone_db_replace_source(db, ZONE_SOURCE_CONFIG, c.r, c.n, T0, changed, err, sizeof err) == 3,
	      "records in every zone");
	uint32_t s0 = serial(db, 0), s2 = serial(db, 2), s3 = serial(db, 3);
	CHECK(zone_db_remove_zone(db, 1, T0 + 10, changed) == -EBUSY && zone_db_zone_count(db) == 4 &&
		      set_of(db, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa", ARBOR_DNS_TYPE_PTR),
	      "a PTR would be left outside every zone: refused, nothing changed");
	CHECK(zone_db_remove_zone(db, 4, T0, NULL) == -ENOENT, "no such zone");
	zone_db_replace_source(db, ZONE_SOURCE_PREFIXES, b.r, 1, T0 + 10, changed, err, sizeof err);
	CHECK(zone_db_remove_zone(db, 1, T0 + 10, changed) == 0 && zone_db_zone_count(db) == 3 && !changed[0] &&
		      !changed[1] && !changed[2],
	      "the PTR withdrawn first: the zone goes, no other zone changed");
	struct zone_info zi;
	CHECK(zone_db_zone_info(db, 1, &zi) == 0 && strcmp(zi.apex, "1.168.192.in-addr.arpa.") == 0 &&
		      zi.serial == s2 && set_of(db, "10.1.168.192.in-addr.arpa", ARBOR_DNS_TYPE_PTR) &&
		      serial(db, 0) == s0 && serial(db, 2) == s3,
	      "the next zone is number 1 now, with its records and serial; the others untouched");
	CHECK(node_of(db, "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa") == NULL, "the removed apex is not served");
	uint8_t w[ARBOR_DNS_NAME_WIRE_MAX];
	int n = arbor_dns_name_from_text("sub.home.arpa", w, sizeof w);
	s0 = serial(db, 0);
	CHECK(zone_db_remove_zone(db, (size_t)zone_db_zone_find(db, w, (size_t)n), T0 + 20, changed) == 1 &&
		      changed[0] && serial(db, 0) == T0 + 20 && !changed[1],
	      "a zone inside another: the outer one takes its names back, one bump there");
	const struct zidx_node *x = node_of(db, "x.sub.home.arpa");
	CHECK(x && x->zone == 0 && set_of(db, "x.sub.home.arpa", ARBOR_DNS_TYPE_A), "and serves its record");
	CHECK(zone_db_add_zone(db, "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa", &soa, ns, 1, T0 + 30, err, sizeof err) == 2,
	      "a removed zone can be added again");
	zone_db_free(db);
}

static void test_refusals(void)
{
	struct zone_db *db = new_db();
	static struct batch good, b;
	good.n = 0;
	add(&good, "www", ARBOR_DNS_TYPE_A, 300, "192.168.1.10");
	char err[300];
	zone_db_replace_source(db, ZONE_SOURCE_CONFIG, good.r, good.n, T0, NULL, err, sizeof err);
	uint32_t s = serial(db, 0);

	b.n = 0;
	add(&b, "ok", ARBOR_DNS_TYPE_A, 300, "192.168.1.11");
	add(&b, "www.example.com.", ARBOR_DNS_TYPE_A, 300, "192.0.2.1");
	int rc = zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0 + 10, NULL, err, sizeof err);
	CHECK(rc == -EINVAL &&
		      strcmp(err, "record 1 (www.example.com. A): owner is outside all zones (home.arpa.)") == 0,
	      "owner outside all zones: refused with the record and the zones");
	CHECK(serial(db, 0) == s && set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_A) && node_of(db, "ok.home.arpa") == NULL,
	      "a refused batch changes nothing");

	b.n = 0;
	add(&b, "a", ARBOR_DNS_TYPE_CNAME, 300, "www");
	add(&b, "A", ARBOR_DNS_TYPE_TXT, 300, "x");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "a CNAME and other records"),
	      "CNAME next to other data in one batch refused");
	b.n = 0;
	add(&b, "a", ARBOR_DNS_TYPE_CNAME, 300, "www");
	add(&b, "a", ARBOR_DNS_TYPE_CNAME, 300, "ok");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "two CNAME targets"),
	      "two CNAME targets refused");
	b.n = 0;
	add(&b, "@", ARBOR_DNS_TYPE_CNAME, 300, "www");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "not allowed at a zone apex"),
	      "CNAME at the apex refused");
	b.n = 0;
	add(&b, "x", ARBOR_DNS_TYPE_A, 300, "\\# 4 01020304");
	b.r[0].type = ARBOR_DNS_TYPE_SOA;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "(x.home.arpa. SOA): records of this type cannot be stored"),
	      "SOA from a source refused");
	b.r[0].type = ARBOR_DNS_TYPE_DNAME;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL,
	      "DNAME refused");
	b.r[0].type = ARBOR_DNS_TYPE_A;
	b.r[0].rdata_len = 3;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "A rdata must be 4 bytes"),
	      "short A rdata refused");
	b.r[0].rdata_len = 4;
	b.r[0].ttl = 0x80000000u;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "TTL"),
	      "TTL over 2^31-1 refused");
	b.r[0].ttl = 1;
	b.r[0].owner = (const uint8_t *)"\3www\xc0\x0c";
	b.r[0].owner_len = 6;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "not a valid wire name"),
	      "compressed owner refused");
	b.n = 0;
	add(&b, "m", ARBOR_DNS_TYPE_MX, 300, "10 mail");
	b.rdata[0][2] = 0xc0;
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, b.r, b.n, T0, NULL, err, sizeof err) == -EINVAL &&
		      strstr(err, "MX rdata"),
	      "MX with a compressed name refused");
	CHECK(serial(db, 0) == s && records(db, 0) == 4, "after all the refusals: nothing changed");
	zone_db_free(db);
}

static void test_sources_merge(void)
{
	struct zone_db *db = new_db();
	static struct batch cfg, leases;
	char err[200];
	cfg.n = leases.n = 0;
	add(&cfg, "www", ARBOR_DNS_TYPE_CNAME, 300, "host1.lan0");
	add(&cfg, "shared", ARBOR_DNS_TYPE_A, 300, "192.168.1.7");
	add(&leases, "www", ARBOR_DNS_TYPE_A, 60, "192.168.1.99"); /* a DHCP client calling itself www */
	add(&leases, "shared", ARBOR_DNS_TYPE_A, 60, "192.168.1.7");
	add(&leases, "printer", ARBOR_DNS_TYPE_CNAME, 60, "host1.lan0");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CONFIG, cfg.r, cfg.n, T0, NULL, err, sizeof err) == 1,
	      "config in");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_LEASES, leases.r, leases.n, T0, NULL, err, sizeof err) == 1,
	      "leases in");
	const struct zidx_set *a = set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_A);
	const struct zidx_set *cname = set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_CNAME);
	struct zone_info info;
	zone_db_zone_info(db, 0, &info);
	CHECK(cname && !a && info.shadowed == 1, "config's CNAME beats the lease's A (lower source id wins)");
	const struct zidx_set *shared = set_of(db, "shared.home.arpa", ARBOR_DNS_TYPE_A);
	CHECK(shared && shared->n == 1 && shared->ttl == 60, "the same record from two sources: served once, lower TTL");
	/* The config adds an A where the leases have a CNAME: config wins again. */
	cfg.n = 0;
	add(&cfg, "printer", ARBOR_DNS_TYPE_A, 300, "192.168.1.8");
	uint32_t s = serial(db, 0);
	zone_db_replace_source(db, ZONE_SOURCE_CONFIG, cfg.r, cfg.n, T0, NULL, err, sizeof err);
	CHECK(set_of(db, "printer.home.arpa", ARBOR_DNS_TYPE_A) && !set_of(db, "printer.home.arpa", ARBOR_DNS_TYPE_CNAME),
	      "config's A beats the lease's CNAME");
	CHECK(set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_A) && !set_of(db, "www.home.arpa", ARBOR_DNS_TYPE_CNAME),
	      "with the config's CNAME gone, the lease's A shows");
	CHECK(serial(db, 0) == s + 1, "one bump for the whole change");
	/* Withdrawing one of two identical contributions changes nothing served... */
	static struct batch dup;
	dup.n = 0;
	add(&dup, "shared", ARBOR_DNS_TYPE_A, 60, "192.168.1.7");
	zone_db_replace_source(db, ZONE_SOURCE_INTERFACES, dup.r, dup.n, T0, NULL, err, sizeof err);
	s = serial(db, 0);
	CHECK(s > 0 && zone_db_withdraw_source(db, ZONE_SOURCE_INTERFACES, T0, NULL) == 0 && serial(db, 0) == s,
	      "withdrawing a duplicate of another source's record: served content unchanged, no bump");
	zone_db_free(db);
}

static void test_delegation_index(void)
{
	struct zone_db *db = new_db();
	static struct batch b;
	char err[200];
	b.n = 0;
	add(&b, "m1.lan0", ARBOR_DNS_TYPE_NS, 300, "ns.m1.lan0");
	add(&b, "ns.m1.lan0", ARBOR_DNS_TYPE_A, 300, "192.168.1.20");
	add(&b, "deep.x.m1.lan0", ARBOR_DNS_TYPE_A, 300, "192.168.1.21");
	CHECK(zone_db_replace_source(db, ZONE_SOURCE_CHILDREN, b.r, b.n, T0, NULL, err, sizeof err) == 1,
	      "delegation in");
	const struct zone_index *idx = zone_db_index(db);
	const struct zidx_node *cut = node_of(db, "m1.lan0.home.arpa"), *glue = node_of(db, "ns.m1.lan0.home.arpa");
	const struct zidx_node *deep = node_of(db, "deep.x.m1.lan0.home.arpa"), *x = node_of(db, "x.m1.lan0.home.arpa");
	const struct zidx_node *apex = node_of(db, "home.arpa"), *lan0 = node_of(db, "lan0.home.arpa");
	CHECK(cut && glue && deep && x && apex && lan0, "nodes, empty non-terminals included");
	if (cut && glue && deep && x && apex && lan0) {
		uint32_t c = (uint32_t)(cut - idx->nodes) + 1;
		CHECK(cut->cut == c && glue->cut == c && deep->cut == c && x->cut == c,
		      "the delegation point covers itself and everything below");
		CHECK(apex->cut == 0 && lan0->cut == 0, "above the delegation: authoritative");
	}
	struct zone_info info;
	zone_db_zone_info(db, 0, &info);
	CHECK(info.delegations == 1, "zone info counts delegations");
	/* A zone of ours inside: its names move to it, the parent changes too. */
	const struct zone_soa soa = { .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns" };
	uint32_t s = serial(db, 0);
	CHECK(zone_db_add_zone(db, "m1.lan0.home.arpa", &soa, ns, 1, T0, err, sizeof err) == 1, "nested zone");
	glue = node_of(db, "ns.m1.lan0.home.arpa");
	CHECK(glue && glue->zone == 1 && glue->cut == 0 && serial(db, 0) == s + 1,
	      "nested zone owns its names, parent bumped");
	zone_db_free(db);
}

static void test_large(void)
{
	struct zone_db *db = new_db();
	enum { N = 20000 };
	static struct zone_record r[N];
	static uint8_t owners[N][32], rdata[N][4];
	for (int i = 0; i < N; i++) {
		char text[40];
		snprintf(text, sizeof text, "host%d.lan0", i);
		int n = dname_from_text(text, home, home_len, owners[i], sizeof owners[i]);
		rdata[i][0] = 10;
		rdata[i][1] = (uint8_t)(i >> 16);
		rdata[i][2] = (uint8_t)(i >> 8);
		rdata[i][3] = (uint8_t)i;
		r[i] = (struct zone_record){ .owner = owners[i], .owner_len = (size_t)n, .type = ARBOR_DNS_TYPE_A,
					     .ttl = 60, .rdata = rdata[i], .rdata_len = 4 };
	}
	char err[200];
	clock_t t = clock();
	int rc = zone_db_replace_source(db, ZONE_SOURCE_LEASES, r, N, T0, NULL, err, sizeof err);
	rc += zone_db_replace_source(db, ZONE_SOURCE_LEASES, r, N, T0, NULL, err, sizeof err);
	double secs = (double)(clock() - t) / CLOCKS_PER_SEC;
	printf("# two batches of %d leases: %.3f s\n", N, secs);
	CHECK(rc == 1 && records(db, 0) == N + 3 && set_of(db, "host12345.lan0.home.arpa", ARBOR_DNS_TYPE_A),
	      "20000 records in, the second identical batch changes nothing");
	zone_db_free(db);
}

int main(void)
{
	home_len = (size_t)arbor_dns_name_from_text("home.arpa", home, sizeof home);
	test_zone_basics();
	test_serial_rules();
	test_two_zones();
	test_remove_zone();
	test_refusals();
	test_sources_merge();
	test_delegation_index();
	test_large();
	return tap_done();
}
