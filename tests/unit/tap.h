/* A minimal TAP-style checker for the C unit tests: each check prints ok/not ok,
 * and tap_done() turns the count of failures into the exit status. */
#pragma once
#include <stdbool.h>

bool tap_check(bool cond, const char *file, int line, const char *what);
int tap_done(void);
/* A fresh temporary directory (removed by tap_done). */
const char *tap_tmpdir(void);

#define CHECK(cond, what) tap_check((cond), __FILE__, __LINE__, (what))
