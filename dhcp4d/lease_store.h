/* The lease store of arbor-dhcp4d: every lease change is a record in the lease
 * journal (leases.json and leases.json.journal in the state directory, see
 * journal.h and lease_record.h), committed by group commit (group_commit.h), so
 * an ACK and every lease event leave only after the record they announce is on
 * disk. Also: the replay at start, compaction into a snapshot of every lease
 * (readable with jq), and the expiry sweep, once a second. */
#pragma once
#include <stdint.h>

#include "dhcp4d.h"
#include "group_commit.h"

struct lease_store;

/* Opens the journal and replays it into h->served, sweeps what lapsed while we
 * were down, compacts (so leases.json holds every lease, and the journal only
 * what came since) and starts the sweep timer. NULL with a reason in err. */
struct lease_store *lease_store_open(struct dhcp4d *h, uint64_t compact_records, char *err, size_t errlen);
/* Commits and answers everything, compacts, and closes. NULL is fine. */
void lease_store_close(struct lease_store *ls);

/* Journals the lease l of sv, in the current batch. */
void lease_store_record(struct lease_store *ls, const struct served *sv, const struct lease *l);
/* A zeroed answer in the current batch: sent (and its event emitted) after the
 * batch's commit. Fill it before the next call into the store. */
struct answer *lease_store_answer(struct lease_store *ls);
/* Ends the batch (group commit: after each loop turn that decided something). */
void lease_store_flush(struct lease_store *ls);
/* Commits and answers everything before returning (a reload replaces the
 * sockets the answers go out on). */
void lease_store_drain(struct lease_store *ls);
/* Ends the leases that have lapsed by now (journalled, lease.expired), and
 * commits. */
void lease_store_sweep(struct lease_store *ls);
void lease_store_compact_after(struct lease_store *ls, uint64_t records);
const struct arbor_group_commit_stats *lease_store_stats(const struct lease_store *ls);
