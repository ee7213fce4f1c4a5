/* TAP-style checks (see tap.h). */
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;
static char tmpdir[64];

bool tap_check(bool cond, const char *file, int line, const char *what)
{
	checks++;
	if (cond) {
		printf("ok %d - %s\n", checks, what);
	} else {
		failures++;
		printf("not ok %d - %s (%s:%d)\n", checks, what, file, line);
	}
	return cond;
}

const char *tap_tmpdir(void)
{
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/arbor-unit-XXXXXX");
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return tmpdir;
}

int tap_done(void)
{
	if (tmpdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	printf("1..%d\n# %d passed, %d failed\n", checks, checks - failures, failures);
	return failures ? 1 : 0;
}
