/* JSON with comments: the reader of arbor.json. Comments are blanked in place
 * (newlines kept), so a parse error's line and column are those of the file. */
#pragma once
#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg_walk.h"

/* Parses JSON with // and block comments. On failure records "FILE:LINE:COL: ..." */
cJSON *arbor_jsonc_parse(struct arbor_cfg_walk *w, const char *text, size_t len);
/* Replaces comments by spaces (keeping newlines) so offsets and lines stay true. */
void arbor_jsonc_strip_comments(char *text, size_t len);
