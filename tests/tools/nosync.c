/* LD_PRELOAD shim for the power-loss control run: every way to make data
 * durable does nothing and reports success, so a daemon run with it
 * acknowledges what is only in the page cache. The power-loss test must catch
 * that; production code carries no switch for it. */
#include <unistd.h>

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

int syncfs(int fd)
{
	(void)fd;
	return 0;
}

void sync(void)
{
}
