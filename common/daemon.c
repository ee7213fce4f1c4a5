/* The daemon skeleton (see daemon.h): what every arbor daemon does the same way
 * lives here, so each daemon's main.c holds only its own job. */
#include "daemon.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "boot_id.h"
#include "http_server.h"
#include "json.h"
#include "log.h"
#include "fileio.h"
#include "statefile.h"
#include "clock.h"
#include "unix_socket.h"
#include "xalloc.h"

struct arbor_daemon {
	const struct arbor_daemon_def *def;
	struct event_base *base;
	struct arbor_config *cfg;
	char *config_path;
	char *runtime_dir;
	char *state_dir;
	char subnets6_dir[PATH_MAX]; /* machine.subnets6_dir's default, beside state_dir */
	char socket_path[PATH_MAX];
	ino_t socket_ino;
	int listen_fd;
	struct arbor_http_server *http;
	struct arbor_events *events;
	struct arbor_route *routes;
	size_t nroutes;
	void *userdata;
	uint64_t generation;
	struct timespec loaded_at;
	struct timespec started_at;
	char loaded_at_text[40]; /* formatted once: status is a hot path */
	char started_at_text[40];
	double started_mono;
	uint64_t reloads_ok;
	uint64_t reloads_rejected;
	uint64_t commands_rejected;
	bool stopping;
	struct event *sig_term, *sig_int, *sig_hup, *stop_fallback;
	struct event *watchdog; /* WATCHDOG=1 to systemd from the loop (WatchdogSec=) */
};

struct event_base *arbor_daemon_base(struct arbor_daemon *d) { return d->base; }
struct arbor_events *arbor_daemon_events(struct arbor_daemon *d) { return d->events; }
const struct arbor_config *arbor_daemon_config(struct arbor_daemon *d) { return d->cfg; }
const char *arbor_daemon_state_dir(struct arbor_daemon *d) { return d->state_dir; }
const char *arbor_daemon_runtime_dir(struct arbor_daemon *d) { return d->runtime_dir; }

/* One subnet-id table per machine, shared by every daemon that numbers interfaces
 * (dnsd, dhcp6pd, wgd): /var/lib/arbor/machine beside /var/lib/arbor/<daemon>. */
const char *arbor_daemon_subnets6_dir(struct arbor_daemon *d)
{
	if (d->cfg->machine.subnets6_dir)
		return d->cfg->machine.subnets6_dir;
	size_t len = strlen(d->state_dir);
	while (len > 1 && d->state_dir[len - 1] == '/')
		len--;
	size_t parent = len;
	while (parent > 0 && d->state_dir[parent - 1] != '/')
		parent--;
	if (parent == 0)
		snprintf(d->subnets6_dir, sizeof d->subnets6_dir, "machine");
	else
		snprintf(d->subnets6_dir, sizeof d->subnets6_dir, "%.*smachine", (int)parent, d->state_dir);
	return d->subnets6_dir;
}
void arbor_daemon_set_userdata(struct arbor_daemon *d, void *data) { d->userdata = data; }
void *arbor_daemon_userdata(struct arbor_daemon *d) { return d->userdata; }

int arbor_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || path[0] == '\0')
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}

void arbor_command_answer(struct arbor_http_response *resp, const char *name, bool accepted, int status,
			  const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "command", name);
	cJSON_AddBoolToObject(doc, "accepted", accepted);
	cJSON_AddStringToObject(doc, "message", message);
	arbor_resp_json(resp, status, doc);
}

cJSON *arbor_command_body(const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	size_t i = 0;
	while (i < req->body_len && strchr(" \t\r\n", req->body[i]))
		i++;
	if (i == req->body_len)
		return cJSON_CreateObject();
	cJSON *doc = cJSON_ParseWithLength(req->body, req->body_len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		arbor_resp_error(resp, 400, "bad_json", "the command body must be a JSON object");
		return NULL;
	}
	return doc;
}

void arbor_client_command_message(int rc, const char *ifname, const char *command, const char *state, char *msg,
				  size_t msglen)
{
	if (rc == 0)
		snprintf(msg, msglen, "%s: %s (now %s)", ifname, command, state);
	else if (rc == -ENETDOWN)
		snprintf(msg, msglen, "%s: no carrier", ifname);
	else if (rc == -EAGAIN)
		snprintf(msg, msglen, "%s: nothing to %s in state %s", ifname, command, state);
	else
		snprintf(msg, msglen, "%s: unknown command %s", ifname, command);
}

