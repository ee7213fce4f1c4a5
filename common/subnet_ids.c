/* The persisted subnet-id table (see subnet_ids.h). Small and linear: a
 * machine has tens of interfaces, the ids fit a 65536-bit map, and the file
 * is rewritten whole (atomically) on every assignment. */
#include "subnet_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "errmsg.h"
#include "fileio.h"
#include "json.h"
#include "statefile.h"
#include "xalloc.h"

/* 65535 entries of about 30 bytes each fit comfortably. */
#define MAX_FILE_SIZE (4u << 20)

bool arbor_subnet_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			return false;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int arbor_subnet_name_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;
	while (*pa && *pb) {
		if (is_digit(*pa) && is_digit(*pb)) {
			while (*pa == '0')
				pa++;
			while (*pb == '0')
				pb++;
			size_t la = 0, lb = 0;
			while (is_digit(pa[la]))
				la++;
			while (is_digit(pb[lb]))
				lb++;
			if (la != lb) /* without leading zeros, the longer number is larger */
				return la < lb ? -1 : 1;
			int c = memcmp(pa, pb, la);
			if (c != 0)
				return c < 0 ? -1 : 1;
			pa += la;
			pb += lb;
		} else if (*pa != *pb) {
			return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
		} else {
			pa++;
			pb++;
		}
	}
	if (*pa || *pb)
		return *pa ? 1 : -1;
	int c = strcmp(a, b); /* "eth01" and "eth1": equal by value, still ordered */
	return c < 0 ? -1 : c > 0;
}

void arbor_subnet_ids_free(struct arbor_subnet_ids *t)
{
	free(t->dir);
	free(t->file);
	free(t->v);
	memset(t, 0, sizeof *t);
}

#define fail(err, errlen, rc, ...) arbor_errmsg(rc, err, errlen, __VA_ARGS__)

int arbor_subnet_ids_lookup(const struct arbor_subnet_ids *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].id;
	return -ENOENT;
}

static int cmp_entry_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name listed twice in the file (JSON allows it, cJSON keeps both). */
static int check_names_unique(const struct arbor_subnet_ids *t, char *err, size_t errlen)
{
	const char **names = xcalloc(t->n ? t->n : 1, sizeof *names);
	for (size_t i = 0; i < t->n; i++)
		names[i] = t->v[i].name;
	qsort(names, t->n, sizeof *names, cmp_entry_names);
	int rc = 0;
	for (size_t i = 1; i < t->n && rc == 0; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = fail(err, errlen, -EINVAL, "%s: subnets.%s: listed twice", t->file, names[i]);
	free(names);
	return rc;
}

static int parse(struct arbor_subnet_ids *t, const char *text, size_t len, char *err, size_t errlen)
{
	const char *f = t->file;
	cJSON *doc = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return fail(err, errlen, -EINVAL, "%s: not a JSON object", f);
	}
	int rc = 0;
	uint64_t version = 0;
	const cJSON *subnets = cJSON_GetObjectItemCaseSensitive(doc, "subnets");
	for (const cJSON *k = doc->child; k && rc == 0; k = k->next)
		if (strcmp(k->string, "version") != 0 && strcmp(k->string, "subnets") != 0)
			rc = fail(err, errlen, -EINVAL, "%s: %.64s: unknown key", f, k->string);
	if (rc == 0 && !arbor_json_get_u53(cJSON_GetObjectItemCaseSensitive(doc, "version"), &version))
		rc = fail(err, errlen, -EINVAL, "%s: version: missing or not a number", f);
	else if (rc == 0 && version != 1)
		rc = fail(err, errlen, -EINVAL, "%s: version: only version 1 is known", f);
	else if (rc == 0 && !cJSON_IsObject(subnets))
		rc = fail(err, errlen, -EINVAL, "%s: subnets: missing or not an object", f);
	size_t n = 0;
	for (const cJSON *s = subnets ? subnets->child : NULL; s; s = s->next)
		n++;
	if (rc == 0 && n > 0)
		t->v = xcalloc(n, sizeof *t->v);
	uint8_t *used = rc == 0 ? xcalloc(ARBOR_SUBNET_ID_MAX + 1, 1) : NULL;
	for (const cJSON *s = subnets ? subnets->child : NULL; s && rc == 0; s = s->next) {
		uint64_t id;
		if (!arbor_subnet_name_valid(s->string))
			rc = fail(err, errlen, -EINVAL, "%s: subnets: \"%.64s\" is not an interface name", f, s->string);
		else if (!arbor_json_get_u53(s, &id) || id < 1 || id > ARBOR_SUBNET_ID_MAX)
			rc = fail(err, errlen, -EINVAL, "%s: subnets.%s: not a subnet id 1..65535", f, s->string);
		else if (used[id])
			rc = fail(err, errlen, -EINVAL, "%s: subnets.%s: id already given to another interface", f, s->string);
		if (rc != 0)
			break;
		used[id] = 1;
		snprintf(t->v[t->n].name, sizeof t->v[t->n].name, "%s", s->string);
		t->v[t->n].id = (uint16_t)id;
		t->n++;
	}
	free(used);
	cJSON_Delete(doc);
	return rc == 0 ? check_names_unique(t, err, errlen) : rc;
}

