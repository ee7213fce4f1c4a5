/* The configuration file: the `machine` and `control` sections every daemon
 * shares, the check of top-level section names, and loading a whole file into
 * a struct arbor_config (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine_id.h"
#include "xalloc.h"

/* Every top-level section arbor knows. A typo in a section name is an error for
 * every daemon, even though each reads only `machine`, `control` and its own. */
static const char *const top_level_sections[] = {
	"machine", "control", "healthd", "dhcp4d", "dhcp6pd", "dnsd", "overlayd", "wgd",
	"fixture", /* the contract-test daemon in tests/fixture */
	NULL,
};

static const size_t max_config_bytes = 16 * 1024 * 1024;

bool arbor_valid_dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool arbor_valid_dns_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	char copy[256];
	memcpy(copy, s, n + 1);
	if (copy[n - 1] == '.')
		copy[n - 1] = '\0';
	char *save = NULL;
	size_t labels = 0;
	for (char *label = strtok_r(copy, ".", &save); label; label = strtok_r(NULL, ".", &save)) {
		if (!arbor_valid_dns_label(label))
			return false;
		labels++;
	}
	/* strtok_r skips empty labels; "a..b" would pass without this. */
	return labels > 0 && strstr(s, "..") == NULL && s[0] != '.';
}

static void parse_machine(struct arbor_cfg_walk *w, const cJSON *sec, struct arbor_machine *m)
{
	static const char *const keys[] = { "name", "domain", "machine_id", "machine_id_file", "parent", "subnets6_dir", NULL };
	size_t saved = arbor_cfg_enter(w, "machine");
	char host[256] = "localhost";
	if (gethostname(host, sizeof host - 1) != 0 || !arbor_valid_dns_label(host))
		snprintf(host, sizeof host, "localhost");
	if (sec == NULL) {
		m->name = xstrdup(host);
		m->domain = xstrdup("home.arpa");
		m->machine_id_file = xstrdup("/etc/machine-id");
		arbor_cfg_leave(w, saved);
		return;
	}
	arbor_cfg_object(w, sec, keys);
	arbor_cfg_string(w, sec, "name", host, &m->name);
	if (m->name && !arbor_valid_dns_label(m->name))
		arbor_cfg_error(w, "name", "\"%s\" is not a DNS label (letters, digits, '-', at most 63)", m->name);
	arbor_cfg_string(w, sec, "domain", "home.arpa", &m->domain);
	if (m->domain && !arbor_valid_dns_name(m->domain))
		arbor_cfg_error(w, "domain", "\"%s\" is not a DNS name", m->domain);
	arbor_cfg_string(w, sec, "machine_id", NULL, &m->machine_id);
	char normalized[ARBOR_MACHINE_ID_LEN + 1];
	if (m->machine_id && arbor_machine_id_normalize(m->machine_id, normalized) != 0)
		arbor_cfg_error(w, "machine_id", "\"%s\" is not 32 hexadecimal digits (a machine id, not all zero)",
				m->machine_id);
	else if (m->machine_id)
		memcpy(m->machine_id, normalized, sizeof normalized);
	arbor_cfg_string(w, sec, "machine_id_file", "/etc/machine-id", &m->machine_id_file);
	arbor_cfg_string(w, sec, "subnets6_dir", NULL, &m->subnets6_dir);
	if (m->subnets6_dir && m->subnets6_dir[0] != '/')
		arbor_cfg_error(w, "subnets6_dir", "\"%s\" is not an absolute path", m->subnets6_dir);
	const cJSON *parent = cJSON_GetObjectItemCaseSensitive(sec, "parent");
	if (parent) {
		static const char *const pkeys[] = { "name", "interface", "address", NULL };
		size_t s2 = arbor_cfg_enter(w, "parent");
		if (arbor_cfg_object(w, parent, pkeys)) {
			arbor_cfg_string(w, parent, "name", NULL, &m->parent_name);
			if (m->parent_name && !arbor_valid_dns_label(m->parent_name))
				arbor_cfg_error(w, "name", "\"%s\" is not a DNS label", m->parent_name);
			arbor_cfg_string(w, parent, "interface", NULL, &m->parent_interface);
			arbor_cfg_string(w, parent, "address", NULL, &m->parent_address);
		}
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
}

static bool is_daemon_section(const char *name)
{
	for (size_t i = 2; top_level_sections[i]; i++) /* past machine and control */
		if (strcmp(top_level_sections[i], name) == 0)
			return true;
	return false;
}

/* A command name: what follows /v1/commands/ (letters, digits, '-', '_'). */
static bool is_command_name(const char *s)
{
	if (s[0] == '\0' || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/* A non-empty array of names, each accepted by valid; NULL-terminated copy. */
static char **parse_names(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, bool (*valid)(const char *),
			  const char *what)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > 64) {
		arbor_cfg_error(w, key, "must be an array of 1 to 64 %s", what);
		return NULL;
	}
	char **names = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *names);
	size_t n = 0, i = 0;
	for (const cJSON *a = arr->child; a; a = a->next, i++) {
		size_t saved = arbor_cfg_enter(w, key);
		arbor_cfg_enter_index(w, i);
		if (!cJSON_IsString(a) || !valid(a->valuestring)) {
			char shown[80];
			arbor_cfg_render(a, shown, sizeof shown);
			arbor_cfg_error(w, NULL, "%s is not one of the %s", shown, what);
		} else {
			names[n++] = xstrdup(a->valuestring);
		}
		arbor_cfg_leave(w, saved);
	}
	return names;
}

