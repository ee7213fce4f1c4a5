/* The IPv4 subnet allocator: prefix text, free-space arithmetic, best fit, idempotence,
 * persistence and conflicts, then a seeded random run of 2000 operations checked against
 * a brute-force bitmap model of 10.0.0.0/16. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4_alloc.h"
#include "tap.h"

static struct arbor_ipv4_prefix P(const char *text)
{
	struct arbor_ipv4_prefix p = { 0, 0 };
	if (arbor_ipv4_prefix_parse(&p, text) != 0) {
		printf("# bad prefix in the test itself: %s\n", text);
		exit(1);
	}
	return p;
}

static bool same(struct arbor_ipv4_prefix a, struct arbor_ipv4_prefix b)
{
	return a.addr == b.addr && a.len == b.len;
}

static bool is(struct arbor_ipv4_prefix p, const char *text)
{
	return same(p, P(text));
}

static struct arbor_ipv4_in_use USE(const char *text, const char *owner)
{
	struct arbor_ipv4_in_use u = { .prefix = P(text) };
	snprintf(u.owner, sizeof(u.owner), "%s", owner);
	return u;
}

/* The free blocks joined as text, "a/b c/d ...". */
static const char *free_text(const struct arbor_ipv4_alloc *a)
{
	static char out[4096];
	struct arbor_ipv4_prefix *blocks;
	size_t n;
	out[0] = '\0';
	if (arbor_ipv4_alloc_free_blocks(a, &blocks, &n) < 0)
		return "(error)";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof(out) - 32; i++) {
		char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s", i ? " " : "",
					 arbor_ipv4_prefix_format(&blocks[i], text, sizeof(text)));
	}
	free(blocks);
	return out;
}

static void test_parse_format(void)
{
	static const char *const good[] = { "10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32",
					    "192.168.1.128/25", "172.16.0.0/12", "1.2.3.4/32" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct arbor_ipv4_prefix p;
		char text[ARBOR_IPV4_PREFIX_TEXT_MAX];
		CHECK(arbor_ipv4_prefix_parse(&p, good[i]) == 0 &&
			      strcmp(arbor_ipv4_prefix_format(&p, text, sizeof(text)), good[i]) == 0,
		      good[i]);
	}
	struct arbor_ipv4_prefix p = P("10.1.2.0/24");
	CHECK(p.addr == 0x0a010200u && p.len == 24, "parse gives host order and length");
	static const char *const bad[] = {
		"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/99", "10.0.0.0/100", "10.0.0.0", "10.0.0/8",
		"010.0.0.0/8", "10.0.0.0/08", "256.0.0.0/8", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8x",
		"", "10..0.0/8", "1.2.3.4.5/32", "10.0.0.0/-1", "-1.0.0.0/8", "10.0.0.0/", "a.b.c.d/8",
		"10.0.0.0/1000", "1000.0.0.0/8", "10.0.0.0//8", "+10.0.0.0/8", "10.0.0.0/+8",
		"0x0a.0.0.0/8", "10.0.0.0\n/8", "192.168.1.1/31",
	};
	bool all = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct arbor_ipv4_prefix q = { 7, 7 };
		if (arbor_ipv4_prefix_parse(&q, bad[i]) != -EINVAL || q.addr != 7 || q.len != 7) {
			printf("# accepted or changed the output: \"%s\"\n", bad[i]);
			all = false;
		}
	}
	CHECK(all, "garbage, host bits, lengths over 32 are -EINVAL and leave the output alone");
	CHECK(arbor_ipv4_prefix_parse(&p, NULL) == -EINVAL, "NULL text is -EINVAL");

	CHECK(arbor_ipv4_prefix_covering(&p, 0x0a020304u, 24) == 0 && is(p, "10.2.3.0/24"),
	      "address 10.2.3.4/24 covers 10.2.3.0/24");
	CHECK(arbor_ipv4_prefix_covering(&p, 0x0a020304u, 32) == 0 && is(p, "10.2.3.4/32"),
	      "a /32 covers only itself");
	CHECK(arbor_ipv4_prefix_covering(&p, 0x0a020304u, 33) == -EINVAL, "covering /33 is -EINVAL");

	struct arbor_ipv4_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");
	CHECK(arbor_ipv4_prefix_overlaps(&a, &b) && arbor_ipv4_prefix_overlaps(&b, &a) &&
		      !arbor_ipv4_prefix_overlaps(&a, &c),
	      "overlaps");
	CHECK(arbor_ipv4_prefix_contains(&a, &b) && !arbor_ipv4_prefix_contains(&b, &a) &&
		      arbor_ipv4_prefix_contains(&a, &a),
	      "contains");
	struct arbor_ipv4_prefix all_v4 = P("0.0.0.0/0"), top = P("255.255.255.255/32");
	CHECK(arbor_ipv4_prefix_contains(&all_v4, &top) && arbor_ipv4_prefix_overlaps(&all_v4, &top),
	      "0/0 holds 255.255.255.255/32 (no overflow at the top)");
	CHECK(strcmp(arbor_ipv4_conflict_kind_name(ARBOR_IPV4_CONFLICT_IN_USE), "in_use") == 0 &&
		      strcmp(arbor_ipv4_conflict_kind_name(ARBOR_IPV4_CONFLICT_OUTSIDE_POOL),
			     "outside_pool") == 0,
	      "conflict kind names");
}