int arbor_subnet_ids_load(struct arbor_subnet_ids *t, const char *dir, const char *file, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->dir = xstrdup(dir);
	t->file = xstrdup(file);
	char *text = NULL;
	size_t len = 0;
	int rc = arbor_state_read(dir, file, &text, &len, MAX_FILE_SIZE);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, file, strerror(-rc));
		return rc;
	}
	rc = parse(t, text, len, err, errlen);
	free(text);
	if (rc < 0) {
		free(t->v);
		t->v = NULL;
		t->n = 0;
	}
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const struct arbor_subnet_id *x = *(const struct arbor_subnet_id *const *)a;
	const struct arbor_subnet_id *y = *(const struct arbor_subnet_id *const *)b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Writes the table, ordered by id (the order the ids were handed out). */
static int save(const struct arbor_subnet_ids *t, char *err, size_t errlen)
{
	const struct arbor_subnet_id **order = xcalloc(t->n ? t->n : 1, sizeof *order);
	cJSON *doc = cJSON_CreateObject();
	cJSON *subnets = cJSON_CreateObject();
	if (order == NULL || doc == NULL || subnets == NULL) {
		free(order);
		cJSON_Delete(doc);
		cJSON_Delete(subnets);
		return fail(err, errlen, -ENOMEM, "%s: out of memory", t->file);
	}
	for (size_t i = 0; i < t->n; i++)
		order[i] = &t->v[i];
	qsort(order, t->n, sizeof *order, by_id);
	arbor_json_add_int(doc, "version", 1);
	cJSON_AddItemToObject(doc, "subnets", subnets);
	for (size_t i = 0; i < t->n; i++)
		arbor_json_add_int(subnets, order[i]->name, order[i]->id);
	free(order);
	int rc = arbor_mkdir_p(t->dir, 0750);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", t->dir, strerror(-rc));
	else
		rc = arbor_state_write_json(t->dir, t->file, doc, err, errlen);
	cJSON_Delete(doc);
	return rc;
}

/* Room for `more` entries. */
static void reserve(struct arbor_subnet_ids *t, size_t more)
{
	t->v = xreallocarray(t->v, t->n + more, sizeof *t->v);
}

/* Several daemons number interfaces in one table (dnsd its interfaces, wgd
 * and overlayd the devices they create), so an assignment holds an exclusive
 * lock on <dir>/.<file>.lock while it reads the file again, picks ids and
 * writes it: two daemons never give one id to two names. Returns the lock's
 * fd or -errno. */
static int lock_table(const struct arbor_subnet_ids *t, char *err, size_t errlen)
{
	int rc = arbor_mkdir_p(t->dir, 0750);
	if (rc < 0)
		return fail(err, errlen, rc, "%s: %s", t->dir, strerror(-rc));
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/.%s.lock", t->dir, t->file);
	/* Read-only is enough for flock, and lets a daemon of another user (in the
	 * shared group) lock a file the first one created 0640. */
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	return fd;
}

/* Adds what another daemon wrote since t was loaded. The file wins where the
 * two disagree (it is what everyone else reads). */
