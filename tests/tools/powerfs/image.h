/* The backing directory is powerfs's "disk" between mounts: a mount loads it
 * whole, and what survives (the durable state after a power cut, or everything
 * at a clean unmount) is written back to it. In between, it is not touched. */
#pragma once
#include "model.h"

/* Loads dir into fs as durable state (live = durable). Returns 0 or -errno. */
int image_load(struct pfs *fs, const char *dir);
/* Replaces dir's contents with fs's durable state. Returns 0 or -errno. */
int image_save(struct pfs *fs, const char *dir);
