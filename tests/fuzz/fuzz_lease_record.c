/* libFuzzer harness for dhcp4d's lease records as a restart applies them: each
 * input line is a journal record (or a snapshot entry), applied in order to the
 * lease table its "interface" names, exactly as dhcp4d replays its journal.
 * A record is taken or refused, never a crash; after every record the table's
 * invariants hold; and every lease, written back with lease_record_write (what
 * the journal and the snapshot hold) and applied to an empty table, comes back
 * the same: a restart never changes a lease. abort() on any violation. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease_record.h"
#include "lease_table.h"
#include "xalloc.h"
#include "fuzz_check.h"

/* Two served subnets, small so that records collide on addresses and keys. */
static const struct {
	const char *ifname;
	uint32_t network;
	unsigned prefixlen;
} subnets[] = { { "lan0", 0xc0a80100u, 28 }, { "lan1", 0x0a000000u, 30 } };
#define NSUBNETS (sizeof subnets / sizeof subnets[0])

static void check_table(const struct lease_table *t)
{
	size_t count = 0, bound = 0;
	for (uint32_t i = 0; i < t->size; i++) {
		const struct lease *l = t->by_addr[i];
		if (l == NULL)
			continue;
		count++;
		bound += l->state == LEASE_BOUND;
		if (l->addr != t->network + i)
			violated("lease at index %u has address %08x", i, l->addr);
		if (l->key_len == 1 || l->key_len > LEASE_KEY_MAX || l->mac_len > sizeof l->mac)
			violated("key_len %u, mac_len %u", l->key_len, l->mac_len);
		if (memchr(l->hostname, '\0', sizeof l->hostname) == NULL)
			violated("hostname not terminated");
		/* A quarantine (no key) is nobody's: declined or ended, never in the key index. */
		if (lease_is_quarantine(l) && l->state != LEASE_DECLINED && l->state != LEASE_EXPIRED)
			violated("a quarantine record of %08x in state %s", l->addr, lease_state_name(l->state));
		if (!lease_is_quarantine(l) && lease_by_key(t, l->key, l->key_len) != l)
			violated("key index does not find the lease of %08x", l->addr);
		if (!isfinite(l->starts) || !isfinite(l->ends))
			violated("times not finite");
	}
	if (count != t->count || bound != t->bound)
		violated("counters: %zu leases (%zu bound), table says %zu (%zu)", count, bound, t->count, t->bound);
}

/* The file keeps times to the millisecond; everything else exactly. */
static bool same_lease(const struct lease *a, const struct lease *b)
{
	return a->addr == b->addr && a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0 &&
	       a->mac_len == b->mac_len && memcmp(a->mac, b->mac, a->mac_len) == 0 &&
	       strcmp(a->hostname, b->hostname) == 0 && a->state == b->state && fabs(a->starts - b->starts) < 0.001 &&
	       fabs(a->ends - b->ends) < 0.001;
}

/* What a restart does with what we wrote: write each lease, apply it to an
 * empty table, compare; and written again, the record is the same text. */
static void check_round_trip(const char *ifname, const struct lease_table *t)
{
	struct lease_table fresh;
	if (lease_table_init(&fresh, t->network, t->prefixlen) != 0)
		abort();
	for (uint32_t i = 0; i < t->size; i++) {
		const struct lease *l = t->by_addr[i];
		if (l == NULL)
			continue;
		struct arbor_buf text = { 0 };
		lease_record_write(&text, ifname, l);
		cJSON *rec = cJSON_ParseWithLength(text.data, text.len);
		char err[200];
		if (rec == NULL)
			violated("lease_record_write made text that is not JSON: %.*s", (int)text.len, text.data);
		if (lease_record_apply(&fresh, rec, err, sizeof err) != 0)
			violated("a written record is refused (%s): %.*s", err, (int)text.len, text.data);
		const struct lease *back = lease_by_addr(&fresh, l->addr);
		if (back == NULL || !same_lease(l, back))
			violated("a lease changes across a restart: %.*s", (int)text.len, text.data);
		struct arbor_buf again = { 0 };
		lease_record_write(&again, ifname, back);
		if (again.len != text.len || memcmp(again.data, text.data, text.len) != 0)
			violated("a record is not written the same twice: %.*s then %.*s", (int)text.len, text.data,
				 (int)again.len, again.data);
		arbor_buf_free(&again);
		cJSON_Delete(rec);
		arbor_buf_free(&text);
	}
	lease_table_free(&fresh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_table tables[NSUBNETS];
	for (size_t i = 0; i < NSUBNETS; i++)
		if (lease_table_init(&tables[i], subnets[i].network, subnets[i].prefixlen) != 0)
			abort();
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		cJSON *rec = cJSON_ParseWithLength(p, (size_t)(line_end - p));
		const char *ifname = rec ? lease_record_interface(rec) : NULL;
		for (size_t i = 0; ifname && i < NSUBNETS; i++) {
			if (strcmp(ifname, subnets[i].ifname) != 0)
				continue;
			char err[200] = "";
			if (lease_record_apply(&tables[i], rec, err, sizeof err) != 0 && err[0] == '\0')
				violated("a refused record without a reason");
			check_table(&tables[i]);
		}
		cJSON_Delete(rec);
		p = line_end + 1;
	}
	for (size_t i = 0; i < NSUBNETS; i++) {
		check_round_trip(subnets[i].ifname, &tables[i]);
		lease_table_free(&tables[i]);
	}
	return 0;
}
