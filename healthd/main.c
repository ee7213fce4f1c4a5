/* arbor-healthd: health checks that drive the other daemons.
 *
 * Every check has a timer; when it fires, a probe of the check's kind starts
 * (non-blocking, on this one loop) and reports once into the check's
 * hysteresis state machine. Only transitions make events and run actions.
 * First runs are spread over one interval so that thousands of checks do not
 * fire together; how late each probe starts is measured (scheduling delay). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>

#include "actions.h"
#include "check_config.h"
#include "exec_runner.h"
#include "healthd.h"
#include "json.h"
#include "log.h"
#include "probe.h"
#include "state_file.h"
#include "statefile.h"
#include "clock.h"
#include "xalloc.h"

static struct healthd *healthd_of(struct arbor_daemon *d)
{
	return arbor_daemon_userdata(d);
}

const struct healthd_config *healthd_config(struct healthd *hd)
{
	return arbor_daemon_config(hd->d)->daemon;
}

static void schedule(struct check *c, double due)
{
	c->next_due = due;
	double wait = due - arbor_time_monotonic();
	if (wait < 0)
		wait = 0;
	struct timeval tv = { (time_t)wait, (suseconds_t)((wait - (double)(time_t)wait) * 1e6) };
	evtimer_add(c->timer, &tv);
}

static void record_delay(struct healthd *hd, double delay)
{
	hd->delays[hd->delay_pos] = delay;
	hd->delay_pos = (hd->delay_pos + 1) % (sizeof hd->delays / sizeof hd->delays[0]);
	if (hd->ndelays < sizeof hd->delays / sizeof hd->delays[0])
		hd->ndelays++;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	struct healthd *hd = c->hd;
	double now = arbor_time_monotonic();
	record_delay(hd, now - c->next_due);
	/* Plan the next run from the planned time, not from now, so the rhythm does
	 * not drift; after a long stall, start again from now. */
	double next = c->next_due + c->spec->interval;
	if (next < now)
		next = now + c->spec->interval;
	schedule(c, next);
	if (c->probe != NULL) {
		hd->probes_skipped++; /* still running (an exec may outlive its interval) */
		return;
	}
	c->runs++;
	hd->probes_started++;
	probe_start(c);
}

static void save_state(struct healthd *hd);

void healthd_probe_done(struct check *c, bool ok, double latency, const char *error)
{
	struct healthd *hd = c->hd;
	enum check_health from = c->state.health;
	double now = arbor_time_wall();
	if (check_state_record(&c->state, ok, latency, error, c->spec->rise, c->spec->fall, now)) {
		enum check_health to = c->state.health;
		save_state(hd); /* on disk before anyone hears of it (event, actions) */
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "check", c->spec->name);
		cJSON_AddStringToObject(data, "kind", check_kind_name(c->spec->kind));
		cJSON_AddStringToObject(data, "target", c->spec->target);
		cJSON_AddStringToObject(data, "previous", check_health_name(from));
		cJSON_AddBoolToObject(data, "critical", c->spec->critical);
		arbor_json_add_fixed(data, "latency_ms", latency * 1000, 3);
		if (!ok)
			cJSON_AddStringToObject(data, "reason", c->state.last_error);
		if (to == CHECK_PASSING)
			arbor_event_emit(arbor_daemon_events(hd->d), "check.passing", "info", c->spec->name, data,
					 "%s is passing (was %s)", c->spec->name, check_health_name(from));
		else
			arbor_event_emit(arbor_daemon_events(hd->d), "check.failing",
					 c->spec->critical ? "error" : "warning", c->spec->name, data, "%s is failing: %s",
					 c->spec->name, c->state.last_error);
		actions_run(hd, c, from, to);
	}
	if (c->rerun) {
		c->rerun = false;
		schedule(c, arbor_time_monotonic());
	}
}

/* Spreads first runs over the interval by a hash of the name, so a restart or
 * reload does not make every check fire at once. */
static double first_offset(const struct check_spec *s)
{
	uint32_t h = 2166136261u;
	for (const char *p = s->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return s->interval * (double)(h % 10000) / 10000.0;
}

static void checks_free(struct check *checks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		probe_cancel(checks[i].probe);
		if (checks[i].timer)
			event_free(checks[i].timer);
	}
	free(checks);
}

