/* Atomic state files: replace, read back, no temporary left behind. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "statefile.h"
#include "tap.h"

static void touch(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

int main(void)
{
	const char *dir = tap_tmpdir();
	char err[256], sub[512];
	CHECK(arbor_state_write(dir, "state.json", "one", 3, err, sizeof err) == 0, "write");
	CHECK(arbor_state_write(dir, "state.json", "second", 6, err, sizeof err) == 0, "replace");
	char *data = NULL;
	size_t len = 0;
	CHECK(arbor_state_read(dir, "state.json", &data, &len, 1024) == 0 && len == 6 && memcmp(data, "second", 6) == 0,
	      "read back the new contents");
	free(data);
	CHECK(arbor_state_read(dir, "absent", &data, &len, 1024) == -2, "missing file is -ENOENT");
	CHECK(arbor_state_read(dir, "state.json", &data, &len, 2) < 0, "size limit");
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		entries += e->d_name[0] != '.' || strstr(e->d_name, ".tmp") != NULL;
	closedir(d);
	CHECK(entries == 1, "no temporary file left behind");
	snprintf(sub, sizeof sub, "%s/a/b/c", dir);
	CHECK(arbor_mkdir_p(sub, 0750) == 0 && arbor_mkdir_p(sub, 0750) == 0, "mkdir -p, twice");
	snprintf(sub, sizeof sub, "%s/nowhere/x", dir);
	CHECK(arbor_state_write(sub, "f", "x", 1, err, sizeof err) < 0 && strstr(err, "nowhere"), "errors name the path");

	/* What a crash between the write and the rename leaves, and look-alikes. */
	snprintf(sub, sizeof sub, "%s/leftovers", dir);
	arbor_mkdir_p(sub, 0750);
	const char *leftovers[] = { ".state.json.tmp.4242", ".leases.json.journal.tmp.1", ".a.tmp.b.tmp.77" };
	const char *kept[] = { "state.json", ".state.json.tmp.", ".state.json.tmp.12x", "state.json.tmp.5", ".tmp.5",
			       ".hidden" };
	for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++)
		touch(sub, leftovers[i]);
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
		touch(sub, kept[i]);
	CHECK(arbor_state_remove_leftovers(sub) == 3, "three leftover temporaries removed");
	bool gone = true, stay = true;
	for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++)
		gone = gone && !exists(sub, leftovers[i]);
	for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
		stay = stay && exists(sub, kept[i]);
	CHECK(gone && stay, "only .NAME.tmp.PID files are removed");
	CHECK(arbor_state_remove_leftovers("/nonexistent-arbor-dir") == -2, "a missing directory is -ENOENT");
	return tap_done();
}
