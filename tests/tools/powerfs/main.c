/* powerfs: a FUSE file system for power-loss tests, in the spirit of Jepsen's
 * LazyFS. It serves the tree in a backing directory, keeps every change in
 * memory until fsync/fdatasync (files) or fsync (directories) makes it durable
 * (model.h), and on command loses power: only the durable state is written back
 * to the backing directory, and every later operation fails with EIO until it
 * is unmounted and mounted again.
 *
 *   powerfs [-d] [-o OPTIONS] BACKING MOUNTPOINT
 *
 * It prints "ready" once mounted and serves until unmounted or sent SIGTERM
 * (which unmounts); a clean unmount writes everything back, as the kernel
 * flushes the page cache at umount.
 * Commands are written to MOUNTPOINT/.powerfs (a file no listing shows), one
 * per write; reading it gives counters:
 *
 *   cut               power loss: unsynced data, creates, renames, unlinks go
 *   cut torn SEED     the same, but each file keeps its unsynced writes up to a
 *                     random byte (writeback got that far before the power went)
 *   full BYTES        files may grow by BYTES more, then the disk is full (a
 *                     short write, then ENOSPC); truncating gives space back
 *   full off          space again
 *   fail-sync N       the next N file syncs fail with EIO and lose their data,
 *                     as Linux does when a writeback fails: a later sync
 *                     succeeds without rewriting what was lost
 *   full BYTES PATH, fail-sync N PATH
 *                     the same for the file at PATH (from the root) only
 *
 * One thread serves every request, so a cut falls between two operations. */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "model.h"

static const char control_name[] = ".powerfs";
static const fuse_ino_t control_ino = UINT64_C(0x7ffffffffffffff0);
static const double cache_seconds = 1.0;

static struct pfs *fs;
static const char *backing;

static struct pfs_node *node_of(fuse_req_t req, fuse_ino_t ino)
{
	struct pfs_node *n = fs->dead ? NULL : pfs_node(fs, ino);
	if (n == NULL)
		fuse_reply_err(req, EIO);
	return n;
}

static struct pfs_node *dir_of(fuse_req_t req, fuse_ino_t ino)
{
	struct pfs_node *n = node_of(req, ino);
	if (n && !S_ISDIR(n->mode)) {
		fuse_reply_err(req, ENOTDIR);
		return NULL;
	}
	return n;
}

static void control_stat(struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = control_ino;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = 4096; /* an upper bound: reads return the counters' length */
}

static void reply_entry(fuse_req_t req, struct pfs_node *n, struct fuse_file_info *fi)
{
	struct fuse_entry_param e = { .ino = n->ino, .attr_timeout = cache_seconds, .entry_timeout = cache_seconds };
	pfs_stat(n, &e.attr);
	n->nlookup++;
	if (fi) {
		n->nopen++;
		fi->direct_io = 1; /* every read and write comes here: none served from a cache */
		fuse_reply_create(req, &e, fi);
	} else {
		fuse_reply_entry(req, &e);
	}
}

static void reply_attr(fuse_req_t req, const struct pfs_node *n)
{
	struct stat st;
	pfs_stat(n, &st);
	fuse_reply_attr(req, &st, cache_seconds);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent == FUSE_ROOT_ID && strcmp(name, control_name) == 0) {
		struct fuse_entry_param e = { .ino = control_ino };
		control_stat(&e.attr);
		fuse_reply_entry(req, &e);
		return;
	}
	struct pfs_node *dir = dir_of(req, parent);
	if (dir == NULL)
		return;
	struct pfs_node *n = pfs_lookup(dir, name);
	if (n == NULL)
		fuse_reply_err(req, ENOENT);
	else
		reply_entry(req, n, NULL);
}

static void forget_one(fuse_ino_t ino, uint64_t nlookup)
{
	struct pfs_node *n = pfs_node(fs, ino);
	if (n == NULL || ino == control_ino)
		return;
	n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
	pfs_release(fs, n);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino == control_ino) {
		struct stat st;
		control_stat(&st);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n)
		reply_attr(req, n);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	if (ino == control_ino) {
		op_getattr(req, ino, fi); /* truncating the control file (O_TRUNC) means nothing */
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n == NULL)
		return;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		int rc = S_ISREG(n->mode) ? pfs_truncate(fs, n, attr->st_size) : -EISDIR;
		if (rc != 0) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_ATIME)
		n->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		n->atime = now;
	if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		n->mtime = now;
	n->ctime = now;
	reply_attr(req, n);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct pfs_node *n = node_of(req, ino);
	if (n == NULL)
		return;
	if (!S_ISLNK(n->mode))
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n->target);
}

