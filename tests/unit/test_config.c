/* Config loader: comments, key paths in errors, unknown keys, types, ranges. */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"

struct demo {
	char *name;
	double interval;
};

/* A section shaped like a daemon's: demo.items[] of {name, interval}. */
static void *parse_demo(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "items", NULL };
	static const char *const item_keys[] = { "name", "interval", NULL };
	struct demo *d = calloc(1, sizeof *d);
	arbor_cfg_object(w, sec, keys);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(sec, "items");
	size_t s = arbor_cfg_enter(w, "items");
	size_t i = 0;
	for (const cJSON *it = items ? items->child : NULL; it; it = it->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		if (arbor_cfg_object(w, it, item_keys)) {
			free(d->name);
			arbor_cfg_string(w, it, "name", "x", &d->name);
			arbor_cfg_duration(w, it, "interval", 1, 3600, &d->interval);
		}
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, s);
	return d;
}

static void free_demo(void *p)
{
	struct demo *d = p;
	free(d->name);
	free(d);
}

static struct arbor_config *load(const char *text, char **errors)
{
	return arbor_config_load_text("arbor.json", text, strlen(text), "fixture", parse_demo, free_demo, errors);
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

/* control.grants: root and nogroup exist everywhere. */
static void test_grants(void)
{
	char *errors = NULL;
	struct arbor_config *cfg = load("{\"control\": {\"grants\": ["
					"{\"user\": \"root\", \"daemons\": [\"dhcp4d\"], \"commands\": [\"renew\"]},"
					"{\"group\": \"nogroup\", \"daemons\": [\"dnsd\", \"dhcp4d\"], \"commands\": [\"reload\", \"release\"]}"
					"]}}",
					&errors);
	CHECK(cfg != NULL && cfg->control.ngrants == 2, "two grants load");
	if (cfg == NULL) {
		printf("# %s\n", errors);
		free(errors);
		return;
	}
	struct group *nogroup = getgrnam("nogroup");
	const struct arbor_grant *g0 = &cfg->control.grants[0], *g1 = &cfg->control.grants[1];
	CHECK(g0->user && g0->id == 0 && g1->group && nogroup && g1->id == nogroup->gr_gid, "names resolved");
	CHECK(arbor_grant_covers(g0, "dhcp4d", "renew") && !arbor_grant_covers(g0, "dhcp4d", "stop") &&
		      !arbor_grant_covers(g0, "dnsd", "renew") && arbor_grant_covers(g1, "dnsd", NULL),
	      "a grant covers its daemons and commands only");

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
}

int main(void)
{
	char *errors = NULL;
	struct arbor_config *c = load("// a comment\n{ /* block\n comment */ \"machine\": {\"name\": \"m1\", "
				      "\"domain\": \"lan0.home.arpa\"},\n \"fixture\": {\"items\": [{\"name\": \"a//b\", "
				      "\"interval\": 0.5}]} }",
				      &errors);
	CHECK(c != NULL, "comments are allowed, and // inside strings is kept");
	if (c) {
		struct demo *d = c->daemon;
		CHECK(strcmp(d->name, "a//b") == 0, "string with // survives comment stripping");
		CHECK(d->interval == 0.5, "fractional durations");
		CHECK(strcmp(c->machine.name, "m1") == 0 && strcmp(c->machine.domain, "lan0.home.arpa") == 0,
		      "machine section");
		CHECK(c->control.socket_mode == 0660, "socket mode defaults to 0660");
	}
	arbor_config_free(c);
	free(errors);

	c = load("{}", &errors);
	CHECK(c != NULL && c->machine.name != NULL, "an empty document is valid (every key has a default)");
	arbor_config_free(c);

	CHECK(has_error("{\"fixture\": {\"items\": [{\"name\": \"a\"}, {\"interval\": -1}]}}",
			"arbor.json: fixture.items[1].interval: -1 must be more than 0"),
	      "negative duration names the key path");
	CHECK(has_error("{\"fixture\": {\"items\": [{\"nmae\": \"a\"}]}}", "arbor.json: fixture.items[0].nmae: unknown key"),
	      "unknown nested key");
	CHECK(has_error("{\"fixtrue\": {}}", "arbor.json: fixtrue: unknown key"), "unknown section");
	CHECK(has_error("{\"machine\": {\"name\": \"bad name\"}}", "machine.name: \"bad name\" is not a DNS label"),
	      "machine name must be a DNS label");
	CHECK(has_error("{\"control\": {\"socket_mode\": \"999\"}}", "control.socket_mode: \"999\" is not an octal"),
	      "bad socket mode");
	CHECK(has_error("{\"control\": {\"socket_mode\": 660}}", "control.socket_mode: must be a string, not a number"),
	      "type errors say what was found");
	CHECK(has_error("{\"control\": {\"admin_group\": \"no-such-group-arbor\"}}", "does not exist"),
	      "missing admin group");
	CHECK(has_error("{\"control\": {\"http\": {\"max_connections\": 1.5}}}", "1.5 is not a whole number"),
	      "whole numbers");
	CHECK(has_error("{\"machine\": {\"name\": \"a\", \"name\": \"b\"}}", "machine.name: duplicate key"),
	      "duplicate keys");
	CHECK(has_error("{\n  \"machine\": {\n    \"name\": \"a\",\n  }\n}", "arbor.json:4:3: invalid JSON"),
	      "syntax errors give line and column");
	CHECK(has_error("{\"a\": 1 /* unterminated", "invalid JSON"), "unterminated comment");
	CHECK(has_error("[1, 2]", "must be a JSON object"), "document must be an object");
	CHECK(has_error("{\"machine\": {\"machine_id\": \"xyz\"}}", "is not 32 hexadecimal digits"), "machine id");
	CHECK(has_error("{\"machine\": 5, \"control\": {\"events\": {\"memory\": 1}}}",
			"machine: must be an object") &&
		      has_error("{\"machine\": 5, \"control\": {\"events\": {\"memory\": 1}}}",
				"control.events.memory: 1 is out of range"),
	      "all errors are reported, not just the first");

	c = arbor_config_load("/nonexistent/arbor.json", "fixture", parse_demo, free_demo, &errors);
	CHECK(c == NULL && strstr(errors, "/nonexistent/arbor.json: cannot open") != NULL, "missing file");
	free(errors);

	CHECK(arbor_valid_dns_name("home.arpa") && arbor_valid_dns_name("home.arpa.") &&
		      !arbor_valid_dns_name("a..b") && !arbor_valid_dns_name(".a") && !arbor_valid_dns_name("-a.b"),
	      "DNS name validation");

	struct arbor_machine m = { .machine_id = NULL, .machine_id_file = "/nonexistent" };
	char id[33], err[128];
	CHECK(arbor_machine_id(&m, id, err, sizeof err) != 0 && strstr(err, "/nonexistent"), "machine id file errors");
	test_grants();
	return tap_done();
}
