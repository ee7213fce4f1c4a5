/* Actions on a check's transition: POST a command to another arbor daemon, or
 * run a program. Each action's result is an event (action.succeeded,
 * action.failed) in healthd's log. */
#pragma once
#include "check.h"

struct healthd;

void actions_run(struct healthd *hd, const struct check *c, enum check_health from, enum check_health to);
/* Abandons running actions (at stop): no results are reported for them. */
void actions_cancel_all(struct healthd *hd);
