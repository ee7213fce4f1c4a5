/* The supervisor of one exec check or action program (see exec_supervisor.h).
 *
 * Why a process of its own: a process group or a session does not hold a
 * program's descendants (one setsid() and a timeout's kill misses them), and a
 * cgroup needs root or systemd's delegation (Delegate=yes), which this machine's
 * cgroup v1 hierarchy and the hardened unit do not give. A child subreaper does,
 * anywhere and without privilege: every process the program starts stays in the
 * supervisor's subtree, whatever it calls (setsid, double fork), because an
 * orphan is re-parented to its nearest subreaper ancestor. Killing the
 * supervisor's children until it has none therefore kills them all.
 *
 * Runs in a fork of healthd: only system calls here, no allocation, no stdio,
 * and _exit, never exit (healthd's atexit handlers and libevent are not ours). */
#include "exec_supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* To stderr, which is healthd's pipe: the first bytes become the reason. */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
		return;
}

/* Reads one pid after another from a children file; 0 at the end. */
static size_t read_children(int fd, pid_t *out, size_t max)
{
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof buf - 1);
	size_t n = 0;
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (char *p = buf; *p && n < max;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0)
			out[n++] = (pid_t)v;
		p = end;
	}
	return n;
}

size_t exec_list_children(pid_t *out, size_t max)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		size_t n = read_children(fd, out, max);
		close(fd);
		return n;
	}
	size_t n = 0;
	DIR *proc = opendir("/proc");
	struct dirent *e;
	while (proc && n < max && (e = readdir(proc)) != NULL) {
		char stat[512], *p;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int sfd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t len = sfd >= 0 ? read(sfd, stat, sizeof stat - 1) : -1;
		if (sfd >= 0)
			close(sfd);
		if (len <= 0)
			continue;
		stat[len] = '\0';
		/* pid (comm) state ppid ...: comm may hold anything, so from the last ')' */
		if ((p = strrchr(stat, ')')) != NULL && strtol(p + 4, NULL, 10) == (long)getpid())
			out[n++] = (pid_t)strtol(e->d_name, NULL, 10);
	}
	if (proc)
		closedir(proc);
	return n;
}

void exec_kill_children(void)
{
	pid_t pids[512];
	for (;;) {
		size_t n = exec_list_children(pids, sizeof pids / sizeof pids[0]);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		/* Reap what is dead; orphans of the killed arrive as new children. */
		int status;
		pid_t w;
		size_t reaped = 0;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			reaped++;
		if (w < 0 && errno == ECHILD)
			return;
		/* Killed but not dead yet: wait for one (never for an orphan we have
		 * not killed yet, which would be forever). */
		if (n > 0 && reaped == 0)
			waitpid(-1, &status, 0);
	}
}

/* No capabilities for the program, whoever healthd runs as: the ambient set
 * cleared (the unit gives healthd CAP_NET_RAW that way), the bounding set
 * emptied and uid 0 made powerless across execve when we can (root), the
 * process's own sets emptied, and no new privileges (setuid, file caps). */
static int drop_capabilities(void)
{
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) != 0 &&
	    geteuid() == 0) {
		say("cannot make uid 0 powerless (securebits): %s", strerror(errno));
		return -1;
	}
	for (unsigned long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* fails without CAP_SETPCAP: NNP covers it */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		say("cannot clear the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	if (syscall(SYS_capset, &h, none) != 0) {
		say("cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		say("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Ends the supervisor the way the program ended, so healthd reads the
 * program's own wait status. */
__attribute__((noreturn)) static void exit_like(int status)
{
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(sig);
	_exit(128 + sig);
}

void exec_supervise(char *const argv[], char *const envp[], int out_fd, pid_t healthd)
{
	/* healthd's handlers (libevent's) must not run here: defaults first, while
	 * exec_run keeps every signal blocked; a SIGTERM already sent stays pending
	 * for the sigwaitinfo below. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t wanted;
	sigemptyset(&wanted);
	sigaddset(&wanted, SIGCHLD);
	sigaddset(&wanted, SIGTERM);
	sigprocmask(SIG_SETMASK, &wanted, NULL);
	/* healthd's SIGTERM means "time is up"; so does healthd's death. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != healthd)
		_exit(125);
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(125);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		say("cannot become a child subreaper: %s", strerror(errno));
		_exit(125);
	}
	if (drop_capabilities() != 0)
		_exit(125);

	pid_t program = fork();
	if (program < 0) {
		say("cannot fork: %s", strerror(errno));
		_exit(125);
	}
	if (program == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], argv, envp);
		say("cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	/* The pipe is the program's: healthd sees its end when the tree closes it. */
	null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	int status = 0;
	bool ended = false, timed_out = false;
	while (!ended && !timed_out) {
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == program) {
				status = st;
				ended = true;
			}
		if (ended)
			break;
		/* SIGCHLD and SIGTERM are blocked: one arriving between the wait
		 * above and here stays pending, so nothing is missed. */
		siginfo_t info;
		if (sigwaitinfo(&wanted, &info) == SIGTERM)
			timed_out = true;
	}
	/* Whatever the program left behind does not outlive it. */
	exec_kill_children();
	exit_like(timed_out ? SIGKILL /* the wait status of a SIGKILL death */ : status);
}
