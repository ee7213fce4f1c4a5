/* libFuzzer harness for dhcp6pd's loaders of its own files: the client lease file
 * (client-<if>.json), the advertised list (advertised.json) and the delegation
 * journal's records (delegations.json). Whatever the bytes, each loader takes
 * what makes sense and refuses the rest; what a lease file yields encodes and
 * decodes back to the same delegation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "advertised.h"
#include "binding_record.h"
#include "client_lease_file.h"

static const uint8_t DUID[] = { 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void lease_file(const cJSON *doc)
{
	struct pd_lease l, back;
	struct in6_addr hint, hint2;
	uint8_t hint_len, hint_len2;
	struct uplink_applied ap, ap2;
	char err[200];
	if (client_lease_file_decode(doc, &l, &hint, &hint_len, &ap, err, sizeof err) != 0 || !l.valid)
		return;
	if (l.nprefix == 0 || l.nprefix > PD_PREFIXES_MAX || l.naddr > PD_ADDRS_MAX || hint_len > 128)
		violated("a lease file decodes beyond its bounds");
	/* through text, as the daemon writes the file and reads it back */
	cJSON *tree = client_lease_file_encode("wan0", "bound", &l, &hint, hint_len, &ap);
	char *text = cJSON_PrintUnformatted(tree);
	cJSON_Delete(tree);
	cJSON *again = cJSON_Parse(text);
	cJSON_free(text);
	if (client_lease_file_decode(again, &back, &hint2, &hint_len2, &ap2, err, sizeof err) != 0 || !back.valid ||
	    back.nprefix != l.nprefix || back.naddr != l.naddr || hint_len2 != hint_len ||
	    ap2.nunreachable != ap.nunreachable || memcmp(back.server_id, l.server_id, l.server_id_len) != 0)
		violated("a lease file does not read back the same through its text");
	for (size_t i = 0; i < l.nprefix; i++)
		if (memcmp(&back.prefix[i].addr, &l.prefix[i].addr, 16) != 0 || back.prefix[i].len != l.prefix[i].len)
			violated("prefix %zu of a lease file reads back differently", i);
	cJSON_Delete(again);
}

static void advertised(const cJSON *doc)
{
	static struct advertised_lan lans[8];
	size_t n, skipped;
	char err[200];
	if (advertised_decode(doc, lans, 8, &n, &skipped, err, sizeof err) != 0)
		return;
	if (n > 8)
		violated("an advertised list decodes %zu LANs into 8", n);
	for (size_t i = 0; i < n; i++)
		if (lans[i].nadv > LAN_ADV_MAX)
			violated("LAN %zu of an advertised list holds %zu prefixes", i, lans[i].nadv);
	cJSON *again = advertised_encode(lans, n);
	cJSON_Delete(again);
}

static void records(const cJSON *doc)
{
	static struct server6_spec spec;
	static struct pool6_spec pool;
	struct pd_server s;
	arbor_prefix6_parse("2001:db8::/32", &pool.prefix);
	pool.delegated_length = 56;
	spec.pools = &pool;
	spec.npools = 1;
	pd_server_init(&s, &spec, DUID, sizeof DUID);
	char err[200];
	const cJSON *rec;
	if (cJSON_IsArray(doc)) {
		cJSON_ArrayForEach(rec, doc)
			binding_record_apply(&s, rec, err, sizeof err);
	} else {
		binding_record_apply(&s, doc, err, sizeof err);
	}
	if (s.table.bound > s.table.count)
		violated("a journal made more bound delegations (%zu) than delegations (%zu)", s.table.bound, s.table.count);
	pd_server_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	if (doc == NULL)
		return 0;
	lease_file(doc);
	advertised(doc);
	records(doc);
	cJSON_Delete(doc);
	return 0;
}
