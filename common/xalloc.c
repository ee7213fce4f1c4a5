/* Allocation with one failure policy (see xalloc.h). */
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

static void out_of_memory(size_t size)
{
	/* No stdio: it may itself need memory. */
	char msg[80];
	int n = snprintf(msg, sizeof msg, "arbor: out of memory (%zu bytes)\n", size);
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		msg[0] = '\0';
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory(n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (q == NULL)
		out_of_memory(size);
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		out_of_memory((size_t)-1);
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* a bad format is a broken invariant */
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static void *event_xrealloc(void *p, size_t size)
{
	return xrealloc(p, size);
}

void arbor_alloc_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	cJSON_Hooks hooks = { .malloc_fn = xmalloc, .free_fn = free };
	cJSON_InitHooks(&hooks);
	event_set_mem_functions(xmalloc, event_xrealloc, free);
}

void *xgrow_zeroed(void *p, size_t *cap, size_t index, size_t size)
{
	if (index < *cap)
		return p;
	size_t n = *cap ? *cap : 64;
	while (n <= index)
		n *= 2;
	unsigned char *v = xreallocarray(p, n, size);
	memset(v + *cap * size, 0, (n - *cap) * size);
	*cap = n;
	return v;
}
