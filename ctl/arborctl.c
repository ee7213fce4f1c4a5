/* arborctl: the operator's tool. It finds daemons by their sockets in the
 * runtime directory and speaks the contract to them; it knows nothing about any
 * one daemon beyond the common endpoints, so new daemons need no change here;
 * the exceptions are wgd's peers (`arborctl wg ...`, wg.c) and overlayd's
 * enrollment (`arborctl overlay ...`, overlay.c: its tokens are what an
 * operator copies to a spoke). The one command that talks to no daemon is
 * `addr`: the IPv6 derivation is stateless (docs/addressing.md), so arborctl
 * computes it itself.
 * Exit codes: 0 ok, 1 the daemon refused, 2 usage, 3 no daemon there. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "addr_derive.h"
#include "arborctl.h"
#include "buf.h"
#include "contract_client.h"
#include "subnet_ids.h"
#include "xalloc.h"

const char *runtime_dir = "/run/arbor";
bool json_output;

static void usage(FILE *out)
{
	fprintf(out, "usage: arborctl [--runtime-dir DIR] [--json] COMMAND\n"
		     "\n"
		     "  status [DAEMON]                     one row per daemon, or one daemon in full\n"
		     "  health                              every daemon's /v1/healthz\n"
		     "  events DAEMON [-f] [--since N] [--type GLOB] [--limit N]\n"
		     "  reload|renew|stop DAEMON|all        run a command\n"
		     "  get DAEMON PATH                     GET any path (e.g. /v1/metrics)\n"
		     "  post DAEMON PATH [JSON]             POST any path with an optional JSON body\n"
		     "  wg list|show|add|set|del|config|qr|rotate-key ...  wgd's peers (arborctl wg help)\n"
		     "  addr [--machine-id ID] [--iface NAME [--state DIR] | --subnet-id N] [--host HOST-ID]\n"
		     "                                      this machine's IPv6 prefix, an interface's /64, a host's address\n"
		     "  overlay enroll [HOSTNAME] [--ttl S] [--count N]   overlayd: tokens for new spokes\n"
		     "  overlay forget ID|HOSTNAME          overlayd: free a spoke's id and subnet\n"
		     "  overlay spokes                      overlayd: the spokes and their state\n"
		     "\n"
		     "exit: 0 ok, 1 the daemon refused, 2 usage, 3 no daemon there\n");
}

static bool valid_daemon_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static void socket_path(const char *daemon, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.sock", runtime_dir, daemon);
}

/* Daemon names from the sockets present, sorted. */
static size_t find_daemons(char names[][64], size_t max)
{
	DIR *dir = opendir(runtime_dir);
	size_t n = 0;
	if (dir == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL && n < max;) {
		size_t len = strlen(e->d_name);
		if (len > 5 && len < 64 && strcmp(e->d_name + len - 5, ".sock") == 0) {
			snprintf(names[n], 64, "%.*s", (int)(len - 5), e->d_name);
			n++;
		}
	}
	closedir(dir);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static int exit_for_client_error(int rc)
{
	return rc == ARBOR_CLIENT_FAILED ? EXIT_REFUSED : EXIT_NO_DAEMON;
}

/* One request; prints a one-line error and returns the exit code on failure. */
int request(const char *daemon, const char *method, const char *path, const char *body,
		   struct arbor_client_response *resp)
{
	char sock[PATH_MAX], err[512];
	socket_path(daemon, sock, sizeof sock);
	int rc = arbor_client_request(sock, method, path, body, 30, resp, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "arborctl: %s: %s\n", daemon, err);
		return exit_for_client_error(rc);
	}
	return EXIT_OK;
}

const char *error_message(const cJSON *doc)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (cJSON_IsString(m))
		return m->valuestring;
	m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	return cJSON_IsString(m) ? m->valuestring : NULL;
}

const char *str_field(const cJSON *o, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : def;
}

