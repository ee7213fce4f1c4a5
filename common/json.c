/* Fast number formatting for JSON (see json.h). No libm: it would be the only
 * user of it in a daemon, and mapping it costs idle RSS. */
#include "json.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Decimal digits of v into the end of buf; returns where they start. */
static char *digits(unsigned long long v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void arbor_json_add_int(cJSON *obj, const char *key, long long value)
{
	char text[24];
	text[23] = '\0';
	unsigned long long u = value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
	char *p = digits(u, text + 23);
	if (value < 0)
		*--p = '-';
	cJSON_AddRawToObject(obj, key, p);
}

void arbor_json_add_fixed(cJSON *obj, const char *key, double value, int decimals)
{
	static const long long scale[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	if (decimals < 0 || decimals > 6 || !isfinite(value) || value > 9e12 || value < -9e12) {
		cJSON_AddNumberToObject(obj, key, value);
		return;
	}
	double x = value * (double)scale[decimals];
	long long scaled = (long long)(x < 0 ? x - 0.5 : x + 0.5); /* round half away from zero */
	bool negative = scaled < 0;
	unsigned long long u = negative ? 0ull - (unsigned long long)scaled : (unsigned long long)scaled;
	char text[40];
	char *end = text + sizeof text - 1, *p = end;
	*end = '\0';
	if (decimals) {
		unsigned long long frac = u % (unsigned long long)scale[decimals];
		for (int i = 0; i < decimals; i++, frac /= 10)
			*--p = (char)('0' + frac % 10);
		*--p = '.';
		u /= (unsigned long long)scale[decimals];
	}
	p = digits(u, p);
	if (negative)
		*--p = '-';
	cJSON_AddRawToObject(obj, key, p);
}

bool arbor_json_get_u53(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

bool arbor_json_members(const cJSON *obj, const char *const names[], const cJSON *found[], size_t n,
			const char *where, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "%s is not a JSON object", where);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		found[i] = NULL;
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t i = 0;
		while (i < n && strcmp(m->string, names[i]) != 0)
			i++;
		if (i == n) {
			snprintf(err, errlen, "%s: unknown member \"%.40s\"", where, m->string);
			return false;
		}
		if (found[i]) {
			snprintf(err, errlen, "%s: \"%s\" given twice", where, names[i]);
			return false;
		}
		found[i] = m;
	}
	return true;
}

void arbor_json_put_string(struct arbor_buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	arbor_buf_append(out, "\"", 1);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		/* the run that needs no escape goes in at once (a byte at a time was most
		 * of an event's cost) */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		arbor_buf_append(out, run, (size_t)(p - run));
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p++ };
			arbor_buf_append(out, e, 2);
		} else if (*p) {
			char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
			arbor_buf_append(out, e, 6);
			p++;
		}
	}
	arbor_buf_append(out, "\"", 1);
}
