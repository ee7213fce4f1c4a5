/* File-system helpers the state files, the journal and the daemon skeleton
 * share: whole writes, directories created and made durable. */
#pragma once
#include <stddef.h>

/* Writes all of data (retrying short writes and EINTR). Returns 0 or -errno;
 * after an error an unknown prefix of data may be in the file. */
int arbor_write_all(int fd, const void *data, size_t len);
/* Creates dir and its parents with mode (existing ones are left alone). */
int arbor_mkdir_p(const char *dir, unsigned int mode);
/* fsync on a directory, so a rename or a new file in it survives a crash. */
int arbor_fsync_dir(const char *dir);
