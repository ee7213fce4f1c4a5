/* Which boot of the machine this is, as a short token: the same for every start
 * of a daemon until the machine goes down, different after. The event log uses it
 * to tell a daemon restart (kill -9: the page cache kept every line written) from
 * a reboot (a power cut may have taken the last lines), see events.h. */
#pragma once
#include <stddef.h>

/* The kernel's boot id (/proc/sys/kernel/random/boot_id), or, where /proc/sys is
 * hidden (the units' ProcSubset=pid), a random token kept in
 * <runtime_dir>/<daemon>.boot: the runtime directory is a tmpfs (/run) that every
 * boot starts empty, so the token lives exactly as long as the boot.
 *
 * Test hook: ARBOR_TEST_BOOT_ID_FILE names a file read instead of the kernel's
 * (a test writes a new id there to present a reboot; a path that does not exist
 * selects the runtime-directory token). Nothing in production sets it.
 *
 * Returns 0 with the token in out, or -errno (no token: the caller must assume
 * the worst). */
int arbor_boot_id(const char *runtime_dir, const char *daemon, char *out, size_t outlen);
