/* The event log: append-only <state-dir>/events.jsonl plus an in-memory ring of
 * the latest events for queries, long-polls and followers.
 *
 * seq increases across restarts: on open the file is scanned, a torn last line
 * (a crash mid-write) is cut off, and the ring is refilled from the newest valid
 * lines. Lines are written with one write(2) each (a held burst: one for all) and
 * not fsync'ed one by one (a kill -9 loses nothing already written;
 * arbor_events_sync runs at stop and before the daemon acknowledges anything
 * that depends on an event).
 *
 * A power cut can take the last lines, after followers saw them. So that their
 * seqs are never handed out again, seqs are reserved in blocks of 65536 in
 * <state-dir>/events.seq.json ({"boot_id", "reserved"}, an atomic state file
 * written before the first seq of each block is used, and lowered to the last
 * seq at a clean close). Opened in the same boot as the reservation (a restart:
 * the page cache kept every line), seq continues after the newest line; in
 * another boot it continues above the reservation. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct arbor_events;

struct arbor_event_line {
	uint64_t seq;
	char *type;
	char *json; /* the whole event, one line, no newline */
	size_t len;
};

/* boot_id: this boot's token (boot_id.h); NULL: no reservation (the detached
 * daemon of the fuzzers), seq then continues after the newest line. */
struct arbor_events *arbor_events_open(const char *state_dir, const char *daemon, const char *boot_id, size_t memory,
				       uint64_t rotate_bytes, char *err, size_t errlen);
void arbor_events_close(struct arbor_events *ev);
/* Applies new limits from a reload. */
void arbor_events_configure(struct arbor_events *ev, size_t memory, uint64_t rotate_bytes);

/* Appends an event; data (may be NULL) is taken over. Returns its seq. */
uint64_t arbor_event_emit(struct arbor_events *ev, const char *type, const char *severity, const char *subject,
			  cJSON *data, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* arbor_event_emit with data already JSON text (one object, data_len bytes; NULL:
 * {}), for a hot path that writes its records as text anyway. */
uint64_t arbor_event_emit_json(struct arbor_events *ev, const char *type, const char *severity, const char *subject,
			       const char *data, size_t data_len, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Between arbor_events_hold and arbor_events_release, events are numbered and
 * queryable at once, but their lines go to the file together in one write(2) at
 * the release, and the listener hears of them then, once: for a burst (a group
 * commit's batch), so the file still holds whole lines or a torn tail. Holds nest. */
void arbor_events_hold(struct arbor_events *ev);
void arbor_events_release(struct arbor_events *ev);

/* Called after each append (the contract server wakes waiters with it). */
void arbor_events_set_listener(struct arbor_events *ev, void (*cb)(void *ctx), void *ctx);

/* The event with this seq if it is still in memory; NULL if older or not yet. */
const struct arbor_event_line *arbor_events_get(const struct arbor_events *ev, uint64_t seq);
/* Seq of the newest event (0 if none), and of the oldest still in memory. */
uint64_t arbor_events_last_seq(const struct arbor_events *ev);
uint64_t arbor_events_first_seq(const struct arbor_events *ev);
uint64_t arbor_events_total(const struct arbor_events *ev);
/* A follower that wants seq *next next: true if events it needs have left
 * memory (it fell behind: end its stream, it can come back with since); else
 * false, with *next moved over seqs that hold no event (the gap a reboot left,
 * lines dropped as damaged). */
bool arbor_events_fell_behind(const struct arbor_events *ev, uint64_t *next);
/* True after a reboot skipped seqs from..to (reserved before the machine went
 * down: events among them may have been lost). */
bool arbor_events_skipped(const struct arbor_events *ev, uint64_t *from, uint64_t *to);
/* The durable ceiling (0: none), and how many times it was written. */
uint64_t arbor_events_reserved(const struct arbor_events *ev);
uint64_t arbor_events_reservation_writes(const struct arbor_events *ev);

/* Appends `{"events":[...],"next":N}` for events with seq > since whose type
 * matches glob (NULL: all), at most limit. Returns the number of events. */
size_t arbor_events_query(const struct arbor_events *ev, uint64_t since, const char *glob, size_t limit,
			  struct arbor_buf *out);
/* True if some event with seq > since matches glob. */
bool arbor_events_any_after(const struct arbor_events *ev, uint64_t since, const char *glob);

void arbor_events_sync(struct arbor_events *ev);
