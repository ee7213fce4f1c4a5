/* Event log (see events.h). The ring holds serialized lines, so answering a
 * query is concatenation, not re-serialization. The seq reservation
 * (events.seq.json) is what keeps seq increasing across a power cut: lines are
 * not synced one by one, but no seq is handed out above a ceiling that is on
 * disk with the boot it belongs to. */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "json.h"
#include "json_write.h"
#include "log.h"
#include "statefile.h"
#include "clock.h"
#include "xalloc.h"

/* Seqs are reserved this many at a time: a daemon emitting 10,000 events a
 * second writes the reservation about every 6.5 s, never once per event. A
 * reservation that cannot be written is tried again this many events later. */
#define RESERVE_BLOCK 65536
#define RESERVE_RETRY 1024
#define RESERVATION "events.seq.json"
#define BOOT_ID_MAX 64

struct arbor_events {
	char *dir;
	char *path;
	char *rotated_path;
	char *daemon;
	int fd;
	uint64_t file_bytes;
	uint64_t rotate_bytes;
	uint64_t last_seq;
	uint64_t total;
	/* The reservation: no seq above `reserved` was handed out in boot `boot_id`
	 * ("" when the caller gave none: no reservation). reserve_at: the next
	 * write is due when seq passes it (reserved, or sooner after a failure). */
	char boot_id[BOOT_ID_MAX + 1];
	uint64_t reserved, reserve_at, reservation_writes;
	/* After a reboot: the seqs skip_from..skip_to hold no event (they were
	 * reserved before the machine went down), and the events up to `dropped`
	 * are no longer in memory. */
	uint64_t skip_from, skip_to, dropped;
	struct arbor_event_line *ring;
	size_t ring_size;
	void (*listener)(void *ctx);
	void *listener_ctx;
	/* arbor_events_hold: lines waiting for one write at arbor_events_release */
	int held;
	struct arbor_buf pending;
};

static bool write_held(struct arbor_events *ev);

static void ring_put(struct arbor_events *ev, uint64_t seq, const char *type, char *json, size_t len)
{
	struct arbor_event_line *slot = &ev->ring[seq % ev->ring_size];
	free(slot->type);
	free(slot->json);
	slot->seq = seq;
	slot->type = xstrdup(type);
	slot->json = json;
	slot->len = len;
}

/* Parses one stored line of len bytes; returns false for anything that is not
 * an event. The line is served as it is, so it must be one JSON object and
 * nothing else: no NUL inside (a file cut by a crash may hold zeros) and
 * nothing after the object. */
static bool parse_line(const char *line, size_t len, uint64_t *seq, char *type, size_t typelen)
{
	if (memchr(line, '\0', len) != NULL)
		return false;
	cJSON *doc = cJSON_ParseWithOpts(line, NULL, true);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "seq");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "type");
	bool ok = arbor_json_get_u53(s, seq) && *seq >= 1 && cJSON_IsString(t);
	if (ok) {
		snprintf(type, typelen, "%s", t->valuestring);
	}
	cJSON_Delete(doc);
	return ok;
}

/* Loads a file's valid lines into the ring; returns the valid byte length. */
static size_t load_file(struct arbor_events *ev, const char *path, bool *torn)
{
	*torn = false;
	char *text = NULL;
	size_t len = 0;
	char dir[PATH_MAX], *slash;
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (arbor_state_read(dir, slash + 1, &text, &len, SIZE_MAX / 2) != 0)
		return 0;
	size_t valid = 0, pos = 0;
	while (pos < len) {
		char *end = memchr(text + pos, '\n', len - pos);
		if (end == NULL) {
			*torn = true; /* no newline: the write was cut short */
			break;
		}
		*end = '\0';
		uint64_t seq;
		char type[256];
		if (parse_line(text + pos, (size_t)(end - (text + pos)), &seq, type, sizeof type) && seq > ev->last_seq) {
			ring_put(ev, seq, type, xstrdup(text + pos), (size_t)(end - (text + pos)));
			ev->last_seq = seq;
			valid = (size_t)(end - text) + 1;
		} else if (end + 1 == text + len) {
			*torn = true; /* a damaged last line is a torn write too */
		} else {
			valid = (size_t)(end - text) + 1; /* damage in the middle: skip, keep */
		}
		pos = (size_t)(end - text) + 1;
	}
	free(text);
	return valid;
}

