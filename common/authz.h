/* Who may run a command on a daemon's socket (docs/contract.md, "Authorization"):
 * a pure decision over the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) and
 * the control section, so unit tests and the fuzzer check it without sockets.
 * Reads need no decision here: whoever can connect may read, and the socket's
 * owner, group, mode and ACL decide who can connect (unix_socket.h). */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "http.h"

enum arbor_authz {
	ARBOR_AUTHZ_DENIED,
	ARBOR_AUTHZ_ROOT,
	ARBOR_AUTHZ_SELF,  /* the daemon's own uid */
	ARBOR_AUTHZ_ADMIN, /* a member of control.admin_group */
	ARBOR_AUTHZ_GRANT, /* a control.grants entry for this daemon and command */
};

/* May peer run `command` ("renew", the name after /v1/commands/) on `daemon`,
 * which runs as own_uid? */
enum arbor_authz arbor_authorize_command(const struct arbor_peer *peer, uid_t own_uid, const struct arbor_control *c,
					 const char *daemon, const char *command);

/* Is gid the peer's primary group or one of its supplementary groups? */
bool arbor_peer_in_group(const struct arbor_peer *peer, gid_t gid);