void arbor_command_per_client(const struct arbor_http_request *req, struct arbor_http_response *resp,
			      const char *command, const char *what, size_t n,
			      const char *(*ifname)(void *ctx, size_t i), arbor_client_command_fn *run, void *ctx)
{
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(body, "interface");
	if (ifn && !cJSON_IsString(ifn)) {
		cJSON_Delete(body);
		arbor_command_answer(resp, command, false, 400, "\"interface\" must be a string");
		return;
	}
	char msg[512] = "";
	int failures = 0;
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		if (ifn && strcmp(ifname(ctx, i), ifn->valuestring) != 0)
			continue;
		size_t used = strlen(msg);
		if (used + 2 >= sizeof msg)
			break;
		if (used)
			strcat(msg, "; ");
		used = strlen(msg);
		failures += run(ctx, i, command, msg + used, sizeof msg - used) < 0;
		done++;
	}
	if (done == 0 && ifn) {
		arbor_command_answer(resp, command, false, 404, "no %s client on interface \"%.32s\"", what,
				     ifn->valuestring);
		cJSON_Delete(body);
		return;
	}
	cJSON_Delete(body);
	if (done == 0)
		snprintf(msg, sizeof msg, "no %s clients are configured", what);
	bool ok = done > 0 && failures == 0;
	arbor_command_answer(resp, command, ok, ok ? 200 : done == 0 ? 404 : 409, "%s", msg);
}

static const char *health_name(enum arbor_health h)
{
	return h == ARBOR_HEALTH_OK ? "ok" : h == ARBOR_HEALTH_DEGRADED ? "degraded" : "failed";
}

static enum arbor_health daemon_health(struct arbor_daemon *d, cJSON *reasons)
{
	return d->def->health ? d->def->health(d, reasons) : ARBOR_HEALTH_OK;
}

/* ---- endpoints ---- */

static void handle_status(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "daemon", d->def->name);
	cJSON_AddStringToObject(doc, "version", ARBOR_VERSION);
	arbor_json_add_int(doc, "pid", getpid());
	cJSON_AddStringToObject(doc, "started_at", d->started_at_text);
	arbor_json_add_fixed(doc, "uptime_s", arbor_time_monotonic() - d->started_mono, 3);
	cJSON *reasons = cJSON_CreateArray();
	enum arbor_health h = daemon_health(d, reasons);
	cJSON_AddStringToObject(doc, "health", health_name(h));
	if (h != ARBOR_HEALTH_OK)
		cJSON_AddItemToObject(doc, "health_reasons", reasons);
	else
		cJSON_Delete(reasons);
	cJSON *config = cJSON_AddObjectToObject(doc, "config");
	cJSON_AddStringToObject(config, "path", d->config_path);
	arbor_json_add_int(config, "generation", (long long)d->generation);
	cJSON_AddStringToObject(config, "loaded_at", d->loaded_at_text);
	cJSON *events = cJSON_AddObjectToObject(doc, "events");
	arbor_json_add_int(events, "last_seq", (long long)arbor_events_last_seq(d->events));
	if (d->def->status)
		d->def->status(d, doc);
	arbor_resp_json(resp, 200, doc);
}

static void handle_healthz(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	cJSON *reasons = cJSON_CreateArray();
	enum arbor_health h = daemon_health(d, reasons);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "health", health_name(h));
	if (h == ARBOR_HEALTH_OK)
		cJSON_Delete(reasons);
	else
		cJSON_AddItemToObject(doc, "reasons", reasons);
	arbor_resp_json(resp, h == ARBOR_HEALTH_OK ? 200 : 503, doc);
}

struct events_wait {
	struct arbor_daemon *d;
	uint64_t since;
	uint64_t limit;
	char glob[128];
	bool has_glob;
};

static void events_answer(struct events_wait *w, struct arbor_http_response *resp)
{
	struct arbor_buf out = { 0 };
	arbor_events_query(w->d->events, w->since, w->has_glob ? w->glob : NULL, (size_t)w->limit, &out);
	arbor_buf_append(&out, "\n", 1);
	size_t len;
	char *body = arbor_buf_steal(&out, &len);
	arbor_resp_text(resp, 200, "application/json", body, len);
}

static bool events_poll(void *ctx, struct arbor_http_response *resp, bool timed_out)
{
	struct events_wait *w = ctx;
	if (!timed_out && !arbor_events_any_after(w->d->events, w->since, w->has_glob ? w->glob : NULL))
		return false;
	events_answer(w, resp);
	return true;
}

struct events_follow {
	struct arbor_daemon *d;
	uint64_t next;
	char glob[128];
	bool has_glob;
	char *pending;
	size_t pending_len, pending_off;
};

static void events_follow_free(void *ctx)
{
	struct events_follow *f = ctx;
	free(f->pending);
	free(f);
}

