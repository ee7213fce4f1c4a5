/* libFuzzer harness for etcd's JSON gateway answers as overlayd reads them
 * (etcd_wire.c): arbitrary bytes as a range answer, a txn answer and a watch
 * message must parse or be refused, never crash; what parses is freed whole. */
#include <stdint.h>
#include <string.h>

#include "etcd_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_etcd_answer a;
	char err[256];
	if (ovl_etcd_parse_range((const char *)data, size, &a, err, sizeof err) == 0) {
		for (size_t i = 0; i < a.nkvs; i++)
			if (strlen(a.kvs[i].key) > size)
				__builtin_trap();
		ovl_etcd_answer_free(&a);
	}
	if (ovl_etcd_parse_txn((const char *)data, size, &a, err, sizeof err) == 0)
		ovl_etcd_answer_free(&a);
	if (ovl_etcd_parse_watch((const char *)data, size, &a, err, sizeof err) == 0)
		ovl_etcd_answer_free(&a);
	return 0;
}
