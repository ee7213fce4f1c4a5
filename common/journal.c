/* Journal with compaction; the crash-safety argument is in journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fileio.h"
#include "json.h"
#include "statefile.h"
#include "xalloc.h"

struct arbor_journal {
	char *dir;
	char *name;
	int fd;
	uint64_t generation;
	uint64_t bytes;
	size_t pending_records;
	struct arbor_buf pending;
	/* -errno of the failure (a sync, or a cut-back after a failed write) that
	 * made the file untrustworthy; 0: sound. */
	int broken;
	double next_rewrite; /* monotonic time of the next rewrite attempt */
	void (*snapshot)(void *ctx, struct arbor_buf *out);
	void *snapshot_ctx;
};

static const double rewrite_interval = 1.0;

static const size_t max_snapshot_bytes = 1ULL << 30;

/* Atomically installs an empty journal for generation and opens it for append. */
static int start_journal(struct arbor_journal *j, uint64_t generation, char *err, size_t errlen)
{
	char header[64];
	int n = snprintf(header, sizeof header, "{\"journal\":%llu}\n", (unsigned long long)generation);
	char jname[PATH_MAX];
	snprintf(jname, sizeof jname, "%s.journal", j->name);
	int rc = arbor_state_write(j->dir, jname, header, (size_t)n, err, errlen);
	if (rc != 0)
		return rc;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", j->dir, jname);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	j->generation = generation;
	j->bytes = (uint64_t)n;
	return 0;
}

/* Replays the journal text; returns the length of the valid prefix. */
static size_t replay_journal(char *text, size_t len, uint64_t generation, const struct arbor_journal_replay *r,
			     bool *matches, int *cb_rc)
{
	*matches = false;
	*cb_rc = 0;
	char *nl = memchr(text, '\n', len);
	if (nl == NULL)
		return 0;
	*nl = '\0';
	cJSON *head = cJSON_Parse(text);
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(head, "journal");
	uint64_t g_value;
	*matches = arbor_json_get_u53(g, &g_value) && g_value == generation;
	cJSON_Delete(head);
	size_t valid = (size_t)(nl - text) + 1;
	if (!*matches)
		return valid;
	while (valid < len) {
		char *line = text + valid;
		char *end = memchr(line, '\n', len - valid);
		if (end == NULL)
			break; /* torn last line: never acknowledged, drop it */
		*end = '\0';
		cJSON *rec = cJSON_Parse(line);
		if (rec == NULL)
			break; /* garbage from a crash mid-write: stop here */
		int rc = r && r->record ? r->record(r->ctx, rec) : 0;
		cJSON_Delete(rec);
		if (rc != 0) {
			*cb_rc = rc;
			break;
		}
		valid = (size_t)(end - text) + 1;
	}
	return valid;
}

int arbor_journal_open(const char *dir, const char *name, const struct arbor_journal_replay *replay,
		       struct arbor_journal **out, char *err, size_t errlen)
{
	struct arbor_journal *j = xcalloc(1, sizeof *j);
	j->dir = xstrdup(dir);
	j->name = xstrdup(name);
	j->fd = -1;

