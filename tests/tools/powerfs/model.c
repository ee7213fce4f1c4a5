/* powerfs's in-memory file system (see model.h for the durability model). */
#include "model.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const size_t clean = SIZE_MAX; /* dirty_lo of a file with nothing unsynced */

static void touch(struct timespec *a, struct timespec *b)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (a)
		*a = now;
	if (b)
		*b = now;
}

static struct pfs_node *node_new(struct pfs *fs, mode_t mode, uid_t uid, gid_t gid)
{
	struct pfs_node *n = xcalloc(1, sizeof *n);
	n->ino = fs->next_ino++;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->dirty_lo = clean;
	touch(&n->mtime, &n->ctime);
	n->atime = n->mtime;
	if (n->ino >= fs->nodes_cap) {
		size_t cap = fs->nodes_cap ? fs->nodes_cap * 2 : 1024;
		fs->nodes = xreallocarray(fs->nodes, cap, sizeof *fs->nodes);
		memset(fs->nodes + fs->nodes_cap, 0, (cap - fs->nodes_cap) * sizeof *fs->nodes);
		fs->nodes_cap = cap;
	}
	fs->nodes[n->ino] = n;
	return n;
}

static void dir_free(struct pfs_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	memset(d, 0, sizeof *d);
}

void pfs_release(struct pfs *fs, struct pfs_node *node);

/* cascade: a removed directory's durable entries no longer name anything. */
static void node_free(struct pfs *fs, struct pfs_node *n, bool cascade)
{
	fs->nodes[n->ino] = NULL;
	for (size_t i = 0; cascade && i < n->durable_entries.n; i++)
		n->durable_entries.e[i].node->durable_refs--;
	for (size_t i = 0; cascade && i < n->durable_entries.n; i++)
		pfs_release(fs, n->durable_entries.e[i].node);
	free(n->live.data);
	free(n->durable.data);
	dir_free(&n->entries);
	dir_free(&n->durable_entries);
	free(n->target);
	free(n);
}

struct pfs *pfs_new(uid_t uid, gid_t gid)
{
	struct pfs *fs = xcalloc(1, sizeof *fs);
	fs->next_ino = 1; /* FUSE_ROOT_ID */
	fs->space_left = -1;
	fs->root = node_new(fs, S_IFDIR | 0755, uid, gid);
	fs->root->nlink = 2;
	fs->root->durable_refs = 1; /* the root is always there */
	fs->root->parent = fs->root;
	return fs;
}

void pfs_free(struct pfs *fs)
{
	for (size_t i = 0; i < fs->nodes_cap; i++)
		if (fs->nodes[i])
			node_free(fs, fs->nodes[i], false);
	free(fs->nodes);
	free(fs);
}

struct pfs_node *pfs_node(const struct pfs *fs, uint64_t ino)
{
	return ino < fs->nodes_cap ? fs->nodes[ino] : NULL;
}

static struct pfs_entry *dir_find(const struct pfs_dir *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->e[i].name, name) == 0)
			return &d->e[i];
	return NULL;
}

struct pfs_node *pfs_lookup(const struct pfs_node *dir, const char *name)
{
	const struct pfs_entry *e = dir_find(&dir->entries, name);
	return e ? e->node : NULL;
}

static void dir_add(struct pfs_dir *d, const char *name, struct pfs_node *node)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->e = xreallocarray(d->e, d->cap, sizeof *d->e);
	}
	d->e[d->n].name = xstrdup(name);
	d->e[d->n].node = node;
	d->n++;
}

static void dir_remove(struct pfs_dir *d, struct pfs_entry *e)
{
	free(e->name);
	*e = d->e[--d->n];
}

void pfs_release(struct pfs *fs, struct pfs_node *node)
{
	if (node != fs->root && node->nlink == 0 && node->durable_refs == 0 && node->nlookup == 0 &&
	    node->nopen == 0 && !fs->dead)
		node_free(fs, node, true);
}

static bool is_dir(const struct pfs_node *n)
{
	return S_ISDIR(n->mode);
}

/* Drops the live name e from dir (its node loses a link). */
static void drop_name(struct pfs *fs, struct pfs_node *dir, struct pfs_entry *e)
{
	struct pfs_node *n = e->node;
	if (is_dir(n)) {
		n->nlink = 0;
		dir->nlink--;
	} else {
		n->nlink--;
	}
	touch(NULL, &n->ctime);
	dir_remove(&dir->entries, e);
	dir->dir_dirty = true;
	pfs_release(fs, n);
}

