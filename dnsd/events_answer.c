/* Reading a /v1/events answer (events_answer.h). */
#include "events_answer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *events_answer_type(const cJSON *event)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(event, "type");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

int events_answer_parse(struct events_answer *a, const char *json, size_t len, uint64_t since, char *err,
			size_t errlen)
{
	a->doc = cJSON_ParseWithLength(json, len);
	a->events = cJSON_GetObjectItemCaseSensitive(a->doc, "events");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(a->doc, "next");
	bool ok = cJSON_IsArray(a->events) && cJSON_IsNumber(next) && next->valuedouble >= (double)since;
	/* Every event in order, the first one right after since. */
	uint64_t expect = since + 1;
	bool resync = false;
	const cJSON *e, *list = ok ? a->events : NULL;
	cJSON_ArrayForEach(e, list)
	{
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "seq");
		const char *type = events_answer_type(e);
		if (!cJSON_IsNumber(seq) || type == NULL || seq->valuedouble < (double)expect) {
			ok = false;
			break;
		}
		if (seq->valuedouble > (double)expect)
			resync = true; /* events between were lost */
		if (strcmp(type, "daemon.started") == 0 || strcmp(type, "config.reloaded") == 0)
			resync = true; /* a new process, or a reload that may change anything */
		expect = (uint64_t)seq->valuedouble + 1;
	}
	if (!ok) {
		snprintf(err, errlen, "the events answer is not {\"events\":[...],\"next\":N} following seq %llu",
			 (unsigned long long)since);
		events_answer_free(a);
		return -EBADMSG;
	}
	a->next = (uint64_t)next->valuedouble > expect - 1 ? (uint64_t)next->valuedouble : expect - 1;
	if (resync) {
		events_answer_free(a);
		return EVENTS_ANSWER_RESYNC;
	}
	return EVENTS_ANSWER_APPLY;
}

void events_answer_free(struct events_answer *a)
{
	cJSON_Delete(a->doc);
	a->doc = NULL;
	a->events = NULL;
}
