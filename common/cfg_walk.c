/* The key walker (see cfg_walk.h). */
#include "cfg_walk.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

size_t arbor_cfg_enter(struct arbor_cfg_walk *w, const char *key)
{
	size_t saved = strlen(w->path);
	if (saved == 0)
		snprintf(w->path, sizeof w->path, "%s", key);
	else
		snprintf(w->path + saved, sizeof w->path - saved, ".%s", key);
	return saved;
}

size_t arbor_cfg_enter_index(struct arbor_cfg_walk *w, size_t index)
{
	size_t saved = strlen(w->path);
	snprintf(w->path + saved, sizeof w->path - saved, "[%zu]", index);
	return saved;
}

void arbor_cfg_leave(struct arbor_cfg_walk *w, size_t saved)
{
	if (saved < sizeof w->path)
		w->path[saved] = '\0';
}

void arbor_cfg_error(struct arbor_cfg_walk *w, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *sep = (w->path[0] && key) ? "." : "";
	if (w->path[0] || key)
		arbor_buf_printf(&w->errors, "%s: %s%s%s: %s\n", w->file, w->path, sep, key ? key : "", msg);
	else
		arbor_buf_printf(&w->errors, "%s: %s\n", w->file, msg);
	w->nerrors++;
}

void arbor_cfg_render(const cJSON *v, char *buf, size_t len)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	if (text == NULL) {
		snprintf(buf, len, "(value)");
		return;
	}
	if (strlen(text) > 60)
		snprintf(buf, len, "%.57s...", text);
	else
		snprintf(buf, len, "%s", text);
	cJSON_free(text);
}

static const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "an invalid value";
}

bool arbor_cfg_object(struct arbor_cfg_walk *w, const cJSON *node, const char *const allowed[])
{
	if (!cJSON_IsObject(node)) {
		arbor_cfg_error(w, NULL, "must be an object, not %s", json_type_name(node));
		return false;
	}
	bool ok = true;
	for (const cJSON *item = node->child; item; item = item->next) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], item->string) == 0)
				known = true;
		if (!known) {
			arbor_cfg_error(w, item->string, "unknown key");
			ok = false;
			continue;
		}
		for (const cJSON *prev = node->child; prev != item; prev = prev->next)
			if (strcmp(prev->string, item->string) == 0) {
				arbor_cfg_error(w, item->string, "duplicate key");
				ok = false;
				break;
			}
	}
	return ok;
}

bool arbor_cfg_string(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, const char *def,
		      char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (v == NULL) {
		*out = def ? xstrdup(def) : NULL;
		return true;
	}
	if (!cJSON_IsString(v)) {
		arbor_cfg_error(w, key, "must be a string, not %s", json_type_name(v));
		*out = def ? xstrdup(def) : NULL;
		return false;
	}
	*out = xstrdup(v->valuestring);
	return true;
}

bool arbor_cfg_bool(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, bool def, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	if (!cJSON_IsBool(v)) {
		arbor_cfg_error(w, key, "must be true or false, not %s", json_type_name(v));
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

bool arbor_cfg_number(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
		      double min, double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		arbor_cfg_error(w, key, "must be a number, not %s", json_type_name(v));
		return false;
	}
	if (v->valuedouble < min || v->valuedouble > max) {
		char shown[80];
		arbor_cfg_render(v, shown, sizeof shown);
		arbor_cfg_error(w, key, "%s is out of range [%g, %g]", shown, min, max);
		return false;
	}
	*out = v->valuedouble;
	return true;
}

bool arbor_cfg_uint(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, unsigned long long def,
		    unsigned long long min, unsigned long long max, unsigned long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	char shown[80];
	arbor_cfg_render(v, shown, sizeof shown);
	/* Range first, so the cast below is defined; then "whole" is a round trip. */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1.8e19 ||
	    v->valuedouble != (double)(unsigned long long)v->valuedouble) {
		arbor_cfg_error(w, key, "%s is not a whole number", shown);
		return false;
	}
	if (v->valuedouble < (double)min || v->valuedouble > (double)max) {
		arbor_cfg_error(w, key, "%s is out of range [%llu, %llu]", shown, min, max);
		return false;
	}
	*out = (unsigned long long)v->valuedouble;
	return true;
}

bool arbor_cfg_duration(struct arbor_cfg_walk *w, const cJSON *obj, const char *key, double def,
			double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (v == NULL)
		return true;
	char shown[80];
	arbor_cfg_render(v, shown, sizeof shown);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		arbor_cfg_error(w, key, "%s is not a duration (seconds as a number)", shown);
		return false;
	}
	if (v->valuedouble <= 0 || v->valuedouble > max) {
		arbor_cfg_error(w, key, "%s must be more than 0 and at most %g seconds", shown, max);
		return false;
	}
	*out = v->valuedouble;
	return true;
}