static ssize_t events_follow_read(void *ctx, char *buf, size_t max)
{
	struct events_follow *f = ctx;
	size_t n = 0;
	while (n < max) {
		if (f->pending_off < f->pending_len) {
			size_t take = f->pending_len - f->pending_off;
			if (take > max - n)
				take = max - n;
			memcpy(buf + n, f->pending + f->pending_off, take);
			f->pending_off += take;
			n += take;
			continue;
		}
		uint64_t last = arbor_events_last_seq(f->d->events);
		if (f->next > last)
			break;
		if (arbor_events_fell_behind(f->d->events, &f->next))
			/* The follower fell behind what memory holds: end the stream
			 * rather than skip events silently; it can reconnect with since. */
			return n > 0 ? (ssize_t)n : -1;
		const struct arbor_event_line *e = arbor_events_get(f->d->events, f->next++);
		if (e == NULL || (f->has_glob && fnmatch(f->glob, e->type, 0) != 0))
			continue;
		char *line = xrealloc(f->pending, e->len + 1);
		memcpy(line, e->json, e->len);
		line[e->len] = '\n';
		f->pending = line;
		f->pending_len = e->len + 1;
		f->pending_off = 0;
	}
	return (ssize_t)n;
}

static void handle_events(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	uint64_t since, limit, follow;
	double wait;
	const char *glob = arbor_query_get(&req->query, "type");
	if (!arbor_query_uint(&req->query, "since", 0, UINT64_MAX / 2, &since) ||
	    !arbor_query_uint(&req->query, "limit", 1000, 100000, &limit) ||
	    !arbor_query_uint(&req->query, "follow", 0, 1, &follow) ||
	    !arbor_query_seconds(&req->query, "wait", 0, 3600, &wait) || (glob && strlen(glob) >= 128)) {
		arbor_resp_error(resp, 400, "bad_query",
				 "since and limit are whole numbers, wait is seconds (at most 3600), follow is 0 or 1, "
				 "type is a glob of under 128 characters");
		return;
	}
	if (follow) {
		struct events_follow *f = xcalloc(1, sizeof *f);
		f->d = d;
		f->next = arbor_query_get(&req->query, "since") ? since + 1 : arbor_events_last_seq(d->events) + 1;
		if (glob) {
			f->has_glob = true;
			snprintf(f->glob, sizeof f->glob, "%s", glob);
		}
		arbor_resp_stream(resp, events_follow_read, f, events_follow_free);
		return;
	}
	struct events_wait *w = xcalloc(1, sizeof *w);
	w->d = d;
	w->since = since;
	w->limit = limit;
	if (glob) {
		w->has_glob = true;
		snprintf(w->glob, sizeof w->glob, "%s", glob);
	}
	if (wait <= 0 || arbor_events_any_after(d->events, since, w->has_glob ? w->glob : NULL)) {
		events_answer(w, resp);
		free(w);
		return;
	}
	arbor_resp_defer(resp, events_poll, w, free, wait);
}

static void handle_metrics(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	struct arbor_buf out = { 0 };
	arbor_buf_printf(&out,
			 "# HELP arbor_info The daemon and its version.\n# TYPE arbor_info gauge\n"
			 "arbor_info{daemon=\"%s\",version=\"%s\"} 1\n"
			 "# HELP arbor_uptime_seconds Seconds since the daemon started.\n"
			 "# TYPE arbor_uptime_seconds gauge\narbor_uptime_seconds %.3f\n"
			 "# HELP arbor_config_generation Configurations loaded since start.\n"
			 "# TYPE arbor_config_generation gauge\narbor_config_generation %llu\n"
			 "# HELP arbor_config_reloads_total Reloads, by result.\n"
			 "# TYPE arbor_config_reloads_total counter\n"
			 "arbor_config_reloads_total{result=\"applied\"} %llu\n"
			 "arbor_config_reloads_total{result=\"rejected\"} %llu\n"
			 "# HELP arbor_commands_rejected_total Commands refused to unauthorized peers.\n"
			 "# TYPE arbor_commands_rejected_total counter\narbor_commands_rejected_total %llu\n"
			 "# HELP arbor_events_total Events emitted since start.\n"
			 "# TYPE arbor_events_total counter\narbor_events_total %llu\n"
			 "# HELP arbor_events_last_seq Sequence number of the newest event.\n"
			 "# TYPE arbor_events_last_seq gauge\narbor_events_last_seq %llu\n",
			 d->def->name, ARBOR_VERSION, arbor_time_monotonic() - d->started_mono,
			 (unsigned long long)d->generation, (unsigned long long)d->reloads_ok,
			 (unsigned long long)d->reloads_rejected, (unsigned long long)d->commands_rejected,
			 (unsigned long long)arbor_events_total(d->events),
			 (unsigned long long)arbor_events_last_seq(d->events));
	arbor_http_server_metrics(d->http, &out);
	if (d->def->metrics)
		d->def->metrics(d, &out);
	size_t len;
	char *body = arbor_buf_steal(&out, &len);
	arbor_resp_text(resp, 200, "text/plain; version=0.0.4", body, len);
}

