/* Configuration loading: one JSON file per machine (comments allowed), a `machine`
 * section shared by all daemons, a `control` section for the contract server, and
 * one section per daemon. Every error names the file and the key path, and a load
 * either fully succeeds or changes nothing (the caller swaps the result in). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

/* Parses JSON with // and block comments. On failure records "FILE:LINE:COL: ..." */
cJSON *arbor_jsonc_parse(struct arbor_cfg_walk *w, const char *text, size_t len);
/* Replaces comments by spaces (keeping newlines) so offsets and lines stay true. */
void arbor_jsonc_strip_comments(char *text, size_t len);

struct arbor_machine {
	char *name;
	char *domain;
	char *machine_id;      /* literal id, or NULL */
	char *machine_id_file; /* where to read it otherwise */
	char *parent_name;
	char *parent_interface;
	char *parent_address;
};

struct arbor_control {
	mode_t socket_mode;
	char *admin_group;  /* NULL: none */
	gid_t admin_gid;    /* valid when admin_group != NULL */
	unsigned long long events_rotate_bytes;
	unsigned long long events_memory;      /* events kept in memory for queries */
	unsigned long long http_max_body_bytes;
	unsigned long long http_max_connections;
	double http_idle_timeout;
};

/* Parses one daemon's own section; returns its config object or NULL with errors
 * recorded in w. section is an empty object when the file has none. */
typedef void *(*arbor_section_parse_fn)(struct arbor_cfg_walk *w, const cJSON *section);
typedef void (*arbor_section_free_fn)(void *cfg);

struct arbor_config {
	char *path;
	struct arbor_machine machine;
	struct arbor_control control;
	void *daemon;  /* the daemon's parsed section */
	arbor_section_free_fn daemon_free;
};

/* Loads and validates path for daemon `section`. On failure returns NULL and
 * *errors holds the messages (caller frees). Nothing global changes. */
struct arbor_config *arbor_config_load(const char *path, const char *section, arbor_section_parse_fn parse,
				       arbor_section_free_fn free_fn, char **errors);
/* Same, from text already in memory (used by the fuzzer and tests). */
struct arbor_config *arbor_config_load_text(const char *display, const char *text, size_t len,
					    const char *section, arbor_section_parse_fn parse,
					    arbor_section_free_fn free_fn, char **errors);
void arbor_config_free(struct arbor_config *cfg);

/* Reads the machine id (32 hex digits) from the literal or the file. */
int arbor_machine_id(const struct arbor_machine *m, char out[33], char *err, size_t errlen);

/* Validators shared by every section. */
bool arbor_valid_dns_label(const char *s);
bool arbor_valid_dns_name(const char *s);
