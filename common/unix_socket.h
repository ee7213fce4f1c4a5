/* The contract socket: <runtime-dir>/<daemon>.sock. A stale socket (nobody
 * listening) is replaced; a live one means another instance runs, an error. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "http.h"

/* Returns a listening, non-blocking, close-on-exec socket or -errno (err set). */
int arbor_unix_listen(const char *path, mode_t mode, char *err, size_t errlen);
/* Fills peer from SO_PEERCRED and SO_PEERGROUPS. */
int arbor_peer_from_fd(int fd, struct arbor_peer *peer);
