/* What runs between healthd and an exec check's program (or an action's): a
 * child subreaper that holds every process the program starts, with a clean
 * environment and no capabilities, and kills them all when the program ends or
 * when healthd says time is up (SIGTERM). See exec_supervisor.c for why. */
#pragma once
#include <sys/types.h>

/* In a fresh fork of healthd, with every signal blocked: supervise argv (absolute path) with exactly envp,
 * stdout and stderr to out_fd, stdin from /dev/null. Exits the way the program
 * did; never returns. */
void exec_supervise(char *const argv[], char *const envp[], int out_fd, pid_t healthd) __attribute__((noreturn));
/* The calling thread's children (/proc/self/task/<tid>/children, or a scan of
 * /proc on kernels without it): at most max pids into out. */
size_t exec_list_children(pid_t *out, size_t max);
/* Kills every child of the calling process, and every orphan re-parented to it
 * meanwhile (it must be a subreaper), until it has none. */
void exec_kill_children(void);
