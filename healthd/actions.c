/* Actions on transitions (see actions.h). A POST goes to another daemon's
 * socket through the non-blocking client; a program runs through the exec
 * runner with the check's name and states in its environment. */
#include "actions.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec_runner.h"
#include "healthd.h"
#include "http_fetch.h"
#include "json.h"
#include "xalloc.h"

struct running_action {
	struct running_action *next, *prev;
	struct healthd *hd;
	char check[80];
	char description[200];
	char to[16];
	struct arbor_fetch *fetch;
	struct exec_child *child;
};

static struct running_action *running;

static void unlink_action(struct running_action *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		running = a->next;
	if (a->next)
		a->next->prev = a->prev;
}

static void report(struct running_action *a, bool ok, double latency, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct running_action *a, bool ok, double latency, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	struct healthd *hd = a->hd;
	hd->actions_run++;
	if (!ok)
		hd->actions_failed++;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "check", a->check);
	cJSON_AddStringToObject(data, "state", a->to);
	cJSON_AddStringToObject(data, "action", a->description);
	cJSON_AddStringToObject(data, "result", detail);
	if (latency >= 0)
		arbor_json_add_fixed(data, "latency_ms", latency * 1000, 3);
	arbor_event_emit(arbor_daemon_events(hd->d), ok ? "action.succeeded" : "action.failed", ok ? "info" : "warning",
			 a->check, data, "%s for %s (%s): %s", a->description, a->check, a->to, detail);
	unlink_action(a);
	free(a);
}

static void on_post_done(void *ctx, const struct arbor_fetch_result *res)
{
	struct running_action *a = ctx;
	a->fetch = NULL;
	if (!res->ok) {
		report(a, false, res->latency_s, "%s", res->error);
		return;
	}
	cJSON *doc = cJSON_ParseWithLength(res->body, res->body_len);
	const cJSON *accepted = cJSON_GetObjectItemCaseSensitive(doc, "accepted");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(doc, "message");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "error"), "message");
	bool ok = res->status >= 200 && res->status < 300 && !cJSON_IsFalse(accepted);
	const char *text = cJSON_IsString(message) ? message->valuestring : cJSON_IsString(error) ? error->valuestring : "";
	report(a, ok, res->latency_s, "status %d%s%s", res->status, text[0] ? ": " : "", text);
	cJSON_Delete(doc);
}

static void on_exec_done(void *ctx, int status, bool timed_out, const char *output)
{
	struct running_action *a = ctx;
	a->child = NULL;
	char how[64];
	exec_describe_status(status, how, sizeof how);
	bool ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	report(a, ok, -1, "%s%s%s%s", timed_out ? "timed out, " : "", how, output[0] ? ": " : "", output);
}

static void run_one(struct healthd *hd, const struct check *c, const struct action_spec *s, enum check_health from,
		    enum check_health to)
{
	struct running_action *a = xcalloc(1, sizeof *a);
	a->hd = hd;
	snprintf(a->check, sizeof a->check, "%s", c->spec->name);
	snprintf(a->to, sizeof a->to, "%s", check_health_name(to));
	a->next = running;
	if (running)
		running->prev = a;
	running = a;
	if (s->exec_argv) {
		snprintf(a->description, sizeof a->description, "run %s", s->exec_argv[0]);
		char env_check[128], env_state[64], env_prev[64], env_reason[300], env_target[300];
		snprintf(env_check, sizeof env_check, "ARBOR_CHECK=%s", c->spec->name);
		snprintf(env_state, sizeof env_state, "ARBOR_STATE=%s", check_health_name(to));
		snprintf(env_prev, sizeof env_prev, "ARBOR_PREVIOUS_STATE=%s", check_health_name(from));
		snprintf(env_reason, sizeof env_reason, "ARBOR_REASON=%s", c->state.last_error);
		snprintf(env_target, sizeof env_target, "ARBOR_TARGET=%s", c->spec->target);
		char *env[] = { env_check, env_state, env_prev, env_reason, env_target, NULL };
		char err[200];
		a->child = exec_run(hd, s->exec_argv, env, s->timeout, on_exec_done, a, err, sizeof err);
		if (a->child == NULL)
			report(a, false, -1, "%s", err);
		return;
	}
	char socket_path[PATH_MAX], path[128];
	if (s->post_socket)
		snprintf(socket_path, sizeof socket_path, "%s", s->post_socket);
	else
		snprintf(socket_path, sizeof socket_path, "%s/%s.sock", arbor_daemon_runtime_dir(hd->d), s->post_daemon);
	snprintf(path, sizeof path, "/v1/commands/%s", s->post_command);
	snprintf(a->description, sizeof a->description, "POST %s to %s", path,
		 s->post_daemon ? s->post_daemon : s->post_socket);
	struct arbor_fetch_request req = {
		.unix_path = socket_path,
		.method = "POST",
		.path = path,
		.body = s->post_body ? s->post_body : "{}",
		.body_len = strlen(s->post_body ? s->post_body : "{}"),
		.content_type = "application/json",
		.timeout_s = s->timeout,
	};
	a->fetch = arbor_fetch_start(hd->base, &req, on_post_done, a);
}

void actions_run(struct healthd *hd, const struct check *c, enum check_health from, enum check_health to)
{
	for (size_t i = 0; i < c->spec->nactions; i++) {
		const struct action_spec *s = &c->spec->actions[i];
		if (s->when == ACTION_ON_ANY || (s->when == ACTION_ON_FAILING && to == CHECK_FAILING) ||
		    (s->when == ACTION_ON_PASSING && to == CHECK_PASSING))
			run_one(hd, c, s, from, to);
	}
}

void actions_cancel_all(struct healthd *hd)
{
	while (running) {
		struct running_action *a = running;
		running = a->next;
		arbor_fetch_cancel(a->fetch);
		if (a->child)
			exec_abandon(a->child);
		free(a);
	}
}