static void free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

bool arbor_grant_covers(const struct arbor_grant *g, const char *daemon, const char *command)
{
	bool daemon_named = false;
	for (size_t i = 0; g->daemons && g->daemons[i]; i++)
		daemon_named |= strcmp(g->daemons[i], daemon) == 0;
	if (!daemon_named || command == NULL)
		return daemon_named;
	for (size_t i = 0; g->commands && g->commands[i]; i++)
		if (strcmp(g->commands[i], command) == 0)
			return true;
	return false;
}

/* control.grants[i]: {"user" | "group", "daemons": [...], "commands": [...]}. */
static void parse_grant(struct arbor_cfg_walk *w, const cJSON *node, struct arbor_grant *g)
{
	static const char *const keys[] = { "user", "group", "daemons", "commands", NULL };
	if (!arbor_cfg_object(w, node, keys))
		return;
	arbor_cfg_string(w, node, "user", NULL, &g->user);
	arbor_cfg_string(w, node, "group", NULL, &g->group);
	if ((g->user == NULL) == (g->group == NULL)) {
		arbor_cfg_error(w, NULL, "a grant names exactly one of \"user\" or \"group\"");
	} else if (g->user) {
		struct passwd *pw = getpwnam(g->user);
		if (pw == NULL)
			arbor_cfg_error(w, "user", "user \"%s\" does not exist", g->user);
		else
			g->id = pw->pw_uid;
	} else {
		struct group *gr = getgrnam(g->group);
		if (gr == NULL)
			arbor_cfg_error(w, "group", "group \"%s\" does not exist", g->group);
		else
			g->id = gr->gr_gid;
	}
	g->daemons = parse_names(w, node, "daemons", is_daemon_section, "arbor daemons");
	g->commands = parse_names(w, node, "commands", is_command_name, "command names");
}

static void parse_grants(struct arbor_cfg_walk *w, const cJSON *sec, struct arbor_control *c)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(sec, "grants");
	if (list == NULL)
		return;
	if (!cJSON_IsArray(list)) {
		arbor_cfg_error(w, "grants", "must be an array of grants");
		return;
	}
	c->ngrants = (size_t)cJSON_GetArraySize(list);
	c->grants = xcalloc(c->ngrants ? c->ngrants : 1, sizeof *c->grants);
	size_t saved = arbor_cfg_enter(w, "grants");
	size_t i = 0;
	for (const cJSON *node = list->child; node; node = node->next, i++) {
		size_t s2 = arbor_cfg_enter_index(w, i);
		parse_grant(w, node, &c->grants[i]);
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
}

