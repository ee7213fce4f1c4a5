/* Event log: seq across reopen, torn last line dropped, queries, rotation; the
 * seq reservation across a restart (same boot) and a power cut (another boot). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "events.h"
#include "tap.h"

static void append_raw(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(path);
	close(fd);
}

/* Keeps the first `lines` lines of a file: what a power cut left of it. */
static void keep_lines(const char *path, int lines)
{
	FILE *f = fopen(path, "r");
	char buf[1 << 16];
	size_t len = f ? fread(buf, 1, sizeof buf, f) : 0, cut = 0;
	if (f)
		fclose(f);
	for (int n = 0; cut < len && n < lines; cut++)
		n += buf[cut] == '\n';
	if (truncate(path, (off_t)cut) != 0)
		perror(path);
}

/* A daemon that emits n events in boot `boot` and dies without closing (kill -9:
 * the reservation is left as it was while it ran). */
static void run_and_die(const char *dir, const char *boot, int n)
{
	pid_t pid = fork();
	if (pid == 0) {
		char err[256];
		struct arbor_events *ev = arbor_events_open(dir, "test", boot, 16, 1 << 20, err, sizeof err);
		for (int i = 0; ev && i < n; i++)
			arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL);
		_exit(ev ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
}

static void reservation(const char *dir)
{
	char err[256], path[512];
	snprintf(path, sizeof path, "%s/events.jsonl", dir);

	run_and_die(dir, "boot-a", 10);
	struct arbor_events *ev = arbor_events_open(dir, "test", "boot-a", 16, 1 << 20, err, sizeof err);
	uint64_t from, to;
	CHECK(ev && arbor_events_last_seq(ev) == 10 && !arbor_events_skipped(ev, &from, &to) &&
		      arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL) == 11,
	      "killed and restarted in the same boot: seq continues after the last line");
	CHECK(arbor_events_reserved(ev) == 65536 && arbor_events_reservation_writes(ev) == 0,
	      "the reservation of the first run still holds: not written again");
	arbor_events_close(ev);

	/* Closed cleanly: every line is synced, so another boot needs no gap. */
	ev = arbor_events_open(dir, "test", "boot-b", 16, 1 << 20, err, sizeof err);
	CHECK(ev && arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL) == 12 && arbor_events_reserved(ev) == 11 + 65536,
	      "after a clean stop another boot continues at last + 1");
	arbor_events_close(ev);

	/* A power cut: the daemon saw seq 13..20 (its reservation: 12 + 65536), the disk kept 13 and 14. */
	run_and_die(dir, "boot-b", 8);
	keep_lines(path, 14);
	ev = arbor_events_open(dir, "test", "boot-c", 16, 1 << 20, err, sizeof err);
	CHECK(ev && arbor_events_last_seq(ev) == 12 + 65536 && arbor_events_skipped(ev, &from, &to) && from == 15 &&
		      to == 12 + 65536,
	      "another boot after lost lines: seq continues above the reservation");
	uint64_t seq = arbor_event_emit(ev, "daemon.started", "info", NULL, NULL, NULL);
	CHECK(seq == 12 + 65536 + 1 && arbor_events_get(ev, 14) == NULL, "no seq a follower may have seen is used again");
	uint64_t next = 18;
	CHECK(!arbor_events_fell_behind(ev, &next) && next == seq, "a follower inside the gap goes on after it");
	next = 14;
	CHECK(arbor_events_fell_behind(ev, &next), "a follower behind the last event on disk fell behind");
	next = seq + 1;
	CHECK(!arbor_events_fell_behind(ev, &next) && next == seq + 1, "a follower up to date waits");
	arbor_events_close(ev);

	/* Crossing the reserved ceiling writes the next block first. */
	ev = arbor_events_open(dir, "test", "boot-c", 16, 1 << 20, err, sizeof err);
	uint64_t last = arbor_events_last_seq(ev);
	arbor_events_close(ev);
	char text[200];
	snprintf(text, sizeof text, "{\"boot_id\": \"boot-c\", \"reserved\": %llu}\n", (unsigned long long)last + 3);
	snprintf(path, sizeof path, "%s/events.seq.json", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	ev = arbor_events_open(dir, "test", "boot-c", 16, 1 << 20, err, sizeof err);
	for (int i = 0; i < 3; i++)
		arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL);
	CHECK(arbor_events_reservation_writes(ev) == 0 && arbor_events_reserved(ev) == last + 3, "inside the block: no write");
	arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL);
	CHECK(arbor_events_reservation_writes(ev) == 1 && arbor_events_reserved(ev) == last + 3 + 65536,
	      "the first seq of the next block reserves it");
	arbor_events_close(ev);
}