static void test_free_space(void)
{
	char err[256];
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	CHECK(strcmp(free_text(a), "192.168.0.0/16 172.16.0.0/12 10.0.0.0/8") == 0,
	      "default pool: the RFC 1918 ranges, smallest first");

	struct arbor_ipv4_prefix pool[] = { P("10.0.0.0/16") }, excl[] = { P("10.0.1.0/24") };
	CHECK(arbor_ipv4_alloc_set_pool(a, pool, 1, err, sizeof err) == 0 &&
		      arbor_ipv4_alloc_set_excluded(a, excl, 1, err, sizeof err) == 0,
	      "set pool and exclusions");
	CHECK(strcmp(free_text(a), "10.0.0.0/24 10.0.2.0/23 10.0.4.0/22 10.0.8.0/21 10.0.16.0/20 "
				   "10.0.32.0/19 10.0.64.0/18 10.0.128.0/17") == 0,
	      "subtracting a /24 leaves maximal aligned blocks");

	struct arbor_ipv4_prefix halves[] = { P("10.0.0.0/17"), P("10.0.128.0/17"), P("10.0.0.0/18") };
	arbor_ipv4_alloc_set_excluded(a, NULL, 0, err, sizeof err);
	arbor_ipv4_alloc_set_pool(a, halves, 3, err, sizeof err);
	CHECK(strcmp(free_text(a), "10.0.0.0/16") == 0, "overlapping and adjacent pool entries merge");

	struct arbor_ipv4_in_use uses[] = {
		USE("0.0.0.0/0", "eth0"),	/* the default route */
		USE("10.0.1.0/24", "eth0"),	/* a route */
		USE("10.0.3.0/24", "eth1"),	/* the subnet of address 10.0.3.4/24 */
		USE("10.0.128.5/32", ""),	/* a host route */
		USE("192.168.7.0/24", ""),	/* outside the pool: no effect */
	};
	CHECK(arbor_ipv4_alloc_set_in_use(a, uses, 5, err, sizeof err) == 0, "set in use");
	CHECK(strcmp(free_text(a), "10.0.128.4/32 10.0.128.6/31 10.0.128.0/30 10.0.128.8/29 "
				   "10.0.128.16/28 10.0.128.32/27 10.0.128.64/26 10.0.128.128/25 "
				   "10.0.0.0/24 10.0.2.0/24 10.0.129.0/24 10.0.130.0/23 10.0.4.0/22 "
				   "10.0.132.0/22 10.0.8.0/21 10.0.136.0/21 10.0.16.0/20 10.0.144.0/20 "
				   "10.0.32.0/19 10.0.160.0/19 10.0.64.0/18 10.0.192.0/18") == 0,
	      "routes and address subnets are subtracted; 0/0 is ignored; a /32 takes one address");

	struct arbor_ipv4_prefix bad[] = { P("10.0.0.0/8"), { 0x0a000001u, 8 } };
	CHECK(arbor_ipv4_alloc_set_pool(a, bad, 2, err, sizeof err) == -EINVAL &&
		      strstr(err, "pool[1]") && strstr(err, "host bits"),
	      "a pool entry with host bits set is refused, naming it");
	struct arbor_ipv4_prefix long_len = { 0, 40 };
	CHECK(arbor_ipv4_alloc_set_excluded(a, &long_len, 1, err, sizeof err) == -EINVAL &&
		      strstr(err, "over 32"),
	      "a length over 32 is refused");
	struct arbor_ipv4_in_use bad_use = { .prefix = { 0x0a000001u, 24 } };
	CHECK(arbor_ipv4_alloc_set_in_use(a, &bad_use, 1, err, sizeof err) == -EINVAL,
	      "an in-use prefix with host bits is refused (use arbor_ipv4_prefix_covering)");
	CHECK(strncmp(free_text(a), "10.0.128.4/32 ", 14) == 0, "a refused setting changes nothing");
	arbor_ipv4_alloc_free(a);
}

