/* JSON with comments (see jsonc.h). */
#include "jsonc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void arbor_jsonc_strip_comments(char *t, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (t[i] == '\\' && i + 1 < len)
				i++;
			else if (t[i] == '"')
				in_string = false;
			continue;
		}
		if (t[i] == '"') {
			in_string = true;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			size_t j = i;
			t[j++] = ' ';
			t[j++] = ' ';
			while (j < len && !(t[j] == '*' && j + 1 < len && t[j + 1] == '/')) {
				if (t[j] != '\n')
					t[j] = ' ';
				j++;
			}
			/* An unterminated comment blanks the rest; the parser then reports
			 * a truncated document, which is what it is. */
			if (j < len)
				t[j++] = ' ';
			if (j < len)
				t[j++] = ' ';
			i = j - 1;
		}
	}
}

cJSON *arbor_jsonc_parse(struct arbor_cfg_walk *w, const char *text, size_t len)
{
	if (memchr(text, '\0', len) != NULL) {
		arbor_cfg_error(w, NULL, "contains a NUL byte");
		return NULL;
	}
	char *copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	arbor_jsonc_strip_comments(copy, len);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(copy, &end, true);
	if (root == NULL) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		size_t off = (at && at >= copy && at <= copy + len) ? (size_t)(at - copy) : len;
		/* cJSON stops just past the offending token: point at the token. */
		while (off > 0 && (off == len || isspace((unsigned char)copy[off])) && isspace((unsigned char)copy[off - 1]))
			off--;
		if (off > 0 && (off == len || isspace((unsigned char)copy[off])))
			off--;
		int line = 1, col = 1;
		for (size_t i = 0; i < off; i++) {
			if (copy[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		char near[24] = "";
		size_t k = 0;
		for (size_t i = off; i < len && k < 16 && copy[i] != '\n'; i++)
			near[k++] = isprint((unsigned char)copy[i]) ? copy[i] : '?';
		near[k] = '\0';
		arbor_buf_printf(&w->errors, "%s:%d:%d: invalid JSON%s%s%s\n", w->file, line, col,
				 k ? " near '" : " (unexpected end)", near, k ? "'" : "");
		w->nerrors++;
	}
	free(copy);
	return root;
}
