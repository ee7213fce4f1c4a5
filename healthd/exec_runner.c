/* Program runner (see exec_runner.h). */
#include "exec_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "healthd.h"
#include "log.h"
#include "xalloc.h"

extern char **environ;

struct exec_child {
	struct exec_child *next;
	struct healthd *hd;
	pid_t pid;
	int out_fd;
	struct event *out_ev;
	struct event *timer;
	char out[256];
	size_t out_len;
	bool timed_out;
	bool abandoned;
	exec_done_fn done;
	void *ctx;
};

void exec_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %d", status);
}

static void drain_output(struct exec_child *c)
{
	for (;;) {
		char tmp[512];
		ssize_t n = read(c->out_fd, tmp, sizeof tmp);
		if (n <= 0)
			return;
		size_t room = sizeof c->out - 1 - c->out_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(c->out + c->out_len, tmp, take);
		c->out_len += take;
		c->out[c->out_len] = '\0';
	}
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct exec_child *c = arg;
	drain_output(c);
}

static void kill_group(struct exec_child *c)
{
	if (c->pid > 0)
		kill(-c->pid, SIGKILL);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct exec_child *c = arg;
	c->timed_out = true;
	kill_group(c);
}

static void child_free(struct exec_child *c)
{
	if (c->out_ev)
		event_free(c->out_ev);
	if (c->timer)
		event_free(c->timer);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c);
}

struct exec_child *exec_run(struct healthd *hd, char *const argv[], char *const extra_env[], double timeout,
			    exec_done_fn done, void *ctx, char *err, size_t errlen)
{
	const struct healthd_config *cfg = healthd_config(hd);
	if (hd->running_programs >= cfg->max_parallel_exec) {
		snprintf(err, errlen, "not started: %u programs already running (healthd.max_parallel_exec)",
			 hd->running_programs);
		return NULL;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	size_t nenv = 0, nextra = 0;
	while (environ[nenv])
		nenv++;
	while (extra_env && extra_env[nextra])
		nextra++;
	char **envp = xcalloc(nenv + nextra + 1, sizeof *envp);
	memcpy(envp, environ, nenv * sizeof *envp);
	for (size_t i = 0; i < nextra; i++)
		envp[nenv + i] = extra_env[i];

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_init(&attr);
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(envp);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
		return NULL;
	}
	struct exec_child *c = xcalloc(1, sizeof *c);
	c->hd = hd;
	c->pid = pid;
	c->out_fd = pipefd[0];
	c->done = done;
	c->ctx = ctx;
	c->out_ev = event_new(hd->base, c->out_fd, EV_READ | EV_PERSIST, on_output, c);
	event_add(c->out_ev, NULL);
	if (timeout > 0) {
		struct timeval tv = { (time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6) };
		c->timer = evtimer_new(hd->base, on_timeout, c);
		evtimer_add(c->timer, &tv);
	}
	c->next = hd->children;
	hd->children = c;
	hd->running_programs++;
	return c;
}

void exec_abandon(struct exec_child *c)
{
	c->abandoned = true;
	kill_group(c);
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

void exec_reap(struct healthd *hd)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct exec_child **pp = &hd->children;
		while (*pp && (*pp)->pid != pid)
			pp = &(*pp)->next;
		struct exec_child *c = *pp;
		if (c == NULL)
			continue; /* not ours (cannot happen: we spawn every child) */
		*pp = c->next;
		hd->running_programs--;
		/* Whatever the group left in the pipe is still readable: take it. */
		drain_output(c);
		/* Children of the program may still hold the group: end them too. */
		kill(-pid, SIGKILL);
		trim(c->out);
		if (!c->abandoned && c->done)
			c->done(c->ctx, status, c->timed_out, c->out);
		child_free(c);
	}
}

void exec_kill_all(struct healthd *hd)
{
	for (struct exec_child *c = hd->children; c; c = c->next)
		kill_group(c);
	while (hd->children) {
		struct exec_child *c = hd->children;
		int status;
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		hd->children = c->next;
		hd->running_programs--;
		child_free(c);
	}
}
