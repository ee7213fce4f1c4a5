/* The subnet-id table: physical interfaces in natural name order, virtual
 * ones first come first served, ids stable across reloads and later
 * assignments, damaged files refused, exhaustion and write errors leave the
 * table as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statefile.h"
#include "subnet_ids.h"
#include "tap.h"

static const char *dir;

static int load(struct arbor_subnet_ids *t, const char *file)
{
	char err[256];
	return arbor_subnet_ids_load(t, dir, file, err, sizeof err);
}

static void put(const char *file, const char *text)
{
	char err[256];
	if (arbor_state_write(dir, file, text, strlen(text), err, sizeof err) != 0)
		fprintf(stderr, "%s\n", err);
}

/* Loading text fails with -EINVAL and a message naming the file and needle. */
static bool refused(const char *text, const char *needle)
{
	struct arbor_subnet_ids t;
	char err[256] = "";
	put("bad.json", text);
	int rc = arbor_subnet_ids_load(&t, dir, "bad.json", err, sizeof err);
	bool ok = rc == -EINVAL && t.n == 0 && strstr(err, "bad.json") && strstr(err, needle);
	if (!ok)
		printf("# rc %d, err \"%s\"\n", rc, err);
	arbor_subnet_ids_free(&t);
	return ok;
}

static void natural_order(void)
{
	CHECK(arbor_subnet_name_cmp("eth2", "eth10") < 0 && arbor_subnet_name_cmp("eth10", "eth2") > 0,
	      "eth2 before eth10");
	CHECK(arbor_subnet_name_cmp("enp2s0", "enp10s0") < 0, "enp2s0 before enp10s0");
	CHECK(arbor_subnet_name_cmp("enp1s0", "eth0") < 0, "letters compare byte by byte");
	CHECK(arbor_subnet_name_cmp("eth", "eth0") < 0, "a prefix first");
	CHECK(arbor_subnet_name_cmp("eth1", "eth1") == 0, "equal names");
	CHECK(arbor_subnet_name_cmp("eth01", "eth1") < 0 && arbor_subnet_name_cmp("eth1", "eth01") > 0,
	      "equal by value: still a strict order");
	CHECK(arbor_subnet_name_cmp("wlan0", "eth99") > 0, "w after e whatever the number");
}

static void names(void)
{
	CHECK(arbor_subnet_name_valid("eth0") && arbor_subnet_name_valid("br-lab.10") &&
		      arbor_subnet_name_valid("fifteen-chars-x"),
	      "valid interface names");
	CHECK(!arbor_subnet_name_valid("") && !arbor_subnet_name_valid(NULL) && !arbor_subnet_name_valid(".") &&
		      !arbor_subnet_name_valid("..") && !arbor_subnet_name_valid("a/b") && !arbor_subnet_name_valid("a:1") &&
		      !arbor_subnet_name_valid("a b") && !arbor_subnet_name_valid("a\nb") &&
		      !arbor_subnet_name_valid("sixteen-chars-xx"),
	      "invalid interface names");
}

static void numbering(void)
{
	struct arbor_subnet_ids t;
	char err[256];
	CHECK(load(&t, "subnets6.json") == 0 && t.n == 0, "a missing file is an empty table");
	CHECK(arbor_subnet_ids_lookup(&t, "eth0") == -ENOENT, "lookup in an empty table: -ENOENT");

	const char *phys[] = { "eth10", "eth2", "enp1s0", "eth2" };
	CHECK(arbor_subnet_ids_assign_physical(&t, phys, 4, err, sizeof err) == 3, "three physical interfaces numbered");
	CHECK(arbor_subnet_ids_lookup(&t, "enp1s0") == 1 && arbor_subnet_ids_lookup(&t, "eth2") == 2 &&
		      arbor_subnet_ids_lookup(&t, "eth10") == 3,
	      "physical: ids from 1 in natural name order");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "br-lab", err, sizeof err) == 4, "virtual: the next id");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "br-lab", err, sizeof err) == 4, "virtual: asked again, same id");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "vx0", err, sizeof err) == 5, "virtual: first come first served");
	const char *later[] = { "eth2", "eth0", "eth10" };
	CHECK(arbor_subnet_ids_assign_physical(&t, later, 3, err, sizeof err) == 1, "a new physical interface later");
	CHECK(arbor_subnet_ids_lookup(&t, "eth0") == 6 && arbor_subnet_ids_lookup(&t, "eth2") == 2,
	      "it gets the next id; nobody is renumbered (eth0 sorts first but came last)");
	CHECK(arbor_subnet_ids_assign_physical(&t, later, 3, err, sizeof err) == 0, "nothing new: nothing assigned");
	arbor_subnet_ids_free(&t);

	CHECK(load(&t, "subnets6.json") == 0 && t.n == 6, "reloaded: six entries");
	CHECK(arbor_subnet_ids_lookup(&t, "enp1s0") == 1 && arbor_subnet_ids_lookup(&t, "eth2") == 2 &&
		      arbor_subnet_ids_lookup(&t, "eth10") == 3 && arbor_subnet_ids_lookup(&t, "br-lab") == 4 &&
		      arbor_subnet_ids_lookup(&t, "vx0") == 5 && arbor_subnet_ids_lookup(&t, "eth0") == 6,
	      "every id survives the reload");
	arbor_subnet_ids_free(&t);

	char *text = NULL;
	size_t len;
	CHECK(arbor_state_read(dir, "subnets6.json", &text, &len, 65536) == 0 && strstr(text, "\"version\":\t1") &&
		      strstr(text, "\"enp1s0\":\t1") && strstr(text, "\"eth0\":\t6") &&
		      strstr(text, "\"enp1s0\"") < strstr(text, "\"eth0\""),
	      "the file: version 1, name -> id, ordered by id");
	free(text);

	/* A hand-edited table with a gap: the lowest free id is used. */
	put("gap.json", "{\"version\": 1, \"subnets\": {\"a\": 1, \"b\": 3}}");
	CHECK(load(&t, "gap.json") == 0 && t.n == 2, "a table with a gap loads");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "c", err, sizeof err) == 2 &&
		      arbor_subnet_ids_assign_virtual(&t, "d", err, sizeof err) == 4,
	      "the gap is filled first");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "a/b", err, sizeof err) == -EINVAL, "virtual: bad name -EINVAL");
	const char *bad[] = { "ok0", "" };
	CHECK(arbor_subnet_ids_assign_physical(&t, bad, 2, err, sizeof err) == -EINVAL &&
		      arbor_subnet_ids_lookup(&t, "ok0") == -ENOENT,
	      "physical: one bad name, nothing assigned");
	arbor_subnet_ids_free(&t);
}

