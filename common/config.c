/* Configuration loader. The walk keeps a key path so that every message reads
 * like `arbor.json: control.socket_mode: "999" is not an octal file mode`; all
 * errors are collected (not just the first) so one --check-config shows them all. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

/* Every top-level section arbor knows. A typo in a section name is an error for
 * every daemon, even though each reads only `machine`, `control` and its own. */
static const char *const top_level_sections[] = {
	"machine", "control", "healthd", "dhcp4d", "dhcp6pd", "dnsd", "overlayd", "wgd",
	"fixture", /* the contract-test daemon in tests/fixture */
	NULL,
};

static const size_t max_config_bytes = 16 * 1024 * 1024;

size_t arbor_cfg_enter(struct arbor_cfg_walk *w, const char *key)
{
	size_t saved = strlen(w->path);
	if (saved == 0)
		snprintf(w->path, sizeof w->path, "%s", key);
	else
		snprintf(w->path + saved, sizeof w->path - saved, ".%s", key);
	return saved;
}

size_t arbor_cfg_enter_index(struct arbor_cfg_walk *w, size_t index)
{
	size_t saved = strlen(w->path);
	snprintf(w->path + saved, sizeof w->path - saved, "[%zu]", index);
	return saved;
}

void arbor_cfg_leave(struct arbor_cfg_walk *w, size_t saved)
{
	if (saved < sizeof w->path)
		w->path[saved] = '\0';
}

void arbor_cfg_error(struct arbor_cfg_walk *w, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *sep = (w->path[0] && key) ? "." : "";
	if (w->path[0] || key)
		arbor_buf_printf(&w->errors, "%s: %s%s%s: %s\n", w->file, w->path, sep, key ? key : "", msg);
	else
		arbor_buf_printf(&w->errors, "%s: %s\n", w->file, msg);
	w->nerrors++;
}

void arbor_cfg_render(const cJSON *v, char *buf, size_t len)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	if (text == NULL) {
		snprintf(buf, len, "(value)");
		return;
	}
	if (strlen(text) > 60)
		snprintf(buf, len, "%.57s...", text);
	else
		snprintf(buf, len, "%s", text);
	cJSON_free(text);
}

static const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "an invalid value";
}

bool arbor_cfg_object(struct arbor_cfg_walk *w, const cJSON *node, const char *const allowed[])
{
	if (!cJSON_IsObject(node)) {
		arbor_cfg_error(w, NULL, "must be an object, not %s", json_type_name(node));
		return false;
	}
	bool ok = true;
	for (const cJSON *item = node->child; item; item = item->next) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], item->string) == 0)
				known = true;
		if (!known) {
			arbor_cfg_error(w, item->string, "unknown key");
			ok = false;
			continue;
		}
		for (const cJSON *prev = node->child; prev != item; prev = prev->next)
			if (strcmp(prev->string, item->string) == 0) {
				arbor_cfg_error(w, item->string, "duplicate key");
				ok = false;
				break;
			}
	}
	return ok;
}

bool arbor_cfg_string(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, const char *def,
		      char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (v == NULL) {
		*out = def ? xstrdup(def) : NULL;
		return true;
	}
	if (!cJSON_IsString(v)) {
		arbor_cfg_error(w, key, "must be a string, not %s", json_type_name(v));
		*out = def ? xstrdup(def) : NULL;
		return false;
	}
	*out = xstrdup(v->valuestring);
	return true;
}

bool arbor_cfg_bool(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, bool def, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	if (!cJSON_IsBool(v)) {
		arbor_cfg_error(w, key, "must be true or false, not %s", json_type_name(v));
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

bool arbor_cfg_number(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
		      double min, double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		arbor_cfg_error(w, key, "must be a number, not %s", json_type_name(v));
		return false;
	}
	if (v->valuedouble < min || v->valuedouble > max) {
		char shown[80];
		arbor_cfg_render(v, shown, sizeof shown);
		arbor_cfg_error(w, key, "%s is out of range [%g, %g]", shown, min, max);
		return false;
	}
	*out = v->valuedouble;
	return true;
}

bool arbor_cfg_uint(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, unsigned long long def,
		    unsigned long long min, unsigned long long max, unsigned long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	char shown[80];
	arbor_cfg_render(v, shown, sizeof shown);
	/* Range first, so the cast below is defined; then "whole" is a round trip. */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1.8e19 ||
	    v->valuedouble != (double)(unsigned long long)v->valuedouble) {
		arbor_cfg_error(w, key, "%s is not a whole number", shown);
		return false;
	}
	if (v->valuedouble < (double)min || v->valuedouble > (double)max) {
		arbor_cfg_error(w, key, "%s is out of range [%llu, %llu]", shown, min, max);
		return false;
	}
	*out = (unsigned long long)v->valuedouble;
	return true;
}