/* Builds the run-time checks for cfg. A check whose definition is unchanged
 * from the old set keeps its state and its rhythm. */
static struct check *checks_build(struct healthd *hd, struct healthd_config *cfg, const struct check *old,
				  size_t nold)
{
	struct check *checks = xcalloc(cfg->nchecks, sizeof *checks);
	double now = arbor_time_monotonic(), wall = arbor_time_wall();
	for (size_t i = 0; i < cfg->nchecks; i++) {
		struct check *c = &checks[i];
		c->hd = hd;
		c->spec = &cfg->checks[i];
		c->timer = evtimer_new(hd->base, on_timer, c);
		check_state_init(&c->state, wall);
		double due = now + first_offset(c->spec);
		for (size_t k = 0; k < nold; k++) {
			if (strcmp(old[k].spec->name, c->spec->name) == 0 &&
			    strcmp(old[k].spec->definition, c->spec->definition) == 0) {
				c->state = old[k].state;
				c->runs = old[k].runs;
				c->rerun = old[k].probe != NULL; /* its probe is abandoned: run again */
				due = c->rerun ? now : old[k].next_due;
				break;
			}
		}
		schedule(c, due);
	}
	return checks;
}

static void save_state(struct healthd *hd)
{
	cJSON *doc = healthd_state_encode(hd->checks, hd->nchecks);
	char err[256];
	if (arbor_state_write_json(arbor_daemon_state_dir(hd->d), "state.json", doc, err, sizeof err) != 0)
		log_err("cannot save check states: %s", err);
	cJSON_Delete(doc);
}

static void on_save(evutil_socket_t fd, short what, void *arg)
{
	save_state(arg);
}

static void restore_states(struct healthd *hd)
{
	healthd_state_restore(hd->restored, hd->checks, hd->nchecks);
	cJSON_Delete(hd->restored);
	hd->restored = NULL;
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	exec_reap(arg);
}

