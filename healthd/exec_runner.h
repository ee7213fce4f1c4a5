/* Running programs for exec checks and actions: no shell, a clean environment
 * (PATH and the ARBOR_* variables), no capabilities, stdin from /dev/null,
 * stdout and stderr captured (the first bytes become the failure reason), each
 * under a supervisor that holds its whole process tree (exec_supervisor.h), so
 * a timeout kills everything the program started, setsid() or not; reaping
 * from the loop's SIGCHLD event. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct healthd;
struct exec_child;

/* status: the wait(2) status; output: what the program printed (trimmed). */
typedef void (*exec_done_fn)(void *ctx, int status, bool timed_out, const char *output);

/* Starts argv with extra environment (NAME=value, NULL-terminated, may be
 * NULL). timeout 0: none (the caller enforces one). Returns the child, or NULL
 * with err set. done is called once, from the loop, never from here. */
struct exec_child *exec_run(struct healthd *hd, char *const argv[], char *const extra_env[], double timeout,
			    exec_done_fn done, void *ctx, char *err, size_t errlen);
/* Makes healthd a child subreaper (what escapes a supervisor comes back here). */
int exec_runner_init(char *err, size_t errlen);
/* The owner lost interest (its probe timed out): kill the program's tree now,
 * reap it later, never call done. */
void exec_abandon(struct exec_child *c);
/* SIGCHLD: reap every exited child and report. */
void exec_reap(struct healthd *hd);
/* At stop: kill and reap everything still running. */
void exec_kill_all(struct healthd *hd);
/* "exit 3", "killed by signal 9" */
void exec_describe_status(int status, char *buf, size_t len);
