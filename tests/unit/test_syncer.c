/* The sync worker: one sync at a time, done runs on the loop, wait and free
 * finish what is in flight. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <event2/event.h>

#include "syncer.h"
#include "tap.h"

static int calls, last_rc = 1;

static void done(void *ctx, int rc)
{
	calls++;
	last_rc = rc;
	if (ctx)
		event_base_loopbreak(ctx);
}

int main(void)
{
	char path[256], err[128];
	snprintf(path, sizeof path, "%s/f", tap_tmpdir());
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "a file to sync");
	struct event_base *base = event_base_new();
	struct arbor_syncer *s = arbor_syncer_new(base, err, sizeof err);
	CHECK(s != NULL, "worker starts");
	CHECK(arbor_syncer_start(s, fd, done, base) == 0 && arbor_syncer_busy(s), "a sync starts");
	CHECK(arbor_syncer_start(s, fd, done, base) == -EBUSY, "one at a time");
	event_base_dispatch(base);
	CHECK(calls == 1 && last_rc == 0 && !arbor_syncer_busy(s), "done runs on the loop with rc 0");
	CHECK(arbor_syncer_start(s, -1, done, NULL) == -EBADF && !arbor_syncer_busy(s), "-1 is refused");
	int closed = dup(fd);
	close(closed);
	CHECK(arbor_syncer_start(s, closed, done, NULL) == 0, "a closed descriptor");
	arbor_syncer_wait(s);
	CHECK(calls == 2 && last_rc == -EBADF, "wait runs done, with the error");
	arbor_syncer_start(s, fd, done, NULL);
	arbor_syncer_free(s);
	CHECK(calls == 3 && last_rc == 0, "free finishes the sync in flight");
	close(fd);
	event_base_free(base);
	return tap_done();
}