double num_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void format_uptime(double s, char *out, size_t len)
{
	if (isnan(s))
		snprintf(out, len, "-");
	else if (s < 120)
		snprintf(out, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(out, len, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(out, len, "%.1fh", s / 3600);
	else
		snprintf(out, len, "%.1fd", s / 86400);
}

/* Prints a JSON value as indented "key: value" lines for people. */
void print_human(const cJSON *v, int depth)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		printf("%*s", depth * 2, "");
		if (c->string)
			printf("%s:", c->string);
		else
			printf("-");
		if (cJSON_IsObject(c) || (cJSON_IsArray(c) && c->child && (cJSON_IsObject(c->child) || cJSON_IsArray(c->child)))) {
			printf("\n");
			print_human(c, depth + 1);
		} else {
			char *text = cJSON_IsString(c) ? NULL : cJSON_PrintUnformatted(c);
			printf(" %s\n", text ? text : c->valuestring);
			cJSON_free(text);
		}
	}
}

/* GETs path from one daemon and parses the answer; NULL (with err set) when
 * the daemon is not there or did not answer JSON. */
static cJSON *get_json(const char *daemon, const char *path, char *err, size_t errlen)
{
	char sock[PATH_MAX];
	socket_path(daemon, sock, sizeof sock);
	struct arbor_client_response r;
	if (arbor_client_request(sock, "GET", path, NULL, 10, &r, err, errlen) != 0)
		return NULL;
	cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
	arbor_client_response_free(&r);
	if (doc == NULL)
		snprintf(err, errlen, "unreadable answer");
	return doc;
}

void print_json(cJSON *doc)
{
	char *text = cJSON_Print(doc);
	printf("%s\n", text);
	cJSON_free(text);
}

/* The daemons found in the runtime dir; 0 with a message when there are none. */
static size_t find_daemons_or_say(char names[][64], size_t max)
{
	size_t n = find_daemons(names, max);
	if (n == 0)
		fprintf(stderr, "arborctl: no daemon sockets in %s (are the daemons running? try --runtime-dir)\n",
			runtime_dir);
	return n;
}

static int cmd_status(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "arborctl: status takes at most one daemon\n");
		return EXIT_USAGE;
	}
	if (argc == 1) {
		if (!valid_daemon_name(argv[0])) {
			fprintf(stderr, "arborctl: %s is not a daemon name\n", argv[0]);
			return EXIT_USAGE;
		}
		struct arbor_client_response r;
		int rc = request(argv[0], "GET", "/v1/status", NULL, &r);
		if (rc != EXIT_OK)
			return rc;
		cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
		if (json_output || doc == NULL)
			fwrite(r.body, 1, r.len, stdout);
		else
			print_human(doc, 0);
		cJSON_Delete(doc);
		rc = r.status == 200 ? EXIT_OK : EXIT_REFUSED;
		arbor_client_response_free(&r);
		return rc;
	}
	char names[64][64];
	size_t n = find_daemons_or_say(names, 64);
	if (n == 0)
		return EXIT_NO_DAEMON;
	cJSON *all = cJSON_CreateArray();
	if (!json_output)
		printf("%-10s %-9s %8s %8s %4s %-8s %s\n", "DAEMON", "HEALTH", "PID", "UPTIME", "GEN", "VERSION",
		       "EVENTS");
	int worst = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		char err[512];
		cJSON *doc = get_json(names[i], "/v1/status", err, sizeof err);
		if (doc == NULL) {
			if (!json_output)
				printf("%-10s %-9s %s\n", names[i], "down", err);
			cJSON *row = cJSON_CreateObject();
			cJSON_AddStringToObject(row, "daemon", names[i]);
			cJSON_AddStringToObject(row, "health", "down");
			cJSON_AddStringToObject(row, "error", err);
			cJSON_AddItemToArray(all, row);
			worst = EXIT_NO_DAEMON;
			continue;
		}
		char up[32];
		format_uptime(num_field(doc, "uptime_s"), up, sizeof up);
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(doc, "events");
		if (!json_output)
			printf("%-10s %-9s %8.0f %8s %4.0f %-8s %.0f\n", str_field(doc, "daemon", names[i]),
			       str_field(doc, "health", "?"), num_field(doc, "pid"), up, num_field(cfg, "generation"),
			       str_field(doc, "version", "?"), num_field(ev, "last_seq"));
		cJSON_AddItemToArray(all, doc);
	}
	if (json_output)
		print_json(all);
	cJSON_Delete(all);
	return worst;
}