static void test_allocate(void)
{
	char err[256];
	struct arbor_ipv4_prefix out;
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();

	/* Best fit: free blocks /20 and /24, a /26 comes from the /24. */
	struct arbor_ipv4_prefix pool[] = { P("10.0.0.0/20"), P("10.1.0.0/24") };
	arbor_ipv4_alloc_set_pool(a, pool, 2, err, sizeof err);
	CHECK(arbor_ipv4_alloc_allocate(a, "lan0", 26, 100, &out, err, sizeof err) == 1 &&
		      is(out, "10.1.0.0/26"),
	      "best fit: a /26 comes from the /24, not the /20");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan1", 26, 100, &out, err, sizeof err) == 1 &&
		      is(out, "10.1.0.64/26"),
	      "the next /26 from the remaining /26 of that /24");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan2", 25, 100, &out, err, sizeof err) == 1 &&
		      is(out, "10.1.0.128/25"),
	      "a /25 from the remaining /25");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan3", 25, 100, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.0/25"),
	      "then from the /20, at its lowest address");

	/* Ties: equal blocks, the lowest address wins. */
	struct arbor_ipv4_prefix twins[] = { P("10.9.0.0/24"), P("10.3.0.0/24") };
	struct arbor_ipv4_alloc *t = arbor_ipv4_alloc_new();
	arbor_ipv4_alloc_set_pool(t, twins, 2, err, sizeof err);
	CHECK(arbor_ipv4_alloc_allocate(t, "x", 28, 1, &out, err, sizeof err) == 1 &&
		      is(out, "10.3.0.0/28"),
	      "equal blocks: the lowest address");
	arbor_ipv4_alloc_free(t);

	/* Alignment: a used first address does not shift a /25 to .1. */
	struct arbor_ipv4_alloc *al = arbor_ipv4_alloc_new();
	struct arbor_ipv4_prefix small[] = { P("10.0.0.0/24") };
	struct arbor_ipv4_in_use first = USE("10.0.0.0/32", "");
	arbor_ipv4_alloc_set_pool(al, small, 1, err, sizeof err);
	arbor_ipv4_alloc_set_in_use(al, &first, 1, err, sizeof err);
	CHECK(arbor_ipv4_alloc_allocate(al, "a", 25, 1, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.128/25"),
	      "alignment: a /25 next to a used .0 is .128/25");
	CHECK(arbor_ipv4_alloc_allocate(al, "b", 26, 1, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.64/26"),
	      "alignment: then .64/26");
	CHECK(arbor_ipv4_alloc_allocate(al, "c", 30, 1, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.4/30"),
	      "alignment: a /30 from the /30 at .4, not from .1");
	CHECK(arbor_ipv4_alloc_allocate(al, "d", 32, 1, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.1/32"),
	      "a /32 from the single free address");
	arbor_ipv4_alloc_free(al);

	/* Idempotence. */
	CHECK(arbor_ipv4_alloc_allocate(a, "lan0", 26, 200, &out, err, sizeof err) == 0 &&
		      is(out, "10.1.0.0/26"),
	      "same key, same length: the same subnet (0: not new)");
	const struct arbor_ipv4_allocation *x = arbor_ipv4_alloc_find(a, "lan0");
	CHECK(x != NULL && x->allocated_at == 100, "asking again keeps allocated_at");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan0", 24, 200, &out, err, sizeof err) == -EEXIST &&
		      is(out, "10.1.0.0/26") && strstr(err, "lan0 holds 10.1.0.0/26"),
	      "same key, other length: -EEXIST with the subnet it holds");

	/* Round trip through JSON. */
	cJSON *doc = arbor_ipv4_alloc_to_json(a);
	char *text = cJSON_PrintUnformatted(doc);
	CHECK(text && strstr(text, "{\"key\":\"lan3\",\"prefix\":\"10.0.0.0/25\",\"allocated_at\":100}"),
	      "to_json writes key, prefix, allocated_at");
	CHECK(text && strncmp(text, "{\"version\":1,\"allocations\":[{\"key\":\"lan3\"",
				   strlen("{\"version\":1,\"allocations\":[{\"key\":\"lan3\"")) == 0,
	      "to_json: version, then allocations by address");
	cJSON *back = cJSON_Parse(text);
	struct arbor_ipv4_alloc *b = arbor_ipv4_alloc_new();
	arbor_ipv4_alloc_set_pool(b, pool, 2, err, sizeof err);
	CHECK(arbor_ipv4_alloc_from_json(b, back, err, sizeof err) == 0, "from_json reads it back");
	size_t na, nb;
	const struct arbor_ipv4_allocation *la = arbor_ipv4_alloc_list(a, &na), *lb = arbor_ipv4_alloc_list(b, &nb);
	bool equal = na == 4 && nb == 4;
	for (size_t i = 0; equal && i < na; i++)
		equal = strcmp(la[i].key, lb[i].key) == 0 && same(la[i].prefix, lb[i].prefix) &&
			la[i].allocated_at == lb[i].allocated_at;
	CHECK(equal, "same allocations after the round trip");
	CHECK(arbor_ipv4_alloc_allocate(b, "lan0", 26, 300, &out, err, sizeof err) == 0 &&
		      is(out, "10.1.0.0/26"),
	      "idempotent after the round trip");
	CHECK(arbor_ipv4_alloc_allocate(b, "lan4", 25, 300, &out, err, sizeof err) == 1 &&
		      is(out, "10.0.0.128/25"),
	      "a new key after the round trip avoids the loaded subnets");
	cJSON_free(text);
	cJSON_Delete(doc);
	cJSON_Delete(back);
	arbor_ipv4_alloc_free(b);

	/* Release. */
	CHECK(arbor_ipv4_alloc_release(a, "lan1") == 0 && arbor_ipv4_alloc_find(a, "lan1") == NULL,
	      "release forgets the key");
	CHECK(arbor_ipv4_alloc_release(a, "lan1") == -ENOENT, "releasing again is -ENOENT");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan5", 26, 400, &out, err, sizeof err) == 1 &&
		      is(out, "10.1.0.64/26"),
	      "the released subnet is reused");

	/* Bad requests. */
	CHECK(arbor_ipv4_alloc_allocate(a, "lan9", 0, 1, &out, err, sizeof err) == -EINVAL &&
		      arbor_ipv4_alloc_allocate(a, "lan9", 33, 1, &out, err, sizeof err) == -EINVAL,
	      "prefix length 0 or 33 is -EINVAL");
	char long_key[300];
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	CHECK(arbor_ipv4_alloc_allocate(a, "", 24, 1, &out, err, sizeof err) == -EINVAL &&
		      arbor_ipv4_alloc_allocate(a, NULL, 24, 1, &out, err, sizeof err) == -EINVAL &&
		      arbor_ipv4_alloc_allocate(a, "a b", 24, 1, &out, err, sizeof err) == -EINVAL &&
		      arbor_ipv4_alloc_allocate(a, "a\nb", 24, 1, &out, err, sizeof err) == -EINVAL &&
		      arbor_ipv4_alloc_allocate(a, long_key, 24, 1, &out, err, sizeof err) == -EINVAL,
	      "bad keys are -EINVAL");
	long_key[ARBOR_IPV4_KEY_MAX] = '\0';
	CHECK(arbor_ipv4_alloc_allocate(a, long_key, 30, 1, &out, err, sizeof err) == 1,
	      "a key of exactly 255 bytes is fine");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan9", 24, -1, &out, err, sizeof err) == -EINVAL,
	      "a negative time is -EINVAL");
	CHECK(arbor_ipv4_alloc_release(a, "") == -EINVAL, "release of a bad key is -EINVAL");
	arbor_ipv4_alloc_free(a);

	/* Exhaustion. */
	struct arbor_ipv4_alloc *e = arbor_ipv4_alloc_new();
	struct arbor_ipv4_prefix tiny[] = { P("10.0.0.0/30") };
	arbor_ipv4_alloc_set_pool(e, tiny, 1, err, sizeof err);
	CHECK(arbor_ipv4_alloc_allocate(e, "a", 29, 1, &out, err, sizeof err) == -ENOSPC &&
		      strstr(err, "no free /29"),
	      "a request larger than the pool is -ENOSPC");
	CHECK(arbor_ipv4_alloc_allocate(e, "a", 31, 1, &out, err, sizeof err) == 1 &&
		      arbor_ipv4_alloc_allocate(e, "b", 31, 1, &out, err, sizeof err) == 1,
	      "two /31 fill a /30");
	CHECK(arbor_ipv4_alloc_allocate(e, "c", 32, 1, &out, err, sizeof err) == -ENOSPC,
	      "then even a /32 is -ENOSPC");
	CHECK(arbor_ipv4_alloc_find(e, "c") == NULL, "a failed request records nothing");
	arbor_ipv4_alloc_free(e);

	/* The default route does not consume the pool. */
	struct arbor_ipv4_alloc *d = arbor_ipv4_alloc_new();
	struct arbor_ipv4_in_use dflt[] = { USE("0.0.0.0/0", "eth0"), USE("192.168.0.0/24", "eth0") };
	arbor_ipv4_alloc_set_in_use(d, dflt, 2, err, sizeof err);
	CHECK(arbor_ipv4_alloc_allocate(d, "lan0", 24, 1, &out, err, sizeof err) == 1 &&
		      is(out, "192.168.1.0/24"),
	      "with a default route the default pool still allocates (and skips the LAN in use)");
	arbor_ipv4_alloc_free(d);
}