int pfs_create(struct pfs *fs, struct pfs_node *dir, const char *name, mode_t mode, uid_t uid, gid_t gid,
	       const char *target, struct pfs_node **out)
{
	if (pfs_lookup(dir, name))
		return -EEXIST;
	struct pfs_node *n = node_new(fs, mode, uid, gid);
	if (S_ISDIR(mode)) {
		n->nlink = 2;
		n->parent = dir;
		dir->nlink++;
	} else {
		n->nlink = 1;
	}
	if (target)
		n->target = xstrdup(target);
	dir_add(&dir->entries, name, n);
	dir->dir_dirty = true;
	touch(&dir->mtime, &dir->ctime);
	*out = n;
	return 0;
}

int pfs_link(struct pfs *fs, struct pfs_node *node, struct pfs_node *dir, const char *name)
{
	if (is_dir(node))
		return -EPERM;
	if (pfs_lookup(dir, name))
		return -EEXIST;
	dir_add(&dir->entries, name, node);
	node->nlink++;
	dir->dir_dirty = true;
	touch(NULL, &node->ctime);
	touch(&dir->mtime, &dir->ctime);
	return 0;
}

int pfs_unlink(struct pfs *fs, struct pfs_node *dir, const char *name, bool want_dir)
{
	struct pfs_entry *e = dir_find(&dir->entries, name);
	if (e == NULL)
		return -ENOENT;
	if (want_dir && !is_dir(e->node))
		return -ENOTDIR;
	if (!want_dir && is_dir(e->node))
		return -EISDIR;
	if (want_dir && e->node->entries.n)
		return -ENOTEMPTY;
	touch(&dir->mtime, &dir->ctime);
	drop_name(fs, dir, e);
	return 0;
}

int pfs_rename(struct pfs *fs, struct pfs_node *dir, const char *name, struct pfs_node *newdir,
	       const char *newname, unsigned flags)
{
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	struct pfs_entry *from = dir_find(&dir->entries, name);
	if (from == NULL)
		return -ENOENT;
	if (newdir != dir)
		return -EXDEV; /* see model.h */
	struct pfs_node *n = from->node;
	struct pfs_entry *to = dir_find(&dir->entries, newname);
	if (to && to->node == n)
		return 0;
	if (to) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (is_dir(to->node) && !is_dir(n))
			return -EISDIR;
		if (!is_dir(to->node) && is_dir(n))
			return -ENOTDIR;
		if (is_dir(to->node) && to->node->entries.n)
			return -ENOTEMPTY;
		drop_name(fs, dir, to);
		from = dir_find(&dir->entries, name); /* the array may have moved */
	}
	free(from->name);
	from->name = xstrdup(newname);
	dir->dir_dirty = true;
	touch(NULL, &n->ctime);
	touch(&dir->mtime, &dir->ctime);
	return 0;
}

static void content_resize(struct pfs_content *c, size_t size)
{
	if (size > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < size)
			cap *= 2;
		c->data = xrealloc(c->data, cap);
		c->cap = cap;
	}
	if (size > c->size)
		memset(c->data + c->size, 0, size - c->size);
	c->size = size;
}

static void mark_dirty(struct pfs_node *n, size_t lo, size_t hi)
{
	if (n->dirty_lo == clean) {
		n->dirty_lo = lo;
		n->dirty_hi = hi;
		return;
	}
	if (lo < n->dirty_lo)
		n->dirty_lo = lo;
	if (hi > n->dirty_hi)
		n->dirty_hi = hi;
}

ssize_t pfs_write(struct pfs *fs, struct pfs_node *n, const void *buf, size_t size, off_t off)
{
	size_t at = (size_t)off, end = at + size;
	bool limited = fs->space_left >= 0 && (fs->fault_ino == 0 || fs->fault_ino == n->ino);
	if (limited && end > n->live.size) {
		size_t growth = end - (at > n->live.size ? at : n->live.size);
		if (growth > (size_t)fs->space_left) {
			size_t cut = growth - (size_t)fs->space_left;
			if (cut >= size) {
				fs->stats.enospc++;
				return -ENOSPC;
			}
			size -= cut; /* what fits: a short write, the next one fails */
			end = at + size;
		}
	}
	size_t old = n->live.size;
	if (end > old) {
		content_resize(&n->live, end);
		if (limited)
			fs->space_left -= (int64_t)(end - (at > old ? at : old));
	}
	memcpy(n->live.data + at, buf, size);
	mark_dirty(n, at < old ? at : old, end);
	touch(&n->mtime, &n->ctime);
	fs->stats.writes++;
	fs->stats.bytes_written += size;
	return (ssize_t)size;
}