static void parse_control(struct arbor_cfg_walk *w, const cJSON *sec, struct arbor_control *c)
{
	static const char *const keys[] = { "socket_mode", "admin_group", "grants", "events", "http", NULL };
	static const char *const event_keys[] = { "rotate_bytes", "memory", NULL };
	static const char *const http_keys[] = { "max_body_bytes", "max_connections", "max_streams_per_peer",
						 "idle_timeout", NULL };
	c->socket_mode = 0660;
	c->events_rotate_bytes = 4 * 1024 * 1024;
	c->events_memory = 1024;
	c->http_max_body_bytes = 64 * 1024;
	c->http_max_connections = 4096;
	c->http_max_streams_per_peer = 64;
	c->http_idle_timeout = 30;
	if (sec == NULL)
		return;
	size_t saved = arbor_cfg_enter(w, "control");
	if (!arbor_cfg_object(w, sec, keys)) {
		arbor_cfg_leave(w, saved);
		return;
	}
	char *mode = NULL;
	if (arbor_cfg_string(w, sec, "socket_mode", "0660", &mode) && mode) {
		char *end = NULL;
		unsigned long v = strtoul(mode, &end, 8);
		if (mode[0] == '\0' || *end != '\0' || v > 0777)
			arbor_cfg_error(w, "socket_mode", "\"%s\" is not an octal file mode like \"0660\"", mode);
		else
			c->socket_mode = (mode_t)v;
	}
	free(mode);
	arbor_cfg_string(w, sec, "admin_group", NULL, &c->admin_group);
	if (c->admin_group) {
		struct group *g = getgrnam(c->admin_group);
		if (g == NULL)
			arbor_cfg_error(w, "admin_group", "group \"%s\" does not exist", c->admin_group);
		else
			c->admin_gid = g->gr_gid;
	}
	parse_grants(w, sec, c);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(sec, "events");
	if (ev) {
		size_t s2 = arbor_cfg_enter(w, "events");
		if (arbor_cfg_object(w, ev, event_keys)) {
			arbor_cfg_uint(w, ev, "rotate_bytes", c->events_rotate_bytes, 4096, 1ULL << 40,
				       &c->events_rotate_bytes);
			arbor_cfg_uint(w, ev, "memory", c->events_memory, 16, 1000000, &c->events_memory);
		}
		arbor_cfg_leave(w, s2);
	}
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(sec, "http");
	if (http) {
		size_t s2 = arbor_cfg_enter(w, "http");
		if (arbor_cfg_object(w, http, http_keys)) {
			arbor_cfg_uint(w, http, "max_body_bytes", c->http_max_body_bytes, 1024, 64 * 1024 * 1024,
				       &c->http_max_body_bytes);
			arbor_cfg_uint(w, http, "max_connections", c->http_max_connections, 1, 1000000,
				       &c->http_max_connections);
			arbor_cfg_uint(w, http, "max_streams_per_peer", c->http_max_streams_per_peer, 1, 1000000,
				       &c->http_max_streams_per_peer);
			arbor_cfg_duration(w, http, "idle_timeout", c->http_idle_timeout, 86400,
					   &c->http_idle_timeout);
		}
		arbor_cfg_leave(w, s2);
	}
	arbor_cfg_leave(w, saved);
}

static void free_machine(struct arbor_machine *m)
{
	free(m->name);
	free(m->domain);
	free(m->machine_id);
	free(m->machine_id_file);
	free(m->subnets6_dir);
	free(m->parent_name);
	free(m->parent_interface);
	free(m->parent_address);
}