static bool has_conflict(const struct arbor_ipv4_conflict *c, size_t n, enum arbor_ipv4_conflict_kind kind,
			 const char *key, const char *with)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].kind == kind && strcmp(c[i].key, key) == 0 && is(c[i].with, with))
			return true;
	return false;
}

static void test_conflicts(void)
{
	char err[256];
	struct arbor_ipv4_prefix out;
	struct arbor_ipv4_conflict *c;
	size_t n;
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	struct arbor_ipv4_prefix pool[] = { P("10.0.0.0/16") };
	arbor_ipv4_alloc_set_pool(a, pool, 1, err, sizeof err);
	arbor_ipv4_alloc_allocate(a, "lan0", 24, 1, &out, err, sizeof err);
	arbor_ipv4_alloc_allocate(a, "lan1", 24, 1, &out, err, sizeof err);
	CHECK(arbor_ipv4_alloc_conflicts(a, &c, &n) == 0 && n == 0, "no conflicts to begin with");
	free(c);

	/* dhcp4d applied the subnets: lan0 has 10.0.0.1/24, the kernel's route for it. */
	struct arbor_ipv4_in_use applied[] = { USE("10.0.0.0/24", "lan0"), USE("10.0.0.0/24", "lan0"),
					       USE("10.0.1.1/32", "lan1"), USE("0.0.0.0/0", "eth0") };
	arbor_ipv4_alloc_set_in_use(a, applied, 4, err, sizeof err);
	CHECK(arbor_ipv4_alloc_conflicts(a, &c, &n) == 0 && n == 0,
	      "an allocation's own address and route (owner = key) are not conflicts");
	free(c);
	CHECK(arbor_ipv4_alloc_allocate(a, "lan0", 24, 2, &out, err, sizeof err) == 0 && is(out, "10.0.0.0/24"),
	      "and asking again after a restart still returns it");

	/* Something else now uses part of lan1's subnet. */
	struct arbor_ipv4_in_use clash[] = { USE("10.0.0.0/24", "lan0"), USE("10.0.1.128/25", "eth1"),
					     USE("10.0.0.0/23", "lan0") };
	arbor_ipv4_alloc_set_in_use(a, clash, 3, err, sizeof err);
	CHECK(arbor_ipv4_alloc_conflicts(a, &c, &n) == 0 && n == 3 &&
		      has_conflict(c, n, ARBOR_IPV4_CONFLICT_IN_USE, "lan1", "10.0.1.128/25") &&
		      has_conflict(c, n, ARBOR_IPV4_CONFLICT_IN_USE, "lan1", "10.0.0.0/23") &&
		      has_conflict(c, n, ARBOR_IPV4_CONFLICT_IN_USE, "lan0", "10.0.0.0/23"),
	      "a route on another interface, or one larger than the allocation, is a conflict");
	CHECK(n == 3 && strcmp(c[0].key, "lan0") == 0 && strcmp(c[0].owner, "lan0") == 0,
	      "conflicts name the owner, ordered by allocation");
	free(c);
	CHECK(arbor_ipv4_alloc_allocate(a, "lan1", 24, 3, &out, err, sizeof err) == -EADDRINUSE &&
		      is(out, "10.0.1.0/24") && strstr(err, "10.0.1.0/24 of lan1 collides with"),
	      "asking for a conflicting subnet is -EADDRINUSE, with the subnet");
	const struct arbor_ipv4_allocation *x = arbor_ipv4_alloc_find(a, "lan1");
	CHECK(x && is(x->prefix, "10.0.1.0/24"), "the conflicting allocation is not moved");

	/* Exclusions and pool changes. */
	arbor_ipv4_alloc_set_in_use(a, NULL, 0, err, sizeof err);
	struct arbor_ipv4_prefix excl[] = { P("10.0.1.64/26") }, moved[] = { P("10.0.1.0/24"), P("10.5.0.0/16") };
	arbor_ipv4_alloc_set_excluded(a, excl, 1, err, sizeof err);
	arbor_ipv4_alloc_set_pool(a, moved, 2, err, sizeof err);
	CHECK(arbor_ipv4_alloc_conflicts(a, &c, &n) == 0 && n == 2 &&
		      has_conflict(c, n, ARBOR_IPV4_CONFLICT_OUTSIDE_POOL, "lan0", "10.0.0.0/24") &&
		      has_conflict(c, n, ARBOR_IPV4_CONFLICT_EXCLUDED, "lan1", "10.0.1.64/26"),
	      "an exclusion or a smaller pool makes conflicts too");
	free(c);
	CHECK(arbor_ipv4_alloc_allocate(a, "lan0", 24, 3, &out, err, sizeof err) == -EADDRINUSE &&
		      strstr(err, "outside the pool"),
	      "outside the pool: -EADDRINUSE");
	CHECK(arbor_ipv4_alloc_allocate(a, "lan2", 24, 3, &out, err, sizeof err) == 1 && is(out, "10.5.0.0/24"),
	      "new requests still avoid conflicting allocations");
	CHECK(arbor_ipv4_alloc_release(a, "lan0") == 0 && arbor_ipv4_alloc_conflicts(a, &c, &n) == 0 && n == 1,
	      "releasing resolves its conflict");
	free(c);
	arbor_ipv4_alloc_free(a);
}

/* from_json on text: the return code, with the error in err. */
static int load(struct arbor_ipv4_alloc *a, const char *text, char *err, size_t errlen)
{
	cJSON *doc = cJSON_Parse(text);
	if (doc == NULL) {
		printf("# the test's JSON does not parse: %s\n", text);
		exit(1);
	}
	int rc = arbor_ipv4_alloc_from_json(a, doc, err, errlen);
	cJSON_Delete(doc);
	return rc;
}