static bool daemon_has_command(const struct arbor_daemon_def *def, const char *name)
{
	if (strcmp(name, "reload") == 0 || strcmp(name, "renew") == 0 || strcmp(name, "stop") == 0)
		return true;
	for (size_t i = 0; i < def->ncommands; i++)
		if (strcmp(def->commands[i].name, name) == 0)
			return true;
	return false;
}

/* arbor_config_load, plus what only the daemon can check: a grant naming this
 * daemon names only commands it has (a typo would silently grant nothing). */
static struct arbor_config *load_config(const struct arbor_daemon_def *def, const char *path, char **errors)
{
	struct arbor_config *cfg = arbor_config_load(path, def->name, def->parse, def->free_config, errors);
	if (cfg == NULL)
		return NULL;
	struct arbor_buf e = { 0 };
	for (size_t i = 0; i < cfg->control.ngrants; i++) {
		const struct arbor_grant *g = &cfg->control.grants[i];
		if (!arbor_grant_covers(g, def->name, NULL))
			continue;
		for (size_t k = 0; g->commands[k]; k++)
			if (!daemon_has_command(def, g->commands[k])) {
				arbor_buf_printf(&e, "%s: control.grants[%zu].commands: \"%s\" is not a command of %s "
						 "(reload, renew, stop",
						 path, i, g->commands[k], def->name);
				for (size_t c = 0; c < def->ncommands; c++)
					arbor_buf_printf(&e, ", %s", def->commands[c].name);
				arbor_buf_puts(&e, ")\n");
			}
	}
	if (e.len == 0)
		return cfg;
	arbor_config_free(cfg);
	*errors = arbor_buf_steal(&e, NULL);
	return NULL;
}

/* The admin group and this daemon's grantees may connect even when they are
 * not in the socket's group (unix_socket.h). */
static int apply_socket_access(struct arbor_daemon *d, const struct arbor_config *cfg, char *err, size_t errlen)
{
	const struct arbor_control *c = &cfg->control;
	uid_t *users = xcalloc(c->ngrants + 1, sizeof *users);
	gid_t *groups = xcalloc(c->ngrants + 1, sizeof *groups);
	size_t nusers = 0, ngroups = 0;
	if (c->admin_group)
		groups[ngroups++] = c->admin_gid;
	for (size_t i = 0; i < c->ngrants; i++) {
		const struct arbor_grant *g = &c->grants[i];
		if (!arbor_grant_covers(g, d->def->name, NULL))
			continue;
		if (g->user)
			users[nusers++] = (uid_t)g->id;
		else
			groups[ngroups++] = (gid_t)g->id;
	}
	int rc = arbor_unix_socket_access(d->socket_path, c->socket_mode, users, nusers, groups, ngroups, err, errlen);
	free(users);
	free(groups);
	return rc;
}

