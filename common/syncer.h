/* fdatasync off the loop. A DHCP server that blocks its loop in fdatasync can
 * only batch what arrived during the previous sync; with the sync on a worker
 * thread the loop keeps reading and deciding, and the next commit carries
 * everything that came meanwhile (pipelined group commit). The worker touches
 * nothing but the file descriptor it is given: all daemon state stays on the
 * loop's thread, as docs/architecture.md asks. */
#pragma once
#include <stdbool.h>

#include <event2/event.h>

struct arbor_syncer;

typedef void (*arbor_sync_done_fn)(void *ctx, int rc); /* rc: 0 or -errno */

struct arbor_syncer *arbor_syncer_new(struct event_base *base, char *err, size_t errlen);
/* Starts fdatasync(fd); done runs on the loop when it finishes. One at a time:
 * returns -EBUSY while a sync is in flight. */
int arbor_syncer_start(struct arbor_syncer *s, int fd, arbor_sync_done_fn done, void *ctx);
bool arbor_syncer_busy(const struct arbor_syncer *s);
/* Blocks until the sync in flight (if any) is done, and runs its done. */
void arbor_syncer_wait(struct arbor_syncer *s);
/* Waits for syncs in flight (their done runs), then stops the worker. */
void arbor_syncer_free(struct arbor_syncer *s);
