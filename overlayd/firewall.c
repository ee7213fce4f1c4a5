/* The hub's nftables ruleset (see firewall.h). Every name in it was checked by
 * the config parser (letters, digits, '_' in the table; no quotes or spaces in
 * interface names) and every address is formatted here, so nothing a spoke
 * sends can reach the ruleset's syntax. */
#include "firewall.h"

#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

static void set_elements(struct arbor_buf *out, const char *name, const char *type, int family,
			 const struct ovl_registry *r)
{
	arbor_buf_printf(out, "\tset %s {\n\t\ttype %s\n", name, type);
	bool any = false;
	char ip[INET6_ADDRSTRLEN];
	for (size_t i = 0; i < ovl_registry_count(r); i++) {
		const struct ovl_spoke *s = ovl_registry_at(r, i);
		if (s->underlay.family != family)
			continue;
		/* Two spokes behind one NAT share an address: an element once is enough. */
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++) {
			const struct ovl_spoke *t = ovl_registry_at(r, k);
			dup = t->underlay.family == family &&
			      memcmp(&t->underlay.v6, &s->underlay.v6, family == AF_INET ? 4 : 16) == 0;
		}
		if (dup)
			continue;
		arbor_buf_printf(out, "%s%s", any ? ", " : "\t\telements = { ", ovl_ip_format(&s->underlay, ip, sizeof ip));
		any = true;
	}
	arbor_buf_puts(out, any ? " }\n\t}\n" : "\t}\n");
}

void ovl_firewall_ruleset(struct arbor_buf *out_text, char tag[OVL_FIREWALL_TAG_MAX], const struct ovl_hub_config *h,
			  const struct ovl_registry *r)
{
	char net[ARBOR_IPV4_PREFIX_TEXT_MAX];
	const char *t = h->nft_table, *pre = h->device_prefix;
	struct arbor_buf body = { 0 }, *out = &body;
	set_elements(out, "spokes4", "ipv4_addr", AF_INET, r);
	set_elements(out, "spokes6", "ipv6_addr", AF_INET6, r);
	arbor_buf_printf(out,
			 "\tchain input {\n"
			 "\t\ttype filter hook input priority filter; policy accept;\n"
			 "\t\tudp dport %u ip saddr @spokes4 accept\n"
			 "\t\tudp dport %u ip6 saddr @spokes6 accept\n"
			 "\t\tudp dport %u counter drop comment \"VXLAN from an address no spoke registered\"\n"
			 "\t}\n"
			 "\tchain forward {\n"
			 "\t\ttype filter hook forward priority filter; policy accept;\n"
			 "\t\tiifname \"%s*\" oifname \"%s*\" counter accept comment \"spoke to spoke through the hub\"\n",
			 h->port, h->port, h->port, pre, pre);
	if (h->masquerade)
		arbor_buf_printf(out,
				 "\t\tiifname \"%s*\" oifname \"%s\" counter accept\n"
				 "\t\tiifname \"%s\" oifname \"%s*\" ct state established,related counter accept\n",
				 pre, h->masquerade, h->masquerade, pre);
	arbor_buf_puts(out, "\t}\n");
	if (h->masquerade)
		arbor_buf_printf(out,
				 "\tchain postrouting {\n"
				 "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
				 "\t\tip saddr %s oifname \"%s\" counter masquerade\n"
				 "\t}\n",
				 arbor_ipv4_prefix_format(&h->network, net, sizeof net), h->masquerade);
	arbor_buf_puts(out, "}\n");
	uint8_t hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, (const uint8_t *)body.data, body.len);
	int n = snprintf(tag, OVL_FIREWALL_TAG_MAX, "arbor-overlayd ");
	for (int i = 0; i < 8; i++)
		n += snprintf(tag + n, (size_t)(OVL_FIREWALL_TAG_MAX - n), "%02x", hash[i]);
	/* Create it if missing, then delete and add: the whole table replaced in one transaction. */
	arbor_buf_printf(out_text, "table inet %s\ndelete table inet %s\ntable inet %s {\n\tcomment \"%s\"\n", t, t, t, tag);
	arbor_buf_append(out_text, body.data, body.len);
	arbor_buf_free(&body);
}