static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, const char *target,
		 struct fuse_file_info *fi)
{
	struct pfs_node *dir = dir_of(req, parent);
	if (dir == NULL)
		return;
	if (parent == FUSE_ROOT_ID && strcmp(name, control_name) == 0) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct pfs_node *n;
	int rc = pfs_create(fs, dir, name, mode & ~ctx->umask, ctx->uid, ctx->gid, target, &n);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, n, fi);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	if (!S_ISREG(mode))
		fuse_reply_err(req, EPERM); /* devices, fifos, sockets: not needed here */
	else
		make(req, parent, name, mode, NULL, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make(req, parent, name, S_IFDIR | (mode & 07777), NULL, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make(req, parent, name, S_IFLNK | 0777, link, NULL);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct pfs_node *dir = dir_of(req, parent);
	if (dir == NULL)
		return;
	struct pfs_node *n = pfs_lookup(dir, name);
	if (n == NULL) {
		make(req, parent, name, S_IFREG | (mode & 07777), NULL, fi);
		return;
	}
	if (fi->flags & O_EXCL) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	if (!S_ISREG(n->mode)) {
		fuse_reply_err(req, S_ISDIR(n->mode) ? EISDIR : EPERM);
		return;
	}
	if (fi->flags & O_TRUNC)
		pfs_truncate(fs, n, 0);
	reply_entry(req, n, fi);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfs_node *dir = dir_of(req, parent);
	if (dir)
		fuse_reply_err(req, -pfs_unlink(fs, dir, name, false));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct pfs_node *dir = dir_of(req, parent);
	if (dir)
		fuse_reply_err(req, -pfs_unlink(fs, dir, name, true));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct pfs_node *dir = dir_of(req, parent);
	if (dir == NULL)
		return;
	struct pfs_node *newdir = dir_of(req, newparent);
	if (newdir)
		fuse_reply_err(req, -pfs_rename(fs, dir, name, newdir, newname, flags));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct pfs_node *n = node_of(req, ino);
	struct pfs_node *dir = n ? dir_of(req, newparent) : NULL;
	if (dir == NULL)
		return;
	int rc = pfs_link(fs, n, dir, newname);
	if (rc != 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, n, NULL);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fi->direct_io = 1;
	if (ino == control_ino) {
		fuse_reply_open(req, fi);
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n == NULL)
		return;
	if (S_ISDIR(n->mode)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fi->flags & O_TRUNC) {
		int rc = pfs_truncate(fs, n, 0);
		if (rc != 0) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	n->nopen++;
	fuse_reply_open(req, fi);
}

static void control_read(fuse_req_t req, size_t size, off_t off)
{
	char text[512];
	int len = snprintf(text, sizeof text,
			   "dead %d\nwrites %" PRIu64 "\nbytes %" PRIu64 "\nfsyncs %" PRIu64 "\nfsyncdirs %" PRIu64
			   "\nfailed_syncs %" PRIu64 "\nenospc %" PRIu64 "\nspace_left %" PRId64 "\n",
			   fs->dead, fs->stats.writes, fs->stats.bytes_written, fs->stats.fsyncs,
			   fs->stats.fsyncdirs, fs->stats.failed_syncs, fs->stats.enospc, fs->space_left);
	if (off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off, (size_t)len - (size_t)off < size ? (size_t)len - (size_t)off : size);
}

/* One command per write (see the top of this file). */
static int control_write(const char *buf, size_t size)
{
	char cmd[128];
	if (size >= sizeof cmd)
		return -EINVAL;
	memcpy(cmd, buf, size);
	cmd[size] = '\0';
	cmd[strcspn(cmd, "\n")] = '\0';
	unsigned seed;
	long long n;
	if (strcmp(cmd, "cut") == 0 || sscanf(cmd, "cut torn %u", &seed) == 1) {
		if (fs->dead)
			return -EIO;
		bool torn = strcmp(cmd, "cut") != 0;
		pfs_cut(fs, torn, torn ? seed : 0);
		int rc = image_save(fs, backing);
		fprintf(stderr, "powerfs: power cut%s after %" PRIu64 " writes, %" PRIu64 " syncs%s%s\n",
			torn ? " (torn)" : "", fs->stats.writes, fs->stats.fsyncs, rc ? ": saving failed: " : "",
			rc ? strerror(-rc) : "");
		return rc;
	}
	if (fs->dead)
		return -EIO;
	char path[100] = "";
	if (strcmp(cmd, "full off") == 0) {
		fs->space_left = -1;
		fs->fault_ino = 0;
		return 0;
	}
	bool full = sscanf(cmd, "full %lld %99s", &n, path) >= 1;
	if (!full && sscanf(cmd, "fail-sync %lld %99s", &n, path) < 1)
		return -EINVAL;
	struct pfs_node *target = path[0] ? pfs_resolve(fs, path) : NULL;
	if (n < 0 || (path[0] && (target == NULL || !S_ISREG(target->mode))))
		return -EINVAL;
	fs->fault_ino = target ? target->ino : 0;
	if (full)
		fs->space_left = n;
	else
		fs->failing_syncs = (unsigned)n;
	return 0;
	return -EINVAL;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	if (ino == control_ino) {
		control_read(req, size, off);
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n == NULL)
		return;
	if ((size_t)off >= n->live.size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, n->live.data + off,
			       n->live.size - (size_t)off < size ? n->live.size - (size_t)off : size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	if (ino == control_ino) {
		int rc = control_write(buf, size);
		if (rc != 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, size);
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n == NULL)
		return;
	ssize_t rc = pfs_write(fs, n, buf, size, off);
	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else
		fuse_reply_write(req, (size_t)rc);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, fs->dead && ino != control_ino ? EIO : 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pfs_node *n = ino == control_ino ? NULL : pfs_node(fs, ino);
	if (n && n->nopen) {
		n->nopen--;
		pfs_release(fs, n);
	}
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (ino == control_ino) {
		fuse_reply_err(req, 0);
		return;
	}
	struct pfs_node *n = node_of(req, ino);
	if (n)
		fuse_reply_err(req, -pfs_fsync(fs, n));
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (dir_of(req, ino))
		fuse_reply_open(req, fi);
}

/* Offsets are positions in the entry array, after "." (1) and ".." (2). */
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct pfs_node *dir = dir_of(req, ino);
	if (dir == NULL)
		return;
	char *buf = malloc(size);
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = (size_t)off; i < dir->entries.n + 2; i++) {
		const struct pfs_node *n = i == 0 ? dir : i == 1 ? dir->parent : dir->entries.e[i - 2].node;
		struct stat st;
		pfs_stat(n, &st);
		const char *name = i == 0 ? "." : i == 1 ? ".." : dir->entries.e[i - 2].name;
		size_t len = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct pfs_node *dir = dir_of(req, ino);
	if (dir) {
		pfs_fsyncdir(fs, dir);
		fuse_reply_err(req, 0);
	}
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	if (fs->dead) {
		fuse_reply_err(req, EIO);
		return;
	}
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255 };
	sv.f_blocks = 1u << 20;
	sv.f_bfree = sv.f_bavail = fs->space_left >= 0 ? (fsblkcnt_t)fs->space_left / 4096 : 1u << 19;
	sv.f_files = sv.f_ffree = sv.f_favail = 1u << 20;
	fuse_reply_statfs(req, &sv);
}

static void op_destroy(void *userdata)
{
	if (fs->dead)
		return; /* the backing directory already holds what survived the cut */
	pfs_sync_all(fs); /* a clean unmount: the page cache is written back */
	int rc = image_save(fs, backing);
	if (rc != 0)
		fprintf(stderr, "powerfs: saving %s: %s\n", backing, strerror(-rc));
}

static const struct fuse_lowlevel_ops ops = {
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.create = op_create,
};

static int usage(void)
{
	fprintf(stderr, "usage: powerfs [-d] [-o OPTIONS] BACKING MOUNTPOINT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	fuse_opt_add_arg(&args, argv[0]);
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, getuid() == 0 ? "default_permissions,allow_other,fsname=powerfs,subtype=powerfs"
					      : "default_permissions,fsname=powerfs,subtype=powerfs");
	int opt;
	while ((opt = getopt(argc, argv, "do:")) != -1) {
		if (opt == 'd') {
			fuse_opt_add_arg(&args, "-d");
		} else if (opt == 'o') {
			fuse_opt_add_arg(&args, "-o");
			fuse_opt_add_arg(&args, optarg);
		} else {
			return usage();
		}
	}
	if (argc - optind != 2)
		return usage();
	backing = argv[optind];
	const char *mountpoint = argv[optind + 1];

	fs = pfs_new(getuid(), getgid());
	int rc = image_load(fs, backing);
	if (rc != 0) {
		fprintf(stderr, "powerfs: %s: %s\n", backing, strerror(-rc));
		return 1;
	}
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (se == NULL || fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, mountpoint) != 0) {
		fprintf(stderr, "powerfs: cannot mount %s\n", mountpoint);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	rc = fuse_session_loop(se); /* a signal (SIGTERM: unmount) makes it return that signal's number */
	fuse_remove_signal_handlers(se);
	signal(SIGTERM, SIG_IGN); /* from here on the way out is the same whatever arrives */
	signal(SIGINT, SIG_IGN);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	pfs_free(fs);
	return rc < 0 ? 1 : 0;
}
