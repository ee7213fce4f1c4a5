/* arborctl overlay enroll|forget|spokes: overlayd's enrollment tokens, forgetting a
 * spoke, and the spokes' table (docs/overlayd.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arborctl.h"

/* arborctl overlay enroll|forget|spokes: overlayd's own commands and view. */
int cmd_overlay(int argc, char **argv)
{
	const char *usage_text = "arborctl: overlay enroll [HOSTNAME] [--ttl S] [--count N] | forget ID|HOSTNAME | spokes\n";
	if (argc < 1) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	struct arbor_client_response r;
	cJSON *body = cJSON_CreateObject();
	const char *path = NULL;
	bool enroll = strcmp(argv[0], "enroll") == 0;
	if (enroll) {
		path = "/v1/commands/enroll";
		for (int i = 1; i < argc; i++) {
			char *end = NULL;
			if ((strcmp(argv[i], "--ttl") == 0 || strcmp(argv[i], "--count") == 0) && i + 1 < argc) {
				double v = strtod(argv[i + 1], &end);
				if (*end != '\0' || !(v > 0)) {
					cJSON_Delete(body);
					fputs(usage_text, stderr);
					return EXIT_USAGE;
				}
				cJSON_AddNumberToObject(body, argv[i] + 2, v);
				i++;
			} else if (argv[i][0] != '-' && !cJSON_GetObjectItem(body, "hostname")) {
				cJSON_AddStringToObject(body, "hostname", argv[i]);
			} else {
				cJSON_Delete(body);
				fputs(usage_text, stderr);
				return EXIT_USAGE;
			}
		}
	} else if (strcmp(argv[0], "forget") == 0 && argc == 2) {
		path = "/v1/commands/forget";
		char *end = NULL;
		unsigned long id = strtoul(argv[1], &end, 10);
		if (*end == '\0' && end != argv[1])
			cJSON_AddNumberToObject(body, "id", (double)id);
		else
			cJSON_AddStringToObject(body, "hostname", argv[1]);
	} else if (strcmp(argv[0], "spokes") == 0 && argc == 1) {
		cJSON_Delete(body);
		int rc = request("overlayd", "GET", "/v1/spokes", NULL, &r);
		if (rc != EXIT_OK)
			return rc;
		cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
		if (json_output || r.status != 200 || doc == NULL) {
			fwrite(r.body, 1, r.len, stdout);
		} else {
			printf("%-6s %-16s %-9s %-19s %-16s %-8s %s\n", "ID", "HOSTNAME", "VNI", "SUBNET", "UNDERLAY", "STATE",
			       "DEVICE");
			for (const cJSON *sp = cJSON_GetObjectItem(doc, "spokes")->child; sp; sp = sp->next)
				printf("%-6.0f %-16s %-9.0f %-19s %-16s %-8s %s\n", num_field(sp, "id"), str_field(sp, "hostname", ""),
				       num_field(sp, "vni"), str_field(sp, "subnet", ""), str_field(sp, "underlay", ""),
				       str_field(sp, "state", ""), str_field(sp, "device", ""));
		}
		rc = r.status == 200 ? EXIT_OK : EXIT_REFUSED;
		cJSON_Delete(doc);
		arbor_client_response_free(&r);
		return rc;
	} else {
		cJSON_Delete(body);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	int rc = request("overlayd", "POST", path, text, &r);
	free(text);
	if (rc != EXIT_OK)
		return rc;
	cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
	const cJSON *token = cJSON_GetObjectItem(doc, "token"), *tokens = cJSON_GetObjectItem(doc, "tokens");
	if (json_output || r.status != 200 || (!cJSON_IsString(token) && !cJSON_IsArray(tokens))) {
		if (r.status != 200 && !json_output)
			fprintf(stderr, "arborctl: overlayd: %s\n", error_message(doc) ? error_message(doc) : "refused");
		else
			fwrite(r.body, 1, r.len, stdout);
	} else {
		/* The tokens alone, one a line: what goes into each spoke's overlayd.spoke.token. */
		fprintf(stderr, "%s\n", str_field(doc, "message", ""));
		if (cJSON_IsString(token))
			puts(token->valuestring);
		for (const cJSON *t = cJSON_IsArray(tokens) ? tokens->child : NULL; t; t = t->next)
			puts(cJSON_GetStringValue(t));
	}
	rc = r.status == 200 ? EXIT_OK : EXIT_REFUSED;
	cJSON_Delete(doc);
	arbor_client_response_free(&r);
	return rc;
}
