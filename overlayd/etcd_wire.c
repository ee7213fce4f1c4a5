/* etcd's JSON gateway (see etcd_wire.h). Answers are read leniently where
 * proto3 allows absence (a missing field is its zero value) and strictly where
 * a value is present (a revision that is not a number is an error). */
#include "etcd_wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "join_wire.h"
#include "xalloc.h"

#define MAX_KVS 1000000


void ovl_etcd_b64(struct arbor_buf *out, const void *data, size_t len)
{
	arbor_buf_reserve(out, ARBOR_BASE64_LEN(len) + 1);
	out->len += arbor_base64_encode(data, len, out->data + out->len);
}

/* Decoded bytes of a base64 string, NUL-terminated, in *out (malloc'd). */
static bool unb64(const cJSON *v, char **out, size_t *len)
{
	if (!cJSON_IsString(v))
		return false;
	size_t in = strlen(v->valuestring);
	char *buf = xmalloc(in / 4 * 3 + 1);
	int got = arbor_base64_decode(v->valuestring, in, (uint8_t *)buf, in / 4 * 3);
	if (got < 0) {
		free(buf);
		return false;
	}
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = (size_t)got;
	return true;
}

/* An int64 as the gateway writes it: a string of digits (or a plain number). */
static bool get_i64(const cJSON *v, int64_t *out)
{
	if (v == NULL) {
		*out = 0;
		return true;
	}
	if (cJSON_IsNumber(v)) {
		if (!(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0))
			return false;
		*out = (int64_t)v->valuedouble;
		return true;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) > 18)
		return false;
	int64_t n = 0;
	for (const char *c = v->valuestring; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		n = n * 10 + (*c - '0');
	}
	*out = n;
	return true;
}

static void range_end(const char *prefix, char *out, size_t outlen)
{
	/* The first key after every key starting with prefix: its last byte plus one. */
	snprintf(out, outlen, "%s", prefix);
	size_t n = strlen(out);
	if (n)
		out[n - 1]++;
}

void ovl_etcd_range_request(struct arbor_buf *out, const char *prefix)
{
	char end[512];
	range_end(prefix, end, sizeof end);
	arbor_buf_puts(out, "{\"key\":\"");
	ovl_etcd_b64(out, prefix, strlen(prefix));
	arbor_buf_puts(out, "\",\"range_end\":\"");
	ovl_etcd_b64(out, end, strlen(end));
	arbor_buf_puts(out, "\"}");
}

void ovl_etcd_watch_request(struct arbor_buf *out, const char *prefix, int64_t start_revision)
{
	char end[512];
	range_end(prefix, end, sizeof end);
	arbor_buf_puts(out, "{\"create_request\":{\"key\":\"");
	ovl_etcd_b64(out, prefix, strlen(prefix));
	arbor_buf_puts(out, "\",\"range_end\":\"");
	ovl_etcd_b64(out, end, strlen(end));
	arbor_buf_printf(out, "\",\"start_revision\":\"%lld\"}}", (long long)start_revision);
}

void ovl_etcd_txn_request(struct arbor_buf *out, const struct ovl_etcd_op *ops, size_t n)
{
	arbor_buf_puts(out, "{\"compare\":[");
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct ovl_etcd_op *o = &ops[i];
		if (o->kind > OVL_ETCD_IF_MOD)
			continue;
		arbor_buf_puts(out, first ? "{\"key\":\"" : ",{\"key\":\"");
		first = false;
		ovl_etcd_b64(out, o->key, strlen(o->key));
		if (o->kind == OVL_ETCD_IF_MOD)
			arbor_buf_printf(out, "\",\"target\":\"MOD\",\"mod_revision\":\"%lld\",\"result\":\"EQUAL\"}",
					 (long long)o->revision);
		else
			arbor_buf_printf(out, "\",\"target\":\"VERSION\",\"version\":\"0\",\"result\":\"%s\"}",
					 o->kind == OVL_ETCD_IF_ABSENT ? "EQUAL" : "GREATER");
	}
	arbor_buf_puts(out, "],\"success\":[");
	first = true;
	for (size_t i = 0; i < n; i++) {
		const struct ovl_etcd_op *o = &ops[i];
		if (o->kind <= OVL_ETCD_IF_MOD)
			continue;
		arbor_buf_puts(out, first ? "" : ",");
		first = false;
		arbor_buf_puts(out, o->kind == OVL_ETCD_PUT ? "{\"request_put\":{\"key\":\"" : "{\"request_delete_range\":{\"key\":\"");
		ovl_etcd_b64(out, o->key, strlen(o->key));
		if (o->kind == OVL_ETCD_PUT) {
			arbor_buf_puts(out, "\",\"value\":\"");
			ovl_etcd_b64(out, o->value, strlen(o->value));
		}
		arbor_buf_puts(out, "\"}}");
	}
	arbor_buf_puts(out, "]}");
}

void ovl_etcd_answer_free(struct ovl_etcd_answer *a)
{
	for (size_t i = 0; i < a->nkvs; i++) {
		free(a->kvs[i].key);
		free(a->kvs[i].value);
	}
	free(a->kvs);
	a->kvs = NULL;
	a->nkvs = 0;
}

