/* Request bodies of the peers API (see peer_request.h). */
#include "peer_request.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "subnet_ids.h"
#include "wg_key.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int peer_request_parse_time(const char *t, int64_t *out)
{
	int y, mo, d, h, mi, s;
	char z;
	int n = 0;
	if (strlen(t) != 20 || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &s, &z, &n) != 7 ||
	    n != 20 || z != 'Z' || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
		return -EINVAL;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (t[i] < '0' || t[i] > '9'))
			return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	time_t v = timegm(&tm);
	if (v < 0 || tm.tm_mday != d) /* 31 February is refused, not rolled over */
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int check_keys(const cJSON *obj, const char *const allowed[], char *err, size_t errlen)
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(c->string, allowed[i]) == 0;
		if (!known)
			return fail(err, errlen, "unknown key \"%.40s\"", c->string);
		for (const cJSON *d = c->next; d; d = d->next)
			if (strcmp(c->string, d->string) == 0)
				return fail(err, errlen, "\"%.40s\" appears twice", c->string);
	}
	return 0;
}

static int parse_routes(const cJSON *v, struct wg_allowed_ip *routes, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > WGD_MAX_PEER_ROUTES)
		return fail(err, errlen, "allowed_ips must be a list of at most %d prefixes", WGD_MAX_PEER_ROUTES);
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!cJSON_IsString(c) || wg_allowed_ip_parse(&routes[*n], c->valuestring, false) != 0)
			return fail(err, errlen, "allowed_ips[%zu] is not a prefix like 192.168.50.0/24 (host bits zero)", *n);
		for (size_t k = 0; k < *n; k++)
			if (wg_allowed_ip_overlap(&routes[k], &routes[*n]))
				return fail(err, errlen, "allowed_ips[%zu] overlaps allowed_ips[%zu]", *n, k);
		(*n)++;
	}
	return 0;
}

static int parse_keepalive(const cJSON *v, uint16_t *out, char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 65535 || v->valuedouble != floor(v->valuedouble))
		return fail(err, errlen, "persistent_keepalive must be a whole number of seconds from 0 to 65535");
	*out = (uint16_t)v->valuedouble;
	return 0;
}

static int parse_expires(const cJSON *v, int64_t *out, char *err, size_t errlen)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e13 && v->valuedouble == floor(v->valuedouble)) {
		*out = (int64_t)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && peer_request_parse_time(v->valuestring, out) == 0)
		return 0;
	return fail(err, errlen, "expires must be seconds since the epoch or a UTC time like \"2026-12-31T23:59:59Z\"");
}

static int parse_key(const cJSON *v, const char *what, uint8_t key[WG_KEY_LEN], char *err, size_t errlen)
{
	if (!cJSON_IsString(v))
		return fail(err, errlen, "%s must be a base64 key", what);
	enum wg_key_error e = wg_key_from_base64(v->valuestring, key);
	if (e != WG_KEY_OK)
		return fail(err, errlen, "%s %s", what, wg_key_error_text(e));
	return 0;
}

static cJSON *parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	cJSON *doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		fail(err, errlen, "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

int peer_request_parse_create(const char *body, size_t len, struct peer_create_req *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "interface", "name", "public_key", "preshared_key", "allowed_ips",
					    "persistent_keepalive", "expires", "enabled", NULL };
	memset(out, 0, sizeof *out);
	out->enabled = true;
	cJSON *doc = parse_object(body, len, err, errlen);
	if (doc == NULL)
		return -EINVAL;
	int rc = check_keys(doc, keys, err, errlen);
	const cJSON *v;
	if (rc == 0) {
		v = cJSON_GetObjectItemCaseSensitive(doc, "name");
		if (!cJSON_IsString(v) || !wgd_peer_name_valid(v->valuestring))
			rc = fail(err, errlen, "name must be 1-63 of a-z, 0-9 and '-', not starting or ending with '-'");
		else
			snprintf(out->name, sizeof out->name, "%s", v->valuestring);
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "interface"))) {
		if (!cJSON_IsString(v) || !arbor_subnet_name_valid(v->valuestring))
			rc = fail(err, errlen, "interface must be an interface name");
		else
			snprintf(out->interface, sizeof out->interface, "%s", v->valuestring);
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "public_key"))) {
		rc = parse_key(v, "public_key", out->public_key, err, errlen);
		out->has_public_key = rc == 0;
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "preshared_key"))) {
		if (cJSON_IsTrue(v)) {
			out->generate_psk = true;
		} else if (!cJSON_IsFalse(v)) {
			rc = parse_key(v, "preshared_key", out->psk, err, errlen);
			out->has_psk = rc == 0;
		}
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "allowed_ips")))
		rc = parse_routes(v, out->routes, &out->nroutes, err, errlen);
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "persistent_keepalive"))) {
		rc = parse_keepalive(v, &out->keepalive, err, errlen);
		out->has_keepalive = rc == 0;
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "expires")))
		rc = parse_expires(v, &out->expires, err, errlen);
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "enabled"))) {
		if (!cJSON_IsBool(v))
			rc = fail(err, errlen, "enabled must be true or false");
		else
			out->enabled = cJSON_IsTrue(v);
	}
	cJSON_Delete(doc);
	if (rc != 0)
		wg_key_wipe(out->psk, sizeof out->psk);
	return rc;
}

int peer_request_parse_patch(const char *body, size_t len, struct peer_patch_req *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "enabled", "allowed_ips", "persistent_keepalive", "expires", NULL };
	memset(out, 0, sizeof *out);
	cJSON *doc = parse_object(body, len, err, errlen);
	if (doc == NULL)
		return -EINVAL;
	int rc = check_keys(doc, keys, err, errlen);
	const cJSON *v;
	if (rc == 0 && doc->child == NULL)
		rc = fail(err, errlen, "nothing to change: give enabled, allowed_ips, persistent_keepalive or expires");
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "enabled"))) {
		if (!cJSON_IsBool(v))
			rc = fail(err, errlen, "enabled must be true or false");
		out->has_enabled = true;
		out->enabled = cJSON_IsTrue(v);
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "allowed_ips"))) {
		rc = parse_routes(v, out->routes, &out->nroutes, err, errlen);
		out->has_routes = true;
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "persistent_keepalive"))) {
		rc = parse_keepalive(v, &out->keepalive, err, errlen);
		out->has_keepalive = true;
	}
	if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(doc, "expires"))) {
		out->has_expires = true;
		if (!cJSON_IsNull(v))
			rc = parse_expires(v, &out->expires, err, errlen);
	}
	cJSON_Delete(doc);
	return rc;
}