static void count_call(void *ctx)
{
	(*(int *)ctx)++;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A held burst: numbered and queryable at once, written together at the release,
 * the listener told once; data given as text; the envelope's strings escaped. */
static void held_burst(const char *dir)
{
	char err[256], path[512];
	snprintf(path, sizeof path, "%s/events.jsonl", dir);
	struct arbor_events *ev = arbor_events_open(dir, "test", "boot-a", 16, 1 << 20, err, sizeof err);
	int told = 0;
	arbor_events_set_listener(ev, count_call, &told);
	arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL);
	CHECK(told == 1, "an event alone: the listener told");
	told = 0;
	off_t before = file_size(path);
	arbor_events_hold(ev);
	static const char data[] = "{\"n\":1,\"s\":\"a b\"}";
	uint64_t a = arbor_event_emit_json(ev, "d.bound", "info", "2001:db8::/56", data, sizeof data - 1, "bound");
	uint64_t b = arbor_event_emit_json(ev, "d.bound", "info", NULL, NULL, 0, "say \"hi\"\\\n\tnow");
	arbor_events_hold(ev); /* holds nest */
	uint64_t c = arbor_event_emit(ev, "d.ended", "warning", "x", cJSON_CreateNumber(3), NULL);
	arbor_events_release(ev);
	CHECK(a == 2 && b == 3 && c == 4 && arbor_events_get(ev, 4) != NULL && told == 0 && file_size(path) == before,
	      "held: numbered and in memory, not yet written, the listener not yet told");
	arbor_events_release(ev);
	CHECK(told == 1 && file_size(path) > before, "released: written, the listener told once");
	arbor_events_close(ev);
	FILE *f = fopen(path, "r");
	char line[4096];
	int lines = 0, good = 0;
	while (f && fgets(line, sizeof line, f)) {
		cJSON *doc = cJSON_Parse(line);
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "data");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
		lines++;
		if (lines == 2)
			good += cJSON_GetObjectItemCaseSensitive(d, "n") && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "s")) &&
				strcmp(cJSON_GetObjectItemCaseSensitive(doc, "subject")->valuestring, "2001:db8::/56") == 0;
		if (lines == 3)
			good += cJSON_IsObject(d) && d->child == NULL && strcmp(m->valuestring, "say \"hi\"\\\n\tnow") == 0;
		if (lines == 4)
			good += cJSON_IsNumber(d) && d->valueint == 3 &&
				strcmp(cJSON_GetObjectItemCaseSensitive(doc, "severity")->valuestring, "warning") == 0;
		cJSON_Delete(doc);
	}
	if (f)
		fclose(f);
	CHECK(lines == 4 && good == 3, "the burst's lines: data as given, {} for none, the message's quotes, "
				       "backslash and control characters escaped");
}

/* The time stamps events carry (written by hand, not by snprintf). */
static void time_stamps(void)
{
	static const struct {
		struct timespec ts;
		const char *text;
	} cases[] = {
		{ { 0, 0 }, "1970-01-01T00:00:00.000Z" },
		{ { 1796300000, 7000000 }, "2026-12-03T12:13:20.007Z" },
		{ { 951782400, 999999999 }, "2000-02-29T00:00:00.999Z" },
		{ { 4102444799, 120000000 }, "2099-12-31T23:59:59.120Z" },
	};
	int good = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[40];
		arbor_time_rfc3339(&cases[i].ts, text, sizeof text);
		good += strcmp(text, cases[i].text) == 0;
	}
	char small[8];
	arbor_time_rfc3339(&cases[1].ts, small, sizeof small);
	CHECK(good == 4 && strcmp(small, "2026-12") == 0, "RFC 3339 time stamps with milliseconds; a short buffer is cut");
}

