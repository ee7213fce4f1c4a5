/* The 16-bit subnet id of each interface (docs/addressing.md, "Subnet
 * numbering"). The address derivation is stateless; this numbering is the one
 * piece of state, kept in a JSON file so an interface's /64 never changes under
 * a running network:
 *
 *   {"version": 1, "subnets": {"enp1s0": 1, "enp2s0": 2, "br-lab": 3}}
 *
 * - id 0 is never assigned: it is the machine's own /64 (ARBOR_SUBNET_ID_MACHINE);
 * - physical interfaces not yet in the table get the lowest free ids in the
 *   natural order of their names (arbor_subnet_name_cmp: eth2 before eth10);
 * - a virtual interface gets the lowest free id when it is first seen;
 * - an id, once in the file, is never changed or given to another name;
 * - the file is written (atomically, statefile.h) before an assign call
 *   returns; when writing fails nothing is assigned;
 * - when all 65535 ids are taken, -ENOSPC. */
#pragma once
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARBOR_SUBNET_IDS_FILE "subnets6.json"
#define ARBOR_SUBNET_ID_MAX 65535

struct arbor_subnet_id {
	char name[IFNAMSIZ];
	uint16_t id;
};

struct arbor_subnet_ids {
	char *dir, *file; /* where the table is persisted */
	struct arbor_subnet_id *v;
	size_t n;
};

/* Reads dir/file; a missing file is an empty table. Returns 0, or -errno with
 * a message naming the file (and the key) in err. t is always initialised, so
 * arbor_subnet_ids_free is safe after a failure. */
int arbor_subnet_ids_load(struct arbor_subnet_ids *t, const char *dir, const char *file, char *err, size_t errlen);
void arbor_subnet_ids_free(struct arbor_subnet_ids *t);

/* The id of name (1..65535), or -ENOENT. */
int arbor_subnet_ids_lookup(const struct arbor_subnet_ids *t, const char *name);
/* Numbers the physical interfaces of names that have no id yet (duplicates
 * and known names are skipped). Returns the number of ids assigned, or -errno:
 * -EINVAL for a bad name, -ENOSPC when they do not all fit, or the write
 * error; on error nothing is assigned. */
int arbor_subnet_ids_assign_physical(struct arbor_subnet_ids *t, const char *const *names, size_t n, char *err,
				     size_t errlen);
/* The id of a virtual interface, assigned now when it has none. Returns the
 * id (1..65535) or -errno as above. */
int arbor_subnet_ids_assign_virtual(struct arbor_subnet_ids *t, const char *name, char *err, size_t errlen);

/* An interface name as the kernel accepts it: 1..15 bytes, not "." or "..",
 * no '/', ':' or white space. */
bool arbor_subnet_name_valid(const char *name);
/* Natural order: runs of decimal digits compare by value, other bytes by
 * byte value; names equal that way compare by plain byte order. */
int arbor_subnet_name_cmp(const char *a, const char *b);
