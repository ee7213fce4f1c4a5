/* arborctl wg: wgd's peers from the command line (GET/POST/PATCH/DELETE
 * /v1/peers on wgd's socket). `arborctl wg qr NAME` prints the client config
 * as a QR code of UTF-8 half blocks, for a phone to scan off the terminal. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arborctl.h"
#include "buf.h"

static void wg_usage(FILE *out)
{
	fprintf(out, "usage: arborctl wg COMMAND\n"
		     "\n"
		     "  list [--interface IF]              peers with their status\n"
		     "  show NAME                          one peer\n"
		     "  add NAME [--interface IF] [--public-key KEY] [--allowed-ips P,P] [--keepalive S]\n"
		     "           [--psk] [--expires TIME] [--disabled] [--qr]\n"
		     "                                     a new peer; without --public-key its key pair is made\n"
		     "                                     and its config printed (the only time the private key is shown)\n"
		     "  set NAME [--enable|--disable] [--allowed-ips P,P|--no-allowed-ips] [--keepalive S]\n"
		     "           [--expires TIME|--never]\n"
		     "  del NAME\n"
		     "  config NAME                        the client's wg-quick file\n"
		     "  qr NAME [--svg]                    the same as a QR code (UTF-8 blocks, or SVG)\n"
		     "  rotate-key [IF]                    a new interface key (every exported config goes stale)\n");
}

/* Sends one request to wgd; prints the answer's error; returns the exit code
 * and the parsed body in *doc (when JSON). */
static int call(const char *method, const char *path, const char *body, cJSON **doc, struct arbor_client_response *keep)
{
	struct arbor_client_response r = { 0 };
	if (keep)
		*keep = r;
	int rc = request("wgd", method, path, body, &r);
	*doc = NULL;
	if (rc != EXIT_OK)
		return rc;
	*doc = cJSON_ParseWithLength(r.body, r.len);
	if (r.status < 200 || r.status >= 300) {
		const char *msg = *doc ? error_message(*doc) : NULL;
		fprintf(stderr, "arborctl: wgd: %s\n", msg ? msg : "refused");
		rc = EXIT_REFUSED;
	}
	if (keep)
		*keep = r;
	else
		arbor_client_response_free(&r);
	return rc;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static cJSON *prefix_list(const char *csv)
{
	cJSON *arr = cJSON_CreateArray();
	char *copy = strdup(csv), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t)
			cJSON_AddItemToArray(arr, cJSON_CreateString(t));
	free(copy);
	return arr;
}

static void add_expires(cJSON *body, const char *t)
{
	char *end;
	double v = strtod(t, &end);
	if (*t && *end == '\0')
		cJSON_AddNumberToObject(body, "expires", v);
	else
		cJSON_AddStringToObject(body, "expires", t);
}

static bool whole_number(const char *s, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > max)
		return false;
	*out = v;
	return true;
}

/* The JSON body of add or set from their options (each verb's option table
 * holds only its own letters); NULL after a usage error, said. */
static cJSON *body_from_options(int argc, char **argv, const struct option *options, bool *qr)
{
	cJSON *body = cJSON_CreateObject();
	long ka;
	optind = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'i': cJSON_AddStringToObject(body, "interface", optarg); break;
		case 'k': cJSON_AddStringToObject(body, "public_key", optarg); break;
		case 'a': cJSON_AddItemToObject(body, "allowed_ips", prefix_list(optarg)); break;
		case 'A': cJSON_AddItemToObject(body, "allowed_ips", cJSON_CreateArray()); break;
		case 's': cJSON_AddTrueToObject(body, "preshared_key"); break;
		case 'e': add_expires(body, optarg); break;
		case 'n': cJSON_AddNullToObject(body, "expires"); break;
		case 'E': cJSON_AddTrueToObject(body, "enabled"); break;
		case 'd':
		case 'D': cJSON_AddFalseToObject(body, "enabled"); break;
		case 'q': *qr = true; break;
		case 'p':
			if (whole_number(optarg, 65535, &ka)) {
				cJSON_AddNumberToObject(body, "persistent_keepalive", (double)ka);
				break;
			}
			fprintf(stderr, "arborctl: --keepalive takes seconds (0-65535)\n");
			/* fall through */
		default:
			cJSON_Delete(body);
			return NULL;
		}
	}
	return body;
}

