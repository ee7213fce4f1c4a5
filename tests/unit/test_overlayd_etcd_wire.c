/* etcd's JSON gateway as overlayd speaks it: requests with base64 keys and
 * string revisions; answers with proto3's omissions (a failed txn has no
 * "succeeded"; a PUT event no "type"), errors and compaction. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "etcd_wire.h"
#include "tap.h"

int main(void)
{
	struct arbor_buf b = { 0 };
	ovl_etcd_range_request(&b, "/p/");
	CHECK(strcmp(b.data, "{\"key\":\"L3Av\",\"range_end\":\"L3Aw\"}") == 0, "range: the prefix and the key after it");
	b.len = 0;
	ovl_etcd_watch_request(&b, "/p/", 42);
	CHECK(strstr(b.data, "\"start_revision\":\"42\"") && strstr(b.data, "create_request"), "watch from a revision");
	b.len = 0;
	struct ovl_etcd_op ops[] = { { OVL_ETCD_IF_ABSENT, "/p/a", NULL, 0 }, { OVL_ETCD_IF_PRESENT, "/p/t", NULL, 0 },
				     { OVL_ETCD_IF_MOD, "/p/s", NULL, 7 },	  { OVL_ETCD_PUT, "/p/a", "1", 0 },
				     { OVL_ETCD_DELETE, "/p/t", NULL, 0 } };
	ovl_etcd_txn_request(&b, ops, 5);
	cJSON *doc = cJSON_Parse(b.data);
	cJSON *cmp = cJSON_GetObjectItem(doc, "compare"), *succ = cJSON_GetObjectItem(doc, "success");
	CHECK(cJSON_GetArraySize(cmp) == 3 && cJSON_GetArraySize(succ) == 2, "three compares, two operations");
	CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cmp, 0), "result")->valuestring, "EQUAL") == 0 &&
		      strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cmp, 1), "result")->valuestring, "GREATER") == 0 &&
		      strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cmp, 2), "mod_revision")->valuestring, "7") == 0,
	      "absent is version 0, present is version > 0, mod_revision as a string");
	CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(succ, 0), "request_put"), "value")->valuestring,
		     "MQ==") == 0, "values in standard base64");
	cJSON_Delete(doc);
	arbor_buf_free(&b);

	struct ovl_etcd_answer a;
	char err[256];
	const char *range = "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"L3AvYQ==\",\"mod_revision\":\"7\","
			    "\"value\":\"eyJ4IjoxfQ==\"},{\"key\":\"L3AvYg==\",\"mod_revision\":\"5\"}],\"count\":\"2\"}";
	CHECK(ovl_etcd_parse_range(range, strlen(range), &a, err, sizeof err) == 0 && a.revision == 7 && a.nkvs == 2 &&
		      strcmp(a.kvs[0].key, "/p/a") == 0 && strcmp(a.kvs[0].value, "{\"x\":1}") == 0 &&
		      a.kvs[1].value_len == 0 && a.kvs[0].mod_revision == 7,
	      "a range: keys and values decoded, revisions read from strings, an empty value omitted");
	ovl_etcd_answer_free(&a);
	CHECK(ovl_etcd_parse_range("{\"header\":{\"revision\":\"3\"}}", 27, &a, err, sizeof err) == 0 && a.nkvs == 0,
	      "an empty range has no kvs at all");
	const char *ok = "{\"header\":{\"revision\":\"8\"},\"succeeded\":true}";
	CHECK(ovl_etcd_parse_txn(ok, strlen(ok), &a, err, sizeof err) == 0 && a.succeeded && a.revision == 8, "txn won");
	const char *lost = "{\"header\":{\"revision\":\"9\"}}";
	CHECK(ovl_etcd_parse_txn(lost, strlen(lost), &a, err, sizeof err) == 0 && !a.succeeded,
	      "a failed txn has no \"succeeded\"");
	const char *w = "{\"result\":{\"header\":{\"revision\":\"10\"},\"events\":[{\"kv\":{\"key\":\"YQ==\",\"mod_revision\":"
			"\"10\",\"value\":\"Yg==\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yw==\",\"mod_revision\":\"10\"}}]}}";
	CHECK(ovl_etcd_parse_watch(w, strlen(w), &a, err, sizeof err) == 0 && a.nkvs == 2 && !a.kvs[0].deleted &&
		      a.kvs[1].deleted && a.revision == 10,
	      "watch events: a PUT has no type, a DELETE says so");
	ovl_etcd_answer_free(&a);
	const char *c = "{\"result\":{\"header\":{\"revision\":\"12\"},\"canceled\":true,\"compact_revision\":\"5\"}}";
	CHECK(ovl_etcd_parse_watch(c, strlen(c), &a, err, sizeof err) == 0 && a.canceled && a.compact_revision == 5,
	      "a watch canceled by compaction");
	const char *e = "{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: request timed out\"}}";
	CHECK(ovl_etcd_parse_txn(e, strlen(e), &a, err, sizeof err) == 0 && a.error && strstr(a.reason, "timed out"),
	      "the gateway's error");
	static const char *const bad[] = { "", "[]", "{\"header\":{\"revision\":\"x\"}}",
					   "{\"kvs\":[{\"key\":\"!!\"}]}", "{\"result\":{\"events\":[{\"type\":\"EXPIRE\"}]}}",
					   "{\"succeeded\":\"yes\"}" };
	CHECK(ovl_etcd_parse_range(bad[0], 0, &a, err, sizeof err) < 0 && ovl_etcd_parse_range(bad[1], 2, &a, err, sizeof err) < 0 &&
		      ovl_etcd_parse_range(bad[2], strlen(bad[2]), &a, err, sizeof err) < 0 &&
		      ovl_etcd_parse_range(bad[3], strlen(bad[3]), &a, err, sizeof err) < 0 &&
		      ovl_etcd_parse_watch(bad[4], strlen(bad[4]), &a, err, sizeof err) < 0 &&
		      ovl_etcd_parse_txn(bad[5], strlen(bad[5]), &a, err, sizeof err) < 0,
	      "malformed answers are refused");
	return tap_done();
}
