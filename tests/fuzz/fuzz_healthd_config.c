/* libFuzzer harness for healthd's config section: any config text is refused with
 * messages or parsed. What was accepted must make sense the way healthd relies on
 * it (unique names, 0 < timeout <= interval, rise and fall at least 1, a target
 * for every kind that needs one, an absolute program for exec, a definition that
 * is JSON), and the checks' state file (state_file.c) written for it restores
 * every check. abort() on any violation. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_config.h"
#include "state_file.h"
#include "xalloc.h"
#include "fuzz_check.h"

static void check_spec(const struct healthd_config *cfg, size_t i)
{
	const struct check_spec *c = &cfg->checks[i];
	if (c->name == NULL || c->name[0] == '\0')
		violated("checks[%zu] has no name", i);
	for (size_t k = 0; k < i; k++)
		if (strcmp(cfg->checks[k].name, c->name) == 0)
			violated("checks[%zu] and checks[%zu] are both %s", k, i, c->name);
	if (!(c->interval > 0 && c->timeout > 0 && c->timeout <= c->interval) || c->rise < 1 || c->fall < 1)
		violated("%s: interval %g, timeout %g, rise %u, fall %u", c->name, c->interval, c->timeout, c->rise,
			 c->fall);
	cJSON *def = c->definition ? cJSON_Parse(c->definition) : NULL;
	if (def == NULL)
		violated("%s: the definition is not JSON", c->name);
	cJSON_Delete(def);
	switch (c->kind) {
	case CHECK_EXEC:
		if (c->exec_argv == NULL || c->exec_argv[0] == NULL || c->exec_argv[0][0] != '/')
			violated("%s: exec without an absolute program", c->name);
		break;
	case CHECK_DAEMON:
		if (c->target == NULL || c->target[0] == '\0')
			violated("%s: daemon check without a daemon", c->name);
		break;
	case CHECK_HTTP:
		if (c->host == NULL || c->http_path == NULL || c->http_path[0] != '/')
			violated("%s: http check without a host or a path", c->name);
		break;
	case CHECK_DNS:
		if (c->host == NULL || c->dns_name == NULL)
			violated("%s: dns check without a server or a name", c->name);
		break;
	default:
		if (c->host == NULL)
			violated("%s: no target host", c->name);
	}
	for (size_t a = 0; a < c->nactions; a++) {
		const struct action_spec *act = &c->actions[a];
		bool post = act->post_socket || act->post_daemon;
		if (post == (act->exec_argv != NULL))
			violated("%s: action %zu is neither a post nor a program, or both", c->name, a);
		if (post && act->post_command == NULL)
			violated("%s: action %zu posts no command", c->name, a);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arbor_config *cfg = load_section(data, size, "healthd", healthd_config_parse, healthd_config_free);
	if (cfg == NULL)
		return 0;
	const struct healthd_config *hc = cfg->daemon;
	if (hc->max_parallel_exec < 1)
		violated("max_parallel_exec 0");
	struct check *checks = xcalloc(hc->nchecks ? hc->nchecks : 1, sizeof *checks);
	for (size_t i = 0; i < hc->nchecks; i++) {
		check_spec(hc, i);
		checks[i].spec = &hc->checks[i];
		check_state_init(&checks[i].state, 1000);
		checks[i].state.health = i % 2 ? CHECK_FAILING : CHECK_PASSING;
	}
	/* Every check's state, written and read back as across a restart. */
	cJSON *doc = healthd_state_encode(checks, hc->nchecks);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	doc = cJSON_Parse(text);
	for (size_t i = 0; i < hc->nchecks; i++)
		checks[i].state.health = CHECK_UNKNOWN;
	if (healthd_state_restore(doc, checks, hc->nchecks) != hc->nchecks)
		violated("not every check is restored from %s", text);
	cJSON_Delete(doc);
	cJSON_free(text);
	free(checks);
	arbor_config_free(cfg);
	return 0;
}
