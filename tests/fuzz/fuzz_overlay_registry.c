/* libFuzzer harness for the overlay registry's file: the bytes before the
 * first 0xff are a snapshot, each line after it a journal record. Loading and
 * applying must accept or refuse, never crash; after each step the registry's
 * invariants hold (ids increase, subnets never overlap, keys and hostnames
 * unique), and its snapshot loads back into the same registry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry.h"

static void check(const struct ovl_registry *r)
{
	size_t n = ovl_registry_count(r);
	for (size_t i = 0; i < n; i++) {
		const struct ovl_spoke *s = ovl_registry_at(r, i);
		if (ovl_registry_by_key(r, s->key) != s || ovl_registry_by_hostname(r, s->hostname) != s ||
		    ovl_registry_by_id(r, s->id) != s)
			abort();
		if (i && (ovl_registry_at(r, i - 1)->id >= s->id ||
			  arbor_ipv4_prefix_overlaps(&ovl_registry_at(r, i - 1)->subnet, &s->subnet)))
			abort();
	}
	struct arbor_buf b = { 0 };
	ovl_registry_write_snapshot(r, &b);
	cJSON *doc = cJSON_Parse(b.data);
	struct ovl_registry *back = ovl_registry_new(ovl_registry_params(r));
	char err[256];
	if (ovl_registry_load_snapshot(back, doc, err, sizeof err) != 0 || ovl_registry_count(back) != n)
		abort();
	ovl_registry_free(back);
	cJSON_Delete(doc);
	arbor_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_registry_params p = { .subnet_length = 24, .vni_base = 4096 };
	arbor_ipv4_prefix_parse(&p.network, "10.128.0.0/12");
	p.hub_address.s_addr = htonl(0x0a800001);
	struct ovl_registry *r = ovl_registry_new(&p);
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char *split = memchr(text, 0xff, size);
	char *records = text;
	char err[256];
	if (split) {
		*split = '\0';
		cJSON *snap = cJSON_Parse(text);
		ovl_registry_load_snapshot(r, snap, err, sizeof err);
		cJSON_Delete(snap);
		records = split + 1;
	}
	check(r);
	char *save = NULL;
	for (char *line = strtok_r(records, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *rec = cJSON_Parse(line);
		ovl_registry_apply(r, rec, err, sizeof err);
		cJSON_Delete(rec);
	}
	check(r);
	free(text);
	ovl_registry_free(r);
	return 0;
}