static void print_table(const cJSON *peers)
{
	printf("%-20s %-10s %-15s %-8s %-12s %10s %10s %s\n", "PEER", "IF", "IPV4", "STATUS", "HANDSHAKE", "RX", "TX",
	       "ENDPOINT");
	for (const cJSON *p = peers ? peers->child : NULL; p; p = p->next) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "status");
		const cJSON *online = cJSON_GetObjectItemCaseSensitive(s, "online");
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(s, "reason");
		const cJSON *age = cJSON_GetObjectItemCaseSensitive(s, "last_handshake_age_s");
		const cJSON *ep = cJSON_GetObjectItemCaseSensitive(s, "endpoint");
		char hs[32] = "-";
		if (cJSON_IsNumber(age))
			snprintf(hs, sizeof hs, "%.0fs ago", age->valuedouble);
		const cJSON *v4 = cJSON_GetObjectItemCaseSensitive(p, "ipv4");
		printf("%-20s %-10s %-15s %-8s %-12s %10.0f %10.0f %s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "interface")),
		       cJSON_IsString(v4) ? v4->valuestring : "-",
		       cJSON_IsTrue(online) ? "online" : cJSON_IsString(reason) ? reason->valuestring : "offline", hs,
		       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "rx_bytes")),
		       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "tx_bytes")),
		       cJSON_IsString(ep) ? ep->valuestring : "-");
	}
}

static int wg_list(int argc, char **argv)
{
	const char *ifname = NULL;
	if (argc == 2 && strcmp(argv[0], "--interface") == 0)
		ifname = argv[1];
	else if (argc != 0)
		return wg_usage(stderr), EXIT_USAGE;
	char path[96];
	snprintf(path, sizeof path, "/v1/peers%s%.32s", ifname ? "?interface=" : "", ifname ? ifname : "");
	cJSON *doc;
	int rc = call("GET", path, NULL, &doc, NULL);
	if (rc == EXIT_OK) {
		if (json_output)
			print_json(doc);
		else
			print_table(cJSON_GetObjectItemCaseSensitive(doc, "peers"));
	}
	cJSON_Delete(doc);
	return rc;
}

/* GETs /v1/peers/NAME[/suffix] and prints the body as it is. */
static int wg_raw(const char *name, const char *suffix)
{
	if (!valid_name(name)) {
		fprintf(stderr, "arborctl: %s is not a peer name\n", name);
		return EXIT_USAGE;
	}
	char path[128];
	snprintf(path, sizeof path, "/v1/peers/%s%s", name, suffix);
	cJSON *doc;
	struct arbor_client_response r;
	int rc = call("GET", path, NULL, &doc, &r);
	if (rc == EXIT_OK) {
		if (doc && !json_output && suffix[0] == '\0')
			print_human(doc, 0);
		else
			fwrite(r.body, 1, r.len, stdout);
	}
	arbor_client_response_free(&r);
	cJSON_Delete(doc);
	return rc;
}

static int wg_add(int argc, char **argv)
{
	static const struct option options[] = {
		{ "interface", required_argument, NULL, 'i' }, { "public-key", required_argument, NULL, 'k' },
		{ "allowed-ips", required_argument, NULL, 'a' }, { "keepalive", required_argument, NULL, 'p' },
		{ "psk", no_argument, NULL, 's' }, { "expires", required_argument, NULL, 'e' },
		{ "disabled", no_argument, NULL, 'd' }, { "qr", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	bool qr = false;
	cJSON *body = body_from_options(argc, argv, options, &qr);
	if (body == NULL)
		return EXIT_USAGE;
	if (optind != argc - 1 || !valid_name(argv[optind])) {
		fprintf(stderr, "arborctl: wg add NAME [options] (a name of a-z, 0-9 and '-')\n");
		cJSON_Delete(body);
		return EXIT_USAGE;
	}
	cJSON_AddStringToObject(body, "name", argv[optind]);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON *doc;
	int rc = call("POST", "/v1/peers", text, &doc, NULL);
	free(text);
	if (rc == EXIT_OK) {
		const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "config");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "qr");
		if (json_output)
			print_json(doc);
		else if (qr && cJSON_IsString(code))
			fputs(code->valuestring, stdout);
		else if (cJSON_IsString(config))
			fputs(config->valuestring, stdout);
		else
			print_human(cJSON_GetObjectItemCaseSensitive(doc, "peer"), 0);
	}
	cJSON_Delete(doc);
	return rc;
}

