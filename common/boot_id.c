/* The boot token (see boot_id.h). */
#include "boot_id.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "statefile.h"

#define BOOT_ID_MAX 64

/* The first line of a small file, at most BOOT_ID_MAX characters of
 * [0-9a-f-]; -ENOENT if missing, -EINVAL if it holds anything else. */
static int read_token(const char *dir, const char *name, char *out, size_t outlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = arbor_state_read(dir, name, &text, &len, 4096);
	if (rc != 0)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	bool ok = len > 0 && len <= BOOT_ID_MAX && len < outlen;
	for (size_t i = 0; ok && i < len; i++)
		ok = (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f') || text[i] == '-';
	if (ok) {
		memcpy(out, text, len);
		out[len] = '\0';
	}
	free(text);
	return ok ? 0 : -EINVAL;
}

/* dir and name of a path ("/a/b" → "/a", "b"). */
static void split(const char *path, char *dir, size_t dirlen, const char **name)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		snprintf(dir, dirlen, ".");
		*name = path;
	} else {
		snprintf(dir, dirlen, "%.*s", slash == path ? 1 : (int)(slash - path), path);
		*name = slash + 1;
	}
}

int arbor_boot_id(const char *runtime_dir, const char *daemon, char *out, size_t outlen)
{
	const char *path = getenv("ARBOR_TEST_BOOT_ID_FILE");
	if (path == NULL || path[0] == '\0')
		path = "/proc/sys/kernel/random/boot_id";
	char dir[4096];
	const char *name;
	split(path, dir, sizeof dir, &name);
	int rc = read_token(dir, name, out, outlen);
	if (rc != -ENOENT)
		return rc;

	/* /proc/sys is hidden: the runtime directory's token, made on first use. */
	char marker[128];
	snprintf(marker, sizeof marker, "%s.boot", daemon);
	rc = read_token(runtime_dir, marker, out, outlen);
	if (rc == 0 || outlen < 2 * 16 + 1)
		return rc == 0 ? 0 : -ENOSPC;
	uint8_t random[16];
	if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random)
		return -errno;
	for (size_t i = 0; i < sizeof random; i++)
		snprintf(out + 2 * i, 3, "%02x", random[i]);
	char text[2 * 16 + 2], err[256];
	snprintf(text, sizeof text, "%s\n", out);
	/* Not kept, it is still a token no earlier start had: taken for a new boot. */
	if (arbor_state_write(runtime_dir, marker, text, strlen(text), err, sizeof err) != 0)
		log_warn("boot token: %s", err);
	return 0;
}
