/* dhcp4d's leases as dnsd sees them: read-only, from dhcp4d's state directory
 * (the snapshot leases.json and the journal leases.json.journal after it, the
 * same replay dhcp4d does at start). Only the newest record per (interface,
 * address) counts; what is bound and not yet ended is a lease. */
#pragma once
#include <netinet/in.h>
#include <stddef.h>
#include <sys/stat.h>

struct lease_view {
	char interface[16];
	char hostname[64]; /* "" when the client sent none */
	struct in_addr addr;
	double ends;
};

/* Reads dir's lease files. *out (malloc'd, caller frees) gets the bound leases
 * with ends > now; *next_end the earliest of their ends (0 when none). A missing
 * directory or snapshot is no leases (0). Returns 0 or -errno / -EBADMSG with err. */
int lease_view_read(const char *dir, double now, struct lease_view **out, size_t *n, double *next_end, char *err,
		    size_t errlen);

/* What identifies the files' current version (size, mtime, inode of both), to
 * re-read only on change. */
struct lease_view_stamp {
	struct stat snap, journal;
	int snap_ok, journal_ok;
};
void lease_view_stamp(const char *dir, struct lease_view_stamp *out);
int lease_view_stamp_equal(const struct lease_view_stamp *a, const struct lease_view_stamp *b);