static int cmd_health(int argc, char **argv)
{
	if (argc != 0) {
		fprintf(stderr, "arborctl: health takes no arguments\n");
		return EXIT_USAGE;
	}
	char names[64][64];
	size_t n = find_daemons_or_say(names, 64);
	if (n == 0)
		return EXIT_NO_DAEMON;
	int worst = EXIT_OK;
	cJSON *all = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++) {
		char err[512];
		cJSON *doc = get_json(names[i], "/v1/healthz", err, sizeof err);
		const char *health = doc ? str_field(doc, "health", "?") : "down";
		if (strcmp(health, "ok") != 0 && worst == EXIT_OK)
			worst = EXIT_REFUSED;
		if (!json_output) {
			printf("%-10s %-9s", names[i], health);
			const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(doc, "reasons");
			for (const cJSON *x = reasons ? reasons->child : NULL; x; x = x->next)
				if (cJSON_IsString(x))
					printf(" %s%s", x->valuestring, x->next ? ";" : "");
			if (doc == NULL)
				printf(" %s", err);
			printf("\n");
		}
		if (doc == NULL) {
			doc = cJSON_CreateObject();
			cJSON_AddStringToObject(doc, "health", "down");
		}
		cJSON_AddItemToObject(all, names[i], doc);
	}
	if (json_output)
		print_json(all);
	cJSON_Delete(all);
	return worst;
}

static void print_event_human(const cJSON *e)
{
	printf("%6.0f %s %-7s %-20s %-12s %s\n", num_field(e, "seq"), str_field(e, "time", "-"),
	       str_field(e, "severity", "-"), str_field(e, "type", "-"), str_field(e, "subject", "-"),
	       str_field(e, "message", ""));
}

