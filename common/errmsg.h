/* For functions that fail with a negative errno and a message in a caller's
 * buffer ("char *err, size_t errlen"). */
#pragma once
#include <stddef.h>

/* Writes the message into err (when err and errlen are set) and returns rc. */
int arbor_errmsg(int rc, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
