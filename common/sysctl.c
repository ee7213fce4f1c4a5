/* /proc/sys reads and writes (see sysctl.h). */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

static int path_of(const char *key, char *path, size_t len)
{
	if (key == NULL || key[0] == '/' || strstr(key, "..") != NULL)
		return -EINVAL;
	if ((size_t)snprintf(path, len, "/proc/sys/%s", key) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int arbor_sysctl_write(const char *key, const char *value, char *err, size_t errlen)
{
	char path[256];
	int rc = path_of(key, path, sizeof path);
	int fd = rc == 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	if (rc == 0 && fd < 0)
		rc = -errno;
	if (rc == 0) {
		rc = arbor_write_all(fd, value, strlen(value));
		close(fd);
	}
	if (rc < 0)
		snprintf(err, errlen, "sysctl %s = %s: %s", key ? key : "(null)", value, strerror(-rc));
	return rc;
}

int arbor_sysctl_read(const char *key, char *out, size_t outlen)
{
	char path[256];
	int rc = path_of(key, path, sizeof path);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, out, outlen ? outlen - 1 : 0);
	int saved = errno;
	close(fd);
	if (n < 0)
		return -saved;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return (int)n;
}
