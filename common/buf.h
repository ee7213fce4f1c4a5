/* A growable byte buffer for building answers (status JSON, metrics text, event
 * batches) without guessing sizes up front. Allocation failure aborts: a daemon
 * that cannot allocate a few kilobytes has no sensible way to continue. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

struct arbor_buf {
	char *data;
	size_t len;
	size_t cap;
};

void arbor_buf_reserve(struct arbor_buf *b, size_t extra);
void arbor_buf_append(struct arbor_buf *b, const void *data, size_t len);
void arbor_buf_puts(struct arbor_buf *b, const char *s);
void arbor_buf_printf(struct arbor_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the (NUL-terminated) contents to the caller and empties the buffer. */
char *arbor_buf_steal(struct arbor_buf *b, size_t *len);
void arbor_buf_free(struct arbor_buf *b);
