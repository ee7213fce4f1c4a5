/* Reading dhcp4d's lease database without disturbing it: dhcp4d replaces the
 * snapshot atomically and appends whole lines to the journal, so a reader sees a
 * consistent snapshot and a journal whose last line may be torn (skipped). A
 * journal of another generation than the snapshot is stale and ignored, as dhcp4d
 * itself does. */
#include "lease_view.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "statefile.h"
#include "xalloc.h"

struct entry {
	struct lease_view v;
	int bound;
};

struct table {
	struct entry *e;
	size_t n, cap;
};

static void apply(struct table *t, const cJSON *rec)
{
	const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(rec, "interface");
	const cJSON *addr = cJSON_GetObjectItemCaseSensitive(rec, "address");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(rec, "state");
	const cJSON *ends = cJSON_GetObjectItemCaseSensitive(rec, "ends");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(rec, "hostname");
	struct in_addr a;
	if (!cJSON_IsString(ifn) || !cJSON_IsString(addr) || !cJSON_IsString(state) ||
	    inet_pton(AF_INET, addr->valuestring, &a) != 1 || strlen(ifn->valuestring) >= 16)
		return;
	struct entry *e = NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].v.addr.s_addr == a.s_addr && strcmp(t->e[i].v.interface, ifn->valuestring) == 0)
			e = &t->e[i];
	if (e == NULL) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			t->e = xrealloc(t->e, t->cap * sizeof *t->e);
		}
		e = &t->e[t->n++];
		memset(e, 0, sizeof *e);
		snprintf(e->v.interface, sizeof e->v.interface, "%s", ifn->valuestring);
		e->v.addr = a;
	}
	e->bound = strcmp(state->valuestring, "bound") == 0;
	e->v.ends = cJSON_IsNumber(ends) ? ends->valuedouble : 0;
	snprintf(e->v.hostname, sizeof e->v.hostname, "%s", cJSON_IsString(host) ? host->valuestring : "");
}

int lease_view_read(const char *dir, double now, struct lease_view **out, size_t *n, double *next_end, char *err,
		    size_t errlen)
{
	*out = NULL;
	*n = 0;
	*next_end = 0;
	char *text = NULL;
	size_t len;
	int rc = arbor_state_read(dir, "leases.json", &text, &len, 256u << 20);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/leases.json: %s", dir, strerror(-rc));
		return rc;
	}
	cJSON *snap = cJSON_ParseWithLength(text, len);
	free(text);
	if (snap == NULL) {
		snprintf(err, errlen, "%s/leases.json: not JSON", dir);
		return -EBADMSG;
	}
	struct table t = { 0 };
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(snap, "generation");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(snap, "data");
	const cJSON *rec;
	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(data, "leases"))
		apply(&t, rec);
	if (arbor_state_read(dir, "leases.json.journal", &text, &len, 256u << 20) == 0) {
		char *line = text, *end = text + len;
		bool first = true, same_generation = false;
		while (line < end) {
			char *nl = memchr(line, '\n', (size_t)(end - line));
			if (nl == NULL)
				break; /* a torn last line: not committed */
			cJSON *j = cJSON_ParseWithLength(line, (size_t)(nl - line));
			if (first) {
				const cJSON *jg = cJSON_GetObjectItemCaseSensitive(j, "journal");
				same_generation = cJSON_IsNumber(jg) && cJSON_IsNumber(gen) && jg->valuedouble == gen->valuedouble;
				first = false;
			} else if (same_generation && j) {
				apply(&t, j);
			}
			cJSON_Delete(j);
			if (!same_generation)
				break;
			line = nl + 1;
		}
		free(text);
	}
	cJSON_Delete(snap);
	size_t kept = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (!t.e[i].bound || t.e[i].v.ends <= now)
			continue;
		if (*next_end == 0 || t.e[i].v.ends < *next_end)
			*next_end = t.e[i].v.ends;
		kept++;
	}
	struct lease_view *v = xcalloc(kept + 1, sizeof *v);
	for (size_t i = 0; i < t.n; i++)
		if (t.e[i].bound && t.e[i].v.ends > now)
			v[(*n)++] = t.e[i].v;
	free(t.e);
	*out = v;
	return 0;
}

void lease_view_stamp(const char *dir, struct lease_view_stamp *out)
{
	char path[4096];
	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/leases.json", dir);
	out->snap_ok = stat(path, &out->snap) == 0;
	snprintf(path, sizeof path, "%s/leases.json.journal", dir);
	out->journal_ok = stat(path, &out->journal) == 0;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int lease_view_stamp_equal(const struct lease_view_stamp *a, const struct lease_view_stamp *b)
{
	return a->snap_ok == b->snap_ok && a->journal_ok == b->journal_ok && (!a->snap_ok || same_stat(&a->snap, &b->snap)) &&
	       (!a->journal_ok || same_stat(&a->journal, &b->journal));
}
