/* Atomic state files: replace, read back, no temporary left behind. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "statefile.h"
#include "tap.h"

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
	return tap_done();
}