static int print_event_line(void *ctx, const char *text, size_t len)
{
	if (json_output) {
		printf("%.*s\n", (int)len, text);
	} else {
		cJSON *e = cJSON_ParseWithLength(text, len);
		if (e)
			print_event_human(e);
		cJSON_Delete(e);
	}
	fflush(stdout);
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	static const struct option options[] = {
		{ "follow", no_argument, NULL, 'f' }, { "since", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' }, { "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	bool follow = false;
	const char *since = NULL, *type = NULL, *limit = NULL;
	optind = 0; /* glibc: 0 fully resets getopt for a second argument vector */
	int opt;
	while ((opt = getopt_long(argc, argv, "fs:t:l:", options, NULL)) != -1) {
		switch (opt) {
		case 'f': follow = true; break;
		case 's': since = optarg; break;
		case 't': type = optarg; break;
		case 'l': limit = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !valid_daemon_name(argv[optind])) {
		fprintf(stderr, "arborctl: events DAEMON [-f] [--since N] [--type GLOB] [--limit N]\n");
		return EXIT_USAGE;
	}
	const char *daemon = argv[optind];
	if (since && strspn(since, "0123456789") != strlen(since)) {
		fprintf(stderr, "arborctl: --since takes a sequence number\n");
		return EXIT_USAGE;
	}
	if (limit && strspn(limit, "0123456789") != strlen(limit)) {
		fprintf(stderr, "arborctl: --limit takes a number\n");
		return EXIT_USAGE;
	}
	struct arbor_buf path = { 0 };
	arbor_buf_puts(&path, "/v1/events?");
	if (follow)
		arbor_buf_puts(&path, "follow=1&");
	if (since)
		arbor_buf_printf(&path, "since=%s&", since);
	if (limit)
		arbor_buf_printf(&path, "limit=%s&", limit);
	if (type) {
		arbor_buf_puts(&path, "type=");
		for (const char *p = type; *p; p++) {
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_", *p))
				arbor_buf_append(&path, p, 1);
			else
				arbor_buf_printf(&path, "%%%02X", (unsigned char)*p);
		}
	}
	int rc;
	if (follow) {
		char sock[PATH_MAX], err[512];
		socket_path(daemon, sock, sizeof sock);
		int crc = arbor_client_stream(sock, path.data, print_event_line, NULL, err, sizeof err);
		rc = crc == 0 ? EXIT_OK : exit_for_client_error(crc);
		if (crc != 0)
			fprintf(stderr, "arborctl: %s: %s\n", daemon, err);
	} else {
		struct arbor_client_response r;
		rc = request(daemon, "GET", path.data, NULL, &r);
		if (rc == EXIT_OK) {
			cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
			if (r.status != 200) {
				fprintf(stderr, "arborctl: %s: %s\n", daemon, doc ? error_message(doc) : "refused");
				rc = EXIT_REFUSED;
			} else if (json_output || doc == NULL) {
				fwrite(r.body, 1, r.len, stdout);
			} else {
				const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
				for (const cJSON *e = events ? events->child : NULL; e; e = e->next)
					print_event_human(e);
			}
			cJSON_Delete(doc);
			arbor_client_response_free(&r);
		}
	}
	arbor_buf_free(&path);
	return rc;
}

/* POSTs a command to one daemon; prints its answer. */
static int run_command(const char *daemon, const char *command)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/commands/%s", command);
	struct arbor_client_response r;
	int rc = request(daemon, "POST", path, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
	const cJSON *accepted = cJSON_GetObjectItemCaseSensitive(doc, "accepted");
	bool ok = r.status >= 200 && r.status < 300 && (accepted == NULL || cJSON_IsTrue(accepted));
	if (json_output) {
		fwrite(r.body, 1, r.len, stdout);
	} else {
		const char *msg = doc ? error_message(doc) : NULL;
		printf("%s: %s%s%s\n", daemon, ok ? command : "refused", msg ? ": " : "", msg ? msg : "");
	}
	cJSON_Delete(doc);
	arbor_client_response_free(&r);
	return ok ? EXIT_OK : EXIT_REFUSED;
}

static int cmd_command(const char *command, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "arborctl: %s DAEMON|all\n", command);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "all") != 0) {
		if (!valid_daemon_name(argv[0])) {
			fprintf(stderr, "arborctl: %s is not a daemon name\n", argv[0]);
			return EXIT_USAGE;
		}
		return run_command(argv[0], command);
	}
	char names[64][64];
	size_t n = find_daemons(names, 64);
	if (n == 0) {
		fprintf(stderr, "arborctl: no daemon sockets in %s\n", runtime_dir);
		return EXIT_NO_DAEMON;
	}
	int worst = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		int rc = run_command(names[i], command);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

static int cmd_raw(const char *method, int argc, char **argv)
{
	bool post = strcmp(method, "POST") == 0;
	if (argc < 2 || argc > (post ? 3 : 2)) {
		fprintf(stderr, "arborctl: %s DAEMON PATH%s\n", post ? "post" : "get", post ? " [JSON]" : "");
		return EXIT_USAGE;
	}
	if (!valid_daemon_name(argv[0]) || argv[1][0] != '/') {
		fprintf(stderr, "arborctl: expected a daemon name and a path starting with /\n");
		return EXIT_USAGE;
	}
	if (post && argc == 3) {
		cJSON *check = cJSON_Parse(argv[2]);
		if (check == NULL) {
			fprintf(stderr, "arborctl: the body is not valid JSON\n");
			return EXIT_USAGE;
		}
		cJSON_Delete(check);
	}
	struct arbor_client_response r;
	int rc = request(argv[0], method, argv[1], post && argc == 3 ? argv[2] : NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	fwrite(r.body, 1, r.len, stdout);
	if (r.len && r.body[r.len - 1] != '\n')
		putchar('\n');
	rc = r.status >= 200 && r.status < 300 ? EXIT_OK : EXIT_REFUSED;
	arbor_client_response_free(&r);
	return rc;
}

#define DEFAULT_MACHINE_ID_FILE "/etc/machine-id"
#define DEFAULT_SUBNET_STATE_DIR "/var/lib/arbor/machine"

/* The machine-id from /etc/machine-id (or the file given); a message on failure. */
static bool read_machine_id(const char *path, char id[ARBOR_MACHINE_ID_LEN + 1])
{
	char err[PATH_MAX + 100];
	if (arbor_machine_id_read_file(path, id, err, sizeof err) != 0) {
		fprintf(stderr, "arborctl: %s (give --machine-id)\n", err);
		return false;
	}
	return true;
}

/* The subnet id of iface from the table in state_dir; exit code on failure. */
static int lookup_subnet_id(const char *state_dir, const char *iface, uint16_t *id)
{
	struct arbor_subnet_ids t;
	char err[512];
	int rc = arbor_subnet_ids_load(&t, state_dir, ARBOR_SUBNET_IDS_FILE, err, sizeof err);
	if (rc == 0) {
		rc = arbor_subnet_ids_lookup(&t, iface);
		if (rc == -ENOENT)
			snprintf(err, sizeof err, "%s has no subnet id in %s/%s (give --subnet-id)", iface, state_dir,
				 ARBOR_SUBNET_IDS_FILE);
	}
	arbor_subnet_ids_free(&t);
	if (rc < 0) {
		fprintf(stderr, "arborctl: %s\n", err);
		return EXIT_REFUSED;
	}
	*id = (uint16_t)rc;
	return EXIT_OK;
}

static int cmd_addr(int argc, char **argv)
{
	static const struct option options[] = {
		{ "machine-id", required_argument, NULL, 'm' }, { "iface", required_argument, NULL, 'i' },
		{ "subnet-id", required_argument, NULL, 's' },  { "host", required_argument, NULL, 'H' },
		{ "state", required_argument, NULL, 'S' },      { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *machine_arg = NULL, *iface = NULL, *subnet_arg = NULL, *host = NULL, *state_dir = NULL;
	optind = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'm': machine_arg = optarg; break;
		case 'i': iface = optarg; break;
		case 's': subnet_arg = optarg; break;
		case 'H': host = optarg; break;
		case 'S': state_dir = optarg; break;
		case 'j': json_output = true; break;
		default: return EXIT_USAGE;
		}
	}
	char machine_id[ARBOR_MACHINE_ID_LEN + 1];
	if (optind != argc) {
		fprintf(stderr, "arborctl: addr [--machine-id ID] [--iface NAME [--state DIR] | --subnet-id N] [--host HOST-ID]\n");
		return EXIT_USAGE;
	}
	if (machine_arg && arbor_machine_id_normalize(machine_arg, machine_id) != 0) {
		fprintf(stderr, "arborctl: --machine-id takes a machine-id (32 hex digits, not all zero)\n");
		return EXIT_USAGE;
	}
	if (iface && subnet_arg) {
		fprintf(stderr, "arborctl: give --iface or --subnet-id, not both\n");
		return EXIT_USAGE;
	}
	if (state_dir && !iface) {
		fprintf(stderr, "arborctl: --state only goes with --iface\n");
		return EXIT_USAGE;
	}
	if (iface && !arbor_subnet_name_valid(iface)) {
		fprintf(stderr, "arborctl: %s is not an interface name\n", iface);
		return EXIT_USAGE;
	}
	unsigned long subnet_value = 0;
	if (subnet_arg) {
		char *end;
		errno = 0;
		subnet_value = strtoul(subnet_arg, &end, 10);
		if (subnet_arg[0] < '0' || subnet_arg[0] > '9' || *end != '\0' || errno != 0 || subnet_value > 65535) {
			fprintf(stderr, "arborctl: --subnet-id takes a number from 0 to 65535\n");
			return EXIT_USAGE;
		}
	}
	if (host && host[0] == '\0') {
		fprintf(stderr, "arborctl: --host takes a non-empty host id\n");
		return EXIT_USAGE;
	}
	if (!machine_arg && !read_machine_id(DEFAULT_MACHINE_ID_FILE, machine_id))
		return EXIT_REFUSED;
	uint16_t subnet_id = (uint16_t)subnet_value;
	if (iface) {
		int rc = lookup_subnet_id(state_dir ? state_dir : DEFAULT_SUBNET_STATE_DIR, iface, &subnet_id);
		if (rc != EXIT_OK)
			return rc;
	}
	bool have_subnet = iface || subnet_arg;

	/* Every value below is valid by now: the derivation cannot fail. */
	struct in6_addr prefix, subnet, address;
	uint8_t iid[8];
	char prefix_text[ARBOR_ADDR_STRLEN], subnet_text[ARBOR_ADDR_STRLEN], iid_text[20], address_text[ARBOR_ADDR_STRLEN];
	if (arbor_addr_machine_prefix(machine_id, &prefix) != 0 || (host && arbor_addr_interface_id(host, iid) != 0)) {
		fprintf(stderr, "arborctl: cannot derive the address\n");
		return EXIT_REFUSED;
	}
	arbor_addr_subnet(&prefix, subnet_id, &subnet);
	address = subnet;
	if (host)
		memcpy(&address.s6_addr[8], iid, sizeof iid);
	arbor_addr_format(&prefix, 48, prefix_text, sizeof prefix_text);
	arbor_addr_format(&subnet, 64, subnet_text, sizeof subnet_text);
	arbor_addr_format(&address, -1, address_text, sizeof address_text);
	if (host)
		arbor_addr_format_iid(iid, iid_text);

	if (json_output) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "machine_id", machine_id);
		cJSON_AddStringToObject(doc, "prefix", prefix_text);
		if (iface)
			cJSON_AddStringToObject(doc, "interface", iface);
		if (have_subnet) {
			cJSON_AddNumberToObject(doc, "subnet_id", subnet_id);
			cJSON_AddStringToObject(doc, "subnet", subnet_text);
		}
		if (host) {
			cJSON_AddStringToObject(doc, "host_id", host);
			cJSON_AddStringToObject(doc, "interface_id", iid_text);
		}
		if (have_subnet && host)
			cJSON_AddStringToObject(doc, "address", address_text);
		print_json(doc);
		cJSON_Delete(doc);
		return EXIT_OK;
	}
	printf("prefix %s\n", prefix_text);
	if (have_subnet)
		printf("subnet %s\n", subnet_text);
	if (host)
		printf("interface-id %s\n", iid_text);
	if (have_subnet && host)
		printf("address %s\n", address_text);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	arbor_alloc_init();
	static const struct option options[] = {
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "+r:jh", options, NULL)) != -1) {
		switch (opt) {
		case 'r': runtime_dir = optarg; break;
		case 'j': json_output = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("arborctl %s\n", ARBOR_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	int rest = argc - optind - 1;
	char **args = argv + optind + 1;
	if (strcmp(cmd, "status") == 0)
		return cmd_status(rest, args);
	if (strcmp(cmd, "health") == 0)
		return cmd_health(rest, args);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(rest + 1, args - 1);
	if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "renew") == 0 || strcmp(cmd, "stop") == 0)
		return cmd_command(cmd, rest, args);
	if (strcmp(cmd, "get") == 0)
		return cmd_raw("GET", rest, args);
	if (strcmp(cmd, "post") == 0)
		return cmd_raw("POST", rest, args);
	if (strcmp(cmd, "addr") == 0)
		return cmd_addr(rest + 1, args - 1);
	if (strcmp(cmd, "overlay") == 0)
		return cmd_overlay(rest, args);
	if (strcmp(cmd, "wg") == 0)
		return cmd_wg(rest, args);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "arborctl: unknown command %s\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