static int healthd_start(struct arbor_daemon *d, char *err, size_t errlen)
{
	if (exec_runner_init(err, errlen) != 0)
		return -1;
	struct healthd *hd = xcalloc(1, sizeof *hd);
	hd->d = d;
	hd->base = arbor_daemon_base(d);
	arbor_daemon_set_userdata(d, hd);
	hd->dns = evdns_base_new(hd->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (hd->dns == NULL) {
		/* No usable resolv.conf: names fail with a clear reason, addresses work. */
		log_warn("no DNS resolver configuration: checks must use addresses");
	}
	hd->sigchld = evsignal_new(hd->base, SIGCHLD, on_sigchld, hd);
	event_add(hd->sigchld, NULL);
	hd->save = event_new(hd->base, -1, 0, on_save, hd);
	char *text = NULL;
	size_t len = 0;
	int rc = arbor_state_read(arbor_daemon_state_dir(d), "state.json", &text, &len, 64 << 20);
	if (rc == 0) {
		hd->restored = cJSON_ParseWithLength(text, len);
		free(text);
		if (hd->restored == NULL)
			log_warn("%s/state.json is not JSON: starting with every check unknown", arbor_daemon_state_dir(d));
	}
	struct healthd_config *cfg = arbor_daemon_config(d)->daemon;
	hd->checks = checks_build(hd, cfg, NULL, 0);
	hd->nchecks = cfg->nchecks;
	restore_states(hd);
	save_state(hd);
	log_info("%zu checks", hd->nchecks);
	return 0;
}

static int healthd_reload(struct arbor_daemon *d, const struct arbor_config *next, char *err, size_t errlen)
{
	struct healthd *hd = healthd_of(d);
	struct healthd_config *cfg = next->daemon;
	struct check *old = hd->checks;
	size_t nold = hd->nchecks;
	hd->checks = checks_build(hd, cfg, old, nold);
	hd->nchecks = cfg->nchecks;
	checks_free(old, nold);
	event_active(hd->save, EV_TIMEOUT, 0);
	return 0;
}

static void healthd_stop(struct arbor_daemon *d)
{
	struct healthd *hd = healthd_of(d);
	save_state(hd);
	event_free(hd->save);
	checks_free(hd->checks, hd->nchecks);
	hd->checks = NULL;
	hd->nchecks = 0;
	actions_cancel_all(hd);
	/* Cancelled name lookups are finished (and freed) by evdns from the loop:
	 * give them that turn before the resolver goes away. */
	event_base_loop(hd->base, EVLOOP_NONBLOCK);
	exec_kill_all(hd);
	icmp_sockets_close(hd);
	if (hd->dns)
		evdns_base_free(hd->dns, 1);
	event_free(hd->sigchld);
	free(hd);
	arbor_daemon_set_userdata(d, NULL);
}

static int healthd_renew(struct arbor_daemon *d, char *msg, size_t msglen)
{
	struct healthd *hd = healthd_of(d);
	double now = arbor_time_monotonic();
	for (size_t i = 0; i < hd->nchecks; i++) {
		struct check *c = &hd->checks[i];
		if (c->probe)
			c->rerun = true;
		else
			schedule(c, now);
	}
	snprintf(msg, msglen, "running %zu checks now", hd->nchecks);
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double delay_percentile(struct healthd *hd, double q)
{
	if (hd->ndelays == 0)
		return 0;
	double *copy = xmalloc(hd->ndelays * sizeof *copy);
	memcpy(copy, hd->delays, hd->ndelays * sizeof *copy);
	qsort(copy, hd->ndelays, sizeof *copy, compare_double);
	double v = copy[(size_t)(q * (double)(hd->ndelays - 1))];
	free(copy);
	return v;
}

/* Wall time (seconds) to RFC 3339, rounded to the millisecond like state.json. */
static void wall_text(double t, char *buf, size_t len)
{
	long long ms = (long long)(t * 1000 + 0.5);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	arbor_time_rfc3339(&ts, buf, len);
}

static void add_check_json(cJSON *arr, const struct check *c)
{
	char when[40];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", c->spec->name);
	cJSON_AddStringToObject(o, "kind", check_kind_name(c->spec->kind));
	cJSON_AddStringToObject(o, "target", c->spec->target);
	cJSON_AddBoolToObject(o, "critical", c->spec->critical);
	cJSON_AddStringToObject(o, "state", check_health_name(c->state.health));
	wall_text(c->state.since, when, sizeof when);
	cJSON_AddStringToObject(o, "since", when);
	if (c->state.has_result) {
		cJSON *last = cJSON_AddObjectToObject(o, "last");
		cJSON_AddStringToObject(last, "result", c->state.last_ok ? "pass" : "fail");
		wall_text(c->state.last_at, when, sizeof when);
		cJSON_AddStringToObject(last, "at", when);
		arbor_json_add_fixed(last, "latency_ms", c->state.last_latency * 1000, 3);
		if (!c->state.last_ok)
			cJSON_AddStringToObject(last, "error", c->state.last_error);
	} else {
		cJSON_AddNullToObject(o, "last");
	}
	arbor_json_add_int(o, "consecutive_passes", c->state.consecutive_passes);
	arbor_json_add_int(o, "consecutive_failures", c->state.consecutive_failures);
	arbor_json_add_int(o, "runs", (long long)c->runs);
	cJSON_AddItemToArray(arr, o);
}

static void healthd_status(struct arbor_daemon *d, cJSON *status)
{
	struct healthd *hd = healthd_of(d);
	cJSON *own = cJSON_AddObjectToObject(status, "healthd");
	size_t passing = 0, failing = 0, unknown = 0;
	for (size_t i = 0; i < hd->nchecks; i++) {
		enum check_health h = hd->checks[i].state.health;
		passing += h == CHECK_PASSING;
		failing += h == CHECK_FAILING;
		unknown += h == CHECK_UNKNOWN;
	}
	arbor_json_add_int(own, "passing", (long long)passing);
	arbor_json_add_int(own, "failing", (long long)failing);
	arbor_json_add_int(own, "unknown", (long long)unknown);
	arbor_json_add_fixed(own, "schedule_delay_p99_ms", delay_percentile(hd, 0.99) * 1000, 3);
	cJSON *arr = cJSON_AddArrayToObject(own, "checks");
	for (size_t i = 0; i < hd->nchecks; i++)
		add_check_json(arr, &hd->checks[i]);
}

static enum arbor_health healthd_health(struct arbor_daemon *d, cJSON *reasons)
{
	struct healthd *hd = healthd_of(d);
	enum arbor_health h = ARBOR_HEALTH_OK;
	for (size_t i = 0; i < hd->nchecks; i++) {
		const struct check *c = &hd->checks[i];
		if (c->state.health != CHECK_FAILING)
			continue;
		char reason[400];
		snprintf(reason, sizeof reason, "%s check %s is failing: %s", c->spec->critical ? "critical" : "non-critical",
			 c->spec->name, c->state.last_error);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(reason));
		if (c->spec->critical)
			h = ARBOR_HEALTH_FAILED;
		else if (h == ARBOR_HEALTH_OK)
			h = ARBOR_HEALTH_DEGRADED;
	}
	return h;
}

static void healthd_metrics(struct arbor_daemon *d, struct arbor_buf *out)
{
	struct healthd *hd = healthd_of(d);
	size_t by_state[3] = { 0 };
	for (size_t i = 0; i < hd->nchecks; i++)
		by_state[hd->checks[i].state.health]++;
	arbor_buf_printf(out,
			 "# HELP arbor_healthd_checks Checks by state.\n# TYPE arbor_healthd_checks gauge\n"
			 "arbor_healthd_checks{state=\"unknown\"} %zu\narbor_healthd_checks{state=\"passing\"} %zu\n"
			 "arbor_healthd_checks{state=\"failing\"} %zu\n"
			 "# HELP arbor_healthd_probes_total Probes started.\n# TYPE arbor_healthd_probes_total counter\n"
			 "arbor_healthd_probes_total %llu\n"
			 "# HELP arbor_healthd_probes_skipped_total Runs skipped because the previous probe still ran.\n"
			 "# TYPE arbor_healthd_probes_skipped_total counter\narbor_healthd_probes_skipped_total %llu\n"
			 "# HELP arbor_healthd_actions_total Actions run, by result.\n"
			 "# TYPE arbor_healthd_actions_total counter\n"
			 "arbor_healthd_actions_total{result=\"ok\"} %llu\narbor_healthd_actions_total{result=\"failed\"} %llu\n"
			 "# HELP arbor_healthd_schedule_delay_seconds How late probes started (recent).\n"
			 "# TYPE arbor_healthd_schedule_delay_seconds gauge\n"
			 "arbor_healthd_schedule_delay_seconds{quantile=\"0.5\"} %.6f\n"
			 "arbor_healthd_schedule_delay_seconds{quantile=\"0.99\"} %.6f\n",
			 by_state[CHECK_UNKNOWN], by_state[CHECK_PASSING], by_state[CHECK_FAILING],
			 (unsigned long long)hd->probes_started, (unsigned long long)hd->probes_skipped,
			 (unsigned long long)(hd->actions_run - hd->actions_failed), (unsigned long long)hd->actions_failed,
			 delay_percentile(hd, 0.5), delay_percentile(hd, 0.99));
}

static void view_checks(struct arbor_daemon *d, const struct arbor_http_request *req,
			struct arbor_http_response *resp)
{
	struct healthd *hd = healthd_of(d);
	const char *name = arbor_query_get(&req->query, "name");
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(doc, "checks");
	for (size_t i = 0; i < hd->nchecks; i++)
		if (name == NULL || strcmp(name, hd->checks[i].spec->name) == 0)
			add_check_json(arr, &hd->checks[i]);
	if (name && cJSON_GetArraySize(arr) == 0) {
		cJSON_Delete(doc);
		arbor_resp_error(resp, 404, "not_found", "no check named %s", name);
		return;
	}
	arbor_resp_json(resp, 200, doc);
}

static const struct arbor_view healthd_views[] = { { "/v1/checks", view_checks } };

static const struct arbor_daemon_def healthd_def = {
	.name = "healthd",
	.binary = "arbor-healthd",
	.summary = "Health checks (icmp, tcp, http, dns, daemon, exec) that drive the other arbor daemons.",
	.parse = healthd_config_parse,
	.free_config = healthd_config_free,
	.start = healthd_start,
	.reload = healthd_reload,
	.stop = healthd_stop,
	.renew = healthd_renew,
	.status = healthd_status,
	.health = healthd_health,
	.metrics = healthd_metrics,
	.views = healthd_views,
	.nviews = 1,
};

int main(int argc, char **argv)
{
	return arbor_daemon_main(&healthd_def, argc, argv);
}