int main(void)
{
	time_stamps();
	const char *dir = tap_tmpdir();
	char err[256], path[512];
	snprintf(path, sizeof path, "%s/events.jsonl", dir);

	struct arbor_events *ev = arbor_events_open(dir, "test", "boot-a", 8, 1 << 20, err, sizeof err);
	CHECK(ev != NULL, "open in an empty directory");
	CHECK(arbor_event_emit(ev, "daemon.started", "info", "x", NULL, "hello %d", 1) == 1, "first seq is 1");
	for (int i = 0; i < 4; i++)
		arbor_event_emit(ev, "lease.bound", "info", "eth0", cJSON_CreateNumber(i), "bound");
	arbor_event_emit(ev, "config.reloaded", "info", NULL, NULL, NULL);
	CHECK(arbor_events_last_seq(ev) == 6, "six events");

	struct arbor_buf out = { 0 };
	size_t n = arbor_events_query(ev, 0, "lease.*", 100, &out);
	CHECK(n == 4 && strstr(out.data, "\"next\":6"), "type glob filters; next covers what was scanned");
	arbor_buf_free(&out);
	n = arbor_events_query(ev, 2, NULL, 2, &out);
	CHECK(n == 2 && strstr(out.data, "\"seq\":3") && strstr(out.data, "\"seq\":4") && strstr(out.data, "\"next\":4"),
	      "since and limit");
	arbor_buf_free(&out);
	CHECK(arbor_events_any_after(ev, 5, "config.*") && !arbor_events_any_after(ev, 6, NULL), "any_after");
	arbor_events_close(ev);

	/* A crash mid-write leaves a line without its newline: it must vanish. */
	append_raw(path, "{\"seq\":7,\"type\":\"torn");
	ev = arbor_events_open(dir, "test", "boot-a", 8, 1 << 20, err, sizeof err);
	CHECK(ev != NULL && arbor_events_last_seq(ev) == 6, "torn last line dropped, seq recovered");
	CHECK(arbor_event_emit(ev, "x.y", "info", NULL, NULL, NULL) == 7, "seq continues after restart");
	arbor_events_close(ev);
	FILE *f = fopen(path, "r");
	char line[4096];
	int lines = 0, bad = 0;
	while (f && fgets(line, sizeof line, f)) {
		lines++;
		cJSON *doc = cJSON_Parse(line);
		bad += doc == NULL;
		cJSON_Delete(doc);
	}
	if (f)
		fclose(f);
	CHECK(lines == 7 && bad == 0, "the file holds only whole events");

	/* A damaged (complete) last line is dropped too. */
	append_raw(path, "garbage\n");
	ev = arbor_events_open(dir, "test", "boot-a", 8, 1 << 20, err, sizeof err);
	CHECK(ev && arbor_events_last_seq(ev) == 7, "garbage last line dropped");
	CHECK(arbor_events_get(ev, 7) != NULL && arbor_events_get(ev, 8) == NULL, "ring refilled from the file");

	/* The ring holds 8: older events leave memory. */
	for (int i = 0; i < 10; i++)
		arbor_event_emit(ev, "fill", "info", NULL, NULL, NULL);
	CHECK(arbor_events_first_seq(ev) == 10 && arbor_events_get(ev, 9) == NULL, "ring bound");
	arbor_events_configure(ev, 4, 1 << 20);
	CHECK(arbor_events_first_seq(ev) == 14 && arbor_events_get(ev, 17) != NULL, "shrinking the ring keeps the newest");
	arbor_events_close(ev);

	/* Rotation: a tiny limit rotates to events.jsonl.1; seq still recovers. */
	ev = arbor_events_open(dir, "test", "boot-a", 16, 600, err, sizeof err);
	for (int i = 0; i < 3; i++)
		arbor_event_emit(ev, "rot", "info", NULL, NULL, "%0200d", 0);
	uint64_t last = arbor_events_last_seq(ev);
	arbor_events_close(ev);
	char rotated[600];
	snprintf(rotated, sizeof rotated, "%s.1", path);
	struct stat st;
	CHECK(stat(rotated, &st) == 0, "rotated to events.jsonl.1");
	unlink(path);
	ev = arbor_events_open(dir, "test", "boot-a", 16, 600, err, sizeof err);
	CHECK(ev && arbor_events_last_seq(ev) == last, "seq recovered from the rotated file");
	arbor_events_close(ev);

	/* Damage inside the file (zeros a crash left, bytes after the object): those
	 * lines are skipped, never served (found by fuzz_events). */
	char damaged[600];
	snprintf(damaged, sizeof damaged, "%s/damaged", dir);
	mkdir(damaged, 0700);
	snprintf(path, sizeof path, "%s/events.jsonl", damaged);
	static const char text[] = "{\"seq\":1,\"type\":\"a\"}\n{\"seq\":2,\"type\":\"b\"}\0\0\0zz\n"
				   "{\"seq\":3,\"type\":\"c\"} trailing\n{\"seq\":4,\"type\":\"d\"}\n";
	f = fopen(path, "w");
	if (f == NULL || fwrite(text, 1, sizeof text - 1, f) != sizeof text - 1 || fclose(f) != 0)
		perror(path);
	ev = arbor_events_open(damaged, "test", "boot-a", 8, 1 << 20, err, sizeof err);
	n = ev ? arbor_events_query(ev, 0, NULL, 100, &out) : 0;
	cJSON *answer = cJSON_ParseWithLength(out.data, out.len);
	CHECK(n == 2 && arbor_events_get(ev, 2) == NULL && arbor_events_get(ev, 3) == NULL && answer != NULL &&
		      arbor_events_last_seq(ev) == 4,
	      "a line with a NUL or with bytes after the object is skipped; the answer is JSON");
	cJSON_Delete(answer);
	arbor_buf_free(&out);
	arbor_events_close(ev);

	char sub[512];
	snprintf(sub, sizeof sub, "%s/reservation", dir);
	mkdir(sub, 0700);
	reservation(sub);
	snprintf(sub, sizeof sub, "%s/held", dir);
	mkdir(sub, 0700);
	held_burst(sub);
	return tap_done();
}
