/* powerfs's file system in memory: every inode has a live state (what the page
 * cache shows to programs) and a durable state (what is on the "disk"). The
 * durability model, the one ext4 promises an application (docs/testing.md):
 *
 *  - write/truncate change only the live data;
 *  - fsync or fdatasync on a file makes its data and size durable, not its name;
 *  - fsync on a directory makes its entries durable: creates, unlinks, renames
 *    and links inside it, each entry pointing at its inode;
 *  - a power cut keeps the durable state only ("torn": each file also keeps
 *    its unsynced changes up to a random byte, as if writeback had got that far
 *    in order); a file whose name is durable but whose data never was is empty.
 *
 * Attributes (mode, owner, times) are kept as they are live. A rename between
 * two directories is refused with EXDEV: ext4 makes it durable as one unit,
 * which two separate directory states cannot say, and no daemon needs it.
 *
 * One thread uses this (the FUSE loop): no locks. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct pfs_content {
	char *data;
	size_t size, cap;
};

struct pfs_entry {
	char *name;
	struct pfs_node *node;
};

struct pfs_dir {
	struct pfs_entry *e;
	size_t n, cap;
};

struct pfs_node {
	uint64_t ino;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	unsigned nlink;        /* live names (a directory: 2 + subdirectories) */
	unsigned durable_refs; /* names in durable directory entries */
	uint64_t nlookup;      /* the kernel's references (FUSE lookup count) */
	unsigned nopen;
	/* regular files: the unsynced part of live is [dirty_lo, dirty_hi) */
	struct pfs_content live, durable;
	size_t dirty_lo, dirty_hi;
	/* directories */
	struct pfs_dir entries, durable_entries;
	struct pfs_node *parent;
	bool dir_dirty;
	/* symbolic links */
	char *target;
};

struct pfs_stats {
	uint64_t writes, bytes_written, fsyncs, fsyncdirs, failed_syncs, enospc;
};

struct pfs {
	struct pfs_node **nodes; /* by inode number */
	size_t nodes_cap;
	uint64_t next_ino;
	struct pfs_node *root;
	int64_t space_left;      /* bytes files may still grow by; -1: no limit */
	unsigned failing_syncs;  /* the next fsyncs that fail as a lost writeback does */
	uint64_t fault_ino;      /* the only file both faults apply to; 0: every file */
	bool dead;               /* after a power cut: every operation is EIO */
	struct pfs_stats stats;
};

struct pfs *pfs_new(uid_t uid, gid_t gid);
void pfs_free(struct pfs *fs);
struct pfs_node *pfs_node(const struct pfs *fs, uint64_t ino);
struct pfs_node *pfs_lookup(const struct pfs_node *dir, const char *name);
/* A new node named name in dir (mode's type: regular, directory or symlink). */
int pfs_create(struct pfs *fs, struct pfs_node *dir, const char *name, mode_t mode, uid_t uid, gid_t gid,
	       const char *target, struct pfs_node **out);
int pfs_link(struct pfs *fs, struct pfs_node *node, struct pfs_node *dir, const char *name);
int pfs_unlink(struct pfs *fs, struct pfs_node *dir, const char *name, bool want_dir);
/* flags: 0 or RENAME_NOREPLACE. */
int pfs_rename(struct pfs *fs, struct pfs_node *dir, const char *name, struct pfs_node *newdir,
	       const char *newname, unsigned flags);
/* Returns the bytes written (short when the disk fills) or -errno. */
ssize_t pfs_write(struct pfs *fs, struct pfs_node *node, const void *buf, size_t size, off_t off);
int pfs_truncate(struct pfs *fs, struct pfs_node *node, off_t size);
/* Makes a file's data durable; -EIO (the data dropped, as Linux does after a
 * failed writeback) while failing_syncs lasts. */
int pfs_fsync(struct pfs *fs, struct pfs_node *node);
void pfs_fsyncdir(struct pfs *fs, struct pfs_node *dir);
/* Loses power: durable state only (torn: see above, with this seed). */
void pfs_cut(struct pfs *fs, bool torn, unsigned seed);
/* Everything live becomes durable (a clean unmount writes the page cache back). */
void pfs_sync_all(struct pfs *fs);
/* Frees node if nothing refers to it any more. */
void pfs_release(struct pfs *fs, struct pfs_node *node);
void pfs_stat(const struct pfs_node *node, struct stat *st);
/* The node at a path relative to the root ("a/b"), or NULL. */
struct pfs_node *pfs_resolve(const struct pfs *fs, const char *path);
