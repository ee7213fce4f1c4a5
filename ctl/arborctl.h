/* What arborctl.c shares with the verbs in other files (wg.c, overlay.c). */
#pragma once
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "contract_client.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NO_DAEMON = 3 };

extern const char *runtime_dir;
extern bool json_output;

/* One request; prints a one-line error and returns the exit code on failure. */
int request(const char *daemon, const char *method, const char *path, const char *body,
	    struct arbor_client_response *resp);
/* The message of an error answer (or a command's), NULL if none. */
const char *error_message(const cJSON *doc);
void print_human(const cJSON *v, int depth);
void print_json(cJSON *doc);
/* A member's string (def if absent) and number (0 if absent). */
const char *str_field(const cJSON *o, const char *key, const char *def);
double num_field(const cJSON *o, const char *key);

/* arborctl wg ...: wgd's peers. */
int cmd_wg(int argc, char **argv);
/* arborctl overlay ...: overlayd's enrollment and spokes. */
int cmd_overlay(int argc, char **argv);
