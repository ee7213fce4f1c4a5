/* wireguard-go processes (see wggo.h). */
#include "wggo.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "uapi_client.h"
#include "xalloc.h"

extern char **environ;

pid_t wggo_spawn(const char *binary, const char *ifname, char *err, size_t errlen)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 2, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "WG_PROCESS_FOREGROUND=", 22) != 0)
			env[k++] = environ[i];
	env[k++] = "WG_PROCESS_FOREGROUND=1";
	char *argv[] = { (char *)binary, "-f", (char *)ifname, NULL };
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	/* wgd's signal mask and handlers are its own business, not the child's. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawnp(&pid, binary, NULL, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	free(env);
	if (rc != 0) {
		snprintf(err, errlen, "cannot run %s: %s", binary, strerror(rc));
		return -rc;
	}
	return pid;
}

bool wggo_wait_ready(pid_t pid, const char *uapi_dir, const char *ifname, double timeout, char *err, size_t errlen)
{
	double deadline = arbor_time_monotonic() + timeout;
	for (;;) {
		struct wg_device d = { 0 };
		char why[256];
		int rc = uapi_get(uapi_dir, ifname, &d, why, sizeof why);
		wg_device_free(&d);
		if (rc == 0)
			return true;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			snprintf(err, errlen, "wireguard-go for %s exited (%s %d) before its socket answered",
				 ifname, WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return false;
		}
		if (arbor_time_monotonic() >= deadline) {
			snprintf(err, errlen, "wireguard-go for %s: no answer on its socket after %.1f s (%s)", ifname,
				 timeout, why);
			return false;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void wggo_stop(pid_t pid, double grace)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	double deadline = arbor_time_monotonic() + grace;
	for (;;) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		if (arbor_time_monotonic() >= deadline)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
