/* etcd v3's JSON gateway on the wire (etcd-server 3.4): the requests overlayd
 * sends (range, txn, watch) and the answers it reads. Keys and values are
 * bytes, standard base64 in JSON; 64-bit numbers arrive as strings; proto3
 * leaves out false and zero fields (a failed txn has no "succeeded"). Pure;
 * store_etcd.c does the I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Standard base64 with padding, appended to out. */
void ovl_etcd_b64(struct arbor_buf *out, const void *data, size_t len);

/* {"key": prefix, "range_end": prefix + 1}: every key under prefix. */
void ovl_etcd_range_request(struct arbor_buf *out, const char *prefix);
/* {"create_request": {"key", "range_end", "start_revision"}}. */
void ovl_etcd_watch_request(struct arbor_buf *out, const char *prefix, int64_t start_revision);

enum ovl_etcd_op_kind {
	OVL_ETCD_IF_ABSENT,   /* compare: the key does not exist (version 0) */
	OVL_ETCD_IF_PRESENT,  /* compare: it exists */
	OVL_ETCD_IF_MOD,      /* compare: its mod_revision is revision */
	OVL_ETCD_PUT,         /* then: put value */
	OVL_ETCD_DELETE,      /* then: delete the key */
};

struct ovl_etcd_op {
	enum ovl_etcd_op_kind kind;
	const char *key;
	const char *value; /* PUT */
	int64_t revision;  /* IF_MOD */
};

/* A txn: the IF_* ops are its compares, the others its success branch. */
void ovl_etcd_txn_request(struct arbor_buf *out, const struct ovl_etcd_op *ops, size_t n);

struct ovl_etcd_kv {
	char *key;   /* NUL-terminated */
	char *value; /* NUL-terminated (may hold NULs: value_len counts) */
	size_t value_len;
	int64_t mod_revision;
	bool deleted; /* watch events: a DELETE */
};

/* A range answer, or one watch message. */
struct ovl_etcd_answer {
	int64_t revision;        /* header.revision */
	struct ovl_etcd_kv *kvs; /* range: kvs; watch: the events' kvs */
	size_t nkvs;
	bool more;               /* range: truncated */
	bool succeeded;          /* txn */
	bool created, canceled;  /* watch */
	int64_t compact_revision;
	char reason[160];        /* watch: cancel_reason; any: the gateway's error */
	bool error;              /* {"error": ...} from the gateway */
};

/* Each 0 or -EINVAL with a message in err; free with ovl_etcd_answer_free. */
int ovl_etcd_parse_range(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen);
int ovl_etcd_parse_txn(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen);
int ovl_etcd_parse_watch(const char *body, size_t len, struct ovl_etcd_answer *a, char *err, size_t errlen);
void ovl_etcd_answer_free(struct ovl_etcd_answer *a);
