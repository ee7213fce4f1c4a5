/* Logging to stderr: every daemon runs in the foreground under systemd, whose
 * journal adds timestamps, so lines carry only a level prefix and the daemon name. */
#pragma once
#include <stdarg.h>

enum arbor_log_level { ARBOR_LOG_DEBUG, ARBOR_LOG_INFO, ARBOR_LOG_WARN, ARBOR_LOG_ERR };

void arbor_log_init(const char *daemon_name, enum arbor_log_level min_level);
void arbor_log(enum arbor_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) arbor_log(ARBOR_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) arbor_log(ARBOR_LOG_INFO, __VA_ARGS__)
#define log_warn(...) arbor_log(ARBOR_LOG_WARN, __VA_ARGS__)
#define log_err(...) arbor_log(ARBOR_LOG_ERR, __VA_ARGS__)
