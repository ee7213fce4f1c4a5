/* Atomic state files (see statefile.h for the protocol). */
#include "statefile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "xalloc.h"

int arbor_state_write(const char *dir, const char *name, const void *data, size_t len, char *err,
		      size_t errlen)
{
	return arbor_state_write_mode(dir, name, data, len, 0640, err, errlen);
}

int arbor_state_write_mode(const char *dir, const char *name, const void *data, size_t len, unsigned int mode,
			   char *err, size_t errlen)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	snprintf(final, sizeof final, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		return -e;
	}
	/* The mode is set explicitly: a file of secrets must not depend on the umask,
	 * and a temporary file left from a crash may have another mode. */
	int rc = fchmod(fd, mode) != 0 ? -errno : 0;
	if (rc == 0)
		rc = arbor_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, final) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", final, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	rc = arbor_fsync_dir(dir);
	if (rc != 0)
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(-rc));
	return rc;
}

int arbor_state_write_json(const char *dir, const char *name, const cJSON *doc, char *err, size_t errlen)
{
	char *text = cJSON_Print(doc);
	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	size_t n = strlen(text);
	char *withnl = xrealloc(text, n + 2);
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	int rc = arbor_state_write(dir, name, withnl, n + 1, err, errlen);
	free(withnl);
	return rc;
}

/* True for ".NAME.tmp.PID", the temporaries arbor_state_write makes. */
static bool is_leftover(const char *name)
{
	const char *tag = name[0] == '.' ? strstr(name + 1, ".tmp.") : NULL;
	if (tag == NULL || tag == name + 1)
		return false;
	while (strstr(tag + 1, ".tmp.")) /* a NAME may itself contain ".tmp." */
		tag = strstr(tag + 1, ".tmp.");
	const char *pid = tag + 5;
	if (*pid == '\0')
		return false;
	for (; *pid; pid++)
		if (!isdigit((unsigned char)*pid))
			return false;
	return true;
}

int arbor_state_remove_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	int removed = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (is_leftover(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	closedir(d);
	return removed;
}

int arbor_state_read(const char *dir, const char *name, char **data, size_t *len, size_t max_len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct arbor_buf b = { 0 };
	for (;;) {
		arbor_buf_reserve(&b, 65536);
		ssize_t n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len > max_len) {
			int e = n < 0 ? errno : EFBIG;
			close(fd);
			arbor_buf_free(&b);
			return -e;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
	}
	close(fd);
	*data = arbor_buf_steal(&b, len);
	return 0;
}
