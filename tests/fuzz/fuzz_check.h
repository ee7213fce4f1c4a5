/* What the libFuzzer harnesses share: how an oracle fails (a message, then
 * abort(), which libFuzzer reports with the input), a directory of their own
 * for files, and loading a daemon's config section from the input as the
 * daemon does (a refusal must say why). */
#pragma once
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

__attribute__((noreturn, format(printf, 1, 2))) static inline void violated(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "invariant violated: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* The config in data, or NULL when it is refused (with a message). */
static inline struct arbor_config *load_section(const uint8_t *data, size_t size, const char *section,
						arbor_section_parse_fn parse, arbor_section_free_fn free_fn)
{
	char *errors = NULL;
	struct arbor_config *cfg = arbor_config_load_text("fuzz.json", (const char *)data, size, section, parse,
							  free_fn, &errors);
	if (cfg == NULL && (errors == NULL || errors[0] == '\0'))
		violated("a config refused without a message");
	free(errors);
	return cfg;
}

static char fuzz_dir[64];

static inline int fuzz_remove(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static inline void fuzz_dir_remove(void)
{
	nftw(fuzz_dir, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new directory /tmp/arbor-fuzz-NAME-XXXXXX, removed when the run ends
 * (libFuzzer ends through exit()): nothing is left behind, and no other run's
 * directory is touched. */
static inline const char *fuzz_tmpdir(const char *name)
{
	snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/arbor-fuzz-%s-XXXXXX", name);
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dir;
}
