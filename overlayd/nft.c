/* Applying the hub's nftables table (see nft.h). */
#include "nft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "xalloc.h"

struct ovl_nft {
	struct nft_ctx *ctx;
};

struct ovl_nft *ovl_nft_new(void)
{
	struct ovl_nft *n = xcalloc(1, sizeof *n);
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (n->ctx == NULL) {
		free(n);
		return NULL;
	}
	nft_ctx_buffer_output(n->ctx);
	nft_ctx_buffer_error(n->ctx);
	return n;
}

void ovl_nft_free(struct ovl_nft *n)
{
	if (n == NULL)
		return;
	nft_ctx_free(n->ctx);
	free(n);
}

/* Does the kernel's table carry tag? */
static bool table_is(struct ovl_nft *n, const char *table, const char *tag)
{
	char cmd[96], want[128];
	snprintf(cmd, sizeof cmd, "list table inet %s", table);
	snprintf(want, sizeof want, "comment \"%s\"", tag);
	if (nft_run_cmd_from_buffer(n->ctx, cmd) != 0)
		return false;
	const char *out = nft_ctx_get_output_buffer(n->ctx);
	return out && strstr(out, want) != NULL;
}

int ovl_nft_sync(struct ovl_nft *n, const char *table, const char *tag, const char *ruleset, char *err,
		 size_t errlen)
{
	if (table_is(n, table, tag))
		return 0;
	if (nft_run_cmd_from_buffer(n->ctx, ruleset) != 0) {
		const char *e = nft_ctx_get_error_buffer(n->ctx);
		snprintf(err, errlen, "nftables refused the table: %.*s", (int)strcspn(e ? e : "", "\n"), e ? e : "");
		return -1;
	}
	return 1;
}
