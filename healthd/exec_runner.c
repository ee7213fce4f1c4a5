/* Program runner (see exec_runner.h). Each program runs under its own
 * supervisor (exec_supervisor.c), a child subreaper that holds its whole
 * process tree; healthd is a subreaper too, so what escapes a supervisor (one
 * the program killed) lands here and is killed at the next reap. */
#include "exec_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_supervisor.h"
#include "healthd.h"
#include "log.h"
#include "xalloc.h"

/* The whole environment a program gets, besides its ARBOR_* variables. */
static const char clean_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/* After "time is up" (SIGTERM), how long a supervisor may take before SIGKILL. */
static const struct timeval kill_grace = { 1, 0 };

struct exec_child {
	struct exec_child *next;
	struct healthd *hd;
	pid_t pid;
	int out_fd;
	struct event *out_ev;
	struct event *timer;
	struct event *grace; /* SIGKILL for a supervisor that ignores its SIGTERM */
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

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct exec_child *c = arg;
	kill(c->pid, SIGKILL); /* its orphans come to healthd: exec_reap kills them */
}

/* Time is up: the supervisor kills the program's whole tree and exits. One
 * stopped or killed by the program is SIGKILLed after the grace. */
static void end_tree(struct exec_child *c)
{
	if (c->pid <= 0 || c->grace)
		return;
	kill(c->pid, SIGTERM);
	c->grace = evtimer_new(c->hd->base, on_grace, c);
	evtimer_add(c->grace, &kill_grace);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct exec_child *c = arg;
	c->timed_out = true;
	end_tree(c);
}

static void child_free(struct exec_child *c)
{
	if (c->out_ev)
		event_free(c->out_ev);
	if (c->timer)
		event_free(c->timer);
	if (c->grace)
		event_free(c->grace);
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
	/* Checked here so that a missing program is a clear, immediate reason. */
	if (access(argv[0], X_OK) != 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
		return NULL;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK); /* ours only: the program writes blocking */
	size_t nextra = 0;
	while (extra_env && extra_env[nextra])
		nextra++;
	char **envp = xcalloc(nextra + 2, sizeof *envp);
	envp[0] = (char *)clean_path;
	for (size_t i = 0; i < nextra; i++)
		envp[1 + i] = extra_env[i];
	/* Every signal blocked across the fork: until the child has reset them,
	 * healthd's handlers (libevent's, which write into a socketpair healthd
	 * reads) would run in it, and a SIGTERM meant for the supervisor would
	 * stop healthd. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t self = getpid(), pid = fork();
	if (pid == 0)
		exec_supervise(argv, envp, pipefd[1], self);
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(envp);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(err, errlen, "cannot run %s: fork: %s", argv[0], strerror(fork_errno));
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
	end_tree(c);
}

int exec_runner_init(char *err, size_t errlen)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "cannot become a child subreaper: %s", strerror(errno));
		return -1;
	}
	return 0;
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

/* A child that is no supervisor of ours was orphaned by one (its program
 * killed it) and re-parented here: nothing a program starts outlives it. */
static bool is_supervisor(struct healthd *hd, pid_t pid)
{
	for (struct exec_child *c = hd->children; c; c = c->next)
		if (c->pid == pid)
			return true;
	return false;
}

static void kill_strays(struct healthd *hd)
{
	pid_t pids[512];
	size_t n = exec_list_children(pids, sizeof pids / sizeof pids[0]);
	for (size_t i = 0; i < n; i++)
		if (!is_supervisor(hd, pids[i]))
			kill(pids[i], SIGKILL);
}

void exec_reap(struct healthd *hd)
{
	bool reaped_any = false;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		reaped_any = true;
		struct exec_child **pp = &hd->children;
		while (*pp && (*pp)->pid != pid)
			pp = &(*pp)->next;
		struct exec_child *c = *pp;
		if (c == NULL)
			continue; /* a stray killed by kill_strays */
		*pp = c->next;
		hd->running_programs--;
		/* Whatever the tree left in the pipe is still readable: take it. */
		drain_output(c);
		trim(c->out);
		if (!c->abandoned && c->done)
			c->done(c->ctx, status, c->timed_out, c->out);
		child_free(c);
	}
	if (reaped_any)
		kill_strays(hd);
}

void exec_kill_all(struct healthd *hd)
{
	/* Supervisors first, then whatever their deaths hand over to us. */
	exec_kill_children();
	while (hd->children) {
		struct exec_child *c = hd->children;
		hd->children = c->next;
		hd->running_programs--;
		child_free(c);
	}
}