/* Writes the reservation: seqs up to `reserved` may be handed out in this boot.
 * Synced (an atomic state file) before any of them is. */
static int write_reservation(struct arbor_events *ev, uint64_t reserved)
{
	char text[BOOT_ID_MAX + 80], err[PATH_MAX + 80];
	int n = snprintf(text, sizeof text, "{\"boot_id\": \"%s\", \"reserved\": %llu}\n", ev->boot_id,
			 (unsigned long long)reserved);
	ev->reservation_writes++;
	int rc = arbor_state_write(ev->dir, RESERVATION, text, (size_t)n, err, sizeof err);
	if (rc != 0) {
		log_err("event seq reservation: %s", err);
		return rc;
	}
	ev->reserved = ev->reserve_at = reserved;
	return 0;
}

/* Reserves the block that seq opens (seq is not handed out yet). */
static void reserve_ahead(struct arbor_events *ev, uint64_t seq)
{
	if (write_reservation(ev, seq - 1 + RESERVE_BLOCK) != 0)
		ev->reserve_at = seq - 1 + RESERVE_RETRY;
}

/* The reservation on disk: 0, -ENOENT, or -EINVAL for one that makes no sense. */
static int read_reservation(const char *dir, char *boot_id, size_t len, uint64_t *reserved)
{
	char *text = NULL;
	size_t n = 0;
	int rc = arbor_state_read(dir, RESERVATION, &text, &n, 4096);
	if (rc != 0)
		return rc;
	cJSON *doc = cJSON_ParseWithLength(text, n);
	free(text);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "boot_id");
	bool ok = cJSON_IsString(b) && strlen(b->valuestring) < len &&
		  arbor_json_get_u53(cJSON_GetObjectItemCaseSensitive(doc, "reserved"), reserved);
	if (ok)
		snprintf(boot_id, len, "%s", b->valuestring);
	cJSON_Delete(doc);
	return ok ? 0 : -EINVAL;
}

/* The machine went down after seqs up to `reserved` were reserved: lines up to
 * there may have been lost with the page cache, after a follower saw them. The
 * log continues above them; what memory held goes (it ends before the gap). */
static void skip_reserved(struct arbor_events *ev, uint64_t reserved)
{
	log_warn("%s: the machine went down since seq %llu was reserved; continuing at %llu (the newest event on "
		 "disk is %llu)", ev->path, (unsigned long long)reserved, (unsigned long long)reserved + 1,
		 (unsigned long long)ev->last_seq);
	for (size_t i = 0; i < ev->ring_size; i++) {
		free(ev->ring[i].type);
		free(ev->ring[i].json);
		ev->ring[i] = (struct arbor_event_line){ 0 };
	}
	ev->dropped = ev->last_seq;
	ev->skip_from = ev->last_seq + 1;
	ev->skip_to = reserved;
	ev->last_seq = reserved;
}

/* Same boot as the reservation: the page cache kept every line written, and
 * seq continues after the newest. Another boot: above the reservation. */
static void recover_reservation(struct arbor_events *ev, const char *boot_id)
{
	snprintf(ev->boot_id, sizeof ev->boot_id, "%s", boot_id);
	char was[BOOT_ID_MAX + 1];
	uint64_t reserved = 0;
	int rc = read_reservation(ev->dir, was, sizeof was, &reserved);
	if (rc == -EINVAL)
		log_warn("%s/%s is unreadable: seq continues from the log", ev->dir, RESERVATION);
	bool same_boot = rc == 0 && strcmp(was, boot_id) == 0;
	if (rc == 0 && !same_boot && reserved > ev->last_seq)
		skip_reserved(ev, reserved);
	if (same_boot && reserved > ev->last_seq)
		ev->reserved = ev->reserve_at = reserved; /* still ours, still on disk */
	else
		reserve_ahead(ev, ev->last_seq + 1);
}

