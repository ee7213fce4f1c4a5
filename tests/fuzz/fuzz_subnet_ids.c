/* libFuzzer harness for the persisted subnet-id table (subnets6.json, common/
 * subnet_ids.c) as dnsd and arborctl load it: the input is the file. It loads or
 * is refused with a message naming the file, never a crash; a loaded table has
 * valid, distinct names and distinct ids 1..65535; assigning new interfaces
 * never moves an id already given, and what is written loads back the same.
 * abort() on any violation. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statefile.h"
#include "subnet_ids.h"
#include "fuzz_check.h"

static const char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_tmpdir("subnet-ids");
	return 0;
}

static void check_table(const struct arbor_subnet_ids *t)
{
	static uint8_t used[ARBOR_SUBNET_ID_MAX + 1];
	memset(used, 0, sizeof used);
	for (size_t i = 0; i < t->n; i++) {
		if (!arbor_subnet_name_valid(t->v[i].name))
			violated("entry %zu: \"%s\" is not an interface name", i, t->v[i].name);
		if (t->v[i].id < 1 || used[t->v[i].id]++)
			violated("entry %zu: id %u is 0 or given twice", i, t->v[i].id);
		if (arbor_subnet_ids_lookup(t, t->v[i].name) != t->v[i].id)
			violated("entry %zu: %s listed twice", i, t->v[i].name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	if (arbor_state_write(dir, ARBOR_SUBNET_IDS_FILE, data, size, err, sizeof err) != 0)
		abort();
	struct arbor_subnet_ids t;
	if (arbor_subnet_ids_load(&t, dir, ARBOR_SUBNET_IDS_FILE, err, sizeof err) < 0) {
		if (strstr(err, ARBOR_SUBNET_IDS_FILE) == NULL)
			violated("a refusal that does not name the file: %s", err);
		if (t.n != 0)
			violated("refused, yet %zu entries", t.n);
		arbor_subnet_ids_free(&t);
		return 0;
	}
	check_table(&t);
	size_t before = t.n;
	struct arbor_subnet_id *old = malloc((before ? before : 1) * sizeof *old);
	if (before)
		memcpy(old, t.v, before * sizeof *old);
	/* New interfaces, as dnsd numbers them at start and when one appears. */
	static const char *const physical[] = { "eth10", "eth2", "enp1s0", "eth2" };
	int rc = arbor_subnet_ids_assign_physical(&t, physical, 4, err, sizeof err);
	int v = arbor_subnet_ids_assign_virtual(&t, "br-fuzz", err, sizeof err);
	if ((rc < 0 && rc != -ENOSPC) || (v < 0 && v != -ENOSPC))
		violated("assigning failed: %s", err);
	check_table(&t);
	for (size_t i = 0; i < before; i++)
		if (arbor_subnet_ids_lookup(&t, old[i].name) != old[i].id)
			violated("%s moved from id %u", old[i].name, old[i].id);
	struct arbor_subnet_ids back;
	if (arbor_subnet_ids_load(&back, dir, ARBOR_SUBNET_IDS_FILE, err, sizeof err) < 0) {
		/* Nothing assigned leaves the input file there, which may be refused
		 * only if it was refused the first time: it was not. */
		violated("the table does not load back: %s", err);
	}
	if (back.n != t.n)
		violated("%zu entries written, %zu read back", t.n, back.n);
	for (size_t i = 0; i < t.n; i++)
		if (arbor_subnet_ids_lookup(&back, t.v[i].name) != t.v[i].id)
			violated("%s: id %u written, %d read back", t.v[i].name, t.v[i].id,
				 arbor_subnet_ids_lookup(&back, t.v[i].name));
	arbor_subnet_ids_free(&back);
	arbor_subnet_ids_free(&t);
	free(old);
	return 0;
}
