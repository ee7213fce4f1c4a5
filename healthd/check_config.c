/* Parsing healthd.checks[]. Each kind has its own keys; a key that does not
 * belong to the check's kind is an error, like any unknown key, so a typo never
 * silently turns into a default. */
#include "check_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "xalloc.h"

static const char *const kind_names[] = { "icmp", "tcp", "http", "dns", "daemon", "exec" };

const char *check_kind_name(enum check_kind kind)
{
	return kind_names[kind];
}

int split_host_port(const char *text, char **host, uint16_t *port, uint16_t default_port)
{
	const char *colon;
	size_t hlen;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close == text + 1)
			return -EINVAL;
		hlen = (size_t)(close - text - 1);
		text++;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && close[1] != ':')
			return -EINVAL;
	} else {
		colon = strrchr(text, ':');
		/* A bare IPv6 address has several colons and no port. */
		if (colon && strchr(text, ':') != colon)
			colon = NULL;
		hlen = colon ? (size_t)(colon - text) : strlen(text);
	}
	if (hlen == 0)
		return -EINVAL;
	if (colon) {
		char *end = NULL;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
			return -EINVAL;
		*port = (uint16_t)p;
	} else {
		if (default_port == 0)
			return -EINVAL;
		*port = default_port;
	}
	*host = xstrndup(text, hlen);
	for (char *c = *host; *c; c++)
		if (isspace((unsigned char)*c) || *c == '/' || *c == '[' || *c == ']')
			return -EINVAL;
	return 0;
}

