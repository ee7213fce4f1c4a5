/* A health check: its definition from the config (struct check_spec) and its
 * life at run time (struct check). Probes of every kind report into the same
 * hysteresis state machine (check_state.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "check_state.h"

enum check_kind { CHECK_ICMP, CHECK_TCP, CHECK_HTTP, CHECK_DNS, CHECK_DAEMON, CHECK_EXEC };

enum action_when { ACTION_ON_ANY, ACTION_ON_FAILING, ACTION_ON_PASSING };

/* What to do when a check changes state. */
struct action_spec {
	enum action_when when;
	/* POST /v1/commands/<command> to a daemon's socket ... */
	char *post_socket; /* absolute path; from "daemon" (runtime dir) or "socket" */
	char *post_daemon; /* the daemon's name, for messages */
	char *post_command;
	char *post_body; /* JSON text or NULL */
	/* ... or run a program (no shell). */
	char **exec_argv;
	double timeout;
};

struct check_spec {
	char *name;
	enum check_kind kind;
	char *target;     /* as written in the config, for status and messages */
	double interval;
	double timeout;
	unsigned rise;
	unsigned fall;
	bool critical;
	char *definition; /* canonical JSON of the whole entry: reload keeps state if equal */

	/* target, parsed per kind */
	char *host;          /* icmp, tcp, http, dns: a literal address or a name to resolve */
	uint16_t port;       /* tcp, http, dns */
	char *interface;     /* icmp, tcp, http: source interface (SO_BINDTODEVICE) */
	char *socket_path;   /* http over a Unix socket; daemon */
	char *http_path;     /* http: path and query */
	char *http_host;     /* http: Host header */
	int expect_status;   /* http: 0 means any 2xx or 3xx */
	char *expect_body;   /* http: substring, or NULL */
	bool accept_degraded;/* daemon: a degraded daemon passes */
	char *dns_name;      /* dns */
	uint16_t dns_type;
	int dns_rcode;       /* expected rcode */
	char *dns_answer;    /* an answer's rdata text that must appear, or NULL */
	char **exec_argv;    /* exec */

	struct action_spec *actions;
	size_t nactions;
};

struct healthd_config {
	struct check_spec *checks;
	size_t nchecks;
	unsigned max_parallel_exec; /* at most this many check/action programs at once */
};

struct healthd;
struct probe;

struct check {
	struct healthd *hd;
	struct check_spec *spec; /* owned by the current config */
	struct check_state state;
	struct event *timer;
	double next_due;        /* monotonic time the next probe is planned for */
	struct probe *probe;    /* in flight, or NULL */
	bool rerun;             /* renew arrived while a probe was in flight */
	uint64_t runs;
	uint16_t icmp_seq;
};

const char *check_kind_name(enum check_kind kind);
