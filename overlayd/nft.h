/* libnftables for the hub's table (firewall.h writes the text): applied when
 * the text changes, or when the table went missing (someone flushed it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct ovl_nft;

struct ovl_nft *ovl_nft_new(void);
void ovl_nft_free(struct ovl_nft *n);
/* Applies ruleset unless the kernel's table already carries tag in its
 * comment (it is this ruleset: a restart changes nothing). 1 applied, 0
 * nothing to do, -1 refused (err says why: libnftables' words). */
int ovl_nft_sync(struct ovl_nft *n, const char *table, const char *tag, const char *ruleset, char *err,
		 size_t errlen);