/* Loads, validates and applies the config file; false leaves everything as it was. */
static bool daemon_reload(struct arbor_daemon *d, char *msg, size_t msglen)
{
	char *errors = NULL;
	struct arbor_config *next = load_config(d->def, d->config_path, &errors);
	char err[512] = "";
	/* Who may connect changes first: it is the step that can fail outside our
	 * control (ACLs), and undoing it is one call. */
	if (next && d->listen_fd >= 0 && apply_socket_access(d, next, err, sizeof err) != 0) {
		arbor_config_free(next);
		next = NULL;
		errors = xstrdup(err);
	}
	if (next && d->def->reload && d->def->reload(d, next, err, sizeof err) != 0) {
		arbor_config_free(next);
		next = NULL;
		errors = xstrdup(err[0] ? err : "rejected by the daemon");
		if (d->listen_fd >= 0 && apply_socket_access(d, d->cfg, err, sizeof err) != 0)
			log_warn("%s", err);
	}
	if (next == NULL) {
		cJSON *data = cJSON_CreateObject();
		cJSON *list = cJSON_AddArrayToObject(data, "errors");
		char *save = NULL;
		for (char *line = strtok_r(errors, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			cJSON_AddItemToArray(list, cJSON_CreateString(line));
		const cJSON *first = cJSON_GetArrayItem(list, 0);
		snprintf(msg, msglen, "configuration rejected, still running generation %llu: %s",
			 (unsigned long long)d->generation, first ? first->valuestring : "invalid");
		arbor_event_emit(d->events, "config.rejected", "warning", d->config_path, data, "%s", msg);
		log_warn("%s", msg);
		free(errors);
		d->reloads_rejected++;
		return false;
	}
	const struct arbor_control *was = &d->cfg->control, *now = &next->control;
	arbor_events_configure(d->events, (size_t)now->events_memory, now->events_rotate_bytes);
	arbor_http_server_set_body_limit(d->http, (size_t)now->http_max_body_bytes);
	arbor_http_server_set_stream_limit(d->http, (unsigned int)now->http_max_streams_per_peer);
	bool restart_needed = was->http_max_connections != now->http_max_connections ||
			      was->http_idle_timeout != now->http_idle_timeout;
	arbor_config_free(d->cfg);
	d->cfg = next;
	d->generation++;
	clock_gettime(CLOCK_REALTIME, &d->loaded_at);
	arbor_time_rfc3339(&d->loaded_at, d->loaded_at_text, sizeof d->loaded_at_text);
	d->reloads_ok++;
	snprintf(msg, msglen, "configuration generation %llu applied%s", (unsigned long long)d->generation,
		 restart_needed ? " (control.http.max_connections and idle_timeout apply at the next start)" : "");
	cJSON *data = cJSON_CreateObject();
	cJSON_AddNumberToObject(data, "generation", (double)d->generation);
	arbor_event_emit(d->events, "config.reloaded", "info", d->config_path, data, "%s", msg);
	log_info("%s", msg);
	return true;
}

static void handle_reload(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	cJSON_Delete(body);
	char msg[1024];
	bool ok = daemon_reload(d, msg, sizeof msg);
	arbor_command_answer(resp, "reload", ok, ok ? 200 : 409, "%s", msg);
}

static void handle_renew(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	cJSON_Delete(body);
	char msg[512] = "nothing to renew";
	int rc = d->def->renew ? d->def->renew(d, msg, sizeof msg) : 0;
	arbor_command_answer(resp, "renew", rc == 0, rc == 0 ? 200 : 409, "%s", msg);
}

void arbor_daemon_request_stop(struct arbor_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	event_base_loopbreak(d->base);
}

static void stop_after_answer(void *ctx)
{
	arbor_daemon_request_stop(ctx);
}

static void on_stop_fallback(evutil_socket_t fd, short what, void *ctx)
{
	arbor_daemon_request_stop(ctx);
}

static void handle_stop(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	cJSON *body = arbor_command_body(req, resp);
	if (body == NULL)
		return;
	cJSON_Delete(body);
	arbor_command_answer(resp, "stop", true, 202, "stopping");
	resp->on_sent = stop_after_answer;
	resp->sent_ctx = d;
	/* If the answer never completes (the client vanished mid-write), stop anyway. */
	if (d->stop_fallback == NULL) {
		struct timeval tv = { 2, 0 };
		d->stop_fallback = evtimer_new(d->base, on_stop_fallback, d);
		evtimer_add(d->stop_fallback, &tv);
	}
}

static void handle_daemon_command(void *ctx, const struct arbor_http_request *req,
				  struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	const char *name = req->path + strlen("/v1/commands/");
	for (size_t i = 0; i < d->def->ncommands; i++)
		if (strcmp(d->def->commands[i].name, name) == 0) {
			d->def->commands[i].handler(d, req, resp);
			return;
		}
	arbor_resp_error(resp, 404, "not_found", "no such command: %s", name);
}

static void handle_daemon_view(void *ctx, const struct arbor_http_request *req, struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	for (size_t i = 0; i < d->def->nviews; i++)
		if (strcmp(d->def->views[i].path, req->path) == 0) {
			d->def->views[i].handler(d, req, resp);
			return;
		}
	arbor_resp_error(resp, 404, "not_found", "no such resource: %s", req->path);
}

static void handle_daemon_resource(void *ctx, const struct arbor_http_request *req,
				   struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	bool head = strcmp(req->method, "HEAD") == 0;
	for (size_t i = 0; i < d->def->nresources; i++) {
		const struct arbor_resource *r = &d->def->resources[i];
		if ((strcmp(r->method, req->method) == 0 || (head && strcmp(r->method, "GET") == 0)) &&
		    arbor_path_match(r->path, req->path)) {
			r->handler(d, req, resp);
			return;
		}
	}
	arbor_resp_error(resp, 404, "not_found", "no such resource: %s", req->path);
}

static bool authorize(void *ctx, const struct arbor_http_request *req, const struct arbor_route *route,
		      struct arbor_http_response *resp)
{
	struct arbor_daemon *d = ctx;
	const struct arbor_control *c = &d->cfg->control;
	const char *command = route->path + strlen("/v1/commands/");
	if (arbor_authorize_command(&req->peer, geteuid(), c, d->def->name, command) != ARBOR_AUTHZ_DENIED)
		return true;
	d->commands_rejected++;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "path", req->path);
	if (req->peer.known) {
		cJSON_AddNumberToObject(data, "uid", req->peer.uid);
		cJSON_AddNumberToObject(data, "gid", req->peer.gid);
		cJSON_AddNumberToObject(data, "pid", req->peer.pid);
	}
	arbor_event_emit(d->events, "command.rejected", "warning", req->path, data,
			 "%s refused to uid %ld: commands need uid 0, uid %ld or the admin group", req->path,
			 req->peer.known ? (long)req->peer.uid : -1L, (long)geteuid());
	arbor_resp_error(resp, 403, "forbidden", "commands need uid 0, uid %ld%s%s or a grant of %s in control.grants",
			 (long)geteuid(), c->admin_group ? ", membership of group " : "",
			 c->admin_group ? c->admin_group : "", command);
	return false;
}

static void build_routes(struct arbor_daemon *d)
{
	static const struct arbor_route common[] = {
		{ "GET", "/v1/status", handle_status, false },
		{ "GET", "/v1/healthz", handle_healthz, false },
		{ "GET", "/v1/events", handle_events, false },
		{ "GET", "/v1/metrics", handle_metrics, false },
		{ "POST", "/v1/commands/reload", handle_reload, true },
		{ "POST", "/v1/commands/renew", handle_renew, true },
		{ "POST", "/v1/commands/stop", handle_stop, true },
	};
	size_t n = sizeof common / sizeof common[0];
	d->routes = xcalloc(n + d->def->ncommands + d->def->nviews + d->def->nresources, sizeof *d->routes);
	memcpy(d->routes, common, sizeof common);
	for (size_t i = 0; i < d->def->ncommands; i++) {
		char *path = xasprintf("/v1/commands/%s", d->def->commands[i].name);
		d->routes[n++] = (struct arbor_route){ "POST", path, handle_daemon_command, true };
	}
	for (size_t i = 0; i < d->def->nviews; i++)
		d->routes[n++] = (struct arbor_route){ "GET", d->def->views[i].path, handle_daemon_view, false };
	for (size_t i = 0; i < d->def->nresources; i++) {
		const struct arbor_resource *r = &d->def->resources[i];
		d->routes[n++] = (struct arbor_route){ r->method, r->path, handle_daemon_resource,
						       r->authorized || strcmp(r->method, "GET") != 0 };
	}
	d->nroutes = n;
}

static void free_routes(struct arbor_daemon *d)
{
	for (size_t i = 7; i < d->nroutes; i++)
		if (d->routes[i].handler == handle_daemon_command)
			free((char *)d->routes[i].path);
	free(d->routes);
}

/* ---- lifecycle ---- */

static void on_events_appended(void *ctx)
{
	struct arbor_daemon *d = ctx;
	arbor_http_server_wake(d->http);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	struct arbor_daemon *d = ctx;
	if (sig == SIGHUP) {
		char msg[1024];
		arbor_sd_notify("RELOADING=1");
		daemon_reload(d, msg, sizeof msg);
		arbor_sd_notify("READY=1");
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	arbor_daemon_request_stop(d);
}

/* systemd's watchdog (WatchdogSec=): WATCHDOG=1 at half the interval, from a
 * timer on the loop, so a loop that hangs stops the pings and systemd restarts
 * the daemon. WATCHDOG_PID, when set, must be us (not a child we started). */
static void on_watchdog(evutil_socket_t fd, short what, void *ctx)
{
	arbor_sd_notify("WATCHDOG=1");
}

static void start_watchdog(struct arbor_daemon *d)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	if (usec == NULL || (pid && strtol(pid, NULL, 10) != (long)getpid()))
		return;
	char *end = NULL;
	unsigned long long us = strtoull(usec, &end, 10);
	if (end == usec || *end != '\0' || us == 0)
		return;
	us /= 2;
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };
	d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
	event_add(d->watchdog, &tv);
	arbor_sd_notify("WATCHDOG=1");
}