	uint64_t generation = 0;
	char *snap = NULL;
	size_t snap_len = 0;
	int rc = arbor_state_read(dir, name, &snap, &snap_len, max_snapshot_bytes);
	if (rc == 0) {
		cJSON *doc = cJSON_ParseWithLength(snap, snap_len);
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "generation");
		if (!arbor_json_get_u53(g, &generation)) {
			snprintf(err, errlen, "%s/%s: not a journal snapshot", dir, name);
			cJSON_Delete(doc);
			free(snap);
			arbor_journal_close(j);
			return -EINVAL;
		}
		rc = replay && replay->snapshot
			     ? replay->snapshot(replay->ctx, cJSON_GetObjectItemCaseSensitive(doc, "data"))
			     : 0;
		cJSON_Delete(doc);
		free(snap);
		if (rc != 0) {
			snprintf(err, errlen, "%s/%s: snapshot rejected", dir, name);
			arbor_journal_close(j);
			return rc;
		}
	} else if (rc == -ENOENT) {
		if (replay && replay->snapshot)
			replay->snapshot(replay->ctx, NULL);
	} else {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
		arbor_journal_close(j);
		return rc;
	}

	char jname[PATH_MAX], jpath[PATH_MAX];
	snprintf(jname, sizeof jname, "%s.journal", name);
	snprintf(jpath, sizeof jpath, "%s/%s", dir, jname);
	char *text = NULL;
	size_t len = 0;
	rc = arbor_state_read(dir, jname, &text, &len, max_snapshot_bytes);
	bool matches = false;
	if (rc == 0) {
		int cb_rc = 0;
		size_t valid = replay_journal(text, len, generation, replay, &matches, &cb_rc);
		free(text);
		if (cb_rc != 0) {
			snprintf(err, errlen, "%s: record rejected", jpath);
			arbor_journal_close(j);
			return cb_rc;
		}
		if (matches) {
			if (valid < len && truncate(jpath, (off_t)valid) != 0) {
				rc = -errno;
				snprintf(err, errlen, "%s: truncate: %s", jpath, strerror(errno));
				arbor_journal_close(j);
				return rc;
			}
			j->fd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (j->fd < 0) {
				rc = -errno;
				snprintf(err, errlen, "%s: %s", jpath, strerror(errno));
				arbor_journal_close(j);
				return rc;
			}
			j->generation = generation;
			j->bytes = valid;
		}
	} else if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: %s", jpath, strerror(-rc));
		arbor_journal_close(j);
		return rc;
	}
	if (!matches) {
		rc = start_journal(j, generation, err, errlen);
		if (rc != 0) {
			arbor_journal_close(j);
			return rc;
		}
	}
	*out = j;
	return 0;
}

void arbor_journal_close(struct arbor_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	arbor_buf_free(&j->pending);
	free(j->dir);
	free(j->name);
	free(j);
}

void arbor_journal_append(struct arbor_journal *j, const cJSON *record)
{
	if (j->broken) {
		j->pending_records++; /* the rewrite takes it from the caller's memory */
		return;
	}
	char *line = cJSON_PrintUnformatted(record);
	arbor_buf_puts(&j->pending, line);
	arbor_buf_append(&j->pending, "\n", 1);
	cJSON_free(line);
	j->pending_records++;
}

void arbor_journal_append_text(struct arbor_journal *j, const char *text, size_t len)
{
	if (j->broken) {
		j->pending_records++;
		return;
	}
	arbor_buf_append(&j->pending, text, len);
	arbor_buf_append(&j->pending, "\n", 1);
	j->pending_records++;
}

size_t arbor_journal_pending(const struct arbor_journal *j)
{
	return j->pending_records;
}

/* Writes {"generation": G+1, "data": data} and an empty journal for G+1, each
 * synced; a journal broken by a failed sync is sound again afterwards. */
static int write_snapshot(struct arbor_journal *j, const char *data, size_t len, char *err, size_t errlen)
{
	struct arbor_buf doc = { 0 };
	arbor_buf_printf(&doc, "{\"generation\":%llu,\"data\":", (unsigned long long)(j->generation + 1));
	arbor_buf_append(&doc, data, len);
	arbor_buf_puts(&doc, "}\n");
	int rc = arbor_state_write(j->dir, j->name, doc.data, doc.len, err, errlen);
	arbor_buf_free(&doc);
	if (rc == 0)
		rc = start_journal(j, j->generation + 1, err, errlen);
	if (rc == 0 && j->broken) {
		/* Everything queued is in the snapshot (the caller's whole state). */
		j->broken = 0;
		j->pending.len = 0;
		j->pending_records = 0;
	}
	return rc;
}