static int refresh(struct arbor_subnet_ids *t, char *err, size_t errlen)
{
	struct arbor_subnet_ids file;
	int rc = arbor_subnet_ids_load(&file, t->dir, t->file, err, errlen);
	if (rc < 0) {
		arbor_subnet_ids_free(&file);
		return rc;
	}
	/* The file's ids as a bitmap and its names sorted: a full table (65,535
	 * entries) is merged in O(n log n), not n² string compares. */
	file.v = xreallocarray(file.v, file.n + t->n + 1, sizeof *file.v); /* names[] points into it */
	uint8_t *id_taken = xcalloc(ARBOR_SUBNET_ID_MAX + 1, 1);
	const char **names = xcalloc(file.n ? file.n : 1, sizeof *names);
	size_t file_n = file.n;
	for (size_t k = 0; k < file_n; k++) {
		id_taken[file.v[k].id] = 1;
		names[k] = file.v[k].name;
	}
	qsort(names, file_n, sizeof *names, cmp_entry_names);
	for (size_t i = 0; i < t->n; i++) {
		const char *name = t->v[i].name;
		bool clash = id_taken[t->v[i].id] || bsearch(&name, names, file_n, sizeof *names, cmp_entry_names);
		if (!clash)
			file.v[file.n++] = t->v[i];
	}
	free(names);
	free(id_taken);
	free(t->v);
	t->v = file.v;
	t->n = file.n;
	file.v = NULL;
	arbor_subnet_ids_free(&file);
	return 0;
}

/* Gives names[0..n) (those still without an id once the file is read again)
 * the lowest free ids, in that order, and persists the table; on any failure
 * the table is as before. */
static int assign(struct arbor_subnet_ids *t, const char **names, size_t n, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	int lock = lock_table(t, err, errlen);
	if (lock < 0)
		return lock;
	int rc = refresh(t, err, errlen);
	size_t k = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (arbor_subnet_ids_lookup(t, names[i]) < 0)
			names[k++] = names[i];
	n = k;
	if (rc == 0 && n > ARBOR_SUBNET_ID_MAX - t->n) {
		snprintf(err, errlen, "%s: out of subnet ids: %zu free, %zu interfaces need one (first %s)", t->file,
			 ARBOR_SUBNET_ID_MAX - t->n, n, names[0]);
		rc = -ENOSPC;
	}
	if (rc < 0 || n == 0) {
		close(lock);
		return rc;
	}
	uint8_t *used = xcalloc(ARBOR_SUBNET_ID_MAX + 1, 1);
	reserve(t, n);
	for (size_t i = 0; i < t->n; i++)
		used[t->v[i].id] = 1;
	size_t old_n = t->n;
	uint32_t next = 1;
	for (size_t i = 0; i < n; i++) {
		while (used[next]) /* there is room: checked above */
			next++;
		used[next] = 1;
		snprintf(t->v[t->n].name, sizeof t->v[t->n].name, "%s", names[i]);
		t->v[t->n].id = (uint16_t)next;
		t->n++;
	}
	free(used);
	rc = save(t, err, errlen);
	if (rc < 0)
		t->n = old_n; /* not on disk: not assigned */
	close(lock);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return arbor_subnet_name_cmp(*(const char *const *)a, *(const char *const *)b);
}

int arbor_subnet_ids_assign_physical(struct arbor_subnet_ids *t, const char *const *names, size_t n, char *err,
				     size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (!arbor_subnet_name_valid(names[i])) {
			snprintf(err, errlen, "\"%.64s\" is not an interface name", names[i] ? names[i] : "(null)");
			return -EINVAL;
		}
	const char **fresh = xcalloc(n ? n : 1, sizeof *fresh);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = arbor_subnet_ids_lookup(t, names[i]) >= 0;
		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(fresh[j], names[i]) == 0;
		if (!seen)
			fresh[k++] = names[i];
	}
	qsort(fresh, k, sizeof *fresh, cmp_names);
	int rc = assign(t, fresh, k, err, errlen);
	free(fresh);
	return rc < 0 ? rc : (int)k;
}

int arbor_subnet_ids_assign_virtual(struct arbor_subnet_ids *t, const char *name, char *err, size_t errlen)
{
	if (!arbor_subnet_name_valid(name)) {
		snprintf(err, errlen, "\"%.64s\" is not an interface name", name ? name : "(null)");
		return -EINVAL;
	}
	int id = arbor_subnet_ids_lookup(t, name);
	if (id >= 0)
		return id;
	int rc = assign(t, &name, 1, err, errlen);
	return rc < 0 ? rc : arbor_subnet_ids_lookup(t, name);
}