static void damaged_files(void)
{
	CHECK(refused("{broken", "not a JSON object"), "not JSON");
	CHECK(refused("[1, 2]", "not a JSON object"), "not an object");
	CHECK(refused("{\"subnets\": {}}", "version"), "no version");
	CHECK(refused("{\"version\": 2, \"subnets\": {}}", "version"), "a future version");
	CHECK(refused("{\"version\": 1}", "subnets"), "no subnets");
	CHECK(refused("{\"version\": 1, \"subnets\": []}", "subnets"), "subnets not an object");
	CHECK(refused("{\"version\": 1, \"subnets\": {}, \"extra\": 1}", "extra"), "an unknown key");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": 0}}", "subnets.eth0"), "id 0 is never in the table");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": 65536}}", "subnets.eth0"), "id 65536");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": 1.5}}", "subnets.eth0"), "a fraction");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": \"1\"}}", "subnets.eth0"), "a string");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": 1, \"eth1\": 1}}", "subnets.eth1"), "one id, two names");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"eth0\": 1, \"eth0\": 2}}", "listed twice"), "one name, twice");
	CHECK(refused("{\"version\": 1, \"subnets\": {\"a/b\": 1}}", "not an interface name"), "a bad name");
}

static void write_failure(void)
{
	char notdir[512], err[256] = "";
	struct arbor_subnet_ids t;
	put("plain", "x");
	snprintf(notdir, sizeof notdir, "%s/plain/sub", dir);
	CHECK(arbor_subnet_ids_load(&t, notdir, "subnets6.json", err, sizeof err) < 0, "a directory under a file: error");
	arbor_subnet_ids_free(&t);
	memset(&t, 0, sizeof t);
	t.dir = strdup(notdir);
	t.file = strdup("subnets6.json");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "br0", err, sizeof err) < 0 && strstr(err, "plain"),
	      "cannot write: an error naming the path");
	CHECK(t.n == 0 && arbor_subnet_ids_lookup(&t, "br0") == -ENOENT, "and nothing was assigned");
	arbor_subnet_ids_free(&t);
}

static void exhaustion(void)
{
	/* Ids 1..65534 taken; one left. */
	FILE *f;
	char path[512], err[256] = "";
	snprintf(path, sizeof path, "%s/full.json", dir);
	f = fopen(path, "w");
	fprintf(f, "{\"version\": 1, \"subnets\": {");
	for (int i = 1; i <= 65534; i++)
		fprintf(f, "%s\"if%d\": %d", i > 1 ? ", " : "", i, i);
	fprintf(f, "}}\n");
	fclose(f);
	struct arbor_subnet_ids t;
	CHECK(load(&t, "full.json") == 0 && t.n == 65534, "65534 entries load");
	const char *two[] = { "new1", "new2" };
	CHECK(arbor_subnet_ids_assign_physical(&t, two, 2, err, sizeof err) == -ENOSPC && t.n == 65534 &&
		      strstr(err, "out of subnet ids"),
	      "two new, one free: -ENOSPC, nothing assigned");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "last", err, sizeof err) == 65535, "the last id");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "more", err, sizeof err) == -ENOSPC, "then -ENOSPC");
	CHECK(arbor_subnet_ids_assign_virtual(&t, "if7", err, sizeof err) == 7, "known names still answer");
	arbor_subnet_ids_free(&t);
	CHECK(load(&t, "full.json") == 0 && t.n == 65535 && arbor_subnet_ids_lookup(&t, "last") == 65535,
	      "the full table reloads");
	arbor_subnet_ids_free(&t);
}

int main(void)
{
	dir = tap_tmpdir();
	natural_order();
	names();
	numbering();
	damaged_files();
	write_failure();
	exhaustion();
	/* Two daemons sharing one table (dnsd and wgd): each assignment reads the
	 * file again under a lock, so the one loaded first never hands out an
	 * id the other wrote in the meantime. */
	{
		struct arbor_subnet_ids a, b;
		char err2[256];
		CHECK(load(&a, "shared.json") == 0 && load(&b, "shared.json") == 0, "two tables over one file");
		int ia = arbor_subnet_ids_assign_virtual(&a, "wg0", err2, sizeof err2);
		int ib = arbor_subnet_ids_assign_virtual(&b, "br-lab", err2, sizeof err2);
		CHECK(ia == 1 && ib == 2, "the second daemon's assignment sees the first's: ids 1 and 2");
		CHECK(arbor_subnet_ids_assign_virtual(&b, "wg0", err2, sizeof err2) == 1, "and learns wg0's id from the file");
		struct arbor_subnet_ids c;
		CHECK(load(&c, "shared.json") == 0 && c.n == 2, "both are in the file");
		arbor_subnet_ids_free(&a);
		arbor_subnet_ids_free(&b);
		arbor_subnet_ids_free(&c);
	}
	return tap_done();
}
