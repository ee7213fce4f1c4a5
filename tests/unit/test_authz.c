/* Command authorization (root, own uid, admin group, control.grants), the
 * grants in the config loader, and the socket ACL that lets the admin group and
 * grantees connect. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "config.h"
#include "tap.h"
#include "unix_socket.h"

static struct arbor_config *load(const char *text, char **errors)
{
	return arbor_config_load_text("arbor.json", text, strlen(text), "dhcp4d", NULL, NULL, errors);
}

static bool has_error(const char *text, const char *expected)
{
	char *errors = NULL;
	struct arbor_config *c = load(text, &errors);
	bool ok = c == NULL && errors && strstr(errors, expected) != NULL;
	if (!ok)
		printf("# got: %s\n", errors ? errors : "(no error)");
	arbor_config_free(c);
	free(errors);
	return ok;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(void)
{
	/* Grants as the loader reads them: root and nogroup exist everywhere. */
	char *errors = NULL;
	struct arbor_config *cfg = load("{\"control\": {\"grants\": ["
					"{\"user\": \"root\", \"daemons\": [\"dhcp4d\"], \"commands\": [\"renew\"]},"
					"{\"group\": \"nogroup\", \"daemons\": [\"dnsd\", \"dhcp4d\"], \"commands\": [\"reload\", \"release\"]}"
					"]}}",
					&errors);
	CHECK(cfg != NULL && cfg->control.ngrants == 2, "two grants load");
	if (cfg == NULL) {
		printf("# %s\n", errors);
		return 1;
	}
	struct group *nogroup = getgrnam("nogroup");
	const struct arbor_grant *g0 = &cfg->control.grants[0], *g1 = &cfg->control.grants[1];
	CHECK(g0->user && g0->id == 0 && g1->group && nogroup && g1->id == nogroup->gr_gid, "names resolved");
	CHECK(arbor_grant_covers(g0, "dhcp4d", "renew") && !arbor_grant_covers(g0, "dhcp4d", "stop") &&
		      !arbor_grant_covers(g0, "dnsd", "renew") && arbor_grant_covers(g1, "dnsd", NULL),
	      "a grant covers its daemons and commands only");

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

	arbor_config_free(cfg);
	CHECK(has_error("{\"control\": {\"grants\": [{\"user\": \"no-such-user-arbor\", \"daemons\": [\"dhcp4d\"], "
			"\"commands\": [\"renew\"]}]}}",
			"control.grants[0].user: user \"no-such-user-arbor\" does not exist"),
	      "unknown user");
	CHECK(has_error("{\"control\": {\"grants\": [{\"user\": \"root\", \"group\": \"root\", \"daemons\": [\"dhcp4d\"], "
			"\"commands\": [\"renew\"]}]}}",
			"exactly one of \"user\" or \"group\""),
	      "user and group");
	CHECK(has_error("{\"control\": {\"grants\": [{\"user\": \"root\", \"daemons\": [\"dhcp5d\"], "
			"\"commands\": [\"renew\"]}]}}",
			"control.grants[0].daemons[0]: \"dhcp5d\" is not one of the arbor daemons"),
	      "unknown daemon");
	CHECK(has_error("{\"control\": {\"grants\": [{\"user\": \"root\", \"daemons\": [\"dhcp4d\"], "
			"\"commands\": []}]}}",
			"control.grants[0].commands: must be an array of 1 to 64 command names"),
	      "no commands");
	CHECK(has_error("{\"control\": {\"grants\": [{\"user\": \"root\", \"daemons\": [\"dhcp4d\"], "
			"\"commands\": [\"re/new\"]}]}}",
			"is not one of the command names"),
	      "a bad command name");
	CHECK(has_error("{\"control\": {\"grants\": {}}}", "control.grants: must be an array"), "grants not a list");
	CHECK(has_error("{\"control\": {\"http\": {\"max_streams_per_peer\": 0}}}",
			"control.http.max_streams_per_peer: 0 is out of range"),
	      "stream cap range");

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
