/* Command authorization (see authz.h). */
#include "authz.h"

bool arbor_peer_in_group(const struct arbor_peer *peer, gid_t gid)
{
	if (peer->gid == gid)
		return true;
	for (size_t i = 0; i < peer->ngroups; i++)
		if (peer->groups[i] == gid)
			return true;
	return false;
}

enum arbor_authz arbor_authorize_command(const struct arbor_peer *peer, uid_t own_uid, const struct arbor_control *c,
					 const char *daemon, const char *command)
{
	if (!peer->known)
		return ARBOR_AUTHZ_DENIED;
	if (peer->uid == 0)
		return ARBOR_AUTHZ_ROOT;
	if (peer->uid == own_uid)
		return ARBOR_AUTHZ_SELF;
	if (c->admin_group && arbor_peer_in_group(peer, c->admin_gid))
		return ARBOR_AUTHZ_ADMIN;
	for (size_t i = 0; i < c->ngrants; i++) {
		const struct arbor_grant *g = &c->grants[i];
		bool who = g->user ? peer->uid == (uid_t)g->id : arbor_peer_in_group(peer, (gid_t)g->id);
		if (who && arbor_grant_covers(g, daemon, command))
			return ARBOR_AUTHZ_GRANT;
	}
	return ARBOR_AUTHZ_DENIED;
}
