/* exec checks: a program's exit status (0 passes). The probe's timeout kills
 * the program's whole process group. The program sees ARBOR_CHECK=<name>. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "exec_runner.h"
#include "probe.h"

static void exec_cancel(struct probe *p)
{
	struct exec_child *c = p->kind_state;
	if (c)
		exec_abandon(c);
	p->kind_state = NULL;
}

static void on_done(void *ctx, int status, bool timed_out, const char *output)
{
	struct probe *p = ctx;
	p->kind_state = NULL; /* the runner frees the child after this returns */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		probe_finish(p, true, NULL);
		return;
	}
	char how[64];
	exec_describe_status(status, how, sizeof how);
	probe_finish(p, false, "%s%s%s", how, output[0] ? ": " : "", output);
}

void probe_exec_start(struct probe *p)
{
	p->kind_cancel = exec_cancel;
	char name_env[128];
	snprintf(name_env, sizeof name_env, "ARBOR_CHECK=%s", p->check->spec->name);
	char *env[] = { name_env, NULL };
	char err[200];
	p->kind_state = exec_run(p->check->hd, p->check->spec->exec_argv, env, 0, on_done, p, err, sizeof err);
	if (p->kind_state == NULL)
		probe_finish(p, false, "%s", err);
}