static bool valid_check_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* An argv from a JSON array of strings: absolute program path, no shell. */
static char **parse_argv(struct arbor_cfg_walk *w, const cJSON *arr, const char *key)
{
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > 64) {
		arbor_cfg_error(w, key, "must be an array of 1 to 64 strings: the program and its arguments");
		return NULL;
	}
	size_t n = (size_t)cJSON_GetArraySize(arr);
	char **argv = xcalloc(n + 1, sizeof *argv);
	size_t i = 0;
	for (const cJSON *a = arr->child; a; a = a->next, i++) {
		if (!cJSON_IsString(a)) {
			arbor_cfg_error(w, key, "element %zu is not a string", i);
			for (size_t k = 0; k < i; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
		argv[i] = xstrdup(a->valuestring);
	}
	if (argv[0][0] != '/')
		arbor_cfg_error(w, key, "\"%s\" must be an absolute path (no shell, no PATH search)", argv[0]);
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void parse_action(struct arbor_cfg_walk *w, const cJSON *node, struct action_spec *a)
{
	static const char *const keys[] = { "when", "post", "exec", "timeout", NULL };
	static const char *const post_keys[] = { "daemon", "socket", "command", "body", NULL };
	if (!arbor_cfg_object(w, node, keys))
		return;
	char *when = NULL;
	arbor_cfg_string(w, node, "when", "any", &when);
	if (when && strcmp(when, "any") == 0)
		a->when = ACTION_ON_ANY;
	else if (when && strcmp(when, "failing") == 0)
		a->when = ACTION_ON_FAILING;
	else if (when && strcmp(when, "passing") == 0)
		a->when = ACTION_ON_PASSING;
	else
		arbor_cfg_error(w, "when", "\"%s\" is not one of any, failing, passing", when ? when : "");
	free(when);
	arbor_cfg_duration(w, node, "timeout", 10, 3600, &a->timeout);
	const cJSON *post = cJSON_GetObjectItemCaseSensitive(node, "post");
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(node, "exec");
	if ((post == NULL) == (exec == NULL)) {
		arbor_cfg_error(w, NULL, "an action has exactly one of \"post\" or \"exec\"");
		return;
	}
	if (exec) {
		a->exec_argv = parse_argv(w, exec, "exec");
		return;
	}
	size_t saved = arbor_cfg_enter(w, "post");
	if (arbor_cfg_object(w, post, post_keys)) {
		arbor_cfg_string(w, post, "daemon", NULL, &a->post_daemon);
		arbor_cfg_string(w, post, "socket", NULL, &a->post_socket);
		arbor_cfg_string(w, post, "command", NULL, &a->post_command);
		if ((a->post_daemon == NULL) == (a->post_socket == NULL))
			arbor_cfg_error(w, NULL, "give exactly one of \"daemon\" (a name) or \"socket\" (a path)");
		if (a->post_daemon && !arbor_valid_dns_label(a->post_daemon))
			arbor_cfg_error(w, "daemon", "\"%s\" is not a daemon name", a->post_daemon);
		if (a->post_socket && a->post_socket[0] != '/')
			arbor_cfg_error(w, "socket", "\"%s\" must be an absolute path", a->post_socket);
		if (a->post_command == NULL)
			arbor_cfg_error(w, "command", "missing (e.g. \"renew\")");
		else if (!arbor_valid_dns_label(a->post_command))
			arbor_cfg_error(w, "command", "\"%s\" is not a command name", a->post_command);
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(post, "body");
		if (body && !cJSON_IsObject(body))
			arbor_cfg_error(w, "body", "must be a JSON object");
		else if (body)
			a->post_body = cJSON_PrintUnformatted(body);
	}
	arbor_cfg_leave(w, saved);
}

static void free_action(struct action_spec *a)
{
	free(a->post_socket);
	free(a->post_daemon);
	free(a->post_command);
	cJSON_free(a->post_body);
	free_argv(a->exec_argv);
}

/* Keys allowed for every kind, then per kind. */
static const char *const common_keys[] = { "name", "kind", "target", "interval", "timeout", "rise",
					   "fall", "critical", "on_change" };

static bool key_allowed(enum check_kind kind, const char *key)
{
	for (size_t i = 0; i < sizeof common_keys / sizeof common_keys[0]; i++)
		if (strcmp(key, common_keys[i]) == 0)
			return true;
	static const char *const per_kind[][4] = {
		[CHECK_ICMP] = { "interface" },
		[CHECK_TCP] = { "interface" },
		[CHECK_HTTP] = { "interface", "socket", "expect" },
		[CHECK_DNS] = { "query", "expect" },
		[CHECK_DAEMON] = { "accept_degraded" },
		[CHECK_EXEC] = { "command" },
	};
	for (size_t i = 0; i < 4 && per_kind[kind][i]; i++)
		if (strcmp(key, per_kind[kind][i]) == 0)
			return true;
	return false;
}

static void parse_http_target(struct arbor_cfg_walk *w, struct check_spec *c)
{
	const char *url = c->target;
	if (strncmp(url, "https://", 8) == 0) {
		arbor_cfg_error(w, "target", "\"%s\": https is not supported (healthd speaks plain HTTP)", url);
		return;
	}
	if (strncmp(url, "http://", 7) != 0) {
		arbor_cfg_error(w, "target", "\"%s\" is not an http:// URL", url);
		return;
	}
	const char *hostport = url + 7;
	const char *slash = strchr(hostport, '/');
	char *hp = slash ? xstrndup(hostport, (size_t)(slash - hostport)) : xstrdup(hostport);
	c->http_path = xstrdup(slash ? slash : "/");
	c->http_host = xstrdup(hp);
	if (split_host_port(hp, &c->host, &c->port, 80) != 0)
		arbor_cfg_error(w, "target", "\"%s\": bad host or port", url);
	free(hp);
	for (const char *p = c->http_path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			arbor_cfg_error(w, "target", "\"%s\": the path has spaces or control characters", url);
			break;
		}
}

static void parse_expect(struct arbor_cfg_walk *w, const cJSON *node, struct check_spec *c)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(node, "expect");
	if (expect == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "expect");
	if (c->kind == CHECK_HTTP) {
		static const char *const keys[] = { "status", "body_contains", NULL };
		if (arbor_cfg_object(w, expect, keys)) {
			unsigned long long status;
			arbor_cfg_uint(w, expect, "status", 0, 100, 599, &status);
			c->expect_status = (int)status;
			arbor_cfg_string(w, expect, "body_contains", NULL, &c->expect_body);
		}
	} else {
		static const char *const keys[] = { "rcode", "answer", NULL };
		if (arbor_cfg_object(w, expect, keys)) {
			char *rcode = NULL;
			arbor_cfg_string(w, expect, "rcode", "NOERROR", &rcode);
			c->dns_rcode = rcode ? arbor_dns_rcode_from_name(rcode) : 0;
			if (c->dns_rcode < 0)
				arbor_cfg_error(w, "rcode", "\"%s\" is not an rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...)",
						rcode);
			free(rcode);
			arbor_cfg_string(w, expect, "answer", NULL, &c->dns_answer);
		}
	}
	arbor_cfg_leave(w, saved);
}

static void parse_dns(struct arbor_cfg_walk *w, const cJSON *node, struct check_spec *c)
{
	if (split_host_port(c->target, &c->host, &c->port, 53) != 0)
		arbor_cfg_error(w, "target", "\"%s\" is not a server address (host, host:port or [v6]:port)", c->target);
	const cJSON *query = cJSON_GetObjectItemCaseSensitive(node, "query");
	size_t saved = arbor_cfg_enter(w, "query");
	static const char *const keys[] = { "name", "type", NULL };
	if (query == NULL) {
		arbor_cfg_error(w, NULL, "missing: a dns check needs {\"name\": ..., \"type\": ...}");
	} else if (arbor_cfg_object(w, query, keys)) {
		char *type = NULL;
		arbor_cfg_string(w, query, "name", NULL, &c->dns_name);
		arbor_cfg_string(w, query, "type", "A", &type);
		if (c->dns_name == NULL)
			arbor_cfg_error(w, "name", "missing");
		else if (!arbor_valid_dns_name(c->dns_name) && strcmp(c->dns_name, ".") != 0)
			arbor_cfg_error(w, "name", "\"%s\" is not a DNS name", c->dns_name);
		int t = type ? arbor_dns_type_from_name(type) : -1;
		if (t <= 0)
			arbor_cfg_error(w, "type", "\"%s\" is not a record type", type ? type : "");
		else
			c->dns_type = (uint16_t)t;
		free(type);
	}
	arbor_cfg_leave(w, saved);
	parse_expect(w, node, c);
}

static bool parse_check(struct arbor_cfg_walk *w, const cJSON *node, struct check_spec *c)
{
	if (!cJSON_IsObject(node)) {
		arbor_cfg_error(w, NULL, "a check must be an object");
		return false;
	}
	char *kind = NULL;
	arbor_cfg_string(w, node, "kind", NULL, &kind);
	int k = -1;
	for (size_t i = 0; kind && i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			k = (int)i;
	if (k < 0) {
		arbor_cfg_error(w, "kind", "\"%s\" is not a check kind (icmp, tcp, http, dns, daemon, exec)",
				kind ? kind : "(missing)");
		free(kind);
		return false;
	}
	free(kind);
	c->kind = (enum check_kind)k;
	for (const cJSON *item = node->child; item; item = item->next)
		if (!key_allowed(c->kind, item->string))
			arbor_cfg_error(w, item->string, "unknown key for a %s check", kind_names[k]);
	arbor_cfg_string(w, node, "name", NULL, &c->name);
	if (c->name == NULL)
		arbor_cfg_error(w, "name", "missing");
	else if (!valid_check_name(c->name))
		arbor_cfg_error(w, "name", "\"%s\": use letters, digits, '.', '_' and '-' (at most 64)", c->name);
	arbor_cfg_duration(w, node, "interval", 5, 86400, &c->interval);
	arbor_cfg_duration(w, node, "timeout", c->interval < 2 ? c->interval : 2, 86400, &c->timeout);
	if (c->timeout > c->interval)
		arbor_cfg_error(w, "timeout", "%g s is longer than the interval (%g s)", c->timeout, c->interval);
	unsigned long long rise, fall;
	arbor_cfg_uint(w, node, "rise", 2, 1, 100, &rise);
	arbor_cfg_uint(w, node, "fall", 3, 1, 100, &fall);
	c->rise = (unsigned)rise;
	c->fall = (unsigned)fall;
	arbor_cfg_bool(w, node, "critical", false, &c->critical);
	arbor_cfg_string(w, node, "interface", NULL, &c->interface);
	if (c->interface && (strlen(c->interface) == 0 || strlen(c->interface) > 15 || strchr(c->interface, '/')))
		arbor_cfg_error(w, "interface", "\"%s\" is not an interface name", c->interface);

	const cJSON *target = cJSON_GetObjectItemCaseSensitive(node, "target");
	if (c->kind == CHECK_EXEC) {
		if (target)
			arbor_cfg_error(w, "target", "an exec check has no target; give \"command\"");
		const cJSON *command = cJSON_GetObjectItemCaseSensitive(node, "command");
		c->exec_argv = command ? parse_argv(w, command, "command") : NULL;
		if (command == NULL)
			arbor_cfg_error(w, "command", "missing: [\"/path/to/program\", \"arg\", ...]");
		c->target = xstrdup(c->exec_argv ? c->exec_argv[0] : "");
	} else {
		arbor_cfg_string(w, node, "target", NULL, &c->target);
		if (c->target == NULL || c->target[0] == '\0') {
			arbor_cfg_error(w, "target", "missing");
			free(c->target);
			c->target = xstrdup("");
		}
	}
	if (c->target[0] != '\0') {
		switch (c->kind) {
		case CHECK_ICMP:
			c->host = xstrdup(c->target);
			if (strchr(c->target, '/') || strchr(c->target, ' '))
				arbor_cfg_error(w, "target", "\"%s\" is not a host", c->target);
			break;
		case CHECK_TCP:
			if (split_host_port(c->target, &c->host, &c->port, 0) != 0)
				arbor_cfg_error(w, "target", "\"%s\" is not host:port (or [v6]:port)", c->target);
			break;
		case CHECK_HTTP:
			parse_http_target(w, c);
			arbor_cfg_string(w, node, "socket", NULL, &c->socket_path);
			if (c->socket_path && c->socket_path[0] != '/')
				arbor_cfg_error(w, "socket", "\"%s\" must be an absolute path", c->socket_path);
			if (c->socket_path && c->interface)
				arbor_cfg_error(w, "interface", "a source interface applies to TCP, not to a Unix socket");
			parse_expect(w, node, c);
			break;
		case CHECK_DNS:
			parse_dns(w, node, c);
			break;
		case CHECK_DAEMON:
			if (c->target[0] == '/')
				c->socket_path = xstrdup(c->target);
			else if (!arbor_valid_dns_label(c->target))
				arbor_cfg_error(w, "target", "\"%s\" is neither a daemon name nor a socket path", c->target);
			arbor_cfg_bool(w, node, "accept_degraded", false, &c->accept_degraded);
			break;
		case CHECK_EXEC:
			break;
		}
	}
	const cJSON *on_change = cJSON_GetObjectItemCaseSensitive(node, "on_change");
	if (on_change) {
		size_t saved = arbor_cfg_enter(w, "on_change");
		if (!cJSON_IsArray(on_change)) {
			arbor_cfg_error(w, NULL, "must be an array of actions");
		} else {
			c->nactions = (size_t)cJSON_GetArraySize(on_change);
			c->actions = xcalloc(c->nactions, sizeof *c->actions);
			size_t i = 0;
			for (const cJSON *a = on_change->child; a; a = a->next, i++) {
				size_t s2 = arbor_cfg_enter_index(w, i);
				parse_action(w, a, &c->actions[i]);
				arbor_cfg_leave(w, s2);
			}
		}
		arbor_cfg_leave(w, saved);
	}
	c->definition = cJSON_PrintUnformatted(node);
	return true;
}

static void free_check(struct check_spec *c)
{
	free(c->name);
	free(c->target);
	cJSON_free(c->definition);
	free(c->host);
	free(c->interface);
	free(c->socket_path);
	free(c->http_path);
	free(c->http_host);
	free(c->expect_body);
	free(c->dns_name);
	free(c->dns_answer);
	free_argv(c->exec_argv);
	for (size_t i = 0; i < c->nactions; i++)
		free_action(&c->actions[i]);
	free(c->actions);
}

void healthd_config_free(void *p)
{
	struct healthd_config *cfg = p;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nchecks; i++)
		free_check(&cfg->checks[i]);
	free(cfg->checks);
	free(cfg);
}

void *healthd_config_parse(struct arbor_cfg_walk *w, const cJSON *sec)
{
	static const char *const keys[] = { "checks", "max_parallel_exec", NULL };
	struct healthd_config *cfg = xcalloc(1, sizeof *cfg);
	arbor_cfg_object(w, sec, keys);
	unsigned long long par;
	arbor_cfg_uint(w, sec, "max_parallel_exec", 32, 1, 4096, &par);
	cfg->max_parallel_exec = (unsigned)par;
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(sec, "checks");
	if (checks == NULL)
		return cfg;
	size_t saved = arbor_cfg_enter(w, "checks");
	if (!cJSON_IsArray(checks)) {
		arbor_cfg_error(w, NULL, "must be an array of checks");
		arbor_cfg_leave(w, saved);
		return cfg;
	}
	size_t n = (size_t)cJSON_GetArraySize(checks);
	if (n > 100000) {
		arbor_cfg_error(w, NULL, "%zu checks: at most 100000", n);
		arbor_cfg_leave(w, saved);
		return cfg;
	}
	cfg->checks = xcalloc(n, sizeof *cfg->checks);
	size_t i = 0;
	for (const cJSON *node = checks->child; node; node = node->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		if (parse_check(w, node, &cfg->checks[cfg->nchecks]))
			cfg->nchecks++;
		arbor_cfg_leave(w, s2);
	}
	/* Names are how status, events and reload find a check: they must be unique. */
	for (size_t a = 0; a < cfg->nchecks; a++)
		for (size_t b = 0; b < a; b++)
			if (cfg->checks[a].name && cfg->checks[b].name &&
			    strcmp(cfg->checks[a].name, cfg->checks[b].name) == 0) {
				size_t s2 = arbor_cfg_enter_index(w, a);
				arbor_cfg_error(w, "name", "\"%s\" is already the name of checks[%zu]", cfg->checks[a].name,
						b);
				arbor_cfg_leave(w, s2);
			}
	arbor_cfg_leave(w, saved);
	return cfg;
}
