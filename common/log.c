/* Logging to stderr with sd-daemon(3) priority prefixes ("<3>") when stderr is
 * the journal, plain "name: level: " otherwise. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_name = "arbor";
static enum arbor_log_level log_min = ARBOR_LOG_INFO;
static int log_to_journal = -1;

void arbor_log_init(const char *daemon_name, enum arbor_log_level min_level)
{
	log_name = daemon_name;
	log_min = min_level;
	const char *stream = getenv("JOURNAL_STREAM");
	log_to_journal = stream != NULL && *stream != '\0';
}

void arbor_log(enum arbor_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	static const int priorities[] = { 7, 6, 4, 3 };
	if (level < log_min)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (log_to_journal == 1)
		fprintf(stderr, "<%d>%s\n", priorities[level], line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_name, names[level], line);
}