int pfs_truncate(struct pfs *fs, struct pfs_node *n, off_t size)
{
	size_t old = n->live.size, want = (size_t)size;
	bool limited = fs->space_left >= 0 && (fs->fault_ino == 0 || fs->fault_ino == n->ino);
	if (limited && want > old) {
		if (want - old > (size_t)fs->space_left)
			return -ENOSPC;
		fs->space_left -= (int64_t)(want - old);
	} else if (limited) {
		fs->space_left += (int64_t)(old - want); /* (an unlink gives nothing back) */
	}
	content_resize(&n->live, want);
	mark_dirty(n, want < old ? want : old, want);
	touch(&n->mtime, &n->ctime);
	return 0;
}

/* durable takes live's size and the bytes [lo, hi) of live (the rest of
 * durable is left as it was: what a lost writeback leaves is a hole). */
static void persist(struct pfs_node *n, size_t lo, size_t hi, size_t size)
{
	content_resize(&n->durable, size);
	if (hi > size)
		hi = size;
	if (lo < hi)
		memcpy(n->durable.data + lo, n->live.data + lo, hi - lo);
}

int pfs_fsync(struct pfs *fs, struct pfs_node *n)
{
	if (!S_ISREG(n->mode) || n->dirty_lo == clean)
		return 0;
	if (fs->failing_syncs && (fs->fault_ino == 0 || fs->fault_ino == n->ino)) {
		/* Linux after a failed writeback: the pages are marked clean and
		 * dropped from the dirty set, the size may have reached the disk, the
		 * data did not; the next fsync finds nothing to write and succeeds. */
		fs->failing_syncs--;
		fs->stats.failed_syncs++;
		persist(n, 0, 0, n->live.size);
		n->dirty_lo = clean;
		return -EIO;
	}
	persist(n, n->dirty_lo, n->dirty_hi, n->live.size);
	n->dirty_lo = clean;
	fs->stats.fsyncs++;
	return 0;
}

void pfs_fsyncdir(struct pfs *fs, struct pfs_node *dir)
{
	fs->stats.fsyncdirs++;
	if (!dir->dir_dirty)
		return;
	struct pfs_dir old = dir->durable_entries;
	memset(&dir->durable_entries, 0, sizeof dir->durable_entries);
	for (size_t i = 0; i < dir->entries.n; i++) {
		dir_add(&dir->durable_entries, dir->entries.e[i].name, dir->entries.e[i].node);
		dir->entries.e[i].node->durable_refs++;
	}
	for (size_t i = 0; i < old.n; i++) {
		old.e[i].node->durable_refs--;
		pfs_release(fs, old.e[i].node);
	}
	dir_free(&old);
	dir->dir_dirty = false;
}

void pfs_cut(struct pfs *fs, bool torn, unsigned seed)
{
	for (size_t i = 0; torn && i < fs->nodes_cap; i++) {
		struct pfs_node *n = fs->nodes[i];
		if (n == NULL || !S_ISREG(n->mode) || n->dirty_lo == clean)
			continue;
		/* Writeback got as far as `upto`, in order: the unsynced changes
		 * before it reached the disk, with a size that covers them. */
		size_t lo = n->dirty_lo, hi = n->dirty_hi < n->live.size ? n->dirty_hi : n->live.size;
		if (hi <= lo)
			continue;
		size_t upto = lo + (size_t)rand_r(&seed) % (hi - lo + 1);
		persist(n, lo, upto, upto > n->durable.size ? upto : n->durable.size);
	}
	fs->dead = true;
}

void pfs_sync_all(struct pfs *fs)
{
	unsigned failing = fs->failing_syncs;
	fs->failing_syncs = 0;
	for (size_t i = 0; i < fs->nodes_cap; i++) {
		struct pfs_node *n = fs->nodes[i];
		if (n && S_ISREG(n->mode))
			pfs_fsync(fs, n);
		else if (n && is_dir(n))
			pfs_fsyncdir(fs, n);
	}
	fs->failing_syncs = failing;
}

void pfs_stat(const struct pfs_node *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = S_ISREG(n->mode) ? (off_t)n->live.size : S_ISLNK(n->mode) ? (off_t)strlen(n->target) : 4096;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

struct pfs_node *pfs_resolve(const struct pfs *fs, const char *path)
{
	struct pfs_node *n = fs->root;
	char *copy = xstrdup(path), *save = NULL;
	for (char *part = strtok_r(copy, "/", &save); n && part; part = strtok_r(NULL, "/", &save))
		n = S_ISDIR(n->mode) ? pfs_lookup(n, part) : NULL;
	free(copy);
	return n;
}
