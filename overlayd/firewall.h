/* The hub's nftables table (inet <hub.nft_table>), as the text libnftables
 * reads: the VXLAN port open only to registered spokes' underlay addresses,
 * forwarding between the overlay's devices (and to the uplink), masquerade
 * from the overlay to the uplink when configured. Nothing outside this table
 * is touched: it is replaced whole, in one transaction (nft.c). Pure. */
#pragma once
#include "buf.h"
#include "overlayd_config.h"
#include "registry.h"

/* The table's comment carries tag ("arbor-overlayd <hash of the rules>"), so a
 * restarted hub sees that the table in the kernel is already this one. */
#define OVL_FIREWALL_TAG_MAX 48
void ovl_firewall_ruleset(struct arbor_buf *out, char tag[OVL_FIREWALL_TAG_MAX], const struct ovl_hub_config *h,
			  const struct ovl_registry *r);