static int wg_set(int argc, char **argv)
{
	static const struct option options[] = {
		{ "enable", no_argument, NULL, 'E' }, { "disable", no_argument, NULL, 'D' },
		{ "allowed-ips", required_argument, NULL, 'a' }, { "no-allowed-ips", no_argument, NULL, 'A' },
		{ "keepalive", required_argument, NULL, 'p' }, { "expires", required_argument, NULL, 'e' },
		{ "never", no_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	bool qr = false;
	cJSON *body = body_from_options(argc, argv, options, &qr);
	if (body == NULL)
		return EXIT_USAGE;
	if (optind != argc - 1 || !valid_name(argv[optind]) || body->child == NULL) {
		fprintf(stderr, "arborctl: wg set NAME with at least one change\n");
		cJSON_Delete(body);
		return EXIT_USAGE;
	}
	char path[96], *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	snprintf(path, sizeof path, "/v1/peers/%s", argv[optind]);
	cJSON *doc;
	int rc = call("PATCH", path, text, &doc, NULL);
	free(text);
	if (rc == EXIT_OK) {
		if (json_output)
			print_json(doc);
		else
			print_human(doc, 0);
	}
	cJSON_Delete(doc);
	return rc;
}

static int wg_del(int argc, char **argv)
{
	if (argc != 1 || !valid_name(argv[0])) {
		fprintf(stderr, "arborctl: wg del NAME\n");
		return EXIT_USAGE;
	}
	char path[96];
	snprintf(path, sizeof path, "/v1/peers/%s", argv[0]);
	cJSON *doc;
	int rc = call("DELETE", path, NULL, &doc, NULL);
	if (rc == EXIT_OK)
		printf("wgd: peer %s deleted\n", argv[0]);
	cJSON_Delete(doc);
	return rc;
}

static int wg_rotate(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "arborctl: wg rotate-key [INTERFACE]\n");
		return EXIT_USAGE;
	}
	cJSON *body = cJSON_CreateObject();
	if (argc == 1)
		cJSON_AddStringToObject(body, "interface", argv[0]);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON *doc;
	int rc = call("POST", "/v1/commands/rotate-key", text, &doc, NULL);
	free(text);
	if (rc == EXIT_OK) {
		const char *msg = error_message(doc);
		printf("wgd: %s\n", msg ? msg : "key rotated");
	}
	cJSON_Delete(doc);
	return rc;
}

int cmd_wg(int argc, char **argv)
{
	if (argc < 1) {
		wg_usage(stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[0];
	if (strcmp(verb, "list") == 0)
		return wg_list(argc - 1, argv + 1);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return wg_raw(argv[1], "");
	if (strcmp(verb, "config") == 0 && argc == 2)
		return wg_raw(argv[1], "/config");
	if (strcmp(verb, "qr") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "--svg") == 0)))
		return wg_raw(argv[1], argc == 3 ? "/qr?format=svg" : "/qr?format=utf8");
	if (strcmp(verb, "add") == 0)
		return wg_add(argc, argv);
	if (strcmp(verb, "set") == 0)
		return wg_set(argc, argv);
	if (strcmp(verb, "del") == 0)
		return wg_del(argc - 1, argv + 1);
	if (strcmp(verb, "rotate-key") == 0)
		return wg_rotate(argc - 1, argv + 1);
	if (strcmp(verb, "help") == 0) {
		wg_usage(stdout);
		return EXIT_OK;
	}
	wg_usage(stderr);
	return EXIT_USAGE;
}