static void usage(const struct arbor_daemon_def *def, FILE *out)
{
	fprintf(out,
		"usage: %s [options]\n"
		"%s\n\n"
		"  -c, --config FILE       configuration (default /etc/arbor/arbor.json)\n"
		"      --runtime-dir DIR   socket directory (default /run/arbor)\n"
		"      --state-dir DIR     state directory (default /var/lib/arbor/%s)\n"
		"      --check-config      validate the configuration, print errors, exit 0 or 1\n"
		"  -v, --verbose           debug logging\n"
		"      --version           print the version\n"
		"  -h, --help              this text\n",
		def->binary, def->summary, def->name);
}

/* Raises the soft fd limit to the hard one; returns how many fds we may use. */
static unsigned long long raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

static void daemon_free(struct arbor_daemon *d)
{
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->stop_fallback)
		event_free(d->stop_fallback);
	if (d->watchdog)
		event_free(d->watchdog);
	arbor_events_close(d->events);
	arbor_config_free(d->cfg);
	free_routes(d);
	if (d->base)
		event_base_free(d->base);
	free(d->config_path);
	free(d->runtime_dir);
	free(d->state_dir);
	free(d);
}

/* A daemon with its config and routes, before any directory, loop or socket. */
static struct arbor_daemon *daemon_new(const struct arbor_daemon_def *def, struct arbor_config *cfg,
				       const char *config_path, const char *runtime_dir, const char *state_dir)
{
	struct arbor_daemon *d = xcalloc(1, sizeof *d);
	d->def = def;
	d->cfg = cfg;
	d->config_path = xstrdup(config_path);
	d->runtime_dir = xstrdup(runtime_dir);
	d->state_dir = xstrdup(state_dir);
	d->listen_fd = -1;
	d->generation = 1;
	clock_gettime(CLOCK_REALTIME, &d->started_at);
	d->loaded_at = d->started_at;
	arbor_time_rfc3339(&d->started_at, d->started_at_text, sizeof d->started_at_text);
	memcpy(d->loaded_at_text, d->started_at_text, sizeof d->loaded_at_text);
	d->started_mono = arbor_time_monotonic();
	build_routes(d);
	return d;
}

