/* Command authorization (root, own uid, admin group, control.grants) and the
 * socket ACL that lets the admin group and grantees connect. (The loader's side
 * of grants is in test_config.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "tap.h"
#include "unix_socket.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(void)
{
	/* The decision. healthd (uid 3001) holds a grant of renew on dhcp4d only. */
	char healthd[] = "arbor-healthd", *dhcp4d_only[] = { (char *)"dhcp4d", NULL },
	     *renew_only[] = { (char *)"renew", NULL };
	struct arbor_grant grants[] = {
		{ .user = healthd, .id = 3001, .daemons = dhcp4d_only, .commands = renew_only },
		{ .group = (char *)"netops", .id = 77, .daemons = dhcp4d_only, .commands = renew_only },
	};
	char admins[] = "arbor-admin";
	struct arbor_control c = { .admin_group = admins, .admin_gid = 50, .grants = grants, .ngrants = 2 };
	struct arbor_peer root = { .known = true, .uid = 0, .gid = 0 };
	struct arbor_peer self = { .known = true, .uid = 3002, .gid = 3000 };
	struct arbor_peer admin = { .known = true, .uid = 1000, .gid = 1000, .groups = { 3000, 50 }, .ngroups = 2 };
	struct arbor_peer hd = { .known = true, .uid = 3001, .gid = 3000 };
	struct arbor_peer reader = { .known = true, .uid = 1001, .gid = 3000, .groups = { 3000 }, .ngroups = 1 };
	struct arbor_peer netops = { .known = true, .uid = 1002, .gid = 1002, .groups = { 77 }, .ngroups = 1 };
	CHECK(arbor_authorize_command(&root, 3002, &c, "dhcp4d", "stop") == ARBOR_AUTHZ_ROOT, "root");
	CHECK(arbor_authorize_command(&self, 3002, &c, "dhcp4d", "stop") == ARBOR_AUTHZ_SELF, "the daemon itself");
	CHECK(arbor_authorize_command(&admin, 3002, &c, "dhcp4d", "release") == ARBOR_AUTHZ_ADMIN,
	      "a supplementary member of the admin group");
	CHECK(arbor_authorize_command(&hd, 3002, &c, "dhcp4d", "renew") == ARBOR_AUTHZ_GRANT, "healthd's grant");
	CHECK(arbor_authorize_command(&hd, 3002, &c, "dhcp4d", "release") == ARBOR_AUTHZ_DENIED &&
		      arbor_authorize_command(&hd, 3002, &c, "dhcp4d", "stop") == ARBOR_AUTHZ_DENIED,
	      "the grant covers renew only");
	CHECK(arbor_authorize_command(&hd, 3003, &c, "dnsd", "renew") == ARBOR_AUTHZ_DENIED,
	      "the grant covers dhcp4d only");
	CHECK(arbor_authorize_command(&netops, 3002, &c, "dhcp4d", "renew") == ARBOR_AUTHZ_GRANT &&
		      arbor_authorize_command(&netops, 3002, &c, "dhcp4d", "reload") == ARBOR_AUTHZ_DENIED,
	      "a group grant");
	CHECK(arbor_authorize_command(&reader, 3002, &c, "dhcp4d", "renew") == ARBOR_AUTHZ_DENIED,
	      "the read group alone runs nothing (another daemon cannot command this one)");
	struct arbor_control no_admin = { 0 };
	CHECK(arbor_authorize_command(&admin, 3002, &no_admin, "dhcp4d", "renew") == ARBOR_AUTHZ_DENIED,
	      "no admin group configured: no group access");

	/* The socket ACL: owner, two users, group, two groups (one given twice), mask, other. */
	uint8_t acl[128];
	uid_t users[] = { 3001, 1000 };
	gid_t groups[] = { 50, 77, 50 };
	size_t len = arbor_socket_acl(0660, users, 2, groups, 3, acl, sizeof acl);
	CHECK(len == 4 + 8 * 8 && le32(acl) == 2, "version 2, eight entries (duplicate group merged)");
	static const struct { unsigned tag, perm; uint32_t id; } want[] = {
		{ 0x01, 6, 0xffffffff }, { 0x02, 6, 1000 }, { 0x02, 6, 3001 }, { 0x04, 6, 0xffffffff },
		{ 0x08, 6, 50 }, { 0x08, 6, 77 }, { 0x10, 6, 0xffffffff }, { 0x20, 0, 0xffffffff },
	};
	bool entries_ok = len == 4 + 8 * 8;
	for (size_t i = 0; entries_ok && i < 8; i++) {
		const uint8_t *e = acl + 4 + 8 * i;
		entries_ok = (unsigned)(e[0] | e[1] << 8) == want[i].tag && (unsigned)(e[2] | e[3] << 8) == want[i].perm &&
			     le32(e + 4) == want[i].id;
	}
	CHECK(entries_ok, "entries sorted by tag and id, named ones rw, other from the mode");
	CHECK(arbor_socket_acl(0600, users, 2, groups, 3, acl, 40) == 0, "too small a buffer is refused");
	len = arbor_socket_acl(0600, NULL, 0, groups, 1, acl, sizeof acl);
	CHECK(len == 4 + 8 * 5 && acl[4 + 8 * 1 + 2] == 0 && acl[4 + 8 * 3 + 2] == 6,
	      "socket_mode 0600: the owning group gets nothing, the mask lets the named group in");
	return tap_done();
}
