/* Durable state files. A state file is replaced atomically: write a temporary
 * file (.NAME.tmp.PID), fsync it, rename it over the old one, fsync the
 * directory. A reader (or a daemon restarted after kill -9 or a power loss) sees
 * either the old or the new file whole; a crash before the rename leaves the
 * temporary behind, which the daemon removes at its next start. */
#pragma once
#include <stddef.h>

#include <cjson/cJSON.h>

/* Returns 0, or -errno with a message in err. */
int arbor_state_write(const char *dir, const char *name, const void *data, size_t len, char *err,
		      size_t errlen);
/* The same with the file's mode (0600 for secrets); arbor_state_write uses 0640. */
int arbor_state_write_mode(const char *dir, const char *name, const void *data, size_t len, unsigned int mode,
			   char *err, size_t errlen);
/* Writes doc formatted (readable with jq) plus a trailing newline. */
int arbor_state_write_json(const char *dir, const char *name, const cJSON *doc, char *err, size_t errlen);
/* Removes the temporaries (.NAME.tmp.PID) a crash left in dir; the caller owns
 * dir and no write of its own is under way. Returns how many, or -errno. */
int arbor_state_remove_leftovers(const char *dir);
/* Reads a whole file. Returns 0, -ENOENT when it does not exist, or -errno. */
int arbor_state_read(const char *dir, const char *name, char **data, size_t *len, size_t max_len);
