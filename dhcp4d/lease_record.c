/* Lease records (see lease_record.h). */
#include "lease_record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "server_config.h"

cJSON *lease_record_encode(const char *interface, const struct lease *l)
{
	char text[200];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "interface", interface);
	format_ipv4(l->addr, text, sizeof text);
	cJSON_AddStringToObject(o, "address", text);
	lease_hex(l->mac, l->mac_len, text, sizeof text);
	cJSON_AddStringToObject(o, "mac", text);
	lease_hex(l->key, l->key_len, text, sizeof text);
	cJSON_AddStringToObject(o, "client_id", text);
	cJSON_AddStringToObject(o, "hostname", l->hostname);
	cJSON_AddStringToObject(o, "state", lease_state_name(l->state));
	arbor_json_add_fixed(o, "starts", l->starts, 3);
	arbor_json_add_fixed(o, "ends", l->ends, 3);
	return o;
}

/* Colon-separated hex bytes, as lease_hex writes them. */
static void put_hex(struct arbor_buf *out, const uint8_t *b, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char text[3 * 256];
	size_t o = 0;
	for (size_t i = 0; i < len && i < 256; i++) {
		if (i)
			text[o++] = ':';
		text[o++] = hex[b[i] >> 4];
		text[o++] = hex[b[i] & 15];
	}
	arbor_buf_append(out, "\"", 1);
	arbor_buf_append(out, text, o);
	arbor_buf_append(out, "\"", 1);
}

static void put_uint(struct arbor_buf *out, unsigned long long v)
{
	char text[24];
	size_t i = sizeof text;
	do {
		text[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	arbor_buf_append(out, text + i, sizeof text - i);
}

/* Seconds with milliseconds, as arbor_json_add_fixed(…, 3) writes them. */
static void put_time(struct arbor_buf *out, double t)
{
	if (!(t >= 0 && t < 9e12)) {
		arbor_buf_puts(out, "0");
		return;
	}
	unsigned long long ms = (unsigned long long)(t * 1000 + 0.5);
	put_uint(out, ms / 1000);
	char frac[4] = { '.', (char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10) };
	arbor_buf_append(out, frac, 4);
}

void lease_record_write(struct arbor_buf *out, const char *interface, const struct lease *l)
{
	char addr[16];
	format_ipv4(l->addr, addr, sizeof addr);
	arbor_buf_puts(out, "{\"interface\":");
	arbor_json_put_string(out, interface);
	arbor_buf_puts(out, ",\"address\":\"");
	arbor_buf_puts(out, addr);
	arbor_buf_puts(out, "\",\"mac\":");
	put_hex(out, l->mac, l->mac_len);
	arbor_buf_puts(out, ",\"client_id\":");
	put_hex(out, l->key, l->key_len);
	arbor_buf_puts(out, ",\"hostname\":");
	arbor_json_put_string(out, l->hostname);
	arbor_buf_puts(out, ",\"state\":\"");
	arbor_buf_puts(out, lease_state_name(l->state));
	arbor_buf_puts(out, "\",\"starts\":");
	put_time(out, l->starts);
	arbor_buf_puts(out, ",\"ends\":");
	put_time(out, l->ends);
	arbor_buf_append(out, "}", 1);
}

const char *lease_record_interface(const cJSON *rec)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "interface");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *str(const cJSON *rec, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether a record is a quarantine's. Ours have no client id. Before they had
 * their own flag of a key, dhcp4d wrote them with the key "declined" + the
 * address's four bytes as they lie in memory: a record in state declined is
 * always a quarantine (no client's lease is ever declined), and one that ended
 * (expired) is taken for one when its key is exactly that, so no client that
 * chose those 12 bytes as its id inherits it. */
static bool quarantine_record(const uint8_t *key, size_t key_len, uint32_t addr, int state)
{
	if (key_len == 0 || state == LEASE_DECLINED)
		return true;
	uint8_t legacy[12] = { 'd', 'e', 'c', 'l', 'i', 'n', 'e', 'd' };
	memcpy(legacy + 8, &addr, 4);
	return state == LEASE_EXPIRED && key_len == sizeof legacy && memcmp(key, legacy, sizeof legacy) == 0;
}

/* A time as lease_record_write writes it: anything else would not survive the
 * next compaction unchanged. */
static bool is_time(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= ARBOR_TIME_MAX;
}

int lease_record_apply(struct lease_table *t, const cJSON *rec, char *err, size_t errlen)
{
	const char *address = str(rec, "address"), *mac = str(rec, "mac"), *cid = str(rec, "client_id");
	const char *hostname = str(rec, "hostname"), *state = str(rec, "state");
	const cJSON *starts = cJSON_GetObjectItemCaseSensitive(rec, "starts");
	const cJSON *ends = cJSON_GetObjectItemCaseSensitive(rec, "ends");
	uint32_t addr;
	uint8_t key[LEASE_KEY_MAX], macb[16];
	int key_len = cid ? lease_unhex(cid, key, sizeof key) : -1;
	int mac_len = mac ? (mac[0] ? lease_unhex(mac, macb, sizeof macb) : 0) : -1;
	int st = state ? lease_state_from_name(state) : -1;
	bool quarantine = address && parse_ipv4(address, &addr) && key_len >= 0 && st >= 0 &&
			  quarantine_record(key, (size_t)key_len, addr, st);
	if (!address || !parse_ipv4(address, &addr) || key_len < 0 || (key_len < 2 && !quarantine) || mac_len < 0 ||
	    st < 0 || !is_time(starts) || !is_time(ends) || (hostname && strlen(hostname) >= 64) ||
	    (quarantine && st != LEASE_DECLINED && st != LEASE_EXPIRED)) {
		snprintf(err, errlen, "not a lease record");
		return -EINVAL;
	}
	if (!lease_table_contains(t, addr)) {
		snprintf(err, errlen, "%s is outside the subnet now served on this interface", address);
		return -EINVAL;
	}
	/* both checked above: never NULL */
	struct lease *l = quarantine ? lease_put_quarantine(t, addr) : lease_put(t, addr, key, (size_t)key_len);
	memcpy(l->mac, macb, (size_t)mac_len);
	l->mac_len = (uint8_t)mac_len;
	snprintf(l->hostname, sizeof l->hostname, "%s", hostname ? hostname : "");
	lease_set_state(t, l, (enum lease_state)st);
	l->starts = starts->valuedouble;
	l->ends = ends->valuedouble;
	return 0;
}
