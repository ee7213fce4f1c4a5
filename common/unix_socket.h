/* The contract socket: <runtime-dir>/<daemon>.sock. A stale socket (nobody
 * listening) is replaced; a live one means another instance runs, an error.
 *
 * Who may connect: root, the socket's owner (the daemon's user), its group (the
 * daemon's group: the read group `arbor` under the units) as control.socket_mode
 * says, and the users and groups the daemon names (the admin group, grantees)
 * through a POSIX ACL entry each, so that a member of the admin group need not
 * be in the read group. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http.h"

/* Returns a listening, non-blocking, close-on-exec socket or -errno (err set). */
int arbor_unix_listen(const char *path, mode_t mode, char *err, size_t errlen);
/* Sets the socket's mode and gives each named user and group read and write
 * (connect) through an ACL; with none named, any ACL is removed. On error the
 * socket keeps what it had and err says why (e.g. no ACLs on the file system). */
int arbor_unix_socket_access(const char *path, mode_t mode, const uid_t *users, size_t nusers, const gid_t *groups,
			     size_t ngroups, char *err, size_t errlen);
/* The system.posix_acl_access value for that (pure, for tests): its length, or
 * 0 when it would not fit in cap. Duplicate names are merged. */
size_t arbor_socket_acl(mode_t mode, const uid_t *users, size_t nusers, const gid_t *groups, size_t ngroups,
			uint8_t *out, size_t cap);
/* Fills peer from SO_PEERCRED and SO_PEERGROUPS. */
int arbor_peer_from_fd(int fd, struct arbor_peer *peer);
