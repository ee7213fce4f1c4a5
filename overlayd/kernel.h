/* overlayd's edge to the kernel: read the links, IPv4 addresses and routes
 * (ovl_kernel_read), and carry out a plan (ovl_kernel_apply) over netlink in
 * two batches: removals and new links first, then, with the new links'
 * ifindexes known from one more link listing, their settings, addresses and
 * routes. Every request of a batch goes out without waiting for its answer. */
#pragma once
#include <stddef.h>

#include "netlink.h"
#include "plan.h"

/* Fills k (free with ovl_kernel_free). 0 or a negative errno (arbor_nl_error says). */
int ovl_kernel_read(struct arbor_nl *nl, struct ovl_kernel *k);
void ovl_kernel_free(struct ovl_kernel *k);

struct ovl_apply_result {
	size_t writes;   /* netlink requests sent */
	size_t failures;
	char first_error[256];
};

/* Carries out plan; k is the state it was made from. Failures are counted and
 * the first one described; the rest of the plan still runs (the next
 * reconcile retries what failed). */
void ovl_kernel_apply(struct arbor_nl *nl, const struct ovl_plan *plan, const struct ovl_kernel *k,
		      struct ovl_apply_result *res);
