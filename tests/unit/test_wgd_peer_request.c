/* Request bodies of the peers API: what is accepted, and every refusal
 * naming the key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "peer_request.h"
#include "tap.h"

static int create(const char *body, struct peer_create_req *r, char *err)
{
	return peer_request_parse_create(body, strlen(body), r, err, 256);
}

static int patch(const char *body, struct peer_patch_req *r, char *err)
{
	return peer_request_parse_patch(body, strlen(body), r, err, 256);
}

int main(void)
{
	struct peer_create_req c;
	struct peer_patch_req p;
	char err[256];
	CHECK(create("{\"name\":\"laptop\"}", &c, err) == 0 && strcmp(c.name, "laptop") == 0 && c.enabled &&
	      !c.has_public_key && c.interface[0] == '\0', "only a name");
	CHECK(create("{\"interface\":\"wg0\",\"name\":\"site\",\"public_key\":\"3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\","
		     "\"allowed_ips\":[\"192.168.50.0/24\",\"fd99::/48\"],\"persistent_keepalive\":25,\"preshared_key\":true,"
		     "\"expires\":\"2030-01-01T00:00:00Z\",\"enabled\":false}", &c, err) == 0,
	      "everything");
	CHECK(c.has_public_key && c.public_key[0] == 0xde && c.nroutes == 2 && c.keepalive == 25 && c.generate_psk &&
	      c.expires == 1893456000 && !c.enabled && strcmp(c.interface, "wg0") == 0, "fields");
	CHECK(create("{\"name\":\"x\",\"expires\":1893456000}", &c, err) == 0 && c.expires == 1893456000, "expires as a number");
	struct {
		const char *body, *word;
	} bad[] = {
		{ "[]", "object" },
		{ "{}", "name" },
		{ "{\"name\":\"Laptop\"}", "name" },
		{ "{\"name\":\"x\",\"colour\":1}", "unknown key" },
		{ "{\"name\":\"x\",\"name\":\"y\"}", "twice" },
		{ "{\"name\":\"x\",\"public_key\":\"abc\"}", "44 characters" },
		{ "{\"name\":\"x\",\"public_key\":\"3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK0!=\"}", "base64" },
		{ "{\"name\":\"x\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", "zero" },
		{ "{\"name\":\"x\",\"preshared_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", "preshared_key" },
		{ "{\"name\":\"x\",\"allowed_ips\":[\"10.0.0.1/24\"]}", "allowed_ips[0]" },
		{ "{\"name\":\"x\",\"allowed_ips\":[\"10.0.0.0/16\",\"10.0.5.0/24\"]}", "overlaps" },
		{ "{\"name\":\"x\",\"allowed_ips\":\"10.0.0.0/8\"}", "list" },
		{ "{\"name\":\"x\",\"persistent_keepalive\":1.5}", "persistent_keepalive" },
		{ "{\"name\":\"x\",\"persistent_keepalive\":65536}", "persistent_keepalive" },
		{ "{\"name\":\"x\",\"expires\":\"2030-02-31T00:00:00Z\"}", "expires" },
		{ "{\"name\":\"x\",\"expires\":\"2030-01-01 00:00:00\"}", "expires" },
		{ "{\"name\":\"x\",\"interface\":\"a/b\"}", "interface" },
		{ "{\"name\":\"x\",\"enabled\":\"yes\"}", "enabled" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[160];
		int rc = create(bad[i].body, &c, err);
		snprintf(what, sizeof what, "refused: %s (%s)", bad[i].body, err);
		CHECK(rc == -EINVAL && strstr(err, bad[i].word), what);
	}
	CHECK(patch("{\"enabled\":false}", &p, err) == 0 && p.has_enabled && !p.enabled && !p.has_routes, "patch enabled");
	CHECK(patch("{\"allowed_ips\":[],\"expires\":null}", &p, err) == 0 && p.has_routes && p.nroutes == 0 &&
	      p.has_expires && p.expires == 0, "patch: no routes, never expires");
	CHECK(patch("{}", &p, err) == -EINVAL && strstr(err, "nothing"), "an empty patch is refused");
	CHECK(patch("{\"name\":\"y\"}", &p, err) == -EINVAL && strstr(err, "unknown"), "a name cannot be patched");
	CHECK(patch("{\"enabled\":1}", &p, err) == -EINVAL && strstr(err, "enabled"), "enabled must be a boolean");
	return tap_done();
}
