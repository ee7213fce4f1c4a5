/* The allocation-failure policy of every arbor program: an allocation that
 * fails prints what was asked for and aborts. A daemon that cannot get a few
 * hundred bytes has no sensible way on, and a check at every call site is code
 * that is never tested. Allocations whose size comes from the outside (a
 * packet, a file) are bounded before they are made, so this is only reached on
 * a machine that is truly out of memory. */
#pragma once
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* reallocarray(3) with the same policy: n * size must not overflow either. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An array indexed by a small number (an id): grown, doubling from 64, until
 * index fits, the new elements zeroed. Returns the array; *cap is updated. */
void *xgrow_zeroed(void *p, size_t *cap, size_t index, size_t size);

/* Makes cJSON and libevent allocate through the same policy, so their
 * constructors never return NULL either. Called by the daemon skeleton before
 * anything else; programs that do not use it (arborctl, tests) call it too. */
void arbor_alloc_init(void);