/* The common part: parse, {"error": ...}, header.revision. */
static cJSON *open_answer(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	cJSON *doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		ovl_fail(err, errlen, "the etcd answer is not a JSON object");
		return NULL;
	}
	return doc;
}

static int read_header(const cJSON *obj, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, "error");
	if (e) {
		a->error = true;
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		snprintf(a->reason, sizeof a->reason, "%s", m ? m : "an error without a message");
		return 0;
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "header");
	if (h && !cJSON_IsObject(h))
		return ovl_fail(err, errlen, "etcd: \"header\" is not an object");
	if (!get_i64(cJSON_GetObjectItemCaseSensitive(h, "revision"), &a->revision))
		return ovl_fail(err, errlen, "etcd: the header's revision is not a number");
	return 0;
}

static int read_kv(const cJSON *kv, struct ovl_etcd_kv *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(kv))
		return ovl_fail(err, errlen, "etcd: a kv is not an object");
	if (!unb64(cJSON_GetObjectItemCaseSensitive(kv, "key"), &out->key, NULL))
		return ovl_fail(err, errlen, "etcd: a key is not base64");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
	if (v == NULL)
		out->value = xstrdup("");
	else if (!unb64(v, &out->value, &out->value_len))
		return ovl_fail(err, errlen, "etcd: a value is not base64");
	if (!get_i64(cJSON_GetObjectItemCaseSensitive(kv, "mod_revision"), &out->mod_revision))
		return ovl_fail(err, errlen, "etcd: a mod_revision is not a number");
	return 0;
}

static int read_kvs(const cJSON *arr, bool events, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	if (arr == NULL)
		return 0;
	int n = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || n > MAX_KVS)
		return ovl_fail(err, errlen, "etcd: \"%s\" is not an array (of at most %d)", events ? "events" : "kvs", MAX_KVS);
	a->kvs = n ? xcalloc((size_t)n, sizeof *a->kvs) : NULL;
	for (const cJSON *e = arr->child; e; e = e->next) {
		const cJSON *kv = e;
		bool deleted = false;
		if (events) {
			const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
			if (type && !(cJSON_IsString(type) && (strcmp(type->valuestring, "PUT") == 0 ||
							      strcmp(type->valuestring, "DELETE") == 0)))
				return ovl_fail(err, errlen, "etcd: an event's type is neither PUT nor DELETE");
			deleted = type && strcmp(type->valuestring, "DELETE") == 0;
			kv = cJSON_GetObjectItemCaseSensitive(e, "kv");
		}
		int rc = read_kv(kv, &a->kvs[a->nkvs], err, errlen);
		a->kvs[a->nkvs].deleted = deleted;
		a->nkvs++; /* counted even when half read: freed whole */
		if (rc)
			return rc;
	}
	return 0;
}

int ovl_etcd_parse_range(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	cJSON *doc = open_answer(body, len, a, err, errlen);
	if (doc == NULL)
		return -EINVAL;
	int rc = read_header(doc, a, err, errlen);
	if (rc == 0 && !a->error) {
		rc = read_kvs(cJSON_GetObjectItemCaseSensitive(doc, "kvs"), false, a, err, errlen);
		a->more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"));
	}
	cJSON_Delete(doc);
	if (rc)
		ovl_etcd_answer_free(a);
	return rc;
}

int ovl_etcd_parse_txn(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	cJSON *doc = open_answer(body, len, a, err, errlen);
	if (doc == NULL)
		return -EINVAL;
	int rc = read_header(doc, a, err, errlen);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(doc, "succeeded");
	if (rc == 0 && ok && !cJSON_IsBool(ok))
		rc = ovl_fail(err, errlen, "etcd: \"succeeded\" is not a boolean");
	a->succeeded = cJSON_IsTrue(ok);
	cJSON_Delete(doc);
	return rc;
}

int ovl_etcd_parse_watch(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen)
{
	cJSON *doc = open_answer(body, len, a, err, errlen);
	if (doc == NULL)
		return -EINVAL;
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(doc, "result");
	int rc = 0;
	if (result == NULL) {
		rc = read_header(doc, a, err, errlen); /* {"error": ...} */
		if (rc == 0 && !a->error)
			rc = ovl_fail(err, errlen, "etcd: a watch message without \"result\"");
	} else if (!cJSON_IsObject(result)) {
		rc = ovl_fail(err, errlen, "etcd: the watch \"result\" is not an object");
	} else {
		rc = read_header(result, a, err, errlen);
		a->created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "created"));
		a->canceled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "canceled"));
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "cancel_reason"));
		if (why)
			snprintf(a->reason, sizeof a->reason, "%s", why);
		if (rc == 0 && !get_i64(cJSON_GetObjectItemCaseSensitive(result, "compact_revision"), &a->compact_revision))
			rc = ovl_fail(err, errlen, "etcd: compact_revision is not a number");
		if (rc == 0)
			rc = read_kvs(cJSON_GetObjectItemCaseSensitive(result, "events"), true, a, err, errlen);
	}
	cJSON_Delete(doc);
	if (rc)
		ovl_etcd_answer_free(a);
	return rc;
}
