/* Unix socket setup and peer credentials (the contract's authorization input). */
#include "unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "xalloc.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int arbor_unix_listen(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	if (fill_addr(&sa, path) != 0) {
		snprintf(err, errlen, "%s: path too long for a Unix socket", path);
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another instance is running (its socket answers)", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path); /* stale: nobody listens */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	/* bind creates the file with the umask applied: make it private until the
	 * chmod below sets the configured mode, so no one connects in between. */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || chmod(path, mode) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* The kernel's POSIX ACL xattr format (linux/posix_acl_xattr.h), little-endian. */
enum { ACL_VERSION = 2, TAG_USER_OBJ = 0x01, TAG_USER = 0x02, TAG_GROUP_OBJ = 0x04, TAG_GROUP = 0x08,
       TAG_MASK = 0x10, TAG_OTHER = 0x20, ACL_NO_ID = 0xffffffffu, ACL_RW = 6 };

static size_t put_entry(uint8_t *p, unsigned int tag, unsigned int perm, uint32_t id)
{
	p[0] = (uint8_t)tag;
	p[1] = (uint8_t)(tag >> 8);
	p[2] = (uint8_t)perm;
	p[3] = 0;
	for (int i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(id >> (8 * i));
	return 8;
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted and without duplicates, as the kernel requires of named entries. */
static size_t sorted_ids(const unsigned int *ids, size_t n, uint32_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = ids[i];
	qsort(out, n, sizeof *out, cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

size_t arbor_socket_acl(mode_t mode, const uid_t *users, size_t nusers, const gid_t *groups, size_t ngroups,
			uint8_t *out, size_t cap)
{
	uint32_t *u = xcalloc(nusers + 1, sizeof *u), *g = xcalloc(ngroups + 1, sizeof *g);
	size_t nu = sorted_ids(users, nusers, u), ng = sorted_ids(groups, ngroups, g);
	size_t len = 4 + 8 * (4 + nu + ng);
	if (len > cap) {
		free(u);
		free(g);
		return 0;
	}
	uint8_t *p = out;
	p[0] = ACL_VERSION;
	p[1] = p[2] = p[3] = 0;
	p += 4;
	p += put_entry(p, TAG_USER_OBJ, (mode >> 6) & 7, ACL_NO_ID);
	for (size_t i = 0; i < nu; i++)
		p += put_entry(p, TAG_USER, ACL_RW, u[i]);
	p += put_entry(p, TAG_GROUP_OBJ, (mode >> 3) & 7, ACL_NO_ID);
	for (size_t i = 0; i < ng; i++)
		p += put_entry(p, TAG_GROUP, ACL_RW, g[i]);
	p += put_entry(p, TAG_MASK, ACL_RW | ((mode >> 3) & 7), ACL_NO_ID);
	put_entry(p, TAG_OTHER, mode & 7, ACL_NO_ID);
	free(u);
	free(g);
	return len;
}

int arbor_unix_socket_access(const char *path, mode_t mode, const uid_t *users, size_t nusers, const gid_t *groups,
			     size_t ngroups, char *err, size_t errlen)
{
	if (nusers + ngroups == 0) {
		if (chmod(path, mode) != 0 || (removexattr(path, "system.posix_acl_access") != 0 && errno != ENODATA &&
					       errno != EOPNOTSUPP)) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			return -e;
		}
		return 0;
	}
	size_t cap = 4 + 8 * (4 + nusers + ngroups);
	uint8_t *acl = xmalloc(cap);
	size_t len = arbor_socket_acl(mode, users, nusers, groups, ngroups, acl, cap);
	int rc = setxattr(path, "system.posix_acl_access", acl, len, 0);
	free(acl);
	if (rc != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot give the admin group and grantees access (POSIX ACL): %s%s", path,
			 strerror(e), e == EOPNOTSUPP ? " (the file system has no ACLs)" : "");
		return -e;
	}
	return 0;
}

int arbor_peer_from_fd(int fd, struct arbor_peer *peer)
{
	memset(peer, 0, sizeof *peer);
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	peer->known = true;
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	socklen_t glen = sizeof peer->groups;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &glen) == 0)
		peer->ngroups = glen / sizeof(gid_t);
	return 0;
}
