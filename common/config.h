/* Configuration loading: one JSON file per machine (comments allowed), a `machine`
 * section shared by all daemons, a `control` section for the contract server, and
 * one section per daemon. Every error names the file and the key path, and a load
 * either fully succeeds or changes nothing (the caller swaps the result in). The
 * walker each section parser uses is cfg_walk.h; the reader, jsonc.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cfg_walk.h"
#include "jsonc.h"

struct arbor_machine {
	char *name;
	char *domain;
	char *machine_id;      /* literal id, or NULL */
	char *machine_id_file; /* where to read it otherwise */
	char *parent_name;
	char *parent_interface;
	char *parent_address;
	char *subnets6_dir;    /* the machine's subnet-id table (one for every daemon), or
				* NULL: "machine" beside the state directory */
};

/* control.grants[]: a user or a group may run some commands of some daemons
 * (healthd's renew of dhcp4d, say) without being an administrator. */
struct arbor_grant {
	char *user;       /* exactly one of user and group, as written */
	char *group;
	unsigned int id;  /* its uid or gid */
	char **daemons;   /* NULL-terminated daemon names */
	char **commands;  /* NULL-terminated command names */
};

struct arbor_control {
	mode_t socket_mode;
	char *admin_group;  /* NULL: none */
	gid_t admin_gid;    /* valid when admin_group != NULL */
	struct arbor_grant *grants;
	size_t ngrants;
	unsigned long long events_rotate_bytes;
	unsigned long long events_memory;      /* events kept in memory for queries */
	unsigned long long http_max_body_bytes;
	unsigned long long http_max_connections;
	unsigned long long http_max_streams_per_peer; /* long-polls + followers per uid */
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

/* True when the grant names daemon (and, with command non-NULL, that command). */
bool arbor_grant_covers(const struct arbor_grant *g, const char *daemon, const char *command);

/* Validators shared by every section. */
bool arbor_valid_dns_label(const char *s);
bool arbor_valid_dns_name(const char *s);
