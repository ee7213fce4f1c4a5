/* Running wireguard-go, the userspace WireGuard, for one interface: started
 * in the foreground as wgd's child (WG_PROCESS_FOREGROUND=1), so its exit
 * reaches wgd as SIGCHLD and its log goes where wgd's goes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Starts `binary -f ifname`; returns its pid or -errno with err. */
pid_t wggo_spawn(const char *binary, const char *ifname, char *err, size_t errlen);
/* Waits until the UAPI socket answers, at most timeout seconds (it appears a
 * few milliseconds after the start). False (with err) if the process died or
 * the time ran out. */
bool wggo_wait_ready(pid_t pid, const char *uapi_dir, const char *ifname, double timeout, char *err, size_t errlen);
/* SIGTERM, then SIGKILL after grace seconds; reaps it. */
void wggo_stop(pid_t pid, double grace);
