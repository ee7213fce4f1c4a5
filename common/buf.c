/* Growable buffer: doubling growth, always NUL-terminated so text users can print it. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void arbor_buf_reserve(struct arbor_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = xrealloc(b->data, cap);
	b->data = p;
	b->cap = cap;
}

void arbor_buf_append(struct arbor_buf *b, const void *data, size_t len)
{
	arbor_buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void arbor_buf_puts(struct arbor_buf *b, const char *s)
{
	arbor_buf_append(b, s, strlen(s));
}

void arbor_buf_printf(struct arbor_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	arbor_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *arbor_buf_steal(struct arbor_buf *b, size_t *len)
{
	arbor_buf_reserve(b, 0);
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void arbor_buf_free(struct arbor_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