static void test_json(void)
{
	struct { const char *text, *err; } bad[] = {
		{ "[]", "state: not an object" },
		{ "{\"version\":1}", "\"allocations\" missing" },
		{ "{\"allocations\":[]}", "\"version\" missing" },
		{ "{\"version\":2,\"allocations\":[]}", "version: not 1" },
		{ "{\"version\":\"1\",\"allocations\":[]}", "version: not 1" },
		{ "{\"version\":1,\"allocations\":{}}", "allocations: not an array" },
		{ "{\"version\":1,\"allocations\":[],\"extra\":0}", "unknown member \"extra\"" },
		{ "{\"version\":1,\"version\":1,\"allocations\":[]}", "\"version\" given twice" },
		{ "{\"version\":1,\"allocations\":[1]}", "allocations[0]: not an object" },
		{ "{\"version\":1,\"allocations\":[{\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0}]}",
		  "allocations[0]: \"key\" missing" },
		{ "{\"version\":1,\"allocations\":[{\"key\":1,\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0}]}",
		  "allocations[0].key: not a string" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a b\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0}]}",
		  "allocations[0].key: key has a space" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0}]}",
		  "allocations[0].key: empty key" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.1/24\",\"allocated_at\":0}]}",
		  "allocations[0].prefix: host bits set in \"10.0.0.1/24\"" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/40\",\"allocated_at\":0}]}",
		  "allocations[0].prefix: prefix length over 32" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"ten\",\"allocated_at\":0}]}",
		  "allocations[0].prefix: not a prefix" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":[],\"allocated_at\":0}]}",
		  "allocations[0].prefix: not a string" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"0.0.0.0/0\",\"allocated_at\":0}]}",
		  "allocations[0].prefix: a /0" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":-1}]}",
		  "allocations[0].allocated_at" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":1.5}]}",
		  "allocations[0].allocated_at" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":\"now\"}]}",
		  "allocations[0].allocated_at" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":1e300}]}",
		  "allocations[0].allocated_at" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0,\"x\":1}]}",
		  "allocations[0]: unknown member \"x\"" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/24\",\"allocated_at\":0},"
		  "{\"key\":\"a\",\"prefix\":\"10.0.1.0/24\",\"allocated_at\":0}]}",
		  "key \"a\" given twice" },
		{ "{\"version\":1,\"allocations\":[{\"key\":\"a\",\"prefix\":\"10.0.0.0/16\",\"allocated_at\":0},"
		  "{\"key\":\"b\",\"prefix\":\"10.1.0.0/24\",\"allocated_at\":0},"
		  "{\"key\":\"c\",\"prefix\":\"10.0.7.0/24\",\"allocated_at\":0}]}",
		  "10.0.0.0/16 of a overlaps 10.0.7.0/24 of c" },
	};
	char err[256];
	struct arbor_ipv4_prefix out;
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	arbor_ipv4_alloc_allocate(a, "kept", 24, 5, &out, err, sizeof err);
	bool all = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (load(a, bad[i].text, err, sizeof err) != -EINVAL || strstr(err, bad[i].err) == NULL) {
			printf("# %s\n#   wanted \"%s\", got \"%s\"\n", bad[i].text, bad[i].err, err);
			all = false;
		}
	}
	CHECK(all, "malformed state is -EINVAL, and the error names what was wrong");
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	CHECK(n == 1 && strcmp(list[0].key, "kept") == 0, "a refused load changes nothing");
	CHECK(arbor_ipv4_alloc_from_json(a, NULL, err, sizeof err) == -EINVAL, "NULL document is -EINVAL");

	CHECK(load(a, "{\"version\":1,\"allocations\":[{\"allocated_at\":1763769445,\"prefix\":\"172.16.0.0/12\","
		      "\"key\":\"big\"},{\"key\":\"small\",\"prefix\":\"10.0.0.0/30\",\"allocated_at\":0}]}",
		   err, sizeof err) == 0,
	      "valid state in any member order loads");
	list = arbor_ipv4_alloc_list(a, &n);
	CHECK(n == 2 && strcmp(list[0].key, "small") == 0 && list[1].allocated_at == 1763769445 &&
		      arbor_ipv4_alloc_find(a, "kept") == NULL,
	      "loading replaces the allocations, ordered by address");
	CHECK(load(a, "{\"version\":1,\"allocations\":[]}", err, sizeof err) == 0 &&
		      arbor_ipv4_alloc_list(a, &n) == NULL && n == 0,
	      "an empty list loads");
	arbor_ipv4_alloc_free(a);
}

/* ---- property test against a bitmap model of 10.0.0.0/16 ---- */

#define U_BASE 0x0a000000u
#define U_SIZE 65536u
#define NKEYS 40
#define STEPS 2000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;	/* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static unsigned int between(unsigned int lo, unsigned int hi)
{
	return lo + (unsigned int)(rng() % (hi - lo + 1));
}

/* A random prefix of length len inside 10.0.0.0/16 (len >= 16). */
static struct arbor_ipv4_prefix random_inside(unsigned int len)
{
	struct arbor_ipv4_prefix p;
	arbor_ipv4_prefix_covering(&p, U_BASE | (uint32_t)(rng() & 0xffff), len);
	return p;
}

struct model {
	struct arbor_ipv4_prefix pool[4], excl[4];
	size_t npool, nexcl;
	struct arbor_ipv4_in_use use[16];
	size_t nuse;
	uint8_t in_pool[U_SIZE];
	uint8_t free_bit[U_SIZE];
	uint32_t sum[U_SIZE + 1];	/* prefix sums of free_bit */
};

static struct model M;

struct failures {
	unsigned overlap, excluded, in_use, outside, reask, best_fit, free_list, conflict, json, other;
	char first[512];
};

static struct failures F;