struct arbor_events *arbor_events_open(const char *state_dir, const char *daemon, const char *boot_id, size_t memory,
				       uint64_t rotate_bytes, char *err, size_t errlen)
{
	struct arbor_events *ev = xcalloc(1, sizeof *ev);
	ev->dir = xstrdup(state_dir);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/events.jsonl", state_dir);
	ev->path = xstrdup(path);
	snprintf(path, sizeof path, "%s/events.jsonl.1", state_dir);
	ev->rotated_path = xstrdup(path);
	ev->daemon = xstrdup(daemon);
	ev->fd = -1;
	ev->ring_size = memory ? memory : 1024;
	ev->ring = xcalloc(ev->ring_size, sizeof *ev->ring);
	ev->rotate_bytes = rotate_bytes;

	bool torn = false;
	load_file(ev, ev->rotated_path, &torn);
	size_t valid = load_file(ev, ev->path, &torn);
	if (torn) {
		log_warn("%s: dropping a torn last line after byte %zu", ev->path, valid);
		if (truncate(ev->path, (off_t)valid) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: truncate: %s", ev->path, strerror(errno));
			arbor_events_close(ev);
			return NULL;
		}
	}
	ev->fd = open(ev->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (ev->fd < 0) {
		snprintf(err, errlen, "%s: %s", ev->path, strerror(errno));
		arbor_events_close(ev);
		return NULL;
	}
	struct stat st;
	ev->file_bytes = fstat(ev->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	if (boot_id && boot_id[0] && strlen(boot_id) <= BOOT_ID_MAX)
		recover_reservation(ev, boot_id);
	return ev;
}

void arbor_events_close(struct arbor_events *ev)
{
	if (ev == NULL)
		return;
	write_held(ev);
	arbor_buf_free(&ev->pending);
	if (ev->fd >= 0) {
		bool synced = fdatasync(ev->fd) == 0 && arbor_fsync_dir(ev->dir) == 0;
		close(ev->fd);
		/* Every line is on disk (names included, after a rotation): a reboot
		 * may continue right after the last one, without a gap. */
		if (synced && ev->boot_id[0] && ev->reserved > ev->last_seq)
			write_reservation(ev, ev->last_seq);
	}
	for (size_t i = 0; i < ev->ring_size; i++) {
		free(ev->ring[i].type);
		free(ev->ring[i].json);
	}
	free(ev->ring);
	free(ev->dir);
	free(ev->path);
	free(ev->rotated_path);
	free(ev->daemon);
	free(ev);
}

void arbor_events_configure(struct arbor_events *ev, size_t memory, uint64_t rotate_bytes)
{
	ev->rotate_bytes = rotate_bytes;
	if (memory == 0 || memory == ev->ring_size)
		return;
	/* A larger ring's window reaches back over events the smaller one lost. */
	if (ev->last_seq > ev->ring_size && ev->last_seq - ev->ring_size > ev->dropped)
		ev->dropped = ev->last_seq - ev->ring_size;
	struct arbor_event_line *ring = xcalloc(memory, sizeof *ring);
	for (size_t i = 0; i < ev->ring_size; i++) {
		struct arbor_event_line *old = &ev->ring[i];
		if (old->json == NULL)
			continue;
		bool keep = old->seq + memory > ev->last_seq;
		struct arbor_event_line *slot = &ring[old->seq % memory];
		if (keep && (slot->json == NULL || slot->seq < old->seq)) {
			free(slot->type);
			free(slot->json);
			*slot = *old;
		} else {
			free(old->type);
			free(old->json);
		}
	}
	free(ev->ring);
	ev->ring = ring;
	ev->ring_size = memory;
}

static void rotate(struct arbor_events *ev)
{
	fdatasync(ev->fd);
	if (rename(ev->path, ev->rotated_path) != 0) {
		log_warn("%s: rotate: %s", ev->path, strerror(errno));
		return;
	}
	int fd = open(ev->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_err("%s: %s", ev->path, strerror(errno));
		return;
	}
	close(ev->fd);
	ev->fd = fd;
	ev->file_bytes = 0;
}

/* The file has new lines: rotate if it is due, and tell the listener. */
static void appended(struct arbor_events *ev)
{
	if (ev->rotate_bytes && ev->file_bytes >= ev->rotate_bytes)
		rotate(ev);
	if (ev->listener)
		ev->listener(ev->listener_ctx);
}

/* One write for len bytes of whole lines: with O_APPEND a kill -9 leaves whole lines
 * or a torn tail, never an interleaving. */
static void write_lines(struct arbor_events *ev, const char *lines, size_t len)
{
	ssize_t n = write(ev->fd, lines, len);
	if (n != (ssize_t)len)
		log_err("%s: write: %s", ev->path, n < 0 ? strerror(errno) : "short write");
	else
		ev->file_bytes += (uint64_t)n;
}

/* The envelope is written as text around data (a JSON object's text, NULL: {}):
 * building a cJSON tree for it and printing that was most of an event's cost. */
__attribute__((format(printf, 7, 0)))
static uint64_t emit(struct arbor_events *ev, const char *type, const char *severity, const char *subject,
		     const char *data, size_t data_len, const char *fmt, va_list ap)
{
	char message[1024] = "";
	if (fmt)
		vsnprintf(message, sizeof message, fmt, ap);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char when[40];
	arbor_time_rfc3339(&now, when, sizeof when);
	uint64_t seq = ++ev->last_seq;
	/* Before anyone can see seq: once per RESERVE_BLOCK events, one compare otherwise. */
	if (seq > ev->reserve_at && ev->boot_id[0])
		reserve_ahead(ev, seq);

	struct arbor_buf line = { 0 };
	arbor_buf_reserve(&line, 256 + data_len);
	arbor_buf_puts(&line, "{\"seq\":");
	arbor_json_write_uint(&line, seq);
	arbor_buf_puts(&line, ",\"time\":");
	arbor_json_put_string(&line, when);
	arbor_buf_puts(&line, ",\"daemon\":");
	arbor_json_put_string(&line, ev->daemon);
	arbor_buf_puts(&line, ",\"type\":");
	arbor_json_put_string(&line, type);
	arbor_buf_puts(&line, ",\"severity\":");
	arbor_json_put_string(&line, severity ? severity : "info");
	arbor_buf_puts(&line, ",\"subject\":");
	arbor_json_put_string(&line, subject ? subject : "");
	arbor_buf_puts(&line, ",\"message\":");
	arbor_json_put_string(&line, message);
	arbor_buf_puts(&line, ",\"data\":");
	if (data)
		arbor_buf_append(&line, data, data_len);
	else
		arbor_buf_puts(&line, "{}");
	arbor_buf_puts(&line, "}\n");
	size_t len;
	char *json = arbor_buf_steal(&line, &len);
	if (ev->held)
		arbor_buf_append(&ev->pending, json, len);
	else
		write_lines(ev, json, len);
	json[--len] = '\0'; /* the ring holds the line without its newline */
	ring_put(ev, seq, type, json, len);
	ev->total++;
	if (!ev->held)
		appended(ev);
	return seq;
}

uint64_t arbor_event_emit(struct arbor_events *ev, const char *type, const char *severity, const char *subject,
			  cJSON *data, const char *fmt, ...)
{
	char *text = data ? cJSON_PrintUnformatted(data) : NULL;
	cJSON_Delete(data);
	va_list ap;
	va_start(ap, fmt);
	uint64_t seq = emit(ev, type, severity, subject, text, text ? strlen(text) : 0, fmt, ap);
	va_end(ap);
	free(text);
	return seq;
}

uint64_t arbor_event_emit_json(struct arbor_events *ev, const char *type, const char *severity, const char *subject,
			       const char *data, size_t data_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	uint64_t seq = emit(ev, type, severity, subject, data, data_len, fmt, ap);
	va_end(ap);
	return seq;
}

void arbor_events_hold(struct arbor_events *ev)
{
	ev->held++;
}

/* Writes the lines held back, if any; true if there were some. */
static bool write_held(struct arbor_events *ev)
{
	if (ev->pending.len == 0)
		return false;
	if (ev->fd >= 0)
		write_lines(ev, ev->pending.data, ev->pending.len);
	ev->pending.len = 0;
	return true;
}

void arbor_events_release(struct arbor_events *ev)
{
	if (ev->held > 0 && --ev->held == 0 && write_held(ev))
		appended(ev);
}

void arbor_events_set_listener(struct arbor_events *ev, void (*cb)(void *ctx), void *ctx)
{
	ev->listener = cb;
	ev->listener_ctx = ctx;
}

const struct arbor_event_line *arbor_events_get(const struct arbor_events *ev, uint64_t seq)
{
	if (seq == 0 || seq > ev->last_seq)
		return NULL;
	const struct arbor_event_line *slot = &ev->ring[seq % ev->ring_size];
	return (slot->json && slot->seq == seq) ? slot : NULL;
}

uint64_t arbor_events_last_seq(const struct arbor_events *ev)
{
	return ev->last_seq;
}

uint64_t arbor_events_first_seq(const struct arbor_events *ev)
{
	uint64_t first = ev->last_seq >= ev->ring_size ? ev->last_seq - ev->ring_size + 1 : 1;
	/* Gaps (dropped torn lines, a smaller ring) leave empty slots; skip them. */
	while (first <= ev->last_seq && arbor_events_get(ev, first) == NULL)
		first++;
	return first;
}

uint64_t arbor_events_total(const struct arbor_events *ev)
{
	return ev->total;
}

bool arbor_events_fell_behind(const struct arbor_events *ev, uint64_t *next)
{
	if (ev->skip_to && *next >= ev->skip_from && *next <= ev->skip_to)
		*next = ev->skip_to + 1; /* the gap a reboot left: no event has these seqs */
	uint64_t first = arbor_events_first_seq(ev);
	if (*next >= first)
		return false;
	uint64_t window = ev->last_seq >= ev->ring_size ? ev->last_seq - ev->ring_size + 1 : 1;
	if (*next < window || *next <= ev->dropped)
		return true;
	*next = first; /* only seqs without an event (lines dropped as damaged) lie between */
	return false;
}

bool arbor_events_skipped(const struct arbor_events *ev, uint64_t *from, uint64_t *to)
{
	*from = ev->skip_from;
	*to = ev->skip_to;
	return ev->skip_to != 0;
}

uint64_t arbor_events_reserved(const struct arbor_events *ev)
{
	return ev->reserved;
}

uint64_t arbor_events_reservation_writes(const struct arbor_events *ev)
{
	return ev->reservation_writes;
}

size_t arbor_events_query(const struct arbor_events *ev, uint64_t since, const char *glob, size_t limit,
			  struct arbor_buf *out)
{
	uint64_t first = arbor_events_first_seq(ev);
	uint64_t seq = since + 1 > first ? since + 1 : first;
	uint64_t next = since;
	size_t n = 0;
	arbor_buf_puts(out, "{\"events\":[");
	for (; seq <= ev->last_seq && n < limit; seq++) {
		const struct arbor_event_line *e = arbor_events_get(ev, seq);
		if (e == NULL)
			continue;
		next = seq;
		if (glob && fnmatch(glob, e->type, 0) != 0)
			continue;
		if (n++)
			arbor_buf_append(out, ",", 1);
		arbor_buf_append(out, e->json, e->len);
	}
	/* next: pass it back as since; it skips what was scanned, matched or not,
	 * unless the limit stopped the scan early. */
	arbor_buf_printf(out, "],\"next\":%llu}", (unsigned long long)next);
	return n;
}

bool arbor_events_any_after(const struct arbor_events *ev, uint64_t since, const char *glob)
{
	if (since >= ev->last_seq)
		return false;
	if (glob == NULL)
		return true;
	uint64_t first = arbor_events_first_seq(ev);
	for (uint64_t seq = since + 1 > first ? since + 1 : first; seq <= ev->last_seq; seq++) {
		const struct arbor_event_line *e = arbor_events_get(ev, seq);
		if (e && fnmatch(glob, e->type, 0) == 0)
			return true;
	}
	return false;
}

void arbor_events_sync(struct arbor_events *ev)
{
	write_held(ev);
	if (ev->fd >= 0)
		fdatasync(ev->fd);
}