bool arbor_cfg_duration(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
			double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	char shown[80];
	arbor_cfg_render(v, shown, sizeof shown);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		arbor_cfg_error(w, key, "%s is not a duration (seconds as a number)", shown);
		return false;
	}
	if (v->valuedouble <= 0 || v->valuedouble > max) {
		arbor_cfg_error(w, key, "%s must be more than 0 and at most %g seconds", shown, max);
		return false;
	}
	*out = v->valuedouble;
	return true;
}

void arbor_jsonc_strip_comments(char *t, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (t[i] == '\\' && i + 1 < len)
				i++;
			else if (t[i] == '"')
				in_string = false;
			continue;
		}
		if (t[i] == '"') {
			in_string = true;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			size_t j = i;
			t[j++] = ' ';
			t[j++] = ' ';
			while (j < len && !(t[j] == '*' && j + 1 < len && t[j + 1] == '/')) {
				if (t[j] != '\n')
					t[j] = ' ';
				j++;
			}
			/* An unterminated comment blanks the rest; the parser then reports
			 * a truncated document, which is what it is. */
			if (j < len)
				t[j++] = ' ';
			if (j < len)
				t[j++] = ' ';
			i = j - 1;
		}
	}
}

cJSON *arbor_jsonc_parse(struct arbor_cfg_walk *w, const char *text, size_t len)
{
	if (memchr(text, '\0', len) != NULL) {
		arbor_cfg_error(w, NULL, "contains a NUL byte");
		return NULL;
	}
	char *copy = xmalloc(len + 1);
	if (copy == NULL) {
		arbor_cfg_error(w, NULL, "out of memory");
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	arbor_jsonc_strip_comments(copy, len);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(copy, &end, true);
	if (root == NULL) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		size_t off = (at && at >= copy && at <= copy + len) ? (size_t)(at - copy) : len;
		/* cJSON stops just past the offending token: point at the token. */
		while (off > 0 && (off == len || isspace((unsigned char)copy[off])) && isspace((unsigned char)copy[off - 1]))
			off--;
		if (off > 0 && (off == len || isspace((unsigned char)copy[off])))
			off--;
		int line = 1, col = 1;
		for (size_t i = 0; i < off; i++) {
			if (copy[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		char near[24] = "";
		size_t k = 0;
		for (size_t i = off; i < len && k < 16 && copy[i] != '\n'; i++)
			near[k++] = isprint((unsigned char)copy[i]) ? copy[i] : '?';
		near[k] = '\0';
		arbor_buf_printf(&w->errors, "%s:%d:%d: invalid JSON%s%s%s\n", w->file, line, col,
				 k ? " near '" : " (unexpected end)", near, k ? "'" : "");
		w->nerrors++;
	}
	free(copy);
	return root;
}

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

static bool valid_hex_id(const char *s)
{
	if (strlen(s) != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static void parse_machine(struct arbor_cfg_walk *w, const cJSON *sec, struct arbor_machine *m)
{
	static const char *const keys[] = { "name", "domain", "machine_id", "machine_id_file", "parent", NULL };
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
	if (m->machine_id && !valid_hex_id(m->machine_id))
		arbor_cfg_error(w, "machine_id", "\"%s\" is not 32 hexadecimal digits", m->machine_id);
	arbor_cfg_string(w, sec, "machine_id_file", "/etc/machine-id", &m->machine_id_file);
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

static void parse_control(struct arbor_cfg_walk *w, const cJSON *sec, struct arbor_control *c)
{
	static const char *const keys[] = { "socket_mode", "admin_group", "events", "http", NULL };
	static const char *const event_keys[] = { "rotate_bytes", "memory", NULL };
	static const char *const http_keys[] = { "max_body_bytes", "max_connections", "idle_timeout", NULL };
	c->socket_mode = 0660;
	c->events_rotate_bytes = 4 * 1024 * 1024;
	c->events_memory = 1024;
	c->http_max_body_bytes = 64 * 1024;
	c->http_max_connections = 4096;
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
	FILE *f = fopen(m->machine_id_file, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", m->machine_id_file, strerror(errno));
		return -errno;
	}
	char line[128] = "";
	char *got = fgets(line, sizeof line, f);
	fclose(f);
	if (got)
		line[strcspn(line, "\r\n")] = '\0';
	if (!got || !valid_hex_id(line)) {
		snprintf(err, errlen, "%s: not a machine id (32 hexadecimal digits)", m->machine_id_file);
		return -EINVAL;
	}
	for (size_t i = 0; i < 32; i++)
		out[i] = (char)tolower((unsigned char)line[i]);
	out[32] = '\0';
	return 0;
}