void arbor_config_free(struct arbor_config *cfg)
{
	if (cfg == NULL)
		return;
	free_machine(&cfg->machine);
	free(cfg->control.admin_group);
	for (size_t i = 0; i < cfg->control.ngrants; i++) {
		struct arbor_grant *g = &cfg->control.grants[i];
		free(g->user);
		free(g->group);
		free_names(g->daemons);
		free_names(g->commands);
	}
	free(cfg->control.grants);
	if (cfg->daemon && cfg->daemon_free)
		cfg->daemon_free(cfg->daemon);
	free(cfg->path);
	free(cfg);
}

struct arbor_config *arbor_config_load_text(const char *display, const char *text, size_t len,
					    const char *section, arbor_section_parse_fn parse,
					    arbor_section_free_fn free_fn, char **errors)
{
	struct arbor_cfg_walk w = { .file = display };
	struct arbor_config *cfg = xcalloc(1, sizeof *cfg);
	cfg->path = xstrdup(display);
	cfg->daemon_free = free_fn;
	cJSON *root = arbor_jsonc_parse(&w, text, len);
	if (root != NULL) {
		if (!cJSON_IsObject(root)) {
			arbor_cfg_error(&w, NULL, "the document must be a JSON object");
		} else {
			arbor_cfg_object(&w, root, top_level_sections);
			parse_machine(&w, cJSON_GetObjectItemCaseSensitive(root, "machine"), &cfg->machine);
			parse_control(&w, cJSON_GetObjectItemCaseSensitive(root, "control"), &cfg->control);
			const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, section);
			cJSON *empty = NULL;
			if (sec == NULL)
				sec = empty = cJSON_CreateObject();
			size_t saved = arbor_cfg_enter(&w, section);
			int before = w.nerrors;
			cfg->daemon = parse ? parse(&w, sec) : NULL;
			if (parse && cfg->daemon == NULL && w.nerrors == before)
				arbor_cfg_error(&w, NULL, "rejected");
			arbor_cfg_leave(&w, saved);
			cJSON_Delete(empty);
		}
		cJSON_Delete(root);
	}
	if (w.nerrors > 0) {
		arbor_config_free(cfg);
		*errors = arbor_buf_steal(&w.errors, NULL);
		return NULL;
	}
	arbor_buf_free(&w.errors);
	*errors = NULL;
	return cfg;
}

struct arbor_config *arbor_config_load(const char *path, const char *section, arbor_section_parse_fn parse,
				       arbor_section_free_fn free_fn, char **errors)
{
	struct arbor_buf text = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		struct arbor_buf e = { 0 };
		arbor_buf_printf(&e, "%s: cannot open: %s\n", path, strerror(errno));
		*errors = arbor_buf_steal(&e, NULL);
		return NULL;
	}
	for (;;) {
		arbor_buf_reserve(&text, 65536);
		ssize_t n = read(fd, text.data + text.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || text.len > max_config_bytes) {
			struct arbor_buf e = { 0 };
			arbor_buf_printf(&e, "%s: cannot read: %s\n", path,
					 n < 0 ? strerror(errno) : "file larger than 16 MiB");
			*errors = arbor_buf_steal(&e, NULL);
			close(fd);
			arbor_buf_free(&text);
			return NULL;
		}
		if (n == 0)
			break;
		text.len += (size_t)n;
	}
	close(fd);
	struct arbor_config *cfg =
		arbor_config_load_text(path, text.data ? text.data : "", text.len, section, parse, free_fn, errors);
	arbor_buf_free(&text);
	return cfg;
}

int arbor_machine_id(const struct arbor_machine *m, char out[33], char *err, size_t errlen)
{
	if (m->machine_id) {
		snprintf(out, 33, "%s", m->machine_id);
		return 0;
	}
	return arbor_machine_id_read_file(m->machine_id_file, out, err, errlen);
}
