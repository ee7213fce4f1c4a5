/* Loading and saving the backing directory (see image.h). Hard links stay
 * hard links: an inode is known by its (device, inode) on load and by its node
 * on save. */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

struct seen {
	dev_t dev;
	ino_t ino;
	struct pfs_node *node;
	char *path; /* on save: where the node was first written */
};

struct seen_set {
	struct seen *s;
	size_t n, cap;
};

static struct seen *seen_add(struct seen_set *set)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 64;
		set->s = xreallocarray(set->s, set->cap, sizeof *set->s);
	}
	memset(&set->s[set->n], 0, sizeof set->s[set->n]);
	return &set->s[set->n++];
}

static void seen_free(struct seen_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i].path);
	free(set->s);
}

static void set_attrs(struct pfs_node *n, const struct stat *st)
{
	n->mode = st->st_mode;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->atime = st->st_atim;
	n->mtime = st->st_mtim;
	n->ctime = st->st_ctim;
}

static int read_content(struct pfs *fs, struct pfs_node *n, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char buf[65536];
	off_t off = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int rc = r < 0 ? -errno : 0;
			close(fd);
			return rc;
		}
		pfs_write(fs, n, buf, (size_t)r, off);
		off += r;
	}
}

static int load_dir(struct pfs *fs, struct pfs_node *dir, int dirfd, struct seen_set *seen)
{
	DIR *d = fdopendir(dirfd);
	if (d == NULL) {
		close(dirfd);
		return -errno;
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -errno;
			break;
		}
		struct seen *known = NULL;
		for (size_t i = 0; S_ISREG(st.st_mode) && i < seen->n; i++)
			if (seen->s[i].dev == st.st_dev && seen->s[i].ino == st.st_ino)
				known = &seen->s[i];
		if (known) {
			rc = pfs_link(fs, known->node, dir, e->d_name);
			continue;
		}
		struct pfs_node *n;
		char target[4096] = "";
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlinkat(dirfd, e->d_name, target, sizeof target - 1);
			if (len < 0) {
				rc = -errno;
				break;
			}
			target[len] = '\0';
		} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "powerfs: skipping %s (not a file, directory or symlink)\n", e->d_name);
			continue;
		}
		rc = pfs_create(fs, dir, e->d_name, st.st_mode, st.st_uid, st.st_gid,
				S_ISLNK(st.st_mode) ? target : NULL, &n);
		if (rc != 0)
			break;
		if (S_ISREG(st.st_mode)) {
			struct seen *s = seen_add(seen);
			s->dev = st.st_dev;
			s->ino = st.st_ino;
			s->node = n;
			rc = read_content(fs, n, dirfd, e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			rc = sub < 0 ? -errno : load_dir(fs, n, sub, seen);
		}
		set_attrs(n, &st);
	}
	closedir(d);
	return rc;
}

int image_load(struct pfs *fs, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) == 0)
		set_attrs(fs->root, &st);
	struct seen_set seen = { 0 };
	int rc = load_dir(fs, fs->root, fd, &seen);
	seen_free(&seen);
	pfs_sync_all(fs);
	memset(&fs->stats, 0, sizeof fs->stats);
	return rc;
}

/* Empties dirfd (recursively). */
static int clear_dir(int dirfd)
{
	int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup < 0 ? NULL : fdopendir(dup);
	if (d == NULL)
		return -errno;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR) {
			rc = -errno;
			continue;
		}
		int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0 || clear_dir(sub) != 0 || unlinkat(dirfd, e->d_name, AT_REMOVEDIR) != 0)
			rc = -errno;
		if (sub >= 0)
			close(sub);
	}
	closedir(d);
	return rc;
}

static void put_attrs(int fd, const char *name, const struct pfs_node *n)
{
	struct timespec times[2] = { n->atime, n->mtime };
	if (fchownat(fd, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) != 0 ||
	    (!S_ISLNK(n->mode) && fchmodat(fd, name, n->mode & 07777, 0) != 0) ||
	    utimensat(fd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
		fprintf(stderr, "powerfs: %s: attributes: %s\n", name, strerror(errno));
}

static int save_dir(const struct pfs_node *dir, int dirfd, const char *path, struct seen_set *seen)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < dir->durable_entries.n; i++) {
		const struct pfs_entry *e = &dir->durable_entries.e[i];
		const struct pfs_node *n = e->node;
		char *full = xasprintf("%s/%s", path, e->name);
		struct seen *known = NULL;
		for (size_t k = 0; S_ISREG(n->mode) && k < seen->n; k++)
			if (seen->s[k].node == n)
				known = &seen->s[k];
		if (known) {
			if (linkat(AT_FDCWD, known->path, dirfd, e->name, 0) != 0)
				rc = -errno;
			free(full);
			continue;
		}
		if (S_ISREG(n->mode)) {
			int fd = openat(dirfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0) {
				rc = -errno;
			} else {
				size_t off = 0;
				while (rc == 0 && off < n->durable.size) {
					ssize_t w = write(fd, n->durable.data + off, n->durable.size - off);
					if (w < 0 && errno != EINTR)
						rc = -errno;
					else if (w > 0)
						off += (size_t)w;
				}
				close(fd);
			}
			struct seen *s = seen_add(seen);
			s->node = (struct pfs_node *)n;
			s->path = xstrdup(full);
		} else if (S_ISDIR(n->mode)) {
			int sub = -1;
			if (mkdirat(dirfd, e->name, 0700) != 0 ||
			    (sub = openat(dirfd, e->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				rc = -errno;
			else
				rc = save_dir(n, sub, full, seen);
			if (sub >= 0)
				close(sub);
		} else if (S_ISLNK(n->mode)) {
			if (symlinkat(n->target, dirfd, e->name) != 0)
				rc = -errno;
		}
		if (rc == 0)
			put_attrs(dirfd, e->name, n);
		else
			fprintf(stderr, "powerfs: saving %s: %s\n", full, strerror(-rc));
		free(full);
	}
	return rc;
}

int image_save(struct pfs *fs, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = clear_dir(fd);
	struct seen_set seen = { 0 };
	if (rc == 0)
		rc = save_dir(fs->root, fd, dir, &seen);
	seen_free(&seen);
	if (rc == 0)
		put_attrs(fd, ".", fs->root);
	close(fd); /* no sync: the backing directory outlives powerfs, not the host */
	return rc;
}