__attribute__((format(printf, 2, 3)))
static void fail(unsigned *counter, const char *fmt, ...)
{
	(*counter)++;
	if (F.first[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(F.first, sizeof(F.first), fmt, ap);
		va_end(ap);
	}
}

static void mark(uint8_t *bits, const struct arbor_ipv4_prefix *p, uint8_t value)
{
	/* The part of p inside the model's /16 (p may be larger or elsewhere). */
	uint64_t lo = p->addr, hi = (uint64_t)p->addr + ((uint64_t)1 << (32 - p->len));
	if (lo < U_BASE)
		lo = U_BASE;
	if (hi > (uint64_t)U_BASE + U_SIZE)
		hi = (uint64_t)U_BASE + U_SIZE;
	for (uint64_t x = lo; x < hi; x++)
		bits[x - U_BASE] = value;
}

static bool own(const struct arbor_ipv4_allocation *x, const struct arbor_ipv4_in_use *u)
{
	return u->owner[0] && strcmp(u->owner, x->key) == 0 && arbor_ipv4_prefix_contains(&x->prefix, &u->prefix);
}

/* Recomputes the free bitmap from the model and a's allocations. */
static void model_free(const struct arbor_ipv4_alloc *a)
{
	memset(M.in_pool, 0, sizeof(M.in_pool));
	for (size_t i = 0; i < M.npool; i++)
		mark(M.in_pool, &M.pool[i], 1);
	memcpy(M.free_bit, M.in_pool, sizeof(M.free_bit));
	for (size_t i = 0; i < M.nexcl; i++)
		mark(M.free_bit, &M.excl[i], 0);
	for (size_t i = 0; i < M.nuse; i++)
		if (M.use[i].prefix.len > 0)
			mark(M.free_bit, &M.use[i].prefix, 0);
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	for (size_t i = 0; i < n; i++)
		mark(M.free_bit, &list[i].prefix, 0);
	M.sum[0] = 0;
	for (uint32_t i = 0; i < U_SIZE; i++)
		M.sum[i + 1] = M.sum[i] + M.free_bit[i];
}

static bool all_free(uint32_t offset, unsigned int len)
{
	uint32_t size = 1u << (32 - len);
	return M.sum[offset + size] - M.sum[offset] == size;
}

/* The maximal aligned free blocks, smallest first then by address, brute force. */
static size_t model_blocks(struct arbor_ipv4_prefix *out, size_t max)
{
	size_t n = 0;
	for (unsigned int len = 32; len >= 16; len--) {
		uint32_t size = 1u << (32 - len);
		for (uint32_t off = 0; off < U_SIZE; off += size) {
			if (!all_free(off, len))
				continue;
			/* The parent /15 reaches outside the pool, which lies inside the /16. */
			if (len > 16 && all_free(off & ~(2 * size - 1), len - 1))
				continue;
			if (n < max)
				out[n] = (struct arbor_ipv4_prefix){ U_BASE + off, len };
			n++;
		}
	}
	return n;
}

static void random_environment(struct arbor_ipv4_alloc *a, bool pool_too)
{
	char err[256];
	if (pool_too) {
		M.npool = between(1, 3);
		for (size_t i = 0; i < M.npool; i++)
			M.pool[i] = random_inside(between(16, 22));
		M.nexcl = between(0, 3);
		for (size_t i = 0; i < M.nexcl; i++)
			M.excl[i] = random_inside(between(18, 28));
		if (arbor_ipv4_alloc_set_pool(a, M.pool, M.npool, err, sizeof err) != 0 ||
		    arbor_ipv4_alloc_set_excluded(a, M.excl, M.nexcl, err, sizeof err) != 0)
			fail(&F.other, "setting pool/exclusions: %s", err);
	}
	static const char *const owners[] = { "", "eth0", "k3", "k7" };
	M.nuse = 0;
	M.use[M.nuse++] = USE("0.0.0.0/0", "eth0");	/* always a default route */
	if (rng() % 4 == 0)
		M.use[M.nuse++] = USE("192.168.1.0/24", "eth0");	/* outside the pool */
	if (rng() % 50 == 0)
		M.use[M.nuse++] = USE("10.0.0.0/8", "tun0");	/* covers everything */
	unsigned int k = between(0, 6);
	for (unsigned int i = 0; i < k; i++) {
		struct arbor_ipv4_in_use *u = &M.use[M.nuse++];
		u->prefix = random_inside(between(18, 32));
		snprintf(u->owner, sizeof(u->owner), "%s", owners[rng() % 4]);
	}
	/* Some allocations applied on their interface (own use), some not. */
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	for (size_t i = 0; i < n && M.nuse < 16; i++) {
		unsigned int r = (unsigned int)(rng() % 8);
		if (r > 2)
			continue;
		struct arbor_ipv4_in_use *u = &M.use[M.nuse++];
		u->prefix = list[i].prefix;
		if (r == 2 && u->prefix.len < 32)
			u->prefix.len++;	/* the lower half: still inside */
		snprintf(u->owner, sizeof(u->owner), "%s", r == 1 ? "eth9" : list[i].key);
	}
	if (arbor_ipv4_alloc_set_in_use(a, M.use, M.nuse, err, sizeof err) != 0)
		fail(&F.other, "setting in use: %s", err);
}

/* Checks the invariants; every allocation must be free of conflicts. */
static void check_invariants(struct arbor_ipv4_alloc *a, unsigned step)
{
	char err[256], t1[ARBOR_IPV4_PREFIX_TEXT_MAX], t2[ARBOR_IPV4_PREFIX_TEXT_MAX];
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	for (size_t i = 0; i < n; i++) {
		const struct arbor_ipv4_allocation *x = &list[i];
		for (size_t j = i + 1; j < n; j++)
			if (arbor_ipv4_prefix_overlaps(&x->prefix, &list[j].prefix))
				fail(&F.overlap, "step %u: %s of %s overlaps %s of %s", step,
				     arbor_ipv4_prefix_format(&x->prefix, t1, sizeof t1), x->key,
				     arbor_ipv4_prefix_format(&list[j].prefix, t2, sizeof t2), list[j].key);
		for (size_t j = 0; j < M.nexcl; j++)
			if (arbor_ipv4_prefix_overlaps(&x->prefix, &M.excl[j]))
				fail(&F.excluded, "step %u: %s overlaps an exclusion", step, x->key);
		for (size_t j = 0; j < M.nuse; j++)
			if (M.use[j].prefix.len > 0 && arbor_ipv4_prefix_overlaps(&x->prefix, &M.use[j].prefix) &&
			    !own(x, &M.use[j]))
				fail(&F.in_use, "step %u: %s overlaps an in-use prefix", step, x->key);
		uint64_t lo = x->prefix.addr, size = (uint64_t)1 << (32 - x->prefix.len);
		bool inside = lo >= U_BASE && lo + size <= (uint64_t)U_BASE + U_SIZE;
		for (uint64_t addr = lo; inside && addr < lo + size; addr++)
			inside = M.in_pool[addr - U_BASE];
		if (!inside)
			fail(&F.outside, "step %u: %s is outside the pool", step, x->key);
		const struct arbor_ipv4_allocation *found = arbor_ipv4_alloc_find(a, x->key);
		struct arbor_ipv4_prefix again;
		struct arbor_ipv4_prefix held = x->prefix;
		if (found != x ||
		    arbor_ipv4_alloc_allocate(a, x->key, held.len, 1, &again, err, sizeof err) != 0 ||
		    !same(again, held))
			fail(&F.reask, "step %u: asking again for %s did not return the same subnet", step,
			     x->key);
		list = arbor_ipv4_alloc_list(a, &n);	/* (asking again must not change it) */
	}
}

/* The library's free list must equal the brute-force one. */
static void check_free_list(const struct arbor_ipv4_alloc *a, unsigned step)
{
	static struct arbor_ipv4_prefix expected[4096];
	size_t nexpected = model_blocks(expected, 4096);
	struct arbor_ipv4_prefix *blocks;
	size_t n;
	if (arbor_ipv4_alloc_free_blocks(a, &blocks, &n) != 0) {
		fail(&F.other, "step %u: free_blocks failed", step);
		return;
	}
	if (n != nexpected || (n && memcmp(blocks, expected, n * sizeof(*blocks)) != 0))
		fail(&F.free_list, "step %u: the free list (%zu blocks) differs from the model (%zu)", step, n, nexpected);
	free(blocks);
}

struct tally {
	unsigned allocated, again, enospc, eexist, eaddrinuse, released, enoent, round_trips, conflicts, epochs;
};

/* A random key, or (when existing is set and there are any) one that holds a subnet. */
static void pick_key(const struct arbor_ipv4_alloc *a, bool existing, char *key, size_t keylen)
{
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	if (existing && n > 0)
		snprintf(key, keylen, "%s", list[rng() % n].key);
	else
		snprintf(key, keylen, "k%u", (unsigned)(rng() % NKEYS));
}

/* Asks for a random length for key; checks the answer against the model. */
static void try_allocate(struct arbor_ipv4_alloc *a, const char *key, unsigned step, struct tally *t)
{
	char err[256], t1[ARBOR_IPV4_PREFIX_TEXT_MAX], t2[ARBOR_IPV4_PREFIX_TEXT_MAX];
	const struct arbor_ipv4_allocation *had = arbor_ipv4_alloc_find(a, key);
	/* An existing key: half the time its own length. */
	unsigned int len = had && rng() % 2 ? had->prefix.len : between(16, 30);
	struct arbor_ipv4_prefix held = had ? had->prefix : (struct arbor_ipv4_prefix){ 0, 0 };

	/* Best fit by brute force: the smallest maximal free block that holds len. */
	static struct arbor_ipv4_prefix blocks[4096];
	size_t nblocks = model_blocks(blocks, 4096);
	const struct arbor_ipv4_prefix *best = NULL;
	for (size_t i = 0; i < nblocks && i < 4096; i++)
		if (blocks[i].len <= len && (best == NULL || blocks[i].len > best->len ||
					     (blocks[i].len == best->len && blocks[i].addr < best->addr)))
			best = &blocks[i];

	struct arbor_ipv4_prefix out;
	int rc = arbor_ipv4_alloc_allocate(a, key, len, step, &out, err, sizeof err);
	if (had) {
		int want = held.len == len ? 0 : -EEXIST;
		if (rc != want || !same(out, held))
			fail(&F.reask, "step %u: %s holding %s asked /%u: rc %d", step, key,
			     arbor_ipv4_prefix_format(&held, t1, sizeof t1), len, rc);
		t->again += rc == 0;
		t->eexist += rc == -EEXIST;
		return;
	}
	if (best == NULL) {
		if (rc != -ENOSPC)
			fail(&F.best_fit, "step %u: /%u for %s: the model has no room, got rc %d", step, len, key, rc);
		t->enospc++;
		return;
	}
	struct arbor_ipv4_prefix want = { best->addr, len };
	if (rc != 1 || !same(out, want))
		fail(&F.best_fit, "step %u: /%u for %s: got rc %d %s, best fit is %s (%s)", step, len, key, rc,
		     arbor_ipv4_prefix_format(&out, t1, sizeof t1), arbor_ipv4_prefix_format(&want, t2, sizeof t2),
		     err);
	t->allocated += rc == 1;
}

/* Replaces *a by what its JSON loads into, with the same environment. */
static void round_trip(struct arbor_ipv4_alloc **a, unsigned step)
{
	char err[256];
	cJSON *doc = arbor_ipv4_alloc_to_json(*a);
	char *text = doc ? cJSON_Print(doc) : NULL;
	cJSON *back = text ? cJSON_Parse(text) : NULL;
	struct arbor_ipv4_alloc *b = arbor_ipv4_alloc_new();
	if (back == NULL || b == NULL || arbor_ipv4_alloc_set_pool(b, M.pool, M.npool, err, sizeof err) ||
	    arbor_ipv4_alloc_set_excluded(b, M.excl, M.nexcl, err, sizeof err) ||
	    arbor_ipv4_alloc_set_in_use(b, M.use, M.nuse, err, sizeof err) ||
	    arbor_ipv4_alloc_from_json(b, back, err, sizeof err)) {
		fail(&F.json, "step %u: round trip failed: %s", step, err);
	} else {
		size_t na, nb;
		const struct arbor_ipv4_allocation *la = arbor_ipv4_alloc_list(*a, &na);
		const struct arbor_ipv4_allocation *lb = arbor_ipv4_alloc_list(b, &nb);
		bool equal = na == nb;
		for (size_t i = 0; equal && i < na; i++)
			equal = strcmp(la[i].key, lb[i].key) == 0 && same(la[i].prefix, lb[i].prefix) &&
				la[i].allocated_at == lb[i].allocated_at;
		if (!equal)
			fail(&F.json, "step %u: round trip changed the allocations", step);
		arbor_ipv4_alloc_free(*a);
		*a = b;
		b = NULL;
	}
	arbor_ipv4_alloc_free(b);
	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(doc);
}

/* New in-use list: conflicts must be exactly what the model says; then the daemon's part,
 * releasing them, restores the invariants. */
static void change_in_use(struct arbor_ipv4_alloc *a, unsigned step, struct tally *t)
{
	char err[256];
	random_environment(a, false);
	size_t n;
	const struct arbor_ipv4_allocation *list = arbor_ipv4_alloc_list(a, &n);
	size_t expected = 0;
	bool conflicted[NKEYS] = { false };
	for (size_t i = 0; i < n; i++) {
		size_t before = expected;
		for (size_t j = 0; j < M.nuse; j++)
			expected += M.use[j].prefix.len > 0 &&
				    arbor_ipv4_prefix_overlaps(&list[i].prefix, &M.use[j].prefix) &&
				    !own(&list[i], &M.use[j]);
		conflicted[atoi(list[i].key + 1)] = expected > before;
	}
	struct arbor_ipv4_conflict *c;
	size_t nc;
	if (arbor_ipv4_alloc_conflicts(a, &c, &nc) != 0 || nc != expected) {
		fail(&F.conflict, "step %u: %zu conflicts reported, the model has %zu", step, nc, expected);
	}
	for (size_t i = 0; i < nc; i++)
		if (c[i].kind != ARBOR_IPV4_CONFLICT_IN_USE || !conflicted[atoi(c[i].key + 1)])
			fail(&F.conflict, "step %u: unexpected conflict for %s", step, c[i].key);
	free(c);
	for (unsigned k = 0; k < NKEYS; k++) {
		if (!conflicted[k])
			continue;
		char key[16];
		snprintf(key, sizeof key, "k%u", k);
		struct arbor_ipv4_prefix held = arbor_ipv4_alloc_find(a, key)->prefix, out;
		if (arbor_ipv4_alloc_allocate(a, key, held.len, step, &out, err, sizeof err) != -EADDRINUSE ||
		    !same(out, held) || !same(arbor_ipv4_alloc_find(a, key)->prefix, held))
			fail(&F.conflict, "step %u: conflicting %s not reported or moved", step, key);
		arbor_ipv4_alloc_release(a, key);
		t->conflicts++;
	}
}

static void test_properties(void)
{
	struct tally t = { 0 };
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	random_environment(a, true);
	for (unsigned step = 1; step <= STEPS; step++) {
		unsigned int op = (unsigned int)(rng() % 100);
		char key[ARBOR_IPV4_KEY_MAX + 1];
		if (op < 66) {
			/* New keys mostly; an existing one a sixth of the time. */
			pick_key(a, op >= 55, key, sizeof key);
			model_free(a);
			try_allocate(a, key, step, &t);
		} else if (op < 86) {
			pick_key(a, op < 76, key, sizeof key);
			bool had = arbor_ipv4_alloc_find(a, key) != NULL;
			int rc = arbor_ipv4_alloc_release(a, key);
			if (rc != (had ? 0 : -ENOENT) || arbor_ipv4_alloc_find(a, key) != NULL)
				fail(&F.other, "step %u: release %s: rc %d", step, key, rc);
			t.released += rc == 0;
			t.enoent += rc == -ENOENT;
		} else if (op < 93) {
			round_trip(&a, step);
			t.round_trips++;
		} else if (op < 99) {
			change_in_use(a, step, &t);
		} else {
			arbor_ipv4_alloc_free(a);
			a = arbor_ipv4_alloc_new();
			random_environment(a, true);
			t.epochs++;
		}
		model_free(a);
		check_invariants(a, step);
		check_free_list(a, step);
	}
	arbor_ipv4_alloc_free(a);
	if (F.first[0])
		printf("# first failure: %s\n", F.first);
	printf("# %u steps: %u allocated, %u asked again, %u -ENOSPC, %u -EEXIST, %u released, "
	       "%u -ENOENT, %u JSON round trips, %u conflicts released, %u new pools\n",
	       STEPS, t.allocated, t.again, t.enospc, t.eexist, t.released, t.enoent, t.round_trips,
	       t.conflicts, t.epochs + 1);
	CHECK(F.overlap == 0, "property: no two allocations overlap");
	CHECK(F.excluded == 0, "property: no allocation overlaps an exclusion");
	CHECK(F.in_use == 0, "property: no allocation overlaps an in-use prefix (other than its own use)");
	CHECK(F.outside == 0, "property: every allocation lies inside the pool");
	CHECK(F.reask == 0, "property: asking again for a key returns the same subnet");
	CHECK(F.best_fit == 0, "property: best fit (no smaller free block could hold the request)");
	CHECK(F.free_list == 0, "property: the free list equals the brute-force one");
	CHECK(F.conflict == 0, "property: conflicts are exactly the colliding allocations, not moved");
	CHECK(F.json == 0, "property: JSON round trips keep the allocations");
	CHECK(F.other == 0, "property: release and settings behave");
	CHECK(t.allocated > 200 && t.enospc > 50 && t.again > 20 && t.eexist > 20 && t.conflicts > 0 &&
		      t.epochs > 5,
	      "the random run covered every outcome");
}

/* arbor_ipv4_alloc_insert: an allocation made elsewhere, as given, checked. */
static void test_insert(void)
{
	struct arbor_ipv4_alloc *a = arbor_ipv4_alloc_new();
	char err[256];
	struct arbor_ipv4_prefix p = P("10.0.1.0/24"), q = P("10.0.0.0/16"), r = P("10.0.2.0/24"), out;
	CHECK(arbor_ipv4_alloc_insert(a, "a", &p, 5, err, sizeof err) == 0, "insert a subnet as given");
	CHECK(arbor_ipv4_alloc_insert(a, "a", &r, 5, err, sizeof err) == -EEXIST, "a key holds one subnet");
	CHECK(arbor_ipv4_alloc_insert(a, "b", &q, 5, err, sizeof err) == -EADDRINUSE && strstr(err, "10.0.1.0/24"),
	      "an overlap with another key is refused, naming it");
	CHECK(arbor_ipv4_alloc_insert(a, "b", &r, 5, err, sizeof err) == 0, "a neighbour is fine");
	struct arbor_ipv4_prefix bad = { 0x0a000001, 24 };
	CHECK(arbor_ipv4_alloc_insert(a, "c", &bad, 5, err, sizeof err) == -EINVAL, "host bits set");
	CHECK(arbor_ipv4_alloc_insert(a, "c d", &r, 5, err, sizeof err) == -EINVAL, "bad key");
	CHECK(arbor_ipv4_alloc_allocate(a, "c", 24, 6, &out, err, sizeof err) == 1 && is(out, "10.0.0.0/24"),
	      "allocation goes around inserted subnets");
	CHECK(arbor_ipv4_alloc_allocate(a, "a", 24, 6, &out, err, sizeof err) == 0 && is(out, "10.0.1.0/24"),
	      "an inserted key asks again and gets its subnet");
	arbor_ipv4_alloc_free(a);
}

int main(void)
{
	test_parse_format();
	test_free_space();
	test_allocate();
	test_conflicts();
	test_json();
	test_properties();
	test_insert();
	return tap_done();
}
