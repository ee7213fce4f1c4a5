/* The daemon skeleton: everything the contract asks of every daemon (flags,
 * directories, config and transactional reload, signals, the socket and its
 * common endpoints, events, readiness, graceful stop). A daemon supplies a
 * struct arbor_daemon_def and calls arbor_daemon_main from its main(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "events.h"
#include "http.h"

struct arbor_daemon;

enum arbor_health { ARBOR_HEALTH_OK, ARBOR_HEALTH_DEGRADED, ARBOR_HEALTH_FAILED };

/* A daemon-specific command: POST /v1/commands/<name>. The handler fills resp
 * (usually with arbor_command_answer). */
struct arbor_command {
	const char *name;
	void (*handler)(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp);
};

/* A daemon-specific read: GET <path>. */
struct arbor_view {
	const char *path;
	void (*handler)(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp);
};

/* A daemon-specific resource with any method and "*" segments in its path
 * (http.h, arbor_path_match): the peers of wgd (GET/POST /v1/peers,
 * GET/PATCH/DELETE /v1/peers/NAME). A method other than GET changes state, so
 * it is authorized like a command (contract.md). */
struct arbor_resource {
	const char *method; /* "GET" (HEAD implied), "POST", "PATCH", "DELETE" */
	const char *path;
	void (*handler)(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp);
	bool authorized;    /* a GET that hands out secrets: authorized too */
};

struct arbor_daemon_def {
	const char *name;        /* "dhcp4d": section, socket and state-dir name */
	const char *binary;      /* "arbor-dhcp4d" */
	const char *summary;     /* one line for --help */
	arbor_section_parse_fn parse;
	arbor_section_free_fn free_config;
	/* Starts the daemon's job with the loaded config; the socket is not yet up. */
	int (*start)(struct arbor_daemon *d, char *err, size_t errlen);
	/* Applies a validated new config (the old one is still current). Returning
	 * non-zero rejects the reload, and the daemon must then be unchanged. */
	int (*reload)(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen);
	/* Graceful stop: finish durable writes. */
	void (*stop)(struct arbor_daemon *d);
	/* "Do it again now". Returns 0 and a message, or non-zero with a reason. */
	int (*renew)(struct arbor_daemon *d, char *msg, size_t msglen);
	/* Adds the daemon's own view to /v1/status. */
	void (*status)(struct arbor_daemon *d, cJSON *status);
	/* Adds reasons (strings) and returns the health. NULL: always ok. */
	enum arbor_health (*health)(struct arbor_daemon *d, cJSON *reasons);
	/* Appends daemon-specific Prometheus lines. */
	void (*metrics)(struct arbor_daemon *d, struct arbor_buf *out);
	const struct arbor_command *commands;
	size_t ncommands;
	const struct arbor_view *views;
	size_t nviews;
	const struct arbor_resource *resources;
	size_t nresources;
};

int arbor_daemon_main(const struct arbor_daemon_def *def, int argc, char **argv);

/* For the fuzzer and tests: a daemon with its config, events and routes but no
 * socket and no running loop; requests go straight to the router. */
struct arbor_daemon *arbor_daemon_create_detached(const struct arbor_daemon_def *def, const char *config_path,
						  const char *state_dir, char *err, size_t errlen);
void arbor_daemon_dispatch(struct arbor_daemon *d, const struct arbor_http_request *req,
			   struct arbor_http_response *resp);
void arbor_daemon_destroy_detached(struct arbor_daemon *d);

/* Accessors for the daemon's code. */
struct event_base *arbor_daemon_base(struct arbor_daemon *d);
struct arbor_events *arbor_daemon_events(struct arbor_daemon *d);
const struct arbor_config *arbor_daemon_config(struct arbor_daemon *d);
const char *arbor_daemon_state_dir(struct arbor_daemon *d);
/* Where the machine's subnet-id table lives: machine.subnets6_dir, or "machine"
 * beside the state directory (/var/lib/arbor/machine). */
const char *arbor_daemon_subnets6_dir(struct arbor_daemon *d);
const char *arbor_daemon_runtime_dir(struct arbor_daemon *d);
void arbor_daemon_set_userdata(struct arbor_daemon *d, void *data);
void *arbor_daemon_userdata(struct arbor_daemon *d);
/* Asks the loop to stop (as SIGTERM does). */
void arbor_daemon_request_stop(struct arbor_daemon *d);

/* {"command":name,"accepted":ok,"message":msg} with 200 (or status when !ok). */
void arbor_command_answer(struct arbor_http_response *resp, const char *name, bool accepted, int status,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Parses a command's JSON body (empty means {}); answers 400 itself on bad JSON. */
cJSON *arbor_command_body(const struct arbor_http_request *req, struct arbor_http_response *resp);
/* A command for a daemon with one client per interface (dhcp4d's and dhcp6pd's
 * uplinks): {"interface": "wan0"} runs it on that client (404 when there is
 * none: "no <what> client on interface ..."), {} on every client (404 when
 * there are none). run(ctx, i, command, msg, msglen) returns < 0 when it failed
 * (then 409) and says what happened in msg; the messages are joined by "; ". */
typedef int arbor_client_command_fn(void *ctx, size_t i, const char *command, char *msg, size_t msglen);
/* What such a client says about a command it ran (rc 0), could not run for lack
 * of carrier (-ENETDOWN) or in its state (-EAGAIN), or does not know. */
void arbor_client_command_message(int rc, const char *ifname, const char *command, const char *state, char *msg,
				  size_t msglen);
void arbor_command_per_client(const struct arbor_http_request *req, struct arbor_http_response *resp,
			      const char *command, const char *what, size_t n,
			      const char *(*ifname)(void *ctx, size_t i), arbor_client_command_fn *run, void *ctx);

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
int arbor_sd_notify(const char *state);
