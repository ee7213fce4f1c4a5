/* LD_PRELOAD shim for the power-loss control runs: the ways to make data
 * durable do nothing and report success, so a daemon run with it acknowledges
 * what is only in the page cache. The power-loss test must catch that;
 * production code carries no switch for it. ARBOR_NOSYNC_ONLY=fdatasync (or
 * fsync, syncfs, sync) disables that call alone. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool disabled(const char *call)
{
	const char *only = getenv("ARBOR_NOSYNC_ONLY");
	return only == NULL || strcmp(only, call) == 0;
}

int fsync(int fd)
{
	return disabled("fsync") ? 0 : (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
	return disabled("fdatasync") ? 0 : (int)syscall(SYS_fdatasync, fd);
}

int syncfs(int fd)
{
	return disabled("syncfs") ? 0 : (int)syscall(SYS_syncfs, fd);
}

void sync(void)
{
	if (!disabled("sync"))
		syscall(SYS_sync);
}