/* A broken journal: rewrite it from the caller's memory, at most once per
 * rewrite_interval (a dead disk fails every attempt; each costs a snapshot). */
static int rewrite(struct arbor_journal *j, char *err, size_t errlen)
{
	if (j->snapshot == NULL) {
		snprintf(err, errlen, "%s/%s.journal: not trusted since %s; nothing is written until a restart",
			 j->dir, j->name, strerror(-j->broken));
		return j->broken;
	}
	double now = arbor_time_monotonic();
	if (now < j->next_rewrite) {
		snprintf(err, errlen, "%s/%s.journal: not trusted since %s; rewrite from memory pending", j->dir,
			 j->name, strerror(-j->broken));
		return j->broken;
	}
	struct arbor_buf text = { 0 };
	j->snapshot(j->snapshot_ctx, &text);
	int rc = write_snapshot(j, text.data ? text.data : "null", text.len ? text.len : 4, err, errlen);
	arbor_buf_free(&text);
	if (rc != 0)
		j->next_rewrite = now + rewrite_interval;
	return rc;
}

int arbor_journal_write(struct arbor_journal *j, char *err, size_t errlen)
{
	if (j->broken)
		return rewrite(j, err, errlen);
	if (j->pending.len == 0)
		return 0;
	int rc = arbor_write_all(j->fd, j->pending.data, j->pending.len);
	if (rc != 0) {
		/* Part of the batch may be in the file: cut it off, so the retry (the
		 * batch stays queued) appends after the last whole record. A file
		 * that cannot be cut back is rewritten from memory instead. */
		snprintf(err, errlen, "%s/%s.journal: %s", j->dir, j->name, strerror(-rc));
		if (ftruncate(j->fd, (off_t)j->bytes) != 0)
			j->broken = -errno;
		return rc;
	}
	j->bytes += j->pending.len;
	j->pending.len = 0;
	j->pending_records = 0;
	return 0;
}

int arbor_journal_fd(const struct arbor_journal *j)
{
	return j->fd;
}

void arbor_journal_sync_failed(struct arbor_journal *j, int rc)
{
	j->broken = rc < 0 ? rc : -EIO;
	j->next_rewrite = 0;
}

void arbor_journal_on_rewrite(struct arbor_journal *j, void (*snapshot)(void *ctx, struct arbor_buf *out),
			      void *ctx)
{
	j->snapshot = snapshot;
	j->snapshot_ctx = ctx;
}

bool arbor_journal_broken(const struct arbor_journal *j)
{
	return j->broken != 0;
}

int arbor_journal_commit(struct arbor_journal *j, char *err, size_t errlen)
{
	bool rewritten = j->broken != 0;
	int rc = arbor_journal_write(j, err, errlen);
	if (rc == 0 && !rewritten && fdatasync(j->fd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s/%s.journal: fdatasync: %s", j->dir, j->name, strerror(-rc));
		arbor_journal_sync_failed(j, rc);
	}
	return rc;
}

int arbor_journal_compact(struct arbor_journal *j, const cJSON *data, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(data);
	int rc = arbor_journal_compact_text(j, text, strlen(text), err, errlen);
	cJSON_free(text);
	return rc;
}

int arbor_journal_compact_text(struct arbor_journal *j, const char *data, size_t len, char *err, size_t errlen)
{
	/* Commit first, so the queued records are durable even if the snapshot
	 * fails. A broken journal cannot commit: the snapshot alone carries them. */
	if (!j->broken) {
		int rc = arbor_journal_commit(j, err, errlen);
		if (rc != 0 && !j->broken)
			return rc;
	}
	return write_snapshot(j, data, len, err, errlen);
}

uint64_t arbor_journal_bytes(const struct arbor_journal *j)
{
	return j->bytes;
}

uint64_t arbor_journal_generation(const struct arbor_journal *j)
{
	return j->generation;
}
