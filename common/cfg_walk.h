/* The key walker of configuration sections: typed getters that record every
 * error with the file and the key path (`arbor.json: dhcp4d.servers[0].pool:
 * ...`), so that one --check-config shows them all. Each daemon's section parser
 * is written with it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Walks a parsed document, tracking the key path for error messages. */
struct arbor_cfg_walk {
	const char *file;   /* as shown in messages */
	char path[512];     /* current key path, e.g. "dhcp4d.servers[0]" */
	struct arbor_buf errors; /* one message per line */
	int nerrors;
};

/* Path handling: enter returns the previous length for leave. */
size_t arbor_cfg_enter(struct arbor_cfg_walk *w, const char *key);
size_t arbor_cfg_enter_index(struct arbor_cfg_walk *w, size_t index);
void arbor_cfg_leave(struct arbor_cfg_walk *w, size_t saved);

/* Records "FILE: PATH[.key]: message". key may be NULL for the current path. */
void arbor_cfg_error(struct arbor_cfg_walk *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checks that node is an object whose keys are all in allowed (NULL-terminated)
 * and that no key repeats. Returns false (and records errors) otherwise. */
bool arbor_cfg_object(struct arbor_cfg_walk *w, const cJSON *node, const char *const allowed[]);

/* Typed getters: a missing key yields the default and true; a present key of the
 * wrong type or out of range records an error and returns false. */
bool arbor_cfg_string(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, const char *def,
		      char **out);
bool arbor_cfg_bool(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, bool def, bool *out);
bool arbor_cfg_number(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
		      double min, double max, double *out);
bool arbor_cfg_uint(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, unsigned long long def,
		    unsigned long long min, unsigned long long max, unsigned long long *out);
/* Durations are seconds as JSON numbers, fractions allowed, strictly positive. */
bool arbor_cfg_duration(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
			double max, double *out);

/* A JSON value rendered for an error message (truncated, never NULL). */
void arbor_cfg_render(const cJSON *v, char *buf, size_t len);
