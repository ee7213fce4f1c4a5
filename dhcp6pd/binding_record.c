/* Delegation records (see binding_record.h). */
#include "binding_record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr_derive.h"
#include "json.h"
#include "json_write.h"

void binding_record_write(struct arbor_buf *out, const char *interface, const struct binding_view *b)
{
	char text[64];
	arbor_buf_puts(out, "{\"interface\":");
	arbor_json_put_string(out, interface);
	arbor_buf_puts(out, ",\"prefix\":\"");
	arbor_buf_puts(out, arbor_prefix6_format(&b->prefix, text, sizeof text));
	arbor_buf_puts(out, "\",\"duid\":");
	arbor_json_write_hex(out, b->duid, b->duid_len);
	arbor_buf_puts(out, ",\"iaid\":");
	arbor_json_write_uint(out, b->iaid);
	arbor_buf_puts(out, ",\"state\":\"");
	arbor_buf_puts(out, binding_state_name(b->state));
	arbor_buf_puts(out, "\",\"starts\":");
	arbor_json_write_time(out, b->starts);
	arbor_buf_puts(out, ",\"preferred_until\":");
	arbor_json_write_time(out, b->preferred_until);
	arbor_buf_puts(out, ",\"valid_until\":");
	arbor_json_write_time(out, b->valid_until);
	arbor_buf_puts(out, ",\"via\":\"");
	arbor_addr_format(&b->via, -1, text, sizeof text);
	arbor_buf_puts(out, text);
	arbor_buf_puts(out, "\"}");
}

const char *binding_record_interface(const cJSON *rec)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "interface");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_time(const cJSON *rec, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1e15))
		return false;
	*out = v->valuedouble;
	return true;
}

int binding_record_apply(struct pd_server *s, const cJSON *rec, char *err, size_t errlen)
{
	const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(rec, "prefix");
	const cJSON *duid = cJSON_GetObjectItemCaseSensitive(rec, "duid");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(rec, "state");
	const cJSON *via = cJSON_GetObjectItemCaseSensitive(rec, "via");
	struct arbor_prefix6 p;
	uint8_t d[DHCP6_DUID_MAX];
	uint16_t dlen;
	uint64_t iaid;
	struct in6_addr v;
	double starts, pref, valid;
	int st = cJSON_IsString(state) ? binding_state_from_name(state->valuestring) : -1;
	if (!cJSON_IsString(prefix) || !arbor_prefix6_parse(prefix->valuestring, &p) || p.len == 0 || p.len > 64 ||
	    !cJSON_IsString(duid) || !duid_parse(duid->valuestring, d, &dlen) ||
	    !arbor_json_get_u53(cJSON_GetObjectItemCaseSensitive(rec, "iaid"), &iaid) || iaid > UINT32_MAX ||
	    st <= BINDING_OFFERED || !get_time(rec, "starts", &starts) || !get_time(rec, "preferred_until", &pref) ||
	    !get_time(rec, "valid_until", &valid) || !cJSON_IsString(via) ||
	    inet_pton(AF_INET6, via->valuestring, &v) != 1) {
		snprintf(err, errlen, "not a delegation record");
		return -EINVAL;
	}
	struct binding *b = binding_put(&s->table, d, dlen, (uint32_t)iaid, &p);
	b->starts = starts;
	b->preferred_until = pref;
	b->valid_until = valid;
	b->via = v;
	int pool = pd_server_pool_of(s, &p);
	b->pool = pool < 0 ? 0 : (uint8_t)pool; /* no pool: ended by pd_server_end_strays */
	binding_set_state(&s->table, b, (enum binding_state)st);
	s->next_expiry = 0; /* the next sweep looks at everything replayed */
	return 0;
}