struct arbor_daemon *arbor_daemon_create_detached(const struct arbor_daemon_def *def, const char *config_path,
						  const char *state_dir, char *err, size_t errlen)
{
	arbor_alloc_init();
	char *errors = NULL;
	struct arbor_config *cfg = load_config(def, config_path, &errors);
	if (cfg == NULL) {
		snprintf(err, errlen, "%s", errors);
		free(errors);
		return NULL;
	}
	struct arbor_daemon *d = daemon_new(def, cfg, config_path, state_dir, state_dir);
	d->base = event_base_new();
	d->events = arbor_events_open(state_dir, def->name, NULL, 64, 1 << 20, err, errlen);
	if (d->base == NULL || d->events == NULL || (def->start && def->start(d, err, errlen) != 0)) {
		daemon_free(d);
		return NULL;
	}
	return d;
}

void arbor_daemon_dispatch(struct arbor_daemon *d, const struct arbor_http_request *req,
			   struct arbor_http_response *resp)
{
	arbor_router_dispatch(d->routes, d->nroutes, d, authorize, req, resp);
}

void arbor_daemon_destroy_detached(struct arbor_daemon *d)
{
	if (d->def->stop)
		d->def->stop(d);
	daemon_free(d);
}

int arbor_daemon_main(const struct arbor_daemon_def *def, int argc, char **argv)
{
	arbor_alloc_init();
	enum { OPT_RUNTIME = 256, OPT_STATE, OPT_CHECK, OPT_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "runtime-dir", required_argument, NULL, OPT_RUNTIME },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = "/etc/arbor/arbor.json", *runtime_dir = "/run/arbor";
	char default_state[PATH_MAX];
	snprintf(default_state, sizeof default_state, "/var/lib/arbor/%s", def->name);
	const char *state_dir = default_state;
	bool check_only = false, verbose = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case OPT_RUNTIME: runtime_dir = optarg; break;
		case OPT_STATE: state_dir = optarg; break;
		case OPT_CHECK: check_only = true; break;
		case 'v': verbose = true; break;
		case OPT_VERSION: printf("%s %s\n", def->binary, ARBOR_VERSION); return 0;
		case 'h': usage(def, stdout); return 0;
		default: usage(def, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", def->binary, argv[optind]);
		usage(def, stderr);
		return 2;
	}
	arbor_log_init(def->name, verbose ? ARBOR_LOG_DEBUG : ARBOR_LOG_INFO);

	char *errors = NULL;
	struct arbor_config *cfg = load_config(def, config_path, &errors);
	if (check_only) {
		if (cfg == NULL) {
			fputs(errors, stderr);
			free(errors);
			return 1;
		}
		printf("%s: ok\n", config_path);
		arbor_config_free(cfg);
		return 0;
	}
	if (cfg == NULL) {
		fputs(errors, stderr);
		free(errors);
		return 2;
	}

	struct arbor_daemon *d = daemon_new(def, cfg, config_path, runtime_dir, state_dir);
	signal(SIGPIPE, SIG_IGN);
	unsigned long long fd_limit = raise_fd_limit();

	char err[512] = "";
	int rc;
	if ((rc = arbor_mkdir_p(runtime_dir, 0755)) != 0) {
		log_err("%s: %s", runtime_dir, strerror(-rc));
		daemon_free(d);
		return 1;
	}
	if ((rc = arbor_mkdir_p(state_dir, 0750)) != 0) {
		log_err("%s: %s", state_dir, strerror(-rc));
		daemon_free(d);
		return 1;
	}
	d->base = event_base_new();
	if (d->base == NULL) {
		log_err("cannot create the event loop");
		daemon_free(d);
		return 1;
	}
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	event_add(d->sig_term, NULL);
	event_add(d->sig_int, NULL);
	event_add(d->sig_hup, NULL);

	/* The socket first: a second instance must be refused before its start()
	 * touches anything the running one owns (journals, ports, kernel state). */
	snprintf(d->socket_path, sizeof d->socket_path, "%s/%s.sock", runtime_dir, def->name);
	d->listen_fd = arbor_unix_listen(d->socket_path, cfg->control.socket_mode, err, sizeof err);
	if (d->listen_fd < 0) {
		log_err("%s", err);
		daemon_free(d);
		return 1;
	}
	if (apply_socket_access(d, cfg, err, sizeof err) != 0) {
		log_err("%s", err);
		close(d->listen_fd);
		unlink(d->socket_path);
		daemon_free(d);
		return 1;
	}
	/* Ours alone now (a second instance stops at the socket): what a crash left
	 * half-written goes, and the event log's torn last line is cut (opening it
	 * earlier would let a second instance cut the running one's file). */
	if ((rc = arbor_state_remove_leftovers(state_dir)) > 0)
		log_info("%s: removed %d temporary file(s) a crash left behind", state_dir, rc);
	char boot_id[80];
	if ((rc = arbor_boot_id(runtime_dir, def->name, boot_id, sizeof boot_id)) != 0) {
		/* Unknown: a token of this start alone, so it is taken for a new boot
		 * and seq continues above the reservation. */
		log_warn("cannot tell this boot from the last: %s", strerror(-rc));
		snprintf(boot_id, sizeof boot_id, "%llx-%lx", (unsigned long long)time(NULL), (long)getpid());
	}
	d->events = arbor_events_open(state_dir, def->name, boot_id, (size_t)cfg->control.events_memory,
				      cfg->control.events_rotate_bytes, err, sizeof err);
	if (d->events == NULL) {
		log_err("%s", err);
		close(d->listen_fd);
		unlink(d->socket_path);
		daemon_free(d);
		return 1;
	}
	if (def->start && def->start(d, err, sizeof err) != 0) {
		log_err("cannot start: %s", err);
		close(d->listen_fd);
		unlink(d->socket_path);
		daemon_free(d);
		return 1;
	}
	struct stat st;
	if (stat(d->socket_path, &st) == 0)
		d->socket_ino = st.st_ino;
	struct arbor_http_limits limits = {
		.max_body_bytes = (size_t)cfg->control.http_max_body_bytes,
		/* Leave fds for the daemon's own work: running out inside accept is
		 * worse than refusing a connection. */
		.max_connections = (unsigned int)(cfg->control.http_max_connections + 128 < fd_limit
							  ? cfg->control.http_max_connections
							  : fd_limit > 256 ? fd_limit - 128 : 128),
		.idle_timeout_s = (unsigned int)(cfg->control.http_idle_timeout + 0.999),
		.max_streams_per_peer = (unsigned int)cfg->control.http_max_streams_per_peer,
	};
	struct arbor_http_handlers handlers = { d->routes, d->nroutes, d, authorize };
	d->http = arbor_http_server_start(d->base, d->listen_fd, &limits, &handlers, err, sizeof err);
	if (d->http == NULL) {
		log_err("%s", err);
		close(d->listen_fd);
		unlink(d->socket_path);
		if (def->stop)
			def->stop(d);
		daemon_free(d);
		return 1;
	}
	arbor_events_set_listener(d->events, on_events_appended, d);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddNumberToObject(data, "pid", (double)getpid());
	cJSON_AddStringToObject(data, "version", ARBOR_VERSION);
	cJSON_AddStringToObject(data, "socket", d->socket_path);
	uint64_t skip_from, skip_to;
	if (arbor_events_skipped(d->events, &skip_from, &skip_to)) {
		/* Events among these may have been lost with the power; none will have these seqs. */
		cJSON *skipped = cJSON_AddObjectToObject(data, "seq_skipped");
		arbor_json_add_int(skipped, "from", (long long)skip_from);
		arbor_json_add_int(skipped, "to", (long long)skip_to);
	}
	arbor_event_emit(d->events, "daemon.started", "info", def->name, data, "%s %s started", def->binary,
			 ARBOR_VERSION);
	log_info("listening on %s", d->socket_path);
	arbor_sd_notify("READY=1");
	start_watchdog(d);

	event_base_dispatch(d->base);

	arbor_sd_notify("STOPPING=1");
	arbor_event_emit(d->events, "daemon.stopping", "info", def->name, NULL, "%s stopping", def->binary);
	arbor_events_set_listener(d->events, NULL, NULL);
	arbor_http_server_stop(d->http);
	d->http = NULL;
	/* Remove the socket only if it is still ours (not replaced by a newer instance). */
	if (stat(d->socket_path, &st) == 0 && st.st_ino == d->socket_ino)
		unlink(d->socket_path);
	if (def->stop)
		def->stop(d);
	arbor_events_sync(d->events);
	log_info("stopped");
	daemon_free(d);
	return 0;
}
